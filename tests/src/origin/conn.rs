//! One accepted connection of either origin mode: plain TCP or rustls over TCP, with the reads,
//! writes and endings the scripts need.

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// How long one blocking read may wait before the caller's stop flag and deadline are checked
/// again; bounds how long shutting an origin down can take.
const SLICE: Duration = Duration::from_millis(50);

/// What one attempt to read more bytes came to.
#[derive(Debug)]
pub(crate) enum Fill {
    /// Bytes were appended to [`Conn::buf`].
    Data,
    /// The client closed (FIN, or a TLS close) or reset the connection.
    Closed,
    /// The deadline passed with nothing to read.
    TimedOut,
    /// The origin is shutting down.
    Stopped,
    /// Anything else: a TLS failure, an unexpected socket error.
    Failed(String),
}

enum Stream {
    Plain(TcpStream),
    Tls(Box<rustls::StreamOwned<rustls::ServerConnection, TcpStream>>),
}

/// An accepted connection and the bytes read from it that no request has consumed yet.
pub(crate) struct Conn {
    stream: Stream,
    /// A second handle on the socket for timeouts, shutdown and SO_LINGER.
    ctl: TcpStream,
    /// Bytes received and not yet taken by `wire::take_head` / `take_body`.
    pub(crate) buf: Vec<u8>,
    /// A write failed (the client went away); later writes are skipped.
    broken: bool,
}

impl Conn {
    /// Wraps an accepted socket, in TLS when `tls` is given (the handshake happens on first use).
    /// Nagle is off so every write leaves at once: each `send` (or each byte, bytewise) is its own
    /// segment and no write waits for a delayed ACK.
    pub(crate) fn new(tcp: TcpStream, tls: Option<&Arc<rustls::ServerConfig>>) -> io::Result<Conn> {
        tcp.set_nonblocking(false)?;
        tcp.set_nodelay(true)?;
        let ctl = tcp.try_clone()?;
        let stream = match tls {
            None => Stream::Plain(tcp),
            Some(config) => {
                let server =
                    rustls::ServerConnection::new(config.clone()).map_err(io::Error::other)?;
                Stream::Tls(Box::new(rustls::StreamOwned::new(server, tcp)))
            }
        };
        Ok(Conn {
            stream,
            ctl,
            buf: Vec::new(),
            broken: false,
        })
    }

    /// Whether this connection's TLS handshake resumed an earlier session (false for plain
    /// HTTP, and before the handshake is done).
    pub(crate) fn resumed(&self) -> bool {
        match &self.stream {
            Stream::Tls(s) => s.conn.handshake_kind() == Some(rustls::HandshakeKind::Resumed),
            Stream::Plain(_) => false,
        }
    }

    /// A handle on the socket that lets another thread shut it down.
    pub(crate) fn control(&self) -> io::Result<TcpStream> {
        self.ctl.try_clone()
    }

    /// Reads once more into [`Conn::buf`], waiting until `deadline` at most.
    pub(crate) fn fill(&mut self, deadline: Instant, stop: &AtomicBool) -> Fill {
        let mut chunk = [0u8; 16 * 1024];
        loop {
            if stop.load(Ordering::SeqCst) {
                return Fill::Stopped;
            }
            let now = Instant::now();
            if now >= deadline {
                return Fill::TimedOut;
            }
            let wait = (deadline - now).min(SLICE);
            if let Err(e) = self.ctl.set_read_timeout(Some(wait)) {
                return Fill::Failed(format!("cannot set a read timeout: {e}"));
            }
            let read = match &mut self.stream {
                Stream::Plain(s) => s.read(&mut chunk),
                Stream::Tls(s) => s.read(&mut chunk),
            };
            match read {
                Ok(0) => return Fill::Closed,
                Ok(n) => {
                    self.buf.extend_from_slice(&chunk[..n]);
                    return Fill::Data;
                }
                Err(e) => match e.kind() {
                    io::ErrorKind::WouldBlock
                    | io::ErrorKind::TimedOut
                    | io::ErrorKind::Interrupted => {}
                    io::ErrorKind::ConnectionReset
                    | io::ErrorKind::ConnectionAborted
                    | io::ErrorKind::UnexpectedEof
                    | io::ErrorKind::BrokenPipe => return Fill::Closed,
                    _ => return Fill::Failed(e.to_string()),
                },
            }
        }
    }

    /// Writes `bytes` as one write, or, with `piece` set, in pieces of that many bytes with
    /// `gap` between them. A client that went away is not an error here: the client's own
    /// outcome says whether leaving early was right.
    pub(crate) fn send(
        &mut self,
        bytes: &[u8],
        piece: Option<usize>,
        gap: Duration,
        stop: &AtomicBool,
    ) {
        let size = piece.unwrap_or(bytes.len()).max(1);
        for (i, part) in bytes.chunks(size).enumerate() {
            if self.broken || stop.load(Ordering::SeqCst) {
                return;
            }
            if i > 0 && !gap.is_zero() {
                sleep(gap, stop);
            }
            let result = match &mut self.stream {
                Stream::Plain(s) => s.write_all(part).and_then(|()| s.flush()),
                Stream::Tls(s) => s.write_all(part).and_then(|()| s.flush()),
            };
            if result.is_err() {
                self.broken = true;
            }
        }
    }

    /// Ends our side cleanly: a TLS close_notify, then FIN. The socket stays open for reading, so
    /// bytes the client sends afterwards do not provoke an RST that could destroy data the client
    /// has not read yet.
    pub(crate) fn close_write(&mut self) {
        if let Stream::Tls(s) = &mut self.stream {
            s.conn.send_close_notify();
            let _ = s.flush();
        }
        let _ = self.ctl.shutdown(Shutdown::Write);
    }

    /// Aborts the connection: SO_LINGER 0, then close, so the kernel sends RST.
    pub(crate) fn reset(self) {
        let _ = socket2::SockRef::from(&self.ctl).set_linger(Some(Duration::ZERO));
        drop(self);
    }

    /// Reads and discards until the client closes, the deadline passes or the origin stops;
    /// returns how it ended. With `strict`, the first unexpected byte ends the wait instead
    /// (returned as `Fill::Data`, the bytes left in [`Conn::buf`]).
    pub(crate) fn wait_for_close(
        &mut self,
        deadline: Instant,
        stop: &AtomicBool,
        strict: bool,
    ) -> Fill {
        loop {
            if strict && !self.buf.is_empty() {
                return Fill::Data;
            }
            self.buf.clear();
            match self.fill(deadline, stop) {
                Fill::Data => {}
                other => return other,
            }
        }
    }
}

/// Sleeps for `duration`, waking early when `stop` is set.
pub(crate) fn sleep(duration: Duration, stop: &AtomicBool) {
    let end = Instant::now() + duration;
    while !stop.load(Ordering::SeqCst) {
        let now = Instant::now();
        if now >= end {
            return;
        }
        std::thread::sleep((end - now).min(Duration::from_millis(10)));
    }
}
