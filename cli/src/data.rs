//! The request body from `-d` / `--data-binary`.
//!
//! `-d` bodies are small form data, so they are read into memory (curl does the same). A
//! `--data-binary @FILE` body may be large, so it is streamed with `Body::from_reader`; a
//! failure to read it exits 26 (the library marks it with `Phase::RequestBody`), and
//! [`LocalReadError`] names the file in the message.

use std::error::Error as StdError;
use std::fmt;
use std::fs::File;
use std::io::{self, Read};

use wayfarer_blocking::RequestBody;

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

/// The body for `-d`: every piece joined with `&`, `@FILE` pieces read whole with carriage
/// returns and newlines removed (curl's behaviour, so that a file of `a=1\n` posts `a=1`).
pub fn form_body(pieces: &[String]) -> Result<RequestBody, Failure> {
    let mut body = Vec::new();
    for (i, piece) in pieces.iter().enumerate() {
        if i > 0 {
            body.push(b'&');
        }
        match piece.strip_prefix('@') {
            Some(path) => {
                let bytes = read_all(path)?;
                body.extend(bytes.into_iter().filter(|&b| b != b'\r' && b != b'\n'));
            }
            None => body.extend_from_slice(piece.as_bytes()),
        }
    }
    Ok(RequestBody::from_bytes(body))
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
    // A regular file's size is known and sent as Content-Length; anything else (a pipe, a
    // device) is sent chunked, as it comes.
    let len = meta.is_file().then_some(meta.len());
    let reader = LocalReader {
        inner: file,
        what: path.to_string(),
        remaining: len,
    };
    Ok(RequestBody::from_reader(reader, len))
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

    #[test]
    fn form_pieces_are_joined_and_files_lose_their_newlines() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("form");
        std::fs::write(&path, "b=2\r\nc=3\n").unwrap();
        let body = form_body(&["a=1".into(), format!("@{}", path.display())]).unwrap();
        assert_eq!(body.as_bytes(), Some(&b"a=1&b=2c=3"[..]));
        let missing = form_body(&["@/nonexistent/x".into()]).unwrap_err();
        assert_eq!(missing.code, code::READ_ERROR);
    }
}
