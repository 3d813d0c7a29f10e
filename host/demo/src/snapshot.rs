//! What the demo prints after a scenario: the sandbox's opportunities before and after, and a
//! line per created or changed opportunity, note and file.

use lever_sandbox::Sandbox;
use std::collections::HashMap;

/// What the demo shows of one opportunity, to tell what a scenario changed.
#[derive(Debug, Clone, PartialEq)]
struct OpportunityView {
    name: String,
    stage: String,
    archived: bool,
    tags: Vec<String>,
    notes: Vec<(String, String)>,
    files: Vec<(String, String)>,
}

/// The sandbox's opportunities before a scenario, to print what it changed.
pub(crate) struct LeverSnapshot {
    /// In Lever's order (created at, id), so new opportunities print in creation order.
    opportunities: Vec<(String, OpportunityView)>,
}

impl LeverSnapshot {
    pub(crate) fn take(sandbox: &Sandbox) -> Self {
        let opportunities = sandbox.read(|db| {
            db.opportunities()
                .map(|o| {
                    let stage = o
                        .stage
                        .as_ref()
                        .map(|s| {
                            db.stage(s.id())
                                .map(|stage| stage.text.clone())
                                .unwrap_or_else(|| s.id().to_owned())
                        })
                        .unwrap_or_else(|| "no stage".into());
                    let view = OpportunityView {
                        name: o.name.clone().unwrap_or_else(|| "(no name)".into()),
                        stage,
                        archived: o.archived.is_some(),
                        tags: o.tags.clone(),
                        notes: db
                            .notes(&o.id)
                            .iter()
                            .map(|n| (n.id.clone(), n.value().to_owned()))
                            .collect(),
                        files: db
                            .files(&o.id)
                            .iter()
                            .map(|f| (f.id.clone(), f.name.clone()))
                            .collect(),
                    };
                    (o.id.clone(), view)
                })
                .collect()
        });
        LeverSnapshot { opportunities }
    }

    /// One line per created or changed opportunity, then one per new note and file.
    pub(crate) fn changes(&self, sandbox: &Sandbox) -> Vec<String> {
        let now = LeverSnapshot::take(sandbox);
        let earlier: HashMap<&str, &OpportunityView> = self
            .opportunities
            .iter()
            .map(|(id, view)| (id.as_str(), view))
            .collect();
        let details = |id: &str| {
            sandbox.read(|db| {
                db.opportunity(id).map(|o| {
                    let postings: Vec<String> = db
                        .applications(id)
                        .iter()
                        .filter_map(|a| a.posting.as_deref())
                        .map(|p| {
                            db.posting(p)
                                .map(|posting| format!("{:?}", posting.text))
                                .unwrap_or_else(|| p.to_owned())
                        })
                        .collect();
                    (o.emails.join(", "), o.sources.join(", "), postings)
                })
            })
        };
        let mut lines = Vec::new();
        for (id, after) in &now.opportunities {
            let before = earlier.get(id.as_str()).copied();
            if before == Some(after) {
                continue;
            }
            let (emails, sources, postings) = details(id).unwrap_or_default();
            match before {
                None => {
                    let mut line = format!(
                        "new opportunity {id}: {} <{emails}>, stage {:?}",
                        after.name, after.stage
                    );
                    if !sources.is_empty() {
                        line.push_str(&format!(", source {sources}"));
                    }
                    if !postings.is_empty() {
                        line.push_str(&format!(", applied to {}", postings.join(", ")));
                    }
                    if !after.tags.is_empty() {
                        line.push_str(&format!(", tags {}", after.tags.join(", ")));
                    }
                    lines.push(line);
                }
                Some(before) => {
                    let mut changed = Vec::new();
                    if before.stage != after.stage {
                        changed.push(format!("stage {:?} → {:?}", before.stage, after.stage));
                    }
                    if before.archived != after.archived {
                        changed.push(
                            if after.archived {
                                "archived"
                            } else {
                                "unarchived"
                            }
                            .into(),
                        );
                    }
                    let added: Vec<&String> = after
                        .tags
                        .iter()
                        .filter(|t| !before.tags.contains(t))
                        .collect();
                    let removed: Vec<&String> = before
                        .tags
                        .iter()
                        .filter(|t| !after.tags.contains(t))
                        .collect();
                    if !added.is_empty() || !removed.is_empty() {
                        let mut tags: Vec<String> = added.iter().map(|t| format!("+{t}")).collect();
                        tags.extend(removed.iter().map(|t| format!("-{t}")));
                        changed.push(format!("tags {}", tags.join(" ")));
                    }
                    let what = if changed.is_empty() {
                        String::new()
                    } else {
                        format!(": {}", changed.join(", "))
                    };
                    lines.push(format!("opportunity {id} ({}){what}", after.name));
                }
            }
            let old_notes = before.map(|b| b.notes.as_slice()).unwrap_or_default();
            for (note_id, text) in after.notes.iter().filter(|n| !old_notes.contains(n)) {
                lines.push(format!("    note {note_id}: {text:?}"));
            }
            let old_files = before.map(|b| b.files.as_slice()).unwrap_or_default();
            for (file_id, name) in after.files.iter().filter(|f| !old_files.contains(f)) {
                lines.push(format!("    file {file_id}: {name}"));
            }
        }
        lines
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lever_client::{ClientConfig, Credential, LeverClient, NewNote};
    use lever_sandbox::{SandboxConfig, SeedSpec};

    /// What a connector's scenario reports for an opportunity it changed rather than created.
    #[tokio::test]
    async fn reports_stage_tag_and_note_changes_of_an_existing_opportunity() {
        let sandbox = Sandbox::start(
            SandboxConfig {
                seed: SeedSpec::new(5, 2, 3),
                rate_limit: false,
                ..SandboxConfig::default()
            },
            "127.0.0.1:0".parse().unwrap(),
        )
        .await
        .unwrap();
        let (id, name, next_stage) = sandbox.read(|db| {
            let o = db.opportunities().find(|o| o.archived.is_none()).unwrap();
            let current = o.stage.as_ref().map(|s| s.id().to_owned());
            let next = db
                .stages()
                .find(|s| Some(&s.id) != current.as_ref())
                .unwrap();
            (o.id.clone(), o.name.clone().unwrap(), next.clone())
        });
        let before = LeverSnapshot::take(&sandbox);
        assert!(before.changes(&sandbox).is_empty(), "nothing changed yet");

        let lever = LeverClient::new(
            ClientConfig::new(&sandbox.api_url()).unwrap(),
            Credential::api_key(sandbox.demo_api_key()),
        )
        .unwrap();
        let user = sandbox.default_user_id();
        lever
            .update_stage(&id, &next_stage.id, Some(&user))
            .await
            .unwrap();
        lever
            .add_tags(&id, &["demo:shortlisted".to_owned()], Some(&user))
            .await
            .unwrap();
        let note = NewNote {
            value: "Shortlisted by the vendor".into(),
            ..NewNote::default()
        };
        lever.create_note(&id, &note, Some(&user)).await.unwrap();

        let lines = before.changes(&sandbox);
        assert_eq!(lines.len(), 2, "{lines:#?}");
        assert!(
            lines[0].starts_with(&format!("opportunity {id} ({name}): stage "))
                && lines[0].contains(&format!("→ {:?}", next_stage.text))
                && lines[0].ends_with("tags +demo:shortlisted"),
            "{lines:#?}"
        );
        assert!(
            lines[1].starts_with("    note ")
                && lines[1].ends_with("\"Shortlisted by the vendor\""),
            "{lines:#?}"
        );
        sandbox.shutdown().await;
    }
}
