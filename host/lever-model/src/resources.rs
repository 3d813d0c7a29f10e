//! Lever's objects and request bodies. Response objects derive both `Serialize` (the sandbox
//! emits them) and `Deserialize` (the client reads them); every field is `#[serde(default)]`
//! on the way in so that an omitted optional field never fails a sync, and nullable fields
//! are emitted as `null`, as Lever does.

use crate::timestamp::{self, Millis};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A reference that is an id by default and the whole object under `expand=`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Expandable<T> {
    Id(String),
    Expanded(Box<T>),
}

impl<T: HasId> Expandable<T> {
    pub fn id(&self) -> &str {
        match self {
            Expandable::Id(id) => id,
            Expandable::Expanded(t) => t.id(),
        }
    }
    pub fn expanded(&self) -> Option<&T> {
        match self {
            Expandable::Id(_) => None,
            Expandable::Expanded(t) => Some(t),
        }
    }
}

impl<T> From<String> for Expandable<T> {
    fn from(id: String) -> Self {
        Expandable::Id(id)
    }
}

pub trait HasId {
    fn id(&self) -> &str;
}

string_enum!(
    /// Lifecycle state of a posting.
    PostingState {
        Published => "published",
        Internal => "internal",
        Closed => "closed",
        Draft => "draft",
        Pending => "pending",
        Rejected => "rejected",
    }
);

string_enum!(
    DistributionChannel { Public => "public", Internal => "internal" }
);

string_enum!(
    Confidentiality { NonConfidential => "non-confidential", Confidential => "confidential" }
);

string_enum!(
    WorkplaceType {
        Unspecified => "unspecified",
        OnSite => "onsite",
        Remote => "remote",
        Hybrid => "hybrid",
    }
);

string_enum!(
    /// How an opportunity entered the pipeline.
    Origin {
        Agency => "agency",
        Applied => "applied",
        Internal => "internal",
        Referred => "referred",
        Sourced => "sourced",
        University => "university",
    }
);

string_enum!(
    ArchiveReasonType { Hired => "hired", NonHired => "non-hired" }
);

string_enum!(
    ArchiveReasonStatus { Active => "active", Inactive => "inactive" }
);

string_enum!(
    FileStatus {
        Processing => "processing",
        Processed => "processed",
        Unsupported => "unsupported",
        Error => "error",
    }
);

string_enum!(
    ApplicationType { Posting => "posting", User => "user", Referral => "referral" }
);

defaults!(
    PostingState => Draft,
    DistributionChannel => Unknown,
    Confidentiality => NonConfidential,
    WorkplaceType => Unspecified,
    Origin => Unknown,
    ArchiveReasonType => Unknown,
    ArchiveReasonStatus => Active,
    FileStatus => Unknown,
    ApplicationType => Unknown
);

// ---------------------------------------------------------------------------------------------
// Postings

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct Posting {
    pub id: String,
    pub text: String,
    #[serde(with = "timestamp::required")]
    pub created_at: Millis,
    #[serde(with = "timestamp::optional")]
    pub updated_at: Option<Millis>,
    pub user: Option<Expandable<User>>,
    pub owner: Option<Expandable<User>>,
    pub hiring_manager: Option<Expandable<User>>,
    pub confidentiality: Confidentiality,
    pub state: PostingState,
    pub distribution_channels: Option<Vec<DistributionChannel>>,
    pub categories: PostingCategories,
    pub tags: Vec<String>,
    pub content: PostingContent,
    pub country: Option<String>,
    pub followers: Vec<Expandable<User>>,
    pub req_code: Option<String>,
    pub requisition_codes: Vec<String>,
    pub salary_description: Option<String>,
    pub salary_description_html: Option<String>,
    pub salary_range: Option<SalaryRange>,
    pub urls: Option<PostingUrls>,
    pub workplace_type: WorkplaceType,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct PostingCategories {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub team: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub department: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commitment: Option<String>,
    pub level: Option<String>,
    pub all_locations: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct PostingContent {
    pub description: String,
    pub description_html: String,
    pub lists: Vec<PostingList>,
    pub closing: String,
    pub closing_html: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct PostingList {
    pub text: String,
    pub content: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct SalaryRange {
    pub min: f64,
    pub max: f64,
    pub currency: String,
    pub interval: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct PostingUrls {
    pub list: String,
    pub show: String,
    pub apply: String,
}

/// Body of `POST /postings` and (partially) `POST /postings/:posting`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct PostingWrite {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<PostingState>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub distribution_channels: Option<Vec<DistributionChannel>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hiring_manager: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub categories: Option<PostingCategories>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content: Option<PostingContentWrite>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub workplace_type: Option<WorkplaceType>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requisition_codes: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub salary_description_html: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub salary_range: Option<SalaryRange>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct PostingContentWrite {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description_html: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lists: Option<Vec<PostingList>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub closing_html: Option<String>,
}

// ---------------------------------------------------------------------------------------------
// Opportunities and contacts

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct Phone {
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub value: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct Archived {
    #[serde(with = "timestamp::required")]
    pub archived_at: Millis,
    /// Archive-reason id.
    pub reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct StageChange {
    pub to_stage_id: String,
    pub to_stage_index: Option<i64>,
    pub user_id: Option<String>,
    #[serde(with = "timestamp::required")]
    pub updated_at: Millis,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct OpportunityUrls {
    pub list: String,
    pub show: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct Opportunity {
    pub id: String,
    pub name: Option<String>,
    pub headline: Option<String>,
    /// The person (contact) id; several opportunities share one contact.
    pub contact: Option<Expandable<Contact>>,
    pub emails: Vec<String>,
    pub phones: Vec<Phone>,
    pub confidentiality: Confidentiality,
    pub location: Option<String>,
    pub links: Vec<String>,
    #[serde(with = "timestamp::required")]
    pub created_at: Millis,
    #[serde(with = "timestamp::optional")]
    pub updated_at: Option<Millis>,
    #[serde(with = "timestamp::optional")]
    pub last_interaction_at: Option<Millis>,
    #[serde(with = "timestamp::optional")]
    pub last_advanced_at: Option<Millis>,
    #[serde(with = "timestamp::optional")]
    pub snoozed_until: Option<Millis>,
    pub archived: Option<Archived>,
    /// Legacy top-level pair some Lever responses still carry; see [`Opportunity::archive_state`].
    #[serde(
        with = "timestamp::optional",
        skip_serializing_if = "Option::is_none",
        rename = "archivedAt"
    )]
    pub legacy_archived_at: Option<Millis>,
    #[serde(skip_serializing_if = "Option::is_none", rename = "archiveReason")]
    pub legacy_archive_reason: Option<String>,
    pub stage: Option<Expandable<Stage>>,
    pub stage_changes: Vec<StageChange>,
    pub owner: Option<Expandable<User>>,
    pub followers: Vec<Expandable<User>>,
    pub tags: Vec<String>,
    pub sources: Vec<String>,
    pub origin: Option<Origin>,
    pub sourced_by: Option<Expandable<User>>,
    pub applications: Vec<Expandable<Application>>,
    pub urls: OpportunityUrls,
    pub data_protection: Option<Value>,
    pub is_anonymized: bool,
    pub opportunity_location: Option<String>,
}

impl Opportunity {
    /// Archive state from either the current `archived` object or the legacy top-level pair.
    pub fn archive_state(&self) -> Option<Archived> {
        if let Some(a) = &self.archived {
            return Some(a.clone());
        }
        self.legacy_archived_at.map(|at| Archived {
            archived_at: at,
            reason: self.legacy_archive_reason.clone(),
        })
    }

    pub fn is_archived(&self) -> bool {
        self.archive_state().is_some()
    }

    pub fn stage_id(&self) -> Option<&str> {
        self.stage.as_ref().map(Expandable::id)
    }

    pub fn contact_id(&self) -> Option<&str> {
        self.contact.as_ref().map(Expandable::id)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct ContactLocation {
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct Contact {
    pub id: String,
    pub name: Option<String>,
    pub headline: Option<String>,
    pub is_anonymized: bool,
    pub location: Option<ContactLocation>,
    pub emails: Vec<String>,
    pub phones: Vec<Phone>,
}

/// Body of `PUT /contacts/:contact`; `location` is a string here, an object in responses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct ContactUpdate {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub headline: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub emails: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phones: Option<Vec<Phone>>,
}

/// Body of `POST /opportunities` (JSON, or the text fields of the multipart form).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct NewOpportunity {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub headline: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stage: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub phones: Vec<Phone>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub emails: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub sources: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub origin: Option<Origin>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub followers: Vec<String>,
    /// At most one posting id; Lever rejects more.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub postings: Vec<String>,
    #[serde(with = "timestamp::optional", skip_serializing_if = "Option::is_none")]
    pub created_at: Option<Millis>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub archived: Option<NewArchived>,
    /// Attach to this existing contact instead of matching by e-mail.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contact: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub opportunity_location: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct NewArchived {
    pub reason: String,
    #[serde(with = "timestamp::optional", skip_serializing_if = "Option::is_none")]
    pub archived_at: Option<Millis>,
}

/// Body of `PUT /opportunities/:id/stage`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StageUpdate {
    pub stage: String,
}

/// Body of `PUT /opportunities/:id/archived`; `reason: null` unarchives.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct ArchiveUpdate {
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub clean_interviews: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requisition_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct TagsUpdate {
    pub tags: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct SourcesUpdate {
    pub sources: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct LinksUpdate {
    pub links: Vec<String>,
}

// ---------------------------------------------------------------------------------------------
// Pipeline vocabulary

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct Stage {
    pub id: String,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct ArchiveReason {
    pub id: String,
    pub text: String,
    pub status: ArchiveReasonStatus,
    #[serde(rename = "type")]
    pub kind: ArchiveReasonType,
}

/// An entry of `GET /tags` or `GET /sources`: free strings with usage counts, no ids.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct TextCount {
    pub text: String,
    pub count: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct User {
    pub id: String,
    pub name: String,
    pub username: String,
    pub email: String,
    #[serde(with = "timestamp::required")]
    pub created_at: Millis,
    #[serde(with = "timestamp::optional")]
    pub deactivated_at: Option<Millis>,
    /// "super admin", "admin", "team member", "limited team member", "interviewer" or a custom role id.
    pub access_role: String,
    pub photo: Option<String>,
    pub external_directory_id: Option<String>,
    pub linked_contact_ids: Option<Vec<String>>,
    pub job_title: Option<String>,
    pub manager_id: Option<String>,
}

impl User {
    pub fn is_active(&self) -> bool {
        self.deactivated_at.is_none()
    }
}

// ---------------------------------------------------------------------------------------------
// Notes

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct Note {
    pub id: String,
    pub text: String,
    pub fields: Vec<NoteField>,
    pub user: Option<Expandable<User>>,
    pub secret: bool,
    #[serde(with = "timestamp::required")]
    pub created_at: Millis,
    #[serde(with = "timestamp::optional")]
    pub completed_at: Option<Millis>,
    #[serde(with = "timestamp::optional")]
    pub deleted_at: Option<Millis>,
}

impl Note {
    /// The note's text (the value of its first field).
    pub fn value(&self) -> &str {
        self.fields.first().map(|f| f.value.as_str()).unwrap_or("")
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct NoteField {
    #[serde(rename = "type")]
    pub kind: String,
    pub text: String,
    pub value: String,
    #[serde(with = "timestamp::required")]
    pub created_at: Millis,
    pub user: Option<String>,
    pub score: Option<u8>,
    pub stage: Option<String>,
}

/// Body of `POST /opportunities/:id/notes`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct NewNote {
    pub value: String,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub secret: bool,
    /// 1 (strong no) … 4 (strong yes).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub score: Option<u8>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub notify_followers: bool,
    #[serde(with = "timestamp::optional", skip_serializing_if = "Option::is_none")]
    pub created_at: Option<Millis>,
}

/// Response of `POST /opportunities/:id/notes`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct CreatedNote {
    pub note_id: String,
}

// ---------------------------------------------------------------------------------------------
// Files, resumes, uploads, applications

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct LeverFile {
    pub id: String,
    pub download_url: String,
    /// With a leading dot: ".pdf".
    pub ext: String,
    pub name: String,
    #[serde(with = "timestamp::optional")]
    pub uploaded_at: Option<Millis>,
    pub status: Option<FileStatus>,
    #[serde(deserialize_with = "lenient_u64")]
    pub size: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct Resume {
    pub id: String,
    #[serde(with = "timestamp::required")]
    pub created_at: Millis,
    /// Absent for profile-sourced resumes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<ResumeFile>,
    pub parsed_data: ParsedResume,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct ResumeFile {
    pub name: String,
    /// Without a dot: "pdf".
    pub ext: String,
    pub download_url: String,
    #[serde(with = "timestamp::optional")]
    pub uploaded_at: Option<Millis>,
    pub status: Option<FileStatus>,
    #[serde(deserialize_with = "lenient_u64")]
    pub size: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct ParsedResume {
    pub positions: Vec<ResumeEntry>,
    pub schools: Vec<ResumeEntry>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct ResumeEntry {
    pub org: Option<String>,
    pub title: Option<String>,
    pub degree: Option<String>,
    pub field: Option<String>,
    pub summary: Option<String>,
    pub location: Option<String>,
    pub start: Option<YearMonth>,
    pub end: Option<YearMonth>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct YearMonth {
    pub year: Option<i32>,
    pub month: Option<u8>,
}

/// Response of `POST /uploads`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct Upload {
    #[serde(with = "timestamp::required")]
    pub expires_at: Millis,
    pub filename: String,
    pub id: String,
    pub uri: String,
    #[serde(deserialize_with = "lenient_u64")]
    pub size: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct Application {
    pub id: String,
    pub opportunity_id: String,
    /// Deprecated alias of `opportunity_id`.
    pub candidate_id: String,
    #[serde(with = "timestamp::required")]
    pub created_at: Millis,
    #[serde(rename = "type")]
    pub kind: ApplicationType,
    pub posting: Option<String>,
    pub posting_owner: Option<String>,
    pub posting_hiring_manager: Option<String>,
    pub user: Option<String>,
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<Phone>,
    pub company: Option<String>,
    pub links: Vec<String>,
    pub comments: Option<String>,
    pub custom_questions: Vec<Value>,
    pub archived: Option<Archived>,
    pub requisition_for_hire: Option<Value>,
}

/// Body of `POST /postings/:posting/apply` (the fields Fulcrum uses).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct ApplyRequest {
    pub personal_information: Vec<NameValue>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub urls: Vec<NameValue>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub origin: Option<Origin>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct NameValue {
    pub name: String,
    pub value: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct CreatedApplication {
    pub application_id: String,
}

// ---------------------------------------------------------------------------------------------
// Webhook subscriptions

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct Webhook {
    pub id: String,
    pub event: String,
    pub url: String,
    pub configuration: WebhookConfiguration,
    #[serde(with = "timestamp::required")]
    pub created_at: Millis,
    #[serde(with = "timestamp::optional")]
    pub updated_at: Option<Millis>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct WebhookConfiguration {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signature_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conditions: Option<WebhookConditions>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct WebhookConditions {
    pub origins: Vec<Origin>,
}

/// Body of `POST /webhooks`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct NewWebhook {
    pub url: String,
    pub event: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub configuration: Option<WebhookConfiguration>,
}

has_id!(
    User,
    Stage,
    Contact,
    Application,
    Opportunity,
    Posting,
    ArchiveReason,
    Note,
    LeverFile,
    Resume,
    Webhook
);

/// File sizes are printed as strings in some of Lever's examples; accept both.
fn lenient_u64<'de, D: serde::Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum NumberOrString {
        Number(u64),
        String(String),
        Null(()),
    }
    match NumberOrString::deserialize(d)? {
        NumberOrString::Number(n) => Ok(n),
        NumberOrString::String(s) => s
            .trim()
            .parse()
            .map_err(|_| serde::de::Error::custom(format!("size {s:?} is not a number of bytes"))),
        NumberOrString::Null(()) => Ok(0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opportunity_accepts_legacy_archive_fields_and_expanded_refs() {
        let o: Opportunity = serde_json::from_value(serde_json::json!({
            "id": "o1", "createdAt": "1700000000000", "archivedAt": 1700000000500i64,
            "archiveReason": "r1", "stage": {"id": "offer", "text": "Offer"},
            "owner": "u1", "origin": "brand-new-origin", "unknownField": 1
        }))
        .unwrap();
        let a = o.archive_state().unwrap();
        assert_eq!(
            (a.archived_at, a.reason.as_deref()),
            (1700000000500, Some("r1"))
        );
        assert_eq!(o.stage_id(), Some("offer"));
        assert_eq!(o.stage.as_ref().unwrap().expanded().unwrap().text, "Offer");
        assert_eq!(o.owner.as_ref().unwrap().id(), "u1");
        assert_eq!(o.origin, Some(Origin::Unknown));
    }

    #[test]
    fn file_size_may_be_a_string() {
        let f: LeverFile =
            serde_json::from_str(r#"{"id":"f","size":"1024","uploadedAt":"5"}"#).unwrap();
        assert_eq!((f.size, f.uploaded_at), (1024, Some(5)));
    }

    #[test]
    fn nullable_fields_serialise_as_null() {
        let v = serde_json::to_value(Opportunity {
            id: "o".into(),
            ..Default::default()
        })
        .unwrap();
        assert!(v["archived"].is_null());
        assert!(v["headline"].is_null());
        assert!(
            v.get("archivedAt").is_none(),
            "legacy fields are not emitted"
        );
        assert_eq!(v["confidentiality"], "non-confidential");
        assert_eq!(serde_json::to_value(Origin::Unknown).unwrap(), "unknown");
    }
}
