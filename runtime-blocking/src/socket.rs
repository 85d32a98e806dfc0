//! A TCP socket with the few system calls the driver needs, and no more.
//!
//! Timeouts are socket options; setting one is a system call, so the value last set is
//! remembered and left alone when the next deadline asks for (almost) the same time, a little
//! longer or a little shorter. A keep-alive request then costs one `write` and one `read`. A
//! timeout kept a little shorter than asked that fires is not a timeout yet: the operation
//! waits out the rest, so a deadline never fires early (and at most [`SLACK`] late).

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpStream};
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
    /// The last write went out at its first, non-blocking try (see
    /// [`wrote_at_once`](Self::wrote_at_once)).
    at_once: bool,
}

impl Socket {
    /// A socket whose connect has completed (see `connect.rs`), made blocking again (reads and
    /// writes block with their deadline as the socket timeout) and without Nagle's delay.
    pub(crate) fn connected(stream: Arc<TcpStream>) -> io::Result<Socket> {
        #[cfg(unix)]
        stream.set_nonblocking(false)?;
        stream.set_nodelay(true)?;
        Ok(Socket {
            stream,
            read_timeout: None,
            write_timeout: None,
            at_once: false,
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
        match retrying(|| (&*self.stream).read(buf)) {
            Err(e) if is_timeout(&e) => match shortfall(self.read_timeout, timeout) {
                Some(rest) => {
                    self.stream.set_read_timeout(Some(rest))?;
                    self.read_timeout = Some(rest);
                    retrying(|| (&*self.stream).read(buf))
                }
                None => Err(e),
            },
            r => r,
        }
    }

    /// Whether the last [`write`](Self::write) or [`write_listening`](Self::write_listening)
    /// went out at its first try, without waiting: the caller need not read the clock again.
    pub(crate) fn wrote_at_once(&self) -> bool {
        self.at_once
    }

    pub(crate) fn write(&mut self, buf: &[u8], timeout: Option<Duration>) -> io::Result<usize> {
        self.at_once = false;
        // Most writes fit the socket's send buffer and never wait: until one has had to, try
        // without waiting, so a connection whose writes never block never pays the system
        // call that sets its send timeout.
        #[cfg(any(target_os = "linux", target_os = "android"))]
        if self.write_timeout.is_none() && timeout.is_some() {
            match send_without_waiting(&self.stream, buf) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                other => {
                    self.at_once = other.is_ok();
                    return other;
                }
            }
        }
        if needs_update(self.write_timeout, timeout) {
            self.stream.set_write_timeout(timeout)?;
            self.write_timeout = timeout;
        }
        match retrying(|| (&*self.stream).write(buf)) {
            Err(e) if is_timeout(&e) => match shortfall(self.write_timeout, timeout) {
                Some(rest) => {
                    self.stream.set_write_timeout(Some(rest))?;
                    self.write_timeout = Some(rest);
                    retrying(|| (&*self.stream).write(buf))
                }
                None => Err(e),
            },
            r => r,
        }
    }

    /// Writes a prefix of `buf` for a request the server may answer before reading it all.
    /// The write itself never waits: while the socket has no room, `poll(2)` waits for room or
    /// for bytes to read, whichever comes first. `Ok(None)`: readable first, perhaps with the
    /// server's early answer (a 413 to an upload it then stops reading would otherwise hold a
    /// blocking write until its timeout). An upload that fills the send buffer costs a `poll`
    /// and a failed `send` per refill more than a blocking write, the price async runtimes
    /// always pay.
    #[cfg(any(target_os = "linux", target_os = "android"))]
    pub(crate) fn write_listening(
        &mut self,
        buf: &[u8],
        timeout: Option<Duration>,
    ) -> io::Result<Option<usize>> {
        use rustix::event::{PollFd, PollFlags, Timespec, poll};
        let timeout = timeout.map(Timespec::try_from).transpose().ok().flatten();
        let mut first = true;
        loop {
            match send_without_waiting(&self.stream, buf) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                other => {
                    self.at_once = first && other.is_ok();
                    return other.map(Some);
                }
            }
            first = false;
            self.at_once = false;
            let mut fds = [PollFd::new(&*self.stream, PollFlags::OUT | PollFlags::IN)];
            match poll(&mut fds, timeout.as_ref()) {
                Ok(0) => return Err(io::ErrorKind::TimedOut.into()),
                Ok(_) => {}
                // A signal: wait again (the deadline is checked by the caller afterwards).
                Err(rustix::io::Errno::INTR) => continue,
                Err(e) => return Err(e.into()),
            }
            if fds[0].revents().contains(PollFlags::IN) {
                return Ok(None);
            }
            // Room, or an error or hang-up that the next `send` reports.
        }
    }

    /// Without a non-blocking `send` here, a listening write is a plain one.
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    pub(crate) fn write_listening(
        &mut self,
        buf: &[u8],
        timeout: Option<Duration>,
    ) -> io::Result<Option<usize>> {
        self.write(buf, timeout).map(Some)
    }

    /// Shuts the write side: the peer reads EOF (an upgraded stream's end).
    pub(crate) fn shutdown_write(&self) -> io::Result<()> {
        self.stream.shutdown(Shutdown::Write)
    }

    /// True if the socket is still open with nothing unread: a pooled connection the server has
    /// closed reads EOF, and one it wrote to (an unsolicited 408, say) has bytes waiting.
    /// One `recv(MSG_PEEK | MSG_DONTWAIT)`: the socket stays blocking.
    #[cfg(unix)]
    pub(crate) fn is_healthy(&self) -> bool {
        use rustix::net::{RecvFlags, recv};
        let mut byte = [0u8; 1];
        loop {
            match recv(
                &*self.stream,
                &mut byte[..],
                RecvFlags::PEEK | RecvFlags::DONTWAIT,
            ) {
                Err(rustix::io::Errno::WOULDBLOCK) => return true,
                Err(rustix::io::Errno::INTR) => continue,
                _ => return false,
            }
        }
    }

    /// True if the socket is still open with nothing unread (see the unix version); here the
    /// socket is made non-blocking for the peek and blocking again.
    #[cfg(not(unix))]
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

/// One `send` that never waits (`MSG_DONTWAIT`) and never raises `SIGPIPE` (`MSG_NOSIGNAL`,
/// as the standard library's writes do): `WouldBlock` when the send buffer is full.
#[cfg(any(target_os = "linux", target_os = "android"))]
fn send_without_waiting(stream: &TcpStream, buf: &[u8]) -> io::Result<usize> {
    use rustix::net::{SendFlags, send};
    retrying(|| {
        send(stream, buf, SendFlags::DONTWAIT | SendFlags::NOSIGNAL).map_err(io::Error::from)
    })
}

/// Runs a socket operation again when a signal interrupted it.
fn retrying(mut op: impl FnMut() -> io::Result<usize>) -> io::Result<usize> {
    loop {
        match op() {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            r => return r,
        }
    }
}

/// A socket timeout surfaces as `WouldBlock` on some platforms and `TimedOut` on others.
fn is_timeout(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}

/// Whether the socket option must change to honour `wanted`. A set timeout within `SLACK` of
/// wanted is kept: a longer one fires at most `SLACK` late, a shorter one is made up for by
/// [`shortfall`]. Anything else is updated.
fn needs_update(current: Option<Duration>, wanted: Option<Duration>) -> bool {
    match (current, wanted) {
        (Some(c), Some(w)) => c.max(w) - c.min(w) > SLACK,
        (None, None) => false,
        _ => true,
    }
}

/// After the set timeout `current` fired: how much longer `wanted` still allows, when the
/// timeout was kept shorter than wanted.
fn shortfall(current: Option<Duration>, wanted: Option<Duration>) -> Option<Duration> {
    match (current, wanted) {
        (Some(c), Some(w)) if c < w => Some(w - c),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A connected pair: the client side as a `Socket`, and the server's end.
    fn pair() -> (Socket, TcpStream) {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (server, _) = listener.accept().unwrap();
        (Socket::connected(Arc::new(client)).unwrap(), server)
    }

    /// Waits until the client side can read something (bytes or EOF), without consuming it.
    fn wait_readable(socket: &Socket) {
        socket
            .stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let _ = socket.stream.peek(&mut [0u8; 1]);
    }

    #[test]
    fn a_quiet_socket_is_healthy_and_stays_blocking() {
        let (mut socket, mut server) = pair();
        assert!(socket.is_healthy());
        assert!(socket.is_healthy(), "looking consumes nothing");
        server.write_all(b"hi").unwrap();
        let mut buf = [0u8; 2];
        // Still blocking: the read waits for the bytes rather than failing with WouldBlock.
        let n = socket
            .read(&mut buf, Some(Duration::from_secs(10)))
            .unwrap();
        assert_eq!(&buf[..n], &b"hi"[..n]);
    }

    #[cfg(any(target_os = "linux", target_os = "android"))]
    #[test]
    fn writes_that_never_wait_leave_the_send_timeout_unset_and_one_that_must_wait_times_out() {
        let (mut socket, mut server) = pair();
        let t = Some(Duration::from_millis(200));
        assert_eq!(socket.write(b"GET / HTTP/1.1\r\n\r\n", t).unwrap(), 18);
        assert_eq!(
            socket.write_timeout, None,
            "no system call for the send timeout"
        );
        let mut got = [0u8; 18];
        server.read_exact(&mut got).unwrap();
        assert_eq!(&got, b"GET / HTTP/1.1\r\n\r\n");
        // The server stops reading: the send buffer fills, and a write then waits for its
        // timeout (the socket is still blocking; only the first tries did not wait).
        let chunk = vec![0u8; 256 * 1024];
        let error = loop {
            match socket.write(&chunk, t) {
                Ok(n) => assert!(n > 0),
                Err(e) => break e,
            }
        };
        assert!(is_timeout(&error), "{error}");
        assert!(socket.write_timeout.is_some());
    }

    #[test]
    fn bytes_waiting_or_a_closed_peer_make_a_socket_unhealthy() {
        let (socket, mut server) = pair();
        server
            .write_all(b"HTTP/1.1 408 Request Timeout\r\n\r\n")
            .unwrap();
        wait_readable(&socket);
        assert!(!socket.is_healthy());

        let (socket, server) = pair();
        drop(server);
        wait_readable(&socket);
        assert!(!socket.is_healthy());
    }

    #[test]
    fn timeouts_are_reset_only_when_they_really_change() {
        let s = Duration::from_secs(10);
        assert!(!needs_update(Some(s), Some(s - Duration::from_micros(30))));
        assert!(needs_update(Some(s), Some(s - Duration::from_millis(50))));
        // Slightly longer than set is kept too (the rest is waited out if it fires)...
        assert!(!needs_update(Some(s), Some(s + Duration::from_micros(30))));
        assert_eq!(
            shortfall(Some(s), Some(s + Duration::from_micros(30))),
            Some(Duration::from_micros(30))
        );
        assert_eq!(shortfall(Some(s), Some(s)), None);
        assert_eq!(
            shortfall(Some(s), Some(s - Duration::from_micros(30))),
            None
        );
        assert_eq!(shortfall(None, Some(s)), None);
        // ...but not much longer.
        assert!(needs_update(Some(s), Some(s + Duration::from_millis(50))));
        assert!(needs_update(None, Some(s)));
        assert!(needs_update(Some(s), None));
        assert!(!needs_update(None, None));
    }
}
