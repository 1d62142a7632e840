//! Exports the C shim calls back into (`variadic.c`): writing a finished report, and whether a
//! level would be written at all. Internal to the library, hence the `bgw_` prefix.

use crate::elog::{self, Report};
use libc::{c_char, c_int};

/// Called by the C shim to write a finished report.
///
/// # Safety
/// Each pointer is NULL or a NUL-terminated string.
/// cbindgen:ignore
#[no_mangle]
pub unsafe extern "C" fn bgw_log_emit(
    elevel: c_int,
    message: *const c_char,
    detail: *const c_char,
    hint: *const c_char,
    context: *const c_char,
) {
    export!(raises, bgw_log_emit, {
        // SAFETY: the shim passes NULL or NUL-terminated strings that live for this call.
        let report = unsafe {
            Report {
                message: crate::pg::cstr(message).unwrap_or(b""),
                detail: crate::pg::cstr(detail),
                hint: crate::pg::cstr(hint),
                context: crate::pg::cstr(context),
            }
        };
        elog::emit(elevel, &report);
    })
}

/// Called by the C shim to learn whether a level would be written.
/// cbindgen:ignore
#[no_mangle]
pub extern "C" fn bgw_log_enabled(elevel: c_int) -> bool {
    export!(signal_safe, bgw_log_enabled, { elog::enabled(elevel) })
}
