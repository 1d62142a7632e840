//! Exports: settings — the custom variables a module defines (`DefineCustom*Variable`), reading
//! settings (`GetConfigOption*`), reloading (`ProcessConfigFile`) and check-hook messages.
//! Declared by hand in include/utils/guc.h (hidden from cbindgen), as PostgreSQL 15 declares them.

use super::boundary;
use crate::guc::custom::{
    self, Found, GucBoolAssignHook, GucBoolCheckHook, GucEnumAssignHook, GucEnumCheckHook,
    GucIntAssignHook, GucIntCheckHook, GucRealAssignHook, GucRealCheckHook, GucShowHook,
    GucStringAssignHook, GucStringCheckHook, Kind, Ptr,
};
use crate::pg::cstr;
use crate::pg::types::ERROR;
use libc::{c_char, c_int};
use parking_lot::Mutex;
use std::collections::BTreeMap;
use std::ffi::CString;
use std::ptr::null_mut;
use std::sync::atomic::Ordering;

/// One choice of an enum variable (`struct config_enum_entry`); the array ends with a NULL name.
/// cbindgen:ignore
#[repr(C)]
pub struct config_enum_entry {
    pub name: *const c_char,
    pub val: c_int,
    pub hidden: bool,
}

const _: () = assert!(std::mem::size_of::<config_enum_entry>() == 16);
const _: () = assert!(std::mem::align_of::<config_enum_entry>() == 8);
const _: () = assert!(std::mem::offset_of!(config_enum_entry, val) == 8);
const _: () = assert!(std::mem::offset_of!(config_enum_entry, hidden) == 12);

/// A check hook's own message for its refusal (`GUC_check_errmsg`), malloc'd; taken and freed
/// by the library after the hook returns.
/// cbindgen:ignore
#[no_mangle]
pub static mut GUC_check_errmsg_string: *mut c_char = null_mut();
/// A check hook's DETAIL for its refusal (`GUC_check_errdetail`).
/// cbindgen:ignore
#[no_mangle]
pub static mut GUC_check_errdetail_string: *mut c_char = null_mut();
/// A check hook's HINT for its refusal (`GUC_check_errhint`).
/// cbindgen:ignore
#[no_mangle]
pub static mut GUC_check_errhint_string: *mut c_char = null_mut();

extern "C" {
    // The library's own pstrdup (memory_api.rs): GetConfigOptionByName returns palloc'd text.
    fn pstrdup(s: *const c_char) -> *mut c_char;
}

/// Reports a definition error (ERROR or FATAL) from a C frame. The message is copied to this
/// frame first so nothing owned is left behind by the longjmp.
fn fail(level: c_int, message: String) -> ! {
    let mut buf = [0u8; 512];
    let n = message.len().min(buf.len());
    buf[..n].copy_from_slice(&message.as_bytes()[..n]);
    drop(message);
    let text = match std::str::from_utf8(&buf[..n]) {
        Ok(t) => t,
        // SAFETY: valid_up_to() bytes are valid UTF-8.
        Err(e) => unsafe { std::str::from_utf8_unchecked(&buf[..e.valid_up_to()]) },
    };
    crate::pg::raise(level, text)
}

/// A C string argument as text.
///
/// # Safety
/// `p` must be NULL or NUL-terminated.
unsafe fn text(p: *const c_char) -> Option<String> {
    // SAFETY: as the caller promises.
    unsafe { cstr(p) }.map(|b| String::from_utf8_lossy(b).into_owned())
}

/// The common part of the `DefineCustom*Variable` functions.
///
/// # Safety
/// `name` must be NULL or NUL-terminated.
unsafe fn define(
    what: &str,
    name: *const c_char,
    has_storage: bool,
    context: c_int,
    flags: c_int,
    kind: impl FnOnce() -> Kind,
    show: GucShowHook,
) {
    // SAFETY: as the caller promises.
    let name = unsafe { text(name) };
    let result = boundary(what, Ok(()), || {
        let Some(name) = name else {
            return Err((ERROR, format!("{what}: the parameter name is NULL")));
        };
        if !has_storage {
            return Err((ERROR, format!("{what}: no variable given for \"{name}\"")));
        }
        custom::define(&name, context, flags, kind(), show)
    });
    if let Err((level, message)) = result {
        fail(level, message)
    }
}

/// `DefineCustomBoolVariable`: a boolean setting stored in `*valueAddr`.
///
/// # Safety
/// Strings NUL-terminated; `valueAddr` must stay valid for the life of the process.
/// cbindgen:ignore
#[no_mangle]
pub unsafe extern "C" fn DefineCustomBoolVariable(
    name: *const c_char,
    _short_desc: *const c_char,
    _long_desc: *const c_char,
    valueAddr: *mut bool,
    bootValue: bool,
    context: c_int,
    flags: c_int,
    check_hook: GucBoolCheckHook,
    assign_hook: GucBoolAssignHook,
    show_hook: GucShowHook,
) {
    export!(raises, DefineCustomBoolVariable, {
        let kind = || Kind::Bool {
            addr: Ptr(valueAddr),
            boot: bootValue,
            check: check_hook,
            assign: assign_hook,
        };
        // SAFETY: as the caller promises.
        unsafe {
            define(
                "DefineCustomBoolVariable",
                name,
                !valueAddr.is_null(),
                context,
                flags,
                kind,
                show_hook,
            )
        }
    })
}

/// `DefineCustomIntVariable`: an integer setting in [minValue, maxValue] stored in `*valueAddr`;
/// values may carry a unit when `flags` names the variable's unit (GUC_UNIT_MS, ...).
///
/// # Safety
/// Strings NUL-terminated; `valueAddr` must stay valid for the life of the process.
/// cbindgen:ignore
#[no_mangle]
pub unsafe extern "C" fn DefineCustomIntVariable(
    name: *const c_char,
    _short_desc: *const c_char,
    _long_desc: *const c_char,
    valueAddr: *mut c_int,
    bootValue: c_int,
    minValue: c_int,
    maxValue: c_int,
    context: c_int,
    flags: c_int,
    check_hook: GucIntCheckHook,
    assign_hook: GucIntAssignHook,
    show_hook: GucShowHook,
) {
    export!(raises, DefineCustomIntVariable, {
        let kind = || Kind::Int {
            addr: Ptr(valueAddr),
            boot: bootValue,
            min: minValue,
            max: maxValue,
            check: check_hook,
            assign: assign_hook,
        };
        // SAFETY: as the caller promises.
        unsafe {
            define(
                "DefineCustomIntVariable",
                name,
                !valueAddr.is_null(),
                context,
                flags,
                kind,
                show_hook,
            )
        }
    })
}

/// `DefineCustomRealVariable`: a floating-point setting in [minValue, maxValue].
///
/// # Safety
/// Strings NUL-terminated; `valueAddr` must stay valid for the life of the process.
/// cbindgen:ignore
#[no_mangle]
pub unsafe extern "C" fn DefineCustomRealVariable(
    name: *const c_char,
    _short_desc: *const c_char,
    _long_desc: *const c_char,
    valueAddr: *mut f64,
    bootValue: f64,
    minValue: f64,
    maxValue: f64,
    context: c_int,
    flags: c_int,
    check_hook: GucRealCheckHook,
    assign_hook: GucRealAssignHook,
    show_hook: GucShowHook,
) {
    export!(raises, DefineCustomRealVariable, {
        let kind = || Kind::Real {
            addr: Ptr(valueAddr),
            boot: bootValue,
            min: minValue,
            max: maxValue,
            check: check_hook,
            assign: assign_hook,
        };
        // SAFETY: as the caller promises.
        unsafe {
            define(
                "DefineCustomRealVariable",
                name,
                !valueAddr.is_null(),
                context,
                flags,
                kind,
                show_hook,
            )
        }
    })
}

/// `DefineCustomStringVariable`: `*valueAddr` is set to a malloc'd copy of each value (NULL for
/// a NULL boot value); a replaced copy is freed.
///
/// # Safety
/// Strings NUL-terminated; `valueAddr` must stay valid for the life of the process.
/// cbindgen:ignore
#[no_mangle]
pub unsafe extern "C" fn DefineCustomStringVariable(
    name: *const c_char,
    _short_desc: *const c_char,
    _long_desc: *const c_char,
    valueAddr: *mut *mut c_char,
    bootValue: *const c_char,
    context: c_int,
    flags: c_int,
    check_hook: GucStringCheckHook,
    assign_hook: GucStringAssignHook,
    show_hook: GucShowHook,
) {
    export!(raises, DefineCustomStringVariable, {
        // SAFETY: as the caller promises.
        let boot = unsafe { cstr(bootValue) }.map(|b| CString::new(b).unwrap_or_default());
        let kind = || Kind::Str {
            addr: Ptr(valueAddr),
            boot,
            check: check_hook,
            assign: assign_hook,
        };
        // SAFETY: as the caller promises.
        unsafe {
            define(
                "DefineCustomStringVariable",
                name,
                !valueAddr.is_null(),
                context,
                flags,
                kind,
                show_hook,
            )
        }
    })
}

/// `DefineCustomEnumVariable`: one of `options` (matched case-insensitively; hidden entries
/// are accepted but not listed), stored as its `val`.
///
/// # Safety
/// Strings NUL-terminated; `options` ends with a NULL name; `valueAddr` must stay valid for the
/// life of the process.
/// cbindgen:ignore
#[no_mangle]
pub unsafe extern "C" fn DefineCustomEnumVariable(
    name: *const c_char,
    _short_desc: *const c_char,
    _long_desc: *const c_char,
    valueAddr: *mut c_int,
    bootValue: c_int,
    options: *const config_enum_entry,
    context: c_int,
    flags: c_int,
    check_hook: GucEnumCheckHook,
    assign_hook: GucEnumAssignHook,
    show_hook: GucShowHook,
) {
    export!(raises, DefineCustomEnumVariable, {
        let mut list = Vec::new();
        if !options.is_null() {
            let mut i = 0;
            loop {
                // SAFETY: the array ends with an entry whose name is NULL.
                let e = unsafe { &*options.add(i) };
                // SAFETY: entry names are NUL-terminated.
                let Some(n) = (unsafe { text(e.name) }) else {
                    break;
                };
                list.push((n, e.val, e.hidden));
                i += 1;
            }
        }
        let kind = || Kind::Enum {
            addr: Ptr(valueAddr),
            boot: bootValue,
            options: list,
            check: check_hook,
            assign: assign_hook,
        };
        // SAFETY: as the caller promises.
        unsafe {
            define(
                "DefineCustomEnumVariable",
                name,
                !valueAddr.is_null(),
                context,
                flags,
                kind,
                show_hook,
            )
        }
    })
}

/// `MarkGUCPrefixReserved`: `className.*` settings no module defined are removed (WARNING) and
/// refused from now on.
///
/// # Safety
/// `className` must be NULL or NUL-terminated.
/// cbindgen:ignore
#[no_mangle]
pub unsafe extern "C" fn MarkGUCPrefixReserved(className: *const c_char) {
    export!(boundary, MarkGUCPrefixReserved, (), {
        // SAFETY: as the caller promises.
        if let Some(class) = unsafe { text(className) } {
            custom::mark_reserved(&class);
        }
    })
}

/// Texts handed out by `GetConfigOption`, one per name: valid until the next call for the name.
static SHOWN: Mutex<BTreeMap<String, CString>> = Mutex::new(BTreeMap::new());
/// Canonical names handed out by `GetConfigOptionByName`; never freed.
static NAMES: Mutex<BTreeMap<String, CString>> = Mutex::new(BTreeMap::new());

fn unrecognized(name: &str) -> ! {
    fail(
        ERROR,
        format!("unrecognized configuration parameter \"{name}\""),
    )
}

/// `GetConfigOption`: a setting's current value as text (core settings, custom variables,
/// placeholders), or NULL when it does not exist and `missing_ok`. No privileges are checked.
///
/// # Safety
/// `name` must be NULL or NUL-terminated.
/// cbindgen:ignore
#[no_mangle]
pub unsafe extern "C" fn GetConfigOption(
    name: *const c_char,
    missing_ok: bool,
    _restrict_privileged: bool,
) -> *const c_char {
    export!(raises, GetConfigOption, {
        // SAFETY: as the caller promises.
        let Some(name) = (unsafe { text(name) }) else {
            return std::ptr::null();
        };
        let found = boundary("GetConfigOption", None, || {
            Some(match custom::get_config_option(&name)? {
                Found::Live(p) => p,
                Found::Text(t) => {
                    let key = name.to_ascii_lowercase();
                    let mut shown = SHOWN.lock();
                    if shown.get(&key).map(|c| c.as_bytes()) != Some(t.as_bytes()) {
                        shown.insert(key.clone(), CString::new(t).unwrap_or_default());
                    }
                    shown[&key].as_ptr()
                }
            })
        });
        match found {
            Some(p) => p,
            None if missing_ok => std::ptr::null(),
            None => unrecognized(&name),
        }
    })
}

/// `GetConfigOptionByName`: the value as `SHOW` prints it (units, show hook), palloc'd; sets
/// `*varname` to the setting's canonical name. NULL when missing and `missing_ok`.
///
/// # Safety
/// `name` must be NULL or NUL-terminated; `varname` NULL or writable.
/// cbindgen:ignore
#[no_mangle]
pub unsafe extern "C" fn GetConfigOptionByName(
    name: *const c_char,
    varname: *mut *const c_char,
    missing_ok: bool,
) -> *mut c_char {
    export!(raises, GetConfigOptionByName, {
        // SAFETY: as the caller promises.
        let Some(name) = (unsafe { text(name) }) else {
            return null_mut();
        };
        let found = boundary("GetConfigOptionByName", None, || {
            let (canonical, value) = custom::get_config_option_by_name(&name)?;
            let mut names = NAMES.lock();
            let n = names
                .entry(canonical.clone())
                .or_insert_with(|| CString::new(canonical).unwrap_or_default())
                .as_ptr();
            Some((n, CString::new(value).unwrap_or_default()))
        });
        let Some((n, value)) = found else {
            if !varname.is_null() {
                // SAFETY: the caller gave a writable pointer.
                unsafe { *varname = std::ptr::null() };
            }
            if missing_ok {
                return null_mut();
            }
            unrecognized(&name)
        };
        if !varname.is_null() {
            // SAFETY: as above; `n` points into NAMES, never freed.
            unsafe { *varname = n };
        }
        // SAFETY: value is NUL-terminated; pstrdup copies it (ERROR on out of memory).
        unsafe { pstrdup(value.as_ptr()) }
    })
}

/// `GetConfigOptionFlags`: the GUC_* flags of a setting (0 for core settings), 0 when missing
/// and `missing_ok`.
///
/// # Safety
/// `name` must be NULL or NUL-terminated.
/// cbindgen:ignore
#[no_mangle]
pub unsafe extern "C" fn GetConfigOptionFlags(name: *const c_char, missing_ok: bool) -> c_int {
    export!(raises, GetConfigOptionFlags, {
        // SAFETY: as the caller promises.
        let Some(name) = (unsafe { text(name) }) else {
            return 0;
        };
        match boundary("GetConfigOptionFlags", None, || custom::flags_of(&name)) {
            Some(f) => f,
            None if missing_ok => 0,
            None => unrecognized(&name),
        }
    })
}

/// `ProcessConfigFile`: re-reads DATADIR/bgworker.conf (and the `-c` overrides) in this
/// process and applies it; modules call it after a SIGHUP. Restart-only settings keep their
/// value (logged), invalid values are logged and the old value kept. A connected worker's
/// custom settings that changed are set on its database session too (once no transaction
/// block is open), so SQL sees what the worker sees.
/// cbindgen:ignore
#[no_mangle]
pub extern "C" fn ProcessConfigFile(_context: c_int) {
    export!(boundary, ProcessConfigFile, (), {
        crate::guc::process_config_file();
        if let Some(c) = crate::db::connection() {
            c.push_settings();
        }
    })
}

/// `GUC_check_errcode`: the SQLSTATE of a check hook's refusal.
/// cbindgen:ignore
#[no_mangle]
pub extern "C" fn GUC_check_errcode(sqlerrcode: c_int) {
    export!(raises, GUC_check_errcode, {
        custom::CHECK_ERRCODE.store(sqlerrcode, Ordering::Relaxed);
    })
}

/// A hint as a static C string, for `parse_int`/`parse_real`'s `hintmsg`.
fn c_hint(hint: &str) -> *const c_char {
    static HINTS: Mutex<BTreeMap<String, CString>> = Mutex::new(BTreeMap::new());
    HINTS
        .lock()
        .entry(hint.to_owned())
        .or_insert_with(|| CString::new(hint).unwrap_or_default())
        .as_ptr()
}

/// What `parse_int` and `parse_real` hand back: the value into `result`, or the hint (if any)
/// into `hintmsg`, which is NULLed first; true on success.
///
/// # Safety
/// `result` NULL or writable; `hintmsg` NULL or writable.
unsafe fn deliver_parsed<T>(
    parsed: Result<T, Option<&'static str>>,
    result: *mut T,
    hintmsg: *mut *const c_char,
) -> bool {
    // SAFETY: as the caller promises.
    unsafe {
        if !hintmsg.is_null() {
            *hintmsg = std::ptr::null();
        }
        match parsed {
            Ok(n) => {
                if !result.is_null() {
                    *result = n;
                }
                true
            }
            Err(h) => {
                if let (Some(h), false) = (h, hintmsg.is_null()) {
                    *hintmsg = c_hint(h);
                }
                false
            }
        }
    }
}

/// `parse_int`: PostgreSQL's integer setting syntax, with a unit when `flags` has one.
///
/// # Safety
/// `value` NUL-terminated; `result` writable; `hintmsg` NULL or writable.
/// cbindgen:ignore
#[no_mangle]
pub unsafe extern "C" fn parse_int(
    value: *const c_char,
    result: *mut c_int,
    flags: c_int,
    hintmsg: *mut *const c_char,
) -> bool {
    export!(raises, parse_int, {
        // SAFETY: as the caller promises.
        let Some(v) = (unsafe { text(value) }) else {
            return false;
        };
        let parsed = boundary("parse_int", Err(None), || {
            custom::parse_int_units(&v, flags)
        });
        // SAFETY: as the caller promises.
        unsafe { deliver_parsed(parsed, result, hintmsg) }
    })
}

/// `parse_real`: PostgreSQL's real setting syntax, with a unit when `flags` has one.
///
/// # Safety
/// `value` NUL-terminated; `result` writable; `hintmsg` NULL or writable.
/// cbindgen:ignore
#[no_mangle]
pub unsafe extern "C" fn parse_real(
    value: *const c_char,
    result: *mut f64,
    flags: c_int,
    hintmsg: *mut *const c_char,
) -> bool {
    export!(raises, parse_real, {
        // SAFETY: as the caller promises.
        let Some(v) = (unsafe { text(value) }) else {
            return false;
        };
        let parsed = boundary("parse_real", Err(None), || {
            custom::parse_real_units(&v, flags)
        });
        // SAFETY: as the caller promises.
        unsafe { deliver_parsed(parsed, result, hintmsg) }
    })
}

/// `set_config_option`: sets (or, with a NULL `value`, resets) a setting in this process, with
/// PostgreSQL's rules for `context` and `source`; 1 applied, -1 left alone (a higher-priority
/// source set it), 0 refused (reported at `elevel`; 0 picks PostgreSQL's level for the source,
/// ERROR for run-time sources). `GUC_ACTION_LOCAL`/`SAVE` changes end with the transaction.
///
/// # Safety
/// `name` and `value` NULL or NUL-terminated.
/// cbindgen:ignore
#[no_mangle]
pub unsafe extern "C" fn set_config_option(
    name: *const c_char,
    value: *const c_char,
    context: c_int,
    source: c_int,
    action: c_int,
    changeVal: bool,
    elevel: c_int,
    is_reload: bool,
) -> c_int {
    export!(raises, set_config_option, {
        let _ = is_reload;
        // SAFETY: as the caller promises.
        let (name, value) = unsafe { (text(name), text(value)) };
        let outcome = boundary(
            "set_config_option",
            Err(crate::guc_runtime::Refusal {
                elevel: ERROR,
                sqlerrcode: 0,
                problem: custom::Problem::new("internal error in set_config_option".into()),
            }),
            || {
                let Some(name) = name.as_deref() else {
                    return Err(crate::guc_runtime::Refusal {
                        elevel: ERROR,
                        sqlerrcode: 0,
                        problem: custom::Problem::new(
                            "set_config_option: the parameter name is NULL".into(),
                        ),
                    });
                };
                crate::guc_runtime::set_config_option(&crate::guc_runtime::Request {
                    name,
                    value: value.as_deref(),
                    context,
                    source,
                    action,
                    change_val: changeVal,
                    elevel,
                })
            },
        );
        drop((name, value));
        match outcome {
            Ok(code) => code,
            Err(r) => {
                // A check hook's refusal carries the code it chose with GUC_check_errcode.
                let hook_code = custom::CHECK_ERRCODE.swap(0, Ordering::Relaxed);
                let code = if hook_code != 0 {
                    hook_code
                } else {
                    r.sqlerrcode
                };
                crate::pg::report_detail(
                    r.elevel,
                    code,
                    r.problem.message,
                    r.problem.detail,
                    r.problem.hint,
                );
                0
            }
        }
    })
}

/// `SetConfigOption`: `set_config_option` with `GUC_ACTION_SET`, reporting at the source's
/// default level (ERROR for run-time sources).
///
/// # Safety
/// As for `set_config_option`.
/// cbindgen:ignore
#[no_mangle]
pub unsafe extern "C" fn SetConfigOption(
    name: *const c_char,
    value: *const c_char,
    context: c_int,
    source: c_int,
) {
    export!(raises, SetConfigOption, {
        // SAFETY: as the caller promises.
        unsafe {
            set_config_option(
                name,
                value,
                context,
                source,
                crate::guc_runtime::GUC_ACTION_SET,
                true,
                0,
                false,
            )
        };
    })
}

/// Texts handed out by `GetConfigOptionResetString`, one per name, kept while the name's text
/// stays the same.
static RESET_SHOWN: Mutex<BTreeMap<String, CString>> = Mutex::new(BTreeMap::new());

/// `GetConfigOptionResetString`: the value `RESET` would give the setting, as text (NULL for a
/// placeholder set only at run time, as in PostgreSQL); an unknown name is an ERROR.
///
/// # Safety
/// `name` NUL-terminated.
/// cbindgen:ignore
#[no_mangle]
pub unsafe extern "C" fn GetConfigOptionResetString(name: *const c_char) -> *const c_char {
    export!(raises, GetConfigOptionResetString, {
        // SAFETY: as the caller promises.
        let bytes = unsafe { cstr(name) }.unwrap_or(b"");
        let found = boundary("GetConfigOptionResetString", None, || {
            let name = String::from_utf8_lossy(bytes);
            let Some(text) = crate::guc_runtime::reset_string(&name)? else {
                return Some(std::ptr::null());
            };
            let key = name.to_ascii_lowercase();
            let mut shown = RESET_SHOWN.lock();
            if shown.get(&key).map(|c| c.as_bytes()) != Some(text.as_bytes()) {
                shown.insert(key.clone(), CString::new(text).unwrap_or_default());
            }
            Some(shown[&key].as_ptr())
        });
        match found {
            Some(p) => p,
            None => crate::pg::raise_fmt(
                ERROR,
                crate::pg::make_sqlstate(b"42704"),
                format_args!(
                    "unrecognized configuration parameter \"{}\"",
                    crate::pg::Text(bytes)
                ),
            ),
        }
    })
}
