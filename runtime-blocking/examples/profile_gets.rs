//! Sequential keep-alive GETs on one blocking client, for measuring what one request costs the
//! client (`perf stat -e task-clock`, `perf record`, `strace -c`) against any local server,
//! next to a raw `std::net` loop doing the same exchange by hand.
//!
//! ```sh
//! cargo build --release -p wayfarer-blocking --example profile_gets
//! # wayfarer: COUNT GETs of URL, one after another on one connection
//! taskset -c 0 perf stat -e task-clock target/release/examples/profile_gets http://127.0.0.1:8080/small.txt 100000
//! # the same with `Connection: close`: a new connection per request
//! taskset -c 0 perf stat -e task-clock target/release/examples/profile_gets --close http://127.0.0.1:8080/small.txt 20000
//! # the same GETs with the URL parsed once and the parsed `Url` passed to every request
//! taskset -c 0 perf stat -e task-clock target/release/examples/profile_gets --parsed http://127.0.0.1:8080/small.txt 100000
//! # the floor: the same GETs written and read by hand (the body must be exactly BODY_LEN bytes)
//! taskset -c 0 perf stat -e task-clock target/release/examples/profile_gets --raw 127.0.0.1:8080 /small.txt 13 100000
//! # the floor plus what every call on a URL string costs: parse it, write the head from it,
//! # parse the response head with httparse
//! taskset -c 0 perf stat -e task-clock target/release/examples/profile_gets --raw-url http://127.0.0.1:8080/small.txt 100000
//! ```
//!
//! Each run prints how many requests it made and the rate. bench/FINDINGS.md shows what these two
//! told about the keep-alive GET on one core.

use std::io::{Read, Write};
use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match &args[..] {
        [url, count] => wayfarer(url, count.parse()?, Mode::Text),
        [flag, url, count] if flag == "--close" => wayfarer(url, count.parse()?, Mode::Close),
        [flag, url, count] if flag == "--parsed" => wayfarer(url, count.parse()?, Mode::Parsed),
        [flag, url, count] if flag == "--raw-url" => raw_url(url, count.parse()?),
        [flag, addr, path, body_len, count] if flag == "--raw" => {
            raw(addr, path, body_len.parse()?, count.parse()?)
        }
        _ => Err(
            "usage: profile_gets [--close | --parsed | --raw-url] URL COUNT \
             | profile_gets --raw HOST:PORT PATH BODY_LEN COUNT"
                .into(),
        ),
    }
}

/// How [`wayfarer`] makes each request.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// From the URL's text, parsed for every request, as most callers do.
    Text,
    /// As `Text`, asking for `Connection: close`, so each request makes a new connection.
    Close,
    /// From one parsed `Url`, so the requests skip `Url::parse`.
    Parsed,
}

fn wayfarer(url: &str, count: usize, mode: Mode) -> Result<(), Box<dyn std::error::Error>> {
    let client = wayfarer_blocking::Client::new();
    let parsed = wayfarer_core::Url::parse(url)?;
    let mut buf = vec![0u8; 64 * 1024];
    let mut bytes = 0u64;
    let started = Instant::now();
    for _ in 0..count {
        let mut request = match mode {
            Mode::Parsed => wayfarer_core::Request::get(&parsed),
            Mode::Text | Mode::Close => wayfarer_core::Request::get(url),
        };
        if mode == Mode::Close {
            request = request.header("Connection", "close");
        }
        let request = request.build()?;
        let mut response = client.new_call(request).execute()?;
        loop {
            match response.body_mut().read(&mut buf)? {
                0 => break,
                n => bytes += n as u64,
            }
        }
    }
    report(count, bytes, started);
    Ok(())
}

/// The same GETs by hand: write the request, read until the head and `body_len` body bytes
/// are in. Only for a server that answers with `Content-Length` and keeps the connection.
fn raw(
    addr: &str,
    path: &str,
    body_len: usize,
    count: usize,
) -> Result<(), Box<dyn std::error::Error>> {
    let mut socket = std::net::TcpStream::connect(addr)?;
    socket.set_nodelay(true)?;
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\n\r\n");
    let mut buf = vec![0u8; 64 * 1024];
    let mut bytes = 0u64;
    let started = Instant::now();
    for _ in 0..count {
        socket.write_all(request.as_bytes())?;
        let mut got = 0;
        let whole = loop {
            let n = socket.read(&mut buf[got..])?;
            if n == 0 {
                return Err("the server closed the connection".into());
            }
            got += n;
            if let Some(end) = buf[..got].windows(4).position(|w| w == b"\r\n\r\n") {
                let whole = end + 4 + body_len;
                if got >= whole {
                    break whole;
                }
            }
        };
        if got != whole {
            return Err("the server sent more than one response".into());
        }
        bytes += body_len as u64;
    }
    report(count, bytes, started);
    Ok(())
}

/// The floor plus the least any client does with a URL string: parse it (the `url` crate, as
/// wayfarer does), write the head from the parsed URL, and parse the response head with
/// httparse for its `Content-Length`. Only for a server that keeps the connection.
fn raw_url(url: &str, count: usize) -> Result<(), Box<dyn std::error::Error>> {
    let first = wayfarer_core::Url::parse(url)?;
    let host = first.host_str().ok_or("no host")?;
    let port = first.port_or_known_default().ok_or("no port")?;
    let mut socket = std::net::TcpStream::connect((host, port))?;
    socket.set_nodelay(true)?;
    let mut head = Vec::with_capacity(256);
    let mut buf = vec![0u8; 64 * 1024];
    let mut bytes = 0u64;
    let started = Instant::now();
    for _ in 0..count {
        let url = wayfarer_core::Url::parse(std::hint::black_box(url))?;
        head.clear();
        write!(head, "GET {}", url.path())?;
        if let Some(query) = url.query() {
            write!(head, "?{query}")?;
        }
        write!(
            head,
            " HTTP/1.1\r\nHost: {}",
            url.host_str().ok_or("no host")?
        )?;
        if let Some(port) = url.port() {
            write!(head, ":{port}")?;
        }
        head.extend_from_slice(b"\r\n\r\n");
        socket.write_all(&head)?;
        let mut got = 0;
        let (head_len, body_len) = loop {
            let n = socket.read(&mut buf[got..])?;
            if n == 0 {
                return Err("the server closed the connection".into());
            }
            got += n;
            let mut fields = [httparse::EMPTY_HEADER; 32];
            let mut response = httparse::Response::new(&mut fields);
            if let httparse::Status::Complete(len) = response.parse(&buf[..got])? {
                let length = response
                    .headers
                    .iter()
                    .find(|field| field.name.eq_ignore_ascii_case("content-length"))
                    .ok_or("no Content-Length")?;
                break (
                    len,
                    std::str::from_utf8(length.value)?.trim().parse::<usize>()?,
                );
            }
        };
        while got < head_len + body_len {
            match socket.read(&mut buf[got..])? {
                0 => return Err("the server closed the connection".into()),
                n => got += n,
            }
        }
        if got != head_len + body_len {
            return Err("the server sent more than one response".into());
        }
        bytes += body_len as u64;
    }
    report(count, bytes, started);
    Ok(())
}

fn report(count: usize, bytes: u64, started: Instant) {
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "{count} requests, {bytes} body bytes, {:.0} requests/s",
        count as f64 / seconds
    );
}
