//! The dispatcher: which asynchronous calls run now and which wait (OkHttp's `Dispatcher`).

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use crate::Error;

/// OkHttp's default limit on async calls running at once.
const DEFAULT_MAX_REQUESTS: usize = 64;

/// OkHttp's default limit on async calls running at once to one host.
const DEFAULT_MAX_REQUESTS_PER_HOST: usize = 5;

struct Entry<C> {
    call: C,
    host: String,
}

/// Ready and running calls, and the limits that decide when a ready call starts.
///
/// Pure queues, no executor: every operation returns the calls the runtime must start now,
/// and [`Dispatcher::finished`] also says when nothing runs any more (OkHttp's idle callback).
///
/// ```text
///  enqueue ──▶ ready ──promote──▶ running async ──finished──▶ (promote again; idle?)
///  execute ─────────────────────▶ running sync  ──finished──▶ (promote again; idle?)
/// ```
///
/// Promotion walks the ready calls in order: it stops when [`max_requests`] async calls run,
/// and skips a call whose host already has [`max_requests_per_host`] async calls running (a
/// later call to another host may start before it). As in OkHttp, synchronous calls count as
/// running (for [`running_calls`] and the idle signal) but not toward either limit, and the
/// per-host limit counts by URL host name: two names for one IP, or calls through one proxy,
/// are counted apart.
///
/// [`max_requests`]: Dispatcher::max_requests
/// [`max_requests_per_host`]: Dispatcher::max_requests_per_host
/// [`running_calls`]: Dispatcher::running_calls
///
/// Generic over the call handle `C` the runtime keeps (a [`CallId`](crate::CallId), an index,
/// a task handle); calls are identified by equality.
///
/// ```
/// use wayfarer_core::Dispatcher;
///
/// let mut dispatcher = Dispatcher::new();
/// dispatcher.set_max_requests_per_host(1)?;
/// assert_eq!(dispatcher.enqueue("a1", "a.example"), ["a1"]);
/// assert_eq!(dispatcher.enqueue("a2", "a.example"), Vec::<&str>::new()); // host is busy
/// assert_eq!(dispatcher.enqueue("b1", "b.example"), ["b1"]);
///
/// let finished = dispatcher.finished(&"a1").expect("a1 was running");
/// assert_eq!(finished.start, ["a2"]);
/// assert!(!finished.idle);
/// # Ok::<(), wayfarer_core::Error>(())
/// ```
pub struct Dispatcher<C> {
    ready: VecDeque<Entry<C>>,
    /// Running calls in start order. Deques: calls tend to finish in the order they started,
    /// and a deque takes one out near its front without moving the rest (a `Vec` moved every
    /// later entry, about 200 instructions per call at 64 running).
    running_async: VecDeque<Entry<C>>,
    running_sync: VecDeque<Entry<C>>,
    /// Running async calls per host. Every call to a host shares its count, whether it was
    /// enqueued before or after the others and moved to running since (OkHttp shares one
    /// counter object among a host's calls; a map by host name is the same thing).
    per_host: HashMap<String, usize>,
    max_requests: usize,
    max_requests_per_host: usize,
}

/// What [`Dispatcher::finished`] decided.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use = "the promoted calls must be started"]
pub struct Finished<C> {
    /// Ready calls promoted to running: start them now, in this order.
    pub start: Vec<C>,
    /// Nothing runs any more, sync or async: the moment OkHttp runs its idle callback.
    pub idle: bool,
}

/// The dispatcher's idle callback (OkHttp's `idleCallback`), held for a runtime: set rarely,
/// looked at whenever the last running call ends, which for a caller making one call at a time
/// is after every call. A flag says whether one was ever set, so a client without one takes
/// no lock then.
///
/// ```
/// use std::sync::Arc;
/// use std::sync::atomic::{AtomicUsize, Ordering};
/// use wayfarer_core::IdleCallback;
///
/// let hook = IdleCallback::default();
/// hook.run(|| false); // none set: nothing happens
/// let ran = Arc::new(AtomicUsize::new(0));
/// let counter = ran.clone();
/// hook.set(move || {
///     counter.fetch_add(1, Ordering::Relaxed);
/// });
/// hook.run(|| false);
/// assert_eq!(ran.load(Ordering::Relaxed), 1);
/// ```
#[derive(Default)]
pub struct IdleCallback {
    set: AtomicBool,
    callback: Mutex<Option<Arc<dyn Fn() + Send + Sync>>>,
}

impl IdleCallback {
    /// Sets the callback, replacing any earlier one.
    pub fn set(&self, callback: impl Fn() + Send + Sync + 'static) {
        *self.callback.lock().unwrap_or_else(|p| p.into_inner()) = Some(Arc::new(callback));
        self.set.store(true, Ordering::Release);
    }

    /// Runs the callback, if one is set, outside the lock (it may set another).
    ///
    /// When `unwinding` says the thread unwinds already (a callback or the caller's code
    /// panicked, dropping a call; the runtime passes `std::thread::panicking`), a panic of the
    /// callback is caught and ends here: a second panic would abort the process.
    pub fn run(&self, unwinding: fn() -> bool) {
        if !self.set.load(Ordering::Acquire) {
            return;
        }
        let callback = self
            .callback
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        let Some(callback) = callback else {
            return;
        };
        if unwinding() {
            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| callback()));
        } else {
            callback();
        }
    }
}

impl fmt::Debug for IdleCallback {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IdleCallback")
            .field("set", &self.set.load(Ordering::Relaxed))
            .finish()
    }
}

impl<C: fmt::Debug> fmt::Debug for Dispatcher<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let calls = |q: &mut dyn Iterator<Item = &Entry<C>>| -> Vec<String> {
            q.map(|e| format!("{:?}@{}", e.call, e.host)).collect()
        };
        f.debug_struct("Dispatcher")
            .field("ready", &calls(&mut self.ready.iter()))
            .field("running_async", &calls(&mut self.running_async.iter()))
            .field("running_sync", &calls(&mut self.running_sync.iter()))
            .field("max_requests", &self.max_requests)
            .field("max_requests_per_host", &self.max_requests_per_host)
            .finish()
    }
}

impl<C: Clone + PartialEq> Default for Dispatcher<C> {
    fn default() -> Dispatcher<C> {
        Dispatcher::new()
    }
}

impl<C: Clone + PartialEq> Dispatcher<C> {
    /// An empty dispatcher with OkHttp's limits: 64 calls, 5 per host.
    pub fn new() -> Dispatcher<C> {
        Dispatcher {
            ready: VecDeque::new(),
            running_async: VecDeque::new(),
            running_sync: VecDeque::new(),
            per_host: HashMap::new(),
            max_requests: DEFAULT_MAX_REQUESTS,
            max_requests_per_host: DEFAULT_MAX_REQUESTS_PER_HOST,
        }
    }

    /// The most async calls running at once.
    pub fn max_requests(&self) -> usize {
        self.max_requests
    }

    /// The most async calls running at once to one host.
    pub fn max_requests_per_host(&self) -> usize {
        self.max_requests_per_host
    }

    /// Changes the overall limit (at least 1) and promotes at once: returns the calls to start.
    /// Calls already running over a lowered limit keep running.
    pub fn set_max_requests(&mut self, max: usize) -> Result<Vec<C>, Error> {
        if max < 1 {
            return Err(Error::invalid_input(format!("max requests < 1: {max}")));
        }
        self.max_requests = max;
        Ok(self.promote())
    }

    /// Changes the per-host limit (at least 1) and promotes at once: returns the calls to start.
    pub fn set_max_requests_per_host(&mut self, max: usize) -> Result<Vec<C>, Error> {
        if max < 1 {
            return Err(Error::invalid_input(format!(
                "max requests per host < 1: {max}"
            )));
        }
        self.max_requests_per_host = max;
        Ok(self.promote())
    }

    /// Queues an async call to `host` (the URL's host name) and promotes: returns the calls to
    /// start now, possibly including this one.
    pub fn enqueue(&mut self, call: C, host: impl Into<String>) -> Vec<C> {
        self.ready.push_back(Entry {
            call,
            host: host.into(),
        });
        self.promote()
    }

    /// Records a synchronous call that the caller runs now (OkHttp's `executed`). It counts as
    /// running until [`finished`](Self::finished), but toward neither limit.
    pub fn executed(&mut self, call: C, host: impl Into<String>) {
        self.running_sync.push_back(Entry {
            call,
            host: host.into(),
        });
    }

    /// Records that a running call (async or sync) is done, and promotes. `None` when the call
    /// was not running (OkHttp: "Call wasn't in-flight!").
    pub fn finished(&mut self, call: &C) -> Option<Finished<C>> {
        if let Some(entry) = take(&mut self.running_async, call) {
            if let Some(count) = self.per_host.get_mut(&entry.host) {
                *count -= 1;
                if *count == 0 {
                    self.per_host.remove(&entry.host);
                }
            }
        } else if take(&mut self.running_sync, call).is_none() {
            return None;
        }
        let start = self.promote();
        Some(Finished {
            start,
            idle: self.running_calls_count() == 0,
        })
    }

    /// Takes a call that has not started out of the ready queue (its caller gave up on it
    /// before it was promoted). Returns whether it was queued; a running call must be
    /// [`finished`](Self::finished) instead.
    pub fn dequeue(&mut self, call: &C) -> bool {
        match self.ready.iter().position(|e| e.call == *call) {
            Some(pos) => {
                self.ready.remove(pos);
                true
            }
            None => false,
        }
    }

    /// Every call to cancel, queued and running, sync and async, in that order (OkHttp's
    /// `cancelAll`). The queues are unchanged: as in OkHttp, a canceled call still runs its
    /// course (it fails fast as canceled) and is reported [`finished`](Self::finished).
    pub fn cancel_all(&self) -> Vec<C> {
        self.ready
            .iter()
            .chain(&self.running_async)
            .chain(&self.running_sync)
            .map(|e| e.call.clone())
            .collect()
    }

    /// The calls waiting to run, in the order they will be considered.
    pub fn queued_calls(&self) -> impl Iterator<Item = &C> {
        self.ready.iter().map(|e| &e.call)
    }

    /// The calls running: synchronous ones first, then asynchronous ones, each in start order.
    pub fn running_calls(&self) -> impl Iterator<Item = &C> {
        self.running_sync
            .iter()
            .chain(&self.running_async)
            .map(|e| &e.call)
    }

    /// Number of calls waiting to run.
    pub fn queued_calls_count(&self) -> usize {
        self.ready.len()
    }

    /// Number of calls running, sync and async.
    pub fn running_calls_count(&self) -> usize {
        self.running_async.len() + self.running_sync.len()
    }

    /// Number of async calls running to `host`.
    pub fn running_calls_for_host(&self, host: &str) -> usize {
        self.per_host.get(host).copied().unwrap_or(0)
    }

    /// Moves eligible ready calls to running, in order (OkHttp's `promoteAndExecute`).
    fn promote(&mut self) -> Vec<C> {
        let mut start = Vec::new();
        let mut i = 0;
        while i < self.ready.len() {
            if self.running_async.len() >= self.max_requests {
                break;
            }
            let host = &self.ready[i].host;
            if self.running_calls_for_host(host) >= self.max_requests_per_host {
                i += 1;
                continue;
            }
            let Some(entry) = self.ready.remove(i) else {
                break;
            };
            *self.per_host.entry(entry.host.clone()).or_insert(0) += 1;
            start.push(entry.call.clone());
            self.running_async.push_back(entry);
        }
        start
    }
}

/// Takes `call`'s entry out of `running`, keeping the others in order.
fn take<C: PartialEq>(running: &mut VecDeque<Entry<C>>, call: &C) -> Option<Entry<C>> {
    let pos = running.iter().position(|e| e.call == *call)?;
    running.remove(pos)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Calls are named by URL, as in OkHttp's DispatcherTest; the host is the part before '/'.
    fn enqueue(d: &mut Dispatcher<&'static str>, call: &'static str) -> Vec<&'static str> {
        let host = call.split('/').next().unwrap_or_default();
        d.enqueue(call, host)
    }

    /// OkHttp's test setup: 20 requests, 10 per host.
    fn dispatcher() -> Dispatcher<&'static str> {
        let mut d = Dispatcher::new();
        let _ = d.set_max_requests(20).unwrap();
        let _ = d.set_max_requests_per_host(10).unwrap();
        d
    }

    fn running(d: &Dispatcher<&'static str>) -> Vec<&'static str> {
        d.running_calls().copied().collect()
    }

    fn queued(d: &Dispatcher<&'static str>) -> Vec<&'static str> {
        d.queued_calls().copied().collect()
    }

    #[test]
    fn defaults_are_okhttps() {
        let d: Dispatcher<u32> = Dispatcher::new();
        assert_eq!((d.max_requests(), d.max_requests_per_host()), (64, 5));
    }

    #[test]
    fn limits_below_one_are_refused() {
        let mut d = dispatcher();
        assert_eq!(
            d.set_max_requests(0).unwrap_err().kind(),
            crate::ErrorKind::InvalidInput
        );
        assert!(d.set_max_requests_per_host(0).is_err());
        assert_eq!((d.max_requests(), d.max_requests_per_host()), (20, 10));
    }

    #[test]
    fn enqueued_jobs_run_immediately() {
        let mut d = dispatcher();
        assert_eq!(enqueue(&mut d, "a/1"), ["a/1"]);
        assert_eq!(running(&d), ["a/1"]);
    }

    #[test]
    fn max_requests_enforced() {
        let mut d = dispatcher();
        let _ = d.set_max_requests(3).unwrap();
        let mut started = Vec::new();
        for call in ["a/1", "a/2", "b/1", "b/2"] {
            started.extend(enqueue(&mut d, call));
        }
        assert_eq!(started, ["a/1", "a/2", "b/1"]);
        assert_eq!(queued(&d), ["b/2"]);
    }

    #[test]
    fn max_per_host_enforced() {
        let mut d = dispatcher();
        let _ = d.set_max_requests_per_host(2).unwrap();
        let mut started = Vec::new();
        for call in ["a/1", "a/2", "a/3"] {
            started.extend(enqueue(&mut d, call));
        }
        assert_eq!(started, ["a/1", "a/2"]);
        assert_eq!(queued(&d), ["a/3"]);
        assert_eq!(d.running_calls_for_host("a"), 2);
    }

    #[test]
    fn increasing_max_requests_promotes_jobs_immediately() {
        let mut d = dispatcher();
        let _ = d.set_max_requests(2).unwrap();
        for call in ["a/1", "b/1", "c/1", "a/2", "b/2"] {
            let _ = enqueue(&mut d, call);
        }
        assert_eq!(queued(&d), ["c/1", "a/2", "b/2"]);
        assert_eq!(d.set_max_requests(4).unwrap(), ["c/1", "a/2"]);
        assert_eq!(running(&d), ["a/1", "b/1", "c/1", "a/2"]);
        assert_eq!(queued(&d), ["b/2"]);
    }

    #[test]
    fn increasing_max_per_host_promotes_jobs_immediately() {
        let mut d = dispatcher();
        let _ = d.set_max_requests_per_host(2).unwrap();
        for call in ["a/1", "a/2", "a/3", "a/4", "a/5"] {
            let _ = enqueue(&mut d, call);
        }
        assert_eq!(queued(&d), ["a/3", "a/4", "a/5"]);
        assert_eq!(d.set_max_requests_per_host(4).unwrap(), ["a/3", "a/4"]);
        assert_eq!(running(&d), ["a/1", "a/2", "a/3", "a/4"]);
    }

    #[test]
    fn old_job_finishes_new_job_can_run_different_host() {
        let mut d = dispatcher();
        let _ = d.set_max_requests(1).unwrap();
        let _ = enqueue(&mut d, "a/1");
        assert!(enqueue(&mut d, "b/1").is_empty());
        let f = d.finished(&"a/1").unwrap();
        assert_eq!(f.start, ["b/1"]);
        assert!(!f.idle);
        assert_eq!(running(&d), ["b/1"]);
    }

    #[test]
    fn old_job_finishes_new_job_with_same_host_starts() {
        let mut d = dispatcher();
        let _ = d.set_max_requests(2).unwrap();
        let _ = d.set_max_requests_per_host(1).unwrap();
        for call in ["a/1", "b/1", "b/2", "a/2"] {
            let _ = enqueue(&mut d, call);
        }
        // b/2 is skipped (b busy); a/2 behind it starts when a/1 finishes.
        assert_eq!(d.finished(&"a/1").unwrap().start, ["a/2"]);
        assert_eq!(running(&d), ["b/1", "a/2"]);
        assert_eq!(queued(&d), ["b/2"]);
    }

    #[test]
    fn old_job_finishes_new_job_cant_run_due_to_host_limit() {
        let mut d = dispatcher();
        let _ = d.set_max_requests_per_host(1).unwrap();
        for call in ["a/1", "b/1", "a/2"] {
            let _ = enqueue(&mut d, call);
        }
        assert!(d.finished(&"b/1").unwrap().start.is_empty());
        assert_eq!(running(&d), ["a/1"]);
        assert_eq!(queued(&d), ["a/2"]);
    }

    #[test]
    fn enqueued_calls_still_respect_max_calls_per_host() {
        let mut d = dispatcher();
        let _ = d.set_max_requests(1).unwrap();
        let _ = d.set_max_requests_per_host(1).unwrap();
        for call in ["a/1", "b/1", "b/2", "b/3"] {
            let _ = enqueue(&mut d, call);
        }
        assert_eq!(d.set_max_requests(3).unwrap(), ["b/1"]);
        assert!(d.finished(&"a/1").unwrap().start.is_empty());
        assert_eq!(running(&d), ["b/1"]);
        assert_eq!(queued(&d), ["b/2", "b/3"]);
    }

    #[test]
    fn a_host_count_is_shared_by_calls_promoted_at_different_times() {
        let mut d = dispatcher();
        let _ = d.set_max_requests(2).unwrap();
        let _ = d.set_max_requests_per_host(2).unwrap();
        for call in ["x/1", "y/1", "a/1", "a/2", "a/3"] {
            let _ = enqueue(&mut d, call);
        }
        assert_eq!(d.finished(&"x/1").unwrap().start, ["a/1"]);
        assert_eq!(d.finished(&"y/1").unwrap().start, ["a/2"]);
        assert_eq!(d.running_calls_for_host("a"), 2);
        let _ = d.set_max_requests(10).unwrap();
        // a/3 joins the host's count: still two running to "a".
        assert_eq!(queued(&d), ["a/3"]);
        assert_eq!(d.finished(&"a/1").unwrap().start, ["a/3"]);
        assert_eq!(d.running_calls_for_host("a"), 2);
    }

    #[test]
    fn canceling_a_running_job_takes_no_effect_until_it_finishes() {
        let mut d = dispatcher();
        let _ = d.set_max_requests(1).unwrap();
        let _ = enqueue(&mut d, "a/1");
        let _ = enqueue(&mut d, "a/2");
        assert_eq!(d.cancel_all(), ["a/2", "a/1"]);
        assert_eq!(running(&d), ["a/1"]);
        assert_eq!(d.finished(&"a/1").unwrap().start, ["a/2"]);
    }

    #[test]
    fn async_call_accessors() {
        let mut d = dispatcher();
        let _ = d.set_max_requests(3).unwrap();
        for call in ["a/1", "a/2", "a/3", "a/4", "a/5"] {
            let _ = enqueue(&mut d, call);
        }
        assert_eq!((d.running_calls_count(), d.queued_calls_count()), (3, 2));
        assert_eq!(running(&d), ["a/1", "a/2", "a/3"]);
        assert_eq!(queued(&d), ["a/4", "a/5"]);
    }

    #[test]
    fn synchronous_calls_count_as_running_but_not_toward_limits() {
        let mut d = dispatcher();
        let _ = d.set_max_requests(1).unwrap();
        let _ = d.set_max_requests_per_host(1).unwrap();
        d.executed("a/1", "a");
        d.executed("a/2", "a");
        assert_eq!((d.running_calls_count(), d.queued_calls_count()), (2, 0));
        assert_eq!(enqueue(&mut d, "a/3"), ["a/3"]);
        assert_eq!(running(&d), ["a/1", "a/2", "a/3"]);
        assert_eq!(d.cancel_all(), ["a/3", "a/1", "a/2"]);
        let f = d.finished(&"a/1").unwrap();
        assert_eq!((f.start.len(), f.idle), (0, false));
        assert_eq!(d.finished(&"a/2").map(|f| f.idle), Some(false));
        assert_eq!(d.finished(&"a/3").map(|f| f.idle), Some(true));
    }

    #[test]
    fn calls_finishing_out_of_order_leave_the_others_in_start_order() {
        let mut d = dispatcher();
        for call in ["s/1", "s/2", "s/3", "s/4", "s/5"] {
            d.executed(call, "s");
        }
        for call in ["a/1", "b/1", "c/1", "d/1"] {
            let _ = enqueue(&mut d, call);
        }
        // Near the front, at the back, in the middle, at the front.
        for call in ["s/2", "s/5", "c/1", "a/1", "s/1"] {
            assert!(d.finished(&call).is_some(), "{call}");
        }
        assert_eq!(running(&d), ["s/3", "s/4", "b/1", "d/1"]);
        assert_eq!(
            (d.running_calls_for_host("a"), d.running_calls_for_host("c")),
            (0, 0)
        );
        assert_eq!(d.running_calls_for_host("b"), 1);
        for call in ["d/1", "s/4", "b/1", "s/3"] {
            assert!(d.finished(&call).is_some(), "{call}");
        }
        assert_eq!(d.running_calls_count(), 0);
    }

    #[test]
    fn idle_is_signalled_when_nothing_runs() {
        let mut d = dispatcher();
        let _ = enqueue(&mut d, "a/1");
        let _ = enqueue(&mut d, "a/2");
        assert!(!d.finished(&"a/1").unwrap().idle);
        d.executed("a/3", "a");
        assert!(!d.finished(&"a/2").unwrap().idle);
        assert!(d.finished(&"a/3").unwrap().idle);
        // Finishing a call that is not running is reported, not a panic.
        assert_eq!(d.finished(&"a/3"), None);
        assert_eq!(d.finished(&"nope"), None);
    }

    #[test]
    fn a_call_given_up_before_it_starts_leaves_the_queue() {
        let mut d = dispatcher();
        let _ = d.set_max_requests(1).unwrap();
        for call in ["a/1", "b/1", "c/1"] {
            let _ = enqueue(&mut d, call);
        }
        assert!(d.dequeue(&"b/1"));
        assert!(!d.dequeue(&"b/1"));
        assert!(
            !d.dequeue(&"a/1"),
            "running calls are finished, not dequeued"
        );
        assert_eq!(d.finished(&"a/1").unwrap().start, ["c/1"]);
        assert_eq!(queued(&d), Vec::<&str>::new());
    }

    #[test]
    fn idle_waits_for_promoted_calls() {
        let mut d = dispatcher();
        let _ = d.set_max_requests(1).unwrap();
        let _ = enqueue(&mut d, "a/1");
        let _ = enqueue(&mut d, "b/1");
        let f = d.finished(&"a/1").unwrap();
        assert_eq!((f.start, f.idle), (vec!["b/1"], false));
        assert_eq!(
            d.finished(&"b/1"),
            Some(Finished {
                start: vec![],
                idle: true
            })
        );
    }
}
