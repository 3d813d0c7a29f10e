//! The Remote Tech Work connector's part of the demo. A stand-in Remote Tech Work (a
//! `VendorDouble`) receives the demo company's public postings as pending jobs and links one
//! to a job of its own; an applicant applies to it (signed, with a full profile), withdraws,
//! and applies again; a forger's request is refused. In Lever: one opportunity with the
//! generated Europass CV as its resume, archived and unarchived with a note each time.

use super::{Demo, Scenario, TENANT, step, sync_jobs_to_vendor};
use anyhow::{Context, bail};
use fulcrum_runtime::PluginVersion;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;
use vendor_double::{Recorded, Reply};

const ORIGIN: &str = "https://api.remotetech.work";
const SIGNATURE_HEADER: &str = "RTW-Signature";
const JOBS_PATH: &str = "/v1/integrations/lever/jobs/";

pub fn scenario() -> Arc<dyn Scenario> {
    let run = format!("{:08x}", fulcrum_store::now_ms() as u32);
    Arc::new(RemoteTechWorkDemo {
        api_token: format!("rtw-demo-token-{run}"),
        webhook_secret: format!("rtw-demo-signing-secret-{run}"),
    })
}

struct RemoteTechWorkDemo {
    api_token: String,
    webhook_secret: String,
}

impl RemoteTechWorkDemo {
    /// Posts a signed event as Remote Tech Work's webhook sender does; expects `202`.
    async fn send_event(
        &self,
        demo: &Demo,
        plugin: &PluginVersion,
        body: &Value,
        key: &str,
        subject: &str,
    ) -> anyhow::Result<crate::Delivery> {
        let bytes = body.to_string();
        let signature = fulcrum_signature::sign(
            self.webhook_secret.as_bytes(),
            fulcrum_store::now_ms() / 1000,
            bytes.as_bytes(),
        );
        let delivery = demo
            .post_vendor_event(
                plugin.id(),
                "events",
                &[
                    (SIGNATURE_HEADER, &signature),
                    ("idempotency-key", key),
                    ("fulcrum-subject", subject),
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
    }
}

fn applicant(id: &str, email: &str) -> Value {
    json!({
        "id": id,
        "full_name": "Zoë Ødegård",
        "email": email,
        "profile_url": format!("https://remotetech.work/talent/{id}"),
        "country_of_residence": "Norway",
        "technical_seniority": "Senior",
        "preferred_roles": ["Backend Developer", "Platform Engineer"],
        "availability": "Full-time, from 2026-04-01",
        "notice_period": "4 weeks",
        "price_tag": {"amount": 70, "currency": "EUR", "unit": "hour"},
        "about_me": "Backend engineer, nine years in payments and developer platforms. I like correct, observable systems and clear documentation.",
        "technical_skills": [
            {"name": "Rust", "level": "Expert", "years": 6},
            {"name": "PostgreSQL", "level": "Advanced", "years": 9},
            {"name": "Kubernetes", "level": "Advanced", "years": 4}
        ],
        "languages": [
            {"name": "Norwegian", "mother_tongue": true},
            {"name": "English", "level": "C1"},
            {"name": "German", "level": "B1", "writing": "A2"}
        ],
        "work_experience": [
            {"title": "Staff Engineer", "employer": "Fjord Payments", "location": "Oslo (remote)",
             "start": "2021-02", "description": "Led the ledger team; moved settlement to Rust."},
            {"title": "Backend Engineer", "employer": "Nordlys Analytics", "location": "Bergen",
             "start": "2016-09", "end": "2021-01"}
        ],
        "projects": [
            {"name": "Ledgerline", "role": "Tech lead", "start": "2022-01", "end": "2023-06",
             "description": "Double-entry ledger service, 4k transactions/s.", "technologies": ["Rust", "Kafka", "PostgreSQL"]}
        ],
        "education": [
            {"qualification": "MSc Computer Science", "institution": "NTNU", "start": "2014", "end": "2016"}
        ],
        "certificates": [
            {"name": "Certified Kubernetes Administrator", "issuer": "CNCF", "issued": "2023-05",
             "url": "https://www.cncf.io/certification/cka/"}
        ]
    })
}

#[async_trait::async_trait]
impl Scenario for RemoteTechWorkDemo {
    fn connection(&self) -> crate::connect::Connection {
        crate::connect::Connection::OAuth
    }

    fn artifact(&self) -> &'static str {
        "remote_tech_work"
    }

    fn title(&self) -> String {
        "remote_tech_work: public postings go to Remote Tech Work as pending jobs; an applicant \
         becomes an opportunity with a Europass CV, withdraws (archived) and applies again \
         (unarchived)"
            .into()
    }

    fn config(&self, _demo: &Demo) -> Value {
        json!({
            "opportunity_creation": "automatic",
            "include_price_tag": true,
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
        if request.header("authorization") != Some(&format!("Bearer {}", self.api_token)) {
            return Reply::json(401, json!({"error": "invalid API token"}));
        }
        match request.method.as_str() {
            "PUT" if request.path.starts_with(JOBS_PATH) => {
                Reply::json(201, json!({"status": "pending"}))
            }
            _ => Reply::json(404, json!({"error": "no such route"})),
        }
    }

    fn schedule_overrides(&self) -> Value {
        // Off until the secrets are set (the demo sets them after enabling): a run before
        // would have no API token.
        json!({"sync-postings": {"enabled": false}})
    }

    async fn send(&self, demo: &Demo, plugin: &PluginVersion) -> anyhow::Result<()> {
        // 1. Job sync: switching the schedule on runs it at once; the default batch is 20
        // jobs a run and the demo waits for the first run's.
        let jobs = sync_jobs_to_vendor(
            demo,
            plugin,
            "remote_tech_work",
            "Remote Tech Work",
            "sync-postings",
            JOBS_PATH,
            20,
            |job| {
                format!(
                    "{:?} ({}), {}, {}, {}",
                    job["title"].as_str().unwrap_or_default(),
                    job["status"].as_str().unwrap_or_default(),
                    job["location"].as_str().unwrap_or("no location"),
                    job["commitment"].as_str().unwrap_or("no commitment"),
                    job["workplace_type"]
                        .as_str()
                        .unwrap_or("workplace not given"),
                )
            },
        )
        .await?;
        let first = jobs[0].json();
        let posting_id = first["lever_posting_id"]
            .as_str()
            .context("the job carries its Lever posting id")?
            .to_owned();
        let title = first["title"].as_str().unwrap_or_default().to_owned();

        // 2. Remote Tech Work links the pending job to a new job of its own.
        let rtw_job = format!("rtw-job-{}", demo.run_id);
        step(
            format!("Remote Tech Work → job.linked: {title:?} is its new job {rtw_job}"),
            self.send_event(
                demo,
                plugin,
                &json!({"type": "job.linked", "occurred_at": "2026-03-01T09:00:00Z",
                        "rtw_job_id": rtw_job, "lever_posting_id": posting_id, "link": "created_new"}),
                &format!("{}-link", demo.run_id),
                &format!("job:{rtw_job}"),
            ),
            |d| format!("202, event {}", d.body["event_id"].as_str().unwrap_or("?")),
        )
        .await?;

        // 3. An applicant applies, withdraws and applies again: one subject, so in order.
        let applicant_id = format!("a-{}", demo.run_id);
        let email = format!("zoe.odegard+{}@example.com", demo.run_id);
        let subject = format!("applicant:{applicant_id}");
        let events = [
            (
                "Zoë Ødegård applies (application.submitted, full profile)",
                json!({"type": "application.submitted", "occurred_at": "2026-03-02T10:15:00Z",
                       "rtw_job_id": rtw_job, "applicant": applicant(&applicant_id, &email)}),
            ),
            (
                "Zoë Ødegård withdraws (application.withdrawn)",
                json!({"type": "application.withdrawn", "occurred_at": "2026-03-05T16:40:00Z",
                       "rtw_job_id": rtw_job, "applicant_id": applicant_id}),
            ),
            (
                "Zoë Ødegård applies again (application.submitted)",
                json!({"type": "application.submitted", "occurred_at": "2026-03-09T08:05:00Z",
                       "rtw_job_id": rtw_job, "applicant": applicant(&applicant_id, &email)}),
            ),
        ];
        for (n, (label, body)) in events.iter().enumerate() {
            step(
                format!(
                    "Remote Tech Work → POST /ingress/{TENANT}/{}/events: {label}",
                    plugin.id()
                ),
                self.send_event(
                    demo,
                    plugin,
                    body,
                    &format!("{}-applicant-{n}", demo.run_id),
                    &subject,
                ),
                |d| format!("202, event {}", d.body["event_id"].as_str().unwrap_or("?")),
            )
            .await?;
        }

        // 4. The plugin checks the signature before the host stores anything.
        step(
            "a forger posts an application signed with the wrong secret",
            async {
                let body = &events[0].1;
                let forged = fulcrum_signature::sign(
                    b"not-the-secret",
                    fulcrum_store::now_ms() / 1000,
                    body.to_string().as_bytes(),
                );
                let delivery = demo
                    .post_vendor_event(plugin.id(), "events", &[(SIGNATURE_HEADER, &forged)], body)
                    .await?;
                if delivery.status != 401 {
                    bail!("expected 401, got {} {}", delivery.status, delivery.body);
                }
                Ok(delivery)
            },
            |_| "401, nothing stored".into(),
        )
        .await?;

        // 5. The CV, once the events have run.
        step(
            "waiting for the applicant's opportunity and its Europass CV",
            async {
                crate::flow::settle(demo, Duration::from_secs(60)).await?;
                demo.sandbox
                    .read(|db| {
                        let o = db
                            .opportunities()
                            .find(|o| o.emails.iter().any(|e| e == &email))?;
                        let r = db.resumes(&o.id).first()?;
                        let bytes = db.resume_bytes(&o.id, &r.id)?.len();
                        Some((
                            r.file.as_ref().map(|f| f.name.clone()).unwrap_or_default(),
                            bytes,
                        ))
                    })
                    .context("no opportunity with a resume for the applicant")
            },
            |(name, bytes)| format!("resume {name:?}, a {} KiB PDF", bytes.div_ceil(1024)),
        )
        .await?;
        Ok(())
    }

    fn try_it(&self, demo: &Demo, plugin: &PluginVersion) -> Option<String> {
        let body = json!({"type": "application.submitted", "occurred_at": "2026-03-10T09:00:00Z",
            "rtw_job_id": format!("rtw-job-{}", demo.run_id),
            "applicant": {"id": "you-1", "full_name": "Your Name", "email": "you@example.com",
                          "country_of_residence": "Spain", "technical_seniority": "Mid-level",
                          "preferred_roles": ["Frontend Developer"]}});
        Some(format!(
            "BODY='{body}'; T=$(date +%s); SIG=$(printf '%s.%s' \"$T\" \"$BODY\" | openssl dgst -sha256 -hmac '{}' | sed 's/^.* //'); \
             curl -s -X POST {}/ingress/{TENANT}/{}/events -H 'content-type: application/json' \
             -H \"{SIGNATURE_HEADER}: t=$T,v1=$SIG\" -H 'fulcrum-subject: applicant:you-1' -d \"$BODY\"",
            self.webhook_secret,
            demo.host_url,
            plugin.id()
        ))
    }
}
