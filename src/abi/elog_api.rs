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

/// Called by the C shim to learn whether a level would be written.
/// cbindgen:ignore
#[no_mangle]
pub extern "C" fn bgw_log_enabled(elevel: c_int) -> bool {
    export!(signal_safe, bgw_log_enabled, { elog::enabled(elevel) })
}
