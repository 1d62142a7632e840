//! The process title (`bgworker: [cluster_name: ]<bgw_name>`), written over the original argv
//! area so `ps` and `/proc/PID/cmdline` show it, as PostgreSQL does on Linux. The environment
//! strings that follow argv are moved out of the way first, so the title may use their space.

use libc::{c_char, c_int};
use std::sync::atomic::{AtomicPtr, AtomicUsize, Ordering};

static AREA_START: AtomicPtr<u8> = AtomicPtr::new(std::ptr::null_mut());
static AREA_LEN: AtomicUsize = AtomicUsize::new(0);

extern "C" {
    static mut environ: *mut *mut c_char;
}

/// Claims the argv (and environment) memory of `main` for titles. Call once, at start-up, with
/// the real `argc`/`argv` of the process; otherwise titles fall back to the 15-byte thread name.
///
/// # Safety
/// `argv` must be NULL or the `argv` that `main` received, with `argc` entries.
pub unsafe fn save_args(argc: c_int, argv: *mut *mut c_char) {
    if argv.is_null() || argc < 1 {
        return;
    }
    // SAFETY: the caller promises main's argv; its strings and environ's are NUL-terminated and
    // laid out back to back by the kernel, which is what the contiguity checks confirm.
    unsafe {
        let start = *argv as *mut u8;
        if start.is_null() {
            return;
        }
        let mut end = start.add(libc::strlen(start.cast()) + 1);
        for i in 1..argc as usize {
            let a = *argv.add(i) as *mut u8;
            if a != end {
                break;
            }
            end = a.add(libc::strlen(a.cast()) + 1);
        }
        // Move the environment strings that follow argv to the heap, then take their space.
        let env = environ;
        if !env.is_null() {
            let mut n = 0;
            while !(*env.add(n)).is_null() {
                n += 1;
            }
            let copy: &mut [*mut c_char] = Vec::with_capacity(n + 1).leak();
            let copy = copy.as_mut_ptr();
            for i in 0..n {
                let s = *env.add(i);
                if s as *mut u8 == end {
                    end = end.add(libc::strlen(s) + 1);
                }
                *copy.add(i) = libc::strdup(s);
            }
            *copy.add(n) = std::ptr::null_mut();
            environ = copy;
        }
        AREA_START.store(start, Ordering::Relaxed);
        AREA_LEN.store(end.offset_from(start) as usize, Ordering::Relaxed);
    }
}

/// Sets the title: the argv area when claimed, and always the thread name.
pub fn set(title: &str) {
    set_parts(&[title.as_bytes()]);
}

/// Sets the title to `parts` joined, as bytes (so a starting worker builds no string).
pub fn set_parts(parts: &[&[u8]]) {
    let start = AREA_START.load(Ordering::Relaxed);
    let len = AREA_LEN.load(Ordering::Relaxed);
    let mut comm = [0u8; 16];
    let mut at = 0;
    for &part in parts {
        if !start.is_null() && len > 1 && at < len - 1 {
            let n = part.len().min(len - 1 - at);
            // SAFETY: [start, start+len) is the argv/environ memory claimed in save_args,
            // which nothing else refers to any more; at + n < len.
            unsafe { std::ptr::copy_nonoverlapping(part.as_ptr(), start.add(at), n) };
        }
        if at < 15 {
            let n = part.len().min(15 - at);
            comm[at..at + n].copy_from_slice(&part[..n]);
        }
        at += part.len();
    }
    if !start.is_null() && len > 1 {
        let n = at.min(len - 1);
        // SAFETY: as above: the rest of the claimed area is cleared.
        unsafe { std::ptr::write_bytes(start.add(n), 0, len - n) };
    }
    // SAFETY: PR_SET_NAME reads a NUL-terminated buffer of at most 16 bytes.
    unsafe { libc::prctl(libc::PR_SET_NAME, comm.as_ptr()) };
}
