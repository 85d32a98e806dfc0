//! wayfarer's async HTTP client on smol's async-io and async-net.
//!
//! A call's future drives the sans-IO core (`wayfarer-core`) on an async-net socket inside the
//! task that awaits it: no connection task is spawned and nothing is handed across threads per
//! request. async-io brings its own reactor, so the client runs under smol, async-std, or any
//! other executor.
//!
//! ```no_run
//! use wayfarer_smol::{Client, Request};
//!
//! smol::block_on(async {
//!     let client = Client::new();
//!     let request = Request::get("https://example.com/").build()?;
//!     let response = client.new_call(request).execute().await?;
//!     println!("{} {}", response.status(), response.text().await?);
//!     Ok::<(), wayfarer_smol::Error>(())
//! })?;
//! # Ok::<(), wayfarer_smol::Error>(())
//! ```
//!
//! Names are resolved with the system resolver on the `blocking` thread pool (async-net);
//! timeouts are async-io timers armed from the core's deadlines, one per call.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use async_net::TcpStream;
use futures_io::{AsyncRead, AsyncWrite};
use wayfarer_async::BoxFuture;

pub use wayfarer_async::{BytesFuture, TextFuture, env_proxy_selector, platform_root_certificates};
pub use wayfarer_core::{
    BasicAuthenticator, Credentials, Dns, DnsOverrides, EnvProxySelector, FixedProxySelector,
    NoProxy, Proxy, ProxyEnv, ProxySelector,
};
pub use wayfarer_core::{
    Certificate, CertificatePinner, CipherSuite, ClientBuilder, Config, ConnectionSpec, Error,
    ErrorKind, Event, EventKind, EventListener, Handshake, Headers, Method, PrivateKey, Request,
    RequestBuilder, StatusCode, TimeoutKind, TlsVersion, Url, Version,
};

/// A request body (bytes, a stream, or a repeatable source).
pub use wayfarer_core::Body as RequestBody;

/// An HTTP client on async-io/async-net. Build it once and share it: clones share one
/// connection pool.
pub type Client = wayfarer_async::Client<Smol>;
/// A prepared request; see [`wayfarer_async::Call`].
pub type Call = wayfarer_async::Call<Smol>;
/// A response body read inside the task that polls it; see [`wayfarer_async::Body`].
pub type Body = wayfarer_async::Body<Smol>;
/// A response whose body is read inside the task that polls it.
pub type Response = wayfarer_core::Response<Body>;
/// What a closure interceptor works with; see [`interceptor`].
pub type Chain = wayfarer_async::Chain<Smol>;

/// An interceptor from an async closure: it gets the [`Chain`], usually awaits
/// `chain.proceed(request)` once, and returns the response (see
/// [`wayfarer_core::Interceptor`] for the chain's rules).
///
/// ```no_run
/// use wayfarer_smol::{Client, interceptor};
///
/// let client = Client::builder()
///     .interceptor(interceptor(|mut chain| async move {
///         let request = chain.request().clone();
///         let response = chain.proceed(request).await?;
///         println!("{}", response.status());
///         Ok(response)
///     }))
///     .build()?;
/// # Ok::<(), wayfarer_smol::Error>(())
/// ```
pub fn interceptor<F, Fut>(f: F) -> wayfarer_async::FnInterceptor<Smol>
where
    F: Fn(Chain) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<Response, Error>> + Send + 'static,
{
    wayfarer_async::interceptor(f)
}

/// async-net's sockets and resolver and async-io's timers, for the shared async driver.
#[derive(Debug, Clone, Copy)]
pub struct Smol;

impl wayfarer_async::Net for Smol {
    type Socket = TcpStream;
    type Timer = async_io::Timer;

    fn resolve(host: String, port: u16) -> BoxFuture<io::Result<Vec<SocketAddr>>> {
        Box::pin(async move { async_net::resolve((host.as_str(), port)).await })
    }

    fn connect(addr: SocketAddr) -> BoxFuture<io::Result<TcpStream>> {
        Box::pin(async move {
            let socket = TcpStream::connect(addr).await?;
            socket.set_nodelay(true)?;
            Ok(socket)
        })
    }

    fn poll_read(
        socket: &mut TcpStream,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(socket).poll_read(cx, buf)
    }

    fn poll_write(
        socket: &mut TcpStream,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(socket).poll_write(cx, buf)
    }

    fn is_healthy(socket: &TcpStream) -> bool {
        // A peek that would block means: still open, nothing unsolicited waiting.
        let mut cx = Context::from_waker(Waker::noop());
        let mut byte = [0u8; 1];
        let peek = socket.peek(&mut byte);
        std::pin::pin!(peek).poll(&mut cx).is_pending()
    }

    fn now() -> std::time::Instant {
        std::time::Instant::now()
    }

    fn timer(at: std::time::Instant) -> async_io::Timer {
        async_io::Timer::at(at)
    }

    fn reset_timer(timer: &mut async_io::Timer, at: std::time::Instant) {
        timer.set_at(at);
    }

    fn poll_timer(timer: &mut async_io::Timer, cx: &mut Context<'_>) -> Poll<()> {
        Pin::new(timer).poll(cx).map(|_| ())
    }
}
