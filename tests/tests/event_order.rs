//! The events of a call, in OkHttp's order and balanced, however the call ends: a new TLS
//! connection is acquired only once its handshake stands, a failed handshake is a failed
//! connect, every acquired connection is released before the call ends, a follow-up on the
//! call's own connection acquires nothing again, and a call its caller drops (a body half read,
//! an async future given up) still ends with `CallEnd` or `CallFailed`.

use std::io::Read;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use wayfarer_core::{Certificate, ClientBuilder, Config, ErrorKind, Event, Request, TimeoutKind};
use wayfarer_tests::certs::{Leaf, TestPki};
use wayfarer_tests::origin::{After, Origin, Reply};

type Log = Arc<Mutex<Vec<String>>>;

/// The variant name of each event, in order.
fn listening() -> (ClientBuilder<Config>, Log) {
    let log: Log = Arc::default();
    let sink = log.clone();
    let builder = Config::builder().event_listener(move |e: &Event| {
        let name = format!("{:?}", e.kind);
        let name = name
            .split([' ', '{', '('])
            .next()
            .unwrap_or_default()
            .to_owned();
        sink.lock().unwrap().push(name);
    });
    (builder, log)
}

fn names(log: &Log) -> Vec<String> {
    log.lock().unwrap().clone()
}

fn count(names: &[String], name: &str) -> usize {
    names.iter().filter(|n| *n == name).count()
}

fn position(names: &[String], name: &str) -> usize {
    names
        .iter()
        .position(|n| n == name)
        .unwrap_or_else(|| panic!("no {name} in {names:?}"))
}

/// One acquired connection, released once, and the call ended once.
#[track_caller]
fn assert_balanced(names: &[String]) {
    assert_eq!(count(names, "CallStart"), 1, "{names:?}");
    assert_eq!(
        count(names, "CallEnd") + count(names, "CallFailed"),
        1,
        "{names:?}"
    );
    assert_eq!(
        count(names, "ConnectionAcquired"),
        count(names, "ConnectionReleased"),
        "{names:?}"
    );
    let last = names.last().map(String::as_str);
    assert!(matches!(last, Some("CallEnd" | "CallFailed")), "{names:?}");
}

/// A 100-byte body of which 10 bytes arrive, then nothing.
fn half_body(origin: &Origin) {
    origin.enqueue(
        Reply::new("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789").then(After::Stall),
    );
}

fn tls_config(builder: ClientBuilder<Config>, pki: &TestPki) -> Config {
    builder
        .tls_built_in_roots(false)
        .add_root_certificate(Certificate::from_der(pki.ca_der().to_vec()))
        .build()
        .unwrap()
}

#[test]
fn a_new_tls_connection_is_acquired_after_its_handshake() {
    let pki = TestPki::generate();
    let origin = Origin::builder()
        .tls(pki.server_config(Leaf::Valid))
        .start();
    origin.enqueue(Reply::new("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"));
    let (builder, log) = listening();
    let client = wayfarer_blocking::Client::from(tls_config(builder, &pki));
    let url = format!("https://127.0.0.1:{}/", origin.addr().port());
    let body = client
        .new_call(Request::get(url).build().unwrap())
        .execute()
        .unwrap()
        .bytes()
        .unwrap();
    assert_eq!(&body[..], b"ok");
    let n = names(&log);
    let order: Vec<usize> = [
        "ConnectStart",
        "SecureConnectStart",
        "SecureConnectEnd",
        "ConnectEnd",
        "ConnectionAcquired",
        "RequestHeadersStart",
    ]
    .iter()
    .map(|name| position(&n, name))
    .collect();
    assert!(order.is_sorted(), "{n:?}");
    assert_balanced(&n);
}

#[test]
fn a_failed_tls_handshake_is_a_failed_connect_and_acquires_nothing() {
    let pki = TestPki::generate();
    let origin = Origin::builder()
        .tls(pki.server_config(Leaf::WrongHost))
        .start();
    let (builder, log) = listening();
    let client = wayfarer_blocking::Client::from(tls_config(builder, &pki));
    let url = format!("https://127.0.0.1:{}/", origin.addr().port());
    let e = client
        .new_call(Request::get(url).build().unwrap())
        .execute()
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Tls);
    let n = names(&log);
    assert_eq!(count(&n, "ConnectionAcquired"), 0, "{n:?}");
    assert_eq!(count(&n, "ConnectEnd"), 0, "{n:?}");
    assert!(
        position(&n, "ConnectFailed") < position(&n, "CallFailed"),
        "{n:?}"
    );
    assert_balanced(&n);
}

#[test]
fn a_redirect_on_the_calls_own_connection_acquires_it_once() {
    let origin = Origin::start();
    origin.enqueue(Reply::new(
        "HTTP/1.1 302 Found\r\nLocation: /b\r\nContent-Length: 3\r\n\r\nabc",
    ));
    origin.enqueue(Reply::new("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"));
    let (builder, log) = listening();
    let client = wayfarer_blocking::Client::from(builder.build().unwrap());
    let body = client
        .new_call(Request::get(origin.url("/a")).build().unwrap())
        .execute()
        .unwrap()
        .bytes()
        .unwrap();
    assert_eq!(&body[..], b"ok");
    let n = names(&log);
    assert_eq!(count(&n, "ConnectionAcquired"), 1, "{n:?}");
    assert_balanced(&n);
}

#[test]
fn a_body_that_times_out_fails_its_response_and_releases_the_connection() {
    let origin = Origin::start();
    half_body(&origin);
    let (builder, log) = listening();
    let config = builder
        .read_timeout(Duration::from_millis(200))
        .build()
        .unwrap();
    let client = wayfarer_blocking::Client::from(config);
    let e = client
        .new_call(Request::get(origin.url("/")).build().unwrap())
        .execute()
        .unwrap()
        .bytes()
        .unwrap_err();
    assert_eq!(e.timeout_kind(), Some(TimeoutKind::Read));
    let n = names(&log);
    let order = [
        position(&n, "ResponseBodyStart"),
        position(&n, "ResponseFailed"),
        position(&n, "ConnectionReleased"),
        position(&n, "CallFailed"),
    ];
    assert!(order.is_sorted(), "{n:?}");
    assert_balanced(&n);
}

#[test]
fn a_cancel_during_the_body_releases_the_connection() {
    let origin = Origin::start();
    half_body(&origin);
    let (builder, log) = listening();
    let client = wayfarer_blocking::Client::from(builder.build().unwrap());
    let call = Arc::new(client.new_call(Request::get(origin.url("/")).build().unwrap()));
    let mut response = call.execute().unwrap();
    let mut buf = [0u8; 10];
    response.body_mut().read_exact(&mut buf).unwrap();
    let canceler = call.clone();
    let thread = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(100));
        canceler.cancel();
    });
    response.body_mut().read(&mut buf).unwrap_err();
    thread.join().unwrap();
    drop(response);
    let n = names(&log);
    assert_eq!(count(&n, "Canceled"), 1, "{n:?}");
    assert_balanced(&n);
    assert_eq!(client.connection_count(), 0);
}

#[test]
fn a_body_dropped_half_read_ends_the_call() {
    let origin = Origin::start();
    half_body(&origin);
    let (builder, log) = listening();
    let client = wayfarer_blocking::Client::from(builder.build().unwrap());
    let mut response = client
        .new_call(Request::get(origin.url("/")).build().unwrap())
        .execute()
        .unwrap();
    let mut buf = [0u8; 10];
    response.body_mut().read_exact(&mut buf).unwrap();
    drop(response);
    let n = names(&log);
    assert_eq!(count(&n, "CallEnd"), 1, "{n:?}");
    assert!(
        position(&n, "ResponseBodyEnd") < position(&n, "ConnectionReleased"),
        "{n:?}"
    );
    assert_balanced(&n);
    assert_eq!(client.connection_count(), 0);
    assert_eq!(client.dispatcher().running_calls_count(), 0);
}

#[test]
fn an_async_call_whose_future_is_dropped_is_canceled() {
    let origin = Origin::start();
    origin.enqueue(
        Reply::new("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
            .pause_before(Duration::from_secs(30))
            .then(After::Stall),
    );
    let (builder, log) = listening();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let client = wayfarer_tokio::Client::from(builder.build().unwrap());
    rt.block_on(async {
        let call = client.new_call(Request::get(origin.url("/")).build().unwrap());
        let gave_up = tokio::time::timeout(Duration::from_millis(200), call.execute()).await;
        assert!(gave_up.is_err());
    });
    let n = names(&log);
    assert_eq!(count(&n, "Canceled"), 1, "{n:?}");
    assert_balanced(&n);
    assert_eq!(client.connection_count(), 0);
    assert_eq!(client.dispatcher().running_calls_count(), 0);
}
