//! Lever → Relode status updates: what a stage change, an archive change or a hire of a
//! Relode candidate's opportunity tells Relode.

use crate::codec;
use fulcrum_sdk::lever::{ArchiveReason, ArchiveReasonKind, Stage};
use fulcrum_sdk::prelude::*;
use serde::{Deserialize, Serialize};

/// What the plugin remembers about an opportunity it created (state `opportunity:<id>`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RelodeLink {
    pub relode_candidate_id: String,
    pub lever_posting_id: String,
}

pub fn opportunity_key(opportunity_id: &str) -> String {
    format!("opportunity:{opportunity_id}")
}

pub fn candidate_key(relode_candidate_id: &str) -> String {
    format!("candidate:{relode_candidate_id}")
}

/// `toArchived` of Lever's `candidateArchiveChange` data (null when unarchived).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ArchiveChange {
    #[serde(default)]
    pub to_archived: Option<ArchivedTo>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ArchivedTo {
    #[serde(default)]
    pub reason: Option<String>,
}

/// What happened, in Relode's words.
#[derive(Debug, Clone, PartialEq)]
pub enum Change<'a> {
    StageChanged {
        stage_id: &'a str,
        stage: Option<&'a Stage>,
    },
    Archived {
        reason_id: Option<&'a str>,
        reason: Option<&'a ArchiveReason>,
    },
    Unarchived,
    Hired,
}

/// The body of `POST /v1/lever/candidates/{relode_candidate_id}/status`.
pub fn status_update(
    event_id: &str,
    opportunity_id: &str,
    link: &RelodeLink,
    change: &Change<'_>,
    triggered_at: Timestamp,
) -> Value {
    let mut body = json!({
        "relode_candidate_id": link.relode_candidate_id,
        "lever_opportunity_id": opportunity_id,
        "lever_posting_id": link.lever_posting_id,
        "event_id": event_id,
        "occurred_at": codec::rfc3339(triggered_at),
    });
    match change {
        Change::StageChanged { stage_id, stage } => {
            body["status"] = json!("stage_changed");
            body["stage"] = json!({"id": stage_id, "name": stage.map(|s| s.text.as_str())});
        }
        Change::Archived { reason_id, reason } => {
            body["status"] = json!("archived");
            body["archive_reason"] = json!({
                "id": reason_id,
                "text": reason.map(|r| r.text.as_str()),
                "hired": reason.map(|r| r.kind == ArchiveReasonKind::Hired),
            });
        }
        Change::Unarchived => body["status"] = json!("unarchived"),
        Change::Hired => body["status"] = json!("hired"),
    }
    body
}

#[cfg(test)]
mod tests {
    use super::*;

    fn link() -> RelodeLink {
        RelodeLink {
            relode_candidate_id: "rc_1".into(),
            lever_posting_id: "p1".into(),
        }
    }

    #[test]
    fn a_stage_change_names_the_stage() {
        let stage = Stage {
            id: "s2".into(),
            text: "Phone interview".into(),
        };
        let body = status_update(
            "evt-9",
            "o1",
            &link(),
            &Change::StageChanged {
                stage_id: "s2",
                stage: Some(&stage),
            },
            1_700_000_000_000,
        );
        assert_eq!(
            body,
            json!({
                "relode_candidate_id": "rc_1",
                "lever_opportunity_id": "o1",
                "lever_posting_id": "p1",
                "event_id": "evt-9",
                "occurred_at": "2023-11-14T22:13:20.000Z",
                "status": "stage_changed",
                "stage": {"id": "s2", "name": "Phone interview"}
            })
        );
    }

    #[test]
    fn archive_hire_and_unarchive() {
        let reason = ArchiveReason {
            id: "r1".into(),
            text: "Withdrew".into(),
            kind: ArchiveReasonKind::NonHired,
            active: true,
        };
        let archived = status_update(
            "e",
            "o1",
            &link(),
            &Change::Archived {
                reason_id: Some("r1"),
                reason: Some(&reason),
            },
            0,
        );
        assert_eq!(archived["status"], "archived");
        assert_eq!(
            archived["archive_reason"],
            json!({"id": "r1", "text": "Withdrew", "hired": false})
        );
        let unknown = status_update(
            "e",
            "o1",
            &link(),
            &Change::Archived {
                reason_id: Some("gone"),
                reason: None,
            },
            0,
        );
        assert_eq!(
            unknown["archive_reason"],
            json!({"id": "gone", "text": null, "hired": null})
        );
        assert_eq!(
            status_update("e", "o1", &link(), &Change::Hired, 0)["status"],
            "hired"
        );
        let back = status_update("e", "o1", &link(), &Change::Unarchived, 0);
        assert_eq!(back["status"], "unarchived");
        assert!(back.get("stage").is_none() && back.get("archive_reason").is_none());
    }

    #[test]
    fn lever_archive_data_is_read() {
        let to: ArchiveChange = serde_json::from_value(json!({
            "opportunityId": "o1", "fromArchived": null,
            "toArchived": {"archivedAt": 1, "reason": "r1"}}))
        .unwrap();
        assert_eq!(to.to_archived.unwrap().reason.as_deref(), Some("r1"));
        let back: ArchiveChange = serde_json::from_value(json!({"toArchived": null})).unwrap();
        assert!(back.to_archived.is_none());
    }
}
