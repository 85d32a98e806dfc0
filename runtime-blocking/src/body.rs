//! The response body: streamed from the connection as the caller reads it.

use std::fmt;
use std::io::{self, Read};

use bytes::Bytes;
use wayfarer_core::driver::Driver;
use wayfarer_core::{CollectBody, Error, Headers};

use crate::driver::{self, Blocking, Exec, lock};

/// A response body, streamed from the connection as it is read.
///
/// Nothing is buffered beyond the connection's receive buffer unless asked: [`Body::bytes`]
/// and [`Body::text`] (or `Response::bytes` / `Response::text`) read it whole. Reading it to the
/// end returns the connection to the pool; dropping it earlier closes the connection, unless
/// the rest of the body had already arrived.
pub struct Body {
    kind: Kind,
    done: bool,
    /// The `charset` of the response's `Content-Type`, for [`Body::text`].
    charset: Option<String>,
}

#[allow(clippy::large_enum_variant)]
enum Kind {
    /// The call, owned outright (no closure interceptors). Not boxed: a box would cost an
    /// allocation on every call, where the enum's size only costs a move.
    Owned(Driver<Blocking>),
    /// The call, shared with the interceptor chain.
    Shared(Exec),
    /// A body a closure interceptor made up.
    Custom(wayfarer_core::Body),
}

impl Body {
    pub(crate) fn owned(driver: Driver<Blocking>) -> Body {
        Body {
            kind: Kind::Owned(driver),
            done: false,
            charset: None,
        }
    }

    pub(crate) fn shared(exec: Exec) -> Body {
        Body {
            kind: Kind::Shared(exec),
            done: false,
            charset: None,
        }
    }

    pub(crate) fn custom(body: wayfarer_core::Body) -> Body {
        Body {
            kind: Kind::Custom(body),
            done: false,
            charset: None,
        }
    }

    /// The same body, decoded by [`text`](Self::text) with `charset` (the response's).
    pub(crate) fn with_charset(mut self, charset: Option<String>) -> Body {
        self.charset = charset;
        self
    }

    /// A body made up by an interceptor (bytes, a reader, a stream).
    ///
    /// ```
    /// use wayfarer_blocking::Body;
    ///
    /// let body = Body::from_request_body("cached!".into());
    /// assert_eq!(&body.bytes()?[..], b"cached!");
    /// # Ok::<(), wayfarer_blocking::Error>(())
    /// ```
    pub fn from_request_body(body: wayfarer_core::Body) -> Body {
        Body::custom(body)
    }

    /// What an interceptor's returned body means for `exec`: `None` when it is that call's own
    /// body (the response passes through), else the body to serve instead.
    pub(crate) fn into_replacement(mut self, exec: &Exec) -> Option<wayfarer_core::Body> {
        self.done = true;
        match std::mem::replace(&mut self.kind, Kind::Custom(wayfarer_core::Body::empty())) {
            Kind::Shared(other) if std::sync::Arc::ptr_eq(&other, exec) => None,
            Kind::Custom(body) => Some(body),
            kind => {
                // Another call's body: serve it by reading it.
                let other = Body {
                    kind,
                    done: false,
                    charset: None,
                };
                Some(wayfarer_core::Body::from_reader(other, None))
            }
        }
    }

    /// Reads the rest of the body into memory.
    pub fn bytes(mut self) -> Result<Bytes, Error> {
        let mut out = Vec::new();
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            match self.read_bytes(&mut buf)? {
                0 => break,
                n => out.extend_from_slice(&buf[..n]),
            }
        }
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
    pub fn trailers(&self) -> Option<Headers> {
        match &self.kind {
            Kind::Owned(driver) => driver.trailers().cloned(),
            Kind::Shared(exec) => lock(exec).trailers().cloned(),
            Kind::Custom(_) => None,
        }
    }

    /// Reads into `buf`, returning the typed error rather than an `io::Error`.
    pub fn read_bytes(&mut self, buf: &mut [u8]) -> Result<usize, Error> {
        if self.done {
            return Ok(0);
        }
        let n = match &mut self.kind {
            Kind::Owned(d) => driver::read(d, buf)?,
            Kind::Shared(exec) => driver::read(&mut lock(exec), buf)?,
            Kind::Custom(body) => driver::read_body(body, buf).map_err(Error::from_io)?,
        };
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

impl fmt::Debug for Body {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Body")
            .field("done", &self.done)
            .field("charset", &self.charset)
            .finish_non_exhaustive()
    }
}
