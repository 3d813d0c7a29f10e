//! Single-use OAuth states, and events paused while a connection needs reconnecting.

use super::connections::assert_sealed;
use super::raw_sql::{count, exec};
use super::{event, tenant};
use crate::common::{Ctx, on_each_backend};
use fulcrum_store::{
    ConsumedState, EventStatus, NewOAuthState, OAuthState, Store, StoreError, now_ms,
};
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use std::time::Duration;

const STATE: &str = "state-Zm9vYmFyYmF6cXV1eC1hYmNkZWY";
const VERIFIER: &str = "pkce-verifier-0123456789abcdefghijklmnopqrstuvwxyz";

fn new_state<'a>(state: &'a str, verifier: &'a SecretString) -> NewOAuthState<'a> {
    NewOAuthState {
        state,
        tenant_id: "t1",
        installation_id: "p1",
        requested_by: "admin@example.com",
        redirect_uri: "https://fulcrum.example/oauth/lever/callback",
        scopes: "opportunities:read:admin offline_access",
        pkce_verifier: verifier,
        ttl: Duration::from_secs(600),
    }
}

fn fresh(consumed: ConsumedState) -> OAuthState {
    match consumed {
        ConsumedState::Fresh(state) => state,
        other => panic!("expected Fresh, got {other:?}"),
    }
}

#[tokio::test]
async fn an_oauth_state_is_stored_hashed_and_consumed_once() {
    on_each_backend(|ctx: Ctx| async move {
        let s = &ctx.store;
        tenant(s, "t1").await;
        let verifier = SecretString::from(VERIFIER);
        let new = new_state(STATE, &verifier);
        assert!(
            !format!("{new:?}").contains(STATE),
            "Debug redacts the state"
        );
        s.create_oauth_state(&new).await.unwrap();

        // Only the hash is stored; the verifier is sealed.
        let hash = hex::encode(Sha256::digest(STATE.as_bytes()));
        assert_eq!(
            count(
                s,
                &format!("SELECT COUNT(*) FROM lever_oauth_states WHERE state_hash = '{hash}'")
            )
            .await,
            1
        );
        assert_eq!(
            count(
                s,
                &format!(
                    "SELECT COUNT(*) FROM lever_oauth_states WHERE state_hash = '{STATE}'
                   OR redirect_uri LIKE '%{STATE}%' OR scopes LIKE '%{STATE}%'"
                )
            )
            .await,
            0
        );
        assert_sealed(s, "SELECT ciphertext FROM lever_oauth_states", VERIFIER).await;

        let got = fresh(s.consume_oauth_state(STATE).await.unwrap());
        assert_eq!(
            (
                got.tenant_id.as_str(),
                got.installation_id.as_str(),
                got.requested_by.as_str()
            ),
            ("t1", "p1", "admin@example.com")
        );
        assert_eq!(got.redirect_uri, new.redirect_uri);
        assert_eq!(got.scopes, new.scopes);
        assert_eq!(got.pkce_verifier.expose_secret(), VERIFIER);
        assert!(!format!("{got:?}").contains(VERIFIER));
        assert!(matches!(
            s.consume_oauth_state(STATE).await.unwrap(),
            ConsumedState::AlreadyUsed
        ));
        assert!(matches!(
            s.consume_oauth_state("never-issued-state-xxxxxxxx")
                .await
                .unwrap(),
            ConsumedState::Unknown
        ));
        // Issuing the same state twice is refused without echoing it.
        let err = s.create_oauth_state(&new).await.unwrap_err();
        assert!(matches!(err, StoreError::AlreadyExists(_)), "{err:?}");
        assert!(!err.to_string().contains(STATE));

        // Expired: refused, then pruned (used or not) once past the cutoff.
        let other = "state-expired-000000000000000000";
        s.create_oauth_state(&new_state(other, &verifier))
            .await
            .unwrap();
        exec(s, "UPDATE lever_oauth_states SET expires_at = 1").await;
        assert!(matches!(
            s.consume_oauth_state(other).await.unwrap(),
            ConsumedState::Expired
        ));
        assert!(matches!(
            s.consume_oauth_state(STATE).await.unwrap(),
            ConsumedState::AlreadyUsed
        ));
        let live = "state-still-live-0000000000000000";
        s.create_oauth_state(&new_state(live, &verifier))
            .await
            .unwrap();
        assert_eq!(s.prune_oauth_states(now_ms()).await.unwrap(), 2);
        assert!(matches!(
            s.consume_oauth_state(other).await.unwrap(),
            ConsumedState::Unknown
        ));
        fresh(s.consume_oauth_state(live).await.unwrap());

        // Bad input says what is wrong.
        let short = SecretString::from("too-short");
        for bad in [
            new_state("short", &verifier),
            new_state(STATE, &short),
            NewOAuthState {
                ttl: Duration::ZERO,
                ..new_state("state-zero-ttl-000000000000000", &verifier)
            },
            NewOAuthState {
                installation_id: "",
                ..new_state("state-no-inst-0000000000000000", &verifier)
            },
        ] {
            let err = s.create_oauth_state(&bad).await.unwrap_err();
            assert!(matches!(err, StoreError::Invalid(_)), "{err:?}");
        }
        let err = s
            .create_oauth_state(&NewOAuthState {
                tenant_id: "nobody",
                ..new_state("state-nobody-000000000000000000", &verifier)
            })
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::NotFound(_)), "{err:?}");
    })
    .await;
}

#[tokio::test]
async fn concurrent_callbacks_consume_a_state_exactly_once() {
    on_each_backend(|ctx: Ctx| async move {
        let s = &ctx.store;
        tenant(s, "t1").await;
        let verifier = SecretString::from(VERIFIER);
        s.create_oauth_state(&new_state(STATE, &verifier))
            .await
            .unwrap();
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let store: Store = s.clone();
                tokio::spawn(async move { store.consume_oauth_state(STATE).await.unwrap() })
            })
            .collect();
        let (mut fresh_count, mut used) = (0, 0);
        for task in tasks {
            match task.await.unwrap() {
                ConsumedState::Fresh(_) => fresh_count += 1,
                ConsumedState::AlreadyUsed => used += 1,
                other => panic!("unexpected {other:?}"),
            }
        }
        assert_eq!((fresh_count, used), (1, 7));
    })
    .await;
}

#[tokio::test]
async fn a_paused_event_keeps_its_try_and_waits_for_resume() {
    on_each_backend(|ctx: Ctx| async move {
        let s = &ctx.store;
        tenant(s, "t1").await;
        let lease = Duration::from_secs(60);
        let first = s.enqueue_event(&event("t1", "c1", 1)).await.unwrap().id;
        let behind = s.enqueue_event(&event("t1", "c1", 2)).await.unwrap().id;
        let claimed = s.claim_next("w", lease).await.unwrap().unwrap();
        assert_eq!((claimed.id, claimed.attempts), (first, 1));
        let recheck = now_ms() + 3_600_000;
        s.pause_event(
            claimed.claim(),
            recheck,
            "Lever connection needs reconnecting",
        )
        .await
        .unwrap();
        let paused = s.get_event(first).await.unwrap().unwrap();
        assert_eq!(
            (paused.status, paused.attempts, paused.paused),
            (EventStatus::Queued, 0, true)
        );
        assert_eq!(paused.next_attempt_at, recheck);
        assert_eq!(
            paused.last_error.as_deref(),
            Some("Lever connection needs reconnecting")
        );
        assert_eq!(paused.claimed_by, None);
        // Neither it nor the later event of its subject is claimable.
        assert!(s.claim_next("w", lease).await.unwrap().is_none());
        // The stale claim cannot pause (or finish) it again.
        let err = s
            .pause_event(claimed.claim(), recheck, "x")
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::ClaimLost { .. }), "{err:?}");

        // Another installation is not paused.
        assert_eq!(s.resume_paused_events("t1", "other").await.unwrap(), 0);
        assert_eq!(s.resume_paused_events("t1", "p").await.unwrap(), 1);
        assert_eq!(s.resume_paused_events("t1", "p").await.unwrap(), 0);
        let again = s.claim_next("w", lease).await.unwrap().unwrap();
        assert_eq!((again.id, again.attempts, again.paused), (first, 1, false));
        s.complete_event(again.claim()).await.unwrap();
        assert_eq!(s.claim_next("w", lease).await.unwrap().unwrap().id, behind);

        // At its recheck time a paused event is claimable again without a resume.
        let third = s.enqueue_event(&event("t1", "c3", 3)).await.unwrap().id;
        let c = s.claim_next("w", lease).await.unwrap().unwrap();
        assert_eq!(c.id, third);
        s.pause_event(c.claim(), 5, "reconnect").await.unwrap();
        let listed = s.get_event(third).await.unwrap().unwrap();
        assert!(listed.paused);
        let rechecked = s.claim_next("w", lease).await.unwrap().unwrap();
        assert_eq!((rechecked.id, rechecked.paused), (third, false));
    })
    .await;
}
