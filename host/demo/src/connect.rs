//! How the demo connects each installation to Lever, the way the seed integrations are
//! connected: "Connect with Lever" (OAuth consent, accepted here by a program playing the
//! sandbox's super admin on the real consent page) or an API key made for that installation.
//! Then the installation's identity: the sandbox's super admin, checked against Lever.

use anyhow::Context;
use fulcrum_runtime::PluginVersion;
use fulcrum_service::connections::{self, oauth_apps, oauth_flow};
use lever_model::Permission;
use lever_sandbox::KeySpec;
use lever_sandbox::consent_client::{Decision, answer_consent};
use secrecy::SecretString;

use crate::flow::actor;
use crate::{Demo, TENANT, step};

/// The demo's OAuth app, as the operator registers it (id in Fulcrum).
const APP_ID: &str = "lever-sandbox";

/// How a scenario's installation is connected to Lever.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Connection {
    /// "Connect with Lever" (OAuth).
    OAuth,
    /// An API key generated for this installation with exactly its permissions.
    ApiKey,
}

pub(crate) async fn connect(
    demo: &Demo,
    plugin: &PluginVersion,
    connection: Connection,
) -> anyhow::Result<()> {
    let plugin_id = plugin.id();
    match connection {
        Connection::OAuth => connect_oauth(demo, plugin_id).await?,
        Connection::ApiKey => connect_api_key(demo, plugin).await?,
    }
    let user = demo.sandbox.default_user_id();
    step(
        format!("choosing the Lever user it acts as ({user}, the sandbox's super admin)"),
        async {
            connections::set_identity(&demo.host, &actor(), TENANT, plugin_id, &user, &[])
                .await
                .context("the sandbox refused the acting user")
        },
        |_| "checked: an active Lever user".into(),
    )
    .await?;
    Ok(())
}

async fn connect_api_key(demo: &Demo, plugin: &PluginVersion) -> anyhow::Result<()> {
    let plugin_id = plugin.id();
    // What it requests, plus what the host itself needs on the connection.
    let mut permissions: Vec<Permission> = plugin.requested_permissions().iter().copied().collect();
    permissions.extend(connections::host_permissions(plugin));
    let key = demo
        .sandbox
        .issue_api_key(KeySpec::only(format!("fulcrum {plugin_id}"), permissions));
    step(
        "connecting Lever with an API key made for this installation (its own permissions)",
        async {
            let (_, probe) = connections::connect_api_key(
                &demo.host,
                &actor(),
                TENANT,
                plugin_id,
                &SecretString::from(key),
                false,
            )
            .await?;
            anyhow::ensure!(
                probe.missing.is_empty(),
                "the key lacks {:?}",
                probe.missing
            );
            Ok(probe)
        },
        |probe| {
            format!(
                "test connection: {} permission(s) confirmed",
                probe.granted.len()
            )
        },
    )
    .await?;
    Ok(())
}

async fn connect_oauth(demo: &Demo, plugin_id: &str) -> anyhow::Result<()> {
    let callback = format!("{}{}", demo.host_url, oauth_flow::CALLBACK_PATH);
    step(
        "registering Fulcrum as an OAuth app in the sandbox and with the host",
        async {
            let app = lever_sandbox::OAuthApp::generate("Fulcrum (demo)", vec![callback.clone()]);
            demo.sandbox
                .register_oauth_app(app.clone())
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            oauth_apps::register(
                &demo.host,
                &actor(),
                oauth_apps::NewApp {
                    id: APP_ID.into(),
                    name: "Fulcrum (demo)".into(),
                    client_id: app.client_id.clone(),
                    client_secret: SecretString::from(app.client_secret.clone()),
                    authorize_url: Some(demo.sandbox.authorize_url()),
                    token_url: Some(demo.sandbox.token_url()),
                    audience: Some(demo.sandbox.oauth_audience()),
                },
            )
            .await?;
            oauth_apps::set_plugin_app(&demo.host, &actor(), plugin_id, Some(APP_ID)).await?;
            Ok(app.client_id)
        },
        |client_id| format!("client id {client_id}"),
    )
    .await?;
    let started = step(
        "\"Connect with Lever\": the host asks for the scopes of the approved permissions",
        async { Ok(oauth_flow::start(&demo.host, &actor(), TENANT, plugin_id).await?) },
        |s| s.scopes.join(" "),
    )
    .await?;
    let redirect = step(
        "the sandbox's super admin signs in on the consent page and clicks Accept",
        async {
            answer_consent(
                &started.authorize_url,
                &demo.sandbox.default_user_id(),
                Decision::Accept,
            )
            .await
            .context("the sandbox's consent page could not be answered")
        },
        |_| "redirected back to the host with a code".into(),
    )
    .await?;
    step(
        "the host's callback exchanges the code and stores the tokens (encrypted)",
        async {
            let page = demo.http.get(redirect).send().await?;
            let status = page.status();
            let text = page.text().await?;
            anyhow::ensure!(
                status.is_success(),
                "the callback answered {status}: {text}"
            );
            let info = connections::info(&demo.host, TENANT, plugin_id).await?;
            Ok(info)
        },
        |info| {
            format!(
                "{} scope(s) granted, status {}",
                info.granted_scopes.len(),
                info.status
            )
        },
    )
    .await?;
    Ok(())
}
