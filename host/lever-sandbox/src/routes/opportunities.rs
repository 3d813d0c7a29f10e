//! Opportunities: list/get/deleted, create (JSON or multipart, with e-mail dedupe onto
//! existing contacts), stage and archive changes, tag/source/link edits, applications.

use super::{
    Ctx, Shape, UploadedFile, Visibility, check_file_size, dedup_strings, multipart_error, ok,
    ordered, page, parse_json,
};
use crate::db::{Db, canonical_email};
use crate::error::ApiError;
use crate::pagination::Pager;
use crate::query::{Range, RawQuery};
use crate::state::Shared;
use crate::webhooks::Event;
use axum::Extension;
use axum::extract::{FromRequest, Multipart, Path, Request, State};
use axum::response::Response;
use bytes::Bytes;
use lever_model::timestamp::{Millis, now_millis};
use lever_model::{
    Application, ApplicationType, ArchiveReasonStatus, ArchiveUpdate, Archived, Contact,
    ContactLocation, Expandable, FileStatus, LeverFile, LinksUpdate, NewArchived, NewOpportunity,
    Opportunity, Origin, Page, Phone, Resume, ResumeFile, SourcesUpdate, StageChange, StageUpdate,
    TagsUpdate, WebhookEventType,
};
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

struct Filter {
    emails: Vec<String>,
    tags: Vec<String>,
    sources: Vec<String>,
    origins: Vec<Origin>,
    stages: Vec<String>,
    postings: Vec<String>,
    archived_postings: Vec<String>,
    contacts: Vec<String>,
    reasons: Vec<String>,
    locations: Vec<String>,
    archived: Option<bool>,
    snoozed: Option<bool>,
    created: Range,
    updated: Range,
    advanced: Range,
    archived_at: Range,
    now: Millis,
}

fn strings(q: &RawQuery, key: &str) -> Vec<String> {
    q.all(key).into_iter().map(str::to_owned).collect()
}

impl Filter {
    fn parse(q: &RawQuery) -> Result<Self, ApiError> {
        let origins = q
            .all("origin")
            .into_iter()
            .map(|o| {
                Origin::parse(o).ok_or_else(|| {
                    ApiError::bad_request(format!(
                        "Invalid value for origin: {o:?} (expected agency, applied, internal, \
                         referred, sourced or university)"
                    ))
                })
            })
            .collect::<Result<_, _>>()?;
        Ok(Self {
            emails: q.all("email").into_iter().map(canonical_email).collect(),
            tags: strings(q, "tag"),
            sources: strings(q, "source"),
            origins,
            stages: strings(q, "stage_id"),
            postings: strings(q, "posting_id"),
            archived_postings: strings(q, "archived_posting_id"),
            contacts: strings(q, "contact_id"),
            reasons: strings(q, "archive_reason_id"),
            locations: strings(q, "location"),
            archived: q.bool("archived")?,
            snoozed: q.bool("snoozed")?,
            created: q.range("created_at_")?,
            updated: q.range("updated_at_")?,
            advanced: q.range("advanced_at_")?,
            archived_at: q.range("archived_at_")?,
            now: now_millis(),
        })
    }

    fn matches(&self, db: &Db, o: &Opportunity) -> bool {
        let any = |want: &[String], have: &[String]| {
            want.is_empty() || have.iter().any(|h| want.contains(h))
        };
        let one = |want: &[String], have: Option<&str>| {
            want.is_empty() || have.is_some_and(|h| want.iter().any(|w| w == h))
        };
        let posting_of = || {
            db.applications(&o.id)
                .first()
                .and_then(|a| a.posting.as_deref())
        };
        (self.emails.is_empty()
            || o.emails
                .iter()
                .any(|e| self.emails.contains(&canonical_email(e))))
            && any(&self.tags, &o.tags)
            && any(&self.sources, &o.sources)
            && (self.origins.is_empty() || o.origin.is_some_and(|x| self.origins.contains(&x)))
            && one(&self.stages, o.stage_id())
            && one(&self.contacts, o.contact_id())
            && one(&self.locations, o.location.as_deref())
            && one(&self.postings, posting_of())
            && (self.archived_postings.is_empty()
                || (o.archived.is_some() && one(&self.archived_postings, posting_of())))
            && one(
                &self.reasons,
                o.archived.as_ref().and_then(|a| a.reason.as_deref()),
            )
            && self.archived.is_none_or(|a| a == o.archived.is_some())
            && self
                .snoozed
                .is_none_or(|s| s == o.snoozed_until.is_some_and(|t| t > self.now))
            && self.created.contains(Some(o.created_at))
            && self.updated.contains(o.updated_at)
            && self.advanced.contains(o.last_advanced_at)
            && self
                .archived_at
                .contains(o.archived.as_ref().map(|a| a.archived_at))
    }
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
// Create

/// Everything `create_opportunity` needs, from `POST /opportunities` or a posting application.
pub(crate) struct NewOpp {
    pub body: NewOpportunity,
    pub actor: Option<String>,
    /// `perform_as_posting_owner=true`: the posting's owner becomes the opportunity owner.
    pub posting_owner: bool,
    pub kind: ApplicationType,
    pub default_stage: &'static str,
    pub default_origin: Origin,
    pub resume: Option<UploadedFile>,
    pub files: Vec<UploadedFile>,
    pub visibility: Visibility,
    pub company: Option<String>,
}

pub(crate) struct Created {
    pub opportunity: Opportunity,
    pub application_id: Option<String>,
    pub events: Vec<Event>,
}

fn user_exists(db: &Db, id: &str, what: &str) -> Result<(), ApiError> {
    match db.user(id) {
        Some(u) if u.is_active() => Ok(()),
        _ => Err(ApiError::bad_request(format!(
            "{what} {id} is not an active user"
        ))),
    }
}

pub(crate) fn create_opportunity(db: &mut Db, n: NewOpp, now: Millis) -> Result<Created, ApiError> {
    let b = n.body;
    // --- validate everything before touching data
    if b.postings.len() > 1 {
        return Err(ApiError::bad_request(
            "An opportunity can be created for at most one posting; send one request per \
             posting with the same e-mail",
        ));
    }
    let posting = match b.postings.first() {
        Some(pid) => Some(
            db.posting(pid)
                .filter(|p| n.visibility.allows(p.confidentiality))
                .ok_or_else(|| ApiError::bad_request(format!("Posting {pid} does not exist")))?
                .clone(),
        ),
        None => None,
    };
    let stage = b
        .stage
        .clone()
        .unwrap_or_else(|| n.default_stage.to_owned());
    let stage_index = db
        .stage_index(&stage)
        .ok_or_else(|| ApiError::bad_request(format!("Stage {stage} does not exist")))?;
    if let Some(o) = &b.owner {
        user_exists(db, o, "owner")?;
    }
    for f in &b.followers {
        user_exists(db, f, "follower")?;
    }
    if b.origin == Some(Origin::Unknown) {
        return Err(ApiError::bad_request(
            "Invalid origin (expected agency, applied, internal, referred, sourced or university)",
        ));
    }
    if let Some(t) = b.created_at
        && t > now
    {
        return Err(ApiError::bad_request("createdAt cannot be in the future"));
    }
    let archived = match &b.archived {
        None => None,
        Some(NewArchived {
            reason,
            archived_at,
        }) => {
            let r = db.archive_reason(reason).ok_or_else(|| {
                ApiError::bad_request(if reason.is_empty() {
                    "archived.reason is required".to_owned()
                } else {
                    format!("Archive reason {reason} does not exist")
                })
            })?;
            if r.status == ArchiveReasonStatus::Inactive {
                return Err(ApiError::bad_request(format!(
                    "Archive reason {reason} is inactive"
                )));
            }
            Some(Archived {
                archived_at: archived_at.unwrap_or(now).min(now),
                reason: Some(reason.clone()),
            })
        }
    };
    if let Some(r) = &n.resume {
        check_file_size(r)?;
    }
    for f in &n.files {
        check_file_size(f)?;
    }
    let emails = dedup_strings(b.emails.iter().cloned());
    let links = dedup_strings(b.links.iter().cloned());
    let phones: Vec<Phone> = b
        .phones
        .iter()
        .filter(|p| !p.value.trim().is_empty())
        .cloned()
        .collect();
    let mut events = Vec::new();

    // --- the person: explicit contact, else e-mail match (stored data wins), else new
    let contact_id = if let Some(cid) = &b.contact {
        let rec = db
            .contacts
            .get(cid)
            .ok_or_else(|| ApiError::bad_request(format!("Contact {cid} does not exist")))?;
        let new_emails: Vec<String> = emails
            .iter()
            .filter(|e| {
                !rec.contact
                    .emails
                    .iter()
                    .any(|x| canonical_email(x) == canonical_email(e))
                    && !db.email_taken_by_other(e, cid)
            })
            .cloned()
            .collect();
        let new_phones: Vec<Phone> = phones
            .iter()
            .filter(|p| !rec.contact.phones.iter().any(|x| x.value == p.value))
            .cloned()
            .collect();
        let new_links: Vec<String> = links
            .iter()
            .filter(|l| !rec.links.contains(l))
            .cloned()
            .collect();
        if !(new_emails.is_empty() && new_phones.is_empty() && new_links.is_empty())
            && let Some(rec) = db.contacts.get_mut(cid)
        {
            rec.contact.emails.extend(new_emails);
            rec.contact.phones.extend(new_phones);
            rec.links.extend(new_links);
            db.reindex_contact_emails(cid);
            db.sync_contact(cid, Some(now));
            events.push(Event::new(
                WebhookEventType::ContactUpdated,
                None,
                json!({"contactId": cid}),
            ));
        }
        cid.clone()
    } else if let Some(cid) = db.match_contact(&emails) {
        cid
    } else {
        let cid = uuid::Uuid::new_v4().to_string();
        db.insert_contact(
            Contact {
                id: cid.clone(),
                name: b.name.clone().filter(|s| !s.trim().is_empty()),
                headline: b.headline.clone(),
                is_anonymized: false,
                location: b.location.clone().map(|name| ContactLocation { name }),
                emails: emails.clone(),
                phones,
            },
            links,
        );
        events.push(Event::new(
            WebhookEventType::ContactCreated,
            None,
            json!({"contactId": cid}),
        ));
        cid
    };

    // --- the opportunity
    let id = uuid::Uuid::new_v4().to_string();
    let created_at = b.created_at.unwrap_or(now);
    let origin = b.origin.unwrap_or(n.default_origin);
    let owner = match (&posting, n.posting_owner) {
        (Some(p), true) => p
            .owner
            .as_ref()
            .map(|o| o.id().to_owned())
            .or(n.actor.clone()),
        _ => b.owner.clone().or(n.actor.clone()),
    };
    let followers = dedup_strings(
        b.followers
            .iter()
            .cloned()
            .chain(n.actor.clone())
            .chain(owner.clone()),
    );
    let application = posting.as_ref().map(|p| {
        let rec = db.contacts.get(&contact_id);
        Application {
            id: uuid::Uuid::new_v4().to_string(),
            opportunity_id: id.clone(),
            candidate_id: id.clone(),
            created_at,
            kind: n.kind,
            posting: Some(p.id.clone()),
            posting_owner: p.owner.as_ref().map(|u| u.id().to_owned()),
            posting_hiring_manager: p.hiring_manager.as_ref().map(|u| u.id().to_owned()),
            user: n.actor.clone(),
            name: rec.and_then(|r| r.contact.name.clone()),
            email: rec.and_then(|r| r.contact.emails.first().cloned()),
            phone: rec.and_then(|r| r.contact.phones.first().cloned()),
            company: n.company.clone(),
            links: rec.map(|r| r.links.clone()).unwrap_or_default(),
            comments: None,
            custom_questions: vec![],
            archived: archived.clone(),
            requisition_for_hire: None,
        }
    });
    let opp = Opportunity {
        id: id.clone(),
        contact: Some(Expandable::Id(contact_id.clone())),
        confidentiality: posting
            .as_ref()
            .map_or(Default::default(), |p| p.confidentiality),
        created_at,
        updated_at: Some(now),
        last_interaction_at: Some(now),
        last_advanced_at: Some(created_at),
        snoozed_until: None,
        archived,
        stage: Some(Expandable::Id(stage.clone())),
        stage_changes: vec![StageChange {
            to_stage_id: stage,
            to_stage_index: Some(stage_index),
            user_id: n.actor.clone(),
            updated_at: created_at,
        }],
        owner: owner.map(Expandable::Id),
        followers: followers.into_iter().map(Expandable::Id).collect(),
        tags: dedup_strings(b.tags.iter().cloned()),
        sources: dedup_strings(b.sources.iter().cloned()),
        origin: Some(origin),
        sourced_by: n
            .actor
            .clone()
            .filter(|_| origin != Origin::Applied)
            .map(Expandable::Id),
        applications: application
            .iter()
            .map(|a| Expandable::Id(a.id.clone()))
            .collect(),
        urls: db.opportunity_urls(&id),
        data_protection: None,
        is_anonymized: false,
        opportunity_location: b.opportunity_location.clone(),
        ..Default::default()
    };
    db.insert_opportunity(opp);
    let application_id = application.as_ref().map(|a| a.id.clone());
    if let Some(a) = application {
        events.push(Event::new(
            WebhookEventType::ApplicationCreated,
            Some(origin),
            json!({
                "opportunityId": id, "candidateId": id, "contactId": contact_id,
                "applicationId": a.id, "postingId": a.posting,
            }),
        ));
        db.applications.insert(id.clone(), vec![a]);
    }
    if let Some(r) = n.resume {
        let rid = uuid::Uuid::new_v4().to_string();
        let ext = r.ext();
        let resume = Resume {
            id: rid.clone(),
            created_at: now,
            file: Some(ResumeFile {
                name: r.name.clone(),
                ext,
                download_url: db.resume_download_url(&id, &rid),
                uploaded_at: Some(now),
                status: Some(FileStatus::Processed),
                size: r.bytes.len() as u64,
            }),
            parsed_data: Default::default(),
        };
        db.resumes.entry(id.clone()).or_default().push(resume);
        db.blobs.insert(rid, r.bytes);
    }
    for f in n.files {
        let file = new_file(db, &id, &f, now);
        db.blobs.insert(file.id.clone(), f.bytes);
        db.files.entry(id.clone()).or_default().push(file);
    }
    let opportunity = db.opportunity(&id).cloned().ok_or_else(|| not_found(&id))?;
    Ok(Created {
        opportunity,
        application_id,
        events,
    })
}

/// A processed file record (ext with a leading dot, as Lever's `/files` shows it).
pub(crate) fn new_file(db: &Db, opp: &str, f: &UploadedFile, now: Millis) -> LeverFile {
    let fid = uuid::Uuid::new_v4().to_string();
    let ext = f.ext();
    LeverFile {
        download_url: db.file_download_url(opp, &fid),
        id: fid,
        ext: if ext.is_empty() {
            String::new()
        } else {
            format!(".{ext}")
        },
        name: f.name.clone(),
        uploaded_at: Some(now),
        status: Some(FileStatus::Processed),
        size: f.bytes.len() as u64,
    }
}

fn is_multipart(req: &Request) -> bool {
    req.headers()
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.to_ascii_lowercase().starts_with("multipart/form-data"))
}

/// Read a JSON body through axum (so the body limit applies) and map its rejection.
pub(crate) async fn body_bytes(req: Request) -> Result<Bytes, ApiError> {
    Bytes::from_request(req, &()).await.map_err(|r| {
        if r.status() == http::StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::too_large("Request body exceeds the 30 MB limit")
        } else {
            ApiError::for_status(r.status(), r.body_text())
        }
    })
}

type Form = (NewOpportunity, Option<UploadedFile>, Vec<UploadedFile>);

/// Lever's multipart encoding: arrays as repeated `emails[]`, phones as `phones[N][type]` /
/// `phones[N][value]`, nested objects as `archived[reason]`.
async fn parse_multipart(req: Request) -> Result<Form, ApiError> {
    let mut mp = Multipart::from_request(req, &())
        .await
        .map_err(|r| ApiError::for_status(r.status(), r.body_text()))?;
    let mut b = NewOpportunity::default();
    let mut resume = None;
    let mut files = Vec::new();
    let mut phones: std::collections::BTreeMap<usize, Phone> = Default::default();
    let mut next_phone = 10_000usize;
    let mut archived: Option<NewArchived> = None;
    while let Some(field) = mp.next_field().await.map_err(multipart_error)? {
        let name = field.name().unwrap_or_default().to_owned();
        let file_name = field.file_name().map(str::to_owned);
        let bytes = field.bytes().await.map_err(multipart_error)?;
        if name == "resumeFile" || name == "files[]" || name == "files" {
            let f = UploadedFile {
                name: file_name.unwrap_or_else(|| "file".into()),
                bytes,
            };
            if name == "resumeFile" {
                if resume.is_some() {
                    return Err(ApiError::bad_request("Only one resumeFile may be sent"));
                }
                resume = Some(f);
            } else {
                files.push(f);
            }
            continue;
        }
        let text = String::from_utf8(bytes.to_vec())
            .map_err(|_| ApiError::bad_request(format!("Field {name} is not UTF-8 text")))?;
        let base = name.trim_end_matches("[]");
        match base {
            "name" => b.name = Some(text),
            "headline" => b.headline = Some(text),
            "stage" => b.stage = Some(text),
            "location" => b.location = Some(text),
            "owner" => b.owner = Some(text),
            "contact" => b.contact = Some(text),
            "opportunityLocation" => b.opportunity_location = Some(text),
            "origin" => {
                b.origin = Some(Origin::parse(&text).ok_or_else(|| {
                    ApiError::bad_request(format!("Invalid value for origin: {text:?}"))
                })?)
            }
            "createdAt" => {
                b.created_at =
                    Some(text.trim().parse().map_err(|_| {
                        ApiError::bad_request(format!("Invalid createdAt: {text:?}"))
                    })?)
            }
            "emails" => b.emails.push(text),
            "tags" => b.tags.push(text),
            "sources" => b.sources.push(text),
            "links" => b.links.push(text),
            "postings" => b.postings.push(text),
            "followers" => b.followers.push(text),
            "phones" => {
                next_phone += 1;
                phones.insert(
                    next_phone,
                    Phone {
                        kind: None,
                        value: text,
                    },
                );
            }
            "archived[reason]" => archived.get_or_insert_with(Default::default).reason = text,
            "archived[archivedAt]" => {
                archived.get_or_insert_with(Default::default).archived_at =
                    Some(text.trim().parse().map_err(|_| {
                        ApiError::bad_request(format!("Invalid archived[archivedAt]: {text:?}"))
                    })?)
            }
            other => {
                // phones[N][type] / phones[N][value]
                if let Some(rest) = other.strip_prefix("phones[")
                    && let Some((n, key)) = rest.split_once("][")
                    && let Ok(n) = n.parse::<usize>()
                {
                    let p = phones.entry(n).or_default();
                    match key.trim_end_matches(']') {
                        "type" => p.kind = Some(text).filter(|t| !t.is_empty()),
                        "value" => p.value = text,
                        _ => {}
                    }
                }
            }
        }
    }
    b.phones = phones.into_values().collect();
    b.archived = archived;
    Ok((b, resume, files))
}

pub async fn create(
    State(s): State<Shared>,
    Extension(ctx): Extension<Ctx>,
    req: Request,
) -> Result<Response, ApiError> {
    let posting_owner = ctx.query.bool("perform_as_posting_owner")?.unwrap_or(false);
    let (body, resume, files) = if is_multipart(&req) {
        parse_multipart(req).await?
    } else {
        (
            parse_json::<NewOpportunity>(&body_bytes(req).await?)?,
            None,
            Vec::new(),
        )
    };
    let now = now_millis();
    let created = {
        let mut db = s.db.lock();
        create_opportunity(
            &mut db,
            NewOpp {
                body,
                actor: ctx.actor.clone(),
                posting_owner,
                kind: ApplicationType::User,
                default_stage: "lead-new",
                default_origin: Origin::Sourced,
                resume,
                files,
                visibility: ctx.write_visibility(),
                company: None,
            },
            now,
        )?
    };
    s.emit(created.events);
    Ok(super::created(created.opportunity))
}

// ---------------------------------------------------------------------------------------------
// Mutations

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
