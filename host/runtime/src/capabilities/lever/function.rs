//! The functions of the WIT `lever` interface as a type. Each host function names its
//! `LeverFunction` when it asks for the policy check, and `operation` maps every function to
//! the Lever operation (hence the permission) it needs with an exhaustive match: a new
//! function cannot be checked, or compile, without naming its operation. Pure: no wasmtime.

use lever_model::Operation;

/// One function of the WIT `lever` interface.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LeverFunction {
    ListPostings,
    GetPosting,
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
    AddNote,
    ListNotes,
    UploadFile,
    ListFiles,
    DownloadFile,
    ListResumes,
    DownloadResume,
    ListStages,
    ListArchiveReasons,
    ListUsers,
}

impl LeverFunction {
    /// Every function, in WIT order (a test checks this list against the WIT contract).
    pub const ALL: [LeverFunction; 22] = [
        LeverFunction::ListPostings,
        LeverFunction::GetPosting,
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
        LeverFunction::AddNote,
        LeverFunction::ListNotes,
        LeverFunction::UploadFile,
        LeverFunction::ListFiles,
        LeverFunction::DownloadFile,
        LeverFunction::ListResumes,
        LeverFunction::DownloadResume,
        LeverFunction::ListStages,
        LeverFunction::ListArchiveReasons,
        LeverFunction::ListUsers,
    ];

    /// The Lever operation behind the function: the single place that decides which
    /// permission a function needs.
    pub const fn operation(self) -> Operation {
        match self {
            LeverFunction::ListPostings => Operation::ListPostings,
            LeverFunction::GetPosting => Operation::GetPosting,
            LeverFunction::FindOpportunities => Operation::ListOpportunities,
            LeverFunction::GetOpportunity => Operation::GetOpportunity,
            LeverFunction::CreateOpportunity => Operation::CreateOpportunity,
            LeverFunction::ChangeStage => Operation::UpdateStage,
            LeverFunction::Archive | LeverFunction::Unarchive => Operation::UpdateArchived,
            LeverFunction::AddTags => Operation::AddTags,
            LeverFunction::RemoveTags => Operation::RemoveTags,
            LeverFunction::AddSources => Operation::AddSources,
            LeverFunction::AddLinks => Operation::AddLinks,
            LeverFunction::AddNote => Operation::CreateNote,
            LeverFunction::ListNotes => Operation::ListNotes,
            LeverFunction::UploadFile => Operation::UploadFile,
            LeverFunction::ListFiles => Operation::ListFiles,
            LeverFunction::DownloadFile => Operation::DownloadFile,
            LeverFunction::ListResumes => Operation::ListResumes,
            LeverFunction::DownloadResume => Operation::DownloadResume,
            LeverFunction::ListStages => Operation::ListStages,
            LeverFunction::ListArchiveReasons => Operation::ListArchiveReasons,
            LeverFunction::ListUsers => Operation::ListUsers,
        }
    }

    /// The WIT name, e.g. "create-opportunity". Journaled requests are digested with it, so a
    /// name never changes (it would break the replay of every event journaled before).
    pub const fn name(self) -> &'static str {
        match self {
            LeverFunction::ListPostings => "list-postings",
            LeverFunction::GetPosting => "get-posting",
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
            LeverFunction::AddNote => "add-note",
            LeverFunction::ListNotes => "list-notes",
            LeverFunction::UploadFile => "upload-file",
            LeverFunction::ListFiles => "list-files",
            LeverFunction::DownloadFile => "download-file",
            LeverFunction::ListResumes => "list-resumes",
            LeverFunction::DownloadResume => "download-resume",
            LeverFunction::ListStages => "list-stages",
            LeverFunction::ListArchiveReasons => "list-archive-reasons",
            LeverFunction::ListUsers => "list-users",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lever_model::Permission;

    /// The function names of the `lever` interface in the WIT contract.
    fn wit_functions() -> Vec<String> {
        let wit = include_str!("../../../../../wit/connector-0.1.0/lever.wit");
        let body = wit
            .split_once("interface lever {")
            .expect("interface lever")
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
        let wit = wit_functions();
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
    }
}
