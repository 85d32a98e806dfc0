//! The upload sink for W4: a tiny HTTP/1.1 server that reads each request body and throws it
//! away, then answers `200` with an empty body. nginx cannot take a POST to a static location,
//! and a proxying or scripting module would measure nginx rather than the clients.
//!
//! It runs as its own process (this binary with `internal sink`), like nginx, so it can be
//! pinned like nginx and never shares an allocator or a scheduler with a client. It answers
//! `Expect: 100-continue` at once. One thread per connection, reading 256 KiB at a time.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};

use crate::raw_http::{ChunkedCounter, Framing, parse_request};

const READ_SIZE: usize = 256 * 1024;
const OK: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
const OK_CLOSE: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";

/// Serves forever on a free loopback port, after printing the port on its own line.
pub fn serve() -> io::Result<()> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
    println!("{}", listener.local_addr()?.port());
    io::stdout().flush()?;
    for stream in listener.incoming() {
        let stream = stream?;
        std::thread::spawn(move || {
            // A client that goes away mid-request is not the sink's problem.
            let _ = serve_connection(stream);
        });
    }
    Ok(())
}

fn serve_connection(mut stream: TcpStream) -> io::Result<()> {
    stream.set_nodelay(true)?;
    let mut buf = vec![0u8; READ_SIZE];
    // Bytes read but not yet used: the start of the next head, or body bytes after a head.
    let (mut start, mut end) = (0, 0);
    loop {
        let (head, head_len) = loop {
            if let Some(parsed) = parse_request(&buf[start..end]).map_err(invalid)? {
                break parsed;
            }
            if start > 0 {
                buf.copy_within(start..end, 0);
                (start, end) = (0, end - start);
            }
            if end == buf.len() {
                return Err(invalid("request head too large".into()));
            }
            match stream.read(&mut buf[end..])? {
                0 => return Ok(()),
                n => end += n,
            }
        };
        start += head_len;
        if head.expect_continue {
            stream.write_all(b"HTTP/1.1 100 Continue\r\n\r\n")?;
        }
        match head.framing {
            Framing::Length(mut left) => loop {
                let used = left.min((end - start) as u64);
                left -= used;
                start += used as usize;
                if left == 0 {
                    break;
                }
                (start, end) = (0, read_some(&mut stream, &mut buf)?);
            },
            Framing::Chunked => {
                let mut counter = ChunkedCounter::default();
                loop {
                    start += counter.feed(&buf[start..end]).map_err(invalid)?;
                    if counter.is_done() {
                        break;
                    }
                    (start, end) = (0, read_some(&mut stream, &mut buf)?);
                }
            }
        }
        stream.write_all(if head.close { OK_CLOSE } else { OK })?;
        if head.close {
            return Ok(());
        }
    }
}

fn read_some(stream: &mut TcpStream, buf: &mut [u8]) -> io::Result<usize> {
    match stream.read(buf)? {
        0 => Err(io::ErrorKind::UnexpectedEof.into()),
        n => Ok(n),
    }
}

fn invalid(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message)
}

/// The sink process, killed when dropped.
#[derive(Debug)]
pub struct Sink {
    child: Child,
    addr: SocketAddr,
}

impl Sink {
    /// Starts the sink as a child process of this binary and waits for its port.
    pub fn start() -> Result<Sink, String> {
        let exe = std::env::current_exe().map_err(|e| format!("cannot find this binary: {e}"))?;
        let mut child = Command::new(exe)
            .args(["internal", "sink"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot start the upload sink: {e}"))?;
        let mut line = String::new();
        let read = child
            .stdout
            .take()
            .map(|out| BufReader::new(out).read_line(&mut line));
        let port = match (read, line.trim().parse::<u16>()) {
            (Some(Ok(_)), Ok(port)) => port,
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "the upload sink did not report its port ({line:?})"
                ));
            }
        };
        Ok(Sink {
            child,
            addr: SocketAddr::from((Ipv4Addr::LOCALHOST, port)),
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
