//! Builders for the export-side records: [`Manifest`], [`ConfigProblem`], [`Rejection`], and
//! helpers to read [`VendorRequest`], [`ActionRequest`] and [`LeverEvent`].

use crate::{
    Action, ActionRequest, ConfigProblem, Error, Header, LeverEvent, LeverEventKind,
    LifecycleEvent, LifecycleKind, Manifest, QueryResponse, Rejection, Schedule, VendorRequest,
};
use serde::de::DeserializeOwned;

impl Manifest {
    /// A manifest with nothing declared: no permissions, hosts, secrets, events, schedules or
    /// actions, and the config schema `{"type":"object"}`.
    pub fn new(id: impl Into<String>, name: impl Into<String>, version: impl Into<String>) -> Self {
        Manifest {
            id: id.into(),
            name: name.into(),
            version: version.into(),
            vendor: String::new(),
            description: String::new(),
            permissions: Vec::new(),
            vendor_hosts: Vec::new(),
            secrets: Vec::new(),
            config_schema: r#"{"type":"object"}"#.to_owned(),
            lever_events: Vec::new(),
            lifecycle_hooks: Vec::new(),
            vendor_queries: false,
            schedules: Vec::new(),
            actions: Vec::new(),
        }
    }
    pub fn vendor(mut self, vendor: impl Into<String>) -> Self {
        self.vendor = vendor.into();
        self
    }
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.description = description.into();
        self
    }
    /// Lever permissions, in Lever's words ("read posting", "create opportunity").
    pub fn permissions<S: Into<String>>(mut self, words: impl IntoIterator<Item = S>) -> Self {
        self.permissions.extend(words.into_iter().map(Into::into));
        self
    }
    /// Origins the connector may call, e.g. `"https://api.vendor.example"`.
    pub fn vendor_hosts<S: Into<String>>(mut self, origins: impl IntoIterator<Item = S>) -> Self {
        self.vendor_hosts
            .extend(origins.into_iter().map(Into::into));
        self
    }
    /// Names of the vendor secrets the admin must set.
    pub fn secrets<S: Into<String>>(mut self, names: impl IntoIterator<Item = S>) -> Self {
        self.secrets.extend(names.into_iter().map(Into::into));
        self
    }
    /// JSON Schema of the installation config, with defaults.
    pub fn config_schema(mut self, schema: &serde_json::Value) -> Self {
        self.config_schema = schema.to_string();
        self
    }
    /// The lifecycle hooks [`crate::Connector::on_lifecycle`] wants; the host queues no others.
    pub fn lifecycle_hooks(mut self, kinds: impl IntoIterator<Item = LifecycleKind>) -> Self {
        self.lifecycle_hooks.extend(kinds);
        self
    }
    /// Answer synchronous vendor queries with [`crate::Connector::on_vendor_query`].
    pub fn vendor_queries(mut self) -> Self {
        self.vendor_queries = true;
        self
    }
    pub fn lever_events(mut self, kinds: impl IntoIterator<Item = LeverEventKind>) -> Self {
        self.lever_events.extend(kinds);
        self
    }
    pub fn schedule(
        mut self,
        name: impl Into<String>,
        description: impl Into<String>,
        every_seconds: u32,
    ) -> Self {
        self.schedules.push(Schedule {
            name: name.into(),
            description: description.into(),
            every_seconds,
        });
        self
    }
    /// An action and the JSON Schema of its input.
    pub fn action(
        mut self,
        name: impl Into<String>,
        description: impl Into<String>,
        input_schema: &serde_json::Value,
    ) -> Self {
        self.actions.push(Action {
            name: name.into(),
            description: description.into(),
            input_schema: input_schema.to_string(),
        });
        self
    }
}

impl ConfigProblem {
    /// `pointer` is a JSON pointer to the offending field, `""` for the whole document.
    pub fn new(pointer: impl Into<String>, message: impl Into<String>) -> Self {
        ConfigProblem {
            pointer: pointer.into(),
            message: message.into(),
        }
    }
}

impl Rejection {
    pub fn new(status: u16, message: impl Into<String>) -> Self {
        Rejection {
            status,
            message: message.into(),
        }
    }
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(400, message)
    }
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(401, message)
    }
}

impl QueryResponse {
    /// A response with a body and its content type.
    pub fn new(status: u16, content_type: &str, body: impl Into<Vec<u8>>) -> Self {
        QueryResponse {
            status,
            headers: vec![Header {
                name: "content-type".into(),
                value: content_type.into(),
            }],
            body: body.into(),
        }
    }
    /// A JSON response.
    pub fn json<T: serde::Serialize + ?Sized>(status: u16, value: &T) -> Result<Self, Error> {
        let body = serde_json::to_vec(value)
            .map_err(|e| Error::invalid(format!("cannot encode JSON: {e}")))?;
        Ok(Self::new(status, "application/json", body))
    }
    /// A plain-text response.
    pub fn text(status: u16, text: impl Into<String>) -> Self {
        Self::new(
            status,
            "text/plain; charset=utf-8",
            text.into().into_bytes(),
        )
    }
}

impl LifecycleEvent {
    /// The event's `detail` parsed as JSON.
    pub fn detail<T: DeserializeOwned>(&self) -> Result<T, Error> {
        serde_json::from_str(&self.detail)
            .map_err(|e| Error::invalid(format!("detail of lifecycle event {}: {e}", self.id)))
    }
}

impl VendorRequest {
    /// The first header with this name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case(name))
            .map(|h| h.value.as_str())
    }
    /// The body parsed as JSON.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, Error> {
        serde_json::from_slice(&self.body)
            .map_err(|e| Error::invalid(format!("vendor request body: {e}")))
    }
}

impl ActionRequest {
    /// The input parsed as JSON.
    pub fn input<T: DeserializeOwned>(&self) -> Result<T, Error> {
        serde_json::from_str(&self.input)
            .map_err(|e| Error::invalid(format!("input of action {:?}: {e}", self.name)))
    }
}

impl LeverEvent {
    /// Lever's `data` object parsed as JSON.
    pub fn data<T: DeserializeOwned>(&self) -> Result<T, Error> {
        serde_json::from_str(&self.data)
            .map_err(|e| Error::invalid(format!("data of Lever event {}: {e}", self.id)))
    }
}
