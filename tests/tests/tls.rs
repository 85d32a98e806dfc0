//! HTTPS through the core's rustls session, on every runtime, against a local TLS origin whose
//! certificates are generated for the test: a trusted certificate succeeds (with the connection
//! reused for a second request); a certificate for another host, one from an untrusted issuer,
//! and an expired one each fail with a `Tls` error that says why.

use wayfarer_core::{Certificate, Config, ErrorKind};
use wayfarer_tests::certs::{Leaf, TestPki};
use wayfarer_tests::origin::{Origin, Reply};
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

fn expect_tls_failure(leaf: Leaf, why: &str) {
    let pki = TestPki::generate();
    for runtime in Runtime::ALL {
        let origin = Origin::builder().tls(pki.server_config(leaf)).start();
        origin.enqueue(Reply::new("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"));
        let results = runtime.fetch_each(config(&pki), &[url(&origin, "/")], |_, _| {});
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
