//! What a call asks of its driver, and what reading its body returns.

use core::net::SocketAddr;

use crate::connection::{Address, ConnId, Connection};
use crate::interceptor::InterceptorId;
use crate::{Body, Error, Event, Instant, Request, Response};

/// What the call needs the driver to do next. See [`Call`](crate::Call) for the contract.
#[derive(Debug)]
pub enum Output<'a> {
    /// Hand this event to the call's listener.
    Event(Event),
    /// Look in the pool for an idle connection to this address; answer with
    /// [`Call::handle_acquired`](crate::Call::handle_acquired), keeping its socket under the
    /// connection's id.
    Acquire {
        /// The address (the pool key).
        address: &'a Address,
    },
    /// Check, without blocking, that this pooled connection's socket is still open and has no
    /// unread bytes; answer with [`Call::handle_health`](crate::Call::handle_health).
    CheckHealth {
        /// The connection.
        conn: ConnId,
    },
    /// Resolve `host`; answer with [`Call::handle_resolved`](crate::Call::handle_resolved).
    Resolve {
        /// The host name.
        host: &'a str,
        /// The port to put in the resolved addresses.
        port: u16,
    },
    /// Open a TCP connection to `addr` and keep its socket as `conn`; answer with
    /// [`Call::handle_connected`](crate::Call::handle_connected).
    Connect {
        /// The id the socket is known by from now on.
        conn: ConnId,
        /// Where to connect.
        addr: SocketAddr,
        /// Call [`Call::handle_timeout`](crate::Call::handle_timeout) if the connect has not
        /// finished by then.
        deadline: Option<Instant>,
    },
    /// Write (a prefix of) these bytes to `conn`'s socket; answer with
    /// [`Call::handle_transmitted`](crate::Call::handle_transmitted).
    Transmit {
        /// The connection.
        conn: ConnId,
        /// The bytes; writing a prefix of them is fine.
        bytes: &'a [u8],
        /// Call `handle_timeout` if the socket accepts nothing by then.
        deadline: Option<Instant>,
    },
    /// Read from `conn`'s socket into this buffer; answer with
    /// [`Call::handle_received`](crate::Call::handle_received) (0 bytes = EOF).
    Receive {
        /// The connection.
        conn: ConnId,
        /// Where to read to.
        buf: &'a mut [u8],
        /// Call `handle_timeout` if nothing arrives by then.
        deadline: Option<Instant>,
    },
    /// Close `conn`'s socket and forget it.
    Close {
        /// The connection.
        conn: ConnId,
    },
    /// Put this connection, with the socket kept under its id, in the pool.
    Release(Connection),
    /// Read request body bytes from `body` ([`Body::poll_read`]) into `buf`; answer with
    /// [`Call::handle_body_pulled`](crate::Call::handle_body_pulled).
    PullBody {
        /// The request body.
        body: &'a mut Body,
        /// Where to read to.
        buf: &'a mut [u8],
    },
    /// The chain reached a runtime's own interceptor (see
    /// [`InterceptorSlot::external`](crate::InterceptorSlot::external)) with this request: run
    /// it. When it proceeds, call [`Call::proceed`](crate::Call::proceed); when it returns,
    /// [`Call::handle_intercepted`](crate::Call::handle_intercepted).
    Intercept {
        /// Which interceptor.
        id: InterceptorId,
        /// The request coming down to it.
        request: Request,
    },
    /// The response (or failure) to the request that runtime interceptor `id` proceeded with:
    /// hand it back to the interceptor as the result of its `proceed`. The body, if any, is read
    /// from the call as usual.
    Proceeded {
        /// Which interceptor.
        id: InterceptorId,
        /// The response head, or the failure.
        result: Result<Response<()>, Error>,
    },
    /// The response head. Its body is read with [`Call::read_body`](crate::Call::read_body).
    Response(Response<()>),
    /// Nothing to do until the caller reads the body, answers an interceptor, or
    /// [`Call::poll_timeout`](crate::Call::poll_timeout) passes.
    Idle,
    /// The call is over.
    Done,
}

/// The result of [`Call::read_body`](crate::Call::read_body).
#[derive(Debug)]
pub enum BodyRead<'a> {
    /// This many body bytes were copied into the buffer.
    Data(usize),
    /// Read at most `max` bytes from `conn`'s socket directly into the buffer, then report with
    /// [`Call::handle_direct_read`](crate::Call::handle_direct_read).
    Direct {
        /// The connection.
        conn: ConnId,
        /// The most bytes to read.
        max: usize,
    },
    /// Read from this body ([`Body::poll_read`]) into the buffer (a body an interceptor made
    /// up), then report with [`Call::handle_direct_read`](crate::Call::handle_direct_read).
    Pull(&'a mut Body),
    /// More bytes are needed: drive [`Call::poll_output`](crate::Call::poll_output) (it asks
    /// for I/O), then call again.
    Pending,
    /// The body is complete.
    End,
}
