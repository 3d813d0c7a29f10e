//! What hiring leaves on an opportunity: interviews and the panels that group them, feedback
//! forms, offers and referral forms. Same conventions as `resources`: camelCase, every field
//! defaulted on the way in, nullable fields emitted as `null`, timestamps lenient, unknown
//! enum values kept as `Unknown` instead of failing a sync.

use crate::resources::{Expandable, HasId, User};
use crate::timestamp::{self, Millis};
use serde::{Deserialize, Serialize};
use serde_json::Value;

string_enum!(
    /// How often Lever reminds interviewers to submit feedback.
    FeedbackReminder {
        Once => "once",
        Daily => "daily",
        Frequently => "frequently",
        // Lever's `"none"`.
        Never => "none",
    }
);

string_enum!(
    /// Where an offer is in its approval and signature flow.
    OfferStatus {
        Draft => "draft",
        ApprovalSent => "approval-sent",
        Approved => "approved",
        Sent => "sent",
        SentManually => "sent-manually",
        Opened => "opened",
        Denied => "denied",
        Signed => "signed",
    }
);

defaults!(FeedbackReminder => Never, OfferStatus => Unknown);

impl OfferStatus {
    /// Whether the candidate has been sent the offer document (by Lever or by hand).
    pub fn is_sent(self) -> bool {
        matches!(
            self,
            Self::Sent | Self::SentManually | Self::Opened | Self::Signed
        )
    }
}

// ---------------------------------------------------------------------------------------------
// Interviews and panels

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct Interviewer {
    pub id: String,
    pub name: String,
    pub email: String,
    pub feedback_template: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct Interview {
    pub id: String,
    /// The panel this interview belongs to.
    pub panel: Option<String>,
    pub subject: String,
    pub note: String,
    pub interviewers: Vec<Interviewer>,
    /// IANA zone name, e.g. "America/Los_Angeles".
    pub timezone: String,
    #[serde(with = "timestamp::required")]
    pub created_at: Millis,
    /// When the interview starts.
    #[serde(with = "timestamp::required")]
    pub date: Millis,
    /// Minutes.
    pub duration: u32,
    pub location: Option<String>,
    pub feedback_template: Option<String>,
    /// Ids of the feedback forms submitted for this interview.
    pub feedback_forms: Vec<String>,
    pub feedback_reminder: FeedbackReminder,
    /// Who scheduled it.
    pub user: Option<String>,
    /// The opportunity's stage when it was scheduled.
    pub stage: Option<String>,
    #[serde(with = "timestamp::optional")]
    pub canceled_at: Option<Millis>,
    pub postings: Vec<String>,
    pub gcal_event_url: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct Panel {
    pub id: String,
    pub applications: Vec<String>,
    #[serde(with = "timestamp::optional")]
    pub canceled_at: Option<Millis>,
    #[serde(with = "timestamp::required")]
    pub created_at: Millis,
    /// Start of the first interview.
    #[serde(with = "timestamp::required")]
    pub start: Millis,
    /// End of the last interview.
    #[serde(with = "timestamp::optional")]
    pub end: Option<Millis>,
    pub timezone: String,
    pub feedback_reminder: FeedbackReminder,
    pub user: Option<String>,
    pub stage: Option<String>,
    pub note: Option<String>,
    /// Only panels created through the API (or a scheduling integration) can be written.
    pub externally_managed: bool,
    pub external_url: Option<String>,
    pub interviews: Vec<Interview>,
}

// ---------------------------------------------------------------------------------------------
// Forms: feedback and referrals share Lever's form shape

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct FieldOption {
    pub text: String,
}

/// One question of a form with its answer. `value` depends on `type` (text, number, option
/// text, list of options, …), so it stays raw JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct FormField {
    #[serde(rename = "type")]
    pub kind: String,
    pub text: String,
    pub description: String,
    pub required: bool,
    pub value: Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub options: Option<Vec<FieldOption>>,
}

/// Lever's field type for a feedback form's overall rating (exactly one per template).
pub const SCORE_FIELD_TYPE: &str = "score-system";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct Feedback {
    pub id: String,
    /// "interview" for interview feedback.
    #[serde(rename = "type")]
    pub kind: String,
    pub text: String,
    pub instructions: Option<String>,
    pub fields: Vec<FormField>,
    pub base_template_id: Option<String>,
    pub interview: Option<String>,
    pub panel: Option<String>,
    /// The author.
    pub user: Option<String>,
    #[serde(with = "timestamp::required")]
    pub created_at: Millis,
    #[serde(with = "timestamp::optional")]
    pub completed_at: Option<Millis>,
    #[serde(with = "timestamp::optional")]
    pub updated_at: Option<Millis>,
    #[serde(with = "timestamp::optional")]
    pub deleted_at: Option<Millis>,
}

impl Feedback {
    /// The answer of the form's `score-system` field, if it has one.
    pub fn score(&self) -> Option<&Value> {
        self.fields
            .iter()
            .find(|f| f.kind == SCORE_FIELD_TYPE)
            .map(|f| &f.value)
            .filter(|v| !v.is_null())
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct Referral {
    pub id: String,
    /// Always "referral".
    #[serde(rename = "type")]
    pub kind: String,
    pub text: String,
    pub instructions: Option<String>,
    pub fields: Vec<FormField>,
    pub base_template_id: Option<String>,
    /// Who filled in the form.
    pub user: Option<String>,
    /// The referring user.
    pub referrer: Option<String>,
    pub stage: Option<String>,
    #[serde(with = "timestamp::required")]
    pub created_at: Millis,
    #[serde(with = "timestamp::optional")]
    pub completed_at: Option<Millis>,
}

// ---------------------------------------------------------------------------------------------
// Offers

/// An offer's attribute, e.g. `{"text": "Salary", "identifier": "salary", "value": 120000}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct OfferField {
    pub text: String,
    pub identifier: String,
    pub value: Value,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct OfferDocument {
    pub file_name: String,
    #[serde(with = "timestamp::optional")]
    pub uploaded_at: Option<Millis>,
    pub download_url: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct Offer {
    pub id: String,
    #[serde(with = "timestamp::required")]
    pub created_at: Millis,
    pub status: OfferStatus,
    /// A user id; the user object under `expand=creator`.
    pub creator: Option<Expandable<User>>,
    pub fields: Vec<OfferField>,
    pub sent_document: Option<OfferDocument>,
    pub signed_document: Option<OfferDocument>,
}

impl Offer {
    /// The value of the field with this identifier (e.g. "salary", "anticipated_start_date").
    pub fn field(&self, identifier: &str) -> Option<&Value> {
        self.fields
            .iter()
            .find(|f| f.identifier == identifier)
            .map(|f| &f.value)
    }
}

has_id!(Interview, Panel, Feedback, Referral, Offer);

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn offer_is_lenient_about_status_timestamps_and_creator() {
        let o: Offer = serde_json::from_value(json!({
            "id": "of1", "createdAt": "1700000000000", "status": "countersigned",
            "creator": {"id": "u1", "name": "Avery"}, "unknownField": true,
            "fields": [{"text": "Salary", "identifier": "salary", "value": 120000}],
            "sentDocument": {"fileName": "offer.pdf", "uploadedAt": "5", "downloadUrl": "x"},
            "signedDocument": null
        }))
        .unwrap();
        assert_eq!(o.created_at, 1_700_000_000_000);
        assert_eq!(o.status, OfferStatus::Unknown);
        assert_eq!(o.creator.as_ref().unwrap().id(), "u1");
        assert_eq!(o.field("salary"), Some(&json!(120000)));
        assert_eq!(o.sent_document.unwrap().uploaded_at, Some(5));
        let v = serde_json::to_value(Offer::default()).unwrap();
        assert!(v["signedDocument"].is_null() && v["creator"].is_null());
        for s in OfferStatus::ALL {
            assert_eq!(OfferStatus::parse(s.as_str()), Some(*s));
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
    }

    #[test]
    fn interview_feedback_and_referral_round_trip() {
        let i: Interview = serde_json::from_value(json!({
            "id": "i1", "panel": "p1", "date": 10, "createdAt": 5, "duration": 45,
            "feedbackReminder": "weekly", "interviewers": [{"id": "u", "name": "N", "email": "e"}]
        }))
        .unwrap();
        assert_eq!(i.feedback_reminder, FeedbackReminder::Unknown);
        assert_eq!(i.interviewers[0].feedback_template, None);
        let v = serde_json::to_value(&i).unwrap();
        assert!(v["canceledAt"].is_null());
        assert_eq!(v["interviewers"][0]["email"], "e");
        assert_eq!(
            serde_json::to_value(FeedbackReminder::Never).unwrap(),
            "none"
        );
        let f: Feedback = serde_json::from_value(json!({
            "id": "f1", "type": "interview", "createdAt": 1,
            "fields": [{"type": "score-system", "text": "Rating", "value": "4 - Strong hire"}]
        }))
        .unwrap();
        assert_eq!(f.score(), Some(&json!("4 - Strong hire")));
        let r: Referral = serde_json::from_value(json!({
            "id": "r1", "type": "referral", "createdAt": "2", "referrer": "u1",
            "fields": [{"type": "text", "text": "Relationship", "required": true, "value": "Colleague"}]
        }))
        .unwrap();
        assert_eq!((r.created_at, r.referrer.as_deref()), (2, Some("u1")));
        assert!(r.fields[0].required);
    }
}
