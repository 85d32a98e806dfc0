//! A server may answer a request before reading all of it (RFC 9112 section 9.5): a 413 to an
//! upload it will not take, then no more reading. Every runtime must hear that answer while its
//! write waits for room, stop sending, and hand the caller the response, rather than wait for
//! the write timeout. The connection, whose request was cut short, is not pooled.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use bytes::Bytes;
use wayfarer_core::{Config, Request};

const TOO_LARGE: &[u8] =
    b"HTTP/1.1 413 Content Too Large\r\nContent-Length: 8\r\nConnection: close\r\n\r\ntoo much";

/// A server that reads one request head, answers 413 and then neither reads nor closes until
/// the test is over (the sender side of the returned channel is dropped). Returns the URL.
fn answers_early_then_stops_reading() -> (String, mpsc::Sender<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/upload", listener.local_addr().unwrap());
    let (done, held) = mpsc::channel::<()>();
    thread::spawn(move || {
        let (mut socket, _) = listener.accept().unwrap();
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            socket.read_exact(&mut byte).unwrap();
            head.push(byte[0]);
        }
        socket.write_all(TOO_LARGE).unwrap();
        // Hold the connection, unread, until the test ends (or a minute, if it hangs).
        let _ = held.recv_timeout(Duration::from_secs(60));
        drop(socket);
    });
    (url, done)
}

/// A 32 MiB upload: far more than loopback's socket buffers hold.
fn upload(url: &str) -> Request {
    Request::post(url)
        .body(Bytes::from(vec![b'x'; 32 << 20]))
        .build()
        .unwrap()
}

/// Long enough that a call which only hears the answer once the write gives up fails instead.
fn config() -> Config {
    Config::builder()
        .write_timeout(Duration::from_secs(20))
        .read_timeout(Duration::from_secs(20))
        .build()
        .unwrap()
}

#[test]
fn an_early_answer_is_heard_while_the_upload_waits_blocking() {
    let (url, done) = answers_early_then_stops_reading();
    let client = wayfarer_blocking::Client::from(config());
    let mut response = client
        .new_call(upload(&url))
        .execute()
        .expect("the 413, not a write timeout");
    assert_eq!(response.status().as_u16(), 413);
    let mut body = String::new();
    response.body_mut().read_to_string(&mut body).unwrap();
    assert_eq!(body, "too much");
    drop(response);
    assert_eq!(client.idle_count(), 0);
    drop(done);
}

/// The async runtimes' side: the 413 and its body, and no connection pooled.
async fn hears_the_early_answer<N: wayfarer_async::Net>(
    client: &wayfarer_async::Client<N>,
    url: &str,
) {
    let response = client
        .new_call(upload(url))
        .execute()
        .await
        .expect("the 413, not a write timeout");
    assert_eq!(response.status().as_u16(), 413);
    assert_eq!(response.text().await.unwrap(), "too much");
    assert_eq!(client.idle_count(), 0);
}

#[test]
fn an_early_answer_is_heard_while_the_upload_waits_tokio() {
    let (url, done) = answers_early_then_stops_reading();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let client = wayfarer_tokio::Client::from(config());
    rt.block_on(hears_the_early_answer(&client, &url));
    drop(done);
}

#[test]
fn an_early_answer_is_heard_while_the_upload_waits_smol() {
    let (url, done) = answers_early_then_stops_reading();
    let client = wayfarer_smol::Client::from(config());
    smol::block_on(hears_the_early_answer(&client, &url));
    drop(done);
}
