//! Latches: `SetLatch`, `ResetLatch`, `WaitLatch[OrSocket]`, and supervisor-death detection.
//!
//! A waiter sleeps in `poll` on a signalfd for SIGURG (kept blocked, as PostgreSQL's Linux build
//! does) and on the read end of the supervisor's death pipe. `SetLatch` on a sleeping owner sends
//! it SIGURG, so one path serves other processes and the owner's own signal handlers alike.

use crate::pg::types::*;
use crate::pg::{MyLatch, MyProcPid};
use libc::c_int;
use std::ptr::addr_of_mut;
use std::sync::atomic::{fence, AtomicBool, AtomicI32, Ordering};
use std::time::{Duration, Instant};

/// signalfd reading this process's SIGURG, or -1 before the first latch wait.
static SIGNAL_FD: AtomicI32 = AtomicI32::new(-1);
/// The process that created `SIGNAL_FD`: a forked child makes its own.
static SIGNAL_FD_OWNER: AtomicI32 = AtomicI32::new(0);
/// A descriptor that polls readable (or hung up) once the supervisor is gone: the read end of
/// its death pipe in a worker, a pidfd of the supervisor in an attached process; -1 otherwise.
static DEATH_FD: AtomicI32 = AtomicI32::new(-1);
/// True while this process sleeps in `poll`: only then does setting its own latch need a signal.
static WAITING: AtomicBool = AtomicBool::new(false);
/// The socket of the worker's database session (-1: none). Every wait watches it, so a session
/// the server ends (`pg_terminate_backend`, shutdown) ends the worker while it waits, as a
/// backend told to terminate ends; workers without a connection pay one load.
static DB_SOCKET: AtomicI32 = AtomicI32::new(-1);

/// Watches `fd`, the database session's socket, in every latch wait from now on.
pub fn set_db_socket(fd: c_int) {
    DB_SOCKET.store(fd, Ordering::Relaxed);
}

/// The process-local latch a worker starts with.
static mut LOCAL_LATCH: Latch = Latch {
    is_set: 0,
    maybe_sleeping: 0,
    is_shared: false,
    owner_pid: 0,
};

fn is_set(latch: *mut Latch) -> &'static AtomicI32 {
    // SAFETY: callers pass a valid latch; the field is an aligned 4-byte int only ever accessed
    // atomically by this module.
    unsafe { AtomicI32::from_ptr(addr_of_mut!((*latch).is_set)) }
}

fn maybe_sleeping(latch: *mut Latch) -> &'static AtomicI32 {
    // SAFETY: as for is_set.
    unsafe { AtomicI32::from_ptr(addr_of_mut!((*latch).maybe_sleeping)) }
}

/// Records the descriptor that reports the supervisor's death.
pub fn set_death_fd(fd: c_int) {
    DEATH_FD.store(fd, Ordering::Relaxed);
}

/// Creates this process's signalfd for SIGURG unless it has one already (a spare makes it
/// while it waits, so becoming a worker does not); the descriptor, or -1.
pub fn prepare_signal_fd() -> c_int {
    // SAFETY: getpid has no preconditions.
    let me = unsafe { libc::getpid() };
    let fd = SIGNAL_FD.load(Ordering::Relaxed);
    if fd >= 0 && SIGNAL_FD_OWNER.load(Ordering::Relaxed) == me {
        return fd;
    }
    // SAFETY: sigset operations on a local set; signalfd returns a new fd or -1.
    let fd = unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, libc::SIGURG);
        libc::signalfd(-1, &set, libc::SFD_NONBLOCK | libc::SFD_CLOEXEC)
    };
    if fd < 0 {
        return -1;
    }
    let old = SIGNAL_FD.swap(fd, Ordering::Relaxed);
    SIGNAL_FD_OWNER.store(me, Ordering::Relaxed);
    if old >= 0 {
        // SAFETY: closing the fd this module created in the parent (inherited across fork).
        unsafe { libc::close(old) };
    }
    fd
}

/// Points `MyLatch` at a fresh local latch, set. SIGURG must already be blocked: a SIGURG sent
/// before the first wait stays pending until that wait's signalfd reads it, so the signalfd is
/// made then (a worker that never waits never pays for it).
pub fn init_process_latch() {
    // SAFETY: single-threaded process start; nothing else references LOCAL_LATCH yet.
    unsafe {
        let latch = &raw mut LOCAL_LATCH;
        (*latch).is_set = 1;
        (*latch).maybe_sleeping = 0;
        (*latch).is_shared = false;
        (*latch).owner_pid = MyProcPid;
        MyLatch = latch;
    }
}

/// `SetLatch`: idempotent; wakes the owner if it may be sleeping.
///
/// # Safety
/// `latch` must point to a valid latch.
pub unsafe fn set_latch(latch: *mut Latch) {
    fence(Ordering::SeqCst);
    if is_set(latch).load(Ordering::Relaxed) != 0 {
        return;
    }
    is_set(latch).store(1, Ordering::Relaxed);
    fence(Ordering::SeqCst);
    if maybe_sleeping(latch).load(Ordering::Relaxed) == 0 {
        return;
    }
    // SAFETY: the caller promises a valid latch.
    let owner = unsafe { std::ptr::read_volatile(addr_of_mut!((*latch).owner_pid)) };
    // SAFETY: reading our own pid global.
    let me = unsafe { MyProcPid };
    if owner == 0 {
        return;
    }
    if owner == me {
        if WAITING.load(Ordering::Relaxed) {
            // SAFETY: kill is async-signal-safe; SIGURG is blocked and read by our signalfd.
            unsafe { libc::kill(me, libc::SIGURG) };
        }
    } else {
        // SAFETY: as above, for the owning process.
        unsafe { libc::kill(owner, libc::SIGURG) };
    }
}

/// `ResetLatch`: clears the flag, then a full barrier so later checks see fresh state.
///
/// # Safety
/// `latch` must point to a valid latch owned by this process.
pub unsafe fn reset_latch(latch: *mut Latch) {
    is_set(latch).store(0, Ordering::Relaxed);
    fence(Ordering::SeqCst);
}

/// True while the supervisor lives (always true in the supervisor itself).
pub fn postmaster_is_alive() -> bool {
    let fd = DEATH_FD.load(Ordering::Relaxed);
    if fd < 0 {
        return true;
    }
    let mut pfd = libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: polling one descriptor without waiting. Nothing is ever written to the death
    // pipe, so any event on it (or on a pidfd) means the supervisor has gone.
    unsafe { libc::poll(&mut pfd, 1, 0) == 0 }
}

/// `WaitLatchOrSocket`. Returns the events that fired (never 0).
///
/// # Safety
/// `latch` must be NULL or a valid latch owned by this process.
pub unsafe fn wait(latch: *mut Latch, events: c_int, sock: c_int, timeout_ms: i64) -> c_int {
    let latch = if events & WL_LATCH_SET != 0 {
        latch
    } else {
        std::ptr::null_mut()
    };
    let deadline = (events & WL_TIMEOUT != 0 && timeout_ms >= 0)
        .then(|| Instant::now() + Duration::from_millis(timeout_ms as u64));
    let watch_death = events & (WL_POSTMASTER_DEATH | WL_EXIT_ON_PM_DEATH) != 0;
    let mut sigfd = SIGNAL_FD.load(Ordering::Relaxed);
    if sigfd < 0 {
        sigfd = prepare_signal_fd();
        if sigfd < 0 {
            crate::elog::log(
                FATAL,
                format_args!(
                    "could not create signalfd for latch: {}",
                    std::io::Error::last_os_error()
                ),
            );
            crate::worker::exit::proc_exit(1);
        }
    }
    let death = DEATH_FD.load(Ordering::Relaxed);
    let db = DB_SOCKET.load(Ordering::Relaxed);

    loop {
        if !latch.is_null() {
            maybe_sleeping(latch).store(1, Ordering::Relaxed);
            fence(Ordering::SeqCst);
            if is_set(latch).load(Ordering::Relaxed) != 0 {
                maybe_sleeping(latch).store(0, Ordering::Relaxed);
                return WL_LATCH_SET;
            }
        }
        let mut fds = [libc::pollfd {
            fd: -1,
            events: 0,
            revents: 0,
        }; 4];
        fds[0] = libc::pollfd {
            fd: sigfd,
            events: libc::POLLIN,
            revents: 0,
        };
        if watch_death && death >= 0 {
            fds[1] = libc::pollfd {
                fd: death,
                events: libc::POLLIN,
                revents: 0,
            };
        }
        if events & WL_SOCKET_MASK != 0 && sock >= 0 {
            let mut ev = 0;
            if events & WL_SOCKET_READABLE != 0 {
                ev |= libc::POLLIN;
            }
            if events & WL_SOCKET_WRITEABLE != 0 {
                ev |= libc::POLLOUT;
            }
            if events & WL_SOCKET_CLOSED != 0 {
                ev |= libc::POLLRDHUP;
            }
            fds[2] = libc::pollfd {
                fd: sock,
                events: ev,
                revents: 0,
            };
        }
        if db >= 0 && db != sock {
            fds[3] = libc::pollfd {
                fd: db,
                events: libc::POLLIN | libc::POLLRDHUP,
                revents: 0,
            };
        }
        let wait_ms: c_int = match deadline {
            None => -1,
            Some(d) => {
                let left = d.saturating_duration_since(Instant::now());
                // Round up so a wait never ends early.
                left.as_micros().div_ceil(1000).min(c_int::MAX as u128) as c_int
            }
        };
        WAITING.store(true, Ordering::Relaxed);
        // SAFETY: fds is a valid array of 4 pollfd; negative fds are ignored by poll.
        let rc = unsafe { libc::poll(fds.as_mut_ptr(), 4, wait_ms) };
        WAITING.store(false, Ordering::Relaxed);
        if !latch.is_null() {
            maybe_sleeping(latch).store(0, Ordering::Relaxed);
        }
        if fds[0].revents != 0 {
            drain_signalfd(sigfd);
        }
        let mut result = 0;
        if !latch.is_null() && is_set(latch).load(Ordering::Relaxed) != 0 {
            result |= WL_LATCH_SET;
        }
        if rc > 0 && fds[1].revents != 0 && !postmaster_is_alive() {
            if events & WL_EXIT_ON_PM_DEATH != 0 {
                crate::worker::exit::proc_exit(1);
            }
            result |= WL_POSTMASTER_DEATH;
        }
        if rc > 0 && fds[2].revents != 0 {
            let r = fds[2].revents;
            if r & (libc::POLLIN | libc::POLLHUP | libc::POLLERR) != 0 {
                result |= events & WL_SOCKET_READABLE;
            }
            if r & (libc::POLLOUT | libc::POLLHUP | libc::POLLERR) != 0 {
                result |= events & WL_SOCKET_WRITEABLE;
            }
            if r & (libc::POLLRDHUP | libc::POLLHUP | libc::POLLERR) != 0 {
                result |= events & WL_SOCKET_CLOSED;
            }
        }
        if rc > 0 && fds[3].revents != 0 {
            // Reads what the server sent; ends the worker (FATAL) if it closed the session.
            if let Some(c) = crate::db::connection() {
                c.on_readable();
            }
        }
        if result != 0 {
            return result;
        }
        if let Some(d) = deadline {
            if Instant::now() >= d {
                return WL_TIMEOUT;
            }
        }
    }
}

fn drain_signalfd(fd: c_int) {
    // Room for four signals: one read takes every pending SIGURG (they fold into one while
    // pending), so a second read is needed only when the buffer came back full.
    let mut buf = [0u8; 128 * 4];
    loop {
        // SAFETY: non-blocking read into a local buffer.
        let n = unsafe { libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) };
        if n < buf.len() as isize {
            return;
        }
    }
}

/// A wait on this process's own latch (`MyLatch`, when `events` has `WL_LATCH_SET`) for the
/// library's own waits (message queues, condition variables), reporting `wait_event` as
/// PostgreSQL's `WaitLatch` does while it sleeps. `timeout_ms` counts with `WL_TIMEOUT` (-1:
/// none); `sock` (-1: none) is watched with the socket events.
pub fn wait_for_event(events: c_int, sock: c_int, timeout_ms: i64, wait_event: u32) -> c_int {
    // SAFETY: my_wait_event_info always points at a live u32; MyLatch is NULL or this
    // process's own latch.
    unsafe {
        std::ptr::write_volatile(crate::pg::my_wait_event_info, wait_event);
        let rc = wait(MyLatch, events, sock, timeout_ms);
        std::ptr::write_volatile(crate::pg::my_wait_event_info, 0);
        rc
    }
}
