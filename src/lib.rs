//! libbgworker: PostgreSQL 15's background-worker subsystem as a C-ABI library, with its own
//! supervisor. See DESIGN in the README for the pieces; each module's first comment says what it
//! owns.
#![allow(non_snake_case, non_camel_case_types, non_upper_case_globals)]

pub mod abi;
pub mod ctl;
pub mod elog;
pub mod guc;
pub mod latch;
pub mod loader;
pub mod mcxt;
pub mod postmaster;
pub mod registry;
pub mod shmem;
pub mod stringinfo;
pub mod worker;
