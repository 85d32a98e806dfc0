//! The system resolver's answers are reused for `dns_cache_ttl`: calls to a named host, each
//! on a new connection, driven by hand through the core's public API on a virtual clock, and
//! the `Resolve` outputs they make counted.

use std::io;
use std::net::SocketAddr;
use std::time::{Duration, SystemTime};

use wayfarer_core::{BodyRead, Client, Config, Event, EventKind, Instant, Now, Output, Request};

fn at(ms: u64) -> Now {
    Now::new(
        Instant::from_epoch(Duration::from_millis(ms)),
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_767_225_600),
    )
}

/// Every response closes its connection, so each call needs a new one (and a lookup).
const RESPONSE: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok";

/// What one call did.
#[derive(Debug, Default)]
struct Seen {
    /// The call failed (no route connected).
    failed: bool,
    lookups: usize,
    connects: Vec<SocketAddr>,
    events: Vec<EventKind>,
}

/// Runs one GET of `http://origin.test:8080/` at `start_ms`. The resolver answers `answer`;
/// connects to the addresses in `refuse` fail.
fn call(client: &Client<()>, start_ms: u64, answer: &[&str], refuse: &[&str]) -> Seen {
    let request = Request::get("http://origin.test:8080/").build().unwrap();
    let mut call = client.start_call(at(start_ms), request);
    let mut seen = Seen::default();
    let mut wire = RESPONSE.to_vec();
    let mut buf = [0u8; 64];
    for step in 0..1000 {
        let now = at(start_ms + step);
        let output = match call.poll_output(now) {
            Ok(output) => output,
            Err(_) => {
                seen.failed = true;
                return seen;
            }
        };
        match output {
            Output::Event(event) => seen.events.push(event.kind.clone()),
            Output::Acquire { .. } => call.handle_acquired(now, None),
            Output::Resolve { host, port } => {
                assert_eq!((host, port), ("origin.test", 8080));
                seen.lookups += 1;
                let addrs = answer
                    .iter()
                    .map(|ip| SocketAddr::new(ip.parse().unwrap(), port))
                    .collect();
                call.handle_resolved(now, Ok(addrs));
            }
            Output::Connect { conn, addr, .. } => {
                seen.connects.push(addr);
                let refused = refuse.contains(&addr.ip().to_string().as_str());
                let result = if refused {
                    Err(io::Error::from(io::ErrorKind::ConnectionRefused))
                } else {
                    Ok(())
                };
                call.handle_connected(now, conn, result);
            }
            Output::Transmit { conn, bytes, .. } => {
                let n = bytes.len();
                call.handle_transmitted(now, conn, Ok(n));
            }
            Output::Receive { conn, buf, .. } => {
                let n = buf.len().min(wire.len());
                buf[..n].copy_from_slice(&wire[..n]);
                wire.drain(..n);
                call.handle_received(now, conn, Ok(n));
            }
            Output::Response => assert_eq!(call.take_response().expect("head").status(), 200),
            Output::Idle => {
                if let BodyRead::Direct { max, .. } = call.read_body(now, &mut buf).expect("body") {
                    let n = max.min(wire.len());
                    buf[..n].copy_from_slice(&wire[..n]);
                    wire.drain(..n);
                    call.handle_direct_read(now, Ok(n)).expect("body");
                }
            }
            Output::Release(conn) => client.release(now.mono, conn, ()),
            Output::Close { .. } => {}
            Output::Done => return seen,
            other => panic!("unexpected output {other:?}"),
        }
    }
    panic!("the call did not finish within 1000 outputs");
}

fn client(config: Config) -> Client<()> {
    Client::new(config)
}

const ONE: &[&str] = &["10.0.0.1"];
/// No address refuses.
const NONE: &[&str] = &[];

#[test]
fn a_second_connection_within_the_ttl_asks_no_resolver() {
    let client = client(Config::default());
    assert_eq!(call(&client, 0, ONE, NONE).lookups, 1);
    let second = call(&client, 1_000, ONE, NONE);
    assert_eq!(second.lookups, 0, "answered from the cache");
    assert_eq!(second.connects, ["10.0.0.1:8080".parse().unwrap()]);
}

#[test]
fn the_default_ttl_is_30_seconds() {
    let client = client(Config::default());
    assert_eq!(
        Config::default().dns_cache_ttl(),
        Some(Duration::from_secs(30))
    );
    assert_eq!(call(&client, 0, ONE, NONE).lookups, 1);
    assert_eq!(call(&client, 29_000, ONE, NONE).lookups, 0);
    assert_eq!(
        call(&client, 30_500, ONE, NONE).lookups,
        1,
        "the answer expired"
    );
}

#[test]
fn a_ttl_of_zero_asks_for_every_connection() {
    let config = Config::builder()
        .dns_cache_ttl(Duration::ZERO)
        .build()
        .unwrap();
    let client = client(config);
    assert_eq!(call(&client, 0, ONE, NONE).lookups, 1);
    assert_eq!(call(&client, 1_000, ONE, NONE).lookups, 1);
}

#[test]
fn a_resolver_of_the_applications_own_is_asked_every_time() {
    let config = Config::builder()
        .dns(|_: &str| Ok(vec!["10.0.0.1".parse().unwrap()]))
        .build()
        .unwrap();
    assert_eq!(config.dns_cache_ttl(), None);
    let client = client(config);
    assert_eq!(call(&client, 0, ONE, NONE).lookups, 1);
    assert_eq!(call(&client, 1_000, ONE, NONE).lookups, 1);
}

#[test]
fn one_address_refusing_while_another_connects_keeps_the_answer() {
    // A name with two addresses whose server listens on one of them (IPv4 only, say).
    let client = client(Config::default());
    let two = &["10.0.0.1", "10.0.0.2"];
    let refuse = &["10.0.0.1"];
    let first = call(&client, 0, two, refuse);
    assert!(!first.failed);
    assert_eq!(first.lookups, 1);
    assert_eq!(
        first.connects,
        [
            "10.0.0.1:8080".parse().unwrap(),
            "10.0.0.2:8080".parse().unwrap()
        ],
        "the second address took over"
    );
    let second = call(&client, 1_000, two, refuse);
    assert!(!second.failed);
    assert_eq!(second.lookups, 0, "still answered from the cache");
}

#[test]
fn a_call_that_connects_to_no_address_drops_the_answer() {
    let client = client(Config::default());
    let two = &["10.0.0.1", "10.0.0.2"];
    assert_eq!(call(&client, 0, two, NONE).lookups, 1);
    let failed = call(&client, 1_000, two, two);
    assert!(failed.failed, "no address connected");
    assert_eq!(failed.lookups, 0, "the answer came from the cache");
    assert_eq!(
        call(&client, 2_000, two, NONE).lookups,
        1,
        "the next call asks the resolver again"
    );
}

#[test]
fn an_answer_from_the_cache_still_reports_the_lookup_events() {
    let config = Config::builder()
        .event_listener(|_: &Event| {})
        .build()
        .unwrap();
    let client = client(config);
    call(&client, 0, ONE, NONE);
    let second = call(&client, 1_000, ONE, NONE);
    assert_eq!(second.lookups, 0);
    let dns: Vec<&EventKind> = second
        .events
        .iter()
        .filter(|e| matches!(e, EventKind::DnsStart { .. } | EventKind::DnsEnd { .. }))
        .collect();
    assert!(
        matches!(dns[..], [EventKind::DnsStart { host: start }, EventKind::DnsEnd { host: end, addrs }]
            if start == "origin.test" && end == "origin.test" && addrs == &["10.0.0.1:8080".parse::<SocketAddr>().unwrap()]),
        "{dns:?}"
    );
}
