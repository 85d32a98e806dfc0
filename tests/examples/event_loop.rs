//! Embedding `wayfarer-core` in a hand-written event loop: several HTTP/1.1 fetches at once, on
//! one thread, over non-blocking `std::net::TcpStream`s and the [`polling`] crate.
//!
//! ```text
//! cargo run -p wayfarer-tests --example event_loop -- http://127.0.0.1:8080/a http://127.0.0.1:8080/b
//! ```
//!
//! prints one line per URL: the status and the body length, or the error. `https://` URLs work
//! too, with no code for them here: TLS lives inside the core, so during a handshake the call just
//! asks for more `Transmit`s and `Receive`s of the same kind as the plain exchange.
//!
//! This file is a tutorial for anyone putting the core into their own loop (an epoll loop, a GUI
//! toolkit's main loop, a game loop, an embedded executor). The runtimes in this repository do the
//! same job with blocking sockets (`wayfarer-blocking`) and futures (`wayfarer-async`); this is
//! the third shape, and the one that shows the contract most plainly.
//!
//! # The pieces
//!
//! - **One [`Client<Socket>`](Client)** holds the configuration and the connection pool. Its type
//!   parameter is *our* socket type: the pool stores whatever the driver gives it and hands it
//!   back on [`Client::acquire`]. Here a [`Socket`] is a non-blocking `TcpStream` registered with
//!   the poller for its whole life (registered when created, deregistered in `Drop`, so the pool
//!   may drop an evicted socket at any time without leaving a dead descriptor in the poller).
//! - **One [`Call`] per URL**, from [`Client::start_call`]. The call is the whole protocol: it
//!   decides what to send, parses what comes back, arms deadlines and says when the connection
//!   can go back to the pool. Our `Task` wraps it with the little a driver adds: the socket in
//!   use, a connect in flight, the body collected so far, and whether the task is runnable.
//! - **One [`Poller`]**: each task's key is its index, so a readiness event names the task to run.
//! - **A clock**: the core never reads one. The loop picks an epoch when it starts and passes
//!   [`Now`] (`Instant::from_std(epoch, std::time::Instant::now())` plus `SystemTime::now()`) to
//!   every `handle_*` call, fresh each time, since deadlines are armed relative to it.
//!
//! # The loop
//!
//! `EventLoop::run` repeats four steps until every call has finished:
//!
//! 1. **Start calls.** At most `per_origin` calls run against one origin at a time ([`fetch_all`]
//!    uses 1, like a browser limiting connections per host, only stricter); the rest wait in a
//!    queue. When a call finishes and puts its connection back in the pool, the next call to that
//!    origin starts and takes the connection from the pool: that is connection reuse. (Calls
//!    started together would each find the pool empty and open a connection of their own.)
//! 2. **Drain every runnable task** (`EventLoop::drive`): call [`Call::poll_output`] and do what
//!    the [`Output`] says, over and over, as far as it goes *without blocking*:
//!    - `Event`: hand it to the configured listener; `Acquire`: look in the pool; `Resolve`:
//!      resolve (blocking here, see below); `Release`: put connection and socket in the pool;
//!      `Close`: drop the socket. Each is answered at once.
//!    - `Connect`: start a non-blocking connect (`socket2`), which usually reports "in progress";
//!      `Transmit`: `write` on the non-blocking socket; `Receive`: `read`. If the socket is not
//!      ready (`WouldBlock`, or a connect still in progress), the task *parks*: it arms the poller
//!      for the readiness it needs (writable for `Connect` and `Transmit`, readable for `Receive`)
//!      and the drain moves on to the next task. A `Transmit` marked `listen` carries request
//!      bytes the server may answer before reading them all: when it finds no room it checks for
//!      bytes to read first (and then tells the call, [`Call::handle_readable`]), and parks for
//!      either readiness. Otherwise the result goes back to the call
//!      (`handle_connected`, `handle_transmitted`, `handle_received`) with a fresh `now`.
//!    - `Response`: the head has arrived; from now on the task reads the body with
//!      [`Call::read_body`] into its own buffer. `Data(n)`: `n` bytes were decoded into it.
//!      `Direct(max)`: nothing is buffered on a plain connection, so read at most `max` bytes from
//!      the socket straight into the buffer and report with [`Call::handle_direct_read`] (no copy
//!      through the call's buffer). `Pending`: the call needs I/O first (a chunk header, or a TLS
//!      record), so perform one more `poll_output` step, which asks for it. `End`: the body is
//!      complete; keep draining `poll_output` for the remaining events, `Release` and `Done`.
//!    - `Done` ends the task with its status and body; an `Err` from `poll_output`, `read_body`
//!      or `handle_direct_read` ends it with that error. Either way only this task is over: the
//!      others keep going.
//! 3. **Wait** ([`Poller::wait`]) until a parked socket is ready, or until the earliest deadline
//!    among the calls ([`Call::poll_timeout`]), whichever comes first. A call's deadline moves as
//!    it makes progress, so it is asked again before every wait.
//! 4. **Feed back.** A readiness event makes its task runnable: the next drain polls the call
//!    again, gets the *same* output again (the core repeats I/O outputs until they are answered)
//!    and retries the I/O, which now succeeds. A passed deadline is reported with
//!    [`Call::handle_timeout`]; the task becomes runnable, and the next `poll_output` says what the
//!    call made of it: the next address to connect to, a held request body to send anyway, or an
//!    `Err` with the timeout. A connect in flight is abandoned then, since the call has moved on.
//!
//! # Two rules that are easy to miss
//!
//! - **`WouldBlock` is the loop's business.** Reporting `WouldBlock` (or `Interrupted`) to the
//!   call changes nothing, and `TimedOut` only expires a deadline that has passed, so passing a
//!   raw result back is safe; but the call would then just ask for the same I/O again, so this
//!   loop keeps `WouldBlock` to itself: it parks the task until the socket is ready and retries.
//! - **Spurious wake-ups are harmless, so don't try to prevent them.** A task woken for nothing
//!   polls, retries its I/O, gets `WouldBlock` and parks again. This is what keeps the
//!   bookkeeping small: a socket taken from the pool gets its new task's key the next time it is
//!   armed, and a stray event (readiness arriving just after a deadline woke the task, a hang-up
//!   on a pooled socket) costs one retry at most.
//!
//! # What this example does not do
//!
//! - Name resolution blocks the loop (`ToSocketAddrs`); IP literals skip it entirely, since the
//!   call connects to them without asking. A production loop would resolve on a helper thread or
//!   with an async resolver, and answer [`Call::handle_resolved`] when the result arrives
//!   (meanwhile `poll_output` keeps returning `Resolve`, so remember that one is in flight, as
//!   this file does for connects).
//! - Only bodyless GETs are sent. A request body given as bytes would need nothing more (the call
//!   sends it itself); one from a reader is pulled on `PullBody` here; one from an async stream
//!   would need a real waker wired into the loop, and fails the call here.
//! - Idle pooled connections are not swept on a timer; a long-running loop would also wake at
//!   [`Client::next_pool_expiry`] and call [`Client::evict_expired`]. Here the pool is dropped
//!   with the loop.
//!
//! The one `unsafe` block registers a socket with the poller; see `Socket::register`.

// polling 3 makes `Poller::add` unsafe: a registered source must be deleted from the poller
// before it is closed. The workspace denies unsafe code; this example needs exactly that one call,
// and `Socket` upholds the contract (see `Socket::register`).
#![allow(unsafe_code)]

use std::collections::{HashMap, VecDeque};
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::process::ExitCode;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};
use std::time::SystemTime;

use polling::{Event, Events, Poller};
use socket2::{Domain, Protocol, Type};
use std::sync::Arc;

use wayfarer_core::{
    Address, BodyRead, Call, Client, Config, ConnId, Error, EventListener, Instant, Now, Output,
    Request,
};

/// What one URL produced: the status and the whole body, or the error that ended its call.
pub type Fetched = Result<(u16, Vec<u8>), Error>;

/// How many bytes of room the body buffer gets for each read.
const READ_CHUNK: usize = 16 * 1024;

/// The poller key of a socket no task is waiting on (`usize::MAX` is reserved by `polling`). An
/// error or hang-up on an idle socket can still produce an event; this key names no task.
const NO_TASK: usize = usize::MAX - 1;

fn main() -> ExitCode {
    let urls: Vec<String> = std::env::args().skip(1).collect();
    if urls.is_empty() {
        eprintln!("usage: event_loop URL...");
        return ExitCode::from(2);
    }
    let mut failed = false;
    for (url, result) in urls.iter().zip(fetch_all(&urls)) {
        match result {
            Ok((status, body)) => println!("{url}: {status}, {} body bytes", body.len()),
            Err(e) => {
                failed = true;
                println!("{url}: {} error: {e}", e.kind());
            }
        }
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

/// GETs every URL concurrently on the calling thread, with the default configuration and one
/// call at a time per origin (so calls to one origin reuse its connection); returns one result
/// per URL, in order.
pub fn fetch_all(urls: &[String]) -> Vec<Fetched> {
    fetch_all_with(Config::default(), 1, urls)
}

/// [`fetch_all`] with a configuration (timeouts, TLS roots, an event listener) and a limit on
/// how many calls run against one origin at a time (at least 1).
pub fn fetch_all_with(config: Config, per_origin: usize, urls: &[String]) -> Vec<Fetched> {
    match EventLoop::new(config, per_origin) {
        Ok(mut event_loop) => event_loop.run(urls),
        Err(e) => urls
            .iter()
            .map(|_| Err(Error::io(format!("cannot create a poller: {e}"), None)))
            .collect(),
    }
}

/// A non-blocking TCP stream, registered with the loop's poller from creation to drop.
///
/// It holds the poller by `Rc`, so it is neither `Send` nor `Sync`, and neither is the
/// `Client<Socket>` whose pool holds it: the compiler itself keeps every socket, and the pool,
/// on the loop's thread.
#[derive(Debug)]
pub struct Socket {
    stream: TcpStream,
    poller: Rc<Poller>,
}

/// The readiness a parked task waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Interest {
    Read,
    Write,
    /// Either: a request's write waits for room while the server may already answer.
    Either,
}

impl Socket {
    /// Registers `stream` (already non-blocking) with `poller`, with no interest yet: a task arms
    /// it with [`Socket::arm`] when it has to wait.
    fn register(stream: TcpStream, poller: &Rc<Poller>) -> io::Result<Socket> {
        // SAFETY: `Poller::add` requires the source to be deleted from the poller before it is
        // closed. The stream moves into the returned `Socket` right after this call, and nothing
        // takes it out again: the descriptor is closed only when the `Socket` drops, and
        // `Socket::drop` deletes it from this same poller (kept alive by the `Rc`) first. If `add`
        // fails, nothing was registered and dropping the stream is fine.
        unsafe { poller.add(&stream, Event::none(NO_TASK))? };
        Ok(Socket {
            stream,
            poller: poller.clone(),
        })
    }

    /// Starts a non-blocking connect to `addr`. Returns the socket and whether the connect has
    /// already completed; if not, wait until it is writable and ask [`Socket::connect_result`].
    fn connect(addr: SocketAddr, poller: &Rc<Poller>) -> io::Result<(Socket, bool)> {
        let raw =
            socket2::Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
        raw.set_nonblocking(true)?;
        raw.set_tcp_nodelay(true)?;
        let connected = match raw.connect(&addr.into()) {
            Ok(()) => true,
            Err(e) if connect_in_progress(&e) => false,
            Err(e) => return Err(e),
        };
        Ok((Socket::register(TcpStream::from(raw), poller)?, connected))
    }

    /// After a writable event: `Some(Ok)` if the connect succeeded, `Some(Err)` if it failed,
    /// `None` if it is still in progress (a spurious wake-up).
    fn connect_result(&self) -> Option<io::Result<()>> {
        match self.stream.take_error() {
            Ok(Some(e)) | Err(e) => Some(Err(e)),
            Ok(None) => match self.stream.peer_addr() {
                Ok(_) => Some(Ok(())),
                Err(e) if e.kind() == io::ErrorKind::NotConnected => None,
                Err(e) => Some(Err(e)),
            },
        }
    }

    /// Asks the poller for one event under `key` when the socket is ready for `interest`.
    /// (`polling` registers in oneshot mode: each event must be asked for again.)
    fn arm(&self, key: usize, interest: Interest) -> io::Result<()> {
        let event = match interest {
            Interest::Read => Event::readable(key),
            Interest::Write => Event::writable(key),
            Interest::Either => Event::all(key),
        };
        self.poller.modify(&self.stream, event)
    }

    /// Withdraws any interest, before the socket idles in the pool.
    fn disarm(&self) {
        let _ = self.poller.modify(&self.stream, Event::none(NO_TASK));
    }

    /// Still open, with no unread bytes: a read would block. (The socket is non-blocking, so
    /// this check never waits, as [`Output::CheckHealth`] requires.)
    fn is_healthy(&self) -> bool {
        !self.is_readable()
    }

    /// Bytes (or the end of the stream) wait to be read. One non-blocking peek.
    fn is_readable(&self) -> bool {
        !matches!(self.stream.peek(&mut [0u8; 1]), Err(e) if e.kind() == io::ErrorKind::WouldBlock)
    }
}

impl Drop for Socket {
    fn drop(&mut self) {
        let _ = self.poller.delete(&self.stream);
    }
}

/// Whether a non-blocking `connect` error only means "in progress": `EINPROGRESS` on Unix
/// (which std cannot name on stable Rust), `WSAEWOULDBLOCK` on Windows.
fn connect_in_progress(e: &io::Error) -> bool {
    #[cfg(unix)]
    if e.raw_os_error() == Some(libc::EINPROGRESS) {
        return true;
    }
    e.kind() == io::ErrorKind::WouldBlock
}

/// The socket the call knows as `id`.
fn socket_of(sockets: &[(ConnId, Socket)], id: ConnId) -> Option<&Socket> {
    sockets.iter().find(|(c, _)| *c == id).map(|(_, s)| s)
}

fn not_connected() -> io::Error {
    io::Error::new(io::ErrorKind::NotConnected, "no socket")
}

/// Where a task is in its exchange.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Driving outputs until `Output::Response`.
    Head,
    /// Reading the body with `read_body`.
    Body,
    /// The body is complete: draining the last outputs (events, `Release`, `Done`).
    Finish,
}

/// One URL's call, with what the driver keeps next to it.
struct Task {
    call: Call,
    /// The origin, for the per-origin limit.
    origin: Address,
    /// The sockets the call is using, by the connection id the call's outputs name.
    sockets: Vec<(ConnId, Socket)>,
    /// The connect attempt still in progress.
    connecting: Option<ConnId>,
    /// The socket the task parked on.
    parked_on: Option<ConnId>,
    /// The call's event listener, from the configuration's factory.
    listener: Option<Arc<dyn EventListener>>,
    phase: Phase,
    status: u16,
    body: Vec<u8>,
    /// Runnable: the next drain drives it. Parked tasks wait for an event or their deadline.
    ready: bool,
}

impl std::fmt::Debug for Task {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Task")
            .field("call", &self.call)
            .field("phase", &self.phase)
            .field("sockets", &self.sockets.len())
            .finish_non_exhaustive()
    }
}

/// What one step of a task ended with.
#[derive(Debug)]
enum Step {
    /// Keep driving.
    Continue,
    /// Park until the socket is ready for this (or the call's deadline passes).
    Wait(Interest),
    /// The call is over.
    Done,
    /// The call failed.
    Failed(Error),
}

/// Calls to one origin: how many run, and the ones waiting for their turn.
#[derive(Debug, Default)]
struct OriginQueue {
    running: usize,
    waiting: VecDeque<(usize, Request)>,
}

/// The loop's state: the shared client, the poller and the clock's epoch.
#[derive(Debug)]
pub struct EventLoop {
    client: Client<Socket>,
    poller: Rc<Poller>,
    epoch: std::time::Instant,
    per_origin: usize,
}

impl EventLoop {
    fn new(config: Config, per_origin: usize) -> io::Result<EventLoop> {
        Ok(EventLoop {
            client: Client::new(config),
            poller: Rc::new(Poller::new()?),
            epoch: std::time::Instant::now(),
            per_origin: per_origin.max(1),
        })
    }

    /// The time, as the core takes it. Read afresh for every input.
    fn now(&self) -> Now {
        let mono = Instant::from_std(self.epoch, std::time::Instant::now());
        Now::new(mono, SystemTime::now())
    }

    /// Runs one call per URL to the end; see the module docs for the four steps.
    fn run(&mut self, urls: &[String]) -> Vec<Fetched> {
        let mut results: Vec<Option<Fetched>> = urls.iter().map(|_| None).collect();
        // Task `i` is URL `i`, and `i` is its poller key.
        let mut tasks: Vec<Option<Task>> = urls.iter().map(|_| None).collect();
        let mut origins: HashMap<Address, OriginQueue> = HashMap::new();
        for (i, url) in urls.iter().enumerate() {
            match Request::get(url).build() {
                Ok(request) => {
                    let origin = Address::from_url(request.url());
                    origins
                        .entry(origin)
                        .or_default()
                        .waiting
                        .push_back((i, request));
                }
                Err(e) => results[i] = Some(Err(e)),
            }
        }
        let mut events = Events::new();
        loop {
            // 1. Start the calls that may run now.
            for queue in origins.values_mut() {
                while queue.running < self.per_origin {
                    let Some((i, request)) = queue.waiting.pop_front() else {
                        break;
                    };
                    let origin = Address::from_url(request.url());
                    let call = self.client.start_call(self.now(), request);
                    let listener = self
                        .client
                        .config()
                        .event_listener_factory()
                        .map(|factory| factory.create(call.id(), call.request()));
                    tasks[i] = Some(Task {
                        listener,
                        call,
                        origin,
                        sockets: Vec::new(),
                        connecting: None,
                        parked_on: None,
                        phase: Phase::Head,
                        status: 0,
                        body: Vec::new(),
                        ready: true,
                    });
                    queue.running += 1;
                }
            }

            // 2. Drain every runnable task until it parks or finishes.
            let mut finished_any = false;
            for (key, slot) in tasks.iter_mut().enumerate() {
                let Some(task) = slot.as_mut().filter(|task| task.ready) else {
                    continue;
                };
                if let Some(result) = self.drive(key, task) {
                    let origin = task.origin.clone();
                    *slot = None; // drops the call and any socket it still held
                    results[key] = Some(result);
                    if let Some(queue) = origins.get_mut(&origin) {
                        queue.running -= 1;
                    }
                    finished_any = true;
                }
            }
            if finished_any {
                // A finished call may have made room for a waiting one (and pooled its
                // connection for it): start it before waiting for anything.
                continue;
            }
            if tasks.iter().all(Option::is_none) {
                break;
            }

            // 3. Wait for readiness or the earliest deadline.
            let now = self.now();
            let deadline = tasks
                .iter()
                .flatten()
                .filter_map(|t| t.call.poll_timeout())
                .min();
            let timeout = deadline.map(|at| at.saturating_duration_since(now.mono));
            events.clear();
            if let Err(e) = self.poller.wait(&mut events, timeout) {
                if e.kind() != io::ErrorKind::Interrupted {
                    // The poller is broken: nothing can make progress any more.
                    for (key, slot) in tasks.iter_mut().enumerate() {
                        if slot.take().is_some() {
                            let message = format!("waiting for the sockets failed: {e}");
                            results[key] = Some(Err(Error::io(message, None)));
                        }
                    }
                    break;
                }
            }

            // 4. Feed back: ready sockets make their tasks runnable; passed deadlines go to
            // their calls.
            for event in events.iter() {
                if let Some(Some(task)) = tasks.get_mut(event.key) {
                    task.ready = true;
                }
            }
            let now = self.now();
            for task in tasks.iter_mut().flatten() {
                if task.call.poll_timeout().is_some_and(|at| at <= now.mono) {
                    // The call moves on (an abandoned connect is closed by a `Close` output
                    // for its id, which the next drain performs).
                    task.call.handle_timeout(now);
                    task.ready = true;
                }
            }
        }
        results
            .into_iter()
            .map(|r| r.unwrap_or_else(|| Err(Error::io("the call never finished", None))))
            .collect()
    }

    /// Drives `task` as far as it goes without blocking. Returns its result once it is over;
    /// `None` when it parked, with the poller armed for its socket under `key`.
    fn drive(&self, key: usize, task: &mut Task) -> Option<Fetched> {
        task.ready = false;
        loop {
            let step = match task.phase {
                Phase::Body => match self.read_body(task) {
                    // The call needs I/O before it can decode more: one output step.
                    None => self.step(task),
                    Some(step) => step,
                },
                Phase::Head | Phase::Finish => self.step(task),
            };
            match step {
                Step::Continue => {}
                Step::Wait(interest) => {
                    let armed = match task.parked_on.and_then(|id| socket_of(&task.sockets, id)) {
                        Some(socket) => socket.arm(key, interest),
                        None => Err(not_connected()),
                    };
                    return match armed {
                        Ok(()) => None,
                        Err(e) => {
                            task.call.cancel(self.now());
                            let message = format!("cannot wait for the socket: {e}");
                            Some(Err(Error::io(message, None)))
                        }
                    };
                }
                Step::Done => return Some(Ok((task.status, std::mem::take(&mut task.body)))),
                Step::Failed(e) => return Some(Err(e)),
            }
        }
    }

    /// Performs one output of the call.
    fn step(&self, task: &mut Task) -> Step {
        // Borrow the fields separately: an `Output` borrows the call (a `Transmit`'s bytes, a
        // `Receive`'s buffer), and the sockets must stay usable next to it.
        let Task {
            call,
            sockets,
            connecting,
            parked_on,
            listener,
            phase,
            status,
            ..
        } = task;
        let output = match call.poll_output(self.now()) {
            Ok(output) => output,
            Err(e) => return Step::Failed(e),
        };
        match output {
            Output::Event(event) => {
                if let Some(listener) = listener {
                    listener.on_event(event);
                }
            }
            Output::Acquire { address } => {
                let pooled = self.client.acquire(self.now().mono, address);
                let conn = pooled.map(|(conn, pooled_socket)| {
                    sockets.push((conn.id(), pooled_socket));
                    conn
                });
                call.handle_acquired(self.now(), conn);
            }
            Output::CheckHealth { conn } => {
                let healthy = socket_of(sockets, conn).is_some_and(Socket::is_healthy);
                call.handle_health(self.now(), conn, healthy);
            }
            Output::Resolve { host, port } => {
                // Blocks the loop: see the module docs.
                let result = (host, port).to_socket_addrs().map(Iterator::collect);
                call.handle_resolved(self.now(), result);
            }
            Output::Connect { conn, addr, .. } => {
                let result = if *connecting == Some(conn) {
                    // Woken up while connecting: see whether the connect finished.
                    match socket_of(sockets, conn).map(Socket::connect_result) {
                        Some(None) => {
                            *parked_on = Some(conn);
                            return Step::Wait(Interest::Write);
                        }
                        Some(Some(result)) => result,
                        None => Err(not_connected()),
                    }
                } else {
                    match Socket::connect(addr, &self.poller) {
                        Ok((new_socket, connected)) => {
                            sockets.push((conn, new_socket));
                            if !connected {
                                *connecting = Some(conn);
                                *parked_on = Some(conn);
                                return Step::Wait(Interest::Write);
                            }
                            Ok(())
                        }
                        Err(e) => Err(e),
                    }
                };
                *connecting = None;
                if result.is_err() {
                    sockets.retain(|(id, _)| *id != conn);
                }
                call.handle_connected(self.now(), conn, result);
            }
            Output::Transmit {
                conn,
                bytes,
                listen,
                ..
            } => {
                let result = match socket_of(sockets, conn) {
                    Some(socket) => (&socket.stream).write(bytes),
                    None => Err(not_connected()),
                };
                match result {
                    // No room, but the server may have answered already (a 413 to an upload
                    // it stopped reading): the call reads that first.
                    Err(e)
                        if e.kind() == io::ErrorKind::WouldBlock
                            && listen
                            && socket_of(sockets, conn).is_some_and(Socket::is_readable) =>
                    {
                        call.handle_readable(self.now(), conn);
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                        *parked_on = Some(conn);
                        return Step::Wait(if listen {
                            Interest::Either
                        } else {
                            Interest::Write
                        });
                    }
                    // The output repeats: the next step writes again.
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    result => call.handle_transmitted(self.now(), conn, result),
                }
            }
            Output::Receive { conn, buf, .. } => {
                let result = match socket_of(sockets, conn) {
                    Some(socket) => (&socket.stream).read(buf),
                    None => Err(not_connected()),
                };
                match result {
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                        *parked_on = Some(conn);
                        return Step::Wait(Interest::Read);
                    }
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    result => call.handle_received(self.now(), conn, result),
                }
            }
            Output::PullBody { body, buf } => {
                // A reader body is always ready. An async stream would need a waker that wakes
                // this loop; this example has none to offer.
                let mut cx = Context::from_waker(Waker::noop());
                match body.poll_read(&mut cx, buf) {
                    Poll::Ready(result) => call.handle_body_pulled(self.now(), result),
                    Poll::Pending => {
                        call.cancel(self.now());
                        return Step::Failed(Error::invalid_input(
                            "this event loop cannot wait for an async request body",
                        ));
                    }
                }
            }
            Output::Response => {
                let Some(head) = call.take_response() else {
                    return Step::Failed(Error::invalid_input("no head to take"));
                };
                *status = head.status().as_u16();
                *phase = Phase::Body;
            }
            Output::Release(conn) => {
                if let Some(i) = sockets.iter().position(|(id, _)| *id == conn.id()) {
                    let (_, socket) = sockets.swap_remove(i);
                    socket.disarm();
                    self.client.release(self.now().mono, conn, socket);
                }
            }
            Output::Close { conn } => {
                // Dropping the socket closes it (and takes it out of the poller).
                sockets.retain(|(id, _)| *id != conn);
                if *connecting == Some(conn) {
                    *connecting = None;
                }
            }
            // This loop configures no interceptors of its own, so the chain never pauses for
            // one.
            Output::Intercept { .. } | Output::Proceeded { .. } => {
                call.cancel(self.now());
                return Step::Failed(Error::invalid_input("no runtime interceptors here"));
            }
            // Nor a cache: only a client with one asks for store operations.
            Output::Cache(_) => {
                call.cancel(self.now());
                return Step::Failed(Error::invalid_input("no cache here"));
            }
            // The call waits for the body to be read, but this task reads the body as soon as the
            // head arrives and polls only when `read_body` says `Pending`: an idle call here
            // would wait forever, so fail it rather than hang.
            Output::Idle => {
                call.cancel(self.now());
                return Step::Failed(Error::io(
                    "the call went idle with nothing to wait for",
                    None,
                ));
            }
            Output::Done => return Step::Done,
        }
        Step::Continue
    }

    /// Reads more of the response body into `task.body`. `None` means `BodyRead::Pending`: the
    /// call needs one output step first.
    fn read_body(&self, task: &mut Task) -> Option<Step> {
        // Decode (or read directly) into spare room at the end of the body, then keep what
        // arrived.
        let start = task.body.len();
        task.body.resize(start + READ_CHUNK, 0);
        let room = &mut task.body[start..];
        let (kept, step) = match task.call.read_body(self.now(), room) {
            Ok(BodyRead::Data(n)) => (n, Some(Step::Continue)),
            Ok(BodyRead::Direct { conn, max }) => {
                let result = match socket_of(&task.sockets, conn) {
                    Some(socket) => (&socket.stream).read(&mut room[..max]),
                    None => Err(not_connected()),
                };
                match result {
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                        task.parked_on = Some(conn);
                        (0, Some(Step::Wait(Interest::Read)))
                    }
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => (0, Some(Step::Continue)),
                    // 0 = the body ended; the next read_body says End.
                    result => match task.call.handle_direct_read(self.now(), result) {
                        Ok(n) => (n, Some(Step::Continue)),
                        Err(e) => (0, Some(Step::Failed(e))),
                    },
                }
            }
            // A body an interceptor made up, or one from a cache: there are none here.
            Ok(BodyRead::Pull(_) | BodyRead::Cached { .. } | BodyRead::CachedInto(_)) => (
                0,
                Some(Step::Failed(Error::invalid_input(
                    "no made-up or cached bodies here",
                ))),
            ),
            Ok(BodyRead::Pending) => (0, None),
            Ok(BodyRead::End) => {
                task.phase = Phase::Finish;
                (0, Some(Step::Continue))
            }
            Err(e) => (0, Some(Step::Failed(e))),
        };
        task.body.truncate(start + kept);
        step
    }
}
