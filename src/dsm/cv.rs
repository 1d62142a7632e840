//! Condition variables (`storage/condition_variable.h`), as PostgreSQL 15 has them: a spinlock
//! and a list of waiting processes by PGPROC number, threaded through each PGPROC's
//! `cvWaitLink`; sleeping is a latch wait (so it ends when the supervisor dies), waking is
//! `SetLatch`. Being numbers, not addresses, a condition variable works wherever it lives (the
//! main segment, a DSM segment) in every process, however each maps it.
//!
//! One thing differs: a waiter that died while on the list (a process attached from outside,
//! killed) is skipped by `ConditionVariableSignal`, so the wake-up reaches a live waiter.

use crate::lwlock::slock_t;
use crate::pg::types::*;
use crate::shmem::Segment;
use std::cell::Cell;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::{Duration, Instant};

/// PostgreSQL's `INVALID_PGPROCNO`: the end of a list.
const INVALID: i32 = i32::MAX;

/// A list of PGPROCs by number (`proclist_head`).
#[repr(C)]
pub struct proclist_head {
    pub head: i32,
    pub tail: i32,
}

/// `ConditionVariable`: 12 bytes, as in PostgreSQL 15.
#[repr(C)]
pub struct ConditionVariable {
    pub mutex: slock_t,
    pub wakeup: proclist_head,
}

const _: () = assert!(std::mem::size_of::<ConditionVariable>() == 12);

/// The condition variable this process has prepared to sleep on (`cv_sleep_target`).
struct Target(Cell<*mut ConditionVariable>);
// SAFETY: used by a process's one thread, never from a signal handler.
unsafe impl Sync for Target {}
static SLEEP_TARGET: Target = Target(Cell::new(std::ptr::null_mut()));

fn spin(cv: *mut ConditionVariable) -> &'static AtomicU8 {
    // SAFETY: the mutex byte of a live condition variable; only touched atomically.
    unsafe { AtomicU8::from_ptr(&raw mut (*cv).mutex) }
}

fn lock(cv: *mut ConditionVariable) {
    let m = spin(cv);
    if m.swap(1, Ordering::Acquire) != 0 {
        // SAFETY: the lock byte of a live condition variable; s_lock spins until it is ours.
        unsafe {
            crate::lwlock::s_lock(
                (&raw mut (*cv).mutex).cast(),
                c"condition_variable".as_ptr(),
                0,
                c"ConditionVariable".as_ptr(),
            )
        };
    }
}

fn unlock(cv: *mut ConditionVariable) {
    spin(cv).store(0, Ordering::Release);
}

fn main_segment() -> &'static Segment {
    match crate::shmem::current() {
        Some(s) => s,
        None => crate::pg::raise_fmt(
            ERROR,
            0,
            format_args!(
                "condition variables need shared memory (a worker or an attached process)"
            ),
        ),
    }
}

fn my_procno(seg: &Segment) -> i32 {
    // SAFETY: reading this process's own global.
    let me = unsafe { crate::pg::MyProc };
    match seg.procno_of(me) {
        Some(n) => n as i32,
        None => crate::pg::raise_fmt(
            ERROR,
            0,
            format_args!("this process has no PGPROC, so it cannot wait on a condition variable"),
        ),
    }
}

fn link(seg: &Segment, procno: i32) -> *mut proclist_node {
    // SAFETY: procno is a PGPROC number of this mapping (checked by proc_ptr).
    unsafe { &raw mut (*seg.proc_ptr(procno as usize)).cvWaitLink }
}

/// The list's entries are PGPROC numbers inside this mapping; a corrupt number ends the walk.
fn valid(seg: &Segment, procno: i32) -> bool {
    procno >= 0 && (procno as usize) < seg.num_procs()
}

// The list operations run with the condition variable's spinlock held.

fn contains(seg: &Segment, procno: i32) -> bool {
    // SAFETY: a live PGPROC's link.
    unsafe {
        let l = link(seg, procno);
        (*l).next != 0 || (*l).prev != 0
    }
}

fn push_tail(seg: &Segment, cv: *mut ConditionVariable, procno: i32) {
    // SAFETY: cv is live and locked; procno is valid.
    unsafe {
        let l = link(seg, procno);
        let tail = (*cv).wakeup.tail;
        (*l).next = INVALID;
        (*l).prev = tail;
        if tail == INVALID || !valid(seg, tail) {
            (*cv).wakeup.head = procno;
        } else {
            (*link(seg, tail)).next = procno;
        }
        (*cv).wakeup.tail = procno;
    }
}

fn delete(seg: &Segment, cv: *mut ConditionVariable, procno: i32) {
    // SAFETY: as in push_tail; procno is on this list.
    unsafe {
        let l = link(seg, procno);
        let (prev, next) = ((*l).prev, (*l).next);
        if prev == INVALID || !valid(seg, prev) {
            (*cv).wakeup.head = next;
        } else {
            (*link(seg, prev)).next = next;
        }
        if next == INVALID || !valid(seg, next) {
            (*cv).wakeup.tail = prev;
        } else {
            (*link(seg, next)).prev = prev;
        }
        (*l).next = 0;
        (*l).prev = 0;
    }
}

fn pop_head(seg: &Segment, cv: *mut ConditionVariable) -> Option<i32> {
    // SAFETY: cv is live and locked.
    let head = unsafe { (*cv).wakeup.head };
    if head == INVALID || !valid(seg, head) {
        // SAFETY: as above: an empty (or corrupt) list is made empty.
        unsafe {
            (*cv).wakeup.head = INVALID;
            (*cv).wakeup.tail = INVALID;
        }
        return None;
    }
    delete(seg, cv, head);
    Some(head)
}

/// `ConditionVariableInit`.
///
/// # Safety
/// `cv` points to writable memory for a condition variable nobody uses yet.
pub unsafe fn init(cv: *mut ConditionVariable) {
    // SAFETY: as the caller promises.
    unsafe {
        (*cv).mutex = 0;
        (*cv).wakeup.head = INVALID;
        (*cv).wakeup.tail = INVALID;
    }
}

/// `ConditionVariablePrepareToSleep`: this process joins `cv`'s list (leaving any other first).
///
/// # Safety
/// `cv` is a live, initialised condition variable.
pub unsafe fn prepare_to_sleep(cv: *mut ConditionVariable) {
    let seg = main_segment();
    let me = my_procno(seg);
    if !SLEEP_TARGET.0.get().is_null() {
        cancel_sleep();
    }
    SLEEP_TARGET.0.set(cv);
    lock(cv);
    push_tail(seg, cv, me);
    unlock(cv);
}

/// `ConditionVariableTimedSleep`: waits until signalled, `timeout_ms` passes (true) or an
/// interrupt; -1 waits without a timeout. The first call for a condition variable only prepares
/// (and returns false at once), as in PostgreSQL, so the caller re-checks its condition.
///
/// # Safety
/// `cv` is a live, initialised condition variable.
pub unsafe fn timed_sleep(cv: *mut ConditionVariable, timeout_ms: i64, wait_event: u32) -> bool {
    if SLEEP_TARGET.0.get() != cv {
        // SAFETY: as the caller promises.
        unsafe { prepare_to_sleep(cv) };
        return false;
    }
    let seg = main_segment();
    let me = my_procno(seg);
    let start = Instant::now();
    let mut events = WL_LATCH_SET | WL_EXIT_ON_PM_DEATH;
    if timeout_ms >= 0 {
        events |= WL_TIMEOUT;
    }
    loop {
        let left = if timeout_ms >= 0 {
            let elapsed = start.elapsed();
            let limit = Duration::from_millis(timeout_ms as u64);
            limit.saturating_sub(elapsed).as_millis() as i64
        } else {
            -1
        };
        crate::latch::wait_for_event(events, -1, left, wait_event);
        // SAFETY: MyLatch is this process's latch.
        unsafe { crate::latch::reset_latch(crate::pg::MyLatch) };
        // Signalled means taken off the list; then we are back on it for the next sleep and
        // return, so the caller re-checks its condition.
        lock(cv);
        let done = !contains(seg, me);
        if done {
            push_tail(seg, cv, me);
        }
        unlock(cv);
        crate::pg::check_for_interrupts();
        if done {
            return false;
        }
        if timeout_ms >= 0 && start.elapsed() >= Duration::from_millis(timeout_ms as u64) {
            return true;
        }
    }
}

/// `ConditionVariableCancelSleep`: leaves the list of the condition variable prepared for.
pub fn cancel_sleep() {
    let cv = SLEEP_TARGET.0.get();
    if cv.is_null() {
        return;
    }
    SLEEP_TARGET.0.set(std::ptr::null_mut());
    let Some(seg) = crate::shmem::current() else {
        return;
    };
    // SAFETY: reading this process's own global.
    let Some(me) = seg.procno_of(unsafe { crate::pg::MyProc }) else {
        return;
    };
    lock(cv);
    if contains(seg, me as i32) {
        delete(seg, cv, me as i32);
    }
    unlock(cv);
}

/// Wakes PGPROC `procno`; false when its owner is gone.
fn wake(seg: &Segment, procno: i32) -> bool {
    let p = seg.proc_ptr(procno as usize);
    // SAFETY: a PGPROC of this mapping; its pid is an int written by its owner.
    let pid = unsafe { std::ptr::read_volatile(&raw const (*p).pid) };
    if pid <= 0 {
        return false;
    }
    // SAFETY: kill with signal 0 only checks for existence.
    if unsafe { libc::kill(pid, 0) } != 0
        && std::io::Error::last_os_error().raw_os_error() == Some(libc::ESRCH)
    {
        return false;
    }
    // SAFETY: the latch of a PGPROC of this mapping.
    unsafe { crate::latch::set_latch(&raw mut (*p).procLatch) };
    true
}

/// `ConditionVariableSignal`: wakes the longest waiter (skipping waiters that died).
///
/// # Safety
/// `cv` is a live, initialised condition variable.
pub unsafe fn signal(cv: *mut ConditionVariable) {
    let seg = main_segment();
    loop {
        lock(cv);
        let head = pop_head(seg, cv);
        unlock(cv);
        match head {
            None => return,
            Some(p) => {
                if wake(seg, p) {
                    return;
                }
            }
        }
    }
}

/// `ConditionVariableBroadcast`: wakes every process waiting now. Waiters that put themselves
/// back on the list meanwhile are not woken again: this process goes on the list's tail as a
/// sentinel and stops when it meets itself, as PostgreSQL does.
///
/// # Safety
/// `cv` is a live, initialised condition variable.
pub unsafe fn broadcast(cv: *mut ConditionVariable) {
    let seg = main_segment();
    if !SLEEP_TARGET.0.get().is_null() {
        cancel_sleep();
    }
    let me = seg
        // SAFETY: reading this process's own global.
        .procno_of(unsafe { crate::pg::MyProc })
        .map(|n| n as i32);
    lock(cv);
    let first = pop_head(seg, cv);
    // SAFETY: cv is live and locked.
    let more = unsafe { (*cv).wakeup.head } != INVALID;
    let sentinel = match (first, me) {
        (Some(_), Some(me)) if more && !contains(seg, me) => {
            push_tail(seg, cv, me);
            Some(me)
        }
        _ => None,
    };
    unlock(cv);
    if let Some(p) = first {
        wake(seg, p);
    }
    if !more {
        return;
    }
    // Without a sentinel (this process has no PGPROC) at most as many as there are PGPROCs.
    let mut budget = seg.num_procs();
    loop {
        lock(cv);
        let next = pop_head(seg, cv);
        unlock(cv);
        match next {
            None => return,
            Some(p) if Some(p) == sentinel => return,
            Some(p) => {
                wake(seg, p);
                if sentinel.is_none() {
                    budget -= 1;
                    if budget == 0 {
                        return;
                    }
                }
            }
        }
    }
}
