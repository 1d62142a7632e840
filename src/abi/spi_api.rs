//! Exports: SPI (`executor/spi.h`): connecting, running statements, non-atomic transaction
//! control, reading results; the heap-tuple reader behind `heap_getattr`
//! (`access/htup_details.h`). Plans and cursors are in `spi_plan_api.rs` and
//! `spi_cursor_api.rs`; the text/C-string conversions in `varlena_api.rs`. Logic in `crate::db`.
//! Declared by hand in include/executor/spi.h and include/access/htup_details.h (their types
//! need PostgreSQL's `NameData`), so kept out of bgworker.h.
//!
//! A server error is raised (ERROR, the server's SQLSTATE, message, detail and hint) only after
//! the panic boundary returned and every Rust value was dropped.

use super::boundary;
use crate::db::spi::{self, Args, ExecError, HeapTuple, Kind, SPITupleTable, TupleDesc};
use crate::mcxt::{self, CurrentMemoryContext};
use crate::pg::types::{Datum, Oid};
use libc::{c_char, c_int, c_long, c_void, size_t};
use std::ptr::null_mut;

/// Raises what the core reported; owns the strings so it can drop them before the longjmp.
pub(super) fn raise(e: ExecError) -> ! {
    match e {
        ExecError::Server(s) => spi::raise_error(s.sqlstate, s.message, s.detail, s.hint),
        ExecError::Local(code, message) => spi::raise_error(code, message, None, None),
    }
}

/// Runs `f` behind the panic boundary, then returns its value or raises its error (from this
/// frame, once everything `f` owned is dropped). `f` must not call module code that may raise.
pub(super) fn checked<T>(name: &str, f: impl FnOnce() -> Result<T, ExecError>) -> T {
    let outcome = boundary(
        name,
        Err(ExecError::Local(
            *b"XX000",
            format!("internal error in {name}"),
        )),
        f,
    );
    match outcome {
        Ok(v) => v,
        Err(e) => raise(e),
    }
}

/// The text of a statement argument, or None for NULL.
///
/// # Safety
/// `src` must be NULL or NUL-terminated.
unsafe fn sql_text(src: *const c_char) -> Option<String> {
    // SAFETY: as the caller promises.
    unsafe { crate::pg::cstr(src) }.map(|b| String::from_utf8_lossy(b).into_owned())
}

/// Parameters given as `Values`/`Nulls` arrays of `types.len()` entries, as text.
///
/// # Safety
/// `values` must hold `types.len()` Datums of those types (by-reference ones live); `nulls` NULL
/// or that many bytes.
pub(super) unsafe fn texts(
    types: &[Oid],
    values: *const Datum,
    nulls: *const c_char,
    function: &str,
) -> Result<Vec<Option<Vec<u8>>>, ExecError> {
    let mut out = Vec::with_capacity(types.len());
    if types.is_empty() {
        return Ok(out);
    }
    if values.is_null() {
        return Err(ExecError::Local(
            *b"22023",
            format!("{function}: no parameter values given"),
        ));
    }
    for (i, &t) in types.iter().enumerate() {
        // SAFETY: as the caller promises, each array has types.len() entries.
        unsafe {
            if !nulls.is_null() && *nulls.add(i) as u8 == b'n' {
                out.push(None);
                continue;
            }
            let text = spi::param_text(t, *values.add(i))
                .map_err(|m| ExecError::Local(*b"0A000", format!("{function}: {m}")))?;
            out.push(Some(text));
        }
    }
    Ok(out)
}

/// `SPI_connect`: opens an atomic SPI level; `CurrentMemoryContext` becomes its procedure
/// context.
#[no_mangle]
pub extern "C" fn SPI_connect() -> c_int {
    export!(boundary, SPI_connect, spi::SPI_ERROR_CONNECT, {
        spi::connect(0)
    })
}

/// `SPI_connect_ext`: as `SPI_connect`; with `SPI_OPT_NONATOMIC` the level may commit
/// (`SPI_commit`, `SPI_rollback`) and `CALL` procedures that commit.
#[no_mangle]
pub extern "C" fn SPI_connect_ext(options: c_int) -> c_int {
    export!(boundary, SPI_connect_ext, spi::SPI_ERROR_CONNECT, {
        spi::connect(options)
    })
}

/// `SPI_finish`: closes the innermost level, freeing all it allocated (`SPI_ERROR_UNCONNECTED`
/// when none is open).
#[no_mangle]
pub extern "C" fn SPI_finish() -> c_int {
    export!(boundary, SPI_finish, spi::SPI_ERROR_UNCONNECTED, {
        spi::finish()
    })
}

/// `SPI_execute`: runs every statement of `src` in order (one round trip); the result is the
/// last one's. `count` > 0 limits the rows a SELECT returns (the server stops there).
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
        checked("SPI_execute", || {
            // SAFETY: as the caller promises.
            match unsafe { sql_text(src) } {
                Some(sql) => spi::execute(&sql, tcount),
                None => Ok(spi::SPI_ERROR_ARGUMENT),
            }
        })
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
        unsafe { SPI_execute(src, false, tcount) }
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
        checked("SPI_execute_with_args", || {
            // SAFETY: as the caller promises.
            let Some(sql) = (unsafe { sql_text(src) }) else {
                return Ok(spi::SPI_ERROR_ARGUMENT);
            };
            if nargs < 0 || tcount < 0 || (nargs > 0 && argtypes.is_null()) {
                return Ok(spi::SPI_ERROR_ARGUMENT);
            }
            if !spi::connected() {
                return Ok(spi::SPI_ERROR_UNCONNECTED);
            }
            let types = if nargs == 0 {
                Vec::new()
            } else {
                // SAFETY: argtypes has nargs entries, as the caller promises.
                unsafe { std::slice::from_raw_parts(argtypes, nargs as usize) }.to_vec()
            };
            // SAFETY: as the caller promises.
            let values = unsafe { texts(&types, Values, Nulls, "SPI_execute_with_args") }?;
            spi::execute_with_args(&sql, Args { types, values }, tcount)
        })
    })
}

/// Ends the transaction of a non-atomic SPI level and starts the next one (PostgreSQL 15's
/// `SPI_commit` and friends); ERROR 2D000 in an atomic level or a subtransaction. A failed
/// commit rolls back, starts the next transaction, and raises the server's error. The
/// transaction callbacks run (they are module code: no panic boundary here).
fn end_transaction(commit: bool, chain: bool) {
    let refused = if !spi::connected() || !spi::nonatomic() {
        Some("invalid transaction termination")
    } else if crate::db::xact::is_subtransaction() {
        Some(if commit {
            "cannot commit while a subtransaction is active"
        } else {
            "cannot roll back while a subtransaction is active"
        })
    } else {
        None
    };
    if let Some(message) = refused {
        crate::pg::raise_with_code(
            crate::pg::types::ERROR,
            crate::pg::make_sqlstate(b"2D000"),
            message,
        );
    }
    // SAFETY: a plain read of the global.
    let caller = unsafe { CurrentMemoryContext };
    let outcome = crate::db::xact::end_and_start(commit, chain);
    // SAFETY: the caller's context is the SPI level's or survives the transaction (the level's
    // memory does); a plain store.
    unsafe { CurrentMemoryContext = caller };
    if let Err(e) = outcome {
        raise(ExecError::Server(e));
    }
}

/// `SPI_commit`: commits and starts a new transaction (non-atomic levels only).
#[no_mangle]
pub extern "C" fn SPI_commit() {
    export!(raises, SPI_commit, { end_transaction(true, false) })
}

/// `SPI_commit_and_chain`: as `SPI_commit`; the new transaction keeps the isolation level and
/// access mode.
#[no_mangle]
pub extern "C" fn SPI_commit_and_chain() {
    export!(raises, SPI_commit_and_chain, {
        end_transaction(true, true)
    })
}

/// `SPI_rollback`: rolls back and starts a new transaction (non-atomic levels only).
#[no_mangle]
pub extern "C" fn SPI_rollback() {
    export!(raises, SPI_rollback, { end_transaction(false, false) })
}

/// `SPI_rollback_and_chain`: as `SPI_rollback`, keeping the transaction's characteristics.
#[no_mangle]
pub extern "C" fn SPI_rollback_and_chain() {
    export!(raises, SPI_rollback_and_chain, {
        end_transaction(false, true)
    })
}

/// `SPI_start_transaction`: nothing to do (since PostgreSQL 15, `SPI_commit` and
/// `SPI_rollback` start the next transaction themselves).
#[no_mangle]
pub extern "C" fn SPI_start_transaction() {
    export!(raises, SPI_start_transaction, {})
}

/// `SPI_inside_nonatomic_context`: true when the innermost SPI level is non-atomic.
#[no_mangle]
pub extern "C" fn SPI_inside_nonatomic_context() -> bool {
    export!(boundary, SPI_inside_nonatomic_context, false, {
        spi::nonatomic()
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
    export!(boundary, SPI_freetuptable, (), {
        spi::free_tuptable(tuptable)
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
