//! Handles (HND-1..11) and notification (NTF-1..7): status of a handle through a worker's life,
//! the waits (including the supervisor dying under them), termination at any moment, pfree, the
//! type of a pid, and SIGUSR1 to the notify pid — never to a process that merely reuses its pid.
//! The calls are made by the dyn_probe "driver" worker (c_tests/modules/dyn_script.h).

mod common;

use common::*;
use std::fs;
use std::process::{Child, Command};
use std::time::Duration;

#[test]
fn handle_reads_started_stopped_started_across_restarts() {
    // HND-2: a worker that exits 1 with restart time 1 s: one handle reads STARTED(p1), then
    // STOPPED while it waits to restart, then STARTED with a new pid.
    let c =
        dyn_driver("reg,h=1,name=flapper,mode=exit:300,arg=1,restart=1;watch,h=1,ms=2000").start();
    c.wait_for_log("dyn: watch h=1 end", PROMPT);
    let seq: Vec<(String, i32)> = dyn_results(&c, "watch h=1 status=")
        .iter()
        .map(|l| (status_of(l).to_string(), field_i32(l, "pid=").unwrap()))
        .skip_while(|(s, _)| s == "NOT_YET_STARTED")
        .collect();
    assert!(seq.len() >= 3, "status sequence {seq:?}");
    assert_eq!(seq[0].0, "STARTED", "{seq:?}");
    assert_eq!(seq[1], ("STOPPED".to_string(), 0), "{seq:?}");
    assert_eq!(seq[2].0, "STARTED", "{seq:?}");
    assert_ne!(seq[0].1, seq[2].1, "a restart has a new pid: {seq:?}");
    assert!(
        seq.iter().all(|(s, _)| s == "STARTED" || s == "STOPPED"),
        "never NOT_YET_STARTED again nor anything else: {seq:?}"
    );
    let starts = c.wait_for_log_count(&dyn_started("flapper"), 2, PROMPT);
    assert_eq!(field_i32(&starts[0], "pid="), Some(seq[0].1));
    assert_eq!(field_i32(&starts[1], "pid="), Some(seq[2].1));
}

#[test]
fn wait_for_shutdown_returns_between_restarts() {
    // HND-7: a worker waiting out its restart interval counts as STOPPED, so the shutdown wait
    // returns although the same handle later reads STARTED again (with a new pid).
    let c = dyn_driver(
        "usr1;reg,h=1,name=restarter,mode=exit:200,arg=1,restart=1;\
         waitstart,h=1;waitstop,h=1;get,h=1;until,h=1,status=STARTED,ms=5000;term,h=1;waitstop,h=1",
    )
    .start();
    c.wait_for_log("dyn: script done", PROMPT);
    let start = dyn_result(&c, "waitstart h=1 status=");
    assert_eq!(status_of(&start), "STARTED");
    let p1 = field_i32(&start, "pid=").unwrap();
    let stops = dyn_results(&c, "waitstop h=1 status=");
    assert_eq!(status_of(&stops[0]), "STOPPED");
    let ms = field_i32(&stops[0], "ms=").unwrap();
    assert!(
        ms < 900,
        "returned {ms} ms after the start: at the exit, not at the restart"
    );
    assert_eq!(
        dyn_result(&c, "get h=1 "),
        "dyn: get h=1 status=STOPPED pid=0"
    );
    let again = dyn_result(&c, "until h=1 ");
    assert_eq!(
        status_of(&again),
        "STARTED",
        "the same handle sees the restart: {again}"
    );
    let p2 = field_i32(&again, "pid=").unwrap();
    assert_ne!(p1, p2, "the second start is a restart");
    assert_eq!(status_of(&stops[1]), "STOPPED");
    // Terminated while running: unregistered whatever its restart time (HND-9).
    c.wait_for_log("unregistering background worker \"restarter\"", PROMPT);
    // Window of 1.5 restart intervals: prove it does not come back.
    observe_window(Duration::from_millis(1500));
    assert_eq!(c.count_log(&dyn_started("restarter")), 2);
}

#[test]
fn terminate_before_start_unregisters_it_unstarted_and_notifies() {
    // HND-9 / NTF-3c: a registered worker that is not running (start time never reached) is
    // reported dead at once: handle STOPPED, unregistered, registrant signalled.
    let c = dyn_driver(
        "usr1count;reg,h=1,name=never,start=99;get,h=1;sleep,ms=200;get,h=1;count;\
         term,h=1;waitstop,h=1;get,h=1;sleep,ms=100;count",
    )
    .start();
    c.wait_for_log("dyn: script done", PROMPT);
    let gets = dyn_results(&c, "get h=1 ");
    assert_eq!(
        gets,
        vec![
            "dyn: get h=1 status=NOT_YET_STARTED pid=0",
            "dyn: get h=1 status=NOT_YET_STARTED pid=0",
            "dyn: get h=1 status=STOPPED pid=0",
        ]
    );
    assert_eq!(
        status_of(&dyn_results(&c, "waitstop h=1 status=")[0]),
        "STOPPED"
    );
    c.wait_for_log("unregistering background worker \"never\"", PROMPT);
    let counts: Vec<i32> = dyn_results(&c, "usr1 count=")
        .iter()
        .map(|l| field_i32(l, "count=").unwrap())
        .collect();
    assert_eq!(counts[0], 0, "nothing happened to it before the terminate");
    assert!(
        counts[1] >= 1,
        "terminating an unstarted worker notifies: {counts:?}"
    );
    assert_eq!(
        c.count_log("starting background worker process \"never\""),
        0
    );
    assert_eq!(c.count_log(&dyn_started("never")), 0);
}

#[test]
fn terminate_twice_and_after_exit_is_harmless() {
    // HND-8..10: terminate a running worker twice (it gets one SIGTERM: FATAL, exit 1, not
    // restarted despite restart=1), and again after it is gone; terminate a worker that exited
    // by itself. The next registrations reuse the freed slots and must not inherit a terminate.
    let c = dyn_driver(
        "usr1;reg,h=1,name=victim,restart=1;waitstart,h=1;term,h=1;term,h=1;waitstop,h=1;term,h=1;\
         reg,h=2,name=next;waitstart,h=2;\
         reg,h=3,name=quick,mode=exit,arg=0;waitstop,h=3;term,h=3;term,h=3;\
         reg,h=4,name=after;waitstart,h=4;sleep,ms=1500;get,h=2;get,h=4",
    )
    .start();
    // "victim" may get its SIGTERM before it logs its start line: its pid comes from the wait.
    let victim = field_i32(&dyn_result(&c, "waitstart h=1 status=STARTED"), "pid=").unwrap();
    c.wait_for_log(
        "FATAL:  terminating background worker \"victim\" due to administrator command",
        PROMPT,
    );
    c.wait_for_log(
        &format!("background worker \"victim\" (PID {victim}) exited with exit code 1"),
        PROMPT,
    );
    assert_eq!(
        status_of(&dyn_result(&c, "waitstop h=1 status=")),
        "STOPPED"
    );
    assert_eq!(
        status_of(&dyn_result(&c, "waitstop h=3 status=")),
        "STOPPED"
    );
    c.wait_for_log("dyn: script done", PROMPT);
    let next = dyn_wait_started(&c, "next", 1);
    let after = dyn_wait_started(&c, "after", 1);
    assert_eq!(
        dyn_result(&c, "get h=2 "),
        format!("dyn: get h=2 status=STARTED pid={next}")
    );
    assert_eq!(
        dyn_result(&c, "get h=4 "),
        format!("dyn: get h=4 status=STARTED pid={after}")
    );
    assert_eq!(
        c.count_log("starting background worker process \"victim\""),
        1,
        "terminated: never restarted"
    );
    assert_eq!(
        c.count_log("due to administrator command"),
        1,
        "one SIGTERM only"
    );
    assert!(pid_alive(next) && pid_alive(after));
}

#[test]
fn waits_complete_without_a_notify_pid_or_a_sigusr1_handler() {
    // HND-5 improvement: PostgreSQL's waits sleep until SIGUSR1 sets the latch, so a caller that
    // is not the notify pid hangs. Here notify=0, and then notify=self with SIGUSR1 left at its
    // default; both waits complete promptly (bounded re-polls) and the caller survives.
    let c = dyn_driver(
        "reg,h=1,name=quiet,mode=exit:300,notify=0;waitstart,h=1;waitstop,h=1;\
         reg,h=2,name=unheard,mode=exit:300;waitstart,h=2;waitstop,h=2",
    )
    .start();
    c.wait_for_log("dyn: script done", PROMPT);
    for h in [1, 2] {
        let s = dyn_result(&c, &format!("waitstart h={h} status="));
        let e = dyn_result(&c, &format!("waitstop h={h} status="));
        eprintln!("{s}\n{e}");
        assert_eq!(status_of(&s), "STARTED", "{s}");
        assert_eq!(status_of(&e), "STOPPED", "{e}");
        assert!(field_i32(&s, "ms=").unwrap() < 1000, "{s}");
        assert!(field_i32(&e, "ms=").unwrap() < 1300, "{e}");
    }
}

#[test]
fn notify_pid_gets_sigusr1_on_start_and_on_exit() {
    // NTF-3a/b: one SIGUSR1 when the worker is forked, one when it exits.
    let c = dyn_driver(
        "usr1count;count;reg,h=1,name=told,mode=exit:300;waitstart,h=1;sleep,ms=50;count;\
         waitstop,h=1;sleep,ms=50;count",
    )
    .start();
    c.wait_for_log("dyn: script done", PROMPT);
    let counts: Vec<i32> = dyn_results(&c, "usr1 count=")
        .iter()
        .map(|l| field_i32(l, "count=").unwrap())
        .collect();
    assert_eq!(counts.len(), 3);
    assert_eq!(counts[0], 0, "nothing registered yet: {counts:?}");
    assert!(counts[1] >= 1, "SIGUSR1 on start: {counts:?}");
    assert!(counts[2] > counts[1], "SIGUSR1 on exit: {counts:?}");
}

/// A pid that is certainly not running now (a child that has been reaped).
fn dead_pid() -> i32 {
    let mut child = Command::new("true").spawn().expect("run true");
    let pid = child.id() as i32;
    child.wait().expect("wait for true");
    pid
}

#[test]
fn invalid_notify_pid_is_dropped_with_a_debug_line() {
    // NTF-2: a notify pid that is no live process is replaced by 0 (DEBUG1 line), and the worker
    // starts anyway.
    let dead = dead_pid();
    let c = dyn_driver(&format!("usr1;reg,h=1,name=unnotified,notify={dead}")).start();
    let line = c.wait_for_log(
        &format!("worker notification PID {dead} is not valid"),
        PROMPT,
    );
    assert!(line.contains("DEBUG"), "{line}");
    dyn_wait_started(&c, "unnotified", 1);
}

#[test]
fn notify_pid_0_is_logged_as_not_valid_like_postgresql() {
    // NTF-2 [obs]: PostgreSQL checks every notify pid, 0 included
    // (PostmasterMarkPIDForWorkerNotify(0) fails), so it logs "worker notification PID 0 is not
    // valid" at DEBUG1 for an explicit 0 too.
    let c = dyn_driver("usr1;reg,h=1,name=zero,notify=0").start();
    dyn_wait_started(&c, "zero", 1);
    c.wait_for_log("worker notification PID 0 is not valid", PROMPT);
}

/// Starts `sleep 30` under pid `want` (root: through /proc/sys/kernel/ns_last_pid). None when
/// not possible here.
fn spawn_with_pid(want: i32) -> Option<Child> {
    for _ in 0..300 {
        if fs::write("/proc/sys/kernel/ns_last_pid", format!("{}", want - 1)).is_err() {
            return None;
        }
        let mut child = Command::new("sleep").arg("30").spawn().ok()?;
        if child.id() as i32 == want {
            return Some(child);
        }
        let _ = child.kill();
        let _ = child.wait();
    }
    None
}

#[test]
fn notify_pid_that_exits_first_is_forgotten_and_its_pid_never_signalled() {
    // NTF-5: "launcher" (a dynamic worker) registers "orphan" with itself as notify pid and
    // exits. When "orphan" then exits, nobody may be signalled — in particular not an unrelated
    // process that now has the launcher's pid (SIGUSR1's default action would kill it) — and
    // the supervisor carries on (a later registration works).
    let c = dyn_driver(
        "usr1;reg,h=1,name=launcher,mode=script:DYN_LAUNCHER_SCRIPT;waitstart,h=1;waitstop,h=1;\
         gate,name=go;reg,h=2,name=after;waitstart,h=2",
    )
    .env(
        "DYN_LAUNCHER_SCRIPT",
        "usr1;reg,h=1,name=orphan;waitstart,h=1;exit,code=0",
    )
    .start();
    let launcher = dyn_wait_started(&c, "launcher", 1);
    let orphan = dyn_wait_started(&c, "orphan", 1);
    c.wait_for_log(
        &format!("background worker \"launcher\" (PID {launcher}) exited with exit code 0"),
        PROMPT,
    );
    wait_until("the launcher is reaped", PROMPT, || {
        proc_stat(launcher).is_none()
    });
    let mut impostor = spawn_with_pid(launcher);
    match &impostor {
        Some(_) => eprintln!("an unrelated `sleep` now has the launcher's pid {launcher}"),
        None => eprintln!(
            "could not give a new process pid {launcher} (needs root and a writable \
             /proc/sys/kernel/ns_last_pid); checking only that the supervisor survives"
        ),
    }

    send_signal(orphan, libc::SIGTERM);
    c.wait_for_log(
        &format!("background worker \"orphan\" (PID {orphan}) exited with exit code 1"),
        PROMPT,
    );
    c.wait_for_log("unregistering background worker \"orphan\"", PROMPT);
    // Window: prove the impostor is not signalled.
    observe_window(Duration::from_millis(300));
    if let Some(child) = impostor.as_mut() {
        let status = child.try_wait().expect("try_wait");
        let _ = child.kill();
        let _ = child.wait();
        assert!(
            status.is_none(),
            "the process that reused the notify pid {launcher} was killed: {status:?}"
        );
    }
    assert!(pid_alive(c.pid), "the supervisor keeps running");
    fs::write(c.state_dir.join("go"), "").expect("open the gate");
    assert_eq!(
        status_of(&dyn_result(&c, "waitstart h=2 status=")),
        "STARTED"
    );
}

#[test]
fn handles_are_palloced_and_freeable_with_pfree() {
    // DYN-7: the handle is palloc'd; pfree releases it and the caller goes on. A NULL handle
    // pointer is allowed too.
    let c = dyn_driver(
        "usr1;reg,h=1,name=freed;waitstart,h=1;free,h=1;reg,h=-1,name=handleless;\
         reg,h=2,name=kept,mode=exit,arg=0;waitstop,h=2;free,h=2",
    )
    .start();
    c.wait_for_log("dyn: script done", PROMPT);
    assert_eq!(dyn_result(&c, "free h=1 "), "dyn: free h=1 done");
    assert_eq!(dyn_result(&c, "reg h=-1 "), "dyn: reg h=-1 ok=1");
    assert_eq!(dyn_result(&c, "free h=2 "), "dyn: free h=2 done");
    dyn_wait_started(&c, "freed", 1);
    dyn_wait_started(&c, "handleless", 1);
    let driver = c.wait_for_worker_process("driver", PROMPT);
    assert!(pid_alive(driver), "the driver survived its pfree calls");
}

#[test]
fn type_by_pid_for_live_workers_and_null_for_unknown_pids() {
    // HND-11: the bgw_type of the worker running that pid (dynamic or static), NULL otherwise.
    let c = dyn_driver(
        "usr1;reg,h=1,name=typed,type=my type;waitstart,h=1;typeof,h=1;typeof,pid=self;\
         typeof,pid=1;typeof,pid=0",
    )
    .start();
    c.wait_for_log("dyn: script done", PROMPT);
    let typed = dyn_wait_started(&c, "typed", 1);
    let driver = c.wait_for_worker_process("driver", PROMPT);
    let types = dyn_results(&c, "typeof ");
    assert_eq!(
        types,
        vec![
            format!("dyn: typeof pid={typed} type=\"my type\""),
            format!("dyn: typeof pid={driver} type=\"dyn driver\""),
            "dyn: typeof pid=1 type=NULL".to_string(),
            "dyn: typeof pid=0 type=NULL".to_string(),
        ]
    );
}

/// Runs a driver that reaches a wait, kills the supervisor with SIGKILL in the middle of it,
/// and returns the wait's result line and how long after the kill it returned.
fn kill_supervisor_during(script: &str, wait: &str) -> (String, i64) {
    let mut c = dyn_driver(script).start();
    c.wait_for_log(&format!("dyn: {wait} h=1 begin"), PROMPT);
    // Give the wait time to go to sleep.
    observe_window(Duration::from_millis(300));
    let _ = c.worker_processes();
    let killed_at = epoch_ms();
    c.signal(libc::SIGKILL);
    c.wait_exit(PROMPT);
    let line = dyn_result(&c, &format!("{wait} h=1 status="));
    let at = field_str(&line, "at=").unwrap().parse::<i64>().unwrap();
    (line, at - killed_at)
}

#[test]
fn startup_wait_returns_postmaster_died_when_the_supervisor_is_killed() {
    // HND-4 / PMD-3: the worker is never eligible to start (start time 99), so only the
    // supervisor's death can end the wait.
    let (line, ms) = kill_supervisor_during(
        "usr1;reg,h=1,name=never,start=99;waitstart,h=1",
        "waitstart",
    );
    eprintln!("startup wait returned {ms} ms after SIGKILL: {line}");
    assert_eq!(status_of(&line), "POSTMASTER_DIED", "{line}");
    assert!(ms <= 1000, "took {ms} ms (target 100 ms)");
}

#[test]
fn shutdown_wait_returns_postmaster_died_when_the_supervisor_is_killed() {
    // HND-7 / PMD-3.
    let (line, ms) = kill_supervisor_during(
        "usr1;reg,h=1,name=sleeper;waitstart,h=1;waitstop,h=1",
        "waitstop",
    );
    eprintln!("shutdown wait returned {ms} ms after SIGKILL: {line}");
    assert_eq!(status_of(&line), "POSTMASTER_DIED", "{line}");
    assert!(ms <= 1000, "took {ms} ms (target 100 ms)");
}

#[test]
fn a_worker_launches_and_waits_for_its_own_workers() {
    // DYN-14 / NTF-7, autoprewarm's shape: a dynamic "leader" installs
    // procsignal_sigusr1_handler, registers per-task workers with notify = MyProcPid, and waits
    // for each to start and to finish before exiting.
    let c =
        dyn_driver("usr1;reg,h=1,name=leader,mode=script:DYN_LEADER;waitstart,h=1;waitstop,h=1")
            .env(
                "DYN_LEADER",
                "usr1;reg,h=1,name=task 1,mode=exit:200;waitstart,h=1;waitstop,h=1;\
             reg,h=2,name=task 2,mode=exit:200;waitstart,h=2;waitstop,h=2;exit,code=0",
            )
            .start();
    let leader = dyn_wait_started(&c, "leader", 1);
    let t1 = dyn_wait_started(&c, "task 1", 1);
    let t2 = dyn_wait_started(&c, "task 2", 1);
    c.wait_for_log(
        &format!("background worker \"leader\" (PID {leader}) exited with exit code 0"),
        PROMPT,
    );
    let driver = c.wait_for_worker_process("driver", PROMPT);
    let of = |pid: i32| -> Vec<String> {
        wait_until("the driver's shutdown wait", PROMPT, || {
            c.log_lines()
                .iter()
                .any(|l| log_pid(l) == Some(driver) && l.contains("dyn: waitstop h=1 status="))
        });
        c.log_lines()
            .into_iter()
            .filter(|l| log_pid(l) == Some(pid) && l.contains("dyn: wait"))
            .map(|l| l[l.find("dyn: ").unwrap()..].to_string())
            .collect()
    };
    let driver_lines = of(driver);
    assert_eq!(
        status_of(driver_lines.last().unwrap()),
        "STOPPED",
        "{driver_lines:?}"
    );
    let leader_lines = of(leader);
    let results: Vec<&String> = leader_lines
        .iter()
        .filter(|l| l.contains("status="))
        .collect();
    assert_eq!(results.len(), 4, "{leader_lines:?}");
    assert_eq!(status_of(results[0]), "STARTED");
    assert_eq!(field_i32(results[0], "pid="), Some(t1));
    assert_eq!(status_of(results[1]), "STOPPED");
    assert_eq!(status_of(results[2]), "STARTED");
    assert_eq!(field_i32(results[2], "pid="), Some(t2));
    assert_eq!(status_of(results[3]), "STOPPED");
    // The tasks were finished when the leader saw them stop.
    for (name, pid) in [("task 1", t1), ("task 2", t2)] {
        assert!(c
            .log_index(&format!("\"{name}\" (PID {pid}) exited with exit code 0"))
            .is_some());
    }
    c.wait_for_log(
        &format!("background worker \"leader\" (PID {leader}) exited with exit code 0"),
        PROMPT,
    );
}
