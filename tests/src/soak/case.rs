//! One soak request, derived from `(seed, id)` alone: what the client sends, what the origin
//! answers (a normal response or a fault), and what the call must come to.
//!
//! Both sides compute the same [`Case`] from the id in the request path, so the origin needs no
//! shared table and any case can be replayed on its own from its seed and id.

use wayfarer_core::{ErrorKind, TimeoutKind};

/// The request method. POST carries an upload; HEAD checks that a body announced by the head
/// is not read from the connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verb {
    /// GET.
    Get,
    /// HEAD.
    Head,
    /// POST with an [`Upload`].
    Post,
}

impl Verb {
    /// The method's name on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Verb::Get => "GET",
            Verb::Head => "HEAD",
            Verb::Post => "POST",
        }
    }
}

/// How a POST hands its body to the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UploadKind {
    /// Bytes in memory: repeatable, sent with `Content-Length`.
    Bytes,
    /// A one-shot reader or stream of known length: `Content-Length`.
    SizedStream,
    /// A one-shot reader or stream of unknown length: chunked.
    ChunkedStream,
}

/// A POST body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Upload {
    /// Its length in bytes.
    pub len: usize,
    /// How the client is given it.
    pub kind: UploadKind,
}

impl Upload {
    /// True when the body can be sent only once (a redirect that keeps it is not followed).
    pub fn is_one_shot(self) -> bool {
        self.kind != UploadKind::Bytes
    }
}

/// Which of the origin's two listeners a request goes to.
///
/// Faults that leave an idle pooled connection dead ([`After::CloseWhenIdle`],
/// [`After::ResetWhenIdle`]) are served only on [`Port::Idempotent`], which only ever receives
/// GET and HEAD: the next request on such a connection must be retried transparently, and only
/// an idempotent request may be (a POST that may have reached the server is never sent twice).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Port {
    /// Every method; no idle faults.
    Main,
    /// GET and HEAD only; idle faults happen here.
    Idempotent,
}

/// A redirect before the final answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hop {
    /// 301, 302, 303, 307 or 308.
    pub status: u16,
    /// The listener the `Location` points at.
    pub to: Port,
    /// How the redirect's own small body is framed.
    pub chunked: bool,
}

/// How a normal 200 body is framed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// `Content-Length`.
    Length,
    /// Chunked, sometimes with a trailer field.
    Chunked {
        /// Send `X-Soak-Id: <id>` as a trailer.
        trailers: bool,
    },
    /// No length: the body runs until the origin closes the connection.
    UntilClose,
    /// `Content-Encoding: gzip`, framed by length or chunked; the client decodes it.
    Gzip {
        /// Chunked rather than `Content-Length`.
        chunked: bool,
    },
    /// The whole response written a few bytes at a time with pauses well under the read
    /// timeout: a slow server is not a dead one.
    Drip {
        /// Bytes per write.
        piece: usize,
        /// Pause between writes, in milliseconds.
        gap_ms: u64,
    },
    /// Chunked with a `Content-Length` too: read as chunked, and the connection is not reused.
    ChunkedWithLength,
}

/// What the origin does with the connection after a normal response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum After {
    /// Waits for the next request.
    KeepOpen,
    /// Closes its side (FIN) at once, while the client may pool the connection.
    CloseWhenIdle,
    /// Resets the connection when the next request arrives on it.
    ResetWhenIdle,
}

/// A bad response head.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Garbage {
    /// Random bytes that are not a status line.
    Bytes,
    /// A status code that is not three digits.
    BadStatus,
    /// A version other than HTTP/1.x.
    BadVersion,
    /// `Content-Length` that is not a number.
    BadLength,
    /// Two different `Content-Length`s.
    ConflictingLength,
    /// A header line without a colon.
    BadHeaderLine,
    /// `Transfer-Encoding: chunked, chunked`.
    DoubleChunked,
}

/// A fault the origin injects instead of a normal response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// RST right after reading the request.
    ResetBeforeHead,
    /// RST after part of the head (`cut` per mille of it).
    ResetInHead {
        /// Where the head is cut, per mille.
        cut: u16,
    },
    /// RST after the head and part of a `Content-Length` body.
    ResetInBody {
        /// Where the body is cut, per mille.
        cut: u16,
    },
    /// FIN right after reading the request.
    CloseBeforeHead,
    /// A POST: FIN after reading only the request head, the body unread.
    CloseBeforeBody,
    /// FIN after part of the head.
    CloseInHead {
        /// Where the head is cut, per mille.
        cut: u16,
    },
    /// FIN after part of a `Content-Length` body.
    TruncatedLength {
        /// Where the body is cut, per mille.
        cut: u16,
    },
    /// FIN in the middle of a chunked body (before its last chunk).
    TruncatedChunked {
        /// Where the encoded body is cut, per mille.
        cut: u16,
    },
    /// Nothing at all, until the client gives up.
    StallBeforeHead,
    /// Part of the head, then nothing.
    StallInHead {
        /// Where the head is cut, per mille.
        cut: u16,
    },
    /// The head and part of the body, then nothing.
    StallInBody {
        /// Where the body is cut, per mille.
        cut: u16,
    },
    /// A head that is not HTTP/1.1.
    GarbageHead(Garbage),
    /// A good chunked head, then a chunk-size line that is not hex.
    GarbageChunk,
}

/// The origin's final answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// 200 with a body.
    Ok {
        /// How the body is framed.
        framing: Framing,
        /// Filler bytes after the id prefix (and the echoed upload).
        size: usize,
        /// What happens to the connection afterwards.
        after: After,
        /// A `103 Early Hints` interim response comes first.
        interim: bool,
    },
    /// 204, or 304 with the `Content-Length` a GET would have had.
    Bodiless {
        /// 204 or 304.
        status: u16,
    },
    /// A fault.
    Fault(Fault),
}

/// How the client reads a successful response's body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadMode {
    /// To the end, and checks every byte.
    All,
    /// Not at all: the response is dropped unread.
    Drop,
    /// This many bytes (checked), then the response is dropped.
    Partial(usize),
}

/// Where a call's error surfaced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// From `execute()`: no response.
    Execute,
    /// From reading the body of a response `execute()` returned.
    Body,
}

/// What a call must come to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expect {
    /// A response with this status and (decoded) body.
    Response {
        /// The status.
        status: u16,
        /// The whole body (the read mode decides how much of it is checked).
        body: BodySpec,
        /// The `X-Soak-Id` trailer the body ends with, if any.
        trailer: bool,
    },
    /// A typed error.
    Error {
        /// Its kind.
        kind: ErrorKind,
        /// For a timeout, which one.
        timeout: Option<TimeoutKind>,
        /// Where it surfaced; `None` when either is right (an RST may overtake the head).
        stage: Option<Stage>,
    },
}

/// One soak request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Case {
    /// Its id: the request path carries it, and every body the origin sends for it starts
    /// with it.
    pub id: u64,
    /// The first request's method.
    pub verb: Verb,
    /// The POST body, if any.
    pub upload: Option<Upload>,
    /// The listener the first request goes to.
    pub port: Port,
    /// Redirects before the final answer.
    pub hops: Vec<Hop>,
    /// The final answer.
    pub answer: Answer,
    /// How the client reads a successful body.
    pub read: ReadMode,
}

/// Weighted choice: `table` pairs a weight with a value.
fn pick<T: Copy>(rng: &mut fastrand::Rng, table: &[(u32, T)]) -> T {
    let total: u32 = table.iter().map(|(w, _)| w).sum();
    let mut roll = rng.u32(0..total);
    for (weight, value) in table {
        if roll < *weight {
            return *value;
        }
        roll -= weight;
    }
    table[table.len() - 1].1
}

/// The kinds of final answer and their weights (per 1000). About a third are faults.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Length,
    Chunked,
    UntilClose,
    Gzip,
    Drip,
    ChunkedWithLength,
    Bodiless,
    IdleClose,
    IdleReset,
    Fault(FaultKind),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FaultKind {
    ResetBeforeHead,
    ResetInHead,
    ResetInBody,
    CloseBeforeHead,
    CloseBeforeBody,
    CloseInHead,
    TruncatedLength,
    TruncatedChunked,
    StallBeforeHead,
    StallInHead,
    StallInBody,
    GarbageHead,
    GarbageChunk,
}

const KINDS: &[(u32, Kind)] = &[
    (250, Kind::Length),
    (110, Kind::Chunked),
    (50, Kind::UntilClose),
    (70, Kind::Gzip),
    (20, Kind::Drip),
    (15, Kind::ChunkedWithLength),
    (20, Kind::Bodiless),
    (60, Kind::IdleClose),
    (60, Kind::IdleReset),
    (40, Kind::Fault(FaultKind::ResetBeforeHead)),
    (15, Kind::Fault(FaultKind::ResetInHead)),
    (35, Kind::Fault(FaultKind::ResetInBody)),
    (40, Kind::Fault(FaultKind::CloseBeforeHead)),
    (15, Kind::Fault(FaultKind::CloseBeforeBody)),
    (20, Kind::Fault(FaultKind::CloseInHead)),
    (35, Kind::Fault(FaultKind::TruncatedLength)),
    (25, Kind::Fault(FaultKind::TruncatedChunked)),
    (8, Kind::Fault(FaultKind::StallBeforeHead)),
    (5, Kind::Fault(FaultKind::StallInHead)),
    (7, Kind::Fault(FaultKind::StallInBody)),
    (70, Kind::Fault(FaultKind::GarbageHead)),
    (15, Kind::Fault(FaultKind::GarbageChunk)),
];

const GARBAGE: &[(u32, Garbage)] = &[
    (3, Garbage::Bytes),
    (1, Garbage::BadStatus),
    (1, Garbage::BadVersion),
    (1, Garbage::BadLength),
    (1, Garbage::ConflictingLength),
    (1, Garbage::BadHeaderLine),
    (1, Garbage::DoubleChunked),
];

/// A per-case generator: the seed and the id mixed (SplitMix64's finaliser) so that
/// neighbouring ids get unrelated streams.
pub(crate) fn rng_for(seed: u64, id: u64, stream: u64) -> fastrand::Rng {
    let mut z = seed ^ id.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ stream.rotate_left(32);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    fastrand::Rng::with_seed(z ^ (z >> 31))
}

/// A body size: mostly small, some tens of KiB, a few up to 256 KiB (large enough for the
/// runtimes' direct reads into the caller's buffer).
fn size(rng: &mut fastrand::Rng, min: usize) -> usize {
    let n = match rng.u32(0..100) {
        0..70 => rng.usize(0..1024),
        70..95 => rng.usize(1024..32 * 1024),
        _ => rng.usize(32 * 1024..256 * 1024),
    };
    n.max(min)
}

fn cut(rng: &mut fastrand::Rng) -> u16 {
    rng.u16(0..1000)
}

impl Case {
    /// Case `id` of the soak seeded with `seed`.
    pub fn new(seed: u64, id: u64) -> Case {
        let mut rng = rng_for(seed, id, 0);
        let kind = pick(&mut rng, KINDS);
        let idle_fault = matches!(kind, Kind::IdleClose | Kind::IdleReset);
        let close_before_body = kind == Kind::Fault(FaultKind::CloseBeforeBody);

        // The method: POST for a fifth, HEAD for a few answers with a body to skip.
        let verb = match rng.u32(0..100) {
            _ if close_before_body => Verb::Post,
            _ if idle_fault => Verb::Get,
            0..20 => Verb::Post,
            20..24 if matches!(kind, Kind::Length | Kind::Chunked) => Verb::Head,
            _ => Verb::Get,
        };
        let upload = (verb == Verb::Post).then(|| Upload {
            // A drip echoes the upload a few bytes at a time: keep it short.
            len: match rng.u32(0..10) {
                _ if kind == Kind::Drip => rng.usize(0..256),
                0 => 0,
                1..8 => rng.usize(1..4096),
                _ => rng.usize(4096..96 * 1024),
            },
            kind: pick(
                &mut rng,
                &[
                    (6, UploadKind::Bytes),
                    (2, UploadKind::SizedStream),
                    (2, UploadKind::ChunkedStream),
                ],
            ),
        });

        // Redirects: a tenth of the cases, one to three hops (none when the POST body must
        // reach the final answer). A hop that keeps a POST (307, 308) stays on the main port;
        // once the method became GET any port will do.
        let hop_count = match rng.u32(0..100) {
            _ if close_before_body => 0,
            0..6 => 1,
            6..9 => 2,
            9 => 3,
            _ => 0,
        };
        let mut port = if verb == Verb::Post || rng.bool() {
            Port::Main
        } else {
            Port::Idempotent
        };
        let mut hops = Vec::new();
        let mut method = verb;
        for _ in 0..hop_count {
            let status = pick(
                &mut rng,
                &[(2, 301), (3, 302), (2, 303), (2, 307), (1, 308)],
            );
            if method == Verb::Post && matches!(status, 301..=303) {
                method = Verb::Get;
            }
            let to = if method == Verb::Post || rng.bool() {
                Port::Main
            } else {
                Port::Idempotent
            };
            hops.push(Hop {
                status,
                to,
                chunked: rng.u32(0..4) == 0,
            });
        }
        // Idle faults need the final request on the idempotent port (they are all GETs).
        if idle_fault {
            match hops.last_mut() {
                Some(last) => last.to = Port::Idempotent,
                None => port = Port::Idempotent,
            }
        }

        let answer = match kind {
            Kind::Length | Kind::IdleClose | Kind::IdleReset => Answer::Ok {
                framing: Framing::Length,
                size: size(&mut rng, 0),
                after: match kind {
                    Kind::IdleClose => After::CloseWhenIdle,
                    Kind::IdleReset => After::ResetWhenIdle,
                    _ => After::KeepOpen,
                },
                interim: rng.u32(0..30) == 0,
            },
            Kind::Chunked => Answer::Ok {
                framing: Framing::Chunked {
                    trailers: rng.u32(0..5) == 0,
                },
                size: size(&mut rng, 0),
                after: After::KeepOpen,
                interim: rng.u32(0..30) == 0,
            },
            Kind::UntilClose => Answer::Ok {
                framing: Framing::UntilClose,
                size: size(&mut rng, 0),
                after: After::KeepOpen,
                interim: false,
            },
            Kind::Gzip => Answer::Ok {
                framing: Framing::Gzip {
                    chunked: rng.bool(),
                },
                size: size(&mut rng, 0),
                after: After::KeepOpen,
                interim: false,
            },
            Kind::Drip => Answer::Ok {
                framing: Framing::Drip {
                    piece: rng.usize(8..64),
                    gap_ms: rng.u64(1..5),
                },
                size: rng.usize(0..256),
                after: After::KeepOpen,
                interim: false,
            },
            Kind::ChunkedWithLength => Answer::Ok {
                framing: Framing::ChunkedWithLength,
                size: size(&mut rng, 0),
                after: After::KeepOpen,
                interim: false,
            },
            Kind::Bodiless => Answer::Bodiless {
                status: if rng.bool() { 204 } else { 304 },
            },
            Kind::Fault(f) => Answer::Fault(match f {
                FaultKind::ResetBeforeHead => Fault::ResetBeforeHead,
                FaultKind::ResetInHead => Fault::ResetInHead { cut: cut(&mut rng) },
                FaultKind::ResetInBody => Fault::ResetInBody { cut: cut(&mut rng) },
                FaultKind::CloseBeforeHead => Fault::CloseBeforeHead,
                FaultKind::CloseBeforeBody => Fault::CloseBeforeBody,
                FaultKind::CloseInHead => Fault::CloseInHead { cut: cut(&mut rng) },
                FaultKind::TruncatedLength => Fault::TruncatedLength { cut: cut(&mut rng) },
                FaultKind::TruncatedChunked => Fault::TruncatedChunked { cut: cut(&mut rng) },
                FaultKind::StallBeforeHead => Fault::StallBeforeHead,
                FaultKind::StallInHead => Fault::StallInHead { cut: cut(&mut rng) },
                FaultKind::StallInBody => Fault::StallInBody { cut: cut(&mut rng) },
                FaultKind::GarbageHead => Fault::GarbageHead(pick(&mut rng, GARBAGE)),
                FaultKind::GarbageChunk => Fault::GarbageChunk,
            }),
        };
        let read = match (answer, rng.u32(0..100)) {
            (Answer::Ok { .. }, 0..8) => ReadMode::Drop,
            (Answer::Ok { .. }, 8..16) => ReadMode::Partial(rng.usize(1..2048)),
            _ => ReadMode::All,
        };
        Case {
            id,
            verb,
            upload,
            port,
            hops,
            answer,
            read,
        }
    }

    /// The path of request `hop` (0 = the first; `hops.len()` = the final answer's).
    pub fn path(&self, hop: usize) -> String {
        format!("/c/{}/{hop}", self.id)
    }

    /// The method of request `hop`, after the redirects before it changed it.
    pub fn method_at(&self, hop: usize) -> Verb {
        let mut method = self.verb;
        for h in &self.hops[..hop.min(self.hops.len())] {
            let to_get = match h.status {
                303 => method != Verb::Head && method != Verb::Get,
                301 | 302 => method == Verb::Post,
                _ => false,
            };
            if to_get {
                method = Verb::Get;
            }
        }
        method
    }

    /// The listener request `hop` goes to.
    pub fn port_at(&self, hop: usize) -> Port {
        match hop {
            0 => self.port,
            n => self.hops[n - 1].to,
        }
    }

    /// The index of the response the call returns: the first redirect the client does not
    /// follow (a 307 or 308 that would have to send a one-shot body again), or the final
    /// answer.
    pub fn returned(&self) -> usize {
        for (i, hop) in self.hops.iter().enumerate() {
            let keeps_body = matches!(hop.status, 307 | 308) && self.method_at(i) == Verb::Post;
            if keeps_body && self.upload.is_some_and(Upload::is_one_shot) {
                return i;
            }
        }
        self.hops.len()
    }

    /// The length of this case's upload (0 without one).
    pub fn upload_len(&self) -> usize {
        self.upload.map_or(0, |u| u.len)
    }

    /// The bytes of this case's upload (empty without one).
    pub fn upload_bytes(&self, seed: u64) -> Vec<u8> {
        (0..self.upload_len())
            .map(|i| upload_byte(seed, self.id, i))
            .collect()
    }

    /// The body of redirect `hop`'s response.
    pub fn hop_body(&self, hop: usize) -> BodySpec {
        BodySpec {
            prefix: format!("<{}|hop{hop}|", self.id).into_bytes(),
            echo: None,
            id: self.id,
            filler: 16 + hop * 7,
        }
    }

    /// The final answer's decoded body for a request with `method` (echoing the upload for a
    /// POST that reached it). Every body starts with `<id|`, so a body that ends up in another
    /// request's response names the request it was meant for.
    pub fn answer_body(&self, seed: u64, method: Verb) -> BodySpec {
        let size = match self.answer {
            Answer::Ok { size, .. } => size,
            // A fault cuts a body of at least 64 bytes.
            Answer::Fault(_) => 64,
            Answer::Bodiless { .. } => 0,
        };
        let echoed = if method == Verb::Post {
            self.upload_len()
        } else {
            0
        };
        BodySpec {
            prefix: format!("<{}|{}|{echoed}|", self.id, method.as_str()).into_bytes(),
            echo: (echoed > 0).then_some((seed, echoed)),
            id: self.id,
            filler: size,
        }
    }

    /// What the call must come to.
    pub fn expect(&self, seed: u64) -> Expect {
        let returned = self.returned();
        if returned < self.hops.len() {
            return Expect::Response {
                status: self.hops[returned].status,
                body: self.hop_body(returned),
                trailer: false,
            };
        }
        let method = self.method_at(returned);
        let error = |kind, timeout, stage| Expect::Error {
            kind,
            timeout,
            stage,
        };
        match self.answer {
            Answer::Ok {
                framing, after: _, ..
            } => {
                let body = if method == Verb::Head {
                    BodySpec::empty()
                } else {
                    self.answer_body(seed, method)
                };
                Expect::Response {
                    status: 200,
                    body,
                    trailer: framing == Framing::Chunked { trailers: true } && method != Verb::Head,
                }
            }
            Answer::Bodiless { status } => Expect::Response {
                status,
                body: BodySpec::empty(),
                trailer: false,
            },
            Answer::Fault(fault) => {
                use Stage::{Body, Execute};
                let read = Some(TimeoutKind::Read);
                match fault {
                    Fault::ResetBeforeHead
                    | Fault::CloseBeforeHead
                    | Fault::CloseBeforeBody
                    | Fault::ResetInHead { .. } => error(ErrorKind::Io, None, Some(Execute)),
                    // The RST may overtake the head on its way to the client.
                    Fault::ResetInBody { .. } => error(ErrorKind::Io, None, None),
                    Fault::CloseInHead { .. } | Fault::GarbageHead(_) => {
                        error(ErrorKind::Protocol, None, Some(Execute))
                    }
                    Fault::TruncatedLength { .. }
                    | Fault::TruncatedChunked { .. }
                    | Fault::GarbageChunk => error(ErrorKind::Protocol, None, Some(Body)),
                    Fault::StallBeforeHead | Fault::StallInHead { .. } => {
                        error(ErrorKind::Timeout, read, Some(Execute))
                    }
                    Fault::StallInBody { .. } => error(ErrorKind::Timeout, read, Some(Body)),
                }
            }
        }
    }

    /// The name of the final answer, for the report: a fault's kind, or a normal response's
    /// framing.
    pub fn answer_name(&self) -> &'static str {
        match self.answer {
            Answer::Ok { after, framing, .. } => match (after, framing) {
                (After::CloseWhenIdle, _) => "idle close (FIN while pooled)",
                (After::ResetWhenIdle, _) => "idle reset (RST on reuse)",
                (_, Framing::Length) => "Content-Length",
                (_, Framing::Chunked { .. }) => "chunked",
                (_, Framing::UntilClose) => "close-delimited",
                (_, Framing::Gzip { .. }) => "gzip",
                (_, Framing::Drip { .. }) => "slow drip",
                (_, Framing::ChunkedWithLength) => "chunked + Content-Length",
            },
            Answer::Bodiless { .. } => "204 / 304",
            Answer::Fault(fault) => fault_name(fault),
        }
    }

    /// The name of the last answer the call meets: [`answer_name`](Self::answer_name), or for
    /// a call that returns a redirect (a one-shot body it cannot send again) that redirect.
    pub fn served_name(&self) -> &'static str {
        if self.returned() < self.hops.len() {
            "307 / 308 returned (one-shot body)"
        } else {
            self.answer_name()
        }
    }

    /// True when the final answer is a fault.
    pub fn is_fault(&self) -> bool {
        matches!(self.answer, Answer::Fault(_))
    }
}

mod body;

pub use body::{BodySpec, fault_name, filler_byte, named_id, upload_byte};

#[cfg(test)]
#[path = "case_tests.rs"]
mod tests;
