//! Hiring data of an opportunity, read-only as Lever's API key sees it: interviews, panels,
//! feedback, offers (`expand=creator`) and referrals. An opportunity without any is an empty
//! list, not a 404; items of an opportunity this request may not see are as absent as the
//! opportunity. Also the admin API's interview scheduling (a recruiter in the UI), which
//! fires Lever's interview webhooks.

use super::opportunities::visible;
use super::{Ctx, Shape, ok, page, parse_json};
use crate::db::Db;
use crate::error::ApiError;
use crate::pagination::Pager;
use crate::state::Shared;
use crate::webhooks::Event;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use bytes::Bytes;
use http::StatusCode;
use lever_model::timestamp::{Millis, now_millis};
use lever_model::{
    Expandable, Feedback, FeedbackReminder, Interview, Interviewer, Offer, Page, Panel, Referral,
    WebhookEventType,
};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// Lists are in (createdAt, id) order, which keyset paging needs to be stable.
trait Listed: Serialize {
    fn key(&self) -> (i64, &str);
}

macro_rules! listed {
    ($($t:ty),*) => {
        $(impl Listed for $t { fn key(&self) -> (i64, &str) { (self.created_at, &self.id) } })*
    };
}
listed!(Interview, Panel, Feedback, Offer, Referral);

/// One list request: checks visibility and shape, then pages `items(db)` and renders each.
fn list<T: Listed>(
    s: &Shared,
    ctx: &Ctx,
    id: &str,
    resource: &str,
    expandable: &[&str],
    items: impl for<'a> FnOnce(&'a Db) -> Vec<&'a T>,
    render: impl Fn(&Db, &T, &Shape) -> Result<Value, ApiError>,
) -> Result<Response, ApiError> {
    let vis = ctx.read_visibility()?;
    let shape = Shape::parse(&ctx.query, expandable)?;
    let pager = Pager::new(
        &ctx.query,
        &format!("/opportunities/{id}/{resource}"),
        &s.tokens,
    )?;
    let db = s.db.lock();
    visible(&db, vis, id)?;
    let mut all = items(&db);
    all.sort_by(|a, b| a.key().cmp(&b.key()));
    let p = pager.page(all.into_iter().map(|t| {
        let (n, tid) = t.key();
        (n, tid, t)
    }));
    let data = p
        .data
        .iter()
        .map(|t| render(&db, t, &shape))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(page(Page {
        data,
        has_next: p.has_next,
        next: p.next,
    }))
}

/// One single-item request: 404 unless the opportunity is visible and holds the item.
fn get<T: Listed>(
    s: &Shared,
    ctx: &Ctx,
    id: &str,
    kind: &str,
    item: &str,
    find: impl for<'a> FnOnce(&'a Db) -> Option<&'a T>,
) -> Result<Response, ApiError> {
    let vis = ctx.read_visibility()?;
    let shape = Shape::parse(&ctx.query, &[])?;
    let db = s.db.lock();
    visible(&db, vis, id)?;
    let t = find(&db).ok_or_else(|| ApiError::not_found(kind, item))?;
    Ok(ok(shape.apply(t)?))
}

fn plain<T: Serialize>(_: &Db, t: &T, shape: &Shape) -> Result<Value, ApiError> {
    shape.apply(t)
}

pub async fn list_interviews(
    State(s): State<Shared>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    list(
        &s,
        &ctx,
        &id,
        "interviews",
        &[],
        |db| db.hiring.interviews(&id).collect(),
        plain,
    )
}

pub async fn get_interview(
    State(s): State<Shared>,
    Extension(ctx): Extension<Ctx>,
    Path((id, interview)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    get(&s, &ctx, &id, "interviews", &interview, |db| {
        db.hiring.interview(&id, &interview)
    })
}

pub async fn list_panels(
    State(s): State<Shared>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    list(
        &s,
        &ctx,
        &id,
        "panels",
        &[],
        |db| db.hiring.panels(&id).iter().collect(),
        plain,
    )
}

pub async fn get_panel(
    State(s): State<Shared>,
    Extension(ctx): Extension<Ctx>,
    Path((id, panel)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    get(&s, &ctx, &id, "panels", &panel, |db| {
        db.hiring.panels(&id).iter().find(|p| p.id == panel)
    })
}

pub async fn list_feedback(
    State(s): State<Shared>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    list(
        &s,
        &ctx,
        &id,
        "feedback",
        &[],
        |db| db.hiring.feedback(&id).iter().collect(),
        plain,
    )
}

pub async fn get_feedback(
    State(s): State<Shared>,
    Extension(ctx): Extension<Ctx>,
    Path((id, feedback)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    get(&s, &ctx, &id, "feedback", &feedback, |db| {
        db.hiring.feedback(&id).iter().find(|f| f.id == feedback)
    })
}

/// `expand=creator` swaps the creator's id for the user object.
fn render_offer(db: &Db, o: &Offer, shape: &Shape) -> Result<Value, ApiError> {
    if !shape.expands("creator") {
        return shape.apply(o);
    }
    let mut o = o.clone();
    if let Some(u) = o.creator.as_ref().and_then(|c| db.user(c.id())) {
        o.creator = Some(Expandable::Expanded(Box::new(u.clone())));
    }
    shape.apply(&o)
}

pub async fn list_offers(
    State(s): State<Shared>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    list(
        &s,
        &ctx,
        &id,
        "offers",
        &["creator"],
        |db| db.hiring.offers(&id).iter().collect(),
        render_offer,
    )
}

pub async fn list_referrals(
    State(s): State<Shared>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    list(
        &s,
        &ctx,
        &id,
        "referrals",
        &[],
        |db| db.hiring.referrals(&id).iter().collect(),
        plain,
    )
}

pub async fn get_referral(
    State(s): State<Shared>,
    Extension(ctx): Extension<Ctx>,
    Path((id, referral)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    get(&s, &ctx, &id, "referrals", &referral, |db| {
        db.hiring.referrals(&id).iter().find(|r| r.id == referral)
    })
}

// ---------------------------------------------------------------------------------------------
// Admin API: a recruiter schedules or cancels an interview in the UI.

/// Body of `POST /_sandbox/opportunities/{id}/interviews`; everything is optional.
#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase", deny_unknown_fields)]
struct ScheduleInterview {
    subject: Option<String>,
    /// Start, ms since the epoch; default: tomorrow.
    date: Option<Millis>,
    /// Minutes; default 45.
    duration: Option<u32>,
    /// User ids; default: the sandbox's default user.
    interviewers: Vec<String>,
    location: Option<String>,
    note: Option<String>,
    timezone: Option<String>,
}

fn interview_event(kind: WebhookEventType, db: &Db, opp: &str, interview: &Interview) -> Event {
    let o = db.opportunity(opp);
    Event::new(
        kind,
        o.and_then(|o| o.origin),
        json!({
            "opportunityId": opp,
            "candidateId": opp,
            "contactId": o.and_then(|o| o.contact_id()),
            "interviewId": interview.id,
            "panelId": interview.panel,
        }),
    )
}

/// A one-interview panel, as the UI's "schedule interview" creates; fires `interviewCreated`.
pub(crate) async fn admin_schedule_interview(
    State(s): State<Shared>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let req: ScheduleInterview = if body.iter().all(u8::is_ascii_whitespace) {
        ScheduleInterview::default()
    } else {
        parse_json(&body)?
    };
    if req.duration == Some(0) {
        return Err(ApiError::bad_request("duration must be at least 1 minute"));
    }
    let now = now_millis();
    let (interview, event) = {
        let mut db = s.db.lock();
        let o = db
            .opportunity(&id)
            .ok_or_else(|| ApiError::not_found("opportunities", &id))?;
        let (name, stage) = (
            o.name.clone().unwrap_or_default(),
            o.stage_id().map(str::to_owned),
        );
        let postings: Vec<String> = db
            .applications(&id)
            .iter()
            .filter_map(|a| a.posting.clone())
            .collect();
        let applications = db.applications(&id).iter().map(|a| a.id.clone()).collect();
        let ids = if req.interviewers.is_empty() {
            vec![s.default_user.clone()]
        } else {
            req.interviewers.clone()
        };
        let interviewers = ids
            .iter()
            .map(|u| {
                db.user(u)
                    .map(|u| Interviewer {
                        id: u.id.clone(),
                        name: u.name.clone(),
                        email: u.email.clone(),
                        feedback_template: None,
                    })
                    .ok_or_else(|| ApiError::bad_request(format!("User {u} does not exist")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let date = req.date.unwrap_or(now + 86_400_000);
        let duration = req.duration.unwrap_or(45);
        let timezone = req.timezone.unwrap_or_else(|| "UTC".into());
        let panel_id = uuid::Uuid::new_v4().to_string();
        let interview = Interview {
            id: uuid::Uuid::new_v4().to_string(),
            panel: Some(panel_id.clone()),
            subject: req
                .subject
                .unwrap_or_else(|| format!("Interview with {name}")),
            note: req.note.clone().unwrap_or_default(),
            interviewers,
            timezone: timezone.clone(),
            created_at: now,
            date,
            duration,
            location: req.location,
            feedback_template: None,
            feedback_forms: vec![],
            feedback_reminder: FeedbackReminder::Daily,
            user: Some(s.default_user.clone()),
            stage: stage.clone(),
            canceled_at: None,
            postings,
            gcal_event_url: None,
        };
        db.hiring.add_panel(
            &id,
            Panel {
                id: panel_id,
                applications,
                canceled_at: None,
                created_at: now,
                start: date,
                end: Some(date + i64::from(duration) * 60_000),
                timezone,
                feedback_reminder: FeedbackReminder::Daily,
                user: Some(s.default_user.clone()),
                stage,
                note: req.note,
                externally_managed: false,
                external_url: None,
                interviews: vec![interview.clone()],
            },
        );
        if let Some(o) = db.opportunities.get_mut(&id) {
            o.updated_at = Some(now);
            o.last_interaction_at = Some(now);
        }
        let event = interview_event(WebhookEventType::InterviewCreated, &db, &id, &interview);
        (interview, event)
    };
    s.emit(vec![event]);
    Ok((StatusCode::CREATED, Json(interview)).into_response())
}

/// Cancel (delete) an interview; fires `interviewDeleted`.
pub(crate) async fn admin_delete_interview(
    State(s): State<Shared>,
    Path((id, interview)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let event = {
        let mut db = s.db.lock();
        if db.opportunity(&id).is_none() {
            return Err(ApiError::not_found("opportunities", &id));
        }
        let removed = db
            .hiring
            .remove_interview(&id, &interview)
            .ok_or_else(|| ApiError::not_found("interviews", &interview))?;
        interview_event(WebhookEventType::InterviewDeleted, &db, &id, &removed)
    };
    s.emit(vec![event]);
    Ok(StatusCode::NO_CONTENT.into_response())
}
