//! multipart/form-data bodies. Lever's form encoding is the Rails/PHP one: arrays as repeated
//! `key[]`, arrays of objects as `key[0][field]`, nested objects as `key[field]`. The fields are
//! kept as plain data (not a `reqwest` form) so that a retried request can rebuild its body and
//! so that the encoding can be tested without a server.

use bytes::Bytes;
use lever_model::NewOpportunity;
use reqwest::multipart::{Form, Part};
use serde_json::Value;
use std::fmt;

use crate::LeverError;

/// A file to send to Lever.
#[derive(Clone)]
pub struct FileUpload {
    pub name: String,
    pub content_type: String,
    pub bytes: Bytes,
}

impl FileUpload {
    pub fn new(
        name: impl Into<String>,
        content_type: impl Into<String>,
        bytes: impl Into<Bytes>,
    ) -> Self {
        FileUpload {
            name: name.into(),
            content_type: content_type.into(),
            bytes: bytes.into(),
        }
    }
}

impl fmt::Debug for FileUpload {
    // Candidate documents are personal data; Debug shows their shape, never their contents.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FileUpload")
            .field("name", &self.name)
            .field("content_type", &self.content_type)
            .field("len", &self.bytes.len())
            .finish()
    }
}

/// Files sent with `POST /opportunities` (which then has to be multipart).
#[derive(Default, Clone, Debug)]
pub struct Attachments {
    /// Sent as `resumeFile`; Lever parses it when asked to.
    pub resume: Option<FileUpload>,
    /// Sent as repeated `files[]`.
    pub files: Vec<FileUpload>,
}

impl Attachments {
    pub fn is_empty(&self) -> bool {
        self.resume.is_none() && self.files.is_empty()
    }
}

#[derive(Clone, Debug)]
pub(crate) enum FormValue {
    Text(String),
    File(FileUpload),
}

/// Ordered form fields; names may repeat.
pub(crate) type FormFields = Vec<(String, FormValue)>;

/// The form for `POST /opportunities` with attachments.
pub(crate) fn opportunity_form(
    body: &NewOpportunity,
    attachments: Attachments,
) -> Result<FormFields, LeverError> {
    let value = serde_json::to_value(body).map_err(|e| LeverError::Config {
        message: format!("the new opportunity could not be encoded: {e}"),
    })?;
    let mut fields = FormFields::new();
    // Derived from the serde shape so that fields added to `NewOpportunity` are sent too.
    if let Value::Object(map) = value {
        for (key, v) in map {
            flatten(&key, &v, &mut fields);
        }
    }
    if let Some(resume) = attachments.resume {
        fields.push(("resumeFile".into(), FormValue::File(resume)));
    }
    for file in attachments.files {
        fields.push(("files[]".into(), FormValue::File(file)));
    }
    Ok(fields)
}

/// The form for `POST /opportunities/:id/files` and `POST /uploads`.
pub(crate) fn file_form(file: FileUpload) -> FormFields {
    vec![("file".into(), FormValue::File(file))]
}

fn flatten(name: &str, value: &Value, out: &mut FormFields) {
    match value {
        Value::Null => {}
        Value::Bool(b) => out.push((name.to_owned(), FormValue::Text(b.to_string()))),
        Value::Number(n) => out.push((name.to_owned(), FormValue::Text(n.to_string()))),
        Value::String(s) => out.push((name.to_owned(), FormValue::Text(s.clone()))),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                match item {
                    // Objects need an index so their fields stay grouped.
                    Value::Object(_) | Value::Array(_) => {
                        flatten(&format!("{name}[{i}]"), item, out)
                    }
                    _ => flatten(&format!("{name}[]"), item, out),
                }
            }
        }
        Value::Object(map) => {
            for (key, v) in map {
                flatten(&format!("{name}[{key}]"), v, out);
            }
        }
    }
}

/// Builds a fresh `reqwest` form (forms are single-use, so one per attempt).
pub(crate) fn build_form(fields: &FormFields) -> Result<Form, LeverError> {
    // Field names are Lever's fixed ASCII names (`emails[]`, `phones[0][value]`); send them
    // verbatim rather than in RFC 5987 `name*=` form, which form parsers rarely accept.
    let mut form = Form::new().percent_encode_noop();
    for (name, value) in fields {
        form = match value {
            FormValue::Text(text) => form.text(name.clone(), text.clone()),
            FormValue::File(file) => {
                let part = Part::stream_with_length(
                    reqwest::Body::from(file.bytes.clone()),
                    file.bytes.len() as u64,
                )
                .file_name(file.name.clone())
                .mime_str(&file.content_type)
                .map_err(|_| LeverError::Config {
                    message: format!(
                        "file {:?} has an invalid content type {:?}; use e.g. application/pdf",
                        file.name, file.content_type
                    ),
                })?;
                form.part(name.clone(), part)
            }
        };
    }
    Ok(form)
}

#[cfg(test)]
mod tests {
    use super::*;
    use lever_model::{NewArchived, Origin, Phone};

    fn texts(fields: &FormFields) -> Vec<(String, String)> {
        fields
            .iter()
            .map(|(k, v)| match v {
                FormValue::Text(t) => (k.clone(), t.clone()),
                FormValue::File(f) => (k.clone(), format!("<file {}>", f.name)),
            })
            .collect()
    }

    #[test]
    fn new_opportunity_uses_lever_form_encoding() {
        let body = NewOpportunity {
            name: Some("Ada Lovelace".into()),
            emails: vec!["ada@x.io".into(), "ada@y.io".into()],
            phones: vec![
                Phone {
                    kind: Some("mobile".into()),
                    value: "+1 555".into(),
                },
                Phone {
                    kind: None,
                    value: "+2".into(),
                },
            ],
            tags: vec!["rust".into()],
            postings: vec!["p1".into()],
            origin: Some(Origin::Sourced),
            created_at: Some(1_700_000_000_000),
            archived: Some(NewArchived {
                reason: "r1".into(),
                archived_at: Some(1_700_000_000_001),
            }),
            ..Default::default()
        };
        let attachments = Attachments {
            resume: Some(FileUpload::new("cv.pdf", "application/pdf", &b"%PDF"[..])),
            files: vec![
                FileUpload::new("a.txt", "text/plain", &b"a"[..]),
                FileUpload::new("b.txt", "text/plain", &b"b"[..]),
            ],
        };
        let got = texts(&opportunity_form(&body, attachments).unwrap());
        let mut sorted = got.clone();
        sorted.sort();
        let mut want: Vec<(String, String)> = [
            ("name", "Ada Lovelace"),
            ("emails[]", "ada@x.io"),
            ("emails[]", "ada@y.io"),
            ("phones[0][type]", "mobile"),
            ("phones[0][value]", "+1 555"),
            ("phones[1][value]", "+2"),
            ("tags[]", "rust"),
            ("postings[]", "p1"),
            ("origin", "sourced"),
            ("createdAt", "1700000000000"),
            ("archived[reason]", "r1"),
            ("archived[archivedAt]", "1700000000001"),
            ("resumeFile", "<file cv.pdf>"),
            ("files[]", "<file a.txt>"),
            ("files[]", "<file b.txt>"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        want.sort();
        assert_eq!(sorted, want);
        // Repeated values keep their order.
        let emails: Vec<_> = got.iter().filter(|(k, _)| k == "emails[]").collect();
        assert_eq!(emails[0].1, "ada@x.io");
        let files: Vec<_> = got.iter().filter(|(k, _)| k == "files[]").collect();
        assert_eq!(files[1].1, "<file b.txt>");
    }

    #[test]
    fn file_form_and_bad_mime() {
        let f = FileUpload::new("x.pdf", "application/pdf", vec![1u8, 2, 3]);
        let fields = file_form(f.clone());
        assert_eq!(texts(&fields), vec![("file".into(), "<file x.pdf>".into())]);
        assert!(build_form(&fields).is_ok());
        let bad = file_form(FileUpload::new("x", "not a mime", vec![]));
        assert!(matches!(build_form(&bad), Err(LeverError::Config { .. })));
        assert!(!format!("{f:?}").contains("[1, 2, 3]"));
    }
}
