//! The thread a pool's cleanup runs on (the blocking runtime's, and smol's when no executor
//! can take the task) exists only while the pool holds connections: evicting every connection,
//! or dropping the last client, ends it at once, not at its next scheduled look minutes later.
//!
//! Its own test binary, with one test, because it counts the process's threads by name.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::thread;
use std::time::{Duration, Instant};

use wayfarer_core::Request;
use wayfarer_tests::soak::pool_threads;

/// How long the thread may take to end after `evict_all`.
const WITHIN: Duration = Duration::from_secs(2);

/// Waits until `pool_threads()` is `n`, for at most `within`; false if it never was.
fn wait_for_pool_threads(n: usize, within: Duration) -> bool {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if pool_threads() == n {
            return true;
        }
        thread::sleep(Duration::from_millis(5));
    }
    pool_threads() == n
}

/// A server that answers every request on every connection with `ok`, keeping it open.
fn serve() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}/", listener.local_addr().expect("addr"));
    thread::spawn(move || {
        for socket in listener.incoming() {
            let Ok(mut socket) = socket else { return };
            thread::spawn(move || {
                let mut buf = [0u8; 4096];
                while let Ok(n) = socket.read(&mut buf) {
                    if n == 0 {
                        return;
                    }
                    let answer = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
                    if socket.write_all(answer).is_err() {
                        return;
                    }
                }
            });
        }
    });
    url
}

/// Past the pool's quick second look after a release (100 ms on the blocking runtime): from
/// here on the thread sleeps until the connection's keep-alive ends, five minutes away.
const SETTLE: Duration = Duration::from_millis(300);

#[test]
fn evicting_every_connection_or_dropping_the_client_ends_the_pool_thread_at_once() {
    let url = serve();
    assert_eq!(pool_threads(), 0);

    // Blocking: the cleanup thread starts when the connection goes idle.
    let client = wayfarer_blocking::Client::new();
    let body = client
        .new_call(Request::get(&url).build().unwrap())
        .execute()
        .unwrap()
        .text()
        .unwrap();
    assert_eq!(body, "ok");
    assert!(
        wait_for_pool_threads(1, WITHIN),
        "the blocking pool's thread started"
    );
    thread::sleep(SETTLE);
    client.evict_all();
    assert!(
        wait_for_pool_threads(0, WITHIN),
        "the blocking pool's thread ended after evict_all"
    );

    // smol, under a plain block_on: no executor to spawn on, so the task gets a thread.
    let client = wayfarer_smol::Client::new();
    smol::block_on(async {
        let response = client
            .new_call(Request::get(&url).build().unwrap())
            .execute()
            .await
            .unwrap();
        assert_eq!(response.text().await.unwrap(), "ok");
    });
    assert!(
        wait_for_pool_threads(1, WITHIN),
        "smol's pool thread started"
    );
    thread::sleep(SETTLE);
    client.evict_all();
    assert!(
        wait_for_pool_threads(0, WITHIN),
        "smol's pool thread ended after evict_all"
    );

    // Dropping the last client closes its pool: the thread ends with it.
    let client = wayfarer_blocking::Client::new();
    let response = client
        .new_call(Request::get(&url).build().unwrap())
        .execute()
        .unwrap();
    assert_eq!(response.text().unwrap(), "ok");
    assert!(
        wait_for_pool_threads(1, WITHIN),
        "the blocking pool's thread started again"
    );
    thread::sleep(SETTLE);
    drop(client);
    assert!(
        wait_for_pool_threads(0, WITHIN),
        "the blocking pool's thread ended with its client"
    );

    let client = wayfarer_smol::Client::new();
    smol::block_on(async {
        let response = client
            .new_call(Request::get(&url).build().unwrap())
            .execute()
            .await
            .unwrap();
        assert_eq!(response.text().await.unwrap(), "ok");
    });
    assert!(
        wait_for_pool_threads(1, WITHIN),
        "smol's pool thread started again"
    );
    thread::sleep(SETTLE);
    drop(client);
    assert!(
        wait_for_pool_threads(0, WITHIN),
        "smol's pool thread ended with its client"
    );
}
