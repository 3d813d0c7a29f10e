//! 401 for bad credentials, 403 naming the missing permission, bearer tokens, and no
//! credential in any error.

use fulcrum_tests::{client, client_config, start_sandbox};
use futures::TryStreamExt;
use lever_client::{Attachments, Credential, LeverClient, LeverError, OpportunityQuery};
use lever_model::{NewOpportunity, Operation, Permission};
use lever_sandbox::{KeySpec, SeedSpec};

#[tokio::test]
async fn an_unknown_key_is_unauthorized_and_never_echoed() {
    let sandbox = start_sandbox(SeedSpec::vocabulary_only(1)).await;
    let secret = "lsk_this-key-does-not-exist-4242";
    let client = LeverClient::new(client_config(&sandbox), Credential::api_key(secret)).unwrap();

    let err = client.stages().try_collect::<Vec<_>>().await.unwrap_err();
    assert!(matches!(err, LeverError::Unauthorized { .. }), "{err:?}");
    for rendering in [err.to_string(), format!("{err:?}"), format!("{client:?}")] {
        assert!(
            !rendering.contains(secret),
            "credential leaked: {rendering}"
        );
    }
}

#[tokio::test]
async fn a_revoked_key_stops_working() {
    let sandbox = start_sandbox(SeedSpec::vocabulary_only(1)).await;
    let key = sandbox.issue_api_key(KeySpec::all("soon revoked"));
    let client =
        LeverClient::new(client_config(&sandbox), Credential::api_key(key.clone())).unwrap();
    client.stages().try_collect::<Vec<_>>().await.unwrap();
    sandbox.revoke(&key);
    let err = client.stages().try_collect::<Vec<_>>().await.unwrap_err();
    assert!(matches!(err, LeverError::Unauthorized { .. }), "{err:?}");
}

#[tokio::test]
async fn a_missing_permission_is_forbidden_and_named() {
    let sandbox = start_sandbox(SeedSpec::vocabulary_only(2)).await;
    let reader = client(
        &sandbox,
        KeySpec::only(
            "read only",
            [Permission::ListOpportunities, Permission::ListStages],
        ),
    );

    // Allowed.
    reader
        .opportunities(OpportunityQuery::default())
        .try_collect::<Vec<_>>()
        .await
        .unwrap();
    reader.stages().try_collect::<Vec<_>>().await.unwrap();

    // Not allowed: the write, and a read it was not given.
    let body = NewOpportunity {
        name: Some("Ada Lovelace".into()),
        ..Default::default()
    };
    let err = reader
        .create_opportunity(&sandbox.default_user_id(), &body, Attachments::default())
        .await
        .unwrap_err();
    match &err {
        LeverError::Forbidden {
            operation,
            permission,
            ..
        } => {
            assert_eq!(*operation, Operation::CreateOpportunity);
            assert_eq!(*permission, Permission::CreateOpportunity);
        }
        other => panic!("expected Forbidden, got {other:?}"),
    }
    assert!(
        err.to_string().contains("create opportunity"),
        "the message names the permission: {err}"
    );

    let err = reader
        .users(Default::default())
        .try_collect::<Vec<_>>()
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            LeverError::Forbidden {
                permission: Permission::ListUsers,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(
        sandbox.read(|db| db.opportunities().count()),
        0,
        "nothing was written"
    );
}

#[tokio::test]
async fn oauth_bearer_tokens_work_like_keys() {
    let sandbox = start_sandbox(SeedSpec::vocabulary_only(3)).await;
    let token = sandbox.issue_bearer_token(KeySpec::only("oauth app", [Permission::ListStages]));
    let client =
        LeverClient::new(client_config(&sandbox), Credential::bearer(token.clone())).unwrap();
    let stages: Vec<_> = client.stages().try_collect().await.unwrap();
    assert!(stages.iter().any(|s| s.id == "applicant-new"));

    let err = client
        .archive_reasons(None)
        .try_collect::<Vec<_>>()
        .await
        .unwrap_err();
    assert!(matches!(
        err,
        LeverError::Forbidden {
            permission: Permission::ListArchiveReasons,
            ..
        }
    ));
    assert!(!format!("{err:?} {err}").contains(&token));
}

#[tokio::test]
async fn perform_as_must_be_an_active_user() {
    let sandbox = start_sandbox(SeedSpec::vocabulary_only(4)).await;
    let client = client(&sandbox, KeySpec::all("writer"));
    let body = NewOpportunity {
        name: Some("Grace Hopper".into()),
        ..Default::default()
    };
    let deactivated = sandbox
        .read(|db| {
            db.users()
                .find(|u| u.deactivated_at.is_some())
                .map(|u| u.id.clone())
        })
        .expect("the seed has a deactivated user");

    for bad in ["no-such-user", deactivated.as_str()] {
        let err = client
            .create_opportunity(bad, &body, Attachments::default())
            .await
            .unwrap_err();
        assert!(
            matches!(err, LeverError::Invalid { status: 400, .. }),
            "{bad}: {err:?}"
        );
    }
    assert_eq!(sandbox.read(|db| db.opportunities().count()), 0);
}

#[tokio::test]
async fn a_pinned_demo_key_is_honoured() {
    let config = lever_sandbox::SandboxConfig {
        seed: SeedSpec::vocabulary_only(5),
        demo_api_key: Some("lsk_pinned_for_my_plugin".into()),
        ..fulcrum_tests::fast_config()
    };
    let sandbox = fulcrum_tests::start_sandbox_with(config).await;
    assert_eq!(sandbox.demo_api_key(), "lsk_pinned_for_my_plugin");
    let client = LeverClient::new(
        client_config(&sandbox),
        Credential::api_key("lsk_pinned_for_my_plugin"),
    )
    .unwrap();
    let users: Vec<_> = client
        .users(Default::default())
        .try_collect()
        .await
        .unwrap();
    assert!(!users.is_empty());
}
