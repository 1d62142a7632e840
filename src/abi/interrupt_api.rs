//! Exports: the standard signal handlers modules install, and what `CHECK_FOR_INTERRUPTS()`
//! calls. Handlers only set flags and the latch; `ProcessInterrupts` (in the C shim, since it
//! raises FATAL/ERROR) acts on them.

use crate::pg::globals::*;
use libc::c_int;
use std::ptr::{addr_of_mut, write_volatile};

fn set_latch_preserving_errno() {
    // SAFETY: errno location is thread-local; MyLatch is NULL or this process's latch, and
    // SetLatch is async-signal-safe.
    unsafe {
        let saved = *libc::__errno_location();
        let latch = MyLatch;
        if !latch.is_null() {
            crate::latch::set_latch(latch);
        }
        *libc::__errno_location() = saved;
    }
}

/// `die`: the usual SIGTERM handler. The next `CHECK_FOR_INTERRUPTS()` ends the worker with
/// FATAL "terminating background worker ... due to administrator command".
#[no_mangle]
pub extern "C" fn die(_postgres_signal_arg: c_int) {
    export!(signal_safe, die, {
        // SAFETY: volatile writes of this process's sig_atomic_t flags, as a handler may do.
        unsafe {
            write_volatile(addr_of_mut!(InterruptPending), 1);
            write_volatile(addr_of_mut!(ProcDiePending), 1);
        }
        set_latch_preserving_errno();
    })
}

/// `SignalHandlerForConfigReload`: sets `ConfigReloadPending` and the latch (SIGHUP).
#[no_mangle]
pub extern "C" fn SignalHandlerForConfigReload(_postgres_signal_arg: c_int) {
    export!(signal_safe, SignalHandlerForConfigReload, {
        // SAFETY: as in die.
        unsafe { write_volatile(addr_of_mut!(ConfigReloadPending), 1) };
        set_latch_preserving_errno();
    })
}

/// `SignalHandlerForShutdownRequest`: sets `ShutdownRequestPending` and the latch.
#[no_mangle]
pub extern "C" fn SignalHandlerForShutdownRequest(_postgres_signal_arg: c_int) {
    export!(signal_safe, SignalHandlerForShutdownRequest, {
        // SAFETY: as in die.
        unsafe { write_volatile(addr_of_mut!(ShutdownRequestPending), 1) };
        set_latch_preserving_errno();
    })
}

/// `StatementCancelHandler`: a cancel request (SIGINT); the next `CHECK_FOR_INTERRUPTS()`
/// raises ERROR "canceling statement due to user request".
#[no_mangle]
pub extern "C" fn StatementCancelHandler(_postgres_signal_arg: c_int) {
    export!(signal_safe, StatementCancelHandler, {
        // SAFETY: as in die.
        unsafe {
            write_volatile(addr_of_mut!(InterruptPending), 1);
            write_volatile(addr_of_mut!(QueryCancelPending), 1);
        }
        set_latch_preserving_errno();
    })
}
