//! Dynamic shared areas (`utils/dsa.h`): memory shared by any number of processes, addressed by
//! `dsa_pointer` (segment number << 40 | offset) since every process maps the area's DSM
//! segments at its own addresses. PostgreSQL 15's API and lifetime rules: the area lives while a
//! process is attached to it or it is pinned; its segments are pinned DSM segments, unpinned
//! (and so destroyed) when the last reference goes.
//!
//! The allocator is our own: a buddy allocator over power-of-two regions, one per segment, with
//! one free list per size under the area's LWLock; a new segment (twice the last one, from
//! 1 MB) is made when no free block is big enough. Every block has a 16-byte header, so an
//! allocation takes the next power of two of its size plus 16 bytes. Segments are kept until the
//! area goes (`dsa_trim` gives nothing back).

use super::segment::{self, dsm_segment};
use crate::lwlock::{self, LWLock, LW_EXCLUSIVE};
use crate::pg::types::*;
use crate::pg::{make_sqlstate, raise_fmt};
use crate::resowner::{CurrentResourceOwner, ResourceOwner};
use std::ptr::null_mut;

/// A pointer into an area.
pub type dsa_pointer = u64;
pub const InvalidDsaPointer: dsa_pointer = 0;
/// An area's handle: its control segment's.
pub type dsa_handle = dsm_handle;

pub const DSA_ALLOC_HUGE: i32 = 0x01;
pub const DSA_ALLOC_NO_OOM: i32 = 0x02;
pub const DSA_ALLOC_ZERO: i32 = 0x04;

const OFFSET_BITS: u32 = 40;
const OFFSET_MASK: u64 = (1 << OFFSET_BITS) - 1;
const MAX_SEGMENTS: usize = 1024;
const MIN_ORDER: u32 = 5;
const MAX_ORDER: u32 = 39;
const NUM_ORDERS: usize = (MAX_ORDER - MIN_ORDER + 1) as usize;
const HEADER: u64 = 16;
const FIRST_REGION: u64 = 1 << 20;
const MAX_REGION: u64 = 1 << 30;
const MAGIC: u64 = 0x6473_615f_6267_7731; // "dsa_bgw1"
const BLOCK_USED: u32 = 0xB10C_0001;
const BLOCK_FREE: u32 = 0xB10C_0002;
/// PostgreSQL's `MaxAllocSize` and `MaxAllocHugeSize`.
const MAX_ALLOC: u64 = 0x3fff_ffff;
const MAX_ALLOC_HUGE: u64 = (usize::MAX / 2) as u64;

/// The area's shared state, at the start of its first segment (or of the caller's memory).
#[repr(C)]
struct Control {
    magic: u64,
    handle: dsm_handle,
    refcnt: i32,
    lock: LWLock,
    pinned: u32,
    nsegments: u32,
    size_limit: u64,
    total_size: u64,
    /// Per segment: its DSM handle (0 for memory the caller gave), where its region starts
    /// (offset in the segment) and the region's order.
    segment_handles: [dsm_handle; MAX_SEGMENTS],
    region_start: [u64; MAX_SEGMENTS],
    region_order: [u32; MAX_SEGMENTS],
    free_lists: [dsa_pointer; NUM_ORDERS],
}

/// A block's header; a free block's body holds its free-list links.
#[repr(C)]
struct Block {
    tag: u32,
    order: u32,
    _pad: u64,
}

#[repr(C)]
struct FreeLinks {
    next: dsa_pointer,
    prev: dsa_pointer,
}

struct SegmentMap {
    seg: *mut dsm_segment,
    base: *mut u8,
}

/// A process's view of an area (`dsa_area`). Opaque to modules.
pub struct dsa_area {
    control: *mut Control,
    mapping_pinned: bool,
    resowner: ResourceOwner,
    maps: [SegmentMap; MAX_SEGMENTS],
}

fn order_of(size: u64) -> u32 {
    let need = (size + HEADER).max(1 << MIN_ORDER);
    need.next_power_of_two().trailing_zeros()
}

fn dp(index: usize, offset: u64) -> dsa_pointer {
    ((index as u64) << OFFSET_BITS) | offset
}

/// `dsa_minimum_size`: the least memory `dsa_create_in_place` accepts.
pub fn minimum_size() -> usize {
    std::mem::size_of::<Control>().next_multiple_of(64)
}

fn ctl<'a>(area: &dsa_area) -> &'a mut Control {
    // SAFETY: the control of a live area; changed under its LWLock (refcnt/pinned/lists).
    unsafe { &mut *area.control }
}

fn lock(area: &dsa_area) {
    // SAFETY: the area's LWLock, in shared memory.
    unsafe { lwlock::acquire(&raw mut (*area.control).lock, LW_EXCLUSIVE) };
}

fn unlock(area: &dsa_area) {
    // SAFETY: as in lock.
    unsafe { lwlock::release(&raw mut (*area.control).lock) };
}

fn new_area(control: *mut Control) -> *mut dsa_area {
    let a = crate::mcxt::alloc(std::mem::size_of::<dsa_area>(), true).cast::<dsa_area>();
    // SAFETY: fresh zeroed memory of the right size; every field is valid as zero, then set.
    unsafe {
        (*a).control = control;
        (*a).mapping_pinned = false;
        (*a).resowner = CurrentResourceOwner;
    }
    a
}

/// Sets up the control and segment 0's region in `size` bytes at `place`.
///
/// # Safety
/// `place` points to `size` writable bytes, 8-aligned.
unsafe fn init_control(place: *mut u8, size: usize, tranche_id: i32, handle: dsm_handle) {
    let control = place.cast::<Control>();
    let start = minimum_size() as u64;
    // SAFETY: as the caller promises (size >= minimum_size, checked by the callers).
    unsafe {
        std::ptr::write_bytes(place, 0, std::mem::size_of::<Control>());
        (*control).magic = MAGIC;
        (*control).handle = handle;
        (*control).refcnt = 1;
        lwlock::initialize(&raw mut (*control).lock, tranche_id as u16);
        (*control).nsegments = 1;
        (*control).size_limit = u64::MAX;
        (*control).total_size = size as u64;
        (*control).segment_handles[0] = handle;
        (*control).region_start[0] = start;
        let room = (size as u64).saturating_sub(start);
        let order = if room >= 1 << MIN_ORDER {
            (63 - room.leading_zeros()).min(MAX_ORDER)
        } else {
            0
        };
        (*control).region_order[0] = order;
    }
}

/// Puts segment `index`'s whole region on the free lists (the lock held, or not shared yet).
fn add_region(area: &mut dsa_area, index: usize) {
    let c = ctl(area);
    let order = c.region_order[index];
    if order < MIN_ORDER {
        return;
    }
    let start = c.region_start[index];
    push_free(area, index, start, order);
}

fn block_at(area: &dsa_area, index: usize, offset: u64) -> *mut Block {
    // SAFETY: offset lies in segment index's mapping (a block of its region).
    unsafe { area.maps[index].base.add(offset as usize).cast() }
}

fn links_at(area: &dsa_area, p: dsa_pointer) -> *mut FreeLinks {
    let (index, offset) = ((p >> OFFSET_BITS) as usize, p & OFFSET_MASK);
    // SAFETY: a free block's body, after its header.
    unsafe {
        block_at(area, index, offset)
            .cast::<u8>()
            .add(HEADER as usize)
            .cast()
    }
}

fn push_free(area: &mut dsa_area, index: usize, offset: u64, order: u32) {
    let b = block_at(area, index, offset);
    let p = dp(index, offset);
    let slot = (order - MIN_ORDER) as usize;
    let head = ctl(area).free_lists[slot];
    // SAFETY: a block of a mapped region, ours under the lock.
    unsafe {
        (*b).tag = BLOCK_FREE;
        (*b).order = order;
        let l = links_at(area, p);
        (*l).next = head;
        (*l).prev = InvalidDsaPointer;
        if head != InvalidDsaPointer {
            ensure_mapped(area, (head >> OFFSET_BITS) as usize);
            (*links_at(area, head)).prev = p;
        }
    }
    ctl(area).free_lists[slot] = p;
}

fn unlink_free(area: &mut dsa_area, p: dsa_pointer, order: u32) {
    // SAFETY: a free block of a mapped region, under the lock.
    let (next, prev) = unsafe {
        let l = links_at(area, p);
        ((*l).next, (*l).prev)
    };
    if prev == InvalidDsaPointer {
        ctl(area).free_lists[(order - MIN_ORDER) as usize] = next;
    } else {
        ensure_mapped(area, (prev >> OFFSET_BITS) as usize);
        // SAFETY: as above.
        unsafe { (*links_at(area, prev)).next = next };
    }
    if next != InvalidDsaPointer {
        ensure_mapped(area, (next >> OFFSET_BITS) as usize);
        // SAFETY: as above.
        unsafe { (*links_at(area, next)).prev = prev };
    }
}

/// Maps segment `index` in this process if it is not yet (attaching its DSM segment).
fn ensure_mapped(area: &mut dsa_area, index: usize) {
    if !area.maps[index].base.is_null() {
        return;
    }
    let handle = ctl(area).segment_handles[index];
    // SAFETY: swapping this process's current owner around the attach, as PostgreSQL does.
    let saved = unsafe { CurrentResourceOwner };
    // SAFETY: as above.
    unsafe { CurrentResourceOwner = area.resowner };
    let seg = segment::attach(handle);
    // SAFETY: as above.
    unsafe { CurrentResourceOwner = saved };
    if seg.is_null() {
        raise_fmt(
            ERROR,
            0,
            format_args!("dsa_area could not attach to segment"),
        );
    }
    if area.mapping_pinned {
        // SAFETY: the live segment just attached.
        unsafe { segment::pin_mapping(seg) };
    }
    area.maps[index] = SegmentMap {
        seg,
        // SAFETY: as above.
        base: unsafe { segment::address(seg) },
    };
}

/// Takes a free block of at least `order`, splitting a bigger one; None when there is none.
fn take_block(area: &mut dsa_area, order: u32) -> Option<dsa_pointer> {
    let found =
        (order..=MAX_ORDER).find(|&o| ctl(area).free_lists[(o - MIN_ORDER) as usize] != 0)?;
    let p = ctl(area).free_lists[(found - MIN_ORDER) as usize];
    let index = (p >> OFFSET_BITS) as usize;
    ensure_mapped(area, index);
    unlink_free(area, p, found);
    let offset = p & OFFSET_MASK;
    let mut o = found;
    while o > order {
        o -= 1;
        push_free(area, index, offset + (1 << o), o);
    }
    let b = block_at(area, index, offset);
    // SAFETY: the block taken, ours under the lock.
    unsafe {
        (*b).tag = BLOCK_USED;
        (*b).order = order;
    }
    Some(p)
}

/// Makes a new segment whose region holds at least a block of `order`; false when the size
/// limit or the segment count forbids it, or no DSM segment could be made.
fn add_segment(area: &mut dsa_area, order: u32) -> bool {
    let c = ctl(area);
    let index = c.nsegments as usize;
    if index >= MAX_SEGMENTS {
        return false;
    }
    let grown = (FIRST_REGION << (index.saturating_sub(1)).min(10)).min(MAX_REGION);
    let region = grown.max(1 << order);
    let size = region + 64;
    if c.total_size.saturating_add(size) > c.size_limit {
        return false;
    }
    // SAFETY: as in ensure_mapped.
    let saved = unsafe { CurrentResourceOwner };
    // SAFETY: as above.
    unsafe { CurrentResourceOwner = area.resowner };
    let seg = segment::create(size as usize, DSM_CREATE_NULL_IF_MAXSEGMENTS);
    // SAFETY: as above.
    unsafe { CurrentResourceOwner = saved };
    if seg.is_null() {
        return false;
    }
    // The segment stays until the area's last reference goes, attached or not.
    // SAFETY: the live segment just made.
    unsafe {
        segment::pin_segment(seg);
        if area.mapping_pinned {
            segment::pin_mapping(seg);
        }
    }
    let c = ctl(area);
    // SAFETY: as above.
    c.segment_handles[index] = unsafe { segment::handle(seg) };
    c.region_start[index] = 64;
    c.region_order[index] = region.trailing_zeros();
    c.total_size += size;
    c.nsegments += 1;
    area.maps[index] = SegmentMap {
        seg,
        // SAFETY: as above.
        base: unsafe { segment::address(seg) },
    };
    add_region(area, index);
    true
}

/// `dsa_create`: a new area in a new DSM segment, attached in this process.
pub fn create(tranche_id: i32) -> *mut dsa_area {
    let size = minimum_size() + FIRST_REGION as usize;
    let seg = segment::create(size, 0);
    // SAFETY: the live segment just made; its memory is ours to lay out.
    unsafe {
        segment::pin_segment(seg);
        let place = segment::address(seg);
        init_control(place, size, tranche_id, segment::handle(seg));
        let area = new_area(place.cast());
        (*area).maps[0] = SegmentMap { seg, base: place };
        add_region(&mut *area, 0);
        segment::on_detach(seg, Some(on_dsm_detach_release), place as Datum);
        area
    }
}

/// `dsa_create_in_place`: an area whose control (and first region) is `size` bytes at `place`;
/// with `seg`, the area's reference is dropped when that segment is detached.
///
/// # Safety
/// `place` points to `size` writable bytes, 8-aligned, shared by the processes that use it.
pub unsafe fn create_in_place(
    place: *mut u8,
    size: usize,
    tranche_id: i32,
    seg: *mut dsm_segment,
) -> *mut dsa_area {
    if size < minimum_size() {
        raise_fmt(
            ERROR,
            0,
            format_args!(
                "dsa_create_in_place: {size} bytes is less than dsa_minimum_size() ({})",
                minimum_size()
            ),
        );
    }
    // SAFETY: as the caller promises.
    unsafe {
        init_control(place, size, tranche_id, DSM_HANDLE_INVALID);
        let area = new_area(place.cast());
        (*area).maps[0] = SegmentMap {
            seg: null_mut(),
            base: place,
        };
        add_region(&mut *area, 0);
        if !seg.is_null() {
            segment::on_detach(seg, Some(on_dsm_detach_release), place as Datum);
        }
        area
    }
}

fn check_control(control: *mut Control) {
    // SAFETY: at least a control's worth of readable memory, as the callers promise.
    if unsafe { (*control).magic } != MAGIC {
        raise_fmt(
            ERROR,
            0,
            format_args!("dsa_area: no dynamic shared area at the given place (bad magic)"),
        );
    }
}

/// Counts one more process attached (`dsa_attach*`); ERROR when the area is going away.
fn add_reference(area: &dsa_area) {
    lock(area);
    let c = ctl(area);
    let ok = c.refcnt > 0;
    if ok {
        c.refcnt += 1;
    }
    unlock(area);
    if !ok {
        raise_fmt(
            ERROR,
            make_sqlstate(b"55000"),
            format_args!("could not attach to dynamic shared area"),
        );
    }
}

/// `dsa_attach`: the area whose handle is `handle`.
pub fn attach(handle: dsa_handle) -> *mut dsa_area {
    let seg = segment::attach(handle);
    if seg.is_null() {
        raise_fmt(
            ERROR,
            make_sqlstate(b"55000"),
            format_args!("could not attach to dynamic shared area"),
        );
    }
    // SAFETY: the live segment just attached; the area's control is at its start.
    unsafe {
        let place = segment::address(seg);
        check_control(place.cast());
        let area = new_area(place.cast());
        (*area).maps[0] = SegmentMap { seg, base: place };
        add_reference(&*area);
        segment::on_detach(seg, Some(on_dsm_detach_release), place as Datum);
        area
    }
}

/// `dsa_attach_in_place`.
///
/// # Safety
/// `place` is where `create_in_place` made an area; `seg` NULL or live.
pub unsafe fn attach_in_place(place: *mut u8, seg: *mut dsm_segment) -> *mut dsa_area {
    check_control(place.cast());
    let area = new_area(place.cast());
    // SAFETY: the area just made.
    unsafe {
        (*area).maps[0] = SegmentMap {
            seg: null_mut(),
            base: place,
        };
        add_reference(&*area);
        if !seg.is_null() {
            segment::on_detach(seg, Some(on_dsm_detach_release), place as Datum);
        }
    }
    area
}

/// `dsa_release_in_place`: drops one reference to the area at `place`; the last unpins its
/// segments, so they go once nobody maps them.
///
/// # Safety
/// `place` is an area's control.
pub unsafe fn release_in_place(place: *mut u8) {
    let control = place.cast::<Control>();
    check_control(control);
    // SAFETY: the area's lock, in shared memory.
    unsafe { lwlock::acquire(&raw mut (*control).lock, LW_EXCLUSIVE) };
    // SAFETY: as above, under the lock.
    let last = unsafe {
        (*control).refcnt -= 1;
        (*control).refcnt == 0
    };
    // SAFETY: as above.
    let n = unsafe { (*control).nsegments as usize }.min(MAX_SEGMENTS);
    let mut handles = [DSM_HANDLE_INVALID; 64];
    let mut pending = 0;
    // SAFETY: as above.
    unsafe { lwlock::release(&raw mut (*control).lock) };
    if !last {
        return;
    }
    for i in 0..n {
        // SAFETY: the handles were set when each segment was made and never change.
        let h = unsafe { (*control).segment_handles[i] };
        if h == DSM_HANDLE_INVALID {
            continue;
        }
        if pending == handles.len() {
            for h in &handles[..pending] {
                segment::unpin_segment(*h);
            }
            pending = 0;
        }
        handles[pending] = h;
        pending += 1;
    }
    for h in &handles[..pending] {
        segment::unpin_segment(*h);
    }
}

extern "C" fn on_dsm_detach_release(_seg: *mut dsm_segment, place: Datum) {
    // SAFETY: registered with an area's control address.
    unsafe { release_in_place(place as *mut u8) };
}

/// `dsa_on_dsm_detach_release_in_place`.
///
/// # Safety
/// `place` is an area's control.
pub unsafe fn on_dsm_detach_release_in_place(place: Datum) {
    // SAFETY: as the caller promises.
    unsafe { release_in_place(place as *mut u8) };
}

/// `dsa_pin_mapping`: this process keeps every segment of the area mapped (no owner).
///
/// # Safety
/// `area` live.
pub unsafe fn pin_mapping(area: *mut dsa_area) {
    // SAFETY: as the caller promises.
    let a = unsafe { &mut *area };
    a.mapping_pinned = true;
    for m in &a.maps {
        if !m.seg.is_null() {
            // SAFETY: a live segment this area attached.
            unsafe { segment::pin_mapping(m.seg) };
        }
    }
}

/// `dsa_detach`: lets go of the area in this process (its segments detached; the control
/// segment's detach drops the reference).
///
/// # Safety
/// `area` live; freed.
pub unsafe fn detach(area: *mut dsa_area) {
    // SAFETY: as the caller promises; segment 0 goes last, since its detach callback reads the
    // control.
    unsafe {
        for i in (0..MAX_SEGMENTS).rev() {
            let s = (*area).maps[i].seg;
            if !s.is_null() {
                (*area).maps[i].seg = null_mut();
                segment::detach(s);
            }
        }
        crate::mcxt::free(area.cast());
    }
}

/// `dsa_pin`: the area stays with nobody attached, until `dsa_unpin`.
///
/// # Safety
/// `area` live.
pub unsafe fn pin(area: *mut dsa_area) {
    // SAFETY: as the caller promises.
    let a = unsafe { &*area };
    lock(a);
    let c = ctl(a);
    let already = c.pinned != 0;
    if !already {
        c.pinned = 1;
        c.refcnt += 1;
    }
    unlock(a);
    if already {
        raise_fmt(ERROR, 0, format_args!("dsa_area already pinned"));
    }
}

/// `dsa_unpin`.
///
/// # Safety
/// `area` live.
pub unsafe fn unpin(area: *mut dsa_area) {
    // SAFETY: as the caller promises.
    let a = unsafe { &*area };
    lock(a);
    let c = ctl(a);
    let pinned = c.pinned != 0;
    if pinned {
        c.pinned = 0;
        c.refcnt -= 1;
    }
    unlock(a);
    if !pinned {
        raise_fmt(ERROR, 0, format_args!("dsa_area not pinned"));
    }
}

/// `dsa_set_size_limit`.
///
/// # Safety
/// `area` live.
pub unsafe fn set_size_limit(area: *mut dsa_area, limit: usize) {
    // SAFETY: as the caller promises.
    let a = unsafe { &*area };
    lock(a);
    ctl(a).size_limit = limit as u64;
    unlock(a);
}

/// `dsa_get_handle`.
///
/// # Safety
/// `area` live.
pub unsafe fn get_handle(area: *mut dsa_area) -> dsa_handle {
    // SAFETY: as the caller promises.
    ctl(unsafe { &*area }).handle
}

/// `dsa_allocate_extended`.
///
/// # Safety
/// `area` live.
pub unsafe fn allocate(area: *mut dsa_area, size: usize, flags: i32) -> dsa_pointer {
    let size = size as u64;
    let limit = if flags & DSA_ALLOC_HUGE != 0 {
        MAX_ALLOC_HUGE
    } else {
        MAX_ALLOC
    };
    if size > limit {
        raise_fmt(
            ERROR,
            0,
            format_args!("invalid DSA memory alloc request size {size}"),
        );
    }
    let order = order_of(size);
    // SAFETY: as the caller promises.
    let a = unsafe { &mut *area };
    let p = if order > MAX_ORDER {
        None
    } else {
        lock(a);
        let mut p = take_block(a, order);
        if p.is_none() && add_segment(a, order) {
            p = take_block(a, order);
        }
        unlock(a);
        p
    };
    let Some(p) = p else {
        if flags & DSA_ALLOC_NO_OOM != 0 {
            return InvalidDsaPointer;
        }
        crate::pg::report_detail(
            ERROR,
            make_sqlstate(b"53200"),
            "out of memory".into(),
            Some(format!("Failed on DSA request of size {size}.")),
            None,
        );
        unreachable!("an ERROR does not return");
    };
    let body = p + HEADER;
    if flags & DSA_ALLOC_ZERO != 0 {
        // SAFETY: the block's body has at least `size` bytes.
        unsafe { std::ptr::write_bytes(get_address(area, body), 0, size as usize) };
    }
    body
}

/// `dsa_free`.
///
/// # Safety
/// `area` live; `p` from `allocate` on it and not freed.
pub unsafe fn free(area: *mut dsa_area, p: dsa_pointer) {
    // SAFETY: as the caller promises.
    let a = unsafe { &mut *area };
    let index = (p >> OFFSET_BITS) as usize;
    let offset = (p & OFFSET_MASK).wrapping_sub(HEADER);
    if index >= MAX_SEGMENTS || index >= ctl(a).nsegments as usize {
        raise_fmt(
            ERROR,
            0,
            format_args!("dsa_free: invalid dsa_pointer {p:#x}"),
        );
    }
    lock(a);
    ensure_mapped(a, index);
    let b = block_at(a, index, offset);
    // SAFETY: a block header inside the segment's region, under the lock.
    let (tag, mut order) = unsafe { ((*b).tag, (*b).order) };
    if tag != BLOCK_USED {
        unlock(a);
        raise_fmt(
            ERROR,
            0,
            format_args!("dsa_free: {p:#x} is not an allocated block (freed twice?)"),
        );
    }
    let start = ctl(a).region_start[index];
    let region_order = ctl(a).region_order[index];
    let mut at = offset;
    while order < region_order {
        let buddy = start + ((at - start) ^ (1 << order));
        let bb = block_at(a, index, buddy);
        // SAFETY: the buddy lies inside the same region.
        let (btag, border) = unsafe { ((*bb).tag, (*bb).order) };
        if btag != BLOCK_FREE || border != order {
            break;
        }
        unlink_free(a, dp(index, buddy), order);
        // SAFETY: as above.
        unsafe { (*bb).tag = 0 };
        at = at.min(buddy);
        order += 1;
    }
    if at != offset {
        // SAFETY: as above.
        unsafe { (*b).tag = 0 };
    }
    push_free(a, index, at, order);
    unlock(a);
}

/// `dsa_get_address`: where `p` is in this process (mapping its segment if needed).
///
/// # Safety
/// `area` live; `p` a pointer of it or invalid.
pub unsafe fn get_address(area: *mut dsa_area, p: dsa_pointer) -> *mut u8 {
    if p == InvalidDsaPointer {
        return null_mut();
    }
    // SAFETY: as the caller promises.
    let a = unsafe { &mut *area };
    let index = (p >> OFFSET_BITS) as usize;
    if index >= MAX_SEGMENTS {
        raise_fmt(
            ERROR,
            0,
            format_args!("dsa_get_address: invalid dsa_pointer {p:#x}"),
        );
    }
    if a.maps[index].base.is_null() {
        ensure_mapped(a, index);
    }
    // SAFETY: the offset lies in the segment's mapping.
    unsafe { a.maps[index].base.add((p & OFFSET_MASK) as usize) }
}

/// `dsa_dump`: one LOG line about the area.
///
/// # Safety
/// `area` live.
pub unsafe fn dump(area: *mut dsa_area) {
    // SAFETY: as the caller promises.
    let a = unsafe { &*area };
    lock(a);
    let c = ctl(a);
    let (n, total, refcnt, pinned) = (c.nsegments, c.total_size, c.refcnt, c.pinned);
    unlock(a);
    crate::pg::report_fmt(
        LOG,
        0,
        format_args!(
            "dsa_area handle {}: {n} segments, {total} bytes, refcnt {refcnt}, pinned {}",
            c.handle,
            pinned != 0
        ),
    );
}
