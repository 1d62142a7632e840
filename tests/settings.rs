//! Settings (bgworker.conf and -c) and reload (HUP-1/2): bad lines name file and line and start
//! nothing, -c wins over the file, placeholders are kept, SIGHUP re-reads and reaches workers.

mod common;

use common::*;
use std::time::Duration;

/// The paths under which the supervisor may name the settings file.
fn conf_paths(c: &Cluster) -> Vec<String> {
    let mut v = vec![c.datadir.join("bgworker.conf").display().to_string()];
    if let Ok(canon) = c.datadir.canonicalize() {
        v.push(canon.join("bgworker.conf").display().to_string());
    }
    v
}

/// Checks that the supervisor refused to start: exit 1, nothing started.
fn assert_refused_to_start(c: &mut Cluster) {
    let st = c.wait_exit(PROMPT);
    assert_eq!(st.code(), Some(1), "exit status {st:?}");
    assert_eq!(c.starts("w"), 0, "no worker may start");
    assert_eq!(c.count_log("starting background worker process"), 0);
    assert!(c.live_seen_pids().is_empty());
}

fn conf_with(line2: &str, line3: &str) -> String {
    format!(
        "# scenario test\n{line2}\n{line3}\ndynamic_library_path = '{}'\nshared_preload_libraries = 'probe'\n",
        modules_path().display()
    )
}

#[test]
fn unknown_parameter_in_file_names_file_and_line() {
    let mut c = Setup::new()
        .worker(Worker::new("w"))
        .raw_conf(&conf_with("log_min_messages = debug1", "foo = 1"))
        .spawn();
    assert_refused_to_start(&mut c);
    let ok = conf_paths(&c).iter().any(|p| {
        c.count_log(&format!(
            "unrecognized configuration parameter \"foo\" in file \"{p}\" line 3"
        )) == 1
    });
    assert!(
        ok,
        "expected: unrecognized configuration parameter \"foo\" in file \"{}\" line 3",
        conf_paths(&c)[0]
    );
}

#[test]
fn bad_value_in_file_names_parameter_file_and_line() {
    let mut c = Setup::new()
        .worker(Worker::new("w"))
        .raw_conf(&conf_with(
            "max_worker_processes = abc",
            "log_min_messages = debug1",
        ))
        .spawn();
    assert_refused_to_start(&mut c);
    assert!(c.count_log("invalid value for parameter \"max_worker_processes\": \"abc\"") >= 1);
    let ok = conf_paths(&c)
        .iter()
        .any(|p| c.count_log(&format!("\"{p}\" line 2")) >= 1);
    assert!(ok, "file and line 2 must be named");
}

#[test]
fn bad_value_on_command_line_is_refused() {
    let mut c = Setup::new()
        .worker(Worker::new("w"))
        .c("max_worker_processes=abc")
        .spawn();
    assert_refused_to_start(&mut c);
    assert!(c.count_log("invalid value for parameter \"max_worker_processes\": \"abc\"") >= 1);
}

#[test]
fn unknown_parameter_on_command_line_is_refused() {
    let mut c = Setup::new().worker(Worker::new("w")).c("foo=1").spawn();
    assert_refused_to_start(&mut c);
    assert!(c.count_log("unrecognized configuration parameter \"foo\"") >= 1);
}

#[test]
fn command_line_overrides_settings_file() {
    let c = Setup::new()
        .conf("cluster_name = 'fromfile'")
        .c("cluster_name=fromcli")
        .worker(Worker::new("titled"))
        .start();
    let pid = c.wait_started("titled", 1);
    let title = wait_for_title(pid, "bgworker: fromcli: titled");
    assert!(!title.contains("fromfile"), "{title}");
}

#[test]
fn placeholder_settings_are_accepted() {
    let c = Setup::new()
        .conf("mymod.x = 1")
        .conf("mymod.some_string = 'hello'")
        .c("othermod.y=abc")
        .worker(Worker::new("w"))
        .start();
    c.wait_started("w", 1);
    assert_eq!(c.count_log("unrecognized configuration parameter"), 0);
}

#[test]
fn sighup_reaches_workers_with_a_handler() {
    let c = Setup::new()
        .workers(&[Worker::new("hup").mode("sighup"), Worker::new("quiet")])
        .start();
    c.wait_started("hup", 1);
    let quiet = c.wait_started("quiet", 1);
    for n in 1..=2 {
        c.signal(libc::SIGHUP);
        c.wait_for_log_count("received SIGHUP, reloading configuration files", n, PROMPT);
        c.wait_for_log_count("probe \"hup\" got SIGHUP", n, PROMPT);
    }
    // SIG-1: a worker without a handler ignores SIGHUP.
    assert!(pid_alive(quiet));
    assert_eq!(c.starts("quiet"), 1);
    assert_eq!(c.starts("hup"), 1);
}

#[test]
fn sighup_rereads_the_settings_file() {
    // The flapper's restarts are logged at DEBUG1; after raising log_min_messages and reloading,
    // its (LOG) exits continue but the DEBUG1 start lines stop.
    let c = Setup::new()
        .worker(Worker::new("flapper").mode("exit").arg(1).restart(1))
        .start();
    c.wait_started("flapper", 1);
    let conf = c.datadir.join("bgworker.conf");
    let text = std::fs::read_to_string(&conf)
        .unwrap()
        .replace("log_min_messages = debug1", "log_min_messages = warning");
    std::fs::write(&conf, text).unwrap();
    c.signal(libc::SIGHUP);
    c.wait_for_log("received SIGHUP, reloading configuration files", PROMPT);
    let from = c.log_len();
    // two more exits (LOG level, still shown)
    let exits_before = exit_lines(&c, "flapper", 1).len();
    wait_until("two more exits of the flapper", PROMPT, || {
        exit_lines(&c, "flapper", 1).len() >= exits_before + 2
    });
    let debug_after: Vec<String> = c.log_lines()[from..]
        .iter()
        .filter(|l| l.contains("DEBUG"))
        .cloned()
        .collect();
    assert!(
        debug_after.is_empty(),
        "DEBUG lines after reloading log_min_messages = warning: {debug_after:?}"
    );
}

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
fn help_and_version_exit_0() {
    for flag in ["--help", "--version"] {
        let out = with_fresh_library(&mut std::process::Command::new(bgworkerd()))
            .arg(flag)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{flag}: {out:?}");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            text.contains("bgworkerd"),
            "{flag} output names the program: {text}"
        );
    }
}

#[test]
fn missing_datadir_is_created_0700() {
    use std::os::unix::fs::PermissionsExt;
    let mut c = Setup::new().bare_datadir().start();
    let mode = std::fs::metadata(&c.datadir).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o700, "DATADIR mode {mode:o}");
    c.signal(libc::SIGINT);
    assert_eq!(c.wait_exit(PROMPT).code(), Some(0));
}

#[test]
fn sighup_with_a_bad_settings_file_keeps_running() {
    let c = Setup::new().worker(Worker::new("steady")).start();
    let pid = c.wait_started("steady", 1);
    let conf = c.datadir.join("bgworker.conf");
    let mut text = std::fs::read_to_string(&conf).unwrap();
    text.push_str("foo = 1\n");
    std::fs::write(&conf, text).unwrap();
    c.signal(libc::SIGHUP);
    c.wait_for_log("received SIGHUP, reloading configuration files", PROMPT);
    c.wait_for_log("unrecognized configuration parameter \"foo\"", PROMPT);
    // Window: prove the supervisor and its worker carry on.
    observe_window(Duration::from_millis(300));
    let mut c = c;
    assert!(
        c.exited().is_none(),
        "a bad file at reload must not stop the supervisor"
    );
    assert!(pid_alive(pid));
    assert_eq!(c.starts("steady"), 1);
}

/// Replaces the data directory's bgworker.conf by `make(path)` (a FIFO, a link, ...).
fn replace_conf(datadir: &std::path::Path, make: impl Fn(&std::path::Path)) {
    let conf = datadir.join("bgworker.conf");
    std::fs::remove_file(&conf).unwrap();
    make(&conf);
}

fn mkfifo(path: &std::path::Path) {
    let c = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: mkfifo on a NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
}

#[test]
fn a_settings_file_that_is_a_fifo_or_a_device_is_refused_at_once_at_start() {
    for kind in ["fifo", "/dev/zero"] {
        let dir = fresh_temp_dir("conf-special");
        let datadir = dir.join("data");
        std::fs::create_dir_all(&datadir).unwrap();
        std::fs::set_permissions(
            &datadir,
            std::os::unix::fs::PermissionsExt::from_mode(0o700),
        )
        .unwrap();
        let conf = datadir.join("bgworker.conf");
        if kind == "fifo" {
            mkfifo(&conf);
        } else {
            std::os::unix::fs::symlink(kind, &conf).unwrap();
        }
        let mut c = Setup::new()
            .worker(Worker::new("w"))
            .bare_datadir()
            .datadir(&datadir)
            .spawn();
        // Bounded: it neither waits for a writer nor reads a device forever.
        assert_refused_to_start(&mut c);
        assert!(
            c.count_log("could not read configuration file \"") == 1
                && c.count_log("bgworker.conf\": not a regular file") == 1,
            "{kind}:\n{}",
            c.log_text()
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}

#[test]
fn a_settings_file_over_16_mb_is_refused() {
    let mut big = conf_with("log_min_messages = debug1", "cluster_name = 'big'");
    big.push_str(&"# padding\n".repeat((16 << 20) / 10 + 1));
    let mut c = Setup::new().worker(Worker::new("w")).raw_conf(&big).spawn();
    assert_refused_to_start(&mut c);
    assert_eq!(
        c.count_log("bgworker.conf\": larger than 16 MB"),
        1,
        "{}",
        c.log_text()
    );
}

#[test]
fn a_byte_that_is_not_utf8_in_a_comment_is_ignored() {
    let dir = fresh_temp_dir("conf-latin1");
    let datadir = dir.join("data");
    std::fs::create_dir_all(&datadir).unwrap();
    std::fs::set_permissions(
        &datadir,
        std::os::unix::fs::PermissionsExt::from_mode(0o700),
    )
    .unwrap();
    // "café" with the é as the single byte 0xE9, as a Latin-1 editor writes it.
    let mut bytes = b"# caf\xE9, written in Latin-1\n".to_vec();
    bytes.extend_from_slice(
        conf_with("log_min_messages = debug1", "cluster_name = 'latin'").as_bytes(),
    );
    std::fs::write(datadir.join("bgworker.conf"), bytes).unwrap();
    let c = Setup::new()
        .worker(Worker::new("w"))
        .bare_datadir()
        .datadir(&datadir)
        .start();
    let pid = c.wait_started("w", 1);
    assert!(
        cmdline(pid).unwrap_or_default().contains("latin"),
        "cluster_name applied: {:?}",
        cmdline(pid)
    );
    drop(c);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn reloading_a_settings_file_that_became_a_fifo_changes_nothing_and_keeps_running() {
    let c = Setup::new().worker(Worker::new("w")).start();
    let w = c.wait_started("w", 1);
    replace_conf(&c.datadir, mkfifo);
    c.signal(libc::SIGHUP);
    c.wait_for_log("bgworker.conf\": not a regular file", PROMPT);
    c.wait_for_log("contains errors; no changes were applied", PROMPT);
    // Still serving: the worker lives and a new registration would be handled.
    assert!(pid_alive(w));
    assert!(pid_alive(c.pid));
}
