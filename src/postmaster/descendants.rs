//! What workers leave behind: processes they forked. The supervisor is a child subreaper, so a
//! descendant whose parent exits becomes the supervisor's child instead of init's. A worker's
//! descendants live as long as it does; when it exits, its process group (every descendant that
//! did not start a session of its own) gets SIGTERM, and SIGKILL 5 s later. At shutdown and
//! before a crash-restart, every child of the supervisor that is not a worker or a spare (the
//! descendants that escaped their group, adopted) is ended the same way, and the supervisor
//! waits for it: no process descended from a worker outlives either.

use libc::{c_int, pid_t};
use std::time::{Duration, Instant};

/// How long a descendant has between SIGTERM (or SIGQUIT) and SIGKILL, as workers have in an
/// immediate shutdown.
pub const GRACE: Duration = Duration::from_secs(5);

/// Makes this process a child subreaper (orphaned descendants become its children).
pub fn become_subreaper() -> std::io::Result<()> {
    // SAFETY: prctl with integer arguments only.
    if unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

/// This process's children, as the kernel lists them (`/proc/self/task/<tid>/children`; the
/// supervisor has one thread).
pub fn children() -> Vec<pid_t> {
    // SAFETY: getpid has no preconditions.
    let me = unsafe { libc::getpid() };
    std::fs::read_to_string(format!("/proc/{me}/task/{me}/children"))
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|p| p.parse().ok())
        .collect()
}

fn signal_group_and_process(pid: pid_t, sig: c_int) {
    // SAFETY: kill has no memory-safety preconditions; the targets are our own descendants.
    unsafe {
        libc::kill(-pid, sig);
        libc::kill(pid, sig);
    }
}

/// Process groups of exited workers, owed a SIGKILL at their deadline.
#[derive(Default)]
pub struct Leftovers {
    groups: Vec<(pid_t, Instant)>,
    /// Adopted descendants being ended (shutdown, crash-restart): when they get SIGKILL.
    strays_deadline: Option<Instant>,
}

impl Leftovers {
    /// A worker exited: what is left of its process group gets SIGTERM now, SIGKILL later.
    pub fn worker_exited(&mut self, pid: pid_t, now: Instant) {
        // SAFETY: kill has no memory-safety preconditions; the group is the exited worker's
        // (each worker leads a session of its own), which only its descendants can be in.
        let any = unsafe { libc::kill(-pid, libc::SIGTERM) } == 0;
        if any {
            self.groups.push((pid, now + GRACE));
        }
    }

    /// Sends the SIGKILLs that are due, except to a group whose leader pid is a worker's again
    /// (`is_worker`: the pid was reused for a new worker, whose group it now is).
    pub fn kill_due(&mut self, now: Instant, is_worker: impl Fn(pid_t) -> bool) {
        self.groups.retain(|&(pgid, due)| {
            if due > now {
                return true;
            }
            if !is_worker(pgid) {
                // SAFETY: as in worker_exited.
                unsafe { libc::kill(-pgid, libc::SIGKILL) };
            }
            false
        });
    }

    /// Ends the supervisor's children that are not workers or spares (`known`): `first` (SIGTERM
    /// or SIGQUIT) at once, SIGKILL after the grace period. True while any remain.
    pub fn end_strays(
        &mut self,
        known: impl Fn(pid_t) -> bool,
        first: c_int,
        now: Instant,
    ) -> bool {
        let strays: Vec<pid_t> = children().into_iter().filter(|&p| !known(p)).collect();
        if strays.is_empty() {
            self.strays_deadline = None;
            return false;
        }
        match self.strays_deadline {
            None => {
                for &p in &strays {
                    signal_group_and_process(p, first);
                }
                self.strays_deadline = Some(now + GRACE);
            }
            Some(due) if now >= due => {
                for &p in &strays {
                    signal_group_and_process(p, libc::SIGKILL);
                }
                // Again shortly, until they are reaped (no busy loop meanwhile).
                self.strays_deadline = Some(now + Duration::from_millis(100));
            }
            Some(_) => {}
        }
        true
    }

    /// The next time something here is due.
    pub fn next_due(&self) -> Option<Instant> {
        let groups = self.groups.iter().map(|&(_, d)| d).min();
        match (groups, self.strays_deadline) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }
}
