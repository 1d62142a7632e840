//! Single-reader, single-writer message queues in shared memory (`storage/shm_mq.h`), with
//! PostgreSQL 15's protocol: a ring of MAXALIGN'd chunks, each message a length word and its
//! bytes; the sender publishes what it wrote by advancing `bytes_written` (at once with
//! `force_flush`, else once a quarter of the ring is pending), the receiver what it consumed by
//! advancing `bytes_read`; each sets the other's latch. Messages larger than the ring are
//! reassembled in the receiver's handle.
//!
//! What differs is how a queue names its two processes: by PGPROC number and pid instead of a
//! `PGPROC *`, so a process that maps the main segment elsewhere (an attached one) is a full
//! peer; and that no wait hangs on a peer that is gone. A process waiting for its counterparty
//! to read or write also watches that process itself (a pidfd beside the latch), so a peer that
//! dies without detaching (killed) ends the wait with `SHM_MQ_DETACHED`; a wait for a
//! counterparty to attach looks at the worker handle, when there is one, at least every 100 ms,
//! so a worker that never started ends it too, whether or not a SIGUSR1 handler sets the latch.
//!
//! The header is 56 bytes, as PostgreSQL's, so `shm_mq_minimum_size` is PostgreSQL's 64.

use super::peer;
use super::segment::dsm_segment;
use crate::lwlock::slock_t;
use crate::mcxt::{self, MemoryContext};
use crate::pg::types::*;
use crate::pg::{check_for_interrupts, make_sqlstate, raise_fmt};
use crate::shmem::Segment;
use std::ptr::null_mut;
use std::sync::atomic::{fence, AtomicI32, AtomicU64, AtomicU8, Ordering};

/// The queue in shared memory. Opaque to modules.
#[repr(C)]
pub struct shm_mq {
    mq_mutex: slock_t,
    mq_detached: u8,
    mq_ring_offset: u8,
    _pad0: u8,
    /// PGPROC number + 1 of the receiver and the sender (0: not set yet).
    mq_receiver: i32,
    mq_sender: i32,
    mq_receiver_pid: i32,
    mq_sender_pid: i32,
    _pad1: u32,
    mq_bytes_read: u64,
    mq_bytes_written: u64,
    mq_ring_size: usize,
    _spare: u64,
    mq_ring: [u8; 0],
}

const _: () = {
    use std::mem::offset_of;
    assert!(offset_of!(shm_mq, mq_ring) == 56);
    assert!(offset_of!(shm_mq, mq_bytes_read) == 24);
};

/// `shm_mq_result`.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum shm_mq_result {
    SHM_MQ_SUCCESS = 0,
    SHM_MQ_WOULD_BLOCK = 1,
    SHM_MQ_DETACHED = 2,
}
use shm_mq_result::*;

/// One piece of a message (`shm_mq_iovec`).
#[repr(C)]
pub struct shm_mq_iovec {
    pub data: *const u8,
    pub len: usize,
}

/// A process's handle on a queue. Opaque to modules; allocated in the memory context current
/// at `shm_mq_attach`, where any reassembly buffer goes too.
pub struct shm_mq_handle {
    mqh_queue: *mut shm_mq,
    mqh_segment: *mut dsm_segment,
    mqh_handle: *mut BackgroundWorkerHandle,
    mqh_buffer: *mut u8,
    mqh_buflen: usize,
    mqh_consume_pending: usize,
    mqh_send_pending: usize,
    mqh_partial_bytes: usize,
    mqh_expected_bytes: usize,
    mqh_length_word_complete: bool,
    mqh_counterparty_attached: bool,
    /// Whether this process was checked to be the queue's sender (or receiver) for the
    /// operation it does.
    mqh_checked: bool,
    /// The counterparty's PGPROC number + 1 and pid, once known (they never change then).
    mqh_peer: i32,
    mqh_peer_pid: i32,
    mqh_context: MemoryContext,
}

const MAXIMUM_ALIGNOF: usize = 8;
const SIZE_WORD: usize = std::mem::size_of::<usize>();
/// PostgreSQL's `MaxAllocSize`.
const MAX_ALLOC_SIZE: usize = 0x3fff_ffff;
const MQH_INITIAL_BUFSIZE: usize = 8192;
const DATA_OFFSET: usize = 56;

/// `shm_mq_minimum_size`: room for the header and one chunk.
pub const MINIMUM_SIZE: usize = DATA_OFFSET + MAXIMUM_ALIGNOF;

fn maxalign(n: usize) -> usize {
    n.next_multiple_of(MAXIMUM_ALIGNOF)
}

fn maxalign_down(n: usize) -> usize {
    n & !(MAXIMUM_ALIGNOF - 1)
}

// ---- fields shared between the two processes --------------------------------------------------

fn mutex(mq: *mut shm_mq) -> &'static AtomicU8 {
    // SAFETY: the mutex byte of a live queue, only touched atomically.
    unsafe { AtomicU8::from_ptr((&raw mut (*mq).mq_mutex).cast()) }
}

fn lock(mq: *mut shm_mq) {
    if mutex(mq).swap(1, Ordering::Acquire) != 0 {
        // SAFETY: as in mutex; s_lock spins until the lock is ours.
        unsafe {
            crate::lwlock::s_lock(
                (&raw mut (*mq).mq_mutex).cast(),
                c"shm_mq".as_ptr(),
                0,
                c"shm_mq".as_ptr(),
            )
        };
    }
}

fn unlock(mq: *mut shm_mq) {
    mutex(mq).store(0, Ordering::Release);
}

fn detached_flag(mq: *mut shm_mq) -> &'static AtomicU8 {
    // SAFETY: a byte of a live queue, only touched atomically.
    unsafe { AtomicU8::from_ptr(&raw mut (*mq).mq_detached) }
}

fn is_detached(mq: *mut shm_mq) -> bool {
    detached_flag(mq).load(Ordering::Acquire) != 0
}

fn set_detached(mq: *mut shm_mq) {
    detached_flag(mq).store(1, Ordering::Release);
}

fn bytes_read(mq: *mut shm_mq) -> &'static AtomicU64 {
    // SAFETY: an aligned u64 of a live queue, only touched atomically.
    unsafe { AtomicU64::from_ptr(&raw mut (*mq).mq_bytes_read) }
}

fn bytes_written(mq: *mut shm_mq) -> &'static AtomicU64 {
    // SAFETY: as for bytes_read.
    unsafe { AtomicU64::from_ptr(&raw mut (*mq).mq_bytes_written) }
}

fn word(p: *mut i32) -> &'static AtomicI32 {
    // SAFETY: an aligned i32 of a live queue, only touched atomically.
    unsafe { AtomicI32::from_ptr(p) }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Side {
    Receiver,
    Sender,
}

/// (PGPROC number + 1, pid) of one side, read under the mutex unless known to be final.
fn party(mq: *mut shm_mq, side: Side) -> (i32, i32) {
    // SAFETY: fields of a live queue.
    let (n, pid) = unsafe {
        match side {
            Side::Receiver => (&raw mut (*mq).mq_receiver, &raw mut (*mq).mq_receiver_pid),
            Side::Sender => (&raw mut (*mq).mq_sender, &raw mut (*mq).mq_sender_pid),
        }
    };
    lock(mq);
    let r = (
        word(n).load(Ordering::Relaxed),
        word(pid).load(Ordering::Relaxed),
    );
    unlock(mq);
    r
}

fn main_segment() -> &'static Segment {
    match crate::shmem::current() {
        Some(s) => s,
        None => raise_fmt(
            ERROR,
            0,
            format_args!("shared memory message queues need a worker or an attached process"),
        ),
    }
}

fn proc_of(seg: &Segment, number: i32) -> *mut PGPROC {
    if number <= 0 || number as usize > seg.num_procs() {
        null_mut()
    } else {
        seg.proc_ptr(number as usize - 1)
    }
}

fn set_latch_of(seg: &Segment, number: i32) {
    let p = proc_of(seg, number);
    if !p.is_null() {
        // SAFETY: the latch of a PGPROC of this mapping.
        unsafe { crate::latch::set_latch(&raw mut (*p).procLatch) };
    }
}

/// This process's PGPROC number + 1 (0 when it has none).
fn me(seg: &Segment) -> i32 {
    // SAFETY: reading this process's own global.
    let p = unsafe { crate::pg::MyProc };
    seg.procno_of(p).map_or(0, |n| n as i32 + 1)
}

// ---- set-up -------------------------------------------------------------------------------------

/// `shm_mq_create`: a queue in `size` bytes at `address` (odd bytes past a multiple of 8 unused).
///
/// # Safety
/// `address` points to `size` writable bytes, 8-aligned.
pub unsafe fn create(address: *mut u8, size: usize) -> *mut shm_mq {
    let size = maxalign_down(size);
    if size <= DATA_OFFSET {
        raise_fmt(
            ERROR,
            0,
            format_args!(
                "shared memory queue of {size} bytes is too small (at least {MINIMUM_SIZE} bytes)"
            ),
        );
    }
    let mq = address.cast::<shm_mq>();
    // SAFETY: as the caller promises.
    unsafe {
        mq.write(shm_mq {
            mq_mutex: 0,
            mq_detached: 0,
            mq_ring_offset: 0,
            _pad0: 0,
            mq_receiver: 0,
            mq_sender: 0,
            mq_receiver_pid: 0,
            mq_sender_pid: 0,
            _pad1: 0,
            mq_bytes_read: 0,
            mq_bytes_written: 0,
            mq_ring_size: size - DATA_OFFSET,
            _spare: 0,
            mq_ring: [],
        });
    }
    mq
}

fn set_party(mq: *mut shm_mq, proc_: *mut PGPROC, side: Side) {
    let seg = main_segment();
    let Some(n) = seg.procno_of(proc_) else {
        raise_fmt(
            ERROR,
            0,
            format_args!("shm_mq: the PGPROC given is not one of this supervisor's processes"),
        );
    };
    // SAFETY: a PGPROC of this mapping.
    let pid = unsafe { std::ptr::read_volatile(&raw const (*proc_).pid) };
    // SAFETY: fields of a live queue.
    let (mine, mine_pid, other) = unsafe {
        match side {
            Side::Receiver => (
                &raw mut (*mq).mq_receiver,
                &raw mut (*mq).mq_receiver_pid,
                &raw mut (*mq).mq_sender,
            ),
            Side::Sender => (
                &raw mut (*mq).mq_sender,
                &raw mut (*mq).mq_sender_pid,
                &raw mut (*mq).mq_receiver,
            ),
        }
    };
    lock(mq);
    let already = word(mine).load(Ordering::Relaxed);
    if already == 0 {
        word(mine_pid).store(pid, Ordering::Relaxed);
        word(mine).store(n as i32 + 1, Ordering::Relaxed);
    }
    let counterparty = word(other).load(Ordering::Relaxed);
    unlock(mq);
    if already != 0 {
        let which = if side == Side::Receiver {
            "receiver"
        } else {
            "sender"
        };
        raise_fmt(
            ERROR,
            0,
            format_args!("shm_mq: the queue's {which} is already set"),
        );
    }
    set_latch_of(seg, counterparty);
}

/// `shm_mq_set_receiver`.
///
/// # Safety
/// `mq` is a live queue; `proc_` a PGPROC.
pub unsafe fn set_receiver(mq: *mut shm_mq, proc_: *mut PGPROC) {
    set_party(mq, proc_, Side::Receiver)
}

/// `shm_mq_set_sender`.
///
/// # Safety
/// As `set_receiver`.
pub unsafe fn set_sender(mq: *mut shm_mq, proc_: *mut PGPROC) {
    set_party(mq, proc_, Side::Sender)
}

/// `shm_mq_get_receiver` / `shm_mq_get_sender`.
///
/// # Safety
/// `mq` is a live queue.
pub unsafe fn get_party(mq: *mut shm_mq, receiver: bool) -> *mut PGPROC {
    let side = if receiver {
        Side::Receiver
    } else {
        Side::Sender
    };
    let (n, _) = party(mq, side);
    crate::shmem::current().map_or(null_mut(), |seg| proc_of(seg, n))
}

extern "C" fn detach_callback(_seg: *mut dsm_segment, arg: Datum) {
    detach_internal(arg as *mut shm_mq);
}

/// `shm_mq_attach`: a handle in `CurrentMemoryContext`; with `seg`, the queue is detached when
/// the segment is; with `handle`, a worker that never starts is noticed.
///
/// # Safety
/// `mq` is a live queue whose sender or receiver is this process; `seg` NULL or live.
pub unsafe fn attach(
    mq: *mut shm_mq,
    seg: *mut dsm_segment,
    handle: *mut BackgroundWorkerHandle,
) -> *mut shm_mq_handle {
    let mqh = mcxt::alloc(std::mem::size_of::<shm_mq_handle>(), false).cast::<shm_mq_handle>();
    // SAFETY: fresh memory of the right size; CurrentMemoryContext is live.
    unsafe {
        mqh.write(shm_mq_handle {
            mqh_queue: mq,
            mqh_segment: seg,
            mqh_handle: handle,
            mqh_buffer: null_mut(),
            mqh_buflen: 0,
            mqh_consume_pending: 0,
            mqh_send_pending: 0,
            mqh_partial_bytes: 0,
            mqh_expected_bytes: 0,
            mqh_length_word_complete: false,
            mqh_counterparty_attached: false,
            mqh_checked: false,
            mqh_peer: 0,
            mqh_peer_pid: 0,
            mqh_context: mcxt::CurrentMemoryContext,
        });
        if !seg.is_null() {
            super::segment::on_detach(seg, Some(detach_callback), mq as Datum);
        }
    }
    mqh
}

/// `shm_mq_set_handle`.
///
/// # Safety
/// `mqh` live.
pub unsafe fn set_handle(mqh: *mut shm_mq_handle, handle: *mut BackgroundWorkerHandle) {
    // SAFETY: as the caller promises.
    unsafe { (*mqh).mqh_handle = handle };
}

/// `shm_mq_get_queue`.
///
/// # Safety
/// `mqh` live.
pub unsafe fn get_queue(mqh: *mut shm_mq_handle) -> *mut shm_mq {
    // SAFETY: as the caller promises.
    unsafe { (*mqh).mqh_queue }
}

/// Marks the queue detached and wakes the counterparty (what a detach and the segment's detach
/// callback do).
fn detach_internal(mq: *mut shm_mq) {
    let Some(seg) = crate::shmem::current() else {
        set_detached(mq);
        return;
    };
    let mine = me(seg);
    lock(mq);
    // SAFETY: fields of a live queue, under its mutex.
    let (sender, receiver) = unsafe {
        (
            word(&raw mut (*mq).mq_sender).load(Ordering::Relaxed),
            word(&raw mut (*mq).mq_receiver).load(Ordering::Relaxed),
        )
    };
    let victim = if sender == mine { receiver } else { sender };
    set_detached(mq);
    unlock(mq);
    set_latch_of(seg, victim);
}

/// `shm_mq_detach`: flushes what was written, marks the queue detached, wakes the counterparty,
/// and frees the handle.
///
/// # Safety
/// `mqh` live; it is freed.
pub unsafe fn detach(mqh: *mut shm_mq_handle) {
    // SAFETY: as the caller promises.
    unsafe {
        let mq = (*mqh).mqh_queue;
        if (*mqh).mqh_send_pending > 0 {
            inc_bytes_written(mq, (*mqh).mqh_send_pending);
            (*mqh).mqh_send_pending = 0;
        }
        detach_internal(mq);
        if !(*mqh).mqh_segment.is_null() {
            super::segment::cancel_on_detach(
                (*mqh).mqh_segment,
                Some(detach_callback),
                mq as Datum,
            );
        }
        if !(*mqh).mqh_buffer.is_null() {
            mcxt::free((*mqh).mqh_buffer.cast());
        }
        mcxt::free(mqh.cast());
    }
}

// ---- waiting ------------------------------------------------------------------------------------

/// Whether the worker behind `handle` has stopped (or the supervisor died).
fn handle_stopped(handle: *mut BackgroundWorkerHandle) -> bool {
    // SAFETY: handles are NULL or came from RegisterDynamicBackgroundWorker.
    match unsafe { handle.as_ref() } {
        None => false,
        Some(h) => {
            let (status, _) = crate::registry::dynamic::status(h.slot, h.generation);
            !matches!(
                status,
                BgwHandleStatus::BGWH_STARTED | BgwHandleStatus::BGWH_NOT_YET_STARTED
            )
        }
    }
}

/// `shm_mq_counterparty_gone`: detached, or its worker (by handle) stopped, or its process
/// exited; the queue is marked detached then, to make it official.
fn counterparty_gone(mq: *mut shm_mq, handle: *mut BackgroundWorkerHandle, side: Side) -> bool {
    if is_detached(mq) {
        return true;
    }
    let (n, pid) = party(mq, side);
    if handle_stopped(handle) || (n != 0 && peer::gone(pid)) {
        set_detached(mq);
        return true;
    }
    false
}

/// Sleeps until the latch is set, watching the counterparty process `pid` (0: none) and, with a
/// worker handle, waking at most `poll_ms` later; resets the latch, checks interrupts. A
/// counterparty seen gone marks the queue detached.
fn sleep(mq: *mut shm_mq, pid: i32, poll_ms: i64, wait_event: u32) {
    let fd = if pid > 0 { peer::watch(pid) } else { -1 };
    if fd < 0 && peer::gone(pid) {
        // Already gone (and reaped): nothing to wait for.
        set_detached(mq);
        return;
    }
    let mut events = WL_LATCH_SET | WL_EXIT_ON_PM_DEATH;
    if fd >= 0 {
        events |= WL_SOCKET_READABLE;
    }
    if poll_ms >= 0 {
        events |= WL_TIMEOUT;
    }
    let rc = crate::latch::wait_for_event(events, fd, poll_ms, wait_event);
    if rc & WL_SOCKET_READABLE != 0 {
        peer::forget(pid);
        set_detached(mq);
    }
    // SAFETY: MyLatch is this process's own latch.
    unsafe { crate::latch::reset_latch(crate::pg::MyLatch) };
    check_for_interrupts();
}

/// `shm_mq_wait_internal`: waits for the counterparty on `side` to attach; false when the queue
/// is detached or the worker behind `handle` stopped first.
fn wait_internal(mq: *mut shm_mq, side: Side, handle: *mut BackgroundWorkerHandle) -> bool {
    let mut poll_ms = 10;
    loop {
        let (n, _) = party(mq, side);
        if is_detached(mq) {
            return false;
        }
        if n != 0 {
            return true;
        }
        if handle_stopped(handle) {
            return false;
        }
        let poll = if handle.is_null() { -1 } else { poll_ms };
        sleep(mq, 0, poll, WAIT_EVENT_MQ_INTERNAL);
        poll_ms = (poll_ms * 2).min(100);
    }
}

fn inc_bytes_read(mq: *mut shm_mq, n: usize) {
    // Reads of the ring are done before the space is given back.
    fence(Ordering::Acquire);
    let br = bytes_read(mq);
    br.store(br.load(Ordering::Relaxed) + n as u64, Ordering::Release);
    // SAFETY: a field of a live queue (final once data has been read).
    let sender = unsafe { word(&raw mut (*mq).mq_sender).load(Ordering::Relaxed) };
    if let Some(seg) = crate::shmem::current() {
        set_latch_of(seg, sender);
    }
}

fn inc_bytes_written(mq: *mut shm_mq, n: usize) {
    let bw = bytes_written(mq);
    bw.store(bw.load(Ordering::Relaxed) + n as u64, Ordering::Release);
}

// ---- sending ------------------------------------------------------------------------------------

/// Checks (once per handle) that this process is the queue's `side`.
fn check_side(h: &mut shm_mq_handle, side: Side) {
    if h.mqh_checked {
        return;
    }
    let seg = main_segment();
    let (n, _) = party(h.mqh_queue, side);
    if n != me(seg) {
        let (what, role) = if side == Side::Sender {
            ("send to", "sender")
        } else {
            ("receive from", "receiver")
        };
        raise_fmt(
            ERROR,
            0,
            format_args!("cannot {what} a shared memory queue this process is not the {role} of"),
        );
    }
    h.mqh_checked = true;
}

/// The counterparty on `side` (PGPROC number + 1, pid); cached once it is known.
fn peer_of(h: &mut shm_mq_handle, side: Side) -> (i32, i32) {
    if h.mqh_peer != 0 {
        return (h.mqh_peer, h.mqh_peer_pid);
    }
    let (n, pid) = party(h.mqh_queue, side);
    if n != 0 {
        h.mqh_peer = n;
        h.mqh_peer_pid = pid;
    }
    (n, pid)
}

/// Writes up to `nbytes` of `data` into the ring; (result, bytes written).
///
/// # Safety
/// `data` points to `nbytes` readable bytes.
unsafe fn send_bytes(
    h: &mut shm_mq_handle,
    nbytes: usize,
    data: *const u8,
    nowait: bool,
) -> (shm_mq_result, usize) {
    let mq = h.mqh_queue;
    // SAFETY: a field of a live queue, final since creation.
    let ringsize = unsafe { (*mq).mq_ring_size };
    let mut sent = 0;
    while sent < nbytes {
        let rb = bytes_read(mq).load(Ordering::Acquire);
        let wb = bytes_written(mq).load(Ordering::Relaxed) + h.mqh_send_pending as u64;
        let used = wb.wrapping_sub(rb) as usize;
        let available = ringsize.saturating_sub(used).min(nbytes - sent);
        if is_detached(mq) {
            return (SHM_MQ_DETACHED, sent);
        }
        if available == 0 && !h.mqh_counterparty_attached {
            // Full, and the receiver is not known to be there: wait for it to attach.
            if nowait {
                if counterparty_gone(mq, h.mqh_handle, Side::Receiver) {
                    return (SHM_MQ_DETACHED, sent);
                }
                if peer_of(h, Side::Receiver).0 == 0 {
                    return (SHM_MQ_WOULD_BLOCK, sent);
                }
            } else if !wait_internal(mq, Side::Receiver, h.mqh_handle) {
                set_detached(mq);
                return (SHM_MQ_DETACHED, sent);
            }
            h.mqh_counterparty_attached = true;
        } else if available == 0 {
            // Full: publish what is pending, wake the receiver, wait for room.
            inc_bytes_written(mq, h.mqh_send_pending);
            h.mqh_send_pending = 0;
            let (receiver, receiver_pid) = peer_of(h, Side::Receiver);
            if let Some(seg) = crate::shmem::current() {
                set_latch_of(seg, receiver);
            }
            if nowait {
                return (SHM_MQ_WOULD_BLOCK, sent);
            }
            sleep(mq, receiver_pid, -1, WAIT_EVENT_MQ_SEND);
        } else {
            let offset = (wb % ringsize as u64) as usize;
            let now = available.min(ringsize - offset);
            // The ring's space was read as free (bytes_read) before it is written.
            fence(Ordering::SeqCst);
            // SAFETY: [offset, offset+now) lies in the ring and is not readable by the receiver
            // until bytes_written covers it; data has nbytes readable bytes.
            unsafe {
                let ring = (&raw mut (*mq).mq_ring).cast::<u8>();
                std::ptr::copy_nonoverlapping(data.add(sent), ring.add(offset), now);
            }
            sent += now;
            h.mqh_send_pending += maxalign(now);
        }
    }
    (SHM_MQ_SUCCESS, sent)
}

/// `shm_mq_sendv`: sends one message gathered from `iov`. With `nowait`, `SHM_MQ_WOULD_BLOCK`
/// means call again with the same message when the latch is set.
///
/// # Safety
/// `mqh` live; `iov` points to `iovcnt` pieces of readable bytes.
pub unsafe fn sendv(
    mqh: *mut shm_mq_handle,
    iov: *const shm_mq_iovec,
    iovcnt: i32,
    nowait: bool,
    force_flush: bool,
) -> shm_mq_result {
    // SAFETY: as the caller promises.
    let h = unsafe { &mut *mqh };
    let mq = h.mqh_queue;
    check_side(h, Side::Sender);
    let iovcnt = iovcnt.max(0) as usize;
    let iov: &[shm_mq_iovec] = if iovcnt == 0 || iov.is_null() {
        &[]
    } else {
        // SAFETY: as the caller promises.
        unsafe { std::slice::from_raw_parts(iov, iovcnt) }
    };
    let nbytes: usize = iov.iter().fold(0usize, |a, v| a.saturating_add(v.len));
    if nbytes > MAX_ALLOC_SIZE {
        raise_fmt(
            ERROR,
            make_sqlstate(b"54000"),
            format_args!("cannot send a message of size {nbytes} via shared memory queue"),
        );
    }

    // The length word first (it never splits: a Size is MAXALIGN'd).
    while !h.mqh_length_word_complete {
        let word_bytes = nbytes.to_ne_bytes();
        let done = h.mqh_partial_bytes;
        // SAFETY: a local array of SIZE_WORD bytes.
        let (res, n) =
            unsafe { send_bytes(h, SIZE_WORD - done, word_bytes.as_ptr().add(done), nowait) };
        if res == SHM_MQ_DETACHED {
            h.mqh_partial_bytes = 0;
            h.mqh_length_word_complete = false;
            return res;
        }
        h.mqh_partial_bytes += n;
        if h.mqh_partial_bytes >= SIZE_WORD {
            h.mqh_partial_bytes = 0;
            h.mqh_length_word_complete = true;
        }
        if res != SHM_MQ_SUCCESS {
            return res;
        }
    }

    // Then the bytes: every chunk but the last MAXALIGN'd, so small tails of a piece are
    // combined with the next piece's head through a buffer.
    let mut which = 0;
    let mut offset = h.mqh_partial_bytes;
    while h.mqh_partial_bytes < nbytes {
        if offset >= iov[which].len {
            offset -= iov[which].len;
            which += 1;
            if which >= iovcnt {
                break;
            }
            continue;
        }
        if which + 1 < iovcnt && offset + MAXIMUM_ALIGNOF > iov[which].len {
            let mut tmp = [0u8; MAXIMUM_ALIGNOF];
            let mut j = 0;
            loop {
                if offset < iov[which].len {
                    // SAFETY: offset is inside piece `which`.
                    tmp[j] = unsafe { *iov[which].data.add(offset) };
                    j += 1;
                    offset += 1;
                    if j == MAXIMUM_ALIGNOF {
                        break;
                    }
                } else {
                    offset -= iov[which].len;
                    which += 1;
                    if which >= iovcnt {
                        break;
                    }
                }
            }
            // SAFETY: j bytes of a local buffer.
            let (res, n) = unsafe { send_bytes(h, j, tmp.as_ptr(), nowait) };
            if res == SHM_MQ_DETACHED {
                h.mqh_partial_bytes = 0;
                h.mqh_length_word_complete = false;
                return res;
            }
            h.mqh_partial_bytes += n;
            if res != SHM_MQ_SUCCESS {
                return res;
            }
            continue;
        }
        let mut chunk = iov[which].len - offset;
        if which + 1 < iovcnt {
            chunk = maxalign_down(chunk);
        }
        // SAFETY: [offset, offset+chunk) lies in piece `which`.
        let (res, n) = unsafe { send_bytes(h, chunk, iov[which].data.add(offset), nowait) };
        if res == SHM_MQ_DETACHED {
            h.mqh_partial_bytes = 0;
            h.mqh_length_word_complete = false;
            return res;
        }
        h.mqh_partial_bytes += n;
        offset += n;
        if res != SHM_MQ_SUCCESS {
            return res;
        }
    }
    h.mqh_partial_bytes = 0;
    h.mqh_length_word_complete = false;

    if is_detached(mq) {
        return SHM_MQ_DETACHED;
    }
    let (receiver, _) = peer_of(h, Side::Receiver);
    if receiver != 0 {
        h.mqh_counterparty_attached = true;
    }
    // SAFETY: a field of a live queue, final since creation.
    let ringsize = unsafe { (*mq).mq_ring_size };
    if force_flush || h.mqh_send_pending > ringsize >> 2 {
        inc_bytes_written(mq, h.mqh_send_pending);
        h.mqh_send_pending = 0;
        if let Some(seg) = crate::shmem::current() {
            set_latch_of(seg, receiver);
        }
    }
    SHM_MQ_SUCCESS
}

// ---- receiving ----------------------------------------------------------------------------------

/// Waits until `needed` bytes can be read, or the data wraps the ring's end: (result, bytes
/// readable at the address, address).
fn receive_bytes(
    h: &mut shm_mq_handle,
    needed: usize,
    nowait: bool,
) -> (shm_mq_result, usize, *mut u8) {
    let mq = h.mqh_queue;
    // SAFETY: a field of a live queue, final since creation.
    let ringsize = unsafe { (*mq).mq_ring_size };
    loop {
        let written = bytes_written(mq).load(Ordering::Acquire);
        let read = bytes_read(mq).load(Ordering::Relaxed) + h.mqh_consume_pending as u64;
        let used = written.wrapping_sub(read) as usize;
        let offset = (read % ringsize as u64) as usize;
        if used >= needed || offset + used >= ringsize {
            // SAFETY: offset lies in the ring.
            let at = unsafe { (&raw mut (*mq).mq_ring).cast::<u8>().add(offset) };
            fence(Ordering::Acquire);
            return (SHM_MQ_SUCCESS, used.min(ringsize - offset), at);
        }
        if is_detached(mq) {
            // The sender may have written more just before detaching.
            fence(Ordering::Acquire);
            if written != bytes_written(mq).load(Ordering::Acquire) {
                continue;
            }
            return (SHM_MQ_DETACHED, 0, null_mut());
        }
        if h.mqh_consume_pending > 0 {
            inc_bytes_read(mq, h.mqh_consume_pending);
            h.mqh_consume_pending = 0;
        }
        if nowait {
            return (SHM_MQ_WOULD_BLOCK, 0, null_mut());
        }
        let (_, sender_pid) = peer_of(h, Side::Sender);
        sleep(mq, sender_pid, -1, WAIT_EVENT_MQ_RECEIVE);
    }
}

/// Makes sure the handle's buffer holds at least `n` bytes (a power of two, in its context).
///
/// # Safety
/// `h` a live handle.
unsafe fn ensure_buffer(h: &mut shm_mq_handle, n: usize) {
    if h.mqh_buflen >= n {
        return;
    }
    let new_len = n
        .max(MQH_INITIAL_BUFSIZE)
        .checked_next_power_of_two()
        .unwrap_or(MAX_ALLOC_SIZE)
        .min(MAX_ALLOC_SIZE);
    // SAFETY: the old buffer (if any) came from this allocator; the context is live.
    unsafe {
        if !h.mqh_buffer.is_null() {
            mcxt::free(h.mqh_buffer.cast());
            h.mqh_buffer = null_mut();
            h.mqh_buflen = 0;
        }
        h.mqh_buffer = mcxt::alloc_in(h.mqh_context, new_len, 0).cast();
    }
    h.mqh_buflen = new_len;
}

/// `shm_mq_receive`: the next message (`*nbytesp`, `*datap`), valid until the next receive on
/// this handle: a pointer into the ring when it lies there in one piece, else into the handle's
/// buffer.
///
/// # Safety
/// `mqh` live; `nbytesp` and `datap` writable.
pub unsafe fn receive(
    mqh: *mut shm_mq_handle,
    nbytesp: *mut usize,
    datap: *mut *mut u8,
    nowait: bool,
) -> shm_mq_result {
    // SAFETY: as the caller promises.
    let h = unsafe { &mut *mqh };
    let mq = h.mqh_queue;
    check_side(h, Side::Receiver);
    // SAFETY: a field of a live queue, final since creation.
    let ringsize = unsafe { (*mq).mq_ring_size };

    if !h.mqh_counterparty_attached {
        if nowait {
            // Gone is looked at before attached, so a sender that came and went fast is not
            // taken for one that never came.
            let gone = counterparty_gone(mq, h.mqh_handle, Side::Sender);
            if peer_of(h, Side::Sender).0 == 0 {
                return if gone {
                    SHM_MQ_DETACHED
                } else {
                    SHM_MQ_WOULD_BLOCK
                };
            }
        } else if !wait_internal(mq, Side::Sender, h.mqh_handle) && party(mq, Side::Sender).0 == 0 {
            set_detached(mq);
            return SHM_MQ_DETACHED;
        }
        h.mqh_counterparty_attached = true;
    }

    if h.mqh_consume_pending > ringsize / 4 {
        inc_bytes_read(mq, h.mqh_consume_pending);
        h.mqh_consume_pending = 0;
    }

    let mut rb;
    let mut raw;
    while !h.mqh_length_word_complete {
        let (res, n, at) = receive_bytes(h, SIZE_WORD - h.mqh_partial_bytes, nowait);
        if res != SHM_MQ_SUCCESS {
            return res;
        }
        rb = n;
        raw = at;
        if h.mqh_partial_bytes == 0 && rb >= SIZE_WORD {
            // SAFETY: SIZE_WORD readable bytes at `raw`, MAXALIGN'd in the ring.
            let nbytes = unsafe { raw.cast::<usize>().read() };
            let needed = maxalign(SIZE_WORD) + maxalign(nbytes);
            if rb >= needed {
                // The whole message lies here in one piece.
                h.mqh_consume_pending += needed;
                // SAFETY: writable, as the caller promises.
                unsafe {
                    *nbytesp = nbytes;
                    *datap = raw.add(maxalign(SIZE_WORD));
                }
                return SHM_MQ_SUCCESS;
            }
            h.mqh_expected_bytes = nbytes;
            h.mqh_length_word_complete = true;
            h.mqh_consume_pending += maxalign(SIZE_WORD);
        } else {
            // A length word split over the ring's end (only with words wider than the
            // alignment; kept for completeness).
            // SAFETY: h is live.
            unsafe { ensure_buffer(h, MQH_INITIAL_BUFSIZE) };
            let take = (SIZE_WORD - h.mqh_partial_bytes).min(rb);
            // SAFETY: `take` readable bytes at raw; the buffer holds at least SIZE_WORD.
            unsafe {
                std::ptr::copy_nonoverlapping(raw, h.mqh_buffer.add(h.mqh_partial_bytes), take)
            };
            h.mqh_partial_bytes += take;
            h.mqh_consume_pending += maxalign(take);
            if h.mqh_partial_bytes >= SIZE_WORD {
                // SAFETY: the buffer holds the whole word.
                h.mqh_expected_bytes = unsafe { h.mqh_buffer.cast::<usize>().read_unaligned() };
                h.mqh_length_word_complete = true;
                h.mqh_partial_bytes = 0;
            }
        }
    }
    let nbytes = h.mqh_expected_bytes;
    if nbytes > MAX_ALLOC_SIZE {
        raise_fmt(
            ERROR,
            make_sqlstate(b"54000"),
            format_args!("invalid message size {nbytes} in shared memory queue"),
        );
    }

    if h.mqh_partial_bytes == 0 {
        let (res, n, at) = receive_bytes(h, nbytes, nowait);
        if res != SHM_MQ_SUCCESS {
            return res;
        }
        rb = n;
        raw = at;
        if rb >= nbytes {
            h.mqh_length_word_complete = false;
            h.mqh_consume_pending += maxalign(nbytes);
            // SAFETY: writable, as the caller promises.
            unsafe {
                *nbytesp = nbytes;
                *datap = raw;
            }
            return SHM_MQ_SUCCESS;
        }
        // It wraps the ring (or is larger than it): reassembled in the buffer.
        // SAFETY: h is live.
        unsafe { ensure_buffer(h, nbytes) };
    } else {
        rb = 0;
        raw = null_mut();
    }
    loop {
        if rb > 0 {
            // SAFETY: rb readable bytes at raw; the buffer holds nbytes.
            unsafe {
                std::ptr::copy_nonoverlapping(raw, h.mqh_buffer.add(h.mqh_partial_bytes), rb)
            };
            h.mqh_partial_bytes += rb;
        }
        h.mqh_consume_pending += maxalign(rb);
        if h.mqh_partial_bytes >= nbytes {
            break;
        }
        let still = nbytes - h.mqh_partial_bytes;
        let (res, n, at) = receive_bytes(h, still, nowait);
        if res != SHM_MQ_SUCCESS {
            return res;
        }
        rb = n.min(still);
        raw = at;
    }
    // SAFETY: writable, as the caller promises.
    unsafe {
        *nbytesp = nbytes;
        *datap = h.mqh_buffer;
    }
    h.mqh_length_word_complete = false;
    h.mqh_partial_bytes = 0;
    SHM_MQ_SUCCESS
}

/// `shm_mq_wait_for_attach`: waits for the counterparty; `SHM_MQ_DETACHED` if it detached or
/// its worker stopped first.
///
/// # Safety
/// `mqh` live.
pub unsafe fn wait_for_attach(mqh: *mut shm_mq_handle) -> shm_mq_result {
    // SAFETY: as the caller promises.
    let h = unsafe { &mut *mqh };
    let mq = h.mqh_queue;
    let seg = main_segment();
    let side = if party(mq, Side::Receiver).0 == me(seg) {
        Side::Sender
    } else {
        Side::Receiver
    };
    if wait_internal(mq, side, h.mqh_handle) {
        SHM_MQ_SUCCESS
    } else {
        SHM_MQ_DETACHED
    }
}
