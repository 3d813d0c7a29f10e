//! The Remote Tech Work connector end to end (issue 6): the real component in the host, the
//! Lever sandbox as Lever, a `VendorDouble` as Remote Tech Work's API, and signed vendor
//! events through the real ingress.

use crate::world::*;
use fulcrum_store::test_support::on_each_backend;
use fulcrum_store::{EventFilter, EventStatus};
use lever_model::{DistributionChannel, PostingState};
use serde_json::{Value, json};
use std::time::{Duration, Instant};
use vendor_double::{Recorded, Reply, VendorDouble};

const ORIGIN: &str = "https://api.remotetech.work";
const PLUGIN_ID: &str = "remote-tech-work";
const API_TOKEN: &str = "rtw-api-token-5d1c";
const WEBHOOK_SECRET: &str = "rtw-whsec-8e2f40";
const SIGNATURE: &str = "RTW-Signature";
const JOBS_PATH: &str = "/v1/integrations/lever/jobs/";

struct Rtw {
    world: World,
    vendor: VendorDouble,
}

async fn start(db: &fulcrum_store::test_support::TestDatabase, config: Value) -> Rtw {
    let vendor = VendorDouble::start().await.unwrap();
    let world = World::start_with(db, Options::new().with_vendor(ORIGIN, &vendor)).await;
    let id = world
        .install_connector(fulcrum_plugin_artifacts::REMOTE_TECH_WORK)
        .await;
    assert_eq!(id, PLUGIN_ID);
    world
        .enable_connector(
            TENANT,
            PLUGIN_ID,
            config,
            &[("api-token", API_TOKEN), ("webhook-secret", WEBHOOK_SECRET)],
        )
        .await;
    Rtw { world, vendor }
}

impl Rtw {
    /// A signed vendor event, as Remote Tech Work sends it.
    async fn send(&self, body: &Value, key: &str, subject: &str) -> (u16, Value) {
        let bytes = body.to_string().into_bytes();
        let now = lever_model::timestamp::now_millis() / 1000;
        let signature = fulcrum_sdk::signature::sign(WEBHOOK_SECRET.as_bytes(), now, &bytes);
        self.world
            .post_vendor(
                TENANT,
                PLUGIN_ID,
                "/events",
                &[
                    (SIGNATURE, &signature),
                    ("idempotency-key", key),
                    ("fulcrum-subject", subject),
                ],
                &bytes,
            )
            .await
    }

    async fn send_ok(&self, body: &Value, key: &str, subject: &str) {
        let (status, answer) = self.send(body, key, subject).await;
        assert_eq!(status, 202, "{answer}");
    }

    async fn settle(&self) {
        self.world.settle(Duration::from_secs(60)).await;
    }

    /// Runs an admin action and waits for it.
    async fn action(&self, name: &str, input: Value, key: &str) {
        let (status, answer) = self
            .world
            .run_action(TENANT, PLUGIN_ID, name, input, key)
            .await;
        assert_eq!(status, 202, "{answer}");
        self.settle().await;
    }

    async fn state(&self, key: &str) -> Option<Value> {
        self.world
            .state_text(TENANT, PLUGIN_ID, key)
            .await
            .map(|t| serde_json::from_str(&t).unwrap_or(Value::String(t)))
    }

    fn puts(&self) -> Vec<Recorded> {
        self.vendor
            .requests_matching(|r| r.method == "PUT" && r.path.starts_with(JOBS_PATH))
    }

    async fn dead_letters(&self) -> Vec<fulcrum_store::Event> {
        self.world
            .store
            .list_events(&EventFilter {
                status: Some(EventStatus::Dead),
                limit: 100,
                ..Default::default()
            })
            .await
            .unwrap()
    }

    async fn set_enabled(&self, enabled: bool) {
        let mut installation = self
            .world
            .store
            .get_installation(TENANT, PLUGIN_ID)
            .await
            .unwrap()
            .unwrap();
        installation.enabled = enabled;
        self.world
            .store
            .upsert_installation(&installation)
            .await
            .unwrap();
        self.world
            .host
            .sync_schedules(TENANT, PLUGIN_ID)
            .await
            .unwrap();
    }

    async fn stop(self) {
        self.world.stop().await;
    }
}

/// Postings Lever lists to an API client by default that the connector syncs: published,
/// on the public job site, not confidential.
fn synced_postings(world: &World) -> Vec<lever_model::Posting> {
    world.sandbox.read(|db| {
        db.postings()
            .filter(|p| {
                p.state == PostingState::Published
                    && p.confidentiality != lever_model::Confidentiality::Confidential
                    && p.distribution_channels
                        .iter()
                        .flatten()
                        .any(|c| *c == DistributionChannel::Public)
            })
            .cloned()
            .collect()
    })
}

fn lever_client(world: &World) -> lever_client::LeverClient {
    lever_client::LeverClient::new(
        lever_client::ClientConfig::new(&world.sandbox.api_url()).unwrap(),
        lever_client::Credential::api_key(&world.api_key),
    )
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn job_sync_pushes_pending_jobs_once_follows_changes_and_keeps_links() {
    on_each_backend(|db| async move {
        let rtw = start(&db, json!({})).await;
        let postings = synced_postings(&rtw.world);
        assert!(postings.len() >= 2, "the seed has published public postings");
        let first = postings[0].id.clone();
        // Remote Tech Work answers the first posting's PUT with the job it is linked to.
        let linked = first.clone();
        rtw.vendor.respond_with(move |r| {
            if r.path.ends_with(&linked) {
                Reply::json(200, json!({"rtw_job_id": "rtw-job-100", "link": "linked_existing"}))
            } else {
                Reply::json(201, json!({"status": "pending"}))
            }
        });

        // Turning the schedule on: it is due at once, so a fresh installation syncs without
        // waiting a period.
        rtw.world
            .store
            .set_schedule_overrides(
                TENANT,
                PLUGIN_ID,
                &json!({"sync-postings": {"every_seconds": 3600}}),
            )
            .await
            .unwrap();
        rtw.world
            .host
            .sync_schedules(TENANT, PLUGIN_ID)
            .await
            .unwrap();
        let puts = rtw
            .vendor
            .wait_for(
                |r| r.method == "PUT" && r.path.starts_with(JOBS_PATH),
                postings.len(),
                Duration::from_secs(30),
            )
            .await;
        rtw.settle().await;
        assert_eq!(rtw.puts().len(), postings.len(), "one PUT per synced posting");
        for posting in &postings {
            let put = puts
                .iter()
                .find(|r| r.path == format!("{JOBS_PATH}{}", posting.id))
                .unwrap_or_else(|| panic!("posting {} was not pushed", posting.id));
            assert_eq!(put.header("authorization"), Some(&*format!("Bearer {API_TOKEN}")));
            let job = put.json();
            assert_eq!(job["status"], "pending");
            assert_eq!(job["lever_posting_id"], posting.id.as_str());
            assert_eq!(job["lever_state"], "published");
            assert_eq!(job["title"], posting.text.trim());
            assert_eq!(job["team"], json!(posting.categories.team));
            assert_eq!(job["location"], json!(posting.categories.location));
            assert_eq!(job["commitment"], json!(posting.categories.commitment));
            assert!(job["workplace_type"].is_string() || job["workplace_type"].is_null());
            assert_eq!(
                job["apply_url"],
                json!(posting.urls.as_ref().map(|u| u.apply.clone()))
            );
            assert!(
                !job["description"].as_str().unwrap().is_empty(),
                "the job ad as text: {job}"
            );
        }
        // Internal-only, draft, closed, ... postings were not pushed.
        let others = rtw.world.sandbox.read(|db| db.postings().count()) - postings.len();
        assert!(others > 0, "the seed has postings that are not synced");

        // The link in the PUT's answer is kept, both ways.
        let link = rtw.state(&format!("job:link:{first}")).await.unwrap();
        assert_eq!(link["rtw_job_id"], "rtw-job-100");
        assert_eq!(link["link"], "linked_existing");
        assert_eq!(
            rtw.state("job:rtw:rtw-job-100").await,
            Some(Value::String(first.clone()))
        );

        // Nothing changed: the next run sends nothing.
        rtw.action("sync-postings", json!({}), "sync-again").await;
        assert_eq!(rtw.puts().len(), postings.len());

        // A change in Lever follows, and only that posting is sent.
        let second = postings[1].id.clone();
        lever_client(&rtw.world)
            .update_posting(
                &second,
                &rtw.world.sandbox.default_user_id(),
                &lever_model::PostingWrite {
                    text: Some("Principal Platform Engineer".into()),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        rtw.action("sync-postings", json!({}), "sync-after-edit").await;
        let puts = rtw.puts();
        assert_eq!(puts.len(), postings.len() + 1);
        let last = puts.last().unwrap();
        assert_eq!(last.path, format!("{JOBS_PATH}{second}"));
        assert_eq!(last.json()["title"], "Principal Platform Engineer");

        // Closing a posting is sent once too, so Remote Tech Work can take the job down.
        lever_client(&rtw.world)
            .update_posting(
                &second,
                &rtw.world.sandbox.default_user_id(),
                &lever_model::PostingWrite {
                    state: Some(PostingState::Closed),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        rtw.action("sync-postings", json!({}), "sync-after-close").await;
        let puts = rtw.puts();
        assert_eq!(puts.len(), postings.len() + 2);
        assert_eq!(puts.last().unwrap().json()["lever_state"], "closed");

        // Remote Tech Work links the second posting to a new job with a signed event.
        rtw.send_ok(
            &json!({"type": "job.linked", "occurred_at": "2026-03-01T09:00:00Z",
                    "rtw_job_id": "rtw-job-200", "lever_posting_id": second, "link": "created_new"}),
            "link-200",
            "job:rtw-job-200",
        )
        .await;
        rtw.settle().await;
        let link = rtw.state(&format!("job:link:{second}")).await.unwrap();
        assert_eq!(link["rtw_job_id"], "rtw-job-200");
        assert_eq!(link["link"], "created_new");
        assert_eq!(
            rtw.state("job:rtw:rtw-job-200").await,
            Some(Value::String(second.clone()))
        );

        // Disabled: the schedule is gone, the ingress refuses, actions are refused.
        rtw.set_enabled(false).await;
        assert!(
            rtw.world.store.list_schedules(TENANT).await.unwrap().iter().all(|s| s.plugin_id != PLUGIN_ID),
            "no schedule runs while disabled"
        );
        let (status, answer) = rtw
            .send(
                &json!({"type": "job.linked", "occurred_at": "2026-03-01T10:00:00Z",
                        "rtw_job_id": "rtw-job-300", "lever_posting_id": first, "link": "created_new"}),
                "link-300",
                "job:rtw-job-300",
            )
            .await;
        assert_eq!(status, 403, "{answer}");
        let (status, _) = rtw
            .world
            .run_action(TENANT, PLUGIN_ID, "sync-postings", json!({}), "sync-disabled")
            .await;
        assert_eq!(status, 409);
        // Re-enabled: the schedule fires at once and sends nothing already sent.
        rtw.set_enabled(true).await;
        let before = rtw.world.events_of_kind("schedule").await.len();
        let started = Instant::now();
        while rtw.world.events_of_kind("schedule").await.len() == before {
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "the schedule did not fire after re-enabling"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        rtw.settle().await;
        assert_eq!(rtw.puts().len(), postings.len() + 2, "nothing re-sent");
        assert!(rtw.dead_letters().await.is_empty());
        rtw.stop().await;
    })
    .await;
}

/// The applicant profile Remote Tech Work sends: every field the CV has.
fn applicant(id: &str, name: &str, email: &str) -> Value {
    json!({
        "id": id,
        "full_name": name,
        "email": email,
        "profile_url": format!("https://remotetech.work/talent/{id}"),
        "country_of_residence": "Portugal",
        "technical_seniority": "Senior",
        "preferred_roles": ["Backend Developer", "Platform Engineer"],
        "availability": "Full-time, from 2026-04-01",
        "notice_period": "4 weeks",
        "price_tag": {"amount": 65, "currency": "USD", "unit": "hour"},
        "about_me": "Backend engineer who likes correct, observable systems.",
        "technical_skills": [
            {"name": "Rust", "level": "Expert", "years": 6},
            {"name": "PostgreSQL", "level": "Advanced", "years": 9}
        ],
        "languages": [
            {"name": "Portuguese", "mother_tongue": true},
            {"name": "English", "level": "C1", "writing": "B2"}
        ],
        "work_experience": [{"title": "Staff Engineer", "employer": "Lusitania Payments",
                              "location": "Lisbon", "start": "2021-02", "description": "Payments ledger in Rust."}],
        "projects": [{"name": "Ledgerline", "role": "Lead", "start": "2022-01", "end": "2023-06",
                      "description": "Double-entry ledger service.", "technologies": ["Rust", "Kafka"]}],
        "education": [{"qualification": "MSc Computer Science", "institution": "Universidade de Lisboa",
                       "start": "2012", "end": "2014"}],
        "certificates": [{"name": "CKA: Certified Kubernetes Administrator", "issuer": "CNCF",
                          "issued": "2023-05", "url": "https://www.cncf.io/certification/cka/"}]
    })
}

fn pdf_text(bytes: &[u8]) -> String {
    let document = lopdf::Document::load_mem(bytes).expect("the CV is a PDF");
    let pages: Vec<u32> = document.get_pages().keys().copied().collect();
    let text = document
        .extract_text(&pages)
        .expect("the CV's text extracts");
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn contains(text: &str, needle: &str) -> bool {
    let squash = |s: &str| s.chars().filter(|c| !c.is_whitespace()).collect::<String>();
    squash(text).contains(&squash(needle))
}

/// The single opportunity with this e-mail, its resume's bytes and its notes.
fn opportunity_of(world: &World, email: &str) -> lever_model::Opportunity {
    let found = world.opportunities_with_email(email);
    assert_eq!(found.len(), 1, "one opportunity for {email}: {found:?}");
    found.into_iter().next().unwrap()
}

fn notes_of(world: &World, opportunity_id: &str) -> Vec<String> {
    world.sandbox.read(|db| {
        db.notes(opportunity_id)
            .iter()
            .map(|n| n.value().to_owned())
            .collect()
    })
}

fn resume_of(world: &World, opportunity_id: &str) -> (String, Vec<u8>) {
    world.sandbox.read(|db| {
        let resumes = db.resumes(opportunity_id);
        assert_eq!(resumes.len(), 1, "one resume: {resumes:?}");
        let resume = &resumes[0];
        let name = resume
            .file
            .as_ref()
            .map(|f| f.name.clone())
            .unwrap_or_default();
        let bytes = db
            .resume_bytes(opportunity_id, &resume.id)
            .unwrap()
            .to_vec();
        (name, bytes)
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn applicants_become_opportunities_with_a_europass_cv_and_follow_withdrawals() {
    on_each_backend(|db| async move {
        let rtw = start(&db, json!({"opportunity_creation": "automatic"})).await;
        let posting = synced_postings(&rtw.world)[0].id.clone();
        rtw.send_ok(
            &json!({"type": "job.linked", "occurred_at": "2026-03-01T09:00:00Z",
                    "rtw_job_id": "rtw-job-1", "lever_posting_id": posting, "link": "created_new"}),
            "link-1",
            "job:rtw-job-1",
        )
        .await;
        rtw.settle().await;

        // Refused before anything is stored: no signature, a wrong one, a bad shape.
        let events_before = rtw.world.counts().await;
        let body = json!({"type": "application.submitted", "occurred_at": "2026-03-02T10:15:00Z",
                          "rtw_job_id": "rtw-job-1", "applicant": applicant("a-1", "Zoë Ødegård-李雷", "zoe@example.com")});
        let (status, answer) = rtw
            .world
            .post_vendor(TENANT, PLUGIN_ID, "/events", &[], body.to_string().as_bytes())
            .await;
        assert_eq!(status, 401, "{answer}");
        assert!(answer.to_string().contains("RTW-Signature"), "{answer}");
        let forged = fulcrum_sdk::signature::sign(b"not-the-secret", lever_model::timestamp::now_millis() / 1000, body.to_string().as_bytes());
        let (status, _) = rtw
            .world
            .post_vendor(TENANT, PLUGIN_ID, "/events", &[(SIGNATURE, &forged)], body.to_string().as_bytes())
            .await;
        assert_eq!(status, 401);
        let (status, answer) = rtw
            .send(
                &json!({"type": "application.submitted", "occurred_at": "2026-03-02T10:15:00Z",
                        "rtw_job_id": "rtw-job-1", "applicant": {"id": "a-9", "full_name": "No Mail"}}),
                "bad-shape",
                "applicant:a-9",
            )
            .await;
        assert_eq!(status, 422, "{answer}");
        assert!(answer.to_string().contains("applicant.email"), "{answer}");
        let events_after = rtw.world.counts().await;
        assert_eq!(
            events_before.queued + events_before.running + events_before.done + events_before.dead,
            events_after.queued + events_after.running + events_after.done + events_after.dead,
            "nothing stored for refused requests"
        );

        // Automatic: the application becomes an opportunity at once.
        rtw.send_ok(&body, "apply-1", "applicant:a-1").await;
        rtw.settle().await;
        let o = opportunity_of(&rtw.world, "zoe@example.com");
        assert_eq!(o.name.as_deref(), Some("Zoë Ødegård-李雷"));
        assert_eq!(o.location.as_deref(), Some("Portugal"));
        assert!(o.links.contains(&"https://remotetech.work/talent/a-1".to_owned()), "{:?}", o.links);
        assert_eq!(o.sources, ["Remote Tech Work"]);
        for tag in ["Senior", "Backend Developer", "Platform Engineer"] {
            assert!(o.tags.contains(&tag.to_owned()), "{tag} in {:?}", o.tags);
        }
        // The sandbox has no "Applied" stage: the next configured name, "New applicant".
        assert_eq!(o.stage_id(), Some("applicant-new"));
        assert!(o.archive_state().is_none());
        let applied_to: Vec<String> = rtw.world.sandbox.read(|db| {
            db.applications(&o.id).iter().filter_map(|a| a.posting.clone()).collect()
        });
        assert_eq!(applied_to, std::slice::from_ref(&posting));

        // The Europass CV is its resume: real text, every section, the Unicode name.
        let (name, pdf) = resume_of(&rtw.world, &o.id);
        assert_eq!(name, "Zoë Ødegård-李雷 - Europass CV.pdf");
        assert!(pdf.starts_with(b"%PDF-"));
        let text = pdf_text(&pdf);
        for expected in [
            "Zoë Ødegård-李雷",
            "Senior",
            "Full-time, from 2026-04-01",
            "4 weeks",
            "Portugal",
            "Backend engineer who likes correct, observable systems.",
            "Rust",
            "PostgreSQL",
            "Portuguese",
            "English",
            "C1",
            "B2",
            "Staff Engineer",
            "Lusitania Payments",
            "Ledgerline",
            "Kafka",
            "MSc Computer Science",
            "Universidade de Lisboa",
            "CKA: Certified Kubernetes Administrator",
        ] {
            assert!(contains(&text, expected), "{expected:?} missing from the CV: {text}");
        }
        assert!(!contains(&text, "USD 65/hour"), "the price tag is off by default: {text}");

        // The link is kept: applicant → opportunity.
        let record = rtw
            .state(&format!("application:a-1:{posting}"))
            .await
            .unwrap();
        assert_eq!(record["opportunity_id"], o.id.as_str());
        assert_eq!(record["status"], "in_lever");

        // A redelivery of the same application changes nothing.
        rtw.send_ok(&body, "apply-1-again", "applicant:a-1").await;
        rtw.settle().await;
        assert_eq!(opportunity_of(&rtw.world, "zoe@example.com").id, o.id);

        // Withdrawal: archived with the tenant's withdrawal reason and a dated note.
        rtw.send_ok(
            &json!({"type": "application.withdrawn", "occurred_at": "2026-03-05T23:30:00-02:00",
                    "rtw_job_id": "rtw-job-1", "applicant_id": "a-1"}),
            "withdraw-1",
            "applicant:a-1",
        )
        .await;
        rtw.settle().await;
        let archived = opportunity_of(&rtw.world, "zoe@example.com");
        let state = archived.archive_state().expect("archived");
        let reason = rtw
            .world
            .sandbox
            .read(|db| db.archive_reason(state.reason.as_deref().expect("a reason")).unwrap().text.clone());
        assert_eq!(reason, "Withdrew");
        let notes = notes_of(&rtw.world, &o.id);
        assert_eq!(
            notes,
            ["Archived automatically: the candidate withdrew their application on Remote Tech Work on 2026-03-06."]
        );

        // Re-application: unarchived with a note, no second opportunity.
        let again = json!({"type": "application.submitted", "occurred_at": "2026-03-09T08:00:00Z",
                           "rtw_job_id": "rtw-job-1", "applicant": applicant("a-1", "Zoë Ødegård-李雷", "zoe@example.com")});
        rtw.send_ok(&again, "apply-1-second-time", "applicant:a-1").await;
        rtw.settle().await;
        let back = opportunity_of(&rtw.world, "zoe@example.com");
        assert_eq!(back.id, o.id);
        assert!(back.archive_state().is_none(), "unarchived");
        let notes = notes_of(&rtw.world, &o.id);
        assert_eq!(notes.len(), 2, "{notes:?}");
        assert!(
            notes.contains(&"Unarchived automatically: the candidate applied again on Remote Tech Work on 2026-03-09.".to_owned()),
            "{notes:?}"
        );

        // An application to a job that is not linked cannot be placed: dead letter that says so.
        rtw.send_ok(
            &json!({"type": "application.submitted", "occurred_at": "2026-03-09T08:00:00Z",
                    "rtw_job_id": "rtw-job-unlinked", "applicant": applicant("a-2", "Ana Lima", "ana@example.com")}),
            "apply-unlinked",
            "applicant:a-2",
        )
        .await;
        rtw.settle().await;
        let dead = rtw.dead_letters().await;
        assert_eq!(dead.len(), 1);
        assert!(
            dead[0].last_error.as_deref().unwrap_or_default().contains("rtw-job-unlinked is not linked"),
            "{:?}",
            dead[0].last_error
        );
        assert!(rtw.world.opportunities_with_email("ana@example.com").is_empty());
        rtw.stop().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_demand_keeps_applicants_until_an_admin_or_the_vendor_asks() {
    on_each_backend(|db| async move {
        let rtw = start(
            &db,
            json!({"opportunity_creation": "on-demand", "include_price_tag": true}),
        )
        .await;
        let posting = synced_postings(&rtw.world)[0].id.clone();

        // The vendor names the Lever posting itself: no link needed.
        let apply = |id: &str, name: &str, email: &str| {
            json!({"type": "application.submitted", "occurred_at": "2026-03-02T10:15:00Z",
                   "rtw_job_id": "rtw-job-7", "lever_posting_id": posting, "applicant": applicant(id, name, email)})
        };
        rtw.send_ok(&apply("a-10", "Grace Hopper", "grace@example.com"), "apply-10", "applicant:a-10").await;
        rtw.send_ok(&apply("a-11", "Анна Петрова", "anna@example.com"), "apply-11", "applicant:a-11").await;
        rtw.settle().await;
        assert!(rtw.world.opportunities_with_email("grace@example.com").is_empty(), "kept, not created");
        assert!(rtw.world.opportunities_with_email("anna@example.com").is_empty());
        let pending = rtw.state(&format!("pending:a-10:{posting}")).await.unwrap();
        assert_eq!(pending["full_name"], "Grace Hopper");
        assert_eq!(pending["applied_on"], "2026-03-02");

        // The admin's list of waiting applicants (an action, as the console will call it).
        rtw.action("pending-applicants", json!({"limit": 10}), "pending-1").await;
        assert!(rtw.dead_letters().await.is_empty());

        // An admin asks (admin API action): created, with the price tag on the CV.
        rtw.action("create-opportunity", json!({"applicant_id": "a-10"}), "create-a-10").await;
        let grace = opportunity_of(&rtw.world, "grace@example.com");
        assert_eq!(grace.stage_id(), Some("applicant-new"));
        let (_, pdf) = resume_of(&rtw.world, &grace.id);
        assert!(contains(&pdf_text(&pdf), "USD 65/hour"));
        assert!(rtw.state(&format!("pending:a-10:{posting}")).await.is_none());
        // Asking again does not duplicate.
        rtw.action("create-opportunity", json!({"applicant_id": "a-10", "lever_posting_id": posting}), "create-a-10-again").await;
        assert_eq!(opportunity_of(&rtw.world, "grace@example.com").id, grace.id);

        // Remote Tech Work asks (its Applicants page): created too.
        rtw.send_ok(
            &json!({"type": "opportunity.create_requested", "occurred_at": "2026-03-03T08:00:00Z",
                    "rtw_job_id": "rtw-job-7", "lever_posting_id": posting, "applicant_id": "a-11"}),
            "create-11",
            "applicant:a-11",
        )
        .await;
        rtw.settle().await;
        let anna = opportunity_of(&rtw.world, "anna@example.com");
        let (name, pdf) = resume_of(&rtw.world, &anna.id);
        assert_eq!(name, "Анна Петрова - Europass CV.pdf");
        assert!(contains(&pdf_text(&pdf), "Анна Петрова"));

        // A withdrawn applicant is not created.
        rtw.send_ok(&apply("a-12", "Katherine Johnson", "katherine@example.com"), "apply-12", "applicant:a-12").await;
        rtw.send_ok(
            &json!({"type": "application.withdrawn", "occurred_at": "2026-03-04T08:00:00Z",
                    "rtw_job_id": "rtw-job-7", "lever_posting_id": posting, "applicant_id": "a-12"}),
            "withdraw-12",
            "applicant:a-12",
        )
        .await;
        rtw.settle().await;
        rtw.action("create-opportunity", json!({"applicant_id": "a-12", "lever_posting_id": posting}), "create-a-12").await;
        assert!(rtw.world.opportunities_with_email("katherine@example.com").is_empty());
        let dead = rtw.dead_letters().await;
        assert_eq!(dead.len(), 1);
        assert!(dead[0].last_error.as_deref().unwrap_or_default().contains("withdrew"), "{:?}", dead[0].last_error);

        // A stage that does not exist: check-setup names the stages there are.
        let mut installation = rtw.world.store.get_installation(TENANT, PLUGIN_ID).await.unwrap().unwrap();
        installation.config = json!({"applied_stage": ["Applied"]});
        rtw.world.store.upsert_installation(&installation).await.unwrap();
        rtw.action("check-setup", json!({}), "check-1").await;
        let dead = rtw.dead_letters().await;
        assert_eq!(dead.len(), 2);
        let error = dead.iter().map(|e| e.last_error.clone().unwrap_or_default()).find(|e| e.contains("setup problems")).unwrap();
        assert!(error.contains("New applicant"), "{error}");
        rtw.stop().await;
    })
    .await;
}
