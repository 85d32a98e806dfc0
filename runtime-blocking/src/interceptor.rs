//! Interceptors in the familiar closure form: user code calls [`Chain::proceed`] and gets the
//! response back, on the calling thread.
//!
//! The core runs the chain as a state machine; when it reaches a closure interceptor it pauses
//! at an output, this module runs the closure, and `proceed` drives the rest of the chain
//! (nested closures included) until the response comes back up to it.
//!
//! ```no_run
//! use wayfarer_blocking::{Client, Request, interceptor};
//!
//! let client = Client::builder()
//!     .interceptor(interceptor(|chain| {
//!         let started = std::time::Instant::now();
//!         let request = chain.request().clone();
//!         let response = chain.proceed(request)?;
//!         eprintln!("{} in {:?}", response.status(), started.elapsed());
//!         Ok(response)
//!     }))
//!     .build()?;
//! let response = client.new_call(Request::get("http://example.com/").build()?).execute()?;
//! # Ok::<(), wayfarer_blocking::Error>(())
//! ```

use std::fmt;
use std::sync::Arc;

use wayfarer_core::driver::{Step, Transport};
use wayfarer_core::{
    CallId, Config, Error, InterceptorId, InterceptorSlot, IntoInterceptor, Request,
};

use crate::body::Body;
use crate::call::unexpected;
use crate::driver::{Exec, lock, next_step};
use crate::{Client, Response};

type Closure = dyn Fn(&mut Chain<'_>) -> Result<Response, Error> + Send + Sync;

/// A closure interceptor for the blocking client; made by [`interceptor`].
pub struct FnInterceptor(Arc<Closure>);

impl fmt::Debug for FnInterceptor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("FnInterceptor")
    }
}

/// What the configuration stores (behind `dyn Any`) for a closure interceptor.
struct Stored(Arc<Closure>);

/// An interceptor from a closure that gets the [`Chain`], usually calls
/// [`proceed`](Chain::proceed) once (or several times, or not at all for an application
/// interceptor), and returns the response. Add it with
/// [`ClientBuilder::interceptor`](wayfarer_core::ClientBuilder::interceptor) or
/// [`network_interceptor`](wayfarer_core::ClientBuilder::network_interceptor).
pub fn interceptor<F>(f: F) -> FnInterceptor
where
    F: Fn(&mut Chain<'_>) -> Result<Response, Error> + Send + Sync + 'static,
{
    FnInterceptor(Arc::new(f))
}

impl IntoInterceptor<Client> for FnInterceptor {
    fn into_slot(self) -> InterceptorSlot {
        InterceptorSlot::external(Arc::new(Stored(self.0)))
    }
}

/// True when the configuration has closure interceptors (the call must then be shared
/// between the chain and the body).
pub(crate) fn any_closures(config: &Config) -> bool {
    let any =
        |network: bool, n: usize| (0..n).any(|i| config.external_interceptor(network, i).is_some());
    any(false, config.interceptor_count(false)) || any(true, config.interceptor_count(true))
}

/// What a closure interceptor works with: the request coming down, and the rest of the chain.
pub struct Chain<'a> {
    exec: &'a Exec,
    id: InterceptorId,
    request: Request,
    call: CallId,
}

impl fmt::Debug for Chain<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Chain")
            .field("call", &self.call)
            .field("request", &self.request)
            .finish()
    }
}

impl Chain<'_> {
    /// The request coming down to this interceptor.
    pub fn request(&self) -> &Request {
        &self.request
    }

    /// The call this chain belongs to.
    pub fn call_id(&self) -> CallId {
        self.call
    }

    /// Sends `request` down the rest of the chain and returns the response that comes back.
    /// Proceeding again discards the previous response's body.
    pub fn proceed(&mut self, request: Request) -> Result<Response, Error> {
        {
            let mut driver = lock(self.exec);
            let now = driver.transport_mut().now();
            driver.call_mut().proceed(now, self.id, request);
        }
        drive(self.exec, Some(self.id))
    }
}

/// Runs a call with closure interceptors to its response.
pub(crate) fn run(exec: &Exec) -> Result<Response, Error> {
    drive(exec, None)
}

/// Drives the call until the response comes back to interceptor `waiting` (or, with `None`,
/// to the caller), running the closure interceptors it meets on the way.
fn drive(exec: &Exec, waiting: Option<InterceptorId>) -> Result<Response, Error> {
    loop {
        let step = next_step(&mut lock(exec))?;
        match step {
            Step::Response if waiting.is_none() => {
                let head = lock(exec).take_response();
                let head = head.ok_or_else(|| unexpected(&Step::Response))?;
                let body = body_for(exec).with_charset(head.charset());
                lock(exec).settle();
                return Ok(head.with_body(body));
            }
            Step::Proceeded(id, result) if Some(id) == waiting => {
                return (*result).map(|head| {
                    let charset = head.charset();
                    head.with_body(body_for(exec).with_charset(charset))
                });
            }
            Step::Intercept(id, request) => run_interceptor(exec, id, request),
            other => return Err(unexpected(&other)),
        }
    }
}

/// The body of the response now going up: the runtime's own if a closure replaced it, else
/// the call's.
fn body_for(exec: &Exec) -> Body {
    let mut driver = lock(exec);
    let replacement = driver.transport_mut().take_replacement();
    match replacement {
        Some(body) if driver.call().body_is_external() => Body::custom(body),
        _ => {
            let number = driver.hand_out_body();
            Body::shared(exec.clone(), number)
        }
    }
}

/// Runs closure interceptor `id` on `request` and reports its answer to the call.
fn run_interceptor(exec: &Exec, id: InterceptorId, request: Box<Request>) {
    let (closure, call) = {
        let driver = lock(exec);
        let config = driver.transport().inner().core.config();
        let closure = config
            .external_interceptor(id.network, id.index)
            .and_then(|x| x.downcast_ref::<Stored>())
            .map(|s| s.0.clone());
        (closure, driver.call().id())
    };
    let result = match closure {
        Some(f) => {
            let mut chain = Chain {
                exec,
                id,
                request: *request,
                call,
            };
            f(&mut chain)
        }
        None => Err(Error::invalid_input(
            "an interceptor for another runtime was added to a blocking client",
        )),
    };
    let (result, replaced) = match result {
        Ok(response) => {
            let (head, body) = response.into_parts();
            match body.into_replacement(exec) {
                None => (Ok(head), false),
                Some(replacement) => {
                    lock(exec).transport_mut().set_replacement(replacement);
                    (Ok(head), true)
                }
            }
        }
        Err(e) => (Err(e), false),
    };
    let mut driver = lock(exec);
    let now = driver.transport_mut().now();
    driver
        .call_mut()
        .handle_intercepted(now, id, result, replaced);
}

impl fmt::Debug for Stored {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("closure interceptor")
    }
}
