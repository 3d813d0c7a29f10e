//! Lever's wire types (`lever_model`) ↔ the WIT types the plugin sees.

use lever_client::{Attachments, FileUpload, OpportunityQuery, PostingQuery};
use lever_model as lm;

use crate::bindings::fulcrum::connector::lever as wit;

pub(super) fn posting_state(s: lm::PostingState) -> wit::PostingState {
    match s {
        lm::PostingState::Published => wit::PostingState::Published,
        lm::PostingState::Internal => wit::PostingState::Internal,
        lm::PostingState::Closed => wit::PostingState::Closed,
        lm::PostingState::Pending => wit::PostingState::Pending,
        lm::PostingState::Rejected => wit::PostingState::Rejected,
        // A state this host does not know is treated as unpublished.
        lm::PostingState::Draft | lm::PostingState::Unknown => wit::PostingState::Draft,
    }
}

pub(super) fn posting_state_to_lever(s: wit::PostingState) -> lm::PostingState {
    match s {
        wit::PostingState::Published => lm::PostingState::Published,
        wit::PostingState::Internal => lm::PostingState::Internal,
        wit::PostingState::Closed => lm::PostingState::Closed,
        wit::PostingState::Draft => lm::PostingState::Draft,
        wit::PostingState::Pending => lm::PostingState::Pending,
        wit::PostingState::Rejected => lm::PostingState::Rejected,
    }
}

fn channel(c: lm::DistributionChannel) -> Option<wit::DistributionChannel> {
    match c {
        lm::DistributionChannel::Public => Some(wit::DistributionChannel::Public),
        lm::DistributionChannel::Internal => Some(wit::DistributionChannel::Internal),
        lm::DistributionChannel::Unknown => None,
    }
}

pub(super) fn channel_to_lever(c: wit::DistributionChannel) -> lm::DistributionChannel {
    match c {
        wit::DistributionChannel::Public => lm::DistributionChannel::Public,
        wit::DistributionChannel::Internal => lm::DistributionChannel::Internal,
    }
}

fn workplace(w: lm::WorkplaceType) -> wit::WorkplaceType {
    match w {
        lm::WorkplaceType::OnSite => wit::WorkplaceType::Onsite,
        lm::WorkplaceType::Remote => wit::WorkplaceType::Remote,
        lm::WorkplaceType::Hybrid => wit::WorkplaceType::Hybrid,
        lm::WorkplaceType::Unspecified | lm::WorkplaceType::Unknown => {
            wit::WorkplaceType::Unspecified
        }
    }
}

fn origin(o: lm::Origin) -> Option<wit::Origin> {
    Some(match o {
        lm::Origin::Agency => wit::Origin::Agency,
        lm::Origin::Applied => wit::Origin::Applied,
        lm::Origin::Internal => wit::Origin::Internal,
        lm::Origin::Referred => wit::Origin::Referred,
        lm::Origin::Sourced => wit::Origin::Sourced,
        lm::Origin::University => wit::Origin::University,
        lm::Origin::Unknown => return None,
    })
}

fn origin_to_lever(o: wit::Origin) -> lm::Origin {
    match o {
        wit::Origin::Agency => lm::Origin::Agency,
        wit::Origin::Applied => lm::Origin::Applied,
        wit::Origin::Internal => lm::Origin::Internal,
        wit::Origin::Referred => lm::Origin::Referred,
        wit::Origin::Sourced => lm::Origin::Sourced,
        wit::Origin::University => lm::Origin::University,
    }
}

pub(super) fn posting(p: &lm::Posting) -> wit::Posting {
    wit::Posting {
        id: p.id.clone(),
        title: p.text.clone(),
        state: posting_state(p.state),
        distribution_channels: p
            .distribution_channels
            .iter()
            .flatten()
            .filter_map(|c| channel(*c))
            .collect(),
        confidential: p.confidentiality == lm::Confidentiality::Confidential,
        team: p.categories.team.clone(),
        department: p.categories.department.clone(),
        location: p.categories.location.clone(),
        all_locations: p.categories.all_locations.clone(),
        commitment: p.categories.commitment.clone(),
        workplace_type: workplace(p.workplace_type),
        country: p.country.clone(),
        description: p.content.description.clone(),
        description_html: p.content.description_html.clone(),
        lists: p
            .content
            .lists
            .iter()
            .map(|l| wit::PostingListSection {
                title: l.text.clone(),
                content_html: l.content.clone(),
            })
            .collect(),
        closing_html: p.content.closing_html.clone(),
        tags: p.tags.clone(),
        salary: p.salary_range.as_ref().map(|s| wit::SalaryRange {
            min: s.min,
            max: s.max,
            currency: s.currency.clone(),
            interval: s.interval.clone(),
        }),
        owner_id: p.owner.as_ref().map(|u| u.id().to_owned()),
        hiring_manager_id: p.hiring_manager.as_ref().map(|u| u.id().to_owned()),
        show_url: p.urls.as_ref().map(|u| u.show.clone()),
        apply_url: p.urls.as_ref().map(|u| u.apply.clone()),
        created_at: p.created_at,
        updated_at: p.updated_at,
    }
}

/// How a WIT posting filter is listed: what Lever is asked for, and what the host checks on
/// each posting Lever returns.
#[derive(Debug)]
pub(super) struct PostingListing {
    pub(super) query: PostingQuery,
    states: Vec<lm::PostingState>,
    channels: Vec<lm::DistributionChannel>,
    updated_since: Option<lm::timestamp::Millis>,
}

impl PostingListing {
    /// Whether a posting Lever returned matches the parts of the filter the host applies.
    pub(super) fn keeps(&self, p: &lm::Posting) -> bool {
        (self.states.is_empty() || self.states.contains(&p.state))
            && (self.channels.is_empty()
                || p.distribution_channels
                    .iter()
                    .flatten()
                    .any(|c| self.channels.contains(c)))
            && self
                .updated_since
                .is_none_or(|since| p.updated_at.is_some_and(|at| at >= since))
    }
}

/// Lever's `GET /postings` takes `updated_at_*` only together with `confidentiality`; any
/// other filter with it is a 400. So with `updated-since` *and* states/channels, Lever is
/// asked only for the postings updated since then (`confidentiality` is left at Lever's
/// default, non-confidential, as for every listing here) and the host applies
/// states/channels to each page: a page can then hold fewer than
/// `limit` postings, even none, while `next-cursor` is still set. Paging stays one Lever
/// request per page.
///
/// One exception: without a `distributionChannel` Lever hides published postings that are
/// not on the public site, so a `channels` filter naming `internal` cannot be applied after
/// the fact. Then Lever gets states/channels and the host applies `updated-since` instead
/// (the same pages, with more of them filtered out).
pub(super) fn posting_listing(f: &wit::PostingFilter) -> PostingListing {
    let states: Vec<lm::PostingState> = f
        .states
        .iter()
        .map(|s| posting_state_to_lever(*s))
        .collect();
    let channels: Vec<lm::DistributionChannel> =
        f.channels.iter().map(|c| channel_to_lever(*c)).collect();
    let by_state_or_channel = PostingQuery {
        state: states.clone(),
        distribution_channel: channels.clone(),
        ..Default::default()
    };
    let Some(since) = f.updated_since else {
        return PostingListing {
            query: by_state_or_channel,
            states: vec![],
            channels: vec![],
            updated_since: None,
        };
    };
    if channels.contains(&lm::DistributionChannel::Internal) {
        return PostingListing {
            query: by_state_or_channel,
            states: vec![],
            channels: vec![],
            updated_since: Some(since),
        };
    }
    PostingListing {
        query: PostingQuery {
            updated_at_start: Some(since),
            ..Default::default()
        },
        states,
        channels,
        updated_since: None,
    }
}

pub(super) fn opportunity(o: &lm::Opportunity) -> wit::Opportunity {
    wit::Opportunity {
        id: o.id.clone(),
        contact_id: o.contact_id().unwrap_or_default().to_owned(),
        name: o.name.clone(),
        headline: o.headline.clone(),
        emails: o.emails.clone(),
        phones: o.phones.iter().map(phone).collect(),
        location: o.location.clone(),
        links: o.links.clone(),
        stage_id: o.stage_id().map(str::to_owned),
        tags: o.tags.clone(),
        sources: o.sources.clone(),
        origin: o.origin.and_then(origin),
        owner_id: o.owner.as_ref().map(|u| u.id().to_owned()),
        posting_ids: o
            .applications
            .iter()
            .filter_map(|a| a.expanded().and_then(|a| a.posting.clone()))
            .collect(),
        archived: o.archive_state().map(|a| wit::Archived {
            archived_at: a.archived_at,
            reason_id: a.reason,
        }),
        created_at: o.created_at,
        updated_at: o.updated_at,
    }
}

fn phone(p: &lm::Phone) -> wit::Phone {
    wit::Phone {
        kind: p.kind.clone(),
        value: p.value.clone(),
    }
}

pub(super) fn opportunity_query(f: &wit::OpportunityFilter) -> OpportunityQuery {
    OpportunityQuery {
        email: f.email.iter().cloned().collect(),
        posting_id: f.posting_id.iter().cloned().collect(),
        tag: f.tag.iter().cloned().collect(),
        stage_id: f.stage_id.iter().cloned().collect(),
        archived: f.archived,
        updated_at_start: f.updated_since,
        expand: vec!["applications".into()],
        ..Default::default()
    }
}

fn upload(a: &wit::Attachment) -> FileUpload {
    FileUpload::new(a.name.clone(), a.content_type.clone(), a.bytes.clone())
}

pub(super) fn new_opportunity(o: &wit::NewOpportunity) -> (lm::NewOpportunity, Attachments) {
    let body = lm::NewOpportunity {
        name: Some(o.name.clone()),
        headline: o.headline.clone(),
        stage: o.stage_id.clone(),
        location: o.location.clone(),
        phones: o
            .phones
            .iter()
            .map(|p| lm::Phone {
                kind: p.kind.clone(),
                value: p.value.clone(),
            })
            .collect(),
        emails: o.emails.clone(),
        links: o.links.clone(),
        tags: o.tags.clone(),
        sources: o.sources.clone(),
        origin: o.origin.map(origin_to_lever),
        owner: o.owner_id.clone(),
        postings: o.posting_id.iter().cloned().collect(),
        ..Default::default()
    };
    let attachments = Attachments {
        resume: o.resume.as_ref().map(upload),
        files: o.files.iter().map(upload).collect(),
    };
    (body, attachments)
}

pub(super) fn new_note(n: &wit::NewNote) -> lm::NewNote {
    lm::NewNote {
        value: n.value.clone(),
        secret: n.secret,
        score: n.score,
        ..Default::default()
    }
}

pub(super) fn note(n: &lm::Note) -> wit::Note {
    let value = match n.value() {
        "" => n.text.clone(),
        v => v.to_owned(),
    };
    wit::Note {
        id: n.id.clone(),
        value,
        user_id: n.user.as_ref().map(|u| u.id().to_owned()),
        secret: n.secret,
        created_at: n.created_at,
    }
}

fn dotted(ext: &str) -> String {
    if ext.is_empty() || ext.starts_with('.') {
        ext.to_owned()
    } else {
        format!(".{ext}")
    }
}

pub(super) fn file_info(f: &lm::LeverFile) -> wit::FileInfo {
    wit::FileInfo {
        id: f.id.clone(),
        name: f.name.clone(),
        extension: dotted(&f.ext),
        size: f.size,
        uploaded_at: f.uploaded_at,
    }
}

pub(super) fn resume_info(r: &lm::Resume) -> wit::ResumeInfo {
    wit::ResumeInfo {
        id: r.id.clone(),
        file: r.file.as_ref().map(|f| wit::FileInfo {
            // A resume's file has no id of its own; downloads go by resume id.
            id: r.id.clone(),
            name: f.name.clone(),
            extension: dotted(&f.ext),
            size: f.size,
            uploaded_at: f.uploaded_at,
        }),
        created_at: r.created_at,
    }
}

pub(super) fn stage(s: &lm::Stage) -> wit::Stage {
    wit::Stage {
        id: s.id.clone(),
        text: s.text.clone(),
    }
}

pub(super) fn archive_reason(r: &lm::ArchiveReason) -> wit::ArchiveReason {
    wit::ArchiveReason {
        id: r.id.clone(),
        text: r.text.clone(),
        kind: match r.kind {
            lm::ArchiveReasonType::Hired => wit::ArchiveReasonKind::Hired,
            lm::ArchiveReasonType::NonHired | lm::ArchiveReasonType::Unknown => {
                wit::ArchiveReasonKind::NonHired
            }
        },
        active: r.status != lm::ArchiveReasonStatus::Inactive,
    }
}

pub(super) fn user(u: &lm::User) -> wit::User {
    wit::User {
        id: u.id.clone(),
        name: u.name.clone(),
        email: u.email.clone(),
        access_role: u.access_role.clone(),
        active: u.is_active(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_opportunity_maps_fields_and_attachments() {
        let o = wit::NewOpportunity {
            name: "Ada".into(),
            headline: None,
            emails: vec!["ada@x.io".into()],
            phones: vec![],
            location: None,
            links: vec![],
            tags: vec!["rust".into()],
            sources: vec![],
            origin: Some(wit::Origin::Sourced),
            posting_id: Some("p1".into()),
            stage_id: None,
            owner_id: None,
            acting_user_id: None,
            resume: Some(wit::Attachment {
                name: "cv.pdf".into(),
                content_type: "application/pdf".into(),
                bytes: b"%PDF".to_vec(),
            }),
            files: vec![],
        };
        let (body, attachments) = new_opportunity(&o);
        assert_eq!(body.name.as_deref(), Some("Ada"));
        assert_eq!(body.postings, ["p1"]);
        assert_eq!(body.origin, Some(lm::Origin::Sourced));
        assert_eq!(attachments.resume.unwrap().name, "cv.pdf");
    }

    #[test]
    fn updated_since_is_never_combined_with_other_posting_filters() {
        use wit::DistributionChannel::{Internal, Public};
        use wit::PostingState::{Closed, Published};
        let filter = |states: Vec<wit::PostingState>, channels, since| wit::PostingFilter {
            states,
            channels,
            updated_since: since,
            cursor: None,
            limit: None,
        };
        let posting = |state, channels: Option<Vec<lm::DistributionChannel>>, at| lm::Posting {
            state,
            distribution_channels: channels,
            updated_at: at,
            ..Default::default()
        };
        let published_public = posting(
            lm::PostingState::Published,
            Some(vec![lm::DistributionChannel::Public]),
            Some(10),
        );
        let published_internal = posting(
            lm::PostingState::Published,
            Some(vec![lm::DistributionChannel::Internal]),
            Some(10),
        );
        let closed = posting(lm::PostingState::Closed, None, Some(10));
        let old_closed = posting(lm::PostingState::Closed, None, Some(9));

        // No updated-since: everything goes to Lever, nothing is filtered here.
        let l = posting_listing(&filter(vec![Published], vec![Public], None));
        assert_eq!(l.query.state, [lm::PostingState::Published]);
        assert_eq!(
            l.query.distribution_channel,
            [lm::DistributionChannel::Public]
        );
        assert_eq!(l.query.updated_at_start, None);
        assert!(l.keeps(&closed) && l.keeps(&old_closed));

        // updated-since with states/channels: Lever gets only updated_at_start.
        let l = posting_listing(&filter(vec![Published, Closed], vec![Public], Some(10)));
        assert_eq!(l.query.updated_at_start, Some(10));
        assert!(l.query.state.is_empty() && l.query.distribution_channel.is_empty());
        assert_eq!(l.query.confidentiality, None);
        assert!(l.keeps(&published_public));
        assert!(!l.keeps(&published_internal), "not on the public channel");
        assert!(!l.keeps(&closed), "closed postings have no channels");
        let l = posting_listing(&filter(vec![Closed], vec![], Some(10)));
        assert!(l.keeps(&closed) && !l.keeps(&published_public));

        // An internal channel cannot be applied after Lever hid those postings: Lever gets
        // states/channels and the host applies updated-since.
        let l = posting_listing(&filter(vec![], vec![Internal], Some(10)));
        assert_eq!(l.query.updated_at_start, None);
        assert_eq!(
            l.query.distribution_channel,
            [lm::DistributionChannel::Internal]
        );
        assert!(l.keeps(&published_internal) && l.keeps(&closed));
        assert!(!l.keeps(&old_closed));
        assert!(!l.keeps(&posting(lm::PostingState::Closed, None, None)));
    }

    #[test]
    fn extensions_get_a_dot() {
        assert_eq!(dotted("pdf"), ".pdf");
        assert_eq!(dotted(".pdf"), ".pdf");
        assert_eq!(dotted(""), "");
    }
}
