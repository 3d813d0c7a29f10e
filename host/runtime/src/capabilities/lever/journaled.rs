//! The one path of every Lever *write*, after its policy check: straight to Lever without an
//! effect journal, through the journal with one (see `crate::journal`).
//!
//! With a journal, the n-th write of the invocation is `call_seq = n` and its request digest
//! covers the function, the Lever body, the target opportunity, `perform_as` and a SHA-256 of
//! any file's bytes. Then, by what the journal knows:
//! - `Done`: the recorded Lever response is returned, converted as a live answer would be;
//!   nothing is sent. Audited as "<operation> (journal)", outcome allowed.
//! - `Unknown` (begun, never recorded): reconcile. A create looks for the opportunity by
//!   e-mail (and posting), created since the write was begun (minus [`CLOCK_SLACK_MS`]) with
//!   every requested source; a note by its text, a file by name and size, likewise. A match
//!   is recorded and returned (audited as "<operation> (reconciled)"); otherwise the write is
//!   sent again. Writes that are idempotent at Lever (stage, archive, tags, sources, links)
//!   are simply sent again.
//! - `Fresh`: sent; Lever's response (the `lever_model` wire type as JSON) is recorded, then
//!   converted. A failed send leaves the entry unrecorded, so the next attempt reconciles.
//!
//! A diverging replay is a permanent `invalid` error (audited as denied: nothing was sent); an
//! unavailable journal, or one that cannot record a write Lever applied, is `unavailable`.

use lever_model as lm;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::write::LeverWrite;
use super::{LeverCall, convert, lever_error};
use crate::bindings::PluginError;
use crate::capabilities::HostCalls;
use crate::grants::LeverAccess;
use crate::journal::{CallSeq, JournalEntry, JournalError, request_digest};

/// How far Lever's clock may be behind the host's when matching objects created since a
/// write was begun.
pub const CLOCK_SLACK_MS: i64 = 5 * 60 * 1000;

/// A journaled response as the wire type `R`.
fn decode<R: DeserializeOwned>(function: &str, response: Value) -> Result<R, PluginError> {
    serde_json::from_value(response).map_err(|e| {
        PluginError::Unavailable(format!(
            "cannot read the journaled Lever response of {function} ({e}) (host bug)"
        ))
    })
}

fn diverged(message: String) -> PluginError {
    PluginError::Invalid(format!(
        "the handler is not deterministic: it made different Lever calls when this event was \
         handled again ({message}); a replay must make the same Lever calls, in the same \
         order, with the same arguments"
    ))
}

impl HostCalls {
    /// Sends `write` (allowed by `call`'s policy check) through the effect journal if the
    /// invocation has one, audits the outcome and returns Lever's answer as `R`.
    pub(crate) async fn lever_write<R: DeserializeOwned>(
        &mut self,
        call: LeverCall,
        lever: &LeverAccess,
        write: LeverWrite,
    ) -> Result<R, PluginError> {
        debug_assert_eq!(call.function, write.function, "a write of another function");
        let mut call = call.host;
        let function = write.function.name();
        let Some(journal) = self.ctx.journal.clone() else {
            let result = match write.send(&lever.client).await {
                Ok(response) => decode(function, response),
                Err(e) => Err(lever_error(e)),
            };
            return self.finish(call, result);
        };
        let call_seq = CallSeq::Write(self.lever_writes);
        self.lever_writes += 1;
        let digest = match write.digest() {
            Ok(digest) => digest,
            Err(e) => {
                let error = PluginError::Unavailable(format!(
                    "cannot digest the {function} request ({e}) (host bug)"
                ));
                return self.finish(call, Err(error));
            }
        };
        let operation = call.operation().to_owned();
        let entry = match journal.begin(call_seq, &operation, &digest).await {
            Ok(entry) => entry,
            Err(JournalError::Diverged(message)) => {
                tracing::warn!(
                    plugin = %self.plugin.id, event = ?self.ctx.event_id, %call_seq, %message,
                    "handler diverged on replay"
                );
                return Err(self.deny(call, diverged(message)));
            }
            Err(e @ JournalError::Unavailable(_)) => {
                return self.finish(call, Err(PluginError::Unavailable(e.to_string())));
            }
        };
        let since = match entry {
            JournalEntry::Done(response) => {
                call.annotate("journal");
                return self.finish(call, decode(function, response));
            }
            JournalEntry::Fresh => None,
            JournalEntry::Unknown { begun_at_ms } => Some(begun_at_ms - CLOCK_SLACK_MS),
        };
        if let Some(since) = since {
            match write.reconcile(&lever.client, since).await {
                Ok(Some(found)) => {
                    tracing::info!(
                        plugin = %self.plugin.id, event = ?self.ctx.event_id, %call_seq, function,
                        "unknown outcome reconciled: Lever has the object, not sending again"
                    );
                    call.annotate("reconciled");
                    let result = match journal.record(call_seq, &found).await {
                        Ok(()) => decode(function, found),
                        Err(e) => Err(PluginError::Unavailable(e.to_string())),
                    };
                    return self.finish(call, result);
                }
                Ok(None) => tracing::info!(
                    plugin = %self.plugin.id, event = ?self.ctx.event_id, %call_seq, function,
                    "unknown outcome: Lever does not have the object, sending again"
                ),
                Err(e) => {
                    let error = lever_error(e);
                    return self.finish(call, Err(error));
                }
            }
        }
        let result = match write.send(&lever.client).await {
            Ok(response) => match journal.record(call_seq, &response).await {
                Ok(()) => decode(function, response),
                Err(e) => Err(PluginError::Unavailable(format!(
                    "Lever applied {function} but the effect journal could not record it ({e}); \
                     the event will be retried and reconciled"
                ))),
            },
            // Left unrecorded: the next attempt reconciles, which is right whether or not the
            // request reached Lever.
            Err(e) => Err(lever_error(e)),
        };
        self.finish(call, result)
    }
}

impl HostCalls {
    /// Makes a Lever read (allowed by `call`'s policy check) through the effect journal if the
    /// invocation has one: the n-th read of an event is answered from the journal when an
    /// earlier attempt recorded it, otherwise made and recorded. `request` identifies the read
    /// (function arguments) so a replay that reads something else at the same number is a
    /// divergence, as for writes. Answers and `not-found` are recorded; other errors are not
    /// (they fail the attempt or are worth asking again).
    pub(crate) async fn lever_read<R, F>(
        &mut self,
        call: LeverCall,
        request: Value,
        read: F,
    ) -> Result<R, PluginError>
    where
        R: Serialize + DeserializeOwned,
        F: std::future::Future<Output = Result<R, PluginError>>,
    {
        let function = call.function.name();
        let mut call = call.host;
        let Some(journal) = self.ctx.journal.clone() else {
            let result = read.await;
            return self.finish(call, result);
        };
        let seq = CallSeq::Read(self.lever_reads);
        self.lever_reads += 1;
        let digest = request_digest(function, &request);
        let operation = call.operation().to_owned();
        match journal.begin(seq, &operation, &digest).await {
            Ok(JournalEntry::Done(recorded)) => {
                call.annotate("journal");
                let result = serde_json::from_value::<Result<R, PluginError>>(recorded)
                    .unwrap_or_else(|e| {
                        Err(PluginError::Unavailable(format!(
                            "cannot read the journaled Lever answer of {function} ({e}) (host bug)"
                        )))
                    });
                return self.finish(call, result);
            }
            // Never recorded (or first time): reading again is harmless.
            Ok(JournalEntry::Fresh | JournalEntry::Unknown { .. }) => {}
            Err(JournalError::Diverged(message)) => {
                tracing::warn!(
                    plugin = %self.plugin.id, event = ?self.ctx.event_id, %seq, %message,
                    "handler diverged on replay"
                );
                return Err(self.deny(call, diverged(message)));
            }
            Err(e @ JournalError::Unavailable(_)) => {
                return self.finish(call, Err(PluginError::Unavailable(e.to_string())));
            }
        }
        let result = read.await;
        let recordable = matches!(&result, Ok(_) | Err(PluginError::NotFound(_)));
        if recordable {
            let recorded = serde_json::to_value(&result).map_err(|e| {
                PluginError::Unavailable(format!(
                    "cannot journal the Lever answer of {function} ({e}) (host bug)"
                ))
            });
            let stored = match recorded {
                Ok(value) => journal
                    .record(seq, &value)
                    .await
                    .map_err(|e| PluginError::Unavailable(e.to_string())),
                Err(e) => Err(e),
            };
            if let Err(e) = stored {
                return self.finish(call, Err(e));
            }
        }
        self.finish(call, result)
    }
}

/// The WIT opportunity of a create: Lever answers without expanded applications, so the
/// posting is the one sent (a reconciled or journaled answer converts the same way).
pub(super) fn created_opportunity(
    o: &lm::Opportunity,
    posting_id: Option<String>,
) -> crate::bindings::fulcrum::connector::lever::Opportunity {
    let mut created = convert::opportunity(o);
    if created.posting_ids.is_empty() {
        created.posting_ids.extend(posting_id);
    }
    created
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capabilities::lever::write::wire;

    #[test]
    fn journaled_opportunities_convert_like_live_ones() {
        let live = lm::Opportunity {
            id: "o1".into(),
            name: Some("Ada".into()),
            emails: vec!["ada@example.com".into()],
            created_at: 1_700_000_000_000,
            updated_at: Some(1_700_000_000_001),
            sources: vec!["Fixture".into()],
            stage: Some(lm::Expandable::Id("s1".into())),
            applications: vec![lm::Expandable::Id("a1".into())],
            ..Default::default()
        };
        let replayed: lm::Opportunity = decode("create-opportunity", wire(&live).unwrap()).unwrap();
        assert_eq!(replayed, live);
        assert_eq!(
            created_opportunity(&replayed, Some("p1".into())),
            created_opportunity(&live, Some("p1".into()))
        );
        assert_eq!(
            created_opportunity(&replayed, Some("p1".into())).posting_ids,
            ["p1"]
        );
    }
}
