//! Requisitions and requisition fields. Requisitions page by `(createdAt, id)` like
//! postings; fields page in creation order (they are never deleted, so positions are stable).

use indexmap::IndexMap;
use lever_model::timestamp::Millis;
use lever_model::{Requisition, RequisitionField};
use std::collections::BTreeSet;

#[derive(Debug, Default)]
pub struct RequisitionStore {
    requisitions: IndexMap<String, Requisition>,
    order: BTreeSet<(Millis, String)>,
    fields: IndexMap<String, RequisitionField>,
}

impl RequisitionStore {
    /// Every requisition, oldest first (`createdAt`, then id).
    pub fn requisitions(&self) -> impl Iterator<Item = &Requisition> {
        self.order
            .iter()
            .filter_map(|(_, id)| self.requisitions.get(id))
    }

    pub fn requisition(&self, id: &str) -> Option<&Requisition> {
        self.requisitions.get(id)
    }

    /// Lever treats requisition codes as unique per account.
    pub fn by_code(&self, code: &str) -> Option<&Requisition> {
        self.requisitions
            .values()
            .find(|r| r.requisition_code == code)
    }

    /// Insert or replace (by id); `createdAt` must not change on replace.
    pub(crate) fn put(&mut self, r: Requisition) {
        if let Some(old) = self.requisitions.get(&r.id) {
            self.order.remove(&(old.created_at, old.id.clone()));
        }
        self.order.insert((r.created_at, r.id.clone()));
        self.requisitions.insert(r.id.clone(), r);
    }

    /// Fields in creation order, with their position as the sort key.
    pub fn fields(&self) -> impl Iterator<Item = (usize, &RequisitionField)> {
        self.fields.values().enumerate()
    }

    pub fn field(&self, id: &str) -> Option<&RequisitionField> {
        self.fields.get(id)
    }

    /// Insert or replace in place (a replaced field keeps its position).
    pub(crate) fn put_field(&mut self, f: RequisitionField) {
        self.fields.insert(f.id.clone(), f);
    }
}
