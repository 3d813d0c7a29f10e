//! Determinism, coverage of the demo seed, sizes, and the generated PDFs.

use super::words::UNICODE_NAMES;
use super::*;
use lever_model::{Confidentiality, PostingState, WorkplaceType};
use std::collections::HashSet;

fn snapshot(db: &Db) -> String {
    let opps: Vec<_> = db.opportunities().collect();
    let notes: Vec<_> = opps.iter().map(|o| db.notes(&o.id)).collect();
    let files: Vec<_> = opps
        .iter()
        .map(|o| (db.files(&o.id), db.resumes(&o.id)))
        .collect();
    serde_json::to_string(&serde_json::json!({
        "users": db.users().collect::<Vec<_>>(),
        "stages": db.stages().collect::<Vec<_>>(),
        "reasons": db.archive_reasons().collect::<Vec<_>>(),
        "postings": db.postings().collect::<Vec<_>>(),
        "contacts": db.contacts().collect::<Vec<_>>(),
        "opportunities": opps,
        "notes": notes,
        "files": files,
    }))
    .unwrap()
}

#[test]
fn same_seed_same_data_other_seed_other_data() {
    let spec = SeedSpec::demo();
    let a = snapshot(&generate(&spec, "http://x"));
    let b = snapshot(&generate(&spec, "http://x"));
    assert_eq!(a, b);
    let c = snapshot(&generate(&SeedSpec { seed: 43, ..spec }, "http://x"));
    assert_ne!(a, c);
}

#[test]
fn demo_covers_states_channels_locations_and_unicode() {
    let db = generate(&SeedSpec::demo(), "http://x");
    db.check_invariants().unwrap();
    let states: HashSet<_> = db.postings().map(|p| p.state).collect();
    for s in [
        PostingState::Published,
        PostingState::Internal,
        PostingState::Closed,
        PostingState::Draft,
        PostingState::Pending,
        PostingState::Rejected,
    ] {
        assert!(states.contains(&s), "missing state {s}");
    }
    let channels: HashSet<_> = db
        .postings()
        .map(|p| {
            p.distribution_channels
                .as_ref()
                .map(|c| c.iter().map(|c| c.as_str()).collect::<Vec<_>>())
        })
        .collect();
    for c in [
        Some(vec!["public", "internal"]),
        Some(vec!["public"]),
        Some(vec!["internal"]),
        None,
    ] {
        assert!(channels.contains(&c), "missing channels {c:?}");
    }
    assert!(
        db.postings()
            .all(|p| (p.state == PostingState::Published) == p.urls.is_some())
    );
    assert!(
        db.postings()
            .all(|p| p.state == PostingState::Published || p.distribution_channels.is_none())
    );
    let wt: HashSet<_> = db.postings().map(|p| p.workplace_type).collect();
    for w in [
        WorkplaceType::Remote,
        WorkplaceType::Hybrid,
        WorkplaceType::OnSite,
        WorkplaceType::Unspecified,
    ] {
        assert!(wt.contains(&w), "missing workplace {w}");
    }
    assert!(db.postings().any(|p| p.categories.location.is_none()));
    assert!(db.postings().any(|p| p.salary_range.is_some()));
    assert!(
        db.postings()
            .filter(|p| p.confidentiality == Confidentiality::Confidential)
            .count()
            >= 2
    );
    let names: HashSet<_> = db.contacts().filter_map(|c| c.name.clone()).collect();
    for (n, _) in UNICODE_NAMES {
        assert!(names.contains(*n), "missing {n}");
    }
    assert!(db.contacts_with_several_opportunities() > 0);
    assert!(db.opportunities().any(|o| o.archived.is_some()));
    assert!(db.opportunities().any(|o| {
        o.archived
            .as_ref()
            .is_some_and(|a| db.hired_reason(a.reason.as_deref().unwrap_or("")))
    }));
    assert!(db.opportunities().any(|o| !db.notes(&o.id).is_empty()));
    assert!(db.opportunities().any(|o| !db.files(&o.id).is_empty()));
    let with_resume = db
        .opportunities()
        .find(|o| !db.resumes(&o.id).is_empty())
        .unwrap();
    let r = &db.resumes(&with_resume.id)[0];
    assert!(
        db.resume_bytes(&with_resume.id, &r.id)
            .unwrap()
            .starts_with(b"%PDF-1.4")
    );
    assert!(db.users().any(|u| u.deactivated_at.is_some()));
    assert!(
        db.users()
            .any(|u| u.email == "recruiter@northwind-talent.example")
    );
    for slug in [
        "lead-new",
        "lead-reached-out",
        "lead-responded",
        "applicant-new",
        "offer",
    ] {
        assert!(db.stage(slug).is_some());
    }
}

#[test]
fn vocabulary_only_and_large_seeds() {
    let db = generate(&SeedSpec::vocabulary_only(7), "http://x");
    assert_eq!(db.postings().count(), 0);
    assert_eq!(db.opportunity_count(), 0);
    assert!(db.users().count() >= 10 && db.stages().count() == 9);
    let started = std::time::Instant::now();
    let db = generate(&SeedSpec::new(1, 1_000, 10_000), "http://x");
    assert_eq!(db.opportunity_count(), 10_000);
    db.check_invariants().unwrap();
    assert!(started.elapsed().as_secs() < 20, "{:?}", started.elapsed());
}

#[test]
fn pdf_offsets_are_valid() {
    let pdf = pdf_bytes("Zoë (test)", &["line".into()]);
    let s = std::str::from_utf8(&pdf).unwrap();
    let startxref: usize = s
        .rsplit("startxref\n")
        .next()
        .unwrap()
        .lines()
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!(s[startxref..].starts_with("xref"));
    let obj3 = s.find("3 0 obj").unwrap();
    assert!(s.contains(&format!("{obj3:010} 00000 n")));
}
