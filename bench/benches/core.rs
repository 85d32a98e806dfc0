//! Micro-benchmarks of wayfarer-core, with no I/O: the response-head decoder against bare
//! httparse on the same head, the chunked decoder, the request encoder, and one whole call
//! through the core against an in-memory origin.
//!
//! Internals are reached through `wayfarer_core::fuzzing`, whose entry points drive them the way
//! a call does.
//!
//! Run with `cargo bench --manifest-path bench/Cargo.toml`.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use wayfarer_core::fuzzing::{
    InMemoryExchange, decode_chunked_through, decode_head, encode_request_head,
};
use wayfarer_core::{Config, Request};

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

criterion_group!(benches, response_head, chunked, request_encoder, whole_call);
criterion_main!(benches);
