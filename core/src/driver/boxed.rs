//! A call's driver on the heap, in a box its thread hands from one call to the next.
//!
//! A runtime's response body owns its call's driver, which is a couple of KiB. Kept inline, the
//! driver makes every response (and every future that produces one) that large, and each move
//! of either copies all of it, several times per request; boxed, it would cost an allocation
//! per call. [`DriverBox`] boxes it, and when the call is over the empty box goes to its
//! thread's spare slot, where the next call on that thread finds it: a response moves as a
//! pointer, and a keep-alive request allocates nothing for its driver.
//!
//! The slot holds one box of any driver type (a thread runs calls of one runtime, as a rule);
//! a box of another type simply replaces it. An empty box holds no driver, so nothing of a
//! finished call (its client, its connections) outlives it there.

use std::any::Any;
use std::cell::Cell;

use super::{Driver, Transport};
use crate::{Config, PreparedCall};

thread_local! {
    /// The last finished call's box, empty, for the next call on this thread.
    static SPARE: Cell<Option<Box<dyn Any>>> = const { Cell::new(None) };
}

/// A driver in a box reused across calls (see the module documentation). It derefs to the
/// driver.
///
/// ```
/// use wayfarer_core::driver::{Driver, DriverBox, Transport};
///
/// fn finish<T: Transport + 'static>(driver: Driver<T>) {
///     let mut boxed = DriverBox::new(driver);
///     boxed.settle(); // a method of the driver
///     drop(boxed); // the driver is dropped; its box waits for the thread's next call
/// }
/// ```
pub struct DriverBox<T: Transport + 'static>(Option<Box<Option<Driver<T>>>>);

impl<T: Transport + 'static> DriverBox<T> {
    /// Starts a [`prepared`](crate::Client::prepare_call) call in a driver over `transport`,
    /// in this thread's spare box when it has one of this type: what [`Driver::start`] and
    /// [`new`](Self::new) do, with the call built inside the driver and started once the driver
    /// is in the box (a driver is about 2 KiB, and each move copies it).
    #[inline]
    pub fn start(call: PreparedCall, transport: T, config: &Config) -> DriverBox<T> {
        let mut boxed = DriverBox::new(Driver::prepared(call, transport, config));
        boxed.call.begin();
        boxed
    }

    /// Boxes `driver`, in this thread's spare box when it has one of this type.
    #[inline]
    pub fn new(driver: Driver<T>) -> DriverBox<T> {
        let spare = SPARE
            .try_with(Cell::take)
            .ok()
            .flatten()
            .and_then(|spare| spare.downcast::<Option<Driver<T>>>().ok());
        let mut slot = spare.unwrap_or_else(|| Box::new(None));
        *slot = Some(driver);
        DriverBox(Some(slot))
    }

    /// The driver, out of its box (whose allocation goes to the spare slot).
    pub fn into_inner(mut self) -> Driver<T> {
        match self.0.as_deref_mut().and_then(Option::take) {
            Some(driver) => driver,
            None => unreachable!("a DriverBox holds its driver until it is dropped"),
        }
    }
}

impl<T: Transport + 'static> std::ops::Deref for DriverBox<T> {
    type Target = Driver<T>;

    fn deref(&self) -> &Driver<T> {
        match self.0.as_deref() {
            Some(Some(driver)) => driver,
            // Only `into_inner` and `drop` empty the box, and both consume it.
            _ => unreachable!("a DriverBox holds its driver until it is dropped"),
        }
    }
}

impl<T: Transport + 'static> std::ops::DerefMut for DriverBox<T> {
    fn deref_mut(&mut self) -> &mut Driver<T> {
        match self.0.as_deref_mut() {
            Some(Some(driver)) => driver,
            _ => unreachable!("a DriverBox holds its driver until it is dropped"),
        }
    }
}

impl<T: Transport + 'static> Drop for DriverBox<T> {
    fn drop(&mut self) {
        let Some(mut slot) = self.0.take() else {
            return;
        };
        // The driver goes first, in place (no copy out), then the empty box to the spare slot.
        *slot = None;
        // During the thread's own teardown the slot may be gone: then the box is just freed.
        let _ = SPARE.try_with(|spare| spare.set(Some(slot)));
    }
}

impl<T: Transport + 'static> std::fmt::Debug for DriverBox<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0.as_deref() {
            Some(Some(driver)) => driver.fmt(f),
            _ => f.write_str("DriverBox(empty)"),
        }
    }
}
