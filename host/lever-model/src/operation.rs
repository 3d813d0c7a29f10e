//! The Lever operations Fulcrum speaks, as one table: method, path, the API-key permission
//! each needs, and whether it takes `perform_as`. The sandbox enforces this table, the client
//! uses it to name the missing permission in a 403 and to decide what is safe to retry, and
//! the host uses it to check a plugin's grants.

use crate::Permission;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Method {
    Get,
    Post,
    Put,
    Delete,
}

impl Method {
    pub const fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Delete => "DELETE",
        }
    }
}

/// How an operation treats the `perform_as` query parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PerformAs {
    Required,
    Optional,
    NotAccepted,
}

macro_rules! operations {
    ($($variant:ident => $method:ident $path:literal, $perm:ident, $perform_as:ident, $idempotent:literal;)*) => {
        /// One Lever Data API v1 operation.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Operation {
            $($variant,)*
        }

        impl Operation {
            pub const ALL: &'static [Operation] = &[$(Operation::$variant,)*];

            pub const fn method(self) -> Method {
                match self { $(Operation::$variant => Method::$method,)* }
            }

            /// Path template under `/v1`, with `:name` segments.
            pub const fn path(self) -> &'static str {
                match self { $(Operation::$variant => $path,)* }
            }

            /// The API-key permission Lever checks for this operation.
            pub const fn permission(self) -> Permission {
                match self { $(Operation::$variant => Permission::$perm,)* }
            }

            pub const fn perform_as(self) -> PerformAs {
                match self { $(Operation::$variant => PerformAs::$perform_as,)* }
            }

            /// Whether sending the request twice has the same effect as sending it once, so a
            /// request whose outcome is unknown (timeout, dropped connection, 500) may be retried.
            pub const fn is_idempotent(self) -> bool {
                match self { $(Operation::$variant => $idempotent,)* }
            }
        }
    };
}

operations! {
    ListPostings => Get "/postings", ListPostings, NotAccepted, true;
    GetPosting => Get "/postings/:posting", ReadPosting, NotAccepted, true;
    CreatePosting => Post "/postings", CreatePosting, Required, false;
    UpdatePosting => Post "/postings/:posting", UpdatePosting, Required, true;
    GetApplyForm => Get "/postings/:posting/apply", ReadPostingApplyForm, NotAccepted, true;
    ApplyToPosting => Post "/postings/:posting/apply", ApplyToPosting, NotAccepted, false;
    ListOpportunities => Get "/opportunities", ListOpportunities, NotAccepted, true;
    ListDeletedOpportunities => Get "/opportunities/deleted", ListDeletedOpportunities, NotAccepted, true;
    GetOpportunity => Get "/opportunities/:opportunity", ReadOpportunity, NotAccepted, true;
    CreateOpportunity => Post "/opportunities", CreateOpportunity, Required, false;
    UpdateStage => Put "/opportunities/:opportunity/stage", UpdateOpportunityStage, Optional, true;
    UpdateArchived => Put "/opportunities/:opportunity/archived", UpdateOpportunityArchivedState, Optional, true;
    AddTags => Post "/opportunities/:opportunity/addTags", AddOpportunityTags, Optional, true;
    RemoveTags => Post "/opportunities/:opportunity/removeTags", RemoveOpportunityTags, Optional, true;
    AddSources => Post "/opportunities/:opportunity/addSources", AddOpportunitySources, Optional, true;
    RemoveSources => Post "/opportunities/:opportunity/removeSources", RemoveOpportunitySources, Optional, true;
    AddLinks => Post "/opportunities/:opportunity/addLinks", AddOpportunityLinks, Optional, true;
    RemoveLinks => Post "/opportunities/:opportunity/removeLinks", RemoveOpportunityLinks, Optional, true;
    GetContact => Get "/contacts/:contact", ReadContact, NotAccepted, true;
    UpdateContact => Put "/contacts/:contact", UpdateContact, NotAccepted, true;
    ListNotes => Get "/opportunities/:opportunity/notes", ListOpportunityNotes, NotAccepted, true;
    GetNote => Get "/opportunities/:opportunity/notes/:note", ReadOpportunityNote, NotAccepted, true;
    CreateNote => Post "/opportunities/:opportunity/notes", CreateOpportunityNote, Optional, false;
    DeleteNote => Delete "/opportunities/:opportunity/notes/:note", DeleteOpportunityNote, NotAccepted, true;
    ListFiles => Get "/opportunities/:opportunity/files", ListOpportunityFiles, NotAccepted, true;
    GetFile => Get "/opportunities/:opportunity/files/:file", ReadOpportunityFile, NotAccepted, true;
    DownloadFile => Get "/opportunities/:opportunity/files/:file/download", DownloadOpportunityFile, NotAccepted, true;
    UploadFile => Post "/opportunities/:opportunity/files", UploadOpportunityFile, Required, false;
    DeleteFile => Delete "/opportunities/:opportunity/files/:file", DeleteOpportunityFile, Required, true;
    ListResumes => Get "/opportunities/:opportunity/resumes", ListOpportunityResumes, NotAccepted, true;
    GetResume => Get "/opportunities/:opportunity/resumes/:resume", ReadOpportunityResume, NotAccepted, true;
    DownloadResume => Get "/opportunities/:opportunity/resumes/:resume/download", DownloadOpportunityResume, NotAccepted, true;
    ListApplications => Get "/opportunities/:opportunity/applications", ListOpportunityApplications, NotAccepted, true;
    GetApplication => Get "/opportunities/:opportunity/applications/:application", ReadOpportunityApplication, NotAccepted, true;
    ListStages => Get "/stages", ListStages, NotAccepted, true;
    GetStage => Get "/stages/:stage", ReadStage, NotAccepted, true;
    ListArchiveReasons => Get "/archive_reasons", ListArchiveReasons, NotAccepted, true;
    GetArchiveReason => Get "/archive_reasons/:archive_reason", ReadArchiveReason, NotAccepted, true;
    ListUsers => Get "/users", ListUsers, NotAccepted, true;
    GetUser => Get "/users/:user", ReadUser, NotAccepted, true;
    ListTags => Get "/tags", ListTags, NotAccepted, true;
    ListSources => Get "/sources", ListSources, NotAccepted, true;
    CreateUpload => Post "/uploads", CreateUpload, NotAccepted, false;
    ListWebhooks => Get "/webhooks", ListWebhooks, NotAccepted, true;
    CreateWebhook => Post "/webhooks", CreateWebhook, NotAccepted, false;
    UpdateWebhooks => Put "/webhooks", UpdateWebhook, NotAccepted, true;
    DeleteWebhook => Delete "/webhooks/:webhook", DeleteWebhook, NotAccepted, true;
    ListInterviews => Get "/opportunities/:opportunity/interviews", ListOpportunityInterviews, NotAccepted, true;
    GetInterview => Get "/opportunities/:opportunity/interviews/:interview", ReadOpportunityInterview, NotAccepted, true;
    ListPanels => Get "/opportunities/:opportunity/panels", ListOpportunityPanels, NotAccepted, true;
    GetPanel => Get "/opportunities/:opportunity/panels/:panel", ReadOpportunityPanel, NotAccepted, true;
    ListFeedback => Get "/opportunities/:opportunity/feedback", ListOpportunityFeedback, NotAccepted, true;
    GetFeedback => Get "/opportunities/:opportunity/feedback/:feedback", ReadOpportunityFeedback, NotAccepted, true;
    ListOffers => Get "/opportunities/:opportunity/offers", ListOpportunityOffers, NotAccepted, true;
    ListReferrals => Get "/opportunities/:opportunity/referrals", ListOpportunityReferrals, NotAccepted, true;
    GetReferral => Get "/opportunities/:opportunity/referrals/:referral", ReadOpportunityReferral, NotAccepted, true;
    ListRequisitions => Get "/requisitions", ListRequisitions, NotAccepted, true;
    GetRequisition => Get "/requisitions/:requisition", ReadRequisition, NotAccepted, true;
    CreateRequisition => Post "/requisitions", CreateRequisition, NotAccepted, false;
    UpdateRequisition => Put "/requisitions/:requisition", UpdateRequisition, NotAccepted, true;
    ListRequisitionFields => Get "/requisition_fields", ListRequisitionFields, NotAccepted, true;
    GetRequisitionField => Get "/requisition_fields/:requisition_field", ReadRequisitionField, NotAccepted, true;
    CreateRequisitionField => Post "/requisition_fields", CreateRequisitionField, NotAccepted, false;
    UpdateRequisitionField => Put "/requisition_fields/:requisition_field", UpdateRequisitionField, NotAccepted, true;
    CreateUser => Post "/users", CreateUser, NotAccepted, false;
    // Lever's deprecated `/candidates` routes (read-only; `candidateId == opportunityId`),
    // guarded by the opportunity permissions Lever uses today.
    ListCandidates => Get "/candidates", ListOpportunities, NotAccepted, true;
    GetCandidate => Get "/candidates/:candidate", ReadOpportunity, NotAccepted, true;
    ListCandidateApplications => Get "/candidates/:candidate/applications", ListOpportunityApplications, NotAccepted, true;
    ListCandidateNotes => Get "/candidates/:candidate/notes", ListOpportunityNotes, NotAccepted, true;
    ListCandidateFiles => Get "/candidates/:candidate/files", ListOpportunityFiles, NotAccepted, true;
    ListCandidateResumes => Get "/candidates/:candidate/resumes", ListOpportunityResumes, NotAccepted, true;
    ListCandidateInterviews => Get "/candidates/:candidate/interviews", ListOpportunityInterviews, NotAccepted, true;
    ListCandidateFeedback => Get "/candidates/:candidate/feedback", ListOpportunityFeedback, NotAccepted, true;
    ListCandidateOffers => Get "/candidates/:candidate/offers", ListOpportunityOffers, NotAccepted, true;
    ListCandidateReferrals => Get "/candidates/:candidate/referrals", ListOpportunityReferrals, NotAccepted, true;
}

impl Operation {
    /// "POST /opportunities/:opportunity/notes": the label used for per-endpoint counters.
    pub fn label(self) -> String {
        format!("{} {}", self.method().as_str(), self.path())
    }

    /// Whether the operation changes data in Lever.
    pub fn is_write(self) -> bool {
        self.method() != Method::Get
    }

    /// The operations a permission allows (usually one).
    pub fn allowed_by(permission: Permission) -> impl Iterator<Item = Operation> {
        Operation::ALL
            .iter()
            .copied()
            .filter(move |op| op.permission() == permission)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn every_permission_guards_some_operation() {
        let used: HashSet<_> = Operation::ALL.iter().map(|op| op.permission()).collect();
        for p in Permission::ALL {
            assert!(used.contains(p), "permission {p:?} guards no operation");
        }
    }

    #[test]
    fn write_operations_need_write_permissions() {
        for op in Operation::ALL {
            assert_eq!(op.is_write(), op.permission().is_write(), "{op:?}");
        }
    }

    #[test]
    fn method_and_path_are_unique() {
        let mut seen = HashSet::new();
        for op in Operation::ALL {
            assert!(seen.insert(op.label()), "duplicate {}", op.label());
        }
    }

    #[test]
    fn documented_perform_as_rules() {
        assert_eq!(
            Operation::CreateOpportunity.perform_as(),
            PerformAs::Required
        );
        assert_eq!(Operation::UploadFile.perform_as(), PerformAs::Required);
        assert_eq!(Operation::CreatePosting.perform_as(), PerformAs::Required);
        assert_eq!(Operation::UpdateStage.perform_as(), PerformAs::Optional);
        assert_eq!(Operation::CreateNote.perform_as(), PerformAs::Optional);
        assert!(!Operation::CreateOpportunity.is_idempotent());
        assert!(Operation::AddTags.is_idempotent());
    }
}
