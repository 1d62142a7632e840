//! The supervisor's children (workers and spares), each watched through a pidfd in one epoll
//! set together with the signalfd.
//!
//! Why: `waitpid(-1, …)` walks every child of the process on each call, and a SIGCHLD says only
//! that some child exited (several exits fold into one signal). With 1,000 idle workers that
//! walk costs tens of microseconds per exit, and it runs right where the next start is being
//! handled. A pidfd becomes readable when its process exits, so epoll names exactly the
//! children to reap, and `waitpid(pid, …)` for one pid does not walk. A child whose pidfd could
//! not be opened (descriptor limit) is still reaped: while any exists, SIGCHLD falls back to
//! the walk.
//!
//! The pidfds are kept at descriptor numbers from `PIDFD_BASE` up, above the ones the
//! supervisor and its modules use, so a new child drops them with a few `close_range` calls;
//! the supervisor raises its own soft `RLIMIT_NOFILE` to make room and children get the
//! original limit back.

use crate::abi::types::DEBUG1;
use crate::elog;
use crate::registry::ExitKind;
use libc::{c_int, pid_t};
use std::os::fd::RawFd;

/// Lowest descriptor number a child's pidfd is moved to.
const PIDFD_BASE: c_int = 1024;
/// Descriptors beyond the pidfds that the supervisor may need meanwhile.
const HEADROOM: u64 = 256;
/// epoll data of the signalfd; a pidfd's is `pidfd << 32 | pid` (both never negative).
const SIGNALS: u64 = u64::MAX;

pub struct Children {
    epoll: RawFd,
    /// Pidfd → child.
    pidfds: PidfdTable,
    /// Children without a pidfd; while there are any, SIGCHLD means a `waitpid(-1)` walk.
    untracked: usize,
    /// False once a descriptor at or above `PIDFD_BASE` was not made by us (the supervisor
    /// has that many open): children then close the pidfds one list entry at a time.
    high_range_is_ours: bool,
    /// Children whose pidfd reported an exit, not reaped yet, with that pidfd.
    exited: Vec<(pid_t, RawFd)>,
    /// The soft descriptor limit before the supervisor raised it, for children to restore.
    original_nofile: Option<libc::rlimit>,
}

impl Children {
    /// An epoll set watching `signal_fd`, with room for `max_children` pidfds.
    pub fn new(signal_fd: RawFd, max_children: u64) -> std::io::Result<Self> {
        // SAFETY: creating a descriptor this struct owns.
        let epoll = unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) };
        if epoll < 0 {
            return Err(std::io::Error::last_os_error());
        }
        let mut ev = libc::epoll_event {
            events: libc::EPOLLIN as u32,
            u64: SIGNALS,
        };
        // SAFETY: adding a descriptor we own to the set we own.
        if unsafe { libc::epoll_ctl(epoll, libc::EPOLL_CTL_ADD, signal_fd, &mut ev) } < 0 {
            return Err(std::io::Error::last_os_error());
        }
        Ok(Self {
            epoll,
            pidfds: PidfdTable::with_capacity(max_children as usize),
            untracked: 0,
            high_range_is_ours: true,
            exited: Vec::new(),
            original_nofile: raise_nofile(PIDFD_BASE as u64 + max_children + HEADROOM),
        })
    }

    /// Starts watching a child just forked. Never fails: without a pidfd the child is reaped
    /// by the SIGCHLD walk.
    pub fn track(&mut self, pid: pid_t) {
        match open_pidfd(pid) {
            Some((fd, moved)) => {
                self.high_range_is_ours &= moved;
                let mut ev = libc::epoll_event {
                    events: libc::EPOLLIN as u32,
                    u64: (fd as u64) << 32 | pid as u32 as u64,
                };
                // SAFETY: adding a descriptor we own to the set we own.
                if unsafe { libc::epoll_ctl(self.epoll, libc::EPOLL_CTL_ADD, fd, &mut ev) } < 0 {
                    // SAFETY: closing the pidfd just opened.
                    unsafe { libc::close(fd) };
                    self.untracked += 1;
                } else {
                    self.pidfds.insert(fd, pid);
                }
            }
            None => {
                elog::log(
                    DEBUG1,
                    format_args!(
                        "child process {pid} has no pidfd (no descriptor free from {PIDFD_BASE} \
                         up to the limit); it is reaped on SIGCHLD"
                    ),
                );
                self.untracked += 1;
            }
        }
    }

    /// Sleeps until a signal arrives, a child exits or `timeout_ms` passes.
    pub fn wait(&mut self, timeout_ms: c_int) {
        let mut events = [libc::epoll_event { events: 0, u64: 0 }; 32];
        // SAFETY: epoll_wait fills at most `events.len()` entries of our array.
        let n = unsafe {
            libc::epoll_wait(
                self.epoll,
                events.as_mut_ptr(),
                events.len() as c_int,
                timeout_ms,
            )
        };
        for ev in events.iter().take(n.max(0) as usize) {
            if ev.u64 != SIGNALS {
                self.exited
                    .push((ev.u64 as u32 as pid_t, (ev.u64 >> 32) as RawFd));
            }
        }
    }

    /// Reaps every child known to have exited (and, after a SIGCHLD while some child has no
    /// pidfd, every other one) and adds them to `out` with how they ended.
    pub fn reap(&mut self, sigchld: bool, out: &mut Vec<(pid_t, ExitKind)>) {
        let mut exited = std::mem::take(&mut self.exited);
        for &(pid, fd) in &exited {
            // A pidfd reports its exit until closed; one reaped by the walk is gone already.
            if self.pidfds.get(fd) != Some(pid) {
                continue;
            }
            if let Some(exit) = wait_for(pid) {
                self.forget(fd);
                out.push((pid, exit));
            }
        }
        // The buffer is kept (allocations here would land anywhere in the heap; see
        // `registry::sanitise_field`).
        exited.clear();
        self.exited = exited;
        if sigchld && self.untracked > 0 {
            while let Some((pid, exit)) = wait_any() {
                // Rare (only while some child has no pidfd), so a scan is fine here.
                match self.pidfds.find(pid) {
                    Some(fd) => self.forget(fd),
                    None => self.untracked = self.untracked.saturating_sub(1),
                }
                out.push((pid, exit));
            }
        }
    }

    /// Stops watching a reaped child's pidfd.
    fn forget(&mut self, fd: RawFd) {
        self.pidfds.remove(fd);
        // SAFETY: removing and closing a pidfd we own (a child may still hold a copy, so
        // it is taken out of the set explicitly).
        unsafe {
            libc::epoll_ctl(self.epoll, libc::EPOLL_CTL_DEL, fd, std::ptr::null_mut());
            libc::close(fd);
        }
    }

    /// The descriptors a new child must close: the epoll set and the pidfds, added to `list`
    /// and as a range `[first, last]` that holds nothing else of the supervisor's.
    /// Building the list for 1,000 children on every fork would cost more than the range.
    pub fn descriptors(&self, list: &mut Vec<RawFd>) -> Option<(RawFd, RawFd)> {
        list.push(self.epoll);
        if self.high_range_is_ours {
            Some((PIDFD_BASE, self.pidfds.last()?))
        } else {
            list.extend(self.pidfds.fds());
            None
        }
    }

    /// The descriptor limit a child should have (the one the supervisor started with).
    pub fn child_nofile(&self) -> Option<libc::rlimit> {
        self.original_nofile
    }
}

/// Pidfd → pid as a dense table indexed by `fd - PIDFD_BASE` (every pidfd is at or above it):
/// adding or dropping a child writes one entry, where a tree would rewrite nodes on several heap
/// pages, each a copy-on-write fault after every fork.
struct PidfdTable {
    /// 0 where no pidfd is open; no trailing zeros.
    pids: Vec<pid_t>,
}

impl PidfdTable {
    fn with_capacity(n: usize) -> Self {
        Self {
            pids: Vec::with_capacity(n),
        }
    }

    fn insert(&mut self, fd: RawFd, pid: pid_t) {
        let i = (fd - PIDFD_BASE) as usize;
        if i >= self.pids.len() {
            self.pids.resize(i + 1, 0);
        }
        self.pids[i] = pid;
    }

    fn get(&self, fd: RawFd) -> Option<pid_t> {
        let i = usize::try_from(fd - PIDFD_BASE).ok()?;
        self.pids.get(i).copied().filter(|&p| p != 0)
    }

    fn remove(&mut self, fd: RawFd) {
        if let Some(p) = self.pids.get_mut((fd - PIDFD_BASE) as usize) {
            *p = 0;
        }
        while self.pids.last() == Some(&0) {
            self.pids.pop();
        }
    }

    /// The pidfd of `pid` (a scan: only the SIGCHLD fallback needs it).
    fn find(&self, pid: pid_t) -> Option<RawFd> {
        let i = self.pids.iter().position(|&p| p == pid)?;
        Some(PIDFD_BASE + i as RawFd)
    }

    /// The highest pidfd.
    fn last(&self) -> Option<RawFd> {
        (!self.pids.is_empty()).then(|| PIDFD_BASE + self.pids.len() as RawFd - 1)
    }

    /// Every pidfd, ascending.
    fn fds(&self) -> impl Iterator<Item = RawFd> + '_ {
        (PIDFD_BASE..)
            .zip(&self.pids)
            .filter(|&(_, &p)| p != 0)
            .map(|(fd, _)| fd)
    }
}

/// A pidfd for `pid` at `PIDFD_BASE` or above (`true` when moved there by us). None when
/// there is no room up there: a pidfd never takes a low descriptor the supervisor needs for
/// its own work (the lock file, a pipe for the next spare).
fn open_pidfd(pid: pid_t) -> Option<(RawFd, bool)> {
    // SAFETY: pidfd_open takes a pid and flags and returns a new descriptor (close-on-exec)
    // or -1; `pid` is our unreaped child, so it names that process.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) } as RawFd;
    if fd < 0 {
        return None;
    }
    if fd >= PIDFD_BASE {
        return Some((fd, false));
    }
    // SAFETY: duplicating a descriptor we own; the original is closed once moved.
    unsafe {
        let high = libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, PIDFD_BASE);
        libc::close(fd);
        (high >= 0).then_some((high, true))
    }
}

/// Raises the soft descriptor limit to `want` (at most the hard limit); returns the limit
/// before when it changed.
fn raise_nofile(want: u64) -> Option<libc::rlimit> {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit fills the struct we own.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } < 0 || lim.rlim_cur >= want {
        return None;
    }
    let raised = libc::rlimit {
        rlim_cur: want.min(lim.rlim_max),
        rlim_max: lim.rlim_max,
    };
    // SAFETY: setrlimit reads the struct we own.
    (unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } == 0).then_some(lim)
}

fn exit_kind(status: c_int) -> ExitKind {
    if libc::WIFEXITED(status) {
        ExitKind::Code(libc::WEXITSTATUS(status))
    } else {
        ExitKind::Signal(libc::WTERMSIG(status))
    }
}

/// Reaps `pid` if it has exited (no walk over the other children).
fn wait_for(pid: pid_t) -> Option<ExitKind> {
    let mut status = 0;
    // SAFETY: waitpid writes the status into our local.
    let r = unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
    (r == pid).then(|| exit_kind(status))
}

/// Reaps any exited child (walks them all).
fn wait_any() -> Option<(pid_t, ExitKind)> {
    let mut status = 0;
    // SAFETY: waitpid writes the status into our local.
    let pid = unsafe { libc::waitpid(-1, &mut status, libc::WNOHANG) };
    (pid > 0).then(|| (pid, exit_kind(status)))
}
