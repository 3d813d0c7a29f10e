//! What the plugin keeps in its per-installation state, and under which keys.
//!
//! | key | value |
//! | --- | --- |
//! | `sync:cursor` | [`SyncCursor`]: where posting sync stands |
//! | `job:sent:{lever_posting_id}` | [`SentJob`]: digest of the pending job last sent |
//! | `job:link:{lever_posting_id}` | [`JobLink`]: the Remote Tech Work job it is linked to |
//! | `job:rtw:{rtw_job_id}` | the Lever posting id linked to that Remote Tech Work job |
//! | `application:{applicant_id}:{lever_posting_id}` | [`ApplicationRecord`] |
//!
//! Ids are checked at the ingress (letters, digits, `. _ ~ -`), so they never contain `:`.

use crate::model::{Applicant, LinkKind};
use fulcrum_sdk::prelude::*;
use serde::{Deserialize, Serialize};

pub const SYNC_CURSOR: &str = "sync:cursor";

pub fn sent_key(posting_id: &str) -> String {
    format!("job:sent:{posting_id}")
}
pub fn link_key(posting_id: &str) -> String {
    format!("job:link:{posting_id}")
}
pub fn rtw_job_key(rtw_job_id: &str) -> String {
    format!("job:rtw:{rtw_job_id}")
}
pub fn application_key(applicant_id: &str, posting_id: &str) -> String {
    format!("application:{applicant_id}:{posting_id}")
}
pub fn applications_of(applicant_id: &str) -> String {
    format!("application:{applicant_id}:")
}

/// A pass over Lever's postings, possibly spread over several runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pass {
    /// `None`: every posting in the configured states; `Some(t)`: postings updated since `t`.
    pub updated_since: Option<i64>,
    /// The cursor of the page to read next (`None`: the first page).
    pub page: Option<String>,
    /// Latest `updated_at` seen so far in this pass.
    pub max_seen: Option<i64>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SyncCursor {
    /// Postings updated at or after this time are looked at by the next incremental pass
    /// (less a safety margin); `None` until a full pass completes.
    pub updated_since: Option<i64>,
    /// The posting states the last full pass covered: a config change starts a new full pass.
    pub states: Vec<String>,
    /// The pass under way, when the last run stopped at its batch size.
    pub pass: Option<Pass>,
    /// How many full passes completed.
    pub full_passes: u64,
}

/// What was last sent for a posting.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SentJob {
    /// SHA-256 (hex) of the pending job's JSON as sent.
    pub digest: String,
    /// The posting's Lever state then.
    pub lever_state: String,
    /// Whether its state was one the config syncs (a posting leaving those states is sent once
    /// more so Remote Tech Work can close it).
    pub synced_state: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobLink {
    pub rtw_job_id: String,
    pub link: LinkKind,
    /// When Remote Tech Work linked it (Unix ms), when known.
    pub linked_at: Option<i64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApplicationStatus {
    /// Waiting for an on-demand create (or failed to create).
    Pending,
    /// In Lever as `opportunity_id`.
    InLever,
    /// The candidate withdrew.
    Withdrawn,
}

/// One applicant's application to one posting.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApplicationRecord {
    pub applicant_id: String,
    pub rtw_job_id: String,
    pub lever_posting_id: String,
    pub status: ApplicationStatus,
    pub full_name: String,
    pub email: String,
    /// The Lever opportunity, once there is one (kept through withdrawals).
    pub opportunity_id: Option<String>,
    /// When the latest application was submitted (Unix ms, the vendor's `occurred_at`).
    pub submitted_at: i64,
    pub withdrawn_at: Option<i64>,
    /// The profile, kept only while the application waits for an on-demand create.
    pub profile: Option<Applicant>,
}

pub fn get<T: serde::de::DeserializeOwned>(key: &str) -> Result<Option<T>, Error> {
    state::get_json(key)
}

pub fn put<T: Serialize>(key: &str, value: &T) -> Result<(), Error> {
    state::set_json(key, value)
}
