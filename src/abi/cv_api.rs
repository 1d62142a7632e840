//! Exports: condition variables (`storage/condition_variable.h`); logic in `crate::dsm::cv`.
//! Declared by hand in that header, with PostgreSQL 15's types.

use crate::dsm::cv::{self, ConditionVariable};
use libc::c_long;

/// `ConditionVariableInit`.
///
/// # Safety
/// `cv` points to writable memory for a condition variable nobody uses yet.
#[no_mangle]
pub unsafe extern "C" fn ConditionVariableInit(cv: *mut ConditionVariable) {
    export!(raises, ConditionVariableInit, {
        // SAFETY: as the caller promises.
        unsafe { cv::init(cv) }
    })
}

/// `ConditionVariablePrepareToSleep`: joins `cv`'s wake-up list before the caller checks its
/// condition.
///
/// # Safety
/// `cv` a live, initialised condition variable.
#[no_mangle]
pub unsafe extern "C" fn ConditionVariablePrepareToSleep(cv: *mut ConditionVariable) {
    export!(raises, ConditionVariablePrepareToSleep, {
        // SAFETY: as the caller promises.
        unsafe { cv::prepare_to_sleep(cv) }
    })
}

/// `ConditionVariableSleep`: waits until signalled (the caller re-checks its condition in a
/// loop, then calls `ConditionVariableCancelSleep`).
///
/// # Safety
/// `cv` a live, initialised condition variable.
#[no_mangle]
pub unsafe extern "C" fn ConditionVariableSleep(cv: *mut ConditionVariable, wait_event_info: u32) {
    export!(raises, ConditionVariableSleep, {
        // SAFETY: as the caller promises.
        unsafe { cv::timed_sleep(cv, -1, wait_event_info) };
    })
}

/// `ConditionVariableTimedSleep`: as `ConditionVariableSleep`; true when `timeout` ms passed.
///
/// # Safety
/// `cv` a live, initialised condition variable.
#[no_mangle]
pub unsafe extern "C" fn ConditionVariableTimedSleep(
    cv: *mut ConditionVariable,
    timeout: c_long,
    wait_event_info: u32,
) -> bool {
    export!(raises, ConditionVariableTimedSleep, {
        // SAFETY: as the caller promises.
        unsafe { cv::timed_sleep(cv, timeout, wait_event_info) }
    })
}

/// `ConditionVariableCancelSleep`.
#[no_mangle]
pub extern "C" fn ConditionVariableCancelSleep() {
    export!(raises, ConditionVariableCancelSleep, { cv::cancel_sleep() })
}

/// `ConditionVariableSignal`: wakes one waiter.
///
/// # Safety
/// `cv` a live, initialised condition variable.
#[no_mangle]
pub unsafe extern "C" fn ConditionVariableSignal(cv: *mut ConditionVariable) {
    export!(raises, ConditionVariableSignal, {
        // SAFETY: as the caller promises.
        unsafe { cv::signal(cv) }
    })
}

/// `ConditionVariableBroadcast`: wakes every process waiting now.
///
/// # Safety
/// `cv` a live, initialised condition variable.
#[no_mangle]
pub unsafe extern "C" fn ConditionVariableBroadcast(cv: *mut ConditionVariable) {
    export!(raises, ConditionVariableBroadcast, {
        // SAFETY: as the caller promises.
        unsafe { cv::broadcast(cv) }
    })
}
