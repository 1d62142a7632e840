//! Faults around dynamic shared memory: a worker killed or terminated in the middle of a
//! message queue send, a registrant attached from outside (c_tests/modules/dsm_client.c) killed
//! while its worker waits on it, segments made and destroyed while crash-restarts happen, and a
//! supervisor killed with SIGKILL. Nothing hangs, and every segment's memory goes once the last
//! process lets go of it, or with the crash-restart. `make stress` (BGW_STRESS=1) runs the churn
//! at full size: 10,000 segments across 10 crash-restarts.

mod common;

use common::*;
use std::collections::HashSet;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn stress() -> bool {
    std::env::var_os("BGW_STRESS").is_some()
}

fn probe_cluster(modes: &str) -> Cluster {
    Setup::new()
        .env("DSM_PROBE", modes)
        .preload(&["dsm_probe"])
        .c("max_worker_processes=16")
        .start()
}

/// A running dsm_client: its stdout lines as they come.
struct Client {
    child: Child,
    pid: i32,
    out: Arc<Mutex<Vec<String>>>,
}

impl Client {
    fn start(c: &Cluster, mode: &str) -> Client {
        let program = build_program("dsm_client");
        let mut child = with_fresh_library(&mut Command::new(program))
            .arg(&c.datadir)
            .arg(mode)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("run dsm_client");
        let out = Arc::new(Mutex::new(Vec::new()));
        let sink = out.clone();
        let stdout = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                sink.lock().unwrap().push(line);
            }
        });
        let pid = child.id() as i32;
        Client { child, pid, out }
    }

    fn wait_line(&self, prefix: &str) -> String {
        let mut found = String::new();
        wait_until(&format!("dsm_client prints {prefix:?}"), PROMPT, || {
            if let Some(l) = self
                .out
                .lock()
                .unwrap()
                .iter()
                .find(|l| l.starts_with(prefix))
            {
                found = l.clone();
                return true;
            }
            false
        });
        found
    }

    fn finish(&mut self) -> Option<i32> {
        let deadline = Instant::now() + PROMPT;
        loop {
            if let Some(st) = self.child.try_wait().unwrap() {
                return st.code();
            }
            assert!(Instant::now() < deadline, "dsm_client did not exit");
            std::thread::sleep(POLL);
        }
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The pid in a client line "worker N".
fn worker_pid(line: &str) -> i32 {
    line.trim_start_matches("worker ")
        .trim()
        .parse()
        .expect("pid")
}

#[test]
fn a_worker_killed_in_a_send_ends_it_with_detached_and_the_crash_restart_clears_every_segment() {
    let c = probe_cluster("");
    let mut client = Client::start(&c, "send-to-silent");
    client.wait_line("attached, MyProc set 1");
    let pid = worker_pid(&client.wait_line("worker "));
    c.track(pid);
    // The client is blocked in its send (the message is eight times the ring).
    std::thread::sleep(Duration::from_millis(200));
    assert!(client
        .out
        .lock()
        .unwrap()
        .iter()
        .all(|l| !l.starts_with("send result")));
    let killed = Instant::now();
    send_signal(pid, libc::SIGKILL);
    assert_eq!(client.wait_line("send result"), "send result 2");
    assert!(
        killed.elapsed() < Duration::from_secs(2),
        "{:?}",
        killed.elapsed()
    );
    client.wait_line("detached 1");
    assert_eq!(client.finish(), Some(0));
    c.wait_for_log("all server processes terminated; reinitializing", PROMPT);
    // A fresh memory after the crash-restart, and the old one mapped by nobody.
    wait_dsm_released(&c);
    wait_until("no process maps the old DSM memory", PROMPT, || {
        dsm_mappings()
            .iter()
            .all(|(p, _)| *p != client.pid && *p != pid)
    });
}

#[test]
fn a_worker_terminated_in_a_send_detaches_its_queues_and_the_segment_goes() {
    let c = probe_cluster("");
    let mut client = Client::start(&c, "send-to-silent");
    let pid = worker_pid(&client.wait_line("worker "));
    c.track(pid);
    std::thread::sleep(Duration::from_millis(200));
    send_signal(pid, libc::SIGTERM);
    assert_eq!(client.wait_line("send result"), "send result 2");
    client.wait_line("detached 1");
    assert_eq!(client.finish(), Some(0));
    wait_dsm_released(&c);
    assert_eq!(
        c.count_log("terminating any other active server processes"),
        0
    );
}

#[test]
fn a_registrant_killed_while_its_worker_waits_on_it_makes_the_worker_leave() {
    let c = probe_cluster("");
    let client = Client::start(&c, "echo-then-hang");
    assert_eq!(client.wait_line("echo ok"), "echo ok 100");
    client.wait_line("hanging");
    let before = c.log_len();
    send_signal(client.pid, libc::SIGKILL);
    // The echo worker, blocked in shm_mq_receive, sees the queue detached and exits 0.
    c.wait_for_log_since(
        before,
        "background worker \"dsm_probe helper\" (PID ",
        PROMPT,
    );
    let line = c
        .lines_with(&["background worker \"dsm_probe helper\" (PID "])
        .pop()
        .unwrap();
    assert!(line.ends_with("exited with exit code 0"), "{line}");
    // The killed client still holds its reference until another process attaching sweeps its
    // PGPROC; then the segment goes.
    assert!(
        dsm_bytes_in_use(&c) > 0,
        "the dead client's segment is still referenced"
    );
    let mut sweeper = Client::start(&c, "attach-only");
    sweeper.wait_line("attached, MyProc set 1");
    assert_eq!(
        sweeper.wait_line("BackendPidGetProc finds it"),
        "BackendPidGetProc finds it 1"
    );
    assert_eq!(
        sweeper.wait_line("its latch is MyLatch"),
        "its latch is MyLatch 1"
    );
    assert_eq!(sweeper.finish(), Some(0));
    wait_dsm_released(&c);
}

/// Sum over churn incarnations (pids) of the last "destroyed N" each logged.
fn destroyed(c: &Cluster) -> u64 {
    let mut last: std::collections::HashMap<i32, u64> = Default::default();
    for l in c.lines_with(&["dsm_probe churn: destroyed "]) {
        if let (Some(pid), Some(n)) = (log_pid(&l), field_i32(&l, "destroyed ")) {
            let e = last.entry(pid).or_default();
            *e = (*e).max(n as u64);
        }
    }
    last.values().sum()
}

/// The inodes of DSM memfds the cluster's live processes map.
fn mapped_memfd_inodes(c: &Cluster) -> HashSet<u64> {
    let mut inodes = HashSet::new();
    let _ = c.worker_processes();
    for pid in c.live_seen_pids() {
        let Ok(maps) = std::fs::read_to_string(format!("/proc/{pid}/maps")) else {
            continue;
        };
        for l in maps.lines().filter(|l| l.contains("/memfd:bgworker.dsm")) {
            if let Some(ino) = l.split_whitespace().nth(4).and_then(|f| f.parse().ok()) {
                inodes.insert(ino);
            }
        }
    }
    inodes
}

#[test]
fn segments_made_and_destroyed_across_crash_restarts_leave_nothing_behind() {
    let (target, crashes) = if stress() { (10_000, 10) } else { (1_000, 2) };
    let c = probe_cluster("churn,crasher:300");
    let deadline = Instant::now() + Duration::from_secs(if stress() { 600 } else { 120 });
    loop {
        let restarts = c.count_log("all server processes terminated; reinitializing");
        if destroyed(&c) >= target && restarts >= crashes {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{} destroyed, {restarts} crash-restarts",
            destroyed(&c)
        );
        // Between crash-restarts, only the current memory is mapped.
        let inodes = mapped_memfd_inodes(&c);
        assert!(inodes.len() <= 2, "mapped DSM memories: {inodes:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
    eprintln!(
        "{} segments destroyed across {} crash-restarts",
        destroyed(&c),
        c.count_log("all server processes terminated; reinitializing")
    );
    // The supervisor holds the current memory only: each crash-restart let go of the old one.
    let held = std::fs::read_dir(format!("/proc/{}/fd", c.pid))
        .unwrap()
        .flatten()
        .filter(|e| {
            std::fs::read_link(e.path())
                .is_ok_and(|t| t.to_string_lossy().starts_with("/memfd:bgworker.dsm"))
        })
        .count();
    assert_eq!(held, 1, "DSM memfds the supervisor holds");
    let mut c = c;
    let pids = c.seen_pids();
    c.signal(libc::SIGINT);
    c.wait_exit(PROMPT);
    wait_until("every worker of the cluster exited", PROMPT, || {
        c.live_seen_pids().is_empty()
    });
    let mapped: Vec<(i32, usize)> = dsm_mappings()
        .into_iter()
        .filter(|(p, _)| pids.contains(p) || *p == c.pid)
        .collect();
    assert!(mapped.is_empty(), "{mapped:?}");
    let left: Vec<String> = std::fs::read_dir(&c.datadir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n != "bgworker.conf")
        .collect();
    assert!(left.is_empty(), "left in the data directory: {left:?}");
}

#[test]
fn after_the_supervisor_is_killed_no_segment_survives_and_a_new_one_starts() {
    let mut c = probe_cluster("churn");
    wait_until("the churn worker destroyed segments", PROMPT, || {
        destroyed(&c) >= 200
    });
    let _ = c.worker_processes();
    let pids = c.seen_pids();
    c.signal(libc::SIGKILL);
    c.wait_exit(PROMPT);
    wait_until("the workers left with their supervisor", PROMPT, || {
        c.live_seen_pids().is_empty()
    });
    let mapped: Vec<(i32, usize)> = dsm_mappings()
        .into_iter()
        .filter(|(p, _)| pids.contains(p))
        .collect();
    assert!(mapped.is_empty(), "{mapped:?}");
    let again = Setup::new()
        .datadir(&c.datadir)
        .preload(&["dsm_probe"])
        .start();
    assert_eq!(dsm_bytes_in_use(&again), 0);
}
