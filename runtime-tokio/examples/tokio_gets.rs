//! Sequential GETs on one tokio client, on a current-thread runtime: the async counterpart of
//! the blocking runtime's `profile_gets`, for `perf stat -e task-clock`, `perf record` and
//! `strace -c` against any local server, next to a raw tokio loop doing the same exchange by
//! hand.
//!
//! ```sh
//! cargo build --release -p wayfarer-tokio --example tokio_gets
//! # wayfarer: COUNT keep-alive GETs of URL
//! taskset -c 0 perf stat -e task-clock target/release/examples/tokio_gets http://127.0.0.1:8080/small.txt 100000
//! # the same with `Connection: close`: a new connection per request
//! taskset -c 0 perf stat -e task-clock target/release/examples/tokio_gets --close http://127.0.0.1:8080/small.txt 20000
//! # the floor by hand, keep-alive or a new connection each time (the body must be BODY_LEN bytes)
//! taskset -c 0 perf stat -e task-clock target/release/examples/tokio_gets --raw 127.0.0.1:8080 /small.txt 13 100000
//! taskset -c 0 perf stat -e task-clock target/release/examples/tokio_gets --raw-close 127.0.0.1:8080 /small.txt 13 20000
//! ```

use std::time::Instant;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    match &args[..] {
        [url, count] => runtime.block_on(wayfarer(url, count.parse()?, false)),
        [flag, url, count] if flag == "--close" => {
            runtime.block_on(wayfarer(url, count.parse()?, true))
        }
        [flag, addr, path, body_len, count] if flag == "--raw" || flag == "--raw-close" => {
            let close = flag == "--raw-close";
            runtime.block_on(raw(addr, path, body_len.parse()?, count.parse()?, close))
        }
        _ => Err("usage: tokio_gets [--close] URL COUNT | \
                  tokio_gets --raw|--raw-close HOST:PORT PATH BODY_LEN COUNT"
            .into()),
    }
}

/// `close`: every request asks for `Connection: close`, so each makes a new connection.
async fn wayfarer(url: &str, count: usize, close: bool) -> Result<()> {
    let client = wayfarer_tokio::Client::new();
    let mut bytes = 0u64;
    let started = Instant::now();
    for _ in 0..count {
        let mut request = wayfarer_tokio::Request::get(url);
        if close {
            request = request.header("Connection", "close");
        }
        let mut response = client.new_call(request.build()?).execute().await?;
        while let Some(chunk) = response.body_mut().chunk().await? {
            bytes += chunk.len() as u64;
        }
    }
    report(count, bytes, started);
    Ok(())
}

/// The same GETs by hand: write the request, read until the head and `body_len` body bytes are
/// in. Only for a server that answers with `Content-Length`. With `close`, each request goes
/// on a new connection that is dropped once the response is in, as the suite's floor does.
async fn raw(addr: &str, path: &str, body_len: usize, count: usize, close: bool) -> Result<()> {
    let connect = || async {
        let socket = tokio::net::TcpStream::connect(addr).await?;
        socket.set_nodelay(true)?;
        Ok::<_, std::io::Error>(socket)
    };
    let mut socket = connect().await?;
    let field = if close { "Connection: close\r\n" } else { "" };
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\n{field}\r\n");
    let mut buf = vec![0u8; 64 * 1024];
    let mut bytes = 0u64;
    let started = Instant::now();
    for i in 0..count {
        if close && i > 0 {
            socket = connect().await?;
        }
        socket.write_all(request.as_bytes()).await?;
        let mut got = 0;
        let whole = loop {
            let n = socket.read(&mut buf[got..]).await?;
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
