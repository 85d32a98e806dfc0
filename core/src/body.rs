//! Request bodies: none, bytes, or a stream of known or unknown length, one-shot or repeatable.
//!
//! The core frames and sends a bytes body itself. A streamed body is pulled by the driver (the
//! runtime running the call), because reading a user's `Read` or `Stream` is I/O the core must
//! not do: the call asks with [`Output::PullBody`](crate::Output::PullBody), the driver fills the
//! buffer with [`Body::poll_read`] and reports the count. A known length is sent as
//! `Content-Length`, an unknown one with chunked framing.
//!
//! A *one-shot* body (a reader, a stream) can be sent once; a *repeatable* body (bytes, or a
//! factory that opens a fresh source) can be sent again when a call is retried on a new
//! connection.
//!
//! ```
//! use wayfarer_core::Body;
//!
//! let bytes = Body::from("x=1");
//! assert_eq!(bytes.len(), Some(3));
//!
//! let file_like = Body::from_reader(std::io::Cursor::new(vec![0u8; 10]), Some(10));
//! assert!(file_like.is_one_shot());
//!
//! let reopened = Body::repeatable(Some(10), || Ok(Body::from_reader(std::io::Cursor::new(vec![0u8; 10]), Some(10))));
//! assert!(!reopened.is_one_shot());
//! ```

use std::fmt;
use std::io::{self, Read};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::{Buf, Bytes};
use futures_core::Stream;
use sync_wrapper::SyncWrapper;

/// A stream of body pieces, as async runtimes produce them.
pub type BodyStream = Pin<Box<dyn Stream<Item = io::Result<Bytes>> + Send>>;

type Opener = Arc<dyn Fn() -> io::Result<Body> + Send + Sync>;

/// A request body.
pub struct Body {
    kind: Kind,
}

// Sources sit in `SyncWrapper`s: they are only ever used through `&mut Body`, so a `Body` (and
// the `Request` holding it) can be `Sync` even when the user's reader or stream is not.
enum Kind {
    Empty,
    Bytes(Bytes),
    Reader {
        reader: SyncWrapper<Box<dyn Read + Send>>,
        len: Option<u64>,
    },
    Stream {
        stream: SyncWrapper<BodyStream>,
        len: Option<u64>,
        pending: Bytes,
    },
    Repeatable {
        open: Opener,
        len: Option<u64>,
        current: Option<Box<Body>>,
    },
}

/// What the call needs to know about a body to frame and send it.
#[derive(Debug, Clone)]
pub(crate) enum BodyShape {
    None,
    Bytes(Bytes),
    Stream { repeatable: bool },
}

impl Body {
    /// No body.
    pub fn empty() -> Body {
        Body { kind: Kind::Empty }
    }

    /// A body held in memory; repeatable and framed with `Content-Length`.
    pub fn from_bytes(bytes: impl Into<Bytes>) -> Body {
        Body {
            kind: Kind::Bytes(bytes.into()),
        }
    }

    /// A one-shot body read from `reader`. With `len` it is sent with `Content-Length` (and the
    /// call fails if the reader yields a different number of bytes); without, chunked.
    ///
    /// The reader is read on the thread (or inside the task) that runs the call; in an async
    /// client a reader that blocks for long stalls that task, so prefer [`Body::from_stream`]
    /// there.
    pub fn from_reader(reader: impl Read + Send + 'static, len: Option<u64>) -> Body {
        Body {
            kind: Kind::Reader {
                reader: SyncWrapper::new(Box::new(reader)),
                len,
            },
        }
    }

    /// A one-shot body produced by an async stream. With `len` it is sent with
    /// `Content-Length`, without it chunked.
    pub fn from_stream(
        stream: impl Stream<Item = io::Result<Bytes>> + Send + 'static,
        len: Option<u64>,
    ) -> Body {
        Body {
            kind: Kind::Stream {
                stream: SyncWrapper::new(Box::pin(stream)),
                len,
                pending: Bytes::new(),
            },
        }
    }

    /// A repeatable body: `open` produces a fresh one-shot body each time the body must be sent
    /// (for example reopening a file), so the call can be retried.
    pub fn repeatable(
        len: Option<u64>,
        open: impl Fn() -> io::Result<Body> + Send + Sync + 'static,
    ) -> Body {
        Body {
            kind: Kind::Repeatable {
                open: Arc::new(open),
                len,
                current: None,
            },
        }
    }

    /// The length, if known: 0 for no body.
    pub fn len(&self) -> Option<u64> {
        match &self.kind {
            Kind::Empty => Some(0),
            Kind::Bytes(b) => Some(b.len() as u64),
            Kind::Reader { len, .. } | Kind::Stream { len, .. } | Kind::Repeatable { len, .. } => {
                *len
            }
        }
    }

    /// True when there is no body at all.
    pub fn is_empty(&self) -> bool {
        matches!(self.kind, Kind::Empty)
    }

    /// True when the body can be sent only once.
    pub fn is_one_shot(&self) -> bool {
        matches!(self.kind, Kind::Reader { .. } | Kind::Stream { .. })
    }

    /// The bytes of an in-memory body.
    pub fn as_bytes(&self) -> Option<&[u8]> {
        match &self.kind {
            Kind::Bytes(b) => Some(b),
            Kind::Empty => Some(&[]),
            _ => None,
        }
    }

    /// A copy, when the body can be sent again (bytes, empty, repeatable).
    pub fn try_clone(&self) -> Option<Body> {
        match &self.kind {
            Kind::Empty => Some(Body::empty()),
            Kind::Bytes(b) => Some(Body::from_bytes(b.clone())),
            Kind::Repeatable { open, len, .. } => Some(Body {
                kind: Kind::Repeatable {
                    open: open.clone(),
                    len: *len,
                    current: None,
                },
            }),
            Kind::Reader { .. } | Kind::Stream { .. } => None,
        }
    }

    pub(crate) fn shape(&self) -> BodyShape {
        match &self.kind {
            Kind::Empty => BodyShape::None,
            Kind::Bytes(b) => BodyShape::Bytes(b.clone()),
            Kind::Reader { .. } | Kind::Stream { .. } => BodyShape::Stream { repeatable: false },
            Kind::Repeatable { .. } => BodyShape::Stream { repeatable: true },
        }
    }

    /// Pulls the next bytes of a streamed body into `buf`; `Ready(Ok(0))` is the end.
    ///
    /// Drivers call this when the call asks for [`Output::PullBody`](crate::Output::PullBody).
    /// A blocking driver calls it with a waker that parks its thread; readers never return
    /// `Pending`.
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
            Kind::Reader { reader, .. } => loop {
                match reader.get_mut().read(buf) {
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    r => return Poll::Ready(r),
                }
            },
            Kind::Stream {
                stream, pending, ..
            } => loop {
                if !pending.is_empty() {
                    let n = pending.len().min(buf.len());
                    buf[..n].copy_from_slice(&pending[..n]);
                    pending.advance(n);
                    return Poll::Ready(Ok(n));
                }
                match stream.get_mut().as_mut().poll_next(cx) {
                    Poll::Ready(Some(Ok(chunk))) => *pending = chunk,
                    Poll::Ready(Some(Err(e))) => return Poll::Ready(Err(e)),
                    Poll::Ready(None) => return Poll::Ready(Ok(0)),
                    Poll::Pending => return Poll::Pending,
                }
            },
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

    /// Starts a repeatable body over, so that it can be sent again. Returns false for a one-shot
    /// body, which cannot be.
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
            Kind::Reader { len, .. } => write!(f, "Body::Reader(len: {len:?})"),
            Kind::Stream { len, .. } => write!(f, "Body::Stream(len: {len:?})"),
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
    fn shapes_and_lengths() {
        assert!(matches!(Body::empty().shape(), BodyShape::None));
        assert!(matches!(Body::from("abc").shape(), BodyShape::Bytes(b) if b == "abc"));
        let r = Body::from_reader(io::empty(), None);
        assert!(matches!(r.shape(), BodyShape::Stream { repeatable: false }));
        assert!(r.try_clone().is_none());
        let rep = Body::repeatable(Some(2), || Ok(Body::from("hi")));
        assert!(matches!(
            rep.shape(),
            BodyShape::Stream { repeatable: true }
        ));
        assert_eq!(rep.len(), Some(2));
        assert!(rep.try_clone().is_some());
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
