//! The data a vector file describes, and the outcome every runner records.
//!
//! `parse.rs` turns a `.vec` file into a [`Vector`]; each runner (the core simulation and the
//! three runtimes) plays it and produces one [`Outcome`] per call plus the origin's
//! [`OriginRecord`]; `check.rs` compares those with the vector's expectations.

use std::time::Duration;

/// One parsed `.vec` file.
#[derive(Debug, Clone, PartialEq)]
pub struct Vector {
    /// `group/name`, from the path under `tests/vectors/` without the extension.
    pub name: String,
    /// The comment lines before the first section.
    pub description: String,
    pub config: VectorConfig,
    /// The calls, in order.
    pub calls: Vec<CallSpec>,
    /// The first origin's script (`[origin]`), served at `127.0.0.1`.
    pub origin: Vec<Step>,
    /// The second origin's script (`[origin 2]`), served at `localhost` on another port, for
    /// conversations that cross origins (redirects).
    pub origin2: Option<Vec<Step>>,
    /// `[expect call N]` sections, index N-1; a call without a section expects success with
    /// no further checks.
    pub expect_calls: Vec<CallExpect>,
    /// `[expect origin]`: what the first origin saw.
    pub expect_origin: Vec<OriginExpect>,
    /// `[expect origin 2]`: what the second origin saw.
    pub expect_origin2: Vec<OriginExpect>,
}

impl Vector {
    /// The origins' scripts: the first, then the second if the vector has one.
    pub fn scripts(&self) -> Vec<Vec<Step>> {
        std::iter::once(self.origin.clone())
            .chain(self.origin2.clone())
            .collect()
    }
}

/// Client settings from `[config]`; `None` keeps the client's default.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct VectorConfig {
    pub connect_timeout: Option<Duration>,
    pub read_timeout: Option<Duration>,
    pub write_timeout: Option<Duration>,
    pub call_timeout: Option<Duration>,
    pub expect_continue_timeout: Option<Duration>,
    pub max_head_bytes: Option<usize>,
    pub max_headers: Option<usize>,
    pub max_interim_responses: Option<usize>,
    pub max_chunk_extension_bytes: Option<usize>,
    pub max_trailer_bytes: Option<usize>,
    /// `follow-redirects on|off`.
    pub follow_redirects: Option<bool>,
    /// `follow-ssl-redirects on|off`.
    pub follow_ssl_redirects: Option<bool>,
    /// `retry-on-connection-failure on|off`.
    pub retry_on_connection_failure: Option<bool>,
    /// `max-follow-ups N`.
    pub max_follow_ups: Option<u32>,
    /// `gzip on|off`: transparent gzip.
    pub gzip: Option<bool>,
    /// `max-decompressed-bytes N`.
    pub max_decompressed_bytes: Option<u64>,
    /// `basic-auth USER PASSWORD`: a `BasicAuthenticator` answers 401s.
    pub basic_auth: Option<(String, String)>,
    /// `user-agent "..."`: the client's default `User-Agent` (an empty string sends none).
    pub user_agent: Option<String>,
    /// `proxy "http://user:pass@{authority}"`: the client's proxy (placeholders expanded), so
    /// the origin plays the proxy.
    pub proxy: Option<String>,
    /// `cookie-jar memory`: the client keeps cookies in a `MemoryCookieJar` of its own.
    pub cookie_jar: bool,
    /// `fragment whole`: run only the [`Variant::Whole`] variant.
    pub whole_only: bool,
    /// `cache memory|disk [MAX]`: the client has an HTTP cache.
    pub cache: Option<super::cache::CacheSetting>,
    /// `clock virtual`: the vector moves time (`after`), which only the simulation can; it is
    /// replayed on the core only.
    pub virtual_clock: bool,
}

/// One `[call N]` section.
#[derive(Debug, Clone, PartialEq)]
pub struct CallSpec {
    pub method: String,
    /// A path such as `/a?b=c`; the URL is `http://{authority}` + target.
    pub target: String,
    /// Request headers in order; values are raw bytes so invalid input can be expressed.
    pub headers: Vec<(String, Vec<u8>)>,
    pub body: BodySpec,
    pub read_body: ReadBody,
    /// `after DURATION`: the call starts this long after the previous one ended (virtual
    /// time; needs `clock virtual`).
    pub after: Option<Duration>,
    /// `idempotent`: the caller says the request may be sent twice
    /// (`RequestBuilder::idempotent(true)`), so a POST may be retried.
    pub idempotent: bool,
    /// `timeout DURATION`: the request's own call timeout (`RequestBuilder::timeout`).
    pub timeout: Option<Duration>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum BodySpec {
    None,
    /// `body "..."`
    Bytes(Vec<u8>),
    /// `stream ...` (len None) or `stream-sized N ...` (len Some(N)).
    Stream {
        len: Option<u64>,
        pieces: Vec<Vec<u8>>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadBody {
    All,
    None,
    Bytes(usize),
}

/// One `[origin]` step.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    Accept,
    ReadRequest,
    ReadHead,
    ReadBody,
    Send(Vec<u8>),
    Pause(Duration),
    Close,
    Reset,
    Stall,
    AwaitClose,
}

/// Expectations for one call (`[expect call N]`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CallExpect {
    pub status: Option<u16>,
    pub reason: Option<String>,
    /// "HTTP/1.0" or "HTTP/1.1".
    pub version: Option<String>,
    pub headers: Vec<(String, Vec<u8>)>,
    pub no_headers: Vec<String>,
    pub body: Option<Vec<u8>>,
    pub body_len: Option<usize>,
    /// `url "..."`: the URL of the request the final response answers (after redirects).
    pub url: Option<String>,
    /// `prior 302 301` / `prior none`: the statuses of the prior responses, most recent first
    /// (the order `Response::prior_response` walks them).
    pub prior: Option<Vec<u16>>,
    /// (kind, message substring); kind as in [`OutcomeError::kind`].
    pub error: Option<(String, Option<String>)>,
    /// `cache SOURCE`: how the response came to be (one of `cache::SOURCES`).
    pub cache: Option<String>,
}

/// One line of `[expect origin]`.
#[derive(Debug, Clone, PartialEq)]
pub enum OriginExpect {
    Connections(usize),
    Requests(usize),
    RequestConn {
        request: usize,
        conn: usize,
    },
    RequestLine {
        request: usize,
        line: String,
    },
    RequestHeader {
        request: usize,
        name: String,
        value: Vec<u8>,
    },
    RequestNoHeader {
        request: usize,
        name: String,
    },
    RequestBody {
        request: usize,
        body: Vec<u8>,
    },
    RequestRawBody {
        request: usize,
        raw: Vec<u8>,
    },
    ClosedByClient(usize),
}

/// How the origin's bytes are cut into reads (core) or writes (runtimes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Variant {
    Whole,
    Bytewise,
    Coalesced,
    Split3,
}

impl Variant {
    pub const ALL: [Variant; 4] = [
        Variant::Whole,
        Variant::Bytewise,
        Variant::Coalesced,
        Variant::Split3,
    ];
    /// The variants a real-socket runner can produce.
    pub const SOCKET: [Variant; 2] = [Variant::Whole, Variant::Bytewise];

    pub fn name(self) -> &'static str {
        match self {
            Variant::Whole => "whole",
            Variant::Bytewise => "bytewise",
            Variant::Coalesced => "coalesced",
            Variant::Split3 => "split3",
        }
    }
}

/// What one call produced, recorded the same way by every runner.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Outcome {
    pub head: Option<OutcomeHead>,
    /// The body bytes the caller read (possibly partial when an error cut the body short).
    pub body: Vec<u8>,
    pub error: Option<OutcomeError>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct OutcomeHead {
    pub status: u16,
    pub reason: String,
    /// "HTTP/1.0" or "HTTP/1.1".
    pub version: String,
    pub headers: Vec<(String, Vec<u8>)>,
    /// How it came to be: `hit`, `conditional-hit`, `conditional-miss`, `network` or `none`
    /// (see `cache::source`).
    pub source: &'static str,
    /// The URL of the request this response answers (the last hop's).
    pub url: String,
    /// The statuses of the prior responses (redirects, challenges, retries), most recent first.
    pub prior: Vec<u16>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct OutcomeError {
    /// `protocol`, `timeout`, `connect`, `dns`, `tls`, `io`, `canceled`, `invalid-input`,
    /// `too-many-follow-ups`.
    pub kind: String,
    /// The error's Display text.
    pub message: String,
}

/// What the origin saw while playing a script.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OriginRecord {
    /// Connections accepted.
    pub connections: usize,
    pub requests: Vec<RecordedRequest>,
    /// Connections (1-based) that `await-close` or `stall` saw the client close.
    pub closed_by_client: Vec<usize>,
    /// Script failures: a step that timed out, unexpected bytes during `await-close`, an
    /// unparseable request. A non-empty list fails the vector.
    pub errors: Vec<String>,
}

/// One request as the origin read it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RecordedRequest {
    /// The connection (1-based) it arrived on.
    pub conn: usize,
    /// The request line without CRLF, e.g. `GET / HTTP/1.1`.
    pub line: String,
    pub headers: Vec<(String, Vec<u8>)>,
    /// The body after de-chunking; empty until `read-body` for a `read-head` request.
    pub body: Vec<u8>,
    /// The body exactly as framed on the wire.
    pub raw_body: Vec<u8>,
}

/// Where the origins are, as the client sees them: what the placeholders in a vector's strings
/// expand to.
///
/// | placeholder | expands to |
/// |---|---|
/// | `{authority}` | the first origin, `127.0.0.1:PORT` |
/// | `{port}` | the first origin's port |
/// | `{authority2}` | the second origin, `localhost:PORT2` |
/// | `{port2}` | the second origin's port |
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authorities {
    /// `127.0.0.1:PORT`.
    pub first: String,
    /// `localhost:PORT2`, when the vector has a second origin.
    pub second: Option<String>,
}

impl Authorities {
    /// The host name the second origin is reached by: a name, not an address, so a redirect to it
    /// changes the host as well as the port (the client resolves it; the simulation's transport
    /// resolves it to the second origin).
    pub const SECOND_HOST: &'static str = "localhost";

    /// A single origin at `first`.
    pub fn one(first: impl Into<String>) -> Authorities {
        Authorities {
            first: first.into(),
            second: None,
        }
    }

    /// Replaces every placeholder in `bytes`; placeholders of an origin the vector does not have
    /// are left as they are.
    pub fn expand(&self, bytes: &[u8]) -> Vec<u8> {
        let port = |authority: &str| authority.rsplit(':').next().unwrap_or_default().to_owned();
        let mut table = vec![
            (&b"{authority}"[..], self.first.clone()),
            (&b"{port}"[..], port(&self.first)),
        ];
        if let Some(second) = &self.second {
            table.push((&b"{authority2}"[..], second.clone()));
            table.push((&b"{port2}"[..], port(second)));
        }
        let mut out = Vec::with_capacity(bytes.len());
        let mut i = 0;
        'outer: while i < bytes.len() {
            for (placeholder, value) in &table {
                if bytes[i..].starts_with(placeholder) {
                    out.extend_from_slice(value.as_bytes());
                    i += placeholder.len();
                    continue 'outer;
                }
            }
            out.push(bytes[i]);
            i += 1;
        }
        out
    }

    /// [`expand`](Self::expand) for text.
    pub fn expand_str(&self, text: &str) -> String {
        String::from_utf8_lossy(&self.expand(text.as_bytes())).into_owned()
    }
}
