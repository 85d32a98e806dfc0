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
//! Each request is a [`Call`]: a state machine that owns its request, its connection's
//! protocol state ([`Connection`], including the TLS session) and its deadlines. A [`Client`]
//! holds what calls share (the [`Config`], id counters, the [`ConnectionPool`]) and a call asks
//! it for a pooled connection through an output ([`Output::Acquire`]) and gives it back
//! ([`Output::Release`]).
//!
//! We chose this over one engine owning every call because of two requirements:
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
//! # The run loop
//!
//! ```no_run
//! use wayfarer_core::{BodyRead, Client, Now, Output, Request};
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
//! let request = Request::get("http://example.com/").build()?;
//! let (mut call, _body) = client.start_call(now(), request);
//! let mut socket: Option<Socket> = None;
//! // 1. Drive the call until the response head arrives.
//! let response = loop {
//!     // (A real driver also honours the `deadline` of Connect, Transmit and Receive, and
//!     // calls call.handle_timeout(now()) when it passes.)
//!     match call.poll_output()? {
//!         Output::Event(_) => {}
//!         Output::Acquire => {
//!             let pooled = client.acquire(now().mono, call.address());
//!             let conn = pooled.map(|(conn, s)| { socket = Some(s); conn });
//!             call.handle_acquired(now(), conn);
//!         }
//!         Output::CheckHealth => call.handle_health(now(), true),
//!         Output::Resolve { host, port } => {
//!             let r = resolve(host, port);
//!             call.handle_resolved(now(), r);
//!         }
//!         Output::Connect { addr, .. } => {
//!             let r = Socket::connect(addr).map(|s| socket = Some(s));
//!             call.handle_connected(now(), r);
//!         }
//!         Output::Transmit { bytes, .. } => {
//!             let r = socket.as_mut().unwrap().write(bytes);
//!             call.handle_transmitted(now(), r);
//!         }
//!         Output::Receive { buf, .. } => {
//!             let r = socket.as_mut().unwrap().read(buf);
//!             call.handle_received(now(), r);
//!         }
//!         Output::Close => socket = None,
//!         Output::Response(head) => break head,
//!         _ => unreachable!("no request body and no release before the head"),
//!     }
//! };
//! println!("{}", response.status());
//! // 2. Read the body as the caller asks.
//! let mut buf = [0u8; 8192];
//! loop {
//!     match call.read_body(now(), &mut buf)? {
//!         BodyRead::Data(n) => println!("{n} bytes"),
//!         BodyRead::Direct(max) => {
//!             let r = socket.as_mut().unwrap().read(&mut buf[..max]);
//!             if call.handle_direct_read(now(), r)? == 0 { break }
//!         }
//!         BodyRead::Pending => match call.poll_output()? {
//!             Output::Receive { buf, .. } => {
//!                 let r = socket.as_mut().unwrap().read(buf);
//!                 call.handle_received(now(), r)
//!             }
//!             Output::Transmit { bytes, .. } => {
//!                 let r = socket.as_mut().unwrap().write(bytes);
//!                 call.handle_transmitted(now(), r)
//!             }
//!             _ => {}
//!         },
//!         BodyRead::End => break,
//!     }
//! }
//! // 3. Give the connection back.
//! loop {
//!     match call.poll_output()? {
//!         Output::Release(conn) => client.release(now().mono, conn, socket.take().unwrap()),
//!         Output::Done => break,
//!         _ => {}
//!     }
//! }
//! # Ok::<(), wayfarer_core::Error>(())
//! ```
//!
//! # Out of scope here (later work)
//!
//! Interceptors, redirects and authentication follow-ups, the cache, cookies, the dispatcher,
//! proxies, certificate pinning and TLS policy, HTTP/2.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod body;
mod call;
mod client;
mod config;
mod connection;
pub mod cookies;
mod error;
mod events;
pub mod fuzzing;
mod headers;
mod http1;
mod request;
mod response;
mod time;

pub use body::{Body, BodyStream};
pub use call::{BodyRead, Call, CallId, HEALTH_CHECK_AFTER, Output};
pub use client::Client;
pub use config::{Certificate, ClientBuilder, Config};
pub use connection::{Address, ConnId, Connection, ConnectionPool, InputClock};
pub use error::{Error, ErrorKind, Phase, TimeoutKind};
pub use events::{Event, EventKind, EventListener};
pub use headers::Headers;
pub use http::{Method, StatusCode, Version};
pub use http1::Limits;
pub use request::{IntoUrl, Request, RequestBuilder};
pub use response::{CollectBody, Response, decode_text};
pub use time::{Instant, Now};

/// The `url` crate's URL type, as requests use it.
pub use url::Url;

/// The rustls version the core uses, for custom TLS configurations and for inspecting
/// [`Error::tls_error`].
pub use rustls;
