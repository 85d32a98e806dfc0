//! `-b` and `-c`: cookies read from and written to Netscape cookie files, and literal cookies,
//! as curl handles them.

mod common;

use std::path::PathBuf;

use common::*;

/// A fresh path in the system's temporary directory (the file is not created).
fn temp_path(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "wayfarer-cli-cookies-{}-{name}",
        std::process::id()
    ));
    let _ = std::fs::remove_file(&dir);
    dir
}

fn cookie_headers(server: &Server) -> Vec<Option<String>> {
    server
        .requests()
        .into_iter()
        .map(|r| r.header("Cookie").map(str::to_owned))
        .collect()
}

#[test]
fn a_cookie_file_is_sent_and_the_jar_is_written_back_with_what_the_server_set() {
    let jar = temp_path("roundtrip");
    std::fs::write(
        &jar,
        "# Netscape HTTP Cookie File\n\
         127.0.0.1\tFALSE\t/\tFALSE\t0\ttheme\tdark\n\
         127.0.0.1\tFALSE\t/other\tFALSE\t0\tunrelated\tx\n\
         127.0.0.1\tFALSE\t/\tFALSE\t4102444800\tgone\tsoon\n",
    )
    .unwrap();
    let server = Server::start(vec![Reply::Send(response(
        "200 OK",
        "Set-Cookie: sid=42; Path=/; Max-Age=3600\r\nSet-Cookie: gone=; Max-Age=0\r\n",
        b"hi",
    ))]);
    let jar_arg = jar.to_str().unwrap();
    let output = wayfarer(&["-b", jar_arg, "-c", jar_arg, &server.url("/app")]);
    assert_exit(&output, 0);
    assert_eq!(output.stdout, b"hi");
    // Only the cookies whose path matches go, in the file's order for equal paths.
    assert_eq!(
        cookie_headers(&server),
        [Some("theme=dark; gone=soon".to_owned())]
    );

    let written = std::fs::read_to_string(&jar).unwrap();
    assert!(
        written.starts_with("# Netscape HTTP Cookie File\n"),
        "{written}"
    );
    let lines: Vec<&str> = written
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .collect();
    let names: Vec<&str> = lines
        .iter()
        .map(|l| l.split('\t').nth(5).unwrap())
        .collect();
    assert!(
        names.contains(&"theme") && names.contains(&"unrelated"),
        "{written}"
    );
    assert!(
        names.contains(&"sid"),
        "the server's cookie is saved: {written}"
    );
    assert!(!names.contains(&"gone"), "Max-Age=0 deleted it: {written}");
    let sid = lines.iter().find(|l| l.contains("\tsid\t")).unwrap();
    let expiry: i64 = sid.split('\t').nth(4).unwrap().parse().unwrap();
    assert!(expiry > 0, "Max-Age makes a persistent cookie: {sid}");
    let _ = std::fs::remove_file(&jar);
}

#[test]
fn the_cookie_engine_carries_cookies_along_redirects() {
    let jar = temp_path("redirects");
    let server = Server::start(vec![
        Reply::Send(response(
            "302 Found",
            "Location: /next\r\nSet-Cookie: step=one\r\nConnection: close\r\n",
            b"",
        )),
        ok(b"done"),
    ]);
    let output = wayfarer(&["-L", "-c", jar.to_str().unwrap(), &server.url("/start")]);
    assert_exit(&output, 0);
    assert_eq!(cookie_headers(&server), [None, Some("step=one".to_owned())]);
    let written = std::fs::read_to_string(&jar).unwrap();
    assert!(
        written.contains("127.0.0.1\tFALSE\t/\tFALSE\t0\tstep\tone"),
        "{written}"
    );
    let _ = std::fs::remove_file(&jar);
}

#[test]
fn a_missing_cookie_file_is_an_empty_jar() {
    let missing = temp_path("missing");
    let server = Server::start(vec![ok(b"fine")]);
    let output = wayfarer(&["-b", missing.to_str().unwrap(), &server.url("/")]);
    assert_exit(&output, 0);
    assert_eq!(cookie_headers(&server), [None]);
    assert!(!missing.exists(), "-b never writes");
}

#[test]
fn literal_cookies_are_sent_as_given_and_an_explicit_header_wins() {
    let server = Server::start(vec![ok(b"1"), ok(b"2")]);
    let output = wayfarer(&["-b", "a=1; b=2", "--cookie", "c=3", &server.url("/")]);
    assert_exit(&output, 0);
    let output = wayfarer(&["-b", "a=1", "-H", "Cookie: mine=1", &server.url("/")]);
    assert_exit(&output, 0);
    assert_eq!(
        cookie_headers(&server),
        [Some("a=1; b=2; c=3".to_owned()), Some("mine=1".to_owned())]
    );
}

/// Every `Cookie` field of each request, in the order they were sent.
fn cookie_fields(server: &Server) -> Vec<Vec<String>> {
    fields_named(server, "Cookie")
}

#[test]
fn the_jars_cookies_go_with_the_commands_own_as_curl_sends_them() {
    let jar = temp_path("with-own");
    std::fs::write(
        &jar,
        "127.0.0.1\tFALSE\t/\tFALSE\t0\ttheme\tdark\n\
         127.0.0.1\tFALSE\t/\tFALSE\t0\tsid\t42\n",
    )
    .unwrap();
    let jar_arg = jar.to_str().unwrap();
    let server = Server::start(vec![ok(b"1"), ok(b"2"), ok(b"3")]);
    let url = server.url("/");
    let commands: [&[&str]; 3] = [
        &["-H", "Cookie: x=1", "-b", jar_arg, &url],
        &["-b", "y=2", "-b", jar_arg, &url],
        &["-b", "y=2", "-b", jar_arg, "-H", "Cookie: x=1", &url],
    ];
    for args in commands {
        assert_exit(&wayfarer(args), 0);
    }
    // What curl 7.88 sends: the jar's cookies in a field of their own before a Cookie header
    // given with -H (which leaves -b strings out), or first in the field of the -b strings.
    assert_eq!(
        cookie_fields(&server),
        [
            vec!["theme=dark; sid=42", "x=1"],
            vec!["theme=dark; sid=42; y=2"],
            vec!["theme=dark; sid=42", "x=1"],
        ]
    );
    let _ = std::fs::remove_file(&jar);
}

#[test]
fn cookies_a_redirect_sets_go_on_next_to_a_cookie_header_given_with_h() {
    let jar = temp_path("redirect-with-own");
    let server = Server::start(vec![
        Reply::Send(response(
            "302 Found",
            "Location: /next\r\nSet-Cookie: step=one\r\nConnection: close\r\n",
            b"",
        )),
        ok(b"done"),
    ]);
    let output = wayfarer(&[
        "-L",
        "-c",
        jar.to_str().unwrap(),
        "-H",
        "Cookie: x=1",
        &server.url("/start"),
    ]);
    assert_exit(&output, 0);
    assert_eq!(
        cookie_fields(&server),
        [vec!["x=1"], vec!["step=one", "x=1"]]
    );
    let _ = std::fs::remove_file(&jar);
}

#[test]
fn the_jar_is_written_to_standard_output_and_even_after_a_failure() {
    // -c - writes the jar after the body.
    let server = Server::start(vec![Reply::Send(response(
        "200 OK",
        "Set-Cookie: k=v\r\n",
        b"body\n",
    ))]);
    let output = wayfarer(&["-c", "-", &server.url("/")]);
    assert_exit(&output, 0);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.starts_with("body\n# Netscape HTTP Cookie File\n"),
        "{stdout}"
    );
    assert!(stdout.contains("\tk\tv\n"), "{stdout}");

    // A redirect that set a cookie, then a hop that fails: the cookie is still saved.
    let jar = temp_path("failure");
    let server = Server::start(vec![
        Reply::Send(response(
            "302 Found",
            "Location: /next\r\nSet-Cookie: kept=yes\r\nConnection: close\r\n",
            b"",
        )),
        Reply::Blurt(b"garbage that is not HTTP\r\n\r\n".to_vec()),
    ]);
    let output = wayfarer(&["-L", "-s", "-c", jar.to_str().unwrap(), &server.url("/")]);
    assert_ne!(output.status.code(), Some(0));
    let written = std::fs::read_to_string(&jar).unwrap();
    assert!(written.contains("\tkept\tyes"), "{written}");
    let _ = std::fs::remove_file(&jar);
}
