//! `BackgroundWorkerAttach`: lets a process of the same user that the supervisor did not start
//! (a command-line tool, a service) register dynamic workers and wait on their handles.
//!
//! What it installs in the calling process: the shared segment mapping; a latch (`MyLatch`)
//! woken through a signalfd for SIGURG, which it blocks in the calling thread; a SIGUSR1 handler
//! that sets that latch (the notify signal); and a pidfd of the supervisor so waits notice its
//! death at once. `MyProcPid` is set. Nothing else about the process changes.

use crate::elog;
use crate::pg::types::*;
use crate::pg::MyProcPid;
use crate::shmem::Segment;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

static ATTACHED: AtomicBool = AtomicBool::new(false);

/// Reads the supervisor pid from `DATADIR/postmaster.pid`, checking it is alive and ours.
fn supervisor_pid(datadir: &Path) -> Result<i32, String> {
    let d = datadir.display();
    let file = datadir.join(crate::postmaster::pidfile::FILE_NAME);
    let text = std::fs::read_to_string(&file).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => {
            format!("no bgworkerd is running in data directory \"{d}\" (no postmaster.pid)")
        }
        std::io::ErrorKind::PermissionDenied => format!(
            "could not attach to data directory \"{d}\": permission denied (it belongs to another user)"
        ),
        _ => format!("could not read \"{}\": {e}", file.display()),
    })?;
    let pid: i32 = text
        .lines()
        .next()
        .and_then(|l| l.trim().parse().ok())
        .ok_or_else(|| format!("lock file \"{}\" is garbled", file.display()))?;
    // SAFETY: kill with signal 0 only checks for existence/permission.
    if unsafe { libc::kill(pid, 0) } != 0 {
        let errno = std::io::Error::last_os_error().raw_os_error();
        return Err(if errno == Some(libc::EPERM) {
            format!("bgworkerd (PID {pid}) of data directory \"{d}\" belongs to another user")
        } else {
            format!("bgworkerd (PID {pid}) of data directory \"{d}\" is not running")
        });
    }
    Ok(pid)
}

fn attach(datadir: &Path) -> Result<(), String> {
    let pid = supervisor_pid(datadir)?;
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
    // SAFETY: pidfd_open takes a pid and flags; returns a new descriptor or -1.
    let pidfd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    if pidfd < 0 {
        return Err(format!(
            "could not watch bgworkerd (PID {pid}): {}",
            std::io::Error::last_os_error()
        ));
    }
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
    crate::latch::set_death_fd(pidfd as i32);
    crate::latch::init_process_latch();
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
