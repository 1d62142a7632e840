//! The C face of the library: every exported function, above the leaf layer `crate::pg`.
//! Exports here only check pointers, hold the panic boundary and call into the safe core; the
//! types, constants, globals and error raising they share with the core live in the leaf layer.

/// The body of every exported function is one `export!` call that states the function's policy,
/// so `grep -rn 'export!(' src` lists the whole C ABI with how each entry point behaves:
///
/// - `export!(boundary, NAME, DEFAULT, { .. })`: a panic is logged ("internal error in NAME;
///   the call had no effect") and DEFAULT returned. The body never raises: no longjmp may cross
///   the `catch_unwind` frame.
/// - `export!(raises, NAME, { .. })`: errors take PostgreSQL's error path, a longjmp from a C
///   frame to the module's `PG_TRY` (or the end of the process). No boundary frame sits in the
///   way, so the body owns nothing that needs dropping where it raises, and it must not panic
///   (a panic that reaches the C caller aborts the process).
/// - `export!(signal_safe, NAME, { .. })`: may run in a signal handler: async-signal-safe,
///   allocates nothing, takes no lock, cannot panic.
///
/// The functions written in C (`variadic.c`) state theirs in `c_shim.rs`'s list.
macro_rules! export {
    (boundary, $name:ident, $default:expr, $body:block) => {
        $crate::abi::boundary(stringify!($name), $default, || $body)
    };
    (raises, $name:ident, $body:block) => {
        $body
    };
    (signal_safe, $name:ident, $body:block) => {
        $body
    };
}

mod c_shim;
/// cbindgen:ignore
mod cv_api;
mod db_api;
/// cbindgen:ignore
mod dsa_api;
/// cbindgen:ignore
mod dsm_api;
mod dynamic_api;
mod elog_api;
/// cbindgen:ignore
mod fd_api;
/// cbindgen:ignore
mod fmgr_api;
mod guc_api;
/// cbindgen:ignore
mod hash_api;
mod interrupt_api;
mod latch_api;
/// cbindgen:ignore
mod list_api;
mod lwlock_api;
mod memory_api;
/// cbindgen:ignore
mod port_api;
mod process_api;
mod registration_api;
/// cbindgen:ignore
mod resowner_api;
/// cbindgen:ignore
mod server_events_api;
/// cbindgen:ignore
mod shm_mq_api;
mod shmem_api;
/// cbindgen:ignore
mod spi_api;
/// cbindgen:ignore
mod spi_cursor_api;
/// cbindgen:ignore
mod spi_plan_api;
mod stringinfo_api;
mod time_api;
/// cbindgen:ignore
mod varlena_api;
/// cbindgen:ignore
mod xact_api;

/// Runs `f` behind a panic boundary: a panic is logged and turned into `default`, so no unwind
/// ever crosses into C frames.
pub(crate) fn boundary<T>(name: &str, default: T, f: impl FnOnce() -> T) -> T {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
        Ok(v) => v,
        Err(_) => {
            crate::elog::log(
                crate::pg::types::LOG,
                format_args!("internal error in {name}; the call had no effect"),
            );
            default
        }
    }
}
