//! Exports: latches and supervisor-death checks.

use super::boundary;
use crate::pg::types::*;
use crate::pg::MyProcPid;
use libc::c_int;

/// # Safety
/// `latch` must point to a valid latch.
#[no_mangle]
pub unsafe extern "C" fn SetLatch(latch: *mut Latch) {
    export!(signal_safe, SetLatch, {
        if latch.is_null() {
            return;
        }
        // SAFETY: non-NULL latch supplied by the caller. No boundary: this runs in signal handlers
        // and cannot panic.
        unsafe { crate::latch::set_latch(latch) }
    })
}

/// # Safety
/// `latch` must point to a valid latch owned by this process.
#[no_mangle]
pub unsafe extern "C" fn ResetLatch(latch: *mut Latch) {
    export!(raises, ResetLatch, {
        if latch.is_null() {
            return;
        }
        // SAFETY: non-NULL latch supplied by the caller.
        unsafe { crate::latch::reset_latch(latch) }
    })
}

/// `WaitLatch`: waits for the latch, a timeout, or the supervisor's death (LATCH-2, PMD-2).
///
/// # Safety
/// `latch` must be NULL or a valid latch owned by this process.
#[no_mangle]
pub unsafe extern "C" fn WaitLatch(
    latch: *mut Latch,
    wakeEvents: c_int,
    timeout: libc::c_long,
    wait_event_info: u32,
) -> c_int {
    export!(raises, WaitLatch, {
        // SAFETY: forwarded with the same contract.
        unsafe { WaitLatchOrSocket(latch, wakeEvents, -1, timeout, wait_event_info) }
    })
}

/// `WaitLatchOrSocket`: as `WaitLatch`, also watching a socket.
///
/// # Safety
/// `latch` must be NULL or a valid latch owned by this process; `sock` an open descriptor or -1.
#[no_mangle]
pub unsafe extern "C" fn WaitLatchOrSocket(
    latch: *mut Latch,
    wakeEvents: c_int,
    sock: c_int,
    timeout: libc::c_long,
    wait_event_info: u32,
) -> c_int {
    export!(raises, WaitLatchOrSocket, {
        report_wait_event(wait_event_info);
        let checked = boundary(
            "WaitLatchOrSocket",
            Err("internal error in WaitLatchOrSocket"),
            || {
                if wakeEvents & WL_LATCH_SET != 0 && !latch.is_null() {
                    // SAFETY: reading the owner of a valid latch; our own pid global.
                    if unsafe { (*latch).owner_pid != MyProcPid } {
                        return Err("cannot wait on a latch owned by another process");
                    }
                }
                // SAFETY: checked above.
                Ok(unsafe { crate::latch::wait(latch, wakeEvents, sock, timeout) })
            },
        );
        report_wait_event(0);
        match checked {
            Ok(rc) => rc,
            Err(msg) => crate::pg::raise(ERROR, msg),
        }
    })
}

/// `pgstat_report_wait_start`/`_end`: where the wait event is kept (PostgreSQL's inline does
/// the same write through `my_wait_event_info`).
fn report_wait_event(wait_event_info: u32) {
    // SAFETY: my_wait_event_info always points at a live u32 (local, or this worker's slot).
    unsafe { std::ptr::write_volatile(crate::pg::my_wait_event_info, wait_event_info) };
}

/// The slow path of `PostmasterIsAlive()`: false once the supervisor has died.
#[no_mangle]
pub extern "C" fn PostmasterIsAliveInternal() -> bool {
    export!(raises, PostmasterIsAliveInternal, {
        crate::latch::postmaster_is_alive()
    })
}
