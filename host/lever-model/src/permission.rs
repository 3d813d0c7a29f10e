//! API-key permission words, spelled the way Lever's "Generate New Key" screen and vendors'
//! setup guides spell them ("read posting", "list opportunities", "download opportunity
//! resume"). A plugin manifest requests permissions in these words, a tenant admin approves
//! them, and the sandbox grants them per API key.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::str::FromStr;

macro_rules! permissions {
    ($($variant:ident => $words:literal, $kind:ident;)*) => {
        /// One Lever API-key permission.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Permission {
            $($variant,)*
        }

        impl Permission {
            /// Every permission, in Lever's screen order (reads, then writes).
            pub const ALL: &'static [Permission] = &[$(Permission::$variant,)*];

            /// Lever's words for this permission.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(Permission::$variant => $words,)*
                }
            }

            /// Whether Lever lists the permission under "Write" (create / update / delete).
            pub const fn is_write(self) -> bool {
                match self {
                    $(Permission::$variant => permissions!(@write $kind),)*
                }
            }
        }

        impl FromStr for Permission {
            type Err = UnknownPermission;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                let normalised = s.trim().to_ascii_lowercase();
                match normalised.as_str() {
                    $($words => Ok(Permission::$variant),)*
                    _ => Err(UnknownPermission(s.to_owned())),
                }
            }
        }
    };
    (@write read) => { false };
    (@write write) => { true };
}

permissions! {
    ReadPosting => "read posting", read;
    ListPostings => "list postings", read;
    ReadPostingApplyForm => "read posting application form", read;
    ReadOpportunity => "read opportunity", read;
    ListOpportunities => "list opportunities", read;
    ListDeletedOpportunities => "list deleted opportunities", read;
    ReadContact => "read contact", read;
    ReadStage => "read stage", read;
    ListStages => "list stages", read;
    ReadArchiveReason => "read archive reason", read;
    ListArchiveReasons => "list archive reasons", read;
    ReadUser => "read user", read;
    ListUsers => "list users", read;
    ListTags => "list tags", read;
    ListSources => "list sources", read;
    ReadOpportunityNote => "read opportunity note", read;
    ListOpportunityNotes => "list opportunity notes", read;
    ReadOpportunityFile => "read opportunity file", read;
    ListOpportunityFiles => "list opportunity files", read;
    DownloadOpportunityFile => "download opportunity file", read;
    ReadOpportunityResume => "read opportunity resume", read;
    ListOpportunityResumes => "list opportunity resumes", read;
    DownloadOpportunityResume => "download opportunity resume", read;
    ReadOpportunityApplication => "read opportunity application", read;
    ListOpportunityApplications => "list opportunity applications", read;
    ListWebhooks => "list webhooks", read;
    ReadOpportunityInterview => "read opportunity interview", read;
    ListOpportunityInterviews => "list opportunity interviews", read;
    ReadOpportunityPanel => "read opportunity panel", read;
    ListOpportunityPanels => "list opportunity panels", read;
    ReadOpportunityFeedback => "read opportunity feedback", read;
    ListOpportunityFeedback => "list opportunity feedback", read;
    ListOpportunityOffers => "list opportunity offers", read;
    ReadOpportunityReferral => "read opportunity referral", read;
    ListOpportunityReferrals => "list opportunity referrals", read;
    ReadRequisition => "read requisition", read;
    ListRequisitions => "list requisitions", read;
    ReadRequisitionField => "read requisition field", read;
    ListRequisitionFields => "list requisition fields", read;
    CreatePosting => "create posting", write;
    UpdatePosting => "update posting", write;
    ApplyToPosting => "apply to posting", write;
    CreateOpportunity => "create opportunity", write;
    UpdateOpportunityStage => "update opportunity stage", write;
    UpdateOpportunityArchivedState => "update opportunity archived state", write;
    AddOpportunityTags => "add opportunity tags", write;
    RemoveOpportunityTags => "remove opportunity tags", write;
    AddOpportunitySources => "add opportunity sources", write;
    RemoveOpportunitySources => "remove opportunity sources", write;
    AddOpportunityLinks => "add opportunity links", write;
    RemoveOpportunityLinks => "remove opportunity links", write;
    UpdateContact => "update contact", write;
    CreateOpportunityNote => "create opportunity note", write;
    DeleteOpportunityNote => "delete opportunity note", write;
    UploadOpportunityFile => "upload opportunity file", write;
    DeleteOpportunityFile => "delete opportunity file", write;
    CreateUpload => "create upload", write;
    CreateWebhook => "create webhook", write;
    UpdateWebhook => "update webhook", write;
    DeleteWebhook => "delete webhook", write;
    CreateRequisition => "create requisition", write;
    UpdateRequisition => "update requisition", write;
    CreateRequisitionField => "create requisition field", write;
    UpdateRequisitionField => "update requisition field", write;
    CreateUser => "create user", write;
}

impl Permission {
    /// Whether the permission deletes or removes something (Relode's setup asks for every
    /// write permission *except* these).
    pub fn is_delete(self) -> bool {
        let words = self.as_str();
        words.starts_with("delete ") || words.starts_with("remove ")
    }
}

impl fmt::Display for Permission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A permission word Lever does not have.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown Lever permission {0:?}; use Lever's words such as \"read posting\" or \"create opportunity\""
)]
pub struct UnknownPermission(pub String);

impl Serialize for Permission {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Permission {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_round_trip_and_are_unique() {
        let mut seen = std::collections::HashSet::new();
        for p in Permission::ALL {
            assert!(seen.insert(p.as_str()), "duplicate words {}", p);
            assert_eq!(p.as_str().parse::<Permission>().unwrap(), *p);
            let json = serde_json::to_string(p).unwrap();
            assert_eq!(serde_json::from_str::<Permission>(&json).unwrap(), *p);
        }
    }

    #[test]
    fn parsing_is_forgiving_about_case_and_space_but_not_words() {
        assert_eq!(
            " Read Posting ".parse::<Permission>().unwrap(),
            Permission::ReadPosting
        );
        let err = "read everything".parse::<Permission>().unwrap_err();
        assert!(err.to_string().contains("read everything"));
    }

    #[test]
    fn write_and_delete_classification() {
        assert!(!Permission::ListOpportunities.is_write());
        assert!(Permission::CreateOpportunity.is_write());
        assert!(Permission::RemoveOpportunityTags.is_delete());
        assert!(Permission::DeleteOpportunityFile.is_delete());
        assert!(!Permission::AddOpportunityTags.is_delete());
    }
}
