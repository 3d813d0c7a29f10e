//! What the admin API and the ingress accept as a JSON body: `application/json` or an
//! `application/*+json` type, parameters (`; charset=utf-8`) ignored, case-insensitive.

use axum::http::{HeaderMap, header};

/// Whether the request's `Content-Type` names JSON (see the module doc).
pub(crate) fn is_json(headers: &HeaderMap) -> bool {
    let Some(Ok(content_type)) = headers.get(header::CONTENT_TYPE).map(|v| v.to_str()) else {
        return false;
    };
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

#[cfg(test)]
mod tests {
    use super::is_json;
    use axum::http::{HeaderMap, HeaderValue, header};

    fn with(content_type: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_str(content_type).unwrap(),
        );
        headers
    }

    #[test]
    fn json_and_json_suffixed_application_types_only() {
        assert!(is_json(&with("application/json")));
        assert!(is_json(&with("Application/JSON; charset=utf-8")));
        assert!(is_json(&with("application/vnd.lever+json")));
        assert!(!is_json(&with("text/plain")));
        assert!(!is_json(&with("text/x+json")));
        assert!(!is_json(&with("application/jsonx")));
        assert!(!is_json(&HeaderMap::new()));
    }
}
