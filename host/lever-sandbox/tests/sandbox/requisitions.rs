//! Requisitions, requisition fields, user creation and the documented list filters of
//! postings and opportunities, over real HTTP.

mod listing;

use crate::common::*;
use lever_model::Permission;
use lever_sandbox::{KeySpec, SeedSpec};
use serde_json::{Value, json};

const REQ_KEYS: &[&str] = &[
    "id",
    "requisitionCode",
    "name",
    "backfill",
    "confidentiality",
    "createdAt",
    "creator",
    "headcountHired",
    "headcountInfinite",
    "headcountTotal",
    "hiringManager",
    "owner",
    "location",
    "internalNotes",
    "postings",
    "status",
    "team",
    "department",
    "offerIds",
    "approval",
    "compensationBand",
    "employmentStatus",
    "customFields",
    "timeToFillStartAt",
    "timeToFillEndAt",
];

pub(super) fn data(r: &Reply) -> Vec<Value> {
    assert_eq!(r.status, 200, "{}", r.json);
    r.json["data"].as_array().expect("data array").clone()
}

/// Follow `next` in pages of three until the last page, collecting ids.
async fn walk(api: &Api, path: &str) -> Vec<String> {
    collect(api, path, 3)
        .await
        .iter()
        .map(|v| v["id"].as_str().unwrap().to_owned())
        .collect()
}

/// Every object of a list, following `next` with pages of `limit`.
pub(super) async fn collect(api: &Api, path: &str, limit: usize) -> Vec<Value> {
    let sep = if path.contains('?') { '&' } else { '?' };
    let mut out = Vec::new();
    let mut next: Option<String> = None;
    loop {
        let url = match &next {
            Some(t) => format!("{path}{sep}limit={limit}&offset={t}"),
            None => format!("{path}{sep}limit={limit}"),
        };
        let r = api.get(&url).await;
        out.extend(data(&r));
        match r.json["next"].as_str() {
            Some(t) if r.json["hasNext"] == true => next = Some(t.to_owned()),
            _ => return out,
        }
    }
}

fn new_req(code: &str) -> Value {
    json!({"requisitionCode": code, "name": "Platform Engineer", "headcountTotal": 2})
}

#[tokio::test]
async fn requisitions_list_shape_filters_and_pages() {
    let sb = start(SeedSpec::demo()).await;
    let api = Api::new(&sb, &sb.demo_api_key());
    let all = api.get("/requisitions?confidentiality=all").await;
    let reqs = data(&all);
    assert!(reqs.len() > 5, "seeded requisitions: {}", reqs.len());
    assert_eq!(all.json["hasNext"], false);
    for r in &reqs {
        assert_keys(r, REQ_KEYS);
        assert!(r["createdAt"].is_i64() && r["customFields"].is_object());
    }
    // Oldest first, by createdAt.
    let created: Vec<i64> = reqs
        .iter()
        .map(|r| r["createdAt"].as_i64().unwrap())
        .collect();
    assert!(created.windows(2).all(|w| w[0] <= w[1]));
    // Seeded requisitions and postings agree on codes.
    let postings = data(&api.get("/postings?confidentiality=all&state=published&state=internal&state=closed&state=draft&state=pending&state=rejected&distributionChannel=public&distributionChannel=internal").await);
    for p in postings
        .iter()
        .filter(|p| !p["requisitionCodes"].as_array().unwrap().is_empty())
    {
        let code = p["requisitionCodes"][0].as_str().unwrap();
        let r = data(
            &api.get(&format!(
                "/requisitions?confidentiality=all&requisition_code={code}"
            ))
            .await,
        );
        assert_eq!(r.len(), 1, "{code}");
        assert!(r[0]["postings"].as_array().unwrap().contains(&p["id"]));
    }

    // Pagination covers every requisition once.
    let mut walked = walk(&api, "/requisitions?confidentiality=all").await;
    assert_eq!(walked.len(), reqs.len());
    walked.dedup();
    assert_eq!(walked.len(), reqs.len());

    // status (repeatable) and created_at range.
    let open = data(
        &api.get("/requisitions?confidentiality=all&status=open")
            .await,
    );
    assert!(!open.is_empty() && open.iter().all(|r| r["status"] == "open"));
    let some = data(
        &api.get("/requisitions?confidentiality=all&status=draft&status=closed")
            .await,
    );
    assert!(
        some.iter()
            .all(|r| r["status"] == "draft" || r["status"] == "closed")
    );
    assert!(some.iter().any(|r| r["status"] == "draft"));
    let mid = created[created.len() / 2];
    let later = data(
        &api.get(&format!(
            "/requisitions?confidentiality=all&created_at_start={mid}"
        ))
        .await,
    );
    assert!(
        !later.is_empty()
            && later
                .iter()
                .all(|r| r["createdAt"].as_i64().unwrap() >= mid)
    );
    let earlier = data(
        &api.get(&format!(
            "/requisitions?confidentiality=all&created_at_end={}",
            mid - 1
        ))
        .await,
    );
    assert_eq!(later.len() + earlier.len(), reqs.len());

    // Confidential ones are hidden by default and without the key's toggle.
    let confidential = reqs
        .iter()
        .filter(|r| r["confidentiality"] == "confidential")
        .count();
    assert!(confidential > 0);
    assert_eq!(
        data(&api.get("/requisitions").await).len(),
        reqs.len() - confidential
    );
    let plain = Api::new(&sb, &sb.issue_api_key(KeySpec::all("plain")));
    // Asking for confidential data without the toggle is an access error.
    assert_error(
        &plain
            .get("/requisitions?confidentiality=confidential")
            .await,
        403,
    );
    assert_eq!(
        data(&plain.get("/requisitions").await).len(),
        reqs.len() - confidential
    );
    let secret = reqs
        .iter()
        .find(|r| r["confidentiality"] == "confidential")
        .unwrap();
    assert_error(
        &plain
            .get(&format!("/requisitions/{}", secret["id"].as_str().unwrap()))
            .await,
        404,
    );

    // Bad filters.
    for bad in [
        "status=frozen",
        "created_at_start=yesterday",
        "confidentiality=some",
        "limit=0",
        "offset=forged",
    ] {
        assert_error(&api.get(&format!("/requisitions?{bad}")).await, 400);
    }
    sb.shutdown().await;
}

#[tokio::test]
async fn requisition_get_create_update_and_errors() {
    let sb = start(SeedSpec::demo()).await;
    let api = Api::new(&sb, &sb.demo_api_key());
    let first = &data(&api.get("/requisitions?limit=1").await)[0];
    let id = first["id"].as_str().unwrap();
    let one = api.get(&format!("/requisitions/{id}")).await;
    assert_eq!(one.status, 200);
    assert_keys(&one.json["data"], REQ_KEYS);
    let missing = api.get("/requisitions/nope").await;
    assert_error(&missing, 404);
    assert_eq!(missing.json["code"], "ResourceNotFound");

    let owner = sb.default_user_id();
    let mut body = new_req("ENG-900");
    body["owner"] = json!(owner);
    body["location"] = json!("Berlin");
    body["customFields"] =
        json!({"cost_center": "cc_rnd", "budget": 150000, "hiring_plan": {"quarter": "q3"}});
    let c = api.post("/requisitions", body).await;
    assert_eq!(c.status, 201, "{}", c.json);
    let r = &c.json["data"];
    assert_keys(r, REQ_KEYS);
    assert_eq!(r["status"], "open");
    assert_eq!(r["headcountTotal"], 2);
    assert_eq!(r["headcountHired"], 0);
    assert_eq!(r["owner"], json!(owner));
    let rid = r["id"].as_str().unwrap().to_owned();
    assert_eq!(
        api.get(&format!("/requisitions/{rid}")).await.json["data"],
        *r
    );

    // Validation.
    let cases = [
        (json!({"name": "x", "headcountTotal": 1}), 400),
        (json!({"requisitionCode": "A-1", "headcountTotal": 1}), 400),
        (json!({"requisitionCode": "A-1", "name": "x"}), 400),
        (
            json!({"requisitionCode": "A-1", "name": "x", "headcountTotal": 0}),
            400,
        ),
        (
            json!({"requisitionCode": "A-1", "name": "x", "headcountTotal": "lots"}),
            400,
        ),
        (
            json!({"requisitionCode": "A-1", "name": "x", "headcountTotal": 1, "status": "frozen"}),
            400,
        ),
        (
            json!({"requisitionCode": "A-1", "name": "x", "headcountTotal": 1, "customFields": {"nope": 1}}),
            400,
        ),
        (
            json!({"requisitionCode": "A-1", "name": "x", "headcountTotal": 1, "customFields": {"cost_center": "cc_moon"}}),
            400,
        ),
        (
            json!({"requisitionCode": "A-1", "name": "x", "headcountTotal": 1, "customFields": {"budget": "a lot"}}),
            400,
        ),
        (
            json!({"requisitionCode": "A-1", "name": "x", "headcountTotal": 1, "customFields": {"hiring_plan": {"plan_line": "x"}}}),
            400,
        ),
        (
            json!({"requisitionCode": "A-1", "name": "x", "headcountTotal": 1, "owner": "ghost"}),
            400,
        ),
        (
            json!({"requisitionCode": "A-1", "name": "x", "headcountTotal": 1, "compensationBand": {"min": 9, "max": 1}}),
            400,
        ),
        (new_req("ENG-900"), 409),
    ];
    for (body, status) in cases {
        let r = api.post("/requisitions", body.clone()).await;
        assert_error(&r, status);
        assert!(!r.json["message"].as_str().unwrap().is_empty(), "{body}");
    }
    assert_error(&api.call("POST", "/requisitions", None).await, 400);
    let unlimited = api
        .post(
            "/requisitions",
            json!({"requisitionCode": "EVG-1", "name": "Evergreen", "headcountTotal": "unlimited"}),
        )
        .await;
    assert_eq!(unlimited.status, 201);
    assert_eq!(unlimited.json["data"]["headcountInfinite"], true);

    // PUT replaces: omitted fields are cleared, required ones checked, codes stay unique.
    let mut put = new_req("ENG-901");
    put["status"] = json!("closed");
    let u = api.put(&format!("/requisitions/{rid}"), put).await;
    assert_eq!(u.status, 200, "{}", u.json);
    let d = &u.json["data"];
    assert_eq!(d["requisitionCode"], "ENG-901");
    assert_eq!(d["location"], Value::Null);
    assert_eq!(d["owner"], Value::Null);
    assert_eq!(d["customFields"], json!({}));
    assert_eq!(d["createdAt"], r["createdAt"]);
    assert!(d["timeToFillEndAt"].is_i64());
    assert_error(
        &api.put(&format!("/requisitions/{rid}"), json!({"name": "x"}))
            .await,
        400,
    );
    assert_error(
        &api.put(&format!("/requisitions/{rid}"), new_req("EVG-1"))
            .await,
        409,
    );
    assert_error(&api.put("/requisitions/nope", new_req("X-1")).await, 404);

    // Confidential requisitions need the key's toggle.
    let plain = Api::new(&sb, &sb.issue_api_key(KeySpec::all("plain")));
    let mut secret = new_req("SEC-1");
    secret["confidentiality"] = json!("confidential");
    assert_error(&plain.post("/requisitions", secret.clone()).await, 403);
    assert_eq!(api.post("/requisitions", secret).await.status, 201);

    // Permissions: reading does not allow writing.
    let reader = Api::new(
        &sb,
        &sb.issue_api_key(KeySpec::only("reader", [Permission::ListRequisitions])),
    );
    assert_eq!(reader.get("/requisitions").await.status, 200);
    assert_error(&reader.post("/requisitions", new_req("R-1")).await, 403);
    assert_error(&reader.get(&format!("/requisitions/{rid}")).await, 403);
    assert_error(&reader.get("/requisition_fields").await, 403);
    assert_error(
        &reader
            .post("/users", json!({"name": "a", "email": "a@b.io"}))
            .await,
        403,
    );
    sb.shutdown().await;
}

#[tokio::test]
async fn requisition_fields_crud_and_validation() {
    let sb = start(SeedSpec::demo()).await;
    let api = Api::new(&sb, &sb.demo_api_key());
    let list = api.get("/requisition_fields").await;
    let fields = data(&list);
    assert!(fields.len() >= 3);
    for f in &fields {
        assert_keys(f, &["id", "text", "type", "isRequired", "options"]);
    }
    let cost = fields.iter().find(|f| f["id"] == "cost_center").unwrap();
    assert_eq!(cost["type"], "dropdown");
    assert!(!cost["options"].as_array().unwrap().is_empty());
    assert_keys(&cost["options"][0], &["id", "text"]);
    assert_eq!(walk(&api, "/requisition_fields").await.len(), fields.len());
    assert_eq!(
        api.get("/requisition_fields/cost_center").await.json["data"],
        *cost
    );
    assert_error(&api.get("/requisition_fields/nope").await, 404);

    let c = api
        .post(
            "/requisition_fields",
            json!({"id": "work_model", "text": "Work model", "type": "dropdown", "isRequired": false,
                   "options": [{"text": "On site"}, {"id": "remote", "text": "Remote"}]}),
        )
        .await;
    assert_eq!(c.status, 201, "{}", c.json);
    assert_eq!(c.json["data"]["options"][0]["id"], "on_site");
    assert_eq!(
        api.get("/requisition_fields").await.json["data"]
            .as_array()
            .unwrap()
            .len(),
        fields.len() + 1
    );
    for (body, status) in [
        (
            json!({"id": "work_model", "text": "Again", "type": "text"}),
            409,
        ),
        (json!({"id": "x", "text": "X", "type": "colour"}), 400),
        (json!({"id": "x", "text": "X"}), 400),
        (json!({"id": "x", "type": "text"}), 400),
        (json!({"id": "Bad Id", "text": "X", "type": "text"}), 400),
        (json!({"id": "x", "text": "X", "type": "dropdown"}), 400),
        (
            json!({"id": "x", "text": "X", "type": "dropdown", "options": [{"text": "a"}, {"text": "a"}]}),
            400,
        ),
        (
            json!({"id": "x", "text": "X", "type": "text", "options": [{"text": "a"}]}),
            400,
        ),
        (json!({"id": "x", "text": "X", "type": "object"}), 400),
        (
            json!({"id": "x", "text": "X", "type": "object", "subfields": [{"id": "y", "text": "Y", "type": "object"}]}),
            400,
        ),
    ] {
        assert_error(&api.post("/requisition_fields", body).await, status);
    }
    // A required field becomes mandatory on requisitions.
    let u = api
        .put(
            "/requisition_fields/work_model",
            json!({"text": "Work model", "type": "dropdown", "isRequired": true, "options": [{"text": "Remote"}]}),
        )
        .await;
    assert_eq!(u.status, 200, "{}", u.json);
    assert_eq!(u.json["data"]["isRequired"], true);
    assert_error(&api.post("/requisitions", new_req("WM-1")).await, 400);
    let mut ok_body = new_req("WM-1");
    ok_body["customFields"] = json!({"work_model": "remote"});
    assert_eq!(api.post("/requisitions", ok_body).await.status, 201);
    assert_error(
        &api.put(
            "/requisition_fields/nope",
            json!({"text": "x", "type": "text"}),
        )
        .await,
        404,
    );
    assert_error(
        &api.put(
            "/requisition_fields/work_model",
            json!({"id": "other", "text": "x", "type": "text"}),
        )
        .await,
        400,
    );
    sb.shutdown().await;
}

#[tokio::test]
async fn users_create_and_filter() {
    let sb = start(SeedSpec::demo()).await;
    let api = Api::new(&sb, &sb.demo_api_key());
    let c = api
        .post("/users", json!({"name": "Spottabl Recruiter", "email": "recruiter@spottabl.com", "accessRole": "limited team member", "externalDirectoryId": "spottabl|1", "jobTitle": "Agency recruiter"}))
        .await;
    assert_eq!(c.status, 201, "{}", c.json);
    let u = &c.json["data"];
    assert_keys(
        u,
        &[
            "id",
            "name",
            "username",
            "email",
            "createdAt",
            "deactivatedAt",
            "accessRole",
            "photo",
            "externalDirectoryId",
            "linkedContactIds",
            "jobTitle",
            "managerId",
        ],
    );
    assert_eq!(u["accessRole"], "limited team member");
    assert_eq!(u["deactivatedAt"], Value::Null);
    let d = api
        .post(
            "/users",
            json!({"name": "Default Role", "email": "someone@spottabl.com"}),
        )
        .await;
    assert_eq!(d.status, 201);
    assert_eq!(d.json["data"]["accessRole"], "interviewer");

    let dup = api
        .post(
            "/users",
            json!({"name": "Again", "email": " Recruiter@Spottabl.COM "}),
        )
        .await;
    assert_error(&dup, 400);
    assert!(
        dup.json["message"]
            .as_str()
            .unwrap()
            .contains("already exists")
    );
    for bad in [
        json!({"email": "x@y.io"}),
        json!({"name": "x"}),
        json!({"name": "x", "email": "not-an-email"}),
        json!({"name": "x", "email": "x@y.io", "accessRole": "overlord"}),
        json!({"name": "x", "email": "x@y.io", "managerId": "ghost"}),
    ] {
        assert_error(&api.post("/users", bad).await, 400);
    }

    let by_email = data(&api.get("/users?email=RECRUITER@spottabl.com").await);
    assert_eq!(by_email.len(), 1);
    assert_eq!(by_email[0]["id"], u["id"]);
    let limited = data(&api.get("/users?accessRole=limited%20team%20member").await);
    assert!(limited.iter().any(|x| x["id"] == u["id"]));
    assert!(
        limited
            .iter()
            .all(|x| x["accessRole"] == "limited team member")
    );
    let both = data(
        &api.get("/users?accessRole[]=interviewer&accessRole[]=admin")
            .await,
    );
    assert!(
        both.iter()
            .all(|x| x["accessRole"] == "interviewer" || x["accessRole"] == "admin")
    );
    let dir = data(&api.get("/users?external_directory_id=spottabl%7C1").await);
    assert_eq!(dir.len(), 1);
    let active = data(&api.get("/users").await);
    let everyone = data(&api.get("/users?includeDeactivated=true").await);
    assert!(everyone.len() > active.len());
    assert!(active.iter().all(|x| x["deactivatedAt"].is_null()));
    assert_error(&api.get("/users?includeDeactivated=maybe").await, 400);
    sb.shutdown().await;
}
