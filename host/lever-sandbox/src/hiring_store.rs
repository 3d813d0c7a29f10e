//! Interviews, panels, feedback, offers and referrals, by opportunity id.
//!
//! Interviews live inside their panel (as Lever nests them); the interview list of an
//! opportunity is its panels' interviews, so the two can never disagree.

use lever_model::{Feedback, Interview, Offer, Panel, Referral};
use std::collections::HashMap;

/// Everything hiring left on one opportunity.
#[derive(Debug, Clone, Default)]
pub struct OpportunityHiring {
    pub panels: Vec<Panel>,
    pub feedback: Vec<Feedback>,
    pub offers: Vec<Offer>,
    pub referrals: Vec<Referral>,
}

#[derive(Debug, Default)]
pub struct HiringStore {
    by_opportunity: HashMap<String, OpportunityHiring>,
}

const NONE: &OpportunityHiring = &OpportunityHiring {
    panels: Vec::new(),
    feedback: Vec::new(),
    offers: Vec::new(),
    referrals: Vec::new(),
};

impl HiringStore {
    fn of(&self, opportunity_id: &str) -> &OpportunityHiring {
        self.by_opportunity.get(opportunity_id).unwrap_or(NONE)
    }

    pub fn panels(&self, opportunity_id: &str) -> &[Panel] {
        &self.of(opportunity_id).panels
    }

    /// Every interview of every panel of the opportunity.
    pub fn interviews<'a>(&'a self, opportunity_id: &str) -> impl Iterator<Item = &'a Interview> {
        self.of(opportunity_id)
            .panels
            .iter()
            .flat_map(|p| p.interviews.iter())
    }

    pub fn interview(&self, opportunity_id: &str, interview_id: &str) -> Option<&Interview> {
        self.interviews(opportunity_id)
            .find(|i| i.id == interview_id)
    }

    pub fn feedback(&self, opportunity_id: &str) -> &[Feedback] {
        &self.of(opportunity_id).feedback
    }

    pub fn offers(&self, opportunity_id: &str) -> &[Offer] {
        &self.of(opportunity_id).offers
    }

    pub fn referrals(&self, opportunity_id: &str) -> &[Referral] {
        &self.of(opportunity_id).referrals
    }

    pub(crate) fn add_panel(&mut self, opportunity_id: &str, panel: Panel) {
        self.entry(opportunity_id).panels.push(panel);
    }

    pub(crate) fn add_feedback(&mut self, opportunity_id: &str, feedback: Feedback) {
        self.entry(opportunity_id).feedback.push(feedback);
    }

    pub(crate) fn add_offer(&mut self, opportunity_id: &str, offer: Offer) {
        self.entry(opportunity_id).offers.push(offer);
    }

    pub(crate) fn add_referral(&mut self, opportunity_id: &str, referral: Referral) {
        self.entry(opportunity_id).referrals.push(referral);
    }

    /// Remove an interview; as in Lever, removing a panel's last interview removes the
    /// panel. Returns the removed interview.
    pub(crate) fn remove_interview(
        &mut self,
        opportunity_id: &str,
        interview_id: &str,
    ) -> Option<Interview> {
        let h = self.by_opportunity.get_mut(opportunity_id)?;
        let (pi, ii) = h.panels.iter().enumerate().find_map(|(pi, p)| {
            p.interviews
                .iter()
                .position(|i| i.id == interview_id)
                .map(|ii| (pi, ii))
        })?;
        let removed = h.panels[pi].interviews.remove(ii);
        if h.panels[pi].interviews.is_empty() {
            h.panels.remove(pi);
        } else {
            let p = &mut h.panels[pi];
            p.start = p.interviews.iter().map(|i| i.date).min().unwrap_or(p.start);
            p.end = p
                .interviews
                .iter()
                .map(|i| i.date + i64::from(i.duration) * 60_000)
                .max();
        }
        Some(removed)
    }

    /// Drop everything of a deleted opportunity.
    pub(crate) fn remove_opportunity(&mut self, opportunity_id: &str) {
        self.by_opportunity.remove(opportunity_id);
    }

    fn entry(&mut self, opportunity_id: &str) -> &mut OpportunityHiring {
        self.by_opportunity
            .entry(opportunity_id.to_owned())
            .or_default()
    }
}
