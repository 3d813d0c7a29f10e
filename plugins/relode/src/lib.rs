//! The Relode connector: Lever's public postings go to Relode as pending jobs, candidates
//! Relode's recruiters submit become opportunities on those postings, and Lever stage, archive
//! and hire changes of those opportunities go back to Relode. The vendor contract is in the
//! crate's README.
//!
//! The mapping lives in pure modules ([`settings`], [`setup`], [`jobs`], [`candidate`],
//! [`status`]), unit-tested natively; this file holds the thin handlers that call the host.

pub mod candidate;
pub mod codec;
pub mod jobs;
pub mod settings;
pub mod setup;
pub mod status;

use crate::jobs::{JobChange, Pass, SentJobs, SyncCursor};
use crate::settings::Settings;
use crate::status::{Change, RelodeLink};
use fulcrum_sdk::prelude::*;
use fulcrum_sdk::vendor::Method;

pub struct Relode;

/// Relode's API origin: the only host the plugin calls.
pub const API: &str = "https://api.relode.com";
/// Secret: bearer token for the plugin's requests to Relode.
pub const API_TOKEN: &str = "api-token";
/// Secret: the key Relode signs its requests to the ingress with.
pub const WEBHOOK_SECRET: &str = "webhook-secret";
/// Header carrying Relode's signature (`t=<unix secs>,v1=<hex HMAC-SHA256>`).
pub const SIGNATURE_HEADER: &str = "Relode-Signature";
/// The ingress path Relode posts `candidate.submitted` events to.
pub const CANDIDATES_PATH: &str = "/candidates";
pub const SYNC_JOBS: &str = "sync-jobs";
pub const CHECK_SETUP: &str = "check-setup";
/// Most job requests one sync run sends; the rest wait for the next run, so a first sync of a
/// large account stays within the host's per-invocation time and call limits.
pub const MAX_JOB_REQUESTS_PER_RUN: usize = 50;

const SENT_JOBS_KEY: &str = "jobs:sent";
const CURSOR_KEY: &str = "jobs:cursor";

impl Connector for Relode {
    fn manifest() -> Manifest {
        Manifest::new("relode", "Relode", env!("CARGO_PKG_VERSION"))
            .vendor("Relode")
            .description(
                "Sends Lever's public postings to Relode as pending jobs, creates the candidates \
                 Relode's recruiters submit as opportunities on those postings (owner, stage, \
                 source Relode, resume, a note), and tells Relode when they change stage, are \
                 archived or hired.",
            )
            // Each is needed by a call below; nothing deletes or removes.
            .permissions([
                "list postings",           // sync-jobs: lever::postings
                "read opportunity",        // status back: what Lever shows, not the webhook's data
                "list users",              // owner resolution: lever::list_users
                "list stages",             // default stage, stage names for Relode
                "list archive reasons",    // archive reason text for Relode
                "create opportunity",      // a submitted candidate (with the resume)
                "create opportunity note", // the note about the candidate
            ])
            .vendor_hosts([API])
            .secrets([API_TOKEN, WEBHOOK_SECRET])
            .config_schema(&settings::schema())
            .lever_events([
                LeverEventKind::CandidateStageChange,
                LeverEventKind::CandidateArchiveChange,
                LeverEventKind::CandidateHired,
            ])
            .schedule(
                SYNC_JOBS,
                "Sends new and changed public Lever postings to Relode and closes the ones no \
                 longer public",
                300,
            )
            .action(
                CHECK_SETUP,
                "Checks the setup against Lever: resolves the owner to an active user and the \
                 default stage to a stage, and checks the secrets are set",
                &json!({"type": "object", "additionalProperties": false}),
            )
    }

    fn validate_config(config: &Value) -> Result<(), Vec<ConfigProblem>> {
        let problems = settings::problems(config);
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems)
        }
    }

    fn verify_vendor_request(req: &VendorRequest) -> Result<(), Rejection> {
        // The signature first: an unsigned caller learns nothing, not even that Relode is
        // installed here (the host answers every 401 alike).
        signature::verify_request(req, SIGNATURE_HEADER, WEBHOOK_SECRET)?;
        if req.path.trim_end_matches('/') != CANDIDATES_PATH {
            return Err(Rejection::new(
                404,
                format!(
                    "no such Relode endpoint {:?}: post candidate.submitted events to {CANDIDATES_PATH}",
                    req.path
                ),
            ));
        }
        candidate::parse(&req.body)
            .map(drop)
            .map_err(|refusal| Rejection::new(refusal.status, refusal.message))
    }

    fn on_vendor_event(req: VendorRequest) -> Result<(), Error> {
        let submission = candidate::parse(&req.body).map_err(|r| Error::invalid(r.message))?;
        create_candidate(&submission.candidate)
    }

    fn on_lever_event(event: LeverEvent) -> Result<(), Error> {
        send_status(&event)
    }

    fn on_schedule(run: ScheduledRun) -> Result<(), Error> {
        match run.name.as_str() {
            SYNC_JOBS => sync_jobs(run.scheduled_at),
            other => Err(Error::invalid(format!("unknown schedule {other:?}"))),
        }
    }

    fn on_action(req: ActionRequest) -> Result<String, Error> {
        match req.name.as_str() {
            CHECK_SETUP => fulcrum_sdk::to_json(&check_setup()?),
            other => Err(Error::invalid(format!(
                "unknown action {other:?} (this connector offers {CHECK_SETUP:?})"
            ))),
        }
    }
}

fn api_token() -> Result<String, Error> {
    config::secret(API_TOKEN).ok_or_else(|| {
        Error::invalid(format!(
            "the {API_TOKEN:?} secret is not set: a tenant admin must set Relode's API token, \
             then replay the failed events"
        ))
    })
}

/// `s` as one URL path segment.
fn path_segment(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                char::from(b).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}

fn config_error(problems: &[ConfigProblem]) -> Error {
    let listed: Vec<String> = problems
        .iter()
        .map(|p| format!("{}: {}", p.pointer, p.message))
        .collect();
    Error::invalid(format!(
        "the Relode setup does not match Lever: {}",
        listed.join("; ")
    ))
}

// ---- candidates ---------------------------------------------------------------------------

fn create_candidate(candidate: &candidate::Candidate) -> Result<(), Error> {
    // Relode resubmitting a candidate under a new Idempotency-Key: the first submission's
    // event completed (state is committed with it), so its opportunity exists.
    if let Some(opportunity_id) = state::get(&status::candidate_key(&candidate.id))? {
        log::info(format_args!(
            "Relode candidate {} is already opportunity {opportunity_id}; nothing to do",
            candidate.id
        ));
        return Ok(());
    }
    let settings: Settings = config::get()?;
    let users = lever::list_users(&lever::UserFilter::default())?;
    let stages = lever::list_stages()?;
    let (owner, stage) =
        setup::resolve(&settings, &users, &stages).map_err(|p| config_error(&p))?;
    let resume = match &candidate.resume {
        None => None,
        Some(resume) => Some(resume.attachment(resume_bytes(resume)?)),
    };
    let new = candidate::new_opportunity(candidate, &owner.id, &stage.id, resume);
    let created = lever::create_opportunity(&new)?;
    if let Some(note) = candidate::note(candidate) {
        lever::add_note(&created.id, &note)?;
    }
    state::set_json(
        &status::opportunity_key(&created.id),
        &RelodeLink {
            relode_candidate_id: candidate.id.clone(),
            lever_posting_id: candidate.lever_posting_id.trim().to_owned(),
        },
    )?;
    state::set(&status::candidate_key(&candidate.id), &created.id)?;
    log::info(format_args!(
        "Relode candidate {} is opportunity {} (contact {}) on posting {}",
        candidate.id, created.id, created.contact_id, candidate.lever_posting_id
    ));
    Ok(())
}

/// The resume's bytes: inline, or downloaded from Relode with the API token. Relode's file
/// URLs are immutable, so a retried event attaches the same bytes (the journal checks that).
fn resume_bytes(resume: &candidate::Resume) -> Result<Vec<u8>, Error> {
    if let Some(bytes) = resume.inline_bytes() {
        return bytes;
    }
    let url = resume.url.as_deref().unwrap_or_default();
    let request = vendor::Request::new(Method::Get, url).bearer(&api_token()?);
    let response = vendor::send(&request)?.error_for_status()?;
    if response.body.is_empty() {
        return Err(Error::vendor_error(format!(
            "Relode answered the resume download {url} with an empty file"
        )));
    }
    Ok(response.body)
}

// ---- status back ----------------------------------------------------------------------------

fn send_status(event: &LeverEvent) -> Result<(), Error> {
    let Some(opportunity_id) = event.opportunity_id.as_deref() else {
        log::debug(format_args!(
            "Lever event {} names no opportunity; ignored",
            event.id
        ));
        return Ok(());
    };
    let Some(link) = state::get_json::<RelodeLink>(&status::opportunity_key(opportunity_id))?
    else {
        log::debug(format_args!(
            "opportunity {opportunity_id} did not come from Relode; not sent"
        ));
        return Ok(());
    };
    if !matches!(
        event.kind,
        LeverEventKind::CandidateStageChange
            | LeverEventKind::CandidateArchiveChange
            | LeverEventKind::CandidateHired
    ) {
        log::debug(format_args!(
            "Lever event {:?} is not sent to Relode",
            event.kind
        ));
        return Ok(());
    }
    // Lever signs neither the event name nor `data`: Relode is told what Lever shows now
    // (the read is journaled, so a retry sends the same update).
    let opportunity = match lever::get_opportunity(opportunity_id) {
        Ok(opportunity) => opportunity,
        Err(Error::NotFound(_)) => {
            log::warn(format_args!(
                "opportunity {opportunity_id} is no longer in Lever; Relode is not told"
            ));
            return Ok(());
        }
        Err(e) => return Err(e),
    };
    let stages = match event.kind {
        LeverEventKind::CandidateStageChange => lever::list_stages()?,
        _ => Vec::new(),
    };
    let reasons = match (&event.kind, &opportunity.archived) {
        (LeverEventKind::CandidateStageChange, _) | (_, None) => Vec::new(),
        _ => lever::list_archive_reasons()?,
    };
    match status::current_change(event.kind, &opportunity, &stages, &reasons) {
        Ok(change) => post_status(event, opportunity_id, &link, &change),
        Err(why) => {
            log::info(format_args!(
                "Lever event {} of {opportunity_id}: {why}; Relode is not told",
                event.id
            ));
            Ok(())
        }
    }
}

fn post_status(
    event: &LeverEvent,
    opportunity_id: &str,
    link: &RelodeLink,
    change: &Change<'_>,
) -> Result<(), Error> {
    let body = status::status_update(&event.id, opportunity_id, link, change, event.triggered_at);
    let url = format!(
        "{API}/v1/lever/candidates/{}/status",
        path_segment(&link.relode_candidate_id)
    );
    let request = vendor::Request::new(Method::Post, url)
        .bearer(&api_token()?)
        .json(&body)?;
    vendor::send(&request)?.error_for_status()?;
    log::info(format_args!(
        "told Relode candidate {} is {} (opportunity {opportunity_id})",
        link.relode_candidate_id, body["status"]
    ));
    Ok(())
}

// ---- jobs ------------------------------------------------------------------------------------

fn sync_jobs(scheduled_at: Timestamp) -> Result<(), Error> {
    let settings: Settings = config::get()?;
    let token = api_token()?;
    let mut sent: SentJobs = state::get_json(SENT_JOBS_KEY)?.unwrap_or_default();
    let cursor: SyncCursor = state::get_json(CURSOR_KEY)?.unwrap_or_default();
    let pass = jobs::pass_for(&cursor, scheduled_at);
    let filter = match pass {
        // Lever filters: only what Relode should list, so a full pass stays small.
        Pass::Full => lever::PostingFilter {
            states: vec![lever::PostingState::Published],
            channels: vec![lever::DistributionChannel::Public],
            ..Default::default()
        },
        // Every state: a posting closed or unpublished since must be seen to be closed.
        Pass::Incremental { updated_since } => lever::PostingFilter {
            updated_since: Some(updated_since),
            ..Default::default()
        },
    };
    let postings = lever::postings(filter).collect::<Result<Vec<_>, _>>()?;
    let changes = match pass {
        Pass::Full => jobs::plan_full(&postings, &sent, &settings.career_page_url),
        Pass::Incremental { .. } => {
            jobs::plan_incremental(&postings, &sent, &settings.career_page_url)
        }
    };
    let planned = changes.len();
    let (mut upserted, mut closed, mut refused) = (0, 0, 0);
    for change in changes.iter().take(MAX_JOB_REQUESTS_PER_RUN) {
        let posting_id = change.posting_id();
        let job_url = format!("{API}/v1/lever/jobs/{}", path_segment(posting_id));
        let request = match change {
            JobChange::Upsert { job, .. } => {
                vendor::Request::new(Method::Put, job_url).json(job)?
            }
            JobChange::Close { reason, .. } => {
                vendor::Request::new(Method::Post, format!("{job_url}/close")).json(&json!({
                    "lever_posting_id": posting_id,
                    "reason": reason,
                    "closed_at": codec::rfc3339(scheduled_at),
                }))?
            }
        };
        let response = vendor::send(&request.bearer(&token))?;
        match (change, response.status) {
            (JobChange::Upsert { digest, .. }, 200..=299) => {
                sent.insert(posting_id.to_owned(), digest.clone());
                upserted += 1;
            }
            // Relode no longer has the job: closed either way.
            (JobChange::Close { .. }, 200..=299 | 404) => {
                sent.remove(posting_id);
                closed += 1;
            }
            // Throttling and outages fail the run; the host retries it (re-sending is
            // harmless: a PUT of the same job, a close of a closed job).
            (_, 429 | 500..=599) => {
                response.error_for_status()?;
            }
            // Relode refused this one job: the others still go; it is tried again at the next
            // full pass (or when the posting changes).
            (_, status) => {
                refused += 1;
                log::warn(format_args!(
                    "Relode refused job {posting_id} with {status}: {}",
                    response.text()
                ));
            }
        }
    }
    let complete = planned <= MAX_JOB_REQUESTS_PER_RUN;
    if complete {
        state::set_json(CURSOR_KEY, &jobs::advance(&cursor, pass, scheduled_at))?;
    }
    state::set_json(SENT_JOBS_KEY, &sent)?;
    log::info(format_args!(
        "job sync ({}): {} postings listed, {upserted} jobs sent, {closed} closed, {refused} \
         refused by Relode{}",
        match pass {
            Pass::Full => "full pass",
            Pass::Incremental { .. } => "incremental",
        },
        postings.len(),
        if complete {
            String::new()
        } else {
            format!(
                "; {} more wait for the next run",
                planned - MAX_JOB_REQUESTS_PER_RUN
            )
        }
    ));
    Ok(())
}

// ---- check-setup ---------------------------------------------------------------------------

/// Resolves the setup like a candidate would, and checks the secrets. Problems fail the action
/// (the admin API shows its event as a dead letter with every problem in `last_error`); a
/// good setup logs and returns the resolved Lever ids.
fn check_setup() -> Result<Value, Error> {
    let settings: Settings = config::get()?;
    let mut problems: Vec<ConfigProblem> = Vec::new();
    let users = lever::list_users(&lever::UserFilter::default())?;
    let stages = lever::list_stages()?;
    let owner = setup::resolve_owner(&settings.owner, &users)
        .map_err(|p| problems.push(p))
        .ok();
    let stage = setup::resolve_stage(&settings.default_stage, &stages)
        .map_err(|p| problems.push(p))
        .ok();
    for secret in [API_TOKEN, WEBHOOK_SECRET] {
        if config::secret(secret).is_none() {
            problems.push(ConfigProblem::new(
                format!("secret {secret}"),
                match secret {
                    API_TOKEN => {
                        "not set: the connector cannot call Relode; set the API token Relode gave you"
                    }
                    _ => {
                        "not set: every Relode candidate is refused (401); set the signing secret \
                         shared with Relode"
                    }
                },
            ));
        }
    }
    if !problems.is_empty() {
        return Err(config_error(&problems));
    }
    let (owner, stage) = (owner.cloned(), stage.cloned());
    let result = json!({
        "ok": true,
        "owner": owner.map(|u| json!({"id": u.id, "name": u.name, "email": u.email})),
        "default_stage": stage.map(|s| json!({"id": s.id, "name": s.text})),
        "career_page_url": settings.career_page_url,
    });
    log::info(format_args!("Relode setup is complete: {result}"));
    Ok(result)
}

export_connector!(Relode);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_manifest_asks_for_no_delete_or_remove_permission() {
        let manifest = Relode::manifest();
        assert!(!manifest.permissions.is_empty());
        for p in &manifest.permissions {
            assert!(!p.starts_with("delete") && !p.starts_with("remove"), "{p}");
        }
        assert_eq!(manifest.vendor_hosts, [API]);
        assert_eq!(manifest.secrets, [API_TOKEN, WEBHOOK_SECRET]);
        assert_eq!(manifest.schedules[0].name, SYNC_JOBS);
        let schema: Value = serde_json::from_str(&manifest.config_schema).unwrap();
        assert_eq!(
            schema["properties"]["default_stage"]["default"],
            "New applicant"
        );
    }

    #[test]
    fn path_segments_are_escaped() {
        assert_eq!(path_segment("4f1c-9a_b.~"), "4f1c-9a_b.~");
        assert_eq!(path_segment("a/b c"), "a%2Fb%20c");
    }
}
