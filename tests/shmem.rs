//! Shared memory for modules (issue 5): request and startup hooks, ShmemInitStruct with its
//! found flag and size limit, named LWLock tranches, AddinShmemInitLock, PGPROC latches set
//! across processes, and shared memory made afresh by a crash-restart.

mod common;

use common::*;

fn probe(spec: &str) -> Cluster {
    Setup::new()
        .env("SHMEM_PROBE", spec)
        .preload(&["shmem_probe"])
        .start()
}

#[test]
fn increments_under_the_tranche_lock_are_never_lost() {
    let c = probe("count:20000,count:20000,count:20000,report:60000");
    c.wait_for_log("shmem_probe: startup hook found=0 counter=0", PROMPT);
    c.wait_for_log_count("shmem_probe: worker", 3, PROMPT);
    let line = c.wait_for_log("shmem_probe: report counter=", PROMPT);
    assert!(
        line.ends_with("counter=60000"),
        "every increment counted once: {line}"
    );
}

#[test]
fn asking_for_more_than_was_requested_is_an_error_naming_the_structure() {
    let c = probe("toomuch");
    c.wait_for_log(
        "ERROR:  not enough shared memory for data structure \"shmem_probe extra\"",
        PROMPT,
    );
    assert_eq!(c.count_log("got more than was requested"), 0);
}

#[test]
fn another_process_sets_a_workers_latch_through_its_pgproc() {
    let c = probe("waker");
    let line = c.wait_for_log("shmem_probe: woken by another process", PROMPT);
    assert!(line.contains("rc=1"), "{line}");
    c.wait_for_log("shmem_probe: setting the latch of PID", PROMPT);
}

#[test]
fn crash_restart_makes_shared_memory_afresh_and_reruns_the_hooks() {
    let c = probe("count:100,crash");
    // The count worker restarts after the crash (restart 1 s) and counts again from zero.
    c.wait_for_log("shmem_probe: crashing with counter=", PROMPT);
    c.wait_for_log("all server processes terminated; reinitializing", PROMPT);
    // Startup hook ran twice, each time on fresh memory (found=0, counter 0).
    c.wait_for_log_count("shmem_probe: startup hook found=0 counter=0", 2, PROMPT);
    // The crasher may crash before the counter's first run is done (it is stopped with everyone
    // else then); what counts is that it counts to the end again after the restart.
    c.wait_for_log_after(
        "all server processes terminated; reinitializing",
        "shmem_probe: worker 0 done",
        PROMPT,
    );
}
