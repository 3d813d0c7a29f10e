//! Deterministic seed data: a fictional company ("Brightwater Analytics") with users, Lever's
//! pipeline vocabulary, postings in every state and distribution-channel combination, and
//! opportunities with contacts, stage histories, archive states, notes, files and résumés.
//!
//! Everything derives from `SeedSpec::seed` through ChaCha8 streams, and timestamps are
//! relative to a fixed epoch derived from the seed (never the wall clock), so the same spec
//! always produces byte-identical data. Sizes scale linearly; tens of thousands of
//! opportunities take well under a few seconds.
//!
//! One module per part of the company: `vocabulary` (users, stages, archive reasons),
//! `postings`, `opportunities` (people and their opportunities), `attachments` (notes,
//! résumés, files and the PDFs behind them) and `words` (the lists everything is drawn from).

mod attachments;
mod hiring;
mod opportunities;
mod postings;
mod requisitions;
mod vocabulary;
mod words;

pub(crate) use attachments::make_note;
pub use attachments::pdf_bytes;

use crate::config::SeedSpec;
use crate::db::Db;
use lever_model::timestamp::Millis;
use opportunities::OppGen;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

pub const DAY: Millis = 86_400_000;
/// 2025-01-01T00:00:00Z; the seed's "now" is this plus `seed % 180` days.
const EPOCH: Millis = 1_735_689_600_000;

pub const COMPANY: &str = "Brightwater Analytics";
pub const JOB_SITE: &str = "brightwater";

/// The seed's "now": generated data never lies after it.
pub fn seed_now(seed: u64) -> Millis {
    EPOCH + (seed % 180) as Millis * DAY
}

fn rng_for(seed: u64, stream: u64) -> ChaCha8Rng {
    let mut r = ChaCha8Rng::seed_from_u64(seed);
    r.set_stream(stream);
    r
}

fn uuid(rng: &mut ChaCha8Rng) -> String {
    uuid::Builder::from_random_bytes(rng.random())
        .into_uuid()
        .to_string()
}

fn pick<'a, T>(rng: &mut ChaCha8Rng, xs: &'a [T]) -> &'a T {
    &xs[rng.random_range(0..xs.len())]
}

/// Generate the sandbox data for `spec`; `base_url` goes into download URLs.
pub fn generate(spec: &SeedSpec, base_url: &str) -> Db {
    let mut db = Db::new(base_url);
    let now = seed_now(spec.seed);
    db.seed_now = now;
    let mut vocab_rng = rng_for(spec.seed, 1);
    let users = vocabulary::seed_users(&mut db, &mut vocab_rng, now);
    vocabulary::seed_stages(&mut db, &mut vocab_rng);
    vocabulary::seed_archive_reasons(&mut db, &mut vocab_rng);
    let mut posting_rng = rng_for(spec.seed, 2);
    for i in 0..spec.postings {
        let p = postings::make_posting(&mut posting_rng, i, now, &users);
        db.insert_posting(p);
    }
    let mut opp_rng = rng_for(spec.seed, 3);
    let mut opps = OppGen::new(&db);
    for i in 0..spec.opportunities {
        opps.make(&mut db, &mut opp_rng, i, now, &users);
    }
    // Own streams, so adding these leaves every earlier part of the seed unchanged.
    requisitions::seed(&mut db, &mut rng_for(spec.seed, 4), now, &users);
    hiring::seed(&mut db, &mut rng_for(spec.seed, 5), now, &users);
    db
}

#[cfg(test)]
mod tests;
