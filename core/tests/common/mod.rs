//! What the call tests share: literal times, descriptions of outputs, and stepping a call
//! through its connect and its exchange by hand.

#![allow(dead_code, unused_imports)] // each test binary uses its own subset

use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::task::{Context, Waker};
use std::time::{Duration, SystemTime};

use wayfarer_core::{
    Body, BodyRead, Call, Client, Config, ConnId, ErrorKind, Event, Instant, Now, Output, Phase,
    Request, TimeoutKind,
};

pub fn at(ms: u64) -> Now {
    Now::new(
        Instant::from_epoch(Duration::from_millis(ms)),
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_767_225_600),
    )
}

pub fn ms(n: u64) -> Instant {
    Instant::from_epoch(Duration::from_millis(n))
}

pub fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

/// A one-line description of an output, for assertions.
pub fn describe(output: &Output<'_>) -> String {
    match output {
        Output::Event(e) => format!("event {}", e.kind),
        Output::Acquire { .. } => "acquire".into(),
        Output::CheckHealth { conn } => format!("check-health {conn}"),
        Output::Resolve { host, port } => format!("resolve {host}:{port}"),
        Output::Connect {
            conn,
            addr,
            deadline,
        } => format!("connect {conn} {addr} until {deadline:?}"),
        Output::Transmit { conn, bytes, .. } => {
            format!("transmit {conn} {:?}", String::from_utf8_lossy(bytes))
        }
        Output::Receive {
            conn,
            buf,
            deadline,
        } => format!("receive {conn} {} until {deadline:?}", buf.len().min(1)),
        Output::PullBody { .. } => "pull-body".into(),
        Output::Intercept { .. } => "intercept".into(),
        Output::Proceeded { .. } => "proceeded".into(),
        Output::Cache(op) => format!("cache {op:?}"),
        Output::Response => "response".into(),
        Output::Release(c) => format!("release {}", c.id()),
        Output::Close { conn } => format!("close {conn}"),
        Output::Idle => "idle".into(),
        Output::Done => "done".into(),
    }
}

/// A description from [`describe`], with the status of a response head the call has ready
/// (which takes the head, as a driver does).
pub fn taking_head(call: &mut Call, described: String) -> String {
    if described != "response" {
        return described;
    }
    match call.take_response() {
        Some(head) => format!("response {}", head.status().as_u16()),
        None => "response, but no head to take".into(),
    }
}

/// The next output that is not an event, polled at `now`.
pub fn next(call: &mut Call, now: u64) -> String {
    for _ in 0..1000 {
        let out = call.poll_output(at(now)).map(|o| describe(&o));
        match out {
            Ok(s) if s.starts_with("event") => continue,
            Ok(s) => return taking_head(call, s),
            Err(e) => return format!("error {}: {}", e.kind(), e),
        }
    }
    panic!("more than 1000 events in a row")
}

/// The id of the connect attempt the call asks for now.
pub fn connect_id(call: &mut Call, now: u64) -> ConnId {
    loop {
        match call.poll_output(at(now)) {
            Ok(Output::Connect { conn, .. }) => return conn,
            Ok(Output::Event(_)) => continue,
            other => panic!("expected a connect, got {:?}", other.map(|o| describe(&o))),
        }
    }
}

pub fn client(config: Config) -> Client<u32> {
    Client::new(config)
}

/// Steps a fresh call to the point where its connection is up.
pub fn connected_call(client: &Client<u32>, request: Request, now: u64) -> (Call, ConnId) {
    let mut call = client.start_call(at(now), request);
    call.handle_acquired(at(now), None);
    let conn = connect_id(&mut call, now);
    call.handle_connected(at(now), conn, Ok(()));
    (call, conn)
}

pub fn transmit_all(call: &mut Call, now: u64) -> Vec<u8> {
    let mut sent = Vec::new();
    loop {
        let (conn, written) = match call.poll_output(at(now)) {
            Ok(Output::Transmit { conn, bytes, .. }) => {
                sent.extend_from_slice(bytes);
                (conn, bytes.len())
            }
            Ok(Output::Event(_)) => continue,
            _ => return sent,
        };
        call.handle_transmitted(at(now), conn, Ok(written));
    }
}

pub fn receive(call: &mut Call, now: u64, bytes: &[u8]) {
    let conn = loop {
        match call.poll_output(at(now)) {
            Ok(Output::Receive { conn, buf, .. }) => {
                buf[..bytes.len()].copy_from_slice(bytes);
                break conn;
            }
            Ok(Output::Event(_)) => continue,
            other => panic!("expected a receive, got {:?}", other.map(|o| describe(&o))),
        }
    };
    call.handle_received(at(now), conn, Ok(bytes.len()));
}

/// Sends the request, pulling its body and writing everything at once, until the call wants
/// something else: returns that output's description, or the call's error.
pub fn send_until_blocked(call: &mut Call, now: u64) -> Result<String, wayfarer_core::Error> {
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        match call.poll_output(at(now))? {
            Output::PullBody { body, buf } => {
                let std::task::Poll::Ready(r) = body.poll_read(&mut cx, buf) else {
                    panic!("test bodies never block")
                };
                call.handle_body_pulled(at(now), r);
            }
            Output::Transmit { conn, bytes, .. } => {
                let n = bytes.len();
                call.handle_transmitted(at(now), conn, Ok(n));
            }
            // A failing call closes its connection first.
            Output::Event(_) | Output::Close { .. } => {}
            other => {
                let described = describe(&other);
                return Ok(taking_head(call, described));
            }
        }
    }
}

pub fn first_error(call: &mut Call, now: u64) -> wayfarer_core::Error {
    for _ in 0..100 {
        if let Err(e) = call.poll_output(at(now)) {
            return e;
        }
    }
    panic!("the call did not fail")
}
