//! Local rate budgets, one per credential, so that Fulcrum stays under Lever's token bucket
//! (10 req/s, bursts of 20, per API key) instead of discovering it through 429s. Lever's
//! budget belongs to the key, not to a client object, so every client built with the same
//! key and the same `Arc<RateLimits>` draws from one bucket.
//!
//! # Fair sharing between lanes
//!
//! Each request names a *lane* (the host uses the plugin id). While a credential's bucket has
//! room and nobody is queued for it, a request takes a cell at once (no task hop). Otherwise it
//! joins its lane's FIFO queue, and a dispatcher task (one per credential, alive only while
//! someone is queued) waits for each cell of the bucket and hands it to the next lane in
//! round-robin order. A lane with 100 queued requests therefore cannot starve a lane with one:
//! with `L` lanes queued, a lane's head waits for at most `L` cells.
//!
//! Cancellation: a waiter whose future is dropped is skipped (its cell goes to the next
//! waiter). If the dispatcher itself disappears (its runtime shut down), the remaining waiters
//! fall back to waiting on the bucket directly, so nothing hangs.

use governor::{DefaultKeyedRateLimiter, Quota};
use parking_lot::Mutex;
use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::num::NonZeroU32;
use std::sync::Arc;
use tokio::sync::oneshot;

use crate::metrics_names::{LABEL_LANE, RATE_WAITERS};

/// The lane of a client that was not given one (see `LeverClient::for_lane`).
pub const DEFAULT_LANE: &str = "default";

pub struct RateLimits {
    shared: Arc<Shared>,
    rate_per_second: u32,
    burst: u32,
    local_burst: u32,
}

/// What the dispatcher tasks need, so they can outlive a borrow of [`RateLimits`].
struct Shared {
    limiter: DefaultKeyedRateLimiter<String>,
    /// Queues per credential fingerprint. An entry exists exactly while a dispatcher runs for
    /// that fingerprint; the dispatcher removes it when no live waiter is left.
    queues: Mutex<HashMap<String, FairQueue>>,
}

/// The waiters of one credential, by lane.
#[derive(Default)]
struct FairQueue {
    /// Lanes with waiters, in serving order: the front lane gets the next cell, then moves to
    /// the back if it still has waiters. A lane that empties leaves the rotation and rejoins
    /// at the back with its next waiter.
    lanes: VecDeque<Lane>,
}

struct Lane {
    name: String,
    /// FIFO; a sender whose receiver is gone belongs to a cancelled waiter.
    waiters: VecDeque<oneshot::Sender<()>>,
}

impl FairQueue {
    fn push(&mut self, lane: &str, waiter: oneshot::Sender<()>) {
        match self.lanes.iter_mut().find(|l| l.name == lane) {
            Some(l) => l.waiters.push_back(waiter),
            None => self.lanes.push_back(Lane {
                name: lane.to_owned(),
                waiters: VecDeque::from([waiter]),
            }),
        }
    }

    fn has_live_waiters(&self) -> bool {
        self.lanes
            .iter()
            .any(|l| l.waiters.iter().any(|w| !w.is_closed()))
    }

    fn live_waiters(&self) -> usize {
        self.lanes
            .iter()
            .map(|l| l.waiters.iter().filter(|w| !w.is_closed()).count())
            .sum()
    }

    /// Forgets cancelled waiters and the lanes they leave empty.
    fn prune(&mut self) {
        for lane in &mut self.lanes {
            lane.waiters.retain(|w| !w.is_closed());
        }
        self.lanes.retain(|l| !l.waiters.is_empty());
    }

    /// Hands one cell to the next live waiter in round-robin order; false if there is none
    /// (everyone cancelled since the dispatcher last looked: the cell is lost, which errs on
    /// the side of Lever's bucket).
    fn grant(&mut self) -> bool {
        while let Some(mut lane) = self.lanes.pop_front() {
            while let Some(waiter) = lane.waiters.pop_front() {
                if waiter.send(()).is_ok() {
                    if !lane.waiters.is_empty() {
                        self.lanes.push_back(lane);
                    }
                    return true;
                }
            }
        }
        false
    }
}

/// How a request gets its cell.
enum Ticket {
    /// Taken on the spot.
    Ready,
    /// Queued; the dispatcher sends on the channel when it is this request's turn.
    Queued(oneshot::Receiver<()>),
    /// No Tokio runtime to run a dispatcher on: wait on the bucket directly (not fair).
    Direct,
}

impl RateLimits {
    /// Budgets matching Lever's bucket of `rate_per_second` steady and `burst` capacity per
    /// credential fingerprint (GCRA, equivalent to a token bucket).
    ///
    /// One cell of the burst is held back as a jitter cushion: Lever's bucket runs on Lever's
    /// clock, and a request that reaches Lever faster than the one before it (e.g. on a warm
    /// connection after a cold one) would otherwise arrive a hair before Lever's refill and
    /// get a 429. The steady rate is exact, so a long sync is not slowed down; the cushion
    /// costs one request's worth of burst. Zero is raised to one: a limiter that never admits
    /// anything would hang every call.
    pub fn new(rate_per_second: u32, burst: u32) -> Arc<Self> {
        let burst = burst.max(1);
        Self::build(rate_per_second, burst, burst.saturating_sub(1).max(1))
    }

    /// Budgets with exactly `burst` capacity and no jitter cushion.
    pub fn exact(rate_per_second: u32, burst: u32) -> Arc<Self> {
        Self::build(rate_per_second, burst, burst)
    }

    fn build(rate_per_second: u32, burst: u32, local_burst: u32) -> Arc<Self> {
        let rate = NonZeroU32::new(rate_per_second).unwrap_or(NonZeroU32::MIN);
        let local_burst = NonZeroU32::new(local_burst).unwrap_or(NonZeroU32::MIN);
        let quota = Quota::per_second(rate).allow_burst(local_burst);
        Arc::new(RateLimits {
            shared: Arc::new(Shared {
                limiter: DefaultKeyedRateLimiter::keyed(quota),
                queues: Mutex::new(HashMap::new()),
            }),
            rate_per_second: rate.get(),
            burst: burst.max(1),
            local_burst: local_burst.get(),
        })
    }

    /// Waits until the credential with this fingerprint may send one request on behalf of
    /// `lane`. Immediate when the bucket has room and nobody is queued for this credential;
    /// otherwise the request queues behind its own lane only, and lanes take turns (see the
    /// module docs). Dropping the future gives up the place in the queue.
    ///
    /// Queuing needs a Tokio runtime (the dispatcher is a task); outside one this waits on the
    /// bucket directly, without fairness.
    pub async fn until_ready(&self, fingerprint: &str, lane: &str) {
        match self.ticket(fingerprint, lane) {
            Ticket::Ready => {}
            Ticket::Queued(turn) => {
                let _counted = WaitingGauge::new(lane);
                if turn.await.is_err() {
                    // The dispatcher went away without serving us (its runtime shut down).
                    self.shared
                        .limiter
                        .until_key_ready(&fingerprint.to_owned())
                        .await;
                }
            }
            Ticket::Direct => {
                let _counted = WaitingGauge::new(lane);
                self.shared
                    .limiter
                    .until_key_ready(&fingerprint.to_owned())
                    .await;
            }
        }
    }

    /// Takes a cell on the spot if nobody is queued, else joins `lane`'s queue and makes sure a
    /// dispatcher runs. Synchronous, so it cannot be cancelled half-way.
    fn ticket(&self, fingerprint: &str, lane: &str) -> Ticket {
        let mut queues = self.shared.queues.lock();
        let queued = queues
            .get(fingerprint)
            .is_some_and(FairQueue::has_live_waiters);
        // The key type is String; allocating one per request is negligible next to HTTP.
        let key = fingerprint.to_owned();
        if !queued && self.shared.limiter.check_key(&key).is_ok() {
            return Ticket::Ready;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return Ticket::Direct;
        };
        let (tx, rx) = oneshot::channel();
        let start_dispatcher = !queues.contains_key(fingerprint);
        queues.entry(key).or_default().push(lane, tx);
        drop(queues);
        if start_dispatcher {
            runtime.spawn(dispatch(self.shared.clone(), fingerprint.to_owned()));
        }
        Ticket::Queued(rx)
    }

    /// Takes one request's worth of budget if available right now, without waiting. Fails
    /// while requests are queued for this credential (they are served first).
    pub fn try_acquire(&self, fingerprint: &str) -> bool {
        let queues = self.shared.queues.lock();
        if queues
            .get(fingerprint)
            .is_some_and(FairQueue::has_live_waiters)
        {
            return false;
        }
        self.shared
            .limiter
            .check_key(&fingerprint.to_owned())
            .is_ok()
    }

    /// Requests currently queued for this credential's budget, all lanes together.
    pub fn waiters(&self, fingerprint: &str) -> usize {
        self.shared
            .queues
            .lock()
            .get(fingerprint)
            .map_or(0, FairQueue::live_waiters)
    }

    #[cfg(test)]
    fn lane_waiters(&self, fingerprint: &str, lane: &str) -> usize {
        self.shared.queues.lock().get(fingerprint).map_or(0, |q| {
            q.lanes
                .iter()
                .filter(|l| l.name == lane)
                .map(|l| l.waiters.iter().filter(|w| !w.is_closed()).count())
                .sum()
        })
    }

    pub fn rate_per_second(&self) -> u32 {
        self.rate_per_second
    }

    /// The burst this was created for (Lever's).
    pub fn burst(&self) -> u32 {
        self.burst
    }

    /// The burst actually admitted locally (see [`RateLimits::new`]).
    pub fn local_burst(&self) -> u32 {
        self.local_burst
    }
}

/// Serves one credential's queue until it is empty: wait for a cell, hand it to the next lane.
async fn dispatch(shared: Arc<Shared>, fingerprint: String) {
    let mut guard = DispatchGuard {
        shared: &shared,
        fingerprint: &fingerprint,
        finished: false,
    };
    loop {
        {
            let mut queues = shared.queues.lock();
            let live = queues.get_mut(&fingerprint).is_some_and(|q| {
                q.prune();
                !q.lanes.is_empty()
            });
            if !live {
                queues.remove(&fingerprint);
                guard.finished = true;
                return;
            }
        }
        // The waiter is chosen only once the cell is ready, so a lane that queues meanwhile
        // already takes its turn in the rotation.
        shared.limiter.until_key_ready(&fingerprint).await;
        if let Some(queue) = shared.queues.lock().get_mut(&fingerprint) {
            queue.grant();
        }
    }
}

/// If a dispatcher is dropped before it finishes (its runtime is shutting down), its queue is
/// dropped too: every waiter sees its channel close and waits on the bucket directly instead
/// of hanging, and the next request to queue starts a new dispatcher.
struct DispatchGuard<'a> {
    shared: &'a Shared,
    fingerprint: &'a str,
    finished: bool,
}

impl Drop for DispatchGuard<'_> {
    fn drop(&mut self) {
        if !self.finished {
            let orphaned = self.shared.queues.lock().remove(self.fingerprint);
            drop(orphaned);
        }
    }
}

/// Counts one queued request in [`RATE_WAITERS`] while it lives.
struct WaitingGauge(metrics::Gauge);

impl WaitingGauge {
    fn new(lane: &str) -> Self {
        let gauge = metrics::gauge!(RATE_WAITERS, LABEL_LANE => lane.to_owned());
        gauge.increment(1.0);
        WaitingGauge(gauge)
    }
}

impl Drop for WaitingGauge {
    fn drop(&mut self) {
        self.0.decrement(1.0);
    }
}

impl fmt::Debug for RateLimits {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RateLimits")
            .field("rate_per_second", &self.rate_per_second)
            .field("burst", &self.burst)
            .field("local_burst", &self.local_burst)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;
    use tokio::task::JoinHandle;

    /// Generous: the machine running the tests may be slow and busy.
    const PATIENCE: Duration = Duration::from_secs(30);

    #[test]
    fn budgets_are_per_fingerprint() {
        let limits = RateLimits::exact(1, 3);
        for _ in 0..3 {
            assert!(limits.try_acquire("a"));
        }
        assert!(!limits.try_acquire("a"), "burst exhausted");
        assert!(limits.try_acquire("b"), "another key has its own bucket");
    }

    #[test]
    fn zero_is_raised_to_one() {
        let limits = RateLimits::new(0, 0);
        assert_eq!((limits.rate_per_second(), limits.burst()), (1, 1));
        assert!(limits.try_acquire("a"));
        assert_eq!(RateLimits::exact(0, 0).local_burst(), 1);
    }

    #[test]
    fn new_keeps_one_cell_of_jitter_cushion() {
        let limits = RateLimits::new(10, 20);
        assert_eq!((limits.burst(), limits.local_burst()), (20, 19));
        for _ in 0..19 {
            assert!(limits.try_acquire("a"));
        }
        assert!(!limits.try_acquire("a"));
        assert_eq!(RateLimits::new(10, 1).local_burst(), 1);
    }

    #[test]
    fn without_a_runtime_it_still_waits_on_the_bucket() {
        let limits = RateLimits::exact(1000, 1);
        futures::executor::block_on(async {
            limits.until_ready("a", "x").await;
            limits.until_ready("a", "x").await;
        });
        assert_eq!(limits.waiters("a"), 0);
    }

    /// Spawns a waiter that pushes `lane` to `order` when it gets its cell.
    fn waiter(
        limits: &Arc<RateLimits>,
        fingerprint: &'static str,
        lane: &'static str,
        order: &Arc<Mutex<Vec<&'static str>>>,
    ) -> JoinHandle<()> {
        let (limits, order) = (limits.clone(), order.clone());
        tokio::spawn(async move {
            limits.until_ready(fingerprint, lane).await;
            order.lock().push(lane);
        })
    }

    /// Waits until the dispatcher for `fingerprint` has gone.
    async fn until_retired(limits: &RateLimits, fingerprint: &str) {
        tokio::time::timeout(PATIENCE, async {
            while limits.shared.queues.lock().contains_key(fingerprint) {
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        })
        .await
        .expect("the dispatcher retires");
    }

    /// Waits until `n` requests on `fingerprint` are queued or have been served (`order`).
    async fn until_queued(
        limits: &RateLimits,
        fingerprint: &str,
        order: &Mutex<Vec<&'static str>>,
        n: usize,
    ) {
        tokio::time::timeout(PATIENCE, async {
            while limits.waiters(fingerprint) + order.lock().len() < n {
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        })
        .await
        .expect("waiters queued");
    }

    #[tokio::test]
    async fn the_bucket_is_taken_at_once_when_nobody_waits() {
        let limits = RateLimits::exact(1, 3);
        tokio::time::timeout(Duration::from_millis(500), async {
            for _ in 0..3 {
                limits.until_ready("a", "x").await;
            }
        })
        .await
        .expect("the burst needs no waiting");
        assert!(!limits.try_acquire("a"));
    }

    #[tokio::test]
    async fn lanes_take_turns() {
        // 50 cells per second, burst 1: 44 waiters take about 0.9 s.
        let limits = RateLimits::exact(50, 1);
        let order = Arc::new(Mutex::new(Vec::new()));
        let mut tasks: Vec<_> = (0..40)
            .map(|_| waiter(&limits, "fp", "sync", &order))
            .collect();
        // All 40 sync requests are in (the first took the bucket's only cell at once, a few
        // may have been served already) before the webhook requests arrive.
        until_queued(&limits, "fp", &order, 40).await;
        tasks.extend((0..4).map(|_| waiter(&limits, "fp", "webhook", &order)));
        // The grant count once all four webhook requests are queued (or served).
        let enqueued_at = tokio::time::timeout(PATIENCE, async {
            loop {
                {
                    let order = order.lock();
                    let served = order.iter().filter(|l| **l == "webhook").count();
                    if limits.lane_waiters("fp", "webhook") + served == 4 {
                        return order.len();
                    }
                }
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        })
        .await
        .expect("webhook requests queued");
        tokio::time::timeout(PATIENCE, futures::future::join_all(tasks))
            .await
            .expect("every waiter is served");

        let order = order.lock().clone();
        assert_eq!(order.len(), 44);
        let webhooks: Vec<usize> = (0..order.len())
            .filter(|&i| order[i] == "webhook")
            .collect();
        assert_eq!(webhooks.len(), 4);
        for &i in &webhooks {
            assert!(
                i < enqueued_at + 10,
                "a webhook request was served at grant {i}, queued by grant {enqueued_at}: \
                 {order:?}"
            );
        }
        assert_eq!(order.last(), Some(&"sync"), "{order:?}");
        assert_eq!(limits.waiters("fp"), 0);
    }

    #[tokio::test]
    async fn cancelled_waiters_neither_leak_nor_block() {
        let limits = RateLimits::exact(20, 1);
        let order = Arc::new(Mutex::new(Vec::new()));
        assert!(limits.try_acquire("fp"));
        let tasks: Vec<_> = (0..20)
            .map(|i| waiter(&limits, "fp", if i % 2 == 0 { "a" } else { "b" }, &order))
            .collect();
        until_queued(&limits, "fp", &order, 20).await;
        let mut kept = Vec::new();
        for (i, task) in tasks.into_iter().enumerate() {
            if i % 4 < 2 {
                task.abort();
                // Cancelled (or, on a very slow machine, already served): either way it ends.
                let _ = tokio::time::timeout(PATIENCE, task)
                    .await
                    .expect("abort ends it");
            } else {
                kept.push(task);
            }
        }
        let kept = tokio::time::timeout(PATIENCE, futures::future::join_all(kept))
            .await
            .expect("the waiters still queued are all served");
        assert!(kept.iter().all(Result::is_ok));
        assert_eq!(limits.waiters("fp"), 0);
        // The dispatcher retires once nobody is left, and the next request is served.
        tokio::time::timeout(PATIENCE, limits.until_ready("fp", "a"))
            .await
            .expect("a later request is served");
        until_retired(&limits, "fp").await;
    }

    #[tokio::test]
    async fn a_queue_whose_waiters_all_left_still_serves_newcomers() {
        let limits = RateLimits::exact(2, 1);
        let order = Arc::new(Mutex::new(Vec::new()));
        assert!(limits.try_acquire("fp"));
        let tasks: Vec<_> = (0..5).map(|_| waiter(&limits, "fp", "a", &order)).collect();
        until_queued(&limits, "fp", &order, 5).await;
        for task in &tasks {
            task.abort();
        }
        for task in tasks {
            let _ = task.await;
        }
        assert_eq!(limits.waiters("fp"), 0);
        tokio::time::timeout(PATIENCE, limits.until_ready("fp", "b"))
            .await
            .expect("a newcomer is served");
        until_retired(&limits, "fp").await;
    }

    #[tokio::test]
    async fn fingerprints_do_not_share_a_queue() {
        // One cell per second: five queued requests on "a" keep its queue busy for seconds.
        let limits = RateLimits::exact(1, 1);
        let order = Arc::new(Mutex::new(Vec::new()));
        assert!(limits.try_acquire("a"));
        let tasks: Vec<_> = (0..5).map(|_| waiter(&limits, "a", "x", &order)).collect();
        until_queued(&limits, "a", &order, 5).await;
        assert_eq!(limits.waiters("b"), 0);
        assert!(limits.try_acquire("b"), "b's bucket is its own");
        // b's next request queues behind b's own bucket only: one second, not a's five.
        tokio::time::timeout(PATIENCE, limits.until_ready("b", "x"))
            .await
            .expect("b is served");
        assert!(
            limits.waiters("a") >= 3,
            "b was served while a's queue was still busy ({} left)",
            limits.waiters("a")
        );
        for task in tasks {
            task.abort();
        }
    }

    #[test]
    fn waiters_fall_back_to_the_bucket_when_the_dispatcher_dies() {
        let limits = RateLimits::exact(1, 1);
        let single_threaded = || {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap()
        };
        // The dispatcher is spawned on runtime A, which then stops being driven.
        let a = single_threaded();
        a.block_on(async {
            assert!(limits.try_acquire("fp"));
            let order = Arc::new(Mutex::new(Vec::new()));
            let _queued = waiter(&limits, "fp", "a", &order);
            until_queued(&limits, "fp", &order, 1).await;
        });
        // A request from runtime B queues behind A's dispatcher ...
        let from_b = std::thread::spawn({
            let limits = limits.clone();
            move || {
                single_threaded().block_on(async {
                    tokio::time::timeout(PATIENCE, limits.until_ready("fp", "b")).await
                })
            }
        });
        let deadline = std::time::Instant::now() + PATIENCE;
        while limits.waiters("fp") < 2 && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(1));
        }
        assert_eq!(limits.waiters("fp"), 2);
        // ... and is still served once A shuts down and takes the dispatcher with it.
        drop(a);
        from_b
            .join()
            .unwrap()
            .expect("the orphaned waiter falls back to the bucket");
        assert!(!limits.shared.queues.lock().contains_key("fp"));
    }
}
