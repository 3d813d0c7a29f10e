//! Client configuration with Lever's documented limits as defaults.

use std::time::Duration;
use url::Url;

use crate::LeverError;

/// Lever's production Data API root.
pub const PRODUCTION_BASE_URL: &str = "https://api.lever.co/v1";

/// Lever's maximum `limit` for list endpoints.
pub const MAX_PAGE_SIZE: u32 = 100;

#[derive(Clone, Debug)]
pub struct ClientConfig {
    /// Data API root, e.g. `https://api.lever.co/v1` or `http://127.0.0.1:PORT/v1`
    /// (a trailing slash is optional).
    pub base_url: Url,
    /// Steady request rate per credential (Lever: 10/s).
    pub rate_per_second: u32,
    /// Burst size per credential (Lever: 20).
    pub burst: u32,
    /// Whole-request timeout, body included.
    pub request_timeout: Duration,
    /// Retries after the first attempt; 0 disables retrying.
    pub max_retries: usize,
    pub min_backoff: Duration,
    pub max_backoff: Duration,
    /// `limit` sent on list requests, 1..=100.
    pub page_size: u32,
    pub user_agent: String,
}

impl ClientConfig {
    /// Defaults: 10 req/s, burst 20, 30 s timeout, 5 retries backing off 200 ms .. 10 s,
    /// pages of 100.
    pub fn new(base_url: &str) -> Result<Self, LeverError> {
        // The input is not echoed: a malformed URL may still carry a key in its userinfo.
        let base_url = Url::parse(base_url).map_err(|e| LeverError::Config {
            message: format!(
                "the Lever base URL is not a valid URL ({e}); use e.g. {PRODUCTION_BASE_URL}"
            ),
        })?;
        let config = ClientConfig {
            base_url,
            rate_per_second: 10,
            burst: 20,
            request_timeout: Duration::from_secs(30),
            max_retries: 5,
            min_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(10),
            page_size: MAX_PAGE_SIZE,
            user_agent: format!("fulcrum-lever-client/{}", env!("CARGO_PKG_VERSION")),
        };
        config.validate()?;
        Ok(config)
    }

    /// Checks the fields; fields are public, so the client calls this again when built.
    pub fn validate(&self) -> Result<(), LeverError> {
        let url = &self.base_url;
        let fail = |what: &str| {
            Err(LeverError::Config {
                message: format!("Lever base URL {}: {what}", display_url(url)),
            })
        };
        if !matches!(url.scheme(), "https" | "http") {
            return fail("must be http or https");
        }
        if url.cannot_be_a_base() || url.host().is_none() {
            return fail("must have a host, e.g. https://api.lever.co/v1");
        }
        if !url.username().is_empty() || url.password().is_some() {
            // A key in the URL would end up in logs and error messages.
            return fail("must not contain credentials; pass them as a Credential");
        }
        if url.query().is_some() || url.fragment().is_some() {
            return fail("must not have a query or fragment");
        }
        if self.page_size == 0 || self.page_size > MAX_PAGE_SIZE {
            return Err(LeverError::Config {
                message: format!(
                    "page_size {} is out of range: Lever accepts 1..={MAX_PAGE_SIZE}",
                    self.page_size
                ),
            });
        }
        if self.rate_per_second == 0 || self.burst == 0 {
            return Err(LeverError::Config {
                message: "rate_per_second and burst must be at least 1 (Lever: 10 and 20)".into(),
            });
        }
        if self.request_timeout.is_zero() {
            return Err(LeverError::Config {
                message: "request_timeout must be greater than zero".into(),
            });
        }
        if self.min_backoff > self.max_backoff {
            return Err(LeverError::Config {
                message: "min_backoff must not exceed max_backoff".into(),
            });
        }
        Ok(())
    }
}

/// The URL without userinfo, for messages.
fn display_url(url: &Url) -> String {
    let mut u = url.clone();
    let _ = u.set_username("");
    let _ = u.set_password(None);
    u.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_match_lever() {
        let c = ClientConfig::new(PRODUCTION_BASE_URL).unwrap();
        assert_eq!((c.rate_per_second, c.burst, c.page_size), (10, 20, 100));
        assert_eq!(c.request_timeout, Duration::from_secs(30));
        assert_eq!(c.max_retries, 5);
        assert_eq!(c.min_backoff, Duration::from_millis(200));
        assert_eq!(c.max_backoff, Duration::from_secs(10));
        assert!(c.user_agent.starts_with("fulcrum-lever-client/"));
        ClientConfig::new("http://127.0.0.1:8080/v1/").unwrap();
    }

    #[test]
    fn bad_urls_are_config_errors() {
        for bad in [
            "not a url",
            "ftp://api.lever.co/v1",
            "mailto:x@y",
            "https://api.lever.co/v1?x=1",
        ] {
            assert!(
                matches!(ClientConfig::new(bad), Err(LeverError::Config { .. })),
                "{bad}"
            );
        }
        let err = ClientConfig::new("https://secretkey123:@api.lever.co/v1").unwrap_err();
        assert!(matches!(err, LeverError::Config { .. }));
        assert!(!err.to_string().contains("secretkey123"), "{err}");
    }

    #[test]
    fn out_of_range_numbers_are_rejected() {
        let mut c = ClientConfig::new(PRODUCTION_BASE_URL).unwrap();
        c.page_size = 101;
        assert!(c.validate().is_err());
        c.page_size = 50;
        c.rate_per_second = 0;
        assert!(c.validate().is_err());
    }
}
