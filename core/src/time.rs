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
use std::sync::atomic::{AtomicU64, Ordering};
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

/// The wall clock as a runtime's calls read it: derived from the monotonic clock, with the
/// offset between the two read afresh at most [`WallClock::REFRESH`] apart.
///
/// Every call starts at a [`Now`], and reading the wall clock for it costs a clock read (tens
/// of nanoseconds on a virtual machine) per call; the monotonic reading is taken anyway. Wall
/// time serves certificate validity, cookie expiry, cache ages and response stamps, all in
/// seconds, and within a second the two clocks move together unless the wall clock is set, which
/// the next refresh then catches. The core reads no clock itself: the runtime passes its
/// monotonic reading and a way to read the wall clock when a refresh is due.
///
/// ```
/// use std::time::{Duration, SystemTime};
/// use wayfarer_core::{Instant, WallClock};
///
/// let clock = WallClock::new();
/// let start = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000);
/// let first = clock.now(Instant::ZERO, || start);
/// assert_eq!(first.wall, start);
/// // Half a second on the monotonic clock: no wall-clock read, the same distance on both.
/// let later = clock.now(Instant::from_epoch(Duration::from_millis(500)), || unreachable!());
/// assert_eq!(later.wall, start + Duration::from_millis(500));
/// ```
#[derive(Debug)]
pub struct WallClock {
    /// Wall-clock nanoseconds since the Unix epoch minus monotonic nanoseconds, wrapping, as
    /// of the last refresh.
    offset: AtomicU64,
    /// The monotonic nanoseconds of the last refresh; `u64::MAX` before the first.
    refreshed: AtomicU64,
}

impl Default for WallClock {
    fn default() -> Self {
        WallClock::new()
    }
}

impl WallClock {
    /// How long a reading of the wall clock stands, measured on the monotonic clock.
    pub const REFRESH: Duration = Duration::from_secs(1);

    /// A clock that reads the wall clock on its first use.
    pub const fn new() -> WallClock {
        WallClock {
            offset: AtomicU64::new(0),
            refreshed: AtomicU64::new(u64::MAX),
        }
    }

    /// Both clocks at the monotonic reading `mono`: the wall clock derived from it, or read
    /// with `read_wall` when the last reading is older than [`REFRESH`](Self::REFRESH) (or
    /// newer than `mono`, as another thread's may be).
    ///
    /// The two halves are separate atomics, loaded and stored plainly (no read-modify-write):
    /// a reader that sees one thread's refresh time with another's offset is off by how far
    /// the clocks drifted apart within a second.
    pub fn now(&self, mono: Instant, read_wall: impl FnOnce() -> SystemTime) -> Now {
        let refreshed = self.refreshed.load(Ordering::Relaxed);
        if refreshed != u64::MAX && mono.0 >= refreshed && mono.0 - refreshed < nanos(Self::REFRESH)
        {
            let wall = mono.0.wrapping_add(self.offset.load(Ordering::Relaxed));
            return Now::new(mono, SystemTime::UNIX_EPOCH + Duration::from_nanos(wall));
        }
        let wall = read_wall();
        // A wall clock before 1970 (or past 2554) is used as read, and not kept.
        if let Ok(since) = wall.duration_since(SystemTime::UNIX_EPOCH) {
            if let Ok(since) = u64::try_from(since.as_nanos()) {
                self.offset
                    .store(since.wrapping_sub(mono.0), Ordering::Relaxed);
                self.refreshed.store(mono.0, Ordering::Relaxed);
            }
        }
        Now::new(mono, wall)
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
    fn the_wall_clock_is_read_again_once_a_reading_is_a_second_old() {
        let clock = WallClock::new();
        let wall = |secs: u64| SystemTime::UNIX_EPOCH + Duration::from_secs(secs);
        let reads = std::cell::Cell::new(0);
        let read = |secs: u64| {
            reads.set(reads.get() + 1);
            wall(secs)
        };
        let ns = |ms: u64| Instant::from_epoch(Duration::from_millis(ms));
        assert_eq!(clock.now(ns(10_000), || read(500)).wall, wall(500));
        assert_eq!(
            clock.now(ns(10_999), || read(0)).wall,
            wall(500) + Duration::from_millis(999)
        );
        assert_eq!(reads.get(), 1, "a reading stands for a second");
        // A second later the wall clock is read again, and a jump it made is seen.
        assert_eq!(clock.now(ns(11_000), || read(9_000)).wall, wall(9_000));
        assert_eq!(
            clock.now(ns(11_250), || read(0)).wall,
            wall(9_000) + Duration::from_millis(250)
        );
        // A reading taken later than `mono` (another thread's) does not stand for it.
        assert_eq!(clock.now(ns(10_500), || read(42)).wall, wall(42));
        assert_eq!(reads.get(), 3);
        // A wall clock before 1970 is used as read and not kept.
        let early = SystemTime::UNIX_EPOCH - Duration::from_secs(5);
        let fresh = WallClock::new();
        assert_eq!(fresh.now(ns(0), || early).wall, early);
        assert_eq!(fresh.now(ns(1), || wall(7)).wall, wall(7));
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
