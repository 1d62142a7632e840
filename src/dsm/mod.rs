//! Dynamic shared memory as PostgreSQL 15 offers it to modules: segments made and attached at run
//! time by handle (`dsm_*`), tables of contents in them (`shm_toc`), message queues
//! (`shm_mq`), condition variables, dynamic shared areas (`dsa`) and hash tables over them
//! (`dshash`); and PostgreSQL's own hash tables (`hash_create`, `ShmemInitHash`).
//!
//! The memory behind every segment is one memfd the supervisor makes (`backing`): nothing of it
//! exists in the file system, so nothing can be left behind by a crash or a `SIGKILL`; a segment
//! is a range of it, found through a table in the main segment (`control`). Everything kept in
//! shared memory refers to other shared things by offset or number, never by address, so a
//! process that maps it elsewhere (an attached one) is a full peer.

pub mod backing;
pub mod control;
pub mod cv;
pub mod dsa;
pub mod dshash;
pub mod hash;
pub mod hashfn;
pub mod mq;
pub mod peer;
pub mod segment;
pub mod toc;
