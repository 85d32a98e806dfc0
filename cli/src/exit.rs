//! Exit statuses, and the mapping from library errors to them.
//!
//! Scripts written for curl branch on its exit statuses (`6` retry DNS later, `28` timed out,
//! `22` HTTP error with `-f`), so wayfarer uses curl's numbers wherever one of its failures
//! means the same thing. The library's [`ErrorKind`] is coarser than curl's codes; the error's
//! [`Phase`] supplies the rest:
//!
//! - a protocol error in the response head is a weird reply (8), in the body a transfer cut
//!   short (18);
//! - an I/O failure while sending is a send error (55), one reading the local request body a
//!   read error (26), a connection closed before any response with no OS error behind it an
//!   empty reply (52), and any other a receive error (56).

use std::fmt;

use wayfarer_core::{Error, ErrorKind, Phase};

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
    /// `CURLE_TOO_MANY_REDIRECTS`: `-L` met more redirects than `--max-redirs` allows.
    pub const TOO_MANY_REDIRECTS: u8 = 47;
    /// `CURLE_SEND_ERROR`: the connection failed while the request was being sent.
    pub const SEND_ERROR: u8 = 55;
    /// `CURLE_GOT_NOTHING`: the server closed the connection without a byte of response.
    pub const GOT_NOTHING: u8 = 52;
    /// `CURLE_RECV_ERROR`: the connection failed (reset, ...) after it was established.
    pub const RECV_ERROR: u8 = 56;
    /// `CURLE_SSL_CERTPROBLEM`: the `--cert` or `--key` file could not be read or used.
    pub const SSL_CERTPROBLEM: u8 = 58;
    /// `CURLE_PEER_FAILED_VERIFICATION`: the server's certificate was not accepted.
    pub const PEER_FAILED_VERIFICATION: u8 = 60;
    /// `CURLE_BAD_CONTENT_ENCODING`: the `--compressed` body's gzip coding is corrupt.
    pub const BAD_CONTENT_ENCODING: u8 = 61;
    /// `CURLE_SSL_CACERT_BADFILE`: the `--cacert` file could not be read or used.
    pub const SSL_CACERT_BADFILE: u8 = 77;
    /// `CURLE_SSL_PINNEDPUBKEYNOTMATCH`: no key of the verified chain was pinned.
    pub const SSL_PINNEDPUBKEYNOTMATCH: u8 = 90;
    /// CURLE_PROXY: the proxy refused the SOCKS5 handshake or the CONNECT tunnel.
    pub const PROXY: u8 = 97;
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
    pub fn from_error(error: &Error) -> Failure {
        Failure::new(code_for(error), message_for(error))
    }

    /// A failure of the call made with at most `max_redirects` redirects (`None`: no limit):
    /// as [`Failure::from_error`], but one redirect too many is worded as curl words it,
    /// naming the limit (`Maximum (50) redirects followed`).
    pub fn from_call_error(error: &Error, max_redirects: Option<u32>) -> Failure {
        match (error.kind(), max_redirects) {
            (ErrorKind::TooManyFollowUps, Some(max)) => Failure::new(
                code::TOO_MANY_REDIRECTS,
                format!("Maximum ({max}) redirects followed"),
            ),
            _ => Failure::from_error(error),
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "wayfarer: ({}) {}", self.code, self.message)
    }
}

/// The message for a library error. A server that went past one of the client's limits gets
/// the library's message without its last clause, which tells a program which builder setting
/// raises the limit: no option of the command does.
fn message_for(error: &Error) -> String {
    if error.limit().is_none() {
        return error.to_string();
    }
    let message = error.message();
    let message = message
        .split_once("; raise it with")
        .map_or(message, |(what, _)| what);
    match error.request() {
        Some(request) => format!("the server's {message} ({request})"),
        None => format!("the server's {message}"),
    }
}

/// The exit status for a library error.
pub fn code_for(error: &Error) -> u8 {
    let phase = error.phase();
    match error.kind() {
        ErrorKind::Dns => code::COULDNT_RESOLVE_HOST,
        ErrorKind::Connect => code::COULDNT_CONNECT,
        ErrorKind::Timeout => code::OPERATION_TIMEDOUT,
        ErrorKind::Tls if error.pinning_failure().is_some() => code::SSL_PINNEDPUBKEYNOTMATCH,
        ErrorKind::Tls => match error.tls_error() {
            Some(wayfarer_core::rustls::Error::InvalidCertificate(_)) => {
                code::PEER_FAILED_VERIFICATION
            }
            _ => code::SSL_CONNECT_ERROR,
        },
        ErrorKind::Protocol if phase == Some(Phase::ReceiveBody) => code::PARTIAL_FILE,
        ErrorKind::Protocol => code::WEIRD_SERVER_REPLY,
        ErrorKind::Io | ErrorKind::InvalidInput if phase == Some(Phase::RequestBody) => {
            code::READ_ERROR
        }
        ErrorKind::Io if phase == Some(Phase::Send) => code::SEND_ERROR,
        ErrorKind::Io if phase == Some(Phase::ReceiveHead) && error.io_error_kind().is_none() => {
            code::GOT_NOTHING
        }
        ErrorKind::Io => code::RECV_ERROR,
        ErrorKind::InvalidInput => code::URL_MALFORMAT,
        ErrorKind::Canceled => code::ABORTED,
        ErrorKind::TooManyFollowUps => code::TOO_MANY_REDIRECTS,
        ErrorKind::Proxy => code::PROXY,
        ErrorKind::Decode => code::BAD_CONTENT_ENCODING,
        ErrorKind::Status => code::HTTP_RETURNED_ERROR,
        _ => code::UNSUPPORTED_PROTOCOL,
    }
}

#[cfg(test)]
mod tests {
    use std::io;
    use std::time::Duration;

    use wayfarer_core::TimeoutKind;
    use wayfarer_core::rustls::{self, CertificateError};

    use super::*;

    #[test]
    fn connection_setup_failures() {
        let dns = Error::dns("nonexistent.invalid", None).with_phase(Phase::Connect);
        assert_eq!(code_for(&dns), 6);
        let refused = Error::connect(
            "failed to connect to 127.0.0.1:9: Connection refused",
            Some(io::Error::from(io::ErrorKind::ConnectionRefused)),
        );
        assert_eq!(code_for(&refused), 7);
    }

    /// An error status turned into an error (an interceptor using `error_for_status`) exits
    /// as `--fail` does.
    #[test]
    fn an_error_status_is_an_http_error() {
        let url = wayfarer_core::Url::parse("http://example.com/missing").unwrap();
        let e = Error::from_status(
            wayfarer_core::StatusCode::NOT_FOUND,
            &wayfarer_core::Method::GET,
            &url,
        );
        assert_eq!(code_for(&e), 22);
    }

    #[test]
    fn every_deadline_is_a_timeout() {
        for which in [
            TimeoutKind::Connect,
            TimeoutKind::Read,
            TimeoutKind::Write,
            TimeoutKind::Call,
        ] {
            for phase in [Phase::Connect, Phase::ReceiveHead, Phase::ReceiveBody] {
                let e = Error::timeout(which, Some(Duration::from_secs(1))).with_phase(phase);
                assert_eq!(code_for(&e), 28, "{which:?} {phase:?}");
            }
        }
    }

    #[test]
    fn certificate_failures_are_told_from_other_tls_failures() {
        for cert in [
            CertificateError::UnknownIssuer,
            CertificateError::NotValidForName,
            CertificateError::Expired,
        ] {
            let e = Error::tls(rustls::Error::InvalidCertificate(cert), "h.test");
            assert_eq!(code_for(&e), 60, "{e}");
        }
        let alert = Error::tls(
            rustls::Error::AlertReceived(rustls::AlertDescription::HandshakeFailure),
            "h.test",
        );
        assert_eq!(code_for(&alert), 35);
        let garbage = Error::tls(
            rustls::Error::InvalidMessage(rustls::InvalidMessage::InvalidContentType),
            "h.test",
        );
        assert_eq!(code_for(&garbage), 35);
    }

    #[test]
    fn protocol_errors_depend_on_the_phase() {
        let e = Error::protocol("malformed response head").with_phase(Phase::ReceiveHead);
        assert_eq!(code_for(&e), 8);
        let e = Error::protocol("the response body ended 90 bytes short")
            .with_phase(Phase::ReceiveBody);
        assert_eq!(code_for(&e), 18);
    }

    #[test]
    fn io_failures_are_split_by_what_failed() {
        let empty =
            Error::io("the server closed the connection", None).with_phase(Phase::ReceiveHead);
        assert_eq!(code_for(&empty), 52);
        let reset = || {
            Error::io(
                "reset",
                Some(io::Error::from(io::ErrorKind::ConnectionReset)),
            )
        };
        assert_eq!(code_for(&reset().with_phase(Phase::ReceiveHead)), 56);
        assert_eq!(code_for(&reset().with_phase(Phase::ReceiveBody)), 56);
        assert_eq!(code_for(&reset().with_phase(Phase::Send)), 55);
        let local = Error::io("could not read body.bin", Some(io::Error::other("disk")))
            .with_phase(Phase::RequestBody);
        assert_eq!(code_for(&local), 26);
        let short =
            Error::invalid_input("the request body ended early").with_phase(Phase::RequestBody);
        assert_eq!(code_for(&short), 26);
    }

    #[test]
    fn caller_errors() {
        assert_eq!(code_for(&Error::invalid_input("bad header")), 3);
        assert_eq!(code_for(&Error::canceled()), 42);
    }

    #[test]
    fn too_many_redirects_exit_47_worded_as_curl_does() {
        let e = Error::too_many_follow_ups(3);
        assert_eq!(code_for(&e), 47);
        assert_eq!(
            Failure::from_call_error(&e, Some(2)).to_string(),
            "wayfarer: (47) Maximum (2) redirects followed"
        );
        // Without a limit to name, the library's own message.
        assert_eq!(
            Failure::from_call_error(&e, None),
            Failure::new(47, e.to_string())
        );
        let other = Error::canceled();
        assert_eq!(
            Failure::from_call_error(&other, Some(2)),
            Failure::from_error(&other)
        );
    }

    #[test]
    fn a_limit_is_reported_without_the_library_setting_that_raises_it() {
        let url = wayfarer_core::Url::parse("http://h.test/big?secret=1").unwrap();
        let e = Error::limit_exceeded(wayfarer_core::Limit::HeadBytes, 262_144)
            .with_request(&wayfarer_core::Method::GET, &url)
            .with_phase(Phase::ReceiveHead);
        assert_eq!(
            Failure::from_error(&e).to_string(),
            "wayfarer: (8) the server's response head exceeds the limit of 262144 bytes \
             (GET http://h.test/big)"
        );
    }

    #[test]
    fn messages_name_the_code() {
        let e = Error::dns("nonexistent.invalid", None);
        let failure = Failure::from_error(&e);
        assert_eq!(
            failure.to_string(),
            "wayfarer: (6) could not resolve host nonexistent.invalid"
        );
    }
}
