//! Micro-benchmarks of wayfarer-core, with no I/O: the response-head decoder against bare
//! httparse on the same head, the chunked decoder, the request encoder, and one whole call
//! through the core against an in-memory origin; and a fresh cache hit, through the core and
//! through the blocking client, against a loopback round trip to the tests' scripted origin.
//!
//! Internals are reached through `wayfarer_core::fuzzing`, whose entry points drive them the way
//! a call does. A counting global allocator reports the allocations of one cache hit (and of
//! one uncached call, for comparison) on standard error.
//!
//! Run with `cargo bench --manifest-path bench/Cargo.toml`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::io::Read;
use std::sync::atomic::{AtomicU64, Ordering};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use wayfarer_core::fuzzing::{
    InMemoryExchange, decode_chunked_through, decode_head, encode_request_head,
};
use wayfarer_core::{Cache, Config, Request};
use wayfarer_tests::origin::{Origin, Reply};

/// Counts allocations (and reallocations), to report how many one operation makes.
struct Counting;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

// SAFETY: every call is forwarded unchanged to the system allocator; only a counter is added.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: the caller's contract is System's.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller's contract is System's.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: the caller's contract is System's.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: the caller's contract is System's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Allocations `f` makes (on this thread and any other meanwhile: run it alone).
fn allocations(f: impl FnOnce()) -> u64 {
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    f();
    ALLOCATIONS.load(Ordering::Relaxed) - before
}

/// A typical response head from a web server, exactly 323 bytes with the blank line.
fn head_323() -> Vec<u8> {
    let mut head = String::from(
        "HTTP/1.1 200 OK\r\n\
         Server: nginx/1.22.1\r\n\
         Date: Sat, 01 Nov 2025 12:00:00 GMT\r\n\
         Content-Type: application/json; charset=utf-8\r\n\
         Content-Length: 1234\r\n\
         Last-Modified: Fri, 31 Oct 2025 08:30:00 GMT\r\n\
         Connection: keep-alive\r\n\
         ETag: \"6904746c-4d2\"\r\n\
         Cache-Control: max-age=3600\r\n\
         Accept-Ranges: bytes\r\n",
    );
    // Pad with a request id to the exact size, so the comparison is on a known head.
    let fixed = head.len() + "X-Request-Id: \r\n\r\n".len();
    head.push_str(&format!(
        "X-Request-Id: {}\r\n\r\n",
        "a".repeat(323 - fixed)
    ));
    assert_eq!(head.len(), 323);
    head.into_bytes()
}

fn response_head(c: &mut Criterion) {
    let head = head_323();
    let mut group = c.benchmark_group("response head (323 B)");
    group.throughput(Throughput::Bytes(head.len() as u64));
    group.bench_function("wayfarer HeadReader", |b| {
        b.iter(|| decode_head(black_box(&head)))
    });
    group.bench_function("bare httparse", |b| {
        b.iter(|| {
            let mut fields = [httparse::EMPTY_HEADER; 64];
            let mut response = httparse::Response::new(&mut fields);
            let parsed = response.parse(black_box(&head));
            (parsed.is_ok(), response.code, response.headers.len())
        })
    });
    group.finish();
}

/// A chunked body of `chunks` chunks of `size` bytes each, and its data length.
fn chunked_body(size: usize, chunks: usize) -> (Vec<u8>, usize) {
    let mut body = Vec::new();
    for i in 0..chunks {
        body.extend_from_slice(format!("{size:x}\r\n").as_bytes());
        body.extend((0..size).map(|j| (i + j) as u8));
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(b"0\r\n\r\n");
    (body, size * chunks)
}

fn chunked(c: &mut Criterion) {
    let mut group = c.benchmark_group("chunked decoder");
    let mut out = vec![0u8; 64 * 1024];
    for (name, size, chunks) in [("8 KiB chunks", 8192, 8), ("16 B chunks", 16, 256)] {
        let (body, data) = chunked_body(size, chunks);
        assert_eq!(decode_chunked_through(&body, &mut out), Ok((data, true)));
        group.throughput(Throughput::Bytes(data as u64));
        group.bench_function(format!("{name}, {data} B"), |b| {
            b.iter(|| decode_chunked_through(black_box(&body), &mut out))
        });
    }
    group.finish();
}

fn request_encoder(c: &mut Criterion) {
    let request = Request::get("https://api.example.com/v1/items?page=2&sort=name")
        .header("Accept", "application/json")
        .header("Authorization", "Bearer 0123456789abcdef0123456789abcdef")
        .header("Accept-Encoding", "gzip")
        .build()
        .expect("a valid request");
    let config = Config::default();
    let mut out = Vec::with_capacity(512);
    c.bench_function("request encoder (bridge + head, GET, 3 fields)", |b| {
        b.iter(|| {
            out.clear();
            encode_request_head(&mut out, black_box(&request), &config)
        })
    });
}

fn whole_call(c: &mut Criterion) {
    let mut group = c.benchmark_group("one call through the core");
    let mut buf = vec![0u8; 64 * 1024];
    let tiny =
        b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n\r\nHello, world!";
    let (chunked, len) = chunked_body(4096, 4);
    let mut chunked_response =
        b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
            .to_vec();
    chunked_response.extend_from_slice(&chunked);
    for (name, response, body_len) in [
        ("keep-alive GET, 13 B body", tiny.to_vec(), 13),
        ("keep-alive GET, 16 KiB chunked body", chunked_response, len),
    ] {
        let mut exchange = InMemoryExchange::new(Config::default(), response);
        let call = |exchange: &mut InMemoryExchange, buf: &mut [u8]| {
            let request = Request::get("http://origin.test/resource")
                .build()
                .expect("a valid request");
            exchange.call(request, buf).expect("the call succeeds")
        };
        assert_eq!(call(&mut exchange, &mut buf), (200, body_len));
        group.bench_function(name, |b| b.iter(|| call(&mut exchange, &mut buf)));
    }
    group.finish();
}

/// A small cacheable response: fresh for an hour (the in-memory exchange's clock stands still).
const CACHEABLE: &[u8] = b"HTTP/1.1 200 OK\r\nCache-Control: max-age=3600\r\nContent-Type: text/plain\r\nETag: \"v1\"\r\nContent-Length: 13\r\n\r\nHello, world!";

fn cache_hit(c: &mut Criterion) {
    let mut group = c.benchmark_group("fresh cache hit vs loopback round trip (13 B body)");
    let mut buf = vec![0u8; 64 * 1024];
    let request = || {
        Request::get("http://origin.test/resource")
            .build()
            .expect("a valid request")
    };

    // Through the core's whole chain and driver, with a memory store: nothing but the cache.
    let config = Config::builder()
        .cache(Cache::in_memory(1 << 20))
        .build()
        .expect("a valid config");
    let mut exchange = InMemoryExchange::new(config, CACHEABLE.to_vec());
    assert_eq!(
        exchange.call(request(), &mut buf).expect("stored"),
        (200, 13)
    );
    assert_eq!(
        exchange.call(request(), &mut buf).expect("a hit"),
        (200, 13)
    );
    assert_eq!(exchange.connections(), 1, "the hit made no connection");
    let per_hit = allocations(|| {
        black_box(exchange.call(request(), &mut buf)).expect("a hit");
    });
    let mut uncached = InMemoryExchange::new(Config::default(), CACHEABLE.to_vec());
    uncached.call(request(), &mut buf).expect("a call");
    let per_call = allocations(|| {
        black_box(uncached.call(request(), &mut buf)).expect("a call");
    });
    eprintln!(
        "allocations: {per_hit} per fresh cache hit through the core, \
         {per_call} per uncached keep-alive call through the core"
    );
    group.bench_function("core: fresh hit, memory store", |b| {
        b.iter(|| exchange.call(request(), &mut buf))
    });

    // Through the blocking client: the same, plus the runtime's clock and body type.
    let origin = Origin::start();
    origin.enqueue(Reply::new(CACHEABLE));
    let url = origin.url("/resource");
    let get = |client: &wayfarer_blocking::Client, buf: &mut [u8]| {
        let request = Request::get(&url).build().expect("a valid request");
        let mut response = client
            .new_call(request)
            .execute()
            .expect("the call succeeds");
        let mut n = 0;
        loop {
            match response.body_mut().read(buf).expect("the body") {
                0 => return n,
                read => n += read,
            }
        }
    };
    let memory = Cache::in_memory(1 << 20);
    let client = wayfarer_blocking::Client::from(
        Config::builder()
            .cache(&memory)
            .build()
            .expect("a valid config"),
    );
    assert_eq!(get(&client, &mut buf), 13);
    assert_eq!(get(&client, &mut buf), 13);
    assert_eq!((origin.request_count(), memory.hit_count()), (1, 1));
    let per_blocking_hit = allocations(|| {
        black_box(get(&client, &mut buf));
    });
    eprintln!("allocations: {per_blocking_hit} per fresh cache hit through the blocking client");
    group.bench_function("blocking client: fresh hit, memory store", |b| {
        b.iter(|| get(&client, &mut buf))
    });

    let dir = tempfile::tempdir().expect("a temporary directory");
    let disk = wayfarer_blocking::Cache::new(dir.path(), 1 << 20).expect("a disk cache");
    let client = wayfarer_blocking::Client::from(
        Config::builder()
            .cache(&disk)
            .build()
            .expect("a valid config"),
    );
    origin.enqueue(Reply::new(CACHEABLE));
    assert_eq!(get(&client, &mut buf), 13);
    assert_eq!(get(&client, &mut buf), 13);
    assert_eq!((origin.request_count(), disk.hit_count()), (2, 1));
    group.bench_function("blocking client: fresh hit, disk store", |b| {
        b.iter(|| get(&client, &mut buf))
    });

    // The same request answered by the scripted origin over loopback, on a kept-alive
    // connection (each iteration queues the origin's reply first).
    let client = wayfarer_blocking::Client::new();
    let reply = Reply::new(CACHEABLE);
    origin.enqueue(reply.clone());
    assert_eq!(get(&client, &mut buf), 13);
    group.bench_function(
        "blocking client: loopback round trip to the scripted origin",
        |b| {
            b.iter(|| {
                origin.enqueue(reply.clone());
                get(&client, &mut buf)
            })
        },
    );
    group.finish();
}

criterion_group!(
    benches,
    response_head,
    chunked,
    request_encoder,
    whole_call,
    cache_hit
);
criterion_main!(benches);
