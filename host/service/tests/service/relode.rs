//! The Relode connector end to end: the real component in the host, the Lever sandbox over
//! HTTP and a `VendorDouble` standing in for `https://api.relode.com`. Each test runs on SQLite
//! and PostgreSQL.
//!
//! - jobs: public postings reach Relode as pending jobs; edits and closes follow
//! - candidates: a signed submission becomes an opportunity (owner, stage, source, resume,
//!   note); a second one with the same e-mail reuses the contact; a resume by URL is fetched
//! - bad submissions (JSON, fields, signature, path) are refused and nothing reaches Lever
//! - replays: the same delivery, or the same candidate again, make one opportunity
//! - setup: an owner or stage that matches nothing fails the candidate with a clear error,
//!   check-setup says the same, and the dead letter goes through once the config is fixed
//! - status back: Lever stage, archive and hire webhooks of Relode candidates reach Relode
//!   (a Relode outage is retried); other opportunities are not sent

use fulcrum_store::test_support::on_each_backend;
use fulcrum_store::{EventStatus, now_ms};
use fulcrum_testkit::*;
use lever_client::{ClientConfig, Credential, LeverClient};
use lever_model::{
    Confidentiality, DistributionChannel, PostingCategories, PostingContentWrite, PostingState,
    PostingWrite, WebhookEventType,
};
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use vendor_double::{Recorded, Reply, VendorDouble};

const RELODE: &str = "relode";
const ORIGIN: &str = "https://api.relode.com";
const API_TOKEN: &str = "relode-api-token-5d1e";
const WEBHOOK_SECRET: &str = "relode-webhook-secret-93ab";
const SIGNATURE: &str = "Relode-Signature";
const WAIT: Duration = Duration::from_secs(30);

/// A PDF's first bytes, as the resume.
const RESUME: &[u8] = b"%PDF-1.4\n% Ada Lovelace, resume\n";
const RESUME_BASE64: &str = "JVBERi0xLjQKJSBBZGEgTG92ZWxhY2UsIHJlc3VtZQo=";

struct Relode {
    world: World,
    vendor: VendorDouble,
    lever: LeverClient,
    /// The active user the config names as owner (id, name, e-mail).
    owner: (String, String, String),
}

impl Relode {
    /// The host with the Relode component installed and enabled for the test tenant with a
    /// valid config and both secrets; schedules off.
    async fn start(db: &fulcrum_store::test_support::TestDatabase) -> Relode {
        Self::start_from(db, fulcrum_plugin_artifacts::RELODE).await
    }

    /// As `start`, with this build of the connector (e.g. the one kept for contract 0.1.0).
    async fn start_from(db: &fulcrum_store::test_support::TestDatabase, component: &str) -> Relode {
        let vendor = VendorDouble::start().await.unwrap();
        let world = World::start_with(db, Options::new().with_vendor(ORIGIN, &vendor)).await;
        let plugin = world.install_connector(component).await;
        assert_eq!(plugin, RELODE);
        let owner = world.sandbox.read(|db| {
            let mut users: Vec<_> = db.users().filter(|u| u.is_active()).collect();
            users.sort_by(|a, b| a.id.cmp(&b.id));
            let u = users[0];
            (u.id.clone(), u.name.clone(), u.email.clone())
        });
        let lever = LeverClient::new(
            ClientConfig::new(&world.sandbox.api_url()).unwrap(),
            Credential::api_key(&world.api_key),
        )
        .unwrap();
        let relode = Relode {
            world,
            vendor,
            lever,
            owner,
        };
        relode.configure(relode.config()).await;
        // Connected as its seed is: an API key made for it, not the tenant's key.
        relode.world.connect_own_key(TENANT, RELODE).await;
        relode
    }

    fn config(&self) -> Value {
        json!({
            // Spelled differently from Lever on purpose: matching ignores case.
            "owner": {"name": self.owner.1.to_uppercase(), "email": self.owner.2.to_uppercase()},
            "career_page_url": "https://careers.acme.example/jobs",
        })
    }

    async fn configure(&self, config: Value) {
        self.world
            .enable_connector(
                TENANT,
                RELODE,
                config,
                &[("api-token", API_TOKEN), ("webhook-secret", WEBHOOK_SECRET)],
            )
            .await;
    }

    async fn submit(&self, body: &Value) -> (u16, Value) {
        self.world
            .post_signed(
                TENANT,
                RELODE,
                "/candidates",
                SIGNATURE,
                WEBHOOK_SECRET,
                body,
            )
            .await
    }

    /// Runs the job sync once now, as the scheduler would, and waits for it.
    async fn sync_jobs(&self) {
        // Counted first: the running host's scheduler may fire the run before this test does
        // (either way exactly one run is queued: runs of a schedule coalesce).
        let before = self.world.events_of_kind("schedule").await.len();
        // Switching the schedule on makes it due at once; the hour keeps it from firing again.
        for overrides in [
            json!({"sync-jobs": {"enabled": false}}),
            json!({"sync-jobs": {"every_seconds": 3600}}),
        ] {
            self.world
                .store
                .set_schedule_overrides(TENANT, RELODE, &overrides)
                .await
                .unwrap();
            self.world
                .host
                .sync_schedules(TENANT, RELODE)
                .await
                .unwrap();
        }
        self.world.host.fire_due_schedules(now_ms()).await.unwrap();
        let runs = self.world.events_of_kind("schedule").await;
        assert_eq!(runs.len(), before + 1, "one sync run fired");
        self.world.settle(WAIT).await;
        let run = self
            .world
            .store
            .get_event(runs[before].id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(run.status, EventStatus::Done, "{:?}", run.last_error);
    }

    async fn create_posting(&self, title: &str, state: PostingState, public: bool) -> String {
        let channels = if public {
            vec![DistributionChannel::Public, DistributionChannel::Internal]
        } else {
            vec![DistributionChannel::Internal]
        };
        self.lever
            .create_posting(
                &self.world.sandbox.default_user_id(),
                &PostingWrite {
                    text: Some(title.into()),
                    state: Some(state),
                    distribution_channels: Some(channels),
                    categories: Some(PostingCategories {
                        team: Some("Platform".into()),
                        department: Some("Engineering".into()),
                        location: Some("Austin, TX".into()),
                        commitment: Some("Full-time".into()),
                        ..Default::default()
                    }),
                    content: Some(PostingContentWrite {
                        description_html: Some(format!("<p>Join us as {title}.</p>")),
                        ..Default::default()
                    }),
                    ..Default::default()
                },
            )
            .await
            .expect("create posting")
            .id
    }

    async fn update_posting(&self, id: &str, write: PostingWrite) {
        self.lever
            .update_posting(id, &self.world.sandbox.default_user_id(), &write)
            .await
            .expect("update posting");
    }

    /// Ids of the sandbox's postings Relode should list.
    fn public_posting_ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = self.world.sandbox.read(|db| {
            db.postings()
                .filter(|p| {
                    p.state == PostingState::Published
                        && p.confidentiality == Confidentiality::NonConfidential
                        && p.distribution_channels
                            .as_ref()
                            .is_some_and(|c| c.contains(&DistributionChannel::Public))
                })
                .map(|p| p.id.clone())
                .collect()
        });
        ids.sort();
        ids
    }

    fn stage_id(&self, text: &str) -> String {
        self.world.sandbox.read(|db| {
            db.stages()
                .find(|s| s.text == text)
                .unwrap_or_else(|| panic!("stage {text}"))
                .id
                .clone()
        })
    }

    fn archive_reason_id(&self, text: &str) -> String {
        self.world.sandbox.read(|db| {
            db.archive_reasons()
                .find(|r| r.text == text)
                .unwrap_or_else(|| panic!("archive reason {text}"))
                .id
                .clone()
        })
    }

    fn creates(&self) -> u64 {
        self.world
            .sandbox
            .stats()
            .writes_to(lever_client::Operation::CreateOpportunity)
    }

    async fn stop(self) {
        self.world.stop().await;
    }
}

fn is_job_put(r: &Recorded) -> bool {
    r.method == "PUT" && r.path.starts_with("/v1/lever/jobs/")
}

fn is_job_close(r: &Recorded) -> bool {
    r.method == "POST" && r.path.starts_with("/v1/lever/jobs/") && r.path.ends_with("/close")
}

fn is_status(r: &Recorded) -> bool {
    r.method == "POST" && r.path.starts_with("/v1/lever/candidates/")
}

/// A complete `candidate.submitted` event for `posting_id`.
fn submission(candidate_id: &str, email: &str, posting_id: &str) -> Value {
    json!({
        "event": "candidate.submitted",
        "candidate": {
            "id": candidate_id,
            "lever_posting_id": posting_id,
            "first_name": "Ada",
            "last_name": "Lovelace",
            "email": email,
            "phone": "+1 512 555 0100",
            "resume": {"file_name": "ada-lovelace.pdf", "content_type": "application/pdf",
                       "content_base64": RESUME_BASE64},
            "career_highlights": ["Wrote the first published algorithm", "Led a team of 4"],
            "desired_salary": "$150,000 per year",
            "certifications_and_licenses": ["PMP"],
            "skills": ["Mathematics", "Analytical engines"],
            "education": "Private tutoring in mathematics",
            "languages": ["English", "French"],
            "interview_ability": "Weekdays after 2pm CT",
            "willing_to_relocate": false,
            "willing_to_travel": "Up to 25%",
            "available_start_date": "2025-03-01"
        }
    })
}

// ---- jobs -----------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn public_postings_reach_relode_as_pending_jobs_and_edits_and_closes_follow() {
    jobs_flow(fulcrum_plugin_artifacts::RELODE).await
}

/// The same with Relode as shipped for contract 0.1.0: a released contract keeps working.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jobs_flow_on_the_contract_0_1_0_build() {
    jobs_flow(fulcrum_plugin_artifacts::RELODE_V0_1_0).await
}

async fn jobs_flow(component: &'static str) {
    on_each_backend(|db| async move {
        let relode = Relode::start_from(&db, component).await;
        let backend = relode
            .create_posting("Backend Engineer", PostingState::Published, true)
            .await;
        let support = relode
            .create_posting("Support Lead", PostingState::Published, true)
            .await;
        let internal = relode
            .create_posting("Internal Auditor", PostingState::Published, false)
            .await;
        let draft = relode
            .create_posting("Draft Role", PostingState::Draft, true)
            .await;
        let public = relode.public_posting_ids();
        assert!(public.contains(&backend) && public.contains(&support));

        relode.sync_jobs().await;
        let puts = relode.vendor.requests_matching(is_job_put);
        let mut sent: Vec<String> = puts
            .iter()
            .map(|r| r.path.trim_start_matches("/v1/lever/jobs/").to_owned())
            .collect();
        sent.sort();
        assert_eq!(sent, public, "every public posting, nothing else");
        assert!(!sent.contains(&internal) && !sent.contains(&draft));
        let put = puts
            .iter()
            .find(|r| r.path == format!("/v1/lever/jobs/{backend}"))
            .unwrap();
        assert_eq!(
            put.header("authorization"),
            Some(format!("Bearer {API_TOKEN}").as_str())
        );
        assert!(put.header("idempotency-key").is_some_and(|k| !k.is_empty()));
        let job = put.json();
        assert_eq!(job["lever_posting_id"], json!(backend));
        assert_eq!(job["initial_status"], "pending");
        assert_eq!(job["title"], "Backend Engineer");
        assert_eq!(job["description"], "Join us as Backend Engineer.");
        assert_eq!(
            job["description_html"],
            "<p>Join us as Backend Engineer.</p>"
        );
        assert_eq!(job["location"], "Austin, TX");
        assert_eq!(job["all_locations"], json!(["Austin, TX"]));
        assert_eq!(
            (&job["team"], &job["department"], &job["commitment"]),
            (
                &json!("Platform"),
                &json!("Engineering"),
                &json!("Full-time")
            )
        );
        assert_eq!(job["career_page_url"], "https://careers.acme.example/jobs");
        assert!(
            job["apply_url"]
                .as_str()
                .is_some_and(|u| u.contains(&backend))
        );

        // An edit, a close, and a posting made public; the unchanged ones are not sent again.
        relode.vendor.clear();
        relode
            .update_posting(
                &backend,
                PostingWrite {
                    text: Some("Senior Backend Engineer".into()),
                    ..Default::default()
                },
            )
            .await;
        relode
            .update_posting(
                &support,
                PostingWrite {
                    state: Some(PostingState::Closed),
                    ..Default::default()
                },
            )
            .await;
        relode
            .update_posting(
                &draft,
                PostingWrite {
                    state: Some(PostingState::Published),
                    ..Default::default()
                },
            )
            .await;
        relode.sync_jobs().await;
        let mut puts: Vec<(String, String)> = relode
            .vendor
            .requests_matching(is_job_put)
            .iter()
            .map(|r| {
                (
                    r.json()["lever_posting_id"].as_str().unwrap().to_owned(),
                    r.json()["title"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        puts.sort();
        let mut expected = vec![
            (backend.clone(), "Senior Backend Engineer".to_owned()),
            (draft.clone(), "Draft Role".to_owned()),
        ];
        expected.sort();
        assert_eq!(puts, expected, "only what changed");
        let closes = relode.vendor.requests_matching(is_job_close);
        assert_eq!(closes.len(), 1, "{closes:?}");
        assert_eq!(closes[0].path, format!("/v1/lever/jobs/{support}/close"));
        assert_eq!(closes[0].json()["reason"], "closed");
        assert_eq!(closes[0].json()["lever_posting_id"], json!(support));

        // Nothing changed since: nothing is sent.
        relode.vendor.clear();
        relode.sync_jobs().await;
        assert!(
            relode.vendor.requests().is_empty(),
            "{:?}",
            relode.vendor.requests()
        );
        relode.stop().await;
    })
    .await;
}

// ---- candidates -----------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_submitted_candidate_becomes_an_opportunity_and_the_same_email_reuses_the_contact() {
    candidates_flow(fulcrum_plugin_artifacts::RELODE).await
}

/// The same with Relode as shipped for contract 0.1.0: a released contract keeps working.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn candidates_flow_on_the_contract_0_1_0_build() {
    candidates_flow(fulcrum_plugin_artifacts::RELODE_V0_1_0).await
}

async fn candidates_flow(component: &'static str) {
    on_each_backend(|db| async move {
        let relode = Relode::start_from(&db, component).await;
        let posting = relode
            .create_posting("Backend Engineer", PostingState::Published, true)
            .await;
        let other_posting = relode
            .create_posting("Data Engineer", PostingState::Published, true)
            .await;
        let email = "ada.lovelace@example.com";

        let (status, answer) = relode.submit(&submission("rc_1001", email, &posting)).await;
        assert_eq!(status, 202, "{answer}");
        relode.world.settle(WAIT).await;

        let opportunities = relode.world.opportunities_with_email(email);
        assert_eq!(opportunities.len(), 1);
        let o = &opportunities[0];
        assert_eq!(o.name.as_deref(), Some("Ada Lovelace"));
        assert_eq!(o.phones[0].value, "+1 512 555 0100");
        assert_eq!(o.sources, ["Relode"]);
        assert_eq!(
            o.owner.as_ref().map(|u| u.id()),
            Some(relode.owner.0.as_str())
        );
        assert_eq!(
            o.stage_id(),
            Some(relode.stage_id("New applicant").as_str())
        );
        relode.world.sandbox.read(|db| {
            let applied: Vec<_> = db
                .applications(&o.id)
                .iter()
                .filter_map(|a| a.posting.clone())
                .collect();
            assert_eq!(applied, std::slice::from_ref(&posting));
            let resumes = db.resumes(&o.id);
            assert_eq!(resumes.len(), 1);
            let file = resumes[0].file.as_ref().unwrap();
            assert_eq!(
                (file.name.as_str(), file.size),
                ("ada-lovelace.pdf", RESUME.len() as u64)
            );
            let notes = db.notes(&o.id);
            assert_eq!(notes.len(), 1);
            let note = notes[0].value();
            for words in [
                "Relode candidate rc_1001",
                "Career highlights:\n- Wrote the first published algorithm\n- Led a team of 4",
                "Desired salary: $150,000 per year",
                "Certifications & licences: PMP",
                "Skills:\n- Mathematics\n- Analytical engines",
                "Education: Private tutoring in mathematics",
                "Languages:\n- English\n- French",
                "Interview ability: Weekdays after 2pm CT",
                "Willing to relocate: No",
                "Willing to travel: Up to 25%",
                "Available start date: 2025-03-01",
            ] {
                assert!(note.contains(words), "{words:?} in {note:?}");
            }
        });
        assert_eq!(
            relode
                .world
                .state_text(TENANT, RELODE, &format!("opportunity:{}", o.id))
                .await
                .map(|s| serde_json::from_str::<Value>(&s).unwrap()),
            Some(json!({"relode_candidate_id": "rc_1001", "lever_posting_id": posting}))
        );

        // The same person submitted to another job, with only some fields: a second
        // opportunity on the same Lever contact, and a note without the missing fields.
        let second = json!({
            "event": "candidate.submitted",
            "candidate": {
                "id": "rc_1002", "lever_posting_id": other_posting,
                "first_name": "Ada", "last_name": "Lovelace", "email": email,
                "skills": ["SQL"], "desired_salary": ""
            }
        });
        let (status, answer) = relode.submit(&second).await;
        assert_eq!(status, 202, "{answer}");
        relode.world.settle(WAIT).await;
        let opportunities = relode.world.opportunities_with_email(email);
        assert_eq!(opportunities.len(), 2);
        assert_eq!(
            opportunities[0].contact_id(),
            opportunities[1].contact_id(),
            "Lever reused the contact with that e-mail"
        );
        let newer = opportunities.iter().find(|x| x.id != o.id).unwrap();
        let note = relode
            .world
            .sandbox
            .read(|db| db.notes(&newer.id)[0].value().to_owned());
        assert_eq!(
            note,
            "Submitted through Relode (Relode candidate rc_1002)\n\nSkills: SQL"
        );
        assert!(
            relode
                .world
                .sandbox
                .read(|db| db.resumes(&newer.id).is_empty())
        );
        relode.stop().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resume_given_by_url_is_downloaded_from_relode() {
    on_each_backend(|db| async move {
        let relode = Relode::start(&db).await;
        relode.vendor.respond_with(|r| {
            if r.method == "GET" && r.path == "/v1/files/f_77/ada.pdf" {
                Reply {
                    status: 200,
                    headers: vec![("content-type".into(), "application/pdf".into())],
                    body: RESUME.to_vec(),
                }
            } else {
                Reply::json(404, json!({"error": "not found"}))
            }
        });
        let posting = relode
            .create_posting("Backend Engineer", PostingState::Published, true)
            .await;
        let mut body = submission("rc_2001", "grace@example.com", &posting);
        body["candidate"]["resume"] = json!({
            "file_name": "grace.pdf", "content_type": "application/pdf",
            "url": "https://api.relode.com/v1/files/f_77/ada.pdf"
        });
        let (status, answer) = relode.submit(&body).await;
        assert_eq!(status, 202, "{answer}");
        relode.world.settle(WAIT).await;
        let download = relode.vendor.requests_matching(|r| r.method == "GET");
        assert_eq!(download.len(), 1);
        assert_eq!(
            download[0].header("authorization"),
            Some(format!("Bearer {API_TOKEN}").as_str())
        );
        let o = &relode.world.opportunities_with_email("grace@example.com")[0];
        relode.world.sandbox.read(|db| {
            let file = db.resumes(&o.id)[0].file.clone().unwrap();
            assert_eq!(
                (file.name.as_str(), file.size),
                ("grace.pdf", RESUME.len() as u64)
            );
        });
        relode.stop().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_relode_submissions_are_refused_and_nothing_reaches_lever() {
    on_each_backend(|db| async move {
        let relode = Relode::start(&db).await;
        let good = submission("rc_3001", "mallory@example.com", "posting-1");
        let good_bytes = good.to_string().into_bytes();
        let now = now_ms() / 1000;
        let sign =
            |secret: &str, t: i64, body: &[u8]| fulcrum_signature::sign(secret.as_bytes(), t, body);
        let mut missing = good.clone();
        let c = missing["candidate"].as_object_mut().unwrap();
        c.remove("email");
        c.remove("lever_posting_id");
        let missing = missing.to_string().into_bytes();
        let mut bad_resume = good.clone();
        bad_resume["candidate"]["resume"]["content_base64"] = json!("%%% not base64 %%%");
        let bad_resume = bad_resume.to_string().into_bytes();
        let malformed = b"{\"event\": \"candidate.submitted\", \"candidate\": ".to_vec();

        // (what, path, signature header, body, status, words in the message)
        type Case<'a> = (&'a str, &'a str, Option<String>, Vec<u8>, u16, &'a str);
        let cases: Vec<Case<'_>> = vec![
            // Every signature failure gets the host's one 401 (the plugin's reason is logged).
            (
                "no signature",
                "/candidates",
                None,
                good_bytes.clone(),
                401,
                "could not be authenticated",
            ),
            (
                "wrong secret",
                "/candidates",
                Some(sign("guess", now, &good_bytes)),
                good_bytes.clone(),
                401,
                "could not be authenticated",
            ),
            (
                "stale signature",
                "/candidates",
                Some(sign(WEBHOOK_SECRET, now - 3600, &good_bytes)),
                good_bytes.clone(),
                401,
                "could not be authenticated",
            ),
            (
                "garbage signature",
                "/candidates",
                Some("sha256=abc".into()),
                good_bytes.clone(),
                401,
                "could not be authenticated",
            ),
            (
                "unknown path, unsigned",
                "/jobs",
                None,
                good_bytes.clone(),
                401,
                "could not be authenticated",
            ),
            (
                "malformed JSON",
                "/candidates",
                Some(sign(WEBHOOK_SECRET, now, &malformed)),
                malformed.clone(),
                400,
                "not JSON",
            ),
            (
                "missing fields",
                "/candidates",
                Some(sign(WEBHOOK_SECRET, now, &missing)),
                missing.clone(),
                422,
                "candidate.lever_posting_id: required",
            ),
            (
                "bad resume",
                "/candidates",
                Some(sign(WEBHOOK_SECRET, now, &bad_resume)),
                bad_resume.clone(),
                422,
                "candidate.resume.content_base64: not base64",
            ),
            (
                "unknown path",
                "/jobs",
                Some(sign(WEBHOOK_SECRET, now, &good_bytes)),
                good_bytes.clone(),
                404,
                "post candidate.submitted events to /candidates",
            ),
        ];
        for (what, path, signature, body, status, words) in cases {
            let headers: Vec<(&str, &str)> = signature
                .as_deref()
                .map(|s| vec![(SIGNATURE, s)])
                .unwrap_or_default();
            let (got, answer) = relode
                .world
                .post_vendor(TENANT, RELODE, path, &headers, &body)
                .await;
            assert_eq!(got, status, "{what}: {answer}");
            assert!(answer.to_string().contains(words), "{what}: {answer}");
            assert!(
                !answer.to_string().contains(WEBHOOK_SECRET),
                "{what}: leaks the secret"
            );
        }
        let missing_email_words = relode
            .world
            .post_vendor(
                TENANT,
                RELODE,
                "/candidates",
                &[(SIGNATURE, &sign(WEBHOOK_SECRET, now, &missing))],
                &missing,
            )
            .await
            .1
            .to_string();
        assert!(
            missing_email_words.contains("candidate.email: required"),
            "{missing_email_words}"
        );

        assert_eq!(
            relode.world.counts().await,
            fulcrum_store::EventCounts::default()
        );
        assert_eq!(relode.creates(), 0);
        assert!(
            relode
                .world
                .opportunities_with_email("mallory@example.com")
                .is_empty()
        );
        relode.stop().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replayed_submission_makes_one_opportunity() {
    on_each_backend(|db| async move {
        let relode = Relode::start(&db).await;
        let posting = relode
            .create_posting("Backend Engineer", PostingState::Published, true)
            .await;
        let body = submission("rc_4001", "replay@example.com", &posting);
        let bytes = body.to_string().into_bytes();
        let signed = |bytes: &[u8]| {
            fulcrum_signature::sign(WEBHOOK_SECRET.as_bytes(), now_ms() / 1000, bytes)
        };
        // The same delivery twice (Relode retrying after a timeout): deduped at the ingress.
        for attempt in 0..2 {
            let (status, answer) = relode
                .world
                .post_vendor(
                    TENANT,
                    RELODE,
                    "/candidates",
                    &[
                        (SIGNATURE, &signed(&bytes)),
                        ("Idempotency-Key", "delivery-rc_4001"),
                        ("Fulcrum-Subject", "rc_4001"),
                    ],
                    &bytes,
                )
                .await;
            assert_eq!(status, 202, "{answer}");
            assert_eq!(answer["duplicate"], json!(attempt == 1), "{answer}");
        }
        relode.world.settle(WAIT).await;
        // The same signed request under a new key (a capture resent): deduped at the ingress.
        let (status, answer) = relode
            .world
            .post_vendor(
                TENANT,
                RELODE,
                "/candidates",
                &[
                    (SIGNATURE, &signed(&bytes)),
                    ("Idempotency-Key", "delivery-rc_4001-resent"),
                    ("Fulcrum-Subject", "rc_4001"),
                ],
                &bytes,
            )
            .await;
        assert_eq!(status, 202, "{answer}");
        assert_eq!(answer["duplicate"], json!(true), "{answer}");
        // Relode resubmitting the same candidate as a new delivery (its body changed): handled,
        // nothing created.
        let mut resubmitted = body.clone();
        resubmitted["candidate"]["phone"] = json!("+1 512 555 0199");
        let resubmitted = resubmitted.to_string().into_bytes();
        let (status, answer) = relode
            .world
            .post_vendor(
                TENANT,
                RELODE,
                "/candidates",
                &[
                    (SIGNATURE, &signed(&resubmitted)),
                    ("Idempotency-Key", "delivery-rc_4001-again"),
                    ("Fulcrum-Subject", "rc_4001"),
                ],
                &resubmitted,
            )
            .await;
        assert_eq!(status, 202, "{answer}");
        assert_eq!(answer["duplicate"], json!(false), "{answer}");
        let counts = relode.world.settle(WAIT).await;
        assert_eq!((counts.done, counts.dead), (2, 0), "{counts:?}");
        let opportunities = relode.world.opportunities_with_email("replay@example.com");
        assert_eq!(opportunities.len(), 1);
        assert_eq!(relode.world.note_count(&opportunities[0].id), 1);
        assert_eq!(relode.creates(), 1);
        relode.stop().await;
    })
    .await;
}

/// The store's id of the event the ingress answered with (`"evt-N"`).
fn ingress_event_id(answer: &Value) -> i64 {
    answer["event_id"]
        .as_str()
        .and_then(|r| r.strip_prefix("evt-"))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no event id in {answer}"))
}

// ---- setup ----------------------------------------------------------------------------------

async fn check_setup(relode: &Relode, key: &str) -> fulcrum_store::Event {
    let (status, answer) = relode
        .world
        .run_action(TENANT, RELODE, "check-setup", json!({}), key)
        .await;
    assert_eq!(status, 202, "{answer}");
    relode.world.settle(WAIT).await;
    let id = answer["event_id"].as_i64().expect("event id");
    relode.world.store.get_event(id).await.unwrap().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_owner_or_stage_matching_nothing_fails_clearly_and_the_fixed_setup_replays() {
    on_each_backend(|db| async move {
        let relode = Relode::start(&db).await;
        let good_config = relode.config();
        let checked = check_setup(&relode, "check-1").await;
        assert_eq!(
            checked.status,
            EventStatus::Done,
            "{:?}",
            checked.last_error
        );

        let mut bad = good_config.clone();
        bad["owner"] = json!({"name": "Nobody Here", "email": "nobody@acme.example"});
        bad["default_stage"] = json!("Screening");
        relode.configure(bad).await;
        let checked = check_setup(&relode, "check-2").await;
        assert_eq!(checked.status, EventStatus::Dead);
        let error = checked.last_error.unwrap_or_default();
        for words in [
            "/owner: the owner \"Nobody Here\" <nobody@acme.example> matches no active Lever user",
            &relode.owner.2,
            "/default_stage: no Lever stage is named \"Screening\"",
            "\"New applicant\"",
        ] {
            assert!(error.contains(words), "{words:?} in {error}");
        }

        let posting = relode
            .create_posting("Backend Engineer", PostingState::Published, true)
            .await;
        let (status, answer) = relode
            .submit(&submission("rc_5001", "setup@example.com", &posting))
            .await;
        assert_eq!(status, 202, "{answer}");
        relode.world.settle(WAIT).await;
        let id = ingress_event_id(&answer);
        let event = relode.world.store.get_event(id).await.unwrap().unwrap();
        assert_eq!(
            event.status,
            EventStatus::Dead,
            "a config problem is not retried"
        );
        let error = event.last_error.unwrap_or_default();
        assert!(
            error.contains("/owner") && error.contains("/default_stage"),
            "{error}"
        );
        assert_eq!(relode.creates(), 0);

        // The admin fixes the config and replays the dead letter.
        relode.configure(good_config).await;
        relode.world.store.replay_event(id).await.unwrap();
        relode.world.settle(WAIT).await;
        let event = relode.world.store.get_event(id).await.unwrap().unwrap();
        assert_eq!(event.status, EventStatus::Done, "{:?}", event.last_error);
        assert_eq!(
            relode
                .world
                .opportunities_with_email("setup@example.com")
                .len(),
            1
        );
        relode.stop().await;
    })
    .await;
}

/// Waits for `n` status updates at Relode and for the host to finish; returns them all.
async fn status_requests(relode: &Relode, n: usize) -> Vec<Recorded> {
    let found = relode.vendor.wait_for(is_status, n, WAIT).await;
    relode.world.settle(WAIT).await;
    found
}

// ---- status back ----------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lever_changes_of_relode_candidates_reach_relode_and_others_do_not() {
    on_each_backend(|db| async move {
        let relode = Relode::start(&db).await;
        // Relode is down for the first status update: the event is retried.
        let statuses = Arc::new(AtomicUsize::new(0));
        let seen = statuses.clone();
        relode.vendor.respond_with(move |r| {
            if is_status(r) && seen.fetch_add(1, Ordering::SeqCst) == 0 {
                Reply::json(503, json!({"error": "maintenance"}))
            } else {
                Reply::json(200, json!({"ok": true}))
            }
        });
        let mut webhook_token = String::new();
        for event in [
            WebhookEventType::CandidateStageChange,
            WebhookEventType::CandidateArchiveChange,
            WebhookEventType::CandidateHired,
        ] {
            (_, webhook_token) = relode.world.subscribe_lever_webhook(TENANT, event).await;
        }
        let posting = relode
            .create_posting("Backend Engineer", PostingState::Published, true)
            .await;
        let (status, answer) = relode
            .submit(&submission("rc_6001", "status@example.com", &posting))
            .await;
        assert_eq!(status, 202, "{answer}");
        relode.world.settle(WAIT).await;
        let opportunity = relode.world.opportunities_with_email("status@example.com")[0]
            .id
            .clone();
        let user = relode.world.sandbox.default_user_id();
        // A stage change (first answered 503, then retried).
        let interview = relode.stage_id("Phone interview");
        relode
            .lever
            .update_stage(&opportunity, &interview, Some(&user))
            .await
            .unwrap();
        let requests = status_requests(&relode, 2).await;
        assert_eq!(requests[0].path, "/v1/lever/candidates/rc_6001/status");
        assert_eq!(
            requests[0].header("authorization"),
            Some(format!("Bearer {API_TOKEN}").as_str())
        );
        let (first, retry) = (requests[0].json(), requests[1].json());
        assert_eq!(first, retry, "the retry sends the same update");
        assert_eq!(
            requests[0].header("idempotency-key"),
            requests[1].header("idempotency-key")
        );
        assert_eq!(first["status"], "stage_changed");
        assert_eq!(
            first["stage"],
            json!({"id": interview, "name": "Phone interview"})
        );
        assert_eq!(first["lever_opportunity_id"], json!(opportunity));
        assert_eq!(first["lever_posting_id"], json!(posting));
        assert_eq!(first["relode_candidate_id"], "rc_6001");
        assert!(
            first["occurred_at"]
                .as_str()
                .is_some_and(|t| t.ends_with('Z'))
        );

        // Deliveries edited on the way (Lever signs neither the event name nor `data`): Relode
        // is told what Lever shows. A "hire" Lever does not show sends nothing; a stage change
        // whose data names another stage reports the stage the opportunity is in.
        let post = |delivery: lever_model::WebhookDelivery| {
            let world = &relode.world;
            async move {
                let (status, answer) = world
                    .post_lever_webhook(
                        TENANT,
                        "application/json",
                        serde_json::to_vec(&delivery).unwrap(),
                    )
                    .await;
                assert_eq!(status, 202, "{answer}");
            }
        };
        post(signed_lever_delivery(
            &webhook_token,
            "candidateHired",
            Some("forged-hire"),
            &opportunity,
        ))
        .await;
        relode.world.settle(WAIT).await;
        assert_eq!(
            relode.vendor.requests_matching(is_status).len(),
            2,
            "a hire Lever does not show was sent"
        );
        post(signed_lever_delivery(
            &webhook_token,
            "candidateStageChange",
            Some("forged-stage"),
            &opportunity,
        ))
        .await;
        let told = status_requests(&relode, 3).await[2].json();
        assert_eq!(told["status"], "stage_changed");
        assert_eq!(
            told["stage"],
            json!({"id": interview, "name": "Phone interview"}),
            "the webhook's data named stage \"offer\""
        );

        // Archived for a non-hire reason, then back.
        let withdrew = relode.archive_reason_id("Withdrew");
        relode
            .lever
            .archive(&opportunity, &withdrew, Some(&user))
            .await
            .unwrap();
        let archived = status_requests(&relode, 4).await[3].json();
        assert_eq!(archived["status"], "archived");
        assert_eq!(
            archived["archive_reason"],
            json!({"id": withdrew, "text": "Withdrew", "hired": false})
        );
        relode
            .lever
            .unarchive(&opportunity, Some(&user))
            .await
            .unwrap();
        assert_eq!(
            status_requests(&relode, 5).await[4].json()["status"],
            "unarchived"
        );

        // Hired: Lever sends the archive change (reason "Hired") and the hire.
        let hired = relode.archive_reason_id("Hired");
        relode
            .lever
            .archive(&opportunity, &hired, Some(&user))
            .await
            .unwrap();
        let last: Vec<Value> = status_requests(&relode, 7).await[5..]
            .iter()
            .map(|r| r.json())
            .collect();
        let mut kinds: Vec<&str> = last.iter().map(|b| b["status"].as_str().unwrap()).collect();
        kinds.sort();
        assert_eq!(kinds, ["archived", "hired"]);
        let archived = last.iter().find(|b| b["status"] == "archived").unwrap();
        assert_eq!(archived["archive_reason"]["hired"], true);

        // An opportunity that did not come from Relode: its change is not sent.
        let other = relode.world.change_some_stage().await;
        let started = std::time::Instant::now();
        loop {
            let reached = relode.world.events_of_kind("lever").await.iter().any(|e| {
                e.plugin_id == RELODE && e.payload["data"]["opportunityId"] == json!(other)
            });
            if reached {
                break;
            }
            assert!(
                started.elapsed() < WAIT,
                "the other opportunity's change never reached the plugin"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        relode.world.settle(WAIT).await;
        let lever_events = relode.world.events_of_kind("lever").await;
        assert!(
            lever_events.iter().all(|e| e.status == EventStatus::Done),
            "{lever_events:?}"
        );
        let all = relode.vendor.requests_matching(is_status);
        assert_eq!(all.len(), 7, "nothing sent for {other}");
        assert!(
            all.iter()
                .all(|r| r.json()["lever_opportunity_id"] == json!(opportunity))
        );
        relode.stop().await;
    })
    .await;
}
