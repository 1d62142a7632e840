//! Exports: SPI (`executor/spi.h`) and the heap-tuple reader behind `heap_getattr`
//! (`access/htup_details.h`). Logic in `crate::db::spi`. Declared by hand in
//! include/executor/spi.h and include/access/htup_details.h (their types need PostgreSQL's
//! `NameData`), so kept out of bgworker.h.
//!
//! A server error is raised (ERROR, the server's SQLSTATE, message, detail and hint) only after
//! the panic boundary returned and every Rust value was dropped.

use super::boundary;
use crate::db::spi::{self, ExecError, HeapTuple, Kind, SPITupleTable, TupleDesc};
use crate::mcxt::{self, CurrentMemoryContext};
use crate::pg::types::{Datum, Oid};
use libc::{c_char, c_int, c_long, c_void, size_t};
use std::ptr::null_mut;

/// Raises what `execute` reported; owns the strings so it can drop them before the longjmp.
fn raise(e: ExecError) -> ! {
    match e {
        ExecError::Server(s) => spi::raise_error(s.sqlstate, s.message, s.detail, s.hint),
        ExecError::Local(code, message) => spi::raise_error(code, message, None, None),
    }
}

fn internal(name: &str) -> Result<c_int, ExecError> {
    Err(ExecError::Local(
        *b"XX000",
        format!("internal error in {name}"),
    ))
}

/// Runs the statement and returns its code, raising the server's error if it failed.
///
/// # Safety
/// `src` must be NULL or NUL-terminated.
unsafe fn run(
    name: &str,
    src: *const c_char,
    params: Vec<Option<Vec<u8>>>,
    count: c_long,
) -> c_int {
    let outcome = boundary(name, internal(name), || {
        // SAFETY: as the caller promises.
        let Some(sql) = (unsafe { crate::pg::cstr(src) }) else {
            return Ok(spi::SPI_ERROR_ARGUMENT);
        };
        let sql = String::from_utf8_lossy(sql);
        let texts: Vec<Option<std::borrow::Cow<'_, str>>> = params
            .iter()
            .map(|p| p.as_deref().map(String::from_utf8_lossy))
            .collect();
        let refs: Vec<Option<&str>> = texts.iter().map(|p| p.as_deref()).collect();
        spi::execute(&sql, &refs, count)
    });
    match outcome {
        Ok(code) => code,
        Err(e) => raise(e),
    }
}

/// `SPI_connect`: opens an SPI level; `CurrentMemoryContext` becomes its procedure context.
#[no_mangle]
pub extern "C" fn SPI_connect() -> c_int {
    export!(boundary, SPI_connect, spi::SPI_ERROR_CONNECT, {
        spi::connect()
    })
}

/// `SPI_connect_ext`: as `SPI_connect` (`SPI_OPT_NONATOMIC` is accepted and has no effect).
#[no_mangle]
pub extern "C" fn SPI_connect_ext(_options: c_int) -> c_int {
    export!(raises, SPI_connect_ext, { SPI_connect() })
}

/// `SPI_finish`: closes the innermost level, freeing all it allocated (`SPI_ERROR_UNCONNECTED`
/// when none is open).
#[no_mangle]
pub extern "C" fn SPI_finish() -> c_int {
    export!(boundary, SPI_finish, spi::SPI_ERROR_UNCONNECTED, {
        spi::finish()
    })
}

/// `SPI_execute`: runs one statement on the server. `count` > 0 keeps at most that many rows.
///
/// # Safety
/// `src` must be NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn SPI_execute(
    src: *const c_char,
    _read_only: bool,
    tcount: c_long,
) -> c_int {
    export!(raises, SPI_execute, {
        // SAFETY: as the caller promises.
        unsafe { run("SPI_execute", src, Vec::new(), tcount) }
    })
}

/// `SPI_exec`: `SPI_execute` with `read_only` false.
///
/// # Safety
/// `src` must be NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn SPI_exec(src: *const c_char, tcount: c_long) -> c_int {
    export!(raises, SPI_exec, {
        // SAFETY: as the caller promises.
        unsafe { run("SPI_exec", src, Vec::new(), tcount) }
    })
}

/// `SPI_execute_with_args`: `SPI_execute` with `$1..$nargs` bound to `Values` (NULL where
/// `Nulls[i] == 'n'`), sent to the server as text by their types.
///
/// # Safety
/// `argtypes` and `Values` must hold `nargs` entries; `Nulls` NULL or `nargs` bytes; by-reference
/// Datums must point to live values of their type.
#[no_mangle]
pub unsafe extern "C" fn SPI_execute_with_args(
    src: *const c_char,
    nargs: c_int,
    argtypes: *const Oid,
    Values: *const Datum,
    Nulls: *const c_char,
    _read_only: bool,
    tcount: c_long,
) -> c_int {
    export!(raises, SPI_execute_with_args, {
        let params = boundary("SPI_execute_with_args", Ok(None), || {
            if nargs < 0 || (nargs > 0 && (argtypes.is_null() || Values.is_null())) {
                return Ok(None);
            }
            let mut params = Vec::with_capacity(nargs as usize);
            for i in 0..nargs as usize {
                // SAFETY: as the caller promises, each array has nargs entries.
                unsafe {
                    if !Nulls.is_null() && *Nulls.add(i) as u8 == b'n' {
                        params.push(None);
                        continue;
                    }
                    params.push(Some(spi::param_text(*argtypes.add(i), *Values.add(i))?));
                }
            }
            Ok(Some(params))
        });
        match params {
            Ok(Some(params)) => {
                if !spi::connected() {
                    return spi::SPI_ERROR_UNCONNECTED;
                }
                // SAFETY: as the caller promises.
                unsafe { run("SPI_execute_with_args", src, params, tcount) }
            }
            Ok(None) => spi::SPI_ERROR_ARGUMENT,
            Err(message) => raise(ExecError::Local(*b"0A000", message)),
        }
    })
}

/// `SPI_result_code_string`: the name of an `SPI_OK_*`/`SPI_ERROR_*` code.
#[no_mangle]
pub extern "C" fn SPI_result_code_string(code: c_int) -> *const c_char {
    export!(raises, SPI_result_code_string, {
        static mut UNKNOWN: [c_char; 64] = [0; 64];
        if let Some(name) = spi::code_name(code) {
            return name.as_ptr();
        }
        let text = format!("Unrecognized SPI code {code}");
        // SAFETY: single-threaded; the buffer is 64 bytes and the text is shorter, NUL-terminated.
        unsafe {
            let p = &raw mut UNKNOWN;
            let buf = &mut *p;
            buf.fill(0);
            for (d, &b) in buf.iter_mut().zip(text.as_bytes().iter().take(63)) {
                *d = b as c_char;
            }
            buf.as_ptr()
        }
    })
}

/// A palloc'd copy of `bytes` (NUL-terminated) in `CurrentMemoryContext`.
fn pstrdup_bytes(bytes: &[u8]) -> *mut c_char {
    // SAFETY: CurrentMemoryContext is live; bytes is valid for its length.
    unsafe { mcxt::copy_string(CurrentMemoryContext, bytes.as_ptr().cast(), bytes.len()) }
}

/// `SPI_fnumber`: the 1-based number of the column named `fname`, or `SPI_ERROR_NOATTRIBUTE`.
///
/// # Safety
/// `tupdesc` live; `fname` NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn SPI_fnumber(tupdesc: TupleDesc, fname: *const c_char) -> c_int {
    export!(boundary, SPI_fnumber, spi::SPI_ERROR_NOATTRIBUTE, {
        // SAFETY: as the caller promises.
        let Some(want) = (unsafe { crate::pg::cstr(fname) }) else {
            return spi::SPI_ERROR_NOATTRIBUTE;
        };
        if tupdesc.is_null() {
            return spi::SPI_ERROR_NOATTRIBUTE;
        }
        // SAFETY: tupdesc is live with natts attributes; attname is NUL-terminated.
        unsafe {
            for i in 0..(*tupdesc).natts.max(0) as usize {
                let a = &*spi::attr(tupdesc, i);
                if !a.attisdropped
                    && std::ffi::CStr::from_ptr(a.attname.as_ptr()).to_bytes() == want
                {
                    return i as c_int + 1;
                }
            }
        }
        spi::SPI_ERROR_NOATTRIBUTE
    })
}

/// `SPI_fname`: a palloc'd copy of column `fnumber`'s name (NULL and `SPI_result` =
/// `SPI_ERROR_NOATTRIBUTE` when out of range).
///
/// # Safety
/// `tupdesc` must be live.
#[no_mangle]
pub unsafe extern "C" fn SPI_fname(tupdesc: TupleDesc, fnumber: c_int) -> *mut c_char {
    export!(raises, SPI_fname, {
        spi::set_result(0);
        // SAFETY: as the caller promises.
        match unsafe { spi::column(tupdesc, fnumber) } {
            // SAFETY: the column exists; attname is NUL-terminated.
            Some(i) => pstrdup_bytes(unsafe {
                std::ffi::CStr::from_ptr((*spi::attr(tupdesc, i)).attname.as_ptr()).to_bytes()
            }),
            None => {
                spi::set_result(spi::SPI_ERROR_NOATTRIBUTE);
                null_mut()
            }
        }
    })
}

/// `SPI_getvalue`: a palloc'd copy of the server's text for column `fnumber`, NULL for an SQL
/// NULL (and, with `SPI_result` = `SPI_ERROR_NOATTRIBUTE`, for a column out of range).
///
/// # Safety
/// `tuple` must come from `SPI_tuptable` (or be a heap tuple described by `tupdesc`).
#[no_mangle]
pub unsafe extern "C" fn SPI_getvalue(
    tuple: HeapTuple,
    tupdesc: TupleDesc,
    fnumber: c_int,
) -> *mut c_char {
    export!(raises, SPI_getvalue, {
        spi::set_result(0);
        // SAFETY: as the caller promises.
        let Some(col) = (unsafe { spi::column(tupdesc, fnumber) }) else {
            spi::set_result(spi::SPI_ERROR_NOATTRIBUTE);
            return null_mut();
        };
        if tuple.is_null() {
            return null_mut();
        }
        // SAFETY: as the caller promises: a live tuple from the library's allocator.
        match unsafe { spi::server_text(tuple, col) } {
            Some(None) => null_mut(),
            // SAFETY: the trailer's text is NUL-terminated and lives with the tuple.
            Some(Some(p)) => pstrdup_bytes(unsafe { std::ffi::CStr::from_ptr(p) }.to_bytes()),
            None => {
                // SAFETY: the tuple is described by tupdesc; the column exists.
                let text = unsafe {
                    spi::getattr(tuple, tupdesc, col + 1)
                        .and_then(|d| spi::datum_text((*spi::attr(tupdesc, col)).atttypid, d))
                };
                text.map_or(null_mut(), |t| pstrdup_bytes(&t))
            }
        }
    })
}

/// `SPI_getbinval`: column `fnumber`'s value as a Datum (by value for the fixed-size types, a
/// pointer into the tuple for `name`, `bytea` and the text types); `*isnull` set. A type kept as
/// text only (see spi.h) raises ERROR.
///
/// # Safety
/// As `SPI_getvalue`; `isnull` must be writable.
#[no_mangle]
pub unsafe extern "C" fn SPI_getbinval(
    tuple: HeapTuple,
    tupdesc: TupleDesc,
    fnumber: c_int,
    isnull: *mut bool,
) -> Datum {
    export!(raises, SPI_getbinval, {
        spi::set_result(0);
        // SAFETY: as the caller promises.
        let Some(col) = (unsafe { spi::column(tupdesc, fnumber) }) else {
            spi::set_result(spi::SPI_ERROR_NOATTRIBUTE);
            if !isnull.is_null() {
                // SAFETY: writable, as promised.
                unsafe { *isnull = true };
            }
            return 0;
        };
        // SAFETY: the column exists.
        let typid = unsafe { (*spi::attr(tupdesc, col)).atttypid };
        let value = if tuple.is_null() {
            None
        } else {
            // SAFETY: as the caller promises: a live tuple described by tupdesc.
            unsafe { spi::getattr(tuple, tupdesc, col + 1) }
        };
        if !isnull.is_null() {
            // SAFETY: writable, as promised.
            unsafe { *isnull = value.is_none() };
        }
        if value.is_some() && spi::kind_of(typid) == Kind::Other {
            let name =
                spi::builtin_type_name(typid).map_or_else(|| typid.to_string(), str::to_owned);
            spi::raise_error(
            *b"0A000",
            format!("SPI_getbinval: values of type {name} are only available as text here"),
            None,
            Some("Use SPI_getvalue, or cast the column to text, an integer or float type in the query.".into()),
        );
        }
        value.unwrap_or(0)
    })
}

/// `SPI_gettypeid`: column `fnumber`'s type OID (`InvalidOid` and `SPI_ERROR_NOATTRIBUTE` when
/// out of range).
///
/// # Safety
/// `tupdesc` must be live.
#[no_mangle]
pub unsafe extern "C" fn SPI_gettypeid(tupdesc: TupleDesc, fnumber: c_int) -> Oid {
    export!(raises, SPI_gettypeid, {
        spi::set_result(0);
        // SAFETY: as the caller promises.
        match unsafe { spi::column(tupdesc, fnumber) } {
            // SAFETY: the column exists.
            Some(i) => unsafe { (*spi::attr(tupdesc, i)).atttypid },
            None => {
                spi::set_result(spi::SPI_ERROR_NOATTRIBUTE);
                0
            }
        }
    })
}

/// `SPI_gettype`: a palloc'd copy of column `fnumber`'s type name (`pg_type.typname`; asked of
/// the server for types outside the built-in list). NULL with `SPI_result` set on failure.
///
/// # Safety
/// `tupdesc` must be live.
#[no_mangle]
pub unsafe extern "C" fn SPI_gettype(tupdesc: TupleDesc, fnumber: c_int) -> *mut c_char {
    export!(raises, SPI_gettype, {
        // SAFETY: as the caller promises.
        let typid = unsafe { SPI_gettypeid(tupdesc, fnumber) };
        if typid == 0 {
            return null_mut();
        }
        let name = boundary("SPI_gettype", None, || {
            spi::builtin_type_name(typid)
                .map(str::to_owned)
                .or_else(|| spi::server_type_name(typid))
        });
        match name {
            Some(n) => pstrdup_bytes(n.as_bytes()),
            None => {
                spi::set_result(spi::SPI_ERROR_TYPUNKNOWN);
                null_mut()
            }
        }
    })
}

/// `SPI_palloc`: allocates in the context that was current at `SPI_connect` (so it survives
/// `SPI_finish`); ERROR when not connected.
#[no_mangle]
pub extern "C" fn SPI_palloc(size: size_t) -> *mut c_void {
    export!(raises, SPI_palloc, {
        match spi::saved_context() {
            // SAFETY: the saved context is live (it encloses the SPI level).
            Some(cxt) => unsafe { mcxt::alloc_in(cxt, size, 0) },
            None => crate::pg::raise(
                crate::pg::types::ERROR,
                "SPI_palloc called while not connected to SPI",
            ),
        }
    })
}

/// `SPI_repalloc`: `repalloc`.
///
/// # Safety
/// `pointer` must be a live palloc'd chunk.
#[no_mangle]
pub unsafe extern "C" fn SPI_repalloc(pointer: *mut c_void, size: size_t) -> *mut c_void {
    export!(raises, SPI_repalloc, {
        // SAFETY: as the caller promises.
        unsafe { mcxt::realloc(pointer, size, 0) }
    })
}

/// `SPI_pfree`: `pfree`.
///
/// # Safety
/// `pointer` must be a live palloc'd chunk.
#[no_mangle]
pub unsafe extern "C" fn SPI_pfree(pointer: *mut c_void) {
    export!(raises, SPI_pfree, {
        // SAFETY: as the caller promises.
        unsafe { mcxt::free(pointer) }
    })
}

/// `SPI_freetuple`: frees a tuple (`heap_freetuple`).
///
/// # Safety
/// `tuple` must be NULL or a live palloc'd tuple.
#[no_mangle]
pub unsafe extern "C" fn SPI_freetuple(tuple: HeapTuple) {
    export!(raises, SPI_freetuple, {
        // SAFETY: as the caller promises.
        unsafe { mcxt::free(tuple.cast()) }
    })
}

/// `SPI_freetuptable`: frees a result now instead of at `SPI_finish`. NULL is ignored.
///
/// # Safety
/// `tuptable` must be NULL or a live result of this SPI level.
#[no_mangle]
pub unsafe extern "C" fn SPI_freetuptable(tuptable: *mut SPITupleTable) {
    export!(raises, SPI_freetuptable, {
        if tuptable.is_null() {
            return;
        }
        // SAFETY: as the caller promises; the table lives in its own context, deleted once.
        unsafe {
            if spi::SPI_tuptable == tuptable {
                spi::SPI_tuptable = null_mut();
            }
            mcxt::delete((*tuptable).tuptabcxt);
        }
    })
}

/// `nocachegetattr`: attribute `attnum` (1-based, not NULL) of a heap tuple, as PostgreSQL's
/// `heap_getattr`/`fastgetattr` inline code calls it.
///
/// # Safety
/// `tup` must be a live heap tuple described by `tupleDesc`; `attnum` in `1..=natts`.
#[no_mangle]
pub unsafe extern "C" fn nocachegetattr(
    tup: HeapTuple,
    attnum: c_int,
    tupleDesc: TupleDesc,
) -> Datum {
    export!(raises, nocachegetattr, {
        if attnum < 1 {
            return 0;
        }
        // SAFETY: as the caller promises.
        unsafe { spi::getattr(tup, tupleDesc, attnum as usize) }.unwrap_or(0)
    })
}
