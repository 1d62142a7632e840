//! Exports: registrations for server events that never happen under bgworkerd. A module's
//! `_PG_init` may make them (PostgreSQL extensions commonly do); each is accepted, does nothing,
//! and says so once per process at DEBUG1. Registrations for events that do happen here live
//! with their subsystem (transactions, resource owners, exit, memory contexts).

use crate::pg::types::{Datum, DEBUG1, ERROR};
use libc::{c_char, c_double, c_int, c_void};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};

/// One DEBUG1 line the first time `function` is called in this process.
fn accepted(said: &AtomicBool, function: &str, what: &str) {
    if !said.swap(true, Ordering::Relaxed) {
        crate::elog::log(
            DEBUG1,
            format_args!("{function}: accepted, but {what} never happen under bgworkerd"),
        );
    }
}

/// `CacheRegisterSyscacheCallback`: there is no catalog cache to invalidate.
#[no_mangle]
pub extern "C" fn CacheRegisterSyscacheCallback(cacheid: c_int, func: *const c_void, arg: Datum) {
    export!(boundary, CacheRegisterSyscacheCallback, (), {
        static SAID: AtomicBool = AtomicBool::new(false);
        let _ = (cacheid, func, arg);
        accepted(
            &SAID,
            "CacheRegisterSyscacheCallback",
            "catalog cache invalidations",
        );
    })
}

/// `CacheRegisterRelcacheCallback`: there is no relation cache to invalidate.
#[no_mangle]
pub extern "C" fn CacheRegisterRelcacheCallback(func: *const c_void, arg: Datum) {
    export!(boundary, CacheRegisterRelcacheCallback, (), {
        static SAID: AtomicBool = AtomicBool::new(false);
        let _ = (func, arg);
        accepted(
            &SAID,
            "CacheRegisterRelcacheCallback",
            "relation cache invalidations",
        );
    })
}

/// `RegisterCustomRmgr`: there is no write-ahead log to replay.
#[no_mangle]
pub extern "C" fn RegisterCustomRmgr(rmid: u8, rmgr: *const c_void) {
    export!(boundary, RegisterCustomRmgr, (), {
        static SAID: AtomicBool = AtomicBool::new(false);
        let _ = (rmid, rmgr);
        accepted(
            &SAID,
            "RegisterCustomRmgr",
            "WAL redo of custom resource managers",
        );
    })
}

/// `RegisterCustomScanMethods`: there is no planner or executor.
#[no_mangle]
pub extern "C" fn RegisterCustomScanMethods(methods: *const c_void) {
    export!(boundary, RegisterCustomScanMethods, (), {
        static SAID: AtomicBool = AtomicBool::new(false);
        let _ = (methods,);
        accepted(&SAID, "RegisterCustomScanMethods", "custom scans");
    })
}

/// `RegisterExtensibleNodeMethods`: there is no node (de)serialisation.
#[no_mangle]
pub extern "C" fn RegisterExtensibleNodeMethods(methods: *const c_void) {
    export!(boundary, RegisterExtensibleNodeMethods, (), {
        static SAID: AtomicBool = AtomicBool::new(false);
        let _ = (methods,);
        accepted(
            &SAID,
            "RegisterExtensibleNodeMethods",
            "extensible node reads and copies",
        );
    })
}

/// `register_label_provider`: there are no SECURITY LABEL commands.
#[no_mangle]
pub extern "C" fn register_label_provider(provider: *const c_char, hook: *const c_void) {
    export!(boundary, register_label_provider, (), {
        static SAID: AtomicBool = AtomicBool::new(false);
        let _ = (provider, hook);
        accepted(&SAID, "register_label_provider", "security label commands");
    })
}

/// `add_bool_reloption`: there are no relations whose options would be parsed.
#[no_mangle]
pub extern "C" fn add_bool_reloption(
    kinds: u32,
    name: *const c_char,
    desc: *const c_char,
    default_val: bool,
    lockmode: c_int,
) {
    export!(boundary, add_bool_reloption, (), {
        static SAID: AtomicBool = AtomicBool::new(false);
        let _ = (kinds, name, desc, default_val, lockmode);
        accepted(&SAID, "add_bool_reloption", "relation options");
    })
}

/// `add_int_reloption`: as `add_bool_reloption`.
#[no_mangle]
pub extern "C" fn add_int_reloption(
    kinds: u32,
    name: *const c_char,
    desc: *const c_char,
    default_val: c_int,
    min_val: c_int,
    max_val: c_int,
    lockmode: c_int,
) {
    export!(boundary, add_int_reloption, (), {
        static SAID: AtomicBool = AtomicBool::new(false);
        let _ = (kinds, name, desc, default_val, min_val, max_val, lockmode);
        accepted(&SAID, "add_int_reloption", "relation options");
    })
}

/// `add_real_reloption`: as `add_bool_reloption`.
#[no_mangle]
pub extern "C" fn add_real_reloption(
    kinds: u32,
    name: *const c_char,
    desc: *const c_char,
    default_val: c_double,
    min_val: c_double,
    max_val: c_double,
    lockmode: c_int,
) {
    export!(boundary, add_real_reloption, (), {
        static SAID: AtomicBool = AtomicBool::new(false);
        let _ = (kinds, name, desc, default_val, min_val, max_val, lockmode);
        accepted(&SAID, "add_real_reloption", "relation options");
    })
}

/// `add_enum_reloption`: as `add_bool_reloption`.
#[no_mangle]
pub extern "C" fn add_enum_reloption(
    kinds: u32,
    name: *const c_char,
    desc: *const c_char,
    members: *const c_void,
    default_val: c_int,
    detailmsg: *const c_char,
    lockmode: c_int,
) {
    export!(boundary, add_enum_reloption, (), {
        static SAID: AtomicBool = AtomicBool::new(false);
        let _ = (kinds, name, desc, members, default_val, detailmsg, lockmode);
        accepted(&SAID, "add_enum_reloption", "relation options");
    })
}

/// `add_string_reloption`: as `add_bool_reloption`.
#[no_mangle]
pub extern "C" fn add_string_reloption(
    kinds: u32,
    name: *const c_char,
    desc: *const c_char,
    default_val: *const c_char,
    validator: *const c_void,
    lockmode: c_int,
) {
    export!(boundary, add_string_reloption, (), {
        static SAID: AtomicBool = AtomicBool::new(false);
        let _ = (kinds, name, desc, default_val, validator, lockmode);
        accepted(&SAID, "add_string_reloption", "relation options");
    })
}

/// `RELOPT_KIND_LAST_DEFAULT` and `RELOPT_KIND_MAX` (access/reloptions.h).
const RELOPT_KIND_LAST_DEFAULT: u32 = 1 << 11;
const RELOPT_KIND_MAX: u32 = 1 << 30;
static LAST_ASSIGNED_KIND: AtomicU32 = AtomicU32::new(RELOPT_KIND_LAST_DEFAULT);

/// `add_reloption_kind`: a new relation-option kind, as PostgreSQL hands them out (the next bit,
/// ERROR past the last), so a module that keeps the value works as there.
#[no_mangle]
pub extern "C" fn add_reloption_kind() -> c_int {
    export!(raises, add_reloption_kind, {
        let last = LAST_ASSIGNED_KIND.load(Ordering::Relaxed);
        if last >= RELOPT_KIND_MAX {
            crate::pg::raise_with_code(
                ERROR,
                crate::pg::make_sqlstate(b"54000"),
                "user-defined relation parameter types limit exceeded",
            );
        }
        LAST_ASSIGNED_KIND.store(last << 1, Ordering::Relaxed);
        (last << 1) as c_int
    })
}
