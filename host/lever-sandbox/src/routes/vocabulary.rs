//! Pipeline vocabulary and people: stages, archive reasons, users, tags, sources.

use super::{Ctx, ok, page};
use crate::db::canonical_email;
use crate::error::ApiError;
use crate::pagination::Pager;
use crate::state::Shared;
use axum::Extension;
use axum::extract::{Path, State};
use axum::response::Response;
use lever_model::timestamp::now_millis;
use lever_model::{ACCESS_ROLES, ArchiveReasonType, NewUser, User};

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

/// `POST /users`: `name` and `email` required, `accessRole` one of Lever's built-in roles
/// (default `interviewer`), e-mail unique after canonicalisation. No invitation is sent.
pub async fn create_user(
    State(s): State<Shared>,
    body: bytes::Bytes,
) -> Result<Response, ApiError> {
    let b: NewUser = super::parse_json(&body)?;
    let name = b.name.trim();
    if name.is_empty() {
        return Err(ApiError::bad_request("name is required"));
    }
    let email = b.email.trim();
    if email.is_empty() {
        return Err(ApiError::bad_request("email is required"));
    }
    let Some((local, domain)) = email.split_once('@') else {
        return Err(ApiError::bad_request(format!(
            "email {email:?} is not an e-mail address"
        )));
    };
    if local.is_empty() || !domain.contains('.') || email.contains(char::is_whitespace) {
        return Err(ApiError::bad_request(format!(
            "email {email:?} is not an e-mail address"
        )));
    }
    let role = b
        .access_role
        .as_deref()
        .map(str::trim)
        .unwrap_or("interviewer");
    if !ACCESS_ROLES.contains(&role) {
        return Err(ApiError::bad_request(format!(
            "Invalid accessRole {role:?} (expected one of: {})",
            ACCESS_ROLES.join(", ")
        )));
    }
    let now = now_millis();
    let mut db = s.db.lock();
    let canonical = canonical_email(email);
    if db.users().any(|u| canonical_email(&u.email) == canonical) {
        return Err(ApiError::bad_request(format!(
            "A user with email {email} already exists"
        )));
    }
    if let Some(m) = &b.manager_id
        && db.user(m).is_none()
    {
        return Err(ApiError::bad_request(format!(
            "managerId {m} is not a user"
        )));
    }
    // Usernames are unique; the e-mail's local part, suffixed when taken.
    let base = local.to_ascii_lowercase();
    let mut username = base.clone();
    let mut n = 1;
    while db.users().any(|u| u.username == username) {
        n += 1;
        username = format!("{base}{n}");
    }
    let user = User {
        id: uuid::Uuid::new_v4().to_string(),
        name: name.to_owned(),
        username,
        email: email.to_owned(),
        created_at: now,
        deactivated_at: None,
        access_role: role.to_owned(),
        photo: None,
        external_directory_id: b.external_directory_id.filter(|d| !d.trim().is_empty()),
        linked_contact_ids: None,
        job_title: b.job_title.filter(|t| !t.trim().is_empty()),
        manager_id: b.manager_id,
    };
    db.users.insert(user.id.clone(), user.clone());
    Ok(super::created(user))
}
