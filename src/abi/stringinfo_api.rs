//! Exports: `StringInfo` (logic in `crate::stringinfo`; `appendStringInfo` and
//! `appendStringInfoVA` are variadic, in `variadic_strings.c`).
//!
//! No panic boundary here, for the reason given in `memory_api.rs`: an ERROR (a string past
//! 1 GB, out of memory) longjmps through these frames.

use crate::stringinfo::{self, StringInfo};
use libc::{c_char, c_int};

/// `makeStringInfo`: a new, empty `StringInfo`, `palloc`'d in `CurrentMemoryContext`.
#[no_mangle]
pub extern "C" fn makeStringInfo() -> StringInfo {
    export!(raises, makeStringInfo, { stringinfo::make() })
}

/// `initStringInfo`: gives `str` an empty 1024-byte buffer in `CurrentMemoryContext`.
///
/// # Safety
/// `str` must point to writable `StringInfoData`.
#[no_mangle]
pub unsafe extern "C" fn initStringInfo(str: StringInfo) {
    export!(raises, initStringInfo, {
        // SAFETY: as the caller promises.
        unsafe { stringinfo::init(str) }
    })
}

/// `resetStringInfo`: empties `str` (and its `cursor`), keeping the buffer.
///
/// # Safety
/// `str` must be initialised.
#[no_mangle]
pub unsafe extern "C" fn resetStringInfo(str: StringInfo) {
    export!(raises, resetStringInfo, {
        // SAFETY: as the caller promises.
        unsafe { stringinfo::reset(str) }
    })
}

/// `appendStringInfoString`: appends a NUL-terminated string.
///
/// # Safety
/// `str` initialised; `s` NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn appendStringInfoString(str: StringInfo, s: *const c_char) {
    export!(raises, appendStringInfoString, {
        // SAFETY: as the caller promises; a string longer than c_int is refused by enlarge.
        unsafe {
            let n = libc::strlen(s);
            let n = c_int::try_from(n).unwrap_or(c_int::MAX);
            stringinfo::append_binary(str, s, n)
        }
    })
}

/// `appendStringInfoChar`: appends one byte.
///
/// # Safety
/// `str` must be initialised.
#[no_mangle]
pub unsafe extern "C" fn appendStringInfoChar(str: StringInfo, ch: c_char) {
    export!(raises, appendStringInfoChar, {
        // SAFETY: as the caller promises.
        unsafe { stringinfo::append_char(str, ch) }
    })
}

/// `appendStringInfoSpaces`: appends `count` spaces.
///
/// # Safety
/// `str` must be initialised.
#[no_mangle]
pub unsafe extern "C" fn appendStringInfoSpaces(str: StringInfo, count: c_int) {
    export!(raises, appendStringInfoSpaces, {
        // SAFETY: as the caller promises.
        unsafe { stringinfo::append_spaces(str, count) }
    })
}

/// `appendBinaryStringInfo`: appends `datalen` bytes, NULs included, and a trailing NUL.
///
/// # Safety
/// `str` initialised; `data` has `datalen` readable bytes.
#[no_mangle]
pub unsafe extern "C" fn appendBinaryStringInfo(
    str: StringInfo,
    data: *const c_char,
    datalen: c_int,
) {
    export!(raises, appendBinaryStringInfo, {
        // SAFETY: as the caller promises.
        unsafe { stringinfo::append_binary(str, data, datalen) }
    })
}

/// `appendBinaryStringInfoNT`: as `appendBinaryStringInfo`, without the trailing NUL.
///
/// # Safety
/// As for `appendBinaryStringInfo`.
#[no_mangle]
pub unsafe extern "C" fn appendBinaryStringInfoNT(
    str: StringInfo,
    data: *const c_char,
    datalen: c_int,
) {
    export!(raises, appendBinaryStringInfoNT, {
        // SAFETY: as the caller promises.
        unsafe { stringinfo::append_binary_nt(str, data, datalen) }
    })
}

/// `enlargeStringInfo`: makes room for `needed` more bytes; ERROR past 1 GB.
///
/// # Safety
/// `str` must be initialised.
#[no_mangle]
pub unsafe extern "C" fn enlargeStringInfo(str: StringInfo, needed: c_int) {
    export!(raises, enlargeStringInfo, {
        // SAFETY: as the caller promises.
        unsafe { stringinfo::enlarge(str, needed) }
    })
}
