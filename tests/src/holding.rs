//! An origin that holds every request until the test releases it, for dispatcher tests: which
//! calls reach the server, in which order, and how many at once, is then up to the client.
//!
//! Each request is answered `200 OK` with its own path as the body, once released. Requests are
//! reported as they arrive ([`HoldingOrigin::next_arrival`]), so a test waits for events, never
//! for time.

use std::collections::HashSet;
use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::Duration;

use crate::origin::STEP_TIMEOUT;
use crate::wire;

/// A request that arrived, with the number of the connection it came on (1, 2, ...).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Arrival {
    /// The request target, e.g. `/a1`.
    pub path: String,
    /// The `Host` header as sent.
    pub host: String,
    /// The connection it came on, numbered in accept order.
    pub conn: usize,
}

#[derive(Default)]
struct Shared {
    released: Mutex<HashSet<String>>,
    changed: Condvar,
    stop: AtomicBool,
    streams: Mutex<Vec<TcpStream>>,
}

/// The holding origin; dropping it closes every connection.
#[derive(Debug)]
pub struct HoldingOrigin {
    addr: SocketAddr,
    arrivals: Receiver<Arrival>,
    shared: Arc<Shared>,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared").finish_non_exhaustive()
    }
}

impl HoldingOrigin {
    /// Binds 127.0.0.1 on a free port and starts accepting.
    pub fn start() -> HoldingOrigin {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local_addr");
        let (tx, arrivals) = mpsc::channel();
        let shared = Arc::new(Shared::default());
        let accept_shared = shared.clone();
        thread::spawn(move || accept(listener, tx, accept_shared));
        HoldingOrigin {
            addr,
            arrivals,
            shared,
        }
    }

    /// `http://HOST:PORT/PATH` where HOST names this origin: `127.0.0.1` and `localhost` are two
    /// hosts to the dispatcher (it counts by host name), one server here.
    pub fn url(&self, host: &str, path: &str) -> String {
        format!("http://{host}:{}{path}", self.addr.port())
    }

    /// The next request to arrive, or `None` after `timeout`.
    pub fn try_next_arrival(&self, timeout: Duration) -> Option<Arrival> {
        self.arrivals.recv_timeout(timeout).ok()
    }

    /// The next request to arrive; panics if none does within 10 s.
    pub fn next_arrival(&self) -> Arrival {
        self.try_next_arrival(STEP_TIMEOUT)
            .unwrap_or_else(|| panic!("no request arrived within {STEP_TIMEOUT:?}"))
    }

    /// Lets the request for `path` be answered (now or when it arrives).
    pub fn release(&self, path: &str) {
        let mut released = self.shared.released.lock().expect("lock");
        released.insert(path.to_owned());
        self.shared.changed.notify_all();
    }
}

impl Drop for HoldingOrigin {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        self.shared.changed.notify_all();
        for stream in self.shared.streams.lock().expect("lock").drain(..) {
            let _ = stream.shutdown(Shutdown::Both);
        }
        // Wake the accept loop.
        let _ = TcpStream::connect(self.addr);
    }
}

fn accept(listener: TcpListener, tx: Sender<Arrival>, shared: Arc<Shared>) {
    let mut number = 0;
    for stream in listener.incoming() {
        if shared.stop.load(Ordering::SeqCst) {
            return;
        }
        let Ok(stream) = stream else { continue };
        number += 1;
        if let Ok(control) = stream.try_clone() {
            shared.streams.lock().expect("lock").push(control);
        }
        let (tx, shared) = (tx.clone(), shared.clone());
        thread::spawn(move || serve(stream, number, &tx, &shared));
    }
}

fn serve(mut stream: TcpStream, conn: usize, tx: &Sender<Arrival>, shared: &Shared) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let request = loop {
            match wire::take_head(&mut buf, conn) {
                Ok(Some(request)) => break request,
                Ok(None) => {}
                Err(_) => return,
            }
            match stream.read(&mut chunk) {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        };
        let path = request
            .line
            .split(' ')
            .nth(1)
            .unwrap_or_default()
            .to_owned();
        let host = request
            .headers
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case("host"))
            .map(|(_, value)| String::from_utf8_lossy(value).into_owned())
            .unwrap_or_default();
        let _ = tx.send(Arrival {
            path: path.clone(),
            host,
            conn,
        });
        {
            let mut released = shared.released.lock().expect("lock");
            while !released.contains(&path) {
                if shared.stop.load(Ordering::SeqCst) {
                    return;
                }
                released = shared.changed.wait(released).expect("lock");
            }
        }
        let response = format!(
            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{path}",
            path.len()
        );
        if stream.write_all(response.as_bytes()).is_err() {
            return;
        }
    }
}
