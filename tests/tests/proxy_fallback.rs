//! A proxy's credentials go to that proxy alone. When a selector lists several proxies and the
//! call falls back from one to the next, a `407` is answered for the proxy that sent it (plain
//! requests, answered by the follow-up link) and a `CONNECT` tunnel starts afresh on the next
//! proxy: neither ever carries the first proxy's `Proxy-Authorization`. A proxy that refuses
//! the tunnel is a failed route: the call goes on with the next one.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::time::Duration;

use wayfarer_core::{Config, Credentials, Proxy, ProxySelector, Request, Url};
use wayfarer_tests::origin::{Origin, Reply};
use wayfarer_tests::vector::RecordedRequest;

const CHALLENGE: &str = "HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"p\"\r\nContent-Length: 0\r\n\r\n";
const OK: &str = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";

/// These proxies, in this order, for every URL.
#[derive(Debug)]
struct List(Vec<Proxy>);

impl ProxySelector for List {
    fn select(&self, _: &Url) -> Vec<Proxy> {
        self.0.clone()
    }
}

/// A port nothing listens on: a connect to it is refused.
fn dead_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn header(request: &RecordedRequest, name: &str) -> Option<String> {
    request
        .headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| String::from_utf8_lossy(v).into_owned())
}

fn client(proxies: Vec<Proxy>) -> wayfarer_blocking::Client {
    wayfarer_blocking::Client::from(
        Config::builder()
            .proxy_selector(List(proxies))
            .build()
            .unwrap(),
    )
}

/// Proxy A (with credentials) refuses connections; proxy B, the fallback, asks for
/// credentials. B has none of its own, so its 407 is the answer: A's are not offered to it.
#[test]
fn a_407_from_the_fallback_proxy_is_not_answered_with_the_first_proxys_credentials() {
    let b = Origin::start();
    b.enqueue(Reply::new(CHALLENGE));
    b.enqueue(Reply::new(OK));
    let a = Proxy::http("127.0.0.1", dead_port())
        .with_credentials(Credentials::new("alice", "A-SECRET"));
    let client = client(vec![a, Proxy::http("127.0.0.1", b.addr().port())]);
    let response = client
        .new_call(Request::get("http://origin.test/x").build().unwrap())
        .execute()
        .unwrap();
    assert_eq!(response.status().as_u16(), 407);
    assert_eq!(b.request_count(), 1, "no second request to B");
    assert_eq!(
        header(&b.take_request(), "proxy-authorization"),
        None,
        "the first request carries no credentials"
    );
}

/// With B's own credentials, B's 407 is answered with them.
#[test]
fn a_407_from_the_fallback_proxy_is_answered_with_its_own_credentials() {
    for first in [
        Proxy::Direct,
        Proxy::http("127.0.0.1", dead_port()).with_credentials(Credentials::new("alice", "A")),
    ] {
        let b = Origin::start();
        b.enqueue(Reply::new(CHALLENGE));
        b.enqueue(Reply::new(OK));
        let b_proxy = Proxy::http("127.0.0.1", b.addr().port())
            .with_credentials(Credentials::new("bob", "b-pass"));
        let client = client(vec![first, b_proxy]);
        // A dead port for the origin too, so that a direct connect is refused.
        let url = format!("http://127.0.0.1:{}/x", dead_port());
        let response = client
            .new_call(Request::get(url).build().unwrap())
            .execute()
            .unwrap();
        assert_eq!(response.status().as_u16(), 200);
        let _first = b.take_request();
        assert_eq!(
            header(&b.take_request(), "proxy-authorization").as_deref(),
            Some(wayfarer_core::basic_credentials("bob", "b-pass").as_str())
        );
    }
}

/// Proxy A answers the tunnel's CONNECT with a 407 and closes; the retry to A is refused, so
/// the call moves on to proxy B, whose CONNECT must carry no credentials from A.
#[test]
fn a_tunnel_through_the_fallback_proxy_carries_no_credentials_of_the_first() {
    let a = TcpListener::bind("127.0.0.1:0").unwrap();
    let a_port = a.local_addr().unwrap().port();
    let server = std::thread::spawn(move || {
        let (mut socket, _) = a.accept().unwrap();
        let mut head = Vec::new();
        let mut buf = [0u8; 1024];
        while !head.windows(4).any(|w| w == b"\r\n\r\n") {
            match socket.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => head.extend_from_slice(&buf[..n]),
            }
        }
        // Gone before answering: the next connect to A is refused.
        drop(a);
        let _ = socket.write_all(
            b"HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"a\"\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
        );
    });
    let b = Origin::start();
    b.enqueue(Reply::new(
        "HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n",
    ));
    let a_proxy =
        Proxy::http("127.0.0.1", a_port).with_credentials(Credentials::new("alice", "A-SECRET"));
    let client = client(vec![a_proxy, Proxy::http("127.0.0.1", b.addr().port())]);
    let result = client
        .new_call(Request::get("https://origin.test/").build().unwrap())
        .execute();
    server.join().unwrap();
    let connect = b
        .try_take_request(Duration::from_secs(5))
        .unwrap_or_else(|| panic!("B saw no CONNECT; the call ended with {result:?}"));
    assert_eq!(connect.line, "CONNECT origin.test:443 HTTP/1.1");
    assert_eq!(header(&connect, "proxy-authorization"), None);
    // Every route failed: the call reports the first failure, as OkHttp does.
    assert!(result.is_err());
}

/// Proxy A refuses the tunnel (`503` to `CONNECT`): that route failed, and the call goes on
/// with the next one the selector lists (here a direct connection), as OkHttp recovers.
#[test]
fn a_refused_tunnel_falls_back_to_the_next_route() {
    let pki = wayfarer_tests::certs::TestPki::generate();
    let origin = Origin::builder()
        .tls(pki.server_config(wayfarer_tests::certs::Leaf::Valid))
        .start();
    origin.enqueue(Reply::new(OK));
    let a = Origin::start();
    a.enqueue(Reply::new(
        "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n",
    ));
    let client = wayfarer_blocking::Client::from(
        Config::builder()
            .tls_built_in_roots(false)
            .add_root_certificate(wayfarer_core::Certificate::from_der(pki.ca_der().to_vec()))
            .proxy_selector(List(vec![
                Proxy::http("127.0.0.1", a.addr().port()),
                Proxy::Direct,
            ]))
            .build()
            .unwrap(),
    );
    let url = format!("https://localhost:{}/x", origin.addr().port());
    let response = client
        .new_call(Request::get(url).build().unwrap())
        .execute()
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(a.request_count(), 1, "proxy A saw the CONNECT");
    assert_eq!(origin.request_count(), 1);
}

/// A connection made through the fallback proxy goes back to the pool and serves the next call
/// that selects the same proxies: proxy A still refuses, and the second request rides B's
/// first connection (OkHttp's pool matches a connection by its address, whichever of the
/// selector's proxies its route went through).
#[test]
fn a_connection_through_the_fallback_proxy_is_reused() {
    let b = Origin::start();
    b.enqueue(Reply::new(OK));
    b.enqueue(Reply::new(OK));
    let client = client(vec![
        Proxy::http("127.0.0.1", dead_port()),
        Proxy::http("127.0.0.1", b.addr().port()),
    ]);
    for _ in 0..2 {
        let body = client
            .new_call(Request::get("http://origin.test/x").build().unwrap())
            .execute()
            .unwrap()
            .into_body()
            .text()
            .unwrap();
        assert_eq!(body, "ok");
    }
    assert_eq!(b.take_request().conn, 1);
    assert_eq!(
        b.take_request().conn,
        1,
        "the pooled connection to B was reused"
    );
    assert_eq!(client.idle_count(), 1);
}
