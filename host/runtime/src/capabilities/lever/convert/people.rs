//! Applications, contacts, forms, tag/source counts and users ↔ Lever.

use lever_client::UserQuery;
use lever_model as lm;
use serde_json::Value;

use super::phone;
use crate::bindings::fulcrum::connector::lever as wit;

/// A form of Lever's (`{id, text, fields: [{text, description, type, required, value}]}`),
/// read leniently: an application's custom questions are raw JSON in the wire type.
pub(in crate::capabilities::lever) fn form(v: &Value) -> wit::Form {
    let text = |v: &Value, key: &str| v.get(key).and_then(Value::as_str).map(str::to_owned);
    wit::Form {
        id: text(v, "id").unwrap_or_default(),
        text: text(v, "text").unwrap_or_default(),
        fields: v
            .get("fields")
            .and_then(Value::as_array)
            .map(|fields| {
                fields
                    .iter()
                    .map(|f| wit::FormField {
                        text: text(f, "text").unwrap_or_default(),
                        description: text(f, "description").filter(|d| !d.is_empty()),
                        kind: text(f, "type").unwrap_or_default(),
                        required: f.get("required").and_then(Value::as_bool).unwrap_or(false),
                        value: answer(f.get("value")),
                    })
                    .collect()
            })
            .unwrap_or_default(),
    }
}

/// A form answer as JSON text; none when unanswered.
pub(in crate::capabilities::lever) fn answer(v: Option<&Value>) -> Option<String> {
    v.filter(|v| !v.is_null()).map(Value::to_string)
}

pub(in crate::capabilities::lever) fn application(a: &lm::Application) -> wit::Application {
    wit::Application {
        id: a.id.clone(),
        opportunity_id: match a.opportunity_id.as_str() {
            "" => a.candidate_id.clone(),
            id => id.to_owned(),
        },
        kind: match a.kind {
            lm::ApplicationType::User => wit::ApplicationKind::User,
            lm::ApplicationType::Referral => wit::ApplicationKind::Referral,
            // Lever's default kind, and the only one with a posting form.
            lm::ApplicationType::Posting | lm::ApplicationType::Unknown => {
                wit::ApplicationKind::Posting
            }
        },
        posting_id: a.posting.clone(),
        posting_owner_id: a.posting_owner.clone(),
        posting_hiring_manager_id: a.posting_hiring_manager.clone(),
        user_id: a.user.clone(),
        name: a.name.clone(),
        email: a.email.clone(),
        phone: a.phone.as_ref().map(phone),
        company: a.company.clone(),
        links: a.links.clone(),
        comments: a.comments.clone(),
        custom_questions: a.custom_questions.iter().map(form).collect(),
        archived: a.archived.as_ref().map(|x| wit::Archived {
            archived_at: x.archived_at,
            reason_id: x.reason.clone(),
        }),
        created_at: a.created_at,
    }
}

pub(in crate::capabilities::lever) fn contact(c: &lm::Contact) -> wit::Contact {
    wit::Contact {
        id: c.id.clone(),
        name: c.name.clone(),
        headline: c.headline.clone(),
        location: c
            .location
            .as_ref()
            .map(|l| l.name.clone())
            .filter(|l| !l.is_empty()),
        emails: c.emails.clone(),
        phones: c.phones.iter().map(phone).collect(),
        is_anonymized: c.is_anonymized,
    }
}

pub(in crate::capabilities::lever) fn contact_update(u: &wit::ContactUpdate) -> lm::ContactUpdate {
    lm::ContactUpdate {
        name: u.name.clone(),
        headline: u.headline.clone(),
        location: u.location.clone(),
        emails: u.emails.clone(),
        phones: u.phones.as_ref().map(|phones| {
            phones
                .iter()
                .map(|p| lm::Phone {
                    kind: p.kind.clone(),
                    value: p.value.clone(),
                })
                .collect()
        }),
    }
}

pub(in crate::capabilities::lever) fn text_count(t: &lm::TextCount) -> wit::TextCount {
    wit::TextCount {
        text: t.text.clone(),
        count: u32::try_from(t.count).unwrap_or(u32::MAX),
    }
}

pub(in crate::capabilities::lever) fn user_query(f: &wit::UserFilter) -> UserQuery {
    UserQuery {
        email: f.email.clone(),
        access_role: f.access_role.clone(),
        include_deactivated: f.include_deactivated,
        ..Default::default()
    }
}

pub(in crate::capabilities::lever) fn new_user(u: &wit::NewUser) -> lm::NewUser {
    lm::NewUser {
        name: u.name.clone(),
        email: u.email.clone(),
        access_role: u.access_role.clone(),
        external_directory_id: u.external_directory_id.clone(),
        job_title: u.job_title.clone(),
        manager_id: u.manager_id.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn application_forms_are_read_leniently() {
        let a = lm::Application {
            id: "a1".into(),
            candidate_id: "o1".into(),
            kind: lm::ApplicationType::Referral,
            custom_questions: vec![json!({
                "id": "f1",
                "text": "Referral",
                "fields": [
                    {"text": "Why?", "type": "textarea", "required": true, "value": "Great"},
                    {"text": "Score", "type": "score-system", "value": null},
                    {"unexpected": 1}
                ]
            })],
            ..Default::default()
        };
        let w = application(&a);
        assert_eq!(w.opportunity_id, "o1", "the deprecated alias");
        assert_eq!(w.kind, wit::ApplicationKind::Referral);
        let fields = &w.custom_questions[0].fields;
        assert_eq!(fields.len(), 3);
        assert_eq!(fields[0].value.as_deref(), Some("\"Great\""));
        assert!(fields[0].required);
        assert_eq!(fields[1].value, None);
        assert_eq!(fields[2].kind, "");
    }

    #[test]
    fn counts_saturate_and_contacts_flatten_their_location() {
        let big = lm::TextCount {
            text: "t".into(),
            count: u64::MAX,
        };
        assert_eq!(text_count(&big).count, u32::MAX);
        let c = lm::Contact {
            location: Some(lm::ContactLocation {
                name: "Berlin".into(),
            }),
            ..Default::default()
        };
        assert_eq!(contact(&c).location.as_deref(), Some("Berlin"));
    }
}
