//! The child side of a worker: everything between `fork` and the module's entry function, and
//! the process exit that follows. Never returns into supervisor code.

pub mod attach;
pub mod builtin;
pub mod exit;
pub mod ps_title;
pub mod signals;

use crate::pg;
use crate::pg::types::*;
use crate::registry::{field_bytes, is_core_library};
use std::os::fd::RawFd;

/// What the supervisor hands a new child besides its definition.
pub struct ChildContext<'a> {
    /// Supervisor descriptors the child must not keep (signalfd, the death pipe's write end,
    /// the notify pidfds, the spare's pipe), in ascending order.
    pub close_fds: &'a [RawFd],
    pub death_pipe_read: RawFd,
    pub cluster_name: &'a str,
    pub dynamic_library_path: &'a str,
}

/// `MyBgworkerEntry`'s storage in a worker.
static mut ENTRY: std::mem::MaybeUninit<BackgroundWorker> = std::mem::MaybeUninit::zeroed();

static MY_SLOT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(usize::MAX);

/// This worker's shared slot, if it is a worker.
pub fn my_slot() -> Option<usize> {
    let s = MY_SLOT.load(std::sync::atomic::Ordering::Relaxed);
    (s != usize::MAX).then_some(s)
}

/// What turns a spare child into a worker: its definition and shared slot. Sent in one write
/// (well under PIPE_BUF, so it arrives whole).
#[repr(C)]
#[derive(Clone, Copy)]
pub struct Activation {
    pub def: BackgroundWorker,
    /// Slot index, or `usize::MAX` for none.
    pub slot: usize,
}

/// Runs in the freshly forked child: set up as PostgreSQL does (WP-1..6), run the entry
/// function, exit 0 when it returns.
pub fn run_child(def: &BackgroundWorker, slot: Option<usize>, ctx: &ChildContext<'_>) -> ! {
    prepare(ctx);
    become_worker(def, slot, ctx)
}

/// Runs in a spare child the supervisor forks ahead of need: the generic set-up is done at once,
/// then it waits for its activation on `command` (EOF: not needed, leave quietly), so starting a
/// worker costs one pipe write instead of a fork.
pub fn run_spare(command: RawFd, ctx: &ChildContext<'_>) -> ! {
    in_background(|| {
        prepare(ctx);
        warm_up();
    });
    ps_title::set("bgworker: spare");
    let mut buf = [0u8; std::mem::size_of::<Activation>()];
    let mut got = 0;
    while got < buf.len() {
        // SAFETY: reading into the unfilled tail of a local buffer.
        let n = unsafe { libc::read(command, buf[got..].as_mut_ptr().cast(), buf.len() - got) };
        if n < 0 && std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted {
            continue;
        }
        if n <= 0 {
            // SAFETY: a spare that was never a worker leaves without exit callbacks.
            unsafe { libc::_exit(0) };
        }
        got += n as usize;
    }
    // SAFETY: closing our end of the command pipe.
    unsafe { libc::close(command) };
    // SAFETY: the buffer holds a whole Activation written by the supervisor (plain data).
    let a: Activation = unsafe { std::ptr::read_unaligned(buf.as_ptr().cast()) };
    become_worker(&a.def, (a.slot != usize::MAX).then_some(a.slot), ctx)
}

/// In a spare, before it waits: does once what becoming any worker does first, so the faults a
/// new process takes on first use (fork copies no page-table entries for code, and a written
/// page is copied on its first write) fall here rather than between a registration and the
/// entry function: the latch's signalfd, the allocator's paths and chunks of the sizes
/// activation allocates, the dynamic linker's lookup, the clocks.
fn warm_up() {
    let _ = crate::latch::prepare_signal_fd();
    for size in [
        32,
        64,
        128,
        256,
        std::mem::size_of::<BackgroundWorker>(),
        1024,
    ] {
        drop(std::hint::black_box(Vec::<u8>::with_capacity(size)));
    }
    crate::loader::warm_up();
    for clock in [libc::CLOCK_MONOTONIC, libc::CLOCK_REALTIME] {
        let mut ts = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: clock_gettime writes into the timespec we own.
        unsafe { libc::clock_gettime(clock, &mut ts) };
    }
}

/// The part of a child's set-up that does not depend on which worker it becomes.
fn prepare(ctx: &ChildContext<'_>) {
    // SAFETY: we are the only thread of a new process; these globals are ours to set.
    unsafe {
        pg::MyProcPid = libc::getpid();
        pg::IsUnderPostmaster = true;
        pg::IsBackgroundWorker = true;
        pg::process_shared_preload_libraries_in_progress = false;
        libc::setsid();
    }
    close_inherited(ctx.close_fds);
    signals::install_worker_defaults();
    crate::latch::set_death_fd(ctx.death_pipe_read);
}

/// In a new child: closes `fds` (ascending) one run of consecutive numbers at a time.
fn close_inherited(fds: &[RawFd]) {
    let mut i = 0;
    while i < fds.len() {
        let first = fds[i];
        let mut last = first;
        while i + 1 < fds.len() && fds[i + 1] == last + 1 {
            i += 1;
            last = fds[i];
        }
        i += 1;
        close_run(first, last);
    }
}

/// Closes descriptors `first..=last` (those open), with one system call where the kernel has
/// `close_range`.
fn close_run(first: RawFd, last: RawFd) {
    // SAFETY: closing descriptors this new process inherited and must not keep.
    let r = unsafe { libc::syscall(libc::SYS_close_range, first as u32, last as u32, 0) };
    if r != 0 {
        for fd in first..=last {
            // SAFETY: as above, one at a time.
            unsafe { libc::close(fd) };
        }
    }
}

/// Becomes the worker `def`: identity, latch (set, WP-5), title, entry function.
fn become_worker(def: &BackgroundWorker, slot: Option<usize>, ctx: &ChildContext<'_>) -> ! {
    crate::elog::set_process_label(field_bytes(&def.bgw_type));
    MY_SLOT.store(
        slot.unwrap_or(usize::MAX),
        std::sync::atomic::Ordering::Relaxed,
    );
    if let (Some(seg), Some(slot)) = (crate::shmem::current(), slot) {
        // Wait events land in the worker's slot, where `bgworkerctl status` reads them.
        let wait_event = seg.slot(slot).wait_event.as_ptr();
        // SAFETY: the slot outlives the worker; single-threaded start-up.
        unsafe { pg::my_wait_event_info = wait_event };
    }

    // SAFETY: as above; the entry lives in static storage for the life of the process (no
    // allocation on the way to the entry function).
    unsafe {
        let entry = (&raw mut ENTRY).cast::<BackgroundWorker>();
        entry.write(*def);
        pg::MyBgworkerEntry = entry;
        pg::MyBackendType = pg::B_BG_WORKER;
    }
    pg::set_start_time();
    crate::latch::init_process_latch();
    if let (Some(seg), Some(slot)) = (crate::shmem::current(), slot) {
        seg.slot(slot)
            .exited_cleanly
            .store(0, std::sync::atomic::Ordering::Relaxed);
        // SAFETY: registering a plain function to run at exit().
        unsafe { libc::atexit(mark_clean_exit) };
    }
    if let (Some(seg), Some(slot)) = (crate::shmem::current(), slot) {
        // The worker's latch is the one in its PGPROC, so other processes can set it
        // (`BackendPidGetProc(pid)->procLatch`); it starts set (WP-5).
        // SAFETY: single-threaded start-up; the PGPROC of our slot is ours.
        unsafe {
            let proc_ = crate::shmem::modules::claim_proc(seg, slot, pg::MyProcPid);
            pg::MyProc = proc_;
            pg::MyLatch = &raw mut (*proc_).procLatch;
        }
    }

    let name = field_bytes(&def.bgw_name);
    if ctx.cluster_name.is_empty() {
        ps_title::set_parts(&[b"bgworker: ", name]);
    } else {
        ps_title::set_parts(&[b"bgworker: ", ctx.cluster_name.as_bytes(), b": ", name]);
    }

    let function = match std::panic::catch_unwind(|| lookup_entry(def, ctx.dynamic_library_path)) {
        Ok(Ok(f)) => f,
        Ok(Err(e)) => {
            pg::report_detail(ERROR, 0, e.message, e.detail, None);
            unreachable!("an ERROR report does not return")
        }
        Err(_) => pg::raise(
            FATAL,
            "internal error while loading the worker's entry function",
        ),
    };
    // SAFETY: calling the module's entry point with its registered argument (WP-6).
    unsafe { function(def.bgw_main_arg) };
    exit::proc_exit(0)
}

/// Runs at `exit()` (so after `proc_exit`'s callbacks): tells the supervisor this worker left
/// through its exit path.
extern "C" fn mark_clean_exit() {
    if let (Some(seg), Some(slot)) = (crate::shmem::current(), my_slot()) {
        seg.slot(slot)
            .exited_cleanly
            .store(1, std::sync::atomic::Ordering::Release);
    }
}

fn lookup_entry(
    def: &BackgroundWorker,
    dynamic_library_path: &str,
) -> Result<unsafe extern "C" fn(Datum), crate::loader::LoadError> {
    let function = field_bytes(&def.bgw_function_name);
    if is_core_library(def) {
        return builtin::lookup(function).ok_or_else(|| {
            format!(
                "internal function \"{}\" not found",
                String::from_utf8_lossy(function)
            )
            .into()
        });
    }
    // Borrowed unless the name is not UTF-8: a preloaded module is found without allocating.
    let library = String::from_utf8_lossy(field_bytes(&def.bgw_library_name));
    let handle = crate::loader::load(&library, dynamic_library_path)?;
    let f = crate::loader::symbol(handle, function).ok_or_else(|| {
        format!(
            "could not find function \"{}\" in file \"{}\"",
            String::from_utf8_lossy(function),
            crate::loader::loaded_path(&library, dynamic_library_path)
                .unwrap_or_default()
                .display()
        )
    })?;
    // SAFETY: a bgworker entry point takes one Datum and returns nothing (LOAD-5).
    Ok(unsafe { std::mem::transmute::<*mut std::ffi::c_void, unsafe extern "C" fn(Datum)>(f) })
}

/// Runs `f` (a spare's set-up, which nothing waits for) as `SCHED_BATCH`, the kernel's class for
/// background work (it does not preempt other tasks when it wakes), beside the worker the spare
/// was forked for and the supervisor; then back to `SCHED_OTHER`, the policy the worker it
/// becomes runs with. Only done when this process runs as `SCHED_OTHER`
/// (a supervisor started under another policy passes that on unchanged). Both changes keep the
/// nice value and need no privilege.
fn in_background(f: impl FnOnce()) {
    let set = |policy| {
        let param = libc::sched_param { sched_priority: 0 };
        // SAFETY: sched_setscheduler reads the parameter we pass.
        unsafe { libc::sched_setscheduler(0, policy, &param) == 0 }
    };
    // SAFETY: sched_getscheduler has no preconditions.
    let batch =
        unsafe { libc::sched_getscheduler(0) } == libc::SCHED_OTHER && set(libc::SCHED_BATCH);
    f();
    if batch {
        set(libc::SCHED_OTHER);
    }
}
