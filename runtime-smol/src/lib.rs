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
//! timeouts are async-io timers armed from the core's deadlines, one per call that waits, kept
//! armed by the client for the next call when it ends (a timer armed for an instant before the
//! deadline stays armed until it fires, so the reactor is rarely touched). Without an
//! executor to spawn on, the pool's cleanup task runs on a thread of its own, which exists only
//! while the pool holds connections.

use std::fmt;
use std::future::Future;
use std::io;
use std::net::{SocketAddr, TcpStream};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use async_io::{Async, ReadableOwned};
use futures_io::{AsyncRead, AsyncWrite};
use wayfarer_async::BoxFuture;

pub use wayfarer_async::{
    BytesFuture, JsonFuture, TextFuture, env_proxy_selector, platform_root_certificates,
};
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
/// [`ClientBuilder::cache`]. Its body reads and writes run on the `blocking` thread pool.
pub use wayfarer_disk_cache::Cache;

/// A request body (bytes, a stream, or a repeatable source).
pub use wayfarer_core::Body as RequestBody;

/// An HTTP client on async-io/async-net. Build it once and share it: clones share one
/// connection pool.
pub type Client = wayfarer_async::Client<Smol>;
/// A prepared request; see [`wayfarer_async::Call`].
pub type Call = wayfarer_async::Call<Smol>;
/// Limits and queues of enqueued calls; see [`wayfarer_async::Dispatcher`].
pub type Dispatcher = wayfarer_async::Dispatcher<Smol>;
/// A response body read inside the task that polls it; see [`wayfarer_async::Body`].
pub type Body = wayfarer_async::Body<Smol>;
/// A connection that switched protocols (`101`); see [`wayfarer_async::Upgraded`].
pub type Upgraded = wayfarer_async::Upgraded<Smol>;
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

/// A TCP socket on async-io's reactor, as the driver keeps it.
///
/// While it is idle in the pool it also holds a registration for readability, made at the
/// pool's cleanup task's next look (within 100 ms of the release), so bytes or a close
/// arriving then wake that task.
pub struct SmolSocket {
    io: Arc<Async<TcpStream>>,
    /// The readability watch of this idle period, if one started.
    idle: Option<ReadableOwned<TcpStream>>,
}

impl fmt::Debug for SmolSocket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmolSocket")
            .field("io", self.io.get_ref())
            .finish_non_exhaustive()
    }
}

/// async-net's sockets and resolver and async-io's timers, for the shared async driver.
#[derive(Debug, Clone, Copy)]
pub struct Smol;

impl wayfarer_async::Net for Smol {
    type Socket = SmolSocket;
    type Timer = async_io::Timer;
    /// async-io has one reactor per process: any call may reuse any timer.
    type TimerHome = ();

    fn resolve(host: String, port: u16) -> BoxFuture<io::Result<Vec<SocketAddr>>> {
        Box::pin(async move { async_net::resolve((host.as_str(), port)).await })
    }

    fn connect(addr: SocketAddr) -> BoxFuture<io::Result<SmolSocket>> {
        Box::pin(async move {
            // async-io's own connect always arms the reactor and waits for writability, even
            // when the handshake is done (see `start_connect`); its wait is mirrored here.
            let (socket, connected) = wayfarer_async::start_connect(addr)?;
            let io = Async::new_nonblocking(socket)?;
            if !connected {
                io.writable().await?;
                if let Some(e) = io.get_ref().take_error()? {
                    return Err(e);
                }
            }
            Ok(SmolSocket {
                io: Arc::new(io),
                idle: None,
            })
        })
    }

    fn poll_read(
        socket: &mut SmolSocket,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut &*socket.io).poll_read(cx, buf)
    }

    fn shutdown_write(socket: &mut SmolSocket) -> io::Result<()> {
        socket.io.get_ref().shutdown(std::net::Shutdown::Write)
    }

    fn poll_readable(socket: &mut SmolSocket, cx: &mut Context<'_>) -> Poll<()> {
        // An error is readiness too: the read that follows reports it.
        socket.io.poll_readable(cx).map(|_| ())
    }

    fn poll_write(
        socket: &mut SmolSocket,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut &*socket.io).poll_write(cx, buf)
    }

    fn is_healthy(socket: &SmolSocket) -> bool {
        // A peek that would block means: still open, nothing unsolicited waiting. Made on the
        // non-blocking socket itself, not through async-io, whose `peek` would arm the
        // reactor's interest when it finds nothing.
        let mut byte = [0u8; 1];
        matches!(
            socket.io.get_ref().peek(&mut byte),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock
        )
    }

    /// Arming async-io's one-shot interest is an `epoll_ctl`, and the reactor wakes again when
    /// the socket's next response arrives: a sequential keep-alive loop would pay both on every
    /// request. The cleanup task watches released sockets instead.
    const IDLE_WATCH_IS_FREE: bool = false;

    fn is_idle_watched(socket: &SmolSocket) -> bool {
        socket.idle.is_some()
    }

    fn start_idle(socket: &mut SmolSocket) {
        // async-io's readiness is per registration: the next `poll_idle` (the cleanup task's)
        // makes a fresh one for this idle period.
        socket.idle = None;
    }

    fn end_idle(socket: &mut SmolSocket) {
        // Dropping the watch removes the cleanup task's waker from the socket's source.
        socket.idle = None;
    }

    fn poll_idle(socket: &mut SmolSocket, cx: &mut Context<'_>) -> Poll<()> {
        let watch = socket
            .idle
            .get_or_insert_with(|| socket.io.clone().readable_owned());
        Pin::new(watch).poll(cx).map(|_| ())
    }

    fn spawn(future: BoxFuture<()>) {
        let _ = std::thread::Builder::new()
            .name("wayfarer-pool".into())
            .spawn(move || async_io::block_on(future));
    }

    fn now() -> std::time::Instant {
        std::time::Instant::now()
    }

    fn timer_home() -> Option<()> {
        Some(())
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

    fn unblock<T, F>(f: F) -> BoxFuture<Option<T>>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        // Catching the panic here keeps the pool's thread, and tells the driver the job is
        // lost; a detached task still runs to its end if the future is dropped.
        let task = blocking::unblock(move || {
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).ok()
        });
        Box::pin(Detached(Some(task)))
    }
}

/// A `blocking` task that is detached, not canceled, when its future is dropped.
struct Detached<T>(Option<blocking::Task<T>>);

impl<T> Future for Detached<T> {
    type Output = T;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        match self.0.as_mut() {
            Some(task) => {
                let out = std::task::ready!(Pin::new(task).poll(cx));
                self.0 = None;
                Poll::Ready(out)
            }
            // Polled after it gave its output: it never resolves again.
            None => Poll::Pending,
        }
    }
}

impl<T> Drop for Detached<T> {
    fn drop(&mut self) {
        if let Some(task) = self.0.take() {
            task.detach();
        }
    }
}
