//! The Remote Tech Work connector end to end (issue 6): the real component in the host, the
//! Lever sandbox as Lever, a `VendorDouble` as Remote Tech Work's API, and signed vendor
//! events through the real ingress. One test per behaviour of the connector's contract
//! (`plugins/remote-tech-work/README.md`), each on SQLite and PostgreSQL.

use fulcrum_service::installations;
use fulcrum_store::test_support::on_each_backend;
use fulcrum_store::{EventFilter, EventStatus};
use fulcrum_testkit::*;
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

/// The applicant most tests bring to Lever: a Unicode name the CV's font subset must render.
const ZOE: &str = "Zoë Ødegård-李雷";
const ZOE_EMAIL: &str = "zoe@example.com";
/// The Remote Tech Work job [`start_and_apply`] links to the first synced posting.
const JOB: &str = "rtw-job-1";

struct Rtw {
    world: World,
    vendor: VendorDouble,
}

async fn start(db: &fulcrum_store::test_support::TestDatabase, config: Value) -> Rtw {
    let vendor = VendorDouble::start().await.unwrap();
    let options = Options {
        public_url_is_self: true,
        ..Options::new().with_vendor(ORIGIN, &vendor)
    };
    let world = World::start_with(db, options).await;
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
    // Connected as its seed is: "Connect with Lever" (OAuth), not the tenant's key.
    world.connect_oauth(TENANT, PLUGIN_ID).await;
    Rtw { world, vendor }
}

/// An installation with `config` where Remote Tech Work has linked [`JOB`] to the first
/// synced posting and [`ZOE`] (applicant `a-1`) applied to it (Idempotency-Key `apply-1`).
struct Applied {
    rtw: Rtw,
    /// The Lever posting `JOB` is linked to.
    posting: String,
    /// The application as Remote Tech Work sent it.
    application: Value,
}

async fn start_and_apply(db: &fulcrum_store::test_support::TestDatabase, config: Value) -> Applied {
    let rtw = start(db, config).await;
    let posting = synced_postings(&rtw.world)[0].id.clone();
    rtw.link(JOB, &posting, "created_new", "link-1").await;
    let application = submitted(
        JOB,
        applicant("a-1", ZOE, ZOE_EMAIL),
        "2026-03-02T10:15:00Z",
    );
    rtw.send_ok(&application, "apply-1", "applicant:a-1").await;
    rtw.settle().await;
    Applied {
        rtw,
        posting,
        application,
    }
}

impl Applied {
    /// Zoë's one opportunity in Lever.
    fn opportunity(&self) -> lever_model::Opportunity {
        opportunity_of(&self.rtw.world, ZOE_EMAIL)
    }

    /// Remote Tech Work reports Zoë's withdrawal.
    async fn withdraw(&self, occurred_at: &str, key: &str) {
        self.rtw
            .send_ok(&withdrawn(JOB, "a-1", occurred_at), key, "applicant:a-1")
            .await;
        self.rtw.settle().await;
    }
}

impl Rtw {
    /// A signed vendor event, as Remote Tech Work sends it.
    async fn send(&self, body: &Value, key: &str, subject: &str) -> (u16, Value) {
        let bytes = body.to_string().into_bytes();
        let signature = signed(WEBHOOK_SECRET, 0, &bytes);
        self.post(Some(&signature), &bytes, key, subject).await
    }

    /// POSTs `body` as it is to the events endpoint, with `signature` (if any) as its
    /// `RTW-Signature`.
    async fn post(
        &self,
        signature: Option<&str>,
        body: &[u8],
        key: &str,
        subject: &str,
    ) -> (u16, Value) {
        let mut headers = vec![("idempotency-key", key), ("fulcrum-subject", subject)];
        if let Some(signature) = signature {
            headers.push((SIGNATURE, signature));
        }
        self.world
            .post_vendor(TENANT, PLUGIN_ID, "/events", &headers, body)
            .await
    }

    async fn send_ok(&self, body: &Value, key: &str, subject: &str) -> Value {
        let (status, answer) = self.send(body, key, subject).await;
        assert_eq!(status, 202, "{answer}");
        answer
    }

    /// Remote Tech Work links one of its jobs to a Lever posting (`job.linked`), handled.
    async fn link(&self, rtw_job_id: &str, posting: &str, link: &str, key: &str) {
        self.send_ok(
            &json!({"type": "job.linked", "occurred_at": "2026-03-01T09:00:00Z",
                    "rtw_job_id": rtw_job_id, "lever_posting_id": posting, "link": link}),
            key,
            &format!("job:{rtw_job_id}"),
        )
        .await;
        self.settle().await;
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

    /// What the admin action run with Idempotency-Key `key` answered (it must have succeeded).
    async fn action_result(&self, key: &str) -> Value {
        self.world.action_result(key).await
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

    /// Turns the posting schedule on (it is due at once, so a fresh installation syncs without
    /// waiting a period), waits for one PUT per synced posting and for the run to finish.
    async fn sync_on_schedule(&self, postings: usize) -> Vec<Recorded> {
        let overrides = json!({"sync-postings": {"every_seconds": 3600}});
        installations::set_schedule_overrides(
            &self.world.host,
            &harness(),
            TENANT,
            PLUGIN_ID,
            &overrides,
        )
        .await
        .unwrap();
        let puts = self
            .vendor
            .wait_for(
                |r| r.method == "PUT" && r.path.starts_with(JOBS_PATH),
                postings,
                Duration::from_secs(30),
            )
            .await;
        self.settle().await;
        puts
    }

    /// Every event the host has stored, in any status.
    async fn stored_events(&self) -> i64 {
        let c = self.world.counts().await;
        c.queued + c.running + c.done + c.dead
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

    /// Enables or disables the installation through the admin rules (the schedules follow).
    async fn set_enabled(&self, enabled: bool) {
        let host = &self.world.host;
        let done = if enabled {
            installations::enable(host, &harness(), TENANT, PLUGIN_ID).await
        } else {
            installations::disable(host, &harness(), TENANT, PLUGIN_ID).await
        };
        done.unwrap();
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

/// Edits a posting in Lever as a recruiter would.
async fn edit_posting(world: &World, posting: &str, write: lever_model::PostingWrite) {
    lever_client(world)
        .update_posting(posting, &world.sandbox.default_user_id(), &write)
        .await
        .unwrap();
}

/// An `RTW-Signature` of `body` with `secret`, made `age_seconds` ago.
fn signed(secret: &str, age_seconds: i64, body: &[u8]) -> String {
    let now = lever_model::timestamp::now_millis() / 1000;
    fulcrum_signature::sign(secret.as_bytes(), now - age_seconds, body)
}

/// An `application.submitted` event to `rtw_job_id`.
fn submitted(rtw_job_id: &str, applicant: Value, occurred_at: &str) -> Value {
    json!({"type": "application.submitted", "occurred_at": occurred_at,
           "rtw_job_id": rtw_job_id, "applicant": applicant})
}

/// An `application.withdrawn` event.
fn withdrawn(rtw_job_id: &str, applicant_id: &str, occurred_at: &str) -> Value {
    json!({"type": "application.withdrawn", "occurred_at": occurred_at,
           "rtw_job_id": rtw_job_id, "applicant_id": applicant_id})
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
// ---- job sync (Lever → Remote Tech Work) ----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn job_sync_pushes_pending_jobs_once_follows_changes_and_keeps_links() {
    on_each_backend(|db| async move {
        let rtw = start(&db, json!({})).await;
        let postings = synced_postings(&rtw.world);
        assert!(
            postings.len() >= 2,
            "the seed has published public postings"
        );
        let first = postings[0].id.clone();
        // Remote Tech Work answers the first posting's PUT with the job it is linked to.
        let linked = first.clone();
        rtw.vendor.respond_with(move |r| {
            if r.path.ends_with(&linked) {
                Reply::json(
                    200,
                    json!({"rtw_job_id": "rtw-job-100", "link": "linked_existing"}),
                )
            } else {
                Reply::json(201, json!({"status": "pending"}))
            }
        });

        let puts = rtw.sync_on_schedule(postings.len()).await;
        assert_eq!(
            rtw.puts().len(),
            postings.len(),
            "one PUT per synced posting"
        );
        for posting in &postings {
            let put = puts
                .iter()
                .find(|r| r.path == format!("{JOBS_PATH}{}", posting.id))
                .unwrap_or_else(|| panic!("posting {} was not pushed", posting.id));
            assert_eq!(
                put.header("authorization"),
                Some(&*format!("Bearer {API_TOKEN}"))
            );
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
        edit_posting(
            &rtw.world,
            &second,
            lever_model::PostingWrite {
                text: Some("Principal Platform Engineer".into()),
                ..Default::default()
            },
        )
        .await;
        rtw.action("sync-postings", json!({}), "sync-after-edit")
            .await;
        let puts = rtw.puts();
        assert_eq!(puts.len(), postings.len() + 1);
        let last = puts.last().unwrap();
        assert_eq!(last.path, format!("{JOBS_PATH}{second}"));
        assert_eq!(last.json()["title"], "Principal Platform Engineer");

        // Closing a posting is sent once too, so Remote Tech Work can take the job down.
        edit_posting(
            &rtw.world,
            &second,
            lever_model::PostingWrite {
                state: Some(PostingState::Closed),
                ..Default::default()
            },
        )
        .await;
        rtw.action("sync-postings", json!({}), "sync-after-close")
            .await;
        let puts = rtw.puts();
        assert_eq!(puts.len(), postings.len() + 2);
        assert_eq!(puts.last().unwrap().path, format!("{JOBS_PATH}{second}"));
        assert_eq!(puts.last().unwrap().json()["lever_state"], "closed");
        rtw.action("sync-postings", json!({}), "sync-after-close-again")
            .await;
        assert_eq!(
            rtw.puts().len(),
            postings.len() + 2,
            "the closure is sent once"
        );

        // Remote Tech Work links the second posting to a new job with a signed event.
        rtw.link("rtw-job-200", &second, "created_new", "link-200")
            .await;
        let link = rtw.state(&format!("job:link:{second}")).await.unwrap();
        assert_eq!(link["rtw_job_id"], "rtw-job-200");
        assert_eq!(link["link"], "created_new");
        assert_eq!(
            rtw.state("job:rtw:rtw-job-200").await,
            Some(Value::String(second.clone()))
        );
        // The first link is untouched.
        assert_eq!(
            rtw.state(&format!("job:link:{first}")).await.unwrap()["rtw_job_id"],
            "rtw-job-100"
        );
        assert!(rtw.dead_letters().await.is_empty());
        rtw.stop().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disabling_stops_traffic_both_ways_and_re_enabling_resumes_without_re_sending() {
    on_each_backend(|db| async move {
        let rtw = start(&db, json!({})).await;
        let postings = synced_postings(&rtw.world);
        assert!(
            postings.len() >= 2,
            "the seed has published public postings"
        );
        let (first, second) = (postings[0].id.clone(), postings[1].id.clone());
        rtw.sync_on_schedule(postings.len()).await;
        assert_eq!(rtw.puts().len(), postings.len());
        rtw.link("rtw-job-100", &first, "linked_existing", "link-100")
            .await;

        // Disabled: the schedule is gone, the ingress refuses, actions are refused.
        rtw.set_enabled(false).await;
        assert!(
            rtw.world
                .store
                .list_schedules(TENANT)
                .await
                .unwrap()
                .iter()
                .all(|s| s.plugin_id != PLUGIN_ID),
            "no schedule runs while disabled"
        );
        let stored = rtw.stored_events().await;
        let link_300 = json!({"type": "job.linked", "occurred_at": "2026-03-01T10:00:00Z",
                              "rtw_job_id": "rtw-job-300", "lever_posting_id": second,
                              "link": "created_new"});
        let (status, answer) = rtw.send(&link_300, "link-300", "job:rtw-job-300").await;
        // A disabled installation is answered like a bad signature (no installation leaks).
        assert_eq!(status, 401, "{answer}");
        let (status, _) = rtw
            .world
            .run_action(
                TENANT,
                PLUGIN_ID,
                "sync-postings",
                json!({}),
                "sync-disabled",
            )
            .await;
        assert_eq!(status, 409);
        assert_eq!(
            rtw.stored_events().await,
            stored,
            "nothing stored while disabled"
        );
        assert!(rtw.state(&format!("job:link:{second}")).await.is_none());
        // A change in Lever while disabled is not pushed.
        edit_posting(
            &rtw.world,
            &second,
            lever_model::PostingWrite {
                text: Some("Edited While Disabled".into()),
                ..Default::default()
            },
        )
        .await;
        assert_eq!(
            rtw.puts().len(),
            postings.len(),
            "nothing pushed while disabled"
        );

        // Re-enabled: the schedule fires at once and sends only what changed, nothing
        // already sent.
        let before = rtw.world.events_of_kind("schedule").await.len();
        rtw.set_enabled(true).await;
        let started = Instant::now();
        while rtw.world.events_of_kind("schedule").await.len() == before {
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "the schedule did not fire after re-enabling"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        rtw.settle().await;
        let puts = rtw.puts();
        assert_eq!(puts.len(), postings.len() + 1, "nothing re-sent: {puts:?}");
        assert_eq!(puts.last().unwrap().path, format!("{JOBS_PATH}{second}"));
        assert_eq!(
            puts.last().unwrap().json()["title"],
            "Edited While Disabled"
        );
        // The link made before is where it was.
        assert_eq!(
            rtw.state(&format!("job:link:{first}")).await.unwrap()["rtw_job_id"],
            "rtw-job-100"
        );
        // Remote Tech Work's retry of the refused request is taken now.
        rtw.send_ok(&link_300, "link-300", "job:rtw-job-300").await;
        rtw.settle().await;
        assert_eq!(
            rtw.state("job:rtw:rtw-job-300").await,
            Some(Value::String(second.clone()))
        );
        assert!(rtw.dead_letters().await.is_empty());
        rtw.stop().await;
    })
    .await;
}

// ---- applicants (Remote Tech Work → Lever) ----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn automatic_creation_makes_the_opportunity_as_soon_as_the_application_arrives() {
    on_each_backend(|db| async move {
        let applied = start_and_apply(&db, json!({"opportunity_creation": "automatic"})).await;
        let (rtw, posting) = (&applied.rtw, &applied.posting);
        // Created by the application itself: no admin action, no vendor request.
        let o = applied.opportunity();
        assert!(o.archive_state().is_none());
        assert!(rtw.world.events_of_kind("action").await.is_empty());
        // Nothing kept waiting; the link applicant → opportunity is kept.
        assert!(rtw.state(&format!("pending:a-1:{posting}")).await.is_none());
        let record = rtw
            .state(&format!("application:a-1:{posting}"))
            .await
            .unwrap();
        assert_eq!(record["opportunity_id"], o.id.as_str());
        assert_eq!(record["status"], "in_lever");
        assert!(rtw.dead_letters().await.is_empty());
        applied.rtw.stop().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_demand_keeps_applicants_until_an_admin_or_the_vendor_asks() {
    on_each_backend(|db| async move {
        let rtw = start(&db, json!({"opportunity_creation": "on-demand"})).await;
        let posting = synced_postings(&rtw.world)[0].id.clone();

        // The vendor names the Lever posting itself: no link needed.
        let apply = |id: &str, name: &str, email: &str| {
            json!({"type": "application.submitted", "occurred_at": "2026-03-02T10:15:00Z",
                   "rtw_job_id": "rtw-job-7", "lever_posting_id": posting,
                   "applicant": applicant(id, name, email)})
        };
        rtw.send_ok(
            &apply("a-10", "Grace Hopper", "grace@example.com"),
            "apply-10",
            "applicant:a-10",
        )
        .await;
        rtw.send_ok(
            &apply("a-11", "Анна Петрова", "anna@example.com"),
            "apply-11",
            "applicant:a-11",
        )
        .await;
        rtw.settle().await;
        assert!(
            rtw.world.opportunities_with_email("grace@example.com").is_empty(),
            "kept, not created"
        );
        assert!(rtw.world.opportunities_with_email("anna@example.com").is_empty());
        let pending = rtw.state(&format!("pending:a-10:{posting}")).await.unwrap();
        assert_eq!(pending["full_name"], "Grace Hopper");
        assert_eq!(pending["applied_on"], "2026-03-02");

        // The admin's list of waiting applicants (an action, as the console will call it).
        rtw.action("pending-applicants", json!({"limit": 10}), "pending-1")
            .await;
        assert!(rtw.dead_letters().await.is_empty());
        let listed = rtw.action_result("pending-1").await;
        let mut waiting: Vec<&str> = listed["pending"]
            .as_array()
            .unwrap_or_else(|| panic!("{listed}"))
            .iter()
            .map(|p| p["applicant_id"].as_str().unwrap())
            .collect();
        waiting.sort();
        assert_eq!(waiting, ["a-10", "a-11"], "{listed}");

        // An admin asks (admin API action): created.
        rtw.action(
            "create-opportunity",
            json!({"applicant_id": "a-10"}),
            "create-a-10",
        )
        .await;
        let grace = opportunity_of(&rtw.world, "grace@example.com");
        assert_eq!(grace.stage_id(), Some("applicant-new"));
        let created = rtw.action_result("create-a-10").await;
        assert_eq!(created["outcome"], "created", "{created}");
        assert_eq!(created["opportunity_id"], grace.id.as_str());
        assert_eq!(created["lever_posting_id"], posting.as_str());
        let (name, _) = resume_of(&rtw.world, &grace.id);
        assert_eq!(name, "Grace Hopper - Europass CV.pdf");
        assert!(rtw.state(&format!("pending:a-10:{posting}")).await.is_none());
        // Asking again does not duplicate.
        rtw.action(
            "create-opportunity",
            json!({"applicant_id": "a-10", "lever_posting_id": posting}),
            "create-a-10-again",
        )
        .await;
        assert_eq!(opportunity_of(&rtw.world, "grace@example.com").id, grace.id);
        assert_eq!(
            rtw.action_result("create-a-10-again").await["outcome"],
            "existing"
        );

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
        assert!(rtw.state(&format!("pending:a-11:{posting}")).await.is_none());

        // Nobody is waiting any more.
        rtw.action("pending-applicants", json!({}), "pending-2").await;
        assert_eq!(rtw.action_result("pending-2").await["pending"], json!([]));
        assert!(rtw.dead_letters().await.is_empty());
        rtw.stop().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_demand_does_not_create_a_withdrawn_applicant() {
    on_each_backend(|db| async move {
        let rtw = start(&db, json!({"opportunity_creation": "on-demand"})).await;
        let posting = synced_postings(&rtw.world)[0].id.clone();
        rtw.send_ok(
            &json!({"type": "application.submitted", "occurred_at": "2026-03-02T10:15:00Z",
                    "rtw_job_id": "rtw-job-7", "lever_posting_id": posting,
                    "applicant": applicant("a-12", "Katherine Johnson", "katherine@example.com")}),
            "apply-12",
            "applicant:a-12",
        )
        .await;
        rtw.send_ok(
            &json!({"type": "application.withdrawn", "occurred_at": "2026-03-04T08:00:00Z",
                    "rtw_job_id": "rtw-job-7", "lever_posting_id": posting, "applicant_id": "a-12"}),
            "withdraw-12",
            "applicant:a-12",
        )
        .await;
        rtw.settle().await;
        rtw.action(
            "create-opportunity",
            json!({"applicant_id": "a-12", "lever_posting_id": posting}),
            "create-a-12",
        )
        .await;
        assert!(
            rtw.world
                .opportunities_with_email("katherine@example.com")
                .is_empty()
        );
        let dead = rtw.dead_letters().await;
        assert_eq!(dead.len(), 1);
        assert!(
            dead[0]
                .last_error
                .as_deref()
                .unwrap_or_default()
                .contains("withdrew"),
            "{:?}",
            dead[0].last_error
        );
        rtw.stop().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_setup_resolves_the_stage_and_names_the_stages_there_are_when_none_matches() {
    on_each_backend(|db| async move {
        let rtw = start(&db, json!({})).await;
        // The defaults resolve in the sandbox: "New applicant" (no "Applied") and "Withdrew".
        rtw.action("check-setup", json!({}), "check-ok").await;
        let check = rtw.action_result("check-ok").await;
        assert_eq!(check["ok"], true, "{check}");
        assert_eq!(check["applied_stage"]["text"], "New applicant", "{check}");
        assert_eq!(
            check["withdrawal_archive_reason"]["text"], "Withdrew",
            "{check}"
        );

        // A stage that does not exist: check-setup names the stages there are.
        let config = json!({"applied_stage": ["Applied"]});
        installations::configure(&rtw.world.host, &harness(), TENANT, PLUGIN_ID, &config)
            .await
            .unwrap();
        rtw.action("check-setup", json!({}), "check-1").await;
        let dead = rtw.dead_letters().await;
        assert_eq!(dead.len(), 1);
        let error = dead
            .iter()
            .map(|e| e.last_error.clone().unwrap_or_default())
            .find(|e| e.contains("setup problems"))
            .unwrap();
        assert!(error.contains("New applicant"), "{error}");
        rtw.stop().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn created_opportunity_has_the_applicants_details_and_is_on_the_linked_posting() {
    on_each_backend(|db| async move {
        let applied = start_and_apply(&db, json!({})).await;
        let o = applied.opportunity();
        assert_eq!(o.name.as_deref(), Some(ZOE));
        assert_eq!(o.emails, [ZOE_EMAIL]);
        assert_eq!(o.location.as_deref(), Some("Portugal"));
        assert!(
            o.links
                .contains(&"https://remotetech.work/talent/a-1".to_owned()),
            "{:?}",
            o.links
        );
        assert_eq!(o.sources, ["Remote Tech Work"]);
        assert_eq!(o.origin, Some(lever_model::Origin::Applied));
        for tag in ["Senior", "Backend Developer", "Platform Engineer"] {
            assert!(o.tags.contains(&tag.to_owned()), "{tag} in {:?}", o.tags);
        }
        // The sandbox has no "Applied" stage: the next configured name, "New applicant".
        assert_eq!(o.stage_id(), Some("applicant-new"));
        assert!(o.archive_state().is_none());
        // Applied to the posting Remote Tech Work linked its job to.
        let applied_to: Vec<String> = applied.rtw.world.sandbox.read(|db| {
            db.applications(&o.id)
                .iter()
                .filter_map(|a| a.posting.clone())
                .collect()
        });
        assert_eq!(applied_to, std::slice::from_ref(&applied.posting));
        applied.rtw.stop().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn europass_cv_is_the_resume_with_every_section_and_the_unicode_name() {
    on_each_backend(|db| async move {
        let applied = start_and_apply(&db, json!({})).await;
        let o = applied.opportunity();
        let (name, pdf) = resume_of(&applied.rtw.world, &o.id);
        assert_eq!(name, format!("{ZOE} - Europass CV.pdf"));
        assert!(pdf.starts_with(b"%PDF-"));
        let text = pdf_text(&pdf);
        for expected in [
            ZOE,
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
            assert!(
                contains(&text, expected),
                "{expected:?} missing from the CV: {text}"
            );
        }
        assert!(
            !contains(&text, "USD 65/hour"),
            "the price tag is off by default: {text}"
        );
        applied.rtw.stop().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn europass_cv_shows_the_price_tag_when_include_price_tag_is_on() {
    on_each_backend(|db| async move {
        let applied = start_and_apply(&db, json!({"include_price_tag": true})).await;
        let (_, pdf) = resume_of(&applied.rtw.world, &applied.opportunity().id);
        let text = pdf_text(&pdf);
        assert!(contains(&text, "USD 65/hour"), "{text}");
        assert!(contains(&text, ZOE), "{text}");
        applied.rtw.stop().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn withdrawal_archives_with_the_withdrawal_reason_and_a_dated_note() {
    on_each_backend(|db| async move {
        let applied = start_and_apply(&db, json!({})).await;
        let o = applied.opportunity();
        // 23:30 at UTC-2 is the next day in UTC: the note's date is UTC's.
        applied
            .withdraw("2026-03-05T23:30:00-02:00", "withdraw-1")
            .await;
        let archived = applied.opportunity();
        assert_eq!(archived.id, o.id);
        let state = archived.archive_state().expect("archived");
        let reason = applied.rtw.world.sandbox.read(|db| {
            db.archive_reason(state.reason.as_deref().expect("a reason"))
                .unwrap()
                .text
                .clone()
        });
        assert_eq!(reason, "Withdrew");
        let notes = notes_of(&applied.rtw.world, &o.id);
        assert_eq!(
            notes,
            [
                "Archived automatically: the candidate withdrew their application on Remote Tech Work on 2026-03-06."
            ]
        );
        let record = applied
            .rtw
            .state(&format!("application:a-1:{}", applied.posting))
            .await
            .unwrap();
        assert_eq!(record["status"], "withdrawn", "{record}");
        assert!(applied.rtw.dead_letters().await.is_empty());
        applied.rtw.stop().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn re_application_unarchives_the_opportunity_with_a_note_and_no_second_one() {
    on_each_backend(|db| async move {
        let applied = start_and_apply(&db, json!({})).await;
        let o = applied.opportunity();
        applied
            .withdraw("2026-03-05T23:30:00-02:00", "withdraw-1")
            .await;
        assert!(applied.opportunity().archive_state().is_some());

        let again = submitted(
            JOB,
            applicant("a-1", ZOE, ZOE_EMAIL),
            "2026-03-09T08:00:00Z",
        );
        applied
            .rtw
            .send_ok(&again, "apply-1-second-time", "applicant:a-1")
            .await;
        applied.rtw.settle().await;
        // One opportunity (`opportunity` asserts it), the same, unarchived.
        let back = applied.opportunity();
        assert_eq!(back.id, o.id);
        assert!(back.archive_state().is_none(), "unarchived");
        let notes = notes_of(&applied.rtw.world, &o.id);
        assert_eq!(notes.len(), 2, "{notes:?}");
        assert!(
            notes.contains(
                &"Unarchived automatically: the candidate applied again on Remote Tech Work on 2026-03-09."
                    .to_owned()
            ),
            "{notes:?}"
        );
        // Still the one resume: nothing re-uploaded.
        resume_of(&applied.rtw.world, &o.id);
        assert!(applied.rtw.dead_letters().await.is_empty());
        applied.rtw.stop().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_vendor_payloads_are_rejected_with_a_clear_error_and_nothing_stored() {
    on_each_backend(|db| async move {
        let rtw = start(&db, json!({})).await;
        let posting = synced_postings(&rtw.world)[0].id.clone();
        rtw.link(JOB, &posting, "created_new", "link-1").await;
        let stored = rtw.stored_events().await;
        let opportunities = rtw.world.sandbox.read(|db| db.opportunities().count());

        // A good application, refused for its signature: none, a wrong one, a stale one.
        let body = submitted(
            JOB,
            applicant("a-1", ZOE, ZOE_EMAIL),
            "2026-03-02T10:15:00Z",
        );
        let bytes = body.to_string().into_bytes();
        let (key, subject) = ("apply-1", "applicant:a-1");
        let (status, answer) = rtw.post(None, &bytes, key, subject).await;
        assert_eq!(status, 401, "{answer}");
        // The host's one answer to any authentication failure (the plugin's reason is logged).
        assert!(
            answer.to_string().contains("could not be authenticated"),
            "{answer}"
        );
        let forged = signed("not-the-secret", 0, &bytes);
        let (status, answer) = rtw.post(Some(&forged), &bytes, key, subject).await;
        assert_eq!(status, 401, "{answer}");
        let stale = signed(WEBHOOK_SECRET, 600, &bytes);
        let (status, answer) = rtw.post(Some(&stale), &bytes, key, subject).await;
        assert_eq!(status, 401, "{answer}");

        // Well signed but not JSON.
        let garbage = b"{\"type\": \"application.submitted\", ";
        let signature = signed(WEBHOOK_SECRET, 0, garbage);
        let (status, answer) = rtw
            .post(Some(&signature), garbage, "garbage", subject)
            .await;
        assert_eq!(status, 400, "{answer}");
        let message = answer["error"]["message"].as_str().unwrap_or_default();
        assert!(message.contains("not a JSON object"), "{answer}");

        // Well signed JSON with a field missing: the answer names it.
        let (status, answer) = rtw
            .send(
                &submitted(
                    JOB,
                    json!({"id": "a-9", "full_name": "No Mail"}),
                    "2026-03-02T10:15:00Z",
                ),
                "bad-shape",
                "applicant:a-9",
            )
            .await;
        assert_eq!(status, 422, "{answer}");
        assert!(answer.to_string().contains("applicant.email"), "{answer}");
        let (status, answer) = rtw
            .send(
                &json!({"occurred_at": "2026-03-02T10:15:00Z", "rtw_job_id": JOB,
                        "applicant": applicant("a-9", "No Type", "notype@example.com")}),
                "no-type",
                "applicant:a-9",
            )
            .await;
        assert_eq!(status, 422, "{answer}");
        let message = answer["error"]["message"].as_str().unwrap_or_default();
        assert!(message.starts_with("type is required"), "{answer}");

        rtw.settle().await;
        assert_eq!(
            rtw.stored_events().await,
            stored,
            "nothing stored for refused requests"
        );
        assert_eq!(
            rtw.world.sandbox.read(|db| db.opportunities().count()),
            opportunities,
            "nothing written to Lever"
        );
        assert!(rtw.world.opportunities_with_email(ZOE_EMAIL).is_empty());
        assert!(
            rtw.state(&format!("application:a-1:{posting}"))
                .await
                .is_none()
        );

        // The same application, signed right, goes through: only the signature was wrong.
        rtw.send_ok(&body, "apply-1", "applicant:a-1").await;
        rtw.settle().await;
        opportunity_of(&rtw.world, ZOE_EMAIL);
        rtw.stop().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replayed_vendor_events_make_no_duplicate_in_lever() {
    on_each_backend(|db| async move {
        let applied = start_and_apply(&db, json!({})).await;
        let rtw = &applied.rtw;
        let o = applied.opportunity();
        let stored = rtw.stored_events().await;

        // The same delivery again (same Idempotency-Key): acknowledged, not handled again.
        let answer = rtw
            .send_ok(&applied.application, "apply-1", "applicant:a-1")
            .await;
        assert_eq!(answer["duplicate"], true, "{answer}");
        assert_eq!(rtw.stored_events().await, stored, "not stored twice");

        // The same signed application under a new key: the host's replay guard answers it as
        // the first delivery (the body is what the signature covers).
        let answer = rtw
            .send_ok(&applied.application, "apply-1-again", "applicant:a-1")
            .await;
        assert_eq!(answer["duplicate"], true, "{answer}");
        rtw.settle().await;
        assert_eq!(applied.opportunity().id, o.id);
        resume_of(&rtw.world, &o.id);
        assert!(notes_of(&rtw.world, &o.id).is_empty());

        // A withdrawal delivered twice: archived once, one note.
        applied.withdraw("2026-03-05T08:00:00Z", "withdraw-1").await;
        applied
            .withdraw("2026-03-05T08:00:00Z", "withdraw-1-again")
            .await;
        assert!(applied.opportunity().archive_state().is_some());
        assert_eq!(notes_of(&rtw.world, &o.id).len(), 1);
        assert!(rtw.dead_letters().await.is_empty());
        applied.rtw.stop().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn application_to_an_unlinked_job_is_a_dead_letter_that_says_so() {
    on_each_backend(|db| async move {
        let rtw = start(&db, json!({})).await;
        rtw.send_ok(
            &submitted(
                "rtw-job-unlinked",
                applicant("a-2", "Ana Lima", "ana@example.com"),
                "2026-03-09T08:00:00Z",
            ),
            "apply-unlinked",
            "applicant:a-2",
        )
        .await;
        rtw.settle().await;
        let dead = rtw.dead_letters().await;
        assert_eq!(dead.len(), 1);
        assert!(
            dead[0]
                .last_error
                .as_deref()
                .unwrap_or_default()
                .contains("rtw-job-unlinked is not linked"),
            "{:?}",
            dead[0].last_error
        );
        assert!(
            rtw.world
                .opportunities_with_email("ana@example.com")
                .is_empty()
        );
        rtw.stop().await;
    })
    .await;
}
