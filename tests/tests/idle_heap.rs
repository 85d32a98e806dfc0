//! What an idle pooled connection costs in client heap: a plain keep-alive connection parked in
//! the pool must hold at most 16 KiB, so that a client keeping many of them stays small. The
//! bytes are counted with this test binary's own global allocator, on the client's thread.
//!
//! One-time costs (the pool's own structures, lazily built state) are kept out by measuring the
//! growth from one pooled connection to several, each to its own origin. The count is the
//! thread's own, so that tests running at once on other threads do not add to it.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};

struct Counting;

thread_local! {
    /// Whether this thread's allocations are counted: only the client's thread (the origins run
    /// on others), while a measurement runs.
    static COUNTING: Cell<bool> = const { Cell::new(false) };
    /// The live bytes this thread allocated while counting.
    static LIVE: Cell<isize> = const { Cell::new(0) };
}

/// Adds `bytes` to this thread's count, if it is counting. (The thread-locals hold no
/// destructor and allocate nothing, so the allocator may use them.)
fn count(bytes: isize) {
    let _ = COUNTING.try_with(|counting| {
        if counting.get() {
            let _ = LIVE.try_with(|live| live.set(live.get() + bytes));
        }
    });
}

fn live() -> isize {
    LIVE.with(Cell::get)
}

// SAFETY: forwards every call to the system allocator unchanged; only counts live bytes.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count(layout.size() as isize);
        // SAFETY: the caller upholds `alloc`'s contract, which we pass on.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        count(-(layout.size() as isize));
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count(new_size as isize - layout.size() as isize);
        // SAFETY: as above.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// The most client heap one idle plain connection may hold.
const BUDGET: isize = 16 * 1024;

/// An origin that answers every request on its connection with a keep-alive response of
/// `len` bytes.
fn origin(len: usize) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    std::thread::spawn(move || {
        let Ok((mut socket, _)) = listener.accept() else {
            return;
        };
        let mut buf = [0u8; 4096];
        while let Ok(n) = socket.read(&mut buf) {
            if n == 0 {
                return;
            }
            let body = "x".repeat(len);
            let answer = format!("HTTP/1.1 200 OK\r\nContent-Length: {len}\r\n\r\n{body}");
            if socket.write_all(answer.as_bytes()).is_err() {
                return;
            }
        }
    });
    addr
}

#[test]
fn an_idle_pooled_connection_costs_at_most_16_kib_of_heap() {
    let per_connection = idle_cost(1000, 1);
    eprintln!("an idle pooled connection holds {per_connection} bytes of heap");
}

/// A connection whose responses are larger than its receive buffer reads them through a large
/// buffer its thread lends it while it is busy, and gives it back when it goes idle: idle, it
/// still costs no more than one that carried small responses.
#[test]
fn a_connection_that_carried_large_responses_is_as_cheap_when_idle() {
    let per_connection = idle_cost(40_000, 3);
    eprintln!(
        "an idle pooled connection that carried 40 kB responses holds {per_connection} bytes"
    );
}

/// The heap each of several idle pooled connections holds, each to its own origin answering
/// `len`-byte bodies, after `gets` requests on each; checked against the budget.
fn idle_cost(len: usize, gets: usize) -> isize {
    const CONNECTIONS: usize = 9;
    let origins: Vec<SocketAddr> = (0..CONNECTIONS).map(|_| origin(len)).collect();
    let client = wayfarer_blocking::Client::builder()
        .max_idle_connections(64)
        .build()
        .expect("client");
    let fetch = |addr: &SocketAddr| {
        for _ in 0..gets {
            let request = wayfarer_blocking::Request::get(format!("http://{addr}/"))
                .build()
                .expect("request");
            let response = client.new_call(request).execute().expect("response");
            let body = response.into_body().bytes().expect("body");
            assert_eq!(body.len(), len);
        }
    };
    COUNTING.with(|c| c.set(true));
    fetch(&origins[0]);
    let one = live();
    for addr in &origins[1..] {
        fetch(addr);
    }
    let all = live();
    COUNTING.with(|c| c.set(false));
    assert_eq!(client.idle_connection_count(), CONNECTIONS);
    let per_connection = (all - one) / (CONNECTIONS as isize - 1);
    assert!(
        per_connection > 0,
        "a pooled connection must cost something: {per_connection} bytes"
    );
    assert!(
        per_connection <= BUDGET,
        "an idle pooled connection holds {per_connection} bytes of heap, over {BUDGET}"
    );
    per_connection
}
