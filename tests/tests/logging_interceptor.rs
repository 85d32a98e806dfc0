//! The logging interceptor of `examples/logging_interceptor.rs`, against the queue-mode origin:
//! what each level logs, that credentials never reach the log, and that logging changes nothing
//! the caller or the origin sees.

use std::sync::{Arc, Mutex};

use wayfarer_blocking::{Client, Request, RequestBody};
use wayfarer_tests::origin::{Origin, Reply};

// The example's `main` is unused here.
#[allow(dead_code)]
#[path = "../examples/logging_interceptor.rs"]
mod logging_interceptor;

use logging_interceptor::{HttpLogging, Level};

/// Collects the lines a logger writes, with the durations (`(12ms`) made `(Nms` so lines can be
/// compared exactly.
#[derive(Clone, Default)]
struct Lines(Arc<Mutex<Vec<String>>>);

impl Lines {
    fn logger(&self, level: Level) -> HttpLogging {
        let lines = self.0.clone();
        HttpLogging::new(level).sink(move |line| {
            lines.lock().expect("lock").push(without_duration(line));
        })
    }

    fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.0.lock().expect("lock"))
    }
}

fn without_duration(line: &str) -> String {
    let Some(open) = line.rfind(" (") else {
        return line.to_owned();
    };
    let rest = &line[open + 2..];
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    if digits > 0 && rest[digits..].starts_with("ms") {
        format!("{} (N{}", &line[..open], &rest[digits..])
    } else {
        line.to_owned()
    }
}

const SECRET_REPLY: &str = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nSet-Cookie: session=s3cr3t\r\nContent-Length: 5\r\n\r\nhello";

/// Posts a body with credentials to a fresh origin through a client logging at `level` as an
/// application interceptor; returns the lines, after checking the call itself was untouched.
fn post_with_credentials(level: Level) -> (Vec<String>, String) {
    let origin = Origin::start();
    origin.enqueue(Reply::new(SECRET_REPLY));
    let lines = Lines::default();
    let client = Client::builder()
        .interceptor(lines.logger(level).into_interceptor())
        .build()
        .expect("client");
    let request = Request::post(origin.url("/form?token=abc"))
        .header("Authorization", "Bearer t0ken")
        .header("Cookie", "id=c00kie")
        .header("Proxy-Authorization", "Basic cHJveHk=")
        .header("X-Plain", "visible")
        .body(
            RequestBody::from("a=1")
                .with_content_type("text/plain")
                .expect("type"),
        )
        .build()
        .expect("request");
    let response = client.new_call(request).execute().expect("call");
    assert_eq!(response.header("set-cookie"), Some("session=s3cr3t"));
    assert_eq!(response.text().expect("body"), "hello");
    let sent = origin.take_request();
    assert_eq!(sent.body, b"a=1");
    assert!(
        sent.headers
            .iter()
            .any(|(n, v)| n.eq_ignore_ascii_case("authorization") && v == b"Bearer t0ken"),
        "the origin still gets the credentials"
    );
    let url = format!("http://{}/form", origin.authority());
    (lines.take(), url)
}

fn assert_no_secrets(lines: &[String]) {
    for secret in ["t0ken", "c00kie", "cHJveHk=", "s3cr3t", "token=abc"] {
        assert!(
            lines.iter().all(|l| !l.contains(secret)),
            "{secret} leaked into {lines:#?}"
        );
    }
}

#[test]
fn level_none_logs_nothing() {
    let (lines, _) = post_with_credentials(Level::None);
    assert_eq!(lines, Vec::<String>::new());
}

#[test]
fn level_basic_logs_one_line_each_way() {
    let (lines, url) = post_with_credentials(Level::Basic);
    assert_eq!(
        lines,
        [
            format!("--> POST {url} (3-byte body)"),
            format!("<-- 200 OK {url} (Nms, 5-byte body)"),
        ]
    );
}

#[test]
fn level_headers_logs_fields_with_credentials_redacted() {
    let (lines, url) = post_with_credentials(Level::Headers);
    assert_eq!(
        lines,
        [
            format!("--> POST {url}"),
            "Authorization: ██".to_owned(),
            "Cookie: ██".to_owned(),
            "Proxy-Authorization: ██".to_owned(),
            "X-Plain: visible".to_owned(),
            "--> END POST".to_owned(),
            format!("<-- 200 OK {url} (Nms)"),
            "Content-Type: text/plain".to_owned(),
            "Set-Cookie: ██".to_owned(),
            "Content-Length: 5".to_owned(),
            "<-- END HTTP".to_owned(),
        ]
    );
    assert_no_secrets(&lines);
}

#[test]
fn level_body_logs_bodies_and_still_delivers_them() {
    let (lines, url) = post_with_credentials(Level::Body);
    assert_eq!(
        lines,
        [
            format!("--> POST {url}"),
            "Authorization: ██".to_owned(),
            "Cookie: ██".to_owned(),
            "Proxy-Authorization: ██".to_owned(),
            "X-Plain: visible".to_owned(),
            String::new(),
            "a=1".to_owned(),
            "--> END POST (3-byte body)".to_owned(),
            format!("<-- 200 OK {url} (Nms)"),
            "Content-Type: text/plain".to_owned(),
            "Set-Cookie: ██".to_owned(),
            "Content-Length: 5".to_owned(),
            String::new(),
            "hello".to_owned(),
            "<-- END HTTP (5-byte body)".to_owned(),
        ]
    );
    assert_no_secrets(&lines);
}

#[test]
fn binary_and_streamed_bodies_are_logged_by_size_only() {
    let origin = Origin::start();
    let mut reply = b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n".to_vec();
    reply.extend_from_slice(&[0, 1, 0xff]);
    origin.enqueue(Reply::new(reply));
    origin.enqueue(Reply::new("HTTP/1.1 204 No Content\r\n\r\n"));
    let lines = Lines::default();
    let client = Client::builder()
        .interceptor(lines.logger(Level::Body).into_interceptor())
        .build()
        .expect("client");
    let binary = Request::post(origin.url("/bin"))
        .body(vec![0u8, 0x80])
        .build()
        .expect("request");
    let response = client.new_call(binary).execute().expect("call");
    assert_eq!(&response.bytes().expect("body")[..], &[0, 1, 0xff]);
    let streamed = Request::post(origin.url("/stream"))
        .body(RequestBody::from_reader(
            std::io::Cursor::new(b"abc".to_vec()),
            None,
        ))
        .build()
        .expect("request");
    client.new_call(streamed).execute().expect("call");
    let lines = lines.take();
    assert!(
        lines.contains(&"--> END POST (binary 2-byte body omitted)".to_owned()),
        "{lines:#?}"
    );
    assert!(
        lines.contains(&"<-- END HTTP (binary 3-byte body omitted)".to_owned()),
        "{lines:#?}"
    );
    assert!(
        lines.contains(&"--> END POST (streamed body omitted)".to_owned()),
        "{lines:#?}"
    );
    assert!(
        lines.contains(&"<-- END HTTP (0-byte body)".to_owned()),
        "{lines:#?}"
    );
    assert_eq!(origin.take_request().body, [0, 0x80]);
    assert_eq!(origin.take_request().body, b"abc");
}

#[test]
fn as_a_network_interceptor_it_logs_the_wire_and_every_hop() {
    let origin = Origin::start();
    origin.enqueue(Reply::new(
        "HTTP/1.1 302 Found\r\nLocation: /b\r\nContent-Length: 0\r\n\r\n",
    ));
    origin.enqueue(Reply::new("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nb"));
    let lines = Lines::default();
    let client = Client::builder()
        .user_agent("logging-test/1")
        .network_interceptor(
            lines
                .logger(Level::Headers)
                .redact_header("X-Api-Key")
                .into_interceptor(),
        )
        .build()
        .expect("client");
    let request = Request::get(origin.url("/a"))
        .header("X-Api-Key", "k3y")
        .build()
        .expect("request");
    let response = client.new_call(request).execute().expect("call");
    assert_eq!(response.text().expect("body"), "b");
    let authority = origin.authority();
    let hop = |path: &str| {
        vec![
            format!("--> GET http://{authority}{path}"),
            format!("Host: {authority}"),
            "X-Api-Key: ██".to_owned(),
            "Connection: Keep-Alive".to_owned(),
            "Accept-Encoding: gzip".to_owned(),
            "User-Agent: logging-test/1".to_owned(),
            "--> END GET".to_owned(),
        ]
    };
    let mut expected = hop("/a");
    expected.extend([
        format!("<-- 302 Found http://{authority}/a (Nms)"),
        "Location: /b".to_owned(),
        "Content-Length: 0".to_owned(),
        "<-- END HTTP".to_owned(),
    ]);
    expected.extend(hop("/b"));
    expected.extend([
        format!("<-- 200 OK http://{authority}/b (Nms)"),
        "Content-Length: 1".to_owned(),
        "<-- END HTTP".to_owned(),
    ]);
    assert_eq!(lines.take(), expected);
}

#[test]
fn a_failed_call_is_logged() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}/gone", listener.local_addr().expect("addr"));
    drop(listener);
    let lines = Lines::default();
    let client = Client::builder()
        .interceptor(lines.logger(Level::Basic).into_interceptor())
        .build()
        .expect("client");
    let error = client
        .new_call(Request::get(&url).build().expect("request"))
        .execute()
        .expect_err("nothing listens");
    let lines = lines.take();
    assert_eq!(lines.len(), 2, "{lines:#?}");
    assert_eq!(lines[0], format!("--> GET {url}"));
    // The call's error also names the request; the interceptor logs the failure it was given.
    let logged = lines[1]
        .strip_prefix("<-- HTTP FAILED: ")
        .unwrap_or_else(|| panic!("{lines:#?}"));
    assert!(logged.contains("failed to connect"), "{logged}");
    assert!(error.to_string().starts_with(logged), "{error} / {logged}");
}

#[test]
fn levels_parse_from_their_names() {
    for (name, level) in [
        ("none", Level::None),
        ("basic", Level::Basic),
        ("headers", Level::Headers),
        ("body", Level::Body),
    ] {
        assert_eq!(name.parse::<Level>(), Ok(level));
    }
    assert!("loud".parse::<Level>().is_err());
}

#[test]
fn durations_are_normalised_only_where_they_are() {
    assert_eq!(
        without_duration("<-- 200 OK u (12ms, 5-byte body)"),
        "<-- 200 OK u (Nms, 5-byte body)"
    );
    assert_eq!(without_duration("<-- 200 OK u (0ms)"), "<-- 200 OK u (Nms)");
    assert_eq!(
        without_duration("--> POST u (3-byte body)"),
        "--> POST u (3-byte body)"
    );
}
