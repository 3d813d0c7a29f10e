//! What a connector's scenario is and works with: the running [`Demo`], the [`Scenario`] trait,
//! and the steps scenarios share.

use crate::{TENANT, step};
use anyhow::{Context, bail};
use fulcrum_runtime::PluginVersion;
use fulcrum_service::Host;
use lever_sandbox::Sandbox;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use vendor_double::{Recorded, Reply, VendorDouble};

/// What a scenario works with: the running sandbox and host, and an HTTP client.
pub struct Demo {
    pub sandbox: Sandbox,
    pub host: Host,
    pub http: reqwest::Client,
    /// `http://ADDR` of the host.
    pub host_url: String,
    /// Unique per run, for idempotency keys: a kept `--data-dir` remembers the keys of earlier
    /// runs, and this run's events must not be deduped against them.
    pub run_id: String,
    /// The stand-in vendor of each scenario that names a vendor origin, by artifact name.
    pub vendors: HashMap<&'static str, VendorDouble>,
}

/// A vendor request the host answered.
pub struct Delivery {
    pub status: u16,
    pub body: Value,
}

impl Demo {
    /// The stand-in vendor of the scenario of `artifact` (see [`Scenario::vendor_origin`]).
    pub fn vendor(&self, artifact: &str) -> anyhow::Result<&VendorDouble> {
        self.vendors
            .get(artifact)
            .with_context(|| format!("the {artifact} scenario names no vendor origin"))
    }

    /// `POST /ingress/demo/{plugin}/{path}` with a JSON body and the given headers.
    pub async fn post_vendor_event(
        &self,
        plugin_id: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &Value,
    ) -> anyhow::Result<Delivery> {
        let url = format!("{}/ingress/{TENANT}/{plugin_id}/{path}", self.host_url);
        let mut request = self
            .http
            .post(&url)
            .header("content-type", "application/json")
            .body(body.to_string());
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request
            .send()
            .await
            .with_context(|| format!("the host did not answer POST {url}"))?;
        let status = response.status().as_u16();
        let body = response.json().await.unwrap_or(Value::Null);
        Ok(Delivery { status, body })
    }
}

/// One connector's part of the demo.
#[async_trait::async_trait]
pub trait Scenario: Send + Sync {
    /// The component's name in `fulcrum_plugin_artifacts::ALL` (e.g. `"remote_tech_work"`).
    fn artifact(&self) -> &'static str;
    /// One line saying what the scenario shows.
    fn title(&self) -> String;
    /// The installation's config (checked by the plugin's `validate-config` before use).
    fn config(&self, _demo: &Demo) -> Value {
        json!({})
    }
    /// Vendor secrets the tenant's admin sets (name, value).
    fn secrets(&self) -> Vec<(&'static str, String)>;
    /// How the installation is connected to Lever.
    fn connection(&self) -> crate::connect::Connection;
    /// The vendor origin the connector declares (e.g. `"https://api.vendor.example"`): the
    /// demo points it at a [`VendorDouble`] on loopback that answers with [`Scenario::vendor_reply`].
    fn vendor_origin(&self) -> Option<&'static str> {
        None
    }
    /// How the stand-in vendor answers one of the connector's requests.
    fn vendor_reply(&self, _request: &Recorded) -> Reply {
        Reply::json(200, json!({"ok": true}))
    }
    /// Per-schedule overrides, e.g. `{"tick": {"enabled": false}}`.
    fn schedule_overrides(&self) -> Value {
        json!({})
    }
    /// Sends the vendor's events through the host's ingress, printing a step per request.
    async fn send(&self, demo: &Demo, plugin: &PluginVersion) -> anyhow::Result<()>;
    /// Events this scenario expects to end as dead letters (to show the failure path).
    fn expected_dead_letters(&self) -> i64 {
        0
    }
    /// A command a person can paste to send one more event while the demo keeps serving.
    fn try_it(&self, _demo: &Demo, _plugin: &PluginVersion) -> Option<String> {
        None
    }
}

/// Every connector's scenario, in the artifacts' order.
pub(crate) fn connector_scenarios() -> Vec<Arc<dyn Scenario>> {
    let mut scenarios: Vec<Arc<dyn Scenario>> = Vec::new();
    // A connector without a module of the same name here fails to compile: its scenario
    // is part of delivering it.
    macro_rules! scenario_of {
        ($name:ident) => {
            scenarios.push(crate::$name::scenario());
        };
    }
    fulcrum_connectors::foreach_connector!(scenario_of);
    scenarios
}

/// Switches on a connector's posting-sync schedule (a newly enabled schedule runs at once)
/// and waits until its stand-in vendor got a `PUT` under `jobs_path` for each of the demo
/// company's public postings, at most `per_run` (what one run sends). Prints the first few
/// with `describe`.
// Each argument is one fact of a connector's posting sync; a struct would only rename them.
#[allow(clippy::too_many_arguments)]
pub async fn sync_jobs_to_vendor(
    demo: &Demo,
    plugin: &PluginVersion,
    artifact: &str,
    vendor_name: &str,
    schedule: &str,
    jobs_path: &str,
    per_run: usize,
    describe: impl Fn(&Value) -> String,
) -> anyhow::Result<Vec<Recorded>> {
    let vendor = demo.vendor(artifact)?;
    let jobs = step(
        "switching on the posting sync (every 5 minutes, first run now)",
        async {
            fulcrum_service::installations::set_schedule_overrides(
                &demo.host,
                &crate::flow::actor(),
                TENANT,
                plugin.id(),
                &json!({ schedule: {"every_seconds": 300} }),
            )
            .await?;
            let public = demo.sandbox.read(|db| {
                db.postings()
                    .filter(|p| {
                        p.state == lever_model::PostingState::Published
                            && p.confidentiality == lever_model::Confidentiality::NonConfidential
                            && p.distribution_channels.as_ref().is_some_and(|c| {
                                c.contains(&lever_model::DistributionChannel::Public)
                            })
                    })
                    .count()
            });
            if public == 0 {
                bail!("the demo company has no public posting to send");
            }
            Ok(vendor
                .wait_for(
                    |r| r.method == "PUT" && r.path.starts_with(jobs_path),
                    public.min(per_run),
                    Duration::from_secs(60),
                )
                .await)
        },
        |puts| format!("{vendor_name} received {} pending job(s)", puts.len()),
    )
    .await?;
    for put in jobs.iter().take(3) {
        println!(
            "  {vendor_name} ← PUT {}: {}",
            put.path,
            describe(&put.json())
        );
    }
    if jobs.len() > 3 {
        println!("  … and {} more", jobs.len() - 3);
    }
    Ok(jobs)
}
