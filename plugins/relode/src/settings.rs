//! The installation's settings, as Relode's Lever setup form collects them, their JSON Schema
//! and the checks a schema cannot express.

use fulcrum_sdk::prelude::*;
use serde::Deserialize;

/// The stage new Relode candidates get unless the admin picks another (a stage every Lever
/// account has).
pub const DEFAULT_STAGE: &str = "New applicant";

/// The installation config.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// The Lever user who owns every Relode candidate (setup step 1: name and e-mail).
    pub owner: OwnerSetting,
    /// The tenant's public career page, sent with every job so Relode can link to it.
    pub career_page_url: String,
    /// The Lever stage (its name as shown in Lever, or its id) new Relode candidates start in.
    #[serde(default = "default_stage")]
    pub default_stage: String,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OwnerSetting {
    pub name: String,
    pub email: String,
}

fn default_stage() -> String {
    DEFAULT_STAGE.to_owned()
}

/// JSON Schema of the config (the host applies its defaults and checks it before saving).
pub fn schema() -> Value {
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "Relode connector settings",
        "type": "object",
        "required": ["owner", "career_page_url"],
        "additionalProperties": false,
        "properties": {
            "owner": {
                "description": "The Lever user Relode candidates are assigned to, as shown in Lever's Settings > Users > Active users. Resolved to a Lever user when a candidate arrives; run the check-setup action after saving to see the match.",
                "type": "object",
                "required": ["name", "email"],
                "additionalProperties": false,
                "properties": {
                    "name": { "type": "string", "minLength": 1, "description": "The user's full name in Lever" },
                    "email": { "type": "string", "format": "email", "minLength": 3, "description": "The user's e-mail in Lever" }
                }
            },
            "career_page_url": {
                "description": "Your public career page; sent to Relode with every job.",
                "type": "string",
                "format": "uri",
                "pattern": "^https?://"
            },
            "default_stage": {
                "description": "The Lever stage new Relode candidates are created in: its name as shown in Lever (or its id).",
                "type": "string",
                "minLength": 1,
                "default": DEFAULT_STAGE
            }
        }
    })
}

/// Problems with a config, as (JSON pointer, message): what the schema says, checked here too
/// so `validate-config` explains each one, plus what a schema cannot say (an e-mail with one
/// `@` and a dot in its domain, an absolute http(s) URL with a host).
pub fn problems(config: &Value) -> Vec<ConfigProblem> {
    let mut problems = Vec::new();
    let Some(object) = config.as_object() else {
        return vec![ConfigProblem::new("", "the config must be a JSON object")];
    };
    for key in object.keys() {
        if !matches!(key.as_str(), "owner" | "career_page_url" | "default_stage") {
            problems.push(ConfigProblem::new(
                format!("/{key}"),
                "unknown setting (allowed: owner, career_page_url, default_stage)",
            ));
        }
    }
    match object.get("owner") {
        None => problems.push(ConfigProblem::new(
            "/owner",
            "required: the name and e-mail of the Lever user who owns Relode candidates",
        )),
        Some(Value::Object(owner)) => {
            for key in owner.keys() {
                if !matches!(key.as_str(), "name" | "email") {
                    problems.push(ConfigProblem::new(
                        format!("/owner/{key}"),
                        "unknown setting (allowed: name, email)",
                    ));
                }
            }
            match owner.get("name").map(Value::as_str) {
                Some(Some(name)) if !name.trim().is_empty() => {}
                _ => problems.push(ConfigProblem::new(
                    "/owner/name",
                    "required: the Lever user's full name, as Lever shows it",
                )),
            }
            match owner.get("email").map(Value::as_str) {
                Some(Some(email)) if looks_like_email(email) => {}
                Some(Some(email)) => problems.push(ConfigProblem::new(
                    "/owner/email",
                    format!("{email:?} is not an e-mail address"),
                )),
                _ => problems.push(ConfigProblem::new(
                    "/owner/email",
                    "required: the Lever user's e-mail, as Lever shows it",
                )),
            }
        }
        Some(_) => problems.push(ConfigProblem::new(
            "/owner",
            "must be an object: {\"name\": \"...\", \"email\": \"...\"}",
        )),
    }
    match object.get("career_page_url").map(Value::as_str) {
        Some(Some(url)) if is_web_url(url) => {}
        Some(Some(url)) => problems.push(ConfigProblem::new(
            "/career_page_url",
            format!("{url:?} is not an absolute http(s) URL, e.g. https://careers.example.com"),
        )),
        _ => problems.push(ConfigProblem::new(
            "/career_page_url",
            "required: your public career page URL, e.g. https://careers.example.com",
        )),
    }
    let stage_ok = match object.get("default_stage") {
        None => true,
        Some(v) => v.as_str().is_some_and(|s| !s.trim().is_empty()),
    };
    if !stage_ok {
        problems.push(ConfigProblem::new(
            "/default_stage",
            format!("must be a Lever stage name such as {DEFAULT_STAGE:?}"),
        ));
    }
    problems
}

/// One `@`, something before it, a dotted domain after it, no spaces.
pub fn looks_like_email(s: &str) -> bool {
    let s = s.trim();
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !s.chars().any(char::is_whitespace)
}

/// `http://` or `https://` followed by a host.
pub fn is_web_url(s: &str) -> bool {
    let rest = s
        .strip_prefix("https://")
        .or_else(|| s.strip_prefix("http://"));
    match rest {
        Some(rest) => {
            let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
            !host.is_empty() && !s.chars().any(char::is_whitespace)
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pointers(config: Value) -> Vec<String> {
        problems(&config).into_iter().map(|p| p.pointer).collect()
    }

    #[test]
    fn a_complete_config_passes_and_the_stage_defaults() {
        let config = json!({
            "owner": {"name": "Ada Lovelace", "email": "ada@example.com"},
            "career_page_url": "https://careers.example.com/jobs"
        });
        assert!(problems(&config).is_empty());
        let settings: Settings = serde_json::from_value(config).unwrap();
        assert_eq!(settings.default_stage, "New applicant");
        assert_eq!(settings.owner.email, "ada@example.com");
    }

    #[test]
    fn each_bad_field_is_named() {
        assert_eq!(pointers(json!({})), ["/owner", "/career_page_url"]);
        assert_eq!(
            pointers(json!({
                "owner": {"name": " ", "email": "not-an-email", "phone": "1"},
                "career_page_url": "careers.example.com",
                "default_stage": "",
                "colour": "red"
            })),
            [
                "/colour",
                "/owner/phone",
                "/owner/name",
                "/owner/email",
                "/career_page_url",
                "/default_stage"
            ]
        );
        assert_eq!(pointers(json!([])), [""]);
        assert_eq!(
            pointers(json!({"owner": "ada@example.com", "career_page_url": "https://x.io"})),
            ["/owner"]
        );
    }

    #[test]
    fn emails_and_urls() {
        assert!(looks_like_email("ada.lovelace@example.co.uk"));
        for bad in [
            "",
            "ada",
            "@example.com",
            "ada@",
            "ada@example",
            "a b@example.com",
            "a@b@c.io",
        ] {
            assert!(!looks_like_email(bad), "{bad:?}");
        }
        assert!(is_web_url("https://careers.example.com"));
        assert!(is_web_url("http://example.com/jobs?x=1"));
        for bad in [
            "",
            "https://",
            "ftp://example.com",
            "example.com",
            "https://exa mple.com",
        ] {
            assert!(!is_web_url(bad), "{bad:?}");
        }
    }

    #[test]
    fn the_schema_requires_what_the_form_requires() {
        let schema = schema();
        assert_eq!(schema["required"], json!(["owner", "career_page_url"]));
        assert_eq!(
            schema["properties"]["owner"]["required"],
            json!(["name", "email"])
        );
        assert_eq!(
            schema["properties"]["default_stage"]["default"],
            "New applicant"
        );
    }
}
