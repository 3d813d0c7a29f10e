//! Fulcrum's registered Lever OAuth app: the authorize URL, the code exchange and refresh.

use lever_model::ScopeSet;
use oauth2::basic::BasicClient;
use oauth2::{
    AuthType, AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointNotSet,
    EndpointSet, PkceCodeVerifier, RedirectUrl, RefreshToken, TokenUrl,
};
use secrecy::{ExposeSecret, SecretString};
use std::borrow::Cow;
use std::fmt;
use std::net::IpAddr;
use url::{Host, Url};

use super::http::TokenHttp;
use super::{OAuthError, TokenGrant};

/// Lever's production authorize endpoint (reference §0).
pub const LEVER_AUTHORIZE_URL: &str = "https://auth.lever.co/authorize";
/// Lever's production token endpoint.
pub const LEVER_TOKEN_URL: &str = "https://auth.lever.co/oauth/token";
/// The `audience` of Lever's production Data API.
pub const LEVER_AUDIENCE: &str = "https://api.lever.co/v1/";
/// Lever's sandbox account's authorize endpoint.
pub const LEVER_SANDBOX_AUTHORIZE_URL: &str = "https://sandbox-lever.auth0.com/authorize";
/// Lever's sandbox account's token endpoint.
pub const LEVER_SANDBOX_TOKEN_URL: &str = "https://sandbox-lever.auth0.com/oauth/token";
/// The `audience` of Lever's sandbox Data API (from public client code, not Lever's docs).
pub const LEVER_SANDBOX_AUDIENCE: &str = "https://api.sandbox.lever.co/v1/";

/// The PKCE code challenge sent in the authorize URL (S256).
pub use oauth2::PkceCodeChallenge as PkceChallenge;

/// A fresh PKCE pair: send `challenge` with the authorize URL, keep `verifier` (secret) until
/// the callback and pass it to [`OAuthApp::exchange_code`].
pub struct Pkce {
    pub challenge: PkceChallenge,
    pub verifier: SecretString,
}

impl Pkce {
    /// 32 random bytes, S256 (the `oauth2` crate's generator).
    pub fn new() -> Self {
        let (challenge, verifier) = PkceChallenge::new_random_sha256();
        Pkce {
            challenge,
            verifier: SecretString::from(verifier.secret().clone()),
        }
    }
}

impl Default for Pkce {
    fn default() -> Self {
        Pkce::new()
    }
}

impl fmt::Debug for Pkce {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pkce")
            .field("challenge", &self.challenge.as_str())
            .field("verifier", &"[REDACTED]")
            .finish()
    }
}

/// A random `state` value (CSRF protection) for [`OAuthApp::authorize_url`]: keep it with
/// the verifier and compare it with the callback's `state`.
pub fn new_state() -> String {
    CsrfToken::new_random().secret().clone()
}

/// Fulcrum's OAuth app at Lever. Fields are public for reading and adjusting; the token
/// calls check them again ([`OAuthApp::validate`]).
#[derive(Clone)]
pub struct OAuthApp {
    pub client_id: String,
    pub client_secret: SecretString,
    pub authorize_url: Url,
    pub token_url: Url,
    /// The Data API the tokens are for (Lever requires it on the authorize request).
    pub audience: String,
    http: TokenHttp,
}

type ConfiguredClient =
    BasicClient<EndpointSet, EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointSet>;

impl OAuthApp {
    /// An app with explicit endpoints (the local sandbox's, for instance). URLs must be
    /// `https`, or `http` on a loopback address: the client secret goes to `token_url`.
    pub fn new(
        client_id: impl Into<String>,
        client_secret: SecretString,
        authorize_url: &str,
        token_url: &str,
        audience: impl Into<String>,
    ) -> Result<Self, OAuthError> {
        let app = OAuthApp {
            client_id: client_id.into(),
            client_secret,
            authorize_url: parse_url("authorize", authorize_url)?,
            token_url: parse_url("token", token_url)?,
            audience: audience.into(),
            http: TokenHttp::new(&format!(
                "fulcrum-lever-client/{}",
                env!("CARGO_PKG_VERSION")
            ))?,
        };
        app.validate()?;
        Ok(app)
    }

    /// The app against Lever production (`auth.lever.co`, audience `https://api.lever.co/v1/`).
    pub fn lever(
        client_id: impl Into<String>,
        client_secret: SecretString,
    ) -> Result<Self, OAuthError> {
        OAuthApp::new(
            client_id,
            client_secret,
            LEVER_AUTHORIZE_URL,
            LEVER_TOKEN_URL,
            LEVER_AUDIENCE,
        )
    }

    /// The app against Lever's sandbox account (the one Lever's partner programme issues).
    pub fn lever_sandbox(
        client_id: impl Into<String>,
        client_secret: SecretString,
    ) -> Result<Self, OAuthError> {
        OAuthApp::new(
            client_id,
            client_secret,
            LEVER_SANDBOX_AUTHORIZE_URL,
            LEVER_SANDBOX_TOKEN_URL,
            LEVER_SANDBOX_AUDIENCE,
        )
    }

    /// Checks the (public) fields.
    pub fn validate(&self) -> Result<(), OAuthError> {
        if self.client_id.trim().is_empty() {
            return Err(OAuthError::config(
                "the OAuth client id is empty; copy it from the Lever app registration",
            ));
        }
        if self.client_secret.expose_secret().trim().is_empty() {
            return Err(OAuthError::config(
                "the OAuth client secret is empty; copy it from the Lever app registration",
            ));
        }
        if self.audience.trim().is_empty() {
            return Err(OAuthError::config(format!(
                "the OAuth audience is empty; Lever production's is {LEVER_AUDIENCE}"
            )));
        }
        check_url("authorize", &self.authorize_url)?;
        check_url("token", &self.token_url)
    }

    /// Where to send the admin to consent: Lever's documented parameters (`client_id`,
    /// `redirect_uri`, `response_type=code`, `state`, `audience`, `scope` space-separated)
    /// plus PKCE (`code_challenge`, `code_challenge_method=S256`). Lever requires a scope:
    /// pass a non-empty set, with [`lever_model::Scope::OfflineAccess`] for a refresh token.
    pub fn authorize_url(
        &self,
        redirect_uri: &Url,
        scopes: &ScopeSet,
        state: &str,
        pkce: &PkceChallenge,
    ) -> Url {
        let state = state.to_owned();
        let (url, _state) = self
            .client()
            .authorize_url(move || CsrfToken::new(state))
            .set_redirect_uri(Cow::Owned(RedirectUrl::from_url(redirect_uri.clone())))
            .add_scopes(
                scopes
                    .iter()
                    .map(|s| oauth2::Scope::new(s.as_str().to_owned())),
            )
            .add_extra_param("audience", self.audience.clone())
            .set_pkce_challenge(pkce.clone())
            .url();
        url
    }

    /// Exchanges the callback's `code` (with the `redirect_uri` used at authorize and the
    /// PKCE verifier kept since) for tokens.
    pub async fn exchange_code(
        &self,
        code: &str,
        redirect_uri: &Url,
        pkce_verifier: &SecretString,
    ) -> Result<TokenGrant, OAuthError> {
        self.validate()?;
        let code = SecretString::from(code.trim().to_owned());
        if code.expose_secret().is_empty() {
            return Err(OAuthError::config(
                "the authorization code is empty; pass the `code` parameter of Lever's callback",
            ));
        }
        check_verifier(pkce_verifier)?;
        let answer = self
            .client()
            .exchange_code(AuthorizationCode::new(code.expose_secret().to_owned()))
            .set_redirect_uri(Cow::Owned(RedirectUrl::from_url(redirect_uri.clone())))
            .set_pkce_verifier(PkceCodeVerifier::new(
                pkce_verifier.expose_secret().to_owned(),
            ))
            .request_async(&self.http)
            .await
            .map_err(|e| {
                OAuthError::from_request(e, &[&self.client_secret, &code, pkce_verifier])
            })?;
        TokenGrant::from_answer(&answer)
    }

    /// Exchanges a refresh token for new tokens. Lever rotates refresh tokens: store the
    /// grant's `refresh_token` before using the access token, and never refresh one
    /// connection twice at once (the loser gets `invalid_grant`).
    pub async fn refresh(&self, refresh_token: &SecretString) -> Result<TokenGrant, OAuthError> {
        self.validate()?;
        if refresh_token.expose_secret().trim().is_empty() {
            return Err(OAuthError::config(
                "the refresh token is empty; the connection has none (was offline_access \
                 granted?): connect again",
            ));
        }
        let token = RefreshToken::new(refresh_token.expose_secret().to_owned());
        let answer = self
            .client()
            .exchange_refresh_token(&token)
            .request_async(&self.http)
            .await
            .map_err(|e| OAuthError::from_request(e, &[&self.client_secret, refresh_token]))?;
        TokenGrant::from_answer(&answer)
    }

    /// Client credentials go in the form body, as Lever documents them.
    fn client(&self) -> ConfiguredClient {
        BasicClient::new(ClientId::new(self.client_id.clone()))
            .set_client_secret(ClientSecret::new(
                self.client_secret.expose_secret().to_owned(),
            ))
            .set_auth_uri(AuthUrl::from_url(self.authorize_url.clone()))
            .set_token_uri(TokenUrl::from_url(self.token_url.clone()))
            .set_auth_type(AuthType::RequestBody)
    }
}

impl fmt::Debug for OAuthApp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuthApp")
            .field("client_id", &self.client_id)
            .field("client_secret", &"[REDACTED]")
            .field("authorize_url", &self.authorize_url.as_str())
            .field("token_url", &self.token_url.as_str())
            .field("audience", &self.audience)
            .finish_non_exhaustive()
    }
}

/// The input is not echoed: a malformed URL may carry credentials.
fn parse_url(which: &str, text: &str) -> Result<Url, OAuthError> {
    Url::parse(text.trim()).map_err(|e| {
        OAuthError::config(format!(
            "the OAuth {which} URL is not a valid URL ({e}); Lever production's is {}",
            if which == "token" {
                LEVER_TOKEN_URL
            } else {
                LEVER_AUTHORIZE_URL
            }
        ))
    })
}

fn check_url(which: &str, url: &Url) -> Result<(), OAuthError> {
    let fail = |what: &str| Err(OAuthError::config(format!("the OAuth {which} URL {what}")));
    if !url.username().is_empty() || url.password().is_some() {
        return fail("must not contain credentials");
    }
    if url.fragment().is_some() {
        return fail("must not have a fragment");
    }
    let Some(host) = url.host() else {
        return fail("must have a host, e.g. https://auth.lever.co");
    };
    match url.scheme() {
        "https" => Ok(()),
        "http" if is_loopback(&host) => Ok(()),
        "http" => fail(
            "must use https (plain http is only accepted on a loopback address, for a local \
             sandbox)",
        ),
        _ => fail("must be https"),
    }
}

fn is_loopback(host: &Host<&str>) -> bool {
    match host {
        Host::Domain(d) => d.eq_ignore_ascii_case("localhost"),
        Host::Ipv4(ip) => IpAddr::V4(*ip).is_loopback(),
        Host::Ipv6(ip) => IpAddr::V6(*ip).is_loopback(),
    }
}

/// RFC 7636 §4.1: 43–128 unreserved characters. A wrong value would only fail at Lever.
fn check_verifier(verifier: &SecretString) -> Result<(), OAuthError> {
    let v = verifier.expose_secret();
    let unreserved = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_' | '~');
    if (43..=128).contains(&v.len()) && v.chars().all(unreserved) {
        Ok(())
    } else {
        Err(OAuthError::config(
            "the PKCE verifier is malformed (RFC 7636: 43 to 128 letters, digits, '-', '.', \
             '_' or '~'); pass the verifier of the Pkce made for this authorize URL",
        ))
    }
}
