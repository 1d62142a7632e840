//! Exports: lightweight locks (`storage/lwlock.h`) and the spinlock slow path
//! (`storage/s_lock.h`). The lock and release paths are hot, so they carry no panic boundary:
//! the core code they call cannot panic (it raises ERROR through the C shim instead).

use crate::lwlock::{self, slock_t, LWLock, LWLockMode, SpinDelayStatus};
use libc::{c_char, c_int, c_void, size_t};

/// `LWLockInitialize`: makes `lock` a free lock of tranche `tranche_id`.
///
/// # Safety
/// `lock` must point to writable memory for an `LWLock` no process is using yet.
#[no_mangle]
pub unsafe extern "C" fn LWLockInitialize(lock: *mut LWLock, tranche_id: c_int) {
    export!(raises, LWLockInitialize, {
        if lock.is_null() {
            crate::pg::raise(crate::pg::types::ERROR, "LWLockInitialize: lock is NULL");
        }
        // SAFETY: as the caller promises.
        unsafe { lwlock::initialize(lock, tranche_id as u16) }
    })
}

/// `LWLockAcquire`: takes `lock` in `mode` (`LW_EXCLUSIVE` or `LW_SHARED`), sleeping while it is
/// unavailable; true if it was taken without sleeping. Interrupts are held until the release.
///
/// # Safety
/// `lock` must point to an initialised `LWLock` in memory shared by every process using it.
#[no_mangle]
pub unsafe extern "C" fn LWLockAcquire(lock: *mut LWLock, mode: LWLockMode) -> bool {
    export!(raises, LWLockAcquire, {
        // SAFETY: as the caller promises.
        unsafe { lwlock::acquire(lock, mode) }
    })
}

/// `LWLockConditionalAcquire`: takes `lock` in `mode` only if that needs no wait; true if taken.
///
/// # Safety
/// As `LWLockAcquire`.
#[no_mangle]
pub unsafe extern "C" fn LWLockConditionalAcquire(lock: *mut LWLock, mode: LWLockMode) -> bool {
    export!(raises, LWLockConditionalAcquire, {
        // SAFETY: as the caller promises.
        unsafe { lwlock::conditional_acquire(lock, mode) }
    })
}

/// `LWLockAcquireOrWait`: takes `lock` in `mode` if it is free (true); otherwise waits until it
/// is free and returns false without taking it.
///
/// # Safety
/// As `LWLockAcquire`.
#[no_mangle]
pub unsafe extern "C" fn LWLockAcquireOrWait(lock: *mut LWLock, mode: LWLockMode) -> bool {
    export!(raises, LWLockAcquireOrWait, {
        // SAFETY: as the caller promises.
        unsafe { lwlock::acquire_or_wait(lock, mode) }
    })
}

/// `LWLockRelease`: releases `lock`; ERROR "lock ... is not held" when this process does not
/// hold it.
///
/// # Safety
/// `lock` must point to a live `LWLock`.
#[no_mangle]
pub unsafe extern "C" fn LWLockRelease(lock: *mut LWLock) {
    export!(raises, LWLockRelease, {
        // SAFETY: as the caller promises.
        unsafe { lwlock::release(lock) }
    })
}

/// `LWLockReleaseAll`: releases every lock this process holds (error recovery and exit).
#[no_mangle]
pub extern "C" fn LWLockReleaseAll() {
    export!(raises, LWLockReleaseAll, { lwlock::release_all() })
}

/// `LWLockHeldByMe`: whether this process holds `lock` in any mode.
#[no_mangle]
pub extern "C" fn LWLockHeldByMe(lock: *mut LWLock) -> bool {
    export!(raises, LWLockHeldByMe, { lwlock::held_by_me(lock) })
}

/// `LWLockHeldByMeInMode`: whether this process holds `lock` in `mode`.
#[no_mangle]
pub extern "C" fn LWLockHeldByMeInMode(lock: *mut LWLock, mode: LWLockMode) -> bool {
    export!(raises, LWLockHeldByMeInMode, {
        lwlock::held_by_me_in_mode(lock, mode)
    })
}

/// `LWLockAnyHeldByMe`: whether this process holds any of the `nlocks` locks that start at
/// `lock`, `stride` bytes apart.
#[no_mangle]
pub extern "C" fn LWLockAnyHeldByMe(lock: *mut LWLock, nlocks: c_int, stride: size_t) -> bool {
    export!(raises, LWLockAnyHeldByMe, {
        lwlock::any_held_by_me(lock, nlocks.max(0) as usize, stride)
    })
}

/// `ForEachLWLockHeldByMe`: calls `callback(lock, mode, context)` for each lock this process
/// holds, oldest first.
#[no_mangle]
pub extern "C" fn ForEachLWLockHeldByMe(
    callback: Option<unsafe extern "C" fn(*mut LWLock, LWLockMode, *mut c_void)>,
    context: *mut c_void,
) {
    export!(raises, ForEachLWLockHeldByMe, {
        if let Some(f) = callback {
            // SAFETY: the module's callback with the module's context.
            lwlock::for_each_held(|lock, mode| unsafe { f(lock, mode, context) });
        }
    })
}

/// `LWLockNewTrancheId`: a fresh tranche id, unique across the supervisor's processes.
#[no_mangle]
pub extern "C" fn LWLockNewTrancheId() -> c_int {
    export!(boundary, LWLockNewTrancheId, 0, {
        lwlock::new_tranche_id()
    })
}

/// `LWLockRegisterTranche`: names `tranche_id` in this process (wait events, error messages).
/// The name is copied. Ids of PostgreSQL's built-in tranches are ignored.
///
/// # Safety
/// `tranche_name` must be NULL (ignored) or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn LWLockRegisterTranche(tranche_id: c_int, tranche_name: *const c_char) {
    export!(boundary, LWLockRegisterTranche, (), {
        if tranche_name.is_null() {
            return;
        }
        // SAFETY: as the caller promises.
        let name = unsafe { std::ffi::CStr::from_ptr(tranche_name) };
        lwlock::register_tranche(tranche_id, name)
    })
}

/// `GetLWLockIdentifier`: the name of tranche `event_id` (the wait event of class LWLock), as
/// this process knows it; "extension" for an unnamed tranche.
#[no_mangle]
pub extern "C" fn GetLWLockIdentifier(class_id: u32, event_id: u16) -> *const c_char {
    export!(boundary, GetLWLockIdentifier, c"extension".as_ptr(), {
        let _ = class_id;
        lwlock::tranche_name(c_int::from(event_id)).as_ptr()
    })
}

/// `s_lock`: the wait of `S_LOCK`/`SpinLockAcquire` after its first test-and-set failed: spins,
/// then sleeps with growing delays, and PANICs "stuck spinlock detected" after about a minute.
/// Returns the number of sleeps. Declared by hand in storage/s_lock.h (`volatile slock_t *`).
///
/// # Safety
/// `lock` must point to a live `slock_t`; `file` and `func` NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn s_lock(
    lock: *mut slock_t,
    file: *const c_char,
    line: c_int,
    func: *const c_char,
) -> c_int {
    export!(raises, s_lock, {
        // SAFETY: as the caller promises.
        unsafe { lwlock::s_lock(lock, file, line, func) }
    })
}

/// `perform_spin_delay`: one step of a spin-wait set up with `init_spin_delay`.
///
/// # Safety
/// `status` must point to a `SpinDelayStatus` set up by `init_spin_delay`.
#[no_mangle]
pub unsafe extern "C" fn perform_spin_delay(status: *mut SpinDelayStatus) {
    export!(raises, perform_spin_delay, {
        // SAFETY: as the caller promises.
        if let Some(status) = unsafe { status.as_mut() } {
            lwlock::perform_spin_delay(status)
        }
    })
}

/// `finish_spin_delay`: ends a spin-wait (PostgreSQL tunes its spin count here; the count is
/// fixed in this library).
#[no_mangle]
pub extern "C" fn finish_spin_delay(status: *mut SpinDelayStatus) {
    export!(raises, finish_spin_delay, {
        let _ = status;
    })
}
