//! Exports: `text` and C strings (`utils/builtins.h`), detoasting (`fmgr.h`) and the list
//! splitters of `utils/varlena.h`. Logic in `crate::varlena`; declared by hand in those headers.
//!
//! All may raise (out of memory, a value that cannot be read here): policy `raises`.

use crate::list::List;
use crate::varlena::{self, Split};
use libc::{c_char, c_int, c_void, size_t};

/// `cstring_to_text`: a new `text` (4-byte header) holding the bytes of `s`.
///
/// # Safety
/// `s` must be NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn cstring_to_text(s: *const c_char) -> *mut c_void {
    export!(raises, cstring_to_text, {
        // SAFETY: as the caller promises.
        unsafe { varlena::make(std::ffi::CStr::from_ptr(s).to_bytes()) }
    })
}

/// `cstring_to_text_with_len`: a new `text` holding `len` bytes of `s` (NULs included).
///
/// # Safety
/// `s` must be readable for `len` bytes.
#[no_mangle]
pub unsafe extern "C" fn cstring_to_text_with_len(s: *const c_char, len: c_int) -> *mut c_void {
    export!(raises, cstring_to_text_with_len, {
        let len = len.max(0) as usize;
        if len == 0 {
            return varlena::make(&[]);
        }
        // SAFETY: as the caller promises.
        unsafe { varlena::make(std::slice::from_raw_parts(s.cast::<u8>(), len)) }
    })
}

/// `text_to_cstring`: a NUL-terminated copy of a `text` value, `palloc`'d.
///
/// # Safety
/// `t` must be a live varlena.
#[no_mangle]
pub unsafe extern "C" fn text_to_cstring(t: *const c_void) -> *mut c_char {
    export!(raises, text_to_cstring, {
        // SAFETY: as the caller promises.
        unsafe { varlena::to_cstring(t) }
    })
}

/// `text_to_cstring_buffer`: the text copied into `dst`, truncated to `dst_len - 1` bytes and
/// NUL-terminated.
///
/// # Safety
/// `src` a live varlena; `dst` writable for `dst_len` bytes.
#[no_mangle]
pub unsafe extern "C" fn text_to_cstring_buffer(
    src: *const c_void,
    dst: *mut c_char,
    dst_len: size_t,
) {
    export!(raises, text_to_cstring_buffer, {
        // SAFETY: as the caller promises.
        unsafe { varlena::to_cstring_buffer(src, dst, dst_len) }
    })
}

/// `pg_detoast_datum`: the value with a 4-byte header (itself, or a copy of a short value).
///
/// # Safety
/// `datum` must be a live varlena.
#[no_mangle]
pub unsafe extern "C" fn pg_detoast_datum(datum: *mut c_void) -> *mut c_void {
    export!(raises, pg_detoast_datum, {
        // SAFETY: as the caller promises.
        unsafe { varlena::detoast("pg_detoast_datum", datum) }
    })
}

/// `pg_detoast_datum_copy`: always a new copy, with a 4-byte header.
///
/// # Safety
/// `datum` must be a live varlena.
#[no_mangle]
pub unsafe extern "C" fn pg_detoast_datum_copy(datum: *mut c_void) -> *mut c_void {
    export!(raises, pg_detoast_datum_copy, {
        // SAFETY: as the caller promises.
        unsafe { varlena::make(varlena::bytes("pg_detoast_datum_copy", datum)) }
    })
}

/// `pg_detoast_datum_packed`: the value itself, short header and all.
///
/// # Safety
/// `datum` must be a live varlena.
#[no_mangle]
pub unsafe extern "C" fn pg_detoast_datum_packed(datum: *mut c_void) -> *mut c_void {
    export!(raises, pg_detoast_datum_packed, {
        // SAFETY: as the caller promises.
        unsafe { varlena::detoast_packed("pg_detoast_datum_packed", datum) }
    })
}

/// `SplitIdentifierString`: splits `rawstring` (modified in place) at `separator` into SQL
/// identifiers: unquoted ones down-cased, all truncated to `NAMEDATALEN - 1` bytes. False on bad
/// syntax.
///
/// # Safety
/// `rawstring` writable and NUL-terminated; `namelist` writable.
#[no_mangle]
pub unsafe extern "C" fn SplitIdentifierString(
    rawstring: *mut c_char,
    separator: c_char,
    namelist: *mut *mut List,
) -> bool {
    export!(raises, SplitIdentifierString, {
        // SAFETY: as the caller promises.
        unsafe { varlena::split(rawstring, separator, Split::Identifiers, namelist) }
    })
}

/// `SplitDirectoriesString`: splits into directory names, each a canonicalised `palloc`'d copy.
///
/// # Safety
/// As for `SplitIdentifierString`.
#[no_mangle]
pub unsafe extern "C" fn SplitDirectoriesString(
    rawstring: *mut c_char,
    separator: c_char,
    namelist: *mut *mut List,
) -> bool {
    export!(raises, SplitDirectoriesString, {
        // SAFETY: as the caller promises.
        unsafe { varlena::split(rawstring, separator, Split::Directories, namelist) }
    })
}

/// `SplitGUCList`: splits a list-valued setting, keeping each element as written (unquoted).
///
/// # Safety
/// As for `SplitIdentifierString`.
#[no_mangle]
pub unsafe extern "C" fn SplitGUCList(
    rawstring: *mut c_char,
    separator: c_char,
    namelist: *mut *mut List,
) -> bool {
    export!(raises, SplitGUCList, {
        // SAFETY: as the caller promises.
        unsafe { varlena::split(rawstring, separator, Split::GucList, namelist) }
    })
}
