//! Whether a failed attempt is sent again (OkHttp's `recover`, with RFC 9110 section 9.2.2).
//!
//! Never when:
//! - retrying on connection failure is off;
//! - a one-shot request body was already (partly) sent;
//! - the failure is the server breaking the protocol, a timeout other than a connect timeout,
//!   a TLS failure (an untrusted or mismatched certificate will not improve), a cancel, or the
//!   caller's own input;
//! - no route is left: the attempt was on a fresh connection (every address was already tried
//!   by the connection finder), so only a pooled connection that died while idle is worth a
//!   fresh one;
//! - some of the response had arrived (the connection was alive, the server is misbehaving);
//! - the request may have reached the server and is not idempotent, unless the caller said it
//!   may be repeated ([`RequestBuilder::idempotent`](crate::RequestBuilder::idempotent)). This
//!   is the rule that keeps a POST on a connection the server closed after reading it from
//!   being silently sent twice.

use crate::{Config, Error, ErrorKind, Phase, Request, TimeoutKind};

/// What the call knows about a failed attempt.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Attempt {
    /// The connection came from the pool.
    pub reused: bool,
    /// Some request byte was written: the server may have seen the request.
    pub transmitted: bool,
    /// Some of a streamed request body was pulled.
    pub body_pulled: bool,
    /// Some byte of a response arrived.
    pub response_started: bool,
}

/// Whether `request`, whose attempt failed with `error`, may be sent again on a fresh
/// connection.
pub(crate) fn may_retry(
    error: &Error,
    attempt: &Attempt,
    request: &Request,
    config: &Config,
) -> bool {
    if !config.retry_on_connection_failure {
        return false;
    }
    if attempt.body_pulled && request.body().is_one_shot() {
        return false;
    }
    // The caller's own body source failed: not the connection's fault.
    if error.phase() == Some(Phase::RequestBody) {
        return false;
    }
    let recoverable = match error.kind() {
        ErrorKind::Io | ErrorKind::Connect => true,
        ErrorKind::Timeout => error.timeout_kind() == Some(TimeoutKind::Connect),
        _ => false,
    };
    if !recoverable || !attempt.reused || attempt.response_started {
        return false;
    }
    !attempt.transmitted || request.is_idempotent()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn io() -> Error {
        Error::io(
            "the server closed the connection without sending a response",
            None,
        )
    }

    fn pooled() -> Attempt {
        Attempt {
            reused: true,
            transmitted: true,
            ..Attempt::default()
        }
    }

    #[test]
    fn a_dead_pooled_connection_is_retried_for_idempotent_requests() {
        let config = Config::default();
        let get = Request::get("http://a.test/").build().unwrap();
        assert!(may_retry(&io(), &pooled(), &get, &config));
        let put = Request::put("http://a.test/").body("x").build().unwrap();
        assert!(may_retry(&io(), &pooled(), &put, &config));
    }

    #[test]
    fn a_post_that_may_have_reached_the_server_is_never_sent_twice() {
        let config = Config::default();
        let post = Request::post("http://a.test/pay")
            .body("x")
            .build()
            .unwrap();
        assert!(!may_retry(&io(), &pooled(), &post, &config));
        let unsent = Attempt {
            transmitted: false,
            ..pooled()
        };
        assert!(may_retry(&io(), &unsent, &post, &config));
        let opted_in = Request::post("http://a.test/pay")
            .idempotent(true)
            .body("x")
            .build()
            .unwrap();
        assert!(may_retry(&io(), &pooled(), &opted_in, &config));
    }

    #[test]
    fn the_other_rules_refuse() {
        let get = Request::get("http://a.test/").build().unwrap();
        let config = Config::default();
        let off = Config::builder()
            .retry_on_connection_failure(false)
            .build()
            .unwrap();
        assert!(!may_retry(&io(), &pooled(), &get, &off));
        let fresh = Attempt {
            reused: false,
            ..pooled()
        };
        assert!(!may_retry(&io(), &fresh, &get, &config));
        let started = Attempt {
            response_started: true,
            ..pooled()
        };
        assert!(!may_retry(&io(), &started, &get, &config));
        for error in [
            Error::protocol("bad"),
            Error::timeout(TimeoutKind::Read, None),
            Error::canceled(),
            Error::invalid_input("x"),
        ] {
            assert!(!may_retry(&error, &pooled(), &get, &config), "{error}");
        }
        assert!(may_retry(
            &Error::timeout(TimeoutKind::Connect, None),
            &pooled(),
            &get,
            &config
        ));
        let stream = Request::put("http://a.test/")
            .body(crate::Body::from_reader(std::io::empty(), None))
            .build()
            .unwrap();
        let pulled = Attempt {
            body_pulled: true,
            ..pooled()
        };
        assert!(!may_retry(&io(), &pulled, &stream, &config));
        assert!(may_retry(&io(), &pooled(), &stream, &config));
    }
}
