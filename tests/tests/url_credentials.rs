//! Credentials in a URL (`http://user:pass@host/`) go out as Basic authentication on every
//! runtime, as curl sends them, and nowhere else: not in the request line, not in `Host`, not in
//! an error message or an event.

use std::sync::{Arc, Mutex};

use wayfarer_core::{Config, Event, Request};
use wayfarer_tests::origin::{Origin, Reply};
use wayfarer_tests::run::Runtime;

/// `Basic base64("user:p@ss word")`: what curl sends for `http://user:p%40ss%20word@host/`.
const EXPECTED: &[u8] = b"Basic dXNlcjpwQHNzIHdvcmQ=";

fn header<'a>(headers: &'a [(String, Vec<u8>)], name: &str) -> Vec<&'a [u8]> {
    headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_slice())
        .collect()
}

/// A config whose listener keeps every event's text, to look for leaked secrets in.
fn recording() -> (Config, Arc<Mutex<Vec<String>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = seen.clone();
    let config = Config::builder()
        .event_listener(move |e: &Event| sink.lock().unwrap().push(format!("{e:?} {}", e.kind)))
        .build()
        .unwrap();
    (config, seen)
}

#[test]
fn url_credentials_are_sent_as_basic_authorization_on_every_runtime() {
    for runtime in Runtime::ALL {
        let origin = Origin::start();
        origin.enqueue(Reply::new("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"));
        let url = format!(
            "http://user:p%40ss%20word@{}/private?x=1",
            origin.authority()
        );
        let (config, events) = recording();
        let results = runtime.fetch_each(config, &[url], |_, _| {});
        assert_eq!(results[0].as_ref().ok(), Some(&200), "{runtime:?}");

        let request = origin.take_request();
        assert_eq!(request.line, "GET /private?x=1 HTTP/1.1", "{runtime:?}");
        assert_eq!(
            header(&request.headers, "authorization"),
            [EXPECTED],
            "{runtime:?}"
        );
        assert_eq!(
            header(&request.headers, "host"),
            [origin.authority().as_bytes()],
            "{runtime:?}"
        );
        let events = events.lock().unwrap();
        assert!(!events.is_empty(), "{runtime:?}");
        for text in events.iter() {
            // The request head event shows the header as sent; nothing shows the URL's userinfo.
            assert!(
                !text.contains("p@ss") && !text.contains("p%40ss") && !text.contains("user:"),
                "{runtime:?}: {text}"
            );
        }
    }
}

#[test]
fn the_callers_authorization_header_wins_on_the_wire() {
    let origin = Origin::start();
    origin.enqueue(Reply::new("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"));
    let url = format!("http://user:pass@{}/", origin.authority());
    let client = wayfarer_blocking::Client::new();
    let request = Request::get(url)
        .header("Authorization", "Bearer abc")
        .build()
        .unwrap();
    client.new_call(request).execute().unwrap();
    let request = origin.take_request();
    assert_eq!(
        header(&request.headers, "authorization"),
        [&b"Bearer abc"[..]]
    );
}

#[test]
fn errors_do_not_show_url_credentials() {
    for runtime in Runtime::ALL {
        // Nothing listens on port 9 of the loopback address: the connect is refused.
        let url = "http://user:hunter2@127.0.0.1:9/x?token=1".to_string();
        let (config, events) = recording();
        let results = runtime.fetch_each(config, &[url], |_, _| {});
        let error = results[0].as_ref().expect_err("nothing listens there");
        let text = format!("{error} {error:?}");
        assert!(text.contains("http://127.0.0.1:9/x"), "{runtime:?}: {text}");
        assert!(
            !text.contains("hunter2") && !text.contains("user"),
            "{runtime:?}: {text}"
        );
        for text in events.lock().unwrap().iter() {
            assert!(!text.contains("hunter2"), "{runtime:?}: {text}");
        }
    }
}
