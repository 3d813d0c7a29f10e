//! The documented list filters and fields of postings and opportunities.

use super::{collect, data};
use crate::common::*;
use lever_sandbox::SeedSpec;
use serde_json::Value;

#[tokio::test]
async fn postings_carry_every_field_and_list_oldest_first() {
    let sb = start(SeedSpec::demo()).await;
    let api = Api::new(&sb, &sb.demo_api_key());
    let ps = data(&api.get("/postings").await);
    for p in &ps {
        assert_keys(
            p,
            &[
                "requisitionCodes",
                "reqCode",
                "salaryDescription",
                "salaryDescriptionHtml",
                "urls",
                "followers",
                "createdAt",
                "updatedAt",
                "country",
                "workplaceType",
            ],
        );
        assert_keys(&p["categories"], &["level", "allLocations"]);
    }
    let published = ps.iter().find(|p| p["state"] == "published").unwrap();
    assert_keys(&published["urls"], &["list", "show", "apply"]);
    let created: Vec<i64> = ps
        .iter()
        .map(|p| p["createdAt"].as_i64().unwrap())
        .collect();
    assert!(created.windows(2).all(|w| w[0] <= w[1]), "oldest first");
    // updated_at_* only with confidentiality.
    assert_eq!(
        api.get("/postings?updated_at_start=0&confidentiality=all")
            .await
            .status,
        200
    );
    assert_error(
        &api.get("/postings?updated_at_start=0&team=Data").await,
        400,
    );
    sb.shutdown().await;
}

#[tokio::test]
async fn opportunity_list_filters() {
    let sb = start(SeedSpec::demo()).await;
    let api = Api::new(&sb, &sb.demo_api_key());
    let opps = collect(&api, "/opportunities?confidentiality=all", 100).await;
    let n = opps.len();
    assert!(n > 50);
    let count = |f: &dyn Fn(&Value) -> bool| opps.iter().filter(|o| f(o)).count();
    async fn listed(api: &Api, q: &str) -> usize {
        collect(api, &format!("/opportunities?confidentiality=all&{q}"), 100)
            .await
            .len()
    }

    let archived = opps.iter().find(|o| !o["archived"].is_null()).unwrap();
    let reason = archived["archived"]["reason"].as_str().unwrap();
    assert_eq!(
        listed(&api, &format!("archive_reason_id={reason}")).await,
        count(&|o| o["archived"]["reason"] == reason)
    );
    let at = archived["archived"]["archivedAt"].as_i64().unwrap();
    assert_eq!(
        listed(
            &api,
            &format!("archived_at_start={at}&archived_at_end={at}")
        )
        .await,
        count(&|o| o["archived"]["archivedAt"] == at)
    );
    let contact = opps[0]["contact"].as_str().unwrap();
    assert_eq!(
        listed(&api, &format!("contact_id={contact}")).await,
        count(&|o| o["contact"] == contact)
    );
    for origin in ["applied", "sourced", "referred", "agency"] {
        assert_eq!(
            listed(&api, &format!("origin={origin}")).await,
            count(&|o| o["origin"] == origin),
            "{origin}"
        );
    }
    let source = opps.iter().find_map(|o| o["sources"][0].as_str()).unwrap();
    assert_eq!(
        listed(&api, &format!("source={}", urlencode(source))).await,
        count(&|o| o["sources"].as_array().unwrap().iter().any(|s| s == source))
    );
    let location = opps.iter().find_map(|o| o["location"].as_str()).unwrap();
    assert_eq!(
        listed(&api, &format!("location={}", urlencode(location))).await,
        count(&|o| o["location"] == location)
    );
    let advanced = opps
        .iter()
        .filter_map(|o| o["lastAdvancedAt"].as_i64())
        .max()
        .unwrap();
    assert_eq!(
        listed(&api, &format!("advanced_at_start={advanced}")).await,
        count(&|o| o["lastAdvancedAt"].as_i64().is_some_and(|t| t >= advanced))
    );
    let created = opps[n / 2]["createdAt"].as_i64().unwrap();
    assert_eq!(
        listed(&api, &format!("created_at_end={created}")).await,
        count(&|o| o["createdAt"].as_i64().unwrap() <= created)
    );
    let updated = opps[n / 2]["updatedAt"].as_i64().unwrap();
    assert_eq!(
        listed(&api, &format!("updated_at_start={updated}")).await,
        count(&|o| o["updatedAt"].as_i64().is_some_and(|t| t >= updated))
    );
    let now = lever_model::timestamp::now_millis();
    assert_eq!(
        listed(&api, "snoozed=true").await,
        count(&|o| o["snoozedUntil"].as_i64().is_some_and(|t| t > now))
    );
    assert_eq!(
        listed(&api, "snoozed=false").await,
        count(&|o| o["snoozedUntil"].as_i64().is_none_or(|t| t <= now))
    );
    // archived_posting_id: archived opportunities whose application was for that posting.
    let with_posting = opps
        .iter()
        .filter(|o| !o["archived"].is_null())
        .find_map(|o| {
            o["applications"][0]
                .as_str()
                .map(|a| (o["id"].clone(), a.to_owned()))
        })
        .unwrap();
    let apps = api
        .get(&format!(
            "/opportunities/{}/applications",
            with_posting.0.as_str().unwrap()
        ))
        .await;
    if let Some(posting) = apps.json["data"][0]["posting"].as_str() {
        let hits = data(
            &api.get(&format!(
                "/opportunities?confidentiality=all&archived_posting_id={posting}"
            ))
            .await,
        );
        assert!(hits.iter().any(|o| o["id"] == with_posting.0));
        assert!(hits.iter().all(|o| !o["archived"].is_null()));
    }
    for bad in [
        "origin=walk-in",
        "snoozed=sometimes",
        "advanced_at_start=x",
        "archived_at_end=x",
    ] {
        assert_error(&api.get(&format!("/opportunities?{bad}")).await, 400);
    }
    sb.shutdown().await;
}

fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}
