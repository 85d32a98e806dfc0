//! Fast fallback on every runtime: a name with two addresses, the first one's connects
//! hanging (a listener with a full accept queue on 127.0.0.1) and the second one answering (on
//! 127.0.0.2, the same port). The second attempt starts 250 ms after the first while the first
//! is still in flight, so the call succeeds.
//!
//! The connect timeout is far beyond the call timeout: a client that waited for the first attempt
//! before trying the second would fail with the call timeout, which tells the two apart without
//! measuring time.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::thread;
use std::time::Duration;

use wayfarer_core::{Config, Request};
use wayfarer_tests::unreachable::Unanswered;

/// Serves one `200` with an empty body on 127.0.0.2 at `port`, in a thread of its own.
fn answer_once(port: u16) -> thread::JoinHandle<()> {
    let addr = SocketAddr::from(([127, 0, 0, 2], port));
    let listener = TcpListener::bind(addr).expect("bind 127.0.0.2 on the hanging port");
    thread::spawn(move || {
        let (mut stream, _) = listener.accept().expect("accept");
        let mut head = Vec::new();
        let mut buf = [0u8; 1024];
        while !head.windows(4).any(|w| w == b"\r\n\r\n") {
            match stream.read(&mut buf) {
                Ok(0) | Err(_) => return,
                Ok(n) => head.extend_from_slice(&buf[..n]),
            }
        }
        let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
    })
}

fn config(port: u16) -> Config {
    Config::builder()
        .resolve(&format!("fallback.test:{port}:127.0.0.1,127.0.0.2"))
        .connect_timeout(Duration::from_secs(60))
        .call_timeout(Duration::from_secs(10))
        .build()
        .expect("config")
}

/// One GET on an async client (tokio or smol), as its status or its error.
async fn get<N: wayfarer_async::Net>(
    client: wayfarer_async::Client<N>,
    port: u16,
) -> Result<u16, wayfarer_core::Error> {
    let request = Request::get(format!("http://fallback.test:{port}/")).build()?;
    Ok(client.new_call(request).execute().await?.status().as_u16())
}

#[test]
fn a_hanging_first_address_falls_back_to_the_second_tokio() {
    let hanging = Unanswered::start();
    let port = hanging.addr().port();
    let server = answer_once(port);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let client = wayfarer_tokio::Client::from(config(port));
    assert_eq!(
        rt.block_on(get(client, port)).expect("the second address"),
        200
    );
    server.join().unwrap();
}

#[test]
fn a_hanging_first_address_falls_back_to_the_second_smol() {
    let hanging = Unanswered::start();
    let port = hanging.addr().port();
    let server = answer_once(port);
    let client = wayfarer_smol::Client::from(config(port));
    assert_eq!(
        smol::block_on(get(client, port)).expect("the second address"),
        200
    );
    server.join().unwrap();
}

/// One GET on a blocking client, as its status or its error.
fn get_blocking(config: Config, port: u16) -> Result<u16, wayfarer_core::Error> {
    let request = Request::get(format!("http://fallback.test:{port}/")).build()?;
    let client = wayfarer_blocking::Client::from(config);
    Ok(client.new_call(request).execute()?.status().as_u16())
}

#[test]
fn a_hanging_first_address_falls_back_to_the_second_blocking() {
    let hanging = Unanswered::start();
    let port = hanging.addr().port();
    let server = answer_once(port);
    assert_eq!(
        get_blocking(config(port), port).expect("the second address"),
        200
    );
    server.join().unwrap();
}

/// With fast fallback off, the blocking client waits out the first address's connect timeout
/// before it tries the second: the same setup fails with the call timeout, which shows that the
/// test above tells the two behaviours apart.
#[test]
fn without_fast_fallback_the_hanging_first_address_costs_the_call_timeout_blocking() {
    let hanging = Unanswered::start();
    let port = hanging.addr().port();
    let config = Config::builder()
        .resolve(&format!("fallback.test:{port}:127.0.0.1,127.0.0.2"))
        .connect_timeout(Duration::from_secs(60))
        .call_timeout(Duration::from_millis(600))
        .fast_fallback(false)
        .build()
        .expect("config");
    let error =
        get_blocking(config, port).expect_err("the first address hangs past the call timeout");
    assert_eq!(error.kind(), wayfarer_core::ErrorKind::Timeout, "{error}");
}

/// A cancel from another thread ends a blocking call with two connect attempts in flight.
#[test]
fn a_cancel_ends_a_blocking_call_racing_two_hanging_addresses() {
    let hanging = Unanswered::start();
    let port = hanging.addr().port();
    // Both addresses hang: 127.0.0.2 has no listener on this port but loopback answers that
    // with a refusal, so name 127.0.0.1 twice through two names of the same hanging socket.
    let config = Config::builder()
        .resolve(&format!(
            "fallback.test:{port}:127.0.0.1,[::ffff:127.0.0.1]"
        ))
        .connect_timeout(Duration::from_secs(60))
        .call_timeout(Duration::from_secs(60))
        .build()
        .expect("config");
    let client = wayfarer_blocking::Client::from(config);
    let request = Request::get(format!("http://fallback.test:{port}/"))
        .build()
        .unwrap();
    let call = std::sync::Arc::new(client.new_call(request));
    let canceler = {
        let call = call.clone();
        thread::spawn(move || {
            // Past the 250 ms stagger: both attempts are in flight.
            thread::sleep(Duration::from_millis(600));
            call.cancel();
        })
    };
    let error = call.execute().expect_err("canceled");
    assert_eq!(error.kind(), wayfarer_core::ErrorKind::Canceled, "{error}");
    canceler.join().unwrap();
}
