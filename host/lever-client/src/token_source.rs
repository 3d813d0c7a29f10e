//! Where an OAuth credential's access token comes from. The client never stores or refreshes
//! tokens itself: the owner of the connection does (the host keeps them encrypted and makes
//! refreshes single-flight across replicas), and the client asks it for a header per attempt.

use futures::future::BoxFuture;
use secrecy::SecretString;

use crate::LeverError;

/// The access tokens of one OAuth connection to Lever, for [`crate::Credential::OAuth`].
///
/// Implementations should be cheap to ask (a cached token) and refresh shortly *before*
/// expiry in [`access_token`](Self::access_token); [`refreshed`](Self::refreshed) covers the
/// token that Lever rejects anyway (revoked, clock skew).
pub trait AccessTokenSource: Send + Sync + 'static {
    /// The current access token (may refresh first when it is about to expire).
    ///
    /// An error is returned to the caller of the Lever operation as is, nothing is sent:
    /// e.g. [`LeverError::Reconnect`] when the connection's refresh token was refused, or
    /// [`LeverError::Unavailable`] when the token endpoint could not be reached.
    fn access_token(&self) -> BoxFuture<'_, Result<SecretString, LeverError>>;

    /// Lever answered 401 to `rejected`: return a newer token (refreshing unless another
    /// caller already did, i.e. unless the current token differs from `rejected`), or an
    /// error (e.g. [`LeverError::Reconnect`] when the connection needs reconnecting).
    ///
    /// The client calls this at most once per operation and resends the request once.
    fn refreshed(&self, rejected: &SecretString)
    -> BoxFuture<'_, Result<SecretString, LeverError>>;

    /// Stable id of the connection (e.g. the host's connection row id). The rate budget and
    /// the fingerprint are keyed by a hash of it, so a refreshed token keeps the same budget.
    fn connection_id(&self) -> &str;
}
