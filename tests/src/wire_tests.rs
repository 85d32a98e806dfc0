//! Unit tests for the request reader, including byte-at-a-time feeding.

use super::*;

/// Feeds `input` one byte at a time and reads one request (head, then body).
fn bytewise(input: &[u8]) -> Result<(RecordedRequest, Vec<u8>), String> {
    let mut buf = Vec::new();
    let mut req = None;
    for (i, &b) in input.iter().enumerate() {
        buf.push(b);
        if req.is_none() {
            req = take_head(&mut buf, 7)?;
        }
        if let Some(r) = req.as_mut() {
            if take_body(&mut buf, r)? {
                let rest = [&buf[..], &input[i + 1..]].concat();
                return Ok((req.unwrap_or_default(), rest));
            }
        }
    }
    Err("incomplete".to_string())
}

/// Reads one request from all of `input` at once.
fn whole(input: &[u8]) -> Result<(RecordedRequest, Vec<u8>), String> {
    let mut buf = input.to_vec();
    let mut req = take_head(&mut buf, 7)?.ok_or("head incomplete")?;
    if !take_body(&mut buf, &mut req)? {
        return Err("incomplete".to_string());
    }
    Ok((req, buf))
}

fn both(input: &[u8]) -> (RecordedRequest, Vec<u8>) {
    let a = whole(input).unwrap_or_else(|e| panic!("whole: {e}"));
    let b = bytewise(input).unwrap_or_else(|e| panic!("bytewise: {e}"));
    assert_eq!(a, b, "whole and bytewise disagree");
    a
}

#[test]
fn head_without_body() {
    let (req, rest) = both(b"GET /a?b=c HTTP/1.1\r\nHost: h:1\r\nX-Two: a b \r\n\r\nNEXT");
    assert_eq!(req.conn, 7);
    assert_eq!(req.line, "GET /a?b=c HTTP/1.1");
    assert_eq!(
        req.headers,
        vec![
            ("Host".into(), b"h:1".to_vec()),
            ("X-Two".into(), b"a b".to_vec())
        ]
    );
    assert!(req.body.is_empty() && req.raw_body.is_empty());
    assert_eq!(rest, b"NEXT");
}

#[test]
fn incomplete_head_consumes_nothing() {
    let mut buf = b"GET / HTTP/1.1\r\nHost: x\r\n".to_vec();
    assert_eq!(take_head(&mut buf, 1), Ok(None));
    assert_eq!(buf.len(), 25);
}

#[test]
fn content_length_body() {
    let (req, rest) = both(b"POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\nhelloGET");
    assert_eq!(req.body, b"hello");
    assert_eq!(req.raw_body, b"hello");
    assert_eq!(rest, b"GET");
}

#[test]
fn content_length_body_waits_for_all_bytes() {
    let mut buf = b"POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\nhel".to_vec();
    let mut req = take_head(&mut buf, 1).unwrap().unwrap();
    assert_eq!(take_body(&mut buf, &mut req), Ok(false));
    assert_eq!(buf, b"hel");
    buf.extend_from_slice(b"lo");
    assert_eq!(take_body(&mut buf, &mut req), Ok(true));
    assert_eq!(req.body, b"hello");
    assert!(buf.is_empty());
}

#[test]
fn chunked_body_with_extensions_and_trailers() {
    let raw = b"2\r\nab\r\n3;x=y\r\ncde\r\n00A\r\n0123456789\r\n0\r\nX-T: 1\r\nY: 2\r\n\r\n";
    let input = [
        &b"POST / HTTP/1.1\r\nTransfer-Encoding: gzip, Chunked\r\n\r\n"[..],
        raw,
        b"rest",
    ]
    .concat();
    let (req, rest) = both(&input);
    assert_eq!(req.body, b"abcde0123456789");
    assert_eq!(req.raw_body, raw);
    assert_eq!(rest, b"rest");
}

#[test]
fn chunked_wins_over_content_length() {
    let (req, _) = both(b"POST / HTTP/1.1\r\nContent-Length: 99\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nz\r\n0\r\n\r\n");
    assert_eq!(req.body, b"z");
}

#[test]
fn empty_chunked_body() {
    let (req, rest) = both(b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
    assert!(req.body.is_empty());
    assert_eq!(req.raw_body, b"0\r\n\r\n");
    assert!(rest.is_empty());
}

#[test]
fn repeated_identical_content_lengths_are_fine() {
    let (req, _) = both(b"POST / HTTP/1.1\r\nContent-Length: 2, 2\r\nContent-Length: 2\r\n\r\nok");
    assert_eq!(req.body, b"ok");
}

#[test]
fn garbage_is_an_error() {
    let cases: [&[u8]; 9] = [
        b"\x01\x02 nonsense\r\n\r\n",
        b"GET / HTTP/1.1\r\nBad Header\r\n\r\n",
        b"POST / HTTP/1.1\r\nContent-Length: 1, 2\r\n\r\nab",
        b"POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
        b"POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
        b"POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n",
        b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffffff1\r\n",
        b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabXY0\r\n\r\n",
    ];
    for input in cases {
        assert!(
            whole(input).is_err(),
            "whole accepted {:?}",
            String::from_utf8_lossy(input)
        );
        assert!(
            bytewise(input).is_err(),
            "bytewise accepted {:?}",
            String::from_utf8_lossy(input)
        );
    }
}

#[test]
fn bad_trailer_is_an_error() {
    assert!(
        whole(b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nnocolon\r\n\r\n")
            .is_err()
    );
}

#[test]
fn two_pipelined_requests() {
    let mut buf = b"GET /1 HTTP/1.1\r\n\r\nGET /2 HTTP/1.1\r\n\r\n".to_vec();
    let a = take_head(&mut buf, 1).unwrap().unwrap();
    let b = take_head(&mut buf, 1).unwrap().unwrap();
    assert_eq!(
        (a.line.as_str(), b.line.as_str()),
        ("GET /1 HTTP/1.1", "GET /2 HTTP/1.1")
    );
    assert!(buf.is_empty());
}

#[test]
fn large_body_bytewise() {
    let body = vec![b'q'; 3000];
    let input = [
        &b"PUT /big HTTP/1.1\r\nContent-Length: 3000\r\n\r\n"[..],
        &body,
    ]
    .concat();
    let (req, rest) = both(&input);
    assert_eq!(req.body, body);
    assert!(rest.is_empty());
}
