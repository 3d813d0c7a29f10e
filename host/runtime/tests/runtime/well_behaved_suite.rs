// The well-behaved connector's suite, included once per build of it (`fixtures.rs`):
// `COMPONENT` is the path of the component under test.

#[tokio::test]
async fn creates_an_opportunity_in_lever_through_its_grants() {
    let rt = runtime();
    let lever = Lever::start().await;
    let plugin = install(&rt, COMPONENT).await;
    let env = Env::new();
    let ctx = env.ctx(&plugin).with_lever(lever.access.clone());
    let input =
        json!({"name": "Ada Lovelace", "email": "ada@example.com", "note": "Met at the fair"});
    let out = action(&rt, &plugin, ctx, "create", input)
        .await
        .expect("created");
    let id = json(&out)["opportunity_id"]
        .as_str()
        .expect("an id")
        .to_owned();
    let (name, emails, sources, notes) = lever.sandbox.read(|db| {
        let o = db.opportunity(&id).expect("in the sandbox");
        let notes: Vec<String> = db.notes(&id).iter().map(|n| n.value().to_owned()).collect();
        (o.name.clone(), o.emails.clone(), o.sources.clone(), notes)
    });
    assert_eq!(name.as_deref(), Some("Ada Lovelace"));
    assert_eq!(emails, ["ada@example.com"]);
    assert_eq!(sources, ["Fixture"]);
    assert_eq!(notes, ["Met at the fair"]);
    let ops: Vec<(String, AuditOutcome)> = env
        .audit
        .records()
        .into_iter()
        .map(|r| (r.operation, r.outcome))
        .collect();
    assert_eq!(
        ops,
        [
            ("POST /opportunities".to_owned(), AuditOutcome::Allowed),
            (
                "POST /opportunities/:opportunity/notes".to_owned(),
                AuditOutcome::Allowed
            ),
        ]
    );
}

#[tokio::test]
async fn lists_stages() {
    let rt = runtime();
    let lever = Lever::start().await;
    let plugin = install(&rt, COMPONENT).await;
    let env = Env::new();
    let ctx = env.ctx(&plugin).with_lever(lever.access.clone());
    let out = action(&rt, &plugin, ctx, "stages", json!({}))
        .await
        .expect("stages");
    let expected: Vec<String> = lever
        .sandbox
        .read(|db| db.stages().map(|s| s.id.clone()).collect());
    assert!(!expected.is_empty());
    assert_eq!(json(&out), json!(expected));
}

/// A "no-permission" twin for each Lever permission the fixture uses: revoke it, and the
/// action gets a typed `forbidden(<permission>)`, the refusal is audited, and nothing
/// needing that permission reaches Lever.
async fn revoked(
    permission: Permission,
    action_name: &str,
    input: serde_json::Value,
) -> (Lever, Env, Result<String, PluginError>) {
    let rt = runtime();
    let lever = Lever::start().await;
    let plugin = install(&rt, COMPONENT).await;
    assert!(plugin.requested_permissions().contains(&permission));
    let env = Env::new();
    let ctx = env
        .ctx(&plugin)
        .with_lever(lever.access.clone())
        .with_grants(
            Grants::new(plugin.requested_permissions(), Permission::ALL).without(permission),
        );
    let out = action(&rt, &plugin, ctx, action_name, input).await;
    assert_eq!(
        out,
        Err(PluginError::Forbidden(permission.as_str().to_owned()))
    );
    let denied = env.denied();
    assert_eq!(denied.len(), 1, "{denied:?}");
    assert_eq!(
        denied[0].outcome,
        AuditOutcome::Denied {
            reason: format!("forbidden: {permission}")
        }
    );
    (lever, env, out)
}

#[tokio::test]
async fn without_list_stages() {
    let (lever, env, _) = revoked(Permission::ListStages, "stages", json!({})).await;
    assert_eq!(env.denied()[0].operation, "GET /stages");
    assert_eq!(lever.sandbox.stats().total_requests(), 0);
}

#[tokio::test]
async fn without_create_opportunity() {
    let input = json!({"name": "Ada", "email": "ada@example.com", "note": "hi"});
    let (lever, env, _) = revoked(Permission::CreateOpportunity, "create", input).await;
    assert_eq!(env.denied()[0].operation, "POST /opportunities");
    assert_eq!(lever.sandbox.stats().total_requests(), 0);
    assert_eq!(lever.opportunities(), 0);
}

#[tokio::test]
async fn without_create_opportunity_note() {
    let input = json!({"name": "Ada", "email": "ada@example.com", "note": "hi"});
    let (lever, env, _) = revoked(Permission::CreateOpportunityNote, "create", input).await;
    assert_eq!(
        env.denied()[0].operation,
        "POST /opportunities/:opportunity/notes"
    );
    // The fixture creates the opportunity first (allowed), then the note (refused): no
    // note reached Lever.
    let notes = lever.sandbox.read(|db| {
        db.opportunities()
            .map(|o| db.notes(&o.id).len())
            .sum::<usize>()
    });
    assert_eq!(notes, 0);
    assert_eq!(
        lever
            .sandbox
            .stats()
            .writes
            .get("POST /opportunities/:opportunity/notes"),
        None
    );
}

/// An opportunity the plugin may look for, created straight in the sandbox.
async fn seeded_opportunity(lever: &Lever) -> String {
    let client = lever_client::LeverClient::new(
        lever_client::ClientConfig::new(&lever.sandbox.api_url()).unwrap(),
        lever_client::Credential::api_key(lever.sandbox.demo_api_key()),
    )
    .unwrap();
    let body = lever_model::NewOpportunity {
        name: Some("Ada".into()),
        emails: vec!["ada@example.com".into()],
        ..Default::default()
    };
    let created = client
        .create_opportunity(
            &lever.sandbox.default_user_id(),
            &body,
            lever_client::Attachments::default(),
        )
        .await
        .unwrap();
    lever.sandbox.reset_stats();
    created.id
}

#[tokio::test]
async fn without_read_opportunity() {
    let rt = runtime();
    let lever = Lever::start().await;
    let id = seeded_opportunity(&lever).await;
    let plugin = install(&rt, COMPONENT).await;
    let env = Env::new();
    let granted = env.ctx(&plugin).with_lever(lever.access.clone());
    let out = action(&rt, &plugin, granted, "get", json!({"opportunity_id": id})).await;
    assert_eq!(json(&out.unwrap())["id"], json!(id), "allowed when granted");
    lever.sandbox.reset_stats();

    let env = Env::new();
    let ctx = env
        .ctx(&plugin)
        .with_lever(lever.access.clone())
        .with_grants(
            Grants::new(plugin.requested_permissions(), Permission::ALL)
                .without(Permission::ReadOpportunity),
        );
    let out = action(&rt, &plugin, ctx, "get", json!({"opportunity_id": id})).await;
    assert_eq!(out, Err(PluginError::Forbidden("read opportunity".into())));
    assert_eq!(env.denied().len(), 1);
    assert_eq!(env.denied()[0].operation, "GET /opportunities/:opportunity");
    assert_eq!(
        lever.sandbox.stats().total_requests(),
        0,
        "nothing reached Lever"
    );
}

#[tokio::test]
async fn without_list_opportunities() {
    let rt = runtime();
    let lever = Lever::start().await;
    let id = seeded_opportunity(&lever).await;
    let plugin = install(&rt, COMPONENT).await;
    let env = Env::new();
    let granted = env.ctx(&plugin).with_lever(lever.access.clone());
    let out = action(
        &rt,
        &plugin,
        granted,
        "find",
        json!({"email": "ada@example.com"}),
    )
    .await;
    assert_eq!(json(&out.unwrap()), json!([id]), "allowed when granted");
    lever.sandbox.reset_stats();

    let env = Env::new();
    let ctx = env
        .ctx(&plugin)
        .with_lever(lever.access.clone())
        .with_grants(
            Grants::new(plugin.requested_permissions(), Permission::ALL)
                .without(Permission::ListOpportunities),
        );
    let out = action(
        &rt,
        &plugin,
        ctx,
        "find",
        json!({"email": "ada@example.com"}),
    )
    .await;
    assert_eq!(
        out,
        Err(PluginError::Forbidden("list opportunities".into()))
    );
    assert_eq!(env.denied().len(), 1);
    assert_eq!(env.denied()[0].operation, "GET /opportunities");
    assert_eq!(
        lever.sandbox.stats().total_requests(),
        0,
        "nothing reached Lever"
    );
}

#[tokio::test]
async fn reaches_its_declared_vendor_through_the_operator_alias() {
    let rt = runtime();
    let vendor = VendorServer::start().await;
    let plugin = install(&rt, COMPONENT).await;
    let env = Env::new();
    let ctx = env.ctx(&plugin).with_vendor_http(vendor.policy());
    let out = action(&rt, &plugin, ctx, "vendor-ping", json!({}))
        .await
        .expect("pinged");
    assert_eq!(json(&out), json!({"status": 200, "body": "pong"}));
    assert_eq!(vendor.hits(), ["/ping"]);
    let records = env.audit.records();
    assert_eq!(records[0].operation, "GET https://vendor.example/ping");
    assert_eq!(records[0].outcome, AuditOutcome::Allowed);
}

#[tokio::test]
async fn private_addresses_need_the_operator_opt_in() {
    let rt = runtime();
    let vendor = VendorServer::start().await;
    let plugin = install(&rt, COMPONENT).await;
    let env = Env::new();
    // Aliased to loopback, but private networks are not allowed.
    let policy = vendor.policy().allowing_private_networks(false);
    let ctx = env.ctx(&plugin).with_vendor_http(policy);
    let out = action(&rt, &plugin, ctx, "vendor-ping", json!({})).await;
    let Err(PluginError::Forbidden(message)) = &out else {
        panic!("expected forbidden, got {out:?}");
    };
    assert!(message.contains("private"), "{message}");
    assert!(vendor.hits().is_empty());
    assert_eq!(env.denied().len(), 1);
}

#[tokio::test]
async fn installations_do_not_see_each_others_config_secrets_or_state() {
    let rt = runtime();
    let plugin = install(&rt, COMPONENT).await;
    // One store and one audit log for both: the host scopes them.
    let env = Env::new();
    let a = || {
        env.ctx_for("tenant-a", "inst-a", &plugin)
            .with_config(r#"{"greeting":"hi from A"}"#)
    };
    let b = || {
        env.ctx_for("tenant-b", "inst-b", &plugin)
            .with_config(r#"{"greeting":"hi from B"}"#)
            .with_secrets(Secrets::new())
    };
    let out_a = action(&rt, &plugin, a(), "config", json!({}))
        .await
        .unwrap();
    let out_b = action(&rt, &plugin, b(), "config", json!({}))
        .await
        .unwrap();
    assert_eq!(
        json(&out_a),
        json!({"config": {"greeting": "hi from A"}, "has_secret": true})
    );
    assert_eq!(
        json(&out_b),
        json!({"config": {"greeting": "hi from B"}, "has_secret": false})
    );

    assert_eq!(
        action(
            &rt,
            &plugin,
            a(),
            "state",
            json!({"key": "k", "value": "A"})
        )
        .await
        .unwrap(),
        "\"A\""
    );
    assert_eq!(
        action(
            &rt,
            &plugin,
            b(),
            "state",
            json!({"key": "k", "value": "B"})
        )
        .await
        .unwrap(),
        "\"B\""
    );
    let event = bindings::LeverEvent {
        id: "evt-a".into(),
        kind: bindings::LeverEventKind::CandidateStageChange,
        triggered_at: 1_700_000_000_000,
        opportunity_id: None,
        contact_id: None,
        posting_id: None,
        from_stage_id: None,
        to_stage_id: None,
        data: "{}".into(),
    };
    let handled = rt
        .invoke(&plugin, a(), Call::LeverEvent(event))
        .await
        .unwrap();
    assert_eq!(handled, CallOutput::Handled(Ok(())));
    let run = bindings::ScheduledRun {
        id: "run-b".into(),
        name: "tick".into(),
        scheduled_at: 1_700_000_000_000,
    };
    let handled = rt.invoke(&plugin, b(), Call::Schedule(run)).await.unwrap();
    assert_eq!(handled, CallOutput::Handled(Ok(())));

    let scope = |tenant: &str| StateScope {
        tenant_id: tenant.into(),
        plugin_id: "well-behaved".into(),
    };
    let state_a = env.state.dump(&scope("tenant-a"));
    let state_b = env.state.dump(&scope("tenant-b"));
    assert_eq!(state_a.get("k").map(String::as_str), Some("A"));
    assert_eq!(state_b.get("k").map(String::as_str), Some("B"));
    assert_eq!(state_a.get("last-event").map(String::as_str), Some("evt-a"));
    assert!(!state_b.contains_key("last-event"));
    assert_eq!(state_b.get("last-run").map(String::as_str), Some("tick"));
    assert!(!state_a.contains_key("last-run"));
}

#[tokio::test]
async fn verifies_vendor_requests_with_its_secret_and_validates_config() {
    let rt = runtime();
    let plugin = install(&rt, COMPONENT).await;
    let env = Env::new();
    let request = |signature: &str| bindings::VendorRequest {
        id: "in-1".into(),
        received_at: 1_700_000_000_000,
        method: "POST".into(),
        path: "/applicants".into(),
        query: String::new(),
        headers: vec![bindings::Header {
            name: "x-fixture-signature".into(),
            value: signature.into(),
        }],
        body: b"{}".to_vec(),
    };
    let ok = rt
        .invoke(
            &plugin,
            env.ctx(&plugin),
            Call::VerifyVendorRequest(request("s3cret")),
        )
        .await
        .unwrap();
    assert_eq!(ok, CallOutput::VendorRequestChecked(Ok(())));
    let bad = rt
        .invoke(
            &plugin,
            env.ctx(&plugin),
            Call::VerifyVendorRequest(request("guess")),
        )
        .await
        .unwrap();
    let CallOutput::VendorRequestChecked(Err(rejection)) = bad else {
        panic!("{bad:?}")
    };
    assert_eq!(rejection.status, 401);

    let checked = rt
        .invoke(
            &plugin,
            env.ctx(&plugin),
            Call::ValidateConfig(r#"{"greeting": 1, "colour": "red"}"#.into()),
        )
        .await
        .unwrap();
    let CallOutput::ConfigChecked(Err(problems)) = checked else {
        panic!("{checked:?}")
    };
    let mut pointers: Vec<&str> = problems.iter().map(|p| p.pointer.as_str()).collect();
    pointers.sort();
    assert_eq!(pointers, ["/colour", "/greeting"]);
}
