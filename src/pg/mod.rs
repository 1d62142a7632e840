//! The leaf layer: PostgreSQL 15's C types and constants, the global variables modules read and
//! write, and raising an error through PostgreSQL's error path. It depends on nothing else in the
//! crate, so every other module (and the C face in `abi`) builds on it without import cycles.

pub mod error;
pub mod globals;
pub mod interrupts;
pub mod text;
pub mod types;

pub use error::{
    cstr, make_sqlstate, raise, raise_fmt, raise_with_code, report_detail, report_file_access,
    report_fmt, Text,
};
pub use globals::*;
pub use interrupts::{check_for_interrupts, hold_interrupts, resume_interrupts};
