//! Notifying `bgw_notify_pid` (NTF-*). Each notify process is held by a pidfd, so a signal can
//! only ever reach the process that registered: once it has exited, the send fails with ESRCH
//! and the pid is forgotten everywhere (NTF-5), so a recycled pid is never signalled.
//!
//! Notifications are collected while the supervisor handles events together (a batch of
//! starts, a launch pass, a sweep of exits) and sent once those are recorded: one SIGUSR1 per
//! process however many of its workers started or stopped meanwhile. The receiver could not
//! tell more apart anyway (pending signals of one kind fold into one), and a launcher of 100
//! workers is woken a few times instead of 200.

use crate::elog;
use crate::pg::types::DEBUG1;
use crate::registry::Registry;
use libc::{c_int, pid_t};
use std::collections::HashMap;

/// How many pidfds of notify processes with no registration left are kept open.
const IDLE_KEPT: usize = 16;

/// Open pidfds of notify processes, each with the number of registrations naming it.
#[derive(Default)]
pub struct Notifiers {
    fds: HashMap<pid_t, (c_int, usize)>,
    /// Notify pids owed a SIGUSR1 by the next `flush`, each once.
    pending: Vec<pid_t>,
}

use crate::process::pidfd_send_signal;

fn pidfd_open(pid: pid_t) -> Option<c_int> {
    crate::process::pidfd_open(pid)
        .ok()
        .map(std::os::fd::IntoRawFd::into_raw_fd)
}

impl Notifiers {
    /// Validates a registrant's notify pid (NTF-2): kept only if that process exists now.
    pub fn adopt(&mut self, pid: pid_t) -> bool {
        if pid <= 0 {
            return false;
        }
        if let Some((_, refs)) = self.fds.get_mut(&pid) {
            *refs += 1;
            return true;
        }
        match pidfd_open(pid) {
            Some(fd) => {
                self.fds.insert(pid, (fd, 1));
                true
            }
            None => false,
        }
    }

    /// Whether `pid` is a notify process already held (checked when first adopted).
    pub fn holds(&self, pid: pid_t) -> bool {
        self.fds.contains_key(&pid)
    }

    /// Owes a notify pid a SIGUSR1, sent by the next `flush`.
    pub fn notify(&mut self, pid: pid_t) {
        if pid > 0 && self.fds.contains_key(&pid) && !self.pending.contains(&pid) {
            self.pending.push(pid);
        }
    }

    /// Sends the SIGUSR1s owed; forgets every notify pid that has exited.
    pub fn flush(&mut self, reg: &mut Registry) {
        while let Some(pid) = self.pending.pop() {
            let Some(&(fd, _)) = self.fds.get(&pid) else {
                continue;
            };
            if let Err(e) = pidfd_send_signal(fd, libc::SIGUSR1) {
                if e.raw_os_error() == Some(libc::ESRCH) {
                    elog::log(
                        DEBUG1,
                        format_args!("notification process {pid} has exited; forgetting it"),
                    );
                    self.forget(reg, pid);
                }
            }
        }
    }

    /// Whether any SIGUSR1 is owed.
    pub fn any_pending(&self) -> bool {
        !self.pending.is_empty()
    }

    /// Sends SIGUSR1 to a pid the supervisor never adopted (a refused registration, DYN-10/11).
    pub fn notify_once(pid: pid_t) {
        // Only reached for a pid the caller checked (a worker or an attached process).
        if let Some(fd) = (pid > 0).then(|| pidfd_open(pid)).flatten() {
            let _ = pidfd_send_signal(fd, libc::SIGUSR1);
            // SAFETY: closing the pidfd opened just above.
            unsafe { libc::close(fd) };
        }
    }

    /// Drops a notify pid: closes its pidfd and clears it in every registration (NTF-5).
    pub fn forget(&mut self, reg: &mut Registry, pid: pid_t) {
        if let Some((fd, _)) = self.fds.remove(&pid) {
            // SAFETY: closing a pidfd we own.
            unsafe { libc::close(fd) };
        }
        for id in reg.list.ids() {
            let w = reg.list.get_mut(id);
            if w.def.bgw_notify_pid == pid {
                w.def.bgw_notify_pid = 0;
            }
        }
    }

    /// One registration naming `pid` is gone. The pidfd stays open for the next registration
    /// from the same process (a launcher usually registers one worker after another); unused
    /// ones are closed once more than `IDLE_KEPT` pile up (not those still owed a signal).
    pub fn release(&mut self, pid: pid_t) {
        if let Some((_, refs)) = self.fds.get_mut(&pid) {
            *refs = refs.saturating_sub(1);
        }
        let idle = self.fds.values().filter(|&&(_, refs)| refs == 0).count();
        if idle > IDLE_KEPT {
            let pending = &self.pending;
            self.fds.retain(|pid, &mut (fd, refs)| {
                let close = refs == 0 && !pending.contains(pid);
                if close {
                    // SAFETY: closing a pidfd we own that no registration uses.
                    unsafe { libc::close(fd) };
                }
                !close
            });
        }
    }

    /// Forgets every notify pid (crash re-initialisation, NTF-6); `flush` first, or what is
    /// owed is dropped.
    pub fn clear(&mut self) {
        self.pending.clear();
        for (_, (fd, _)) in self.fds.drain() {
            // SAFETY: closing pidfds we own.
            unsafe { libc::close(fd) };
        }
    }

    /// Descriptors a new child must close.
    pub fn fds(&self) -> impl Iterator<Item = c_int> + '_ {
        self.fds.values().map(|&(fd, _)| fd)
    }
}
