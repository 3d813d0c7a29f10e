//! Lever's deprecated, read-only `/candidates` routes. Lever migrated candidates to
//! opportunities in 2020 and kept these answering with `candidateId == opportunityId`, so
//! each one is the opportunity route of the same name: same handler, same data, same
//! filters, `expand`, paging, confidentiality and errors.
//!
//! What differs from the opportunity routes: nothing in the bodies (a candidate is shown as
//! the opportunity object, `contact` included, as Lever's migrated records are); a 404 names
//! the opportunity; and offset tokens are those of the opportunity route, so a token from
//! `/candidates/:id/notes` is also valid on `/opportunities/:id/notes` and vice versa.

use super::{Ctx, files, hiring, notes, opportunities};
use crate::error::ApiError;
use crate::state::Shared;
use axum::Extension;
use axum::extract::{Path, State};
use axum::response::Response;

type Reply = Result<Response, ApiError>;

pub async fn list(s: State<Shared>, ctx: Extension<Ctx>) -> Reply {
    opportunities::list(s, ctx).await
}

pub async fn get(s: State<Shared>, ctx: Extension<Ctx>, id: Path<String>) -> Reply {
    opportunities::get(s, ctx, id).await
}

pub async fn list_applications(s: State<Shared>, ctx: Extension<Ctx>, id: Path<String>) -> Reply {
    opportunities::list_applications(s, ctx, id).await
}

pub async fn list_notes(s: State<Shared>, ctx: Extension<Ctx>, id: Path<String>) -> Reply {
    notes::list(s, ctx, id).await
}

pub async fn list_files(s: State<Shared>, ctx: Extension<Ctx>, id: Path<String>) -> Reply {
    files::list(s, ctx, id).await
}

pub async fn list_resumes(s: State<Shared>, ctx: Extension<Ctx>, id: Path<String>) -> Reply {
    files::list_resumes(s, ctx, id).await
}

pub async fn list_interviews(s: State<Shared>, ctx: Extension<Ctx>, id: Path<String>) -> Reply {
    hiring::list_interviews(s, ctx, id).await
}

pub async fn list_feedback(s: State<Shared>, ctx: Extension<Ctx>, id: Path<String>) -> Reply {
    hiring::list_feedback(s, ctx, id).await
}

pub async fn list_offers(s: State<Shared>, ctx: Extension<Ctx>, id: Path<String>) -> Reply {
    hiring::list_offers(s, ctx, id).await
}

pub async fn list_referrals(s: State<Shared>, ctx: Extension<Ctx>, id: Path<String>) -> Reply {
    hiring::list_referrals(s, ctx, id).await
}
