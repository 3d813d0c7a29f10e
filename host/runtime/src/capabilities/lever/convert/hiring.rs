//! Interviews, panels, feedback, offers and referrals: Lever → the WIT `lever-hiring` types.

use lever_model as lm;

use super::answer;
use crate::bindings::fulcrum::connector::lever as wit;
use crate::bindings::fulcrum::connector::lever_hiring as hwit;

/// Lever sends `""`, `0` or `null` for what it does not know; the WIT says none.
fn some_text(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_owned())
}

fn some_time(at: lm::timestamp::Millis) -> Option<lm::timestamp::Millis> {
    (at != 0).then_some(at)
}

pub(in crate::capabilities::lever) fn form_field(f: &lm::FormField) -> wit::FormField {
    wit::FormField {
        text: f.text.clone(),
        description: some_text(&f.description),
        kind: f.kind.clone(),
        required: f.required,
        value: answer(Some(&f.value)),
    }
}

pub(in crate::capabilities::lever) fn interview(i: &lm::Interview) -> hwit::Interview {
    hwit::Interview {
        id: i.id.clone(),
        panel_id: i.panel.clone(),
        subject: some_text(&i.subject),
        note: some_text(&i.note),
        interviewers: i
            .interviewers
            .iter()
            .map(|x| hwit::Interviewer {
                id: x.id.clone(),
                name: some_text(&x.name),
                email: some_text(&x.email),
                feedback_template_id: x.feedback_template.clone(),
            })
            .collect(),
        timezone: some_text(&i.timezone),
        date: some_time(i.date),
        duration_minutes: (i.duration != 0).then_some(i.duration),
        location: i.location.clone(),
        feedback_template_id: i.feedback_template.clone(),
        feedback_form_ids: i.feedback_forms.clone(),
        feedback_reminder: match i.feedback_reminder {
            lm::FeedbackReminder::Unknown => None,
            r => Some(r.as_str().to_owned()),
        },
        user_id: i.user.clone(),
        stage_id: i.stage.clone(),
        canceled_at: i.canceled_at,
        posting_ids: i.postings.clone(),
        created_at: i.created_at,
    }
}

pub(in crate::capabilities::lever) fn panel(p: &lm::Panel) -> hwit::Panel {
    hwit::Panel {
        id: p.id.clone(),
        application_ids: p.applications.clone(),
        timezone: some_text(&p.timezone),
        note: p.note.clone(),
        external_url: p.external_url.clone(),
        externally_managed: p.externally_managed,
        interview_ids: p.interviews.iter().map(|i| i.id.clone()).collect(),
        stage_id: p.stage.clone(),
        user_id: p.user.clone(),
        start: some_time(p.start),
        end: p.end,
        canceled_at: p.canceled_at,
        created_at: p.created_at,
    }
}

pub(in crate::capabilities::lever) fn feedback(f: &lm::Feedback) -> hwit::Feedback {
    hwit::Feedback {
        id: f.id.clone(),
        text: f.text.clone(),
        instructions: f.instructions.clone(),
        base_template_id: f.base_template_id.clone(),
        interview_id: f.interview.clone(),
        panel_id: f.panel.clone(),
        user_id: f.user.clone(),
        fields: f.fields.iter().map(form_field).collect(),
        created_at: f.created_at,
        completed_at: f.completed_at,
    }
}

fn offer_status(s: lm::OfferStatus) -> hwit::OfferStatus {
    match s {
        lm::OfferStatus::Draft => hwit::OfferStatus::Draft,
        lm::OfferStatus::ApprovalSent => hwit::OfferStatus::ApprovalSent,
        lm::OfferStatus::Approved => hwit::OfferStatus::Approved,
        lm::OfferStatus::Sent => hwit::OfferStatus::Sent,
        lm::OfferStatus::SentManually => hwit::OfferStatus::SentManually,
        lm::OfferStatus::Opened => hwit::OfferStatus::Opened,
        lm::OfferStatus::Denied => hwit::OfferStatus::Denied,
        lm::OfferStatus::Signed => hwit::OfferStatus::Signed,
        lm::OfferStatus::Unknown => hwit::OfferStatus::Other,
    }
}

pub(in crate::capabilities::lever) fn offer(o: &lm::Offer) -> hwit::Offer {
    hwit::Offer {
        id: o.id.clone(),
        status: offer_status(o.status),
        creator_id: o.creator.as_ref().map(|c| c.id().to_owned()),
        fields: o
            .fields
            .iter()
            .map(|f| hwit::OfferField {
                text: f.text.clone(),
                identifier: f.identifier.clone(),
                value: answer(Some(&f.value)),
            })
            .collect(),
        created_at: o.created_at,
        // When the sent document was attached: the closest Lever shows.
        sent_at: o.sent_document.as_ref().and_then(|d| d.uploaded_at),
    }
}

pub(in crate::capabilities::lever) fn referral(r: &lm::Referral) -> hwit::Referral {
    hwit::Referral {
        id: r.id.clone(),
        text: r.text.clone(),
        referrer_id: r.referrer.clone(),
        user_id: r.user.clone(),
        stage_id: r.stage.clone(),
        fields: r.fields.iter().map(form_field).collect(),
        created_at: r.created_at,
        completed_at: r.completed_at,
    }
}
