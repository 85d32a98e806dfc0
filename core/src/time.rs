//! Time as an input.
//!
//! The core never reads a clock. Every entry point that can change state takes a [`Now`]: the
//! driver's reading of a monotonic clock (for deadlines and pool ages) and of the wall clock (for
//! certificate validity and the response's sent/received stamps). Given the same `Now` values
//! the core makes the same decisions, so a recorded transcript replays exactly.
//!
//! The monotonic half is our own [`Instant`]: a duration since an epoch the driver picks (a
//! runtime takes `std::time::Instant::now()` when its client is built). Tests and simulations
//! start at [`Instant::ZERO`] and write times as plain numbers, with no clock anywhere.

use std::fmt;
use std::ops::{Add, AddAssign, Sub};
use std::time::{Duration, SystemTime};

/// A point on the driver's monotonic clock: the time elapsed since the driver's epoch.
///
/// Runtimes convert with [`Instant::from_std`] and [`Instant::to_std`]; simulations use
/// [`Instant::ZERO`] plus durations.
///
/// Held as whole nanoseconds (enough for 584 years after the epoch; later ones saturate) rather
/// than a `Duration`: the core compares and adds instants at every step (deadlines, idle
/// ages), and on one integer that is an instruction or two, not a carry between seconds and
/// nanoseconds.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Instant(u64);

/// `d` in nanoseconds, saturating at `u64::MAX`.
const fn nanos(d: Duration) -> u64 {
    let n = d.as_nanos();
    if n > u64::MAX as u128 {
        u64::MAX
    } else {
        n as u64
    }
}

impl Instant {
    /// The epoch itself.
    pub const ZERO: Instant = Instant(0);

    /// The instant `since_epoch` after the epoch.
    pub const fn from_epoch(since_epoch: Duration) -> Instant {
        Instant(nanos(since_epoch))
    }

    /// How long after the epoch this instant is.
    pub const fn since_epoch(self) -> Duration {
        Duration::from_nanos(self.0)
    }

    /// Converts a reading of the standard clock, given the driver's epoch. Readings before the
    /// epoch clamp to [`Instant::ZERO`].
    pub fn from_std(epoch: std::time::Instant, at: std::time::Instant) -> Instant {
        Instant::from_epoch(at.saturating_duration_since(epoch))
    }

    /// The standard-clock instant this corresponds to, given the driver's epoch (runtimes use it
    /// to arm their timers).
    pub fn to_std(self, epoch: std::time::Instant) -> std::time::Instant {
        epoch + self.since_epoch()
    }

    /// Time from `earlier` to `self`, or zero if `earlier` is later.
    pub fn saturating_duration_since(self, earlier: Instant) -> Duration {
        Duration::from_nanos(self.0.saturating_sub(earlier.0))
    }
}

impl Add<Duration> for Instant {
    type Output = Instant;
    fn add(self, rhs: Duration) -> Instant {
        Instant(self.0.saturating_add(nanos(rhs)))
    }
}

impl AddAssign<Duration> for Instant {
    fn add_assign(&mut self, rhs: Duration) {
        *self = *self + rhs;
    }
}

impl Sub<Instant> for Instant {
    type Output = Duration;
    /// Saturating: an earlier minus a later instant is zero, never a panic.
    fn sub(self, rhs: Instant) -> Duration {
        self.saturating_duration_since(rhs)
    }
}

impl fmt::Debug for Instant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "t+{:?}", self.since_epoch())
    }
}

/// The current time, as read by the driver.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Now {
    /// Monotonic time: deadlines and idle ages are measured against it.
    pub mono: Instant,
    /// Wall-clock time: certificate validity, `Response::sent_at` / `received_at`.
    pub wall: SystemTime,
}

impl Now {
    /// Pairs a monotonic and a wall-clock reading.
    pub fn new(mono: Instant, wall: SystemTime) -> Self {
        Now { mono, wall }
    }

    /// The time at the monotonic reading `mono`, with the wall clock moved on by as much as the
    /// monotonic one since `self` (not at all if `mono` is earlier).
    ///
    /// Wall time matters only for certificate checks and response stamps, so a driver can read
    /// both clocks once when a call starts and only the monotonic one after that: half the
    /// clock reads, and the stamps of one call stay consistent with its deadlines.
    ///
    /// ```
    /// use std::time::{Duration, SystemTime};
    /// use wayfarer_core::{Instant, Now};
    ///
    /// let start = Now::new(Instant::ZERO, SystemTime::UNIX_EPOCH);
    /// let later = start.later(Instant::from_epoch(Duration::from_millis(250)));
    /// assert_eq!(later.wall, SystemTime::UNIX_EPOCH + Duration::from_millis(250));
    /// ```
    #[must_use]
    pub fn later(self, mono: Instant) -> Self {
        Now {
            mono,
            wall: self.wall + (mono - self.mono),
        }
    }

    /// This time plus `by`, on both clocks. Simulations use it to move virtual time forward.
    #[must_use]
    pub fn advanced(self, by: Duration) -> Self {
        Now {
            mono: self.mono + by,
            wall: self.wall + by,
        }
    }
}

/// The earlier of two optional deadlines (`None` means "no deadline").
pub(crate) fn earliest(a: Option<Instant>, b: Option<Instant>) -> Option<Instant> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, None) => a,
        (None, b) => b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(ms: u64) -> Instant {
        Instant::from_epoch(Duration::from_millis(ms))
    }

    #[test]
    fn earliest_prefers_the_sooner_deadline_and_ignores_none() {
        assert_eq!(earliest(Some(at(1)), Some(at(2))), Some(at(1)));
        assert_eq!(earliest(Some(at(2)), Some(at(1))), Some(at(1)));
        assert_eq!(earliest(None, Some(at(1))), Some(at(1)));
        assert_eq!(earliest(Some(at(1)), None), Some(at(1)));
        assert_eq!(earliest(None, None), None);
    }

    #[test]
    fn arithmetic_saturates_instead_of_panicking() {
        assert_eq!(at(5) - at(2), Duration::from_millis(3));
        assert_eq!(at(2) - at(5), Duration::ZERO);
        assert_eq!(at(2) + Duration::from_millis(3), at(5));
    }

    #[test]
    fn instants_keep_nanoseconds_and_saturate_far_out() {
        let t = Instant::from_epoch(Duration::new(3, 7));
        assert_eq!(t.since_epoch(), Duration::new(3, 7));
        assert_eq!(
            t + Duration::from_nanos(1),
            Instant::from_epoch(Duration::new(3, 8))
        );
        let far = Instant::from_epoch(Duration::MAX);
        assert_eq!(far + Duration::from_secs(1), far);
        assert!(far > t);
        assert_eq!(Instant::ZERO + Duration::MAX, far);
    }

    #[test]
    fn advanced_moves_both_clocks() {
        let now = Now::new(Instant::ZERO, SystemTime::UNIX_EPOCH);
        let later = now.advanced(Duration::from_millis(1500));
        assert_eq!(later.mono, at(1500));
        assert_eq!(
            later.wall.duration_since(SystemTime::UNIX_EPOCH).unwrap(),
            Duration::from_millis(1500)
        );
    }
}
