//! The pool's cleanup on every runtime, against a real socket: an idle connection is closed
//! soon after its keep-alive ends while the application does nothing, and a connection that
//! receives bytes while idle, or had bytes left over at release, is closed and never read by
//! the next call.
//!
//! The schedule itself is tested with literal times beside the pool (`core/src/connection/
//! pool.rs`, `core/src/client.rs`); these tests show each runtime runs it. They wait for events
//! (the server seeing the client close), bounded by generous timeouts, never for fixed sleeps.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::mpsc::{self, Receiver, Sender};
use std::thread;
use std::time::{Duration, Instant};

use wayfarer_core::Request;

/// Keep-alive for the expiry tests: short, so the test is quick, long enough to measure.
const KEEP_ALIVE: Duration = Duration::from_millis(300);
/// The bound the cleanup must meet: closed within a second of expiring.
const WITHIN: Duration = Duration::from_secs(1);
/// How long a test waits for an event before failing.
const EVENT_TIMEOUT: Duration = Duration::from_secs(10);

/// What the server reports.
#[derive(Debug)]
enum Seen {
    /// A connection was accepted (its number, from 1).
    Accepted(usize),
    /// Connection `n` was closed by the client, at this time.
    Closed(usize, Instant),
    /// The unasked response was written on connection `n` (over loopback it is in the client's
    /// receive queue when the write returns).
    StrayWritten(usize),
}

/// What the server does after answering requests on a connection.
#[derive(Clone, Copy, PartialEq, Debug)]
enum Mode {
    /// Nothing more: keep the connection open.
    Plain,
    /// Send an unasked response once told to (the client has read the first body).
    StrayWhenTold,
    /// The same after the second answer on the connection.
    StrayWhenToldAfterTwo,
    /// Send extra bytes right behind the first response, in the same write.
    TrailingBytes,
}

/// A server answering every request with `200 OK` and the body `ok`.
struct Server {
    url: String,
    seen: Receiver<Seen>,
    tell: Sender<()>,
}

impl Server {
    fn start(mode: Mode) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let url = format!("http://{}/", listener.local_addr().expect("addr"));
        let (seen_tx, seen) = mpsc::channel();
        let (tell, told) = mpsc::channel::<()>();
        thread::spawn(move || {
            let mut told = Some(told);
            for (n, stream) in listener.incoming().enumerate() {
                let Ok(stream) = stream else { return };
                let _ = seen_tx.send(Seen::Accepted(n + 1));
                let (seen_tx, told) = (seen_tx.clone(), told.take());
                thread::spawn(move || serve(stream, n + 1, mode, told, &seen_tx));
            }
        });
        Server { url, seen, tell }
    }

    fn next(&self) -> Seen {
        self.seen
            .recv_timeout(EVENT_TIMEOUT)
            .expect("the server saw nothing in time")
    }

    /// Waits for connection `n` to be closed by the client; returns when.
    fn closed(&self, n: usize) -> Instant {
        loop {
            match self.next() {
                Seen::Closed(c, at) if c == n => return at,
                _ => {}
            }
        }
    }
}

const OK: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
const STRAY: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nstray";

fn serve(
    mut stream: TcpStream,
    n: usize,
    mode: Mode,
    told: Option<Receiver<()>>,
    seen: &Sender<Seen>,
) {
    // Without Nagle's delay: the stray response goes out when written, not held back until the
    // client acknowledges the previous one.
    let _ = stream.set_nodelay(true);
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let mut answered = 0;
    loop {
        match stream.read(&mut chunk) {
            Ok(0) | Err(_) => {
                let _ = seen.send(Seen::Closed(n, Instant::now()));
                return;
            }
            Ok(k) => buf.extend_from_slice(&chunk[..k]),
        }
        while let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            buf.drain(..end + 4);
            let mut out = OK.to_vec();
            if mode == Mode::TrailingBytes && answered == 0 {
                out.extend_from_slice(STRAY);
            }
            if stream.write_all(&out).is_err() {
                return;
            }
            answered += 1;
            let stray_after = match mode {
                Mode::StrayWhenTold => 1,
                Mode::StrayWhenToldAfterTwo => 2,
                _ => 0,
            };
            if answered == stray_after {
                if let Some(told) = &told {
                    if told.recv_timeout(EVENT_TIMEOUT).is_ok() && stream.write_all(STRAY).is_ok() {
                        let _ = seen.send(Seen::StrayWritten(n));
                    }
                }
            }
        }
    }
}

fn get(url: &str) -> Request {
    Request::get(url).build().expect("request")
}

/// Asserts connection 1 closed after its keep-alive, within [`WITHIN`] of expiring; `idle_from`
/// is when its body had been read (so the connection was back in the pool by then).
fn assert_expired_in_time(server: &Server, started: Instant, idle_from: Instant) {
    let closed = server.closed(1);
    assert!(
        closed >= started + KEEP_ALIVE,
        "closed {:?} after the call started, before its keep-alive of {KEEP_ALIVE:?}",
        closed - started
    );
    assert!(
        closed <= idle_from + KEEP_ALIVE + WITHIN,
        "closed {:?} after going idle, more than {WITHIN:?} past its keep-alive",
        closed - idle_from
    );
}

// ------------------------------------------------------------------ expiry with the app idle

#[test]
fn an_expired_idle_connection_is_closed_blocking() {
    let server = Server::start(Mode::Plain);
    let client = wayfarer_blocking::Client::builder()
        .keep_alive(KEEP_ALIVE)
        .build()
        .expect("client");
    let started = Instant::now();
    let body = client.new_call(get(&server.url)).execute().expect("call");
    assert_eq!(body.bytes().expect("body").as_ref(), b"ok");
    let idle_from = Instant::now();
    assert_eq!((client.idle_count(), client.connection_count()), (1, 1));
    assert_expired_in_time(&server, started, idle_from);
    assert_eq!(client.connection_count(), 0);
}

#[test]
fn an_expired_idle_connection_is_closed_tokio() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let server = Server::start(Mode::Plain);
        let client = wayfarer_tokio::Client::builder()
            .keep_alive(KEEP_ALIVE)
            .build()
            .expect("client");
        let started = Instant::now();
        let response = client
            .new_call(get(&server.url))
            .execute()
            .await
            .expect("call");
        assert_eq!(response.bytes().await.expect("body").as_ref(), b"ok");
        let idle_from = Instant::now();
        assert_eq!(client.connection_count(), 1);
        // The application does nothing; the runtime's thread is free for the cleanup task.
        let server = tokio::task::spawn_blocking(move || {
            assert_expired_in_time(&server, started, idle_from);
            server
        })
        .await
        .expect("waiter");
        drop(server);
        assert_eq!(client.connection_count(), 0);
    });
}

#[test]
fn an_expired_idle_connection_is_closed_smol() {
    smol::block_on(async {
        let server = Server::start(Mode::Plain);
        let client = wayfarer_smol::Client::builder()
            .keep_alive(KEEP_ALIVE)
            .build()
            .expect("client");
        let started = Instant::now();
        let response = client
            .new_call(get(&server.url))
            .execute()
            .await
            .expect("call");
        assert_eq!(response.bytes().await.expect("body").as_ref(), b"ok");
        let idle_from = Instant::now();
        assert_eq!(client.connection_count(), 1);
        assert_expired_in_time(&server, started, idle_from);
        assert_eq!(client.connection_count(), 0);
    });
}

// ------------------------------------------------------------------ bytes on an idle connection

/// After the first call, the server sends an unasked response on the idle connection: the
/// client closes it (long before its 5-minute keep-alive), and the next call gets a new
/// connection and its own response.
fn assert_stray_bytes_close_the_connection(server: &Server) {
    match server.next() {
        Seen::Accepted(1) => {}
        other => panic!("expected the first connection, saw {other:?}"),
    }
    server.tell.send(()).expect("tell the server");
    let _ = server.closed(1);
}

#[test]
fn bytes_arriving_on_an_idle_connection_close_it_blocking() {
    let server = Server::start(Mode::StrayWhenTold);
    let client = wayfarer_blocking::Client::new();
    let response = client.new_call(get(&server.url)).execute().expect("call");
    assert_eq!(response.bytes().expect("body").as_ref(), b"ok");
    assert_stray_bytes_close_the_connection(&server);
    assert_eq!(client.connection_count(), 0);
    let response = client.new_call(get(&server.url)).execute().expect("call 2");
    assert_eq!(response.bytes().expect("body").as_ref(), b"ok");
    assert!(matches!(server.next(), Seen::Accepted(2)));
}

/// Bytes that arrive before the blocking client's cleanup thread looks at a released socket are
/// caught when the next call takes the connection (idle for a millisecond or more, it is peeked
/// at): the call gets a new connection, never the stray response.
///
/// The thread is woken by a release after a quiet period, so two calls run back to back first:
/// the second release falls within the thread's next look (at most 100 ms away) and wakes
/// nothing, and the thread stopped watching the socket while the second call used it.
#[test]
fn bytes_arriving_just_before_reuse_are_not_read_as_the_response_blocking() {
    let server = Server::start(Mode::StrayWhenToldAfterTwo);
    let client = wayfarer_blocking::Client::new();
    for _ in 0..2 {
        let response = client.new_call(get(&server.url)).execute().expect("call");
        assert_eq!(response.bytes().expect("body").as_ref(), b"ok");
    }
    await_stray_written(&server);
    let response = client.new_call(get(&server.url)).execute().expect("call 3");
    assert_eq!(response.bytes().expect("body").as_ref(), b"ok");
    await_accepted(&server, 2);
}

/// The same on smol, where a release leaves the socket for the cleanup task to watch within
/// 100 ms (arming async-io's interest is a system call): bytes that arrive before it does are
/// caught by the peek when the next call takes the connection.
#[test]
fn bytes_arriving_just_before_reuse_are_not_read_as_the_response_smol() {
    smol::block_on(async {
        let server = Server::start(Mode::StrayWhenToldAfterTwo);
        let client = wayfarer_smol::Client::new();
        for _ in 0..2 {
            get_ok_smol(&client, &server.url).await;
        }
        await_stray_written(&server);
        get_ok_smol(&client, &server.url).await;
        await_accepted(&server, 2);
    });
}

/// On smol, a release after a quiet period (the cleanup task's next look minutes away) wakes
/// the task to watch the socket: bytes arriving later close it with no call to take it.
#[test]
fn a_connection_released_after_a_quiet_period_is_watched_smol() {
    smol::block_on(async {
        let server = Server::start(Mode::StrayWhenToldAfterTwo);
        let client = wayfarer_smol::Client::new();
        for quiet in [true, false] {
            get_ok_smol(&client, &server.url).await;
            if quiet {
                // The task's look after the first release passes, and its next is the
                // keep-alive's end.
                thread::sleep(Duration::from_millis(300));
            }
        }
        assert_stray_bytes_close_the_connection(&server);
        assert_eq!(client.connection_count(), 0);
    });
}

/// A GET on smol, answered `ok`.
async fn get_ok_smol(client: &wayfarer_smol::Client, url: &str) {
    let response = client.new_call(get(url)).execute().await.expect("call");
    assert_eq!(response.bytes().await.expect("body").as_ref(), b"ok");
}

/// Waits for the server to accept connection `n` (the call after the stray response was made
/// on a new connection), past reports of connections closing.
fn await_accepted(server: &Server, n: usize) {
    loop {
        match server.next() {
            Seen::Accepted(a) if a == n => return,
            Seen::Closed(..) => {}
            other => panic!("expected connection {n} to be accepted, saw {other:?}"),
        }
    }
}

/// Waits for the server to have written its stray response on connection 1, then 5 ms more.
fn await_stray_written(server: &Server) {
    assert!(matches!(server.next(), Seen::Accepted(1)));
    server.tell.send(()).expect("tell the server");
    loop {
        match server.next() {
            Seen::StrayWritten(1) => break,
            Seen::Closed(..) => {}
            other => panic!("expected the stray response to be written, saw {other:?}"),
        }
    }
    // The client sees the bytes once its runtime's reactor has turned (the async runtimes
    // watch an idle socket through it), which a loaded machine can put off for a while: a
    // margin well past that, so that the bytes have arrived as far as the client can tell.
    // (Bytes still in flight when a call takes the connection are the race no client can
    // close: a peek just before the write cannot see them either.)
    thread::sleep(Duration::from_millis(50));
}

#[test]
fn bytes_arriving_on_an_idle_connection_close_it_tokio() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let server = Server::start(Mode::StrayWhenTold);
        let client = wayfarer_tokio::Client::new();
        let response = client
            .new_call(get(&server.url))
            .execute()
            .await
            .expect("call");
        assert_eq!(response.bytes().await.expect("body").as_ref(), b"ok");
        let server = tokio::task::spawn_blocking(move || {
            assert_stray_bytes_close_the_connection(&server);
            server
        })
        .await
        .expect("waiter");
        assert_eq!(client.connection_count(), 0);
        let response = client
            .new_call(get(&server.url))
            .execute()
            .await
            .expect("call 2");
        assert_eq!(response.bytes().await.expect("body").as_ref(), b"ok");
        assert!(matches!(server.next(), Seen::Accepted(2)));
    });
}

#[test]
fn bytes_arriving_on_an_idle_connection_close_it_smol() {
    smol::block_on(async {
        let server = Server::start(Mode::StrayWhenTold);
        let client = wayfarer_smol::Client::new();
        let response = client
            .new_call(get(&server.url))
            .execute()
            .await
            .expect("call");
        assert_eq!(response.bytes().await.expect("body").as_ref(), b"ok");
        assert_stray_bytes_close_the_connection(&server);
        assert_eq!(client.connection_count(), 0);
        let response = client
            .new_call(get(&server.url))
            .execute()
            .await
            .expect("call 2");
        assert_eq!(response.bytes().await.expect("body").as_ref(), b"ok");
        assert!(matches!(server.next(), Seen::Accepted(2)));
    });
}

// ------------------------------------------------------------------ bytes left over at release

/// The first response arrives with an unasked one right behind it: the connection is not
/// pooled, and the second call's answer is its own.
fn assert_trailing_bytes_not_pooled(server: &Server, pooled: usize, body2: &[u8]) {
    assert_eq!(
        pooled, 0,
        "a connection with unread bytes went back to the pool"
    );
    assert_eq!(body2, b"ok");
    assert!(matches!(server.next(), Seen::Accepted(1)));
    // The client closes connection 1 before it opens connection 2, but the server's threads
    // may report the two in either order. Connection 2's answer has the same trailing bytes,
    // so the client closes it too, which a busy machine may report first.
    let (mut closed_1, mut accepted_2) = (false, false);
    while !(closed_1 && accepted_2) {
        match server.next() {
            Seen::Closed(1, _) => closed_1 = true,
            Seen::Accepted(2) => accepted_2 = true,
            Seen::Closed(2, _) => {}
            other => panic!("unexpected {other:?}"),
        }
    }
}

#[test]
fn bytes_left_over_at_release_close_the_connection_blocking() {
    let server = Server::start(Mode::TrailingBytes);
    let client = wayfarer_blocking::Client::new();
    let response = client.new_call(get(&server.url)).execute().expect("call");
    assert_eq!(response.bytes().expect("body").as_ref(), b"ok");
    let pooled = client.idle_count();
    let response = client.new_call(get(&server.url)).execute().expect("call 2");
    let body2 = response.bytes().expect("body");
    assert_trailing_bytes_not_pooled(&server, pooled, &body2);
}

#[test]
fn bytes_left_over_at_release_close_the_connection_tokio() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let server = Server::start(Mode::TrailingBytes);
        let client = wayfarer_tokio::Client::new();
        let response = client
            .new_call(get(&server.url))
            .execute()
            .await
            .expect("call");
        assert_eq!(response.bytes().await.expect("body").as_ref(), b"ok");
        let pooled = client.idle_count();
        let response = client
            .new_call(get(&server.url))
            .execute()
            .await
            .expect("call 2");
        let body2 = response.bytes().await.expect("body");
        assert_trailing_bytes_not_pooled(&server, pooled, &body2);
    });
}

#[test]
fn bytes_left_over_at_release_close_the_connection_smol() {
    smol::block_on(async {
        let server = Server::start(Mode::TrailingBytes);
        let client = wayfarer_smol::Client::new();
        let response = client
            .new_call(get(&server.url))
            .execute()
            .await
            .expect("call");
        assert_eq!(response.bytes().await.expect("body").as_ref(), b"ok");
        let pooled = client.idle_count();
        let response = client
            .new_call(get(&server.url))
            .execute()
            .await
            .expect("call 2");
        let body2 = response.bytes().await.expect("body");
        assert_trailing_bytes_not_pooled(&server, pooled, &body2);
    });
}

// ------------------------------------------------------------------ derived clients

#[test]
fn a_derived_client_shares_the_pool_and_the_dispatcher() {
    let server = Server::start(Mode::Plain);
    let client = wayfarer_blocking::Client::new();
    let patient = client
        .new_builder()
        .read_timeout(Duration::from_secs(60))
        .build()
        .expect("derived");
    let response = client.new_call(get(&server.url)).execute().expect("call");
    assert_eq!(response.bytes().expect("body").as_ref(), b"ok");
    let response = patient
        .new_call(get(&server.url))
        .execute()
        .expect("call 2");
    assert_eq!(response.bytes().expect("body").as_ref(), b"ok");
    assert!(matches!(server.next(), Seen::Accepted(1)));
    assert_eq!(patient.connection_count(), 1, "one connection, reused");
    patient.dispatcher().set_max_requests(7).expect("limit");
    assert_eq!(client.dispatcher().max_requests(), 7);
    patient.evict_all();
    assert_eq!(client.connection_count(), 0);
    let _ = server.closed(1);
    // Other pool settings: a pool of its own.
    let small = client
        .new_builder()
        .max_idle_connections(1)
        .build()
        .expect("derived");
    let response = small.new_call(get(&server.url)).execute().expect("call 3");
    assert_eq!(response.bytes().expect("body").as_ref(), b"ok");
    assert_eq!(
        (small.connection_count(), client.connection_count()),
        (1, 0)
    );
}

// ------------------------------------------------------------------ a runtime shut down

/// A client outlives the runtime its cleanup task was spawned on (a test's, a short-lived
/// one's): that task is gone with it, and the next runtime's connections still expire.
#[test]
fn the_cleanup_runs_again_after_its_runtime_shut_down_tokio() {
    let server = Server::start(Mode::Plain);
    let client = wayfarer_tokio::Client::builder()
        .keep_alive(KEEP_ALIVE)
        .build()
        .expect("client");
    let call = || async {
        let response = client
            .new_call(get(&server.url))
            .execute()
            .await
            .expect("call");
        assert_eq!(response.bytes().await.expect("body").as_ref(), b"ok");
    };
    let runtime = || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime")
    };
    // The first runtime ends while its cleanup task waits for the keep-alive to end.
    runtime().block_on(call());
    assert_eq!(client.connection_count(), 1);
    runtime().block_on(async {
        call().await;
        let deadline = Instant::now() + EVENT_TIMEOUT;
        while client.connection_count() > 0 && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert_eq!(client.connection_count(), 0, "the idle connections expired");
    });
}
