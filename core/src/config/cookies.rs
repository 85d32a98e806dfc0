//! The cookie settings of [`Config`] and [`ClientBuilder`]: the jar, and what the bridge does
//! with the jar's cookies when a request carries cookies of its own.

use std::sync::Arc;

use super::{ClientBuilder, Config};
use crate::cookies::{CookieJar, JarCookiesWithOwn};

impl Config {
    /// The cookie jar, if any.
    pub fn cookie_jar(&self) -> Option<&Arc<dyn CookieJar>> {
        self.cookie_jar.as_ref()
    }

    /// What the bridge does with the jar's cookies when a request has a `Cookie` field of its
    /// own.
    pub fn jar_cookies_with_own(&self) -> JarCookiesWithOwn {
        self.jar_cookies_with_own
    }
}

impl<C> ClientBuilder<C> {
    /// Keeps cookies: the jar is asked for the cookies of every request's URL and told every
    /// response's `Set-Cookie` fields (none by default, as in OkHttp: without a jar, no cookie
    /// is kept or sent). A jar shared with other clients (an `Arc` of one) shares its cookies.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use wayfarer_core::Config;
    /// use wayfarer_core::cookies::MemoryCookieJar;
    ///
    /// let jar = Arc::new(MemoryCookieJar::new());
    /// let config = Config::builder().cookie_jar(jar.clone()).build()?;
    /// # Ok::<(), wayfarer_core::Error>(())
    /// ```
    pub fn cookie_jar(mut self, jar: impl CookieJar + 'static) -> Self {
        self.cookie_jar = Some(Arc::new(jar));
        self
    }

    /// How the jar's cookies combine with a `Cookie` field the request has of its own:
    /// [`Withheld`](JarCookiesWithOwn::Withheld) by default, as in OkHttp (the request's field
    /// goes alone, none of the jar's cookies with it), or merged with it, first, the way curl
    /// merges a cookie file with `-b 'a=1'` ([`JoinedFirst`](JarCookiesWithOwn::JoinedFirst))
    /// or with `-H 'Cookie: a=1'` ([`OwnFieldFirst`](JarCookiesWithOwn::OwnFieldFirst)).
    ///
    /// It is a setting of the bridge, not a job for an interceptor, because the bridge adds
    /// the jar's cookies above the cache: the cache then stores, and matches `Vary: Cookie`
    /// against, the request with every cookie it is sent with. A network interceptor adding
    /// them would run below the cache, which would never see them.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use wayfarer_core::Config;
    /// use wayfarer_core::cookies::{JarCookiesWithOwn, MemoryCookieJar};
    ///
    /// let config = Config::builder()
    ///     .cookie_jar(Arc::new(MemoryCookieJar::new()))
    ///     .jar_cookies_with_own(JarCookiesWithOwn::JoinedFirst)
    ///     .build()?;
    /// assert_eq!(config.jar_cookies_with_own(), JarCookiesWithOwn::JoinedFirst);
    /// # Ok::<(), wayfarer_core::Error>(())
    /// ```
    pub fn jar_cookies_with_own(mut self, with_own: JarCookiesWithOwn) -> Self {
        self.jar_cookies_with_own = with_own;
        self
    }
}
