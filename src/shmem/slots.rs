//! Worker slots: PostgreSQL's hand-off of a definition from a registrant to the supervisor,
//! without a lock either side can be stuck on. A registrant pops a free slot (one CAS), fills
//! it, bumps the generation, then publishes it (`state = IN_USE`, release). The supervisor reads
//! `state` (acquire), copies the definition out, and later frees the slot (pid 0, then a full
//! barrier, then `state = FREE` and a push on the free stack).

use super::Segment;
use crate::pg::types::{BackgroundWorker, BgwHandleStatus, InvalidPid};
use std::cell::UnsafeCell;
use std::sync::atomic::{fence, AtomicI32, AtomicU32, AtomicU64, Ordering};

pub const FREE: u32 = 0;
/// Popped by a registrant that is still filling it in.
pub const CLAIMED: u32 = 1;
pub const IN_USE: u32 = 2;

/// One slot, 64-byte aligned so neighbours never share a cache line.
#[repr(C, align(64))]
pub struct Slot {
    pub state: AtomicU32,
    pub terminate: AtomicU32,
    /// `InvalidPid` = not started yet, 0 = not running, else the worker's pid.
    pub pid: AtomicI32,
    /// Pid of the process that claimed the slot (to reclaim it if that process dies mid-way).
    pub claimant: AtomicI32,
    pub generation: AtomicU64,
    pub next_free: AtomicU32,
    /// Non-zero for a dynamic registration.
    pub dynamic: AtomicU32,
    /// Supervisor-written status, for `bgworkerctl status`.
    pub started_at_ms: AtomicU64,
    pub restarts: AtomicU32,
    /// Last exit: 0 none, 1 + code for an exit code, -signal for a signal.
    pub last_exit: AtomicI32,
    /// Set by the worker's exit path (proc_exit, or exit(), which runs it too); a worker that
    /// left without it (`_exit`) did not clean up, and is treated as crashed (EXIT-4).
    pub exited_cleanly: AtomicU32,
    pub worker: UnsafeCell<BackgroundWorker>,
    /// What the worker last reported with `pgstat_report_activity` (tag: its `BackendState`).
    pub activity: SeqText<ACTIVITY_LEN>,
    /// The wait event the worker sits in (`pgstat_report_wait_start` writes here), or 0.
    pub wait_event: AtomicU32,
    /// The last exit, as the supervisor saw it: when (ms since the epoch) and which process.
    pub last_exit_at_ms: AtomicU64,
    pub last_exit_pid: AtomicI32,
    /// When the supervisor will start the worker again (ms since the epoch), or 0.
    pub next_start_ms: AtomicU64,
    /// A restart asked for (`bgworkerctl restart`): the generation it is for, plus one; 0 none.
    pub restart: AtomicU64,
    /// The ERROR or FATAL that ended a worker's process, written by that process on its way
    /// out (tag: the level), with its pid, so a reader pairs it with `last_exit_pid`.
    pub exit_report: SeqText<EXIT_REPORT_LEN>,
    pub exit_report_pid: AtomicI32,
}

/// Bytes of activity text kept per worker (longer text is truncated).
pub const ACTIVITY_LEN: usize = 256;
/// Bytes of the message of the error that ended a worker (longer text is truncated).
pub const EXIT_REPORT_LEN: usize = 256;

/// A short text one process writes and others read, guarded by a sequence count (odd while
/// the writer is at work) so a reader never shows a torn text, and never waits on a writer
/// that died mid-write. A tag (a state, a level) goes with it.
#[repr(C)]
pub struct SeqText<const N: usize> {
    seq: AtomicU32,
    tag: AtomicI32,
    text: UnsafeCell<[u8; N]>,
}

impl<const N: usize> SeqText<N> {
    /// Writes `text` (truncated to N - 1 bytes) and `tag`; one writer at a time.
    pub fn write(&self, tag: i32, text: &[u8]) {
        let seq = self.seq.fetch_add(1, Ordering::AcqRel);
        let n = text.len().min(N - 1);
        let mut buf = [0u8; N];
        buf[..n].copy_from_slice(&text[..n]);
        // SAFETY: only the one writer writes, inside the odd sequence window; readers copy with
        // volatile reads and discard what changed under them.
        unsafe { std::ptr::write_volatile(self.text.get(), buf) };
        self.tag.store(tag, Ordering::Relaxed);
        self.seq.store(seq.wrapping_add(2), Ordering::Release);
    }

    /// (tag, text), consistent; (0, empty) if a writer never finished.
    pub fn read(&self) -> (i32, Vec<u8>) {
        for _ in 0..10_000 {
            let before = self.seq.load(Ordering::Acquire);
            if before % 2 == 1 {
                std::hint::spin_loop();
                continue;
            }
            // SAFETY: a volatile copy of plain bytes; validated by the sequence check below.
            let buf = unsafe { std::ptr::read_volatile(self.text.get()) };
            let tag = self.tag.load(Ordering::Relaxed);
            fence(Ordering::Acquire);
            if self.seq.load(Ordering::Relaxed) == before {
                let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
                return (tag, buf[..end].to_vec());
            }
        }
        (0, Vec::new())
    }

    /// Empty again (by whoever owns the slot while no writer can be at work).
    pub fn clear(&self) {
        self.seq.store(0, Ordering::Relaxed);
        self.tag.store(0, Ordering::Relaxed);
        // SAFETY: as `write`: no reader keeps what a sequence check rejects.
        unsafe { std::ptr::write_volatile(self.text.get(), [0u8; N]) };
    }
}

/// Records a worker's activity in its slot (the worker's own slot only).
pub fn report_activity(seg: &Segment, i: usize, state: i32, text: &[u8]) {
    seg.slot(i).activity.write(state, text);
}

/// Reads a slot's activity consistently: (state, text).
pub fn read_activity(seg: &Segment, i: usize) -> (i32, Vec<u8>) {
    seg.slot(i).activity.read()
}

/// Records the ERROR or FATAL ending this worker's process in its slot (the worker's own).
pub fn report_exit(seg: &Segment, i: usize, pid: i32, elevel: i32, message: &[u8]) {
    let slot = seg.slot(i);
    slot.exit_report.write(elevel, message);
    slot.exit_report_pid.store(pid, Ordering::Release);
}

/// Resets what `status` shows of a slot's past, for a new occupant.
fn clear_history(slot: &Slot) {
    slot.started_at_ms.store(0, Ordering::Relaxed);
    slot.restarts.store(0, Ordering::Relaxed);
    slot.last_exit.store(0, Ordering::Relaxed);
    slot.last_exit_at_ms.store(0, Ordering::Relaxed);
    slot.last_exit_pid.store(0, Ordering::Relaxed);
    slot.next_start_ms.store(0, Ordering::Relaxed);
    slot.restart.store(0, Ordering::Relaxed);
    slot.exit_report_pid.store(0, Ordering::Relaxed);
    slot.exit_report.clear();
    slot.activity.clear();
}

/// Writes a registration's past into its new slot after a crash-restart (supervisor only,
/// before the slot is published to anyone).
pub fn restore_history(
    slot: &Slot,
    restarts: u32,
    last_exit: Option<i32>,
    last_exit_at_ms: u64,
    last_exit_pid: i32,
    exit_report: Option<&(i32, Vec<u8>)>,
) {
    slot.restarts.store(restarts, Ordering::Relaxed);
    slot.last_exit
        .store(last_exit.unwrap_or(0), Ordering::Relaxed);
    slot.last_exit_at_ms
        .store(last_exit_at_ms, Ordering::Relaxed);
    slot.last_exit_pid.store(last_exit_pid, Ordering::Relaxed);
    if let Some((level, text)) = exit_report {
        slot.exit_report.write(*level, text);
        slot.exit_report_pid.store(last_exit_pid, Ordering::Relaxed);
    }
}

/// Asks for a restart of the worker in slot `i` (`bgworkerctl restart`): only while the
/// generation still matches, as a terminate request.
pub fn request_restart(seg: &Segment, i: usize, generation: u64) -> bool {
    if i >= seg.total_slots() {
        return false;
    }
    let slot = seg.slot(i);
    if slot.generation.load(Ordering::Acquire) != generation {
        return false;
    }
    slot.restart.store(generation + 1, Ordering::Release);
    seg.mark_changed(i);
    true
}

// SAFETY: the definition cell is written only by the slot's claimant before publication and
// read with volatile copies afterwards; everything else is atomic.
unsafe impl Sync for Slot {}

/// Pushes slot `i` on the free stack (supervisor only).
pub fn push_free(seg: &Segment, i: usize) {
    let head = &seg.header().free_head;
    let slot = seg.slot(i);
    let mut old = head.load(Ordering::Acquire);
    loop {
        slot.next_free.store(old as u32, Ordering::Relaxed);
        let new = ((old >> 32).wrapping_add(1) << 32) | (i as u64 + 1);
        match head.compare_exchange_weak(old, new, Ordering::AcqRel, Ordering::Acquire) {
            Ok(_) => return,
            Err(cur) => old = cur,
        }
    }
}

/// Pops a free slot, or `None` when all are taken.
fn pop_free(seg: &Segment) -> Option<usize> {
    let head = &seg.header().free_head;
    let mut old = head.load(Ordering::Acquire);
    loop {
        let idx = (old & 0xffff_ffff) as usize;
        if idx == 0 || idx > seg.total_slots() {
            return None;
        }
        let next = seg.slot(idx - 1).next_free.load(Ordering::Relaxed) as u64;
        let new = ((old >> 32).wrapping_add(1) << 32) | (next & 0xffff_ffff);
        match head.compare_exchange_weak(old, new, Ordering::AcqRel, Ordering::Acquire) {
            Ok(_) => return Some(idx - 1),
            Err(cur) => old = cur,
        }
    }
}

/// Claims a free slot for `claimant` (a registrant): the slot is `CLAIMED`, flagged for the
/// supervisor, which frees it again if the claimant dies before publishing it.
pub fn claim(seg: &Segment, claimant: i32) -> Option<usize> {
    let i = pop_free(seg)?;
    let slot = seg.slot(i);
    slot.claimant.store(claimant, Ordering::Relaxed);
    slot.state.store(CLAIMED, Ordering::Release);
    seg.mark_changed(i);
    Some(i)
}

/// Writes the definition into a slot this process claimed and publishes it; the generation, or
/// None if the supervisor took the slot back meanwhile (it found the claimant gone).
pub fn publish(seg: &Segment, i: usize, def: &BackgroundWorker) -> Option<u64> {
    let slot = seg.slot(i);
    // SAFETY: the slot is ours between claim and publication: nobody else writes the definition.
    unsafe { std::ptr::write_volatile(slot.worker.get(), *def) };
    slot.pid.store(InvalidPid, Ordering::Relaxed);
    slot.terminate.store(0, Ordering::Relaxed);
    slot.dynamic.store(1, Ordering::Relaxed);
    clear_history(slot);
    let generation = slot.generation.fetch_add(1, Ordering::AcqRel) + 1;
    // Publication point: everything above is visible to whoever sees IN_USE (DYN-13). A slot
    // the supervisor reclaimed meanwhile (it took us for dead) is not taken back.
    if slot
        .state
        .compare_exchange(CLAIMED, IN_USE, Ordering::AcqRel, Ordering::Relaxed)
        .is_err()
    {
        return None;
    }
    seg.mark_changed(i);
    Some(generation)
}

/// Occupies slot `i` for a static worker (supervisor, at initialisation: REG-9).
pub fn assign_static(seg: &Segment, i: usize, def: &BackgroundWorker) {
    let slot = seg.slot(i);
    // SAFETY: initialisation: no other process uses this slot yet.
    unsafe { std::ptr::write_volatile(slot.worker.get(), *def) };
    slot.pid.store(InvalidPid, Ordering::Relaxed);
    slot.terminate.store(0, Ordering::Relaxed);
    slot.dynamic.store(0, Ordering::Relaxed);
    clear_history(slot);
    slot.generation.store(0, Ordering::Relaxed);
    slot.state.store(IN_USE, Ordering::Release);
}

/// Frees slot `i` (supervisor): pid 0, then a full barrier, then free (DYN-13).
pub fn release(seg: &Segment, i: usize, parallel: bool) {
    let slot = seg.slot(i);
    slot.pid.store(0, Ordering::Relaxed);
    if parallel {
        seg.header()
            .parallel_terminate_count
            .fetch_add(1, Ordering::AcqRel);
    }
    fence(Ordering::SeqCst);
    slot.state.store(FREE, Ordering::Release);
    push_free(seg, i);
}

/// The status a handle {slot, generation} reads (HND-1..3): a stale handle reads STOPPED.
pub fn handle_status(seg: &Segment, i: usize, generation: u64) -> (BgwHandleStatus, i32) {
    if i >= seg.total_slots() {
        return (BgwHandleStatus::BGWH_STOPPED, 0);
    }
    let slot = seg.slot(i);
    loop {
        let g1 = slot.generation.load(Ordering::Acquire);
        let state = slot.state.load(Ordering::Acquire);
        let pid = slot.pid.load(Ordering::Acquire);
        let g2 = slot.generation.load(Ordering::Acquire);
        if g1 != g2 {
            continue;
        }
        if g1 != generation || state != IN_USE {
            return (BgwHandleStatus::BGWH_STOPPED, 0);
        }
        return match pid {
            InvalidPid => (BgwHandleStatus::BGWH_NOT_YET_STARTED, 0),
            0 => (BgwHandleStatus::BGWH_STOPPED, 0),
            p => (BgwHandleStatus::BGWH_STARTED, p),
        };
    }
}

/// Asks for termination through a handle (HND-8): only while the generation still matches.
pub fn request_terminate(seg: &Segment, i: usize, generation: u64) -> bool {
    if i >= seg.total_slots() {
        return false;
    }
    let slot = seg.slot(i);
    if slot.generation.load(Ordering::Acquire) != generation {
        return false;
    }
    slot.terminate.store(1, Ordering::Release);
    seg.mark_changed(i);
    true
}

/// Takes the next free slot for a registration the supervisor already holds (static workers at
/// start-up, survivors after a crash): a fresh generation, `pid = InvalidPid`, published.
pub fn assign(seg: &Segment, def: &BackgroundWorker, dynamic: bool) -> Option<(usize, u64)> {
    let i = pop_free(seg)?;
    let slot = seg.slot(i);
    // SAFETY: supervisor-only, while no registrant can hold this (just popped) slot.
    unsafe { std::ptr::write_volatile(slot.worker.get(), *def) };
    slot.pid.store(InvalidPid, Ordering::Relaxed);
    slot.terminate.store(0, Ordering::Relaxed);
    slot.dynamic.store(u32::from(dynamic), Ordering::Relaxed);
    slot.claimant.store(0, Ordering::Relaxed);
    clear_history(slot);
    let generation = slot.generation.fetch_add(1, Ordering::AcqRel) + 1;
    slot.state.store(IN_USE, Ordering::Release);
    Some((i, generation))
}

/// Frees every slot and rebuilds the free stack in slot order, keeping the generation
/// counters, so handles from before a crash-restart can never match a new occupant.
pub fn reset_all(seg: &Segment) {
    seg.header().free_head.store(0, Ordering::Release);
    for i in (0..seg.total_slots()).rev() {
        let slot = seg.slot(i);
        slot.state.store(FREE, Ordering::Release);
        slot.pid.store(0, Ordering::Relaxed);
        slot.terminate.store(0, Ordering::Relaxed);
        push_free(seg, i);
    }
    for w in 0..seg.bitmap_words() {
        seg.changed_word(w).store(0, Ordering::Release);
    }
}

/// Frees slot `i` if it is still claimed by `claimant` (who died before publishing it); true
/// when it was freed (supervisor only).
pub fn reclaim(seg: &Segment, i: usize, claimant: i32) -> bool {
    let slot = seg.slot(i);
    if slot.claimant.load(Ordering::Relaxed) == claimant
        && slot
            .state
            .compare_exchange(CLAIMED, FREE, Ordering::AcqRel, Ordering::Relaxed)
            .is_ok()
    {
        push_free(seg, i);
        return true;
    }
    false
}
