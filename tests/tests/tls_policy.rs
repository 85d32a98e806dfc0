//! TLS policy on every runtime, against a local TLS origin with generated certificates:
//! certificate pinning (checked against the verified chain only), client certificates,
//! connection specs, the handshake a response reports, and the pool never handing a connection
//! to a client with other TLS settings.

use wayfarer_core::{
    Certificate, CertificatePinner, CipherSuite, ClientBuilder, Config, ConnectionSpec, Error,
    ErrorKind, PrivateKey, Response, TlsVersion,
};
use wayfarer_tests::certs::{Leaf, SelfSigned, TestPki};
use wayfarer_tests::origin::{Origin, Reply};
use wayfarer_tests::run::Runtime;

const OK: &str = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";

/// A builder trusting the test CA only.
fn trusting(pki: &TestPki) -> ClientBuilder<Config> {
    Config::builder()
        .tls_built_in_roots(false)
        .add_root_certificate(Certificate::from_der(pki.ca_der().to_vec()))
}

fn pinned(pattern: &str, pins: &[String]) -> CertificatePinner {
    CertificatePinner::builder()
        .add(pattern, pins)
        .build()
        .expect("valid pins")
}

/// `https://localhost:PORT/path`: by name, so SNI, host matching and pins see `localhost`.
fn url(origin: &Origin, path: &str) -> String {
    format!("https://localhost:{}{path}", origin.addr().port())
}

/// Each runtime GETs `count` URLs of a fresh origin serving `server` with one client built by
/// `config`; `check` sees the runtime, the origin and the results.
fn each_runtime(
    server: &std::sync::Arc<rustls::ServerConfig>,
    count: usize,
    config: impl Fn() -> Config,
    check: impl Fn(Runtime, &Origin, Vec<Result<Response<()>, Error>>),
) {
    for runtime in Runtime::ALL {
        let origin = Origin::builder().tls(server.clone()).start();
        for _ in 0..count {
            origin.enqueue(Reply::new(OK));
        }
        let calls: Vec<(usize, String)> = (0..count)
            .map(|i| (0, url(&origin, &format!("/{i}"))))
            .collect();
        let results = runtime.fetch_on_shared_pool(&[config()], &calls);
        check(runtime, &origin, results);
    }
}

fn expect_ok(runtime: Runtime, results: &[Result<Response<()>, Error>]) {
    for r in results {
        assert_eq!(
            r.as_ref().map(|r| r.status().as_u16()).ok(),
            Some(200),
            "{runtime:?}: {r:?}"
        );
    }
}

fn expect_tls_error(
    runtime: Runtime,
    origin: &Origin,
    result: &Result<Response<()>, Error>,
) -> Error {
    let error = result.as_ref().expect_err("the call must fail").clone();
    assert_eq!(error.kind(), ErrorKind::Tls, "{runtime:?}: {error}");
    assert_eq!(origin.request_count(), 0, "{runtime:?}: nothing was sent");
    error
}

// ------------------------------------------------------------------ pinning

#[test]
fn the_test_pins_are_what_the_client_computes() {
    let pki = TestPki::generate();
    assert_eq!(
        CertificatePinner::pin(&pki.leaf_der(Leaf::Valid)).unwrap(),
        pki.leaf_pin(Leaf::Valid)
    );
}

#[test]
fn a_pin_of_the_leaf_or_of_the_root_lets_the_call_through() {
    let pki = TestPki::generate();
    let server = pki.server_config(Leaf::Valid);
    let wrong = pki.untrusted_ca_pin();
    let cases = [
        ("localhost", vec![pki.leaf_pin(Leaf::Valid)]),
        ("localhost", vec![pki.ca_pin()]),
        ("**.localhost", vec![wrong.clone(), pki.ca_pin()]),
        ("**", vec![pki.leaf_pin(Leaf::Valid), wrong]),
    ];
    for (pattern, pins) in &cases {
        let config = || {
            trusting(&pki)
                .certificate_pinner(pinned(pattern, pins))
                .build()
                .unwrap()
        };
        each_runtime(&server, 2, config, |runtime, origin, results| {
            expect_ok(runtime, &results);
            assert_eq!(
                origin.connection_count(),
                1,
                "{runtime:?} {pattern}: reused"
            );
        });
    }
}

#[test]
fn a_pin_matching_no_key_of_the_verified_chain_fails_once_and_says_why() {
    let pki = TestPki::generate();
    let wrong = pki.untrusted_ca_pin();
    let config = || {
        trusting(&pki)
            .certificate_pinner(pinned("localhost", std::slice::from_ref(&wrong)))
            .build()
            .unwrap()
    };
    each_runtime(
        &pki.server_config(Leaf::Valid),
        1,
        config,
        |runtime, origin, results| {
            let error = expect_tls_error(runtime, origin, &results[0]);
            let failure = error.pinning_failure().expect("a pinning failure");
            assert_eq!(failure.host(), "localhost");
            // The verified chain: the leaf, then the root it chains to (which the server never sent).
            assert_eq!(
                failure.chain_pins().collect::<Vec<_>>(),
                [pki.leaf_pin(Leaf::Valid), pki.ca_pin()],
                "{runtime:?}"
            );
            assert_eq!(failure.pinned(), std::slice::from_ref(&wrong));
            let message = error.to_string();
            for part in [
                "Certificate pinning failure!".to_string(),
                pki.leaf_pin(Leaf::Valid),
                pki.ca_pin(),
                wrong.clone(),
                "CN=localhost".to_string(),
                "Pinned certificates for localhost".to_string(),
            ] {
                assert!(
                    message.contains(&part),
                    "{runtime:?}: {message} lacks {part}"
                );
            }
            assert_eq!(origin.connection_count(), 1, "{runtime:?}: never retried");
        },
    );
}

#[test]
fn a_pinned_certificate_sent_outside_the_verified_chain_does_not_satisfy_the_pin() {
    let pki = TestPki::generate();
    // The server sends the pinned (untrusted) CA's certificate after its own: a chain member
    // that no verified path uses.
    let server = pki
        .server(Leaf::Valid)
        .extra_certificate(pki.untrusted_ca_der())
        .config();
    let config = || {
        trusting(&pki)
            .certificate_pinner(pinned("localhost", &[pki.untrusted_ca_pin()]))
            .build()
            .unwrap()
    };
    each_runtime(&server, 1, config, |runtime, origin, results| {
        let error = expect_tls_error(runtime, origin, &results[0]);
        let failure = error.pinning_failure().expect("a pinning failure");
        assert!(
            !failure.chain_pins().any(|p| p == pki.untrusted_ca_pin()),
            "{runtime:?}: {failure}"
        );
    });
    // The same server is fine for an unpinned client: the extra certificate is just ignored.
    each_runtime(
        &server,
        1,
        || trusting(&pki).build().unwrap(),
        |runtime, _, results| {
            expect_ok(runtime, &results);
        },
    );
}

#[test]
fn pins_for_other_hosts_do_not_apply() {
    let pki = TestPki::generate();
    let wrong = vec![pki.untrusted_ca_pin()];
    let config = || {
        let pinner = CertificatePinner::builder()
            .add("*.localhost", &wrong)
            .add("example.com", &wrong)
            .build()
            .unwrap();
        trusting(&pki).certificate_pinner(pinner).build().unwrap()
    };
    each_runtime(
        &pki.server_config(Leaf::Valid),
        1,
        config,
        |runtime, _, results| {
            expect_ok(runtime, &results);
        },
    );
}

#[test]
fn an_exactly_trusted_certificate_is_pinned_by_its_own_key() {
    let server = SelfSigned::generate();
    let own = CertificatePinner::pin(&server.der()).unwrap();
    let exact = |pin: &str| {
        Config::builder()
            .tls_built_in_roots(false)
            .add_trusted_server_certificate(Certificate::from_der(server.der().to_vec()))
            .certificate_pinner(pinned("localhost", &[pin.to_string()]))
            .build()
            .unwrap()
    };
    each_runtime(
        &server.server_config(),
        1,
        || exact(&own),
        |runtime, _, results| {
            expect_ok(runtime, &results);
        },
    );
    let other = CertificatePinner::pin(&SelfSigned::generate().der()).unwrap();
    each_runtime(
        &server.server_config(),
        1,
        || exact(&other),
        |runtime, origin, results| {
            let error = expect_tls_error(runtime, origin, &results[0]);
            assert!(error.pinning_failure().is_some(), "{runtime:?}: {error}");
        },
    );
}

// ------------------------------------------------------------------ accepting invalid certificates

#[test]
fn accepting_invalid_certificates_accepts_every_broken_one() {
    let pki = TestPki::generate();
    let config = || {
        Config::builder()
            .tls_built_in_roots(false)
            .danger_accept_invalid_certs(true)
            .build()
            .unwrap()
    };
    for leaf in [Leaf::WrongHost, Leaf::Expired, Leaf::UntrustedIssuer] {
        each_runtime(
            &pki.server_config(leaf),
            1,
            config,
            |runtime, _, results| {
                expect_ok(runtime, &results);
            },
        );
    }
}

#[test]
fn accepting_invalid_certificates_still_applies_pins_to_the_servers_own_key() {
    let pki = TestPki::generate();
    let leaf = Leaf::UntrustedIssuer;
    let server = pki
        .server(leaf)
        .extra_certificate(pki.untrusted_ca_der())
        .config();
    let insecure = |pin: String| {
        Config::builder()
            .danger_accept_invalid_certs(true)
            .certificate_pinner(pinned("localhost", &[pin]))
            .build()
            .unwrap()
    };
    each_runtime(
        &server,
        1,
        || insecure(pki.leaf_pin(leaf)),
        |runtime, _, results| {
            expect_ok(runtime, &results);
        },
    );
    // Nothing is verified, so no chain beyond the server's own certificate counts: not even
    // the issuer it sent.
    each_runtime(
        &server,
        1,
        || insecure(pki.untrusted_ca_pin()),
        |runtime, origin, results| {
            let error = expect_tls_error(runtime, origin, &results[0]);
            let failure = error.pinning_failure().expect("a pinning failure");
            assert_eq!(
                failure.chain_pins().collect::<Vec<_>>(),
                [pki.leaf_pin(leaf)]
            );
        },
    );
}

// ------------------------------------------------------------------ client certificates

fn with_client_pem(pki: &TestPki) -> Config {
    let (cert_pem, key_pem) = pki.client_pem();
    trusting(pki)
        .client_certificate(
            Certificate::from_pem_bundle(cert_pem.as_bytes()).unwrap(),
            PrivateKey::from_pem(key_pem.as_bytes()).unwrap(),
        )
        .build()
        .unwrap()
}

#[test]
fn a_client_certificate_from_pem_or_der_is_sent_when_the_server_requires_one() {
    let pki = TestPki::generate();
    let server = pki
        .server(Leaf::Valid)
        .require_client_certificate()
        .config();
    let (cert_der, key_der) = pki.client_der();
    let with_der = || {
        trusting(&pki)
            .client_certificate(
                vec![Certificate::from_der(cert_der.to_vec())],
                PrivateKey::from_der(key_der.clone()).unwrap(),
            )
            .build()
            .unwrap()
    };
    for config in [&with_der as &dyn Fn() -> Config, &|| with_client_pem(&pki)] {
        each_runtime(&server, 2, config, |runtime, origin, results| {
            expect_ok(runtime, &results);
            for r in &results {
                let handshake = r.as_ref().unwrap().handshake().expect("https");
                assert_eq!(
                    handshake.local_certificates(),
                    [Certificate::from_der(cert_der.to_vec())],
                    "{runtime:?}"
                );
            }
            assert_eq!(origin.connection_count(), 1, "{runtime:?}");
        });
    }
}

#[test]
fn a_server_that_requires_a_client_certificate_refuses_a_client_without_one() {
    let pki = TestPki::generate();
    let server = pki
        .server(Leaf::Valid)
        .require_client_certificate()
        .config();
    for runtime in Runtime::ALL {
        let origin = Origin::builder().tls(server.clone()).start();
        origin.enqueue(Reply::new(OK));
        let results = runtime.fetch_on_shared_pool(
            &[trusting(&pki).build().unwrap()],
            &[(0, url(&origin, "/"))],
        );
        // With TLS 1.3 the client's side of the handshake is done before the server checks its
        // certificate, so the refusal (an alert) arrives instead of the response.
        let error = results[0].as_ref().expect_err("refused");
        assert_eq!(error.kind(), ErrorKind::Tls, "{runtime:?}: {error}");
        assert!(
            error.to_string().contains("requires a client certificate"),
            "{runtime:?}: {error}"
        );
        assert_eq!(
            origin.request_count(),
            0,
            "{runtime:?}: the server read no request"
        );
    }
}

#[test]
fn a_client_certificate_is_not_sent_to_a_server_that_does_not_ask() {
    let pki = TestPki::generate();
    each_runtime(
        &pki.server_config(Leaf::Valid),
        1,
        || with_client_pem(&pki),
        |runtime, _, results| {
            expect_ok(runtime, &results);
            let handshake = results[0].as_ref().unwrap().handshake().expect("https");
            assert!(handshake.local_certificates().is_empty(), "{runtime:?}");
        },
    );
}

// ------------------------------------------------------------------ connection specs

#[test]
fn a_tls_1_3_only_client_and_a_tls_1_2_only_server_do_not_connect() {
    let pki = TestPki::generate();
    let server = pki
        .server(Leaf::Valid)
        .versions(&[&rustls::version::TLS12])
        .config();
    let config = || {
        trusting(&pki)
            .connection_specs([ConnectionSpec::MODERN_TLS.with_tls_versions([TlsVersion::Tls1_3])])
            .build()
            .unwrap()
    };
    each_runtime(&server, 1, config, |runtime, origin, results| {
        let error = expect_tls_error(runtime, origin, &results[0]);
        assert!(
            error.to_string().contains("TLS version"),
            "{runtime:?}: {error}"
        );
    });
    // The default specs offer TLS 1.2 as well.
    each_runtime(
        &server,
        1,
        || trusting(&pki).build().unwrap(),
        |runtime, _, results| {
            expect_ok(runtime, &results);
            let handshake = results[0].as_ref().unwrap().handshake().unwrap().clone();
            assert_eq!(handshake.tls_version(), TlsVersion::Tls1_2, "{runtime:?}");
        },
    );
}

#[test]
fn a_tls_1_2_spec_negotiates_its_version_and_suite() {
    let pki = TestPki::generate();
    let suite = CipherSuite::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256;
    let config = || {
        trusting(&pki)
            .connection_specs([ConnectionSpec::COMPATIBLE_TLS
                .with_tls_versions([TlsVersion::Tls1_2])
                .with_cipher_suites([suite])])
            .build()
            .unwrap()
    };
    each_runtime(
        &pki.server_config(Leaf::Valid),
        1,
        config,
        |runtime, _, results| {
            expect_ok(runtime, &results);
            let handshake = results[0].as_ref().unwrap().handshake().unwrap().clone();
            assert_eq!(handshake.tls_version(), TlsVersion::Tls1_2, "{runtime:?}");
            assert_eq!(handshake.cipher_suite(), suite, "{runtime:?}");
        },
    );
}

#[test]
fn no_cipher_suite_in_common_fails_the_handshake() {
    let pki = TestPki::generate();
    let server = pki
        .server(Leaf::Valid)
        .cipher_suites(&[CipherSuite::TLS13_CHACHA20_POLY1305_SHA256])
        .config();
    let config = || {
        trusting(&pki)
            .connection_specs([ConnectionSpec::MODERN_TLS
                .with_cipher_suites([CipherSuite::TLS13_AES_256_GCM_SHA384])])
            .build()
            .unwrap()
    };
    each_runtime(&server, 1, config, |runtime, origin, results| {
        let error = expect_tls_error(runtime, origin, &results[0]);
        assert!(
            error.to_string().contains("refused the handshake"),
            "{runtime:?}: {error}"
        );
    });
}

#[test]
fn a_cleartext_only_client_refuses_https_and_a_tls_only_client_refuses_http() {
    let pki = TestPki::generate();
    for runtime in Runtime::ALL {
        let secure = Origin::builder()
            .tls(pki.server_config(Leaf::Valid))
            .start();
        let plain = Origin::start();
        plain.enqueue(Reply::new(OK));
        let cleartext_only = trusting(&pki)
            .connection_specs([ConnectionSpec::CLEARTEXT])
            .build()
            .unwrap();
        let tls_only = trusting(&pki)
            .connection_specs([ConnectionSpec::MODERN_TLS])
            .build()
            .unwrap();
        let results = runtime.fetch_on_shared_pool(
            &[cleartext_only, tls_only],
            &[
                (0, url(&secure, "/")),
                (1, plain.url("/")),
                (0, plain.url("/")),
            ],
        );
        for (i, words) in [
            (0, "https is not enabled"),
            (1, "CLEARTEXT communication not enabled"),
        ] {
            let error = results[i].as_ref().expect_err("refused");
            assert_eq!(
                error.kind(),
                ErrorKind::InvalidInput,
                "{runtime:?}: {error}"
            );
            assert!(error.to_string().contains(words), "{runtime:?}: {error}");
        }
        assert_eq!(secure.connection_count(), 0, "{runtime:?}");
        assert_eq!(
            results[2].as_ref().map(|r| r.status().as_u16()).ok(),
            Some(200)
        );
        assert_eq!(
            plain.connection_count(),
            1,
            "{runtime:?}: only the allowed call connected"
        );
    }
}

#[test]
fn a_redirect_to_a_forbidden_scheme_is_refused_before_connecting() {
    let pki = TestPki::generate();
    for runtime in Runtime::ALL {
        let plain = Origin::start();
        let secure = Origin::builder()
            .tls(pki.server_config(Leaf::Valid))
            .start();
        secure.enqueue(Reply::new(format!(
            "HTTP/1.1 302 Found\r\nLocation: {}\r\nContent-Length: 0\r\n\r\n",
            plain.url("/target")
        )));
        let tls_only = trusting(&pki)
            .connection_specs([ConnectionSpec::MODERN_TLS])
            .build()
            .unwrap();
        let results = runtime.fetch_on_shared_pool(&[tls_only], &[(0, url(&secure, "/"))]);
        let error = results[0].as_ref().expect_err("refused");
        assert_eq!(
            error.kind(),
            ErrorKind::InvalidInput,
            "{runtime:?}: {error}"
        );
        assert_eq!(plain.connection_count(), 0, "{runtime:?}");
        assert_eq!(secure.request_count(), 1, "{runtime:?}");
    }
}

// ------------------------------------------------------------------ handshake

#[test]
fn a_response_reports_its_connections_handshake() {
    let pki = TestPki::generate();
    each_runtime(
        &pki.server_config(Leaf::Valid),
        2,
        || trusting(&pki).build().unwrap(),
        |runtime, origin, results| {
            expect_ok(runtime, &results);
            let first = results[0]
                .as_ref()
                .unwrap()
                .handshake()
                .expect("https")
                .clone();
            assert_eq!(first.tls_version(), TlsVersion::Tls1_3, "{runtime:?}");
            assert!(
                [
                    CipherSuite::TLS13_AES_128_GCM_SHA256,
                    CipherSuite::TLS13_AES_256_GCM_SHA384,
                    CipherSuite::TLS13_CHACHA20_POLY1305_SHA256
                ]
                .contains(&first.cipher_suite()),
                "{runtime:?}: {first:?}"
            );
            assert_eq!(
                first.peer_certificates(),
                [Certificate::from_der(pki.leaf_der(Leaf::Valid).to_vec())],
                "{runtime:?}: the chain as the server sent it"
            );
            assert!(first.local_certificates().is_empty());
            // The second response came over the same (pooled) connection.
            assert_eq!(origin.connection_count(), 1);
            assert_eq!(
                results[1].as_ref().unwrap().handshake(),
                Some(&first),
                "{runtime:?}"
            );
        },
    );
}

#[test]
fn a_plain_http_response_has_no_handshake() {
    for runtime in Runtime::ALL {
        let origin = Origin::start();
        origin.enqueue(Reply::new(OK));
        let results = runtime.fetch_on_shared_pool(&[Config::default()], &[(0, origin.url("/"))]);
        let response = results[0].as_ref().expect("200");
        assert!(response.handshake().is_none(), "{runtime:?}");
    }
}

// ------------------------------------------------------------------ the pool and TLS identities

#[test]
fn a_pooled_connection_is_only_handed_to_a_client_with_the_same_tls_settings() {
    let pki = TestPki::generate();
    let (cert_pem, key_pem) = pki.client_pem();
    let configs = [
        // 0: the base client.
        trusting(&pki).build().unwrap(),
        // 1: the same trust, plus a client certificate.
        trusting(&pki)
            .client_certificate(
                Certificate::from_pem_bundle(cert_pem.as_bytes()).unwrap(),
                PrivateKey::from_pem(key_pem.as_bytes()).unwrap(),
            )
            .build()
            .unwrap(),
        // 2: no verification at all: its connections must never serve a verifying client.
        trusting(&pki)
            .danger_accept_invalid_certs(true)
            .build()
            .unwrap(),
        // 3: pinned.
        trusting(&pki)
            .certificate_pinner(pinned("localhost", &[pki.ca_pin()]))
            .build()
            .unwrap(),
        // 4: TLS 1.2 only.
        trusting(&pki)
            .connection_specs([ConnectionSpec::MODERN_TLS.with_tls_versions([TlsVersion::Tls1_2])])
            .build()
            .unwrap(),
        // 5: built separately, with exactly the base client's settings.
        trusting(&pki).build().unwrap(),
    ];
    for runtime in Runtime::ALL {
        let origin = Origin::builder()
            .tls(pki.server_config(Leaf::Valid))
            .start();
        let order = [2, 0, 1, 3, 4, 5, 2, 1, 0];
        for _ in order {
            origin.enqueue(Reply::new(OK));
        }
        let calls: Vec<(usize, String)> = order
            .iter()
            .map(|&i| (i, url(&origin, &format!("/{i}"))))
            .collect();
        let results = runtime.fetch_on_shared_pool(&configs, &calls);
        expect_ok(runtime, &results);
        // One connection per distinct identity (0 and 5 share one), each reused later.
        assert_eq!(origin.connection_count(), 5, "{runtime:?}");
        let version = |i: usize| {
            results[i]
                .as_ref()
                .unwrap()
                .handshake()
                .unwrap()
                .tls_version()
        };
        assert_eq!(version(4), TlsVersion::Tls1_2, "{runtime:?}");
        assert_eq!(version(5), TlsVersion::Tls1_3, "{runtime:?}");
    }
}
