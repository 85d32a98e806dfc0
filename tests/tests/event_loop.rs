//! The hand-written event loop of `examples/event_loop.rs`, run against scripted origins: several
//! calls at once on one thread, pooled connections reused, deadlines honoured, TLS through the
//! same loop, and one call's failure leaving the others alone.

use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use wayfarer_core::{Certificate, Config, ErrorKind, EventKind, TimeoutKind};
use wayfarer_tests::certs::{Leaf, TestPki};
use wayfarer_tests::origin::{Origin, Reply};

// The example's `main` is unused here.
#[allow(dead_code)]
#[path = "../examples/event_loop.rs"]
mod event_loop;

use event_loop::{Fetched, fetch_all, fetch_all_with};

fn ok(body: &str) -> Reply {
    Reply::new(format!(
        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    ))
}

fn chunked(status: &str, chunks: &[&str]) -> Reply {
    let mut bytes = format!("HTTP/1.1 {status}\r\nTransfer-Encoding: chunked\r\n\r\n");
    for chunk in chunks {
        bytes.push_str(&format!("{:x}\r\n{chunk}\r\n", chunk.len()));
    }
    bytes.push_str("0\r\n\r\n");
    Reply::new(bytes)
}

/// A port on 127.0.0.1 that nothing listens on (bound, then released).
fn refused_url() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    let port = listener.local_addr().expect("local_addr").port();
    drop(listener);
    format!("http://127.0.0.1:{port}/refused")
}

#[track_caller]
fn assert_ok(result: &Fetched, status: u16, body: &[u8]) {
    match result {
        Ok((got_status, got_body)) => {
            assert_eq!(*got_status, status);
            assert_eq!(
                got_body,
                body,
                "body: {:?}",
                String::from_utf8_lossy(got_body)
            );
        }
        Err(e) => panic!("expected {status}, got the error {e:?}"),
    }
}

/// The path each request asked for, and the connection (1-based) it arrived on.
fn requests(origin: &Origin, count: usize) -> Vec<(String, usize)> {
    (0..count)
        .map(|_| {
            let request = origin.take_request();
            let path = request
                .line
                .split(' ')
                .nth(1)
                .unwrap_or_default()
                .to_owned();
            (path, request.conn)
        })
        .collect()
}

#[test]
fn fetches_concurrently_reuses_connections_and_isolates_a_failure() {
    let a = Origin::start();
    let b = Origin::start();
    // A's first body trickles in over ~0.5 s; B's answers are quick. Calls to one origin run one
    // after another on one connection; calls to different origins run at the same time.
    let slow: String = "abcdefghij".repeat(50);
    a.enqueue(ok(&slow).dribble(10, Duration::from_millis(10)));
    a.enqueue(chunked("200 OK", &["hello, ", "chunked ", "world"]));
    a.enqueue(ok("third"));
    b.enqueue(chunked("201 Created", &["dribbled ", "and ", "chunked"]).dribble(3, Duration::ZERO));
    b.enqueue(Reply::new(
        "HTTP/1.1 404 Not Found\r\nContent-Length: 7\r\n\r\nmissing",
    ));
    let urls = vec![
        a.url("/slow"),
        b.url("/created"),
        refused_url(),
        a.url("/chunked"),
        b.url("/missing"),
        a.url("/third"),
    ];

    // Record the order in which calls end, by path.
    let ended = Arc::new(Mutex::new(Vec::new()));
    let started = Arc::new(Mutex::new(Vec::new()));
    let (ended_log, started_log) = (ended.clone(), started.clone());
    let config = Config::builder()
        .event_listener(move |event: &wayfarer_core::Event| match &event.kind {
            EventKind::CallStart { request } => {
                let path = request.rsplit('/').next().unwrap_or_default().to_owned();
                started_log.lock().unwrap().push((event.call, path));
            }
            EventKind::CallEnd => ended_log.lock().unwrap().push(event.call),
            _ => {}
        })
        .build()
        .expect("a valid configuration");

    let results = fetch_all_with(config, 1, &urls);

    assert_eq!(results.len(), urls.len());
    assert_ok(&results[0], 200, slow.as_bytes());
    assert_ok(&results[1], 201, b"dribbled and chunked");
    let refused = results[2]
        .as_ref()
        .expect_err("nothing listens on that port");
    assert_eq!(refused.kind(), ErrorKind::Connect, "{refused:?}");
    assert_ok(&results[3], 200, b"hello, chunked world");
    assert_ok(&results[4], 404, b"missing");
    assert_ok(&results[5], 200, b"third");

    // Reuse: each origin saw one connection, and every request arrived on it, in URL order.
    assert_eq!(a.connection_count(), 1);
    assert_eq!(b.connection_count(), 1);
    let on_one = |paths: &[&str]| -> Vec<(String, usize)> {
        paths.iter().map(|p| (p.to_string(), 1)).collect()
    };
    assert_eq!(requests(&a, 3), on_one(&["/slow", "/chunked", "/third"]));
    assert_eq!(requests(&b, 2), on_one(&["/created", "/missing"]));

    // Concurrency: both of B's calls ended while A's first call was still receiving its slow
    // body. A loop that ran one call at a time would have finished `/slow` first.
    let path_of = |id| {
        let started = started.lock().unwrap();
        let found = started.iter().find(|(call, _)| *call == id);
        found.map(|(_, path)| path.clone()).unwrap_or_default()
    };
    let ended: Vec<String> = ended
        .lock()
        .unwrap()
        .iter()
        .map(|&id| path_of(id))
        .collect();
    let position = |path: &str| ended.iter().position(|p| p == path).unwrap();
    assert!(
        position("created") < position("slow") && position("missing") < position("slow"),
        "calls ended in the order {ended:?}"
    );
}

#[test]
fn fetch_all_uses_the_default_configuration() {
    let origin = Origin::start();
    origin.enqueue(ok("one"));
    origin.enqueue(chunked("200 OK", &["t", "w", "o"]).dribble(1, Duration::from_millis(1)));
    let other = Origin::start();
    other.enqueue(ok("elsewhere"));
    let urls = [origin.url("/1"), other.url("/x"), origin.url("/2")];

    let results = fetch_all(&urls);

    assert_ok(&results[0], 200, b"one");
    assert_ok(&results[1], 200, b"elsewhere");
    assert_ok(&results[2], 200, b"two");
    assert_eq!(origin.connection_count(), 1);
    assert_eq!(other.connection_count(), 1);
}

#[test]
fn a_waiting_call_takes_the_connection_a_finished_one_pooled() {
    let origin = Origin::start();
    // The first two calls run together on two connections; the third starts when one of them
    // ends, and finds its connection in the pool.
    origin.enqueue(ok("first").dribble(1, Duration::from_millis(5)));
    origin.enqueue(ok("second").dribble(1, Duration::from_millis(5)));
    origin.enqueue(ok("third"));
    let urls = ["/1", "/2", "/3"].map(|p| origin.url(p));

    let results = fetch_all_with(Config::default(), 2, &urls);

    let mut bodies: Vec<Vec<u8>> = results
        .into_iter()
        .map(|r| {
            let (status, body) = r.expect("every call succeeds");
            assert_eq!(status, 200);
            body
        })
        .collect();
    bodies.sort();
    assert_eq!(bodies, [&b"first"[..], b"second", b"third"]);
    assert_eq!(origin.request_count(), 3);
    assert_eq!(origin.connection_count(), 2);
}

#[test]
fn a_read_deadline_fails_only_the_stalled_call() {
    let stalled = Origin::start();
    let healthy = Origin::start();
    stalled.enqueue(ok("too late").pause_before(Duration::from_secs(5)));
    healthy.enqueue(ok("on time").dribble(2, Duration::from_millis(20)));
    let config = Config::builder()
        .read_timeout(Duration::from_millis(300))
        .build()
        .expect("a valid configuration");
    let urls = [stalled.url("/stalled"), healthy.url("/healthy")];

    let began = Instant::now();
    let results = fetch_all_with(config, 1, &urls);
    let took = began.elapsed();

    let error = results[0].as_ref().expect_err("the stalled call times out");
    assert_eq!(error.timeout_kind(), Some(TimeoutKind::Read), "{error:?}");
    assert_ok(&results[1], 200, b"on time");
    assert!(
        took >= Duration::from_millis(300) && took < Duration::from_secs(4),
        "took {took:?}"
    );
}

#[test]
fn https_runs_through_the_same_loop() {
    let pki = TestPki::generate();
    let secure = Origin::builder()
        .tls(pki.server_config(Leaf::Valid))
        .start();
    let plain = Origin::start();
    secure.enqueue(ok("secret one").dribble(4, Duration::from_millis(1)));
    secure.enqueue(chunked("200 OK", &["secret ", "two"]));
    plain.enqueue(ok("plain"));
    let config = Config::builder()
        .tls_built_in_roots(false)
        .add_root_certificate(Certificate::from_der(pki.ca_der().to_vec()))
        .build()
        .expect("a valid configuration");
    let urls = [secure.url("/1"), plain.url("/p"), secure.url("/2")];
    assert!(urls[0].starts_with("https://"));

    let results = fetch_all_with(config, 1, &urls);

    assert_ok(&results[0], 200, b"secret one");
    assert_ok(&results[1], 200, b"plain");
    assert_ok(&results[2], 200, b"secret two");
    assert_eq!(secure.connection_count(), 1, "the TLS connection is reused");
}
