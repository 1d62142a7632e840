//! The registrant's side of dynamic workers, usable in any worker and in attached processes:
//! `RegisterDynamicBackgroundWorker`, handle status, waits and termination (DYN-*, HND-*).
//! Nothing here takes a lock: slots are claimed and read with atomics (see `shmem::slots`).

use super::{field_string, sanity_check};
use crate::pg::types::*;
use crate::pg::{MyLatch, MyProcPid};
use crate::shmem::{self, slots, Segment};
use std::sync::atomic::Ordering;
use std::time::Duration;

/// The segment this process can register in: a worker's inherited one, or an attached one.
/// The supervisor itself gets `None` (DYN-1).
fn registrant_segment() -> Option<&'static Segment> {
    if crate::postmaster::is_supervisor() {
        return None;
    }
    shmem::current()
}

/// Registers a dynamic worker. `Err` is an invalid definition (an ERROR for the caller, DYN-2);
/// `Ok(None)` means no slot, the parallel limit, or no supervisor (DYN-1, DYN-3, DYN-4).
pub fn register(def: &mut BackgroundWorker) -> Result<Option<(usize, u64)>, String> {
    let Some(seg) = registrant_segment() else {
        return Ok(None);
    };
    if let Err(reason) = sanity_check(def) {
        return Err(format!(
            "background worker \"{}\": {reason}",
            field_string(&def.bgw_name)
        ));
    }
    // Only this supervisor's processes are ever signalled: its workers and the processes
    // attached to it (all of which map its segment), or the registrant itself. A pid that names
    // no process at all is PostgreSQL's case: accepted, and dropped by the supervisor (NTF-2).
    let notify = def.bgw_notify_pid;
    // SAFETY: reading our own pid global.
    let me = unsafe { MyProcPid };
    if notify != 0
        && notify != me
        && crate::process::start_ticks(notify).is_some()
        && !seg.mapped_by(notify)
    {
        return Err(format!(
            "background worker \"{}\": invalid notify process ID {notify}: only this \
             supervisor's workers and processes attached to it can be notified",
            field_string(&def.bgw_name)
        ));
    }
    let h = seg.header();
    let parallel = def.bgw_flags & BGWORKER_CLASS_PARALLEL != 0;
    if parallel {
        // Both counters wrap; only their difference matters (DYN-3).
        let max = h.max_parallel_workers.load(Ordering::Relaxed);
        let mut registered = h.parallel_register_count.load(Ordering::Acquire);
        loop {
            let terminated = h.parallel_terminate_count.load(Ordering::Acquire);
            if registered.wrapping_sub(terminated) >= max {
                return Ok(None);
            }
            match h.parallel_register_count.compare_exchange_weak(
                registered,
                registered.wrapping_add(1),
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => break,
                Err(now) => registered = now,
            }
        }
    }
    let published = slots::claim(seg, me).and_then(|slot| {
        claimed_hook(seg);
        slots::publish(seg, slot, def).map(|generation| (slot, generation))
    });
    let Some((slot, generation)) = published else {
        if parallel {
            h.parallel_register_count.fetch_sub(1, Ordering::AcqRel);
        }
        return Ok(None);
    };
    poke_supervisor(seg);
    Ok(Some((slot, generation)))
}

/// Between claiming a slot and publishing it. An attached registrant tells the supervisor of
/// the claim, so a claimant that dies here has its slot freed at once (a worker's death is a
/// SIGCHLD the supervisor sees anyway). `BGWORKER_INJECT_CLAIM=exit|stop` (tests only) makes the
/// registrant die, or stop, right here.
fn claimed_hook(seg: &Segment) {
    if crate::worker::attach::supervisor_pidfd().is_some() {
        poke_supervisor(seg);
    }
    static INJECT: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
    match INJECT
        .get_or_init(|| std::env::var("BGWORKER_INJECT_CLAIM").ok())
        .as_deref()
    {
        // SAFETY: ending or stopping this process on purpose (fault injection).
        Some("exit") => unsafe { libc::_exit(1) },
        // SAFETY: as above.
        Some("stop") => unsafe {
            libc::raise(libc::SIGSTOP);
        },
        _ => {}
    }
}

/// Tells the supervisor a slot was published. Only ever the supervisor: a worker signals its
/// parent while that is still the supervisor (an orphan's parent is someone else); an attached
/// process signals through the pidfd it checked when it attached.
fn poke_supervisor(seg: &Segment) {
    let pid = seg.header().supervisor_pid.load(Ordering::Relaxed);
    if pid <= 0 {
        return;
    }
    if let Some(fd) = crate::worker::attach::supervisor_pidfd() {
        let _ = crate::process::pidfd_send_signal(fd, libc::SIGUSR1);
        return;
    }
    // SAFETY: getppid and kill have no memory-safety preconditions; the target is our parent.
    unsafe {
        if libc::getppid() == pid {
            libc::kill(pid, libc::SIGUSR1);
        }
    }
}

/// `GetBackgroundWorkerPid` (HND-1..3).
pub fn status(slot: usize, generation: u64) -> (BgwHandleStatus, i32) {
    match shmem::current() {
        Some(seg) => slots::handle_status(seg, slot, generation),
        None => (BgwHandleStatus::BGWH_STOPPED, 0),
    }
}

/// `TerminateBackgroundWorker` (HND-8): safe at any time, any number of times.
pub fn terminate(slot: usize, generation: u64) {
    if let Some(seg) = shmem::current() {
        if slots::request_terminate(seg, slot, generation) {
            poke_supervisor(seg);
        }
    }
}

/// What a wait is for.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Until {
    Started,
    Stopped,
}

/// Waits on this process's latch until the handle reaches the state wanted, or the supervisor
/// dies (HND-4, HND-7). The notify SIGUSR1 sets the latch when a handler for it is installed;
/// every wait is also bounded (1 ms, doubling to 100 ms), so a caller that is not the notify pid,
/// or that left SIGUSR1 ignored, still sees the change instead of sleeping forever (HND-5).
pub fn wait(slot: usize, generation: u64, until: Until) -> (BgwHandleStatus, i32) {
    let mut backoff = Duration::from_millis(1);
    loop {
        let (st, pid) = status(slot, generation);
        match (until, st) {
            (Until::Started, BgwHandleStatus::BGWH_NOT_YET_STARTED) => {}
            (Until::Started, _) => return (st, pid),
            (Until::Stopped, BgwHandleStatus::BGWH_STOPPED) => return (st, pid),
            (Until::Stopped, _) => {}
        }
        // SAFETY: MyLatch is NULL or this process's own latch.
        let latch = unsafe { MyLatch };
        let events =
            WL_POSTMASTER_DEATH | WL_TIMEOUT | if latch.is_null() { 0 } else { WL_LATCH_SET };
        // SAFETY: as above.
        let rc = unsafe { crate::latch::wait(latch, events, -1, backoff.as_millis() as i64) };
        if rc & WL_POSTMASTER_DEATH != 0 {
            return (BgwHandleStatus::BGWH_POSTMASTER_DIED, 0);
        }
        if rc & WL_LATCH_SET != 0 {
            // SAFETY: our own latch.
            unsafe { crate::latch::reset_latch(latch) };
        }
        backoff = (backoff * 2).min(Duration::from_millis(100));
    }
}

/// `GetBackgroundWorkerTypeByPid` (HND-11): the `bgw_type` of the slot running `pid`.
pub fn type_by_pid(pid: i32) -> Option<[libc::c_char; BGW_MAXLEN]> {
    let seg = shmem::current()?;
    if pid <= 0 {
        return None;
    }
    (0..seg.total_slots()).find_map(|i| {
        let slot = seg.slot(i);
        if slot.state.load(Ordering::Acquire) == slots::IN_USE
            && slot.pid.load(Ordering::Acquire) == pid
        {
            let mut t = shmem::copy_definition(slot).bgw_type;
            t[BGW_MAXLEN - 1] = 0;
            Some(t)
        } else {
            None
        }
    })
}
