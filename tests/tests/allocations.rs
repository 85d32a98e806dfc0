//! The allocation budget of a plain keep-alive GET on the blocking client, counted with a
//! counting global allocator (this test binary's own).
//!
//! The budget covers everything from building the request to reading the body's end: the URL,
//! the request and its shared handle, the call's cancel state, the response head (its fields
//! are one allocation; the connection's address and the standard reason phrase are none). The
//! chain's links (follow-ups, bridge, cache, connect) must add nothing when no interceptor,
//! cookie jar or cache is configured: that is what the budget guards.
//!
//! A URL naming its host is the common case; an IP literal costs two allocations more, inside
//! the `url` crate (its IPv4 parser collects the address's parts into two `Vec`s).

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::io::{Read, Write};
use std::net::TcpListener;

struct Counting;

thread_local! {
    /// Only the client's thread counts, while it measures (the test server runs on another,
    /// and each test on its own thread).
    static COUNTING: Cell<bool> = const { Cell::new(false) };
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
    /// The bytes those allocations asked for.
    static BYTES: Cell<usize> = const { Cell::new(0) };
}

fn count(size: usize) {
    if COUNTING.with(Cell::get) {
        ALLOCATIONS.with(|a| a.set(a.get() + 1));
        BYTES.with(|b| b.set(b.get() + size));
    }
}

// SAFETY: forwards every call to the system allocator unchanged; only counts.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count(layout.size());
        // SAFETY: the caller upholds `alloc`'s contract, which we pass on.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count(new_size);
        // SAFETY: as above.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// At most this many allocations per request (building the request included): the URL, the
/// request's shared handle, the call's cancel state and the response head.
const BUDGET: f64 = 4.0;
/// The `url` crate's IPv4 parser allocates twice more for an IP literal host.
const IP_LITERAL_BUDGET: f64 = BUDGET + 2.0;

#[test]
fn a_keep_alive_get_stays_within_its_allocation_budget() {
    let per_request = allocations_per_request("localhost");
    assert!(
        per_request <= BUDGET,
        "{per_request} allocations per request, over the budget of {BUDGET}"
    );
}

#[test]
fn a_keep_alive_get_to_an_ip_literal_stays_within_its_allocation_budget() {
    let per_request = allocations_per_request("127.0.0.1");
    assert!(
        per_request <= IP_LITERAL_BUDGET,
        "{per_request} allocations per request, over the budget of {IP_LITERAL_BUDGET}"
    );
}

/// A server answering every request on one connection with 13 bytes; its port.
fn serve_hello() -> u16 {
    serve_hello_after(std::time::Duration::ZERO)
}

/// The same, answering the first request only after `first`.
fn serve_hello_after(first: std::time::Duration) -> u16 {
    serve(
        b"HTTP/1.1 200 OK\r\nContent-Length: 13\r\n\r\nHello, world!".to_vec(),
        first,
    )
}

/// A server answering every request on one connection with a body of `len` bytes; its port.
fn serve_body(len: usize) -> u16 {
    let mut answer = format!("HTTP/1.1 200 OK\r\nContent-Length: {len}\r\n\r\n").into_bytes();
    answer.resize(answer.len() + len, b'x');
    serve(answer, std::time::Duration::ZERO)
}

/// A server answering every request on one connection with `answer`, the first only after
/// `first`; its port.
fn serve(answer: Vec<u8>, first: std::time::Duration) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        let (mut socket, _) = listener.accept().expect("accept");
        let mut buf = [0u8; 4096];
        let mut delay = Some(first);
        while matches!(socket.read(&mut buf), Ok(n) if n > 0) {
            if let Some(delay) = delay.take() {
                std::thread::sleep(delay);
            }
            if socket.write_all(&answer).is_err() {
                return;
            }
        }
    });
    port
}

/// A client's default fields are shared with each request, not copied into it: three of them
/// cost one allocation per request (the request's list of fields), not two per field.
#[test]
fn default_fields_cost_a_request_one_allocation_not_two_per_field() {
    let client = wayfarer_blocking::Client::builder()
        .default_header("Accept", "application/json")
        .default_header("X-Team", "wayfarer")
        .default_header("X-Trace", "on")
        .build()
        .expect("client");
    let with_defaults = allocations_per_request_on("localhost", client);
    let without = allocations_per_request("localhost");
    assert!(
        with_defaults <= without + 1.0,
        "{with_defaults} allocations per request with three default fields, {without} without"
    );
}

/// The field names callers set most cost a request no allocation of their own: building a
/// request with two of them allocates two fewer times than with two names of the caller's own.
#[test]
fn common_field_names_are_not_copied() {
    let build = |names: [&str; 2]| {
        ALLOCATIONS.with(|a| a.set(0));
        COUNTING.with(|c| c.set(true));
        let request = wayfarer_blocking::Request::get("http://localhost/")
            .header(names[0], "a")
            .header(names[1], "b")
            .build();
        COUNTING.with(|c| c.set(false));
        drop(request.expect("request"));
        ALLOCATIONS.with(Cell::get)
    };
    // The first request built on a thread allocates once more (a lazy thread-local).
    build(["X-Warm-Up", "Accept"]);
    let common = build(["Accept", "Authorization"]);
    let own = build(["X-Ours-A", "X-Ours-B"]);
    assert_eq!(
        common + 2,
        own,
        "{common} allocations with common names, {own} with others"
    );
    // A name keeps the case it was given.
    let mut headers = wayfarer_core::Headers::new();
    headers.append("ACCEPT", "a").expect("field");
    headers.append("Accept", "b").expect("field");
    let names: Vec<&str> = headers.iter().map(|(name, _)| name).collect();
    assert_eq!(names, ["ACCEPT", "Accept"]);
}

/// Allocations per plain keep-alive GET of 13 bytes to `host` on this thread, averaged over
/// 200 requests on one pooled connection.
fn allocations_per_request(host: &str) -> f64 {
    allocations_per_request_on(host, wayfarer_blocking::Client::new())
}

/// The same, on `client`.
fn allocations_per_request_on(host: &str, client: wayfarer_blocking::Client) -> f64 {
    let port = serve_hello();
    let url = format!("http://{host}:{port}/");
    let mut body = [0u8; 64];
    let mut run = |n: usize| {
        for _ in 0..n {
            let request = wayfarer_blocking::Request::get(&url)
                .build()
                .expect("request");
            let mut response = client.new_call(request).execute().expect("response");
            let mut read = 0;
            loop {
                match response.body_mut().read(&mut body).expect("body") {
                    0 => break,
                    n => read += n,
                }
            }
            assert_eq!(read, 13);
        }
    };
    run(20);
    assert_eq!(client.idle_connection_count(), 1, "one pooled connection");
    ALLOCATIONS.with(|a| a.set(0));
    COUNTING.with(|c| c.set(true));
    let requests = 200;
    run(requests);
    COUNTING.with(|c| c.set(false));
    assert_eq!(
        client.idle_connection_count(),
        1,
        "still one pooled connection"
    );
    ALLOCATIONS.with(Cell::get) as f64 / requests as f64
}

/// At most this many allocations per request on tokio (building the request included): the
/// blocking client's four. A call that waits for its response needs a timer, and tokio's
/// `Sleep` is boxed; the client keeps the last call's for the next, so it costs none. (A call
/// whose response is there when it reads needs none: the warm-up's first call waits, so that
/// the timer exists before the count.)
const TOKIO_BUDGET: f64 = BUDGET;

#[test]
fn a_keep_alive_get_on_tokio_stays_within_its_allocation_budget() {
    let per_request = tokio_allocations_per_request();
    println!("{per_request} allocations per keep-alive GET on tokio");
    assert!(
        per_request <= TOKIO_BUDGET,
        "{per_request} allocations per request, over the budget of {TOKIO_BUDGET}"
    );
}

/// Allocations per plain keep-alive GET of 13 bytes on a current-thread tokio runtime (the
/// client's work all happens on this thread), averaged over 200 requests on one pooled
/// connection (the fewest of three such windows).
fn tokio_allocations_per_request() -> f64 {
    let port = serve_hello_after(std::time::Duration::from_millis(20));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let client = wayfarer_tokio::Client::new();
        let url = format!("http://localhost:{port}/");
        let mut body = [0u8; 64];
        let mut run = async |n: usize| {
            for _ in 0..n {
                let request = wayfarer_tokio::Request::get(&url).build().expect("request");
                let mut response = client.new_call(request).execute().await.expect("response");
                let mut read = 0;
                loop {
                    match response.body_mut().read(&mut body).await.expect("body") {
                        0 => break,
                        n => read += n,
                    }
                }
                assert_eq!(read, 13);
            }
        };
        run(20).await;
        assert_eq!(client.idle_connection_count(), 1, "one pooled connection");
        // The fewest of three windows: an allocation the calls make shows in every one, while
        // tokio's own one-time growth (a task whose reads find their responses waiting need
        // not yield, so its cooperative budget makes it yield now and then, and the list of
        // deferred wakers that takes grows to its size once) shows in one at most.
        let requests = 200;
        let mut fewest = usize::MAX;
        for _ in 0..3 {
            ALLOCATIONS.with(|a| a.set(0));
            COUNTING.with(|c| c.set(true));
            run(requests).await;
            COUNTING.with(|c| c.set(false));
            fewest = fewest.min(ALLOCATIONS.with(Cell::get));
        }
        assert_eq!(
            client.idle_connection_count(),
            1,
            "still one pooled connection"
        );
        fewest as f64 / requests as f64
    })
}

/// Bytes allocated per keep-alive GET of 13 bytes on tokio, its body read with `chunk()` or
/// `bytes()`: a body whose head gives its length is read into a buffer of about that size,
/// not into a zeroed 64 KiB chunk.
#[test]
fn a_small_body_read_whole_on_tokio_allocates_about_its_own_size() {
    let port = serve_hello();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let (by_chunk, by_bytes) = runtime.block_on(async {
        let client = wayfarer_tokio::Client::new();
        let url = format!("http://localhost:{port}/");
        let get = || wayfarer_tokio::Request::get(&url).build().expect("request");
        let measure = async |whole: bool| {
            let mut per_request = 0;
            for round in 0..2 {
                BYTES.with(|b| b.set(0));
                COUNTING.with(|c| c.set(round == 1));
                let mut response = client.new_call(get()).execute().await.expect("response");
                let read = if whole {
                    response.into_body().bytes().await.expect("body").len()
                } else {
                    let mut read = 0;
                    while let Some(chunk) = response.body_mut().chunk().await.expect("body") {
                        read += chunk.len();
                    }
                    read
                };
                COUNTING.with(|c| c.set(false));
                assert_eq!(read, 13);
                per_request = BYTES.with(Cell::get);
            }
            per_request
        };
        (measure(false).await, measure(true).await)
    });
    println!("{by_chunk} bytes allocated per GET read by chunk(), {by_bytes} by bytes()");
    for (how, bytes) in [("chunk()", by_chunk), ("bytes()", by_bytes)] {
        assert!(
            bytes < 8 * 1024,
            "{bytes} bytes allocated for a 13-byte body read by {how}"
        );
    }
}

/// Bytes allocated per keep-alive GET of 13 bytes on the blocking client, its body read with
/// `bytes()` or `text()`: read into a buffer of about the body's size (the head gives it), not
/// through a zeroed 64 KiB one and a copy.
#[test]
fn a_small_body_read_whole_on_the_blocking_client_allocates_about_its_own_size() {
    let port = serve_hello();
    let client = wayfarer_blocking::Client::new();
    let url = format!("http://localhost:{port}/");
    let get = || {
        wayfarer_blocking::Request::get(&url)
            .build()
            .expect("request")
    };
    let measure = |text: bool| {
        let mut per_request = (0, 0);
        for round in 0..2 {
            BYTES.with(|b| b.set(0));
            ALLOCATIONS.with(|a| a.set(0));
            COUNTING.with(|c| c.set(round == 1));
            let response = client.new_call(get()).execute().expect("response");
            let read = if text {
                response.text().expect("body").len()
            } else {
                response.bytes().expect("body").len()
            };
            COUNTING.with(|c| c.set(false));
            assert_eq!(read, 13);
            per_request = (BYTES.with(Cell::get), ALLOCATIONS.with(Cell::get));
        }
        per_request
    };
    // Beyond the budget: the result (for text(), the same buffer, as a UTF-8 body becomes the
    // string in place).
    for (how, (bytes, allocations)) in [("bytes()", measure(false)), ("text()", measure(true))] {
        println!("{bytes} bytes in {allocations} allocations per GET read by {how}");
        assert!(
            bytes < 8 * 1024,
            "{bytes} bytes allocated for a 13-byte body read by {how}"
        );
        assert!(
            allocations as f64 <= BUDGET + 1.0,
            "{allocations} allocations for a 13-byte body read by {how}"
        );
    }
}

/// Keep-alive GETs of 16 KiB read by `chunk()` on one thread share one chunk buffer: each body
/// ends by parking its buffer for the next, which neither allocates nor zeroes one (it did both
/// for every body: 25 KB allocated per GET, 9 KB now). What is left is the request's few
/// hundred bytes and the copy of the first chunk, the part of the body that came with the head
/// (a few KiB: a chunk that small is copied out, so that it never holds a whole buffer).
#[test]
fn keep_alive_gets_read_by_chunk_share_one_buffer() {
    let len = 16 * 1024;
    let port = serve_body(len);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let per_request = runtime.block_on(async {
        let client = wayfarer_tokio::Client::new();
        let url = format!("http://localhost:{port}/");
        let mut per_request = usize::MAX;
        for round in 0..6 {
            BYTES.with(|b| b.set(0));
            COUNTING.with(|c| c.set(round > 0));
            let request = wayfarer_tokio::Request::get(&url).build().expect("request");
            let mut response = client.new_call(request).execute().await.expect("response");
            let mut read = 0;
            while let Some(chunk) = response.body_mut().chunk().await.expect("body") {
                read += chunk.len();
            }
            COUNTING.with(|c| c.set(false));
            assert_eq!(read, len);
            if round > 0 {
                per_request = per_request.min(BYTES.with(Cell::get));
            }
        }
        per_request
    });
    println!("{per_request} bytes allocated per GET of 16 KiB read by chunk()");
    assert!(
        per_request < 12 * 1024,
        "{per_request} bytes allocated per GET of a 16 KiB body"
    );
}

/// `chunk()` hands a large read out without a copy, as the front of its whole buffer, and takes
/// the buffer back once the caller drops the chunk (its bytes written, so not zeroed again).
/// Only chunks of 8 KiB or less, copied out, and the buffer's growth allocate (where each large
/// chunk once allocated a fresh 64 KiB buffer).
#[test]
fn a_bulk_download_through_chunk_allocates_only_for_small_chunks() {
    let len = 8 * 1024 * 1024;
    let port = serve_body(len);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let (allocations, chunks, small) = runtime.block_on(async {
        let client = wayfarer_tokio::Client::new();
        let url = format!("http://127.0.0.1:{port}/");
        let request = wayfarer_tokio::Request::get(&url).build().expect("request");
        let mut response = client.new_call(request).execute().await.expect("response");
        let body = response.body_mut();
        let (mut read, mut chunks, mut small) = (0, 0, 0);
        ALLOCATIONS.with(|a| a.set(0));
        COUNTING.with(|c| c.set(true));
        while let Some(chunk) = body.chunk().await.expect("body") {
            read += chunk.len();
            chunks += 1;
            if chunk.len() <= 8 * 1024 {
                small += 1;
            }
        }
        COUNTING.with(|c| c.set(false));
        assert_eq!(read, len);
        (ALLOCATIONS.with(Cell::get), chunks, small)
    });
    println!("{allocations} allocations for {chunks} chunks, {small} of them small");
    // One copy per small chunk; a buffer per chunk size (64 KiB doubling to 1 MiB: five at
    // most, fewer when reads do not fill them), each with its shared reference count (one
    // allocation, so that lending chunks from it allocates nothing); and what the pool's first
    // idle connection costs once per client: its idle list and the cleanup task (its future
    // and tokio's task), spawned as the body's end returns the connection to the pool.
    assert!(
        allocations <= small + 2 * 5 + 3,
        "{allocations} allocations for {chunks} chunks, {small} of them small"
    );
}

/// A server that answers each request with 13 bytes and `Connection: close`, then closes: a new
/// connection per request. Its port.
fn serve_hello_and_close() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        for socket in listener.incoming() {
            let Ok(mut socket) = socket else { return };
            let mut buf = [0u8; 4096];
            if !matches!(socket.read(&mut buf), Ok(n) if n > 0) {
                continue;
            }
            let answer =
                b"HTTP/1.1 200 OK\r\nContent-Length: 13\r\nConnection: close\r\n\r\nHello, world!";
            let _ = socket.write_all(answer);
        }
    });
    port
}

#[test]
fn a_new_connection_per_request_reuses_the_last_ones_receive_buffer() {
    let port = serve_hello_and_close();
    let client = wayfarer_blocking::Client::new();
    let url = format!("http://localhost:{port}/");
    let run = |n: usize| {
        for _ in 0..n {
            let request = wayfarer_blocking::Request::get(&url)
                .build()
                .expect("request");
            let response = client.new_call(request).execute().expect("response");
            assert_eq!(response.text().expect("body"), "Hello, world!");
            assert_eq!(client.idle_connection_count(), 0, "nothing pooled");
        }
    };
    run(5);
    BYTES.with(|b| b.set(0));
    COUNTING.with(|c| c.set(true));
    let requests = 50;
    run(requests);
    COUNTING.with(|c| c.set(false));
    let per_request = BYTES.with(Cell::get) / requests;
    println!("{per_request} bytes allocated per new connection");
    // A receive buffer of its own (8 KiB, zeroed) for each connection would take more than
    // this alone.
    assert!(
        per_request < 8 * 1024,
        "{per_request} bytes allocated per request: a fresh receive buffer each time"
    );
}
