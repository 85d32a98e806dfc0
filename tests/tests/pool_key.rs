//! Clients derived from one another share a pool; a connection is shared only where the
//! settings that made it agree. Name resolution is one of them (OkHttp's `Address` compares
//! `dns` too): a client whose resolver differs never rides a connection another client made
//! to an address its own resolver would not have given it.

use std::net::IpAddr;

use wayfarer_core::{Config, Request};
use wayfarer_tests::origin::{Origin, Reply};

fn ok(body: &str) -> Reply {
    Reply::new(format!(
        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    ))
}

fn get(client: &wayfarer_blocking::Client, url: &str) -> Result<String, wayfarer_core::Error> {
    client
        .new_call(Request::get(url).build().unwrap())
        .execute()?
        .into_body()
        .text()
}

#[test]
fn a_derived_client_with_another_resolver_makes_its_own_connection() {
    let origin = Origin::start();
    origin.enqueue(ok("a"));
    let port = origin.addr().port();
    let a = wayfarer_blocking::Client::from(
        Config::builder()
            .resolve(&format!("staging.test:{port}:127.0.0.1"))
            .build()
            .unwrap(),
    );
    let url = format!("http://staging.test:{port}/");
    assert_eq!(get(&a, &url).unwrap(), "a");
    assert_eq!(a.idle_count(), 1);
    let b = a.with_config(
        Config::builder()
            .dns(|host: &str| -> std::io::Result<Vec<IpAddr>> {
                Err(std::io::Error::other(format!("no such host {host}")))
            })
            .build()
            .unwrap(),
    );
    let e = get(&b, &url).unwrap_err();
    assert_eq!(e.kind(), wayfarer_core::ErrorKind::Dns, "{e}");
    assert_eq!(origin.request_count(), 1);
}

#[test]
fn a_derived_client_that_keeps_the_resolver_shares_the_connection() {
    let origin = Origin::start();
    origin.enqueue(ok("a"));
    origin.enqueue(ok("b"));
    let port = origin.addr().port();
    let a = wayfarer_blocking::Client::from(
        Config::builder()
            .resolve(&format!("staging.test:{port}:127.0.0.1"))
            .build()
            .unwrap(),
    );
    let url = format!("http://staging.test:{port}/");
    assert_eq!(get(&a, &url).unwrap(), "a");
    let b = a
        .new_builder()
        .read_timeout(std::time::Duration::from_secs(3))
        .build()
        .unwrap();
    assert_eq!(get(&b, &url).unwrap(), "b");
    assert_eq!(b.connection_count(), 1, "one connection served both");
}
