//! The log never stops the supervisor: with its stderr on a pipe nobody reads, it keeps starting,
//! reaping and answering (1,000 launch/exit cycles, then a fast stop, within bounds), counts the
//! lines it could not write and says so once writing works again; and started with any of its
//! standard descriptors closed, it opens them on /dev/null first, so no descriptor of its own
//! (the pipe workers watch for its death) ever receives log lines. With the logging collector
//! on, a collector stopped, then dead and unable to start again, costs counted lines only.

mod common;

use common::*;
use std::io::Read;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::fs::OpenOptionsExt;
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn pipe() -> (OwnedFd, OwnedFd) {
    let mut fds = [0; 2];
    // SAFETY: pipe2 fills two descriptors we then own.
    assert_eq!(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) }, 0);
    // SAFETY: both are new descriptors nobody else owns.
    unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) }
}

/// Writes into the pipe until it is full (through a non-blocking descriptor of our own).
fn fill(write_end: &OwnedFd) {
    let path = format!("/proc/self/fd/{}", write_end.as_raw_fd());
    let f = std::fs::OpenOptions::new()
        .write(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
        .unwrap();
    let junk = [b'#'; 4096];
    loop {
        // SAFETY: writing a local buffer.
        let n = unsafe { libc::write(f.as_raw_fd(), junk.as_ptr().cast(), junk.len()) };
        if n <= 0 {
            break;
        }
    }
}

fn write_conf(datadir: &std::path::Path, extra: &str) {
    std::fs::create_dir_all(datadir).unwrap();
    std::fs::set_permissions(datadir, std::os::unix::fs::PermissionsExt::from_mode(0o700)).unwrap();
    std::fs::write(
        datadir.join("bgworker.conf"),
        format!(
            "dynamic_library_path = '{}'\nshared_preload_libraries = 'probe,dyn_probe'\n\
             log_min_messages = debug1\n{extra}\n",
            modules_path().display()
        ),
    )
    .unwrap();
}

fn wait_ready(datadir: &std::path::Path) {
    wait_until("the supervisor ready", PROMPT, || {
        std::fs::read_to_string(datadir.join("postmaster.pid"))
            .is_ok_and(|t| t.lines().nth(3) == Some("ready"))
    });
}

#[test]
fn a_stalled_log_reader_never_stops_the_supervisor() {
    build_module("probe");
    build_module("dyn_probe");
    let dir = fresh_temp_dir("log-stall");
    let datadir = dir.join("data");
    write_conf(&datadir, "");
    let (read_end, write_end) = pipe();
    let mut sup = with_fresh_library(&mut Command::new(bgworkerd()))
        .arg("-D")
        .arg(&datadir)
        // Two chatty workers: a LOG line every millisecond each.
        .env(
            "PROBE_WORKERS",
            Worker::new("chatty1").mode("tick").arg(1).spec()
                + ";"
                + &Worker::new("chatty2").mode("tick").arg(1).spec(),
        )
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::from(write_end.try_clone().unwrap()))
        .spawn()
        .unwrap();
    wait_ready(&datadir);
    // The reader stalls: the pipe is full, and nobody reads it.
    fill(&write_end);
    drop(write_end);

    // 1,000 launch/exit cycles through an attached client, whose own output is read.
    let script = "reg,h=0,name=cycle,mode=exit:0;waitstop,h=0;free,h=0;".repeat(1000);
    let started = Instant::now();
    let client = with_fresh_library(&mut Command::new(build_program("attach_client")))
        .arg(&datadir)
        .arg(&script)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let client_pid = client.id() as i32;
    let collected = std::thread::spawn(move || client.wait_with_output().unwrap());
    // Bounded: a supervisor stuck in write would leave the client waiting forever.
    let bounded = Instant::now() + Duration::from_secs(60);
    while !collected.is_finished() && Instant::now() < bounded {
        std::thread::sleep(POLL);
    }
    if !collected.is_finished() {
        send_signal(client_pid, libc::SIGKILL);
        let _ = sup.kill();
        panic!("1,000 launch/exit cycles did not complete within 60 s");
    }
    let out = collected.join().unwrap();
    let cycles = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.starts_with("dyn: waitstop h=0 status=STOPPED"))
        .count();
    assert_eq!(cycles, 1000, "{}", String::from_utf8_lossy(&out.stderr));
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "1,000 cycles took {:?}",
        started.elapsed()
    );

    // Writing works again once the reader drains the pipe: the next line says what was lost.
    let reader = std::thread::spawn(move || {
        let mut f = std::fs::File::from(read_end);
        let mut all = Vec::new();
        let mut buf = [0u8; 65536];
        while let Ok(n) = f.read(&mut buf) {
            if n == 0 {
                break;
            }
            all.extend_from_slice(&buf[..n]);
        }
        String::from_utf8_lossy(&all).into_owned()
    });
    let ctl = bgworkerctl(&datadir, &["reload"]);
    assert!(ctl.status.success());
    // A fast stop, on time.
    let stop = bgworkerctl(&datadir, &["stop", "--mode", "fast", "--timeout", "20"]);
    assert!(
        stop.status.success(),
        "{}",
        String::from_utf8_lossy(&stop.stderr)
    );
    let st = sup.wait().unwrap();
    assert_eq!(st.code(), Some(0));
    let log = reader.join().unwrap();
    let lost = log
        .lines()
        .find(|l| l.contains("postmaster LOG:  ") && l.contains(" log messages were lost"))
        .unwrap_or_else(|| panic!("no lost-count line from the supervisor in the drained log"));
    let n: u64 = lost[lost.find("LOG:  ").unwrap() + 6..]
        .split_whitespace()
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!(n > 0, "{lost}");
    assert!(
        log.contains("received SIGHUP, reloading configuration files"),
        "after the count"
    );
}

/// Runs `n` launch/exit cycles through an attached client; panics unless all complete within
/// 60 s (a supervisor stuck in a write would leave the client waiting forever).
fn cycles(datadir: &std::path::Path, n: usize, sup: &mut std::process::Child) {
    let script = "reg,h=0,name=cycle,mode=exit:0;waitstop,h=0;free,h=0;".repeat(n);
    let client = with_fresh_library(&mut Command::new(build_program("attach_client")))
        .arg(datadir)
        .arg(&script)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let client_pid = client.id() as i32;
    let collected = std::thread::spawn(move || client.wait_with_output().unwrap());
    let bounded = Instant::now() + Duration::from_secs(60);
    while !collected.is_finished() && Instant::now() < bounded {
        std::thread::sleep(POLL);
    }
    if !collected.is_finished() {
        send_signal(client_pid, libc::SIGKILL);
        let _ = sup.kill();
        panic!("{n} launch/exit cycles did not complete within 60 s");
    }
    let out = collected.join().unwrap();
    let done = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.starts_with("dyn: waitstop h=0 status=STOPPED"))
        .count();
    assert_eq!(done, n, "{}", String::from_utf8_lossy(&out.stderr));
}

/// Fills the pipe process `pid`'s stderr points to, through a descriptor of our own.
fn fill_through_proc(pid: i32) {
    let f = std::fs::OpenOptions::new()
        .write(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(format!("/proc/{pid}/fd/2"))
        .unwrap();
    let line = "filler line written by the test\n".repeat(128).into_bytes();
    loop {
        // SAFETY: writing a local buffer.
        let n = unsafe { libc::write(f.as_raw_fd(), line.as_ptr().cast(), line.len()) };
        if n <= 0 {
            break;
        }
    }
}

/// The supervisor's child titled `bgworker: logger`, other than `not`.
fn collector_pid(sup: i32, not: Option<i32>) -> Option<i32> {
    all_processes()
        .into_iter()
        .filter(|(p, st)| st.ppid == sup && st.state != 'Z' && Some(*p) != not)
        .map(|(p, _)| p)
        .find(|&p| cmdline(p).is_some_and(|t| t == "bgworker: logger"))
}

#[test]
fn a_stalled_or_dead_collector_never_stops_the_supervisor() {
    build_module("probe");
    build_module("dyn_probe");
    let dir = fresh_temp_dir("collector-stall");
    let datadir = dir.join("data");
    write_conf(
        &datadir,
        "logging_collector = on\nlog_filename = 'server.log'\n",
    );
    let mut sup = with_fresh_library(&mut Command::new(bgworkerd()))
        .arg("-D")
        .arg(&datadir)
        .env(
            "PROBE_WORKERS",
            Worker::new("chatty1").mode("tick").arg(1).spec()
                + ";"
                + &Worker::new("chatty2").mode("tick").arg(1).spec(),
        )
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let pid = sup.id() as i32;
    wait_ready(&datadir);
    let file = datadir.join("log/server.log");
    let mut first = None;
    wait_until("the collector", PROMPT, || {
        first = collector_pid(pid, None);
        first.is_some()
    });
    let first = first.unwrap();

    // Stalled: the collector stops reading, and its pipe is full.
    send_signal(first, libc::SIGSTOP);
    fill_through_proc(pid);
    cycles(&datadir, 500, &mut sup);

    // Dead, and unable to start again: its directory is a file now.
    std::fs::rename(datadir.join("log"), datadir.join("log.moved")).unwrap();
    std::fs::write(datadir.join("log"), "not a directory").unwrap();
    send_signal(first, libc::SIGKILL);
    cycles(&datadir, 500, &mut sup);
    assert!(bgworkerctl(&datadir, &["status"]).status.success());

    // Back: the next collector drains the pipe; the supervisor's next line says what was lost.
    std::fs::remove_file(datadir.join("log")).unwrap();
    std::fs::rename(datadir.join("log.moved"), datadir.join("log")).unwrap();
    wait_until("a collector again", PROMPT, || {
        collector_pid(pid, Some(first)).is_some()
    });
    assert!(bgworkerctl(&datadir, &["reload"]).status.success());
    let mut text = String::new();
    wait_until("the reload in the log file", PROMPT, || {
        text = std::fs::read_to_string(&file).unwrap_or_default();
        text.contains("received SIGHUP, reloading configuration files")
    });
    let lost = text
        .lines()
        .find(|l| l.contains("postmaster LOG:  ") && l.contains(" log messages were lost"))
        .unwrap_or_else(|| panic!("no lost-count line from the supervisor"));
    let n: u64 = lost[lost.find("LOG:  ").unwrap() + 6..]
        .split_whitespace()
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!(n > 0, "{lost}");

    // A fast stop, on time, with the last lines in the file.
    let started = Instant::now();
    let stop = bgworkerctl(&datadir, &["stop", "--mode", "fast", "--timeout", "20"]);
    assert!(
        stop.status.success(),
        "{}",
        String::from_utf8_lossy(&stop.stderr)
    );
    assert_eq!(sup.wait().unwrap().code(), Some(0));
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.contains("postmaster LOG:  supervisor is shut down"));
    let _ = std::fs::remove_dir_all(&dir);
}

/// Descriptors 0, 1 and 2 of process `pid`, by what they point to.
fn standard_targets(pid: i32) -> Vec<String> {
    (0..3)
        .map(|fd| {
            std::fs::read_link(format!("/proc/{pid}/fd/{fd}"))
                .map(|p| p.display().to_string())
                .unwrap_or_else(|_| "closed".into())
        })
        .collect()
}

#[test]
fn started_with_standard_descriptors_closed_it_opens_them_on_dev_null_first() {
    build_module("probe");
    build_module("dyn_probe");
    for closed in 1u8..8 {
        let dir = fresh_temp_dir("closed-fds");
        let datadir = dir.join("data");
        write_conf(&datadir, "");
        let mut cmd = Command::new(bgworkerd());
        with_fresh_library(&mut cmd);
        cmd.arg("-D")
            .arg(&datadir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .env("PROBE_WORKERS", Worker::new("waiter").mode("latch").spec());
        // SAFETY: close() in the child before exec, async-signal-safe.
        unsafe {
            cmd.pre_exec(move || {
                for fd in 0..3 {
                    if closed & (1 << fd) != 0 {
                        libc::close(fd);
                    }
                }
                Ok(())
            });
        }
        let mut sup = cmd.spawn().unwrap();
        wait_ready(&datadir);
        let pid = sup.id() as i32;
        let targets = standard_targets(pid);
        for fd in 0..3 {
            if closed & (1 << fd) != 0 {
                assert_eq!(targets[fd], "/dev/null", "closed {closed:03b}: {targets:?}");
            }
        }
        // Log lines written meanwhile (a reload logs) never reach the workers' death pipe: the
        // worker is still the one that started, never restarted.
        let before = status_pid(&datadir, "waiter");
        for _ in 0..3 {
            assert!(bgworkerctl(&datadir, &["reload"]).status.success());
        }
        observe_window(Duration::from_millis(300));
        assert_eq!(
            status_pid(&datadir, "waiter"),
            before,
            "closed {closed:03b}"
        );
        assert!(bgworkerctl(&datadir, &["stop", "--mode", "fast"])
            .status
            .success());
        assert_eq!(sup.wait().unwrap().code(), Some(0));
    }
}

/// The pid and restart count `bgworkerctl status --json` shows for worker `name`.
fn status_pid(datadir: &std::path::Path, name: &str) -> (i64, u64) {
    let out = bgworkerctl(datadir, &["status", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let w = v["workers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["name"] == name)
        .unwrap_or_else(|| panic!("no {name} in {v}"))
        .clone();
    (
        w["pid"].as_i64().unwrap_or(0),
        w["restarts"].as_u64().unwrap(),
    )
}
