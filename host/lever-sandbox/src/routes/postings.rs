//! Postings: list (with Lever's published/public-site rule), get, create, partial update,
//! the application form, and applying.

use super::opportunities::{NewOpp, body_bytes, create_opportunity};
use super::{Ctx, Shape, Visibility, created, ok, ordered, page, parse_json, strip_html};
use crate::db::Db;
use crate::error::ApiError;
use crate::pagination::Pager;
use crate::state::Shared;
use axum::Extension;
use axum::extract::{Path, Request, State};
use axum::response::Response;
use bytes::Bytes;
use lever_model::timestamp::{Millis, now_millis};
use lever_model::{
    ApplicationType, ApplyRequest, Confidentiality, CreatedApplication, DistributionChannel,
    Expandable, NewOpportunity, Origin, Page, Phone, Posting, PostingCategories, PostingContent,
    PostingState, PostingUrls, PostingWrite, Resume, ResumeFile, WorkplaceType,
};
use serde_json::{Value, json};

pub const EXPANDABLE: &[&str] = &["user", "owner", "hiringManager", "followers"];
const SITE_LIST: &str = "https://jobs.lever.co/brightwater";

fn not_found(id: &str) -> ApiError {
    ApiError::not_found("postings", id)
}

fn render(db: &Db, p: &Posting, shape: &Shape) -> Result<Value, ApiError> {
    if shape.expand.is_empty() {
        return shape.apply(p);
    }
    let mut p = p.clone();
    let user = |u: &Expandable<lever_model::User>| match db.user(u.id()) {
        Some(user) => Expandable::Expanded(Box::new(user.clone())),
        None => u.clone(),
    };
    if shape.expands("user") {
        p.user = p.user.as_ref().map(user);
    }
    if shape.expands("owner") {
        p.owner = p.owner.as_ref().map(user);
    }
    if shape.expands("hiringManager") {
        p.hiring_manager = p.hiring_manager.as_ref().map(user);
    }
    if shape.expands("followers") {
        p.followers = p.followers.iter().map(user).collect();
    }
    shape.apply(&p)
}

fn parse_list<T>(
    values: Vec<&str>,
    key: &str,
    parse: impl Fn(&str) -> Option<T>,
) -> Result<Vec<T>, ApiError> {
    values
        .into_iter()
        .map(|v| {
            parse(v).ok_or_else(|| ApiError::bad_request(format!("Invalid value for {key}: {v:?}")))
        })
        .collect()
}

/// `GET /postings`, oldest first by `(createdAt, id)`: Lever documents no order, and a stable
/// ascending key is what lets offset tokens survive inserts during a listing.
pub async fn list(
    State(s): State<Shared>,
    Extension(ctx): Extension<Ctx>,
) -> Result<Response, ApiError> {
    let q = &ctx.query;
    let vis = ctx.read_visibility()?;
    let shape = Shape::parse(q, EXPANDABLE)?;
    let states = parse_list(q.all("state"), "state", PostingState::parse)?;
    let channels = parse_list(
        q.all("distributionChannel"),
        "distributionChannel",
        DistributionChannel::parse,
    )?;
    let [teams, departments, locations, commitments, levels, tags] = [
        "team",
        "department",
        "location",
        "commitment",
        "level",
        "tag",
    ]
    .map(|k| q.all(k));
    let updated = q.range("updated_at_")?;
    let other_filters = !states.is_empty()
        || !channels.is_empty()
        || [
            &teams,
            &departments,
            &locations,
            &commitments,
            &levels,
            &tags,
        ]
        .iter()
        .any(|v| !v.is_empty());
    if updated.is_set() && other_filters {
        return Err(ApiError::bad_request(
            "updated_at_start/updated_at_end can only be combined with confidentiality",
        ));
    }
    let pager = Pager::new(q, "/postings", &s.tokens)?;
    let one = |want: &[&str], have: Option<&String>| {
        want.is_empty() || have.is_some_and(|h| want.contains(&h.as_str()))
    };
    let matches = |p: &Posting| {
        let c = &p.categories;
        let pc = p.distribution_channels.as_deref().unwrap_or(&[]);
        vis.allows(p.confidentiality)
            && (states.is_empty() || states.contains(&p.state))
            && if channels.is_empty() {
                // Lever: published postings not on the public site are hidden unless a
                // distributionChannel is asked for.
                p.state != PostingState::Published || pc.contains(&DistributionChannel::Public)
            } else {
                pc.iter().any(|x| channels.contains(x))
            }
            && one(&teams, c.team.as_ref())
            && one(&departments, c.department.as_ref())
            && (one(&locations, c.location.as_ref())
                || c.all_locations
                    .iter()
                    .any(|l| locations.contains(&l.as_str())))
            && one(&commitments, c.commitment.as_ref())
            && one(&levels, c.level.as_ref())
            && (tags.is_empty() || p.tags.iter().any(|t| tags.contains(&t.as_str())))
            && updated.contains(p.updated_at)
    };
    let db = s.db.lock();
    let p = pager.page(
        ordered(&db.posting_order, pager.after())
            .filter_map(|(_, id)| db.postings.get(id))
            .filter(|p| matches(p))
            .map(|p| (p.created_at, p.id.as_str(), p)),
    );
    let data = p
        .data
        .iter()
        .map(|x| render(&db, x, &shape))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(page(Page {
        data,
        has_next: p.has_next,
        next: p.next,
    }))
}

fn visible<'a>(db: &'a Db, vis: Visibility, id: &str) -> Result<&'a Posting, ApiError> {
    db.posting(id)
        .filter(|p| vis.allows(p.confidentiality))
        .ok_or_else(|| not_found(id))
}

pub async fn get(
    State(s): State<Shared>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let vis = ctx.read_visibility()?;
    let shape = Shape::parse(&ctx.query, EXPANDABLE)?;
    let db = s.db.lock();
    Ok(ok(render(&db, visible(&db, vis, &id)?, &shape)?))
}

fn check_user(db: &Db, id: &str, what: &str) -> Result<(), ApiError> {
    match db.user(id) {
        Some(u) if u.is_active() => Ok(()),
        _ => Err(ApiError::bad_request(format!(
            "{what} {id} is not an active user"
        ))),
    }
}

/// Apply the sent fields of a create/update body; unsent fields stay as they are.
fn apply_write(db: &Db, p: &mut Posting, w: PostingWrite, creating: bool) -> Result<(), ApiError> {
    if let Some(t) = w.text {
        if t.trim().is_empty() {
            return Err(ApiError::bad_request("text must not be empty"));
        }
        p.text = t;
    } else if creating {
        return Err(ApiError::bad_request("text is required"));
    }
    if let Some(s) = w.state {
        if s == PostingState::Unknown {
            return Err(ApiError::bad_request(
                "Invalid state (expected published, internal, closed, draft, pending or rejected)",
            ));
        }
        p.state = s;
    }
    if let Some(ch) = w.distribution_channels {
        if ch.contains(&DistributionChannel::Unknown) {
            return Err(ApiError::bad_request(
                "Invalid distributionChannels (expected public and/or internal)",
            ));
        }
        p.distribution_channels = Some(ch);
    }
    if let Some(o) = w.owner {
        check_user(db, &o, "owner")?;
        p.owner = Some(Expandable::Id(o));
    }
    if let Some(h) = w.hiring_manager {
        check_user(db, &h, "hiringManager")?;
        p.hiring_manager = Some(Expandable::Id(h));
    }
    if let Some(c) = w.categories {
        let mut all = c.all_locations.clone();
        if all.is_empty()
            && let Some(l) = &c.location
        {
            all.push(l.clone());
        }
        p.categories = PostingCategories {
            all_locations: all,
            ..c
        };
    }
    if let Some(t) = w.tags {
        p.tags = super::dedup_strings(t);
    }
    if let Some(c) = w.content {
        if let Some(d) = c.description_html {
            p.content.description = strip_html(&d);
            p.content.description_html = d;
        }
        if let Some(l) = c.lists {
            p.content.lists = l;
        }
        if let Some(cl) = c.closing_html {
            p.content.closing = strip_html(&cl);
            p.content.closing_html = cl;
        }
    }
    if let Some(wt) = w.workplace_type {
        if wt == WorkplaceType::Unknown {
            return Err(ApiError::bad_request(
                "Invalid workplaceType (expected onsite, remote or hybrid)",
            ));
        }
        if wt == WorkplaceType::Unspecified && p.workplace_type != WorkplaceType::Unspecified {
            return Err(ApiError::bad_request(
                "workplaceType cannot be changed back to unspecified",
            ));
        }
        p.workplace_type = wt;
    }
    if let Some(r) = w.requisition_codes {
        p.requisition_codes = r;
    }
    if let Some(sd) = w.salary_description_html {
        p.salary_description = Some(strip_html(&sd));
        p.salary_description_html = Some(sd);
    }
    if let Some(sr) = w.salary_range {
        if sr.currency.trim().is_empty() || sr.interval.trim().is_empty() || sr.min > sr.max {
            return Err(ApiError::bad_request(
                "salaryRange needs min, max (min <= max), currency and interval",
            ));
        }
        p.salary_range = Some(sr);
    }
    p.urls = (p.state == PostingState::Published).then(|| PostingUrls {
        list: SITE_LIST.into(),
        show: format!("{SITE_LIST}/{}", p.id),
        apply: format!("{SITE_LIST}/{}/apply", p.id),
    });
    Ok(())
}

pub async fn create(
    State(s): State<Shared>,
    Extension(ctx): Extension<Ctx>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let w: PostingWrite = parse_json(&body)?;
    let now = now_millis();
    let actor = ctx.actor.clone();
    let mut db = s.db.lock();
    let mut p = Posting {
        id: uuid::Uuid::new_v4().to_string(),
        created_at: now,
        updated_at: Some(now),
        user: actor.clone().map(Expandable::Id),
        owner: actor.clone().map(Expandable::Id),
        confidentiality: Confidentiality::NonConfidential,
        state: PostingState::Draft,
        distribution_channels: Some(vec![
            DistributionChannel::Public,
            DistributionChannel::Internal,
        ]),
        content: PostingContent::default(),
        req_code: Some(String::new()),
        ..Default::default()
    };
    apply_write(&db, &mut p, w, true)?;
    p.followers = super::dedup_strings(p.owner.iter().map(|o| o.id().to_owned()).chain(actor))
        .into_iter()
        .map(Expandable::Id)
        .collect();
    let out = p.clone();
    db.insert_posting(p);
    Ok(created(out))
}

pub async fn update(
    State(s): State<Shared>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let w: PostingWrite = parse_json(&body)?;
    let now = now_millis();
    let mut db = s.db.lock();
    let mut p = visible(&db, ctx.write_visibility(), &id)?.clone();
    apply_write(&db, &mut p, w, false)?;
    p.updated_at = Some(now);
    db.postings.insert(id, p.clone());
    Ok(ok(p))
}

pub async fn apply_form(
    State(s): State<Shared>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let vis = ctx.read_visibility()?;
    let db = s.db.lock();
    let p = visible(&db, vis, &id)?;
    let field = |name: &str, text: &str, kind: &str, required: bool| json!({"name": name, "text": text, "type": kind, "required": required, "value": null});
    Ok(ok(json!({
        "id": p.id,
        "text": p.text,
        "customQuestions": [],
        "eeoQuestions": {},
        "personalInformation": [
            field("fullName", "Full name", "text", true),
            field("email", "Email", "email", true),
            field("phone", "Phone", "text", false),
            field("currentCompany", "Current company", "text", false),
            field("currentLocation", "Current location", "text", false),
            field("resume", "Resume/CV", "file-upload", false),
            field("additionalInformation", "Additional information", "textarea", false),
        ],
        "urls": [
            {"name": "LinkedIn", "required": false, "value": null},
            {"name": "GitHub", "required": false, "value": null},
            {"name": "Portfolio", "required": false, "value": null},
        ],
        "consentDisclosures": {},
    })))
}

pub async fn apply(
    State(s): State<Shared>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
    req: Request,
) -> Result<Response, ApiError> {
    let body = body_bytes(req).await?;
    let a: ApplyRequest = parse_json(&body)?;
    let info = |name: &str| {
        a.personal_information
            .iter()
            .find(|p| p.name == name)
            .map(|p| p.value.trim().to_owned())
            .filter(|v| !v.is_empty())
    };
    let full_name = info("fullName")
        .ok_or_else(|| ApiError::bad_request("personalInformation fullName is required"))?;
    let email = info("email")
        .ok_or_else(|| ApiError::bad_request("personalInformation email is required"))?;
    let origin = match a.origin {
        None => Origin::Applied,
        Some(o @ (Origin::Applied | Origin::Internal)) => o,
        Some(_) => return Err(ApiError::bad_request("origin must be applied or internal")),
    };
    let now = now_millis();
    let created = {
        let mut db = s.db.lock();
        let p = visible(&db, ctx.write_visibility(), &id)?;
        if !matches!(p.state, PostingState::Published | PostingState::Internal) {
            return Err(ApiError::bad_request(format!(
                "Posting {id} is {} and does not accept applications",
                p.state
            )));
        }
        // A résumé answer refers to an earlier POST /uploads by its uri.
        let upload = info("resume").and_then(|uri| {
            db.uploads
                .values()
                .find(|u| u.upload.uri == uri || u.upload.id == uri)
                .cloned()
        });
        let body = NewOpportunity {
            name: Some(full_name),
            location: info("currentLocation"),
            emails: vec![email],
            phones: info("phone")
                .map(|value| Phone { kind: None, value })
                .into_iter()
                .collect(),
            links: a
                .urls
                .iter()
                .map(|u| u.value.clone())
                .filter(|v| !v.trim().is_empty())
                .collect(),
            sources: vec![a.source.clone().unwrap_or_else(|| "Posting".into())],
            origin: Some(origin),
            postings: vec![id.clone()],
            ..Default::default()
        };
        let c = create_opportunity(
            &mut db,
            NewOpp {
                body,
                actor: None,
                posting_owner: true,
                kind: ApplicationType::Posting,
                default_stage: "applicant-new",
                default_origin: Origin::Applied,
                resume: None,
                files: Vec::new(),
                visibility: ctx.write_visibility(),
                company: info("currentCompany"),
            },
            now,
        )?;
        if let Some(u) = upload {
            attach_resume(&mut db, &c.opportunity.id, &u.upload.filename, u.bytes, now);
        }
        c
    };
    let application_id = created.application_id.clone().unwrap_or_default();
    s.emit(created.events);
    Ok(super::created(CreatedApplication { application_id }))
}

fn attach_resume(db: &mut Db, opp: &str, name: &str, bytes: Bytes, now: Millis) {
    let rid = uuid::Uuid::new_v4().to_string();
    let ext = std::path::Path::new(name)
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or_default()
        .to_ascii_lowercase();
    let resume = Resume {
        id: rid.clone(),
        created_at: now,
        file: Some(ResumeFile {
            name: name.to_owned(),
            ext,
            download_url: db.resume_download_url(opp, &rid),
            uploaded_at: Some(now),
            status: Some(lever_model::FileStatus::Processed),
            size: bytes.len() as u64,
        }),
        parsed_data: Default::default(),
    };
    db.resumes.entry(opp.to_owned()).or_default().push(resume);
    db.blobs.insert(rid, bytes);
}
