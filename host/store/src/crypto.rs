//! Secrets at rest: XChaCha20-Poly1305 under one master key.
//!
//! Every ciphertext is bound to the row it lives in through the AEAD associated data, so a
//! ciphertext copied into another row (another tenant, another secret name) fails to decrypt
//! instead of silently handing one tenant's secret to another.
//!
//! Every row also records the id of the key that sealed it ([`MasterKey::id`], a fingerprint
//! of the key), so a [`Keyring`] holding the current key and, while rotating, the previous
//! one opens rows of either, and re-encryption finds the rows still under the old key.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use chacha20poly1305::aead::{Aead, Payload};
use chacha20poly1305::{Key, KeyInit, XChaCha20Poly1305, XNonce};
use rand::RngCore as _;
use secrecy::{ExposeSecret, SecretBox, SecretString};
use sha2::{Digest, Sha256};
use std::fmt;
use std::path::Path;

/// Environment variable holding the base64 master key.
pub const MASTER_KEY_ENV: &str = "FULCRUM_MASTER_KEY";
/// Environment variable naming a file that holds the base64 master key.
pub const MASTER_KEY_FILE_ENV: &str = "FULCRUM_MASTER_KEY_FILE";
/// Environment variable holding the previous master key (base64) while rotating to a new one.
pub const PREVIOUS_MASTER_KEY_ENV: &str = "FULCRUM_PREVIOUS_MASTER_KEY";
/// Environment variable naming a file that holds the previous master key.
pub const PREVIOUS_MASTER_KEY_FILE_ENV: &str = "FULCRUM_PREVIOUS_MASTER_KEY_FILE";

/// The key version of rows sealed before keys had ids: any loaded key may open them.
pub const LEGACY_KEY_VERSION: i64 = 1;

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
    #[error("cannot read master key file {path} (from {variable}): {error}")]
    KeyFile {
        variable: String,
        path: String,
        error: std::io::Error,
    },
    #[error(
        "cannot decrypt {what}: the master key is not the one it was encrypted with, or the stored ciphertext was altered or moved from another row; check FULCRUM_MASTER_KEY"
    )]
    Decrypt { what: String },
    #[error(
        "cannot decrypt {what}: it was encrypted with master key {stored:08x}, but the loaded master key is {loaded}; set FULCRUM_MASTER_KEY to the key it was encrypted with (while rotating, the old key goes in FULCRUM_PREVIOUS_MASTER_KEY)"
    )]
    KeyVersion {
        what: String,
        stored: i64,
        /// The ids of the loaded keys, e.g. `1a2b3c4d (current), 5e6f7a8b (previous)`.
        loaded: String,
    },
    #[error(
        "the previous master key is the current one ({id:08x}): generate a new key with `fulcrum keygen` and make it FULCRUM_MASTER_KEY"
    )]
    SameKey { id: i64 },
    #[error("cannot encrypt {what}")]
    Encrypt { what: String },
    #[error("decrypted {what} is not valid UTF-8")]
    NotUtf8 { what: String },
}

/// The key that seals every secret in the store. `Debug` never shows the key bytes.
pub struct MasterKey {
    key: SecretBox<[u8; KEY_LEN]>,
    id: i64,
}

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MasterKey")
            .field("id", &format_args!("{:08x}", self.id))
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
            id: key_id(&bytes),
            key: SecretBox::new(Box::new(bytes)),
        }
    }

    /// The key's id, recorded next to every ciphertext it seals (`key_version` columns) so
    /// a reader knows which key a row needs: 32 bits of a domain-separated SHA-256 of the key
    /// (says nothing usable about the key), never [`LEGACY_KEY_VERSION`].
    pub fn id(&self) -> i64 {
        self.id
    }

    /// The version recorded with ciphertexts sealed by this key: its [`MasterKey::id`].
    pub fn version(&self) -> i64 {
        self.id
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

    /// The previous master key while rotating: `FULCRUM_PREVIOUS_MASTER_KEY`, else the file
    /// named by `FULCRUM_PREVIOUS_MASTER_KEY_FILE`; `None` when neither is set.
    pub fn previous_from_env() -> Result<Option<Self>, CryptoError> {
        let inline = std::env::var(PREVIOUS_MASTER_KEY_ENV).ok();
        let file = std::env::var_os(PREVIOUS_MASTER_KEY_FILE_ENV);
        match Self::read_sources(
            inline.as_deref(),
            file.as_deref().map(Path::new),
            (PREVIOUS_MASTER_KEY_ENV, PREVIOUS_MASTER_KEY_FILE_ENV),
        ) {
            Ok(key) => Ok(Some(key)),
            Err(CryptoError::MissingKey) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The rule behind [`MasterKey::from_env`], separated so it can be tested without
    /// mutating the process environment.
    pub fn from_sources(inline: Option<&str>, file: Option<&Path>) -> Result<Self, CryptoError> {
        Self::read_sources(inline, file, (MASTER_KEY_ENV, MASTER_KEY_FILE_ENV))
    }

    fn read_sources(
        inline: Option<&str>,
        file: Option<&Path>,
        (inline_name, file_name): (&str, &str),
    ) -> Result<Self, CryptoError> {
        if let Some(text) = inline.filter(|t| !t.trim().is_empty()) {
            return Self::from_base64(text, inline_name);
        }
        if let Some(path) = file {
            let text = std::fs::read_to_string(path).map_err(|error| CryptoError::KeyFile {
                variable: file_name.to_owned(),
                path: path.display().to_string(),
                error,
            })?;
            return Self::from_base64(&text, &format!("{file_name} ({})", path.display()));
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

    /// Open a ciphertext sealed for the row identified by `aad`, recorded with `key_version`
    /// (this key's id, or [`LEGACY_KEY_VERSION`]).
    pub fn decrypt(
        &self,
        aad: &RowIdentity,
        ciphertext: &[u8],
        nonce: &[u8],
        key_version: i64,
    ) -> Result<Vec<u8>, CryptoError> {
        if key_version != self.id && key_version != LEGACY_KEY_VERSION {
            return Err(CryptoError::KeyVersion {
                what: aad.describe.clone(),
                stored: key_version,
                loaded: format!("{:08x}", self.id),
            });
        }
        self.open(aad, ciphertext, nonce)
            .ok_or_else(|| CryptoError::Decrypt {
                what: aad.describe.clone(),
            })
    }

    /// The AEAD open alone: `None` when this key did not seal it for this row.
    fn open(&self, aad: &RowIdentity, ciphertext: &[u8], nonce: &[u8]) -> Option<Vec<u8>> {
        if nonce.len() != NONCE_LEN {
            return None;
        }
        self.cipher()
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: ciphertext,
                    aad: &aad.bytes,
                },
            )
            .ok()
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
        secret_text(aad, self.decrypt(aad, ciphertext, nonce, key_version)?)
    }
}

fn secret_text(aad: &RowIdentity, bytes: Vec<u8>) -> Result<SecretString, CryptoError> {
    let text = String::from_utf8(bytes).map_err(|_| CryptoError::NotUtf8 {
        what: aad.describe.clone(),
    })?;
    Ok(SecretString::from(text))
}

/// 32 bits of SHA-256 over a fixed label and the key: tells keys apart without revealing
/// anything usable about them.
fn key_id(bytes: &[u8; KEY_LEN]) -> i64 {
    let digest = Sha256::new()
        .chain_update(b"fulcrum master key id\0")
        .chain_update(bytes)
        .finalize();
    let id = i64::from(u32::from_be_bytes([
        digest[0], digest[1], digest[2], digest[3],
    ]));
    // Ids 0 and 1 never name a key: 1 marks rows sealed before keys had ids.
    if id <= LEGACY_KEY_VERSION { id + 2 } else { id }
}

/// The keys a store opens rows with: the current one seals every write; the previous one
/// (while rotating) still opens the rows it sealed until they are re-encrypted.
#[derive(Debug)]
pub struct Keyring {
    current: MasterKey,
    previous: Option<MasterKey>,
}

impl Keyring {
    pub fn new(current: MasterKey) -> Self {
        Self {
            current,
            previous: None,
        }
    }

    /// Also open rows sealed with `previous`; refused when it is the current key.
    pub fn with_previous(mut self, previous: MasterKey) -> Result<Self, CryptoError> {
        if previous.id == self.current.id {
            return Err(CryptoError::SameKey { id: previous.id });
        }
        self.previous = Some(previous);
        Ok(self)
    }

    /// The version new ciphertexts are recorded with: the current key's id.
    pub fn version(&self) -> i64 {
        self.current.id
    }

    /// The previous key's id, while rotating.
    pub fn previous_version(&self) -> Option<i64> {
        self.previous.as_ref().map(MasterKey::id)
    }

    /// Seal with the current key; returns (ciphertext, nonce).
    pub fn encrypt(
        &self,
        aad: &RowIdentity,
        plaintext: &[u8],
    ) -> Result<(Vec<u8>, Vec<u8>), CryptoError> {
        self.current.encrypt(aad, plaintext)
    }

    /// Seal a UTF-8 secret with the current key.
    pub fn encrypt_secret(
        &self,
        aad: &RowIdentity,
        plaintext: &SecretString,
    ) -> Result<(Vec<u8>, Vec<u8>), CryptoError> {
        self.current.encrypt_secret(aad, plaintext)
    }

    /// Open a row sealed under `key_version`: with the key of that id, or (a row from before
    /// key ids) with whichever loaded key sealed it.
    pub fn decrypt(
        &self,
        aad: &RowIdentity,
        ciphertext: &[u8],
        nonce: &[u8],
        key_version: i64,
    ) -> Result<Vec<u8>, CryptoError> {
        let keys = std::iter::once(&self.current).chain(self.previous.as_ref());
        let mut candidates = keys
            .filter(|key| key.id == key_version || key_version == LEGACY_KEY_VERSION)
            .peekable();
        if candidates.peek().is_none() {
            return Err(CryptoError::KeyVersion {
                what: aad.describe.clone(),
                stored: key_version,
                loaded: self.describe_ids(),
            });
        }
        candidates
            .find_map(|key| key.open(aad, ciphertext, nonce))
            .ok_or_else(|| CryptoError::Decrypt {
                what: aad.describe.clone(),
            })
    }

    /// Open a UTF-8 secret.
    pub fn decrypt_secret(
        &self,
        aad: &RowIdentity,
        ciphertext: &[u8],
        nonce: &[u8],
        key_version: i64,
    ) -> Result<SecretString, CryptoError> {
        secret_text(aad, self.decrypt(aad, ciphertext, nonce, key_version)?)
    }

    fn describe_ids(&self) -> String {
        match &self.previous {
            None => format!("{:08x}", self.current.id),
            Some(previous) => format!(
                "{:08x} (current), {:08x} (previous)",
                self.current.id, previous.id
            ),
        }
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

    #[test]
    fn a_keyring_opens_rows_of_its_current_and_previous_key() {
        let (old, new) = (MasterKey::generate(), MasterKey::generate());
        assert_ne!(old.id(), new.id());
        assert!(old.id() > LEGACY_KEY_VERSION);
        let row = RowIdentity::new("t", &["a"]);
        let (old_ct, old_nonce) = old.encrypt(&row, b"sealed by old").unwrap();
        let same_old = MasterKey::from_base64(old.to_base64().expose_secret(), "x").unwrap();
        let ring = Keyring::new(new).with_previous(same_old).unwrap();
        assert_eq!(
            ring.decrypt(&row, &old_ct, &old_nonce, old.id()).unwrap(),
            b"sealed by old"
        );
        // Rows from before key ids (version 1) open with whichever loaded key sealed them.
        assert_eq!(
            ring.decrypt(&row, &old_ct, &old_nonce, LEGACY_KEY_VERSION)
                .unwrap(),
            b"sealed by old"
        );
        let (new_ct, new_nonce) = ring.encrypt(&row, b"sealed by new").unwrap();
        assert_eq!(
            ring.decrypt(&row, &new_ct, &new_nonce, ring.version())
                .unwrap(),
            b"sealed by new"
        );
        // The id is checked: the new key's ciphertext under the old id is not opened.
        assert!(matches!(
            ring.decrypt(&row, &new_ct, &new_nonce, old.id()),
            Err(CryptoError::Decrypt { .. })
        ));
        // A row of a key not loaded names that key and the loaded ones.
        let err = Keyring::new(MasterKey::generate())
            .decrypt(&row, &old_ct, &old_nonce, old.id())
            .unwrap_err();
        assert!(matches!(err, CryptoError::KeyVersion { .. }), "{err:?}");
        assert!(
            err.to_string().contains(&format!("{:08x}", old.id())),
            "{err}"
        );
        // The previous key must be another key.
        let again = MasterKey::from_base64(old.to_base64().expose_secret(), "x").unwrap();
        assert!(matches!(
            Keyring::new(old).with_previous(again),
            Err(CryptoError::SameKey { .. })
        ));
    }
}
