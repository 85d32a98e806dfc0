//! The blocking client: shared configuration and connection pool.

use std::fmt;
use std::sync::Arc;
use std::time::SystemTime;

use wayfarer_core::{ClientBuilder, Config, Instant, Now, Request};

use crate::call::Call;
use crate::socket::Socket;

/// An HTTP client. Build it once and share it (it is cheap to clone): calls made through clones
/// share one connection pool.
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
#[derive(Clone)]
pub struct Client {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) core: wayfarer_core::Client<Socket>,
    /// Monotonic time is measured from here.
    epoch: std::time::Instant,
}

impl Inner {
    pub(crate) fn now(&self) -> Now {
        Now::new(
            Instant::from_std(self.epoch, std::time::Instant::now()),
            SystemTime::now(),
        )
    }
}

impl Client {
    /// A client with the default settings (10 s timeouts, 5 idle connections kept 5 minutes).
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

    /// The settings.
    pub fn config(&self) -> &Config {
        self.inner.core.config()
    }

    /// A client with other settings that shares this one's connection pool (OkHttp's
    /// `client.newBuilder()...build()`); the pool keeps its own size and keep-alive. A pooled
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
            }),
        }
    }

    /// Prepares a call; nothing is sent until [`Call::execute`].
    pub fn new_call(&self, request: Request) -> Call {
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

impl Default for Client {
    fn default() -> Client {
        Client::new()
    }
}

impl From<Config> for Client {
    fn from(config: Config) -> Client {
        Client {
            inner: Arc::new(Inner {
                core: wayfarer_core::Client::new(config),
                epoch: std::time::Instant::now(),
            }),
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
