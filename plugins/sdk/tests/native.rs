//! The SDK off wasm: a connector's pure logic compiles and runs under plain `cargo test` on the
//! host target, `export_connector!` expands, and logging falls back to stderr.

use fulcrum_sdk::prelude::*;
use fulcrum_sdk::{API_VERSION, lever, vendor};

struct Sample;

impl Connector for Sample {
    fn manifest() -> Manifest {
        Manifest::new("sample", "Sample", "1.2.3")
            .vendor("Example Inc.")
            .permissions(["list stages", "create opportunity"])
            .vendor_hosts(["https://api.vendor.example"])
            .secrets(["token"])
            .config_schema(&json!({"type": "object", "required": ["region"]}))
            .lever_events([LeverEventKind::CandidateHired])
            .schedule("sync", "Sync postings", 600)
            .action("ping", "Ping", &json!({"type": "object"}))
    }

    fn validate_config(config: &Value) -> Result<(), Vec<ConfigProblem>> {
        match config.get("region") {
            Some(Value::String(_)) => Ok(()),
            _ => Err(vec![ConfigProblem::new("/region", "required string")]),
        }
    }
}

export_connector!(Sample);

/// A mapping function of the kind connectors unit-test natively.
fn to_new_opportunity(name: &str, email: &str) -> lever::NewOpportunity {
    lever::NewOpportunity {
        name: name.trim().to_owned(),
        emails: vec![email.to_lowercase()],
        sources: vec!["Sample".to_owned()],
        ..Default::default()
    }
}

#[test]
fn api_version_is_the_wit_package_version() {
    let world = include_str!("../../../wit/connector-0.2.0/world.wit");
    assert!(world.contains(&format!("package fulcrum:connector@{API_VERSION};")));
}

#[test]
fn manifest_builder_fills_every_field() {
    let m = Sample::manifest();
    assert_eq!((m.id.as_str(), m.version.as_str()), ("sample", "1.2.3"));
    assert_eq!(m.permissions, ["list stages", "create opportunity"]);
    assert_eq!(m.vendor_hosts, ["https://api.vendor.example"]);
    assert_eq!(m.lever_events, [LeverEventKind::CandidateHired]);
    assert_eq!(m.schedules[0].every_seconds, 600);
    assert_eq!(m.actions[0].name, "ping");
    let schema: Value = serde_json::from_str(&m.config_schema).unwrap();
    assert_eq!(schema["required"][0], "region");
}

#[test]
fn validate_config_reports_non_json_then_asks_the_connector() {
    use fulcrum_sdk::__private::validate_config;
    let problems = validate_config::<Sample>("{not json".into()).unwrap_err();
    assert_eq!(problems.len(), 1);
    assert_eq!(problems[0].pointer, "");
    assert!(
        problems[0].message.contains("not valid JSON"),
        "{}",
        problems[0].message
    );

    let problems = validate_config::<Sample>("{}".into()).unwrap_err();
    assert_eq!(problems, [ConfigProblem::new("/region", "required string")]);
    assert!(validate_config::<Sample>(r#"{"region":"eu"}"#.into()).is_ok());
}

#[test]
fn default_handlers() {
    let req = ActionRequest {
        id: "a1".into(),
        name: "nope".into(),
        input: "{}".into(),
        requested_by: None,
    };
    let err = Sample::on_action(req).unwrap_err();
    assert_eq!(err.kind(), "invalid");
    assert!(err.detail().unwrap().contains("unknown action"));
    let run = ScheduledRun {
        id: "r1".into(),
        name: "sync".into(),
        scheduled_at: 0,
    };
    assert!(Sample::on_schedule(run).is_ok());
}

#[test]
fn errors_render() {
    let e = Error::forbidden("create opportunity");
    assert_eq!(
        e.to_json(),
        json!({"error": "forbidden", "detail": "create opportunity"})
    );
    assert_eq!(e.message(), "forbidden: create opportunity");
    assert_eq!(
        Error::rate_limited(Some(250)).to_json(),
        json!({"error": "rate-limited", "detail": 250})
    );
    assert!(Error::unavailable("down").is_retryable());
    // `std::error::Error` comes with the generated type, so `?` into boxed errors works.
    let boxed: Box<dyn std::error::Error> = Box::new(Error::not_found("opp"));
    assert!(boxed.to_string().contains("NotFound"));
    let from_json: Error = serde_json::from_str::<Value>("{").unwrap_err().into();
    assert_eq!(from_json.kind(), "invalid");
}

#[test]
fn paginate_walks_cursors_and_stops_at_the_first_error() {
    let pages = [
        (vec![1, 2], Some("c1".to_owned())),
        (vec![], Some("c2".to_owned())),
        (vec![3], None),
    ];
    let mut seen = Vec::new();
    let items: Vec<i32> = lever::paginate(Some("c0".into()), |cursor| {
        seen.push(cursor.clone());
        let i = seen.len() - 1;
        Ok(pages[i].clone())
    })
    .collect::<Result<_, _>>()
    .unwrap();
    assert_eq!(items, [1, 2, 3]);
    assert_eq!(
        seen,
        [Some("c0".into()), Some("c1".into()), Some("c2".into())]
    );

    let mut calls = 0;
    let results: Vec<Result<i32, Error>> = lever::paginate(None, |_| {
        calls += 1;
        if calls == 1 {
            Ok((vec![1], Some("next".into())))
        } else {
            Err(Error::unavailable("lever down"))
        }
    })
    .collect();
    assert_eq!(results, [Ok(1), Err(Error::unavailable("lever down"))]);
}

#[test]
fn vendor_types_have_helpers() {
    let req = vendor::Request::new(vendor::Method::Post, "https://api.vendor.example/x")
        .bearer("t0k")
        .json(&json!({"a": 1}))
        .unwrap();
    assert_eq!(req.headers[0].value, "Bearer t0k");
    assert_eq!(req.body.as_deref(), Some(&br#"{"a":1}"#[..]));

    let resp = vendor::Response {
        status: 429,
        headers: vec![vendor::Header {
            name: "Retry-After".into(),
            value: "2".into(),
        }],
        body: br#"{"ok":true}"#.to_vec(),
    };
    assert_eq!(resp.header("retry-after"), Some("2"));
    assert_eq!(resp.json::<Value>().unwrap()["ok"], true);
    assert_eq!(
        resp.error_for_status().unwrap_err(),
        Error::rate_limited(Some(2000))
    );
}

#[test]
fn mapping_logic_runs_natively() {
    let opp = to_new_opportunity("  Ada Lovelace ", "ADA@Example.com");
    assert_eq!(opp.name, "Ada Lovelace");
    assert_eq!(opp.emails, ["ada@example.com"]);
    assert_eq!(opp.posting_id, None);
}

#[test]
fn logging_works_off_wasm() {
    // Off wasm the other host imports are `extern "C"` stubs that abort the test process when
    // called (a panic cannot unwind out of them); logging goes to stderr instead, so mapping code
    // that logs stays testable.
    fulcrum_sdk::log::info(format_args!("native log line {}", 1));
    fulcrum_sdk::log::log(fulcrum_sdk::LogLevel::Debug, "done");
}

#[test]
fn hooks_and_queries_default_to_nothing_and_404() {
    let m = Sample::manifest();
    assert!(m.lifecycle_hooks.is_empty() && !m.vendor_queries);
    let asked = Manifest::new("q", "Q", "1.0.0")
        .lifecycle_hooks([LifecycleKind::Connected])
        .vendor_queries();
    assert_eq!(asked.lifecycle_hooks, [LifecycleKind::Connected]);
    assert!(asked.vendor_queries);
    let request = VendorRequest {
        id: "q1".into(),
        received_at: 0,
        method: "GET".into(),
        path: "/stages".into(),
        query: String::new(),
        headers: vec![],
        body: vec![],
    };
    let answer = Sample::on_vendor_query(request).unwrap();
    assert_eq!(answer.status, 404);
    let json = QueryResponse::json(200, &["a"]).unwrap();
    assert_eq!(json.body, br#"["a"]"#);
    assert_eq!(json.headers[0].value, "application/json");
}
