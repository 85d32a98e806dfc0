//! RFC 8305 fast fallback through the call machine, stepped by hand with literal times:
//! several connect attempts in flight for one call, each with its own connection id and connect
//! timeout, the first to connect wins and the others are closed.

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

mod common;

use common::{at, ms};
use wayfarer_core::{Call, Client, Config, ConnId, ErrorKind, Output, Request};

/// The next output that is not an event, in one line.
fn next(call: &mut Call, now: u64) -> String {
    loop {
        return match call.poll_output(at(now)) {
            Ok(Output::Event(_)) => continue,
            Ok(Output::Connect {
                conn,
                addr,
                deadline,
            }) => format!("connect {conn} {addr} until {deadline:?}"),
            Ok(Output::Close { conn }) => format!("close {conn}"),
            Ok(Output::Transmit { conn, .. }) => format!("transmit {conn}"),
            Ok(Output::Idle) => "idle".into(),
            Ok(_) => "other".into(),
            Err(e) => format!("error {}: {}", e.kind(), e),
        };
    }
}

/// The next output, which must be a connect (repeated until answered): its id and its line.
fn connect(call: &mut Call, now: u64) -> (ConnId, String) {
    let line = next(call, now);
    let Ok(Output::Connect { conn, .. }) = call.poll_output(at(now)) else {
        panic!("expected a connect, got {line}");
    };
    (conn, line)
}

/// A call to `example.test` resolved at 0 ms to an IPv6 and two IPv4 addresses, its first
/// attempt (to the IPv6 address) asked for at 0 ms: the call and that attempt's id.
fn racing(fast_fallback: bool) -> (Call, ConnId) {
    let config = Config::builder()
        .fast_fallback(fast_fallback)
        .connect_timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let client: Client<u32> = Client::new(config);
    let mut call = client.start_call(
        at(0),
        Request::get("http://example.test:8080/").build().unwrap(),
    );
    assert_eq!(next(&mut call, 0), "other"); // acquire
    call.handle_acquired(at(0), None);
    assert_eq!(next(&mut call, 0), "other"); // resolve
    let addrs: Vec<SocketAddr> = ["[2001:db8::1]:8080", "192.0.2.1:8080", "192.0.2.2:8080"]
        .iter()
        .map(|a| a.parse().unwrap())
        .collect();
    call.handle_resolved(at(0), Ok(addrs));
    let (c1, line) = connect(&mut call, 0);
    assert_eq!(
        line,
        format!("connect c1 [2001:db8::1]:8080 until {:?}", Some(ms(10_000)))
    );
    (call, c1)
}

fn refused() -> io::Result<()> {
    Err(io::ErrorKind::ConnectionRefused.into())
}

#[test]
fn the_second_attempt_starts_at_250_ms_when_the_first_has_not_answered() {
    let (mut call, _) = racing(true);
    // The call wakes up for the next attempt's start, long before the connect timeout.
    assert_eq!(call.poll_timeout(), Some(ms(250)));
    call.handle_timeout(at(249));
    assert_eq!(
        next(&mut call, 249),
        format!("connect c1 [2001:db8::1]:8080 until {:?}", Some(ms(10_000)))
    );
    call.handle_timeout(at(250));
    // c1 is still in flight: c2 starts beside it, with its own connect timeout.
    assert_eq!(
        next(&mut call, 250),
        format!("connect c2 192.0.2.1:8080 until {:?}", Some(ms(10_250)))
    );
    assert_eq!(call.poll_timeout(), Some(ms(500)));
    call.handle_timeout(at(500));
    assert_eq!(
        next(&mut call, 500),
        format!("connect c3 192.0.2.2:8080 until {:?}", Some(ms(10_500)))
    );
    // No route left: the call waits for an answer or the first connect timeout.
    assert_eq!(call.poll_timeout(), Some(ms(10_000)));
}

#[test]
fn the_first_to_connect_wins_and_the_loser_is_closed() {
    let (mut call, c1) = racing(true);
    call.handle_timeout(at(250));
    let (c2, line) = connect(&mut call, 250);
    assert!(line.starts_with("connect c2 192.0.2.1:8080"), "{line}");
    call.handle_connected(at(300), c2, Ok(()));
    assert_eq!(next(&mut call, 300), "close c1");
    assert_eq!(next(&mut call, 300), "transmit c2");
    // The loser's late answer changes nothing.
    call.handle_connected(at(310), c1, refused());
    assert_eq!(next(&mut call, 310), "transmit c2");
}

#[test]
fn a_fast_failure_starts_the_next_attempt_at_once() {
    let (mut call, c1) = racing(true);
    call.handle_connected(at(10), c1, refused());
    assert_eq!(
        next(&mut call, 10),
        format!("connect c2 192.0.2.1:8080 until {:?}", Some(ms(10_010)))
    );
    assert_eq!(call.poll_timeout(), Some(ms(260)));
}

#[test]
fn every_attempt_failing_reports_the_first_error() {
    let (mut call, c1) = racing(true);
    call.handle_connected(at(10), c1, refused());
    let (c2, _) = connect(&mut call, 10);
    call.handle_connected(at(20), c2, Err(io::ErrorKind::HostUnreachable.into()));
    let (c3, _) = connect(&mut call, 20);
    call.handle_connected(at(30), c3, Err(io::ErrorKind::ConnectionReset.into()));
    let error = match call.poll_output(at(30)) {
        Err(e) => e,
        Ok(_) => loop {
            if let Err(e) = call.poll_output(at(30)) {
                break e;
            }
        },
    };
    assert_eq!(error.kind(), ErrorKind::Connect);
    let message = error.to_string();
    assert!(message.contains("[2001:db8::1]:8080"), "{message}");
    assert!(!message.contains("192.0.2"), "{message}");
}

#[test]
fn each_attempt_has_its_own_connect_timeout() {
    let (mut call, _) = racing(true);
    call.handle_timeout(at(250));
    let (c2, _) = connect(&mut call, 250);
    call.handle_timeout(at(500));
    let (c3, _) = connect(&mut call, 500);
    call.handle_timeout(at(10_000));
    // c1 timed out and is closed; c2 and c3 go on.
    assert_eq!(next(&mut call, 10_000), "close c1");
    assert!(next(&mut call, 10_000).starts_with("connect c3"));
    assert_eq!(call.poll_timeout(), Some(ms(10_250)));
    call.handle_connected(at(10_100), c3, Ok(()));
    assert_eq!(next(&mut call, 10_100), format!("close {c2}"));
    assert_eq!(next(&mut call, 10_100), "transmit c3");
}

#[test]
fn without_fast_fallback_attempts_run_one_at_a_time_in_the_resolvers_order() {
    let (mut call, c1) = racing(false);
    // No stagger: the only wake-up is the connect timeout.
    assert_eq!(call.poll_timeout(), Some(ms(10_000)));
    call.handle_timeout(at(250));
    assert!(next(&mut call, 250).starts_with("connect c1 "));
    call.handle_connected(at(300), c1, refused());
    assert_eq!(
        next(&mut call, 300),
        format!("connect c2 192.0.2.1:8080 until {:?}", Some(ms(10_300)))
    );
    call.handle_timeout(at(10_300));
    assert_eq!(next(&mut call, 10_300), "close c2");
    let (c3, line) = connect(&mut call, 10_300);
    assert!(line.starts_with("connect c3 192.0.2.2:8080"), "{line}");
    call.handle_connected(at(10_400), c3, Ok(()));
    assert_eq!(next(&mut call, 10_400), "transmit c3");
}
