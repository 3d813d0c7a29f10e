//! Request extractors whose refusals are [`ApiError`]s (JSON bodies that say what to fix),
//! instead of axum's plain-text rejections.

use axum::body::Body;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;
use std::convert::Infallible;
use std::marker::PhantomData;

use crate::api_error::ApiError;
use crate::domain_error::Problem;

/// A JSON request body (`Content-Type: application/json`, at most axum's 2 MB default), read
/// only when the handler asks: after its role checks, so a caller without the role gets its
/// 403 whatever the body holds (and learns nothing about what the route expects).
pub(crate) struct DeferredJson<T> {
    request: Request,
    body: PhantomData<fn() -> T>,
}

impl<T, S> FromRequest<S> for DeferredJson<T>
where
    S: Send + Sync,
{
    type Rejection = Infallible;

    async fn from_request(request: Request, _state: &S) -> Result<Self, Infallible> {
        Ok(DeferredJson {
            request,
            body: PhantomData,
        })
    }
}

impl<T: DeserializeOwned> DeferredJson<T> {
    /// Reads and parses the body: 415 if it is not JSON, 413 if too large, 400 if malformed,
    /// 422 (with the offending field in `problems`) if it has the wrong shape.
    pub(crate) async fn parse(self) -> Result<T, ApiError> {
        if !is_json(&self.request) {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "send the body as JSON with Content-Type: application/json; nothing was changed",
            ));
        }
        let too_large = || {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                "the body is larger than 2 MB; nothing was changed",
            )
        };
        let body = self.request.into_body();
        let bytes = read_bounded(body, MAX_JSON_BODY, MAX_JSON_BODY, too_large).await?;
        parse_json(&bytes)
    }
}

/// Largest JSON body accepted (axum's default).
const MAX_JSON_BODY: usize = 2 * 1024 * 1024;

/// Reads `body`, at most `limit` bytes. Past the limit it reads on and discards up to `drain`
/// more bytes, so the client gets its `too_large` answer instead of a broken pipe; beyond
/// that the answer closes the connection.
pub(crate) async fn read_bounded(
    mut body: Body,
    limit: usize,
    drain: usize,
    too_large: impl Fn() -> ApiError,
) -> Result<Vec<u8>, ApiError> {
    use http_body_util::BodyExt as _;
    let mut kept = Vec::new();
    let mut seen = 0usize;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| {
            ApiError::bad_request(format!(
                "could not read the request body ({e}); send it again"
            ))
            .closing()
        })?;
        let Ok(data) = frame.into_data() else {
            continue;
        };
        seen = seen.saturating_add(data.len());
        if seen > limit.saturating_add(drain) {
            return Err(too_large().closing());
        }
        if seen <= limit {
            kept.extend_from_slice(&data);
        }
    }
    if seen > limit {
        return Err(too_large());
    }
    Ok(kept)
}

fn is_json(request: &Request) -> bool {
    crate::media_type::is_json(request.headers())
}

/// The body as `T`, or what is wrong with it.
fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let malformed = |error: &serde_json::Error| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "malformed_json",
            format!(
                "the body is not valid JSON ({error}); fix it and send it again; nothing was \
                 changed"
            ),
        )
    };
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
        let inner = error.inner();
        if inner.is_data() {
            let pointer = json_pointer(error.path());
            let detail = if pointer.is_empty() {
                inner.to_string()
            } else {
                format!("{}: {inner}", error.path())
            };
            ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_body",
                format!(
                    "the JSON does not have the expected shape ({detail}); see this route's \
                     request body in /admin/v1/openapi.json; nothing was changed"
                ),
            )
            .with_problems(vec![Problem::host(pointer, inner.to_string())])
        } else {
            malformed(inner)
        }
    })?;
    // Trailing characters after the document are malformed JSON too.
    deserializer.end().map_err(|e| malformed(&e))?;
    Ok(value)
}

/// `path` (as serde saw it) as a JSON pointer (RFC 6901) into the body.
fn json_pointer(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut pointer = String::new();
    for segment in path {
        match segment {
            Segment::Seq { index } => pointer.push_str(&format!("/{index}")),
            Segment::Map { key } => {
                pointer.push('/');
                pointer.push_str(&key.replace('~', "~0").replace('/', "~1"));
            }
            Segment::Enum { .. } => {}
            Segment::Unknown => break,
        }
    }
    pointer
}

/// Query parameters.
pub(crate) struct QueryParams<T>(pub T);

impl<T, S> FromRequestParts<S> for QueryParams<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Query(value)| QueryParams(value))
            .map_err(|e: QueryRejection| {
                ApiError::bad_request(format!(
                    "bad query parameters ({}); see this route's parameters in /admin/v1/openapi.json",
                    e.body_text()
                ))
            })
    }
}

/// Path parameters (e.g. a numeric id that is not a number).
pub(crate) struct PathParams<T>(pub T);

impl<T, S> FromRequestParts<S> for PathParams<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(value)| PathParams(value))
            .map_err(|e: PathRejection| {
                ApiError::bad_request(format!(
                    "bad path ({}); see the admin API's routes in /admin/v1/openapi.json",
                    e.body_text()
                ))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Approval {
        permissions: Vec<String>,
    }

    fn refusal(body: &str) -> ApiError {
        parse_json::<Approval>(body.as_bytes()).unwrap_err()
    }

    #[test]
    fn a_body_of_the_wrong_shape_points_at_the_offending_value() {
        assert!(parse_json::<Approval>(br#"{"permissions": ["list stages"]}"#).is_ok());
        let wrong = refusal(r#"{"permissions": ["list stages", 5]}"#);
        assert_eq!(wrong.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(wrong.problems()[0].pointer, "/permissions/1");
        assert!(
            wrong.problems()[0].message.contains("invalid type"),
            "{wrong:?}"
        );
        let missing = refusal("{}");
        assert_eq!(missing.problems()[0].pointer, "");
        assert!(missing.problems()[0].message.contains("permissions"));
        for malformed in ["{", "", r#"{"permissions": []} trailing"#] {
            let error = refusal(malformed);
            assert_eq!(error.status(), StatusCode::BAD_REQUEST, "{malformed:?}");
            assert!(error.problems().is_empty());
        }
    }
}
