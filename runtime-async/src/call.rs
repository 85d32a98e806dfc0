//! A call: one request, run once, right away ([`Call::execute`]) or when the dispatcher lets it
//! ([`Call::enqueue`]).

use std::fmt;
use std::future::{Future, poll_fn};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::task::{Poll, Waker};

use atomic_waker::AtomicWaker;
use wayfarer_core::{Error, Method, Request, Url};

use wayfarer_core::driver::{Driver, DriverBox, Step};

use crate::body::Body;
use crate::client::Inner;
use crate::dispatcher::Slot;
use crate::driver::{AsyncTransport, Exec};
use crate::interceptor;
use crate::net::Net;

/// A prepared request. It runs once, with [`Call::execute`] or [`Call::enqueue`];
/// [`Call::cancel`] stops it from any thread or task. Dropping the future returned by either
/// also cancels it.
///
/// The [`Dispatcher`](crate::Dispatcher)'s lists hand out `Call`s too: they are the same calls
/// (canceling one cancels the call), not fresh copies.
pub struct Call<N: Net> {
    pub(crate) shared: Arc<CallShared<N>>,
}

/// Everything about one call, shared by its handles, the dispatcher and the transport.
pub(crate) struct CallShared<N: Net> {
    pub(crate) inner: Arc<Inner<N>>,
    request: Mutex<Option<Arc<Request>>>,
    method: Method,
    /// The request's URL, kept for enqueued calls only: an executed call must not pay for a
    /// copy (the dispatcher counts it, nothing looks at its URL).
    url: OnceLock<Url>,
    executed: AtomicBool,
    /// The dispatcher let this enqueued call run.
    pub(crate) promoted: AtomicBool,
    pub(crate) cancel: CancelState,
}

impl<N: Net> CallShared<N> {
    /// Keeps a copy of the request's URL (see `url`) and returns its host, the dispatcher's
    /// per-host key.
    pub(crate) fn keep_url(&self) -> String {
        let request = self.request.lock().unwrap_or_else(|p| p.into_inner());
        let url = match request.as_ref() {
            Some(request) => self.url.get_or_init(|| request.url().clone()),
            None => return String::new(),
        };
        url.host_str().unwrap_or_default().to_owned()
    }
}

/// How a call hears from elsewhere: a cancel, or (enqueued) its turn to run. The task running
/// the call keeps its waker here.
///
/// The two have wakers of their own. Only a cancel takes the cancel waker, and only after the
/// flag is set, so a task that registered once stays registered for as long as it matters and
/// need not register again on every step (see `AsyncTransport::poll_canceled`).
#[derive(Debug, Default)]
pub(crate) struct CancelState {
    canceled: AtomicBool,
    waker: AtomicWaker,
    /// The enqueued call's wait for its turn.
    turn: AtomicWaker,
}

impl CancelState {
    pub(crate) fn is_canceled(&self) -> bool {
        self.canceled.load(Ordering::Acquire)
    }

    /// Wakes `waker`'s task on a cancel.
    pub(crate) fn register(&self, waker: &Waker) {
        self.waker.register(waker);
    }

    /// Wakes `waker`'s task when the enqueued call's turn comes ([`its_turn`](Self::its_turn))
    /// or on a cancel.
    pub(crate) fn register_turn(&self, waker: &Waker) {
        self.turn.register(waker);
    }

    pub(crate) fn cancel(&self) {
        self.canceled.store(true, Ordering::Release);
        self.waker.wake();
        self.turn.wake();
    }

    /// Wakes the enqueued call's task: its turn has come.
    pub(crate) fn its_turn(&self) {
        self.turn.wake();
    }
}

type Outcome<N> = Result<wayfarer_core::Response<Body<N>>, Error>;

impl<N: Net> Call<N> {
    pub(crate) fn new(inner: Arc<Inner<N>>, request: Request) -> Call<N> {
        Call {
            shared: Arc::new(CallShared {
                inner,
                method: request.method(),
                url: OnceLock::new(),
                request: Mutex::new(Some(Arc::new(request))),
                executed: AtomicBool::new(false),
                promoted: AtomicBool::new(false),
                cancel: CancelState::default(),
            }),
        }
    }

    /// Sends the request and resolves to the response head; the body is read from the
    /// response. All I/O happens inside the task that awaits this future (and the body).
    ///
    /// The call counts among the dispatcher's running calls until its body is read or
    /// dropped, but is never held back by its limits (as in OkHttp).
    ///
    /// A call runs once: executing it again fails with
    /// [`ErrorKind::InvalidInput`](wayfarer_core::ErrorKind::InvalidInput).
    pub fn execute(&self) -> impl Future<Output = Outcome<N>> + Send + 'static + use<N> {
        let shared = self.shared.clone();
        let first = !shared.executed.swap(true, Ordering::AcqRel);
        run(shared, Start::Execute { first })
    }

    /// Queues the call on the client's [`Dispatcher`](crate::Dispatcher) now, and returns a
    /// future that waits for the call's turn (at most 64 calls at once, 5 per host, by
    /// default), then runs it like [`execute`](Self::execute), inside the task that awaits it.
    /// Spawn the future to run the call in the background, as OkHttp's `enqueue` does; it
    /// holds its place in the queue (and then among the running calls) until it is done or
    /// dropped.
    ///
    /// ```no_run
    /// # async fn run(client: wayfarer_async::Client<impl wayfarer_async::Net>) -> Result<(), wayfarer_core::Error> {
    /// use wayfarer_core::Request;
    ///
    /// let calls: Vec<_> = ["http://a.example/", "http://b.example/"]
    ///     .into_iter()
    ///     .map(|url| client.new_call(Request::get(url).build().unwrap()).enqueue())
    ///     .collect();
    /// for call in calls {
    ///     println!("{}", call.await?.status());
    /// }
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// A call runs once: enqueueing a call that already ran resolves to
    /// [`ErrorKind::InvalidInput`](wayfarer_core::ErrorKind::InvalidInput).
    pub fn enqueue(&self) -> impl Future<Output = Outcome<N>> + Send + 'static + use<N> {
        let shared = self.shared.clone();
        let slot = (!shared.executed.swap(true, Ordering::AcqRel)).then(|| {
            let host = shared.keep_url();
            shared.inner.dispatcher.enqueue(&shared, host)
        });
        run(shared, Start::Enqueued { slot })
    }

    /// Cancels the call: its future (or body read) fails with
    /// [`ErrorKind::Canceled`](wayfarer_core::ErrorKind::Canceled), whatever it is waiting for
    /// (its turn, a name lookup, a connect, the TLS handshake, a write, the response). Its
    /// sockets are closed and its dispatcher slot freed.
    pub fn cancel(&self) {
        self.shared.cancel.cancel();
    }

    /// True once [`cancel`](Self::cancel) was called.
    pub fn is_canceled(&self) -> bool {
        self.shared.cancel.is_canceled()
    }

    /// True once [`execute`](Self::execute) or [`enqueue`](Self::enqueue) was called.
    pub fn is_executed(&self) -> bool {
        self.shared.executed.load(Ordering::Acquire)
    }

    /// The request's method.
    pub fn method(&self) -> &Method {
        &self.shared.method
    }

    /// The request's URL, for a call that was enqueued (as the dispatcher's lists hold);
    /// `None` for one that was only executed or not yet run.
    pub fn url(&self) -> Option<&Url> {
        self.shared.url.get()
    }
}

/// How [`run`] begins: what `execute` and `enqueue` found when they were called.
enum Start<N: Net> {
    /// `first`: the call had not run before.
    Execute { first: bool },
    /// The call's place in the dispatcher's queue; `None` when it had run before.
    Enqueued { slot: Option<Slot<N>> },
}

/// Runs the call; on success the dispatcher slot moves into the response body.
///
/// `execute` and `enqueue` return this future itself rather than wrapping it in one of their
/// own: every layer of future would copy the response it resolves to once more.
async fn run<N: Net>(shared: Arc<CallShared<N>>, start: Start<N>) -> Outcome<N> {
    let slot = match start {
        Start::Execute { first: false } | Start::Enqueued { slot: None } => {
            return Err(already_executed());
        }
        Start::Execute { first: true } => shared.inner.dispatcher.executed(&shared),
        Start::Enqueued { slot: Some(slot) } => {
            poll_fn(|cx| {
                shared.cancel.register_turn(cx.waker());
                if shared.promoted.load(Ordering::Acquire) || shared.cancel.is_canceled() {
                    Poll::Ready(())
                } else {
                    Poll::Pending
                }
            })
            .await;
            // A call canceled while queued runs at once and fails as canceled; dropping its
            // slot takes it out of the queue.
            slot
        }
    };
    let request = shared
        .request
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .take()
        .ok_or_else(already_executed)?;
    let inner = &shared.inner;
    let config = inner.core.config();
    let transport = AsyncTransport::new(shared.clone());
    let call = inner.core.prepare_call(transport.started(), request);
    if !interceptor::any_closures(config) {
        // The common case: only this task touches the call, so the body owns it, boxed from
        // the start so that this future, the body and the response stay small.
        let mut driver = DriverBox::start(call, transport, config);
        let step = poll_fn(|cx| driver.poll_until_step(cx)).await?;
        match step {
            Step::Response => {
                let head = driver
                    .take_response()
                    .ok_or_else(|| unexpected(&Step::Response))?;
                driver.settle_after_step();
                let charset = head.charset();
                Ok(head.with_body(Body::owned(driver, charset, slot)))
            }
            other => Err(unexpected(&other)),
        }
    } else {
        let exec: Exec<N> = Arc::new(Mutex::new(Driver::start(call, transport, config)));
        let mut response = interceptor::drive(exec, None).await?;
        response.body_mut().hold(slot);
        Ok(response)
    }
}

fn already_executed() -> Error {
    Error::invalid_input("this call was already executed")
}

/// The error for a step the chain should not produce at that point.
pub(crate) fn unexpected(step: &Step) -> Error {
    match step {
        Step::Done | Step::Idle => Error::io("the call ended without a response", None),
        other => Error::io(format!("the call produced an unexpected {other:?}"), None),
    }
}

impl<N: Net> fmt::Debug for Call<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Call")
            .field("method", self.method())
            // No query: secrets in it never reach a log line.
            .field("host", &self.url().and_then(Url::host_str))
            .field("path", &self.url().map(Url::path))
            .field("executed", &self.is_executed())
            .field("canceled", &self.is_canceled())
            .finish()
    }
}
