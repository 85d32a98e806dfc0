//! A call: one request, ready to execute once.

use std::fmt;
use std::future::{Future, poll_fn};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::Waker;

use atomic_waker::AtomicWaker;
use wayfarer_core::{Error, Request};

use wayfarer_core::driver::{Driver, Step, Transport};

use crate::body::Body;
use crate::client::Inner;
use crate::driver::{AsyncTransport, Exec};
use crate::interceptor;
use crate::net::Net;

/// A prepared request. It runs once, with [`Call::execute`]; [`Call::cancel`] stops it from
/// any thread or task. Dropping the future returned by `execute` also cancels it.
pub struct Call<N: Net> {
    inner: Arc<Inner<N>>,
    request: Mutex<Option<Request>>,
    cancel: Arc<CancelState>,
}

/// Shared between a call and whoever may cancel it.
#[derive(Debug, Default)]
pub(crate) struct CancelState {
    canceled: AtomicBool,
    waker: AtomicWaker,
}

impl CancelState {
    pub(crate) fn is_canceled(&self) -> bool {
        self.canceled.load(Ordering::Acquire)
    }

    pub(crate) fn register(&self, waker: &Waker) {
        self.waker.register(waker);
    }
}

impl<N: Net> Call<N> {
    pub(crate) fn new(inner: Arc<Inner<N>>, request: Request) -> Call<N> {
        Call {
            inner,
            request: Mutex::new(Some(request)),
            cancel: Arc::new(CancelState::default()),
        }
    }

    /// Sends the request and resolves to the response head; the body is read from the
    /// response. All I/O happens inside the task that awaits this future (and the body).
    ///
    /// A call runs once: executing it again fails with
    /// [`ErrorKind::InvalidInput`](wayfarer_core::ErrorKind::InvalidInput).
    pub fn execute(
        &self,
    ) -> impl Future<Output = Result<wayfarer_core::Response<Body<N>>, Error>> + Send + 'static
    {
        let request = self
            .request
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        let inner = self.inner.clone();
        let cancel = self.cancel.clone();
        async move {
            let request =
                request.ok_or_else(|| Error::invalid_input("this call was already executed"))?;
            let config = inner.core.config();
            let mut transport = AsyncTransport::new(inner.clone(), cancel);
            let call = inner.core.start_call(transport.now(), request);
            let mut driver = Driver::new(call, transport, config);
            if !interceptor::any_closures(config) {
                // The common case: only this task touches the call, so the body owns it.
                let step = poll_fn(|cx| driver.poll_until_step(cx)).await?;
                return match step {
                    Step::Response(head) => {
                        driver.settle();
                        let charset = head.charset();
                        Ok(head.with_body(Body::owned(driver).with_charset(charset)))
                    }
                    other => Err(unexpected(&other)),
                };
            }
            let exec: Exec<N> = Arc::new(Mutex::new(driver));
            interceptor::drive(exec, None).await
        }
    }

    /// Cancels the call: its future (or body read) fails with
    /// [`ErrorKind::Canceled`](wayfarer_core::ErrorKind::Canceled).
    pub fn cancel(&self) {
        self.cancel.canceled.store(true, Ordering::Release);
        self.cancel.waker.wake();
    }

    /// True once [`cancel`](Self::cancel) was called.
    pub fn is_canceled(&self) -> bool {
        self.cancel.is_canceled()
    }

    /// True once [`execute`](Self::execute) was called.
    pub fn is_executed(&self) -> bool {
        self.request
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .is_none()
    }
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
            .field("executed", &self.is_executed())
            .field("canceled", &self.is_canceled())
            .finish()
    }
}
