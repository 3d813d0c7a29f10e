//! Pipeline vocabulary and people: stages, archive reasons, users, tags, sources.

use super::{Ctx, ok, page};
use crate::db::canonical_email;
use crate::error::ApiError;
use crate::pagination::Pager;
use crate::state::Shared;
use axum::Extension;
use axum::extract::{Path, State};
use axum::response::Response;
use lever_model::ArchiveReasonType;

/// Stages page in pipeline order: the sort key is the stage's index.
pub async fn list_stages(
    State(s): State<Shared>,
    Extension(ctx): Extension<Ctx>,
) -> Result<Response, ApiError> {
    let pager = Pager::new(&ctx.query, "/stages", &s.tokens)?;
    let db = s.db.lock();
    Ok(page(
        pager.page(
            db.stages()
                .enumerate()
                .map(|(i, st)| (i as i64, st.id.as_str(), st.clone())),
        ),
    ))
}

pub async fn get_stage(
    State(s): State<Shared>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let db = s.db.lock();
    let st = db
        .stage(&id)
        .ok_or_else(|| ApiError::not_found("stages", &id))?;
    Ok(ok(st))
}

pub async fn list_archive_reasons(
    State(s): State<Shared>,
    Extension(ctx): Extension<Ctx>,
) -> Result<Response, ApiError> {
    let types = ctx
        .query
        .all("type")
        .into_iter()
        .map(|t| {
            ArchiveReasonType::parse(t).ok_or_else(|| {
                ApiError::bad_request(format!(
                    "Invalid value for type: {t:?} (expected hired or non-hired)"
                ))
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let pager = Pager::new(&ctx.query, "/archive_reasons", &s.tokens)?;
    let db = s.db.lock();
    Ok(page(
        pager.page(
            db.archive_reasons()
                .enumerate()
                .filter(|(_, r)| types.is_empty() || types.contains(&r.kind))
                .map(|(i, r)| (i as i64, r.id.as_str(), r.clone())),
        ),
    ))
}

pub async fn get_archive_reason(
    State(s): State<Shared>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let db = s.db.lock();
    let r = db
        .archive_reason(&id)
        .ok_or_else(|| ApiError::not_found("archive_reasons", &id))?;
    Ok(ok(r))
}

/// Active users unless `includeDeactivated=true`; `email` (canonical), `accessRole`
/// (repeatable, also `accessRole[]`) and `external_directory_id` filters.
pub async fn list_users(
    State(s): State<Shared>,
    Extension(ctx): Extension<Ctx>,
) -> Result<Response, ApiError> {
    let q = &ctx.query;
    let include_deactivated = q.bool("includeDeactivated")?.unwrap_or(false);
    let emails: Vec<String> = q.all("email").into_iter().map(canonical_email).collect();
    let roles = q.all("accessRole");
    let dirs = q.all("external_directory_id");
    let pager = Pager::new(q, "/users", &s.tokens)?;
    let db = s.db.lock();
    let mut users: Vec<_> = db
        .users()
        .filter(|u| include_deactivated || u.is_active())
        .filter(|u| emails.is_empty() || emails.contains(&canonical_email(&u.email)))
        .filter(|u| roles.is_empty() || roles.contains(&u.access_role.as_str()))
        .filter(|u| {
            dirs.is_empty()
                || u.external_directory_id
                    .as_deref()
                    .is_some_and(|d| dirs.contains(&d))
        })
        .collect();
    users.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
    Ok(page(
        pager.page(
            users
                .into_iter()
                .map(|u| (u.created_at, u.id.as_str(), u.clone())),
        ),
    ))
}

pub async fn get_user(
    State(s): State<Shared>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let db = s.db.lock();
    let u = db
        .user(&id)
        .ok_or_else(|| ApiError::not_found("users", &id))?;
    Ok(ok(u))
}

/// Tags and sources have no ids; they page alphabetically by text.
pub async fn list_tags(
    State(s): State<Shared>,
    Extension(ctx): Extension<Ctx>,
) -> Result<Response, ApiError> {
    let pager = Pager::new(&ctx.query, "/tags", &s.tokens)?;
    let tags = s.db.lock().tags();
    Ok(page(pager.page(
        tags.iter().map(|t| (0, t.text.as_str(), t.clone())),
    )))
}

pub async fn list_sources(
    State(s): State<Shared>,
    Extension(ctx): Extension<Ctx>,
) -> Result<Response, ApiError> {
    let pager = Pager::new(&ctx.query, "/sources", &s.tokens)?;
    let sources = s.db.lock().sources();
    Ok(page(pager.page(
        sources.iter().map(|t| (0, t.text.as_str(), t.clone())),
    )))
}
