//! `-L` and its company: following redirects as curl does (`--max-redirs`, exit status 47,
//! `%{num_redirects}`, every hop's head with `-i` and `-D`), and where `-u` credentials go
//! along the way (`--location-trusted`).

mod common;

use common::*;

/// base64 of `alice:pw`, as curl sends `-u alice:pw`.
const ALICE: &str = "Basic YWxpY2U6cHc=";

fn targets(server: &Server) -> Vec<String> {
    server.requests().into_iter().map(|r| r.target).collect()
}

#[test]
fn redirects_are_not_followed_without_location() {
    let server = Server::start(vec![
        Reply::Send(response("302 Found", "Location: /next\r\n", b"moved")),
        ok(b"must not be fetched"),
    ]);
    let output = wayfarer(&[
        "-w",
        " %{http_code} %{num_redirects}",
        &server.url("/start"),
    ]);
    assert_exit(&output, 0);
    assert_eq!(output.stdout, b"moved 302 0");
    assert_eq!(targets(&server), ["/start"]);
}

#[test]
fn location_follows_the_chain_to_the_end() {
    let server = Server::start_with(|port| {
        vec![
            redirect("301 Moved Permanently", "/b?x=1"),
            // An absolute Location, and a relative one resolved against /b.
            redirect("302 Found", &format!("http://127.0.0.1:{port}/c/d")),
            redirect("303 See Other", "e"),
            ok(b"the end"),
        ]
    });
    let output = wayfarer(&[
        "-L",
        "-w",
        "\n%{http_code} %{num_redirects} %{url_effective}",
        &server.url("/a"),
    ]);
    assert_exit(&output, 0);
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        format!("the end\n200 3 {}", server.url("/c/e"))
    );
    assert_eq!(targets(&server), ["/a", "/b?x=1", "/c/d", "/c/e"]);
    assert_eq!(stderr(&output), "");
}

#[test]
fn location_has_a_short_option_and_a_long_one() {
    for option in ["-L", "--location"] {
        let server = Server::start(vec![redirect("302 Found", "/there"), ok(b"there")]);
        let output = wayfarer(&[option, &server.url("/here")]);
        assert_exit(&output, 0);
        assert_eq!(output.stdout, b"there", "{option}");
    }
}

#[test]
fn include_prints_every_hops_head_then_the_final_body() {
    let server = Server::start(vec![
        Reply::Send(response(
            "302 Found",
            "Location: /two\r\nConnection: close\r\n",
            b"hop one's body is not written",
        )),
        Reply::Send(response("200 OK", "X-Hop: 2\r\n", b"final")),
    ]);
    let output = wayfarer(&["-i", "-L", &server.url("/one")]);
    assert_exit(&output, 0);
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        "HTTP/1.1 302 Found\r\nContent-Length: 29\r\nLocation: /two\r\nConnection: close\r\n\r\n\
         HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-Hop: 2\r\n\r\nfinal"
    );
}

#[test]
fn dump_header_and_head_write_every_hops_head() {
    let hops = || vec![redirect("307 Temporary Redirect", "/two"), ok(b"final")];
    let heads = "HTTP/1.1 307 Temporary Redirect\r\nContent-Length: 0\r\nLocation: /two\r\n\
                 Connection: close\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n";

    let server = Server::start(hops());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("heads.txt");
    let output = wayfarer(&["-L", "-D", path.to_str().unwrap(), &server.url("/one")]);
    assert_exit(&output, 0);
    assert_eq!(output.stdout, b"final");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), heads);

    // -I follows with HEAD and writes the heads only.
    let server = Server::start(vec![
        redirect("307 Temporary Redirect", "/two"),
        Reply::Send(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n".to_vec()),
    ]);
    let output = wayfarer(&["-I", "-L", &server.url("/one")]);
    assert_exit(&output, 0);
    assert_eq!(String::from_utf8_lossy(&output.stdout), heads);
    let methods: Vec<String> = server.requests().into_iter().map(|r| r.method).collect();
    assert_eq!(methods, ["HEAD", "HEAD"]);
}

#[test]
fn one_redirect_too_many_exits_47_as_curl_words_it() {
    let server = Server::start(vec![
        redirect("302 Found", "/1"),
        redirect("302 Found", "/2"),
        redirect("302 Found", "/3"),
        ok(b"never reached"),
    ]);
    let output = wayfarer(&[
        "-L",
        "--max-redirs",
        "2",
        "-w",
        "%{num_redirects}",
        &server.url("/0"),
    ]);
    assert_exit(&output, 47);
    assert_eq!(
        assert_error_line(&output, 47),
        "wayfarer: (47) Maximum (2) redirects followed"
    );
    // Two redirects followed, the third refused: no fourth request, and -w still reports.
    assert_eq!(targets(&server), ["/0", "/1", "/2"]);
    assert_eq!(output.stdout, b"2");

    // --max-redirs 0 refuses the first one.
    let server = Server::start(vec![redirect("301 Moved Permanently", "/1")]);
    let output = wayfarer(&["-L", "--max-redirs", "0", &server.url("/0")]);
    assert_exit(&output, 47);
    assert_eq!(
        assert_error_line(&output, 47),
        "wayfarer: (47) Maximum (0) redirects followed"
    );
    assert_eq!(targets(&server), ["/0"]);
}

#[test]
fn a_chain_cut_short_by_max_redirs_still_shows_its_heads_and_last_url() {
    let chain = || {
        Server::start(vec![
            redirect("302 Found", "/1"),
            redirect("301 Moved Permanently", "/2"),
            redirect("302 Found", "/3"),
        ])
    };
    let head = |status: &str, to: &str| {
        format!(
            "HTTP/1.1 {status}\r\nContent-Length: 0\r\nLocation: {to}\r\nConnection: close\r\n\r\n"
        )
    };
    let heads = [
        head("302 Found", "/1"),
        head("301 Moved Permanently", "/2"),
        head("302 Found", "/3"),
    ]
    .concat();

    // As curl does: each head received is written before the failure, and the last URL
    // requested is the effective one.
    let server = chain();
    let output = wayfarer(&[
        "-s",
        "-i",
        "-L",
        "--max-redirs",
        "2",
        "-w",
        "%{url_effective} %{http_code}",
        &server.url("/0"),
    ]);
    assert_exit(&output, 47);
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        format!("{heads}{} 302", server.url("/2"))
    );

    let server = chain();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("heads.txt");
    let output = wayfarer(&[
        "-s",
        "-L",
        "--max-redirs",
        "2",
        "-D",
        path.to_str().unwrap(),
        &server.url("/0"),
    ]);
    assert_exit(&output, 47);
    assert_eq!(output.stdout, b"");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), heads);
}

/// A server that redirects `count` times (`/0` to `/1`, ...) and then answers `done`.
fn redirects(count: usize) -> Server {
    let mut replies: Vec<Reply> = (1..=count)
        .map(|i| redirect("302 Found", &format!("/{i}")))
        .collect();
    replies.push(ok(b"done"));
    Server::start(replies)
}

#[test]
fn the_default_limit_is_curls_50_and_minus_one_lifts_it() {
    let server = redirects(50);
    let output = wayfarer(&["-L", "-w", " %{num_redirects}", &server.url("/0")]);
    assert_exit(&output, 0);
    assert_eq!(output.stdout, b"done 50");

    let server = redirects(51);
    let output = wayfarer(&["-L", &server.url("/0")]);
    assert_exit(&output, 47);
    assert_eq!(
        assert_error_line(&output, 47),
        "wayfarer: (47) Maximum (50) redirects followed"
    );
    assert_eq!(server.requests().len(), 51);

    let server = redirects(60);
    let output = wayfarer(&[
        "-L",
        "--max-redirs",
        "-1",
        "-w",
        " %{num_redirects}",
        &server.url("/0"),
    ]);
    assert_exit(&output, 0);
    assert_eq!(output.stdout, b"done 60");
}

#[test]
fn a_post_becomes_a_get_on_302_and_stays_a_post_on_307() {
    let server = Server::start(vec![redirect("302 Found", "/got"), ok(b"")]);
    let output = wayfarer(&["-L", "-d", "a=1", &server.url("/form")]);
    assert_exit(&output, 0);
    let requests = server.requests();
    assert_eq!(requests[0].method, "POST");
    assert_eq!(requests[0].body, b"a=1");
    assert_eq!(requests[1].method, "GET");
    assert_eq!(requests[1].body, b"");
    assert_eq!(requests[1].header("content-type"), None);
    assert_eq!(requests[1].header("content-length"), None);

    // A 307 sends the same body again; a --data-binary file is read again for it.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("upload.bin");
    let blob: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
    std::fs::write(&path, &blob).unwrap();
    let server = Server::start(vec![
        redirect("307 Temporary Redirect", "/again"),
        ok(b"stored"),
    ]);
    let output = wayfarer(&[
        "-L",
        "--data-binary",
        &format!("@{}", path.display()),
        &server.url("/upload"),
    ]);
    assert_exit(&output, 0);
    assert_eq!(output.stdout, b"stored");
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    for request in &requests {
        assert_eq!(request.method, "POST");
        assert_eq!(request.header("content-length"), Some("100000"));
        assert!(request.body == blob, "{} bytes", request.body.len());
    }
    assert_eq!(requests[1].target, "/again");
}

#[test]
fn user_credentials_go_with_the_first_request() {
    let cases = [
        ("alice:pw", ALICE),
        // A user alone sends an empty password, as curl's `-u alice:` does.
        ("alice", "Basic YWxpY2U6"),
        // The user name ends at the first colon; the password may contain more.
        ("alice:pa:ss", "Basic YWxpY2U6cGE6c3M="),
    ];
    for (user, expected) in cases {
        let server = Server::start(vec![ok(b"")]);
        let output = wayfarer(&["-u", user, &server.url("/")]);
        assert_exit(&output, 0);
        assert_eq!(
            server.only_request().header("authorization"),
            Some(expected),
            "{user}"
        );
    }
    let server = Server::start(vec![ok(b"")]);
    let output = wayfarer(&["--user", "alice:pw", &server.url("/")]);
    assert_exit(&output, 0);
    assert_eq!(server.only_request().header("authorization"), Some(ALICE));
}

#[test]
fn user_replaces_url_credentials_and_an_authorization_header_wins() {
    let server = Server::start(vec![ok(b"")]);
    let url = format!("http://bob:url@127.0.0.1:{}/", server.port);
    let output = wayfarer(&["-u", "alice:pw", &url]);
    assert_exit(&output, 0);
    let request = server.only_request();
    assert_eq!(request.header_values("authorization"), [ALICE]);

    let server = Server::start(vec![ok(b"")]);
    let output = wayfarer(&[
        "-u",
        "alice:pw",
        "-H",
        "Authorization: Bearer t",
        &server.url("/"),
    ]);
    assert_exit(&output, 0);
    assert_eq!(
        server.only_request().header_values("authorization"),
        ["Bearer t"]
    );
}

#[test]
fn credentials_stay_with_the_first_origin_and_come_back_to_it() {
    // 127.0.0.1:P -> localhost:P (another host name, same server) -> 127.0.0.1:P again.
    let server = Server::start_with(|port| {
        vec![
            redirect("302 Found", &format!("http://localhost:{port}/elsewhere")),
            redirect("302 Found", &format!("http://127.0.0.1:{port}/back")),
            ok(b"home"),
        ]
    });
    let output = wayfarer(&["-L", "-u", "alice:pw", &server.url("/start")]);
    assert_exit(&output, 0);
    assert_eq!(output.stdout, b"home");
    let requests = server.requests();
    let sent: Vec<(&str, Option<&str>)> = requests
        .iter()
        .map(|r| (r.target.as_str(), r.header("authorization")))
        .collect();
    assert_eq!(
        sent,
        [
            ("/start", Some(ALICE)),
            ("/elsewhere", None),
            ("/back", Some(ALICE)),
        ]
    );
    assert_eq!(
        requests[1].header("host"),
        Some(format!("localhost:{}", server.port).as_str())
    );
}

#[test]
fn another_port_is_another_host_for_every_kind_of_credentials() {
    // -u, the URL's credentials, and an Authorization header all stay behind:
    // (options, credentials in the URL, what the first host gets).
    let cases: [(&[&str], bool, &str); 3] = [
        (&["-u", "alice:pw"], false, ALICE),
        (&[], true, "Basic Ym9iOnVybA=="),
        (&["-H", "Authorization: Bearer t"], false, "Bearer t"),
    ];
    for (options, in_url, expected) in cases {
        let other = Server::start(vec![ok(b"other")]);
        let first = Server::start(vec![redirect("302 Found", &other.url("/x"))]);
        let url = match in_url {
            true => format!("http://bob:url@127.0.0.1:{}/", first.port),
            false => first.url("/"),
        };
        let mut args = vec!["-L"];
        args.extend_from_slice(options);
        args.push(&url);
        let output = wayfarer(&args);
        assert_exit(&output, 0);
        assert_eq!(output.stdout, b"other");
        assert_eq!(first.only_request().header("authorization"), Some(expected));
        assert_eq!(
            other.only_request().header("authorization"),
            None,
            "{args:?}"
        );
    }
}

#[test]
fn location_trusted_sends_the_credentials_to_every_host() {
    for options in [
        &["-u", "alice:pw"][..],
        &["-H", "Authorization: Basic YWxpY2U6cHc="],
    ] {
        let other = Server::start(vec![ok(b"other")]);
        let first = Server::start(vec![redirect("302 Found", &other.url("/x"))]);
        let mut args = vec!["--location-trusted"];
        args.extend_from_slice(options);
        let url = first.url("/");
        args.push(&url);
        let output = wayfarer(&args);
        assert_exit(&output, 0);
        assert_eq!(output.stdout, b"other", "--location-trusted implies -L");
        assert_eq!(first.only_request().header("authorization"), Some(ALICE));
        assert_eq!(
            other.only_request().header("authorization"),
            Some(ALICE),
            "{options:?}"
        );
    }
}

#[test]
fn a_401_is_not_answered_with_the_credentials_again() {
    // The credentials went with the request; a 401 to them is the answer, as with curl.
    let server = Server::start(vec![
        Reply::Send(response(
            "401 Unauthorized",
            "WWW-Authenticate: Basic realm=\"x\"\r\n",
            b"no",
        )),
        ok(b"must not be fetched"),
    ]);
    let output = wayfarer(&[
        "-L",
        "-u",
        "alice:wrong",
        "-w",
        " %{http_code}",
        &server.url("/"),
    ]);
    assert_exit(&output, 0);
    assert_eq!(output.stdout, b"no 401");
    assert_eq!(server.requests().len(), 1);
}

#[test]
fn verbose_shows_each_hop_with_the_follow_up_between() {
    let server = Server::start(vec![redirect("302 Found", "/b"), ok(b"b")]);
    let output = wayfarer(&["-v", "-L", &server.url("/a")]);
    assert_exit(&output, 0);
    let err = stderr(&output);
    let lines: Vec<&str> = err.lines().collect();
    let index = |wanted: &str| {
        lines
            .iter()
            .position(|l| *l == wanted || l.ends_with(&format!("ms] {wanted}")))
            .unwrap_or_else(|| panic!("no {wanted:?} in {err}"))
    };
    let follow = index(&format!("following 302 with GET {}", server.url("/b")));
    assert!(
        index("> GET /a HTTP/1.1") < index("< HTTP/1.1 302 Found"),
        "{err}"
    );
    assert!(index("< Location: /b") < follow, "{err}");
    assert!(follow < index("> GET /b HTTP/1.1"), "{err}");
    assert!(
        index("> GET /b HTTP/1.1") < index("< HTTP/1.1 200 OK"),
        "{err}"
    );
    assert!(index("< HTTP/1.1 200 OK") < index("call end"), "{err}");
    // Two connections (the first one said Connection: close), one timeline: times only grow.
    assert_eq!(
        err.matches("ms] connected to 127.0.0.1:").count(),
        2,
        "{err}"
    );
    let times: Vec<f64> = lines
        .iter()
        .filter_map(|l| l.strip_prefix("* ["))
        .map(|l| l.split_once("ms]").unwrap().0.trim().parse().unwrap())
        .collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "{err}");
}

#[test]
fn a_redirect_that_cannot_be_followed_fails_as_with_curl() {
    for (location, code, says) in [
        ("http://[::1", 3, "is not a URL"),
        ("ftp://127.0.0.1/file", 1, "ftp: URL"),
    ] {
        for parallel in [false, true] {
            let server = Server::start(vec![Reply::Send(response(
                "302 Found",
                &format!("Location: {location}\r\n"),
                b"moved",
            ))]);
            let mut args = vec!["-L"];
            if parallel {
                args.push("-Z");
            }
            let url = server.url("/start");
            args.push(&url);
            let output = wayfarer(&args);
            let line = assert_error_line(&output, code);
            assert!(line.contains(says), "{location}: {line}");
            assert!(output.stdout.is_empty(), "{location}: the redirect's body");
            assert_eq!(targets(&server), ["/start"]);
        }
    }
    // With -i the redirect's head is written before the failure (as curl writes a head as it
    // arrives), and still not its body: one URL alone, and among several (-Z or not).
    for several in [false, true] {
        for parallel in [false, true] {
            let moved = response("302 Found", "Location: ftp://127.0.0.1/file\r\n", b"moved");
            let head = &moved[..moved.len() - b"moved".len()];
            let count = if several { 2 } else { 1 };
            let server = Server::start((0..count).map(|_| Reply::Send(moved.clone())).collect());
            let mut args = vec!["-s", "-i", "-L"];
            if parallel {
                args.push("-Z");
            }
            let urls: Vec<String> = (0..count).map(|i| server.url(&format!("/{i}"))).collect();
            args.extend(urls.iter().map(String::as_str));
            let output = wayfarer(&args);
            assert_exit(&output, 1);
            assert_eq!(
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&head.repeat(count)),
                "several {several}, -Z {parallel}"
            );
        }
    }
    // Without -L the redirect is the answer, as before.
    let server = Server::start(vec![Reply::Send(response(
        "302 Found",
        "Location: ftp://127.0.0.1/file\r\n",
        b"moved",
    ))]);
    let output = wayfarer(&[&server.url("/start")]);
    assert_exit(&output, 0);
    assert_eq!(output.stdout, b"moved");
}
