//! Where credentials go when `-L` follows redirects: curl's rule.
//!
//! The command's credentials (`-u`, the URL's userinfo, or an `Authorization` header given with
//! `-H`) become the first request's `Authorization` field, so they are sent with the first
//! request, before any 401, as curl does. The library's redirect step drops that field
//! whenever a redirect leaves the request's origin (scheme, host and port). That is half of
//! curl's rule; [`Credentials`] adds the other half, as a network interceptor that sees every
//! hop:
//!
//! - a hop back on the first request's origin gets the credentials again (curl compares each
//!   hop with the first host, not with the previous one);
//! - with `--location-trusted`, every hop gets them, whatever its origin.
//!
//! It never sends credentials with a request that already carries an `Authorization` field.
//!
//! This is also why the command does not use the library's `BasicAuthenticator`: after a
//! redirect to another host, it would answer that host's 401 with the credentials.

use wayfarer_core::{Interceptor, InterceptorContext, Request, RequestAction, Url};

/// The network interceptor that puts the credentials back on the hops curl sends them to.
#[derive(Debug)]
pub struct Credentials {
    /// The `Authorization` value.
    value: String,
    /// The first request's URL: its origin is the one the credentials were given for.
    first: Url,
    /// `--location-trusted`: every origin gets them.
    trusted: bool,
}

impl Credentials {
    /// The interceptor for `request` (the command's first request), or `None` when it carries
    /// no credentials.
    pub fn for_request(request: &Request, trusted: bool) -> Option<Credentials> {
        let value = request.header("authorization")?;
        Some(Credentials {
            value: value.to_string(),
            first: request.url().clone(),
            trusted,
        })
    }

    /// Whether a request to `url` may carry the credentials.
    fn allowed_to(&self, url: &Url) -> bool {
        self.trusted || url.origin() == self.first.origin()
    }
}

impl Interceptor for Credentials {
    fn on_request(&self, _cx: &mut InterceptorContext<'_>, mut request: Request) -> RequestAction {
        if request.header("authorization").is_none() && self.allowed_to(request.url()) {
            if let Err(e) = request.headers_mut().set("Authorization", &self.value) {
                return RequestAction::Fail(e);
            }
        }
        RequestAction::Proceed(request)
    }

    fn name(&self) -> &str {
        "credentials"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn credentials(trusted: bool) -> Credentials {
        let first = Request::get("http://a.test:8080/login")
            .header("Authorization", "Basic dTpw")
            .build()
            .unwrap();
        Credentials::for_request(&first, trusted).unwrap()
    }

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn only_the_first_origin_gets_them_unless_trusted() {
        let own = credentials(false);
        assert!(own.allowed_to(&url("http://a.test:8080/elsewhere?x=1")));
        for other in [
            "http://b.test:8080/",
            "https://a.test:8080/",
            "http://a.test:8081/",
            "http://a.test/",
        ] {
            assert!(!own.allowed_to(&url(other)), "{other}");
            assert!(credentials(true).allowed_to(&url(other)), "{other}");
        }
    }

    #[test]
    fn a_request_without_credentials_needs_no_interceptor() {
        let plain = Request::get("http://a.test/").build().unwrap();
        assert!(Credentials::for_request(&plain, true).is_none());
    }
}
