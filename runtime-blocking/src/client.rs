//! The blocking client: shared configuration, connection pool and dispatcher.

use std::fmt;
use std::sync::Arc;
use std::time::SystemTime;

use wayfarer_core::{ClientBuilder, Config, Instant, Now, Request, WallClock};

use crate::call::Call;
use crate::cleanup::Cleaner;
use crate::dispatcher::Dispatcher;
use crate::socket::Socket;

/// An HTTP client. Build it once and share it (it is cheap to clone): calls made through clones
/// share one connection pool and one dispatcher.
///
/// ```no_run
/// use wayfarer_blocking::{Client, Request};
///
/// let client = Client::new();
/// let request = Request::get("http://example.com/").build()?;
/// let response = client.new_call(request).execute()?;
/// println!("{} {}", response.status(), response.text()?);
/// # Ok::<(), wayfarer_blocking::Error>(())
/// ```
///
/// # Connections
///
/// Idle connections are kept for reuse (5 for 5 minutes by default; see
/// [`ClientBuilder::max_idle_connections`] and [`ClientBuilder::keep_alive`]). A thread
/// started with the pool's first connection closes each one when its keep-alive ends, or as
/// soon as the server closes it or sends it anything unasked, and ends when the pool is empty.
#[derive(Clone)]
pub struct Client {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) core: wayfarer_core::Client<Socket>,
    /// Monotonic time is measured from here (the same instant for every client sharing a
    /// pool).
    pub(crate) epoch: std::time::Instant,
    /// The wall clock, read about once a second rather than once per call.
    wall: WallClock,
    pub(crate) dispatcher: Dispatcher,
    /// The pool's cleanup thread (shared with the pool).
    pub(crate) cleaner: Arc<Cleaner>,
}

impl Inner {
    pub(crate) fn now(&self) -> Now {
        self.wall.now(self.mono_now(), SystemTime::now)
    }

    /// The monotonic clock alone (the wall clock is read once per call; see `Now::later`).
    pub(crate) fn mono_now(&self) -> Instant {
        Instant::from_std(self.epoch, std::time::Instant::now())
    }

    /// Starts the pool's cleanup thread when the pool asked for it.
    pub(crate) fn start_cleanup(&self, start: bool) {
        if start {
            self.cleaner.start(self.core.pool().downgrade(), self.epoch);
        }
    }
}

impl Client {
    /// A client with the default settings (10 s timeouts, 5 idle connections kept 5 minutes,
    /// 64 calls at once, 5 per host).
    pub fn new() -> Client {
        Client::from(Config::default())
    }

    /// A builder for a client with other settings.
    ///
    /// ```
    /// use std::time::Duration;
    /// use wayfarer_blocking::Client;
    ///
    /// let client = Client::builder()
    ///     .connect_timeout(Duration::from_secs(2))
    ///     .read_timeout(Duration::from_secs(30))
    ///     .build()?;
    /// # Ok::<(), wayfarer_blocking::Error>(())
    /// ```
    pub fn builder() -> ClientBuilder<Client> {
        ClientBuilder::new()
    }

    /// A builder with this client's settings whose client shares this one's connection pool
    /// and dispatcher (OkHttp's `newBuilder()`): the way to make a client that differs in a
    /// setting or two without opening connections of its own. Changing the pool or dispatcher
    /// settings in it gives the new client its own pool or dispatcher instead.
    ///
    /// ```
    /// use std::time::Duration;
    /// use wayfarer_blocking::Client;
    ///
    /// let client = Client::new();
    /// let patient = client.new_builder().read_timeout(Duration::from_secs(60)).build()?;
    /// assert_eq!(patient.config().read_timeout(), Some(Duration::from_secs(60)));
    /// patient.dispatcher().set_max_requests(10)?;
    /// assert_eq!(client.dispatcher().max_requests(), 10, "one dispatcher");
    /// # Ok::<(), wayfarer_blocking::Error>(())
    /// ```
    pub fn new_builder(&self) -> ClientBuilder<Client> {
        ClientBuilder::derive(self.config(), self.inner.clone())
    }

    /// The settings.
    pub fn config(&self) -> &Config {
        self.inner.core.config()
    }

    /// A client with other settings that shares this one's connection pool and dispatcher
    /// whatever `config` says about them (the pool keeps its own size and keep-alive, the
    /// dispatcher its limits). A pooled
    /// connection is only handed to a client whose TLS settings are those it was made with.
    ///
    /// ```
    /// use wayfarer_blocking::{Client, Config};
    ///
    /// let client = Client::new();
    /// let strict = client.with_config(Config::builder().tls_built_in_roots(false).build()?);
    /// assert!(!strict.config().tls_identity().as_bytes().is_empty());
    /// # Ok::<(), wayfarer_blocking::Error>(())
    /// ```
    pub fn with_config(&self, config: Config) -> Client {
        Client {
            inner: Arc::new(Inner {
                core: self.inner.core.with_config(config),
                epoch: self.inner.epoch,
                wall: WallClock::new(),
                dispatcher: self.inner.dispatcher.clone(),
                cleaner: self.inner.cleaner.clone(),
            }),
        }
    }

    /// Prepares a call; nothing is sent until [`Call::execute`] or [`Call::enqueue`].
    pub fn new_call(&self, request: Request) -> Call {
        Call::new(self.inner.clone(), request)
    }

    /// The dispatcher: enqueued calls' limits and queues, running calls, `cancel_all`.
    pub fn dispatcher(&self) -> &Dispatcher {
        &self.inner.dispatcher
    }

    /// Number of idle connections in the pool.
    pub fn idle_count(&self) -> usize {
        self.inner.core.pool().idle_count()
    }

    /// Number of idle connections in the pool (the same as [`Client::idle_count`]).
    pub fn idle_connection_count(&self) -> usize {
        self.idle_count()
    }

    /// Number of connections, in use and idle.
    pub fn connection_count(&self) -> usize {
        self.inner.core.pool().connection_count()
    }

    /// Closes every idle pooled connection; connections in use are closed when their calls
    /// are done with them.
    pub fn evict_all(&self) {
        self.inner.core.evict_all();
        // The cleanup thread ends once it sees the pool empty: let it look now rather than at
        // its next scheduled look, minutes away, so it does not keep its thread and its wake-up
        // sockets that long.
        self.inner.cleaner.wake();
    }
}

impl Default for Client {
    fn default() -> Client {
        Client::new()
    }
}

impl From<Config> for Client {
    fn from(mut config: Config) -> Client {
        let base = config
            .take_shared_state()
            .and_then(|state| state.downcast::<Inner>().ok());
        let inner = match base {
            None => Inner {
                dispatcher: Dispatcher::new(config.max_requests(), config.max_requests_per_host()),
                core: wayfarer_core::Client::new(config),
                epoch: std::time::Instant::now(),
                wall: WallClock::new(),
                cleaner: Arc::default(),
            },
            Some(base) => {
                let base_config = base.core.config();
                let dispatcher = if (config.max_requests(), config.max_requests_per_host())
                    == (
                        base_config.max_requests(),
                        base_config.max_requests_per_host(),
                    ) {
                    base.dispatcher.clone()
                } else {
                    Dispatcher::new(config.max_requests(), config.max_requests_per_host())
                };
                let core = base.core.derive(config);
                let cleaner = if core.pool().same_pool(base.core.pool()) {
                    base.cleaner.clone()
                } else {
                    Arc::default()
                };
                Inner {
                    core,
                    epoch: base.epoch,
                    wall: WallClock::new(),
                    dispatcher,
                    cleaner,
                }
            }
        };
        Client {
            inner: Arc::new(inner),
        }
    }
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("config", self.config())
            .finish()
    }
}

/// The root certificates of the platform's trust store (on Linux the distribution's CA bundle,
/// `SSL_CERT_FILE` or `SSL_CERT_DIR` when set; the system keychain on macOS and Windows), for
/// a client that should trust what the machine trusts instead of the built-in Mozilla set:
///
/// ```no_run
/// # use wayfarer_blocking::{Client, platform_root_certificates};
/// let client = Client::builder()
///     .tls_built_in_roots(false)
///     .add_root_certificates(platform_root_certificates()?)
///     .build()?;
/// # Ok::<(), wayfarer_blocking::Error>(())
/// ```
///
/// The store is read from disk (or the OS) once per call of this function, with
/// `rustls-native-certs`; certificates are then verified by the core as any other roots, so
/// pinning and the driver's clock work the same. Fails when the store holds no usable root.
pub fn platform_root_certificates() -> Result<Vec<wayfarer_core::Certificate>, wayfarer_core::Error>
{
    let loaded = rustls_native_certs::load_native_certs();
    wayfarer_core::Certificate::platform_roots(
        loaded.certs.iter().map(|c| c.to_vec()),
        loaded.errors.iter().map(|e| e.to_string()),
    )
}
