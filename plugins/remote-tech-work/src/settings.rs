//! The installation's configuration: JSON Schema (with defaults), typed view, and the checks
//! beyond the schema.

use fulcrum_sdk::prelude::*;
use serde::Deserialize;

/// Stage names tried in order when `applied_stage` is not set. Lever has no built-in
/// "Applied" stage; its default pipeline (and the sandbox) calls it "New applicant".
pub const DEFAULT_APPLIED_STAGES: [&str; 2] = ["Applied", "New applicant"];
/// Pending jobs pushed per sync run by default (each is one vendor request).
pub const DEFAULT_SYNC_BATCH: u32 = 20;
pub const MAX_SYNC_BATCH: u32 = 50;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
pub enum CreationMode {
    /// Every application becomes an opportunity at once.
    #[default]
    #[serde(rename = "automatic")]
    Automatic,
    /// Applicants wait until an admin action or the vendor's create request.
    #[serde(rename = "on-demand")]
    OnDemand,
}

/// One stage name or several, tried in order.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
enum StageNames {
    One(String),
    Many(Vec<String>),
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default)]
struct Raw {
    opportunity_creation: CreationMode,
    applied_stage: Option<StageNames>,
    withdrawal_archive_reason: Option<String>,
    include_price_tag: bool,
    posting_states: Vec<String>,
    sync_batch_size: u32,
}

impl Default for Raw {
    fn default() -> Self {
        Raw {
            opportunity_creation: CreationMode::Automatic,
            applied_stage: None,
            withdrawal_archive_reason: None,
            include_price_tag: false,
            posting_states: vec!["published".into()],
            sync_batch_size: DEFAULT_SYNC_BATCH,
        }
    }
}

/// The configuration, defaults applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    pub creation: CreationMode,
    /// Stage names tried in order (case-insensitive).
    pub applied_stages: Vec<String>,
    /// Archive reason for withdrawals by name; `None`: the first active non-hired reason
    /// whose name mentions a withdrawal.
    pub withdrawal_reason: Option<String>,
    pub include_price_tag: bool,
    /// Lever posting states pushed to the vendor (in the config's order, deduplicated).
    pub posting_states: Vec<lever::PostingState>,
    pub sync_batch: u32,
}

impl Default for Settings {
    fn default() -> Self {
        Settings::from_value(&json!({})).expect("defaults are valid")
    }
}

pub fn posting_state(name: &str) -> Option<lever::PostingState> {
    use lever::PostingState as S;
    Some(match name {
        "published" => S::Published,
        "internal" => S::Internal,
        "closed" => S::Closed,
        "draft" => S::Draft,
        "pending" => S::Pending,
        "rejected" => S::Rejected,
        _ => return None,
    })
}

pub fn posting_state_name(state: lever::PostingState) -> &'static str {
    use lever::PostingState as S;
    match state {
        S::Published => "published",
        S::Internal => "internal",
        S::Closed => "closed",
        S::Draft => "draft",
        S::Pending => "pending",
        S::Rejected => "rejected",
    }
}

impl Settings {
    /// The installation's settings (the host hands over config valid against the schema).
    pub fn load() -> Result<Settings, Error> {
        let raw = config::raw();
        let value: Value = serde_json::from_str(&raw)
            .map_err(|e| Error::invalid(format!("installation config is not JSON: {e}")))?;
        Settings::from_value(&value).map_err(|problems| {
            Error::invalid(format!(
                "installation config: {}",
                problems
                    .iter()
                    .map(|p| format!("{} {}", p.pointer, p.message))
                    .collect::<Vec<_>>()
                    .join("; ")
            ))
        })
    }

    pub fn from_value(value: &Value) -> Result<Settings, Vec<ConfigProblem>> {
        let raw: Raw = serde_json::from_value(value.clone())
            .map_err(|e| vec![ConfigProblem::new("", format!("{e}"))])?;
        let mut problems = Vec::new();
        let applied_stages: Vec<String> = match raw.applied_stage {
            None => DEFAULT_APPLIED_STAGES
                .iter()
                .map(|s| s.to_string())
                .collect(),
            Some(StageNames::One(name)) => vec![name],
            Some(StageNames::Many(names)) => names,
        }
        .into_iter()
        .map(|s| s.trim().to_owned())
        .collect();
        if applied_stages.is_empty() {
            problems.push(ConfigProblem::new(
                "/applied_stage",
                "name at least one stage (e.g. [\"Applied\", \"New applicant\"])",
            ));
        }
        for (i, name) in applied_stages.iter().enumerate() {
            if name.is_empty() {
                problems.push(ConfigProblem::new(
                    format!("/applied_stage/{i}"),
                    "a stage name must not be blank",
                ));
            }
        }
        let withdrawal_reason = match raw.withdrawal_archive_reason.map(|s| s.trim().to_owned()) {
            Some(name) if name.is_empty() => {
                problems.push(ConfigProblem::new(
                    "/withdrawal_archive_reason",
                    "must not be blank; leave it out to use the tenant's withdrawal reason",
                ));
                None
            }
            other => other,
        };
        let mut posting_states = Vec::new();
        for (i, name) in raw.posting_states.iter().enumerate() {
            match posting_state(name) {
                Some(state) if !posting_states.contains(&state) => posting_states.push(state),
                Some(_) => {}
                None => problems.push(ConfigProblem::new(
                    format!("/posting_states/{i}"),
                    format!(
                        "{name:?} is not a Lever posting state (published, internal, closed, draft, pending, rejected)"
                    ),
                )),
            }
        }
        if raw.posting_states.is_empty() {
            problems.push(ConfigProblem::new(
                "/posting_states",
                "name at least one posting state (e.g. [\"published\"])",
            ));
        }
        if !(1..=MAX_SYNC_BATCH).contains(&raw.sync_batch_size) {
            problems.push(ConfigProblem::new(
                "/sync_batch_size",
                format!("must be 1..={MAX_SYNC_BATCH}"),
            ));
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        Ok(Settings {
            creation: raw.opportunity_creation,
            applied_stages,
            withdrawal_reason,
            include_price_tag: raw.include_price_tag,
            posting_states,
            sync_batch: raw.sync_batch_size,
        })
    }

    /// The configured posting states by name, as stored with the sync cursor.
    pub fn posting_state_names(&self) -> Vec<String> {
        self.posting_states
            .iter()
            .map(|s| posting_state_name(*s).to_owned())
            .collect()
    }
}

/// The JSON Schema of the installation config, with defaults.
pub fn schema() -> Value {
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "Remote Tech Work",
        "type": "object",
        "properties": {
            "opportunity_creation": {
                "description": "automatic: every Remote Tech Work application becomes a Lever opportunity at once. on-demand: applicants are kept until an admin runs the create-opportunity action or Remote Tech Work sends a create request.",
                "type": "string",
                "enum": ["automatic", "on-demand"],
                "default": "automatic"
            },
            "applied_stage": {
                "description": "The stage of created opportunities: stage names tried in order (case-insensitive); the first that exists in Lever is used.",
                "anyOf": [
                    {"type": "string", "minLength": 1},
                    {"type": "array", "items": {"type": "string", "minLength": 1}, "minItems": 1}
                ],
                "default": DEFAULT_APPLIED_STAGES
            },
            "withdrawal_archive_reason": {
                "description": "Name of the Lever archive reason used when a candidate withdraws. Default: the first active non-hired reason whose name mentions a withdrawal (e.g. \"Withdrew\").",
                "type": "string",
                "minLength": 1
            },
            "include_price_tag": {
                "description": "Print the applicant's price tag on the Europass CV.",
                "type": "boolean",
                "default": false
            },
            "posting_states": {
                "description": "Lever posting states pushed to Remote Tech Work as pending jobs.",
                "type": "array",
                "items": {"type": "string", "enum": ["published", "internal", "closed", "draft", "pending", "rejected"]},
                "minItems": 1,
                "uniqueItems": true,
                "default": ["published"]
            },
            "sync_batch_size": {
                "description": "Most pending jobs pushed to Remote Tech Work per sync run (each is one request); the rest follow in the next runs.",
                "type": "integer",
                "minimum": 1,
                "maximum": MAX_SYNC_BATCH,
                "default": DEFAULT_SYNC_BATCH
            }
        },
        "additionalProperties": false
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults() {
        let s = Settings::default();
        assert_eq!(s.creation, CreationMode::Automatic);
        assert_eq!(s.applied_stages, ["Applied", "New applicant"]);
        assert_eq!(s.withdrawal_reason, None);
        assert!(!s.include_price_tag);
        assert_eq!(s.posting_states, [lever::PostingState::Published]);
        assert_eq!(s.sync_batch, DEFAULT_SYNC_BATCH);
        // The schema's defaults are the same as the code's.
        let schema = schema();
        let p = &schema["properties"];
        let from_schema = Settings::from_value(&json!({
            "opportunity_creation": p["opportunity_creation"]["default"],
            "applied_stage": p["applied_stage"]["default"],
            "include_price_tag": p["include_price_tag"]["default"],
            "posting_states": p["posting_states"]["default"],
            "sync_batch_size": p["sync_batch_size"]["default"],
        }))
        .unwrap();
        assert_eq!(from_schema, s);
    }

    #[test]
    fn reads_every_option() {
        let s = Settings::from_value(&json!({
            "opportunity_creation": "on-demand",
            "applied_stage": " Screening ",
            "withdrawal_archive_reason": "Candidate withdrew",
            "include_price_tag": true,
            "posting_states": ["published", "internal", "published"],
            "sync_batch_size": 5
        }))
        .unwrap();
        assert_eq!(s.creation, CreationMode::OnDemand);
        assert_eq!(s.applied_stages, ["Screening"]);
        assert_eq!(s.withdrawal_reason.as_deref(), Some("Candidate withdrew"));
        assert!(s.include_price_tag);
        assert_eq!(
            s.posting_states,
            [
                lever::PostingState::Published,
                lever::PostingState::Internal
            ]
        );
        assert_eq!(s.posting_state_names(), ["published", "internal"]);
        assert_eq!(s.sync_batch, 5);
    }

    #[test]
    fn problems_point_at_fields() {
        let problems = Settings::from_value(&json!({
            "applied_stage": ["Applied", "  "],
            "withdrawal_archive_reason": " ",
            "posting_states": ["published", "open"],
            "sync_batch_size": 0
        }))
        .unwrap_err();
        let pointers: Vec<&str> = problems.iter().map(|p| p.pointer.as_str()).collect();
        assert_eq!(
            pointers,
            [
                "/applied_stage/1",
                "/withdrawal_archive_reason",
                "/posting_states/1",
                "/sync_batch_size"
            ]
        );
        let wrong_type = Settings::from_value(&json!({"opportunity_creation": "sometimes"}));
        assert!(wrong_type.is_err());
        let unknown = Settings::from_value(&json!({"applied_stage": []})).unwrap_err();
        assert_eq!(unknown[0].pointer, "/applied_stage");
    }
}
