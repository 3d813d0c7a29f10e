//! List filters and their query-string encoding. Multi-valued filters repeat the key
//! (`?state=published&state=internal`), which is how Lever reads them (values are OR-ed).

use lever_model::timestamp::Millis;
use lever_model::{
    ArchiveReasonType, DistributionChannel, Origin, PostingState, RequisitionStatus,
};

/// Ordered query pairs; keys repeat for multi-valued filters.
pub(crate) type QueryPairs = Vec<(&'static str, String)>;

/// Filters for `GET /postings` (the sandbox lists oldest first; Lever documents no order).
/// Lever only allows `updated_at_*` together with
/// `confidentiality`; listing `state=published` without `distribution_channel` hides
/// internal-only postings.
#[derive(Default, Clone, Debug)]
pub struct PostingQuery {
    pub state: Vec<PostingState>,
    pub distribution_channel: Vec<DistributionChannel>,
    pub team: Vec<String>,
    pub department: Vec<String>,
    pub location: Vec<String>,
    pub commitment: Vec<String>,
    /// Deprecated in Lever's categories but still a documented filter.
    pub level: Vec<String>,
    pub tag: Vec<String>,
    /// `confidential`, `non-confidential` (Lever's default) or `all`.
    pub confidentiality: Option<String>,
    pub updated_at_start: Option<Millis>,
    pub updated_at_end: Option<Millis>,
    pub include: Vec<String>,
    pub expand: Vec<String>,
}

/// Filters for `GET /opportunities`. `archived: None` returns active *and* archived ones.
#[derive(Default, Clone, Debug)]
pub struct OpportunityQuery {
    pub email: Vec<String>,
    pub tag: Vec<String>,
    pub source: Vec<String>,
    pub origin: Vec<Origin>,
    pub stage_id: Vec<String>,
    pub posting_id: Vec<String>,
    /// Archived opportunities whose application was for one of these postings.
    pub archived_posting_id: Vec<String>,
    pub contact_id: Vec<String>,
    pub location: Vec<String>,
    pub archive_reason_id: Vec<String>,
    pub archived: Option<bool>,
    /// `true`: only opportunities snoozed until a future time; `false`: only the others.
    pub snoozed: Option<bool>,
    pub created_at_start: Option<Millis>,
    pub created_at_end: Option<Millis>,
    pub updated_at_start: Option<Millis>,
    pub updated_at_end: Option<Millis>,
    pub advanced_at_start: Option<Millis>,
    pub advanced_at_end: Option<Millis>,
    pub archived_at_start: Option<Millis>,
    pub archived_at_end: Option<Millis>,
    pub confidentiality: Option<String>,
    pub expand: Vec<String>,
    pub include: Vec<String>,
}

/// Filters for `GET /users` (active users only unless `include_deactivated`).
#[derive(Default, Clone, Debug)]
pub struct UserQuery {
    /// Matched after canonicalisation (case-insensitive).
    pub email: Option<String>,
    pub access_role: Option<String>,
    pub external_directory_id: Option<String>,
    pub include_deactivated: bool,
}

/// Filters for `GET /requisitions`; oldest first by `createdAt`. Confidential requisitions
/// need `confidentiality` and a key allowed to see them, as for postings.
#[derive(Default, Clone, Debug)]
pub struct RequisitionQuery {
    pub requisition_code: Vec<String>,
    pub status: Vec<RequisitionStatus>,
    pub created_at_start: Option<Millis>,
    pub created_at_end: Option<Millis>,
    /// `confidential`, `non-confidential` (Lever's default) or `all`.
    pub confidentiality: Option<String>,
}

fn many<T: ToString>(q: &mut QueryPairs, key: &'static str, values: &[T]) {
    q.extend(values.iter().map(|v| (key, v.to_string())));
}

fn one<T: ToString>(q: &mut QueryPairs, key: &'static str, value: &Option<T>) {
    if let Some(v) = value {
        q.push((key, v.to_string()));
    }
}

impl PostingQuery {
    pub(crate) fn to_pairs(&self) -> QueryPairs {
        let mut q = QueryPairs::new();
        many(&mut q, "state", &self.state);
        // Lever spells this filter in the singular although the field is plural.
        many(&mut q, "distributionChannel", &self.distribution_channel);
        many(&mut q, "team", &self.team);
        many(&mut q, "department", &self.department);
        many(&mut q, "location", &self.location);
        many(&mut q, "commitment", &self.commitment);
        many(&mut q, "level", &self.level);
        many(&mut q, "tag", &self.tag);
        one(&mut q, "confidentiality", &self.confidentiality);
        one(&mut q, "updated_at_start", &self.updated_at_start);
        one(&mut q, "updated_at_end", &self.updated_at_end);
        many(&mut q, "include", &self.include);
        many(&mut q, "expand", &self.expand);
        q
    }
}

impl OpportunityQuery {
    pub(crate) fn to_pairs(&self) -> QueryPairs {
        let mut q = QueryPairs::new();
        many(&mut q, "email", &self.email);
        many(&mut q, "tag", &self.tag);
        many(&mut q, "source", &self.source);
        many(&mut q, "origin", &self.origin);
        many(&mut q, "stage_id", &self.stage_id);
        many(&mut q, "posting_id", &self.posting_id);
        many(&mut q, "archived_posting_id", &self.archived_posting_id);
        many(&mut q, "contact_id", &self.contact_id);
        many(&mut q, "location", &self.location);
        many(&mut q, "archive_reason_id", &self.archive_reason_id);
        one(&mut q, "archived", &self.archived);
        one(&mut q, "snoozed", &self.snoozed);
        one(&mut q, "created_at_start", &self.created_at_start);
        one(&mut q, "created_at_end", &self.created_at_end);
        one(&mut q, "updated_at_start", &self.updated_at_start);
        one(&mut q, "updated_at_end", &self.updated_at_end);
        one(&mut q, "advanced_at_start", &self.advanced_at_start);
        one(&mut q, "advanced_at_end", &self.advanced_at_end);
        one(&mut q, "archived_at_start", &self.archived_at_start);
        one(&mut q, "archived_at_end", &self.archived_at_end);
        one(&mut q, "confidentiality", &self.confidentiality);
        many(&mut q, "expand", &self.expand);
        many(&mut q, "include", &self.include);
        q
    }
}

impl UserQuery {
    pub(crate) fn to_pairs(&self) -> QueryPairs {
        let mut q = QueryPairs::new();
        one(&mut q, "email", &self.email);
        one(&mut q, "accessRole", &self.access_role);
        one(&mut q, "external_directory_id", &self.external_directory_id);
        if self.include_deactivated {
            q.push(("includeDeactivated", "true".into()));
        }
        q
    }
}

impl RequisitionQuery {
    pub(crate) fn to_pairs(&self) -> QueryPairs {
        let mut q = QueryPairs::new();
        many(&mut q, "requisition_code", &self.requisition_code);
        many(&mut q, "status", &self.status);
        one(&mut q, "created_at_start", &self.created_at_start);
        one(&mut q, "created_at_end", &self.created_at_end);
        one(&mut q, "confidentiality", &self.confidentiality);
        q
    }
}

pub(crate) fn archive_reason_pairs(kind: Option<ArchiveReasonType>) -> QueryPairs {
    kind.map(|k| vec![("type", k.as_str().to_owned())])
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(q: &QueryPairs) -> String {
        let mut u = url::Url::parse("http://x/").unwrap();
        u.query_pairs_mut()
            .extend_pairs(q.iter().map(|(k, v)| (*k, v)));
        u.query().unwrap_or("").to_owned()
    }

    #[test]
    fn postings_repeat_keys_and_use_lever_spellings() {
        let q = PostingQuery {
            state: vec![PostingState::Published, PostingState::Internal],
            distribution_channel: vec![DistributionChannel::Public],
            team: vec!["R&D".into()],
            confidentiality: Some("all".into()),
            updated_at_start: Some(1_700_000_000_000),
            expand: vec!["owner".into(), "followers".into()],
            ..Default::default()
        };
        assert_eq!(
            render(&q.to_pairs()),
            "state=published&state=internal&distributionChannel=public&team=R%26D\
             &confidentiality=all&updated_at_start=1700000000000&expand=owner&expand=followers"
        );
        assert!(PostingQuery::default().to_pairs().is_empty());
    }

    #[test]
    fn opportunities_encode_every_filter() {
        let q = OpportunityQuery {
            email: vec!["a+b@x.io".into()],
            origin: vec![Origin::Sourced, Origin::Applied],
            stage_id: vec!["lead-new".into()],
            archived_posting_id: vec!["p1".into()],
            location: vec!["Berlin".into()],
            archived: Some(false),
            snoozed: Some(true),
            created_at_end: Some(5),
            archived_at_start: Some(6),
            include: vec!["followers".into()],
            ..Default::default()
        };
        assert_eq!(
            render(&q.to_pairs()),
            "email=a%2Bb%40x.io&origin=sourced&origin=applied&stage_id=lead-new\
             &archived_posting_id=p1&location=Berlin&archived=false&snoozed=true\
             &created_at_end=5&archived_at_start=6&include=followers"
        );
    }

    #[test]
    fn requisitions_and_posting_level() {
        let q = RequisitionQuery {
            requisition_code: vec!["ENG-1".into()],
            status: vec![RequisitionStatus::Open, RequisitionStatus::OnHold],
            created_at_start: Some(1),
            created_at_end: Some(2),
            confidentiality: Some("all".into()),
        };
        assert_eq!(
            render(&q.to_pairs()),
            "requisition_code=ENG-1&status=open&status=onHold&created_at_start=1\
             &created_at_end=2&confidentiality=all"
        );
        assert!(RequisitionQuery::default().to_pairs().is_empty());
        let p = PostingQuery {
            level: vec!["Senior".into()],
            ..Default::default()
        };
        assert_eq!(render(&p.to_pairs()), "level=Senior");
    }

    #[test]
    fn users_and_archive_reasons() {
        let q = UserQuery {
            email: Some("a@x.io".into()),
            access_role: Some("super admin".into()),
            external_directory_id: Some("okta|1".into()),
            include_deactivated: true,
        };
        assert_eq!(
            render(&q.to_pairs()),
            "email=a%40x.io&accessRole=super+admin&external_directory_id=okta%7C1\
             &includeDeactivated=true"
        );
        assert!(UserQuery::default().to_pairs().is_empty());
        assert_eq!(
            render(&archive_reason_pairs(Some(ArchiveReasonType::NonHired))),
            "type=non-hired"
        );
    }
}
