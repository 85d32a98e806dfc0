//! A call: one request, run once, synchronously ([`Call::execute`]) or on the dispatcher's
//! threads ([`Call::enqueue`]).

use std::fmt;
use std::net::{Shutdown, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::thread::Thread;

use smallvec::SmallVec;

use wayfarer_core::driver::{Driver, DriverBox, Step};
use wayfarer_core::{Error, Method, Request, Url};

use crate::Response;
use crate::body::Body;
use crate::client::Inner;
use crate::dispatcher::Slot;
use crate::driver::{Blocking, Exec, next_step};
use crate::interceptor;

/// A prepared request. It runs once, with [`Call::execute`] on the calling thread or
/// [`Call::enqueue`] on the dispatcher's threads; it can be canceled from any thread, before
/// or during execution, with [`Call::cancel`].
///
/// The [`Dispatcher`](crate::Dispatcher)'s lists hand out `Call`s too: they are the same calls
/// (canceling one cancels the call), not fresh copies.
pub struct Call {
    pub(crate) shared: Arc<CallShared>,
}

/// Everything about one call, shared by its handles, the dispatcher and the transport.
pub(crate) struct CallShared {
    pub(crate) inner: Arc<Inner>,
    request: Mutex<Option<Arc<Request>>>,
    method: Method,
    /// The request's URL, kept for enqueued calls only: an executed call must not pay for a
    /// copy (the dispatcher counts it, nothing looks at its URL).
    url: OnceLock<Url>,
    executed: AtomicBool,
    pub(crate) cancel: CancelState,
    /// What to do with the result of an enqueued call.
    callback: Mutex<Option<BoxedCallback>>,
}

impl CallShared {
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

type BoxedCallback = Box<dyn FnOnce(&Call, Result<Response, Error>) + Send>;

/// What a call's owner hears when an enqueued call ends (OkHttp's `Callback`): exactly one of
/// its methods runs, once, on a dispatcher thread.
///
/// A closure taking the call and the result is a `Callback`:
///
/// ```no_run
/// use wayfarer_blocking::{Client, Request};
///
/// let client = Client::new();
/// let call = client.new_call(Request::get("http://example.com/").build()?);
/// call.enqueue(|_call: &wayfarer_blocking::Call, result: Result<wayfarer_blocking::Response, _>| {
///     match result {
///         Ok(response) => println!("{}", response.status()),
///         Err(e) => eprintln!("{e}"),
///     }
/// });
/// # Ok::<(), wayfarer_blocking::Error>(())
/// ```
pub trait Callback: Send + 'static {
    /// The response head arrived. The call counts as running until its body has been read
    /// (or dropped), here or later on another thread.
    fn on_response(self, call: &Call, response: Response);

    /// The call failed (canceled, timed out, could not connect...).
    fn on_failure(self, call: &Call, error: Error);
}

impl<F> Callback for F
where
    F: FnOnce(&Call, Result<Response, Error>) + Send + 'static,
{
    fn on_response(self, call: &Call, response: Response) {
        self(call, Ok(response));
    }

    fn on_failure(self, call: &Call, error: Error) {
        self(call, Err(error));
    }
}

/// How a call is canceled from another thread: a flag, the socket a blocked read or write is
/// waiting on, and the thread parked waiting for anything else.
#[derive(Debug, Default)]
pub(crate) struct CancelState {
    canceled: AtomicBool,
    /// The socket in use, so a cancel can interrupt a blocked connect, read or write.
    socket: Mutex<Option<Arc<TcpStream>>>,
    /// Sockets still connecting (several during fast fallback), so a cancel ends their wait.
    connecting: Mutex<SmallVec<[Arc<TcpStream>; 1]>>,
    /// The thread parked on something other than a socket (a name lookup, a request body
    /// stream), so a cancel can wake it.
    parked: Mutex<Option<Thread>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl CancelState {
    pub(crate) fn is_canceled(&self) -> bool {
        self.canceled.load(Ordering::Acquire)
    }

    /// Records the socket the call is using (None when it stops using one). A cancel that
    /// raced with this sees either the old socket or the new one, never a pooled socket that
    /// another call now owns.
    pub(crate) fn set_socket(&self, socket: Option<Arc<TcpStream>>) {
        let mut slot = lock(&self.socket);
        if self.is_canceled() {
            if let Some(s) = &socket {
                let _ = s.shutdown(Shutdown::Both);
            }
        }
        *slot = socket;
    }

    /// Records a socket that is connecting. One registered after a cancel is shut down at once.
    pub(crate) fn add_connecting(&self, socket: &Arc<TcpStream>) {
        let mut list = lock(&self.connecting);
        if self.is_canceled() {
            let _ = socket.shutdown(Shutdown::Both);
        }
        list.push(socket.clone());
    }

    /// Forgets a socket that is done connecting (connected, failed or given up).
    pub(crate) fn remove_connecting(&self, socket: &Arc<TcpStream>) {
        lock(&self.connecting).retain(|s| !Arc::ptr_eq(s, socket));
    }

    /// Records the thread about to park (None once it is back), so a cancel wakes it.
    pub(crate) fn set_parked(&self, thread: Option<Thread>) {
        *lock(&self.parked) = thread;
    }

    pub(crate) fn cancel(&self) {
        self.canceled.store(true, Ordering::Release);
        if let Some(socket) = lock(&self.socket).as_ref() {
            let _ = socket.shutdown(Shutdown::Both);
        }
        for socket in lock(&self.connecting).iter() {
            let _ = socket.shutdown(Shutdown::Both);
        }
        if let Some(thread) = lock(&self.parked).as_ref() {
            thread.unpark();
        }
    }
}

impl Call {
    pub(crate) fn new(inner: Arc<Inner>, request: Request) -> Call {
        Call {
            shared: Arc::new(CallShared {
                inner,
                method: request.method(),
                url: OnceLock::new(),
                request: Mutex::new(Some(Arc::new(request))),
                executed: AtomicBool::new(false),
                cancel: CancelState::default(),
                callback: Mutex::new(None),
            }),
        }
    }

    /// Sends the request and waits for the response head, on this thread. The body is read
    /// from the returned response as the caller wants it.
    ///
    /// The call counts among the dispatcher's running calls until its body is read or
    /// dropped, but is never held back by its limits (as in OkHttp).
    ///
    /// A call runs once: executing it again fails with
    /// [`ErrorKind::InvalidInput`](wayfarer_core::ErrorKind::InvalidInput).
    pub fn execute(&self) -> Result<Response, Error> {
        if self.shared.executed.swap(true, Ordering::AcqRel) {
            return Err(already_executed());
        }
        let mut slot = Some(self.shared.inner.dispatcher.executed(&self.shared));
        self.run(&mut slot)
    }

    /// Queues the call on the client's [`Dispatcher`](crate::Dispatcher): it runs on a
    /// dispatcher thread as soon as the limits allow (at most 64 calls at once, 5 per host, by
    /// default), and `callback` hears the outcome there.
    ///
    /// A call runs once: enqueueing a call that already ran reports
    /// [`ErrorKind::InvalidInput`](wayfarer_core::ErrorKind::InvalidInput) to `on_failure`, on
    /// this thread.
    pub fn enqueue(&self, callback: impl Callback) {
        let callback: BoxedCallback = Box::new(move |call, result| match result {
            Ok(response) => callback.on_response(call, response),
            Err(e) => callback.on_failure(call, e),
        });
        if self.shared.executed.swap(true, Ordering::AcqRel) {
            return callback(self, Err(already_executed()));
        }
        *lock(&self.shared.callback) = Some(callback);
        let host = self.shared.keep_url();
        self.shared
            .inner
            .dispatcher
            .enqueue(self.shared.clone(), host);
    }

    /// Runs the call; on success the dispatcher slot moves into the response body.
    fn run(&self, slot: &mut Option<Slot>) -> Result<Response, Error> {
        let request = lock(&self.shared.request)
            .take()
            .ok_or_else(already_executed)?;
        let inner = &self.shared.inner;
        let transport = Blocking::new(self.shared.clone());
        let call = inner.core.prepare_call(transport.started(), request);
        let config = inner.core.config();
        if interceptor::any_closures(config) {
            return run_intercepted(Driver::start(call, transport, config), slot);
        }
        // The common case: nothing but this thread ever touches the call, so the body owns
        // the driver outright, in the box the thread's last call used.
        let mut driver = DriverBox::start(call, transport, config);
        match next_step(&mut driver)? {
            Step::Response => {
                let head = driver
                    .take_response()
                    .ok_or_else(|| unexpected(&Step::Response))?;
                driver.settle_after_step();
                let charset = head.charset();
                Ok(head.with_body(Body::owned(driver, charset, slot.take())))
            }
            other => Err(unexpected(&other)),
        }
    }

    /// Cancels the call: a running `execute` or body read fails with
    /// [`ErrorKind::Canceled`](wayfarer_core::ErrorKind::Canceled), whatever it is waiting for
    /// (a name lookup, a connect, the TLS handshake, a write, the response), and a call not yet
    /// run fails as soon as it runs. Its sockets are closed and its dispatcher slot freed.
    pub fn cancel(&self) {
        self.shared.inner.dispatcher.cancel(&self.shared);
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

/// Runs a call through closure interceptors, which share it with the chain. Kept out of line
/// so that its values take no room in the frame of every call's [`Call::run`].
#[inline(never)]
fn run_intercepted(driver: Driver<Blocking>, slot: &mut Option<Slot>) -> Result<Response, Error> {
    let exec: Exec = Arc::new(Mutex::new(driver));
    let mut response = interceptor::run(&exec)?;
    response.body_mut().hold(slot.take());
    Ok(response)
}

/// Runs an enqueued call on a dispatcher thread and tells its callback.
pub(crate) fn run_enqueued(shared: Arc<CallShared>, slot: Slot) {
    let call = Call { shared };
    let callback = lock(&call.shared.callback).take();
    let mut slot = Some(slot);
    let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| call.run(&mut slot)));
    let result = match run {
        Ok(result) => result,
        Err(panic) => {
            // A panic in the call (an interceptor's, say) still tells the callback, which
            // would otherwise wait for ever, and then goes on unwinding (OkHttp's AsyncCall
            // calls onFailure and rethrows).
            if let Some(callback) = callback {
                let why = panic
                    .downcast_ref::<&str>()
                    .map(|s| (*s).to_owned())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "a panic".to_owned());
                let error = Error::io(format!("the call was canceled: it panicked: {why}"), None);
                callback(&call, Err(error));
            }
            drop(slot);
            std::panic::resume_unwind(panic);
        }
    };
    if let Some(callback) = callback {
        callback(&call, result);
    }
    // A failed call frees its slot only now, after its callback (as OkHttp does).
    drop(slot);
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

impl fmt::Debug for Call {
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
