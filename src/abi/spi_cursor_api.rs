//! Exports: SPI's cursors (`SPI_cursor_open`, `SPI_cursor_open_with_args`,
//! `SPI_cursor_open_with_paramlist`, `SPI_cursor_find`, `SPI_cursor_fetch`, `SPI_cursor_move`,
//! `SPI_scroll_cursor_fetch`, `SPI_scroll_cursor_move`, `SPI_cursor_close`). Logic in
//! `crate::db::cursor`. Declared by hand in include/executor/spi.h and include/utils/portal.h.

use super::spi_api::{checked, texts};
use super::spi_plan_api::{fetch_params, param_texts, ParamListInfoData, ParamTexts};
use crate::db::cursor::{self, Portal, Source, FETCH_BACKWARD, FETCH_FORWARD};
use crate::db::plan::{self, SPIPlanPtr};
use crate::db::spi::{Args, ExecError};
use crate::db::sql;
use crate::pg::types::{Datum, Oid};
use libc::{c_char, c_int, c_long};
use std::ptr::null_mut;

/// The cursor name argument: None for NULL (or empty: a generated name).
///
/// # Safety
/// `name` NULL or NUL-terminated.
unsafe fn name_of(name: *const c_char) -> Option<String> {
    // SAFETY: as the caller promises.
    unsafe { crate::pg::cstr(name) }.map(|b| String::from_utf8_lossy(b).into_owned())
}

/// Opens a cursor over a plan with the given parameter texts.
fn open_plan(
    name: Option<String>,
    plan: SPIPlanPtr,
    values: impl FnOnce(&[Oid]) -> Result<ParamTexts, ExecError>,
) -> Result<Portal, ExecError> {
    if !plan::is_valid(plan) {
        return Err(ExecError::Local(*b"XX000", "invalid SPI plan".into()));
    }
    let s = plan::cursor_source(plan)?;
    let (types, values) = values(&s.argtypes)?;
    let src = Source {
        sql: &s.sql,
        kind: s.kind,
        command_name: &s.command_name,
        statements: s.statements,
        cursor_options: s.cursor_options,
        returns_rows: s.returns_rows,
    };
    cursor::open(name.as_deref(), &src, &Args { types, values })
}

/// `SPI_cursor_open`: a cursor named `name` (NULL: `<unnamed portal N>`) over a prepared plan,
/// with `Values`/`Nulls` as in `SPI_execute_plan`; a server error is raised.
///
/// # Safety
/// `name` NULL or NUL-terminated; `plan` from `SPI_prepare*`; `Values`/`Nulls` as for
/// `SPI_execute_plan`.
#[no_mangle]
pub unsafe extern "C" fn SPI_cursor_open(
    name: *const c_char,
    plan: SPIPlanPtr,
    Values: *mut Datum,
    Nulls: *const c_char,
    _read_only: bool,
) -> Portal {
    export!(raises, SPI_cursor_open, {
        checked("SPI_cursor_open", || {
            // SAFETY: as the caller promises.
            let name = unsafe { name_of(name) };
            open_plan(name, plan, |types| {
                // SAFETY: as the caller promises.
                let v = unsafe { texts(types, Values, Nulls, "SPI_cursor_open") }?;
                Ok((types.to_vec(), v))
            })
        })
    })
}

/// `SPI_cursor_open_with_args`: a cursor over `src` with `$1..$nargs` bound as in
/// `SPI_execute_with_args`.
///
/// # Safety
/// As `SPI_execute_with_args`; `name` NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn SPI_cursor_open_with_args(
    name: *const c_char,
    src: *const c_char,
    nargs: c_int,
    argtypes: *mut Oid,
    Values: *mut Datum,
    Nulls: *const c_char,
    _read_only: bool,
    cursorOptions: c_int,
) -> Portal {
    export!(raises, SPI_cursor_open_with_args, {
        checked("SPI_cursor_open_with_args", || {
            // SAFETY: as the caller promises.
            let (name, text) = unsafe { (name_of(name), crate::pg::cstr(src)) };
            let Some(text) = text else {
                return Err(ExecError::Local(
                    *b"XX000",
                    "SPI_cursor_open_with_args called with invalid arguments".into(),
                ));
            };
            if nargs < 0 || (nargs > 0 && argtypes.is_null()) {
                return Err(ExecError::Local(
                    *b"XX000",
                    "SPI_cursor_open_with_args called with invalid arguments".into(),
                ));
            }
            let text = String::from_utf8_lossy(text);
            let types = if nargs == 0 {
                Vec::new()
            } else {
                // SAFETY: argtypes has nargs entries, as the caller promises.
                unsafe { std::slice::from_raw_parts(argtypes, nargs as usize) }.to_vec()
            };
            // SAFETY: as the caller promises.
            let values = unsafe { texts(&types, Values, Nulls, "SPI_cursor_open_with_args") }?;
            let stmts = sql::split(&text);
            let (kind, command_name, stmt_text) = match stmts.as_slice() {
                [one] => (one.kind(), one.command_name(), one.text),
                _ => (sql::Kind::Other, String::new(), &text[..]),
            };
            let src = Source {
                sql: stmt_text,
                kind,
                command_name: &command_name,
                statements: stmts.len(),
                cursor_options: cursorOptions,
                returns_rows: None,
            };
            cursor::open(name.as_deref(), &src, &Args { types, values })
        })
    })
}

/// `SPI_cursor_open_with_paramlist`: a cursor over a prepared plan with parameters from a
/// `ParamListInfo` (its fetch hook is called for each).
///
/// # Safety
/// `name` NULL or NUL-terminated; `plan` from `SPI_prepare*`; `params` NULL or a valid list.
#[no_mangle]
pub unsafe extern "C" fn SPI_cursor_open_with_paramlist(
    name: *const c_char,
    plan: SPIPlanPtr,
    params: *mut ParamListInfoData,
    _read_only: bool,
) -> Portal {
    export!(raises, SPI_cursor_open_with_paramlist, {
        // SAFETY: as the caller promises; module hooks run here, outside any boundary.
        let (fetched, n) = unsafe { fetch_params(params) };
        let portal = checked("SPI_cursor_open_with_paramlist", || {
            // SAFETY: as the caller promises.
            let name = unsafe { name_of(name) };
            open_plan(name, plan, |types| {
                // SAFETY: fetched holds n entries.
                unsafe { param_texts(fetched, n, types) }
            })
        });
        // SAFETY: fetched was palloc'd by fetch_params (or is NULL).
        unsafe { crate::mcxt::free(fetched.cast()) };
        portal
    })
}

/// `SPI_cursor_find`: the open cursor named `name`, or NULL.
///
/// # Safety
/// `name` NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn SPI_cursor_find(name: *const c_char) -> Portal {
    export!(boundary, SPI_cursor_find, null_mut(), {
        // SAFETY: as the caller promises.
        match unsafe { name_of(name) } {
            Some(n) => cursor::find(&n),
            None => null_mut(),
        }
    })
}

fn run(name: &str, portal: Portal, direction: c_int, count: c_long, move_only: bool) {
    checked(name, || cursor::fetch(portal, direction, count, move_only))
}

/// `SPI_cursor_fetch`: the next (or previous) `count` rows into `SPI_tuptable` and
/// `SPI_processed` (`FETCH_ALL`: all of them).
#[no_mangle]
pub extern "C" fn SPI_cursor_fetch(portal: Portal, forward: bool, count: c_long) {
    export!(raises, SPI_cursor_fetch, {
        let d = if forward {
            FETCH_FORWARD
        } else {
            FETCH_BACKWARD
        };
        run("SPI_cursor_fetch", portal, d, count, false)
    })
}

/// `SPI_cursor_move`: skips `count` rows; `SPI_processed` says how many.
#[no_mangle]
pub extern "C" fn SPI_cursor_move(portal: Portal, forward: bool, count: c_long) {
    export!(raises, SPI_cursor_move, {
        let d = if forward {
            FETCH_FORWARD
        } else {
            FETCH_BACKWARD
        };
        run("SPI_cursor_move", portal, d, count, true)
    })
}

/// `SPI_scroll_cursor_fetch`: fetch in a direction (`FETCH_FORWARD`, `FETCH_BACKWARD`,
/// `FETCH_ABSOLUTE`, `FETCH_RELATIVE`).
#[no_mangle]
pub extern "C" fn SPI_scroll_cursor_fetch(portal: Portal, direction: c_int, count: c_long) {
    export!(raises, SPI_scroll_cursor_fetch, {
        run("SPI_scroll_cursor_fetch", portal, direction, count, false)
    })
}

/// `SPI_scroll_cursor_move`: move in a direction.
#[no_mangle]
pub extern "C" fn SPI_scroll_cursor_move(portal: Portal, direction: c_int, count: c_long) {
    export!(raises, SPI_scroll_cursor_move, {
        run("SPI_scroll_cursor_move", portal, direction, count, true)
    })
}

/// `SPI_cursor_close`: closes the cursor.
#[no_mangle]
pub extern "C" fn SPI_cursor_close(portal: Portal) {
    export!(raises, SPI_cursor_close, {
        checked("SPI_cursor_close", || cursor::close(portal))
    })
}
