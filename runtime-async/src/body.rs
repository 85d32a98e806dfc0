//! The response body: a stream of byte chunks, an `AsyncRead`, or whole with `bytes()`/`text()`.

use std::fmt;
use std::future::{Future, poll_fn};
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::{Bytes, BytesMut};
use futures_core::Stream;
use wayfarer_core::{CollectBody, Error, Headers};

use wayfarer_core::driver::Driver;

use crate::driver::{AsyncTransport, Exec, lock};
use crate::net::Net;

/// Size of the chunks the `Stream` yields.
const CHUNK: usize = 64 * 1024;

/// A response body, read from the connection inside the task that polls it.
///
/// Read it as a [`Stream`] of [`Bytes`], with [`Body::chunk`] or [`Body::read`], as an
/// `AsyncRead` (futures-io's, and tokio's with the `tokio` feature; large reads go straight from
/// the socket into your buffer), or whole with [`Body::bytes`] / [`Body::text`]. Reading to the
/// end returns the connection to the pool; dropping the body earlier closes it, unless the rest
/// had already arrived.
pub struct Body<N: Net> {
    kind: Kind<N>,
    done: bool,
    /// The `charset` of the response's `Content-Type`, for [`Body::text`].
    charset: Option<String>,
}

#[allow(clippy::large_enum_variant)]
enum Kind<N: Net> {
    /// The call, owned outright (no closure interceptors). Not boxed: a box would cost an
    /// allocation on every call, where the enum's size only costs a move.
    Owned(Driver<AsyncTransport<N>>),
    /// The call, shared with the interceptor chain.
    Shared(Exec<N>),
    /// A body a closure interceptor made up.
    Custom(wayfarer_core::Body),
}

/// What `Response::bytes()` returns: a future of the whole body.
pub type BytesFuture = Pin<Box<dyn Future<Output = Result<Bytes, Error>> + Send>>;
/// What `Response::text()` returns: a future of the whole body as text.
pub type TextFuture = Pin<Box<dyn Future<Output = Result<String, Error>> + Send>>;

impl<N: Net> Body<N> {
    pub(crate) fn owned(driver: Driver<AsyncTransport<N>>) -> Body<N> {
        Body {
            kind: Kind::Owned(driver),
            done: false,
            charset: None,
        }
    }

    pub(crate) fn shared(exec: Exec<N>) -> Body<N> {
        Body {
            kind: Kind::Shared(exec),
            done: false,
            charset: None,
        }
    }

    /// The same body, decoded by [`text`](Self::text) with `charset` (the response's).
    pub(crate) fn with_charset(mut self, charset: Option<String>) -> Body<N> {
        self.charset = charset;
        self
    }

    /// A body made up by an interceptor (bytes, a reader, a stream).
    pub fn from_request_body(body: wayfarer_core::Body) -> Body<N> {
        Body {
            kind: Kind::Custom(body),
            done: false,
            charset: None,
        }
    }

    /// What an interceptor's returned body means for `exec`: `None` when it is that call's own
    /// body (the response passes through), else the body to serve instead.
    pub(crate) fn into_replacement(mut self, exec: &Exec<N>) -> Option<wayfarer_core::Body> {
        self.done = true;
        match std::mem::replace(&mut self.kind, Kind::Custom(wayfarer_core::Body::empty())) {
            Kind::Shared(other) if std::sync::Arc::ptr_eq(&other, exec) => None,
            Kind::Custom(body) => Some(body),
            kind => {
                // Another call's body: serve it by streaming it.
                let other = Body {
                    kind,
                    done: false,
                    charset: None,
                };
                Some(wayfarer_core::Body::from_stream(IoStream(other), None))
            }
        }
    }

    /// Reads into `buf`; `Ok(0)` at the end of the body.
    pub fn poll_read_bytes(
        &mut self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<Result<usize, Error>> {
        if self.done || buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        let n = match &mut self.kind {
            Kind::Owned(driver) => std::task::ready!(driver.poll_read(cx, buf))?,
            Kind::Shared(exec) => std::task::ready!(lock(exec).poll_read(cx, buf))?,
            Kind::Custom(body) => {
                std::task::ready!(body.poll_read(cx, buf)).map_err(Error::from_io)?
            }
        };
        if n == 0 {
            self.done = true;
        }
        Poll::Ready(Ok(n))
    }

    /// Reads into `buf`; `Ok(0)` at the end of the body.
    pub async fn read(&mut self, buf: &mut [u8]) -> Result<usize, Error> {
        poll_fn(|cx| self.poll_read_bytes(cx, buf)).await
    }

    /// The next chunk of the body, or `None` at the end.
    pub async fn chunk(&mut self) -> Result<Option<Bytes>, Error> {
        poll_fn(|cx| self.poll_chunk(cx)).await
    }

    fn poll_chunk(&mut self, cx: &mut Context<'_>) -> Poll<Result<Option<Bytes>, Error>> {
        let mut buf = BytesMut::zeroed(CHUNK);
        let n = std::task::ready!(self.poll_read_bytes(cx, &mut buf))?;
        if n == 0 {
            return Poll::Ready(Ok(None));
        }
        buf.truncate(n);
        Poll::Ready(Ok(Some(buf.freeze())))
    }

    /// Reads the rest of the body into memory.
    pub async fn bytes(mut self) -> Result<Bytes, Error> {
        let mut out = Vec::new();
        let mut buf = vec![0u8; CHUNK];
        loop {
            match self.read(&mut buf).await? {
                0 => return Ok(Bytes::from(out)),
                n => out.extend_from_slice(&buf[..n]),
            }
        }
    }

    /// Reads the rest of the body and decodes it as text with the response's `Content-Type`
    /// charset (UTF-8 when it names none), as [`Response::text`](wayfarer_core::Response::text)
    /// does; see [`decode_text`](wayfarer_core::decode_text).
    pub async fn text(mut self) -> Result<String, Error> {
        let charset = self.charset.take();
        let bytes = self.bytes().await?;
        Ok(wayfarer_core::decode_text(&bytes, charset.as_deref()))
    }

    /// The trailer fields of a chunked response, once the body has been read to its end.
    pub fn trailers(&self) -> Option<Headers> {
        match &self.kind {
            Kind::Owned(driver) => driver.trailers().cloned(),
            Kind::Shared(exec) => lock(exec).trailers().cloned(),
            Kind::Custom(_) => None,
        }
    }
}

impl<N: Net> Stream for Body<N> {
    type Item = Result<Bytes, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.get_mut().poll_chunk(cx).map(Result::transpose)
    }
}

/// A body as a stream of `io::Result`s, the shape a request body (or a made-up response body)
/// takes.
struct IoStream<N: Net>(Body<N>);

impl<N: Net> Stream for IoStream<N> {
    type Item = io::Result<Bytes>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.get_mut()
            .0
            .poll_chunk(cx)
            .map(|r| r.map_err(io::Error::from).transpose())
    }
}

impl<N: Net> futures_io::AsyncRead for Body<N> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        self.get_mut()
            .poll_read_bytes(cx, buf)
            .map_err(io::Error::from)
    }
}

#[cfg(feature = "tokio")]
impl<N: Net> tokio::io::AsyncRead for Body<N> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let n = std::task::ready!(this.poll_read_bytes(cx, buf.initialize_unfilled()))?;
        buf.advance(n);
        Poll::Ready(Ok(()))
    }
}

impl<N: Net> CollectBody for Body<N> {
    type Bytes = BytesFuture;
    type Text = TextFuture;

    fn collect_bytes(self) -> BytesFuture {
        Box::pin(self.bytes())
    }

    fn collect_text(self, charset: Option<String>) -> TextFuture {
        Box::pin(async move {
            let bytes = self.bytes().await?;
            Ok(wayfarer_core::decode_text(&bytes, charset.as_deref()))
        })
    }
}

impl<N: Net> Drop for Body<N> {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        match &mut self.kind {
            Kind::Owned(driver) => driver.discard(),
            Kind::Shared(exec) => lock(exec).discard(),
            Kind::Custom(_) => {}
        }
    }
}

impl<N: Net> fmt::Debug for Body<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Body")
            .field("done", &self.done)
            .field("charset", &self.charset)
            .finish_non_exhaustive()
    }
}
