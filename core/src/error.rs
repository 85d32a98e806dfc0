//! One error type for every runtime, with a [`kind()`](Error::kind) to branch on.
//!
//! Errors are cheap to clone (the call's state machine keeps a failure sticky and hands the same
//! error out again) and carry the URL of the call they belong to, with its query and userinfo
//! removed so that tokens and passwords never reach a log line.

use std::borrow::Cow;
use std::error::Error as StdError;
use std::fmt;
use std::io;
use std::sync::Arc;
use std::time::Duration;

/// What went wrong, in the broad categories callers act on.
///
/// New kinds may be added; match with a wildcard arm.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// The server broke HTTP/1.1: a malformed head, ambiguous or invalid body framing, a body
    /// cut short; or it sent more than one of the client's limits allows ([`Error::limit`]
    /// names the limit).
    Protocol,
    /// A connect, read, write or whole-call deadline passed ([`Error::timeout_kind`] says which).
    Timeout,
    /// No TCP connection could be made (refused, unreachable, ...).
    Connect,
    /// The host name could not be resolved.
    Dns,
    /// The TLS handshake or session failed: untrusted or expired certificate, wrong host name,
    /// a TLS alert from the server.
    Tls,
    /// The connection failed after it was established (reset, closed early, an OS error).
    Io,
    /// The call was canceled.
    Canceled,
    /// The caller asked for something that cannot be sent: an invalid header, an unsupported
    /// URL scheme, a body shorter than its declared length, a call executed twice.
    InvalidInput,
    /// The server kept answering with redirects or challenges past the follow-up limit (20 by
    /// default, as OkHttp).
    TooManyFollowUps,
    /// A proxy refused the call: a `CONNECT` answered with anything but 2xx (a `407` whose
    /// credentials were refused too), or a SOCKS5 proxy that refused the handshake or the
    /// connection.
    Proxy,
    /// The response body's content coding could not be undone: the transparent gzip stream
    /// was corrupt, failed its checksum or ended early. The HTTP framing itself was sound, so
    /// the body as sent would read fine without decoding (a caller's own `Accept-Encoding`).
    /// Also: a body read with `json()` was not the JSON asked for.
    Decode,
    /// The server answered with a client or server error status (4xx or 5xx), turned into an
    /// error by the caller with [`Response::error_for_status`](crate::Response::error_for_status);
    /// [`Error::status`] gives the status. A call itself never fails with it.
    Status,
}

impl ErrorKind {
    /// A short lowercase name (`protocol`, `timeout`, `invalid-input`, ...), as used in test
    /// vectors and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Protocol => "protocol",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Connect => "connect",
            ErrorKind::Dns => "dns",
            ErrorKind::Tls => "tls",
            ErrorKind::Io => "io",
            ErrorKind::Canceled => "canceled",
            ErrorKind::InvalidInput => "invalid-input",
            ErrorKind::TooManyFollowUps => "too-many-follow-ups",
            ErrorKind::Proxy => "proxy",
            ErrorKind::Decode => "decode",
            ErrorKind::Status => "status",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where in the call an error happened: lets a caller tell, say, a failure to send from a
/// failure to receive, or a server that answered nothing from one that cut a body short.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Phase {
    /// Getting a connection: pool, name resolution, TCP connect, TLS handshake.
    Connect,
    /// Writing the request to the connection.
    Send,
    /// Reading the caller's request body source (a reader or stream failed, or its length was
    /// wrong): the caller's side, not the network's.
    RequestBody,
    /// Waiting for or reading the response head.
    ReceiveHead,
    /// Reading the response body.
    ReceiveBody,
}

/// A bound on what a server may make the client read, named by a limit error
/// ([`Error::limit`]).
///
/// Each limit is a [`ClientBuilder`](crate::ClientBuilder) setting; the error message names the
/// setting to raise. New limits may be added; match with a wildcard arm.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Limit {
    /// The response head's size, counting every interim (1xx) head before the final one.
    HeadBytes,
    /// The number of header fields in one response head or trailer section.
    HeaderFields,
    /// The number of interim (1xx) responses before the final one.
    InterimResponses,
    /// The length of one chunk-size line of a chunked body (size and chunk extensions).
    ChunkExtension,
    /// The size of a chunked body's trailer section.
    TrailerBytes,
}

impl Limit {
    /// What the limit bounds, its unit, and the builder setting that raises it: the one place a
    /// new limit needs a line besides its variant.
    fn spec(self) -> (&'static str, &'static str, &'static str) {
        match self {
            Limit::HeadBytes => ("response head", "bytes", "max_response_head_bytes"),
            Limit::HeaderFields => ("header section", "fields", "max_response_headers"),
            Limit::InterimResponses => (
                "response",
                "interim (1xx) responses",
                "max_interim_responses",
            ),
            Limit::ChunkExtension => ("chunk size line", "bytes", "max_chunk_extension_bytes"),
            Limit::TrailerBytes => ("trailer section", "bytes", "max_trailer_bytes"),
        }
    }

    /// The name of the [`ClientBuilder`](crate::ClientBuilder) method that sets this limit,
    /// such as `max_response_head_bytes`.
    pub fn setting(self) -> &'static str {
        self.spec().2
    }
}

/// Which deadline a [`ErrorKind::Timeout`] error hit.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TimeoutKind {
    /// Establishing the TCP connection (per address tried).
    Connect,
    /// Waiting for bytes from the server (the gap between two reads).
    Read,
    /// Waiting for the socket to accept bytes.
    Write,
    /// The whole call, from start to the end of the response body.
    Call,
}

impl TimeoutKind {
    fn as_str(self) -> &'static str {
        match self {
            TimeoutKind::Connect => "connect",
            TimeoutKind::Read => "read",
            TimeoutKind::Write => "write",
            TimeoutKind::Call => "call",
        }
    }
}

/// A failed call.
///
/// `Display` gives one line: what failed, why, and for which request
/// (`read timed out after 10s (GET http://example.com/path)`).
#[derive(Clone)]
pub struct Error {
    inner: Box<Inner>,
}

#[derive(Clone)]
struct Inner {
    kind: ErrorKind,
    message: Cow<'static, str>,
    timeout: Option<TimeoutKind>,
    phase: Option<Phase>,
    /// `METHOD url`, the url without query, fragment or userinfo.
    request: Option<String>,
    source: Option<Arc<dyn StdError + Send + Sync>>,
    tls: Option<rustls::Error>,
    limit: Option<Limit>,
    status: Option<http::StatusCode>,
}

impl Error {
    fn new(kind: ErrorKind, message: impl Into<Cow<'static, str>>) -> Error {
        Error {
            inner: Box::new(Inner {
                kind,
                message: message.into(),
                timeout: None,
                phase: None,
                request: None,
                source: None,
                tls: None,
                limit: None,
                status: None,
            }),
        }
    }

    /// The server broke the protocol.
    #[cold]
    pub fn protocol(message: impl Into<Cow<'static, str>>) -> Error {
        Error::new(ErrorKind::Protocol, message)
    }

    /// The response body's content coding could not be undone (a corrupt gzip stream).
    #[cold]
    pub fn decode(message: impl Into<Cow<'static, str>>) -> Error {
        Error::new(ErrorKind::Decode, message)
    }

    /// The server sent more than `limit` allows (`max` is the configured bound, for the
    /// message). The error's kind is [`ErrorKind::Protocol`]; [`Error::limit`] names the limit.
    ///
    /// ```
    /// use wayfarer_core::{Error, ErrorKind, Limit};
    ///
    /// let e = Error::limit_exceeded(Limit::HeadBytes, 1024);
    /// assert_eq!(e.kind(), ErrorKind::Protocol);
    /// assert_eq!(e.limit(), Some(Limit::HeadBytes));
    /// assert!(e.to_string().contains("max_response_head_bytes"));
    /// ```
    #[cold]
    pub fn limit_exceeded(limit: Limit, max: u64) -> Error {
        let (what, unit, setting) = limit.spec();
        let message = format!(
            "{what} exceeds the limit of {max} {unit}; raise it with ClientBuilder::{setting}"
        );
        let mut e = Error::new(ErrorKind::Protocol, message);
        e.inner.limit = Some(limit);
        e
    }

    /// The server answered with `status`, a client or server error, for the request
    /// `method url` (see [`Response::error_for_status`](crate::Response::error_for_status)).
    ///
    /// ```
    /// use wayfarer_core::{Error, ErrorKind, Method, StatusCode, Url};
    ///
    /// let url = Url::parse("https://example.com/item?token=secret")?;
    /// let e = Error::from_status(StatusCode::NOT_FOUND, &Method::GET, &url);
    /// assert_eq!(e.kind(), ErrorKind::Status);
    /// assert_eq!(e.status(), Some(StatusCode::NOT_FOUND));
    /// assert_eq!(e.to_string(), "HTTP 404 Not Found (GET https://example.com/item)");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[cold]
    pub fn from_status(status: http::StatusCode, method: &http::Method, url: &url::Url) -> Error {
        let reason = status.canonical_reason().unwrap_or("");
        let message = format!("HTTP {} {reason}", status.as_u16());
        let mut e = Error::new(ErrorKind::Status, message.trim_end().to_owned());
        e.inner.status = Some(status);
        e.with_request(method, url)
    }

    /// The caller's input cannot be sent.
    #[cold]
    pub fn invalid_input(message: impl Into<Cow<'static, str>>) -> Error {
        Error::new(ErrorKind::InvalidInput, message)
    }

    /// The follow-up limit was passed: `count` follow-ups were wanted.
    #[cold]
    pub fn too_many_follow_ups(count: u32) -> Error {
        Error::new(
            ErrorKind::TooManyFollowUps,
            format!("Too many follow-up requests: {count}"),
        )
    }

    /// The call was canceled.
    #[cold]
    pub fn canceled() -> Error {
        Error::new(ErrorKind::Canceled, "call canceled")
    }

    /// A deadline passed. `after` is the configured duration, for the message.
    #[cold]
    pub fn timeout(which: TimeoutKind, after: Option<Duration>) -> Error {
        let message = match after {
            Some(d) => format!("{} timed out after {:?}", which.as_str(), d),
            None => format!("{} timed out", which.as_str()),
        };
        let mut e = Error::new(ErrorKind::Timeout, message);
        e.inner.timeout = Some(which);
        e
    }

    /// Name resolution failed for `host`.
    #[cold]
    pub fn dns(host: &str, source: Option<io::Error>) -> Error {
        let mut e = Error::new(ErrorKind::Dns, format!("could not resolve host {host}"));
        if let Some(s) = source {
            e.inner.source = Some(Arc::new(s));
        }
        e
    }

    /// A proxy refused the call (see [`ErrorKind::Proxy`]).
    ///
    /// ```
    /// use wayfarer_core::{Error, ErrorKind};
    ///
    /// let e = Error::proxy("CONNECT example.com:443 refused: 403 Forbidden");
    /// assert_eq!(e.kind(), ErrorKind::Proxy);
    /// ```
    #[cold]
    pub fn proxy(message: impl Into<Cow<'static, str>>) -> Error {
        Error::new(ErrorKind::Proxy, message)
    }

    /// A TCP connect failed.
    #[cold]
    pub fn connect(message: impl Into<Cow<'static, str>>, source: Option<io::Error>) -> Error {
        let mut e = Error::new(ErrorKind::Connect, message);
        if let Some(s) = source {
            e.inner.source = Some(Arc::new(s));
        }
        e
    }

    /// An established connection failed.
    #[cold]
    pub fn io(message: impl Into<Cow<'static, str>>, source: Option<io::Error>) -> Error {
        let mut e = Error::new(ErrorKind::Io, message);
        if let Some(s) = source {
            e.inner.source = Some(Arc::new(s));
        }
        e
    }

    /// A TLS failure, with a message that says why in plain words.
    #[cold]
    pub fn tls(error: rustls::Error, host: &str) -> Error {
        let message = describe_tls(&error, host);
        let mut e = Error::new(ErrorKind::Tls, message);
        e.inner.tls = Some(error);
        e
    }

    /// Converts an I/O error that came out of one of our own `std::io::Read` adapters back into
    /// the [`Error`] it wraps; any other I/O error becomes an [`ErrorKind::Io`] error.
    #[cold]
    pub fn from_io(error: io::Error) -> Error {
        if error.get_ref().is_some_and(|inner| inner.is::<Error>()) {
            if let Some(inner) = error.into_inner() {
                if let Ok(ours) = inner.downcast::<Error>() {
                    return *ours;
                }
            }
            return Error::io("I/O error", None);
        }
        let message = format!("{error}");
        Error::io(message, Some(error))
    }

    /// Attaches the request this error belongs to. The URL's query, fragment and userinfo are
    /// dropped. An error that already names a request keeps it.
    #[must_use]
    #[cold]
    pub fn with_request(mut self, method: &http::Method, url: &url::Url) -> Error {
        if self.inner.request.is_none() {
            self.inner.request = Some(format!("{method} {}", redact(url)));
        }
        self
    }

    /// Records where the error happened; an error that already knows keeps its phase.
    #[must_use]
    pub fn with_phase(mut self, phase: Phase) -> Error {
        self.inner.phase.get_or_insert(phase);
        self
    }

    /// Where in the call the error happened, when it came from a call.
    pub fn phase(&self) -> Option<Phase> {
        self.inner.phase
    }

    /// The kind of the operating-system error behind an [`ErrorKind::Io`] or
    /// [`ErrorKind::Connect`] error, if there was one. `None` for, say, a connection the server
    /// closed without answering (an end of stream, not an OS error).
    pub fn io_error_kind(&self) -> Option<io::ErrorKind> {
        self.inner
            .source
            .as_deref()
            .and_then(|s| s.downcast_ref::<io::Error>())
            .map(io::Error::kind)
    }

    /// The broad category.
    pub fn kind(&self) -> ErrorKind {
        self.inner.kind
    }

    /// For a timeout, which deadline passed.
    pub fn timeout_kind(&self) -> Option<TimeoutKind> {
        self.inner.timeout
    }

    /// True for [`ErrorKind::Timeout`].
    pub fn is_timeout(&self) -> bool {
        self.inner.kind == ErrorKind::Timeout
    }

    /// The rustls error behind an [`ErrorKind::Tls`] error.
    pub fn tls_error(&self) -> Option<&rustls::Error> {
        self.inner.tls.as_ref()
    }

    /// For a TLS error caused by certificate pinning, what failed: the host, the keys of its
    /// verified chain and the pins it had to match. Such an error is never retried.
    pub fn pinning_failure(&self) -> Option<&crate::PinningFailure> {
        match self.inner.tls.as_ref()? {
            rustls::Error::InvalidCertificate(rustls::CertificateError::Other(other)) => {
                other.0.downcast_ref()
            }
            _ => None,
        }
    }

    /// For an [`ErrorKind::Status`] error, the status the server answered with.
    pub fn status(&self) -> Option<http::StatusCode> {
        self.inner.status
    }

    /// For an error caused by a server exceeding one of the client's limits, which one.
    pub fn limit(&self) -> Option<Limit> {
        self.inner.limit
    }

    /// The message without the request suffix.
    pub fn message(&self) -> &str {
        &self.inner.message
    }

    /// `METHOD url` of the request this error belongs to (query and userinfo removed).
    pub fn request(&self) -> Option<&str> {
        self.inner.request.as_deref()
    }
}

/// The URL as errors and logs show it: no userinfo, no query, no fragment.
pub(crate) fn redact(url: &url::Url) -> String {
    let mut u = url.clone();
    let _ = u.set_username("");
    let _ = u.set_password(None);
    u.set_query(None);
    u.set_fragment(None);
    u.to_string()
}

/// A URL that did not parse, as errors show it: no query, fragment or userinfo. Cut by hand,
/// since the url crate could not parse it; when in doubt, more is cut (everything between the
/// scheme and the last `@`).
pub(crate) fn redact_unparsed(url: &str) -> String {
    let url = &url[..url.find(['?', '#']).unwrap_or(url.len())];
    let Some(at) = url.rfind('@') else {
        return url.to_owned();
    };
    let authority_start = match url.find("//") {
        Some(i) if i < at => i + 2,
        _ => url.find(':').filter(|&i| i < at).map_or(0, |i| i + 1),
    };
    format!("{}{}", &url[..authority_start], &url[at + 1..])
}

/// A plain-words message for a TLS failure, chosen by the type of rustls's error (never by
/// matching its text, which rustls does not promise to keep).
fn describe_tls(error: &rustls::Error, host: &str) -> String {
    use rustls::{AlertDescription as A, Error as E, PeerIncompatible as P};
    match error {
        E::InvalidCertificate(cert) => describe_certificate(cert, host),
        E::NoCertificatesPresented => "TLS: the server presented no certificate".into(),
        E::AlertReceived(A::HandshakeFailure | A::InsufficientSecurity) => {
            "TLS: the server refused the handshake (it shares no cipher suite, key exchange or \
             signature scheme with this client)"
                .into()
        }
        E::AlertReceived(A::ProtocolVersion) => {
            "TLS: the server does not speak a TLS version this client offers (see its connection \
             specs)"
                .into()
        }
        E::AlertReceived(A::UnrecognisedName) => {
            format!("TLS: the server does not know the host name {host} (unrecognized_name alert)")
        }
        E::AlertReceived(A::CertificateRequired) => {
            "TLS: the server requires a client certificate".into()
        }
        E::AlertReceived(alert) => format!("TLS: the server sent alert {alert:?}"),
        E::PeerIncompatible(
            P::NoCipherSuitesInCommon
            | P::NoKxGroupsInCommon
            | P::NoSignatureSchemesInCommon
            | P::NoEcPointFormatsInCommon,
        ) => format!(
            "TLS: the server's TLS configuration shares nothing usable with this client ({})",
            error
        ),
        E::PeerIncompatible(
            P::ServerDoesNotSupportTls12Or13
            | P::ServerTlsVersionIsDisabledByOurConfig
            | P::SupportedVersionsExtensionRequired,
        ) => "TLS: the server does not support a TLS version this client offers (see its \
              connection specs)"
            .into(),
        E::PeerIncompatible(_) => {
            format!("TLS: the server is incompatible with this client ({error})")
        }
        E::InvalidMessage(_) => format!(
            "TLS: the server sent something that is not valid TLS ({error}); is it speaking TLS on this port?"
        ),
        E::PeerMisbehaved(_) => format!("TLS: the server broke the TLS protocol ({error})"),
        other => format!("TLS: {other}"),
    }
}

/// A certificate the server presented was refused: say why in the terms a user can act on.
fn describe_certificate(cert: &rustls::CertificateError, host: &str) -> String {
    use rustls::CertificateError as C;
    match cert {
        C::UnknownIssuer => {
            "TLS: the server's certificate was issued by an unknown (untrusted) authority".into()
        }
        C::NotValidForName | C::NotValidForNameContext { .. } => format!(
            "TLS: the server's certificate is not valid for host name {host} (hostname mismatch)"
        ),
        C::Expired | C::ExpiredContext { .. } => "TLS: the server's certificate has expired".into(),
        C::NotValidYet | C::NotValidYetContext { .. } => {
            "TLS: the server's certificate is not valid yet".into()
        }
        C::Revoked => "TLS: the server's certificate has been revoked".into(),
        C::BadSignature => "TLS: the server's certificate has a bad signature".into(),
        C::BadEncoding => "TLS: the server's certificate is malformed".into(),
        C::InvalidPurpose | C::InvalidPurposeContext { .. } => {
            "TLS: the server's certificate is not meant for identifying a server".into()
        }
        // rustls passes the few certificate-path errors it has no variant for through as
        // webpki's own error type.
        C::Other(other) if other.0.is::<crate::PinningFailure>() => format!("TLS: {other}"),
        C::Other(other) => match other.0.downcast_ref::<webpki::Error>() {
            Some(webpki::Error::CaUsedAsEndEntity) => {
                "TLS: the server presented a CA certificate as its own certificate (a root cannot identify a server; to trust this exact certificate, use add_trusted_server_certificate)".into()
            }
            _ => format!("TLS: invalid server certificate ({other})"),
        },
        other => format!("TLS: invalid server certificate ({other})"),
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.inner.message)?;
        if let Some(request) = &self.inner.request {
            write!(f, " ({request})")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Error");
        d.field("kind", &self.inner.kind)
            .field("message", &self.inner.message);
        if let Some(t) = self.inner.timeout {
            d.field("timeout", &t);
        }
        if let Some(p) = self.inner.phase {
            d.field("phase", &p);
        }
        if let Some(l) = self.inner.limit {
            d.field("limit", &l);
        }
        if let Some(r) = &self.inner.request {
            d.field("request", r);
        }
        if let Some(s) = &self.inner.source {
            d.field("source", s);
        }
        d.finish()
    }
}

impl StdError for Error {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        if let Some(tls) = &self.inner.tls {
            return Some(tls);
        }
        self.inner
            .source
            .as_deref()
            .map(|s| s as &(dyn StdError + 'static))
    }
}

impl From<Error> for io::Error {
    /// Wraps the error for `std::io::Read` consumers; [`Error::from_io`] unwraps it again.
    fn from(error: Error) -> io::Error {
        let kind = match error.kind() {
            ErrorKind::Timeout => io::ErrorKind::TimedOut,
            ErrorKind::InvalidInput => io::ErrorKind::InvalidInput,
            ErrorKind::Protocol | ErrorKind::Decode => io::ErrorKind::InvalidData,
            ErrorKind::Connect => io::ErrorKind::ConnectionRefused,
            ErrorKind::Canceled => io::ErrorKind::Interrupted,
            _ => io::ErrorKind::Other,
        };
        io::Error::new(kind, error)
    }
}

#[cfg(test)]
#[path = "error_tests.rs"]
mod tests;
