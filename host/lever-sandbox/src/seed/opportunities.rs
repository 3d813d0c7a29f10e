//! People and their opportunities: contacts (some with several opportunities), origins with
//! matching sources, owners, tags, stage histories, archive states and applications to
//! postings; then the opportunity's notes, résumé and files (see `attachments`).
//!
//! Every step draws from the same stream, so the order of the draws is part of the seed's
//! output: moving a step (or one draw inside it) changes every opportunity after it.

use super::attachments::{seed_file, seed_notes, seed_resume};
use super::vocabulary::SeedUsers;
use super::words::{
    CITIES, COMPANIES, DOMAINS, FIRST_NAMES, LAST_NAMES, ROLES, TAGS, UNICODE_NAMES, ascii_slug,
};
use super::{DAY, pick, uuid};
use crate::db::{Db, canonical_email};
use lever_model::timestamp::Millis;
use lever_model::{
    Application, ApplicationType, ArchiveReasonStatus, ArchiveReasonType, Archived,
    Confidentiality, Contact, ContactLocation, Expandable, Opportunity, Origin, Phone,
    PostingState, StageChange,
};
use rand::Rng;
use rand_chacha::ChaCha8Rng;

/// A posting candidates may apply to: id, owner, hiring manager, confidentiality.
type OpenPosting = (String, Option<String>, Option<String>, Confidentiality);

pub(super) struct OppGen {
    stage_ids: Vec<String>,
    applicant_path: Vec<String>,
    lead_path: Vec<String>,
    hired_reason: String,
    non_hired_reasons: Vec<String>,
    postings: Vec<OpenPosting>,
    contact_ids: Vec<String>,
}

/// One opportunity as drawn, before its records are built.
pub(super) struct Draft {
    pub id: String,
    pub contact_id: String,
    posting: Option<OpenPosting>,
    origin: Origin,
    owner: String,
    sourced_by: Option<String>,
    sources: Vec<String>,
    tags: Vec<String>,
    pub created_at: Millis,
    /// From the first stage to the current one.
    stage_changes: Vec<StageChange>,
    pub stage: String,
    last_advanced: Millis,
    archived: Option<Archived>,
    pub updated_at: Millis,
}

impl OppGen {
    pub(super) fn new(db: &Db) -> Self {
        let stage_ids: Vec<String> = db.stages.keys().cloned().collect();
        let middle: Vec<String> = stage_ids[4..8].to_vec();
        let mut applicant_path = vec!["applicant-new".to_owned()];
        applicant_path.extend(middle.iter().cloned());
        applicant_path.push("offer".into());
        let mut lead_path: Vec<String> = stage_ids[0..3].to_vec();
        lead_path.extend(middle);
        lead_path.push("offer".into());
        let hired_reason = db
            .archive_reasons
            .values()
            .find(|r| r.kind == ArchiveReasonType::Hired)
            .map(|r| r.id.clone())
            .unwrap_or_default();
        let non_hired_reasons = db
            .archive_reasons
            .values()
            .filter(|r| {
                r.kind == ArchiveReasonType::NonHired && r.status == ArchiveReasonStatus::Active
            })
            .map(|r| r.id.clone())
            .collect();
        // Candidates apply to postings that were ever open.
        let postings = db
            .postings()
            .filter(|p| {
                matches!(
                    p.state,
                    PostingState::Published | PostingState::Internal | PostingState::Closed
                )
            })
            .map(|p| {
                (
                    p.id.clone(),
                    p.owner.as_ref().map(|u| u.id().to_owned()),
                    p.hiring_manager.as_ref().map(|u| u.id().to_owned()),
                    p.confidentiality,
                )
            })
            .collect();
        Self {
            stage_ids,
            applicant_path,
            lead_path,
            hired_reason,
            non_hired_reasons,
            postings,
            contact_ids: Vec::new(),
        }
    }

    /// The `i`th opportunity with its application, notes, résumé and files.
    pub(super) fn make(
        &mut self,
        db: &mut Db,
        rng: &mut ChaCha8Rng,
        i: usize,
        now: Millis,
        users: &SeedUsers,
    ) {
        let draft = self.draw(db, rng, i, now, users);
        let contact = db
            .contact_record(&draft.contact_id)
            .map(|r| r.contact.clone())
            .unwrap_or_default();
        let application = draft.application(db, rng, &contact);
        db.insert_opportunity(draft.opportunity(db, application.as_ref()));
        if let Some(a) = application {
            db.applications.insert(draft.id.clone(), vec![a]);
        }
        let name = contact.name.clone().unwrap_or_default();
        // Notes on ~40%.
        if rng.random_bool(0.4) {
            seed_notes(db, rng, &draft, users);
        }
        // Résumés on ~half, other files on ~15%; every 97th file failed processing (→ 422).
        if rng.random_bool(0.5) {
            seed_resume(db, rng, &draft, &name, &contact);
        }
        if rng.random_bool(0.15) {
            seed_file(db, rng, &draft, &name, i, now);
        }
    }

    /// Who the opportunity is for, where it came from, who owns it and how far it got.
    fn draw(
        &mut self,
        db: &mut Db,
        rng: &mut ChaCha8Rng,
        i: usize,
        now: Millis,
        users: &SeedUsers,
    ) -> Draft {
        // Some people have several opportunities (one per posting they were considered for).
        let contact_id = if !self.contact_ids.is_empty() && rng.random_bool(0.12) {
            pick(rng, &self.contact_ids).clone()
        } else {
            self.new_contact(db, rng, i)
        };
        let id = uuid(rng);
        let posting = (!self.postings.is_empty() && rng.random_bool(0.8))
            .then(|| pick(rng, &self.postings).clone());
        let origin = pick_origin(rng, posting.is_some());
        let (owner, sourced_by) = pick_owner(rng, users, posting.as_ref(), origin);
        let sources = pick_sources(rng, origin);
        let tags = pick_tags(rng);
        let created_at = now - rng.random_range(1..540) * DAY - rng.random_range(0..DAY);
        // Leads start at "New lead", applicants at "New applicant".
        let path = if posting.is_some() && origin != Origin::Sourced {
            &self.applicant_path
        } else {
            &self.lead_path
        };
        let stage_changes = self.stage_history(rng, path, &owner, created_at, now);
        let stage = path[stage_changes.len() - 1].clone();
        let last_advanced = stage_changes.last().map_or(created_at, |c| c.updated_at);
        let archived = self.archive_state(rng, &stage, last_advanced, now);
        let updated_at = archived
            .as_ref()
            .map_or(last_advanced, |a| a.archived_at.max(last_advanced));
        Draft {
            id,
            contact_id,
            posting,
            origin,
            owner,
            sourced_by,
            sources,
            tags,
            created_at,
            stage_changes,
            stage,
            last_advanced,
            archived,
            updated_at,
        }
    }

    fn new_contact(&mut self, db: &mut Db, rng: &mut ChaCha8Rng, i: usize) -> String {
        let (name, slug) = if i % 10 == 3 && i / 10 < UNICODE_NAMES.len() {
            let (n, s) = UNICODE_NAMES[i / 10];
            (n.to_owned(), s.to_owned())
        } else if rng.random_bool(0.03) {
            let (n, s) = *pick(rng, UNICODE_NAMES);
            (n.to_owned(), s.to_owned())
        } else {
            let first = *pick(rng, FIRST_NAMES);
            let last = *pick(rng, LAST_NAMES);
            let slug = format!("{}.{}", ascii_slug(first), ascii_slug(last));
            (format!("{first} {last}"), slug)
        };
        let domain = *pick(rng, DOMAINS);
        let mut email = format!("{slug}@{domain}");
        if db.email_index.contains_key(&canonical_email(&email)) {
            email = format!("{slug}{i}@{domain}");
        }
        let mut emails = vec![email];
        if rng.random_bool(0.2) {
            let work = format!(
                "{slug}{i}@{}",
                ascii_slug(pick::<&str>(rng, COMPANIES)).replace('.', "") + ".example"
            );
            if !db.email_index.contains_key(&canonical_email(&work)) {
                emails.push(work);
            }
        }
        let phones = (0..rng.random_range(0..3usize))
            .map(|k| Phone {
                kind: match rng.random_range(0..4) {
                    0 => Some("mobile".into()),
                    1 => Some("work".into()),
                    2 => Some("other".into()),
                    _ => None,
                },
                value: match (i + k) % 3 {
                    0 => format!("+1 415 555 {:04}", (i * 7 + k) % 10_000),
                    1 => format!("+44 20 7946 {:04}", (i * 3 + k) % 1_000),
                    _ => format!("+49 30 {:07}", 1_000_000 + (i * 13 + k) % 9_000_000),
                },
            })
            .collect();
        let mut links = vec![format!(
            "https://www.linkedin.com/in/{}",
            slug.replace('.', "-")
        )];
        if rng.random_bool(0.3) {
            links.push(format!("https://github.com/{}", slug.replace('.', "")));
        }
        let id = uuid(rng);
        db.insert_contact(
            Contact {
                id: id.clone(),
                name: Some(name),
                headline: Some(format!("{} at {}", pick(rng, ROLES), pick(rng, COMPANIES))),
                is_anonymized: false,
                location: Some(ContactLocation {
                    name: (*pick(rng, CITIES)).into(),
                }),
                emails,
                phones,
            },
            links,
        );
        self.contact_ids.push(id.clone());
        id
    }

    /// The stages passed so far along `path`, a few days apart; most stop early.
    fn stage_history(
        &self,
        rng: &mut ChaCha8Rng,
        path: &[String],
        owner: &str,
        created_at: Millis,
        now: Millis,
    ) -> Vec<StageChange> {
        let steps = match rng.random_range(0..100) {
            0..=39 => 0,
            40..=59 => 1,
            60..=74 => 2,
            75..=84 => 3,
            85..=92 => 4,
            _ => path.len() - 1,
        }
        .min(path.len() - 1);
        let mut t = created_at;
        let mut stage_changes = Vec::new();
        for stage in &path[..=steps] {
            let index = self
                .stage_ids
                .iter()
                .position(|s| s == stage)
                .map(|x| x as i64);
            stage_changes.push(StageChange {
                to_stage_id: stage.clone(),
                to_stage_index: index,
                user_id: Some(owner.to_owned()),
                updated_at: t,
            });
            t = (t + rng.random_range(1..15) * DAY).min(now);
        }
        stage_changes
    }

    /// ~30 % are archived: hired mostly at the offer stage, otherwise a non-hired reason.
    fn archive_state(
        &self,
        rng: &mut ChaCha8Rng,
        stage: &str,
        last_advanced: Millis,
        now: Millis,
    ) -> Option<Archived> {
        if rng.random_bool(0.3) {
            let reason = if stage == "offer" && rng.random_bool(0.6) {
                self.hired_reason.clone()
            } else {
                pick(rng, &self.non_hired_reasons).clone()
            };
            Some(Archived {
                archived_at: (last_advanced + rng.random_range(1..20) * DAY).min(now),
                reason: Some(reason),
            })
        } else {
            None
        }
    }
}

/// Only opportunities with a posting can have applied.
fn pick_origin(rng: &mut ChaCha8Rng, has_posting: bool) -> Origin {
    match rng.random_range(0..100) {
        0..=44 if has_posting => Origin::Applied,
        0..=69 => Origin::Sourced,
        70..=81 => Origin::Referred,
        82..=89 => Origin::Agency,
        90..=94 => Origin::University,
        _ => Origin::Internal,
    }
}

/// The owner (often the posting's owner, else a recruiter) and who sourced the candidate.
fn pick_owner(
    rng: &mut ChaCha8Rng,
    users: &SeedUsers,
    posting: Option<&OpenPosting>,
    origin: Origin,
) -> (String, Option<String>) {
    let recruiter = pick(rng, &users.recruiters).clone();
    let owner = match posting {
        Some((_, Some(o), _, _)) if rng.random_bool(0.7) => o.clone(),
        _ => recruiter.clone(),
    };
    let sourced_by = match origin {
        Origin::Sourced => Some(recruiter.clone()),
        Origin::Referred => Some(pick(rng, &users.interviewers).clone()),
        Origin::Agency => Some(users.agency.clone()),
        _ => None,
    };
    (owner, sourced_by)
}

/// Sources that match the origin, as Lever's integrations name them.
fn pick_sources(rng: &mut ChaCha8Rng, origin: Origin) -> Vec<String> {
    match origin {
        Origin::Applied => vec![(*pick(rng, &["Posting", "Job site", "LinkedIn"])).into()],
        Origin::Sourced => {
            vec![(*pick(rng, &["LinkedIn", "Added manually", "Email Lead"])).into()]
        }
        Origin::Referred => vec!["Referral".into()],
        Origin::Agency => vec!["Northwind Talent".into(), "Job site".into()],
        Origin::University => vec!["University career fair".into()],
        _ => vec!["Internal".into()],
    }
}

/// Up to three distinct tags.
fn pick_tags(rng: &mut ChaCha8Rng) -> Vec<String> {
    let mut tags: Vec<String> = Vec::new();
    for _ in 0..rng.random_range(0..4) {
        let t = (*pick(rng, TAGS)).to_owned();
        if !tags.contains(&t) {
            tags.push(t);
        }
    }
    tags
}

impl Draft {
    /// The application to the posting, if any, carrying the person as stored on the contact.
    fn application(&self, db: &Db, rng: &mut ChaCha8Rng, contact: &Contact) -> Option<Application> {
        let (pid, p_owner, p_hm, _) = self.posting.as_ref()?;
        Some(Application {
            id: uuid(rng),
            opportunity_id: self.id.clone(),
            candidate_id: self.id.clone(),
            created_at: self.created_at,
            kind: match self.origin {
                Origin::Applied => ApplicationType::Posting,
                Origin::Referred => ApplicationType::Referral,
                _ => ApplicationType::User,
            },
            posting: Some(pid.clone()),
            posting_owner: p_owner.clone(),
            posting_hiring_manager: p_hm.clone(),
            user: if self.origin == Origin::Applied {
                None
            } else {
                self.sourced_by.clone().or(Some(self.owner.clone()))
            },
            name: contact.name.clone(),
            email: contact.emails.first().cloned(),
            phone: contact.phones.first().cloned(),
            company: contact
                .headline
                .as_ref()
                .and_then(|h| h.split(" at ").nth(1))
                .map(str::to_owned),
            links: db
                .contact_record(&self.contact_id)
                .map(|r| r.links.clone())
                .unwrap_or_default(),
            comments: None,
            custom_questions: vec![],
            archived: self.archived.clone(),
            requisition_for_hire: None,
        })
    }

    /// The opportunity record; the posting's hiring manager follows it along with the owner.
    fn opportunity(&self, db: &Db, application: Option<&Application>) -> Opportunity {
        let mut followers = vec![Expandable::Id(self.owner.clone())];
        if let Some((_, _, Some(hm), _)) = &self.posting
            && *hm != self.owner
        {
            followers.push(Expandable::Id(hm.clone()));
        }
        let confidentiality = self
            .posting
            .as_ref()
            .map_or(Confidentiality::NonConfidential, |p| p.3);
        Opportunity {
            id: self.id.clone(),
            contact: Some(Expandable::Id(self.contact_id.clone())),
            confidentiality,
            created_at: self.created_at,
            updated_at: Some(self.updated_at),
            last_interaction_at: Some(self.updated_at),
            last_advanced_at: Some(self.last_advanced),
            snoozed_until: None,
            archived: self.archived.clone(),
            stage: Some(Expandable::Id(self.stage.clone())),
            stage_changes: self.stage_changes.clone(),
            owner: Some(Expandable::Id(self.owner.clone())),
            followers,
            tags: self.tags.clone(),
            sources: self.sources.clone(),
            origin: Some(self.origin),
            sourced_by: self.sourced_by.clone().map(Expandable::Id),
            applications: application
                .iter()
                .map(|a| Expandable::Id(a.id.clone()))
                .collect(),
            urls: db.opportunity_urls(&self.id),
            data_protection: None,
            is_anonymized: false,
            opportunity_location: None,
            ..Default::default()
        }
    }
}
