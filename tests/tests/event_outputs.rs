//! Events cost nothing without a listener: a whole call on the sans-IO core, driven by hand
//! through its public API, emits no `Output::Event` at all when the client has no listener, and
//! the full sequence from `CallStart` to `CallEnd` when it has one.

use std::collections::VecDeque;
use std::time::{Duration, SystemTime};

use wayfarer_core::{BodyRead, Client, Config, Event, EventKind, Instant, Now, Output, Request};

fn at(ms: u64) -> Now {
    Now::new(
        Instant::from_epoch(Duration::from_millis(ms)),
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_767_225_600),
    )
}

/// Runs one GET to completion against a server that answers `response`, reading the whole body.
/// Returns the events the call emitted as outputs, and the body.
fn whole_call(config: Config, response: &[u8]) -> (Vec<EventKind>, Vec<u8>) {
    let client: Client<()> = Client::new(config);
    let request = Request::get("http://10.0.0.1:8080/x").build().unwrap();
    let mut call = client.start_call(at(0), request);
    let mut wire: VecDeque<u8> = response.iter().copied().collect();
    let mut take = |buf: &mut [u8]| {
        let n = buf.len().min(wire.len());
        for (slot, byte) in buf.iter_mut().zip(wire.drain(..n)) {
            *slot = byte;
        }
        n
    };
    let mut events = Vec::new();
    let mut body = Vec::new();
    let mut buf = [0u8; 4];
    let mut now = 0;
    for _ in 0..1000 {
        now += 1;
        match call.poll_output(at(now)).expect("the call succeeds") {
            Output::Event(event) => events.push(event.kind.clone()),
            Output::Acquire { .. } => call.handle_acquired(at(now), None),
            Output::Connect { conn, .. } => call.handle_connected(at(now), conn, Ok(())),
            Output::Transmit { conn, bytes, .. } => {
                let n = bytes.len();
                call.handle_transmitted(at(now), conn, Ok(n));
            }
            Output::Receive { conn, buf, .. } => {
                let n = take(buf);
                call.handle_received(at(now), conn, Ok(n));
            }
            Output::Response => assert_eq!(call.take_response().expect("head").status(), 200),
            // The caller reads the body in small pieces.
            Output::Idle => match call.read_body(at(now), &mut buf).expect("body") {
                BodyRead::Data(n) => body.extend_from_slice(&buf[..n]),
                BodyRead::Direct { max, .. } => {
                    let n = take(&mut buf[..max]);
                    let n = call.handle_direct_read(at(now), Ok(n)).expect("body");
                    body.extend_from_slice(&buf[..n]);
                }
                BodyRead::Pending | BodyRead::End | BodyRead::Pull(_) => {}
                cached @ (BodyRead::Cached { .. } | BodyRead::CachedInto(_)) => {
                    panic!("no cache here: {cached:?}")
                }
            },
            Output::Release(conn) => client.release(at(now).mono, conn, ()),
            Output::Done => return (events, body),
            other => panic!("unexpected output {other:?}"),
        }
    }
    panic!("the call did not finish within 1000 outputs");
}

const RESPONSE: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123456789";

#[test]
fn a_whole_call_without_a_listener_emits_no_event_output() {
    let (events, body) = whole_call(Config::default(), RESPONSE);
    assert_eq!(body, b"0123456789");
    assert!(events.is_empty(), "{events:?}");
}

#[test]
fn a_whole_call_with_a_listener_emits_every_event_from_start_to_end() {
    let config = Config::builder()
        .event_listener(|_: &Event| {})
        .build()
        .unwrap();
    let (events, body) = whole_call(config, RESPONSE);
    assert_eq!(body, b"0123456789");
    let names: Vec<String> = events
        .iter()
        .map(|e| {
            format!("{e:?}")
                .split([' ', '{', '('])
                .next()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(
        names.first().map(String::as_str),
        Some("CallStart"),
        "{names:?}"
    );
    assert_eq!(
        names.last().map(String::as_str),
        Some("CallEnd"),
        "{names:?}"
    );
    for expected in [
        "ConnectStart",
        "ConnectEnd",
        "ConnectionAcquired",
        "RequestHeadersEnd",
        "ResponseHeadersEnd",
        "ResponseBodyEnd",
        "ConnectionReleased",
    ] {
        assert!(names.iter().any(|n| n == expected), "{expected}: {names:?}");
    }
}
