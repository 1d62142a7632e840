//! External processes (our extension `BackgroundWorkerAttach`): a program linked with
//! -lbgworker (c_tests/modules/attach_client.c, built at test time) attaches to a running
//! bgworkerd, launches workers, waits on them and terminates them; attaching is refused for a
//! missing data directory, a dead supervisor and another user; an unattached process cannot
//! register (DYN-1); its waits end with POSTMASTER_DIED when the supervisor is killed.

mod common;

use common::*;
use std::fs;
use std::io::{BufRead, BufReader, Read};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// A running attach_client: its stdout (one result per line) and stderr, collected as they come.
struct Client {
    child: Child,
    pid: i32,
    out: Arc<Mutex<Vec<String>>>,
    err: Arc<Mutex<Vec<String>>>,
}

fn collect<R: Read + Send + 'static>(r: R, into: Arc<Mutex<Vec<String>>>) {
    thread::spawn(move || {
        for line in BufReader::new(r).lines() {
            let Ok(line) = line else { break };
            into.lock().unwrap_or_else(|e| e.into_inner()).push(line);
        }
    });
}

impl Client {
    /// Runs `program DATADIR SCRIPT`, optionally as another uid/gid with extra environment.
    fn spawn_with(
        program: &Path,
        datadir: &str,
        script: &str,
        user: Option<(u32, u32)>,
        env: &[(&str, String)],
    ) -> Client {
        let mut cmd = Command::new(program);
        with_fresh_library(&mut cmd);
        cmd.arg(datadir)
            .arg(script)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in env {
            cmd.env(k, v);
        }
        if let Some((uid, gid)) = user {
            cmd.uid(uid).gid(gid);
        }
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", program.display()));
        let out = Arc::new(Mutex::new(Vec::new()));
        let err = Arc::new(Mutex::new(Vec::new()));
        collect(child.stdout.take().unwrap(), out.clone());
        collect(child.stderr.take().unwrap(), err.clone());
        let pid = child.id() as i32;
        Client {
            child,
            pid,
            out,
            err,
        }
    }

    fn spawn(datadir: &str, script: &str) -> Client {
        Client::spawn_with(&build_program("attach_client"), datadir, script, None, &[])
    }

    fn lines(&self) -> Vec<String> {
        self.out.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn stderr(&self) -> String {
        self.err
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .join("\n")
    }

    /// Waits (bounded) for a stdout line containing `pattern`.
    fn wait_line(&self, pattern: &str) -> String {
        let deadline = Instant::now() + PROMPT;
        loop {
            if let Some(l) = self.lines().into_iter().find(|l| l.contains(pattern)) {
                return l;
            }
            if Instant::now() >= deadline {
                panic!(
                    "attach_client printed no line containing {pattern:?} within {PROMPT:?}\n\
                     stdout: {:#?}\nstderr: {}",
                    self.lines(),
                    self.stderr()
                );
            }
            thread::sleep(POLL);
        }
    }

    /// Waits (bounded) for the client to exit; gives the readers a moment to drain.
    fn finish(&mut self) -> ExitStatus {
        let deadline = Instant::now() + PROMPT;
        loop {
            if let Some(st) = self.child.try_wait().expect("try_wait") {
                thread::sleep(Duration::from_millis(50));
                return st;
            }
            if Instant::now() >= deadline {
                panic!(
                    "attach_client did not exit within {PROMPT:?}\nstdout: {:#?}\nstderr: {}",
                    self.lines(),
                    self.stderr()
                );
            }
            thread::sleep(POLL);
        }
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
        if thread::panicking() {
            eprintln!(
                "===== attach_client (PID {}) stdout =====\n{}\n===== stderr =====\n{}",
                self.pid,
                self.lines().join("\n"),
                self.stderr()
            );
        }
    }
}

fn datadir_arg(c: &Cluster) -> String {
    c.datadir.display().to_string()
}

/// A supervisor with the dyn_probe module loaded and no static worker.
fn plain_cluster() -> Cluster {
    Setup::new().preload(&["dyn_probe"]).start()
}

#[test]
fn external_process_attaches_launches_waits_and_terminates() {
    let c = plain_cluster();
    let mut client = Client::spawn(
        &datadir_arg(&c),
        "reg,h=1,name=ext;waitstart,h=1;get,h=1;typeof,h=1;term,h=1;waitstop,h=1;get,h=1;\
         reg,h=2,name=ext quick,mode=exit:100;waitstart,h=2;waitstop,h=2",
    );
    assert_eq!(client.wait_line("attach ok="), "attach ok=1");
    let st = client.finish();
    let out = client.lines();
    assert_eq!(exit_code(&st), Some(0), "{out:#?}\n{}", client.stderr());
    let find = |p: &str| -> String {
        out.iter()
            .find(|l| l.contains(p))
            .unwrap_or_else(|| panic!("no {p:?} in {out:#?}"))
            .clone()
    };
    assert_eq!(find("reg h=1 "), "dyn: reg h=1 ok=1");
    let start = find("waitstart h=1 status=");
    assert_eq!(status_of(&start), "STARTED", "{start}");
    let pid = field_i32(&start, "pid=").unwrap();
    c.track(pid);
    // A real worker of that supervisor (it may be terminated before it logs its start line).
    c.wait_for_log(
        &format!("background worker \"ext\" (PID {pid}) exited with exit code 1"),
        PROMPT,
    );
    assert_eq!(
        find("get h=1 status=STARTED"),
        format!("dyn: get h=1 status=STARTED pid={pid}")
    );
    assert_eq!(
        find("typeof "),
        format!("dyn: typeof pid={pid} type=\"ext\"")
    );
    c.wait_for_log(
        "FATAL:  terminating background worker \"ext\" due to administrator command",
        PROMPT,
    );
    assert_eq!(status_of(&find("waitstop h=1 status=")), "STOPPED");
    assert_eq!(
        find("get h=1 status=STOPPED"),
        "dyn: get h=1 status=STOPPED pid=0"
    );
    let s = find("waitstart h=2 status=");
    let e = find("waitstop h=2 status=");
    assert_eq!(status_of(&s), "STARTED", "{s}");
    assert_eq!(status_of(&e), "STOPPED", "{e}");
    c.wait_for_log("unregistering background worker \"ext quick\"", PROMPT);
    // The attached process is an acceptable notify pid (NTF-2 for attached processes).
    assert_eq!(
        c.count_log(&format!(
            "worker notification PID {} is not valid",
            client.pid
        )),
        0
    );
}

#[test]
fn attached_waits_complete_without_a_notify_pid() {
    // HND-5 improvement in an attached process: with bgw_notify_pid = 0 nobody signals it, yet
    // both waits complete promptly.
    let c = plain_cluster();
    let mut client = Client::spawn(
        &datadir_arg(&c),
        "reg,h=1,name=ext unnotified,mode=exit:300,notify=0;waitstart,h=1;waitstop,h=1",
    );
    let st = client.finish();
    assert_eq!(exit_code(&st), Some(0), "{}", client.stderr());
    let s = client.wait_line("waitstart h=1 status=");
    let e = client.wait_line("waitstop h=1 status=");
    eprintln!("{s}\n{e}");
    assert_eq!(status_of(&s), "STARTED", "{s}");
    assert_eq!(status_of(&e), "STOPPED", "{e}");
    assert!(field_i32(&s, "ms=").unwrap() < 1000, "{s}");
    assert!(field_i32(&e, "ms=").unwrap() < 1300, "{e}");
    c.wait_for_log("unregistering background worker \"ext unnotified\"", PROMPT);
}

#[test]
fn unattached_process_cannot_register() {
    // DYN-1: a process that is neither a worker nor attached is not under a supervisor.
    let mut client = Client::spawn("-", "reg,h=1,name=nowhere;get,h=1;typeof,pid=1");
    let st = client.finish();
    assert_eq!(exit_code(&st), Some(0), "{}", client.stderr());
    let out = client.lines();
    assert!(out.contains(&"dyn: reg h=1 ok=0".to_string()), "{out:#?}");
    assert!(
        out.contains(&"dyn: get h=1 status=STOPPED pid=0".to_string()),
        "{out:#?}"
    );
    assert!(
        out.contains(&"dyn: typeof pid=1 type=NULL".to_string()),
        "{out:#?}"
    );
}

/// Runs a client that must be refused; returns its stderr.
fn refused(client: &mut Client) -> String {
    let st = client.finish();
    assert_eq!(client.lines(), vec!["attach ok=0".to_string()]);
    assert_eq!(exit_code(&st), Some(2));
    let err = client.stderr();
    assert!(err.contains("WARNING:  "), "the refusal says why: {err}");
    err
}

#[test]
fn attach_is_refused_for_a_missing_datadir_or_supervisor() {
    let dir = fresh_temp_dir("attach-missing");
    let missing = dir.join("no such dir");
    let err = refused(&mut Client::spawn(
        &missing.display().to_string(),
        "reg,h=1",
    ));
    eprintln!("missing directory: {err}");
    assert!(err.contains(&missing.display().to_string()), "{err}");
    // A directory without a supervisor (no postmaster.pid).
    let err = refused(&mut Client::spawn(&dir.display().to_string(), "reg,h=1"));
    eprintln!("no supervisor: {err}");
    assert!(
        err.contains("postmaster.pid") || err.contains("no bgworkerd"),
        "{err}"
    );
    let _ = fs::remove_dir_all(&dir);
}

#[test]
fn attach_is_refused_when_the_supervisor_is_dead() {
    // A stale postmaster.pid: the supervisor was SIGKILLed, so the file names a dead pid.
    let mut c = plain_cluster();
    c.signal(libc::SIGKILL);
    c.wait_exit(PROMPT);
    assert!(c.pidfile().exists(), "SIGKILL leaves the lock file behind");
    let err = refused(&mut Client::spawn(&datadir_arg(&c), "reg,h=1"));
    eprintln!("dead supervisor: {err}");
    assert!(err.contains(&format!("PID {}", c.pid)), "{err}");
    assert!(err.contains("not running"), "{err}");
}

/// A copy of attach_client and libbgworker.so.1 that any user can run.
fn world_runnable_client() -> (PathBuf, PathBuf) {
    let dir = fresh_temp_dir("attach-other-user");
    fs::set_permissions(&dir, fs::Permissions::from_mode(0o755)).unwrap();
    let program = dir.join("attach_client");
    fs::copy(build_program("attach_client"), &program).expect("copy attach_client");
    fs::set_permissions(&program, fs::Permissions::from_mode(0o755)).unwrap();
    let lib = dir.join("libbgworker.so.1");
    fs::copy(lib_dir().join("libbgworker.so.1"), &lib).expect("copy libbgworker.so.1");
    fs::set_permissions(&lib, fs::Permissions::from_mode(0o755)).unwrap();
    (dir, program)
}

#[test]
fn attach_is_refused_for_another_user() {
    let Some((uid, gid)) = unprivileged_user() else {
        eprintln!(
            "SKIPPED: attach_is_refused_for_another_user needs root (to run as another user)"
        );
        return;
    };
    let c = plain_cluster();
    let (dir, program) = world_runnable_client();
    let mut client = Client::spawn_with(
        &program,
        &datadir_arg(&c),
        "reg,h=1,name=intruder",
        Some((uid, gid)),
        &[("LD_LIBRARY_PATH", dir.display().to_string())],
    );
    let err = refused(&mut client);
    eprintln!("another user (uid {uid}), DATADIR 0700: {err}");
    assert!(err.contains("another user"), "{err}");
    // Even when the lock file is readable, the supervisor's uid is checked.
    for d in [c.datadir.parent().unwrap(), c.datadir.as_path()] {
        fs::set_permissions(d, fs::Permissions::from_mode(0o755)).unwrap();
    }
    fs::set_permissions(c.pidfile(), fs::Permissions::from_mode(0o644)).unwrap();
    let mut client = Client::spawn_with(
        &program,
        &datadir_arg(&c),
        "reg,h=1,name=intruder",
        Some((uid, gid)),
        &[("LD_LIBRARY_PATH", dir.display().to_string())],
    );
    let err = refused(&mut client);
    eprintln!("another user (uid {uid}), lock file readable: {err}");
    assert!(err.contains("another user"), "{err}");
    // Window: prove nothing was registered.
    observe_window(Duration::from_millis(200));
    assert_eq!(c.count_log("registering background worker"), 0);
    let _ = fs::remove_dir_all(&dir);
}

/// Runs a client that reaches `wait` on handle 1, SIGKILLs the supervisor during it, and returns
/// the wait's result line and how long after the kill it returned.
fn kill_supervisor_during(script: &str, wait: &str) -> (String, i64) {
    let mut c = plain_cluster();
    let client = Client::spawn(&datadir_arg(&c), script);
    client.wait_line(&format!("dyn: {wait} h=1 begin"));
    // Give the wait time to go to sleep.
    observe_window(Duration::from_millis(300));
    let _ = c.worker_processes();
    let killed_at = epoch_ms();
    c.signal(libc::SIGKILL);
    c.wait_exit(PROMPT);
    let line = client.wait_line(&format!("dyn: {wait} h=1 status="));
    let at = field_str(&line, "at=").unwrap().parse::<i64>().unwrap();
    (line, at - killed_at)
}

#[test]
fn attached_startup_wait_returns_postmaster_died_when_the_supervisor_is_killed() {
    let (line, ms) =
        kill_supervisor_during("reg,h=1,name=never,start=99;waitstart,h=1", "waitstart");
    eprintln!("attached startup wait returned {ms} ms after SIGKILL: {line}");
    assert_eq!(status_of(&line), "POSTMASTER_DIED", "{line}");
    assert!(ms <= 1000, "took {ms} ms (target 100 ms)");
}

#[test]
fn attached_shutdown_wait_returns_postmaster_died_when_the_supervisor_is_killed() {
    let (line, ms) = kill_supervisor_during(
        "reg,h=1,name=sleeper;waitstart,h=1;waitstop,h=1",
        "waitstop",
    );
    eprintln!("attached shutdown wait returned {ms} ms after SIGKILL: {line}");
    assert_eq!(status_of(&line), "POSTMASTER_DIED", "{line}");
    assert!(ms <= 1000, "took {ms} ms (target 100 ms)");
}

#[test]
fn attached_process_is_notified_on_start_and_exit() {
    // NTF-3a/b for an attached registrant: its own pid as bgw_notify_pid gets SIGUSR1 when the
    // worker is forked and when it exits (counted by the script's own SIGUSR1 handler).
    let c = plain_cluster();
    let mut client = Client::spawn(
        &datadir_arg(&c),
        "usr1count;count;reg,h=1,name=told,mode=exit:300;waitstart,h=1;sleep,ms=50;count;\
         waitstop,h=1;sleep,ms=50;count",
    );
    let st = client.finish();
    assert_eq!(exit_code(&st), Some(0), "{}", client.stderr());
    let counts: Vec<i32> = client
        .lines()
        .iter()
        .filter(|l| l.contains("usr1 count="))
        .map(|l| field_i32(l, "count=").unwrap())
        .collect();
    assert_eq!(counts.len(), 3, "{:#?}", client.lines());
    assert_eq!(counts[0], 0, "nothing registered yet: {counts:?}");
    assert!(counts[1] >= 1, "SIGUSR1 on start: {counts:?}");
    assert!(counts[2] > counts[1], "SIGUSR1 on exit: {counts:?}");
}

/// The slots `bgworkerctl status --json` shows in state "claimed", with their claimants.
fn claimed_slots(c: &Cluster) -> Vec<(u64, i64)> {
    status_json(c)["workers"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|w| w["state"] == "claimed")
        .map(|w| (w["slot"].as_u64().unwrap(), w["claimant"].as_i64().unwrap()))
        .collect()
}

#[test]
fn a_slot_claimed_by_a_registrant_that_dies_before_publishing_it_is_shown_then_reclaimed() {
    // Two slots; the client takes one and stops (fault injection) between claiming and
    // publishing it: the slot shows as claimed by it. Killed there, its slot is free again.
    let c = Setup::new()
        .preload(&["dyn_probe"])
        .c("max_worker_processes=2")
        .start();
    let stuck = Client::spawn_with(
        &build_program("attach_client"),
        &datadir_arg(&c),
        "reg,h=0,name=never,lib=dyn_probe,func=dyn_main",
        None,
        &[("BGWORKER_INJECT_CLAIM", "stop".to_string())],
    );
    wait_until("the claimed slot to show", PROMPT, || {
        claimed_slots(&c) == vec![(0, i64::from(stuck.pid))]
    });
    let text = bgworkerctl(&c.datadir, &["status"]);
    assert!(
        String::from_utf8_lossy(&text.stdout)
            .lines()
            .any(|l| l.contains("claimed") && l.contains(&stuck.pid.to_string())),
        "{}",
        String::from_utf8_lossy(&text.stdout)
    );
    send_signal(stuck.pid, libc::SIGKILL);
    c.wait_for_log(
        &format!(
            "slot 0 was claimed by process {}, which is gone without publishing its registration; the slot is free again",
            stuck.pid
        ),
        PROMPT,
    );
    assert!(claimed_slots(&c).is_empty());
    // Both slots are usable again.
    let mut ok = Client::spawn(
        &datadir_arg(&c),
        "reg,h=0,name=one,lib=dyn_probe,func=dyn_main;reg,h=1,name=two,lib=dyn_probe,func=dyn_main",
    );
    ok.wait_line("dyn: reg h=0 ok=1");
    ok.wait_line("dyn: reg h=1 ok=1");
    ok.finish();
}

#[test]
fn a_registrant_that_exits_right_after_claiming_a_slot_does_not_lose_it() {
    let c = Setup::new()
        .preload(&["dyn_probe"])
        .c("max_worker_processes=1")
        .start();
    let mut dies = Client::spawn_with(
        &build_program("attach_client"),
        &datadir_arg(&c),
        "reg,h=0,name=lost,lib=dyn_probe,func=dyn_main",
        None,
        &[("BGWORKER_INJECT_CLAIM", "exit".to_string())],
    );
    assert_eq!(dies.finish().code(), Some(1));
    c.wait_for_log(
        &format!("slot 0 was claimed by process {}, which is gone", dies.pid),
        PROMPT,
    );
    let mut ok = Client::spawn(
        &datadir_arg(&c),
        "reg,h=0,name=found,lib=dyn_probe,func=dyn_main",
    );
    ok.wait_line("dyn: reg h=0 ok=1");
    ok.finish();
}
