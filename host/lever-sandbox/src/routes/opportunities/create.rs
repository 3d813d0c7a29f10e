//! `POST /opportunities` (and, through [`create_opportunity`], a posting application): find or
//! create the person, then the opportunity with its application, résumé and files.

use super::form::{is_multipart, parse_multipart};
use super::{body_bytes, not_found};
use crate::db::{Db, canonical_email};
use crate::error::ApiError;
use crate::routes::{Ctx, UploadedFile, Visibility, check_file_size, dedup_strings, parse_json};
use crate::state::Shared;
use crate::webhooks::Event;
use axum::Extension;
use axum::extract::{Request, State};
use axum::response::Response;
use lever_model::timestamp::{Millis, now_millis};
use lever_model::{
    Application, ApplicationType, ArchiveReasonStatus, Archived, Contact, ContactLocation,
    Expandable, FileStatus, LeverFile, NewArchived, NewOpportunity, Opportunity, Origin, Phone,
    Posting, Resume, ResumeFile, StageChange, WebhookEventType,
};
use serde_json::json;

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
    Ok(crate::routes::created(created.opportunity))
}

/// Validate, find or create the person, then store the opportunity with its application,
/// résumé and files. The caller emits `Created::events` once the data lock is released.
pub(crate) fn create_opportunity(db: &mut Db, n: NewOpp, now: Millis) -> Result<Created, ApiError> {
    // A rejected create must leave no trace, so everything is checked before data is touched.
    let checked = validate(db, &n, now)?;
    let mut events = Vec::new();
    let contact_id = resolve_contact(db, &n.body, Person::from_body(&n.body), now, &mut events)?;

    let id = uuid::Uuid::new_v4().to_string();
    let record = Record {
        id: &id,
        contact_id: &contact_id,
        created_at: n.body.created_at.unwrap_or(now),
        now,
    };
    let application = checked
        .posting
        .as_ref()
        .map(|p| new_application(db, &n, p, &record, checked.archived.clone()));
    let opportunity = new_opportunity(db, &n, checked, &record, application.as_ref());
    let origin = opportunity.origin;
    db.insert_opportunity(opportunity);
    let application_id = application.as_ref().map(|a| a.id.clone());
    if let Some(a) = application {
        store_application(db, &record, origin, a, &mut events);
    }
    if let Some(r) = n.resume {
        attach_resume(db, &id, r, now);
    }
    for f in n.files {
        attach_file(db, &id, f, now);
    }
    let opportunity = db.opportunity(&id).cloned().ok_or_else(|| not_found(&id))?;
    Ok(Created {
        opportunity,
        application_id,
        events,
    })
}

// ---------------------------------------------------------------------------------------------
// Validation

/// What validation resolved: the posting (at most one), the stage and the archive state.
struct Checked {
    posting: Option<Posting>,
    stage: String,
    stage_index: i64,
    archived: Option<Archived>,
}

/// Every 400 a create can answer except an unknown `contact` (checked, also before any
/// change, when the person is resolved).
fn validate(db: &Db, n: &NewOpp, now: Millis) -> Result<Checked, ApiError> {
    let b = &n.body;
    let posting = the_posting(db, b, n.visibility)?;
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
        Some(archived) => Some(archive_state(db, archived, now)?),
    };
    if let Some(r) = &n.resume {
        check_file_size(r)?;
    }
    for f in &n.files {
        check_file_size(f)?;
    }
    Ok(Checked {
        posting,
        stage,
        stage_index,
        archived,
    })
}

/// The posting applied to, if any: Lever takes one per create (one request per posting).
fn the_posting(
    db: &Db,
    b: &NewOpportunity,
    visibility: Visibility,
) -> Result<Option<Posting>, ApiError> {
    if b.postings.len() > 1 {
        return Err(ApiError::bad_request(
            "An opportunity can be created for at most one posting; send one request per \
             posting with the same e-mail",
        ));
    }
    Ok(match b.postings.first() {
        Some(pid) => Some(
            db.posting(pid)
                .filter(|p| visibility.allows(p.confidentiality))
                .ok_or_else(|| ApiError::bad_request(format!("Posting {pid} does not exist")))?
                .clone(),
        ),
        None => None,
    })
}

fn user_exists(db: &Db, id: &str, what: &str) -> Result<(), ApiError> {
    match db.user(id) {
        Some(u) if u.is_active() => Ok(()),
        _ => Err(ApiError::bad_request(format!(
            "{what} {id} is not an active user"
        ))),
    }
}

/// `archived` on create: an active reason; `archivedAt` may only backdate.
fn archive_state(db: &Db, archived: &NewArchived, now: Millis) -> Result<Archived, ApiError> {
    let NewArchived {
        reason,
        archived_at,
    } = archived;
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
    Ok(Archived {
        archived_at: archived_at.unwrap_or(now).min(now),
        reason: Some(reason.clone()),
    })
}

// ---------------------------------------------------------------------------------------------
// The person

/// The person's details as sent, with blanks and repeats dropped.
struct Person {
    emails: Vec<String>,
    links: Vec<String>,
    phones: Vec<Phone>,
}

impl Person {
    fn from_body(b: &NewOpportunity) -> Self {
        Self {
            emails: dedup_strings(b.emails.iter().cloned()),
            links: dedup_strings(b.links.iter().cloned()),
            phones: b
                .phones
                .iter()
                .filter(|p| !p.value.trim().is_empty())
                .cloned()
                .collect(),
        }
    }
}

/// The contact the opportunity belongs to: the explicit `contact`, else the contact of a
/// matching e-mail (stored contact data wins), else a new contact.
fn resolve_contact(
    db: &mut Db,
    b: &NewOpportunity,
    person: Person,
    now: Millis,
    events: &mut Vec<Event>,
) -> Result<String, ApiError> {
    if let Some(cid) = &b.contact {
        extend_contact(db, cid, &person, now, events)?;
        Ok(cid.clone())
    } else if let Some(cid) = db.match_contact(&person.emails) {
        Ok(cid)
    } else {
        Ok(insert_contact(db, b, person, events))
    }
}

/// An explicit `contact` gains the sent e-mails (unless another person has them), phones and
/// links it does not have yet.
fn extend_contact(
    db: &mut Db,
    cid: &str,
    person: &Person,
    now: Millis,
    events: &mut Vec<Event>,
) -> Result<(), ApiError> {
    let rec = db
        .contacts
        .get(cid)
        .ok_or_else(|| ApiError::bad_request(format!("Contact {cid} does not exist")))?;
    let new_emails: Vec<String> = person
        .emails
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
    let new_phones: Vec<Phone> = person
        .phones
        .iter()
        .filter(|p| !rec.contact.phones.iter().any(|x| x.value == p.value))
        .cloned()
        .collect();
    let new_links: Vec<String> = person
        .links
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
    Ok(())
}

fn insert_contact(
    db: &mut Db,
    b: &NewOpportunity,
    person: Person,
    events: &mut Vec<Event>,
) -> String {
    let cid = uuid::Uuid::new_v4().to_string();
    db.insert_contact(
        Contact {
            id: cid.clone(),
            name: b.name.clone().filter(|s| !s.trim().is_empty()),
            headline: b.headline.clone(),
            is_anonymized: false,
            location: b.location.clone().map(|name| ContactLocation { name }),
            emails: person.emails,
            phones: person.phones,
        },
        person.links,
    );
    events.push(Event::new(
        WebhookEventType::ContactCreated,
        None,
        json!({"contactId": cid}),
    ));
    cid
}

// ---------------------------------------------------------------------------------------------
// The opportunity

/// What the new opportunity's records share.
struct Record<'a> {
    id: &'a str,
    contact_id: &'a str,
    created_at: Millis,
    now: Millis,
}

/// With `perform_as_posting_owner` the posting's owner, else the sent owner, else the actor.
fn owner(n: &NewOpp, posting: Option<&Posting>) -> Option<String> {
    match (posting, n.posting_owner) {
        (Some(p), true) => p
            .owner
            .as_ref()
            .map(|o| o.id().to_owned())
            .or(n.actor.clone()),
        _ => n.body.owner.clone().or(n.actor.clone()),
    }
}

/// The application to `posting`, carrying the person as stored on the contact.
fn new_application(
    db: &Db,
    n: &NewOpp,
    p: &Posting,
    record: &Record<'_>,
    archived: Option<Archived>,
) -> Application {
    let rec = db.contacts.get(record.contact_id);
    Application {
        id: uuid::Uuid::new_v4().to_string(),
        opportunity_id: record.id.to_owned(),
        candidate_id: record.id.to_owned(),
        created_at: record.created_at,
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
        archived,
        requisition_for_hire: None,
    }
}

/// The opportunity record; the acting user follows it, and sourced it unless it applied.
fn new_opportunity(
    db: &Db,
    n: &NewOpp,
    checked: Checked,
    record: &Record<'_>,
    application: Option<&Application>,
) -> Opportunity {
    let b = &n.body;
    let origin = b.origin.unwrap_or(n.default_origin);
    let owner = owner(n, checked.posting.as_ref());
    let followers = dedup_strings(
        b.followers
            .iter()
            .cloned()
            .chain(n.actor.clone())
            .chain(owner.clone()),
    );
    Opportunity {
        id: record.id.to_owned(),
        contact: Some(Expandable::Id(record.contact_id.to_owned())),
        confidentiality: checked
            .posting
            .as_ref()
            .map_or(Default::default(), |p| p.confidentiality),
        created_at: record.created_at,
        updated_at: Some(record.now),
        last_interaction_at: Some(record.now),
        last_advanced_at: Some(record.created_at),
        snoozed_until: None,
        archived: checked.archived,
        stage: Some(Expandable::Id(checked.stage.clone())),
        stage_changes: vec![StageChange {
            to_stage_id: checked.stage,
            to_stage_index: Some(checked.stage_index),
            user_id: n.actor.clone(),
            updated_at: record.created_at,
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
        urls: db.opportunity_urls(record.id),
        data_protection: None,
        is_anonymized: false,
        opportunity_location: b.opportunity_location.clone(),
        ..Default::default()
    }
}

fn store_application(
    db: &mut Db,
    record: &Record<'_>,
    origin: Option<Origin>,
    a: Application,
    events: &mut Vec<Event>,
) {
    let id = record.id;
    events.push(Event::new(
        WebhookEventType::ApplicationCreated,
        origin,
        json!({
            "opportunityId": id, "candidateId": id, "contactId": record.contact_id,
            "applicationId": a.id, "postingId": a.posting,
        }),
    ));
    db.applications.insert(id.to_owned(), vec![a]);
}

/// `resumeFile`: a processed résumé (`ext` without the dot) with nothing parsed.
fn attach_resume(db: &mut Db, id: &str, r: UploadedFile, now: Millis) {
    let rid = uuid::Uuid::new_v4().to_string();
    let ext = r.ext();
    let resume = Resume {
        id: rid.clone(),
        created_at: now,
        file: Some(ResumeFile {
            name: r.name.clone(),
            ext,
            download_url: db.resume_download_url(id, &rid),
            uploaded_at: Some(now),
            status: Some(FileStatus::Processed),
            size: r.bytes.len() as u64,
        }),
        parsed_data: Default::default(),
    };
    db.resumes.entry(id.to_owned()).or_default().push(resume);
    db.blobs.insert(rid, r.bytes);
}

fn attach_file(db: &mut Db, id: &str, f: UploadedFile, now: Millis) {
    let file = new_file(db, id, &f, now);
    db.blobs.insert(file.id.clone(), f.bytes);
    db.files.entry(id.to_owned()).or_default().push(file);
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
