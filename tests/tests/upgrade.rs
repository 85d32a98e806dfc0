//! `101 Switching Protocols`: the connection is handed to the caller as a byte stream for the
//! new protocol, on every runtime, over plain TCP and TLS, with the bytes the server sent in the
//! same segment as the 101's head delivered first.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::thread;

use wayfarer_core::{Certificate, Config, ErrorKind, Request};
use wayfarer_tests::certs::{Leaf, TestPki};

/// The origin's side: a 101 with the new protocol's greeting in the same write, then an echo
/// that upper-cases each read until the peer closes.
fn serve(mut stream: impl Read + Write) -> Vec<u8> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if stream.read(&mut byte).unwrap_or(0) == 0 {
            return head;
        }
        head.push(byte[0]);
    }
    stream
        .write_all(
            b"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: shout\r\n\r\n\
              welcome;",
        )
        .unwrap();
    stream.flush().unwrap();
    let mut buf = [0u8; 1024];
    loop {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => return head,
            Ok(n) => {
                let _ = stream.write_all(&buf[..n].to_ascii_uppercase());
                let _ = stream.flush();
            }
        }
    }
}

/// Starts an origin for one connection; returns its URL and the request head it read.
fn origin(tls: Option<Arc<rustls::ServerConfig>>) -> (String, thread::JoinHandle<Vec<u8>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let scheme = if tls.is_some() { "https" } else { "http" };
    let handle = thread::spawn(move || {
        let (tcp, _) = listener.accept().unwrap();
        match tls {
            None => serve(tcp),
            Some(config) => {
                let conn = rustls::ServerConnection::new(config).unwrap();
                serve(rustls::StreamOwned::<_, TcpStream>::new(conn, tcp))
            }
        }
    });
    (format!("{scheme}://localhost:{port}/shout"), handle)
}

fn request(url: &str) -> Request {
    Request::get(url)
        .header("Connection", "Upgrade")
        .header("Upgrade", "shout")
        .build()
        .unwrap()
}

fn config(pki: Option<&TestPki>) -> Config {
    let mut builder = Config::builder();
    if let Some(pki) = pki {
        builder = builder
            .tls_built_in_roots(false)
            .add_root_certificate(Certificate::from_der(pki.ca_der().to_vec()));
    }
    builder.build().unwrap()
}

/// Reads until `want` bytes have arrived.
fn read_n(stream: &mut impl Read, want: usize) -> Vec<u8> {
    let mut out = vec![0u8; want];
    stream.read_exact(&mut out).unwrap();
    out
}

fn check_head(head: &[u8]) {
    let head = String::from_utf8_lossy(head).to_ascii_lowercase();
    assert!(head.starts_with("get /shout http/1.1\r\n"), "{head}");
    assert!(head.contains("\r\nupgrade: shout\r\n"), "{head}");
    assert!(head.contains("\r\nconnection: upgrade\r\n"), "{head}");
}

#[test]
fn blocking_hands_over_the_connection_plain_and_over_tls() {
    let pki = TestPki::generate();
    for tls in [false, true] {
        let (url, server) = origin(tls.then(|| pki.server_config(Leaf::Valid)));
        let client = wayfarer_blocking::Client::from(config(tls.then_some(&pki)));
        let response = client.new_call(request(&url)).execute().unwrap();
        assert_eq!(response.status(), 101);
        let mut stream = response.into_body().into_upgraded().unwrap();
        assert_eq!(read_n(&mut stream, 8), b"welcome;", "tls {tls}");
        stream.write_all(b"ping").unwrap();
        assert_eq!(read_n(&mut stream, 4), b"PING", "tls {tls}");
        stream.write_all(b"and more").unwrap();
        assert_eq!(read_n(&mut stream, 8), b"AND MORE", "tls {tls}");
        drop(stream);
        check_head(&server.join().unwrap());
    }
}

#[test]
fn tokio_hands_over_the_connection_plain_and_over_tls() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let pki = TestPki::generate();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    for tls in [false, true] {
        let (url, server) = origin(tls.then(|| pki.server_config(Leaf::Valid)));
        let config = config(tls.then_some(&pki));
        rt.block_on(async {
            let client = wayfarer_tokio::Client::from(config);
            let response = client.new_call(request(&url)).execute().await.unwrap();
            assert_eq!(response.status(), 101);
            let mut stream = response.into_body().into_upgraded().unwrap();
            let mut buf = [0u8; 8];
            stream.read_exact(&mut buf).await.unwrap();
            assert_eq!(&buf, b"welcome;");
            stream.write_all(b"ping").await.unwrap();
            stream.flush().await.unwrap();
            let mut buf = [0u8; 4];
            stream.read_exact(&mut buf).await.unwrap();
            assert_eq!(&buf, b"PING");
        });
        check_head(&server.join().unwrap());
    }
}

#[test]
fn smol_hands_over_the_connection_plain_and_over_tls() {
    use futures_lite::{AsyncReadExt, AsyncWriteExt};
    let pki = TestPki::generate();
    for tls in [false, true] {
        let (url, server) = origin(tls.then(|| pki.server_config(Leaf::Valid)));
        let config = config(tls.then_some(&pki));
        smol::block_on(async {
            let client = wayfarer_smol::Client::from(config);
            let response = client.new_call(request(&url)).execute().await.unwrap();
            assert_eq!(response.status(), 101);
            let mut stream = response.into_body().into_upgraded().unwrap();
            let mut buf = [0u8; 8];
            stream.read_exact(&mut buf).await.unwrap();
            assert_eq!(&buf, b"welcome;");
            stream.write_all(b"ping").await.unwrap();
            stream.flush().await.unwrap();
            let mut buf = [0u8; 4];
            stream.read_exact(&mut buf).await.unwrap();
            assert_eq!(&buf, b"PING");
        });
        check_head(&server.join().unwrap());
    }
}

#[test]
fn only_a_101_can_be_upgraded() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = thread::spawn(move || {
        let (mut tcp, _) = listener.accept().unwrap();
        let mut buf = [0u8; 1024];
        let _ = tcp.read(&mut buf);
        tcp.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nno")
            .unwrap();
    });
    let client = wayfarer_blocking::Client::new();
    let url = format!("http://127.0.0.1:{port}/shout");
    let response = client.new_call(request(&url)).execute().unwrap();
    assert_eq!(response.status(), 200);
    let error = response.into_body().into_upgraded().unwrap_err();
    assert_eq!(error.kind(), ErrorKind::InvalidInput, "{error}");
    server.join().unwrap();
}

/// Runs `body` on a thread and fails if it takes longer than ten seconds (a peer that never
/// hears the end would otherwise hang the test).
fn within_ten_seconds(body: impl FnOnce() + Send + 'static) {
    let (done, finished) = std::sync::mpsc::channel();
    thread::spawn(move || {
        body();
        let _ = done.send(());
    });
    finished
        .recv_timeout(std::time::Duration::from_secs(10))
        .expect("the peer heard the end of the stream");
}

/// Shutting the upgraded stream's write side ends it for the peer (TCP FIN, with TLS's
/// close_notify first on https): the echo origin reads the end and closes, and the client
/// then reads the end too.
#[test]
fn shutting_down_the_upgraded_stream_ends_it_for_the_peer_on_every_runtime() {
    let pki = TestPki::generate();
    for tls in [false, true] {
        let (url, server) = origin(tls.then(|| pki.server_config(Leaf::Valid)));
        let config = config(tls.then_some(&pki));
        within_ten_seconds(move || {
            let client = wayfarer_blocking::Client::from(config);
            let response = client.new_call(request(&url)).execute().unwrap();
            let mut stream = response.into_body().into_upgraded().unwrap();
            assert_eq!(read_n(&mut stream, 8), b"welcome;");
            stream.write_all(b"bye").unwrap();
            stream.shutdown().unwrap();
            let mut rest = Vec::new();
            stream.read_to_end(&mut rest).unwrap();
            assert_eq!(rest, b"BYE");
            check_head(&server.join().unwrap());
        });

        let (url, server) = origin(tls.then(|| pki.server_config(Leaf::Valid)));
        let config = self::config(tls.then_some(&pki));
        within_ten_seconds(move || {
            use tokio::io::AsyncReadExt;
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async {
                let client = wayfarer_tokio::Client::from(config);
                let response = client.new_call(request(&url)).execute().await.unwrap();
                let mut stream = response.into_body().into_upgraded().unwrap();
                let mut rest = Vec::new();
                stream.write_all(b"bye").await.unwrap();
                stream.shutdown().await.unwrap();
                stream.read_to_end(&mut rest).await.unwrap();
                assert_eq!(rest, b"welcome;BYE");
            });
            check_head(&server.join().unwrap());
        });

        let (url, server) = origin(tls.then(|| pki.server_config(Leaf::Valid)));
        let config = self::config(tls.then_some(&pki));
        within_ten_seconds(move || {
            use futures_lite::{AsyncReadExt, AsyncWriteExt};
            smol::block_on(async {
                let client = wayfarer_smol::Client::from(config);
                let response = client.new_call(request(&url)).execute().await.unwrap();
                let mut stream = response.into_body().into_upgraded().unwrap();
                let mut rest = Vec::new();
                stream.write_all(b"bye").await.unwrap();
                stream.close().await.unwrap();
                stream.read_to_end(&mut rest).await.unwrap();
                assert_eq!(rest, b"welcome;BYE");
            });
            check_head(&server.join().unwrap());
        });
    }
}
