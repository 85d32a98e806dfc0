//! Finding a connection for an exchange (OkHttp's `ExchangeFinder`): a pooled one, else a
//! fresh one through name resolution, TCP connect and the TLS handshake.
//!
//! ```text
//!  Acquire ──pooled, idle < HEALTH_CHECK_AFTER─────────────────────────────▶ Found
//!     │   └─pooled, idle longer──▶ CheckHealth ──healthy──────────────────────▶ Found
//!     │ none                           └─closed──▶ (close it) Acquire
//!     ▼
//!  Resolve ──▶ Connect(c1) ──plain──────────────────────────────────────────▶ Found
//!  (IP literal: no lookup)   ──https──▶ Handshake ─────────────────────────────▶ Found
//!               └─failed or timed out──▶ Connect(c2) with the next address ... ──▶ Failed
//! ```
//!
//! Every I/O request names the connection it is for, so a driver keeps sockets by id. Only one
//! attempt is in flight today; the outputs already allow several (fast fallback), since each
//! carries its own id and an abandoned attempt is closed by id.

use std::collections::HashSet;
use std::io;

use core::net::SocketAddr;

use crate::client::Shared;
use crate::connection::{Address, ConnId, Connection, needs_health_check};
use crate::events::{EventKind, EventSink};
use crate::{Error, Now};

/// What the finder needs next.
#[derive(Debug)]
pub(crate) enum Need<'a> {
    /// Look in the pool for this address.
    Acquire(&'a Address),
    /// Check the pooled socket of this connection.
    CheckHealth(ConnId),
    /// Resolve the host.
    Resolve { host: &'a str, port: u16 },
    /// Open a TCP connection for attempt `conn`.
    Connect { conn: ConnId, addr: SocketAddr },
    /// The TLS handshake runs on this connection: write its queued bytes or read.
    Handshake,
}

/// What happened after an input.
#[derive(Debug)]
pub(crate) enum Found {
    /// Nothing decided yet.
    Pending,
    /// A connection is ready for an exchange: take it with [`Finder::take_ready`].
    Ready,
    /// No connection could be made.
    Failed(Error),
}

#[derive(Debug)]
enum State {
    Acquire,
    CheckHealth(Connection),
    Resolve,
    Connect(ConnId),
    Handshake(Connection),
    /// Found: the connection waits to be taken.
    Ready(Connection, bool),
    Done,
}

/// Finds one connection for one exchange.
#[derive(Debug)]
pub(crate) struct Finder {
    address: Address,
    state: State,
    addrs: Vec<SocketAddr>,
    next_addr: usize,
    /// Connections to close before anything else (a pooled one found dead, an abandoned
    /// attempt).
    closing: Vec<ConnId>,
    /// The latest attempt the driver was asked to connect: an attempt abandoned before that
    /// has no socket, and the driver never heard its id, so there is nothing to close.
    asked: Option<ConnId>,
}

impl Finder {
    /// Starts finding a connection to `address`; with `fresh`, the pool is skipped (a retry
    /// after a pooled connection failed).
    pub(crate) fn new(address: Address, fresh: bool) -> Finder {
        Finder {
            address,
            state: if fresh {
                State::Resolve
            } else {
                State::Acquire
            },
            addrs: Vec::new(),
            next_addr: 0,
            closing: Vec::new(),
            asked: None,
        }
    }

    /// The driver is asked to connect attempt `conn` (an [`Output::Connect`](crate::Output)).
    pub(crate) fn asked_to_connect(&mut self, conn: ConnId) {
        self.asked = Some(conn);
    }

    /// Starts the finder, emitting the events of its first state.
    pub(crate) fn start(&mut self, now: Now, shared: &Shared, events: &mut EventSink) -> Found {
        match self.state {
            State::Resolve => self.start_route(now, shared, events),
            _ => Found::Pending,
        }
    }

    /// A connection to close before anything else.
    pub(crate) fn take_closing(&mut self) -> Option<ConnId> {
        self.closing.pop()
    }

    /// The connection the finder holds (a TLS handshake in progress), for I/O.
    pub(crate) fn conn_mut(&mut self) -> Option<&mut Connection> {
        match &mut self.state {
            State::Handshake(conn) | State::CheckHealth(conn) => Some(conn),
            _ => None,
        }
    }

    /// The connection the finder holds (a TLS handshake in progress, a pooled one being
    /// checked).
    pub(crate) fn conn(&self) -> Option<&Connection> {
        match &self.state {
            State::Handshake(conn) | State::CheckHealth(conn) => Some(conn),
            _ => None,
        }
    }

    /// True while a TCP connect is in flight (the call arms the connect timeout).
    pub(crate) fn is_connecting(&self) -> bool {
        matches!(self.state, State::Connect(_))
    }

    /// What the finder needs next.
    pub(crate) fn need(&self) -> Option<Need<'_>> {
        match &self.state {
            State::Acquire => Some(Need::Acquire(&self.address)),
            State::CheckHealth(conn) => Some(Need::CheckHealth(conn.id())),
            State::Resolve => Some(Need::Resolve {
                host: self.address.host(),
                port: self.address.port(),
            }),
            State::Connect(conn) => Some(Need::Connect {
                conn: *conn,
                addr: self.addrs[self.next_addr],
            }),
            State::Handshake(_) => Some(Need::Handshake),
            State::Ready(..) | State::Done => None,
        }
    }

    /// The pool's answer: an idle connection to the address, or none.
    pub(crate) fn on_acquired(
        &mut self,
        now: Now,
        pooled: Option<Connection>,
        shared: &Shared,
        events: &mut EventSink,
    ) -> Found {
        if !matches!(self.state, State::Acquire) {
            return Found::Pending;
        }
        match pooled {
            Some(conn) if *conn.address() != self.address => {
                // Not for us: close it rather than lose track of its socket.
                self.closing.push(conn.id());
                self.start_route(now, shared, events)
            }
            Some(conn) => {
                if needs_health_check(now.mono, &conn) {
                    self.state = State::CheckHealth(conn);
                    Found::Pending
                } else {
                    self.found_pooled(now, conn, events)
                }
            }
            None => self.start_route(now, shared, events),
        }
    }

    fn found_pooled(&mut self, now: Now, conn: Connection, events: &mut EventSink) -> Found {
        let id = conn.id();
        events.emit(now.mono, || EventKind::ConnectionAcquired {
            conn: id,
            reused: true,
        });
        self.state = State::Ready(conn, true);
        Found::Ready
    }

    /// The driver's health check of a pooled connection.
    pub(crate) fn on_health(
        &mut self,
        now: Now,
        conn: ConnId,
        healthy: bool,
        events: &mut EventSink,
    ) -> Found {
        let State::CheckHealth(pooled) = &self.state else {
            return Found::Pending;
        };
        if pooled.id() != conn {
            return Found::Pending;
        }
        let State::CheckHealth(pooled) = std::mem::replace(&mut self.state, State::Acquire) else {
            return Found::Pending;
        };
        if healthy {
            self.found_pooled(now, pooled, events)
        } else {
            self.closing.push(pooled.id());
            Found::Pending
        }
    }

    fn start_route(&mut self, now: Now, shared: &Shared, events: &mut EventSink) -> Found {
        self.next_addr = 0;
        match self.address.ip() {
            Some(ip) => {
                self.addrs = vec![SocketAddr::new(ip, self.address.port())];
                self.connect_next(now, shared, events);
                Found::Pending
            }
            None => {
                let host = &self.address;
                events.emit(now.mono, || EventKind::DnsStart {
                    host: host.host().to_owned(),
                });
                self.state = State::Resolve;
                Found::Pending
            }
        }
    }

    /// Starts an attempt on the current address.
    fn connect_next(&mut self, now: Now, shared: &Shared, events: &mut EventSink) {
        let id = shared.next_conn_id();
        let addr = self.addrs[self.next_addr];
        events.emit(now.mono, || EventKind::ConnectStart { addr });
        self.state = State::Connect(id);
    }

    /// The resolver's answer.
    pub(crate) fn on_resolved(
        &mut self,
        now: Now,
        result: io::Result<Vec<SocketAddr>>,
        shared: &Shared,
        events: &mut EventSink,
    ) -> Found {
        if !matches!(self.state, State::Resolve) {
            return Found::Pending;
        }
        match result {
            Ok(mut addrs) if !addrs.is_empty() => {
                let mut seen = HashSet::new();
                addrs.retain(|a| seen.insert(*a));
                let host = &self.address;
                events.emit(now.mono, || EventKind::DnsEnd {
                    host: host.host().to_owned(),
                    addrs: addrs.clone(),
                });
                self.addrs = addrs;
                self.next_addr = 0;
                self.connect_next(now, shared, events);
                Found::Pending
            }
            Ok(_) => self.fail(Error::dns(self.address.host(), None)),
            Err(e) => {
                let e = Error::dns(self.address.host(), Some(e));
                self.fail(e)
            }
        }
    }

    fn fail(&mut self, error: Error) -> Found {
        self.state = State::Done;
        Found::Failed(error)
    }

    /// The TCP connect of attempt `conn` finished.
    pub(crate) fn on_connected(
        &mut self,
        now: Now,
        conn: ConnId,
        result: io::Result<()>,
        shared: &Shared,
        events: &mut EventSink,
    ) -> Found {
        if !matches!(self.state, State::Connect(c) if c == conn) {
            return Found::Pending;
        }
        let config = &shared.config;
        let addr = self.addrs[self.next_addr];
        match result {
            Ok(()) => {
                events.emit(now.mono, || EventKind::ConnectEnd { addr });
                let mut connection = Connection::new(conn, self.address.clone(), addr);
                events.emit(now.mono, || EventKind::ConnectionAcquired {
                    conn,
                    reused: false,
                });
                if self.address.is_tls() {
                    events.emit(now.mono, || EventKind::SecureConnectStart);
                    if let Err(e) = connection.start_tls(config.tls_for_connection(now.wall)) {
                        self.closing.push(conn);
                        return self.fail(e);
                    }
                    self.state = State::Handshake(connection);
                    Found::Pending
                } else {
                    self.state = State::Ready(connection, false);
                    Found::Ready
                }
            }
            Err(e) => {
                let error = Error::connect(format!("failed to connect to {addr}: {e}"), Some(e));
                // The attempt is over: the driver holds no socket for it.
                self.attempt_over(now, error, shared, events)
            }
        }
    }

    /// The connect attempt in flight did not finish in time: it is abandoned (the driver closes
    /// whatever it started), and the next address is tried, or the finder fails with `error`.
    pub(crate) fn connect_failed(
        &mut self,
        now: Now,
        error: Error,
        shared: &Shared,
        events: &mut EventSink,
    ) -> Found {
        let State::Connect(conn) = self.state else {
            return Found::Pending;
        };
        self.closing.push(conn);
        self.attempt_over(now, error, shared, events)
    }

    /// The attempt in flight is over with `error`: the next address, or failure.
    fn attempt_over(
        &mut self,
        now: Now,
        error: Error,
        shared: &Shared,
        events: &mut EventSink,
    ) -> Found {
        let addr = self.addrs[self.next_addr];
        let reported = error.clone();
        events.emit(now.mono, || EventKind::ConnectFailed {
            addr,
            error: reported,
        });
        if self.next_addr + 1 < self.addrs.len() {
            self.next_addr += 1;
            self.connect_next(now, shared, events);
            Found::Pending
        } else {
            self.fail(error)
        }
    }

    /// Bytes arrived during the TLS handshake (fed to the connection already): done yet?
    pub(crate) fn on_handshake_progress(&mut self, now: Now, events: &mut EventSink) -> Found {
        let State::Handshake(conn) = &self.state else {
            return Found::Pending;
        };
        if conn.is_handshaking() {
            if conn.is_eof() {
                let id = conn.id();
                self.closing.push(id);
                let host = self.address.host().to_owned();
                return self.fail(Error::tls(
                    rustls::Error::General(
                        "the server closed the connection during the TLS handshake".into(),
                    ),
                    &host,
                ));
            }
            return Found::Pending;
        }
        // The client's last handshake flight may still wait to be written: the exchange queues
        // its head behind it, so the request goes out in the same write.
        let State::Handshake(mut conn) = std::mem::replace(&mut self.state, State::Done) else {
            return Found::Pending;
        };
        conn.finish_handshake();
        if let Some(n) = conn.negotiated() {
            events.emit(now.mono, || EventKind::SecureConnectEnd {
                version: n.version,
                cipher_suite: n.cipher_suite,
                alpn: n.alpn,
            });
        }
        self.state = State::Ready(conn, false);
        Found::Ready
    }

    /// The connection found, and whether it came from the pool.
    pub(crate) fn take_ready(&mut self) -> Option<(Connection, bool)> {
        match std::mem::replace(&mut self.state, State::Done) {
            State::Ready(conn, reused) => Some((conn, reused)),
            other => {
                self.state = other;
                None
            }
        }
    }

    /// The connection being handshaken, or the pooled one being checked, failed: give it up.
    pub(crate) fn abandon(&mut self) -> Option<Connection> {
        match std::mem::replace(&mut self.state, State::Done) {
            State::Handshake(conn) | State::CheckHealth(conn) | State::Ready(conn, _) => Some(conn),
            State::Connect(conn) => {
                if self.asked == Some(conn) {
                    self.closing.push(conn);
                }
                None
            }
            _ => None,
        }
    }
}
