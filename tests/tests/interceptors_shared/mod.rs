//! What the interceptor tests share: origin replies, the hops a network interceptor must
//! see, and two sans-IO interceptors.

#![allow(dead_code, unused_imports)] // each test binary uses its own subset

pub use std::sync::{Arc, Mutex};

pub use wayfarer_core::{
    Error, ErrorKind, Interceptor, InterceptorContext, Request, RequestAction, Response,
    ResponseAction,
};
pub use wayfarer_tests::origin::{Origin, Reply};
pub use wayfarer_tests::vector::RecordedRequest;

pub fn ok(body: &str) -> Reply {
    Reply::new(format!(
        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    ))
}

pub fn status(code: u16, body: &str) -> Reply {
    Reply::new(format!(
        "HTTP/1.1 {code} Whatever\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    ))
}

pub fn redirect(location: &str) -> Reply {
    Reply::new(format!(
        "HTTP/1.1 302 Found\r\nLocation: {location}\r\nContent-Length: 5\r\n\r\nmoved"
    ))
}

/// The value of a request header as the origin read it.
pub fn header(request: &RecordedRequest, name: &str) -> Option<String> {
    request
        .headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| String::from_utf8_lossy(v).into_owned())
}

/// What a network interceptor saw of one hop: the path, the fields the bridge adds, and the
/// status that came back.
#[derive(Debug, Clone, PartialEq)]
pub struct Hop {
    pub path: String,
    pub host: Option<String>,
    pub connection: Option<String>,
    pub accept_encoding: Option<String>,
    pub user_agent: Option<String>,
    pub status: u16,
}

pub fn hop(request: &Request, status: u16) -> Hop {
    Hop {
        path: request.url().path().to_owned(),
        host: request.header("host").map(str::to_owned),
        connection: request.header("connection").map(str::to_owned),
        accept_encoding: request.header("accept-encoding").map(str::to_owned),
        user_agent: request.header("user-agent").map(str::to_owned),
        status,
    }
}

/// The hops a redirect from `/a` to `/b` shows a network interceptor.
pub fn expected_hops(origin: &Origin) -> Vec<Hop> {
    ["/a", "/b"]
        .into_iter()
        .zip([302, 200])
        .map(|(path, status)| Hop {
            path: path.to_owned(),
            host: Some(origin.authority()),
            connection: Some("Keep-Alive".to_owned()),
            accept_encoding: Some("gzip".to_owned()),
            user_agent: Some("interceptor-test/1".to_owned()),
            status,
        })
        .collect()
}

/// A URL for the origin under another host name: same server and port, another origin.
pub fn other_host_url(origin: &Origin, path: &str) -> String {
    format!("http://localhost:{}{path}", origin.addr().port())
}

/// A URL on a port nothing listens on (bound, then closed): connecting is refused.
pub fn refused_url(path: &str) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    drop(listener);
    format!("http://127.0.0.1:{port}{path}")
}

/// gzip.compress(b"hello, gzip", mtime=0) from Python.
pub const HELLO_GZIP: &[u8] = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\x03\xcb\x48\xcd\xc9\xc9\xd7\x51\x48\xaf\xca\x2c\x00\x00\x4a\x9b\xb1\x5c\x0b\x00\x00\x00";

pub fn gzipped() -> Reply {
    let mut bytes = format!(
        "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: {}\r\n\r\n",
        HELLO_GZIP.len()
    )
    .into_bytes();
    bytes.extend_from_slice(HELLO_GZIP);
    Reply::new(bytes)
}

/// The `Content-Encoding` and `Content-Length` a response head carries.
pub fn encoding_fields<B>(response: &Response<B>) -> (Option<String>, Option<String>) {
    (
        response.header("content-encoding").map(str::to_owned),
        response.header("content-length").map(str::to_owned),
    )
}

pub fn assert_network_rule(error: &Error, name: &str, rule: &str) {
    let message = error.to_string();
    assert_eq!(error.kind(), ErrorKind::InvalidInput, "{message}");
    assert!(
        message.contains(&format!("network interceptor {name} {rule}")),
        "{message}"
    );
}

/// The name the core gives a closure interceptor in its errors.
pub const CLOSURE: &str = "closure interceptor";

// ------------------------------------------------------------------ sans-IO interceptors

/// A sans-IO application interceptor: numbers each attempt in a header, retries a 503 once on
/// its own, and marks the response it returns.
pub struct Attempts;

impl Interceptor for Attempts {
    fn on_request(&self, cx: &mut InterceptorContext<'_>, mut request: Request) -> RequestAction {
        *cx.state::<u32>() += 1;
        match request.headers_mut().set("X-Attempt", "1") {
            Ok(()) => RequestAction::Proceed(request),
            Err(e) => RequestAction::Fail(e),
        }
    }

    fn on_response(
        &self,
        cx: &mut InterceptorContext<'_>,
        result: Result<Response<()>, Error>,
    ) -> ResponseAction {
        let mut response = match result {
            Ok(response) => response,
            Err(e) => return ResponseAction::Fail(e),
        };
        if response.status().as_u16() == 503 && cx.proceeded() == 1 {
            let mut again = response.request().clone();
            let attempt = (cx.proceeded() + 1).to_string();
            return match again.headers_mut().set("X-Attempt", &attempt) {
                Ok(()) => ResponseAction::Proceed(again),
                Err(e) => ResponseAction::Fail(e),
            };
        }
        let calls = cx.state::<u32>().to_string();
        match response.headers_mut().set("X-Intercepted", &calls) {
            Ok(()) => ResponseAction::Return(response),
            Err(e) => ResponseAction::Fail(e),
        }
    }

    fn name(&self) -> &str {
        "Attempts"
    }
}

/// A sans-IO network interceptor that breaks the rule of proceeding once: it proceeds again
/// with the response's request.
pub struct Twice;

impl Interceptor for Twice {
    fn on_response(
        &self,
        _cx: &mut InterceptorContext<'_>,
        result: Result<Response<()>, Error>,
    ) -> ResponseAction {
        match result {
            Ok(response) => ResponseAction::Proceed(response.request().clone()),
            Err(e) => ResponseAction::Fail(e),
        }
    }

    fn name(&self) -> &str {
        "Twice"
    }
}

/// What the origin must have seen for [`Attempts`]: a 503, then the retry on the same
/// connection.
pub fn check_attempts(origin: &Origin) {
    let first = origin.take_request();
    let second = origin.take_request();
    assert_eq!(header(&first, "x-attempt").as_deref(), Some("1"));
    assert_eq!(header(&second, "x-attempt").as_deref(), Some("2"));
    assert_eq!(second.line, "GET /a HTTP/1.1");
    assert_eq!(origin.connection_count(), 1, "the 503's body was discarded");
}
