//! The dispatcher under many concurrent calls, on every runtime: the limits hold as the server
//! sees them, and however calls end (read, body dropped unread, canceled before or while they
//! run or wait, their future dropped, their callback panicking, `cancel_all`, limits changed
//! meanwhile), every place is given back: nothing runs or waits at the end, and the idle
//! callback ran.
//!
//! The origin answers each request at once (after a millisecond, so calls overlap); the waits
//! here are hang guards, never what decides a result.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::thread;
use std::time::Duration;

use wayfarer_core::{ErrorKind, Request};

const WAIT: Duration = Duration::from_secs(30);
const CALLS: usize = 200;
const MAX: usize = 4;
const PER_HOST: usize = 2;
const HOSTS: [&str; 2] = ["127.0.0.1", "localhost"];

type BoxFuture = Pin<Box<dyn Future<Output = ()> + Send>>;

/// Requests in flight at the server, by `Host` header, and the most seen at once.
#[derive(Default)]
struct Load {
    now: HashMap<String, usize>,
    most: HashMap<String, usize>,
    total: usize,
    most_total: usize,
}

struct Origin {
    port: u16,
    load: Arc<Mutex<Load>>,
}

impl Origin {
    fn start() -> Origin {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let load = Arc::new(Mutex::new(Load::default()));
        let shared = load.clone();
        thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { return };
                let load = shared.clone();
                thread::spawn(move || serve(stream, &load));
            }
        });
        Origin { port, load }
    }

    fn request(&self, i: usize) -> Request {
        let host = HOSTS[i % HOSTS.len()];
        Request::get(format!("http://{host}:{}/{i}", self.port))
            .build()
            .expect("request")
    }

    /// The most requests seen at once, to one host and in all.
    fn most(&self) -> (usize, usize) {
        let load = self.load.lock().expect("load");
        (
            load.most.values().copied().max().unwrap_or(0),
            load.most_total,
        )
    }
}

fn serve(mut stream: TcpStream, load: &Mutex<Load>) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let end = loop {
            if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break end + 4;
            }
            match stream.read(&mut chunk) {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        };
        let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
        buf.drain(..end);
        let host = head
            .lines()
            .find_map(|l| l.strip_prefix("host:"))
            .unwrap_or_default()
            .trim()
            .to_owned();
        {
            let mut load = load.lock().expect("load");
            let now = load.now.entry(host.clone()).or_default();
            *now += 1;
            let now = *now;
            let most = load.most.entry(host.clone()).or_default();
            *most = (*most).max(now);
            load.total += 1;
            load.most_total = load.most_total.max(load.total);
        }
        thread::sleep(Duration::from_millis(1));
        {
            let mut load = load.lock().expect("load");
            *load.now.entry(host).or_default() -= 1;
            load.total -= 1;
        }
        let answer = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
        if stream.write_all(answer).is_err() {
            return;
        }
    }
}

/// Counts the idle callback's runs.
fn count_idle(set: impl FnOnce(Box<dyn Fn() + Send + Sync>)) -> Arc<AtomicUsize> {
    let idle = Arc::new(AtomicUsize::new(0));
    let counter = idle.clone();
    set(Box::new(move || {
        counter.fetch_add(1, Ordering::SeqCst);
    }));
    idle
}

/// Waits for `n` calls to end, each Ok or canceled: nothing else may end a call here.
fn expect_ended(done: &mpsc::Receiver<Option<ErrorKind>>, n: usize) {
    for _ in 0..n {
        let kind = done.recv_timeout(WAIT).expect("a call ended");
        assert!(
            matches!(kind, None | Some(ErrorKind::Canceled)),
            "a call failed with {kind:?}"
        );
    }
}

// ------------------------------------------------------------------ async

/// Runs on a plain thread (its waits block it); `spawn` puts a future on the runtime.
fn stress_async<N: wayfarer_async::Net>(spawn: &dyn Fn(BoxFuture)) {
    let origin = Origin::start();
    let client = wayfarer_async::Client::<N>::builder()
        .max_requests(MAX)
        .max_requests_per_host(PER_HOST)
        .build()
        .expect("client");
    let dispatcher = client.dispatcher().clone();
    let idle = count_idle(|f| dispatcher.set_idle_callback(f));
    let (done_tx, done) = mpsc::channel::<Option<ErrorKind>>();

    // Every call read to its end: the limits hold at the server.
    for i in 0..CALLS {
        let future = client.new_call(origin.request(i)).enqueue();
        let done_tx = done_tx.clone();
        spawn(Box::pin(async move {
            let body = future.await.expect("response").text().await.expect("body");
            assert_eq!(body, "ok");
            let _ = done_tx.send(None);
        }));
    }
    expect_ended(&done, CALLS);
    let (per_host, total) = origin.most();
    assert!(per_host <= PER_HOST, "{per_host} calls to one host at once");
    assert!(total <= MAX, "{total} calls at once");
    assert_eq!(dispatcher.running_calls_count(), 0);
    assert!(idle.load(Ordering::SeqCst) >= 1, "the idle callback ran");

    // Calls ending every which way, limits changing, one cancel_all.
    let mut rng = fastrand::Rng::with_seed(7);
    let mut calls = Vec::new();
    for i in 0..CALLS {
        let call = client.new_call(origin.request(i));
        let action = rng.usize(0..5);
        if action == 1 {
            call.cancel();
        }
        let future = call.enqueue();
        let done_tx = done_tx.clone();
        let polls = rng.usize(0..4);
        spawn(Box::pin(async move {
            let kind = match action {
                // Given up after a few polls (waiting, connecting, or done).
                3 => {
                    let mut future = Box::pin(future);
                    for _ in 0..polls {
                        if futures_lite::future::poll_once(&mut future).await.is_some() {
                            break;
                        }
                        futures_lite::future::yield_now().await;
                    }
                    None
                }
                // The body dropped unread.
                4 => future.await.err().map(|e| e.kind()),
                _ => match future.await {
                    Ok(response) => response.text().await.err().map(|e| e.kind()),
                    Err(e) => Some(e.kind()),
                },
            };
            let _ = done_tx.send(kind);
        }));
        if action == 2 {
            calls.push(call);
        }
        if i % 16 == 0 {
            dispatcher.set_max_requests(1 + i % 7).expect("limit");
        }
        if i == CALLS / 2 {
            dispatcher.cancel_all();
        }
    }
    for call in &calls {
        call.cancel();
    }
    dispatcher.set_max_requests(MAX).expect("limit");
    expect_ended(&done, CALLS);
    assert_eq!(dispatcher.queued_calls_count(), 0);
    assert_eq!(dispatcher.running_calls_count(), 0);

    // The dispatcher still works.
    idle.store(0, Ordering::SeqCst);
    let future = client.new_call(origin.request(0)).enqueue();
    spawn(Box::pin(async move {
        let body = future.await.expect("response").text().await.expect("body");
        assert_eq!(body, "ok");
        let _ = done_tx.send(None);
    }));
    done.recv_timeout(WAIT).expect("the last call ended");
    assert_eq!(dispatcher.running_calls_count(), 0);
    assert_eq!(idle.load(Ordering::SeqCst), 1, "the idle callback ran once");
}

#[test]
fn many_calls_give_every_place_back_tokio() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .expect("runtime");
    let handle = rt.handle().clone();
    let _guard = rt.enter();
    stress_async::<wayfarer_tokio::Tokio>(&move |f| drop(handle.spawn(f)));
}

#[test]
fn many_calls_give_every_place_back_smol() {
    let ex = Arc::new(smol::Executor::new());
    let (stop, stopped) = smol::channel::unbounded::<()>();
    let runners: Vec<_> = (0..4)
        .map(|_| {
            let (ex, stopped) = (ex.clone(), stopped.clone());
            thread::spawn(move || smol::block_on(ex.run(stopped.recv())))
        })
        .collect();
    let spawner = ex.clone();
    stress_async::<wayfarer_smol::Smol>(&move |f| spawner.spawn(f).detach());
    drop(stop);
    for runner in runners {
        runner.join().expect("executor").ok();
    }
}

// ------------------------------------------------------------------ blocking

#[test]
fn many_calls_give_every_place_back_blocking() {
    let origin = Origin::start();
    let client = wayfarer_blocking::Client::builder()
        .max_requests(MAX)
        .max_requests_per_host(PER_HOST)
        .build()
        .expect("client");
    let dispatcher = client.dispatcher().clone();
    let idle = count_idle(|f| dispatcher.set_idle_callback(f));
    let (done_tx, done) = mpsc::channel::<Option<ErrorKind>>();
    type Outcome = Result<wayfarer_blocking::Response, wayfarer_blocking::Error>;

    for i in 0..CALLS {
        let done_tx = done_tx.clone();
        client.new_call(origin.request(i)).enqueue(
            move |_: &wayfarer_blocking::Call, result: Outcome| {
                let body = result.expect("response").text().expect("body");
                assert_eq!(body, "ok");
                let _ = done_tx.send(None);
            },
        );
    }
    expect_ended(&done, CALLS);
    let (per_host, total) = origin.most();
    assert!(per_host <= PER_HOST, "{per_host} calls to one host at once");
    assert!(total <= MAX, "{total} calls at once");

    let mut rng = fastrand::Rng::with_seed(7);
    let mut calls = Vec::new();
    for i in 0..CALLS {
        let call = client.new_call(origin.request(i));
        let action = rng.usize(0..5);
        if action == 1 {
            call.cancel();
        }
        let done_tx = done_tx.clone();
        call.enqueue(move |_: &wayfarer_blocking::Call, result: Outcome| {
            let kind = match action {
                // The body dropped unread.
                4 => result.err().map(|e| e.kind()),
                _ => result.and_then(|r| r.text()).err().map(|e| e.kind()),
            };
            let _ = done_tx.send(kind);
            // A few callbacks panic: their places are given back all the same.
            if action == 3 && i % 4 == 0 {
                panic!("a callback panicked (on purpose)");
            }
        });
        if action == 2 {
            calls.push(call);
        }
        if i % 16 == 0 {
            dispatcher.set_max_requests(1 + i % 7).expect("limit");
        }
        if i == CALLS / 2 {
            dispatcher.cancel_all();
        }
    }
    for call in &calls {
        call.cancel();
    }
    dispatcher.set_max_requests(MAX).expect("limit");
    expect_ended(&done, CALLS);
    // A callback's place is given back after it returns (or panics): wait for the last.
    let deadline = std::time::Instant::now() + WAIT;
    while dispatcher.running_calls_count() > 0 && std::time::Instant::now() < deadline {
        thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(dispatcher.queued_calls_count(), 0);
    assert_eq!(dispatcher.running_calls_count(), 0);
    assert!(idle.load(Ordering::SeqCst) >= 1, "the idle callback ran");
}
