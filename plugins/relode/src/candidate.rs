//! Relode's `candidate.submitted` event: its shape and checks (run at the ingress, before
//! anything is stored), the Lever opportunity it becomes and the note about the candidate.

use crate::codec;
use crate::settings::looks_like_email;
use fulcrum_sdk::lever::{Attachment, NewNote, NewOpportunity, Origin, Phone};
use fulcrum_sdk::prelude::*;
use serde::Deserialize;

/// The event type this path accepts.
pub const SUBMITTED: &str = "candidate.submitted";
/// The source every Relode opportunity carries in Lever.
pub const SOURCE: &str = "Relode";
/// Resumes given by URL must be on Relode's API origin (the only host the plugin may call).
pub const RESUME_URL_PREFIX: &str = "https://api.relode.com/";

/// The body Relode posts.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Submission {
    pub event: String,
    pub candidate: Candidate,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Candidate {
    /// Relode's stable candidate id (per submission to a job).
    pub id: String,
    pub lever_posting_id: String,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub resume: Option<Resume>,
    #[serde(default)]
    pub career_highlights: Option<Text>,
    #[serde(default)]
    pub desired_salary: Option<Text>,
    #[serde(default)]
    pub certifications_and_licenses: Option<Text>,
    #[serde(default)]
    pub skills: Option<Text>,
    #[serde(default)]
    pub education: Option<Text>,
    #[serde(default)]
    pub languages: Option<Text>,
    #[serde(default)]
    pub interview_ability: Option<Text>,
    #[serde(default)]
    pub willing_to_relocate: Option<Answer>,
    #[serde(default)]
    pub willing_to_travel: Option<Answer>,
    #[serde(default)]
    pub available_start_date: Option<Text>,
}

/// The resume: inline (`content_base64`) or at a Relode URL the plugin downloads.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Resume {
    pub file_name: String,
    #[serde(default)]
    pub content_type: Option<String>,
    #[serde(default)]
    pub content_base64: Option<String>,
    #[serde(default)]
    pub url: Option<String>,
}

/// Free text, or a list of entries (skills, certifications...).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum Text {
    One(String),
    Many(Vec<String>),
}

/// A yes/no question Relode may answer with a boolean or with words ("Up to 25% travel").
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum Answer {
    YesNo(bool),
    Words(String),
}

impl Text {
    /// The non-blank entries, trimmed.
    fn entries(&self) -> Vec<&str> {
        match self {
            Text::One(s) => vec![s.trim()],
            Text::Many(items) => items.iter().map(|s| s.trim()).collect(),
        }
        .into_iter()
        .filter(|s| !s.is_empty())
        .collect()
    }
}

impl Answer {
    fn words(&self) -> Option<String> {
        match self {
            Answer::YesNo(true) => Some("Yes".into()),
            Answer::YesNo(false) => Some("No".into()),
            Answer::Words(s) if s.trim().is_empty() => None,
            Answer::Words(s) => Some(s.trim().to_owned()),
        }
    }
}

/// Why a submission is refused at the ingress: the HTTP status for Relode and what to fix.
#[derive(Debug, Clone, PartialEq)]
pub struct Refusal {
    pub status: u16,
    pub message: String,
}

/// Parses and checks a submission body. Not JSON: 400. Wrong shape, or missing / blank /
/// malformed fields: 422 naming every offending field.
pub fn parse(body: &[u8]) -> Result<Submission, Refusal> {
    let value: Value = serde_json::from_slice(body).map_err(|e| Refusal {
        status: 400,
        message: format!("the body is not JSON ({e}); send {SUBMITTED} events as application/json"),
    })?;
    let mut problems = Vec::new();
    match value.get("event").and_then(Value::as_str) {
        Some(SUBMITTED) => {}
        Some(other) => problems.push(format!(
            "event: {other:?} is not an event this endpoint accepts (expected {SUBMITTED:?})"
        )),
        None => problems.push(format!("event: required, {SUBMITTED:?}")),
    }
    let candidate = value.get("candidate");
    match candidate {
        Some(Value::Object(c)) => {
            for field in ["id", "lever_posting_id", "first_name", "last_name", "email"] {
                match c.get(field) {
                    Some(Value::String(s)) if !s.trim().is_empty() => {}
                    Some(Value::String(_)) => {
                        problems.push(format!("candidate.{field}: must not be blank"))
                    }
                    Some(_) => problems.push(format!("candidate.{field}: must be a string")),
                    None => problems.push(format!("candidate.{field}: required")),
                }
            }
            if let Some(email) = c.get("email").and_then(Value::as_str)
                && !email.trim().is_empty()
                && !looks_like_email(email)
            {
                problems.push(format!(
                    "candidate.email: {email:?} is not an e-mail address"
                ));
            }
        }
        Some(_) => problems.push("candidate: must be an object".into()),
        None => problems.push("candidate: required".into()),
    }
    if !problems.is_empty() {
        return Err(unprocessable(problems));
    }
    let submission: Submission = serde_json::from_value(value)
        .map_err(|e| unprocessable(vec![format!("candidate: {e}")]))?;
    if let Some(resume) = &submission.candidate.resume {
        problems.extend(resume_problems(resume));
    }
    if !problems.is_empty() {
        return Err(unprocessable(problems));
    }
    Ok(submission)
}

fn unprocessable(problems: Vec<String>) -> Refusal {
    Refusal {
        status: 422,
        message: format!(
            "the {SUBMITTED} event is incomplete or malformed: {}",
            problems.join("; ")
        ),
    }
}

fn resume_problems(resume: &Resume) -> Vec<String> {
    let mut problems = Vec::new();
    if resume.file_name.trim().is_empty() {
        problems.push("candidate.resume.file_name: must not be blank".to_owned());
    }
    match (&resume.content_base64, &resume.url) {
        (Some(content), None) => match codec::base64_decode(content) {
            Ok(bytes) if bytes.is_empty() => {
                problems.push("candidate.resume.content_base64: the file is empty".into())
            }
            Ok(_) => {}
            Err(e) => problems.push(format!("candidate.resume.content_base64: not base64 ({e})")),
        },
        (None, Some(url)) if url.starts_with(RESUME_URL_PREFIX) => {}
        (None, Some(url)) => problems.push(format!(
            "candidate.resume.url: {url:?} is not on {RESUME_URL_PREFIX} (the only host the \
             connector downloads from)"
        )),
        _ => {
            problems.push("candidate.resume: give exactly one of content_base64 and url".to_owned())
        }
    }
    problems
}

impl Candidate {
    pub fn full_name(&self) -> String {
        format!("{} {}", self.first_name.trim(), self.last_name.trim())
    }
}

impl Resume {
    pub fn content_type(&self) -> String {
        self.content_type
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .unwrap_or("application/octet-stream")
            .to_owned()
    }

    /// The inline bytes (checked at the ingress); `None` when the resume is given by URL.
    pub fn inline_bytes(&self) -> Option<Result<Vec<u8>, Error>> {
        self.content_base64.as_deref().map(|content| {
            codec::base64_decode(content)
                .map_err(|e| Error::invalid(format!("candidate.resume.content_base64: {e}")))
        })
    }

    pub fn attachment(&self, bytes: Vec<u8>) -> Attachment {
        Attachment {
            name: self.file_name.trim().to_owned(),
            content_type: self.content_type(),
            bytes,
        }
    }
}

/// What Lever gets: the candidate on the posting, owned by the configured user, in the
/// configured stage, sourced "Relode" (Lever reuses the contact that has this e-mail).
pub fn new_opportunity(
    candidate: &Candidate,
    owner_id: &str,
    stage_id: &str,
    resume: Option<Attachment>,
) -> NewOpportunity {
    NewOpportunity {
        name: candidate.full_name(),
        emails: vec![candidate.email.trim().to_owned()],
        phones: candidate
            .phone
            .iter()
            .map(|p| p.trim())
            .filter(|p| !p.is_empty())
            .map(|value| Phone {
                kind: None,
                value: value.to_owned(),
            })
            .collect(),
        sources: vec![SOURCE.to_owned()],
        // Relode's candidates come from its crowd of recruiters.
        origin: Some(Origin::Agency),
        posting_id: Some(candidate.lever_posting_id.trim().to_owned()),
        stage_id: Some(stage_id.to_owned()),
        owner_id: Some(owner_id.to_owned()),
        resume,
        ..Default::default()
    }
}

/// The note about the candidate: one section per field Relode sent, none for missing or blank
/// ones; `None` when Relode sent none of them. The first line names the Relode candidate, so
/// the note's text is specific to this submission.
pub fn note(candidate: &Candidate) -> Option<NewNote> {
    let c = candidate;
    let sections: Vec<String> = [
        text_section("Career highlights", &c.career_highlights),
        text_section("Desired salary", &c.desired_salary),
        text_section("Certifications & licences", &c.certifications_and_licenses),
        text_section("Skills", &c.skills),
        text_section("Education", &c.education),
        text_section("Languages", &c.languages),
        text_section("Interview ability", &c.interview_ability),
        answer_section("Willing to relocate", &c.willing_to_relocate),
        answer_section("Willing to travel", &c.willing_to_travel),
        text_section("Available start date", &c.available_start_date),
    ]
    .into_iter()
    .flatten()
    .collect();
    if sections.is_empty() {
        return None;
    }
    Some(NewNote {
        value: format!(
            "Submitted through Relode (Relode candidate {})\n\n{}",
            c.id.trim(),
            sections.join("\n\n")
        ),
        ..Default::default()
    })
}

/// `Title: entry` for one entry, a bulleted list under `Title:` for several, nothing for none.
fn text_section(title: &str, value: &Option<Text>) -> Option<String> {
    let entries = value.as_ref().map(Text::entries).unwrap_or_default();
    match entries.as_slice() {
        [] => None,
        [one] => Some(format!("{title}: {one}")),
        many => Some(format!(
            "{title}:\n{}",
            many.iter()
                .map(|e| format!("- {e}"))
                .collect::<Vec<_>>()
                .join("\n")
        )),
    }
}

fn answer_section(title: &str, value: &Option<Answer>) -> Option<String> {
    value
        .as_ref()
        .and_then(Answer::words)
        .map(|words| format!("{title}: {words}"))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub fn full_body() -> Value {
        json!({
            "event": "candidate.submitted",
            "candidate": {
                "id": "rc_1001",
                "lever_posting_id": "posting-1",
                "first_name": " Ada ",
                "last_name": "Lovelace",
                "email": "ada.lovelace@example.com",
                "phone": "+1 415 555 0100",
                "resume": {"file_name": "ada.pdf", "content_type": "application/pdf",
                           "content_base64": "JVBERi0xLjQK"},
                "career_highlights": ["Led the analytical engine team", "Published notes on Bernoulli numbers"],
                "desired_salary": "$150,000 per year",
                "certifications_and_licenses": ["AWS Solutions Architect"],
                "skills": ["Mathematics", "Programming"],
                "education": "University of London",
                "languages": ["English", "French"],
                "interview_ability": "Weekdays after 2pm ET",
                "willing_to_relocate": true,
                "willing_to_travel": "Up to 25%",
                "available_start_date": "2025-03-01",
                "relode_recruiter_id": "rr_7"
            }
        })
    }

    fn parse_value(body: &Value) -> Result<Submission, Refusal> {
        parse(body.to_string().as_bytes())
    }

    #[test]
    fn a_full_submission_becomes_an_opportunity_with_owner_stage_source_and_resume() {
        let submission = parse_value(&full_body()).unwrap();
        let c = &submission.candidate;
        let resume = c.resume.as_ref().unwrap();
        let bytes = resume.inline_bytes().unwrap().unwrap();
        assert_eq!(bytes, b"%PDF-1.4\n");
        let o = new_opportunity(c, "user-1", "stage-1", Some(resume.attachment(bytes)));
        assert_eq!(o.name, "Ada Lovelace");
        assert_eq!(o.emails, ["ada.lovelace@example.com"]);
        assert_eq!(
            o.phones,
            [Phone {
                kind: None,
                value: "+1 415 555 0100".into()
            }]
        );
        assert_eq!(o.sources, ["Relode"]);
        assert_eq!(o.origin, Some(Origin::Agency));
        assert_eq!(o.posting_id.as_deref(), Some("posting-1"));
        assert_eq!(o.owner_id.as_deref(), Some("user-1"));
        assert_eq!(o.stage_id.as_deref(), Some("stage-1"));
        let attachment = o.resume.unwrap();
        assert_eq!(
            (attachment.name.as_str(), attachment.content_type.as_str()),
            ("ada.pdf", "application/pdf")
        );
    }

    #[test]
    fn the_note_lays_out_every_field_sent() {
        let submission = parse_value(&full_body()).unwrap();
        let note = note(&submission.candidate).unwrap();
        assert!(!note.secret);
        assert_eq!(
            note.value,
            "Submitted through Relode (Relode candidate rc_1001)\n\n\
             Career highlights:\n- Led the analytical engine team\n- Published notes on Bernoulli numbers\n\n\
             Desired salary: $150,000 per year\n\n\
             Certifications & licences: AWS Solutions Architect\n\n\
             Skills:\n- Mathematics\n- Programming\n\n\
             Education: University of London\n\n\
             Languages:\n- English\n- French\n\n\
             Interview ability: Weekdays after 2pm ET\n\n\
             Willing to relocate: Yes\n\n\
             Willing to travel: Up to 25%\n\n\
             Available start date: 2025-03-01"
        );
    }

    #[test]
    fn missing_and_blank_fields_are_left_out_of_the_note() {
        let mut body = full_body();
        let c = body["candidate"].as_object_mut().unwrap();
        for field in [
            "career_highlights",
            "certifications_and_licenses",
            "education",
            "languages",
            "interview_ability",
            "willing_to_travel",
            "available_start_date",
        ] {
            c.remove(field);
        }
        c.insert("skills".into(), json!(["", "  "]));
        c.insert("desired_salary".into(), json!(" "));
        c.insert("willing_to_relocate".into(), json!(false));
        let submission = parse_value(&body).unwrap();
        let written = note(&submission.candidate).unwrap();
        assert_eq!(
            written.value,
            "Submitted through Relode (Relode candidate rc_1001)\n\nWilling to relocate: No"
        );
        assert!(!written.value.contains("Skills"));

        let minimal = json!({"event": "candidate.submitted", "candidate": {
            "id": "rc_2", "lever_posting_id": "p", "first_name": "A", "last_name": "B",
            "email": "a@b.io"}});
        let submission = parse_value(&minimal).unwrap();
        assert_eq!(note(&submission.candidate), None, "nothing to say: no note");
        let o = new_opportunity(&submission.candidate, "u", "s", None);
        assert!(o.phones.is_empty() && o.resume.is_none());
    }

    #[test]
    fn bad_bodies_are_refused_with_every_problem_named() {
        let not_json = parse(b"{\"event\": ").unwrap_err();
        assert_eq!(not_json.status, 400);
        assert!(not_json.message.contains("not JSON"));

        let empty = parse_value(&json!({})).unwrap_err();
        assert_eq!(empty.status, 422);
        assert!(
            empty.message.contains("event: required"),
            "{}",
            empty.message
        );
        assert!(
            empty.message.contains("candidate: required"),
            "{}",
            empty.message
        );

        let mut body = full_body();
        body["event"] = json!("candidate.withdrawn");
        let c = body["candidate"].as_object_mut().unwrap();
        c.remove("lever_posting_id");
        c.insert("first_name".into(), json!(""));
        c.insert("email".into(), json!("ada at example"));
        c.insert("id".into(), json!(42));
        let refusal = parse_value(&body).unwrap_err();
        assert_eq!(refusal.status, 422);
        for words in [
            "event: \"candidate.withdrawn\" is not an event this endpoint accepts",
            "candidate.id: must be a string",
            "candidate.lever_posting_id: required",
            "candidate.first_name: must not be blank",
            "candidate.email: \"ada at example\" is not an e-mail address",
        ] {
            assert!(
                refusal.message.contains(words),
                "{words}: {}",
                refusal.message
            );
        }

        let mut body = full_body();
        body["candidate"]["skills"] = json!({"rust": true});
        let refusal = parse_value(&body).unwrap_err();
        assert_eq!(refusal.status, 422);
        assert!(
            refusal
                .message
                .starts_with("the candidate.submitted event is incomplete"),
            "{}",
            refusal.message
        );
    }

    #[test]
    fn resumes_are_inline_base64_or_a_relode_url() {
        let with_resume = |resume: Value| {
            let mut body = full_body();
            body["candidate"]["resume"] = resume;
            parse_value(&body)
        };
        let by_url = with_resume(json!({"file_name": "cv.docx",
            "url": "https://api.relode.com/v1/files/f_1"}))
        .unwrap();
        let resume = by_url.candidate.resume.unwrap();
        assert_eq!(resume.inline_bytes(), None);
        assert_eq!(resume.content_type(), "application/octet-stream");

        for (resume, words) in [
            (
                json!({"file_name": "cv.pdf", "content_base64": "not base64!"}),
                "not base64",
            ),
            (
                json!({"file_name": "cv.pdf", "content_base64": ""}),
                "the file is empty",
            ),
            (
                json!({"file_name": "cv.pdf", "url": "https://evil.example/cv.pdf"}),
                "is not on https://api.relode.com/",
            ),
            (
                json!({"file_name": "cv.pdf"}),
                "exactly one of content_base64 and url",
            ),
            (
                json!({"file_name": " ", "content_base64": "JVBERi0xLjQK"}),
                "file_name: must not be blank",
            ),
        ] {
            let refusal = with_resume(resume).unwrap_err();
            assert_eq!(refusal.status, 422);
            assert!(
                refusal.message.contains(words),
                "{words}: {}",
                refusal.message
            );
        }
    }
}
