//! The least HTTP/1.1 a benchmark floor needs, written by hand on purpose: a floor measures what
//! the exchange costs with no client in the way, so it may only do what the protocol forces.
//!
//! [`request_head`] writes a request; [`ResponseReader`] is fed whatever the socket returned and
//! says when the response is complete. It understands `Content-Length` and a minimal chunked
//! coding (sizes, data, and an empty trailer section), which is all nginx and the upload sink
//! send. The sink uses [`ChunkedCounter`] for request bodies too.

/// The most header fields a head may have here.
const MAX_HEADERS: usize = 32;

/// A request head: `method path`, `Host`, and `Content-Length` when there is a body.
pub fn request_head(
    method: &str,
    path: &str,
    host: &str,
    body: Option<usize>,
    close: bool,
) -> Vec<u8> {
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {host}\r\n");
    if let Some(len) = body {
        head.push_str(&format!("Content-Length: {len}\r\n"));
    }
    if close {
        head.push_str("Connection: close\r\n");
    }
    head.push_str("\r\n");
    head.into_bytes()
}

/// How a message body is delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    Length(u64),
    Chunked,
}

/// The fields of a head that framing and reuse depend on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Head {
    pub framing: Framing,
    /// The peer asked for `Connection: close`.
    pub close: bool,
    /// The request carries `Expect: 100-continue` (requests only).
    pub expect_continue: bool,
}

fn head_of(headers: &[httparse::Header<'_>]) -> Result<Head, String> {
    let mut head = Head {
        framing: Framing::Length(0),
        close: false,
        expect_continue: false,
    };
    for field in headers {
        let value = std::str::from_utf8(field.value).map_err(|_| "non-UTF-8 field value")?;
        if field.name.eq_ignore_ascii_case("content-length") {
            let len = value
                .trim()
                .parse()
                .map_err(|_| format!("bad Content-Length {value:?}"))?;
            head.framing = Framing::Length(len);
        } else if field.name.eq_ignore_ascii_case("transfer-encoding") {
            head.framing = Framing::Chunked;
        } else if field.name.eq_ignore_ascii_case("connection") {
            head.close = value.eq_ignore_ascii_case("close");
        } else if field.name.eq_ignore_ascii_case("expect") {
            head.expect_continue = value.eq_ignore_ascii_case("100-continue");
        }
    }
    Ok(head)
}

/// Parses a response head at the start of `buf`: its status, [`Head`] and length, or `None`
/// when incomplete.
pub fn parse_response(buf: &[u8]) -> Result<Option<(u16, Head, usize)>, String> {
    let mut fields = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut response = httparse::Response::new(&mut fields);
    match response
        .parse(buf)
        .map_err(|e| format!("bad response head: {e}"))?
    {
        httparse::Status::Partial => Ok(None),
        httparse::Status::Complete(len) => {
            let status = response.code.unwrap_or(0);
            Ok(Some((status, head_of(response.headers)?, len)))
        }
    }
}

/// Parses a request head at the start of `buf`: its [`Head`] and length, or `None` when
/// incomplete.
pub fn parse_request(buf: &[u8]) -> Result<Option<(Head, usize)>, String> {
    let mut fields = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut request = httparse::Request::new(&mut fields);
    match request
        .parse(buf)
        .map_err(|e| format!("bad request head: {e}"))?
    {
        httparse::Status::Partial => Ok(None),
        httparse::Status::Complete(len) => Ok(Some((head_of(request.headers)?, len))),
    }
}

/// Counts the data of a chunked body without copying it anywhere.
#[derive(Debug, Default)]
pub struct ChunkedCounter {
    state: ChunkState,
    /// Data bytes left in the current chunk.
    left: u64,
    size: u64,
    pub body: u64,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum ChunkState {
    #[default]
    Size,
    /// Skipping a chunk extension up to the line end.
    Extension,
    SizeLf,
    Data,
    DataCr,
    DataLf,
    /// After the last chunk: `\r\n` ends the body (no trailer fields are expected).
    TrailerCr,
    TrailerLf,
    Done,
}

impl ChunkedCounter {
    pub fn is_done(&self) -> bool {
        self.state == ChunkState::Done
    }

    /// Takes bytes of the body; returns how many it used (fewer than given only once done).
    pub fn feed(&mut self, input: &[u8]) -> Result<usize, String> {
        let mut i = 0;
        while i < input.len() && self.state != ChunkState::Done {
            let byte = input[i];
            match self.state {
                ChunkState::Size => match byte {
                    b'0'..=b'9' | b'a'..=b'f' | b'A'..=b'F' => {
                        let digit = (byte as char).to_digit(16).unwrap_or(0) as u64;
                        self.size = self
                            .size
                            .checked_mul(16)
                            .and_then(|s| s.checked_add(digit))
                            .ok_or("chunk size overflows")?;
                    }
                    b';' | b' ' | b'\t' => self.state = ChunkState::Extension,
                    b'\r' => self.state = ChunkState::SizeLf,
                    _ => return Err(format!("bad chunk size byte {byte:#04x}")),
                },
                ChunkState::Extension => {
                    if byte == b'\r' {
                        self.state = ChunkState::SizeLf;
                    }
                }
                ChunkState::SizeLf => {
                    expect(byte, b'\n')?;
                    (self.left, self.size) = (self.size, 0);
                    self.state = if self.left == 0 {
                        ChunkState::TrailerCr
                    } else {
                        ChunkState::Data
                    };
                }
                ChunkState::Data => {
                    let take = (self.left).min((input.len() - i) as u64);
                    self.left -= take;
                    self.body += take;
                    i += take as usize;
                    if self.left == 0 {
                        self.state = ChunkState::DataCr;
                    }
                    continue;
                }
                ChunkState::DataCr => {
                    expect(byte, b'\r')?;
                    self.state = ChunkState::DataLf;
                }
                ChunkState::DataLf => {
                    expect(byte, b'\n')?;
                    self.state = ChunkState::Size;
                }
                ChunkState::TrailerCr => {
                    expect(byte, b'\r')?;
                    self.state = ChunkState::TrailerLf;
                }
                ChunkState::TrailerLf => {
                    expect(byte, b'\n')?;
                    self.state = ChunkState::Done;
                }
                ChunkState::Done => {}
            }
            i += 1;
        }
        Ok(i)
    }
}

fn expect(byte: u8, want: u8) -> Result<(), String> {
    if byte == want {
        Ok(())
    } else {
        Err(format!(
            "expected {want:#04x} in chunked framing, got {byte:#04x}"
        ))
    }
}

/// What feeding a [`ResponseReader`] produced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    NeedMore,
    /// The response is complete: its body length, and whether the connection may be reused.
    Done {
        body: u64,
        reusable: bool,
    },
}

/// Reads one response from what the socket returns, counting its body.
#[derive(Debug, Default)]
pub struct ResponseReader {
    /// Head bytes held while the head arrives in pieces.
    partial: Vec<u8>,
    body: Option<BodyState>,
}

#[derive(Debug)]
struct BodyState {
    close: bool,
    framing: BodyFraming,
}

#[derive(Debug)]
enum BodyFraming {
    Length { left: u64, total: u64 },
    Chunked(ChunkedCounter),
}

impl ResponseReader {
    /// Takes the next bytes read from the socket.
    pub fn feed(&mut self, data: &[u8]) -> Result<Progress, String> {
        if self.body.is_none() {
            // The head usually arrives in one read: then it is parsed in place, without copying.
            let in_place = self.partial.is_empty();
            if !in_place {
                self.partial.extend_from_slice(data);
            }
            let buf: &[u8] = if in_place { data } else { &self.partial };
            let Some((status, head, len)) = parse_response(buf)? else {
                if in_place {
                    self.partial.extend_from_slice(data);
                }
                return Ok(Progress::NeedMore);
            };
            if status != 200 {
                return Err(format!("HTTP status {status}"));
            }
            let framing = match head.framing {
                Framing::Length(total) => BodyFraming::Length { left: total, total },
                Framing::Chunked => BodyFraming::Chunked(ChunkedCounter::default()),
            };
            self.body = Some(BodyState {
                close: head.close,
                framing,
            });
            if in_place {
                return self.body_bytes(&data[len..]);
            }
            let partial = std::mem::take(&mut self.partial);
            return self.body_bytes(&partial[len..]);
        }
        self.body_bytes(data)
    }

    fn body_bytes(&mut self, data: &[u8]) -> Result<Progress, String> {
        let Some(state) = self.body.as_mut() else {
            return Err("body bytes before the head".into());
        };
        let (done, used, body) = match &mut state.framing {
            BodyFraming::Length { left, total } => {
                let used = (*left).min(data.len() as u64);
                *left -= used;
                (*left == 0, used as usize, *total)
            }
            BodyFraming::Chunked(counter) => {
                let used = counter.feed(data)?;
                (counter.is_done(), used, counter.body)
            }
        };
        if used < data.len() {
            return Err(format!(
                "{} unexpected bytes after the response",
                data.len() - used
            ));
        }
        if !done {
            return Ok(Progress::NeedMore);
        }
        let reusable = !state.close;
        self.body = None;
        Ok(Progress::Done { body, reusable })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed_in_pieces(response: &[u8], piece: usize) -> Result<Progress, String> {
        let mut reader = ResponseReader::default();
        let mut last = Progress::NeedMore;
        for chunk in response.chunks(piece) {
            assert_eq!(last, Progress::NeedMore, "done before the end");
            last = reader.feed(chunk)?;
        }
        Ok(last)
    }

    #[test]
    fn content_length_responses_in_any_split() {
        let response = b"HTTP/1.1 200 OK\r\nContent-Length: 13\r\n\r\nHello, world!";
        for piece in [1, 2, 7, 40, response.len()] {
            assert_eq!(
                feed_in_pieces(response, piece),
                Ok(Progress::Done {
                    body: 13,
                    reusable: true
                }),
                "piece {piece}"
            );
        }
    }

    #[test]
    fn chunked_responses_in_any_split() {
        let response =
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n\
                         5;ext=1\r\nhello\r\nA\r\n0123456789\r\n0\r\n\r\n";
        for piece in [1, 3, 16, response.len()] {
            assert_eq!(
                feed_in_pieces(response, piece),
                Ok(Progress::Done {
                    body: 15,
                    reusable: false
                }),
                "piece {piece}"
            );
        }
    }

    #[test]
    fn errors_are_reported() {
        let mut reader = ResponseReader::default();
        assert!(
            reader
                .feed(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
                .is_err()
        );
        let mut reader = ResponseReader::default();
        assert!(
            reader
                .feed(b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nab")
                .is_err()
        );
        let mut counter = ChunkedCounter::default();
        assert!(counter.feed(b"zz\r\n").is_err());
    }

    #[test]
    fn request_heads() {
        let head = request_head("POST", "/up", "127.0.0.1:8", Some(3), true);
        assert_eq!(
            head,
            b"POST /up HTTP/1.1\r\nHost: 127.0.0.1:8\r\nContent-Length: 3\r\nConnection: close\r\n\r\n"
        );
        let (parsed, len) = parse_request(&head).unwrap().unwrap();
        assert_eq!(len, head.len());
        assert_eq!(parsed.framing, Framing::Length(3));
        assert!(parsed.close && !parsed.expect_continue);
    }
}
