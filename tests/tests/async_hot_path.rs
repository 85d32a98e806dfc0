//! The async runtimes' hot path, seen through a recording [`Net`]: tokio's, counting how often
//! a timer is made or re-armed and how often a read has to wait, and telling the test's server
//! when one does (so that every piece the server sends is waited for, whatever the machine's
//! speed). Bulk reads are checked against a server that reports when the client's receive
//! window is full, so that what a read can get is known.

use std::cell::{Cell, RefCell};
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, mpsc};
use std::task::{Context, Poll};

use tokio::net::TcpStream as TokioStream;
use wayfarer_async::{BoxFuture, Net};
use wayfarer_tokio::Tokio;

thread_local! {
    /// Timers made.
    static MADE: Cell<usize> = const { Cell::new(0) };
    /// Timers re-armed.
    static RESET: Cell<usize> = const { Cell::new(0) };
    /// Reads that found nothing and had to wait.
    static WAITS: Cell<usize> = const { Cell::new(0) };
    /// The largest buffer a read of the socket was given.
    static LARGEST_READ: Cell<usize> = const { Cell::new(0) };
    /// Told of every read that has to wait.
    static ON_WAIT: RefCell<Option<mpsc::Sender<()>>> = const { RefCell::new(None) };
}

/// tokio, recording. The tests run it on a current-thread runtime, so that everything the
/// client does happens on the test's thread and the thread-local counts are the test's own.
struct Recording;

impl Net for Recording {
    type Socket = TokioStream;
    type Timer = <Tokio as Net>::Timer;
    type TimerHome = <Tokio as Net>::TimerHome;

    fn resolve(host: String, port: u16) -> BoxFuture<io::Result<Vec<SocketAddr>>> {
        Tokio::resolve(host, port)
    }
    fn connect(addr: SocketAddr) -> BoxFuture<io::Result<TokioStream>> {
        Tokio::connect(addr)
    }
    fn poll_read(
        socket: &mut TokioStream,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        LARGEST_READ.with(|l| l.set(l.get().max(buf.len())));
        let result = Tokio::poll_read(socket, cx, buf);
        if result.is_pending() {
            WAITS.with(|w| w.set(w.get() + 1));
            ON_WAIT.with(|tx| {
                if let Some(tx) = &*tx.borrow() {
                    let _ = tx.send(());
                }
            });
        }
        result
    }
    fn poll_write(
        socket: &mut TokioStream,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Tokio::poll_write(socket, cx, buf)
    }
    fn is_healthy(socket: &TokioStream) -> bool {
        Tokio::is_healthy(socket)
    }
    fn poll_idle(socket: &mut TokioStream, cx: &mut Context<'_>) -> Poll<()> {
        Tokio::poll_idle(socket, cx)
    }
    fn spawn(future: BoxFuture<()>) {
        Tokio::spawn(future);
    }
    fn now() -> std::time::Instant {
        Tokio::now()
    }
    fn timer_home() -> Option<Self::TimerHome> {
        Tokio::timer_home()
    }
    fn timer(at: std::time::Instant) -> Self::Timer {
        MADE.with(|m| m.set(m.get() + 1));
        Tokio::timer(at)
    }
    fn reset_timer(timer: &mut Self::Timer, at: std::time::Instant) {
        RESET.with(|r| r.set(r.get() + 1));
        Tokio::reset_timer(timer, at);
    }
    fn poll_timer(timer: &mut Self::Timer, cx: &mut Context<'_>) -> Poll<()> {
        Tokio::poll_timer(timer, cx)
    }
    fn unblock<T, F>(f: F) -> BoxFuture<Option<T>>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        Tokio::unblock(f)
    }
}

type Client = wayfarer_async::Client<Recording>;

fn counts() -> (usize, usize, usize) {
    (
        MADE.with(Cell::get),
        RESET.with(Cell::get),
        WAITS.with(Cell::get),
    )
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

/// Reads one request head (no body) from `socket`; false at its end.
fn read_head(socket: &mut TcpStream) -> bool {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match socket.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            _ => return false,
        }
    }
    true
}

/// A server answering each request on one connection with `pieces` pieces of `piece` bytes,
/// each sent only once the client has had to wait for it (told through the returned sender's
/// channel).
fn waiting_server(pieces: usize, piece: usize) -> (u16, mpsc::Sender<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let (tx, rx) = mpsc::channel::<()>();
    std::thread::spawn(move || {
        let (mut socket, _) = listener.accept().expect("accept");
        let data = vec![b'x'; piece];
        while read_head(&mut socket) {
            // Waits told of before this request do not count for it.
            while rx.try_recv().is_ok() {}
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n",
                pieces * piece
            );
            if socket.write_all(head.as_bytes()).is_err() {
                return;
            }
            for _ in 0..pieces {
                if rx.recv().is_err() || socket.write_all(&data).is_err() {
                    return;
                }
            }
        }
    });
    (port, tx)
}

#[test]
fn a_download_of_many_waiting_reads_arms_its_timer_a_bounded_number_of_times() {
    let pieces = 300;
    let (port, tx) = waiting_server(pieces, 4096);
    ON_WAIT.with(|w| *w.borrow_mut() = Some(tx));
    runtime().block_on(async {
        let client = Client::new();
        let url = format!("http://127.0.0.1:{port}/");
        let request = wayfarer_core::Request::get(&url).build().expect("request");
        let before = counts();
        let mut response = client.new_call(request).execute().await.expect("response");
        let mut read = 0;
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            match response.body_mut().read(&mut buf).await.expect("body") {
                0 => break,
                n => read += n,
            }
        }
        assert_eq!(read, pieces * 4096);
        let (made, reset, waits) = counts();
        let (waits, arms) = (waits - before.2, made + reset - before.0 - before.1);
        // Every wait moved the read deadline later; the timer armed for the first one stays
        // armed (it would re-arm once, were the test to outlast that first 10 s deadline).
        assert!(waits >= pieces, "{waits} waits for {pieces} pieces");
        assert!(arms <= 2, "{arms} timer arms for {waits} waiting reads");
    });
    ON_WAIT.with(|w| *w.borrow_mut() = None);
}

#[test]
fn keep_alive_calls_one_after_another_share_one_timer() {
    let calls = 50;
    let (port, tx) = waiting_server(1, 13);
    ON_WAIT.with(|w| *w.borrow_mut() = Some(tx));
    runtime().block_on(async {
        let client = Client::new();
        let url = format!("http://127.0.0.1:{port}/");
        let before = counts();
        for _ in 0..calls {
            let request = wayfarer_core::Request::get(&url).build().expect("request");
            let response = client.new_call(request).execute().await.expect("response");
            assert_eq!(response.into_body().bytes().await.expect("body").len(), 13);
        }
        let (made, reset, waits) = counts();
        assert!(waits - before.2 >= calls, "every call waited for its body");
        // One for the calls, and the pool's cleanup task's own.
        assert!(
            made - before.0 <= 2,
            "{} timers for {calls} calls",
            made - before.0
        );
        assert!(reset - before.1 <= 2, "{} re-arms", reset - before.1);
        assert_eq!(client.idle_connection_count(), 1);
    });
    ON_WAIT.with(|w| *w.borrow_mut() = None);
}

/// What the stalling server is doing.
const WRITING: u8 = 0;
const STALLED: u8 = 1;
const DONE: u8 = 2;

/// A server sending one response of `len` bytes as fast as the client takes it, whose state
/// tells when the client's receive window is full (its write would block) or everything was
/// sent.
fn stalling_server(len: usize) -> (u16, Arc<AtomicU8>) {
    stalling_server_framed(len, true)
}

/// As [`stalling_server`]; without `framed`, the response has no `Content-Length` and its body
/// ends when the server closes the connection.
fn stalling_server_framed(len: usize, framed: bool) -> (u16, Arc<AtomicU8>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let state = Arc::new(AtomicU8::new(WRITING));
    let server_state = state.clone();
    std::thread::spawn(move || {
        let state = server_state;
        let (mut socket, _) = listener.accept().expect("accept");
        if !read_head(&mut socket) {
            return;
        }
        let head = if framed {
            format!("HTTP/1.1 200 OK\r\nContent-Length: {len}\r\n\r\n")
        } else {
            "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n".to_string()
        };
        let mut all = head.into_bytes();
        all.resize(all.len() + len, b'x');
        let mut sent = 0;
        socket.set_nonblocking(true).expect("nonblocking");
        while sent < all.len() {
            match socket.write(&all[sent..]) {
                Ok(n) => sent += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    state.store(STALLED, Ordering::SeqCst);
                    // Wait for the client to read (a blocking write of what is left).
                    socket.set_nonblocking(false).expect("blocking");
                    match socket.write(&all[sent..]) {
                        Ok(n) => sent += n,
                        Err(_) => break,
                    }
                    socket.set_nonblocking(true).expect("nonblocking");
                    state.store(WRITING, Ordering::SeqCst);
                }
                Err(_) => break,
            }
        }
        state.store(DONE, Ordering::SeqCst);
        if !framed {
            // The close ends the body.
            return;
        }
        // Keep the connection open until the client is done with it.
        let mut rest = [0u8; 1];
        socket.set_nonblocking(false).expect("blocking");
        let _ = socket.read(&mut rest);
    });
    (port, state)
}

/// Waits until the server can send no more for now: the next read finds a full window.
fn until_stalled(state: &AtomicU8) {
    while state.load(Ordering::SeqCst) == WRITING {
        std::thread::yield_now();
    }
}

const MIB: usize = 1024 * 1024;

/// The sizes of the chunks of a `len`-byte body read with `chunk()`, with `chunk_size` set if
/// given, each read made once the server can send no more (so it finds a full window).
fn chunk_sizes(len: usize, chunk_size: Option<usize>) -> Vec<usize> {
    chunk_sizes_framed(len, chunk_size, true)
}

/// As [`chunk_sizes`]; without `framed`, the body's length is not known until it ends.
fn chunk_sizes_framed(len: usize, chunk_size: Option<usize>, framed: bool) -> Vec<usize> {
    let (port, stalled) = stalling_server_framed(len, framed);
    let sizes = runtime().block_on(async {
        let client = Client::new();
        let url = format!("http://127.0.0.1:{port}/");
        let request = wayfarer_core::Request::get(&url).build().expect("request");
        let mut response = client.new_call(request).execute().await.expect("response");
        if let Some(size) = chunk_size {
            response.body_mut().set_chunk_size(size);
        }
        let mut sizes = Vec::new();
        loop {
            until_stalled(&stalled);
            match response.body_mut().chunk().await.expect("body") {
                Some(chunk) => sizes.push(chunk.len()),
                None => break,
            }
        }
        sizes
    });
    assert_eq!(sizes.iter().sum::<usize>(), len);
    sizes
}

#[test]
fn chunks_grow_past_64_kib_when_a_larger_chunk_size_is_asked_for() {
    let sizes = chunk_sizes(8 * MIB, Some(4 * MIB));
    let largest = sizes.iter().max().copied().unwrap_or(0);
    println!("{} chunks, the largest {largest} bytes", sizes.len());
    assert!(
        largest > 64 * 1024,
        "the largest of {} chunks is {largest} bytes",
        sizes.len()
    );
}

#[test]
fn chunks_grow_by_default_from_64_kib_up_to_1_mib() {
    let sizes = chunk_sizes(16 * MIB, None);
    assert!(sizes[0] <= 64 * 1024, "{sizes:?}");
    assert!(sizes.iter().all(|&n| n <= MIB), "{sizes:?}");
    assert!(sizes.iter().any(|&n| n > 64 * 1024), "{sizes:?}");
}

#[test]
fn chunks_of_a_short_body_keep_the_first_size() {
    // 1 MiB: not sixteen chunks of 128 KiB.
    let sizes = chunk_sizes(MIB, None);
    assert!(sizes.iter().all(|&n| n <= 64 * 1024), "{sizes:?}");
}

#[test]
fn chunks_stay_within_a_size_the_caller_set() {
    // Long enough that chunks of the default size would grow.
    let sizes = chunk_sizes(16 * MIB, Some(64 * 1024));
    assert!(sizes.iter().all(|&n| n <= 64 * 1024), "{sizes:?}");
}

#[test]
fn chunks_of_a_body_of_unknown_length_grow_up_to_1_mib() {
    let sizes = chunk_sizes_framed(24 * MIB, None, false);
    assert!(sizes[0] <= 64 * 1024, "{sizes:?}");
    assert!(sizes.iter().all(|&n| n <= MIB), "{sizes:?}");
    // Chunks double from 64 KiB: one over 512 KiB means the 1 MiB size was reached. (A read
    // returns what the socket holds, which under load may stay below a whole 1 MiB.)
    assert!(sizes.iter().any(|&n| n > MIB / 2), "{sizes:?}");
}

#[test]
fn a_blocking_read_into_a_large_buffer_gets_more_than_64_kib_at_once() {
    let len = 8 * MIB;
    let (port, stalled) = stalling_server(len);
    let client = wayfarer_blocking::Client::new();
    let url = format!("http://127.0.0.1:{port}/");
    let request = wayfarer_blocking::Request::get(&url)
        .build()
        .expect("request");
    let mut response = client.new_call(request).execute().expect("response");
    let mut buf = vec![0u8; 4 * MIB];
    let mut sizes = Vec::new();
    loop {
        until_stalled(&stalled);
        match response.body_mut().read(&mut buf).expect("body") {
            0 => break,
            n => sizes.push(n),
        }
    }
    assert_eq!(sizes.iter().sum::<usize>(), len);
    let largest = sizes.iter().max().copied().unwrap_or(0);
    assert!(
        largest > 64 * 1024,
        "the largest of {} reads is {largest} bytes",
        sizes.len()
    );
}

#[test]
fn bytes_reads_a_bulk_body_in_pieces_growing_past_64_kib() {
    let len = 8 * MIB;
    let (port, _state) = stalling_server(len);
    let body = runtime().block_on(async {
        let client = Client::new();
        let url = format!("http://127.0.0.1:{port}/");
        let request = wayfarer_core::Request::get(&url).build().expect("request");
        let response = client.new_call(request).execute().await.expect("response");
        LARGEST_READ.with(|l| l.set(0));
        response.into_body().bytes().await.expect("body")
    });
    assert_eq!(body.len(), len);
    assert!(body.iter().all(|&b| b == b'x'));
    let largest = LARGEST_READ.with(Cell::get);
    // Straight into the result as it doubles: the last reads get megabytes of room.
    assert!(
        largest >= 2 * MIB,
        "the largest read had room for {largest} bytes"
    );
}
