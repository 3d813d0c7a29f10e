//! Applicant events and the on-demand create: the plugin's records of applications, and
//! when they go to Lever.

use crate::jobs;
use crate::model::{Applicant, Application, ApplicationRef, CreateRequest, JobRef};
use crate::opportunities::{self, Outcome, Withdrawal};
use crate::records::{self, ApplicationRecord, ApplicationStatus};
use crate::settings::{CreationMode, Settings};
use crate::time::date_utc;
use fulcrum_sdk::prelude::*;
use serde::{Deserialize, Serialize};

/// `pending:{applicant_id}:{lever_posting_id}`: applications waiting for an on-demand create.
pub fn pending_key(applicant_id: &str, posting_id: &str) -> String {
    format!("pending:{applicant_id}:{posting_id}")
}
pub const PENDING_PREFIX: &str = "pending:";

/// What the pending index keeps (the admin's list of applicants waiting to be created).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingSummary {
    pub applicant_id: String,
    pub lever_posting_id: String,
    pub rtw_job_id: String,
    pub full_name: String,
    pub email: String,
    /// The application's date (UTC), `YYYY-MM-DD`.
    pub applied_on: String,
    pub submitted_at: i64,
}

/// The Lever posting of a Remote Tech Work job: the one the event names, else the link.
pub fn resolve_posting(job: &JobRef) -> Result<String, Error> {
    if let Some(id) = &job.lever_posting_id {
        return Ok(id.clone());
    }
    // Retried, not failed at once: the vendor's `job.linked` is another subject and may be
    // handled just after this application. The host dead-letters it after its last attempt.
    jobs::linked_posting(&job.rtw_job_id)?.ok_or_else(|| {
        Error::unavailable(format!(
            "Remote Tech Work job {} is not linked to a Lever posting yet (retrying: a job.linked event may be on its way); if it stays unlinked, link it in Remote Tech Work (or send lever_posting_id with the event), then replay this event",
            job.rtw_job_id
        ))
    })
}

fn save(rec: &ApplicationRecord) -> Result<(), Error> {
    records::put(
        &records::application_key(&rec.applicant_id, &rec.lever_posting_id),
        rec,
    )?;
    let pending = pending_key(&rec.applicant_id, &rec.lever_posting_id);
    if rec.status == ApplicationStatus::Pending {
        records::put(
            &pending,
            &PendingSummary {
                applicant_id: rec.applicant_id.clone(),
                lever_posting_id: rec.lever_posting_id.clone(),
                rtw_job_id: rec.rtw_job_id.clone(),
                full_name: rec.full_name.clone(),
                email: rec.email.clone(),
                applied_on: date_utc(rec.submitted_at),
                submitted_at: rec.submitted_at,
            },
        )
    } else {
        state::delete(&pending)
    }
}

fn load(applicant_id: &str, posting_id: &str) -> Result<Option<ApplicationRecord>, Error> {
    records::get(&records::application_key(applicant_id, posting_id))
}

/// A record for a new application (or a re-application: the previous record's opportunity
/// is kept).
fn applied(
    previous: Option<ApplicationRecord>,
    applicant: &Applicant,
    rtw_job_id: &str,
    posting_id: &str,
    at: i64,
) -> ApplicationRecord {
    ApplicationRecord {
        applicant_id: applicant.id.clone(),
        rtw_job_id: rtw_job_id.to_owned(),
        lever_posting_id: posting_id.to_owned(),
        status: ApplicationStatus::Pending,
        full_name: applicant.full_name.trim().to_owned(),
        email: applicant.email.trim().to_owned(),
        opportunity_id: previous.and_then(|p| p.opportunity_id),
        submitted_at: at,
        withdrawn_at: None,
        profile: Some(applicant.clone()),
    }
}

/// `application.submitted`: kept; in Lever at once when creation is automatic.
pub fn submitted(application: &Application, at: i64, settings: &Settings) -> Result<(), Error> {
    let posting = resolve_posting(&application.job)?;
    let applicant = &application.applicant;
    let previous = load(&applicant.id, &posting)?;
    let mut rec = applied(
        previous,
        applicant,
        &application.job.rtw_job_id,
        &posting,
        at,
    );
    match settings.creation {
        CreationMode::Automatic => {
            opportunities::bring_to_lever(&mut rec, applicant, settings)?;
        }
        CreationMode::OnDemand => log::info(format_args!(
            "applicant {} on posting {posting} waits for an on-demand create",
            applicant.id
        )),
    }
    save(&rec)
}

/// `application.withdrawn`: the opportunity is archived; a pending application is dropped.
pub fn withdrawn(withdrawal: &ApplicationRef, at: i64, settings: &Settings) -> Result<(), Error> {
    let posting = resolve_posting(&withdrawal.job)?;
    let mut rec = match load(&withdrawal.applicant_id, &posting)? {
        Some(rec) => rec,
        None => {
            // Not an application the plugin has seen: archive the candidate's opportunity
            // on that posting if the vendor gave an e-mail to find it by.
            let Some(email) = &withdrawal.email else {
                log::warn(format_args!(
                    "withdrawal of applicant {} from posting {posting}: no application known and no email to find it by; nothing to archive",
                    withdrawal.applicant_id
                ));
                return Ok(());
            };
            let found = opportunities::find_by_email(email, &posting)?;
            ApplicationRecord {
                applicant_id: withdrawal.applicant_id.clone(),
                rtw_job_id: withdrawal.job.rtw_job_id.clone(),
                lever_posting_id: posting.clone(),
                status: ApplicationStatus::InLever,
                full_name: found
                    .as_ref()
                    .and_then(|o| o.name.clone())
                    .unwrap_or_default(),
                email: email.trim().to_owned(),
                opportunity_id: found.map(|o| o.id),
                submitted_at: at,
                withdrawn_at: None,
                profile: None,
            }
        }
    };
    if rec.status == ApplicationStatus::Withdrawn && rec.withdrawn_at.is_some_and(|w| w >= at) {
        log::info(format_args!(
            "applicant {} already withdrew from posting {posting}",
            rec.applicant_id
        ));
        return Ok(());
    }
    let outcome = opportunities::withdraw(&mut rec, at, settings)?;
    if outcome != Withdrawal::Archived {
        log::info(format_args!(
            "applicant {} withdrew from posting {posting}: {outcome:?}",
            rec.applicant_id
        ));
    }
    save(&rec)
}

/// The answer of an on-demand create (admin action or vendor request).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Created {
    pub applicant_id: String,
    pub lever_posting_id: String,
    pub opportunity_id: String,
    /// `created`, `unarchived` or `existing`.
    pub outcome: Outcome,
}

/// Which application an on-demand create is about: the posting named, else the applicant's
/// only pending application.
fn application_for(applicant_id: &str, posting: Option<String>) -> Result<String, Error> {
    if let Some(posting) = posting {
        return Ok(posting);
    }
    let prefix = format!("{PENDING_PREFIX}{applicant_id}:");
    let pending: Vec<String> = state::list_keys(&prefix, None, 100)?
        .into_iter()
        .filter_map(|k| k.strip_prefix(&prefix).map(str::to_owned))
        .collect();
    match pending.as_slice() {
        [only] => Ok(only.clone()),
        [] => Err(Error::not_found(format!(
            "applicant {applicant_id} has no application waiting to be created; name lever_posting_id or rtw_job_id to create one that is already in Lever"
        ))),
        several => Err(Error::invalid(format!(
            "applicant {applicant_id} waits on several postings ({}): name lever_posting_id or rtw_job_id",
            several.join(", ")
        ))),
    }
}

/// Creates (or unarchives) the opportunity of a kept application.
pub fn create_on_demand(
    applicant_id: &str,
    posting: Option<String>,
    fresh: Option<&Applicant>,
    rtw_job_id: Option<&str>,
    at: i64,
    settings: &Settings,
) -> Result<Created, Error> {
    let posting = application_for(applicant_id, posting)?;
    let mut rec = match (load(applicant_id, &posting)?, fresh) {
        (Some(rec), _) => rec,
        // Remote Tech Work may ask for an applicant the plugin has not heard of (a sourced
        // candidate): its request carries the profile.
        (None, Some(applicant)) => applied(
            None,
            applicant,
            rtw_job_id.unwrap_or_default(),
            &posting,
            at,
        ),
        (None, None) => {
            return Err(Error::not_found(format!(
                "no application of applicant {applicant_id} on posting {posting} is known"
            )));
        }
    };
    match rec.status {
        ApplicationStatus::Withdrawn => {
            return Err(Error::invalid(format!(
                "applicant {applicant_id} withdrew from posting {posting} on {}; nothing was created",
                rec.withdrawn_at.map(date_utc).unwrap_or_default()
            )));
        }
        ApplicationStatus::InLever => {
            if let Some(id) = &rec.opportunity_id {
                return Ok(Created {
                    applicant_id: applicant_id.to_owned(),
                    lever_posting_id: posting,
                    opportunity_id: id.clone(),
                    outcome: Outcome::Existing,
                });
            }
        }
        ApplicationStatus::Pending => {}
    }
    let profile = match (fresh, &rec.profile) {
        (Some(fresh), _) => fresh.clone(),
        (None, Some(kept)) => kept.clone(),
        (None, None) => {
            return Err(Error::invalid(format!(
                "no profile of applicant {applicant_id} is kept; Remote Tech Work must send it again"
            )));
        }
    };
    let (outcome, opportunity_id) = opportunities::bring_to_lever(&mut rec, &profile, settings)?;
    save(&rec)?;
    Ok(Created {
        applicant_id: applicant_id.to_owned(),
        lever_posting_id: posting,
        opportunity_id,
        outcome,
    })
}

/// `opportunity.create_requested` from Remote Tech Work.
pub fn create_requested(
    request: &CreateRequest,
    at: i64,
    settings: &Settings,
) -> Result<(), Error> {
    let posting = resolve_posting(&request.job)?;
    create_on_demand(
        &request.applicant_id,
        Some(posting),
        request.applicant.as_ref(),
        Some(&request.job.rtw_job_id),
        at,
        settings,
    )
    .map(drop)
}

/// Input of the `create-opportunity` admin action.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateInput {
    pub applicant_id: String,
    pub lever_posting_id: Option<String>,
    pub rtw_job_id: Option<String>,
}

pub fn create_action_schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "applicant_id": {"type": "string", "minLength": 1, "description": "The applicant's id at Remote Tech Work."},
            "lever_posting_id": {"type": "string", "minLength": 1, "description": "Which application, when the applicant waits on several postings."},
            "rtw_job_id": {"type": "string", "minLength": 1, "description": "Which application, by Remote Tech Work job."}
        },
        "required": ["applicant_id"],
        "additionalProperties": false
    })
}

/// The `create-opportunity` admin action.
pub fn create_action(input: &CreateInput, settings: &Settings) -> Result<Created, Error> {
    let check = |field: &str, id: &str| {
        crate::model::check_id(field, id).map_err(|e| Error::invalid(e.message))
    };
    check("applicant_id", &input.applicant_id)?;
    if let Some(id) = &input.lever_posting_id {
        check("lever_posting_id", id)?;
    }
    if let Some(id) = &input.rtw_job_id {
        check("rtw_job_id", id)?;
    }
    let posting = match (&input.lever_posting_id, &input.rtw_job_id) {
        (Some(id), _) => Some(id.clone()),
        (None, Some(job)) => Some(resolve_posting(&JobRef {
            rtw_job_id: job.clone(),
            lever_posting_id: None,
        })?),
        (None, None) => None,
    };
    // No event time here: the note of a re-application carries the application's date,
    // kept with the record.
    create_on_demand(&input.applicant_id, posting, None, None, 0, settings)
}

/// The `pending-applicants` admin action: applications waiting for an on-demand create, in
/// applicant id order (at most `limit`).
pub fn pending(limit: usize) -> Result<Vec<PendingSummary>, Error> {
    let mut out = Vec::new();
    for key in state::keys_with_prefix(PENDING_PREFIX) {
        if out.len() >= limit {
            break;
        }
        if let Some(summary) = records::get::<PendingSummary>(&key?)? {
            out.push(summary);
        }
    }
    Ok(out)
}
