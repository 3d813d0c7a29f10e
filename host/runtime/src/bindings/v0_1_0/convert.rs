//! Conversions between contract 0.1.0 and the latest contract. Requests go up (0.1.0 → latest,
//! new fields at their "not given" value), answers go down (latest → 0.1.0, new fields
//! dropped). Field by field, so a new latest field that 0.1.0 lacks is a compile error here
//! only when it must be filled in.

use super::exports::fulcrum::connector::plugin as old_plugin;
use super::fulcrum::connector::{lever as old, types as old_types, vendor_http as old_http};
use crate::bindings::exports::fulcrum::connector::plugin as new_plugin;
use crate::bindings::fulcrum::connector::{
    lever as new, types as new_types, vendor_http as new_http,
};

/// Same-named cases both ways.
macro_rules! same_enum {
    ($old:ty, $new:ty, [$($case:ident),* $(,)?]) => {
        impl From<$old> for $new {
            fn from(v: $old) -> Self {
                match v { $(<$old>::$case => <$new>::$case,)* }
            }
        }
        impl From<$new> for $old {
            fn from(v: $new) -> Self {
                match v { $(<$new>::$case => <$old>::$case,)* }
            }
        }
    };
}

fn all<A, B: From<A>>(xs: Vec<A>) -> Vec<B> {
    xs.into_iter().map(B::from).collect()
}

// types ---------------------------------------------------------------------------------------

impl From<new_types::Error> for old_types::Error {
    fn from(e: new_types::Error) -> Self {
        use new_types::Error as N;
        match e {
            N::Forbidden(m) => Self::Forbidden(m),
            N::NotFound(m) => Self::NotFound(m),
            N::Invalid(m) => Self::Invalid(m),
            N::RateLimited(ms) => Self::RateLimited(ms),
            N::Unavailable(m) => Self::Unavailable(m),
            N::VendorError(m) => Self::VendorError(m),
            N::LimitExceeded(m) => Self::LimitExceeded(m),
        }
    }
}

impl From<old_types::Error> for new_types::Error {
    fn from(e: old_types::Error) -> Self {
        use old_types::Error as O;
        match e {
            O::Forbidden(m) => Self::Forbidden(m),
            O::NotFound(m) => Self::NotFound(m),
            O::Invalid(m) => Self::Invalid(m),
            O::RateLimited(ms) => Self::RateLimited(ms),
            O::Unavailable(m) => Self::Unavailable(m),
            O::VendorError(m) => Self::VendorError(m),
            O::LimitExceeded(m) => Self::LimitExceeded(m),
        }
    }
}

same_enum!(
    old_types::LogLevel,
    new_types::LogLevel,
    [Trace, Debug, Info, Warn, Error]
);

/// A latest result, down to 0.1.0.
pub(super) fn down<T, U: From<T>>(r: Result<T, new_types::Error>) -> Result<U, old_types::Error> {
    r.map(U::from).map_err(old_types::Error::from)
}

// vendor-http ---------------------------------------------------------------------------------

same_enum!(
    old_http::Method,
    new_http::Method,
    [Get, Post, Put, Patch, Delete]
);

impl From<old_http::Header> for new_http::Header {
    fn from(h: old_http::Header) -> Self {
        Self {
            name: h.name,
            value: h.value,
        }
    }
}

impl From<new_http::Header> for old_http::Header {
    fn from(h: new_http::Header) -> Self {
        Self {
            name: h.name,
            value: h.value,
        }
    }
}

impl From<old_http::Request> for new_http::Request {
    fn from(r: old_http::Request) -> Self {
        Self {
            method: r.method.into(),
            url: r.url,
            headers: all(r.headers),
            body: r.body,
        }
    }
}

impl From<new_http::Response> for old_http::Response {
    fn from(r: new_http::Response) -> Self {
        Self {
            status: r.status,
            headers: all(r.headers),
            body: r.body,
        }
    }
}

// lever ---------------------------------------------------------------------------------------

same_enum!(
    old::PostingState,
    new::PostingState,
    [Published, Internal, Closed, Draft, Pending, Rejected]
);
same_enum!(
    old::DistributionChannel,
    new::DistributionChannel,
    [Public, Internal]
);
same_enum!(
    old::WorkplaceType,
    new::WorkplaceType,
    [Unspecified, Onsite, Remote, Hybrid]
);
same_enum!(
    old::Origin,
    new::Origin,
    [Agency, Applied, Internal, Referred, Sourced, University]
);
same_enum!(
    old::ArchiveReasonKind,
    new::ArchiveReasonKind,
    [Hired, NonHired]
);

impl From<new::PostingListSection> for old::PostingListSection {
    fn from(s: new::PostingListSection) -> Self {
        Self {
            title: s.title,
            content_html: s.content_html,
        }
    }
}

impl From<new::SalaryRange> for old::SalaryRange {
    fn from(s: new::SalaryRange) -> Self {
        Self {
            min: s.min,
            max: s.max,
            currency: s.currency,
            interval: s.interval,
        }
    }
}

impl From<new::Posting> for old::Posting {
    fn from(p: new::Posting) -> Self {
        Self {
            id: p.id,
            title: p.title,
            state: p.state.into(),
            distribution_channels: all(p.distribution_channels),
            confidential: p.confidentiality == new::Confidentiality::Confidential,
            team: p.team,
            department: p.department,
            location: p.location,
            all_locations: p.all_locations,
            commitment: p.commitment,
            workplace_type: p.workplace_type.into(),
            country: p.country,
            description: p.description,
            description_html: p.description_html,
            lists: all(p.lists),
            closing_html: p.closing_html,
            tags: p.tags,
            salary: p.salary.map(Into::into),
            owner_id: p.owner_id,
            hiring_manager_id: p.hiring_manager_id,
            show_url: p.show_url,
            apply_url: p.apply_url,
            created_at: p.created_at,
            updated_at: p.updated_at,
        }
    }
}

impl From<old::PostingFilter> for new::PostingFilter {
    fn from(f: old::PostingFilter) -> Self {
        Self {
            states: all(f.states),
            channels: all(f.channels),
            confidentiality: None,
            team: None,
            department: None,
            location: None,
            commitment: None,
            tag: None,
            updated_since: f.updated_since,
            updated_until: None,
            cursor: f.cursor,
            limit: f.limit,
        }
    }
}

impl From<new::PostingPage> for old::PostingPage {
    fn from(p: new::PostingPage) -> Self {
        Self {
            postings: all(p.postings),
            next_cursor: p.next_cursor,
        }
    }
}

impl From<new::Phone> for old::Phone {
    fn from(p: new::Phone) -> Self {
        Self {
            kind: p.kind,
            value: p.value,
        }
    }
}

impl From<old::Phone> for new::Phone {
    fn from(p: old::Phone) -> Self {
        Self {
            kind: p.kind,
            value: p.value,
        }
    }
}

impl From<new::Archived> for old::Archived {
    fn from(a: new::Archived) -> Self {
        Self {
            archived_at: a.archived_at,
            reason_id: a.reason_id,
        }
    }
}

impl From<new::Opportunity> for old::Opportunity {
    fn from(o: new::Opportunity) -> Self {
        Self {
            id: o.id,
            contact_id: o.contact_id,
            name: o.name,
            headline: o.headline,
            emails: o.emails,
            phones: all(o.phones),
            location: o.location,
            links: o.links,
            stage_id: o.stage_id,
            tags: o.tags,
            sources: o.sources,
            origin: o.origin.map(Into::into),
            owner_id: o.owner_id,
            posting_ids: o.posting_ids,
            archived: o.archived.map(Into::into),
            created_at: o.created_at,
            updated_at: o.updated_at,
        }
    }
}

impl From<old::OpportunityFilter> for new::OpportunityFilter {
    fn from(f: old::OpportunityFilter) -> Self {
        Self {
            email: f.email,
            contact_id: None,
            posting_id: f.posting_id,
            archived_posting_id: None,
            tag: f.tag,
            source: None,
            origin: None,
            stage_id: f.stage_id,
            archive_reason_id: None,
            archived: f.archived,
            confidentiality: None,
            created_since: None,
            created_until: None,
            updated_since: f.updated_since,
            updated_until: None,
            advanced_since: None,
            advanced_until: None,
            cursor: f.cursor,
            limit: f.limit,
        }
    }
}

impl From<new::OpportunityPage> for old::OpportunityPage {
    fn from(p: new::OpportunityPage) -> Self {
        Self {
            opportunities: all(p.opportunities),
            next_cursor: p.next_cursor,
        }
    }
}

impl From<old::Attachment> for new::Attachment {
    fn from(a: old::Attachment) -> Self {
        Self {
            name: a.name,
            content_type: a.content_type,
            bytes: a.bytes,
        }
    }
}

impl From<old::NewOpportunity> for new::NewOpportunity {
    fn from(o: old::NewOpportunity) -> Self {
        Self {
            name: o.name,
            headline: o.headline,
            emails: o.emails,
            phones: all(o.phones),
            location: o.location,
            links: o.links,
            tags: o.tags,
            sources: o.sources,
            origin: o.origin.map(Into::into),
            posting_id: o.posting_id,
            stage_id: o.stage_id,
            owner_id: o.owner_id,
            acting_user: o.acting_user_id,
            resume: o.resume.map(Into::into),
            files: all(o.files),
        }
    }
}

impl From<old::NewNote> for new::NewNote {
    fn from(n: old::NewNote) -> Self {
        Self {
            value: n.value,
            secret: n.secret,
            score: n.score,
            acting_user: None,
        }
    }
}

impl From<new::Note> for old::Note {
    fn from(n: new::Note) -> Self {
        Self {
            id: n.id,
            value: n.value,
            user_id: n.user_id,
            secret: n.secret,
            created_at: n.created_at,
        }
    }
}

impl From<new::FileInfo> for old::FileInfo {
    fn from(f: new::FileInfo) -> Self {
        Self {
            id: f.id,
            name: f.name,
            extension: f.extension,
            size: f.size,
            uploaded_at: f.uploaded_at,
        }
    }
}

impl From<new::ResumeInfo> for old::ResumeInfo {
    fn from(r: new::ResumeInfo) -> Self {
        Self {
            id: r.id,
            file: r.file.map(Into::into),
            created_at: r.created_at,
        }
    }
}

impl From<new::Stage> for old::Stage {
    fn from(s: new::Stage) -> Self {
        Self {
            id: s.id,
            text: s.text,
        }
    }
}

impl From<new::ArchiveReason> for old::ArchiveReason {
    fn from(r: new::ArchiveReason) -> Self {
        Self {
            id: r.id,
            text: r.text,
            kind: r.kind.into(),
            active: r.active,
        }
    }
}

impl From<new::User> for old::User {
    fn from(u: new::User) -> Self {
        Self {
            id: u.id,
            name: u.name,
            email: u.email,
            access_role: u.access_role,
            active: u.active,
        }
    }
}

// plugin exports ------------------------------------------------------------------------------

same_enum!(
    old_plugin::LeverEventKind,
    new_plugin::LeverEventKind,
    [
        ApplicationCreated,
        CandidateHired,
        CandidateStageChange,
        CandidateArchiveChange,
        CandidateDeleted,
        ContactCreated,
        ContactUpdated,
        InterviewCreated,
        InterviewUpdated,
        InterviewDeleted,
    ]
);

impl From<old_plugin::Manifest> for new_plugin::Manifest {
    fn from(m: old_plugin::Manifest) -> Self {
        Self {
            id: m.id,
            name: m.name,
            version: m.version,
            vendor: m.vendor,
            description: m.description,
            permissions: m.permissions,
            vendor_hosts: m.vendor_hosts,
            secrets: m.secrets,
            config_schema: m.config_schema,
            lever_events: all(m.lever_events),
            // 0.1.0 has neither export: nothing is ever queued or routed to them.
            lifecycle_hooks: vec![],
            vendor_queries: false,
            schedules: m
                .schedules
                .into_iter()
                .map(|s| new_plugin::Schedule {
                    name: s.name,
                    description: s.description,
                    every_seconds: s.every_seconds,
                })
                .collect(),
            actions: m
                .actions
                .into_iter()
                .map(|a| new_plugin::Action {
                    name: a.name,
                    description: a.description,
                    input_schema: a.input_schema,
                })
                .collect(),
        }
    }
}

impl From<old_plugin::ConfigProblem> for new_plugin::ConfigProblem {
    fn from(p: old_plugin::ConfigProblem) -> Self {
        Self {
            pointer: p.pointer,
            message: p.message,
        }
    }
}

impl From<old_plugin::Rejection> for new_plugin::Rejection {
    fn from(r: old_plugin::Rejection) -> Self {
        Self {
            status: r.status,
            message: r.message,
        }
    }
}

impl From<&new_plugin::VendorRequest> for old_plugin::VendorRequest {
    fn from(r: &new_plugin::VendorRequest) -> Self {
        Self {
            id: r.id.clone(),
            received_at: r.received_at,
            method: r.method.clone(),
            path: r.path.clone(),
            query: r.query.clone(),
            headers: r
                .headers
                .iter()
                .map(|h| old_plugin::Header {
                    name: h.name.clone(),
                    value: h.value.clone(),
                })
                .collect(),
            body: r.body.clone(),
        }
    }
}

impl From<&new_plugin::LeverEvent> for old_plugin::LeverEvent {
    fn from(e: &new_plugin::LeverEvent) -> Self {
        Self {
            id: e.id.clone(),
            kind: e.kind.into(),
            triggered_at: e.triggered_at,
            opportunity_id: e.opportunity_id.clone(),
            contact_id: e.contact_id.clone(),
            posting_id: e.posting_id.clone(),
            from_stage_id: e.from_stage_id.clone(),
            to_stage_id: e.to_stage_id.clone(),
            data: e.data.clone(),
        }
    }
}

impl From<&new_plugin::ScheduledRun> for old_plugin::ScheduledRun {
    fn from(r: &new_plugin::ScheduledRun) -> Self {
        Self {
            id: r.id.clone(),
            name: r.name.clone(),
            scheduled_at: r.scheduled_at,
        }
    }
}

impl From<&new_plugin::ActionRequest> for old_plugin::ActionRequest {
    fn from(r: &new_plugin::ActionRequest) -> Self {
        Self {
            id: r.id.clone(),
            name: r.name.clone(),
            input: r.input.clone(),
            requested_by: r.requested_by.clone(),
        }
    }
}
