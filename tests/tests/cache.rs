//! The HTTP cache end to end, through every runtime, against the queue-mode origin counting the
//! requests it receives; plus what vectors cannot express: concurrent calls writing one entry,
//! a disk cache reopened after a run, events, network interceptors seeing conditional
//! headers, and the cache handle's management API.
//!
//! The decision table itself (freshness, validators, Vary, invalidation...) is in
//! `tests/vectors/cache/`, replayed on the core and every runtime.

use std::io::Read;
use std::sync::{Arc, Mutex};
use std::thread;

use wayfarer_core::{
    Cache, CacheControl, Certificate, Config, ErrorKind, Event, EventKind, Handshake, Request,
    Response,
};
use wayfarer_tests::certs::{Leaf, TestPki};
use wayfarer_tests::origin::{Origin, Reply};
use wayfarer_tests::run::Runtime;
use wayfarer_tests::vector::RecordedRequest;

const FRESH: &str = "HTTP/1.1 200 OK\r\nCache-Control: max-age=600\r\nContent-Type: text/plain\r\nContent-Length: 12\r\n\r\nhello, world";

/// Stale (two minutes old, fresh for one), with an ETag to revalidate it.
fn stale_with_etag(body: &str) -> String {
    let date =
        httpdate::fmt_http_date(std::time::SystemTime::now() - std::time::Duration::from_secs(120));
    format!(
        "HTTP/1.1 200 OK\r\nDate: {date}\r\nCache-Control: max-age=60\r\nETag: \"v1\"\r\nX-Version: 1\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
}

const NOT_MODIFIED: &str =
    "HTTP/1.1 304 Not Modified\r\nCache-Control: max-age=600\r\nX-Version: 2\r\n\r\n";

/// A request header as the origin read it.
fn header<'a>(request: &'a RecordedRequest, name: &str) -> Option<&'a [u8]> {
    request
        .headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_slice())
}

/// One response as a caller saw it.
#[derive(Debug)]
struct Got {
    status: u16,
    headers: wayfarer_core::Headers,
    body: Vec<u8>,
    /// The status of the cache response and of the network response, if any.
    cache: Option<u16>,
    network: Option<u16>,
    /// The TLS handshake the response reports.
    handshake: Option<Handshake>,
}

impl Got {
    fn of<B>(response: &Response<B>, body: Vec<u8>) -> Got {
        Got {
            status: response.status().as_u16(),
            headers: response.headers().clone(),
            body,
            cache: response.cache_response().map(|r| r.status().as_u16()),
            network: response.network_response().map(|r| r.status().as_u16()),
            handshake: response.handshake().cloned(),
        }
    }
}

/// A disk cache in a fresh directory, opened with `runtime`'s own `Cache` type.
fn disk_cache(runtime: Runtime, dir: &std::path::Path) -> Cache {
    let path = dir.join("http-cache");
    let max = 10 << 20;
    match runtime {
        Runtime::Blocking => wayfarer_blocking::Cache::new(path, max).map(Cache::from),
        Runtime::Tokio => wayfarer_tokio::Cache::new(path, max).map(Cache::from),
        Runtime::Smol => wayfarer_smol::Cache::new(path, max).map(Cache::from),
    }
    .expect("open the disk cache")
}

/// GETs each URL in turn on one client of `runtime` built from `config`, reading every body to
/// its end.
fn get_each(runtime: Runtime, config: Config, urls: &[String]) -> Vec<Got> {
    match runtime {
        Runtime::Blocking => {
            let client = wayfarer_blocking::Client::from(config);
            urls.iter()
                .map(|url| {
                    let mut response = client
                        .new_call(Request::get(url).build().unwrap())
                        .execute()
                        .expect("the call succeeds");
                    let mut body = Vec::new();
                    response.body_mut().read_to_end(&mut body).unwrap();
                    Got::of(&response, body)
                })
                .collect()
        }
        Runtime::Tokio => tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(get_each_async(wayfarer_tokio::Client::from(config), urls)),
        Runtime::Smol => smol::block_on(get_each_async(wayfarer_smol::Client::from(config), urls)),
    }
}

async fn get_each_async<N: wayfarer_async::Net>(
    client: wayfarer_async::Client<N>,
    urls: &[String],
) -> Vec<Got> {
    let mut out = Vec::new();
    for url in urls {
        let mut response = client
            .new_call(Request::get(url).build().unwrap())
            .execute()
            .await
            .expect("the call succeeds");
        let mut body = Vec::new();
        while let Some(chunk) = response.body_mut().chunk().await.unwrap() {
            body.extend_from_slice(&chunk);
        }
        out.push(Got::of(&response, body));
    }
    out
}

// ------------------------------------------------------------------ hits, through every runtime

fn fresh_hit(runtime: Runtime) {
    let dir = tempfile::tempdir().unwrap();
    let cache = disk_cache(runtime, dir.path());
    let origin = Origin::start();
    origin.enqueue(Reply::new(FRESH));
    let config = Config::builder().cache(&cache).build().unwrap();
    let url = origin.url("/fresh");
    let got = get_each(runtime, config, &[url.clone(), url]);

    assert_eq!(
        origin.request_count(),
        1,
        "the second call stays off the network"
    );
    for g in &got {
        assert_eq!((g.status, g.body.as_slice()), (200, &b"hello, world"[..]));
    }
    assert_eq!((got[0].cache, got[0].network), (None, Some(200)));
    assert_eq!((got[1].cache, got[1].network), (Some(200), None));
    assert_eq!(got[1].headers.get("content-type"), Some("text/plain"));
    assert_eq!(
        (
            cache.request_count(),
            cache.network_count(),
            cache.hit_count()
        ),
        (2, 1, 1)
    );
    assert_eq!(
        cache
            .urls()
            .unwrap()
            .map(|u| u.to_string())
            .collect::<Vec<_>>(),
        [origin.url("/fresh")]
    );
}

/// An HTTPS response is stored with its handshake and served with it: the hit reports the TLS
/// version, cipher suite and server certificates of the connection that fetched it.
fn https_hit_keeps_the_handshake(runtime: Runtime) {
    let pki = TestPki::generate();
    let origin = Origin::builder()
        .tls(pki.server_config(Leaf::Valid))
        .start();
    origin.enqueue(Reply::new(FRESH));
    let cache = Cache::in_memory(1 << 20);
    let config = Config::builder()
        .tls_built_in_roots(false)
        .add_root_certificate(Certificate::from_der(pki.ca_der().to_vec()))
        .cache(&cache)
        .build()
        .unwrap();
    let url = format!("https://localhost:{}/secure", origin.addr().port());
    let got = get_each(runtime, config, &[url.clone(), url]);

    assert_eq!(origin.request_count(), 1, "the second call is a hit");
    assert_eq!((got[1].cache, got[1].network), (Some(200), None));
    assert_eq!(got[1].body, b"hello, world");
    let network = got[0]
        .handshake
        .as_ref()
        .expect("the network response's handshake");
    assert!(!network.peer_certificates().is_empty());
    assert_eq!(got[1].handshake.as_ref(), Some(network), "{runtime:?}");
}

#[test]
fn https_hit_keeps_the_handshake_blocking() {
    https_hit_keeps_the_handshake(Runtime::Blocking);
}

#[test]
fn https_hit_keeps_the_handshake_tokio() {
    https_hit_keeps_the_handshake(Runtime::Tokio);
}

#[test]
fn https_hit_keeps_the_handshake_smol() {
    https_hit_keeps_the_handshake(Runtime::Smol);
}

#[test]
fn fresh_hit_blocking() {
    fresh_hit(Runtime::Blocking);
}

#[test]
fn fresh_hit_tokio() {
    fresh_hit(Runtime::Tokio);
}

#[test]
fn fresh_hit_smol() {
    fresh_hit(Runtime::Smol);
}

fn conditional_hit(runtime: Runtime) {
    let dir = tempfile::tempdir().unwrap();
    let cache = disk_cache(runtime, dir.path());
    let origin = Origin::start();
    origin.enqueue(Reply::new(stale_with_etag("stored body")));
    origin.enqueue(Reply::new(NOT_MODIFIED));
    let config = Config::builder().cache(&cache).build().unwrap();
    let url = origin.url("/stale");
    let got = get_each(runtime, config, &[url.clone(), url.clone(), url]);

    let first = origin.take_request();
    assert_eq!(header(&first, "if-none-match"), None);
    let second = origin.take_request();
    assert_eq!(header(&second, "if-none-match"), Some(&b"\"v1\""[..]));
    assert_eq!(origin.request_count(), 2, "the third call is a fresh hit");

    let revalidated = &got[1];
    assert_eq!(revalidated.status, 200);
    assert_eq!(revalidated.body, b"stored body");
    assert_eq!(
        (revalidated.cache, revalidated.network),
        (Some(200), Some(304))
    );
    assert_eq!(revalidated.headers.get("x-version"), Some("2"));
    assert_eq!(revalidated.headers.get("content-length"), Some("11"));
    assert_eq!(got[2].body, b"stored body");
    assert_eq!((got[2].cache, got[2].network), (Some(200), None));
    assert_eq!(
        got[2].headers.get("x-version"),
        Some("2"),
        "the entry was refreshed"
    );
    assert_eq!(
        (
            cache.request_count(),
            cache.network_count(),
            cache.hit_count()
        ),
        (3, 2, 2)
    );
}

#[test]
fn conditional_hit_blocking() {
    conditional_hit(Runtime::Blocking);
}

#[test]
fn conditional_hit_tokio() {
    conditional_hit(Runtime::Tokio);
}

#[test]
fn conditional_hit_smol() {
    conditional_hit(Runtime::Smol);
}

/// A large body goes through the tee and comes back from the disk in many reads, through the
/// async runtimes' blocking pools.
fn large_body_round_trip(runtime: Runtime) {
    let dir = tempfile::tempdir().unwrap();
    let cache = disk_cache(runtime, dir.path());
    let origin = Origin::start();
    let body: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
    let mut reply = format!(
        "HTTP/1.1 200 OK\r\nCache-Control: max-age=600\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    reply.extend_from_slice(&body);
    origin.enqueue(Reply::new(reply));
    let config = Config::builder().cache(&cache).build().unwrap();
    let url = origin.url("/large");
    let got = get_each(runtime, config, &[url.clone(), url]);
    assert_eq!(origin.request_count(), 1);
    assert!(got[0].body == body, "the network body arrived whole");
    assert!(got[1].body == body, "the cached body came back whole");
    assert_eq!(got[1].cache, Some(200));
}

#[test]
fn large_body_round_trip_blocking() {
    large_body_round_trip(Runtime::Blocking);
}

#[test]
fn large_body_round_trip_tokio() {
    large_body_round_trip(Runtime::Tokio);
}

#[test]
fn large_body_round_trip_smol() {
    large_body_round_trip(Runtime::Smol);
}

/// A gzip body of `empty` empty stored deflate blocks, then `data` in one final stored block:
/// `empty * 5` bytes of input that decode to nothing before the data.
fn gzip_after_empty_blocks(empty: usize, data: &[u8]) -> Vec<u8> {
    let mut gz = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];
    for _ in 0..empty {
        gz.extend_from_slice(&[0x00, 0x00, 0x00, 0xff, 0xff]);
    }
    let len = u16::try_from(data.len()).unwrap();
    gz.push(0x01);
    gz.extend_from_slice(&len.to_le_bytes());
    gz.extend_from_slice(&(!len).to_le_bytes());
    gz.extend_from_slice(data);
    let mut crc = flate2::Crc::new();
    crc.update(data);
    gz.extend_from_slice(&crc.sum().to_le_bytes());
    gz.extend_from_slice(&u32::try_from(data.len()).unwrap().to_le_bytes());
    gz
}

/// While a gzip body is stored, the undecoded bytes wait in the call until a read yields
/// decoded ones. A body that decodes to nothing for longer than the tee holds is read whole by
/// the caller and not stored, rather than held in memory; a short run of empty blocks is
/// stored as usual.
fn gzip_that_decodes_to_nothing_for_long(runtime: Runtime) {
    for (empty, stored) in [(10, true), (100_000, false)] {
        let dir = tempfile::tempdir().unwrap();
        let cache = disk_cache(runtime, dir.path());
        let origin = Origin::start();
        let gz = gzip_after_empty_blocks(empty, b"hello");
        for _ in 0..2 {
            let mut reply = format!(
                "HTTP/1.1 200 OK\r\nCache-Control: max-age=600\r\nContent-Encoding: gzip\r\nContent-Length: {}\r\n\r\n",
                gz.len()
            )
            .into_bytes();
            reply.extend_from_slice(&gz);
            origin.enqueue(Reply::new(reply));
        }
        let config = Config::builder().cache(&cache).build().unwrap();
        let url = origin.url("/empty-blocks");
        let got = get_each(runtime, config, &[url.clone(), url]);
        for g in &got {
            assert_eq!(
                (g.status, g.body.as_slice()),
                (200, &b"hello"[..]),
                "{empty}"
            );
        }
        assert_eq!(
            cache.urls().unwrap().count(),
            usize::from(stored),
            "{empty}"
        );
        assert_eq!(
            origin.request_count(),
            if stored { 1 } else { 2 },
            "{empty}"
        );
        assert_eq!(got[1].cache.is_some(), stored, "{empty}");
    }
}

#[test]
fn gzip_that_decodes_to_nothing_for_long_blocking() {
    gzip_that_decodes_to_nothing_for_long(Runtime::Blocking);
}

#[test]
fn gzip_that_decodes_to_nothing_for_long_tokio() {
    gzip_that_decodes_to_nothing_for_long(Runtime::Tokio);
}

#[test]
fn gzip_that_decodes_to_nothing_for_long_smol() {
    gzip_that_decodes_to_nothing_for_long(Runtime::Smol);
}

// ------------------------------------------------------------------ entries

#[test]
fn two_calls_writing_one_url_neither_corrupt_nor_wait_for_each_other() {
    let dir = tempfile::tempdir().unwrap();
    let cache = disk_cache(Runtime::Blocking, dir.path());
    let origin = Origin::start();
    origin.enqueue(Reply::new(
        "HTTP/1.1 200 OK\r\nCache-Control: max-age=600\r\nContent-Length: 5\r\n\r\nfirst",
    ));
    origin.enqueue(Reply::new(
        "HTTP/1.1 200 OK\r\nCache-Control: max-age=600\r\nContent-Length: 11\r\n\r\nsecond body",
    ));
    let client = wayfarer_blocking::Client::from(Config::builder().cache(&cache).build().unwrap());
    let url = origin.url("/shared");
    let get = || {
        client
            .new_call(Request::get(&url).build().unwrap())
            .execute()
            .unwrap()
    };
    // Both responses are being stored at once: the first opened the entry, the second found
    // it being written and is simply not stored. Neither waits for the other.
    let mut a = get();
    let mut b = get();
    let read = |r: &mut wayfarer_blocking::Response| {
        let mut body = Vec::new();
        r.body_mut().read_to_end(&mut body).unwrap();
        body
    };
    assert_eq!(read(&mut b), b"second body");
    assert_eq!(read(&mut a), b"first");
    assert_eq!(origin.request_count(), 2);
    let got = get_each(
        Runtime::Blocking,
        Config::builder().cache(&cache).build().unwrap(),
        std::slice::from_ref(&url),
    );
    assert_eq!(
        got[0].body, b"first",
        "the entry the first call wrote, whole"
    );
    assert_eq!(got[0].cache, Some(200));
    assert_eq!(origin.request_count(), 2);
}

#[test]
fn concurrent_writers_on_threads_leave_one_whole_entry() {
    let dir = tempfile::tempdir().unwrap();
    let cache = disk_cache(Runtime::Blocking, dir.path());
    let origin = Origin::start();
    let bodies: Vec<String> = (0..8)
        .map(|i| format!("body {i} ").repeat(2000 + i))
        .collect();
    for body in &bodies {
        // The requests say no-cache: every call reaches the origin, and each response may be
        // stored.
        origin.enqueue(Reply::new(format!(
            "HTTP/1.1 200 OK\r\nCache-Control: max-age=600\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )));
    }
    let client = wayfarer_blocking::Client::from(Config::builder().cache(&cache).build().unwrap());
    let url = origin.url("/race");
    thread::scope(|s| {
        for _ in 0..bodies.len() {
            s.spawn(|| {
                let request = Request::get(&url)
                    .cache_control(CacheControl::FORCE_NETWORK)
                    .build()
                    .unwrap();
                let mut response = client.new_call(request).execute().unwrap();
                let mut body = Vec::new();
                response.body_mut().read_to_end(&mut body).unwrap();
                assert!(bodies.iter().any(|b| b.as_bytes() == body));
            });
        }
    });
    assert_eq!(origin.request_count(), bodies.len());
    // Whatever was stored last is one of the bodies, whole, served from the cache.
    let request = Request::get(&url)
        .cache_control(CacheControl::FORCE_CACHE)
        .build()
        .unwrap();
    let mut response = client.new_call(request).execute().unwrap();
    let mut body = Vec::new();
    response.body_mut().read_to_end(&mut body).unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert!(response.cache_response().is_some());
    assert!(
        bodies.iter().any(|b| b.as_bytes() == body),
        "a torn entry: {} bytes",
        body.len()
    );
    assert_eq!(cache.urls().unwrap().count(), 1);
}

#[test]
fn a_partly_read_body_leaves_no_entry() {
    let dir = tempfile::tempdir().unwrap();
    let cache = disk_cache(Runtime::Blocking, dir.path());
    let origin = Origin::start();
    let long = "x".repeat(100_000);
    for _ in 0..2 {
        origin.enqueue(Reply::new(format!(
            "HTTP/1.1 200 OK\r\nCache-Control: max-age=600\r\nContent-Length: {}\r\n\r\n{long}",
            long.len()
        )));
    }
    let client = wayfarer_blocking::Client::from(Config::builder().cache(&cache).build().unwrap());
    let url = origin.url("/partial");
    let mut response = client
        .new_call(Request::get(&url).build().unwrap())
        .execute()
        .unwrap();
    let mut some = [0u8; 1000];
    response.body_mut().read_exact(&mut some).unwrap();
    drop(response);
    assert_eq!(cache.urls().unwrap().count(), 0, "nothing stored");
    assert_eq!(cache.size(), 0);
    // Nothing left behind in the directory but the journal and its lock file.
    let mut files: Vec<String> = std::fs::read_dir(cache_dir(dir.path()))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    assert_eq!(files, ["journal", "journal.lock"]);
    let got = get_each(
        Runtime::Blocking,
        Config::builder().cache(&cache).build().unwrap(),
        &[url],
    );
    assert_eq!(
        got[0].network,
        Some(200),
        "the next call goes to the network"
    );
    assert_eq!(origin.request_count(), 2);
}

fn cache_dir(dir: &std::path::Path) -> std::path::PathBuf {
    dir.join("http-cache")
}

#[test]
fn a_disk_cache_reopened_after_a_run_keeps_its_entries() {
    let dir = tempfile::tempdir().unwrap();
    let origin = Origin::start();
    origin.enqueue(Reply::new(FRESH));
    let url = origin.url("/kept");
    {
        let cache = disk_cache(Runtime::Blocking, dir.path());
        let got = get_each(
            Runtime::Blocking,
            Config::builder().cache(&cache).build().unwrap(),
            std::slice::from_ref(&url),
        );
        assert_eq!(got[0].network, Some(200));
        // The process dies while appending to the journal: a torn record at its end.
        let mut journal = std::fs::OpenOptions::new()
            .append(true)
            .open(cache_dir(dir.path()).join("journal"))
            .unwrap();
        std::io::Write::write_all(&mut journal, b"DIRTY 0123").unwrap();
    }
    // A new run finds it, in every runtime.
    for runtime in Runtime::ALL {
        let cache = disk_cache(runtime, dir.path());
        let got = get_each(
            runtime,
            Config::builder().cache(&cache).build().unwrap(),
            std::slice::from_ref(&url),
        );
        assert_eq!(got[0].body, b"hello, world", "{runtime:?}");
        assert_eq!(
            (got[0].cache, got[0].network),
            (Some(200), None),
            "{runtime:?}"
        );
    }
    assert_eq!(origin.request_count(), 1);
}

#[test]
fn an_unusable_directory_is_a_clear_error_and_the_client_works_without_a_cache() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("not-a-directory");
    std::fs::write(&file, b"x").unwrap();
    let error = wayfarer_blocking::Cache::new(&file, 1024).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Io);
    assert!(error.to_string().contains("not-a-directory"), "{error}");
    assert!(error.to_string().contains("HTTP cache"), "{error}");
    // Opening the same directory twice in one process is refused: share the handle instead.
    let _open = disk_cache(Runtime::Blocking, dir.path());
    let twice = wayfarer_tokio::Cache::new(cache_dir(dir.path()), 1024).unwrap_err();
    assert!(twice.to_string().contains("already open"), "{twice}");

    let origin = Origin::start();
    origin.enqueue(Reply::new(FRESH));
    origin.enqueue(Reply::new(FRESH));
    let url = origin.url("/");
    let got = get_each(Runtime::Blocking, Config::default(), &[url.clone(), url]);
    assert_eq!(got[1].network, Some(200));
    assert_eq!(origin.request_count(), 2);
}

// ------------------------------------------------------------------ what the chain shows

#[test]
fn events_say_miss_hit_and_conditional_hit() {
    let events: Arc<Mutex<Vec<String>>> = Arc::default();
    let log = events.clone();
    let cache = Cache::in_memory(1 << 20);
    let config = Config::builder()
        .cache(&cache)
        .event_listener(move |e: &Event| {
            if matches!(
                e.kind,
                EventKind::CacheHit
                    | EventKind::CacheMiss
                    | EventKind::CacheConditionalHit
                    | EventKind::SatisfactionFailure
            ) {
                log.lock().unwrap().push(e.kind.to_string());
            }
        })
        .build()
        .unwrap();
    let origin = Origin::start();
    origin.enqueue(Reply::new(stale_with_etag("abc")));
    origin.enqueue(Reply::new(NOT_MODIFIED));
    let client = wayfarer_blocking::Client::from(config);
    let url = origin.url("/events");
    for request in [
        Request::get(&url).build().unwrap(),
        Request::get(&url).build().unwrap(),
        Request::get(&url).build().unwrap(),
        Request::get(origin.url("/nothing"))
            .cache_control(CacheControl::FORCE_CACHE)
            .build()
            .unwrap(),
    ] {
        let mut response = client.new_call(request).execute().unwrap();
        response.body_mut().read_to_end(&mut Vec::new()).unwrap();
    }
    assert_eq!(
        *events.lock().unwrap(),
        [
            "cache miss",
            "cache conditional hit: asking the origin whether it is still good",
            "cache hit",
            "cache hit",
            "cache cannot satisfy the request (only-if-cached): 504",
        ]
    );
}

#[test]
fn network_interceptors_see_the_conditional_request() {
    let seen: Arc<Mutex<Vec<Option<String>>>> = Arc::default();
    let log = seen.clone();
    let cache = Cache::in_memory(1 << 20);
    let client = wayfarer_blocking::Client::builder()
        .cache(&cache)
        .network_interceptor(wayfarer_blocking::interceptor(move |chain| {
            let request = chain.request().clone();
            log.lock()
                .unwrap()
                .push(request.header("if-none-match").map(str::to_owned));
            chain.proceed(request)
        }))
        .build()
        .unwrap();
    let origin = Origin::start();
    origin.enqueue(Reply::new(stale_with_etag("abc")));
    origin.enqueue(Reply::new(NOT_MODIFIED));
    let url = origin.url("/intercepted");
    let mut bodies = Vec::new();
    for _ in 0..2 {
        let response = client
            .new_call(Request::get(&url).build().unwrap())
            .execute()
            .unwrap();
        bodies.push(response.text().unwrap());
    }
    assert_eq!(bodies, ["abc", "abc"]);
    assert_eq!(*seen.lock().unwrap(), [None, Some("\"v1\"".to_owned())]);
}

/// Credentials a network interceptor adds (as the CLI's `-u` does) count as the request's: a
/// response to an authorized request without `public` is not stored, and the next call goes
/// to the network.
#[test]
fn authorization_added_below_the_cache_keeps_the_response_out_of_it() {
    let cache = Cache::in_memory(1 << 20);
    let client = wayfarer_blocking::Client::builder()
        .cache(&cache)
        .network_interceptor(wayfarer_blocking::interceptor(|chain| {
            let mut request = chain.request().clone();
            request.headers_mut().set("Authorization", "Basic dTpw")?;
            chain.proceed(request)
        }))
        .build()
        .unwrap();
    let origin = Origin::start();
    origin.enqueue(Reply::new(FRESH));
    origin.enqueue(Reply::new(FRESH));
    let url = origin.url("/private");
    for _ in 0..2 {
        let response = client
            .new_call(Request::get(&url).build().unwrap())
            .execute()
            .unwrap();
        assert_eq!(response.text().unwrap(), "hello, world");
    }
    assert_eq!(origin.request_count(), 2);
    assert_eq!((cache.hit_count(), cache.network_count()), (0, 2));
    assert_eq!(cache.urls().unwrap().count(), 0, "nothing stored");
}

/// A body an application interceptor reads reaches the entry whole: the entry is opened
/// before the interceptor gets the response, so the bytes it reads are teed like the caller's.
/// The second call is a hit, and the interceptor reads the stored body.
#[test]
fn a_body_an_application_interceptor_reads_is_stored_whole() {
    let cache = Cache::in_memory(1 << 20);
    let client = wayfarer_blocking::Client::builder()
        .cache(&cache)
        .interceptor(wayfarer_blocking::interceptor(|chain| {
            let request = chain.request().clone();
            let (head, body) = chain.proceed(request)?.into_parts();
            let text = body.text()?;
            Ok(head.with_body(wayfarer_blocking::Body::from_request_body(
                text.to_uppercase().into(),
            )))
        }))
        .build()
        .unwrap();
    let origin = Origin::start();
    origin.enqueue(Reply::new(FRESH));
    let url = origin.url("/read-by-interceptor");
    for i in 0..2 {
        let response = client
            .new_call(Request::get(&url).build().unwrap())
            .execute()
            .unwrap();
        assert_eq!(response.text().unwrap(), "HELLO, WORLD", "call {i}");
    }
    assert_eq!(origin.request_count(), 1);
    assert_eq!(cache.hit_count(), 1);
}

#[test]
fn the_handle_lists_removes_and_evicts() {
    let dir = tempfile::tempdir().unwrap();
    let cache = disk_cache(Runtime::Blocking, dir.path());
    let origin = Origin::start();
    for _ in 0..3 {
        origin.enqueue(Reply::new(FRESH));
    }
    let urls: Vec<String> = ["/a", "/b", "/c"].iter().map(|p| origin.url(p)).collect();
    get_each(
        Runtime::Blocking,
        Config::builder().cache(&cache).build().unwrap(),
        &urls,
    );
    assert_eq!(cache.max_size(), Some(10 << 20));
    let size = cache.size();
    assert!(size > 3 * 12, "three bodies and their metadata: {size}");
    let mut listed = cache.urls().unwrap();
    let mut seen = Vec::new();
    while let Some(url) = listed.next() {
        if url.path() == "/b" {
            assert!(listed.remove().unwrap());
        }
        seen.push(url.to_string());
    }
    assert_eq!(seen, urls);
    let left: Vec<String> = cache.urls().unwrap().map(|u| u.to_string()).collect();
    assert_eq!(left, [urls[0].clone(), urls[2].clone()]);
    assert!(cache.size() < size);
    cache.flush().unwrap();
    cache.evict_all().unwrap();
    assert_eq!((cache.size(), cache.urls().unwrap().count()), (0, 0));
    cache.delete().unwrap();
}
