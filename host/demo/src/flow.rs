//! One run of the demo: the tenant, then per scenario install, approve, configure, send, wait
//! and report what changed in Lever.

use crate::snapshot::LeverSnapshot;
use crate::{Demo, Scenario, TENANT, step};
use anyhow::{Context, bail};
use fulcrum_runtime::PluginVersion;
use fulcrum_service::tenants::LeverConnection;
use fulcrum_service::{Actor, installations, tenants};
use fulcrum_store::{EventFilter, EventStatus};
use lever_sandbox::KeySpec;
use secrecy::SecretString;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Creates the demo tenant and runs every scenario; returns the "try it" lines.
pub(crate) async fn run_scenarios(
    demo: &Demo,
    scenarios: &[Arc<dyn Scenario>],
) -> anyhow::Result<Vec<String>> {
    step(
        format!("creating the demo tenant {TENANT:?} with its own sandbox API key"),
        create_tenant(demo),
        |_| format!("Lever at {}", demo.sandbox.api_url()),
    )
    .await?;

    // A kept --data-dir holds earlier runs' events: report this run's only.
    let earlier = demo
        .host
        .store()
        .count_events(Some(TENANT))
        .await
        .context("could not count the demo's events")?;
    let mut tries = Vec::new();
    for scenario in scenarios {
        println!();
        println!("== {}", scenario.title());
        let plugin = run_scenario(demo, scenario.as_ref()).await?;
        tries.extend(scenario.try_it(demo, &plugin));
    }
    let counts = demo
        .host
        .store()
        .count_events(Some(TENANT))
        .await
        .context("could not count the demo's events")?;
    println!();
    println!(
        "demo done: {} event(s) handled, {} dead letter(s), {} Lever request(s) served by the sandbox",
        counts.done - earlier.done,
        counts.dead - earlier.dead,
        demo.sandbox.stats().total_requests()
    );
    Ok(tries)
}

/// The tenant, connected to the sandbox (a kept data dir may have it from an earlier run: the
/// sandbox is new each run, so its key and URL are set again). Through the service's domain
/// layer, as the admin API and `fulcrum tenant create` do: checked and audited.
async fn create_tenant(demo: &Demo) -> anyhow::Result<()> {
    let store = demo.host.store();
    let key = demo
        .sandbox
        .issue_api_key(KeySpec::all("fulcrum demo tenant"));
    tenants::ensure(store, &actor(), TENANT, "Demo Company").await?;
    let lever = LeverConnection {
        api_key: Some(SecretString::from(key)),
        base_url: Some(demo.sandbox.api_url()),
        acting_user_id: Some(demo.sandbox.default_user_id()),
    };
    tenants::connect_lever(store, &actor(), TENANT, &lever).await?;
    Ok(())
}

/// Who the demo's admin changes are by, in the tenant's audit log.
pub(crate) fn actor() -> Actor {
    Actor::local("demo")
}

/// Install, approve, configure, send, wait, report.
async fn run_scenario(demo: &Demo, scenario: &dyn Scenario) -> anyhow::Result<Arc<PluginVersion>> {
    let name = scenario.artifact();
    let bytes = fulcrum_connectors::ALL
        .iter()
        .find(|(artifact, _)| *artifact == name)
        .map(|(_, bytes)| *bytes)
        .with_context(|| {
            format!("no component named {name:?} is embedded; add it to plugins/connectors")
        })?;
    let plugin = step(
        format!("installing the {name} component"),
        async {
            demo.host
                .install_plugin(bytes.to_vec())
                .await
                .with_context(|| format!("could not install the {name} component"))
        },
        |p| format!("{} {}", p.id(), p.version()),
    )
    .await?;
    let plugin_id = plugin.id().to_owned();

    set_up(demo, scenario, &plugin).await?;

    let before = LeverSnapshot::take(&demo.sandbox);
    let started = demo.host.store().count_events(Some(TENANT)).await?;
    scenario.send(demo, &plugin).await?;
    let counts = step(
        "waiting for the workers to run the events",
        settle(demo, Duration::from_secs(60)),
        |c| {
            format!(
                "{} done, {} dead letter(s)",
                c.done - started.done,
                c.dead - started.dead
            )
        },
    )
    .await?;
    let dead = counts.dead - started.dead;
    if dead > 0 {
        print_dead_letters(demo, &plugin_id).await?;
    }
    if dead != scenario.expected_dead_letters() {
        bail!(
            "{dead} event(s) of {plugin_id} ended as dead letters, {} expected; their errors are above",
            scenario.expected_dead_letters()
        );
    }

    println!("What happened in Lever:");
    let lines = before.changes(&demo.sandbox);
    if lines.is_empty() {
        println!("  nothing changed");
    }
    for line in lines {
        println!("  {line}");
    }
    Ok(plugin)
}

/// Adds the plugin for the demo tenant as its super admin would, step by step through the
/// service's domain layer: approve what it requests, set its secrets, its config (the plugin's
/// JSON Schema, then its own `validate-config`, which sees the secrets as at ingress), its
/// schedule overrides, then enable it.
async fn set_up(
    demo: &Demo,
    scenario: &dyn Scenario,
    plugin: &PluginVersion,
) -> anyhow::Result<()> {
    let host = &demo.host;
    let plugin_id = plugin.id();
    let requested: Vec<&str> = plugin
        .requested_permissions()
        .iter()
        .map(|p| p.as_str())
        .collect();
    step(
        format!(
            "adding it for {TENANT:?}, approving the {} Lever permissions it requests ({})",
            requested.len(),
            requested.join(", ")
        ),
        async {
            installations::add(host, &actor(), TENANT, plugin_id).await?;
            installations::approve_requested(host, &actor(), TENANT, plugin_id).await?;
            Ok(())
        },
        |_| String::new(),
    )
    .await?;

    crate::connect::connect(demo, plugin, scenario.connection()).await?;

    let secrets = scenario.secrets();
    if !secrets.is_empty() {
        let names: Vec<&str> = secrets.iter().map(|(name, _)| *name).collect();
        step(
            format!("setting its vendor secrets ({})", names.join(", ")),
            async {
                for (name, value) in &secrets {
                    let value = SecretString::from(value.clone());
                    installations::set_secret(host, &actor(), TENANT, plugin_id, name, &value)
                        .await?;
                }
                Ok(())
            },
            |_| "stored encrypted".into(),
        )
        .await?;
    }

    let config = scenario.config(demo);
    step(
        format!("setting its config {config}"),
        async {
            installations::configure(host, &actor(), TENANT, plugin_id, &config)
                .await
                .context("the plugin refuses the demo's config; fix the scenario's config()")
        },
        |_| "the schema and validate-config accept it".into(),
    )
    .await?;

    step(
        "enabling it",
        async {
            let overrides = scenario.schedule_overrides();
            installations::set_schedule_overrides(host, &actor(), TENANT, plugin_id, &overrides)
                .await?;
            installations::enable(host, &actor(), TENANT, plugin_id).await?;
            Ok(())
        },
        |_| String::new(),
    )
    .await?;
    Ok(())
}

/// Waits until none of the demo tenant's events is queued or running.
pub(crate) async fn settle(
    demo: &Demo,
    limit: Duration,
) -> anyhow::Result<fulcrum_store::EventCounts> {
    let started = Instant::now();
    loop {
        let counts = demo.host.store().count_events(Some(TENANT)).await?;
        if counts.queued == 0 && counts.running == 0 {
            return Ok(counts);
        }
        if started.elapsed() > limit {
            bail!(
                "events still unfinished after {limit:?} ({} queued, {} running); the host's \
                 logs on stderr say why (RUST_LOG=info for more)",
                counts.queued,
                counts.running
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn print_dead_letters(demo: &Demo, plugin_id: &str) -> anyhow::Result<()> {
    let dead = demo
        .host
        .store()
        .list_events(&EventFilter {
            tenant_id: Some(TENANT.into()),
            plugin_id: Some(plugin_id.into()),
            status: Some(EventStatus::Dead),
            ..EventFilter::default()
        })
        .await?;
    for event in dead {
        println!(
            "  dead letter {} after {} attempt(s): {}",
            event.id,
            event.attempts,
            event.last_error.as_deref().unwrap_or("no error recorded")
        );
    }
    Ok(())
}
