//! Header fields sent with every request of a client (reqwest's `default_headers`; what OkHttp
//! users write an application interceptor for).

use std::sync::Arc;

use bytes::Bytes;
use smallvec::SmallVec;

use crate::{ClientBuilder, Config, Headers, Request};

impl<C> ClientBuilder<C> {
    /// Sends `name: value` with every request this client makes, unless the request carries a
    /// field of that name itself: a caller's own field always wins over a default (all the
    /// default's values are left out, not merged). Calling it again for the same name adds
    /// another value, as [`Headers::append`] does; [`default_headers`](Self::default_headers)
    /// replaces them all. An invalid name or value fails [`build`](Self::build) with
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput).
    ///
    /// The defaults are added to the request when its call starts, so they behave exactly as
    /// fields the caller set:
    /// - application and network interceptors, event listeners, the cache (its `Vary`
    ///   matching) and [`Response::request`](crate::Response::request) see them;
    /// - the bridge's fields come after them and give way to them: a default `User-Agent`
    ///   replaces [`user_agent`](Self::user_agent), a default `Accept-Encoding` turns off
    ///   transparent gzip as a caller's would, a default `Cookie` replaces the cookie jar's;
    /// - follow-ups (redirects, authentication, retries) carry them on, and a redirect to
    ///   another origin (scheme, host or port) drops `Authorization` and `Cookie`, as it drops
    ///   the caller's own: a default credential is never sent to a host it was not meant for,
    ///   and is not restored if the chain later comes back to the first origin.
    ///
    /// ```
    /// use wayfarer_core::Config;
    ///
    /// let config = Config::builder()
    ///     .default_header("Accept", "application/json")
    ///     .default_header("X-Api-Key", "secret")
    ///     .build()?;
    /// assert_eq!(config.default_headers().get("x-api-key"), Some("secret"));
    ///
    /// let bad = Config::builder().default_header("X-Bad", "a\r\nInjected: 1").build();
    /// assert_eq!(bad.unwrap_err().kind(), wayfarer_core::ErrorKind::InvalidInput);
    /// # Ok::<(), wayfarer_core::Error>(())
    /// ```
    pub fn default_header(mut self, name: &str, value: impl AsRef<[u8]>) -> Self {
        if let Err(e) = self.default_headers.append(name, value) {
            self.error.get_or_insert(e);
        }
        self
    }

    /// Replaces the default fields with `headers` (see
    /// [`default_header`](Self::default_header) for how they are sent); an empty [`Headers`]
    /// sends none. Fields from the `http` crate convert with `Headers::try_from(&header_map)`.
    ///
    /// ```
    /// use wayfarer_core::{Config, Headers};
    ///
    /// let mut headers = Headers::new();
    /// headers.append("Accept", "application/json")?;
    /// let config = Config::builder().default_headers(headers).build()?;
    /// assert_eq!(config.default_headers().len(), 1);
    /// # Ok::<(), wayfarer_core::Error>(())
    /// ```
    pub fn default_headers(mut self, headers: Headers) -> Self {
        self.default_headers = headers;
        self
    }
}

impl Config {
    /// The fields sent with every request that does not set them itself (see
    /// [`ClientBuilder::default_header`]).
    pub fn default_headers(&self) -> &Headers {
        &self.default_headers
    }
}

/// Adds the fields of `defaults` whose name `request` does not carry, after its own fields.
pub(crate) fn apply(defaults: &Headers, request: &mut Arc<Request>) {
    if defaults.is_empty() {
        return;
    }
    // Which defaults the request lacks, decided before any is added (a default with several
    // values adds them all). The fields are shared with `defaults`, not copied: a client's
    // default fields cost a request no allocation of their own.
    let missing: SmallVec<[(Bytes, Bytes); 4]> = defaults
        .iter()
        .enumerate()
        .filter(|(_, (name, _))| !request.headers().contains(name))
        .filter_map(|(i, _)| defaults.shared_field(i))
        .collect();
    if missing.is_empty() {
        return;
    }
    // The caller's request is shared with no one yet: no copy.
    let headers = Arc::make_mut(request).headers_mut();
    for (name, value) in missing {
        // Both were validated when they went into `defaults`.
        headers.push_unchecked(name, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> Config {
        Config::builder()
            .default_header("Accept", "application/json")
            .default_header("X-Multi", "1")
            .default_header("x-multi", "2")
            .build()
            .unwrap()
    }

    #[test]
    fn defaults_follow_the_callers_fields() {
        let mut request = Request::get("http://a.test/")
            .header("X-Own", "y")
            .build()
            .map(Arc::new)
            .unwrap();
        apply(config().default_headers(), &mut request);
        let fields: Vec<(&str, &[u8])> = request.headers().iter().collect();
        assert_eq!(
            fields,
            [
                ("X-Own", &b"y"[..]),
                ("Accept", b"application/json"),
                ("X-Multi", b"1"),
                ("x-multi", b"2"),
            ]
        );
    }

    #[test]
    fn the_callers_field_wins_over_every_value_of_a_default() {
        let mut request = Request::get("http://a.test/")
            .header("accept", "text/html")
            .header("X-MULTI", "mine")
            .build()
            .map(Arc::new)
            .unwrap();
        apply(config().default_headers(), &mut request);
        assert_eq!(request.headers().get_all("accept").count(), 1);
        assert_eq!(request.header("accept"), Some("text/html"));
        let multi: Vec<&[u8]> = request.headers().get_all("x-multi").collect();
        assert_eq!(multi, [&b"mine"[..]]);
        // Credentials from the URL are the request's own Authorization.
        let mut request = Arc::new(Request::get("http://u:p@a.test/").build().unwrap());
        let config = Config::builder()
            .default_header("Authorization", "Bearer t")
            .build()
            .unwrap();
        apply(config.default_headers(), &mut request);
        assert_eq!(request.header("authorization"), Some("Basic dTpw"));
    }

    #[test]
    fn invalid_defaults_fail_the_build_and_replacing_clears_them() {
        let e = Config::builder()
            .default_header("Bad Name", "v")
            .build()
            .unwrap_err();
        assert_eq!(e.kind(), crate::ErrorKind::InvalidInput);
        let cleared = Config::builder()
            .default_header("A", "1")
            .default_headers(Headers::new())
            .build()
            .unwrap();
        assert!(cleared.default_headers().is_empty());
        // A derived builder starts from them.
        let derived = crate::ClientBuilder::<Config>::derive(&config(), std::sync::Arc::new(()))
            .build()
            .unwrap();
        assert_eq!(derived.default_headers().len(), 3);
    }
}
