//! A TCP socket with the few system calls the driver needs, and no more.
//!
//! Timeouts are socket options; setting one is a system call, so the value last set is
//! remembered and left alone when the next deadline asks for (almost) the same time. A
//! keep-alive request then costs one `write` and one `read`.

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::Duration;

/// How much later than asked a socket timeout may fire, to avoid resetting it on every read.
const SLACK: Duration = Duration::from_millis(5);

/// A connected socket, shared with the call's cancel handle (which may shut it down).
#[derive(Debug)]
pub(crate) struct Socket {
    stream: Arc<TcpStream>,
    read_timeout: Option<Duration>,
    write_timeout: Option<Duration>,
}

impl Socket {
    /// Connects to `addr`. The socket exists before the connect starts and is handed to
    /// `publish` then, so a cancel from another thread can shut it down and end the connect.
    pub(crate) fn connect(
        addr: SocketAddr,
        timeout: Option<Duration>,
        publish: impl FnOnce(Arc<TcpStream>),
    ) -> io::Result<Socket> {
        let domain = socket2::Domain::for_address(addr);
        let raw =
            socket2::Socket::new(domain, socket2::Type::STREAM, Some(socket2::Protocol::TCP))?;
        let stream = Arc::new(TcpStream::from(raw));
        publish(stream.clone());
        let socket = socket2::SockRef::from(&*stream);
        match timeout {
            Some(t) => socket.connect_timeout(&addr.into(), t)?,
            None => socket.connect(&addr.into())?,
        }
        stream.set_nodelay(true)?;
        Ok(Socket {
            stream,
            read_timeout: None,
            write_timeout: None,
        })
    }

    /// A handle the cancel path uses to shut the socket down from another thread.
    pub(crate) fn handle(&self) -> Arc<TcpStream> {
        self.stream.clone()
    }

    pub(crate) fn read(&mut self, buf: &mut [u8], timeout: Option<Duration>) -> io::Result<usize> {
        if needs_update(self.read_timeout, timeout) {
            self.stream.set_read_timeout(timeout)?;
            self.read_timeout = timeout;
        }
        loop {
            match (&*self.stream).read(buf) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                r => return r,
            }
        }
    }

    pub(crate) fn write(&mut self, buf: &[u8], timeout: Option<Duration>) -> io::Result<usize> {
        if needs_update(self.write_timeout, timeout) {
            self.stream.set_write_timeout(timeout)?;
            self.write_timeout = timeout;
        }
        loop {
            match (&*self.stream).write(buf) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                r => return r,
            }
        }
    }

    /// True if the socket is still open with nothing unread: a pooled connection the server has
    /// closed reads EOF, and one it wrote to (an unsolicited 408, say) has bytes waiting.
    pub(crate) fn is_healthy(&self) -> bool {
        if self.stream.set_nonblocking(true).is_err() {
            return false;
        }
        let mut byte = [0u8; 1];
        let healthy =
            matches!(self.stream.peek(&mut byte), Err(e) if e.kind() == io::ErrorKind::WouldBlock);
        healthy && self.stream.set_nonblocking(false).is_ok()
    }
}

impl Drop for Socket {
    fn drop(&mut self) {
        // Another holder (a cancel handle racing with us) must not keep the connection open;
        // when we are the only holder, dropping the stream closes it without an extra call.
        if Arc::strong_count(&self.stream) > 1 {
            let _ = self.stream.shutdown(Shutdown::Both);
        }
    }
}

/// Whether the socket option must change to honour `wanted`. A set timeout slightly longer than
/// wanted is kept (it fires at most `SLACK` late); anything else is updated.
fn needs_update(current: Option<Duration>, wanted: Option<Duration>) -> bool {
    match (current, wanted) {
        (Some(c), Some(w)) => c < w || c - w > SLACK,
        (None, None) => false,
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeouts_are_reset_only_when_they_really_change() {
        let s = Duration::from_secs(10);
        assert!(!needs_update(Some(s), Some(s - Duration::from_micros(30))));
        assert!(needs_update(Some(s), Some(s - Duration::from_millis(50))));
        assert!(needs_update(Some(s), Some(s + Duration::from_micros(1))));
        assert!(needs_update(None, Some(s)));
        assert!(needs_update(Some(s), None));
        assert!(!needs_update(None, None));
    }
}
