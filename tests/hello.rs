//! The minimal hello worker of symbol-surface.md §5 (c_tests/modules/hello_bgw.c, unchanged)
//! builds against our headers with -Wall -Wextra -Werror, starts, ticks, and shuts down cleanly.

mod common;

use common::*;

#[test]
fn hello_worker_compiles_unchanged_and_ticks() {
    let mut c = Setup::new().preload(&["hello_bgw"]).start();
    let hello = c.wait_for_log("hello from hello worker (arg 42)", PROMPT);
    assert!(hello.contains(" LOG:  "), "{hello}");
    assert_eq!(
        log_source(&hello).as_deref(),
        Some("hello worker"),
        "{hello}"
    );
    let pid = log_pid(&hello).expect("pid in the log prefix");
    let ticks = c.wait_for_log_count("hello tick", 2, PROMPT);
    let gap = log_time_ms(&ticks[1]) - log_time_ms(&ticks[0]);
    assert!(
        (900..2000).contains(&gap),
        "ticks {gap} ms apart, expected about 1 s"
    );
    assert_eq!(c.wait_for_worker_process("hello worker", PROMPT), pid);
    assert_eq!(cmdline(pid).as_deref(), Some("bgworker: hello worker"));

    // Fast shutdown: its SIGTERM handler sets the latch and it exits 0 (logged at DEBUG1).
    c.signal(libc::SIGINT);
    let st = c.wait_exit(PROMPT);
    assert_eq!(st.code(), Some(0));
    c.wait_for_log(
        &format!("background worker \"hello worker\" (PID {pid}) exited with exit code 0"),
        PROMPT,
    );
    assert!(!pid_alive(pid));
}
