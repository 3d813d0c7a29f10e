//! Lever's OAuth scopes and which API-key permissions each one covers: the `scope →
//! operations` table beside the permission table. An OAuth app asks for scopes at consent; the
//! sandbox checks a bearer token's scopes against this table, and the host asks for the
//! scopes covering exactly the permissions a tenant admin approved.
//!
//! Lever describes a `write` scope as "view and manage", so it covers the reads of its
//! resource too. Where Lever names no scope for an endpoint we chose one (marked below).

use crate::Permission;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

macro_rules! scopes {
    ($($variant:ident => $words:literal, $plain:literal;)*) => {
        /// One Lever OAuth scope.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Scope {
            $($variant,)*
        }

        impl Scope {
            /// Every scope in Lever's published list.
            pub const ALL: &'static [Scope] = &[$(Scope::$variant,)*];

            /// The scope as Lever spells it (`opportunities:read:admin`).
            pub const fn as_str(self) -> &'static str {
                match self { $(Scope::$variant => $words,)* }
            }

            /// What the scope lets an app do, in plain words for a consent page.
            pub const fn plain_words(self) -> &'static str {
                match self { $(Scope::$variant => $plain,)* }
            }
        }

        impl FromStr for Scope {
            type Err = UnknownScope;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($words => Ok(Scope::$variant),)*
                    _ => Err(UnknownScope(s.to_owned())),
                }
            }
        }
    };
}

scopes! {
    OfflineAccess => "offline_access", "Stay connected when you are not using it (refresh token)";
    ApplicationsRead => "applications:read:admin", "View applications";
    ArchiveReasonsRead => "archive_reasons:read:admin", "View archive reasons";
    AuditEventsRead => "audit_events:read:admin", "View audit events";
    ConfidentialAccess => "confidential:access:admin", "Access confidential postings and candidates";
    ContactRead => "contact:read:admin", "View contacts";
    ContactWrite => "contact:write:admin", "View and manage contacts";
    DiversitySurveysRead => "diversity_surveys:read:admin", "View diversity surveys";
    EeoResponsesRead => "eeo_responses:read:admin", "View EEO responses";
    EeoResponsesPiiRead => "eeo_responses_pii:read:admin", "View EEO responses with personal data";
    FeedbackRead => "feedback:read:admin", "View interview feedback";
    FeedbackWrite => "feedback:write:admin", "View and manage interview feedback";
    FeedbackTemplatesRead => "feedback_templates:read:admin", "View feedback templates";
    FeedbackTemplatesWrite => "feedback_templates:write:admin", "View and manage feedback templates";
    FilesRead => "files:read:admin", "View and download candidate files";
    FilesWrite => "files:write:admin", "View, upload and delete candidate files";
    FormsRead => "forms:read:admin", "View forms";
    FormsWrite => "forms:write:admin", "View and manage forms";
    FormTemplatesRead => "form_templates:read:admin", "View form templates";
    FormTemplatesWrite => "form_templates:write:admin", "View and manage form templates";
    GroupsRead => "groups:read:admin", "View groups";
    GroupsWrite => "groups:write:admin", "View and manage groups";
    InterviewsRead => "interviews:read:admin", "View interviews";
    InterviewsWrite => "interviews:write:admin", "View and manage interviews";
    NotesRead => "notes:read:admin", "View notes on candidates";
    NotesWrite => "notes:write:admin", "View, add and delete notes on candidates";
    OffersRead => "offers:read:admin", "View offers";
    OpportunitiesRead => "opportunities:read:admin", "View candidates and their opportunities";
    OpportunitiesWrite => "opportunities:write:admin", "View, create and update candidates (stage, archive state, tags, sources, links)";
    PanelsRead => "panels:read:admin", "View interview panels";
    PanelsWrite => "panels:write:admin", "View and manage interview panels";
    PermissionsRead => "permissions:read:admin", "View permissions";
    PermissionsWrite => "permissions:write:admin", "View and manage permissions";
    PostingsRead => "postings:read:admin", "View job postings";
    PostingsWrite => "postings:write:admin", "View, create and update job postings, and apply to them";
    ReferralsRead => "referrals:read:admin", "View referrals";
    RequisitionsRead => "requisitions:read:admin", "View requisitions";
    RequisitionsWrite => "requisitions:write:admin", "View and manage requisitions";
    RequisitionFieldsRead => "requisition_fields:read:admin", "View requisition fields";
    RequisitionFieldsWrite => "requisition_fields:write:admin", "View and manage requisition fields";
    ResumesRead => "resumes:read:admin", "View and download résumés";
    RolesRead => "roles:read:admin", "View roles";
    RolesWrite => "roles:write:admin", "View and manage roles";
    SourcesRead => "sources:read:admin", "View candidate sources";
    StagesRead => "stages:read:admin", "View pipeline stages";
    TagsRead => "tags:read:admin", "View candidate tags";
    TasksRead => "tasks:read:admin", "View tasks";
    UploadsWrite => "uploads:write:admin", "Upload files for applications";
    UsersRead => "users:read:admin", "View users";
    UsersWrite => "users:write:admin", "View and manage users";
    WebhooksRead => "webhooks:read:admin", "View webhooks";
    WebhooksWrite => "webhooks:write:admin", "View and manage webhooks";
}

impl Scope {
    /// The narrowest scope that covers `permission`. Every permission has one.
    pub const fn for_permission(permission: Permission) -> Scope {
        use Permission as P;
        match permission {
            P::ReadPosting | P::ListPostings | P::ReadPostingApplyForm => Scope::PostingsRead,
            // Lever names no scope for applying; applying writes to a posting (our choice).
            P::CreatePosting | P::UpdatePosting | P::ApplyToPosting => Scope::PostingsWrite,
            P::ReadOpportunity | P::ListOpportunities | P::ListDeletedOpportunities => {
                Scope::OpportunitiesRead
            }
            P::CreateOpportunity
            | P::UpdateOpportunityStage
            | P::UpdateOpportunityArchivedState
            | P::AddOpportunityTags
            | P::RemoveOpportunityTags
            | P::AddOpportunitySources
            | P::RemoveOpportunitySources
            | P::AddOpportunityLinks
            | P::RemoveOpportunityLinks => Scope::OpportunitiesWrite,
            P::ReadContact => Scope::ContactRead,
            P::UpdateContact => Scope::ContactWrite,
            P::ReadStage | P::ListStages => Scope::StagesRead,
            P::ReadArchiveReason | P::ListArchiveReasons => Scope::ArchiveReasonsRead,
            P::ReadUser | P::ListUsers => Scope::UsersRead,
            P::ListTags => Scope::TagsRead,
            P::ListSources => Scope::SourcesRead,
            P::ReadOpportunityNote | P::ListOpportunityNotes => Scope::NotesRead,
            P::CreateOpportunityNote | P::DeleteOpportunityNote => Scope::NotesWrite,
            P::ReadOpportunityFile | P::ListOpportunityFiles | P::DownloadOpportunityFile => {
                Scope::FilesRead
            }
            P::UploadOpportunityFile | P::DeleteOpportunityFile => Scope::FilesWrite,
            P::ReadOpportunityResume | P::ListOpportunityResumes | P::DownloadOpportunityResume => {
                Scope::ResumesRead
            }
            P::ReadOpportunityApplication | P::ListOpportunityApplications => {
                Scope::ApplicationsRead
            }
            P::ListWebhooks => Scope::WebhooksRead,
            P::CreateWebhook | P::UpdateWebhook | P::DeleteWebhook => Scope::WebhooksWrite,
            P::CreateUpload => Scope::UploadsWrite,
            P::ReadOpportunityInterview | P::ListOpportunityInterviews => Scope::InterviewsRead,
            P::ReadOpportunityPanel | P::ListOpportunityPanels => Scope::PanelsRead,
            P::ReadOpportunityFeedback | P::ListOpportunityFeedback => Scope::FeedbackRead,
            P::ListOpportunityOffers => Scope::OffersRead,
            P::ReadOpportunityReferral | P::ListOpportunityReferrals => Scope::ReferralsRead,
            P::ReadRequisition | P::ListRequisitions => Scope::RequisitionsRead,
            P::CreateRequisition | P::UpdateRequisition => Scope::RequisitionsWrite,
            P::ReadRequisitionField | P::ListRequisitionFields => Scope::RequisitionFieldsRead,
            P::CreateRequisitionField | P::UpdateRequisitionField => Scope::RequisitionFieldsWrite,
            P::CreateUser => Scope::UsersWrite,
        }
    }

    /// The `write` scope of the same resource, which also covers its reads.
    pub const fn write_of(self) -> Option<Scope> {
        use Scope as S;
        Some(match self {
            S::ContactRead => S::ContactWrite,
            S::FeedbackRead => S::FeedbackWrite,
            S::FeedbackTemplatesRead => S::FeedbackTemplatesWrite,
            S::FilesRead => S::FilesWrite,
            S::FormsRead => S::FormsWrite,
            S::FormTemplatesRead => S::FormTemplatesWrite,
            S::GroupsRead => S::GroupsWrite,
            S::InterviewsRead => S::InterviewsWrite,
            S::NotesRead => S::NotesWrite,
            S::OpportunitiesRead => S::OpportunitiesWrite,
            S::PanelsRead => S::PanelsWrite,
            S::PermissionsRead => S::PermissionsWrite,
            S::PostingsRead => S::PostingsWrite,
            S::RequisitionsRead => S::RequisitionsWrite,
            S::RequisitionFieldsRead => S::RequisitionFieldsWrite,
            S::RolesRead => S::RolesWrite,
            S::UsersRead => S::UsersWrite,
            S::WebhooksRead => S::WebhooksWrite,
            _ => return None,
        })
    }
}

/// A set of granted scopes, e.g. from a token response's space-separated `scope`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScopeSet(BTreeSet<Scope>);

impl ScopeSet {
    pub fn new(scopes: impl IntoIterator<Item = Scope>) -> Self {
        ScopeSet(scopes.into_iter().collect())
    }

    /// Parses Lever's space-separated form; an unknown scope is an error naming it.
    pub fn parse(text: &str) -> Result<Self, UnknownScope> {
        text.split_whitespace()
            .map(str::parse)
            .collect::<Result<_, _>>()
            .map(ScopeSet)
    }

    /// The narrowest scopes covering `permissions` (for an authorize request).
    pub fn covering(permissions: impl IntoIterator<Item = Permission>) -> Self {
        let needed: BTreeSet<Scope> = permissions.into_iter().map(Scope::for_permission).collect();
        // A read scope is redundant next to its write scope.
        ScopeSet(
            needed
                .iter()
                .copied()
                .filter(|s| s.write_of().is_none_or(|w| !needed.contains(&w)))
                .collect(),
        )
    }

    /// Whether a token with these scopes may use `permission`.
    pub fn covers(&self, permission: Permission) -> bool {
        let scope = Scope::for_permission(permission);
        self.0.contains(&scope) || scope.write_of().is_some_and(|w| self.0.contains(&w))
    }

    pub fn contains(&self, scope: Scope) -> bool {
        self.0.contains(&scope)
    }

    pub fn insert(&mut self, scope: Scope) {
        self.0.insert(scope);
    }

    pub fn iter(&self) -> impl Iterator<Item = Scope> + '_ {
        self.0.iter().copied()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Display for ScopeSet {
    /// Lever's wire form: space-separated.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let words: Vec<&str> = self.0.iter().map(|s| s.as_str()).collect();
        f.write_str(&words.join(" "))
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A scope Lever does not have.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown Lever OAuth scope {0:?}; scopes look like \"opportunities:read:admin\"")]
pub struct UnknownScope(pub String);

impl Serialize for Scope {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Scope {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_scope_round_trips() {
        for s in Scope::ALL {
            assert_eq!(s.as_str().parse::<Scope>().unwrap(), *s);
        }
        assert!("opportunities:admin".parse::<Scope>().is_err());
    }

    #[test]
    fn write_covers_read_of_the_same_resource_only() {
        let set = ScopeSet::new([Scope::OpportunitiesWrite]);
        assert!(set.covers(Permission::ListOpportunities));
        assert!(set.covers(Permission::AddOpportunityTags));
        assert!(!set.covers(Permission::ListPostings));
        let read = ScopeSet::new([Scope::OpportunitiesRead]);
        assert!(read.covers(Permission::ReadOpportunity));
        assert!(!read.covers(Permission::CreateOpportunity));
    }

    #[test]
    fn covering_is_narrowest_and_covers_everything() {
        let perms = [
            Permission::ListPostings,
            Permission::ReadOpportunity,
            Permission::CreateOpportunity,
            Permission::CreateOpportunityNote,
        ];
        let set = ScopeSet::covering(perms);
        assert_eq!(
            set.to_string(),
            "notes:write:admin opportunities:write:admin postings:read:admin"
        );
        assert!(perms.iter().all(|p| set.covers(*p)));
        for p in Permission::ALL {
            assert!(ScopeSet::covering([*p]).covers(*p), "{p}");
        }
    }

    #[test]
    fn parse_names_the_unknown_scope() {
        let err = ScopeSet::parse("offline_access everything:admin").unwrap_err();
        assert!(err.to_string().contains("everything:admin"));
        let set = ScopeSet::parse("  offline_access   stages:read:admin ").unwrap();
        assert!(set.contains(Scope::OfflineAccess));
        assert!(set.covers(Permission::ListStages));
    }
}
