//! The TLS flags beyond `--cacert`, run as a user would: `--pinnedpubkey`, `--cert`/`--key` and
//! `-k`/`--insecure`, against an in-process TLS server with generated certificates.

mod common;

use std::sync::Arc;

use common::*;
use wayfarer_tests::certs::{Leaf, TestPki};

const WARNING: &str = "wayfarer: warning: --insecure: the server's certificate is not verified";

/// A file in a temporary directory.
fn file(dir: &tempfile::TempDir, name: &str, contents: &str) -> String {
    let path = dir.path().join(name);
    std::fs::write(&path, contents).unwrap();
    path.to_str().unwrap().to_string()
}

/// Serves one TLS connection with `config`, answering `secure`.
fn server(config: Arc<rustls::ServerConfig>) -> Server {
    Server::start(vec![Reply::Tls(config, response("200 OK", "", b"secure"))])
}

fn url(server: &Server) -> String {
    format!("https://localhost:{}/s", server.port)
}

/// `sha256//BASE64`, curl's form, of a `sha256/BASE64` pin.
fn curl_pin(pin: &str) -> String {
    pin.replacen("sha256/", "sha256//", 1)
}

#[test]
fn pinnedpubkey_accepts_a_chain_holding_one_of_the_keys() {
    let pki = TestPki::generate();
    let dir = tempfile::tempdir().unwrap();
    let ca = file(&dir, "ca.pem", &pki.ca_pem());
    let wrong = curl_pin(&pki.untrusted_ca_pin());
    for pins in [
        curl_pin(&pki.leaf_pin(Leaf::Valid)),
        format!("{wrong};{}", curl_pin(&pki.ca_pin())),
    ] {
        let server = server(pki.server_config(Leaf::Valid));
        let output = wayfarer(&["--cacert", &ca, "--pinnedpubkey", &pins, &url(&server)]);
        assert_exit(&output, 0);
        assert_eq!(output.stdout, b"secure");
        assert_eq!(server.only_request().target, "/s");
    }
}

#[test]
fn pinnedpubkey_without_a_matching_key_exits_90_naming_the_keys() {
    let pki = TestPki::generate();
    let dir = tempfile::tempdir().unwrap();
    let ca = file(&dir, "ca.pem", &pki.ca_pem());
    let server = server(pki.server_config(Leaf::Valid));
    let wrong = pki.untrusted_ca_pin();
    let output = wayfarer(&[
        "--cacert",
        &ca,
        "--pinnedpubkey",
        &curl_pin(&wrong),
        &url(&server),
    ]);
    assert_exit(&output, 90);
    let line = assert_error_line(&output, 90);
    for part in [
        "Certificate pinning failure!".to_string(),
        pki.leaf_pin(Leaf::Valid),
        pki.ca_pin(),
        wrong,
    ] {
        assert!(line.contains(&part), "{line} lacks {part}");
    }
    assert!(output.stdout.is_empty());
}

#[test]
fn a_malformed_pinnedpubkey_is_a_command_line_error() {
    for bad in ["/etc/ssl/key.pem", "sha256//not-base64!", "sha256//AAAA"] {
        let output = wayfarer(&["--pinnedpubkey", bad, "https://127.0.0.1:9/"]);
        assert_exit(&output, 2);
    }
}

#[test]
fn cert_and_key_answer_a_server_that_requires_a_client_certificate() {
    let pki = TestPki::generate();
    let dir = tempfile::tempdir().unwrap();
    let ca = file(&dir, "ca.pem", &pki.ca_pem());
    let (cert_pem, key_pem) = pki.client_pem();
    let cert = file(&dir, "client.crt", &cert_pem);
    let key = file(&dir, "client.key", &key_pem);
    let both = file(&dir, "client.pem", &format!("{cert_pem}{key_pem}"));
    let requiring = pki
        .server(Leaf::Valid)
        .require_client_certificate()
        .config();
    for flags in [vec!["--cert", &cert, "--key", &key], vec!["-E", &both]] {
        let server = server(requiring.clone());
        let mut args = vec!["--cacert", ca.as_str()];
        args.extend(flags);
        let url = url(&server);
        args.push(&url);
        let output = wayfarer(&args);
        assert_exit(&output, 0);
        assert_eq!(output.stdout, b"secure");
    }
    // Without one, the server refuses the handshake.
    let server = server(requiring);
    let output = wayfarer(&["--cacert", &ca, &url(&server)]);
    assert_exit(&output, 35);
    assert!(assert_error_line(&output, 35).contains("requires a client certificate"));
}

#[test]
fn an_unusable_cert_or_key_exits_58() {
    let pki = TestPki::generate();
    let dir = tempfile::tempdir().unwrap();
    let (cert_pem, _) = pki.client_pem();
    let (_, other_key) = pki.leaf_pem(Leaf::Valid);
    let cert = file(&dir, "client.crt", &cert_pem);
    let garbage = file(&dir, "garbage.pem", "not pem at all");
    let wrong_key = file(&dir, "wrong.key", &other_key);
    for flags in [
        vec!["--cert", "/nonexistent/client.crt"],
        vec!["--cert", &garbage],
        vec!["--cert", &cert], // no key in the file, and no --key
        vec!["--cert", &cert, "--key", &garbage],
        vec!["--cert", &cert, "--key", &wrong_key],
    ] {
        let mut args = flags.clone();
        args.push("https://127.0.0.1:9/");
        let output = wayfarer(&args);
        assert_exit(&output, 58);
        assert!(
            assert_error_line(&output, 58).contains("client certificate"),
            "{flags:?}"
        );
    }
    // --key alone is a command-line error, as it means nothing without --cert.
    assert_exit(&wayfarer(&["--key", &wrong_key, "https://127.0.0.1:9/"]), 2);
}

#[test]
fn insecure_accepts_an_unverifiable_certificate_and_warns_every_time() {
    let pki = TestPki::generate();
    for flags in [vec!["-k"], vec!["--insecure"], vec!["-k", "-s"]] {
        for leaf in [Leaf::UntrustedIssuer, Leaf::Expired, Leaf::WrongHost] {
            let server = server(pki.server_config(leaf));
            let mut args = flags.clone();
            let url = url(&server);
            args.push(&url);
            let output = wayfarer(&args);
            assert_exit(&output, 0);
            assert_eq!(output.stdout, b"secure", "{flags:?} {leaf:?}");
            let err = stderr(&output);
            assert_eq!(err.lines().count(), 1, "{err}");
            assert!(err.starts_with(WARNING), "{flags:?}: {err}");
        }
    }
    // Without it, the same server is refused.
    let server = server(pki.server_config(Leaf::UntrustedIssuer));
    let output = wayfarer(&[&url(&server)]);
    assert_exit(&output, 60);
    assert!(!stderr(&output).contains("warning"));
}

#[test]
fn insecure_still_checks_pinnedpubkey_against_the_servers_own_key() {
    let pki = TestPki::generate();
    let leaf = Leaf::UntrustedIssuer;
    let server_ok = server(pki.server_config(leaf));
    let pin = curl_pin(&pki.leaf_pin(leaf));
    let output = wayfarer(&["-k", "--pinnedpubkey", &pin, &url(&server_ok)]);
    assert_exit(&output, 0);
    let server_other = server(pki.server_config(leaf));
    let output = wayfarer(&[
        "-k",
        "--pinnedpubkey",
        &curl_pin(&pki.untrusted_ca_pin()),
        &url(&server_other),
    ]);
    assert_exit(&output, 90);
    let err = stderr(&output);
    assert!(err.starts_with(WARNING), "{err}");
    assert!(
        err.contains("wayfarer: (90) TLS: Certificate pinning failure!"),
        "{err}"
    );
}
