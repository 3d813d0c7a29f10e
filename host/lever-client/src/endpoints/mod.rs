//! One module per Lever resource family; each adds methods to [`crate::LeverClient`].

mod contacts;
mod files;
mod hiring;
mod notes;
mod opportunities;
mod postings;
mod probe;
mod requisitions;
mod vocabulary;
mod webhooks;

pub use probe::ProbeAnswer;

use lever_model::HasId;

/// Pagination de-duplication key for objects with ids.
pub(crate) fn id_key<T: HasId>(item: &T) -> String {
    item.id().to_owned()
}
