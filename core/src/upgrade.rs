//! A connection that switched protocols, handed to the caller as an [`Upgraded`] stream.

use std::fmt;
use std::io;
use std::task::{Context, Poll};

use crate::Error;
use crate::connection::{ConnId, Connection};
use crate::driver::{Driver, Transport};

/// A connection that switched protocols: after `101 Switching Protocols`, the connection is no
/// longer HTTP/1.1 and no longer the pool's. It is handed to the caller as an [`Upgraded`]
/// stream, with the bytes the server sent after the 101's head (the first frames of the new
/// protocol, often in the same segment) still in it, so that WebSocket or any other protocol
/// can be built on top.
///
/// Like the rest of the core, `Upgraded` does no I/O: it is the connection's buffers and, on
/// https, its TLS session. The driver that ran the call hands over the socket with it
/// ([`Driver::into_upgraded`](crate::driver::Driver::into_upgraded) keeps the two together as an
/// [`UpgradedIo`], which reads and writes through the runtime's transport once for every
/// runtime). Reading and writing follow the call's conventions:
///
/// - to read: take [`Upgraded::buffered`] bytes first (the leftover after the head comes
///   first), [`consume`](Upgraded::consume) them; when there are none and
///   [`is_eof`](Upgraded::is_eof) is false, read from the socket into
///   [`recv_buf`](Upgraded::recv_buf) and report with
///   [`handle_received`](Upgraded::handle_received) (0 for EOF);
/// - to write: [`send`](Upgraded::send) the bytes (encrypted on https), then write
///   [`transmit_buf`](Upgraded::transmit_buf) to the socket and report with
///   [`handle_transmitted`](Upgraded::handle_transmitted) until it is `None`.
///
/// ```
/// use wayfarer_core::{Client, Instant, Now, Output, Request};
///
/// let now = Now::new(Instant::ZERO, std::time::SystemTime::UNIX_EPOCH);
/// let client: Client<()> = Client::new(Default::default());
/// let request = Request::get("http://127.0.0.1:8080/chat")
///     .header("Connection", "Upgrade")
///     .header("Upgrade", "example/1")
///     .build()?;
/// let mut call = client.start_call(now, request);
/// // A 101 and, in the same segment, the new protocol's first bytes.
/// let reply: &[u8] = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: example/1\r\n\
///                      Connection: Upgrade\r\n\r\nhello";
/// let mut status = None;
/// loop {
///     match call.poll_output(now)? {
///         Output::Acquire { .. } => call.handle_acquired(now, None),
///         Output::Connect { conn, .. } => call.handle_connected(now, conn, Ok(())),
///         Output::Transmit { conn, bytes, .. } => {
///             let n = bytes.len();
///             call.handle_transmitted(now, conn, Ok(n));
///         }
///         Output::Receive { conn, buf, .. } => {
///             buf[..reply.len()].copy_from_slice(reply);
///             call.handle_received(now, conn, Ok(reply.len()));
///         }
///         Output::Response => status = call.take_response().map(|h| h.status().as_u16()),
///         Output::Done => break,
///         _ => {}
///     }
/// }
/// assert_eq!(status, Some(101));
/// let mut upgraded = call.take_upgraded().expect("a 101 hands the connection over");
/// assert_eq!(upgraded.buffered(), b"hello");
/// upgraded.consume(5);
/// upgraded.send(b"hi back")?;
/// assert_eq!(upgraded.transmit_buf(), Some(&b"hi back"[..]));
/// # Ok::<(), wayfarer_core::Error>(())
/// ```
pub struct Upgraded {
    conn: Connection,
}

impl fmt::Debug for Upgraded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Upgraded")
            .field("conn", &self.conn.id())
            .field("tls", &self.conn.is_tls())
            .field("buffered", &self.conn.inbound_data().len())
            .finish_non_exhaustive()
    }
}

impl Upgraded {
    pub(crate) fn new(conn: Connection) -> Upgraded {
        Upgraded { conn }
    }

    /// The connection's id: the driver's socket for it is the one to read and write.
    pub fn conn(&self) -> ConnId {
        self.conn.id()
    }

    /// Whether the connection runs over TLS (then [`send`](Self::send) encrypts, and
    /// [`handle_received`](Self::handle_received) decrypts).
    pub fn is_tls(&self) -> bool {
        self.conn.is_tls()
    }

    /// Received bytes not yet consumed, plaintext: first whatever followed the 101's head.
    pub fn buffered(&self) -> &[u8] {
        self.conn.inbound_data()
    }

    /// Marks `n` bytes of [`buffered`](Self::buffered) as read.
    pub fn consume(&mut self, n: usize) {
        let n = n.min(self.conn.inbound_data().len());
        self.conn.inbound().consume(n);
    }

    /// Where the next socket read goes (ciphertext on https).
    pub fn recv_buf(&mut self) -> &mut [u8] {
        self.conn.recv_buf()
    }

    /// Records a socket read of `n` bytes into [`recv_buf`](Self::recv_buf); 0 is EOF. On
    /// https the bytes are decrypted into [`buffered`](Self::buffered); a TLS error is final.
    pub fn handle_received(&mut self, n: usize) -> Result<(), Error> {
        self.conn.on_received(n)
    }

    /// Whether the peer has closed its side (no more bytes will arrive once
    /// [`buffered`](Self::buffered) is empty).
    pub fn is_eof(&self) -> bool {
        self.conn.is_eof()
    }

    /// Queues `data` for the peer (encrypting it on https).
    pub fn send(&mut self, data: &[u8]) -> Result<(), Error> {
        self.conn.queue(data)
    }

    /// Ends what this side sends: queues TLS's close_notify on https. Write what
    /// [`transmit_buf`](Self::transmit_buf) then holds, and shut the socket's write side.
    pub fn close(&mut self) {
        self.conn.queue_close();
    }

    /// The bytes to write to the socket next, if any.
    pub fn transmit_buf(&self) -> Option<&[u8]> {
        self.conn.transmit_buf()
    }

    /// Records that `n` bytes of [`transmit_buf`](Self::transmit_buf) were written.
    pub fn handle_transmitted(&mut self, n: usize) {
        self.conn.on_transmitted(n);
    }
}

/// An [`Upgraded`] connection together with the driver that holds its socket: the new
/// protocol's byte stream, written once here for every runtime, which wrap it in their own
/// `Read`/`Write` or async stream types.
///
/// Reads hand out the bytes that followed the 101's head first. Writes are queued (encrypted on
/// https) only once what was queued before has gone out, so at most one write's worth of bytes
/// is ever held. No timeouts apply: the new protocol decides when the peer is too slow.
pub struct UpgradedIo<T: Transport> {
    driver: Driver<T>,
    upgraded: Upgraded,
    /// This side's end was queued ([`poll_shutdown`](Self::poll_shutdown)).
    closed: bool,
}

impl<T: Transport> fmt::Debug for UpgradedIo<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UpgradedIo")
            .field("upgraded", &self.upgraded)
            .finish_non_exhaustive()
    }
}

impl<T: Transport> UpgradedIo<T> {
    pub(crate) fn new(driver: Driver<T>, upgraded: Upgraded) -> UpgradedIo<T> {
        UpgradedIo {
            driver,
            upgraded,
            closed: false,
        }
    }

    /// The connection's buffers.
    pub fn upgraded(&self) -> &Upgraded {
        &self.upgraded
    }

    /// Reads into `buf`: buffered bytes first, else one socket read. `Ok(0)` is the end.
    pub fn poll_read(&mut self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        loop {
            let buffered = self.upgraded.buffered();
            if !buffered.is_empty() {
                let n = buffered.len().min(buf.len());
                buf[..n].copy_from_slice(&buffered[..n]);
                self.upgraded.consume(n);
                return Poll::Ready(Ok(n));
            }
            if self.upgraded.is_eof() {
                return Poll::Ready(Ok(0));
            }
            // TLS may have records of its own to send (a key update's answer) before reading.
            if self.upgraded.transmit_buf().is_some() {
                match self.poll_flush(cx) {
                    Poll::Ready(Ok(())) => {}
                    other => return other.map_ok(|()| 0),
                }
            }
            let conn = self.upgraded.conn();
            let (transport, socket) = self.driver.transport_and_socket(conn);
            let Some(socket) = socket else {
                return Poll::Ready(Err(io::ErrorKind::NotConnected.into()));
            };
            let n = match transport.poll_read(cx, socket, self.upgraded.recv_buf(), None) {
                Poll::Ready(Ok(n)) => n,
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return Poll::Pending,
            };
            self.upgraded.handle_received(n).map_err(io::Error::from)?;
        }
    }

    /// Writes (a prefix of) `buf`: queues it once what was queued before has been written, and
    /// writes as much as the socket takes now. Call [`poll_flush`](Self::poll_flush) to finish.
    pub fn poll_write(&mut self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        match self.poll_flush(cx) {
            Poll::Ready(Ok(())) => {}
            other => return other.map_ok(|()| 0),
        }
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        self.upgraded.send(buf).map_err(io::Error::from)?;
        // Start the write now; what the socket does not take yet goes with the next flush.
        if let Poll::Ready(Err(e)) = self.poll_flush(cx) {
            return Poll::Ready(Err(e));
        }
        Poll::Ready(Ok(buf.len()))
    }

    /// Ends this side of the stream, as a TCP stream's shutdown does: what was queued goes out
    /// (with TLS's close_notify on https) and the socket's write side is shut, so the peer
    /// reads the end. Reading goes on until the peer ends too.
    pub fn poll_shutdown(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if !self.closed {
            std::task::ready!(self.poll_flush(cx))?;
            self.upgraded.close();
            self.closed = true;
        }
        std::task::ready!(self.poll_flush(cx))?;
        let conn = self.upgraded.conn();
        let (transport, socket) = self.driver.transport_and_socket(conn);
        let Some(socket) = socket else {
            return Poll::Ready(Err(io::ErrorKind::NotConnected.into()));
        };
        Poll::Ready(transport.shutdown_write(socket))
    }

    /// Writes everything queued.
    pub fn poll_flush(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let conn = self.upgraded.conn();
        while let Some(bytes) = self.upgraded.transmit_buf() {
            let (transport, socket) = self.driver.transport_and_socket(conn);
            let Some(socket) = socket else {
                return Poll::Ready(Err(io::ErrorKind::NotConnected.into()));
            };
            match transport.poll_write(cx, socket, bytes, None) {
                Poll::Ready(Ok(0)) => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
                Poll::Ready(Ok(n)) => self.upgraded.handle_transmitted(n),
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return Poll::Pending,
            }
        }
        Poll::Ready(Ok(()))
    }
}
