//! A TCP connect that succeeds is not the end of a route: a proxy's handshake or the TLS one
//! may still fail on it. The route then counts as failed and the call goes on with the routes
//! it has not tried yet (OkHttp's route planner keeps them), including those that were waiting
//! their turn in a fast-fallback race when the failed connection won it.
//!
//! Calls are driven by hand through the core's public API on a virtual clock, every name
//! answered by `resolve` overrides, every address scripted: whether its connect succeeds,
//! fails or never answers, and what it sends back once connected.

use std::collections::{HashMap, VecDeque};
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, SystemTime};

use wayfarer_core::{
    BodyRead, Client, Config, ConnId, ErrorKind, Event, EventKind, Instant, Now, Output, Proxy,
    Request,
};

fn at(ms: u64) -> Now {
    Now::new(
        Instant::from_epoch(Duration::from_millis(ms)),
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_767_225_600),
    )
}

/// How a connect to one address goes.
#[derive(Debug, Clone)]
enum Peer {
    /// The connect is refused.
    Refuses,
    /// The connect never answers.
    Hangs,
    /// The connect succeeds, and each `Receive` gets the next of these chunks (then EOF).
    Sends(Vec<Vec<u8>>),
    /// The connect succeeds, and nothing ever arrives.
    Silent,
    /// The connect succeeds, and the first read fails with a reset.
    Resets,
}

/// What one call did.
#[derive(Debug, Default)]
struct Seen {
    /// Every connect asked for, in order.
    connects: Vec<SocketAddr>,
    /// The connections closed.
    closed: Vec<SocketAddr>,
    status: Option<u16>,
    error: Option<wayfarer_core::Error>,
    /// Addresses whose connect (or setup) failed, in event order.
    connect_failed: Vec<SocketAddr>,
}

/// Runs `request` to its end on `client`, each address behaving as `peers` says (an address
/// not listed refuses).
fn run(client: &Client<()>, request: Request, peers: &[(&str, Peer)]) -> Seen {
    let peers: HashMap<IpAddr, Peer> = peers
        .iter()
        .map(|(ip, peer)| (ip.parse().unwrap(), peer.clone()))
        .collect();
    let mut ms = 0;
    let mut call = client.start_call(at(ms), request);
    let mut seen = Seen::default();
    let mut addrs: HashMap<ConnId, SocketAddr> = HashMap::new();
    let mut wires: HashMap<ConnId, VecDeque<Vec<u8>>> = HashMap::new();
    let mut silent: Vec<ConnId> = Vec::new();
    let mut resets: Vec<ConnId> = Vec::new();
    let mut buf = [0u8; 256];
    for _ in 0..10_000 {
        let now = at(ms);
        let output = match call.poll_output(now) {
            Ok(output) => output,
            Err(e) => {
                seen.error = Some(e);
                return seen;
            }
        };
        match output {
            Output::Event(event) => {
                if let EventKind::ConnectFailed { addr, .. } = &event.kind {
                    seen.connect_failed.push(*addr);
                }
            }
            Output::Acquire { .. } => call.handle_acquired(now, None),
            Output::Resolve { host, .. } => panic!("no lookup expected, asked for {host}"),
            // Asked again for a connect that hangs: the call waits for it, or for time.
            Output::Connect { conn, .. } if addrs.contains_key(&conn) => {
                let deadline = call
                    .poll_timeout()
                    .expect("a connect that hangs has a deadline");
                ms = ms.max(deadline.since_epoch().as_millis() as u64);
                call.handle_timeout(at(ms));
            }
            Output::Connect { conn, addr, .. } => {
                seen.connects.push(addr);
                addrs.insert(conn, addr);
                match peers.get(&addr.ip()).cloned().unwrap_or(Peer::Refuses) {
                    Peer::Refuses => {
                        let refused = io::Error::from(io::ErrorKind::ConnectionRefused);
                        call.handle_connected(now, conn, Err(refused));
                    }
                    Peer::Hangs => {}
                    Peer::Sends(chunks) => {
                        wires.insert(conn, chunks.into());
                        call.handle_connected(now, conn, Ok(()));
                    }
                    Peer::Silent => {
                        silent.push(conn);
                        call.handle_connected(now, conn, Ok(()));
                    }
                    Peer::Resets => {
                        resets.push(conn);
                        call.handle_connected(now, conn, Ok(()));
                    }
                }
            }
            // Nothing ever arrives: the call waits for its read deadline.
            Output::Receive { conn, .. } if silent.contains(&conn) => {
                let deadline = call.poll_timeout().expect("a read has a deadline");
                ms = ms.max(deadline.since_epoch().as_millis() as u64);
                call.handle_timeout(at(ms));
            }
            Output::Receive { conn, .. } if resets.contains(&conn) => {
                let reset = io::Error::from(io::ErrorKind::ConnectionReset);
                call.handle_received(now, conn, Err(reset));
            }
            Output::Transmit { conn, bytes, .. } => {
                let n = bytes.len();
                call.handle_transmitted(now, conn, Ok(n));
            }
            Output::Receive { conn, buf, .. } => {
                let n = read(wires.get_mut(&conn), buf);
                call.handle_received(now, conn, Ok(n));
            }
            Output::Close { conn } => seen.closed.extend(addrs.get(&conn)),
            Output::Response => seen.status = call.take_response().map(|h| h.status().as_u16()),
            Output::Idle => match call.read_body(now, &mut buf) {
                Ok(BodyRead::Direct { conn, max }) => {
                    let n = read(wires.get_mut(&conn), &mut buf[..max]);
                    call.handle_direct_read(now, Ok(n)).expect("body");
                }
                Ok(BodyRead::End) => {}
                Ok(BodyRead::Data(_)) => {}
                // Waiting on connects that never answer: let time pass.
                Err(_) => match call.poll_timeout() {
                    Some(deadline) => {
                        ms = ms.max(deadline.since_epoch().as_millis() as u64);
                        call.handle_timeout(at(ms));
                    }
                    None => panic!("the call waits for nothing"),
                },
                Ok(other) => panic!("unexpected body read {other:?}"),
            },
            Output::Release(conn) => client.release(now.mono, conn, ()),
            Output::Done => return seen,
            other => panic!("unexpected output {other:?}"),
        }
    }
    panic!(
        "the call did not finish within 10000 outputs, after connects to {:?}",
        &seen.connects[..seen.connects.len().min(10)]
    );
}

/// Copies the next chunk of `wire` into `buf` (0: EOF).
fn read(wire: Option<&mut VecDeque<Vec<u8>>>, buf: &mut [u8]) -> usize {
    let Some(wire) = wire else { return 0 };
    let Some(mut chunk) = wire.pop_front() else {
        return 0;
    };
    let n = chunk.len().min(buf.len());
    buf[..n].copy_from_slice(&chunk[..n]);
    if n < chunk.len() {
        wire.push_front(chunk.split_off(n));
    }
    n
}

const FORBIDDEN: &[u8] = b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n";
const NO_CONTENT: &[u8] = b"HTTP/1.1 204 No Content\r\n\r\n";

/// A SOCKS5 proxy that takes the greeting (no authentication), then answers the connect
/// request with `reply` (0: succeeded), then sends `then`.
fn socks(reply: u8, then: &[u8]) -> Peer {
    let mut chunks = vec![vec![5, 0], vec![5, reply, 0, 1, 0, 0, 0, 0, 0, 0]];
    if !then.is_empty() {
        chunks.push(then.to_vec());
    }
    Peer::Sends(chunks)
}

fn client(proxy: Proxy, resolve: &str) -> Client<()> {
    let config = Config::builder()
        .proxy(proxy)
        .resolve(resolve)
        .event_listener(|_: &Event| {})
        .build()
        .unwrap();
    Client::new(config)
}

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

/// The proxy's first address connects at once, so it wins the race before the second one is
/// even started; then it refuses the tunnel. The second address is still a route to try.
#[test]
fn a_tunnel_refused_on_the_race_winner_goes_on_with_the_untried_address() {
    let client = client(
        Proxy::http("proxy.test", 3128),
        "proxy.test:3128:10.0.0.1,10.0.0.2",
    );
    let request = Request::get("https://origin.test/").build().unwrap();
    let forbidden = Peer::Sends(vec![FORBIDDEN.to_vec()]);
    let seen = run(
        &client,
        request,
        &[("10.0.0.1", forbidden.clone()), ("10.0.0.2", forbidden)],
    );
    assert_eq!(
        seen.connects,
        [addr("10.0.0.1:3128"), addr("10.0.0.2:3128")],
        "{seen:?}"
    );
    let error = seen.error.expect("both addresses refuse the tunnel");
    assert_eq!(error.kind(), ErrorKind::Proxy, "{error}");
}

/// A call through a SOCKS5 proxy with two addresses, the first behaving as `first` and the
/// second letting the call through: it must succeed on the second after the first failed.
fn through_socks_after(first: Peer) -> Seen {
    let client = client(
        Proxy::socks5("socks.test", 1080),
        "socks.test:1080:10.0.0.1,10.0.0.2",
    );
    let request = Request::get("http://192.0.2.7:8080/").build().unwrap();
    let seen = run(
        &client,
        request,
        &[("10.0.0.1", first), ("10.0.0.2", socks(0, NO_CONTENT))],
    );
    assert_eq!(seen.error.as_ref().map(|e| e.to_string()), None, "{seen:?}");
    assert_eq!(seen.status, Some(204));
    assert_eq!(
        seen.connects,
        [addr("10.0.0.1:1080"), addr("10.0.0.2:1080")]
    );
    assert_eq!(seen.connect_failed, [addr("10.0.0.1:1080")]);
    seen
}

/// The same through a SOCKS5 proxy whose second address lets the call through.
#[test]
fn a_socks_refusal_on_the_race_winner_goes_on_with_the_untried_address() {
    through_socks_after(socks(1, &[]));
}

/// The first address hangs, so the second starts 250 ms later and wins, then refuses the
/// tunnel. The race's loser was canceled, not failed: it is tried again (first, as OkHttp
/// retries its deferred connects), then the address the race never started.
#[test]
fn the_race_loser_and_the_untried_address_follow_a_refused_winner() {
    let client = client(
        Proxy::http("proxy.test", 3128),
        "proxy.test:3128:10.0.0.1,10.0.0.2,10.0.0.3",
    );
    let request = Request::get("https://origin.test/").build().unwrap();
    let forbidden = Peer::Sends(vec![FORBIDDEN.to_vec()]);
    let seen = run(
        &client,
        request,
        &[
            ("10.0.0.1", Peer::Hangs),
            ("10.0.0.2", forbidden.clone()),
            ("10.0.0.3", forbidden),
        ],
    );
    let (one, two, three) = (
        addr("10.0.0.1:3128"),
        addr("10.0.0.2:3128"),
        addr("10.0.0.3:3128"),
    );
    assert_eq!(seen.connects, [one, two, one, three, one], "{seen:?}");
    // Each refusal, then the last attempt's connect timeout.
    assert_eq!(seen.connect_failed, [two, three, one]);
    let error = seen.error.expect("no address lets the call through");
    assert_eq!(error.kind(), ErrorKind::Proxy, "the first failure: {error}");
    assert!(error.to_string().contains("403"), "{error}");
}

/// A connected first address that resets the connection during the SOCKS5 handshake failed as
/// a route: the second address takes over, as when a connect fails.
#[test]
fn a_reset_during_the_proxy_handshake_goes_on_with_the_next_address() {
    let seen = through_socks_after(Peer::Resets);
    assert_eq!(seen.closed, [addr("10.0.0.1:1080")]);
}

/// A proxy address that never answers the `CONNECT` (the read timeout passes) is a failed
/// route too; when every route fails, the first failure is the call's.
#[test]
fn a_read_timeout_during_the_tunnel_goes_on_with_the_next_address() {
    let client = client(
        Proxy::http("proxy.test", 3128),
        "proxy.test:3128:10.0.0.1,10.0.0.2",
    );
    let request = Request::get("https://origin.test/").build().unwrap();
    let seen = run(
        &client,
        request,
        &[
            ("10.0.0.1", Peer::Silent),
            ("10.0.0.2", Peer::Sends(vec![FORBIDDEN.to_vec()])),
        ],
    );
    assert_eq!(
        seen.connects,
        [addr("10.0.0.1:3128"), addr("10.0.0.2:3128")],
        "{seen:?}"
    );
    let error = seen.error.expect("no address lets the call through");
    assert_eq!(error.kind(), ErrorKind::Timeout, "{error}");
}

/// An origin address that closes the connection during the TLS handshake failed as a route
/// (OkHttp recovers from a handshake failure that is not the certificate's): the next address
/// is tried.
#[test]
fn a_tls_handshake_cut_short_goes_on_with_the_next_address() {
    let config = Config::builder()
        .resolve("origin.test:443:10.0.0.1,10.0.0.2")
        .build()
        .unwrap();
    let client = Client::new(config);
    let request = Request::get("https://origin.test/").build().unwrap();
    let seen = run(
        &client,
        request,
        &[
            ("10.0.0.1", Peer::Sends(vec![])),
            ("10.0.0.2", Peer::Refuses),
        ],
    );
    assert_eq!(
        seen.connects,
        [addr("10.0.0.1:443"), addr("10.0.0.2:443")],
        "{seen:?}"
    );
    let error = seen.error.expect("no address completes a handshake");
    assert_eq!(error.kind(), ErrorKind::Tls, "the first failure: {error}");
}
