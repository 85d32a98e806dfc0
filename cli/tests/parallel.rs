//! `-Z`/`--parallel` and `--parallel-max`: several URLs fetched at once through the
//! dispatcher, their bodies written in the order the URLs were given; without `-Z`, one after
//! another.

mod common;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::Command;
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_wayfarer");

/// How long the server holds a request waiting for company.
const HOLD: Duration = Duration::from_secs(1);

#[derive(Default)]
struct Gate {
    /// Requests being held now, and the most ever held at once.
    state: Mutex<(usize, usize)>,
    changed: Condvar,
}

/// A server that holds each request until `together` are in flight at once (or [`HOLD`]
/// passed), then answers it with its path, the first one last; returns its address and the
/// gate, which records the most requests ever in flight together.
fn server(together: usize) -> (String, Arc<Gate>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr").to_string();
    let gate = Arc::new(Gate::default());
    let shared = gate.clone();
    thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { return };
            let gate = shared.clone();
            thread::spawn(move || serve(stream, &gate, together));
        }
    });
    (addr, gate)
}

fn serve(mut stream: TcpStream, gate: &Gate, together: usize) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
            match stream.read(&mut chunk) {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        }
        let end = buf.windows(4).position(|w| w == b"\r\n\r\n").unwrap_or(0) + 4;
        let head = String::from_utf8_lossy(&buf[..end]).into_owned();
        buf.drain(..end);
        let path = head.split(' ').nth(1).unwrap_or("").to_owned();
        // A path that asks for early hints gets them at once, before waiting for company.
        if path.starts_with("/early") {
            let hints = format!("HTTP/1.1 103 Early Hints\r\nLink: <{path}.css>\r\n\r\n");
            if stream.write_all(hints.as_bytes()).is_err() {
                return;
            }
        }
        {
            let mut state = gate.state.lock().unwrap();
            state.0 += 1;
            state.1 = state.1.max(state.0);
            gate.changed.notify_all();
            let (mut state, _) = gate
                .changed
                .wait_timeout_while(state, HOLD, |s| s.1 < together)
                .unwrap();
            state.0 -= 1;
        }
        // The first URL's answer comes last, so output order is the command's doing.
        if path == "/a" {
            thread::sleep(Duration::from_millis(100));
        }
        let answer = format!(
            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{path}",
            path.len()
        );
        if stream.write_all(answer.as_bytes()).is_err() {
            return;
        }
    }
}

fn most_at_once(gate: &Gate) -> usize {
    gate.state.lock().unwrap().1
}

#[test]
fn parallel_fetches_urls_at_once_and_writes_them_in_order() {
    let (addr, gate) = server(3);
    let urls: Vec<String> = ["a", "b", "c"]
        .iter()
        .map(|p| format!("http://{addr}/{p}"))
        .collect();
    let out = Command::new(BIN)
        .arg("-Z")
        .args(&urls)
        .output()
        .expect("run wayfarer");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout), "/a/b/c");
    assert_eq!(most_at_once(&gate), 3, "the three transfers ran together");
}

#[test]
fn parallel_max_bounds_the_transfers_at_once() {
    let (addr, gate) = server(3);
    let urls: Vec<String> = ["a", "b", "c", "d"]
        .iter()
        .map(|p| format!("http://{addr}/{p}"))
        .collect();
    let out = Command::new(BIN)
        .args(["--parallel", "--parallel-max", "2"])
        .args(&urls)
        .output()
        .expect("run wayfarer");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout), "/a/b/c/d");
    assert_eq!(most_at_once(&gate), 2);
}

/// What `-i` writes for `path` of [`server`]: the early hints, then the response.
fn with_hints(path: &str) -> String {
    format!(
        "HTTP/1.1 103 Early Hints\r\nLink: <{path}.css>\r\n\r\n\
         HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{path}",
        path.len()
    )
}

#[test]
fn each_transfer_shows_its_own_interim_heads() {
    // Both transfers hear their 103 before either hears its final head; each shows its own.
    for (parallel, together) in [(true, 2), (false, 1)] {
        let (addr, gate) = server(together);
        let mut command = Command::new(BIN);
        if parallel {
            command.arg("-Z");
        }
        let out = command
            .arg("-i")
            .args([
                format!("http://{addr}/early-a"),
                format!("http://{addr}/early-b"),
            ])
            .output()
            .expect("run wayfarer");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            with_hints("/early-a") + &with_hints("/early-b")
        );
        assert_eq!(most_at_once(&gate), together);
    }
}

#[test]
fn without_parallel_the_urls_go_one_after_another() {
    let (addr, gate) = server(2);
    let out = Command::new(BIN)
        .args([format!("http://{addr}/a"), format!("http://{addr}/b")])
        .output()
        .expect("run wayfarer");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout), "/a/b");
    assert_eq!(most_at_once(&gate), 1);
}

#[test]
fn a_failed_transfer_fails_the_command_after_the_others_ran() {
    let (addr, _gate) = server(1);
    let out = Command::new(BIN)
        .args(["-Z", "-s"])
        .arg(format!("http://{addr}/a"))
        .arg("http://127.0.0.1:1/refused")
        .arg(format!("http://{addr}/c"))
        .output()
        .expect("run wayfarer");
    assert_eq!(out.status.code(), Some(7), "could not connect");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "/a/c");
}

#[test]
fn parallel_max_is_checked() {
    let out = Command::new(BIN)
        .args(["-Z", "--parallel-max", "0", "http://127.0.0.1:1/"])
        .output()
        .expect("run wayfarer");
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn data_from_standard_input_goes_to_every_url() {
    // The server closes each connection after its reply, and says so: the second POST must
    // not go on a connection the server may already have closed.
    let closing = |body: &[u8]| {
        common::Reply::Send(common::response("200 OK", "Connection: close\r\n", body))
    };
    let server = common::Server::start(vec![closing(b"1"), closing(b"2")]);
    let output = common::wayfarer_with_stdin(
        &["-s", "-d", "@-", &server.url("/a"), &server.url("/b")],
        b"k=v\n",
    );
    common::assert_exit(&output, 0);
    assert_eq!(output.stdout, b"12");
    let bodies: Vec<Vec<u8>> = server.requests().into_iter().map(|r| r.body).collect();
    assert_eq!(bodies, [b"k=v".to_vec(), b"k=v".to_vec()]);
}

#[test]
fn fail_with_body_writes_each_failed_response_too() {
    let server = common::Server::start(vec![
        common::Reply::Send(common::response("404 Not Found", "", b"missing ")),
        common::ok(b"found "),
        common::Reply::Send(common::response("404 Not Found", "", b"gone")),
    ]);
    let output = common::wayfarer(&[
        "-s",
        "--fail-with-body",
        &server.url("/a"),
        &server.url("/b"),
        &server.url("/c"),
    ]);
    common::assert_exit(&output, 22);
    assert_eq!(output.stdout, b"missing found gone");
}

/// `--fail` with `-i`: a failed transfer writes its head, not its body (curl writes a head
/// as it arrives), and the others are written whole.
#[test]
fn fail_with_include_writes_each_failed_responses_head() {
    let missing = common::response("404 Not Found", "", b"missing");
    let missing_head = &missing[..missing.len() - b"missing".len()];
    let found = common::response("200 OK", "", b"found");
    for parallel in [false, true] {
        let server = common::Server::start(vec![
            common::Reply::Send(missing.clone()),
            common::Reply::Send(found.clone()),
        ]);
        let mut args = vec!["-s", "-i", "--fail"];
        if parallel {
            args.push("-Z");
        }
        let (a, b) = (server.url("/a"), server.url("/b"));
        args.extend([a.as_str(), b.as_str()]);
        let output = common::wayfarer(&args);
        // One after another the last transfer's outcome is the command's; with -Z the first
        // failure's.
        common::assert_exit(&output, if parallel { 22 } else { 0 });
        if !parallel {
            assert_eq!(
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&[missing_head, &found].concat())
            );
        } else {
            // With -Z the server answers in the order connections arrive: either may be the 404.
            let out = String::from_utf8_lossy(&output.stdout).into_owned();
            assert!(!out.contains("missing"), "no failed body: {out}");
            assert_eq!(out.matches("HTTP/1.1 ").count(), 2, "{out}");
            assert!(
                out.contains("found"),
                "the other transfer is written whole: {out}"
            );
        }
    }
}

/// One after another, as with curl, every URL is fetched and the last transfer's outcome is
/// the command's: an earlier failure is reported, not returned.
#[test]
fn one_after_another_the_last_transfer_sets_the_status() {
    let server = common::Server::start(vec![common::ok(b"b")]);
    let output = common::wayfarer(&["http://127.0.0.1:1/a", &server.url("/b")]);
    common::assert_exit(&output, 0);
    assert_eq!(output.stdout, b"b");
    let line = common::assert_error_line(&output, 7);
    assert!(line.contains("127.0.0.1:1"), "{line}");

    let server = common::Server::start(vec![common::ok(b"a")]);
    let output = common::wayfarer(&["-s", &server.url("/a"), "http://127.0.0.1:1/b"]);
    common::assert_exit(&output, 7);
    assert_eq!(output.stdout, b"a");
}

/// `--fail-early` ends the command at the first failure: later URLs are not fetched.
#[test]
fn fail_early_stops_at_the_first_failure() {
    let server = common::Server::start(vec![common::ok(b"a"), common::ok(b"c")]);
    let output = common::wayfarer(&[
        "-s",
        "--fail-early",
        &server.url("/a"),
        "http://127.0.0.1:1/b",
        &server.url("/c"),
    ]);
    common::assert_exit(&output, 7);
    assert_eq!(output.stdout, b"a");
    let targets: Vec<String> = server.requests().into_iter().map(|r| r.target).collect();
    assert_eq!(targets, ["/a"], "nothing after the failure was fetched");
}

/// With `-Z` and `--fail-early` the first failure ends the command too, and its status is
/// the command's.
#[test]
fn fail_early_in_parallel_exits_with_the_failure() {
    let (addr, _gate) = server(1);
    let out = Command::new(BIN)
        .args(["-Z", "-s", "--fail-early"])
        .arg("http://127.0.0.1:1/refused")
        .arg(format!("http://{addr}/b"))
        .output()
        .expect("run wayfarer");
    assert_eq!(out.status.code(), Some(7), "could not connect");
    assert!(
        !String::from_utf8_lossy(&out.stdout).contains("/b"),
        "nothing is written after the failure"
    );
}

#[test]
fn verbose_shows_every_transfer() {
    for parallel in [false, true] {
        // The server closes each connection after its reply, and says so: the second POST must
        // not go on a connection the server may already have closed.
        let closing = |body: &[u8]| {
            common::Reply::Send(common::response("200 OK", "Connection: close\r\n", body))
        };
        // With -Z either request may reach the server first: the replies are alike.
        let server = common::Server::start(vec![closing(b"x"), closing(b"x")]);
        let mut args = vec!["-v"];
        if parallel {
            args.push("-Z");
        }
        let (a, b) = (server.url("/a"), server.url("/b"));
        args.extend([a.as_str(), b.as_str()]);
        let output = common::wayfarer(&args);
        common::assert_exit(&output, 0);
        assert_eq!(output.stdout, b"xx");
        let verbose = common::stderr(&output);
        for line in [
            "> GET /a HTTP/1.1",
            "> GET /b HTTP/1.1",
            "< HTTP/1.1 200 OK",
        ] {
            assert!(verbose.contains(line), "-Z {parallel}: {line} in {verbose}");
        }
    }
}

#[test]
fn binary_output_to_a_terminal_is_refused_for_each_url() {
    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
    for parallel in ["", "-Z "] {
        // A server per URL: with -Z the requests arrive in any order, and a server serves
        // its replies in the order connections arrive.
        let first = common::Server::start(vec![common::ok(b"first\n")]);
        let logo = common::Server::start(vec![common::ok(png)]);
        let last = common::Server::start(vec![common::ok(b"last\n")]);
        let output = common::on_a_terminal(&format!(
            "{parallel}{} {} {}",
            first.url("/a.txt"),
            logo.url("/logo.png"),
            last.url("/z.txt")
        ));
        // One after another the last transfer's outcome is the command's; with -Z, the first
        // failure's (as with curl).
        common::assert_exit(&output, if parallel.is_empty() { 0 } else { 23 });
        let shown = String::from_utf8_lossy(&output.stdout);
        assert!(
            shown.contains("binary output from http://127.0.0.1:") && shown.contains("/logo.png"),
            "{parallel}{shown}"
        );
        assert!(!shown.contains("IHDR"), "{parallel}{shown}");
        // The other transfers are written, in order, as curl writes them.
        let first = shown.find("first").expect(&shown);
        let last = shown.find("last").expect(&shown);
        assert!(first < last, "{shown}");
    }
}

/// As with one URL, a transfer that fails part way still writes, with `-i`, every head it
/// received before the error: those of the redirects it followed, each after its 1xx heads,
/// then the 1xx heads of the hop that failed. Each transfer's heads stay together, in the
/// order the URLs were given.
#[test]
fn a_failed_transfer_still_shows_the_heads_it_received() {
    let early = "HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n";
    let moved = common::response("302 Found", "Location: /page\r\nConnection: close\r\n", b"");
    let fine = common::response("200 OK", "", b"fine");
    for parallel in [false, true] {
        // A server per URL: with -Z the requests arrive in any order, and a server serves its
        // replies in the order connections arrive.
        let failing = common::Server::start(vec![
            common::Reply::Send([early.as_bytes(), &moved].concat()),
            // The redirect's target sends a 103, then closes the connection.
            common::Reply::Send(early.as_bytes().to_vec()),
        ]);
        let other = common::Server::start(vec![common::Reply::Send(fine.clone())]);
        let mut args = vec!["-s", "-i", "-L"];
        if parallel {
            args.push("-Z");
        }
        let (a, b) = (failing.url("/"), other.url("/b"));
        args.extend([a.as_str(), b.as_str()]);
        let output = common::wayfarer(&args);
        // One after another the last transfer's outcome is the command's; with -Z, the first
        // failure's: a response head cut short.
        common::assert_exit(&output, if parallel { 8 } else { 0 });
        let want = [early.as_bytes(), &moved, early.as_bytes(), &fine].concat();
        assert_eq!(
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&want),
            "-Z {parallel}"
        );
        let targets: Vec<String> = failing.requests().into_iter().map(|r| r.target).collect();
        assert_eq!(targets, ["/", "/page"], "-Z {parallel}");
    }
}
