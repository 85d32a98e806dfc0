//! Behaviour every runtime must share beyond the transcript vectors: a call runs once, cancel
//! works from elsewhere, write timeouts fire against a server that stops reading, large streamed
//! request bodies arrive intact, a response dropped after its body fully arrived still
//! returns its connection to the pool, and `text()` decodes with the response's charset.

use std::io::Read;
use std::net::TcpListener;
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use bytes::Bytes;
use wayfarer_core::{Body, Config, ErrorKind, Event, EventKind, Phase, Request, TimeoutKind};
use wayfarer_tests::origin::{After, Origin, Reply};

const OK_EMPTY: &str = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";

// ------------------------------------------------------------------ a call runs only once

#[test]
fn a_call_runs_only_once_blocking() {
    let origin = Origin::start();
    origin.enqueue(Reply::new(OK_EMPTY));
    let client = wayfarer_blocking::Client::new();
    let call = client.new_call(Request::get(origin.url("/")).build().unwrap());
    assert!(!call.is_executed());
    call.execute().expect("first run");
    assert!(call.is_executed());
    let e = call.execute().expect_err("second run");
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    assert!(e.to_string().contains("already executed"), "{e}");
    assert_eq!(origin.request_count(), 1);
}

#[tokio::test]
async fn a_call_runs_only_once_tokio() {
    let origin = Origin::start();
    origin.enqueue(Reply::new(OK_EMPTY));
    let client = wayfarer_tokio::Client::new();
    let call = client.new_call(Request::get(origin.url("/")).build().unwrap());
    call.execute().await.expect("first run");
    assert_eq!(
        call.execute().await.unwrap_err().kind(),
        ErrorKind::InvalidInput
    );
}

#[test]
fn a_call_runs_only_once_smol() {
    smol::block_on(async {
        let origin = Origin::start();
        origin.enqueue(Reply::new(OK_EMPTY));
        let client = wayfarer_smol::Client::new();
        let call = client.new_call(Request::get(origin.url("/")).build().unwrap());
        call.execute().await.expect("first run");
        assert_eq!(
            call.execute().await.unwrap_err().kind(),
            ErrorKind::InvalidInput
        );
    });
}

// ------------------------------------------------------------------ cancel

/// A config whose listener signals `waiting` once the call waits for the response head: the
/// request has gone out, and the call is about to block on its read. Cancel tests cancel then,
/// so the cancel lands mid-call rather than before the call starts.
fn signal_when_waiting() -> (Config, smol::channel::Receiver<()>) {
    let (tx, rx) = smol::channel::unbounded();
    let config = Config::builder()
        .event_listener(move |e: &Event| {
            if matches!(e.kind, EventKind::ResponseHeadersStart) {
                let _ = tx.try_send(());
            }
        })
        .build()
        .unwrap();
    (config, rx)
}

/// The origin answers only after 30 s, so a call that ends sooner was interrupted.
fn slow_origin() -> Origin {
    let origin = Origin::start();
    origin.enqueue(
        Reply::new(OK_EMPTY)
            .then(After::Stall)
            .pause_before(Duration::from_secs(30)),
    );
    origin
}

#[track_caller]
fn assert_canceled_mid_call(e: &wayfarer_core::Error) {
    assert_eq!(e.kind(), ErrorKind::Canceled, "{e}");
    // Canceled while waiting for the response head, not before the call began.
    assert_eq!(e.phase(), Some(Phase::ReceiveHead), "{e}");
}

#[test]
fn cancel_from_another_thread_interrupts_a_blocked_read() {
    let origin = slow_origin();
    let (config, waiting) = signal_when_waiting();
    let client = wayfarer_blocking::Client::from(config);
    let call = Arc::new(client.new_call(Request::get(origin.url("/")).build().unwrap()));
    let canceler = {
        let call = call.clone();
        thread::spawn(move || {
            if smol::block_on(waiting.recv()).is_ok() {
                call.cancel();
            }
        })
    };
    let started = Instant::now();
    let e = call.execute().expect_err("canceled");
    canceler.join().unwrap();
    assert_canceled_mid_call(&e);
    // The origin would have answered after 30 s: the cancel interrupted the read.
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "cancel took {:?}",
        started.elapsed()
    );
    assert!(call.is_canceled());
    assert_eq!(origin.take_request().line, "GET / HTTP/1.1");
}

#[test]
fn a_call_canceled_before_it_runs_fails_at_once() {
    let client = wayfarer_blocking::Client::new();
    let call = client.new_call(Request::get("http://127.0.0.1:9/").build().unwrap());
    call.cancel();
    let e = call.execute().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Canceled);
    assert_eq!(e.phase(), Some(Phase::Connect), "{e}");
}

#[tokio::test]
async fn cancel_interrupts_an_async_call_tokio() {
    let origin = slow_origin();
    let (config, waiting) = signal_when_waiting();
    let client = wayfarer_tokio::Client::from(config);
    let call = client.new_call(Request::get(origin.url("/")).build().unwrap());
    let running = call.execute();
    let cancel = async {
        waiting
            .recv()
            .await
            .expect("the call waits for its response");
        call.cancel();
    };
    let (result, ()) = tokio::join!(running, cancel);
    assert_canceled_mid_call(&result.unwrap_err());
}

#[test]
fn cancel_interrupts_an_async_call_smol() {
    smol::block_on(async {
        let origin = slow_origin();
        let (config, waiting) = signal_when_waiting();
        let client = wayfarer_smol::Client::from(config);
        let call = client.new_call(Request::get(origin.url("/")).build().unwrap());
        let running = call.execute();
        let cancel = async {
            waiting
                .recv()
                .await
                .expect("the call waits for its response");
            call.cancel();
        };
        let (result, ()) = futures_lite::future::zip(running, cancel).await;
        assert_canceled_mid_call(&result.unwrap_err());
    });
}

// ------------------------------------------------------------------ write timeout

/// A server that accepts and never reads: a large upload fills the socket buffers and the
/// write deadline must fire.
fn silent_server() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/upload", listener.local_addr().unwrap());
    thread::spawn(move || {
        let held = listener.accept();
        thread::sleep(Duration::from_secs(10));
        drop(held);
    });
    url
}

fn big_upload(url: &str) -> Request {
    Request::post(url)
        .body(Bytes::from(vec![b'x'; 64 << 20]))
        .build()
        .unwrap()
}

fn write_timeout_config() -> Config {
    Config::builder()
        .write_timeout(Duration::from_millis(300))
        .build()
        .unwrap()
}

#[test]
fn write_timeout_fires_when_the_server_stops_reading() {
    let url = silent_server();
    let started = Instant::now();
    let client = wayfarer_blocking::Client::from(write_timeout_config());
    let e = client.new_call(big_upload(&url)).execute().unwrap_err();
    assert_eq!(e.timeout_kind(), Some(TimeoutKind::Write), "{e}");
    assert!(started.elapsed() < Duration::from_secs(5));

    let url = silent_server();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let client = wayfarer_tokio::Client::from(write_timeout_config());
    let e = rt
        .block_on(client.new_call(big_upload(&url)).execute())
        .unwrap_err();
    assert_eq!(e.timeout_kind(), Some(TimeoutKind::Write), "{e}");

    let url = silent_server();
    let client = wayfarer_smol::Client::from(write_timeout_config());
    let e = smol::block_on(client.new_call(big_upload(&url)).execute()).unwrap_err();
    assert_eq!(e.timeout_kind(), Some(TimeoutKind::Write), "{e}");
}

// ------------------------------------------------------------------ streamed uploads

/// A deterministic 5 MiB pattern.
fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 31 % 251) as u8).collect()
}

#[test]
fn large_streamed_bodies_arrive_intact_on_every_runtime() {
    let data = pattern(5 << 20);
    // Unknown length (chunked) from a reader on the blocking client.
    let origin = Origin::start();
    origin.enqueue(Reply::new(OK_EMPTY));
    let client = wayfarer_blocking::Client::new();
    let body = Body::from_reader(std::io::Cursor::new(data.clone()), None);
    let request = Request::put(origin.url("/up")).body(body).build().unwrap();
    client.new_call(request).execute().unwrap();
    let seen = origin.take_request();
    assert_eq!(seen.body.len(), data.len());
    assert!(seen.body == data, "blocking: body differs");
    assert!(
        seen.headers
            .iter()
            .any(|(n, v)| n.eq_ignore_ascii_case("transfer-encoding") && v == b"chunked")
    );

    // Known length from an async stream, on tokio and smol.
    let chunks = || {
        let pieces: Vec<std::io::Result<Bytes>> = data
            .chunks(100_000)
            .map(|c| Ok(Bytes::copy_from_slice(c)))
            .collect();
        futures_lite::stream::iter(pieces)
    };
    let origin = Origin::start();
    origin.enqueue(Reply::new(OK_EMPTY));
    origin.enqueue(Reply::new(OK_EMPTY));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let tokio_client = wayfarer_tokio::Client::new();
    let body = Body::from_stream(chunks(), Some(data.len() as u64));
    rt.block_on(
        tokio_client
            .new_call(Request::put(origin.url("/t")).body(body).build().unwrap())
            .execute(),
    )
    .unwrap();
    let smol_client = wayfarer_smol::Client::new();
    let body = Body::from_stream(chunks(), Some(data.len() as u64));
    smol::block_on(
        smol_client
            .new_call(Request::put(origin.url("/s")).body(body).build().unwrap())
            .execute(),
    )
    .unwrap();
    for name in ["tokio", "smol"] {
        let seen = origin.take_request();
        assert!(seen.body == data, "{name}: body differs");
        let length = data.len().to_string();
        assert!(
            seen.headers
                .iter()
                .any(|(n, v)| n.eq_ignore_ascii_case("content-length") && v == length.as_bytes()),
            "{name}"
        );
    }
}

/// Records the size of every write.
#[derive(Default)]
struct Pieces {
    data: Vec<u8>,
    sizes: Vec<usize>,
}

impl std::io::Write for Pieces {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.data.extend_from_slice(buf);
        self.sizes.push(buf.len());
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn copy_to_moves_a_large_body_intact_in_pieces_of_at_most_a_mebibyte() {
    let data = pattern(5 << 20);
    let origin = Origin::start();
    let mut reply =
        format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", data.len()).into_bytes();
    reply.extend_from_slice(&data);
    origin.enqueue(Reply::new(reply));
    let client = wayfarer_blocking::Client::new();
    let request = Request::get(origin.url("/big")).build().unwrap();
    let mut response = client.new_call(request).execute().unwrap();
    let mut out = Pieces::default();
    let copied = response.body_mut().copy_to(&mut out).unwrap();
    assert_eq!(copied, data.len() as u64);
    assert!(out.data == data, "the body differs");
    assert!(out.sizes.iter().all(|&n| n <= 1 << 20), "{:?}", out.sizes);
    // The body was read to its end: the connection went back to the pool.
    assert_eq!(client.idle_connection_count(), 1);
}

// ------------------------------------------------------------------ dropping a response

#[test]
fn a_dropped_response_whose_body_arrived_keeps_its_connection() {
    let origin = Origin::start();
    origin.enqueue(Reply::new(
        "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
    ));
    origin.enqueue(Reply::new(
        "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nagain",
    ));
    let client = wayfarer_blocking::Client::new();
    let first = client
        .new_call(Request::get(origin.url("/1")).build().unwrap())
        .execute()
        .unwrap();
    assert_eq!(first.status(), 200);
    drop(first); // body never read, but it had fully arrived with the head
    assert_eq!(client.idle_connection_count(), 1);
    let mut second = client
        .new_call(Request::get(origin.url("/2")).build().unwrap())
        .execute()
        .unwrap();
    let mut text = String::new();
    second.body_mut().read_to_string(&mut text).unwrap();
    assert_eq!(text, "again");
    assert_eq!(origin.connection_count(), 1);
}

// ------------------------------------------------------------------ thread and task safety

#[test]
fn clients_calls_and_responses_cross_threads() {
    fn send_sync<T: Send + Sync>() {}
    fn send<T: Send>() {}
    send_sync::<wayfarer_blocking::Client>();
    send_sync::<wayfarer_blocking::Call>();
    send::<wayfarer_blocking::Response>();
    send_sync::<wayfarer_tokio::Client>();
    send_sync::<wayfarer_tokio::Call>();
    send::<wayfarer_tokio::Response>();
    send_sync::<wayfarer_smol::Client>();
    send::<wayfarer_smol::Response>();
    send_sync::<Request>();
    let client = wayfarer_tokio::Client::new();
    let call = client.new_call(Request::get("http://127.0.0.1:9/").build().unwrap());
    fn future_is_send<F: std::future::Future + Send + 'static>(_: F) {}
    future_is_send(call.execute());
}

// ------------------------------------------------------------------ text() and the charset

/// "café £5" in ISO-8859-1: 0xE9 and 0xA3 are not UTF-8, so decoding them as UTF-8 would give
/// replacement characters instead.
const LATIN1_REPLY: &[u8] =
    b"HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=ISO-8859-1\r\nContent-Length: 7\r\n\r\ncaf\xe9 \xa35";
const LATIN1_TEXT: &str = "café £5";

/// An origin that answers the body's `text()` and the response's `text()` once each.
fn latin1_origin() -> Origin {
    let origin = Origin::start();
    origin.enqueue(Reply::new(LATIN1_REPLY));
    origin.enqueue(Reply::new(LATIN1_REPLY));
    origin
}

#[test]
fn text_decodes_with_the_response_charset_blocking() {
    let origin = latin1_origin();
    let client = wayfarer_blocking::Client::new();
    let get = || client.new_call(Request::get(origin.url("/")).build().unwrap());
    let body = get().execute().unwrap().into_body();
    assert_eq!(body.text().unwrap(), LATIN1_TEXT);
    assert_eq!(get().execute().unwrap().text().unwrap(), LATIN1_TEXT);
}

#[tokio::test]
async fn text_decodes_with_the_response_charset_tokio() {
    let origin = latin1_origin();
    let client = wayfarer_tokio::Client::new();
    let get = || client.new_call(Request::get(origin.url("/")).build().unwrap());
    let body = get().execute().await.unwrap().into_body();
    assert_eq!(body.text().await.unwrap(), LATIN1_TEXT);
    assert_eq!(
        get().execute().await.unwrap().text().await.unwrap(),
        LATIN1_TEXT
    );
}

#[test]
fn text_decodes_with_the_response_charset_smol() {
    smol::block_on(async {
        let origin = latin1_origin();
        let client = wayfarer_smol::Client::new();
        let get = || client.new_call(Request::get(origin.url("/")).build().unwrap());
        let body = get().execute().await.unwrap().into_body();
        assert_eq!(body.text().await.unwrap(), LATIN1_TEXT);
        assert_eq!(
            get().execute().await.unwrap().text().await.unwrap(),
            LATIN1_TEXT
        );
    });
}

// ------------------------------------------------------------------ what each runtime names

/// A runtime's user can keep cookies, answer challenges and branch on an error's phase or
/// limit through the runtime crate alone, without depending on `wayfarer-core` by name.
#[test]
fn each_runtime_names_the_types_its_settings_and_errors_use() {
    use wayfarer_blocking::cookies::{CookieJar, MemoryCookieJar};

    let origin = Origin::start();
    origin.enqueue(Reply::new(
        "HTTP/1.1 200 OK\r\nSet-Cookie: id=7\r\nContent-Length: 0\r\n\r\n",
    ));
    let jar = Arc::new(MemoryCookieJar::new());
    let client = wayfarer_blocking::Client::builder()
        .cookie_jar(jar.clone())
        .authenticator(wayfarer_blocking::BasicAuthenticator::new("u", "p"))
        .build()
        .unwrap();
    let request = wayfarer_blocking::Request::get(origin.url("/"))
        .build()
        .unwrap();
    client.new_call(request).execute().unwrap();
    let url = wayfarer_blocking::Url::parse(&origin.url("/")).unwrap();
    let cookies = jar.load_for_request(std::time::SystemTime::now(), &url);
    assert_eq!(cookies.len(), 1);

    fn where_it_failed(e: &wayfarer_blocking::Error) -> Option<wayfarer_blocking::Phase> {
        e.phase()
    }
    assert_eq!(where_it_failed(&wayfarer_blocking::Error::canceled()), None);
    let _: Option<wayfarer_tokio::Limit> = wayfarer_tokio::Error::canceled().limit();
    let _: Option<wayfarer_smol::Phase> = wayfarer_smol::Error::canceled().phase();
    fn takes<A: wayfarer_tokio::Authenticator, J: wayfarer_smol::cookies::CookieJar>(_: A, _: J) {}
    takes(
        wayfarer_tokio::BasicAuthenticator::new("u", "p"),
        wayfarer_smol::cookies::MemoryCookieJar::new(),
    );
}
