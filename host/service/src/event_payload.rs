//! How each kind of inbound event is stored in the queue (JSON in `events.payload`) and turned
//! into the plugin call that handles it. The stored form is the host's own storage format; the
//! plugin-facing types come from the WIT bindings.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use fulcrum_runtime::Call;
use fulcrum_runtime::bindings::{
    ActionRequest, Header, LeverEvent, LeverEventKind, LifecycleEvent, LifecycleKind, ScheduledRun,
    VendorRequest,
};
use fulcrum_store::{Event, Store, StoreError};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// `events.kind` values.
pub mod kind {
    pub const VENDOR: &str = "vendor";
    pub const SCHEDULE: &str = "schedule";
    pub const ACTION: &str = "action";
    /// A Lever webhook delivery, verified against the tenant's signature token.
    pub const LEVER: &str = "lever";
    /// A lifecycle hook the installation's plugin asked for (connected, enabled, ...).
    pub const LIFECYCLE: &str = "lifecycle";
}

/// A vendor's request to the ingress, as received.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredVendorRequest {
    pub method: String,
    pub path: String,
    pub query: String,
    /// The headers, in order, except the credential headers taken out by
    /// [`StoredVendorRequest::take_credentials`].
    pub headers: Vec<(String, String)>,
    /// Base64 of the raw body.
    pub body: String,
    /// Unix ms.
    pub received_at: i64,
    /// The credential headers taken out: their position among the request's headers and
    /// their name. Their values are sealed with the event
    /// (`Store::event_sealed_headers`), never stored here.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sealed_headers: Vec<(usize, String)>,
}

/// What is sealed for one credential header: position, name, value.
type SealedHeader = (usize, String, String);

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
            sealed_headers: Vec::new(),
        }
    }

    /// Takes the headers named in `credential_headers` (lower-case names) out of `headers`,
    /// noting where they were in `sealed_headers`; returns what to seal with the event (none
    /// when the request carried no such header).
    pub fn take_credentials(&mut self, credential_headers: &[String]) -> Option<Vec<u8>> {
        let is_credential = |name: &str| {
            credential_headers
                .iter()
                .any(|c| c.eq_ignore_ascii_case(name))
        };
        let mut taken: Vec<SealedHeader> = Vec::new();
        let mut kept = Vec::with_capacity(self.headers.len());
        for (position, (name, value)) in std::mem::take(&mut self.headers).into_iter().enumerate() {
            if is_credential(&name) {
                taken.push((position, name, value));
            } else {
                kept.push((name, value));
            }
        }
        self.headers = kept;
        if taken.is_empty() {
            return None;
        }
        self.sealed_headers = taken.iter().map(|(p, n, _)| (*p, n.clone())).collect();
        serde_json::to_vec(&taken).ok()
    }

    /// Puts the credential headers opened from the event's sealed row back where they were.
    pub fn restore_credentials(&mut self, opened: &[u8]) -> Result<(), PayloadError> {
        let sealed: Vec<SealedHeader> = serde_json::from_slice(opened)
            .map_err(|e| PayloadError(format!("sealed headers are unreadable: {e}")))?;
        let slots: Vec<(usize, String)> = sealed.iter().map(|(p, n, _)| (*p, n.clone())).collect();
        if slots != self.sealed_headers {
            return Err(PayloadError(
                "the sealed headers do not match the event's payload".into(),
            ));
        }
        for (position, name, value) in sealed {
            let at = position.min(self.headers.len());
            self.headers.insert(at, (name, value));
        }
        self.sealed_headers.clear();
        Ok(())
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

/// A lifecycle hook to run: what happened to the installation, when, and the detail the
/// contract defines for it (`{"previous": <config>}` for `config-changed`, ...).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredLifecycle {
    /// The WIT name: `connected`, `enabled`, `disabled`, `config-changed`, `removing`.
    pub kind: String,
    /// Unix ms.
    pub occurred_at: i64,
    pub detail: Value,
}

/// The WIT name of a lifecycle kind, as stored and shown to admins.
pub fn lifecycle_kind_name(kind: LifecycleKind) -> &'static str {
    match kind {
        LifecycleKind::Connected => "connected",
        LifecycleKind::Enabled => "enabled",
        LifecycleKind::Disabled => "disabled",
        LifecycleKind::ConfigChanged => "config-changed",
        LifecycleKind::Removing => "removing",
    }
}

/// The lifecycle kind of a WIT name (the inverse of [`lifecycle_kind_name`]).
pub fn lifecycle_kind(name: &str) -> Option<LifecycleKind> {
    Some(match name {
        "connected" => LifecycleKind::Connected,
        "enabled" => LifecycleKind::Enabled,
        "disabled" => LifecycleKind::Disabled,
        "config-changed" => LifecycleKind::ConfigChanged,
        "removing" => LifecycleKind::Removing,
        _ => return None,
    })
}

/// A verified Lever webhook delivery. The per-delivery `token` and `signature` are not kept:
/// they served their purpose at the ingress and the plugin has no use for them.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredLeverEvent {
    /// Lever's event name, e.g. `candidateStageChange`.
    pub event: String,
    /// Unix ms, as Lever sent it.
    pub triggered_at: i64,
    /// Lever's id for the event, when the delivery carried one.
    #[serde(default)]
    pub lever_id: Option<String>,
    /// Lever's `data` object as sent.
    #[serde(default)]
    pub data: Map<String, Value>,
}

impl StoredLeverEvent {
    fn data_str(&self, key: &str) -> Option<String> {
        self.data
            .get(key)
            .and_then(Value::as_str)
            .map(str::to_owned)
    }

    /// The opportunity the event is about: `opportunityId`, else the legacy `candidateId`
    /// (the same id in Lever since opportunities replaced candidates).
    pub fn opportunity_id(&self) -> Option<String> {
        self.data_str("opportunityId")
            .or_else(|| self.data_str("candidateId"))
    }

    /// The WIT event with the host's id for it.
    pub fn to_wit(&self, id: String) -> Result<LeverEvent, PayloadError> {
        let kind = lever_event_kind(&self.event)
            .ok_or_else(|| PayloadError(format!("unknown Lever event {:?}", self.event)))?;
        Ok(LeverEvent {
            id,
            kind,
            triggered_at: self.triggered_at,
            opportunity_id: self.opportunity_id(),
            contact_id: self.data_str("contactId"),
            posting_id: self.data_str("postingId"),
            from_stage_id: self.data_str("fromStageId"),
            to_stage_id: self.data_str("toStageId"),
            data: Value::Object(self.data.clone()).to_string(),
        })
    }
}

/// The WIT kind of a Lever event name (`candidateStageChange`, ...); `None` for events this
/// contract does not know (no plugin can have subscribed to them).
pub fn lever_event_kind(event: &str) -> Option<LeverEventKind> {
    Some(match event {
        "applicationCreated" => LeverEventKind::ApplicationCreated,
        "candidateHired" => LeverEventKind::CandidateHired,
        "candidateStageChange" => LeverEventKind::CandidateStageChange,
        "candidateArchiveChange" => LeverEventKind::CandidateArchiveChange,
        "candidateDeleted" => LeverEventKind::CandidateDeleted,
        "contactCreated" => LeverEventKind::ContactCreated,
        "contactUpdated" => LeverEventKind::ContactUpdated,
        "interviewCreated" => LeverEventKind::InterviewCreated,
        "interviewUpdated" => LeverEventKind::InterviewUpdated,
        "interviewDeleted" => LeverEventKind::InterviewDeleted,
        _ => return None,
    })
}

/// Lever's name of an event kind (the inverse of [`lever_event_kind`]): what a webhook is
/// created for.
pub fn lever_event_name(kind: LeverEventKind) -> &'static str {
    match kind {
        LeverEventKind::ApplicationCreated => "applicationCreated",
        LeverEventKind::CandidateHired => "candidateHired",
        LeverEventKind::CandidateStageChange => "candidateStageChange",
        LeverEventKind::CandidateArchiveChange => "candidateArchiveChange",
        LeverEventKind::CandidateDeleted => "candidateDeleted",
        LeverEventKind::ContactCreated => "contactCreated",
        LeverEventKind::ContactUpdated => "contactUpdated",
        LeverEventKind::InterviewCreated => "interviewCreated",
        LeverEventKind::InterviewUpdated => "interviewUpdated",
        LeverEventKind::InterviewDeleted => "interviewDeleted",
    }
}

#[derive(Debug, thiserror::Error)]
#[error("stored event payload is unusable: {0}")]
pub struct PayloadError(pub String);

/// Why [`call_for_event`] has no call.
#[derive(Debug, thiserror::Error)]
pub enum CallError {
    /// The payload cannot become a call: retrying cannot help.
    #[error(transparent)]
    Payload(#[from] PayloadError),
    /// The event's sealed headers could not be read (database down, master key not loaded):
    /// worth retrying once the operator fixed it.
    #[error("could not open the event's sealed headers: {0}")]
    Store(#[from] StoreError),
}

impl CallError {
    pub fn is_transient(&self) -> bool {
        matches!(self, CallError::Store(_))
    }
}

/// The plugin call for a stored event, with the credential headers of a vendor request
/// opened from their sealed row.
pub async fn call_for_event(store: &Store, event: &Event) -> Result<Call, CallError> {
    if event.kind == kind::VENDOR {
        let mut request = StoredVendorRequest::deserialize(&event.payload)
            .map_err(|e| PayloadError(e.to_string()))?;
        if !request.sealed_headers.is_empty() {
            let opened = store
                .event_sealed_headers(event.id)
                .await?
                .ok_or_else(|| PayloadError("the event's sealed headers are missing".into()))?;
            request.restore_credentials(&opened)?;
        }
        return Ok(Call::VendorEvent(request.to_wit(event_ref(event.id))?));
    }
    Ok(call_for(&event.kind, event.id, &event.payload)?)
}

/// The plugin call for a stored event. The host's id for the event (identical on every retry)
/// is `evt-<queue id>`. A vendor request whose credential headers were sealed needs
/// [`call_for_event`].
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
        kind::VENDOR => {
            let request = parse::<StoredVendorRequest>(payload)?;
            if !request.sealed_headers.is_empty() {
                return Err(PayloadError(
                    "the request's credential headers are sealed: use call_for_event".into(),
                ));
            }
            Ok(Call::VendorEvent(request.to_wit(id)?))
        }
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
        kind::LEVER => Ok(Call::LeverEvent(
            parse::<StoredLeverEvent>(payload)?.to_wit(id)?,
        )),
        kind::LIFECYCLE => {
            let hook: StoredLifecycle = parse(payload)?;
            let kind = lifecycle_kind(&hook.kind)
                .ok_or_else(|| PayloadError(format!("unknown lifecycle hook {:?}", hook.kind)))?;
            Ok(Call::Lifecycle(LifecycleEvent {
                id,
                kind,
                occurred_at: hook.occurred_at,
                detail: hook.detail.to_string(),
            }))
        }
        other => Err(PayloadError(format!("unknown event kind {other:?}"))),
    }
}

/// The id plugins see for a queued event.
pub fn event_ref(event_id: i64) -> String {
    format!("evt-{event_id}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn lever_event_names_and_kinds_are_inverse() {
        for name in [
            "applicationCreated",
            "candidateHired",
            "candidateStageChange",
            "candidateArchiveChange",
            "candidateDeleted",
            "contactCreated",
            "contactUpdated",
            "interviewCreated",
            "interviewUpdated",
            "interviewDeleted",
        ] {
            let kind = lever_event_kind(name).expect(name);
            assert_eq!(lever_event_name(kind), name);
        }
    }

    #[test]
    fn a_stored_lever_event_becomes_the_wit_event() {
        let payload = json!({
            "event": "candidateStageChange",
            "triggered_at": 1431454330072i64,
            "lever_id": "9f2c",
            "data": {"candidateId": "o1", "contactId": "c1", "toStageId": "offer",
                     "fromStageId": "lead-new", "extra": 3}
        });
        let Call::LeverEvent(event) = call_for(kind::LEVER, 42, &payload).unwrap() else {
            panic!("not a Lever event call");
        };
        assert_eq!(event.id, "evt-42");
        assert_eq!(event.kind, LeverEventKind::CandidateStageChange);
        assert_eq!(event.triggered_at, 1431454330072);
        assert_eq!(event.opportunity_id.as_deref(), Some("o1"));
        assert_eq!(event.contact_id.as_deref(), Some("c1"));
        assert_eq!(event.posting_id, None);
        assert_eq!(
            (event.from_stage_id.as_deref(), event.to_stage_id.as_deref()),
            (Some("lead-new"), Some("offer"))
        );
        let data: Value = serde_json::from_str(&event.data).unwrap();
        assert_eq!(data["extra"], 3);

        let unknown = json!({"event": "somethingNew", "triggered_at": 1, "data": {}});
        assert!(call_for(kind::LEVER, 1, &unknown).is_err());
    }

    #[test]
    fn credential_headers_are_taken_out_and_put_back_in_place() {
        let headers = [
            ("content-type", "application/json"),
            ("Authorization", "Bearer s3cret"),
            ("x-signature", "t=1,v1=ab"),
            ("x-api-key", "k3y"),
        ];
        let mut request = StoredVendorRequest::new(
            "POST",
            "/e",
            "",
            headers
                .iter()
                .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
                .collect(),
            b"{}",
            1,
        );
        let original = request.headers.clone();
        let credentials = ["authorization".to_owned(), "x-api-key".to_owned()];
        let sealed = request.take_credentials(&credentials).unwrap();
        let stored = serde_json::to_string(&request).unwrap();
        assert!(
            !stored.contains("s3cret") && !stored.contains("k3y"),
            "{stored}"
        );
        assert_eq!(request.headers.len(), 2);

        let mut back: StoredVendorRequest = serde_json::from_str(&stored).unwrap();
        assert!(call_for(kind::VENDOR, 1, &serde_json::to_value(&back).unwrap()).is_err());
        back.restore_credentials(&sealed).unwrap();
        assert_eq!(back.headers, original);
        // Nothing to seal: nothing noted, the payload stays as before.
        let mut plain = StoredVendorRequest::new("POST", "/", "", vec![], b"", 0);
        assert!(plain.take_credentials(&credentials).is_none());
        assert!(!serde_json::to_string(&plain).unwrap().contains("sealed"));
        // Sealed values that do not match the payload's slots are refused.
        let mut other = StoredVendorRequest::new("POST", "/", "", vec![], b"", 0);
        other.sealed_headers = vec![(0, "cookie".into())];
        assert!(other.restore_credentials(&sealed).is_err());
    }

    #[test]
    fn every_lever_webhook_event_has_a_wit_kind() {
        for event in lever_model::WebhookEventType::ALL {
            assert!(lever_event_kind(event.as_str()).is_some(), "{event:?}");
        }
        assert_eq!(lever_event_kind("candidatestagechange"), None);
    }
}
