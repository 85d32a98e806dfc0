//! A connection that switched protocols (`101 Switching Protocols`), as an async byte stream:
//! see [`Body::into_upgraded`](crate::Body::into_upgraded).

use std::fmt;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use wayfarer_core::UpgradedIo;

use crate::driver::AsyncTransport;
use crate::net::Net;

/// The connection of a `101 Switching Protocols` response, now speaking the protocol the
/// request asked to `Upgrade` to: futures-io's `AsyncRead` and `AsyncWrite` (and tokio's, with
/// the `tokio` feature) go straight to the socket, through TLS on https, starting with the
/// bytes the server sent right after the 101's head. No timeouts apply.
pub struct Upgraded<N: Net> {
    io: UpgradedIo<AsyncTransport<N>>,
}

impl<N: Net> Upgraded<N> {
    pub(crate) fn new(io: UpgradedIo<AsyncTransport<N>>) -> Upgraded<N> {
        Upgraded { io }
    }

    /// Reads into `buf`; `Ok(0)` when the peer has closed.
    pub async fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        std::future::poll_fn(|cx| self.io.poll_read(cx, buf)).await
    }

    /// Ends this side of the stream: what was written goes out (with TLS's close_notify on
    /// https) and the peer reads the end. Reading goes on until the peer ends too.
    pub async fn shutdown(&mut self) -> io::Result<()> {
        std::future::poll_fn(|cx| self.io.poll_shutdown(cx)).await
    }

    /// Writes all of `buf` and flushes it.
    pub async fn write_all(&mut self, mut buf: &[u8]) -> io::Result<()> {
        while !buf.is_empty() {
            let n = std::future::poll_fn(|cx| self.io.poll_write(cx, buf)).await?;
            buf = &buf[n..];
        }
        std::future::poll_fn(|cx| self.io.poll_flush(cx)).await
    }
}

impl<N: Net> fmt::Debug for Upgraded<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Upgraded")
            .field("conn", &self.io.upgraded().conn())
            .finish_non_exhaustive()
    }
}

impl<N: Net> futures_io::AsyncRead for Upgraded<N> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        self.get_mut().io.poll_read(cx, buf)
    }
}

impl<N: Net> futures_io::AsyncWrite for Upgraded<N> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.get_mut().io.poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().io.poll_flush(cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().io.poll_shutdown(cx)
    }
}

#[cfg(feature = "tokio")]
impl<N: Net> tokio::io::AsyncRead for Upgraded<N> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let n = std::task::ready!(this.io.poll_read(cx, buf.initialize_unfilled()))?;
        buf.advance(n);
        Poll::Ready(Ok(()))
    }
}

#[cfg(feature = "tokio")]
impl<N: Net> tokio::io::AsyncWrite for Upgraded<N> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.get_mut().io.poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().io.poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().io.poll_shutdown(cx)
    }
}
