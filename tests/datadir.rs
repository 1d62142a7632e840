//! The data directory's lock file: its contents, a second supervisor refused, a stale file replaced.

mod common;

use common::*;
use std::fs;
use std::time::{SystemTime, UNIX_EPOCH};

fn pidfile_lines(c: &Cluster) -> Vec<String> {
    fs::read_to_string(c.pidfile())
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect()
}

fn same_dir(a: &str, b: &std::path::Path) -> bool {
    std::path::Path::new(a) == b
        || std::path::Path::new(a).canonicalize().ok() == b.canonicalize().ok()
}

#[test]
fn pidfile_holds_pid_datadir_start_time_and_status() {
    let c = Setup::new().worker(Worker::new("w")).start();
    c.wait_started("w", 1);
    wait_until("postmaster.pid status ready", PROMPT, || {
        pidfile_lines(&c).get(3).map(|s| s.trim()) == Some("ready")
    });
    let lines = pidfile_lines(&c);
    assert_eq!(
        lines[0].trim().parse::<i32>().ok(),
        Some(c.pid),
        "line 1 is the pid: {lines:?}"
    );
    assert!(
        lines[1].starts_with('/'),
        "line 2 is an absolute path: {lines:?}"
    );
    assert!(
        same_dir(lines[1].trim(), &c.datadir),
        "line 2 is the data directory: {lines:?}"
    );
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let started: i64 = lines[2].trim().parse().expect("line 3 is epoch seconds");
    assert!(
        (now - started).abs() < 120,
        "start time {started} vs now {now}"
    );
}

#[test]
fn second_supervisor_on_same_datadir_is_refused() {
    let first = Setup::new().worker(Worker::new("w")).start();
    let w = first.wait_started("w", 1);
    let mut second = Setup::new()
        .worker(Worker::new("w"))
        .datadir(&first.datadir)
        .spawn();
    let st = second.wait_exit(PROMPT);
    assert_eq!(st.code(), Some(1), "second supervisor exit status {st:?}");
    second.wait_for_log("lock file \"postmaster.pid\" already exists", PROMPT);
    let hint = second.wait_for_log(
        &format!(
            "HINT:  Is another bgworkerd (PID {}) running in data directory \"",
            first.pid
        ),
        PROMPT,
    );
    assert!(
        hint.contains(&*first.datadir.file_name().unwrap().to_string_lossy()),
        "{hint}"
    );
    assert_eq!(
        second.starts("w"),
        0,
        "the second supervisor starts nothing"
    );
    // The first one is untouched.
    assert!(pid_alive(w));
    assert_eq!(
        pidfile_lines(&first)[0].trim().parse::<i32>().ok(),
        Some(first.pid)
    );
    assert_eq!(first.starts("w"), 1);
}

#[test]
fn stale_pidfile_with_dead_pid_is_replaced() {
    let dir = fresh_temp_dir("stale_pidfile");
    let datadir = dir.join("data");
    fs::create_dir_all(&datadir).unwrap();
    let mut dead = std::process::Command::new("true").spawn().unwrap();
    let dead_pid = dead.id();
    dead.wait().unwrap();
    assert!(!pid_alive(dead_pid as i32));
    fs::write(
        datadir.join("postmaster.pid"),
        format!("{dead_pid}\n{}\n1700000000\nready\n", datadir.display()),
    )
    .unwrap();
    {
        let c = Setup::new()
            .worker(Worker::new("w"))
            .datadir(&datadir)
            .start();
        c.wait_started("w", 1);
        assert_eq!(pidfile_lines(&c)[0].trim().parse::<i32>().ok(), Some(c.pid));
    }
    let _ = fs::remove_dir_all(&dir);
}

#[test]
fn pidfile_names_the_supervisors_process_start_time() {
    let c = Setup::new().start();
    wait_until("postmaster.pid status ready", PROMPT, || {
        pidfile_lines(&c).get(3).map(|s| s.trim()) == Some("ready")
    });
    let lines = pidfile_lines(&c);
    // Line 5: the supervisor's start in clock ticks since boot, as /proc/PID/stat has it.
    let stat = fs::read_to_string(format!("/proc/{}/stat", c.pid)).unwrap();
    let ticks = stat[stat.rfind(')').unwrap() + 1..]
        .split_whitespace()
        .nth(19)
        .unwrap();
    assert_eq!(lines.get(4).map(|s| s.trim()), Some(ticks), "{lines:?}");
}

#[test]
fn a_planted_temporary_lock_file_link_is_never_written_through() {
    let dir = fresh_temp_dir("planted_tmp");
    let datadir = dir.join("data");
    fs::create_dir_all(&datadir).unwrap();
    let victim = dir.join("victim");
    fs::write(&victim, "precious\n").unwrap();
    std::os::unix::fs::symlink(&victim, datadir.join("postmaster.pid.tmp")).unwrap();
    {
        let c = Setup::new().datadir(&datadir).start();
        wait_until("postmaster.pid status ready", PROMPT, || {
            pidfile_lines(&c).get(3).map(|s| s.trim()) == Some("ready")
        });
        assert_eq!(fs::read_to_string(&victim).unwrap(), "precious\n");
        let meta = fs::symlink_metadata(c.pidfile()).unwrap();
        assert!(meta.file_type().is_file(), "postmaster.pid is a plain file");
    }
    assert_eq!(fs::read_to_string(&victim).unwrap(), "precious\n");
    let _ = fs::remove_dir_all(&dir);
}

#[test]
fn a_stale_pidfile_naming_the_supervisors_parent_or_grandparent_is_replaced() {
    // The supervisor is started by this test process (its parent), or through a shell (so this
    // process is its grandparent): a lock file naming either, alive as they are, is stale, as
    // after a container restart where pids repeat.
    // SAFETY: getpid has no preconditions.
    let me = unsafe { libc::getpid() };
    for through_shell in [false, true] {
        let dir = fresh_temp_dir("ancestor_pidfile");
        let datadir = dir.join("data");
        fs::create_dir_all(&datadir).unwrap();
        fs::write(
            datadir.join("postmaster.pid"),
            format!("{me}\n{}\n1700000000\nready\n", datadir.display()),
        )
        .unwrap();
        let setup = Setup::new().worker(Worker::new("w")).datadir(&datadir);
        let setup = if through_shell {
            // `sh -c 'exec ...'` would replace the shell: keep it as the parent.
            let wrapper = dir.join("via-shell");
            fs::write(
                &wrapper,
                format!("#!/bin/sh\n\"{}\" \"$@\"\nexit $?\n", bgworkerd().display()),
            )
            .unwrap();
            fs::set_permissions(
                &wrapper,
                std::os::unix::fs::PermissionsExt::from_mode(0o755),
            )
            .unwrap();
            setup.program(wrapper)
        } else {
            setup
        };
        {
            let c = setup.start();
            c.wait_started("w", 1);
            let supervisor: i32 = pidfile_lines(&c)[0].trim().parse().unwrap();
            assert_ne!(supervisor, me);
        }
        let _ = fs::remove_dir_all(&dir);
    }
}

#[test]
fn a_full_disk_at_start_is_a_fatal_naming_the_segment_and_its_size_and_leaves_nothing() {
    // A data directory on a 64 kB filesystem: the lock file fits, the segment does not. Run in a
    // mount namespace of its own, so the small filesystem is private to this test.
    let dir = fresh_temp_dir("full-disk");
    let script = format!(
        "set -e\nmount -t tmpfs -o size=64k bgwtest-full '{d}'\nmkdir -m 700 '{d}/data'\n\
         set +e\n'{b}' -D '{d}/data'\necho \"exit=$?\"\necho \"left=$(ls -A '{d}/data' | tr '\\n' ' ')\"\n",
        d = dir.display(),
        b = bgworkerd().display()
    );
    let out = with_fresh_library(&mut std::process::Command::new("unshare"))
        .args(["--mount", "--propagation", "private", "sh", "-c", &script])
        .output()
        .expect("unshare (util-linux)");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}{stderr}");
    // A FATAL and exit code 1, not a SIGBUS (exit 135) on the first touch of the segment.
    assert!(stdout.contains("exit=1\n"), "{stdout}{stderr}");
    assert!(
        stderr.contains("FATAL:  could not resize shared memory segment \"")
            && stderr.contains("/data/bgworker.shmem\" to ")
            && stderr.contains(" bytes: No space left on device"),
        "{stderr}"
    );
    assert!(
        stdout.contains("left= \n") || stdout.contains("left=\n"),
        "{stdout}"
    );
    let _ = fs::remove_dir_all(&dir);
}
