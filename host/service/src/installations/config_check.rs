//! The two checks a config passes before it is stored: the plugin's JSON Schema, then the
//! plugin's own `validate-config`, run in the context every check call gets (see
//! [`crate::tenancy::Tenancy::check_context`]): the installation's secrets and grants, the
//! candidate config, no Lever and nothing kept.

use fulcrum_runtime::{Call, CallOutput, InvocationContext, PluginVersion};
use fulcrum_store::Installation;
use serde_json::Value;
use std::sync::Arc;

use crate::Host;
use crate::domain_error::{DomainError, Problem, ProblemSource};
use crate::tenancy::TenancyError;

/// Checks `instance` against a plugin's JSON Schema (`schema_text`); every violation. `what`
/// names the schema in the message when the plugin's schema itself is unusable.
pub(crate) fn schema_problems(
    schema_text: &str,
    what: &str,
    instance: &Value,
) -> Result<Vec<Problem>, DomainError> {
    let schema: Value =
        serde_json::from_str(schema_text).map_err(|e| plugin_schema_error(what, e))?;
    let validator = jsonschema::validator_for(&schema).map_err(|e| plugin_schema_error(what, e))?;
    Ok(validator
        .iter_errors(instance)
        .map(|error| Problem {
            pointer: error.instance_path().as_str().to_owned(),
            message: error.to_string(),
            source: ProblemSource::Schema,
        })
        .collect())
}

fn plugin_schema_error(what: &str, error: impl std::fmt::Display) -> DomainError {
    DomainError::invalid(
        "invalid_plugin_schema",
        format!(
            "the plugin's {what} schema is not a usable JSON Schema ({error}); the vendor must \
             fix the plugin; nothing was stored"
        ),
    )
}

/// The context of a check call for `installation`, with `config` as its config.
pub(crate) async fn check_context(
    host: &Host,
    plugin: &PluginVersion,
    installation: &Installation,
    config: &Value,
) -> Result<InvocationContext, DomainError> {
    host.inner
        .tenancy
        .check_context(plugin, installation, config)
        .await
        .map_err(|e| match e {
            TenancyError::Store(e) => DomainError::Store(e),
            // The check context connects nothing, so nothing else can fail; kept typed anyway.
            other => DomainError::PluginFailed {
                code: "config_check_failed",
                message: format!("{other}; nothing was stored"),
            },
        })
}

/// Refuses `config` unless it matches the plugin's config schema and then passes the plugin's
/// own `validate-config` (which is only asked once the schema is met, so it sees well-formed
/// input).
pub(crate) async fn check_config(
    host: &Host,
    plugin: &Arc<PluginVersion>,
    installation: &Installation,
    config: &Value,
) -> Result<(), DomainError> {
    let problems = schema_problems(&plugin.manifest().config_schema, "config", config)?;
    if !problems.is_empty() {
        return Err(DomainError::Invalid {
            code: "invalid_config",
            message: "the config does not match the plugin's config schema; fix the listed \
                      settings and send it again; nothing was stored"
                .into(),
            problems,
        });
    }
    let problems = plugin_config_problems(host, plugin, installation, config).await?;
    if !problems.is_empty() {
        return Err(DomainError::Invalid {
            code: "invalid_config",
            message: "the plugin refused the config; fix the listed settings and send it \
                      again; nothing was stored"
                .into(),
            problems,
        });
    }
    Ok(())
}

/// Asks the plugin's `validate-config` (which may only read the config and secrets, and log).
async fn plugin_config_problems(
    host: &Host,
    plugin: &Arc<PluginVersion>,
    installation: &Installation,
    config: &Value,
) -> Result<Vec<Problem>, DomainError> {
    let ctx = check_context(host, plugin, installation, config).await?;
    let output = host
        .inner
        .runtime
        .invoke(plugin, ctx, Call::ValidateConfig(config.to_string()))
        .await
        .map_err(|e| DomainError::PluginFailed {
            code: "config_check_failed",
            message: format!(
                "the plugin's validate-config did not finish ({e}); the config was not stored; \
                 tell the plugin's vendor"
            ),
        })?;
    match output {
        CallOutput::ConfigChecked(Ok(())) => Ok(Vec::new()),
        CallOutput::ConfigChecked(Err(problems)) => Ok(problems
            .into_iter()
            .map(|p| Problem {
                pointer: p.pointer,
                message: p.message,
                source: ProblemSource::Plugin,
            })
            .collect()),
        other => Err(DomainError::PluginFailed {
            code: "config_check_failed",
            message: format!(
                "the plugin answered validate-config with {other:?} (a host bug); the config \
                 was not stored; tell the operator"
            ),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn schema_problems_point_at_the_offending_value() {
        let schema = r#"{"type":"object","properties":{"greeting":{"type":"string"}},"additionalProperties":false}"#;
        assert!(
            schema_problems(schema, "config", &json!({"greeting": "hi"}))
                .unwrap()
                .is_empty()
        );
        let problems = schema_problems(schema, "config", &json!({"greeting": 1})).unwrap();
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(problems[0].pointer, "/greeting");
        assert_eq!(problems[0].source, ProblemSource::Schema);
        assert!(problems[0].message.contains("string"), "{problems:?}");
        assert!(matches!(
            schema_problems("{not json", "config", &json!({})),
            Err(DomainError::Invalid {
                code: "invalid_plugin_schema",
                ..
            })
        ));
    }
}
