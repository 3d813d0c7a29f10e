//! Opportunities. Reads (list with filters, get, deleted) and the applications sub-resource
//! live here; creating one (JSON or multipart, with e-mail dedupe onto existing contacts) in
//! `create` with its multipart form in `form`; stage and archive changes and tag/source/link
//! edits in `mutations`.

mod create;
mod filter;
mod form;
mod mutations;

pub use create::create;
pub(crate) use create::{NewOpp, create_opportunity, new_file};
pub(crate) use form::body_bytes;
pub use mutations::{
    add_links, add_sources, add_tags, remove_links, remove_sources, remove_tags, update_archived,
    update_stage,
};

use super::{Ctx, Shape, Visibility, ok, ordered, page};
use crate::db::Db;
use crate::error::ApiError;
use crate::pagination::Pager;
use crate::state::Shared;
use axum::Extension;
use axum::extract::{Path, State};
use axum::response::Response;
use filter::Filter;
use lever_model::{Application, Expandable, Opportunity, Page};
use serde_json::{Value, json};

pub const EXPANDABLE: &[&str] = &[
    "applications",
    "stage",
    "owner",
    "followers",
    "sourcedBy",
    "contact",
];

/// An opportunity as the API shows it, with `expand=` applied.
pub(crate) fn render(db: &Db, o: &Opportunity, shape: &Shape) -> Result<Value, ApiError> {
    if shape.expand.is_empty() {
        return shape.apply(o);
    }
    let mut o = o.clone();
    let user = |u: &Expandable<lever_model::User>| match db.user(u.id()) {
        Some(user) => Expandable::Expanded(Box::new(user.clone())),
        None => u.clone(),
    };
    if shape.expands("stage")
        && let Some(st) = o.stage.as_ref().and_then(|s| db.stage(s.id()))
    {
        o.stage = Some(Expandable::Expanded(Box::new(st.clone())));
    }
    if shape.expands("owner") {
        o.owner = o.owner.as_ref().map(user);
    }
    if shape.expands("sourcedBy") {
        o.sourced_by = o.sourced_by.as_ref().map(user);
    }
    if shape.expands("followers") {
        o.followers = o.followers.iter().map(user).collect();
    }
    if shape.expands("contact")
        && let Some(c) = o.contact.as_ref().and_then(|c| db.contact(c.id()))
    {
        o.contact = Some(Expandable::Expanded(Box::new(c.clone())));
    }
    if shape.expands("applications") {
        o.applications = db
            .applications(&o.id)
            .iter()
            .map(|a| Expandable::Expanded(Box::new(a.clone())))
            .collect();
    }
    shape.apply(&o)
}

fn not_found(id: &str) -> ApiError {
    ApiError::not_found("opportunities", id)
}

/// The opportunity if it exists and this request may see it.
pub(crate) fn visible<'a>(
    db: &'a Db,
    vis: Visibility,
    id: &str,
) -> Result<&'a Opportunity, ApiError> {
    db.opportunity(id)
        .filter(|o| vis.allows(o.confidentiality))
        .ok_or_else(|| not_found(id))
}

pub async fn list(
    State(s): State<Shared>,
    Extension(ctx): Extension<Ctx>,
) -> Result<Response, ApiError> {
    let q = &ctx.query;
    let vis = ctx.read_visibility()?;
    let shape = Shape::parse(q, EXPANDABLE)?;
    let filter = Filter::parse(q)?;
    let pager = Pager::new(q, "/opportunities", &s.tokens)?;
    let db = s.db.lock();
    let p = pager.page(
        ordered(&db.opportunity_order, pager.after())
            .filter_map(|(_, id)| db.opportunities.get(id))
            .filter(|o| vis.allows(o.confidentiality) && filter.matches(&db, o))
            .map(|o| (o.created_at, o.id.as_str(), o)),
    );
    let data = p
        .data
        .iter()
        .map(|o| render(&db, o, &shape))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(page(Page {
        data,
        has_next: p.has_next,
        next: p.next,
    }))
}

pub async fn get(
    State(s): State<Shared>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let vis = ctx.read_visibility()?;
    let shape = Shape::parse(&ctx.query, EXPANDABLE)?;
    let db = s.db.lock();
    let o = visible(&db, vis, &id)?;
    Ok(ok(render(&db, o, &shape)?))
}

pub async fn deleted(
    State(s): State<Shared>,
    Extension(ctx): Extension<Ctx>,
) -> Result<Response, ApiError> {
    let q = &ctx.query;
    let vis = ctx.read_visibility()?;
    let range = q.range("deleted_at_")?;
    let pager = Pager::new(q, "/opportunities/deleted", &s.tokens)?;
    let db = s.db.lock();
    let mut items: Vec<_> = db
        .deleted
        .values()
        .filter(|d| vis.allows(d.opportunity.confidentiality) && range.contains(Some(d.deleted_at)))
        .collect();
    items.sort_by(|a, b| (a.deleted_at, &a.opportunity.id).cmp(&(b.deleted_at, &b.opportunity.id)));
    let p = pager.page(
        items
            .into_iter()
            .map(|d| (d.deleted_at, d.opportunity.id.as_str(), d)),
    );
    let mut data = Vec::with_capacity(p.data.len());
    for d in p.data {
        let mut v =
            serde_json::to_value(&d.opportunity).map_err(|e| ApiError::internal(e.to_string()))?;
        if let Value::Object(m) = &mut v {
            m.insert("deletedAt".into(), json!(d.deleted_at));
            m.insert("deletedBy".into(), json!(d.deleted_by));
        }
        data.push(v);
    }
    Ok(page(Page {
        data,
        has_next: p.has_next,
        next: p.next,
    }))
}

// ---------------------------------------------------------------------------------------------
// Applications (deprecated sub-resource, still served)

pub async fn list_applications(
    State(s): State<Shared>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let vis = ctx.read_visibility()?;
    let pager = Pager::new(
        &ctx.query,
        &format!("/opportunities/{id}/applications"),
        &s.tokens,
    )?;
    let db = s.db.lock();
    visible(&db, vis, &id)?;
    let mut apps: Vec<&Application> = db.applications(&id).iter().collect();
    apps.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
    let p = pager.page(
        apps.into_iter()
            .map(|a| (a.created_at, a.id.as_str(), a.clone())),
    );
    Ok(page(p))
}

pub async fn get_application(
    State(s): State<Shared>,
    Extension(ctx): Extension<Ctx>,
    Path((id, app)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let vis = ctx.read_visibility()?;
    let db = s.db.lock();
    visible(&db, vis, &id)?;
    let a = db
        .applications(&id)
        .iter()
        .find(|a| a.id == app)
        .ok_or_else(|| ApiError::not_found("applications", &app))?;
    Ok(ok(a))
}
