//! The dispatcher (OkHttp's `Dispatcher`): which enqueued calls run now and which wait; the
//! queues and limits are the core's [`wayfarer_core::Dispatcher`].

use std::fmt;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, MutexGuard};

use wayfarer_core::{Error, IdleCallback};

use crate::call::{Call, CallShared};
use crate::net::Net;

/// A call in the queues, identified by its shared state.
pub(crate) struct Key<N: Net>(pub(crate) Arc<CallShared<N>>);

impl<N: Net> Clone for Key<N> {
    fn clone(&self) -> Key<N> {
        Key(self.0.clone())
    }
}

impl<N: Net> PartialEq for Key<N> {
    fn eq(&self, other: &Key<N>) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl<N: Net> fmt::Debug for Key<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:p}", Arc::as_ptr(&self.0))
    }
}

/// Holds enqueued calls back until its limits allow them, and knows every call running, as
/// OkHttp's `Dispatcher` does. A client and the clients made from it with
/// [`Client::new_builder`](crate::Client::new_builder) share one.
///
/// A call's [`enqueue`](crate::Call::enqueue) future waits in the queue until fewer than
/// [`max_requests`](Self::max_requests) calls run, and fewer than
/// [`max_requests_per_host`](Self::max_requests_per_host) to its host; then it runs, inside
/// the task that awaits it. Queued calls are considered in order (a call whose host is busy
/// lets later calls to other hosts go first). Calls run with
/// [`execute`](crate::Call::execute) count as running but are never held back. A call runs
/// until its response body has been read or dropped.
pub struct Dispatcher<N: Net> {
    state: Arc<State<N>>,
}

struct State<N: Net> {
    queues: Mutex<wayfarer_core::Dispatcher<Key<N>>>,
    idle: IdleCallback,
}

impl<N: Net> Clone for Dispatcher<N> {
    fn clone(&self) -> Dispatcher<N> {
        Dispatcher {
            state: self.state.clone(),
        }
    }
}

impl<N: Net> fmt::Debug for Dispatcher<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Dispatcher")
            .field("queues", &*self.queues())
            .finish_non_exhaustive()
    }
}

impl<N: Net> Dispatcher<N> {
    pub(crate) fn new(max_requests: usize, max_requests_per_host: usize) -> Dispatcher<N> {
        let mut queues = wayfarer_core::Dispatcher::new();
        // The configuration checked both limits when it was built.
        let _ = queues.set_max_requests(max_requests.max(1));
        let _ = queues.set_max_requests_per_host(max_requests_per_host.max(1));
        Dispatcher {
            state: Arc::new(State {
                queues: Mutex::new(queues),
                idle: IdleCallback::default(),
            }),
        }
    }

    fn queues(&self) -> MutexGuard<'_, wayfarer_core::Dispatcher<Key<N>>> {
        // Every operation under this lock is a few vector operations: no panic leaves it half
        // done.
        self.state.queues.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Most calls run at once.
    pub fn max_requests(&self) -> usize {
        self.queues().max_requests()
    }

    /// Changes the overall limit (at least 1); queued calls that now fit start at once.
    pub fn set_max_requests(&self, max: usize) -> Result<(), Error> {
        let start = self.queues().set_max_requests(max)?;
        start_all(start);
        Ok(())
    }

    /// Most calls run at once to one host name.
    pub fn max_requests_per_host(&self) -> usize {
        self.queues().max_requests_per_host()
    }

    /// Changes the per-host limit (at least 1); queued calls that now fit start at once.
    pub fn set_max_requests_per_host(&self, max: usize) -> Result<(), Error> {
        let start = self.queues().set_max_requests_per_host(max)?;
        start_all(start);
        Ok(())
    }

    /// Runs `callback` (in the task of the call that ended) each time the dispatcher becomes
    /// idle: the last running call ended and none is queued.
    ///
    /// The dispatcher keeps the callback for as long as a client uses it: a callback that
    /// owns a clone of the client keeps that client, its pool and its connections alive for
    /// ever. Let it own what it reports to (a channel's sender, a counter) instead.
    pub fn set_idle_callback(&self, callback: impl Fn() + Send + Sync + 'static) {
        self.state.idle.set(callback);
    }

    /// The calls waiting to run, in the order they will be considered.
    pub fn queued_calls(&self) -> Vec<Call<N>> {
        calls(self.queues().queued_calls())
    }

    /// The calls running: executed ones first, then enqueued ones, each in start order.
    pub fn running_calls(&self) -> Vec<Call<N>> {
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

    /// Cancels every queued and running call (OkHttp's `cancelAll`).
    pub fn cancel_all(&self) {
        let all = self.queues().cancel_all();
        for Key(call) in all {
            call.cancel.cancel();
        }
    }

    /// Records a call about to run in its caller's task; it is finished when the returned
    /// slot drops.
    pub(crate) fn executed(&self, call: &Arc<CallShared<N>>) -> Slot<N> {
        let key = Key(call.clone());
        // Executed calls count toward neither limit, so their host is never looked at.
        self.queues().executed(key.clone(), String::new());
        Slot { key }
    }

    /// Queues an enqueued call to `host`; it leaves the dispatcher (queued or running) when
    /// the returned slot drops.
    pub(crate) fn enqueue(&self, call: &Arc<CallShared<N>>, host: String) -> Slot<N> {
        let key = Key(call.clone());
        let start = self.queues().enqueue(key.clone(), host);
        start_all(start);
        Slot { key }
    }

    /// A call is done, or its caller gave up on it before it ran.
    fn leave(&self, key: &Key<N>) {
        // A running call first: nearly every slot drops after its call ran, and looking in
        // the ready queue first put that scan's code on every call's path.
        let finished = {
            let mut queues = self.queues();
            match queues.finished(key) {
                Some(finished) => finished,
                None => {
                    queues.dequeue(key);
                    return;
                }
            }
        };
        start_all(finished.start);
        if finished.idle {
            self.state.idle.run(std::thread::panicking);
        }
    }
}

/// Promoted calls go: each one's `enqueue` future is woken in its own task.
fn start_all<N: Net>(calls: Vec<Key<N>>) {
    for Key(call) in calls {
        call.promoted.store(true, Ordering::Release);
        call.cancel.its_turn();
    }
}

fn calls<'a, N: Net>(keys: impl Iterator<Item = &'a Key<N>>) -> Vec<Call<N>> {
    keys.map(|k| Call {
        shared: k.0.clone(),
    })
    .collect()
}

/// A call's place in the dispatcher: when it drops (the response body was read or dropped, the
/// call failed, or its future was dropped), the call leaves the queue or the running calls,
/// and queued calls are promoted.
///
/// The slot reaches its dispatcher through the call, whose client's dispatcher is the one it
/// runs under: a count of the dispatcher of its own would cost two atomic operations per call.
pub(crate) struct Slot<N: Net> {
    key: Key<N>,
}

impl<N: Net> Drop for Slot<N> {
    fn drop(&mut self) {
        self.key.0.inner.dispatcher.leave(&self.key);
    }
}

impl<N: Net> fmt::Debug for Slot<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Slot").field("call", &self.key).finish()
    }
}
