//! Secrets at rest: XChaCha20-Poly1305 under one master key.
//!
//! Every ciphertext is bound to the row it lives in through the AEAD associated data, so a
//! ciphertext copied into another row (another tenant, another secret name) fails to decrypt
//! instead of silently handing one tenant's secret to another.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use chacha20poly1305::aead::{Aead, Payload};
use chacha20poly1305::{Key, KeyInit, XChaCha20Poly1305, XNonce};
use rand::RngCore as _;
use secrecy::{ExposeSecret, SecretBox, SecretString};
use std::fmt;
use std::path::Path;

/// Environment variable holding the base64 master key.
pub const MASTER_KEY_ENV: &str = "FULCRUM_MASTER_KEY";
/// Environment variable naming a file that holds the base64 master key.
pub const MASTER_KEY_FILE_ENV: &str = "FULCRUM_MASTER_KEY_FILE";

/// Length of an XChaCha20-Poly1305 nonce.
pub const NONCE_LEN: usize = 24;
const KEY_LEN: usize = 32;

/// Why a master key could not be loaded or a secret could not be sealed/opened.
#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    #[error(
        "no master key: set FULCRUM_MASTER_KEY (base64 of 32 bytes) or FULCRUM_MASTER_KEY_FILE (a file holding it); generate one with `fulcrum keygen`"
    )]
    MissingKey,
    #[error("{source_name} is not valid base64 of 32 bytes; generate one with `fulcrum keygen`")]
    InvalidKey { source_name: String },
    #[error("cannot read master key file {path} (from FULCRUM_MASTER_KEY_FILE): {error}")]
    KeyFile { path: String, error: std::io::Error },
    #[error(
        "cannot decrypt {what}: the master key is not the one it was encrypted with, or the stored ciphertext was altered or moved from another row; check FULCRUM_MASTER_KEY"
    )]
    Decrypt { what: String },
    #[error(
        "cannot decrypt {what}: it was encrypted with master key version {stored}, but the loaded key is version {loaded}; load the matching key"
    )]
    KeyVersion {
        what: String,
        stored: i64,
        loaded: i64,
    },
    #[error("cannot encrypt {what}")]
    Encrypt { what: String },
    #[error("decrypted {what} is not valid UTF-8")]
    NotUtf8 { what: String },
}

/// The key that seals every secret in the store. `Debug` never shows the key bytes.
pub struct MasterKey {
    key: SecretBox<[u8; KEY_LEN]>,
    version: i64,
}

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MasterKey")
            .field("version", &self.version)
            .field("key", &"[redacted]")
            .finish()
    }
}

impl MasterKey {
    /// A fresh random key (for `fulcrum keygen` and tests).
    pub fn generate() -> Self {
        let mut bytes = [0u8; KEY_LEN];
        rand::rng().fill_bytes(&mut bytes);
        Self::from_bytes(bytes)
    }

    fn from_bytes(bytes: [u8; KEY_LEN]) -> Self {
        Self {
            key: SecretBox::new(Box::new(bytes)),
            version: 1,
        }
    }

    /// Tag this key with a version, recorded next to every ciphertext, so rotation can tell
    /// which key a row needs.
    pub fn with_version(mut self, version: i64) -> Self {
        self.version = version;
        self
    }

    /// The version recorded with ciphertexts sealed by this key.
    pub fn version(&self) -> i64 {
        self.version
    }

    /// Parse base64 of exactly 32 bytes; `source_name` names where it came from in errors.
    pub fn from_base64(text: &str, source_name: &str) -> Result<Self, CryptoError> {
        let invalid = || CryptoError::InvalidKey {
            source_name: source_name.to_owned(),
        };
        let decoded = B64.decode(text.trim()).map_err(|_| invalid())?;
        let bytes: [u8; KEY_LEN] = decoded.try_into().map_err(|_| invalid())?;
        Ok(Self::from_bytes(bytes))
    }

    /// The key as base64, for `fulcrum keygen` to print once.
    pub fn to_base64(&self) -> SecretString {
        SecretString::from(B64.encode(self.key.expose_secret()))
    }

    /// Load from `FULCRUM_MASTER_KEY`, else from the file named by `FULCRUM_MASTER_KEY_FILE`.
    pub fn from_env() -> Result<Self, CryptoError> {
        let inline = std::env::var(MASTER_KEY_ENV).ok();
        let file = std::env::var_os(MASTER_KEY_FILE_ENV);
        Self::from_sources(inline.as_deref(), file.as_deref().map(Path::new))
    }

    /// The rule behind [`MasterKey::from_env`], separated so it can be tested without
    /// mutating the process environment.
    pub fn from_sources(inline: Option<&str>, file: Option<&Path>) -> Result<Self, CryptoError> {
        if let Some(text) = inline.filter(|t| !t.trim().is_empty()) {
            return Self::from_base64(text, MASTER_KEY_ENV);
        }
        if let Some(path) = file {
            let text = std::fs::read_to_string(path).map_err(|error| CryptoError::KeyFile {
                path: path.display().to_string(),
                error,
            })?;
            return Self::from_base64(
                &text,
                &format!("{MASTER_KEY_FILE_ENV} ({})", path.display()),
            );
        }
        Err(CryptoError::MissingKey)
    }

    fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new(Key::from_slice(self.key.expose_secret()))
    }

    /// Seal `plaintext` for the row identified by `aad`; returns (ciphertext, nonce).
    pub fn encrypt(
        &self,
        aad: &RowIdentity,
        plaintext: &[u8],
    ) -> Result<(Vec<u8>, Vec<u8>), CryptoError> {
        let mut nonce = [0u8; NONCE_LEN];
        rand::rng().fill_bytes(&mut nonce);
        let ciphertext = self
            .cipher()
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: plaintext,
                    aad: &aad.bytes,
                },
            )
            .map_err(|_| CryptoError::Encrypt {
                what: aad.describe.clone(),
            })?;
        Ok((ciphertext, nonce.to_vec()))
    }

    /// Open a ciphertext sealed for the row identified by `aad`.
    pub fn decrypt(
        &self,
        aad: &RowIdentity,
        ciphertext: &[u8],
        nonce: &[u8],
        key_version: i64,
    ) -> Result<Vec<u8>, CryptoError> {
        if key_version != self.version {
            return Err(CryptoError::KeyVersion {
                what: aad.describe.clone(),
                stored: key_version,
                loaded: self.version,
            });
        }
        let decrypt_err = || CryptoError::Decrypt {
            what: aad.describe.clone(),
        };
        if nonce.len() != NONCE_LEN {
            return Err(decrypt_err());
        }
        self.cipher()
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: ciphertext,
                    aad: &aad.bytes,
                },
            )
            .map_err(|_| decrypt_err())
    }

    /// Seal a UTF-8 secret.
    pub fn encrypt_secret(
        &self,
        aad: &RowIdentity,
        plaintext: &SecretString,
    ) -> Result<(Vec<u8>, Vec<u8>), CryptoError> {
        self.encrypt(aad, plaintext.expose_secret().as_bytes())
    }

    /// Open a UTF-8 secret.
    pub fn decrypt_secret(
        &self,
        aad: &RowIdentity,
        ciphertext: &[u8],
        nonce: &[u8],
        key_version: i64,
    ) -> Result<SecretString, CryptoError> {
        let bytes = self.decrypt(aad, ciphertext, nonce, key_version)?;
        let text = String::from_utf8(bytes).map_err(|_| CryptoError::NotUtf8 {
            what: aad.describe.clone(),
        })?;
        Ok(SecretString::from(text))
    }
}

/// Associated data naming the table and row a ciphertext belongs to.
#[derive(Debug, Clone)]
pub struct RowIdentity {
    bytes: Vec<u8>,
    describe: String,
}

impl RowIdentity {
    /// Length-prefix every part so no two different identities encode to the same bytes.
    pub fn new(table: &str, parts: &[&str]) -> Self {
        let mut bytes = Vec::new();
        for part in std::iter::once(&table).chain(parts.iter()) {
            let len = u32::try_from(part.len()).unwrap_or(u32::MAX);
            bytes.extend_from_slice(&len.to_be_bytes());
            bytes.extend_from_slice(part.as_bytes());
        }
        Self {
            bytes,
            describe: format!("{table} row ({})", parts.join(", ")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_binding() {
        let key = MasterKey::generate();
        let row = RowIdentity::new("t", &["a"]);
        let (ct, nonce) = key.encrypt(&row, b"hello").unwrap();
        assert_eq!(key.decrypt(&row, &ct, &nonce, 1).unwrap(), b"hello");
        let other = RowIdentity::new("t", &["b"]);
        assert!(matches!(
            key.decrypt(&other, &ct, &nonce, 1),
            Err(CryptoError::Decrypt { .. })
        ));
        // Length prefixes keep ("ab","c") and ("a","bc") apart.
        assert_ne!(
            RowIdentity::new("t", &["ab", "c"]).bytes,
            RowIdentity::new("t", &["a", "bc"]).bytes
        );
    }

    #[test]
    fn key_loading_errors_say_what_to_do() {
        let err = MasterKey::from_sources(Some("not base64!"), None).unwrap_err();
        assert_eq!(
            err.to_string(),
            "FULCRUM_MASTER_KEY is not valid base64 of 32 bytes; generate one with `fulcrum keygen`"
        );
        let short = B64.encode([0u8; 16]);
        assert!(MasterKey::from_sources(Some(&short), None).is_err());
        assert!(
            MasterKey::from_sources(None, None)
                .unwrap_err()
                .to_string()
                .contains("fulcrum keygen")
        );
    }

    #[test]
    fn key_from_file_and_debug_redacts() {
        let key = MasterKey::generate();
        let b64 = key.to_base64();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("key");
        std::fs::write(&path, format!("{}\n", b64.expose_secret())).unwrap();
        let loaded = MasterKey::from_sources(None, Some(&path)).unwrap();
        let row = RowIdentity::new("t", &["x"]);
        let (ct, nonce) = key.encrypt(&row, b"s").unwrap();
        assert_eq!(loaded.decrypt(&row, &ct, &nonce, 1).unwrap(), b"s");
        let dbg = format!("{loaded:?}");
        assert!(dbg.contains("redacted"));
        assert!(!dbg.contains(b64.expose_secret()));
        let missing = MasterKey::from_sources(None, Some(&dir.path().join("nope"))).unwrap_err();
        assert!(missing.to_string().contains("FULCRUM_MASTER_KEY_FILE"));
    }
}
