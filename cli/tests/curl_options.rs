//! curl's everyday options beyond the basics (`-m`, `-O`, `-D`, `--fail-with-body`, `-w`, the
//! message for an unknown option) and `wayfarer demo`, run as a user would.

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

use common::*;

#[test]
fn m_is_max_time() {
    let server = Server::start(vec![Reply::Stall(Duration::from_secs(10))]);
    let started = Instant::now();
    let output = wayfarer(&["-m", "0.3", &server.url("/slow")]);
    assert_exit(&output, 28);
    assert!(assert_error_line(&output, 28).contains("call timed out after 300ms"));
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[test]
fn remote_name_saves_under_the_urls_file_name() {
    let server = Server::start(vec![ok(b"file contents")]);
    let dir = tempfile::tempdir().unwrap();
    let output = Command::new(BIN)
        .current_dir(dir.path())
        .args(["-O", &server.url("/files/report.txt?version=2")])
        .output()
        .unwrap();
    assert_exit(&output, 0);
    assert_eq!(output.stdout, b"", "the body goes to the file only");
    let saved = std::fs::read(dir.path().join("report.txt")).unwrap();
    assert_eq!(saved, b"file contents");
    assert_eq!(server.only_request().target, "/files/report.txt?version=2");
}

#[test]
fn remote_name_without_a_file_name_exits_23_before_sending() {
    let server = Server::start(vec![ok(b"index")]);
    let dir = tempfile::tempdir().unwrap();
    let output = Command::new(BIN)
        .current_dir(dir.path())
        .args(["-O", &server.url("/dir/")])
        .output()
        .unwrap();
    assert_exit(&output, 23);
    assert!(assert_error_line(&output, 23).contains("names no file"));
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    assert!(server.requests().is_empty());
}

#[test]
fn dump_header_writes_the_head_to_a_file_or_stdout() {
    let reply = || Reply::Send(response("200 OK", "X-Kind: demo\r\n", b"body"));
    let server = Server::start(vec![reply(), reply()]);
    let head = "HTTP/1.1 200 OK\r\nContent-Length: 4\r\nX-Kind: demo\r\n\r\n";

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("head.txt");
    let output = wayfarer(&["-D", path.to_str().unwrap(), &server.url("/")]);
    assert_exit(&output, 0);
    assert_eq!(output.stdout, b"body");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), head);

    let output = wayfarer(&["--dump-header", "-", &server.url("/")]);
    assert_exit(&output, 0);
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        format!("{head}body")
    );
}

#[test]
fn fail_with_body_writes_the_response_then_exits_22() {
    let server = Server::start(vec![Reply::Send(response(
        "503 Service Unavailable",
        "",
        b"try later",
    ))]);
    let output = wayfarer(&["--fail-with-body", "-i", &server.url("/busy")]);
    assert_exit(&output, 22);
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 9\r\n\r\ntry later"
    );
    assert!(assert_error_line(&output, 22).contains("503"));

    // A success is unaffected.
    let server = Server::start(vec![ok(b"fine")]);
    let output = wayfarer(&["--fail-with-body", &server.url("/")]);
    assert_exit(&output, 0);
    assert_eq!(output.stdout, b"fine");
}

#[test]
fn write_out_reports_the_transfer_after_the_body() {
    let server = Server::start(vec![ok(b"0123456789")]);
    let url = server.url("/w?q=1");
    let output = wayfarer(&[
        "-w",
        r"\n%{http_code} %{size_download} %{num_connects} %{url_effective} 100%%\n",
        &url,
    ]);
    assert_exit(&output, 0);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(stdout, format!("0123456789\n200 10 1 {url} 100%\n"));
}

#[test]
fn write_out_reports_the_content_type_and_the_size_of_every_head() {
    let moved = response("302 Found", "Location: /page\r\nConnection: close\r\n", b"");
    let page = response(
        "200 OK",
        "Content-Type: text/html; charset=UTF-8\r\n",
        b"hello",
    );
    // curl's %{size_header}: every head as received, up to and including its blank line.
    let head_len = |reply: &[u8]| {
        let end = reply.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
        end + 4
    };
    let total = head_len(&moved) + head_len(&page);
    let bare = response("200 OK", "", b"hi");
    let server = Server::start(vec![
        Reply::Send(moved.clone()),
        Reply::Send(page),
        Reply::Send(bare.clone()),
    ]);
    let format = "[%{content_type}] %{size_header} %{size_download} %{num_redirects}";
    let output = wayfarer(&["-L", "-o", "/dev/null", "-w", format, &server.url("/")]);
    assert_exit(&output, 0);
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        format!("[text/html; charset=UTF-8] {total} 5 1")
    );
    // No Content-Type: empty, as with curl.
    let output = wayfarer(&["-w", format, &server.url("/bare")]);
    assert_exit(&output, 0);
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        format!("hi[] {} 2 0", head_len(&bare))
    );
    assert!(output.stderr.is_empty(), "{}", stderr(&output));
}

#[test]
fn interim_heads_are_shown_and_counted_before_the_final_one_of_each_hop() {
    // As curl does: `-i` writes a 1xx head where it came, and %{size_header} counts it.
    let early = "HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n";
    let go_on = "HTTP/1.1 100 Continue\r\n\r\n";
    let moved = response("302 Found", "Location: /page\r\nConnection: close\r\n", b"");
    let page = response("200 OK", "", b"hello");
    let server = Server::start(vec![
        Reply::Send([early.as_bytes(), &moved].concat()),
        Reply::Send([go_on.as_bytes(), early.as_bytes(), &page].concat()),
    ]);
    let output = wayfarer(&["-s", "-i", "-L", "-w", "|%{size_header}", &server.url("/")]);
    assert_exit(&output, 0);
    let expected = [
        early.as_bytes(),
        &moved,
        go_on.as_bytes(),
        early.as_bytes(),
        &page,
    ]
    .concat();
    let heads = expected.len() - b"hello".len();
    let mut want = expected;
    want.extend_from_slice(format!("|{heads}").as_bytes());
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&want)
    );
}

#[test]
fn a_hop_that_fails_after_interim_heads_still_shows_them_after_the_hops_before() {
    // curl writes every head it received before the error: those of the redirects it
    // followed, then the 1xx heads of the hop that failed, in the order they came.
    let early = "HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n";
    let go_on = "HTTP/1.1 100 Continue\r\n\r\n";
    let moved = response("302 Found", "Location: /page\r\nConnection: close\r\n", b"");
    let endings: [&[u8]; 2] = [b"", b"garbage that is not HTTP\r\n\r\n"];
    for ending in endings {
        let server = Server::start(vec![
            Reply::Send([early.as_bytes(), &moved].concat()),
            Reply::Send([go_on.as_bytes(), early.as_bytes(), ending].concat()),
        ]);
        let dir = tempfile::tempdir().unwrap();
        let dumped = dir.path().join("heads.txt");
        let output = wayfarer(&[
            "-s",
            "-i",
            "-L",
            "-D",
            dumped.to_str().unwrap(),
            "-w",
            "|%{size_header}",
            &server.url("/"),
        ]);
        assert_ne!(output.status.code(), Some(0), "{}", stderr(&output));
        let heads = [early.as_bytes(), &moved, go_on.as_bytes(), early.as_bytes()].concat();
        let mut want = heads.clone();
        want.extend_from_slice(format!("|{}", heads.len()).as_bytes());
        assert_eq!(
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&want)
        );
        assert_eq!(std::fs::read(&dumped).unwrap(), heads);
    }
    // Without -L, the one hop's interim heads are shown the same way.
    let server = Server::start(vec![Reply::Send(early.as_bytes().to_vec())]);
    let output = wayfarer(&["-s", "-i", &server.url("/")]);
    assert_ne!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(String::from_utf8_lossy(&output.stdout), early);
}

#[test]
fn verbose_marks_no_end_of_an_interim_head() {
    // curl 7.88 writes a 1xx head's lines and goes on; only a final head ends with a lone `<`.
    let early = "HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n";
    let server = Server::start(vec![Reply::Send(
        [early.as_bytes(), &response("200 OK", "", b"hi")].concat(),
    )]);
    let output = wayfarer(&["-v", &server.url("/")]);
    assert_exit(&output, 0);
    let err = stderr(&output);
    let heads: Vec<&str> = err
        .lines()
        .filter(|l| l.starts_with('<') || l.contains("] response: "))
        .collect();
    assert_eq!(
        heads,
        [
            "< HTTP/1.1 103 Early Hints",
            "< Link: </a>",
            heads[2],
            "< HTTP/1.1 200 OK",
            "< Content-Length: 2",
            "<"
        ],
        "{err}"
    );
    assert!(heads[2].ends_with("] response: HTTP/1.1 200 OK"), "{err}");
}

#[test]
fn write_out_times_are_seconds_in_call_order() {
    let server = Server::start(vec![ok(b"timed")]);
    let output = wayfarer(&[
        "-s",
        "-o",
        "/dev/null",
        "-w",
        "%{time_namelookup} %{time_connect} %{time_appconnect} %{time_starttransfer} \
         %{time_total} %{speed_download}",
        &server.url("/"),
    ]);
    assert_exit(&output, 0);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let fields: Vec<&str> = stdout.split(' ').collect();
    assert_eq!(fields.len(), 6, "{stdout}");
    let times: Vec<f64> = fields[..5].iter().map(|f| f.parse().unwrap()).collect();
    for field in &fields[..5] {
        // Seconds with microseconds, as curl prints them.
        assert_eq!(field.split('.').nth(1).map(str::len), Some(6), "{stdout}");
    }
    // Plain HTTP has no TLS handshake; the other phases follow one another.
    assert_eq!(times[2], 0.0, "{stdout}");
    assert!(
        times[0] <= times[1] && times[1] <= times[3] && times[3] <= times[4],
        "{stdout}"
    );
    assert!(times[4] > 0.0, "{stdout}");
    fields[5]
        .parse::<u64>()
        .expect("a whole number of bytes per second");
}

#[test]
fn write_out_is_written_when_the_call_fails_too() {
    let refused = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let output = wayfarer(&[
        "-s",
        "-w",
        "%{http_code} %{num_connects}",
        &format!("http://127.0.0.1:{refused}/"),
    ]);
    assert_exit(&output, 7);
    assert_eq!(output.stdout, b"000 0");
}

#[test]
fn write_out_after_too_many_redirects_shows_the_last_status() {
    let server = Server::start_with(|port| {
        vec![
            redirect("302 Found", &format!("http://127.0.0.1:{port}/1")),
            redirect("302 Found", &format!("http://127.0.0.1:{port}/2")),
        ]
    });
    let output = wayfarer(&[
        "-s",
        "-L",
        "--max-redirs",
        "1",
        "-w",
        "%{http_code} %{num_redirects}",
        &server.url("/0"),
    ]);
    assert_exit(&output, 47);
    assert_eq!(String::from_utf8_lossy(&output.stdout), "302 1");
}

#[test]
fn write_out_warns_about_unknown_variables() {
    let server = Server::start(vec![ok(b"")]);
    let output = wayfarer(&["-w", "[%{remote_ip}]", &server.url("/")]);
    assert_exit(&output, 0);
    assert_eq!(output.stdout, b"[]");
    assert_eq!(
        stderr(&output),
        "wayfarer: unknown --write-out variable: 'remote_ip'\n"
    );
}

#[test]
fn an_unknown_option_exits_2_with_a_one_line_hint() {
    for option in ["--frobnicate", "-j"] {
        let output = wayfarer(&[option, "http://127.0.0.1:9/"]);
        assert_exit(&output, 2);
        assert_eq!(
            stderr(&output),
            format!("wayfarer: option {option}: is unknown (try 'wayfarer --help')\n")
        );
        assert_eq!(output.stdout, b"");
    }
}

#[test]
fn demo_runs_offline_against_its_own_origin() {
    let output = wayfarer(&["demo"]);
    assert_exit(&output, 0);
    let gzip_lines: String = (1..=6)
        .map(|i| format!("Line {i} of 6: sent gzip-compressed, decoded as it was read.\n"))
        .collect();
    let cached = "Fresh for 60 seconds, so the client's cache may serve it again.\n";
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        format!(
            "Hello from the wayfarer demo origin!\n\
             Same connection, second request.\n\
             This body came in three chunks.\n\
             Received 20 bytes after 100 Continue.\n\
             Followed the redirect to /redirect/here.\n\
             {gzip_lines}\
             {cached}{cached}\
             Sent back the cookie: visit=1.\n"
        )
    );
    let err = stderr(&output);
    for step in [
        "== 1/8 A plain GET",
        "== 2/8 Keep-alive",
        "== 3/8 A chunked body",
        "== 4/8 Expect: 100-continue",
        "== 5/8 A redirect, followed",
        "== 6/8 A gzip body, decoded",
        "== 7/8 A cache hit",
        "== 8/8 A cookie, stored and sent back",
    ] {
        assert!(err.contains(step), "{step}: {err}");
    }
    // One connection serves every request: nine calls (the cache step makes two), ten
    // requests (two redirects, and one fetch the cache answers without a request).
    assert_eq!(
        err.matches("ms] connected to 127.0.0.1:").count(),
        1,
        "{err}"
    );
    // Every call but the first and the cache hit reuses it; a redirect's second request stays
    // on the connection its call already holds, which acquires nothing again.
    assert_eq!(
        err.matches("ms] using connection c1 (reused)").count(),
        7,
        "{err}"
    );
    assert_eq!(err.matches("ms] call start: ").count(), 9, "{err}");
    assert!(err.contains("< Transfer-Encoding: chunked"), "{err}");
    assert!(err.contains("response body read (32 bytes)"), "{err}");
    // The body of the upload goes out only after the interim response.
    let interim = err.find("interim response 100 Continue").expect(&err);
    let sent = err.find("request body sent (20 bytes)").expect(&err);
    assert!(interim < sent, "{err}");
    assert!(err.contains("> Expect: 100-continue"), "{err}");
    // The redirect: the 302, the follow-up to its Location, the second request.
    let step5 = &err[err.find("== 5/8").unwrap()..err.find("== 6/8").unwrap()];
    let at = |what: &str| {
        step5
            .find(what)
            .unwrap_or_else(|| panic!("{what}: {step5}"))
    };
    assert!(at("< HTTP/1.1 302 Found") < at("< Location: /redirect/here"));
    assert!(at("< Location: /redirect/here") < at("] following 302 with GET http://127.0.0.1:"));
    assert!(at("] following 302") < at("> GET /redirect/here HTTP/1.1"));
    // The gzip body: asked for, sent compressed, and more bytes read than went over the wire.
    let step6 = &err[err.find("== 6/8").unwrap()..err.find("== 7/8").unwrap()];
    assert!(step6.contains("> Accept-Encoding: gzip"), "{step6}");
    assert!(step6.contains("< Content-Encoding: gzip"), "{step6}");
    let wire: usize = step6
        .split("< Content-Length: ")
        .nth(1)
        .and_then(|rest| rest.lines().next())
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("no Content-Length: {step6}"));
    assert!(
        step6.contains(&format!("response body read ({} bytes)", gzip_lines.len())),
        "{step6}"
    );
    assert!(wire < gzip_lines.len(), "{wire} compressed bytes: {step6}");
    // The cache: the first fetch misses and goes to the origin, the second is a hit that sends
    // nothing and uses no connection.
    let step7 = &err[err.find("== 7/8").unwrap()..err.find("== 8/8").unwrap()];
    let (first, second) = step7
        .split_once("The same request again:")
        .unwrap_or_else(|| panic!("no second fetch: {step7}"));
    assert!(first.contains("ms] cache miss"), "{first}");
    assert!(first.contains("> GET /cached HTTP/1.1"), "{first}");
    assert!(first.contains("< Cache-Control: max-age=60"), "{first}");
    assert!(second.contains("ms] cache hit"), "{second}");
    assert!(!second.contains("cache miss"), "{second}");
    assert!(!second.contains("> GET"), "no request: {second}");
    assert!(
        !second.contains("using connection"),
        "no connection: {second}"
    );
    assert!(
        second.contains(&format!("response body read ({} bytes)", cached.len())),
        "{second}"
    );
    // The cookie: set on the redirect, sent on the follow-up, not before.
    let step8 = &err[err.find("== 8/8").unwrap()..];
    let at = |what: &str| {
        step8
            .find(what)
            .unwrap_or_else(|| panic!("{what}: {step8}"))
    };
    assert!(at("< Set-Cookie: visit=1") < at("> GET /cookie/back HTTP/1.1"));
    assert!(at("> GET /cookie/back HTTP/1.1") < at("> Cookie: visit=1"));
    assert_eq!(step8.matches("> Cookie:").count(), 1, "{step8}");
}

#[test]
fn binary_output_to_a_terminal_is_refused_unless_output_is_given() {
    let body = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
    let server = Server::start(vec![ok(body), ok(body)]);
    let output = on_a_terminal(&server.url("/logo.png"));
    assert_exit(&output, 23);
    let shown = String::from_utf8_lossy(&output.stdout);
    assert!(
        shown.contains("binary output can mess up your terminal"),
        "{shown}"
    );
    assert!(!shown.contains("IHDR"), "{shown}");

    // `-o -` says the terminal is the place.
    let output = on_a_terminal(&format!("-o - {}", server.url("/logo.png")));
    assert_exit(&output, 0);
    assert!(output.stdout.windows(4).any(|w| w == b"IHDR"));
}
