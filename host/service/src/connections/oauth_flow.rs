//! "Connect with Lever": the OAuth authorization-code flow with PKCE for one installation.
//!
//! [`start`] asks for the scopes that cover exactly what the tenant admin approved (plus the
//! webhooks scope when the plugin subscribes to Lever events, and `offline_access` for a
//! refresh token), keeps a random single-use `state` (stored hashed, bound to the tenant,
//! the installation and the admin who started, expiring after [`STATE_TTL`]) with the PKCE
//! verifier (sealed), and returns Lever's authorize URL. Lever sends the admin's browser
//! back to `{public_url}/oauth/lever/callback`; [`finish`] consumes the state (a forged,
//! replayed or expired one is refused), exchanges the code and stores the tokens with the
//! scopes Lever actually granted.

use fulcrum_store::{ConsumedState, Installation, NewOAuthConnection, NewOAuthState, OAuthTokens};
use lever_client::oauth::{OAuthError, Pkce, new_state};
use lever_model::{Permission, Scope, ScopeSet};
use serde::Serialize;
use std::collections::BTreeSet;
use std::time::Duration;

use super::{ConnectionInfo, connected, existing, info, tenancy_error};
use crate::Host;
use crate::actor::Actor;
use crate::domain_error::{DomainError, Problem};
use crate::lifecycle::ConnectMethod;
use crate::tenancy::approved_permissions;

/// How long an admin has to consent.
pub const STATE_TTL: Duration = Duration::from_secs(600);
/// The callback's path on the host.
pub const CALLBACK_PATH: &str = "/oauth/lever/callback";

/// Where to send the admin.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Started {
    /// Lever's consent page for this installation.
    pub authorize_url: String,
    /// The scopes asked for.
    pub scopes: Vec<String>,
    /// Unix ms after which the link no longer works.
    pub expires_at: i64,
}

/// What Lever's callback brought.
#[derive(Debug, Clone)]
pub enum Callback {
    Code(String),
    Refused { error: String, description: String },
}

/// A finished connect.
#[derive(Debug, Clone)]
pub struct Finished {
    pub tenant: String,
    pub installation: String,
    pub connection: ConnectionInfo,
}

/// The permissions an OAuth connect asks scopes for: approved ∩ requested, plus what the
/// host itself needs on the connection ([`super::host_permissions`]).
fn wanted_permissions(
    host: &Host,
    installation: &Installation,
) -> Result<BTreeSet<Permission>, DomainError> {
    let plugin = host.runtime().active(&installation.plugin).ok_or_else(|| {
        DomainError::NotFound(crate::domain_error::Missing::Plugin(
            installation.plugin.clone(),
        ))
    })?;
    let requested = plugin.requested_permissions();
    let mut wanted: BTreeSet<Permission> = approved_permissions(installation)
        .into_iter()
        .filter(|p| requested.contains(p))
        .collect();
    if wanted.is_empty() {
        return Err(DomainError::NotReady {
            message: format!(
                "approve the permissions of {:?} before connecting Lever: the \
                 consent asks Lever for exactly what was approved; nothing was changed",
                installation.plugin_id
            ),
            problems: vec![Problem::host(
                "/approved_permissions",
                "no permission is approved yet",
            )],
        });
    }
    wanted.extend(super::host_permissions(&plugin));
    Ok(wanted)
}

/// Starts a connect: the authorize URL to send the admin to.
pub async fn start(
    host: &Host,
    actor: &Actor,
    tenant: &str,
    installation: &str,
) -> Result<Started, DomainError> {
    let stored = existing(host, tenant, installation).await?;
    let Some(public_url) = host.config().public_url.clone() else {
        return Err(DomainError::NotReady {
            message: "OAuth needs the host's public URL for Lever's callback: start \
                      `fulcrum serve` with --public-url; nothing was changed"
                .into(),
            problems: vec![],
        });
    };
    let plugin_id = &stored.plugin;
    let app_id = host
        .store()
        .plugin_lever_app(plugin_id)
        .await?
        .ok_or_else(|| {
            DomainError::invalid(
                "no_oauth_app",
                format!(
                    "plugin {plugin_id:?} has no Lever OAuth app: an operator must register \
                     one and assign it to the plugin, or connect with an API key; nothing was \
                     changed"
                ),
            )
        })?;
    let app = host
        .inner
        .tenancy
        .oauth_app(tenant, &app_id)
        .await
        .map_err(tenancy_error)?;
    let mut scopes = ScopeSet::covering(wanted_permissions(host, &stored)?);
    scopes.insert(Scope::OfflineAccess);
    // Relative to the public URL, so a path prefix (`https://x.example/fulcrum/`) is kept.
    let mut base = public_url.clone();
    if !base.path().ends_with('/') {
        base.set_path(&format!("{}/", base.path()));
    }
    let redirect = base
        .join(CALLBACK_PATH.trim_start_matches('/'))
        .map_err(|e| {
            DomainError::invalid(
                "bad_public_url",
                format!("the host's public URL cannot take the callback path: {e}"),
            )
        })?;
    let state = new_state();
    let pkce = Pkce::new();
    host.store()
        .create_oauth_state(&NewOAuthState {
            state: &state,
            tenant_id: tenant,
            installation_id: installation,
            requested_by: &actor.to_string(),
            redirect_uri: redirect.as_str(),
            scopes: &scopes.to_string(),
            pkce_verifier: &pkce.verifier,
            ttl: STATE_TTL,
        })
        .await?;
    let url = app.authorize_url(&redirect, &scopes, &state, &pkce.challenge);
    let ttl_ms = i64::try_from(STATE_TTL.as_millis()).unwrap_or(i64::MAX);
    Ok(Started {
        authorize_url: url.to_string(),
        scopes: scopes.iter().map(|s| s.as_str().to_owned()).collect(),
        expires_at: fulcrum_store::now_ms().saturating_add(ttl_ms),
    })
}

/// Finishes a connect from Lever's callback. The state is consumed whatever happens next, so
/// a callback can never be replayed.
pub async fn finish(host: &Host, state: &str, callback: Callback) -> Result<Finished, DomainError> {
    let invalid_state = |why: &str| {
        DomainError::invalid(
            "invalid_state",
            format!(
                "this Lever sign-in link {why}; start \"Connect with Lever\" again from Fulcrum"
            ),
        )
    };
    let pending = match host.store().consume_oauth_state(state).await? {
        ConsumedState::Fresh(pending) => pending,
        ConsumedState::AlreadyUsed => return Err(invalid_state("was used already")),
        ConsumedState::Expired => return Err(invalid_state("has expired")),
        ConsumedState::Unknown => return Err(invalid_state("is not one Fulcrum issued")),
    };
    let (tenant, installation) = (pending.tenant_id.clone(), pending.installation_id.clone());
    let code = match callback {
        Callback::Code(code) => code,
        Callback::Refused { error, description } => {
            return Err(DomainError::invalid(
                "access_denied",
                format!(
                    "Lever did not authorize the connection ({error}: {description}); a Lever \
                     Super Admin must accept the consent; nothing was changed"
                ),
            ));
        }
    };
    let plugin_id = existing(host, &tenant, &installation).await?.plugin;
    let app_id = host
        .store()
        .plugin_lever_app(&plugin_id)
        .await?
        .ok_or_else(|| {
            DomainError::invalid(
                "no_oauth_app",
                "the plugin's Lever OAuth app was removed while the admin was consenting; \
                 an operator must assign one again",
            )
        })?;
    let app = host
        .inner
        .tenancy
        .oauth_app(&tenant, &app_id)
        .await
        .map_err(tenancy_error)?;
    let redirect = pending
        .redirect_uri
        .parse()
        .map_err(|e| DomainError::invalid("invalid_state", format!("stored redirect URI: {e}")))?;
    let grant = app
        .exchange_code(&code, &redirect, &pending.pkce_verifier)
        .await
        .map_err(exchange_failed)?;
    if !grant.unknown_scopes.is_empty() {
        tracing::info!(scopes = ?grant.unknown_scopes, "Lever granted scopes this build does not know; they grant nothing");
    }
    let requested = ScopeSet::parse(&pending.scopes).unwrap_or_default();
    let granted = grant.scopes_or(&requested);
    let tokens = OAuthTokens {
        access_token: grant.access_token.clone(),
        refresh_token: grant.refresh_token.clone(),
    };
    host.store()
        .put_oauth_connection(
            &tenant,
            &installation,
            &NewOAuthConnection {
                app_id: &app_id,
                tokens: &tokens,
                access_expires_at: grant.expires_at_ms,
                granted_scopes: &granted.to_string(),
                connected_by: &pending.requested_by,
            },
        )
        .await?;
    let actor = Actor::local(format!("Lever consent started by {}", pending.requested_by));
    connected(
        host,
        &actor,
        &tenant,
        &installation,
        "connect Lever (OAuth)",
        ConnectMethod::OAuth,
    )
    .await?;
    Ok(Finished {
        connection: info(host, &tenant, &installation).await?,
        tenant,
        installation,
    })
}

fn exchange_failed(e: OAuthError) -> DomainError {
    if e.is_transient() {
        DomainError::invalid(
            "lever_unavailable",
            format!("{e}; start \"Connect with Lever\" again in a few minutes"),
        )
    } else {
        DomainError::invalid("oauth_exchange_failed", e.to_string())
    }
}
