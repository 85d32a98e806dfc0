//! What a call asks of its driver, and what reading its body returns.

use core::net::SocketAddr;

use bytes::Bytes;

use crate::connection::{Address, ConnId, Connection};
use crate::interceptor::InterceptorId;
use crate::{Body, Error, Event, Instant, Request, Response};

/// What the call needs the driver to do next. See [`Call`](crate::Call) for the contract.
#[derive(Debug)]
pub enum Output<'a> {
    /// Hand this event to the call's listener. The call lends it until the next
    /// [`Call::poll_output`](crate::Call::poll_output).
    Event(&'a Event),
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
        /// This attempt's connect deadline: call
        /// [`Call::handle_timeout`](crate::Call::handle_timeout) if the connect has not
        /// finished by then. [`Call::poll_timeout`](crate::Call::poll_timeout) may be sooner
        /// (fast fallback's next attempt), while this attempt goes on.
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
        /// The bytes are part of a request the server may answer before reading it all (a 413
        /// to a large upload, often followed by no more reading). While the socket has no room,
        /// watch it for readability too, and if it turns readable first, say so with
        /// [`Call::handle_readable`](crate::Call::handle_readable) instead of answering this
        /// output. A driver that ignores this still works; it hears such an answer only once
        /// the write fails or the whole request has gone out.
        listen: bool,
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
        /// The request coming down to it (boxed: this output is rare, and every other one
        /// is a few words).
        request: Box<Request>,
    },
    /// The response (or failure) to the request that runtime interceptor `id` proceeded with:
    /// hand it back to the interceptor as the result of its `proceed`. The body, if any, is read
    /// from the call as usual.
    Proceeded {
        /// Which interceptor.
        id: InterceptorId,
        /// The response head, or the failure (boxed, as `Intercept`'s request).
        result: Box<Result<Response<()>, Error>>,
    },
    /// Perform this operation on the client's cache store (the one of
    /// [`Config::cache`](crate::Config::cache)); see [`CacheOp`] for each operation and its
    /// answer. Only a client with a cache asks for these.
    Cache(CacheOp<'a>),
    /// The response head is ready: take it with
    /// [`Call::take_response`](crate::Call::take_response) and hand it to the caller. Its body
    /// is read with [`Call::read_body`](crate::Call::read_body). The head stays in the call
    /// until taken (a response head is some 300 bytes, and every output is moved a few times
    /// on its way through a driver).
    Response,
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
    /// The response is served from the cache: read at most `max` bytes of the stored body (the
    /// body of the snapshot kept from [`CacheOp::Get`]) into the buffer, then report with
    /// [`Call::handle_direct_read`](crate::Call::handle_direct_read).
    Cached {
        /// The most bytes to read.
        max: usize,
    },
    /// The response is served from the cache and decoded on its way to the caller: read stored
    /// body bytes (as for [`BodyRead::Cached`]) into this buffer of the call's, report with
    /// [`Call::handle_direct_read`](crate::Call::handle_direct_read) (which returns 0), and
    /// call `read_body` again.
    CachedInto(&'a mut [u8]),
    /// More bytes are needed: drive [`Call::poll_output`](crate::Call::poll_output) (it asks
    /// for I/O), then call again.
    Pending,
    /// The body is complete.
    End,
}

/// An operation on the client's cache store, asked for by the call's cache link with
/// [`Output::Cache`]. The driver performs it on [`Config::cache`](crate::Config::cache)'s
/// [`store`](crate::Cache::store) and keeps, per call, the body reader of the entry it got and
/// the [`Editor`](crate::cache::store::Editor) it opened. A store error never fails the call:
/// report it where an answer is expected, and otherwise go on.
///
/// | operation | the driver MUST | then report with |
/// |---|---|---|
/// | `Get` | [`get`](crate::cache::store::CacheStore::get) the entry and keep its body reader (replacing any it kept) | [`Call::handle_cache_get`](crate::Call::handle_cache_get) |
/// | `Edit` | [`edit`](crate::cache::store::CacheStore::edit) the key, set the editor's metadata and keep it | [`Call::handle_cache_edit`](crate::Call::handle_cache_edit) |
/// | `Write` | write the bytes to the editor it keeps, if any | nothing |
/// | `Commit` | commit the editor it keeps, if any | nothing |
/// | `Abort` | abort (drop) the editor it keeps, if any | nothing |
/// | `Update` | [`update_metadata`](crate::cache::store::CacheStore::update_metadata) | nothing |
/// | `Remove` | [`remove`](crate::cache::store::CacheStore::remove) the key | nothing |
///
/// While it keeps an editor, after every read of the response body (a
/// [`BodyRead::Data`], a direct read, and also [`BodyRead::End`]), the driver writes
/// [`Call::take_tee_bytes`](crate::Call::take_tee_bytes) to it: that is the tee that stores the
/// body as it streams to the caller.
#[derive(Debug)]
pub enum CacheOp<'a> {
    /// Read the entry stored under `key`.
    Get {
        /// The store key ([`cache::key`](crate::cache::key) of the URL).
        key: &'a str,
    },
    /// Start writing a new entry for `key` with this metadata; its body follows as the caller
    /// reads it.
    Edit {
        /// The store key.
        key: &'a str,
        /// The encoded [`Entry`](crate::cache::Entry).
        metadata: &'a Bytes,
    },
    /// Write these body bytes to the entry being written (the rest of a body the call read
    /// itself, such as a redirect's it followed).
    Write {
        /// The bytes.
        bytes: &'a [u8],
    },
    /// The body was read to its end: commit the entry being written.
    Commit,
    /// The body will not be read to its end: abandon the entry being written.
    Abort,
    /// Replace the metadata of the entry under `key`, if it is still version `sequence` (a
    /// 304 refreshed it).
    Update {
        /// The store key.
        key: &'a str,
        /// The [`Snapshot::sequence`](crate::cache::store::Snapshot::sequence) that was read.
        sequence: u64,
        /// The refreshed, encoded [`Entry`](crate::cache::Entry).
        metadata: &'a [u8],
    },
    /// Remove the entry under `key` (an unsafe method invalidated it).
    Remove {
        /// The store key.
        key: &'a str,
    },
}

#[cfg(test)]
mod tests {
    use super::Output;
    use crate::driver::Step;

    /// Every output, and every driver step, is moved a few times on its way from the call to
    /// the driver and the runtime: they stay a few words, with what is large (a response head,
    /// an interceptor's request) kept in the call or boxed.
    #[test]
    fn outputs_and_steps_stay_small() {
        assert!(
            size_of::<Output<'static>>() <= 64,
            "{}",
            size_of::<Output<'static>>()
        );
        assert!(size_of::<Step>() <= 32, "{}", size_of::<Step>());
    }
}
