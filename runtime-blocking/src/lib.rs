//! wayfarer's blocking HTTP client.
//!
//! Each call runs on the thread that executes it: `execute()` drives the sans-IO core
//! (`wayfarer-core`) over `std::net` sockets until the response head arrives, and reading the
//! body drives it further. There is no hand-off between threads, so a keep-alive request costs
//! one `write` and one `read` system call. Connections are pooled per client and shared by
//! every thread that uses it; a thread that exists only while the pool holds connections closes
//! them when their keep-alive ends (see [`Client`]). [`Call::enqueue`] runs a call on the
//! [`Dispatcher`]'s threads instead and reports to a [`Callback`].
//!
//! ```no_run
//! use std::io::Read;
//! use wayfarer_blocking::{Client, Request};
//!
//! let client = Client::new();
//!
//! // Whole body as text.
//! let request = Request::get("https://example.com/").build()?;
//! let text = client.new_call(request).execute()?.text()?;
//!
//! // Streamed body: the response's body is a std::io::Read.
//! let request = Request::get("https://example.com/big.iso").build()?;
//! let mut response = client.new_call(request).execute()?;
//! let mut file = std::fs::File::create("big.iso").unwrap();
//! std::io::copy(response.body_mut(), &mut file).unwrap();
//! # Ok::<(), wayfarer_blocking::Error>(())
//! ```
//!
//! Names are resolved with the system resolver; connect, read and write timeouts (10 s by
//! default) and an optional whole-call timeout are enforced as socket timeouts derived from the
//! core's deadlines.

mod body;
mod call;
mod cleanup;
mod client;
mod connect;
mod dispatcher;
mod driver;
mod interceptor;
mod proxy_env;
mod socket;
mod upgraded;
mod workers;

pub use body::Body;
pub use call::{Call, Callback};
pub use client::{Client, platform_root_certificates};
pub use dispatcher::Dispatcher;
pub use interceptor::{Chain, FnInterceptor, interceptor};
pub use proxy_env::env_proxy_selector;
pub use upgraded::Upgraded;
/// Cookies: the [`CookieJar`](cookies::CookieJar) trait and the in-memory
/// [`MemoryCookieJar`](cookies::MemoryCookieJar) to give
/// [`ClientBuilder::cookie_jar`](wayfarer_core::ClientBuilder::cookie_jar).
pub use wayfarer_core::cookies;
pub use wayfarer_core::{
    Authenticator, BasicAuthenticator, Credentials, DnsOverrides, EnvProxySelector,
    EventListenerFactory, FixedProxySelector, Limit, NoProxy, Phase, Proxy, ProxyEnv,
    ProxySelector,
};
pub use wayfarer_core::{
    CacheControl, Certificate, CertificatePinner, CipherSuite, ClientBuilder, Config,
    ConnectionSpec, Dns, Error, ErrorKind, Event, EventKind, EventListener, Handshake, Headers,
    Method, PrivateKey, Request, RequestBuilder, StatusCode, TimeoutKind, TlsVersion, Url, Version,
};
/// The HTTP cache: `Cache::new(directory, max_size)` opens one on disk; give it to
/// [`ClientBuilder::cache`].
pub use wayfarer_disk_cache::Cache;

/// A request body (bytes, a reader, or a repeatable source).
pub use wayfarer_core::Body as RequestBody;

/// A response whose body is read on the calling thread.
pub type Response = wayfarer_core::Response<Body>;
