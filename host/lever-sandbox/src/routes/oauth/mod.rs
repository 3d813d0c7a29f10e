//! Lever's OAuth server over HTTP (Lever: `auth.lever.co`, run on Auth0): `/authorize` with
//! its consent page, `/oauth/token`, Settings → Authorized Apps, and the `/_sandbox` control
//! endpoints for apps, grants and the token lifetime.

mod authorize;
mod control;
mod pages;
mod token;

use crate::state::Shared;
use axum::Router;
use axum::routing::{delete, get, post};

pub fn router() -> Router<Shared> {
    Router::new()
        .route("/authorize", get(authorize::authorize))
        .route("/authorize/decision", post(authorize::decide))
        .route("/oauth/token", post(token::token))
        .route("/settings/authorized-apps", get(control::settings_page))
        .route(
            "/settings/authorized-apps/{client_id}/revoke",
            post(control::settings_revoke),
        )
        .route(
            "/_sandbox/oauth-apps",
            get(control::list_apps).post(control::create_app),
        )
        .route("/_sandbox/authorized-apps", get(control::authorized_apps))
        .route(
            "/_sandbox/authorized-apps/{client_id}",
            delete(control::revoke_app),
        )
        .route(
            "/_sandbox/oauth/config",
            get(control::get_config).put(control::put_config),
        )
}

/// The parameters of a query string or form body. OAuth forbids repeating a parameter
/// (RFC 6749 §3.1); empty values count as missing.
pub(super) struct Params(Vec<(String, String)>);

impl Params {
    pub fn parse(input: &[u8]) -> Self {
        Params(url::form_urlencoded::parse(input).into_owned().collect())
    }

    pub fn from_pairs(pairs: Vec<(String, String)>) -> Self {
        Params(pairs)
    }

    /// `Err` names the repeated parameter, ready for an `error_description`.
    pub fn one(&self, name: &str) -> Result<Option<&str>, String> {
        let mut found = self.0.iter().filter(|(k, _)| k == name);
        match (found.next(), found.next()) {
            (Some(_), Some(_)) => Err(format!("Parameter '{name}' was sent more than once")),
            (Some((_, v)), None) if !v.is_empty() => Ok(Some(v.as_str())),
            _ => Ok(None),
        }
    }

    /// Like [`Params::one`], but missing is an error too.
    pub fn required(&self, name: &str) -> Result<&str, String> {
        self.one(name)?
            .ok_or_else(|| format!("Missing required parameter: {name}"))
    }
}

#[cfg(test)]
mod tests {
    use super::Params;

    #[test]
    fn params_refuse_repeats_and_treat_empty_as_missing() {
        let p = Params::parse(b"a=1&b=&c=x%20y&c=z&d=a+b");
        assert_eq!(p.one("a"), Ok(Some("1")));
        assert_eq!(p.one("b"), Ok(None));
        assert_eq!(p.one("d"), Ok(Some("a b")));
        assert!(p.one("c").unwrap_err().contains("'c'"));
        assert_eq!(
            p.required("zz").unwrap_err(),
            "Missing required parameter: zz"
        );
    }
}
