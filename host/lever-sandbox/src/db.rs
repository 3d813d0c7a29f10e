//! The sandbox's data. Plain maps behind one mutex (see `state.rs`); handlers mutate through
//! the helpers here so that the cross-references stay consistent: contact ↔ opportunities,
//! canonical e-mail → contact, the (createdAt, id) order indexes used for keyset paging, and
//! the person fields (name, emails, phones, links, location) every opportunity mirrors from
//! its contact.

use bytes::Bytes;
use indexmap::IndexMap;
use lever_model::timestamp::Millis;
use lever_model::{
    Application, ArchiveReason, ArchiveReasonType, Contact, Expandable, LeverFile, Note,
    Opportunity, Posting, Resume, Stage, TextCount, Upload, User, Webhook,
};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// A contact plus what Lever keeps on the person but does not return from `/contacts`.
#[derive(Debug, Clone, Default)]
pub struct ContactRecord {
    pub contact: Contact,
    /// Links live on the contact; every opportunity of the person shows them.
    pub links: Vec<String>,
    /// Opportunity ids of this person, oldest first.
    pub opportunities: Vec<String>,
}

/// An opportunity removed through the (UI-style) admin delete; listed by `/opportunities/deleted`.
#[derive(Debug, Clone)]
pub struct DeletedOpportunity {
    pub opportunity: Opportunity,
    pub deleted_at: Millis,
    pub deleted_by: Option<String>,
}

#[derive(Debug, Clone)]
pub(crate) struct StoredUpload {
    pub upload: Upload,
    pub bytes: Bytes,
}

#[derive(Debug, Default)]
pub struct Db {
    /// Base of `urls.*` and `downloadUrl`, without a trailing slash.
    pub(crate) base_url: String,
    pub(crate) users: IndexMap<String, User>,
    /// In pipeline order.
    pub(crate) stages: IndexMap<String, Stage>,
    pub(crate) archive_reasons: IndexMap<String, ArchiveReason>,
    pub(crate) postings: IndexMap<String, Posting>,
    pub(crate) posting_order: BTreeSet<(Millis, String)>,
    pub(crate) opportunities: HashMap<String, Opportunity>,
    pub(crate) opportunity_order: BTreeSet<(Millis, String)>,
    pub(crate) deleted: IndexMap<String, DeletedOpportunity>,
    pub(crate) contacts: IndexMap<String, ContactRecord>,
    pub(crate) email_index: HashMap<String, String>,
    pub(crate) notes: HashMap<String, Vec<Note>>,
    pub(crate) files: HashMap<String, Vec<LeverFile>>,
    pub(crate) resumes: HashMap<String, Vec<Resume>>,
    pub(crate) applications: HashMap<String, Vec<Application>>,
    /// File and resume contents by file/resume id.
    pub(crate) blobs: HashMap<String, Bytes>,
    pub(crate) uploads: HashMap<String, StoredUpload>,
    pub(crate) webhooks: IndexMap<String, Webhook>,
    /// Interviews, panels, feedback, offers and referrals by opportunity.
    pub(crate) hiring: crate::hiring_store::HiringStore,
    /// Requisitions and requisition fields.
    pub(crate) requisitions: crate::requisition_store::RequisitionStore,
    /// The seed's "now": every generated timestamp is at or before it.
    pub(crate) seed_now: Millis,
}

/// Lever matches e-mails case-insensitively after trimming.
pub fn canonical_email(e: &str) -> String {
    e.trim().to_lowercase()
}

impl Db {
    pub(crate) fn new(base_url: &str) -> Self {
        Self {
            base_url: base_url.trim_end_matches('/').to_owned(),
            ..Default::default()
        }
    }

    // ----------------------------------------------------------------------------------
    // Read accessors (public: tests and the demo use them through `Sandbox::read`).

    /// Postings in (createdAt, id) order.
    pub fn postings(&self) -> impl Iterator<Item = &Posting> {
        self.posting_order
            .iter()
            .filter_map(|(_, id)| self.postings.get(id))
    }

    pub fn posting(&self, id: &str) -> Option<&Posting> {
        self.postings.get(id)
    }

    /// Opportunities in (createdAt, id) order.
    pub fn opportunities(&self) -> impl Iterator<Item = &Opportunity> {
        self.opportunity_order
            .iter()
            .filter_map(|(_, id)| self.opportunities.get(id))
    }

    pub fn opportunity(&self, id: &str) -> Option<&Opportunity> {
        self.opportunities.get(id)
    }

    /// Interviews, panels, feedback, offers and referrals.
    pub fn hiring(&self) -> &crate::hiring_store::HiringStore {
        &self.hiring
    }

    /// Requisitions and requisition fields.
    pub fn requisition_store(&self) -> &crate::requisition_store::RequisitionStore {
        &self.requisitions
    }

    pub fn opportunity_count(&self) -> usize {
        self.opportunities.len()
    }

    pub fn deleted_opportunities(&self) -> impl Iterator<Item = &DeletedOpportunity> {
        self.deleted.values()
    }

    pub fn contacts(&self) -> impl Iterator<Item = &Contact> {
        self.contacts.values().map(|r| &r.contact)
    }

    pub fn contact(&self, id: &str) -> Option<&Contact> {
        self.contacts.get(id).map(|r| &r.contact)
    }

    pub fn contact_record(&self, id: &str) -> Option<&ContactRecord> {
        self.contacts.get(id)
    }

    /// How many people have more than one opportunity.
    pub fn contacts_with_several_opportunities(&self) -> usize {
        self.contacts
            .values()
            .filter(|r| r.opportunities.len() > 1)
            .count()
    }

    /// The contact owning a (canonicalised) e-mail address.
    pub fn contact_by_email(&self, email: &str) -> Option<&Contact> {
        self.email_index
            .get(&canonical_email(email))
            .and_then(|id| self.contact(id))
    }

    pub fn notes(&self, opportunity_id: &str) -> &[Note] {
        self.notes.get(opportunity_id).map_or(&[], Vec::as_slice)
    }

    pub fn files(&self, opportunity_id: &str) -> &[LeverFile] {
        self.files.get(opportunity_id).map_or(&[], Vec::as_slice)
    }

    pub fn resumes(&self, opportunity_id: &str) -> &[Resume] {
        self.resumes.get(opportunity_id).map_or(&[], Vec::as_slice)
    }

    pub fn applications(&self, opportunity_id: &str) -> &[Application] {
        self.applications
            .get(opportunity_id)
            .map_or(&[], Vec::as_slice)
    }

    /// Contents of an opportunity's file.
    pub fn file_bytes(&self, opportunity_id: &str, file_id: &str) -> Option<&[u8]> {
        self.files(opportunity_id)
            .iter()
            .find(|f| f.id == file_id)
            .and_then(|f| self.blobs.get(&f.id))
            .map(|b| b.as_ref())
    }

    /// Contents of an opportunity's résumé file.
    pub fn resume_bytes(&self, opportunity_id: &str, resume_id: &str) -> Option<&[u8]> {
        self.resumes(opportunity_id)
            .iter()
            .find(|r| r.id == resume_id)
            .and_then(|r| self.blobs.get(&r.id))
            .map(|b| b.as_ref())
    }

    pub fn users(&self) -> impl Iterator<Item = &User> {
        self.users.values()
    }

    pub fn user(&self, id: &str) -> Option<&User> {
        self.users.get(id)
    }

    pub fn stages(&self) -> impl Iterator<Item = &Stage> {
        self.stages.values()
    }

    pub fn stage(&self, id: &str) -> Option<&Stage> {
        self.stages.get(id)
    }

    /// Position of a stage in the pipeline (Lever's `toStageIndex`).
    pub fn stage_index(&self, id: &str) -> Option<i64> {
        self.stages.get_index_of(id).map(|i| i as i64)
    }

    pub fn archive_reasons(&self) -> impl Iterator<Item = &ArchiveReason> {
        self.archive_reasons.values()
    }

    pub fn archive_reason(&self, id: &str) -> Option<&ArchiveReason> {
        self.archive_reasons.get(id)
    }

    pub fn webhooks(&self) -> impl Iterator<Item = &Webhook> {
        self.webhooks.values()
    }

    /// `GET /tags`: every tag in use with the number of opportunities carrying it.
    pub fn tags(&self) -> Vec<TextCount> {
        count_texts(self.opportunities.values().map(|o| &o.tags))
    }

    /// `GET /sources`: every source in use with its opportunity count.
    pub fn sources(&self) -> Vec<TextCount> {
        count_texts(self.opportunities.values().map(|o| &o.sources))
    }

    /// The seed's reference time (every generated timestamp is at or before it).
    pub fn seed_now(&self) -> Millis {
        self.seed_now
    }

    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    // ----------------------------------------------------------------------------------
    // URLs

    pub(crate) fn opportunity_urls(&self, id: &str) -> lever_model::OpportunityUrls {
        lever_model::OpportunityUrls {
            list: format!("{}/candidates", self.base_url),
            show: format!("{}/candidates/{id}", self.base_url),
        }
    }

    pub(crate) fn file_download_url(&self, opp: &str, file: &str) -> String {
        format!(
            "{}/v1/opportunities/{opp}/files/{file}/download",
            self.base_url
        )
    }

    pub(crate) fn resume_download_url(&self, opp: &str, resume: &str) -> String {
        format!(
            "{}/v1/opportunities/{opp}/resumes/{resume}/download",
            self.base_url
        )
    }

    // ----------------------------------------------------------------------------------
    // Writes that keep indexes consistent.

    pub(crate) fn insert_posting(&mut self, p: Posting) {
        self.posting_order.insert((p.created_at, p.id.clone()));
        self.postings.insert(p.id.clone(), p);
    }

    /// Insert a new contact and index its e-mails.
    pub(crate) fn insert_contact(&mut self, contact: Contact, links: Vec<String>) {
        for e in &contact.emails {
            self.email_index
                .entry(canonical_email(e))
                .or_insert_with(|| contact.id.clone());
        }
        self.contacts.insert(
            contact.id.clone(),
            ContactRecord {
                contact,
                links,
                opportunities: Vec::new(),
            },
        );
    }

    /// The existing contact holding any of these e-mails (Lever's dedupe rule).
    pub(crate) fn match_contact(&self, emails: &[String]) -> Option<String> {
        emails
            .iter()
            .find_map(|e| self.email_index.get(&canonical_email(e)).cloned())
    }

    /// Whether `email` belongs to a contact other than `contact_id`.
    pub(crate) fn email_taken_by_other(&self, email: &str, contact_id: &str) -> bool {
        self.email_index
            .get(&canonical_email(email))
            .is_some_and(|owner| owner != contact_id)
    }

    /// Re-index a contact's e-mails after they changed.
    pub(crate) fn reindex_contact_emails(&mut self, contact_id: &str) {
        self.email_index.retain(|_, owner| owner != contact_id);
        if let Some(rec) = self.contacts.get(contact_id) {
            for e in &rec.contact.emails {
                self.email_index
                    .entry(canonical_email(e))
                    .or_insert_with(|| contact_id.to_owned());
            }
        }
    }

    /// Copy the person fields of a contact onto each of its opportunities; `now` bumps their
    /// `updatedAt` (every write does).
    pub(crate) fn sync_contact(&mut self, contact_id: &str, now: Option<Millis>) {
        let Some(rec) = self.contacts.get(contact_id) else {
            return;
        };
        let c = &rec.contact;
        for opp_id in &rec.opportunities {
            if let Some(o) = self.opportunities.get_mut(opp_id) {
                o.name = c.name.clone();
                o.headline = c.headline.clone();
                o.emails = c.emails.clone();
                o.phones = c.phones.clone();
                o.links = rec.links.clone();
                o.location = c.location.as_ref().map(|l| l.name.clone());
                if let Some(now) = now {
                    o.updated_at = Some(now);
                }
            }
        }
    }

    /// Insert an opportunity whose contact already exists; person fields come from the contact.
    pub(crate) fn insert_opportunity(&mut self, o: Opportunity) {
        let contact_id = o.contact_id().map(str::to_owned);
        let id = o.id.clone();
        self.opportunity_order.insert((o.created_at, id.clone()));
        self.opportunities.insert(id.clone(), o);
        if let Some(cid) = contact_id
            && let Some(rec) = self.contacts.get_mut(&cid)
        {
            rec.opportunities.push(id);
            self.sync_contact_one(&cid);
        }
    }

    /// Like `sync_contact` without touching `updatedAt`, for the newest opportunity only.
    fn sync_contact_one(&mut self, contact_id: &str) {
        let Some(rec) = self.contacts.get(contact_id) else {
            return;
        };
        let Some(opp_id) = rec.opportunities.last() else {
            return;
        };
        if let Some(o) = self.opportunities.get_mut(opp_id) {
            let c = &rec.contact;
            o.name = c.name.clone();
            o.headline = c.headline.clone();
            o.emails = c.emails.clone();
            o.phones = c.phones.clone();
            o.links = rec.links.clone();
            o.location = c.location.as_ref().map(|l| l.name.clone());
        }
    }

    /// Remove an opportunity and everything hanging off it; it moves to the deleted list.
    pub(crate) fn delete_opportunity(
        &mut self,
        id: &str,
        at: Millis,
        by: Option<String>,
    ) -> Option<Opportunity> {
        let o = self.opportunities.remove(id)?;
        self.opportunity_order.remove(&(o.created_at, o.id.clone()));
        if let Some(cid) = o.contact_id()
            && let Some(rec) = self.contacts.get_mut(cid)
        {
            rec.opportunities.retain(|x| x != id);
        }
        self.notes.remove(id);
        for f in self.files.remove(id).unwrap_or_default() {
            self.blobs.remove(&f.id);
        }
        for r in self.resumes.remove(id).unwrap_or_default() {
            self.blobs.remove(&r.id);
        }
        self.applications.remove(id);
        self.hiring.remove_opportunity(id);
        self.deleted.insert(
            id.to_owned(),
            DeletedOpportunity {
                opportunity: o.clone(),
                deleted_at: at,
                deleted_by: by,
            },
        );
        Some(o)
    }

    pub(crate) fn hired_reason(&self, reason_id: &str) -> bool {
        self.archive_reasons
            .get(reason_id)
            .is_some_and(|r| r.kind == ArchiveReasonType::Hired)
    }

    // ----------------------------------------------------------------------------------
    // Invariants

    /// Check cross-references; tests call this after seeding and after mutations.
    pub fn check_invariants(&self) -> Result<(), String> {
        if self.opportunity_order.len() != self.opportunities.len() {
            return Err("opportunity order index out of sync".into());
        }
        if self.posting_order.len() != self.postings.len() {
            return Err("posting order index out of sync".into());
        }
        for (created, id) in &self.opportunity_order {
            let o = self
                .opportunities
                .get(id)
                .ok_or_else(|| format!("indexed opportunity {id} missing"))?;
            if o.created_at != *created {
                return Err(format!("opportunity {id} indexed under a stale createdAt"));
            }
            let cid = o
                .contact_id()
                .ok_or_else(|| format!("opportunity {id} has no contact"))?;
            let rec = self
                .contacts
                .get(cid)
                .ok_or_else(|| format!("opportunity {id} points at missing contact {cid}"))?;
            if !rec.opportunities.iter().any(|x| x == id) {
                return Err(format!("contact {cid} does not list opportunity {id}"));
            }
            if o.emails != rec.contact.emails || o.links != rec.links || o.name != rec.contact.name
            {
                return Err(format!("opportunity {id} does not mirror contact {cid}"));
            }
            if let Some(s) = o.stage_id()
                && !self.stages.contains_key(s)
            {
                return Err(format!("opportunity {id} is in unknown stage {s}"));
            }
            if let Some(a) = &o.archived
                && let Some(r) = &a.reason
                && !self.archive_reasons.contains_key(r)
            {
                return Err(format!("opportunity {id} archived with unknown reason {r}"));
            }
            for user in [o.owner.as_ref(), o.sourced_by.as_ref()]
                .into_iter()
                .flatten()
            {
                if !self.users.contains_key(user.id()) {
                    return Err(format!(
                        "opportunity {id} references unknown user {}",
                        user.id()
                    ));
                }
            }
            let apps = self.applications(id);
            if apps.len() > 1 {
                return Err(format!("opportunity {id} has more than one application"));
            }
            let listed: Vec<&str> = o.applications.iter().map(Expandable::id).collect();
            let stored: Vec<&str> = apps.iter().map(|a| a.id.as_str()).collect();
            if listed != stored {
                return Err(format!(
                    "opportunity {id} lists applications {listed:?}, stored {stored:?}"
                ));
            }
            for a in apps {
                if let Some(p) = &a.posting
                    && !self.postings.contains_key(p)
                {
                    return Err(format!(
                        "application {} references unknown posting {p}",
                        a.id
                    ));
                }
            }
            for f in self.files(id) {
                if !self.blobs.contains_key(&f.id) {
                    return Err(format!("file {} of {id} has no contents", f.id));
                }
            }
        }
        for (cid, rec) in &self.contacts {
            for oid in &rec.opportunities {
                if !self.opportunities.contains_key(oid) {
                    return Err(format!("contact {cid} lists missing opportunity {oid}"));
                }
            }
        }
        for (email, cid) in &self.email_index {
            let owner = self
                .contacts
                .get(cid)
                .ok_or_else(|| format!("e-mail {email} indexed to missing contact {cid}"))?;
            if !owner
                .contact
                .emails
                .iter()
                .any(|e| canonical_email(e) == *email)
            {
                return Err(format!(
                    "e-mail {email} indexed to contact {cid} that lacks it"
                ));
            }
        }
        Ok(())
    }
}

fn count_texts<'a>(lists: impl Iterator<Item = &'a Vec<String>>) -> Vec<TextCount> {
    let mut counts: BTreeMap<&str, u64> = BTreeMap::new();
    for list in lists {
        for t in list {
            *counts.entry(t.as_str()).or_default() += 1;
        }
    }
    counts
        .into_iter()
        .map(|(text, count)| TextCount {
            text: text.to_owned(),
            count,
        })
        .collect()
}
