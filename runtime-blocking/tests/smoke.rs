use std::io::{Read, Write};
use std::net::TcpListener;

use wayfarer_blocking::{Client, Request};

#[test]
fn get_twice_on_one_connection() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    // The server keeps its end open until the client has looked at its pool: a connection the
    // server closed leaves the pool at once.
    let (checked, wait_for_check) = std::sync::mpsc::channel::<()>();
    let server = std::thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        let mut seen = Vec::new();
        for _ in 0..2 {
            let mut buf = Vec::new();
            let mut byte = [0u8; 1];
            while !buf.ends_with(b"\r\n\r\n") {
                s.read_exact(&mut byte).unwrap();
                buf.push(byte[0]);
            }
            seen.push(String::from_utf8(buf).unwrap());
            s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello")
                .unwrap();
        }
        let _ = wait_for_check.recv();
        seen
    });
    let client = Client::new();
    for _ in 0..2 {
        let req = Request::get(format!("http://{addr}/x?y=1"))
            .build()
            .unwrap();
        let resp = client.new_call(req).execute().unwrap();
        assert_eq!(resp.status(), 200);
        assert_eq!(resp.text().unwrap(), "hello");
    }
    assert_eq!(client.idle_connection_count(), 1);
    checked.send(()).unwrap();
    let seen = server.join().unwrap();
    assert!(
        seen[0].starts_with("GET /x?y=1 HTTP/1.1\r\nHost: 127.0.0.1:"),
        "{}",
        seen[0]
    );
}
