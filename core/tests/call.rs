//! The call state machine, stepped by hand with literal times: the paths the transcript vectors
//! cannot reach (they use IP literals and a cooperative origin), such as name resolution,
//! address fallback, connect and call timeouts, cancellation, events, and request body checks.

use std::io;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use wayfarer_core::{
    Body, BodyRead, Call, Client, Config, ErrorKind, Event, Output, Phase, Request, TimeoutKind,
};

mod common;

use common::*;

#[test]
fn resolves_then_falls_back_to_the_next_address_on_refusal_and_timeout() {
    // One attempt at a time (fast fallback's race is in core/tests/fast_fallback.rs).
    let config = Config::builder()
        .fast_fallback(false)
        .connect_timeout(Duration::from_millis(500))
        .build()
        .unwrap();
    let client = client(config);
    let mut call = client.start_call(
        at(0),
        Request::get("http://example.test:8080/x").build().unwrap(),
    );
    assert_eq!(next(&mut call, 0), "acquire");
    call.handle_acquired(at(0), None);
    assert_eq!(next(&mut call, 0), "resolve example.test:8080");
    let addrs = vec![
        addr("[::1]:8080"),
        addr("10.0.0.1:8080"),
        addr("10.0.0.2:8080"),
    ];
    call.handle_resolved(at(5), Ok(addrs));
    assert_eq!(
        next(&mut call, 5),
        format!("connect c1 [::1]:8080 until {:?}", Some(ms(505)))
    );
    let c1 = connect_id(&mut call, 5);
    call.handle_connected(at(6), c1, Err(io::ErrorKind::ConnectionRefused.into()));
    // The deadline comes from the time the attempt is polled, not from an earlier input.
    assert_eq!(
        next(&mut call, 7),
        format!("connect c2 10.0.0.1:8080 until {:?}", Some(ms(507)))
    );
    assert_eq!(call.poll_timeout(), Some(ms(507)));
    call.handle_timeout(at(506)); // early: nothing happens
    assert_eq!(
        next(&mut call, 506),
        format!("connect c2 10.0.0.1:8080 until {:?}", Some(ms(507)))
    );
    call.handle_timeout(at(507));
    // The abandoned attempt is closed by id before the next one starts.
    assert_eq!(next(&mut call, 507), "close c2");
    assert_eq!(
        next(&mut call, 507),
        format!("connect c3 10.0.0.2:8080 until {:?}", Some(ms(1007)))
    );
    let c3 = connect_id(&mut call, 507);
    call.handle_connected(at(600), c3, Ok(()));
    let sent = next(&mut call, 600);
    assert!(
        sent.starts_with("transmit c3 \"GET /x HTTP/1.1\\r\\nHost: example.test:8080\\r\\n"),
        "{sent}"
    );
}

#[test]
fn a_connect_that_reports_a_socket_timeout_expires_at_its_deadline() {
    let config = Config::builder()
        .connect_timeout(Duration::from_millis(100))
        .build()
        .unwrap();
    let client = client(config);
    let mut call = client.start_call(at(0), Request::get("http://10.0.0.1/").build().unwrap());
    call.handle_acquired(at(0), None);
    let c1 = connect_id(&mut call, 0);
    // A blocking driver's socket timeout fired a hair early: the deadline stays armed, it is
    // never pushed back.
    call.handle_connected(at(99), c1, Err(io::ErrorKind::TimedOut.into()));
    assert_eq!(
        next(&mut call, 99),
        format!("connect c1 10.0.0.1:80 until {:?}", Some(ms(100)))
    );
    call.handle_connected(at(100), c1, Err(io::ErrorKind::TimedOut.into()));
    assert_eq!(next(&mut call, 100), "close c1");
    let e = call.poll_output(at(100)).unwrap_err();
    assert_eq!(e.timeout_kind(), Some(TimeoutKind::Connect));
}

#[test]
fn every_address_failing_reports_the_last_failure() {
    let client = client(
        Config::builder()
            .connect_timeout(Duration::from_millis(100))
            .build()
            .unwrap(),
    );
    let mut call = client.start_call(at(0), Request::get("http://example.test/").build().unwrap());
    call.handle_acquired(at(0), None);
    call.handle_resolved(at(0), Ok(vec![addr("10.0.0.1:80"), addr("10.0.0.1:80")]));
    // Duplicate addresses are tried once.
    assert_eq!(
        next(&mut call, 0),
        format!("connect c1 10.0.0.1:80 until {:?}", Some(ms(100)))
    );
    call.handle_timeout(at(100));
    assert_eq!(next(&mut call, 100), "close c1");
    let e = call.poll_output(at(100)).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Timeout);
    assert_eq!(e.timeout_kind(), Some(TimeoutKind::Connect));
    assert_eq!(
        e.to_string(),
        "connect timed out after 100ms (GET http://example.test/)"
    );
}

#[test]
fn an_attempt_the_driver_never_heard_of_is_not_closed() {
    // The resolver answers after the call's deadline: the call picks the first address, then
    // times out before it asked the driver to connect there. The driver holds nothing for that
    // attempt and never saw its id, so there is no Close for it.
    let client = client(
        Config::builder()
            .call_timeout(Duration::from_millis(100))
            .build()
            .unwrap(),
    );
    let mut call = client.start_call(at(0), Request::get("http://example.test/").build().unwrap());
    call.handle_acquired(at(0), None);
    call.handle_resolved(at(500), Ok(vec![addr("10.0.0.1:80")]));
    call.handle_timeout(at(500));
    let e = next(&mut call, 500);
    assert!(e.starts_with("error timeout: call timed out"), "{e}");
}

#[test]
fn dns_failure_is_its_own_kind() {
    let client = client(Config::default());
    let mut call = client.start_call(
        at(0),
        Request::get("http://nowhere.invalid/").build().unwrap(),
    );
    call.handle_acquired(at(0), None);
    call.handle_resolved(at(1), Err(io::Error::other("no such host")));
    let e = next(&mut call, 1);
    assert!(
        e.starts_with("error dns: could not resolve host nowhere.invalid"),
        "{e}"
    );
    call.handle_resolved(at(1), Ok(vec![addr("10.0.0.1:80")])); // stale report: ignored
    assert!(next(&mut call, 1).starts_with("error dns"));
}

#[test]
fn call_timeout_covers_the_whole_call_including_the_body() {
    let config = Config::builder()
        .call_timeout(Duration::from_secs(2))
        .read_timeout(None)
        .gzip(false)
        .build()
        .unwrap();
    let client = client(config);
    let (mut call, conn) = connected_call(
        &client,
        Request::get("http://10.0.0.1/").build().unwrap(),
        0,
    );
    transmit_all(&mut call, 10);
    receive(
        &mut call,
        20,
        b"HTTP/1.1 200 OK\r\nContent-Length: 20003\r\n\r\nabc",
    );
    assert_eq!(next(&mut call, 20), "response 200");
    let mut buf = [0u8; 16];
    assert!(matches!(
        call.read_body(at(30), &mut buf).unwrap(),
        BodyRead::Data(3)
    ));
    match call.read_body(at(40), &mut buf).unwrap() {
        BodyRead::Direct { conn: c, max } => assert_eq!((c, max), (conn, 16)),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        call.poll_timeout(),
        Some(ms(2000)),
        "no read timeout: only the call deadline"
    );
    call.handle_timeout(at(2000));
    let e = call.read_body(at(2000), &mut buf).unwrap_err();
    assert_eq!(e.timeout_kind(), Some(TimeoutKind::Call));
}

#[test]
fn cancel_fails_the_call_and_closes_the_connection() {
    let client = client(Config::default());
    let (mut call, _) = connected_call(
        &client,
        Request::get("http://10.0.0.1/").build().unwrap(),
        0,
    );
    transmit_all(&mut call, 1);
    call.cancel(at(2));
    assert_eq!(next(&mut call, 2), "close c1");
    assert_eq!(
        next(&mut call, 2),
        "error canceled: call canceled (GET http://10.0.0.1/)"
    );
    assert!(call.is_finished());
}

/// Runs a whole GET with a 204 answer and returns its events.
fn run_204(client: &Client<u32>) -> Vec<Event> {
    let mut events = Vec::new();
    let mut on_event = |e: &Event| events.push(e.clone());
    let mut call = client.start_call(at(0), Request::get("http://example.test/").build().unwrap());
    let mut drain = |call: &mut Call, now: u64| loop {
        match call.poll_output(at(now)) {
            Ok(Output::Event(e)) => on_event(e),
            Ok(Output::Transmit { conn, bytes, .. }) => {
                let n = bytes.len();
                call.handle_transmitted(at(now), conn, Ok(n));
            }
            Ok(output) => {
                let described = describe(&output);
                return taking_head(call, described);
            }
            Err(e) => panic!("{e}"),
        }
    };
    assert_eq!(drain(&mut call, 0), "acquire");
    call.handle_acquired(at(0), None);
    assert_eq!(drain(&mut call, 0), "resolve example.test:80");
    call.handle_resolved(at(1), Ok(vec![addr("10.0.0.1:80")]));
    assert!(drain(&mut call, 1).starts_with("connect c1"));
    let c1 = connect_id(&mut call, 1);
    call.handle_connected(at(2), c1, Ok(()));
    assert!(drain(&mut call, 3).starts_with("receive c1"));
    receive(&mut call, 4, b"HTTP/1.1 204 No Content\r\n\r\n");
    assert_eq!(drain(&mut call, 4), "response 204");
    assert_eq!(drain(&mut call, 4), "release c1");
    assert_eq!(drain(&mut call, 4), "done");
    events
}

#[test]
fn events_follow_the_call_in_order() {
    let seen: Arc<Mutex<Vec<String>>> = Arc::default();
    let sink = seen.clone();
    let config = Config::builder()
        .event_listener(move |e: &Event| sink.lock().unwrap().push(format!("{}", e.kind)))
        .build()
        .unwrap();
    let factory = config.event_listener_factory().cloned().unwrap();
    let client = client(config);
    let events = run_204(&client);
    let request = Request::get("http://example.test/").build().unwrap();
    let listener = factory.create(events[0].call, &request);
    for e in &events {
        assert_eq!(e.call, events[0].call);
        listener.on_event(e);
    }
    let seen = seen.lock().unwrap();
    let expected = [
        "call start: GET http://example.test/",
        "resolving example.test",
        "resolved example.test to 10.0.0.1",
        "connecting to 10.0.0.1:80",
        "connected to 10.0.0.1:80",
        "using connection c1",
        "sending request head",
        "request: GET / HTTP/1.1",
        "waiting for response",
        "response: HTTP/1.1 204 No Content",
        "response body read (0 bytes)",
        "connection c1 returned to the pool",
        "call end",
    ];
    assert_eq!(*seen, expected);
}

#[test]
fn events_are_not_built_without_a_listener() {
    let events = run_204(&client(Config::default()));
    assert!(
        events.is_empty(),
        "a whole call without a listener makes no events"
    );
    let with = client(
        Config::builder()
            .event_listener(|_: &Event| {})
            .build()
            .unwrap(),
    );
    assert!(run_204(&with).len() > 10);
}

#[test]
fn a_streamed_body_must_match_its_declared_length() {
    let client = client(Config::default());
    for (declared, actual, message) in [
        (5, 3, "ended after 3 bytes"),
        (2, 3, "longer than its declared"),
    ] {
        let body = Body::from_reader(io::Cursor::new(vec![b'x'; actual]), Some(declared));
        let request = Request::post("http://10.0.0.1/")
            .body(body)
            .build()
            .unwrap();
        let (mut call, _) = connected_call(&client, request, 0);
        let error = send_until_blocked(&mut call, 1).expect_err("the call fails");
        assert_eq!(error.kind(), ErrorKind::InvalidInput, "{error}");
        assert!(error.to_string().contains(message), "{error}");
    }
}

/// Leaves a connection to 10.0.0.1 in the pool, with socket 7.
fn pool_a_connection(client: &Client<u32>) {
    let (mut first, _) =
        connected_call(client, Request::get("http://10.0.0.1/").build().unwrap(), 0);
    transmit_all(&mut first, 1);
    receive(
        &mut first,
        2,
        b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
    );
    assert_eq!(next(&mut first, 2), "response 200");
    match first.poll_output(at(3)) {
        Ok(Output::Release(conn)) => client.release(ms(3), conn, 7),
        other => panic!("{:?}", other.map(|o| describe(&o))),
    }
}

/// Starts `request` on the pooled connection and lets the server close it without answering.
fn meet_a_closed_pooled_connection(client: &Client<u32>, request: Request) -> Call {
    let mut call = client.start_call(at(4), request);
    let address = wayfarer_core::Address::from_url(call.request().url());
    assert_eq!(next(&mut call, 4), "acquire");
    let (conn, socket) = client.acquire(ms(4), &address).expect("pooled");
    assert_eq!(socket, 7);
    let c1 = conn.id();
    call.handle_acquired(at(4), Some(conn));
    let out = send_until_blocked(&mut call, 5).unwrap();
    assert!(out.starts_with(&format!("receive {c1}")), "{out}");
    call.handle_received(at(6), c1, Ok(0));
    call
}

#[test]
fn a_dead_pooled_connection_is_retried_on_a_fresh_one_for_an_idempotent_request() {
    let client = client(Config::default());
    let opened = Arc::new(Mutex::new(0));
    let counter = opened.clone();
    let body = Body::repeatable(Some(4), move || {
        *counter.lock().unwrap() += 1;
        Ok(Body::from_reader(
            io::Cursor::new(b"data".to_vec()),
            Some(4),
        ))
    });
    pool_a_connection(&client);
    let request = Request::put("http://10.0.0.1/").body(body).build().unwrap();
    let mut call = meet_a_closed_pooled_connection(&client, request);
    assert_eq!(next(&mut call, 6), "close c1");
    // A fresh connection, not the pool.
    assert_eq!(
        next(&mut call, 6),
        format!("connect c2 10.0.0.1:80 until {:?}", Some(ms(10_006)))
    );
    let c2 = connect_id(&mut call, 6);
    call.handle_connected(at(7), c2, Ok(()));
    assert!(
        send_until_blocked(&mut call, 7)
            .unwrap()
            .starts_with("receive c2")
    );
    assert_eq!(
        *opened.lock().unwrap(),
        2,
        "the body was opened again for the retry"
    );
    // A second failure on the fresh connection is not retried.
    call.handle_received(at(8), c2, Ok(0));
    assert_eq!(next(&mut call, 8), "close c2");
    let e = next(&mut call, 8);
    assert!(
        e.starts_with("error io: the server closed the connection without sending a response"),
        "{e}"
    );
}

#[test]
fn a_post_that_reached_a_dead_pooled_connection_is_never_sent_again() {
    let client = client(Config::default());
    pool_a_connection(&client);
    let request = Request::post("http://10.0.0.1/pay")
        .body("amount=10")
        .build()
        .unwrap();
    let mut call = meet_a_closed_pooled_connection(&client, request);
    assert_eq!(next(&mut call, 6), "close c1");
    let e = next(&mut call, 6);
    assert!(
        e.starts_with("error io: the server closed the connection without sending a response"),
        "the POST may have been processed: it must fail, not go out again ({e})"
    );
    // The same request, declared safe to repeat, is retried.
    pool_a_connection(&client);
    let request = Request::post("http://10.0.0.1/pay")
        .idempotent(true)
        .body("amount=10")
        .build()
        .unwrap();
    let mut call = meet_a_closed_pooled_connection(&client, request);
    assert_eq!(next(&mut call, 6), "close c2");
    assert!(next(&mut call, 6).starts_with("connect c3"));
}

#[test]
fn a_second_head_read_after_an_interim_response_waits_for_the_final_one() {
    let client = client(Config::default());
    let (mut call, _) = connected_call(
        &client,
        Request::get("http://10.0.0.1/").build().unwrap(),
        0,
    );
    transmit_all(&mut call, 1);
    receive(
        &mut call,
        2,
        b"HTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\n",
    );
    assert!(
        next(&mut call, 2).starts_with("receive"),
        "still waiting for the final response"
    );
    receive(
        &mut call,
        3,
        b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
    );
    assert_eq!(next(&mut call, 3), "response 200");
}

#[test]
fn an_interim_response_event_carries_its_whole_head() {
    let config = Config::builder()
        .event_listener(|_: &Event| {})
        .build()
        .unwrap();
    let client = client(config);
    let (mut call, _) = connected_call(
        &client,
        Request::get("http://10.0.0.1/").build().unwrap(),
        0,
    );
    transmit_all(&mut call, 1);
    receive(
        &mut call,
        2,
        b"HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\nLink: </b.js>\r\n\r\n",
    );
    let interim = loop {
        match call.poll_output(at(2)) {
            Ok(Output::Event(event)) => {
                if let wayfarer_core::EventKind::InterimResponse { .. } = event.kind {
                    break event.kind.clone();
                }
            }
            other => panic!(
                "expected the interim event, got {:?}",
                other.map(|o| describe(&o))
            ),
        }
    };
    let wayfarer_core::EventKind::InterimResponse {
        status,
        version,
        reason,
        headers,
        ..
    } = interim
    else {
        unreachable!()
    };
    assert_eq!(status.as_u16(), 103);
    assert_eq!(version, wayfarer_core::Version::HTTP_11);
    assert_eq!(reason, "Early Hints");
    let links: Vec<&[u8]> = headers.get_all("link").collect();
    assert_eq!(links, [&b"</a.css>; rel=preload"[..], b"</b.js>"]);
}

#[test]
fn would_block_changes_nothing_and_timed_out_only_expires_a_passed_deadline() {
    let config = Config::builder()
        .read_timeout(Duration::from_millis(100))
        .build()
        .unwrap();
    let client = client(config);
    let (mut call, c1) = connected_call(
        &client,
        Request::get("http://10.0.0.1/").build().unwrap(),
        0,
    );
    transmit_all(&mut call, 0);
    assert_eq!(
        next(&mut call, 0),
        format!("receive c1 1 until {:?}", Some(ms(100)))
    );
    call.handle_received(at(10), c1, Err(io::ErrorKind::WouldBlock.into()));
    call.handle_received(at(20), c1, Err(io::ErrorKind::Interrupted.into()));
    // Still waiting, with the same deadline: nothing happened.
    assert_eq!(
        next(&mut call, 20),
        format!("receive c1 1 until {:?}", Some(ms(100)))
    );
    // A socket timeout that fired a little early does not fail the call...
    call.handle_received(at(99), c1, Err(io::ErrorKind::TimedOut.into()));
    assert_eq!(
        next(&mut call, 99),
        format!("receive c1 1 until {:?}", Some(ms(100)))
    );
    // ...one at the deadline does.
    call.handle_received(at(100), c1, Err(io::ErrorKind::TimedOut.into()));
    let e = first_error(&mut call, 100);
    assert_eq!(e.timeout_kind(), Some(TimeoutKind::Read));
    assert_eq!(e.phase(), Some(Phase::ReceiveHead));
}

#[test]
fn errors_say_where_they_happened() {
    let client = client(Config::default());
    // Connect phase.
    let mut call = client.start_call(at(0), Request::get("http://10.0.0.1/").build().unwrap());
    call.handle_acquired(at(0), None);
    let c1 = connect_id(&mut call, 0);
    call.handle_connected(at(1), c1, Err(io::ErrorKind::ConnectionRefused.into()));
    let e = first_error(&mut call, 1);
    assert_eq!(
        (e.kind(), e.phase()),
        (ErrorKind::Connect, Some(Phase::Connect))
    );
    assert_eq!(e.io_error_kind(), Some(io::ErrorKind::ConnectionRefused));

    // An empty reply: the server closed without answering; no OS error behind it.
    let (mut call, conn) = connected_call(
        &client,
        Request::get("http://10.0.0.1/").build().unwrap(),
        0,
    );
    transmit_all(&mut call, 1);
    call.handle_received(at(2), conn, Ok(0));
    let e = first_error(&mut call, 2);
    assert_eq!(
        (e.kind(), e.phase(), e.io_error_kind()),
        (ErrorKind::Io, Some(Phase::ReceiveHead), None)
    );

    // A reset while receiving.
    let (mut call, conn) = connected_call(
        &client,
        Request::get("http://10.0.0.1/").build().unwrap(),
        0,
    );
    transmit_all(&mut call, 1);
    call.handle_received(at(2), conn, Err(io::ErrorKind::ConnectionReset.into()));
    let e = first_error(&mut call, 2);
    assert_eq!(e.io_error_kind(), Some(io::ErrorKind::ConnectionReset));

    // A body cut short.
    let (mut call, conn) = connected_call(
        &client,
        Request::get("http://10.0.0.1/").build().unwrap(),
        0,
    );
    transmit_all(&mut call, 1);
    receive(
        &mut call,
        2,
        b"HTTP/1.1 200 OK\r\nContent-Length: 20002\r\n\r\nab",
    );
    assert_eq!(next(&mut call, 2), "response 200");
    let mut buf = [0u8; 8];
    assert!(matches!(
        call.read_body(at(3), &mut buf).unwrap(),
        BodyRead::Data(2)
    ));
    match call.read_body(at(3), &mut buf).unwrap() {
        BodyRead::Direct { conn: c, max } => assert_eq!((c, max), (conn, 8)),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        call.handle_direct_read(at(4), Ok(0)).unwrap_err().phase(),
        Some(Phase::ReceiveBody)
    );

    // The caller's body source failed.
    let failing = Body::from_reader(FailingReader, None);
    let request = Request::post("http://10.0.0.1/")
        .body(failing)
        .build()
        .unwrap();
    let (mut call, _) = connected_call(&client, request, 0);
    let e = send_until_blocked(&mut call, 1).expect_err("the body source fails");
    assert_eq!(e.phase(), Some(Phase::RequestBody), "{e}");
}

struct FailingReader;
impl io::Read for FailingReader {
    fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
        Err(io::Error::other("disk on fire"))
    }
}

/// A runtime's closure interceptor, as the core sees it: an opaque slot the chain pauses at.
struct RuntimeInterceptor;

impl wayfarer_core::IntoInterceptor<Config> for RuntimeInterceptor {
    fn into_slot(self) -> wayfarer_core::InterceptorSlot {
        wayfarer_core::InterceptorSlot::external(Arc::new(()))
    }
}

#[test]
fn a_runtime_interceptor_reads_the_body_of_the_response_it_holds() {
    let config = Config::builder()
        .interceptor(RuntimeInterceptor)
        .build()
        .unwrap();
    let client = client(config);
    let mut call = client.start_call(at(0), Request::get("http://10.0.0.1/").build().unwrap());
    let (id, request) = loop {
        match call.poll_output(at(0)).unwrap() {
            Output::Intercept { id, request } => break (id, request),
            Output::Event(_) => continue,
            other => panic!("expected the interceptor, got {}", describe(&other)),
        }
    };
    call.proceed(at(0), id, *request);
    call.handle_acquired(at(0), None);
    let conn = connect_id(&mut call, 0);
    call.handle_connected(at(0), conn, Ok(()));
    transmit_all(&mut call, 0);
    receive(
        &mut call,
        1,
        b"HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\nhello",
    );
    let head = loop {
        match call.poll_output(at(1)).unwrap() {
            Output::Proceeded { id: to, result } => {
                assert_eq!(to, id);
                break (*result).unwrap();
            }
            Output::Event(_) => continue,
            other => panic!(
                "expected the interceptor's response, got {}",
                describe(&other)
            ),
        }
    };
    // The interceptor reads the body: what arrived with the head, then the rest from the socket.
    let mut body = Vec::new();
    let mut buf = [0u8; 64];
    loop {
        match call.read_body(at(2), &mut buf).unwrap() {
            BodyRead::Data(n) => body.extend_from_slice(&buf[..n]),
            // A rest this small is read through the connection's buffer, not straight into
            // the caller's: the read can come back short.
            BodyRead::Pending => receive(&mut call, 2, b" world"),
            BodyRead::End => break,
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(body, b"hello world");
    // Read to its end, the body frees its connection while the interceptor still runs.
    assert_eq!(next(&mut call, 2), "release c1");
    assert_eq!(next(&mut call, 2), "idle");
    // It hands the response on unchanged: the caller finds the body already read.
    call.handle_intercepted(at(3), id, Ok(head), false);
    assert_eq!(next(&mut call, 3), "response 200");
    assert!(matches!(call.read_body(at(3), &mut buf), Ok(BodyRead::End)));
    assert_eq!(next(&mut call, 3), "done");
}

/// Body bytes go straight from the socket into the caller's buffer while much of the body is
/// left; the last few KiB are read through the connection's buffer, where the read can come
/// back short (a runtime's reactor then knows the socket is drained) and where anything the
/// server sends past the body stays, so the connection is not reused.
#[test]
fn the_rest_of_a_body_that_fits_the_connection_buffer_is_read_there() {
    let client = client(Config::builder().build().unwrap());
    let (mut call, conn) = connected_call(
        &client,
        Request::get("http://10.0.0.1/").build().unwrap(),
        0,
    );
    transmit_all(&mut call, 1);
    receive(
        &mut call,
        2,
        b"HTTP/1.1 200 OK\r\nContent-Length: 12000\r\n\r\n",
    );
    assert_eq!(next(&mut call, 2), "response 200");
    let mut buf = vec![0u8; 64 * 1024];
    match call.read_body(at(3), &mut buf).unwrap() {
        BodyRead::Direct { conn: c, max } => assert_eq!((c, max), (conn, 12000)),
        other => panic!("{other:?}"),
    }
    buf[..4000].fill(b'a');
    assert_eq!(call.handle_direct_read(at(3), Ok(4000)).unwrap(), 4000);
    // 8,000 left: no longer direct.
    assert!(matches!(
        call.read_body(at(4), &mut buf).unwrap(),
        BodyRead::Pending
    ));
    receive(&mut call, 4, &[b'b'; 8000]);
    assert!(matches!(
        call.read_body(at(4), &mut buf).unwrap(),
        BodyRead::Data(8000)
    ));
    assert!(buf[..8000].iter().all(|&b| b == b'b'));
    assert_eq!(next(&mut call, 4), "release c1");
}
