//! An incremental HTTP/1.1 *request* reader over a byte buffer: the origin's side of the wire.
//!
//! Both the scripted origin (real sockets) and the in-memory simulation (virtual sockets) append
//! whatever bytes arrived to a `Vec<u8>` and ask these functions whether a whole head or body is
//! there yet. Nothing is consumed until a piece is complete, so any segmentation of the input gives
//! the same result. The reader is strict where a lenient one would hide a client bug (two different
//! `Content-Length`s, a chunk without its CRLF) and records the body both decoded and exactly as it
//! was framed, so vectors can pin down the client's framing choice.

use crate::vector::model::RecordedRequest;

/// The most header lines a request may carry before it is called garbage.
const MAX_HEADERS: usize = 256;
/// A head that is still incomplete after this many bytes is garbage, not a slow client.
const MAX_HEAD_BYTES: usize = 1 << 20;

/// If `buf` starts with a complete request head, removes it and returns the request with `conn`,
/// `line` and `headers` set and empty bodies. `Ok(None)` means more bytes are needed; `Err` means
/// the bytes cannot be a request head.
pub fn take_head(buf: &mut Vec<u8>, conn: usize) -> Result<Option<RecordedRequest>, String> {
    let mut headers = vec![httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut parsed = httparse::Request::new(&mut headers);
    let len = match parsed.parse(buf) {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) if buf.len() > MAX_HEAD_BYTES => {
            return Err(format!("request head longer than {MAX_HEAD_BYTES} bytes"));
        }
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(e) => return Err(format!("malformed request head ({e}): {}", preview(buf))),
    };
    let headers = parsed
        .headers
        .iter()
        .map(|h| (h.name.to_string(), h.value.to_vec()))
        .collect();
    // The request line exactly as sent (after any empty lines httparse skipped), minus its CRLF.
    let start = buf
        .iter()
        .position(|&b| b != b'\r' && b != b'\n')
        .unwrap_or(0);
    let end = buf[start..]
        .iter()
        .position(|&b| b == b'\n')
        .map_or(len, |p| start + p);
    let line_bytes = buf[start..end]
        .strip_suffix(b"\r")
        .unwrap_or(&buf[start..end]);
    let line = String::from_utf8_lossy(line_bytes).into_owned();
    buf.drain(..len);
    Ok(Some(RecordedRequest {
        conn,
        line,
        headers,
        body: Vec::new(),
        raw_body: Vec::new(),
    }))
}

/// If `buf` starts with the whole body of `req` (framed as its headers say: chunked when
/// `Transfer-Encoding` ends in `chunked`, else `Content-Length`, else no body), removes it, fills
/// `req.body` (de-chunked) and `req.raw_body` (the exact bytes) and returns true. Returns false
/// when more bytes are needed.
pub fn take_body(buf: &mut Vec<u8>, req: &mut RecordedRequest) -> Result<bool, String> {
    let framing = framing(req)?;
    let (len, body) = match framing {
        Framing::None => (0, Vec::new()),
        Framing::Length(n) => {
            if (buf.len() as u64) < n {
                return Ok(false);
            }
            let n = n as usize;
            (n, buf[..n].to_vec())
        }
        Framing::Chunked => match dechunk(buf)? {
            None => return Ok(false),
            Some(found) => found,
        },
    };
    req.raw_body = buf.drain(..len).collect();
    req.body = body;
    Ok(true)
}

enum Framing {
    None,
    Length(u64),
    Chunked,
}

fn framing(req: &RecordedRequest) -> Result<Framing, String> {
    let values = |name: &str| -> Vec<&[u8]> {
        req.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_slice())
            .collect()
    };
    let te = values("transfer-encoding");
    if !te.is_empty() {
        let codings: Vec<String> = te
            .iter()
            .flat_map(|v| v.split(|&b| b == b','))
            .map(|c| String::from_utf8_lossy(c).trim().to_ascii_lowercase())
            .filter(|c| !c.is_empty())
            .collect();
        return match codings.last().map(String::as_str) {
            Some("chunked") => Ok(Framing::Chunked),
            _ => Err(format!(
                "request Transfer-Encoding {codings:?} does not end in chunked: its length is unknowable"
            )),
        };
    }
    let mut length: Option<u64> = None;
    for value in values("content-length") {
        for item in value.split(|&b| b == b',') {
            let item = item.trim_ascii();
            let n = std::str::from_utf8(item)
                .ok()
                .filter(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
                .and_then(|s| s.parse::<u64>().ok())
                .ok_or_else(|| {
                    format!(
                        "invalid request Content-Length {:?}",
                        String::from_utf8_lossy(value)
                    )
                })?;
            if length.is_some_and(|l| l != n) {
                return Err("request carries two different Content-Length values".to_string());
            }
            length = Some(n);
        }
    }
    Ok(length.map_or(Framing::None, Framing::Length))
}

/// Decodes a chunked body at the start of `buf`: `Some((wire length, data))` when complete.
fn dechunk(buf: &[u8]) -> Result<Option<(usize, Vec<u8>)>, String> {
    let mut data = Vec::new();
    let mut pos = 0;
    loop {
        let Some(line_end) = find_line(buf, pos) else {
            return Ok(None);
        };
        let line = &buf[pos..line_end.0];
        let size_part = line
            .split(|&b| b == b';')
            .next()
            .unwrap_or(b"")
            .trim_ascii();
        if size_part.is_empty() || !size_part.iter().all(u8::is_ascii_hexdigit) {
            return Err(format!(
                "bad chunk size line {:?}",
                String::from_utf8_lossy(line)
            ));
        }
        let size = std::str::from_utf8(size_part)
            .ok()
            .and_then(|s| u64::from_str_radix(s, 16).ok())
            .ok_or_else(|| {
                format!(
                    "chunk size {:?} overflows",
                    String::from_utf8_lossy(size_part)
                )
            })?;
        pos = line_end.1;
        if size == 0 {
            break;
        }
        let Ok(size) = usize::try_from(size) else {
            return Err("chunk too large".into());
        };
        if buf.len() - pos < size + 2 {
            // Fail early when the bytes after the data are there but are not CRLF.
            if buf.len() - pos > size && buf[pos + size] != b'\r' && buf[pos + size] != b'\n' {
                return Err("chunk data is not followed by CRLF".to_string());
            }
            return Ok(None);
        }
        data.extend_from_slice(&buf[pos..pos + size]);
        pos += size;
        match &buf[pos..pos + 2] {
            b"\r\n" => pos += 2,
            [b'\n', _] => pos += 1,
            _ => return Err("chunk data is not followed by CRLF".to_string()),
        }
    }
    // Trailer fields, then the empty line.
    loop {
        let Some((end, next)) = find_line(buf, pos) else {
            return Ok(None);
        };
        let line = &buf[pos..end];
        pos = next;
        if line.is_empty() {
            return Ok(Some((pos, data)));
        }
        if !line.contains(&b':') {
            return Err(format!(
                "bad trailer line {:?}",
                String::from_utf8_lossy(line)
            ));
        }
    }
}

/// Finds the line starting at `from`: `(end of content, start of next line)`, accepting CRLF or LF.
fn find_line(buf: &[u8], from: usize) -> Option<(usize, usize)> {
    let nl = from + buf.get(from..)?.iter().position(|&b| b == b'\n')?;
    let end = if nl > from && buf[nl - 1] == b'\r' {
        nl - 1
    } else {
        nl
    };
    Some((end, nl + 1))
}

fn preview(buf: &[u8]) -> String {
    crate::vector::check::show(&buf[..buf.len().min(120)])
}

#[cfg(test)]
#[path = "wire_tests.rs"]
mod tests;
