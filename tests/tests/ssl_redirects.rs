//! Redirects between `https` and `http`, which the vectors (plain HTTP only) cannot express: a
//! TLS origin redirecting to a plain one and back, with `follow_ssl_redirects` on (the default)
//! and off, on every runtime.

use wayfarer_core::{Certificate, ClientBuilder, Config, Request};
use wayfarer_tests::certs::{Leaf, TestPki};
use wayfarer_tests::origin::{Origin, Reply};
use wayfarer_tests::run::Runtime;

fn builder<C>(pki: &TestPki) -> ClientBuilder<C> {
    ClientBuilder::new()
        .tls_built_in_roots(false)
        .add_root_certificate(Certificate::from_der(pki.ca_der().to_vec()))
}

fn redirect_to(location: &str) -> Reply {
    Reply::new(format!(
        "HTTP/1.1 302 Found\r\nLocation: {location}\r\nContent-Length: 0\r\n\r\n"
    ))
}

fn ok(body: &str) -> Reply {
    Reply::new(format!(
        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    ))
}

/// `https://localhost:PORT/path` for the TLS origin (its certificate names localhost).
fn secure_url(origin: &Origin, path: &str) -> String {
    format!("https://localhost:{}{path}", origin.addr().port())
}

/// Each runtime's status for one GET of `url`, with `follow_ssl_redirects` as given.
fn statuses(pki: &TestPki, follow: bool, url: &str) -> Vec<u16> {
    Runtime::ALL
        .iter()
        .map(|runtime| {
            let config: Config = builder(pki)
                .follow_ssl_redirects(follow)
                .build()
                .expect("config");
            let results = runtime.fetch_each(config, &[url.to_owned()], |_, _| {});
            match &results[0] {
                Ok(status) => *status,
                Err(e) => panic!("{runtime:?}: {e}"),
            }
        })
        .collect()
}

#[test]
fn https_to_http_is_not_followed_when_ssl_redirects_are_off() {
    let pki = TestPki::generate();
    let secure = Origin::builder()
        .tls(pki.server_config(Leaf::Valid))
        .start();
    let plain = Origin::start();
    for _ in Runtime::ALL {
        secure.enqueue(redirect_to(&plain.url("/plain")));
    }
    assert_eq!(
        statuses(&pki, false, &secure_url(&secure, "/a")),
        [302, 302, 302]
    );
    assert_eq!(plain.request_count(), 0);
}

#[test]
fn https_to_http_is_followed_by_default_without_the_callers_credentials() {
    let pki = TestPki::generate();
    let secure = Origin::builder()
        .tls(pki.server_config(Leaf::Valid))
        .start();
    let plain = Origin::start();
    for _ in Runtime::ALL {
        secure.enqueue(redirect_to(&plain.url("/plain")));
        plain.enqueue(ok("plain"));
    }
    assert_eq!(
        statuses(&pki, true, &secure_url(&secure, "/a")),
        [200, 200, 200]
    );
    assert_eq!(plain.request_count(), 3);

    // The details, on the blocking client: the final URL, the prior 302, and no credentials
    // carried from the https origin to the http one.
    secure.enqueue(redirect_to(&plain.url("/plain")));
    plain.enqueue(ok("plain"));
    let client: wayfarer_blocking::Client = builder(&pki).build().expect("client");
    let request = Request::get(secure_url(&secure, "/a"))
        .header("Authorization", "Bearer secret")
        .header("Cookie", "id=1")
        .build()
        .expect("request");
    let response = client.new_call(request).execute().expect("call");
    assert_eq!(response.request().url().as_str(), plain.url("/plain"));
    assert_eq!(
        response.prior_response().map(|p| p.status().as_u16()),
        Some(302)
    );
    assert_eq!(response.text().expect("body"), "plain");
    for _ in 0..3 {
        plain.take_request();
    }
    let last = plain.take_request();
    assert!(
        !last
            .headers
            .iter()
            .any(|(n, _)| n.eq_ignore_ascii_case("authorization")
                || n.eq_ignore_ascii_case("cookie")),
        "{last:?}"
    );
}

#[test]
fn http_to_https_follows_the_same_switch() {
    let pki = TestPki::generate();
    let secure = Origin::builder()
        .tls(pki.server_config(Leaf::Valid))
        .start();
    let plain = Origin::start();
    let target = secure_url(&secure, "/secure");
    for _ in 0..2 {
        for _ in Runtime::ALL {
            plain.enqueue(redirect_to(&target));
        }
    }
    for _ in Runtime::ALL {
        secure.enqueue(ok("secure"));
    }
    assert_eq!(statuses(&pki, false, &plain.url("/a")), [302, 302, 302]);
    assert_eq!(secure.request_count(), 0);
    assert_eq!(statuses(&pki, true, &plain.url("/a")), [200, 200, 200]);
    assert_eq!(secure.request_count(), 3);
}
