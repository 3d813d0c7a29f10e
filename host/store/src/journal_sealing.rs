//! Effect journal answers at rest: sealed under the master key like secrets, because a
//! journaled Lever answer (a read of a candidate, the opportunity a write returned) is
//! candidate data. Each answer is bound to its `(event_id, call_seq)` row. Rows written
//! before migration 0010 keep their plaintext `response` and still read.

use crate::crypto::{Keyring, RowIdentity};
use crate::{Result, StoreError, parse_json};
use serde_json::Value;

/// The sealed-answer columns of an `effect_journal` row (all NULL on older rows).
#[derive(Debug, Default, sqlx::FromRow)]
pub(crate) struct SealedColumns {
    pub(crate) response_ciphertext: Option<Vec<u8>>,
    pub(crate) response_nonce: Option<Vec<u8>>,
    pub(crate) response_key_version: Option<i64>,
}

/// A sealed answer, ready to store.
pub(crate) struct SealedResponse {
    pub(crate) ciphertext: Vec<u8>,
    pub(crate) nonce: Vec<u8>,
    pub(crate) key_version: i64,
}

pub(crate) fn journal_identity(event_id: i64, call_seq: i64) -> RowIdentity {
    RowIdentity::new(
        "effect_journal",
        &[event_id.to_string().as_str(), call_seq.to_string().as_str()],
    )
}

/// Seals `response` for row `(event_id, call_seq)` with the current key.
pub(crate) fn seal_response(
    keys: &Keyring,
    event_id: i64,
    call_seq: i64,
    response: &Value,
) -> Result<SealedResponse> {
    let (ciphertext, nonce) = keys.encrypt(
        &journal_identity(event_id, call_seq),
        response.to_string().as_bytes(),
    )?;
    Ok(SealedResponse {
        ciphertext,
        nonce,
        key_version: keys.version(),
    })
}

/// The answer of row `(event_id, call_seq)`: the sealed one, else an older row's plaintext.
pub(crate) fn open_response(
    keys: &Keyring,
    event_id: i64,
    call_seq: i64,
    plaintext: Option<&str>,
    sealed: &SealedColumns,
) -> Result<Option<Value>> {
    match (
        &sealed.response_ciphertext,
        &sealed.response_nonce,
        sealed.response_key_version,
    ) {
        (Some(ciphertext), Some(nonce), Some(key_version)) => {
            let identity = journal_identity(event_id, call_seq);
            let bytes = keys.decrypt(&identity, ciphertext, nonce, key_version)?;
            let text = std::str::from_utf8(&bytes).map_err(|_| StoreError::Corrupt {
                what: "effect response",
                value: "sealed bytes that are not UTF-8".into(),
            })?;
            parse_json("effect response", text).map(Some)
        }
        (None, None, None) => plaintext
            .map(|text| parse_json("effect response", text))
            .transpose(),
        _ => Err(StoreError::Corrupt {
            what: "effect response",
            value: format!("a partly sealed answer in effect {event_id}/{call_seq}"),
        }),
    }
}
