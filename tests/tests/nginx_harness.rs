//! Tests of the nginx harness itself, with the simplest clients there are (a `TcpStream`, and
//! rustls over one), so that interop failures later can be blamed on wayfarer and not on the
//! harness. They need nginx installed and fail, never skip, without it.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use rustls::pki_types::ServerName;
use rustls::{CertificateError, ClientConnection, StreamOwned};
use wayfarer_tests::certs::{Leaf, TestPki};
use wayfarer_tests::nginx::{BIG, BIG_BIN_LEN, Nginx, NginxOptions, SMALL, SMALL_TXT};

const IO_TIMEOUT: Duration = Duration::from_secs(30);

fn start(options: NginxOptions) -> Nginx {
    Nginx::start(options).unwrap_or_else(|error| panic!("nginx failed to start: {error}"))
}

fn connect(nginx: &Nginx) -> TcpStream {
    let stream = TcpStream::connect(nginx.addr()).expect("connect to nginx");
    stream.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
    stream.set_write_timeout(Some(IO_TIMEOUT)).unwrap();
    stream
}

/// A response head, parsed by hand: the status code and the headers, names lowercased.
#[derive(Debug)]
struct Head {
    status: u16,
    headers: Vec<(String, String)>,
}

impl Head {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    fn content_length(&self) -> u64 {
        self.header("content-length")
            .unwrap_or_else(|| panic!("no Content-Length in {self:?}"))
            .parse()
            .unwrap_or_else(|error| panic!("bad Content-Length in {self:?}: {error}"))
    }
}

fn get(stream: &mut impl Write, path: &str, host: &str) {
    write!(stream, "GET /{path} HTTP/1.1\r\nHost: {host}\r\n\r\n").unwrap();
    stream.flush().unwrap();
}

fn read_head(reader: &mut impl BufRead) -> Head {
    let mut line = String::new();
    reader.read_line(&mut line).expect("read status line");
    let mut parts = line.trim_end().splitn(3, ' ');
    assert_eq!(parts.next(), Some("HTTP/1.1"), "status line {line:?}");
    let status = parts
        .next()
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("bad status line {line:?}"));
    let mut headers = Vec::new();
    loop {
        line.clear();
        reader.read_line(&mut line).expect("read header line");
        assert!(line.ends_with("\r\n"), "truncated head at {line:?}");
        let line = line.trim_end_matches("\r\n");
        if line.is_empty() {
            return Head { status, headers };
        }
        let (name, value) = line
            .split_once(':')
            .unwrap_or_else(|| panic!("bad header line {line:?}"));
        headers.push((name.to_ascii_lowercase(), value.trim().to_string()));
    }
}

fn read_body(reader: &mut impl Read, head: &Head) -> Vec<u8> {
    let mut body = vec![0; head.content_length() as usize];
    reader.read_exact(&mut body).expect("read body");
    body
}

#[test]
fn small_txt_twice_on_one_kept_alive_connection() {
    let nginx = start(NginxOptions::default());
    let mut reader = BufReader::new(connect(&nginx));
    for round in 1..=2 {
        get(reader.get_mut(), SMALL, "127.0.0.1");
        let head = read_head(&mut reader);
        assert_eq!(head.status, 200, "round {round}: {head:?}");
        assert_eq!(head.content_length(), SMALL_TXT.len() as u64, "{head:?}");
        assert_ne!(head.header("connection"), Some("close"), "{head:?}");
        assert_eq!(read_body(&mut reader, &head), SMALL_TXT, "round {round}");
    }
    assert_eq!(
        std::fs::read(nginx.root().join(SMALL)).unwrap(),
        SMALL_TXT,
        "the served file is the documented one"
    );
}

#[test]
fn big_bin_is_64_mib_and_matches_the_file() {
    let nginx = start(NginxOptions::default());
    let mut reader = BufReader::with_capacity(1 << 16, connect(&nginx));
    get(reader.get_mut(), BIG, "127.0.0.1");
    let head = read_head(&mut reader);
    assert_eq!(head.status, 200, "{head:?}");
    assert_eq!(head.content_length(), 67_108_864);
    assert_eq!(head.content_length(), BIG_BIN_LEN);

    // Stream the body against the file, a block at a time.
    let mut body = reader.by_ref().take(BIG_BIN_LEN);
    let mut file = File::open(nginx.root().join(BIG)).unwrap();
    assert_eq!(file.metadata().unwrap().len(), BIG_BIN_LEN);
    let (mut from_net, mut from_file) = (vec![0; 1 << 16], vec![0; 1 << 16]);
    let mut offset = 0u64;
    while offset < BIG_BIN_LEN {
        let n = body.read(&mut from_net).expect("read body");
        assert!(n > 0, "body ended at {offset} of {BIG_BIN_LEN}");
        file.read_exact(&mut from_file[..n]).unwrap();
        assert!(
            from_net[..n] == from_file[..n],
            "body differs near {offset}"
        );
        offset += n as u64;
    }

    // The connection is still usable afterwards.
    get(reader.get_mut(), SMALL, "127.0.0.1");
    let head = read_head(&mut reader);
    assert_eq!(read_body(&mut reader, &head), SMALL_TXT);
}

#[test]
fn urls_point_at_the_instance() {
    let nginx = start(NginxOptions::default());
    let port = nginx.port();
    assert!(!nginx.is_tls());
    assert_eq!(
        nginx.url("/small.txt"),
        format!("http://127.0.0.1:{port}/small.txt")
    );
    assert_eq!(
        nginx.url("big.bin"),
        format!("http://127.0.0.1:{port}/big.bin")
    );
    assert_eq!(nginx.addr().port(), port);
}

fn tls_stream(nginx: &Nginx, pki: &TestPki) -> StreamOwned<ClientConnection, TcpStream> {
    let name = ServerName::try_from("localhost").unwrap();
    let connection = ClientConnection::new(pki.client_config(), name).unwrap();
    StreamOwned::new(connection, connect(nginx))
}

#[test]
fn https_small_txt_with_rustls() {
    let pki = TestPki::generate();
    let nginx = start(NginxOptions {
        tls: Some(pki.leaf_pem(Leaf::Valid)),
    });
    assert!(nginx.is_tls());
    assert_eq!(
        nginx.url("small.txt"),
        format!("https://localhost:{}/small.txt", nginx.port())
    );

    let mut reader = BufReader::new(tls_stream(&nginx, &pki));
    for round in 1..=2 {
        get(reader.get_mut(), SMALL, "localhost");
        let head = read_head(&mut reader);
        assert_eq!(head.status, 200, "round {round}: {head:?}");
        assert_eq!(read_body(&mut reader, &head), SMALL_TXT, "round {round}");
    }
    let connection = &reader.get_ref().conn;
    assert_eq!(connection.alpn_protocol(), Some(&b"http/1.1"[..]));
    assert_eq!(
        connection.peer_certificates().unwrap(),
        [pki.leaf_der(Leaf::Valid)]
    );
}

#[test]
fn https_presents_the_configured_leaf() {
    // nginx serves whatever leaf it is given, so TLS failure tests can use it too.
    let pki = TestPki::generate();
    let nginx = start(NginxOptions {
        tls: Some(pki.leaf_pem(Leaf::Expired)),
    });
    let mut stream = tls_stream(&nginx, &pki);
    let error = get_error(&mut stream);
    let certificate_error = error
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>())
        .unwrap_or_else(|| panic!("not a rustls error: {error:?}"));
    assert!(
        matches!(
            certificate_error,
            rustls::Error::InvalidCertificate(
                CertificateError::Expired | CertificateError::ExpiredContext { .. }
            )
        ),
        "{certificate_error:?}"
    );
}

/// The error a request on a connection whose handshake must fail runs into: on the write, which
/// drives the handshake, or at the latest on the first read.
fn get_error(stream: &mut StreamOwned<ClientConnection, TcpStream>) -> io::Error {
    let request = format!("GET /{SMALL} HTTP/1.1\r\nHost: localhost\r\n\r\n");
    if let Err(error) = stream
        .write_all(request.as_bytes())
        .and_then(|()| stream.flush())
    {
        return error;
    }
    let mut byte = [0];
    stream
        .read(&mut byte)
        .expect_err("the handshake should have failed")
}

#[test]
fn start_reports_nginx_errors_instead_of_panicking() {
    let error = Nginx::start(NginxOptions {
        tls: Some(("not a certificate".into(), "not a key".into())),
    })
    .expect_err("nginx cannot start with a garbage certificate");
    assert!(error.contains("nginx"), "{error}");
    assert!(
        error.contains("cert.pem"),
        "nginx's own complaint is included: {error}"
    );
}

#[test]
fn drop_stops_nginx_and_removes_its_files() {
    let nginx = start(NginxOptions::default());
    let (addr, root) = (nginx.addr(), nginx.root().to_path_buf());
    assert!(root.join(BIG).exists());
    drop(nginx);
    assert!(!root.exists(), "{} is left behind", root.display());
    let refused = TcpStream::connect_timeout(&addr, Duration::from_secs(1));
    assert!(refused.is_err(), "{addr} still accepts connections");
}
