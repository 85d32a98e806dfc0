//! The scripted origin, exercised with plain std TcpStream clients: every script step, every
//! Reply option, and the shutdown paths that must never hang a test.

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

use wayfarer_tests::origin::{After, Origin, Reply, play};
use wayfarer_tests::vector::{Step, Variant};

const OK_HI: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi";

fn connect(addr: SocketAddr) -> TcpStream {
    let stream = TcpStream::connect(addr).expect("connect to the origin");
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    stream
}

/// Reads until `want` bytes arrived (or EOF); returns the bytes and how many reads it took.
fn read_n(stream: &mut TcpStream, want: usize) -> (Vec<u8>, usize) {
    let mut out = Vec::new();
    let mut reads = 0;
    let mut buf = [0u8; 64 * 1024];
    while out.len() < want {
        let n = stream.read(&mut buf).expect("read from the origin");
        if n == 0 {
            break;
        }
        reads += 1;
        out.extend_from_slice(&buf[..n]);
    }
    (out, reads)
}

/// Reads until EOF, returning the bytes or the error that ended the stream instead.
fn read_to_eof(stream: &mut TcpStream) -> Result<Vec<u8>, std::io::Error> {
    let mut out = Vec::new();
    stream.read_to_end(&mut out).map(|_| out)
}

fn send(bytes: &[u8]) -> Step {
    Step::Send(bytes.to_vec())
}

// ---- script mode ----------------------------------------------------------------------------

#[test]
fn script_serves_one_request_and_records_it() {
    let origin = play(
        vec![Step::Accept, Step::ReadRequest, send(OK_HI), Step::Close],
        Variant::Whole,
        None,
    );
    assert_eq!(
        origin.authority(),
        format!("127.0.0.1:{}", origin.addr().port())
    );
    assert_eq!(origin.url("/x"), format!("http://{}/x", origin.authority()));
    let mut client = connect(origin.addr());
    client
        .write_all(b"POST /up HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc")
        .unwrap();
    assert_eq!(read_to_eof(&mut client).unwrap(), OK_HI);
    let record = origin.finish();
    assert_eq!(record.errors, Vec::<String>::new());
    assert_eq!(record.connections, 1);
    assert_eq!(record.requests.len(), 1);
    let request = &record.requests[0];
    assert_eq!(
        (request.conn, request.line.as_str()),
        (1, "POST /up HTTP/1.1")
    );
    assert_eq!(request.headers[0], ("Host".to_string(), b"h".to_vec()));
    assert_eq!(
        (request.body.as_slice(), request.raw_body.as_slice()),
        (&b"abc"[..], &b"abc"[..])
    );
}

#[test]
fn script_read_head_then_read_body() {
    let steps = vec![
        Step::Accept,
        Step::ReadHead,
        send(b"HTTP/1.1 100 Continue\r\n\r\n"),
        Step::ReadBody,
        send(OK_HI),
    ];
    let origin = play(steps, Variant::Whole, None);
    let mut client = connect(origin.addr());
    client
        .write_all(b"PUT / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nExpect: 100-continue\r\n\r\n")
        .unwrap();
    let (interim, _) = read_n(&mut client, 25);
    assert_eq!(interim, b"HTTP/1.1 100 Continue\r\n\r\n");
    client.write_all(b"2\r\nab\r\n0\r\n\r\n").unwrap();
    assert_eq!(read_n(&mut client, OK_HI.len()).0, OK_HI);
    let record = origin.finish();
    assert!(record.errors.is_empty(), "{:?}", record.errors);
    assert_eq!(record.requests[0].body, b"ab");
    assert_eq!(record.requests[0].raw_body, b"2\r\nab\r\n0\r\n\r\n");
}

#[test]
fn script_counts_connections_and_numbers_requests() {
    let steps = vec![
        Step::Accept,
        Step::ReadRequest,
        send(OK_HI),
        Step::ReadRequest,
        send(OK_HI),
        Step::Accept,
        Step::ReadRequest,
        send(OK_HI),
    ];
    let origin = play(steps, Variant::Whole, None);
    let mut first = connect(origin.addr());
    first.write_all(b"GET /1 HTTP/1.1\r\n\r\n").unwrap();
    assert_eq!(read_n(&mut first, OK_HI.len()).0, OK_HI);
    first.write_all(b"GET /2 HTTP/1.1\r\n\r\n").unwrap();
    assert_eq!(read_n(&mut first, OK_HI.len()).0, OK_HI);
    let mut second = connect(origin.addr());
    second.write_all(b"GET /3 HTTP/1.1\r\n\r\n").unwrap();
    assert_eq!(read_n(&mut second, OK_HI.len()).0, OK_HI);
    let record = origin.finish();
    assert!(record.errors.is_empty(), "{:?}", record.errors);
    assert_eq!(record.connections, 2);
    let seen: Vec<(usize, &str)> = record
        .requests
        .iter()
        .map(|r| (r.conn, r.line.as_str()))
        .collect();
    assert_eq!(
        seen,
        [
            (1, "GET /1 HTTP/1.1"),
            (1, "GET /2 HTTP/1.1"),
            (2, "GET /3 HTTP/1.1")
        ]
    );
}

#[test]
fn script_bytewise_writes_many_segments() {
    let body = vec![b'z'; 3000];
    let response = [
        &b"HTTP/1.1 200 OK\r\nContent-Length: 3000\r\n\r\n"[..],
        &body,
    ]
    .concat();
    let origin = play(
        vec![Step::Accept, Step::ReadRequest, send(&response)],
        Variant::Bytewise,
        None,
    );
    let mut client = connect(origin.addr());
    client.write_all(b"GET / HTTP/1.1\r\n\r\n").unwrap();
    let (got, reads) = read_n(&mut client, response.len());
    assert_eq!(got, response);
    assert!(reads > 1, "3040 one-byte writes arrived in a single read");
    assert!(origin.finish().errors.is_empty());
}

#[test]
fn script_whole_and_other_variants_deliver_the_same_bytes() {
    for variant in Variant::ALL {
        let origin = play(
            vec![Step::Accept, Step::ReadRequest, send(OK_HI), Step::Close],
            variant,
            None,
        );
        let mut client = connect(origin.addr());
        client.write_all(b"GET / HTTP/1.1\r\n\r\n").unwrap();
        assert_eq!(read_to_eof(&mut client).unwrap(), OK_HI, "{variant:?}");
        assert!(origin.finish().errors.is_empty(), "{variant:?}");
    }
}

#[test]
fn script_pause_delays_the_next_send() {
    let steps = vec![
        Step::Accept,
        Step::ReadRequest,
        send(b"H"),
        Step::Pause(Duration::from_millis(300)),
        send(b"I"),
    ];
    let origin = play(steps, Variant::Whole, None);
    let mut client = connect(origin.addr());
    client.write_all(b"GET / HTTP/1.1\r\n\r\n").unwrap();
    assert_eq!(read_n(&mut client, 1).0, b"H");
    let start = Instant::now();
    assert_eq!(read_n(&mut client, 1).0, b"I");
    assert!(
        start.elapsed() >= Duration::from_millis(250),
        "{:?}",
        start.elapsed()
    );
    assert!(origin.finish().errors.is_empty());
}

#[test]
fn script_reset_is_econnreset_on_the_client() {
    let steps = vec![
        Step::Accept,
        Step::ReadRequest,
        send(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nab"),
        Step::Pause(Duration::from_millis(50)),
        Step::Reset,
    ];
    let origin = play(steps, Variant::Whole, None);
    let mut client = connect(origin.addr());
    client.write_all(b"GET / HTTP/1.1\r\n\r\n").unwrap();
    let err = read_to_eof(&mut client).expect_err("a reset must not look like a clean EOF");
    assert_eq!(err.kind(), ErrorKind::ConnectionReset, "{err}");
    assert!(origin.finish().errors.is_empty());
}

#[test]
fn script_close_is_a_clean_eof() {
    let origin = play(
        vec![
            Step::Accept,
            Step::ReadRequest,
            send(b"partial"),
            Step::Close,
        ],
        Variant::Whole,
        None,
    );
    let mut client = connect(origin.addr());
    client.write_all(b"GET / HTTP/1.1\r\n\r\n").unwrap();
    assert_eq!(read_to_eof(&mut client).unwrap(), b"partial");
    assert!(origin.finish().errors.is_empty());
}

#[test]
fn script_stall_waits_for_the_client_to_close_and_discards_bytes() {
    let steps = vec![
        Step::Accept,
        Step::ReadRequest,
        send(b"HTTP/1.1 200 OK\r\n"),
        Step::Stall,
    ];
    let origin = play(steps, Variant::Whole, None);
    let mut client = connect(origin.addr());
    client.write_all(b"GET / HTTP/1.1\r\n\r\n").unwrap();
    read_n(&mut client, 17);
    // Bytes sent during a stall are read and discarded, then the close is recorded.
    client.write_all(b"ignored").unwrap();
    drop(client);
    let record = origin.finish();
    assert!(record.errors.is_empty(), "{:?}", record.errors);
    assert_eq!(record.closed_by_client, [1]);
}

#[test]
fn script_await_close_records_the_close() {
    let origin = play(
        vec![Step::Accept, Step::ReadHead, send(OK_HI), Step::AwaitClose],
        Variant::Whole,
        None,
    );
    let mut client = connect(origin.addr());
    client.write_all(b"GET / HTTP/1.1\r\n\r\n").unwrap();
    read_n(&mut client, OK_HI.len());
    drop(client);
    let record = origin.finish();
    assert!(record.errors.is_empty(), "{:?}", record.errors);
    assert_eq!(record.closed_by_client, [1]);
}

#[test]
fn script_await_close_fails_on_unexpected_bytes() {
    let origin = play(
        vec![Step::Accept, Step::ReadHead, send(OK_HI), Step::AwaitClose],
        Variant::Whole,
        None,
    );
    let mut client = connect(origin.addr());
    client
        .write_all(b"POST / HTTP/1.1\r\nContent-Length: 4\r\n\r\n")
        .unwrap();
    read_n(&mut client, OK_HI.len());
    client.write_all(b"body").unwrap();
    let record = origin.finish();
    assert_eq!(record.errors.len(), 1, "{:?}", record.errors);
    assert!(
        record.errors[0].contains("await-close") && record.errors[0].contains("\"body\""),
        "{:?}",
        record.errors
    );
    assert!(record.closed_by_client.is_empty());
}

#[test]
fn script_records_garbage_requests() {
    let origin = play(
        vec![Step::Accept, Step::ReadRequest, send(OK_HI)],
        Variant::Whole,
        None,
    );
    let mut client = connect(origin.addr());
    client.write_all(b"\x16\x03\x01 not http\r\n\r\n").unwrap();
    let record = origin.finish();
    assert_eq!(record.errors.len(), 1, "{:?}", record.errors);
    assert!(
        record.errors[0].contains("step 2 `read-request`"),
        "{:?}",
        record.errors
    );
    drop(client);
}

#[test]
fn script_step_waiting_for_the_client_gives_up() {
    let origin = play(
        vec![Step::Accept, Step::ReadRequest, send(OK_HI)],
        Variant::Whole,
        None,
    );
    let _client = connect(origin.addr());
    let start = Instant::now();
    let record = origin.finish();
    let waited = start.elapsed();
    assert!(
        waited >= Duration::from_secs(9) && waited < Duration::from_secs(14),
        "{waited:?}"
    );
    assert_eq!(record.errors.len(), 1, "{:?}", record.errors);
    assert!(
        record.errors[0].contains("timed out after 10s waiting for a request head"),
        "{:?}",
        record.errors
    );
    assert_eq!(record.connections, 1);
}

#[test]
fn script_client_closing_early_is_reported() {
    let origin = play(
        vec![Step::Accept, Step::ReadRequest, send(OK_HI)],
        Variant::Whole,
        None,
    );
    let mut client = connect(origin.addr());
    client.write_all(b"GET / HT").unwrap();
    drop(client);
    let record = origin.finish();
    assert_eq!(record.errors.len(), 1, "{:?}", record.errors);
    assert!(
        record.errors[0].contains("closed connection 1"),
        "{:?}",
        record.errors
    );
    assert!(record.errors[0].contains("GET / HT"), "{:?}", record.errors);
}

#[test]
fn script_end_stops_listening_and_closes_connections() {
    let origin = play(
        vec![Step::Accept, Step::ReadRequest, send(OK_HI)],
        Variant::Whole,
        None,
    );
    let addr = origin.addr();
    let mut client = connect(addr);
    client.write_all(b"GET / HTTP/1.1\r\n\r\n").unwrap();
    // The script ends after the send: the response arrives, then EOF.
    assert_eq!(read_to_eof(&mut client).unwrap(), OK_HI);
    let record = origin.finish();
    assert!(record.errors.is_empty(), "{:?}", record.errors);
    let refused = TcpStream::connect_timeout(&addr, Duration::from_secs(2));
    assert!(
        refused.is_err(),
        "the origin still accepts connections after its script ended"
    );
}

#[test]
fn script_with_no_steps_accepts_nothing() {
    let origin = play(Vec::new(), Variant::Whole, None);
    let record = origin.finish();
    assert_eq!(
        (
            record.connections,
            record.requests.len(),
            record.errors.len()
        ),
        (0, 0, 0)
    );
}

#[test]
fn script_finish_gives_up_on_a_script_that_runs_too_long() {
    let origin = play(
        vec![Step::Pause(Duration::from_secs(60))],
        Variant::Whole,
        None,
    );
    let start = Instant::now();
    let record = origin.finish();
    assert!(
        start.elapsed() < Duration::from_secs(17),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(record.errors.len(), 1, "{:?}", record.errors);
    assert!(
        record.errors[0].contains("did not finish") && record.errors[0].contains("pause"),
        "{:?}",
        record.errors
    );
}

// ---- queue mode -----------------------------------------------------------------------------

#[test]
fn queue_answers_and_records_requests() {
    let origin = Origin::start();
    origin.enqueue(Reply::new(OK_HI));
    assert_eq!(
        origin.url("/a"),
        format!("http://127.0.0.1:{}/a", origin.addr().port())
    );
    let mut client = connect(origin.addr());
    client
        .write_all(b"GET /a HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    assert_eq!(read_n(&mut client, OK_HI.len()).0, OK_HI);
    let request = origin.take_request();
    assert_eq!(
        (request.conn, request.line.as_str()),
        (1, "GET /a HTTP/1.1")
    );
    assert_eq!(request.headers, vec![("Host".to_string(), b"x".to_vec())]);
    assert_eq!((origin.request_count(), origin.connection_count()), (1, 1));
}

#[test]
fn queue_keeps_connections_open_and_counts_them() {
    let origin = Origin::start();
    for _ in 0..3 {
        origin.enqueue(Reply::new(OK_HI));
    }
    let mut first = connect(origin.addr());
    for path in ["/1", "/2"] {
        first
            .write_all(format!("GET {path} HTTP/1.1\r\n\r\n").as_bytes())
            .unwrap();
        assert_eq!(read_n(&mut first, OK_HI.len()).0, OK_HI);
    }
    let mut second = connect(origin.addr());
    second
        .write_all(b"POST /3 HTTP/1.1\r\nContent-Length: 1\r\n\r\nx")
        .unwrap();
    assert_eq!(read_n(&mut second, OK_HI.len()).0, OK_HI);
    let taken: Vec<(usize, String)> = (0..3)
        .map(|_| origin.take_request())
        .map(|r| (r.conn, r.line))
        .collect();
    assert_eq!(taken[0], (1, "GET /1 HTTP/1.1".to_string()));
    assert_eq!(taken[1], (1, "GET /2 HTTP/1.1".to_string()));
    assert_eq!(taken[2], (2, "POST /3 HTTP/1.1".to_string()));
    assert_eq!((origin.request_count(), origin.connection_count()), (3, 2));
    assert!(origin.try_take_request(Duration::from_millis(50)).is_none());
}

#[test]
fn queue_empty_closes_the_connection() {
    let origin = Origin::start();
    let mut client = connect(origin.addr());
    client.write_all(b"GET / HTTP/1.1\r\n\r\n").unwrap();
    assert_eq!(read_to_eof(&mut client).unwrap(), b"");
    assert_eq!(origin.take_request().line, "GET / HTTP/1.1");
}

#[test]
fn queue_then_close_ends_with_eof() {
    let origin = Origin::start();
    origin.enqueue(Reply::new(OK_HI).then(After::Close));
    origin.enqueue(Reply::new(OK_HI));
    let mut client = connect(origin.addr());
    client.write_all(b"GET / HTTP/1.1\r\n\r\n").unwrap();
    assert_eq!(read_to_eof(&mut client).unwrap(), OK_HI);
}

#[test]
fn queue_then_reset_is_econnreset() {
    let origin = Origin::start();
    origin.enqueue(
        Reply::new(&b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nab"[..]).then(After::Reset),
    );
    let mut client = connect(origin.addr());
    client.write_all(b"GET / HTTP/1.1\r\n\r\n").unwrap();
    let err = read_to_eof(&mut client).expect_err("a reset must not look like a clean EOF");
    assert_eq!(err.kind(), ErrorKind::ConnectionReset, "{err}");
}

#[test]
fn queue_then_stall_keeps_quiet_and_drop_does_not_hang() {
    let origin = Origin::start();
    origin.enqueue(
        Reply::new(&b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nab"[..]).then(After::Stall),
    );
    let mut client = connect(origin.addr());
    client
        .set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    client.write_all(b"GET / HTTP/1.1\r\n\r\n").unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 1024];
    let err = loop {
        match client.read(&mut buf) {
            Ok(0) => panic!("a stalled connection must stay open"),
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) => break e,
        }
    };
    assert!(
        matches!(err.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut),
        "{err}"
    );
    assert!(got.ends_with(b"ab"));
    let start = Instant::now();
    drop(origin);
    assert!(
        start.elapsed() < Duration::from_secs(2),
        "drop took {:?}",
        start.elapsed()
    );
    // Closed means EOF (or a reset); a read that times out means the connection is still open.
    client
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    match client.read(&mut buf) {
        Ok(0) => {}
        Err(e) if e.kind() == ErrorKind::ConnectionReset => {}
        Ok(n) => panic!("the stalled connection sent {n} more bytes instead of closing"),
        Err(e) => panic!("the stalled connection was not closed: {e}"),
    }
}

#[test]
fn queue_drop_with_idle_connections_does_not_hang() {
    let origin = Origin::start();
    origin.enqueue(Reply::new(OK_HI));
    let mut client = connect(origin.addr());
    client.write_all(b"GET / HTTP/1.1\r\n\r\n").unwrap();
    read_n(&mut client, OK_HI.len());
    let _idle = connect(origin.addr());
    let start = Instant::now();
    drop(origin);
    assert!(
        start.elapsed() < Duration::from_secs(2),
        "drop took {:?}",
        start.elapsed()
    );
}

#[test]
fn queue_pause_before_delays_the_reply() {
    let origin = Origin::start();
    origin.enqueue(Reply::new(OK_HI).pause_before(Duration::from_millis(300)));
    let mut client = connect(origin.addr());
    let start = Instant::now();
    client.write_all(b"GET / HTTP/1.1\r\n\r\n").unwrap();
    assert_eq!(read_n(&mut client, OK_HI.len()).0, OK_HI);
    assert!(
        start.elapsed() >= Duration::from_millis(250),
        "{:?}",
        start.elapsed()
    );
}

#[test]
fn queue_dribble_arrives_in_many_reads() {
    let response = b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123456789";
    let origin = Origin::start();
    origin.enqueue(Reply::new(&response[..]).dribble(10, Duration::from_millis(20)));
    let mut client = connect(origin.addr());
    let start = Instant::now();
    client.write_all(b"GET / HTTP/1.1\r\n\r\n").unwrap();
    let (got, reads) = read_n(&mut client, response.len());
    assert_eq!(got, response);
    // 5 pieces with 4 gaps of 20 ms: nearly every piece is its own read.
    assert!(reads >= 3, "only {reads} reads");
    assert!(
        start.elapsed() >= Duration::from_millis(70),
        "{:?}",
        start.elapsed()
    );
}

#[test]
fn queue_respond_before_body_answers_after_the_head() {
    let origin = Origin::start();
    origin.enqueue(Reply::new(OK_HI).respond_before_body());
    let mut client = connect(origin.addr());
    client
        .write_all(b"PUT /u HTTP/1.1\r\nContent-Length: 5\r\n\r\n")
        .unwrap();
    // The reply arrives although no body byte was sent.
    assert_eq!(read_n(&mut client, OK_HI.len()).0, OK_HI);
    client.write_all(b"hello").unwrap();
    let request = origin.take_request();
    assert_eq!(request.body, b"hello");
    assert_eq!(origin.request_count(), 1);
}

#[test]
fn queue_records_chunked_bodies_decoded_and_raw() {
    let origin = Origin::start();
    origin.enqueue(Reply::new(OK_HI));
    let mut client = connect(origin.addr());
    client
        .write_all(
            b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n2\r\ncd\r\n0\r\n\r\n",
        )
        .unwrap();
    read_n(&mut client, OK_HI.len());
    let request = origin.take_request();
    assert_eq!(request.body, b"abcd");
    assert_eq!(request.raw_body, b"2\r\nab\r\n2\r\ncd\r\n0\r\n\r\n");
}

// ---- TLS ------------------------------------------------------------------------------------

struct Pki {
    server: Arc<rustls::ServerConfig>,
    client: Arc<rustls::ClientConfig>,
}

fn pki() -> Pki {
    let key = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let cert = key.cert.der().clone();
    let private = rustls_pki_types::PrivateKeyDer::Pkcs8(key.signing_key.serialize_der().into());
    let server = rustls::ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(vec![cert.clone()], private)
        .unwrap();
    let mut roots = rustls::RootCertStore::empty();
    roots.add(cert).unwrap();
    let client = rustls::ClientConfig::builder()
        .with_root_certificates(roots)
        .with_no_client_auth();
    Pki {
        server: Arc::new(server),
        client: Arc::new(client),
    }
}

fn tls_exchange(
    addr: SocketAddr,
    client: Arc<rustls::ClientConfig>,
    request: &[u8],
    want: usize,
) -> Vec<u8> {
    let name = rustls_pki_types::ServerName::try_from("localhost").unwrap();
    let conn = rustls::ClientConnection::new(client, name).unwrap();
    let mut stream = rustls::StreamOwned::new(conn, connect(addr));
    stream.write_all(request).unwrap();
    let mut out = vec![0u8; want];
    stream.read_exact(&mut out).unwrap();
    out
}

#[test]
fn script_serves_tls() {
    let pki = pki();
    let origin = play(
        vec![Step::Accept, Step::ReadRequest, send(OK_HI)],
        Variant::Bytewise,
        Some(pki.server),
    );
    assert!(origin.url("/").starts_with("https://127.0.0.1:"));
    let got = tls_exchange(
        origin.addr(),
        pki.client,
        b"GET /tls HTTP/1.1\r\n\r\n",
        OK_HI.len(),
    );
    assert_eq!(got, OK_HI);
    let record = origin.finish();
    assert!(record.errors.is_empty(), "{:?}", record.errors);
    assert_eq!(record.requests[0].line, "GET /tls HTTP/1.1");
}

#[test]
fn queue_serves_tls() {
    let pki = pki();
    let origin = Origin::builder().tls(pki.server).start();
    origin.enqueue(Reply::new(OK_HI));
    assert!(origin.url("/").starts_with("https://"));
    let got = tls_exchange(
        origin.addr(),
        pki.client,
        b"GET /tls HTTP/1.1\r\n\r\n",
        OK_HI.len(),
    );
    assert_eq!(got, OK_HI);
    assert_eq!(origin.take_request().line, "GET /tls HTTP/1.1");
}
