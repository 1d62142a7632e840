//! Raising an error through PostgreSQL's error path. The report is made by the C shim
//! (`bgw_c_report`, in `abi/variadic.c`), so the longjmp to a module's `PG_TRY` starts in a C
//! frame; callers must own nothing that needs dropping when they raise.

use libc::{c_char, c_int};
use std::fmt::{self, Write};

extern "C" {
    /// Reports `message` at `elevel` with SQLSTATE `sqlerrcode` (0: the level's default).
    fn bgw_c_report(elevel: c_int, sqlerrcode: c_int, message: *const c_char);
    /// Reports `message` with an optional DETAIL and HINT (NULL for none).
    fn bgw_c_report_detail(
        elevel: c_int,
        sqlerrcode: c_int,
        message: *const c_char,
        detail: *const c_char,
        hint: *const c_char,
    );
    /// Reports `message: %m` at `elevel` with `errcode_for_file_access()`, errno `saved_errno`.
    fn bgw_c_report_file_access(elevel: c_int, saved_errno: c_int, message: *const c_char);
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

/// A message formatted on the stack (so a report that longjmps leaves nothing to drop): at most
/// 1023 bytes, NUL bytes replaced by spaces, always NUL-terminated.
struct StackText {
    buf: [c_char; 1024],
    len: usize,
}

impl StackText {
    fn new(args: fmt::Arguments<'_>) -> Self {
        let mut t = StackText {
            buf: [0; 1024],
            len: 0,
        };
        let _ = t.write_fmt(args);
        t
    }
}

impl Write for StackText {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        for &b in s.as_bytes() {
            if self.len == self.buf.len() - 1 {
                break;
            }
            self.buf[self.len] = if b == 0 { b' ' } else { b } as c_char;
            self.len += 1;
        }
        Ok(())
    }
}

/// Bytes shown as text in a message (invalid UTF-8 as U+FFFD), without allocating: safe to keep
/// in a frame a report longjmps out of.
pub struct Text<'a>(pub &'a [u8]);

impl fmt::Display for Text<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for chunk in self.0.utf8_chunks() {
            f.write_str(chunk.valid())?;
            if !chunk.invalid().is_empty() {
                f.write_str("\u{FFFD}")?;
            }
        }
        Ok(())
    }
}

/// `raise_with_code` with a message formatted without allocating: nothing owned is left behind
/// by the longjmp.
pub fn raise_fmt(elevel: c_int, sqlerrcode: c_int, args: fmt::Arguments<'_>) -> ! {
    let text = StackText::new(args);
    // SAFETY: text is NUL-terminated and lives on this frame; ERROR and above do not return.
    unsafe {
        bgw_c_report(elevel, sqlerrcode, text.buf.as_ptr());
        proc_exit(1)
    }
}

/// Reports a formatted message at `elevel` through PostgreSQL's error path (so error context
/// callbacks and `log_min_messages` apply); returns only when `elevel` is below ERROR.
pub fn report_fmt(elevel: c_int, sqlerrcode: c_int, args: fmt::Arguments<'_>) {
    let text = StackText::new(args);
    // SAFETY: as above.
    unsafe { bgw_c_report(elevel, sqlerrcode, text.buf.as_ptr()) };
    if elevel >= super::types::ERROR {
        // SAFETY: an ERROR report does not come back; this is never reached.
        unsafe { proc_exit(1) }
    }
}

/// Reports a message with an optional DETAIL and HINT at `elevel` through PostgreSQL's error
/// path; returns only when `elevel` is below ERROR. The texts are copied to the stack and
/// dropped before the report, so a longjmp leaves nothing behind.
pub fn report_detail(
    elevel: c_int,
    sqlerrcode: c_int,
    message: String,
    detail: Option<String>,
    hint: Option<String>,
) {
    let m = StackText::new(format_args!("{message}"));
    let d = detail.as_ref().map(|d| StackText::new(format_args!("{d}")));
    let h = hint.as_ref().map(|h| StackText::new(format_args!("{h}")));
    drop((message, detail, hint));
    let ptr = |t: &Option<StackText>| t.as_ref().map_or(std::ptr::null(), |t| t.buf.as_ptr());
    // SAFETY: the texts are NUL-terminated and live on this frame.
    unsafe { bgw_c_report_detail(elevel, sqlerrcode, m.buf.as_ptr(), ptr(&d), ptr(&h)) };
    if elevel >= super::types::ERROR {
        // SAFETY: an ERROR report does not come back; this is never reached.
        unsafe { proc_exit(1) }
    }
}

/// Reports `<message>: <strerror(saved_errno)>` at `elevel` with the SQLSTATE PostgreSQL's
/// `errcode_for_file_access` picks for that errno; returns only when `elevel` is below ERROR.
pub fn report_file_access(elevel: c_int, saved_errno: c_int, args: fmt::Arguments<'_>) {
    let text = StackText::new(args);
    // SAFETY: as above.
    unsafe { bgw_c_report_file_access(elevel, saved_errno, text.buf.as_ptr()) };
    if elevel >= super::types::ERROR {
        // SAFETY: as above.
        unsafe { proc_exit(1) }
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
