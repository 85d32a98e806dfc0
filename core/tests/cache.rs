//! The cache's pure decisions through the public API, with literal times: the decision table in
//! `cache_strategy.cases`, storability, the 304 merge, invalidation and the 504 for
//! `only-if-cached`.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use wayfarer_core::cache::{
    CacheStrategy, Entry, Freshness, Handshake, NetworkReason, UNSATISFIABLE_REASON,
    WARNING_HEURISTIC, WARNING_STALE, combine_headers, invalidated_urls, invalidates_cache,
    is_storable, key, unsatisfiable_response,
};
use wayfarer_core::{CacheControl, Headers, Method, Request, StatusCode, Url};

/// 2026-01-01T00:00:00Z, "Thu, 01 Jan 2026 00:00:00 GMT".
const T0: u64 = 1_767_225_600;

/// `secs` seconds after T0 (before it when negative).
fn t(secs: i64) -> SystemTime {
    let base = SystemTime::UNIX_EPOCH + Duration::from_secs(T0);
    if secs >= 0 {
        base + Duration::from_secs(secs.unsigned_abs())
    } else {
        base - Duration::from_secs(secs.unsigned_abs())
    }
}

fn headers(fields: &[(&str, &str)]) -> Headers {
    let mut h = Headers::new();
    for (n, v) in fields {
        h.append(n, v).unwrap();
    }
    h
}

fn handshake() -> Handshake {
    Handshake {
        tls_version: "TLSv1_3".into(),
        cipher_suite: "TLS13_AES_128_GCM_SHA256".into(),
        peer_certificates: vec![vec![0x30, 0x03, 0x02, 0x01, 0x01]],
    }
}

/// One case of `cache_strategy.cases`.
#[derive(Debug)]
struct Case {
    name: String,
    method: Method,
    url: String,
    request_headers: Vec<(String, String)>,
    entry: bool,
    entry_url: Option<String>,
    entry_status: u16,
    entry_handshake: bool,
    vary: Vec<(String, String)>,
    stored: Vec<(String, String)>,
    sent: i64,
    received: i64,
    now: i64,
    expect: String,
}

impl Case {
    fn new(name: &str) -> Case {
        Case {
            name: name.to_owned(),
            method: Method::GET,
            url: "http://h.test/a".into(),
            request_headers: Vec::new(),
            entry: true,
            entry_url: None,
            entry_status: 200,
            entry_handshake: true,
            vary: Vec::new(),
            stored: Vec::new(),
            sent: 0,
            received: 0,
            now: 0,
            expect: String::new(),
        }
    }
}

fn header_line(value: &str) -> (String, String) {
    let (name, value) = value
        .split_once(": ")
        .unwrap_or_else(|| panic!("not a header: {value:?}"));
    (name.to_owned(), value.to_owned())
}

fn parse_cases(text: &str) -> Vec<Case> {
    let mut cases: Vec<Case> = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(name) = line.strip_prefix("== ") {
            cases.push(Case::new(name));
            continue;
        }
        let case = cases
            .last_mut()
            .unwrap_or_else(|| panic!("line {}: outside a case", n + 1));
        let (key, value) = line
            .split_once(": ")
            .unwrap_or_else(|| panic!("line {}: {line:?}", n + 1));
        let seconds = || value.parse::<i64>().expect("seconds");
        match key {
            "request" => {
                let (method, url) = value.split_once(' ').expect("METHOD URL");
                case.method = Method::from_bytes(method.as_bytes()).expect("method");
                case.url = url.to_owned();
            }
            "request-header" => case.request_headers.push(header_line(value)),
            "entry" => {
                assert_eq!(value, "none");
                case.entry = false;
            }
            "entry-url" => case.entry_url = Some(value.to_owned()),
            "entry-status" => case.entry_status = value.parse().expect("status"),
            "entry-handshake" => {
                assert_eq!(value, "no");
                case.entry_handshake = false;
            }
            "vary" => case.vary.push(header_line(value)),
            "stored" => case.stored.push(header_line(value)),
            "sent" => case.sent = seconds(),
            "received" => case.received = seconds(),
            "now" => case.now = seconds(),
            "expect" => case.expect = value.to_owned(),
            other => panic!("line {}: unknown key {other:?}", n + 1),
        }
    }
    cases
}

fn to_headers(fields: &[(String, String)]) -> Headers {
    let mut h = Headers::new();
    for (n, v) in fields {
        h.append(n, v).unwrap();
    }
    h
}

fn network_reason(name: &str) -> NetworkReason {
    match name {
        "no-candidate" => NetworkReason::NoCandidate,
        "mismatch" => NetworkReason::Mismatch,
        "vary-mismatch" => NetworkReason::VaryMismatch,
        "missing-handshake" => NetworkReason::MissingHandshake,
        "not-storable" => NetworkReason::NotStorable,
        "request-no-cache" => NetworkReason::RequestNoCache,
        "request-conditions" => NetworkReason::RequestConditions,
        "no-validator" => NetworkReason::NoValidator,
        other => panic!("unknown network reason {other:?}"),
    }
}

/// Runs one case; returns a description of the mismatch, if any.
fn run(case: &Case) -> Result<(), String> {
    let mut request = Request::builder(case.method.clone(), case.url.as_str())
        .build()
        .map_err(|e| e.to_string())?;
    *request.headers_mut() = to_headers(&case.request_headers);
    let stored = to_headers(&case.stored);
    let entry = case.entry.then(|| {
        let mut url = Url::parse(case.entry_url.as_deref().unwrap_or(&case.url)).unwrap();
        url.set_fragment(None);
        let status = StatusCode::from_u16(case.entry_status).unwrap();
        let mut entry = Entry::new(url, status, stored.clone(), t(case.sent), t(case.received));
        entry.vary_headers = to_headers(&case.vary);
        if entry.is_https() && case.entry_handshake {
            entry.handshake = Some(handshake());
        }
        entry
    });
    let got = CacheStrategy::compute(t(case.now), &request, entry.as_ref());

    let words: Vec<&str> = case.expect.split(' ').collect();
    match (words[0], &got) {
        ("network", CacheStrategy::Network { reason }) => {
            let want = network_reason(words.get(1).copied().unwrap_or(""));
            if *reason == want {
                return Ok(());
            }
        }
        ("unsatisfiable", CacheStrategy::Unsatisfiable) => return Ok(()),
        ("conditional", CacheStrategy::Conditional { request_headers }) => {
            let (name, value) = header_line(&case.expect["conditional ".len()..]);
            let mut want = request.headers().clone();
            want.append(&name, &value).unwrap();
            if *request_headers == want {
                return Ok(());
            }
        }
        ("cache", CacheStrategy::Cache { headers }) => {
            let mut want = stored.clone();
            for word in &words[1..] {
                match word.split_once('=') {
                    Some(("age", age)) => want.set("Age", age).unwrap(),
                    Some(("warning", "110")) => want.append("Warning", WARNING_STALE).unwrap(),
                    Some(("warning", "113")) => want.append("Warning", WARNING_HEURISTIC).unwrap(),
                    _ => panic!("{}: bad expectation {word:?}", case.name),
                }
            }
            if *headers == want {
                return Ok(());
            }
            return Err(format!("expected cache with {want:?}, got {headers:?}"));
        }
        _ => {}
    }
    Err(format!("expected {}, got {got:?}", case.expect))
}

#[test]
fn decision_table() {
    let cases = parse_cases(include_str!("cache_strategy.cases"));
    assert!(cases.len() > 60, "only {} cases parsed", cases.len());
    let failures: Vec<String> = cases
        .iter()
        .filter_map(|case| run(case).err().map(|e| format!("{}: {e}", case.name)))
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

#[test]
fn force_network_and_force_cache_as_request_headers() {
    let mut stored = headers(&[("Cache-Control", "max-age=60"), ("ETag", "\"x\"")]);
    stored
        .append("Date", "Thu, 01 Jan 2026 00:00:00 GMT")
        .unwrap();
    let entry = Entry::new(
        Url::parse("http://h.test/a").unwrap(),
        StatusCode::OK,
        stored,
        t(0),
        t(0),
    );
    let mut request = Request::get("http://h.test/a").build().unwrap();
    CacheControl::FORCE_NETWORK
        .set_on(request.headers_mut())
        .unwrap();
    assert_eq!(
        CacheStrategy::compute(t(1), &request, Some(&entry)),
        CacheStrategy::Network {
            reason: NetworkReason::RequestNoCache
        }
    );
    CacheControl::FORCE_CACHE
        .set_on(request.headers_mut())
        .unwrap();
    let strategy = CacheStrategy::compute(t(86_400 * 365), &request, Some(&entry));
    assert!(
        !strategy.uses_network() && strategy.uses_cache(),
        "{strategy:?}"
    );
    assert_eq!(
        CacheStrategy::compute(t(1), &request, None),
        CacheStrategy::Unsatisfiable
    );
}

#[test]
fn the_unsatisfiable_response_is_a_504() {
    let request = Arc::new(
        Request::get("http://h.test/a")
            .header("Cache-Control", "only-if-cached")
            .build()
            .unwrap(),
    );
    let response = unsatisfiable_response(request, t(5));
    assert_eq!(response.status(), StatusCode::GATEWAY_TIMEOUT);
    assert_eq!(response.reason(), UNSATISFIABLE_REASON);
    assert_eq!(response.reason(), "Unsatisfiable Request (only-if-cached)");
    assert!(response.headers().is_empty());
    assert_eq!(response.received_at(), t(5));
    assert_eq!(response.request().url().as_str(), "http://h.test/a");
}

#[test]
fn freshness_notes_immutable_and_heuristics() {
    let entry = Entry::new(
        Url::parse("http://h.test/app.js").unwrap(),
        StatusCode::OK,
        headers(&[("Cache-Control", "max-age=31536000, immutable")]),
        t(-2),
        t(0),
    );
    let f = Freshness::of(&entry, t(100));
    assert_eq!(
        f,
        Freshness {
            age: Duration::from_secs(102),
            lifetime: Duration::from_secs(31_536_000),
            heuristic: false,
            immutable: true,
        }
    );
    assert!(f.is_fresh());
    let plain = Entry::new(
        Url::parse("http://h.test/a").unwrap(),
        StatusCode::OK,
        Headers::new(),
        t(0),
        t(0),
    );
    let f = Freshness::of(&plain, t(0));
    assert!(f.heuristic && !f.immutable && !f.is_fresh());
}

#[test]
fn storable_statuses_methods_and_directives() {
    let get = Method::GET;
    let none = Headers::new();
    let storable = |status: u16, response: &[(&str, &str)]| {
        is_storable(
            &get,
            &none,
            StatusCode::from_u16(status).unwrap(),
            &headers(response),
        )
    };
    for status in [200, 203, 204, 300, 301, 308, 404, 405, 410, 414, 501] {
        assert!(storable(status, &[]), "{status}");
    }
    for status in [
        100, 201, 202, 205, 206, 303, 304, 305, 400, 401, 403, 409, 500, 502, 503, 504,
    ] {
        assert!(
            !storable(status, &[("Cache-Control", "max-age=60")]),
            "{status}"
        );
    }
    for status in [302, 307] {
        assert!(!storable(status, &[]), "{status} without freshness");
        assert!(
            !storable(status, &[("Cache-Control", "s-maxage=60")]),
            "{status} s-maxage"
        );
        assert!(
            storable(status, &[("Cache-Control", "max-age=60")]),
            "{status}"
        );
        assert!(storable(status, &[("Cache-Control", "public")]), "{status}");
        assert!(
            storable(status, &[("Cache-Control", "private")]),
            "{status}"
        );
        assert!(
            storable(status, &[("Expires", "Thu, 01 Jan 2026 01:00:00 GMT")]),
            "{status}"
        );
    }
    // no-store on either side; Vary: *.
    assert!(!storable(200, &[("Cache-Control", "max-age=60, no-store")]));
    assert!(!storable(200, &[("Vary", "Accept, *")]));
    let no_store = headers(&[("Cache-Control", "no-store")]);
    assert!(!is_storable(&get, &no_store, StatusCode::OK, &none));
    // Only GET.
    for method in [Method::HEAD, Method::POST, Method::PUT, Method::OPTIONS] {
        assert!(
            !is_storable(&method, &none, StatusCode::OK, &none),
            "{method}"
        );
    }
}

#[test]
fn authorization_needs_public_must_revalidate_or_s_maxage() {
    let auth = headers(&[("Authorization", "Bearer t")]);
    let stored = |response: &[(&str, &str)]| {
        is_storable(&Method::GET, &auth, StatusCode::OK, &headers(response))
    };
    assert!(!stored(&[]));
    assert!(!stored(&[("Cache-Control", "max-age=60")]));
    assert!(!stored(&[("Cache-Control", "max-age=60, private")]));
    assert!(stored(&[("Cache-Control", "public")]));
    assert!(stored(&[("Cache-Control", "max-age=60, must-revalidate")]));
    assert!(stored(&[("Cache-Control", "s-maxage=60")]));
    assert!(!stored(&[("Cache-Control", "public, no-store")]));
}

#[test]
fn a_304_merges_headers_as_okhttp() {
    let stored = headers(&[
        ("Content-Type", "text/plain"),
        ("Content-Length", "12"),
        ("Content-Encoding", "gzip"),
        ("ETag", "\"v1\""),
        ("Cache-Control", "max-age=60"),
        ("Warning", "110 - \"Response is stale\""),
        ("Warning", "299 - \"Miscellaneous persistent warning\""),
        ("Connection", "keep-alive"),
        ("X-Kept", "a"),
    ]);
    let not_modified = headers(&[
        ("Content-Type", "application/json"),
        ("Content-Length", "0"),
        ("ETag", "\"v1\""),
        ("Cache-Control", "max-age=120"),
        ("Date", "Thu, 01 Jan 2026 00:05:00 GMT"),
        ("Connection", "close"),
        ("Transfer-Encoding", "chunked"),
    ]);
    assert_eq!(
        combine_headers(&stored, &not_modified),
        headers(&[
            ("Content-Type", "text/plain"),
            ("Content-Length", "12"),
            ("Content-Encoding", "gzip"),
            ("Warning", "299 - \"Miscellaneous persistent warning\""),
            ("Connection", "keep-alive"),
            ("X-Kept", "a"),
            ("ETag", "\"v1\""),
            ("Cache-Control", "max-age=120"),
            ("Date", "Thu, 01 Jan 2026 00:05:00 GMT"),
        ])
    );
    // A 304 with its own Warning replaces every stored one.
    let with_warning = headers(&[("warning", "199 - \"new\"")]);
    assert_eq!(
        combine_headers(&stored, &with_warning)
            .get_all("warning")
            .collect::<Vec<_>>(),
        [&b"199 - \"new\""[..]]
    );
}

#[test]
fn a_refreshed_entry_is_fresh_again_and_keeps_its_status() {
    let mut entry = Entry::new(
        Url::parse("https://h.test/a").unwrap(),
        StatusCode::NON_AUTHORITATIVE_INFORMATION,
        headers(&[
            ("Cache-Control", "max-age=60"),
            ("ETag", "\"v1\""),
            ("Vary", "Accept"),
        ]),
        t(0),
        t(0),
    );
    entry.handshake = Some(handshake());
    entry.vary_headers = headers(&[("Accept", "text/html")]);
    let network_request = headers(&[("Accept", "text/plain"), ("If-None-Match", "\"v1\"")]);
    let refreshed = entry.refreshed(
        &headers(&[("Cache-Control", "max-age=600")]),
        &network_request,
        t(1000),
        t(1001),
    );
    assert_eq!(refreshed.status, StatusCode::NON_AUTHORITATIVE_INFORMATION);
    assert_eq!(refreshed.handshake, entry.handshake);
    assert_eq!(refreshed.vary_headers, headers(&[("Accept", "text/plain")]));
    assert_eq!(
        (refreshed.sent_at, refreshed.received_at),
        (t(1000), t(1001))
    );
    let request = Request::get("https://h.test/a")
        .header("Accept", "text/plain")
        .build()
        .unwrap();
    assert!(matches!(
        CacheStrategy::compute(t(1500), &request, Some(&refreshed)),
        CacheStrategy::Cache { .. }
    ));
    assert_eq!(refreshed.key(), entry.key());
}

#[test]
fn unsafe_methods_invalidate_the_target_and_same_origin_locations() {
    let url = Url::parse("http://h.test/items/1?x=y#frag").unwrap();
    let urls = |method: Method, status: u16, response: &[(&str, &str)]| {
        invalidated_urls(
            &method,
            &url,
            StatusCode::from_u16(status).unwrap(),
            &headers(response),
        )
        .iter()
        .map(Url::to_string)
        .collect::<Vec<_>>()
    };
    assert_eq!(urls(Method::POST, 200, &[]), ["http://h.test/items/1?x=y"]);
    assert_eq!(
        urls(
            Method::PUT,
            201,
            &[
                ("Location", "/items/2#top"),
                ("Content-Location", "http://h.test/items/1/v2"),
            ]
        ),
        [
            "http://h.test/items/1?x=y",
            "http://h.test/items/2",
            "http://h.test/items/1/v2"
        ]
    );
    // Another origin (host, scheme or port) is never invalidated.
    assert_eq!(
        urls(
            Method::DELETE,
            204,
            &[
                ("Location", "http://other.test/items/2"),
                ("Content-Location", "https://h.test/items/1"),
            ]
        ),
        ["http://h.test/items/1?x=y"]
    );
    assert_eq!(
        urls(Method::PATCH, 303, &[("Location", "http://h.test:8080/x")]),
        ["http://h.test/items/1?x=y"]
    );
    // The same URL only once.
    assert_eq!(
        urls(Method::POST, 200, &[("Content-Location", "/items/1?x=y")]),
        ["http://h.test/items/1?x=y"]
    );
    // Errors invalidate nothing, nor do safe methods.
    assert!(urls(Method::POST, 404, &[]).is_empty());
    assert!(urls(Method::POST, 500, &[]).is_empty());
    assert!(urls(Method::GET, 200, &[("Location", "/x")]).is_empty());
    // Every method but the safe ones invalidates, known or not.
    let unsafe_methods = ["POST", "PUT", "PATCH", "DELETE", "MOVE", "COPY", "X-CUSTOM"];
    for m in unsafe_methods {
        assert!(
            invalidates_cache(&Method::from_bytes(m.as_bytes()).unwrap()),
            "{m}"
        );
    }
    for m in [Method::GET, Method::HEAD, Method::OPTIONS, Method::TRACE] {
        assert!(!invalidates_cache(&m), "{m}");
    }
    assert_eq!(
        key(&Url::parse(&urls(Method::POST, 200, &[])[0]).unwrap()),
        key(&url)
    );
}
