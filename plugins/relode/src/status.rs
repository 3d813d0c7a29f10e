//! Lever → Relode status updates: what a stage change, an archive change or a hire of a
//! Relode candidate's opportunity tells Relode.
//!
//! Lever signs only a webhook's token and time, not its event name or `data`, so what Relode
//! is told comes from the opportunity as Lever has it when the event is handled (read with
//! `read opportunity`), never from the webhook's `data`: an edited delivery cannot make
//! Relode believe a candidate was hired, archived or moved.

use crate::codec;
use fulcrum_sdk::lever::{ArchiveReason, ArchiveReasonKind, Opportunity, Stage};
use fulcrum_sdk::prelude::*;
use serde::{Deserialize, Serialize};

/// What the plugin remembers about an opportunity it created (state `opportunity:<id>`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RelodeLink {
    pub relode_candidate_id: String,
    pub lever_posting_id: String,
}

pub fn opportunity_key(opportunity_id: &str) -> String {
    format!("opportunity:{opportunity_id}")
}

pub fn candidate_key(relode_candidate_id: &str) -> String {
    format!("candidate:{relode_candidate_id}")
}

/// What to tell Relode about an event of `kind`, from `opportunity` as Lever has it now
/// (`stages` and `reasons` name its stage and archive reason); `Err` says why nothing is sent.
pub fn current_change<'a>(
    kind: LeverEventKind,
    opportunity: &'a Opportunity,
    stages: &'a [Stage],
    reasons: &'a [ArchiveReason],
) -> Result<Change<'a>, String> {
    let reason_of = |id: &Option<String>| reasons.iter().find(|r| Some(&r.id) == id.as_ref());
    match kind {
        LeverEventKind::CandidateStageChange => {
            let stage_id = opportunity
                .stage_id
                .as_deref()
                .ok_or("Lever shows the opportunity in no stage")?;
            Ok(Change::StageChanged {
                stage_id,
                stage: stages.iter().find(|s| s.id == stage_id),
            })
        }
        LeverEventKind::CandidateArchiveChange => Ok(match &opportunity.archived {
            None => Change::Unarchived,
            Some(archived) => Change::Archived {
                reason_id: archived.reason_id.as_deref(),
                reason: reason_of(&archived.reason_id),
            },
        }),
        LeverEventKind::CandidateHired => {
            let hired = opportunity.archived.as_ref().is_some_and(|archived| {
                reason_of(&archived.reason_id).is_some_and(|r| r.kind == ArchiveReasonKind::Hired)
            });
            if hired {
                Ok(Change::Hired)
            } else {
                Err("Lever does not show the opportunity archived as hired".into())
            }
        }
        other => Err(format!("Lever event {other:?} is not sent to Relode")),
    }
}

/// What happened, in Relode's words.
#[derive(Debug, Clone, PartialEq)]
pub enum Change<'a> {
    StageChanged {
        stage_id: &'a str,
        stage: Option<&'a Stage>,
    },
    Archived {
        reason_id: Option<&'a str>,
        reason: Option<&'a ArchiveReason>,
    },
    Unarchived,
    Hired,
}

/// The body of `POST /v1/lever/candidates/{relode_candidate_id}/status`.
pub fn status_update(
    event_id: &str,
    opportunity_id: &str,
    link: &RelodeLink,
    change: &Change<'_>,
    triggered_at: Timestamp,
) -> Value {
    let mut body = json!({
        "relode_candidate_id": link.relode_candidate_id,
        "lever_opportunity_id": opportunity_id,
        "lever_posting_id": link.lever_posting_id,
        "event_id": event_id,
        "occurred_at": codec::rfc3339(triggered_at),
    });
    match change {
        Change::StageChanged { stage_id, stage } => {
            body["status"] = json!("stage_changed");
            body["stage"] = json!({"id": stage_id, "name": stage.map(|s| s.text.as_str())});
        }
        Change::Archived { reason_id, reason } => {
            body["status"] = json!("archived");
            body["archive_reason"] = json!({
                "id": reason_id,
                "text": reason.map(|r| r.text.as_str()),
                "hired": reason.map(|r| r.kind == ArchiveReasonKind::Hired),
            });
        }
        Change::Unarchived => body["status"] = json!("unarchived"),
        Change::Hired => body["status"] = json!("hired"),
    }
    body
}

#[cfg(test)]
mod tests {
    use super::*;

    fn link() -> RelodeLink {
        RelodeLink {
            relode_candidate_id: "rc_1".into(),
            lever_posting_id: "p1".into(),
        }
    }

    #[test]
    fn a_stage_change_names_the_stage() {
        let stage = Stage {
            id: "s2".into(),
            text: "Phone interview".into(),
        };
        let body = status_update(
            "evt-9",
            "o1",
            &link(),
            &Change::StageChanged {
                stage_id: "s2",
                stage: Some(&stage),
            },
            1_700_000_000_000,
        );
        assert_eq!(
            body,
            json!({
                "relode_candidate_id": "rc_1",
                "lever_opportunity_id": "o1",
                "lever_posting_id": "p1",
                "event_id": "evt-9",
                "occurred_at": "2023-11-14T22:13:20.000Z",
                "status": "stage_changed",
                "stage": {"id": "s2", "name": "Phone interview"}
            })
        );
    }

    #[test]
    fn archive_hire_and_unarchive() {
        let reason = ArchiveReason {
            id: "r1".into(),
            text: "Withdrew".into(),
            kind: ArchiveReasonKind::NonHired,
            active: true,
        };
        let archived = status_update(
            "e",
            "o1",
            &link(),
            &Change::Archived {
                reason_id: Some("r1"),
                reason: Some(&reason),
            },
            0,
        );
        assert_eq!(archived["status"], "archived");
        assert_eq!(
            archived["archive_reason"],
            json!({"id": "r1", "text": "Withdrew", "hired": false})
        );
        let unknown = status_update(
            "e",
            "o1",
            &link(),
            &Change::Archived {
                reason_id: Some("gone"),
                reason: None,
            },
            0,
        );
        assert_eq!(
            unknown["archive_reason"],
            json!({"id": "gone", "text": null, "hired": null})
        );
        assert_eq!(
            status_update("e", "o1", &link(), &Change::Hired, 0)["status"],
            "hired"
        );
        let back = status_update("e", "o1", &link(), &Change::Unarchived, 0);
        assert_eq!(back["status"], "unarchived");
        assert!(back.get("stage").is_none() && back.get("archive_reason").is_none());
    }

    fn opportunity(stage_id: Option<&str>, archived_reason: Option<&str>) -> Opportunity {
        Opportunity {
            id: "o1".into(),
            contact_id: "c1".into(),
            name: None,
            headline: None,
            emails: vec![],
            phones: vec![],
            location: None,
            links: vec![],
            stage_id: stage_id.map(str::to_owned),
            stage_changes: vec![],
            tags: vec![],
            sources: vec![],
            origin: None,
            owner_id: None,
            follower_ids: vec![],
            confidentiality: fulcrum_sdk::lever::Confidentiality::NonConfidential,
            posting_ids: vec![],
            application_ids: vec![],
            archived: archived_reason.map(|r| fulcrum_sdk::lever::Archived {
                archived_at: 1,
                reason_id: Some(r.to_owned()),
            }),
            created_at: 0,
            updated_at: None,
            last_advanced_at: None,
            last_interaction_at: None,
        }
    }

    #[test]
    fn what_relode_is_told_is_what_lever_shows_now() {
        let stages = [Stage {
            id: "s2".into(),
            text: "Phone interview".into(),
        }];
        let reasons = [
            ArchiveReason {
                id: "hired".into(),
                text: "Hired".into(),
                kind: ArchiveReasonKind::Hired,
                active: true,
            },
            ArchiveReason {
                id: "withdrew".into(),
                text: "Withdrew".into(),
                kind: ArchiveReasonKind::NonHired,
                active: true,
            },
        ];
        let told = |kind, o: &Opportunity| {
            current_change(kind, o, &stages, &reasons).map(|c| format!("{c:?}"))
        };
        use LeverEventKind::{CandidateArchiveChange, CandidateHired, CandidateStageChange};
        // The stage Lever shows, whatever the webhook's data said.
        let active = opportunity(Some("s2"), None);
        assert!(
            told(CandidateStageChange, &active)
                .unwrap()
                .contains("Phone interview")
        );
        assert!(told(CandidateStageChange, &opportunity(None, None)).is_err());
        // Archive changes: archived (with Lever's reason) or not.
        assert_eq!(told(CandidateArchiveChange, &active).unwrap(), "Unarchived");
        let withdrew = opportunity(Some("s2"), Some("withdrew"));
        assert!(
            told(CandidateArchiveChange, &withdrew)
                .unwrap()
                .contains("Withdrew")
        );
        // A hire only when Lever shows one: an edited delivery claiming a hire sends nothing.
        let hired = opportunity(Some("s2"), Some("hired"));
        assert_eq!(told(CandidateHired, &hired).unwrap(), "Hired");
        assert!(told(CandidateHired, &withdrew).is_err());
        assert!(told(CandidateHired, &active).is_err());
        assert!(told(LeverEventKind::InterviewCreated, &active).is_err());
    }
}
