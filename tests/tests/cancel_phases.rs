//! Cancel from another thread in every phase of a call, on every runtime: resolving the name,
//! connecting, the TLS handshake, writing the request body, waiting for the response, reading
//! the response body. Each call fails as canceled long before any timeout would end it, and
//! gives back everything it held: no connection stays counted, no dispatcher slot stays taken.
//!
//! Each test cancels when the event listener reports the phase has begun; the phase's own I/O
//! never finishes (a resolver that waits, a connect no one answers, a server that says nothing),
//! so only the cancel can end the call.

use std::io::Read;
use std::net::{IpAddr, TcpListener};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use bytes::Bytes;
use wayfarer_core::{Body, ClientBuilder, Config, ErrorKind, Event, EventKind, Request};
use wayfarer_tests::unreachable::Unanswered;

/// How long a phase may take to begin.
const EVENT_TIMEOUT: Duration = Duration::from_secs(10);
/// A canceled call must end well within this (every timeout involved is 10 s or more).
const PROMPTLY: Duration = Duration::from_secs(5);

/// One phase: the client settings and request that reach it, and the event that says it began.
struct Phase {
    builder: ClientBuilder<Config>,
    request: Request,
    began: fn(&EventKind) -> bool,
    /// The cancel lands while the body is read, after the response head.
    in_body: bool,
    /// Kept alive for the test: servers, the resolver's gate.
    _keep: Vec<Box<dyn std::any::Any + Send>>,
}

/// A server that accepts and then holds each connection without reading or writing.
fn silent_server() -> (String, TcpListener) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let held = listener.try_clone().expect("clone");
    thread::spawn(move || {
        let mut streams = Vec::new();
        for stream in held.incoming() {
            match stream {
                Ok(s) => streams.push(s),
                Err(_) => return,
            }
        }
    });
    (addr.to_string(), listener)
}

/// A server that answers each request's head with a 100-byte body of which it sends 10.
fn half_body_server() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    thread::spawn(move || {
        let mut streams = Vec::new();
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let mut buf = [0u8; 4096];
            let mut seen = Vec::new();
            while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
                match stream.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => seen.extend_from_slice(&buf[..n]),
                }
            }
            let head = b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789";
            let _ = std::io::Write::write_all(&mut stream, head);
            streams.push(stream);
        }
    });
    addr.to_string()
}

fn resolving() -> Phase {
    // The resolver waits until the test ends (the gate's sender is dropped with the phase).
    let (gate, wait) = mpsc::channel::<()>();
    let wait = Arc::new(Mutex::new(wait));
    let dns = move |_: &str| -> std::io::Result<Vec<IpAddr>> {
        let _ = wait.lock().map(|w| w.recv());
        Err(std::io::Error::other("the gate closed"))
    };
    Phase {
        builder: Config::builder().dns(dns),
        request: Request::get("http://slow.test/").build().expect("request"),
        began: |k| matches!(k, EventKind::DnsStart { .. }),
        in_body: false,
        _keep: vec![Box::new(gate)],
    }
}

fn connecting() -> Phase {
    let unanswered = Unanswered::start();
    Phase {
        builder: Config::builder(),
        request: Request::get(format!("http://{}/", unanswered.addr()))
            .build()
            .expect("request"),
        began: |k| matches!(k, EventKind::ConnectStart { .. }),
        in_body: false,
        _keep: vec![Box::new(unanswered)],
    }
}

fn tls_handshake() -> Phase {
    let (authority, listener) = silent_server();
    Phase {
        builder: Config::builder(),
        request: Request::get(format!("https://{authority}/"))
            .build()
            .expect("request"),
        began: |k| matches!(k, EventKind::SecureConnectStart),
        in_body: false,
        _keep: vec![Box::new(listener)],
    }
}

fn writing() -> Phase {
    let (authority, listener) = silent_server();
    // Far more than the socket buffers hold: the write blocks once they are full.
    let body = Body::from(Bytes::from(vec![b'x'; 64 << 20]));
    Phase {
        builder: Config::builder(),
        request: Request::post(format!("http://{authority}/upload"))
            .body(body)
            .build()
            .expect("request"),
        began: |k| matches!(k, EventKind::RequestBodyStart),
        in_body: false,
        _keep: vec![Box::new(listener)],
    }
}

fn waiting() -> Phase {
    let (authority, listener) = silent_server();
    Phase {
        builder: Config::builder(),
        request: Request::get(format!("http://{authority}/"))
            .build()
            .expect("request"),
        began: |k| matches!(k, EventKind::ResponseHeadersStart),
        in_body: false,
        _keep: vec![Box::new(listener)],
    }
}

fn reading_the_body() -> Phase {
    Phase {
        builder: Config::builder(),
        request: Request::get(format!("http://{}/", half_body_server()))
            .build()
            .expect("request"),
        began: |k| matches!(k, EventKind::ResponseHeadersEnd { .. }),
        in_body: true,
        _keep: Vec::new(),
    }
}

/// The phase's config, with a listener that signals when the phase begins.
fn config(phase: &mut Phase) -> (Config, Receiver<()>) {
    let (tx, rx): (Sender<()>, Receiver<()>) = mpsc::channel();
    let tx = Mutex::new(tx);
    let began = phase.began;
    let builder = std::mem::replace(&mut phase.builder, Config::builder());
    let config = builder
        .event_listener(move |e: &Event| {
            if began(&e.kind) {
                let _ = tx.lock().map(|tx| tx.send(()));
            }
        })
        .build()
        .expect("config");
    (config, rx)
}

/// Cancels `cancel` from another thread once `began` reports the phase.
fn cancel_when(
    began: Receiver<()>,
    cancel: impl FnOnce() + Send + 'static,
) -> thread::JoinHandle<()> {
    thread::spawn(move || {
        began.recv_timeout(EVENT_TIMEOUT).expect("the phase began");
        cancel();
    })
}

fn assert_canceled_promptly(kind: Option<ErrorKind>, started: Instant) {
    assert_eq!(kind, Some(ErrorKind::Canceled));
    assert!(
        started.elapsed() < PROMPTLY,
        "the cancel took {:?}",
        started.elapsed()
    );
}

fn on_blocking(mut phase: Phase) {
    let (config, began) = config(&mut phase);
    let client = wayfarer_blocking::Client::from(config);
    let call = Arc::new(client.new_call(phase.request.clone()));
    let started = Instant::now();
    let canceler = cancel_when(began, {
        let call = call.clone();
        move || call.cancel()
    });
    let result = call.execute().and_then(|r| {
        if phase.in_body {
            r.bytes().map(drop)
        } else {
            Ok(())
        }
    });
    canceler.join().expect("canceler");
    assert_canceled_promptly(result.err().map(|e| e.kind()), started);
    assert_eq!(client.connection_count(), 0, "a connection stayed counted");
    assert_eq!(client.dispatcher().running_calls_count(), 0);
}

async fn run_async<N: wayfarer_async::Net>(mut phase: Phase) {
    let (config, began) = config(&mut phase);
    let client = wayfarer_async::Client::<N>::from(config);
    let call = Arc::new(client.new_call(phase.request.clone()));
    let started = Instant::now();
    let canceler = cancel_when(began, {
        let call = call.clone();
        move || call.cancel()
    });
    let result = match call.execute().await {
        Ok(r) if phase.in_body => r.bytes().await.map(drop),
        other => other.map(drop),
    };
    canceler.join().expect("canceler");
    assert_canceled_promptly(result.err().map(|e| e.kind()), started);
    assert_eq!(client.connection_count(), 0, "a connection stayed counted");
    assert_eq!(client.dispatcher().running_calls_count(), 0);
}

fn on_tokio(phase: Phase) {
    ::tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(run_async::<wayfarer_tokio::Tokio>(phase));
}

fn on_smol(phase: Phase) {
    ::smol::block_on(run_async::<wayfarer_smol::Smol>(phase));
}

macro_rules! every_runtime {
    ($($phase:ident),*) => {
        mod blocking {
            $(#[test] fn $phase() { super::on_blocking(super::$phase()) })*
        }
        mod tokio {
            $(#[test] fn $phase() { super::on_tokio(super::$phase()) })*
        }
        mod smol {
            $(#[test] fn $phase() { super::on_smol(super::$phase()) })*
        }
    };
}

every_runtime!(
    resolving,
    connecting,
    tls_handshake,
    writing,
    waiting,
    reading_the_body
);
