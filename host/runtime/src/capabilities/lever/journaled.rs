//! The one path of every Lever *write*, after its policy check: straight to Lever without an
//! effect journal, through the journal with one (see `crate::journal`).
//!
//! With a journal, the n-th write of the invocation is `call_seq = n` and its request digest
//! covers the function, the Lever body, the target (opportunity, or posting, contact, note,
//! requisition, requisition field), `perform_as` and a SHA-256 of any file's bytes. Each
//! journaled write has an [`AttemptMarker`] derived from its journal entry (event, number,
//! first `begun_at`); a create-opportunity sends it as an extra tag. Then, by what
//! the journal knows:
//! - `Done`: the recorded Lever response is returned, converted as a live answer would be;
//!   nothing is sent. Audited as "<operation> (journal)", outcome allowed.
//! - `Unknown` (begun, never recorded): reconcile (`write/reconcile.rs` has the rule of each
//!   write). Lever has it: recorded and returned, audited as "<operation> (reconciled)". Lever
//!   has a newer change of the same thing (a stage or archive change made since the write
//!   began): kept, recorded as the answer, audited as "<operation> (superseded)", nothing
//!   sent. Otherwise the write is sent again, as below.
//! - `Fresh`: sent; Lever's response (the `lever_model` wire type as JSON, without the marker)
//!   is recorded, then converted. A failed send leaves the entry unrecorded, so the next
//!   attempt reconciles.
//!
//! Once a create's answer is recorded, the host removes the marker tag from the opportunity.
//! That is best effort: if it fails (or the host stops in between) the tag stays, logged, and
//! nothing else is affected.
//!
//! A diverging replay is a permanent `invalid` error (audited as denied: nothing was sent); an
//! unavailable journal, or one that cannot record a write Lever applied, is `unavailable`.

use lever_model as lm;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::sync::Arc;

use super::write::{AttemptMarker, LeverWrite, Reconciled};
use super::{LeverCall, LeverFunction, convert, lever_error};
use crate::bindings::PluginError;
use crate::capabilities::{HostCall, HostCalls};
use crate::grants::LeverAccess;
use crate::journal::{CallSeq, EffectJournal, JournalEntry, JournalError, request_digest};

pub use super::write::CLOCK_SLACK_MS;

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
            let result = match write.send(&lever.client, None).await {
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
        let (begun_at_ms, outcome_unknown) = match entry {
            JournalEntry::Done(response) => {
                call.annotate("journal");
                return self.finish(call, decode(function, response));
            }
            JournalEntry::Fresh { begun_at_ms } => (begun_at_ms, false),
            JournalEntry::Unknown { begun_at_ms } => (begun_at_ms, true),
        };
        let marker = AttemptMarker::new(
            &self.ctx.tenant_id,
            &self.ctx.installation_id,
            self.ctx.event_id.as_deref(),
            call_seq,
            begun_at_ms,
        );
        let journaled = Journaled {
            journal,
            call_seq,
            write: &write,
            lever,
            marker: &marker,
        };
        if outcome_unknown {
            match write.reconcile(lever, begun_at_ms, &marker).await {
                Ok(Reconciled::Applied(found)) => {
                    tracing::info!(
                        plugin = %self.plugin.id, event = ?self.ctx.event_id, %call_seq, function,
                        "unknown outcome reconciled: Lever has it, not sending again"
                    );
                    call.annotate("reconciled");
                    return self.record(call, journaled, found, None).await;
                }
                Ok(Reconciled::Superseded(current)) => {
                    tracing::warn!(
                        plugin = %self.plugin.id, event = ?self.ctx.event_id, %call_seq, function,
                        "unknown outcome: Lever has a newer change made since the write began; \
                         keeping it, not sending again"
                    );
                    call.annotate("superseded");
                    return self.record(call, journaled, current, None).await;
                }
                Ok(Reconciled::Absent) => tracing::info!(
                    plugin = %self.plugin.id, event = ?self.ctx.event_id, %call_seq, function,
                    "unknown outcome: Lever does not have it, sending again"
                ),
                Err(e) => {
                    let error = lever_error(e);
                    return self.finish(call, Err(error));
                }
            }
        }
        match write.send(&lever.client, Some(&marker)).await {
            Ok(response) => {
                let unrecorded =
                    format!("Lever applied {function} but the effect journal could not record it");
                self.record(call, journaled, response, Some(unrecorded))
                    .await
            }
            // Left unrecorded: the next attempt reconciles, which is right whether or not the
            // request reached Lever.
            Err(e) => self.finish(call, Err(lever_error(e))),
        }
    }

    /// Records Lever's answer (sent, reconciled or superseded) as write `call_seq`, removes a
    /// create's marker once it is recorded, and finishes the call with the answer as `R`.
    /// `unrecorded` prefixes the error when Lever applied the write but recording failed.
    async fn record<R: DeserializeOwned>(
        &mut self,
        call: HostCall,
        journaled: Journaled<'_>,
        response: Value,
        unrecorded: Option<String>,
    ) -> Result<R, PluginError> {
        let Journaled {
            journal,
            call_seq,
            write,
            lever,
            marker,
        } = journaled;
        let function = write.function.name();
        if let Err(e) = journal.record(call_seq, &response).await {
            // The marker stays on a create: the retry finds the opportunity by it.
            let error = match unrecorded {
                Some(what) => PluginError::Unavailable(format!(
                    "{what} ({e}); the event will be retried and reconciled"
                )),
                None => PluginError::Unavailable(e.to_string()),
            };
            return self.finish(call, Err(error));
        }
        if let Err(e) = write.remove_marker(&lever.client, marker, &response).await {
            tracing::warn!(
                plugin = %self.plugin.id, event = ?self.ctx.event_id, %call_seq, function,
                marker = marker.tag(), error = %e,
                "could not remove the attempt marker tag from the created opportunity; \
                 it stays (harmless)"
            );
        }
        self.finish(call, decode(function, response))
    }
}

/// One journaled write in progress: where its answer is recorded and how its marker is removed.
struct Journaled<'a> {
    journal: Arc<dyn EffectJournal>,
    call_seq: CallSeq,
    write: &'a LeverWrite,
    lever: &'a LeverAccess,
    marker: &'a AttemptMarker,
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
        let mut host = call.host;
        match self.journaled_read(call.function, request, read).await {
            Ok((answer, replayed)) => {
                if replayed {
                    host.annotate("journal");
                }
                self.finish(host, answer)
            }
            Err(Refused::Denied(e)) => Err(self.deny(host, e)),
            Err(Refused::Failed(e)) => self.finish(host, Err(e)),
        }
    }

    /// A read a write depends on, inside the write's call (delete-note's note, a posting's
    /// categories): journaled like any read, so a replay takes the same path. On an error the
    /// call is audited and ends; otherwise it continues with the answer.
    pub(crate) async fn lever_lookup<R, F>(
        &mut self,
        call: LeverCall,
        request: Value,
        read: F,
    ) -> Result<(LeverCall, R), PluginError>
    where
        R: Serialize + DeserializeOwned,
        F: std::future::Future<Output = Result<R, PluginError>>,
    {
        match self.journaled_read(call.function, request, read).await {
            Ok((Ok(answer), _)) => Ok((call, answer)),
            Ok((Err(e), _)) | Err(Refused::Failed(e)) => self.finish(call.host, Err(e)),
            Err(Refused::Denied(e)) => Err(self.deny(call.host, e)),
        }
    }

    /// The journal side of [`HostCalls::lever_read`], for a read inside a larger call (the
    /// lookup a write depends on): the answer, and whether it came from the journal. The
    /// caller audits.
    pub(crate) async fn journaled_read<R, F>(
        &mut self,
        function: LeverFunction,
        request: Value,
        read: F,
    ) -> Result<(Result<R, PluginError>, bool), Refused>
    where
        R: Serialize + DeserializeOwned,
        F: std::future::Future<Output = Result<R, PluginError>>,
    {
        let name = function.name();
        let Some(journal) = self.ctx.journal.clone() else {
            return Ok((read.await, false));
        };
        let seq = CallSeq::Read(self.lever_reads);
        self.lever_reads += 1;
        let digest = request_digest(name, &request);
        let operation = function.operation().label();
        match journal.begin(seq, &operation, &digest).await {
            Ok(JournalEntry::Done(recorded)) => {
                let result = serde_json::from_value::<Result<R, PluginError>>(recorded)
                    .unwrap_or_else(|e| {
                        Err(PluginError::Unavailable(format!(
                            "cannot read the journaled Lever answer of {name} ({e}) (host bug)"
                        )))
                    });
                return Ok((result, true));
            }
            // Never recorded (or first time): reading again is harmless.
            Ok(JournalEntry::Fresh { .. } | JournalEntry::Unknown { .. }) => {}
            Err(JournalError::Diverged(message)) => {
                tracing::warn!(
                    plugin = %self.plugin.id, event = ?self.ctx.event_id, %seq, %message,
                    "handler diverged on replay"
                );
                return Err(Refused::Denied(diverged(message)));
            }
            Err(e @ JournalError::Unavailable(_)) => {
                return Err(Refused::Failed(PluginError::Unavailable(e.to_string())));
            }
        }
        let result = read.await;
        let recordable = matches!(&result, Ok(_) | Err(PluginError::NotFound(_)));
        if recordable {
            let recorded = serde_json::to_value(&result).map_err(|e| {
                PluginError::Unavailable(format!(
                    "cannot journal the Lever answer of {name} ({e}) (host bug)"
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
                return Err(Refused::Failed(e));
            }
        }
        Ok((result, false))
    }
}

/// Why a journaled read gave no answer: the replay diverged (audited as denied), or the
/// journal failed (audited as failed).
pub(crate) enum Refused {
    Denied(PluginError),
    Failed(PluginError),
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
