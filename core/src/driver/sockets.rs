//! A call's sockets, by the connection ids its outputs name.

use smallvec::SmallVec;

use crate::connection::ConnId;

/// A call's sockets by connection id. A call holds one socket, two while it lets go of one and
/// sets up another, more only with several connect attempts in flight: two live inline, so the
/// common call allocates nothing for them.
pub(super) struct Sockets<S>(SmallVec<[(ConnId, S); 2]>);

impl<S> Sockets<S> {
    pub(super) fn new() -> Sockets<S> {
        Sockets(SmallVec::new())
    }

    pub(super) fn len(&self) -> usize {
        self.0.len()
    }

    pub(super) fn insert(&mut self, id: ConnId, socket: S) {
        self.0.push((id, socket));
    }

    pub(super) fn get_mut(&mut self, id: ConnId) -> Option<&mut S> {
        self.0.iter_mut().find(|(c, _)| *c == id).map(|(_, s)| s)
    }

    pub(super) fn remove(&mut self, id: ConnId) -> Option<S> {
        let i = self.0.iter().position(|(c, _)| *c == id)?;
        Some(self.0.swap_remove(i).1)
    }

    pub(super) fn pop(&mut self) -> Option<(ConnId, S)> {
        self.0.pop()
    }
}
