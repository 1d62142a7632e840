//! The C face of the library: every `#[repr(C)]` type, constant, global and exported function.
//! Exports here only check pointers, hold the panic boundary and call into the safe core.

pub mod types;

mod c_shim;
mod db_api;
mod dynamic_api;
mod globals;
mod guc_api;
mod interrupt_api;
mod latch_api;
mod lwlock_api;
mod memory_api;
mod process_api;
mod registration_api;
mod shmem_api;
/// cbindgen:ignore
mod spi_api;
mod stringinfo_api;
mod time_api;

pub use c_shim::{make_sqlstate, raise, raise_with_code};
pub use globals::*;
pub use shmem_api::{
    process_shmem_requests_in_progress, shmem_request_hook, shmem_startup_hook, MainLWLockArray,
    MyProc,
};

/// Runs `f` behind a panic boundary: a panic is logged and turned into `default`, so no unwind
/// ever crosses into C frames.
pub(crate) fn boundary<T>(name: &str, default: T, f: impl FnOnce() -> T) -> T {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
        Ok(v) => v,
        Err(_) => {
            crate::elog::log(
                types::LOG,
                format_args!("internal error in {name}; the call had no effect"),
            );
            default
        }
    }
}

/// A NUL-terminated C string as bytes, or `None` for NULL.
///
/// # Safety
/// `p` must be NULL or point to a NUL-terminated string that outlives the result.
pub(crate) unsafe fn cstr<'a>(p: *const libc::c_char) -> Option<&'a [u8]> {
    if p.is_null() {
        None
    } else {
        // SAFETY: the caller promises a NUL-terminated string.
        Some(unsafe { std::ffi::CStr::from_ptr(p) }.to_bytes())
    }
}
