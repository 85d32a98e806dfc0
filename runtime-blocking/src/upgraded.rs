//! A connection that switched protocols (`101 Switching Protocols`), as a blocking byte
//! stream: see [`Body::into_upgraded`](crate::Body::into_upgraded).

use std::fmt;
use std::io::{self, Read, Write};
use std::task::{Context, Poll, Waker};

use wayfarer_core::UpgradedIo;

use crate::driver::Blocking;

/// The connection of a `101 Switching Protocols` response, now speaking the protocol the
/// request asked to `Upgrade` to: `Read` and `Write` on it go straight to the socket (through
/// TLS on https), starting with the bytes the server sent right after the 101's head.
///
/// Reads and writes block without a timeout; the protocol on top decides how long to wait.
pub struct Upgraded {
    io: UpgradedIo<Blocking>,
}

impl Upgraded {
    pub(crate) fn new(io: UpgradedIo<Blocking>) -> Upgraded {
        Upgraded { io }
    }

    /// Ends this side of the stream, as [`TcpStream::shutdown`](std::net::TcpStream::shutdown)
    /// with `Shutdown::Write` does: what was written goes out (with TLS's close_notify on
    /// https) and the peer reads the end. Reading goes on until the peer ends too.
    pub fn shutdown(&mut self) -> io::Result<()> {
        block(|cx| self.io.poll_shutdown(cx))
    }
}

/// Runs one of the stream's operations to completion: the blocking transport blocks inside it
/// and never returns `Pending`, so a noop waker is all it needs.
fn block<T>(op: impl FnOnce(&mut Context<'_>) -> Poll<io::Result<T>>) -> io::Result<T> {
    match op(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(result) => result,
        Poll::Pending => Err(io::ErrorKind::WouldBlock.into()),
    }
}

impl Read for Upgraded {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        block(|cx| self.io.poll_read(cx, buf))
    }
}

impl Write for Upgraded {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = block(|cx| self.io.poll_write(cx, buf))?;
        // Everything written goes out before write returns, as on a TcpStream.
        block(|cx| self.io.poll_flush(cx))?;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        block(|cx| self.io.poll_flush(cx))
    }
}

impl fmt::Debug for Upgraded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Upgraded")
            .field("conn", &self.io.upgraded().conn())
            .finish_non_exhaustive()
    }
}
