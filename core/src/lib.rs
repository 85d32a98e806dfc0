//! The sans-IO heart of wayfarer.
//!
//! This crate is everything an HTTP/1.1 client decides, and nothing it does: it never opens a
//! socket, reads a clock, sleeps, spawns a thread or resolves a name. Bytes come in through
//! `handle_*` methods and leave through [`Output`]s; time comes in as an argument ([`Now`]).
//! Given the same inputs it makes the same decisions, which is what lets one transcript be
//! replayed against this crate directly and against every runtime over real sockets.
//!
//! The runtimes (`wayfarer-blocking`, `wayfarer-tokio`, `wayfarer-smol`) are thin drivers: they
//! move bytes, resolve names and keep time. Anyone can write another driver around their own
//! event loop; `tests/examples/event_loop.rs` does it with `polling` on one thread.
//!
//! # Shape: per-call machines and shared sans-IO services
//!
//! Each request is a [`Call`]: a state machine that owns its request and runs it through
//! OkHttp's interceptor chain, in layers a newcomer will recognise from OkHttp:
//!
//! ```text
//!  Call (chain runner)   app interceptors -> retry & follow-up -> bridge -> cache -> connect
//!                        -> network interceptors -> call server
//!  Body pipeline         source (exchange | made-up body) -> gzip decoder -> caller's buffer
//!  Connection finding    pool, DNS, connect (ids for every attempt), TLS handshake
//!  Exchange (HTTP/1)     one request and response on one connection: send and receive apart
//! ```
//!
//! A [`Client`] holds what calls share (the [`Config`], id counters, the [`ConnectionPool`]);
//! a call asks it for a pooled connection through an output ([`Output::Acquire`]) and gives it
//! back ([`Output::Release`]). Every I/O output names the connection it is for, so a driver
//! keeps sockets by [`ConnId`].
//!
//! We chose per-call machines over one engine owning every call because of two requirements:
//! - **A blocking call runs its socket I/O on the caller's thread, with no hand-off per
//!   request.** The blocking runtime drives the call's machine right there in `execute()`;
//!   there is no background thread to wake, no channel, no futex per request.
//! - **The async runtimes do not funnel calls through one central task.** Each call's future
//!   drives its own machine and socket inside the caller's task; concurrent calls share
//!   nothing but a mutex held for the instructions of a pool lookup.
//!
//! An engine owning all calls could be driven by whichever thread holds it, but every call
//! would then contend for the whole engine; per-call machines make the common case (one call,
//! one connection) free of sharing, and keep the shared parts (pool today; dispatcher, route
//! database, cache index and cookie jar later) small, explicit and separately testable.
//!
//! # Driving a call
//!
//! [`driver::Driver`] performs a call's outputs through a runtime's [`driver::Transport`]
//! (sockets, resolver, timer, clock); every runtime and the test simulation use it. A driver
//! may also run the raw contract itself, as an embedder's event loop does
//! (`tests/examples/event_loop.rs`), in outline:
//!
//! ```no_run
//! use wayfarer_core::{BodyRead, Client, ConnId, Now, Output, Request};
//! # use std::io;
//! # // Placeholders for the driver's own clock, sockets and resolver.
//! # fn now() -> Now { Now::new(wayfarer_core::Instant::ZERO, std::time::SystemTime::UNIX_EPOCH) }
//! # struct Socket;
//! # impl Socket {
//! #   fn connect(_: std::net::SocketAddr) -> io::Result<Socket> { Err(io::ErrorKind::Unsupported.into()) }
//! #   fn write(&mut self, _: &[u8]) -> io::Result<usize> { Err(io::ErrorKind::Unsupported.into()) }
//! #   fn read(&mut self, _: &mut [u8]) -> io::Result<usize> { Err(io::ErrorKind::Unsupported.into()) }
//! # }
//! # fn resolve(_: &str, _: u16) -> io::Result<Vec<std::net::SocketAddr>> { Err(io::ErrorKind::Unsupported.into()) }
//! let client: Client<Socket> = Client::new(Default::default());
//! let mut call = client.start_call(now(), Request::get("http://example.com/").build()?);
//! let mut sockets: Vec<(ConnId, Socket)> = Vec::new();
//! fn socket(sockets: &mut [(ConnId, Socket)], id: ConnId) -> &mut Socket {
//!     &mut sockets.iter_mut().find(|(c, _)| *c == id).expect("known id").1
//! }
//! // 1. Drive the call until the response head arrives. (A real driver also honours the
//! //    `deadline` of Connect, Transmit and Receive, calling call.handle_timeout(now()).)
//! let response = loop {
//!     match call.poll_output(now())? {
//!         Output::Event(_) => {}
//!         Output::Acquire { address } => {
//!             let pooled = client.acquire(now().mono, address).map(|(conn, s)| {
//!                 sockets.push((conn.id(), s));
//!                 conn
//!             });
//!             call.handle_acquired(now(), pooled);
//!         }
//!         Output::CheckHealth { conn } => call.handle_health(now(), conn, true),
//!         Output::Resolve { host, port } => {
//!             let r = resolve(host, port);
//!             call.handle_resolved(now(), r);
//!         }
//!         Output::Connect { conn, addr, .. } => {
//!             let r = Socket::connect(addr).map(|s| sockets.push((conn, s)));
//!             call.handle_connected(now(), conn, r);
//!         }
//!         Output::Transmit { conn, bytes, .. } => {
//!             let r = socket(&mut sockets, conn).write(bytes);
//!             call.handle_transmitted(now(), conn, r);
//!         }
//!         Output::Receive { conn, buf, .. } => {
//!             let r = socket(&mut sockets, conn).read(buf);
//!             call.handle_received(now(), conn, r);
//!         }
//!         Output::Close { conn } => sockets.retain(|(c, _)| *c != conn),
//!         Output::Release(conn) => {
//!             if let Some(i) = sockets.iter().position(|(c, _)| *c == conn.id()) {
//!                 client.release(now().mono, conn, sockets.swap_remove(i).1);
//!             }
//!         }
//!         Output::Response => break call.take_response().expect("the head is ready"),
//!         _ => unreachable!("no request body, interceptors or waiting here"),
//!     }
//! };
//! println!("{}", response.status());
//! // 2. Read the body as the caller asks (step 1's outputs again when it says Pending).
//! let mut buf = [0u8; 8192];
//! loop {
//!     match call.read_body(now(), &mut buf)? {
//!         BodyRead::Data(n) => println!("{n} bytes"),
//!         BodyRead::Direct { conn, max } => {
//!             let r = socket(&mut sockets, conn).read(&mut buf[..max]);
//!             call.handle_direct_read(now(), r)?;
//!         }
//!         BodyRead::End => break,
//!         BodyRead::Pending | BodyRead::Pull(_) => unreachable!("drive step 1's outputs"),
//!         BodyRead::Cached { .. } | BodyRead::CachedInto(_) => unreachable!("no cache here"),
//!     }
//! }
//! # Ok::<(), wayfarer_core::Error>(())
//! ```
//!
//! # Out of scope here (later work)
//!
//! HTTP/2.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod body;
mod bridge;
pub mod cache;
mod call;
mod client;
mod config;
mod connection;
pub mod cookies;
mod credentials;
mod dispatcher;
mod dns;
mod dns_cache;
pub mod driver;
mod error;
mod events;
mod exchange;
mod follow_up;
pub mod fuzzing;
mod headers;
mod http1;
mod interceptor;
mod proxy;
mod request;
mod response;
mod time;
mod tls;
mod upgrade;
mod url_memo;

pub use body::{Body, BodyStream};
pub use cache::{Cache, CacheControl};
pub use call::{BodyRead, CacheOp, Call, CallId, HEALTH_CHECK_AFTER, Output, PreparedCall};
pub use client::{Client, SharedPool, WeakPool};
pub use config::{ClientBuilder, Config, Limits, SharedState};
pub use connection::{Address, ConnId, Connection, ConnectionPool, InputClock};
pub use connection::{
    AttemptId, Cleanup, ConnectAction, FastFallback, IDLE_WATCH_CADENCE, IdleWatchSchedule, Pooled,
    QUIET_CHECK_AFTER, Route, RouteDatabase, RouteSelector, RouteStep, TlsIdentity,
    interleave_families, needs_health_check, needs_quiet_check,
};
pub use dispatcher::{Dispatcher, Finished, IdleCallback};
pub use dns::{Dns, DnsOverrides};
pub use error::{Error, ErrorKind, Limit, Phase, TimeoutKind};
pub use events::{Event, EventKind, EventListener, EventListenerFactory};
pub use follow_up::auth::{
    Authenticator, BasicAuthenticator, MAX_SAME_CREDENTIALS, basic_credentials,
};
pub use headers::Headers;
pub use http::{Method, StatusCode, Version};
pub use interceptor::{
    Interceptor, InterceptorContext, InterceptorId, InterceptorSlot, IntoInterceptor,
    RequestAction, ResponseAction,
};
pub use proxy::{
    Credentials, EnvProxySelector, FixedProxySelector, NoProxy, Proxy, ProxyEnv, ProxySelector,
    ProxyServer,
};
pub use request::{IntoUrl, Request, RequestBuilder};
pub use response::{CollectBody, Response, decode_json, decode_text, decode_text_owned};
pub use time::{Instant, Now, WallClock};
pub use tls::{
    Certificate, CertificatePinner, CertificatePinnerBuilder, ConnectionSpec, Handshake, Pin,
    PinningFailure, PrivateKey, TlsVersion,
};
pub use upgrade::{Upgraded, UpgradedIo};

/// A TLS cipher suite, as rustls names it (used by [`ConnectionSpec`] and [`Handshake`]).
pub use rustls::CipherSuite;

/// The `url` crate's URL type, as requests use it.
pub use url::Url;

/// The rustls version the core uses, for custom TLS configurations and for inspecting
/// [`Error::tls_error`].
pub use rustls;
