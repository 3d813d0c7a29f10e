//! Benchmark: the Lever client against the Lever sandbox on loopback.
//!
//! 1. Limit on: sync 2,000 postings + 10,000 opportunities and compare the wall time with the
//!    theoretical minimum under Lever's budget ((requests - burst) / 10 req/s); count 429s.
//! 2. Limit off (sandbox and client): requests per second of client + sandbox together.
//!
//! Run: `cargo bench -p fulcrum-tests --bench lever_sync` (add `-- --quick` for a smaller run).

use futures::{StreamExt, TryStreamExt};
use lever_client::{ClientConfig, Credential, LeverClient, OpportunityQuery, PostingQuery};
use lever_model::{DistributionChannel, PostingState};
use lever_sandbox::{KeySpec, Sandbox, SandboxConfig, SeedSpec};
use std::time::{Duration, Instant};

const RATE: f64 = 10.0;
const BURST: f64 = 20.0;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let quick = std::env::args().any(|a| a == "--quick");
    let (postings, opportunities) = if quick { (500, 2_000) } else { (2_000, 10_000) };

    eprintln!(
        "[1/3] seeding the sandbox with {postings} postings and {opportunities} opportunities..."
    );
    let seeded = Instant::now();
    let seed = SeedSpec {
        seed: 2026,
        postings,
        opportunities,
    };
    let sandbox = Sandbox::start(
        SandboxConfig {
            seed,
            ..SandboxConfig::default()
        },
        "127.0.0.1:0".parse()?,
    )
    .await?;
    eprintln!("      seeded in {:.2?}", seeded.elapsed());
    // What a full sync sees: everything with confidential access, except published postings
    // that are only on the internal site (Lever hides those unless a channel is asked for).
    let expected_postings = sandbox.read(|db| {
        db.postings()
            .filter(|p| {
                p.state != PostingState::Published
                    || p.distribution_channels
                        .as_deref()
                        .unwrap_or(&[])
                        .contains(&DistributionChannel::Public)
            })
            .count()
    });
    let expected_opportunities = sandbox.read(|db| db.opportunities().count());

    // ---- 1. limit on
    eprintln!(
        "[2/3] full sync with Lever's limit on (10 req/s, burst 20): this takes about {:.0} s...",
        {
            let requests = (expected_postings as f64 / 100.0).ceil()
                + (expected_opportunities as f64 / 100.0).ceil();
            (requests - BURST).max(0.0) / RATE
        }
    );
    let key = sandbox.issue_api_key(KeySpec::all("bench").with_confidential(true));
    let client = LeverClient::new(
        ClientConfig::new(&sandbox.api_url())?,
        Credential::api_key(key),
    )?;
    sandbox.reset_stats();
    let started = Instant::now();
    let everything = OpportunityQuery {
        confidentiality: Some("all".into()),
        ..Default::default()
    };
    let all_postings = PostingQuery {
        confidentiality: Some("all".into()),
        ..Default::default()
    };
    let (p, o) = tokio::join!(
        client
            .postings(all_postings)
            .try_fold(0usize, |n, _| async move { Ok(n + 1) }),
        client
            .opportunities(everything)
            .try_fold(0usize, |n, _| async move { Ok(n + 1) }),
    );
    let elapsed = started.elapsed();
    let (p, o) = (p?, o?);
    anyhow::ensure!(
        p == expected_postings && o == expected_opportunities,
        "sync missed records: {p} postings, {o} opportunities"
    );
    let stats = sandbox.stats();
    let requests = stats.total_requests() as f64;
    let minimum = Duration::from_secs_f64((requests - BURST).max(0.0) / RATE);
    let ratio = elapsed.as_secs_f64() / minimum.as_secs_f64();

    // ---- 2. limit off
    eprintln!("[3/3] throughput with the limit off (5 s per workload)...");
    sandbox.set_rate_limit(false);
    let mut unlimited = ClientConfig::new(&sandbox.api_url())?;
    unlimited.rate_per_second = 1_000_000;
    unlimited.burst = 1_000_000;
    let key = sandbox.issue_api_key(KeySpec::all("bench-unlimited"));
    let fast = LeverClient::new(unlimited, Credential::api_key(key))?;
    let some_id = sandbox
        .read(|db| db.opportunities().next().map(|o| o.id.clone()))
        .unwrap_or_default();
    let single = throughput(8, Duration::from_secs(5), || {
        let (c, id) = (fast.clone(), some_id.clone());
        async move { c.opportunity(&id).await.map(|_| ()) }
    })
    .await?;
    let page = throughput(8, Duration::from_secs(5), || {
        let c = fast.clone();
        async move {
            let mut s = c.opportunities(OpportunityQuery::default()).take(100);
            while let Some(item) = s.next().await {
                item?;
            }
            Ok(())
        }
    })
    .await?;

    println!();
    println!(
        "lever_sync on {} cores",
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    );
    println!(
        "  limit on : {p} postings + {o} opportunities in {:.2} s, {} requests",
        elapsed.as_secs_f64(),
        requests as u64
    );
    println!(
        "             theoretical minimum {:.2} s ((requests - {BURST}) / {RATE}/s)",
        minimum.as_secs_f64()
    );
    println!(
        "             ratio {:.4} (target <= 1.05), 429s from the sandbox: {}",
        ratio, stats.rate_limited
    );
    println!(
        "             client waited {:.2?} on its own limiter",
        client.stats().throttle_wait
    );
    println!(
        "  limit off: GET /opportunities/:id        {:>8.0} req/s (8 concurrent)",
        single
    );
    println!(
        "             GET /opportunities?limit=100  {:>8.0} req/s (8 concurrent)",
        page
    );
    sandbox.shutdown().await;
    Ok(())
}

/// Requests per second of `call` run by `workers` concurrent loops for `window`.
async fn throughput<F, Fut>(workers: usize, window: Duration, call: F) -> anyhow::Result<f64>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Result<(), lever_client::LeverError>> + Send + 'static,
{
    let deadline = Instant::now() + window;
    let started = Instant::now();
    let mut done = 0u64;
    let mut inflight = futures::stream::FuturesUnordered::new();
    for _ in 0..workers {
        inflight.push(tokio::spawn(call()));
    }
    while let Some(result) = inflight.next().await {
        result??;
        done += 1;
        if Instant::now() < deadline {
            inflight.push(tokio::spawn(call()));
        }
    }
    Ok(done as f64 / started.elapsed().as_secs_f64())
}
