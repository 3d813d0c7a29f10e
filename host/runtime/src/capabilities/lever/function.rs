//! The functions of the WIT `lever` and `lever-hiring` interfaces as a type. Each host
//! function names its `LeverFunction` when it asks for the policy check, and `operation` maps
//! every function to the Lever operation (hence the permission) it needs with an exhaustive
//! match: a new function cannot be checked, or compile, without naming its operation. Pure:
//! no wasmtime.

use lever_model::Operation;

/// One function of the WIT `lever` or `lever-hiring` interface.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LeverFunction {
    ListPostings,
    GetPosting,
    CreatePosting,
    UpdatePosting,
    ApplyToPosting,
    FindOpportunities,
    GetOpportunity,
    CreateOpportunity,
    ChangeStage,
    Archive,
    Unarchive,
    AddTags,
    RemoveTags,
    AddSources,
    AddLinks,
    ListApplications,
    GetApplication,
    GetContact,
    UpdateContact,
    AddNote,
    ListNotes,
    GetNote,
    DeleteNote,
    UploadFile,
    ListFiles,
    GetFile,
    DownloadFile,
    ListResumes,
    GetResume,
    DownloadResume,
    ListStages,
    ListArchiveReasons,
    ListTags,
    ListSources,
    ListUsers,
    GetUser,
    CreateUser,
    // lever-hiring
    ListInterviews,
    GetInterview,
    ListPanels,
    GetPanel,
    ListFeedback,
    GetFeedback,
    ListOffers,
    ListReferrals,
    GetReferral,
    ListRequisitions,
    GetRequisition,
    CreateRequisition,
    UpdateRequisition,
    ListRequisitionFields,
    GetRequisitionField,
    CreateRequisitionField,
    UpdateRequisitionField,
}

impl LeverFunction {
    /// Every function, in WIT order, `lever` then `lever-hiring` (a test checks this list
    /// against the WIT contract).
    pub const ALL: [LeverFunction; 54] = [
        LeverFunction::ListPostings,
        LeverFunction::GetPosting,
        LeverFunction::CreatePosting,
        LeverFunction::UpdatePosting,
        LeverFunction::ApplyToPosting,
        LeverFunction::FindOpportunities,
        LeverFunction::GetOpportunity,
        LeverFunction::CreateOpportunity,
        LeverFunction::ChangeStage,
        LeverFunction::Archive,
        LeverFunction::Unarchive,
        LeverFunction::AddTags,
        LeverFunction::RemoveTags,
        LeverFunction::AddSources,
        LeverFunction::AddLinks,
        LeverFunction::ListApplications,
        LeverFunction::GetApplication,
        LeverFunction::GetContact,
        LeverFunction::UpdateContact,
        LeverFunction::AddNote,
        LeverFunction::ListNotes,
        LeverFunction::GetNote,
        LeverFunction::DeleteNote,
        LeverFunction::UploadFile,
        LeverFunction::ListFiles,
        LeverFunction::GetFile,
        LeverFunction::DownloadFile,
        LeverFunction::ListResumes,
        LeverFunction::GetResume,
        LeverFunction::DownloadResume,
        LeverFunction::ListStages,
        LeverFunction::ListArchiveReasons,
        LeverFunction::ListTags,
        LeverFunction::ListSources,
        LeverFunction::ListUsers,
        LeverFunction::GetUser,
        LeverFunction::CreateUser,
        LeverFunction::ListInterviews,
        LeverFunction::GetInterview,
        LeverFunction::ListPanels,
        LeverFunction::GetPanel,
        LeverFunction::ListFeedback,
        LeverFunction::GetFeedback,
        LeverFunction::ListOffers,
        LeverFunction::ListReferrals,
        LeverFunction::GetReferral,
        LeverFunction::ListRequisitions,
        LeverFunction::GetRequisition,
        LeverFunction::CreateRequisition,
        LeverFunction::UpdateRequisition,
        LeverFunction::ListRequisitionFields,
        LeverFunction::GetRequisitionField,
        LeverFunction::CreateRequisitionField,
        LeverFunction::UpdateRequisitionField,
    ];

    /// The Lever operation behind the function: the single place that decides which
    /// permission a function needs.
    pub const fn operation(self) -> Operation {
        match self {
            LeverFunction::ListPostings => Operation::ListPostings,
            LeverFunction::GetPosting => Operation::GetPosting,
            LeverFunction::CreatePosting => Operation::CreatePosting,
            LeverFunction::UpdatePosting => Operation::UpdatePosting,
            LeverFunction::ApplyToPosting => Operation::ApplyToPosting,
            LeverFunction::FindOpportunities => Operation::ListOpportunities,
            LeverFunction::GetOpportunity => Operation::GetOpportunity,
            LeverFunction::CreateOpportunity => Operation::CreateOpportunity,
            LeverFunction::ChangeStage => Operation::UpdateStage,
            LeverFunction::Archive | LeverFunction::Unarchive => Operation::UpdateArchived,
            LeverFunction::AddTags => Operation::AddTags,
            LeverFunction::RemoveTags => Operation::RemoveTags,
            LeverFunction::AddSources => Operation::AddSources,
            LeverFunction::AddLinks => Operation::AddLinks,
            LeverFunction::ListApplications => Operation::ListApplications,
            LeverFunction::GetApplication => Operation::GetApplication,
            LeverFunction::GetContact => Operation::GetContact,
            LeverFunction::UpdateContact => Operation::UpdateContact,
            LeverFunction::AddNote => Operation::CreateNote,
            LeverFunction::ListNotes => Operation::ListNotes,
            LeverFunction::GetNote => Operation::GetNote,
            LeverFunction::DeleteNote => Operation::DeleteNote,
            LeverFunction::UploadFile => Operation::UploadFile,
            LeverFunction::ListFiles => Operation::ListFiles,
            LeverFunction::GetFile => Operation::GetFile,
            LeverFunction::DownloadFile => Operation::DownloadFile,
            LeverFunction::ListResumes => Operation::ListResumes,
            LeverFunction::GetResume => Operation::GetResume,
            LeverFunction::DownloadResume => Operation::DownloadResume,
            LeverFunction::ListStages => Operation::ListStages,
            LeverFunction::ListArchiveReasons => Operation::ListArchiveReasons,
            LeverFunction::ListTags => Operation::ListTags,
            LeverFunction::ListSources => Operation::ListSources,
            LeverFunction::ListUsers => Operation::ListUsers,
            LeverFunction::GetUser => Operation::GetUser,
            LeverFunction::CreateUser => Operation::CreateUser,
            LeverFunction::ListInterviews => Operation::ListInterviews,
            LeverFunction::GetInterview => Operation::GetInterview,
            LeverFunction::ListPanels => Operation::ListPanels,
            LeverFunction::GetPanel => Operation::GetPanel,
            LeverFunction::ListFeedback => Operation::ListFeedback,
            LeverFunction::GetFeedback => Operation::GetFeedback,
            LeverFunction::ListOffers => Operation::ListOffers,
            LeverFunction::ListReferrals => Operation::ListReferrals,
            LeverFunction::GetReferral => Operation::GetReferral,
            LeverFunction::ListRequisitions => Operation::ListRequisitions,
            LeverFunction::GetRequisition => Operation::GetRequisition,
            LeverFunction::CreateRequisition => Operation::CreateRequisition,
            LeverFunction::UpdateRequisition => Operation::UpdateRequisition,
            LeverFunction::ListRequisitionFields => Operation::ListRequisitionFields,
            LeverFunction::GetRequisitionField => Operation::GetRequisitionField,
            LeverFunction::CreateRequisitionField => Operation::CreateRequisitionField,
            LeverFunction::UpdateRequisitionField => Operation::UpdateRequisitionField,
        }
    }

    /// The WIT name, e.g. "create-opportunity". Journaled requests are digested with it, so a
    /// name never changes (it would break the replay of every event journaled before).
    pub const fn name(self) -> &'static str {
        match self {
            LeverFunction::ListPostings => "list-postings",
            LeverFunction::GetPosting => "get-posting",
            LeverFunction::CreatePosting => "create-posting",
            LeverFunction::UpdatePosting => "update-posting",
            LeverFunction::ApplyToPosting => "apply-to-posting",
            LeverFunction::FindOpportunities => "find-opportunities",
            LeverFunction::GetOpportunity => "get-opportunity",
            LeverFunction::CreateOpportunity => "create-opportunity",
            LeverFunction::ChangeStage => "change-stage",
            LeverFunction::Archive => "archive",
            LeverFunction::Unarchive => "unarchive",
            LeverFunction::AddTags => "add-tags",
            LeverFunction::RemoveTags => "remove-tags",
            LeverFunction::AddSources => "add-sources",
            LeverFunction::AddLinks => "add-links",
            LeverFunction::ListApplications => "list-applications",
            LeverFunction::GetApplication => "get-application",
            LeverFunction::GetContact => "get-contact",
            LeverFunction::UpdateContact => "update-contact",
            LeverFunction::AddNote => "add-note",
            LeverFunction::ListNotes => "list-notes",
            LeverFunction::GetNote => "get-note",
            LeverFunction::DeleteNote => "delete-note",
            LeverFunction::UploadFile => "upload-file",
            LeverFunction::ListFiles => "list-files",
            LeverFunction::GetFile => "get-file",
            LeverFunction::DownloadFile => "download-file",
            LeverFunction::ListResumes => "list-resumes",
            LeverFunction::GetResume => "get-resume",
            LeverFunction::DownloadResume => "download-resume",
            LeverFunction::ListStages => "list-stages",
            LeverFunction::ListArchiveReasons => "list-archive-reasons",
            LeverFunction::ListTags => "list-tags",
            LeverFunction::ListSources => "list-sources",
            LeverFunction::ListUsers => "list-users",
            LeverFunction::GetUser => "get-user",
            LeverFunction::CreateUser => "create-user",
            LeverFunction::ListInterviews => "list-interviews",
            LeverFunction::GetInterview => "get-interview",
            LeverFunction::ListPanels => "list-panels",
            LeverFunction::GetPanel => "get-panel",
            LeverFunction::ListFeedback => "list-feedback",
            LeverFunction::GetFeedback => "get-feedback",
            LeverFunction::ListOffers => "list-offers",
            LeverFunction::ListReferrals => "list-referrals",
            LeverFunction::GetReferral => "get-referral",
            LeverFunction::ListRequisitions => "list-requisitions",
            LeverFunction::GetRequisition => "get-requisition",
            LeverFunction::CreateRequisition => "create-requisition",
            LeverFunction::UpdateRequisition => "update-requisition",
            LeverFunction::ListRequisitionFields => "list-requisition-fields",
            LeverFunction::GetRequisitionField => "get-requisition-field",
            LeverFunction::CreateRequisitionField => "create-requisition-field",
            LeverFunction::UpdateRequisitionField => "update-requisition-field",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lever_model::Permission;

    /// The function names of `interface` in a WIT file of the latest contract.
    fn wit_functions(wit: &str, interface: &str) -> Vec<String> {
        let body = wit
            .split_once(&format!("interface {interface} {{"))
            .unwrap_or_else(|| panic!("interface {interface}"))
            .1;
        body.lines()
            .filter_map(|line| {
                let (name, rest) = line.trim().split_once(':')?;
                rest.trim_start()
                    .starts_with("func(")
                    .then(|| name.to_owned())
            })
            .collect()
    }

    #[test]
    fn every_wit_function_is_a_lever_function_and_back() {
        let ours: Vec<&str> = LeverFunction::ALL.iter().map(|f| f.name()).collect();
        let mut wit = wit_functions(
            include_str!("../../../../../wit/connector-0.2.0/lever.wit"),
            "lever",
        );
        wit.extend(wit_functions(
            include_str!("../../../../../wit/connector-0.2.0/hiring.wit"),
            "lever-hiring",
        ));
        assert_eq!(
            ours, wit,
            "LeverFunction must list the WIT functions, in WIT order"
        );
    }

    #[test]
    fn permissions_are_lever_words() {
        // Spot checks of the mapping where the function and operation names differ.
        let permission = |f: LeverFunction| f.operation().permission();
        assert_eq!(
            permission(LeverFunction::AddNote),
            Permission::CreateOpportunityNote
        );
        assert_eq!(
            permission(LeverFunction::FindOpportunities),
            Permission::ListOpportunities
        );
        assert_eq!(
            permission(LeverFunction::DownloadResume),
            Permission::DownloadOpportunityResume
        );
        assert_eq!(
            permission(LeverFunction::Unarchive),
            permission(LeverFunction::Archive)
        );
        assert_eq!(
            permission(LeverFunction::GetFeedback),
            Permission::ReadOpportunityFeedback
        );
        assert_eq!(
            permission(LeverFunction::ApplyToPosting),
            Permission::ApplyToPosting
        );
    }
}
