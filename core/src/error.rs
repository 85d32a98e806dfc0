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
    /// cut short, a head over the configured limits.
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
            }),
        }
    }

    /// The server broke the protocol.
    pub fn protocol(message: impl Into<Cow<'static, str>>) -> Error {
        Error::new(ErrorKind::Protocol, message)
    }

    /// The caller's input cannot be sent.
    pub fn invalid_input(message: impl Into<Cow<'static, str>>) -> Error {
        Error::new(ErrorKind::InvalidInput, message)
    }

    /// The call was canceled.
    pub fn canceled() -> Error {
        Error::new(ErrorKind::Canceled, "call canceled")
    }

    /// A deadline passed. `after` is the configured duration, for the message.
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
    pub fn dns(host: &str, source: Option<io::Error>) -> Error {
        let mut e = Error::new(ErrorKind::Dns, format!("could not resolve host {host}"));
        if let Some(s) = source {
            e.inner.source = Some(Arc::new(s));
        }
        e
    }

    /// A TCP connect failed.
    pub fn connect(message: impl Into<Cow<'static, str>>, source: Option<io::Error>) -> Error {
        let mut e = Error::new(ErrorKind::Connect, message);
        if let Some(s) = source {
            e.inner.source = Some(Arc::new(s));
        }
        e
    }

    /// An established connection failed.
    pub fn io(message: impl Into<Cow<'static, str>>, source: Option<io::Error>) -> Error {
        let mut e = Error::new(ErrorKind::Io, message);
        if let Some(s) = source {
            e.inner.source = Some(Arc::new(s));
        }
        e
    }

    /// A TLS failure, with a message that says why in plain words.
    pub fn tls(error: rustls::Error, host: &str) -> Error {
        let message = describe_tls(&error, host);
        let mut e = Error::new(ErrorKind::Tls, message);
        e.inner.tls = Some(error);
        e
    }

    /// Converts an I/O error that came out of one of our own `std::io::Read` adapters back into
    /// the [`Error`] it wraps; any other I/O error becomes an [`ErrorKind::Io`] error.
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

fn describe_tls(error: &rustls::Error, host: &str) -> String {
    use rustls::CertificateError as C;
    match error {
        rustls::Error::InvalidCertificate(cert) => match cert {
            C::UnknownIssuer => {
                "TLS: the server's certificate was issued by an unknown (untrusted) authority"
                    .into()
            }
            C::NotValidForName | C::NotValidForNameContext { .. } => {
                format!(
                    "TLS: the server's certificate is not valid for host name {host} (hostname mismatch)"
                )
            }
            C::Expired | C::ExpiredContext { .. } => {
                "TLS: the server's certificate has expired".into()
            }
            C::NotValidYet | C::NotValidYetContext { .. } => {
                "TLS: the server's certificate is not valid yet".into()
            }
            C::Revoked => "TLS: the server's certificate has been revoked".into(),
            C::BadSignature => "TLS: the server's certificate has a bad signature".into(),
            C::Other(other) if format!("{other:?}").contains("CaUsedAsEndEntity") => {
                "TLS: the server presented a CA certificate as its own certificate (a root cannot identify a server; to trust this exact certificate, use add_trusted_server_certificate)".into()
            }
            C::Other(other) => format!("TLS: invalid server certificate ({other})"),
            other => format!("TLS: invalid server certificate: {other:?}"),
        },
        rustls::Error::AlertReceived(alert) => format!("TLS: the server sent alert {alert:?}"),
        other => format!("TLS: {other}"),
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
            ErrorKind::Protocol => io::ErrorKind::InvalidData,
            ErrorKind::Connect => io::ErrorKind::ConnectionRefused,
            ErrorKind::Canceled => io::ErrorKind::Interrupted,
            _ => io::ErrorKind::Other,
        };
        io::Error::new(kind, error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_the_request_without_query_or_userinfo() {
        let url =
            url::Url::parse("https://user:secret@example.com:8443/a/b?token=abc#frag").unwrap();
        let e = Error::timeout(TimeoutKind::Read, Some(Duration::from_secs(10)))
            .with_request(&http::Method::GET, &url);
        let text = e.to_string();
        assert_eq!(
            text,
            "read timed out after 10s (GET https://example.com:8443/a/b)"
        );
        assert!(!text.contains("secret") && !text.contains("token"));
        assert_eq!(e.kind(), ErrorKind::Timeout);
        assert_eq!(e.timeout_kind(), Some(TimeoutKind::Read));
    }

    #[test]
    fn round_trips_through_io_error() {
        let e = Error::protocol("bad chunk size");
        let io: io::Error = e.into();
        assert_eq!(io.kind(), io::ErrorKind::InvalidData);
        let back = Error::from_io(io);
        assert_eq!(back.kind(), ErrorKind::Protocol);
        assert_eq!(back.message(), "bad chunk size");

        let plain = Error::from_io(io::Error::new(io::ErrorKind::ConnectionReset, "reset"));
        assert_eq!(plain.kind(), ErrorKind::Io);
    }

    #[test]
    fn tls_errors_say_why() {
        let e = Error::tls(
            rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer),
            "h",
        );
        assert!(e.to_string().contains("unknown"), "{e}");
        let e = Error::tls(
            rustls::Error::InvalidCertificate(rustls::CertificateError::NotValidForName),
            "h.test",
        );
        assert!(
            e.to_string().contains("hostname mismatch") && e.to_string().contains("h.test"),
            "{e}"
        );
        let e = Error::tls(
            rustls::Error::InvalidCertificate(rustls::CertificateError::Expired),
            "h",
        );
        assert!(e.to_string().contains("expired"), "{e}");
        assert_eq!(e.kind(), ErrorKind::Tls);
        assert!(e.tls_error().is_some());
        let ca = rustls::CertificateError::Other(rustls::OtherError(std::sync::Arc::new(
            std::io::Error::other("CaUsedAsEndEntity"),
        )));
        let e = Error::tls(rustls::Error::InvalidCertificate(ca), "h");
        assert!(e.to_string().contains("CA certificate as its own"), "{e}");
    }
}
