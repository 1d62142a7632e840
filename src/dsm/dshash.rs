//! Concurrent hash tables in a dynamic shared area (`lib/dshash.h`), with PostgreSQL 15's API
//! and locking rules: 128 partitions, each under an LWLock; `dshash_find` and
//! `dshash_find_or_insert` return an entry with its partition locked until
//! `dshash_release_lock`; the bucket array doubles (all partitions locked exclusively) when a
//! partition holds too many entries. Buckets are chosen by a hash value's high bits, so a
//! bucket belongs to one partition at every size. Everything shared is a `dsa_pointer`.

use super::dsa::{self, dsa_area, dsa_pointer, InvalidDsaPointer};
use crate::lwlock::{self, LWLock, LW_EXCLUSIVE, LW_SHARED};
use crate::pg::raise_fmt;
use crate::pg::types::*;
use libc::{c_int, c_void};
use std::ptr::null_mut;

pub type dshash_hash = u32;
pub type dshash_compare_function = Option<
    unsafe extern "C" fn(
        a: *const c_void,
        b: *const c_void,
        size: usize,
        arg: *mut c_void,
    ) -> c_int,
>;
pub type dshash_hash_function =
    Option<unsafe extern "C" fn(v: *const c_void, size: usize, arg: *mut c_void) -> dshash_hash>;
pub type dshash_table_handle = dsa_pointer;

/// `dshash_parameters`, PostgreSQL 15's layout.
#[repr(C)]
pub struct dshash_parameters {
    pub key_size: usize,
    pub entry_size: usize,
    pub compare_function: dshash_compare_function,
    pub hash_function: dshash_hash_function,
    pub tranche_id: c_int,
}

/// A scan (`dshash_seq_status`), PostgreSQL 15's layout: modules keep it on their stack.
#[repr(C)]
pub struct dshash_seq_status {
    pub hash_table: *mut dshash_table,
    pub curbucket: c_int,
    pub nbuckets: c_int,
    pub curitem: *mut dshash_table_item,
    pub pnextitem: dsa_pointer,
    pub curpartition: c_int,
    pub exclusive: bool,
}

/// An entry's header in the area; the entry follows it. Opaque to modules.
#[repr(C)]
pub struct dshash_table_item {
    next: dsa_pointer,
    hash: dshash_hash,
    _pad: u32,
}

const PARTITION_BITS: u32 = 7;
const PARTITIONS: usize = 1 << PARTITION_BITS;
const ITEM_HEADER: usize = 16;
const MAGIC: u32 = 0x7573_6864;

#[repr(C)]
struct Partition {
    lock: LWLock,
    count: u64,
}

#[repr(C)]
struct Control {
    handle: dsa_pointer,
    magic: u32,
    size_log2: u32,
    buckets: dsa_pointer,
    partitions: [Partition; PARTITIONS],
}

/// A process's view of a table. Opaque to modules.
pub struct dshash_table {
    area: *mut dsa_area,
    params: dshash_parameters,
    arg: *mut c_void,
    control: *mut Control,
    /// Which partitions this process holds, and how (for `release_lock` and scans).
    held: [u8; PARTITIONS],
}

const HELD_SHARED: u8 = 1;
const HELD_EXCLUSIVE: u8 = 2;

fn partition_of(hash: dshash_hash) -> usize {
    (hash >> (32 - PARTITION_BITS)) as usize
}

fn bucket_of(hash: dshash_hash, size_log2: u32) -> usize {
    (hash >> (32 - size_log2)) as usize
}

fn ctl<'a>(t: &dshash_table) -> &'a mut Control {
    // SAFETY: the control of a live table, in the area; changed under its partition locks.
    unsafe { &mut *t.control }
}

fn addr<T>(t: &dshash_table, p: dsa_pointer) -> *mut T {
    // SAFETY: a pointer of this table's area.
    unsafe { dsa::get_address(t.area, p) }.cast()
}

fn lock_partition(t: &mut dshash_table, i: usize, exclusive: bool) {
    let mode = if exclusive { LW_EXCLUSIVE } else { LW_SHARED };
    // SAFETY: the partition's LWLock, in the area.
    unsafe { lwlock::acquire(&raw mut (*t.control).partitions[i].lock, mode) };
    t.held[i] = if exclusive {
        HELD_EXCLUSIVE
    } else {
        HELD_SHARED
    };
}

fn unlock_partition(t: &mut dshash_table, i: usize) {
    t.held[i] = 0;
    // SAFETY: as in lock_partition; this process holds it.
    unsafe { lwlock::release(&raw mut (*t.control).partitions[i].lock) };
}

fn hash_key(t: &dshash_table, key: *const c_void) -> dshash_hash {
    match t.params.hash_function {
        // SAFETY: the module's hash function on a key of the table's size.
        Some(f) => unsafe { f(key, t.params.key_size, t.arg) },
        None => dshash_memhash_impl(key, t.params.key_size),
    }
}

fn keys_equal(t: &dshash_table, a: *const c_void, b: *const c_void) -> bool {
    match t.params.compare_function {
        // SAFETY: the module's compare function on two keys of the table's size.
        Some(f) => (unsafe { f(a, b, t.params.key_size, t.arg) }) == 0,
        // SAFETY: both keys have key_size readable bytes.
        None => (unsafe { libc::memcmp(a, b, t.params.key_size) }) == 0,
    }
}

fn entry_of(item: *mut dshash_table_item) -> *mut c_void {
    // SAFETY: the entry follows the item's header.
    unsafe { item.cast::<u8>().add(ITEM_HEADER).cast() }
}

fn item_of(entry: *mut c_void) -> *mut dshash_table_item {
    // SAFETY: an entry is preceded by its header.
    unsafe { entry.cast::<u8>().sub(ITEM_HEADER).cast() }
}

/// `dshash_memhash`.
pub fn dshash_memhash_impl(v: *const c_void, size: usize) -> dshash_hash {
    // SAFETY: v has size readable bytes.
    super::hashfn::hash_bytes(unsafe { std::slice::from_raw_parts(v.cast::<u8>(), size) })
}

fn new_table(
    area: *mut dsa_area,
    params: &dshash_parameters,
    arg: *mut c_void,
    control: *mut Control,
) -> *mut dshash_table {
    let t = crate::mcxt::alloc(std::mem::size_of::<dshash_table>(), true).cast::<dshash_table>();
    // SAFETY: fresh zeroed memory of the right size, filled in here.
    unsafe {
        (*t).area = area;
        (*t).params = dshash_parameters {
            key_size: params.key_size,
            entry_size: params.entry_size,
            compare_function: params.compare_function,
            hash_function: params.hash_function,
            tranche_id: params.tranche_id,
        };
        (*t).arg = arg;
        (*t).control = control;
    }
    t
}

/// `dshash_create`: a new table in `area`.
///
/// # Safety
/// `area` live; `params` valid.
pub unsafe fn create(
    area: *mut dsa_area,
    params: &dshash_parameters,
    arg: *mut c_void,
) -> *mut dshash_table {
    if params.entry_size < params.key_size || params.key_size == 0 {
        raise_fmt(
            ERROR,
            0,
            format_args!("dshash_create: entry_size must be at least key_size, which must be > 0"),
        );
    }
    // SAFETY: as the caller promises.
    unsafe {
        let cp = dsa::allocate(area, std::mem::size_of::<Control>(), DSA_ZERO);
        let control = dsa::get_address(area, cp).cast::<Control>();
        (*control).handle = cp;
        (*control).magic = MAGIC;
        (*control).size_log2 = PARTITION_BITS;
        for p in &mut (*control).partitions {
            lwlock::initialize(&raw mut p.lock, params.tranche_id as u16);
            p.count = 0;
        }
        (*control).buckets = dsa::allocate(
            area,
            std::mem::size_of::<dsa_pointer>() << PARTITION_BITS,
            DSA_ZERO,
        );
        new_table(area, params, arg, control)
    }
}

const DSA_ZERO: i32 = dsa::DSA_ALLOC_ZERO;

/// `dshash_attach`: the table `handle` in `area`.
///
/// # Safety
/// `area` live; `params` valid.
pub unsafe fn attach(
    area: *mut dsa_area,
    params: &dshash_parameters,
    handle: dshash_table_handle,
    arg: *mut c_void,
) -> *mut dshash_table {
    // SAFETY: as the caller promises.
    let control = unsafe { dsa::get_address(area, handle) }.cast::<Control>();
    // SAFETY: the address of an area pointer.
    if control.is_null() || unsafe { (*control).magic } != MAGIC {
        raise_fmt(
            ERROR,
            0,
            format_args!("dshash_attach: no hash table at the given handle"),
        );
    }
    new_table(area, params, arg, control)
}

/// `dshash_detach`.
///
/// # Safety
/// `t` live, holding no lock; freed.
pub unsafe fn detach(t: *mut dshash_table) {
    // SAFETY: as the caller promises.
    unsafe { crate::mcxt::free(t.cast()) };
}

/// `dshash_get_hash_table_handle`.
///
/// # Safety
/// `t` live.
pub unsafe fn get_handle(t: *mut dshash_table) -> dshash_table_handle {
    // SAFETY: as the caller promises.
    ctl(unsafe { &*t }).handle
}

/// `dshash_destroy`: frees every entry and the table (nobody else may use it any more).
///
/// # Safety
/// `t` live; freed.
pub unsafe fn destroy(t: *mut dshash_table) {
    // SAFETY: as the caller promises.
    let tb = unsafe { &mut *t };
    let c = ctl(tb);
    let n = 1usize << c.size_log2;
    let buckets: *mut dsa_pointer = addr(tb, c.buckets);
    for b in 0..n {
        // SAFETY: the bucket array has n entries.
        let mut p = unsafe { *buckets.add(b) };
        while p != InvalidDsaPointer {
            let item: *mut dshash_table_item = addr(tb, p);
            // SAFETY: a live item of this table.
            let next = unsafe { (*item).next };
            // SAFETY: p was allocated in this area.
            unsafe { dsa::free(tb.area, p) };
            p = next;
        }
    }
    let (bp, cp) = (c.buckets, c.handle);
    // SAFETY: as above; the control's magic goes first so a late attach fails cleanly.
    unsafe {
        (*tb.control).magic = 0;
        dsa::free(tb.area, bp);
        dsa::free(tb.area, cp);
        crate::mcxt::free(t.cast());
    }
}

/// Finds `key` in its bucket (the partition locked by the caller).
fn find_in_bucket(
    t: &dshash_table,
    key: *const c_void,
    hash: dshash_hash,
) -> (*mut dsa_pointer, *mut dshash_table_item) {
    let c = ctl(t);
    let buckets: *mut dsa_pointer = addr(t, c.buckets);
    // SAFETY: the bucket index is below the array's size.
    let mut link = unsafe { buckets.add(bucket_of(hash, c.size_log2)) };
    loop {
        // SAFETY: a bucket slot or an item's next field.
        let p = unsafe { *link };
        if p == InvalidDsaPointer {
            return (link, null_mut());
        }
        let item: *mut dshash_table_item = addr(t, p);
        // SAFETY: a live item.
        if unsafe { (*item).hash } == hash && keys_equal(t, entry_of(item), key) {
            return (link, item);
        }
        // SAFETY: as above.
        link = unsafe { &raw mut (*item).next };
    }
}

/// `dshash_find`: the entry for `key` with its partition locked (shared or exclusive), or NULL
/// (nothing locked).
///
/// # Safety
/// `t` live; `key` a key of its size.
pub unsafe fn find(t: *mut dshash_table, key: *const c_void, exclusive: bool) -> *mut c_void {
    // SAFETY: as the caller promises.
    let tb = unsafe { &mut *t };
    let hash = hash_key(tb, key);
    let part = partition_of(hash);
    lock_partition(tb, part, exclusive);
    let (_, item) = find_in_bucket(tb, key, hash);
    if item.is_null() {
        unlock_partition(tb, part);
        return null_mut();
    }
    entry_of(item)
}

/// `dshash_find_or_insert`: the entry for `key` (a new one, zeroed but for its key, if there
/// was none), its partition locked exclusively.
///
/// # Safety
/// `t` live; `key` a key of its size; `found` writable.
pub unsafe fn find_or_insert(
    t: *mut dshash_table,
    key: *const c_void,
    found: *mut bool,
) -> *mut c_void {
    // SAFETY: as the caller promises.
    let tb = unsafe { &mut *t };
    let hash = hash_key(tb, key);
    let part = partition_of(hash);
    loop {
        lock_partition(tb, part, true);
        let (link, item) = find_in_bucket(tb, key, hash);
        if !item.is_null() {
            // SAFETY: writable, as the caller promises.
            unsafe { *found = true };
            return entry_of(item);
        }
        let (size_log2, count) = {
            let c = ctl(tb);
            (c.size_log2, c.partitions[part].count)
        };
        let buckets_per_partition = 1u64 << (size_log2 - PARTITION_BITS);
        if count > buckets_per_partition * 2 && size_log2 < 31 {
            // Too full: make the bucket array bigger, then look again.
            unlock_partition(tb, part);
            resize(tb, size_log2 + 1);
            continue;
        }
        // SAFETY: the table's area.
        let p = unsafe { dsa::allocate(tb.area, ITEM_HEADER + tb.params.entry_size, DSA_ZERO) };
        let new: *mut dshash_table_item = addr(tb, p);
        // SAFETY: the fresh item; link is the end of its bucket's chain (under the lock).
        unsafe {
            (*new).next = InvalidDsaPointer;
            (*new).hash = hash;
            std::ptr::copy_nonoverlapping(
                key.cast::<u8>(),
                entry_of(new).cast::<u8>(),
                tb.params.key_size,
            );
            *link = p;
            *found = false;
        }
        ctl(tb).partitions[part].count += 1;
        return entry_of(new);
    }
}

/// Doubles the bucket array to `2^new_log2` (every partition locked exclusively meanwhile),
/// unless another process did already.
fn resize(t: &mut dshash_table, new_log2: u32) {
    for i in 0..PARTITIONS {
        lock_partition(t, i, true);
    }
    let c = ctl(t);
    if c.size_log2 < new_log2 {
        let old_n = 1usize << c.size_log2;
        let old = c.buckets;
        // SAFETY: the table's area.
        let newp = unsafe {
            dsa::allocate(
                t.area,
                std::mem::size_of::<dsa_pointer>() << new_log2,
                DSA_ZERO | dsa::DSA_ALLOC_HUGE,
            )
        };
        let new_buckets: *mut dsa_pointer = addr(t, newp);
        let old_buckets: *mut dsa_pointer = addr(t, old);
        for b in 0..old_n {
            // SAFETY: the old array has old_n entries.
            let mut p = unsafe { *old_buckets.add(b) };
            while p != InvalidDsaPointer {
                let item: *mut dshash_table_item = addr(t, p);
                // SAFETY: live items; the new array has 2^new_log2 entries.
                unsafe {
                    let next = (*item).next;
                    let slot = new_buckets.add(bucket_of((*item).hash, new_log2));
                    (*item).next = *slot;
                    *slot = p;
                    p = next;
                }
            }
        }
        c.buckets = newp;
        c.size_log2 = new_log2;
        // SAFETY: the old array, no longer referenced.
        unsafe { dsa::free(t.area, old) };
    }
    for i in (0..PARTITIONS).rev() {
        unlock_partition(t, i);
    }
}

fn remove_item(
    t: &mut dshash_table,
    link: *mut dsa_pointer,
    item: *mut dshash_table_item,
    part: usize,
) {
    // SAFETY: link points at the item's pointer in its chain (under the exclusive lock).
    let p = unsafe { *link };
    // SAFETY: as above.
    unsafe { *link = (*item).next };
    ctl(t).partitions[part].count -= 1;
    // SAFETY: p was allocated in this area.
    unsafe { dsa::free(t.area, p) };
}

/// `dshash_delete_key`: removes `key`'s entry; false when there was none.
///
/// # Safety
/// `t` live; `key` a key of its size.
pub unsafe fn delete_key(t: *mut dshash_table, key: *const c_void) -> bool {
    // SAFETY: as the caller promises.
    let tb = unsafe { &mut *t };
    let hash = hash_key(tb, key);
    let part = partition_of(hash);
    lock_partition(tb, part, true);
    let (link, item) = find_in_bucket(tb, key, hash);
    let found = !item.is_null();
    if found {
        remove_item(tb, link, item, part);
    }
    unlock_partition(tb, part);
    found
}

fn check_held(t: &dshash_table, part: usize, exclusive: bool, what: &str) {
    let h = t.held[part];
    if h == 0 || (exclusive && h != HELD_EXCLUSIVE) {
        raise_fmt(
            ERROR,
            0,
            format_args!(
                "{what}: the entry's partition is not locked{} by this process",
                if exclusive { " exclusively" } else { "" }
            ),
        );
    }
}

/// `dshash_delete_entry`: removes an entry found with an exclusive lock, and releases the lock.
///
/// # Safety
/// `t` live; `entry` from `find(…, true)` or `find_or_insert`.
pub unsafe fn delete_entry(t: *mut dshash_table, entry: *mut c_void) {
    // SAFETY: as the caller promises.
    let tb = unsafe { &mut *t };
    let item = item_of(entry);
    // SAFETY: a live item.
    let hash = unsafe { (*item).hash };
    let part = partition_of(hash);
    check_held(tb, part, true, "dshash_delete_entry");
    let (link, found) = find_in_bucket(tb, entry, hash);
    if found == item {
        remove_item(tb, link, item, part);
    }
    unlock_partition(tb, part);
}

/// `dshash_release_lock`: releases the partition lock of an entry found.
///
/// # Safety
/// `t` live; `entry` from `find` or `find_or_insert`.
pub unsafe fn release_lock(t: *mut dshash_table, entry: *mut c_void) {
    // SAFETY: as the caller promises.
    let tb = unsafe { &mut *t };
    // SAFETY: a live item.
    let part = partition_of(unsafe { (*item_of(entry)).hash });
    check_held(tb, part, false, "dshash_release_lock");
    unlock_partition(tb, part);
}

// ---- scans --------------------------------------------------------------------------------------

/// `dshash_seq_init`.
///
/// # Safety
/// `status` writable; `t` live.
pub unsafe fn seq_init(status: *mut dshash_seq_status, t: *mut dshash_table, exclusive: bool) {
    // SAFETY: as the caller promises.
    unsafe {
        status.write(dshash_seq_status {
            hash_table: t,
            curbucket: 0,
            nbuckets: 0,
            curitem: null_mut(),
            pnextitem: InvalidDsaPointer,
            curpartition: -1,
            exclusive,
        });
    }
}

/// `dshash_seq_next`: the next entry (its partition locked as the scan says), or NULL at the
/// end (every lock released). Partitions are visited in order, each holding whole buckets.
///
/// # Safety
/// `status` from `seq_init`, its table live.
pub unsafe fn seq_next(status: *mut dshash_seq_status) -> *mut c_void {
    // SAFETY: as the caller promises.
    let st = unsafe { &mut *status };
    // SAFETY: as the caller promises.
    let t = unsafe { &mut *st.hash_table };
    loop {
        if st.curpartition < 0 {
            // First call: lock partition 0, then read the size (stable while any lock is held).
            lock_partition(t, 0, st.exclusive);
            st.curpartition = 0;
            st.nbuckets = 1 << ctl(t).size_log2;
            st.curbucket = 0;
            st.pnextitem = bucket_head(t, 0);
        }
        if st.pnextitem != InvalidDsaPointer {
            let item: *mut dshash_table_item = addr(t, st.pnextitem);
            st.curitem = item;
            // SAFETY: a live item, under its partition's lock.
            st.pnextitem = unsafe { (*item).next };
            return entry_of(item);
        }
        st.curbucket += 1;
        if st.curbucket >= st.nbuckets {
            unlock_partition(t, st.curpartition as usize);
            st.curitem = null_mut();
            st.curpartition = PARTITIONS as c_int;
            st.pnextitem = InvalidDsaPointer;
            return null_mut();
        }
        let size_log2 = ctl(t).size_log2;
        let part = (st.curbucket as usize) >> (size_log2 - PARTITION_BITS);
        if part as c_int != st.curpartition {
            // Next partition: take it before letting the previous one go.
            lock_partition(t, part, st.exclusive);
            unlock_partition(t, st.curpartition as usize);
            st.curpartition = part as c_int;
        }
        st.pnextitem = bucket_head(t, st.curbucket as usize);
    }
}

fn bucket_head(t: &dshash_table, b: usize) -> dsa_pointer {
    let buckets: *mut dsa_pointer = addr(t, ctl(t).buckets);
    // SAFETY: b is below the array's size.
    unsafe { *buckets.add(b) }
}

/// `dshash_seq_term`: releases the lock a scan still holds.
///
/// # Safety
/// `status` from `seq_init`.
pub unsafe fn seq_term(status: *mut dshash_seq_status) {
    // SAFETY: as the caller promises.
    let st = unsafe { &mut *status };
    if st.curpartition >= 0 && (st.curpartition as usize) < PARTITIONS {
        // SAFETY: the scan's live table.
        let t = unsafe { &mut *st.hash_table };
        unlock_partition(t, st.curpartition as usize);
        st.curpartition = PARTITIONS as c_int;
    }
}

/// `dshash_delete_current`: removes the entry a scan (with exclusive locks) just returned.
///
/// # Safety
/// `status` from an exclusive `seq_init` whose last `seq_next` returned an entry.
pub unsafe fn delete_current(status: *mut dshash_seq_status) {
    // SAFETY: as the caller promises.
    let st = unsafe { &mut *status };
    if !st.exclusive || st.curitem.is_null() {
        raise_fmt(
            ERROR,
            0,
            format_args!(
                "dshash_delete_current: the scan is not exclusive or has no current entry"
            ),
        );
    }
    // SAFETY: the scan's live table.
    let t = unsafe { &mut *st.hash_table };
    let item = st.curitem;
    // SAFETY: a live item.
    let hash = unsafe { (*item).hash };
    let (link, found) = find_in_bucket(t, entry_of(item), hash);
    if found == item {
        remove_item(t, link, item, partition_of(hash));
    }
    st.curitem = null_mut();
}

/// `dshash_dump`: one LOG line per non-empty partition.
///
/// # Safety
/// `t` live.
pub unsafe fn dump(t: *mut dshash_table) {
    // SAFETY: as the caller promises.
    let tb = unsafe { &mut *t };
    for i in 0..PARTITIONS {
        lock_partition(tb, i, false);
    }
    let c = ctl(tb);
    let total: u64 = c.partitions.iter().map(|p| p.count).sum();
    let size_log2 = c.size_log2;
    for i in (0..PARTITIONS).rev() {
        unlock_partition(tb, i);
    }
    crate::pg::report_fmt(
        LOG,
        0,
        format_args!(
            "dshash table: {total} entries in {} buckets",
            1u64 << size_log2
        ),
    );
}
