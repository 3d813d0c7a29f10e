//! Requisitions (list with Lever's filters, get, create, full-replace update) and the
//! account's custom requisition fields (list, get, create, full-replace update).

use super::{Ctx, Visibility, created, ok, page, parse_json};
use crate::db::Db;
use crate::error::ApiError;
use crate::pagination::Pager;
use crate::state::Shared;
use axum::Extension;
use axum::extract::{Path, State};
use axum::response::Response;
use bytes::Bytes;
use http::StatusCode;
use lever_model::timestamp::now_millis;
use lever_model::{
    Confidentiality, HeadcountTotal, NewFieldOption, NewRequisition, NewRequisitionField,
    Requisition, RequisitionField, RequisitionFieldOption, RequisitionFieldType, RequisitionStatus,
    RequisitionSubfield,
};
use serde_json::{Map, Value};

const STATUSES: &str = "open, onHold, closed or draft";
const FIELD_TYPES: &str = "text, number, date, object or dropdown";

fn conflict(message: String) -> ApiError {
    ApiError::for_status(StatusCode::CONFLICT, message)
}

fn visible<'a>(db: &'a Db, vis: Visibility, id: &str) -> Result<&'a Requisition, ApiError> {
    db.requisitions
        .requisition(id)
        .filter(|r| vis.allows(r.confidentiality))
        .ok_or_else(|| ApiError::not_found("requisitions", id))
}

/// `requisition_code`, `status` (repeatable, OR-ed), `created_at_start/end` and
/// `confidentiality` (same rules as postings); oldest first by `createdAt`.
pub async fn list(
    State(s): State<Shared>,
    Extension(ctx): Extension<Ctx>,
) -> Result<Response, ApiError> {
    let q = &ctx.query;
    let vis = ctx.read_visibility()?;
    let codes = q.all("requisition_code");
    let statuses = q
        .all("status")
        .into_iter()
        .map(|v| {
            RequisitionStatus::parse(v).ok_or_else(|| {
                ApiError::bad_request(format!(
                    "Invalid value for status: {v:?} (expected {STATUSES})"
                ))
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let created_range = q.range("created_at_")?;
    let pager = Pager::new(q, "/requisitions", &s.tokens)?;
    let db = s.db.lock();
    Ok(page(
        pager.page(
            db.requisitions
                .requisitions()
                .filter(|r| vis.allows(r.confidentiality))
                .filter(|r| codes.is_empty() || codes.contains(&r.requisition_code.as_str()))
                .filter(|r| statuses.is_empty() || statuses.contains(&r.status))
                .filter(|r| created_range.contains(Some(r.created_at)))
                .map(|r| (r.created_at, r.id.as_str(), r.clone())),
        ),
    ))
}

pub async fn get(
    State(s): State<Shared>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let vis = ctx.read_visibility()?;
    let db = s.db.lock();
    Ok(ok(visible(&db, vis, &id)?))
}

fn check_user(db: &Db, id: &Option<String>, what: &str) -> Result<(), ApiError> {
    match id {
        Some(id) if !db.user(id).is_some_and(|u| u.is_active()) => Err(ApiError::bad_request(
            format!("{what} {id} is not an active user"),
        )),
        _ => Ok(()),
    }
}

fn custom_value_error(field: &str, expected: &str, v: &Value) -> ApiError {
    ApiError::bad_request(format!("customFields.{field} must be {expected}, got {v}"))
}

/// A value for a field of `kind` with `options` (dropdowns take an option id or its text).
fn check_value(
    path: &str,
    kind: RequisitionFieldType,
    options: &[RequisitionFieldOption],
    v: &Value,
) -> Result<(), ApiError> {
    let ok = match kind {
        RequisitionFieldType::Text => v.is_string(),
        RequisitionFieldType::Number => v.is_number(),
        RequisitionFieldType::Date => v.as_i64().is_some(),
        RequisitionFieldType::Dropdown => v
            .as_str()
            .is_some_and(|s| options.iter().any(|o| o.id == s || o.text == s)),
        RequisitionFieldType::Object | RequisitionFieldType::Unknown => false,
    };
    if ok {
        return Ok(());
    }
    let expected = match kind {
        RequisitionFieldType::Text => "a string".to_owned(),
        RequisitionFieldType::Number => "a number".to_owned(),
        RequisitionFieldType::Date => "a timestamp in milliseconds".to_owned(),
        _ => format!(
            "one of {}",
            options
                .iter()
                .map(|o| o.id.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    Err(custom_value_error(path, &expected, v))
}

/// Every key must name an existing field, values must fit its type, required fields present.
fn check_custom_fields(db: &Db, values: &Map<String, Value>) -> Result<(), ApiError> {
    for (id, v) in values {
        let f = db.requisitions.field(id).ok_or_else(|| {
            ApiError::bad_request(format!("customFields.{id} is not a requisition field"))
        })?;
        if v.is_null() {
            continue;
        }
        if f.kind != RequisitionFieldType::Object {
            check_value(id, f.kind, &f.options, v)?;
            continue;
        }
        let obj = v
            .as_object()
            .ok_or_else(|| custom_value_error(id, "an object", v))?;
        for (sid, sv) in obj {
            let sf = f.subfields.iter().find(|s| &s.id == sid).ok_or_else(|| {
                ApiError::bad_request(format!("customFields.{id}.{sid} is not a subfield of {id}"))
            })?;
            check_value(&format!("{id}.{sid}"), sf.kind, &sf.options, sv)?;
        }
        if let Some(missing) = f
            .subfields
            .iter()
            .find(|s| s.is_required && obj.get(&s.id).is_none_or(Value::is_null))
        {
            return Err(ApiError::bad_request(format!(
                "customFields.{id}.{} is required",
                missing.id
            )));
        }
    }
    if let Some((_, missing)) = db
        .requisitions
        .fields()
        .find(|(_, f)| f.is_required && values.get(&f.id).is_none_or(Value::is_null))
    {
        return Err(ApiError::bad_request(format!(
            "customFields.{} ({}) is required",
            missing.id, missing.text
        )));
    }
    Ok(())
}

/// Validate a create/replace body and write it over `r` (ids, creator, hires, postings,
/// offers and approval are Lever's, not the caller's).
fn apply_body(db: &Db, ctx: &Ctx, r: &mut Requisition, b: NewRequisition) -> Result<(), ApiError> {
    let code = b.requisition_code.trim();
    if code.is_empty() {
        return Err(ApiError::bad_request("requisitionCode is required"));
    }
    if b.name.trim().is_empty() {
        return Err(ApiError::bad_request("name is required"));
    }
    let (total, infinite) = match b.headcount_total {
        None => return Err(ApiError::bad_request("headcountTotal is required")),
        Some(HeadcountTotal::Count(0)) => {
            return Err(ApiError::bad_request("headcountTotal must be at least 1"));
        }
        Some(HeadcountTotal::Count(n)) => (n, false),
        Some(HeadcountTotal::Text(t)) if t == "unlimited" => (0, true),
        Some(HeadcountTotal::Text(t)) => {
            return Err(ApiError::bad_request(format!(
                "headcountTotal must be a positive number or \"unlimited\", got {t:?}"
            )));
        }
    };
    if !infinite && total < r.headcount_hired {
        return Err(ApiError::bad_request(format!(
            "headcountTotal {total} is below the {} already hired",
            r.headcount_hired
        )));
    }
    if b.status == Some(RequisitionStatus::Unknown) {
        return Err(ApiError::bad_request(format!(
            "Invalid status (expected {STATUSES})"
        )));
    }
    let confidentiality = match b.confidentiality {
        Some(Confidentiality::Unknown) => {
            return Err(ApiError::bad_request(
                "Invalid confidentiality (expected confidential or non-confidential)",
            ));
        }
        Some(c) => c,
        None => Confidentiality::NonConfidential,
    };
    if !ctx.write_visibility().allows(confidentiality) {
        return Err(ApiError::forbidden(
            "This API key is not allowed to access confidential data",
        ));
    }
    if let Some(other) = db.requisitions.by_code(code)
        && other.id != r.id
    {
        return Err(conflict(format!(
            "A requisition with requisitionCode {code:?} already exists ({})",
            other.id
        )));
    }
    check_user(db, &b.owner, "owner")?;
    check_user(db, &b.hiring_manager, "hiringManager")?;
    if let Some(band) = &b.compensation_band
        && let (Some(min), Some(max)) = (band.min, band.max)
        && min > max
    {
        return Err(ApiError::bad_request(
            "compensationBand.min must not exceed compensationBand.max",
        ));
    }
    check_custom_fields(db, &b.custom_fields)?;
    r.requisition_code = code.to_owned();
    r.name = b.name.trim().to_owned();
    r.headcount_total = total;
    r.headcount_infinite = infinite;
    r.status = b.status.unwrap_or(RequisitionStatus::Open);
    r.backfill = b.backfill.unwrap_or(false);
    r.confidentiality = confidentiality;
    r.owner = b.owner;
    r.hiring_manager = b.hiring_manager;
    r.location = b.location;
    r.internal_notes = b.internal_notes;
    r.team = b.team;
    r.department = b.department;
    r.compensation_band = b.compensation_band;
    r.employment_status = b.employment_status;
    r.custom_fields = b.custom_fields;
    Ok(())
}

pub async fn create(
    State(s): State<Shared>,
    Extension(ctx): Extension<Ctx>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let b: NewRequisition = parse_json(&body)?;
    let now = now_millis();
    let mut db = s.db.lock();
    let mut r = Requisition {
        id: uuid::Uuid::new_v4().to_string(),
        created_at: now,
        updated_at: Some(now),
        time_to_fill_start_at: Some(now),
        ..Default::default()
    };
    apply_body(&db, &ctx, &mut r, b)?;
    db.requisitions.put(r.clone());
    Ok(created(r))
}

/// `PUT` replaces every caller-owned field; omitted optional fields are cleared.
pub async fn update(
    State(s): State<Shared>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let b: NewRequisition = parse_json(&body)?;
    let now = now_millis();
    let mut db = s.db.lock();
    let mut r = visible(&db, ctx.write_visibility(), &id)?.clone();
    apply_body(&db, &ctx, &mut r, b)?;
    r.updated_at = Some(now);
    r.time_to_fill_end_at = match r.status {
        RequisitionStatus::Closed => r.time_to_fill_end_at.or(Some(now)),
        _ => None,
    };
    db.requisitions.put(r.clone());
    Ok(ok(r))
}

pub async fn list_fields(
    State(s): State<Shared>,
    Extension(ctx): Extension<Ctx>,
) -> Result<Response, ApiError> {
    let pager = Pager::new(&ctx.query, "/requisition_fields", &s.tokens)?;
    let db = s.db.lock();
    Ok(page(
        pager.page(
            db.requisitions
                .fields()
                .map(|(i, f)| (i as i64, f.id.as_str(), f.clone())),
        ),
    ))
}

pub async fn get_field(
    State(s): State<Shared>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let db = s.db.lock();
    let f = db
        .requisitions
        .field(&id)
        .ok_or_else(|| ApiError::not_found("requisition_fields", &id))?;
    Ok(ok(f))
}

/// Lever's field and option ids are snake_case.
fn snake_id(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.is_empty() && !out.ends_with('_') {
            out.push('_');
        }
    }
    out.trim_end_matches('_').to_owned()
}

fn is_snake_id(id: &str) -> bool {
    !id.is_empty()
        && id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

fn check_options(
    path: &str,
    options: Vec<NewFieldOption>,
) -> Result<Vec<RequisitionFieldOption>, ApiError> {
    if options.is_empty() {
        return Err(ApiError::bad_request(format!(
            "{path}: a dropdown needs at least one option"
        )));
    }
    let mut out: Vec<RequisitionFieldOption> = Vec::new();
    for o in options {
        let text = o.text.trim().to_owned();
        if text.is_empty() {
            return Err(ApiError::bad_request(format!(
                "{path}: option text must not be empty"
            )));
        }
        let id = o.id.unwrap_or_else(|| snake_id(&text));
        if !is_snake_id(&id) {
            return Err(ApiError::bad_request(format!(
                "{path}: option id {id:?} must be snake_case"
            )));
        }
        if out.iter().any(|x| x.id == id || x.text == text) {
            return Err(ApiError::bad_request(format!(
                "{path}: option {text:?} ({id}) is listed twice"
            )));
        }
        out.push(RequisitionFieldOption { id, text });
    }
    Ok(out)
}

/// Validate a field body: known type, snake_case id, options only (and always) on
/// dropdowns, subfields only (and always) on objects, no nested objects.
fn build_field(
    id: String,
    b: NewRequisitionField,
    nested: bool,
) -> Result<RequisitionField, ApiError> {
    if !is_snake_id(&id) {
        return Err(ApiError::bad_request(format!(
            "id {id:?} must be a non-empty snake_case string"
        )));
    }
    let text = b.text.trim().to_owned();
    if text.is_empty() {
        return Err(ApiError::bad_request(format!("{id}: text is required")));
    }
    let kind = match b.kind {
        None => return Err(ApiError::bad_request(format!("{id}: type is required"))),
        Some(RequisitionFieldType::Unknown) => {
            return Err(ApiError::bad_request(format!(
                "{id}: invalid type (expected {FIELD_TYPES})"
            )));
        }
        Some(RequisitionFieldType::Object) if nested => {
            return Err(ApiError::bad_request(format!(
                "{id}: subfields cannot be objects"
            )));
        }
        Some(k) => k,
    };
    let options = match kind {
        RequisitionFieldType::Dropdown => check_options(&id, b.options)?,
        _ if !b.options.is_empty() => {
            return Err(ApiError::bad_request(format!(
                "{id}: options are only allowed on dropdown fields"
            )));
        }
        _ => Vec::new(),
    };
    let mut subfields: Vec<RequisitionSubfield> = Vec::new();
    if kind == RequisitionFieldType::Object {
        if b.subfields.is_empty() {
            return Err(ApiError::bad_request(format!(
                "{id}: an object field needs at least one subfield"
            )));
        }
        for sb in b.subfields {
            let sid = if sb.id.is_empty() {
                snake_id(&sb.text)
            } else {
                sb.id.clone()
            };
            let sf = build_field(sid, sb, true)?;
            if subfields.iter().any(|x| x.id == sf.id) {
                return Err(ApiError::bad_request(format!(
                    "{id}: subfield {} is listed twice",
                    sf.id
                )));
            }
            subfields.push(RequisitionSubfield {
                id: sf.id,
                text: sf.text,
                kind: sf.kind,
                is_required: sf.is_required,
                options: sf.options,
            });
        }
    } else if !b.subfields.is_empty() {
        return Err(ApiError::bad_request(format!(
            "{id}: subfields are only allowed on object fields"
        )));
    }
    Ok(RequisitionField {
        id,
        text,
        kind,
        is_required: b.is_required,
        options,
        subfields,
    })
}

pub async fn create_field(State(s): State<Shared>, body: Bytes) -> Result<Response, ApiError> {
    let b: NewRequisitionField = parse_json(&body)?;
    let id = if b.id.is_empty() {
        snake_id(&b.text)
    } else {
        b.id.clone()
    };
    let f = build_field(id, b, false)?;
    let mut db = s.db.lock();
    if db.requisitions.field(&f.id).is_some() {
        return Err(conflict(format!(
            "A requisition field with id {:?} already exists",
            f.id
        )));
    }
    db.requisitions.put_field(f.clone());
    Ok(created(f))
}

/// `PUT` replaces the field; its id comes from the path (a different body id is refused).
pub async fn update_field(
    State(s): State<Shared>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let b: NewRequisitionField = parse_json(&body)?;
    if !b.id.is_empty() && b.id != id {
        return Err(ApiError::bad_request(format!(
            "id {:?} in the body does not match {id:?} in the path",
            b.id
        )));
    }
    let mut db = s.db.lock();
    if db.requisitions.field(&id).is_none() {
        return Err(ApiError::not_found("requisition_fields", &id));
    }
    let f = build_field(id, b, false)?;
    db.requisitions.put_field(f.clone());
    Ok(ok(f))
}
