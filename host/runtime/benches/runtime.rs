//! Runtime benchmarks (not tests): p50/p99 over many iterations.
//!
//! 1. Instantiate + trivial call: `Runtime::invoke(run-action "trivial")` on a fresh store from
//!    the pre-instantiated component (what every production invocation pays), pooling vs
//!    on-demand allocator. Goal: p50 ≤ 25 µs with pooling.
//! 2. Warm host-import round trip: on one warm instance, `state` (input parse, state.set,
//!    state.get, output) minus `trivial`, per import.
//! 3. Sandbox tax: `fulcrum_fixtures_shared::map_applicant` natively vs the same mapping in the
//!    component (warm instance; `map` minus `trivial` with the same input, so instantiation and
//!    passing the input in are excluded; parsing the input, mapping, serializing and copying the
//!    result out are included). Goal: ≤ 1.5x.
//! 4. A Europass CV inside the component (the `cv_render` fixture: the renderer the Remote Tech
//!    Work connector embeds): a fresh instance per CV, as every event gets (instantiate, parse
//!    the fonts, lay out, subset, compress, base64 the PDF out), and native `europass::render`
//!    side by side. Goal: ≤ 5 ms and ≤ 150 KB per CV.
//!
//! Run: `cargo bench -p fulcrum-runtime --bench runtime` (`-- --quick` for fewer iterations).

use fulcrum_runtime::bench::WarmInstance;
use fulcrum_runtime::*;
use serde_json::json;
use std::sync::Arc;
use std::time::{Duration, Instant};

struct Stats {
    p50: Duration,
    p99: Duration,
    mean: Duration,
}

fn stats(mut samples: Vec<Duration>) -> Stats {
    samples.sort();
    let at = |q: f64| samples[((samples.len() as f64 - 1.0) * q).round() as usize];
    let total: Duration = samples.iter().sum();
    Stats {
        p50: at(0.50),
        p99: at(0.99),
        mean: total / samples.len() as u32,
    }
}

fn report(name: &str, s: &Stats) {
    println!(
        "{name:<48} p50 {:>9.2} µs   p99 {:>9.2} µs   mean {:>9.2} µs",
        micros(s.p50),
        micros(s.p99),
        micros(s.mean)
    );
}

fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

fn config(allocator: AllocatorChoice) -> RuntimeConfig {
    RuntimeConfig {
        cache_dir: std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../target/fulcrum-bench-cache"),
        allocator,
        ..RuntimeConfig::default()
    }
}

fn ctx(plugin: &PluginVersion, state: &Arc<MemoryStateStore>) -> InvocationContext {
    InvocationContext::new(
        "bench",
        "bench",
        plugin.id(),
        state.clone(),
        Arc::new(NullAudit),
    )
    .with_grants(Grants::new(
        plugin.requested_permissions(),
        lever_model::Permission::ALL,
    ))
}

/// Benchmarks measure the runtime, not an audit sink.
struct NullAudit;
impl AuditSink for NullAudit {
    fn record(&self, _record: AuditRecord) {}
}

async fn invoke_trivial(
    rt: &Runtime,
    plugin: &Arc<PluginVersion>,
    state: &Arc<MemoryStateStore>,
    n: usize,
) -> Stats {
    let call = Call::action("bench", "trivial", "{}");
    for _ in 0..n / 10 {
        rt.invoke(plugin, ctx(plugin, state), call.clone())
            .await
            .expect("trivial");
    }
    let mut samples = Vec::with_capacity(n);
    for _ in 0..n {
        let c = ctx(plugin, state);
        let call = call.clone();
        let t = Instant::now();
        let out = rt.invoke(plugin, c, call).await;
        samples.push(t.elapsed());
        assert!(
            matches!(out, Ok(CallOutput::ActionResult(Ok(_)))),
            "{out:?}"
        );
    }
    stats(samples)
}

async fn warm(instance: &mut WarmInstance, action: &str, input: &str, n: usize) -> Stats {
    for _ in 0..n / 10 {
        instance
            .action(action, input)
            .await
            .expect("warm-up")
            .expect("action ok");
    }
    let mut samples = Vec::with_capacity(n);
    for _ in 0..n {
        let t = Instant::now();
        let out = instance.action(action, input).await;
        samples.push(t.elapsed());
        assert!(matches!(out, Ok(Ok(_))), "{action}: {out:?}");
    }
    stats(samples)
}

/// Where the time of one invocation goes: store set-up, instantiation, the call, teardown.
async fn breakdown(
    rt: &Runtime,
    plugin: &Arc<PluginVersion>,
    state: &Arc<MemoryStateStore>,
    n: usize,
) -> anyhow::Result<()> {
    let (mut store, mut inst, mut call, mut teardown) = (vec![], vec![], vec![], vec![]);
    for _ in 0..n {
        let c = ctx(plugin, state);
        let t = Instant::now();
        let s = rt.bench().store_only(plugin, c);
        store.push(t.elapsed());
        drop(s);
        let c = ctx(plugin, state);
        let t = Instant::now();
        let mut i = rt.bench().instantiate(plugin, c).await?;
        inst.push(t.elapsed());
        let t = Instant::now();
        i.action("trivial", "{}").await?.expect("ok");
        call.push(t.elapsed());
        let t = Instant::now();
        drop(i);
        teardown.push(t.elapsed());
    }
    report("  store + WASI context + limits", &stats(store));
    report("  store + instantiate", &stats(inst));
    report("  first call on the fresh instance", &stats(call));
    report("  teardown (drop store, return slots)", &stats(teardown));
    Ok(())
}

fn applicant() -> String {
    json!({
        "first_name": " Ada ", "last_name": "Lovelace",
        "email": "Ada@Example.com", "emails": ["ada@example.com", "a.l@analytical.example"],
        "phone": "+44 (20) 7946-0000",
        "headline": "Principal engineer",
        "seniority": "Senior",
        "roles": ["Backend", "Data Engineering", "Platform"],
        "skills": ["Rust", "Go", "SQL", "Kubernetes", "WebAssembly"],
        "location": {"city": "London", "country": "GB"},
        "links": {"github": "HTTPS://GitHub.com/ada/", "site": "ada.example", "linkedin": "https://linkedin.com/in/ada"},
        "posting_id": "post-1"
    })
    .to_string()
}

use europass::samples as cv_samples;

/// 4. One CV per fresh instance (the cost an event pays) vs native; returns (p50, bytes).
async fn europass_cv(
    rt: &Runtime,
    state: &Arc<MemoryStateStore>,
    label: &str,
    cv: &europass::Cv,
    n: usize,
) -> anyhow::Result<(Duration, usize)> {
    let plugin = rt
        .install(std::fs::read(fulcrum_plugin_artifacts::CV_RENDER)?)
        .await?;
    let input = serde_json::to_string(cv)?;
    let call = Call::action("bench", "render", input.clone());
    let mut bytes = 0;
    for _ in 0..n / 10 + 1 {
        rt.invoke(&plugin, ctx(&plugin, state), call.clone())
            .await?;
    }
    let mut in_component = Vec::with_capacity(n);
    for _ in 0..n {
        let c = ctx(&plugin, state);
        let t = Instant::now();
        let out = rt.invoke(&plugin, c, call.clone()).await?;
        in_component.push(t.elapsed());
        let CallOutput::ActionResult(Ok(text)) = out else {
            anyhow::bail!("render failed: {out:?}");
        };
        let value: serde_json::Value = serde_json::from_str(&text)?;
        bytes = value["bytes"].as_u64().unwrap_or_default() as usize;
    }
    let mut native = Vec::with_capacity(n);
    for _ in 0..n {
        let t = Instant::now();
        std::hint::black_box(europass::render(std::hint::black_box(cv))?);
        native.push(t.elapsed());
    }
    let in_component = stats(in_component);
    let native = stats(native);
    report(
        &format!("CV {label}: fresh instance + render"),
        &in_component,
    );
    report(&format!("CV {label}: native europass::render"), &native);
    println!(
        "{:<48} {:>9.2}x, {} bytes",
        "  → component / native (p50)",
        in_component.p50.as_secs_f64() / native.p50.as_secs_f64(),
        bytes
    );
    Ok((in_component.p50, bytes))
}

fn main() -> anyhow::Result<()> {
    let quick = std::env::args().any(|a| a == "--quick");
    let n = if quick { 2_000 } else { 20_000 };
    let tokio = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    tokio.block_on(async move {
        let wasm = std::fs::read(fulcrum_plugin_artifacts::WELL_BEHAVED)?;
        let state = Arc::new(MemoryStateStore::new());
        println!(
            "fulcrum-runtime benchmarks ({n} iterations each; {} cores)",
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1)
        );
        println!();

        // 1. instantiate + trivial call
        let pooled = Runtime::new(config(AllocatorChoice::Pooling))?;
        let plugin = pooled.install(wasm.clone()).await?;
        let s = invoke_trivial(&pooled, &plugin, &state, n).await;
        report("instantiate + trivial call (pooling)", &s);
        let pooled_p50 = s.p50;
        breakdown(&pooled, &plugin, &state, n).await?;
        let on_demand = Runtime::new(config(AllocatorChoice::OnDemand))?;
        let od_plugin = on_demand.install(wasm.clone()).await?;
        let s = invoke_trivial(&on_demand, &od_plugin, &state, n / 4).await;
        report("instantiate + trivial call (on-demand)", &s);
        drop(on_demand);

        // 2. warm host-import round trip
        let mut instance = pooled
            .bench()
            .instantiate(&plugin, ctx(&plugin, &state))
            .await?;
        let trivial = warm(&mut instance, "trivial", "{}", n).await;
        report("warm call: trivial", &trivial);
        let state_call = warm(&mut instance, "state", r#"{"key":"k","value":"v"}"#, n).await;
        report("warm call: state (set + get)", &state_call);
        let per_import = state_call.p50.saturating_sub(trivial.p50) / 2;
        println!(
            "{:<48} p50 {:>9.2} µs",
            "  → host import round trip (state − trivial) / 2",
            micros(per_import)
        );

        // 3. sandbox tax
        let input = applicant();
        let mut native = Vec::with_capacity(n);
        for _ in 0..n / 10 {
            std::hint::black_box(fulcrum_fixtures_shared::map_applicant(
                std::hint::black_box(&input),
            ));
        }
        for _ in 0..n {
            let t = Instant::now();
            std::hint::black_box(fulcrum_fixtures_shared::map_applicant(
                std::hint::black_box(&input),
            ));
            native.push(t.elapsed());
        }
        let native = stats(native);
        report("map_applicant native", &native);
        let trivial_same_input = warm(&mut instance, "trivial", &input, n).await;
        report("warm call: trivial (applicant input)", &trivial_same_input);
        let mapped = warm(&mut instance, "map", &input, n).await;
        report("warm call: map (applicant input)", &mapped);
        let guest = mapped.p50.saturating_sub(trivial_same_input.p50);
        println!(
            "{:<48} p50 {:>9.2} µs",
            "  → guest mapping work (map − trivial)",
            micros(guest)
        );
        println!();
        println!(
            "instantiate + trivial call p50 {:.2} µs (goal ≤ 25 µs): {}",
            micros(pooled_p50),
            if pooled_p50 <= Duration::from_micros(25) {
                "met"
            } else {
                "NOT met"
            }
        );
        let tax = guest.as_secs_f64() / native.p50.as_secs_f64();
        println!(
            "sandbox tax {tax:.2}x (goal ≤ 1.5x): {}",
            if tax <= 1.5 { "met" } else { "NOT met" }
        );

        // 4. Europass CV inside the component
        println!();
        let cvs = n / 50;
        let mut worst = (Duration::ZERO, 0);
        for (label, cv) in [
            ("typical (Latin name, 2 pages)", cv_samples::full_cv()),
            ("CJK name and text", cv_samples::cjk_cv()),
        ] {
            let (p50, bytes) = europass_cv(&pooled, &state, label, &cv, cvs).await?;
            worst = (worst.0.max(p50), worst.1.max(bytes));
        }
        println!(
            "Europass CV in the component p50 {:.2} ms, {} KB (goal ≤ 5 ms, ≤ 150 KB): {}",
            worst.0.as_secs_f64() * 1e3,
            worst.1 / 1024,
            if worst.0 <= Duration::from_millis(5) && worst.1 <= 150 * 1024 {
                "met"
            } else {
                "NOT met"
            }
        );
        anyhow::Ok(())
    })
}
