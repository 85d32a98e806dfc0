//! The `CONNECT` tunnel through an HTTP proxy (RFC 9110 section 9.3.6, OkHttp's
//! `createTunnel`), as a sans-IO state machine.
//!
//! The `CONNECT` request carries only what the proxy needs: `Host`, `User-Agent` and, once the
//! proxy has asked, `Proxy-Authorization`. The application's own fields (`Authorization`,
//! `Cookie`, ...) travel only inside the tunnel, under TLS.
//!
//! ```text
//!  CONNECT host:port ──▶ 2xx ──────────────────────────────────▶ tunnel stands (TLS follows)
//!                    ──▶ 407 ──authenticator──▶ CONNECT + Proxy-Authorization (same socket,
//!                         │                     or a new one after `Connection: close`)
//!                         └── same credentials refused again, or no answer ──▶ Proxy error
//!                    ──▶ anything else ─────────────────────────▶ Proxy error
//! ```

use std::sync::Arc;

use http::{Method, StatusCode};

use crate::response::ResponseParts;
use crate::{Authenticator, Error, Headers, Request, Response, Version};

/// Most bytes of a proxy's answer to `CONNECT` we read (head and a `407` body).
const MAX_ANSWER: usize = 64 * 1024;

/// Most `CONNECT` requests one tunnel sends: an authenticator whose answer changes every time
/// (a fresh nonce) against a proxy that always answers `407` would otherwise loop for as long
/// as the proxy does. OkHttp gives up after the same number.
const MAX_ATTEMPTS: u32 = 21;

/// What the tunnel wants next.
#[derive(Debug)]
pub(crate) enum TunnelStep {
    /// Read more of the proxy's answer.
    Read,
    /// The tunnel stands; everything after goes to the origin.
    Done,
    /// The proxy wants credentials: send this `CONNECT` again, on this connection or, when
    /// `new_connection`, on a fresh one to the same proxy.
    Retry {
        /// The `CONNECT` request to send.
        request: Vec<u8>,
        /// The proxy closes this connection (`Connection: close`, or an unframed body).
        new_connection: bool,
    },
}

/// One `CONNECT` through an HTTP proxy, across the connections a `407` may take.
pub(crate) struct Tunnel {
    host: String,
    port: u16,
    user_agent: Option<Vec<u8>>,
    proxy_authorization: Option<String>,
    authenticator: Option<Arc<dyn Authenticator>>,
    /// `CONNECT` requests answered so far.
    attempts: u32,
    /// The proxy it goes through: its credentials are for that proxy alone.
    proxy: Option<crate::Proxy>,
}

impl std::fmt::Debug for Tunnel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tunnel")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("authorized", &self.proxy_authorization.is_some())
            .finish_non_exhaustive()
    }
}

impl Tunnel {
    /// A tunnel to `host:port` (an IPv6 literal without brackets).
    pub(crate) fn new(
        host: &str,
        port: u16,
        user_agent: Option<&[u8]>,
        authenticator: Option<Arc<dyn Authenticator>>,
    ) -> Tunnel {
        Tunnel {
            host: host.to_owned(),
            port,
            user_agent: user_agent.map(<[u8]>::to_vec),
            proxy_authorization: None,
            authenticator,
            attempts: 0,
            proxy: None,
        }
    }

    /// The same tunnel, marked as going through `proxy`.
    pub(crate) fn through(mut self, proxy: &crate::Proxy) -> Tunnel {
        self.proxy = Some(proxy.clone());
        self
    }

    /// Whether this tunnel (and the credentials it may hold) belongs to `proxy`.
    pub(crate) fn is_through(&self, proxy: &crate::Proxy) -> bool {
        self.proxy.as_ref() == Some(proxy)
    }

    /// `host:port`, bracketing an IPv6 literal.
    fn authority(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }

    /// The `CONNECT` request head.
    pub(crate) fn request(&self) -> Vec<u8> {
        let authority = self.authority();
        let mut out = format!("CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\n").into_bytes();
        if let Some(agent) = &self.user_agent {
            out.extend_from_slice(b"User-Agent: ");
            out.extend_from_slice(agent);
            out.extend_from_slice(b"\r\n");
        }
        if let Some(auth) = &self.proxy_authorization {
            out.extend_from_slice(b"Proxy-Authorization: ");
            out.extend_from_slice(auth.as_bytes());
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b"\r\n");
        out
    }

    /// Reads the proxy's answer from `data`: how many bytes it used and what to do next.
    pub(crate) fn on_data(&mut self, data: &[u8], eof: bool) -> Result<(usize, TunnelStep), Error> {
        let mut fields = [httparse::EMPTY_HEADER; 64];
        let mut head = httparse::Response::new(&mut fields);
        let head_len = match head.parse(data) {
            Ok(httparse::Status::Complete(n)) => n,
            Ok(httparse::Status::Partial) => {
                if eof {
                    return Err(Error::proxy(
                        "the proxy closed the connection before answering CONNECT",
                    ));
                }
                if data.len() > MAX_ANSWER {
                    return Err(Error::proxy("the proxy's answer to CONNECT is too large"));
                }
                return Ok((0, TunnelStep::Read));
            }
            Err(e) => {
                return Err(Error::proxy(format!(
                    "the proxy's answer to CONNECT is malformed: {e}"
                )));
            }
        };
        let code = head.code.unwrap_or(0);
        let reason = head.reason.unwrap_or("").to_owned();
        if (200..300).contains(&code) {
            // A successful CONNECT has no body: what follows is the origin's.
            return Ok((head_len, TunnelStep::Done));
        }
        if code != 407 {
            return Err(Error::proxy(format!(
                "CONNECT {} refused by the proxy: {code} {reason}",
                self.authority()
            )));
        }
        let mut headers = Headers::new();
        for field in head.headers.iter() {
            // A field we cannot keep changes nothing about the answer: skip it.
            let _ = headers.append(field.name, field.value);
        }
        let close = headers.get_all("connection").any(|v| {
            v.split(|&b| b == b',')
                .any(|t| crate::headers::trim_ows(t).eq_ignore_ascii_case(b"close"))
        });
        let length = headers
            .get("content-length")
            .and_then(|v| v.trim().parse::<usize>().ok());
        let chunked = headers.contains("transfer-encoding");
        // The challenge's body is skipped; one with no length keeps the socket busy, so the
        // next CONNECT goes on a new connection.
        let (consumed, new_connection) = match (length, chunked) {
            (Some(n), false) if n <= MAX_ANSWER => {
                if data.len() < head_len + n {
                    if eof {
                        return Err(Error::proxy("the proxy's 407 answer was cut short"));
                    }
                    return Ok((0, TunnelStep::Read));
                }
                (head_len + n, close)
            }
            _ => (head_len, true),
        };
        self.attempts += 1;
        if self.attempts >= MAX_ATTEMPTS {
            return Err(Error::proxy(format!(
                "CONNECT {}: too many attempts to authenticate to the proxy: {}",
                self.authority(),
                self.attempts
            )));
        }
        let refused = self.proxy_authorization.take();
        let challenge = self.challenge(code, reason, headers, refused.as_deref())?;
        let answer = self
            .authenticator
            .as_deref()
            .and_then(|auth| auth.authenticate(&challenge))
            .and_then(|r| r.header("proxy-authorization").map(str::to_owned));
        match answer {
            Some(auth) if Some(auth.as_str()) != refused.as_deref() => {
                self.proxy_authorization = Some(auth);
                Ok((
                    consumed,
                    TunnelStep::Retry {
                        request: self.request(),
                        new_connection,
                    },
                ))
            }
            _ if refused.is_some() => Err(Error::proxy(format!(
                "CONNECT {}: the proxy refused the credentials (407 {})",
                self.authority(),
                challenge.reason()
            ))),
            _ => Err(Error::proxy(format!(
                "CONNECT {}: the proxy requires authentication (407 {})",
                self.authority(),
                challenge.reason()
            ))),
        }
    }

    /// The `407` as a response to the `CONNECT` request, for the proxy authenticator.
    fn challenge(
        &self,
        code: u16,
        reason: String,
        headers: Headers,
        sent_authorization: Option<&str>,
    ) -> Result<Response<()>, Error> {
        let url = format!("https://{}/", self.authority());
        let mut request = Request::new(Method::CONNECT, url.as_str())?;
        request.headers_mut().set("Host", self.authority())?;
        if let Some(auth) = sent_authorization {
            request.headers_mut().set("Proxy-Authorization", auth)?;
        }
        let status =
            StatusCode::from_u16(code).unwrap_or(StatusCode::PROXY_AUTHENTICATION_REQUIRED);
        Ok(Response::from_parts(
            ResponseParts {
                status,
                reason: reason.into(),
                version: Version::HTTP_11,
                headers,
            },
            Arc::new(request),
            std::time::SystemTime::UNIX_EPOCH,
            std::time::SystemTime::UNIX_EPOCH,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{BasicAuthenticator, ErrorKind};

    fn tunnel(auth: bool) -> Tunnel {
        let a: Option<Arc<dyn Authenticator>> =
            auth.then(|| Arc::new(BasicAuthenticator::for_proxy("u", "p")) as _);
        Tunnel::new("example.com", 443, Some(b"wayfarer/1"), a)
    }

    #[test]
    fn the_request_carries_host_and_user_agent_only() {
        let t = tunnel(true);
        assert_eq!(
            String::from_utf8(t.request()).unwrap(),
            "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\nUser-Agent: wayfarer/1\r\n\r\n"
        );
        let v6 = Tunnel::new("::1", 8443, None, None);
        assert!(
            String::from_utf8(v6.request())
                .unwrap()
                .starts_with("CONNECT [::1]:8443 HTTP/1.1\r\nHost: [::1]:8443\r\n")
        );
    }

    #[test]
    fn success_leaves_the_origins_bytes() {
        let mut t = tunnel(false);
        let answer = b"HTTP/1.1 200 Connection established\r\n\r\n\x16\x03";
        assert!(matches!(
            t.on_data(&answer[..10], false).unwrap(),
            (0, TunnelStep::Read)
        ));
        assert!(matches!(
            t.on_data(answer, false).unwrap(),
            (39, TunnelStep::Done)
        ));
    }

    #[test]
    fn a_407_is_answered_once_then_refusal_ends_it() {
        let mut t = tunnel(true);
        let challenge = b"HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"p\"\r\nContent-Length: 3\r\n\r\nabc";
        let (n, step) = t.on_data(challenge, false).unwrap();
        assert_eq!(n, challenge.len());
        let TunnelStep::Retry {
            request,
            new_connection,
        } = step
        else {
            panic!("{step:?}")
        };
        assert!(!new_connection);
        let request = String::from_utf8(request).unwrap();
        assert!(
            request.ends_with("Proxy-Authorization: Basic dTpw\r\n\r\n"),
            "{request}"
        );
        let e = t.on_data(challenge, false).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Proxy);
        assert!(e.message().contains("refused the credentials"), "{e}");
    }

    #[test]
    fn a_407_with_connection_close_asks_for_a_new_connection() {
        let mut t = tunnel(true);
        let challenge = b"HTTP/1.1 407 Auth\r\nConnection: close\r\nContent-Length: 0\r\n\r\n";
        let (_, step) = t.on_data(challenge, false).unwrap();
        assert!(matches!(
            step,
            TunnelStep::Retry {
                new_connection: true,
                ..
            }
        ));
        let mut no_auth = tunnel(false);
        let e = no_auth.on_data(challenge, false).unwrap_err();
        assert!(e.message().contains("requires authentication"), "{e}");
    }

    #[test]
    fn an_authenticator_with_ever_new_answers_is_stopped_after_21_attempts() {
        #[derive(Debug, Default)]
        struct FreshNonce(std::sync::atomic::AtomicUsize);
        impl Authenticator for FreshNonce {
            fn authenticate(&self, challenge: &Response<()>) -> Option<Request> {
                let n = self.0.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let mut next = challenge.request().clone();
                let value = format!("Digest nonce={n}");
                next.headers_mut().set("Proxy-Authorization", &value).ok()?;
                Some(next)
            }
        }
        let mut t = Tunnel::new(
            "example.com",
            443,
            None,
            Some(Arc::new(FreshNonce::default())),
        );
        let challenge = b"HTTP/1.1 407 Auth\r\nContent-Length: 0\r\n\r\n";
        for attempt in 1..MAX_ATTEMPTS {
            let (_, step) = t.on_data(challenge, false).unwrap();
            assert!(matches!(step, TunnelStep::Retry { .. }), "{attempt}");
        }
        let e = t.on_data(challenge, false).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Proxy);
        assert!(e.message().contains("too many attempts"), "{e}");
        assert!(e.message().ends_with(": 21"), "{e}");
    }

    #[test]
    fn other_answers_fail_with_a_proxy_error() {
        let mut t = tunnel(true);
        let e = t
            .on_data(b"HTTP/1.1 403 Forbidden\r\n\r\n", false)
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Proxy);
        assert!(e.message().contains("403 Forbidden"), "{e}");
        assert!(t.on_data(b"HTTP/1.1 2", true).is_err());
        assert!(t.on_data(b"garbage\r\n\r\n", false).is_err());
    }
}
