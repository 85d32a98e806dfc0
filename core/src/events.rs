//! What happened during a call, as data: OkHttp's `EventListener` callbacks turned into values.
//!
//! A call emits [`Output::Event`](crate::Output::Event) values only when the client has an
//! [`EventListener`] (otherwise none are built, so they cost nothing). Drivers hand each one to
//! the listener as they drain the call's outputs. Every event carries the call's id and the time
//! it happened, so a listener can print a timeline (the CLI's `-v`) or collect metrics.

use core::net::SocketAddr;
use std::collections::VecDeque;
use std::fmt;
use std::sync::Arc;

use http::{Method, StatusCode, Version};

use crate::{CallId, ConnId, Error, Headers, Instant, Request};

/// One event of a call.
#[derive(Debug, Clone)]
pub struct Event {
    /// The call it belongs to.
    pub call: CallId,
    /// When it happened (the `now` of the input that caused it).
    pub at: Instant,
    /// What happened.
    pub kind: EventKind,
}

/// The event vocabulary, in the order a fresh call meets them.
#[non_exhaustive]
#[derive(Debug, Clone)]
pub enum EventKind {
    /// The call started.
    CallStart {
        /// `METHOD url`, with the query and userinfo removed.
        request: String,
    },
    /// The cache answered the request: with a fresh stored response and no network, or with
    /// the stored response after the origin said it is still good (`304 Not Modified`).
    CacheHit,
    /// The cache had nothing usable: the request goes to the network. Also given when the
    /// origin answered a conditional request with a new response instead of 304.
    CacheMiss,
    /// The cache has a stale response with a validator: the request goes to the origin with
    /// `If-None-Match` or `If-Modified-Since`, to learn whether it is still good.
    CacheConditionalHit,
    /// The request said `only-if-cached` and the cache cannot answer it: the call gets a 504
    /// without touching the network.
    SatisfactionFailure,
    /// Name resolution started.
    DnsStart {
        /// The host being resolved.
        host: String,
    },
    /// Name resolution finished.
    DnsEnd {
        /// The host resolved.
        host: String,
        /// The addresses found.
        addrs: Vec<SocketAddr>,
    },
    /// A TCP connect started.
    ConnectStart {
        /// The address being connected to.
        addr: SocketAddr,
    },
    /// The TLS handshake started.
    SecureConnectStart,
    /// The TLS handshake finished.
    SecureConnectEnd {
        /// Negotiated protocol version, such as `TLSv1_3`.
        version: String,
        /// Negotiated cipher suite.
        cipher_suite: String,
        /// ALPN protocol, if the server chose one.
        alpn: Option<String>,
    },
    /// A connection is established: TCP connected, and the proxy's tunnel and the TLS
    /// handshake done when its route has them (so `SecureConnectStart`/`End` come before it,
    /// as in OkHttp).
    ConnectEnd {
        /// The address connected to.
        addr: SocketAddr,
    },
    /// A connect failed: the TCP connect, or the setup of a connected socket (a proxy's or
    /// the TLS handshake); another address may be tried.
    ConnectFailed {
        /// The address that failed.
        addr: SocketAddr,
        /// Why.
        error: Error,
    },
    /// The call got a connection, fresh (once established) or from the pool. A follow-up on
    /// the connection the call already holds acquires nothing again; every acquired
    /// connection is released (`ConnectionReleased`) before `CallEnd` or `CallFailed`.
    ConnectionAcquired {
        /// The connection.
        conn: ConnId,
        /// True when it came from the pool.
        reused: bool,
    },
    /// Writing the request head started.
    RequestHeadersStart,
    /// The request head was encoded for sending.
    RequestHeadersEnd {
        /// The request line, e.g. `GET /path HTTP/1.1`.
        line: String,
        /// The header fields as sent.
        headers: Headers,
    },
    /// Sending the request body started.
    RequestBodyStart,
    /// The request body was sent.
    RequestBodyEnd {
        /// Body bytes sent (before chunk framing).
        bytes: u64,
    },
    /// Waiting for the response head started.
    ResponseHeadersStart,
    /// An interim (1xx) response was received and skipped. Its head is here whole, for what
    /// shows the heads as they came (a command-line client's `-i` writes them before the
    /// final one).
    ///
    /// More fields may come, so a match names the ones it reads and ends with `..`, and only
    /// the core makes one:
    ///
    /// ```compile_fail
    /// use wayfarer_core::{EventKind, Headers, StatusCode, Version};
    ///
    /// let _ = EventKind::InterimResponse {
    ///     status: StatusCode::CONTINUE,
    ///     version: Version::HTTP_11,
    ///     reason: String::new(),
    ///     headers: Headers::new(),
    /// };
    /// ```
    #[non_exhaustive]
    InterimResponse {
        /// Its status.
        status: StatusCode,
        /// Its version.
        version: Version,
        /// The reason phrase as sent.
        reason: String,
        /// The header fields as received (a `103 Early Hints`' `Link` fields, say).
        headers: Headers,
    },
    /// The response head arrived.
    ResponseHeadersEnd {
        /// The status.
        status: StatusCode,
        /// The response version.
        version: Version,
        /// The reason phrase as sent.
        reason: String,
        /// The header fields as received.
        headers: Headers,
    },
    /// The first bytes of the response body are being read.
    ResponseBodyStart,
    /// The response body was read to its end.
    ResponseBodyEnd {
        /// Body bytes delivered.
        bytes: u64,
    },
    /// Sending the request failed.
    RequestFailed {
        /// Why.
        error: Error,
    },
    /// Reading the response failed.
    ResponseFailed {
        /// Why.
        error: Error,
    },
    /// A pooled connection turned out to be closed; the request is sent again on a fresh one.
    RetryOnFreshConnection {
        /// What failed on the pooled connection.
        reason: Error,
    },
    /// The retry-and-follow-up link answered a response with a new request: a redirect, an
    /// authentication challenge answered, or a retry after 408 or 503.
    FollowUp {
        /// The status of the response being followed.
        status: StatusCode,
        /// The new request's method.
        method: Method,
        /// The new request's URL, without its query or userinfo.
        url: String,
    },
    /// [`cancel`](crate::Call::cancel) was called on the call.
    Canceled,
    /// The call is done with its connection.
    ConnectionReleased {
        /// The connection.
        conn: ConnId,
        /// True when it was handed back to the pool (which may still evict it at once to keep
        /// within its limits); false when it was closed because it cannot be reused.
        pooled: bool,
    },
    /// The call finished successfully (the body was read to its end).
    CallEnd,
    /// The call failed.
    CallFailed {
        /// Why.
        error: Error,
    },
}

/// Receives a call's events. Implementations must be cheap and must not block: they run on
/// the thread or task that drives the call.
pub trait EventListener: Send + Sync {
    /// Called once per event, in order.
    fn on_event(&self, event: &Event);
}

impl<F: Fn(&Event) + Send + Sync> EventListener for F {
    fn on_event(&self, event: &Event) {
        self(event)
    }
}

/// Makes the listener for each call (OkHttp's `EventListener.Factory`): a listener with
/// per-call state, such as a timer for each phase, gets a fresh one per call.
///
/// ```
/// use std::sync::Arc;
/// use wayfarer_core::{CallId, Config, Event, EventListener, EventListenerFactory, Request};
///
/// struct PerCall(CallId);
/// impl EventListener for PerCall {
///     fn on_event(&self, event: &Event) {
///         assert_eq!(event.call, self.0);
///     }
/// }
/// struct Factory;
/// impl EventListenerFactory for Factory {
///     fn create(&self, call: CallId, _request: &Request) -> Arc<dyn EventListener> {
///         Arc::new(PerCall(call))
///     }
/// }
/// let config = Config::builder().event_listener_factory(Factory).build()?;
/// # Ok::<(), wayfarer_core::Error>(())
/// ```
pub trait EventListenerFactory: Send + Sync {
    /// The listener for the call `call`, which is about to send `request`.
    fn create(&self, call: CallId, request: &Request) -> Arc<dyn EventListener>;
}

/// One listener shared by every call.
pub(crate) struct SharedListener(pub(crate) Arc<dyn EventListener>);

impl EventListenerFactory for SharedListener {
    fn create(&self, _call: CallId, _request: &Request) -> Arc<dyn EventListener> {
        self.0.clone()
    }
}

/// A call's outgoing events, built only when someone listens.
#[derive(Debug)]
pub(crate) struct EventSink {
    on: bool,
    call: CallId,
    queue: VecDeque<Event>,
    /// The queue's first event was handed out (lent, in an
    /// [`Output::Event`](crate::Output::Event)): it goes when the next one is asked for.
    handed: bool,
}

impl EventSink {
    pub(crate) fn new(call: CallId, on: bool) -> EventSink {
        EventSink {
            on,
            call,
            queue: VecDeque::new(),
            handed: false,
        }
    }

    /// True when events are wanted (otherwise none are built).
    pub(crate) fn is_on(&self) -> bool {
        self.on
    }

    /// Queues the event `kind()` builds, if anyone listens.
    ///
    /// Only the check is inlined into the call's code: building and queueing the event is a
    /// cold function of its own, so a call nobody listens to does not carry that code through
    /// its hot path (every request runs a dozen of these checks).
    #[inline(always)]
    pub(crate) fn emit(&mut self, at: Instant, kind: impl FnOnce() -> EventKind) {
        if self.on {
            self.push(at, kind);
        }
    }

    #[cold]
    #[inline(never)]
    fn push(&mut self, at: Instant, kind: impl FnOnce() -> EventKind) {
        self.queue.push_back(Event {
            call: self.call,
            at,
            kind: kind(),
        });
    }

    /// Drops the event handed out last, and says whether another waits to be handed out
    /// ([`EventSink::next`]). Events are lent, not moved: an output stays small, and
    /// nothing is copied for a listener that only reads them.
    #[inline(always)]
    pub(crate) fn advance(&mut self) -> bool {
        if !self.on {
            return false;
        }
        if self.handed {
            self.queue.pop_front();
        }
        self.handed = !self.queue.is_empty();
        self.handed
    }

    /// The event to hand out, after [`EventSink::advance`] said there is one.
    pub(crate) fn next(&self) -> &Event {
        // `advance` returned true: the queue is not empty.
        &self.queue[0]
    }
}

impl fmt::Display for EventKind {
    /// A one-line description, as the CLI's timeline prints it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EventKind::CallStart { request } => write!(f, "call start: {request}"),
            EventKind::CacheHit => f.write_str("cache hit"),
            EventKind::CacheMiss => f.write_str("cache miss"),
            EventKind::CacheConditionalHit => {
                f.write_str("cache conditional hit: asking the origin whether it is still good")
            }
            EventKind::SatisfactionFailure => {
                f.write_str("cache cannot satisfy the request (only-if-cached): 504")
            }
            EventKind::DnsStart { host } => write!(f, "resolving {host}"),
            EventKind::DnsEnd { host, addrs } => {
                write!(f, "resolved {host} to ")?;
                for (i, a) in addrs.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{}", a.ip())?;
                }
                Ok(())
            }
            EventKind::ConnectStart { addr } => write!(f, "connecting to {addr}"),
            EventKind::ConnectEnd { addr } => write!(f, "connected to {addr}"),
            EventKind::ConnectFailed { addr, error } => {
                write!(f, "connect to {addr} failed: {}", error.message())
            }
            EventKind::SecureConnectStart => f.write_str("TLS handshake"),
            EventKind::SecureConnectEnd {
                version,
                cipher_suite,
                alpn,
            } => {
                write!(f, "TLS established: {version}, {cipher_suite}")?;
                if let Some(alpn) = alpn {
                    write!(f, ", ALPN {alpn}")?;
                }
                Ok(())
            }
            EventKind::ConnectionAcquired { conn, reused } => {
                write!(
                    f,
                    "using connection {conn}{}",
                    if *reused { " (reused)" } else { "" }
                )
            }
            EventKind::RequestHeadersStart => f.write_str("sending request head"),
            EventKind::RequestHeadersEnd { line, .. } => write!(f, "request: {line}"),
            EventKind::RequestBodyStart => f.write_str("sending request body"),
            EventKind::RequestBodyEnd { bytes } => write!(f, "request body sent ({bytes} bytes)"),
            EventKind::ResponseHeadersStart => f.write_str("waiting for response"),
            EventKind::InterimResponse { status, .. } => write!(f, "interim response {status}"),
            EventKind::ResponseHeadersEnd {
                status, version, ..
            } => {
                write!(f, "response: {version:?} {status}")
            }
            EventKind::ResponseBodyStart => f.write_str("reading response body"),
            EventKind::ResponseBodyEnd { bytes } => write!(f, "response body read ({bytes} bytes)"),
            EventKind::RequestFailed { error } => {
                write!(f, "sending the request failed: {}", error.message())
            }
            EventKind::ResponseFailed { error } => {
                write!(f, "reading the response failed: {}", error.message())
            }
            EventKind::FollowUp {
                status,
                method,
                url,
            } => write!(f, "following {} with {method} {url}", status.as_u16()),
            EventKind::Canceled => f.write_str("canceled"),
            EventKind::RetryOnFreshConnection { reason } => {
                write!(
                    f,
                    "pooled connection failed ({}), retrying on a fresh one",
                    reason.message()
                )
            }
            EventKind::ConnectionReleased { conn, pooled } => {
                write!(
                    f,
                    "connection {conn} {}",
                    if *pooled {
                        "returned to the pool"
                    } else {
                        "closed"
                    }
                )
            }
            EventKind::CallEnd => f.write_str("call end"),
            EventKind::CallFailed { error } => write!(f, "call failed: {}", error.message()),
        }
    }
}
