//! The one shared segment: a file in the data directory (0600), mapped `MAP_SHARED`, holding a
//! header and the worker slot array. The supervisor creates it before the first fork; workers
//! inherit the mapping; other processes of the same user attach by path.
//!
//! Every field another process may write is an atomic, and the supervisor copies definitions out
//! and validates them before use: it never trusts, and never blocks on, this memory.

pub mod modules;
pub mod slots;

use crate::pg::types::{BackgroundWorker, PGPROC};
use memmap2::{MmapMut, MmapOptions};
use std::fs::OpenOptions;
use std::os::fd::AsRawFd;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI32, AtomicPtr, AtomicU32, AtomicU64, Ordering};

pub use slots::Slot;

pub const FILE_NAME: &str = "bgworker.shmem";
const MAGIC: [u8; 8] = *b"BGWSHM\0\x01";
/// Bumped whenever the layout changes: attaching across versions is refused.
pub const LAYOUT_VERSION: u32 = 3;

/// The segment header; the change bitmap and the slots follow it.
#[repr(C)]
pub struct Header {
    pub magic: [u8; 8],
    pub layout_version: u32,
    pub total_slots: u32,
    pub size: u64,
    pub owner_uid: u32,
    pub supervisor_pid: AtomicI32,
    /// Bumped by every crash re-initialisation, so stale handles never match.
    pub epoch: AtomicU64,
    /// Free-slot stack: high 32 bits a tag against ABA, low 32 bits slot index + 1 (0 = empty).
    pub free_head: AtomicU64,
    pub parallel_register_count: AtomicU32,
    pub parallel_terminate_count: AtomicU32,
    /// Non-zero once shutdown has begun: new registrations are refused (DYN-10).
    pub shutting_down: AtomicU32,
    /// The supervisor's `max_parallel_workers`, for registrants outside it (DYN-3).
    pub max_parallel_workers: AtomicU32,
    /// `LWLockNewTrancheId`'s counter, shared so every process agrees on tranche ids.
    pub next_tranche_id: AtomicU32,
    /// Locks of named tranches, after PostgreSQL's fixed ones in the main LWLock array.
    pub named_locks: u32,
    /// Bytes modules requested (`RequestAddinShmemSpace`), for `ShmemInitStruct`.
    pub addin_size: u64,
    /// Bytes of the module area handed out so far.
    pub addin_used: AtomicU64,
    /// Guards the `ShmemInitStruct` index (0 free, else the holder's pid); taken only by
    /// module code, never by the supervisor while workers run.
    pub index_lock: AtomicI32,
    /// The descriptor number, in the supervisor, of the memory behind dynamic shared memory
    /// segments (see `crate::dsm::backing`), its inode, and which one it is (bumped each time
    /// the supervisor makes a new one); another process opens it as /proc/PID/fd/N.
    pub dsm_fd: AtomicI32,
    pub dsm_ino: AtomicU64,
    pub dsm_generation: AtomicU64,
}

/// Sizes a segment is made for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Sizes {
    pub slots: u32,
    pub addin_size: u64,
    pub named_locks: u32,
}

/// PostgreSQL 15's fixed part of the main LWLock array (`NUM_FIXED_LWLOCKS`).
pub const NUM_FIXED_LWLOCKS: usize = 208;
/// Bytes per main-array lock (`LWLockPadded`).
pub const LWLOCK_PADDED_SIZE: usize = 128;
/// PGPROCs beyond one per slot (attached processes may take one).
pub const EXTRA_PROCS: usize = 16;
/// Entries of the `ShmemInitStruct` index.
pub const INDEX_ENTRIES: usize = 256;
/// First tranche id `LWLockNewTrancheId` hands out (PostgreSQL 15's LWTRANCHE_FIRST_USER_DEFINED).
pub const FIRST_USER_TRANCHE: u32 = 75;
/// Bytes beyond what modules requested in the area `ShmemInitStruct` and `ShmemAlloc` hand out
/// (PostgreSQL 15 adds the same 100,000 bytes of slop), mostly for shared hash tables, whose
/// pieces are each rounded up to a cache line.
pub const ADDIN_SLOP: u64 = 100_000;

/// DSM segments a segment of `slots` worker slots can track: PostgreSQL 15's 64 plus 5 per
/// process that may use them.
pub fn dsm_items(slots: u32) -> usize {
    64 + 5 * (slots as usize + EXTRA_PROCS)
}

/// Where each area starts.
#[derive(Clone, Copy, Debug)]
struct Layout {
    bitmap: usize,
    slots: usize,
    procs: usize,
    lwlocks: usize,
    index: usize,
    tranches: usize,
    dsm: usize,
    addin: usize,
    size: usize,
}

/// The areas for these sizes; `None` when they do not fit in memory at all (a corrupted
/// header, or an absurd request).
fn layout_of(z: Sizes) -> Option<Layout> {
    let align = |n: usize| n.checked_next_multiple_of(128);
    let add = |a: usize, b: usize| a.checked_add(b).and_then(align);
    let bitmap = std::mem::size_of::<Header>();
    let slots_n = z.slots as usize;
    let slots = add(bitmap, bitmap_words(z.slots).checked_mul(8)?)?;
    let procs = add(slots, slots_n.checked_mul(std::mem::size_of::<Slot>())?)?;
    let nprocs = slots_n.checked_add(EXTRA_PROCS)?;
    let lwlocks = add(procs, nprocs.checked_mul(std::mem::size_of::<PGPROC>())?)?;
    let nlocks = NUM_FIXED_LWLOCKS.checked_add(z.named_locks as usize)?;
    let index = add(lwlocks, nlocks.checked_mul(LWLOCK_PADDED_SIZE)?)?;
    let tranches = add(
        index,
        INDEX_ENTRIES * std::mem::size_of::<modules::IndexEntry>(),
    )?;
    let dsm = add(
        tranches,
        modules::MAX_TRANCHES * std::mem::size_of::<modules::TrancheEntry>(),
    )?;
    let addin = add(
        dsm,
        dsm_items(z.slots).checked_mul(std::mem::size_of::<crate::dsm::control::Item>())?,
    )?;
    let size = add(
        addin,
        usize::try_from(z.addin_size.checked_add(ADDIN_SLOP)?).ok()?,
    )?;
    Some(Layout {
        bitmap,
        slots,
        procs,
        lwlocks,
        index,
        tranches,
        dsm,
        addin,
        size,
    })
}

/// A mapped segment, as seen by this process.
pub struct Segment {
    map: MmapMut,
    pub path: PathBuf,
    /// The file's device and inode: who maps it is attached to this supervisor.
    file_id: (u64, u64),
    /// Where the slots start, and how many there are (fixed for the mapping's life).
    slots: *const Slot,
    total: usize,
    bitmap: *const AtomicU64,
    sizes: Sizes,
    layout: Layout,
}

static CURRENT: AtomicPtr<Segment> = AtomicPtr::new(std::ptr::null_mut());

/// The segment this process uses, if any (the supervisor's, inherited, or attached).
pub fn current() -> Option<&'static Segment> {
    // SAFETY: CURRENT only ever holds a leaked Box<Segment> (never freed while published).
    unsafe { CURRENT.load(Ordering::Acquire).as_ref() }
}

fn publish(seg: Segment) -> &'static Segment {
    let leaked = Box::leak(Box::new(seg));
    let old = CURRENT.swap(leaked, Ordering::AcqRel);
    if !old.is_null() {
        // The old mapping stays mapped (stale pointers into it must not fault); it is small.
        // (The pointer is simply dropped: the Box is leaked on purpose.)
    }
    leaked
}

fn bitmap_words(slots: u32) -> usize {
    (slots as usize).div_ceil(64)
}

impl Segment {
    /// `sizes` must have a layout that fits the mapping (checked by the callers).
    fn new(map: MmapMut, path: PathBuf, file_id: (u64, u64), sizes: Sizes) -> Segment {
        let layout = layout_of(sizes).expect("sizes checked by the caller");
        // SAFETY: offsets inside the mapping (its size was checked against the layout).
        let (slots, bitmap) = unsafe {
            (
                map.as_ptr().add(layout.slots),
                map.as_ptr().add(layout.bitmap),
            )
        };
        Segment {
            map,
            path,
            file_id,
            slots: slots as *const Slot,
            total: sizes.slots as usize,
            bitmap: bitmap as *const AtomicU64,
            sizes,
            layout,
        }
    }

    /// Creates (or recreates) the segment file and initialises it.
    pub fn create(datadir: &Path, sizes: Sizes) -> std::io::Result<&'static Segment> {
        let path = datadir.join(FILE_NAME);
        let size = layout_of(sizes)
            .ok_or_else(|| {
                std::io::Error::new(
                    std::io::ErrorKind::InvalidInput,
                    format!(
                        "shared memory request too large ({} bytes for modules)",
                        sizes.addin_size
                    ),
                )
            })?
            .size;
        let _ = std::fs::remove_file(&path);
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
            .map_err(|e| {
                std::io::Error::new(
                    e.kind(),
                    format!(
                        "could not create shared memory segment \"{}\": {e}",
                        path.display()
                    ),
                )
            })?;
        // The blocks are reserved now, not at first touch: on a full disk that is an error here,
        // not a SIGBUS in the middle of start-up (or of a crash-restart).
        // SAFETY: posix_fallocate on our own descriptor.
        let rc = unsafe { libc::posix_fallocate(file.as_raw_fd(), 0, size as libc::off_t) };
        if rc != 0 {
            drop(file);
            let _ = std::fs::remove_file(&path);
            return Err(std::io::Error::new(
                std::io::Error::from_raw_os_error(rc).kind(),
                format!(
                    "could not resize shared memory segment \"{}\" to {size} bytes: {}",
                    path.display(),
                    crate::pg::error::errno_text(rc)
                ),
            ));
        }
        // SAFETY: the file is ours, freshly created and its blocks allocated; it is only accessed
        // through the atomics and volatile copies of this module.
        let map = unsafe { MmapOptions::new().len(size).map_mut(&file) }.map_err(|e| {
            let _ = std::fs::remove_file(&path);
            std::io::Error::new(
                e.kind(),
                format!(
                    "could not map shared memory segment \"{}\": {e}",
                    path.display()
                ),
            )
        })?;
        let meta = file.metadata()?;
        let seg = Segment::new(map, path, (meta.dev(), meta.ino()), sizes);
        seg.initialise();
        Ok(publish(seg))
    }

    /// Maps an existing segment created by a supervisor of the same user and layout.
    pub fn attach(datadir: &Path) -> Result<&'static Segment, String> {
        let path = datadir.join(FILE_NAME);
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .open(&path)
            .map_err(|e| {
                format!(
                    "could not open shared memory segment \"{}\": {e}",
                    path.display()
                )
            })?;
        let meta = file.metadata().map_err(|e| e.to_string())?;
        // SAFETY: geteuid has no preconditions.
        if meta.uid() != unsafe { libc::geteuid() } {
            return Err(format!(
                "shared memory segment \"{}\" belongs to another user",
                path.display()
            ));
        }
        if (meta.len() as usize) < std::mem::size_of::<Header>() {
            return Err(format!(
                "shared memory segment \"{}\" is too small",
                path.display()
            ));
        }
        // SAFETY: mapping a same-user segment; all access goes through atomics and checks.
        let map = unsafe { MmapOptions::new().map_mut(&file) }.map_err(|e| e.to_string())?;
        // SAFETY: at least a header's worth of bytes, checked above.
        let (version, sizes) = unsafe {
            let h = &*(map.as_ptr() as *const Header);
            (
                h.layout_version,
                Sizes {
                    slots: h.total_slots,
                    addin_size: h.addin_size,
                    named_locks: h.named_locks,
                },
            )
        };
        if version != LAYOUT_VERSION {
            return Err(format!(
                "incompatible shared memory segment: layout version {version} (this library uses {LAYOUT_VERSION})"
            ));
        }
        // Bounded by the file before anything is computed from the (untrusted) header.
        match layout_of(sizes) {
            Some(l) if l.size <= map.len() => {}
            _ => return Err("shared memory segment size does not match its header".into()),
        }
        let seg = Segment::new(map, path, (meta.dev(), meta.ino()), sizes);
        let h = seg.header();
        if h.magic != MAGIC {
            return Err("shared memory segment has no valid header".into());
        }
        if h.layout_version != LAYOUT_VERSION {
            return Err(format!(
                "incompatible shared memory segment: layout version {} (this library uses {})",
                h.layout_version, LAYOUT_VERSION
            ));
        }
        let size = seg.layout.size;
        if h.size as usize != size || seg.map.len() < size {
            return Err("shared memory segment size does not match its header".into());
        }
        Ok(publish(seg))
    }

    /// Zeroes the segment and writes a fresh header with every slot free.
    pub fn initialise(&self) {
        let size = self.layout.size;
        // SAFETY: the mapping is at least `size` bytes; only the supervisor calls this, while no
        // worker is running (start-up or crash re-initialisation).
        unsafe {
            let base = self.map.as_ptr() as *mut u8;
            std::ptr::write_bytes(base, 0, size);
        }
        self.write_header();
        slots::reset_all(self);
        modules::initialise(self);
    }

    /// Writes every header field from what this process knows (never from what is there: a
    /// crashed worker may have scribbled on it). Supervisor only, with no worker running.
    fn write_header(&self) {
        let z = self.sizes;
        // SAFETY: the mapping starts with a Header; see the caller's contract.
        unsafe {
            let h = self.base() as *mut Header;
            (*h).magic = MAGIC;
            (*h).layout_version = LAYOUT_VERSION;
            (*h).total_slots = z.slots;
            (*h).named_locks = z.named_locks;
            (*h).addin_size = z.addin_size;
            (*h).size = self.layout.size as u64;
            (*h).owner_uid = libc::geteuid();
            (*h).supervisor_pid.store(libc::getpid(), Ordering::Relaxed);
            (*h).next_tranche_id
                .store(FIRST_USER_TRANCHE, Ordering::Relaxed);
            (*h).addin_used.store(0, Ordering::Relaxed);
            (*h).index_lock.store(0, Ordering::Relaxed);
            (*h).shutting_down.store(0, Ordering::Relaxed);
            (*h).parallel_register_count.store(0, Ordering::Relaxed);
            (*h).parallel_terminate_count.store(0, Ordering::Relaxed);
        }
    }

    /// After a crash: the header written afresh, and what modules keep here (PGPROCs, locks,
    /// index, tranches, their structures) zeroed and laid out again; the slots and their
    /// generations are left to `slots::reset_all`.
    pub fn reinitialise_modules(&self) {
        self.write_header();
        // Processes attached from outside survive a crash-restart: their PGPROCs keep their
        // pid and latch owner (two plain integers copied back, never acted upon here), so
        // others can still find and wake them; everything else is made afresh.
        let keep: [(i32, i32); EXTRA_PROCS] = std::array::from_fn(|k| {
            let p = self.proc_ptr(self.total + k);
            // SAFETY: plain reads of two integers of a PGPROC inside the mapping.
            unsafe {
                (
                    std::ptr::read_volatile(&raw const (*p).pid),
                    std::ptr::read_volatile(&raw const (*p).procLatch.owner_pid),
                )
            }
        });
        let from = self.layout.procs;
        // SAFETY: the module areas run from the PGPROCs to the end of the mapping; no worker
        // runs during a crash re-initialisation.
        unsafe { std::ptr::write_bytes(self.base().add(from), 0, self.layout.size - from) };
        for (k, (pid, owner)) in keep.into_iter().enumerate() {
            let p = self.proc_ptr(self.total + k);
            // SAFETY: plain writes into a zeroed PGPROC inside the mapping.
            unsafe {
                (*p).pid = pid;
                (*p).procLatch.owner_pid = owner;
                (*p).procLatch.is_shared = owner != 0;
            }
        }
        modules::initialise(self);
    }

    /// Sizes this segment was made for.
    pub fn sizes(&self) -> Sizes {
        self.sizes
    }

    /// Base address of the mapping (for offsets modules keep).
    pub fn base(&self) -> *mut u8 {
        self.map.as_ptr() as *mut u8
    }

    /// PGPROC `i` (one per slot, then `EXTRA_PROCS` more).
    pub fn proc_ptr(&self, i: usize) -> *mut PGPROC {
        assert!(i < self.num_procs(), "PGPROC {i} out of range");
        // SAFETY: inside the procs area.
        unsafe { (self.base().add(self.layout.procs) as *mut PGPROC).add(i) }
    }

    pub fn num_procs(&self) -> usize {
        self.total + EXTRA_PROCS
    }

    /// The main LWLock array (`MainLWLockArray`): 128-byte elements.
    pub fn main_lwlocks(&self) -> *mut u8 {
        // SAFETY: inside the mapping.
        unsafe { self.base().add(self.layout.lwlocks) }
    }

    pub fn num_main_lwlocks(&self) -> usize {
        NUM_FIXED_LWLOCKS + self.sizes.named_locks as usize
    }

    pub(crate) fn index_area(&self) -> *mut modules::IndexEntry {
        // SAFETY: inside the mapping.
        unsafe { self.base().add(self.layout.index) as *mut modules::IndexEntry }
    }

    pub(crate) fn tranche_area(&self) -> *mut modules::TrancheEntry {
        // SAFETY: inside the mapping.
        unsafe { self.base().add(self.layout.tranches) as *mut modules::TrancheEntry }
    }

    /// The module area `ShmemInitStruct` and `ShmemAlloc` hand out, and its size (what modules
    /// requested plus `ADDIN_SLOP`).
    pub(crate) fn addin_area(&self) -> (*mut u8, usize) {
        // SAFETY: inside the mapping.
        (
            unsafe { self.base().add(self.layout.addin) },
            (self.sizes.addin_size + ADDIN_SLOP) as usize,
        )
    }

    /// The DSM control table (one item per segment that can exist at once).
    pub fn dsm_items(&self) -> &[crate::dsm::control::Item] {
        // SAFETY: the table lies inside the mapping (layout_of reserved it); its items are
        // atomics, valid for any bit pattern, and live as long as the mapping.
        unsafe {
            std::slice::from_raw_parts(
                self.base().add(self.layout.dsm) as *const crate::dsm::control::Item,
                dsm_items(self.sizes.slots),
            )
        }
    }

    /// The number of PGPROC `p` points to, if it is one of this mapping's.
    pub fn procno_of(&self, p: *const PGPROC) -> Option<usize> {
        let base = self.proc_ptr(0) as usize;
        let at = (p as usize).checked_sub(base)?;
        let size = std::mem::size_of::<PGPROC>();
        (at % size == 0 && at / size < self.num_procs()).then_some(at / size)
    }

    /// The first PGPROC that is not a worker slot's (attached processes take those).
    pub fn first_extra_proc(&self) -> usize {
        self.total
    }

    pub fn header(&self) -> &Header {
        // SAFETY: the mapping starts with a Header (checked on attach, written on create).
        unsafe { &*(self.map.as_ptr() as *const Header) }
    }

    /// The slot count this mapping was made for (never re-read from shared memory, so a
    /// process scribbling on the header cannot send anyone out of bounds).
    pub fn total_slots(&self) -> usize {
        self.total
    }

    pub fn slot(&self, i: usize) -> &Slot {
        assert!(i < self.total, "slot {i} out of range");
        // SAFETY: in range, as asserted; Slot is made of atomics and a plain-data definition.
        unsafe { &*self.slots.add(i) }
    }

    /// The change bitmap: a registrant sets its slot's bit, the supervisor takes the words.
    pub fn changed_word(&self, w: usize) -> &AtomicU64 {
        assert!(w < self.bitmap_words());
        // SAFETY: in range of the bitmap area.
        unsafe { &*self.bitmap.add(w) }
    }

    pub fn bitmap_words(&self) -> usize {
        self.total.div_ceil(64)
    }

    /// Flags slot `i` as changed for the supervisor.
    /// Whether process `pid` maps this segment: a worker of its supervisor, or a process
    /// attached to it (the only processes entitled to notifications).
    pub fn mapped_by(&self, pid: i32) -> bool {
        maps_file(pid, self.file_id.0, self.file_id.1)
    }

    /// Whether any slot is flagged for the supervisor.
    pub fn any_changed(&self) -> bool {
        (0..self.bitmap_words()).any(|w| self.changed_word(w).load(Ordering::Acquire) != 0)
    }

    pub fn mark_changed(&self, i: usize) {
        self.changed_word(i / 64)
            .fetch_or(1 << (i % 64), Ordering::AcqRel);
    }

    /// Removes the segment file (clean shutdown).
    pub fn remove_file(&self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Processes (other than this one) that still map a segment file left in `datadir` by a
/// supervisor that did not shut down cleanly. Empty when there is no such file.
pub fn leftover_users(datadir: &Path) -> Vec<i32> {
    let path = datadir.join(FILE_NAME);
    let Ok(meta) = std::fs::metadata(&path) else {
        return Vec::new();
    };
    let (dev, ino) = (meta.dev(), meta.ino());
    // SAFETY: getpid has no preconditions.
    let me = unsafe { libc::getpid() };
    let mut users = Vec::new();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return users;
    };
    for e in entries.flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        if pid != me && maps_file(pid, dev, ino) {
            users.push(pid);
        }
    }
    users
}

/// Whether process `pid` maps the file (device `dev`, inode `ino`), by its `/proc/PID/maps`.
pub fn maps_file(pid: i32, dev: u64, ino: u64) -> bool {
    let Ok(maps) = std::fs::read_to_string(format!("/proc/{pid}/maps")) else {
        return false;
    };
    // Each line: address perms offset major:minor inode path.
    maps.lines().any(|l| {
        let f: Vec<&str> = l.split_whitespace().collect();
        if f.len() < 5 || f[4].parse::<u64>().ok() != Some(ino) {
            return false;
        }
        let Some((maj, min)) = f[3].split_once(':') else {
            return false;
        };
        let (Ok(maj), Ok(min)) = (u32::from_str_radix(maj, 16), u32::from_str_radix(min, 16))
        else {
            return false;
        };
        libc::makedev(maj, min) == dev
    })
}

/// A copy of a slot's definition, taken with volatile reads (another process may be writing).
pub fn copy_definition(slot: &Slot) -> BackgroundWorker {
    // SAFETY: the definition is plain data of fixed size; any bit pattern is a valid
    // BackgroundWorker (every field is an integer or integer array).
    unsafe { std::ptr::read_volatile(slot.worker.get()) }
}
