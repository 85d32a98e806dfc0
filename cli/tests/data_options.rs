//! The data options as curl combines them: `-d`, `--data-raw`, `--data-binary` and
//! `--data-urlencode` pieces joined with `&` in command-line order.

mod common;

use common::*;

#[test]
fn data_pieces_of_every_kind_are_joined_in_command_line_order() {
    let server = Server::start(vec![ok(b"")]);
    let dir = tempfile::tempdir().unwrap();
    let note = dir.path().join("note.txt");
    std::fs::write(&note, "café & crème\n").unwrap();
    let form = dir.path().join("form.txt");
    std::fs::write(&form, "q=1\r\n").unwrap();
    let form_arg = format!("@{}", form.display());
    let output = wayfarer(&[
        "--data-urlencode",
        "name=a&b c",
        "-d",
        &form_arg,
        "--data-urlencode",
        &format!("note@{}", note.display()),
        "--data-raw",
        "@form.txt",
        "--data-binary",
        &form_arg,
        "--data-urlencode",
        "=x+y",
        "--data-urlencode",
        "plain text",
        "-d",
        "",
        &server.url("/form"),
    ]);
    assert_exit(&output, 0);
    let request = server.only_request();
    assert_eq!(request.method, "POST");
    assert_eq!(
        request.header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
    // What curl 7.88 sends for the same command line.
    assert_eq!(
        String::from_utf8_lossy(&request.body),
        "name=a%26b+c&q=1&note=caf%C3%A9+%26+cr%C3%A8me%0A&@form.txt&q=1\r\n&x%2By&plain+text&"
    );
}

#[test]
fn data_urlencode_reads_standard_input() {
    let server = Server::start(vec![ok(b"")]);
    let output = wayfarer_with_stdin(
        &["--data-urlencode", "s@-", "-d", "z", &server.url("/")],
        b"from stdin",
    );
    assert_exit(&output, 0);
    assert_eq!(server.only_request().body, b"s=from+stdin&z");
}

#[test]
fn an_unreadable_data_urlencode_file_exits_26_naming_it() {
    let output = wayfarer(&[
        "--data-urlencode",
        "n@/nonexistent/file",
        "http://127.0.0.1:9/",
    ]);
    assert_exit(&output, 26);
    assert!(assert_error_line(&output, 26).contains("/nonexistent/file"));
}

#[test]
fn get_sends_the_data_in_the_query_with_get_or_head() {
    let server = Server::start(vec![ok(b""), ok(b""), ok(b""), ok(b"")]);
    let output = wayfarer(&[
        "-G",
        "-d",
        "a=1",
        "--data-urlencode",
        "b=c d",
        "-w",
        "%{url_effective}",
        &server.url("/p?x=1#frag"),
    ]);
    assert_exit(&output, 0);
    // curl 7.88: the data after '&', the fragment kept (and not sent).
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        server.url("/p?x=1&a=1&b=c+d#frag")
    );
    let output = wayfarer(&["--get", "-I", "-d", "a", &server.url("/p?")]);
    assert_exit(&output, 0);
    // Several URLs: each gets the data.
    let output = wayfarer(&["-G", "-d", "k", &server.url("/one"), &server.url("/two?z")]);
    assert_exit(&output, 0);
    let sent: Vec<_> = server
        .requests()
        .into_iter()
        .map(|r| {
            let typed = r.header("content-type").is_some();
            (r.method, r.target, r.body, typed)
        })
        .collect();
    assert_eq!(
        sent,
        [
            ("GET".into(), "/p?x=1&a=1&b=c+d".into(), vec![], false),
            ("HEAD".into(), "/p?a".into(), vec![], false),
            ("GET".into(), "/one?k".into(), vec![], false),
            ("GET".into(), "/two?z&k".into(), vec![], false),
        ]
    );
}

#[test]
fn get_refuses_data_a_url_cannot_hold_and_head_needs_it_with_data() {
    let server = Server::start(vec![ok(b"")]);
    let output = wayfarer(&["-G", "-d", "a b", &server.url("/")]);
    assert_exit(&output, 3);
    assert!(assert_error_line(&output, 3).contains("--data-urlencode"));
    let output = wayfarer(&["-I", "-d", "a", &server.url("/")]);
    assert_exit(&output, 2);
    assert!(stderr(&output).contains("--get"), "{}", stderr(&output));
    assert!(server.requests().is_empty());
}
