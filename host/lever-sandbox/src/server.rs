//! Router assembly, the `/v1` gate, Lever-shaped error bodies, and the accept loop.
//!
//! The accept loop is our own (hyper-util's auto builder per connection) for two reasons:
//! graceful shutdown, and drop faults — each connection gets a kill switch ([`ConnKill`]) in
//! its requests' extensions; when a drop fault fires it, the connection task stops polling
//! and drops the connection, so the client sees the socket close without any response.

use crate::auth;
use crate::error::ApiError;
use crate::faults::{ConnKill, Plan, injected_error};
use crate::query::RawQuery;
use crate::routes::{
    self, Ctx, MAX_FILE_BYTES, candidates, contacts, files, hiring, notes, opportunities, postings,
    requisitions, vocabulary, webhooks,
};
use crate::state::Shared;
use crate::stats::UNMATCHED;
use axum::Router;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodFilter, MethodRouter, on};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use lever_model::{Method, Operation};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;

/// Whole-request limit: 30 MB files plus room for the rest of a multipart form. Bodies
/// between 30 MB and this get the explicit per-file 413; bigger ones axum's limit (also 413).
pub const MAX_BODY_BYTES: usize = MAX_FILE_BYTES + 1024 * 1024;

/// How long in-flight connections get to finish on shutdown.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// Lever's `:name` path template → axum's `{name}`.
fn axum_path(op: Operation) -> String {
    op.path()
        .split('/')
        .map(|seg| match seg.strip_prefix(':') {
            Some(name) => format!("{{{name}}}"),
            None => seg.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("/")
}

fn method_filter(m: Method) -> MethodFilter {
    match m {
        Method::Get => MethodFilter::GET,
        Method::Post => MethodFilter::POST,
        Method::Put => MethodFilter::PUT,
        Method::Delete => MethodFilter::DELETE,
    }
}

/// The handler of every operation; the match is exhaustive, so a new `Operation` cannot be
/// left unrouted, and the HTTP method always comes from the table.
fn endpoint(op: Operation) -> MethodRouter<Shared> {
    use Operation::*;
    let m = method_filter(op.method());
    match op {
        ListPostings => on(m, postings::list),
        GetPosting => on(m, postings::get),
        CreatePosting => on(m, postings::create),
        UpdatePosting => on(m, postings::update),
        GetApplyForm => on(m, postings::apply_form),
        ApplyToPosting => on(m, postings::apply),
        ListOpportunities => on(m, opportunities::list),
        ListDeletedOpportunities => on(m, opportunities::deleted),
        GetOpportunity => on(m, opportunities::get),
        CreateOpportunity => on(m, opportunities::create),
        UpdateStage => on(m, opportunities::update_stage),
        UpdateArchived => on(m, opportunities::update_archived),
        AddTags => on(m, opportunities::add_tags),
        RemoveTags => on(m, opportunities::remove_tags),
        AddSources => on(m, opportunities::add_sources),
        RemoveSources => on(m, opportunities::remove_sources),
        AddLinks => on(m, opportunities::add_links),
        RemoveLinks => on(m, opportunities::remove_links),
        GetContact => on(m, contacts::get),
        UpdateContact => on(m, contacts::update),
        ListNotes => on(m, notes::list),
        GetNote => on(m, notes::get),
        CreateNote => on(m, notes::create),
        DeleteNote => on(m, notes::delete),
        ListFiles => on(m, files::list),
        GetFile => on(m, files::get),
        DownloadFile => on(m, files::download_file),
        UploadFile => on(m, files::upload),
        DeleteFile => on(m, files::delete),
        ListResumes => on(m, files::list_resumes),
        GetResume => on(m, files::get_resume),
        DownloadResume => on(m, files::download_resume),
        ListApplications => on(m, opportunities::list_applications),
        GetApplication => on(m, opportunities::get_application),
        ListStages => on(m, vocabulary::list_stages),
        GetStage => on(m, vocabulary::get_stage),
        ListArchiveReasons => on(m, vocabulary::list_archive_reasons),
        GetArchiveReason => on(m, vocabulary::get_archive_reason),
        ListUsers => on(m, vocabulary::list_users),
        GetUser => on(m, vocabulary::get_user),
        ListTags => on(m, vocabulary::list_tags),
        ListSources => on(m, vocabulary::list_sources),
        CreateUpload => on(m, files::create_upload),
        ListWebhooks => on(m, webhooks::list),
        CreateWebhook => on(m, webhooks::create),
        UpdateWebhooks => on(m, webhooks::update),
        DeleteWebhook => on(m, webhooks::delete),
        ListInterviews => on(m, hiring::list_interviews),
        GetInterview => on(m, hiring::get_interview),
        ListPanels => on(m, hiring::list_panels),
        GetPanel => on(m, hiring::get_panel),
        ListFeedback => on(m, hiring::list_feedback),
        GetFeedback => on(m, hiring::get_feedback),
        ListOffers => on(m, hiring::list_offers),
        ListReferrals => on(m, hiring::list_referrals),
        GetReferral => on(m, hiring::get_referral),
        ListRequisitions => on(m, requisitions::list),
        GetRequisition => on(m, requisitions::get),
        CreateRequisition => on(m, requisitions::create),
        UpdateRequisition => on(m, requisitions::update),
        ListRequisitionFields => on(m, requisitions::list_fields),
        GetRequisitionField => on(m, requisitions::get_field),
        CreateRequisitionField => on(m, requisitions::create_field),
        UpdateRequisitionField => on(m, requisitions::update_field),
        CreateUser => on(m, vocabulary::create_user),
        ListCandidates => on(m, candidates::list),
        GetCandidate => on(m, candidates::get),
        ListCandidateApplications => on(m, candidates::list_applications),
        ListCandidateNotes => on(m, candidates::list_notes),
        ListCandidateFiles => on(m, candidates::list_files),
        ListCandidateResumes => on(m, candidates::list_resumes),
        ListCandidateInterviews => on(m, candidates::list_interviews),
        ListCandidateFeedback => on(m, candidates::list_feedback),
        ListCandidateOffers => on(m, candidates::list_offers),
        ListCandidateReferrals => on(m, candidates::list_referrals),
    }
}

pub(crate) fn app(state: Shared) -> Router {
    let mut router = Router::new();
    for &op in Operation::ALL {
        router = router.route(&format!("/v1{}", axum_path(op)), endpoint(op));
    }
    router
        .merge(routes::admin::router())
        .merge(routes::oauth::router())
        .fallback(fallback)
        .layer(middleware::from_fn_with_state(state.clone(), gate))
        .layer(middleware::from_fn(lever_errors))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(state)
}

async fn fallback(req: Request) -> ApiError {
    ApiError::route_not_found(req.method().as_str(), req.uri().path())
}

/// Find the operation for a `/v1` path: literal segments beat parameters
/// (`/opportunities/deleted` over `/opportunities/:opportunity`).
pub(crate) fn match_operation(method: &http::Method, path: &str) -> Result<Operation, ApiError> {
    let segs: Vec<&str> = path.split('/').collect();
    let mut best: Option<(usize, Operation)> = None;
    let mut path_known = false;
    for &op in Operation::ALL {
        let tpl: Vec<&str> = op.path().split('/').collect();
        if tpl.len() != segs.len() {
            continue;
        }
        let mut literal = 0;
        let fits = tpl.iter().zip(&segs).all(|(t, s)| {
            if t.starts_with(':') {
                !s.is_empty()
            } else {
                literal += 1;
                t == s
            }
        });
        if !fits {
            continue;
        }
        path_known = true;
        if op.method().as_str() == method.as_str() && best.is_none_or(|(l, _)| literal > l) {
            best = Some((literal, op));
        }
    }
    match best {
        Some((_, op)) => Ok(op),
        None if path_known => Err(ApiError::method_not_allowed(
            method.as_str(),
            &format!("/v1{path}"),
        )),
        None => Err(ApiError::route_not_found(
            method.as_str(),
            &format!("/v1{path}"),
        )),
    }
}

/// Every `/v1` request passes here once, in this order: route → credential (401) →
/// permission (403) → rate limit (429) → faults → `perform_as` (400) → handler. Counts each
/// answered request under its operation label.
async fn gate(State(s): State<Shared>, mut req: Request, next: Next) -> Response {
    let Some(rest) = req
        .uri()
        .path()
        .strip_prefix("/v1")
        .filter(|r| r.is_empty() || r.starts_with('/'))
        .map(str::to_owned)
    else {
        return next.run(req).await;
    };
    let op = match match_operation(req.method(), &rest) {
        Ok(op) => op,
        Err(e) => {
            s.stats.lock().record(UNMATCHED, e.status.as_u16(), false);
            return e.into_response();
        }
    };
    let resp = match admit(&s, op, &mut req).await {
        Ok(None) => next.run(req).await,
        Ok(Some(status)) => {
            let applied = next.run(req).await;
            if applied.status().is_success() {
                // Applied, but the caller gets an error instead of the answer.
                s.stats
                    .lock()
                    .record_lost_answer(&op.label(), op.is_write());
                injected_error(status).into_response()
            } else {
                applied
            }
        }
        Err(e) => e.into_response(),
    };
    s.stats
        .lock()
        .record(&op.label(), resp.status().as_u16(), op.is_write());
    resp
}

/// Lets a request through to its handler, or refuses it. `Some(status)`: an after-apply
/// fault, to answer with once the handler has run.
async fn admit(s: &Shared, op: Operation, req: &mut Request) -> Result<Option<u16>, ApiError> {
    let cred = s.credentials.authenticate(req.headers())?;
    // Checked here too, so a token minted while its app was being revoked is refused as well.
    if let Some(o) = &cred.oauth
        && !s.oauth.touch(&o.grant_id)
    {
        return Err(ApiError::unauthorized(
            "This access token has been revoked: the app was removed from Authorized Apps",
        ));
    }
    auth::authorize(&cred, op)?;
    if !s.rate_limit.allow(&cred.rate_key()) {
        s.stats.lock().rate_limited += 1;
        return Err(ApiError::too_many_requests(
            "Rate limit exceeded: at most 10 requests per second (bursts of 20) per API key \
             or OAuth authorization",
        ));
    }
    let mut after_apply = None;
    if let Some(plan) = s.faults.plan(op.is_write()) {
        s.stats.lock().injected_faults += 1;
        match plan {
            Plan::Drop => {
                s.stats.lock().dropped_connections += 1;
                if let Some(kill) = req.extensions().get::<ConnKill>() {
                    kill.fire();
                    // The connection task drops this future together with the connection.
                    std::future::pending::<()>().await;
                }
                // Not served by our accept loop (no kill switch): the closest thing is a 503.
                return Err(injected_error(503));
            }
            Plan::Status { delay_ms, status } => {
                tokio::time::sleep(Duration::from_millis(delay_ms)).await;
                return Err(injected_error(status));
            }
            Plan::Continue { delay_ms } => {
                tokio::time::sleep(Duration::from_millis(delay_ms)).await;
            }
            Plan::AfterApply { status } => after_apply = Some(status),
        }
    }
    let query = Arc::new(RawQuery::parse(req.uri().query()));
    let actor = {
        let db = s.db.lock();
        auth::perform_as(op, &query, &db)?
    };
    req.extensions_mut().insert(Ctx { cred, actor, query });
    Ok(after_apply)
}

/// Rewrite any non-JSON error (axum's rejections: 405, 413, bad paths, …) into Lever's body.
async fn lever_errors(req: Request, next: Next) -> Response {
    let resp = next.run(req).await;
    let status = resp.status();
    if status.as_u16() < 400 {
        return resp;
    }
    // JSON errors are already Lever's (or OAuth's) shape; HTML error pages of the OAuth
    // flow are meant for a browser.
    let already_shaped = resp
        .headers()
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/json") || ct.starts_with("text/html"));
    if already_shaped {
        return resp;
    }
    let text = axum::body::to_bytes(resp.into_body(), 64 * 1024)
        .await
        .map(|b| String::from_utf8_lossy(&b).trim().to_owned())
        .unwrap_or_default();
    let message = if status == http::StatusCode::PAYLOAD_TOO_LARGE {
        "Request body exceeds the 30 MB limit".to_owned()
    } else if text.is_empty() {
        status.canonical_reason().unwrap_or("Error").to_owned()
    } else {
        text
    };
    ApiError::for_status(status, message).into_response()
}

/// Accept connections until `cancel` fires, then let open connections finish (bounded).
pub(crate) async fn serve(listener: TcpListener, app: Router, cancel: CancellationToken) {
    let mut conns = JoinSet::new();
    loop {
        let (stream, _) = tokio::select! {
            _ = cancel.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // e.g. EMFILE: back off briefly instead of spinning.
                    tracing::warn!("sandbox accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let _ = stream.set_nodelay(true);
        conns.spawn(serve_connection(stream, app.clone(), cancel.clone()));
        while conns.try_join_next().is_some() {}
    }
    drop(listener);
    let _ = tokio::time::timeout(SHUTDOWN_GRACE, async {
        while conns.join_next().await.is_some() {}
    })
    .await;
    conns.abort_all();
}

async fn serve_connection(stream: tokio::net::TcpStream, app: Router, cancel: CancellationToken) {
    let kill = ConnKill::default();
    let kill_for_requests = kill.clone();
    let service = tower::service_fn(move |mut req: http::Request<Incoming>| {
        req.extensions_mut().insert(kill_for_requests.clone());
        app.clone().oneshot(req)
    });
    let builder = auto::Builder::new(TokioExecutor::new());
    let conn = builder
        .serve_connection_with_upgrades(TokioIo::new(stream), TowerToHyperService::new(service));
    tokio::pin!(conn);
    tokio::select! {
        _ = conn.as_mut() => {}
        // Dropping the connection future closes the socket without writing a response.
        _ = kill.0.notified() => {}
        _ = cancel.cancelled() => {
            conn.as_mut().graceful_shutdown();
            tokio::select! {
                _ = conn.as_mut() => {}
                _ = kill.0.notified() => {}
                _ = tokio::time::sleep(SHUTDOWN_GRACE) => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_operation_matches_itself_and_literals_win() {
        for &op in Operation::ALL {
            let concrete = op.path().replace(':', "x-");
            let method = http::Method::from_bytes(op.method().as_str().as_bytes()).unwrap();
            assert_eq!(
                match_operation(&method, &concrete).unwrap(),
                op,
                "{}",
                op.label()
            );
        }
        assert_eq!(
            match_operation(&http::Method::GET, "/opportunities/deleted").unwrap(),
            Operation::ListDeletedOpportunities
        );
        assert_eq!(
            match_operation(&http::Method::PATCH, "/postings")
                .unwrap_err()
                .status,
            http::StatusCode::METHOD_NOT_ALLOWED
        );
        assert_eq!(
            match_operation(&http::Method::GET, "/nope")
                .unwrap_err()
                .status,
            http::StatusCode::NOT_FOUND
        );
        assert_eq!(
            axum_path(Operation::GetNote),
            "/opportunities/{opportunity}/notes/{note}"
        );
    }
}
