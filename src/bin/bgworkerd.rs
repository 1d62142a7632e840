//! `bgworkerd -D DATADIR [-c name=value]...`: the supervisor. All of it lives in libbgworker.so;
//! this program only hands its command line over, so modules it loads share the library's globals.
#![no_main]

use std::os::raw::{c_char, c_int};

extern "C" {
    fn BackgroundWorkerPostmasterMain(argc: c_int, argv: *mut *mut c_char) -> c_int;
}

/// # Safety
/// Called by the C runtime with the process's own `argc`/`argv`.
#[no_mangle]
pub unsafe extern "C" fn main(argc: c_int, argv: *mut *mut c_char) -> c_int {
    // SAFETY: these are the process's own argc/argv, as the function requires.
    unsafe { BackgroundWorkerPostmasterMain(argc, argv) }
}
