//! The worker process as its module sees it (WP-1..6, SIG-1..3, LATCH, LOAD-4, elog levels):
//! title, latch and signal mask at entry, default SIGTERM, ERROR/FATAL exits, load failures.

mod common;

use common::*;
use std::time::Duration;

fn wait_for_title(pid: i32, want: &str) -> String {
    let mut last = String::new();
    wait_until(
        &format!("title {want:?} for PID {pid}"),
        Duration::from_secs(5),
        || {
            last = cmdline(pid).unwrap_or_default();
            last == want
        },
    );
    last
}

#[test]
fn process_title_is_bgworker_and_name() {
    let c = Setup::new().worker(Worker::new("titled worker")).start();
    let line = c.wait_for_log(&started("titled worker"), PROMPT);
    let pid = field_i32(&line, "pid=").unwrap();
    assert_eq!(
        field_i32(&line, "myprocpid="),
        Some(pid),
        "MyProcPid is the worker's pid: {line}"
    );
    assert_eq!(
        log_pid(&line),
        Some(pid),
        "log prefix carries the worker's pid: {line}"
    );
    wait_for_title(pid, "bgworker: titled worker");
    assert_eq!(c.wait_for_worker_process("titled worker", PROMPT), pid);
}

#[test]
fn process_title_includes_cluster_name() {
    let c = Setup::new()
        .conf("cluster_name = 'clus'")
        .worker(Worker::new("titled worker"))
        .start();
    let pid = c.wait_started("titled worker", 1);
    wait_for_title(pid, "bgworker: clus: titled worker");
    // The thread name (`ps -o comm`, `top`) is the title's first 15 bytes, across its parts.
    let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap();
    assert_eq!(comm.trim_end(), "bgworker: clus:");
}

#[test]
fn worker_runs_in_its_own_session() {
    // WP-1: setsid() in the child.
    let c = Setup::new().worker(Worker::new("session leader")).start();
    let pid = c.wait_started("session leader", 1);
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let after: Vec<&str> = stat[stat.rfind(')').unwrap() + 2..]
        .split_whitespace()
        .collect();
    assert_eq!(after[2].parse::<i32>().unwrap(), pid, "process group = pid");
    assert_eq!(after[3].parse::<i32>().unwrap(), pid, "session = pid");
}

/// Soft and hard `RLIMIT_NOFILE` of a process.
fn max_open_files(pid: i32) -> (u64, u64) {
    let limits = std::fs::read_to_string(format!("/proc/{pid}/limits")).unwrap();
    let line = limits
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .unwrap();
    let v: Vec<u64> = line
        .split_whitespace()
        .filter_map(|w| w.parse().ok())
        .collect();
    (v[0], v[1])
}

/// What each open descriptor of a process is (`readlink /proc/PID/fd/N`).
fn descriptor_targets(pid: i32) -> Vec<String> {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap()
        .filter_map(|e| std::fs::read_link(e.ok()?.path()).ok())
        .map(|t| t.to_string_lossy().into_owned())
        .collect()
}

#[test]
fn workers_keep_no_supervisor_descriptor_and_its_limit() {
    // The supervisor holds a signalfd, the death pipe's write end and a pidfd per notify
    // process (here the driver, which registers with bgw_notify_pid = itself); none of that
    // reaches a worker started while it is held, through the spare or a plain fork, nor the
    // spare waiting next. Every process keeps the descriptor limit the supervisor started with.
    let c = dyn_driver("reg,h=1,name=one;waitstart,h=1;reg,h=2,name=two;waitstart,h=2")
        .nofile(1024, 8192)
        .start();
    let workers = [
        dyn_wait_started(&c, "one", 1),
        dyn_wait_started(&c, "two", 1),
    ];
    c.wait_for_log("dyn: waitstart h=2 status=STARTED", PROMPT);
    let supervisor = descriptor_targets(c.pid);
    assert!(
        supervisor.iter().any(|t| t.contains("pidfd")),
        "the supervisor holds the driver's pidfd while its workers run: {supervisor:?}"
    );
    let spare = wait_spare(&c, None);
    for pid in workers.into_iter().chain([spare]) {
        let fds = descriptor_targets(pid);
        assert!(
            !fds.iter().any(|t| t.contains("pidfd")),
            "process {pid} inherited a supervisor pidfd: {fds:?}"
        );
        assert!(
            fds.iter().filter(|t| t.contains("signalfd")).count() <= 1,
            "process {pid} has only its own latch's signalfd: {fds:?}"
        );
        assert_eq!(max_open_files(pid), (1024, 8192), "process {pid}");
    }
    assert_eq!(
        max_open_files(c.pid),
        (1024, 8192),
        "the supervisor's own limit"
    );
}

#[test]
fn latch_is_set_at_entry() {
    // WP-5: the first WaitLatch(WL_LATCH_SET…) returns WL_LATCH_SET at once; after ResetLatch a
    // 200 ms wait times out (WL_TIMEOUT = 8).
    let c = Setup::new()
        .worker(Worker::new("latcher").mode("latch"))
        .start();
    let line = c.wait_for_log("probe \"latcher\" latch ", PROMPT);
    assert_eq!(field_i32(&line, "set_at_entry="), Some(1), "{line}");
    assert_eq!(
        field_i32(&line, "owner_ok="),
        Some(1),
        "MyLatch owned by MyProcPid: {line}"
    );
    let rc1 = field_i32(&line, "first_rc=").unwrap();
    assert_eq!(rc1 & 1, 1, "first wait reports WL_LATCH_SET: {line}");
    assert!(
        field_i32(&line, "first_ms=").unwrap() < 100,
        "first wait returned at once: {line}"
    );
    assert_eq!(
        field_i32(&line, "second_rc="),
        Some(8),
        "second wait times out: {line}"
    );
    let ms2 = field_i32(&line, "second_ms=").unwrap();
    assert!(
        (190..1000).contains(&ms2),
        "second wait lasted {ms2} ms, timeout 200: {line}"
    );
}

fn signal_list(line: &str, key: &str) -> Vec<i32> {
    let s = line.split(key).nth(1).unwrap_or("").trim();
    s.split(',')
        .filter(|x| !x.is_empty())
        .map(|x| x.trim().parse().unwrap())
        .collect()
}

#[test]
fn signals_are_blocked_at_entry_except_sigquit() {
    // SIG-3
    let c = Setup::new()
        .worker(Worker::new("masked").mode("sigmask"))
        .start();
    let entry = c.wait_for_log("probe \"masked\" blocked at entry: ", PROMPT);
    let blocked = signal_list(&entry, "blocked at entry: ");
    for (sig, name) in [
        (libc::SIGHUP, "SIGHUP"),
        (libc::SIGINT, "SIGINT"),
        (libc::SIGUSR1, "SIGUSR1"),
        (libc::SIGUSR2, "SIGUSR2"),
        (libc::SIGPIPE, "SIGPIPE"),
        (libc::SIGALRM, "SIGALRM"),
        (libc::SIGTERM, "SIGTERM"),
        (libc::SIGCHLD, "SIGCHLD"),
    ] {
        assert!(
            blocked.contains(&sig),
            "{name} must be blocked at entry: {entry}"
        );
    }
    assert!(
        !blocked.contains(&libc::SIGQUIT),
        "SIGQUIT must not be blocked at entry: {entry}"
    );

    let after = c.wait_for_log("probe \"masked\" blocked after unblock: ", PROMPT);
    let unblocked = signal_list(&after, "blocked after unblock: ");
    for sig in [
        libc::SIGTERM,
        libc::SIGHUP,
        libc::SIGINT,
        libc::SIGUSR1,
        libc::SIGQUIT,
    ] {
        assert!(
            !unblocked.contains(&sig),
            "signal {sig} still blocked after BackgroundWorkerUnblockSignals: {after}"
        );
    }
    let again = c.wait_for_log("probe \"masked\" blocked after block: ", PROMPT);
    let reblocked = signal_list(&again, "blocked after block: ");
    assert!(
        reblocked.contains(&libc::SIGTERM),
        "BackgroundWorkerBlockSignals blocks SIGTERM: {again}"
    );
    assert!(!reblocked.contains(&libc::SIGQUIT), "{again}");
}

#[test]
fn default_sigterm_is_fatal_and_exits_1() {
    let c = Setup::new()
        .worker(
            Worker::new("terminated")
                .type_("term type")
                .restart(BGW_NEVER_RESTART),
        )
        .start();
    let pid = c.wait_started("terminated", 1);
    send_signal(pid, libc::SIGTERM);
    let fatal = c.wait_for_log(
        "terminating background worker \"term type\" due to administrator command",
        PROMPT,
    );
    assert!(fatal.contains("FATAL:  "), "{fatal}");
    c.wait_for_log(
        &format!("background worker \"term type\" (PID {pid}) exited with exit code 1"),
        PROMPT,
    );
    // Window: NEVER_RESTART, so it stays gone.
    observe_window(Duration::from_millis(500));
    assert_eq!(c.starts("terminated"), 1);
}

#[test]
fn default_sigterm_exit_restarts_after_restart_time() {
    // SIG-4: a plain SIGTERM is an ordinary exit 1, so a restartable worker comes back.
    let c = Setup::new()
        .worker(Worker::new("comes back").restart(1))
        .start();
    let pid = c.wait_started("comes back", 1);
    send_signal(pid, libc::SIGTERM);
    let exit = c.wait_for_log(
        &format!("background worker \"comes back\" (PID {pid}) exited with exit code 1"),
        PROMPT,
    );
    c.wait_started("comes back", 2);
    let gap = log_time_ms(&c.lines_with(&[&started("comes back")])[1]) - log_time_ms(&exit);
    assert!(
        gap >= 1000 - 15,
        "restarted after {gap} ms, restart time 1 s"
    );
}

#[test]
fn other_signals_are_ignored_by_default() {
    // SIG-1: SIGHUP, SIGINT, SIGUSR1, SIGUSR2, SIGPIPE do nothing to a worker without handlers.
    let c = Setup::new().worker(Worker::new("unmoved")).start();
    let pid = c.wait_started("unmoved", 1);
    for sig in [
        libc::SIGHUP,
        libc::SIGINT,
        libc::SIGUSR1,
        libc::SIGUSR2,
        libc::SIGPIPE,
    ] {
        send_signal(pid, sig);
    }
    // Window: prove the worker survives them.
    observe_window(Duration::from_millis(300));
    assert!(pid_alive(pid));
    assert_eq!(
        c.lines_with(&["background worker \"unmoved\" (PID "]).len(),
        0
    );
}

#[test]
fn elog_error_without_handler_exits_1() {
    let c = Setup::new()
        .worker(
            Worker::new("erring")
                .mode("error")
                .restart(BGW_NEVER_RESTART),
        )
        .start();
    let pid = c.wait_started("erring", 1);
    let err = c.wait_for_log("probe \"erring\" raising an ERROR", PROMPT);
    assert!(err.contains("ERROR:  "), "{err}");
    c.wait_for_log(
        &format!("background worker \"erring\" (PID {pid}) exited with exit code 1"),
        PROMPT,
    );
}

#[test]
fn elog_fatal_exits_1() {
    let c = Setup::new()
        .worker(
            Worker::new("fatal one")
                .mode("fatal")
                .restart(BGW_NEVER_RESTART),
        )
        .start();
    let pid = c.wait_started("fatal one", 1);
    let fatal = c.wait_for_log("probe \"fatal one\" raising a FATAL", PROMPT);
    assert!(fatal.contains("FATAL:  "), "{fatal}");
    c.wait_for_log(
        &format!("background worker \"fatal one\" (PID {pid}) exited with exit code 1"),
        PROMPT,
    );
    assert_eq!(
        c.count_log("terminating any other active server processes"),
        0
    );
}

#[test]
fn missing_library_is_an_error_naming_it_and_exits_1() {
    let c = Setup::new()
        .workers(&[
            Worker::new("lost")
                .lib("no_such_library")
                .restart(BGW_NEVER_RESTART),
            Worker::new("fine"),
        ])
        .start();
    let fine = c.wait_started("fine", 1);
    let err = c.wait_for_log(
        "could not access file \"no_such_library\": No such file or directory",
        PROMPT,
    );
    assert!(err.contains("ERROR:  "), "{err}");
    // Where it looked: every directory of dynamic_library_path.
    let detail = c.wait_for_log(
        "DETAIL:  Looked for \"no_such_library\" and \"no_such_library.so\" in \"",
        PROMPT,
    );
    assert!(
        detail.contains(&format!(
            "\"{}\" (dynamic_library_path).",
            modules_path().display()
        )),
        "{detail}"
    );
    let exit = c.wait_for_log("background worker \"lost\" (PID ", PROMPT);
    assert!(exit.ends_with("exited with exit code 1"), "{exit}");
    assert!(pid_alive(fine), "other workers keep running");
    assert_eq!(
        c.count_log("terminating any other active server processes"),
        0
    );
}

#[test]
fn missing_function_is_an_error_naming_function_and_file_and_exits_1() {
    let c = Setup::new()
        .workers(&[
            Worker::new("misnamed")
                .func("no_such_function")
                .restart(BGW_NEVER_RESTART),
            Worker::new("fine"),
        ])
        .start();
    let fine = c.wait_started("fine", 1);
    let err = c.wait_for_log(
        "could not find function \"no_such_function\" in file \"",
        PROMPT,
    );
    assert!(err.contains("ERROR:  "), "{err}");
    assert!(
        err.contains("probe.so\"") || err.contains("probe\""),
        "names the library file: {err}"
    );
    let exit = c.wait_for_log("background worker \"misnamed\" (PID ", PROMPT);
    assert!(exit.ends_with("exited with exit code 1"), "{exit}");
    assert!(pid_alive(fine));
}

#[test]
fn missing_library_with_restart_time_is_retried() {
    // LOAD-4: the failure is an ordinary exit 1, so restart rules apply.
    let c = Setup::new()
        .worker(Worker::new("typo").lib("no_such_library").restart(1))
        .start();
    c.wait_for_log_count("could not access file \"no_such_library\"", 2, PROMPT);
    let exits = c.wait_for_log_count("background worker \"typo\" (PID ", 2, PROMPT);
    let gap = log_time_ms(&exits[1]) - log_time_ms(&exits[0]);
    assert!(gap >= 1000 - 15, "retried after {gap} ms, restart time 1 s");
}

#[test]
fn library_found_by_absolute_path_and_with_so_suffix() {
    // LOAD-3: a name with a '/' is used as is; a bare name is tried with and without ".so".
    let abs = build_module("probe").display().to_string();
    let c = Setup::new()
        .workers(&[
            Worker::new("by path").lib(&abs),
            Worker::new("with suffix").lib("probe.so"),
        ])
        .start();
    c.wait_started("by path", 1);
    c.wait_started("with suffix", 1);
}

#[test]
fn names_with_control_characters_are_escaped_in_log_lines_and_titles() {
    // A module that leaves bgw_name/bgw_type with bytes that are not text (uninitialised, or a
    // stray newline): every log line stays one line, and the title is text.
    let c = Setup::new()
        .worker(Worker::new("bad\nname\u{1}").type_("ty\u{7}pe"))
        .start();
    let started = c.wait_for_log(
        "starting background worker process \"bad\\x0aname\\x01\"",
        PROMPT,
    );
    assert!(started.contains("postmaster"), "{started}");
    // The worker's own lines carry its type, escaped.
    let own = c.wait_for_log("] ty\\x07pe LOG:  probe \"bad", PROMPT);
    assert!(own.contains("] ty\\x07pe LOG:  "), "{own}");
    // No log line is a fragment of a name cut by its newline.
    assert!(
        !c.log_lines().iter().any(|l| l.starts_with("name")),
        "a log line was broken by a raw newline"
    );
    let pid = log_pid(&own).unwrap();
    assert_eq!(
        cmdline(pid).unwrap_or_default(),
        "bgworker: bad\\x0aname\\x01",
        "the title is escaped text"
    );
}
