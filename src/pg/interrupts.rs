//! `CHECK_FOR_INTERRUPTS()`, `HOLD_INTERRUPTS()` and `RESUME_INTERRUPTS()` for Rust code that
//! waits on behalf of modules (message queues, condition variables), as PostgreSQL's own waits do.

use super::globals::{InterruptHoldoffCount, InterruptPending};
use std::ptr::{addr_of, addr_of_mut, read_volatile, write_volatile};

extern "C" {
    /// The C shim's `ProcessInterrupts` (it raises FATAL or ERROR by longjmp).
    fn bgw_c_ProcessInterrupts();
}

/// `CHECK_FOR_INTERRUPTS()`: acts on a pending die or cancel request (FATAL or ERROR). Callers
/// must own nothing that needs dropping: the report longjmps.
pub fn check_for_interrupts() {
    // SAFETY: a volatile read of this process's flag, as the C macro does.
    if unsafe { read_volatile(addr_of!(InterruptPending)) } != 0 {
        // SAFETY: the C body takes no arguments; it may longjmp, which the caller allows.
        unsafe { bgw_c_ProcessInterrupts() };
    }
}

/// `HOLD_INTERRUPTS()`.
pub fn hold_interrupts() {
    // SAFETY: this process's counter, changed only by its own thread.
    unsafe {
        let p = addr_of_mut!(InterruptHoldoffCount);
        write_volatile(p, read_volatile(p).wrapping_add(1));
    }
}

/// `RESUME_INTERRUPTS()`.
pub fn resume_interrupts() {
    // SAFETY: as above.
    unsafe {
        let p = addr_of_mut!(InterruptHoldoffCount);
        let n = read_volatile(p);
        write_volatile(p, n.saturating_sub(1));
    }
}
