//! Request bodies ([`Body`]): none, bytes, or a stream of known or unknown length.

use std::fmt;
use std::io::{self, Read};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use bytes::{Buf, Bytes};
use futures_core::Stream;

/// A stream of body pieces, as async runtimes produce them.
pub type BodyStream = Pin<Box<dyn Stream<Item = io::Result<Bytes>> + Send>>;

type Opener = Arc<dyn Fn() -> io::Result<Body> + Send + Sync>;

/// A request body (and the body of a response an interceptor makes up).
///
/// Cloning a body is cheap and follows OkHttp's sharing rule: bytes and repeatable bodies clone
/// into independent copies, while the clones of a one-shot body share its single source, so
/// whichever clone is read first gets the bytes. That is what lets a request be cloned for a
/// retry or a redirect and still send a one-shot body at most once.
///
/// The core frames and sends a bytes body itself. A streamed body is pulled by the driver (the
/// runtime running the call), because reading a user's `Read` or `Stream` is I/O the core must
/// not do: the call asks with [`Output::PullBody`](crate::Output::PullBody), the driver fills the
/// buffer with [`Body::poll_read`] and reports the count. A known length is sent as
/// `Content-Length`, an unknown one with chunked framing.
///
/// A *one-shot* body (a reader, a stream) can be sent once; a *repeatable* body (bytes, or a
/// factory that opens a fresh source) can be sent again when a call is retried on a new
/// connection.
///
/// ```
/// use wayfarer_core::Body;
///
/// let bytes = Body::from("x=1");
/// assert_eq!(bytes.len(), Some(3));
///
/// let file_like = Body::from_reader(std::io::Cursor::new(vec![0u8; 10]), Some(10));
/// assert!(file_like.is_one_shot());
///
/// let reopened = Body::repeatable(Some(10), || Ok(Body::from_reader(std::io::Cursor::new(vec![0u8; 10]), Some(10))));
/// assert!(!reopened.is_one_shot());
/// ```
pub struct Body {
    kind: Kind,
    content_type: Option<Bytes>,
}

enum Kind {
    Empty,
    Bytes(Bytes),
    /// A reader or a stream, readable once, shared between clones.
    OneShot {
        source: Arc<Mutex<OneShot>>,
        len: Option<u64>,
    },
    Repeatable {
        open: Opener,
        len: Option<u64>,
        current: Option<Box<Body>>,
    },
}

enum OneShot {
    Reader(Box<dyn Read + Send>),
    Stream { stream: BodyStream, pending: Bytes },
}

impl Body {
    fn of(kind: Kind) -> Body {
        Body {
            kind,
            content_type: None,
        }
    }

    /// No body.
    pub fn empty() -> Body {
        Body::of(Kind::Empty)
    }

    /// A body held in memory; repeatable and framed with `Content-Length`.
    pub fn from_bytes(bytes: impl Into<Bytes>) -> Body {
        Body::of(Kind::Bytes(bytes.into()))
    }

    /// A one-shot body read from `reader`. With `len` it is sent with `Content-Length` (and the
    /// call fails if the reader yields a different number of bytes); without, chunked.
    ///
    /// The reader is read on the thread (or inside the task) that runs the call; in an async
    /// client a reader that blocks for long stalls that task, so prefer [`Body::from_stream`]
    /// there.
    pub fn from_reader(reader: impl Read + Send + 'static, len: Option<u64>) -> Body {
        Body::of(Kind::OneShot {
            source: Arc::new(Mutex::new(OneShot::Reader(Box::new(reader)))),
            len,
        })
    }

    /// A one-shot body produced by an async stream. With `len` it is sent with
    /// `Content-Length`, without it chunked.
    pub fn from_stream(
        stream: impl Stream<Item = io::Result<Bytes>> + Send + 'static,
        len: Option<u64>,
    ) -> Body {
        Body::of(Kind::OneShot {
            source: Arc::new(Mutex::new(OneShot::Stream {
                stream: Box::pin(stream),
                pending: Bytes::new(),
            })),
            len,
        })
    }

    /// A repeatable body: `open` produces a fresh one-shot body each time the body must be sent
    /// (for example reopening a file), so the call can be retried or redirected with it.
    pub fn repeatable(
        len: Option<u64>,
        open: impl Fn() -> io::Result<Body> + Send + Sync + 'static,
    ) -> Body {
        Body::of(Kind::Repeatable {
            open: Arc::new(open),
            len,
            current: None,
        })
    }

    /// This body with a media type: the bridge sends it as `Content-Type` unless the request
    /// sets its own.
    ///
    /// ```
    /// use wayfarer_core::Body;
    ///
    /// let body = Body::from(r#"{"a":1}"#).with_content_type("application/json")?;
    /// assert_eq!(body.content_type(), Some("application/json"));
    /// # Ok::<(), wayfarer_core::Error>(())
    /// ```
    pub fn with_content_type(mut self, media_type: &str) -> Result<Body, crate::Error> {
        crate::headers::validate_value("Content-Type", media_type.as_bytes())?;
        self.content_type = Some(Bytes::copy_from_slice(media_type.as_bytes()));
        Ok(self)
    }

    /// The media type given with [`with_content_type`](Self::with_content_type).
    pub fn content_type(&self) -> Option<&str> {
        self.content_type
            .as_deref()
            .and_then(|v| std::str::from_utf8(v).ok())
    }

    pub(crate) fn content_type_bytes(&self) -> Option<&Bytes> {
        self.content_type.as_ref()
    }

    /// The length, if known: 0 for no body.
    pub fn len(&self) -> Option<u64> {
        match &self.kind {
            Kind::Empty => Some(0),
            Kind::Bytes(b) => Some(b.len() as u64),
            Kind::OneShot { len, .. } | Kind::Repeatable { len, .. } => *len,
        }
    }

    /// True for no body at all (a zero-length bytes body is still a body).
    pub fn is_empty(&self) -> bool {
        matches!(self.kind, Kind::Empty)
    }

    /// True for a body that can be sent only once (a reader or a stream).
    pub fn is_one_shot(&self) -> bool {
        matches!(self.kind, Kind::OneShot { .. })
    }

    /// The bytes of a bytes body (empty for no body); `None` for a streamed body.
    pub fn as_bytes(&self) -> Option<&[u8]> {
        match &self.kind {
            Kind::Bytes(b) => Some(b),
            Kind::Empty => Some(&[]),
            _ => None,
        }
    }

    pub(crate) fn bytes(&self) -> Option<&Bytes> {
        match &self.kind {
            Kind::Bytes(b) => Some(b),
            _ => None,
        }
    }

    /// An independent copy, for a body that can be sent again: bytes and repeatable bodies.
    /// `None` for a one-shot body (its [`Clone`] shares the single source instead).
    pub fn try_clone(&self) -> Option<Body> {
        if self.is_one_shot() {
            None
        } else {
            Some(self.clone())
        }
    }

    /// Reads body bytes into `buf`; `Ok(0)` at the end. A runtime calls this when the call asks
    /// for request body bytes; a one-shot body read through several clones yields each byte
    /// once.
    pub fn poll_read(&mut self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        match &mut self.kind {
            Kind::Empty => Poll::Ready(Ok(0)),
            Kind::Bytes(b) => {
                let n = b.len().min(buf.len());
                buf[..n].copy_from_slice(&b[..n]);
                b.advance(n);
                Poll::Ready(Ok(n))
            }
            Kind::OneShot { source, .. } => {
                // A panic inside a user's reader poisons the lock; the source is then in
                // whatever state the reader left it, which a later read reports as it can.
                let mut source = source.lock().unwrap_or_else(|p| p.into_inner());
                source.poll_read(cx, buf)
            }
            Kind::Repeatable { open, current, .. } => {
                if current.is_none() {
                    match open() {
                        Ok(body) => *current = Some(Box::new(body)),
                        Err(e) => return Poll::Ready(Err(e)),
                    }
                }
                match current.as_mut() {
                    Some(body) => body.poll_read(cx, buf),
                    None => Poll::Ready(Ok(0)),
                }
            }
        }
    }

    /// Starts the body over (a repeatable body reopens its source at the next read). False for
    /// a one-shot body, which cannot be sent again.
    pub fn rewind(&mut self) -> bool {
        match &mut self.kind {
            Kind::Repeatable { current, .. } => {
                *current = None;
                true
            }
            Kind::Empty => true,
            _ => false,
        }
    }
}

impl OneShot {
    fn poll_read(&mut self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        match self {
            OneShot::Reader(reader) => loop {
                match reader.read(buf) {
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    r => return Poll::Ready(r),
                }
            },
            OneShot::Stream { stream, pending } => loop {
                if !pending.is_empty() {
                    let n = pending.len().min(buf.len());
                    buf[..n].copy_from_slice(&pending[..n]);
                    pending.advance(n);
                    return Poll::Ready(Ok(n));
                }
                match stream.as_mut().poll_next(cx) {
                    Poll::Ready(Some(Ok(chunk))) => *pending = chunk,
                    Poll::Ready(Some(Err(e))) => return Poll::Ready(Err(e)),
                    Poll::Ready(None) => return Poll::Ready(Ok(0)),
                    Poll::Pending => return Poll::Pending,
                }
            },
        }
    }
}

impl Clone for Body {
    /// Bytes and repeatable bodies clone into independent copies (a repeatable clone reopens
    /// its source); the clones of a one-shot body share its source.
    fn clone(&self) -> Body {
        let kind = match &self.kind {
            Kind::Empty => Kind::Empty,
            Kind::Bytes(b) => Kind::Bytes(b.clone()),
            Kind::OneShot { source, len } => Kind::OneShot {
                source: source.clone(),
                len: *len,
            },
            Kind::Repeatable { open, len, .. } => Kind::Repeatable {
                open: open.clone(),
                len: *len,
                current: None,
            },
        };
        Body {
            kind,
            content_type: self.content_type.clone(),
        }
    }
}

impl Default for Body {
    fn default() -> Body {
        Body::empty()
    }
}

impl fmt::Debug for Body {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            Kind::Empty => f.write_str("Body::Empty"),
            Kind::Bytes(b) => write!(f, "Body::Bytes({} bytes)", b.len()),
            Kind::OneShot { len, .. } => write!(f, "Body::OneShot(len: {len:?})"),
            Kind::Repeatable { len, .. } => write!(f, "Body::Repeatable(len: {len:?})"),
        }
    }
}

impl From<()> for Body {
    fn from(_: ()) -> Body {
        Body::empty()
    }
}
impl From<Bytes> for Body {
    fn from(b: Bytes) -> Body {
        Body::from_bytes(b)
    }
}
impl From<Vec<u8>> for Body {
    fn from(b: Vec<u8>) -> Body {
        Body::from_bytes(b)
    }
}
impl From<String> for Body {
    fn from(s: String) -> Body {
        Body::from_bytes(s)
    }
}
impl From<&'static str> for Body {
    fn from(s: &'static str) -> Body {
        Body::from_bytes(Bytes::from_static(s.as_bytes()))
    }
}
impl From<&'static [u8]> for Body {
    fn from(s: &'static [u8]) -> Body {
        Body::from_bytes(Bytes::from_static(s))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::task::Waker;

    fn read_all(body: &mut Body) -> Vec<u8> {
        let mut cx = Context::from_waker(Waker::noop());
        let mut out = Vec::new();
        let mut buf = [0u8; 3];
        loop {
            match body.poll_read(&mut cx, &mut buf) {
                Poll::Ready(Ok(0)) => return out,
                Poll::Ready(Ok(n)) => out.extend_from_slice(&buf[..n]),
                other => panic!("unexpected {other:?}"),
            }
        }
    }

    #[test]
    fn kinds_and_lengths() {
        assert!(Body::empty().is_empty() && Body::empty().len() == Some(0));
        assert_eq!(Body::from("abc").as_bytes(), Some(&b"abc"[..]));
        let r = Body::from_reader(io::empty(), None);
        assert!(r.is_one_shot() && r.len().is_none());
        assert!(r.try_clone().is_none());
        let rep = Body::repeatable(Some(2), || Ok(Body::from("hi")));
        assert!(!rep.is_one_shot());
        assert_eq!(rep.len(), Some(2));
        assert!(rep.try_clone().is_some());
    }

    #[test]
    fn clones_of_a_one_shot_body_share_its_bytes() {
        let mut a = Body::from_reader(io::Cursor::new(b"abcdef".to_vec()), Some(6));
        let mut b = a.clone();
        let mut cx = Context::from_waker(Waker::noop());
        let mut buf = [0u8; 4];
        assert!(matches!(a.poll_read(&mut cx, &mut buf), Poll::Ready(Ok(4))));
        assert_eq!(read_all(&mut b), b"ef");
        assert_eq!(read_all(&mut a), b"");
        let mut bytes = Body::from("xy");
        let mut copy = bytes.clone();
        assert_eq!(read_all(&mut bytes), b"xy");
        assert_eq!(read_all(&mut copy), b"xy");
    }

    #[test]
    fn content_types_are_validated() {
        let body = Body::from("x").with_content_type("text/plain").unwrap();
        assert_eq!(body.clone().content_type(), Some("text/plain"));
        assert!(Body::from("x").with_content_type("a\r\nb: c").is_err());
    }

    #[test]
    fn streams_are_pulled_in_buffer_sized_pieces() {
        let pieces = vec![
            Ok(Bytes::from_static(b"hello")),
            Ok(Bytes::from_static(b" world")),
        ];
        let mut body = Body::from_stream(StreamOf(pieces.into_iter()), None);
        assert_eq!(read_all(&mut body), b"hello world");
        let mut reader = Body::from_reader(io::Cursor::new(b"abcdefg".to_vec()), Some(7));
        assert_eq!(read_all(&mut reader), b"abcdefg");
        assert!(!reader.rewind());
    }

    #[test]
    fn repeatable_bodies_reopen_after_rewind() {
        let mut body = Body::repeatable(Some(2), || Ok(Body::from("hi")));
        assert_eq!(read_all(&mut body), b"hi");
        assert_eq!(read_all(&mut body), b"");
        assert!(body.rewind());
        assert_eq!(read_all(&mut body), b"hi");
    }

    struct StreamOf<I>(I);
    impl<I: Iterator<Item = io::Result<Bytes>> + Unpin> Stream for StreamOf<I> {
        type Item = io::Result<Bytes>;
        fn poll_next(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Option<Self::Item>> {
            Poll::Ready(self.0.next())
        }
    }
}
