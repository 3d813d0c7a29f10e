//! Lever postings → Relode jobs: which postings Relode gets (published on the public job
//! site), the job JSON, and the plan of a sync pass (which jobs to upsert or close) given
//! what was sent before. Pure, so it is unit-tested natively; `lib.rs` does the I/O.

use crate::codec;
use fulcrum_sdk::lever::{
    Confidentiality, DistributionChannel, Posting, PostingState, WorkplaceType,
};
use fulcrum_sdk::prelude::*;
use std::collections::{BTreeMap, BTreeSet};

/// What Relode was last sent per open job: Lever posting id → digest of the job JSON. Jobs
/// that were closed at Relode are dropped from it.
pub type SentJobs = BTreeMap<String, String>;

/// Whether Relode should list the posting: published, on the public job site, not confidential.
pub fn is_public(posting: &Posting) -> bool {
    posting.state == PostingState::Published
        && posting
            .distribution_channels
            .contains(&DistributionChannel::Public)
        && posting.confidentiality != Confidentiality::Confidential
}

/// Why a posting Relode has is no longer public, for the close request.
pub fn close_reason(posting: &Posting) -> &'static str {
    match posting.state {
        PostingState::Closed => "closed",
        PostingState::Published if posting.confidentiality == Confidentiality::Confidential => {
            "confidential"
        }
        PostingState::Published => "not_public",
        PostingState::Internal => "not_public",
        PostingState::Draft | PostingState::Pending | PostingState::Rejected => "unpublished",
    }
}

/// The reason for a job the full listing no longer contains (deleted, or left the filter
/// between two passes without Lever telling us how).
pub const CLOSE_REASON_NOT_LISTED: &str = "no_longer_listed";

fn workplace(w: WorkplaceType) -> Option<&'static str> {
    match w {
        WorkplaceType::Unspecified => None,
        WorkplaceType::Onsite => Some("onsite"),
        WorkplaceType::Remote => Some("remote"),
        WorkplaceType::Hybrid => Some("hybrid"),
    }
}

/// The whole description as Lever's job page shows it: opening, each list (requirements,
/// benefits...) under its title, closing.
pub fn description_html(posting: &Posting) -> String {
    let mut html = posting.description_html.clone();
    for list in &posting.lists {
        html.push_str(&format!("<h3>{}</h3>{}", list.title, list.content_html));
    }
    html.push_str(&posting.closing_html);
    html
}

/// The job Relode receives for a public posting (`PUT /v1/lever/jobs/{lever_posting_id}`).
pub fn job(posting: &Posting, career_page_url: &str) -> Value {
    json!({
        "lever_posting_id": posting.id,
        // Relode shows a job it creates as pending until the customer asks to broadcast it;
        // updates never change the status Relode gave it.
        "initial_status": "pending",
        "title": posting.title,
        "description": posting.description,
        "description_html": description_html(posting),
        "location": posting.location,
        "all_locations": posting.all_locations,
        // Lever's hierarchy, so Relode can mirror it (departments, teams, offices).
        "department": posting.department,
        "team": posting.team,
        "commitment": posting.commitment,
        "workplace_type": workplace(posting.workplace_type),
        "country": posting.country,
        "salary": posting.salary.as_ref().map(|s| json!({
            "min": s.min, "max": s.max, "currency": s.currency, "interval": s.interval,
        })),
        "posting_url": posting.show_url,
        "apply_url": posting.apply_url,
        "career_page_url": career_page_url,
        "lever_created_at": codec::rfc3339(posting.created_at),
    })
}

/// The digest of a job's JSON (serde_json writes object keys in order, so it is stable).
pub fn job_digest(job: &Value) -> String {
    codec::digest(job.to_string().as_bytes())
}

/// One request to Relode.
#[derive(Debug, Clone, PartialEq)]
pub enum JobChange {
    /// Create or update the job; remember `digest` once Relode accepted it.
    Upsert {
        posting_id: String,
        job: Value,
        digest: String,
    },
    /// The job is no longer public in Lever.
    Close {
        posting_id: String,
        reason: &'static str,
    },
}

impl JobChange {
    pub fn posting_id(&self) -> &str {
        match self {
            JobChange::Upsert { posting_id, .. } | JobChange::Close { posting_id, .. } => {
                posting_id
            }
        }
    }
}

fn upsert_if_changed(
    posting: &Posting,
    sent: &SentJobs,
    career_page_url: &str,
) -> Option<JobChange> {
    let job = job(posting, career_page_url);
    let digest = job_digest(&job);
    (sent.get(&posting.id) != Some(&digest)).then(|| JobChange::Upsert {
        posting_id: posting.id.clone(),
        job,
        digest,
    })
}

/// A full pass over every public posting (Lever listed published + public ones): upsert what
/// is new or changed, close what Relode has that is no longer listed or no longer public.
pub fn plan_full(postings: &[Posting], sent: &SentJobs, career_page_url: &str) -> Vec<JobChange> {
    let mut changes = Vec::new();
    let mut public = BTreeSet::new();
    for posting in postings {
        if is_public(posting) {
            public.insert(posting.id.as_str());
            changes.extend(upsert_if_changed(posting, sent, career_page_url));
        } else if sent.contains_key(&posting.id) {
            changes.push(JobChange::Close {
                posting_id: posting.id.clone(),
                reason: close_reason(posting),
            });
        }
    }
    let listed: BTreeSet<&str> = postings.iter().map(|p| p.id.as_str()).collect();
    for posting_id in sent.keys() {
        if !listed.contains(posting_id.as_str()) {
            changes.push(JobChange::Close {
                posting_id: posting_id.clone(),
                reason: CLOSE_REASON_NOT_LISTED,
            });
        }
    }
    changes
}

/// An incremental pass over the postings Lever changed lately (any state): upsert the public
/// ones that changed, close the ones Relode has that are no longer public.
pub fn plan_incremental(
    postings: &[Posting],
    sent: &SentJobs,
    career_page_url: &str,
) -> Vec<JobChange> {
    postings
        .iter()
        .filter_map(|posting| {
            if is_public(posting) {
                upsert_if_changed(posting, sent, career_page_url)
            } else if sent.contains_key(&posting.id) {
                Some(JobChange::Close {
                    posting_id: posting.id.clone(),
                    reason: close_reason(posting),
                })
            } else {
                None
            }
        })
        .collect()
}

/// The sync's progress, kept in state between runs.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SyncCursor {
    /// When the last complete full pass was scheduled (Unix ms).
    pub full_pass_at: Option<Timestamp>,
    /// Postings updated at or after this time are listed by the next incremental pass.
    pub updated_since: Option<Timestamp>,
}

/// How often a run is a full pass: it catches what an incremental listing cannot show (a
/// posting made internal-only, or deleted).
pub const FULL_PASS_EVERY_MS: i64 = 60 * 60 * 1000;
/// How far back an incremental listing reaches before the previous run, for clock skew between
/// the host and Lever and for postings saved while the previous run was listing.
pub const OVERLAP_MS: i64 = 10 * 60 * 1000;

/// The kind of pass a run scheduled at `at` makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pass {
    Full,
    Incremental { updated_since: Timestamp },
}

pub fn pass_for(cursor: &SyncCursor, at: Timestamp) -> Pass {
    match (cursor.full_pass_at, cursor.updated_since) {
        (Some(full), Some(since)) if at - full < FULL_PASS_EVERY_MS => Pass::Incremental {
            updated_since: since,
        },
        _ => Pass::Full,
    }
}

/// The cursor after a pass that sent everything it planned.
pub fn advance(cursor: &SyncCursor, pass: Pass, at: Timestamp) -> SyncCursor {
    SyncCursor {
        full_pass_at: match pass {
            Pass::Full => Some(at),
            Pass::Incremental { .. } => cursor.full_pass_at,
        },
        updated_since: Some(at - OVERLAP_MS),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use fulcrum_sdk::lever::{PostingListSection, SalaryRange};

    pub fn posting(id: &str, title: &str) -> Posting {
        Posting {
            id: id.into(),
            title: title.into(),
            state: PostingState::Published,
            distribution_channels: vec![DistributionChannel::Public, DistributionChannel::Internal],
            confidentiality: Confidentiality::NonConfidential,
            team: Some("Platform".into()),
            department: Some("Engineering".into()),
            location: Some("Berlin".into()),
            all_locations: vec!["Berlin".into(), "Remote (EU)".into()],
            commitment: Some("Full-time".into()),
            level: None,
            workplace_type: WorkplaceType::Hybrid,
            country: Some("DE".into()),
            description: "Build the platform.".into(),
            description_html: "<p>Build the platform.</p>".into(),
            lists: vec![PostingListSection {
                title: "Requirements".into(),
                content_html: "<li>Rust</li>".into(),
            }],
            closing_html: "<p>Apply now.</p>".into(),
            tags: vec!["internal-tag".into()],
            salary: Some(SalaryRange {
                min: 70000.0,
                max: 90000.0,
                currency: "EUR".into(),
                interval: "per-year-salary".into(),
            }),
            salary_description: None,
            salary_description_html: None,
            requisition_codes: vec![],
            owner_id: None,
            hiring_manager_id: None,
            follower_ids: vec![],
            list_url: Some("https://jobs.lever.co/acme".into()),
            show_url: Some(format!("https://jobs.lever.co/acme/{id}")),
            apply_url: Some(format!("https://jobs.lever.co/acme/{id}/apply")),
            created_at: 1_700_000_000_000,
            updated_at: Some(1_700_000_100_000),
        }
    }

    const CAREERS: &str = "https://acme.com/careers";

    #[test]
    fn a_job_carries_what_relode_shows_and_the_hierarchy() {
        let job = job(&posting("p1", "Backend Engineer"), CAREERS);
        assert_eq!(job["lever_posting_id"], "p1");
        assert_eq!(job["initial_status"], "pending");
        assert_eq!(job["title"], "Backend Engineer");
        assert_eq!(job["description"], "Build the platform.");
        assert_eq!(
            job["description_html"],
            "<p>Build the platform.</p><h3>Requirements</h3><li>Rust</li><p>Apply now.</p>"
        );
        assert_eq!(job["location"], "Berlin");
        assert_eq!(job["all_locations"], json!(["Berlin", "Remote (EU)"]));
        assert_eq!(
            (&job["department"], &job["team"], &job["commitment"]),
            (
                &json!("Engineering"),
                &json!("Platform"),
                &json!("Full-time")
            )
        );
        assert_eq!(job["workplace_type"], "hybrid");
        assert_eq!(job["salary"]["currency"], "EUR");
        assert_eq!(job["apply_url"], "https://jobs.lever.co/acme/p1/apply");
        assert_eq!(job["career_page_url"], CAREERS);
        assert_eq!(job["lever_created_at"], "2023-11-14T22:13:20.000Z");
        assert!(
            job.get("tags").is_none(),
            "Lever's internal tags stay in Lever"
        );
    }

    #[test]
    fn only_published_public_non_confidential_postings_are_public() {
        assert!(is_public(&posting("p", "t")));
        let mut internal = posting("p", "t");
        internal.distribution_channels = vec![DistributionChannel::Internal];
        assert!(!is_public(&internal));
        assert_eq!(close_reason(&internal), "not_public");
        let mut closed = posting("p", "t");
        closed.state = PostingState::Closed;
        assert!(!is_public(&closed));
        assert_eq!(close_reason(&closed), "closed");
        let mut draft = posting("p", "t");
        draft.state = PostingState::Draft;
        assert_eq!(close_reason(&draft), "unpublished");
        let mut secret = posting("p", "t");
        secret.confidentiality = Confidentiality::Confidential;
        assert!(!is_public(&secret));
    }

    #[test]
    fn a_full_pass_sends_new_and_changed_jobs_and_closes_the_rest() {
        let unchanged = posting("p1", "Same");
        let mut sent = SentJobs::new();
        sent.insert("p1".into(), job_digest(&job(&unchanged, CAREERS)));
        sent.insert("p2".into(), "old digest".into());
        sent.insert("gone".into(), "whatever".into());
        sent.insert("p4".into(), "whatever".into());
        let mut now_closed = posting("p4", "Closed now");
        now_closed.state = PostingState::Closed;
        let postings = vec![
            unchanged,
            posting("p2", "Edited"),
            posting("p3", "New"),
            now_closed,
        ];
        let changes = plan_full(&postings, &sent, CAREERS);
        let summary: Vec<(String, &str)> = changes
            .iter()
            .map(|c| match c {
                JobChange::Upsert { posting_id, .. } => (posting_id.clone(), "upsert"),
                JobChange::Close { posting_id, reason } => (posting_id.clone(), *reason),
            })
            .collect();
        assert_eq!(
            summary,
            [
                ("p2".to_owned(), "upsert"),
                ("p3".to_owned(), "upsert"),
                ("p4".to_owned(), "closed"),
                ("gone".to_owned(), "no_longer_listed"),
            ]
        );
        // The same postings again after everything was recorded: nothing to send.
        let mut recorded = sent.clone();
        for change in &changes {
            match change {
                JobChange::Upsert {
                    posting_id, digest, ..
                } => {
                    recorded.insert(posting_id.clone(), digest.clone());
                }
                JobChange::Close { posting_id, .. } => {
                    recorded.remove(posting_id);
                }
            }
        }
        assert_eq!(plan_full(&postings, &recorded, CAREERS), []);
    }

    #[test]
    fn an_incremental_pass_ignores_what_it_did_not_list_and_non_public_unknowns() {
        let mut sent = SentJobs::new();
        sent.insert("not-listed".into(), "d".into());
        sent.insert("p2".into(), "d".into());
        let mut draft = posting("p1", "Draft");
        draft.state = PostingState::Draft;
        let mut unpublished = posting("p2", "Back to draft");
        unpublished.state = PostingState::Draft;
        let changes = plan_incremental(&[draft, unpublished], &sent, CAREERS);
        assert_eq!(
            changes,
            [JobChange::Close {
                posting_id: "p2".into(),
                reason: "unpublished"
            }]
        );
    }

    #[test]
    fn a_career_page_change_resends_every_job() {
        let p = posting("p1", "Same");
        let mut sent = SentJobs::new();
        sent.insert("p1".into(), job_digest(&job(&p, CAREERS)));
        assert_eq!(
            plan_incremental(std::slice::from_ref(&p), &sent, CAREERS),
            []
        );
        assert_eq!(
            plan_incremental(&[p], &sent, "https://acme.com/jobs").len(),
            1
        );
    }

    #[test]
    fn passes_are_full_hourly_and_incremental_in_between() {
        let start = SyncCursor::default();
        assert_eq!(pass_for(&start, 1_000_000), Pass::Full);
        let after_full = advance(&start, Pass::Full, 10_000_000);
        assert_eq!(after_full.updated_since, Some(10_000_000 - OVERLAP_MS));
        assert_eq!(
            pass_for(&after_full, 10_300_000),
            Pass::Incremental {
                updated_since: 10_000_000 - OVERLAP_MS
            }
        );
        let after_incremental = advance(
            &after_full,
            Pass::Incremental { updated_since: 0 },
            10_300_000,
        );
        assert_eq!(after_incremental.full_pass_at, Some(10_000_000));
        assert_eq!(
            pass_for(&after_incremental, 10_000_000 + FULL_PASS_EVERY_MS),
            Pass::Full
        );
    }
}
