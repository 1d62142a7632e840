//! Exports the C shim calls back into (`variadic.c`): writing a finished report, and whether a
//! level would be written at all. Internal to the library, hence the `bgw_` prefix.

use crate::elog;
use crate::log::record::Message;
use crate::pg::types::ErrorData;
use libc::{c_char, c_int};

/// Called by the C shim to write a finished report (after `emit_log_hook`).
///
/// # Safety
/// `edata` is NULL or a report whose string fields are NULL or NUL-terminated.
/// cbindgen:ignore
#[no_mangle]
pub unsafe extern "C" fn bgw_log_emit(edata: *const ErrorData) {
    export!(raises, bgw_log_emit, {
        // SAFETY: the shim passes its own report, alive for this call.
        let Some(e) = (unsafe { edata.as_ref() }) else {
            return;
        };
        // SAFETY: each field is NULL or a NUL-terminated string that lives for this call.
        let report = unsafe {
            let text = |p: *const c_char| crate::pg::cstr(p);
            Message {
                elevel: e.elevel,
                sqlerrcode: e.sqlerrcode,
                message: text(e.message).unwrap_or(b"missing error text"),
                detail: text(e.detail_log).or_else(|| text(e.detail)),
                hint: text(e.hint),
                context: if e.hide_ctx { None } else { text(e.context) },
                internal_query: text(e.internalquery),
                internal_pos: e.internalpos,
                cursor_pos: e.cursorpos,
            }
        };
        elog::emit(&report);
    })
}

/// Called by the C shim when an ERROR no handler catches, or a FATAL, is about to end this
/// process: the message goes into the worker's slot, so `bgworkerctl status` can say what
/// ended it (whatever `log_min_messages` let through to the log).
///
/// # Safety
/// `message` is NULL or NUL-terminated.
/// cbindgen:ignore
#[no_mangle]
pub unsafe extern "C" fn bgw_note_exit_report(elevel: c_int, message: *const c_char) {
    export!(signal_safe, bgw_note_exit_report, {
        // SAFETY: as the caller promises.
        let text = unsafe { crate::pg::cstr(message) }.unwrap_or(b"");
        if let (Some(seg), Some(slot)) = (crate::shmem::current(), crate::worker::my_slot()) {
            // SAFETY: reading this process's own pid.
            let pid = unsafe { crate::pg::MyProcPid };
            crate::shmem::slots::report_exit(seg, slot, pid, elevel, text);
        }
    })
}

/// Called by the C shim to learn whether a level would be written.
/// cbindgen:ignore
#[no_mangle]
pub extern "C" fn bgw_log_enabled(elevel: c_int) -> bool {
    export!(signal_safe, bgw_log_enabled, { elog::enabled(elevel) })
}
