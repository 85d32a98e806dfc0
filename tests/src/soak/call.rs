//! The client's side of one case: build the request, run it on a runtime, read the body as the
//! case says, and compare what came back with what the case must come to.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use wayfarer_core::{Body, Error, ErrorKind, Request, TimeoutKind};

use super::case::{
    BodySpec, Case, Expect, Port, ReadMode, Stage, UploadKind, Verb, named_id, rng_for,
};

/// Where the origin listens, and the seed every case derives from.
#[derive(Debug, Clone, Copy)]
pub struct Target {
    /// The soak's seed.
    pub seed: u64,
    /// The origin's main listener.
    pub main: SocketAddr,
    /// The origin's GET-and-HEAD-only listener.
    pub idempotent: SocketAddr,
}

impl Target {
    fn addr(&self, port: Port) -> SocketAddr {
        match port {
            Port::Main => self.main,
            Port::Idempotent => self.idempotent,
        }
    }
}

/// What a call came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// A response, with as much of its body read as the read mode asked for.
    Response {
        /// Its status.
        status: u16,
        /// What was read of the body.
        body: Seen,
        /// The `X-Soak-Id` trailer, once the body was read to its end.
        trailer: Option<Vec<u8>>,
    },
    /// A typed error.
    Error {
        /// Its kind.
        kind: ErrorKind,
        /// Which timeout, for a timeout.
        timeout: Option<TimeoutKind>,
        /// Where it surfaced.
        stage: Stage,
        /// Its message, for the report.
        message: String,
    },
}

impl Outcome {
    fn error(e: &Error, stage: Stage) -> Outcome {
        Outcome::Error {
            kind: e.kind(),
            timeout: e.timeout_kind(),
            stage,
            message: e.to_string(),
        }
    }

    /// A short name for the report: `response`, `io`, `timeout (read)`, ...
    pub fn name(&self) -> String {
        match self {
            Outcome::Response { .. } => "response".into(),
            Outcome::Error {
                kind,
                timeout: Some(t),
                ..
            } => format!("{kind} ({})", timeout_name(*t)),
            Outcome::Error { kind, .. } => kind.to_string(),
        }
    }
}

fn timeout_name(t: TimeoutKind) -> &'static str {
    match t {
        TimeoutKind::Connect => "connect",
        TimeoutKind::Read => "read",
        TimeoutKind::Write => "write",
        TimeoutKind::Call => "call",
        _ => "other",
    }
}

/// What was read of a body, checked against the expected body as it arrived.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Seen {
    /// Bytes read.
    pub len: usize,
    /// The first bytes read (up to [`Seen::KEPT`]), for the report and the poisoning check.
    pub first: Vec<u8>,
    /// The offset of the first byte that differed from the expected body.
    pub difference: Option<usize>,
}

impl Seen {
    /// How many leading bytes are kept.
    pub const KEPT: usize = 64;

    /// Takes in `chunk`, the next bytes read, comparing them with `expected` if given.
    fn add(&mut self, chunk: &[u8], expected: Option<&BodySpec>) {
        if self.first.len() < Seen::KEPT {
            let room = Seen::KEPT - self.first.len();
            self.first
                .extend_from_slice(&chunk[..room.min(chunk.len())]);
        }
        if self.difference.is_none() {
            self.difference = expected.and_then(|e| e.first_difference(self.len, chunk));
        }
        self.len += chunk.len();
    }
}

/// A call that did not come to what its case says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mismatch {
    /// The body named another case: bytes meant for another request reached this one.
    pub poisoned: bool,
    /// What was expected and what came.
    pub message: String,
}

/// Compares `outcome`, which took `took`, with `expect` for `case`. A read timeout must not
/// fire before `read_timeout` has passed since the call began.
pub fn check(
    case: &Case,
    expect: &Expect,
    outcome: &Outcome,
    took: Duration,
    read_timeout: Duration,
) -> Result<(), Mismatch> {
    let fail = |poisoned, what: String| {
        Err(Mismatch {
            poisoned,
            message: format!(
                "case {} ({}): {what}; case: {case:?}",
                case.id,
                case.answer_name()
            ),
        })
    };
    match (expect, outcome) {
        (
            Expect::Response {
                status,
                body,
                trailer,
            },
            Outcome::Response {
                status: got_status,
                body: got,
                trailer: got_trailer,
            },
        ) => {
            if let Some(other) = named_id(&got.first).filter(|&other| other != case.id) {
                return fail(
                    true,
                    format!("the body belongs to case {other}: {}", preview(&got.first)),
                );
            }
            if got_status != status {
                return fail(false, format!("status {got_status}, expected {status}"));
            }
            let want_len = match case.read {
                ReadMode::All => body.len(),
                ReadMode::Drop => 0,
                ReadMode::Partial(n) => n.min(body.len()),
            };
            if got.len != want_len || got.difference.is_some() {
                let at = got
                    .difference
                    .map_or(String::new(), |d| format!(", differing from byte {d}"));
                return fail(
                    false,
                    format!(
                        "a body of {} bytes ({}{at}), expected {want_len} of {} bytes",
                        got.len,
                        preview(&got.first),
                        body.len(),
                    ),
                );
            }
            let want_trailer =
                (*trailer && case.read == ReadMode::All).then(|| case.id.to_string().into_bytes());
            if want_trailer.is_some() && *got_trailer != want_trailer {
                return fail(
                    false,
                    format!("trailer {got_trailer:?}, expected {want_trailer:?}"),
                );
            }
            Ok(())
        }
        (
            Expect::Error {
                kind,
                timeout,
                stage,
            },
            Outcome::Error {
                kind: got_kind,
                timeout: got_timeout,
                stage: got_stage,
                message,
            },
        ) => {
            if *got_timeout == Some(TimeoutKind::Read) && took < read_timeout {
                return fail(
                    false,
                    format!("the read timeout fired {took:?} after the call began ({message})"),
                );
            }
            let stage_ok = stage.is_none_or(|s| s == *got_stage);
            if got_kind != kind || (timeout.is_some() && got_timeout != timeout) || !stage_ok {
                return fail(
                    false,
                    format!(
                        "error {} at {got_stage:?} ({message}), expected {kind} {timeout:?} at {stage:?}",
                        outcome.name()
                    ),
                );
            }
            Ok(())
        }
        (Expect::Error { kind, .. }, Outcome::Response { status, body, .. }) => {
            let poisoned = named_id(&body.first).is_some_and(|other| other != case.id);
            fail(
                poisoned,
                format!(
                    "a {status} response ({}), expected a {kind} error",
                    preview(&body.first)
                ),
            )
        }
        (Expect::Response { status, .. }, Outcome::Error { stage, message, .. }) => fail(
            false,
            format!(
                "error {} at {stage:?} ({message}), expected a {status} response",
                outcome.name()
            ),
        ),
    }
}

fn preview(bytes: &[u8]) -> String {
    let shown = String::from_utf8_lossy(&bytes[..bytes.len().min(40)]).into_owned();
    if bytes.len() > 40 {
        format!("{shown:?}...")
    } else {
        format!("{shown:?}")
    }
}

/// The first request of `case`. `stream` picks an async stream over a reader for a one-shot
/// upload.
pub fn request(case: &Case, target: &Target, stream: bool) -> Result<Request, Error> {
    let url = format!("http://{}{}", target.addr(case.port), case.path(0));
    let builder = match case.verb {
        Verb::Get => Request::get(url),
        Verb::Head => Request::head(url),
        Verb::Post => Request::post(url),
    };
    let Some(upload) = case.upload else {
        return builder.build();
    };
    let bytes = Bytes::from(case.upload_bytes(target.seed));
    let len = (upload.kind == UploadKind::SizedStream).then_some(bytes.len() as u64);
    let pieces = Pieces {
        rest: bytes.clone(),
        sizes: rng_for(target.seed, case.id, 3),
    };
    let body = match (upload.kind, stream) {
        (UploadKind::Bytes, _) => Body::from(bytes),
        (_, false) => Body::from_reader(pieces, len),
        (_, true) => Body::from_stream(pieces, len),
    };
    builder.body(body).build()
}

/// A one-shot upload handed over in pieces of random sizes, so the client's framing meets
/// short reads.
struct Pieces {
    rest: Bytes,
    sizes: fastrand::Rng,
}

impl Pieces {
    fn next_piece(&mut self, most: usize) -> Bytes {
        let n = self.sizes.usize(1..=8192).min(most).min(self.rest.len());
        self.rest.split_to(n)
    }
}

impl io::Read for Pieces {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let piece = self.next_piece(buf.len());
        buf[..piece.len()].copy_from_slice(&piece);
        Ok(piece.len())
    }
}

impl futures_core::Stream for Pieces {
    type Item = io::Result<Bytes>;
    fn poll_next(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.rest.is_empty() {
            return Poll::Ready(None);
        }
        Poll::Ready(Some(Ok(self.next_piece(usize::MAX))))
    }
}

/// How many body bytes the case reads.
fn read_limit(case: &Case) -> usize {
    match case.read {
        ReadMode::All => usize::MAX,
        ReadMode::Drop => 0,
        ReadMode::Partial(n) => n,
    }
}

/// How much of the worker's buffer a case reads into: usually 16 KiB, sometimes all of it, so
/// that large bodies go straight from the socket into the caller's buffer.
fn read_size(case: &Case, buf: &[u8]) -> usize {
    if case.id % 4 == 0 {
        buf.len()
    } else {
        buf.len().min(16 * 1024)
    }
}

/// The body a response must have, if the case expects one.
fn expected_body(case: &Case, seed: u64) -> Option<BodySpec> {
    match case.expect(seed) {
        Expect::Response { body, .. } => Some(body),
        Expect::Error { .. } => None,
    }
}

/// Runs `case` on the blocking client, reading into `buf`.
pub fn call_blocking(
    client: &wayfarer_blocking::Client,
    case: &Case,
    target: &Target,
    buf: &mut [u8],
) -> Outcome {
    let request = match request(case, target, false) {
        Ok(r) => r,
        Err(e) => return Outcome::error(&e, Stage::Execute),
    };
    let mut response = match client.new_call(request).execute() {
        Ok(r) => r,
        Err(e) => return Outcome::error(&e, Stage::Execute),
    };
    let status = response.status().as_u16();
    let expected = expected_body(case, target.seed);
    let limit = read_limit(case);
    let size = read_size(case, buf);
    let mut body = Seen::default();
    while body.len < limit {
        let want = (limit - body.len).min(size);
        match response.body_mut().read_bytes(&mut buf[..want]) {
            Ok(0) => break,
            Ok(n) => body.add(&buf[..n], expected.as_ref()),
            Err(e) => return Outcome::error(&e, Stage::Body),
        }
    }
    let trailer = response
        .body()
        .trailers()
        .and_then(|t| t.get_bytes("x-soak-id").map(<[u8]>::to_vec));
    Outcome::Response {
        status,
        body,
        trailer,
    }
}

/// Runs `case` on an async client, inside the task that awaits it, reading into `buf`.
pub async fn call_async<N: wayfarer_async::Net>(
    client: &wayfarer_async::Client<N>,
    case: &Case,
    target: &Target,
    buf: &mut [u8],
) -> Outcome {
    let request = match request(case, target, true) {
        Ok(r) => r,
        Err(e) => return Outcome::error(&e, Stage::Execute),
    };
    let mut response = match client.new_call(request).execute().await {
        Ok(r) => r,
        Err(e) => return Outcome::error(&e, Stage::Execute),
    };
    let status = response.status().as_u16();
    let expected = expected_body(case, target.seed);
    let limit = read_limit(case);
    let size = read_size(case, buf);
    let mut body = Seen::default();
    while body.len < limit {
        let want = (limit - body.len).min(size);
        match response.body_mut().read(&mut buf[..want]).await {
            Ok(0) => break,
            Ok(n) => body.add(&buf[..n], expected.as_ref()),
            Err(e) => return Outcome::error(&e, Stage::Body),
        }
    }
    let trailer = response
        .body()
        .trailers()
        .and_then(|t| t.get_bytes("x-soak-id").map(<[u8]>::to_vec));
    Outcome::Response {
        status,
        body,
        trailer,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::soak::case::{After, Answer, Fault, Framing};

    fn case(id: u64, answer: Answer) -> Case {
        Case {
            id,
            verb: Verb::Get,
            upload: None,
            port: Port::Main,
            hops: Vec::new(),
            answer,
            read: ReadMode::All,
        }
    }

    fn ok() -> Answer {
        Answer::Ok {
            framing: Framing::Length,
            size: 100,
            after: After::KeepOpen,
            interim: false,
        }
    }

    fn seen(body: &BodySpec, bytes: &[u8]) -> Seen {
        let mut seen = Seen::default();
        seen.add(bytes, Some(body));
        seen
    }

    const TIMEOUT: Duration = Duration::from_secs(1);

    fn error(kind: ErrorKind, timeout: Option<TimeoutKind>, stage: Stage) -> Outcome {
        Outcome::Error {
            kind,
            timeout,
            stage,
            message: "test".into(),
        }
    }

    #[test]
    fn the_whole_expected_body_passes_and_one_wrong_byte_fails() {
        let case = case(12, ok());
        let Expect::Response { body, .. } = case.expect(5) else {
            panic!("a normal answer expects a response");
        };
        let right = body.to_vec();
        let outcome = |bytes: &[u8]| Outcome::Response {
            status: 200,
            body: seen(&body, bytes),
            trailer: None,
        };
        let expect = case.expect(5);
        assert_eq!(
            check(&case, &expect, &outcome(&right), TIMEOUT, TIMEOUT),
            Ok(())
        );
        let mut wrong = right.clone();
        wrong[30] ^= 1;
        let mismatch =
            check(&case, &expect, &outcome(&wrong), TIMEOUT, TIMEOUT).expect_err("a changed byte");
        assert!(!mismatch.poisoned);
        assert!(
            mismatch.message.contains("differing from byte 30"),
            "{}",
            mismatch.message
        );
        let short = check(&case, &expect, &outcome(&right[..50]), TIMEOUT, TIMEOUT);
        assert!(short.is_err(), "a short body passed");
    }

    #[test]
    fn another_requests_body_is_poisoned() {
        let mine = case(12, ok());
        let other = case(13, ok());
        let Expect::Response { body, .. } = other.expect(5) else {
            panic!("a normal answer expects a response");
        };
        let outcome = Outcome::Response {
            status: 200,
            body: seen(&body, &body.to_vec()),
            trailer: None,
        };
        let mismatch = check(&mine, &mine.expect(5), &outcome, TIMEOUT, TIMEOUT)
            .expect_err("case 13's body for case 12");
        assert!(mismatch.poisoned, "{}", mismatch.message);
    }

    #[test]
    fn an_error_must_be_the_faults_kind_stage_and_timeout() {
        let garbage = case(3, Answer::Fault(Fault::GarbageChunk));
        let expect = garbage.expect(5);
        let protocol_in_body = error(ErrorKind::Protocol, None, Stage::Body);
        assert_eq!(
            check(&garbage, &expect, &protocol_in_body, TIMEOUT, TIMEOUT),
            Ok(())
        );
        for wrong in [
            error(ErrorKind::Io, None, Stage::Body),
            error(ErrorKind::Protocol, None, Stage::Execute),
        ] {
            assert!(
                check(&garbage, &expect, &wrong, TIMEOUT, TIMEOUT).is_err(),
                "{wrong:?}"
            );
        }

        let stall = case(4, Answer::Fault(Fault::StallBeforeHead));
        let expect = stall.expect(5);
        let read = error(ErrorKind::Timeout, Some(TimeoutKind::Read), Stage::Execute);
        assert_eq!(check(&stall, &expect, &read, TIMEOUT, TIMEOUT), Ok(()));
        let call = error(ErrorKind::Timeout, Some(TimeoutKind::Call), Stage::Execute);
        assert!(check(&stall, &expect, &call, TIMEOUT, TIMEOUT).is_err());
        let early = check(&stall, &expect, &read, TIMEOUT / 2, TIMEOUT);
        assert!(
            early.is_err(),
            "a read timeout before the read timeout passed"
        );
    }

    #[test]
    fn a_response_where_a_fault_was_due_is_a_mismatch() {
        let reset = case(6, Answer::Fault(Fault::ResetBeforeHead));
        let outcome = Outcome::Response {
            status: 200,
            body: Seen::default(),
            trailer: None,
        };
        assert!(check(&reset, &reset.expect(5), &outcome, TIMEOUT, TIMEOUT).is_err());
    }
}
