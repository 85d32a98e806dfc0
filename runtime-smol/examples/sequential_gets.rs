//! Sequential keep-alive GETs, one after another on one connection: the workload to count the
//! system calls of a request with, under `strace -f -c`, apart from the server's.
//!
//! ```sh
//! cargo run --example sequential_gets -- serve 127.0.0.1:8089 &        # a 13-byte answer
//! cargo run --example sequential_gets -- serve 127.0.0.1:8090 500 &    # after 500 µs
//! strace -f -c cargo run --example sequential_gets -- get-close http://127.0.0.1:8089/ 1000
//! strace -f -c cargo run --example sequential_gets -- get http://127.0.0.1:8089/ 1000
//! ```
//!
//! With `get`, it makes the requests and prints how many it made; with `serve`, it answers every
//! request on every connection with `Hello, world!`, after an optional delay in microseconds
//! (so that every read of the client has to wait for its response).

use std::io::{Read, Write};
use std::net::TcpListener;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        ["serve", addr] => serve(addr, 0),
        ["serve", addr, delay] => serve(addr, delay.parse()?),
        ["get", url, n] => get(url, n.parse()?, false),
        ["get-close", url, n] => get(url, n.parse()?, true),
        _ => Err("usage: sequential_gets serve ADDR [DELAY_US] | get[-close] URL COUNT".into()),
    }
}

/// Answers after `delay_us` microseconds: long enough and every client read has to wait.
fn serve(addr: &str, delay_us: u64) -> Result<(), Box<dyn std::error::Error>> {
    let listener = TcpListener::bind(addr)?;
    for socket in listener.incoming() {
        let mut socket = socket?;
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = socket.read(&mut buf) {
                if n == 0 {
                    return;
                }
                std::thread::sleep(std::time::Duration::from_micros(delay_us));
                let answer = b"HTTP/1.1 200 OK\r\nContent-Length: 13\r\n\r\nHello, world!";
                if socket.write_all(answer).is_err() {
                    return;
                }
                if buf[..n]
                    .windows(17)
                    .any(|w| w.eq_ignore_ascii_case(b"connection: close"))
                {
                    return;
                }
            }
        });
    }
    Ok(())
}

/// `n` GETs one after another; with `close`, each asks for `Connection: close`, so each opens
/// a connection of its own.
fn get(url: &str, n: usize, close: bool) -> Result<(), Box<dyn std::error::Error>> {
    smol::block_on(async {
        let client = wayfarer_smol::Client::new();
        for _ in 0..n {
            let mut request = wayfarer_smol::Request::get(url);
            if close {
                request = request.header("Connection", "close");
            }
            let request = request.build()?;
            let response = client.new_call(request).execute().await?;
            let body = response.into_body().bytes().await?;
            assert_eq!(&body[..], b"Hello, world!");
        }
        println!("{n} requests");
        Ok(())
    })
}
