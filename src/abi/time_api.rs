//! Exports: PostgreSQL's timestamps (microseconds since 2000-01-01 UTC) and differences.

use crate::pg::types::TimestampTz;
use libc::{c_int, c_long};

/// Seconds from the Unix epoch to PostgreSQL's (2000-01-01).
const POSTGRES_EPOCH_OFFSET_SECS: i64 = 946_684_800;

/// `GetCurrentTimestamp`.
#[no_mangle]
pub extern "C" fn GetCurrentTimestamp() -> TimestampTz {
    export!(signal_safe, GetCurrentTimestamp, {
        let mut ts = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: clock_gettime fills a local timespec.
        unsafe { libc::clock_gettime(libc::CLOCK_REALTIME, &mut ts) };
        (ts.tv_sec - POSTGRES_EPOCH_OFFSET_SECS) * 1_000_000 + ts.tv_nsec / 1000
    })
}

/// `TimestampDifference`: `stop - start` as seconds and microseconds, 0 if negative.
///
/// # Safety
/// `secs` and `microsecs` must be writable.
#[no_mangle]
pub unsafe extern "C" fn TimestampDifference(
    start_time: TimestampTz,
    stop_time: TimestampTz,
    secs: *mut c_long,
    microsecs: *mut c_int,
) {
    export!(signal_safe, TimestampDifference, {
        let diff = (stop_time - start_time).max(0);
        // SAFETY: as the caller promises.
        unsafe {
            *secs = (diff / 1_000_000) as c_long;
            *microsecs = (diff % 1_000_000) as c_int;
        }
    })
}

/// `TimestampDifferenceMilliseconds`: `stop - start` in milliseconds, rounded up, 0 if negative.
#[no_mangle]
pub extern "C" fn TimestampDifferenceMilliseconds(
    start_time: TimestampTz,
    stop_time: TimestampTz,
) -> c_long {
    export!(signal_safe, TimestampDifferenceMilliseconds, {
        let diff = stop_time - start_time;
        if diff <= 0 {
            0
        } else {
            ((diff + 999) / 1000) as c_long
        }
    })
}

/// `TimestampDifferenceExceeds`: whether at least `msec` ms lie between the two.
#[no_mangle]
pub extern "C" fn TimestampDifferenceExceeds(
    start_time: TimestampTz,
    stop_time: TimestampTz,
    msec: c_int,
) -> bool {
    export!(signal_safe, TimestampDifferenceExceeds, {
        stop_time - start_time >= i64::from(msec) * 1000
    })
}
