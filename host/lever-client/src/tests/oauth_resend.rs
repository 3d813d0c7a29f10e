//! OAuth connections against the real sandbox: a 401 asks the token source for a newer
//! token once and resends once; refused refreshes and second 401s end the call; the rate
//! budget and fingerprint follow the connection, not the token.

use super::*;
use lever_sandbox::{KeySpec, Sandbox, SandboxConfig};
use parking_lot::Mutex as PlMutex;
use secrecy::{ExposeSecret, SecretString};
use std::sync::atomic::{AtomicUsize, Ordering};

/// A connection whose current token Lever may have revoked; `refreshed` hands out the next
/// prepared token (or `refusal`), like a host's source would after a refresh.
struct RotatingSource {
    id: String,
    current: PlMutex<SecretString>,
    next: PlMutex<Vec<SecretString>>,
    refusal: Option<fn() -> LeverError>,
    refreshes: AtomicUsize,
}

impl RotatingSource {
    fn new(id: &str, current: &str, next: &[String]) -> Arc<Self> {
        Arc::new(RotatingSource {
            id: id.to_owned(),
            current: PlMutex::new(SecretString::from(current.to_owned())),
            next: PlMutex::new(
                next.iter()
                    .rev()
                    .map(|t| SecretString::from(t.clone()))
                    .collect(),
            ),
            refusal: None,
            refreshes: AtomicUsize::new(0),
        })
    }
}

impl AccessTokenSource for RotatingSource {
    fn access_token(&self) -> BoxFuture<'_, Result<SecretString, LeverError>> {
        let token = self.current.lock().clone();
        Box::pin(async move { Ok(token) })
    }

    fn refreshed(
        &self,
        rejected: &SecretString,
    ) -> BoxFuture<'_, Result<SecretString, LeverError>> {
        self.refreshes.fetch_add(1, Ordering::SeqCst);
        let result = match self.refusal {
            Some(refusal) => Err(refusal()),
            None => {
                let mut current = self.current.lock();
                if current.expose_secret() == rejected.expose_secret()
                    && let Some(next) = self.next.lock().pop()
                {
                    *current = next;
                }
                Ok(current.clone())
            }
        };
        Box::pin(async move { result })
    }

    fn connection_id(&self) -> &str {
        &self.id
    }
}

/// Lets a test keep a handle on the source it gave the client.
struct Shared(Arc<RotatingSource>);

impl AccessTokenSource for Shared {
    fn access_token(&self) -> BoxFuture<'_, Result<SecretString, LeverError>> {
        self.0.access_token()
    }
    fn refreshed(
        &self,
        rejected: &SecretString,
    ) -> BoxFuture<'_, Result<SecretString, LeverError>> {
        self.0.refreshed(rejected)
    }
    fn connection_id(&self) -> &str {
        self.0.connection_id()
    }
}

async fn sandbox() -> Sandbox {
    Sandbox::start(SandboxConfig::default(), "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap()
}

fn oauth_client(sandbox: &Sandbox, source: &Arc<RotatingSource>) -> LeverClient {
    let credential = Credential::oauth(Shared(source.clone()));
    LeverClient::new(fast_config(&sandbox.api_url()), credential).unwrap()
}

fn token(sandbox: &Sandbox) -> String {
    sandbox.issue_bearer_token(KeySpec::all("oauth connection"))
}

#[tokio::test]
async fn a_401_refreshes_once_and_resends_once() {
    let sandbox = sandbox().await;
    let (t1, t2) = (token(&sandbox), token(&sandbox));
    sandbox.revoke(&t1);
    let source = RotatingSource::new("conn-1", &t1, std::slice::from_ref(&t2));
    let client = oauth_client(&sandbox, &source);

    let stages: Vec<Stage> = client.stages().try_collect().await.unwrap();
    assert!(!stages.is_empty());
    assert_eq!(source.refreshes.load(Ordering::SeqCst), 1);
    let stats = sandbox.stats();
    assert_eq!(stats.count(Operation::ListStages, 401), 1);
    assert_eq!(stats.count(Operation::ListStages, 200), 1);
    assert_eq!(stats.requests_to(Operation::ListStages), 2);
    // The next call uses the refreshed token straight away.
    client.stages().try_collect::<Vec<_>>().await.unwrap();
    assert_eq!(source.refreshes.load(Ordering::SeqCst), 1);
    assert_eq!(sandbox.stats().count(Operation::ListStages, 401), 1);
}

#[tokio::test]
async fn multipart_uploads_are_rebuilt_for_the_resend() {
    let sandbox = sandbox().await;
    let (t1, t2) = (token(&sandbox), token(&sandbox));
    let source = RotatingSource::new("conn-upload", &t1, std::slice::from_ref(&t2));
    let client = oauth_client(&sandbox, &source);
    let mut first = client.opportunities(OpportunityQuery::default());
    let opportunity = first.try_next().await.unwrap().expect("seeded opportunity");
    drop(first);
    sandbox.revoke(&t1);

    let file = FileUpload::new("cv.pdf", "application/pdf", &b"%PDF-1.4 resend"[..]);
    let uploaded = client
        .upload_file(&opportunity.id, file, &sandbox.default_user_id())
        .await
        .unwrap();
    assert_eq!(uploaded.name, "cv.pdf");
    let stats = sandbox.stats();
    assert_eq!(stats.count(Operation::UploadFile, 401), 1);
    assert_eq!(stats.writes_to(Operation::UploadFile), 1);
    assert_eq!(stats.requests_to(Operation::UploadFile), 2);
    assert_eq!(source.refreshes.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_refused_refresh_is_returned_without_resending() {
    let sandbox = sandbox().await;
    let t1 = token(&sandbox);
    sandbox.revoke(&t1);
    let mut source = RotatingSource::new("conn-2", &t1, &[]);
    Arc::get_mut(&mut source).unwrap().refusal = Some(|| LeverError::Reconnect {
        message: "the refresh token was refused (invalid_grant)".into(),
    });
    let client = oauth_client(&sandbox, &source);
    let err = client.stage("lead-new").await.unwrap_err();
    assert!(matches!(err, LeverError::Reconnect { .. }), "{err:?}");
    assert!(!err.is_transient());
    assert_eq!(source.refreshes.load(Ordering::SeqCst), 1);
    assert_eq!(sandbox.stats().requests_to(Operation::GetStage), 1);
}

#[tokio::test]
async fn a_second_401_is_unauthorized_and_ends_the_call() {
    let sandbox = sandbox().await;
    let (t1, t2) = (token(&sandbox), token(&sandbox));
    sandbox.revoke(&t1);
    sandbox.revoke(&t2);
    let source = RotatingSource::new("conn-3", &t1, &[t2.clone(), token(&sandbox)]);
    let client = oauth_client(&sandbox, &source);
    let err = client.stage("lead-new").await.unwrap_err();
    assert!(matches!(err, LeverError::Unauthorized { .. }), "{err:?}");
    assert_eq!(source.refreshes.load(Ordering::SeqCst), 1);
    assert_eq!(sandbox.stats().count(Operation::GetStage, 401), 2);
    for text in [err.to_string(), format!("{err:?}"), format!("{client:?}")] {
        assert!(!text.contains(&t1) && !text.contains(&t2), "{text}");
    }

    // A source that hands back the rejected token again: no pointless resend.
    let t3 = token(&sandbox);
    sandbox.revoke(&t3);
    let stuck = RotatingSource::new("conn-4", &t3, &[]);
    let err = oauth_client(&sandbox, &stuck)
        .stage("lead-new")
        .await
        .unwrap_err();
    assert!(matches!(err, LeverError::Unauthorized { .. }), "{err:?}");
    assert_eq!(sandbox.stats().count(Operation::GetStage, 401), 3);
}

/// The source cannot produce a token at all (e.g. the token endpoint is down).
struct Unreachable;

impl AccessTokenSource for Unreachable {
    fn access_token(&self) -> BoxFuture<'_, Result<SecretString, LeverError>> {
        Box::pin(async {
            Err(LeverError::Unavailable {
                status: None,
                message: "token endpoint down".into(),
                outcome_unknown: false,
            })
        })
    }
    fn refreshed(&self, _: &SecretString) -> BoxFuture<'_, Result<SecretString, LeverError>> {
        unreachable!("nothing was sent, so nothing was rejected")
    }
    fn connection_id(&self) -> &str {
        "conn-down"
    }
}

#[tokio::test]
async fn a_token_source_error_stops_before_sending() {
    let sandbox = sandbox().await;
    let client = LeverClient::new(
        fast_config(&sandbox.api_url()),
        Credential::oauth(Unreachable),
    )
    .unwrap();
    let err = client.stage("lead-new").await.unwrap_err();
    assert!(
        matches!(err, LeverError::Unavailable { ref message, .. } if message == "token endpoint down"),
        "{err:?}"
    );
    assert_eq!(sandbox.stats().total_requests(), 0);
    assert_eq!(client.stats().requests_sent, 0);
}

#[tokio::test]
async fn budget_and_fingerprint_follow_the_connection_not_the_token() {
    let a = Credential::oauth(Shared(RotatingSource::new(
        "conn-9",
        "token-one-abcdef",
        &[],
    )));
    let b = Credential::oauth(Shared(RotatingSource::new(
        "conn-9",
        "token-two-abcdef",
        &[],
    )));
    let other = Credential::oauth(Shared(RotatingSource::new(
        "conn-10",
        "token-one-abcdef",
        &[],
    )));
    assert_eq!(a.fingerprint(), b.fingerprint());
    assert_ne!(a.fingerprint(), other.fingerprint());
    assert_eq!(a.fingerprint().len(), 16);
    // Not the fingerprint of a key or static token with the same text.
    assert_ne!(a.fingerprint(), Credential::bearer("conn-9").fingerprint());
    let text = format!("{a:?}");
    assert!(text.starts_with("OAuth") && !text.contains("conn-9") && !text.contains("token-one"));
}

#[tokio::test]
async fn the_oauth_token_is_redacted_from_echoed_errors() {
    const TOKEN: &str = "oauth-access-token-DO-NOT-LEAK";
    let srv = serve(|req: &Req, _| {
        let auth = req.headers["authorization"].to_str().unwrap().to_owned();
        reply(
            400,
            json!({"code": auth, "message": format!("{auth} / {TOKEN}")}),
        )
    })
    .await;
    let source = RotatingSource::new("conn-echo", TOKEN, &[]);
    let client =
        LeverClient::new(fast_config(&srv.base), Credential::oauth(Shared(source))).unwrap();
    let err = client.stage("x").await.unwrap_err();
    assert_eq!(
        srv.requests()[0].headers["authorization"],
        format!("Bearer {TOKEN}").as_str()
    );
    for text in [err.to_string(), format!("{err:?}")] {
        assert!(!text.contains(TOKEN), "{text}");
        assert!(text.contains(crate::credential::REDACTED), "{text}");
    }
}
