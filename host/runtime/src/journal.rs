//! The effect journal: exactly-once Lever writes for handlers that are called at least once.
//!
//! The host delivers an event (or run, or action request) to a plugin until one attempt
//! completes; a crash, a timeout or a retryable error means the same event is handled again.
//! Every Lever *write* a handler makes is journaled under *(event, call sequence)*: the n-th
//! journaled write of an attempt is [`CallSeq::Write`]`(n)`.
//!
//! Lever *reads* are journaled too, numbered apart ([`CallSeq::Read`]): a retry or replay gets
//! the first attempt's answers, so a handler that looks something up and then writes ("find
//! the candidate by e-mail, create if absent") takes the same path again even though its own
//! first attempt changed what Lever would answer now. A read begun but never recorded is
//! simply made again. Downloads (file bytes) are not journaled.
//!
//! ```text
//! begin(seq, operation, digest) ─┬─ Fresh{..}      → send to Lever, then record(seq, response)
//!                                ├─ Done(response) → answer from the journal, nothing sent
//!                                ├─ Unknown{..}    → begun earlier, never recorded: reconcile
//!                                │                   against Lever, then record or send again
//!                                └─ Diverged       → the replay made another write at `seq`:
//!                                                    a permanent error for the event
//! ```
//!
//! [`EffectJournal`] is scoped to one event: the host creates one per event it hands to the
//! runtime (see `InvocationContext::with_journal`), so its methods carry no event id.
//! [`MemoryJournal`] is the in-memory implementation for tests and development.
//!
//! The digest of a write ([`request_digest`]) covers the function, the canonical Lever request
//! (body, target opportunity, `perform_as`) and, for files, a SHA-256 of their bytes; the
//! bytes themselves are never journaled.

use async_trait::async_trait;
use parking_lot::Mutex;
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// Which journaled call of an event: writes and reads are numbered separately, each from 0 in
/// the order the handler makes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CallSeq {
    Write(u32),
    Read(u32),
}

impl CallSeq {
    /// The one integer key a journal stores: writes 0, 1, 2, ...; reads -1, -2, ... Writes
    /// keep the numbers they had before reads were journaled, so events journaled then still
    /// replay.
    pub fn key(self) -> i64 {
        match self {
            CallSeq::Write(n) => i64::from(n),
            CallSeq::Read(n) => -i64::from(n) - 1,
        }
    }

    /// The inverse of [`CallSeq::key`].
    pub fn from_key(key: i64) -> Option<CallSeq> {
        if key >= 0 {
            u32::try_from(key).ok().map(CallSeq::Write)
        } else {
            u32::try_from(-(key + 1)).ok().map(CallSeq::Read)
        }
    }
}

impl std::fmt::Display for CallSeq {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CallSeq::Write(n) => write!(f, "write #{n}"),
            CallSeq::Read(n) => write!(f, "read #{n}"),
        }
    }
}

/// What the journal knows about one write (see [`EffectJournal::begin`]).
#[derive(Debug, Clone, PartialEq)]
pub enum JournalEntry {
    /// First time: send, then `record`. `begun_at_ms` is when this `begin` stored the write
    /// (Unix ms), the value a later `Unknown` answers with: the host derives the write's
    /// attempt marker from it (see `capabilities::lever`), so every attempt derives the same.
    Fresh { begun_at_ms: i64 },
    /// Begun earlier but never recorded (crash/timeout between send and record): reconcile
    /// before sending again. `begun_at_ms` is when the write was *first* begun (Unix ms).
    Unknown { begun_at_ms: i64 },
    /// Recorded: answer from the journal without calling Lever.
    Done(Value),
}

#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    /// The journal cannot be read or written; the event will be retried.
    #[error("effect journal unavailable: {0}")]
    Unavailable(String),
    /// The handler made a different write at this sequence number than when the event was
    /// first handled.
    #[error("{0}")]
    Diverged(String),
}

/// The Lever writes of one event, by call sequence.
///
/// Contract for implementations (the host's SQL journal, [`MemoryJournal`]):
/// - `begin` is atomic per `call_seq`: the first `begin` of a sequence number stores
///   `(operation, request_digest, begun_at = now)` and answers [`JournalEntry::Fresh`] with
///   that `begun_at`; a
///   later `begin` of the same number answers [`JournalEntry::Done`] with the recorded
///   response, or [`JournalEntry::Unknown`] with the *first* `begun_at` when nothing was
///   recorded, or [`JournalError::Diverged`] when `operation` or `request_digest` differ from
///   the stored ones.
/// - `record` durably stores the response of a begun write before returning.
/// - One attempt of an event runs at a time (the host leases events); the journal does not
///   arbitrate concurrent attempts.
#[async_trait]
pub trait EffectJournal: Send + Sync {
    async fn begin(
        &self,
        call_seq: CallSeq,
        operation: &str,
        request_digest: &str,
    ) -> Result<JournalEntry, JournalError>;

    async fn record(&self, call_seq: CallSeq, response: &Value) -> Result<(), JournalError>;
}

/// One journaled write, as [`MemoryJournal::entries`] shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct JournalRecord {
    pub call_seq: u32,
    /// The Lever operation label, e.g. "POST /opportunities".
    pub operation: String,
    /// "sha256:<hex>", see [`request_digest`].
    pub request_digest: String,
    /// When the write was first begun (Unix ms).
    pub begun_at_ms: i64,
    /// Lever's response; `None` while the outcome is unknown.
    pub response: Option<Value>,
}

impl JournalRecord {
    pub fn is_done(&self) -> bool {
        self.response.is_some()
    }
}

/// An [`EffectJournal`] for one event in process memory (tests, development).
#[derive(Debug, Default)]
pub struct MemoryJournal {
    entries: Mutex<BTreeMap<CallSeq, JournalRecord>>,
}

impl MemoryJournal {
    pub fn new() -> Self {
        Self::default()
    }

    /// A snapshot of every write, by call sequence.
    pub fn entries(&self) -> Vec<JournalRecord> {
        self.entries_where(|seq| matches!(seq, CallSeq::Write(_)))
    }

    /// A snapshot of every journaled read, by read sequence.
    pub fn read_entries(&self) -> Vec<JournalRecord> {
        self.entries_where(|seq| matches!(seq, CallSeq::Read(_)))
    }

    fn entries_where(&self, keep: impl Fn(&CallSeq) -> bool) -> Vec<JournalRecord> {
        self.entries
            .lock()
            .iter()
            .filter(|(seq, _)| keep(seq))
            .map(|(_, entry)| entry.clone())
            .collect()
    }

    /// Turns a recorded entry back into a begun-but-unrecorded one, as if the host had crashed
    /// between Lever's answer and `record`. Returns whether there was an entry.
    pub fn forget_response(&self, call_seq: u32) -> bool {
        match self.entries.lock().get_mut(&CallSeq::Write(call_seq)) {
            Some(entry) => {
                entry.response = None;
                true
            }
            None => false,
        }
    }

    /// Moves an entry's `begun_at` (e.g. to simulate a write begun long ago).
    pub fn set_begun_at(&self, call_seq: u32, begun_at_ms: i64) -> bool {
        match self.entries.lock().get_mut(&CallSeq::Write(call_seq)) {
            Some(entry) => {
                entry.begun_at_ms = begun_at_ms;
                true
            }
            None => false,
        }
    }
}

#[async_trait]
impl EffectJournal for MemoryJournal {
    async fn begin(
        &self,
        seq: CallSeq,
        operation: &str,
        request_digest: &str,
    ) -> Result<JournalEntry, JournalError> {
        let mut entries = self.entries.lock();
        let Some(entry) = entries.get(&seq) else {
            let begun_at_ms = lever_model::timestamp::now_millis();
            entries.insert(
                seq,
                JournalRecord {
                    call_seq: match seq {
                        CallSeq::Write(n) | CallSeq::Read(n) => n,
                    },
                    operation: operation.to_owned(),
                    request_digest: request_digest.to_owned(),
                    begun_at_ms,
                    response: None,
                },
            );
            return Ok(JournalEntry::Fresh { begun_at_ms });
        };
        if entry.operation != operation || entry.request_digest != request_digest {
            return Err(JournalError::Diverged(divergence(
                seq,
                &entry.operation,
                &entry.request_digest,
                operation,
                request_digest,
            )));
        }
        Ok(match &entry.response {
            Some(response) => JournalEntry::Done(response.clone()),
            None => JournalEntry::Unknown {
                begun_at_ms: entry.begun_at_ms,
            },
        })
    }

    async fn record(&self, seq: CallSeq, response: &Value) -> Result<(), JournalError> {
        match self.entries.lock().get_mut(&seq) {
            Some(entry) => {
                entry.response = Some(response.clone());
                Ok(())
            }
            None => Err(JournalError::Unavailable(format!(
                "{seq} was recorded without being begun (host bug)"
            ))),
        }
    }
}

/// The message of [`JournalError::Diverged`], for journal implementations.
pub fn divergence(
    seq: CallSeq,
    first_operation: &str,
    first_digest: &str,
    operation: &str,
    digest: &str,
) -> String {
    if first_operation == operation {
        format!(
            "Lever {seq} ({operation}) has other arguments than when the event was \
             first handled ({digest}, first {first_digest})"
        )
    } else {
        format!(
            "Lever {seq} is {operation} but was {first_operation} when the event \
             was first handled"
        )
    }
}

/// `"sha256:" + hex` of the function name and the canonical JSON of `request` (object keys
/// sorted at every level, no insignificant whitespace), so the digest depends on the request's
/// content only, not on how it was built.
pub fn request_digest(function: &str, request: &Value) -> String {
    let mut text = String::new();
    canonical_json(request, &mut text);
    let mut hash = Sha256::new();
    hash.update(function.as_bytes());
    hash.update([0u8]);
    hash.update(text.as_bytes());
    format!("sha256:{}", hex::encode(hash.finalize()))
}

/// `"sha256:" + hex` of some bytes (how files appear in a request digest).
pub fn bytes_digest(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

fn canonical_json(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(key.clone()).to_string());
                out.push(':');
                canonical_json(&map[key.as_str()], out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                canonical_json(item, out);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn digests_ignore_key_order_but_not_content() {
        let a = json!({"b": 1, "a": {"y": [1, 2], "x": null}});
        let b = json!({"a": {"x": null, "y": [1, 2]}, "b": 1});
        assert_eq!(request_digest("f", &a), request_digest("f", &b));
        assert!(request_digest("f", &a).starts_with("sha256:"));
        assert_eq!(request_digest("f", &a).len(), "sha256:".len() + 64);
        assert_ne!(request_digest("g", &a), request_digest("f", &a));
        let reordered = json!({"b": 1, "a": {"y": [2, 1], "x": null}});
        assert_ne!(request_digest("f", &a), request_digest("f", &reordered));
    }

    #[tokio::test]
    async fn memory_journal_answers_fresh_unknown_done_and_divergence() {
        const W0: CallSeq = CallSeq::Write(0);
        let journal = MemoryJournal::new();
        let op = "POST /opportunities";
        let fresh = journal.begin(W0, op, "sha256:a").await.unwrap();
        let begun = journal.entries()[0].begun_at_ms;
        assert_eq!(fresh, JournalEntry::Fresh { begun_at_ms: begun });
        assert!(matches!(
            journal.begin(W0, op, "sha256:a").await.unwrap(),
            JournalEntry::Unknown { begun_at_ms } if begun_at_ms == begun
        ));
        journal.record(W0, &json!({"id": "o1"})).await.unwrap();
        assert_eq!(
            journal.begin(W0, op, "sha256:a").await.unwrap(),
            JournalEntry::Done(json!({"id": "o1"}))
        );
        let diverged = journal.begin(W0, op, "sha256:b").await.unwrap_err();
        assert!(matches!(&diverged, JournalError::Diverged(m) if m.contains("write #0")));
        let other_op = journal
            .begin(W0, "POST /opportunities/:opportunity/notes", "sha256:a")
            .await
            .unwrap_err();
        assert!(
            matches!(&other_op, JournalError::Diverged(m) if m.contains("was POST /opportunities")),
            "{other_op}"
        );

        assert!(journal.forget_response(0));
        assert!(!journal.forget_response(7));
        assert!(!journal.entries()[0].is_done());
        assert!(matches!(
            journal.begin(W0, op, "sha256:a").await.unwrap(),
            JournalEntry::Unknown { begun_at_ms } if begun_at_ms == begun
        ));
        assert!(matches!(
            journal.record(CallSeq::Write(3), &json!(null)).await,
            Err(JournalError::Unavailable(_))
        ));
    }

    #[tokio::test]
    async fn reads_are_numbered_apart_from_writes() {
        for seq in [
            CallSeq::Write(0),
            CallSeq::Write(7),
            CallSeq::Read(0),
            CallSeq::Read(9),
        ] {
            assert_eq!(CallSeq::from_key(seq.key()), Some(seq));
        }
        assert_eq!(CallSeq::Write(0).key(), 0);
        assert_eq!(CallSeq::Read(0).key(), -1);

        let journal = MemoryJournal::new();
        let read = CallSeq::Read(0);
        assert!(matches!(
            journal
                .begin(read, "GET /opportunities", "sha256:r")
                .await
                .unwrap(),
            JournalEntry::Fresh { .. }
        ));
        assert!(matches!(
            journal
                .begin(CallSeq::Write(0), "POST /opportunities", "sha256:w")
                .await
                .unwrap(),
            JournalEntry::Fresh { .. }
        ));
        journal.record(read, &json!({"data": []})).await.unwrap();
        assert_eq!(
            journal
                .begin(read, "GET /opportunities", "sha256:r")
                .await
                .unwrap(),
            JournalEntry::Done(json!({"data": []}))
        );
        assert_eq!(journal.entries().len(), 1, "writes only");
        assert_eq!(journal.read_entries().len(), 1);
        let diverged = journal
            .begin(read, "GET /postings", "sha256:r")
            .await
            .unwrap_err();
        assert!(
            matches!(&diverged, JournalError::Diverged(m) if m.contains("read #0")),
            "{diverged}"
        );
    }
}
