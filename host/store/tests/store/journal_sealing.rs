//! Journaled Lever answers are sealed at rest; rows written before (plaintext) still read.

use super::raw_sql::{count, exec};
use super::{contains, event, tenant};
use crate::common::{Ctx, on_each_backend};
use fulcrum_store::{CryptoError, EffectStatus, MasterKey, StoreError};
use serde_json::json;

const CANDIDATE: &str = "Grace Hopper, grace@navy.example";

/// Before: `effect_journal.response` held the answer's JSON in plaintext.
#[tokio::test]
async fn journaled_answers_are_sealed_and_old_plaintext_rows_still_read() {
    on_each_backend(|ctx: Ctx| async move {
        let s = &ctx.store;
        tenant(s, "t1").await;
        let ev = s.enqueue_event(&event("t1", "cand-a", 1)).await.unwrap().id;
        s.journal_begin(ev, -1, "lever.opportunity.get", "sha256:r")
            .await
            .unwrap();
        let answer = json!({"name": CANDIDATE, "stage": "phone-screen"});
        s.journal_record(ev, -1, &answer).await.unwrap();
        let entry = s.journal_get(ev, -1).await.unwrap().unwrap();
        assert_eq!(
            (entry.status, entry.response.as_ref()),
            (EffectStatus::Done, Some(&answer))
        );
        let sealed = format!(
            "SELECT COUNT(*) FROM effect_journal WHERE event_id = {ev} AND response IS NULL
               AND response_ciphertext IS NOT NULL AND response_key_version = {}",
            ctx.same_key().id()
        );
        assert_eq!(count(s, &sealed).await, 1);

        // A row journaled before sealing existed: plaintext `response`, no sealed columns.
        exec(
            s,
            &format!(
                "INSERT INTO effect_journal (event_id, call_seq, operation, request_digest, status, response, created_at, updated_at)
                 VALUES ({ev}, 0, 'lever.note.create', 'sha256:w', 'done', '{{\"id\":\"note-1\"}}', 0, 0)"
            ),
        )
        .await;
        let old = s.journal_get(ev, 0).await.unwrap().unwrap();
        assert_eq!(old.response, Some(json!({"id": "note-1"})));
        // A replay begins the same call and is answered from the old row.
        let replay = s
            .journal_begin(ev, 0, "lever.note.create", "sha256:w")
            .await
            .unwrap();
        assert_eq!(replay.entry.response, Some(json!({"id": "note-1"})));

        // The sealed answer is bound to its row: copied to another call, it does not open.
        exec(
            s,
            &format!(
                "UPDATE effect_journal SET response = NULL,
                     response_ciphertext = (SELECT response_ciphertext FROM effect_journal WHERE event_id = {ev} AND call_seq = -1),
                     response_nonce = (SELECT response_nonce FROM effect_journal WHERE event_id = {ev} AND call_seq = -1),
                     response_key_version = (SELECT response_key_version FROM effect_journal WHERE event_id = {ev} AND call_seq = -1)
                 WHERE event_id = {ev} AND call_seq = 0"
            ),
        )
        .await;
        assert!(matches!(
            s.journal_get(ev, 0).await,
            Err(StoreError::Crypto(CryptoError::Decrypt { .. }))
        ));

        // Another master key cannot read the answer, and the file never holds it in clear.
        let other = ctx.reopen(MasterKey::generate()).await;
        assert!(matches!(
            other.journal_get(ev, -1).await,
            Err(StoreError::Crypto(CryptoError::KeyVersion { .. }))
        ));
        other.close().await;
        if let Some(path) = &ctx.sqlite_path {
            exec(s, "PRAGMA wal_checkpoint(TRUNCATE)").await;
            let file = std::fs::read(path).unwrap();
            assert!(!contains(&file, CANDIDATE.as_bytes()), "answer in clear");
            assert!(contains(&file, b"lever.opportunity.get"), "control");
        }
    })
    .await;
}
