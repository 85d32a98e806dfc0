//! The vector harness end to end: load a vector, play its script on the scripted origin, drive it
//! with a deliberately naive keep-alive client (Content-Length responses only), and check the
//! outcomes. This proves load, play and check fit together before any real runner exists.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use wayfarer_tests::origin::play;
use wayfarer_tests::vector::{self, BodySpec, CallSpec, Outcome, OutcomeHead, Variant};

/// Sends `call` on `conn` (connecting first if needed) and reads one Content-Length response.
fn naive_call(conn: &mut Option<TcpStream>, authority: &str, call: &CallSpec) -> Outcome {
    let stream = conn.get_or_insert_with(|| {
        let s = TcpStream::connect(authority).expect("connect");
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        s
    });
    let mut request = format!(
        "{} {} HTTP/1.1\r\nHost: {authority}\r\n",
        call.method, call.target
    )
    .into_bytes();
    for (name, value) in &call.headers {
        request.extend_from_slice(format!("{name}: ").as_bytes());
        request.extend_from_slice(value);
        request.extend_from_slice(b"\r\n");
    }
    let body = match &call.body {
        BodySpec::Bytes(b) => b.clone(),
        _ => Vec::new(),
    };
    if !body.is_empty() {
        request.extend_from_slice(format!("Content-Length: {}\r\n", body.len()).as_bytes());
    }
    request.extend_from_slice(b"\r\n");
    request.extend_from_slice(&body);
    stream.write_all(&request).unwrap();

    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let mut headers = [httparse::EMPTY_HEADER; 32];
        let mut response = httparse::Response::new(&mut headers);
        if let httparse::Status::Complete(len) = response.parse(&buf).unwrap() {
            let headers: Vec<(String, Vec<u8>)> = response
                .headers
                .iter()
                .map(|h| (h.name.to_string(), h.value.to_vec()))
                .collect();
            let length: usize = headers
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
                .map(|(_, v)| String::from_utf8_lossy(v).parse().unwrap())
                .unwrap_or(0);
            let head = OutcomeHead {
                status: response.code.unwrap(),
                reason: response.reason.unwrap_or("").to_string(),
                version: format!("HTTP/1.{}", response.version.unwrap()),
                headers,
                url: format!("http://{authority}{}", call.target),
                prior: Vec::new(),
            };
            while buf.len() < len + length {
                let n = stream.read(&mut chunk).unwrap();
                assert!(n > 0, "EOF in body");
                buf.extend_from_slice(&chunk[..n]);
            }
            return Outcome {
                head: Some(head),
                body: buf[len..len + length].to_vec(),
                error: None,
            };
        }
        let n = stream.read(&mut chunk).unwrap();
        assert!(n > 0, "EOF in head");
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// Plays `path` with the naive client and returns the check result.
fn replay(
    path: &str,
    variant: Variant,
    tamper: impl FnOnce(&mut Vec<Outcome>),
) -> Result<(), String> {
    let v = vector::load(path);
    let origin = play(v.origin.clone(), variant, None);
    let authority = origin.authority();
    let mut conn = None;
    let mut outcomes: Vec<Outcome> = v
        .calls
        .iter()
        .map(|c| naive_call(&mut conn, &authority, c))
        .collect();
    drop(conn);
    let record = origin.finish();
    tamper(&mut outcomes);
    vector::check(
        &v,
        &outcomes,
        &[record],
        &vector::Authorities::one(authority),
    )
}

#[test]
fn simple_vectors_pass_with_a_naive_client() {
    for path in [
        "http1/content_length_body.vec",
        "keepalive/two_calls_reuse.vec",
        "keepalive/post_bytes_body.vec",
    ] {
        for variant in Variant::SOCKET {
            replay(path, variant, |_| {})
                .unwrap_or_else(|report| panic!("{path} {variant:?}:\n{report}"));
        }
    }
}

#[test]
fn a_wrong_outcome_fails_the_vector() {
    let report = replay(
        "keepalive/two_calls_reuse.vec",
        Variant::Whole,
        |outcomes| {
            outcomes[1].body = b"owt".to_vec();
        },
    )
    .unwrap_err();
    assert!(
        report.contains("call 2: body: expected \"two\" (3 bytes), got \"owt\" (3 bytes)"),
        "{report}"
    );
}
