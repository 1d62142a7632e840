//! Exports: SPI's prepared plans (`SPI_prepare*`, `SPI_execute_plan*`, `SPI_execp`,
//! `SPI_keepplan`, `SPI_saveplan`, `SPI_freeplan`, `SPI_getargcount`, `SPI_getargtypeid`,
//! `SPI_is_cursor_plan`, `SPI_plan_is_valid`) and parameter lists (`makeParamList`,
//! `nodes/params.h`). Logic in `crate::db::plan`. Declared by hand in include/executor/spi.h
//! and include/nodes/params.h.

use super::spi_api::{checked, texts};
use crate::db::plan::{self, SPIPlanPtr};
use crate::db::spi::{self, ExecError};
use crate::pg::types::{Datum, Oid};
use libc::{c_char, c_int, c_long, c_void};
use std::mem::{offset_of, size_of};
use std::ptr::null_mut;

/// `ParamExternData` (16 bytes).
#[repr(C)]
#[derive(Clone, Copy)]
pub struct ParamExternData {
    pub value: Datum,
    pub isnull: bool,
    pub pflags: u16,
    pub ptype: Oid,
}

/// `ParamFetchHook`.
pub type ParamFetchHook = Option<
    unsafe extern "C" fn(
        params: *mut ParamListInfoData,
        paramid: c_int,
        speculative: bool,
        workspace: *mut ParamExternData,
    ) -> *mut ParamExternData,
>;

/// `ParamListInfoData`: 64 bytes of header, then `numParams` entries.
#[repr(C)]
pub struct ParamListInfoData {
    pub paramFetch: ParamFetchHook,
    pub paramFetchArg: *mut c_void,
    pub paramCompile: *mut c_void,
    pub paramCompileArg: *mut c_void,
    pub parserSetup: *mut c_void,
    pub parserSetupArg: *mut c_void,
    pub paramValuesStr: *mut c_char,
    pub numParams: c_int,
    pub params: [ParamExternData; 0],
}

const _: () = assert!(size_of::<ParamExternData>() == 16);
const _: () = assert!(offset_of!(ParamExternData, ptype) == 12);
const _: () = assert!(offset_of!(ParamListInfoData, numParams) == 56);
const _: () = assert!(offset_of!(ParamListInfoData, params) == 64);

/// `makeParamList`: a zeroed list of `numParams` parameters in `CurrentMemoryContext`.
#[no_mangle]
pub extern "C" fn makeParamList(numParams: c_int) -> *mut ParamListInfoData {
    export!(raises, makeParamList, {
        let n = numParams.max(0) as usize;
        let size = size_of::<ParamListInfoData>() + n * size_of::<ParamExternData>();
        let p = crate::mcxt::alloc(size, true).cast::<ParamListInfoData>();
        // SAFETY: p is a fresh zeroed block of `size` bytes.
        unsafe { (*p).numParams = n as c_int };
        p
    })
}

/// The values of a parameter list, through its fetch hook when it has one (module code, run
/// here, outside any panic boundary), copied into a palloc'd array of `numParams` entries.
///
/// # Safety
/// `params` must be NULL or a valid list.
pub(super) unsafe fn fetch_params(params: *mut ParamListInfoData) -> (*mut ParamExternData, usize) {
    if params.is_null() {
        return (null_mut(), 0);
    }
    // SAFETY: as the caller promises; the copy has room for n entries.
    unsafe {
        let n = (*params).numParams.max(0) as usize;
        let out = crate::mcxt::alloc(n.max(1) * size_of::<ParamExternData>(), true)
            .cast::<ParamExternData>();
        let base = (&raw mut (*params).params).cast::<ParamExternData>();
        for i in 0..n {
            let src = match (*params).paramFetch {
                Some(hook) => {
                    let mut workspace = ParamExternData {
                        value: 0,
                        isnull: true,
                        pflags: 0,
                        ptype: 0,
                    };
                    let p = hook(params, i as c_int + 1, false, &mut workspace);
                    if p.is_null() {
                        workspace
                    } else {
                        *p
                    }
                }
                None => *base.add(i),
            };
            *out.add(i) = src;
        }
        (out, n)
    }
}

/// Parameters' types and text forms (None for NULL).
pub(super) type ParamTexts = (Vec<Oid>, Vec<Option<Vec<u8>>>);

/// Text forms of fetched parameters, typed by `types` where the list gives no type.
///
/// # Safety
/// `fetched` must hold `n` entries whose Datums are live values of their types.
pub(super) unsafe fn param_texts(
    fetched: *const ParamExternData,
    n: usize,
    types: &[Oid],
) -> Result<ParamTexts, ExecError> {
    let mut ts = Vec::with_capacity(n);
    let mut vs = Vec::with_capacity(n);
    for i in 0..n {
        // SAFETY: as the caller promises.
        let p = unsafe { *fetched.add(i) };
        let t = if p.ptype != 0 {
            p.ptype
        } else {
            types.get(i).copied().unwrap_or(0)
        };
        ts.push(t);
        if p.isnull {
            vs.push(None);
            continue;
        }
        // SAFETY: as the caller promises.
        let text =
            unsafe { spi::param_text(t, p.value) }.map_err(|m| ExecError::Local(*b"0A000", m))?;
        vs.push(Some(text));
    }
    Ok((ts, vs))
}

/// A plan pointer or NULL with `SPI_result` set, raising the server's error.
fn prepared(
    name: &str,
    src: *const c_char,
    nargs: c_int,
    argtypes: *const Oid,
    cursor_options: c_int,
) -> SPIPlanPtr {
    checked(name, || {
        // SAFETY: the caller (a module) promises a NUL-terminated string or NULL.
        let Some(sql) = (unsafe { crate::pg::cstr(src) }) else {
            spi::set_result(spi::SPI_ERROR_ARGUMENT);
            return Ok(null_mut());
        };
        if nargs < 0 || (nargs > 0 && argtypes.is_null()) {
            spi::set_result(spi::SPI_ERROR_ARGUMENT);
            return Ok(null_mut());
        }
        if !spi::connected() {
            spi::set_result(spi::SPI_ERROR_UNCONNECTED);
            return Ok(null_mut());
        }
        let types = if nargs == 0 {
            Vec::new()
        } else {
            // SAFETY: argtypes has nargs entries, as the module promises.
            unsafe { std::slice::from_raw_parts(argtypes, nargs as usize) }.to_vec()
        };
        let plan = plan::prepare(&String::from_utf8_lossy(sql), &types, cursor_options)?;
        spi::set_result(0);
        Ok(plan)
    })
}

/// `SPI_prepare`: prepares `src` (one statement, `$1..$nargs` of types `argtypes`) on the
/// server; NULL with `SPI_result` set on bad arguments; a server error is raised.
///
/// # Safety
/// `src` NULL or NUL-terminated; `argtypes` `nargs` entries.
#[no_mangle]
pub unsafe extern "C" fn SPI_prepare(
    src: *const c_char,
    nargs: c_int,
    argtypes: *mut Oid,
) -> SPIPlanPtr {
    export!(raises, SPI_prepare, {
        prepared("SPI_prepare", src, nargs, argtypes, 0)
    })
}

/// `SPI_prepare_cursor`: `SPI_prepare` with cursor options (`CURSOR_OPT_SCROLL`, ...), used when
/// the plan is opened as a cursor.
///
/// # Safety
/// As `SPI_prepare`.
#[no_mangle]
pub unsafe extern "C" fn SPI_prepare_cursor(
    src: *const c_char,
    nargs: c_int,
    argtypes: *mut Oid,
    cursorOptions: c_int,
) -> SPIPlanPtr {
    export!(raises, SPI_prepare_cursor, {
        prepared("SPI_prepare_cursor", src, nargs, argtypes, cursorOptions)
    })
}

/// `SPI_prepare_params`: the parameters' types are inferred by the server. The parser-setup
/// hook cannot take part in a client-side plan and is not called.
///
/// # Safety
/// `src` NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn SPI_prepare_params(
    src: *const c_char,
    _parserSetup: *mut c_void,
    _parserSetupArg: *mut c_void,
    cursorOptions: c_int,
) -> SPIPlanPtr {
    export!(raises, SPI_prepare_params, {
        prepared(
            "SPI_prepare_params",
            src,
            0,
            std::ptr::null(),
            cursorOptions,
        )
    })
}

/// `SPI_execute_plan`: runs a prepared plan with `Values` (NULL where `Nulls[i] == 'n'`).
///
/// # Safety
/// `plan` from `SPI_prepare*`; `Values` as many Datums as the plan has parameters, of their
/// types; `Nulls` NULL or that many bytes.
#[no_mangle]
pub unsafe extern "C" fn SPI_execute_plan(
    plan: SPIPlanPtr,
    Values: *mut Datum,
    Nulls: *const c_char,
    _read_only: bool,
    tcount: c_long,
) -> c_int {
    export!(raises, SPI_execute_plan, {
        checked("SPI_execute_plan", || {
            if !plan::is_valid(plan) || tcount < 0 {
                return Ok(spi::SPI_ERROR_ARGUMENT);
            }
            let types = plan::argtypes(plan).unwrap_or_default();
            if Values.is_null() && !types.is_empty() {
                return Ok(spi::SPI_ERROR_PARAM);
            }
            // SAFETY: as the caller promises.
            let values = unsafe { texts(&types, Values, Nulls, "SPI_execute_plan") }?;
            plan::execute(plan, values, tcount)
        })
    })
}

/// `SPI_execp`: `SPI_execute_plan` with `read_only` false.
///
/// # Safety
/// As `SPI_execute_plan`.
#[no_mangle]
pub unsafe extern "C" fn SPI_execp(
    plan: SPIPlanPtr,
    Values: *mut Datum,
    Nulls: *const c_char,
    tcount: c_long,
) -> c_int {
    export!(raises, SPI_execp, {
        // SAFETY: as the caller promises.
        unsafe { SPI_execute_plan(plan, Values, Nulls, false, tcount) }
    })
}

/// `SPI_execute_plan_with_paramlist`: the parameters come from a `ParamListInfo` (its fetch
/// hook is called for each).
///
/// # Safety
/// `plan` from `SPI_prepare*`; `params` NULL or a valid list.
#[no_mangle]
pub unsafe extern "C" fn SPI_execute_plan_with_paramlist(
    plan: SPIPlanPtr,
    params: *mut ParamListInfoData,
    _read_only: bool,
    tcount: c_long,
) -> c_int {
    export!(raises, SPI_execute_plan_with_paramlist, {
        if !plan::is_valid(plan) || tcount < 0 {
            return spi::SPI_ERROR_ARGUMENT;
        }
        // SAFETY: as the caller promises; module hooks run here, outside any boundary.
        let (fetched, n) = unsafe { fetch_params(params) };
        let code = checked("SPI_execute_plan_with_paramlist", || {
            let types = plan::argtypes(plan).unwrap_or_default();
            // SAFETY: fetched holds n entries.
            let (_, values) = unsafe { param_texts(fetched, n, &types) }?;
            plan::execute(plan, values, tcount)
        });
        // SAFETY: fetched was palloc'd by fetch_params (or is NULL).
        unsafe { crate::mcxt::free(fetched.cast()) };
        code
    })
}

/// `SPI_keepplan`: the plan outlives `SPI_finish` (until `SPI_freeplan`); 0, or
/// `SPI_ERROR_ARGUMENT` for an invalid or already kept plan.
#[no_mangle]
pub extern "C" fn SPI_keepplan(plan: SPIPlanPtr) -> c_int {
    export!(boundary, SPI_keepplan, spi::SPI_ERROR_ARGUMENT, {
        plan::keep(plan)
    })
}

/// `SPI_saveplan`: a kept copy of the plan; NULL with `SPI_result` set on error.
#[no_mangle]
pub extern "C" fn SPI_saveplan(plan: SPIPlanPtr) -> SPIPlanPtr {
    export!(boundary, SPI_saveplan, null_mut(), {
        if !plan::is_valid(plan) {
            spi::set_result(spi::SPI_ERROR_ARGUMENT);
            return null_mut();
        }
        if !spi::connected() {
            spi::set_result(spi::SPI_ERROR_UNCONNECTED);
            return null_mut();
        }
        spi::set_result(0);
        plan::save(plan).unwrap_or(null_mut())
    })
}

/// `SPI_freeplan`: frees the plan and deallocates its prepared statement; 0, or
/// `SPI_ERROR_ARGUMENT`.
#[no_mangle]
pub extern "C" fn SPI_freeplan(plan: SPIPlanPtr) -> c_int {
    export!(boundary, SPI_freeplan, spi::SPI_ERROR_ARGUMENT, {
        plan::free(plan)
    })
}

/// `SPI_getargcount`: the plan's number of parameters (-1 and `SPI_ERROR_ARGUMENT` when the
/// plan is invalid).
#[no_mangle]
pub extern "C" fn SPI_getargcount(plan: SPIPlanPtr) -> c_int {
    export!(raises, SPI_getargcount, {
        let types = checked("SPI_getargcount", || Ok(plan::argtypes(plan)));
        match types {
            Some(t) => t.len() as c_int,
            None => {
                spi::set_result(spi::SPI_ERROR_ARGUMENT);
                -1
            }
        }
    })
}

/// `SPI_getargtypeid`: the type of parameter `argIndex` (0-based); `InvalidOid` and
/// `SPI_ERROR_ARGUMENT` when out of range.
#[no_mangle]
pub extern "C" fn SPI_getargtypeid(plan: SPIPlanPtr, argIndex: c_int) -> Oid {
    export!(raises, SPI_getargtypeid, {
        let types = checked("SPI_getargtypeid", || Ok(plan::argtypes(plan)));
        match types.and_then(|t| {
            usize::try_from(argIndex)
                .ok()
                .and_then(|i| t.get(i).copied())
        }) {
            Some(t) => t,
            None => {
                spi::set_result(spi::SPI_ERROR_ARGUMENT);
                0
            }
        }
    })
}

/// `SPI_is_cursor_plan`: true when the plan is one statement returning rows (it can be opened
/// as a cursor).
#[no_mangle]
pub extern "C" fn SPI_is_cursor_plan(plan: SPIPlanPtr) -> bool {
    export!(raises, SPI_is_cursor_plan, {
        checked("SPI_is_cursor_plan", || plan::is_cursor_plan(plan))
    })
}

/// `SPI_plan_is_valid`: true for a live plan (a plan whose statement the server forgot is
/// prepared again when it runs).
#[no_mangle]
pub extern "C" fn SPI_plan_is_valid(plan: SPIPlanPtr) -> bool {
    export!(boundary, SPI_plan_is_valid, false, { plan::is_valid(plan) })
}

/// `SPIExecuteOptions` (40 bytes): the options of `SPI_execute_extended` and
/// `SPI_execute_plan_extended`.
#[repr(C)]
pub struct SPIExecuteOptions {
    pub params: *mut ParamListInfoData,
    pub read_only: bool,
    pub allow_nonatomic: bool,
    pub must_return_tuples: bool,
    pub tcount: u64,
    pub dest: *mut c_void,
    pub owner: *mut c_void,
}

const _: () = assert!(size_of::<SPIExecuteOptions>() == 40);
const _: () = assert!(offset_of!(SPIExecuteOptions, tcount) == 16);

/// What the options ask that cannot be done: a DestReceiver is the server executor's.
fn refuse_dest(options: &SPIExecuteOptions, function: &str) -> Result<(), ExecError> {
    if options.dest.is_null() {
        Ok(())
    } else {
        Err(ExecError::Local(
            *b"0A000",
            format!("{function}: a DestReceiver cannot receive rows from the database server"),
        ))
    }
}

fn tcount(options: &SPIExecuteOptions) -> c_long {
    c_long::try_from(options.tcount).unwrap_or(c_long::MAX)
}

/// `SPI_execute_extended`: `SPI_execute` with options: parameters from `params` (then one
/// statement), `tcount`, `must_return_tuples`, and `allow_nonatomic`, which in a non-atomic
/// level lets a CALL or DO commit inside (it runs outside the transaction block, and what the
/// transaction did before it is committed first).
///
/// # Safety
/// `src` NULL or NUL-terminated; `options` NULL or valid, its `params` NULL or a valid list.
#[no_mangle]
pub unsafe extern "C" fn SPI_execute_extended(
    src: *const c_char,
    options: *const SPIExecuteOptions,
) -> c_int {
    export!(raises, SPI_execute_extended, {
        if src.is_null() || options.is_null() {
            return spi::SPI_ERROR_ARGUMENT;
        }
        // SAFETY: as the caller promises; module hooks run here, outside any boundary.
        let (fetched, n) = unsafe { fetch_params((*options).params) };
        let code = checked("SPI_execute_extended", || {
            // SAFETY: checked non-NULL above; valid as the caller promises.
            let o = unsafe { &*options };
            refuse_dest(o, "SPI_execute_extended")?;
            // SAFETY: as the caller promises.
            let sql = String::from_utf8_lossy(unsafe { crate::pg::cstr(src) }.unwrap_or(b""))
                .into_owned();
            if o.must_return_tuples {
                spi::require_tuples(&sql)?;
            }
            // SAFETY: fetched holds n entries.
            let (types, values) = unsafe { param_texts(fetched, n, &[]) }?;
            spi::allowing_nonatomic(o.allow_nonatomic, || {
                spi::execute_with_args(&sql, spi::Args { types, values }, tcount(o))
            })
        });
        // SAFETY: fetched was palloc'd by fetch_params (or is NULL).
        unsafe { crate::mcxt::free(fetched.cast()) };
        code
    })
}

/// `SPI_execute_plan_extended`: `SPI_execute_plan` with options (see `SPI_execute_extended`).
///
/// # Safety
/// `plan` from `SPI_prepare*`; `options` NULL or valid, its `params` NULL or a valid list.
#[no_mangle]
pub unsafe extern "C" fn SPI_execute_plan_extended(
    plan: SPIPlanPtr,
    options: *const SPIExecuteOptions,
) -> c_int {
    export!(raises, SPI_execute_plan_extended, {
        if !plan::is_valid(plan) || options.is_null() {
            return spi::SPI_ERROR_ARGUMENT;
        }
        // SAFETY: as the caller promises; module hooks run here, outside any boundary.
        let (fetched, n) = unsafe { fetch_params((*options).params) };
        let code = checked("SPI_execute_plan_extended", || {
            // SAFETY: checked non-NULL above; valid as the caller promises.
            let o = unsafe { &*options };
            refuse_dest(o, "SPI_execute_plan_extended")?;
            if o.must_return_tuples && !plan::is_cursor_plan(plan)? {
                return Err(ExecError::Local(
                    *b"42601",
                    "query does not return tuples".into(),
                ));
            }
            let types = plan::argtypes(plan).unwrap_or_default();
            // SAFETY: fetched holds n entries.
            let (_, values) = unsafe { param_texts(fetched, n, &types) }?;
            spi::allowing_nonatomic(o.allow_nonatomic, || plan::execute(plan, values, tcount(o)))
        });
        // SAFETY: fetched was palloc'd by fetch_params (or is NULL).
        unsafe { crate::mcxt::free(fetched.cast()) };
        code
    })
}
