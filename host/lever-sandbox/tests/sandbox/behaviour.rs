//! Behaviour over real HTTP: auth and permissions, perform_as, pagination tokens,
//! opportunity creation and dedupe, mutations, webhooks, faults and rate limiting.

use crate::common::*;
use lever_model::{Operation, Permission, WebhookDelivery, WebhookEventType};
use lever_sandbox::{FaultConfig, KeySpec, ScriptedFault, SeedSpec};
use serde_json::{Value, json};
use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[tokio::test]
async fn auth_permissions_and_perform_as() {
    let sb = start(SeedSpec::vocabulary_only(3)).await;
    let user = sb.default_user_id();
    let http = reqwest::Client::new();
    let url = format!("{}/stages", sb.api_url());

    // 401: missing, unknown, revoked, wrong scheme
    assert_error(&reply(http.get(&url).send().await.unwrap()).await, 401);
    assert_error(
        &reply(
            http.get(&url)
                .basic_auth("lsk_nope", Some(""))
                .send()
                .await
                .unwrap(),
        )
        .await,
        401,
    );
    let key = sb.issue_api_key(KeySpec::all("t"));
    assert_eq!(
        http.get(&url)
            .basic_auth(&key, Some(""))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert_error(
        &reply(http.get(&url).bearer_auth(&key).send().await.unwrap()).await,
        401,
    );
    sb.revoke(&key);
    assert_error(
        &reply(
            http.get(&url)
                .basic_auth(&key, Some(""))
                .send()
                .await
                .unwrap(),
        )
        .await,
        401,
    );

    // bearer tokens share the permission model
    let token = sb.issue_bearer_token(KeySpec::only("oauth", [Permission::ListStages]));
    assert_eq!(
        http.get(&url)
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let r = reply(
        http.get(format!("{}/users", sb.api_url()))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_error(&r, 403);
    assert!(
        r.json["message"]
            .as_str()
            .unwrap()
            .contains("\"list users\"")
    );

    // 403 names the permission words and says to ask a Super Admin
    let limited = sb.issue_api_key(KeySpec::only("limited", [Permission::ListOpportunities]));
    let api = Api::new(&sb, &limited);
    let r = api
        .post(
            &format!("/opportunities?perform_as={user}"),
            json!({"name": "X"}),
        )
        .await;
    assert_error(&r, 403);
    let msg = r.json["message"].as_str().unwrap();
    assert!(
        msg.contains("\"create opportunity\"") && msg.contains("Super Admin"),
        "{msg}"
    );
    assert_eq!(api.get("/opportunities").await.status, 200);
    // apply-to-posting keys may also upload
    let applier = Api::new(
        &sb,
        &sb.issue_api_key(KeySpec::only("apply", [Permission::ApplyToPosting])),
    );
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(b"hello".to_vec()).file_name("cv.txt"),
    );
    let up = reply(
        applier
            .http
            .post(format!("{}/uploads", sb.api_url()))
            .basic_auth(&applier.key, Some(""))
            .multipart(form)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(up.status, 201, "{}", up.json);
    assert_keys(
        &up.json["data"],
        &["expiresAt", "filename", "id", "uri", "size"],
    );

    // perform_as: required + missing → 400, unknown/deactivated → 400, not accepted → ignored
    let admin = Api::new(&sb, &sb.demo_api_key());
    assert_error(
        &admin.post("/opportunities", json!({"name": "X"})).await,
        400,
    );
    assert_error(
        &admin
            .post("/opportunities?perform_as=nobody", json!({"name": "X"}))
            .await,
        400,
    );
    let deactivated = sb.read(|db| {
        db.users()
            .find(|u| u.deactivated_at.is_some())
            .unwrap()
            .id
            .clone()
    });
    assert_error(
        &admin
            .post(
                &format!("/opportunities?perform_as={deactivated}"),
                json!({"name": "X"}),
            )
            .await,
        400,
    );
    assert_eq!(admin.get("/stages?perform_as=nobody").await.status, 200);
    let created = admin
        .post(
            &format!("/opportunities?perform_as={user}"),
            json!({"name": "X"}),
        )
        .await;
    assert_eq!(created.status, 201);
    let o = &created.json["data"];
    assert_eq!(o["owner"], user.as_str());
    assert_eq!(o["stageChanges"][0]["userId"], user.as_str());
    assert!(o["followers"].as_array().unwrap().contains(&json!(user)));
    // optional perform_as attributes the stage change
    let id = o["id"].as_str().unwrap();
    let other = sb.read(|db| {
        db.users()
            .find(|u| u.access_role == "admin")
            .unwrap()
            .id
            .clone()
    });
    let r = admin
        .put(
            &format!("/opportunities/{id}/stage?perform_as={other}"),
            json!({"stage": "lead-reached-out"}),
        )
        .await;
    assert_eq!(r.json["data"]["stageChanges"][1]["userId"], other.as_str());
    let r = admin
        .put(
            &format!("/opportunities/{id}/stage"),
            json!({"stage": "lead-responded"}),
        )
        .await;
    assert!(r.json["data"]["stageChanges"][2]["userId"].is_null());

    let stats = sb.stats();
    assert_eq!(stats.writes_to(Operation::CreateOpportunity), 1);
    assert_eq!(stats.count(Operation::CreateOpportunity, 400), 3);
    assert_eq!(stats.count(Operation::ListStages, 401), 4);
}

#[tokio::test]
async fn pagination_tokens() {
    let sb = start(SeedSpec {
        seed: 5,
        postings: 10,
        opportunities: 230,
    })
    .await;
    let api = Api::new(&sb, &sb.demo_api_key());
    // Walk everything; insert while walking; nothing is skipped or repeated.
    let mut seen = HashSet::new();
    let mut next: Option<String> = None;
    let mut pages = 0;
    loop {
        let path = match &next {
            Some(t) => format!("/opportunities?limit=37&confidentiality=all&offset={t}"),
            None => "/opportunities?limit=37&confidentiality=all".to_owned(),
        };
        let r = api.get(&path).await;
        assert_eq!(r.status, 200, "{}", r.json);
        for o in r.json["data"].as_array().unwrap() {
            assert!(
                seen.insert(o["id"].as_str().unwrap().to_owned()),
                "duplicate"
            );
        }
        pages += 1;
        if pages == 2 {
            let u = sb.default_user_id();
            assert_eq!(
                api.post(
                    &format!("/opportunities?perform_as={u}"),
                    json!({"name": "Late"})
                )
                .await
                .status,
                201
            );
        }
        if r.json["hasNext"] == false {
            assert!(r.json.get("next").is_none());
            break;
        }
        next = Some(r.json["next"].as_str().unwrap().to_owned());
    }
    assert_eq!(seen.len(), sb.read(|db| db.opportunity_count()));

    // Token bound to the query, tamper-proof, foreign-proof, rotatable.
    let first = api.get("/opportunities?limit=5&tag=Senior").await;
    let token = first.json["next"].as_str().unwrap().to_owned();
    assert_eq!(
        api.get(&format!("/opportunities?limit=5&tag=Senior&offset={token}"))
            .await
            .status,
        200
    );
    assert_eq!(
        api.get(&format!("/opportunities?offset={token}&tag=Senior&limit=9"))
            .await
            .status,
        200
    );
    let expected = "Invalid offset token: Offset token is invalid for sort";
    for bad in [
        format!("/opportunities?limit=5&tag=Python&offset={token}"),
        format!("/postings?limit=5&tag=Senior&offset={token}"),
        format!(
            "/opportunities?limit=5&tag=Senior&offset={}x",
            &token[..token.len() - 1]
        ),
        "/opportunities?offset=0.1414895548650.a6070140-33db-407c-91f5-2760e15c8e94".to_owned(),
    ] {
        let r = api.get(&bad).await;
        assert_error(&r, 400);
        assert_eq!(r.json["message"], expected, "{bad}");
    }
    sb.rotate_offset_tokens();
    let r = api
        .get(&format!("/opportunities?limit=5&tag=Senior&offset={token}"))
        .await;
    assert_eq!(r.json["message"], expected);
}

#[tokio::test]
async fn create_dedupe_filters_and_mutations() {
    let sb = start(SeedSpec::vocabulary_only(9)).await;
    let api = Api::new(&sb, &sb.demo_api_key());
    let user = sb.default_user_id();
    let posting = api
        .post(&format!("/postings?perform_as={user}"), json!({"text": "Rust Engineer", "state": "published", "categories": {"team": "Backend", "location": "Remote"}, "workplaceType": "remote"}))
        .await;
    assert_eq!(posting.status, 201, "{}", posting.json);
    let pid = posting.json["data"]["id"].as_str().unwrap().to_owned();
    assert_eq!(posting.json["data"]["owner"], user.as_str());
    assert!(
        posting.json["data"]["urls"]["apply"]
            .as_str()
            .unwrap()
            .ends_with("/apply")
    );
    let upd = api
        .post(
            &format!("/postings/{pid}?perform_as={user}"),
            json!({"tags": ["Urgent"]}),
        )
        .await;
    assert_eq!(
        upd.json["data"]["text"], "Rust Engineer",
        "partial update keeps fields"
    );
    assert_eq!(upd.json["data"]["tags"], json!(["Urgent"]));

    let create = |body: Value| {
        let api = &api;
        let user = user.clone();
        async move {
            api.post(&format!("/opportunities?perform_as={user}"), body)
                .await
        }
    };
    let a = create(json!({"name": "José Núñez", "emails": ["Jose@Example.com"], "phones": [{"type": "mobile", "value": "+1 555 0100"}], "tags": ["Rust", "Rust"], "sources": ["LinkedIn"], "postings": [pid], "origin": "sourced"})).await;
    assert_eq!(a.status, 201, "{}", a.json);
    let a = a.json["data"].clone();
    assert_eq!(a["stage"], "lead-new");
    assert_eq!(a["tags"], json!(["Rust"]));
    assert_eq!(a["applications"].as_array().unwrap().len(), 1);
    assert!(a["archived"].is_null());
    let app = api
        .get(&format!(
            "/opportunities/{}?expand=applications",
            a["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(app.json["data"]["applications"][0]["type"], "user");
    assert_eq!(app.json["data"]["applications"][0]["posting"], pid.as_str());
    assert_eq!(
        app.json["data"]["applications"][0]["postingOwner"],
        user.as_str()
    );

    // dedupe: same e-mail (other case) → same contact, stored name wins
    let b = create(json!({"name": "Someone Else", "emails": [" jose@example.COM "], "links": ["https://x.example"]})).await.json["data"].clone();
    assert_eq!(b["contact"], a["contact"]);
    assert_eq!(b["name"], "José Núñez");
    assert_eq!(b["emails"], json!(["Jose@Example.com"]));
    // explicit contact: attaches and adds e-mails/links
    let c = create(json!({"contact": a["contact"], "emails": ["jose.work@example.org"], "links": ["https://github.com/jose"]})).await.json["data"].clone();
    assert_eq!(c["contact"], a["contact"]);
    assert_eq!(
        c["emails"],
        json!(["Jose@Example.com", "jose.work@example.org"])
    );
    let by_email = api.get("/opportunities?email=JOSE.WORK@example.org").await;
    assert_eq!(
        by_email.json["data"].as_array().unwrap().len(),
        3,
        "all opportunities of the person"
    );
    // a fresh e-mail → new person
    let d = create(json!({"name": "Zoë Ødegård", "emails": ["zoe@example.net"], "archived": {"reason": sb.read(|db| db.archive_reasons().find(|r| r.text == "Timing").unwrap().id.clone())}})).await.json["data"].clone();
    assert_ne!(d["contact"], a["contact"]);
    assert!(d["archived"]["archivedAt"].is_i64());

    // validation
    assert_error(&create(json!({"postings": [pid, pid]})).await, 400);
    assert_error(&create(json!({"postings": ["nope"]})).await, 400);
    assert_error(&create(json!({"stage": "nope"})).await, 400);
    assert_error(&create(json!({"owner": "nope"})).await, 400);
    assert_error(&create(json!({"archived": {"reason": "nope"}})).await, 400);
    assert_error(&create(json!({"origin": "telepathy"})).await, 400);
    assert_error(
        &create(json!({"createdAt": 99_999_999_999_999i64})).await,
        400,
    );

    // posting owner default
    let e = api
        .post(
            &format!(
                "/opportunities?perform_as={}&perform_as_posting_owner=true",
                sb.read(|db| db
                    .users()
                    .find(|u| u.access_role == "admin")
                    .unwrap()
                    .id
                    .clone())
            ),
            json!({"postings": [pid]}),
        )
        .await;
    assert_eq!(e.json["data"]["owner"], user.as_str());

    // filters
    assert_eq!(
        api.get("/opportunities?archived=true").await.json["data"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        api.get("/opportunities?archived=false").await.json["data"]
            .as_array()
            .unwrap()
            .len(),
        4
    );
    assert_eq!(
        api.get("/opportunities").await.json["data"]
            .as_array()
            .unwrap()
            .len(),
        5
    );
    assert_eq!(
        api.get(&format!("/opportunities?posting_id={pid}"))
            .await
            .json["data"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert_eq!(
        api.get("/opportunities?tag=Rust&tag=Nope").await.json["data"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        api.get("/opportunities?origin=sourced&stage_id=lead-new")
            .await
            .json["data"]
            .as_array()
            .unwrap()
            .len(),
        5
    );
    // Other opportunities may share `a`'s millisecond: `a` is among them, and all are in it.
    let created_at = a["createdAt"].as_i64().unwrap();
    let same_ms = api
        .get(&format!(
            "/opportunities?created_at_start={created_at}&created_at_end={created_at}"
        ))
        .await
        .json["data"]
        .as_array()
        .unwrap()
        .clone();
    assert!(same_ms.iter().any(|o| o["id"] == a["id"]), "{same_ms:?}");
    assert!(
        same_ms.iter().all(|o| o["createdAt"] == created_at),
        "{same_ms:?}"
    );
    let tags = api.get("/tags").await;
    assert_eq!(tags.json["data"], json!([{"text": "Rust", "count": 1}]));

    // mutations
    let id = a["id"].as_str().unwrap();
    let before = a["updatedAt"].as_i64().unwrap();
    // The next write's timestamp must be a later millisecond than `before`.
    eventually(|| lever_model::timestamp::now_millis() > before).await;
    let offer = api
        .put(
            &format!("/opportunities/{id}/stage"),
            json!({"stage": "offer"}),
        )
        .await
        .json["data"]
        .clone();
    assert_eq!(offer["stage"], "offer");
    assert_eq!(offer["stageChanges"][1]["toStageId"], "offer");
    assert_eq!(offer["stageChanges"][1]["toStageIndex"], 8);
    assert!(offer["updatedAt"].as_i64().unwrap() > before);
    assert_eq!(offer["lastAdvancedAt"], offer["updatedAt"]);
    assert_error(
        &api.put(
            &format!("/opportunities/{id}/stage"),
            json!({"stage": "nope"}),
        )
        .await,
        400,
    );
    assert_error(
        &api.put("/opportunities/nope/stage", json!({"stage": "offer"}))
            .await,
        404,
    );
    let hired = sb.read(|db| {
        db.archive_reasons()
            .find(|r| r.text == "Hired")
            .unwrap()
            .id
            .clone()
    });
    let arch = api
        .put(
            &format!("/opportunities/{id}/archived"),
            json!({"reason": hired}),
        )
        .await
        .json["data"]
        .clone();
    assert_eq!(arch["archived"]["reason"], hired.as_str());
    assert_error(
        &api.put(
            &format!("/opportunities/{id}/archived"),
            json!({"reason": "nope"}),
        )
        .await,
        400,
    );
    assert_error(
        &api.put(&format!("/opportunities/{id}/archived"), json!({}))
            .await,
        400,
    );
    let un = api
        .put(
            &format!("/opportunities/{id}/archived"),
            json!({"reason": null}),
        )
        .await
        .json["data"]
        .clone();
    assert!(un["archived"].is_null());
    let t = api
        .post(
            &format!("/opportunities/{id}/addTags"),
            json!({"tags": ["Priority", "Rust"]}),
        )
        .await
        .json["data"]
        .clone();
    assert_eq!(t["tags"], json!(["Rust", "Priority"]));
    let t = api
        .post(
            &format!("/opportunities/{id}/removeTags"),
            json!({"tags": ["Rust"]}),
        )
        .await
        .json["data"]
        .clone();
    assert_eq!(t["tags"], json!(["Priority"]));
    let s = api
        .post(
            &format!("/opportunities/{id}/addSources"),
            json!({"sources": ["Referral"]}),
        )
        .await
        .json["data"]
        .clone();
    assert_eq!(s["sources"], json!(["LinkedIn", "Referral"]));
    let s = api
        .post(
            &format!("/opportunities/{id}/removeSources"),
            json!({"sources": ["LinkedIn"]}),
        )
        .await
        .json["data"]
        .clone();
    assert_eq!(s["sources"], json!(["Referral"]));
    let l = api
        .post(
            &format!("/opportunities/{id}/addLinks"),
            json!({"links": ["https://jose.dev"]}),
        )
        .await
        .json["data"]
        .clone();
    assert!(
        l["links"]
            .as_array()
            .unwrap()
            .contains(&json!("https://jose.dev"))
    );
    let other_opp = api
        .get(&format!("/opportunities/{}", c["id"].as_str().unwrap()))
        .await;
    assert!(
        other_opp.json["data"]["links"]
            .as_array()
            .unwrap()
            .contains(&json!("https://jose.dev")),
        "links live on the contact"
    );
    let l = api
        .post(
            &format!("/opportunities/{id}/removeLinks"),
            json!({"links": ["https://jose.dev"]}),
        )
        .await
        .json["data"]
        .clone();
    assert!(
        !l["links"]
            .as_array()
            .unwrap()
            .contains(&json!("https://jose.dev"))
    );
    assert_error(
        &api.post(
            &format!("/opportunities/{id}/addTags"),
            json!({"tag": ["x"]}),
        )
        .await,
        400,
    );

    // contacts
    let cid = a["contact"].as_str().unwrap();
    let cu = api
        .put(
            &format!("/contacts/{cid}"),
            json!({"headline": "Staff Engineer", "location": "Lisbon"}),
        )
        .await;
    assert_eq!(cu.json["data"]["location"], json!({"name": "Lisbon"}));
    assert_eq!(
        api.get(&format!("/opportunities/{id}")).await.json["data"]["headline"],
        "Staff Engineer"
    );
    assert_error(
        &api.put(
            &format!("/contacts/{cid}"),
            json!({"emails": ["zoe@example.net"]}),
        )
        .await,
        400,
    );

    // notes
    let n = api
        .post(
            &format!("/opportunities/{id}/notes?perform_as={user}"),
            json!({"value": "Great call", "score": 4}),
        )
        .await;
    assert_eq!(n.status, 201);
    assert_eq!(n.json["data"].as_object().unwrap().len(), 1);
    let nid = n.json["data"]["noteId"].as_str().unwrap().to_owned();
    let note = api
        .get(&format!("/opportunities/{id}/notes/{nid}"))
        .await
        .json["data"]
        .clone();
    assert_eq!(note["user"], user.as_str());
    assert_eq!(note["fields"][0]["value"], "Great call");
    assert_eq!(note["fields"][0]["score"], 4);
    assert_eq!(note["fields"][0]["stage"], "offer");
    let anon = api
        .post(
            &format!("/opportunities/{id}/notes"),
            json!({"value": "x", "secret": true}),
        )
        .await;
    let anon_id = anon.json["data"]["noteId"].as_str().unwrap();
    let anon_note = api
        .get(&format!("/opportunities/{id}/notes/{anon_id}"))
        .await
        .json["data"]
        .clone();
    assert!(
        anon_note["user"].is_null()
            && anon_note["secret"] == true
            && anon_note["fields"][0]["score"].is_null()
    );
    for bad in [
        json!({"value": ""}),
        json!({"value": "  "}),
        json!({"value": "x", "score": 5}),
        json!({"value": "x", "score": 0}),
        json!({}),
    ] {
        assert_error(
            &api.post(&format!("/opportunities/{id}/notes"), bad).await,
            400,
        );
    }
    let thread = api
        .post(
            &format!("/opportunities/{id}/notes?note_id={nid}"),
            json!({"value": "Follow-up"}),
        )
        .await;
    assert_eq!(thread.json["data"]["noteId"], nid.as_str());
    assert_eq!(
        api.get(&format!("/opportunities/{id}/notes/{nid}"))
            .await
            .json["data"]["fields"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert_eq!(
        api.call("DELETE", &format!("/opportunities/{id}/notes/{nid}"), None)
            .await
            .status,
        204
    );
    assert_error(
        &api.get(&format!("/opportunities/{id}/notes/{nid}")).await,
        404,
    );

    // apply to a posting (+ upload)
    let applied = api.post(&format!("/postings/{pid}/apply"), json!({"personalInformation": [{"name": "fullName", "value": "Анна Петрова"}, {"name": "email", "value": "anna@example.com"}]})).await;
    assert_eq!(applied.status, 201, "{}", applied.json);
    assert!(applied.json["data"]["applicationId"].is_string());
    let anna = api
        .get("/opportunities?email=anna@example.com&expand=applications")
        .await
        .json["data"][0]
        .clone();
    assert_eq!(anna["stage"], "applicant-new");
    assert_eq!(anna["origin"], "applied");
    assert_eq!(anna["applications"][0]["type"], "posting");
    assert_error(
        &api.post(
            &format!("/postings/{pid}/apply"),
            json!({"personalInformation": []}),
        )
        .await,
        400,
    );

    sb.read(|db| db.check_invariants()).unwrap();
}

#[tokio::test]
async fn multipart_create_with_files_and_size_limit() {
    use reqwest::multipart::{Form, Part};
    let sb = start(SeedSpec::vocabulary_only(11)).await;
    let api = Api::new(&sb, &sb.demo_api_key());
    let user = sb.default_user_id();
    let pdf = lever_sandbox::seed::pdf_bytes("Resume", &[]).to_vec();
    let form = Form::new()
        .text("name", "Łukasz Żółć")
        .text("emails[]", "lukasz@example.com")
        .text("emails[]", "l.zolc@example.org")
        .text("tags[]", "Rust")
        .text("links[]", "https://github.com/lz")
        .text("phones[0][type]", "mobile")
        .text("phones[0][value]", "+48 600 000 000")
        .text("origin", "agency")
        .part(
            "resumeFile",
            Part::bytes(pdf.clone()).file_name("Łukasz CV.PDF"),
        )
        .part(
            "files[]",
            Part::bytes(b"portfolio".to_vec()).file_name("portfolio.txt"),
        );
    let r = reply(
        api.http
            .post(format!("{}/opportunities?perform_as={user}", api.base))
            .basic_auth(&api.key, Some(""))
            .multipart(form)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.json);
    let o = &r.json["data"];
    assert_eq!(o["name"], "Łukasz Żółć");
    assert_eq!(
        o["emails"],
        json!(["lukasz@example.com", "l.zolc@example.org"])
    );
    assert_eq!(
        o["phones"],
        json!([{"type": "mobile", "value": "+48 600 000 000"}])
    );
    assert_eq!(o["origin"], "agency");
    let id = o["id"].as_str().unwrap();
    let resumes = api.get(&format!("/opportunities/{id}/resumes")).await.json["data"].clone();
    assert_eq!(resumes[0]["file"]["ext"], "pdf");
    assert_eq!(resumes[0]["file"]["status"], "processed");
    assert_eq!(
        resumes[0]["parsedData"],
        json!({"positions": [], "schools": []})
    );
    let files = api.get(&format!("/opportunities/{id}/files")).await.json["data"].clone();
    assert_eq!(files[0]["ext"], ".txt");
    assert_eq!(files[0]["size"], 9);
    let fid = files[0]["id"].as_str().unwrap();
    let dl = reply(
        api.http
            .get(files[0]["downloadUrl"].as_str().unwrap())
            .basic_auth(&api.key, Some(""))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(dl.bytes, b"portfolio");
    assert_eq!(
        sb.read(|db| db.file_bytes(id, fid).map(<[u8]>::to_vec)),
        Some(b"portfolio".to_vec())
    );
    let rid = resumes[0]["id"].as_str().unwrap();
    assert_eq!(
        sb.read(|db| db.resume_bytes(id, rid).map(<[u8]>::to_vec)),
        Some(pdf)
    );

    // upload + delete via /files
    let form = Form::new().part(
        "file",
        Part::bytes(b"%PDF-1.4 x".to_vec()).file_name("offer.pdf"),
    );
    let up = reply(
        api.http
            .post(format!(
                "{}/opportunities/{id}/files?perform_as={user}",
                api.base
            ))
            .basic_auth(&api.key, Some(""))
            .multipart(form)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(up.status, 201, "{}", up.json);
    assert_eq!(up.json["data"]["ext"], ".pdf");
    let new_fid = up.json["data"]["id"].as_str().unwrap();
    let form = Form::new().part("file", Part::bytes(b"x".to_vec()).file_name("x.pdf"));
    let no_perform_as = reply(
        api.http
            .post(format!("{}/opportunities/{id}/files", api.base))
            .basic_auth(&api.key, Some(""))
            .multipart(form)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_error(&no_perform_as, 400);
    assert_eq!(
        api.call(
            "DELETE",
            &format!("/opportunities/{id}/files/{new_fid}?perform_as={user}"),
            None
        )
        .await
        .status,
        204
    );
    assert_error(
        &api.get(&format!("/opportunities/{id}/files/{new_fid}"))
            .await,
        404,
    );
    let form = Form::new().text("other", "x");
    let missing = reply(
        api.http
            .post(format!(
                "{}/opportunities/{id}/files?perform_as={user}",
                api.base
            ))
            .basic_auth(&api.key, Some(""))
            .multipart(form)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_error(&missing, 400);

    // > 30 MB → 413 with Lever's body, nothing stored
    let big = vec![b'a'; 30 * 1024 * 1024 + 1];
    let form = Form::new().part("file", Part::bytes(big).file_name("big.bin"));
    let r = reply(
        api.http
            .post(format!(
                "{}/opportunities/{id}/files?perform_as={user}",
                api.base
            ))
            .basic_auth(&api.key, Some(""))
            .multipart(form)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_error(&r, 413);
    assert_eq!(r.json["code"], "RequestEntityTooLarge");
    assert_eq!(sb.read(|db| db.files(id).len()), 1);
}

type Received = Arc<Mutex<Vec<(String, Value)>>>;

/// A webhook receiver that fails the first `fail_first` deliveries of each event with 500.
async fn receiver(fail_first: usize) -> (String, Received) {
    use axum::extract::State;
    let got: Received = Arc::default();
    let seen: Arc<Mutex<Vec<String>>> = Arc::default();
    let app = axum::Router::new()
        .route(
            "/hook",
            axum::routing::post(
                move |State((got, seen)): State<(Received, Arc<Mutex<Vec<String>>>)>,
                      headers: axum::http::HeaderMap,
                      body: axum::body::Bytes| async move {
                    let v: Value = serde_json::from_slice(&body).unwrap();
                    let ua = headers
                        .get("user-agent")
                        .and_then(|h| h.to_str().ok())
                        .unwrap_or("")
                        .to_owned();
                    assert_eq!(headers.get("content-type").unwrap(), "application/json");
                    let id = v["id"].as_str().unwrap().to_owned();
                    let attempts = {
                        let mut s = seen.lock().unwrap();
                        s.push(id.clone());
                        s.iter().filter(|x| **x == id).count()
                    };
                    if attempts <= fail_first {
                        return axum::http::StatusCode::INTERNAL_SERVER_ERROR;
                    }
                    got.lock().unwrap().push((ua, v));
                    axum::http::StatusCode::OK
                },
            ),
        )
        .with_state((got.clone(), seen));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}/hook"), got)
}

#[tokio::test]
async fn webhooks_are_signed_retried_and_filtered() {
    let sb = start(SeedSpec::vocabulary_only(13)).await;
    let api = Api::new(&sb, &sb.demo_api_key());
    let user = sb.default_user_id();
    let (url, got) = receiver(2).await;
    let mut tokens = std::collections::HashMap::new();
    for ev in [
        WebhookEventType::CandidateStageChange,
        WebhookEventType::CandidateArchiveChange,
        WebhookEventType::CandidateHired,
        WebhookEventType::ContactCreated,
        WebhookEventType::CandidateDeleted,
    ] {
        let h = sb.register_webhook(ev, &url);
        assert_eq!(h.configuration.signature_token.as_ref().unwrap().len(), 48);
        tokens.insert(
            ev.as_str().to_owned(),
            h.configuration.signature_token.unwrap(),
        );
    }
    // via the API, with an origin condition: only referred applications are delivered
    let created = api.post("/webhooks", json!({"url": url, "event": "applicationCreated", "configuration": {"conditions": {"origins": ["referred"]}}})).await;
    assert_eq!(created.status, 201, "{}", created.json);
    let token = created.json["data"]["configuration"]["signatureToken"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(token.len(), 48);
    tokens.insert("applicationCreated".into(), token);
    let listed = api.get("/webhooks").await;
    assert_eq!(listed.json["data"].as_array().unwrap().len(), 6);
    assert_error(&api.post("/webhooks", json!({"url": url, "event": "contactCreated", "configuration": {"conditions": {"origins": ["referred"]}}})).await, 400);
    assert_error(
        &api.post(
            "/webhooks",
            json!({"url": "not a url", "event": "contactCreated"}),
        )
        .await,
        400,
    );
    assert_error(
        &api.post("/webhooks", json!({"url": url, "event": "somethingElse"}))
            .await,
        400,
    );

    let posting = api
        .post(
            &format!("/postings?perform_as={user}"),
            json!({"text": "Designer", "state": "published"}),
        )
        .await
        .json["data"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let started = Instant::now();
    let o = api.post(&format!("/opportunities?perform_as={user}"), json!({"name": "Nguyễn Thị Minh Khai", "emails": ["khai@example.com"], "postings": [posting], "origin": "sourced"})).await;
    assert!(
        started.elapsed() < Duration::from_millis(500),
        "requests never wait for deliveries"
    );
    let id = o.json["data"]["id"].as_str().unwrap().to_owned();
    let contact = o.json["data"]["contact"].as_str().unwrap().to_owned();
    api.post(
        &format!("/opportunities?perform_as={user}"),
        json!({"emails": ["ref@example.com"], "postings": [posting], "origin": "referred"}),
    )
    .await;
    api.put(
        &format!("/opportunities/{id}/stage"),
        json!({"stage": "offer"}),
    )
    .await;
    let hired = sb.read(|db| {
        db.archive_reasons()
            .find(|r| r.text == "Hired")
            .unwrap()
            .id
            .clone()
    });
    api.put(
        &format!("/opportunities/{id}/archived"),
        json!({"reason": hired}),
    )
    .await;
    let admin = reqwest::Client::new();
    assert_eq!(
        admin
            .delete(format!("{}/_sandbox/opportunities/{id}", sb.url()))
            .send()
            .await
            .unwrap()
            .status(),
        204
    );

    // contactCreated ×2, applicationCreated ×1 (referred only), stage, archive, hired, deleted
    eventually(|| got.lock().unwrap().len() >= 7).await;
    // Every delivery was queued when its request returned; once all have finished, nothing
    // more can arrive.
    eventually(|| sb.webhook_deliveries().iter().all(|r| r.finished)).await;
    let got = got.lock().unwrap().clone();
    let events: Vec<&str> = got
        .iter()
        .map(|(_, v)| v["event"].as_str().unwrap())
        .collect();
    assert_eq!(got.len(), 7, "{events:?}");
    for (ua, v) in &got {
        assert_eq!(ua, "Lever-Webhooks");
        let d: WebhookDelivery = serde_json::from_value(v.clone()).unwrap();
        assert_eq!(d.token.len(), 48);
        assert!(d.id.is_some());
        d.verify(&tokens[&d.event])
            .unwrap_or_else(|e| panic!("{}: {e}", d.event));
        assert_eq!(
            d.signature.as_deref(),
            Some(lever_model::webhook::sign(&tokens[&d.event], &d.token, d.triggered_at).as_str())
        );
    }
    let by = |e: &str| {
        got.iter()
            .find(|(_, v)| v["event"] == e)
            .map(|(_, v)| v["data"].clone())
            .unwrap()
    };
    assert_eq!(
        by("candidateStageChange"),
        json!({"opportunityId": id, "candidateId": id, "contactId": contact, "toStageId": "offer", "fromStageId": "lead-new"})
    );
    let arch = by("candidateArchiveChange");
    assert!(arch["fromArchived"].is_null());
    assert_eq!(arch["toArchived"]["reason"], hired.as_str());
    assert_eq!(by("candidateHired")["opportunityId"], id.as_str());
    assert_eq!(by("candidateDeleted")["opportunityId"], id.as_str());
    assert_eq!(by("applicationCreated")["postingId"], posting.as_str());

    // retries: every delivery failed twice first, then succeeded
    let records = sb.webhook_deliveries();
    assert_eq!(records.len(), 7);
    for r in &records {
        assert!(
            r.delivered && r.attempts == 3 && r.last_status == Some(200),
            "{r:?}"
        );
    }

    // the deleted opportunity is listed as deleted and gone otherwise
    let deleted = api.get("/opportunities/deleted").await;
    assert_eq!(deleted.json["data"][0]["id"], id.as_str());
    assert!(deleted.json["data"][0]["deletedAt"].is_i64());
    assert_error(&api.get(&format!("/opportunities/{id}")).await, 404);

    // a receiver that never succeeds: 1 attempt + 5 retries, then given up
    let dead = sb.register_webhook(
        WebhookEventType::ContactUpdated,
        "http://127.0.0.1:9/nothing-listens",
    );
    api.put(&format!("/contacts/{contact}"), json!({"headline": "x"}))
        .await;
    eventually(|| {
        sb.webhook_deliveries()
            .iter()
            .any(|r| r.webhook_id == dead.id && r.finished)
    })
    .await;
    let r = sb
        .webhook_deliveries()
        .into_iter()
        .find(|r| r.webhook_id == dead.id)
        .unwrap();
    assert_eq!((r.attempts, r.delivered), (6, false));

    // bulk update and delete
    let hook_id = created.json["data"]["id"].as_str().unwrap();
    let put = api
        .put(
            "/webhooks",
            json!({"data": [{"id": hook_id, "url": "https://example.com/new"}]}),
        )
        .await;
    assert_eq!(put.json["data"][0]["url"], "https://example.com/new");
    assert_eq!(
        api.call("DELETE", &format!("/webhooks/{hook_id}"), None)
            .await
            .status,
        204
    );
    assert_error(
        &api.call("DELETE", &format!("/webhooks/{hook_id}"), None)
            .await,
        404,
    );
}

#[tokio::test]
async fn faults_and_rate_limit() {
    let sb = start(SeedSpec::vocabulary_only(17)).await;
    let api = Api::new(&sb, &sb.demo_api_key());
    let user = sb.default_user_id();
    let no_pool = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();

    // drop: connection closed without a response and nothing created
    sb.set_faults(FaultConfig {
        fail_next: vec![ScriptedFault::Drop],
        ..Default::default()
    });
    let err = no_pool
        .post(format!("{}/opportunities?perform_as={user}", api.base))
        .basic_auth(&api.key, Some(""))
        .json(&json!({"name": "Dropped"}))
        .send()
        .await;
    assert!(err.is_err(), "expected a closed connection, got {err:?}");
    assert_eq!(sb.read(|db| db.opportunity_count()), 0);
    let stats = sb.stats();
    assert_eq!((stats.dropped_connections, stats.injected_faults), (1, 1));
    assert_eq!(stats.writes_to(Operation::CreateOpportunity), 0);
    assert!(sb.faults().fail_next.is_empty());

    // scripted statuses then normal service; faults apply only after auth
    sb.set_faults(FaultConfig {
        fail_next: vec![
            ScriptedFault::Status(503),
            ScriptedFault::Status(500),
            ScriptedFault::SlowMs(60),
        ],
        ..Default::default()
    });
    assert_error(
        &reply(
            reqwest::get(format!("{}/stages", sb.api_url()))
                .await
                .unwrap(),
        )
        .await,
        401,
    );
    let r = api.get("/stages").await;
    assert_error(&r, 503);
    assert_eq!(r.json["code"], "ServiceUnavailable");
    assert_error(&api.get("/stages").await, 500);
    let t = Instant::now();
    assert_eq!(api.get("/stages").await.status, 200);
    assert!(t.elapsed() >= Duration::from_millis(60));
    assert_eq!(api.get("/stages").await.status, 200);
    // random rates
    sb.set_faults(FaultConfig {
        rate_429: 1.0,
        ..Default::default()
    });
    let r = api.get("/stages").await;
    assert_error(&r, 429);
    assert!(r.headers.get("retry-after").is_none());
    sb.set_faults(FaultConfig::default());
    // drop via random rate keeps the server healthy for the next request
    sb.set_faults(FaultConfig {
        drop_rate: 1.0,
        ..Default::default()
    });
    assert!(
        no_pool
            .get(format!("{}/stages", api.base))
            .basic_auth(&api.key, Some(""))
            .send()
            .await
            .is_err()
    );
    sb.set_faults(FaultConfig::default());
    assert_eq!(api.get("/stages").await.status, 200);

    // admin API round trip for faults
    let http = reqwest::Client::new();
    let put = reply(
        http.put(format!("{}/_sandbox/faults", sb.url()))
            .json(&json!({"fail_next": [{"status": 503}, "drop", {"slow_ms": 5}]}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(put.status, 200);
    assert_eq!(
        sb.faults().fail_next,
        vec![
            ScriptedFault::Status(503),
            ScriptedFault::Drop,
            ScriptedFault::SlowMs(5)
        ]
    );
    sb.set_faults(FaultConfig::default());

    // rate limit: burst of 20 per credential, then 429; other keys unaffected; switchable
    sb.set_rate_limit(true);
    let other = Api::new(&sb, &sb.issue_api_key(KeySpec::all("other")));
    let mut statuses = Vec::new();
    for _ in 0..30 {
        statuses.push(api.get("/stages").await.status);
    }
    let limited = statuses.iter().filter(|s| **s == 429).count();
    assert!(limited >= 5, "{statuses:?}");
    assert_eq!(statuses.iter().take(20).filter(|s| **s == 200).count(), 20);
    let r = api.get("/stages").await;
    assert_eq!(r.json["code"], "TooManyRequests");
    assert!(r.headers.get("retry-after").is_none());
    assert_eq!(other.get("/stages").await.status, 200);
    assert!(sb.stats().rate_limited >= 5);
    sb.set_rate_limit(false);
    assert_eq!(api.get("/stages").await.status, 200);

    // admin stats and reset
    let s = reply(
        http.get(format!("{}/_sandbox/stats", sb.url()))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(s.json["requests"]["GET /stages"]["200"].as_u64().unwrap() > 20);
    assert!(s.json["total_requests"].as_u64().unwrap() > 20);
    assert_eq!(
        http.post(format!("{}/_sandbox/stats/reset", sb.url()))
            .send()
            .await
            .unwrap()
            .status(),
        204
    );
    assert_eq!(sb.stats().total_requests(), 0);
}

#[tokio::test]
async fn confidential_data_needs_key_toggle_and_parameter() {
    let sb = start(SeedSpec::demo()).await;
    let (conf_posting, conf_opp, total) = sb.read(|db| {
        let p = db
            .postings()
            .find(|p| p.confidentiality == lever_model::Confidentiality::Confidential)
            .unwrap()
            .id
            .clone();
        let o = db
            .opportunities()
            .find(|o| o.confidentiality == lever_model::Confidentiality::Confidential)
            .map(|o| o.id.clone());
        (p, o, db.postings().count())
    });
    let plain = Api::new(&sb, &sb.issue_api_key(KeySpec::all("plain")));
    let full = Api::new(&sb, &sb.demo_api_key());
    let count = |r: Reply| r.json["data"].as_array().unwrap().len();
    let all_states =
        "state=published&state=internal&state=closed&state=draft&state=pending&state=rejected";
    // Asking for confidential data without access is an access error, not an empty list.
    assert_error(
        &plain
            .get(&format!("/postings?{all_states}&confidentiality=all"))
            .await,
        403,
    );
    let visible_plain = count(plain.get(&format!("/postings?{all_states}")).await);
    let visible_full = count(
        full.get(&format!("/postings?{all_states}&confidentiality=all"))
            .await,
    );
    let visible_default = count(full.get(&format!("/postings?{all_states}")).await);
    assert!(
        visible_full > visible_plain,
        "{visible_full} vs {visible_plain}"
    );
    assert_eq!(visible_plain, visible_default);
    assert!(visible_full <= total);
    assert_error(
        &plain.get("/postings?confidentiality=confidential").await,
        403,
    );
    assert_error(
        &plain
            .get(&format!("/postings/{conf_posting}?confidentiality=all"))
            .await,
        403,
    );
    // Without the parameter a confidential posting stays absent (its existence is not leaked).
    assert_error(&plain.get(&format!("/postings/{conf_posting}")).await, 404);
    assert_error(&full.get(&format!("/postings/{conf_posting}")).await, 404);
    assert_eq!(
        full.get(&format!("/postings/{conf_posting}?confidentiality=all"))
            .await
            .status,
        200
    );
    if let Some(o) = conf_opp {
        assert_error(
            &plain
                .get(&format!("/opportunities/{o}?confidentiality=all"))
                .await,
            403,
        );
        assert_error(&plain.get(&format!("/opportunities/{o}")).await, 404);
        assert_eq!(
            full.get(&format!("/opportunities/{o}?confidentiality=confidential"))
                .await
                .status,
            200
        );
    }
    // published internal-only postings are hidden unless a distributionChannel is given
    let internal_only = sb.read(|db| {
        db.postings()
            .find(|p| {
                p.state == lever_model::PostingState::Published
                    && p.distribution_channels.as_deref()
                        == Some(&[lever_model::DistributionChannel::Internal])
            })
            .unwrap()
            .id
            .clone()
    });
    let ids = |r: Reply| {
        r.json["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["id"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    assert!(!ids(full.get("/postings?state=published").await).contains(&internal_only));
    assert!(
        ids(full
            .get("/postings?state=published&distributionChannel=internal")
            .await)
        .contains(&internal_only)
    );
}

#[tokio::test]
async fn admin_api_and_shutdown() {
    let sb = start(SeedSpec::vocabulary_only(19)).await;
    let http = reqwest::Client::new();
    let summary = reply(
        http.get(format!("{}/_sandbox", sb.url()))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(summary.json["demo_api_key"], sb.demo_api_key().as_str());
    assert_eq!(
        summary.json["default_user_id"],
        sb.default_user_id().as_str()
    );
    assert!(
        summary.json["examples"][0]
            .as_str()
            .unwrap()
            .starts_with("curl -u lsk_")
    );

    let key = reply(
        http.post(format!("{}/_sandbox/keys", sb.url()))
            .json(&json!({"label": "plugin", "permissions": ["list stages"]}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(key.status, 201);
    let key = key.json["key"].as_str().unwrap().to_owned();
    let api = Api::new(&sb, &key);
    assert_eq!(api.get("/stages").await.status, 200);
    assert_error(&api.get("/users").await, 403);
    let token = reply(
        http.post(format!("{}/_sandbox/tokens", sb.url()))
            .json(&json!({"permissions": "all", "confidential": true}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let token = token.json["accessToken"].as_str().unwrap().to_owned();
    assert_eq!(
        http.get(format!("{}/users", sb.api_url()))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        http.delete(format!("{}/_sandbox/credentials/{key}", sb.url()))
            .send()
            .await
            .unwrap()
            .status(),
        204
    );
    assert_error(&api.get("/stages").await, 401);
    let rl = reply(
        http.put(format!("{}/_sandbox/rate-limit", sb.url()))
            .json(&json!({"enabled": true}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(rl.json, json!({"enabled": true}));
    let hook = reply(
        http.post(format!("{}/_sandbox/webhooks", sb.url()))
            .json(&json!({"event": "candidateStageChange", "url": "http://127.0.0.1:9/x"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(hook.status, 201);
    assert_eq!(
        hook.json["configuration"]["signatureToken"]
            .as_str()
            .unwrap()
            .len(),
        48
    );
    assert_eq!(
        http.post(format!("{}/_sandbox/offset-tokens/rotate", sb.url()))
            .send()
            .await
            .unwrap()
            .status(),
        204
    );
    let deliveries = reply(
        http.get(format!("{}/_sandbox/webhook-deliveries", sb.url()))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(deliveries.json, json!([]));

    // shutdown is prompt even with a pooled keep-alive connection open
    let url = sb.api_url();
    let t = Instant::now();
    sb.shutdown().await;
    assert!(t.elapsed() < Duration::from_secs(2), "{:?}", t.elapsed());
    assert!(http.get(format!("{url}/stages")).send().await.is_err());
}
