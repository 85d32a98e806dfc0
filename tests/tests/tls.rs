//! HTTPS through the core's rustls session, on every runtime, against a local TLS origin whose
//! certificates are generated for the test: a trusted certificate succeeds (with the connection
//! reused for a second request); a certificate for another host, one from an untrusted issuer,
//! and an expired one each fail with a `Tls` error that says why. A server certificate trusted
//! exactly (a self-signed `CA:TRUE` one, or a leaf without its issuer) is accepted, and still
//! refused for another host, once expired, or when the server presents a different one.

use std::sync::Arc;

use wayfarer_core::{Certificate, Config, ErrorKind};
use wayfarer_tests::certs::{Leaf, SelfSigned, TestPki};
use wayfarer_tests::origin::{After, Origin, Reply};
use wayfarer_tests::run::Runtime;

fn config(pki: &TestPki) -> Config {
    Config::builder()
        .tls_built_in_roots(false)
        .add_root_certificate(Certificate::from_der(pki.ca_der().to_vec()))
        .build()
        .expect("config")
}

/// The URL names `localhost`, so the test also covers resolution (and falling back from `::1`
/// when the origin listens on 127.0.0.1 only) and SNI by name.
fn url(origin: &Origin, path: &str) -> String {
    format!("https://localhost:{}{path}", origin.addr().port())
}

#[test]
fn trusted_certificate_succeeds_and_the_connection_is_reused() {
    let pki = TestPki::generate();
    for runtime in Runtime::ALL {
        let origin = Origin::builder()
            .tls(pki.server_config(Leaf::Valid))
            .start();
        origin.enqueue(Reply::new(
            "HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nsecret",
        ));
        origin.enqueue(Reply::new(
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nmore\r\n0\r\n\r\n",
        ));
        let urls = [url(&origin, "/one"), url(&origin, "/two")];
        let mut bodies = vec![Vec::new(); 2];
        let results = runtime.fetch_each(config(&pki), &urls, |i, chunk| {
            bodies[i].extend_from_slice(chunk)
        });
        assert_eq!(
            results
                .iter()
                .map(|r| r.as_ref().ok().copied())
                .collect::<Vec<_>>(),
            [Some(200), Some(200)],
            "{runtime:?}: {results:?}"
        );
        assert_eq!(
            bodies,
            [b"secret".to_vec(), b"more".to_vec()],
            "{runtime:?}"
        );
        assert_eq!(
            origin.connection_count(),
            1,
            "{runtime:?}: the TLS connection is reused"
        );
        assert_eq!(origin.take_request().line, "GET /one HTTP/1.1");
    }
}

/// Body bytes go from the TLS session straight into the caller's buffer: a body much larger
/// than the session's buffers arrives intact, followed on the same connection by another, and
/// then by a body delimited by the connection's end, which arrives whole.
#[test]
fn large_and_close_delimited_bodies_arrive_intact_over_tls() {
    let pki = TestPki::generate();
    let data: Vec<u8> = (0..3 << 20).map(|i| (i * 31 % 251) as u8).collect();
    let mut large =
        format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", data.len()).into_bytes();
    large.extend_from_slice(&data);
    for runtime in Runtime::ALL {
        let origin = Origin::builder()
            .tls(pki.server_config(Leaf::Valid))
            .start();
        origin.enqueue(Reply::new(large.clone()));
        origin.enqueue(Reply::new(
            "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nafter",
        ));
        origin.enqueue(
            Reply::new("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nup to the end")
                .then(After::Close),
        );
        let urls = [
            url(&origin, "/large"),
            url(&origin, "/after"),
            url(&origin, "/end"),
        ];
        let mut bodies = vec![Vec::new(); 3];
        let results = runtime.fetch_each(config(&pki), &urls, |i, chunk| {
            bodies[i].extend_from_slice(chunk)
        });
        assert!(
            results.iter().all(|r| matches!(r, Ok(200))),
            "{runtime:?}: {results:?}"
        );
        assert!(bodies[0] == data, "{runtime:?}: the large body differs");
        assert_eq!(bodies[1], b"after", "{runtime:?}");
        assert_eq!(bodies[2], b"up to the end", "{runtime:?}");
        assert_eq!(
            origin.connection_count(),
            1,
            "{runtime:?}: one connection carries all three"
        );
    }
}

fn expect_tls_failure(leaf: Leaf, why: &str) {
    let pki = TestPki::generate();
    expect_tls_failure_with(pki.server_config(leaf), || config(&pki), why);
}

/// Every runtime, configured by `config`, fails the handshake with a server presenting
/// `server`'s certificate, with a message that contains `why`.
fn expect_tls_failure_with(
    server: Arc<rustls::ServerConfig>,
    config: impl Fn() -> Config,
    why: &str,
) {
    for runtime in Runtime::ALL {
        let origin = Origin::builder().tls(server.clone()).start();
        origin.enqueue(Reply::new("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"));
        let results = runtime.fetch_each(config(), &[url(&origin, "/")], |_, _| {});
        let error = results[0].as_ref().expect_err("the handshake must fail");
        assert_eq!(error.kind(), ErrorKind::Tls, "{runtime:?}: {error}");
        assert!(
            error.to_string().contains(why),
            "{runtime:?}: {error:?} should mention {why:?}"
        );
        assert!(error.tls_error().is_some(), "{runtime:?}");
        assert_eq!(origin.request_count(), 0, "{runtime:?}: nothing was sent");
    }
}

#[test]
fn certificate_for_another_host_fails() {
    expect_tls_failure(Leaf::WrongHost, "hostname mismatch");
}

#[test]
fn untrusted_issuer_fails() {
    expect_tls_failure(Leaf::UntrustedIssuer, "unknown (untrusted) authority");
}

#[test]
fn expired_certificate_fails() {
    expect_tls_failure(Leaf::Expired, "expired");
}

#[test]
fn built_in_roots_do_not_trust_the_test_ca() {
    let pki = TestPki::generate();
    let origin = Origin::builder()
        .tls(pki.server_config(Leaf::Valid))
        .start();
    let results = Runtime::Blocking.fetch_each(Config::default(), &[url(&origin, "/")], |_, _| {});
    assert_eq!(results[0].as_ref().unwrap_err().kind(), ErrorKind::Tls);
}

// ------------------------------------------------------------------ exact server certificates

/// Trusts only `certs`, each as the exact certificate a server may present.
fn exact(certs: &[rustls_pki_types::CertificateDer<'static>]) -> Config {
    certs
        .iter()
        .fold(Config::builder().tls_built_in_roots(false), |b, c| {
            b.add_trusted_server_certificate(Certificate::from_der(c.to_vec()))
        })
        .build()
        .expect("config")
}

/// Every runtime fetches one body from a server presenting `server`, configured by `config`.
fn expect_tls_success(server: Arc<rustls::ServerConfig>, config: impl Fn() -> Config) {
    for runtime in Runtime::ALL {
        let origin = Origin::builder().tls(server.clone()).start();
        origin.enqueue(Reply::new("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"));
        let mut body = Vec::new();
        let results = runtime.fetch_each(config(), &[url(&origin, "/")], |_, chunk| {
            body.extend_from_slice(chunk)
        });
        assert_eq!(
            results[0].as_ref().ok(),
            Some(&200),
            "{runtime:?}: {results:?}"
        );
        assert_eq!(body, b"ok", "{runtime:?}");
    }
}

#[test]
fn an_exact_self_signed_ca_certificate_is_trusted() {
    let server = SelfSigned::generate();
    expect_tls_success(server.server_config(), || exact(&[server.der()]));
}

#[test]
fn a_self_signed_ca_certificate_as_a_root_alone_says_how_to_trust_it() {
    let server = SelfSigned::generate();
    let as_root = || {
        Config::builder()
            .tls_built_in_roots(false)
            .add_root_certificate(Certificate::from_der(server.der().to_vec()))
            .build()
            .unwrap()
    };
    expect_tls_failure_with(
        server.server_config(),
        as_root,
        "add_trusted_server_certificate",
    );
}

#[test]
fn an_exact_leaf_is_trusted_without_its_issuer() {
    let pki = TestPki::generate();
    for leaf in [Leaf::Valid, Leaf::UntrustedIssuer] {
        expect_tls_success(pki.server_config(leaf), || exact(&[pki.leaf_der(leaf)]));
    }
}

#[test]
fn an_exact_certificate_for_another_host_is_refused() {
    let pki = TestPki::generate();
    let leaf = Leaf::WrongHost;
    expect_tls_failure_with(
        pki.server_config(leaf),
        || exact(&[pki.leaf_der(leaf)]),
        "hostname mismatch",
    );
}

#[test]
fn an_exact_expired_certificate_is_refused() {
    let pki = TestPki::generate();
    let leaf = Leaf::Expired;
    expect_tls_failure_with(
        pki.server_config(leaf),
        || exact(&[pki.leaf_der(leaf)]),
        "expired",
    );
}

#[test]
fn a_different_certificate_than_the_exact_one_is_refused() {
    let trusted = SelfSigned::generate();
    let presented = SelfSigned::generate();
    let pki = TestPki::generate();
    // With nothing else trusted, and with roots that do not issue the presented certificate.
    expect_tls_failure_with(
        presented.server_config(),
        || exact(&[trusted.der(), pki.leaf_der(Leaf::Valid)]),
        "unknown (untrusted) authority",
    );
    let with_roots = || {
        Config::builder()
            .add_root_certificate(Certificate::from_der(pki.ca_der().to_vec()))
            .add_trusted_server_certificate(Certificate::from_der(trusted.der().to_vec()))
            .build()
            .unwrap()
    };
    expect_tls_failure_with(
        pki.server_config(Leaf::UntrustedIssuer),
        with_roots,
        "unknown (untrusted) authority",
    );
    // The roots still work next to an exact certificate.
    expect_tls_success(pki.server_config(Leaf::Valid), with_roots);
}

/// A TLS session is resumed with the host and port it was made with only: two servers on one
/// host (here sharing their session storage, so either would accept the other's ticket) never
/// see a session the client made with the other, as with JSSE under OkHttp and with curl.
#[test]
fn sessions_are_resumed_only_on_the_port_they_were_made_with() {
    let pki = TestPki::generate();
    let shared = pki.server_config(Leaf::Valid);
    let closing =
        || Reply::new("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nConnection: close\r\n\r\nx");
    for runtime in Runtime::ALL {
        let a = Origin::builder().tls(shared.clone()).start();
        let b = Origin::builder().tls(shared.clone()).start();
        for _ in 0..2 {
            a.enqueue(closing());
        }
        b.enqueue(closing());
        let urls = [url(&a, "/1"), url(&b, "/2"), url(&a, "/3")];
        let results = runtime.fetch_each(config(&pki), &urls, |_, _| {});
        assert!(
            results.iter().all(Result::is_ok),
            "{runtime:?}: {results:?}"
        );
        assert_eq!(
            b.resumed_count(),
            0,
            "{runtime:?}: a's session offered to b"
        );
        assert_eq!(
            (a.connection_count(), a.resumed_count()),
            (2, 1),
            "{runtime:?}: a's second connection resumes its first"
        );
    }
}
