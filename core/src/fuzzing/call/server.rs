//! The fuzzed origin: what each connection's server sends, and when.

use super::RESPONSE_SEPARATOR;
use super::setup::split;

/// A socket the fuzzed driver hands out: an index into [`Sim::sockets`].
#[derive(Debug)]
pub(super) struct Socket(pub(super) usize);

/// The server's side of one connection: it sends its first response at once (so it may answer
/// early, or send garbage to a TLS handshake), and each later one once the client has written
/// the request line of the request it answers.
#[derive(Debug)]
pub(super) struct Server<'a> {
    /// What it sent so far.
    pub(super) sent: Vec<u8>,
    /// How much of it the client has read.
    pub(super) read: usize,
    /// The responses it sends once asked.
    pub(super) later: std::collections::VecDeque<&'a [u8]>,
    /// The end of what the client wrote, for a request line cut between two writes.
    pub(super) tail: Vec<u8>,
    /// The first request arrived (its response was sent at once).
    pub(super) answered_first: bool,
    /// It closed (the rest is lost) or reset the connection.
    pub(super) closed: bool,
}

/// The end of a request line: how the server counts requests.
pub(super) const REQUEST_LINE_END: &[u8] = b" HTTP/1.1\r\n";

impl<'a> Server<'a> {
    pub(super) fn new(part: &'a [u8]) -> Server<'a> {
        let mut later: std::collections::VecDeque<&[u8]> = split(part, RESPONSE_SEPARATOR).into();
        let sent = later.pop_front().unwrap_or_default().to_vec();
        Server {
            sent,
            read: 0,
            later,
            tail: Vec::new(),
            answered_first: false,
            closed: false,
        }
    }

    pub(super) fn unread(&self) -> &[u8] {
        if self.closed {
            &[]
        } else {
            &self.sent[self.read..]
        }
    }

    /// Nothing to read now, but a response waits for a request the client has not written.
    pub(super) fn waits_for_request(&self) -> bool {
        !self.closed && self.unread().is_empty() && !self.later.is_empty()
    }

    /// The client wrote `bytes`: each request line in them releases the next response.
    pub(super) fn received(&mut self, bytes: &[u8]) {
        self.tail.extend_from_slice(bytes);
        let lines = self
            .tail
            .windows(REQUEST_LINE_END.len())
            .filter(|w| *w == REQUEST_LINE_END)
            .count();
        // The first request's response went out at once.
        for _ in 0..lines {
            if self.answered_first {
                if let Some(next) = self.later.pop_front() {
                    self.sent.extend_from_slice(next);
                }
            }
            self.answered_first = true;
        }
        let keep = self.tail.len().min(REQUEST_LINE_END.len() - 1);
        self.tail.drain(..self.tail.len() - keep);
    }
}
