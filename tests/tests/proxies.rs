//! Interop with real proxies, started by the tests as the current user on loopback ports:
//! tinyproxy for plain requests in absolute form and `CONNECT` tunnels (with Basic
//! authentication answering its `407`), and dante for SOCKS5 with local and remote DNS. Every
//! runtime fetches nginx's small file through each and compares the bytes.
//!
//! These tests fail, never skip, when a proxy is missing or cannot start: `.ci/run` installs
//! tinyproxy and dante-server.

use wayfarer_core::{Certificate, Config, ErrorKind, Proxy};
use wayfarer_tests::certs::{Leaf, TestPki};
use wayfarer_tests::nginx::{Nginx, NginxOptions, SMALL, SMALL_TXT};
use wayfarer_tests::proxies::ProxyServer;
use wayfarer_tests::run::Runtime;

fn tinyproxy(auth: Option<(&str, &str)>) -> ProxyServer {
    ProxyServer::tinyproxy(auth)
        .unwrap_or_else(|e| panic!("tinyproxy must start (install the `tinyproxy` package): {e}"))
}

fn dante() -> ProxyServer {
    ProxyServer::dante()
        .unwrap_or_else(|e| panic!("danted must start (install the `dante-server` package): {e}"))
}

/// GETs `url` on every runtime with `config()`, expecting the small file.
fn fetch_small(config: impl Fn() -> Config, url: &str, proxy: &ProxyServer) {
    for runtime in Runtime::ALL {
        let mut body = Vec::new();
        let results = runtime.fetch_each(config(), &[url.to_owned()], |_, chunk| {
            body.extend_from_slice(chunk)
        });
        match &results[0] {
            Ok(200) => {}
            other => panic!("{runtime:?}: {url}: {other:?}\n{}", proxy.diagnostics()),
        }
        assert_eq!(body, SMALL_TXT, "{runtime:?}: {url}");
    }
}

#[test]
fn plain_requests_through_tinyproxy() {
    let nginx = Nginx::start(NginxOptions::default()).expect("nginx must start");
    let proxy = tinyproxy(None);
    let config = || {
        Config::builder()
            .proxy(Proxy::http("127.0.0.1", proxy.port()))
            .build()
            .unwrap()
    };
    let url = nginx.url(SMALL);
    fetch_small(config, &url, &proxy);
    // tinyproxy logs each request it forwarded, with its absolute URL.
    let log = proxy.diagnostics();
    assert!(log.contains(&url), "the proxy did not see {url}:\n{log}");
}

#[test]
fn https_through_a_tinyproxy_tunnel_with_basic_authentication() {
    let pki = TestPki::generate();
    let nginx = Nginx::start(NginxOptions {
        tls: Some(pki.leaf_pem(Leaf::Valid)),
    })
    .expect("nginx must start with TLS");
    let proxy = tinyproxy(Some(("alice", "s3cret")));
    let config = |password: &str| {
        let proxy = Proxy::parse(&format!(
            "http://alice:{password}@127.0.0.1:{}",
            proxy.port()
        ));
        Config::builder()
            .proxy(proxy.unwrap())
            .add_root_certificate(Certificate::from_der(pki.ca_der().to_vec()))
            .build()
            .unwrap()
    };
    let url = nginx.url(SMALL);
    assert!(url.starts_with("https://"));
    // tinyproxy answers the first CONNECT with a 407 and `Connection: close`: the credentials
    // go on a new connection.
    fetch_small(|| config("s3cret"), &url, &proxy);
    let log = proxy.diagnostics();
    assert!(log.contains("CONNECT"), "{log}");

    for runtime in Runtime::ALL {
        let results = runtime.fetch_each(config("wrong"), std::slice::from_ref(&url), |_, _| {});
        match &results[0] {
            Err(e) => {
                // tinyproxy answers refused credentials with a 401 rather than another 407:
                // either way the tunnel is refused and the call ends with a proxy error.
                assert_eq!(e.kind(), ErrorKind::Proxy, "{runtime:?}: {e}");
                assert!(e.to_string().contains("CONNECT localhost:"), "{e}");
            }
            other => panic!("{runtime:?}: wrong credentials: {other:?}"),
        }
    }
}

#[test]
fn socks5_through_dante_with_local_and_remote_dns() {
    let nginx = Nginx::start(NginxOptions::default()).expect("nginx must start");
    let proxy = dante();
    let port = proxy.port();
    let url = nginx.url(SMALL);
    let local = || {
        Config::builder()
            .proxy(Proxy::socks5("127.0.0.1", port))
            .build()
            .unwrap()
    };
    fetch_small(local, &url, &proxy);
    // socks5h: the name goes to the proxy, which resolves it (the client never looks it up:
    // its resolver is told to fail).
    let by_name = url.replace("127.0.0.1", "localhost");
    let remote = || {
        Config::builder()
            .proxy(Proxy::socks5("127.0.0.1", port).with_remote_dns(true))
            .dns(|host: &str| -> std::io::Result<Vec<std::net::IpAddr>> {
                Err(std::io::Error::other(format!("no lookups here: {host}")))
            })
            .build()
            .unwrap()
    };
    fetch_small(remote, &by_name, &proxy);
}
