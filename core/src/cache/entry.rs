//! The stored entry's metadata (OkHttp's `Cache.Entry`): everything about a cached response but
//! its body, and its serialisation.
//!
//! An [`Entry`] holds the URL and method of the request, the request headers the response
//! varies on, the response's status line and headers, when the request was sent and the
//! response received (wall-clock), and for HTTPS a [`Handshake`] summary. A store keeps the
//! encoded metadata next to the body under [`key`]`(url)`.
//!
//! # The format
//!
//! Text lines ending in `\n`, headers as `Name: value` (values are bytes: obs-text passes
//! through), times as seconds and nanoseconds since the Unix epoch (a leading `-` before it):
//!
//! ```text
//! wayfarer-cache-entry 1
//! url https://example.com/a
//! method GET
//! vary 1
//! Accept-Language: fr-CA
//! status HTTP/1.1 200 OK
//! headers 2
//! Content-Type: text/plain
//! Cache-Control: max-age=600
//! sent-at 1767225600.000000000
//! received-at 1767225600.250000000
//! tls TLSv1_3 TLS13_AES_128_GCM_SHA256 1
//! 3082...(one hex DER certificate per line)
//! end
//! ```
//!
//! An entry without TLS has `tls -`. The first line names the format and its version, so a
//! later layout can be told apart (an unknown version is an error, which a cache treats as a
//! miss). The last line, `end`, shows the entry was written whole. [`Entry::decode`] checks
//! everything and never panics; a corrupt entry is an [`EntryError`].

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use http::{Method, StatusCode, Version};
use url::Url;

use crate::response::ResponseParts;
use crate::{Error, Headers, Request, Response};

use super::control::CacheControl;
use super::vary;

/// The first line of every encoded entry: the format's name and version.
pub const ENTRY_FORMAT: &str = "wayfarer-cache-entry 1";

/// The cache key of `url`: the SHA-256 of the URL without its fragment (never sent, so it
/// cannot change the response), as 64 lowercase hex digits.
///
/// OkHttp uses the MD5 of the URL; SHA-256 comes from `ring`, which the core already links
/// through rustls, and makes collisions a non-issue. Keys are safe as file names.
///
/// ```
/// # use wayfarer_core::{Url, cache::key};
/// let a = key(&Url::parse("https://example.com/a?b=1").unwrap());
/// assert_eq!(a.len(), 64);
/// assert_eq!(a, key(&Url::parse("https://example.com/a?b=1#top").unwrap()));
/// assert_ne!(a, key(&Url::parse("https://example.com/a?b=2").unwrap()));
/// ```
pub fn key(url: &Url) -> String {
    let url = without_fragment(url);
    let digest = ring::digest::digest(&ring::digest::SHA256, url.as_str().as_bytes());
    hex(digest.as_ref())
}

pub(crate) fn without_fragment(url: &Url) -> Url {
    let mut url = url.clone();
    url.set_fragment(None);
    url
}

/// What an HTTPS response's TLS session was, kept so that a cached HTTPS response is served
/// only with the security facts of its original connection (OkHttp's `Handshake`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Handshake {
    /// The protocol version, as rustls names it (`TLSv1_3`).
    pub tls_version: String,
    /// The cipher suite, as rustls names it (`TLS13_AES_128_GCM_SHA256`).
    pub cipher_suite: String,
    /// The server's certificate chain, DER, leaf first.
    pub peer_certificates: Vec<Vec<u8>>,
}

/// A stored response's metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The request URL.
    pub url: Url,
    /// The request method (GET: only GET responses are stored).
    pub method: Method,
    /// The request headers named by the response's `Vary`, as sent.
    pub vary_headers: Headers,
    /// The response status.
    pub status: StatusCode,
    /// The reason phrase.
    pub reason: String,
    /// The response's HTTP version.
    pub version: Version,
    /// The response headers.
    pub headers: Headers,
    /// When the request was sent (wall clock).
    pub sent_at: SystemTime,
    /// When the response head was received (wall clock).
    pub received_at: SystemTime,
    /// The TLS session of an HTTPS response; an HTTPS entry without one is never served.
    pub handshake: Option<Handshake>,
}

impl Entry {
    /// An entry for a GET of `url` answered with `status` and `headers` over HTTP/1.1, with the
    /// status's canonical reason, no varying request headers and no handshake.
    pub fn new(
        url: Url,
        status: StatusCode,
        headers: Headers,
        sent_at: SystemTime,
        received_at: SystemTime,
    ) -> Entry {
        Entry {
            url,
            method: Method::GET,
            vary_headers: Headers::new(),
            status,
            reason: status.canonical_reason().unwrap_or("").to_owned(),
            version: Version::HTTP_11,
            headers,
            sent_at,
            received_at,
            handshake: None,
        }
    }

    /// The entry for a network response. `network_request_headers` are the headers the request
    /// went out with (including those the client added, such as `Accept-Encoding`), since that
    /// is what the response varies on.
    pub fn from_response<B>(
        response: &Response<B>,
        network_request_headers: &Headers,
        handshake: Option<Handshake>,
    ) -> Entry {
        let request = response.request();
        Entry {
            url: request.url().clone(),
            method: request.method(),
            vary_headers: vary::vary_headers(network_request_headers, response.headers()),
            status: response.status(),
            reason: response.reason().to_owned(),
            version: response.version(),
            headers: response.headers().clone(),
            sent_at: response.sent_at(),
            received_at: response.received_at(),
            handshake,
        }
    }

    /// True for an `https` URL.
    pub fn is_https(&self) -> bool {
        self.url.scheme() == "https"
    }

    /// The response's `Cache-Control` directives.
    pub fn cache_control(&self) -> CacheControl {
        CacheControl::from_headers(&self.headers)
    }

    /// The store key, [`key`] of the URL.
    pub fn key(&self) -> String {
        key(&self.url)
    }

    /// True when this entry can answer `request`: same URL (fragments aside), a GET or HEAD
    /// request for a stored GET (or the same method), and the same values for every header the
    /// response varies on (never for `Vary: *`).
    pub fn matches(&self, request: &Request) -> bool {
        self.matches_target(request)
            && vary::vary_matches(&self.headers, &self.vary_headers, request.headers())
    }

    /// The URL and method half of [`matches`](Self::matches).
    pub(crate) fn matches_target(&self, request: &Request) -> bool {
        let method = request.method_ref();
        (method == Method::GET || method == Method::HEAD)
            && (*method == self.method || self.method == Method::GET)
            && without_fragment(request.url()) == without_fragment(&self.url)
    }

    /// The response head this entry serves for `request`, with `headers` (the entry's own, or
    /// those a [`CacheStrategy::Cache`](super::CacheStrategy::Cache) decision gives).
    pub fn response_head(&self, request: Arc<Request>, headers: Headers) -> Response<()> {
        Response::from_parts(
            ResponseParts {
                status: self.status,
                reason: self.reason.clone().into(),
                version: self.version,
                headers,
            },
            request,
            self.sent_at,
            self.received_at,
        )
    }

    /// The metadata as bytes, in the format described in the module docs.
    ///
    /// Never fails: fields that the format cannot carry as they are (a control character in
    /// the reason phrase, a space in a TLS name) are written with the character replaced, and
    /// read back that way.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(256);
        let mut line = |parts: &[&[u8]]| {
            for p in parts {
                out.extend_from_slice(p);
            }
            out.push(b'\n');
        };
        line(&[ENTRY_FORMAT.as_bytes()]);
        line(&[b"url ", self.url.as_str().as_bytes()]);
        line(&[b"method ", self.method.as_str().as_bytes()]);
        write_headers(&mut line, "vary", &self.vary_headers);
        let reason: String = self
            .reason
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        line(&[
            b"status ",
            version_name(self.version).as_bytes(),
            b" ",
            self.status.as_str().as_bytes(),
            b" ",
            reason.as_bytes(),
        ]);
        write_headers(&mut line, "headers", &self.headers);
        line(&[b"sent-at ", time_text(self.sent_at).as_bytes()]);
        line(&[b"received-at ", time_text(self.received_at).as_bytes()]);
        match &self.handshake {
            None => line(&[b"tls -"]),
            Some(h) => {
                let count = h.peer_certificates.len().to_string();
                line(&[
                    b"tls ",
                    tls_name(&h.tls_version).as_bytes(),
                    b" ",
                    tls_name(&h.cipher_suite).as_bytes(),
                    b" ",
                    count.as_bytes(),
                ]);
                for cert in &h.peer_certificates {
                    line(&[hex(cert).as_bytes()]);
                }
            }
        }
        line(&[b"end"]);
        out
    }

    /// Reads metadata written by [`encode`](Self::encode). Any input gives an entry or an
    /// error, never a panic, and work proportional to the input's length.
    pub fn decode(bytes: &[u8]) -> Result<Entry, EntryError> {
        let mut r = Reader::new(bytes);
        let format = r.line("format")?;
        if format != ENTRY_FORMAT.as_bytes() {
            return Err(r.error(if format.starts_with(b"wayfarer-cache-entry ") {
                "unsupported format version"
            } else {
                "not a cache entry"
            }));
        }
        let url = r.field("url")?;
        let url = Url::parse(r.text(url)?).map_err(|_| r.error("invalid url"))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(r.error("url is not http or https"));
        }
        let method = r.field("method")?;
        let method = Method::from_bytes(method).map_err(|_| r.error("invalid method"))?;
        let vary_headers = r.headers("vary")?;
        let status_line = r.field("status")?;
        let status_line = r.text(status_line)?;
        let (version, rest) = status_line
            .split_once(' ')
            .ok_or_else(|| r.error("invalid status line"))?;
        let version = parse_version(version).ok_or_else(|| r.error("unknown HTTP version"))?;
        let (code, reason) = rest
            .split_once(' ')
            .ok_or_else(|| r.error("invalid status line"))?;
        if code.len() != 3 || !code.bytes().all(|b| b.is_ascii_digit()) {
            return Err(r.error("invalid status code"));
        }
        let status =
            StatusCode::from_bytes(code.as_bytes()).map_err(|_| r.error("invalid status code"))?;
        if reason.chars().any(char::is_control) {
            return Err(r.error("control character in reason phrase"));
        }
        let reason = reason.to_owned();
        let headers = r.headers("headers")?;
        let sent_at = r.field("sent-at")?;
        let sent_at = parse_time(sent_at).ok_or_else(|| r.error("invalid time"))?;
        let received_at = r.field("received-at")?;
        let received_at = parse_time(received_at).ok_or_else(|| r.error("invalid time"))?;
        let tls = r.field("tls")?;
        let handshake = if tls == b"-" {
            None
        } else {
            let tls = r.text(tls)?;
            let mut parts = tls.split(' ');
            let (Some(version), Some(suite), Some(count), None) =
                (parts.next(), parts.next(), parts.next(), parts.next())
            else {
                return Err(r.error("invalid tls line"));
            };
            if !is_tls_name(version) || !is_tls_name(suite) {
                return Err(r.error("invalid tls name"));
            }
            let count = r.count(count)?;
            let mut peer_certificates = Vec::new();
            for _ in 0..count {
                let cert = r.line("certificate")?;
                peer_certificates.push(unhex(cert).ok_or_else(|| r.error("invalid hex"))?);
            }
            Some(Handshake {
                tls_version: version.to_owned(),
                cipher_suite: suite.to_owned(),
                peer_certificates,
            })
        };
        if r.line("end")? != b"end" {
            return Err(r.error("expected end"));
        }
        if !r.rest.is_empty() {
            return Err(r.error("data after end"));
        }
        Ok(Entry {
            url,
            method,
            vary_headers,
            status,
            reason,
            version,
            headers,
            sent_at,
            received_at,
            handshake,
        })
    }
}

/// Why stored metadata could not be read: it is corrupt, torn, or from another format version.
/// A cache treats it as a miss (and may remove the entry).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryError {
    line: usize,
    reason: &'static str,
}

impl EntryError {
    /// The 1-based line where reading stopped.
    pub fn line(&self) -> usize {
        self.line
    }

    /// What was wrong, in a few words.
    pub fn reason(&self) -> &'static str {
        self.reason
    }
}

impl fmt::Display for EntryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "corrupt cache entry, line {}: {}",
            self.line, self.reason
        )
    }
}

impl std::error::Error for EntryError {}

impl From<EntryError> for Error {
    fn from(e: EntryError) -> Error {
        Error::io(e.to_string(), None)
    }
}

fn write_headers(line: &mut impl FnMut(&[&[u8]]), label: &str, headers: &Headers) {
    let count = headers.len().to_string();
    line(&[label.as_bytes(), b" ", count.as_bytes()]);
    for (name, value) in headers.iter() {
        line(&[name.as_bytes(), b": ", value]);
    }
}

fn version_name(version: Version) -> &'static str {
    match version {
        Version::HTTP_09 => "HTTP/0.9",
        Version::HTTP_10 => "HTTP/1.0",
        Version::HTTP_2 => "HTTP/2",
        Version::HTTP_3 => "HTTP/3",
        _ => "HTTP/1.1",
    }
}

fn parse_version(name: &str) -> Option<Version> {
    Some(match name {
        "HTTP/0.9" => Version::HTTP_09,
        "HTTP/1.0" => Version::HTTP_10,
        "HTTP/1.1" => Version::HTTP_11,
        "HTTP/2" => Version::HTTP_2,
        "HTTP/3" => Version::HTTP_3,
        _ => return None,
    })
}

fn is_tls_name(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_graphic())
}

fn tls_name(s: &str) -> String {
    if s.is_empty() {
        return "_".into();
    }
    s.chars()
        .map(|c| if c.is_ascii_graphic() { c } else { '_' })
        .collect()
}

fn time_text(t: SystemTime) -> String {
    match t.duration_since(SystemTime::UNIX_EPOCH) {
        Ok(d) => format!("{}.{:09}", d.as_secs(), d.subsec_nanos()),
        Err(e) => {
            let d = e.duration();
            format!("-{}.{:09}", d.as_secs(), d.subsec_nanos())
        }
    }
}

fn parse_time(text: &[u8]) -> Option<SystemTime> {
    let (negative, text) = match text.strip_prefix(b"-") {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let dot = text.iter().position(|&b| b == b'.')?;
    let (secs, nanos) = (&text[..dot], &text[dot + 1..]);
    if secs.is_empty() || nanos.len() != 9 {
        return None;
    }
    let secs: u64 = std::str::from_utf8(secs).ok()?.parse().ok()?;
    if !nanos.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let nanos: u32 = std::str::from_utf8(nanos).ok()?.parse().ok()?;
    let d = Duration::new(secs, nanos);
    if negative {
        SystemTime::UNIX_EPOCH.checked_sub(d)
    } else {
        SystemTime::UNIX_EPOCH.checked_add(d)
    }
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        s.push(DIGITS[usize::from(b >> 4)] as char);
        s.push(DIGITS[usize::from(b & 15)] as char);
    }
    s
}

fn unhex(text: &[u8]) -> Option<Vec<u8>> {
    if text.len() % 2 != 0 {
        return None;
    }
    let digit = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
    text.chunks_exact(2)
        .map(|pair| Some((digit(pair[0])? << 4) | digit(pair[1])?))
        .collect()
}

/// Reads lines, counting them for errors.
struct Reader<'a> {
    rest: &'a [u8],
    line: usize,
}

impl<'a> Reader<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        Reader {
            rest: bytes,
            line: 0,
        }
    }

    fn error(&self, reason: &'static str) -> EntryError {
        EntryError {
            line: self.line,
            reason,
        }
    }

    /// The next line, without its `\n`; a missing `\n` means the entry was cut short.
    fn line(&mut self, what: &'static str) -> Result<&'a [u8], EntryError> {
        self.line += 1;
        let Some(end) = self.rest.iter().position(|&b| b == b'\n') else {
            return Err(self.error(if what == "end" {
                "no end line"
            } else if self.rest.is_empty() {
                "entry cut short"
            } else {
                "unterminated line"
            }));
        };
        let line = &self.rest[..end];
        self.rest = &self.rest[end + 1..];
        Ok(line)
    }

    /// The value of a `label value` line.
    fn field(&mut self, label: &'static str) -> Result<&'a [u8], EntryError> {
        let line = self.line(label)?;
        line.strip_prefix(label.as_bytes())
            .and_then(|rest| rest.strip_prefix(b" "))
            .ok_or_else(|| self.error(label_error(label)))
    }

    fn text<'b>(&self, bytes: &'b [u8]) -> Result<&'b str, EntryError> {
        std::str::from_utf8(bytes).map_err(|_| self.error("not UTF-8"))
    }

    /// A count of lines to follow; more than the lines left is corrupt (and is refused before
    /// anything is allocated for them).
    fn count(&self, text: &str) -> Result<usize, EntryError> {
        if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
            return Err(self.error("invalid count"));
        }
        let n: usize = text.parse().map_err(|_| self.error("invalid count"))?;
        let lines_left = self.rest.iter().filter(|&&b| b == b'\n').count();
        if n > lines_left {
            return Err(self.error("count larger than the entry"));
        }
        Ok(n)
    }

    fn headers(&mut self, label: &'static str) -> Result<Headers, EntryError> {
        let count = self.field(label)?;
        let count = self.count(self.text(count)?)?;
        let mut headers = Headers::new();
        for _ in 0..count {
            let line = self.line("header")?;
            let colon = line
                .windows(2)
                .position(|w| w == b": ")
                .ok_or_else(|| self.error("invalid header line"))?;
            let name = self.text(&line[..colon])?;
            headers
                .append(name, &line[colon + 2..])
                .map_err(|_| self.error("invalid header"))?;
        }
        Ok(headers)
    }
}

fn label_error(label: &str) -> &'static str {
    match label {
        "url" => "expected url",
        "method" => "expected method",
        "vary" => "expected vary count",
        "status" => "expected status",
        "headers" => "expected header count",
        "sent-at" => "expected sent-at",
        "received-at" => "expected received-at",
        "tls" => "expected tls",
        _ => "unexpected line",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: u64, nanos: u32) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::new(secs, nanos)
    }

    fn sample() -> Entry {
        let mut headers = Headers::new();
        headers.append("Content-Type", "text/plain").unwrap();
        headers.append("Cache-Control", "max-age=600").unwrap();
        headers.append("Vary", "Accept-Language").unwrap();
        headers.append("X-Latin", b"caf\xe9 ".as_slice()).unwrap();
        headers.append("X-Empty", "").unwrap();
        let mut entry = Entry::new(
            Url::parse("https://example.com/a?b=1").unwrap(),
            StatusCode::OK,
            headers,
            at(1_767_225_600, 0),
            at(1_767_225_600, 250_000_000),
        );
        entry
            .vary_headers
            .append("Accept-Language", "fr-CA")
            .unwrap();
        entry.handshake = Some(Handshake {
            tls_version: "TLSv1_3".into(),
            cipher_suite: "TLS13_AES_128_GCM_SHA256".into(),
            peer_certificates: vec![vec![0x30, 0x82, 0xff], vec![]],
        });
        entry
    }

    #[test]
    fn encodes_in_the_documented_format() {
        let text = sample().encode();
        assert_eq!(
            String::from_utf8_lossy(&text),
            "wayfarer-cache-entry 1\n\
             url https://example.com/a?b=1\n\
             method GET\n\
             vary 1\n\
             Accept-Language: fr-CA\n\
             status HTTP/1.1 200 OK\n\
             headers 5\n\
             Content-Type: text/plain\n\
             Cache-Control: max-age=600\n\
             Vary: Accept-Language\n\
             X-Latin: caf\u{fffd} \n\
             X-Empty: \n\
             sent-at 1767225600.000000000\n\
             received-at 1767225600.250000000\n\
             tls TLSv1_3 TLS13_AES_128_GCM_SHA256 2\n\
             3082ff\n\
             \n\
             end\n"
        );
    }

    #[test]
    fn decodes_what_it_encodes() {
        let entry = sample();
        assert_eq!(Entry::decode(&entry.encode()), Ok(entry.clone()));
        let mut plain = entry;
        plain.url = Url::parse("http://example.com/").unwrap();
        plain.handshake = None;
        plain.status = StatusCode::from_u16(599).unwrap();
        plain.reason = String::new();
        plain.version = Version::HTTP_10;
        plain.sent_at = SystemTime::UNIX_EPOCH - Duration::new(5, 7);
        let bytes = plain.encode();
        assert!(bytes.windows(6).any(|w| w == b"tls -\n"));
        assert_eq!(Entry::decode(&bytes), Ok(plain));
    }

    #[test]
    fn sanitises_what_the_format_cannot_carry() {
        let mut entry = sample();
        entry.reason = "Bad\nReason".into();
        entry.handshake.as_mut().unwrap().tls_version = "TLS v1".into();
        entry.handshake.as_mut().unwrap().cipher_suite = String::new();
        let decoded = Entry::decode(&entry.encode()).unwrap();
        assert_eq!(decoded.reason, "Bad Reason");
        let handshake = decoded.handshake.unwrap();
        assert_eq!(handshake.tls_version, "TLS_v1");
        assert_eq!(handshake.cipher_suite, "_");
    }

    #[test]
    fn every_truncation_is_an_error() {
        let bytes = sample().encode();
        for len in 0..bytes.len() {
            let e = Entry::decode(&bytes[..len]).unwrap_err();
            assert!(e.line() >= 1, "{len}: {e}");
        }
    }

    #[test]
    fn corrupt_entries_say_where_and_why() {
        let good = String::from_utf8_lossy(&sample().encode()).into_owned();
        assert!(Entry::decode(good.as_bytes()).is_ok());
        let cases = [
            (
                "wayfarer-cache-entry 1",
                "wayfarer-cache-entry 2",
                1,
                "unsupported format version",
            ),
            (
                "wayfarer-cache-entry 1",
                "HTTP/1.1 200 OK",
                1,
                "not a cache entry",
            ),
            (
                "url https://example.com/a?b=1",
                "url ftp://x/",
                2,
                "url is not http or https",
            ),
            ("url https://example.com/a?b=1", "url ::", 2, "invalid url"),
            ("method GET", "method G T", 3, "invalid method"),
            ("vary 1", "vary 99", 4, "count larger than the entry"),
            ("vary 1", "vary -1", 4, "invalid count"),
            (
                "Accept-Language: fr-CA",
                "Accept-Language fr-CA",
                5,
                "invalid header line",
            ),
            ("Accept-Language: fr-CA", "Bad Name: x", 5, "invalid header"),
            (
                "status HTTP/1.1 200 OK",
                "status HTTP/4 200 OK",
                6,
                "unknown HTTP version",
            ),
            (
                "status HTTP/1.1 200 OK",
                "status HTTP/1.1 20 OK",
                6,
                "invalid status code",
            ),
            (
                "status HTTP/1.1 200 OK",
                "status HTTP/1.1 200",
                6,
                "invalid status line",
            ),
            (
                "sent-at 1767225600.000000000",
                "sent-at 1767225600.0",
                13,
                "invalid time",
            ),
            (
                "sent-at 1767225600.000000000",
                "sent-at 99999999999999999999.000000000",
                13,
                "invalid time",
            ),
            ("3082ff", "3082f", 16, "invalid hex"),
            ("3082ff", "30zz", 16, "invalid hex"),
            ("end\n", "end\nmore", 18, "data after end"),
            ("end\n", "fin\n", 18, "expected end"),
        ];
        for (from, to, line, reason) in cases {
            let bad = good.replacen(from, to, 1);
            assert_ne!(bad, good, "{from}");
            let e = Entry::decode(bad.as_bytes()).unwrap_err();
            assert_eq!((e.line(), e.reason()), (line, reason), "{to}");
        }
        let e = Entry::decode(&good.as_bytes()[..good.len() - 4]).unwrap_err();
        assert_eq!(e.reason(), "no end line");
        let as_error: Error = e.into();
        assert_eq!(as_error.kind(), crate::ErrorKind::Io);
    }

    #[test]
    fn keys_are_sha256_hex_of_the_url_without_fragment() {
        // echo -n "http://example.com/" | sha256sum
        assert_eq!(
            key(&Url::parse("http://example.com/").unwrap()),
            "2a1b402420ef46577471cdc7409b0fa2c6a204db316e59ade2d805435489a067"
        );
        assert_eq!(
            key(&Url::parse("http://example.com/#x").unwrap()),
            key(&Url::parse("http://example.com/").unwrap())
        );
    }

    #[test]
    fn matches_url_method_and_vary() {
        let entry = sample();
        let get = |url: &str, lang: &str| {
            Request::get(url)
                .header("Accept-Language", lang)
                .build()
                .unwrap()
        };
        assert!(entry.matches(&get("https://example.com/a?b=1", "fr-CA")));
        assert!(entry.matches(&get("https://example.com/a?b=1#frag", "fr-CA")));
        assert!(!entry.matches(&get("https://example.com/a?b=2", "fr-CA")));
        assert!(!entry.matches(&get("https://example.com/a?b=1", "en")));
        let head = Request::head("https://example.com/a?b=1")
            .header("Accept-Language", "fr-CA")
            .build()
            .unwrap();
        assert!(entry.matches(&head), "HEAD is served from a stored GET");
        let post = Request::post("https://example.com/a?b=1")
            .header("Accept-Language", "fr-CA")
            .build()
            .unwrap();
        assert!(!entry.matches(&post));
    }
}
