//! Exports: the `port.h` helpers PostgreSQL builds into every server: SQL-style case-insensitive
//! comparison and case mapping, `strlcpy`/`strlcat` (not in this C library's headers),
//! `pg_usleep`, and switching a socket between blocking and non-blocking. Declared by hand in
//! include/port.h, as PostgreSQL 15 declares them.
//!
//! None of them allocates or raises.

use libc::{c_char, c_int, c_long, size_t};

/// PostgreSQL's case folding for SQL names: ASCII letters always; other bytes by the C
/// library's locale when they have the high bit set (as PostgreSQL does for single-byte text).
fn fold_lower(ch: u8) -> u8 {
    if ch.is_ascii_uppercase() {
        ch.to_ascii_lowercase()
    } else if ch >= 0x80 {
        // SAFETY: isupper/tolower take any unsigned char value.
        unsafe {
            if libc::isupper(c_int::from(ch)) != 0 {
                libc::tolower(c_int::from(ch)) as u8
            } else {
                ch
            }
        }
    } else {
        ch
    }
}

fn fold_upper(ch: u8) -> u8 {
    if ch.is_ascii_lowercase() {
        ch.to_ascii_uppercase()
    } else if ch >= 0x80 {
        // SAFETY: islower/toupper take any unsigned char value.
        unsafe {
            if libc::islower(c_int::from(ch)) != 0 {
                libc::toupper(c_int::from(ch)) as u8
            } else {
                ch
            }
        }
    } else {
        ch
    }
}

/// Compares at most `n` bytes of two strings with `fold_lower` applied.
///
/// # Safety
/// Both NUL-terminated (or readable for `n` bytes).
unsafe fn compare_folded(s1: *const c_char, s2: *const c_char, n: usize) -> c_int {
    for i in 0..n {
        // SAFETY: as the caller promises; the walk stops at the first NUL.
        let (a, b) = unsafe { (*s1.add(i) as u8, *s2.add(i) as u8) };
        if a != b {
            let (fa, fb) = (fold_lower(a), fold_lower(b));
            if fa != fb {
                return c_int::from(fa) - c_int::from(fb);
            }
        }
        if a == 0 {
            break;
        }
    }
    0
}

/// `pg_strcasecmp`: `strcmp` with letters folded as SQL folds them.
///
/// # Safety
/// Both must be NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn pg_strcasecmp(s1: *const c_char, s2: *const c_char) -> c_int {
    export!(raises, pg_strcasecmp, {
        // SAFETY: as the caller promises.
        unsafe { compare_folded(s1, s2, usize::MAX) }
    })
}

/// `pg_strncasecmp`: the same over at most `n` bytes.
///
/// # Safety
/// Both NUL-terminated or readable for `n` bytes.
#[no_mangle]
pub unsafe extern "C" fn pg_strncasecmp(s1: *const c_char, s2: *const c_char, n: size_t) -> c_int {
    export!(raises, pg_strncasecmp, {
        // SAFETY: as the caller promises.
        unsafe { compare_folded(s1, s2, n) }
    })
}

/// `pg_toupper`: ASCII letters, and high-bit bytes by the locale.
#[no_mangle]
pub extern "C" fn pg_toupper(ch: u8) -> u8 {
    export!(raises, pg_toupper, { fold_upper(ch) })
}

/// `pg_tolower`: ASCII letters, and high-bit bytes by the locale.
#[no_mangle]
pub extern "C" fn pg_tolower(ch: u8) -> u8 {
    export!(raises, pg_tolower, { fold_lower(ch) })
}

/// `pg_ascii_toupper`: ASCII letters only.
#[no_mangle]
pub extern "C" fn pg_ascii_toupper(ch: u8) -> u8 {
    export!(signal_safe, pg_ascii_toupper, { ch.to_ascii_uppercase() })
}

/// `pg_ascii_tolower`: ASCII letters only.
#[no_mangle]
pub extern "C" fn pg_ascii_tolower(ch: u8) -> u8 {
    export!(signal_safe, pg_ascii_tolower, { ch.to_ascii_lowercase() })
}

/// `strlcpy`: copies at most `siz - 1` bytes and NUL-terminates (when `siz` > 0); returns the
/// length of `src`, so a result `>= siz` means it was truncated.
///
/// # Safety
/// `src` NUL-terminated; `dst` writable for `siz` bytes.
#[no_mangle]
pub unsafe extern "C" fn strlcpy(dst: *mut c_char, src: *const c_char, siz: size_t) -> size_t {
    export!(signal_safe, strlcpy, {
        // SAFETY: as the caller promises.
        unsafe {
            let len = libc::strlen(src);
            if siz > 0 {
                let n = len.min(siz - 1);
                std::ptr::copy_nonoverlapping(src, dst, n);
                *dst.add(n) = 0;
            }
            len
        }
    })
}

/// `strlcat`: appends `src` to the string in `dst` (a buffer of `siz` bytes), truncating and
/// NUL-terminating; returns the length the whole string would have had.
///
/// # Safety
/// `src` NUL-terminated; `dst` a writable buffer of `siz` bytes holding a string.
#[no_mangle]
pub unsafe extern "C" fn strlcat(dst: *mut c_char, src: *const c_char, siz: size_t) -> size_t {
    export!(signal_safe, strlcat, {
        // SAFETY: as the caller promises; strnlen never reads past the buffer.
        unsafe {
            let dlen = libc::strnlen(dst, siz);
            let slen = libc::strlen(src);
            if dlen == siz {
                return siz + slen;
            }
            let n = slen.min(siz - dlen - 1);
            std::ptr::copy_nonoverlapping(src, dst.add(dlen), n);
            *dst.add(dlen + n) = 0;
            dlen + slen
        }
    })
}

/// `pg_usleep`: sleeps `microsec` microseconds (nothing for 0 or less); a signal ends the sleep
/// early, as in PostgreSQL (use a latch wait to wait for events).
#[no_mangle]
pub extern "C" fn pg_usleep(microsec: c_long) {
    export!(signal_safe, pg_usleep, {
        if microsec > 0 {
            let mut delay = libc::timeval {
                tv_sec: microsec / 1_000_000,
                tv_usec: microsec % 1_000_000,
            };
            // SAFETY: select with no descriptors only sleeps; delay is ours.
            unsafe {
                libc::select(
                    0,
                    std::ptr::null_mut(),
                    std::ptr::null_mut(),
                    std::ptr::null_mut(),
                    &mut delay,
                )
            };
        }
    })
}

/// Sets or clears `O_NONBLOCK` on `sock`; false when fcntl fails.
fn set_nonblocking(sock: c_int, on: bool) -> bool {
    // SAFETY: fcntl on a descriptor number has no memory-safety preconditions.
    unsafe {
        let flags = libc::fcntl(sock, libc::F_GETFL);
        if flags < 0 {
            return false;
        }
        let want = if on {
            flags | libc::O_NONBLOCK
        } else {
            flags & !libc::O_NONBLOCK
        };
        libc::fcntl(sock, libc::F_SETFL, want) != -1
    }
}

/// `pg_set_noblock`: puts a socket (any descriptor) in non-blocking mode; false on failure.
#[no_mangle]
pub extern "C" fn pg_set_noblock(sock: c_int) -> bool {
    export!(signal_safe, pg_set_noblock, { set_nonblocking(sock, true) })
}

/// `pg_set_block`: puts it back in blocking mode; false on failure.
#[no_mangle]
pub extern "C" fn pg_set_block(sock: c_int) -> bool {
    export!(signal_safe, pg_set_block, { set_nonblocking(sock, false) })
}
