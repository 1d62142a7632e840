//! Notifying `bgw_notify_pid` (NTF-*). Each notify process is held by a pidfd, so a signal can
//! only ever reach the process that registered: once it has exited, the send fails with ESRCH
//! and the pid is forgotten everywhere (NTF-5), so a recycled pid is never signalled.

use crate::abi::types::DEBUG1;
use crate::elog;
use crate::registry::Registry;
use libc::{c_int, pid_t};
use std::collections::HashMap;

#[derive(Default)]
pub struct Notifiers {
    fds: HashMap<pid_t, c_int>,
}

fn pidfd_open(pid: pid_t) -> Option<c_int> {
    // SAFETY: pidfd_open takes a pid and flags and returns a new descriptor or -1.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    (fd >= 0).then_some(fd as c_int)
}

impl Notifiers {
    /// Validates a registrant's notify pid (NTF-2): kept only if that process exists now.
    pub fn adopt(&mut self, pid: pid_t) -> bool {
        if pid <= 0 {
            return false;
        }
        if self.fds.contains_key(&pid) {
            return true;
        }
        match pidfd_open(pid) {
            Some(fd) => {
                self.fds.insert(pid, fd);
                true
            }
            None => false,
        }
    }

    /// Sends SIGUSR1 to a notify pid; forgets it everywhere if it has exited.
    pub fn notify(&mut self, reg: &mut Registry, pid: pid_t) {
        if pid <= 0 {
            return;
        }
        let Some(&fd) = self.fds.get(&pid) else {
            return;
        };
        // SAFETY: sending a signal through a pidfd we own.
        let rc = unsafe {
            libc::syscall(
                libc::SYS_pidfd_send_signal,
                fd,
                libc::SIGUSR1,
                std::ptr::null::<libc::siginfo_t>(),
                0,
            )
        };
        if rc < 0 && std::io::Error::last_os_error().raw_os_error() == Some(libc::ESRCH) {
            elog::log(
                DEBUG1,
                format_args!("notification process {pid} has exited; forgetting it"),
            );
            self.forget(reg, pid);
        }
    }

    /// Sends SIGUSR1 to a pid the supervisor never adopted (a refused registration, DYN-10/11).
    pub fn notify_once(pid: pid_t) {
        if let Some(fd) = (pid > 0).then(|| pidfd_open(pid)).flatten() {
            // SAFETY: as in notify; the pidfd is closed right after.
            unsafe {
                libc::syscall(
                    libc::SYS_pidfd_send_signal,
                    fd,
                    libc::SIGUSR1,
                    std::ptr::null::<libc::siginfo_t>(),
                    0,
                );
                libc::close(fd);
            }
        }
    }

    /// Drops a notify pid: closes its pidfd and clears it in every registration (NTF-5).
    pub fn forget(&mut self, reg: &mut Registry, pid: pid_t) {
        if let Some(fd) = self.fds.remove(&pid) {
            // SAFETY: closing a pidfd we own.
            unsafe { libc::close(fd) };
        }
        for w in reg.workers.iter_mut() {
            if w.def.bgw_notify_pid == pid {
                w.def.bgw_notify_pid = 0;
            }
        }
    }

    /// Closes the pidfd of a notify pid no registration refers to any more.
    pub fn release_if_unused(&mut self, reg: &Registry, pid: pid_t) {
        if pid > 0 && !reg.workers.iter().any(|w| w.def.bgw_notify_pid == pid) {
            if let Some(fd) = self.fds.remove(&pid) {
                // SAFETY: closing a pidfd we own.
                unsafe { libc::close(fd) };
            }
        }
    }

    /// Forgets every notify pid (crash re-initialisation, NTF-6).
    pub fn clear(&mut self) {
        for (_, fd) in self.fds.drain() {
            // SAFETY: closing pidfds we own.
            unsafe { libc::close(fd) };
        }
    }

    /// Descriptors a new child must close.
    pub fn fds(&self) -> impl Iterator<Item = c_int> + '_ {
        self.fds.values().copied()
    }
}
