//! Exports: shared memory message queues (`storage/shm_mq.h`); logic in `crate::dsm::mq`.
//! Declared by hand in that header, with PostgreSQL 15's types.

use crate::dsm::mq::{self, shm_mq, shm_mq_handle, shm_mq_iovec, shm_mq_result};
use crate::dsm::segment::dsm_segment;
use crate::pg::types::*;
use libc::{c_int, c_void};

/// `shm_mq_minimum_size`: the smallest queue (header and one chunk), 64 bytes as in PostgreSQL.
#[no_mangle]
pub static shm_mq_minimum_size: usize = mq::MINIMUM_SIZE;

/// `shm_mq_create`: a queue in `size` bytes at `address`.
///
/// # Safety
/// `address` points to `size` writable bytes, 8-aligned.
#[no_mangle]
pub unsafe extern "C" fn shm_mq_create(address: *mut c_void, size: usize) -> *mut shm_mq {
    export!(raises, shm_mq_create, {
        // SAFETY: as the caller promises.
        unsafe { mq::create(address.cast(), size) }
    })
}

/// `shm_mq_set_receiver`: `proc_` (a PGPROC, usually `MyProc`) receives from the queue.
///
/// # Safety
/// `mq` a live queue; `proc_` a PGPROC.
#[no_mangle]
pub unsafe extern "C" fn shm_mq_set_receiver(mq: *mut shm_mq, proc_: *mut PGPROC) {
    export!(raises, shm_mq_set_receiver, {
        // SAFETY: as the caller promises.
        unsafe { mq::set_receiver(mq, proc_) }
    })
}

/// `shm_mq_set_sender`.
///
/// # Safety
/// `mq` a live queue; `proc_` a PGPROC.
#[no_mangle]
pub unsafe extern "C" fn shm_mq_set_sender(mq: *mut shm_mq, proc_: *mut PGPROC) {
    export!(raises, shm_mq_set_sender, {
        // SAFETY: as the caller promises.
        unsafe { mq::set_sender(mq, proc_) }
    })
}

/// `shm_mq_get_receiver`: the receiver's PGPROC in this process's mapping, or NULL.
///
/// # Safety
/// `mq` a live queue.
#[no_mangle]
pub unsafe extern "C" fn shm_mq_get_receiver(mq: *mut shm_mq) -> *mut PGPROC {
    export!(raises, shm_mq_get_receiver, {
        // SAFETY: as the caller promises.
        unsafe { mq::get_party(mq, true) }
    })
}

/// `shm_mq_get_sender`.
///
/// # Safety
/// `mq` a live queue.
#[no_mangle]
pub unsafe extern "C" fn shm_mq_get_sender(mq: *mut shm_mq) -> *mut PGPROC {
    export!(raises, shm_mq_get_sender, {
        // SAFETY: as the caller promises.
        unsafe { mq::get_party(mq, false) }
    })
}

/// `shm_mq_attach`: a handle (in `CurrentMemoryContext`) on a queue this process sends to or
/// receives from; with `seg`, detached with the segment; with `handle`, a worker that never
/// starts is noticed.
///
/// # Safety
/// `mq` a live queue; `seg` NULL or a live segment; `handle` NULL or a worker handle.
#[no_mangle]
pub unsafe extern "C" fn shm_mq_attach(
    mq: *mut shm_mq,
    seg: *mut dsm_segment,
    handle: *mut BackgroundWorkerHandle,
) -> *mut shm_mq_handle {
    export!(raises, shm_mq_attach, {
        // SAFETY: as the caller promises.
        unsafe { mq::attach(mq, seg, handle) }
    })
}

/// `shm_mq_set_handle`.
///
/// # Safety
/// `mqh` a live handle.
#[no_mangle]
pub unsafe extern "C" fn shm_mq_set_handle(
    mqh: *mut shm_mq_handle,
    handle: *mut BackgroundWorkerHandle,
) {
    export!(raises, shm_mq_set_handle, {
        // SAFETY: as the caller promises.
        unsafe { mq::set_handle(mqh, handle) }
    })
}

/// `shm_mq_detach`: marks the queue detached (the counterparty sees `SHM_MQ_DETACHED`) and
/// frees the handle.
///
/// # Safety
/// `mqh` a live handle; not used afterwards.
#[no_mangle]
pub unsafe extern "C" fn shm_mq_detach(mqh: *mut shm_mq_handle) {
    export!(raises, shm_mq_detach, {
        if !mqh.is_null() {
            // SAFETY: as the caller promises.
            unsafe { mq::detach(mqh) }
        }
    })
}

/// `shm_mq_get_queue`.
///
/// # Safety
/// `mqh` a live handle.
#[no_mangle]
pub unsafe extern "C" fn shm_mq_get_queue(mqh: *mut shm_mq_handle) -> *mut shm_mq {
    export!(raises, shm_mq_get_queue, {
        // SAFETY: as the caller promises.
        unsafe { mq::get_queue(mqh) }
    })
}

/// `shm_mq_send`: one message of `nbytes` bytes (PostgreSQL 15's five arguments).
///
/// # Safety
/// `mqh` a live handle; `data` points to `nbytes` readable bytes.
#[no_mangle]
pub unsafe extern "C" fn shm_mq_send(
    mqh: *mut shm_mq_handle,
    nbytes: usize,
    data: *const c_void,
    nowait: bool,
    force_flush: bool,
) -> shm_mq_result {
    export!(raises, shm_mq_send, {
        let iov = shm_mq_iovec {
            data: data.cast(),
            len: nbytes,
        };
        // SAFETY: as the caller promises.
        unsafe { mq::sendv(mqh, &iov, 1, nowait, force_flush) }
    })
}

/// `shm_mq_sendv`: one message gathered from `iovcnt` pieces.
///
/// # Safety
/// `mqh` a live handle; `iov` points to `iovcnt` pieces of readable bytes.
#[no_mangle]
pub unsafe extern "C" fn shm_mq_sendv(
    mqh: *mut shm_mq_handle,
    iov: *mut shm_mq_iovec,
    iovcnt: c_int,
    nowait: bool,
    force_flush: bool,
) -> shm_mq_result {
    export!(raises, shm_mq_sendv, {
        // SAFETY: as the caller promises.
        unsafe { mq::sendv(mqh, iov, iovcnt, nowait, force_flush) }
    })
}

/// `shm_mq_receive`: the next message, valid until the next receive on this handle.
///
/// # Safety
/// `mqh` a live handle; `nbytesp` and `datap` writable.
#[no_mangle]
pub unsafe extern "C" fn shm_mq_receive(
    mqh: *mut shm_mq_handle,
    nbytesp: *mut usize,
    datap: *mut *mut c_void,
    nowait: bool,
) -> shm_mq_result {
    export!(raises, shm_mq_receive, {
        // SAFETY: as the caller promises.
        unsafe { mq::receive(mqh, nbytesp, datap.cast(), nowait) }
    })
}

/// `shm_mq_wait_for_attach`.
///
/// # Safety
/// `mqh` a live handle.
#[no_mangle]
pub unsafe extern "C" fn shm_mq_wait_for_attach(mqh: *mut shm_mq_handle) -> shm_mq_result {
    export!(raises, shm_mq_wait_for_attach, {
        // SAFETY: as the caller promises.
        unsafe { mq::wait_for_attach(mqh) }
    })
}
