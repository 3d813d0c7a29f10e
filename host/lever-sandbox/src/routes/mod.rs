//! `/v1` handlers, one module per resource, plus the admin API. Authentication, permission,
//! rate-limit, fault and `perform_as` checks happen once in `server::gate`, which hands each
//! handler a [`Ctx`]; handlers only validate their own inputs and touch data.

pub mod admin;
pub mod candidates;
pub mod contacts;
pub mod files;
pub mod hiring;
pub mod notes;
pub mod oauth;
pub mod opportunities;
pub mod postings;
pub mod requisitions;
pub mod vocabulary;
pub mod webhooks;

use crate::auth::Credential;
use crate::error::ApiError;
use crate::pagination::SortKey;
use crate::query::RawQuery;
use axum::Json;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use http::StatusCode;
use lever_model::{Confidentiality, Data, Page};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::collections::BTreeSet;
use std::ops::Bound;
use std::sync::Arc;

/// Files (and uploads) may be at most 30 MB.
pub const MAX_FILE_BYTES: usize = 30 * 1024 * 1024;

/// What the gate learned about a `/v1` request.
#[derive(Clone)]
pub struct Ctx {
    pub cred: Arc<Credential>,
    /// The validated `perform_as` user, if the operation accepts one and it was given.
    pub actor: Option<String>,
    pub query: Arc<RawQuery>,
}

impl Ctx {
    /// Which confidentiality classes this read may see: confidential data needs both the
    /// key's toggle and `confidentiality=confidential|all`; without the parameter it is
    /// silently hidden. Asking for it without the toggle (or the `confidential:access:admin`
    /// scope) is Lever's access error, whether or not any confidential data exists.
    pub fn read_visibility(&self) -> Result<Visibility, ApiError> {
        let requested = match self.query.one("confidentiality") {
            None | Some("non-confidential") => Visibility::NonConfidential,
            Some("confidential") => Visibility::Confidential,
            Some("all") => Visibility::All,
            Some(other) => {
                return Err(ApiError::bad_request(format!(
                    "Invalid value for confidentiality: {other:?} (expected confidential, \
                     non-confidential or all)"
                )));
            }
        };
        if requested != Visibility::NonConfidential && !self.cred.confidential {
            return Err(ApiError::forbidden(
                "This API key/token does not have access to confidential data; ask a Super \
                 Admin for a key with \"Allow access to confidential data\" (OAuth: the \
                 confidential:access:admin scope), or leave out confidentiality=confidential|all",
            ));
        }
        Ok(requested)
    }

    /// Writes only need the key's toggle.
    pub fn write_visibility(&self) -> Visibility {
        if self.cred.confidential {
            Visibility::All
        } else {
            Visibility::NonConfidential
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Visibility {
    NonConfidential,
    Confidential,
    All,
}

impl Visibility {
    pub fn allows(self, c: Confidentiality) -> bool {
        match self {
            Visibility::All => true,
            Visibility::Confidential => c == Confidentiality::Confidential,
            Visibility::NonConfidential => c != Confidentiality::Confidential,
        }
    }
}

/// `expand=` / `include=` for one request, validated against what the resource supports.
pub struct Shape {
    pub expand: Vec<String>,
    pub include: Vec<String>,
}

impl Shape {
    pub fn parse(q: &RawQuery, expandable: &[&str]) -> Result<Self, ApiError> {
        let mut expand = Vec::new();
        for e in q.all("expand") {
            if !expandable.contains(&e) {
                return Err(ApiError::bad_request(format!(
                    "Invalid value for expand: {e:?} (supported: {})",
                    expandable.join(", ")
                )));
            }
            expand.push(e.to_owned());
        }
        let include = q.all("include").into_iter().map(str::to_owned).collect();
        Ok(Self { expand, include })
    }

    pub fn expands(&self, field: &str) -> bool {
        self.expand.iter().any(|e| e == field)
    }

    /// Serialise, keeping only `id` plus included and expanded fields when `include` is used.
    pub fn apply<T: Serialize>(&self, v: &T) -> Result<Value, ApiError> {
        let mut value = serde_json::to_value(v).map_err(|e| ApiError::internal(e.to_string()))?;
        if !self.include.is_empty()
            && let Value::Object(map) = &mut value
        {
            map.retain(|k, _| {
                k == "id"
                    || self.include.iter().any(|i| i == k)
                    || self.expand.iter().any(|e| e == k)
            });
        }
        Ok(value)
    }
}

pub fn ok<T: Serialize>(data: T) -> Response {
    Json(Data { data }).into_response()
}

pub fn created<T: Serialize>(data: T) -> Response {
    (StatusCode::CREATED, Json(Data { data })).into_response()
}

pub fn no_content() -> Response {
    StatusCode::NO_CONTENT.into_response()
}

pub fn page<T: Serialize>(p: Page<T>) -> Response {
    Json(p).into_response()
}

/// Parse a JSON body into a lever-model request type; any failure is Lever's 400.
pub fn parse_json<T: DeserializeOwned>(body: &Bytes) -> Result<T, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::bad_request("Request body must be a JSON object"));
    }
    serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_request(format!("Invalid JSON body: {e}")))
}

/// Walk a (createdAt, id)-ordered index from just after the cursor.
pub fn ordered<'a>(
    index: &'a BTreeSet<(i64, String)>,
    after: Option<&SortKey>,
) -> impl Iterator<Item = &'a (i64, String)> + 'a {
    let lower = match after {
        Some(k) => Bound::Excluded(k.clone()),
        None => Bound::Unbounded,
    };
    index.range((lower, Bound::Unbounded))
}

/// Keep the first occurrence of each string, dropping blanks.
pub fn dedup_strings(items: impl IntoIterator<Item = String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for s in items {
        let s = s.trim().to_owned();
        if !s.is_empty() && !out.contains(&s) {
            out.push(s);
        }
    }
    out
}

/// Strip HTML tags for the plain-text twins of Lever's `*Html` fields.
pub fn strip_html(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                if !out.ends_with(' ') && !out.is_empty() {
                    out.push(' ');
                }
            }
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// An uploaded file from a multipart form.
#[derive(Debug, Clone)]
pub struct UploadedFile {
    pub name: String,
    pub bytes: Bytes,
}

impl UploadedFile {
    /// Extension without the dot, lowercased ("" when the name has none).
    pub fn ext(&self) -> String {
        std::path::Path::new(&self.name)
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .unwrap_or_default()
    }
}

/// Turn axum's multipart errors into Lever errors (413 stays 413).
pub fn multipart_error(e: axum::extract::multipart::MultipartError) -> ApiError {
    let status = e.status();
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::too_large("Request body exceeds the 30 MB limit")
    } else {
        ApiError::for_status(status, format!("Invalid multipart body: {}", e.body_text()))
    }
}

pub fn check_file_size(f: &UploadedFile) -> Result<(), ApiError> {
    if f.bytes.len() > MAX_FILE_BYTES {
        Err(ApiError::too_large(format!(
            "File {:?} is {} bytes; files may be at most 30 MB",
            f.name,
            f.bytes.len()
        )))
    } else {
        Ok(())
    }
}

/// Read every `file`-like field of a multipart form into memory.
pub async fn read_multipart(
    mut mp: axum::extract::Multipart,
) -> Result<Vec<(String, Option<String>, Bytes)>, ApiError> {
    let mut out = Vec::new();
    while let Some(field) = mp.next_field().await.map_err(multipart_error)? {
        let name = field.name().unwrap_or_default().to_owned();
        let file_name = field.file_name().map(str::to_owned);
        let bytes = field.bytes().await.map_err(multipart_error)?;
        out.push((name, file_name, bytes));
    }
    Ok(out)
}

/// The media type for a file download.
pub fn content_type_for(ext: &str) -> &'static str {
    match ext.trim_start_matches('.').to_ascii_lowercase().as_str() {
        "pdf" => "application/pdf",
        "txt" => "text/plain; charset=utf-8",
        "doc" => "application/msword",
        "docx" => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "json" => "application/json",
        _ => "application/octet-stream",
    }
}

/// A raw file download with Lever-ish headers.
pub fn download(name: &str, ext: &str, bytes: Bytes) -> Response {
    let safe: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    (
        [
            (http::header::CONTENT_TYPE, content_type_for(ext).to_owned()),
            (
                http::header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{safe}\""),
            ),
        ],
        bytes,
    )
        .into_response()
}
