//! Cancel in every phase of a call, and the call timeout across follow-ups, stepped by hand with
//! literal times.

mod common;

use common::*;
use std::time::Duration;

use wayfarer_core::{BodyRead, Call, Config, ErrorKind, Request, TimeoutKind};

/// The call's next non-event outputs until it fails, described, polled at `now`.
fn until_failed(call: &mut Call, now: u64) -> Vec<String> {
    let mut seen = Vec::new();
    for _ in 0..10 {
        let out = next(call, now);
        let failed = out.starts_with("error");
        seen.push(out);
        if failed {
            return seen;
        }
    }
    panic!("the call did not fail: {seen:?}")
}

#[test]
fn cancel_while_resolving_fails_at_once_and_ignores_the_late_answer() {
    let client = client(Config::default());
    let mut call = client.start_call(at(0), Request::get("http://example.test/").build().unwrap());
    assert_eq!(next(&mut call, 0), "acquire");
    call.handle_acquired(at(0), None);
    assert_eq!(next(&mut call, 0), "resolve example.test:80");
    call.cancel(at(3));
    assert_eq!(
        until_failed(&mut call, 3),
        ["error canceled: call canceled (GET http://example.test/)"]
    );
    assert!(call.is_finished());
}

#[test]
fn cancel_while_connecting_closes_the_attempt() {
    let client = client(Config::default());
    let mut call = client.start_call(at(0), Request::get("http://example.test/").build().unwrap());
    assert_eq!(next(&mut call, 0), "acquire");
    call.handle_acquired(at(0), None);
    assert_eq!(next(&mut call, 0), "resolve example.test:80");
    call.handle_resolved(at(1), Ok(vec![addr("10.0.0.1:80")]));
    let c1 = connect_id(&mut call, 1);
    call.cancel(at(4));
    assert_eq!(
        until_failed(&mut call, 4),
        [
            format!("close {c1}"),
            "error canceled: call canceled (GET http://example.test/)".to_owned()
        ]
    );
}

#[test]
fn cancel_while_reading_the_body_closes_the_connection() {
    let client = client(Config::builder().gzip(false).build().unwrap());
    let (mut call, conn) = connected_call(
        &client,
        Request::get("http://10.0.0.1/").build().unwrap(),
        0,
    );
    transmit_all(&mut call, 10);
    receive(
        &mut call,
        20,
        b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc",
    );
    assert_eq!(next(&mut call, 20), "response 200");
    let mut buf = [0u8; 16];
    assert!(matches!(
        call.read_body(at(30), &mut buf).unwrap(),
        BodyRead::Data(3)
    ));
    call.cancel(at(40));
    let e = call.read_body(at(40), &mut buf).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Canceled);
    assert_eq!(next(&mut call, 40), format!("close {conn}"));
    assert_eq!(client.pool().idle_count(), 0);
}

#[test]
fn the_call_timeout_spans_a_redirect() {
    let config = Config::builder()
        .call_timeout(Duration::from_secs(1))
        .read_timeout(None)
        .build()
        .unwrap();
    let client = client(config);
    let (mut call, _) = connected_call(
        &client,
        Request::get("http://10.0.0.1/old").build().unwrap(),
        0,
    );
    transmit_all(&mut call, 10);
    receive(
        &mut call,
        600,
        b"HTTP/1.1 302 Found\r\nLocation: /new\r\nContent-Length: 0\r\n\r\n",
    );
    // The follow-up goes out on the same connection, under the same deadline.
    let sent = next(&mut call, 600);
    assert!(
        sent.starts_with("transmit c1 \"GET /new HTTP/1.1"),
        "{sent}"
    );
    transmit_all(&mut call, 610);
    assert_eq!(
        call.poll_timeout(),
        Some(ms(1000)),
        "the first hop's deadline"
    );
    call.handle_timeout(at(1000));
    let e = first_error(&mut call, 1000);
    assert_eq!(e.timeout_kind(), Some(TimeoutKind::Call));
}
