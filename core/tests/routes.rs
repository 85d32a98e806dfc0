//! Routes and proxies, stepped by hand with literal times: the route database's memory of
//! failed routes, RFC 8305's address order, DNS overrides, the absolute form for an HTTP
//! proxy, `CONNECT` tunnels with a `407` and credentials, and the SOCKS5 handshake.

use std::io;
use std::net::SocketAddr;
use std::time::{Duration, SystemTime};

use wayfarer_core::{
    Call, Client, Config, ConnId, DnsOverrides, Instant, Now, Output, Proxy, Request,
};

fn at(ms: u64) -> Now {
    Now::new(
        Instant::from_epoch(Duration::from_millis(ms)),
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_767_225_600),
    )
}

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

/// The next output that is not an event, as a line; I/O outputs are not answered.
fn next(call: &mut Call, now: u64) -> String {
    loop {
        let output = call.poll_output(at(now));
        if let Ok(
            Output::Connect { conn, .. }
            | Output::Transmit { conn, .. }
            | Output::Receive { conn, .. }
            | Output::Close { conn },
        ) = &output
        {
            let conn = *conn;
            IDS.with(|ids| ids.borrow_mut().push(conn));
        }
        return match output {
            Ok(Output::Event(_)) => continue,
            Ok(Output::Acquire { address }) => format!("acquire {address}"),
            Ok(Output::Resolve { host, port }) => format!("resolve {host}:{port}"),
            Ok(Output::Connect { conn, addr, .. }) => format!("connect {conn} {addr}"),
            Ok(Output::Transmit { conn, bytes, .. }) => {
                format!("transmit {conn} {}", String::from_utf8_lossy(bytes))
            }
            Ok(Output::Receive { conn, .. }) => format!("receive {conn}"),
            Ok(Output::Close { conn }) => format!("close {conn}"),
            Ok(Output::Release(c)) => format!("release {}", c.id()),
            Ok(Output::Response) => match call.take_response() {
                Some(head) => format!("response {}", head.status().as_u16()),
                None => "response, but no head to take".into(),
            },
            Ok(Output::Idle) => "idle".into(),
            Ok(Output::Done) => "done".into(),
            Ok(_) => "other".into(),
            Err(e) => format!("error {}: {}", e.kind(), e.message()),
        };
    }
}

/// The connection a line names (`connect c3 ...`), as seen in an earlier output.
fn conn_of(line: &str) -> ConnId {
    let n: u64 = line
        .split(' ')
        .nth(1)
        .unwrap()
        .trim_start_matches('c')
        .parse()
        .unwrap();
    IDS.with(|ids| ids.borrow().iter().copied().find(|c| c.get() == n))
        .unwrap_or_else(|| panic!("no connection c{n} seen"))
}

thread_local! {
    static IDS: std::cell::RefCell<Vec<ConnId>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Writes everything the call wants written on `conn`, returning it.
fn transmit_all(call: &mut Call, now: u64) -> Vec<u8> {
    let mut sent = Vec::new();
    loop {
        let (conn, n) = match call.poll_output(at(now)) {
            Ok(Output::Transmit { conn, bytes, .. }) => {
                sent.extend_from_slice(bytes);
                (conn, bytes.len())
            }
            Ok(Output::Event(_)) => continue,
            _ => return sent,
        };
        call.handle_transmitted(at(now), conn, Ok(n));
    }
}

fn receive(call: &mut Call, now: u64, bytes: &[u8]) {
    let conn = loop {
        match call.poll_output(at(now)) {
            Ok(Output::Receive { conn, buf, .. }) => {
                buf[..bytes.len()].copy_from_slice(bytes);
                break conn;
            }
            Ok(Output::Event(_)) => continue,
            Ok(other) => panic!("expected a receive, got {other:?}"),
            Err(e) => panic!("expected a receive, got {e}"),
        }
    };
    call.handle_received(at(now), conn, Ok(bytes.len()));
}

/// A client whose calls go through `proxy` (a proxy URL).
fn client_through(proxy: &str) -> Client<u32> {
    let config = Config::builder()
        .proxy(Proxy::parse(proxy).unwrap())
        .build()
        .unwrap();
    Client::new(config)
}

fn connect(call: &mut Call, now: u64, result: io::Result<()>) -> String {
    let line = next(call, now);
    assert!(line.starts_with("connect "), "{line}");
    call.handle_connected(at(now), conn_of(&line), result);
    line
}

#[test]
fn failed_routes_are_tried_last_by_later_calls() {
    // Every call resolves the name again (no DNS cache), as a resolver would answer each.
    let config = Config::builder()
        .dns_cache_ttl(Duration::ZERO)
        .build()
        .unwrap();
    let client: Client<u32> = Client::new(config);
    let resolved = || Ok(vec![addr("10.0.0.1:80"), addr("10.0.0.2:80")]);

    let mut first = client.start_call(at(0), Request::get("http://a.test/").build().unwrap());
    first.handle_acquired(at(0), None);
    assert_eq!(next(&mut first, 0), "resolve a.test:80");
    first.handle_resolved(at(1), resolved());
    let line = connect(&mut first, 2, Err(io::ErrorKind::ConnectionRefused.into()));
    assert_eq!(line, "connect c1 10.0.0.1:80");
    assert_eq!(connect(&mut first, 3, Ok(())), "connect c2 10.0.0.2:80");
    assert!(next(&mut first, 3).starts_with("transmit c2 GET / HTTP/1.1"));

    // A later call resolves the same addresses: the route that failed goes last.
    let mut second = client.start_call(at(1000), Request::get("http://a.test/").build().unwrap());
    second.handle_acquired(at(1000), None);
    second.handle_resolved(at(1001), resolved());
    let line = connect(
        &mut second,
        1002,
        Err(io::ErrorKind::ConnectionRefused.into()),
    );
    assert_eq!(line, "connect c3 10.0.0.2:80");
    // 10.0.0.2 failed now, 10.0.0.1 is still tried, last; when it connects it is forgotten.
    assert_eq!(connect(&mut second, 1003, Ok(())), "connect c4 10.0.0.1:80");

    let mut third = client.start_call(at(2000), Request::get("http://a.test/").build().unwrap());
    third.handle_acquired(at(2000), None);
    third.handle_resolved(at(2001), resolved());
    assert_eq!(next(&mut third, 2001), "connect c5 10.0.0.1:80");
}

#[test]
fn address_families_are_interleaved_unless_fast_fallback_is_off() {
    let resolved = || {
        Ok(vec![
            addr("10.0.0.1:80"),
            addr("10.0.0.2:80"),
            addr("[2001:db8::1]:80"),
        ])
    };
    let order = |config: Config| {
        let client: Client<u32> = Client::new(config);
        let mut call = client.start_call(at(0), Request::get("http://a.test/").build().unwrap());
        call.handle_acquired(at(0), None);
        call.handle_resolved(at(0), resolved());
        let mut order = Vec::new();
        for t in 1..=3 {
            let line = connect(&mut call, t, Err(io::ErrorKind::ConnectionRefused.into()));
            order.push(line.rsplit(' ').next().unwrap().to_owned());
        }
        let e = next(&mut call, 4);
        assert!(
            e.starts_with("error connect: failed to connect to 10.0.0.1:80"),
            "{e}"
        );
        order
    };
    assert_eq!(
        order(Config::default()),
        ["10.0.0.1:80", "[2001:db8::1]:80", "10.0.0.2:80"]
    );
    let sequential = Config::builder().fast_fallback(false).build().unwrap();
    assert_eq!(
        order(sequential),
        ["10.0.0.1:80", "10.0.0.2:80", "[2001:db8::1]:80"]
    );
}

#[test]
fn dns_overrides_answer_without_a_lookup() {
    let mut overrides = DnsOverrides::new();
    overrides.add_resolve("a.test:8080:192.0.2.7").unwrap();
    let config = Config::builder().dns_overrides(overrides).build().unwrap();
    let client: Client<u32> = Client::new(config);
    let mut call = client.start_call(at(0), Request::get("http://a.test:8080/").build().unwrap());
    call.handle_acquired(at(0), None);
    assert_eq!(next(&mut call, 0), "connect c1 192.0.2.7:8080");
    // Another port of the same host still resolves.
    let mut other = client.start_call(at(0), Request::get("http://a.test/").build().unwrap());
    other.handle_acquired(at(0), None);
    assert_eq!(next(&mut other, 0), "resolve a.test:80");
}

#[test]
fn plain_requests_go_to_an_http_proxy_in_absolute_form() {
    let client = client_through("http://proxy.test:3128");
    let request = Request::get("http://user:pw@a.test:8080/x?y=1")
        .build()
        .unwrap();
    let mut call = client.start_call(at(0), request);
    // The pool key names the proxy.
    assert_eq!(
        next(&mut call, 0),
        "acquire http://a.test:8080 via http://proxy.test:3128"
    );
    call.handle_acquired(at(0), None);
    // The proxy's name is resolved, not the origin's.
    assert_eq!(next(&mut call, 0), "resolve proxy.test:3128");
    call.handle_resolved(at(1), Ok(vec![addr("10.0.0.9:3128")]));
    assert_eq!(connect(&mut call, 2, Ok(())), "connect c1 10.0.0.9:3128");
    let sent = String::from_utf8(transmit_all(&mut call, 3)).unwrap();
    assert!(
        sent.starts_with("GET http://a.test:8080/x?y=1 HTTP/1.1\r\n"),
        "{sent}"
    );
}

#[test]
fn a_407_from_an_http_proxy_is_answered_with_the_proxys_credentials() {
    let client = client_through("http://alice:s3cret@10.0.0.9:3128");
    let mut call = client.start_call(at(0), Request::get("http://a.test/").build().unwrap());
    call.handle_acquired(at(0), None);
    connect(&mut call, 0, Ok(()));
    let sent = String::from_utf8(transmit_all(&mut call, 1)).unwrap();
    assert!(!sent.contains("Proxy-Authorization"), "{sent}");
    receive(
        &mut call,
        2,
        b"HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"p\"\r\nContent-Length: 0\r\n\r\n",
    );
    let sent = String::from_utf8(transmit_all(&mut call, 3)).unwrap();
    assert!(
        sent.starts_with("GET http://a.test/ HTTP/1.1\r\n"),
        "{sent}"
    );
    assert!(
        sent.contains("Proxy-Authorization: Basic YWxpY2U6czNjcmV0\r\n"),
        "{sent}"
    );
    // Refused again: the 407 is the answer.
    receive(
        &mut call,
        4,
        b"HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"p\"\r\nContent-Length: 0\r\n\r\n",
    );
    assert_eq!(next(&mut call, 5), "response 407");
}

/// An https call through an HTTP proxy, connected: returns the call and the `CONNECT` sent.
fn tunnel_call(proxy: &str) -> (Call, String) {
    let config = Config::builder()
        .proxy(Proxy::parse(proxy).unwrap())
        .user_agent("wayfarer-test")
        .build()
        .unwrap();
    let client: Client<u32> = Client::new(config);
    let request = Request::get("https://a.test/secret")
        .header("Authorization", "Bearer origin-token")
        .header("Cookie", "session=1")
        .build()
        .unwrap();
    let mut call = client.start_call(at(0), request);
    call.handle_acquired(at(0), None);
    assert_eq!(connect(&mut call, 0, Ok(())), "connect c1 10.0.0.9:3128");
    let sent = String::from_utf8(transmit_all(&mut call, 1)).unwrap();
    (call, sent)
}

const CHALLENGE: &[u8] =
    b"HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"p\"\r\nContent-Length: 5\r\n\r\nnope!";

#[test]
fn a_tunnel_carries_only_what_the_proxy_needs_and_answers_a_407() {
    let (mut call, connect_request) = tunnel_call("http://alice:s3cret@10.0.0.9:3128");
    assert_eq!(
        connect_request,
        "CONNECT a.test:443 HTTP/1.1\r\nHost: a.test:443\r\nUser-Agent: wayfarer-test\r\n\r\n"
    );
    receive(&mut call, 2, &CHALLENGE[..CHALLENGE.len() - 1]);
    // The challenge's body is read before the next CONNECT goes out.
    assert!(transmit_all(&mut call, 2).is_empty());
    receive(&mut call, 2, b"!");
    let again = String::from_utf8(transmit_all(&mut call, 3)).unwrap();
    assert_eq!(
        again,
        "CONNECT a.test:443 HTTP/1.1\r\nHost: a.test:443\r\nUser-Agent: wayfarer-test\r\n\
         Proxy-Authorization: Basic YWxpY2U6czNjcmV0\r\n\r\n"
    );
    receive(&mut call, 4, b"HTTP/1.1 200 Connection established\r\n\r\n");
    // TLS starts inside the tunnel: a ClientHello, not the application's head.
    let hello = transmit_all(&mut call, 5);
    assert_eq!(&hello[..2], &[0x16, 0x03], "a TLS record");
    assert!(!String::from_utf8_lossy(&hello).contains("origin-token"));
}

#[test]
fn refused_credentials_end_the_call_with_a_proxy_error() {
    let (mut call, _) = tunnel_call("http://alice:wrong@10.0.0.9:3128");
    receive(&mut call, 2, CHALLENGE);
    transmit_all(&mut call, 3);
    receive(&mut call, 4, CHALLENGE);
    let e = next(&mut call, 5);
    assert_eq!(e, "close c1");
    let e = next(&mut call, 5);
    assert!(
        e.starts_with("error proxy: CONNECT a.test:443: the proxy refused the credentials"),
        "{e}"
    );
}

#[test]
fn a_407_with_connection_close_is_answered_on_a_new_connection() {
    let (mut call, _) = tunnel_call("http://alice:s3cret@10.0.0.9:3128");
    receive(
        &mut call,
        2,
        b"HTTP/1.1 407 Auth\r\nProxy-Authenticate: Basic\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
    );
    assert_eq!(next(&mut call, 3), "close c1");
    assert_eq!(connect(&mut call, 3, Ok(())), "connect c2 10.0.0.9:3128");
    let sent = String::from_utf8(transmit_all(&mut call, 4)).unwrap();
    assert!(
        sent.contains("Proxy-Authorization: Basic YWxpY2U6czNjcmV0\r\n"),
        "{sent}"
    );
}

#[test]
fn a_connect_answered_with_an_error_fails_without_credentials_or_retries() {
    let (mut call, _) = tunnel_call("http://10.0.0.9:3128");
    receive(
        &mut call,
        2,
        b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n",
    );
    let mut line = next(&mut call, 3);
    while line.starts_with("close") {
        line = next(&mut call, 3);
    }
    assert_eq!(
        line,
        "error proxy: CONNECT a.test:443 refused by the proxy: 403 Forbidden"
    );
    let (mut call, _) = tunnel_call("http://10.0.0.9:3128");
    receive(&mut call, 2, CHALLENGE);
    let mut line = next(&mut call, 3);
    while line.starts_with("close") {
        line = next(&mut call, 3);
    }
    assert!(
        line.starts_with("error proxy: CONNECT a.test:443: the proxy requires authentication"),
        "{line}"
    );
}

#[test]
fn socks5h_hands_the_origin_name_to_the_proxy() {
    let client = client_through("socks5h://u:p@10.0.0.9:1080");
    let mut call = client.start_call(at(0), Request::get("http://a.test/").build().unwrap());
    call.handle_acquired(at(0), None);
    // No lookup: the proxy resolves a.test.
    assert_eq!(connect(&mut call, 0, Ok(())), "connect c1 10.0.0.9:1080");
    assert_eq!(transmit_all(&mut call, 1), [5, 2, 0, 2]);
    receive(&mut call, 2, &[5, 2]);
    assert_eq!(transmit_all(&mut call, 3), [1, 1, b'u', 1, b'p']);
    receive(&mut call, 4, &[1, 0]);
    let mut want = vec![5, 1, 0, 3, 6];
    want.extend_from_slice(b"a.test");
    want.extend_from_slice(&80u16.to_be_bytes());
    assert_eq!(transmit_all(&mut call, 5), want);
    receive(&mut call, 6, &[5, 0, 0, 1, 127, 0, 0, 1, 0, 80]);
    let sent = String::from_utf8(transmit_all(&mut call, 7)).unwrap();
    // Through SOCKS the origin sees an ordinary origin-form request.
    assert!(
        sent.starts_with("GET / HTTP/1.1\r\nHost: a.test\r\n"),
        "{sent}"
    );
}

#[test]
fn socks5_with_local_dns_resolves_the_origin_and_sends_its_address() {
    let client = client_through("socks5://10.0.0.9:1080");
    let mut call = client.start_call(at(0), Request::get("http://a.test/").build().unwrap());
    call.handle_acquired(at(0), None);
    assert_eq!(next(&mut call, 0), "resolve a.test:80");
    call.handle_resolved(at(1), Ok(vec![addr("192.0.2.1:80")]));
    connect(&mut call, 2, Ok(()));
    assert_eq!(transmit_all(&mut call, 3), [5, 1, 0]);
    receive(&mut call, 4, &[5, 0]);
    assert_eq!(
        transmit_all(&mut call, 5),
        [5, 1, 0, 1, 192, 0, 2, 1, 0, 80]
    );
    receive(&mut call, 6, &[5, 5, 0, 1, 0, 0, 0, 0, 0, 0]);
    let mut line = next(&mut call, 7);
    while line.starts_with("close") {
        line = next(&mut call, 7);
    }
    assert_eq!(
        line,
        "error proxy: SOCKS5 handshake failed: connection refused"
    );
}

#[test]
fn a_direct_ip_literal_is_its_own_one_route() {
    let client: Client<u32> = Client::new(Config::default());
    let mut call = client.start_call(
        at(0),
        Request::get("http://192.0.2.7:8080/").build().unwrap(),
    );
    call.handle_acquired(at(0), None);
    // Nothing to look up, and the one route fails the call when it is refused.
    let line = connect(&mut call, 1, Err(io::ErrorKind::ConnectionRefused.into()));
    assert_eq!(line, "connect c1 192.0.2.7:8080");
    let failed = next(&mut call, 2);
    assert!(
        failed.starts_with("error connect") && failed.contains("192.0.2.7:8080"),
        "{failed}"
    );

    // The route that failed is still the one a later call tries, and an IPv6 literal too.
    let mut again = client.start_call(
        at(10),
        Request::get("http://192.0.2.7:8080/").build().unwrap(),
    );
    again.handle_acquired(at(10), None);
    assert_eq!(connect(&mut again, 11, Ok(())), "connect c2 192.0.2.7:8080");
    assert!(next(&mut again, 11).starts_with("transmit c2 GET / HTTP/1.1"));
    let mut v6 = client.start_call(
        at(20),
        Request::get("http://[2001:db8::7]/").build().unwrap(),
    );
    v6.handle_acquired(at(20), None);
    assert_eq!(next(&mut v6, 20), "connect c3 [2001:db8::7]:80");
}

#[test]
fn an_ip_literal_behind_a_proxy_connects_to_the_proxy() {
    let client = client_through("http://10.0.0.9:3128");
    let mut call = client.start_call(at(0), Request::get("http://192.0.2.7/").build().unwrap());
    call.handle_acquired(at(0), None);
    assert_eq!(connect(&mut call, 1, Ok(())), "connect c1 10.0.0.9:3128");
    let sent = String::from_utf8(transmit_all(&mut call, 2)).unwrap();
    assert!(
        sent.starts_with("GET http://192.0.2.7/ HTTP/1.1\r\n"),
        "{sent}"
    );
}
