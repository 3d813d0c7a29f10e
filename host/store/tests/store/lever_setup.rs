//! What an installation's Lever connection is set up with: operator OAuth apps, the
//! installation's Lever identity, and the Lever webhooks the host manages for it.

use super::connections::{assert_sealed, connect_oauth, oauth_app};
use super::tenant;
use crate::common::{Ctx, on_each_backend};
use fulcrum_store::{NewLeverOAuthApp, StoreError};
use secrecy::{ExposeSecret, SecretString};

#[tokio::test]
async fn oauth_apps_are_sealed_and_cannot_be_deleted_while_used() {
    on_each_backend(|ctx: Ctx| async move {
        let s = &ctx.store;
        tenant(s, "t1").await;
        oauth_app(s, "lever").await;
        let (app, secret) = s.get_lever_oauth_app("lever").await.unwrap().unwrap();
        assert_eq!(secret.expose_secret(), "client-secret-9d2e");
        assert_eq!(
            (app.name.as_str(), app.client_id.as_str()),
            ("Lever", "client-1")
        );
        assert!(!format!("{app:?}").contains("client-secret"));
        assert_sealed(
            s,
            "SELECT ciphertext FROM lever_oauth_apps",
            "client-secret-9d2e",
        )
        .await;
        // Replacing keeps created_at.
        oauth_app(s, "lever").await;
        let listed = s.list_lever_oauth_apps().await.unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].created_at, app.created_at);
        assert!(s.get_lever_oauth_app("nope").await.unwrap().is_none());

        // A plugin using it keeps it.
        assert_eq!(s.plugin_lever_app("p1").await.unwrap(), None);
        s.set_plugin_lever_app("p1", Some("lever")).await.unwrap();
        assert_eq!(
            s.plugin_lever_app("p1").await.unwrap().as_deref(),
            Some("lever")
        );
        let err = s.delete_lever_oauth_app("lever").await.unwrap_err();
        assert!(
            matches!(err, StoreError::Conflict(ref m) if m.contains("p1")),
            "{err:?}"
        );
        s.set_plugin_lever_app("p1", None).await.unwrap();
        assert_eq!(s.plugin_lever_app("p1").await.unwrap(), None);
        // So does a connection made with it.
        connect_oauth(s, "p1", "a", Some("r")).await;
        let err = s.delete_lever_oauth_app("lever").await.unwrap_err();
        assert!(
            matches!(err, StoreError::Conflict(ref m) if m.contains("connections: 1")),
            "{err:?}"
        );
        s.delete_lever_connection("t1", "p1").await.unwrap();
        assert!(s.delete_lever_oauth_app("lever").await.unwrap());
        assert!(!s.delete_lever_oauth_app("lever").await.unwrap());

        let err = s
            .set_plugin_lever_app("p1", Some("lever"))
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::NotFound(_)), "{err:?}");
        let secret = SecretString::from("x");
        let good = NewLeverOAuthApp {
            id: "lever",
            name: "Lever",
            client_id: "c",
            client_secret: &secret,
            authorize_url: "https://auth.lever.co/authorize",
            token_url: "https://auth.lever.co/oauth/token",
            audience: "https://api.lever.co/v1/",
        };
        let empty = SecretString::from("");
        for bad in [
            NewLeverOAuthApp {
                id: "Bad Id",
                ..good
            },
            NewLeverOAuthApp {
                client_secret: &empty,
                ..good
            },
            NewLeverOAuthApp {
                token_url: "ftp://x",
                ..good
            },
            NewLeverOAuthApp {
                authorize_url: "https://",
                ..good
            },
            NewLeverOAuthApp {
                client_id: " ",
                ..good
            },
        ] {
            let err = s.put_lever_oauth_app(&bad).await.unwrap_err();
            assert!(matches!(err, StoreError::Invalid(_)), "{err:?}");
        }
        assert!(s.list_lever_oauth_apps().await.unwrap().is_empty());
    })
    .await;
}

#[tokio::test]
async fn installation_identity_round_trips() {
    on_each_backend(|ctx: Ctx| async move {
        let s = &ctx.store;
        tenant(s, "t1").await;
        assert_eq!(s.installation_identity("t1", "p1").await.unwrap(), None);
        let allowed = ["u1".to_owned(), "u2".to_owned(), "u1".to_owned()];
        let set = s
            .set_installation_identity("t1", "p1", Some("u1"), &allowed)
            .await
            .unwrap();
        assert_eq!(set.allowed_acting_users, ["u1", "u2"], "repeats dropped");
        assert_eq!(
            s.installation_identity("t1", "p1").await.unwrap(),
            Some(set)
        );
        let cleared = s
            .set_installation_identity("t1", "p1", None, &[])
            .await
            .unwrap();
        let read = s.installation_identity("t1", "p1").await.unwrap().unwrap();
        assert_eq!(read, cleared);
        assert_eq!(
            (read.acting_user_id, read.allowed_acting_users.len()),
            (None, 0)
        );
        assert!(matches!(
            s.set_installation_identity("t1", "p1", Some(""), &[]).await,
            Err(StoreError::Invalid(_))
        ));
        assert!(matches!(
            s.set_installation_identity("t1", "p1", None, &[" ".to_owned()])
                .await,
            Err(StoreError::Invalid(_))
        ));
        assert!(matches!(
            s.set_installation_identity("nobody", "p1", None, &[]).await,
            Err(StoreError::NotFound(_))
        ));
    })
    .await;
}

#[tokio::test]
async fn managed_webhooks_keep_their_tokens_sealed() {
    on_each_backend(|ctx: Ctx| async move {
        let s = &ctx.store;
        tenant(s, "t1").await;
        let url = "https://fulcrum.example/lever/t1";
        let token = SecretString::from("sig-token-stage-77aa");
        s.put_managed_webhook("t1", "p1", "candidateStageChange", "wh-1", url, &token)
            .await
            .unwrap();
        s.put_managed_webhook(
            "t1",
            "p1",
            "candidateHired",
            "wh-2",
            url,
            &SecretString::from("sig-token-hired"),
        )
        .await
        .unwrap();
        let hooks = s.managed_webhooks("t1", "p1").await.unwrap();
        let events: Vec<_> = hooks
            .iter()
            .map(|h| (h.event.as_str(), h.lever_webhook_id.as_str()))
            .collect();
        assert_eq!(
            events,
            [("candidateHired", "wh-2"), ("candidateStageChange", "wh-1")]
        );
        assert_eq!(hooks[0].checked_at, None);
        let tokens: Vec<String> = s
            .managed_webhook_tokens("t1", "p1")
            .await
            .unwrap()
            .iter()
            .map(|t| t.expose_secret().to_owned())
            .collect();
        assert_eq!(tokens, ["sig-token-hired", "sig-token-stage-77aa"]);
        assert!(
            s.managed_webhook_tokens("t1", "p2")
                .await
                .unwrap()
                .is_empty()
        );
        assert_sealed(
            s,
            "SELECT ciphertext FROM lever_managed_webhooks",
            "sig-token-stage-77aa",
        )
        .await;

        s.mark_managed_webhook_checked("t1", "p1", "candidateHired", 42)
            .await
            .unwrap();
        assert_eq!(
            s.managed_webhooks("t1", "p1").await.unwrap()[0].checked_at,
            Some(42)
        );
        // Replacing it is a new webhook: not checked yet.
        s.put_managed_webhook(
            "t1",
            "p1",
            "candidateHired",
            "wh-3",
            url,
            &SecretString::from("rotated"),
        )
        .await
        .unwrap();
        let hired = &s.managed_webhooks("t1", "p1").await.unwrap()[0];
        assert_eq!(
            (hired.lever_webhook_id.as_str(), hired.checked_at),
            ("wh-3", None)
        );
        assert!(
            s.delete_managed_webhook("t1", "p1", "candidateHired")
                .await
                .unwrap()
        );
        assert!(
            !s.delete_managed_webhook("t1", "p1", "candidateHired")
                .await
                .unwrap()
        );
        assert!(matches!(
            s.mark_managed_webhook_checked("t1", "p1", "candidateHired", 1)
                .await,
            Err(StoreError::NotFound(_))
        ));
        assert!(matches!(
            s.put_managed_webhook("t1", "p1", "", "wh", url, &token)
                .await,
            Err(StoreError::Invalid(_))
        ));
        assert!(matches!(
            s.put_managed_webhook("t1", "p1", "e", "wh", url, &SecretString::from(""))
                .await,
            Err(StoreError::Invalid(_))
        ));
        assert!(matches!(
            s.put_managed_webhook("nobody", "p1", "e", "wh", url, &token)
                .await,
            Err(StoreError::NotFound(_))
        ));
    })
    .await;
}
