//! Other processes, by pidfd: open one, tell it apart from a later process that reuses its pid
//! (its start time, in clock ticks since boot, as `/proc/PID/stat` gives it), and signal exactly
//! it. Whoever signals a process it did not fork goes through here.

use libc::{c_int, pid_t};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

/// A pidfd for `pid`: it keeps naming that process even after the pid is reused.
pub fn pidfd_open(pid: pid_t) -> std::io::Result<OwnedFd> {
    if pid <= 0 {
        return Err(std::io::Error::from_raw_os_error(libc::ESRCH));
    }
    // SAFETY: pidfd_open takes a pid and flags and returns a new descriptor (always
    // close-on-exec) or -1.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    if fd < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: fd is a new descriptor nobody else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as c_int) })
}

/// Sends `sig` through a pidfd (typed, so no wrong value can reach the variadic syscall).
pub fn pidfd_send_signal(fd: c_int, sig: c_int) -> std::io::Result<()> {
    // SAFETY: pidfd_send_signal(pidfd, sig, info = NULL, flags = 0).
    let rc = unsafe {
        libc::syscall(
            libc::SYS_pidfd_send_signal,
            fd,
            sig,
            std::ptr::null::<libc::siginfo_t>(),
            0u32,
        )
    };
    if rc < 0 {
        Err(std::io::Error::last_os_error())
    } else {
        Ok(())
    }
}

/// When `pid` started, in clock ticks since boot (field 22 of `/proc/PID/stat`); None when there
/// is no such process.
pub fn start_ticks(pid: pid_t) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may hold spaces and parentheses: count from the last ')'.
    let after = &stat[stat.rfind(')')? + 1..];
    after.split_whitespace().nth(19)?.parse().ok()
}

/// A process known by pid and start time, held by a pidfd that was checked to name it.
pub struct Identified {
    pub pid: pid_t,
    pub pidfd: OwnedFd,
}

/// Why a process could not be identified.
#[derive(Debug, PartialEq, Eq)]
pub enum NotThere {
    /// No process has that pid.
    Gone,
    /// The pid belongs to another process now (it started at another time).
    Reused,
    /// The process exists but belongs to another user.
    OtherUser,
}

/// The process `pid` that started at `ticks`, held by a pidfd: opened first, then checked, so the
/// descriptor cannot name a process that took the pid later.
pub fn identify(pid: pid_t, ticks: u64) -> Result<Identified, NotThere> {
    let pidfd = pidfd_open(pid).map_err(|_| NotThere::Gone)?;
    match start_ticks(pid) {
        None => Err(NotThere::Gone),
        Some(t) if t != ticks => Err(NotThere::Reused),
        Some(_) => {
            // Signal 0 through the pidfd: is it ours to signal?
            match pidfd_send_signal(pidfd.as_raw_fd(), 0) {
                Err(e) if e.raw_os_error() == Some(libc::EPERM) => Err(NotThere::OtherUser),
                Err(_) => Err(NotThere::Gone),
                Ok(()) => Ok(Identified { pid, pidfd }),
            }
        }
    }
}

/// Whether the process behind `pidfd` has exited (its pidfd reads readable).
pub fn has_exited(pidfd: &OwnedFd) -> bool {
    let mut p = libc::pollfd {
        fd: pidfd.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: one pollfd, no wait.
    unsafe { libc::poll(&mut p, 1, 0) > 0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_is_identified_by_its_start_time_and_a_wrong_time_is_a_reused_pid() {
        // SAFETY: getpid has no preconditions.
        let me = unsafe { libc::getpid() };
        let ticks = start_ticks(me).expect("our own /proc entry");
        assert!(identify(me, ticks).is_ok());
        assert_eq!(identify(me, ticks + 1).err(), Some(NotThere::Reused));
        assert_eq!(identify(-1, ticks).err(), Some(NotThere::Gone));
    }
}
