//! Requisition fields (cost centre, target start date, budget, hiring plan) and one
//! requisition per requisition code the seeded postings carry, so that `posting.
//! requisitionCodes` and `requisition.postings` agree; plus a few requisitions still in
//! draft that no posting uses yet.

use super::vocabulary::SeedUsers;
use super::{DAY, pick, uuid};
use crate::db::Db;
use lever_model::timestamp::Millis;
use lever_model::{
    CompensationBand, Confidentiality, PostingState, Requisition, RequisitionField,
    RequisitionFieldOption, RequisitionFieldType, RequisitionStatus, RequisitionSubfield,
};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde_json::{Map, Value, json};

const COST_CENTERS: &[(&str, &str)] = &[
    ("cc_rnd", "R&D (CC-100)"),
    ("cc_gtm", "Go-to-market (CC-200)"),
    ("cc_ga", "G&A (CC-300)"),
];

fn option(id: &str, text: &str) -> RequisitionFieldOption {
    RequisitionFieldOption {
        id: id.into(),
        text: text.into(),
    }
}

fn seed_fields(db: &mut Db) {
    let field = |id: &str, text: &str, kind, is_required| RequisitionField {
        id: id.into(),
        text: text.into(),
        kind,
        is_required,
        options: Vec::new(),
        subfields: Vec::new(),
    };
    let mut cost = field(
        "cost_center",
        "Cost centre",
        RequisitionFieldType::Dropdown,
        false,
    );
    cost.options = COST_CENTERS.iter().map(|(i, t)| option(i, t)).collect();
    let mut plan = field(
        "hiring_plan",
        "Hiring plan",
        RequisitionFieldType::Object,
        false,
    );
    plan.subfields = vec![
        RequisitionSubfield {
            id: "quarter".into(),
            text: "Quarter".into(),
            kind: RequisitionFieldType::Dropdown,
            is_required: true,
            options: ["q1", "q2", "q3", "q4"]
                .iter()
                .map(|q| option(q, &q.to_uppercase()))
                .collect(),
        },
        RequisitionSubfield {
            id: "plan_line".into(),
            text: "Plan line".into(),
            kind: RequisitionFieldType::Text,
            is_required: false,
            options: Vec::new(),
        },
    ];
    for f in [
        cost,
        field(
            "target_start_date",
            "Target start date",
            RequisitionFieldType::Date,
            false,
        ),
        field(
            "budget",
            "Approved budget",
            RequisitionFieldType::Number,
            false,
        ),
        plan,
    ] {
        db.requisitions.put_field(f);
    }
}

fn status_for(state: PostingState) -> RequisitionStatus {
    match state {
        PostingState::Published | PostingState::Internal => RequisitionStatus::Open,
        PostingState::Closed => RequisitionStatus::Closed,
        PostingState::Pending => RequisitionStatus::OnHold,
        _ => RequisitionStatus::Draft,
    }
}

fn custom_fields(rng: &mut ChaCha8Rng, created_at: Millis) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("cost_center".into(), json!(pick(rng, COST_CENTERS).0));
    if rng.random_bool(0.7) {
        m.insert(
            "target_start_date".into(),
            json!(created_at + rng.random_range(30..120) * DAY),
        );
    }
    if rng.random_bool(0.5) {
        m.insert("budget".into(), json!(rng.random_range(80..220) * 1000));
    }
    m
}

pub(super) fn seed(db: &mut Db, rng: &mut ChaCha8Rng, now: Millis, users: &SeedUsers) {
    seed_fields(db);
    let postings: Vec<_> = db
        .postings()
        .filter(|p| !p.requisition_codes.is_empty())
        .cloned()
        .collect();
    let mut made = Vec::new();
    for p in postings {
        for code in &p.requisition_codes {
            let created_at = p.created_at - rng.random_range(1..20) * DAY;
            let status = status_for(p.state);
            let total = rng.random_range(1..4);
            let hired = match status {
                RequisitionStatus::Closed => total,
                RequisitionStatus::Open => rng.random_range(0..total),
                _ => 0,
            };
            let band = p.salary_range.as_ref().map(|s| CompensationBand {
                currency: Some(s.currency.clone()),
                interval: Some(s.interval.clone()),
                min: Some(s.min),
                max: Some(s.max),
            });
            made.push(Requisition {
                id: uuid(rng),
                requisition_code: code.clone(),
                name: p.text.clone(),
                backfill: p.tags.iter().any(|t| t == "Backfill"),
                confidentiality: p.confidentiality,
                created_at,
                updated_at: Some(p.updated_at.unwrap_or(p.created_at).max(created_at)),
                creator: p.owner.as_ref().map(|o| o.id().to_owned()),
                headcount_hired: hired,
                headcount_infinite: false,
                headcount_total: total,
                hiring_manager: p.hiring_manager.as_ref().map(|h| h.id().to_owned()),
                owner: p.owner.as_ref().map(|o| o.id().to_owned()),
                location: p.categories.location.clone(),
                internal_notes: None,
                postings: vec![p.id.clone()],
                status,
                team: p.categories.team.clone(),
                department: p.categories.department.clone(),
                offer_ids: Vec::new(),
                approval: None,
                compensation_band: band,
                employment_status: Some("full-time".into()),
                custom_fields: custom_fields(rng, created_at),
                time_to_fill_start_at: Some(created_at),
                time_to_fill_end_at: (status == RequisitionStatus::Closed)
                    .then(|| p.updated_at.unwrap_or(now).min(now)),
            });
        }
    }
    // Planned headcount no posting advertises yet.
    for (i, (name, dept)) in [
        ("Data Platform Engineer", "Engineering"),
        ("Account Executive, Nordics", "Sales"),
    ]
    .iter()
    .enumerate()
    {
        let created_at = now - rng.random_range(1..30) * DAY;
        let owner = pick(rng, &users.recruiters).clone();
        made.push(Requisition {
            id: uuid(rng),
            requisition_code: format!("PLAN-{}", 900 + i),
            name: (*name).into(),
            confidentiality: Confidentiality::NonConfidential,
            created_at,
            updated_at: Some(created_at),
            creator: Some(owner.clone()),
            headcount_total: 1,
            hiring_manager: Some(users.hiring_managers[i % users.hiring_managers.len()].clone()),
            owner: Some(owner),
            internal_notes: Some("Waiting for budget sign-off.".into()),
            status: RequisitionStatus::Draft,
            department: Some((*dept).into()),
            employment_status: Some("full-time".into()),
            custom_fields: custom_fields(rng, created_at),
            ..Default::default()
        });
    }
    for r in made {
        db.requisitions.put(r);
    }
}
