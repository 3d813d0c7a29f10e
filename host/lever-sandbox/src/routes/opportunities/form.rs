//! Reading a `POST /opportunities` body: JSON through axum (so the body limit applies) or
//! Lever's multipart encoding of the same fields plus files.

use crate::error::ApiError;
use crate::routes::{UploadedFile, multipart_error};
use axum::extract::{FromRequest, Multipart, Request};
use bytes::Bytes;
use lever_model::{NewArchived, NewOpportunity, Origin, Phone};

pub(super) fn is_multipart(req: &Request) -> bool {
    req.headers()
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.to_ascii_lowercase().starts_with("multipart/form-data"))
}

/// Read a JSON body through axum (so the body limit applies) and map its rejection.
pub(crate) async fn body_bytes(req: Request) -> Result<Bytes, ApiError> {
    Bytes::from_request(req, &()).await.map_err(|r| {
        if r.status() == http::StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::too_large("Request body exceeds the 30 MB limit")
        } else {
            ApiError::for_status(r.status(), r.body_text())
        }
    })
}

pub(super) type Form = (NewOpportunity, Option<UploadedFile>, Vec<UploadedFile>);

/// Lever's multipart encoding: arrays as repeated `emails[]`, phones as `phones[N][type]` /
/// `phones[N][value]`, nested objects as `archived[reason]`.
pub(super) async fn parse_multipart(req: Request) -> Result<Form, ApiError> {
    let mut mp = Multipart::from_request(req, &())
        .await
        .map_err(|r| ApiError::for_status(r.status(), r.body_text()))?;
    let mut b = NewOpportunity::default();
    let mut resume = None;
    let mut files = Vec::new();
    let mut phones: std::collections::BTreeMap<usize, Phone> = Default::default();
    let mut next_phone = 10_000usize;
    let mut archived: Option<NewArchived> = None;
    while let Some(field) = mp.next_field().await.map_err(multipart_error)? {
        let name = field.name().unwrap_or_default().to_owned();
        let file_name = field.file_name().map(str::to_owned);
        let bytes = field.bytes().await.map_err(multipart_error)?;
        if name == "resumeFile" || name == "files[]" || name == "files" {
            let f = UploadedFile {
                name: file_name.unwrap_or_else(|| "file".into()),
                bytes,
            };
            if name == "resumeFile" {
                if resume.is_some() {
                    return Err(ApiError::bad_request("Only one resumeFile may be sent"));
                }
                resume = Some(f);
            } else {
                files.push(f);
            }
            continue;
        }
        let text = String::from_utf8(bytes.to_vec())
            .map_err(|_| ApiError::bad_request(format!("Field {name} is not UTF-8 text")))?;
        let base = name.trim_end_matches("[]");
        match base {
            "name" => b.name = Some(text),
            "headline" => b.headline = Some(text),
            "stage" => b.stage = Some(text),
            "location" => b.location = Some(text),
            "owner" => b.owner = Some(text),
            "contact" => b.contact = Some(text),
            "opportunityLocation" => b.opportunity_location = Some(text),
            "origin" => {
                b.origin = Some(Origin::parse(&text).ok_or_else(|| {
                    ApiError::bad_request(format!("Invalid value for origin: {text:?}"))
                })?)
            }
            "createdAt" => {
                b.created_at =
                    Some(text.trim().parse().map_err(|_| {
                        ApiError::bad_request(format!("Invalid createdAt: {text:?}"))
                    })?)
            }
            "emails" => b.emails.push(text),
            "tags" => b.tags.push(text),
            "sources" => b.sources.push(text),
            "links" => b.links.push(text),
            "postings" => b.postings.push(text),
            "followers" => b.followers.push(text),
            "phones" => {
                next_phone += 1;
                phones.insert(
                    next_phone,
                    Phone {
                        kind: None,
                        value: text,
                    },
                );
            }
            "archived[reason]" => archived.get_or_insert_with(Default::default).reason = text,
            "archived[archivedAt]" => {
                archived.get_or_insert_with(Default::default).archived_at =
                    Some(text.trim().parse().map_err(|_| {
                        ApiError::bad_request(format!("Invalid archived[archivedAt]: {text:?}"))
                    })?)
            }
            other => {
                // phones[N][type] / phones[N][value]
                if let Some(rest) = other.strip_prefix("phones[")
                    && let Some((n, key)) = rest.split_once("][")
                    && let Ok(n) = n.parse::<usize>()
                {
                    let p = phones.entry(n).or_default();
                    match key.trim_end_matches(']') {
                        "type" => p.kind = Some(text).filter(|t| !t.is_empty()),
                        "value" => p.value = text,
                        _ => {}
                    }
                }
            }
        }
    }
    b.phones = phones.into_values().collect();
    b.archived = archived;
    Ok((b, resume, files))
}
