//! Per-operation request counters, kept by the `/v1` gate (one place for every endpoint).

use lever_model::Operation;
use serde::Serialize;
use std::collections::BTreeMap;

/// Label for `/v1` requests that match no operation (unknown route or method).
pub const UNMATCHED: &str = "(unmatched)";

#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
pub struct Stats {
    /// Operation label ("POST /opportunities") → HTTP status → count of answered requests.
    pub requests: BTreeMap<String, BTreeMap<u16, u64>>,
    /// Successful (2xx) writes per operation label, and writes applied whose answer an
    /// after-apply fault replaced.
    pub writes: BTreeMap<String, u64>,
    /// Requests refused by the rate limiter (not by injected 429s).
    pub rate_limited: u64,
    /// Injected faults of any kind: statuses, drops and delays.
    pub injected_faults: u64,
    /// Connections closed without a response by a drop fault.
    pub dropped_connections: u64,
    /// Requests handled whose successful answer an after-apply fault replaced with an error,
    /// per operation label (writes among them are also in `writes`).
    pub lost_answers: BTreeMap<String, u64>,
}

impl Stats {
    /// Successful writes of one operation.
    pub fn writes_to(&self, op: Operation) -> u64 {
        self.writes.get(&op.label()).copied().unwrap_or(0)
    }

    /// Every answered `/v1` request (dropped connections are not answered).
    pub fn total_requests(&self) -> u64 {
        self.requests.values().flat_map(|m| m.values()).sum()
    }

    /// Answered requests of one operation with one status.
    pub fn count(&self, op: Operation, status: u16) -> u64 {
        self.requests
            .get(&op.label())
            .and_then(|m| m.get(&status))
            .copied()
            .unwrap_or(0)
    }

    /// Answered requests of one operation, any status.
    pub fn requests_to(&self, op: Operation) -> u64 {
        self.requests
            .get(&op.label())
            .map(|m| m.values().sum())
            .unwrap_or(0)
    }

    /// Requests of one operation whose answer an after-apply fault replaced.
    pub fn lost_answers_of(&self, op: Operation) -> u64 {
        self.lost_answers.get(&op.label()).copied().unwrap_or(0)
    }

    /// A request handled successfully whose answer is replaced by an injected error (the
    /// error itself is recorded with [`Stats::record`]).
    pub(crate) fn record_lost_answer(&mut self, label: &str, is_write: bool) {
        *self.lost_answers.entry(label.to_owned()).or_default() += 1;
        if is_write {
            *self.writes.entry(label.to_owned()).or_default() += 1;
        }
    }

    pub(crate) fn record(&mut self, label: &str, status: u16, is_write: bool) {
        *self
            .requests
            .entry(label.to_owned())
            .or_default()
            .entry(status)
            .or_default() += 1;
        if is_write && (200..300).contains(&status) {
            *self.writes.entry(label.to_owned()).or_default() += 1;
        }
    }
}
