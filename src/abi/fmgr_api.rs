//! Exports: calling another module's functions (`fmgr.h`): `load_external_function` and
//! `lookup_external_function` find a function in a library by name, as PostgreSQL 15 does
//! (`dynamic_library_path`, loaded once per process, `_PG_init` run). Declared by hand in
//! include/fmgr.h.

use crate::pg::types::ERROR;
use crate::pg::{cstr, make_sqlstate, raise_fmt, Text};
use libc::{c_char, c_void};

/// SQLSTATE 42883, undefined_function.
const UNDEFINED_FUNCTION: libc::c_int = make_sqlstate(b"42883");

/// `load_external_function`: the function `funcname` of the library `filename` (a name looked up
/// in `dynamic_library_path`, or a path), loading it if needed; `*filehandle` (if not NULL) gets
/// the library. A missing function is an ERROR, or NULL when `signalNotFound` is false.
///
/// # Safety
/// `filename` and `funcname` NUL-terminated; `filehandle` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn load_external_function(
    filename: *const c_char,
    funcname: *const c_char,
    signalNotFound: bool,
    filehandle: *mut *mut c_void,
) -> *mut c_void {
    export!(raises, load_external_function, {
        // SAFETY: as the caller promises.
        let (file, func) =
            unsafe { (cstr(filename).unwrap_or(b""), cstr(funcname).unwrap_or(b"")) };
        let path = crate::guc::current().dynamic_library_path;
        let loaded = crate::loader::load(&String::from_utf8_lossy(file), &path);
        drop(path);
        let handle = match loaded {
            Ok(h) => h,
            Err(e) => {
                crate::pg::report_detail(ERROR, 0, e.message, e.detail, None);
                unreachable!("an ERROR does not return")
            }
        };
        if !filehandle.is_null() {
            // SAFETY: writable, as the caller promises.
            unsafe { *filehandle = handle as *mut c_void };
        }
        match crate::loader::symbol(handle, func) {
            Some(f) => f,
            None if signalNotFound => raise_fmt(
                ERROR,
                UNDEFINED_FUNCTION,
                format_args!(
                    "could not find function \"{}\" in file \"{}\"",
                    Text(func),
                    Text(file)
                ),
            ),
            None => std::ptr::null_mut(),
        }
    })
}

/// `lookup_external_function`: the function `funcname` of a library `load_external_function`
/// loaded (its `filehandle`), or NULL.
///
/// # Safety
/// `filehandle` from `load_external_function`; `funcname` NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn lookup_external_function(
    filehandle: *mut c_void,
    funcname: *const c_char,
) -> *mut c_void {
    export!(raises, lookup_external_function, {
        // SAFETY: as the caller promises.
        let func = unsafe { cstr(funcname) }.unwrap_or(b"");
        if filehandle.is_null() {
            return std::ptr::null_mut();
        }
        crate::loader::symbol(filehandle as usize, func).unwrap_or(std::ptr::null_mut())
    })
}
