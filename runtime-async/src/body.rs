//! The response body: a stream of byte chunks, an `AsyncRead`, or whole with `bytes()`/`text()`.

use std::fmt;
use std::future::{Future, poll_fn};
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures_core::Stream;
use serde::de::DeserializeOwned;
use wayfarer_core::{CollectBody, Error, Headers};

use wayfarer_core::driver::{Collector, DriverBox};

use crate::chunk_buffer::{ChunkBuffer, ChunkSize};
use crate::dispatcher::Slot;
use crate::driver::{AsyncTransport, Exec, lock};
use crate::net::Net;

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
    /// Where [`Body::chunk`] reads to: reused across polls (a poll that finds nothing costs
    /// nothing), and across large chunks once their caller drops them.
    chunks: ChunkBuffer,
    /// The most [`Body::chunk`] reads at once.
    chunk_size: ChunkSize,
    /// The `charset` of the response's `Content-Type`, for [`Body::text`].
    charset: Option<String>,
    /// The call's place among the dispatcher's running calls, given up at the end.
    slot: Option<Slot<N>>,
}

enum Kind<N: Net> {
    /// The call, owned outright (no closure interceptors), in a box its thread reuses: the
    /// body and its response move as a pointer, for no allocation per call.
    Owned(DriverBox<AsyncTransport<N>>),
    /// The call, shared with the interceptor chain, and which of the bodies handed out for
    /// it this is ([`Driver::hand_out_body`]): a body an interceptor proceeded past reads an
    /// error, never the later response's bytes.
    Shared(Exec<N>, u64),
    /// A body a closure interceptor made up.
    Custom(wayfarer_core::Body),
}

/// What `Response::bytes()` returns: a future of the whole body.
pub type BytesFuture = Pin<Box<dyn Future<Output = Result<Bytes, Error>> + Send>>;
/// What `Response::text()` returns: a future of the whole body as text.
pub type TextFuture = Pin<Box<dyn Future<Output = Result<String, Error>> + Send>>;
/// What `Response::json()` returns: a future of the whole body parsed as JSON.
pub type JsonFuture<T> = Pin<Box<dyn Future<Output = Result<T, Error>> + Send>>;

impl<N: Net> Body<N> {
    /// The body of a call this body owns outright: `charset` is the response's (for
    /// [`text`](Self::text)), and `slot` the call's place among the dispatcher's running
    /// calls, given up at the body's end.
    pub(crate) fn owned(
        driver: DriverBox<AsyncTransport<N>>,
        charset: Option<String>,
        slot: Slot<N>,
    ) -> Body<N> {
        Body {
            kind: Kind::Owned(driver),
            done: false,
            chunks: ChunkBuffer::default(),
            chunk_size: ChunkSize::default(),
            charset,
            slot: Some(slot),
        }
    }

    pub(crate) fn shared(exec: Exec<N>, number: u64) -> Body<N> {
        Body {
            kind: Kind::Shared(exec, number),
            done: false,
            chunks: ChunkBuffer::default(),
            chunk_size: ChunkSize::default(),
            charset: None,
            slot: None,
        }
    }

    /// Keeps the call's dispatcher slot until the body ends or is dropped.
    pub(crate) fn hold(&mut self, slot: Slot<N>) {
        self.slot = Some(slot);
    }

    /// How many bytes the body still holds, when its call knows exactly (see
    /// [`Call::body_size_hint`](wayfarer_core::Call::body_size_hint)): a small body is read
    /// into a buffer of its own size rather than a whole zeroed chunk.
    fn remaining(&self) -> Option<u64> {
        match &self.kind {
            Kind::Owned(driver) => driver.call().body_size_hint(),
            Kind::Shared(..) | Kind::Custom(_) => None,
        }
    }

    /// The size of the next read of [`chunk`](Self::chunk), at most `max`: what the body has
    /// left when that is known, else `max`; `None` for a body known to be all read.
    fn next_read(&self, max: usize) -> Option<usize> {
        match self.remaining() {
            Some(0) => None,
            Some(left) => Some(usize::try_from(left).map_or(max, |left| left.min(max))),
            None => Some(max),
        }
    }

    /// The same body, decoded by [`text`](Self::text) with `charset` (the response's).
    pub(crate) fn with_charset(mut self, charset: Option<String>) -> Body<N> {
        self.charset = charset;
        self
    }

    /// The connection of a `101 Switching Protocols` response to a request that asked to
    /// `Upgrade`, as a byte stream for the new protocol (WebSocket, say), starting with the
    /// bytes the server sent right after the 101's head.
    ///
    /// Fails with [`ErrorKind::InvalidInput`](wayfarer_core::ErrorKind::InvalidInput) for any
    /// other response.
    pub fn into_upgraded(mut self) -> Result<crate::Upgraded<N>, Error> {
        let not_upgraded = || Error::invalid_input("the response did not switch protocols (101)");
        self.done = true;
        let kind = std::mem::replace(&mut self.kind, Kind::Custom(wayfarer_core::Body::empty()));
        let driver = match kind {
            Kind::Owned(driver) => driver.into_inner(),
            // Once the response is out, the chain holds no other handle on the call.
            Kind::Shared(exec, _) => match std::sync::Arc::try_unwrap(exec) {
                Ok(mutex) => mutex.into_inner().unwrap_or_else(|p| p.into_inner()),
                Err(_) => return Err(not_upgraded()),
            },
            Kind::Custom(_) => return Err(not_upgraded()),
        };
        driver
            .into_upgraded()
            .map(crate::Upgraded::new)
            .ok_or_else(not_upgraded)
    }

    /// A body made up by an interceptor (bytes, a reader, a stream).
    pub fn from_request_body(body: wayfarer_core::Body) -> Body<N> {
        Body {
            kind: Kind::Custom(body),
            done: false,
            chunks: ChunkBuffer::default(),
            chunk_size: ChunkSize::default(),
            charset: None,
            slot: None,
        }
    }

    /// What an interceptor's returned body means for `exec`: `None` when it is that call's own
    /// body (the response passes through), else the body to serve instead.
    pub(crate) fn into_replacement(mut self, exec: &Exec<N>) -> Option<wayfarer_core::Body> {
        self.done = true;
        match std::mem::replace(&mut self.kind, Kind::Custom(wayfarer_core::Body::empty())) {
            Kind::Shared(other, number) if std::sync::Arc::ptr_eq(&other, exec) => {
                // The call's own body passes through; one the chain proceeded past is gone.
                let current = lock(exec).is_current_body(number);
                (!current).then(wayfarer_core::driver::discarded_body)
            }
            Kind::Custom(body) => Some(body),
            kind => {
                // Another call's body: serve it by streaming it.
                let other = Body {
                    kind,
                    done: false,
                    chunks: ChunkBuffer::default(),
                    chunk_size: self.chunk_size,
                    charset: None,
                    slot: self.slot.take(),
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
            Kind::Shared(exec, number) => {
                let mut driver = lock(exec);
                if !driver.is_current_body(*number) {
                    return Poll::Ready(Err(wayfarer_core::driver::proceeded_past()));
                }
                std::task::ready!(driver.poll_read(cx, buf))?
            }
            Kind::Custom(body) => {
                std::task::ready!(body.poll_read(cx, buf)).map_err(Error::from_io)?
            }
        };
        if n == 0 {
            self.done = true;
            self.slot = None;
        }
        Poll::Ready(Ok(n))
    }

    /// Reads into `buf`; `Ok(0)` at the end of the body.
    pub async fn read(&mut self, buf: &mut [u8]) -> Result<usize, Error> {
        poll_fn(|cx| self.poll_read_bytes(cx, buf)).await
    }

    /// The next chunk of the body, or `None` at the end: what one read of the connection gave,
    /// up to the [chunk size](Self::set_chunk_size). Unless set, that starts at 64 KiB and
    /// doubles after each read that fills it, up to 1 MiB, so a bulk download moves in few
    /// large reads while a small body never costs a large buffer (a body of known length grows
    /// it only while sixteen chunks of the larger size are left).
    ///
    /// Drop each chunk before asking for the next, as a loop over them does, and the body is
    /// read through one buffer, reused without being cleared again. Chunks you keep are
    /// packed into shared buffers instead, each chunk a slice of one.
    pub async fn chunk(&mut self) -> Result<Option<Bytes>, Error> {
        poll_fn(|cx| self.poll_chunk(cx)).await
    }

    /// Sets the most [`chunk`](Self::chunk) and the `Stream` yield at once, for good (at least
    /// 1; by default it grows from 64 KiB to 1 MiB as reads fill it). Each chunk is
    /// one read of the connection, straight into the chunk's buffer, so it holds whatever had
    /// arrived, up to this size (a plain connection's reads go from the socket into the chunk;
    /// small chunks are copied out so that the buffer serves the next read).
    ///
    /// [`read`](Self::read) reads into a caller's buffer instead, as much as it holds at once.
    ///
    /// ```no_run
    /// # async fn run(mut body: wayfarer_async::Body<impl wayfarer_async::Net>) -> Result<(), wayfarer_core::Error> {
    /// // Pieces of at most 16 KiB, for a consumer that wants them small.
    /// body.set_chunk_size(16 * 1024);
    /// let mut total = 0;
    /// while let Some(chunk) = body.chunk().await? {
    ///     total += chunk.len();
    /// }
    /// println!("{total} bytes");
    /// # Ok(())
    /// # }
    /// ```
    pub fn set_chunk_size(&mut self, size: usize) {
        self.chunk_size = ChunkSize::Fixed(size.max(1));
    }

    fn poll_chunk(&mut self, cx: &mut Context<'_>) -> Poll<Result<Option<Bytes>, Error>> {
        if self.done {
            return Poll::Ready(Ok(None));
        }
        let Some(want) = self.next_read(self.chunk_size.get()) else {
            // All of the body is in: a byte of room finds its end (without I/O), and takes no
            // buffer.
            let mut probe = [0u8; 1];
            return match self.poll_read_bytes(cx, &mut probe) {
                Poll::Ready(Ok(0)) => {
                    self.chunks.release();
                    Poll::Ready(Ok(None))
                }
                Poll::Ready(Ok(n)) => Poll::Ready(Ok(Some(Bytes::copy_from_slice(&probe[..n])))),
                Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
                Poll::Pending => Poll::Pending,
            };
        };
        let mut buf = self.chunks.take(want);
        let len = buf.len().min(want);
        let read = self.poll_read_bytes(cx, &mut buf[..len]);
        match read {
            Poll::Ready(Ok(0)) => {
                self.chunks.release();
                Poll::Ready(Ok(None))
            }
            Poll::Ready(Ok(n)) => {
                let left = self.remaining();
                self.chunk_size.after_read(n, left);
                Poll::Ready(Ok(Some(self.chunks.chunk(buf, n))))
            }
            Poll::Ready(Err(e)) => {
                self.chunks.put_back(buf);
                Poll::Ready(Err(e))
            }
            Poll::Pending => {
                self.chunks.put_back(buf);
                Poll::Pending
            }
        }
    }

    /// Reads the rest of the body into memory.
    pub async fn bytes(mut self) -> Result<Bytes, Error> {
        // Straight into the result (see `Collector`): a small body of known length costs a
        // buffer of its size.
        let mut body = Collector::new(self.remaining());
        loop {
            match self.read(body.spare()).await? {
                0 => return Ok(body.finish()),
                n => body.filled(n),
            }
        }
    }

    /// Reads the rest of the body and parses it as JSON into a `T`, as
    /// [`Response::json`](wayfarer_core::Response::json) does; see
    /// [`decode_json`](wayfarer_core::decode_json).
    pub async fn json<T: DeserializeOwned>(self) -> Result<T, Error> {
        let bytes = self.bytes().await?;
        wayfarer_core::decode_json(&bytes)
    }

    /// Reads the rest of the body and decodes it as text with the response's `Content-Type`
    /// charset (UTF-8 when it names none), as [`Response::text`](wayfarer_core::Response::text)
    /// does; see [`decode_text`](wayfarer_core::decode_text).
    pub async fn text(mut self) -> Result<String, Error> {
        let charset = self.charset.take();
        self.text_as(charset).await
    }

    /// Reads the rest of the body and decodes it with `charset`.
    async fn text_as(self, charset: Option<String>) -> Result<String, Error> {
        let bytes = self.bytes().await?;
        Ok(wayfarer_core::decode_text_owned(bytes, charset.as_deref()))
    }

    /// The trailer fields of a chunked response, once the body has been read to its end.
    pub fn trailers(&self) -> Option<Headers> {
        match &self.kind {
            Kind::Owned(driver) => driver.trailers().cloned(),
            Kind::Shared(exec, number) => lock(exec).trailers_of(*number).cloned(),
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
        Box::pin(self.text_as(charset))
    }

    type Json<T: DeserializeOwned + Send + 'static> = JsonFuture<T>;

    fn collect_json<T: DeserializeOwned + Send + 'static>(self) -> JsonFuture<T> {
        Box::pin(self.json())
    }
}

impl<N: Net> Drop for Body<N> {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        match &mut self.kind {
            Kind::Owned(driver) => driver.discard(),
            Kind::Shared(exec, number) => lock(exec).discard_body(*number),
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
