//! A throwaway PostgreSQL 15 cluster for tests: `initdb` as an unprivileged user (PostgreSQL
//! refuses root), a private unix socket directory, no TCP, removed on drop.

use super::{fresh_temp_dir, unprivileged_user};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

/// PostgreSQL 15's binaries.
pub fn pg_bindir() -> PathBuf {
    let out = Command::new("pg_config")
        .arg("--bindir")
        .output()
        .expect("pg_config (package postgresql-server-dev-15)");
    let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    // Debian's pg_config may name /usr/bin; the server binaries live in the versioned dir.
    if dir.join("initdb").exists() {
        dir
    } else {
        PathBuf::from("/usr/lib/postgresql/15/bin")
    }
}

fn run_as(cmd: &mut Command) -> Output {
    if let Some((uid, gid)) = unprivileged_user() {
        cmd.uid(uid).gid(gid);
    }
    cmd.output().expect("run a PostgreSQL program")
}

/// Makes `dir` and its parents readable by the cluster's user.
pub fn share_with_cluster(dir: &Path) {
    let mut d = Some(dir);
    while let Some(p) = d {
        if p == Path::new("/") || p == Path::new("/tmp") {
            break;
        }
        if let Ok(meta) = std::fs::metadata(p) {
            let mode = meta.permissions().mode() | 0o755;
            let _ = std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode));
        }
        d = p.parent();
    }
}

/// A running throwaway cluster.
pub struct PgCluster {
    pub root: PathBuf,
    pub data: PathBuf,
    pub socket_dir: PathBuf,
    pub port: u16,
    pub log: PathBuf,
}

impl PgCluster {
    /// `initdb`s a cluster, adds `settings` to postgresql.conf, starts it with `env` in the
    /// server's environment, and waits until it accepts connections.
    pub fn start(label: &str, settings: &[String], env: &[(String, String)]) -> PgCluster {
        let root = fresh_temp_dir(&format!("pg-{label}"));
        let data = root.join("data");
        let socket_dir = root.join("sock");
        std::fs::create_dir_all(&socket_dir).unwrap();
        let log = root.join("server.log");
        share_with_cluster(&root);
        if let Some((uid, gid)) = unprivileged_user() {
            for p in [&root, &socket_dir] {
                std::os::unix::fs::chown(p, Some(uid), Some(gid)).unwrap();
            }
        }
        let bin = pg_bindir();
        let out = run_as(Command::new(bin.join("initdb")).args([
            "-D",
            data.to_str().unwrap(),
            "-A",
            "trust",
            "-U",
            "postgres",
            "--no-sync",
            "-E",
            "UTF8",
            "--locale=C",
        ]));
        assert!(
            out.status.success(),
            "initdb failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        // A port number only names the socket file here (no TCP); pick one unlikely to clash.
        let port =
            20000 + (std::process::id() % 20000) as u16 + (root.as_os_str().len() % 97) as u16;
        let mut conf = format!(
            "\nlisten_addresses = ''\nunix_socket_directories = '{}'\nport = {port}\nfsync = off\n\
             max_connections = 10\nlog_line_prefix = '%m [%p] %b '\nlogging_collector = off\n",
            socket_dir.display()
        );
        for s in settings {
            conf.push_str(s);
            conf.push('\n');
        }
        let conf_path = data.join("postgresql.conf");
        let mut text = std::fs::read_to_string(&conf_path).unwrap();
        text.push_str(&conf);
        std::fs::write(&conf_path, text).unwrap();
        let cluster = PgCluster {
            root,
            data,
            socket_dir,
            port,
            log,
        };
        cluster.start_server(env);
        cluster
    }

    /// `pg_ctl start` on the existing data directory; waits until it accepts connections.
    pub fn start_server(&self, env: &[(String, String)]) {
        let mut cmd = Command::new(pg_bindir().join("pg_ctl"));
        cmd.args([
            "-D",
            self.data.to_str().unwrap(),
            "-l",
            self.log.to_str().unwrap(),
            "-w",
            "-t",
            "60",
            "start",
        ]);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let out = run_as(&mut cmd);
        assert!(
            out.status.success(),
            "pg_ctl start failed: {}{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
            self.log_text()
        );
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Waits (polling, bounded) until the server log contains `pattern`.
    pub fn wait_for_log(&self, pattern: &str, timeout: Duration) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            let text = self.log_text();
            if let Some(line) = text.lines().find(|l| l.contains(pattern)) {
                return line.to_string();
            }
            assert!(
                Instant::now() < deadline,
                "PostgreSQL log never showed {pattern:?} within {timeout:?}:\n{text}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Runs SQL with psql over the private socket; returns trimmed, unaligned output.
    pub fn psql(&self, db: &str, sql: &str) -> Result<String, String> {
        let out = run_as(Command::new(pg_bindir().join("psql")).args([
            "-X",
            "-A",
            "-t",
            "-q",
            "-v",
            "ON_ERROR_STOP=1",
            "-h",
            self.socket_dir.to_str().unwrap(),
            "-p",
            &self.port.to_string(),
            "-U",
            "postgres",
            "-d",
            db,
            "-c",
            sql,
        ]));
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
        } else {
            Err(String::from_utf8_lossy(&out.stderr).trim().to_string())
        }
    }

    pub fn stop(&self) {
        let _ = run_as(Command::new(pg_bindir().join("pg_ctl")).args([
            "-D",
            self.data.to_str().unwrap(),
            "-m",
            "fast",
            "-w",
            "stop",
        ]));
    }
}

impl Drop for PgCluster {
    fn drop(&mut self) {
        self.stop();
        if std::thread::panicking() {
            eprintln!(
                "===== PostgreSQL log {} =====\n{}",
                self.log.display(),
                self.log_text()
            );
        }
        let _ = std::fs::remove_dir_all(&self.root);
    }
}
