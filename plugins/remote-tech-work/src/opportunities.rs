//! Applicants in Lever: the created opportunity, re-applications (unarchive) and withdrawals
//! (archive), each with its Lever writes in an order that stays consistent when an event is
//! replayed (see the crate README, "Exactly once").

use crate::cv;
use crate::model::Applicant;
use crate::records::{ApplicationRecord, ApplicationStatus};
use crate::settings::Settings;
use crate::time::date_utc;
use fulcrum_sdk::prelude::*;
use serde::Serialize;

/// The source of every opportunity the plugin creates.
pub const SOURCE: &str = "Remote Tech Work";

/// How an application reached Lever.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// A new opportunity, with the Europass CV as its resume.
    Created,
    /// The candidate's archived opportunity for this posting was unarchived, with a note.
    Unarchived,
    /// The candidate already had an active opportunity for this posting: nothing written.
    Existing,
}

/// The first stage (in `names`' order, case-insensitive) that exists in Lever.
pub fn resolve_stage(stages: &[lever::Stage], names: &[String]) -> Result<lever::Stage, String> {
    for name in names {
        if let Some(stage) = stages
            .iter()
            .find(|s| s.text.trim().eq_ignore_ascii_case(name.trim()))
        {
            return Ok(stage.clone());
        }
    }
    let available: Vec<&str> = stages.iter().map(|s| s.text.as_str()).collect();
    Err(format!(
        "none of the stages {names:?} (config applied_stage) exists in Lever; available stages: {available:?}. Set applied_stage to one of them"
    ))
}

/// The archive reason for withdrawals: the configured one by name (active), else the first
/// active non-hired reason whose name mentions a withdrawal.
pub fn resolve_withdrawal_reason(
    reasons: &[lever::ArchiveReason],
    configured: Option<&str>,
) -> Result<lever::ArchiveReason, String> {
    let active: Vec<&lever::ArchiveReason> = reasons.iter().filter(|r| r.active).collect();
    let names = || active.iter().map(|r| r.text.as_str()).collect::<Vec<_>>();
    match configured {
        Some(name) => active
            .iter()
            .find(|r| r.text.trim().eq_ignore_ascii_case(name.trim()))
            .map(|r| (*r).clone())
            .ok_or_else(|| {
                format!(
                    "the archive reason {name:?} (config withdrawal_archive_reason) is not an active archive reason in Lever; active reasons: {:?}",
                    names()
                )
            }),
        None => active
            .iter()
            .find(|r| {
                r.kind == lever::ArchiveReasonKind::NonHired
                    && r.text.to_lowercase().contains("withdr")
            })
            .map(|r| (*r).clone())
            .ok_or_else(|| {
                format!(
                    "Lever has no active non-hired archive reason about withdrawing; set withdrawal_archive_reason to one of {:?}",
                    names()
                )
            }),
    }
}

/// Tags: the technical seniority, then each preferred role (trimmed, without repeats).
pub fn tags(applicant: &Applicant) -> Vec<String> {
    let mut tags: Vec<String> = Vec::new();
    let candidates = applicant
        .technical_seniority
        .iter()
        .chain(applicant.preferred_roles.iter());
    for tag in candidates {
        let tag = tag.trim();
        if !tag.is_empty() && !tags.iter().any(|t| t.eq_ignore_ascii_case(tag)) {
            tags.push(tag.to_owned());
        }
    }
    tags
}

/// The opportunity created for `applicant` on `posting_id`.
pub fn new_opportunity(
    applicant: &Applicant,
    posting_id: &str,
    stage_id: &str,
    resume: lever::Attachment,
) -> lever::NewOpportunity {
    lever::NewOpportunity {
        name: applicant.full_name.trim().to_owned(),
        emails: vec![applicant.email.trim().to_owned()],
        location: applicant
            .country_of_residence
            .as_deref()
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .map(str::to_owned),
        links: applicant
            .profile_url
            .iter()
            .map(|u| u.trim().to_owned())
            .collect(),
        tags: tags(applicant),
        sources: vec![SOURCE.to_owned()],
        origin: Some(lever::Origin::Applied),
        posting_id: Some(posting_id.to_owned()),
        stage_id: Some(stage_id.to_owned()),
        resume: Some(resume),
        ..Default::default()
    }
}

pub fn withdrawal_note(withdrawn_at: i64) -> String {
    format!(
        "Archived automatically: the candidate withdrew their application on Remote Tech Work on {}.",
        date_utc(withdrawn_at)
    )
}

pub fn reapplication_note(applied_at: i64) -> String {
    format!(
        "Unarchived automatically: the candidate applied again on Remote Tech Work on {}.",
        date_utc(applied_at)
    )
}

fn note(value: String) -> lever::NewNote {
    lever::NewNote {
        value,
        ..Default::default()
    }
}

/// Of several opportunities of one candidate on one posting: the newest active one, else the
/// newest archived one.
pub fn pick(mut found: Vec<lever::Opportunity>) -> Option<lever::Opportunity> {
    found.sort_by(|a, b| {
        (a.archived.is_none(), a.created_at, &a.id).cmp(&(
            b.archived.is_none(),
            b.created_at,
            &b.id,
        ))
    });
    found.pop()
}

/// The candidate's opportunity for this application: the one the plugin linked, else one
/// Lever has for the e-mail on the posting.
fn find_existing(rec: &ApplicationRecord) -> Result<Option<lever::Opportunity>, Error> {
    if let Some(id) = &rec.opportunity_id {
        match lever::get_opportunity(id) {
            Ok(o) => return Ok(Some(o)),
            Err(Error::NotFound(_)) => log::warn(format_args!(
                "opportunity {id} of applicant {} is gone from Lever; looking for another",
                rec.applicant_id
            )),
            Err(e) => return Err(e),
        }
    }
    let page = lever::find_opportunities(&lever::OpportunityFilter {
        email: Some(rec.email.clone()),
        posting_id: Some(rec.lever_posting_id.clone()),
        limit: Some(100),
        ..Default::default()
    })?;
    Ok(pick(page.opportunities))
}

/// Puts the application in Lever: unarchives the candidate's archived opportunity for the
/// posting (note first, then unarchive), leaves an active one alone, or creates one with the
/// Europass CV. Updates `rec` (status, opportunity, profile dropped).
///
/// Replays: the host journals reads and writes, so a replay takes the same path. The write
/// orders also hold when a read is fresh (an admin's replay forgets reads after the last
/// write): finding the created opportunity (active) means done; after the note the
/// opportunity is still archived and the note (answered from the journal) and the unarchive
/// are repeated; after the unarchive it is active and nothing is left.
pub fn bring_to_lever(
    rec: &mut ApplicationRecord,
    applicant: &Applicant,
    settings: &Settings,
) -> Result<(Outcome, String), Error> {
    let (outcome, id) = match find_existing(rec)? {
        Some(o) if o.archived.is_some() => {
            lever::add_note(&o.id, &note(reapplication_note(rec.submitted_at)))?;
            lever::unarchive(&o.id, None)?;
            (Outcome::Unarchived, o.id)
        }
        Some(o) => (Outcome::Existing, o.id),
        None => {
            let stages = lever::list_stages()?;
            let stage = resolve_stage(&stages, &settings.applied_stages).map_err(Error::invalid)?;
            let resume = cv::attachment(applicant, settings.include_price_tag)?;
            let created = lever::create_opportunity(&new_opportunity(
                applicant,
                &rec.lever_posting_id,
                &stage.id,
                resume,
            ))?;
            (Outcome::Created, created.id)
        }
    };
    rec.opportunity_id = Some(id.clone());
    rec.status = ApplicationStatus::InLever;
    rec.profile = None;
    log::info(format_args!(
        "applicant {} on posting {}: opportunity {id} ({outcome:?})",
        rec.applicant_id, rec.lever_posting_id
    ));
    Ok((outcome, id))
}

/// What a withdrawal did in Lever.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Withdrawal {
    Archived,
    AlreadyArchived,
    /// The application never reached Lever (on-demand, not created yet).
    NotInLever,
    Gone,
}

/// Archives the application's opportunity with the withdrawal reason and a dated note (note
/// first, then archive: a replay that sees the opportunity archived has nothing left to do).
pub fn withdraw(
    rec: &mut ApplicationRecord,
    withdrawn_at: i64,
    settings: &Settings,
) -> Result<Withdrawal, Error> {
    rec.status = ApplicationStatus::Withdrawn;
    rec.withdrawn_at = Some(withdrawn_at);
    rec.profile = None;
    let Some(id) = rec.opportunity_id.clone() else {
        return Ok(Withdrawal::NotInLever);
    };
    let opportunity = match lever::get_opportunity(&id) {
        Ok(o) => o,
        Err(Error::NotFound(_)) => return Ok(Withdrawal::Gone),
        Err(e) => return Err(e),
    };
    if opportunity.archived.is_some() {
        return Ok(Withdrawal::AlreadyArchived);
    }
    let reasons = lever::list_archive_reasons()?;
    let reason = resolve_withdrawal_reason(&reasons, settings.withdrawal_reason.as_deref())
        .map_err(Error::invalid)?;
    lever::add_note(&id, &note(withdrawal_note(withdrawn_at)))?;
    lever::archive(&id, &reason.id, None)?;
    log::info(format_args!(
        "applicant {} withdrew: opportunity {id} archived ({})",
        rec.applicant_id, reason.text
    ));
    Ok(Withdrawal::Archived)
}

/// An active opportunity of `email` on `posting_id`, for a withdrawal the plugin has no
/// record of.
pub fn find_by_email(email: &str, posting_id: &str) -> Result<Option<lever::Opportunity>, Error> {
    let page = lever::find_opportunities(&lever::OpportunityFilter {
        email: Some(email.trim().to_owned()),
        posting_id: Some(posting_id.to_owned()),
        limit: Some(100),
        ..Default::default()
    })?;
    Ok(pick(page.opportunities))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::PriceTag;

    fn stage(id: &str, text: &str) -> lever::Stage {
        lever::Stage {
            id: id.into(),
            text: text.into(),
        }
    }

    fn reason(
        id: &str,
        text: &str,
        kind: lever::ArchiveReasonKind,
        active: bool,
    ) -> lever::ArchiveReason {
        lever::ArchiveReason {
            id: id.into(),
            text: text.into(),
            kind,
            active,
        }
    }

    #[test]
    fn stages_are_tried_in_order() {
        let stages = [
            stage("s1", "New lead"),
            stage("s2", "New applicant"),
            stage("s3", "Offer"),
        ];
        let names = |n: &[&str]| n.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            resolve_stage(&stages, &names(&["Applied", "new applicant"]))
                .unwrap()
                .id,
            "s2"
        );
        assert_eq!(
            resolve_stage(&stages, &names(&["Offer", "New applicant"]))
                .unwrap()
                .id,
            "s3"
        );
        let err = resolve_stage(&stages, &names(&["Applied"])).unwrap_err();
        assert!(
            err.contains("\"New lead\", \"New applicant\", \"Offer\""),
            "{err}"
        );
        assert!(err.contains("applied_stage"), "{err}");
    }

    #[test]
    fn withdrawal_reasons() {
        use lever::ArchiveReasonKind::{Hired, NonHired};
        let reasons = [
            reason("r0", "Hired", Hired, true),
            reason("r1", "Withdrew (old)", NonHired, false),
            reason("r2", "Underqualified", NonHired, true),
            reason("r3", "Withdrew", NonHired, true),
        ];
        assert_eq!(resolve_withdrawal_reason(&reasons, None).unwrap().id, "r3");
        assert_eq!(
            resolve_withdrawal_reason(&reasons, Some("underqualified"))
                .unwrap()
                .id,
            "r2"
        );
        let err = resolve_withdrawal_reason(&reasons, Some("Withdrew (old)")).unwrap_err();
        assert!(err.contains("not an active archive reason"), "{err}");
        let none = resolve_withdrawal_reason(&reasons[..3], None).unwrap_err();
        assert!(none.contains("\"Hired\", \"Underqualified\""), "{none}");
    }

    #[test]
    fn builds_the_opportunity() {
        let applicant = Applicant {
            id: "a-1".into(),
            full_name: " 李雷 ".into(),
            email: " li@example.com ".into(),
            profile_url: Some("https://remotetech.work/talent/li-lei".into()),
            country_of_residence: Some("China".into()),
            technical_seniority: Some("Senior".into()),
            preferred_roles: vec![
                "Backend Developer".into(),
                "senior".into(),
                " ".into(),
                "DevOps".into(),
            ],
            price_tag: Some(PriceTag::Text("USD 60/hour".into())),
            ..Default::default()
        };
        let resume = lever::Attachment {
            name: "李雷 - Europass CV.pdf".into(),
            content_type: "application/pdf".into(),
            bytes: b"%PDF".to_vec(),
        };
        let o = new_opportunity(&applicant, "p-1", "applicant-new", resume.clone());
        assert_eq!(o.name, "李雷");
        assert_eq!(o.emails, ["li@example.com"]);
        assert_eq!(o.location.as_deref(), Some("China"));
        assert_eq!(o.links, ["https://remotetech.work/talent/li-lei"]);
        assert_eq!(o.tags, ["Senior", "Backend Developer", "DevOps"]);
        assert_eq!(o.sources, ["Remote Tech Work"]);
        assert_eq!(o.origin, Some(lever::Origin::Applied));
        assert_eq!(o.posting_id.as_deref(), Some("p-1"));
        assert_eq!(o.stage_id.as_deref(), Some("applicant-new"));
        assert_eq!(o.resume, Some(resume));
    }

    #[test]
    fn notes_carry_the_event_date() {
        let t = crate::time::parse_rfc3339("2026-03-03T23:30:00-02:00").unwrap();
        assert_eq!(
            withdrawal_note(t),
            "Archived automatically: the candidate withdrew their application on Remote Tech Work on 2026-03-04."
        );
        assert!(reapplication_note(t).starts_with("Unarchived automatically: the candidate applied again on Remote Tech Work on 2026-03-04"));
    }

    #[test]
    fn picks_active_then_newest() {
        let o = |id: &str, created_at: i64, archived: bool| lever::Opportunity {
            id: id.into(),
            contact_id: "c".into(),
            name: None,
            headline: None,
            emails: vec![],
            phones: vec![],
            location: None,
            links: vec![],
            stage_id: None,
            stage_changes: vec![],
            tags: vec![],
            sources: vec![],
            origin: None,
            owner_id: None,
            follower_ids: vec![],
            confidentiality: lever::Confidentiality::NonConfidential,
            posting_ids: vec![],
            application_ids: vec![],
            archived: archived.then_some(lever::Archived {
                archived_at: 1,
                reason_id: None,
            }),
            created_at,
            updated_at: None,
            last_advanced_at: None,
            last_interaction_at: None,
        };
        assert_eq!(
            pick(vec![o("a", 1, false), o("b", 3, true), o("c", 2, false)])
                .unwrap()
                .id,
            "c"
        );
        assert_eq!(
            pick(vec![o("a", 1, true), o("b", 3, true)]).unwrap().id,
            "b"
        );
        assert_eq!(pick(vec![]), None);
    }
}
