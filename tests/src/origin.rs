//! The scripted origin: a real HTTP/1.1 server on 127.0.0.1, on std sockets and threads, that does
//! exactly what it is told, like OkHttp's MockWebServer.
//!
//! Two modes:
//! - **script mode** ([`play`]) runs a vector's `[origin]` steps in order, across connections, and
//!   records what it saw as an [`OriginRecord`]; the runtime runners use it, through
//!   [`play_all`] (which also plays an `[origin 2]` on a second listener), to replay vectors;
//! - **queue mode** ([`Origin`]) answers each request with the next queued [`Reply`]; it is for
//!   hand-written Rust tests that read better than a vector.
//!
//! Neither mode ever waits for the client forever: a step that waits gives up after 10 s and
//! records an error, so a client bug fails a test instead of hanging it.

mod conn;
mod queue;

use std::net::{SocketAddr, TcpListener};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::vector::check::show;
use crate::vector::model::{Authorities, OriginRecord, Step, Variant};
use crate::wire;

use conn::{Conn, Fill};
pub use queue::{After, Origin, OriginBuilder, Reply};

/// How long a step waits for the client (a connection, a request, a close) before failing.
pub const STEP_TIMEOUT: Duration = Duration::from_secs(10);
/// How long [`ScriptedOrigin::finish`] waits for the script to end.
pub const FINISH_TIMEOUT: Duration = Duration::from_secs(15);

/// A script being played on its own thread; see [`play`].
#[derive(Debug)]
pub struct ScriptedOrigin {
    addr: SocketAddr,
    tls: bool,
    shared: Arc<ScriptShared>,
    done: mpsc::Receiver<()>,
    thread: Option<JoinHandle<()>>,
}

#[derive(Debug, Default)]
struct ScriptShared {
    record: Mutex<OriginRecord>,
    /// Set by `finish` or drop: every wait ends and the thread closes everything.
    stop: AtomicBool,
    /// The step being played, for the report when the script does not finish.
    current: Mutex<String>,
}

/// Binds 127.0.0.1 on a free port and plays `steps` on a new thread, as the vector format's
/// `[origin]` table says. `variant` decides how `send` writes: [`Variant::Bytewise`] writes one
/// byte per write; every other variant writes each `send` at once. With `tls`, every accepted
/// connection is served through rustls. `{authority}` and `{port}` in a `send` expand to this
/// origin's.
pub fn play(
    steps: Vec<Step>,
    variant: Variant,
    tls: Option<Arc<rustls::ServerConfig>>,
) -> ScriptedOrigin {
    let listener = bind();
    let authorities = Authorities::one(local_addr(&listener).to_string());
    start(listener, steps, variant, tls, authorities)
}

/// A vector's origins, each playing its own script on its own thread; see [`play_all`].
#[derive(Debug)]
pub struct Origins {
    origins: Vec<ScriptedOrigin>,
    authorities: Authorities,
}

impl Origins {
    /// Where the origins are: `127.0.0.1:PORT` for the first, `localhost:PORT2` for the second.
    pub fn authorities(&self) -> Authorities {
        self.authorities.clone()
    }

    /// Waits for every script to end (see [`ScriptedOrigin::finish`]) and returns what each
    /// origin saw, in order.
    pub fn finish(self) -> Vec<OriginRecord> {
        self.origins
            .into_iter()
            .map(ScriptedOrigin::finish)
            .collect()
    }
}

/// Plays each of `scripts` (a vector's `[origin]`, then its `[origin 2]`) on its own listener:
/// all are bound before any script starts, so every script's `send` can name every origin with
/// the placeholders of [`Authorities`]. The second origin is reached as `localhost`, so a
/// redirect to it changes host and port.
pub fn play_all(scripts: &[Vec<Step>], variant: Variant) -> Origins {
    let listeners: Vec<TcpListener> = scripts.iter().map(|_| bind()).collect();
    let port = |l: &TcpListener| local_addr(l).port();
    let authorities = Authorities {
        first: listeners
            .first()
            .map(|l| format!("127.0.0.1:{}", port(l)))
            .unwrap_or_default(),
        second: listeners
            .get(1)
            .map(|l| format!("{}:{}", Authorities::SECOND_HOST, port(l))),
    };
    let origins = listeners
        .into_iter()
        .zip(scripts)
        .map(|(listener, steps)| start(listener, steps.clone(), variant, None, authorities.clone()))
        .collect();
    Origins {
        origins,
        authorities,
    }
}

fn bind() -> TcpListener {
    TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0")
}

fn local_addr(listener: &TcpListener) -> SocketAddr {
    listener
        .local_addr()
        .expect("local_addr of a bound listener")
}

/// Plays `steps` on `listener` on a new thread, expanding placeholders in `send` with
/// `authorities`.
fn start(
    listener: TcpListener,
    steps: Vec<Step>,
    variant: Variant,
    tls: Option<Arc<rustls::ServerConfig>>,
    authorities: Authorities,
) -> ScriptedOrigin {
    let addr = local_addr(&listener);
    // An empty script has ended before it starts: its listener closes here, before `start`
    // returns, so no client can connect to it in the meantime.
    let listener = (!steps.is_empty()).then_some(listener);
    let shared = Arc::new(ScriptShared::default());
    let (done_tx, done) = mpsc::channel();
    let is_tls = tls.is_some();
    let thread_shared = shared.clone();
    let thread = std::thread::Builder::new()
        .name(format!("scripted-origin-{}", addr.port()))
        .spawn(move || {
            let mut player = Player {
                listener,
                tls,
                variant,
                authorities,
                shared: thread_shared,
                conns: Vec::new(),
                current: None,
                pending_body: None,
            };
            player.run(steps, done_tx);
        })
        .expect("spawn the scripted origin thread");
    ScriptedOrigin {
        addr,
        tls: is_tls,
        shared,
        done,
        thread: Some(thread),
    }
}

impl ScriptedOrigin {
    /// The listening address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `127.0.0.1:PORT`, the value `{authority}` expands to.
    pub fn authority(&self) -> String {
        self.addr.to_string()
    }

    /// `http://` (or `https://` with TLS) + authority + `path`.
    pub fn url(&self, path: &str) -> String {
        let scheme = if self.tls { "https" } else { "http" };
        format!("{scheme}://{}{path}", self.addr)
    }

    /// Waits (at most [`FINISH_TIMEOUT`]) for the script to end, closes whatever is still open and
    /// returns what the origin saw. A script still running then is stopped and recorded as an
    /// error.
    pub fn finish(mut self) -> OriginRecord {
        if self.done.recv_timeout(FINISH_TIMEOUT).is_err() {
            let step = lock(&self.shared.current).clone();
            lock(&self.shared.record).errors.push(format!(
                "the script did not finish within {FINISH_TIMEOUT:?}; it was at {step}"
            ));
        }
        self.stop();
        lock(&self.shared.record).clone()
    }

    fn stop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for ScriptedOrigin {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The script thread's state.
struct Player {
    listener: Option<TcpListener>,
    tls: Option<Arc<rustls::ServerConfig>>,
    variant: Variant,
    /// Expands the placeholders in `send`.
    authorities: Authorities,
    shared: Arc<ScriptShared>,
    /// Every accepted connection, index = number - 1; `None` once reset or closed by the client.
    conns: Vec<Option<Conn>>,
    /// Index into `conns` of the connection steps act on.
    current: Option<usize>,
    /// The request (index into the record) whose head `read-head` took and whose body is unread.
    pending_body: Option<usize>,
}

impl Player {
    fn run(&mut self, steps: Vec<Step>, done: mpsc::Sender<()>) {
        for (i, step) in steps.iter().enumerate() {
            let label = format!("step {} `{}`", i + 1, describe(step));
            *lock(&self.shared.current) = label.clone();
            if self.stopped() {
                break;
            }
            if let Err(e) = self.step(step) {
                lock(&self.shared.record)
                    .errors
                    .push(format!("{label}: {e}"));
                break;
            }
        }
        *lock(&self.shared.current) = "the end of the script".to_string();
        // The script is over: refuse new connections, end ours with FIN, and say so.
        self.listener = None;
        for conn in self.conns.iter_mut().flatten() {
            conn.close_write();
        }
        let _ = done.send(());
        // Keep reading (and discarding) until the clients close or `finish` is called, so that
        // bytes arriving now cannot trigger an RST that would destroy a response in flight.
        let far = Instant::now() + FINISH_TIMEOUT;
        let stop = &self.shared.stop;
        while !stop.load(Ordering::SeqCst) {
            let mut open = false;
            for slot in &mut self.conns {
                if let Some(conn) = slot {
                    conn.buf.clear();
                    match conn.fill(Instant::now() + Duration::from_millis(10), stop) {
                        Fill::Data | Fill::TimedOut => open = true,
                        _ => *slot = None,
                    }
                }
            }
            if !open || Instant::now() > far {
                break;
            }
        }
    }

    fn stopped(&self) -> bool {
        self.shared.stop.load(Ordering::SeqCst)
    }

    fn step(&mut self, step: &Step) -> Result<(), String> {
        let shared = self.shared.clone();
        let stop = &shared.stop;
        match step {
            Step::Accept => {
                let conn = self.accept()?;
                self.conns.push(Some(conn));
                self.current = Some(self.conns.len() - 1);
                lock(&shared.record).connections += 1;
            }
            Step::ReadRequest | Step::ReadHead => {
                let index = self.read_head()?;
                if *step == Step::ReadRequest {
                    self.read_body(index)?;
                } else {
                    self.pending_body = Some(index);
                }
            }
            Step::ReadBody => {
                let index = self
                    .pending_body
                    .take()
                    .ok_or("no request head is waiting for its body")?;
                self.read_body(index)?;
            }
            Step::Send(bytes) => {
                let piece = (self.variant == Variant::Bytewise).then_some(1);
                let bytes = self.authorities.expand(bytes);
                self.conn()?.1.send(&bytes, piece, Duration::ZERO, stop);
            }
            Step::Pause(duration) => conn::sleep(*duration, stop),
            Step::Close => self.conn()?.1.close_write(),
            Step::Reset => {
                let index = self.conn()?.0;
                if let Some(conn) = self.conns[index].take() {
                    conn.reset();
                }
            }
            Step::Stall | Step::AwaitClose => {
                let strict = *step == Step::AwaitClose;
                let (index, conn) = self.conn()?;
                let number = index + 1;
                match conn.wait_for_close(Instant::now() + STEP_TIMEOUT, stop, strict) {
                    Fill::Closed => {
                        self.conns[index] = None;
                        lock(&shared.record).closed_by_client.push(number);
                    }
                    Fill::Data => {
                        return Err(format!(
                            "the client sent {} on connection {number} instead of closing it",
                            show(&conn.buf)
                        ));
                    }
                    Fill::TimedOut => {
                        return Err(format!(
                            "the client did not close connection {number} within {STEP_TIMEOUT:?}"
                        ));
                    }
                    Fill::Stopped => return Err("stopped".to_string()),
                    Fill::Failed(e) => return Err(format!("connection {number}: {e}")),
                }
            }
        }
        Ok(())
    }

    fn accept(&mut self) -> Result<Conn, String> {
        let listener = self.listener.as_ref().ok_or("the listener is closed")?;
        listener.set_nonblocking(true).map_err(|e| e.to_string())?;
        let deadline = Instant::now() + STEP_TIMEOUT;
        loop {
            match listener.accept() {
                Ok((tcp, _)) => {
                    return Conn::new(tcp, self.tls.as_ref()).map_err(|e| e.to_string());
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                Err(e) => return Err(format!("accept failed: {e}")),
            }
            if self.stopped() {
                return Err("stopped".to_string());
            }
            if Instant::now() >= deadline {
                return Err(format!("no connection arrived within {STEP_TIMEOUT:?}"));
            }
            std::thread::sleep(Duration::from_millis(2));
        }
    }

    /// The connection steps act on, with its index.
    fn conn(&mut self) -> Result<(usize, &mut Conn), String> {
        let index = self.current.ok_or("no connection has been accepted")?;
        match self.conns[index].as_mut() {
            Some(conn) => Ok((index, conn)),
            None => Err(format!("connection {} is already closed", index + 1)),
        }
    }

    /// Reads a request head on the current connection and records it; returns its index.
    fn read_head(&mut self) -> Result<usize, String> {
        let shared = self.shared.clone();
        let (index, conn) = self.conn()?;
        let number = index + 1;
        let deadline = Instant::now() + STEP_TIMEOUT;
        loop {
            if let Some(request) = wire::take_head(&mut conn.buf, number)? {
                let mut record = lock(&shared.record);
                record.requests.push(request);
                return Ok(record.requests.len() - 1);
            }
            fill(conn, deadline, &shared.stop, number, "a request head")?;
        }
    }

    /// Reads the body of recorded request `index` from its connection and records it.
    fn read_body(&mut self, index: usize) -> Result<(), String> {
        let mut request = lock(&self.shared.record).requests[index].clone();
        let number = request.conn;
        let conn = self.conns[number - 1]
            .as_mut()
            .ok_or_else(|| format!("connection {number} is already closed"))?;
        let deadline = Instant::now() + STEP_TIMEOUT;
        while !wire::take_body(&mut conn.buf, &mut request)? {
            fill(
                conn,
                deadline,
                &self.shared.stop,
                number,
                "the request body",
            )?;
        }
        lock(&self.shared.record).requests[index] = request;
        Ok(())
    }
}

/// Reads more bytes for `what`, turning every way of getting none into an error message.
fn fill(
    conn: &mut Conn,
    deadline: Instant,
    stop: &AtomicBool,
    number: usize,
    what: &str,
) -> Result<(), String> {
    let result = conn.fill(deadline, stop);
    let so_far = || {
        if conn.buf.is_empty() {
            String::new()
        } else {
            format!(" (received {})", show(&conn.buf))
        }
    };
    match result {
        Fill::Data => Ok(()),
        Fill::Closed => Err(format!(
            "the client closed connection {number} while the origin waited for {what}{}",
            so_far()
        )),
        Fill::TimedOut => Err(format!(
            "timed out after {STEP_TIMEOUT:?} waiting for {what} on connection {number}{}",
            so_far()
        )),
        Fill::Stopped => Err("stopped".to_string()),
        Fill::Failed(e) => Err(format!("connection {number}: {e}")),
    }
}

fn describe(step: &Step) -> String {
    match step {
        Step::Accept => "accept".into(),
        Step::ReadRequest => "read-request".into(),
        Step::ReadHead => "read-head".into(),
        Step::ReadBody => "read-body".into(),
        Step::Send(bytes) => format!("send {}", show(bytes)),
        Step::Pause(d) => format!("pause {d:?}"),
        Step::Close => "close".into(),
        Step::Reset => "reset".into(),
        Step::Stall => "stall".into(),
        Step::AwaitClose => "await-close".into(),
    }
}

/// Locks a mutex even if a panicking thread poisoned it: the record is still worth reporting.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
