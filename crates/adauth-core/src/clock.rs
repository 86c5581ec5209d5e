use std::fmt;
use std::sync::Arc;
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

/// A source of wall-clock time.
///
/// Token expiry is an absolute wall-clock instant, so that it can be stored and compared
/// across processes. Everything in adauth that reads the time reads it through a `Clock`,
/// so tests can move time by hand with [`ManualClock`].
pub trait Clock: Send + Sync + fmt::Debug + 'static {
    /// The current time.
    fn now(&self) -> SystemTime;
}

/// The system's wall clock.
///
/// On Linux it reads `CLOCK_REALTIME_COARSE`, which is updated every few milliseconds and
/// costs a fraction of a precise read; it never runs ahead of the precise clock, so a token's
/// issue time is stamped a little early, never late. Elsewhere it is [`SystemTime::now`].
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    #[inline]
    fn now(&self) -> SystemTime {
        coarse_now()
    }
}

#[cfg(target_os = "linux")]
#[inline]
fn coarse_now() -> SystemTime {
    let Some((secs, nanos)) = coarse_reading() else {
        return SystemTime::now();
    };
    match (u64::try_from(secs), u32::try_from(nanos)) {
        (Ok(secs), Ok(nanos)) if nanos < 1_000_000_000 => SystemTime::UNIX_EPOCH
            .checked_add(Duration::new(secs, nanos))
            .unwrap_or_else(SystemTime::now),
        _ => SystemTime::now(),
    }
}

#[cfg(not(target_os = "linux"))]
#[inline]
fn coarse_now() -> SystemTime {
    SystemTime::now()
}

/// `t` in nanoseconds since the Unix epoch, negative before it, saturating at the ends of
/// `i64` (the year 2262).
pub(crate) fn unix_nanos(t: SystemTime) -> i64 {
    match t.duration_since(SystemTime::UNIX_EPOCH) {
        Ok(after) => i64::try_from(after.as_nanos()).unwrap_or(i64::MAX),
        Err(before) => i64::try_from(before.duration().as_nanos()).map_or(i64::MIN, |n| -n),
    }
}

/// [`SystemClock`]'s reading as [`unix_nanos`] gives it, read without building a
/// `SystemTime`: the cached path's clock.
#[cfg(target_os = "linux")]
#[inline]
pub(crate) fn system_unix_nanos() -> i64 {
    match coarse_reading() {
        Some((secs, nanos)) => secs.saturating_mul(1_000_000_000).saturating_add(nanos),
        None => unix_nanos(SystemTime::now()),
    }
}

/// `CLOCK_REALTIME_COARSE` as seconds and nanoseconds, from the kernel's vDSO (or the
/// system call where there is none); `None` if the kernel refuses it (older than 2.6.32),
/// and the precise clock is read instead.
#[cfg(target_os = "linux")]
#[inline]
// The fields are narrower than `i64` on some targets.
#[allow(clippy::useless_conversion)]
fn coarse_reading() -> Option<(i64, i64)> {
    let ts = rustix::time::clock_gettime(rustix::time::ClockId::RealtimeCoarse);
    Some((i64::from(ts.tv_sec), i64::from(ts.tv_nsec)))
}

#[cfg(not(target_os = "linux"))]
#[inline]
pub(crate) fn system_unix_nanos() -> i64 {
    unix_nanos(SystemTime::now())
}

/// A clock that only moves when told to, for tests.
///
/// Clones share the same time.
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// use adauth_core::{Clock, ManualClock};
///
/// let clock = ManualClock::new(UNIX_EPOCH + Duration::from_secs(1_700_000_000));
/// clock.advance(Duration::from_secs(60));
/// assert_eq!(clock.now(), UNIX_EPOCH + Duration::from_secs(1_700_000_060));
/// ```
#[derive(Clone)]
pub struct ManualClock {
    now: Arc<Mutex<SystemTime>>,
}

impl ManualClock {
    /// A clock that reads `start` until moved.
    pub fn new(start: SystemTime) -> Self {
        Self {
            now: Arc::new(Mutex::new(start)),
        }
    }

    /// Moves the clock forward by `by`.
    pub fn advance(&self, by: Duration) {
        let mut now = self.now.lock().unwrap_or_else(|e| e.into_inner());
        *now = now.checked_add(by).unwrap_or(*now);
    }

    /// Sets the clock to `to`, which may be in the past.
    pub fn set(&self, to: SystemTime) {
        *self.now.lock().unwrap_or_else(|e| e.into_inner()) = to;
    }
}

impl Default for ManualClock {
    /// A clock set to the current system time.
    fn default() -> Self {
        Self::new(SystemTime::now())
    }
}

impl Clock for ManualClock {
    fn now(&self) -> SystemTime {
        *self.now.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl fmt::Debug for ManualClock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ManualClock").field(&self.now()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn system_clock_follows_the_precise_clock() {
        let before = SystemTime::now();
        let coarse = SystemClock.now();
        let after = SystemTime::now();
        // Coarse time lags by at most a few ticks and never leads.
        assert!(coarse <= after, "{coarse:?} > {after:?}");
        assert!(before.duration_since(coarse).unwrap_or_default() < Duration::from_millis(100));
    }

    #[test]
    fn the_raw_reading_is_the_system_clock_in_nanoseconds() {
        let before = unix_nanos(SystemClock.now());
        let raw = system_unix_nanos();
        let after = unix_nanos(SystemClock.now());
        assert!(before <= raw && raw <= after, "{before} {raw} {after}");
        assert!(raw > 1_700_000_000 * 1_000_000_000);
    }

    #[test]
    fn nanoseconds_since_the_epoch_saturate_and_go_negative_before_it() {
        let epoch = SystemTime::UNIX_EPOCH;
        assert_eq!(unix_nanos(epoch), 0);
        assert_eq!(unix_nanos(epoch + Duration::new(3, 5)), 3_000_000_005);
        assert_eq!(unix_nanos(epoch - Duration::from_secs(2)), -2_000_000_000);
        assert_eq!(
            unix_nanos(epoch + Duration::from_secs(u64::MAX / 4)),
            i64::MAX
        );
    }
}
