//! Dynamic registration (DYN-1..14): slots, the parallel limit, invalid definitions, the
//! supervisor refusing its own and late registrations, crash-restart, sanitised strings.
//! A static "driver" worker of the dyn_probe module runs a script of API calls and logs each
//! result (c_tests/modules/dyn_script.h); the tests read those lines and the supervisor's log.

mod common;

use common::*;
use std::time::Duration;

#[test]
fn full_slots_return_false_then_a_freed_slot_is_reused_and_the_old_handle_reads_stopped() {
    // 4 slots: the driver holds one (REG-7), so three dynamic registrations fit (DYN-4); the
    // fourth, made before any of them started, fails: a registered-but-unstarted worker already
    // holds its slot (DYN-5). Then h1 is terminated; its slot is the only free one, so "e" reuses
    // it, and h1 is now stale: it reads STOPPED, never "e"'s pid, and terminating through it
    // leaves "e" alone (HND-3, HND-10).
    let c = dyn_driver(
        "usr1;reg,h=1,name=a;reg,h=2,name=b;reg,h=3,name=c;reg,h=4,name=d;\
         waitstart,h=1;waitstart,h=2;waitstart,h=3;\
         term,h=1;waitstop,h=1;\
         reg,h=5,name=e;waitstart,h=5;get,h=1;term,h=1;sleep,ms=300;get,h=5;get,h=1",
    )
    .conf("max_worker_processes = 4")
    .start();
    for h in 1..=3 {
        assert_eq!(
            dyn_result(&c, &format!("reg h={h} ")),
            format!("dyn: reg h={h} ok=1")
        );
    }
    assert_eq!(
        dyn_result(&c, "reg h=4 "),
        "dyn: reg h=4 ok=0",
        "a fourth registration must fail: every slot is taken"
    );
    for name in ["a", "b", "c"] {
        c.wait_for_log(&format!("registering background worker \"{name}\""), PROMPT);
    }
    // "a" may be terminated before it logs anything; "b" and "c" stay.
    dyn_wait_started(&c, "b", 1);
    dyn_wait_started(&c, "c", 1);
    let stop = dyn_result(&c, "waitstop h=1 status=");
    assert_eq!(status_of(&stop), "STOPPED");
    c.wait_for_log("unregistering background worker \"a\"", PROMPT);

    assert_eq!(
        dyn_result(&c, "reg h=5 "),
        "dyn: reg h=5 ok=1",
        "the freed slot is free again"
    );
    let e_pid = dyn_wait_started(&c, "e", 1);
    let start = dyn_result(&c, "waitstart h=5 status=");
    assert_eq!(status_of(&start), "STARTED");
    assert_eq!(field_i32(&start, "pid="), Some(e_pid));

    let stale = dyn_result(&c, "get h=1 ");
    assert_eq!(
        stale, "dyn: get h=1 status=STOPPED pid=0",
        "a stale handle reads STOPPED"
    );
    c.wait_for_log("dyn: script done", PROMPT);
    let gets = dyn_results(&c, "get h=5 ");
    assert_eq!(
        gets,
        vec![format!("dyn: get h=5 status=STARTED pid={e_pid}")],
        "terminating through the stale handle must not touch the new occupant"
    );
    assert_eq!(dyn_results(&c, "get h=1 ").len(), 2);
    assert!(dyn_results(&c, "get h=1 ")
        .iter()
        .all(|l| l.ends_with("status=STOPPED pid=0")));
    assert!(pid_alive(e_pid));
    assert_eq!(
        c.count_log("due to administrator command"),
        1,
        "only \"a\" was terminated"
    );
    // "d" never got anywhere.
    assert_eq!(c.count_log("registering background worker \"d\""), 0);
    assert_eq!(c.count_log(&dyn_started("d")), 0);
}

#[test]
fn invalid_definition_raises_an_error_the_caller_can_catch() {
    // DYN-2: the sanity checks (SAN-2..4) raise ERROR in the caller. The first two are caught
    // with PG_TRY and the caller carries on (the script reports their SQLSTATE and message); the
    // last one is re-thrown from PG_CATCH so the report reaches the top level and is logged.
    let c = dyn_driver(
        "usr1;reg,h=1,name=bad restart,restart=-5,try=1;\
         reg,h=2,name=bad parallel,flags=17,restart=5,try=1;\
         reg,h=3,name=good;waitstart,h=3;\
         reg,h=4,name=bad db,flags=3,start=0,try=1,rethrow=1",
    )
    .start();
    assert_eq!(dyn_result(&c, "reg h=1 "), "dyn: reg h=1 caught ERROR");
    assert_eq!(dyn_result(&c, "reg h=2 "), "dyn: reg h=2 caught ERROR");
    for h in [1, 2] {
        let e = dyn_result(&c, &format!("reg h={h} error"));
        assert!(
            e.starts_with(&format!(
                "dyn: reg h={h} error sqlstate=22023 message=background worker"
            )),
            "{e}"
        );
    }
    assert_eq!(
        dyn_result(&c, "reg h=3 "),
        "dyn: reg h=3 ok=1",
        "the caller goes on after catching"
    );
    assert_eq!(
        status_of(&dyn_result(&c, "waitstart h=3 status=")),
        "STARTED"
    );
    assert_eq!(dyn_result(&c, "reg h=4 "), "dyn: reg h=4 caught ERROR");
    let err = c.wait_for_log(
        "ERROR:  background worker \"bad db\": cannot request database access if starting at postmaster start",
        PROMPT,
    );
    eprintln!("re-thrown error: {err}");
    assert_eq!(log_source(&err).as_deref(), Some("dyn driver"), "{err}");
    // An uncaught ERROR ends the worker with exit code 1.
    c.wait_for_log("background worker \"dyn driver\" (PID ", PROMPT);
    wait_until("the driver's exit line", PROMPT, || {
        !exit_lines(&c, "dyn driver", 1).is_empty()
    });
    for bad in ["bad restart", "bad parallel", "bad db"] {
        assert_eq!(
            c.count_log(&format!("registering background worker \"{bad}\"")),
            0,
            "an invalid definition must not be registered"
        );
    }
}

#[test]
fn registration_in_the_supervisor_itself_returns_false() {
    // DYN-1: the supervisor is not a registrant (called from _PG_init while preloading).
    let c = Setup::new()
        .preload(&["dyn_probe"])
        .env("DYN_PGINIT_REGISTER", "1")
        .start();
    c.wait_for_log(
        "dyn_probe: register in the supervisor returned ok=0 handle=NULL",
        PROMPT,
    );
    // Window: prove nothing was registered behind the false.
    observe_window(Duration::from_millis(500));
    assert_eq!(c.count_log("from _PG_init\""), 0, "{}", c.log_text());
    assert!(c.worker_pids().is_empty());
}

#[test]
fn parallel_limit_counts_only_parallel_workers() {
    // DYN-3 with max_parallel_workers = 2: a third parallel registration fails, a non-parallel
    // one still succeeds, and once a parallel worker has exited a new one fits again.
    let c = dyn_driver(
        "usr1;reg,h=1,name=p1,flags=17,mode=exit:400;reg,h=2,name=p2,flags=17;\
         reg,h=3,name=p3,flags=17;reg,h=4,name=n1,flags=1;\
         waitstop,h=1;reg,h=5,name=p4,flags=17;waitstart,h=5",
    )
    .conf("max_parallel_workers = 2")
    .start();
    assert_eq!(dyn_result(&c, "reg h=1 "), "dyn: reg h=1 ok=1");
    assert_eq!(dyn_result(&c, "reg h=2 "), "dyn: reg h=2 ok=1");
    assert_eq!(
        dyn_result(&c, "reg h=3 "),
        "dyn: reg h=3 ok=0",
        "two parallel workers are the limit"
    );
    assert_eq!(
        dyn_result(&c, "reg h=4 "),
        "dyn: reg h=4 ok=1",
        "the parallel limit does not apply to other workers"
    );
    assert_eq!(
        status_of(&dyn_result(&c, "waitstop h=1 status=")),
        "STOPPED"
    );
    assert_eq!(
        dyn_result(&c, "reg h=5 "),
        "dyn: reg h=5 ok=1",
        "p1 exited, so a parallel worker fits again"
    );
    assert_eq!(
        status_of(&dyn_result(&c, "waitstart h=5 status=")),
        "STARTED"
    );
    dyn_wait_started(&c, "p4", 1);
    dyn_wait_started(&c, "n1", 1);
    assert_eq!(c.count_log(&dyn_started("p3")), 0);
}

#[test]
fn registration_during_shutdown_is_never_started_and_its_waiter_gets_stopped() {
    // DYN-10: once a shutdown is under way new registrations are released unstarted and the
    // registrant is notified (NTF-3d). The driver keeps running on SIGTERM (own handler), waits
    // for its first worker to go, then registers "late".
    let c = dyn_driver(
        "usr1count;sigterm;reg,h=1,name=running;waitstart,h=1;\
         waitterm;waitstop,h=1;sleep,ms=100;count;\
         reg,h=2,name=late;waitstart,h=2;get,h=2;sleep,ms=200;count;exit,code=0",
    )
    .start();
    assert_eq!(
        status_of(&dyn_result(&c, "waitstart h=1 status=")),
        "STARTED"
    );
    let mut c = c;
    c.signal(libc::SIGTERM);
    c.wait_for_log("received smart shutdown request", PROMPT);
    dyn_result(&c, "got SIGTERM");
    assert_eq!(
        status_of(&dyn_result(&c, "waitstop h=1 status=")),
        "STOPPED"
    );
    let start = dyn_result(&c, "waitstart h=2 status=");
    assert_eq!(
        status_of(&start),
        "STOPPED",
        "a registration during shutdown is never started: {start}"
    );
    assert_eq!(
        dyn_result(&c, "get h=2 "),
        "dyn: get h=2 status=STOPPED pid=0"
    );
    c.wait_for_log("dyn: exiting code=0", PROMPT);
    let counts: Vec<i32> = dyn_results(&c, "usr1 count=")
        .iter()
        .map(|l| field_i32(l, "count=").unwrap())
        .collect();
    assert_eq!(counts.len(), 2, "{counts:?}");
    assert!(
        counts[1] > counts[0],
        "the refused registrant is sent SIGUSR1 (NTF-3d): counts {counts:?}"
    );
    let st = c.wait_exit(PROMPT);
    assert_eq!(exit_code(&st), Some(0));
    assert_eq!(c.count_log(&dyn_started("late")), 0);
    assert_eq!(
        c.count_log("starting background worker process \"late\""),
        0
    );
}

#[test]
fn crash_restart_drops_never_restart_dynamic_workers_and_keeps_restartable_ones() {
    // CRASH-3: after a cluster crash restart every NEVER_RESTART registration is gone (logged
    // "unregistering"), and a dynamic worker with a restart time comes back at once, ignoring its
    // 10 s interval.
    let c = dyn_driver(
        "usr1;reg,h=1,name=oneshot;reg,h=2,name=keeper,restart=10;\
         waitstart,h=1;waitstart,h=2;gate,name=crash;reg,h=3,name=crasher,mode=exit,arg=3",
    )
    .start();
    let oneshot = dyn_wait_started(&c, "oneshot", 1);
    let keeper1 = dyn_wait_started(&c, "keeper", 1);
    // Only once both have logged their start does the driver launch the crasher.
    std::fs::write(c.state_dir.join("crash"), b"").unwrap();
    dyn_wait_started(&c, "crasher", 1);
    let reinit = c.wait_for_log("all server processes terminated; reinitializing", PROMPT);
    let keeper2 = dyn_wait_started(&c, "keeper", 2);
    assert_ne!(keeper1, keeper2);
    let back = &c.lines_with(&[&dyn_started("keeper")])[1];
    let gap = log_time_ms(back) - log_time_ms(&reinit);
    assert!(
        gap < 2000,
        "the kept worker came back {gap} ms after re-initialisation"
    );
    for gone in ["oneshot", "crasher"] {
        c.wait_for_log(
            &format!("unregistering background worker \"{gone}\""),
            PROMPT,
        );
    }
    // Window: prove the dropped ones do not come back.
    observe_window(Duration::from_millis(500));
    assert_eq!(c.count_log(&dyn_started("oneshot")), 1);
    assert_eq!(c.count_log(&dyn_started("crasher")), 1);
    assert!(!pid_alive(oneshot));
    assert!(pid_alive(keeper2));
}

#[test]
fn non_ascii_strings_are_sanitised() {
    // DYN-9: every byte that is not printable ASCII becomes '?' in the copy the supervisor
    // keeps: the log, the process title and the worker's own MyBgworkerEntry. (The shared slot
    // keeps the registrant's bytes, as in PostgreSQL, so GetBackgroundWorkerTypeByPid is not
    // checked here.)
    let c = dyn_driver("usr1;reg,h=1,name=dyn é naïve,type=typé;waitstart,h=1").start();
    c.wait_for_log("registering background worker \"dyn ?? na??ve\"", PROMPT);
    let line = c.wait_for_log("dyn worker \"dyn ?? na??ve\" started pid=", PROMPT);
    let pid = field_i32(&line, "pid=").unwrap();
    c.track(pid);
    assert!(
        line.contains("type=\"typ??\""),
        "MyBgworkerEntry->bgw_type: {line}"
    );
    assert_eq!(
        log_source(&line).as_deref(),
        Some("typ??"),
        "log prefix: {line}"
    );
    let title = cmdline(pid).unwrap_or_default();
    assert!(
        title_names(&title, "dyn ?? na??ve"),
        "process title {title:?}"
    );
    assert_eq!(
        status_of(&dyn_result(&c, "waitstart h=1 status=")),
        "STARTED"
    );
    assert!(
        !c.log_text().contains("naïve\""),
        "the raw name must not appear in the supervisor's log lines"
    );
}

#[test]
fn a_notify_pid_that_is_no_process_of_this_supervisor_is_refused_and_never_signalled() {
    // An unrelated process (default SIGUSR1 disposition: it would die of one).
    let mut unrelated = std::process::Command::new("sleep")
        .arg("60")
        .spawn()
        .unwrap();
    let stranger = unrelated.id();
    let c = dyn_driver(&format!(
        "reg,h=0,name=stranger,notify={stranger},try=1;reg,h=1,name=mine,notify=self;waitstart,h=1;term,h=1;waitstop,h=1"
    ))
    .start();
    assert_eq!(dyn_result(&c, "reg h=0 "), "dyn: reg h=0 caught ERROR");
    assert_eq!(
        dyn_result(&c, "reg h=0 error"),
        format!(
            "dyn: reg h=0 error sqlstate=22023 message=background worker \"stranger\": invalid \
             notify process ID {stranger}: only this supervisor's workers and processes attached \
             to it can be notified"
        )
    );
    // A notify process of its own is fine, and is notified (its waits complete).
    assert_eq!(dyn_result(&c, "reg h=1 "), "dyn: reg h=1 ok=1");
    assert_eq!(status_of(&dyn_result(&c, "waitstop h=1 status")), "STOPPED");
    observe_window(std::time::Duration::from_millis(100));
    assert!(
        unrelated.try_wait().unwrap().is_none(),
        "the unrelated process was signalled"
    );
    let _ = unrelated.kill();
    let _ = unrelated.wait();
}
