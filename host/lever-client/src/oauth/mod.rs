//! Lever OAuth (reference §1.2): the authorization-code flow with PKCE and refresh-token
//! rotation, built on the [`oauth2`] crate. These are building blocks: the caller keeps
//! `state` and the PKCE verifier between the redirect and the callback, stores the
//! [`TokenGrant`] (encrypted), and serialises refreshes of one connection, because Lever
//! rotates the refresh token on every use.
//!
//! ```no_run
//! # async fn demo(app: lever_client::oauth::OAuthApp, redirect: url::Url) -> Result<(), lever_client::oauth::OAuthError> {
//! use lever_client::lever_model::{Permission, Scope, ScopeSet};
//! use lever_client::oauth::{Pkce, new_state};
//!
//! let pkce = Pkce::new();
//! let state = new_state();
//! let mut scopes = ScopeSet::covering([Permission::ListOpportunities]);
//! scopes.insert(Scope::OfflineAccess); // for a refresh token
//! let url = app.authorize_url(&redirect, &scopes, &state, &pkce.challenge);
//! // ... redirect the admin to `url`; the callback brings `code` and `state` back ...
//! # let code = String::new();
//! let grant = app.exchange_code(&code, &redirect, &pkce.verifier).await?;
//! if let Some(refresh) = &grant.refresh_token {
//!     let rotated = app.refresh(refresh).await?; // store rotated.refresh_token
//! }
//! # Ok(()) }
//! ```

mod app;
mod error;
mod grant;
mod http;

pub use app::{
    LEVER_AUDIENCE, LEVER_AUTHORIZE_URL, LEVER_SANDBOX_AUDIENCE, LEVER_SANDBOX_AUTHORIZE_URL,
    LEVER_SANDBOX_TOKEN_URL, LEVER_TOKEN_URL, OAuthApp, Pkce, PkceChallenge, new_state,
};
pub use error::OAuthError;
pub use grant::{DEFAULT_TOKEN_LIFETIME, TokenGrant};
pub use http::TOKEN_REQUEST_TIMEOUT;

#[cfg(test)]
mod tests;
