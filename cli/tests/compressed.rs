//! `--compressed`: gzip is asked for and decoded only when the option says so, as with curl.

mod common;

use std::io::Write;

use common::*;

const TEXT: &[u8] = b"a body that compresses well, well, well, well, well, well, well.\n";

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

/// A 200 whose body is `TEXT`, gzip-compressed, whatever the request asked for.
fn gzipped() -> (Vec<u8>, Reply) {
    let body = gzip(TEXT);
    let reply = Reply::Send(response(
        "200 OK",
        "Content-Encoding: gzip\r\nContent-Type: text/plain\r\n",
        &body,
    ));
    (body, reply)
}

#[test]
fn without_compressed_nothing_is_asked_for_or_decoded() {
    let (body, reply) = gzipped();
    let server = Server::start(vec![reply]);
    let output = wayfarer(&[&server.url("/")]);
    assert_exit(&output, 0);
    // The bytes as they came, as curl writes them without --compressed.
    assert_eq!(output.stdout, body);
    assert_eq!(server.only_request().header("accept-encoding"), None);
}

#[test]
fn compressed_asks_for_gzip_and_decodes_it() {
    let (_, reply) = gzipped();
    let server = Server::start(vec![reply]);
    let output = wayfarer(&["--compressed", &server.url("/")]);
    assert_exit(&output, 0);
    assert_eq!(output.stdout, TEXT);
    assert_eq!(
        server.only_request().header("accept-encoding"),
        Some("gzip")
    );
}

#[test]
fn compressed_include_shows_the_head_as_the_server_sent_it() {
    let (body, reply) = gzipped();
    let server = Server::start(vec![reply]);
    let output = wayfarer(&["--compressed", "-i", &server.url("/")]);
    assert_exit(&output, 0);
    let mut expected = format!(
        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nContent-Encoding: gzip\r\n\
         Content-Type: text/plain\r\n\r\n",
        body.len()
    )
    .into_bytes();
    expected.extend_from_slice(TEXT);
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&expected)
    );
}

#[test]
fn compressed_leaves_a_body_without_content_encoding_alone() {
    let server = Server::start(vec![ok(TEXT)]);
    let output = wayfarer(&["--compressed", &server.url("/")]);
    assert_exit(&output, 0);
    assert_eq!(output.stdout, TEXT);
}

#[test]
fn compressed_decodes_the_final_body_after_redirects() {
    let (_, reply) = gzipped();
    let server = Server::start(vec![redirect("302 Found", "/z"), reply]);
    let output = wayfarer(&["-L", "--compressed", &server.url("/a")]);
    assert_exit(&output, 0);
    assert_eq!(output.stdout, TEXT);
    for request in server.requests() {
        assert_eq!(request.header("accept-encoding"), Some("gzip"));
    }
}

#[test]
fn a_corrupt_gzip_body_fails_with_a_message_naming_gzip() {
    let mut body = gzip(TEXT);
    // Break the CRC-32 in the trailer: every byte decodes, the check at the end fails.
    let crc = body.len() - 8;
    body[crc] ^= 0xff;
    let server = Server::start(vec![Reply::Send(response(
        "200 OK",
        "Content-Encoding: gzip\r\n",
        &body,
    ))]);
    let output = wayfarer(&["--compressed", &server.url("/")]);
    assert_exit(&output, 61);
    let line = assert_error_line(&output, 61);
    assert!(line.contains("corrupt gzip"), "{line}");
}
