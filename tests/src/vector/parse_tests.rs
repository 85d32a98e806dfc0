//! Unit tests for the vector parser: strings, sections, and errors that point at the right line.

use std::time::Duration;

use super::*;
use crate::vector::model::{BodySpec, OriginExpect, ReadBody, Step};

fn ok(text: &str) -> Vector {
    parse("g/t.vec", text).unwrap_or_else(|e| panic!("unexpected error: {e}"))
}

fn fails(text: &str) -> ParseError {
    match parse("g/t.vec", text) {
        Ok(v) => panic!("expected an error, parsed {v:?}"),
        Err(e) => e,
    }
}

/// Each text fails to parse at its line, with a message containing its words.
fn fails_at(cases: &[(&str, usize, &str)]) {
    for &(text, line, want) in cases {
        let e = fails(text);
        assert_eq!(e.line, line, "{text:?}: {e}");
        assert!(
            e.message.contains(want),
            "{text:?}: expected `{want}` in `{e}`"
        );
    }
}

/// Parses one `send` step and returns its bytes.
fn send(literals: &str) -> Vec<u8> {
    let v = ok(&format!("[call 1]\nGET /\n[origin]\nsend {literals}\n"));
    match &v.origin[0] {
        Step::Send(bytes) => bytes.clone(),
        other => panic!("not a send: {other:?}"),
    }
}

#[test]
fn escapes_decode_to_bytes() {
    assert_eq!(
        send(r#""a\r\n\t\0\\\"\x41\xfFz""#),
        b"a\r\n\t\0\\\"A\xffz".to_vec()
    );
}

#[test]
fn repetition_and_concatenation() {
    assert_eq!(send(r#""ab" * 3 "c"   "d" *2"#), b"abababcdd".to_vec());
    assert_eq!(send(r#""x" * 0"#), b"".to_vec());
    assert_eq!(send(r#""a" * 100000"#).len(), 100_000);
}

#[test]
fn authority_placeholder_is_kept_verbatim() {
    assert_eq!(
        send(r#""Host: {authority}\r\n""#),
        b"Host: {authority}\r\n".to_vec()
    );
}

#[test]
fn full_vector_parses() {
    let v = ok(r#"# A description
# on two lines.

[config]
read-timeout 200ms
call-timeout 2s
max-headers 10
max-interim-responses 2
max-chunk-extension-bytes 64
max-trailer-bytes 128
fragment whole

[call 2]
GET /second

[call 1]
POST /upload?x=1
header Content-Type: text/plain; charset=utf-8
header-bytes X-Raw "a\rb"
stream-sized 4 "ab" "cd"
read-body 3

[origin]
accept
read-head
read-body
send "HTTP/1.1 200 OK\r\n" "Content-Length: 0\r\n\r\n"
pause 5ms
stall

[expect call 1]
status 200
reason "OK"
version HTTP/1.1
header content-length: 0
no-header Transfer-Encoding
body ""
body-len 0

[expect call 2]
error io "closed"

[expect origin]
connections 1
requests 1
request 1 conn 1
request 1 line "POST /upload?x=1 HTTP/1.1"
request 1 header Host: {authority}
request 1 no-header Expect
request 1 body "abcd"
request 1 raw-body "abcd"
closed-by-client 1
"#);
    assert_eq!(v.name, "g/t");
    assert_eq!(v.description, "A description\non two lines.");
    assert_eq!(v.config.read_timeout, Some(Duration::from_millis(200)));
    assert_eq!(v.config.call_timeout, Some(Duration::from_secs(2)));
    assert_eq!(v.config.max_headers, Some(10));
    assert_eq!(v.config.max_interim_responses, Some(2));
    assert_eq!(v.config.max_chunk_extension_bytes, Some(64));
    assert_eq!(v.config.max_trailer_bytes, Some(128));
    assert!(v.config.whole_only);
    assert_eq!(v.calls.len(), 2);
    let c1 = &v.calls[0];
    assert_eq!(
        (c1.method.as_str(), c1.target.as_str()),
        ("POST", "/upload?x=1")
    );
    assert_eq!(
        c1.headers[0],
        (
            "Content-Type".to_string(),
            b"text/plain; charset=utf-8".to_vec()
        )
    );
    assert_eq!(c1.headers[1], ("X-Raw".to_string(), b"a\rb".to_vec()));
    assert_eq!(
        c1.body,
        BodySpec::Stream {
            len: Some(4),
            pieces: vec![b"ab".to_vec(), b"cd".to_vec()]
        }
    );
    assert_eq!(c1.read_body, ReadBody::Bytes(3));
    assert_eq!(v.calls[1].target, "/second");
    assert_eq!(v.calls[1].read_body, ReadBody::All);
    assert_eq!(v.origin.len(), 6);
    assert_eq!(v.origin[4], Step::Pause(Duration::from_millis(5)));
    let e1 = &v.expect_calls[0];
    assert_eq!(e1.status, Some(200));
    assert_eq!(e1.reason.as_deref(), Some("OK"));
    assert_eq!(
        e1.headers,
        vec![("content-length".to_string(), b"0".to_vec())]
    );
    assert_eq!(e1.body, Some(Vec::new()));
    assert_eq!(
        v.expect_calls[1].error,
        Some(("io".to_string(), Some("closed".to_string())))
    );
    assert_eq!(v.expect_origin.len(), 9);
    assert_eq!(
        v.expect_origin[4],
        OriginExpect::RequestHeader {
            request: 1,
            name: "Host".into(),
            value: b"{authority}".to_vec()
        }
    );
}

#[test]
fn calls_without_expectations_get_the_default() {
    let v = ok("[call 1]\nGET /\n[call 2]\nGET /b\n[expect call 2]\nstatus 204\n");
    assert_eq!(v.expect_calls.len(), 2);
    assert_eq!(v.expect_calls[0], CallExpect::default());
    assert_eq!(v.expect_calls[1].status, Some(204));
}

#[test]
fn bodies_and_read_body_forms() {
    let v = ok(
        "[call 1]\nPOST /\nbody \"x=1\"\nread-body none\n[call 2]\nPOST /\nstream \"a\" * 2 \"b\"\n",
    );
    assert_eq!(v.calls[0].body, BodySpec::Bytes(b"x=1".to_vec()));
    assert_eq!(v.calls[0].read_body, ReadBody::None);
    assert_eq!(
        v.calls[1].body,
        BodySpec::Stream {
            len: None,
            pieces: vec![b"aa".to_vec(), b"b".to_vec()]
        }
    );
}

#[test]
fn errors_carry_file_and_line() {
    let e = fails("# d\n\n[call 1]\nGET /\nfrobnicate\n");
    assert_eq!((e.file.as_str(), e.line), ("g/t.vec", 5));
    assert!(e.message.contains("frobnicate"), "{e}");
    assert!(e.to_string().starts_with("g/t.vec:5: "), "{e}");
}

#[test]
fn string_errors() {
    let cases = [
        (r#"send "a\q""#, "unknown escape"),
        (r#"send "a\x4""#, "two hex digits"),
        (r#"send "a\xzz""#, "two hex digits"),
        (r#"send "abc"#, "unterminated"),
        (r#"send "a\"#, "unterminated"),
        (r#"send abc"#, "string literal"),
        (r#"send"#, "string literal"),
        (r#"send "a" * x"#, "number"),
        (r#"send "a" * "#, "number"),
        (r#"send "a"b"#, "unexpected"),
        (r#"send "a" * 99999999999"#, "longer than"),
        (r#"send "a" * 99999999999999999999999"#, "too large"),
        ("send \"\u{e9}\\x\"", "two hex digits"),
    ];
    for (line, want) in cases {
        let e = fails(&format!("[call 1]\nGET /\n[origin]\naccept\n{line}\n"));
        assert_eq!(e.line, 5, "{line}: {e}");
        assert!(
            e.message.contains(want),
            "{line}: expected `{want}` in `{e}`"
        );
    }
}

#[test]
fn duration_errors() {
    for bad in ["5", "ms", "1.5s", "-1s", "5m", "2 s", "1h"] {
        let e = fails(&format!("[config]\nread-timeout {bad}\n[call 1]\nGET /\n"));
        assert_eq!(e.line, 2, "{bad}: {e}");
    }
}

#[test]
fn structural_errors() {
    let cases: [(&str, usize, &str); 19] = [
        ("GET /\n[call 1]\nGET /\n", 1, "outside any section"),
        ("[call 1]\nGET /\n[bogus]\n", 3, "unknown section"),
        ("[call 1\nGET /\n", 1, "malformed section"),
        ("[call 1]\nGET /\n[call 1]\nGET /\n", 3, "duplicate section"),
        ("[call 1]\nGET /\n[call 3]\nGET /\n", 3, "without gaps"),
        ("[call 2]\nGET /\n", 1, "without gaps"),
        ("[call 0]\nGET /\n", 1, "start at 1"),
        ("[call 1]\n[origin]\n", 1, "METHOD /path"),
        ("[call 1]\nGET x/\n", 2, "starting with `/`"),
        ("[call 1]\nGET ftp://x/\n", 2, "or an http(s) URL"),
        (
            "[call 1]\nGET /\n[expect call 2]\nstatus 200\n",
            3,
            "does not exist",
        ),
        ("[call 1]\nGET /\n[expect call 1]\nbody \"\"\n", 3, "status"),
        (
            "[call 1]\nGET /\n[expect call 1]\nstatus 20\n",
            4,
            "three digits",
        ),
        (
            "[call 1]\nGET /\n[expect call 1]\nerror weird\n",
            4,
            "unknown error kind",
        ),
        (
            "[call 1]\nGET /\n[expect call 1]\nstatus 200\nstatus 201\n",
            5,
            "twice",
        ),
        (
            "[call 1]\nGET /\nbody \"a\"\nstream \"b\"\n",
            4,
            "at most one",
        ),
        ("[call 1]\nGET /\nheader NoColon\n", 3, "Name: value"),
        ("[call 1]\nGET /\n[origin]\naccept now\n", 4, "no argument"),
        (
            "[config]\nfragment bytewise\n[call 1]\nGET /\n",
            2,
            "only `whole`",
        ),
    ];
    fails_at(&cases);
    let e = fails("# only a description\n");
    assert!(e.message.contains("at least one"), "{e}");
}

#[test]
fn more_errors() {
    let cases: [(&str, usize, &str); 8] = [
        ("[config]\nbogus 1\n[call 1]\nGET /\n", 2, "unknown config"),
        (
            "[config]\nmax-headers 1\nmax-headers 2\n[call 1]\nGET /\n",
            3,
            "twice",
        ),
        ("[call 1]\nGET /\nread-body some\n", 3, "read-body"),
        (
            "[call 1]\nGET /\n[origin]\nexplode\n",
            4,
            "unknown origin step",
        ),
        (
            "[call 1]\nGET /\n[expect origin]\nrequest 1 colour red\n",
            4,
            "unknown request",
        ),
        (
            "[call 1]\nGET /\n[expect origin]\nrequest 0 conn 1\n",
            4,
            "numbered from 1",
        ),
        (
            "[call 1]\nGET /\n[expect origin]\nconnections many\n",
            4,
            "number",
        ),
        (
            "[call 1]\nGET /\n[expect call 1]\nreason \"\\xff\"\n",
            4,
            "UTF-8",
        ),
    ];
    fails_at(&cases);
}

#[test]
fn chain_settings_and_follow_up_expectations() {
    let v = ok(r#"# Redirect across origins.
[config]
follow-redirects off
follow-ssl-redirects on
retry-on-connection-failure off
max-follow-ups 3
gzip off
max-decompressed-bytes 1000
basic-auth aladdin opensesame
user-agent "agent/1"

[call 1]
POST /pay
idempotent
timeout 250ms
body "x"

[origin]
accept
send "HTTP/1.1 302 Found\r\nLocation: http://{authority2}/b\r\n\r\n"

[origin 2]
accept
read-request

[expect call 1]
status 200
url "http://{authority2}/b"
prior 302 301
error too-many-follow-ups "21"

[expect origin 2]
requests 1
request 1 header Host: {authority2}
"#);
    let c = &v.config;
    assert_eq!(c.follow_redirects, Some(false));
    assert_eq!(c.follow_ssl_redirects, Some(true));
    assert_eq!(c.retry_on_connection_failure, Some(false));
    assert_eq!(c.max_follow_ups, Some(3));
    assert_eq!(c.gzip, Some(false));
    assert_eq!(c.max_decompressed_bytes, Some(1000));
    assert_eq!(
        c.basic_auth,
        Some(("aladdin".to_string(), "opensesame".to_string()))
    );
    assert_eq!(c.user_agent.as_deref(), Some("agent/1"));
    assert!(v.calls[0].idempotent);
    assert_eq!(v.calls[0].timeout, Some(Duration::from_millis(250)));
    assert_eq!(v.origin.len(), 2);
    assert_eq!(
        v.origin2,
        Some(vec![Step::Accept, Step::ReadRequest]),
        "the second script is kept apart"
    );
    assert_eq!(v.scripts().len(), 2);
    let e = &v.expect_calls[0];
    assert_eq!(e.url.as_deref(), Some("http://{authority2}/b"));
    assert_eq!(e.prior, Some(vec![302, 301]));
    assert_eq!(
        e.error,
        Some(("too-many-follow-ups".to_string(), Some("21".to_string())))
    );
    assert!(v.expect_origin.is_empty());
    assert_eq!(v.expect_origin2.len(), 2);
    let plain = ok("[call 1]\nGET /\n[expect call 1]\nstatus 200\nprior none\n");
    assert_eq!(plain.expect_calls[0].prior, Some(Vec::new()));
    assert!(!plain.calls[0].idempotent);
    assert_eq!(plain.origin2, None);
    assert_eq!(plain.scripts().len(), 1);
}

#[test]
fn chain_setting_errors() {
    let cases: [(&str, usize, &str); 12] = [
        (
            "[config]\ncookie-jar disk\n[call 1]\nGET /\n",
            2,
            "only `memory`",
        ),
        (
            "[config]\ngzip maybe\n[call 1]\nGET /\n",
            2,
            "`on` or `off`",
        ),
        (
            "[config]\nbasic-auth alone\n[call 1]\nGET /\n",
            2,
            "USER PASSWORD",
        ),
        (
            "[config]\nmax-follow-ups 99999999999\n[call 1]\nGET /\n",
            2,
            "at most",
        ),
        ("[call 1]\nGET /\nidempotent yes\n", 3, "no argument"),
        ("[call 1]\nGET /\nidempotent\nidempotent\n", 4, "twice"),
        ("[call 1]\nGET /\ntimeout 1s\ntimeout 2s\n", 4, "twice"),
        ("[call 1]\nGET /\ntimeout soon\n", 3, "duration"),
        (
            "[call 1]\nGET /\n[expect call 1]\nstatus 200\nprior\n",
            5,
            "`none`",
        ),
        (
            "[call 1]\nGET /\n[expect call 1]\nstatus 200\nprior 30\n",
            5,
            "three digits",
        ),
        ("[call 1]\nGET /\n[origin 3]\n", 3, "[origin 2]"),
        (
            "[call 1]\nGET /\n[expect origin 2]\nrequests 1\n",
            3,
            "needs an [origin 2]",
        ),
    ];
    fails_at(&cases);
}

#[test]
fn cache_keys_parse_and_are_checked() {
    use crate::vector::cache::CacheSetting;
    let v = ok("[config]\ncache disk 4096\nclock virtual\n\
                [call 1]\nGET /\n[call 2]\nGET /\nafter 90s\n\
                [expect call 2]\nstatus 200\ncache conditional-hit\n");
    assert_eq!(v.config.cache, Some(CacheSetting::Disk(Some(4096))));
    assert!(v.config.virtual_clock);
    assert_eq!(v.calls[0].after, None);
    assert_eq!(v.calls[1].after, Some(Duration::from_secs(90)));
    assert_eq!(v.expect_calls[1].cache.as_deref(), Some("conditional-hit"));

    let e = fails("[config]\ncache tape\n[call 1]\nGET /\n");
    assert_eq!(e.line, 2);
    assert!(e.message.contains("`memory` or `disk`"), "{e}");
    let e = fails("[call 1]\nGET /\nafter 2s\n");
    assert!(e.message.contains("clock virtual"), "{e}");
    // Up to a second, the runtimes wait for real.
    let v = ok("[call 1]\nGET /\nafter 1s\n");
    assert_eq!(v.calls[0].after, Some(Duration::from_secs(1)));
    let e = fails("[config]\nclock real\n[call 1]\nGET /\n");
    assert!(e.message.contains("only `virtual`"), "{e}");
    let e = fails("[call 1]\nGET /\n[expect call 1]\nstatus 200\ncache maybe\n");
    assert_eq!(e.line, 5);
    assert!(e.message.contains("hit, conditional-hit"), "{e}");
}
