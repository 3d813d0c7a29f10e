//! Raw-JSON shape checks of every resource against Lever's field names, types and nulls.

use crate::common::*;
use lever_sandbox::SeedSpec;

const POSTING_KEYS: &[&str] = &[
    "id",
    "text",
    "createdAt",
    "updatedAt",
    "user",
    "owner",
    "hiringManager",
    "confidentiality",
    "state",
    "distributionChannels",
    "categories",
    "tags",
    "content",
    "country",
    "followers",
    "reqCode",
    "requisitionCodes",
    "salaryDescription",
    "salaryDescriptionHtml",
    "salaryRange",
    "urls",
    "workplaceType",
];
const OPP_KEYS: &[&str] = &[
    "id",
    "name",
    "headline",
    "contact",
    "emails",
    "phones",
    "confidentiality",
    "location",
    "links",
    "createdAt",
    "updatedAt",
    "lastInteractionAt",
    "lastAdvancedAt",
    "snoozedUntil",
    "archived",
    "stage",
    "stageChanges",
    "owner",
    "followers",
    "tags",
    "sources",
    "origin",
    "sourcedBy",
    "applications",
    "urls",
    "dataProtection",
    "isAnonymized",
    "opportunityLocation",
];

#[tokio::test]
async fn every_resource_has_levers_shape() {
    let sb = start(SeedSpec::demo()).await;
    let api = Api::new(&sb, &sb.demo_api_key());

    // --- postings: list envelope, object shape, channel/url nulls
    let r = api.get("/postings?limit=3").await;
    assert_eq!(r.status, 200);
    assert_keys(&r.json, &["data", "hasNext", "next"]);
    assert_eq!(r.json["hasNext"], true);
    assert!(r.json["next"].is_string());
    let all = api.get("/postings?state=published&state=internal&state=closed&state=draft&state=pending&state=rejected&distributionChannel=public&distributionChannel=internal&limit=100").await;
    assert_eq!(all.json["hasNext"], false);
    assert!(
        all.json.get("next").is_none(),
        "next must be omitted on the last page"
    );
    for p in api.get("/postings?limit=100").await.json["data"]
        .as_array()
        .unwrap()
    {
        assert_keys(p, POSTING_KEYS);
        assert!(p["createdAt"].is_i64() && p["updatedAt"].is_i64());
        assert!(p["user"].is_string() && p["owner"].is_string());
        assert_keys(
            &p["categories"],
            &["team", "department", "commitment", "level", "allLocations"],
        );
        assert_keys(
            &p["content"],
            &[
                "description",
                "descriptionHtml",
                "lists",
                "closing",
                "closingHtml",
            ],
        );
        assert!(
            p["content"]["descriptionHtml"]
                .as_str()
                .unwrap()
                .contains("<div>")
        );
        assert_keys(&p["content"]["lists"][0], &["text", "content"]);
        if p["state"] == "published" {
            assert!(p["distributionChannels"].is_array());
            assert_keys(&p["urls"], &["list", "show", "apply"]);
            assert!(
                p["urls"]["show"]
                    .as_str()
                    .unwrap()
                    .starts_with("https://jobs.lever.co/")
            );
        } else {
            assert!(p["distributionChannels"].is_null() && p["urls"].is_null());
        }
        if !p["salaryRange"].is_null() {
            assert_keys(&p["salaryRange"], &["min", "max", "currency", "interval"]);
        }
    }
    let no_location = sb
        .read(|db| {
            db.postings()
                .find(|p| {
                    p.categories.location.is_none()
                        && p.confidentiality == lever_model::Confidentiality::NonConfidential
                })
                .map(|p| p.id.clone())
        })
        .unwrap();
    let p = api.get(&format!("/postings/{no_location}")).await;
    assert!(
        p.json["data"]["categories"].get("location").is_none(),
        "absent category key"
    );
    let expanded = api
        .get(&format!("/postings/{no_location}?expand=owner"))
        .await;
    assert_keys(
        &expanded.json["data"]["owner"],
        &["id", "name", "email", "accessRole"],
    );

    // --- opportunities
    let r = api.get("/opportunities?limit=100").await;
    let opps = r.json["data"].as_array().unwrap();
    assert_eq!(opps.len(), 100);
    for o in opps {
        assert_keys(o, OPP_KEYS);
        assert!(o["contact"].is_string() && o["stage"].is_string());
        assert!(o["archived"].is_null() || o["archived"].is_object());
        if o["archived"].is_object() {
            assert_keys(&o["archived"], &["archivedAt", "reason"]);
            assert!(o["archived"]["archivedAt"].is_i64());
        }
        assert!(
            o.get("archivedAt").is_none(),
            "legacy fields are not emitted"
        );
        assert_keys(
            &o["stageChanges"][0],
            &["toStageId", "toStageIndex", "userId", "updatedAt"],
        );
        assert_keys(&o["urls"], &["list", "show"]);
        assert!(o["applications"].as_array().unwrap().len() <= 1);
        for ph in o["phones"].as_array().unwrap() {
            assert_keys(ph, &["type", "value"]);
        }
    }
    assert!(
        opps.iter().any(|o| o["archived"].is_null())
            && opps.iter().any(|o| o["archived"].is_object())
    );
    let with_app = opps
        .iter()
        .find(|o| !o["applications"].as_array().unwrap().is_empty())
        .unwrap();
    let id = with_app["id"].as_str().unwrap();
    let e = api
        .get(&format!(
            "/opportunities/{id}?expand=stage&expand=applications&expand=contact&expand=owner"
        ))
        .await;
    let d = &e.json["data"];
    assert_keys(&d["stage"], &["id", "text"]);
    assert_keys(&d["contact"], &["id", "name", "emails"]);
    assert_keys(&d["owner"], &["id", "name", "username"]);
    let app = &d["applications"][0];
    assert_keys(
        app,
        &[
            "id",
            "opportunityId",
            "candidateId",
            "createdAt",
            "type",
            "posting",
            "postingOwner",
            "postingHiringManager",
            "user",
            "name",
            "email",
            "phone",
            "company",
            "links",
            "comments",
            "customQuestions",
            "archived",
            "requisitionForHire",
        ],
    );
    let inc = api.get(&format!("/opportunities/{id}?include=tags")).await;
    assert_eq!(
        inc.json["data"].as_object().unwrap().len(),
        2,
        "include keeps id + tags: {}",
        inc.json
    );

    // --- applications (deprecated sub-resource)
    let apps = api.get(&format!("/opportunities/{id}/applications")).await;
    assert_eq!(apps.json["data"][0]["opportunityId"], id);
    let app_id = apps.json["data"][0]["id"].as_str().unwrap();
    assert_eq!(
        api.get(&format!("/opportunities/{id}/applications/{app_id}"))
            .await
            .status,
        200
    );

    // --- contact
    let cid = with_app["contact"].as_str().unwrap();
    let c = api.get(&format!("/contacts/{cid}")).await;
    assert_keys(
        &c.json["data"],
        &[
            "id",
            "name",
            "headline",
            "isAnonymized",
            "location",
            "emails",
            "phones",
        ],
    );
    assert_keys(&c.json["data"]["location"], &["name"]);

    // --- notes, files, resumes
    let (with_note, with_file, with_resume) = sb.read(|db| {
        let pick = |f: &dyn Fn(&str) -> bool| {
            db.opportunities()
                .find(|o| {
                    o.confidentiality == lever_model::Confidentiality::NonConfidential && f(&o.id)
                })
                .map(|o| o.id.clone())
                .unwrap()
        };
        (
            pick(&|id| !db.notes(id).is_empty()),
            pick(&|id| {
                db.files(id)
                    .iter()
                    .any(|f| f.status == Some(lever_model::FileStatus::Processed))
            }),
            pick(&|id| !db.resumes(id).is_empty()),
        )
    });
    let n = api.get(&format!("/opportunities/{with_note}/notes")).await;
    let note = &n.json["data"][0];
    assert_keys(
        note,
        &[
            "id",
            "text",
            "fields",
            "user",
            "secret",
            "createdAt",
            "completedAt",
            "deletedAt",
        ],
    );
    assert_eq!(note["text"], "Note");
    assert_keys(
        &note["fields"][0],
        &[
            "type",
            "text",
            "value",
            "createdAt",
            "user",
            "score",
            "stage",
        ],
    );
    assert_eq!(note["fields"][0]["type"], "note");
    assert!(note["deletedAt"].is_null());
    let nid = note["id"].as_str().unwrap();
    assert_eq!(
        api.get(&format!("/opportunities/{with_note}/notes/{nid}"))
            .await
            .json["data"]["id"],
        nid
    );

    let f = api.get(&format!("/opportunities/{with_file}/files")).await;
    let file = f.json["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["status"] == "processed")
        .unwrap()
        .clone();
    assert_keys(
        &file,
        &[
            "id",
            "downloadUrl",
            "ext",
            "name",
            "uploadedAt",
            "status",
            "size",
        ],
    );
    assert_eq!(file["ext"], ".pdf");
    assert!(file["size"].is_u64());
    let url = file["downloadUrl"].as_str().unwrap();
    assert!(
        url.starts_with(&sb.api_url()) && url.ends_with("/download"),
        "{url}"
    );
    let dl = reply(
        api.http
            .get(url)
            .basic_auth(&api.key, Some(""))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(dl.status, 200);
    assert!(dl.bytes.starts_with(b"%PDF-"));
    assert_eq!(dl.headers["content-type"], "application/pdf");

    let rs = api
        .get(&format!("/opportunities/{with_resume}/resumes"))
        .await;
    let resume = &rs.json["data"][0];
    assert_keys(resume, &["id", "createdAt", "file", "parsedData"]);
    assert_keys(
        &resume["file"],
        &["name", "ext", "downloadUrl", "uploadedAt", "status", "size"],
    );
    assert_eq!(resume["file"]["ext"], "pdf");
    assert_keys(&resume["parsedData"], &["positions", "schools"]);
    let rid = resume["id"].as_str().unwrap();
    let rdl = api
        .get(&format!(
            "/opportunities/{with_resume}/resumes/{rid}/download"
        ))
        .await;
    assert!(rdl.bytes.starts_with(b"%PDF-"));

    // --- failed file → 422
    let failed = sb.read(|db| {
        db.opportunities().find_map(|o| {
            db.files(&o.id)
                .iter()
                .find(|f| f.status == Some(lever_model::FileStatus::Error))
                .map(|f| (o.id.clone(), f.id.clone()))
        })
    });
    if let Some((o, f)) = failed {
        assert_error(
            &api.get(&format!(
                "/opportunities/{o}/files/{f}/download?confidentiality=all"
            ))
            .await,
            422,
        );
    }

    // --- vocabulary
    let st = api.get("/stages").await;
    assert_eq!(
        st.json["data"][0],
        serde_json::json!({"id": "lead-new", "text": "New lead"})
    );
    assert_eq!(st.json["hasNext"], false);
    let ar = api.get("/archive_reasons").await;
    for r in ar.json["data"].as_array().unwrap() {
        assert_keys(r, &["id", "text", "status", "type"]);
    }
    let hired = api.get("/archive_reasons?type=hired").await;
    assert!(
        hired.json["data"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["type"] == "hired")
    );
    let users = api.get("/users").await;
    for u in users.json["data"].as_array().unwrap() {
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
        assert!(
            u["deactivatedAt"].is_null(),
            "deactivated users hidden by default"
        );
    }
    let with_deactivated = api.get("/users?includeDeactivated=true").await;
    assert_eq!(
        with_deactivated.json["data"].as_array().unwrap().len(),
        users.json["data"].as_array().unwrap().len() + 1
    );
    let agency = api
        .get("/users?email=RECRUITER@northwind-talent.example")
        .await;
    assert_eq!(agency.json["data"][0]["jobTitle"], "External Recruiter");
    let admins = api
        .get("/users?accessRole=admin&accessRole[]=super%20admin")
        .await;
    assert_eq!(admins.json["data"].as_array().unwrap().len(), 3);
    let tags = api.get("/tags").await;
    assert_keys(&tags.json["data"][0], &["text", "count"]);
    let sources = api.get("/sources").await;
    assert!(
        sources.json["data"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["text"] == "Referral")
    );

    // --- deleted list is an empty page, apply form has its sections
    let del = api.get("/opportunities/deleted").await;
    assert_eq!(del.json, serde_json::json!({"data": [], "hasNext": false}));
    let pid = all.json["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["state"] == "published")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let form = api.get(&format!("/postings/{pid}/apply")).await;
    assert_keys(
        &form.json["data"],
        &[
            "id",
            "text",
            "customQuestions",
            "eeoQuestions",
            "personalInformation",
            "urls",
            "consentDisclosures",
        ],
    );

    // --- Unicode survives the round trip
    for name in ["李雷", "Zoë Ødegård", "محمد علي", "Nguyễn Thị Minh Khai"] {
        let id = sb
            .read(|db| {
                db.opportunities()
                    .find(|o| o.name.as_deref() == Some(name))
                    .map(|o| o.id.clone())
            })
            .unwrap();
        let o = api
            .get(&format!("/opportunities/{id}?confidentiality=all"))
            .await;
        assert_eq!(o.json["data"]["name"], name);
    }
}

#[tokio::test]
async fn errors_are_lever_shaped_everywhere() {
    let sb = start(SeedSpec::vocabulary_only(1)).await;
    let api = Api::new(&sb, &sb.demo_api_key());
    let r = api.get("/nope").await;
    assert_error(&r, 404);
    assert_eq!(r.json["code"], "ResourceNotFound");
    assert_error(&api.call("PATCH", "/postings", None).await, 405);
    assert_error(&api.get("/postings/not-a-posting").await, 404);
    assert_eq!(
        api.get("/stages/nope").await.json["message"],
        "stages nope was not found"
    );
    assert_error(
        &reply(
            reqwest::get(format!("{}/elsewhere", sb.url()))
                .await
                .unwrap(),
        )
        .await,
        404,
    );
    // malformed JSON, wrong shape, empty body
    let user = sb.default_user_id();
    for body in ["{not json", "[1,2]", ""] {
        let r = reply(
            api.http
                .post(format!("{}/opportunities?perform_as={user}", api.base))
                .basic_auth(&api.key, Some(""))
                .header("content-type", "application/json")
                .body(body)
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_error(&r, 400);
    }
    // bad query params
    assert_error(&api.get("/opportunities?limit=0").await, 400);
    assert_error(&api.get("/opportunities?limit=101").await, 400);
    assert_error(
        &api.get("/opportunities?created_at_start=yesterday").await,
        400,
    );
    assert_error(&api.get("/opportunities?archived=maybe").await, 400);
    assert_error(&api.get("/opportunities?expand=everything").await, 400);
    assert_error(&api.get("/postings?state=open").await, 400);
    assert_error(
        &api.get("/postings?updated_at_start=1&team=Backend").await,
        400,
    );
    assert_eq!(
        api.get("/postings?updated_at_start=1&confidentiality=all")
            .await
            .status,
        200
    );
    // admin API errors too
    let r = reply(
        api.http
            .put(format!("{}/_sandbox/faults", sb.url()))
            .json(&serde_json::json!({"rate_500": 3.0}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_error(&r, 400);
    let r = reply(
        api.http
            .post(format!("{}/_sandbox/keys", sb.url()))
            .json(&serde_json::json!({"permissions": ["read everything"]}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_error(&r, 400);
    assert!(
        r.json["message"]
            .as_str()
            .unwrap()
            .contains("read everything")
    );
}
