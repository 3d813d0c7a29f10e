//! Lever's Data API as the host exposes it: every generated function and type, plus iterators
//! that walk cursors ([`postings`], [`opportunities`]).
//!
//! Every call is checked against the installation's grants (a missing one is
//! `Error::Forbidden("<permission>")`, not a trap) and writes are journaled for exactly-once
//! effects: see [`crate::Connector`].

// `Error` comes with the glob (the generated alias of the contract's error type).
pub use crate::bindings::fulcrum::connector::lever::*;

/// Every posting matching `filter`, page after page (starting at `filter.cursor`).
/// The first error ends the iteration.
pub fn postings(filter: PostingFilter) -> impl Iterator<Item = Result<Posting, Error>> {
    let first = filter.cursor.clone();
    paginate(first, move |cursor| {
        let page = list_postings(&PostingFilter {
            cursor,
            ..filter.clone()
        })?;
        Ok((page.postings, page.next_cursor))
    })
}

/// Every opportunity matching `filter`, page after page (starting at `filter.cursor`).
/// The first error ends the iteration.
pub fn opportunities(
    filter: OpportunityFilter,
) -> impl Iterator<Item = Result<Opportunity, Error>> {
    let first = filter.cursor.clone();
    paginate(first, move |cursor| {
        let page = find_opportunities(&OpportunityFilter {
            cursor,
            ..filter.clone()
        })?;
        Ok((page.opportunities, page.next_cursor))
    })
}

/// Walks a cursor-paged listing: `fetch(cursor)` returns one page and the next cursor (none on
/// the last page). Yields items in order; yields the first error, then stops.
pub fn paginate<T, F>(first: Option<String>, fetch: F) -> Pages<T, F>
where
    F: FnMut(Option<String>) -> Result<(Vec<T>, Option<String>), Error>,
{
    Pages {
        fetch,
        cursor: first,
        page: Vec::new().into_iter(),
        done: false,
    }
}

/// The iterator [`paginate`] returns.
pub struct Pages<T, F> {
    fetch: F,
    cursor: Option<String>,
    page: std::vec::IntoIter<T>,
    done: bool,
}

impl<T, F> Iterator for Pages<T, F>
where
    F: FnMut(Option<String>) -> Result<(Vec<T>, Option<String>), Error>,
{
    type Item = Result<T, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(item) = self.page.next() {
                return Some(Ok(item));
            }
            if self.done {
                return None;
            }
            match (self.fetch)(self.cursor.take()) {
                Ok((items, next)) => {
                    self.page = items.into_iter();
                    self.done = next.is_none();
                    self.cursor = next;
                }
                Err(e) => {
                    self.done = true;
                    return Some(Err(e));
                }
            }
        }
    }
}
