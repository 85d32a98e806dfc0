//! A client's default headers (`ClientBuilder::default_header`) on the wire: sent with every
//! request of every runtime, follow-ups included, giving way to the caller's own fields, and
//! never carrying a default `Authorization` to another origin.

use wayfarer_core::{Config, Request};
use wayfarer_tests::origin::{Origin, Reply};
use wayfarer_tests::run::Runtime;

fn values<'a>(headers: &'a [(String, Vec<u8>)], name: &str) -> Vec<&'a [u8]> {
    headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_slice())
        .collect()
}

fn names(headers: &[(String, Vec<u8>)]) -> Vec<&str> {
    headers.iter().map(|(n, _)| n.as_str()).collect()
}

#[test]
fn defaults_go_with_every_hop_but_authorization_stays_with_its_origin() {
    for runtime in Runtime::ALL {
        let first = Origin::start();
        let second = Origin::start();
        first.enqueue(Reply::new(
            "HTTP/1.1 302 Found\r\nLocation: /same\r\nContent-Length: 0\r\n\r\n",
        ));
        first.enqueue(Reply::new(format!(
            "HTTP/1.1 302 Found\r\nLocation: {}\r\nContent-Length: 0\r\n\r\n",
            second.url("/other")
        )));
        second.enqueue(Reply::new("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"));
        let config = Config::builder()
            .default_header("Authorization", "Bearer default-token")
            .default_header("X-Api-Key", "k1")
            .build()
            .unwrap();
        let results = runtime.fetch_each(config, &[first.url("/start")], |_, _| {});
        assert_eq!(results[0].as_ref().ok(), Some(&200), "{runtime:?}");

        for path in ["/start", "/same"] {
            let request = first.take_request();
            assert_eq!(request.line, format!("GET {path} HTTP/1.1"), "{runtime:?}");
            assert_eq!(
                values(&request.headers, "authorization"),
                [&b"Bearer default-token"[..]],
                "{runtime:?} {path}"
            );
            assert_eq!(
                values(&request.headers, "x-api-key"),
                [&b"k1"[..]],
                "{runtime:?}"
            );
        }
        let request = second.take_request();
        assert_eq!(request.line, "GET /other HTTP/1.1", "{runtime:?}");
        assert!(
            values(&request.headers, "authorization").is_empty(),
            "{runtime:?}: a default credential followed a redirect to another origin"
        );
        assert_eq!(
            values(&request.headers, "x-api-key"),
            [&b"k1"[..]],
            "{runtime:?}"
        );
    }
}

#[test]
fn the_callers_fields_win_and_the_bridge_fields_come_after_the_defaults() {
    let origin = Origin::start();
    for _ in 0..2 {
        origin.enqueue(Reply::new("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"));
    }
    let client = wayfarer_blocking::Client::builder()
        .user_agent("configured/1")
        .default_header("Accept", "application/json")
        .default_header("X-Trace", "a")
        .default_header("X-Trace", "b")
        .build()
        .unwrap();
    let request = Request::get(origin.url("/"))
        .header("Accept", "text/html")
        .build()
        .unwrap();
    client.new_call(request).execute().unwrap();
    let sent = origin.take_request();
    assert_eq!(values(&sent.headers, "accept"), [&b"text/html"[..]]);
    assert_eq!(values(&sent.headers, "x-trace"), [&b"a"[..], &b"b"[..]]);
    assert_eq!(
        names(&sent.headers),
        [
            "Host",
            "Accept",
            "X-Trace",
            "X-Trace",
            "Connection",
            "Accept-Encoding",
            "User-Agent"
        ]
    );
    assert_eq!(values(&sent.headers, "user-agent"), [&b"configured/1"[..]]);

    // A default User-Agent or Accept-Encoding is the caller's as far as the bridge is
    // concerned: it replaces the configured agent and the transparent gzip.
    let client = client
        .new_builder()
        .default_header("User-Agent", "default/2")
        .default_header("Accept-Encoding", "identity")
        .build()
        .unwrap();
    let request = Request::get(origin.url("/")).build().unwrap();
    client.new_call(request).execute().unwrap();
    let sent = origin.take_request();
    assert_eq!(values(&sent.headers, "user-agent"), [&b"default/2"[..]]);
    assert_eq!(values(&sent.headers, "accept-encoding"), [&b"identity"[..]]);
    assert_eq!(values(&sent.headers, "accept"), [&b"application/json"[..]]);
}
