//! Process exit: `proc_exit` and the three callback stacks modules register on
//! (`before_shmem_exit`, `on_shmem_exit`, `on_proc_exit`), run newest first, each once.

use crate::pg::types::{pg_on_exit_callback, Datum};
use libc::c_int;
use std::sync::atomic::{AtomicBool, Ordering};

const MAX_CALLBACKS: usize = 20;

#[derive(Clone, Copy)]
struct Callback {
    function: pg_on_exit_callback,
    arg: Datum,
}

/// A fixed-size stack (no allocation: exit may run from a signal handler).
struct Stack {
    items: [Callback; MAX_CALLBACKS],
    len: usize,
}

const EMPTY: Callback = Callback {
    function: None,
    arg: 0,
};

static mut BEFORE_SHMEM_EXIT: Stack = Stack {
    items: [EMPTY; MAX_CALLBACKS],
    len: 0,
};
static mut ON_SHMEM_EXIT: Stack = Stack {
    items: [EMPTY; MAX_CALLBACKS],
    len: 0,
};
static mut ON_PROC_EXIT: Stack = Stack {
    items: [EMPTY; MAX_CALLBACKS],
    len: 0,
};

static EXITING: AtomicBool = AtomicBool::new(false);

/// Clean-up the library's own subsystems register (the supervisor's lock and segment files),
/// each with the process that registered it: a forked child inherits the list but never runs
/// another process's entries.
static mut OWN_CLEANUP: [OwnCleanup; 4] = [OwnCleanup { pid: 0, f: None }; 4];

#[derive(Clone, Copy)]
struct OwnCleanup {
    pid: libc::pid_t,
    f: Option<fn()>,
}

/// Registers `f` to run at `proc_exit` of this process, after the modules' callbacks.
pub fn on_exit_of_this_process(f: fn()) {
    // SAFETY: getpid has no preconditions; the list belongs to this single-threaded process.
    unsafe {
        let me = libc::getpid();
        let p = &raw mut OWN_CLEANUP;
        let list = &mut *p;
        if let Some(slot) = list.iter_mut().find(|c| c.f.is_none()) {
            *slot = OwnCleanup {
                pid: me,
                f: Some(f),
            };
        }
    }
}

fn run_own_cleanup() {
    let p = &raw const OWN_CLEANUP;
    // SAFETY: as above; entries are plain copies.
    let (me, list) = unsafe { (libc::getpid(), *p) };
    for c in list {
        if let (true, Some(f)) = (c.pid == me, c.f) {
            f();
        }
    }
}

pub enum Which {
    BeforeShmemExit,
    OnShmemExit,
    OnProcExit,
}

fn stack(which: Which) -> *mut Stack {
    match which {
        Which::BeforeShmemExit => &raw mut BEFORE_SHMEM_EXIT,
        Which::OnShmemExit => &raw mut ON_SHMEM_EXIT,
        Which::OnProcExit => &raw mut ON_PROC_EXIT,
    }
}

/// Registers a callback; false when the stack is full.
pub fn register(which: Which, function: pg_on_exit_callback, arg: Datum) -> bool {
    // SAFETY: the stacks belong to this (single-threaded) process.
    let s = unsafe { &mut *stack(which) };
    if s.len == MAX_CALLBACKS {
        return false;
    }
    s.items[s.len] = Callback { function, arg };
    s.len += 1;
    true
}

/// Removes the newest `before_shmem_exit` entry if it is exactly (function, arg).
pub fn cancel_before_shmem_exit(function: pg_on_exit_callback, arg: Datum) -> bool {
    // SAFETY: as in register.
    let s = unsafe { &mut *stack(Which::BeforeShmemExit) };
    if s.len > 0 {
        let top = s.items[s.len - 1];
        if top.function.map(|f| f as usize) == function.map(|f| f as usize) && top.arg == arg {
            s.len -= 1;
            return true;
        }
    }
    false
}

fn run(which: Which, code: c_int) {
    let s = stack(which);
    // Pop before calling, so a callback that errors out is not run again.
    loop {
        // SAFETY: the stacks belong to this (single-threaded) process; no reference is held
        // across the callback, which may register or cancel entries itself.
        let cb = unsafe {
            if (*s).len == 0 {
                return;
            }
            (*s).len -= 1;
            (*s).items[(*s).len]
        };
        if let Some(f) = cb.function {
            // SAFETY: a module registered this callback with this argument.
            unsafe { f(code, cb.arg) };
        }
    }
}

/// What `proc_exit` does for shared memory, for a process attached from outside that leaves
/// through `exit`: a prepared condition variable sleep is cancelled and its DSM segments are
/// detached (their callbacks run).
pub fn shmem_exit_for_attached() {
    if EXITING.swap(true, Ordering::SeqCst) {
        return;
    }
    crate::lwlock::release_all();
    crate::dsm::cv::cancel_sleep();
    crate::dsm::segment::backend_shutdown();
}

/// `proc_exit`: runs the exit callbacks and ends the process with `code`.
pub fn proc_exit(code: c_int) -> ! {
    if !EXITING.swap(true, Ordering::SeqCst) {
        // As PostgreSQL: locks go before anything else runs.
        crate::lwlock::release_all();
        crate::dsm::cv::cancel_sleep();
        run(Which::BeforeShmemExit, code);
        // As PostgreSQL's first before_shmem_exit callback: what AllocateFile & co opened.
        crate::fd::close_all(false);
        // As PostgreSQL's shmem_exit: DSM segments go between the two lists.
        crate::dsm::segment::backend_shutdown();
        run(Which::OnShmemExit, code);
        run(Which::OnProcExit, code);
        crate::db::close();
        run_own_cleanup();
    }
    // SAFETY: ending the process; stdio buffers are flushed by exit.
    unsafe { libc::exit(code) }
}
