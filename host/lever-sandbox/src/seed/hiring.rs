//! Hiring data for the seeded opportunities, from its own stream (so it leaves every earlier
//! part of the seed unchanged): interview panels for those that reached the phone interview
//! (a phone panel, plus an on-site panel of two or three interviews from the on-site stage
//! on) with feedback forms for the interviews that took place; offers for those at the offer
//! stage; referral forms for referred ones, also carried by their referral application's
//! `customQuestions`. Every timestamp lies between the stage change it follows and `now`.

use super::vocabulary::SeedUsers;
use super::{DAY, pick, uuid};
use crate::db::Db;
use lever_model::timestamp::Millis;
use lever_model::{
    ApplicationType, Expandable, FeedbackReminder, FieldOption, FormField, Interview, Interviewer,
    Offer, OfferDocument, OfferField, OfferStatus, Origin, Panel, Referral, SCORE_FIELD_TYPE,
};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde_json::{Value, json};

const HOUR: Millis = 3_600_000;
const PHONE_STAGE_INDEX: i64 = 5;
const ONSITE_STAGE_INDEX: i64 = 6;
const SCORES: [&str; 4] = ["Strong No Hire", "No Hire", "Hire", "Strong Hire"];
const ZONES: [&str; 3] = ["America/Los_Angeles", "America/New_York", "Europe/Berlin"];
const FEEDBACK_NOTES: [&str; 5] = [
    "Clear communicator; walked through trade-offs without prompting.",
    "Strong fundamentals, a little light on system design.",
    "Good culture add; asked sharp questions about the team.",
    "Struggled with the take-home follow-up questions.",
    "Would be great on the platform team.",
];
const REFERRAL_REASONS: [&str; 4] = [
    "We shipped the billing rewrite together; dependable and kind.",
    "One of the best analysts I have worked with.",
    "Knows our stack well and mentors juniors.",
    "Met at a meetup; impressive open-source work.",
];

/// What the seed needs to know about one opportunity.
struct OppFacts {
    id: String,
    name: String,
    created_at: Millis,
    stage: Option<String>,
    /// (stage index, when it was reached), oldest first.
    reached: Vec<(i64, Millis)>,
    origin: Option<Origin>,
    owner: Option<String>,
    sourced_by: Option<String>,
    hired: bool,
    posting: Option<(String, String)>,
    applications: Vec<String>,
}

struct Templates {
    phone: String,
    onsite: String,
    referral: String,
}

pub(super) fn seed(db: &mut Db, rng: &mut ChaCha8Rng, now: Millis, users: &SeedUsers) {
    let templates = Templates {
        phone: uuid(rng),
        onsite: uuid(rng),
        referral: uuid(rng),
    };
    let facts: Vec<OppFacts> = db
        .opportunities()
        .map(|o| {
            let app = db.applications(&o.id).first();
            OppFacts {
                id: o.id.clone(),
                name: o.name.clone().unwrap_or_default(),
                created_at: o.created_at,
                stage: o.stage_id().map(str::to_owned),
                reached: o
                    .stage_changes
                    .iter()
                    .filter_map(|c| c.to_stage_index.map(|i| (i, c.updated_at)))
                    .collect(),
                origin: o.origin,
                owner: o.owner.as_ref().map(|u| u.id().to_owned()),
                sourced_by: o.sourced_by.as_ref().map(|u| u.id().to_owned()),
                hired: o
                    .archived
                    .as_ref()
                    .and_then(|a| a.reason.as_deref())
                    .is_some_and(|r| db.hired_reason(r)),
                posting: app
                    .and_then(|a| a.posting.as_deref())
                    .and_then(|p| db.posting(p))
                    .map(|p| (p.id.clone(), p.text.clone())),
                applications: o.applications.iter().map(|a| a.id().to_owned()).collect(),
            }
        })
        .collect();
    let interviewers: Vec<Interviewer> = users
        .interviewers
        .iter()
        .filter_map(|u| db.user(u))
        .map(|u| Interviewer {
            id: u.id.clone(),
            name: u.name.clone(),
            email: u.email.clone(),
            feedback_template: None,
        })
        .collect();
    for f in &facts {
        let reached_at = |index: i64| f.reached.iter().find(|(i, _)| *i == index).map(|r| r.1);
        if let Some(at) = reached_at(PHONE_STAGE_INDEX) {
            seed_panel(
                db,
                rng,
                f,
                at,
                1,
                &templates.phone,
                &interviewers,
                users,
                now,
            );
        }
        if let Some(at) = reached_at(ONSITE_STAGE_INDEX) {
            let n = rng.random_range(2..=3);
            seed_panel(
                db,
                rng,
                f,
                at,
                n,
                &templates.onsite,
                &interviewers,
                users,
                now,
            );
        }
        if f.stage.as_deref() == Some("offer") {
            let at = f.reached.last().map_or(f.created_at, |r| r.1);
            seed_offer(db, rng, f, at, users, now);
        }
        if f.origin == Some(Origin::Referred) {
            seed_referral(db, rng, f, &templates.referral, users, now);
        }
    }
}

/// A panel of `n` interviews scheduled when the stage was reached, held within four days,
/// with a feedback form per interviewer-interview pair for most interviews already held.
#[allow(clippy::too_many_arguments)]
fn seed_panel(
    db: &mut Db,
    rng: &mut ChaCha8Rng,
    f: &OppFacts,
    scheduled_at: Millis,
    n: usize,
    template: &str,
    interviewers: &[Interviewer],
    users: &SeedUsers,
    now: Millis,
) {
    let panel_id = uuid(rng);
    let scheduler = pick(rng, &users.recruiters).clone();
    let timezone = (*pick(rng, &ZONES)).to_owned();
    let reminder = *pick(
        rng,
        &[
            FeedbackReminder::Once,
            FeedbackReminder::Daily,
            FeedbackReminder::Frequently,
            FeedbackReminder::Never,
        ],
    );
    let mut start = (scheduled_at + rng.random_range(HOUR..4 * DAY)).min(now);
    let mut interviews = Vec::with_capacity(n);
    let subjects: &[&str] = if n == 1 {
        &["Phone interview"]
    } else {
        &["Technical deep dive", "Team fit", "Hiring manager chat"]
    };
    for subject in subjects.iter().take(n) {
        let duration = *pick(rng, &[30u32, 45, 60]);
        let interviewer = pick(rng, interviewers).clone();
        let id = uuid(rng);
        let mut feedback_forms = Vec::new();
        let done = start + i64::from(duration) * 60_000;
        // ~85 % of interviews that are over have their feedback in.
        if done <= now && rng.random_bool(0.85) {
            let form = feedback_form(rng, f, &id, &panel_id, template, &interviewer.id, done, now);
            feedback_forms.push(form.id.clone());
            db.hiring.add_feedback(&f.id, form);
        }
        interviews.push(Interview {
            id,
            panel: Some(panel_id.clone()),
            subject: format!("{subject} - {}", f.name),
            note: String::new(),
            interviewers: vec![Interviewer {
                feedback_template: Some(template.to_owned()),
                ..interviewer
            }],
            timezone: timezone.clone(),
            created_at: scheduled_at,
            date: start,
            duration,
            location: Some(if n == 1 { "Phone" } else { "Zoom" }.into()),
            feedback_template: Some(template.to_owned()),
            feedback_forms,
            feedback_reminder: reminder,
            user: Some(scheduler.clone()),
            stage: f
                .reached
                .iter()
                .find(|r| r.1 == scheduled_at)
                .and_then(|r| db.stages.get_index(r.0 as usize))
                .map(|(id, _)| id.clone()),
            canceled_at: None,
            postings: f.posting.iter().map(|p| p.0.clone()).collect(),
            gcal_event_url: None,
        });
        start = (done + 15 * 60_000).min(now);
    }
    let end = interviews
        .iter()
        .map(|i| i.date + i64::from(i.duration) * 60_000)
        .max();
    let panel = Panel {
        id: panel_id,
        applications: f.applications.clone(),
        canceled_at: None,
        created_at: scheduled_at,
        start: interviews.first().map_or(scheduled_at, |i| i.date),
        end,
        timezone,
        feedback_reminder: reminder,
        user: Some(scheduler),
        stage: interviews.first().and_then(|i| i.stage.clone()),
        note: None,
        externally_managed: false,
        external_url: None,
        interviews,
    };
    db.hiring.add_panel(&f.id, panel);
}

/// A completed interview feedback form with Lever's one `score-system` field.
#[allow(clippy::too_many_arguments)]
fn feedback_form(
    rng: &mut ChaCha8Rng,
    f: &OppFacts,
    interview: &str,
    panel: &str,
    template: &str,
    author: &str,
    done: Millis,
    now: Millis,
) -> lever_model::Feedback {
    let completed = (done + rng.random_range(0..2 * DAY)).min(now);
    let score = *pick(rng, &SCORES);
    lever_model::Feedback {
        id: uuid(rng),
        kind: "interview".into(),
        text: "Interview feedback".into(),
        instructions: Some("Rate the candidate and say why.".into()),
        fields: vec![
            FormField {
                kind: SCORE_FIELD_TYPE.into(),
                text: "Rating".into(),
                description: "Overall recommendation".into(),
                required: true,
                value: json!(score),
                options: Some(
                    SCORES
                        .iter()
                        .map(|s| FieldOption { text: (*s).into() })
                        .collect(),
                ),
            },
            FormField {
                kind: "textarea".into(),
                text: "Notes".into(),
                description: String::new(),
                required: false,
                value: json!(*pick(rng, &FEEDBACK_NOTES)),
                options: None,
            },
        ],
        base_template_id: Some(template.to_owned()),
        interview: Some(interview.to_owned()),
        panel: Some(panel.to_owned()),
        user: Some(author.to_owned()),
        created_at: done.max(f.created_at),
        completed_at: Some(completed),
        updated_at: Some(completed),
        deleted_at: None,
    }
}

fn seed_offer(
    db: &mut Db,
    rng: &mut ChaCha8Rng,
    f: &OppFacts,
    at: Millis,
    users: &SeedUsers,
    now: Millis,
) {
    let id = uuid(rng);
    let created_at = (at + rng.random_range(0..2 * DAY)).min(now);
    let status = if f.hired {
        OfferStatus::Signed
    } else {
        *pick(rng, OfferStatus::ALL)
    };
    let salary = rng.random_range(80..220) * 1_000;
    let start_date = created_at + rng.random_range(14..60) * DAY;
    let title = f
        .posting
        .as_ref()
        .map_or_else(|| "Analyst".to_owned(), |p| p.1.clone());
    let document = |db: &Db, kind: &str, at: Millis| OfferDocument {
        file_name: format!("Offer Letter - {}.pdf", f.name),
        uploaded_at: Some(at),
        download_url: format!(
            "{}/v1/opportunities/{}/offers/{id}/download?status={kind}",
            db.base_url(),
            f.id
        ),
    };
    let sent_at = (created_at + DAY).min(now);
    let offer = Offer {
        id: id.clone(),
        created_at,
        status,
        creator: f
            .owner
            .clone()
            .or_else(|| users.recruiters.first().cloned())
            .map(Expandable::Id),
        fields: vec![
            offer_field("Job title", "job_title", json!(title)),
            offer_field("Salary", "salary", json!(salary)),
            offer_field("Currency", "currency", json!("USD")),
            offer_field(
                "Anticipated start date",
                "anticipated_start_date",
                json!(start_date),
            ),
        ],
        sent_document: status.is_sent().then(|| document(&*db, "sent", sent_at)),
        signed_document: (status == OfferStatus::Signed)
            .then(|| document(&*db, "signed", (sent_at + DAY).min(now))),
    };
    db.hiring.add_offer(&f.id, offer);
}

fn offer_field(text: &str, identifier: &str, value: Value) -> OfferField {
    OfferField {
        text: text.into(),
        identifier: identifier.into(),
        value,
    }
}

/// The referrer's form, filled in when the candidate was referred; a referral application
/// carries the same form in `customQuestions`, as Lever's do.
fn seed_referral(
    db: &mut Db,
    rng: &mut ChaCha8Rng,
    f: &OppFacts,
    template: &str,
    users: &SeedUsers,
    now: Millis,
) {
    let referrer = f
        .sourced_by
        .clone()
        .unwrap_or_else(|| pick(rng, &users.interviewers).clone());
    let completed = (f.created_at + rng.random_range(5..120) * 60_000).min(now);
    let field = |kind: &str, text: &str, required: bool, value: Value| FormField {
        kind: kind.into(),
        text: text.into(),
        description: String::new(),
        required,
        value,
        options: None,
    };
    let referral = Referral {
        id: uuid(rng),
        kind: "referral".into(),
        text: "Referral".into(),
        instructions: Some("Tell us how you know the candidate and why they fit.".into()),
        fields: vec![
            field(
                "text",
                "Relationship",
                true,
                json!(*pick(
                    rng,
                    &["Former colleague", "Friend", "Classmate", "Manager"]
                )),
            ),
            field(
                "yes-no",
                "Have you worked with them directly?",
                false,
                json!(if rng.random_bool(0.6) { "yes" } else { "no" }),
            ),
            field(
                "textarea",
                "Why are they a good fit?",
                false,
                json!(*pick(rng, &REFERRAL_REASONS)),
            ),
        ],
        base_template_id: Some(template.to_owned()),
        user: Some(referrer.clone()),
        referrer: Some(referrer),
        stage: f
            .reached
            .first()
            .and_then(|r| db.stages.get_index(r.0 as usize).map(|(id, _)| id.clone())),
        created_at: f.created_at,
        completed_at: Some(completed),
    };
    if let Some(apps) = db.applications.get_mut(&f.id) {
        let form = serde_json::to_value(&referral).unwrap_or(Value::Null);
        for a in apps
            .iter_mut()
            .filter(|a| a.kind == ApplicationType::Referral)
        {
            a.custom_questions = vec![form.clone()];
        }
    }
    db.hiring.add_referral(&f.id, referral);
}

#[cfg(test)]
mod tests {
    use crate::config::SeedSpec;
    use crate::seed::generate;
    use lever_model::{ApplicationType, OfferStatus, Origin};

    fn snapshot(db: &crate::db::Db) -> String {
        let per_opp: Vec<_> = db
            .opportunities()
            .map(|o| {
                let interviews: Vec<_> = db.hiring.interviews(&o.id).collect();
                serde_json::json!([
                    db.hiring.panels(&o.id),
                    interviews,
                    db.hiring.feedback(&o.id),
                    db.hiring.offers(&o.id),
                    db.hiring.referrals(&o.id),
                    db.applications(&o.id),
                ])
            })
            .collect();
        serde_json::to_string(&per_opp).unwrap()
    }

    #[test]
    fn hiring_data_is_deterministic_consistent_and_never_after_now() {
        let spec = SeedSpec::demo();
        let db = generate(&spec, "http://x");
        assert_eq!(snapshot(&db), snapshot(&generate(&spec, "http://x")));
        let now = db.seed_now();
        let (mut panels, mut feedback, mut statuses, mut referrals) =
            (0, 0, std::collections::HashSet::new(), 0);
        for o in db.opportunities() {
            for p in db.hiring.panels(&o.id) {
                panels += 1;
                assert!((1..=3).contains(&p.interviews.len()));
                assert!(p.created_at >= o.created_at && p.start <= now);
                for i in &p.interviews {
                    assert_eq!(i.panel.as_deref(), Some(p.id.as_str()));
                    assert!(i.date >= i.created_at && i.date <= now);
                    for fid in &i.feedback_forms {
                        let f = db.hiring.feedback(&o.id).iter().find(|f| &f.id == fid);
                        let f = f.expect("listed feedback exists");
                        assert!(f.score().is_some());
                        assert!(f.completed_at.unwrap() <= now);
                    }
                }
            }
            feedback += db.hiring.feedback(&o.id).len();
            for of in db.hiring.offers(&o.id) {
                assert_eq!(o.stage_id(), Some("offer"));
                assert!(of.created_at <= now && of.created_at >= o.created_at);
                statuses.insert(of.status);
            }
            for r in db.hiring.referrals(&o.id) {
                referrals += 1;
                assert_eq!(o.origin, Some(Origin::Referred));
                assert_eq!(r.referrer.as_deref(), o.sourced_by.as_ref().map(|u| u.id()));
                for a in db.applications(&o.id) {
                    if a.kind == ApplicationType::Referral {
                        assert_eq!(a.custom_questions[0]["id"], r.id.as_str());
                    }
                }
            }
        }
        assert!(
            panels > 20 && feedback > 20 && referrals > 10,
            "{panels} {feedback} {referrals}"
        );
        assert!(
            statuses.contains(&OfferStatus::Signed) && statuses.len() >= 4,
            "{statuses:?}"
        );
    }
}
