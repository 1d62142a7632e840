//! The child side of a worker: everything between `fork` and the module's entry function, and
//! the process exit that follows. Never returns into supervisor code.

pub mod attach;
pub mod builtin;
pub mod exit;
pub mod ps_title;
pub mod signals;

use crate::abi;
use crate::abi::types::*;
use crate::registry::{field_bytes, field_string, is_core_library};
use std::os::fd::RawFd;

/// What the supervisor hands a new child besides its definition.
pub struct ChildContext<'a> {
    /// Supervisor descriptors the child must not keep (signalfd, the death pipe's write end).
    pub close_fds: &'a [RawFd],
    pub death_pipe_read: RawFd,
    pub cluster_name: &'a str,
    pub dynamic_library_path: &'a str,
    /// The worker's shared slot, where it reports its activity.
    pub slot: Option<usize>,
}

static MY_SLOT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(usize::MAX);

/// This worker's shared slot, if it is a worker.
pub fn my_slot() -> Option<usize> {
    let s = MY_SLOT.load(std::sync::atomic::Ordering::Relaxed);
    (s != usize::MAX).then_some(s)
}

/// Runs in the freshly forked child: set up as PostgreSQL does (WP-1..6), run the entry
/// function, exit 0 when it returns.
pub fn run_child(def: &BackgroundWorker, ctx: &ChildContext<'_>) -> ! {
    // SAFETY: we are the only thread of a new process; these globals are ours to set.
    unsafe {
        abi::MyProcPid = libc::getpid();
        abi::IsUnderPostmaster = true;
        abi::IsBackgroundWorker = true;
        abi::process_shared_preload_libraries_in_progress = false;
        for &fd in ctx.close_fds {
            libc::close(fd);
        }
        libc::setsid();
    }
    signals::install_worker_defaults();
    crate::latch::set_death_fd(ctx.death_pipe_read);
    crate::elog::set_process_label(field_bytes(&def.bgw_type));
    MY_SLOT.store(
        ctx.slot.unwrap_or(usize::MAX),
        std::sync::atomic::Ordering::Relaxed,
    );
    if let (Some(seg), Some(slot)) = (crate::shmem::current(), ctx.slot) {
        // Wait events land in the worker's slot, where `bgworkerctl status` reads them.
        let wait_event = seg.slot(slot).wait_event.as_ptr();
        // SAFETY: the slot outlives the worker; single-threaded start-up.
        unsafe { abi::my_wait_event_info = wait_event };
    }

    let entry: &'static mut BackgroundWorker = Box::leak(Box::new(*def));
    // SAFETY: as above.
    unsafe { abi::MyBgworkerEntry = entry };
    crate::latch::init_process_latch();

    let name = field_string(&def.bgw_name);
    let title = if ctx.cluster_name.is_empty() {
        format!("bgworker: {name}")
    } else {
        format!("bgworker: {}: {name}", ctx.cluster_name)
    };
    ps_title::set(&title);

    let function = match std::panic::catch_unwind(|| lookup_entry(def, ctx.dynamic_library_path)) {
        Ok(Ok(f)) => f,
        Ok(Err(message)) => abi::raise(ERROR, &message),
        Err(_) => abi::raise(
            FATAL,
            "internal error while loading the worker's entry function",
        ),
    };
    // SAFETY: calling the module's entry point with its registered argument (WP-6).
    unsafe { function(def.bgw_main_arg) };
    exit::proc_exit(0)
}

fn lookup_entry(
    def: &BackgroundWorker,
    dynamic_library_path: &str,
) -> Result<unsafe extern "C" fn(Datum), String> {
    let function = field_string(&def.bgw_function_name);
    if is_core_library(def) {
        return builtin::lookup(field_bytes(&def.bgw_function_name))
            .ok_or_else(|| format!("internal function \"{function}\" not found"));
    }
    let library = field_string(&def.bgw_library_name);
    let (handle, path) = crate::loader::load(&library, dynamic_library_path)?;
    let f = crate::loader::symbol(handle, &function).ok_or_else(|| {
        format!(
            "could not find function \"{function}\" in file \"{}\"",
            path.display()
        )
    })?;
    // SAFETY: a bgworker entry point takes one Datum and returns nothing (LOAD-5).
    Ok(unsafe { std::mem::transmute::<*mut std::ffi::c_void, unsafe extern "C" fn(Datum)>(f) })
}
