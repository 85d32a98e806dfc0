//! The `wayfarer` binary, run as a user would, against a small in-process HTTP server
//! (`common`).

mod common;

use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Output};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;
use wayfarer_tests::certs::{Leaf, SelfSigned, TestPki};
use wayfarer_tests::unreachable::Unanswered;

#[test]
fn get_writes_the_body_to_stdout() {
    let server = Server::start(vec![ok(b"hello\n")]);
    let output = wayfarer(&[&server.url("/path?q=1")]);
    assert_exit(&output, 0);
    assert_eq!(output.stdout, b"hello\n");
    assert_eq!(stderr(&output), "");
    let request = server.only_request();
    assert_eq!(request.method, "GET");
    assert_eq!(request.target, "/path?q=1");
    assert_eq!(
        request.header("host"),
        Some(format!("127.0.0.1:{}", server.port).as_str())
    );
    assert!(
        request
            .header("user-agent")
            .unwrap()
            .starts_with("wayfarer/")
    );
    assert_eq!(request.header("content-length"), None);
}

#[test]
fn include_prints_the_head_as_received_then_the_body() {
    let server = Server::start(vec![Reply::Send(response(
        "201 Created",
        "X-Custom-CASE: Some Value\r\nset-cookie: a=1\r\nSet-Cookie: b=2\r\n",
        b"body",
    ))]);
    let output = wayfarer(&["-i", &server.url("/")]);
    assert_exit(&output, 0);
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        "HTTP/1.1 201 Created\r\nContent-Length: 4\r\nX-Custom-CASE: Some Value\r\n\
         set-cookie: a=1\r\nSet-Cookie: b=2\r\n\r\nbody"
    );
}

#[test]
fn head_sends_head_and_prints_only_the_head() {
    // A HEAD response announces the length of the body it does not send; the command must not
    // wait for that body (the server then closes: a command waiting for 1000 bytes would fail
    // with a partial body instead of succeeding).
    let server = Server::start(vec![Reply::Send(
        b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\nX-A: b\r\n\r\n".to_vec(),
    )]);
    let output = wayfarer(&["-I", "--max-time", "5", &server.url("/x")]);
    assert_exit(&output, 0);
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\nX-A: b\r\n\r\n"
    );
    let request = server.only_request();
    assert_eq!(request.method, "HEAD");
    assert_eq!(request.target, "/x");
}

#[test]
fn method_headers_and_form_data_reach_the_server() {
    let server = Server::start(vec![ok(b"done")]);
    let output = wayfarer(&[
        "-X",
        "PUT",
        "-H",
        "X-Token: abc def",
        "--header",
        "X-Empty;",
        "-d",
        "a=1",
        "--data",
        "b=two words",
        "-A",
        "tester/1.0",
        &server.url("/items/7"),
    ]);
    assert_exit(&output, 0);
    assert_eq!(output.stdout, b"done");
    let request = server.only_request();
    assert_eq!(request.method, "PUT");
    assert_eq!(request.target, "/items/7");
    assert_eq!(request.header("x-token"), Some("abc def"));
    assert_eq!(request.header("x-empty"), Some(""));
    assert_eq!(request.header("user-agent"), Some("tester/1.0"));
    assert_eq!(request.body, b"a=1&b=two words");
    assert_eq!(
        request.header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
    assert_eq!(request.header("content-length"), Some("15"));
}

#[test]
fn accept_is_any_type_unless_a_header_says_otherwise() {
    let server = Server::start(vec![ok(b""), ok(b"")]);
    assert_exit(&wayfarer(&["-s", &server.url("/")]), 0);
    assert_exit(
        &wayfarer(&["-s", "-H", "accept: text/plain", &server.url("/")]),
        0,
    );
    let requests = server.requests();
    let accepts: Vec<Vec<&str>> = requests.iter().map(|r| r.header_values("accept")).collect();
    assert_eq!(accepts, [vec!["*/*"], vec!["text/plain"]]);
}

#[test]
fn a_header_without_a_value_removes_it_as_curl_does() {
    let server = Server::start(vec![ok(b"")]);
    let output = wayfarer(&[
        "-u",
        "alice:secret",
        "-A",
        "tester/1.0",
        "-d",
        "a=1",
        "-H",
        "User-Agent:",
        "-H",
        "authorization:",
        "-H",
        "Content-Type: ",
        "-H",
        "X-Never:",
        // Host is the library's, which HTTP/1.1 needs: it is kept, not sent empty.
        "-H",
        "Host:",
        "-H",
        "X-Empty;",
        "-H",
        "Accept:",
        &server.url("/"),
    ]);
    assert_exit(&output, 0);
    let request = server.only_request();
    for gone in [
        "user-agent",
        "authorization",
        "content-type",
        "x-never",
        "accept",
    ] {
        assert_eq!(request.header(gone), None, "{gone}: {:?}", request.headers);
    }
    assert_eq!(
        request.header_values("host"),
        [format!("127.0.0.1:{}", server.port)]
    );
    assert_eq!(request.header("x-empty"), Some(""));
    assert_eq!(request.body, b"a=1");
}

#[test]
fn data_posts_by_default_and_a_header_overrides_the_content_type() {
    let dir = tempfile::tempdir().unwrap();
    let form = dir.path().join("form.txt");
    std::fs::write(&form, "x=1\r\ny=2\n").unwrap();
    let server = Server::start(vec![ok(b"")]);
    let output = wayfarer(&[
        "-H",
        "content-type: application/json",
        "-d",
        &format!("@{}", form.display()),
        &server.url("/"),
    ]);
    assert_exit(&output, 0);
    let request = server.only_request();
    assert_eq!(request.method, "POST");
    // Like curl, `-d @file` drops carriage returns and newlines.
    assert_eq!(request.body, b"x=1y=2");
    assert_eq!(
        request.header_values("content-type"),
        ["application/json"],
        "{:?}",
        request.headers
    );
}

#[test]
fn data_binary_file_is_streamed_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("blob.bin");
    // Every byte value, CR and LF included, over more than one read buffer.
    let blob: Vec<u8> = (0..700_000u32).map(|i| (i * 7 % 256) as u8).collect();
    std::fs::write(&path, &blob).unwrap();
    let server = Server::start(vec![ok(b"stored")]);
    let output = wayfarer(&[
        "--data-binary",
        &format!("@{}", path.display()),
        &server.url("/upload"),
    ]);
    assert_exit(&output, 0);
    assert_eq!(output.stdout, b"stored");
    let request = server.only_request();
    assert_eq!(request.method, "POST");
    assert_eq!(
        request.header("content-length"),
        Some(blob.len().to_string().as_str())
    );
    assert_eq!(request.header("transfer-encoding"), None);
    assert!(request.body == blob, "the uploaded bytes differ");
}

#[test]
fn data_binary_from_stdin_is_sent_chunked() {
    let server = Server::start(vec![ok(b"")]);
    let output = wayfarer_with_stdin(
        &["--data-binary", "@-", &server.url("/")],
        b"line one\nline two\n",
    );
    assert_exit(&output, 0);
    let request = server.only_request();
    assert_eq!(request.header("transfer-encoding"), Some("chunked"));
    assert_eq!(request.body, b"line one\nline two\n");
}

#[test]
fn data_binary_string_is_sent_as_given() {
    let server = Server::start(vec![ok(b"")]);
    let output = wayfarer(&["--data-binary", "a\nb", &server.url("/")]);
    assert_exit(&output, 0);
    assert_eq!(server.only_request().body, b"a\nb");
}

#[test]
fn unreadable_data_files_exit_26() {
    let output = wayfarer(&["--data-binary", "@/nonexistent/file", "http://127.0.0.1:9/"]);
    assert_exit(&output, 26);
    assert!(assert_error_line(&output, 26).contains("/nonexistent/file"));

    // A directory opens but fails on the first read, after the request head was sent: the
    // failure comes back through the library as an I/O error and must still exit 26, not 56.
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(vec![ok(b"")]);
    let output = wayfarer(&[
        "--data-binary",
        &format!("@{}", dir.path().display()),
        &server.url("/"),
    ]);
    assert_exit(&output, 26);
    assert_error_line(&output, 26);
}

#[test]
fn output_writes_the_body_to_a_file() {
    let body: Vec<u8> = (0..3 * 1024 * 1024u32).map(|i| (i % 251) as u8).collect();
    let server = Server::start(vec![ok(&body)]);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("out.bin");
    let output = wayfarer(&["-o", path.to_str().unwrap(), &server.url("/big")]);
    assert_exit(&output, 0);
    assert_eq!(output.stdout, b"");
    // Not a terminal, so no progress bar.
    assert_eq!(stderr(&output), "");
    assert!(std::fs::read(&path).unwrap() == body, "the file differs");
}

#[test]
fn output_dash_is_standard_output() {
    let server = Server::start(vec![ok(b"to stdout")]);
    let dir = tempfile::tempdir().unwrap();
    let output = Command::new(BIN)
        .current_dir(dir.path())
        .args(["-o", "-", &server.url("/")])
        .output()
        .unwrap();
    assert_exit(&output, 0);
    assert_eq!(output.stdout, b"to stdout");
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "no file named -"
    );
}

#[cfg(target_os = "linux")]
#[test]
fn a_failed_write_exits_23() {
    let server = Server::start(vec![ok(b"no room for this")]);
    let output = wayfarer(&["-o", "/dev/full", &server.url("/")]);
    assert_exit(&output, 23);
    assert!(assert_error_line(&output, 23).contains("/dev/full"));
}

/// `--fail` writes no body; with `-i` the head is written first, as curl writes a head as it
/// arrives and fails the transfer after it.
#[test]
fn fail_exits_22_on_http_errors_and_writes_no_body() {
    let missing = response("404 Not Found", "", b"<h1>missing</h1>");
    let server = Server::start(vec![
        Reply::Send(missing.clone()),
        Reply::Send(missing.clone()),
        Reply::Send(missing.clone()),
    ]);
    let output = wayfarer(&["-f", "-i", &server.url("/gone?secret=1")]);
    assert_exit(&output, 22);
    let head_len = missing.len() - b"<h1>missing</h1>".len();
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&missing[..head_len])
    );
    let output = wayfarer(&["-f", &server.url("/gone")]);
    assert_exit(&output, 22);
    assert_eq!(output.stdout, b"");
    let line = assert_error_line(&output, 22);
    assert!(line.contains("404"), "{line}");
    assert!(!line.contains("secret"), "{line}");

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("out.html");
    let output = wayfarer(&["--fail", "-o", path.to_str().unwrap(), &server.url("/")]);
    assert_exit(&output, 22);
    assert!(!path.exists(), "a failed download leaves no file");
}

#[test]
fn without_fail_an_http_error_is_printed_and_succeeds() {
    let server = Server::start(vec![Reply::Send(response(
        "500 Internal Server Error",
        "",
        b"oops",
    ))]);
    let output = wayfarer(&[&server.url("/")]);
    assert_exit(&output, 0);
    assert_eq!(output.stdout, b"oops");
}

#[test]
fn a_refused_connection_exits_7() {
    let port = {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let url = format!("http://127.0.0.1:{port}/");
    let output = wayfarer(&[&url]);
    assert_exit(&output, 7);
    let line = assert_error_line(&output, 7);
    assert!(
        line.contains(&format!("failed to connect to 127.0.0.1:{port}")),
        "{line}"
    );
    assert!(line.ends_with(&format!("(GET {url})")), "{line}");
}

#[test]
fn an_unresolvable_host_exits_6() {
    let output = wayfarer(&["http://nonexistent.invalid/"]);
    assert_exit(&output, 6);
    assert!(assert_error_line(&output, 6).contains("nonexistent.invalid"));
}

#[test]
fn max_time_bounds_the_call_and_exits_28() {
    let server = Server::start(vec![Reply::Stall(Duration::from_secs(10))]);
    let started = Instant::now();
    let output = wayfarer(&["--max-time", "0.3", &server.url("/slow")]);
    let took = started.elapsed();
    assert_exit(&output, 28);
    assert!(
        took >= Duration::from_millis(300) && took < Duration::from_secs(5),
        "{took:?}"
    );
    assert!(assert_error_line(&output, 28).contains("timed out"));
    assert_eq!(server.only_request().target, "/slow");
}

#[test]
fn connect_timeout_gives_up_on_a_connect_that_hangs_and_exits_28() {
    let target = Unanswered::start();
    let started = Instant::now();
    // --max-time is a guard far beyond the connect timeout: had the connect deadline been
    // re-armed, the command would end with it instead, later and with another message.
    let output = wayfarer(&[
        "--connect-timeout",
        "1",
        "--max-time",
        "20",
        &target.url("/"),
    ]);
    let took = started.elapsed();
    assert_exit(&output, 28);
    let line = assert_error_line(&output, 28);
    assert!(line.contains("connect timed out after 1s"), "{line}");
    assert!(
        took >= Duration::from_secs(1) && took < Duration::from_secs(5),
        "{took:?}"
    );
}

#[test]
fn url_credentials_are_sent_as_basic_authorization_and_shown_nowhere() {
    let server = Server::start(vec![ok(b"in")]);
    let url = format!("http://alice:s%40cret@127.0.0.1:{}/private", server.port);
    let output = wayfarer(&["-v", &url]);
    assert_exit(&output, 0);
    assert_eq!(output.stdout, b"in");
    let request = server.only_request();
    // base64("alice:s@cret"), as curl sends it.
    assert_eq!(
        request.header("authorization"),
        Some("Basic YWxpY2U6c0BjcmV0")
    );
    assert_eq!(
        request.header("host"),
        Some(format!("127.0.0.1:{}", server.port).as_str())
    );
    let err = stderr(&output);
    assert!(
        !err.contains("s@cret") && !err.contains("s%40cret"),
        "{err}"
    );
    assert!(
        err.contains(&format!(
            "call start: GET http://127.0.0.1:{}/private",
            server.port
        )),
        "{err}"
    );

    // And not in an error message either.
    let refused = {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let output = wayfarer(&[&format!("http://alice:s%40cret@127.0.0.1:{refused}/")]);
    assert_exit(&output, 7);
    let line = assert_error_line(&output, 7);
    assert!(!line.contains("cret") && !line.contains("alice"), "{line}");
}

#[test]
fn an_explicit_authorization_header_wins_over_url_credentials() {
    let server = Server::start(vec![ok(b"")]);
    let url = format!("http://alice:pw@127.0.0.1:{}/", server.port);
    let output = wayfarer(&["-H", "Authorization: Bearer t", &url]);
    assert_exit(&output, 0);
    let request = server.only_request();
    assert_eq!(request.header_values("authorization"), ["Bearer t"]);
}

#[test]
fn removing_the_authorization_header_drops_url_credentials_as_curl_does() {
    let server = Server::start(vec![ok(b""), ok(b"")]);
    let url = format!("http://alice:pw@127.0.0.1:{}/", server.port);
    assert_exit(&wayfarer(&["-H", "Authorization:", &url]), 0);
    // Together with -u too: -u replaces the URL's credentials, and the header removes both.
    assert_exit(
        &wayfarer(&["-u", "bob:pw", "-H", "authorization:", &url]),
        0,
    );
    for request in server.requests() {
        assert_eq!(
            request.header("authorization"),
            None,
            "{:?}",
            request.headers
        );
    }
}

#[test]
fn verbose_prints_a_timeline_and_both_heads_on_stderr_only() {
    let server = Server::start(vec![Reply::Send(response(
        "200 OK",
        "X-Served: 1\r\n",
        b"hi",
    ))]);
    let output = wayfarer(&["-v", "-H", "X-Mine: 1", &server.url("/v")]);
    assert_exit(&output, 0);
    assert_eq!(output.stdout, b"hi");
    let err = stderr(&output);
    let lines: Vec<&str> = err.lines().collect();
    let has = |l: &str| lines.contains(&l);
    assert!(has("> GET /v HTTP/1.1"), "{err}");
    assert!(has("> X-Mine: 1"), "{err}");
    assert!(has(&format!("> Host: 127.0.0.1:{}", server.port)), "{err}");
    assert!(has("< HTTP/1.1 200 OK"), "{err}");
    assert!(has("< X-Served: 1"), "{err}");
    // Timeline lines: `* [   12.3ms] what happened`, in the order things happened.
    let events: Vec<&str> = lines
        .iter()
        .filter(|l| l.starts_with("* ["))
        .map(|l| {
            let (stamp, what) = l.split_once("ms] ").expect("a timestamp");
            let ms: f64 = stamp.trim_start_matches("* [").trim().parse().expect("ms");
            assert!((0.0..10_000.0).contains(&ms), "{l}");
            what
        })
        .collect();
    let position = |prefix: &str| {
        events
            .iter()
            .position(|e| e.starts_with(prefix))
            .unwrap_or_else(|| panic!("no {prefix:?} event in {err}"))
    };
    assert_eq!(position("call start"), 0, "{err}");
    assert!(position("connected to") < position("request: GET /v HTTP/1.1"));
    assert!(position("request: GET") < position("response: HTTP/1.1 200 OK"));
    assert!(position("response: HTTP/1.1") < position("call end"));
    // Every stderr line is a timeline or head line.
    for line in &lines {
        assert!(
            line.starts_with("* [") || line.starts_with('>') || line.starts_with('<'),
            "unexpected stderr line {line:?}"
        );
    }
}

#[test]
fn verbose_keeps_the_response_head_before_the_end_of_a_bodiless_call() {
    // Without a body, the call ends inside `execute()`: its last events arrive before the
    // command has the response head to print.
    let server = Server::start(vec![Reply::Send(
        b"HTTP/1.1 204 No Content\r\nX-A: b\r\n\r\n".to_vec(),
    )]);
    let output = wayfarer(&["-v", &server.url("/")]);
    assert_exit(&output, 0);
    assert_eq!(output.stdout, b"");
    let err = stderr(&output);
    let lines: Vec<&str> = err.lines().collect();
    let index = |wanted: &str| {
        lines
            .iter()
            .position(|l| l.contains(wanted))
            .unwrap_or_else(|| panic!("no {wanted:?} in {err}"))
    };
    assert!(index("] response: HTTP/1.1 204") < index("< HTTP/1.1 204 No Content"));
    assert!(index("< X-A: b") < index("] call end"), "{err}");
}

#[test]
fn bad_command_lines_exit_2() {
    assert_exit(&wayfarer(&["--no-such-flag", "http://127.0.0.1:9/"]), 2);
    assert_exit(&wayfarer(&[]), 2);
    assert_exit(&wayfarer(&["-H", "no colon", "http://127.0.0.1:9/"]), 2);
    assert_exit(&wayfarer(&["--max-time", "soon", "http://127.0.0.1:9/"]), 2);
    assert_exit(&wayfarer(&["-I", "-d", "x", "http://127.0.0.1:9/"]), 2);
}

#[test]
fn help_and_version_exit_0() {
    let help = wayfarer(&["--help"]);
    assert_exit(&help, 0);
    let text = String::from_utf8_lossy(&help.stdout);
    assert!(
        text.contains("--data-binary") && text.contains("Exit status"),
        "{text}"
    );
    let version = wayfarer(&["-V"]);
    assert_exit(&version, 0);
    assert_eq!(
        String::from_utf8_lossy(&version.stdout).trim(),
        format!("wayfarer {}", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn malformed_urls_exit_3_and_other_schemes_exit_1() {
    let output = wayfarer(&["http://[::1/"]);
    assert_exit(&output, 3);
    assert_error_line(&output, 3);
    assert_exit(&wayfarer(&["http://"]), 3);
    assert_exit(&wayfarer(&["ftp://127.0.0.1/file"]), 1);
}

#[test]
fn a_url_without_a_scheme_is_http() {
    let server = Server::start(vec![ok(b"plain")]);
    let output = wayfarer(&[&format!("127.0.0.1:{}/p", server.port)]);
    assert_exit(&output, 0);
    assert_eq!(output.stdout, b"plain");
    assert_eq!(server.only_request().target, "/p");
}

#[test]
fn a_connection_closed_without_a_reply_exits_52() {
    let server = Server::start(vec![Reply::Send(Vec::new())]);
    let output = wayfarer(&[&server.url("/")]);
    assert_exit(&output, 52);
    assert_error_line(&output, 52);
}

#[test]
fn a_malformed_response_head_exits_8() {
    let server = Server::start(vec![Reply::Send(b"NONSENSE\r\n\r\n".to_vec())]);
    let output = wayfarer(&[&server.url("/")]);
    assert_exit(&output, 8);
    assert_error_line(&output, 8);
}

#[test]
fn a_body_cut_short_exits_18_after_writing_what_arrived() {
    let server = Server::start(vec![Reply::Send(
        b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly this".to_vec(),
    )]);
    let output = wayfarer(&[&server.url("/")]);
    assert_exit(&output, 18);
    assert_eq!(output.stdout, b"only this");
    assert!(assert_error_line(&output, 18).contains("short"));
}

#[test]
fn silent_hides_errors_unless_show_error() {
    let output = wayfarer(&["-s", "http://nonexistent.invalid/"]);
    assert_exit(&output, 6);
    assert_eq!(stderr(&output), "");
    let output = wayfarer(&["-s", "-S", "http://nonexistent.invalid/"]);
    assert_exit(&output, 6);
    assert_error_line(&output, 6);
}

#[test]
fn https_with_cacert_trusts_the_given_root() {
    let (pem, config) = tls_identity();
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, pem).unwrap();
    let server = Server::start(vec![Reply::Tls(config, response("200 OK", "", b"secure"))]);
    let url = format!("https://127.0.0.1:{}/s", server.port);
    let output = wayfarer(&["--cacert", ca.to_str().unwrap(), &url]);
    assert_exit(&output, 0);
    assert_eq!(output.stdout, b"secure");
    assert_eq!(server.only_request().target, "/s");
}

#[test]
fn an_untrusted_certificate_exits_60() {
    let (_, config) = tls_identity();
    let server = Server::start(vec![Reply::Tls(config, response("200 OK", "", b"x"))]);
    let output = wayfarer(&[&format!("https://127.0.0.1:{}/", server.port)]);
    assert_exit(&output, 60);
    assert!(assert_error_line(&output, 60).contains("certificate"));
}

#[test]
fn a_failed_handshake_exits_35() {
    // A plain-HTTP server answering a TLS ClientHello.
    let server = Server::start(vec![Reply::Blurt(response("200 OK", "", b"plain"))]);
    let output = wayfarer(&[&format!("https://127.0.0.1:{}/", server.port)]);
    assert_exit(&output, 35);
    assert_error_line(&output, 35);
}

#[test]
fn an_unusable_cacert_exits_77() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.pem");
    std::fs::write(&bad, "not a certificate").unwrap();
    for path in [bad.as_path(), Path::new("/nonexistent/ca.pem")] {
        let output = wayfarer(&["--cacert", path.to_str().unwrap(), "https://127.0.0.1:9/"]);
        assert_exit(&output, 77);
        assert_error_line(&output, 77);
    }
}

/// Writes `pem` to a temporary file for --cacert.
fn cacert_file(pem: &str) -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ca.pem");
    std::fs::write(&path, pem).unwrap();
    let path = path.to_str().unwrap().to_string();
    (dir, path)
}

/// Runs `wayfarer --cacert FILE https://localhost:PORT/` against a server presenting `config`'s
/// certificate, with `pem` in FILE.
fn fetch_with_cacert(pem: &str, config: Arc<rustls::ServerConfig>) -> (Output, Server) {
    let (_dir, ca) = cacert_file(pem);
    let server = Server::start(vec![Reply::Tls(config, response("200 OK", "", b"secure"))]);
    let url = format!("https://localhost:{}/s", server.port);
    (wayfarer(&["--cacert", &ca, &url]), server)
}

#[test]
fn cacert_trusts_a_self_signed_ca_certificate_as_curl_does() {
    // The certificate `openssl req -x509` makes: its own issuer, with CA:TRUE.
    let cert = SelfSigned::generate();
    let (output, server) = fetch_with_cacert(&cert.pem(), cert.server_config());
    assert_exit(&output, 0);
    assert_eq!(output.stdout, b"secure");
    assert_eq!(server.only_request().target, "/s");
}

#[test]
fn cacert_trusts_a_servers_leaf_given_directly() {
    let pki = TestPki::generate();
    let (leaf_pem, _) = pki.leaf_pem(Leaf::Valid);
    let (output, _server) = fetch_with_cacert(&leaf_pem, pki.server_config(Leaf::Valid));
    assert_exit(&output, 0);
    assert_eq!(output.stdout, b"secure");
}

#[test]
fn cacert_with_an_exact_certificate_still_checks_names_and_dates() {
    let pki = TestPki::generate();
    for (leaf, why) in [
        (Leaf::WrongHost, "hostname mismatch"),
        (Leaf::Expired, "expired"),
    ] {
        let (leaf_pem, _) = pki.leaf_pem(leaf);
        let (output, server) = fetch_with_cacert(&leaf_pem, pki.server_config(leaf));
        assert_exit(&output, 60);
        let line = assert_error_line(&output, 60);
        assert!(line.contains(why), "{leaf:?}: {line}");
        drop(server);
    }
    // A different certificate than the one in the file: a leaf from an unknown issuer, and a
    // self-signed CA certificate (which webpki names as such).
    let (valid_pem, _) = pki.leaf_pem(Leaf::Valid);
    let (output, _server) = fetch_with_cacert(&valid_pem, pki.server_config(Leaf::UntrustedIssuer));
    assert_exit(&output, 60);
    assert!(assert_error_line(&output, 60).contains("unknown (untrusted) authority"));
    let other = SelfSigned::generate();
    let (output, _server) = fetch_with_cacert(&SelfSigned::generate().pem(), other.server_config());
    assert_exit(&output, 60);
    assert!(assert_error_line(&output, 60).contains("CA certificate as its own"));
}
