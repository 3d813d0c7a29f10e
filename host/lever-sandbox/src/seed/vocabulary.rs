//! Lever's vocabulary for the company: its users (by role), the pipeline stages and the
//! archive reasons. `SeedSpec::vocabulary_only` stops after these.

use super::{DAY, uuid};
use crate::db::Db;
use lever_model::timestamp::Millis;
use lever_model::{ArchiveReason, ArchiveReasonStatus, ArchiveReasonType, Stage, User};
use rand::Rng;
use rand_chacha::ChaCha8Rng;

/// Role-based handles onto the generated users.
pub(crate) struct SeedUsers {
    pub recruiters: Vec<String>,
    pub hiring_managers: Vec<String>,
    pub interviewers: Vec<String>,
    pub agency: String,
}

const USERS: &[(&str, &str, &str, &str)] = &[
    // name, username, access role, job title
    ("Avery Chen", "avery.chen", "super admin", "Head of Talent"),
    (
        "Jordan Okafor",
        "jordan.okafor",
        "admin",
        "Recruiting Operations Lead",
    ),
    ("Priya Raman", "priya.raman", "admin", "Senior Recruiter"),
    (
        "Mateo García",
        "mateo.garcia",
        "team member",
        "Technical Recruiter",
    ),
    (
        "Hannah Schmidt",
        "hannah.schmidt",
        "team member",
        "Recruiter",
    ),
    (
        "Kenji Watanabe",
        "kenji.watanabe",
        "team member",
        "Engineering Manager",
    ),
    (
        "Fatima Zahra Benali",
        "fatima.benali",
        "team member",
        "VP of Sales",
    ),
    (
        "Sam Rivera",
        "sam.rivera",
        "limited team member",
        "Design Lead",
    ),
    (
        "Olivia Brooks",
        "olivia.brooks",
        "interviewer",
        "Staff Engineer",
    ),
    (
        "Noah Williams",
        "noah.williams",
        "interviewer",
        "Product Designer",
    ),
    (
        "Grace Liu",
        "grace.liu",
        "team member",
        "Recruiter (former)",
    ),
];

pub(super) fn seed_users(db: &mut Db, rng: &mut ChaCha8Rng, now: Millis) -> SeedUsers {
    let mut ids: Vec<String> = Vec::new();
    for (i, (name, username, role, title)) in USERS.iter().enumerate() {
        let id = uuid(rng);
        let created_at = now - (900 - 40 * i as Millis) * DAY - rng.random_range(0..DAY);
        let deactivated_at = (*username == "grace.liu").then(|| now - 120 * DAY);
        db.users.insert(
            id.clone(),
            User {
                id: id.clone(),
                name: (*name).into(),
                username: (*username).into(),
                email: format!("{username}@brightwater.example"),
                created_at,
                deactivated_at,
                access_role: (*role).into(),
                photo: None,
                external_directory_id: (i % 3 == 0).then(|| format!("okta|00u{}", 1000 + i)),
                linked_contact_ids: None,
                job_title: Some((*title).into()),
                manager_id: (i > 0).then(|| ids[0].clone()),
            },
        );
        ids.push(id);
    }
    // Agencies are not Lever users in the real API, but vendors that submit through an agency
    // model them as a limited account; this is that account.
    let agency = uuid(rng);
    db.users.insert(
        agency.clone(),
        User {
            id: agency.clone(),
            name: "Northwind Talent (agency)".into(),
            username: "northwind.talent".into(),
            email: "recruiter@northwind-talent.example".into(),
            created_at: now - 300 * DAY,
            deactivated_at: None,
            access_role: "limited team member".into(),
            photo: None,
            external_directory_id: None,
            linked_contact_ids: None,
            job_title: Some("External Recruiter".into()),
            manager_id: None,
        },
    );
    SeedUsers {
        recruiters: vec![
            ids[1].clone(),
            ids[2].clone(),
            ids[3].clone(),
            ids[4].clone(),
        ],
        hiring_managers: vec![
            ids[5].clone(),
            ids[6].clone(),
            ids[7].clone(),
            ids[2].clone(),
        ],
        interviewers: vec![ids[8].clone(), ids[9].clone(), ids[5].clone()],
        agency,
    }
}

pub(super) fn seed_stages(db: &mut Db, rng: &mut ChaCha8Rng) {
    let stages: [(Option<&str>, &str); 9] = [
        (Some("lead-new"), "New lead"),
        (Some("lead-reached-out"), "Reached out"),
        (Some("lead-responded"), "Responded"),
        (Some("applicant-new"), "New applicant"),
        (None, "Recruiter screen"),
        (None, "Phone interview"),
        (None, "On-site interview"),
        (None, "Reference check"),
        (Some("offer"), "Offer"),
    ];
    for (slug, text) in stages {
        let id = slug.map_or_else(|| uuid(rng), str::to_owned);
        db.stages.insert(
            id.clone(),
            Stage {
                id,
                text: text.into(),
            },
        );
    }
}

pub(super) fn seed_archive_reasons(db: &mut Db, rng: &mut ChaCha8Rng) {
    let reasons = [
        (
            "Hired",
            ArchiveReasonType::Hired,
            ArchiveReasonStatus::Active,
        ),
        (
            "Withdrew",
            ArchiveReasonType::NonHired,
            ArchiveReasonStatus::Active,
        ),
        (
            "Underqualified",
            ArchiveReasonType::NonHired,
            ArchiveReasonStatus::Active,
        ),
        (
            "Position filled",
            ArchiveReasonType::NonHired,
            ArchiveReasonStatus::Active,
        ),
        (
            "Timing",
            ArchiveReasonType::NonHired,
            ArchiveReasonStatus::Active,
        ),
        (
            "Unresponsive",
            ArchiveReasonType::NonHired,
            ArchiveReasonStatus::Active,
        ),
        (
            "Offer declined",
            ArchiveReasonType::NonHired,
            ArchiveReasonStatus::Active,
        ),
        (
            "Culture fit (retired)",
            ArchiveReasonType::NonHired,
            ArchiveReasonStatus::Inactive,
        ),
    ];
    for (text, kind, status) in reasons {
        let id = uuid(rng);
        db.archive_reasons.insert(
            id.clone(),
            ArchiveReason {
                id,
                text: text.into(),
                status,
                kind,
            },
        );
    }
}
