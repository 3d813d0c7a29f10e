//! Requisitions (`/requisitions`), their account-defined custom fields
//! (`/requisition_fields`) and the body of `POST /users`.
//!
//! Same conventions as [`crate::resources`]: camelCase, every field defaulted on the way in,
//! nullable fields emitted as `null`, unknown fields and enum values tolerated.

use crate::resources::{Confidentiality, HasId};
use crate::timestamp::{self, Millis};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

string_enum!(
    /// Lifecycle of a requisition.
    RequisitionStatus {
        Open => "open",
        OnHold => "onHold",
        Closed => "closed",
        Draft => "draft",
    }
);

string_enum!(
    /// Value type of a custom requisition field.
    RequisitionFieldType {
        Text => "text",
        Number => "number",
        Date => "date",
        Object => "object",
        Dropdown => "dropdown",
    }
);

defaults!(RequisitionStatus => Open, RequisitionFieldType => Text);

/// `{currency, interval, min, max}`; Lever's intervals look like `per-year-salary`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct CompensationBand {
    pub currency: Option<String>,
    pub interval: Option<String>,
    pub min: Option<f64>,
    pub max: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct Requisition {
    pub id: String,
    pub requisition_code: String,
    pub name: String,
    pub backfill: bool,
    pub confidentiality: Confidentiality,
    #[serde(with = "timestamp::required")]
    pub created_at: Millis,
    #[serde(with = "timestamp::optional")]
    pub updated_at: Option<Millis>,
    /// User id of whoever created it (null for imported requisitions).
    pub creator: Option<String>,
    pub headcount_hired: u32,
    /// When true, `headcountTotal` is meaningless and the requisition never fills.
    pub headcount_infinite: bool,
    pub headcount_total: u32,
    pub hiring_manager: Option<String>,
    pub owner: Option<String>,
    pub location: Option<String>,
    pub internal_notes: Option<String>,
    /// Ids of the postings this requisition is attached to.
    pub postings: Vec<String>,
    pub status: RequisitionStatus,
    pub team: Option<String>,
    pub department: Option<String>,
    pub offer_ids: Vec<String>,
    /// Approval workflow state; its shape is account-specific, so it stays raw JSON.
    pub approval: Option<Value>,
    pub compensation_band: Option<CompensationBand>,
    /// e.g. `full-time`, `part-time`, `intern`.
    pub employment_status: Option<String>,
    /// Values by requisition-field id.
    pub custom_fields: Map<String, Value>,
    #[serde(with = "timestamp::optional")]
    pub time_to_fill_start_at: Option<Millis>,
    #[serde(with = "timestamp::optional")]
    pub time_to_fill_end_at: Option<Millis>,
}

/// Body of `POST /requisitions` and of `PUT /requisitions/:requisition` (a full replace:
/// omitted optional fields are cleared). `requisitionCode`, `name` and `headcountTotal` are
/// required by Lever.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct NewRequisition {
    pub requisition_code: String,
    pub name: String,
    /// A number, or `"unlimited"` for an evergreen requisition.
    pub headcount_total: Option<HeadcountTotal>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<RequisitionStatus>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backfill: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub confidentiality: Option<Confidentiality>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hiring_manager: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub internal_notes: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub team: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub department: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub compensation_band: Option<CompensationBand>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub employment_status: Option<String>,
    #[serde(skip_serializing_if = "Map::is_empty")]
    pub custom_fields: Map<String, Value>,
}

/// `PUT` replaces the whole requisition, so its body is the create body.
pub type RequisitionUpdate = NewRequisition;

/// `headcountTotal` in a request: a count, or the string `"unlimited"`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum HeadcountTotal {
    Count(u32),
    Text(String),
}

impl HeadcountTotal {
    pub fn unlimited() -> Self {
        HeadcountTotal::Text("unlimited".into())
    }
}

/// One choice of a `dropdown` field (or of a dropdown subfield).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct RequisitionFieldOption {
    pub id: String,
    pub text: String,
}

/// A member of an `object` field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct RequisitionSubfield {
    pub id: String,
    pub text: String,
    #[serde(rename = "type")]
    pub kind: RequisitionFieldType,
    pub is_required: bool,
    pub options: Vec<RequisitionFieldOption>,
}

/// An account-defined requisition field; ids are snake_case strings (`cost_center`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct RequisitionField {
    pub id: String,
    pub text: String,
    #[serde(rename = "type")]
    pub kind: RequisitionFieldType,
    pub is_required: bool,
    /// Choices of a `dropdown` field; empty otherwise.
    pub options: Vec<RequisitionFieldOption>,
    /// Members of an `object` field; empty otherwise.
    pub subfields: Vec<RequisitionSubfield>,
}

/// Body of `POST /requisition_fields` and `PUT /requisition_fields/:id` (full replace).
/// Option ids may be omitted; Lever derives them from the text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct NewRequisitionField {
    pub id: String,
    pub text: String,
    #[serde(rename = "type")]
    pub kind: Option<RequisitionFieldType>,
    pub is_required: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<NewFieldOption>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub subfields: Vec<NewRequisitionField>,
}

/// `PUT /requisition_fields/:id` replaces the field, so its body is the create body.
pub type RequisitionFieldUpdate = NewRequisitionField;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct NewFieldOption {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    pub text: String,
}

/// Body of `POST /users`: `name` and `email` are required; `accessRole` defaults to
/// `interviewer`. Lever sends no invitation for users created this way.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct NewUser {
    pub name: String,
    pub email: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_role: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_directory_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub job_title: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub manager_id: Option<String>,
}

/// The built-in access roles (accounts may also use custom-role ids).
pub const ACCESS_ROLES: &[&str] = &[
    "super admin",
    "admin",
    "team member",
    "limited team member",
    "interviewer",
];

impl HasId for Requisition {
    fn id(&self) -> &str {
        &self.id
    }
}

impl HasId for RequisitionField {
    fn id(&self) -> &str {
        &self.id
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requisition_reads_leniently_and_writes_camel_case() {
        let r: Requisition = serde_json::from_str(
            r#"{"id":"r1","requisitionCode":"ENG-1","name":"Engineer","createdAt":"1700000000000",
                "status":"onHold","customFields":{"cost_center":"cc-1"},"surprise":1}"#,
        )
        .unwrap();
        assert_eq!(r.status, RequisitionStatus::OnHold);
        assert_eq!(r.created_at, 1_700_000_000_000);
        assert_eq!(r.custom_fields["cost_center"], "cc-1");
        let v = serde_json::to_value(&r).unwrap();
        for k in [
            "requisitionCode",
            "headcountTotal",
            "timeToFillStartAt",
            "offerIds",
        ] {
            assert!(v.get(k).is_some(), "{k}");
        }
        let odd: Requisition = serde_json::from_str(r#"{"status":"frozen"}"#).unwrap();
        assert_eq!(odd.status, RequisitionStatus::Unknown);
    }

    #[test]
    fn headcount_is_a_number_or_unlimited() {
        let n: NewRequisition =
            serde_json::from_str(r#"{"requisitionCode":"A","name":"B","headcountTotal":3}"#)
                .unwrap();
        assert_eq!(n.headcount_total, Some(HeadcountTotal::Count(3)));
        let u: NewRequisition = serde_json::from_str(r#"{"headcountTotal":"unlimited"}"#).unwrap();
        assert_eq!(u.headcount_total, Some(HeadcountTotal::unlimited()));
    }

    #[test]
    fn enums_parse_and_print() {
        for s in RequisitionStatus::ALL {
            assert_eq!(RequisitionStatus::parse(s.as_str()), Some(*s));
        }
        assert_eq!(
            RequisitionFieldType::parse("dropdown"),
            Some(RequisitionFieldType::Dropdown)
        );
        assert_eq!(RequisitionFieldType::parse("Dropdown"), None);
    }
}
