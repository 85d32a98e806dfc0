//! The allocation budget of a plain keep-alive GET on the blocking client, counted with a
//! counting global allocator (this test binary's own).
//!
//! The budget covers everything from building the request to reading the body's end: the URL,
//! the request and its shared handle, the connection's address, the response head's fields.
//! The chain's links (follow-ups, bridge, cache, connect) must add nothing when no interceptor,
//! cookie jar or cache is configured: that is what the budget guards.

use std::alloc::{GlobalAlloc, Layout, System};
use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);
static COUNTING: AtomicBool = AtomicBool::new(false);

thread_local! {
    /// Only the client's thread is counted (the test server runs on another).
    static COUNTED_THREAD: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

fn count() {
    if COUNTING.load(Ordering::Relaxed) && COUNTED_THREAD.with(std::cell::Cell::get) {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
    }
}

// SAFETY: forwards every call to the system allocator unchanged; only counts.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count();
        // SAFETY: the caller upholds `alloc`'s contract, which we pass on.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count();
        // SAFETY: as above.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// At most this many allocations per request (building the request included).
const BUDGET: f64 = 12.0;

#[test]
fn a_keep_alive_get_stays_within_its_allocation_budget() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    std::thread::spawn(move || {
        let (mut socket, _) = listener.accept().expect("accept");
        let mut buf = [0u8; 4096];
        while let Ok(n) = socket.read(&mut buf) {
            if n == 0 {
                return;
            }
            let answer = b"HTTP/1.1 200 OK\r\nContent-Length: 13\r\n\r\nHello, world!";
            if socket.write_all(answer).is_err() {
                return;
            }
        }
    });
    let client = wayfarer_blocking::Client::new();
    let url = format!("http://{addr}/");
    let mut body = [0u8; 64];
    let mut run = |n: usize| {
        for _ in 0..n {
            let request = wayfarer_blocking::Request::get(&url)
                .build()
                .expect("request");
            let mut response = client.new_call(request).execute().expect("response");
            let mut read = 0;
            loop {
                match response.body_mut().read(&mut body).expect("body") {
                    0 => break,
                    n => read += n,
                }
            }
            assert_eq!(read, 13);
        }
    };
    run(20);
    assert_eq!(client.idle_connection_count(), 1, "one pooled connection");
    COUNTED_THREAD.with(|c| c.set(true));
    COUNTING.store(true, Ordering::Relaxed);
    let requests = 200;
    run(requests);
    COUNTING.store(false, Ordering::Relaxed);
    let per_request = ALLOCATIONS.load(Ordering::Relaxed) as f64 / requests as f64;
    assert!(
        per_request <= BUDGET,
        "{per_request} allocations per request, over the budget of {BUDGET}"
    );
}
