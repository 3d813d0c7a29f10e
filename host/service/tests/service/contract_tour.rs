//! Contract 0.2.0 end to end: the `contract-tour` fixture calls every Lever import 0.2.0
//! added, through the host (admin API → runtime → Lever client) against the sandbox over
//! HTTP, on SQLite and PostgreSQL. What each import needs to refuse (no permission, unlisted
//! acting user, confidential data, a write during a vendor query) is the runtime's tests'.

use fulcrum_store::test_support::on_each_backend;
use fulcrum_testkit::*;
use lever_sandbox::{Sandbox, SeedSpec};
use serde_json::{Value, json};

const TOUR: &str = "contract-tour";
const WAIT: std::time::Duration = std::time::Duration::from_secs(30);

const READS: &[&str] = &[
    "list-postings",
    "get-posting",
    "find-opportunities",
    "list-applications",
    "get-application",
    "get-contact",
    "get-note",
    "get-file",
    "get-resume",
    "list-tags",
    "list-sources",
    "list-users",
    "get-user",
    "list-interviews",
    "get-interview",
    "list-panels",
    "get-panel",
    "list-feedback",
    "get-feedback",
    "list-offers",
    "list-referrals",
    "get-referral",
    "list-requisitions",
    "get-requisition",
    "list-requisition-fields",
    "get-requisition-field",
];

const WRITES: &[&str] = &[
    "create-posting",
    "update-posting",
    "apply-to-posting",
    "update-contact",
    "add-note",
    "delete-note",
    "add-tags",
    "create-user",
    "create-requisition",
    "update-requisition",
    "create-requisition-field",
    "update-requisition-field",
];

/// Ids of seeded objects the reads can find: an opportunity with notes, files, a résumé and
/// an application, one with feedback and an offer, a referred one, and the rest.
fn tour_input(sandbox: &Sandbox) -> Value {
    sandbox.read(|db| {
        let hiring = db.hiring();
        let rich = db
            .opportunities()
            .find(|o| {
                !db.notes(&o.id).is_empty()
                    && !db.files(&o.id).is_empty()
                    && !db.resumes(&o.id).is_empty()
                    && !db.applications(&o.id).is_empty()
            })
            .expect("the seed has an opportunity with notes, files, a résumé, an application");
        let hired = db
            .opportunities()
            .find(|o| !hiring.feedback(&o.id).is_empty() && !hiring.offers(&o.id).is_empty())
            .expect("the seed has an opportunity with feedback and an offer");
        let referred = db
            .opportunities()
            .find(|o| !hiring.referrals(&o.id).is_empty())
            .expect("the seed has a referral");
        let panel = &hiring.panels(&hired.id)[0];
        let requisition = db
            .requisition_store()
            .requisitions()
            .next()
            .expect("requisitions");
        let (_, field) = db
            .requisition_store()
            .fields()
            .next()
            .expect("requisition fields");
        json!({
            "opportunity_id": rich.id,
            "contact_id": rich.contact_id().expect("a contact"),
            "posting_id": db.postings().next().expect("postings").id,
            "application_id": db.applications(&rich.id)[0].id,
            "note_id": db.notes(&rich.id)[0].id,
            "file_id": db.files(&rich.id)[0].id,
            "resume_id": db.resumes(&rich.id)[0].id,
            "user_id": db.users().next().expect("users").id,
            "panel_id": panel.id,
            "interview_id": panel.interviews[0].id,
            "hiring_opportunity_id": hired.id,
            "feedback_id": hiring.feedback(&hired.id)[0].id,
            "referral_opportunity_id": referred.id,
            "referral_id": hiring.referrals(&referred.id)[0].id,
            "requisition_id": requisition.id,
            "requisition_field_id": field.id,
        })
    })
}

/// Every function in `names` reported `{"ok": ...}`; returns the report.
fn all_ok(report: &Value, names: &[&str]) {
    for name in names {
        assert!(
            report[name].get("ok").is_some(),
            "{name} did not succeed: {}\nwhole report: {report:#}",
            report[name]
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_import_contract_0_2_0_added_works_against_the_sandbox() {
    on_each_backend(|db| async move {
        let mut options = Options::new();
        options.sandbox.seed = SeedSpec::new(7, 6, 240);
        let world = World::start_with(&db, options).await;
        let plugin = world
            .install_connector(fulcrum_plugin_artifacts::CONTRACT_TOUR)
            .await;
        assert_eq!(plugin, TOUR);
        world.enable_connector(TENANT, TOUR, json!({}), &[]).await;
        let input = tour_input(&world.sandbox);

        let (status, body) = world
            .run_action(TENANT, TOUR, "tour-reads", input.clone(), "tour-reads")
            .await;
        assert_eq!(status, 202, "{body}");
        world.settle(WAIT).await;
        let reads = world.action_result("tour-reads").await;
        all_ok(&reads, READS);
        assert!(reads["list-interviews"]["ok"].as_u64().unwrap() >= 1);
        assert!(reads["list-offers"]["ok"].as_u64().unwrap() >= 1);

        let mut writes_input = input.clone();
        writes_input["suffix"] = json!(db.backend());
        let (status, body) = world
            .run_action(TENANT, TOUR, "tour-writes", writes_input, "tour-writes")
            .await;
        assert_eq!(status, 202, "{body}");
        world.settle(WAIT).await;
        let writes = world.action_result("tour-writes").await;
        all_ok(&writes, WRITES);

        // Lever shows what the writes did.
        let posting_id = writes["create-posting"]["ok"].as_str().unwrap().to_owned();
        let requisition_id = writes["create-requisition"]["ok"]
            .as_str()
            .unwrap()
            .to_owned();
        let opportunity_id = input["opportunity_id"].as_str().unwrap().to_owned();
        let contact_id = input["contact_id"].as_str().unwrap().to_owned();
        world.sandbox.read(|db| {
            let posting = db.posting(&posting_id).expect("the created posting");
            assert!(
                posting.text.starts_with("Senior Tour Engineer"),
                "{}",
                posting.text
            );
            let applied = db
                .opportunities()
                .filter(|o| o.emails.iter().any(|e| e.starts_with("tour.")))
                .count();
            assert_eq!(applied, 1, "one application through the apply form");
            let contact = db.contact(&contact_id).unwrap();
            assert!(
                contact
                    .headline
                    .as_deref()
                    .unwrap_or("")
                    .starts_with("Toured")
            );
            assert!(
                db.notes(&opportunity_id)
                    .iter()
                    .all(|n| !n.value().starts_with("Tour note")),
                "the tour's note was deleted"
            );
            let o = db.opportunity(&opportunity_id).unwrap();
            assert!(o.tags.iter().any(|t| t.starts_with("toured-")));
            assert!(db.users().any(|u| u.email.starts_with("recruiter.")));
            let requisition = db.requisition_store().requisition(&requisition_id).unwrap();
            assert_eq!(requisition.name, "Tour role");
        });
        world.stop().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn confidential_listings_need_the_connections_confidential_access() {
    on_each_backend(|db| async move {
        let mut options = Options::new();
        options.sandbox.seed = SeedSpec::new(7, 24, 0);
        let world = World::start_with(&db, options).await;
        world
            .install_connector(fulcrum_plugin_artifacts::CONTRACT_TOUR)
            .await;
        world.enable_connector(TENANT, TOUR, json!({}), &[]).await;
        let confidential = world.sandbox.read(|db| {
            db.postings()
                .filter(|p| p.confidentiality == lever_model::Confidentiality::Confidential)
                .count()
        });
        assert!(confidential > 0, "the seed has confidential postings");

        // A key made without "Allow access to confidential data": refused by the host.
        world.connect_own_key_with(TENANT, TOUR, false).await;
        let before = world.sandbox.stats().total_requests();
        let (status, body) = world
            .run_action(TENANT, TOUR, "confidential-postings", json!({}), "without")
            .await;
        assert_eq!(status, 202, "{body}");
        world.settle(WAIT).await;
        let refused = world.action_result("without").await;
        assert_eq!(refused["list-postings"]["error"], "forbidden", "{refused}");
        let reason = refused["list-postings"]["detail"].as_str().unwrap();
        assert!(reason.contains("confidential"), "{reason}");
        assert_eq!(
            world.sandbox.stats().total_requests(),
            before,
            "refused before reaching Lever"
        );

        // Reconnected with a key that has it: the confidential postings are listed.
        world.connect_own_key_with(TENANT, TOUR, true).await;
        let (status, body) = world
            .run_action(TENANT, TOUR, "confidential-postings", json!({}), "with")
            .await;
        assert_eq!(status, 202, "{body}");
        world.settle(WAIT).await;
        let listed = world.action_result("with").await;
        assert_eq!(
            listed["list-postings"]["ok"],
            json!(confidential),
            "{listed}"
        );
        world.stop().await;
    })
    .await;
}
