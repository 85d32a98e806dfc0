//! The dispatcher (OkHttp's `Dispatcher`): which enqueued calls run now, on which threads, and
//! which wait; the queues and limits are the core's [`wayfarer_core::Dispatcher`].

use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};

use wayfarer_core::{Error, IdleCallback};

use crate::call::{Call, CallShared, run_enqueued};
use crate::workers::Workers;

/// A call in the queues, identified by its shared state.
#[derive(Clone)]
pub(crate) struct Key(Arc<CallShared>);

impl PartialEq for Key {
    fn eq(&self, other: &Key) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:p}", Arc::as_ptr(&self.0))
    }
}

/// Runs enqueued calls on its threads within its limits, and knows every call running, as
/// OkHttp's `Dispatcher` does. A client and the clients made from it with
/// [`Client::new_builder`](crate::Client::new_builder) share one.
///
/// Calls started with [`Call::enqueue`] wait in a queue until fewer than
/// [`max_requests`](Self::max_requests) calls run, and fewer than
/// [`max_requests_per_host`](Self::max_requests_per_host) to their host; then they run on a
/// dispatcher thread, in order (a call whose host is busy lets later calls to other hosts go
/// first). Calls run with [`Call::execute`] count as running but are never held back. A call
/// runs until its response body has been read or dropped.
///
/// ```
/// use wayfarer_blocking::Client;
///
/// let client = Client::builder().max_requests(16).build()?;
/// let dispatcher = client.dispatcher();
/// assert_eq!((dispatcher.max_requests(), dispatcher.max_requests_per_host()), (16, 5));
/// dispatcher.set_max_requests_per_host(8)?;
/// dispatcher.set_idle_callback(|| println!("nothing runs any more"));
/// assert_eq!(dispatcher.running_calls_count(), 0);
/// # Ok::<(), wayfarer_blocking::Error>(())
/// ```
#[derive(Clone)]
pub struct Dispatcher {
    state: Arc<State>,
}

struct State {
    queues: Mutex<wayfarer_core::Dispatcher<Key>>,
    idle: IdleCallback,
    workers: Workers,
}

impl fmt::Debug for Dispatcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Dispatcher")
            .field("queues", &*self.queues())
            .finish_non_exhaustive()
    }
}

impl Dispatcher {
    pub(crate) fn new(max_requests: usize, max_requests_per_host: usize) -> Dispatcher {
        let mut queues = wayfarer_core::Dispatcher::new();
        // The configuration checked both limits when it was built.
        let _ = queues.set_max_requests(max_requests.max(1));
        let _ = queues.set_max_requests_per_host(max_requests_per_host.max(1));
        Dispatcher {
            state: Arc::new(State {
                queues: Mutex::new(queues),
                idle: IdleCallback::default(),
                workers: Workers::default(),
            }),
        }
    }

    fn queues(&self) -> MutexGuard<'_, wayfarer_core::Dispatcher<Key>> {
        // Every operation under this lock is a few vector operations: no panic leaves it half
        // done.
        self.state.queues.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The threads enqueued calls (and name lookups) run on.
    pub(crate) fn workers(&self) -> &Workers {
        &self.state.workers
    }

    /// Most calls run at once.
    pub fn max_requests(&self) -> usize {
        self.queues().max_requests()
    }

    /// Changes the overall limit (at least 1); queued calls that now fit start at once.
    pub fn set_max_requests(&self, max: usize) -> Result<(), Error> {
        let start = self.queues().set_max_requests(max)?;
        self.start(start);
        Ok(())
    }

    /// Most calls run at once to one host name.
    pub fn max_requests_per_host(&self) -> usize {
        self.queues().max_requests_per_host()
    }

    /// Changes the per-host limit (at least 1); queued calls that now fit start at once.
    pub fn set_max_requests_per_host(&self, max: usize) -> Result<(), Error> {
        let start = self.queues().set_max_requests_per_host(max)?;
        self.start(start);
        Ok(())
    }

    /// Runs `callback` (on the thread of the call that ended) each time the dispatcher
    /// becomes idle: the last running call ended and none is queued.
    ///
    /// The dispatcher keeps the callback for as long as a client uses it: a callback that
    /// owns a clone of the client keeps that client, its pool and its connections alive for
    /// ever. Let it own what it reports to (a channel's sender, a counter) instead.
    pub fn set_idle_callback(&self, callback: impl Fn() + Send + Sync + 'static) {
        self.state.idle.set(callback);
    }

    /// The calls waiting to run, in the order they will be considered.
    pub fn queued_calls(&self) -> Vec<Call> {
        calls(self.queues().queued_calls())
    }

    /// The calls running: executed ones first, then enqueued ones, each in start order.
    pub fn running_calls(&self) -> Vec<Call> {
        calls(self.queues().running_calls())
    }

    /// Number of calls waiting to run.
    pub fn queued_calls_count(&self) -> usize {
        self.queues().queued_calls_count()
    }

    /// Number of calls running, executed and enqueued.
    pub fn running_calls_count(&self) -> usize {
        self.queues().running_calls_count()
    }

    /// Cancels every queued and running call (OkHttp's `cancelAll`). Queued calls leave the
    /// queue and fail at once, so every callback hears of its call.
    pub fn cancel_all(&self) {
        let all = self.queues().cancel_all();
        for Key(call) in all {
            self.cancel(&call);
        }
    }

    /// Cancels `call`. A queued one leaves the queue (its place is not held for a call that
    /// can only fail) and runs at once on a dispatcher thread, where it fails as canceled and
    /// tells its callback. Until then it counts as running (toward neither limit, as an
    /// executed call), so the idle callback waits for its callback.
    pub(crate) fn cancel(&self, call: &Arc<CallShared>) {
        call.cancel.cancel();
        let key = Key(call.clone());
        let dequeued = {
            let mut queues = self.queues();
            let dequeued = queues.dequeue(&key);
            if dequeued {
                queues.executed(key.clone(), String::new());
            }
            dequeued
        };
        if dequeued {
            let slot = Slot { key: key.clone() };
            self.state
                .workers
                .execute(move || run_enqueued(key.0, slot));
        }
    }

    /// Records a call about to run on its caller's thread; it is finished when the returned
    /// slot drops.
    pub(crate) fn executed(&self, call: &Arc<CallShared>) -> Slot {
        let key = Key(call.clone());
        // Executed calls count toward neither limit, so their host is never looked at.
        self.queues().executed(key.clone(), String::new());
        Slot { key }
    }

    /// Queues an enqueued call to `host`.
    pub(crate) fn enqueue(&self, call: Arc<CallShared>, host: String) {
        let start = self.queues().enqueue(Key(call), host);
        self.start(start);
    }

    /// Runs promoted calls on dispatcher threads.
    fn start(&self, calls: Vec<Key>) {
        for key in calls {
            let slot = Slot { key: key.clone() };
            self.state
                .workers
                .execute(move || run_enqueued(key.0, slot));
        }
    }

    fn finished(&self, key: &Key) {
        let Some(finished) = self.queues().finished(key) else {
            return;
        };
        self.start(finished.start);
        if finished.idle {
            self.state.idle.run(std::thread::panicking);
        }
    }
}

fn calls<'a>(keys: impl Iterator<Item = &'a Key>) -> Vec<Call> {
    keys.map(|k| Call {
        shared: k.0.clone(),
    })
    .collect()
}

/// A call's place among the running calls: it is finished (and queued calls promoted) when
/// this drops, which is when the response body has been read or dropped, or the call failed.
///
/// The slot reaches its dispatcher through the call, whose client's dispatcher is the one it
/// runs under: a count of the dispatcher of its own would cost two atomic operations per call.
pub(crate) struct Slot {
    key: Key,
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.key.0.inner.dispatcher.finished(&self.key);
    }
}

impl fmt::Debug for Slot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Slot").field("call", &self.key).finish()
    }
}
