//! Lever's deprecated `/candidates` routes answer exactly like the opportunity routes
//! (`candidateId == opportunityId`), and confidential access through an OAuth token follows
//! the `confidential:access:admin` scope.

use crate::common::*;
use lever_model::{Confidentiality, Origin, Permission};
use lever_sandbox::{KeySpec, OAuthApp, Sandbox, SandboxConfig, SeedSpec};
use serde_json::Value;

const SUB_RESOURCES: &[&str] = &[
    "applications",
    "notes",
    "files",
    "resumes",
    "interviews",
    "feedback",
    "offers",
    "referrals",
];

#[tokio::test]
async fn candidate_routes_serve_the_opportunity_data() {
    let sb = start(SeedSpec::demo()).await;
    let api = Api::new(&sb, &sb.demo_api_key());
    // A spread of opportunities: the first few plus ones with hiring data of each kind.
    let ids: Vec<String> = sb.read(|db| {
        let mut ids: Vec<String> = db.opportunities().take(6).map(|o| o.id.clone()).collect();
        let mut add = |f: &dyn Fn(&lever_model::Opportunity) -> bool| {
            if let Some(o) = db.opportunities().find(|&o| f(o)) {
                ids.push(o.id.clone());
            }
        };
        add(&|o| o.stage_id() == Some("offer"));
        add(&|o| o.origin == Some(Origin::Referred));
        add(&|o| o.stage_changes.len() >= 5);
        add(&|o| o.confidentiality == Confidentiality::Confidential);
        ids
    });
    let mut non_empty = 0;
    for id in &ids {
        for q in ["", "?confidentiality=all"] {
            let opp = api.get(&format!("/opportunities/{id}{q}")).await;
            let cand = api.get(&format!("/candidates/{id}{q}")).await;
            assert_eq!(
                (cand.status, &cand.json),
                (opp.status, &opp.json),
                "{id}{q}"
            );
            for sub in SUB_RESOURCES {
                let opp = api.get(&format!("/opportunities/{id}/{sub}{q}")).await;
                let cand = api.get(&format!("/candidates/{id}/{sub}{q}")).await;
                assert_eq!(
                    (cand.status, &cand.json),
                    (opp.status, &opp.json),
                    "{sub} of {id}{q}"
                );
                if cand.status == 200 && !cand.json["data"].as_array().unwrap().is_empty() {
                    non_empty += 1;
                }
            }
        }
    }
    assert!(non_empty >= 8, "{non_empty}");

    // the list, with filters, expand and paging
    let q = "?limit=7&expand=stage&archived=false&confidentiality=all";
    let opp = api.get(&format!("/opportunities{q}")).await;
    let cand = api.get(&format!("/candidates{q}")).await;
    assert_eq!(cand.json, opp.json);
    assert_eq!(cand.json["data"].as_array().unwrap().len(), 7);
    let token = cand.json["next"].as_str().unwrap();
    let page2 = api.get(&format!("/candidates{q}&offset={token}")).await;
    assert_eq!(page2.status, 200);
    assert_ne!(page2.json["data"][0]["id"], cand.json["data"][0]["id"]);
    assert!(page2.json["data"][0]["stage"]["id"].is_string());
}

#[tokio::test]
async fn candidate_routes_errors() {
    let sb = start(SeedSpec::demo()).await;
    let api = Api::new(&sb, &sb.demo_api_key());
    let r = api.get("/candidates/nope").await;
    assert_error(&r, 404);
    assert_eq!(r.json["message"], "opportunities nope was not found");
    for sub in SUB_RESOURCES {
        assert_error(&api.get(&format!("/candidates/nope/{sub}")).await, 404);
    }
    assert_error(&api.get("/candidates?expand=nothing").await, 400);
    assert_error(&api.get("/candidates?confidentiality=maybe").await, 400);
    // read-only: no writes under /candidates
    assert_error(&api.post("/candidates", serde_json::json!({})).await, 405);
    // guarded by the opportunity permissions
    let notes_only = Api::new(
        &sb,
        &sb.issue_api_key(KeySpec::only("n", [Permission::ListOpportunityNotes])),
    );
    let r = notes_only.get("/candidates").await;
    assert_error(&r, 403);
    assert!(
        r.json["message"]
            .as_str()
            .unwrap()
            .contains("list opportunities"),
        "{}",
        r.json
    );
    let id = sb.read(|db| db.opportunities().next().unwrap().id.clone());
    assert_eq!(
        notes_only
            .get(&format!("/candidates/{id}/notes"))
            .await
            .status,
        200
    );
    // confidential data needs access here too
    let plain = Api::new(&sb, &sb.issue_api_key(KeySpec::all("plain")));
    assert_error(&plain.get("/candidates?confidentiality=all").await, 403);
}

const CALLBACK: &str = "http://127.0.0.1:9/callback";

/// Consent as the default user to `scope`, exchange the code; the access token.
async fn oauth_token(sb: &Sandbox, scope: &str) -> String {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let audience = sb.oauth_audience();
    let url = url::Url::parse_with_params(
        &sb.authorize_url(),
        [
            ("client_id", "app"),
            ("redirect_uri", CALLBACK),
            ("response_type", "code"),
            ("state", "s"),
            ("audience", audience.as_str()),
            ("scope", scope),
        ],
    )
    .unwrap();
    let html = http.get(url).send().await.unwrap().text().await.unwrap();
    let marker = "name=\"transaction\" value=\"";
    let start = html.find(marker).expect("consent page") + marker.len();
    let tx = html[start..].split('"').next().unwrap().to_owned();
    let user = sb.default_user_id();
    let done = http
        .post(format!("{}/authorize/decision", sb.url()))
        .form(&[
            ("transaction", tx.as_str()),
            ("user_id", user.as_str()),
            ("decision", "accept"),
        ])
        .send()
        .await
        .unwrap();
    let location = done.headers()["location"].to_str().unwrap().to_owned();
    let code = url::Url::parse(&location)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "code")
        .expect("code")
        .1
        .into_owned();
    let tokens: Value = http
        .post(sb.token_url())
        .basic_auth("app", Some("app-secret"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", CALLBACK),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    tokens["access_token"]
        .as_str()
        .expect("access token")
        .to_owned()
}

#[tokio::test]
async fn oauth_confidential_access_follows_the_scope() {
    let config = SandboxConfig {
        seed: SeedSpec::demo(),
        rate_limit: false,
        oauth_apps: vec![OAuthApp {
            client_id: "app".into(),
            client_secret: "app-secret".into(),
            name: "App".into(),
            redirect_uris: vec![CALLBACK.into()],
        }],
        ..Default::default()
    };
    let sb = Sandbox::start(config, "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let confidential = sb.read(|db| {
        db.opportunities()
            .find(|o| o.confidentiality == Confidentiality::Confidential)
            .map(|o| o.id.clone())
            .expect("a confidential opportunity")
    });
    let http = reqwest::Client::new();
    let get = |token: String, path: String| {
        let req = http
            .get(format!("{}{path}", sb.api_url()))
            .bearer_auth(token);
        async move { reply(req.send().await.unwrap()).await }
    };
    let with = oauth_token(
        &sb,
        "opportunities:read:admin interviews:read:admin confidential:access:admin",
    )
    .await;
    let without = oauth_token(&sb, "opportunities:read:admin interviews:read:admin").await;
    for path in [
        format!("/opportunities/{confidential}?confidentiality=all"),
        format!("/candidates/{confidential}?confidentiality=confidential"),
        format!("/opportunities/{confidential}/interviews?confidentiality=all"),
    ] {
        assert_eq!(get(with.clone(), path.clone()).await.status, 200, "{path}");
        let r = get(without.clone(), path.clone()).await;
        assert_error(&r, 403);
        assert!(
            r.json["message"].as_str().unwrap().contains("confidential"),
            "{}",
            r.json
        );
    }
    // without the parameter both see only non-confidential data
    assert_error(
        &get(with.clone(), format!("/opportunities/{confidential}")).await,
        404,
    );
    let r = get(without, "/opportunities?limit=100".into()).await;
    assert!(
        r.json["data"]
            .as_array()
            .unwrap()
            .iter()
            .all(|o| o["confidentiality"] == "non-confidential")
    );
    sb.shutdown().await;
}
