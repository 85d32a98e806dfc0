//! Setting up a connected socket: the proxy's handshake (a SOCKS5 greeting or an HTTP
//! `CONNECT` tunnel, with its `407` answers), then TLS, until the connection is ready for an
//! exchange. The finder's steps after the TCP connect, apart from finding the route.

use super::*;

impl Finder {
    /// The first handshake on a connected socket: the proxy's, else TLS, else none.
    pub(super) fn set_up(
        &mut self,
        now: Now,
        mut conn: Connection,
        route: &Route,
        shared: &Shared,
        events: &mut EventSink,
    ) -> Found {
        let config = &shared.config;
        match route.proxy() {
            Proxy::Socks5 { server, .. } => {
                let target = match route.origin_ip() {
                    Some(ip) => socks5::Target::Ip(ip),
                    None => socks5::Target::Name(self.address.host().to_owned()),
                };
                let port = self.address.port();
                match Socks5::new(target, port, server.credentials().cloned()) {
                    Ok((socks, greeting)) => {
                        if let Err(e) = conn.queue(&greeting) {
                            return self.setup_failed(conn, e, now, shared, events);
                        }
                        self.state = State::Setup(conn, Setup::Socks(Box::new(socks)));
                        Found::Pending
                    }
                    Err(e) => self.setup_failed(conn, e, now, shared, events),
                }
            }
            Proxy::Http(_) if route.requires_tunnel() => {
                // A tunnel lives across the connections a 407 takes to the same proxy; a route
                // through another proxy starts afresh, so no proxy sees another's credentials.
                if self
                    .tunnel
                    .as_ref()
                    .is_some_and(|t| !t.is_through(route.proxy()))
                {
                    self.tunnel = None;
                }
                let tunnel = self.tunnel.get_or_insert_with(|| {
                    Box::new(
                        Tunnel::new(
                            self.address.host(),
                            self.address.port(),
                            config.user_agent.as_deref(),
                            config.routing.proxy_authenticator_for(route.proxy()),
                        )
                        .through(route.proxy()),
                    )
                });
                if let Err(e) = conn.queue(&tunnel.request()) {
                    return self.setup_failed(conn, e, now, shared, events);
                }
                self.state = State::Setup(conn, Setup::Tunnel);
                Found::Pending
            }
            _ => self.start_tls(now, conn, shared, events),
        }
    }

    /// The TLS handshake on `conn` when the origin is `https`, else the connection is ready.
    fn start_tls(
        &mut self,
        now: Now,
        mut conn: Connection,
        shared: &Shared,
        events: &mut EventSink,
    ) -> Found {
        if !self.address.is_tls() {
            return self.established(now, conn, events);
        }
        events.emit(now.mono, || EventKind::SecureConnectStart);
        if let Err(e) = conn.start_tls(
            shared
                .config
                .tls_for_connection(now.wall, self.address.port()),
        ) {
            return self.setup_failed(conn, e, now, shared, events);
        }
        self.state = State::Setup(conn, Setup::Tls);
        Found::Pending
    }

    /// A new connection is ready for exchanges: connected, tunneled and secured as its route
    /// needs.
    fn established(&mut self, now: Now, conn: Connection, events: &mut EventSink) -> Found {
        let (id, addr) = (conn.id(), conn.peer());
        events.emit(now.mono, || EventKind::ConnectEnd { addr });
        events.emit(now.mono, || EventKind::ConnectionAcquired {
            conn: id,
            reused: false,
        });
        self.state = State::Ready(conn, false);
        Found::Ready
    }

    /// Setting up a connected socket failed (the proxy's handshake, the TLS one): the connect
    /// failed, as far as events tell, and the connection is closed. A failure of the route (see
    /// [`is_route_failure`]) marks it failed and the next one is tried (the routes the race
    /// left, then the next proxy, or a direct connection, as the selector listed them), as
    /// OkHttp recovers from a failed route; with none left, the call fails with the first
    /// route's error. Any other failure fails the call at once.
    fn setup_failed(
        &mut self,
        conn: Connection,
        error: Error,
        now: Now,
        shared: &Shared,
        events: &mut EventSink,
    ) -> Found {
        connect_failed(&conn, &error, now, events);
        self.closing.push(conn.id());
        if !is_route_failure(&error) {
            return self.fail(error);
        }
        if let Some(route) = self.route.take() {
            shared.config.routing.route_failed(&route);
        }
        self.last_error.get_or_insert(error);
        self.next_route(now, shared, events)
    }

    /// Bytes arrived during a handshake (fed to the connection already): done yet?
    pub(crate) fn on_handshake_progress(
        &mut self,
        now: Now,
        shared: &Shared,
        events: &mut EventSink,
    ) -> Found {
        let State::Setup(_, setup) = &self.state else {
            return Found::Pending;
        };
        match setup {
            Setup::Tls => self.tls_progress(now, shared, events),
            Setup::Socks(_) => self.socks_progress(now, shared, events),
            Setup::Tunnel => self.tunnel_progress(now, shared, events),
        }
    }

    fn socks_progress(&mut self, now: Now, shared: &Shared, events: &mut EventSink) -> Found {
        let State::Setup(conn, Setup::Socks(socks)) = &mut self.state else {
            return Found::Pending;
        };
        let (used, step) = match socks.on_data(conn.inbound_data()) {
            Ok(r) => r,
            Err(e) => return self.setup_error(e, now, shared, events),
        };
        conn.inbound().consume(used);
        match step {
            socks5::Step::Send(bytes) => {
                return match conn.queue(&bytes) {
                    Ok(()) => Found::Pending,
                    Err(e) => self.setup_error(e, now, shared, events),
                };
            }
            socks5::Step::Read if conn.is_eof() => {
                return self.setup_error(
                    Error::proxy("the SOCKS5 proxy closed the connection during the handshake"),
                    now,
                    shared,
                    events,
                );
            }
            socks5::Step::Read => return Found::Pending,
            socks5::Step::Done => {}
        }
        let State::Setup(conn, _) = std::mem::replace(&mut self.state, State::Done) else {
            return Found::Pending;
        };
        self.start_tls(now, conn, shared, events)
    }

    fn tunnel_progress(&mut self, now: Now, shared: &Shared, events: &mut EventSink) -> Found {
        let (State::Setup(conn, Setup::Tunnel), Some(tunnel)) = (&mut self.state, &mut self.tunnel)
        else {
            return Found::Pending;
        };
        let (used, step) = match tunnel.on_data(conn.inbound_data(), conn.is_eof()) {
            Ok(r) => r,
            Err(e) => return self.setup_error(e, now, shared, events),
        };
        conn.inbound().consume(used);
        match step {
            TunnelStep::Read => Found::Pending,
            TunnelStep::Retry {
                request,
                new_connection: false,
            } => match conn.queue(&request) {
                Ok(()) => Found::Pending,
                Err(e) => self.setup_error(e, now, shared, events),
            },
            TunnelStep::Retry {
                new_connection: true,
                ..
            } => {
                // The proxy closes this connection: the same route again, on a new one.
                let State::Setup(old, _) = std::mem::replace(&mut self.state, State::Done) else {
                    return Found::Pending;
                };
                self.closing.push(old.id());
                let Some(route) = self.route.as_deref().cloned() else {
                    return self.fail(Error::proxy("the tunnel lost its route"));
                };
                // That route alone: the routes left wait until it fails.
                self.race(Contest::lone(route), now, shared, events)
            }
            TunnelStep::Done => {
                let State::Setup(conn, _) = std::mem::replace(&mut self.state, State::Done) else {
                    return Found::Pending;
                };
                self.start_tls(now, conn, shared, events)
            }
        }
    }

    /// The handshake in progress failed with `error` (the proxy refused the `CONNECT` or the
    /// SOCKS request, or closed; the connection failed or timed out; TLS failed): see
    /// [`setup_failed`](Self::setup_failed).
    pub(crate) fn setup_error(
        &mut self,
        error: Error,
        now: Now,
        shared: &Shared,
        events: &mut EventSink,
    ) -> Found {
        match std::mem::replace(&mut self.state, State::Done) {
            State::Setup(conn, _) => self.setup_failed(conn, error, now, shared, events),
            _ => self.fail(error),
        }
    }

    fn tls_progress(&mut self, now: Now, shared: &Shared, events: &mut EventSink) -> Found {
        let State::Setup(conn, _) = &self.state else {
            return Found::Pending;
        };
        if conn.is_handshaking() {
            if conn.is_eof() {
                let host = self.address.host().to_owned();
                return self.setup_error(
                    Error::tls(
                        rustls::Error::General(
                            "the server closed the connection during the TLS handshake".into(),
                        ),
                        &host,
                    ),
                    now,
                    shared,
                    events,
                );
            }
            return Found::Pending;
        }
        // The client's last handshake flight may still wait to be written: the exchange queues
        // its head behind it, so the request goes out in the same write.
        let State::Setup(mut conn, _) = std::mem::replace(&mut self.state, State::Done) else {
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
        self.established(now, conn, events)
    }
}

/// Whether a failure to set up a connected socket is the route's, so that another route may do
/// better (OkHttp's `isRecoverable` for a request not sent yet): a proxy's refusal, an I/O
/// error, a read or write timeout, a TLS handshake that failed for another reason than the
/// server's certificate. A certificate that is untrusted, expired, for another name or not
/// matching its pins would be the same over every route, and a broken protocol, a cancel or
/// the caller's own input are not the route's doing.
fn is_route_failure(error: &Error) -> bool {
    use crate::ErrorKind;
    match error.kind() {
        ErrorKind::Proxy | ErrorKind::Io | ErrorKind::Connect => true,
        ErrorKind::Timeout => error.timeout_kind() != Some(TimeoutKind::Call),
        ErrorKind::Tls => !matches!(
            error.tls_error(),
            None | Some(
                rustls::Error::InvalidCertificate(_) | rustls::Error::NoCertificatesPresented
            )
        ),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn certificate_failures_are_not_the_routes() {
        let tls = |e: rustls::Error| Error::tls(e, "a.test");
        let cert = rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer);
        let name = rustls::Error::InvalidCertificate(rustls::CertificateError::NotValidForName);
        assert!(!is_route_failure(&tls(cert)));
        assert!(!is_route_failure(&tls(name)));
        assert!(!is_route_failure(&tls(
            rustls::Error::NoCertificatesPresented
        )));
        let alert = rustls::Error::AlertReceived(rustls::AlertDescription::HandshakeFailure);
        assert!(is_route_failure(&tls(alert)));
        let cut = rustls::Error::General("the server closed the connection".into());
        assert!(is_route_failure(&tls(cut)));
    }

    #[test]
    fn io_failures_and_socket_timeouts_are_the_routes() {
        assert!(is_route_failure(&Error::proxy("refused")));
        assert!(is_route_failure(&Error::io("reset", None)));
        assert!(is_route_failure(&Error::timeout(TimeoutKind::Read, None)));
        assert!(is_route_failure(&Error::timeout(TimeoutKind::Write, None)));
        assert!(!is_route_failure(&Error::timeout(TimeoutKind::Call, None)));
        assert!(!is_route_failure(&Error::canceled()));
        assert!(!is_route_failure(&Error::invalid_input("bad name")));
    }
}
