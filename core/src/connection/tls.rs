//! TLS inside the core: a buffered `rustls::ClientConnection` between the socket's bytes and the
//! HTTP/1 codec.
//!
//! rustls is itself sans-IO: ciphertext goes in through `read_tls` (a byte slice is an
//! `io::Read`), plaintext comes out of `reader()`, plaintext goes in through `writer()`, and
//! ciphertext comes out of `write_tls` (a `Vec` is an `io::Write`). [`TlsSession`] never touches
//! a socket, so every runtime gets HTTPS without any TLS code of its own.
//!
//! Certificate validity is checked against [`InputClock`]: the wall time the driver handed the
//! core when the connection's handshake started, never the system clock, so recorded
//! transcripts do not expire. Each connection gets its own clock (a copy of the client's rustls
//! configuration with that time in it), so concurrent calls never race on a shared one.
//!
//! The buffered API is used because rustls has removed its unbuffered API on `main`; keeping
//! every rustls call in this file keeps a later upgrade local. Pinning, client certificates and
//! version/cipher policy are in the `rustls::ClientConfig` built by `tls/settings.rs`; what a
//! finished handshake settled on is read here into a [`Handshake`].

use std::io::{self, Read, Write};
use std::time::{Duration, SystemTime};

use rustls::pki_types::{ServerName, UnixTime};

use crate::connection::buffer::RecvBuf;
use crate::tls::settings::{ConnectionTls, LocalCertificate};
use crate::{Certificate, Error, Handshake, TlsVersion};

/// The wall time rustls validates certificates against: the driver's reading when a
/// connection's handshake started. Until a connection sets one it knows no time, and rustls
/// refuses to validate without a time.
#[derive(Debug, Clone, Copy, Default)]
pub struct InputClock {
    at: Option<UnixTime>,
}

impl InputClock {
    /// A clock stopped at `wall`.
    pub(crate) fn at(wall: SystemTime) -> InputClock {
        let since = wall
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or(Duration::ZERO);
        InputClock {
            at: Some(UnixTime::since_unix_epoch(since)),
        }
    }
}

impl rustls::time_provider::TimeProvider for InputClock {
    fn current_time(&self) -> Option<UnixTime> {
        self.at
    }
}

/// What the handshake settled on, for the `SecureConnectEnd` event.
#[derive(Debug, Clone)]
pub(crate) struct Negotiated {
    pub version: String,
    pub cipher_suite: String,
    pub alpn: Option<String>,
}

/// What reading decrypted bytes straight from the session found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Plain {
    /// This many bytes were read.
    Data(usize),
    /// Nothing is decrypted yet: more ciphertext is needed.
    Empty,
    /// The peer closed the session and every byte was read.
    Closed,
}

/// One TLS client session.
pub(crate) struct TlsSession {
    conn: rustls::ClientConnection,
    host: String,
    /// The client certificate this connection may send, and whether it did.
    local: Option<LocalCertificate>,
}

impl std::fmt::Debug for TlsSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsSession")
            .field("host", &self.host)
            .finish_non_exhaustive()
    }
}

impl TlsSession {
    /// Starts a handshake with `host` (a DNS name or an IP literal); the ClientHello is queued
    /// in `out`.
    pub(crate) fn start(
        tls: ConnectionTls,
        host: &str,
        out: &mut Vec<u8>,
    ) -> Result<TlsSession, Error> {
        let name = ServerName::try_from(host.to_owned()).map_err(|_| {
            Error::invalid_input(format!("{host:?} is not a valid TLS server name"))
        })?;
        let conn =
            rustls::ClientConnection::new(tls.config, name).map_err(|e| Error::tls(e, host))?;
        let mut session = TlsSession {
            conn,
            host: host.to_owned(),
            local: tls.local,
        };
        session.flush(out);
        Ok(session)
    }

    pub(crate) fn is_handshaking(&self) -> bool {
        self.conn.is_handshaking()
    }

    /// Moves every pending TLS record into `out`.
    fn flush(&mut self, out: &mut Vec<u8>) {
        while self.conn.wants_write() {
            // Writing into a Vec cannot fail.
            if self.conn.write_tls(out).is_err() {
                break;
            }
        }
    }

    /// Feeds received ciphertext; records to send (handshake messages, alerts, key updates) go
    /// to `out`. Decrypted bytes go to `plain`, or, when it is `None`, stay in the session for
    /// [`read_plain`](Self::read_plain), and feeding stops when the session's plaintext buffer
    /// is full. Returns how many ciphertext bytes were taken, and true once the peer has closed
    /// the session with close_notify (only reported when draining into `plain`).
    pub(crate) fn receive(
        &mut self,
        mut cipher: &[u8],
        mut plain: Option<&mut RecvBuf>,
        out: &mut Vec<u8>,
    ) -> Result<(usize, bool), Error> {
        let given = cipher.len();
        let mut closed = false;
        let mut stuck = false;
        while !cipher.is_empty() {
            match self.conn.read_tls(&mut cipher) {
                Ok(0) => {
                    closed = true;
                    break;
                }
                Ok(_) => stuck = false,
                // rustls signals back-pressure ("buffer full") this way: with nowhere to drain
                // the plaintext to, stop here (the caller reads it, then feeds the rest).
                Err(e) if e.kind() == io::ErrorKind::Other && plain.is_none() => break,
                // Else drain the plaintext below and go on. Twice in a row without progress
                // means it cannot make room, which only a malformed stream can cause.
                Err(e) if e.kind() == io::ErrorKind::Other && !stuck => stuck = true,
                Err(e) => return Err(Error::io(format!("TLS read failed: {e}"), Some(e))),
            }
            closed |= self.process(plain.as_deref_mut(), out)?;
        }
        Ok((given - cipher.len(), closed))
    }

    /// Moves every decrypted byte the session holds into `plain`. Returns true once the peer
    /// has closed the session with close_notify.
    pub(crate) fn drain(&mut self, plain: &mut RecvBuf, out: &mut Vec<u8>) -> Result<bool, Error> {
        self.process(Some(plain), out)
    }

    /// Reads decrypted bytes straight into `buf` (not empty), with no copy in between.
    pub(crate) fn read_plain(&mut self, buf: &mut [u8]) -> Result<Plain, Error> {
        match self.conn.reader().read(buf) {
            Ok(0) => Ok(Plain::Closed),
            Ok(n) => Ok(Plain::Data(n)),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(Plain::Empty),
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => Ok(Plain::Closed),
            Err(e) => Err(Error::io(format!("TLS read failed: {e}"), Some(e))),
        }
    }

    /// The socket reached EOF. Returns Ok even without close_notify: many servers omit it, and
    /// the HTTP framing above decides whether the body was complete.
    pub(crate) fn receive_eof(
        &mut self,
        plain: &mut RecvBuf,
        out: &mut Vec<u8>,
    ) -> Result<(), Error> {
        let _ = self.conn.read_tls(&mut io::empty());
        self.process(Some(plain), out).map(|_| ())
    }

    fn process(&mut self, plain: Option<&mut RecvBuf>, out: &mut Vec<u8>) -> Result<bool, Error> {
        let state = self.conn.process_new_packets();
        // Even on error rustls may have an alert to send.
        self.flush(out);
        let state = state.map_err(|e| Error::tls(e, &self.host))?;
        let Some(plain) = plain else {
            // The plaintext stays for `read_plain`, which sees the close after the last byte.
            return Ok(false);
        };
        let mut closed = state.peer_has_closed();
        let mut reader = self.conn.reader();
        loop {
            match reader.read(plain.spare(4096)) {
                Ok(0) => {
                    closed = true;
                    break;
                }
                Ok(n) => plain.commit(n),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => {
                    closed = true;
                    break;
                }
                Err(e) => return Err(Error::io(format!("TLS read failed: {e}"), Some(e))),
            }
        }
        Ok(closed)
    }

    /// Encrypts `data` into `out`.
    pub(crate) fn send(&mut self, data: &[u8], out: &mut Vec<u8>) -> Result<(), Error> {
        self.conn
            .writer()
            .write_all(data)
            .map_err(|e| Error::io(format!("TLS write failed: {e}"), Some(e)))?;
        self.flush(out);
        Ok(())
    }

    /// Ends the session: a close_notify alert into `out`.
    pub(crate) fn close(&mut self, out: &mut Vec<u8>) {
        self.conn.send_close_notify();
        self.flush(out);
    }

    /// What the finished handshake settled on; `None` while it runs.
    pub(crate) fn handshake(&self) -> Option<Handshake> {
        if self.conn.is_handshaking() {
            return None;
        }
        let version = TlsVersion::from_rustls(self.conn.protocol_version()?)?;
        let suite = self.conn.negotiated_cipher_suite()?.suite();
        let peer = self
            .conn
            .peer_certificates()
            .unwrap_or_default()
            .iter()
            .map(|c| Certificate(c.clone()))
            .collect();
        let local = match &self.local {
            Some(local) if local.was_sent() => local.chain.to_vec(),
            _ => Vec::new(),
        };
        Some(Handshake::new(version, suite, peer, local))
    }

    pub(crate) fn negotiated(&self) -> Negotiated {
        Negotiated {
            version: self
                .conn
                .protocol_version()
                .map(|v| format!("{v:?}"))
                .unwrap_or_default(),
            cipher_suite: self
                .conn
                .negotiated_cipher_suite()
                .map(|s| format!("{:?}", s.suite()))
                .unwrap_or_default(),
            alpn: self
                .conn
                .alpn_protocol()
                .map(|p| String::from_utf8_lossy(p).into_owned()),
        }
    }
}
