//! Plugin components on the host: upload (platform operator), list and inspect (any token:
//! tenant admins read a plugin's requested permissions before approving them).

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use fulcrum_runtime::bindings::{LeverEventKind, LifecycleKind};
use fulcrum_runtime::{InstallError, PluginVersion};
use fulcrum_store::{Plugin, StoreError};
use lever_model::WebhookEventType;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::ErrorBody;
use super::auth::Principal;
use super::extract::{PathParams, read_bounded};
use crate::api_error::ApiError;
use crate::event_payload::{lever_event_kind, lifecycle_kind, lifecycle_kind_name};
use crate::{Host, PluginInstallError};

/// Largest component accepted (the fixtures are well under 1 MiB; real connectors a few MiB).
pub(crate) const MAX_COMPONENT_BYTES: usize = 16 * 1024 * 1024;
/// Bytes read and discarded past the limit so the client gets its 413 instead of a broken
/// pipe; beyond that the connection is closed.
const DRAIN_BYTES: usize = 16 * 1024 * 1024;

pub(super) fn routes() -> OpenApiRouter<Host> {
    OpenApiRouter::new()
        .routes(routes!(upload_plugin, list_plugins))
        .routes(routes!(get_plugin))
}

/// A plugin's manifest as the admin reads it: schemas as JSON, not text.
#[derive(Serialize, ToSchema, Clone)]
pub(super) struct ManifestView {
    id: String,
    name: String,
    version: String,
    vendor: String,
    description: String,
    /// The Lever permissions the plugin asks for, in Lever's words; a tenant super admin
    /// approves some or all of them.
    #[schema(schema_with = super::schemas::permissions)]
    requested_permissions: Vec<String>,
    /// Vendor origins the plugin may call.
    vendor_hosts: Vec<String>,
    /// Names of the secrets a tenant admin must set.
    secrets: Vec<String>,
    /// JSON Schema of the installation config.
    #[schema(value_type = Object)]
    config_schema: Value,
    /// The Lever webhook events the plugin handles, in Lever's words
    /// (`candidateStageChange`): a tenant subscribes its Lever webhook URL to these.
    #[schema(schema_with = super::schemas::lever_events)]
    lever_events: Vec<String>,
    schedules: Vec<ScheduleView>,
    actions: Vec<ActionView>,
    /// The `fulcrum:connector` contract version the component speaks (`0.1.0`, `0.2.0`);
    /// `null` for a version this host has not loaded.
    contract_version: Option<String>,
    /// The lifecycle hooks the plugin asked for (`connected`, `enabled`, `disabled`,
    /// `config-changed`, `removing`): the host queues these, and no others, as events.
    lifecycle_hooks: Vec<String>,
    /// Whether the plugin answers synchronous vendor queries at
    /// `/ingress/{tenant}/{installation}/query/...`.
    vendor_queries: bool,
}

#[derive(Serialize, Deserialize, ToSchema, Clone)]
pub(super) struct ScheduleView {
    name: String,
    description: String,
    every_seconds: u32,
}

#[derive(Serialize, ToSchema, Clone)]
pub(super) struct ActionView {
    name: String,
    description: String,
    /// JSON Schema of the action's input.
    #[schema(value_type = Object)]
    input_schema: Value,
}

/// The manifest as recorded (the runtime's `Manifest`, serialized).
#[derive(Deserialize)]
struct RecordedManifest {
    id: String,
    name: String,
    version: String,
    vendor: String,
    description: String,
    permissions: Vec<String>,
    vendor_hosts: Vec<String>,
    secrets: Vec<String>,
    config_schema: String,
    /// Lever's names or, as hosts recorded them before, the contract's Rust names
    /// (`CandidateStageChange`): both are read.
    lever_events: Vec<Value>,
    schedules: Vec<ScheduleView>,
    actions: Vec<RecordedAction>,
    /// Absent from manifests recorded before contract 0.2.0; the contract's Rust names
    /// (`ConfigChanged`) as recorded, or its WIT names: both are read.
    #[serde(default)]
    lifecycle_hooks: Vec<Value>,
    #[serde(default)]
    vendor_queries: bool,
}

#[derive(Deserialize)]
struct RecordedAction {
    name: String,
    description: String,
    input_schema: String,
}

/// Schema text as JSON (the runtime refuses manifests whose schemas are not JSON).
fn schema_json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or(Value::Null)
}

/// A Lever event kind of the contract in Lever's words (`candidateStageChange`).
fn lever_event_name(kind: &LeverEventKind) -> String {
    WebhookEventType::ALL
        .iter()
        .map(|event| event.as_str())
        .find(|name| lever_event_kind(name).as_ref() == Some(kind))
        // Every kind of the contract is a Lever event; a new one without a name shows as is
        // (and fails the OpenAPI test) rather than vanishing.
        .map_or_else(|| format!("{kind:?}"), str::to_owned)
}

/// A recorded event name in Lever's words, whichever way it was recorded.
fn recorded_lever_event(value: &Value) -> Option<String> {
    let text = value.as_str()?;
    if WebhookEventType::parse(text).is_some() {
        return Some(text.to_owned());
    }
    LeverEventKind::deserialize(value)
        .ok()
        .map(|kind| lever_event_name(&kind))
}

/// A recorded lifecycle hook by its WIT name, whichever way it was recorded.
fn recorded_lifecycle_kind(value: &Value) -> Option<String> {
    let kind = value
        .as_str()
        .and_then(lifecycle_kind)
        .or_else(|| LifecycleKind::deserialize(value).ok())?;
    Some(lifecycle_kind_name(kind).to_owned())
}

impl ManifestView {
    pub(super) fn from_plugin(plugin: &PluginVersion) -> Self {
        let manifest = plugin.manifest();
        ManifestView {
            contract_version: Some(plugin.contract().as_str().to_owned()),
            lifecycle_hooks: manifest
                .lifecycle_hooks
                .iter()
                .map(|k| lifecycle_kind_name(*k).to_owned())
                .collect(),
            vendor_queries: manifest.vendor_queries,
            id: manifest.id.clone(),
            name: manifest.name.clone(),
            version: manifest.version.clone(),
            vendor: manifest.vendor.clone(),
            description: manifest.description.clone(),
            requested_permissions: manifest.permissions.clone(),
            vendor_hosts: manifest.vendor_hosts.clone(),
            secrets: manifest.secrets.clone(),
            config_schema: schema_json(&manifest.config_schema),
            lever_events: manifest.lever_events.iter().map(lever_event_name).collect(),
            schedules: manifest
                .schedules
                .iter()
                .map(|s| ScheduleView {
                    name: s.name.clone(),
                    description: s.description.clone(),
                    every_seconds: s.every_seconds,
                })
                .collect(),
            actions: manifest
                .actions
                .iter()
                .map(|a| ActionView {
                    name: a.name.clone(),
                    description: a.description.clone(),
                    input_schema: schema_json(&a.input_schema),
                })
                .collect(),
        }
    }

    fn from_recorded(value: &Value) -> Option<Self> {
        let m = RecordedManifest::deserialize(value).ok()?;
        Some(ManifestView {
            contract_version: None,
            lifecycle_hooks: m
                .lifecycle_hooks
                .iter()
                .filter_map(recorded_lifecycle_kind)
                .collect(),
            vendor_queries: m.vendor_queries,
            id: m.id,
            name: m.name,
            version: m.version,
            vendor: m.vendor,
            description: m.description,
            requested_permissions: m.permissions,
            vendor_hosts: m.vendor_hosts,
            secrets: m.secrets,
            config_schema: schema_json(&m.config_schema),
            lever_events: m
                .lever_events
                .iter()
                .filter_map(recorded_lever_event)
                .collect(),
            schedules: m.schedules,
            actions: m
                .actions
                .into_iter()
                .map(|a| ActionView {
                    name: a.name,
                    description: a.description,
                    input_schema: schema_json(&a.input_schema),
                })
                .collect(),
        })
    }
}

#[derive(Serialize, ToSchema)]
pub(super) struct VersionView {
    version: String,
    /// SHA-256 of the component.
    sha256: String,
    /// Unix milliseconds.
    installed_at: i64,
    /// Whether this host has the version loaded (and can run it).
    loaded: bool,
}

#[derive(Serialize, ToSchema)]
pub(super) struct PluginSummary {
    id: String,
    name: String,
    vendor: String,
    /// The version events run on: the newest loaded one.
    active_version: Option<String>,
    versions: Vec<VersionView>,
}

#[derive(Serialize, ToSchema)]
pub(super) struct PluginDetail {
    id: String,
    active_version: Option<String>,
    versions: Vec<VersionView>,
    /// The active version's manifest (the newest recorded one if none is loaded).
    manifest: ManifestView,
}

#[derive(Serialize, ToSchema)]
pub(super) struct UploadedPlugin {
    id: String,
    version: String,
    sha256: String,
    manifest: ManifestView,
}

fn semver_of(version: &str) -> Option<semver::Version> {
    semver::Version::parse(version).ok()
}

fn version_view(host: &Host, record: &Plugin) -> VersionView {
    let loaded = semver_of(&record.version)
        .and_then(|v| host.inner.runtime.version(&record.id, &v))
        .is_some_and(|p| p.content_hash() == record.component_sha256);
    VersionView {
        version: record.version.clone(),
        sha256: record.component_sha256.clone(),
        installed_at: record.installed_at,
        loaded,
    }
}

/// The recorded versions of each plugin, oldest version first.
async fn recorded_by_plugin(host: &Host) -> Result<BTreeMap<String, Vec<Plugin>>, ApiError> {
    let mut by_id: BTreeMap<String, Vec<Plugin>> = BTreeMap::new();
    for record in host.inner.store.list_plugins().await? {
        by_id.entry(record.id.clone()).or_default().push(record);
    }
    for versions in by_id.values_mut() {
        versions.sort_by_key(|v| semver_of(&v.version));
    }
    Ok(by_id)
}

/// The manifest admins see: the active version's, else the newest recorded one's.
fn current_manifest(host: &Host, id: &str, versions: &[Plugin]) -> Option<ManifestView> {
    match host.inner.runtime.active(id) {
        Some(active) => Some(ManifestView::from_plugin(&active)),
        None => versions
            .last()
            .and_then(|v| ManifestView::from_recorded(&v.manifest)),
    }
}

pub(super) fn unknown_plugin(plugin: &str) -> ApiError {
    ApiError::unknown_plugin(plugin)
}

/// Upload a plugin component (platform operator): the raw `.wasm` bytes with
/// `Content-Type: application/wasm`. The host compiles it, checks its contract version and
/// manifest, records the version and keeps the bytes; the newest version becomes active.
#[utoipa::path(
    post, path = "/admin/v1/plugins", tag = "plugins",
    request_body(content = Vec<u8>, content_type = "application/wasm",
                 description = "A WebAssembly component built against fulcrum:connector@0.1.0"),
    responses(
        (status = 201, description = "Installed", body = UploadedPlugin),
        (status = 400, description = "Not a WebAssembly component", body = ErrorBody),
        (status = 403, description = "Not a platform operator", body = ErrorBody),
        (status = 409, description = "This version exists with other contents", body = ErrorBody),
        (status = 413, description = "Larger than 16 MiB", body = ErrorBody),
        (status = 415, description = "Not application/wasm", body = ErrorBody),
        (status = 422, description = "Unsupported contract version, link failure or invalid manifest", body = ErrorBody),
    )
)]
async fn upload_plugin(
    State(host): State<Host>,
    principal: Principal,
    headers: HeaderMap,
    body: Body,
) -> Result<(StatusCode, Json<UploadedPlugin>), ApiError> {
    principal.require_operator("upload plugins")?;
    // Read (bounded) before judging, so a refused client gets its answer, not a broken pipe.
    let bytes = read_component(body).await?;
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let essence = content_type.split(';').next().unwrap_or("").trim();
    if !essence.eq_ignore_ascii_case("application/wasm") {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            format!(
                "send the component's raw bytes with Content-Type: application/wasm (got \
                 {content_type:?}); nothing was installed"
            ),
        ));
    }
    let plugin = host.install_plugin(bytes).await.map_err(install_error)?;
    Ok((
        StatusCode::CREATED,
        Json(UploadedPlugin {
            id: plugin.id().to_owned(),
            version: plugin.version().to_string(),
            sha256: plugin.content_hash().to_owned(),
            manifest: ManifestView::from_plugin(&plugin),
        }),
    ))
}

async fn read_component(body: Body) -> Result<Vec<u8>, ApiError> {
    let too_large = || {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!(
                "the component is larger than {} MiB; strip debug info (release profile) and \
                 upload again; nothing was installed",
                MAX_COMPONENT_BYTES / (1024 * 1024)
            ),
        )
    };
    let kept = read_bounded(body, MAX_COMPONENT_BYTES, DRAIN_BYTES, too_large).await?;
    if kept.is_empty() {
        return Err(ApiError::bad_request(
            "the body is empty; send the component's bytes; nothing was installed",
        ));
    }
    Ok(kept)
}

fn install_error(error: PluginInstallError) -> ApiError {
    let unprocessable = |code: &'static str, e: &InstallError| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            code,
            format!("{e}; nothing was installed"),
        )
    };
    match &error {
        PluginInstallError::Component(e) => match e {
            InstallError::NotAComponent { .. } => ApiError::new(
                StatusCode::BAD_REQUEST,
                "not_a_component",
                format!("{e}; nothing was installed"),
            ),
            InstallError::UnsupportedApiVersion { .. } => {
                unprocessable("unsupported_wit_version", e)
            }
            InstallError::MixedApiVersions { .. } => unprocessable("mixed_wit_versions", e),
            InstallError::Link { .. } => unprocessable("link_failed", e),
            InstallError::Describe(_) => unprocessable("describe_failed", e),
            InstallError::InvalidManifest { .. } => unprocessable("invalid_manifest", e),
            InstallError::VersionConflict { .. } => ApiError::new(
                StatusCode::CONFLICT,
                "version_conflict",
                format!("{e}; nothing was installed"),
            ),
            InstallError::Cache(_) | InstallError::Interrupted(_) => {
                ApiError::internal("plugin install", e)
            }
        },
        PluginInstallError::Store(StoreError::Conflict(message)) => {
            ApiError::new(StatusCode::CONFLICT, "version_conflict", message.clone())
        }
        PluginInstallError::Store(_) | PluginInstallError::Disk { .. } => {
            ApiError::internal("plugin install", &error)
        }
    }
}

/// Every plugin recorded on the host, with its versions (any token).
#[utoipa::path(
    get, path = "/admin/v1/plugins", tag = "plugins",
    responses((status = 200, description = "Plugins by id", body = Vec<PluginSummary>))
)]
async fn list_plugins(
    State(host): State<Host>,
    _principal: Principal,
) -> Result<Json<Vec<PluginSummary>>, ApiError> {
    let mut summaries = Vec::new();
    for (id, versions) in recorded_by_plugin(&host).await? {
        let manifest = current_manifest(&host, &id, &versions);
        summaries.push(PluginSummary {
            name: manifest
                .as_ref()
                .map(|m| m.name.clone())
                .unwrap_or_default(),
            vendor: manifest.map(|m| m.vendor).unwrap_or_default(),
            active_version: host
                .inner
                .runtime
                .active(&id)
                .map(|p| p.version().to_string()),
            versions: versions.iter().map(|v| version_view(&host, v)).collect(),
            id,
        });
    }
    Ok(Json(summaries))
}

/// One plugin: its manifest (requested permissions, secrets, config schema, schedules,
/// actions) and versions (any token).
#[utoipa::path(
    get, path = "/admin/v1/plugins/{plugin}", tag = "plugins",
    params(("plugin" = String, Path, description = "Plugin id")),
    responses(
        (status = 200, description = "The plugin", body = PluginDetail),
        (status = 404, description = "Unknown plugin", body = ErrorBody),
    )
)]
async fn get_plugin(
    State(host): State<Host>,
    _principal: Principal,
    PathParams(plugin): PathParams<String>,
) -> Result<Json<PluginDetail>, ApiError> {
    let versions = recorded_by_plugin(&host)
        .await?
        .remove(&plugin)
        .unwrap_or_default();
    let manifest =
        current_manifest(&host, &plugin, &versions).ok_or_else(|| unknown_plugin(&plugin))?;
    Ok(Json(PluginDetail {
        active_version: host
            .inner
            .runtime
            .active(&plugin)
            .map(|p| p.version().to_string()),
        versions: versions.iter().map(|v| version_view(&host, v)).collect(),
        manifest,
        id: plugin,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn lever_events_read_in_lever_words_however_they_were_recorded() {
        for recorded in [json!("CandidateStageChange"), json!("candidateStageChange")] {
            assert_eq!(
                recorded_lever_event(&recorded).as_deref(),
                Some("candidateStageChange"),
                "{recorded}"
            );
        }
        assert_eq!(recorded_lever_event(&json!("somethingElse")), None);
        assert_eq!(
            lever_event_name(&LeverEventKind::CandidateArchiveChange),
            "candidateArchiveChange"
        );
    }
}
