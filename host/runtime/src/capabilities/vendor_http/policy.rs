//! Vendor HTTP policy, pure (no I/O, no wasmtime): the operator's `VendorHttpPolicy`,
//! `Origin`, and the rules every hop of a vendor request must pass:
//! - the target origin (scheme, host, port) is one the manifest declares;
//! - an operator alias (`declared origin → actual origin`) redirects a declared origin to
//!   another server without the plugin knowing (staging, tests), and a redirect back to an
//!   alias target counts as its declared origin;
//! - loopback, private, link-local, unique-local (...) addresses are refused unless the
//!   operator allows private networks; a name is refused if any of its addresses is.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr};
use url::Url;

/// Operator policy for vendor HTTP.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct VendorHttpPolicy {
    /// Allow loopback, private, link-local and unique-local addresses (development, tests,
    /// vendors reached over a private link). Off in production.
    pub allow_private_networks: bool,
    /// Declared origin → actual origin, e.g. `"https://vendor.example"` →
    /// `"http://127.0.0.1:8080"`. The plugin keeps using the declared origin.
    pub aliases: BTreeMap<String, String>,
}

impl VendorHttpPolicy {
    pub fn with_alias(mut self, declared: impl Into<String>, actual: impl Into<String>) -> Self {
        self.aliases.insert(declared.into(), actual.into());
        self
    }

    pub fn allowing_private_networks(mut self, allow: bool) -> Self {
        self.allow_private_networks = allow;
        self
    }

    /// The rules of one plugin's requests: its declared origins under this policy. An alias
    /// map that does not parse is the operator's error, reported on use.
    pub(crate) fn rules(&self, declared: &[Origin]) -> Result<Rules, String> {
        Ok(Rules {
            declared: declared.to_vec(),
            aliases: self.parsed_aliases()?,
            allow_private_networks: self.allow_private_networks,
        })
    }

    fn parsed_aliases(&self) -> Result<Vec<(Origin, Origin)>, String> {
        self.aliases
            .iter()
            .map(|(from, to)| {
                let from = Origin::parse(from).map_err(|e| format!("alias {from:?}: {e}"))?;
                let to = Origin::parse(to).map_err(|e| format!("alias target {to:?}: {e}"))?;
                Ok((from, to))
            })
            .collect()
    }
}

/// A web origin: scheme, host and port.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct Origin {
    scheme: String,
    host: String,
    port: u16,
}

impl Origin {
    /// Parses `scheme://host[:port]` (a trailing `/` is tolerated; paths, queries, fragments
    /// and credentials are not).
    pub fn parse(s: &str) -> Result<Origin, String> {
        let url = Url::parse(s).map_err(|e| format!("not a URL ({e})"))?;
        if !url.username().is_empty() || url.password().is_some() {
            return Err("must not contain credentials".into());
        }
        if !matches!(url.path(), "" | "/") || url.query().is_some() || url.fragment().is_some() {
            return Err(
                "must be an origin (scheme://host[:port]) without path, query or fragment".into(),
            );
        }
        Origin::of_url(&url).ok_or_else(|| "must be an http or https URL with a host".into())
    }

    /// The origin of an http(s) URL.
    pub fn of_url(url: &Url) -> Option<Origin> {
        if !matches!(url.scheme(), "http" | "https") {
            return None;
        }
        Some(Origin {
            scheme: url.scheme().to_owned(),
            host: url.host_str()?.to_owned(),
            port: url.port_or_known_default()?,
        })
    }

    pub fn scheme(&self) -> &str {
        &self.scheme
    }

    pub fn host(&self) -> &str {
        &self.host
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    fn default_port(&self) -> bool {
        matches!(
            (self.scheme.as_str(), self.port),
            ("http", 80) | ("https", 443)
        )
    }

    /// `url` with this origin's scheme, host and port.
    fn rewrite(&self, url: &Url) -> Option<Url> {
        let mut out = url.clone();
        out.set_scheme(&self.scheme).ok()?;
        out.set_host(Some(&self.host)).ok()?;
        let port = if self.default_port() {
            None
        } else {
            Some(self.port)
        };
        out.set_port(port).ok()?;
        Some(out)
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.default_port() {
            write!(f, "{}://{}", self.scheme, self.host)
        } else {
            write!(f, "{}://{}:{}", self.scheme, self.host, self.port)
        }
    }
}

/// Whether an address may be reached without `allow_private_networks`.
pub fn is_public_ip(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public_v4(v4);
            }
            let s = v6.segments();
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00 // unique local fc00::/7
                || (s[0] & 0xffc0) == 0xfe80 // link-local fe80::/10
                || (s[0] & 0xffc0) == 0xfec0 // site-local (deprecated) fec0::/10
                || (s[0] == 0x64 && s[1] == 0xff9b) // NAT64 64:ff9b::/96 reaches IPv4 space
                || (s[0] == 0x2001 && s[1] == 0x0db8)) // documentation
        }
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let o = ip.octets();
    !(ip.is_private()
        || ip.is_loopback()
        || ip.is_link_local() // includes 169.254.169.254, the cloud metadata service
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || o[0] == 0 // "this network"
        || (o[0] == 100 && (o[1] & 0xc0) == 64) // carrier-grade NAT 100.64.0.0/10
        || (o[0] == 192 && o[1] == 0 && o[2] == 0) // IETF protocol assignments
        || (o[0] == 198 && (o[1] & 0xfe) == 18) // benchmarking 198.18.0.0/15
        || o[0] >= 240) // reserved
}

/// Whether a name may be reached, given every address it resolves to: one private answer
/// taints the name (the HTTP client would pick among them).
pub(crate) fn resolves_publicly(addrs: &[IpAddr]) -> bool {
    !addrs.is_empty() && addrs.iter().all(|ip| is_public_ip(*ip))
}

/// One plugin's vendor HTTP rules: its declared origins, the operator's aliases.
#[derive(Debug, Clone)]
pub(crate) struct Rules {
    declared: Vec<Origin>,
    aliases: Vec<(Origin, Origin)>,
    allow_private_networks: bool,
}

/// Where one allowed hop of a request goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Hop {
    /// The declared origin: what the plugin named, and what errors show.
    pub(crate) origin: Origin,
    /// The URL actually requested (the operator's alias applied).
    pub(crate) target: Url,
}

/// Why a hop may not be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum HopRefusal {
    #[error("only http and https URLs can be requested, not {scheme}:")]
    NotHttp { scheme: String },
    /// Shown to the plugin as the origin alone (`forbidden("https://other.example")`).
    #[error("{0}")]
    Undeclared(Origin),
    #[error("the operator's alias for {0} cannot be applied")]
    AliasUnusable(Origin),
}

impl Rules {
    /// Checks a hop to `url` (the first request or a redirect) against the declared origins
    /// and applies the operator's alias. Addresses are checked by whoever resolves them, with
    /// [`resolves_publicly`] / [`is_public_ip`], unless [`Rules::private_networks_allowed`].
    pub(crate) fn hop(&self, url: &Url) -> Result<Hop, HopRefusal> {
        let origin = Origin::of_url(url).ok_or_else(|| HopRefusal::NotHttp {
            scheme: url.scheme().to_owned(),
        })?;
        if !self.declared.contains(&origin) {
            return Err(HopRefusal::Undeclared(origin));
        }
        let target = match self.aliases.iter().find(|(from, _)| *from == origin) {
            Some((_, to)) => to
                .rewrite(url)
                .ok_or_else(|| HopRefusal::AliasUnusable(origin.clone()))?,
            None => url.clone(),
        };
        Ok(Hop { origin, target })
    }

    /// A redirect's URL in declared terms: a redirect to an alias target means its declared
    /// origin (the next [`Rules::hop`] checks and aliases it again).
    pub(crate) fn declared_url(&self, next: Url) -> Url {
        match Origin::of_url(&next).and_then(|o| self.aliases.iter().find(|(_, to)| *to == o)) {
            Some((from, _)) => from.rewrite(&next).unwrap_or(next),
            None => next,
        }
    }

    pub(crate) fn private_networks_allowed(&self) -> bool {
        self.allow_private_networks
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_parse_and_print() {
        let o = Origin::parse("https://Vendor.Example").unwrap();
        assert_eq!(o.to_string(), "https://vendor.example");
        assert_eq!(o.port(), 443);
        assert_eq!(Origin::parse("https://vendor.example/").unwrap(), o);
        assert_eq!(
            Origin::parse("http://127.0.0.1:8080").unwrap().to_string(),
            "http://127.0.0.1:8080"
        );
        assert_ne!(
            Origin::parse("http://vendor.example").unwrap(),
            o,
            "scheme matters"
        );
        assert_ne!(
            Origin::parse("https://vendor.example:8443").unwrap(),
            o,
            "port matters"
        );
        for bad in [
            "vendor.example",
            "https://vendor.example/api",
            "https://user:pw@vendor.example",
            "ftp://vendor.example",
            "https://vendor.example?x=1",
        ] {
            assert!(Origin::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn rewrite_keeps_path_and_query() {
        let to = Origin::parse("http://127.0.0.1:9999").unwrap();
        let url = Url::parse("https://vendor.example/a/b?c=d").unwrap();
        assert_eq!(
            to.rewrite(&url).unwrap().as_str(),
            "http://127.0.0.1:9999/a/b?c=d"
        );
    }

    #[test]
    fn private_addresses_are_recognised() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::",
        ] {
            assert!(!is_public_ip(ip.parse().unwrap()), "{ip}");
        }
        for ip in [
            "93.184.216.34",
            "8.8.8.8",
            "2606:2800:220:1:248:1893:25c8:1946",
        ] {
            assert!(is_public_ip(ip.parse().unwrap()), "{ip}");
        }
    }

    fn rules(policy: VendorHttpPolicy) -> Rules {
        let declared = [Origin::parse("https://vendor.example").unwrap()];
        policy.rules(&declared).expect("rules")
    }

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn only_declared_origins_are_allowed() {
        let r = rules(VendorHttpPolicy::default());
        let hop = r.hop(&url("https://vendor.example/a?b=c")).unwrap();
        assert_eq!(hop.origin.to_string(), "https://vendor.example");
        assert_eq!(hop.target.as_str(), "https://vendor.example/a?b=c");
        for other in [
            "http://vendor.example/a",
            "https://vendor.example:8443/a",
            "https://api.vendor.example/a",
        ] {
            let refused = r.hop(&url(other)).unwrap_err();
            assert!(matches!(refused, HopRefusal::Undeclared(_)), "{other}");
            assert_eq!(
                refused.to_string(),
                Origin::of_url(&url(other)).unwrap().to_string()
            );
        }
        assert_eq!(
            r.hop(&url("ftp://vendor.example/x"))
                .unwrap_err()
                .to_string(),
            "only http and https URLs can be requested, not ftp:"
        );
        assert!(!r.private_networks_allowed());
    }

    #[test]
    fn aliases_apply_to_hops_and_redirects_come_back_declared() {
        let r = rules(
            VendorHttpPolicy::default()
                .with_alias("https://vendor.example", "http://127.0.0.1:9999")
                .allowing_private_networks(true),
        );
        let hop = r.hop(&url("https://vendor.example/v1/jobs?x=1")).unwrap();
        assert_eq!(hop.origin.to_string(), "https://vendor.example");
        assert_eq!(hop.target.as_str(), "http://127.0.0.1:9999/v1/jobs?x=1");
        // A redirect to the alias target is the declared origin again; elsewhere stays put.
        assert_eq!(
            r.declared_url(url("http://127.0.0.1:9999/next")).as_str(),
            "https://vendor.example/next"
        );
        assert_eq!(
            r.declared_url(url("https://elsewhere.example/x")).as_str(),
            "https://elsewhere.example/x"
        );
        // The alias target itself is not declared: the plugin cannot name it directly.
        assert!(r.hop(&url("http://127.0.0.1:9999/x")).is_err());
        assert!(r.private_networks_allowed());
    }

    #[test]
    fn a_broken_alias_map_is_reported() {
        let bad = VendorHttpPolicy::default().with_alias("https://vendor.example", "not a url");
        let declared = [Origin::parse("https://vendor.example").unwrap()];
        let error = bad.rules(&declared).unwrap_err();
        assert!(error.starts_with("alias target \"not a url\""), "{error}");
    }

    #[test]
    fn a_name_with_any_private_address_is_refused() {
        let public: IpAddr = "93.184.216.34".parse().unwrap();
        let private: IpAddr = "10.0.0.1".parse().unwrap();
        assert!(resolves_publicly(&[public]));
        assert!(!resolves_publicly(&[public, private]));
        assert!(!resolves_publicly(&[]));
    }
}
