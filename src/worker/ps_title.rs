//! The process title (`bgworker: [cluster_name: ]<bgw_name>`, then what the worker last gave
//! `set_ps_display`), written over the original argv area so `ps` and `/proc/PID/cmdline` show
//! it, as PostgreSQL does on Linux. The environment strings that follow argv are moved out of the
//! way first, so the title may use their space.

use libc::{c_char, c_int};
use std::sync::atomic::{AtomicPtr, AtomicUsize, Ordering};

static AREA_START: AtomicPtr<u8> = AtomicPtr::new(std::ptr::null_mut());
static AREA_LEN: AtomicUsize = AtomicUsize::new(0);

/// Longest title kept (PostgreSQL's buffer is the argv area, which the title also never exceeds).
const TITLE_MAX: usize = 256;

/// The whole title, NUL-terminated: the fixed part, then ` <activity>` when there is one.
static mut TITLE: [u8; TITLE_MAX] = [0; TITLE_MAX];
/// Bytes of TITLE in use, and of its fixed part.
static TITLE_LEN: AtomicUsize = AtomicUsize::new(0);
static FIXED_LEN: AtomicUsize = AtomicUsize::new(0);

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

/// Sets the title (its fixed part; no activity): the argv area when claimed, and always the
/// thread name.
pub fn set(title: &str) {
    set_parts(&[title.as_bytes()]);
}

/// Sets the title's fixed part to `parts` joined, as bytes (so a starting worker builds no
/// string), escaped as text (see `pg::text`); any activity is dropped.
pub fn set_parts(parts: &[&[u8]]) {
    let mut len = 0;
    for &part in parts {
        // SAFETY: the title belongs to this (single-threaded) process; the slice stays inside
        // TITLE, leaving its last byte for the NUL.
        let room =
            unsafe { std::slice::from_raw_parts_mut(title_buf().add(len), TITLE_MAX - 1 - len) };
        len += crate::pg::text::escape_into(part, room);
    }
    FIXED_LEN.store(len, Ordering::Relaxed);
    publish(len);
}

/// `set_ps_display`: the fixed part followed by a space and `activity` (just the fixed part for
/// an empty activity).
pub fn set_activity(activity: &[u8]) {
    let fixed = FIXED_LEN.load(Ordering::Relaxed);
    let mut len = fixed;
    if !activity.is_empty() && len < TITLE_MAX - 1 {
        // SAFETY: as in set_parts; every index stays below TITLE_MAX - 1.
        unsafe {
            *title_buf().add(len) = b' ';
            len += 1;
            let n = activity.len().min(TITLE_MAX - 1 - len);
            std::ptr::copy_nonoverlapping(activity.as_ptr(), title_buf().add(len), n);
            len += n;
        }
    }
    publish(len);
}

/// `get_ps_display`: the activity part of the title (NUL-terminated in place).
pub fn activity() -> &'static [u8] {
    let (fixed, len) = (
        FIXED_LEN.load(Ordering::Relaxed),
        TITLE_LEN.load(Ordering::Relaxed),
    );
    let start = (fixed + 1).min(len);
    // SAFETY: TITLE[start..len] was written by set_activity; nothing writes it concurrently.
    unsafe { std::slice::from_raw_parts(title_buf().add(start), len - start) }
}

/// The title's buffer (TITLE_MAX bytes).
fn title_buf() -> *mut u8 {
    (&raw mut TITLE).cast()
}

/// Writes TITLE[..len] where `ps` and the thread name show it.
fn publish(len: usize) {
    // SAFETY: the title belongs to this process; len < TITLE_MAX keeps a NUL after it.
    let title: &[u8] = unsafe {
        *title_buf().add(len) = 0;
        std::slice::from_raw_parts(title_buf(), len)
    };
    TITLE_LEN.store(len, Ordering::Relaxed);
    let start = AREA_START.load(Ordering::Relaxed);
    let area = AREA_LEN.load(Ordering::Relaxed);
    if !start.is_null() && area > 1 {
        let n = len.min(area - 1);
        // SAFETY: [start, start+area) is the argv/environ memory claimed in save_args, which
        // nothing else refers to any more; the rest of it is cleared.
        unsafe {
            std::ptr::copy_nonoverlapping(title.as_ptr(), start, n);
            std::ptr::write_bytes(start.add(n), 0, area - n);
        }
    }
    let mut comm = [0u8; 16];
    let n = len.min(15);
    comm[..n].copy_from_slice(&title[..n]);
    // SAFETY: PR_SET_NAME reads a NUL-terminated buffer of at most 16 bytes.
    unsafe { libc::prctl(libc::PR_SET_NAME, comm.as_ptr()) };
}
