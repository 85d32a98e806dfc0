//! A call: one request, ready to execute once.

use std::fmt;
use std::net::{Shutdown, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use wayfarer_core::driver::{Driver, Step};
use wayfarer_core::{Error, Request};

use crate::Response;
use crate::body::Body;
use crate::client::Inner;
use crate::driver::{Blocking, Exec, next_step};
use crate::interceptor;

/// A prepared request. It runs once, with [`Call::execute`]; it can be canceled from any
/// thread, before or during execution, with [`Call::cancel`].
pub struct Call {
    inner: Arc<Inner>,
    request: Mutex<Option<Request>>,
    cancel: Arc<CancelState>,
}

/// Shared between a call and whoever may cancel it.
#[derive(Debug, Default)]
pub(crate) struct CancelState {
    canceled: AtomicBool,
    /// The socket in use, so a cancel can interrupt a blocked read or write.
    socket: Mutex<Option<Arc<TcpStream>>>,
}

impl CancelState {
    pub(crate) fn is_canceled(&self) -> bool {
        self.canceled.load(Ordering::Acquire)
    }

    /// Records the socket the call is using (None when it stops using one). A cancel that
    /// raced with this sees either the old socket or the new one, never a pooled socket that
    /// another call now owns.
    pub(crate) fn set_socket(&self, socket: Option<Arc<TcpStream>>) {
        let mut slot = self.socket.lock().unwrap_or_else(|p| p.into_inner());
        if self.is_canceled() {
            if let Some(s) = &socket {
                let _ = s.shutdown(Shutdown::Both);
            }
        }
        *slot = socket;
    }

    fn cancel(&self) {
        self.canceled.store(true, Ordering::Release);
        let slot = self.socket.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(socket) = slot.as_ref() {
            let _ = socket.shutdown(Shutdown::Both);
        }
    }
}

impl Call {
    pub(crate) fn new(inner: Arc<Inner>, request: Request) -> Call {
        Call {
            inner,
            request: Mutex::new(Some(request)),
            cancel: Arc::new(CancelState::default()),
        }
    }

    /// Sends the request and waits for the response head, on this thread. The body is read
    /// from the returned response as the caller wants it.
    ///
    /// A call runs once: executing it again fails with
    /// [`ErrorKind::InvalidInput`](wayfarer_core::ErrorKind::InvalidInput).
    pub fn execute(&self) -> Result<Response, Error> {
        let request = self
            .request
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
            .ok_or_else(|| Error::invalid_input("this call was already executed"))?;
        let inner = self.inner.clone();
        let now = inner.now();
        let call = inner.core.start_call(now, request);
        let transport = Blocking::new(inner.clone(), self.cancel.clone());
        let mut driver = Driver::new(call, transport, inner.core.config());
        if !interceptor::any_closures(inner.core.config()) {
            // The common case: nothing but this thread ever touches the call, so the body
            // owns the driver outright.
            return match next_step(&mut driver)? {
                Step::Response(head) => {
                    driver.settle();
                    let charset = head.charset();
                    Ok(head.with_body(Body::owned(driver).with_charset(charset)))
                }
                other => Err(unexpected(&other)),
            };
        }
        let exec: Exec = Arc::new(Mutex::new(driver));
        interceptor::run(&exec)
    }

    /// Cancels the call: a running `execute` or body read fails with
    /// [`ErrorKind::Canceled`](wayfarer_core::ErrorKind::Canceled), and a call not yet
    /// executed fails as soon as it is.
    pub fn cancel(&self) {
        self.cancel.cancel();
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

impl fmt::Debug for Call {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Call")
            .field("executed", &self.is_executed())
            .field("canceled", &self.is_canceled())
            .finish()
    }
}
