//! What every CLI test uses: the `wayfarer` binary, and a small in-process HTTP server.
//!
//! The server is a thread on a `std::net::TcpListener` that serves one canned [`Reply`] per
//! connection and records each request it read (method, target, header fields, body), so a
//! test can check both what the command printed and what actually went over the wire.

#![allow(dead_code)] // each test binary uses its own subset

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

pub const BIN: &str = env!("CARGO_BIN_EXE_wayfarer");

/// A request as the server read it.
#[derive(Debug, Clone, Default)]
pub struct Recorded {
    pub method: String,
    pub target: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Recorded {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Every value of the fields named `name`, in order.
    pub fn header_values(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    }
}

/// What the server does with one connection.
pub enum Reply {
    /// Reads the request, writes these bytes, closes.
    Send(Vec<u8>),
    /// Reads the request and holds the connection open, silent, for this long.
    Stall(Duration),
    /// Writes these bytes without reading anything, then closes.
    Blurt(Vec<u8>),
    /// Reads the request over TLS with this configuration, writes these bytes, closes.
    Tls(Arc<rustls::ServerConfig>, Vec<u8>),
}

pub struct Server {
    pub port: u16,
    pub requests: Arc<Mutex<Vec<Recorded>>>,
}

impl Server {
    /// Serves `replies`, one connection each, in order.
    pub fn start(replies: Vec<Reply>) -> Server {
        Server::start_with(|_| replies)
    }

    /// Serves the replies `replies(port)` makes, knowing the port it listens on (for a
    /// redirect back to itself).
    pub fn start_with(replies: impl FnOnce(u16) -> Vec<Reply>) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let replies = replies(port);
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

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// The requests read so far (the command has exited when tests look, so all of them).
    pub fn requests(&self) -> Vec<Recorded> {
        self.requests.lock().unwrap().clone()
    }

    pub fn only_request(&self) -> Recorded {
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

/// The values of every field named `name` of each request `server` read, in the order they
/// were sent.
pub fn fields_named(server: &Server, name: &str) -> Vec<Vec<String>> {
    server
        .requests()
        .iter()
        .map(|r| {
            r.header_values(name)
                .into_iter()
                .map(str::to_owned)
                .collect()
        })
        .collect()
}

/// A complete response with a Content-Length body.
pub fn response(status: &str, extra_headers: &str, body: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "HTTP/1.1 {status}\r\nContent-Length: {}\r\n{extra_headers}\r\n",
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(body);
    out
}

pub fn ok(body: &[u8]) -> Reply {
    Reply::Send(response("200 OK", "", body))
}

/// A redirect to `location`. The server closes each connection after one reply, so it says
/// so (`Connection: close`), and the next hop connects again.
pub fn redirect(status: &str, location: &str) -> Reply {
    Reply::Send(response(
        status,
        &format!("Location: {location}\r\nConnection: close\r\n"),
        b"",
    ))
}

pub fn wayfarer(args: &[&str]) -> Output {
    Command::new(BIN).args(args).output().unwrap()
}

pub fn wayfarer_with_stdin(args: &[&str], stdin: &[u8]) -> Output {
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

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[track_caller]
pub fn assert_exit(output: &Output, code: i32) {
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
pub fn assert_error_line(output: &Output, code: i32) -> String {
    let text = stderr(output);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 1, "expected one error line, got {text:?}");
    let prefix = format!("wayfarer: ({code}) ");
    assert!(lines[0].starts_with(&prefix), "{text:?}");
    lines[0].to_string()
}

/// A self-signed certificate for 127.0.0.1: its PEM, and a server configuration presenting it.
pub fn tls_identity() -> (String, Arc<rustls::ServerConfig>) {
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

/// Runs the command with a terminal as its standard output, made by util-linux's `script`
/// (Debian's essential `bsdutils` package, so every machine the tests run on has it).
pub fn on_a_terminal(args: &str) -> Output {
    Command::new("script")
        .args(["-qec", &format!("{BIN} {args}"), "/dev/null"])
        .stdin(Stdio::null())
        .output()
        .expect("util-linux's `script` makes the terminal this test needs")
}
