//! JSON bodies on every runtime: `RequestBuilder::json` sends a value as JSON with its media
//! type, and `Response::json` parses the body, failing with `ErrorKind::Decode` on a body that
//! is not the JSON asked for.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::mpsc;

use wayfarer_core::{ErrorKind, Request};

type Scores = BTreeMap<String, u32>;

/// A server answering each of `answers` connections with `body` as JSON; the requests it read
/// (head and body) come out of the receiver.
fn serve(body: &'static str, answers: usize) -> (String, mpsc::Receiver<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}/scores", listener.local_addr().expect("addr"));
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for _ in 0..answers {
            let Ok((mut socket, _)) = listener.accept() else {
                return;
            };
            let mut request = Vec::new();
            let mut buf = [0u8; 4096];
            // The head, then as many body bytes as it announces.
            while let Ok(n) = socket.read(&mut buf) {
                if n == 0 {
                    break;
                }
                request.extend_from_slice(&buf[..n]);
                let text = String::from_utf8_lossy(&request);
                if let Some(end) = text.find("\r\n\r\n") {
                    let length = text[..end]
                        .lines()
                        .filter_map(|l| l.split_once(':'))
                        .find(|(name, _)| name.eq_ignore_ascii_case("content-length"))
                        .and_then(|(_, n)| n.trim().parse::<usize>().ok())
                        .unwrap_or(0);
                    if request.len() >= end + 4 + length {
                        break;
                    }
                }
            }
            let _ = tx.send(String::from_utf8_lossy(&request).into_owned());
            let answer = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\
                 Connection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = socket.write_all(answer.as_bytes());
        }
    });
    (url, rx)
}

fn post(url: &str) -> Request {
    let query = BTreeMap::from([("team", "blue")]);
    Request::post(url).json(&query).build().expect("request")
}

/// The request as the server read it: JSON, announced as such.
fn assert_sent_as_json(request: &str) {
    assert!(
        request.contains("Content-Type: application/json\r\n"),
        "{request}"
    );
    assert!(request.ends_with(r#"{"team":"blue"}"#), "{request}");
}

#[test]
fn blocking_sends_and_parses_json() {
    let (url, requests) = serve(r#"{"ann": 3, "bob": 5}"#, 2);
    let client = wayfarer_blocking::Client::new();
    let response = client.new_call(post(&url)).execute().expect("response");
    let scores: Scores = response.json().expect("json");
    assert_eq!(scores, Scores::from([("ann".into(), 3), ("bob".into(), 5)]));
    assert_sent_as_json(&requests.recv().expect("request"));

    let response = client.new_call(post(&url)).execute().expect("response");
    let wrong = response.json::<Vec<u32>>().expect_err("not a list");
    assert_eq!(wrong.kind(), ErrorKind::Decode, "{wrong}");
}

/// The response to `post(url)` on an async runtime's client.
macro_rules! fetch {
    ($runtime:ident, $url:expr) => {
        $runtime::Client::new()
            .new_call(post($url))
            .execute()
            .await
            .expect("response")
    };
}

#[tokio::test(flavor = "current_thread")]
async fn tokio_sends_and_parses_json() {
    let (url, requests) = serve(r#"{"ann": 3, "bob": 5}"#, 2);
    let scores: Scores = fetch!(wayfarer_tokio, &url).json().await.expect("json");
    assert_eq!(scores["bob"], 5);
    let body = fetch!(wayfarer_tokio, &url).into_body();
    let wrong = body.json::<Vec<u32>>().await.expect_err("not a list");
    assert_eq!(wrong.kind(), ErrorKind::Decode, "{wrong}");
    assert_sent_as_json(&requests.recv().expect("request"));
}

#[test]
fn smol_sends_and_parses_json() {
    let (url, requests) = serve(r#"{"ann": 3}"#, 1);
    smol::block_on(async {
        let scores: Scores = fetch!(wayfarer_smol, &url).json().await.expect("json");
        assert_eq!(scores["ann"], 3);
    });
    assert_sent_as_json(&requests.recv().expect("request"));
}

#[test]
fn a_value_that_is_not_json_fails_the_request() {
    // JSON object keys are strings: a map keyed by pairs cannot be written.
    let pairs = BTreeMap::from([((1, 2), 3)]);
    let error = Request::post("http://example.com/")
        .json(&pairs)
        .build()
        .expect_err("not JSON");
    assert_eq!(error.kind(), ErrorKind::InvalidInput, "{error}");
    // A Content-Type set by the caller stays.
    let request = Request::post("http://example.com/")
        .header("Content-Type", "application/vnd.api+json")
        .json(&[1, 2])
        .build()
        .expect("request");
    assert_eq!(
        request.header("content-type"),
        Some("application/vnd.api+json")
    );
}
