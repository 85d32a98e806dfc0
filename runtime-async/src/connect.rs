//! Starting a TCP connect for an async runtime, and noticing when it is already done.
//!
//! A runtime's own connect (`tokio::net::TcpStream::connect`, async-io's
//! `Async::<TcpStream>::connect`) always waits for the socket to become writable, a trip
//! through the reactor: the task returns `Pending` and is polled again after the next
//! `epoll_wait` (on async-io also an interest armed with `epoll_ctl`, and the reactor thread
//! handing the wake-up over). To a loopback or nearby peer the handshake has usually finished
//! by the time `connect` returns `EINPROGRESS`, so [`start_connect`] asks once with
//! `getpeername`, and the runtime waits only when the answer is no. `TCP_NODELAY` is set
//! before connecting, as every socket of ours wants it.

use std::io;
use std::net::{SocketAddr, TcpStream};

/// A non-blocking TCP socket connecting (or connected) to `addr`, with `TCP_NODELAY` set, and
/// whether it is connected already. When it is not, the runtime waits for it to become
/// writable and then reads `SO_ERROR` for the outcome.
///
/// How a [`Net::connect`](crate::Net::connect) uses it:
///
/// ```
/// use std::net::TcpListener;
///
/// let listener = TcpListener::bind("127.0.0.1:0")?;
/// let (socket, connected) = wayfarer_async::start_connect(listener.local_addr()?)?;
/// if !connected {
///     // Here the runtime registers the socket and waits until its reactor reports it
///     // writable; then the connect's outcome is in `SO_ERROR`.
///     if let Some(e) = socket.take_error()? {
///         return Err(e);
///     }
/// }
/// assert!(socket.nodelay()?);
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn start_connect(addr: SocketAddr) -> io::Result<(TcpStream, bool)> {
    let socket = nonblocking_socket(addr)?;
    socket.set_tcp_nodelay(true)?;
    let connected = match socket.connect(&addr.into()) {
        Ok(()) => true,
        Err(e) if in_progress(&e) => socket.peer_addr().is_ok(),
        Err(e) => return Err(e),
    };
    Ok((socket.into(), connected))
}

/// Whether a non-blocking connect's error only says it has not finished yet: `EINPROGRESS`
/// (or `EINTR`, after which the connect goes on as well) on unix, `WSAEWOULDBLOCK` on Windows.
/// Not `EAGAIN` on unix: Linux answers that when it has no local port left, and the socket is
/// not connecting at all.
fn in_progress(e: &io::Error) -> bool {
    #[cfg(unix)]
    return matches!(e.raw_os_error(), Some(libc::EINPROGRESS | libc::EINTR));
    #[cfg(not(unix))]
    return e.kind() == io::ErrorKind::WouldBlock;
}

/// A TCP socket for `addr`, created non-blocking in one system call where the platform can.
fn nonblocking_socket(addr: SocketAddr) -> io::Result<socket2::Socket> {
    let domain = socket2::Domain::for_address(addr);
    let protocol = Some(socket2::Protocol::TCP);
    // In one system call where socket2 offers it (other BSDs could too; they pay an `ioctl`).
    #[cfg(any(target_os = "android", target_os = "freebsd", target_os = "linux"))]
    let socket = socket2::Socket::new(domain, socket2::Type::STREAM.nonblocking(), protocol)?;
    #[cfg(not(any(target_os = "android", target_os = "freebsd", target_os = "linux")))]
    let socket = {
        let socket = socket2::Socket::new(domain, socket2::Type::STREAM, protocol)?;
        socket.set_nonblocking(true)?;
        socket
    };
    Ok(socket)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_socket_is_non_blocking_with_nodelay_and_says_when_it_is_connected() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        let (stream, connected) = start_connect(addr).expect("connect");
        // Over loopback the handshake has nearly always finished within `connect`, but a busy
        // kernel may defer it: only a "connected" must be true.
        if connected {
            assert_eq!(stream.peer_addr().expect("peer"), addr);
        }
        assert!(stream.nodelay().expect("nodelay"));
        // Non-blocking: a read with nothing sent would block rather than wait.
        let mut byte = [0u8; 1];
        let read = std::io::Read::read(&mut &stream, &mut byte);
        assert_eq!(
            read.expect_err("nothing to read").kind(),
            io::ErrorKind::WouldBlock
        );
    }

    #[test]
    fn a_refused_connect_is_not_reported_connected() {
        // A port just released by a listener: nothing listens there now.
        let addr = {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
            listener.local_addr().expect("addr")
        };
        match start_connect(addr) {
            Err(e) => assert_eq!(e.kind(), io::ErrorKind::ConnectionRefused),
            Ok((stream, connected)) => {
                assert!(!connected, "a refused connect is not connected");
                // The refusal is usually in by now; a slow system gets a while to say it.
                let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
                let error = loop {
                    match stream.take_error().expect("SO_ERROR") {
                        Some(e) => break e,
                        None if std::time::Instant::now() < deadline => {
                            std::thread::sleep(std::time::Duration::from_millis(10));
                        }
                        None => panic!("the connect was neither refused nor connected"),
                    }
                };
                assert_eq!(error.kind(), io::ErrorKind::ConnectionRefused);
            }
        }
    }
}
