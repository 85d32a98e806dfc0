//! The client: shared configuration and connection pool.

use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::SystemTime;

use wayfarer_core::{ClientBuilder, Config, Instant, Now, Request};

use crate::call::Call;
use crate::net::Net;

/// An async HTTP client over the runtime `N`. Build it once and share it: clones share one
/// connection pool. Each runtime crate names it as its own `Client`.
pub struct Client<N: Net> {
    pub(crate) inner: Arc<Inner<N>>,
}

pub(crate) struct Inner<N: Net> {
    pub(crate) core: wayfarer_core::Client<N::Socket>,
    /// Monotonic time is measured from here (on the runtime's clock).
    pub(crate) epoch: std::time::Instant,
    net: PhantomData<fn() -> N>,
}

impl<N: Net> Inner<N> {
    pub(crate) fn now(&self) -> Now {
        Now::new(Instant::from_std(self.epoch, N::now()), SystemTime::now())
    }
}

impl<N: Net> Client<N> {
    /// A client with the default settings (10 s timeouts, 5 idle connections kept 5 minutes).
    pub fn new() -> Client<N> {
        Client::from(Config::default())
    }

    /// A builder for a client with other settings.
    pub fn builder() -> ClientBuilder<Client<N>> {
        ClientBuilder::new()
    }

    /// The settings.
    pub fn config(&self) -> &Config {
        self.inner.core.config()
    }

    /// A client with other settings that shares this one's connection pool (OkHttp's
    /// `client.newBuilder()...build()`); the pool keeps its own size and keep-alive. A pooled
    /// connection is only handed to a client whose TLS settings are those it was made with.
    pub fn with_config(&self, config: Config) -> Client<N> {
        Client {
            inner: Arc::new(Inner {
                core: self.inner.core.with_config(config),
                epoch: self.inner.epoch,
                net: PhantomData,
            }),
        }
    }

    /// Prepares a call; nothing is sent until [`Call::execute`].
    pub fn new_call(&self, request: Request) -> Call<N> {
        Call::new(self.inner.clone(), request)
    }

    /// Number of idle connections in the pool.
    pub fn idle_connection_count(&self) -> usize {
        self.inner.core.idle_connection_count()
    }

    /// Closes every idle pooled connection.
    pub fn evict_all(&self) {
        self.inner.core.evict_all();
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
    fn from(config: Config) -> Client<N> {
        let inner = Inner {
            core: wayfarer_core::Client::new(config),
            epoch: N::now(),
            net: PhantomData,
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
