//! The retry-and-follow-up link (OkHttp's `RetryAndFollowUpInterceptor`): it answers a failure
//! with a retry when that is safe, and a response with the request it calls for (a redirect, an
//! authenticated request, a retry after 408, 417 or 503), up to [`Config::max_follow_ups`]
//! follow-ups.
//!
//! Each decision is a pure function of the response or failure, the facts the call gathered and
//! the configuration, so it is tested here alone:
//! - [`recover`](recover::may_retry): whether a failed attempt is sent again;
//! - [`redirect`]: the request a 3xx asks for;
//! - [`auth`]: answering 401 and 407;
//! - 408 and 503: retried once, as OkHttp does;
//! - 417 to `Expect: 100-continue`: sent again without the expectation, as curl does (OkHttp
//!   returns the 417).

pub(crate) mod auth;
pub(crate) mod recover;
pub(crate) mod redirect;

use std::sync::Arc;

use crate::{Config, Error, Request, Response};

pub(crate) use recover::Attempt;

/// What the link decided about a response.
#[derive(Debug)]
pub(crate) enum Decision {
    /// Return the response.
    Return,
    /// Send this request next; the response is to be kept as the next one's prior response
    /// ([`FollowUp::keep_prior`]). Boxed: follow-ups are rare, and the decision about every
    /// response is otherwise a word.
    FollowUp(Box<Request>),
    /// Fail the call.
    Fail(Error),
}

/// The link's state for one call.
#[derive(Debug, Default)]
pub(crate) struct FollowUp {
    /// The request last sent down the chain when it is not the call's own (a follow-up's, or
    /// one an application interceptor rewrote); `None` while it is the call's own, which the
    /// call holds, so a single-hop call takes no second count of it (an atomic operation at
    /// each end).
    request: Option<Arc<Request>>,
    /// The response last followed, without its body. Boxed as it will be in the next
    /// response's head (no extra allocation), and so that the call, which holds this and is
    /// moved whole several times per request, does not carry a whole head inline.
    prior: Option<Box<Response<()>>>,
    follow_ups: u32,
    /// Identical credentials answered in a row.
    same_credentials: u32,
}

impl FollowUp {
    /// The status of the response last followed.
    pub(crate) fn followed_status(&self) -> Option<http::StatusCode> {
        self.prior.as_deref().map(Response::status)
    }

    /// The request last sent down the chain (the one the bridge below was given), given the
    /// call's own request `call`.
    pub(crate) fn request<'a>(&'a self, call: &'a Arc<Request>) -> &'a Arc<Request> {
        self.request.as_ref().unwrap_or(call)
    }

    /// Remembers the request going down, for a retry; `call` is the call's own request.
    pub(crate) fn on_request(&mut self, request: &Arc<Request>, call: &Arc<Request>) {
        self.request = (!Arc::ptr_eq(request, call)).then(|| request.clone());
    }

    /// The request to send again after `error`, if the retry rules allow it (`call` as for
    /// [`request`](Self::request)).
    pub(crate) fn on_failure(
        &mut self,
        error: &Error,
        attempt: &Attempt,
        config: &Config,
        call: &Arc<Request>,
    ) -> Option<Arc<Request>> {
        let request = self.request(call);
        recover::may_retry(error, attempt, request, config).then(|| request.clone())
    }

    /// Decides what `response` calls for, in place: the response moves on up the chain
    /// unless it is to be followed up (it travels in every link's result, and each move
    /// copies it). `proxy` is the proxy of the connection the response came on (none for a
    /// direct one or a response from the cache): a `407` is answered for that proxy only.
    pub(crate) fn on_response(
        &mut self,
        response: &mut Response<()>,
        config: &Config,
        proxy: Option<&crate::Proxy>,
    ) -> Decision {
        response.set_prior_response(self.prior.take());
        let Some(next) = self.follow_up_request(response, config, proxy) else {
            return Decision::Return;
        };
        let next = match next {
            Ok(next) => next,
            Err(e) => return Decision::Fail(e),
        };
        // Whatever asked for it (a challenge, a 503, a redirect that keeps the body), a body
        // that can be sent only once already went out: the response is the answer (OkHttp
        // checks every follow-up the same way).
        if next.body().is_one_shot() {
            return Decision::Return;
        }
        self.follow_ups += 1;
        if self.follow_ups > config.max_follow_ups {
            return Decision::Fail(Error::too_many_follow_ups(self.follow_ups));
        }
        Decision::FollowUp(Box::new(next))
    }

    /// Keeps the response that asked for a follow-up as the prior response of the next one.
    pub(crate) fn keep_prior(&mut self, response: Response<()>) {
        self.prior = Some(Box::new(response));
    }

    /// The request `response` calls for, if any (OkHttp's `followUpRequest`).
    fn follow_up_request(
        &mut self,
        response: &Response<()>,
        config: &Config,
        proxy: Option<&crate::Proxy>,
    ) -> Option<Result<Request, Error>> {
        let status = response.status().as_u16();
        match status {
            407 => {
                // Only an HTTP proxy forwarding a plain request may ask for proxy credentials
                // here (a tunnel's 407 is answered while connecting), and only the proxy the
                // request went through gets an answer: never another proxy's credentials.
                let request = response.request();
                let proxy = proxy.filter(|p| {
                    matches!(p, crate::Proxy::Http(_)) && request.url().scheme() == "http"
                });
                let Some(proxy) = proxy else {
                    return Some(Err(Error::protocol(
                        "received HTTP 407 Proxy Authentication Required without using a proxy",
                    )));
                };
                let authenticator = config.routing.proxy_authenticator_for(proxy)?;
                let next = authenticator.authenticate(response)?;
                let sent = request.header("proxy-authorization");
                // The same credentials refused twice: the 407 is the answer.
                (next.header("proxy-authorization") != sent).then_some(Ok(next))
            }
            401 => {
                let authenticator = config.authenticator.as_deref()?;
                let next = authenticator.authenticate(response)?;
                let repeated = next.header("authorization").is_some()
                    && next.header("authorization") == response.request().header("authorization");
                if repeated {
                    self.same_credentials += 1;
                    if self.same_credentials >= auth::MAX_SAME_CREDENTIALS {
                        return None;
                    }
                } else {
                    self.same_credentials = 0;
                }
                Some(Ok(next))
            }
            300..=303 | 307 | 308 => redirect::redirect(response, config).ok().map(Ok),
            417 => {
                // The server refused `Expect: 100-continue` before the body went out: the same
                // request again without the expectation (RFC 9110 section 10.1.1; curl does).
                let request = response.request();
                let expected = request.headers().has_token("expect", "100-continue");
                expected.then(|| {
                    let mut next = request.clone();
                    next.headers_mut().remove("Expect");
                    Ok(next)
                })
            }
            408 => {
                // A server timeout: the same request once more, unless retrying is off, the
                // last answer was a 408 too, or the server asks for a delay (OkHttp). A body
                // that cannot be sent again is checked for every follow-up alike.
                let request = response.request();
                let again = config.retry_on_connection_failure
                    && response.prior_response().map(|p| p.status().as_u16()) != Some(408)
                    && retry_after(response, 0) == 0;
                again.then(|| Ok(request.clone()))
            }
            503 => {
                // Service unavailable: retried once, only when the server says right now.
                let again = response.prior_response().map(|p| p.status().as_u16()) != Some(503)
                    && retry_after(response, u64::MAX) == 0;
                again.then(|| Ok(response.request().clone()))
            }
            _ => None,
        }
    }
}

/// `Retry-After` in seconds: `default` when absent, and "a long time" for an HTTP date or
/// anything that is not a number (OkHttp's reading).
fn retry_after(response: &Response<()>, default: u64) -> u64 {
    match response.header("retry-after") {
        None => default,
        Some(v) => v.trim().parse().unwrap_or(u64::MAX),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{BasicAuthenticator, StatusCode};

    fn response(status: u16, request: Request, headers: &[(&str, &str)]) -> Response<()> {
        let mut r = Response::new(StatusCode::from_u16(status).unwrap(), request);
        for (n, v) in headers {
            r.headers_mut().append(n, v).unwrap();
        }
        r
    }

    fn get() -> Request {
        Request::get("http://a.test/").build().unwrap()
    }

    fn follow(link: &mut FollowUp, mut r: Response<()>, config: &Config) -> Option<Request> {
        match link.on_response(&mut r, config, None) {
            Decision::FollowUp(next) => {
                link.keep_prior(r);
                Some(*next)
            }
            Decision::Return => None,
            Decision::Fail(e) => panic!("{e}"),
        }
    }

    #[test]
    fn a_408_is_retried_once_and_not_after_a_delay() {
        let config = Config::default();
        let mut link = FollowUp::default();
        let next = follow(&mut link, response(408, get(), &[]), &config).unwrap();
        assert_eq!(next.url().as_str(), "http://a.test/");
        assert!(follow(&mut link, response(408, next, &[]), &config).is_none());
        let mut link = FollowUp::default();
        assert!(
            follow(
                &mut link,
                response(408, get(), &[("Retry-After", "1")]),
                &config
            )
            .is_none()
        );
        let one_shot = Request::put("http://a.test/")
            .body(crate::Body::from_reader(std::io::empty(), None))
            .build()
            .unwrap();
        assert!(
            follow(
                &mut FollowUp::default(),
                response(408, one_shot, &[]),
                &config
            )
            .is_none()
        );
        let off = Config::builder()
            .retry_on_connection_failure(false)
            .build()
            .unwrap();
        assert!(follow(&mut FollowUp::default(), response(408, get(), &[]), &off).is_none());
    }

    #[test]
    fn a_503_is_retried_once_only_when_retry_after_is_zero() {
        let config = Config::default();
        assert!(follow(&mut FollowUp::default(), response(503, get(), &[]), &config).is_none());
        let mut link = FollowUp::default();
        let next = follow(
            &mut link,
            response(503, get(), &[("Retry-After", "0")]),
            &config,
        )
        .unwrap();
        assert!(
            follow(
                &mut link,
                response(503, next, &[("Retry-After", "0")]),
                &config
            )
            .is_none()
        );
    }

    #[test]
    fn too_many_follow_ups_fail_with_their_own_kind() {
        let config = Config::builder().max_follow_ups(2).build().unwrap();
        let mut link = FollowUp::default();
        let mut request = get();
        for _ in 0..2 {
            request = follow(
                &mut link,
                response(302, request, &[("Location", "/x")]),
                &config,
            )
            .unwrap();
        }
        let mut last = response(302, request, &[("Location", "/x")]);
        match link.on_response(&mut last, &config, None) {
            Decision::Fail(e) => {
                assert_eq!(e.kind(), crate::ErrorKind::TooManyFollowUps);
                assert_eq!(e.message(), "Too many follow-up requests: 3");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn responses_carry_their_prior_response() {
        let config = Config::default();
        let mut link = FollowUp::default();
        let next = follow(
            &mut link,
            response(301, get(), &[("Location", "/b")]),
            &config,
        )
        .unwrap();
        let mut r = response(200, next, &[]);
        match link.on_response(&mut r, &config, None) {
            Decision::Return => {
                let prior = r.prior_response().unwrap();
                assert_eq!(prior.status().as_u16(), 301);
                assert_eq!(r.prior_count(), 1);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn challenges_go_to_the_authenticator_and_stop_when_it_repeats_itself() {
        struct Same;
        impl auth::Authenticator for Same {
            fn authenticate(&self, c: &Response<()>) -> Option<Request> {
                let mut r = c.request().clone();
                r.headers_mut().set("Authorization", "Basic same").ok()?;
                Some(r)
            }
        }
        let none = Config::default();
        assert!(follow(&mut FollowUp::default(), response(401, get(), &[]), &none).is_none());
        let config = Config::builder().authenticator(Same).build().unwrap();
        let mut link = FollowUp::default();
        let mut request = get();
        let mut sent = 0;
        while let Some(next) = follow(&mut link, response(401, request, &[]), &config) {
            sent += 1;
            assert!(sent < 10, "the authenticator loop was not stopped");
            request = next;
        }
        assert_eq!(sent, auth::MAX_SAME_CREDENTIALS);
        let basic = Config::builder()
            .authenticator(BasicAuthenticator::new("u", "p"))
            .build()
            .unwrap();
        let mut link = FollowUp::default();
        let next = follow(&mut link, response(401, get(), &[]), &basic).unwrap();
        assert!(follow(&mut link, response(401, next, &[]), &basic).is_none());
    }

    #[test]
    fn a_407_without_a_proxy_is_a_protocol_error() {
        let mut r = response(407, get(), &[]);
        match FollowUp::default().on_response(&mut r, &Config::default(), None) {
            Decision::Fail(e) => assert_eq!(e.kind(), crate::ErrorKind::Protocol),
            other => panic!("{other:?}"),
        }
    }
}
