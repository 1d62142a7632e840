//! The one shared segment: a file in the data directory (0600), mapped `MAP_SHARED`, holding a
//! header and the worker slot array. The supervisor creates it before the first fork; workers
//! inherit the mapping; other processes of the same user attach by path.
//!
//! Every field another process may write is an atomic, and the supervisor copies definitions out
//! and validates them before use: it never trusts, and never blocks on, this memory.

pub mod slots;

use crate::abi::types::BackgroundWorker;
use memmap2::{MmapMut, MmapOptions};
use std::fs::OpenOptions;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI32, AtomicPtr, AtomicU32, AtomicU64, Ordering};

pub use slots::Slot;

pub const FILE_NAME: &str = "bgworker.shmem";
const MAGIC: [u8; 8] = *b"BGWSHM\0\x01";
/// Bumped whenever the layout changes: attaching across versions is refused.
pub const LAYOUT_VERSION: u32 = 1;

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
}

/// A mapped segment, as seen by this process.
pub struct Segment {
    map: MmapMut,
    pub path: PathBuf,
    /// Where the slots start, and how many there are (fixed for the mapping's life).
    slots: *const Slot,
    total: usize,
    bitmap: *const AtomicU64,
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

fn layout(slots: u32) -> (usize, usize, usize) {
    let bitmap = std::mem::size_of::<Header>();
    let slots_off = (bitmap + bitmap_words(slots) * 8).next_multiple_of(64);
    let size = slots_off + slots as usize * std::mem::size_of::<Slot>();
    (bitmap, slots_off, size)
}

impl Segment {
    fn new(map: MmapMut, path: PathBuf, total: u32) -> Segment {
        let (bitmap, slots, _) = layout(total);
        // SAFETY: offsets inside the mapping (its size was checked against the layout).
        let (slots, bitmap) = unsafe { (map.as_ptr().add(slots), map.as_ptr().add(bitmap)) };
        Segment {
            map,
            path,
            slots: slots as *const Slot,
            total: total as usize,
            bitmap: bitmap as *const AtomicU64,
        }
    }

    /// Creates (or recreates) the segment file and initialises it for `slots` slots.
    pub fn create(datadir: &Path, slots: u32) -> std::io::Result<&'static Segment> {
        let path = datadir.join(FILE_NAME);
        let (_, _, size) = layout(slots);
        let _ = std::fs::remove_file(&path);
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)?;
        file.set_len(size as u64)?;
        // SAFETY: the file is ours, freshly created and sized; it is only accessed through the
        // atomics and volatile copies of this module.
        let map = unsafe { MmapOptions::new().len(size).map_mut(&file)? };
        let seg = Segment::new(map, path, slots);
        seg.initialise(slots);
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
        let total = unsafe { (*(map.as_ptr() as *const Header)).total_slots };
        let (_, _, size) = layout(total);
        if map.len() < size {
            return Err("shared memory segment is smaller than its header says".into());
        }
        let seg = Segment::new(map, path, total);
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
        let (_, _, size) = layout(h.total_slots);
        if h.size as usize != size || seg.map.len() < size {
            return Err("shared memory segment size does not match its header".into());
        }
        Ok(publish(seg))
    }

    /// Zeroes the segment and writes a fresh header with every slot free.
    pub fn initialise(&self, slots: u32) {
        let (_, _, size) = layout(slots);
        // SAFETY: the mapping is at least `size` bytes; only the supervisor calls this, while no
        // worker is running (start-up or crash re-initialisation).
        unsafe {
            let base = self.map.as_ptr() as *mut u8;
            std::ptr::write_bytes(base, 0, size);
            let h = base as *mut Header;
            (*h).magic = MAGIC;
            (*h).layout_version = LAYOUT_VERSION;
            (*h).total_slots = slots;
            (*h).size = size as u64;
            (*h).owner_uid = libc::geteuid();
            (*h).supervisor_pid.store(libc::getpid(), Ordering::Relaxed);
        }
        slots::reset_all(self);
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
    pub fn mark_changed(&self, i: usize) {
        self.changed_word(i / 64)
            .fetch_or(1 << (i % 64), Ordering::AcqRel);
    }

    /// Removes the segment file (clean shutdown).
    pub fn remove_file(&self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// A copy of a slot's definition, taken with volatile reads (another process may be writing).
pub fn copy_definition(slot: &Slot) -> BackgroundWorker {
    // SAFETY: the definition is plain data of fixed size; any bit pattern is a valid
    // BackgroundWorker (every field is an integer or integer array).
    unsafe { std::ptr::read_volatile(slot.worker.get()) }
}
