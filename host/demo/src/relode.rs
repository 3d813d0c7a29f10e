//! The Relode connector's part of the demo. A stand-in Relode (a `VendorDouble`) receives the
//! demo company's public postings as pending jobs; Relode then submits a candidate to one of
//! them (signed, with a resume and the note fields), redelivers it, and a forger and a broken
//! client post theirs; finally a recruiter moves the candidate to another stage in Lever and
//! Relode is told through a real Lever webhook.

use super::{Demo, Scenario, TENANT, step, sync_jobs_to_vendor};
use anyhow::{Context, bail};
use fulcrum_runtime::PluginVersion;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::{Duration, Instant};
use vendor_double::{Recorded, Reply};

const ORIGIN: &str = "https://api.relode.com";
const SIGNATURE_HEADER: &str = "Relode-Signature";
const WAIT: Duration = Duration::from_secs(30);
/// The resume Relode sends inline (a tiny PDF header is enough for Lever to store a file).
const RESUME: &[u8] = b"%PDF-1.4\n% Ada Lovelace - resume (demo)\n";

pub fn scenario() -> Arc<dyn Scenario> {
    let run = format!("{:08x}", fulcrum_store::now_ms() as u32);
    Arc::new(RelodeDemo {
        api_token: format!("relode-demo-token-{run}"),
        webhook_secret: format!("relode-demo-signing-secret-{run}"),
    })
}

struct RelodeDemo {
    api_token: String,
    webhook_secret: String,
}

impl RelodeDemo {
    /// The `Relode-Signature` header for `body`, as Relode's sender computes it.
    fn sign(&self, body: &[u8]) -> String {
        fulcrum_signature::sign(
            self.webhook_secret.as_bytes(),
            fulcrum_store::now_ms() / 1000,
            body,
        )
    }

    async fn post(
        &self,
        demo: &Demo,
        plugin: &PluginVersion,
        body: &Value,
        headers: &[(&str, &str)],
    ) -> anyhow::Result<crate::Delivery> {
        demo.post_vendor_event(plugin.id(), "candidates", headers, body)
            .await
    }
}

#[async_trait::async_trait]
impl Scenario for RelodeDemo {
    fn connection(&self) -> crate::connect::Connection {
        crate::connect::Connection::ApiKey
    }

    fn artifact(&self) -> &'static str {
        "relode"
    }

    fn title(&self) -> String {
        "relode: public postings go to Relode as pending jobs, a Relode candidate becomes an \
         opportunity, its stage change goes back to Relode"
            .into()
    }

    fn config(&self, demo: &Demo) -> Value {
        // The owner as Relode's setup form collects it: the name and e-mail of an active user.
        let owner = demo.sandbox.read(|db| {
            db.users()
                .find(|u| u.id == demo.sandbox.default_user_id())
                .or_else(|| db.users().find(|u| u.is_active()))
                .map(|u| json!({"name": u.name, "email": u.email}))
        });
        json!({
            "owner": owner,
            "career_page_url": "https://careers.demo-company.example",
            "default_stage": "New applicant",
        })
    }

    fn secrets(&self) -> Vec<(&'static str, String)> {
        vec![
            ("api-token", self.api_token.clone()),
            ("webhook-secret", self.webhook_secret.clone()),
        ]
    }

    fn vendor_origin(&self) -> Option<&'static str> {
        Some(ORIGIN)
    }

    fn vendor_reply(&self, request: &Recorded) -> Reply {
        let authorized =
            request.header("authorization") == Some(&format!("Bearer {}", self.api_token));
        if !authorized {
            return Reply::json(401, json!({"error": "invalid API token"}));
        }
        match request.method.as_str() {
            "PUT" => Reply::json(200, json!({"status": "pending"})),
            _ => Reply::json(202, json!({"received": true})),
        }
    }

    fn schedule_overrides(&self) -> Value {
        // Off until the secrets are set (in `send`): a run before would fail for lack of the
        // API token.
        json!({"sync-jobs": {"enabled": false}})
    }

    async fn send(&self, demo: &Demo, plugin: &PluginVersion) -> anyhow::Result<()> {
        let store = demo.host.store();
        let relode = demo.vendor("relode")?;

        // 1. Jobs: switching the schedule on runs it at once.
        let jobs = sync_jobs_to_vendor(
            demo,
            plugin,
            "relode",
            "Relode",
            "sync-jobs",
            "/v1/lever/jobs/",
            usize::MAX,
            |job| {
                format!(
                    "{:?}, {}, {} / {}",
                    job["title"].as_str().unwrap_or_default(),
                    job["location"].as_str().unwrap_or("no location"),
                    job["department"].as_str().unwrap_or("no department"),
                    job["team"].as_str().unwrap_or("no team"),
                )
            },
        )
        .await?;
        let posting_id = jobs[0].json()["lever_posting_id"]
            .as_str()
            .context("the job carries its Lever posting id")?
            .to_owned();

        // 2. Lever webhooks for status back: the host created them in Lever through Relode's
        //    own connection when it was enabled (they point at the installation's route).
        step(
            "Lever webhooks for status back, created by the host through Relode's connection",
            async {
                let hooks = store.managed_webhooks(TENANT, plugin.id()).await?;
                anyhow::ensure!(
                    !hooks.is_empty(),
                    "the host created no Lever webhook for Relode; its logs say why"
                );
                Ok(hooks)
            },
            |hooks| {
                let events: Vec<&str> = hooks.iter().map(|h| h.event.as_str()).collect();
                format!("{} → {}", events.join(", "), hooks[0].url)
            },
        )
        .await?;

        // 3. A candidate submitted on Relode.
        let email = format!("ada.lovelace+{}@example.com", demo.run_id);
        let candidate_id = format!("rc_demo_{}", demo.run_id);
        let submission = json!({
            "event": "candidate.submitted",
            "candidate": {
                "id": candidate_id,
                "lever_posting_id": posting_id,
                "first_name": "Ada",
                "last_name": "Lovelace",
                "email": email,
                "phone": "+1 512 555 0100",
                "resume": {"file_name": "ada-lovelace.pdf", "content_type": "application/pdf",
                           "content_base64": base64(RESUME)},
                "career_highlights": ["Published the first algorithm for a computing machine",
                                      "Translated and annotated Menabrea's paper"],
                "desired_salary": "$150,000 per year",
                "skills": ["Mathematics", "Analytical engines"],
                "languages": ["English", "French"],
                "willing_to_relocate": true,
                "available_start_date": "2025-03-01"
            }
        });
        let bytes = submission.to_string().into_bytes();
        let key = format!("{}-relode-{candidate_id}", demo.run_id);
        let headers = |signature: &str| {
            vec![
                (SIGNATURE_HEADER, signature.to_owned()),
                ("idempotency-key", key.clone()),
                ("fulcrum-subject", candidate_id.clone()),
            ]
        };
        for (label, duplicate) in [
            (
                "Relode → POST /candidates (Ada Lovelace, signed, with resume and notes)",
                false,
            ),
            (
                "Relode redelivers the same submission (same Idempotency-Key)",
                true,
            ),
        ] {
            let signature = self.sign(&bytes);
            let headers = headers(&signature);
            let headers: Vec<(&str, &str)> =
                headers.iter().map(|(n, v)| (*n, v.as_str())).collect();
            step(
                label,
                async {
                    let d = self.post(demo, plugin, &submission, &headers).await?;
                    if d.status != 202 || d.body["duplicate"] != json!(duplicate) {
                        bail!(
                            "expected 202 with duplicate: {duplicate}, got {} {}",
                            d.status,
                            d.body
                        );
                    }
                    Ok(d)
                },
                |d| {
                    if duplicate {
                        "202, duplicate: not queued again".into()
                    } else {
                        format!("202, event {}", d.body["event_id"].as_str().unwrap_or("?"))
                    }
                },
            )
            .await?;
        }

        // 4. What the ingress refuses before storing anything.
        let forged_signature = "t=1700000000,v1=00";
        step(
            "a forger posts a candidate with a made-up signature",
            async {
                let d = self
                    .post(
                        demo,
                        plugin,
                        &submission,
                        &[(SIGNATURE_HEADER, forged_signature)],
                    )
                    .await?;
                if d.status != 401 {
                    bail!("expected 401, got {} {}", d.status, d.body);
                }
                Ok(d)
            },
            |_| "401, nothing stored".into(),
        )
        .await?;
        let incomplete = json!({"event": "candidate.submitted",
                                "candidate": {"id": "rc_broken", "first_name": "No"}});
        let signature = self.sign(incomplete.to_string().as_bytes());
        step(
            "Relode posts a submission without e-mail, name or posting",
            async {
                let d = self
                    .post(demo, plugin, &incomplete, &[(SIGNATURE_HEADER, &signature)])
                    .await?;
                if d.status != 422 {
                    bail!("expected 422, got {} {}", d.status, d.body);
                }
                Ok(d)
            },
            |d| {
                format!(
                    "422: {}",
                    d.body["error"]["message"]
                        .as_str()
                        .or(d.body["message"].as_str())
                        .unwrap_or("refused")
                )
            },
        )
        .await?;

        // 5. A recruiter advances the candidate in Lever; Relode hears of it.
        let opportunity_id = step(
            "waiting for the candidate's opportunity in Lever",
            async {
                let started = Instant::now();
                loop {
                    let found = demo.sandbox.read(|db| {
                        db.opportunities()
                            .find(|o| o.emails.iter().any(|e| e == &email))
                            .map(|o| o.id.clone())
                    });
                    if let Some(id) = found {
                        // And the submission's event finished: Relode knows the candidate
                        // only once it is committed (a stage change before that is news of an
                        // opportunity Relode has not recorded yet).
                        crate::flow::settle(demo, WAIT).await?;
                        return Ok(id);
                    }
                    if started.elapsed() > WAIT {
                        bail!("no opportunity for {email} after {WAIT:?}; the host's logs say why");
                    }
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            },
            |id| id.clone(),
        )
        .await?;
        let (stage_id, stage_name) = demo.sandbox.read(|db| {
            db.stages()
                .find(|s| s.text == "Phone interview")
                .or_else(|| db.stages().last())
                .map(|s| (s.id.clone(), s.text.clone()))
                .unwrap_or_default()
        });
        let status = step(
            format!("a recruiter moves the candidate to {stage_name:?} in Lever"),
            async {
                let lever = lever_client::LeverClient::new(
                    lever_client::ClientConfig::new(&demo.sandbox.api_url())?,
                    lever_client::Credential::api_key(demo.sandbox.demo_api_key()),
                )?;
                lever
                    .update_stage(
                        &opportunity_id,
                        &stage_id,
                        Some(&demo.sandbox.default_user_id()),
                    )
                    .await?;
                let status = relode
                    .wait_for(|r| r.path.ends_with("/status"), 1, WAIT)
                    .await;
                Ok(status[0].clone())
            },
            |r| format!("Relode ← POST {}", r.path),
        )
        .await?;
        let body = status.json();
        println!(
            "  status {}, stage {:?}, at {}",
            body["status"],
            body["stage"]["name"].as_str().unwrap_or_default(),
            body["occurred_at"].as_str().unwrap_or_default()
        );
        Ok(())
    }

    fn try_it(&self, demo: &Demo, plugin: &PluginVersion) -> Option<String> {
        let posting = demo.vendor("relode").ok().and_then(|v| {
            v.requests()
                .iter()
                .find(|r| r.method == "PUT")
                .and_then(|r| r.json()["lever_posting_id"].as_str().map(str::to_owned))
        })?;
        let body = json!({"event": "candidate.submitted", "candidate": {
            "id": "rc_you", "lever_posting_id": posting, "first_name": "Your",
            "last_name": "Name", "email": "you@example.com", "skills": ["Curl"]}});
        Some(format!(
            "body='{body}'; t=$(date +%s); sig=$(printf '%s.%s' \"$t\" \"$body\" | openssl dgst \
             -sha256 -hmac '{secret}' | sed 's/^.* //'); curl -s -X POST {host}/ingress/{TENANT}/{plugin}/candidates \
             -H 'content-type: application/json' -H \"{SIGNATURE_HEADER}: t=$t,v1=$sig\" -d \"$body\"   # a Relode candidate",
            secret = self.webhook_secret,
            host = demo.host_url,
            plugin = plugin.id(),
        ))
    }
}

/// Standard base64 with padding, as Relode encodes inline resumes.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, b)| acc | u32::from(*b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[(n >> (18 - 6 * i) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_encodes_standard_vectors() {
        for (plain, encoded) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(plain.as_bytes()), encoded);
        }
    }
}
