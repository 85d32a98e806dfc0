//! `--proxy`, `--noproxy` and `--resolve`, run as a user would, against an in-process server
//! that plays the proxy (it records the request target it was sent) or the origin.

mod common;

use std::process::Command;

use common::*;

/// Runs the command with no proxy variables in its environment, plus `env`.
fn run(args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    let mut command = Command::new(BIN);
    for name in [
        "http_proxy",
        "https_proxy",
        "all_proxy",
        "no_proxy",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "NO_PROXY",
    ] {
        command.env_remove(name);
    }
    command
        .envs(env.iter().copied())
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn proxy_gets_the_request_in_absolute_form() {
    let proxy = Server::start(vec![ok(b"via proxy")]);
    let proxy_url = format!("http://127.0.0.1:{}", proxy.port);
    let output = run(
        &["--proxy", &proxy_url, "http://origin.test:8080/a?b=c"],
        &[],
    );
    assert_exit(&output, 0);
    assert_eq!(output.stdout, b"via proxy");
    let request = proxy.only_request();
    assert_eq!(request.target, "http://origin.test:8080/a?b=c");
    assert_eq!(request.header("host"), Some("origin.test:8080"));
}

#[test]
fn proxy_credentials_answer_a_407_and_never_reach_the_url() {
    let proxy = Server::start(vec![
        Reply::Send(response(
            "407 Proxy Authentication Required",
            "Proxy-Authenticate: Basic realm=\"p\"\r\n",
            b"",
        )),
        ok(b"authorized"),
    ]);
    let proxy_url = format!("http://alice:s3cret@127.0.0.1:{}", proxy.port);
    let output = run(&["-x", &proxy_url, "http://origin.test/"], &[]);
    assert_exit(&output, 0);
    assert_eq!(output.stdout, b"authorized");
    let requests = proxy.requests();
    assert_eq!(requests.len(), 2, "{requests:?}");
    assert_eq!(requests[0].header("proxy-authorization"), None);
    assert_eq!(
        requests[1].header("proxy-authorization"),
        Some("Basic YWxpY2U6czNjcmV0")
    );
}

#[test]
fn noproxy_and_no_proxy_send_matching_hosts_directly() {
    let origin = Server::start(vec![ok(b"direct"), ok(b"direct")]);
    // Nothing listens on the proxy's port: only a direct call can succeed.
    let output = run(
        &[
            "--proxy",
            "http://127.0.0.1:9",
            "--noproxy",
            "127.0.0.1",
            &origin.url("/"),
        ],
        &[],
    );
    assert_exit(&output, 0);
    assert_eq!(output.stdout, b"direct");
    let output = run(
        &[&origin.url("/")],
        &[
            ("http_proxy", "http://127.0.0.1:9"),
            ("no_proxy", "127.0.0.0/8"),
        ],
    );
    assert_exit(&output, 0);
}

#[test]
fn the_environment_proxy_is_used_without_the_flag() {
    let proxy = Server::start(vec![ok(b"env proxy")]);
    let proxy_url = format!("127.0.0.1:{}", proxy.port);
    let output = run(&["http://origin.test/x"], &[("http_proxy", &proxy_url)]);
    assert_exit(&output, 0);
    assert_eq!(proxy.only_request().target, "http://origin.test/x");
}

#[test]
fn resolve_sends_a_name_to_the_given_address() {
    let origin = Server::start(vec![ok(b"resolved")]);
    let port = origin.port.to_string();
    let spec = format!("origin.invalid:{port}:127.0.0.1");
    let url = format!("http://origin.invalid:{port}/r");
    let output = run(&["--resolve", &spec, &url], &[]);
    assert_exit(&output, 0);
    assert_eq!(output.stdout, b"resolved");
    let request = origin.only_request();
    assert_eq!(request.target, "/r");
    assert_eq!(
        request.header("host"),
        Some(format!("origin.invalid:{port}").as_str())
    );
}

#[test]
fn bad_proxy_and_resolve_values_are_command_line_errors() {
    assert_exit(&run(&["--proxy", "ftp://p:1", "http://a.test/"], &[]), 2);
    assert_exit(&run(&["--resolve", "no-port", "http://a.test/"], &[]), 2);
}

#[test]
fn an_empty_proxy_goes_direct_whatever_the_environment_says() {
    let origin = Server::start(vec![ok(b"direct")]);
    let output = run(
        &["-x", "", &origin.url("/d")],
        &[("http_proxy", "http://127.0.0.1:1")],
    );
    assert_exit(&output, 0);
    assert_eq!(output.stdout, b"direct");
    assert_eq!(origin.only_request().target, "/d");
}
