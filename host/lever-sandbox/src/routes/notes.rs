//! Opportunity notes: list, get, create (threaded with `note_id`), delete.

use super::opportunities::visible;
use super::{Ctx, created, no_content, ok, page, parse_json};
use crate::error::ApiError;
use crate::pagination::Pager;
use crate::seed::make_note;
use crate::state::Shared;
use axum::Extension;
use axum::extract::{Path, State};
use axum::response::Response;
use bytes::Bytes;
use lever_model::timestamp::now_millis;
use lever_model::{CreatedNote, NewNote, Note, NoteField};

pub async fn list(
    State(s): State<Shared>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let vis = ctx.read_visibility()?;
    let pager = Pager::new(&ctx.query, &format!("/opportunities/{id}/notes"), &s.tokens)?;
    let db = s.db.lock();
    visible(&db, vis, &id)?;
    let mut notes: Vec<&Note> = db.notes(&id).iter().collect();
    notes.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
    Ok(page(
        pager.page(
            notes
                .into_iter()
                .map(|n| (n.created_at, n.id.as_str(), n.clone())),
        ),
    ))
}

pub async fn get(
    State(s): State<Shared>,
    Extension(ctx): Extension<Ctx>,
    Path((id, note)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let vis = ctx.read_visibility()?;
    let db = s.db.lock();
    visible(&db, vis, &id)?;
    let n = db
        .notes(&id)
        .iter()
        .find(|n| n.id == note)
        .ok_or_else(|| ApiError::not_found("notes", &note))?;
    Ok(ok(n))
}

/// `value` is required, `score` is 1..=4 or absent, `createdAt` may only backdate;
/// `?note_id=` appends a comment to an existing thread.
pub async fn create(
    State(s): State<Shared>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let n: NewNote = parse_json(&body)?;
    if n.value.trim().is_empty() {
        return Err(ApiError::bad_request(
            "value is required and must not be empty",
        ));
    }
    if let Some(score) = n.score
        && !(1..=4).contains(&score)
    {
        return Err(ApiError::bad_request(format!(
            "score must be 1 (strong no) to 4 (strong yes), got {score}"
        )));
    }
    let now = now_millis();
    if n.created_at.is_some_and(|t| t > now) {
        return Err(ApiError::bad_request("createdAt cannot be in the future"));
    }
    let at = n.created_at.unwrap_or(now);
    let thread = ctx.query.one("note_id").map(str::to_owned);
    let mut db = s.db.lock();
    let stage = visible(&db, ctx.write_visibility(), &id)?
        .stage_id()
        .map(str::to_owned);
    let note_id = match thread {
        Some(tid) => {
            let notes = db.notes.entry(id.clone()).or_default();
            let note = notes
                .iter_mut()
                .find(|x| x.id == tid)
                .ok_or_else(|| ApiError::bad_request(format!("Note {tid} does not exist")))?;
            note.fields.push(NoteField {
                kind: "note".into(),
                text: "Comment".into(),
                value: n.value,
                created_at: at,
                user: ctx.actor.clone(),
                score: n.score,
                stage,
            });
            tid
        }
        None => {
            let nid = uuid::Uuid::new_v4().to_string();
            let note = make_note(
                nid.clone(),
                n.value,
                ctx.actor.clone(),
                n.score,
                n.secret,
                at,
                stage,
            );
            db.notes.entry(id.clone()).or_default().push(note);
            nid
        }
    };
    if let Some(o) = db.opportunities.get_mut(&id) {
        o.updated_at = Some(now);
        o.last_interaction_at = Some(now);
    }
    Ok(created(CreatedNote { note_id }))
}

pub async fn delete(
    State(s): State<Shared>,
    Extension(ctx): Extension<Ctx>,
    Path((id, note)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let now = now_millis();
    let mut db = s.db.lock();
    visible(&db, ctx.write_visibility(), &id)?;
    let notes = db.notes.entry(id.clone()).or_default();
    let before = notes.len();
    notes.retain(|n| n.id != note);
    if notes.len() == before {
        return Err(ApiError::not_found("notes", &note));
    }
    if let Some(o) = db.opportunities.get_mut(&id) {
        o.updated_at = Some(now);
    }
    Ok(no_content())
}
