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
//! # the floor: the same GETs written and read by hand (the body must be exactly BODY_LEN bytes)
//! taskset -c 0 perf stat -e task-clock target/release/examples/profile_gets --raw 127.0.0.1:8080 /small.txt 13 100000
//! ```
//!
//! Each run prints how many requests it made and the rate. bench/FINDINGS.md shows what these two
//! told about the keep-alive GET on one core.

use std::io::{Read, Write};
use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match &args[..] {
        [url, count] => wayfarer(url, count.parse()?, false),
        [flag, url, count] if flag == "--close" => wayfarer(url, count.parse()?, true),
        [flag, addr, path, body_len, count] if flag == "--raw" => {
            raw(addr, path, body_len.parse()?, count.parse()?)
        }
        _ => Err(
            "usage: profile_gets URL COUNT | profile_gets --raw HOST:PORT PATH BODY_LEN COUNT"
                .into(),
        ),
    }
}

/// `close`: every request asks for `Connection: close`, so each makes a new connection.
fn wayfarer(url: &str, count: usize, close: bool) -> Result<(), Box<dyn std::error::Error>> {
    let client = wayfarer_blocking::Client::new();
    let mut buf = vec![0u8; 64 * 1024];
    let mut bytes = 0u64;
    let started = Instant::now();
    for _ in 0..count {
        let mut request = wayfarer_core::Request::get(url);
        if close {
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

fn report(count: usize, bytes: u64, started: Instant) {
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "{count} requests, {bytes} body bytes, {:.0} requests/s",
        count as f64 / seconds
    );
}
