//! Lever's wire types (`lever_model`) ↔ the WIT types the plugin sees: opportunities, notes,
//! files and the vocabulary here; postings, people and hiring in the submodules.

mod hiring;
mod people;
mod postings;
mod requisitions;

pub(super) use hiring::*;
pub(super) use people::*;
pub(super) use postings::*;
pub(super) use requisitions::*;

use lever_client::{Attachments, FileUpload, OpportunityQuery};
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

pub(super) fn origin(o: lm::Origin) -> Option<wit::Origin> {
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

pub(super) fn confidentiality(c: lm::Confidentiality) -> wit::Confidentiality {
    match c {
        lm::Confidentiality::Confidential => wit::Confidentiality::Confidential,
        // Lever's default; an unknown value is not treated as secret by the host either.
        _ => wit::Confidentiality::NonConfidential,
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
        confidentiality: confidentiality(p.confidentiality),
        team: p.categories.team.clone(),
        department: p.categories.department.clone(),
        location: p.categories.location.clone(),
        all_locations: p.categories.all_locations.clone(),
        commitment: p.categories.commitment.clone(),
        level: p.categories.level.clone(),
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
        salary_description: p.salary_description.clone(),
        salary_description_html: p.salary_description_html.clone(),
        requisition_codes: p.requisition_codes.clone(),
        owner_id: p.owner.as_ref().map(|u| u.id().to_owned()),
        hiring_manager_id: p.hiring_manager.as_ref().map(|u| u.id().to_owned()),
        follower_ids: p.followers.iter().map(|u| u.id().to_owned()).collect(),
        list_url: p.urls.as_ref().map(|u| u.list.clone()),
        show_url: p.urls.as_ref().map(|u| u.show.clone()),
        apply_url: p.urls.as_ref().map(|u| u.apply.clone()),
        created_at: p.created_at,
        updated_at: p.updated_at,
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
        stage_changes: o
            .stage_changes
            .iter()
            .map(|c| wit::StageChange {
                to_stage_id: c.to_stage_id.clone(),
                user_id: c.user_id.clone(),
                updated_at: c.updated_at,
            })
            .collect(),
        tags: o.tags.clone(),
        sources: o.sources.clone(),
        origin: o.origin.and_then(origin),
        owner_id: o.owner.as_ref().map(|u| u.id().to_owned()),
        follower_ids: o.followers.iter().map(|u| u.id().to_owned()).collect(),
        confidentiality: confidentiality(o.confidentiality),
        application_ids: o.applications.iter().map(|a| a.id().to_owned()).collect(),
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
        last_advanced_at: o.last_advanced_at,
        last_interaction_at: o.last_interaction_at,
    }
}

pub(super) fn phone(p: &lm::Phone) -> wit::Phone {
    wit::Phone {
        kind: p.kind.clone(),
        value: p.value.clone(),
    }
}

pub(super) fn opportunity_query(f: &wit::OpportunityFilter) -> OpportunityQuery {
    let one = |v: &Option<String>| v.iter().cloned().collect::<Vec<_>>();
    OpportunityQuery {
        email: one(&f.email),
        contact_id: one(&f.contact_id),
        posting_id: one(&f.posting_id),
        archived_posting_id: one(&f.archived_posting_id),
        tag: one(&f.tag),
        source: one(&f.source),
        origin: f.origin.map(origin_to_lever).into_iter().collect(),
        stage_id: one(&f.stage_id),
        archive_reason_id: one(&f.archive_reason_id),
        archived: f.archived,
        confidentiality: confidentiality_param(f.confidentiality),
        created_at_start: f.created_since,
        created_at_end: f.created_until,
        updated_at_start: f.updated_since,
        updated_at_end: f.updated_until,
        advanced_at_start: f.advanced_since,
        advanced_at_end: f.advanced_until,
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

pub(super) fn file_status(s: lm::FileStatus) -> String {
    s.as_str().to_owned()
}

fn year_month(d: &lm::YearMonth) -> wit::YearMonth {
    wit::YearMonth {
        year: d.year.and_then(|y| u32::try_from(y).ok()),
        month: d.month.map(u32::from),
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
        status: f.status.map(file_status),
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
            status: f.status.map(file_status),
        }),
        created_at: r.created_at,
        positions: r
            .parsed_data
            .positions
            .iter()
            .map(|p| wit::ResumePosition {
                org: p.org.clone(),
                title: p.title.clone(),
                summary: p.summary.clone(),
                location: p.location.clone(),
                start: p.start.as_ref().map(year_month),
                end: p.end.as_ref().map(year_month),
            })
            .collect(),
        schools: r
            .parsed_data
            .schools
            .iter()
            .map(|s| wit::ResumeSchool {
                org: s.org.clone(),
                degree: s.degree.clone(),
                field: s.field.clone(),
                summary: s.summary.clone(),
                start: s.start.as_ref().map(year_month),
                end: s.end.as_ref().map(year_month),
            })
            .collect(),
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
        username: Some(u.username.clone()).filter(|n| !n.is_empty()),
        job_title: u.job_title.clone(),
        manager_id: u.manager_id.clone(),
        external_directory_id: u.external_directory_id.clone(),
        created_at: Some(u.created_at),
        deactivated_at: u.deactivated_at,
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
            acting_user: None,
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
    fn extensions_get_a_dot() {
        assert_eq!(dotted("pdf"), ".pdf");
        assert_eq!(dotted(".pdf"), ".pdf");
        assert_eq!(dotted(""), "");
    }
}
