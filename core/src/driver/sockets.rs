//! A call's sockets, by the connection ids its outputs name.

use crate::connection::ConnId;

/// A call's sockets by connection id. A call holds one socket, two while it lets go of one and
/// sets up another, more only with several connect attempts in flight: two live inline, so the
/// common call allocates nothing for them.
pub(super) struct Sockets<S> {
    inline: [Option<(ConnId, S)>; 2],
    more: Vec<(ConnId, S)>,
}

impl<S> Sockets<S> {
    pub(super) fn new() -> Sockets<S> {
        Sockets {
            inline: [None, None],
            more: Vec::new(),
        }
    }

    pub(super) fn len(&self) -> usize {
        self.inline.iter().flatten().count() + self.more.len()
    }

    pub(super) fn insert(&mut self, id: ConnId, socket: S) {
        match self.inline.iter_mut().find(|slot| slot.is_none()) {
            Some(slot) => *slot = Some((id, socket)),
            None => self.more.push((id, socket)),
        }
    }

    pub(super) fn get_mut(&mut self, id: ConnId) -> Option<&mut S> {
        self.inline
            .iter_mut()
            .flatten()
            .chain(self.more.iter_mut())
            .find(|(c, _)| *c == id)
            .map(|(_, s)| s)
    }

    pub(super) fn remove(&mut self, id: ConnId) -> Option<S> {
        for slot in &mut self.inline {
            if slot.as_ref().is_some_and(|(c, _)| *c == id) {
                return slot.take().map(|(_, s)| s);
            }
        }
        let i = self.more.iter().position(|(c, _)| *c == id)?;
        Some(self.more.swap_remove(i).1)
    }

    pub(super) fn pop(&mut self) -> Option<(ConnId, S)> {
        self.more
            .pop()
            .or_else(|| self.inline.iter_mut().find_map(Option::take))
    }
}
