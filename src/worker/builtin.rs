//! The built-in entry table: what `bgw_library_name = "postgres"` (or `"lightdb"`) names (LOAD-2).

use crate::pg::types::*;

type Entry = unsafe extern "C" fn(Datum);

/// Waits on its latch until terminated (SIGTERM's default FATAL) or the supervisor dies.
unsafe extern "C" fn idle_main(_arg: Datum) {
    crate::worker::signals::unblock_signals();
    loop {
        // SAFETY: MyLatch is this worker's own latch, set up before the entry runs.
        unsafe {
            let latch = crate::pg::MyLatch;
            crate::latch::wait(latch, WL_LATCH_SET | WL_EXIT_ON_PM_DEATH, -1, -1);
            crate::latch::reset_latch(latch);
        }
    }
}

/// Exits at once with the exit code in `main_arg`.
unsafe extern "C" fn exit_main(arg: Datum) {
    crate::worker::exit::proc_exit(arg as i32);
}

const TABLE: &[(&str, Entry)] = &[
    ("BackgroundWorkerIdleMain", idle_main),
    ("BackgroundWorkerExitMain", exit_main),
];

pub fn lookup(name: &[u8]) -> Option<Entry> {
    TABLE
        .iter()
        .find(|(n, _)| n.as_bytes() == name)
        .map(|&(_, f)| f)
}
