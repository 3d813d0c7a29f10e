//! The `fulcrum` command line, run as the real binary: `migrate` (SQLite and PostgreSQL),
//! `plugin inspect|install|list`, `tenant create|list`, `token issue|list|revoke`, and
//! `demo --once`.

use fulcrum_store::MasterKey;
use fulcrum_store::test_support::{TestDatabase, on_each_backend};
use secrecy::ExposeSecret;
use serde_json::Value;
use std::path::Path;
use std::time::Duration;

struct Output {
    success: bool,
    stdout: String,
    stderr: String,
}

impl Output {
    /// Both streams, for checking that something appears nowhere.
    fn all(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }

    #[track_caller]
    fn assert_ok(&self) -> &Self {
        assert!(
            self.success,
            "fulcrum failed\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }

    #[track_caller]
    fn assert_failed(&self) -> &Self {
        assert!(
            !self.success,
            "fulcrum should have failed\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }
}

/// Runs `fulcrum ARGS` with exactly `envs` of Fulcrum's settings (none inherited).
async fn fulcrum(args: &[&str], envs: &[(&str, &str)]) -> Output {
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_fulcrum"));
    command.args(args).env("RUST_LOG", "warn");
    for inherited in [
        "DATABASE_URL",
        "FULCRUM_DATA_DIR",
        "FULCRUM_MASTER_KEY",
        "FULCRUM_MASTER_KEY_FILE",
        "LEVER_API_KEY",
    ] {
        command.env_remove(inherited);
    }
    command.envs(envs.iter().copied());
    let out = tokio::time::timeout(Duration::from_secs(180), command.output())
        .await
        .expect("fulcrum finished within 3 minutes")
        .expect("fulcrum runs");
    Output {
        success: out.status.success(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn new_key() -> String {
    MasterKey::generate().to_base64().expose_secret().to_owned()
}

fn path(p: &Path) -> &str {
    p.to_str().expect("UTF-8 temp path")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrate_applies_each_migration_once() {
    on_each_backend(|db: TestDatabase| async move {
        let dir = tempfile::tempdir().unwrap();
        let data_dir = path(dir.path()).to_owned();
        let first = fulcrum(
            &["migrate", "--data-dir", &data_dir],
            &[
                ("DATABASE_URL", &db.url),
                ("FULCRUM_MASTER_KEY", &db.key_b64),
            ],
        )
        .await;
        first.assert_ok();
        let applied: Vec<&str> = first
            .stdout
            .lines()
            .filter(|l| l.starts_with("applied "))
            .collect();
        assert!(
            applied.len() >= 6 && applied[0] == "applied 0001 init",
            "{}: {}",
            db.backend(),
            first.stdout
        );
        assert!(
            first.stdout.contains("the schema is up to date"),
            "{}",
            first.stdout
        );

        // A deploy step may migrate without the master key: migrations touch no secret.
        let second = fulcrum(
            &["migrate", "--data-dir", &data_dir],
            &[("DATABASE_URL", &db.url)],
        )
        .await;
        second.assert_ok();
        assert!(
            second.stdout.contains("nothing to apply")
                && !second.stdout.lines().any(|l| l.starts_with("applied ")),
            "{}",
            second.stdout
        );
        assert!(
            second
                .stdout
                .contains(&format!("({} migrations", applied.len())),
            "{}",
            second.stdout
        );
        // The migrated database is the one the store opens (and has nothing left to apply).
        let store = db.open().await;
        assert!(store.list_tenants().await.unwrap().is_empty());
        store.close().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrate_without_a_database_server_says_what_to_check() {
    let out = fulcrum(
        &["migrate"],
        &[("DATABASE_URL", "postgres://nobody@127.0.0.1:1/none")],
    )
    .await;
    out.assert_failed();
    assert!(
        out.stderr
            .contains("could not open the database; check DATABASE_URL"),
        "{}",
        out.stderr
    );
}

#[tokio::test]
async fn plugin_inspect_shows_what_the_component_asks_for() {
    let out = fulcrum(
        &["plugin", "inspect", fulcrum_plugin_artifacts::WELL_BEHAVED],
        &[],
    )
    .await;
    out.assert_ok();
    for expected in [
        "well-behaved 0.1.0 — Well-behaved fixture",
        "vendor:       Fulcrum test fixtures",
        "Lever permissions requested",
        "  - create opportunity note",
        "  - https://vendor.example",
        "  - api-token",
        "\"greeting\"",
        "  - tick: every 900 s — Records the last run",
        "  - create — Creates an opportunity, with an optional note",
        "  - candidate-stage-change",
        "  contract:     fulcrum:connector@0.2.0",
    ] {
        assert!(
            out.stdout.contains(expected),
            "{expected:?} missing:\n{}",
            out.stdout
        );
    }

    let out = fulcrum(
        &[
            "plugin",
            "inspect",
            "--json",
            fulcrum_plugin_artifacts::WELL_BEHAVED,
        ],
        &[],
    )
    .await;
    out.assert_ok();
    let manifest: Value = serde_json::from_str(&out.stdout).expect("--json prints JSON");
    assert_eq!(manifest["id"], "well-behaved");
    assert_eq!(manifest["version"], "0.1.0");
    assert_eq!(manifest["contract_version"], "0.2.0");
    assert_eq!(manifest["vendor_queries"], true);
    assert_eq!(manifest["secrets"], serde_json::json!(["api-token"]));
    assert_eq!(
        manifest["lever_events"],
        serde_json::json!(["candidate-stage-change"])
    );
    assert_eq!(manifest["schedules"][0]["every_seconds"], 900);
    // Schemas are parsed, not JSON strings inside JSON.
    assert_eq!(
        manifest["config_schema"]["properties"]["greeting"]["default"],
        "hello"
    );
    let permissions: Vec<&str> = manifest["permissions"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(
        permissions.contains(&"create opportunity"),
        "{permissions:?}"
    );
    assert!(
        manifest["actions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["name"] == "create" && a["input_schema"]["required"][0] == "name")
    );
}

/// A component built against the frozen contract 0.1.0 says so.
#[tokio::test]
async fn plugin_inspect_names_the_contract_of_a_0_1_0_component() {
    let out = fulcrum(
        &[
            "plugin",
            "inspect",
            fulcrum_plugin_artifacts::WELL_BEHAVED_V0_1_0,
        ],
        &[],
    )
    .await;
    out.assert_ok();
    assert!(
        out.stdout
            .contains("  contract:     fulcrum:connector@0.1.0"),
        "{}",
        out.stdout
    );
}

#[tokio::test]
async fn plugin_inspect_refuses_a_file_that_is_not_a_component() {
    let dir = tempfile::tempdir().unwrap();
    let bogus = dir.path().join("connector.wasm");
    std::fs::write(&bogus, b"this is a README, not a component").unwrap();
    let out = fulcrum(&["plugin", "inspect", path(&bogus)], &[]).await;
    out.assert_failed();
    assert!(
        out.stderr.contains("is not an installable plugin")
            && out.stderr.contains("not a WebAssembly component")
            && out.stderr.contains("wasm32-wasip2"),
        "the error should say what is wrong and what to do:\n{}",
        out.stderr
    );

    let missing = dir.path().join("missing.wasm");
    let out = fulcrum(&["plugin", "inspect", path(&missing)], &[]).await;
    out.assert_failed();
    assert!(
        out.stderr.contains("could not read the plugin component")
            && out.stderr.contains("check the path"),
        "{}",
        out.stderr
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plugin_install_records_versions_that_list_shows() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = path(dir.path()).to_owned();
    let key = new_key();
    let env = [("FULCRUM_MASTER_KEY", key.as_str())];
    let store = ["--data-dir", data_dir.as_str()];

    let out = fulcrum(&[&["plugin", "list"][..], &store].concat(), &env).await;
    out.assert_ok();
    assert!(
        out.stdout.contains("no plugins installed"),
        "{}",
        out.stdout
    );

    for (component, version) in [
        (fulcrum_plugin_artifacts::WELL_BEHAVED, "0.1.0"),
        (fulcrum_plugin_artifacts::WELL_BEHAVED_V2, "0.2.0"),
        // Installing the same build again changes nothing.
        (fulcrum_plugin_artifacts::WELL_BEHAVED, "0.1.0"),
    ] {
        let out = fulcrum(
            &[&["plugin", "install", component][..], &store].concat(),
            &env,
        )
        .await;
        out.assert_ok();
        assert!(
            out.stdout
                .contains(&format!("installed well-behaved {version}")),
            "{}",
            out.stdout
        );
    }

    let bogus = dir.path().join("bogus.wasm");
    std::fs::write(&bogus, b"\0asm\x01\0\0\0").unwrap();
    let out = fulcrum(
        &[&["plugin", "install", path(&bogus)][..], &store].concat(),
        &env,
    )
    .await;
    out.assert_failed();
    assert!(
        out.stderr.contains("could not install") && out.stderr.contains("Fulcrum SDK"),
        "{}",
        out.stderr
    );

    let out = fulcrum(&[&["plugin", "list"][..], &store].concat(), &env).await;
    out.assert_ok();
    let rows: Vec<&str> = out.stdout.lines().skip(1).collect();
    assert_eq!(
        rows.len(),
        2,
        "two versions, nothing for the bogus file:\n{}",
        out.stdout
    );
    assert!(
        rows[0].starts_with("well-behaved") && rows[0].contains("0.1.0"),
        "{}",
        out.stdout
    );
    assert!(
        rows[1].starts_with("well-behaved") && rows[1].contains("0.2.0"),
        "{}",
        out.stdout
    );

    let out = fulcrum(&[&["plugin", "list", "--json"][..], &store].concat(), &env).await;
    out.assert_ok();
    let listed: Vec<Value> = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(listed.len(), 2);
    assert_eq!(listed[1]["name"], "Well-behaved fixture");

    // `serve` finds both components again on start.
    let kept = std::fs::read_dir(dir.path().join("components"))
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .is_ok_and(|e| e.path().extension().is_some_and(|x| x == "wasm"))
        })
        .count();
    assert_eq!(kept, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tenant_create_and_list_never_print_the_lever_key() {
    on_each_backend(|db: TestDatabase| async move {
        let dir = tempfile::tempdir().unwrap();
        let data_dir = path(dir.path()).to_owned();
        let acme_key = "lever-key-acme-7f3c1d9e0b";
        let globex_key = "lever-key-globex-5a8e2f4c6d";
        let key_file = dir.path().join("acme.key");
        std::fs::write(&key_file, format!("{acme_key}\n")).unwrap();
        let env = [
            ("DATABASE_URL", db.url.as_str()),
            ("FULCRUM_MASTER_KEY", db.key_b64.as_str()),
        ];
        let store = ["--data-dir", data_dir.as_str()];

        let acme = fulcrum(
            &[
                &[
                    "tenant",
                    "create",
                    "acme",
                    "--name",
                    "Acme Inc.",
                    "--lever-api-key-file",
                    path(&key_file),
                    "--lever-url",
                    "https://api.eu.lever.co/v1",
                ][..],
                &store,
            ]
            .concat(),
            &env,
        )
        .await;
        acme.assert_ok();
        assert!(
            acme.stdout.contains("created tenant acme (Acme Inc.)"),
            "{}",
            acme.stdout
        );
        assert!(acme.stdout.contains("API key from"), "{}", acme.stdout);

        let globex_env = [env[0], env[1], ("LEVER_API_KEY", globex_key)];
        let globex = fulcrum(
            &[
                &["tenant", "create", "globex", "--name", "Globex"][..],
                &store,
            ]
            .concat(),
            &globex_env,
        )
        .await;
        globex.assert_ok();
        assert!(
            globex.stdout.contains("API key from LEVER_API_KEY"),
            "{}",
            globex.stdout
        );

        let unconnected = fulcrum(
            &[
                &["tenant", "create", "initech", "--name", "Initech"][..],
                &store,
            ]
            .concat(),
            &env,
        )
        .await;
        unconnected.assert_ok();
        assert!(
            unconnected.stdout.contains("Lever: not connected"),
            "{}",
            unconnected.stdout
        );

        let again = fulcrum(
            &[
                &["tenant", "create", "acme", "--name", "Acme again"][..],
                &store,
            ]
            .concat(),
            &env,
        )
        .await;
        again.assert_failed();
        assert!(
            again.stderr.contains("tenant \"acme\" already exists"),
            "{}",
            again.stderr
        );

        let bad_id = fulcrum(
            &[
                &["tenant", "create", "Acme/EU", "--name", "Acme EU"][..],
                &store,
            ]
            .concat(),
            &env,
        )
        .await;
        bad_id.assert_failed();
        assert!(
            bad_id.stderr.contains("invalid tenant id"),
            "{}",
            bad_id.stderr
        );

        let list = fulcrum(&[&["tenant", "list"][..], &store].concat(), &env).await;
        list.assert_ok();
        let row = |id: &str| {
            list.stdout
                .lines()
                .find(|l| l.starts_with(id))
                .unwrap_or_else(|| panic!("{id} not listed:\n{}", list.stdout))
                .to_owned()
        };
        assert!(row("acme").contains("Acme Inc.") && row("acme").contains("api key"));
        assert!(row("acme").contains("https://api.eu.lever.co/v1"));
        assert!(row("globex").contains("api key") && row("globex").contains("(host default)"));
        assert!(row("initech").contains("not connected"));

        for out in [&acme, &globex, &unconnected, &again, &list] {
            let all = out.all();
            assert!(
                !all.contains(acme_key) && !all.contains(globex_key),
                "a Lever key was printed:\n{all}"
            );
        }

        // What was stored is the key, encrypted with the master key.
        let store = db.open().await;
        let credential = store.get_lever_credential("acme").await.unwrap().unwrap();
        assert_eq!(credential.secret.expose_secret(), acme_key);
        let credential = store.get_lever_credential("globex").await.unwrap().unwrap();
        assert_eq!(credential.secret.expose_secret(), globex_key);
        assert!(
            store
                .get_lever_credential("initech")
                .await
                .unwrap()
                .is_none()
        );
        store.close().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tenant_create_follows_the_tenant_rules_trims_the_name_and_audits() {
    on_each_backend(|db: TestDatabase| async move {
        let dir = tempfile::tempdir().unwrap();
        let data_dir = path(dir.path()).to_owned();
        let env = [
            ("DATABASE_URL", db.url.as_str()),
            ("FULCRUM_MASTER_KEY", db.key_b64.as_str()),
            ("LEVER_API_KEY", "lever-key-initech-3b9d"),
        ];
        let create = |id: &'static str, name: &'static str, extra: &'static [&'static str]| {
            let data_dir = data_dir.clone();
            async move {
                let mut args = vec!["tenant", "create", id, "--name", name, "--data-dir"];
                args.push(&data_dir);
                args.extend_from_slice(extra);
                fulcrum(&args, &env).await
            }
        };

        let created = create("initech", "  Initech Corp.  ", &[]).await;
        created.assert_ok();
        assert!(
            created
                .stdout
                .contains("created tenant initech (Initech Corp.)"),
            "{}",
            created.stdout
        );
        let store = db.open().await;
        let tenant = store.get_tenant("initech").await.unwrap().unwrap();
        assert_eq!(tenant.name, "Initech Corp.", "stored trimmed");
        let audit = store.audit_list("initech", 100).await.unwrap();
        let operations: Vec<_> = audit.iter().rev().map(|a| a.operation.as_str()).collect();
        assert_eq!(
            operations,
            ["admin: create tenant", "admin: set lever credential"]
        );
        assert!(
            audit
                .iter()
                .all(|a| a.detail.as_deref() == Some("by command line (fulcrum tenant create)")),
            "{audit:?}"
        );

        // Refused before anything is stored: a blank or overlong name, a bad Lever URL.
        let long_name: &'static str = "n".repeat(201).leak();
        for (id, name, extra, words) in [
            ("globex", "   ", &[][..], "1-200 characters"),
            ("globex", long_name, &[][..], "1-200 characters"),
            (
                "globex",
                "Globex",
                &["--lever-url", "ftp://lever.example"][..],
                "http(s) URL",
            ),
        ] {
            let refused = create(id, name, extra).await;
            refused.assert_failed();
            assert!(refused.stderr.contains(words), "{}", refused.stderr);
            assert!(
                refused.stderr.contains("nothing was stored"),
                "{}",
                refused.stderr
            );
        }
        assert!(store.get_tenant("globex").await.unwrap().is_none());
        assert!(store.audit_list("globex", 100).await.unwrap().is_empty());
        store.close().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_once_runs_the_scenario_and_prints_what_happened_in_lever() {
    let dir = tempfile::tempdir().unwrap();
    let out = fulcrum(
        &[
            "demo",
            "--once",
            "--listen",
            "127.0.0.1:0",
            "--sandbox-listen",
            "127.0.0.1:0",
            "--data-dir",
            path(dir.path()),
        ],
        &[],
    )
    .await;
    out.assert_ok();
    let stdout = &out.stdout;
    for expected in [
        "starting the Lever sandbox… ok (http://127.0.0.1:",
        "starting stand-in vendors on loopback… ok (2 (relode, remote_tech_work))",
        "starting the host (ingress, workers, scheduler)… ok (http://127.0.0.1:",
        // Remote Tech Work: jobs out, an applicant in with a CV, withdrawal and re-application.
        "installing the remote_tech_work component… ok (remote-tech-work 0.1.0)",
        "Remote Tech Work ← PUT /v1/integrations/lever/jobs/",
        "Europass CV.pdf\", a ",
        "Archived automatically: the candidate withdrew their application on Remote Tech Work",
        "Unarchived automatically: the candidate applied again on Remote Tech Work",
        "source Remote Tech Work",
        // Relode: jobs out, a candidate in, a stage change back.
        "installing the relode component… ok (relode 0.1.0)",
        "Relode ← PUT /v1/lever/jobs/",
        "(202, duplicate: not queued again)",
        "(401, nothing stored)",
        "(422: ",
        "status \"stage_changed\"",
        "source Relode",
        "What happened in Lever:",
    ] {
        assert!(
            stdout.contains(expected),
            "{expected:?} missing:\n{stdout}\n{}",
            out.stderr
        );
    }
    assert!(!stdout.contains("no connectors yet"), "{stdout}");
    let created: Vec<&str> = stdout
        .lines()
        .filter(|l| l.trim_start().starts_with("new opportunity "))
        .collect();
    assert_eq!(
        created.len(),
        2,
        "one opportunity per connector's candidate (the re-application reuses it):\n{stdout}"
    );
    let summary = stdout
        .lines()
        .find(|l| l.starts_with("demo done: "))
        .unwrap_or_else(|| panic!("no summary:\n{stdout}"));
    assert!(summary.contains(" 0 dead letter(s)"), "{summary}");
}

#[tokio::test]
async fn demo_on_a_busy_port_says_which_flag_to_change() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let out = fulcrum(&["demo", "--once", "--sandbox-listen", &addr], &[]).await;
    out.assert_failed();
    assert!(
        out.stdout.contains("starting the Lever sandbox… failed"),
        "{}",
        out.stdout
    );
    assert!(
        out.stderr
            .contains("is the port free? Try --sandbox-listen 127.0.0.1:0"),
        "{}",
        out.stderr
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_issue_list_revoke_shows_a_token_once_and_it_stops_working() {
    on_each_backend(|db: TestDatabase| async move {
        let dir = tempfile::tempdir().unwrap();
        let data_dir = path(dir.path()).to_owned();
        let env = [
            ("DATABASE_URL", db.url.as_str()),
            ("FULCRUM_MASTER_KEY", db.key_b64.as_str()),
        ];
        let store = ["--data-dir", data_dir.as_str()];
        let run = |args: &[&str]| {
            let args = [args, &store[..]].concat();
            let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
            async move {
                let args: Vec<&str> = args.iter().map(String::as_str).collect();
                fulcrum(&args, &env).await
            }
        };

        let issued = run(&[
            "token",
            "issue",
            "--role",
            "platform-operator",
            "--label",
            "ops",
        ])
        .await;
        issued.assert_ok();
        // Only the token on stdout, so a shell can capture it.
        let token = issued.stdout.trim().to_owned();
        assert!(
            token.starts_with("fulcrum_") && !token.contains(' '),
            "{}",
            issued.stdout
        );
        assert!(issued.stderr.contains("shown once"), "{}", issued.stderr);

        // A tenant role needs a tenant, and the tenant must exist.
        let refused = run(&["token", "issue", "--role", "tenant-admin"]).await;
        refused.assert_failed();
        assert!(refused.stderr.contains("--tenant"), "{}", refused.stderr);
        let refused = run(&[
            "token",
            "issue",
            "--role",
            "tenant-admin",
            "--tenant",
            "nobody",
        ])
        .await;
        refused.assert_failed();
        assert!(
            refused.stderr.contains("fulcrum tenant create"),
            "{}",
            refused.stderr
        );

        let listed = run(&["token", "list"]).await;
        listed.assert_ok();
        assert!(listed.stdout.contains("platform-operator") && listed.stdout.contains("active"));
        assert!(!listed.all().contains(&token), "a listing shows a token");

        let opened = db.open().await;
        let id = opened
            .authenticate_api_token(&token)
            .await
            .unwrap()
            .expect("the printed token authenticates")
            .id;
        let revoked = run(&["token", "revoke", &id.to_string()]).await;
        revoked.assert_ok();
        assert!(
            opened
                .authenticate_api_token(&token)
                .await
                .unwrap()
                .is_none()
        );
        let listed = run(&["token", "list"]).await;
        assert!(listed.stdout.contains("revoked"), "{}", listed.stdout);
        let unknown = run(&["token", "revoke", "999999"]).await;
        unknown.assert_failed();
        assert!(
            unknown.stderr.contains("fulcrum token list"),
            "{}",
            unknown.stderr
        );

        // A token may expire: it works until then, and is listed with the time it has left.
        let expiring = run(&[
            "token",
            "issue",
            "--role",
            "platform-operator",
            "--expires-in-days",
            "30",
        ])
        .await;
        expiring.assert_ok();
        assert!(
            expiring.stderr.contains("expires in 30 days"),
            "{}",
            expiring.stderr
        );
        let expiring = expiring.stdout.trim().to_owned();
        let record = opened
            .authenticate_api_token(&expiring)
            .await
            .unwrap()
            .expect("an expiring token works until it expires");
        let expires_at = record.expires_at.expect("an expiry");
        let days = (expires_at - fulcrum_store::now_ms()) as f64 / 86_400_000.0;
        assert!((29.9..=30.0).contains(&days), "{days} days");
        assert!(matches!(
            opened.check_api_token(&expiring, expires_at).await.unwrap(),
            fulcrum_store::TokenCheck::Expired(_)
        ));
        let listed = run(&["token", "list"]).await;
        assert!(listed.stdout.contains("in 30 d 0 h"), "{}", listed.stdout);
        assert!(listed.stdout.contains("never"), "{}", listed.stdout);
        for days in ["0", "3651", "soon"] {
            let refused = run(&[
                "token",
                "issue",
                "--role",
                "platform-operator",
                "--expires-in-days",
                days,
            ])
            .await;
            refused.assert_failed();
            assert!(
                refused.stderr.contains("--expires-in-days"),
                "{days}: {}",
                refused.stderr
            );
        }
        opened.close().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lever_app_and_connection_commands_follow_the_rules_and_never_print_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = path(dir.path()).to_owned();
    let key = new_key();
    let env = [("FULCRUM_MASTER_KEY", key.as_str())];
    let store = ["--data-dir", data_dir.as_str()];
    let secret = "cs_9d2e4f6a8b0c1e3f5a";
    let secret_file = dir.path().join("client.secret");
    std::fs::write(&secret_file, format!("{secret}\n")).unwrap();
    async fn run(args: &[&str], store: &[&str], env: &[(&str, &str)]) -> Output {
        fulcrum(&[args, store].concat(), env).await
    }

    fn register<'a>(secret_file: &'a str, token_url: &'a str) -> Vec<&'a str> {
        vec![
            "lever-app",
            "register",
            "sandbox",
            "--name",
            "Fulcrum",
            "--client-id",
            "client-1",
            "--client-secret-file",
            secret_file,
            "--token-url",
            token_url,
        ]
    }
    let bad = run(
        &register(path(&secret_file), "ftp://auth.example/token"),
        &store,
        &env,
    )
    .await;
    bad.assert_failed();
    assert!(bad.stderr.contains("token"), "{}", bad.stderr);
    let out = run(
        &register(path(&secret_file), "https://auth.example/oauth/token"),
        &store,
        &env,
    )
    .await;
    out.assert_ok();
    let listed = run(&["lever-app", "list"], &store, &env).await;
    listed.assert_ok();
    assert!(listed.stdout.contains("client-1"), "{}", listed.stdout);

    let out = run(
        &["plugin", "install", fulcrum_plugin_artifacts::WELL_BEHAVED],
        &store,
        &env,
    )
    .await;
    out.assert_ok();
    run(
        &["plugin", "lever-app", "well-behaved", "sandbox"],
        &store,
        &env,
    )
    .await
    .assert_ok();
    let unknown = run(
        &["plugin", "lever-app", "well-behaved", "nope"],
        &store,
        &env,
    )
    .await;
    unknown.assert_failed();
    assert!(
        unknown.stderr.contains("register it first"),
        "{}",
        unknown.stderr
    );
    let in_use = run(&["lever-app", "remove", "sandbox"], &store, &env).await;
    in_use.assert_failed();
    assert!(in_use.stderr.contains("in use"), "{}", in_use.stderr);
    run(
        &["plugin", "lever-app", "well-behaved", "--none"],
        &store,
        &env,
    )
    .await
    .assert_ok();
    run(&["lever-app", "remove", "sandbox"], &store, &env)
        .await
        .assert_ok();

    // The installation must exist; an empty key is refused before anything is opened.
    let missing = run(
        &["connection", "show", "acme", "well-behaved"],
        &store,
        &env,
    )
    .await;
    missing.assert_failed();
    assert!(
        missing.stderr.contains("unknown tenant"),
        "{}",
        missing.stderr
    );
    let empty = dir.path().join("empty.key");
    std::fs::write(&empty, "\n").unwrap();
    let out = run(
        &[
            "connection",
            "api-key",
            "acme",
            "well-behaved",
            "--api-key-file",
            path(&empty),
        ],
        &store,
        &env,
    )
    .await;
    out.assert_failed();
    assert!(out.stderr.contains("no API key"), "{}", out.stderr);

    for out in [&bad, &listed, &in_use] {
        assert!(!out.all().contains(secret), "{}", out.all());
    }
}
