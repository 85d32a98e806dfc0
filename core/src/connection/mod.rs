//! Connections: the core's half of a socket.
//!
//! A [`Connection`] holds everything about a connection except the socket itself: its address and
//! peer, the TLS session (if any), the bytes received and not yet decoded, and the bytes queued
//! for sending. The driver keeps the socket next to it and moves bytes between the two as the
//! call's outputs ask. When a call is done with a reusable connection, the driver puts the pair
//! into the [`ConnectionPool`] and the next call to the same [`Address`] takes it out again.

pub(crate) mod address;
pub(crate) mod buffer;
pub(crate) mod buffer_pool;
pub(crate) mod exact_trust;
pub(crate) mod fast_fallback;
pub(crate) mod finder;
pub(crate) mod idle_watch;
pub(crate) mod pool;
pub(crate) mod route;
pub(crate) mod route_database;
pub(crate) mod route_selector;
pub(crate) mod tls;
pub(crate) mod tls_identity;
pub(crate) mod validity;

use std::fmt;
use std::sync::Arc;

use bytes::Bytes;
use core::net::SocketAddr;

pub use address::Address;
pub use fast_fallback::{AttemptId, ConnectAction, FastFallback, interleave_families};
pub use idle_watch::{IDLE_WATCH_CADENCE, IdleWatchSchedule};
pub use pool::{
    Cleanup, ConnectionPool, HEALTH_CHECK_AFTER, Pooled, QUIET_CHECK_AFTER, needs_health_check,
    needs_quiet_check,
};
pub use route::Route;
pub use route_database::RouteDatabase;
pub use route_selector::{RouteSelector, RouteStep};
pub use tls::InputClock;
pub use tls_identity::TlsIdentity;

use crate::tls::settings::ConnectionTls;
use crate::{Error, Handshake, Instant};
use buffer::RecvBuf;
pub(crate) use buffer_pool::BufferPool;
use tls::{Negotiated, Plain, TlsSession};

/// Identifies a connection within one client; shown as `c1`, `c2`, ...
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConnId(pub(crate) u64);

impl ConnId {
    /// The number behind the id.
    pub fn get(self) -> u64 {
        self.0
    }
}

impl fmt::Display for ConnId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "c{}", self.0)
    }
}

impl fmt::Debug for ConnId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// The most ciphertext buffer a pooled TLS connection keeps: one full record (16 KiB plus
/// overhead). The buffer starts at the plain one's size and grows only when reads fill it (a
/// bulk body), like the plain one: a handshake and a small response fit 8 KiB, and zeroing
/// 17 KiB for every new connection cost more than the handshake's own copies.
const KEPT_TLS_BUFFER: usize = 17 * 1024;

/// The core's state for one connection (the driver owns the socket).
///
/// Boxed: between the pool, the call and the driver's outputs a connection moves a dozen
/// times per keep-alive request, and a box makes each move a pointer's instead of a few hundred
/// bytes', for one allocation per connection.
pub struct Connection(Box<State>);

struct State {
    id: ConnId,
    address: Address,
    peer: SocketAddr,
    tls: Option<Box<TlsSession>>,
    /// What the TLS handshake settled on, once it finished; shared by every response.
    handshake: Option<Arc<Handshake>>,
    /// Ciphertext received and not yet given to rustls (TLS only).
    cipher_in: RecvBuf,
    /// Plaintext received and not yet decoded.
    inbound: RecvBuf,
    /// Bytes (ciphertext for TLS) waiting to be written, from `out_pos` on.
    outbound: Vec<u8>,
    out_pos: usize,
    /// A large body sent straight from the caller's `Bytes` after `outbound` (plain only).
    out_big: Bytes,
    /// Size of the region last offered for a read, to tell a full read from a short one.
    offered: usize,
    /// The peer closed its side (EOF or TLS close_notify).
    eof: bool,
    /// TLS: decrypted bytes stay in the session, to be read straight into the caller's buffer
    /// ([`read_plain`](Self::read_plain)) instead of through `inbound`: set while a response
    /// body that needs no decoding is read.
    plain_direct: bool,
    idle_since: Option<Instant>,
    exchanges: u32,
}

impl fmt::Debug for Connection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Connection")
            .field("id", &self.0.id)
            .field("address", &self.0.address)
            .field("peer", &self.0.peer)
            .field("tls", &self.0.tls.is_some())
            .field("exchanges", &self.0.exchanges)
            .finish_non_exhaustive()
    }
}

impl Connection {
    pub(crate) fn new(id: ConnId, address: Address, peer: SocketAddr) -> Connection {
        Connection(Box::new(State {
            id,
            address,
            peer,
            tls: None,
            handshake: None,
            cipher_in: RecvBuf::default(),
            inbound: RecvBuf::default(),
            outbound: Vec::new(),
            out_pos: 0,
            out_big: Bytes::new(),
            offered: 0,
            eof: false,
            plain_direct: false,
            idle_since: None,
            exchanges: 0,
        }))
    }

    /// This connection's id.
    pub fn id(&self) -> ConnId {
        self.0.id
    }

    /// The origin it serves.
    pub fn address(&self) -> &Address {
        &self.0.address
    }

    /// The socket address it is connected to.
    pub fn peer(&self) -> SocketAddr {
        self.0.peer
    }

    /// True for a TLS connection.
    pub fn is_tls(&self) -> bool {
        self.0.tls.is_some()
    }

    /// How many requests it has carried.
    pub fn exchanges(&self) -> u32 {
        self.0.exchanges
    }

    /// When it went idle in the pool (None while in use for the first time).
    pub fn idle_since(&self) -> Option<Instant> {
        self.0.idle_since
    }

    /// The TLS version, cipher suite and certificates of a TLS connection whose handshake has
    /// finished; `None` for a plain one.
    pub fn handshake(&self) -> Option<&Handshake> {
        self.0.handshake.as_deref()
    }

    pub(crate) fn shared_handshake(&self) -> Option<Arc<Handshake>> {
        self.0.handshake.clone()
    }

    /// Records what the finished handshake settled on.
    pub(crate) fn finish_handshake(&mut self) {
        if let Some(tls) = &self.0.tls {
            self.0.handshake = tls.handshake().map(Arc::new);
        }
    }

    pub(crate) fn start_tls(&mut self, tls: ConnectionTls) -> Result<(), Error> {
        let session = TlsSession::start(tls, self.0.address.host(), &mut self.0.outbound)?;
        self.0.tls = Some(Box::new(session));
        // Socket reads now go to the ciphertext buffer: it takes a recycled allocation.
        if self.0.inbound.is_empty() {
            std::mem::swap(&mut self.0.inbound, &mut self.0.cipher_in);
        }
        Ok(())
    }

    pub(crate) fn is_handshaking(&self) -> bool {
        self.0.tls.as_ref().is_some_and(|t| t.is_handshaking())
    }

    pub(crate) fn negotiated(&self) -> Option<Negotiated> {
        self.0.tls.as_ref().map(|t| t.negotiated())
    }

    /// The TLS session as a cache entry records it; `None` on a plain connection (or one whose
    /// handshake has not finished).
    pub(crate) fn cache_handshake(&self) -> Option<crate::cache::Handshake> {
        let negotiated = self.negotiated()?;
        let handshake = self.0.handshake.as_deref()?;
        Some(crate::cache::Handshake {
            tls_version: negotiated.version,
            cipher_suite: negotiated.cipher_suite,
            peer_certificates: handshake
                .peer_certificates()
                .iter()
                .map(|c| c.0.to_vec())
                .collect(),
        })
    }

    pub(crate) fn begin_exchange(&mut self) {
        self.0.exchanges += 1;
        self.0.idle_since = None;
    }

    /// The next bytes to write, if any.
    pub(crate) fn transmit_buf(&self) -> Option<&[u8]> {
        if self.0.out_pos < self.0.outbound.len() {
            Some(&self.0.outbound[self.0.out_pos..])
        } else if !self.0.out_big.is_empty() {
            Some(&self.0.out_big)
        } else {
            None
        }
    }

    pub(crate) fn has_output(&self) -> bool {
        self.0.out_pos < self.0.outbound.len() || !self.0.out_big.is_empty()
    }

    /// Records that the driver wrote `n` bytes of [`transmit_buf`](Self::transmit_buf).
    pub(crate) fn on_transmitted(&mut self, n: usize) {
        if self.0.out_pos < self.0.outbound.len() {
            self.0.out_pos = (self.0.out_pos + n).min(self.0.outbound.len());
            if self.0.out_pos == self.0.outbound.len() {
                self.0.outbound.clear();
                self.0.out_pos = 0;
            }
        } else {
            let n = n.min(self.0.out_big.len());
            let _ = self.0.out_big.split_to(n);
        }
    }

    /// Drops everything queued for sending (the write side failed).
    pub(crate) fn discard_output(&mut self) {
        self.0.outbound.clear();
        self.0.out_pos = 0;
        self.0.out_big = Bytes::new();
    }

    /// Bytes queued but not yet written.
    pub(crate) fn queued(&self) -> usize {
        self.0.outbound.len() - self.0.out_pos + self.0.out_big.len()
    }

    /// Queues plaintext for sending (encrypting it on a TLS connection).
    pub(crate) fn queue(&mut self, data: &[u8]) -> Result<(), Error> {
        match &mut self.0.tls {
            Some(tls) => tls.send(data, &mut self.0.outbound),
            None => {
                self.0.outbound.extend_from_slice(data);
                Ok(())
            }
        }
    }

    /// Queues the end of what this side sends: TLS's close_notify on an https connection,
    /// nothing on a plain one (the driver then shuts the socket's write side).
    pub(crate) fn queue_close(&mut self) {
        if let Some(tls) = &mut self.0.tls {
            tls.close(&mut self.0.outbound);
        }
    }

    /// The outbound buffer of a plain connection, for encoders that write in place.
    pub(crate) fn plain_outbound(&mut self) -> Option<&mut Vec<u8>> {
        if self.0.tls.is_none() {
            Some(&mut self.0.outbound)
        } else {
            None
        }
    }

    /// Queues a large body without copying it (plain connections only; callers check).
    pub(crate) fn queue_shared(&mut self, data: Bytes) {
        debug_assert!(self.0.tls.is_none() && self.0.out_big.is_empty());
        self.0.out_big = data;
    }

    /// The region the next socket read should fill.
    pub(crate) fn recv_buf(&mut self) -> &mut [u8] {
        let spare = match self.0.tls {
            Some(_) => self.0.cipher_in.spare(1),
            None => self.0.inbound.spare(1),
        };
        self.0.offered = spare.len();
        spare
    }

    /// Records a socket read of `n` bytes into [`recv_buf`](Self::recv_buf); 0 is EOF.
    pub(crate) fn on_received(&mut self, n: usize) -> Result<(), Error> {
        let filled = n > 0 && n == self.0.offered;
        match &mut self.0.tls {
            None => {
                if n == 0 {
                    self.0.eof = true;
                } else {
                    self.0.inbound.commit(n);
                    self.0.inbound.note_fill(filled);
                }
            }
            Some(tls) => {
                if n == 0 {
                    self.0.eof = true;
                    tls.receive_eof(&mut self.0.inbound, &mut self.0.outbound)?;
                } else {
                    self.0.cipher_in.commit(n);
                    self.0.cipher_in.note_fill(filled);
                    self.feed()?;
                }
            }
        }
        Ok(())
    }

    /// Gives the buffered ciphertext to the TLS session. Returns how many bytes it took.
    fn feed(&mut self) -> Result<usize, Error> {
        let Some(tls) = &mut self.0.tls else {
            return Ok(0);
        };
        let plain = (!self.0.plain_direct).then_some(&mut self.0.inbound);
        let (used, closed) = tls.receive(self.0.cipher_in.data(), plain, &mut self.0.outbound)?;
        self.0.cipher_in.consume(used);
        self.0.eof |= closed;
        Ok(used)
    }

    /// Turns on or off reading decrypted body bytes straight from the TLS session (a plain
    /// connection ignores it). Turning it off moves what the session holds into `inbound`, so
    /// nothing is left unseen when the connection is checked for reuse.
    pub(crate) fn set_plain_direct(&mut self, on: bool) -> Result<(), Error> {
        let was = self.0.plain_direct;
        self.0.plain_direct = on && self.0.tls.is_some();
        if was && !self.0.plain_direct {
            if let Some(tls) = &mut self.0.tls {
                self.0.eof |= tls.drain(&mut self.0.inbound, &mut self.0.outbound)?;
            }
            if !self.0.cipher_in.is_empty() {
                self.feed()?;
            }
        }
        Ok(())
    }

    /// Whether decrypted body bytes are read with [`read_plain`](Self::read_plain).
    pub(crate) fn is_plain_direct(&self) -> bool {
        self.0.plain_direct
    }

    /// Reads decrypted bytes straight from the TLS session into `buf` (not empty), feeding it
    /// the ciphertext already received as needed. `Ok(0)` when nothing more can be read without
    /// I/O: more must arrive, or the session is over ([`is_eof`](Self::is_eof)).
    pub(crate) fn read_plain(&mut self, buf: &mut [u8]) -> Result<usize, Error> {
        loop {
            let Some(tls) = &mut self.0.tls else {
                return Ok(0);
            };
            match tls.read_plain(buf)? {
                Plain::Data(n) => return Ok(n),
                Plain::Closed => {
                    self.0.eof = true;
                    return Ok(0);
                }
                Plain::Empty => {}
            }
            if self.0.cipher_in.is_empty() {
                return Ok(0);
            }
            // The session refused ciphertext while it held no plaintext to make room with:
            // only a malformed stream does that, and waiting would buffer without bound.
            if self.feed()? == 0 {
                return Err(Error::protocol("the TLS session accepts no more data"));
            }
        }
    }

    /// True when bytes may be read from the socket straight into a caller's buffer: a plain
    /// connection with nothing buffered.
    pub(crate) fn can_read_direct(&self) -> bool {
        self.0.tls.is_none() && self.0.inbound.is_empty() && !self.0.eof
    }

    /// Records a direct read of `n` bytes into the caller's buffer; 0 is EOF.
    pub(crate) fn on_direct_received(&mut self, n: usize) {
        if n == 0 {
            self.0.eof = true;
        }
    }

    /// Records a response's length (head and body), when known, for the buffer socket reads
    /// go into (the ciphertext's over TLS, about as long): see [`RecvBuf::note_response_len`].
    pub(crate) fn note_response_len(&mut self, len: Option<u64>) {
        match self.0.tls {
            Some(_) => self.0.cipher_in.note_response_len(len),
            None => self.0.inbound.note_response_len(len),
        }
    }

    pub(crate) fn inbound(&mut self) -> &mut RecvBuf {
        &mut self.0.inbound
    }

    pub(crate) fn inbound_data(&self) -> &[u8] {
        self.0.inbound.data()
    }

    /// The peer has closed its side.
    pub(crate) fn is_eof(&self) -> bool {
        self.0.eof
    }

    /// Whether this connection can carry another request: nothing left over in either
    /// direction and the peer still open.
    pub(crate) fn is_clean(&self) -> bool {
        !self.0.eof
            && self.0.inbound.is_empty()
            && self.0.cipher_in.is_empty()
            && !self.has_output()
            && !self.is_handshaking()
    }

    /// Starts the connection with a closed one's receive buffer (see [`BufferPool`]).
    pub(crate) fn with_buffer(mut self, buf: Option<Vec<u8>>) -> Connection {
        if let Some(buf) = buf {
            self.0.inbound = RecvBuf::recycled(buf);
        }
        self
    }

    /// The connection is closing: its receive buffers go to `pool` for later connections.
    pub(crate) fn recycle(mut self, pool: &BufferPool) {
        for recv in [&mut self.0.inbound, &mut self.0.cipher_in] {
            if let Some(buf) = recv.take_initial() {
                pool.give(buf);
            }
        }
    }

    /// Makes the connection cheap to keep idle: large buffers are released. A TLS
    /// connection keeps its one-record ciphertext buffer: every exchange on it needs one, and
    /// freeing it meant allocating and zeroing 17 KiB again for each keep-alive request.
    pub(crate) fn park(&mut self, now: Instant) {
        self.0.idle_since = Some(now);
        self.0.inbound.shrink();
        self.0.cipher_in.shrink_above(KEPT_TLS_BUFFER);
        if self.0.outbound.capacity() > buffer::INITIAL {
            self.0.outbound = Vec::new();
        }
    }
}
