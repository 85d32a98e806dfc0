//! The `wayfarer` binary, run as a user would, against a small in-process HTTP server.
//!
//! The server is a thread on a `std::net::TcpListener` that serves one canned [`Reply`] per
//! connection and records each request it read (method, target, header fields, body), so a
//! test can check both what the command printed and what actually went over the wire.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_wayfarer");

/// A request as the server read it.
#[derive(Debug, Clone, Default)]
struct Recorded {
    method: String,
    target: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Recorded {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// What the server does with one connection.
enum Reply {
    /// Reads the request, writes these bytes, closes.
    Send(Vec<u8>),
    /// Reads the request and holds the connection open, silent, for this long.
    Stall(Duration),
    /// Writes these bytes without reading anything, then closes.
    Blurt(Vec<u8>),
    /// Reads the request over TLS with this configuration, writes these bytes, closes.
    Tls(Arc<rustls::ServerConfig>, Vec<u8>),
}

struct Server {
    port: u16,
    requests: Arc<Mutex<Vec<Recorded>>>,
}

impl Server {
    /// Serves `replies`, one connection each, in order.
    fn start(replies: Vec<Reply>) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let record = requests.clone();
        thread::spawn(move || {
            for reply in replies {
                let Ok((stream, _)) = listener.accept() else {
                    return;
                };
                stream
                    .set_read_timeout(Some(Duration::from_secs(10)))
                    .unwrap();
                serve(stream, reply, &record);
            }
        });
        Server { port, requests }
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// The requests read so far (the command has exited when tests look, so all of them).
    fn requests(&self) -> Vec<Recorded> {
        self.requests.lock().unwrap().clone()
    }

    fn only_request(&self) -> Recorded {
        let requests = self.requests();
        assert_eq!(requests.len(), 1, "{requests:?}");
        requests.into_iter().next().unwrap()
    }
}

fn serve(mut stream: TcpStream, reply: Reply, record: &Mutex<Vec<Recorded>>) {
    match reply {
        Reply::Send(bytes) => {
            record_request(&mut stream, record);
            let _ = stream.write_all(&bytes);
        }
        Reply::Stall(time) => {
            record_request(&mut stream, record);
            thread::sleep(time);
        }
        Reply::Blurt(bytes) => {
            let _ = stream.write_all(&bytes);
        }
        Reply::Tls(config, bytes) => {
            let Ok(conn) = rustls::ServerConnection::new(config) else {
                return;
            };
            let mut tls = rustls::StreamOwned::new(conn, stream);
            record_request(&mut tls, record);
            let _ = tls.write_all(&bytes);
            tls.conn.send_close_notify();
            let _ = tls.flush();
        }
    }
}

/// Reads one request and records it, even a partial one (the command may give up mid-body).
fn record_request(stream: &mut impl Read, record: &Mutex<Vec<Recorded>>) {
    let mut reader = BufReader::new(stream);
    let mut request = Recorded::default();
    let _ = read_request(&mut reader, &mut request);
    record.lock().unwrap().push(request);
}

fn read_request(reader: &mut impl BufRead, request: &mut Recorded) -> io::Result<()> {
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let mut parts = line.split_whitespace();
    request.method = parts.next().unwrap_or_default().to_string();
    request.target = parts.next().unwrap_or_default().to_string();
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let field = line.trim_end_matches(['\r', '\n']);
        if field.is_empty() {
            break;
        }
        let (name, value) = field.split_once(':').unwrap_or((field, ""));
        request
            .headers
            .push((name.to_string(), value.trim().to_string()));
    }
    if let Some(len) = request.header("content-length") {
        let mut body = vec![0u8; len.parse().unwrap()];
        let n = read_full(reader, &mut body)?;
        body.truncate(n);
        request.body = body;
    } else if request
        .header("transfer-encoding")
        .is_some_and(|te| te.eq_ignore_ascii_case("chunked"))
    {
        loop {
            line.clear();
            reader.read_line(&mut line)?;
            let size = usize::from_str_radix(line.trim(), 16)
                .map_err(|_| io::Error::other(format!("bad chunk size {line:?}")))?;
            let mut chunk = vec![0u8; size + 2];
            reader.read_exact(&mut chunk)?;
            if size == 0 {
                break;
            }
            request.body.extend_from_slice(&chunk[..size]);
        }
    }
    Ok(())
}

/// Like `read_exact`, but keeps what arrived before an early end.
fn read_full(reader: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..])? {
            0 => break,
            n => filled += n,
        }
    }
    Ok(filled)
}

/// A complete response with a Content-Length body.
fn response(status: &str, extra_headers: &str, body: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "HTTP/1.1 {status}\r\nContent-Length: {}\r\n{extra_headers}\r\n",
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(body);
    out
}

fn ok(body: &[u8]) -> Reply {
    Reply::Send(response("200 OK", "", body))
}

fn wayfarer(args: &[&str]) -> Output {
    Command::new(BIN).args(args).output().unwrap()
}

fn wayfarer_with_stdin(args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(BIN)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    child.wait_with_output().unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[track_caller]
fn assert_exit(output: &Output, code: i32) {
    assert_eq!(
        output.status.code(),
        Some(code),
        "stdout: {:?}\nstderr: {}",
        String::from_utf8_lossy(&output.stdout),
        stderr(output)
    );
}

/// The one error line, checked for its `wayfarer: (code)` prefix.
#[track_caller]
fn assert_error_line(output: &Output, code: i32) -> String {
    let text = stderr(output);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 1, "expected one error line, got {text:?}");
    let prefix = format!("wayfarer: ({code}) ");
    assert!(lines[0].starts_with(&prefix), "{text:?}");
    lines[0].to_string()
}

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
    // wait for that body.
    let server = Server::start(vec![Reply::Send(
        b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\nX-A: b\r\n\r\n".to_vec(),
    )]);
    let started = Instant::now();
    let output = wayfarer(&["-I", "--max-time", "5", &server.url("/x")]);
    assert_exit(&output, 0);
    assert!(started.elapsed() < Duration::from_secs(4));
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
        "X-Empty:",
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
    assert_eq!(request.header("content-type"), Some("application/json"));
    let content_types = request
        .headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case("content-type"))
        .count();
    assert_eq!(content_types, 1, "{:?}", request.headers);
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

#[cfg(target_os = "linux")]
#[test]
fn a_failed_write_exits_23() {
    let server = Server::start(vec![ok(b"no room for this")]);
    let output = wayfarer(&["-o", "/dev/full", &server.url("/")]);
    assert_exit(&output, 23);
    assert!(assert_error_line(&output, 23).contains("/dev/full"));
}

#[test]
fn fail_exits_22_on_http_errors_and_writes_nothing() {
    let server = Server::start(vec![
        Reply::Send(response("404 Not Found", "", b"<h1>missing</h1>")),
        Reply::Send(response("404 Not Found", "", b"<h1>missing</h1>")),
    ]);
    let output = wayfarer(&["-f", "-i", &server.url("/gone?secret=1")]);
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

/// A self-signed certificate for 127.0.0.1: its PEM, and a server configuration presenting it.
fn tls_identity() -> (String, Arc<rustls::ServerConfig>) {
    use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
    let issued = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_string()]).unwrap();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(issued.signing_key.serialize_der()));
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![issued.cert.der().clone()], key)
        .unwrap();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    (issued.cert.pem(), Arc::new(config))
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
