//! wayfarer's async HTTP client for tokio.
//!
//! A call's future drives the sans-IO core (`wayfarer-core`) on a tokio socket inside the task
//! that awaits it: no connection task is spawned and nothing is handed across threads per
//! request. Concurrent calls share only the client's connection pool and dispatcher; one task,
//! spawned on the runtime while the pool holds connections, closes them when their keep-alive
//! ends.
//!
//! ```no_run
//! use wayfarer_tokio::{Client, Request};
//!
//! # async fn run() -> Result<(), wayfarer_tokio::Error> {
//! let client = Client::new();
//!
//! // Whole body as text.
//! let request = Request::get("https://example.com/").build()?;
//! let text = client.new_call(request).execute().await?.text().await?;
//!
//! // Streamed body, chunk by chunk (the body is also a `Stream` and a tokio `AsyncRead`).
//! let request = Request::get("https://example.com/big.iso").build()?;
//! let mut response = client.new_call(request).execute().await?;
//! while let Some(chunk) = response.body_mut().chunk().await? {
//!     println!("{} bytes", chunk.len());
//! }
//! # Ok(())
//! # }
//! ```
//!
//! Names are resolved with tokio's resolver (the system's, on tokio's blocking pool); timeouts
//! are tokio timers armed from the core's deadlines, one per call that waits, kept (armed) by the
//! client for the next call in the same runtime when it ends. The client follows tokio's
//! clock, so `tokio::time::pause()` in tests applies to it.
//!
//! Unless tokio already holds a readiness for it, a read or write is tried on the socket
//! first and goes through tokio's readiness only when it would block (always under tokio's
//! cooperative budget): a keep-alive request whose response has arrived by the time it is
//! read is one `write` and one `read`, with no `epoll_wait` and no trip out of the task, and a
//! new connection to a nearby peer is used at once.

use std::io::{self, Read};
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll, Waker, ready};

use tokio::io::{AsyncRead, AsyncWrite, Interest, ReadBuf};
use tokio::net::TcpStream;
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
/// [`ClientBuilder::cache`]. Its body reads and writes run on tokio's blocking pool.
pub use wayfarer_disk_cache::Cache;

/// A request body (bytes, a stream, or a repeatable source).
pub use wayfarer_core::Body as RequestBody;

/// An HTTP client on tokio. Build it once and share it: clones share one connection pool.
///
/// ```no_run
/// use std::time::Duration;
/// use wayfarer_tokio::Client;
///
/// let client = Client::builder().read_timeout(Duration::from_secs(30)).build()?;
/// # Ok::<(), wayfarer_tokio::Error>(())
/// ```
pub type Client = wayfarer_async::Client<Tokio>;
/// A prepared request; see [`wayfarer_async::Call`].
pub type Call = wayfarer_async::Call<Tokio>;
/// Limits and queues of enqueued calls; see [`wayfarer_async::Dispatcher`].
pub type Dispatcher = wayfarer_async::Dispatcher<Tokio>;
/// A response body read inside the task that polls it; see [`wayfarer_async::Body`].
pub type Body = wayfarer_async::Body<Tokio>;
/// A connection that switched protocols (`101`); see [`wayfarer_async::Upgraded`].
pub type Upgraded = wayfarer_async::Upgraded<Tokio>;
/// A response whose body is read inside the task that polls it.
pub type Response = wayfarer_core::Response<Body>;
/// What a closure interceptor works with; see [`interceptor`].
pub type Chain = wayfarer_async::Chain<Tokio>;

/// An interceptor from an async closure: it gets the [`Chain`], usually awaits
/// `chain.proceed(request)` once, and returns the response (see
/// [`wayfarer_core::Interceptor`] for the chain's rules).
///
/// ```no_run
/// use wayfarer_tokio::{Client, interceptor};
///
/// let client = Client::builder()
///     .interceptor(interceptor(|mut chain| async move {
///         let request = chain.request().clone();
///         let response = chain.proceed(request).await?;
///         println!("{}", response.status());
///         Ok(response)
///     }))
///     .build()?;
/// # Ok::<(), wayfarer_tokio::Error>(())
/// ```
pub fn interceptor<F, Fut>(f: F) -> wayfarer_async::FnInterceptor<Tokio>
where
    F: Fn(Chain) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<Response, Error>> + Send + 'static,
{
    wayfarer_async::interceptor(f)
}

/// tokio's sockets, resolver, timers and clock, for the shared async driver.
#[derive(Debug, Clone, Copy)]
pub struct Tokio;

impl wayfarer_async::Net for Tokio {
    type Socket = TcpStream;
    type Timer = Pin<Box<tokio::time::Sleep>>;
    /// A `Sleep` belongs to the runtime that made it: polled once that runtime has shut down,
    /// it panics. A client used from several runtimes hands a kept timer only to a call in the
    /// one it came from.
    type TimerHome = tokio::runtime::Id;

    fn resolve(host: String, port: u16) -> BoxFuture<io::Result<Vec<SocketAddr>>> {
        Box::pin(async move {
            tokio::net::lookup_host((host, port))
                .await
                .map(Iterator::collect)
        })
    }

    fn connect(addr: SocketAddr) -> BoxFuture<io::Result<TcpStream>> {
        Box::pin(async move {
            // tokio's own connect always waits for writability, one trip through the reactor
            // even when the handshake is done (see `start_connect`); its wait is mirrored here.
            let (socket, connected) = wayfarer_async::start_connect(addr)?;
            let socket = TcpStream::from_std(socket)?;
            if !connected {
                socket.writable().await?;
                if let Some(e) = socket.take_error()? {
                    return Err(e);
                }
            }
            Ok(socket)
        })
    }

    fn poll_read(
        socket: &mut TcpStream,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        // tokio reads only once its reactor has reported the socket readable, and forgets that
        // after a short read, so every keep-alive response would wait for an `epoll_wait` and
        // a trip out of the task and back in, though it has usually arrived by the time it
        // is read. Unless tokio holds a readiness (then its read is as direct, and spends the
        // readiness exactly), the read is tried first, under tokio's cooperative budget like
        // its own reads; tokio's way is taken when it would block.
        let coop = ready!(tokio::task::coop::poll_proceed(cx));
        if !holds(socket, Interest::READABLE) {
            if let Some(result) = direct(socket, |mut s| s.read(buf)) {
                coop.made_progress();
                return Poll::Ready(result);
            }
        }
        drop(coop);
        let mut read_buf = ReadBuf::new(buf);
        Pin::new(socket)
            .poll_read(cx, &mut read_buf)
            .map_ok(|()| read_buf.filled().len())
    }

    fn poll_write(
        socket: &mut TcpStream,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        // The same for writes: a new socket's first write would otherwise wait for the
        // reactor to report it writable.
        let coop = ready!(tokio::task::coop::poll_proceed(cx));
        if !holds(socket, Interest::WRITABLE) {
            if let Some(result) = direct(socket, |s| send(s, buf)) {
                coop.made_progress();
                return Poll::Ready(result);
            }
        }
        drop(coop);
        Pin::new(socket).poll_write(cx, buf)
    }

    fn shutdown_write(socket: &mut TcpStream) -> io::Result<()> {
        // tokio shuts the write side at once: the first poll is ready.
        let mut cx = Context::from_waker(Waker::noop());
        match tokio::io::AsyncWrite::poll_shutdown(Pin::new(socket), &mut cx) {
            Poll::Ready(result) => result,
            Poll::Pending => Err(io::ErrorKind::WouldBlock.into()),
        }
    }

    fn poll_readable(socket: &mut TcpStream, cx: &mut Context<'_>) -> Poll<()> {
        // An error is readiness too: the read that follows reports it.
        socket.poll_read_ready(cx).map(|_| ())
    }

    fn is_healthy(socket: &TcpStream) -> bool {
        // A peek that would block means: still open, nothing unsolicited waiting. tokio answers
        // from its readiness state without a system call when the socket is not readable.
        let mut cx = Context::from_waker(Waker::noop());
        let mut byte = [0u8; 1];
        let mut buf = ReadBuf::new(&mut byte);
        socket.poll_peek(&mut cx, &mut buf).is_pending()
    }

    fn poll_idle(socket: &mut TcpStream, cx: &mut Context<'_>) -> Poll<()> {
        // tokio's own reads drop read readiness after a short read, but a read made on the
        // socket itself (see `poll_read`) leaves whatever readiness the reactor records for
        // the bytes it took: a peek tells that from new bytes, and clears it. No system call
        // when tokio holds no readiness.
        if socket.poll_read_ready(cx).is_pending() {
            return Poll::Pending;
        }
        if !Self::is_healthy(socket) {
            return Poll::Ready(());
        }
        socket.poll_read_ready(cx).map(|_| ())
    }

    fn spawn(future: BoxFuture<()>) {
        match tokio::runtime::Handle::try_current() {
            Ok(handle) => drop(handle.spawn(future)),
            // Outside a runtime (a socket made in one, polled from elsewhere): a small runtime
            // of its own on a thread, which ends with the task.
            Err(_) => {
                let _ = std::thread::Builder::new()
                    .name("wayfarer-pool".into())
                    .spawn(move || {
                        if let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                            .enable_all()
                            .build()
                        {
                            rt.block_on(future);
                        }
                    });
            }
        }
    }

    fn now() -> std::time::Instant {
        tokio::time::Instant::now().into_std()
    }

    fn timer_home() -> Option<tokio::runtime::Id> {
        tokio::runtime::Handle::try_current().ok().map(|h| h.id())
    }

    fn timer(at: std::time::Instant) -> Self::Timer {
        Box::pin(tokio::time::sleep_until(at.into()))
    }

    fn reset_timer(timer: &mut Self::Timer, at: std::time::Instant) {
        timer.as_mut().reset(at.into());
    }

    fn poll_timer(timer: &mut Self::Timer, cx: &mut Context<'_>) -> Poll<()> {
        timer.as_mut().poll(cx)
    }

    fn unblock<T, F>(f: F) -> BoxFuture<Option<T>>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        match tokio::runtime::Handle::try_current() {
            // A dropped JoinHandle detaches the task: once started, it runs to its end.
            Ok(handle) => {
                let task = handle.spawn_blocking(f);
                Box::pin(async move { task.await.ok() })
            }
            // Polled outside a tokio runtime (another executor): run it here.
            Err(_) => {
                let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).ok();
                Box::pin(std::future::ready(result))
            }
        }
    }
}

/// One read or write on the socket itself, past tokio's readiness; `None` when it would block
/// (or was interrupted), for tokio's own way to take over and wait.
fn direct<T>(
    socket: &TcpStream,
    op: impl FnOnce(&socket2::Socket) -> io::Result<T>,
) -> Option<io::Result<T>> {
    match op(&socket2::SockRef::from(socket)) {
        Err(e)
            if matches!(
                e.kind(),
                io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
            ) =>
        {
            None
        }
        result => Some(result),
    }
}

/// Sends on the socket itself. A peer that has gone away gives `EPIPE`, never a `SIGPIPE`
/// (as std's and tokio's own sends): with `MSG_NOSIGNAL` where there is one; elsewhere Apple's
/// sockets carry `SO_NOSIGPIPE` from their creation (socket2), and Windows has no such signal.
fn send(socket: &socket2::Socket, buf: &[u8]) -> io::Result<usize> {
    socket.send_with_flags(buf, NO_SIGNAL)
}

#[cfg(any(target_os = "android", target_os = "freebsd", target_os = "linux"))]
const NO_SIGNAL: i32 = libc::MSG_NOSIGNAL;
#[cfg(not(any(target_os = "android", target_os = "freebsd", target_os = "linux")))]
const NO_SIGNAL: i32 = 0;

/// Whether tokio holds a readiness of this kind for `socket` (asked with no system call, no
/// waker registered, and nothing spent).
fn holds(socket: &TcpStream, interest: Interest) -> bool {
    socket.try_io(interest, || Ok(())).is_ok()
}

use std::future::Future as _;
