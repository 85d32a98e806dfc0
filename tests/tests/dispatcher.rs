//! The dispatcher on every runtime, against an origin that holds each request until the test
//! releases it: the overall and per-host limits, OkHttp's promotion order (a queued call whose
//! host is busy lets later calls to other hosts go first), the queued and running lists, the
//! idle callback, a call canceled while queued, and `cancel_all`.
//!
//! `127.0.0.1` and `localhost` are two hosts to the dispatcher (it counts by host name) and one
//! server here. The promotion rules themselves are tested with literal inputs beside the core's
//! `Dispatcher`; these tests show each runtime starts exactly the calls it promotes.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::Duration;

use wayfarer_core::{ClientBuilder, Config, ErrorKind, Request};
use wayfarer_tests::holding::HoldingOrigin;

const WAIT: Duration = Duration::from_secs(10);
/// How long to watch for a request that must not arrive.
const QUIET: Duration = Duration::from_millis(300);

/// A client that runs one call at a time: the second call enqueued waits for the first.
fn one_at_a_time<C: From<Config>>() -> C {
    ClientBuilder::<C>::new()
        .max_requests(1)
        .build()
        .expect("client")
}

fn request(origin: &HoldingOrigin, host: &str, path: &str) -> Request {
    Request::get(origin.url(host, path))
        .build()
        .expect("request")
}

/// The paths of a set of arrivals, sorted (concurrent calls arrive in any order).
fn arrivals(origin: &HoldingOrigin, n: usize) -> Vec<String> {
    let mut paths: Vec<String> = (0..n).map(|_| origin.next_arrival().path).collect();
    paths.sort();
    paths
}

fn paths<'a>(urls: impl IntoIterator<Item = &'a wayfarer_core::Url>) -> Vec<String> {
    urls.into_iter().map(|u| u.path().to_owned()).collect()
}

/// The script every runtime plays: limits 3 overall and 2 per host; `/a1 /a2 /a3` to one host,
/// `/b1 /b2` to the other. `enqueue` enqueues a call and returns at once; `queued` and
/// `running` list the dispatcher's calls' paths; `finished` waits for the next call to end
/// (its body read) and returns its path.
fn play(
    origin: &HoldingOrigin,
    enqueue: &mut dyn FnMut(&str, &str),
    queued: &dyn Fn() -> Vec<String>,
    running: &dyn Fn() -> usize,
    finished: &dyn Fn() -> String,
) {
    for (host, path) in [
        ("127.0.0.1", "/a1"),
        ("127.0.0.1", "/a2"),
        ("127.0.0.1", "/a3"),
        ("localhost", "/b1"),
        ("localhost", "/b2"),
    ] {
        enqueue(host, path);
    }
    // a3 waits for its host; b1 takes the last place; b2 waits for a place.
    assert_eq!(arrivals(origin, 3), ["/a1", "/a2", "/b1"]);
    assert_eq!(queued(), ["/a3", "/b2"]);
    assert_eq!(running(), 3);
    assert_eq!(
        origin.try_next_arrival(QUIET),
        None,
        "a call ran past the limits"
    );

    // a1 ends: its host has room again and a3, first in the queue, fits.
    origin.release("/a1");
    assert_eq!(finished(), "/a1");
    assert_eq!(origin.next_arrival().path, "/a3");
    assert_eq!(queued(), ["/b2"]);

    // b1 ends: b2 takes its place.
    origin.release("/b1");
    assert_eq!(finished(), "/b1");
    assert_eq!(origin.next_arrival().path, "/b2");
    assert_eq!(queued(), Vec::<String>::new());

    for path in ["/a2", "/a3", "/b2"] {
        origin.release(path);
    }
    let mut rest = vec![finished(), finished(), finished()];
    rest.sort();
    assert_eq!(rest, ["/a2", "/a3", "/b2"]);
}

#[test]
fn promotion_order_and_limits_blocking() {
    let origin = HoldingOrigin::start();
    let client = wayfarer_blocking::Client::builder()
        .max_requests(3)
        .max_requests_per_host(2)
        .build()
        .expect("client");
    let idle = Arc::new(AtomicUsize::new(0));
    let (idle_tx, idle_rx) = mpsc::channel();
    client.dispatcher().set_idle_callback({
        let idle = idle.clone();
        let idle_tx = std::sync::Mutex::new(idle_tx);
        move || {
            idle.fetch_add(1, Ordering::SeqCst);
            let _ = idle_tx.lock().map(|tx| tx.send(()));
        }
    });
    let (done_tx, done) = mpsc::channel::<String>();
    let mut enqueue = |host: &str, path: &str| {
        let done_tx = done_tx.clone();
        client.new_call(request(&origin, host, path)).enqueue(
            move |call: &wayfarer_blocking::Call,
                  result: Result<wayfarer_blocking::Response, wayfarer_blocking::Error>| {
                let body = result.expect("response").text().expect("body");
                assert_eq!(Some(body.as_str()), call.url().map(|u| u.path()));
                let _ = done_tx.send(body);
            },
        );
    };
    let dispatcher = client.dispatcher();
    play(
        &origin,
        &mut enqueue,
        &|| paths(dispatcher.queued_calls().iter().filter_map(|c| c.url())),
        &|| dispatcher.running_calls_count(),
        &|| done.recv_timeout(WAIT).expect("a call finished"),
    );
    idle_rx.recv_timeout(WAIT).expect("the idle callback ran");
    assert_eq!(idle.load(Ordering::SeqCst), 1);
    assert_eq!(dispatcher.running_calls_count(), 0);
}

async fn promotion_order_and_limits_async<N: wayfarer_async::Net>(
    spawn: impl Fn(std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>),
) {
    let origin = HoldingOrigin::start();
    let client = wayfarer_async::Client::<N>::builder()
        .max_requests(3)
        .max_requests_per_host(2)
        .build()
        .expect("client");
    let (idle_tx, idle_rx) = mpsc::channel();
    let idle_tx = std::sync::Mutex::new(idle_tx);
    client.dispatcher().set_idle_callback(move || {
        let _ = idle_tx.lock().map(|tx| tx.send(()));
    });
    let (done_tx, done) = mpsc::channel::<String>();
    let mut enqueue = |host: &str, path: &str| {
        let done_tx = done_tx.clone();
        let call = client.new_call(request(&origin, host, path));
        let future = call.enqueue();
        spawn(Box::pin(async move {
            let body = future.await.expect("response").text().await.expect("body");
            assert_eq!(Some(body.as_str()), call.url().map(|u| u.path()));
            let _ = done_tx.send(body);
        }));
    };
    let dispatcher = client.dispatcher().clone();
    // The test's waits block this thread; the calls run on the runtime's other threads.
    play(
        &origin,
        &mut enqueue,
        &|| paths(dispatcher.queued_calls().iter().filter_map(|c| c.url())),
        &|| dispatcher.running_calls_count(),
        &|| done.recv_timeout(WAIT).expect("a call finished"),
    );
    idle_rx.recv_timeout(WAIT).expect("the idle callback ran");
    assert_eq!(dispatcher.running_calls_count(), 0);
}

#[test]
fn promotion_order_and_limits_tokio() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let handle = rt.handle().clone();
    // Driven from a plain thread: the waits block it, not a runtime worker.
    let _guard = rt.enter();
    futures_lite::future::block_on(promotion_order_and_limits_async::<wayfarer_tokio::Tokio>(
        move |f| drop(handle.spawn(f)),
    ));
}

#[test]
fn promotion_order_and_limits_smol() {
    let ex = Arc::new(smol::Executor::new());
    let (stop, stopped) = smol::channel::unbounded::<()>();
    let runner = {
        let ex = ex.clone();
        std::thread::spawn(move || smol::block_on(ex.run(stopped.recv())))
    };
    let spawner = ex.clone();
    futures_lite::future::block_on(promotion_order_and_limits_async::<wayfarer_smol::Smol>(
        move |f| spawner.spawn(f).detach(),
    ));
    drop(stop);
    runner.join().expect("executor").ok();
}

// ------------------------------------------------------------------ cancel while queued

#[test]
fn a_call_canceled_while_queued_fails_and_never_runs_blocking() {
    let origin = HoldingOrigin::start();
    let client: wayfarer_blocking::Client = one_at_a_time();
    let (tx, results) = mpsc::channel();
    let enqueue = |path: &str| {
        let call = client.new_call(request(&origin, "127.0.0.1", path));
        let tx = tx.clone();
        call.enqueue(
            move |call: &wayfarer_blocking::Call,
                  result: Result<wayfarer_blocking::Response, wayfarer_blocking::Error>| {
                let outcome = result.and_then(|r| r.text()).map_err(|e| e.kind());
                let path = call.url().map(|u| u.path().to_owned()).unwrap_or_default();
                let _ = tx.send((path, outcome));
            },
        );
        call
    };
    let _first = enqueue("/1");
    let second = enqueue("/2");
    assert_eq!(origin.next_arrival().path, "/1");
    assert_eq!(client.dispatcher().queued_calls_count(), 1);
    second.cancel();
    assert_eq!(
        results
            .recv_timeout(WAIT)
            .expect("the canceled call reported"),
        ("/2".to_owned(), Err(ErrorKind::Canceled))
    );
    assert_eq!(client.dispatcher().queued_calls_count(), 0);
    origin.release("/1");
    assert_eq!(
        results.recv_timeout(WAIT).expect("the first call reported"),
        ("/1".to_owned(), Ok("/1".to_owned()))
    );
    assert_eq!(
        origin.try_next_arrival(QUIET),
        None,
        "the canceled call ran"
    );
}

/// Enqueues a GET of `path` on a tokio client, in a task of its own.
fn spawn_enqueued(
    client: &wayfarer_tokio::Client,
    origin: &HoldingOrigin,
    path: &str,
) -> tokio::task::JoinHandle<Result<wayfarer_tokio::Response, wayfarer_core::Error>> {
    tokio::spawn(
        client
            .new_call(request(origin, "127.0.0.1", path))
            .enqueue(),
    )
}

/// Waits, off the runtime's threads, for the request for `path` to arrive.
async fn arrived(origin: HoldingOrigin, path: &'static str) -> HoldingOrigin {
    tokio::task::spawn_blocking(move || {
        assert_eq!(origin.next_arrival().path, path);
        origin
    })
    .await
    .expect("arrival")
}

#[test]
fn cancel_all_cancels_queued_and_running_calls_tokio() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let origin = HoldingOrigin::start();
        let client: wayfarer_tokio::Client = one_at_a_time();
        let running = spawn_enqueued(&client, &origin, "/1");
        let queued = spawn_enqueued(&client, &origin, "/2");
        let origin = arrived(origin, "/1").await;
        assert_eq!(client.dispatcher().queued_calls_count(), 1);
        client.dispatcher().cancel_all();
        for task in [running, queued] {
            let result = task.await.expect("task");
            assert_eq!(result.err().map(|e| e.kind()), Some(ErrorKind::Canceled));
        }
        assert_eq!(client.dispatcher().running_calls_count(), 0);
        assert_eq!(client.dispatcher().queued_calls_count(), 0);
        assert_eq!(client.connection_count(), 0);
        drop(origin);
    });
}

/// An enqueued call whose future is dropped before its turn leaves the queue: it never runs,
/// holds no place, and the call behind it is promoted when the running one ends.
#[test]
fn a_queued_call_given_up_leaves_the_queue_and_never_runs_tokio() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let origin = HoldingOrigin::start();
        let client: wayfarer_tokio::Client = one_at_a_time();
        let running = spawn_enqueued(&client, &origin, "/1");
        let given_up = spawn_enqueued(&client, &origin, "/2");
        let last = spawn_enqueued(&client, &origin, "/3");
        let origin = arrived(origin, "/1").await;
        assert_eq!(client.dispatcher().queued_calls_count(), 2);
        given_up.abort();
        assert!(given_up.await.expect_err("aborted").is_cancelled());
        assert_eq!(client.dispatcher().queued_calls_count(), 1);
        assert_eq!(client.dispatcher().running_calls_count(), 1);
        origin.release("/1");
        let response = running.await.expect("task").expect("response");
        // The call runs until its body is read.
        assert_eq!(response.text().await.expect("body"), "/1");
        // Not /2: it never runs.
        let origin = arrived(origin, "/3").await;
        origin.release("/3");
        let response = last.await.expect("task").expect("response");
        assert_eq!(response.text().await.expect("body"), "/3");
        assert_eq!(client.dispatcher().running_calls_count(), 0);
        assert_eq!(client.dispatcher().queued_calls_count(), 0);
        drop(origin);
    });
}

// ------------------------------------------------------------------ execute counts as running

#[test]
fn an_executed_call_counts_as_running_but_is_never_held_back_smol() {
    smol::block_on(async {
        let origin = HoldingOrigin::start();
        let client: wayfarer_smol::Client = one_at_a_time();
        let first = client.new_call(request(&origin, "127.0.0.1", "/1"));
        let second = client.new_call(request(&origin, "127.0.0.1", "/2"));
        let (a, b) = (first.execute(), second.execute());
        let both = futures_lite::future::zip(a, b);
        let watcher = {
            let dispatcher = client.dispatcher().clone();
            std::thread::spawn(move || {
                let arrived = arrivals(&origin, 2);
                let running = dispatcher.running_calls_count();
                origin.release("/1");
                origin.release("/2");
                (arrived, running, origin)
            })
        };
        let (a, b) = both.await;
        let (arrived, running, _origin) = watcher.join().expect("watcher");
        assert_eq!(arrived, ["/1", "/2"], "both ran despite a limit of 1");
        assert_eq!(running, 2);
        assert_eq!(a.expect("first").text().await.expect("body"), "/1");
        assert_eq!(b.expect("second").text().await.expect("body"), "/2");
        assert_eq!(client.dispatcher().running_calls_count(), 0);
    });
}

// ------------------------------------------------------------------ a canceled call still runs

/// A call canceled while queued leaves the queue and runs at once to tell its callback: until
/// that callback returns it is a running call, so the idle callback waits for it.
#[test]
fn a_call_canceled_while_queued_runs_until_its_callback_returns_blocking() {
    let origin = HoldingOrigin::start();
    let client: wayfarer_blocking::Client = one_at_a_time();
    let (events_tx, events) = mpsc::channel::<String>();
    client.dispatcher().set_idle_callback({
        let tx = std::sync::Mutex::new(events_tx.clone());
        move || {
            let _ = tx.lock().map(|tx| tx.send("idle".to_owned()));
        }
    });
    let first = client.new_call(request(&origin, "127.0.0.1", "/1"));
    first.enqueue({
        let tx = events_tx.clone();
        move |_: &wayfarer_blocking::Call,
              result: Result<wayfarer_blocking::Response, wayfarer_blocking::Error>| {
            let body = result.and_then(|r| r.text()).expect("/1");
            let _ = tx.send(body);
        }
    });
    let (entered_tx, entered) = mpsc::channel::<()>();
    let (leave_tx, leave) = mpsc::channel::<()>();
    let second = client.new_call(request(&origin, "127.0.0.1", "/2"));
    second.enqueue({
        let tx = events_tx.clone();
        move |_: &wayfarer_blocking::Call,
              result: Result<wayfarer_blocking::Response, wayfarer_blocking::Error>| {
            assert_eq!(result.err().map(|e| e.kind()), Some(ErrorKind::Canceled));
            let _ = entered_tx.send(());
            let _ = leave.recv_timeout(WAIT);
            let _ = tx.send("/2".to_owned());
        }
    });
    assert_eq!(origin.next_arrival().path, "/1");
    second.cancel();
    entered
        .recv_timeout(WAIT)
        .expect("the canceled call's callback ran");
    let dispatcher = client.dispatcher();
    assert_eq!(dispatcher.queued_calls_count(), 0);
    assert_eq!(
        dispatcher.running_calls_count(),
        2,
        "the canceled call runs, in its callback"
    );

    origin.release("/1");
    assert_eq!(events.recv_timeout(WAIT).as_deref(), Ok("/1"));
    assert_eq!(
        events.recv_timeout(QUIET).ok(),
        None,
        "idle while a callback still runs"
    );
    leave_tx.send(()).expect("release the callback");
    assert_eq!(events.recv_timeout(WAIT).as_deref(), Ok("/2"));
    assert_eq!(events.recv_timeout(WAIT).as_deref(), Ok("idle"));
    assert_eq!(dispatcher.running_calls_count(), 0);
    assert_eq!(
        origin.try_next_arrival(QUIET),
        None,
        "the canceled call ran"
    );
}

/// An idle callback that panics while a panic already unwinds (a callback's, or the code that
/// dropped a call) would abort the whole process; its panic is dropped instead.
#[test]
fn a_panicking_idle_callback_during_a_panic_does_not_abort_blocking() {
    let origin = HoldingOrigin::start();
    let client = wayfarer_blocking::Client::new();
    let (idle_tx, idle) = mpsc::channel::<()>();
    client.dispatcher().set_idle_callback({
        let tx = std::sync::Mutex::new(idle_tx);
        let first = std::sync::atomic::AtomicBool::new(true);
        move || {
            // Only the first run panics; it is marked before the test hears of it, or a later
            // run (call /2's, on another thread) could come while this one is still between
            // the two and take the panic for itself.
            let first = first.swap(false, Ordering::SeqCst);
            let _ = tx.lock().map(|tx| tx.send(()));
            if first {
                panic!("the idle callback panicked (on purpose)");
            }
        }
    });
    client
        .new_call(request(&origin, "127.0.0.1", "/1"))
        .enqueue(|_: &wayfarer_blocking::Call, _| {
            panic!("the call's callback panicked (on purpose)");
        });
    assert_eq!(origin.next_arrival().path, "/1");
    origin.release("/1");
    idle.recv_timeout(WAIT).expect("the idle callback ran");
    // Still alive, and the dispatcher still runs calls.
    let done = client.new_call(request(&origin, "127.0.0.1", "/2"));
    let waiter = std::thread::spawn(move || done.execute().and_then(|r| r.text()));
    assert_eq!(origin.next_arrival().path, "/2");
    origin.release("/2");
    assert!(waiter.join().expect("no panic").is_ok());
}

#[test]
fn a_panicking_idle_callback_during_a_panic_does_not_abort_tokio() {
    let origin = HoldingOrigin::start();
    let client = wayfarer_tokio::Client::new();
    let idled = Arc::new(AtomicUsize::new(0));
    client.dispatcher().set_idle_callback({
        let idled = idled.clone();
        move || {
            idled.fetch_add(1, Ordering::SeqCst);
            panic!("the idle callback panicked (on purpose)");
        }
    });
    let call = client.new_call(request(&origin, "127.0.0.1", "/1"));
    let caller = std::thread::spawn(move || {
        let running = call.enqueue();
        // The caller's code panics holding the call: unwinding drops it and frees its place.
        let _keep = running;
        panic!("the caller panicked (on purpose)");
    });
    assert!(caller.join().is_err(), "the caller's own panic");
    assert_eq!(idled.load(Ordering::SeqCst), 1, "the idle callback ran");
}
