//! `GET /opportunities` filters: every query parameter Lever documents for the list, parsed
//! once per request and matched per opportunity.

use crate::db::{Db, canonical_email};
use crate::error::ApiError;
use crate::query::{Range, RawQuery};
use lever_model::timestamp::{Millis, now_millis};
use lever_model::{Opportunity, Origin};

pub(super) struct Filter {
    emails: Vec<String>,
    tags: Vec<String>,
    sources: Vec<String>,
    origins: Vec<Origin>,
    stages: Vec<String>,
    postings: Vec<String>,
    archived_postings: Vec<String>,
    contacts: Vec<String>,
    reasons: Vec<String>,
    locations: Vec<String>,
    archived: Option<bool>,
    snoozed: Option<bool>,
    created: Range,
    updated: Range,
    advanced: Range,
    archived_at: Range,
    now: Millis,
}

fn strings(q: &RawQuery, key: &str) -> Vec<String> {
    q.all(key).into_iter().map(str::to_owned).collect()
}

impl Filter {
    pub(super) fn parse(q: &RawQuery) -> Result<Self, ApiError> {
        let origins = q
            .all("origin")
            .into_iter()
            .map(|o| {
                Origin::parse(o).ok_or_else(|| {
                    ApiError::bad_request(format!(
                        "Invalid value for origin: {o:?} (expected agency, applied, internal, \
                         referred, sourced or university)"
                    ))
                })
            })
            .collect::<Result<_, _>>()?;
        Ok(Self {
            emails: q.all("email").into_iter().map(canonical_email).collect(),
            tags: strings(q, "tag"),
            sources: strings(q, "source"),
            origins,
            stages: strings(q, "stage_id"),
            postings: strings(q, "posting_id"),
            archived_postings: strings(q, "archived_posting_id"),
            contacts: strings(q, "contact_id"),
            reasons: strings(q, "archive_reason_id"),
            locations: strings(q, "location"),
            archived: q.bool("archived")?,
            snoozed: q.bool("snoozed")?,
            created: q.range("created_at_")?,
            updated: q.range("updated_at_")?,
            advanced: q.range("advanced_at_")?,
            archived_at: q.range("archived_at_")?,
            now: now_millis(),
        })
    }

    pub(super) fn matches(&self, db: &Db, o: &Opportunity) -> bool {
        let any = |want: &[String], have: &[String]| {
            want.is_empty() || have.iter().any(|h| want.contains(h))
        };
        let one = |want: &[String], have: Option<&str>| {
            want.is_empty() || have.is_some_and(|h| want.iter().any(|w| w == h))
        };
        let posting_of = || {
            db.applications(&o.id)
                .first()
                .and_then(|a| a.posting.as_deref())
        };
        (self.emails.is_empty()
            || o.emails
                .iter()
                .any(|e| self.emails.contains(&canonical_email(e))))
            && any(&self.tags, &o.tags)
            && any(&self.sources, &o.sources)
            && (self.origins.is_empty() || o.origin.is_some_and(|x| self.origins.contains(&x)))
            && one(&self.stages, o.stage_id())
            && one(&self.contacts, o.contact_id())
            && one(&self.locations, o.location.as_deref())
            && one(&self.postings, posting_of())
            && (self.archived_postings.is_empty()
                || (o.archived.is_some() && one(&self.archived_postings, posting_of())))
            && one(
                &self.reasons,
                o.archived.as_ref().and_then(|a| a.reason.as_deref()),
            )
            && self.archived.is_none_or(|a| a == o.archived.is_some())
            && self
                .snoozed
                .is_none_or(|s| s == o.snoozed_until.is_some_and(|t| t > self.now))
            && self.created.contains(Some(o.created_at))
            && self.updated.contains(o.updated_at)
            && self.advanced.contains(o.last_advanced_at)
            && self
                .archived_at
                .contains(o.archived.as_ref().map(|a| a.archived_at))
    }
}
