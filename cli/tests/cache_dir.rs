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

#[test]
fn a_cache_dir_another_process_has_open_is_reported_and_the_command_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("http-cache");
    // This test's process holds the cache open, as a second command run at the same time would.
    let held = wayfarer_blocking::Cache::new(&cache, 1024 * 1024).unwrap();
    let cache = cache.to_str().unwrap();
    let fresh = || {
        Reply::Send(response(
            "200 OK",
            "Cache-Control: max-age=600\r\n",
            b"fetched",
        ))
    };
    let server = Server::start(vec![fresh()]);
    let output = wayfarer(&["--cache-dir", cache, &server.url("/")]);
    assert_exit(&output, 0);
    assert_eq!(output.stdout, b"fetched");
    let err = stderr(&output);
    assert_eq!(
        err.trim_end(),
        format!(
            "wayfarer: cannot open the HTTP cache: cache directory {} is already open in another \
             process; going on without a cache",
            held.directory().display()
        )
    );
    assert_eq!(held.size(), 0, "the command stored nothing in it");

    // Once that process lets go, the next command uses the cache.
    drop(held);
    let server = Server::start(vec![fresh()]);
    let output = wayfarer(&["-v", "--cache-dir", cache, &server.url("/")]);
    assert_exit(&output, 0);
    let err = stderr(&output);
    assert!(err.lines().any(|l| l.ends_with("] cache miss")), "{err}");
    assert!(!err.contains("going on without a cache"), "{err}");
    let output = wayfarer(&["-v", "--cache-dir", cache, &server.url("/")]);
    assert_eq!(output.stdout, b"fetched");
    assert!(
        stderr(&output).contains("] cache hit"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn a_hop_the_cache_answers_takes_no_interim_heads_from_the_next() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("http-cache");
    let cache = cache.to_str().unwrap();
    let early = "HTTP/1.1 103 Early Hints\r\nLink: </b.css>\r\n\r\n";
    let page = || {
        Reply::Send(
            [
                early.as_bytes(),
                &response("200 OK", "Cache-Control: no-store\r\n", b"page"),
            ]
            .concat(),
        )
    };
    let server = Server::start(vec![
        Reply::Send(response(
            "302 Found",
            "Location: /b\r\nCache-Control: max-age=600\r\n",
            b"",
        )),
        page(),
        page(),
    ]);
    let url = server.url("/a");
    let first = wayfarer(&["-s", "-i", "-L", "--cache-dir", cache, &url]);
    assert_exit(&first, 0);
    // The redirect comes from the cache now; only /b goes to the server, and its 103 goes
    // with it, not with the redirect the cache answered.
    let second = wayfarer(&["-s", "-i", "-L", "--cache-dir", cache, &url]);
    assert_exit(&second, 0);
    let targets: Vec<String> = server.requests().into_iter().map(|r| r.target).collect();
    assert_eq!(targets, ["/a", "/b", "/b"]);
    for output in [first, second] {
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(stdout.starts_with("HTTP/1.1 302 Found\r\n"), "{stdout}");
        assert!(
            stdout.ends_with(&format!(
                "\r\n\r\n{early}HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\
                 Cache-Control: no-store\r\n\r\npage"
            )),
            "{stdout}"
        );
        assert_eq!(stdout.matches("103 Early Hints").count(), 1, "{stdout}");
    }
}

#[test]
fn the_cache_sees_the_jars_cookies_sent_with_the_commands_own() {
    // A response that varies by Cookie is stored, and looked for, with the request as sent,
    // the jar's cookies included: one stored for an empty jar does not answer a request that
    // carries the jar's cookie, and one stored for that cookie answers the next such request.
    let varied = |body: &[u8]| {
        Reply::Send(response(
            "200 OK",
            "Cache-Control: max-age=600\r\nVary: Cookie\r\n",
            body,
        ))
    };
    let commands: [(&[&str], [&[&str]; 2]); 2] = [
        (&["-b", "x=1"], [&["x=1"], &["sid=A; x=1"]]),
        (&["-H", "Cookie: x=1"], [&["x=1"], &["sid=A", "x=1"]]),
    ];
    for (own, sent) in commands {
        let dir = tempfile::tempdir().unwrap();
        let cache = dir.path().join("http-cache");
        let jar = dir.path().join("jar.txt");
        let server = Server::start(vec![varied(b"for no sid"), varied(b"for sid A")]);
        let url = server.url("/page");
        let run = |jar_file: &str| {
            std::fs::write(&jar, jar_file).unwrap();
            let mut args = own.to_vec();
            args.extend(["-sS", "--cache-dir", cache.to_str().unwrap()]);
            args.extend(["-b", jar.to_str().unwrap(), &url]);
            let output = wayfarer(&args);
            assert_exit(&output, 0);
            String::from_utf8_lossy(&output.stdout).into_owned()
        };
        let sid_a = "127.0.0.1\tFALSE\t/\tFALSE\t0\tsid\tA\n";
        assert_eq!(run(""), "for no sid", "{own:?}");
        assert_eq!(
            run(sid_a),
            "for sid A",
            "{own:?}: not the empty jar's answer"
        );
        assert_eq!(
            run(sid_a),
            "for sid A",
            "{own:?}: the same cookies, from the cache"
        );
        assert_eq!(fields_named(&server, "Cookie"), sent, "{own:?}");
    }
}
