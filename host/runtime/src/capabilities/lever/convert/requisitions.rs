//! Requisitions and requisition fields ↔ Lever.

use lever_client::RequisitionQuery;
use lever_model as lm;
use serde_json::{Map, Value};

use super::{confidentiality, confidentiality_param};
use crate::bindings::PluginError;
use crate::bindings::fulcrum::connector::lever as wit;
use crate::bindings::fulcrum::connector::lever_hiring as hwit;

fn status(s: lm::RequisitionStatus) -> hwit::RequisitionStatus {
    match s {
        lm::RequisitionStatus::OnHold => hwit::RequisitionStatus::OnHold,
        lm::RequisitionStatus::Closed => hwit::RequisitionStatus::Closed,
        lm::RequisitionStatus::Draft => hwit::RequisitionStatus::Draft,
        // Lever's default; a status this host does not know counts as open.
        lm::RequisitionStatus::Open | lm::RequisitionStatus::Unknown => {
            hwit::RequisitionStatus::Open
        }
    }
}

fn status_to_lever(s: hwit::RequisitionStatus) -> lm::RequisitionStatus {
    match s {
        hwit::RequisitionStatus::Open => lm::RequisitionStatus::Open,
        hwit::RequisitionStatus::OnHold => lm::RequisitionStatus::OnHold,
        hwit::RequisitionStatus::Closed => lm::RequisitionStatus::Closed,
        hwit::RequisitionStatus::Draft => lm::RequisitionStatus::Draft,
    }
}

pub(in crate::capabilities::lever) fn requisition(r: &lm::Requisition) -> hwit::Requisition {
    hwit::Requisition {
        id: r.id.clone(),
        code: r.requisition_code.clone(),
        name: r.name.clone(),
        status: status(r.status),
        backfill: r.backfill,
        confidentiality: confidentiality(r.confidentiality),
        headcount_total: (!r.headcount_infinite).then_some(r.headcount_total),
        headcount_hired: r.headcount_hired,
        hiring_manager_id: r.hiring_manager.clone(),
        owner_id: r.owner.clone(),
        creator_id: r.creator.clone(),
        location: r.location.clone(),
        team: r.team.clone(),
        department: r.department.clone(),
        employment_status: r.employment_status.clone(),
        compensation_band: r.compensation_band.as_ref().map(|b| wit::SalaryRange {
            min: b.min.unwrap_or_default(),
            max: b.max.unwrap_or_default(),
            currency: b.currency.clone().unwrap_or_default(),
            interval: b.interval.clone().unwrap_or_default(),
        }),
        internal_notes: r.internal_notes.clone(),
        posting_ids: r.postings.clone(),
        custom_fields: Value::Object(r.custom_fields.clone()).to_string(),
        created_at: r.created_at,
        updated_at: r.updated_at,
    }
}

pub(in crate::capabilities::lever) fn requisition_query(
    f: &hwit::RequisitionFilter,
) -> RequisitionQuery {
    RequisitionQuery {
        requisition_code: f.code.iter().cloned().collect(),
        status: f.status.map(status_to_lever).into_iter().collect(),
        created_at_start: f.created_since,
        created_at_end: f.created_until,
        confidentiality: confidentiality_param(f.confidentiality),
    }
}

/// The body of a create or (full-replace) update.
pub(in crate::capabilities::lever) fn requisition_body(
    r: &hwit::RequisitionInput,
) -> Result<lm::NewRequisition, PluginError> {
    let custom_fields: Map<String, Value> = match r.custom_fields.trim() {
        "" => Map::new(),
        text => match serde_json::from_str(text) {
            Ok(Value::Object(fields)) => fields,
            _ => {
                return Err(PluginError::Invalid(
                    "custom-fields must be a JSON object keyed by requisition field id".into(),
                ));
            }
        },
    };
    Ok(lm::NewRequisition {
        requisition_code: r.code.clone(),
        name: r.name.clone(),
        headcount_total: Some(
            r.headcount_total
                .map_or_else(lm::HeadcountTotal::unlimited, lm::HeadcountTotal::Count),
        ),
        status: r.status.map(status_to_lever),
        backfill: Some(r.backfill),
        hiring_manager: r.hiring_manager_id.clone(),
        owner: r.owner_id.clone(),
        location: r.location.clone(),
        internal_notes: r.internal_notes.clone(),
        team: r.team.clone(),
        department: r.department.clone(),
        compensation_band: r.compensation_band.as_ref().map(|b| lm::CompensationBand {
            currency: Some(b.currency.clone()),
            interval: Some(b.interval.clone()),
            min: Some(b.min),
            max: Some(b.max),
        }),
        employment_status: r.employment_status.clone(),
        custom_fields,
        ..Default::default()
    })
}

pub(in crate::capabilities::lever) fn requisition_field(
    f: &lm::RequisitionField,
) -> hwit::RequisitionField {
    hwit::RequisitionField {
        id: f.id.clone(),
        text: f.text.clone(),
        kind: f.kind.as_str().to_owned(),
        required: f.is_required,
        options: f
            .options
            .iter()
            .map(|o| hwit::RequisitionFieldOption {
                id: o.id.clone(),
                text: o.text.clone(),
            })
            .collect(),
    }
}

pub(in crate::capabilities::lever) fn requisition_field_body(
    f: &hwit::RequisitionFieldInput,
) -> Result<lm::NewRequisitionField, PluginError> {
    let kind = lm::RequisitionFieldType::parse(&f.kind).ok_or_else(|| {
        PluginError::Invalid(format!(
            "requisition field kind must be text, number, date, dropdown or object, not {:?}",
            f.kind
        ))
    })?;
    Ok(lm::NewRequisitionField {
        id: f.id.clone(),
        text: f.text.clone(),
        kind: Some(kind),
        is_required: f.required,
        options: f
            .options
            .iter()
            .map(|o| lm::NewFieldOption {
                id: Some(o.id.clone()).filter(|id| !id.is_empty()),
                text: o.text.clone(),
            })
            .collect(),
        subfields: vec![],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(custom_fields: &str) -> hwit::RequisitionInput {
        hwit::RequisitionInput {
            code: "ENG-1".into(),
            name: "Engineer".into(),
            headcount_total: None,
            status: None,
            backfill: false,
            hiring_manager_id: None,
            owner_id: None,
            location: None,
            team: None,
            department: None,
            employment_status: None,
            compensation_band: None,
            internal_notes: None,
            custom_fields: custom_fields.into(),
        }
    }

    #[test]
    fn requisition_inputs_are_checked_and_headcount_defaults_to_unlimited() {
        let body = requisition_body(&input("")).unwrap();
        assert_eq!(body.headcount_total, Some(lm::HeadcountTotal::unlimited()));
        assert!(body.custom_fields.is_empty());
        let body = requisition_body(&input(r#"{"cost_center": "R&D"}"#)).unwrap();
        assert_eq!(body.custom_fields["cost_center"], "R&D");
        for bad in ["[1]", "nope", "\"x\""] {
            assert!(
                matches!(requisition_body(&input(bad)), Err(PluginError::Invalid(_))),
                "{bad}"
            );
        }
        let unlimited = lm::Requisition {
            headcount_infinite: true,
            headcount_total: 3,
            ..Default::default()
        };
        assert_eq!(requisition(&unlimited).headcount_total, None);
        assert_eq!(requisition(&unlimited).custom_fields, "{}");
    }

    #[test]
    fn field_kinds_are_lever_words() {
        let field = hwit::RequisitionFieldInput {
            id: "cost_center".into(),
            text: "Cost center".into(),
            kind: "dropdown".into(),
            required: true,
            options: vec![hwit::RequisitionFieldOption {
                id: String::new(),
                text: "R&D".into(),
            }],
        };
        let body = requisition_field_body(&field).unwrap();
        assert_eq!(body.kind, Some(lm::RequisitionFieldType::Dropdown));
        assert_eq!(body.options[0].id, None, "Lever derives it");
        let bad = hwit::RequisitionFieldInput {
            kind: "colour".into(),
            ..field
        };
        assert!(matches!(
            requisition_field_body(&bad),
            Err(PluginError::Invalid(_))
        ));
    }
}
