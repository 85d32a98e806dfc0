//! The request body from `-d`, `--data-raw`, `--data-binary` and `--data-urlencode`.
//!
//! Their pieces are small form data, so they are read into memory and joined with `&` in
//! command-line order (curl does the same). A lone `--data-binary @FILE` body may be large, so
//! it is streamed from the file, which is opened again if the body must be sent again (a 307 or
//! 308 with `-L`); a failure to read it exits 26 (the library marks it with
//! `Phase::RequestBody`), and [`LocalReadError`] names the file in the message.

use std::error::Error as StdError;
use std::fmt;
use std::fs::File;
use std::io::{self, Read};

use wayfarer_blocking::RequestBody;
use wayfarer_core::Url;

use crate::exit::{Failure, code};

/// A failure to read a local body source, naming the source.
#[derive(Debug)]
pub struct LocalReadError {
    what: String,
    source: io::Error,
}

impl LocalReadError {
    fn io_error(what: &str, source: io::Error) -> io::Error {
        io::Error::new(
            source.kind(),
            LocalReadError {
                what: what.to_string(),
                source,
            },
        )
    }
}

impl fmt::Display for LocalReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "could not read {}: {}", self.what, self.source)
    }
}

impl StdError for LocalReadError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        Some(&self.source)
    }
}

/// A body source that reports its failures as [`LocalReadError`]s and, when its size was
/// known up front, sends exactly that many bytes: a file that grows while it is sent is cut
/// at its original size, and one that shrinks fails (the `Content-Length` already went out).
struct LocalReader<R> {
    inner: R,
    what: String,
    remaining: Option<u64>,
}

impl<R: Read> Read for LocalReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let max = match self.remaining {
            Some(0) => return Ok(0),
            Some(n) => buf.len().min(usize::try_from(n).unwrap_or(usize::MAX)),
            None => buf.len(),
        };
        match self.inner.read(&mut buf[..max]) {
            Ok(0) if max > 0 && self.remaining.is_some() => {
                let short = self.remaining.unwrap_or(0);
                Err(LocalReadError::io_error(
                    &self.what,
                    io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        format!("it ended {short} bytes short of its size when the request began"),
                    ),
                ))
            }
            Ok(n) => {
                if let Some(r) = &mut self.remaining {
                    *r -= n as u64;
                }
                Ok(n)
            }
            // The library retries interrupted reads; it is not a failure of the source.
            Err(e) if e.kind() == io::ErrorKind::Interrupted => Err(e),
            Err(e) => Err(LocalReadError::io_error(&self.what, e)),
        }
    }
}

/// One data option's argument, by the option that gave it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DataPiece {
    /// `-d`/`--data`: `@FILE` is read with its carriage returns and newlines removed.
    Ascii(String),
    /// `--data-raw`: as given, `@` included.
    Raw(String),
    /// `--data-binary`: `@FILE` is read as it is.
    Binary(String),
    /// `--data-urlencode`: see [`url_encoded`].
    UrlEncode(String),
}

/// The request body the pieces make: `None` without any. A lone `--data-binary` is
/// [`binary_body`] (a file streamed); otherwise the pieces are [`joined`] in memory.
pub fn body(pieces: &[DataPiece]) -> Result<Option<RequestBody>, Failure> {
    match pieces {
        [] => Ok(None),
        [DataPiece::Binary(data)] => binary_body(data).map(Some),
        pieces => Ok(Some(RequestBody::from_bytes(joined(pieces)?))),
    }
}

/// What the data pieces make of each request: its body, or with `-G` more of its URL's query.
pub struct Payload {
    body: Option<RequestBody>,
    /// The pieces for the query (`-G`), percent-encoded where the URL needs it; empty for none.
    query: String,
}

impl Payload {
    /// Reads the pieces, once for every URL (`-d @-` reads standard input).
    pub fn read(pieces: &[DataPiece], get: bool) -> Result<Payload, Failure> {
        if !get {
            return Ok(Payload {
                body: body(pieces)?,
                query: String::new(),
            });
        }
        let mut query = String::new();
        for byte in joined(pieces)? {
            match byte {
                // curl refuses a URL with a space or a control character in it.
                0..=0x20 | 0x7f => {
                    return Err(Failure::new(
                        code::URL_MALFORMAT,
                        format!(
                            "--get: the data holds a space or control character (byte {byte:#04x}), \
                             which a URL cannot; use --data-urlencode to encode it"
                        ),
                    ));
                }
                // Bytes outside ASCII, which the URL would percent-encode as UTF-8, are
                // encoded one by one, so that data that is not UTF-8 goes through too.
                0x80.. => query.push_str(&format!("%{byte:02X}")),
                _ => query.push(char::from(byte)),
            }
        }
        Ok(Payload { body: None, query })
    }

    /// Whether the request has a body (so the method defaults to POST).
    pub fn has_body(&self) -> bool {
        self.body.is_some()
    }

    /// The URL to request and its body: with `-G`, the data appended to the URL's query after
    /// `&`, or after `?` when it has no query or an empty one, before its fragment, as curl
    /// appends it. A `#` in the data starts the fragment, as it does for curl.
    pub fn apply(&self, url: Url) -> Result<(Url, Option<RequestBody>), Failure> {
        if self.query.is_empty() {
            return Ok((url, self.body.clone()));
        }
        let query = match url.query() {
            Some(query) if !query.is_empty() => format!("{query}&{}", self.query),
            _ => self.query.clone(),
        };
        let mut base = url.clone();
        base.set_fragment(None);
        base.set_query(None);
        let mut text = format!("{base}?{query}");
        if let Some(fragment) = url.fragment() {
            text.push('#');
            text.push_str(fragment);
        }
        let url = Url::parse(&text).map_err(|e| {
            Failure::new(
                code::URL_MALFORMAT,
                format!("malformed URL {text:?} with the --get data: {e}"),
            )
        })?;
        Ok((url, None))
    }
}

/// Every piece read and joined with `&`, as curl builds its POST data (an empty piece still
/// gets its `&`).
pub fn joined(pieces: &[DataPiece]) -> Result<Vec<u8>, Failure> {
    let mut out = Vec::new();
    for (i, piece) in pieces.iter().enumerate() {
        if i > 0 {
            out.push(b'&');
        }
        match piece {
            DataPiece::Ascii(data) => match data.strip_prefix('@') {
                // curl's behaviour, so that a file of `a=1\n` posts `a=1`.
                Some(path) => out.extend(
                    read_all(path)?
                        .into_iter()
                        .filter(|&b| b != b'\r' && b != b'\n'),
                ),
                None => out.extend_from_slice(data.as_bytes()),
            },
            DataPiece::Raw(data) => out.extend_from_slice(data.as_bytes()),
            DataPiece::Binary(data) => match data.strip_prefix('@') {
                Some(path) => out.extend(read_all(path)?),
                None => out.extend_from_slice(data.as_bytes()),
            },
            DataPiece::UrlEncode(data) => out.extend(url_encoded(data)?),
        }
    }
    Ok(out)
}

/// A `--data-urlencode` piece, split as curl splits it: at the first `=`, or without one at
/// the first `@`. Before it is the name, sent as given (and followed by `=` unless empty);
/// after it the content, or with `@` the file to read it from (`-` for standard input). The
/// content is percent-encoded except for letters, digits and `-._~`, with `+` for a space. An
/// empty file makes an empty piece, without its name, as with curl.
fn url_encoded(arg: &str) -> Result<Vec<u8>, Failure> {
    let (name, content) = match arg.find('=').or_else(|| arg.find('@')) {
        Some(at) if arg.as_bytes()[at] == b'@' => {
            let content = read_all(&arg[at + 1..])?;
            if content.is_empty() {
                return Ok(Vec::new());
            }
            (&arg[..at], content)
        }
        Some(at) => (&arg[..at], arg.as_bytes()[at + 1..].to_vec()),
        None => ("", arg.as_bytes().to_vec()),
    };
    let mut out = name.as_bytes().to_vec();
    if !name.is_empty() {
        out.push(b'=');
    }
    for byte in content {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => out.push(byte),
            b' ' => out.push(b'+'),
            _ => out.extend(format!("%{byte:02X}").into_bytes()),
        }
    }
    Ok(out)
}

/// The body for `--data-binary`: a literal string, or a file or standard input streamed as is.
pub fn binary_body(data: &str) -> Result<RequestBody, Failure> {
    let Some(path) = data.strip_prefix('@') else {
        return Ok(RequestBody::from_bytes(data.as_bytes().to_vec()));
    };
    if path == "-" {
        let reader = LocalReader {
            inner: io::stdin(),
            what: "standard input".to_string(),
            remaining: None,
        };
        return Ok(RequestBody::from_reader(reader, None));
    }
    let file = File::open(path).map_err(|e| cannot_read(path, &e))?;
    let meta = file.metadata().map_err(|e| cannot_read(path, &e))?;
    if !meta.is_file() {
        // A pipe or a device: sent chunked, as it comes, and only once.
        let reader = LocalReader {
            inner: file,
            what: path.to_string(),
            remaining: None,
        };
        return Ok(RequestBody::from_reader(reader, None));
    }
    // A regular file's size is known and sent as Content-Length. The file is opened again each
    // time the body is sent, so that -L can follow a 307 or 308 with it, as curl does by
    // rewinding the file; each sending is cut to the size it had when the command started.
    let len = meta.len();
    let path = path.to_string();
    Ok(RequestBody::repeatable(Some(len), move || {
        let file = File::open(&path).map_err(|e| LocalReadError::io_error(&path, e))?;
        let reader = LocalReader {
            inner: file,
            what: path.clone(),
            remaining: Some(len),
        };
        Ok(RequestBody::from_reader(reader, Some(len)))
    }))
}

fn read_all(path: &str) -> Result<Vec<u8>, Failure> {
    let result = if path == "-" {
        let mut bytes = Vec::new();
        io::stdin().read_to_end(&mut bytes).map(|_| bytes)
    } else {
        std::fs::read(path)
    };
    result.map_err(|e| cannot_read(path, &e))
}

fn cannot_read(path: &str, e: &io::Error) -> Failure {
    Failure::new(code::READ_ERROR, format!("could not read {path}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_to_end(mut r: impl Read) -> io::Result<Vec<u8>> {
        let mut out = Vec::new();
        r.read_to_end(&mut out)?;
        Ok(out)
    }

    #[test]
    fn a_known_size_is_sent_exactly() {
        let grown = LocalReader {
            inner: &b"hello world"[..],
            what: "f".into(),
            remaining: Some(5),
        };
        assert_eq!(read_to_end(grown).unwrap(), b"hello");

        let shrunk = LocalReader {
            inner: &b"hi"[..],
            what: "f".into(),
            remaining: Some(5),
        };
        let e = read_to_end(shrunk).unwrap_err();
        assert!(
            e.get_ref()
                .is_some_and(|inner| inner.is::<LocalReadError>()),
            "{e}"
        );
        assert!(e.to_string().contains("3 bytes short"), "{e}");
    }

    /// Reads a body to its end through its `poll_read` (a file body never returns `Pending`).
    fn send(body: &mut RequestBody) -> io::Result<Vec<u8>> {
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        let mut out = Vec::new();
        let mut buf = [0u8; 4096];
        loop {
            match body.poll_read(&mut cx, &mut buf) {
                std::task::Poll::Ready(Ok(0)) => return Ok(out),
                std::task::Poll::Ready(Ok(n)) => out.extend_from_slice(&buf[..n]),
                std::task::Poll::Ready(Err(e)) => return Err(e),
                std::task::Poll::Pending => panic!("a file body is never pending"),
            }
        }
    }

    #[test]
    fn a_file_body_can_be_sent_again_at_its_first_size() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("blob");
        std::fs::write(&path, b"0123456789").unwrap();
        let mut body = binary_body(&format!("@{}", path.display())).unwrap();
        assert!(!body.is_one_shot());
        assert_eq!(body.len(), Some(10));
        assert_eq!(send(&mut body).unwrap(), b"0123456789");
        // Sent again (a 307 followed): the file is read from its start, cut to 10 bytes.
        std::fs::write(&path, b"abcdefghijKLM").unwrap();
        assert!(body.rewind());
        assert_eq!(send(&mut body).unwrap(), b"abcdefghij");
        // Gone by then: a read error naming the file.
        std::fs::remove_file(&path).unwrap();
        assert!(body.rewind());
        let e = send(&mut body).unwrap_err();
        assert!(
            e.get_ref()
                .is_some_and(|inner| inner.is::<LocalReadError>()),
            "{e}"
        );
        assert!(e.to_string().contains("blob"), "{e}");
    }

    #[test]
    fn form_pieces_are_joined_and_files_lose_their_newlines() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("form");
        std::fs::write(&path, "b=2\r\nc=3\n").unwrap();
        let file = format!("@{}", path.display());
        let body = body(&[
            DataPiece::Ascii("a=1".into()),
            DataPiece::Ascii(file.clone()),
        ])
        .unwrap()
        .unwrap();
        assert_eq!(body.as_bytes(), Some(&b"a=1&b=2c=3"[..]));
        // --data-binary keeps the newlines, --data-raw the '@'; empty pieces keep their '&'.
        let mixed = joined(&[
            DataPiece::Binary(file.clone()),
            DataPiece::Raw(file.clone()),
            DataPiece::Ascii(String::new()),
            DataPiece::Raw("z".into()),
        ])
        .unwrap();
        assert_eq!(mixed, format!("b=2\r\nc=3\n&{file}&&z").into_bytes());
        assert!(body_of(&[]).is_none());
        let missing = joined(&[DataPiece::Ascii("@/nonexistent/x".into())]).unwrap_err();
        assert_eq!(missing.code, code::READ_ERROR);
    }

    fn body_of(pieces: &[DataPiece]) -> Option<RequestBody> {
        body(pieces).unwrap()
    }

    #[test]
    fn get_appends_the_data_to_the_query_before_the_fragment() {
        let with = |url: &str, data: &str| {
            let payload = Payload::read(&[DataPiece::Raw(data.into())], true).unwrap();
            assert!(!payload.has_body());
            let (url, body) = payload.apply(Url::parse(url).unwrap()).unwrap();
            assert!(body.is_none());
            url.to_string()
        };
        assert_eq!(with("http://h", "a=1"), "http://h/?a=1");
        assert_eq!(with("http://h/p?", "a=1"), "http://h/p?a=1");
        assert_eq!(with("http://h/p?x=1", "a=1"), "http://h/p?x=1&a=1");
        assert_eq!(with("http://h/p?x#f", "a=1"), "http://h/p?x&a=1#f");
        assert_eq!(with("http://h/p#f", "a#b"), "http://h/p?a#b#f");
        assert_eq!(with("http://h/p?x", ""), "http://h/p?x", "no data, no '&'");
        assert_eq!(with("http://h/p", "é"), "http://h/p?%C3%A9");
        for bad in ["a b", "a\tb", "a\u{7f}"] {
            let e = Payload::read(&[DataPiece::Raw(bad.into())], true)
                .err()
                .unwrap();
            assert_eq!(e.code, code::URL_MALFORMAT, "{bad:?}");
        }
        let posted = Payload::read(&[DataPiece::Raw("a b".into())], false).unwrap();
        assert!(posted.has_body());
        let (url, body) = posted.apply(Url::parse("http://h/p").unwrap()).unwrap();
        assert_eq!(
            (url.as_str(), body.unwrap().as_bytes()),
            ("http://h/p", Some(&b"a b"[..]))
        );
    }

    #[test]
    fn url_encoded_pieces_split_and_encode_as_curl_does() {
        let enc = |arg: &str| String::from_utf8(url_encoded(arg).unwrap()).unwrap();
        assert_eq!(
            enc("a b&c=d+é"),
            "a b&c=d%2B%C3%A9",
            "the name is sent as given"
        );
        assert_eq!(enc("hello world"), "hello+world");
        assert_eq!(enc("=a&b=c"), "a%26b%3Dc");
        assert_eq!(enc("name=a&b=c d"), "name=a%26b%3Dc+d");
        assert_eq!(enc("name="), "name=");
        assert_eq!(enc("="), "");
        assert_eq!(enc("-._~*!'()/"), "-._~%2A%21%27%28%29%2F");
        assert_eq!(enc("=@file"), "%40file", "'=' first: no file");
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v");
        std::fs::write(&path, b"x y\r\n\0&").unwrap();
        let p = path.display();
        assert_eq!(enc(&format!("@{p}")), "x+y%0D%0A%00%26");
        assert_eq!(enc(&format!("n@{p}")), "n=x+y%0D%0A%00%26");
        std::fs::write(&path, b"").unwrap();
        assert_eq!(
            enc(&format!("n@{p}")),
            "",
            "an empty file drops the name too"
        );
        let missing = url_encoded("n@/nonexistent/x").unwrap_err();
        assert_eq!(missing.code, code::READ_ERROR);
    }
}
