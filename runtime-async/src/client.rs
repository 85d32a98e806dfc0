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
