//! bgworkerd as a systemd `Type=notify` service: the messages a real datagram socket receives
//! (readiness, status, reloads, stopping, the watchdog), what changes without `NOTIFY_SOCKET`,
//! and the data directory taken from `BGWORKER_DATA`.

mod common;

use common::*;
use std::os::unix::net::UnixDatagram;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A datagram socket where systemd would listen, as the supervisor's user can reach it.
struct ServiceManager {
    socket: UnixDatagram,
    path: String,
    seen: Vec<String>,
}

impl ServiceManager {
    fn bind(dir: &Path) -> ServiceManager {
        let path = dir.join("notify.sock");
        let socket = UnixDatagram::bind(&path).expect("bind the notify socket");
        socket
            .set_read_timeout(Some(Duration::from_millis(100)))
            .unwrap();
        ServiceManager {
            socket,
            path: path.display().to_string(),
            seen: Vec::new(),
        }
    }

    /// An abstract socket (`@name`), as systemd uses when it can.
    fn bind_abstract(name: &str) -> ServiceManager {
        use std::os::linux::net::SocketAddrExt;
        let addr = std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes()).unwrap();
        let socket = UnixDatagram::bind_addr(&addr).expect("bind the abstract notify socket");
        socket
            .set_read_timeout(Some(Duration::from_millis(100)))
            .unwrap();
        ServiceManager {
            socket,
            path: format!("@{name}"),
            seen: Vec::new(),
        }
    }

    /// Receives until a message containing `want` arrives (every message is kept in `seen`).
    fn expect(&mut self, want: &str, timeout: Duration) -> String {
        let deadline = Instant::now() + timeout;
        let mut buf = [0u8; 4096];
        while Instant::now() < deadline {
            if let Ok(n) = self.socket.recv(&mut buf) {
                let m = String::from_utf8_lossy(&buf[..n]).into_owned();
                self.seen.push(m.clone());
                if m.contains(want) {
                    return m;
                }
            }
        }
        panic!(
            "no message with {want:?} within {timeout:?}; received: {:?}",
            self.seen
        );
    }

    /// Every message that arrives within `window`.
    fn drain(&mut self, window: Duration) -> Vec<String> {
        let deadline = Instant::now() + window;
        let mut buf = [0u8; 4096];
        let mut out = Vec::new();
        while Instant::now() < deadline {
            if let Ok(n) = self.socket.recv(&mut buf) {
                out.push(String::from_utf8_lossy(&buf[..n]).into_owned());
            }
        }
        self.seen.extend(out.iter().cloned());
        out
    }
}

#[test]
fn readiness_status_reload_and_stopping_reach_the_service_manager() {
    let dir = fresh_temp_dir("service-notify");
    let mut sm = ServiceManager::bind(&dir);
    let mut c = Setup::new()
        .worker(Worker::new("steady"))
        .env("NOTIFY_SOCKET", &sm.path)
        .start();
    let ready = sm.expect("READY=1", PROMPT);
    // The static worker started before the supervisor was ready: the status line says so.
    assert!(
        ready.contains("STATUS=1 background worker running"),
        "READY=1 comes with a status line: {ready:?}"
    );

    // A second worker: the count follows.
    let out = bgworkerctl(
        &c.datadir,
        &[
            "launch",
            "--library",
            "probe",
            "--function",
            "probe_main",
            "--name",
            "second",
            "--wait",
        ],
    );
    assert!(out.status.success(), "{out:?}");
    sm.expect("STATUS=2 background workers running", PROMPT);

    // A reload: RELOADING=1 with the monotonic time, then READY=1 again.
    c.signal(libc::SIGHUP);
    let reloading = sm.expect("RELOADING=1", PROMPT);
    let usec: u64 = reloading
        .lines()
        .find_map(|l| l.strip_prefix("MONOTONIC_USEC="))
        .expect("RELOADING=1 carries MONOTONIC_USEC")
        .parse()
        .expect("a number of microseconds");
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime into a local timespec.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut now) };
    let now_usec = now.tv_sec as u64 * 1_000_000 + now.tv_nsec as u64 / 1000;
    assert!(
        usec <= now_usec && now_usec - usec < 60_000_000,
        "MONOTONIC_USEC is CLOCK_MONOTONIC's: {usec} vs now {now_usec}"
    );
    sm.expect("READY=1", PROMPT);

    // No watchdog was asked for: none is sent.
    assert!(
        !sm.seen.iter().any(|m| m.contains("WATCHDOG=1")),
        "no WATCHDOG=1 without WATCHDOG_USEC: {:?}",
        sm.seen
    );

    c.signal(libc::SIGINT);
    sm.expect("STOPPING=1", PROMPT);
    assert!(c.wait_exit(PROMPT).success());
}

#[test]
fn watchdog_pings_come_at_half_the_timeout_and_only_for_this_process() {
    let dir = fresh_temp_dir("service-watchdog");
    let mut sm = ServiceManager::bind(&dir);
    let mut c = Setup::new()
        .env("NOTIFY_SOCKET", &sm.path)
        .env("WATCHDOG_USEC", "400000")
        .start();
    sm.expect("READY=1", PROMPT);
    // 400 ms: one ping every 200 ms, so 1.2 s holds about six of them even while idle.
    let pings = sm
        .drain(Duration::from_millis(1200))
        .iter()
        .filter(|m| m.contains("WATCHDOG=1"))
        .count();
    assert!(
        (3..=9).contains(&pings),
        "about six WATCHDOG=1 in 1.2 s at WATCHDOG_USEC=400000, got {pings}: {:?}",
        sm.seen
    );
    c.signal(libc::SIGINT);
    assert!(c.wait_exit(PROMPT).success());

    // WATCHDOG_PID naming another process: the watchdog is not ours to feed.
    let dir = fresh_temp_dir("service-watchdog-other");
    let mut sm = ServiceManager::bind(&dir);
    let mut c = Setup::new()
        .env("NOTIFY_SOCKET", &sm.path)
        .env("WATCHDOG_USEC", "200000")
        .env("WATCHDOG_PID", "1")
        .start();
    sm.expect("READY=1", PROMPT);
    let msgs = sm.drain(Duration::from_millis(600));
    assert!(
        !msgs.iter().any(|m| m.contains("WATCHDOG=1")),
        "no WATCHDOG=1 when WATCHDOG_PID names another process: {msgs:?}"
    );
    c.signal(libc::SIGINT);
    assert!(c.wait_exit(PROMPT).success());
}

#[test]
fn an_abstract_notify_socket_works_and_workers_do_not_inherit_the_variables() {
    let name = format!("bgw-notify-{}", std::process::id());
    let mut sm = ServiceManager::bind_abstract(&name);
    let mut c = Setup::new()
        .worker(Worker::new("steady"))
        .env("NOTIFY_SOCKET", &sm.path)
        .env("WATCHDOG_USEC", "10000000")
        .start();
    sm.expect("READY=1", PROMPT);
    let pid = c.wait_started("steady", 1);
    let environ = std::fs::read(format!("/proc/{pid}/environ")).expect("the worker's environment");
    for var in ["NOTIFY_SOCKET=", "WATCHDOG_USEC=", "WATCHDOG_PID="] {
        assert!(
            !environ
                .split(|&b| b == 0)
                .any(|e| e.starts_with(var.as_bytes())),
            "a worker does not inherit {var}: it would talk to systemd in the supervisor's name"
        );
    }
    // Nor the socket itself.
    let fds: Vec<String> = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap()
        .filter_map(|e| std::fs::read_link(e.ok()?.path()).ok())
        .map(|p| p.display().to_string())
        .collect();
    let sup_socket_inodes: Vec<String> = std::fs::read_dir(format!("/proc/{}/fd", c.pid))
        .unwrap()
        .filter_map(|e| std::fs::read_link(e.ok()?.path()).ok())
        .map(|p| p.display().to_string())
        .filter(|p| p.starts_with("socket:"))
        .collect();
    for s in &sup_socket_inodes {
        assert!(
            !fds.contains(s),
            "the worker holds none of the supervisor's sockets ({s}); its descriptors: {fds:?}"
        );
    }
    c.signal(libc::SIGINT);
    sm.expect("STOPPING=1", PROMPT);
    assert!(c.wait_exit(PROMPT).success());
}

#[test]
fn without_notify_socket_nothing_is_sent_and_a_bad_one_changes_nothing() {
    // A socket path nobody listens on: the supervisor runs as ever (never waits, never fails).
    let dir = fresh_temp_dir("service-nobody");
    let mut c = Setup::new()
        .worker(Worker::new("steady"))
        .env(
            "NOTIFY_SOCKET",
            &dir.join("nobody.sock").display().to_string(),
        )
        .start();
    c.wait_started("steady", 1);
    c.signal(libc::SIGHUP);
    c.wait_for_log("reloading configuration files", PROMPT);
    c.signal(libc::SIGINT);
    assert!(c.wait_exit(PROMPT).success());
}

#[test]
fn the_data_directory_comes_from_bgworker_data_when_d_is_not_given() {
    let dir = fresh_temp_dir("service-datadir-env");
    let datadir = dir.join("data");
    let mut child = with_fresh_library(&mut Command::new(bgworkerd()))
        .env("BGWORKER_DATA", &datadir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start bgworkerd");
    let pidfile = datadir.join("postmaster.pid");
    wait_until("bgworkerd running in $BGWORKER_DATA", PROMPT, || {
        std::fs::read_to_string(&pidfile).is_ok_and(|t| t.lines().nth(3) == Some("ready"))
    });
    let ctl = Command::new(env!("CARGO_BIN_EXE_bgworkerctl"))
        .env("BGWORKER_DATA", &datadir)
        .arg("status")
        .output()
        .unwrap();
    assert!(
        ctl.status.success(),
        "bgworkerctl finds it through BGWORKER_DATA too: {ctl:?}"
    );
    // SAFETY: signalling the child we started.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    assert!(child.wait().unwrap().success());

    // Neither -D nor the variable: PostgreSQL's message, naming both.
    let out = with_fresh_library(&mut Command::new(bgworkerd()))
        .env_remove("BGWORKER_DATA")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("FATAL:  bgworkerd does not know where to find the data directory")
            && err.contains("-D invocation option")
            && err.contains("BGWORKER_DATA environment variable"),
        "{err}"
    );
}

/// The shipped unit, as `make install` writes it for programs in `bindir`.
fn unit_for(bindir: &Path) -> String {
    std::fs::read_to_string(repo_dir().join("systemd/bgworkerd.service.in"))
        .unwrap()
        .replace("@BINDIR@", &bindir.display().to_string())
}

#[test]
fn the_unit_file_is_valid_for_systemd_and_is_installed_where_systemd_looks() {
    let dir = fresh_temp_dir("service-unit");
    let unit = dir.join("bgworkerd.service");
    let bindir = bgworkerd().parent().unwrap().to_path_buf();
    let text = unit_for(&bindir);
    for line in [
        "Type=notify",
        "ExecReload=/bin/kill -HUP $MAINPID",
        "KillSignal=SIGINT",
        "Environment=BGWORKER_DATA=",
    ] {
        assert!(text.contains(line), "the unit has {line}: {text}");
    }
    assert!(text.contains(&format!("ExecStart={}/bgworkerd\n", bindir.display())));
    std::fs::write(&unit, &text).unwrap();
    let out = Command::new("systemd-analyze")
        .args(["verify", "--man=no"])
        .arg(&unit)
        .output()
        .expect("systemd-analyze (package systemd) is installed by .ci/install-deps.sh");
    assert!(
        out.status.success() && out.stderr.is_empty(),
        "systemd-analyze verify: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    // A broken unit is caught the same way (the check can fail).
    std::fs::write(&unit, text.replace("Type=notify", "Type=notifyy")).unwrap();
    let bad = Command::new("systemd-analyze")
        .args(["verify", "--man=no"])
        .arg(&unit)
        .output()
        .unwrap();
    assert!(!bad.stderr.is_empty(), "a bad Type= is reported");

    // make install: the unit under $(libdir)/systemd/system, with the installed bindir; the
    // man pages under $(mandir)/man1.
    let plan = Command::new("make")
        .args([
            "-n",
            "--no-print-directory",
            "install",
            "PREFIX=/opt/bgw",
            "DESTDIR=/stage",
        ])
        .current_dir(repo_dir())
        .output()
        .unwrap();
    let plan = String::from_utf8_lossy(&plan.stdout);
    assert!(
        plan.contains("sed -e 's|@BINDIR@|/opt/bgw/bin|' systemd/bgworkerd.service.in")
            && plan.contains("> /stage/opt/bgw/lib/systemd/system/bgworkerd.service"),
        "{plan}"
    );
    assert!(
        plan.contains(
            "install -m 644 man/bgworkerd.1 man/bgworkerctl.1 /stage/opt/bgw/share/man/man1/"
        ),
        "{plan}"
    );
}

/// A man page rendered as text (no warnings allowed), with the overstrikes removed.
fn render(page: &str) -> String {
    let out = Command::new("groff")
        .args(["-man", "-Tutf8", "-ww", "-P", "-cbou"])
        .arg(repo_dir().join("man").join(page))
        .env("LC_ALL", "C.UTF-8")
        .output()
        .expect("groff (package groff-base) is installed by .ci/install-deps.sh");
    assert!(
        out.status.success() && out.stderr.is_empty(),
        "{page} renders without warnings: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn the_man_pages_render_cleanly_and_cover_every_option_and_command() {
    let d = render("bgworkerd.1");
    let help = String::from_utf8_lossy(
        &with_fresh_library(&mut Command::new(bgworkerd()))
            .arg("--help")
            .output()
            .unwrap()
            .stdout,
    )
    .into_owned();
    for opt in ["-D", "-c", "--version", "--help", "BGWORKER_DATA"] {
        assert!(help.contains(opt), "bgworkerd --help has {opt}");
        assert!(d.contains(opt), "bgworkerd(1) has {opt}: {d}");
    }
    for sig in [
        "SIGTERM",
        "SIGINT",
        "SIGQUIT",
        "SIGHUP",
        "NOTIFY_SOCKET",
        "WATCHDOG_USEC",
    ] {
        assert!(d.contains(sig), "bgworkerd(1) has {sig}");
    }

    let ctl = render("bgworkerctl.1");
    let help = String::from_utf8_lossy(
        &Command::new(env!("CARGO_BIN_EXE_bgworkerctl"))
            .arg("--help")
            .output()
            .unwrap()
            .stdout,
    )
    .into_owned();
    // Every command and option of the usage text is in the man page.
    let words: Vec<&str> = help
        .lines()
        .skip_while(|l| !l.starts_with("Usage:"))
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .flat_map(|l| l.split(|c: char| c.is_whitespace() || "[]|".contains(c)))
        .filter(|w| w.starts_with("--") || w.chars().all(|c| c.is_ascii_lowercase()))
        .filter(|w| !w.is_empty() && *w != "bgworkerctl")
        .collect();
    assert!(
        words.contains(&"restart") && words.contains(&"--wide"),
        "{words:?}"
    );
    for w in words {
        assert!(ctl.contains(w), "bgworkerctl(1) has {w}: {ctl}");
    }
}
