//! The admin API's guards: a role too low gets its 403 before the body is even read, tokens
//! may expire (and then say to issue a new one), and a plugin is enabled only once its secrets
//! and config let it run.

use crate::admin::{call, code, message, snapshot, token};
use fulcrum_store::test_support::on_each_backend;
use fulcrum_store::{Role, now_ms};
use fulcrum_testkit::*;
use reqwest::Method;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_role_too_low_gets_403_whatever_the_body() {
    on_each_backend(|db| async move {
        let world = World::start(&db).await;
        let operator = token(&world, Role::PlatformOperator, None).await;
        let admin = token(&world, Role::TenantAdmin, Some(TENANT)).await;
        let member = token(&world, Role::TenantMember, Some(TENANT)).await;
        let before = snapshot(&world).await;
        let inst = |rest: &str| format!("/admin/v1/tenants/{TENANT}/installations/{PLUGIN}{rest}");
        let bodies: [(&str, &str, Vec<u8>); 4] = [
            (
                "malformed JSON",
                "application/json",
                b"{\"permissions\": [".to_vec(),
            ),
            ("not JSON", "text/plain", b"approve everything".to_vec()),
            (
                "wrong shape",
                "application/json",
                br#"{"permissions": 7}"#.to_vec(),
            ),
            (
                "unknown field",
                "application/json",
                br#"{"grant": "all"}"#.to_vec(),
            ),
        ];
        // (who, token, method, path): each may not make this change.
        let refused = [
            (
                "member",
                &member,
                Method::PUT,
                inst("/approved-permissions"),
            ),
            ("admin", &admin, Method::PUT, inst("/approved-permissions")),
            (
                "operator",
                &operator,
                Method::PUT,
                inst("/approved-permissions"),
            ),
            ("member", &member, Method::PUT, inst("/config")),
            ("operator", &operator, Method::PUT, inst("/config")),
            ("member", &member, Method::PUT, inst("/secrets/api-token")),
            ("member", &member, Method::PUT, inst("/schedule-overrides")),
            ("member", &member, Method::POST, "/admin/v1/tenants".into()),
            ("member", &member, Method::POST, "/admin/v1/tokens".into()),
            ("admin", &admin, Method::POST, "/admin/v1/tokens".into()),
            (
                "member",
                &member,
                Method::PUT,
                format!("/admin/v1/tenants/{TENANT}/lever-credential"),
            ),
            (
                "admin",
                &admin,
                Method::PUT,
                format!("/admin/v1/tenants/{TENANT}/lever-settings"),
            ),
            (
                "member",
                &member,
                Method::PUT,
                format!("/admin/v1/tenants/{TENANT}/lever-webhook-tokens/hook"),
            ),
            ("operator", &operator, Method::POST, inst("/actions/stages")),
        ];
        for (who, token, method, path) in &refused {
            let authorization = format!("Bearer {token}");
            for (what, content_type, body) in &bodies {
                let (status, answer) = world
                    .admin_raw(
                        method.clone(),
                        path,
                        &[
                            ("authorization", authorization.as_str()),
                            ("content-type", *content_type),
                        ],
                        body.clone(),
                    )
                    .await;
                assert_eq!(
                    (status, code(&answer)),
                    (403, "forbidden"),
                    "{who} {method} {path} with {what}: {answer}"
                );
            }
        }
        // With the role, the same bodies are judged: the check is only deferred.
        let super_admin = token(&world, Role::TenantSuperAdmin, Some(TENANT)).await;
        let authorization = format!("Bearer {super_admin}");
        let judged: Vec<u16> = {
            let mut statuses = Vec::new();
            for (_, content_type, body) in &bodies {
                let (status, _) = world
                    .admin_raw(
                        Method::PUT,
                        &inst("/approved-permissions"),
                        &[
                            ("authorization", authorization.as_str()),
                            ("content-type", *content_type),
                        ],
                        body.clone(),
                    )
                    .await;
                statuses.push(status);
            }
            statuses
        };
        assert_eq!(judged, [400, 415, 422, 422]);
        let mut after = snapshot(&world).await;
        assert_eq!(after.tokens, before.tokens + 1, "the super admin's token");
        after.tokens = before.tokens;
        assert_eq!(after, before, "nothing changed");
        world.stop().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_may_expire_and_then_says_to_issue_a_new_one() {
    on_each_backend(|db| async move {
        let world = World::start(&db).await;
        let operator = token(&world, Role::PlatformOperator, None).await;

        // Issued through the API with an expiry: listed with it, and it works until then.
        let issued_at = now_ms();
        let (status, issued) = call(
            &world,
            Method::POST,
            "/admin/v1/tokens",
            Some(operator.as_str()),
            Some(json!({"role": "tenant-member", "tenant": TENANT, "expires_in_seconds": 3600})),
        )
        .await;
        assert_eq!(status, 201, "{issued}");
        let expires_at = issued["expires_at"].as_i64().expect("an expiry");
        assert!(
            (issued_at + 3_600_000..=now_ms() + 3_600_000).contains(&expires_at),
            "{issued}"
        );
        let member = issued["token"].as_str().unwrap().to_owned();
        let tenant_path = format!("/admin/v1/tenants/{TENANT}");
        let (status, _) = call(
            &world,
            Method::GET,
            &tenant_path,
            Some(member.as_str()),
            None,
        )
        .await;
        assert_eq!(status, 200);
        let (_, listed) = call(
            &world,
            Method::GET,
            "/admin/v1/tokens",
            Some(operator.as_str()),
            None,
        )
        .await;
        let record = listed
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["id"] == issued["id"])
            .unwrap();
        assert_eq!(record["expires_at"], expires_at);
        assert!(
            listed
                .as_array()
                .unwrap()
                .iter()
                .any(|t| t["expires_at"].is_null()),
            "tokens without an expiry say so: {listed}"
        );

        // Out of range: refused, nothing issued.
        let tokens_before = world.store.list_api_tokens(None).await.unwrap().len();
        for expires in [json!(0), json!(315_360_001), json!(-5), json!("1h")] {
            let (status, answer) = call(
                &world,
                Method::POST,
                "/admin/v1/tokens",
                Some(operator.as_str()),
                Some(json!({"role": "platform-operator", "expires_in_seconds": expires})),
            )
            .await;
            assert_eq!(status, 422, "{expires}: {answer}");
            assert!(
                message(&answer).contains("expires_in_seconds"),
                "{expires}: {answer}"
            );
        }
        assert_eq!(
            world.store.list_api_tokens(None).await.unwrap().len(),
            tokens_before
        );

        // Expired: a 401 that says what to do, not "unknown or revoked".
        let short = world
            .store
            .issue_api_token_with_expiry(
                Role::TenantAdmin,
                Some(TENANT),
                "short",
                Some(now_ms() + 50),
            )
            .await
            .unwrap();
        let short = secrecy::ExposeSecret::expose_secret(&short.plaintext).to_owned();
        let started = Instant::now();
        let answer = loop {
            let (status, answer) = call(
                &world,
                Method::GET,
                &tenant_path,
                Some(short.as_str()),
                None,
            )
            .await;
            if status == 401 {
                break answer;
            }
            assert_eq!(status, 200, "{answer}");
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "the token never expired"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        assert_eq!(code(&answer), "unauthorized");
        assert!(
            message(&answer).contains("expired") && message(&answer).contains("issue a new one"),
            "{answer}"
        );
        world.stop().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enabling_a_plugin_without_its_secrets_or_config_is_refused_naming_them() {
    on_each_backend(|db| async move {
        let world = World::start(&db).await;
        let relode = world
            .install_connector(fulcrum_plugin_artifacts::RELODE)
            .await;
        let super_admin = token(&world, Role::TenantSuperAdmin, Some(TENANT)).await;
        let inst = format!("/admin/v1/tenants/{TENANT}/installations/{relode}");
        let (status, added) =
            call(&world, Method::PUT, &inst, Some(super_admin.as_str()), None).await;
        assert_eq!(status, 201, "{added}");
        let before = snapshot(&world).await;

        let (status, answer) = call(
            &world,
            Method::POST,
            &format!("{inst}/enable"),
            Some(super_admin.as_str()),
            None,
        )
        .await;
        assert_eq!((status, code(&answer)), (409, "not_ready"), "{answer}");
        let problems: Vec<(String, String)> = answer["error"]["problems"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                (
                    p["pointer"].as_str().unwrap().to_owned(),
                    p["message"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        assert_eq!(problems[0].0, "/secrets/api-token", "{answer}");
        assert_eq!(problems[1].0, "/secrets/webhook-secret", "{answer}");
        assert!(
            problems
                .iter()
                .any(|(pointer, message)| pointer.starts_with("/config")
                    && message.contains("career_page_url")),
            "{answer}"
        );
        assert!(message(&answer).contains("nothing was changed"), "{answer}");
        assert_eq!(snapshot(&world).await, before);
        let (_, installation) =
            call(&world, Method::GET, &inst, Some(super_admin.as_str()), None).await;
        assert_eq!(installation["enabled"], Value::Bool(false));
        world.stop().await;
    })
    .await;
}
