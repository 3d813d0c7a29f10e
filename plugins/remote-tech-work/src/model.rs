//! What Remote Tech Work sends to the ingress, parsed and checked. Every check happens in
//! `verify-vendor-request`, before anything is stored, so a handler only sees events of this
//! shape; the messages say which field is wrong and why.

use serde::{Deserialize, Serialize};

use crate::time::parse_rfc3339;

/// The longest id accepted (applicant, job, posting ids become parts of state keys).
const MAX_ID: usize = 128;

/// One event from Remote Tech Work.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// When it happened at Remote Tech Work (Unix ms, from `occurred_at`).
    pub occurred_at: i64,
    pub body: Body,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Body {
    JobLinked(JobLinked),
    ApplicationSubmitted(Application),
    ApplicationWithdrawn(ApplicationRef),
    CreateRequested(CreateRequest),
}

impl Body {
    pub fn type_name(&self) -> &'static str {
        match self {
            Body::JobLinked(_) => "job.linked",
            Body::ApplicationSubmitted(_) => "application.submitted",
            Body::ApplicationWithdrawn(_) => "application.withdrawn",
            Body::CreateRequested(_) => "opportunity.create_requested",
        }
    }
}

/// How a pending job was linked at Remote Tech Work.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LinkKind {
    /// Linked to a job that already existed at Remote Tech Work.
    LinkedExisting,
    /// A new Remote Tech Work job was created for it.
    CreatedNew,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobLinked {
    pub rtw_job_id: String,
    pub lever_posting_id: String,
    pub link: LinkKind,
}

/// Which job an application is for: the Remote Tech Work job, and the Lever posting when the
/// vendor knows it (otherwise the plugin's link of that job is used).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobRef {
    pub rtw_job_id: String,
    pub lever_posting_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Application {
    pub job: JobRef,
    pub applicant: Applicant,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApplicationRef {
    pub job: JobRef,
    pub applicant_id: String,
    /// Lets a withdrawal find an opportunity the plugin has no link for (created before the
    /// installation, or by hand).
    pub email: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CreateRequest {
    pub job: JobRef,
    pub applicant_id: String,
    /// A fresh profile; otherwise the one kept from the application.
    pub applicant: Option<Applicant>,
}

/// An applicant's profile: everything the opportunity and the Europass CV need.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Applicant {
    pub id: String,
    pub full_name: String,
    pub email: String,
    pub profile_url: Option<String>,
    pub country_of_residence: Option<String>,
    pub technical_seniority: Option<String>,
    pub preferred_roles: Vec<String>,
    pub availability: Option<String>,
    pub notice_period: Option<String>,
    pub price_tag: Option<PriceTag>,
    pub about_me: Option<String>,
    pub technical_skills: Vec<Skill>,
    pub languages: Vec<Language>,
    pub work_experience: Vec<Experience>,
    pub projects: Vec<Project>,
    pub education: Vec<Education>,
    pub certificates: Vec<Certificate>,
}

/// A price tag, either formatted by the vendor (`"USD 65/hour"`) or as parts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum PriceTag {
    Text(String),
    Parts {
        amount: f64,
        currency: String,
        /// e.g. "hour", "month", "year".
        #[serde(default)]
        unit: Option<String>,
    },
}

impl PriceTag {
    /// `"USD 65/hour"`, `"EUR 5,500.50/month"`, `"GBP 80000"`.
    pub fn formatted(&self) -> Option<String> {
        match self {
            PriceTag::Text(text) => Some(text.trim().to_owned()).filter(|t| !t.is_empty()),
            PriceTag::Parts {
                amount,
                currency,
                unit,
            } => {
                if !amount.is_finite() {
                    return None;
                }
                let cents = (amount * 100.0).round() as i64;
                let whole = group_thousands(cents.abs() / 100);
                let sign = if cents < 0 { "-" } else { "" };
                let number = if cents % 100 == 0 {
                    format!("{sign}{whole}")
                } else {
                    format!("{sign}{whole}.{:02}", cents.abs() % 100)
                };
                let unit = unit
                    .as_deref()
                    .map(str::trim)
                    .filter(|u| !u.is_empty())
                    .map(|u| format!("/{u}"))
                    .unwrap_or_default();
                Some(format!("{} {number}{unit}", currency.trim()))
            }
        }
    }
}

fn group_thousands(n: i64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Skill {
    pub name: String,
    pub level: Option<String>,
    pub years: Option<f32>,
}

/// A language; `level` is shorthand for all five CEFR skills at once.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Language {
    pub name: String,
    pub mother_tongue: bool,
    pub level: Option<String>,
    pub listening: Option<String>,
    pub reading: Option<String>,
    pub spoken_interaction: Option<String>,
    pub spoken_production: Option<String>,
    pub writing: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Experience {
    pub title: String,
    pub employer: String,
    pub location: Option<String>,
    pub start: Option<String>,
    pub end: Option<String>,
    pub description: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Project {
    pub name: String,
    pub role: Option<String>,
    pub start: Option<String>,
    pub end: Option<String>,
    pub description: Option<String>,
    pub technologies: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Education {
    pub qualification: String,
    pub institution: String,
    pub start: Option<String>,
    pub end: Option<String>,
    pub description: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Certificate {
    pub name: String,
    pub issuer: Option<String>,
    pub issued: Option<String>,
    pub url: Option<String>,
}

/// Whether `level` is a CEFR level ("A1" … "C2", case-insensitive).
pub fn is_cefr(level: &str) -> bool {
    matches!(
        level.trim().to_ascii_uppercase().as_str(),
        "A1" | "A2" | "B1" | "B2" | "C1" | "C2"
    )
}

/// Why a request body is refused: HTTP status (400 not JSON, 422 wrong shape) and message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid {
    pub status: u16,
    pub message: String,
}

fn invalid(message: impl Into<String>) -> Invalid {
    Invalid {
        status: 422,
        message: message.into(),
    }
}

/// The wire shape: one object with `type`, `occurred_at` and the type's fields.
#[derive(Deserialize)]
struct Wire {
    #[serde(rename = "type")]
    kind: Option<String>,
    occurred_at: Option<String>,
    rtw_job_id: Option<String>,
    lever_posting_id: Option<String>,
    link: Option<String>,
    applicant_id: Option<String>,
    email: Option<String>,
    applicant: Option<serde_json::Value>,
}

/// A Remote Tech Work id: 1–128 characters of `A-Z a-z 0-9 . _ ~ -` (ids are parts of
/// state keys).
pub fn check_id(field: &str, id: &str) -> Result<(), Invalid> {
    if id.is_empty() || id.len() > MAX_ID {
        return Err(invalid(format!("{field} must be 1 to {MAX_ID} characters")));
    }
    if !id
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'~' | b'-'))
    {
        return Err(invalid(format!(
            "{field} {id:?} may only contain letters, digits and . _ ~ -"
        )));
    }
    Ok(())
}

fn required<'a>(field: &str, value: &'a Option<String>, what: &str) -> Result<&'a str, Invalid> {
    match value.as_deref() {
        Some(v) => Ok(v),
        None => Err(invalid(format!("{field} is required in {what} events"))),
    }
}

fn required_id(field: &str, value: &Option<String>, what: &str) -> Result<String, Invalid> {
    let id = required(field, value, what)?;
    check_id(field, id)?;
    Ok(id.to_owned())
}

fn job_ref(wire: &Wire, what: &str) -> Result<JobRef, Invalid> {
    let rtw_job_id = required_id("rtw_job_id", &wire.rtw_job_id, what)?;
    let lever_posting_id = match &wire.lever_posting_id {
        Some(id) => {
            check_id("lever_posting_id", id)?;
            Some(id.clone())
        }
        None => None,
    };
    Ok(JobRef {
        rtw_job_id,
        lever_posting_id,
    })
}

/// Parses and checks a request body.
pub fn parse_event(body: &[u8]) -> Result<Event, Invalid> {
    let wire: Wire = serde_json::from_slice(body).map_err(|e| Invalid {
        status: 400,
        message: format!("the body is not a JSON object of a Remote Tech Work event: {e}"),
    })?;
    let kind = wire
        .kind
        .as_deref()
        .ok_or_else(|| invalid("type is required (job.linked, application.submitted, application.withdrawn or opportunity.create_requested)"))?;
    let occurred_at = match &wire.occurred_at {
        Some(text) => parse_rfc3339(text).map_err(|e| invalid(format!("occurred_at: {e}")))?,
        None => {
            return Err(invalid(
                "occurred_at is required (RFC 3339, e.g. 2026-03-02T10:15:00Z)",
            ));
        }
    };
    let body = match kind {
        "job.linked" => {
            let rtw_job_id = required_id("rtw_job_id", &wire.rtw_job_id, kind)?;
            let lever_posting_id = required_id("lever_posting_id", &wire.lever_posting_id, kind)?;
            let link = match required("link", &wire.link, kind)? {
                "linked_existing" => LinkKind::LinkedExisting,
                "created_new" => LinkKind::CreatedNew,
                other => {
                    return Err(invalid(format!(
                        "link {other:?} is neither linked_existing nor created_new"
                    )));
                }
            };
            Body::JobLinked(JobLinked {
                rtw_job_id,
                lever_posting_id,
                link,
            })
        }
        "application.submitted" => {
            let job = job_ref(&wire, kind)?;
            let Some(profile) = &wire.applicant else {
                return Err(invalid(
                    "applicant (the applicant's profile) is required in application.submitted events",
                ));
            };
            let applicant = parse_applicant(profile)?;
            Body::ApplicationSubmitted(Application { job, applicant })
        }
        "application.withdrawn" => {
            let job = job_ref(&wire, kind)?;
            let applicant_id = required_id("applicant_id", &wire.applicant_id, kind)?;
            if let Some(email) = &wire.email {
                check_email("email", email)?;
            }
            Body::ApplicationWithdrawn(ApplicationRef {
                job,
                applicant_id,
                email: wire.email.clone(),
            })
        }
        "opportunity.create_requested" => {
            let job = job_ref(&wire, kind)?;
            let applicant_id = required_id("applicant_id", &wire.applicant_id, kind)?;
            let applicant = match &wire.applicant {
                Some(profile) => {
                    let applicant = parse_applicant(profile)?;
                    if applicant.id != applicant_id {
                        return Err(invalid(format!(
                            "applicant.id {:?} differs from applicant_id {applicant_id:?}",
                            applicant.id
                        )));
                    }
                    Some(applicant)
                }
                None => None,
            };
            Body::CreateRequested(CreateRequest {
                job,
                applicant_id,
                applicant,
            })
        }
        other => {
            return Err(invalid(format!(
                "unknown type {other:?}: expected job.linked, application.submitted, application.withdrawn or opportunity.create_requested"
            )));
        }
    };
    Ok(Event { occurred_at, body })
}

fn check_email(field: &str, email: &str) -> Result<(), Invalid> {
    let trimmed = email.trim();
    let ok = trimmed.split_once('@').is_some_and(|(local, domain)| {
        !local.is_empty() && domain.contains('.') && !domain.starts_with('.')
    }) && !trimmed.contains(char::is_whitespace);
    if ok {
        Ok(())
    } else {
        Err(invalid(format!(
            "{field} {email:?} is not an e-mail address"
        )))
    }
}

fn check_url(field: &str, url: &str) -> Result<(), Invalid> {
    let lower = url.trim().to_ascii_lowercase();
    if (lower.starts_with("https://") || lower.starts_with("http://"))
        && lower.len() > "https://".len()
        && !url.trim().contains(char::is_whitespace)
    {
        Ok(())
    } else {
        Err(invalid(format!("{field} {url:?} is not an http(s) URL")))
    }
}

/// Parses and checks an applicant profile.
pub fn parse_applicant(profile: &serde_json::Value) -> Result<Applicant, Invalid> {
    let applicant: Applicant =
        serde_json::from_value(profile.clone()).map_err(|e| invalid(format!("applicant: {e}")))?;
    check_id("applicant.id", &applicant.id)?;
    if applicant.full_name.trim().is_empty() {
        return Err(invalid("applicant.full_name is required"));
    }
    check_email("applicant.email", &applicant.email)?;
    if let Some(url) = &applicant.profile_url {
        check_url("applicant.profile_url", url)?;
    }
    for (i, language) in applicant.languages.iter().enumerate() {
        for (skill, level) in [
            ("level", &language.level),
            ("listening", &language.listening),
            ("reading", &language.reading),
            ("spoken_interaction", &language.spoken_interaction),
            ("spoken_production", &language.spoken_production),
            ("writing", &language.writing),
        ] {
            if let Some(level) = level
                && !is_cefr(level)
            {
                return Err(invalid(format!(
                    "applicant.languages[{i}].{skill} {level:?} is not a CEFR level (A1, A2, B1, B2, C1, C2)"
                )));
            }
        }
    }
    for (i, certificate) in applicant.certificates.iter().enumerate() {
        if let Some(url) = &certificate.url {
            check_url(&format!("applicant.certificates[{i}].url"), url)?;
        }
    }
    if let Some(PriceTag::Parts {
        amount, currency, ..
    }) = &applicant.price_tag
        && (!amount.is_finite() || *amount < 0.0 || currency.trim().is_empty())
    {
        return Err(invalid(
            "applicant.price_tag needs a non-negative amount and a currency (or a formatted text)",
        ));
    }
    Ok(applicant)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(v: serde_json::Value) -> Result<Event, Invalid> {
        parse_event(v.to_string().as_bytes())
    }

    #[test]
    fn parses_each_type() {
        let linked = parse(
            json!({"type": "job.linked", "occurred_at": "2026-03-01T09:00:00Z",
            "rtw_job_id": "rtw-42", "lever_posting_id": "p-1", "link": "created_new"}),
        )
        .unwrap();
        assert_eq!(
            linked.body,
            Body::JobLinked(JobLinked {
                rtw_job_id: "rtw-42".into(),
                lever_posting_id: "p-1".into(),
                link: LinkKind::CreatedNew
            })
        );
        let submitted = parse(
            json!({"type": "application.submitted", "occurred_at": "2026-03-02T10:15:00Z",
            "rtw_job_id": "rtw-42",
            "applicant": {"id": "a-1", "full_name": "Zoë Ødegård", "email": "zoe@example.com",
                          "languages": [{"name": "English", "level": "c1"}],
                          "price_tag": {"amount": 65, "currency": "USD", "unit": "hour"}}}),
        )
        .unwrap();
        let Body::ApplicationSubmitted(application) = submitted.body else {
            panic!()
        };
        assert_eq!(application.job.lever_posting_id, None);
        assert_eq!(application.applicant.full_name, "Zoë Ødegård");
        assert_eq!(submitted.occurred_at, 1_772_446_500_000);
        let withdrawn = parse(
            json!({"type": "application.withdrawn", "occurred_at": "2026-03-03T00:00:00Z",
            "rtw_job_id": "rtw-42", "lever_posting_id": "p-1", "applicant_id": "a-1"}),
        )
        .unwrap();
        assert!(
            matches!(withdrawn.body, Body::ApplicationWithdrawn(ref r) if r.applicant_id == "a-1")
        );
        let create = parse(
            json!({"type": "opportunity.create_requested", "occurred_at": "2026-03-03T00:00:00Z",
            "rtw_job_id": "rtw-42", "applicant_id": "a-1"}),
        )
        .unwrap();
        assert!(matches!(create.body, Body::CreateRequested(ref r) if r.applicant.is_none()));
    }

    #[test]
    fn refusals_name_the_field() {
        let cases = [
            (json!([1]), 400, "not a JSON object"),
            (
                json!({"occurred_at": "2026-03-01T09:00:00Z"}),
                422,
                "type is required",
            ),
            (
                json!({"type": "job.deleted", "occurred_at": "2026-03-01T09:00:00Z"}),
                422,
                "unknown type",
            ),
            (
                json!({"type": "job.linked"}),
                422,
                "occurred_at is required",
            ),
            (
                json!({"type": "job.linked", "occurred_at": "yesterday"}),
                422,
                "occurred_at",
            ),
            (
                json!({"type": "job.linked", "occurred_at": "2026-03-01T09:00:00Z", "rtw_job_id": "j", "lever_posting_id": "p", "link": "maybe"}),
                422,
                "link \"maybe\"",
            ),
            (
                json!({"type": "job.linked", "occurred_at": "2026-03-01T09:00:00Z", "rtw_job_id": "a/b", "lever_posting_id": "p", "link": "created_new"}),
                422,
                "rtw_job_id \"a/b\"",
            ),
            (
                json!({"type": "application.submitted", "occurred_at": "2026-03-01T09:00:00Z", "rtw_job_id": "j"}),
                422,
                "applicant (the applicant's profile) is required",
            ),
            (
                json!({"type": "application.submitted", "occurred_at": "2026-03-01T09:00:00Z", "rtw_job_id": "j",
                    "applicant": {"id": "a", "full_name": " ", "email": "a@example.com"}}),
                422,
                "full_name",
            ),
            (
                json!({"type": "application.submitted", "occurred_at": "2026-03-01T09:00:00Z", "rtw_job_id": "j",
                    "applicant": {"id": "a", "full_name": "A", "email": "nope"}}),
                422,
                "applicant.email",
            ),
            (
                json!({"type": "application.submitted", "occurred_at": "2026-03-01T09:00:00Z", "rtw_job_id": "j",
                    "applicant": {"id": "a", "full_name": "A", "email": "a@example.com", "profile_url": "ftp://x"}}),
                422,
                "profile_url",
            ),
            (
                json!({"type": "application.submitted", "occurred_at": "2026-03-01T09:00:00Z", "rtw_job_id": "j",
                    "applicant": {"id": "a", "full_name": "A", "email": "a@example.com", "languages": [{"name": "German", "reading": "D1"}]}}),
                422,
                "languages[0].reading",
            ),
            (
                json!({"type": "application.submitted", "occurred_at": "2026-03-01T09:00:00Z", "rtw_job_id": "j",
                    "applicant": {"id": "a", "full_name": "A", "email": "a@example.com", "technical_skills": "Rust"}}),
                422,
                "applicant: invalid type",
            ),
            (
                json!({"type": "application.withdrawn", "occurred_at": "2026-03-01T09:00:00Z", "rtw_job_id": "j"}),
                422,
                "applicant_id is required",
            ),
            (
                json!({"type": "opportunity.create_requested", "occurred_at": "2026-03-01T09:00:00Z", "rtw_job_id": "j", "applicant_id": "a",
                    "applicant": {"id": "b", "full_name": "B", "email": "b@example.com"}}),
                422,
                "differs",
            ),
        ];
        for (body, status, needle) in cases {
            let err = parse(body.clone()).unwrap_err();
            assert_eq!(err.status, status, "{body}: {err:?}");
            assert!(
                err.message.contains(needle),
                "{body}: {:?} lacks {needle:?}",
                err.message
            );
        }
    }

    #[test]
    fn price_tags_format() {
        let parts = |amount: f64, unit: Option<&str>| PriceTag::Parts {
            amount,
            currency: "USD".into(),
            unit: unit.map(str::to_owned),
        };
        assert_eq!(
            parts(65.0, Some("hour")).formatted().unwrap(),
            "USD 65/hour"
        );
        assert_eq!(
            parts(5500.5, Some("month")).formatted().unwrap(),
            "USD 5,500.50/month"
        );
        assert_eq!(
            parts(1_234_567.0, None).formatted().unwrap(),
            "USD 1,234,567"
        );
        assert_eq!(
            PriceTag::Text(" EUR 70/h ".into()).formatted().unwrap(),
            "EUR 70/h"
        );
        assert_eq!(PriceTag::Text("  ".into()).formatted(), None);
    }
}
