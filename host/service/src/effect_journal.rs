//! The runtime's effect journal for one event, over the store's `effect_journal` table: every
//! Lever write a handler makes is announced under (event, call sequence) before it is sent and
//! its response recorded after, so a retried or replayed event answers from the journal. Reads
//! are stored under negative sequence numbers (see `CallSeq::key`).

use async_trait::async_trait;
use fulcrum_runtime::{CallSeq, EffectJournal, JournalEntry, JournalError};
use fulcrum_store::{EffectStatus, Store, StoreError};

pub struct SqlJournal {
    store: Store,
    event_id: i64,
}

impl SqlJournal {
    pub fn new(store: Store, event_id: i64) -> Self {
        SqlJournal { store, event_id }
    }
}

fn journal_error(e: StoreError) -> JournalError {
    match e {
        // The store refuses a begin whose operation or request differs from the journaled one.
        StoreError::Conflict(message) => JournalError::Diverged(message),
        other => JournalError::Unavailable(other.to_string()),
    }
}

#[async_trait]
impl EffectJournal for SqlJournal {
    async fn begin(
        &self,
        call_seq: CallSeq,
        operation: &str,
        request_digest: &str,
    ) -> Result<JournalEntry, JournalError> {
        let begun = self
            .store
            .journal_begin(self.event_id, call_seq.key(), operation, request_digest)
            .await
            .map_err(journal_error)?;
        let entry = begun.entry;
        Ok(match entry.status {
            EffectStatus::Done => JournalEntry::Done(entry.response.unwrap_or_default()),
            EffectStatus::Pending if begun.fresh => JournalEntry::Fresh {
                begun_at_ms: entry.created_at,
            },
            EffectStatus::Pending => JournalEntry::Unknown {
                begun_at_ms: entry.created_at,
            },
        })
    }

    async fn record(
        &self,
        call_seq: CallSeq,
        response: &serde_json::Value,
    ) -> Result<(), JournalError> {
        self.store
            .journal_record(self.event_id, call_seq.key(), response)
            .await
            .map_err(|e| JournalError::Unavailable(e.to_string()))
    }
}
