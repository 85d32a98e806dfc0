//! Interceptors in the familiar closure form: user code awaits [`Chain::proceed`] and gets the
//! response back, inside the task that runs the call.
//!
//! The core runs the chain as a state machine; when it reaches a closure interceptor it pauses
//! at an output, this module awaits the closure's future, and `proceed` drives the rest of the
//! chain (nested closures included) until the response comes back up to it.

use std::fmt;
use std::future::{Future, poll_fn};
use std::sync::Arc;

use wayfarer_core::driver::{Step, Transport};
use wayfarer_core::{
    CallId, Config, Error, InterceptorId, InterceptorSlot, IntoInterceptor, Request, Response,
};

use crate::body::Body;
use crate::call::unexpected;
use crate::client::Client;
use crate::driver::{Exec, lock};
use crate::net::{BoxFuture, Net};

type Closure<N> = dyn Fn(Chain<N>) -> BoxFuture<Result<Response<Body<N>>, Error>> + Send + Sync;

/// A closure interceptor for an async client; made by [`interceptor`].
pub struct FnInterceptor<N: Net>(Arc<Closure<N>>);

impl<N: Net> fmt::Debug for FnInterceptor<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("FnInterceptor")
    }
}

/// What the configuration stores (behind `dyn Any`) for a closure interceptor.
struct Stored<N: Net>(Arc<Closure<N>>);

/// An interceptor from an async closure that gets the [`Chain`], usually awaits
/// [`proceed`](Chain::proceed) once (or several times, or not at all for an application
/// interceptor), and returns the response. Add it with
/// [`ClientBuilder::interceptor`](wayfarer_core::ClientBuilder::interceptor) or
/// [`network_interceptor`](wayfarer_core::ClientBuilder::network_interceptor).
pub fn interceptor<N, F, Fut>(f: F) -> FnInterceptor<N>
where
    N: Net,
    F: Fn(Chain<N>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Response<Body<N>>, Error>> + Send + 'static,
{
    FnInterceptor(Arc::new(move |chain| Box::pin(f(chain))))
}

impl<N: Net> IntoInterceptor<Client<N>> for FnInterceptor<N> {
    fn into_slot(self) -> InterceptorSlot {
        InterceptorSlot::external(Arc::new(Stored(self.0)))
    }
}

/// True when the configuration has closure interceptors (the call must then be shared
/// between the chain and the body).
pub(crate) fn any_closures(config: &Config) -> bool {
    [false, true].into_iter().any(|network| {
        (0..config.interceptor_count(network))
            .any(|i| config.external_interceptor(network, i).is_some())
    })
}

/// What a closure interceptor works with: the request coming down, and the rest of the chain.
pub struct Chain<N: Net> {
    exec: Exec<N>,
    id: InterceptorId,
    request: Request,
    call: CallId,
}

impl<N: Net> fmt::Debug for Chain<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Chain")
            .field("call", &self.call)
            .field("request", &self.request)
            .finish()
    }
}

impl<N: Net> Chain<N> {
    /// The request coming down to this interceptor.
    pub fn request(&self) -> &Request {
        &self.request
    }

    /// The call this chain belongs to.
    pub fn call_id(&self) -> CallId {
        self.call
    }

    /// Sends `request` down the rest of the chain and resolves to the response that comes
    /// back. Proceeding again discards the previous response's body.
    pub async fn proceed(&mut self, request: Request) -> Result<Response<Body<N>>, Error> {
        {
            let mut driver = lock(&self.exec);
            let now = driver.transport_mut().now();
            driver.call_mut().proceed(now, self.id, request);
        }
        drive(self.exec.clone(), Some(self.id)).await
    }
}

/// Drives the call until the response comes back to interceptor `waiting` (or, with `None`,
/// to the caller), running the closure interceptors it meets on the way. Boxed: closures
/// nest.
pub(crate) fn drive<N: Net>(
    exec: Exec<N>,
    waiting: Option<InterceptorId>,
) -> BoxFuture<Result<Response<Body<N>>, Error>> {
    Box::pin(async move {
        loop {
            let step = poll_fn(|cx| lock(&exec).poll_until_step(cx)).await?;
            match step {
                Step::Response if waiting.is_none() => {
                    let head = lock(&exec).take_response();
                    let head = head.ok_or_else(|| unexpected(&Step::Response))?;
                    let body = body_for(&exec).with_charset(head.charset());
                    lock(&exec).settle();
                    return Ok(head.with_body(body));
                }
                Step::Proceeded(id, result) if Some(id) == waiting => {
                    return (*result).map(|head| {
                        let charset = head.charset();
                        head.with_body(body_for(&exec).with_charset(charset))
                    });
                }
                Step::Intercept(id, request) => run_interceptor(&exec, id, request).await,
                other => return Err(unexpected(&other)),
            }
        }
    })
}

/// The body of the response now going up: the runtime's own if a closure replaced it, else
/// the call's.
fn body_for<N: Net>(exec: &Exec<N>) -> Body<N> {
    let mut driver = lock(exec);
    let replacement = driver.transport_mut().take_replacement();
    match replacement {
        Some(body) if driver.call().body_is_external() => Body::from_request_body(body),
        _ => {
            let number = driver.hand_out_body();
            Body::shared(exec.clone(), number)
        }
    }
}

/// Runs closure interceptor `id` on `request` and reports its answer to the call.
async fn run_interceptor<N: Net>(exec: &Exec<N>, id: InterceptorId, request: Box<Request>) {
    let (closure, call) = {
        let driver = lock(exec);
        let config = driver.transport().inner().core.config();
        let closure = config
            .external_interceptor(id.network, id.index)
            .and_then(|x| x.downcast_ref::<Stored<N>>())
            .map(|s| s.0.clone());
        (closure, driver.call().id())
    };
    let result = match closure {
        Some(f) => {
            let chain = Chain {
                exec: exec.clone(),
                id,
                request: *request,
                call,
            };
            f(chain).await
        }
        None => Err(Error::invalid_input(
            "an interceptor for another runtime was added to this client",
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
