//! Small parsers of what a server sends, each alone: the redirect target (`Location`), the
//! `Content-Type` charset and text decoding, and the gzip body decoder.

use std::io::Write as _;
use std::sync::Arc;

use http::{Method, StatusCode};

use crate::bridge::gzip::GzipDecoder;
use crate::follow_up::redirect::{redirect, resolve, same_origin};
use crate::response::ResponseParts;
use crate::{Headers, Request, Response, Version, decode_text};

/// Request URLs a `Location` is resolved against.
const BASES: [&str; 6] = [
    "http://a.test/p/q?x=1#frag",
    "https://a.test/",
    "http://user:secret@a.test:8080/dir/file",
    "http://[::1]:8080/x/y",
    "http://127.0.0.1/a%20b/?",
    "https://xn--caf-dma.test/",
];

/// A response head with `headers`, to `request`.
fn response(status: StatusCode, headers: Headers, request: Request) -> Response<()> {
    Response::from_parts(
        ResponseParts {
            status,
            reason: String::new().into(),
            version: Version::HTTP_11,
            headers,
        },
        Arc::new(request),
        std::time::SystemTime::UNIX_EPOCH,
        std::time::SystemTime::UNIX_EPOCH,
    )
}

/// Fuzz target: a `Location` value (the input after its first two bytes) resolved against a
/// request URL, and the redirect built from it. The first byte picks the request URL and the
/// status, the second the method and the redirect settings.
///
/// Checked: a resolved target is an `http`/`https` URL with a host that reads back as itself
/// and resolves to itself again; the redirect goes exactly there; credentials never cross to
/// another origin; a method turned into GET drops the body and its fields; with
/// `follow_ssl_redirects` off the scheme never changes.
pub fn location(input: &[u8]) {
    let [pick, mode, value @ ..] = input else {
        return;
    };
    let Ok(base) = url::Url::parse(BASES[usize::from(*pick) % BASES.len()]) else {
        return;
    };
    let Ok(location) = std::str::from_utf8(value) else {
        return;
    };
    let target = resolve(&base, location);
    if let Some(target) = &target {
        assert!(matches!(target.scheme(), "http" | "https"), "{target}");
        assert!(target.host_str().is_some_and(|h| !h.is_empty()), "{target}");
        let reparsed = url::Url::parse(target.as_str());
        assert_eq!(
            reparsed.as_ref(),
            Ok(target),
            "{target} reads back differently"
        );
        assert_eq!(
            resolve(&base, target.as_str()).as_ref(),
            Some(target),
            "{target} resolves to something else"
        );
    }

    let mut headers = Headers::new();
    if headers.append("Location", value).is_err() {
        return;
    }
    const STATUSES: [u16; 6] = [300, 301, 302, 303, 307, 308];
    let status = STATUSES[usize::from(*pick / 8) % STATUSES.len()];
    let Ok(status) = StatusCode::from_u16(status) else {
        return;
    };
    let method =
        [Method::GET, Method::HEAD, Method::POST, Method::PUT][usize::from(*mode) % 4].clone();
    let Ok(request) = Request::builder(method.clone(), base.clone())
        .header("Authorization", "Bearer t")
        .header("Proxy-Authorization", "Basic cA==")
        .header("Cookie", "a=b")
        .header("Content-Type", "text/plain")
        .body("x=1")
        .build()
    else {
        return;
    };
    let mut config = super::base_config().clone();
    config.follow_redirects = *mode & 4 == 0;
    config.follow_ssl_redirects = *mode & 8 == 0;
    // The request keeps no credentials in its URL (the builder moves them out), so the
    // redirect resolves against the URL without them.
    let sent_to = request.url().clone();
    let Ok(next) = redirect(&response(status, headers, request), &config) else {
        return;
    };
    assert!(config.follow_redirects);
    // The value went through header validation, which may trim it; resolving is on the value
    // as stored.
    assert!(
        target.is_some(),
        "followed {location:?}, which does not resolve"
    );
    // Credentials in the target leave its URL for the Authorization field.
    let mut expected = resolve(&sent_to, location);
    let credentials = expected
        .as_mut()
        .and_then(crate::credentials::take_from_url);
    assert_eq!(Some(next.url()), expected.as_ref());
    if let Some(credentials) = &credentials {
        assert_eq!(next.header("Authorization"), Some(credentials.as_str()));
    }
    if !config.follow_ssl_redirects {
        assert_eq!(next.url().scheme(), base.scheme());
    }
    if !same_origin(&base, next.url()) {
        for name in ["Proxy-Authorization", "Cookie"] {
            assert_eq!(next.header(name), None, "{name} went to {}", next.url());
        }
        if credentials.is_none() {
            assert_eq!(next.header("Authorization"), None, "went to {}", next.url());
        }
    }
    if next.method() != method {
        assert_eq!(next.method(), Method::GET);
        assert!(next.body().is_empty());
        assert_eq!(next.header("Content-Type"), None);
    }
}

/// Fuzz target: a `Content-Type` value (the input up to its first line feed) and a body (the
/// rest). The charset it names is lowercase, and decoding the body with it never fails: a
/// Latin-1 charset maps each byte to one character, anything else decodes as UTF-8 (valid UTF-8
/// unchanged).
pub fn content_type(input: &[u8]) {
    let (value, body) = match input.iter().position(|&b| b == b'\n') {
        Some(i) => (&input[..i], &input[i + 1..]),
        None => (input, &[][..]),
    };
    let mut headers = Headers::new();
    if headers.append("Content-Type", value).is_err() {
        return;
    }
    let Ok(request) = Request::get("http://a.test/").build() else {
        return;
    };
    let charset = response(StatusCode::OK, headers, request).charset();
    if let Some(charset) = &charset {
        assert_eq!(*charset, charset.to_ascii_lowercase());
    }
    let text = decode_text(body, charset.as_deref());
    assert_eq!(
        crate::decode_text_owned(bytes::Bytes::copy_from_slice(body), charset.as_deref()),
        text,
        "decoding an owned body decodes as a borrowed one"
    );
    match charset.as_deref() {
        Some("iso-8859-1" | "latin1" | "latin-1" | "us-ascii" | "ascii") => {
            assert!(
                text.chars()
                    .map(u32::from)
                    .eq(body.iter().map(|&b| u32::from(b)))
            );
        }
        _ => {
            let unbommed = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
            if let Ok(valid) = std::str::from_utf8(unbommed) {
                assert_eq!(text, valid);
            }
        }
    }
}

/// Decodes `input` as a gzip body arriving in pieces of `piece` bytes through an output buffer
/// of `out` bytes, as the call's body pipeline does: decoded bytes, or the first error's
/// message.
pub fn decode_gzip(
    input: &[u8],
    piece: usize,
    out: usize,
    max: Option<u64>,
) -> Result<Vec<u8>, String> {
    let mut decoder = GzipDecoder::new(max);
    let mut buf = vec![0u8; out.max(1)];
    let mut decoded = Vec::new();
    for mut staged in input.chunks(piece.max(1)) {
        while !staged.is_empty() {
            let (used, produced) = decoder
                .decode(staged, &mut buf)
                .map_err(|e| e.to_string())?;
            staged = &staged[used..];
            decoded.extend_from_slice(&buf[..produced]);
            if used == 0 && produced == 0 {
                return Err("the gzip decoder made no progress".into());
            }
        }
    }
    // The stream ended: what the inflater still holds comes out, then it must be complete.
    loop {
        let (_, produced) = decoder.decode(&[], &mut buf).map_err(|e| e.to_string())?;
        if produced == 0 {
            break;
        }
        decoded.extend_from_slice(&buf[..produced]);
    }
    decoder.finish().map_err(|e| e.to_string())?;
    Ok(decoded)
}

/// Fuzz target: gzip decoding gives the same bytes, or the same error, however its input is
/// split and whatever the output buffer's size, and never more than the decoded-size cap (a
/// stream both over the cap and corrupt may report either).
///
/// The first byte picks the mode: bit 0 compresses the rest of the input (so that the decoder
/// sees valid streams, which must decode to exactly what was compressed), bit 1 adds a second
/// member, bit 2 flips the bits of one byte (at the position the second and third bytes give,
/// by the mask the fourth gives) and bits 3-7 pick the decoded-size cap.
pub fn gzip(input: &[u8]) {
    let [mode, at_high, at_low, mask, rest @ ..] = input else {
        return;
    };
    let max = match mode >> 3 {
        0 => None,
        n => Some(1u64 << n),
    };
    let mut stream = rest.to_vec();
    let mut expected = None;
    if mode & 1 == 1 {
        let compress = |data: &[u8]| {
            let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            e.write_all(data).and_then(|()| e.finish())
        };
        let Ok(one) = compress(rest) else {
            return;
        };
        stream = one.clone();
        let mut plain = rest.to_vec();
        if mode & 2 == 2 {
            stream.extend_from_slice(&one);
            plain.extend_from_slice(rest);
        }
        expected = Some(plain);
    }
    if mode & 4 == 4 && !stream.is_empty() {
        let at = usize::from(u16::from_be_bytes([*at_high, *at_low])) % stream.len();
        stream[at] ^= *mask;
        if *mask != 0 {
            expected = None;
        }
    }
    let whole = decode_gzip(&stream, stream.len(), 1 << 16, max);
    if let (Some(expected), Ok(decoded)) = (&expected, &whole) {
        assert!(decoded == expected, "a valid stream decoded to other bytes");
    }
    if let (Some(expected), Err(e)) = (&expected, &whole) {
        let over = max.is_some_and(|max| expected.len() as u64 > max);
        assert!(over, "a valid stream failed: {e}");
    }
    if let (Some(max), Ok(decoded)) = (max, &whole) {
        assert!(decoded.len() as u64 <= max, "decoded past the cap");
    }
    for (piece, out) in [(1, 1), (3, 5), (64, 7), (4096, 1)] {
        let split = decode_gzip(&stream, piece, out, max);
        match (&whole, &split) {
            (Err(a), Err(b)) if a != b => {
                // A stream that is corrupt past the cap fails either way; which failure comes
                // first depends on how far one call of the inflater gets (it reports corrupt
                // data without the bytes it produced before them).
                let capped = |e: &str| e.contains("max_decompressed_bytes");
                assert!(
                    capped(a) || capped(b),
                    "whole vs {piece}-byte pieces into {out}-byte buffers: {a} vs {b}"
                );
            }
            _ => assert_eq!(
                whole, split,
                "whole vs {piece}-byte pieces into {out}-byte buffers"
            ),
        }
    }
}
