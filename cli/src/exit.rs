//! Exit statuses, and the mapping from library errors to them.
//!
//! Scripts written for curl branch on its exit statuses (`6` retry DNS later, `28` timed out,
//! `22` HTTP error with `-f`), so wayfarer uses curl's numbers wherever one of its failures
//! means the same thing. The library's [`ErrorKind`] is coarser than curl's codes in two
//! places, and the mapping needs context for them:
//!
//! - the same kind means different things before and after the response head: a protocol
//!   error in the head is a weird reply (8), in the body a transfer cut short (18). The caller
//!   says which with [`Phase`].
//! - `ErrorKind::Io` covers an empty reply (52), a receive failure (56) and a failure to read
//!   the local request body (26). The last is recognised by the marker error the CLI's own body
//!   reader puts in the error's source chain; the empty reply only by the library's message.

use std::fmt;

use wayfarer_core::{Error, ErrorKind};

use crate::data::is_local_read_error;

/// curl's exit statuses, by curl's names (`CURLE_*`) where one exists. Status 2, a bad
/// command line, is clap's own and never passes through here.
pub mod code {
    /// `CURLE_UNSUPPORTED_PROTOCOL`; also any failure no other code describes.
    pub const UNSUPPORTED_PROTOCOL: u8 = 1;
    /// `CURLE_URL_MALFORMAT`: the URL, or the request built from it, cannot be sent.
    pub const URL_MALFORMAT: u8 = 3;
    /// `CURLE_COULDNT_RESOLVE_HOST`.
    pub const COULDNT_RESOLVE_HOST: u8 = 6;
    /// `CURLE_COULDNT_CONNECT`.
    pub const COULDNT_CONNECT: u8 = 7;
    /// `CURLE_WEIRD_SERVER_REPLY`: the response head broke HTTP/1.1.
    pub const WEIRD_SERVER_REPLY: u8 = 8;
    /// `CURLE_PARTIAL_FILE`: the body ended before its declared end.
    pub const PARTIAL_FILE: u8 = 18;
    /// `CURLE_HTTP_RETURNED_ERROR`: status >= 400 with `--fail`.
    pub const HTTP_RETURNED_ERROR: u8 = 22;
    /// `CURLE_WRITE_ERROR`: the output could not be written.
    pub const WRITE_ERROR: u8 = 23;
    /// `CURLE_READ_ERROR`: the `-d @FILE` / `--data-binary @FILE` source could not be read.
    pub const READ_ERROR: u8 = 26;
    /// `CURLE_OPERATION_TIMEDOUT`: any deadline (connect, read, write, whole call).
    pub const OPERATION_TIMEDOUT: u8 = 28;
    /// `CURLE_SSL_CONNECT_ERROR`: the TLS handshake failed for a reason other than the
    /// certificate.
    pub const SSL_CONNECT_ERROR: u8 = 35;
    /// `CURLE_ABORTED_BY_CALLBACK`: the call was canceled.
    pub const ABORTED: u8 = 42;
    /// `CURLE_GOT_NOTHING`: the server closed the connection without a byte of response.
    pub const GOT_NOTHING: u8 = 52;
    /// `CURLE_RECV_ERROR`: the connection failed (reset, ...) after it was established.
    pub const RECV_ERROR: u8 = 56;
    /// `CURLE_PEER_FAILED_VERIFICATION`: the server's certificate was not accepted.
    pub const PEER_FAILED_VERIFICATION: u8 = 60;
    /// `CURLE_SSL_CACERT_BADFILE`: the `--cacert` file could not be read or used.
    pub const SSL_CACERT_BADFILE: u8 = 77;
}

/// The library's message for a connection closed before any byte of a response. It has no
/// kind of its own (it is an `ErrorKind::Io`), so this is the one place that depends on the
/// wording; the CLI's empty-reply test fails if the library changes it.
const EMPTY_REPLY_MESSAGE: &str = "the server closed the connection without sending a response";

/// Where in the call an error came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Connecting, sending the request, waiting for and reading the response head.
    Head,
    /// Reading the response body.
    Body,
}

/// Why the command failed: an exit status and one line for standard error.
#[derive(Debug, PartialEq, Eq)]
pub struct Failure {
    /// The exit status.
    pub code: u8,
    /// The message, without the `wayfarer: (code)` prefix.
    pub message: String,
}

impl Failure {
    /// A failure of the CLI's own (writing the output, reading a file, ...).
    pub fn new(code: u8, message: impl Into<String>) -> Failure {
        Failure {
            code,
            message: message.into(),
        }
    }

    /// A failure of the call. The library's `Display` already names the request (`METHOD
    /// url`, with the query and userinfo removed), so it is used as is.
    pub fn from_error(error: &Error, phase: Phase) -> Failure {
        Failure::new(code_for(error, phase), error.to_string())
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "wayfarer: ({}) {}", self.code, self.message)
    }
}

/// The exit status for a library error met in `phase`.
pub fn code_for(error: &Error, phase: Phase) -> u8 {
    match error.kind() {
        ErrorKind::Dns => code::COULDNT_RESOLVE_HOST,
        ErrorKind::Connect => code::COULDNT_CONNECT,
        ErrorKind::Timeout => code::OPERATION_TIMEDOUT,
        ErrorKind::Tls => match error.tls_error() {
            Some(rustls::Error::InvalidCertificate(_)) => code::PEER_FAILED_VERIFICATION,
            _ => code::SSL_CONNECT_ERROR,
        },
        ErrorKind::Protocol => match phase {
            Phase::Head => code::WEIRD_SERVER_REPLY,
            Phase::Body => code::PARTIAL_FILE,
        },
        ErrorKind::Io if is_local_read_error(error) => code::READ_ERROR,
        ErrorKind::Io if phase == Phase::Head && error.message() == EMPTY_REPLY_MESSAGE => {
            code::GOT_NOTHING
        }
        ErrorKind::Io => code::RECV_ERROR,
        ErrorKind::InvalidInput => code::URL_MALFORMAT,
        ErrorKind::Canceled => code::ABORTED,
        _ => code::UNSUPPORTED_PROTOCOL,
    }
}

#[cfg(test)]
mod tests {
    use std::io;
    use std::time::Duration;

    use wayfarer_core::TimeoutKind;

    use super::*;

    #[test]
    fn connection_setup_failures() {
        let dns = Error::dns("nonexistent.invalid", None);
        assert_eq!(code_for(&dns, Phase::Head), 6);
        let refused = Error::connect(
            "failed to connect to 127.0.0.1:9: Connection refused",
            Some(io::Error::from(io::ErrorKind::ConnectionRefused)),
        );
        assert_eq!(code_for(&refused, Phase::Head), 7);
    }

    #[test]
    fn every_deadline_is_a_timeout() {
        for which in [
            TimeoutKind::Connect,
            TimeoutKind::Read,
            TimeoutKind::Write,
            TimeoutKind::Call,
        ] {
            let e = Error::timeout(which, Some(Duration::from_secs(1)));
            assert_eq!(code_for(&e, Phase::Head), 28, "{which:?}");
            assert_eq!(code_for(&e, Phase::Body), 28, "{which:?}");
        }
    }

    #[test]
    fn certificate_failures_are_told_from_other_tls_failures() {
        use rustls::CertificateError;
        for cert in [
            CertificateError::UnknownIssuer,
            CertificateError::NotValidForName,
            CertificateError::Expired,
        ] {
            let e = Error::tls(rustls::Error::InvalidCertificate(cert), "h.test");
            assert_eq!(code_for(&e, Phase::Head), 60, "{e}");
        }
        let alert = Error::tls(
            rustls::Error::AlertReceived(rustls::AlertDescription::HandshakeFailure),
            "h.test",
        );
        assert_eq!(code_for(&alert, Phase::Head), 35);
        let garbage = Error::tls(
            rustls::Error::InvalidMessage(rustls::InvalidMessage::InvalidContentType),
            "h.test",
        );
        assert_eq!(code_for(&garbage, Phase::Head), 35);
    }

    #[test]
    fn protocol_errors_depend_on_the_phase() {
        let e = Error::protocol("malformed response head");
        assert_eq!(code_for(&e, Phase::Head), 8);
        let e = Error::protocol("the response body ended 90 bytes short of its Content-Length");
        assert_eq!(code_for(&e, Phase::Body), 18);
    }

    #[test]
    fn io_failures_are_split_by_what_failed() {
        let empty = Error::io(EMPTY_REPLY_MESSAGE, None);
        assert_eq!(code_for(&empty, Phase::Head), 52);
        let reset = Error::io(
            "reading the response failed: connection reset",
            Some(io::Error::from(io::ErrorKind::ConnectionReset)),
        );
        assert_eq!(code_for(&reset, Phase::Head), 56);
        assert_eq!(code_for(&reset, Phase::Body), 56);
    }

    #[test]
    fn caller_errors() {
        assert_eq!(
            code_for(&Error::invalid_input("bad header"), Phase::Head),
            3
        );
        assert_eq!(code_for(&Error::canceled(), Phase::Body), 42);
    }

    #[test]
    fn messages_name_the_code() {
        let e = Error::dns("nonexistent.invalid", None);
        let failure = Failure::from_error(&e, Phase::Head);
        assert_eq!(
            failure.to_string(),
            "wayfarer: (6) could not resolve host nonexistent.invalid"
        );
    }
}
