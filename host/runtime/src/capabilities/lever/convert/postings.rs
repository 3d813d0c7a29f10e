//! Postings the WIT way ↔ Lever: the listing filter, the create/update bodies and the body
//! of an application through a posting's apply form.

use lever_client::PostingQuery;
use lever_model as lm;
use lever_model::timestamp::Millis;

use super::{channel_to_lever, origin_to_lever, posting_state_to_lever};
use crate::bindings::PluginError;
use crate::bindings::fulcrum::connector::lever as wit;

/// Lever's `confidentiality` parameter for a WIT filter: none for `non-confidential` (Lever's
/// default, so the query of a plain listing is the one 0.1.0 sent).
pub(in crate::capabilities::lever) fn confidentiality_param(
    f: Option<wit::ConfidentialityFilter>,
) -> Option<String> {
    match f? {
        wit::ConfidentialityFilter::NonConfidential => None,
        wit::ConfidentialityFilter::Confidential => Some("confidential".into()),
        wit::ConfidentialityFilter::All => Some("all".into()),
    }
}

/// How a WIT posting filter is listed: what Lever is asked for, and what the host checks on
/// each posting Lever returns (empty: nothing).
#[derive(Debug)]
pub(in crate::capabilities::lever) struct PostingListing {
    pub(in crate::capabilities::lever) query: PostingQuery,
    states: Vec<lm::PostingState>,
    channels: Vec<lm::DistributionChannel>,
    team: Option<String>,
    department: Option<String>,
    location: Option<String>,
    commitment: Option<String>,
    tag: Option<String>,
    updated_since: Option<Millis>,
    updated_until: Option<Millis>,
}

impl PostingListing {
    fn lever_only(query: PostingQuery) -> Self {
        PostingListing {
            query,
            states: vec![],
            channels: vec![],
            team: None,
            department: None,
            location: None,
            commitment: None,
            tag: None,
            updated_since: None,
            updated_until: None,
        }
    }

    /// Whether a posting Lever returned matches the parts of the filter the host applies
    /// (with Lever's semantics: a location matches any of the posting's locations).
    pub(in crate::capabilities::lever) fn keeps(&self, p: &lm::Posting) -> bool {
        let c = &p.categories;
        let is = |want: &Option<String>, have: &Option<String>| {
            want.is_none() || want.as_ref() == have.as_ref()
        };
        (self.states.is_empty() || self.states.contains(&p.state))
            && (self.channels.is_empty()
                || p.distribution_channels
                    .iter()
                    .flatten()
                    .any(|c| self.channels.contains(c)))
            && is(&self.team, &c.team)
            && is(&self.department, &c.department)
            && (is(&self.location, &c.location)
                || self
                    .location
                    .as_ref()
                    .is_some_and(|l| c.all_locations.contains(l)))
            && is(&self.commitment, &c.commitment)
            && self.tag.as_ref().is_none_or(|t| p.tags.contains(t))
            && self
                .updated_since
                .is_none_or(|since| p.updated_at.is_some_and(|at| at >= since))
            && self
                .updated_until
                .is_none_or(|until| p.updated_at.is_some_and(|at| at <= until))
    }
}

/// Lever's `GET /postings` takes `updated_at_*` only together with `confidentiality`; any
/// other filter with it is a 400. So with an updated range *and* other filters, Lever is
/// asked only for the range (and the confidentiality) and the host applies the rest to each
/// page: a page can then hold fewer than `limit` postings, even none, while `next-cursor` is
/// still set. Paging stays one Lever request per page.
///
/// One exception: without a `distributionChannel` Lever hides published postings that are
/// not on the public site, so a `channels` filter naming `internal` cannot be applied after
/// the fact. Then Lever gets every other filter and the host applies the updated range
/// instead (the same pages, with more of them filtered out).
pub(in crate::capabilities::lever) fn posting_listing(f: &wit::PostingFilter) -> PostingListing {
    let states: Vec<lm::PostingState> = f
        .states
        .iter()
        .map(|s| posting_state_to_lever(*s))
        .collect();
    let channels: Vec<lm::DistributionChannel> =
        f.channels.iter().map(|c| channel_to_lever(*c)).collect();
    let confidentiality = confidentiality_param(f.confidentiality);
    let every_filter = PostingQuery {
        state: states.clone(),
        distribution_channel: channels.clone(),
        team: f.team.iter().cloned().collect(),
        department: f.department.iter().cloned().collect(),
        location: f.location.iter().cloned().collect(),
        commitment: f.commitment.iter().cloned().collect(),
        tag: f.tag.iter().cloned().collect(),
        confidentiality: confidentiality.clone(),
        ..Default::default()
    };
    if f.updated_since.is_none() && f.updated_until.is_none() {
        return PostingListing::lever_only(every_filter);
    }
    if channels.contains(&lm::DistributionChannel::Internal) {
        return PostingListing {
            updated_since: f.updated_since,
            updated_until: f.updated_until,
            ..PostingListing::lever_only(every_filter)
        };
    }
    PostingListing {
        query: PostingQuery {
            updated_at_start: f.updated_since,
            updated_at_end: f.updated_until,
            confidentiality,
            ..Default::default()
        },
        states,
        channels,
        team: f.team.clone(),
        department: f.department.clone(),
        location: f.location.clone(),
        commitment: f.commitment.clone(),
        tag: f.tag.clone(),
        updated_since: None,
        updated_until: None,
    }
}

fn workplace_to_lever(w: wit::WorkplaceType) -> lm::WorkplaceType {
    match w {
        wit::WorkplaceType::Unspecified => lm::WorkplaceType::Unspecified,
        wit::WorkplaceType::Onsite => lm::WorkplaceType::OnSite,
        wit::WorkplaceType::Remote => lm::WorkplaceType::Remote,
        wit::WorkplaceType::Hybrid => lm::WorkplaceType::Hybrid,
    }
}

fn salary_to_lever(s: &wit::SalaryRange) -> lm::SalaryRange {
    lm::SalaryRange {
        min: s.min,
        max: s.max,
        currency: s.currency.clone(),
        interval: s.interval.clone(),
    }
}

fn lists_to_lever(lists: &[wit::PostingListSection]) -> Vec<lm::PostingList> {
    lists
        .iter()
        .map(|l| lm::PostingList {
            text: l.title.clone(),
            content: l.content_html.clone(),
        })
        .collect()
}

fn channels_to_lever(c: &[wit::DistributionChannel]) -> Vec<lm::DistributionChannel> {
    c.iter().map(|c| channel_to_lever(*c)).collect()
}

/// The WIT categories given. Lever replaces `categories` as a whole, so an update of some of
/// them passes the posting's current ones (`current`) for the rest.
fn categories(
    team: &Option<String>,
    department: &Option<String>,
    location: &Option<String>,
    commitment: &Option<String>,
    current: Option<&lm::PostingCategories>,
) -> Option<lm::PostingCategories> {
    if team.is_none() && department.is_none() && location.is_none() && commitment.is_none() {
        return None;
    }
    let base = current.cloned().unwrap_or_default();
    let location_changed = location.is_some();
    Some(lm::PostingCategories {
        team: team.clone().or(base.team),
        department: department.clone().or(base.department),
        location: location.clone().or(base.location),
        commitment: commitment.clone().or(base.commitment),
        level: base.level,
        // Lever derives all-locations from a new location.
        all_locations: if location_changed {
            vec![]
        } else {
            base.all_locations
        },
    })
}

fn content(
    description_html: &Option<String>,
    lists: Option<&[wit::PostingListSection]>,
    closing_html: &Option<String>,
) -> Option<lm::PostingContentWrite> {
    if description_html.is_none() && lists.is_none() && closing_html.is_none() {
        return None;
    }
    Some(lm::PostingContentWrite {
        description_html: description_html.clone(),
        lists: lists.map(lists_to_lever),
        closing_html: closing_html.clone(),
    })
}

/// `POST /postings`: Lever's defaults (draft, both channels, owner = acting user) where the
/// WIT leaves a field out.
pub(in crate::capabilities::lever) fn new_posting(p: &wit::NewPosting) -> lm::PostingWrite {
    let nonempty = |v: &Vec<String>| (!v.is_empty()).then(|| v.clone());
    lm::PostingWrite {
        text: Some(p.title.clone()),
        state: p.state.map(posting_state_to_lever),
        distribution_channels: (!p.distribution_channels.is_empty())
            .then(|| channels_to_lever(&p.distribution_channels)),
        owner: p.owner_id.clone(),
        hiring_manager: p.hiring_manager_id.clone(),
        categories: categories(&p.team, &p.department, &p.location, &p.commitment, None),
        tags: nonempty(&p.tags),
        content: content(
            &p.description_html,
            (!p.lists.is_empty()).then_some(p.lists.as_slice()),
            &p.closing_html,
        ),
        workplace_type: p.workplace_type.map(workplace_to_lever),
        requisition_codes: nonempty(&p.requisition_codes),
        salary_description_html: p.salary_description_html.clone(),
        salary_range: p.salary.as_ref().map(salary_to_lever),
    }
}

/// Whether an update changes categories, so the host must read the posting's current ones.
pub(in crate::capabilities::lever) fn updates_categories(u: &wit::PostingUpdate) -> bool {
    u.team.is_some() || u.department.is_some() || u.location.is_some() || u.commitment.is_some()
}

/// `POST /postings/:posting`: the fields given, categories merged into `current`'s.
pub(in crate::capabilities::lever) fn posting_update(
    u: &wit::PostingUpdate,
    current: Option<&lm::PostingCategories>,
) -> lm::PostingWrite {
    lm::PostingWrite {
        text: u.title.clone(),
        state: u.state.map(posting_state_to_lever),
        distribution_channels: u.distribution_channels.as_deref().map(channels_to_lever),
        owner: u.owner_id.clone(),
        hiring_manager: u.hiring_manager_id.clone(),
        categories: categories(&u.team, &u.department, &u.location, &u.commitment, current),
        tags: u.tags.clone(),
        content: content(&u.description_html, None, &u.closing_html),
        workplace_type: u.workplace_type.map(workplace_to_lever),
        requisition_codes: u.requisition_codes.clone(),
        salary_description_html: u.salary_description_html.clone(),
        salary_range: u.salary.as_ref().map(salary_to_lever),
    }
}

/// Lever's name of a link in an application's `urls`.
fn link_name(url: &str) -> &'static str {
    let lower = url.to_ascii_lowercase();
    if lower.contains("linkedin.") {
        "LinkedIn"
    } else if lower.contains("github.") {
        "GitHub"
    } else {
        "Other"
    }
}

/// `POST /postings/:posting/apply`; `resume_uri` is the answer of the résumé's upload.
/// Origin `applied` (default) or `internal` only, as Lever takes.
pub(in crate::capabilities::lever) fn application_request(
    a: &wit::NewApplication,
    resume_uri: Option<String>,
) -> Result<lm::ApplyRequest, PluginError> {
    let origin = match a.origin {
        None => None,
        Some(o @ (wit::Origin::Applied | wit::Origin::Internal)) => Some(origin_to_lever(o)),
        Some(other) => {
            return Err(PluginError::Invalid(format!(
                "application origin must be applied or internal, not {other:?}"
            )));
        }
    };
    let info = |name: &str, value: &Option<String>| {
        value.as_ref().map(|v| lm::NameValue {
            name: name.into(),
            value: v.clone(),
        })
    };
    let personal_information = [
        info("fullName", &Some(a.name.clone())),
        info("email", &Some(a.email.clone())),
        info("phone", &a.phone),
        info("currentCompany", &a.current_company),
        info("currentLocation", &a.current_location),
        info("resume", &resume_uri),
    ]
    .into_iter()
    .flatten()
    .collect();
    Ok(lm::ApplyRequest {
        personal_information,
        urls: a
            .links
            .iter()
            .map(|l| lm::NameValue {
                name: link_name(l).into(),
                value: l.clone(),
            })
            .collect(),
        source: a.source.clone(),
        origin,
    })
}

#[cfg(test)]
mod tests;
