//! What modules keep in the segment: PostgreSQL 15's `shmem_request_hook` / `shmem_startup_hook`
//! protocol, `RequestAddinShmemSpace`, named LWLock tranches, the `ShmemInitStruct` index, and
//! the PGPROCs whose latches other processes set (`BackendPidGetProc`).

use super::{Segment, FIRST_USER_TRANCHE, LWLOCK_PADDED_SIZE, NUM_FIXED_LWLOCKS};
use crate::pg::types::PGPROC;
use parking_lot::Mutex;
use std::sync::atomic::{AtomicI32, Ordering};

/// Named tranches a segment can hold.
pub const MAX_TRANCHES: usize = 64;
const NAME_LEN: usize = 64;

/// One `ShmemInitStruct` allocation: a name and where it lives in the module area.
#[repr(C)]
pub struct IndexEntry {
    name: [u8; NAME_LEN],
    offset: u64,
    size: u64,
}

/// One named tranche: its name, id and where its locks start in the main array.
#[repr(C)]
pub struct TrancheEntry {
    name: [u8; NAME_LEN],
    tranche_id: u32,
    first_lock: u32,
    count: u32,
    _pad: u32,
}

/// What the preloaded libraries asked for in `shmem_request_hook` (supervisor only).
#[derive(Default)]
pub struct Requests {
    pub addin_size: u64,
    pub tranches: Vec<(String, u32)>,
}

pub static REQUESTS: Mutex<Requests> = Mutex::new(Requests {
    addin_size: 0,
    tranches: Vec::new(),
});

/// Each request is rounded up to a cache line, as `ShmemInitStruct` hands space out.
pub fn round(size: u64) -> u64 {
    size.next_multiple_of(LWLOCK_PADDED_SIZE as u64)
}

fn name_bytes(name: &[u8]) -> [u8; NAME_LEN] {
    let mut out = [0u8; NAME_LEN];
    let n = name.len().min(NAME_LEN - 1);
    out[..n].copy_from_slice(&name[..n]);
    out
}

fn stored_name(field: &[u8; NAME_LEN]) -> &[u8] {
    let end = field.iter().position(|&b| b == 0).unwrap_or(NAME_LEN);
    &field[..end]
}

/// Lays out the module parts of a fresh (zeroed) segment: locks initialised, named tranches
/// recorded after PostgreSQL's fixed locks, PGPROCs empty.
pub fn initialise(seg: &Segment) {
    let requests = REQUESTS.lock();
    let base = seg.main_lwlocks();
    for i in 0..seg.num_main_lwlocks() {
        // Tranche ids of the fixed part as PostgreSQL numbers them: individual locks their own
        // index, then the buffer-mapping, lock-manager and predicate-lock partitions.
        let tranche = match i {
            0..48 => i as u16,
            48..176 => 48,
            176..192 => 49,
            192..208 => 50,
            _ => 0,
        };
        // SAFETY: element i of the main array, inside the mapping.
        unsafe { crate::lwlock::initialize(base.add(i * LWLOCK_PADDED_SIZE).cast(), tranche) };
    }
    let mut next_lock = NUM_FIXED_LWLOCKS as u32;
    let area = seg.tranche_area();
    for (k, (name, count)) in requests.tranches.iter().take(MAX_TRANCHES).enumerate() {
        let id = seg.header().next_tranche_id.fetch_add(1, Ordering::AcqRel);
        // SAFETY: entry k of the tranche table, inside the mapping; initialisation is
        // single-threaded (no worker runs yet).
        unsafe {
            area.add(k).write(TrancheEntry {
                name: name_bytes(name.as_bytes()),
                tranche_id: id,
                first_lock: next_lock,
                count: *count,
                _pad: 0,
            });
        }
        for j in 0..*count {
            let lock = (next_lock + j) as usize;
            // SAFETY: a named-tranche element of the main array.
            unsafe {
                crate::lwlock::initialize(base.add(lock * LWLOCK_PADDED_SIZE).cast(), id as u16)
            };
        }
        next_lock += count;
    }
    let _ = FIRST_USER_TRANCHE;
    crate::dsm::control::initialise(seg.dsm_items());
}

/// The first lock of a named tranche (`GetNamedLWLockTranche`), if it was requested.
pub fn named_tranche(seg: &Segment, name: &[u8]) -> Option<*mut u8> {
    let area = seg.tranche_area();
    (0..MAX_TRANCHES).find_map(|k| {
        // SAFETY: entry k of the tranche table; written once at initialisation.
        let e = unsafe { &*area.add(k) };
        (e.count > 0 && stored_name(&e.name) == name).then(|| {
            let first = e.first_lock as usize;
            (first < seg.num_main_lwlocks())
                // SAFETY: the tranche's first element, inside the main array.
                .then(|| unsafe { seg.main_lwlocks().add(first * LWLOCK_PADDED_SIZE) })
        })?
    })
}

/// Why `ShmemInitStruct` failed.
pub enum InitError {
    NoSegment,
    WrongSize { expected: u64, actual: u64 },
    OutOfSpace { requested: u64 },
    IndexFull,
}

/// Finds or allocates a named structure (`ShmemInitStruct`): (address, found).
pub fn init_struct(seg: &Segment, name: &[u8], size: u64) -> Result<(*mut u8, bool), InitError> {
    let h = seg.header();
    let me = std::process::id() as i32;
    // The index lock: a short spin; module code only (the supervisor calls this from
    // shmem_startup_hook before any worker exists).
    let lock: &AtomicI32 = &h.index_lock;
    while lock
        .compare_exchange_weak(0, me, Ordering::Acquire, Ordering::Relaxed)
        .is_err()
    {
        let holder = lock.load(Ordering::Relaxed);
        // SAFETY: kill with signal 0 only checks for existence.
        if holder != 0 && unsafe { libc::kill(holder, 0) } != 0 {
            // Its holder died mid-update: take it over (the entry it was writing is at worst
            // unpublished, since size is written before the name).
            let _ = lock.compare_exchange(holder, me, Ordering::Acquire, Ordering::Relaxed);
            continue;
        }
        std::hint::spin_loop();
    }
    let result = locked_init_struct(seg, name, size);
    lock.store(0, Ordering::Release);
    result
}

fn locked_init_struct(seg: &Segment, name: &[u8], size: u64) -> Result<(*mut u8, bool), InitError> {
    let index = seg.index_area();
    let (area, _) = seg.addin_area();
    let mut free = None;
    for i in 0..super::INDEX_ENTRIES {
        // SAFETY: entry i of the index; guarded by the index lock.
        let e = unsafe { &mut *index.add(i) };
        if e.name[0] == 0 {
            free.get_or_insert(i);
            continue;
        }
        if stored_name(&e.name) == name {
            if e.size != size {
                return Err(InitError::WrongSize {
                    expected: e.size,
                    actual: size,
                });
            }
            // SAFETY: the entry's offset was checked against the area when it was made.
            return Ok((unsafe { area.add(e.offset as usize) }, true));
        }
    }
    let Some(i) = free else {
        return Err(InitError::IndexFull);
    };
    let Some(p) = shmem_alloc(seg, size) else {
        return Err(InitError::OutOfSpace { requested: size });
    };
    let used = (p as usize - area as usize) as u64;
    // SAFETY: entry i is free and guarded by the index lock; the name goes last so a reader
    // never sees a named entry without its place.
    unsafe {
        let e = &mut *index.add(i);
        e.offset = used;
        e.size = size;
        std::sync::atomic::fence(Ordering::Release);
        e.name = name_bytes(name);
        Ok((p, false))
    }
}

/// `ShmemAlloc`: `size` bytes (rounded up to a cache line) from the module area, never given
/// back; None when the area is used up. Lock-free: one compare-and-swap on the used count.
pub fn shmem_alloc(seg: &Segment, size: u64) -> Option<*mut u8> {
    let (area, area_size) = seg.addin_area();
    let need = round(size.max(1));
    let used = &seg.header().addin_used;
    let mut at = used.load(Ordering::Acquire);
    loop {
        let end = at.checked_add(need)?;
        if end > area_size as u64 {
            return None;
        }
        match used.compare_exchange_weak(at, end, Ordering::AcqRel, Ordering::Acquire) {
            // SAFETY: [at, end) lies in the module area and is ours alone now.
            Ok(_) => return Some(unsafe { area.add(at as usize) }),
            Err(now) => at = now,
        }
    }
}

/// The PGPROC of a live worker with this pid (`BackendPidGetProc`), or NULL.
pub fn proc_by_pid(seg: &Segment, pid: i32) -> *mut PGPROC {
    if pid <= 0 {
        return std::ptr::null_mut();
    }
    for i in 0..seg.num_procs() {
        let p = seg.proc_ptr(i);
        // SAFETY: reading the pid field of a PGPROC in the mapping (written by its owner at
        // start and cleared by the supervisor when the owner is reaped).
        if unsafe { std::ptr::read_volatile(&raw const (*p).pid) } == pid {
            return p;
        }
    }
    std::ptr::null_mut()
}

/// Takes PGPROC `i` for this process: pid recorded, its latch set and owned (WP-5). DSM
/// references a previous owner that died without detaching left there are dropped first.
pub fn claim_proc(seg: &Segment, i: usize, pid: i32) -> *mut PGPROC {
    let p = seg.proc_ptr(i);
    crate::dsm::segment::release_refs_of_dead(seg, p);
    init_claimed(p, pid);
    p
}

fn init_claimed(p: *mut PGPROC, pid: i32) {
    // SAFETY: this PGPROC belongs to the caller now (one process at a time).
    unsafe {
        let latch = &raw mut (*p).procLatch;
        (*latch).is_set = 1;
        (*latch).maybe_sleeping = 0;
        (*latch).is_shared = true;
        (*latch).owner_pid = pid;
        (*p).cvWaitLink = crate::pg::types::proclist_node { next: 0, prev: 0 };
        std::ptr::write_volatile(&raw mut (*p).pid, pid);
    }
}

fn pid_word(p: *mut PGPROC) -> &'static AtomicI32 {
    // SAFETY: the pid field of a PGPROC in the mapping: an aligned int, changed atomically by
    // the processes that claim and give back PGPROCs for attached processes.
    unsafe { AtomicI32::from_ptr(&raw mut (*p).pid) }
}

/// A PGPROC for a process attached from outside (one of the `EXTRA_PROCS`): a free one, after
/// those whose owners died without giving them back (killed) are swept, so the DSM segments they
/// held go as soon as nobody else holds them. Its number, or None when all are taken by live
/// processes.
pub fn claim_extra_proc(seg: &Segment, pid: i32) -> Option<usize> {
    let range = seg.first_extra_proc()..seg.num_procs();
    for i in range.clone() {
        reclaim_if_dead(seg, i);
    }
    for i in range {
        let p = seg.proc_ptr(i);
        if pid_word(p)
            .compare_exchange(0, pid, Ordering::AcqRel, Ordering::Relaxed)
            .is_ok()
        {
            init_claimed(p, pid);
            return Some(i);
        }
    }
    None
}

/// Takes back PGPROC `i` if its owner (an attached process) is dead, dropping what it held;
/// true if it was.
pub fn reclaim_if_dead(seg: &Segment, i: usize) -> bool {
    let p = seg.proc_ptr(i);
    let old = pid_word(p).load(Ordering::Acquire);
    if old <= 0 || crate::dsm::peer::alive(old) {
        return false;
    }
    // Marked with -1 while its references are dropped, so nobody claims it meanwhile.
    if pid_word(p)
        .compare_exchange(old, -1, Ordering::AcqRel, Ordering::Relaxed)
        .is_err()
    {
        return false;
    }
    crate::dsm::segment::release_refs_of_dead(seg, p);
    // SAFETY: a plain store into the PGPROC this process holds (marked -1).
    unsafe { std::ptr::write_volatile(&raw mut (*p).procLatch.owner_pid, 0) };
    pid_word(p).store(0, Ordering::Release);
    true
}

/// Gives back the PGPROC `i` of an attached process that is leaving (its segments are already
/// detached).
pub fn release_extra_proc(seg: &Segment, i: usize, pid: i32) {
    let p = seg.proc_ptr(i);
    // SAFETY: a plain store into our own PGPROC.
    unsafe { std::ptr::write_volatile(&raw mut (*p).procLatch.owner_pid, 0) };
    let _ = pid_word(p).compare_exchange(pid, 0, Ordering::AcqRel, Ordering::Relaxed);
}

/// Forgets the owner of PGPROC `i` (supervisor, when the worker is reaped), so nobody signals a
/// recycled pid through it.
pub fn release_proc(seg: &Segment, i: usize) {
    if i >= seg.num_procs() {
        return;
    }
    let p = seg.proc_ptr(i);
    // SAFETY: plain stores into a PGPROC whose owner is gone.
    unsafe {
        std::ptr::write_volatile(&raw mut (*p).pid, 0);
        std::ptr::write_volatile(&raw mut (*p).procLatch.owner_pid, 0);
    }
}
