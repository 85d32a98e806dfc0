//! The demo's origin: a small HTTP/1.1 server on 127.0.0.1, in this process.
//!
//! It answers each request with the [`Step`] whose path it names (or lies under), keeps
//! connections alive, and behaves as a server should around `Expect: 100-continue`: it sends
//! `100 Continue` before reading the body. It lives only as long as the demo, on threads that end with the process.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::thread;

use wayfarer_blocking::Url;

use super::Step;

/// The most a request head may take; the demo's requests are far smaller.
const MAX_HEAD: usize = 64 * 1024;
/// The most header fields a request may have.
const MAX_FIELDS: usize = 64;

/// A request as the origin read it.
#[derive(Debug, Default)]
pub struct Received {
    /// The request target (path and query).
    pub target: String,
    /// The header fields, in order.
    pub headers: Vec<(String, Vec<u8>)>,
    /// The body (the demo's requests send `Content-Length`).
    pub body: Vec<u8>,
}

impl Received {
    /// The first field named `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&[u8]> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_slice())
    }
}

/// The running origin.
#[derive(Debug)]
pub struct Origin {
    addr: SocketAddr,
}

impl Origin {
    /// Binds 127.0.0.1 on a free port and serves `steps` until the process ends.
    pub fn start(steps: &'static [Step]) -> io::Result<Origin> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        thread::Builder::new()
            .name("demo-origin".into())
            .spawn(move || {
                for stream in listener.incoming().flatten() {
                    let _ = thread::Builder::new()
                        .name("demo-origin-conn".into())
                        .spawn(move || serve(stream, steps));
                }
            })?;
        Ok(Origin { addr })
    }

    /// `127.0.0.1:PORT`.
    pub fn authority(&self) -> String {
        self.addr.to_string()
    }

    /// The URL of `path` on this origin.
    pub fn url(&self, path: &str) -> Url {
        // An IP address, a port and an absolute path always make a valid URL.
        Url::parse(&format!("http://{}{path}", self.addr))
            .unwrap_or_else(|e| unreachable!("demo URL for {path:?}: {e}"))
    }
}

/// Serves one connection until the client closes it or sends something it cannot read.
fn serve(mut stream: TcpStream, steps: &[Step]) {
    let mut buf = Vec::new();
    while let Ok(Some(mut received)) = read_head(&mut stream, &mut buf) {
        let expects_continue = received
            .header("expect")
            .is_some_and(|v| v.eq_ignore_ascii_case(b"100-continue"));
        let length = received
            .header("content-length")
            .and_then(|v| std::str::from_utf8(v).ok()?.trim().parse::<usize>().ok())
            .unwrap_or(0);
        if expects_continue
            && length > 0
            && stream.write_all(b"HTTP/1.1 100 Continue\r\n\r\n").is_err()
        {
            return;
        }
        if read_body(&mut stream, &mut buf, length, &mut received).is_err() {
            return;
        }
        let path = received.target.split('?').next().unwrap_or_default();
        let owns = |step: &&Step| {
            path == step.path
                || path
                    .strip_prefix(step.path)
                    .is_some_and(|rest| rest.starts_with('/'))
        };
        let reply = match steps.iter().find(owns) {
            Some(step) => (step.respond)(&received),
            None => super::response("404 Not Found", "", b"No such demo step.\n"),
        };
        if stream.write_all(&reply).is_err() {
            return;
        }
    }
}

/// Reads the next request head from `stream` (with what `buf` already holds); `None` at a clean
/// end of the connection.
fn read_head(stream: &mut TcpStream, buf: &mut Vec<u8>) -> io::Result<Option<Received>> {
    loop {
        let mut fields = [httparse::EMPTY_HEADER; MAX_FIELDS];
        let mut request = httparse::Request::new(&mut fields);
        match request.parse(buf) {
            Ok(httparse::Status::Complete(len)) => {
                let received = Received {
                    target: request.path.unwrap_or_default().to_string(),
                    headers: request
                        .headers
                        .iter()
                        .map(|h| (h.name.to_string(), h.value.to_vec()))
                        .collect(),
                    body: Vec::new(),
                };
                buf.drain(..len);
                return Ok(Some(received));
            }
            Ok(httparse::Status::Partial) if buf.len() < MAX_HEAD => {}
            Ok(httparse::Status::Partial) => {
                return Err(io::Error::other("request head too large"));
            }
            Err(e) => return Err(io::Error::new(io::ErrorKind::InvalidData, e)),
        }
        if fill(stream, buf)? == 0 {
            return Ok(None);
        }
    }
}

/// Reads a `length`-byte body into `received`.
fn read_body(
    stream: &mut TcpStream,
    buf: &mut Vec<u8>,
    length: usize,
    received: &mut Received,
) -> io::Result<()> {
    while buf.len() < length {
        if fill(stream, buf)? == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
    }
    received.body = buf.drain(..length).collect();
    Ok(())
}

/// Appends what one read returns to `buf`.
fn fill(stream: &mut TcpStream, buf: &mut Vec<u8>) -> io::Result<usize> {
    let mut chunk = [0u8; 8192];
    let n = stream.read(&mut chunk)?;
    buf.extend_from_slice(&chunk[..n]);
    Ok(n)
}
