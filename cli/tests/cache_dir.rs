//! `--cache-dir`: the HTTP cache from the command line.

mod common;

use common::*;

#[test]
fn cache_dir_answers_the_second_run_from_the_cache_and_verbose_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("http-cache");
    let cache = cache.to_str().unwrap();
    // One reply only: a second request would find no server answering.
    let server = Server::start(vec![Reply::Send(response(
        "200 OK",
        "Cache-Control: max-age=600\r\n",
        b"cached body",
    ))]);
    let url = server.url("/page");

    let first = wayfarer(&["-v", "--cache-dir", cache, &url]);
    assert_exit(&first, 0);
    assert_eq!(first.stdout, b"cached body");
    let err = stderr(&first);
    assert!(err.lines().any(|l| l.ends_with("] cache miss")), "{err}");

    let second = wayfarer(&["-v", "--cache-dir", cache, &url]);
    assert_exit(&second, 0);
    assert_eq!(second.stdout, b"cached body");
    let err = stderr(&second);
    assert!(err.lines().any(|l| l.ends_with("] cache hit")), "{err}");
    assert!(!err.contains("connecting to"), "no network: {err}");
    assert_eq!(server.requests().len(), 1);

    // Without the flag there is no cache: the request goes out (and finds the server gone).
    let third = wayfarer(&["-v", &url]);
    assert!(!stderr(&third).contains("cache"), "{}", stderr(&third));
}

#[test]
fn an_unusable_cache_dir_is_reported_and_the_command_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a-file");
    std::fs::write(&file, b"not a directory").unwrap();
    let server = Server::start(vec![ok(b"fetched")]);
    let output = wayfarer(&["--cache-dir", file.to_str().unwrap(), &server.url("/")]);
    assert_exit(&output, 0);
    assert_eq!(output.stdout, b"fetched");
    let err = stderr(&output);
    assert!(
        err.starts_with("wayfarer: cannot open the HTTP cache"),
        "{err}"
    );
    assert!(err.contains("a-file"), "{err}");
    assert!(
        err.trim_end().ends_with("going on without a cache"),
        "{err}"
    );
    // --silent hides the warning.
    let server = Server::start(vec![ok(b"fetched")]);
    let output = wayfarer(&[
        "-s",
        "--cache-dir",
        file.to_str().unwrap(),
        &server.url("/"),
    ]);
    assert_exit(&output, 0);
    assert_eq!(stderr(&output), "");
}
