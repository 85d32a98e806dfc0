//! A logging interceptor for the blocking client, after OkHttp's `HttpLoggingInterceptor`: it
//! logs each request and response at one of four levels, with credentials redacted.
//!
//! ```text
//! cargo run -p wayfarer-tests --example logging_interceptor -- headers http://127.0.0.1:8080/
//! ```
//!
//! | level | logs |
//! |---|---|
//! | `none` | nothing |
//! | `basic` | `--> GET http://host/path (3-byte body)` and `<-- 200 OK http://host/path (12ms, 5-byte body)` |
//! | `headers` | the same lines, each followed by the header fields and an `END` line |
//! | `body` | the headers, then the bodies: text as it is, binary ones by size only |
//!
//! The values of `Authorization`, `Cookie`, `Set-Cookie` and `Proxy-Authorization` (and of any
//! field added with [`HttpLogging::redact_header`]) are logged as `██`, so logs can be shared.
//!
//! Where it goes decides what it sees. As an application interceptor
//! (`ClientBuilder::interceptor`) it logs the caller's request and the final response, once per
//! call, with a gzip body already decoded. As a network interceptor
//! (`ClientBuilder::network_interceptor`) it logs the requests as they go on the wire, with the
//! fields the bridge adds (`Host`, `Connection`, `Accept-Encoding`, `User-Agent`), and every
//! redirect hop. At `body` level the response body is read whole and handed on as a new body,
//! which only an application interceptor may do (a network interceptor must keep the network's
//! body), so use `body` as an application interceptor and `headers` at most on the network.

use std::fmt::Write as _;
use std::sync::Arc;
use std::time::Instant;

use wayfarer_blocking::{Body, Chain, Error, FnInterceptor, Request, Response, interceptor};
use wayfarer_core::Headers;

/// How much [`HttpLogging`] logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// Nothing.
    None,
    /// One line for the request and one for the response.
    Basic,
    /// [`Level::Basic`] and the header fields.
    Headers,
    /// [`Level::Headers`] and the bodies.
    Body,
}

impl std::str::FromStr for Level {
    type Err = String;

    fn from_str(s: &str) -> Result<Level, String> {
        match s {
            "none" => Ok(Level::None),
            "basic" => Ok(Level::Basic),
            "headers" => Ok(Level::Headers),
            "body" => Ok(Level::Body),
            other => Err(format!(
                "unknown level `{other}`: none, basic, headers or body"
            )),
        }
    }
}

/// The fields whose values are never logged.
const REDACTED: [&str; 4] = [
    "Authorization",
    "Cookie",
    "Set-Cookie",
    "Proxy-Authorization",
];

/// What a redacted value is logged as.
const MASK: &str = "██";

type Sink = Arc<dyn Fn(&str) + Send + Sync>;

/// A logging interceptor; see the module docs. Build it, then add
/// [`into_interceptor`](Self::into_interceptor) to a client.
#[derive(Clone)]
pub struct HttpLogging {
    level: Level,
    redact: Vec<String>,
    sink: Sink,
}

impl std::fmt::Debug for HttpLogging {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpLogging")
            .field("level", &self.level)
            .field("redact", &self.redact)
            .finish_non_exhaustive()
    }
}

impl HttpLogging {
    /// Logs at `level` to standard error, one line per `eprintln!`.
    pub fn new(level: Level) -> HttpLogging {
        HttpLogging {
            level,
            redact: REDACTED.iter().map(|n| n.to_string()).collect(),
            sink: Arc::new(|line| eprintln!("{line}")),
        }
    }

    /// Sends each line to `sink` instead (a logger, a test's buffer).
    pub fn sink(mut self, sink: impl Fn(&str) + Send + Sync + 'static) -> HttpLogging {
        self.sink = Arc::new(sink);
        self
    }

    /// Also logs `name`'s values as `██` (an API key field, say).
    pub fn redact_header(mut self, name: &str) -> HttpLogging {
        self.redact.push(name.to_owned());
        self
    }

    /// The interceptor, for `ClientBuilder::interceptor` or `network_interceptor`.
    pub fn into_interceptor(self) -> FnInterceptor {
        interceptor(move |chain: &mut Chain<'_>| self.intercept(chain))
    }

    fn intercept(&self, chain: &mut Chain<'_>) -> Result<Response, Error> {
        let request = chain.request().clone();
        if self.level == Level::None {
            return chain.proceed(request);
        }
        self.log_request(&request);
        let started = Instant::now();
        let response = match chain.proceed(request) {
            Ok(response) => response,
            Err(e) => {
                self.log(&format!("<-- HTTP FAILED: {e}"));
                return Err(e);
            }
        };
        let took = started.elapsed().as_millis();
        self.log_response(response, took)
    }

    fn log(&self, line: &str) {
        (self.sink)(line);
    }

    fn log_request(&self, request: &Request) {
        let method = request.method();
        let url = request.redacted_url();
        let body = request.body();
        let size = match body.len() {
            _ if body.is_empty() => String::new(),
            Some(n) => format!(" ({n}-byte body)"),
            None => " (streamed body)".to_owned(),
        };
        if self.level == Level::Basic {
            return self.log(&format!("--> {method} {url}{size}"));
        }
        self.log(&format!("--> {method} {url}"));
        self.log_headers(request.headers());
        if self.level < Level::Body || body.is_empty() {
            return self.log(&format!("--> END {method}"));
        }
        match body.as_bytes() {
            Some(bytes) => {
                self.log("");
                match printable(bytes) {
                    Some(text) => {
                        self.log(text);
                        self.log(&format!("--> END {method} ({}-byte body)", bytes.len()));
                    }
                    None => self.log(&format!(
                        "--> END {method} (binary {}-byte body omitted)",
                        bytes.len()
                    )),
                }
            }
            // A streamed body can be read once, and that read is the network's.
            None => self.log(&format!("--> END {method} (streamed body omitted)")),
        }
    }

    fn log_response(&self, response: Response, took: u128) -> Result<Response, Error> {
        let status = response.status().as_u16();
        let reason = response.reason().to_owned();
        let url = response.request().redacted_url();
        let first = format!("<-- {status} {reason} {url} ({took}ms");
        if self.level == Level::Basic {
            let size = match response.content_length() {
                Some(n) => format!("{n}-byte body"),
                None => "unknown-length body".to_owned(),
            };
            self.log(&format!("{first}, {size})"));
            return Ok(response);
        }
        self.log(&format!("{first})"));
        self.log_headers(response.headers());
        if self.level < Level::Body {
            self.log("<-- END HTTP");
            return Ok(response);
        }
        // The body is read whole to log it, then served to the caller from memory.
        let (head, body) = response.into_parts();
        let bytes = body.bytes()?;
        if bytes.is_empty() {
            self.log("<-- END HTTP (0-byte body)");
        } else if let Some(text) = printable(&bytes) {
            self.log("");
            self.log(text);
            self.log(&format!("<-- END HTTP ({}-byte body)", bytes.len()));
        } else {
            self.log(&format!(
                "<-- END HTTP (binary {}-byte body omitted)",
                bytes.len()
            ));
        }
        Ok(head.with_body(Body::from_request_body(bytes.into())))
    }

    fn log_headers(&self, headers: &Headers) {
        for (name, value) in headers.iter() {
            let mut line = format!("{name}: ");
            if self.redact.iter().any(|r| r.eq_ignore_ascii_case(name)) {
                line.push_str(MASK);
            } else {
                let _ = write!(line, "{}", String::from_utf8_lossy(value));
            }
            self.log(&line);
        }
    }
}

/// The body as text, if it is UTF-8 without control characters other than whitespace.
fn printable(bytes: &[u8]) -> Option<&str> {
    let text = std::str::from_utf8(bytes).ok()?;
    text.chars()
        .all(|c| !c.is_control() || c.is_whitespace())
        .then_some(text)
}

/// `logging_interceptor LEVEL URL...`: fetches each URL with the logger as an application
/// interceptor and prints the bodies' sizes.
fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let level: Level = args
        .next()
        .ok_or("usage: logging_interceptor none|basic|headers|body URL...")?
        .parse()?;
    let client = wayfarer_blocking::Client::builder()
        .interceptor(HttpLogging::new(level).into_interceptor())
        .build()?;
    for url in args {
        let response = client.new_call(Request::get(&url).build()?).execute()?;
        let bytes = response.bytes()?;
        println!("{url}: {} bytes", bytes.len());
    }
    Ok(())
}
