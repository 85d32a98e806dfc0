//! An address where a TCP connect never completes, for connect-timeout tests.
//!
//! [`Unanswered`] is a listening socket on 127.0.0.1 that never accepts and whose accept queue is
//! already full: Linux then drops every new SYN, so a client's connect neither succeeds nor is
//! refused, exactly like a host behind a firewall that drops packets. Nothing leaves the machine.

use std::io;
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use socket2::{Domain, Socket, Type};

/// How long a filling connect may wait before the queue is taken to be full.
const FILL_PROBE: Duration = Duration::from_millis(200);

/// Most connections the queue can take before it is full (the kernel rounds a small backlog up a
/// little on some systems).
const MAX_FILL: usize = 64;

/// A listener whose connects hang; see the module docs. Dropping it closes everything.
#[derive(Debug)]
pub struct Unanswered {
    addr: SocketAddr,
    _listener: Socket,
    /// The connections that fill the accept queue: they must stay open.
    _queued: Vec<TcpStream>,
}

impl Unanswered {
    /// Binds 127.0.0.1 on a free port with the smallest backlog and fills its accept queue.
    ///
    /// # Panics
    ///
    /// If the socket cannot be set up, or the queue never fills (a system that answers SYNs for
    /// a full queue), which would make every test using it meaningless.
    pub fn start() -> Unanswered {
        let listener = Socket::new(Domain::IPV4, Type::STREAM, None).expect("socket");
        let any: SocketAddr = "127.0.0.1:0".parse().expect("a socket address");
        listener.bind(&any.into()).expect("bind 127.0.0.1:0");
        listener.listen(0).expect("listen");
        let addr = listener
            .local_addr()
            .expect("local_addr")
            .as_socket()
            .expect("an IP socket address");
        let mut queued = Vec::new();
        loop {
            match TcpStream::connect_timeout(&addr, FILL_PROBE) {
                Ok(stream) => queued.push(stream),
                Err(e) if e.kind() == io::ErrorKind::TimedOut => break,
                Err(e) => panic!("filling the accept queue of {addr}: {e}"),
            }
            assert!(
                queued.len() < MAX_FILL,
                "the accept queue of {addr} never filled: connects to it would not hang"
            );
        }
        Unanswered {
            addr,
            _listener: listener,
            _queued: queued,
        }
    }

    /// The address whose connects hang.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://` + the address + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }
}
