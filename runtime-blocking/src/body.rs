//! The response body: a `std::io::Read` that pulls bytes through the call as they are read.

use std::fmt;
use std::io::{self, Read};

use bytes::Bytes;
use wayfarer_core::{CollectBody, Error, Headers};

use crate::driver::Driver;

/// A response body, streamed from the connection as it is read.
///
/// Nothing is buffered beyond the connection's receive buffer unless asked: [`Body::bytes`]
/// and [`Body::text`] (or `Response::bytes` / `Response::text`) read it whole. Reading it to the
/// end returns the connection to the pool; dropping it earlier closes the connection, unless
/// the rest of the body had already arrived.
pub struct Body {
    driver: Driver,
    done: bool,
    /// The `charset` of the response's `Content-Type`, for [`Body::text`].
    charset: Option<String>,
}

impl Body {
    /// A body read through `driver`; `charset` is the response's (see
    /// [`Response::charset`](wayfarer_core::Response::charset)).
    pub(crate) fn new(driver: Driver, charset: Option<String>) -> Body {
        Body {
            driver,
            done: false,
            charset,
        }
    }

    /// Reads the rest of the body into memory.
    pub fn bytes(mut self) -> Result<Bytes, Error> {
        let mut out = Vec::new();
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            match self.driver.read(&mut buf)? {
                0 => break,
                n => out.extend_from_slice(&buf[..n]),
            }
        }
        self.done = true;
        Ok(Bytes::from(out))
    }

    /// Reads the rest of the body and decodes it as text with the response's `Content-Type`
    /// charset (UTF-8 when it names none), as [`Response::text`](wayfarer_core::Response::text)
    /// does; see [`decode_text`](wayfarer_core::decode_text).
    pub fn text(mut self) -> Result<String, Error> {
        let charset = self.charset.take();
        self.collect_text(charset)
    }

    /// The trailer fields of a chunked response, once the body has been read to its end.
    pub fn trailers(&self) -> Option<&Headers> {
        self.driver.trailers()
    }

    /// Reads into `buf`, returning the typed error rather than an `io::Error`.
    pub fn read_bytes(&mut self, buf: &mut [u8]) -> Result<usize, Error> {
        if self.done {
            return Ok(0);
        }
        let n = self.driver.read(buf)?;
        if n == 0 && !buf.is_empty() {
            self.done = true;
        }
        Ok(n)
    }
}

impl Read for Body {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.read_bytes(buf).map_err(io::Error::from)
    }
}

impl CollectBody for Body {
    type Bytes = Result<Bytes, Error>;
    type Text = Result<String, Error>;

    fn collect_bytes(self) -> Result<Bytes, Error> {
        self.bytes()
    }

    fn collect_text(self, charset: Option<String>) -> Result<String, Error> {
        let bytes = self.bytes()?;
        Ok(wayfarer_core::decode_text(&bytes, charset.as_deref()))
    }
}

impl Drop for Body {
    fn drop(&mut self) {
        if !self.done {
            self.driver.discard();
        }
    }
}

impl fmt::Debug for Body {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Body")
            .field("done", &self.done)
            .field("charset", &self.charset)
            .finish_non_exhaustive()
    }
}
