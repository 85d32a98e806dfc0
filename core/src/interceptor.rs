//! User interceptors (OkHttp's `Interceptor`): the sans-IO trait, its context and its actions.

use std::any::Any;
use std::fmt;
use std::sync::Arc;

use crate::{Body, CallId, Error, Now, Request, Response};

/// What a link does with a request on its way down.
#[derive(Debug)]
pub enum RequestAction {
    /// Pass this request (the same or a new one) to the next link.
    Proceed(Request),
    /// Answer without going further down: this response (and its body) goes back up.
    Respond(Response<Body>),
    /// Fail the call.
    Fail(Error),
}

/// What a link does with a response (or failure) on its way up.
#[derive(Debug)]
pub enum ResponseAction {
    /// Pass this response head up (changed or not); its body is the one that came up.
    Return(Response<()>),
    /// Pass this response up instead, with its own body; the one that came up is discarded.
    Respond(Response<Body>),
    /// Send this request down again (a retry, a follow-up); the response that came up is
    /// discarded. Only application interceptors may proceed more than once.
    Proceed(Request),
    /// Fail the call.
    Fail(Error),
}

/// User interceptors: code that sees, rewrites, answers or repeats requests on their way through
/// the call's chain (OkHttp's `Interceptor`).
///
/// The chain, in OkHttp's order:
///
/// ```text
///  application interceptors ─▶ retry and follow-up ─▶ bridge ─▶ cache ─▶ connect
///      ─▶ network interceptors ─▶ call server (the exchange on the wire)
/// ```
///
/// A request goes down and each link answers "proceed with this request" or "respond with this
/// response"; the response comes back up and each link answers "return it" or "proceed with a
/// new request". That is how retries and follow-ups work, and how an application interceptor
/// proceeds several times.
///
/// - **Application interceptors** ([`ClientBuilder::interceptor`]) see the caller's request
///   and the final response, once per call; they may proceed zero or more times.
/// - **Network interceptors** ([`ClientBuilder::network_interceptor`]) see the request as it
///   goes on the wire (with the bridge's and the cache's fields) and every network response,
///   one per redirect hop. They must proceed exactly once and keep the host and port; breaking
///   either rule fails the call with an error naming the interceptor.
///
/// An [`Interceptor`] here is a sans-IO state machine: it behaves the same under every runtime,
/// and its decisions are made synchronously. Each runtime also offers the familiar closure form,
/// where user code calls `chain.proceed(request)` and gets the response back (blocking in
/// `wayfarer-blocking`, async in `wayfarer-tokio` and `wayfarer-smol`); the core pauses the
/// chain at an [`Output::Intercept`](crate::Output::Intercept) for it.
///
/// ```
/// use wayfarer_core::{Config, Interceptor, InterceptorContext, Request, RequestAction, Response, ResponseAction, Error};
///
/// /// Adds an API key to every request and counts how often each call proceeds.
/// struct ApiKey;
/// impl Interceptor for ApiKey {
///     fn on_request(&self, cx: &mut InterceptorContext<'_>, mut request: Request) -> RequestAction {
///         *cx.state::<u32>() += 1;
///         match request.headers_mut().set("X-Api-Key", "k") {
///             Ok(()) => RequestAction::Proceed(request),
///             Err(e) => RequestAction::Fail(e),
///         }
///     }
/// }
/// let config = Config::builder().interceptor(ApiKey).build()?;
/// # Ok::<(), Error>(())
/// ```
///
/// [`ClientBuilder::interceptor`]: crate::ClientBuilder::interceptor
/// [`ClientBuilder::network_interceptor`]: crate::ClientBuilder::network_interceptor
///
/// Both methods have defaults (proceed with the request, return the response as it came), so
/// an interceptor implements only the side it cares about.
pub trait Interceptor: Send + Sync + 'static {
    /// The request is on its way down.
    fn on_request(&self, cx: &mut InterceptorContext<'_>, request: Request) -> RequestAction {
        let _ = cx;
        RequestAction::Proceed(request)
    }

    /// The response to the request this interceptor proceeded with (or the failure) is on its
    /// way up.
    fn on_response(
        &self,
        cx: &mut InterceptorContext<'_>,
        result: Result<Response<()>, Error>,
    ) -> ResponseAction {
        let _ = cx;
        match result {
            Ok(response) => ResponseAction::Return(response),
            Err(e) => ResponseAction::Fail(e),
        }
    }

    /// The name errors use for this interceptor.
    fn name(&self) -> &str {
        std::any::type_name::<Self>()
    }
}

/// What an interceptor knows about the call it is working on.
pub struct InterceptorContext<'a> {
    pub(crate) call: CallId,
    pub(crate) now: Now,
    pub(crate) proceeded: u32,
    pub(crate) state: &'a mut Option<Box<dyn Any + Send>>,
}

impl fmt::Debug for InterceptorContext<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InterceptorContext")
            .field("call", &self.call)
            .field("proceeded", &self.proceeded)
            .finish_non_exhaustive()
    }
}

impl InterceptorContext<'_> {
    /// The call.
    pub fn call(&self) -> CallId {
        self.call
    }

    /// The time of the input that brought the request or response here.
    pub fn now(&self) -> Now {
        self.now
    }

    /// How many times this interceptor has proceeded in this call so far.
    pub fn proceeded(&self) -> u32 {
        self.proceeded
    }

    /// This interceptor's state for this call, created with `T::default()` on first use (a
    /// retry counter, the time a request went down...). One state per interceptor per call;
    /// asking for another type replaces it.
    pub fn state<T: Default + Send + 'static>(&mut self) -> &mut T {
        let fresh = !self.state.as_ref().is_some_and(|s| s.is::<T>());
        if fresh {
            *self.state = Some(Box::new(T::default()));
        }
        match self.state.as_mut().and_then(|s| s.downcast_mut::<T>()) {
            Some(state) => state,
            // The slot was just filled with a `T`.
            None => unreachable!("interceptor state of the requested type"),
        }
    }
}

/// An interceptor as the configuration holds it: a sans-IO [`Interceptor`], or a runtime's
/// closure (opaque to the core, which pauses the chain for the runtime to run it).
#[derive(Clone)]
pub struct InterceptorSlot(pub(crate) SlotKind);

#[derive(Clone)]
pub(crate) enum SlotKind {
    Core(Arc<dyn Interceptor>),
    External(Arc<dyn Any + Send + Sync>),
}

impl fmt::Debug for InterceptorSlot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            SlotKind::Core(i) => write!(f, "Interceptor({})", i.name()),
            SlotKind::External(_) => f.write_str("Interceptor(closure)"),
        }
    }
}

impl InterceptorSlot {
    /// A runtime's own interceptor, run by the runtime when the chain reaches it; the runtime
    /// finds it again with [`Config::external_interceptor`](crate::Config::external_interceptor).
    pub fn external(interceptor: Arc<dyn Any + Send + Sync>) -> InterceptorSlot {
        InterceptorSlot(SlotKind::External(interceptor))
    }

    pub(crate) fn name(&self) -> String {
        match &self.0 {
            SlotKind::Core(i) => i.name().to_owned(),
            SlotKind::External(_) => "closure interceptor".to_owned(),
        }
    }
}

/// Anything that can be added to a client of type `C` as an interceptor: every
/// [`Interceptor`], and each runtime's closure form for its own client type.
pub trait IntoInterceptor<C> {
    /// The slot for the configuration.
    fn into_slot(self) -> InterceptorSlot;
}

impl<I: Interceptor, C> IntoInterceptor<C> for I {
    fn into_slot(self) -> InterceptorSlot {
        InterceptorSlot(SlotKind::Core(Arc::new(self)))
    }
}

/// Which chain an interceptor is in, and where: the id in [`Output::Intercept`](crate::Output::Intercept).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct InterceptorId {
    /// True for a network interceptor.
    pub network: bool,
    /// Its index among the application (or network) interceptors, in the order they were added.
    pub index: usize,
}
