//! The host's smoke scenario, run while no connector exists: the `well_behaved` test fixture
//! stands in for a vendor. A vendor posts three applicants (signed with the installation's
//! secret), redelivers one, and a forger posts one without the signature; the fixture creates
//! an opportunity with a note per applicant. It shows the real path — ingress, signature
//! check by the plugin, commit, workers, exactly-once Lever writes — not a connector.

use super::{Demo, Scenario, step};
use anyhow::bail;
use fulcrum_runtime::PluginVersion;
use lever_model::PostingState;
use serde_json::{Value, json};
use std::sync::Arc;

/// The vendor secret the fixture compares `x-fixture-signature` with (a demo value).
const SIGNATURE_HEADER: &str = "x-fixture-signature";
const SECRET_NAME: &str = "api-token";

pub fn scenario() -> Arc<dyn Scenario> {
    Arc::new(Smoke {
        secret: format!("demo-vendor-secret-{:08x}", fulcrum_store::now_ms() as u32),
    })
}

struct Smoke {
    secret: String,
}

impl Smoke {
    fn applicants(demo: &Demo) -> Vec<Value> {
        // One applicant applies to a real published posting, as job-board vendors do.
        let posting = demo.sandbox.read(|db| {
            db.postings()
                .find(|p| p.state == PostingState::Published)
                .map(|p| p.id.clone())
        });
        let mut ada = json!({
            "op": "create",
            "name": "Ada Lovelace",
            "email": "ada.lovelace@example.com",
            "note": "Applied through the vendor's career page: 8 years of backend work, open to relocation.",
        });
        if let Some(posting) = posting {
            ada["posting_id"] = json!(posting);
        }
        vec![
            ada,
            json!({
                "op": "create",
                "name": "Grace Hopper",
                "email": "grace.hopper@example.com",
                "note": "Referred by the vendor's talent team: compilers, team lead.",
            }),
            json!({
                "op": "create",
                "name": "Katherine Johnson",
                "email": "katherine.johnson@example.com",
            }),
        ]
    }
}

#[async_trait::async_trait]
impl Scenario for Smoke {
    fn artifact(&self) -> &'static str {
        "well_behaved"
    }

    fn title(&self) -> String {
        "smoke scenario: a vendor posts applicants to the well_behaved fixture".into()
    }

    fn config(&self, _demo: &Demo) -> Value {
        json!({ "greeting": "hello from the demo" })
    }

    fn secrets(&self) -> Vec<(&'static str, String)> {
        vec![(SECRET_NAME, self.secret.clone())]
    }

    fn schedule_overrides(&self) -> Value {
        // The fixture's 15-minute "tick" only records that it ran; it would add nothing here.
        json!({ "tick": { "enabled": false } })
    }

    async fn send(&self, demo: &Demo, plugin: &PluginVersion) -> anyhow::Result<()> {
        let applicants = Self::applicants(demo);
        let path = "applicants";
        for (n, body) in applicants.iter().enumerate() {
            let key = format!("{}-applicant-{n}", demo.run_id);
            let email = body["email"].as_str().unwrap_or_default();
            step(
                format!(
                    "vendor → POST /ingress/{}/{}/{path} ({})",
                    super::TENANT,
                    plugin.id(),
                    body["name"].as_str().unwrap_or_default()
                ),
                async {
                    let delivery = demo
                        .post_vendor_event(
                            plugin.id(),
                            path,
                            &[
                                (SIGNATURE_HEADER, &self.secret),
                                ("idempotency-key", &key),
                                ("fulcrum-subject", email),
                            ],
                            body,
                        )
                        .await?;
                    if delivery.status != 202 {
                        bail!(
                            "the host answered {} {}; expected 202",
                            delivery.status,
                            delivery.body
                        );
                    }
                    Ok(delivery)
                },
                |d| format!("202, event {}", d.body["event_id"].as_str().unwrap_or("?")),
            )
            .await?;
        }

        // A vendor retrying after a timeout sends the same Idempotency-Key: nothing new runs.
        let first_key = format!("{}-applicant-0", demo.run_id);
        step(
            "vendor redelivers Ada Lovelace's event (same Idempotency-Key)",
            async {
                let delivery = demo
                    .post_vendor_event(
                        plugin.id(),
                        path,
                        &[
                            (SIGNATURE_HEADER, &self.secret),
                            ("idempotency-key", &first_key),
                        ],
                        &applicants[0],
                    )
                    .await?;
                if delivery.status != 202 || delivery.body["duplicate"] != json!(true) {
                    bail!(
                        "expected 202 with duplicate: true, got {} {}",
                        delivery.status,
                        delivery.body
                    );
                }
                Ok(delivery)
            },
            |_| "202, duplicate: not queued again".into(),
        )
        .await?;

        // The plugin checks the vendor's signature before the host stores anything.
        let forged = json!({
            "op": "create",
            "name": "Mallory Forger",
            "email": "mallory@example.com",
        });
        step(
            "a forger posts an applicant without the vendor's signature",
            async {
                let delivery = demo
                    .post_vendor_event(plugin.id(), path, &[], &forged)
                    .await?;
                if delivery.status != 401 {
                    bail!(
                        "expected 401 for an unsigned request, got {} {}",
                        delivery.status,
                        delivery.body
                    );
                }
                Ok(delivery)
            },
            |_| "401, nothing stored".into(),
        )
        .await?;
        Ok(())
    }

    fn try_it(&self, demo: &Demo, plugin: &PluginVersion) -> Option<String> {
        Some(format!(
            "curl -s -X POST {}/ingress/{}/{}/applicants -H 'content-type: application/json' \
             -H '{SIGNATURE_HEADER}: {}' -d '{{\"op\":\"create\",\"name\":\"Your Name\",\"email\":\"you@example.com\",\"note\":\"Hello Lever\"}}'",
            demo.host_url,
            super::TENANT,
            plugin.id(),
            self.secret
        ))
    }
}
