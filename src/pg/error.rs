//! Raising an error through PostgreSQL's error path. The report is made by the C shim
//! (`bgw_c_report`, in `abi/variadic.c`), so the longjmp to a module's `PG_TRY` starts in a C
//! frame; callers must own nothing that needs dropping when they raise.

use libc::{c_char, c_int};

extern "C" {
    /// Reports `message` at `elevel` with SQLSTATE `sqlerrcode` (0: the level's default).
    fn bgw_c_report(elevel: c_int, sqlerrcode: c_int, message: *const c_char);
    /// The exported `proc_exit`: declared here so the leaf needs no other module.
    fn proc_exit(code: c_int) -> !;
}

/// Reports `message` at `elevel` (ERROR or above) from a C frame, ending the process when no
/// handler catches it. A `PG_TRY` handler is reached by longjmp, so callers must own nothing
/// that needs dropping; the message is copied to the stack for that reason.
pub fn raise(elevel: c_int, message: &str) -> ! {
    raise_with_code(elevel, 0, message)
}

/// `raise` with a SQLSTATE (`MAKE_SQLSTATE` encoding).
pub fn raise_with_code(elevel: c_int, sqlerrcode: c_int, message: &str) -> ! {
    let mut text = [0 as c_char; 1024];
    for (dst, &b) in text.iter_mut().zip(message.as_bytes().iter().take(1023)) {
        *dst = if b == 0 { b' ' } else { b } as c_char;
    }
    // SAFETY: text is NUL-terminated (its last byte is never written) and lives on this frame;
    // a report at ERROR or above does not return, and proc_exit never does.
    unsafe {
        bgw_c_report(elevel, sqlerrcode, text.as_ptr());
        proc_exit(1)
    }
}

/// PostgreSQL's SQLSTATE encoding (`MAKE_SQLSTATE`).
pub const fn make_sqlstate(code: &[u8; 5]) -> c_int {
    let mut v = 0;
    let mut i = 0;
    while i < 5 {
        v += ((code[i].wrapping_sub(b'0')) as c_int & 0x3F) << (6 * i);
        i += 1;
    }
    v
}

/// A NUL-terminated C string as bytes, or `None` for NULL.
///
/// # Safety
/// `p` must be NULL or point to a NUL-terminated string that outlives the result.
pub unsafe fn cstr<'a>(p: *const c_char) -> Option<&'a [u8]> {
    if p.is_null() {
        None
    } else {
        // SAFETY: the caller promises a NUL-terminated string.
        Some(unsafe { std::ffi::CStr::from_ptr(p) }.to_bytes())
    }
}

/// The C library's text for `errno` (what `%m` prints), without Rust's "(os error N)".
pub fn errno_text(errno: c_int) -> String {
    let mut buf = [0 as c_char; 256];
    // SAFETY: the XSI strerror_r writes a NUL-terminated message into buf (within its length).
    let rc = unsafe { libc::strerror_r(errno, buf.as_mut_ptr(), buf.len()) };
    if rc != 0 {
        return format!("error {errno}");
    }
    // SAFETY: NUL-terminated by strerror_r, as checked.
    unsafe { std::ffi::CStr::from_ptr(buf.as_ptr()) }
        .to_string_lossy()
        .into_owned()
}
