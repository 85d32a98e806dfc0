//! Tests of [`Request`](super::Request) and its builder.

use super::*;
use crate::ErrorKind;

#[test]
fn websocket_schemes_become_http() {
    let r = Request::get("ws://h.test:8080/a?b").build().unwrap();
    assert_eq!(r.url().as_str(), "http://h.test:8080/a?b");
    let r = Request::get("wss://h.test/").build().unwrap();
    assert_eq!(r.url().as_str(), "https://h.test/");
}

#[test]
fn other_schemes_and_bad_urls_are_refused() {
    // Twice each: the second build may be answered from the thread's last URL, never for a
    // URL that failed its check.
    for bad in ["ftp://h/", "file:///etc/passwd", "not a url", "http://"] {
        for _ in 0..2 {
            let e = Request::get(bad).build().unwrap_err();
            assert_eq!(e.kind(), ErrorKind::InvalidInput, "{bad}");
        }
    }
}

#[test]
fn a_url_built_again_from_the_same_text_is_checked_and_rewritten_alike() {
    for _ in 0..3 {
        let r = Request::get("ws://h.test/a^b").build().unwrap();
        assert_eq!(r.url().as_str(), "http://h.test/a%5Eb");
    }
}

#[test]
fn caret_and_bar_are_encoded_in_the_path_only() {
    let r = Request::get("http://h.test/a|b^c/%7C?q=1|2^3")
        .build()
        .unwrap();
    assert_eq!(r.url().as_str(), "http://h.test/a%7Cb%5Ec/%7C?q=1|2^3");
    // Set later, the URL gets the same treatment; a path without them is left as it is.
    let mut r = Request::get("http://h.test/plain").build().unwrap();
    assert_eq!(r.url().path(), "/plain");
    r.set_url("http://h.test/x^y").unwrap();
    assert_eq!(r.url().path(), "/x%5Ey");
}

#[test]
fn builder_keeps_the_first_error() {
    let e = Request::get("http://h/")
        .header("Bad Name", "v")
        .header("X", "ok")
        .build()
        .unwrap_err();
    assert!(e.to_string().contains("invalid header name"), "{e}");
}

#[test]
fn url_credentials_become_an_authorization_header() {
    let r = Request::get("http://u%C3%A9:p%3Aw@h.test:81/x?q")
        .build()
        .unwrap();
    assert_eq!(r.url().as_str(), "http://h.test:81/x?q");
    assert_eq!(r.url().username(), "");
    assert_eq!(r.url().password(), None);
    // "ué:p:w" in UTF-8.
    assert_eq!(r.header("authorization"), Some("Basic dcOpOnA6dw=="));
    assert_eq!(r.redacted_url(), "http://h.test:81/x");
    // Without a builder too.
    let r = Request::new(Method::GET, "http://a:b@h.test/").unwrap();
    assert_eq!(r.header("authorization"), Some("Basic YTpi"));
}

#[test]
fn the_callers_authorization_wins_over_url_credentials() {
    for name in ["Authorization", "authorization"] {
        let r = Request::get("http://a:b@h.test/")
            .header("X-A", "1")
            .header(name, "Bearer t")
            .header("X-B", "2")
            .build()
            .unwrap();
        let values: Vec<&[u8]> = r.headers().get_all("authorization").collect();
        assert_eq!(values, [&b"Bearer t"[..]]);
        assert_eq!(r.header("x-a"), Some("1"));
        assert_eq!(r.url().as_str(), "http://h.test/");
    }
    // A second caller header is appended to the first, as any repeated header.
    let r = Request::get("http://a:b@h.test/")
        .header("Authorization", "one")
        .header("Authorization", "two")
        .build()
        .unwrap();
    assert_eq!(r.headers().get_all("authorization").count(), 2);
    // A request without URL credentials keeps whatever the caller sends.
    let r = Request::get("http://h.test/")
        .header("Authorization", "Bearer t")
        .build()
        .unwrap();
    assert_eq!(r.header("authorization"), Some("Bearer t"));
}

#[test]
fn url_credentials_never_show_in_debug_output() {
    let r = Request::get("http://user:hunter2@h.test/").build().unwrap();
    let shown = format!("{r:?}");
    assert!(!shown.contains("hunter2"), "{shown}");
    assert!(!shown.contains("dXNlcjpodW50ZXIy"), "{shown}");
    assert!(shown.contains("██"), "{shown}");
}

#[test]
fn url_credentials_survive_the_http_crate_conversion() {
    let req = http::Request::get("http://u:p@h.test/x")
        .header("A", "1")
        .body(())
        .unwrap();
    let ours = Request::try_from(req.map(|()| Body::empty())).unwrap();
    assert_eq!(ours.header("authorization"), Some("Basic dTpw"));
    assert_eq!(ours.header("a"), Some("1"));
    assert_eq!(ours.url().as_str(), "http://h.test/x");
    let req = http::Request::get("http://u:p@h.test/x")
        .header("Authorization", "Bearer t")
        .body(Body::empty())
        .unwrap();
    let ours = Request::try_from(req).unwrap();
    assert_eq!(ours.headers().get_all("authorization").count(), 1);
    assert_eq!(ours.header("authorization"), Some("Bearer t"));
}

#[test]
fn query_pairs_are_appended_encoded() {
    let r = Request::get("http://h.test/p?a=1#frag")
        .query([("b c", "d&e=f"), ("é", "")])
        .build()
        .unwrap();
    assert_eq!(
        r.url().as_str(),
        "http://h.test/p?a=1&b+c=d%26e%3Df&%C3%A9=#frag"
    );
    let pairs: Vec<(String, String)> = r.url().query_pairs().into_owned().collect();
    assert_eq!(pairs[1], ("b c".to_owned(), "d&e=f".to_owned()));
    let none: [(&str, &str); 0] = [];
    let r = Request::get("http://h.test/p").query(none).build().unwrap();
    assert_eq!(r.url().as_str(), "http://h.test/p");
    // A builder that already failed stays failed.
    assert!(
        Request::get("ftp://h/")
            .query([("a", "b")])
            .build()
            .is_err()
    );
}

#[test]
fn auth_helpers_replace_any_authorization() {
    let r = Request::get("http://u:p@h.test/")
        .header("Authorization", "Bearer old")
        .basic_auth("user", "pass")
        .build()
        .unwrap();
    let values: Vec<&[u8]> = r.headers().get_all("authorization").collect();
    assert_eq!(values, [&b"Basic dXNlcjpwYXNz"[..]]);
    let r = Request::get("http://u:p@h.test/")
        .bearer_auth("tok")
        .header("Authorization", "second")
        .build()
        .unwrap();
    // After an explicit helper, a caller's header adds to it as any repeated field does.
    assert_eq!(r.headers().get_all("authorization").count(), 2);
    assert_eq!(r.header("authorization"), Some("Bearer tok"));
    let e = Request::get("http://h.test/")
        .bearer_auth("a\r\nX-Injected: 1")
        .build()
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
}

#[test]
fn set_url_checks_the_url_and_moves_url_credentials_with_it() {
    let mut r = Request::get("http://a:b@h.test/x").build().unwrap();
    // Same origin: the credentials made from the first URL stay.
    r.set_url("http://h.test:80/y").unwrap();
    assert_eq!(r.header("authorization"), Some("Basic YTpi"));
    // New credentials in the URL replace them, and leave the URL.
    r.set_url("http://c:d@h.test/z").unwrap();
    assert_eq!(r.url().as_str(), "http://h.test/z");
    assert_eq!(r.headers().get_all("authorization").count(), 1);
    assert_eq!(r.header("authorization"), Some("Basic Yzpk"));
    // A bad URL changes nothing.
    for bad in ["file:///etc/passwd", "http://", "not a url"] {
        let e = r.set_url(bad).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput);
        assert_eq!(r.url().as_str(), "http://h.test/z");
        assert_eq!(r.header("authorization"), Some("Basic Yzpk"));
    }
    // Another origin (the port differs): credentials from a URL stay behind.
    r.set_url("http://h.test:8080/z").unwrap();
    assert_eq!(r.header("authorization"), None);
    // The scheme too; WebSocket schemes are rewritten as in a new request.
    let mut r = Request::get("http://a:b@h.test/").build().unwrap();
    r.set_url("wss://h.test/").unwrap();
    assert_eq!(r.url().scheme(), "https");
    assert_eq!(r.header("authorization"), None);
    // The caller's own Authorization is never touched, nor replaced by URL credentials.
    let mut r = Request::get("http://h.test/")
        .header("Authorization", "Bearer t")
        .build()
        .unwrap();
    r.set_url("http://u:p@other.test/").unwrap();
    let values: Vec<&[u8]> = r.headers().get_all("authorization").collect();
    assert_eq!(values, [&b"Bearer t"[..]]);
    assert_eq!(r.url().as_str(), "http://other.test/");
}

#[test]
fn converts_with_the_http_crate() {
    let req = http::Request::post("http://h.test/x")
        .header("A", "1")
        .body("hi")
        .unwrap();
    let ours = Request::try_from(req).unwrap();
    assert_eq!(ours.method(), Method::POST);
    assert_eq!(ours.header("a"), Some("1"));
    assert_eq!(ours.body().as_bytes(), Some(&b"hi"[..]));
    let back: http::Request<Body> = ours.into();
    assert_eq!(back.uri(), "http://h.test/x");
    assert_eq!(back.headers()["a"], "1");
}

#[test]
fn a_request_timeout_replaces_the_clients_call_timeout() {
    let secs = std::time::Duration::from_secs;
    let plain = Request::get("http://h.test/").build().unwrap();
    assert_eq!(plain.timeout(), None);
    assert_eq!(plain.call_timeout(Some(secs(10))), Some(secs(10)));
    assert_eq!(plain.call_timeout(None), None);
    let mut own = Request::get("http://h.test/")
        .timeout(secs(2))
        .build()
        .unwrap();
    assert_eq!(own.call_timeout(Some(secs(10))), Some(secs(2)), "shorter");
    assert_eq!(own.call_timeout(Some(secs(1))), Some(secs(2)), "longer");
    assert_eq!(own.call_timeout(None), Some(secs(2)));
    assert_eq!(own.try_clone().unwrap().timeout(), Some(secs(2)));
    own.set_timeout(Some(std::time::Duration::ZERO));
    assert_eq!(
        own.call_timeout(Some(secs(10))),
        None,
        "zero lifts the limit"
    );
    own.set_timeout(None);
    assert_eq!(own.call_timeout(Some(secs(10))), Some(secs(10)));
}

#[test]
fn form_and_json_bodies_carry_their_media_type_unless_the_caller_set_one() {
    let fields = [("a b", "1/2"), ("é", "")];
    let r = Request::post("http://h.test/")
        .form(fields)
        .build()
        .unwrap();
    assert_eq!(r.body().as_bytes(), Some(&b"a+b=1%2F2&%C3%A9="[..]));
    assert_eq!(
        r.body().content_type(),
        Some("application/x-www-form-urlencoded")
    );
    let r = Request::post("http://h.test/")
        .json(&["x", "y"])
        .build()
        .unwrap();
    assert_eq!(r.body().as_bytes(), Some(&br#"["x","y"]"#[..]));
    assert_eq!(r.body().content_type(), Some("application/json"));
    // A Content-Type the caller set stays (the bridge sends the body's only without one).
    let r = Request::post("http://h.test/")
        .header("Content-Type", "text/plain")
        .form([("a", "1")])
        .build()
        .unwrap();
    assert_eq!(r.header("content-type"), Some("text/plain"));
}
