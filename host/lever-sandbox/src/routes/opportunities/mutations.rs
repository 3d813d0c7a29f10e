//! Changes to an existing opportunity: stage, archive state, tags, sources and links. Each
//! answers with the updated opportunity and emits its webhooks after the data lock is released.

use super::{EXPANDABLE, not_found, render, visible};
use crate::db::Db;
use crate::error::ApiError;
use crate::routes::{Ctx, Shape, dedup_strings, ok, parse_json};
use crate::state::Shared;
use crate::webhooks::Event;
use axum::Extension;
use axum::extract::{Path, State};
use axum::response::Response;
use bytes::Bytes;
use lever_model::timestamp::{Millis, now_millis};
use lever_model::{
    ArchiveReasonStatus, ArchiveUpdate, Archived, Expandable, LinksUpdate, Opportunity, Origin,
    SourcesUpdate, StageChange, StageUpdate, TagsUpdate, WebhookEventType,
};
use serde_json::{Value, json};

/// Run a change against a visible opportunity, then answer with the updated opportunity and
/// emit the change's webhooks once the lock is released.
fn mutate(
    s: &Shared,
    ctx: &Ctx,
    id: &str,
    change: impl FnOnce(&mut Db, &mut Vec<Event>, Millis) -> Result<(), ApiError>,
) -> Result<Response, ApiError> {
    let shape = Shape::parse(&ctx.query, EXPANDABLE)?;
    let now = now_millis();
    let mut events = Vec::new();
    let value = {
        let mut db = s.db.lock();
        visible(&db, ctx.write_visibility(), id)?;
        change(&mut db, &mut events, now)?;
        let o = db.opportunity(id).ok_or_else(|| not_found(id))?;
        render(&db, o, &shape)?
    };
    s.emit(events);
    Ok(ok(value))
}

fn ids(o: &Opportunity) -> (String, Option<String>, Option<Origin>) {
    (o.id.clone(), o.contact_id().map(str::to_owned), o.origin)
}

pub async fn update_stage(
    State(s): State<Shared>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let req: StageUpdate = parse_json(&body)?;
    let actor = ctx.actor.clone();
    mutate(&s, &ctx, &id, |db, events, now| {
        let index = db
            .stage_index(&req.stage)
            .ok_or_else(|| ApiError::bad_request(format!("Stage {} does not exist", req.stage)))?;
        let o = db
            .opportunities
            .get_mut(&id)
            .ok_or_else(|| not_found(&id))?;
        let from = o.stage_id().map(str::to_owned);
        if from.as_deref() == Some(req.stage.as_str()) {
            return Ok(());
        }
        o.stage = Some(Expandable::Id(req.stage.clone()));
        o.stage_changes.push(StageChange {
            to_stage_id: req.stage.clone(),
            to_stage_index: Some(index),
            user_id: actor,
            updated_at: now,
        });
        o.last_advanced_at = Some(now);
        o.last_interaction_at = Some(now);
        o.updated_at = Some(now);
        let (oid, cid, origin) = ids(o);
        events.push(Event::new(
            WebhookEventType::CandidateStageChange,
            origin,
            json!({"opportunityId": oid, "candidateId": oid, "contactId": cid,
                   "toStageId": req.stage, "fromStageId": from}),
        ));
        Ok(())
    })
}

pub async fn update_archived(
    State(s): State<Shared>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let v: Value = parse_json(&body)?;
    if v.get("reason").is_none() {
        return Err(ApiError::bad_request(
            "reason is required: an archive reason id to archive, or null to unarchive",
        ));
    }
    let req: ArchiveUpdate = serde_json::from_value(v)
        .map_err(|e| ApiError::bad_request(format!("Invalid JSON body: {e}")))?;
    mutate(&s, &ctx, &id, |db, events, now| {
        let hired = match &req.reason {
            Some(r) => {
                let reason = db.archive_reason(r).ok_or_else(|| {
                    ApiError::bad_request(format!("Archive reason {r} does not exist"))
                })?;
                if reason.status == ArchiveReasonStatus::Inactive {
                    return Err(ApiError::bad_request(format!(
                        "Archive reason {r} is inactive"
                    )));
                }
                db.hired_reason(r)
            }
            None => false,
        };
        let o = db
            .opportunities
            .get_mut(&id)
            .ok_or_else(|| not_found(&id))?;
        let from = o.archived.clone();
        if from.as_ref().and_then(|a| a.reason.as_ref()) == req.reason.as_ref() {
            return Ok(()); // already in the requested state
        }
        let to = req.reason.clone().map(|reason| Archived {
            archived_at: now,
            reason: Some(reason),
        });
        o.archived = to.clone();
        o.updated_at = Some(now);
        o.last_interaction_at = Some(now);
        let (oid, cid, origin) = ids(o);
        if let Some(apps) = db.applications.get_mut(&id) {
            for a in apps {
                a.archived = to.clone();
            }
        }
        events.push(Event::new(
            WebhookEventType::CandidateArchiveChange,
            origin,
            json!({"opportunityId": oid, "candidateId": oid, "contactId": cid,
                   "fromArchived": from, "toArchived": to}),
        ));
        if hired {
            events.push(Event::new(
                WebhookEventType::CandidateHired,
                origin,
                json!({"opportunityId": oid, "candidateId": oid, "contactId": cid}),
            ));
        }
        Ok(())
    })
}

#[derive(Clone, Copy)]
enum ListField {
    Tags,
    Sources,
}

fn edit_list(
    s: &Shared,
    ctx: &Ctx,
    id: &str,
    field: ListField,
    values: Vec<String>,
    add: bool,
) -> Result<Response, ApiError> {
    mutate(s, ctx, id, |db, _, now| {
        let o = db.opportunities.get_mut(id).ok_or_else(|| not_found(id))?;
        let list = match field {
            ListField::Tags => &mut o.tags,
            ListField::Sources => &mut o.sources,
        };
        let before = list.len();
        if add {
            *list = dedup_strings(list.iter().cloned().chain(values));
        } else {
            let remove: Vec<String> = values.iter().map(|v| v.trim().to_owned()).collect();
            list.retain(|t| !remove.contains(t));
        }
        if list.len() != before {
            o.updated_at = Some(now);
        }
        Ok(())
    })
}

pub async fn add_tags(
    State(s): State<Shared>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let req: TagsUpdate = parse_json(&body)?;
    edit_list(&s, &ctx, &id, ListField::Tags, req.tags, true)
}

pub async fn remove_tags(
    State(s): State<Shared>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let req: TagsUpdate = parse_json(&body)?;
    edit_list(&s, &ctx, &id, ListField::Tags, req.tags, false)
}

pub async fn add_sources(
    State(s): State<Shared>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let req: SourcesUpdate = parse_json(&body)?;
    edit_list(&s, &ctx, &id, ListField::Sources, req.sources, true)
}

pub async fn remove_sources(
    State(s): State<Shared>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let req: SourcesUpdate = parse_json(&body)?;
    edit_list(&s, &ctx, &id, ListField::Sources, req.sources, false)
}

/// Links live on the contact: every opportunity of the person changes.
fn edit_links(
    s: &Shared,
    ctx: &Ctx,
    id: &str,
    links: Vec<String>,
    add: bool,
) -> Result<Response, ApiError> {
    mutate(s, ctx, id, |db, events, now| {
        let cid = db
            .opportunity(id)
            .and_then(|o| o.contact_id().map(str::to_owned))
            .ok_or_else(|| not_found(id))?;
        let Some(rec) = db.contacts.get_mut(&cid) else {
            return Err(ApiError::internal(format!(
                "contact {cid} of {id} is missing"
            )));
        };
        let before = rec.links.clone();
        if add {
            rec.links = dedup_strings(rec.links.iter().cloned().chain(links));
        } else {
            let remove: Vec<String> = links.iter().map(|l| l.trim().to_owned()).collect();
            rec.links.retain(|l| !remove.contains(l));
        }
        if rec.links != before {
            db.sync_contact(&cid, Some(now));
            events.push(Event::new(
                WebhookEventType::ContactUpdated,
                None,
                json!({"contactId": cid}),
            ));
        }
        Ok(())
    })
}

pub async fn add_links(
    State(s): State<Shared>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let req: LinksUpdate = parse_json(&body)?;
    edit_links(&s, &ctx, &id, req.links, true)
}

pub async fn remove_links(
    State(s): State<Shared>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let req: LinksUpdate = parse_json(&body)?;
    edit_links(&s, &ctx, &id, req.links, false)
}
