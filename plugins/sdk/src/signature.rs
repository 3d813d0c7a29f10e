//! Signed vendor webhooks (see [`fulcrum_signature`], re-exported here): the plugin-side glue
//! that verifies a [`VendorRequest`](crate::VendorRequest) with an installation secret and turns
//! a refusal into a 401 [`Rejection`].
//!
//! Verify in `verify_vendor_request` with the request's `received_at` as "now" (the host's
//! clock at the ingress), never the wall clock of a later retry.

pub use fulcrum_signature::*;

use crate::Rejection;

impl From<SignatureError> for Rejection {
    fn from(e: SignatureError) -> Self {
        Rejection::new(401, e.to_string())
    }
}

/// [`verify`] for a vendor request: the header named `header`, the secret named `secret_name`
/// (an unset secret refuses every request), [`DEFAULT_TOLERANCE_SECS`].
pub fn verify_request(
    req: &crate::VendorRequest,
    header: &str,
    secret_name: &str,
) -> Result<(), SignatureError> {
    let secret = crate::config::secret(secret_name).ok_or_else(|| SignatureError::NoSecret {
        secret: secret_name.to_owned(),
    })?;
    verify(
        header,
        req.header(header),
        secret.as_bytes(),
        &req.body,
        req.received_at,
        DEFAULT_TOLERANCE_SECS,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refused_signature_is_a_401_naming_the_header() {
        let rejection = Rejection::from(SignatureError::Missing {
            header: "X-Sig".into(),
        });
        assert_eq!(rejection.status, 401);
        assert!(rejection.message.contains("X-Sig"));
    }
}
