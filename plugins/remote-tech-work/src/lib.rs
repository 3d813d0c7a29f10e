//! The Remote Tech Work connector: Lever postings go to Remote Tech Work as pending jobs;
//! Remote Tech Work applicants come back as Lever opportunities with a generated Europass CV,
//! archived when they withdraw and unarchived when they apply again.
//!
//! The vendor contract, state, config and permissions are in the crate README. Handlers here
//! are thin: the mapping lives in pure functions tested natively (`cargo test -p
//! fulcrum-connector-remote-tech-work`), the flows are tested end to end in
//! `host/service/tests/service/remote_tech_work.rs`.

use fulcrum_sdk::prelude::*;
use serde::{Deserialize, Serialize};

pub mod applications;
pub mod cv;
pub mod jobs;
pub mod model;
pub mod opportunities;
pub mod records;
pub mod settings;
pub mod time;

use settings::Settings;

/// The vendor's API origin (the only host the plugin may call).
pub const VENDOR_ORIGIN: &str = "https://api.remotetech.work";
/// Bearer token for requests to Remote Tech Work.
pub const API_TOKEN: &str = "api-token";
/// Key of the HMAC signatures on Remote Tech Work's requests to the ingress.
pub const WEBHOOK_SECRET: &str = "webhook-secret";
/// The header carrying that signature (`t=<unix seconds>,v1=<hex HMAC-SHA256>`).
pub const SIGNATURE_HEADER: &str = "RTW-Signature";
/// The schedule (and action) that pushes postings.
pub const SYNC_POSTINGS: &str = "sync-postings";
pub const SYNC_EVERY_SECONDS: u32 = 300;

/// Exactly the Lever permissions the plugin's calls need.
pub const PERMISSIONS: [&str; 8] = [
    "list postings",                     // list-postings: job sync
    "list opportunities", // find-opportunities: the candidate's opportunity by e-mail and posting
    "read opportunity",   // get-opportunity: archived or not
    "create opportunity", // create-opportunity, with the CV as its resume
    "update opportunity archived state", // archive (withdrawal), unarchive (re-application)
    "create opportunity note", // add-note
    "list stages",        // the "Applied" stage
    "list archive reasons", // the withdrawal reason
];

pub struct RemoteTechWork;

fn api_token() -> Result<String, Error> {
    config::secret(API_TOKEN)
        .filter(|t| !t.trim().is_empty())
        .ok_or_else(|| {
            Error::invalid(format!(
                "the {API_TOKEN} secret is not set: a tenant admin must set the Remote Tech Work API token"
            ))
        })
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct PendingInput {
    limit: Option<usize>,
}

fn log_sync(report: &jobs::SyncReport) {
    log::info(format_args!(
        "posting sync ({} pass): {} listed, {} pushed, {} unchanged, {} refused{}",
        report.pass,
        report.listed,
        report.pushed,
        report.unchanged,
        report.refused,
        if report.complete {
            ""
        } else {
            "; more in the next run"
        }
    ));
}

/// What `check-setup` reports.
#[derive(Debug, Serialize)]
struct SetupCheck {
    ok: bool,
    /// `{"id", "text"}` of the stage created opportunities get.
    applied_stage: Option<Value>,
    /// `{"id", "text"}` of the archive reason withdrawals use.
    withdrawal_archive_reason: Option<Value>,
    api_token_set: bool,
    webhook_secret_set: bool,
    problems: Vec<String>,
}

fn check_setup(settings: &Settings) -> Result<SetupCheck, Error> {
    let mut problems = Vec::new();
    let stages = lever::list_stages()?;
    let applied_stage = opportunities::resolve_stage(&stages, &settings.applied_stages)
        .map(|s| json!({"id": s.id, "text": s.text}))
        .map_err(|p| problems.push(p))
        .ok();
    let reasons = lever::list_archive_reasons()?;
    let withdrawal_archive_reason =
        opportunities::resolve_withdrawal_reason(&reasons, settings.withdrawal_reason.as_deref())
            .map(|r| json!({"id": r.id, "text": r.text}))
            .map_err(|p| problems.push(p))
            .ok();
    let set = |name: &str| config::secret(name).is_some_and(|s| !s.trim().is_empty());
    let api_token_set = set(API_TOKEN);
    if !api_token_set {
        problems.push(format!("the {API_TOKEN} secret is not set"));
    }
    let webhook_secret_set = set(WEBHOOK_SECRET);
    if !webhook_secret_set {
        problems.push(format!(
            "the {WEBHOOK_SECRET} secret is not set: every request from Remote Tech Work is refused"
        ));
    }
    Ok(SetupCheck {
        ok: problems.is_empty(),
        applied_stage,
        withdrawal_archive_reason,
        api_token_set,
        webhook_secret_set,
        problems,
    })
}

impl Connector for RemoteTechWork {
    fn manifest() -> Manifest {
        Manifest::new(
            "remote-tech-work",
            "Remote Tech Work",
            env!("CARGO_PKG_VERSION"),
        )
        .vendor("Remote Tech Work")
        .description(
            "Pushes Lever postings to Remote Tech Work as pending jobs and brings its applicants \
                 into Lever as opportunities with a Europass CV (automatically or on demand); \
                 withdrawals archive them, re-applications unarchive them.",
        )
        .permissions(PERMISSIONS)
        .vendor_hosts([VENDOR_ORIGIN])
        .secrets([API_TOKEN, WEBHOOK_SECRET])
        .config_schema(&settings::schema())
        .schedule(
            SYNC_POSTINGS,
            "Push new and changed Lever postings to Remote Tech Work as pending jobs",
            SYNC_EVERY_SECONDS,
        )
        .action(
            "create-opportunity",
            "Create the Lever opportunity of a Remote Tech Work applicant kept on demand",
            &applications::create_action_schema(),
        )
        .action(
            "pending-applicants",
            "List the Remote Tech Work applicants waiting for an on-demand create",
            &json!({
                "type": "object",
                "properties": {"limit": {"type": "integer", "minimum": 1, "maximum": 200, "default": 100}},
                "additionalProperties": false
            }),
        )
        .action(
            SYNC_POSTINGS,
            "Push new and changed postings now (one batch), without waiting for the schedule",
            &json!({"type": "object", "additionalProperties": false}),
        )
        .action(
            "check-setup",
            "Check the stage, withdrawal archive reason and secrets this installation will use",
            &json!({"type": "object", "additionalProperties": false}),
        )
    }

    fn validate_config(config: &Value) -> Result<(), Vec<ConfigProblem>> {
        Settings::from_value(config).map(drop)
    }

    fn verify_vendor_request(req: &VendorRequest) -> Result<(), Rejection> {
        signature::verify_request(req, SIGNATURE_HEADER, WEBHOOK_SECRET)?;
        model::parse_event(&req.body)
            .map(drop)
            .map_err(|e| Rejection::new(e.status, e.message))
    }

    fn on_vendor_event(req: VendorRequest) -> Result<(), Error> {
        let event = model::parse_event(&req.body).map_err(|e| Error::invalid(e.message))?;
        let settings = Settings::load()?;
        let at = event.occurred_at;
        match &event.body {
            model::Body::JobLinked(linked) => {
                let changed = jobs::record_link(
                    &linked.lever_posting_id,
                    &linked.rtw_job_id,
                    linked.link,
                    Some(at),
                )?;
                log::info(format_args!(
                    "posting {} linked to Remote Tech Work job {} ({:?}{})",
                    linked.lever_posting_id,
                    linked.rtw_job_id,
                    linked.link,
                    if changed { "" } else { ", already known" }
                ));
                Ok(())
            }
            model::Body::ApplicationSubmitted(application) => {
                applications::submitted(application, at, &settings)
            }
            model::Body::ApplicationWithdrawn(withdrawal) => {
                applications::withdrawn(withdrawal, at, &settings)
            }
            model::Body::CreateRequested(request) => {
                applications::create_requested(request, at, &settings)
            }
        }
    }

    fn on_schedule(run: ScheduledRun) -> Result<(), Error> {
        if run.name != SYNC_POSTINGS {
            return Err(Error::invalid(format!("unknown schedule {:?}", run.name)));
        }
        if api_token().is_err() {
            // An installation enabled before its secrets were set: nothing can be sent yet,
            // and that is not a failure to retry (the sync-postings action reports it).
            log::warn(format_args!(
                "posting sync skipped: the {API_TOKEN} secret is not set"
            ));
            return Ok(());
        }
        let report = jobs::sync(&Settings::load()?)?;
        log_sync(&report);
        Ok(())
    }

    fn on_action(req: ActionRequest) -> Result<String, Error> {
        let settings = Settings::load()?;
        match req.name.as_str() {
            "create-opportunity" => {
                let input: applications::CreateInput = req.input()?;
                fulcrum_sdk::to_json(&applications::create_action(&input, &settings)?)
            }
            "pending-applicants" => {
                let input: PendingInput = req.input()?;
                let limit = input.limit.unwrap_or(100).clamp(1, 200);
                fulcrum_sdk::to_json(&json!({"pending": applications::pending(limit)?}))
            }
            SYNC_POSTINGS => {
                let report = jobs::sync(&settings)?;
                log_sync(&report);
                fulcrum_sdk::to_json(&report)
            }
            "check-setup" => {
                // The host keeps an action's error with its event (an admin reads it in the
                // events list), so problems fail the action.
                let check = check_setup(&settings)?;
                if !check.ok {
                    return Err(Error::invalid(format!(
                        "setup problems: {}",
                        check.problems.join("; ")
                    )));
                }
                log::info(format_args!(
                    "setup ok: stage {}, withdrawal archive reason {}",
                    check
                        .applied_stage
                        .as_ref()
                        .map_or(Value::Null, |s| s["text"].clone()),
                    check
                        .withdrawal_archive_reason
                        .as_ref()
                        .map_or(Value::Null, |r| r["text"].clone())
                ));
                fulcrum_sdk::to_json(&check)
            }
            other => Err(Error::invalid(format!("unknown action {other:?}"))),
        }
    }
}

export_connector!(RemoteTechWork);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifest_declares_what_the_plugin_uses() {
        let m = RemoteTechWork::manifest();
        assert_eq!(m.id, "remote-tech-work");
        assert_eq!(m.vendor_hosts, [VENDOR_ORIGIN]);
        assert_eq!(m.secrets, [API_TOKEN, WEBHOOK_SECRET]);
        assert_eq!(m.permissions.len(), PERMISSIONS.len());
        assert!(m.lever_events.is_empty());
        assert_eq!(m.schedules[0].name, SYNC_POSTINGS);
        let actions: Vec<&str> = m.actions.iter().map(|a| a.name.as_str()).collect();
        assert_eq!(
            actions,
            [
                "create-opportunity",
                "pending-applicants",
                "sync-postings",
                "check-setup"
            ]
        );
        let schema: Value = serde_json::from_str(&m.config_schema).unwrap();
        assert_eq!(
            schema["properties"]["opportunity_creation"]["default"],
            "automatic"
        );
    }
}
