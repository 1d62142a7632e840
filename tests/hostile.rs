//! Hostile conditions at size: a crash storm of workers that fork descendants (some ignoring
//! every signal, some double-forked out of their group), registrants naming unrelated processes
//! as notify processes, and registrants that die holding a claimed slot, all against one
//! supervisor. Counted at the end: processes left behind, signals to unrelated processes, slots
//! lost, supervisor deaths — each must be 0. Every test prints its figures.
//!
//! Sizes: quick by default; `BGW_STRESS=1` (`make stress`) runs the full sizes.

mod common;

use common::*;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

fn size(quick: usize, full: usize) -> usize {
    if std::env::var("BGW_STRESS").is_ok_and(|v| v == "1") {
        full
    } else {
        quick
    }
}

/// Every grandchild pid the probe workers reported forking.
fn grandchildren(c: &Cluster) -> Vec<i32> {
    c.log_lines()
        .iter()
        .filter(|l| l.contains("forked grandchild="))
        .filter_map(|l| field_i32(l, "grandchild="))
        .filter(|&p| p > 0)
        .collect()
}

#[test]
fn a_crash_storm_of_forking_workers_leaves_no_process_behind() {
    // Each round waits out the grace period of the grandchildren that ignore SIGQUIT (5 s).
    let rounds = size(2, 50);
    // Forkers whose grandchildren ignore SIGTERM/SIGQUIT, in their group or out of it; and a
    // crasher that brings a crash-restart each time it is released.
    let c = Setup::new()
        .workers(&[
            Worker::new("stubborn").mode("forker+stubborn"),
            Worker::new("daemon").mode("forker+daemon+stubborn"),
            Worker::new("quitter")
                .mode("forker+stubborn+exit")
                .restart(0),
            Worker::new("crasher").mode("segv+wait"),
        ])
        .start();
    let started = Instant::now();
    for round in 1..=rounds {
        let crasher = c.wait_started("crasher", round);
        send_signal(crasher, libc::SIGUSR1);
        c.wait_for_log_count(
            "all server processes terminated; reinitializing",
            round,
            Duration::from_secs(30),
        );
    }
    let forked = grandchildren(&c);
    let supervisor_alive = pid_alive(c.pid);
    let stop = bgworkerctl(&c.datadir, &["stop", "--mode", "fast", "--timeout", "60"]);
    assert!(
        stop.status.success(),
        "{}",
        String::from_utf8_lossy(&stop.stderr)
    );
    let left: Vec<i32> = forked.iter().copied().filter(|&p| pid_alive(p)).collect();
    eprintln!(
        "hostile: {rounds} crash-restarts in {:.1} s, {} grandchildren forked, {} left behind, \
         supervisor deaths: {}",
        started.elapsed().as_secs_f64(),
        forked.len(),
        left.len(),
        u8::from(!supervisor_alive)
    );
    assert!(supervisor_alive, "the supervisor died during the storm");
    assert!(forked.len() >= rounds, "{} grandchildren", forked.len());
    assert!(left.is_empty(), "left behind: {left:?}");
}

#[test]
fn registrants_naming_unrelated_processes_never_get_them_signalled() {
    let attempts = size(20, 2000);
    let mut unrelated: Vec<Child> = (0..4)
        .map(|_| Command::new("sleep").arg("600").spawn().unwrap())
        .collect();
    let pids: Vec<u32> = unrelated.iter().map(Child::id).collect();
    // A driver registering workers that exit at once, each naming an unrelated process (tried
    // in PG_TRY: refused) and then itself (accepted).
    let script: String = (0..attempts)
        .map(|i| {
            format!(
                "reg,h=0,name=s{i},notify={},try=1;reg,h=1,name=m{i},mode=exit:0;waitstop,h=1;free,h=1;",
                pids[i % pids.len()]
            )
        })
        .collect();
    let c = dyn_driver(&script).start();
    c.wait_for_log("dyn: script done", Duration::from_secs(600));
    let refused = c.count_log("invalid notify process ID");
    let signalled = unrelated
        .iter_mut()
        .map(|u| u.try_wait().unwrap().is_some())
        .filter(|&gone| gone)
        .count();
    eprintln!(
        "hostile: {attempts} registrations naming unrelated processes, {refused} refused, \
         signals to unrelated processes: {signalled}"
    );
    assert_eq!(signalled, 0);
    assert_eq!(
        dyn_results(&c, "reg h=0 error sqlstate=22023").len(),
        attempts
    );
    for u in &mut unrelated {
        let _ = u.kill();
        let _ = u.wait();
    }
}

#[test]
fn registrants_that_die_holding_a_claimed_slot_lose_no_slot() {
    let deaths = size(10, 1000);
    let slots = 4;
    let c = Setup::new()
        .preload(&["dyn_probe"])
        .c(&format!("max_worker_processes={slots}"))
        .start();
    let client = build_program("attach_client");
    let started = Instant::now();
    for _ in 0..deaths {
        let st = with_fresh_library(&mut Command::new(&client))
            .arg(&c.datadir)
            .arg("reg,h=0,name=lost,lib=dyn_probe,func=dyn_main")
            .env("BGWORKER_INJECT_CLAIM", "exit")
            .output()
            .unwrap();
        assert_eq!(st.status.code(), Some(1));
    }
    // Every claim is given back, then every slot is usable: as many idle workers as there are
    // slots register at once.
    wait_until("no slot left claimed", PROMPT, || {
        status_json(&c)["workers"]
            .as_array()
            .is_some_and(|w| w.iter().all(|w| w["state"] != "claimed"))
    });
    let script: String = (0..slots)
        .map(|i| format!("reg,h={i},name=w{i},lib=dyn_probe,func=dyn_main;"))
        .collect();
    let out = with_fresh_library(&mut Command::new(&client))
        .arg(&c.datadir)
        .arg(format!("{script}exit,code=0"))
        .output()
        .unwrap();
    let ok = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.starts_with("dyn: reg h=") && l.ends_with(" ok=1"))
        .count();
    eprintln!(
        "hostile: {deaths} registrants died holding a claimed slot in {:.1} s, slots lost: {}, \
         supervisor deaths: {}",
        started.elapsed().as_secs_f64(),
        slots - ok,
        u8::from(!pid_alive(c.pid))
    );
    assert!(pid_alive(c.pid));
    assert_eq!(ok, slots, "{}", String::from_utf8_lossy(&out.stdout));
}
