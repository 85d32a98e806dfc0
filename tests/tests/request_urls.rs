//! Requests built from URL text: each thread keeps the last text it parsed, which must never be
//! visible (the same text gives the same URL whatever came before) and never fail a request,
//! even one built while the thread's locals are being destroyed.

use std::cell::RefCell;
use std::sync::mpsc;

use wayfarer_core::Request;

/// Texts in an order that hits and misses the memo, on several threads at once: every request
/// gets the URL a fresh parse gives.
#[test]
fn every_request_gets_its_own_url_on_every_thread() {
    let texts = [
        "http://127.0.0.1:8080/a",
        "http://127.0.0.1:8080/a",
        "HTTP://Example.COM/b/../c?q=1",
        "http://example.com/c?q=1",
        "http://example.com/c?q=1",
        "ws://example.com/socket",
        "http://[::1]:9/x",
    ];
    let threads: Vec<_> = (0..4)
        .map(|shift| {
            std::thread::spawn(move || {
                for i in 0..texts.len() * 3 {
                    let text = texts[(i + shift) % texts.len()];
                    let request = Request::get(text).build().unwrap();
                    let mut expected = wayfarer_core::Url::parse(text).unwrap();
                    if expected.scheme() == "ws" {
                        expected.set_scheme("http").unwrap();
                    }
                    assert_eq!(request.url(), &expected, "{text}");
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
}

/// A request built from another thread-local's destructor, after the memo may be gone, still
/// gets its URL instead of aborting the process.
#[test]
fn a_request_built_while_thread_locals_are_destroyed_gets_its_url() {
    struct BuildOnDrop(mpsc::Sender<Option<String>>);
    impl Drop for BuildOnDrop {
        fn drop(&mut self) {
            let built = Request::get("http://late.example/x").build();
            let _ = self.0.send(built.ok().map(|r| r.url().to_string()));
        }
    }
    thread_local! {
        static LATE: RefCell<Option<BuildOnDrop>> = const { RefCell::new(None) };
    }
    let (send, receive) = mpsc::channel();
    std::thread::spawn(move || {
        // The memo is first used after this local, so it is destroyed before it (locals are
        // destroyed in the reverse order of their first use here).
        LATE.with(|late| *late.borrow_mut() = Some(BuildOnDrop(send)));
        Request::get("http://early.example/").build().unwrap();
    })
    .join()
    .unwrap();
    assert_eq!(
        receive.recv().unwrap().as_deref(),
        Some("http://late.example/x")
    );
}
