//! Unit tests for `check`: it passes what it should, and reports every mismatch readably.

use super::*;
use crate::vector::model::{OutcomeError, OutcomeHead};
use crate::vector::parse::parse;

const AUTH: &str = "127.0.0.1:4321";

fn auth() -> Authorities {
    Authorities::one(AUTH)
}

fn vector(text: &str) -> Vector {
    parse("t/check.vec", text).unwrap_or_else(|e| panic!("{e}"))
}

fn head(status: u16, headers: &[(&str, &[u8])]) -> Option<OutcomeHead> {
    Some(OutcomeHead {
        status,
        reason: "OK".to_string(),
        version: "HTTP/1.1".to_string(),
        headers: headers
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_vec()))
            .collect(),
        url: format!("http://{AUTH}/"),
        prior: Vec::new(),
    })
}

fn ok_outcome(body: &[u8]) -> Outcome {
    Outcome {
        head: head(
            200,
            &[
                ("Content-Type", b"text/plain"),
                ("X-A", b"1"),
                ("x-a", b"2"),
            ],
        ),
        body: body.to_vec(),
        error: None,
    }
}

fn failed(kind: &str, message: &str) -> Outcome {
    Outcome {
        head: None,
        body: Vec::new(),
        error: Some(OutcomeError {
            kind: kind.into(),
            message: message.into(),
        }),
    }
}

fn request(conn: usize, line: &str, headers: &[(&str, &[u8])], body: &[u8]) -> RecordedRequest {
    RecordedRequest {
        conn,
        line: line.to_string(),
        headers: headers
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_vec()))
            .collect(),
        body: body.to_vec(),
        raw_body: body.to_vec(),
    }
}

const FULL: &str = r#"
[call 1]
GET /a
[call 2]
GET /b
[call 3]
GET /c
[expect call 1]
status 200
reason "OK"
version HTTP/1.1
header content-type: text/plain
header X-A: 2
no-header Location
body "hi"
body-len 2
[expect call 3]
error timeout "read {authority}"
[expect origin]
connections 2
requests 2
request 1 conn 1
request 1 line "GET /a HTTP/1.1"
request 1 header host: {authority}
request 1 no-header Expect
request 2 body "x"
request 2 raw-body "x"
closed-by-client 2
"#;

fn full_record() -> OriginRecord {
    OriginRecord {
        connections: 2,
        requests: vec![
            request(1, "GET /a HTTP/1.1", &[("Host", AUTH.as_bytes())], b""),
            request(2, "GET /b HTTP/1.1", &[("Host", AUTH.as_bytes())], b"x"),
        ],
        closed_by_client: vec![2],
        errors: Vec::new(),
    }
}

#[test]
fn matching_outcomes_pass() {
    let v = vector(FULL);
    let outcomes = [
        ok_outcome(b"hi"),
        ok_outcome(b"whatever"),
        failed("timeout", "read 127.0.0.1:4321 timed out"),
    ];
    assert_eq!(check(&v, &outcomes, &[full_record()], &auth()), Ok(()));
}

#[test]
fn every_mismatch_is_reported() {
    let v = vector(FULL);
    let mut first = ok_outcome(b"h\x01");
    if let Some(h) = first.head.as_mut() {
        h.status = 201;
        h.reason = "Created".into();
        h.version = "HTTP/1.0".into();
        h.headers.push(("Location".into(), b"/x".to_vec()));
    }
    let outcomes = [first, failed("io", "reset\r\n"), failed("protocol", "bad")];
    let mut record = full_record();
    record.connections = 3;
    record.requests[0].conn = 2;
    record.requests[0].line = "GET /z HTTP/1.1".into();
    record.requests[0]
        .headers
        .push(("Expect".into(), b"100-continue".to_vec()));
    record.requests[0].headers[0].1 = b"localhost".to_vec();
    record.requests.truncate(1);
    record.closed_by_client.clear();
    record.errors.push("read-request timed out".into());
    let report = check(&v, &outcomes, std::slice::from_ref(&record), &auth()).unwrap_err();
    let wanted = [
        "call 1: status: expected 200, got 201",
        "call 1: reason: expected \"OK\", got \"Created\"",
        "call 1: version: expected HTTP/1.1, got HTTP/1.0",
        "call 1: header Location: expected none, got \"/x\"",
        "call 1: body: expected \"hi\" (2 bytes), got \"h\\x01\" (2 bytes)",
        "call 2: expected success, got error io \"reset\\r\\n\"",
        "call 3: error kind: expected timeout, got protocol \"bad\"",
        "call 3: error message: expected it to contain \"read 127.0.0.1:4321\", got \"bad\"",
        "origin: read-request timed out",
        "origin: connections: expected 2, got 3",
        "origin: requests: expected 2, got 1",
        "origin: request 1: expected on connection 1, got connection 2",
        "origin: request 1 line: expected \"GET /a HTTP/1.1\", got \"GET /z HTTP/1.1\"",
        "origin: request 1 header host: expected \"127.0.0.1:4321\", got \"localhost\"",
        "origin: request 1 header Expect: expected none, got \"100-continue\"",
        "origin: request 2: expected, but the origin read only 1 request(s)",
        "origin: closed-by-client: expected the client to close connection 2",
    ];
    for w in wanted {
        assert!(report.contains(w), "missing `{w}` in:\n{report}");
    }
    assert!(report.contains("what happened:"), "{report}");
    assert!(report.contains("mismatches"), "{report}");
}

#[test]
fn status_absent_means_no_head() {
    let v = vector("[call 1]\nGET /\n[expect call 1]\nerror protocol\n");
    let mut o = failed("protocol", "bad chunk size");
    assert_eq!(
        check(
            &v,
            std::slice::from_ref(&o),
            &[OriginRecord::default()],
            &auth()
        ),
        Ok(())
    );
    o.head = head(200, &[]);
    let report = check(&v, &[o], &[OriginRecord::default()], &auth()).unwrap_err();
    assert!(report.contains("expected no response head"), "{report}");
}

#[test]
fn status_with_error_allows_a_head() {
    let v = vector("[call 1]\nGET /\n[expect call 1]\nstatus 200\nerror timeout\nbody \"ab\"\n");
    let o = Outcome {
        head: head(200, &[]),
        body: b"ab".to_vec(),
        error: Some(OutcomeError {
            kind: "timeout".into(),
            message: "read timed out".into(),
        }),
    };
    assert_eq!(check(&v, &[o], &[OriginRecord::default()], &auth()), Ok(()));
    let report = check(
        &v,
        &[failed("timeout", "x")],
        &[OriginRecord::default()],
        &auth(),
    )
    .unwrap_err();
    assert!(
        report.contains("status: expected 200, but no response head arrived"),
        "{report}"
    );
}

#[test]
fn a_call_without_expectations_must_not_fail() {
    let v = vector("[call 1]\nGET /\n");
    assert_eq!(
        check(
            &v,
            &[ok_outcome(b"anything")],
            &[OriginRecord::default()],
            &auth()
        ),
        Ok(())
    );
    let report = check(
        &v,
        &[failed("io", "eof")],
        &[OriginRecord::default()],
        &auth(),
    )
    .unwrap_err();
    assert!(
        report.contains("call 1: expected success, got error io \"eof\""),
        "{report}"
    );
}

#[test]
fn expected_error_but_success() {
    let v = vector("[call 1]\nGET /\n[expect call 1]\nerror protocol \"chunk\"\n");
    let report = check(&v, &[ok_outcome(b"")], &[OriginRecord::default()], &auth()).unwrap_err();
    assert!(
        report.contains("expected error protocol containing \"chunk\", but the call succeeded"),
        "{report}"
    );
    assert!(report.contains("expected no response head"), "{report}");
}

#[test]
fn missing_headers_and_wrong_counts() {
    let v = vector(
        "[call 1]\nGET /\n[call 2]\nGET /\n[expect call 1]\nstatus 200\nheader X-Missing: 1\nheader x-a: 3\nbody-len 5\n",
    );
    let report = check(
        &v,
        &[ok_outcome(b"abc")],
        &[OriginRecord::default()],
        &auth(),
    )
    .unwrap_err();
    assert!(
        report.contains("the runner recorded 1 outcomes for 2 calls"),
        "{report}"
    );
    assert!(
        report.contains("header X-Missing: expected \"1\", got no such header"),
        "{report}"
    );
    assert!(
        report.contains("header x-a: expected \"3\", got \"1\", \"2\""),
        "{report}"
    );
    assert!(
        report.contains("body length: expected 5, got 3"),
        "{report}"
    );
}

#[test]
fn long_bodies_are_abbreviated() {
    let v = vector("[call 1]\nGET /\n[expect call 1]\nstatus 200\nbody \"a\" * 1000\n");
    let report = check(
        &v,
        &[ok_outcome(&[b'b'; 1000])],
        &[OriginRecord::default()],
        &auth(),
    )
    .unwrap_err();
    assert!(
        report.contains("...\" (1000 bytes)") || report.contains("\"... (1000 bytes)"),
        "{report}"
    );
    assert!(report.len() < 3000, "report too long: {}", report.len());
}

#[test]
fn escape_and_expand() {
    assert_eq!(
        escape(b"a\r\n\t\0\\\"\x7f\xff ~"),
        "a\\r\\n\\t\\0\\\\\\\"\\x7f\\xff ~"
    );
    let one = Authorities::one("h:1");
    assert_eq!(
        one.expand(b"{authority}/x/{authority}:{port}"),
        b"h:1/x/h:1:1".to_vec()
    );
    assert_eq!(one.expand(b"{authority"), b"{authority".to_vec());
    assert_eq!(
        one.expand(b"{authority2}"),
        b"{authority2}".to_vec(),
        "no second origin: left as it is"
    );
    let two = Authorities {
        first: "127.0.0.1:1".into(),
        second: Some("localhost:22".into()),
    };
    assert_eq!(
        two.expand(b"http://{authority2}/ {port2} http://127.0.0.1:{port2}/ {authority}"),
        b"http://localhost:22/ 22 http://127.0.0.1:22/ 127.0.0.1:1".to_vec()
    );
}

#[test]
fn final_url_and_prior_responses() {
    let v = vector(
        "[call 1]\nGET /\n[expect call 1]\nstatus 200\nurl \"http://{authority}/b\"\nprior 302 301\n",
    );
    let mut o = ok_outcome(b"");
    if let Some(h) = o.head.as_mut() {
        h.url = format!("http://{AUTH}/b");
        h.prior = vec![302, 301];
    }
    assert_eq!(
        check(
            &v,
            std::slice::from_ref(&o),
            &[OriginRecord::default()],
            &auth()
        ),
        Ok(())
    );
    if let Some(h) = o.head.as_mut() {
        h.url = format!("http://{AUTH}/a");
        h.prior = vec![301];
    }
    let report = check(&v, &[o], &[OriginRecord::default()], &auth()).unwrap_err();
    assert!(
        report
            .contains("url: expected \"http://127.0.0.1:4321/b\", got \"http://127.0.0.1:4321/a\""),
        "{report}"
    );
    assert!(
        report.contains("prior responses: expected 302 301, got 301"),
        "{report}"
    );
    let none = vector("[call 1]\nGET /\n[expect call 1]\nstatus 200\nprior none\n");
    assert_eq!(
        check(
            &none,
            &[ok_outcome(b"")],
            &[OriginRecord::default()],
            &auth()
        ),
        Ok(())
    );
}

#[test]
fn each_origin_is_checked_against_its_own_expectations() {
    let v = vector(
        "[call 1]\nGET /\n[origin]\naccept\n[origin 2]\naccept\n\
         [expect origin]\nrequests 1\n[expect origin 2]\nrequests 1\n\
         request 1 header Host: {authority2}\n",
    );
    let two = Authorities {
        first: AUTH.into(),
        second: Some("localhost:9".into()),
    };
    let first = OriginRecord {
        requests: vec![request(1, "GET / HTTP/1.1", &[], b"")],
        ..OriginRecord::default()
    };
    let second = OriginRecord {
        requests: vec![request(
            1,
            "GET / HTTP/1.1",
            &[("Host", b"localhost:9")],
            b"",
        )],
        ..OriginRecord::default()
    };
    assert_eq!(
        check(&v, &[ok_outcome(b"")], &[first.clone(), second], &two),
        Ok(())
    );
    let mut failing = OriginRecord::default();
    failing.errors.push("accept timed out".into());
    let report = check(&v, &[ok_outcome(b"")], &[first.clone(), failing], &two).unwrap_err();
    assert!(report.contains("origin 2: accept timed out"), "{report}");
    assert!(
        report.contains("origin 2: requests: expected 1, got 0"),
        "{report}"
    );
    let report = check(&v, &[ok_outcome(b"")], &[first], &two).unwrap_err();
    assert!(
        report.contains("recorded 1 origin(s) for a vector with 2"),
        "{report}"
    );
}
