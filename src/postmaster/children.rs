//! Finding the supervisor's children (workers and spares) that exited.
//!
//! Each SIGCHLD record read from the signalfd names the child that exited, and that child is
//! reaped by pid: `waitpid` for one pid looks at no other child. Exits that happen while SIGCHLD
//! is already pending fold into that one signal, so every wake-up that saw a SIGCHLD ends with a
//! sweep, `waitpid(-1, WNOHANG)`, which finds the exits no record named. The sweep walks every
//! child (about 30 µs with 1,000 idle workers), so the loop runs it after the launch pass, and
//! with many children only once the supervisor is quiet (see `SWEEP_AT_ONCE_MAX`).
//!
//! Nothing here holds a descriptor per child. A pidfd per child in an epoll set would name
//! every exit exactly, but it puts one descriptor per child in the supervisor's table, which
//! every fork copies and every new child must close again: with 1,000 idle workers that is
//! some 300 µs of work for each new worker or spare, far more than the sweep.

use crate::registry::ExitKind;
use libc::{c_int, pid_t};
use std::time::{Duration, Instant};

#[derive(Default)]
pub struct Children {
    /// Children that SIGCHLD records named since the last reap.
    named: Vec<pid_t>,
    /// When the first SIGCHLD since the last sweep arrived.
    sweep_due: Option<Instant>,
}

impl Children {
    /// Takes note of one SIGCHLD record (`ssi_pid`, `ssi_code` of the signalfd).
    pub fn note_sigchld(&mut self, pid: u32, code: i32) {
        self.sweep_due.get_or_insert_with(Instant::now);
        // Only a child's exit, as the kernel reports it, names a pid worth a targeted wait; any
        // other record (a stopped child, or a SIGCHLD someone queued by hand with a made-up
        // pid, which could even be 0 or negative and so mean a group) leaves it to the sweep.
        let exited = matches!(code, libc::CLD_EXITED | libc::CLD_KILLED | libc::CLD_DUMPED);
        if let Ok(pid) = pid_t::try_from(pid) {
            if exited && pid > 0 && !self.named.contains(&pid) {
                self.named.push(pid);
            }
        }
    }

    /// Reaps the children SIGCHLD records named, adding them to `out` with how they ended.
    pub fn reap_named(&mut self, out: &mut Vec<(pid_t, ExitKind)>) {
        for pid in self.named.drain(..) {
            if let Some(exit) = wait(pid) {
                out.push((pid, exit));
            }
        }
    }

    /// Whether a sweep is owed (a SIGCHLD arrived since the last one).
    pub fn sweep_due(&self) -> bool {
        self.sweep_due.is_some()
    }

    /// For how long a sweep has been owed.
    pub fn sweep_due_for(&self) -> Duration {
        self.sweep_due.map_or(Duration::ZERO, |t| t.elapsed())
    }

    /// Reaps every exited child no record named (walks all children), adding them to `out`.
    pub fn sweep(&mut self, out: &mut Vec<(pid_t, ExitKind)>) {
        self.sweep_due = None;
        while let Some((pid, exit)) = wait_any() {
            out.push((pid, exit));
        }
    }
}

fn exit_kind(status: c_int) -> ExitKind {
    if libc::WIFEXITED(status) {
        ExitKind::Code(libc::WEXITSTATUS(status))
    } else {
        ExitKind::Signal(libc::WTERMSIG(status))
    }
}

/// Reaps `pid` if it has exited (no walk over the other children).
fn wait(pid: pid_t) -> Option<ExitKind> {
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
