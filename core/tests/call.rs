//! The call state machine, stepped by hand with literal times: the paths the transcript vectors
//! cannot reach (they use IP literals and a cooperative origin), such as name resolution,
//! address fallback, connect and call timeouts, cancellation, events, and request body checks.

use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::task::{Context, Waker};
use std::time::{Duration, SystemTime};

use wayfarer_core::{
    Body, BodyRead, Call, Client, Config, ErrorKind, Event, Instant, Now, Output, Phase, Request,
    TimeoutKind,
};

fn at(ms: u64) -> Now {
    Now::new(
        Instant::from_epoch(Duration::from_millis(ms)),
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_767_225_600),
    )
}

fn ms(n: u64) -> Instant {
    Instant::from_epoch(Duration::from_millis(n))
}

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

/// A one-line description of an output, for assertions.
fn describe(output: &Output<'_>) -> String {
    match output {
        Output::Event(e) => format!("event {:?}", std::mem::discriminant(&e.kind)),
        Output::Acquire => "acquire".into(),
        Output::CheckHealth => "check-health".into(),
        Output::Resolve { host, port } => format!("resolve {host}:{port}"),
        Output::Connect { addr, deadline } => format!("connect {addr} until {deadline:?}"),
        Output::Transmit { bytes, .. } => format!("transmit {:?}", String::from_utf8_lossy(bytes)),
        Output::Receive { buf, deadline } => {
            format!("receive {} until {deadline:?}", buf.len().min(1))
        }
        Output::PullBody(_) => "pull-body".into(),
        Output::RewindBody => "rewind-body".into(),
        Output::Response(r) => format!("response {}", r.status().as_u16()),
        Output::Release(_) => "release".into(),
        Output::Close => "close".into(),
        Output::Idle => "idle".into(),
        Output::Done => "done".into(),
    }
}

/// The next output that is not an event.
fn next(call: &mut Call) -> String {
    for _ in 0..1000 {
        let out = call.poll_output().map(|o| describe(&o));
        match out {
            Ok(s) if s.starts_with("event") => continue,
            Ok(s) => return s,
            Err(e) => return format!("error {}: {}", e.kind(), e),
        }
    }
    panic!("more than 1000 events in a row")
}

fn client(config: Config) -> Client<u32> {
    Client::new(config)
}

#[test]
fn resolves_then_falls_back_to_the_next_address_on_refusal_and_timeout() {
    let config = Config::builder()
        .connect_timeout(Duration::from_millis(500))
        .build()
        .unwrap();
    let client = client(config);
    let (mut call, _) = client.start_call(
        at(0),
        Request::get("http://example.test:8080/x").build().unwrap(),
    );
    assert_eq!(next(&mut call), "acquire");
    call.handle_acquired(at(0), None);
    assert_eq!(next(&mut call), "resolve example.test:8080");
    let addrs = vec![
        addr("[::1]:8080"),
        addr("10.0.0.1:8080"),
        addr("10.0.0.2:8080"),
    ];
    call.handle_resolved(at(5), Ok(addrs));
    assert_eq!(
        next(&mut call),
        format!("connect [::1]:8080 until {:?}", Some(ms(505)))
    );
    call.handle_connected(at(6), Err(io::ErrorKind::ConnectionRefused.into()));
    assert_eq!(
        next(&mut call),
        format!("connect 10.0.0.1:8080 until {:?}", Some(ms(506)))
    );
    assert_eq!(call.poll_timeout(), Some(ms(506)));
    call.handle_timeout(at(505)); // early: nothing happens
    assert_eq!(
        next(&mut call),
        format!("connect 10.0.0.1:8080 until {:?}", Some(ms(506)))
    );
    call.handle_timeout(at(506));
    assert_eq!(
        next(&mut call),
        format!("connect 10.0.0.2:8080 until {:?}", Some(ms(1006)))
    );
    call.handle_connected(at(600), Ok(()));
    assert!(
        next(&mut call)
            .starts_with("transmit \"GET /x HTTP/1.1\\r\\nHost: example.test:8080\\r\\n")
    );
}

#[test]
fn every_address_failing_reports_the_last_failure() {
    let client = client(
        Config::builder()
            .connect_timeout(Duration::from_millis(100))
            .build()
            .unwrap(),
    );
    let (mut call, _) =
        client.start_call(at(0), Request::get("http://example.test/").build().unwrap());
    call.handle_acquired(at(0), None);
    call.handle_resolved(at(0), Ok(vec![addr("10.0.0.1:80"), addr("10.0.0.1:80")]));
    // Duplicate addresses are tried once.
    assert_eq!(
        next(&mut call),
        format!("connect 10.0.0.1:80 until {:?}", Some(ms(100)))
    );
    call.handle_timeout(at(100));
    assert!(next(&mut call).starts_with("error timeout"));
    let e = call.poll_output().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Timeout);
    assert_eq!(e.timeout_kind(), Some(TimeoutKind::Connect));
    assert_eq!(
        e.to_string(),
        "connect timed out after 100ms (GET http://example.test/)"
    );
}

#[test]
fn dns_failure_is_its_own_kind() {
    let client = client(Config::default());
    let (mut call, _) = client.start_call(
        at(0),
        Request::get("http://nowhere.invalid/").build().unwrap(),
    );
    call.handle_acquired(at(0), None);
    call.handle_resolved(at(1), Err(io::Error::other("no such host")));
    let e = next(&mut call);
    assert!(
        e.starts_with("error dns: could not resolve host nowhere.invalid"),
        "{e}"
    );
    call.handle_resolved(at(1), Ok(vec![addr("10.0.0.1:80")])); // stale report: ignored
    assert!(next(&mut call).starts_with("error dns"));
}

/// Steps a fresh call to the point where the request head has been written.
fn connected_call(client: &Client<u32>, request: Request, now: u64) -> (Call, Body) {
    let (mut call, body) = client.start_call(at(now), request);
    call.handle_acquired(at(now), None);
    call.handle_connected(at(now), Ok(()));
    (call, body)
}

fn transmit_all(call: &mut Call, now: u64) -> Vec<u8> {
    let mut sent = Vec::new();
    loop {
        let written = match call.poll_output() {
            Ok(Output::Transmit { bytes, .. }) => {
                sent.extend_from_slice(bytes);
                bytes.len()
            }
            Ok(Output::Event(_)) => continue,
            _ => return sent,
        };
        call.handle_transmitted(at(now), Ok(written));
    }
}

fn receive(call: &mut Call, now: u64, bytes: &[u8]) {
    loop {
        match call.poll_output() {
            Ok(Output::Receive { buf, .. }) => {
                buf[..bytes.len()].copy_from_slice(bytes);
                break;
            }
            Ok(Output::Event(_)) => continue,
            other => panic!("expected a receive, got {:?}", other.map(|o| describe(&o))),
        }
    }
    call.handle_received(at(now), Ok(bytes.len()));
}

/// Sends the request, pulling its body from `body` and writing everything at once, until the
/// call wants something else: returns that output's description, or the call's error.
fn send_until_blocked(
    call: &mut Call,
    body: &mut Body,
    now: u64,
) -> Result<String, wayfarer_core::Error> {
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        match call.poll_output()? {
            Output::PullBody(buf) => {
                let std::task::Poll::Ready(r) = body.poll_read(&mut cx, buf) else {
                    panic!("test bodies never block")
                };
                call.handle_body_pulled(at(now), r);
            }
            Output::Transmit { bytes, .. } => {
                let n = bytes.len();
                call.handle_transmitted(at(now), Ok(n));
            }
            Output::Event(_) => {}
            other => return Ok(describe(&other)),
        }
    }
}

#[test]
fn call_timeout_covers_the_whole_call_including_the_body() {
    let config = Config::builder()
        .call_timeout(Duration::from_secs(2))
        .read_timeout(None)
        .build()
        .unwrap();
    let client = client(config);
    let (mut call, _) = connected_call(
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
    assert_eq!(next(&mut call), "response 200");
    let mut buf = [0u8; 16];
    assert_eq!(call.read_body(at(30), &mut buf).unwrap(), BodyRead::Data(3));
    assert!(matches!(
        call.read_body(at(40), &mut buf).unwrap(),
        BodyRead::Direct(7)
    ));
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
fn cancel_fails_the_call_and_drops_the_connection() {
    let client = client(Config::default());
    let (mut call, _) = connected_call(
        &client,
        Request::get("http://10.0.0.1/").build().unwrap(),
        0,
    );
    transmit_all(&mut call, 1);
    call.cancel(at(2));
    assert_eq!(
        next(&mut call),
        "error canceled: call canceled (GET http://10.0.0.1/)"
    );
    assert!(call.is_finished());
}

#[test]
fn events_follow_the_call_in_order() {
    let seen: Arc<Mutex<Vec<String>>> = Arc::default();
    let sink = seen.clone();
    let config = Config::builder()
        .event_listener(move |e: &Event| sink.lock().unwrap().push(format!("{}", e.kind)))
        .build()
        .unwrap();
    let listener = config.event_listener().cloned().unwrap();
    let client = client(config);
    let (mut call, _) =
        client.start_call(at(0), Request::get("http://example.test/").build().unwrap());
    let drain = |call: &mut Call| {
        while let Ok(Output::Event(e)) = call.poll_output() {
            listener.on_event(&e);
        }
    };
    drain(&mut call);
    call.handle_acquired(at(0), None);
    drain(&mut call);
    call.handle_resolved(at(1), Ok(vec![addr("10.0.0.1:80")]));
    drain(&mut call);
    call.handle_connected(at(2), Ok(()));
    drain(&mut call);
    loop {
        let n = match call.poll_output() {
            Ok(Output::Event(e)) => {
                listener.on_event(&e);
                continue;
            }
            Ok(Output::Transmit { bytes, .. }) => bytes.len(),
            _ => break,
        };
        call.handle_transmitted(at(3), Ok(n));
    }
    receive(&mut call, 4, b"HTTP/1.1 204 No Content\r\n\r\n");
    loop {
        match call.poll_output() {
            Ok(Output::Event(e)) => listener.on_event(&e),
            Ok(Output::Done) | Err(_) => break,
            Ok(_) => {}
        }
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
        let (mut call, mut body) = connected_call(&client, request, 0);
        let error = send_until_blocked(&mut call, &mut body, 1).expect_err("the call fails");
        assert_eq!(error.kind(), ErrorKind::InvalidInput, "{error}");
        assert!(error.to_string().contains(message), "{error}");
    }
}

#[test]
fn a_stale_pooled_connection_retries_once_and_rewinds_a_repeatable_body() {
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

    // A first call leaves a connection in the pool.
    let (mut first, _) = connected_call(
        &client,
        Request::get("http://10.0.0.1/").build().unwrap(),
        0,
    );
    transmit_all(&mut first, 1);
    receive(
        &mut first,
        2,
        b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
    );
    assert_eq!(next(&mut first), "response 200");
    match first.poll_output() {
        Ok(Output::Release(conn)) => client.release(ms(3), conn, 7),
        other => panic!("{:?}", other.map(|o| describe(&o))),
    }

    // The second call reuses it, sends its body, and reads EOF: the server had closed it.
    let request = Request::post("http://10.0.0.1/")
        .body(body)
        .build()
        .unwrap();
    let (mut call, mut body) = client.start_call(at(4), request);
    assert_eq!(next(&mut call), "acquire");
    let (conn, socket) = client.acquire(ms(4), call.address()).expect("pooled");
    assert_eq!(socket, 7);
    call.handle_acquired(at(4), Some(conn));
    let pull = |call: &mut Call, body: &mut Body| match send_until_blocked(call, body, 5) {
        Ok(output) => output,
        Err(e) => format!("error {e}"),
    };
    assert!(pull(&mut call, &mut body).starts_with("receive"));
    call.handle_received(at(6), Ok(0));
    assert_eq!(next(&mut call), "close");
    assert_eq!(next(&mut call), "rewind-body");
    call.handle_body_rewound(at(6), body.rewind());
    assert_eq!(
        next(&mut call),
        format!("connect 10.0.0.1:80 until {:?}", Some(ms(10_006)))
    );
    call.handle_connected(at(7), Ok(()));
    assert!(pull(&mut call, &mut body).starts_with("receive"));
    assert_eq!(
        *opened.lock().unwrap(),
        2,
        "the body was opened again for the retry"
    );
    // A second failure on the fresh connection is not retried.
    call.handle_received(at(8), Ok(0));
    let e = next(&mut call);
    assert!(
        e.starts_with("error io: the server closed the connection without sending a response"),
        "{e}"
    );
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
        next(&mut call).starts_with("receive"),
        "still waiting for the final response"
    );
    receive(
        &mut call,
        3,
        b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
    );
    assert_eq!(next(&mut call), "response 200");
}

#[test]
fn would_block_changes_nothing_and_timed_out_only_expires_a_passed_deadline() {
    let config = Config::builder()
        .read_timeout(Duration::from_millis(100))
        .build()
        .unwrap();
    let client = client(config);
    let (mut call, _) = connected_call(
        &client,
        Request::get("http://10.0.0.1/").build().unwrap(),
        0,
    );
    transmit_all(&mut call, 0);
    assert_eq!(
        next(&mut call),
        format!("receive 1 until {:?}", Some(ms(100)))
    );
    call.handle_received(at(10), Err(io::ErrorKind::WouldBlock.into()));
    call.handle_received(at(20), Err(io::ErrorKind::Interrupted.into()));
    // Still waiting, with the same deadline: nothing happened.
    assert_eq!(
        next(&mut call),
        format!("receive 1 until {:?}", Some(ms(100)))
    );
    // A socket timeout that fired a little early does not fail the call...
    call.handle_received(at(99), Err(io::ErrorKind::TimedOut.into()));
    assert_eq!(
        next(&mut call),
        format!("receive 1 until {:?}", Some(ms(100)))
    );
    // ...one at the deadline does.
    call.handle_received(at(100), Err(io::ErrorKind::TimedOut.into()));
    let e = call.poll_output().unwrap_err();
    assert_eq!(e.timeout_kind(), Some(TimeoutKind::Read));
    assert_eq!(e.phase(), Some(Phase::ReceiveHead));
}

#[test]
fn errors_say_where_they_happened() {
    let client = client(Config::default());
    // Connect phase.
    let (mut call, _) = client.start_call(at(0), Request::get("http://10.0.0.1/").build().unwrap());
    call.handle_acquired(at(0), None);
    call.handle_connected(at(1), Err(io::ErrorKind::ConnectionRefused.into()));
    let e = loop {
        if let Err(e) = call.poll_output() {
            break e;
        }
    };
    assert_eq!(
        (e.kind(), e.phase()),
        (ErrorKind::Connect, Some(Phase::Connect))
    );
    assert_eq!(e.io_error_kind(), Some(io::ErrorKind::ConnectionRefused));

    // An empty reply: the server closed without answering; no OS error behind it.
    let (mut call, _) = connected_call(
        &client,
        Request::get("http://10.0.0.1/").build().unwrap(),
        0,
    );
    transmit_all(&mut call, 1);
    call.handle_received(at(2), Ok(0));
    let e = call.poll_output().unwrap_err();
    assert_eq!(
        (e.kind(), e.phase(), e.io_error_kind()),
        (ErrorKind::Io, Some(Phase::ReceiveHead), None)
    );

    // A reset while receiving.
    let (mut call, _) = connected_call(
        &client,
        Request::get("http://10.0.0.1/").build().unwrap(),
        0,
    );
    transmit_all(&mut call, 1);
    call.handle_received(at(2), Err(io::ErrorKind::ConnectionReset.into()));
    let e = call.poll_output().unwrap_err();
    assert_eq!(e.io_error_kind(), Some(io::ErrorKind::ConnectionReset));

    // A body cut short.
    let (mut call, _) = connected_call(
        &client,
        Request::get("http://10.0.0.1/").build().unwrap(),
        0,
    );
    transmit_all(&mut call, 1);
    receive(
        &mut call,
        2,
        b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nab",
    );
    assert_eq!(next(&mut call), "response 200");
    let mut buf = [0u8; 8];
    assert_eq!(call.read_body(at(3), &mut buf).unwrap(), BodyRead::Data(2));
    assert!(matches!(
        call.read_body(at(3), &mut buf).unwrap(),
        BodyRead::Direct(3)
    ));
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
    let (mut call, mut body) = connected_call(&client, request, 0);
    let e = send_until_blocked(&mut call, &mut body, 1).expect_err("the body source fails");
    assert_eq!(e.phase(), Some(Phase::RequestBody), "{e}");
}

struct FailingReader;
impl io::Read for FailingReader {
    fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
        Err(io::Error::other("disk on fire"))
    }
}
