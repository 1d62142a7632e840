//! Growable strings (`StringInfo`), PostgreSQL's `lib/stringinfo.h`: a buffer `palloc`'d in
//! `CurrentMemoryContext`, doubled as needed up to 1 GB, always NUL-terminated.
//!
//! Growing past the limit is an ERROR reported from C (`variadic_strings.c`), so these frames
//! own nothing that needs dropping. The formatting functions (`appendStringInfo`,
//! `appendStringInfoVA`) are variadic and live in that C file too.

use crate::mcxt::{self, MAX_ALLOC_SIZE};
use libc::{c_char, c_int};

/// PostgreSQL's `StringInfoData` (24 bytes): `data[len]` is always a NUL; `maxlen` is the
/// buffer's size; `cursor` is free for readers of the string.
#[repr(C)]
pub struct StringInfoData {
    /// The buffer (`maxlen` bytes, `palloc`'d).
    pub data: *mut c_char,
    /// Bytes in use, not counting the trailing NUL.
    pub len: c_int,
    /// Size of the buffer.
    pub maxlen: c_int,
    /// Read position, for the module's own use (0 after init or reset).
    pub cursor: c_int,
}

/// A pointer to a `StringInfoData`, as PostgreSQL's `StringInfo`.
pub type StringInfo = *mut StringInfoData;

const _: () = assert!(std::mem::size_of::<StringInfoData>() == 24);
const _: () = assert!(std::mem::offset_of!(StringInfoData, cursor) == 16);

/// The initial buffer size.
const INITIAL_SIZE: c_int = 1024;

// ERROR reports, in variadic_strings.c (they never return).
/// cbindgen:ignore
mod report {
    use libc::c_int;
    extern "C" {
        pub(crate) fn bgw_c_stringinfo_invalid_request(needed: c_int) -> !;
        pub(crate) fn bgw_c_stringinfo_too_long(len: c_int, needed: c_int) -> !;
    }
}
use report::*;

/// Gives `str` a fresh, empty buffer in `CurrentMemoryContext` (`initStringInfo`).
///
/// # Safety
/// `str` must point to writable `StringInfoData`.
pub unsafe fn init(str: StringInfo) {
    let data = mcxt::alloc(INITIAL_SIZE as usize, false).cast::<c_char>();
    // SAFETY: data has INITIAL_SIZE bytes; str is writable.
    unsafe {
        *data = 0;
        str.write(StringInfoData {
            data,
            len: 0,
            maxlen: INITIAL_SIZE,
            cursor: 0,
        });
    }
}

/// A `palloc`'d, initialised `StringInfoData` (`makeStringInfo`).
pub fn make() -> StringInfo {
    let str = mcxt::alloc(std::mem::size_of::<StringInfoData>(), false).cast::<StringInfoData>();
    // SAFETY: str is fresh memory of the right size.
    unsafe { init(str) };
    str
}

/// Empties `str`, keeping its buffer (`resetStringInfo`).
///
/// # Safety
/// `str` must be initialised.
pub unsafe fn reset(str: StringInfo) {
    // SAFETY: an initialised StringInfo has a buffer of at least one byte.
    unsafe {
        *(*str).data = 0;
        (*str).len = 0;
        (*str).cursor = 0;
    }
}

/// Makes room for `needed` more bytes plus the trailing NUL (`enlargeStringInfo`): the buffer
/// doubles until it fits, capped at 1 GB. ERROR for a negative request or past the cap.
///
/// # Safety
/// `str` must be initialised.
pub unsafe fn enlarge(str: StringInfo, needed: c_int) {
    // SAFETY: str is initialised; the reports never return.
    unsafe {
        let len = (*str).len;
        if needed < 0 {
            bgw_c_stringinfo_invalid_request(needed);
        }
        // len + needed + 1 must stay below MaxAllocSize.
        if needed as usize >= MAX_ALLOC_SIZE - len as usize {
            bgw_c_stringinfo_too_long(len, needed);
        }
        let wanted = needed as usize + len as usize + 1;
        let mut newlen = (*str).maxlen as usize;
        if wanted <= newlen {
            return;
        }
        while newlen < wanted {
            newlen *= 2;
        }
        newlen = newlen.min(MAX_ALLOC_SIZE);
        (*str).data = mcxt::realloc((*str).data.cast(), newlen, 0).cast();
        (*str).maxlen = newlen as c_int;
    }
}

/// Appends `datalen` bytes (which may include NULs) without writing the trailing NUL
/// (`appendBinaryStringInfoNT`).
///
/// # Safety
/// `str` initialised; `data` has `datalen` readable bytes.
pub unsafe fn append_binary_nt(str: StringInfo, data: *const c_char, datalen: c_int) {
    if datalen <= 0 {
        return;
    }
    // SAFETY: after enlarge the buffer has room for len + datalen + 1 bytes.
    unsafe {
        enlarge(str, datalen);
        std::ptr::copy_nonoverlapping(data, (*str).data.add((*str).len as usize), datalen as usize);
        (*str).len += datalen;
    }
}

/// Appends `datalen` bytes (which may include NULs) and keeps the string NUL-terminated
/// (`appendBinaryStringInfo`).
///
/// # Safety
/// As for `append_binary_nt`.
pub unsafe fn append_binary(str: StringInfo, data: *const c_char, datalen: c_int) {
    // SAFETY: as the caller promises; data[len] is within the buffer (enlarge reserved it).
    unsafe {
        append_binary_nt(str, data, datalen);
        *(*str).data.add((*str).len as usize) = 0;
    }
}

/// Appends one byte (`appendStringInfoChar`).
///
/// # Safety
/// `str` must be initialised.
pub unsafe fn append_char(str: StringInfo, ch: c_char) {
    // SAFETY: enlarge reserves room for the byte and the NUL.
    unsafe {
        if (*str).len + 1 >= (*str).maxlen {
            enlarge(str, 1);
        }
        let end = (*str).data.add((*str).len as usize);
        *end = ch;
        *end.add(1) = 0;
        (*str).len += 1;
    }
}

/// Appends `count` spaces (`appendStringInfoSpaces`).
///
/// # Safety
/// `str` must be initialised.
pub unsafe fn append_spaces(str: StringInfo, count: c_int) {
    if count <= 0 {
        return;
    }
    // SAFETY: enlarge reserves room for the spaces and the NUL.
    unsafe {
        enlarge(str, count);
        let end = (*str).data.add((*str).len as usize);
        std::ptr::write_bytes(end, b' ', count as usize);
        (*str).len += count;
        *(*str).data.add((*str).len as usize) = 0;
    }
}
