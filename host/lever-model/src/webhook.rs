//! Lever webhook deliveries and their signature: lowercase hex of
//! HMAC-SHA256(key = the webhook's signature token, message = token + triggeredAt), carried in
//! the body, not a header.

use crate::timestamp::{self, Millis};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// The events Lever sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum WebhookEventType {
    ApplicationCreated,
    CandidateHired,
    CandidateStageChange,
    CandidateArchiveChange,
    CandidateDeleted,
    InterviewCreated,
    InterviewUpdated,
    InterviewDeleted,
    ContactCreated,
    ContactUpdated,
}

impl WebhookEventType {
    pub const ALL: &'static [WebhookEventType] = &[
        Self::ApplicationCreated,
        Self::CandidateHired,
        Self::CandidateStageChange,
        Self::CandidateArchiveChange,
        Self::CandidateDeleted,
        Self::InterviewCreated,
        Self::InterviewUpdated,
        Self::InterviewDeleted,
        Self::ContactCreated,
        Self::ContactUpdated,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::ApplicationCreated => "applicationCreated",
            Self::CandidateHired => "candidateHired",
            Self::CandidateStageChange => "candidateStageChange",
            Self::CandidateArchiveChange => "candidateArchiveChange",
            Self::CandidateDeleted => "candidateDeleted",
            Self::InterviewCreated => "interviewCreated",
            Self::InterviewUpdated => "interviewUpdated",
            Self::InterviewDeleted => "interviewDeleted",
            Self::ContactCreated => "contactCreated",
            Self::ContactUpdated => "contactUpdated",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|e| e.as_str() == s)
    }

    /// Only these events accept `configuration.conditions.origins`.
    pub fn supports_origin_conditions(self) -> bool {
        matches!(
            self,
            Self::ApplicationCreated
                | Self::CandidateArchiveChange
                | Self::CandidateHired
                | Self::CandidateStageChange
        )
    }
}

/// The JSON body Lever POSTs to a webhook URL. `data` is an open map: its fields differ per
/// event and Lever documents only some of them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WebhookDelivery {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(with = "timestamp::required")]
    pub triggered_at: Millis,
    pub event: String,
    #[serde(default)]
    pub data: Map<String, Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<String>,
    #[serde(default)]
    pub token: String,
}

/// Why a delivery was not accepted as coming from Lever.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("the webhook body carries no signature; enable signing for this webhook in Lever")]
    Missing,
    #[error("the webhook signature does not match; check the webhook's signature token")]
    Mismatch,
}

/// Lowercase hex HMAC-SHA256 of `token + triggered_at` under `signature_token`.
pub fn sign(signature_token: &str, token: &str, triggered_at: Millis) -> String {
    let mut mac = HmacSha256::new_from_slice(signature_token.as_bytes())
        .expect("HMAC accepts any key length");
    mac.update(token.as_bytes());
    mac.update(triggered_at.to_string().as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

impl WebhookDelivery {
    /// Fill in `signature` from the signature token.
    pub fn sign(&mut self, signature_token: &str) {
        self.signature = Some(sign(signature_token, &self.token, self.triggered_at));
    }

    /// Check the body's signature in constant time.
    pub fn verify(&self, signature_token: &str) -> Result<(), SignatureError> {
        let given = self.signature.as_deref().ok_or(SignatureError::Missing)?;
        let given = hex::decode(given).map_err(|_| SignatureError::Mismatch)?;
        let mut mac = HmacSha256::new_from_slice(signature_token.as_bytes())
            .expect("HMAC accepts any key length");
        mac.update(self.token.as_bytes());
        mac.update(self.triggered_at.to_string().as_bytes());
        mac.verify_slice(&given)
            .map_err(|_| SignatureError::Mismatch)
    }

    pub fn event_type(&self) -> Option<WebhookEventType> {
        WebhookEventType::parse(&self.event)
    }

    /// A string field of `data`, e.g. `opportunityId`.
    pub fn data_str(&self, key: &str) -> Option<&str> {
        self.data.get(key).and_then(Value::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn delivery() -> WebhookDelivery {
        serde_json::from_str(
            r#"{"triggeredAt":1431454330072,"event":"candidateStageChange",
                "data":{"opportunityId":"o1","toStageId":"offer","fromStageId":"lead-new"},
                "token":"8f1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f70"}"#,
        )
        .unwrap()
    }

    #[test]
    fn signature_is_hmac_of_token_then_triggered_at() {
        // Independently computed: HMAC-SHA256(key="secret", msg=token || "1431454330072").
        let d = delivery();
        let expected = {
            let mut mac = HmacSha256::new_from_slice(b"secret").unwrap();
            mac.update(format!("{}{}", d.token, d.triggered_at).as_bytes());
            hex::encode(mac.finalize().into_bytes())
        };
        assert_eq!(sign("secret", &d.token, d.triggered_at), expected);
        assert_eq!(expected.len(), 64);
    }

    #[test]
    fn verify_accepts_valid_and_rejects_tampered_or_wrong_token() {
        let mut d = delivery();
        assert_eq!(d.verify("secret"), Err(SignatureError::Missing));
        d.sign("secret");
        assert_eq!(d.verify("secret"), Ok(()));
        assert_eq!(d.verify("other"), Err(SignatureError::Mismatch));
        let mut tampered = d.clone();
        tampered.triggered_at += 1;
        assert_eq!(tampered.verify("secret"), Err(SignatureError::Mismatch));
        let mut garbage = d.clone();
        garbage.signature = Some("zz".into());
        assert_eq!(garbage.verify("secret"), Err(SignatureError::Mismatch));
        assert_eq!(d.event_type(), Some(WebhookEventType::CandidateStageChange));
        assert_eq!(d.data_str("opportunityId"), Some("o1"));
    }
}
