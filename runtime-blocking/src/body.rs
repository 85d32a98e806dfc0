//! The response body: streamed from the connection as the caller reads it.

use std::fmt;
use std::io::{self, Read, Write};

use bytes::Bytes;
use serde::de::DeserializeOwned;
use wayfarer_core::driver::{Collector, DriverBox};
use wayfarer_core::{CollectBody, Error, Headers};

use crate::dispatcher::Slot;
use crate::driver::{self, Blocking, Exec, lock};

/// The first buffer size of [`Body::copy_to`].
const BULK_START: usize = 64 * 1024;
/// The largest buffer [`Body::copy_to`] grows to.
const BULK_MAX: usize = 1024 * 1024;

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
    /// The call's place among the dispatcher's running calls, given up at the end.
    slot: Option<Slot>,
}

enum Kind {
    /// The call, owned outright (no closure interceptors), in a box its thread reuses: the
    /// body and its response move as a pointer, for no allocation per call.
    Owned(DriverBox<Blocking>),
    /// The call, shared with the interceptor chain, and which of the bodies handed out for
    /// it this is ([`Driver::hand_out_body`]): a body an interceptor proceeded past reads an
    /// error, never the later response's bytes.
    Shared(Exec, u64),
    /// A body a closure interceptor made up.
    Custom(wayfarer_core::Body),
}

impl Body {
    /// The body of a call it owns outright, built in one step (each step of a builder would
    /// copy the driver): `charset` is the response's, for [`text`](Self::text), and `slot` the
    /// call's dispatcher slot, given up at the body's end.
    pub(crate) fn owned(
        driver: DriverBox<Blocking>,
        charset: Option<String>,
        slot: Option<Slot>,
    ) -> Body {
        Body {
            kind: Kind::Owned(driver),
            done: false,
            charset,
            slot,
        }
    }

    pub(crate) fn shared(exec: Exec, number: u64) -> Body {
        Body {
            kind: Kind::Shared(exec, number),
            done: false,
            charset: None,
            slot: None,
        }
    }

    pub(crate) fn custom(body: wayfarer_core::Body) -> Body {
        Body {
            kind: Kind::Custom(body),
            done: false,
            charset: None,
            slot: None,
        }
    }

    /// Keeps the call's dispatcher slot until the body ends or is dropped.
    pub(crate) fn hold(&mut self, slot: Option<Slot>) {
        if slot.is_some() {
            self.slot = slot;
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
            Kind::Shared(other, number) if std::sync::Arc::ptr_eq(&other, exec) => {
                // The call's own body passes through; one the chain proceeded past is gone.
                let current = lock(exec).is_current_body(number);
                (!current).then(wayfarer_core::driver::discarded_body)
            }
            Kind::Custom(body) => Some(body),
            kind => {
                // Another call's body: serve it by reading it.
                let other = Body {
                    kind,
                    done: false,
                    charset: None,
                    slot: self.slot.take(),
                };
                Some(wayfarer_core::Body::from_reader(other, None))
            }
        }
    }

    /// Reads the rest of the body into memory.
    pub fn bytes(mut self) -> Result<Bytes, Error> {
        // Straight into the result (see `Collector`): a small body of known length costs a
        // buffer of its size, not a zeroed 64 KiB one and a copy.
        let mut body = Collector::new(self.remaining());
        loop {
            match self.read_bytes(body.spare())? {
                0 => return Ok(body.finish()),
                n => body.filled(n),
            }
        }
    }

    /// Reads the rest of the body and parses it as JSON into a `T`, as
    /// [`Response::json`](wayfarer_core::Response::json) does; see
    /// [`decode_json`](wayfarer_core::decode_json).
    pub fn json<T: DeserializeOwned>(self) -> Result<T, Error> {
        wayfarer_core::decode_json(&self.bytes()?)
    }

    /// Reads the rest of the body and decodes it as text with the response's `Content-Type`
    /// charset (UTF-8 when it names none), as [`Response::text`](wayfarer_core::Response::text)
    /// does; see [`decode_text`](wayfarer_core::decode_text).
    pub fn text(mut self) -> Result<String, Error> {
        let charset = self.charset.take();
        self.collect_text(charset)
    }

    /// Copies the rest of the body to `out`; returns how many bytes it copied.
    ///
    /// For bulk downloads: reads straight from the socket go into the buffer they are given,
    /// so the buffer's size caps each read. This one starts at 64 KiB and doubles while reads
    /// fill it, up to 1 MiB, so a large body moves in few large reads, while a small one never
    /// costs a large buffer.
    ///
    /// ```no_run
    /// use wayfarer_blocking::{Client, Request};
    ///
    /// let client = Client::new();
    /// let request = Request::get("http://example.com/big.bin").build()?;
    /// let mut response = client.new_call(request).execute()?;
    /// let mut file = std::fs::File::create("big.bin").map_err(wayfarer_blocking::Error::from_io)?;
    /// let copied = response.body_mut().copy_to(&mut file)?;
    /// println!("{copied} bytes");
    /// # Ok::<(), wayfarer_blocking::Error>(())
    /// ```
    pub fn copy_to<W: Write + ?Sized>(&mut self, out: &mut W) -> Result<u64, Error> {
        let mut buf = vec![0u8; BULK_START];
        let mut copied = 0;
        loop {
            let n = self.read_bytes(&mut buf)?;
            if n == 0 {
                return Ok(copied);
            }
            out.write_all(&buf[..n]).map_err(Error::from_io)?;
            copied += n as u64;
            if n == buf.len() && buf.len() < BULK_MAX {
                buf.resize(buf.len() * 2, 0);
            }
        }
    }

    /// The trailer fields of a chunked response, once the body has been read to its end.
    pub fn trailers(&self) -> Option<Headers> {
        match &self.kind {
            Kind::Owned(driver) => driver.trailers().cloned(),
            Kind::Shared(exec, number) => lock(exec).trailers_of(*number).cloned(),
            Kind::Custom(_) => None,
        }
    }

    /// The connection of a `101 Switching Protocols` response to a request that asked to
    /// `Upgrade`, as a byte stream for the new protocol (WebSocket, say), starting with the
    /// bytes the server sent right after the 101's head.
    ///
    /// Fails with [`ErrorKind::InvalidInput`](wayfarer_core::ErrorKind::InvalidInput) for any
    /// other response.
    ///
    /// ```no_run
    /// use std::io::{Read, Write};
    /// use wayfarer_blocking::{Client, Request};
    ///
    /// let client = Client::new();
    /// let request = Request::get("http://127.0.0.1:8080/chat")
    ///     .header("Connection", "Upgrade")
    ///     .header("Upgrade", "example/1")
    ///     .build()?;
    /// let response = client.new_call(request).execute()?;
    /// assert_eq!(response.status(), 101);
    /// let mut stream = response.into_body().into_upgraded()?;
    /// stream.write_all(b"ping")?;
    /// let mut pong = [0u8; 4];
    /// stream.read_exact(&mut pong)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn into_upgraded(mut self) -> Result<crate::Upgraded, Error> {
        let not_upgraded = || Error::invalid_input("the response did not switch protocols (101)");
        self.done = true;
        let driver =
            match std::mem::replace(&mut self.kind, Kind::Custom(wayfarer_core::Body::empty())) {
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

    /// Reads into `buf`, returning the typed error rather than an `io::Error`.
    pub fn read_bytes(&mut self, buf: &mut [u8]) -> Result<usize, Error> {
        if self.done {
            return Ok(0);
        }
        let n = match &mut self.kind {
            Kind::Owned(d) => driver::read(d, buf)?,
            Kind::Shared(exec, number) => {
                let mut driver = lock(exec);
                if !driver.is_current_body(*number) {
                    return Err(wayfarer_core::driver::proceeded_past());
                }
                driver::read(&mut driver, buf)?
            }
            Kind::Custom(body) => driver::read_body(body, buf).map_err(Error::from_io)?,
        };
        if n == 0 && !buf.is_empty() {
            self.done = true;
            self.slot = None;
        }
        Ok(n)
    }

    /// How many bytes the body still holds, when its call knows exactly (see
    /// [`Call::body_size_hint`](wayfarer_core::Call::body_size_hint)): read whole, a small body
    /// gets a buffer of its own size.
    fn remaining(&self) -> Option<u64> {
        match &self.kind {
            _ if self.done => Some(0),
            Kind::Owned(driver) => driver.call().body_size_hint(),
            Kind::Shared(..) | Kind::Custom(_) => None,
        }
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
        Ok(wayfarer_core::decode_text_owned(bytes, charset.as_deref()))
    }

    type Json<T: DeserializeOwned + Send + 'static> = Result<T, Error>;

    fn collect_json<T: DeserializeOwned + Send + 'static>(self) -> Result<T, Error> {
        self.json()
    }
}

impl Drop for Body {
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

impl fmt::Debug for Body {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Body")
            .field("done", &self.done)
            .field("charset", &self.charset)
            .finish_non_exhaustive()
    }
}
