//! The connect link: binds a connection to the request, the call's own when it can keep it,
//! else one the [`Finder`](crate::connection::finder::Finder) finds (a pooled one, or a new
//! one over the next route).

use super::Call;
use super::State;
use super::chain::Baton;
use crate::connection::finder::{Finder, PoolProbe};
use crate::connection::{Address, Connection};
use crate::events::EventKind;
use crate::exchange::Outgoing;

impl Call {
    /// The connect link: binds a connection to `request`, reusing the call's own when it can.
    pub(super) fn connect(&mut self, request: Outgoing) -> Option<Baton> {
        let config = &self.shared.config;
        let address = Address::from_url(request.url());
        // Only a TLS address keys on the TLS settings: a plain one takes no count of them.
        let address = if address.is_tls() {
            address.with_tls_identity(config.tls_identity().clone())
        } else {
            address
        }
        .with_dns_identity(config.routing.dns_identity);
        // Proxy selection runs only for a client with a proxy selector: a direct call asks
        // nothing and allocates nothing for it. The first proxy is part of the pool key.
        let proxies = config.routing.proxies_for(request.url());
        let address = match proxies.first() {
            Some(first) => address.with_proxy(first.clone()),
            None => address,
        };
        if !config.allows_scheme(address.is_tls()) {
            return self.scheme_refused(address.is_tls());
        }
        if let Some(conn) = self.conn.take() {
            if *conn.address() == address && conn.is_clean() && !self.fresh_connection {
                // The call keeps the connection it already holds: acquired once, released once
                // (OkHttp emits nothing for a follow-up on the call's own connection).
                self.conn = Some(conn);
                self.conn_reused = true;
                self.chain.pos += 1;
                return Some(Baton::Down(request));
            }
            self.let_go(conn, true);
        }
        if !self.fresh_connection {
            // The pool first, without a finder: most calls find their connection there.
            self.probe = Some(PoolProbe::new(address, proxies));
            self.state = State::Finding(request);
            return None;
        }
        // A retry on a fresh connection skips the pool. Built where the call keeps it: a
        // finder is 280 bytes.
        let finder = self.finder.insert(Finder::new(address, proxies, true));
        self.fresh_connection = false;
        let found = finder.start(self.now, &self.shared, &mut self.events);
        self.state = State::Finding(request);
        self.on_found(found)
    }

    /// The pool's answer to the call's [`PoolProbe`]: a connection to use as it is binds at
    /// once; any other answer goes to a finder, which goes on from it.
    pub(super) fn probe_answered(&mut self, probe: PoolProbe, pooled: Option<Connection>) {
        match probe.take_pooled(self.now, pooled, &mut self.events) {
            Ok(conn) => {
                if let Some(baton) = self.bind_found(conn, true) {
                    self.run(baton);
                }
            }
            Err(pooled) => {
                let finder = self.finder.insert(probe.into_finder());
                let found = finder.on_acquired(self.now, pooled, &self.shared, &mut self.events);
                self.resume_found(found);
            }
        }
    }

    /// The connection specs forbid the scheme (OkHttp's UnknownServiceException): no
    /// connection is made, and a connection held from an earlier hop goes back. Out of line, so
    /// that its code is not among the lines every call runs through.
    #[cold]
    #[inline(never)]
    fn scheme_refused(&mut self, tls: bool) -> Option<Baton> {
        let why = if tls {
            "https is not enabled for this client: its connection specs have no TLS spec"
        } else {
            "CLEARTEXT communication not enabled for client: its connection specs have no \
             CLEARTEXT spec"
        };
        if let Some(conn) = self.conn.take() {
            self.let_go(conn, true);
        }
        self.attempt = Default::default();
        let error = crate::Error::invalid_input(why).with_phase(crate::Phase::Connect);
        Some(Baton::Up(Err(error)))
    }

    /// Lets go of a connection the call no longer needs: back to the pool when `reusable` and
    /// clean, else closed.
    pub(super) fn let_go(&mut self, conn: crate::connection::Connection, reusable: bool) {
        let pooled = reusable && conn.is_clean();
        let id = conn.id();
        self.events
            .emit(self.now.mono, || EventKind::ConnectionReleased {
                conn: id,
                pooled,
            });
        if pooled {
            match self.releasing {
                None => self.releasing = Some(conn),
                Some(_) => self.releasing_more.push(conn),
            }
        } else {
            self.closing.push(id);
            conn.recycle(&self.shared.buffers);
        }
    }

    /// What the finder's latest input produced.
    pub(super) fn on_found(&mut self, found: crate::connection::finder::Found) -> Option<Baton> {
        use crate::connection::finder::Found;
        match found {
            Found::Pending => None,
            Found::Ready => {
                self.io = None;
                // Emptied in place, then dropped there (not moved out: 280 bytes).
                let finder = self.finder.as_mut()?;
                while let Some(id) = finder.take_closing() {
                    self.closing.push(id);
                }
                let ready = finder.take_ready();
                self.finder = None;
                let (conn, reused) = ready?;
                self.bind_found(conn, reused)
            }
            Found::Failed(error) => {
                self.io = None;
                if let Some(mut finder) = self.finder.take() {
                    while let Some(id) = finder.take_closing() {
                        self.closing.push(id);
                    }
                }
                self.state = State::Running;
                self.attempt = Default::default();
                Some(Baton::Up(Err(error.with_phase(crate::Phase::Connect))))
            }
        }
    }

    /// The connection found is the call's: the request goes on down the chain with it.
    fn bind_found(&mut self, conn: Connection, reused: bool) -> Option<Baton> {
        self.io = None;
        self.conn = Some(conn);
        self.conn_reused = reused;
        let State::Finding(request) = std::mem::replace(&mut self.state, State::Running) else {
            return None;
        };
        self.chain.pos += 1;
        Some(Baton::Down(request))
    }

    /// Resumes the chain after the finder's input (called by the I/O handlers).
    pub(super) fn resume_found(&mut self, found: crate::connection::finder::Found) {
        if let Some(baton) = self.on_found(found) {
            self.run(baton);
        }
    }
}
