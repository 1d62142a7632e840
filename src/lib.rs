//! libbgworker: PostgreSQL 15's background-worker subsystem as a C-ABI library, with its own
//! supervisor. See DESIGN in the README for the pieces; each module's first comment says what it
//! owns.
#![allow(non_snake_case, non_camel_case_types, non_upper_case_globals)]

// Only the C face (pg, abi, and the types modules read: lwlock, mcxt, stringinfo) reaches bgworker.h;
// the internal modules are kept out of it.
pub mod abi;
/// cbindgen:ignore
pub mod ctl;
/// cbindgen:ignore
pub mod db;
/// cbindgen:ignore
pub mod dsm;
/// cbindgen:ignore
pub mod elf;
/// cbindgen:ignore
pub mod elog;
/// cbindgen:ignore
pub mod eoxact;
/// cbindgen:ignore
pub mod fd;
/// cbindgen:ignore
pub mod guc;
/// cbindgen:ignore
pub mod guc_runtime;
/// cbindgen:ignore
pub mod latch;
/// cbindgen:ignore
pub mod list;
/// cbindgen:ignore
pub mod loader;
/// cbindgen:ignore
pub mod log;
pub mod lwlock;
pub mod mcxt;
/// cbindgen:ignore
pub mod nodes;
pub mod pg;
/// cbindgen:ignore
pub mod postmaster;
/// cbindgen:ignore
pub mod process;
/// cbindgen:ignore
pub mod registry;
/// cbindgen:ignore
pub mod resowner;
/// cbindgen:ignore
pub mod server_symbols;
/// cbindgen:ignore
pub mod shmem;
pub mod stringinfo;
/// cbindgen:ignore
pub mod varlena;
/// cbindgen:ignore
pub mod worker;
