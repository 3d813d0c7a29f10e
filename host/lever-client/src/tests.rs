//! Behaviour against a scripted local HTTP server: retries, the outcome-unknown rule,
//! timeouts, pagination restarts, auth headers, multipart, rate budgets and redaction.
//! The full client-vs-sandbox suite lives in the workspace `tests` crate.

use super::*;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use futures::{StreamExt, TryStreamExt};
use serde_json::{Value, json};
use std::sync::Mutex;
use std::time::Duration;

const KEY: &str = "test-key-DO-NOT-LEAK-9f8e7d6c";

#[derive(Clone, Debug)]
struct Req {
    method: String,
    path: String,
    query: Vec<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
}

impl Req {
    fn param(&self, key: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

struct Reply {
    status: u16,
    body: String,
    delay: Duration,
}

fn reply(status: u16, body: Value) -> Reply {
    Reply {
        status,
        body: if body.is_null() {
            String::new()
        } else {
            body.to_string()
        },
        delay: Duration::ZERO,
    }
}

type Script = Box<dyn Fn(&Req, usize) -> Reply + Send + Sync>;

struct Server {
    script: Script,
    seen: Mutex<Vec<Req>>,
}

struct Running {
    base: String,
    server: Arc<Server>,
}

impl Running {
    fn requests(&self) -> Vec<Req> {
        self.server.seen.lock().unwrap().clone()
    }
    fn hits(&self) -> usize {
        self.server.seen.lock().unwrap().len()
    }
}

async fn handle(
    State(server): State<Arc<Server>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let query = url::form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
        .into_owned()
        .collect();
    let req = Req {
        method: method.to_string(),
        path: uri.path().to_owned(),
        query,
        headers,
        body,
    };
    let n = {
        let mut seen = server.seen.lock().unwrap();
        seen.push(req.clone());
        seen.len()
    };
    let r = (server.script)(&req, n);
    if !r.delay.is_zero() {
        tokio::time::sleep(r.delay).await;
    }
    let status = StatusCode::from_u16(r.status).unwrap();
    (status, [("content-type", "application/json")], r.body).into_response()
}

/// Serves `script(request, hit_number_starting_at_1)` on 127.0.0.1.
async fn serve(script: impl Fn(&Req, usize) -> Reply + Send + Sync + 'static) -> Running {
    let server = Arc::new(Server {
        script: Box::new(script),
        seen: Mutex::new(Vec::new()),
    });
    let app = axum::Router::new()
        .fallback(handle)
        .with_state(server.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Running {
        base: format!("http://{addr}/v1"),
        server,
    }
}

fn fast_config(base: &str) -> ClientConfig {
    let mut c = ClientConfig::new(base).unwrap();
    c.min_backoff = Duration::from_millis(1);
    c.max_backoff = Duration::from_millis(5);
    c.max_retries = 3;
    c.rate_per_second = 10_000;
    c.burst = 10_000;
    c.request_timeout = Duration::from_secs(5);
    c
}

fn client(base: &str) -> LeverClient {
    LeverClient::new(fast_config(base), Credential::api_key(KEY)).unwrap()
}

fn opportunity(id: &str) -> Value {
    json!({"id": id, "createdAt": 1, "emails": ["a@x.io"]})
}

fn new_opp() -> NewOpportunity {
    NewOpportunity {
        name: Some("Ada".into()),
        emails: vec!["ada@x.io".into()],
        ..Default::default()
    }
}

#[tokio::test]
async fn get_is_retried_through_503_and_counts() {
    let srv = serve(|_, n| {
        if n <= 2 {
            reply(
                503,
                json!({"code": "ServiceUnavailable", "message": "maintenance"}),
            )
        } else {
            reply(200, json!({"data": {"id": "offer", "text": "Offer"}}))
        }
    })
    .await;
    let c = client(&srv.base);
    let stage = c.stage("offer").await.unwrap();
    assert_eq!(stage.text, "Offer");
    let s = c.stats();
    assert_eq!((s.requests_sent, s.retries), (3, 2));
    let req = &srv.requests()[0];
    assert_eq!(
        (req.method.as_str(), req.path.as_str()),
        ("GET", "/v1/stages/offer")
    );
    assert!(
        req.headers["user-agent"]
            .to_str()
            .unwrap()
            .starts_with("fulcrum-lever-client/")
    );
}

#[tokio::test]
async fn create_is_never_resent_after_an_ambiguous_500() {
    let srv = serve(|_, _| reply(500, json!({"code": "InternalError", "message": "boom"}))).await;
    let c = client(&srv.base);
    let err = c
        .create_opportunity("u1", &new_opp(), Attachments::default())
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            LeverError::Unavailable {
                status: Some(500),
                outcome_unknown: true,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.is_transient() && err.outcome_unknown());
    assert_eq!(srv.hits(), 1, "a create must not be resent blindly");
    assert_eq!(c.stats().retries, 0);
}

#[tokio::test]
async fn create_is_retried_after_429_and_503() {
    let srv = serve(|_, n| match n {
        1 => reply(
            429,
            json!({"code": "TooManyRequests", "message": "slow down"}),
        ),
        2 => reply(503, Value::Null),
        _ => reply(201, json!({"data": opportunity("o1")})),
    })
    .await;
    let c = client(&srv.base);
    let o = c
        .create_opportunity("u1", &new_opp(), Attachments::default())
        .await
        .unwrap();
    assert_eq!(o.id, "o1");
    assert_eq!(srv.hits(), 3);
    let s = c.stats();
    assert_eq!((s.retries, s.rate_limited_responses), (2, 1));
    let req = &srv.requests()[2];
    assert_eq!(req.param("perform_as"), Some("u1"));
    assert_eq!(req.headers["content-type"], "application/json");
    let body: Value = serde_json::from_slice(&req.body).unwrap();
    assert_eq!(body, json!({"name": "Ada", "emails": ["ada@x.io"]}));
}

#[tokio::test]
async fn retries_are_bounded() {
    let srv = serve(|_, _| reply(502, Value::Null)).await;
    let c = client(&srv.base);
    let err = c.opportunity("o1").await.unwrap_err();
    assert!(
        matches!(
            err,
            LeverError::Unavailable {
                status: Some(502),
                outcome_unknown: false,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.is_transient());
    assert_eq!(srv.hits(), 4, "1 attempt + max_retries");

    let srv = serve(|_, _| reply(429, json!({"message": "no"}))).await;
    let c = client(&srv.base);
    let err = c.opportunity("o1").await.unwrap_err();
    assert!(matches!(err, LeverError::RateLimited { .. }), "{err:?}");
    assert_eq!(c.stats().rate_limited_responses, 4);
}

#[tokio::test]
async fn timeouts_retry_reads_but_not_creates() {
    let slow = |_: &Req, _| Reply {
        delay: Duration::from_millis(400),
        ..reply(200, json!({"data": opportunity("o1")}))
    };
    let srv = serve(slow).await;
    let mut config = fast_config(&srv.base);
    config.request_timeout = Duration::from_millis(100);
    config.max_retries = 2;
    let c = LeverClient::new(config, Credential::api_key(KEY)).unwrap();

    let err = c.opportunity("o1").await.unwrap_err();
    assert!(
        matches!(
            err,
            LeverError::Unavailable {
                status: None,
                outcome_unknown: false,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(srv.hits(), 3);

    let err = c
        .create_opportunity("u1", &new_opp(), Attachments::default())
        .await
        .unwrap_err();
    assert!(err.outcome_unknown(), "{err:?}");
    assert!(err.to_string().contains("reconcile"), "{err}");
    assert_eq!(srv.hits(), 4, "the create was sent once");
}

#[tokio::test]
async fn connect_errors_are_retried_even_for_creates() {
    // A port nobody listens on: the request never leaves this host.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let c = client(&format!("http://{addr}/v1"));
    let err = c
        .create_opportunity("u1", &new_opp(), Attachments::default())
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            LeverError::Unavailable {
                status: None,
                outcome_unknown: false,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(c.stats().retries, 3);
    assert!(!err.to_string().contains(KEY));
}

#[tokio::test]
async fn pagination_follows_tokens_and_restarts_on_a_rejected_offset() {
    // Items a..e served two per page; token "tN" starts at index N. The first request
    // carrying t2 is rejected the way tap-lever saw Lever do it.
    let items = ["a", "b", "c", "d", "e"];
    let rejected = Mutex::new(false);
    let srv = serve(move |req, _| {
        let start: usize = req
            .param("offset")
            .map(|t| t.trim_start_matches('t').parse().unwrap())
            .unwrap_or(0);
        if start == 2 && !std::mem::replace(&mut *rejected.lock().unwrap(), true) {
            return reply(
                400,
                json!({"code": "BadRequest", "message": "Invalid offset token: Offset token is invalid for sort"}),
            );
        }
        let limit: usize = req.param("limit").unwrap().parse().unwrap();
        let end = (start + limit).min(items.len());
        let data: Vec<Value> = items[start..end]
            .iter()
            .map(|id| json!({"id": id, "text": id.to_uppercase()}))
            .collect();
        if end < items.len() {
            reply(200, json!({"data": data, "hasNext": true, "next": format!("t{end}")}))
        } else {
            reply(200, json!({"data": data, "hasNext": false}))
        }
    })
    .await;
    let mut config = fast_config(&srv.base);
    config.page_size = 2;
    let c = LeverClient::new(config, Credential::api_key(KEY)).unwrap();
    let stages: Vec<Stage> = c.stages().try_collect().await.unwrap();
    let ids: Vec<_> = stages.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(ids, items);
    let offsets: Vec<_> = srv
        .requests()
        .iter()
        .map(|r| r.param("offset").map(str::to_owned))
        .collect();
    assert_eq!(
        offsets,
        [
            None,
            Some("t2".into()),
            None,
            Some("t2".into()),
            Some("t4".into())
        ]
    );
    assert!(srv.requests().iter().all(|r| r.param("limit") == Some("2")));
}

#[tokio::test]
async fn pagination_gives_up_after_max_restarts() {
    let srv = serve(|req, _| {
        if req.param("offset").is_some() {
            reply(400, json!({"message": "Invalid offset token"}))
        } else {
            reply(
                200,
                json!({"data": [{"text": "rust", "count": 2}], "hasNext": true, "next": "x"}),
            )
        }
    })
    .await;
    let c = client(&srv.base);
    let results: Vec<Result<TextCount, LeverError>> = c.tags().collect().await;
    assert_eq!(results.len(), 2, "one item, then the error");
    assert_eq!(results[0].as_ref().unwrap().text, "rust");
    assert!(matches!(
        results[1],
        Err(LeverError::Invalid { status: 400, .. })
    ));
    assert_eq!(srv.hits(), 2 * (1 + MAX_RESTARTS));
}

/// Serves `n` opportunities `o0..` with Lever-style tokens: "tN" starts at index N. `reject`
/// decides, per offset token, whether to answer Lever's 400 instead.
async fn serve_opportunities(
    n: usize,
    reject: impl Fn(&str) -> bool + Send + Sync + 'static,
) -> Running {
    serve(move |req, _| {
        let offset = req.param("offset");
        if offset.is_some_and(&reject) {
            return reply(
                400,
                json!({"code": "BadRequest", "message": "Invalid offset token: Offset token is invalid for sort"}),
            );
        }
        let start: usize = offset
            .map(|t| t.trim_start_matches('t').parse().unwrap())
            .unwrap_or(0);
        let limit: usize = req.param("limit").unwrap().parse().unwrap();
        let end = (start + limit).min(n);
        let data: Vec<Value> = (start..end).map(|i| opportunity(&format!("o{i}"))).collect();
        if end < n {
            reply(200, json!({"data": data, "hasNext": true, "next": format!("t{end}")}))
        } else {
            reply(200, json!({"data": data, "hasNext": false}))
        }
    })
    .await
}

#[tokio::test]
async fn page_calls_fetch_one_lever_page_per_call_and_expose_the_token() {
    let srv = serve_opportunities(5, |_| false).await;
    let c = client(&srv.base);
    let query = OpportunityQuery {
        tag: vec!["rust".into()],
        archived: Some(false),
        ..Default::default()
    };
    let mut ids = Vec::new();
    let mut offset: Option<String> = None;
    let mut tokens = Vec::new();
    loop {
        let page = c
            .opportunities_page(&query, offset.as_deref(), 2)
            .await
            .unwrap();
        assert!(page.data.len() <= 2);
        offset = page.next_offset().map(str::to_owned);
        ids.extend(page.data.into_iter().map(|o| o.id));
        tokens.push(offset.clone());
        if offset.is_none() {
            break;
        }
    }
    assert_eq!(ids, ["o0", "o1", "o2", "o3", "o4"]);
    assert_eq!(tokens, [Some("t2".into()), Some("t4".into()), None]);
    assert_eq!(srv.hits(), 3, "one request per page");
    let reqs = srv.requests();
    for (req, offset) in reqs.iter().zip([None, Some("t2"), Some("t4")]) {
        assert_eq!(req.path, "/v1/opportunities");
        assert_eq!(req.param("offset"), offset);
        assert_eq!(req.param("limit"), Some("2"));
        assert_eq!(req.param("tag"), Some("rust"));
        assert_eq!(req.param("archived"), Some("false"));
    }

    // The limit is clamped to Lever's 1..=100.
    let page = c.opportunities_page(&query, None, 0).await.unwrap();
    assert_eq!(page.data.len(), 1);
    c.opportunities_page(&query, None, 500).await.unwrap();
    let reqs = srv.requests();
    let limits: Vec<_> = reqs[3..].iter().map(|r| r.param("limit")).collect();
    assert_eq!(limits, [Some("1"), Some("100")]);

    // Postings go through the same function.
    let srv = serve(|_, _| {
        reply(
            200,
            json!({"data": [{"id": "p1", "text": "Engineer", "createdAt": 1}], "hasNext": true, "next": "n1"}),
        )
    })
    .await;
    let c = client(&srv.base);
    let query = PostingQuery {
        state: vec![PostingState::Published],
        ..Default::default()
    };
    let page = c.postings_page(&query, None, 7).await.unwrap();
    assert_eq!(page.data[0].id, "p1");
    assert_eq!(page.next_offset(), Some("n1"));
    let req = &srv.requests()[0];
    assert_eq!(
        (
            req.path.as_str(),
            req.param("state"),
            req.param("limit"),
            req.param("offset")
        ),
        ("/v1/postings", Some("published"), Some("7"), None)
    );
}

#[tokio::test]
async fn page_calls_surface_a_rejected_offset_token_without_restarting() {
    let srv = serve_opportunities(5, |token| token == "t2").await;
    let c = client(&srv.base);
    let query = OpportunityQuery::default();
    let first = c.opportunities_page(&query, None, 2).await.unwrap();
    let err = c
        .opportunities_page(&query, first.next_offset(), 2)
        .await
        .unwrap_err();
    assert!(err.is_invalid_offset_token(), "{err:?}");
    assert!(matches!(err, LeverError::Invalid { status: 400, .. }));
    assert_eq!(srv.hits(), 2, "no retry and no restart for a page call");
    assert_eq!(c.stats().retries, 0);

    // Other 400s are not offset-token errors.
    let srv = serve(|_, _| {
        reply(
            400,
            json!({"code": "BadRequest", "message": "Invalid email"}),
        )
    })
    .await;
    let err = client(&srv.base)
        .opportunities_page(&query, Some("t2"), 2)
        .await
        .unwrap_err();
    assert!(!err.is_invalid_offset_token(), "{err:?}");

    // The stream on top of the same function still restarts.
    let rejected = Mutex::new(false);
    let srv = serve_opportunities(5, move |token| {
        token == "t2" && !std::mem::replace(&mut *rejected.lock().unwrap(), true)
    })
    .await;
    let mut config = fast_config(&srv.base);
    config.page_size = 2;
    let c = LeverClient::new(config, Credential::api_key(KEY)).unwrap();
    let all: Vec<Opportunity> = c.opportunities(query).try_collect().await.unwrap();
    let ids: Vec<_> = all.iter().map(|o| o.id.as_str()).collect();
    assert_eq!(ids, ["o0", "o1", "o2", "o3", "o4"]);
    assert_eq!(
        srv.hits(),
        5,
        "page, rejected page, restart, then two pages"
    );
}

#[tokio::test]
async fn a_page_that_points_back_at_itself_is_an_error() {
    let srv = serve(|_, _| {
        reply(
            200,
            json!({"data": [opportunity("o1")], "hasNext": true, "next": "same"}),
        )
    })
    .await;
    let c = client(&srv.base);
    let query = OpportunityQuery::default();
    let first = c.opportunities_page(&query, None, 1).await.unwrap();
    assert_eq!(first.next_offset(), Some("same"));
    let err = c
        .opportunities_page(&query, Some("same"), 1)
        .await
        .unwrap_err();
    assert!(matches!(err, LeverError::Decode { .. }), "{err:?}");
    // A stream stops with the same error instead of looping.
    let results: Vec<Result<Opportunity, LeverError>> = c.opportunities(query).collect().await;
    assert_eq!(results.len(), 2, "{results:?}");
    assert!(matches!(results[1], Err(LeverError::Decode { .. })));
}

#[tokio::test]
async fn list_filters_are_repeated_keys() {
    let srv = serve(|_, _| reply(200, json!({"data": []}))).await;
    let c = client(&srv.base);
    let query = PostingQuery {
        state: vec![PostingState::Published, PostingState::Internal],
        tag: vec!["a".into(), "b".into()],
        ..Default::default()
    };
    let none: Vec<Posting> = c.postings(query).try_collect().await.unwrap();
    assert!(none.is_empty());
    let req = &srv.requests()[0];
    assert_eq!(
        req.query,
        [
            ("state", "published"),
            ("state", "internal"),
            ("tag", "a"),
            ("tag", "b"),
            ("limit", "100")
        ]
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
    );
}

#[tokio::test]
async fn auth_headers_and_perform_as() {
    let srv = serve(|_, _| reply(200, json!({"data": opportunity("o1")}))).await;
    let basic = LeverClient::new(fast_config(&srv.base), Credential::api_key(KEY)).unwrap();
    basic.update_stage("o1", "offer", Some("u9")).await.unwrap();
    let bearer = LeverClient::new(fast_config(&srv.base), Credential::bearer("tok-123")).unwrap();
    bearer.update_stage("o1", "offer", None).await.unwrap();

    let reqs = srv.requests();
    use base64::Engine as _;
    let expected = base64::engine::general_purpose::STANDARD.encode(format!("{KEY}:"));
    assert_eq!(
        reqs[0].headers["authorization"],
        format!("Basic {expected}").as_str()
    );
    assert_eq!(reqs[0].method, "PUT");
    assert_eq!(reqs[0].path, "/v1/opportunities/o1/stage");
    assert_eq!(reqs[0].param("perform_as"), Some("u9"));
    assert_eq!(
        serde_json::from_slice::<Value>(&reqs[0].body).unwrap(),
        json!({"stage": "offer"})
    );
    assert_eq!(reqs[1].headers["authorization"], "Bearer tok-123");
    assert_eq!(reqs[1].param("perform_as"), None);
}

#[tokio::test]
async fn multipart_create_and_upload() {
    let srv = serve(|req, _| {
        if req.path.ends_with("/files") {
            reply(
                201,
                json!({"data": {"id": "f1", "name": "cv.pdf", "size": "4"}}),
            )
        } else {
            reply(201, json!({"data": opportunity("o1")}))
        }
    })
    .await;
    let c = client(&srv.base);
    let mut body = new_opp();
    body.phones = vec![Phone {
        kind: Some("mobile".into()),
        value: "+1".into(),
    }];
    let attachments = Attachments {
        resume: Some(FileUpload::new("cv.pdf", "application/pdf", &b"%PDF"[..])),
        files: vec![FileUpload::new("note.txt", "text/plain", &b"hi"[..])],
    };
    c.create_opportunity("u1", &body, attachments)
        .await
        .unwrap();
    let file = c
        .upload_file(
            "o1",
            FileUpload::new("cv.pdf", "application/pdf", &b"%PDF"[..]),
            "u1",
        )
        .await
        .unwrap();
    assert_eq!(file.size, 4);

    let reqs = srv.requests();
    let ct = reqs[0].headers["content-type"].to_str().unwrap();
    assert!(ct.starts_with("multipart/form-data"), "{ct}");
    let text = String::from_utf8_lossy(&reqs[0].body);
    for name in [
        r#"name="name""#,
        r#"name="emails[]""#,
        r#"name="phones[0][type]""#,
        r#"name="phones[0][value]""#,
        r#"name="resumeFile"; filename="cv.pdf""#,
        r#"name="files[]"; filename="note.txt""#,
    ] {
        assert!(text.contains(name), "{name} missing from {text}");
    }
    assert_eq!(reqs[1].path, "/v1/opportunities/o1/files");
    assert_eq!(reqs[1].param("perform_as"), Some("u1"));
    assert!(String::from_utf8_lossy(&reqs[1].body).contains(r#"name="file"; filename="cv.pdf""#));
}

#[tokio::test]
async fn typed_errors_downloads_deletes_and_webhooks() {
    let srv = serve(|req, _| match (req.method.as_str(), req.path.as_str()) {
        ("POST", "/v1/opportunities/o1/notes") => reply(
            403,
            json!({"code": "Forbidden", "message": "not authorized"}),
        ),
        ("GET", "/v1/opportunities/o1/files/f1/download") => Reply {
            status: 200,
            body: "%PDF-raw".into(),
            delay: Duration::ZERO,
        },
        ("GET", "/v1/opportunities/o1/resumes/r1/download") => reply(
            422,
            json!({"code": "UnprocessableEntity", "message": "file could not be processed"}),
        ),
        ("DELETE", "/v1/opportunities/o1/notes/n1") => reply(204, Value::Null),
        ("POST", "/v1/webhooks") => reply(
            201,
            json!({"data": {"data": {"id": "w1", "event": "candidateHired", "url": "https://x/h",
                "configuration": {"signatureToken": "sig"}, "createdAt": 5}}}),
        ),
        ("GET", "/v1/opportunities/missing") => reply(
            404,
            json!({"code": "ResourceNotFound", "message": "opportunities missing was not found"}),
        ),
        _ => reply(401, json!({"code": "Unauthorized", "message": "bad key"})),
    })
    .await;
    let c = client(&srv.base);

    let err = c
        .create_note(
            "o1",
            &NewNote {
                value: "hi".into(),
                ..Default::default()
            },
            None,
        )
        .await
        .unwrap_err();
    match &err {
        LeverError::Forbidden {
            operation,
            permission,
            ..
        } => {
            assert_eq!(*operation, Operation::CreateNote);
            assert_eq!(*permission, Permission::CreateOpportunityNote);
        }
        e => panic!("{e:?}"),
    }
    assert!(
        err.to_string()
            .contains("'create opportunity note' permission")
    );

    assert_eq!(&c.download_file("o1", "f1").await.unwrap()[..], b"%PDF-raw");
    let err = c.download_resume("o1", "r1").await.unwrap_err();
    assert!(
        matches!(err, LeverError::Invalid { status: 422, ref message, .. } if message == "file could not be processed")
    );
    c.delete_note("o1", "n1").await.unwrap();
    let hook = c
        .create_webhook(&NewWebhook {
            url: "https://x/h".into(),
            event: "candidateHired".into(),
            configuration: None,
        })
        .await
        .unwrap();
    assert_eq!(hook.configuration.signature_token.as_deref(), Some("sig"));
    assert!(matches!(
        c.opportunity("missing").await,
        Err(LeverError::NotFound { .. })
    ));
    assert!(matches!(
        c.user("u1").await,
        Err(LeverError::Unauthorized { .. })
    ));
    assert_eq!(c.stats().retries, 0, "none of these is retryable");
}

#[tokio::test]
async fn clients_sharing_a_key_share_one_budget() {
    let srv = serve(|_, _| reply(200, json!({"data": {"id": "s", "text": "S"}}))).await;
    // 2 per second, burst 1: the second request on the same key waits ~500 ms.
    let limits = RateLimits::new(2, 1);
    let a = LeverClient::with_rate_limits(
        fast_config(&srv.base),
        Credential::api_key(KEY),
        limits.clone(),
    )
    .unwrap();
    let b = LeverClient::with_rate_limits(
        fast_config(&srv.base),
        Credential::api_key(KEY),
        limits.clone(),
    )
    .unwrap();
    let other = LeverClient::with_rate_limits(
        fast_config(&srv.base),
        Credential::api_key("other-key-1"),
        limits,
    )
    .unwrap();

    a.stage("s").await.unwrap();
    other.stage("s").await.unwrap();
    // Waits are measured on the limiter, not the wall clock, so a busy machine cannot flake this.
    assert!(
        other.stats().throttle_wait < Duration::from_millis(50),
        "different keys do not share a budget"
    );
    b.stage("s").await.unwrap();
    assert!(b.stats().throttle_wait >= Duration::from_millis(250));
    assert!(a.stats().throttle_wait < Duration::from_millis(50));
}

#[tokio::test]
async fn lanes_of_one_client_share_its_budget() {
    let srv = serve(|_, _| reply(200, json!({"data": {"id": "s", "text": "S"}}))).await;
    // 1 per second, burst 2: two requests pass, the third (in either lane) waits ~1 s.
    let limits = RateLimits::exact(1, 2);
    let sync =
        LeverClient::with_rate_limits(fast_config(&srv.base), Credential::api_key(KEY), limits)
            .unwrap();
    let webhook = sync.for_lane("webhook-plugin");
    assert_eq!(
        (sync.lane(), webhook.lane()),
        (DEFAULT_LANE, "webhook-plugin")
    );
    assert_eq!(webhook.clone().lane(), "webhook-plugin");
    assert_eq!(webhook.fingerprint(), sync.fingerprint());
    assert!(format!("{webhook:?}").contains("webhook-plugin"));

    sync.stage("s").await.unwrap();
    webhook.stage("s").await.unwrap();
    assert!(sync.stats().throttle_wait < Duration::from_millis(50));
    assert!(webhook.stats().throttle_wait < Duration::from_millis(50));
    webhook.stage("s").await.unwrap();
    // Waits are measured on the limiter, not asserted against an upper wall-clock bound.
    assert!(
        webhook.stats().throttle_wait >= Duration::from_millis(500),
        "the third request across both lanes waited: {:?}",
        webhook.stats()
    );
    // Counters are per lane client; the connection pool and budget are shared.
    assert_eq!(sync.stats().requests_sent, 1);
    assert_eq!(webhook.stats().requests_sent, 2);
    assert_eq!(srv.hits(), 3);
}

/// A `metrics` recorder that keeps every update, for checking names and labels.
mod recorder {
    use metrics::{
        Counter, CounterFn, Gauge, GaugeFn, Histogram, HistogramFn, Key, KeyName, Metadata,
        Recorder, SharedString, Unit,
    };
    use std::sync::{Arc, Mutex};

    #[derive(Debug, Clone, PartialEq)]
    pub struct Update {
        pub name: String,
        pub labels: Vec<(String, String)>,
        pub value: f64,
    }

    impl Update {
        pub fn label(&self, key: &str) -> Option<&str> {
            self.labels
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.as_str())
        }
    }

    #[derive(Default, Clone)]
    pub struct Capture(pub Arc<Mutex<Vec<Update>>>);

    struct Handle {
        key: Key,
        sink: Capture,
    }

    impl Handle {
        fn push(&self, value: f64) {
            let labels = self
                .key
                .labels()
                .map(|l| (l.key().to_owned(), l.value().to_owned()))
                .collect();
            self.sink.0.lock().unwrap().push(Update {
                name: self.key.name().to_owned(),
                labels,
                value,
            });
        }
    }

    impl CounterFn for Handle {
        fn increment(&self, value: u64) {
            self.push(value as f64);
        }
        fn absolute(&self, value: u64) {
            self.push(value as f64);
        }
    }

    impl GaugeFn for Handle {
        fn increment(&self, value: f64) {
            self.push(value);
        }
        fn decrement(&self, value: f64) {
            self.push(-value);
        }
        fn set(&self, value: f64) {
            self.push(value);
        }
    }

    impl HistogramFn for Handle {
        fn record(&self, value: f64) {
            self.push(value);
        }
    }

    impl Capture {
        fn handle(&self, key: &Key) -> Arc<Handle> {
            Arc::new(Handle {
                key: key.clone(),
                sink: self.clone(),
            })
        }

        pub fn updates(&self, name: &str) -> Vec<Update> {
            let all = self.0.lock().unwrap();
            all.iter().filter(|u| u.name == name).cloned().collect()
        }
    }

    impl Recorder for Capture {
        fn describe_counter(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
        fn describe_gauge(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
        fn describe_histogram(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
        fn register_counter(&self, key: &Key, _: &Metadata<'_>) -> Counter {
            Counter::from_arc(self.handle(key))
        }
        fn register_gauge(&self, key: &Key, _: &Metadata<'_>) -> Gauge {
            Gauge::from_arc(self.handle(key))
        }
        fn register_histogram(&self, key: &Key, _: &Metadata<'_>) -> Histogram {
            Histogram::from_arc(self.handle(key))
        }
    }
}

#[test]
fn metrics_carry_lane_operation_and_status() {
    use metrics_names::*;
    let capture = recorder::Capture::default();
    // The recorder is thread-local, so everything runs on this thread.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    metrics::with_local_recorder(&capture, || {
        metrics_names::describe();
        runtime.block_on(async {
            let srv = serve(|req, n| {
                if req.path.ends_with("/flaky") && n == 1 {
                    reply(503, Value::Null)
                } else {
                    reply(200, json!({"data": {"id": "s", "text": "S"}}))
                }
            })
            .await;
            // 20 per second, burst 1: of two concurrent requests, one queues ~50 ms.
            let limits = RateLimits::exact(20, 1);
            let plain = LeverClient::with_rate_limits(
                fast_config(&srv.base),
                Credential::api_key(KEY),
                limits,
            )
            .unwrap();
            let lane = plain.for_lane("plugin-a");
            lane.stage("flaky").await.unwrap();
            let (a, b) = tokio::join!(plain.stage("s"), lane.stage("s"));
            a.unwrap();
            b.unwrap();
        });
    });

    let requests = capture.updates(REQUESTS_TOTAL);
    let seen: Vec<(Option<&str>, Option<&str>, Option<&str>)> = requests
        .iter()
        .map(|u| {
            (
                u.label(LABEL_LANE),
                u.label(LABEL_OPERATION),
                u.label(LABEL_STATUS),
            )
        })
        .collect();
    let op = Operation::GetStage.label();
    let op = Some(op.as_str());
    assert_eq!(requests.len(), 4, "one per attempt: {requests:?}");
    assert_eq!(seen[0], (Some("plugin-a"), op, Some("503")));
    assert_eq!(seen[1], (Some("plugin-a"), op, Some("200")));
    assert!(
        seen.contains(&(Some("default"), op, Some("200"))),
        "{seen:?}"
    );
    assert!(requests.iter().all(|u| u.value == 1.0));

    let waits = capture.updates(RATE_WAIT_SECONDS);
    assert_eq!(waits.len(), 4, "one per attempt: {waits:?}");
    assert!(waits.iter().all(|u| u.labels.len() == 1));
    assert_eq!(
        waits
            .iter()
            .filter(|u| u.label(LABEL_LANE) == Some("plugin-a"))
            .count(),
        3
    );
    assert!(
        waits.iter().any(|u| u.value > 0.0),
        "someone waited: {waits:?}"
    );

    // The request that found the bucket empty was counted as waiting, and then not.
    let waiters = capture.updates(RATE_WAITERS);
    assert!(!waiters.is_empty(), "someone queued");
    assert_eq!(waiters.iter().map(|u| u.value).sum::<f64>(), 0.0);
    assert!(waiters.iter().all(|u| u.label(LABEL_LANE).is_some()));
}

#[tokio::test]
async fn the_credential_never_leaks() {
    use base64::Engine as _;
    let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{KEY}:"));
    let echo = |req: &Req, _| {
        // A hostile or broken server echoing the Authorization header back.
        let auth = req.headers["authorization"].to_str().unwrap().to_owned();
        let raw = auth.clone() + " " + KEY;
        match req.path.as_str() {
            "/v1/stages/401" => reply(401, json!({"code": raw, "message": raw})),
            "/v1/stages/400" => reply(400, json!({"code": raw, "message": raw})),
            "/v1/stages/500" => Reply {
                status: 500,
                body: raw,
                delay: Duration::ZERO,
            },
            _ => reply(403, json!({"message": raw})),
        }
    };
    let srv = serve(echo).await;
    let c = client(&srv.base);
    let mut errors = vec![];
    for id in ["401", "400", "500", "403"] {
        errors.push(c.stage(id).await.unwrap_err());
    }
    errors.extend([
        LeverError::NotFound {
            message: "x".into(),
        },
        LeverError::RateLimited { retry_after: None },
        LeverError::Decode {
            message: "x".into(),
        },
        LeverError::Config {
            message: "x".into(),
        },
        ClientConfig::new(&format!("https://{KEY}:@api.lever.co/v1")).unwrap_err(),
    ]);
    let credential = Credential::api_key(KEY);
    let mut texts = vec![
        format!("{c:?}"),
        format!("{c:#?}"),
        format!("{credential:?}"),
        format!("{:?}", c.config()),
    ];
    for e in &errors {
        texts.push(e.to_string());
        texts.push(format!("{e:?}"));
    }
    for t in texts {
        assert!(!t.contains(KEY), "secret in {t}");
        assert!(!t.contains(&encoded), "encoded secret in {t}");
    }
}

#[tokio::test]
async fn pacing_never_trips_an_identical_server_bucket() {
    // The server enforces Lever's bucket with the same GCRA the client paces with; network
    // jitter must not turn the client's exact pacing into 429s.
    let bucket = governor::DefaultKeyedRateLimiter::<String>::keyed(
        governor::Quota::per_second(std::num::NonZeroU32::new(10).unwrap())
            .allow_burst(std::num::NonZeroU32::new(20).unwrap()),
    );
    let srv = serve(move |req, _| {
        let auth = req.headers["authorization"].to_str().unwrap().to_owned();
        if bucket.check_key(&auth).is_ok() {
            reply(200, json!({"data": {"id": "s", "text": "S"}}))
        } else {
            reply(
                429,
                json!({"code": "TooManyRequests", "message": "slow down"}),
            )
        }
    })
    .await;
    let mut config = fast_config(&srv.base);
    config.rate_per_second = 10;
    config.burst = 20;
    let c = LeverClient::new(config, Credential::api_key(KEY)).unwrap();
    let calls = (0..45).map(|_| {
        let c = c.clone();
        async move { c.stage("s").await }
    });
    let results = futures::future::join_all(calls).await;
    assert!(results.iter().all(Result::is_ok));
    assert_eq!(c.stats().rate_limited_responses, 0, "{:?}", c.stats());
}

mod hiring;
mod oauth_resend;
mod oauth_sandbox;
mod requisitions;
