//! `cargo bench -p fulcrum-europass`: one render of a typical two-page CV, and of the same CV
//! with a Chinese name and some CJK text (pulls in the fallback font subset).

use criterion::{Criterion, criterion_group, criterion_main};
use europass::samples;
use std::hint::black_box;

fn render(c: &mut Criterion) {
    let typical = samples::full_cv();
    let cjk = samples::cjk_cv();
    // Parse the fonts once outside the measurement, as a long-lived process would have.
    europass::render(&typical).expect("renders");
    c.bench_function("render typical CV", |b| {
        b.iter(|| europass::render(black_box(&typical)).expect("renders"))
    });
    c.bench_function("render CJK CV", |b| {
        b.iter(|| europass::render(black_box(&cjk)).expect("renders"))
    });
}

criterion_group!(benches, render);
criterion_main!(benches);
