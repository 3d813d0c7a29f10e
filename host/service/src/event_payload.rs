//! How each kind of inbound event is stored in the queue (JSON in `events.payload`) and turned
//! into the plugin call that handles it. The stored form is the host's own storage format; the
//! plugin-facing types come from the WIT bindings.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use fulcrum_runtime::Call;
use fulcrum_runtime::bindings::{ActionRequest, Header, ScheduledRun, VendorRequest};
use serde::{Deserialize, Serialize};

/// `events.kind` values.
pub mod kind {
    pub const VENDOR: &str = "vendor";
    pub const SCHEDULE: &str = "schedule";
    pub const ACTION: &str = "action";
}

/// A vendor's request to the ingress, as received.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredVendorRequest {
    pub method: String,
    pub path: String,
    pub query: String,
    pub headers: Vec<(String, String)>,
    /// Base64 of the raw body.
    pub body: String,
    /// Unix ms.
    pub received_at: i64,
}

impl StoredVendorRequest {
    pub fn new(
        method: &str,
        path: &str,
        query: &str,
        headers: Vec<(String, String)>,
        body: &[u8],
        received_at: i64,
    ) -> Self {
        StoredVendorRequest {
            method: method.to_owned(),
            path: path.to_owned(),
            query: query.to_owned(),
            headers,
            body: BASE64.encode(body),
            received_at,
        }
    }

    /// The WIT request with the host's id for it.
    pub fn to_wit(&self, id: String) -> Result<VendorRequest, PayloadError> {
        Ok(VendorRequest {
            id,
            received_at: self.received_at,
            method: self.method.clone(),
            path: self.path.clone(),
            query: self.query.clone(),
            headers: self
                .headers
                .iter()
                .map(|(name, value)| Header {
                    name: name.clone(),
                    value: value.clone(),
                })
                .collect(),
            body: BASE64
                .decode(&self.body)
                .map_err(|e| PayloadError(format!("vendor request body is not base64: {e}")))?,
        })
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredScheduledRun {
    pub name: String,
    /// When the run was due (unix ms).
    pub scheduled_at: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredAction {
    pub name: String,
    /// JSON text of the input.
    pub input: String,
    pub requested_by: Option<String>,
}

#[derive(Debug, thiserror::Error)]
#[error("stored event payload is unusable: {0}")]
pub struct PayloadError(pub String);

/// The plugin call for a stored event. The host's id for the event (identical on every retry)
/// is `evt-<queue id>`.
pub fn call_for(
    kind: &str,
    event_id: i64,
    payload: &serde_json::Value,
) -> Result<Call, PayloadError> {
    let id = event_ref(event_id);
    fn parse<T: serde::de::DeserializeOwned>(
        payload: &serde_json::Value,
    ) -> Result<T, PayloadError> {
        T::deserialize(payload).map_err(|e| PayloadError(e.to_string()))
    }
    match kind {
        kind::VENDOR => Ok(Call::VendorEvent(
            parse::<StoredVendorRequest>(payload)?.to_wit(id)?,
        )),
        kind::SCHEDULE => {
            let run: StoredScheduledRun = parse(payload)?;
            Ok(Call::Schedule(ScheduledRun {
                id,
                name: run.name,
                scheduled_at: run.scheduled_at,
            }))
        }
        kind::ACTION => {
            let action: StoredAction = parse(payload)?;
            Ok(Call::Action(ActionRequest {
                id,
                name: action.name,
                input: action.input,
                requested_by: action.requested_by,
            }))
        }
        other => Err(PayloadError(format!("unknown event kind {other:?}"))),
    }
}

/// The id plugins see for a queued event.
pub fn event_ref(event_id: i64) -> String {
    format!("evt-{event_id}")
}
