//! Tests of `error` (kept apart so the module reads on its own).

use super::*;

#[test]
fn display_names_the_request_without_query_or_userinfo() {
    let url = url::Url::parse("https://user:secret@example.com:8443/a/b?token=abc#frag").unwrap();
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
}

fn other_certificate_error(error: impl StdError + Send + Sync + 'static) -> rustls::Error {
    rustls::Error::InvalidCertificate(rustls::CertificateError::Other(rustls::OtherError(
        Arc::new(error),
    )))
}

#[test]
fn tls_errors_are_told_apart_by_type_not_by_text() {
    let e = Error::tls(
        other_certificate_error(webpki::Error::CaUsedAsEndEntity),
        "h",
    );
    assert!(e.to_string().contains("CA certificate as its own"), "{e}");
    // The same words in some other error type are not that failure.
    let e = Error::tls(
        other_certificate_error(io::Error::other("CaUsedAsEndEntity")),
        "h",
    );
    assert!(!e.to_string().contains("CA certificate as its own"), "{e}");
    assert!(e.to_string().contains("invalid server certificate"), "{e}");

    let cases = [
        (
            rustls::Error::AlertReceived(rustls::AlertDescription::HandshakeFailure),
            "refused the handshake",
        ),
        (
            rustls::Error::AlertReceived(rustls::AlertDescription::ProtocolVersion),
            "TLS version",
        ),
        (
            rustls::Error::AlertReceived(rustls::AlertDescription::UnrecognisedName),
            "does not know the host name h.test",
        ),
        (
            rustls::Error::PeerIncompatible(rustls::PeerIncompatible::NoCipherSuitesInCommon),
            "shares nothing usable",
        ),
        (
            rustls::Error::PeerIncompatible(
                rustls::PeerIncompatible::ServerDoesNotSupportTls12Or13,
            ),
            "does not support a TLS version this client offers",
        ),
        (
            rustls::Error::InvalidMessage(rustls::InvalidMessage::InvalidContentType),
            "not valid TLS",
        ),
        (rustls::Error::NoCertificatesPresented, "no certificate"),
        (
            rustls::Error::InvalidCertificate(rustls::CertificateError::InvalidPurpose),
            "not meant for identifying a server",
        ),
    ];
    for (error, words) in cases {
        let e = Error::tls(error.clone(), "h.test");
        assert!(e.to_string().contains(words), "{error:?}: {e}");
        assert_eq!(e.tls_error(), Some(&error));
    }
}

#[test]
fn pinning_failures_are_tls_errors_of_their_own() {
    let pinner = crate::CertificatePinner::builder()
        .add(
            "h.test",
            ["sha256/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="],
        )
        .build()
        .unwrap();
    let chain = [crate::tls::certificate_pinner::ChainKey {
        spki: b"key".to_vec(),
        subject: Some("h.test".into()),
    }];
    let failure = pinner.check("h.test", &chain).unwrap_err();
    let e = Error::tls(other_certificate_error(failure.clone()), "h.test");
    assert_eq!(e.kind(), ErrorKind::Tls);
    assert_eq!(e.pinning_failure(), Some(&failure));
    assert!(
        e.to_string()
            .starts_with("TLS: Certificate pinning failure! Peer certificate chain: sha256/"),
        "{e}"
    );
    assert!(
        e.to_string()
            .contains("CN=h.test; Pinned certificates for h.test: sha256/AAAA"),
        "{e}"
    );
    let other = Error::tls(
        rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer),
        "h.test",
    );
    assert_eq!(other.pinning_failure(), None);
}

/// No error message or `Debug` output may show a credential: the value of
/// `Authorization`, `Proxy-Authorization`, `Cookie` or `Set-Cookie`, or a URL's userinfo,
/// query or fragment. Every constructor, and every place that puts a header or URL into an
/// error, is fed secret-bearing input here.
mod no_secrets {
    use super::*;
    use crate::config::Limits;
    use crate::http1::head::{HeadReader, parse_trailers};
    use crate::http1::{chunked::ChunkedDecoder, framing};
    use crate::{Config, Headers, Request};

    const SECRET: &str = "s3cr3t-T0KEN";
    const CREDENTIAL_FIELDS: [&str; 4] = [
        "Authorization",
        "Proxy-Authorization",
        "Cookie",
        "Set-Cookie",
    ];

    #[track_caller]
    fn assert_hidden(e: &Error, secrets: &[&str]) {
        let shown = format!("{e}\n{e:?}");
        for secret in secrets {
            assert!(!shown.contains(secret), "{secret:?} leaked: {shown}");
        }
    }

    #[test]
    fn every_constructor_hides_the_url_userinfo_query_and_fragment() {
        let url = url::Url::parse(
            "https://alice-user:pw-s3cr3t@example.com/path?token=q-s3cr3t#f-s3cr3t",
        )
        .unwrap();
        let rustls_error =
            rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer);
        let errors = [
            Error::protocol("bad"),
            Error::invalid_input("bad"),
            Error::canceled(),
            Error::timeout(TimeoutKind::Read, Some(Duration::from_secs(1))),
            Error::timeout(TimeoutKind::Call, None),
            Error::dns("example.com", Some(io::Error::other("no such host"))),
            Error::connect("refused", Some(io::ErrorKind::ConnectionRefused.into())),
            Error::io("reset", Some(io::ErrorKind::ConnectionReset.into())),
            Error::tls(rustls_error, "example.com"),
            Error::from_io(io::ErrorKind::UnexpectedEof.into()),
            Error::from_io(Error::protocol("wrapped").into()),
            Error::limit_exceeded(Limit::HeadBytes, 1),
            Error::from_status(http::StatusCode::FORBIDDEN, &http::Method::GET, &url),
        ];
        for e in errors {
            let e = e.with_request(&http::Method::GET, &url);
            assert!(e.to_string().contains("example.com/path"), "{e}");
            assert_hidden(&e, &["alice-user", "pw-s3cr3t", "q-s3cr3t", "f-s3cr3t"]);
        }
    }

    #[test]
    fn urls_that_fail_to_parse_or_check_hide_their_secrets() {
        for bad in [
            "http://alice-user:pw-s3cr3t@exa mple.com/?token=q-s3cr3t#f-s3cr3t",
            "http://alice-user:pw-s3cr3t@/?token=q-s3cr3t",
            "http://alice-user:pw-s3cr3t@example.com:99999/?token=q-s3cr3t",
            "http:alice-user:pw-s3cr3t@[::1/x?token=q-s3cr3t",
            "ftp://alice-user:pw-s3cr3t@example.com/?token=q-s3cr3t",
            "not a url ?token=q-s3cr3t",
        ] {
            let e = Request::get(bad).build().unwrap_err();
            assert_eq!(e.kind(), ErrorKind::InvalidInput, "{bad}");
            assert_hidden(&e, &["pw-s3cr3t", "q-s3cr3t", "f-s3cr3t"]);
        }
    }

    #[test]
    fn header_errors_never_show_a_value_or_a_name_that_holds_one() {
        for field in CREDENTIAL_FIELDS {
            let value = format!("Bearer {SECRET}\r\nInjected: 1");
            let mut errors = vec![
                Headers::new().append(field, &value).unwrap_err(),
                Headers::new().set(field, &value).unwrap_err(),
                Request::get("http://h.test/")
                    .header(field, &value)
                    .build()
                    .unwrap_err(),
                // A whole "Name: value" line, or a value, given as the name.
                Headers::new()
                    .append(&format!("{field}: Bearer {SECRET}"), "")
                    .unwrap_err(),
                Headers::new()
                    .append(&format!("{SECRET}/=="), field)
                    .unwrap_err(),
            ];
            errors.push(Config::builder().user_agent(&value).build().unwrap_err());
            for e in &errors {
                assert_eq!(e.kind(), ErrorKind::InvalidInput);
                assert_hidden(e, &[SECRET]);
            }
            // The request's own Debug output hides the value too.
            let request = Request::get("http://h.test/?token=q-s3cr3t")
                .header(field, format!("Bearer {SECRET}"))
                .build()
                .unwrap();
            let shown = format!("{request:?}");
            assert!(
                !shown.contains(SECRET) && !shown.contains("q-s3cr3t"),
                "{shown}"
            );
        }
    }

    #[test]
    fn response_parsing_errors_never_show_credential_fields() {
        let limits = Limits {
            max_head_bytes: 200,
            max_headers: Some(3),
            max_trailer_bytes: 100,
            ..Limits::default()
        };
        for field in CREDENTIAL_FIELDS {
            let bad_heads = [
                format!("HTTP/1.1 200 OK\r\n{field}: {SECRET}\0\r\n\r\n"),
                format!("HTTP/1.1 200 OK\r\n{field}: {SECRET}\r\nBad Line\r\n\r\n"),
                format!("HTTP/1.1 600 OK\r\n{field}: {SECRET}\r\n\r\n"),
                format!(
                    "HTTP/1.1 200 OK\r\n{field}: {SECRET}{}\r\n\r\n",
                    "x".repeat(300)
                ),
                format!("HTTP/1.1 200 OK\r\n{field}: {SECRET}\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n"),
                format!("HTTP/2 200 OK\r\n{field}: {SECRET}\r\n\r\n"),
            ];
            for head in &bad_heads {
                let e = HeadReader::default()
                    .read(head.as_bytes(), &limits)
                    .unwrap_err();
                assert_hidden(&e, &[SECRET]);
            }
            let bad_trailers = [
                format!("{field}: {SECRET}\0\r\n\r\n"),
                format!("{field}: {SECRET}\r\nBad Line\r\n\r\n"),
                format!("{field}: {SECRET}\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n"),
            ];
            for block in &bad_trailers {
                let e = parse_trailers(block.as_bytes(), &limits).unwrap_err();
                assert_hidden(&e, &[SECRET]);
            }
            let long_trailer = format!("0\r\n{field}: {SECRET}{}\r\n\r\n", "x".repeat(100));
            let e = ChunkedDecoder::new()
                .decode(long_trailer.as_bytes(), &mut [0u8; 8], &limits)
                .unwrap_err();
            assert_hidden(&e, &[SECRET]);
            // Framing errors name only the framing fields.
            for framing_field in [
                ("Content-Length", "1, 2"),
                ("Content-Length", "12abc"),
                ("Transfer-Encoding", "chunked, chunked"),
                ("Transfer-Encoding", ","),
            ] {
                let mut headers = Headers::new();
                headers.append(field, SECRET).unwrap();
                headers.append(framing_field.0, framing_field.1).unwrap();
                let e = framing::plan(
                    &http::Method::GET,
                    http::StatusCode::OK,
                    http::Version::HTTP_11,
                    &headers,
                    false,
                )
                .unwrap_err();
                assert_hidden(&e, &[SECRET]);
            }
        }
    }
}
