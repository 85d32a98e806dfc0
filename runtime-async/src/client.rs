//! The client: shared configuration, connection pool and dispatcher.

use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::SystemTime;

use wayfarer_core::{ClientBuilder, Config, Instant, Now, Request, WallClock};

use crate::call::Call;
use crate::cleanup::CleanerHandle;
use crate::dispatcher::Dispatcher;
use crate::net::Net;
use crate::timer::IdleTimers;

/// An async HTTP client over the runtime `N`. Build it once and share it: clones share one
/// connection pool and one dispatcher. Each runtime crate names it as its own `Client`.
///
/// # Connections
///
/// Idle connections are kept for reuse (5 for 5 minutes by default; see
/// [`ClientBuilder::max_idle_connections`] and [`ClientBuilder::keep_alive`]). A background
/// task on the runtime, spawned with the pool's first connection, closes each one when its
/// keep-alive ends, or as soon as the server closes it or sends it anything unasked, and ends
/// when the pool is empty.
pub struct Client<N: Net> {
    pub(crate) inner: Arc<Inner<N>>,
}

pub(crate) struct Inner<N: Net> {
    pub(crate) core: wayfarer_core::Client<N::Socket>,
    /// Monotonic time is measured from here (on the runtime's clock; the same instant for every
    /// client sharing a pool).
    pub(crate) epoch: std::time::Instant,
    /// The wall clock, read about once a second rather than once per call.
    wall: WallClock,
    pub(crate) dispatcher: Dispatcher<N>,
    /// The pool's cleanup task (shared with the pool). Declared after `core`: see
    /// [`CleanerHandle`].
    pub(crate) cleaner: CleanerHandle,
    /// Timers of finished calls, kept armed for later ones (shared by derived clients, which
    /// share the epoch their instants count from).
    pub(crate) timers: Arc<IdleTimers<N>>,
    net: PhantomData<fn() -> N>,
}

impl<N: Net> Inner<N> {
    pub(crate) fn now(&self) -> Now {
        self.wall
            .now(Instant::from_std(self.epoch, N::now()), SystemTime::now)
    }

    /// Spawns the pool's cleanup task when the pool asked for it.
    pub(crate) fn start_cleanup(&self, start: bool) {
        if start {
            self.cleaner
                .start::<N>(self.core.pool().downgrade(), self.epoch);
        }
    }
}

impl<N: Net> Client<N> {
    /// A client with the default settings (10 s timeouts, 5 idle connections kept 5 minutes,
    /// 64 calls at once, 5 per host).
    pub fn new() -> Client<N> {
        Client::from(Config::default())
    }

    /// A builder for a client with other settings.
    pub fn builder() -> ClientBuilder<Client<N>> {
        ClientBuilder::new()
    }

    /// A builder with this client's settings whose client shares this one's connection pool
    /// and dispatcher (OkHttp's `newBuilder()`): the way to make a client that differs in a
    /// setting or two without opening connections of its own. Changing the pool or dispatcher
    /// settings in it gives the new client its own pool or dispatcher instead.
    pub fn new_builder(&self) -> ClientBuilder<Client<N>> {
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
    pub fn with_config(&self, config: Config) -> Client<N> {
        Client {
            inner: Arc::new(Inner {
                core: self.inner.core.with_config(config),
                epoch: self.inner.epoch,
                wall: WallClock::new(),
                dispatcher: self.inner.dispatcher.clone(),
                cleaner: self.inner.cleaner.clone(),
                timers: self.inner.timers.clone(),
                net: PhantomData,
            }),
        }
    }

    /// Prepares a call; nothing is sent until [`Call::execute`] or [`Call::enqueue`].
    pub fn new_call(&self, request: Request) -> Call<N> {
        Call::new(self.inner.clone(), request)
    }

    /// The dispatcher: enqueued calls' limits and queues, running calls, `cancel_all`.
    pub fn dispatcher(&self) -> &Dispatcher<N> {
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
        // The cleanup task ends once it sees the pool empty: let it look now rather than at its
        // next scheduled run, minutes away.
        self.inner.cleaner.waker().wake();
    }
}

impl<N: Net> Clone for Client<N> {
    fn clone(&self) -> Client<N> {
        Client {
            inner: self.inner.clone(),
        }
    }
}

impl<N: Net> Default for Client<N> {
    fn default() -> Client<N> {
        Client::new()
    }
}

impl<N: Net> From<Config> for Client<N> {
    fn from(mut config: Config) -> Client<N> {
        let base = config
            .take_shared_state()
            .and_then(|state| state.downcast::<Inner<N>>().ok());
        let inner = match base {
            None => Inner {
                dispatcher: Dispatcher::new(config.max_requests(), config.max_requests_per_host()),
                core: wayfarer_core::Client::new(config),
                epoch: N::now(),
                wall: WallClock::new(),
                cleaner: CleanerHandle::default(),
                timers: Arc::default(),
                net: PhantomData,
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
                    CleanerHandle::default()
                };
                Inner {
                    core,
                    epoch: base.epoch,
                    wall: WallClock::new(),
                    dispatcher,
                    cleaner,
                    timers: base.timers.clone(),
                    net: PhantomData,
                }
            }
        };
        Client {
            inner: Arc::new(inner),
        }
    }
}

impl<N: Net> fmt::Debug for Client<N> {
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
/// use wayfarer_async::{Client, Net, platform_root_certificates};
///
/// fn client<N: Net>() -> Result<Client<N>, wayfarer_core::Error> {
///     Client::builder()
///         .tls_built_in_roots(false)
///         .add_root_certificates(platform_root_certificates()?)
///         .build()
/// }
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
