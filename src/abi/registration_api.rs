//! Exports: static registration and the embeddable supervisor entry point.

use crate::elog;
use crate::pg::types::*;
use crate::pg::IsUnderPostmaster;
use libc::{c_char, c_int};

/// `RegisterBackgroundWorker`: registers a static worker. Effective from a preloaded library's
/// `_PG_init` (or from a host program before it calls `BackgroundWorkerPostmasterMain`); logged
/// and ignored elsewhere, in a worker too, where PostgreSQL is silent: the mistake shows
/// (REG-1..10).
///
/// # Safety
/// `worker` must be NULL or point to a writable `BackgroundWorker` (an empty `bgw_type` is
/// filled in, as PostgreSQL does).
#[no_mangle]
pub unsafe extern "C" fn RegisterBackgroundWorker(worker: *mut BackgroundWorker) {
    export!(boundary, RegisterBackgroundWorker, (), {
        // SAFETY: the caller passes NULL or a valid, writable definition.
        let def = unsafe { worker.as_mut() };
        // SAFETY: reading a bool global of this process.
        if unsafe { IsUnderPostmaster } {
            if let Some(def) = def {
                if !crate::registry::is_core_library(def) {
                    elog::log(
                        LOG,
                        format_args!(
                            "background worker \"{}\": must be registered in shared_preload_libraries",
                            crate::registry::FieldDisplay(&def.bgw_name)
                        ),
                    );
                }
            }
            return;
        }
        let Some(def) = def else {
            elog::log(
                LOG,
                format_args!("RegisterBackgroundWorker called with a NULL worker"),
            );
            return;
        };
        let phase = crate::postmaster::registration_phase();
        // SAFETY: reading an int global of this process.
        let max = unsafe { crate::pg::max_worker_processes };
        crate::registry::register_static(def, phase, max);
    })
}

/// Runs the supervisor (what `bgworkerd` does) with `bgworkerd`'s command line, and returns its
/// exit code when it shuts down. A host may register workers with `RegisterBackgroundWorker`
/// before calling it.
///
/// # Safety
/// `argv` must hold `argc` NUL-terminated strings. Pass `main`'s own `argv` so worker process
/// titles can be shown (it is overwritten in the workers, as PostgreSQL does).
#[no_mangle]
pub unsafe extern "C" fn BackgroundWorkerPostmasterMain(
    argc: c_int,
    argv: *mut *mut c_char,
) -> c_int {
    export!(boundary, BackgroundWorkerPostmasterMain, 1, {
        // First of all: descriptors 0-2 open (on /dev/null if closed), the log non-blocking.
        crate::elog::ensure_standard_descriptors();
        crate::elog::make_log_nonblocking();
        let mut args = Vec::new();
        for i in 0..usize::try_from(argc).unwrap_or(0) {
            // SAFETY: the caller promises argc valid strings.
            if let Some(a) = unsafe { crate::pg::cstr(*argv.add(i)) } {
                match std::str::from_utf8(a) {
                    Ok(a) => args.push(a.to_owned()),
                    // Refused by name rather than taken with U+FFFD in it (a data directory
                    // path changed that way would silently name another directory).
                    Err(_) => {
                        eprintln!(
                            "bgworkerd: argument {i} is not valid UTF-8: \"{}\"\nTry \"bgworkerd --help\" for more information.",
                            crate::pg::text::Escaped(a)
                        );
                        return 1;
                    }
                }
            }
        }
        // SAFETY: as promised by the caller; called once, before any fork.
        unsafe { crate::worker::ps_title::save_args(argc, argv) };
        crate::postmaster::main(args)
    })
}
