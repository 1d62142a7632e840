//! Lightweight locks (`storage/lwlock.h`) and the spinlock slow path (`storage/s_lock.h`).
//!
//! An `LWLock` lives in memory shared between processes (the segment, or any `MAP_SHARED`
//! mapping), so it is built on one 32-bit state word and the kernel's futex, never on a
//! process-private primitive:
//!
//! * bits 0..24 count shared holders, bit 24 is the exclusive holder, bit 30 says "someone may be
//!   sleeping on this word";
//! * acquiring is one atomic operation when the lock is free (a compare-and-swap from 0 for
//!   exclusive, an add for shared — taken back if an exclusive holder turns out to be there,
//!   waking sleepers as a release would); otherwise the caller spins briefly,
//!   then sets the waiters bit and sleeps with `FUTEX_WAIT` on the state word. The futex calls
//!   carry no `FUTEX_PRIVATE_FLAG`: the kernel keys them on the shared page, so a waker in one
//!   process reaches a sleeper in another;
//! * releasing is one atomic subtraction; when the lock became free with the waiters bit set,
//!   the releaser clears the bit and wakes every sleeper, which then compete again (a sleeper
//!   that loses sets the bit again before it sleeps, so no wake-up is ever lost).
//!
//! Sleeps are bounded (50 ms) and re-check two things a sleeper could otherwise wait for
//! forever: the supervisor's death (the process then exits, as a latch wait with
//! `WL_EXIT_ON_PM_DEATH` does), and an exclusive holder that no longer exists (its pid is kept in
//! the lock while it holds it exclusively). A holder that died without releasing left the
//! protected data in an unknown state, so the lock is never taken over: after a second of
//! seeing the same dead holder, the waiter PANICs, which makes the supervisor rebuild shared
//! memory (crash-restart), as PostgreSQL does when a process dies holding shared state.
//!
//! Each process keeps the locks it holds (at most 200, as PostgreSQL) for `LWLockHeldByMe` and
//! `LWLockReleaseAll`; acquiring holds interrupts (`InterruptHoldoffCount`) until the release.

use crate::pg::types::{ERROR, PANIC};
use libc::{c_char, c_int};
use std::cell::UnsafeCell;
use std::ffi::CStr;
use std::io::Write as _;
use std::mem::{align_of, offset_of, size_of};
use std::ptr::{addr_of_mut, read_volatile, write_volatile};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// A 32-bit value updated atomically by several processes (`port/atomics.h`). The inline
/// operations on it are in the header; Rust reaches the value through atomics only.
#[repr(C)]
pub struct pg_atomic_uint32 {
    pub value: u32,
}

/// A 64-bit value updated atomically by several processes (`port/atomics.h`).
#[repr(C)]
pub struct pg_atomic_uint64 {
    pub value: u64,
}

/// A list of waiting processes by number (`storage/proclist_types.h`); part of an `LWLock`'s
/// layout. Here its `head` holds the pid of the exclusive holder while there is one.
#[repr(C)]
pub struct proclist_head {
    pub head: c_int,
    pub tail: c_int,
}

/// A lightweight lock, laid out as PostgreSQL 15's (16 bytes, the state word at offset 4).
#[repr(C)]
pub struct LWLock {
    pub tranche: u16,
    pub state: pg_atomic_uint32,
    pub waiters: proclist_head,
}

/// An `LWLock` padded to a cache line (PostgreSQL's `LWLockPadded`, 128 bytes), the element of
/// `MainLWLockArray` and of named tranches.
#[repr(C)]
pub union LWLockPadded {
    pub lock: std::mem::ManuallyDrop<LWLock>,
    pub pad: [c_char; 128],
}

/// How a lock is taken. PostgreSQL declares an enum; an `int` here so that a value a module
/// passes is never outside the type.
pub type LWLockMode = c_int;
pub const LW_EXCLUSIVE: LWLockMode = 0;
pub const LW_SHARED: LWLockMode = 1;
pub const LW_WAIT_UNTIL_FREE: LWLockMode = 2;

/// How a spin-wait is progressing (`storage/s_lock.h`'s `SpinDelayStatus`).
#[repr(C)]
pub struct SpinDelayStatus {
    pub spins: c_int,
    pub delays: c_int,
    pub cur_delay: c_int,
    pub file: *const c_char,
    pub line: c_int,
    pub func: *const c_char,
}

const _: () = {
    assert!(size_of::<pg_atomic_uint32>() == 4 && align_of::<pg_atomic_uint32>() == 4);
    assert!(size_of::<pg_atomic_uint64>() == 8 && align_of::<pg_atomic_uint64>() == 8);
    assert!(size_of::<proclist_head>() == 8);
    assert!(size_of::<LWLock>() == 16 && align_of::<LWLock>() == 4);
    assert!(offset_of!(LWLock, tranche) == 0);
    assert!(offset_of!(LWLock, state) == 4);
    assert!(offset_of!(LWLock, waiters) == 8);
    assert!(size_of::<LWLockPadded>() == 128 && align_of::<LWLockPadded>() == 4);
    assert!(size_of::<SpinDelayStatus>() == 40);
    assert!(offset_of!(SpinDelayStatus, file) == 16);
    assert!(offset_of!(SpinDelayStatus, func) == 32);
};

/// PostgreSQL 15's `NUM_INDIVIDUAL_LWLOCKS`.
/// cbindgen:ignore
pub const NUM_INDIVIDUAL_LWLOCKS: u16 = 48;
/// PostgreSQL 15's `LWTRANCHE_FIRST_USER_DEFINED`: the first id `LWLockNewTrancheId` returns.
/// cbindgen:ignore
pub const FIRST_USER_DEFINED_TRANCHE: u16 = 75;
/// PostgreSQL's `MAX_SIMUL_LWLOCKS`.
const MAX_SIMUL_LWLOCKS: usize = 200;
/// The wait-event class reported while sleeping on a lock (`utils/wait_event.h`); the event id
/// is the lock's tranche.
pub const PG_WAIT_LWLOCK: u32 = 0x0100_0000u32;
/// PostgreSQL's `INVALID_PGPROCNO`, what an empty `proclist_head` holds.
const INVALID_PGPROCNO: c_int = c_int::MAX;

const VAL_SHARED: u32 = 1;
const VAL_EXCLUSIVE: u32 = 1 << 24;
const SHARED_MASK: u32 = VAL_EXCLUSIVE - 1;
const LOCK_MASK: u32 = VAL_EXCLUSIVE | SHARED_MASK;
const HAS_WAITERS: u32 = 1 << 30;

/// Looks at the word before sleeping while the lock stays unavailable.
const SPINS_BEFORE_SLEEP: u32 = 40;
/// The longest back-off between two looks, in CPU pauses.
const MAX_PAUSES: u32 = 512;
/// The longest single sleep; every wake-up re-checks the supervisor and the holder.
const SLEEP_SLICE: Duration = Duration::from_millis(50);
/// How long a dead exclusive holder must be seen before the waiter gives up.
const DEAD_HOLDER_GRACE: Duration = Duration::from_secs(1);

// ---------------------------------------------------------------------------------------------
// Process-local state: the locks this process holds, tranche names, the fallback tranche counter
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy)]
struct Held {
    lock: *mut LWLock,
    mode: LWLockMode,
}

struct HeldLocks {
    n: usize,
    locks: [Held; MAX_SIMUL_LWLOCKS],
}

/// Data of this process only, touched by its one thread outside signal handlers.
struct ProcessLocal<T>(UnsafeCell<T>);
// SAFETY: a worker is single-threaded and no signal handler touches these; the wrapper only
// exists so the data can be a static.
unsafe impl<T> Sync for ProcessLocal<T> {}

static HELD: ProcessLocal<HeldLocks> = ProcessLocal(UnsafeCell::new(HeldLocks {
    n: 0,
    locks: [Held {
        lock: std::ptr::null_mut(),
        mode: LW_EXCLUSIVE,
    }; MAX_SIMUL_LWLOCKS],
}));

fn held() -> *mut HeldLocks {
    HELD.0.get()
}

static LOCAL_NEXT_TRANCHE: AtomicU32 = AtomicU32::new(FIRST_USER_DEFINED_TRANCHE as u32);
static TRANCHE_NAMES: std::sync::Mutex<Vec<Option<&'static CStr>>> =
    std::sync::Mutex::new(Vec::new());

/// PostgreSQL 15's individual locks by index (`storage/lwlocknames.h`), as wait events name them.
const INDIVIDUAL_NAMES: [&CStr; NUM_INDIVIDUAL_LWLOCKS as usize] = [
    c"<unassigned:0>",
    c"ShmemIndex",
    c"OidGen",
    c"XidGen",
    c"ProcArray",
    c"SInvalRead",
    c"SInvalWrite",
    c"WALBufMapping",
    c"WALWrite",
    c"ControlFile",
    c"<unassigned:10>",
    c"XactSLRU",
    c"SubtransSLRU",
    c"MultiXactGen",
    c"MultiXactOffsetSLRU",
    c"MultiXactMemberSLRU",
    c"RelCacheInit",
    c"CheckpointerComm",
    c"TwoPhaseState",
    c"TablespaceCreate",
    c"BtreeVacuum",
    c"AddinShmemInit",
    c"Autovacuum",
    c"AutovacuumSchedule",
    c"SyncScan",
    c"RelationMapping",
    c"NotifySLRU",
    c"NotifyQueue",
    c"SerializableXactHash",
    c"SerializableFinishedList",
    c"SerializablePredicateList",
    c"SerialSLRU",
    c"SyncRep",
    c"BackgroundWorker",
    c"DynamicSharedMemoryControl",
    c"AutoFile",
    c"ReplicationSlotAllocation",
    c"ReplicationSlotControl",
    c"CommitTsSLRU",
    c"CommitTs",
    c"ReplicationOrigin",
    c"MultiXactTruncation",
    c"OldSnapshotTimeMap",
    c"LogicalRepWorker",
    c"XactTruncation",
    c"<unassigned:45>",
    c"WrapLimitsVacuum",
    c"NotifyQueueTail",
];

/// PostgreSQL 15's built-in tranches after the individual locks (ids 48..74).
const BUILTIN_NAMES: [&CStr; (FIRST_USER_DEFINED_TRANCHE - NUM_INDIVIDUAL_LWLOCKS) as usize] = [
    c"XactBuffer",
    c"CommitTsBuffer",
    c"SubtransBuffer",
    c"MultiXactOffsetBuffer",
    c"MultiXactMemberBuffer",
    c"NotifyBuffer",
    c"SerialBuffer",
    c"WALInsert",
    c"BufferContent",
    c"ReplicationOriginState",
    c"ReplicationSlotIO",
    c"LockFastPath",
    c"BufferMapping",
    c"LockManager",
    c"PredicateLockManager",
    c"ParallelHashJoin",
    c"ParallelQueryDSA",
    c"PerSessionDSA",
    c"PerSessionRecordType",
    c"PerSessionRecordTypmod",
    c"SharedTupleStore",
    c"SharedTidBitmap",
    c"ParallelAppend",
    c"PerXactPredicateList",
    c"PgStatsDSA",
    c"PgStatsHash",
    c"PgStatsData",
];

// ---------------------------------------------------------------------------------------------
// Tranches
// ---------------------------------------------------------------------------------------------

/// `LWLockNewTrancheId`: a tranche id no other process of this supervisor's tree gets (the
/// segment's counter), or a process-local one outside such a tree.
pub fn new_tranche_id() -> c_int {
    let id = match crate::shmem::current() {
        Some(seg) => {
            // Ids handed out in the supervisor before the segment existed (a module's _PG_init)
            // were counted locally, and every process forked since knows it: never repeat them.
            let counter = &seg.header().next_tranche_id;
            counter.fetch_max(LOCAL_NEXT_TRANCHE.load(Ordering::SeqCst), Ordering::SeqCst);
            counter.fetch_add(1, Ordering::SeqCst)
        }
        None => LOCAL_NEXT_TRANCHE.fetch_add(1, Ordering::SeqCst),
    };
    id as c_int
}

/// `LWLockRegisterTranche`: names `tranche_id` in this process (a copy of `name` is kept).
/// Ids of PostgreSQL's built-in tranches are left alone, as PostgreSQL does.
pub fn register_tranche(tranche_id: c_int, name: &CStr) {
    if tranche_id < FIRST_USER_DEFINED_TRANCHE as c_int {
        return;
    }
    let i = tranche_id as usize;
    let copy: &'static CStr = Box::leak(name.to_owned().into_boxed_c_str());
    let mut names = TRANCHE_NAMES.lock().unwrap_or_else(|e| e.into_inner());
    if names.len() <= i {
        names.resize(i + 1, None);
    }
    names[i] = Some(copy);
}

/// The name wait events and error messages give tranche `id`: a built-in name, a registered
/// one, or "extension" for a tranche this process never had named (as PostgreSQL).
pub fn tranche_name(id: c_int) -> &'static CStr {
    if id < 0 {
        return c"extension";
    }
    let i = id as usize;
    if i < INDIVIDUAL_NAMES.len() {
        return INDIVIDUAL_NAMES[i];
    }
    if i < FIRST_USER_DEFINED_TRANCHE as usize {
        return BUILTIN_NAMES[i - INDIVIDUAL_NAMES.len()];
    }
    let names = TRANCHE_NAMES.lock().unwrap_or_else(|e| e.into_inner());
    names.get(i).copied().flatten().unwrap_or(c"extension")
}

// ---------------------------------------------------------------------------------------------
// Locks
// ---------------------------------------------------------------------------------------------

/// The state word of `lock` as an atomic.
///
/// # Safety
/// `lock` must point to a live `LWLock`.
#[inline(always)]
unsafe fn state<'a>(lock: *mut LWLock) -> &'a AtomicU32 {
    // SAFETY: the word is 4-byte aligned (asserted layout) and only ever accessed atomically.
    unsafe { AtomicU32::from_ptr(addr_of_mut!((*lock).state.value)) }
}

/// `LWLockInitialize`: a free lock of tranche `tranche_id`.
///
/// # Safety
/// `lock` must point to writable memory for an `LWLock` that no process is using.
pub unsafe fn initialize(lock: *mut LWLock, tranche_id: u16) {
    // SAFETY: as the caller promises.
    unsafe {
        addr_of_mut!((*lock).tranche).write(tranche_id);
        state(lock).store(0, Ordering::SeqCst);
        addr_of_mut!((*lock).waiters).write(proclist_head {
            head: INVALID_PGPROCNO,
            tail: INVALID_PGPROCNO,
        });
    }
}

#[inline(always)]
fn hold_interrupts() {
    // SAFETY: this process's own counter; volatile as the C side declares it.
    unsafe {
        let p = addr_of_mut!(crate::pg::InterruptHoldoffCount);
        write_volatile(p, read_volatile(p).wrapping_add(1));
    }
}

#[inline(always)]
fn resume_interrupts() {
    // SAFETY: as in hold_interrupts.
    unsafe {
        let p = addr_of_mut!(crate::pg::InterruptHoldoffCount);
        write_volatile(p, read_volatile(p).wrapping_sub(1));
    }
}

#[inline(always)]
fn value_of(mode: LWLockMode) -> u32 {
    if mode == LW_EXCLUSIVE {
        VAL_EXCLUSIVE
    } else {
        VAL_SHARED
    }
}

/// Whether a lock in state `s` can be taken in `mode` now.
#[inline(always)]
fn free_for(s: u32, mode: LWLockMode) -> bool {
    if mode == LW_EXCLUSIVE {
        s & LOCK_MASK == 0
    } else {
        s & VAL_EXCLUSIVE == 0
    }
}

/// One attempt: true if the lock was taken.
///
/// # Safety
/// `lock` must point to a live `LWLock`.
#[inline(always)]
unsafe fn try_take(lock: *mut LWLock, mode: LWLockMode) -> bool {
    // SAFETY: as the caller promises.
    let word = unsafe { state(lock) };
    if mode == LW_EXCLUSIVE {
        // The common case first: a free lock with nobody waiting.
        match word.compare_exchange(0, VAL_EXCLUSIVE, Ordering::Acquire, Ordering::Relaxed) {
            Ok(_) => return true,
            Err(s) if s & LOCK_MASK != 0 => return false,
            Err(_) => {}
        }
    }
    let mut s = word.load(Ordering::Relaxed);
    while free_for(s, mode) {
        match word.compare_exchange_weak(
            s,
            s + value_of(mode),
            Ordering::Acquire,
            Ordering::Relaxed,
        ) {
            Ok(_) => return true,
            Err(now) => s = now,
        }
    }
    false
}

/// Sleeps while `word` holds `expected`, at most `timeout`; true if the time ran out.
fn futex_wait(word: &AtomicU32, expected: u32, timeout: Duration) -> bool {
    let ts = libc::timespec {
        tv_sec: timeout.as_secs() as libc::time_t,
        tv_nsec: timeout.subsec_nanos() as libc::c_long,
    };
    // SAFETY: FUTEX_WAIT (shared: no PRIVATE flag) on a live, aligned word; the kernel only
    // reads it. EAGAIN, EINTR and ETIMEDOUT all just make the caller look again.
    unsafe {
        libc::syscall(
            libc::SYS_futex,
            word.as_ptr(),
            libc::FUTEX_WAIT,
            expected,
            &ts as *const libc::timespec,
            std::ptr::null::<u32>(),
            0u32,
        ) != 0
            && *libc::__errno_location() == libc::ETIMEDOUT
    }
}

fn futex_wake_all(word: &AtomicU32) {
    // SAFETY: FUTEX_WAKE (shared) on a live word; it never touches the memory.
    unsafe {
        libc::syscall(
            libc::SYS_futex,
            word.as_ptr(),
            libc::FUTEX_WAKE,
            c_int::MAX,
            std::ptr::null::<libc::timespec>(),
            std::ptr::null::<u32>(),
            0u32,
        );
    }
}

/// What a sleeper watches between sleeps.
struct Watch {
    dead_holder: c_int,
    since: Option<Instant>,
}

/// Sleeps once on `lock` expecting its word to be `expected` (waiters bit set), reporting the
/// wait event; when the sleep ran its full slice, checks the supervisor and the exclusive holder.
///
/// # Safety
/// `lock` must point to a live `LWLock`.
#[cold]
unsafe fn sleep_on(lock: *mut LWLock, expected: u32, watch: &mut Watch) {
    // SAFETY: as the caller promises; my_wait_event_info always points at a live word.
    unsafe {
        let word = state(lock);
        let event = crate::pg::my_wait_event_info;
        let tranche = u32::from(read_volatile(addr_of_mut!((*lock).tranche)));
        write_volatile(event, PG_WAIT_LWLOCK | tranche);
        let timed_out = futex_wait(word, expected, SLEEP_SLICE);
        write_volatile(event, 0);
        if !timed_out {
            return;
        }

        if crate::pg::IsUnderPostmaster && !crate::latch::postmaster_is_alive() {
            // As a latch wait with WL_EXIT_ON_PM_DEATH: the locks this process holds are
            // released on the way out.
            crate::worker::exit::proc_exit(1);
        }
        let s = word.load(Ordering::Relaxed);
        let holder = read_volatile(addr_of_mut!((*lock).waiters.head));
        if s & VAL_EXCLUSIVE != 0 && holder > 0 && holder != INVALID_PGPROCNO && !pid_exists(holder)
        {
            if watch.dead_holder != holder {
                watch.dead_holder = holder;
                watch.since = Some(Instant::now());
            } else if watch
                .since
                .is_some_and(|t| t.elapsed() >= DEAD_HOLDER_GRACE)
            {
                dead_holder(lock, holder);
            }
        } else {
            watch.dead_holder = 0;
            watch.since = None;
        }
    }
}

fn pid_exists(pid: c_int) -> bool {
    // SAFETY: signal 0 only checks for existence; EPERM means it exists.
    unsafe { libc::kill(pid, 0) == 0 || *libc::__errno_location() != libc::ESRCH }
}

/// Formats into `buf` (a stack buffer, so an error raised with the text owns nothing on the
/// heap when the C side jumps away).
fn format_into(buf: &mut [u8], f: impl FnOnce(&mut std::io::Cursor<&mut [u8]>)) -> &str {
    let mut cur = std::io::Cursor::new(&mut buf[..]);
    f(&mut cur);
    let n = cur.position() as usize;
    std::str::from_utf8(&buf[..n]).unwrap_or("lock error")
}

#[cold]
fn dead_holder(lock: *mut LWLock, holder: c_int) -> ! {
    // SAFETY: lock is live (the caller's promise).
    let tranche = unsafe { read_volatile(addr_of_mut!((*lock).tranche)) };
    let mut buf = [0u8; 512];
    let text = format_into(&mut buf, |w| {
        let _ = write!(
            w,
            "lock {} is held by process {holder}, which no longer exists",
            tranche_name(c_int::from(tranche)).to_string_lossy()
        );
    });
    crate::pg::raise(PANIC, text)
}

#[cold]
fn bad_mode(mode: LWLockMode) -> ! {
    let mut buf = [0u8; 512];
    let text = format_into(&mut buf, |w| {
        let _ = write!(w, "unrecognized lock mode: {mode}");
    });
    crate::pg::raise(ERROR, text)
}

#[cold]
fn too_many() -> ! {
    crate::pg::raise(ERROR, "too many LWLocks taken")
}

/// Records `lock` as held by this process.
#[inline(always)]
fn remember(lock: *mut LWLock, mode: LWLockMode) {
    // SAFETY: process-local list, checked for room before the lock was taken.
    unsafe {
        let h = held();
        let n = (*h).n;
        *(*h).locks.get_unchecked_mut(n) = Held { lock, mode };
        (*h).n = n + 1;
    }
}

#[inline(always)]
fn room_for_one_more() {
    // SAFETY: process-local list.
    if unsafe { (*held()).n } >= MAX_SIMUL_LWLOCKS {
        too_many();
    }
}

/// Notes the exclusive holder's pid in the lock, for waiters' dead-holder check.
///
/// # Safety
/// `lock` must point to a live `LWLock` this process holds exclusively.
#[inline(always)]
unsafe fn note_owner(lock: *mut LWLock) {
    // SAFETY: as the caller promises; a plain store next to the state word.
    unsafe { write_volatile(addr_of_mut!((*lock).waiters.head), my_pid()) };
}

/// Bookkeeping once `lock` is taken in `mode`: the exclusive owner's pid, the held-lock list.
///
/// # Safety
/// `lock` points at a live LWLock this process has just taken in `mode`.
#[inline(always)]
unsafe fn note_taken(lock: *mut LWLock, mode: LWLockMode) {
    if mode == LW_EXCLUSIVE {
        // SAFETY: as the caller promises.
        unsafe { note_owner(lock) };
    }
    remember(lock, mode);
}

/// The checks every way of taking a lock makes first: a valid mode (else ERROR) and room in
/// the held-lock list (else ERROR).
#[inline(always)]
fn check_mode_and_room(mode: LWLockMode) {
    if mode != LW_EXCLUSIVE && mode != LW_SHARED {
        bad_mode(mode);
    }
    room_for_one_more();
}

/// This process's pid as start-up recorded it (0 in a plain program, where no waiter checks).
#[inline(always)]
fn my_pid() -> c_int {
    // SAFETY: MyProcPid is this process's own global, set at start-up.
    unsafe { read_volatile(&raw const crate::pg::MyProcPid) }
}

/// `LWLockAcquire`: takes `lock` in `mode`, sleeping while it is unavailable; true if it was
/// taken without sleeping. Interrupts are held until the release.
///
/// # Safety
/// `lock` must point to a live, initialised `LWLock` in memory every user shares.
#[inline(always)]
pub unsafe fn acquire(lock: *mut LWLock, mode: LWLockMode) -> bool {
    // SAFETY: the process-local list.
    let n = unsafe { (*held()).n };
    if (mode != LW_EXCLUSIVE && mode != LW_SHARED) || n >= MAX_SIMUL_LWLOCKS {
        // SAFETY: as the caller promises.
        return unsafe { acquire_checked(lock, mode) };
    }
    hold_interrupts();
    // SAFETY: as the caller promises.
    unsafe {
        // The uncontended path, kept free of calls so it needs no stack frame.
        let word = state(lock);
        let taken = if mode == LW_EXCLUSIVE {
            word.compare_exchange(0, VAL_EXCLUSIVE, Ordering::Acquire, Ordering::Relaxed)
                .is_ok()
        } else {
            // One atomic add; if an exclusive holder was there, the add is taken back (and
            // acts as a release would: a sleeper it may have kept asleep is woken).
            let old = word.fetch_add(VAL_SHARED, Ordering::Acquire);
            old & VAL_EXCLUSIVE == 0 || {
                undo_shared(word);
                false
            }
        };
        if !taken {
            return acquire_contended(lock, mode);
        }
        note_taken(lock, mode);
        true
    }
}

/// `acquire` when the mode or the number of held locks may be wrong: raises the ERROR.
///
/// # Safety
/// As `acquire`.
#[cold]
#[inline(never)]
unsafe fn acquire_checked(lock: *mut LWLock, mode: LWLockMode) -> bool {
    check_mode_and_room(mode);
    // SAFETY: as the caller promises.
    unsafe { acquire(lock, mode) }
}

/// `acquire` after the first attempt failed (interrupts already held): takes the lock, waiting.
///
/// # Safety
/// As `acquire`.
#[cold]
#[inline(never)]
unsafe fn acquire_contended(lock: *mut LWLock, mode: LWLockMode) -> bool {
    // SAFETY: as the caller promises.
    unsafe {
        let waited = if try_take(lock, mode) {
            false
        } else {
            wait_and_take(lock, mode);
            true
        };
        note_taken(lock, mode);
        !waited
    }
}

/// The slow path of `acquire`: spin, then sleep, until the lock is taken.
///
/// # Safety
/// As `acquire`.
#[cold]
#[inline(never)]
unsafe fn wait_and_take(lock: *mut LWLock, mode: LWLockMode) {
    // SAFETY: as the caller promises.
    unsafe {
        let word = state(lock);
        let mut watch = Watch {
            dead_holder: 0,
            since: None,
        };
        loop {
            // Exponential back-off between looks: a waiter that looked at the word on every
            // pause would pull its cache line away from the holder on every iteration.
            let mut pauses = 1u32;
            for _ in 0..SPINS_BEFORE_SLEEP {
                if free_for(word.load(Ordering::Relaxed), mode) && try_take(lock, mode) {
                    return;
                }
                for _ in 0..pauses {
                    std::hint::spin_loop();
                }
                pauses = (pauses * 2).min(MAX_PAUSES);
            }
            let s = word.load(Ordering::Relaxed);
            if free_for(s, mode) {
                continue;
            }
            if s & HAS_WAITERS == 0
                && word
                    .compare_exchange(s, s | HAS_WAITERS, Ordering::AcqRel, Ordering::Relaxed)
                    .is_err()
            {
                continue;
            }
            sleep_on(lock, s | HAS_WAITERS, &mut watch);
            if try_take(lock, mode) {
                return;
            }
        }
    }
}

/// `LWLockConditionalAcquire`: takes `lock` in `mode` if that needs no wait.
///
/// # Safety
/// As `acquire`.
#[inline]
pub unsafe fn conditional_acquire(lock: *mut LWLock, mode: LWLockMode) -> bool {
    check_mode_and_room(mode);
    hold_interrupts();
    // SAFETY: as the caller promises.
    unsafe {
        if try_take(lock, mode) {
            note_taken(lock, mode);
            true
        } else {
            resume_interrupts();
            false
        }
    }
}

/// `LWLockAcquireOrWait`: takes `lock` in `mode` if it is free now (true); otherwise waits until
/// it is free and returns false without taking it.
///
/// # Safety
/// As `acquire`.
pub unsafe fn acquire_or_wait(lock: *mut LWLock, mode: LWLockMode) -> bool {
    check_mode_and_room(mode);
    hold_interrupts();
    // SAFETY: as the caller promises.
    unsafe {
        if try_take(lock, mode) {
            note_taken(lock, mode);
            return true;
        }
        let word = state(lock);
        let mut watch = Watch {
            dead_holder: 0,
            since: None,
        };
        loop {
            let s = word.load(Ordering::Relaxed);
            if free_for(s, mode) {
                break;
            }
            if s & HAS_WAITERS == 0
                && word
                    .compare_exchange(s, s | HAS_WAITERS, Ordering::AcqRel, Ordering::Relaxed)
                    .is_err()
            {
                continue;
            }
            sleep_on(lock, s | HAS_WAITERS, &mut watch);
        }
        resume_interrupts();
        false
    }
}

/// Gives `lock` up in `mode`, waking sleepers when it became free.
///
/// # Safety
/// `lock` must point to a live `LWLock` this process holds in `mode`.
#[inline(always)]
unsafe fn unlock(lock: *mut LWLock, mode: LWLockMode) {
    // SAFETY: as the caller promises.
    let word = unsafe { state(lock) };
    let val = value_of(mode);
    let new = word.fetch_sub(val, Ordering::Release).wrapping_sub(val);
    if new & HAS_WAITERS != 0 && new & LOCK_MASK == 0 {
        wake(word);
    }
}

/// Takes back a shared count added while an exclusive holder was there.
#[cold]
#[inline(never)]
fn undo_shared(word: &AtomicU32) {
    let new = word
        .fetch_sub(VAL_SHARED, Ordering::Release)
        .wrapping_sub(VAL_SHARED);
    if new & HAS_WAITERS != 0 && new & LOCK_MASK == 0 {
        wake(word);
    }
}

#[cold]
#[inline(never)]
fn wake(word: &AtomicU32) {
    word.fetch_and(!HAS_WAITERS, Ordering::AcqRel);
    futex_wake_all(word);
}

/// `LWLockRelease`: releases `lock`, held by this process in either mode; ERROR "lock ... is
/// not held" otherwise, as PostgreSQL.
///
/// # Safety
/// `lock` must point to a live `LWLock` (held or not).
#[inline(always)]
pub unsafe fn release(lock: *mut LWLock) {
    let h = held();
    // SAFETY: the process-local list; its entries are locks this process took.
    unsafe {
        let n = (*h).n;
        // Locks are usually released in the reverse order of acquisition: the last one first.
        if n == 0 || !std::ptr::eq((*h).locks.get_unchecked(n - 1).lock, lock) {
            return release_out_of_order(lock);
        }
        let mode = (*h).locks.get_unchecked(n - 1).mode;
        (*h).n = n - 1;
        unlock(lock, mode);
        resume_interrupts();
    }
}

/// `release` of a lock that is not the last one taken (or not held at all: ERROR).
///
/// # Safety
/// As `release`.
#[cold]
#[inline(never)]
unsafe fn release_out_of_order(lock: *mut LWLock) {
    let h = held();
    // SAFETY: the process-local list; its entries are locks this process took.
    unsafe {
        let list = &mut *h;
        let n = list.n;
        if let Some(i) = list.locks[..n]
            .iter()
            .rposition(|e| std::ptr::eq(e.lock, lock))
        {
            let mode = list.locks[i].mode;
            list.locks.copy_within(i + 1..n, i);
            list.n = n - 1;
            unlock(lock, mode);
            resume_interrupts();
            return;
        }
    }
    not_held(lock)
}

#[cold]
fn not_held(lock: *mut LWLock) -> ! {
    let tranche = if lock.is_null() {
        -1
    } else {
        // SAFETY: a non-NULL lock is live (the caller's promise).
        c_int::from(unsafe { read_volatile(addr_of_mut!((*lock).tranche)) })
    };
    let mut buf = [0u8; 512];
    let text = format_into(&mut buf, |w| {
        let _ = write!(
            w,
            "lock {} is not held",
            tranche_name(tranche).to_string_lossy()
        );
    });
    crate::pg::raise(ERROR, text)
}

/// `LWLockReleaseAll`: releases every lock this process holds (error recovery, exit), leaving
/// `InterruptHoldoffCount` as it found it, as PostgreSQL.
pub fn release_all() {
    loop {
        let h = held();
        // SAFETY: the process-local list.
        let last = unsafe {
            let n = (*h).n;
            if n == 0 {
                return;
            }
            (*h).locks[n - 1].lock
        };
        hold_interrupts();
        // SAFETY: `last` is a lock this process holds.
        unsafe { release(last) };
    }
}

/// `LWLockHeldByMe`.
pub fn held_by_me(lock: *const LWLock) -> bool {
    held_in(|h| std::ptr::eq(h.lock, lock))
}

/// `LWLockHeldByMeInMode`.
pub fn held_by_me_in_mode(lock: *const LWLock, mode: LWLockMode) -> bool {
    held_in(|h| std::ptr::eq(h.lock, lock) && h.mode == mode)
}

/// `LWLockAnyHeldByMe`: whether this process holds any of `nlocks` locks `stride` bytes apart
/// from `lock`.
pub fn any_held_by_me(lock: *const LWLock, nlocks: usize, stride: usize) -> bool {
    let begin = lock as usize;
    let end = begin.saturating_add(nlocks.saturating_mul(stride));
    held_in(|h| {
        let p = h.lock as usize;
        p >= begin && p < end && stride != 0 && (p - begin).is_multiple_of(stride)
    })
}

fn held_in(f: impl Fn(&Held) -> bool) -> bool {
    let h = held();
    // SAFETY: the process-local list, read only.
    unsafe {
        let list = &*h;
        list.locks[..list.n].iter().any(f)
    }
}

/// `ForEachLWLockHeldByMe`: calls `f` for every lock this process holds, oldest first.
pub fn for_each_held(mut f: impl FnMut(*mut LWLock, LWLockMode)) {
    let h = held();
    // SAFETY: the list is copied first, so a callback that releases locks cannot disturb it.
    let copy: Vec<Held> = unsafe {
        let list = &*h;
        list.locks[..list.n].to_vec()
    };
    for e in copy {
        f(e.lock, e.mode);
    }
}

/// How many locks this process holds.
pub fn num_held() -> usize {
    // SAFETY: the process-local list.
    unsafe { (*held()).n }
}

// ---------------------------------------------------------------------------------------------
// Spinlocks: the slow path of S_LOCK (the fast path is inline in the header)
// ---------------------------------------------------------------------------------------------

/// `slock_t` of this architecture (as PostgreSQL's s_lock.h picks it).
#[cfg(any(target_arch = "x86_64", target_arch = "x86"))]
pub type slock_t = u8;
#[cfg(not(any(target_arch = "x86_64", target_arch = "x86")))]
pub type slock_t = c_int;

#[cfg(any(target_arch = "x86_64", target_arch = "x86"))]
type AtomicSlock = std::sync::atomic::AtomicU8;
#[cfg(not(any(target_arch = "x86_64", target_arch = "x86")))]
type AtomicSlock = std::sync::atomic::AtomicI32;

/// Spins between sleeps (PostgreSQL's `DEFAULT_SPINS_PER_DELAY`).
const SPINS_PER_DELAY: c_int = 100;
const MIN_DELAY_USEC: c_int = 1_000;
const MAX_DELAY_USEC: c_int = 100_000;
/// Sleeps before a spinlock is declared stuck: the delays grow from 1 ms to 100 ms within a few
/// dozen sleeps, so this many add up to about a minute.
const NUM_DELAYS: c_int = 620;

/// `perform_spin_delay`: one step of waiting for a spinlock — a CPU pause, and after
/// `SPINS_PER_DELAY` of them a sleep growing (with jitter) from 1 ms to 100 ms; PANIC "stuck
/// spinlock detected" after about a minute of sleeps.
pub fn perform_spin_delay(status: &mut SpinDelayStatus) {
    std::hint::spin_loop();
    status.spins += 1;
    if status.spins < SPINS_PER_DELAY {
        return;
    }
    status.delays += 1;
    if status.delays > NUM_DELAYS {
        stuck(status);
    }
    if status.cur_delay == 0 {
        status.cur_delay = MIN_DELAY_USEC;
    }
    // SAFETY: a plain sleep.
    unsafe { libc::usleep(status.cur_delay as libc::useconds_t) };
    // Grow by a random factor between 1 and 2 so that waiters do not move in lockstep.
    let jitter = (jitter_fraction() * f64::from(status.cur_delay)) as c_int;
    status.cur_delay = (status.cur_delay + jitter).min(MAX_DELAY_USEC);
    status.spins = 0;
}

fn jitter_fraction() -> f64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: writes ts only.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    let x = (ts.tv_nsec as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 40;
    x as f64 / (1u64 << 24) as f64
}

#[cold]
fn stuck(status: &SpinDelayStatus) -> ! {
    // SAFETY: file and func are NULL or NUL-terminated strings from the S_LOCK call site.
    let (file, func) = unsafe {
        (
            crate::pg::cstr(status.file).unwrap_or(b"(unknown)"),
            crate::pg::cstr(status.func).unwrap_or(b"(unknown)"),
        )
    };
    let line = status.line;
    let mut buf = [0u8; 512];
    let text = format_into(&mut buf, |w| {
        let _ = write!(
            w,
            "stuck spinlock detected at {}, {}:{line}",
            String::from_utf8_lossy(func),
            String::from_utf8_lossy(file)
        );
    });
    crate::pg::raise(PANIC, text)
}

/// `s_lock`: waits for the spinlock `lock` (whose first test-and-set failed in `S_LOCK`) and
/// takes it; returns the number of sleeps it took.
///
/// # Safety
/// `lock` must point to a live `slock_t`; `file` and `func` NULL or NUL-terminated.
pub unsafe fn s_lock(
    lock: *mut slock_t,
    file: *const c_char,
    line: c_int,
    func: *const c_char,
) -> c_int {
    // SAFETY: as the caller promises; slock_t is only accessed atomically while contended.
    let word = unsafe { AtomicSlock::from_ptr(lock) };
    let mut status = SpinDelayStatus {
        spins: 0,
        delays: 0,
        cur_delay: 0,
        file,
        line,
        func,
    };
    loop {
        if word.load(Ordering::Relaxed) == 0 && word.swap(1, Ordering::Acquire) == 0 {
            return status.delays;
        }
        perform_spin_delay(&mut status);
    }
}
