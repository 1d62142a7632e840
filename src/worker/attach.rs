//! `BackgroundWorkerAttach`: lets a process of the same user that the supervisor did not start
//! (a command-line tool, a service) register dynamic workers and wait on their handles.
//!
//! What it installs in the calling process: the shared segment mapping; a latch (`MyLatch`)
//! woken through a signalfd for SIGURG, which it blocks in the calling thread; a SIGUSR1 handler
//! that sets that latch (the notify signal); and a pidfd of the supervisor so waits notice its
//! death at once. `MyProcPid` is set, and `MyProc` is a PGPROC of its own (given back at exit),
//! whose latch `MyLatch` is. Nothing else about the process changes.

use crate::elog;
use crate::pg::types::*;
use crate::pg::MyProcPid;
use crate::shmem::Segment;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicUsize, Ordering};

static ATTACHED: AtomicBool = AtomicBool::new(false);
/// The PGPROC this attached process holds (usize::MAX: none).
static MY_EXTRA_PROC: AtomicUsize = AtomicUsize::new(usize::MAX);

/// At exit of an attached process: what a worker's `proc_exit` does for shared memory (its
/// condition variable sleep cancelled, its DSM segments detached, with their callbacks), then
/// its PGPROC given back.
extern "C" fn leave_at_exit() {
    let i = MY_EXTRA_PROC.swap(usize::MAX, Ordering::Relaxed);
    if i == usize::MAX {
        return;
    }
    crate::worker::exit::shmem_exit_for_attached();
    if let Some(seg) = crate::shmem::current() {
        // SAFETY: reading our own pid global.
        let me = unsafe { MyProcPid };
        crate::shmem::modules::release_extra_proc(seg, i, me);
    }
}
/// The pidfd of the supervisor this process attached to (-1 before).
static SUPERVISOR_PIDFD: AtomicI32 = AtomicI32::new(-1);

/// The pidfd of the supervisor this process attached to: signals to it go through this, so they
/// can never reach a process that took its pid.
pub fn supervisor_pidfd() -> Option<i32> {
    let fd = SUPERVISOR_PIDFD.load(Ordering::Acquire);
    (fd >= 0).then_some(fd)
}

/// The live supervisor of `datadir` (checked to be the process that wrote its lock file, not one
/// that reused its pid), held by a pidfd.
fn supervisor(datadir: &Path) -> Result<crate::process::Identified, String> {
    use crate::postmaster::pidfile::{live_supervisor, NoSupervisor, FILE_NAME};
    let d = datadir.display();
    match live_supervisor(datadir) {
        Ok((_, id)) => Ok(id),
        Err(NoSupervisor::NoLockFile) => Err(format!(
            "no bgworkerd is running in data directory \"{d}\" (no {FILE_NAME})"
        )),
        Err(NoSupervisor::Unreadable(e)) if e.kind() == std::io::ErrorKind::PermissionDenied => {
            Err(format!(
                "could not attach to data directory \"{d}\": permission denied (it belongs to another user)"
            ))
        }
        Err(NoSupervisor::Unreadable(e)) => Err(format!(
            "could not read \"{}\": {e}",
            datadir.join(FILE_NAME).display()
        )),
        Err(NoSupervisor::Garbled) => Err(format!(
            "lock file \"{}\" is garbled",
            datadir.join(FILE_NAME).display()
        )),
        Err(NoSupervisor::NotRunning(pid)) => Err(format!(
            "bgworkerd (PID {pid}) of data directory \"{d}\" is not running"
        )),
        Err(NoSupervisor::OtherUser(pid)) => Err(format!(
            "bgworkerd (PID {pid}) of data directory \"{d}\" belongs to another user"
        )),
    }
}

fn attach(datadir: &Path) -> Result<(), String> {
    let sup = supervisor(datadir)?;
    let pid = sup.pid;
    let seg = Segment::attach(datadir).map_err(|e| {
        format!(
            "could not attach to bgworkerd in \"{}\": {e}",
            datadir.display()
        )
    })?;
    let owner = seg.header().supervisor_pid.load(Ordering::Relaxed);
    if owner != pid {
        return Err(format!(
            "shared memory segment of \"{}\" belongs to PID {owner}, not to the running bgworkerd (PID {pid})",
            datadir.display()
        ));
    }
    // The pidfd, checked to name the supervisor, watches for its death and carries the signals
    // this process sends it.
    let pidfd = std::os::fd::IntoRawFd::into_raw_fd(sup.pidfd);
    // SAFETY: this process's own globals and signal state, set up once.
    unsafe {
        MyProcPid = libc::getpid();
        let mut urg: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut urg);
        libc::sigaddset(&mut urg, libc::SIGURG);
        libc::pthread_sigmask(libc::SIG_BLOCK, &urg, std::ptr::null_mut());
    }
    // SAFETY: this process's own global, set once.
    unsafe { crate::pg::MainLWLockArray = seg.main_lwlocks().cast() };
    crate::worker::signals::init_signal_masks();
    crate::latch::set_death_fd(pidfd);
    SUPERVISOR_PIDFD.store(pidfd, Ordering::Release);
    crate::latch::init_process_latch();
    // A PGPROC of its own, as a backend has: its latch is MyLatch, so other processes can wake
    // it (BackendPidGetProc), and it can be a message queue's sender or receiver.
    // SAFETY: reading our own pid global.
    let me = unsafe { MyProcPid };
    match crate::shmem::modules::claim_extra_proc(seg, me) {
        Some(i) => {
            let p = seg.proc_ptr(i);
            MY_EXTRA_PROC.store(i, Ordering::Relaxed);
            // SAFETY: this process's own globals; the PGPROC is ours until we give it back.
            unsafe {
                crate::pg::MyProc = p;
                crate::pg::MyLatch = &raw mut (*p).procLatch;
                libc::atexit(leave_at_exit);
            }
        }
        None => elog::log(
            WARNING,
            format_args!(
                "no PGPROC is free for this process (at most {} processes may be attached at once): MyProc is NULL",
                crate::shmem::EXTRA_PROCS
            ),
        ),
    }
    crate::worker::signals::install(
        libc::SIGUSR1,
        crate::worker::signals::procsignal_sigusr1_handler as *const () as usize,
    );
    Ok(())
}

/// The body of `BackgroundWorkerAttach`: true once attached (or when this process is already a
/// worker of a supervisor); false, with a WARNING saying why, otherwise.
pub fn attach_to(datadir: &Path) -> bool {
    // SAFETY: reading a bool global of this process.
    if unsafe { crate::pg::IsUnderPostmaster } || ATTACHED.load(Ordering::Acquire) {
        return crate::shmem::current().is_some();
    }
    if crate::postmaster::is_supervisor() {
        elog::log(
            WARNING,
            format_args!("the supervisor cannot attach to itself"),
        );
        return false;
    }
    match attach(datadir) {
        Ok(()) => {
            ATTACHED.store(true, Ordering::Release);
            true
        }
        Err(e) => {
            elog::log(WARNING, format_args!("{e}"));
            false
        }
    }
}
