//! Hiring data over HTTP: interviews, panels, feedback, offers and referrals — raw shapes,
//! paging, 404s, permissions, confidentiality (and its access error), and the admin API's
//! interview scheduling with its webhooks.

use crate::common::*;
use lever_model::{
    Confidentiality, Opportunity, Origin, Permission, WebhookDelivery, WebhookEventType,
};
use lever_sandbox::{KeySpec, Sandbox, SeedSpec};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};

const INTERVIEW_KEYS: &[&str] = &[
    "id",
    "panel",
    "subject",
    "note",
    "interviewers",
    "timezone",
    "createdAt",
    "date",
    "duration",
    "location",
    "feedbackTemplate",
    "feedbackForms",
    "feedbackReminder",
    "user",
    "stage",
    "canceledAt",
    "postings",
    "gcalEventUrl",
];
const PANEL_KEYS: &[&str] = &[
    "id",
    "applications",
    "canceledAt",
    "createdAt",
    "start",
    "end",
    "timezone",
    "feedbackReminder",
    "user",
    "stage",
    "note",
    "externallyManaged",
    "externalUrl",
    "interviews",
];
const FEEDBACK_KEYS: &[&str] = &[
    "id",
    "type",
    "text",
    "instructions",
    "fields",
    "baseTemplateId",
    "interview",
    "panel",
    "user",
    "createdAt",
    "completedAt",
    "updatedAt",
    "deletedAt",
];
const FIELD_KEYS: &[&str] = &["type", "text", "description", "required", "value"];
const OFFER_KEYS: &[&str] = &[
    "id",
    "createdAt",
    "status",
    "creator",
    "fields",
    "sentDocument",
    "signedDocument",
];
const REFERRAL_KEYS: &[&str] = &[
    "id",
    "type",
    "text",
    "instructions",
    "fields",
    "baseTemplateId",
    "user",
    "referrer",
    "stage",
    "createdAt",
    "completedAt",
];

/// Non-confidential seeded opportunities: one past the on-site stage (two panels), one at
/// the offer stage, one referred, and one that never got to the phone interview.
struct Picks {
    onsite: String,
    offer: String,
    referred: String,
    empty: String,
    confidential: String,
}

fn picks(sb: &Sandbox) -> Picks {
    sb.read(|db| {
        let open: Vec<&Opportunity> = db
            .opportunities()
            .filter(|o| o.confidentiality == Confidentiality::NonConfidential)
            .collect();
        let reached = |o: &Opportunity, i: i64| {
            o.stage_changes
                .iter()
                .any(|c| c.to_stage_index.is_some_and(|x| x >= i))
        };
        let find = |f: &dyn Fn(&Opportunity) -> bool| {
            open.iter()
                .find(|&&o| f(o))
                .map(|o| o.id.clone())
                .expect("the demo seed has such an opportunity")
        };
        Picks {
            onsite: find(&|o| reached(o, 6)),
            offer: find(&|o| o.stage_id() == Some("offer")),
            referred: find(&|o| o.origin == Some(Origin::Referred)),
            empty: find(&|o| {
                !reached(o, 5) && o.origin != Some(Origin::Referred) && !reached(o, 8)
            }),
            confidential: db
                .opportunities()
                .find(|o| o.confidentiality == Confidentiality::Confidential)
                .map(|o| o.id.clone())
                .expect("the demo seed has a confidential opportunity"),
        }
    })
}

fn data(r: &Reply) -> &Vec<Value> {
    assert_eq!(r.status, 200, "{}", r.json);
    r.json["data"].as_array().expect("data is a list")
}

#[tokio::test]
async fn hiring_objects_have_lever_shapes() {
    let sb = start(SeedSpec::demo()).await;
    let p = picks(&sb);
    let api = Api::new(&sb, &sb.demo_api_key());

    let r = api
        .get(&format!("/opportunities/{}/panels", p.onsite))
        .await;
    let panels = data(&r).clone();
    assert!(panels.len() >= 2, "{}", r.json);
    assert_eq!(r.json["hasNext"], false);
    for panel in &panels {
        assert_keys(panel, PANEL_KEYS);
        let interviews = panel["interviews"].as_array().unwrap();
        assert!((1..=3).contains(&interviews.len()));
        for i in interviews {
            assert_keys(i, INTERVIEW_KEYS);
            assert_eq!(i["panel"], panel["id"]);
        }
    }
    let one = api
        .get(&format!(
            "/opportunities/{}/panels/{}",
            p.onsite,
            panels[0]["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(one.json["data"], panels[0]);

    let r = api
        .get(&format!("/opportunities/{}/interviews", p.onsite))
        .await;
    let interviews = data(&r).clone();
    let nested: usize = panels
        .iter()
        .map(|p| p["interviews"].as_array().unwrap().len())
        .sum();
    assert_eq!(interviews.len(), nested);
    let i = &interviews[0];
    assert_keys(i, INTERVIEW_KEYS);
    assert_keys(
        &i["interviewers"][0],
        &["id", "name", "email", "feedbackTemplate"],
    );
    assert!(i["date"].is_i64() && i["duration"].is_u64() && i["canceledAt"].is_null());
    let one = api
        .get(&format!(
            "/opportunities/{}/interviews/{}",
            p.onsite,
            i["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(&one.json["data"], i);

    let r = api
        .get(&format!("/opportunities/{}/feedback", p.onsite))
        .await;
    let forms = data(&r).clone();
    assert!(!forms.is_empty());
    for f in &forms {
        assert_keys(f, FEEDBACK_KEYS);
        assert_eq!(f["type"], "interview");
        let fields = f["fields"].as_array().unwrap();
        fields.iter().for_each(|x| assert_keys(x, FIELD_KEYS));
        assert_eq!(
            fields
                .iter()
                .filter(|x| x["type"] == "score-system")
                .count(),
            1,
            "exactly one score field: {f}"
        );
        // each form belongs to one of the listed interviews, which lists it back
        let owner = interviews
            .iter()
            .find(|i| i["id"] == f["interview"])
            .unwrap();
        assert!(
            owner["feedbackForms"]
                .as_array()
                .unwrap()
                .contains(&f["id"])
        );
    }
    let one = api
        .get(&format!(
            "/opportunities/{}/feedback/{}",
            p.onsite,
            forms[0]["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(one.json["data"], forms[0]);

    let r = api.get(&format!("/opportunities/{}/offers", p.offer)).await;
    let offers = data(&r).clone();
    assert_eq!(offers.len(), 1);
    let o = &offers[0];
    assert_keys(o, OFFER_KEYS);
    assert!(o["creator"].is_string());
    for f in o["fields"].as_array().unwrap() {
        assert_keys(f, &["text", "identifier", "value"]);
    }
    assert!(
        o["fields"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["identifier"] == "salary")
    );
    let status = o["status"].as_str().unwrap();
    assert!(
        lever_model::OfferStatus::parse(status).is_some(),
        "{status}"
    );
    if status == "signed" {
        assert_keys(
            &o["signedDocument"],
            &["fileName", "uploadedAt", "downloadUrl"],
        );
    }
    let expanded = api
        .get(&format!("/opportunities/{}/offers?expand=creator", p.offer))
        .await;
    let creator = &data(&expanded)[0]["creator"];
    assert_eq!(creator["id"], o["creator"]);
    assert_keys(creator, &["id", "name", "email", "accessRole"]);

    let r = api
        .get(&format!("/opportunities/{}/referrals", p.referred))
        .await;
    let referrals = data(&r).clone();
    assert_eq!(referrals.len(), 1);
    let rf = &referrals[0];
    assert_keys(rf, REFERRAL_KEYS);
    assert_eq!(rf["type"], "referral");
    rf["fields"]
        .as_array()
        .unwrap()
        .iter()
        .for_each(|x| assert_keys(x, FIELD_KEYS));
    let one = api
        .get(&format!(
            "/opportunities/{}/referrals/{}",
            p.referred,
            rf["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(&one.json["data"], rf);
    // the referral application carries the form as its custom question
    let apps = api
        .get(&format!("/opportunities/{}/applications", p.referred))
        .await;
    for a in data(&apps) {
        if a["type"] == "referral" {
            assert_eq!(a["customQuestions"][0]["id"], rf["id"]);
        }
    }

    // include= keeps id plus the named fields
    let r = api
        .get(&format!(
            "/opportunities/{}/interviews?include=subject",
            p.onsite
        ))
        .await;
    let keys: Vec<&String> = data(&r)[0].as_object().unwrap().keys().collect();
    assert_eq!(keys.len(), 2, "{keys:?}");
}

#[tokio::test]
async fn hiring_lists_page_and_answer_404_and_empty() {
    let sb = start(SeedSpec::demo()).await;
    let p = picks(&sb);
    let api = Api::new(&sb, &sb.demo_api_key());
    let path = format!("/opportunities/{}/interviews", p.onsite);
    let all: Vec<Value> = data(&api.get(&path).await).clone();
    assert!(all.len() >= 3);
    let mut walked = Vec::new();
    let mut next: Option<String> = None;
    loop {
        let url = match &next {
            Some(t) => format!("{path}?limit=1&offset={t}"),
            None => format!("{path}?limit=1"),
        };
        let r = api.get(&url).await;
        let page = data(&r);
        assert_eq!(page.len(), 1);
        walked.push(page[0].clone());
        if r.json["hasNext"] == true {
            next = Some(r.json["next"].as_str().unwrap().to_owned());
        } else {
            assert!(r.json.get("next").is_none());
            break;
        }
    }
    assert_eq!(walked, all);
    // a token is bound to its list
    let r = api.get(&format!("{path}?limit=1")).await;
    let token = r.json["next"].as_str().unwrap();
    assert_error(
        &api.get(&format!(
            "/opportunities/{}/feedback?limit=1&offset={token}",
            p.onsite
        ))
        .await,
        400,
    );
    assert_error(&api.get(&format!("{path}?limit=0")).await, 400);
    assert_error(&api.get(&format!("{path}?expand=creator")).await, 400);

    // an existing opportunity without any: empty lists, not 404
    for list in ["interviews", "panels", "feedback", "offers", "referrals"] {
        let r = api.get(&format!("/opportunities/{}/{list}", p.empty)).await;
        assert!(data(&r).is_empty(), "{list}: {}", r.json);
        assert_eq!(r.json["hasNext"], false);
        // unknown opportunity
        let r = api.get(&format!("/opportunities/nope/{list}")).await;
        assert_error(&r, 404);
        assert_eq!(r.json["code"], "ResourceNotFound");
        assert_eq!(r.json["message"], "opportunities nope was not found");
    }
    for item in ["interviews", "panels", "feedback", "referrals"] {
        let r = api
            .get(&format!("/opportunities/{}/{item}/nope", p.onsite))
            .await;
        assert_error(&r, 404);
        assert_eq!(r.json["message"], format!("{item} nope was not found"));
        assert_error(
            &api.get(&format!("/opportunities/nope/{item}/nope")).await,
            404,
        );
    }
}

#[tokio::test]
async fn hiring_permissions_are_named_in_the_403() {
    let sb = start(SeedSpec::demo()).await;
    let p = picks(&sb);
    let notes_only = Api::new(
        &sb,
        &sb.issue_api_key(KeySpec::only("notes", [Permission::ListOpportunityNotes])),
    );
    for (path, words) in [
        ("interviews", "list opportunity interviews"),
        ("interviews/x", "read opportunity interview"),
        ("panels", "list opportunity panels"),
        ("panels/x", "read opportunity panel"),
        ("feedback", "list opportunity feedback"),
        ("feedback/x", "read opportunity feedback"),
        ("offers", "list opportunity offers"),
        ("referrals", "list opportunity referrals"),
        ("referrals/x", "read opportunity referral"),
    ] {
        let r = notes_only
            .get(&format!("/opportunities/{}/{path}", p.onsite))
            .await;
        assert_error(&r, 403);
        assert!(
            r.json["message"].as_str().unwrap().contains(words),
            "{}",
            r.json
        );
    }
    let interviews_only = Api::new(
        &sb,
        &sb.issue_api_key(KeySpec::only("iv", [Permission::ListOpportunityInterviews])),
    );
    let r = interviews_only
        .get(&format!("/opportunities/{}/interviews", p.onsite))
        .await;
    assert!(!data(&r).is_empty());
}

#[tokio::test]
async fn confidential_hiring_data_follows_its_opportunity() {
    let sb = start(SeedSpec::demo()).await;
    let p = picks(&sb);
    let admin = reqwest::Client::new();
    let scheduled = reply(
        admin
            .post(format!(
                "{}/_sandbox/opportunities/{}/interviews",
                sb.url(),
                p.confidential
            ))
            .json(&json!({"subject": "Confidential chat", "duration": 30}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(scheduled.status, 201, "{}", scheduled.json);
    let plain = Api::new(&sb, &sb.issue_api_key(KeySpec::all("plain")));
    let full = Api::new(&sb, &sb.demo_api_key());
    let path = format!("/opportunities/{}/interviews", p.confidential);
    // without asking, confidential data is hidden from everyone: the opportunity is "absent"
    assert_error(&plain.get(&path).await, 404);
    assert_error(&full.get(&path).await, 404);
    // asking without access is Lever's access error, for lists and single objects alike
    for q in ["confidential", "all"] {
        let r = plain.get(&format!("{path}?confidentiality={q}")).await;
        assert_error(&r, 403);
        let msg = r.json["message"].as_str().unwrap();
        assert!(
            msg.contains("does not have access to confidential data"),
            "{msg}"
        );
        assert_error(
            &plain
                .get(&format!(
                    "/opportunities/{}/interviews?confidentiality={q}",
                    p.onsite
                ))
                .await,
            403,
        );
    }
    // with access and the parameter
    let r = full.get(&format!("{path}?confidentiality=all")).await;
    let got = data(&r);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0], scheduled.json);
    assert_eq!(got[0]["subject"], "Confidential chat");
    let r = full
        .get(&format!("{path}?confidentiality=confidential"))
        .await;
    assert_eq!(data(&r).len(), 1);
}

#[tokio::test]
async fn scheduling_and_cancelling_an_interview_fires_webhooks() {
    let sb = start(SeedSpec::demo()).await;
    let p = picks(&sb);
    type Got = Arc<Mutex<Vec<WebhookDelivery>>>;
    let got: Got = Arc::default();
    let app = axum::Router::new()
        .route(
            "/hook",
            axum::routing::post(
                |axum::extract::State(got): axum::extract::State<Got>,
                 axum::Json(d): axum::Json<WebhookDelivery>| async move {
                    got.lock().unwrap().push(d);
                    axum::http::StatusCode::OK
                },
            ),
        )
        .with_state(got.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    let created = sb.register_webhook(WebhookEventType::InterviewCreated, &url);
    let deleted = sb.register_webhook(WebhookEventType::InterviewDeleted, &url);

    let http = reqwest::Client::new();
    let admin = format!("{}/_sandbox/opportunities/{}/interviews", sb.url(), p.empty);
    let interviewer = sb.read(|db| db.users().nth(8).unwrap().id.clone());
    let r = reply(
        http.post(&admin)
            .json(&json!({"interviewers": [interviewer], "date": 1_900_000_000_000i64}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.json);
    assert_keys(&r.json, INTERVIEW_KEYS);
    assert_eq!(r.json["interviewers"][0]["id"], interviewer.as_str());
    let interview = r.json["id"].as_str().unwrap().to_owned();
    let api = Api::new(&sb, &sb.demo_api_key());
    let listed = api
        .get(&format!("/opportunities/{}/interviews", p.empty))
        .await;
    assert_eq!(data(&listed)[0]["id"], interview.as_str());
    let panels = api.get(&format!("/opportunities/{}/panels", p.empty)).await;
    assert_eq!(data(&panels)[0]["id"], r.json["panel"]);

    eventually(|| got.lock().unwrap().len() == 1).await;
    let first = got.lock().unwrap()[0].clone();
    assert_eq!(first.event, "interviewCreated");
    assert_eq!(first.data_str("opportunityId"), Some(p.empty.as_str()));
    assert_eq!(first.data_str("interviewId"), Some(interview.as_str()));
    let token = created.configuration.signature_token.as_deref().unwrap();
    first.verify(token).unwrap();

    // bad input
    for body in [
        json!({"interviewers": ["nobody"]}),
        json!({"duration": 0}),
        json!({"x": 1}),
    ] {
        let r = reply(http.post(&admin).json(&body).send().await.unwrap()).await;
        assert_error(&r, 400);
    }
    let r = reply(
        http.post(format!(
            "{}/_sandbox/opportunities/nope/interviews",
            sb.url()
        ))
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert_error(&r, 404);

    // cancelling the panel's only interview removes the panel too
    let r = http
        .delete(format!("{admin}/{interview}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    assert!(data(&api.get(&format!("/opportunities/{}/panels", p.empty)).await).is_empty());
    assert_error(
        &api.get(&format!(
            "/opportunities/{}/interviews/{interview}",
            p.empty
        ))
        .await,
        404,
    );
    let again = reply(
        http.delete(format!("{admin}/{interview}"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_error(&again, 404);
    eventually(|| got.lock().unwrap().len() == 2).await;
    let second = got.lock().unwrap()[1].clone();
    assert_eq!(second.event, "interviewDeleted");
    assert_eq!(second.data_str("interviewId"), Some(interview.as_str()));
    second
        .verify(deleted.configuration.signature_token.as_deref().unwrap())
        .unwrap();
}
