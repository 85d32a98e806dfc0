//! The response body: a stream of byte chunks, an `AsyncRead`, or whole with `bytes()`/`text()`.

use std::fmt;
use std::future::{Future, poll_fn};
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::{Bytes, BytesMut};
use futures_core::Stream;
use wayfarer_core::{CollectBody, Error, Headers};

use crate::driver::Driver;
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
    driver: Driver<N>,
    done: bool,
    /// The `charset` of the response's `Content-Type`, for [`Body::text`].
    charset: Option<String>,
}

/// What `Response::bytes()` returns: a future of the whole body.
pub type BytesFuture = Pin<Box<dyn Future<Output = Result<Bytes, Error>> + Send>>;
/// What `Response::text()` returns: a future of the whole body as text.
pub type TextFuture = Pin<Box<dyn Future<Output = Result<String, Error>> + Send>>;

impl<N: Net> Body<N> {
    /// A body read through `driver`; `charset` is the response's (see
    /// [`Response::charset`](wayfarer_core::Response::charset)).
    pub(crate) fn new(driver: Driver<N>, charset: Option<String>) -> Body<N> {
        Body {
            driver,
            done: false,
            charset,
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
        let n = std::task::ready!(self.driver.poll_read(cx, buf))?;
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
    pub fn trailers(&self) -> Option<&Headers> {
        self.driver.trailers()
    }
}

impl<N: Net> Stream for Body<N> {
    type Item = Result<Bytes, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.get_mut().poll_chunk(cx).map(Result::transpose)
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
        if !self.done {
            self.driver.discard();
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
