//! `bgworkerctl -D DATADIR <command>`: status, launch, terminate, restart, reload, logrotate and
//! stop for a running `bgworkerd`, and `check` for a module file. Argument parsing and printing only; the work is
//! `bgworker::ctl`.

use bgworker::ctl::{self, CtlError, Launch, Launched, EXIT_FAILED, EXIT_OK, EXIT_USAGE};
use std::path::PathBuf;
use std::time::Duration;

const USAGE: &str = "bgworkerctl controls a running bgworkerd, and checks modules for it.

Usage:
  bgworkerctl [-D DATADIR] status [--wide] [--json]
  bgworkerctl [-D DATADIR] launch --library L --function F [--name N] [--type T] [--arg INT]
                           [--extra STR] [--restart-time S|never] [--start-time WHEN]
                           [--flags shmem,db,parallel|none] [--wait]
  bgworkerctl [-D DATADIR] terminate SLOT | --pid PID
  bgworkerctl [-D DATADIR] restart SLOT | --pid PID
  bgworkerctl [-D DATADIR] reload
  bgworkerctl [-D DATADIR] logrotate
  bgworkerctl [-D DATADIR] stop [--mode smart|fast|immediate] [--timeout S]
  bgworkerctl check MODULE.so [--json]

DATADIR defaults to $BGWORKER_DATA.

status shows each worker in 100 columns (the error that ended its last run under it); --wide
shows every field (library, function, times, wait event, title, activity); --json every field
for programs.

launch registers a dynamic worker; with --wait it waits until the worker runs and prints its
PID, or says whether it started and then exited (with its exit code and error) or never started.
WHEN is postmaster, consistent or recovery-finished (the default). Defaults: flags shmem,
restart never, name = function.

terminate stops a worker and unregisters it, as TerminateBackgroundWorker does: it is not
started again. A static worker (from shared_preload_libraries) stays gone until bgworkerd
restarts; use restart to stop and start one.

restart stops a running worker (SIGTERM) and starts it again as soon as it exits, whatever its
exit code and restart time; a worker waiting for its restart time starts now.

stop waits up to --timeout seconds (default 60) for bgworkerd to go, then names the workers
still running.

Exit status: 0 done, 1 refused or failed, 2 usage error, 3 no supervisor running (or it cannot
be attached).

check lists every PostgreSQL 15 server symbol the module references, by declaring header, and
whether bgworkerd implements it; it exits 1 when the module references a function bgworkerd
does not implement (calling one raises an ERROR).
";

fn usage(msg: &str) -> CtlError {
    CtlError {
        code: EXIT_USAGE,
        message: format!("{msg}\nTry \"bgworkerctl --help\" for more information."),
    }
}

fn run(args: &[String]) -> Result<String, CtlError> {
    let mut datadir: Option<PathBuf> = std::env::var_os("BGWORKER_DATA").map(PathBuf::from);
    let mut rest: Vec<&str> = Vec::new();
    let mut it = args.iter().skip(1);
    while let Some(a) = it.next() {
        match a.as_str() {
            "-h" | "--help" | "-?" => return Ok(USAGE.to_owned()),
            "-V" | "--version" => {
                return Ok(format!(
                    "bgworkerctl (libbgworker) {}\n",
                    env!("CARGO_PKG_VERSION")
                ))
            }
            "-D" => {
                datadir = Some(PathBuf::from(
                    it.next().ok_or_else(|| usage("-D needs a directory"))?,
                ))
            }
            d if d.starts_with("-D") => datadir = Some(PathBuf::from(&d[2..])),
            other => rest.push(other),
        }
    }
    let (command, opts) = rest
        .split_first()
        .ok_or_else(|| usage("no command given"))?;
    if *command == "check" {
        return check(opts);
    }
    let datadir = datadir.ok_or_else(|| usage("no data directory: use -D DATADIR"))?;
    let value = |name: &str| -> Result<Option<String>, CtlError> {
        match opts.iter().position(|o| *o == name) {
            None => Ok(None),
            Some(i) => opts
                .get(i + 1)
                .map(|v| Some((*v).to_owned()))
                .ok_or_else(|| usage(&format!("{name} needs a value"))),
        }
    };
    let flag = |name: &str| opts.contains(&name);
    let known = |allowed: &[&str]| -> Result<(), CtlError> {
        let mut i = 0;
        while i < opts.len() {
            let o = opts[i];
            if o.starts_with("--") && !allowed.contains(&o) {
                return Err(usage(&format!("unknown option \"{o}\" for {command}")));
            }
            i += 1;
        }
        Ok(())
    };
    match *command {
        "status" => {
            known(&["--json", "--wide"])?;
            if flag("--json") {
                ctl::status_json(&datadir)
            } else {
                ctl::status_text(&datadir, flag("--wide"))
            }
        }
        "launch" => {
            known(&[
                "--library",
                "--function",
                "--name",
                "--type",
                "--arg",
                "--extra",
                "--restart-time",
                "--start-time",
                "--flags",
                "--wait",
            ])?;
            let library = value("--library")?.ok_or_else(|| usage("launch needs --library"))?;
            let function = value("--function")?.ok_or_else(|| usage("launch needs --function"))?;
            let restart_time = match value("--restart-time")?.as_deref() {
                None | Some("never") => -1,
                Some(s) => s
                    .parse()
                    .map_err(|_| usage(&format!("invalid --restart-time \"{s}\"")))?,
            };
            let start_time = match value("--start-time")? {
                None => bgworker::pg::types::BgWorkerStart_RecoveryFinished,
                Some(s) => ctl::parse_start_time(&s)
                    .ok_or_else(|| usage(&format!("invalid --start-time \"{s}\"")))?,
            };
            let flags = match value("--flags")? {
                None => bgworker::pg::types::BGWORKER_SHMEM_ACCESS,
                Some(s) => ctl::parse_flags(&s)
                    .ok_or_else(|| usage(&format!("invalid --flags \"{s}\"")))?,
            };
            let arg = match value("--arg")? {
                None => 0,
                Some(s) => s
                    .parse()
                    .map_err(|_| usage(&format!("invalid --arg \"{s}\"")))?,
            };
            let l = Launch {
                library,
                function,
                name: value("--name")?,
                type_name: value("--type")?,
                arg,
                extra: value("--extra")?,
                restart_time,
                start_time,
                flags,
                wait: flag("--wait"),
            };
            match ctl::launch(&datadir, &l)? {
                Launched::Registered { slot } => Ok(format!("registered in slot {slot}\n")),
                Launched::Started { pid } => Ok(format!("{pid}\n")),
            }
        }
        "terminate" | "restart" => {
            known(&["--pid"])?;
            let pid = value("--pid")?
                .map(|p| {
                    p.parse::<i32>()
                        .map_err(|_| usage(&format!("invalid --pid \"{p}\"")))
                })
                .transpose()?;
            let slot = match (pid, opts.first()) {
                (None, Some(s)) => Some(
                    s.parse::<usize>()
                        .map_err(|_| usage(&format!("invalid slot \"{s}\"")))?,
                ),
                (None, None) => return Err(usage(&format!("{command} needs a slot or --pid PID"))),
                _ => None,
            };
            let (slot, pid, what) = if *command == "restart" {
                let (s, p) = ctl::restart(&datadir, slot, pid)?;
                (s, p, "restart")
            } else {
                let (s, p) = ctl::terminate(&datadir, slot, pid)?;
                (s, p, "termination")
            };
            Ok(match pid {
                Some(p) => format!("{what} requested for slot {slot} (PID {p})\n"),
                None => format!("{what} requested for slot {slot}\n"),
            })
        }
        "reload" => {
            known(&[])?;
            let pid = ctl::signal(&datadir, libc::SIGHUP)?;
            Ok(format!(
                "bgworkerd (PID {pid}) signaled to reload its settings\n"
            ))
        }
        "logrotate" => {
            known(&[])?;
            let pid = ctl::logrotate(&datadir)?;
            Ok(format!(
                "bgworkerd (PID {pid}) signaled to rotate its log files\n"
            ))
        }
        "stop" => {
            known(&["--mode", "--timeout"])?;
            let mode = value("--mode")?.unwrap_or_else(|| "fast".into());
            let timeout = match value("--timeout")? {
                None => 60,
                Some(s) => s
                    .parse()
                    .map_err(|_| usage(&format!("invalid --timeout \"{s}\"")))?,
            };
            ctl::stop(&datadir, &mode, Duration::from_secs(timeout))?;
            Ok("bgworkerd stopped\n".into())
        }
        other => Err(usage(&format!("unknown command \"{other}\""))),
    }
}

/// `check MODULE.so [--json]`: the report, and exit status 1 when it names functions bgworkerd
/// does not implement.
fn check(opts: &[&str]) -> Result<String, CtlError> {
    let mut json = false;
    let mut module = None;
    for o in opts {
        match *o {
            "--json" => json = true,
            o if o.starts_with("--") => {
                return Err(usage(&format!("unknown option \"{o}\" for check")))
            }
            o if module.is_none() => module = Some(PathBuf::from(o)),
            o => return Err(usage(&format!("check takes one module, not also \"{o}\""))),
        }
    }
    let module = module.ok_or_else(|| usage("check needs a module file"))?;
    let report = ctl::check::check(&module)?;
    let out = if json {
        ctl::check::json(&report)
    } else {
        ctl::check::text(&report)
    };
    if report.unimplemented_functions() > 0 {
        print!("{out}");
        return Err(CtlError {
            code: EXIT_FAILED,
            message: format!(
                "{} references {} server function{} bgworkerd does not implement",
                module.display(),
                report.unimplemented_functions(),
                if report.unimplemented_functions() == 1 {
                    ""
                } else {
                    "s"
                }
            ),
        });
    }
    Ok(out)
}

fn main() {
    // Arguments that are not UTF-8 are refused by name, never a panic.
    let mut args: Vec<String> = Vec::new();
    for (i, a) in std::env::args_os().enumerate() {
        match a.into_string() {
            Ok(a) => args.push(a),
            Err(bad) => {
                eprintln!(
                    "bgworkerctl: argument {i} is not valid UTF-8: \"{}\"\nTry \"bgworkerctl --help\" for more information.",
                    bgworker::pg::text::Escaped(std::os::unix::ffi::OsStrExt::as_bytes(
                        bad.as_os_str()
                    ))
                );
                std::process::exit(EXIT_USAGE);
            }
        }
    }
    match run(&args) {
        Ok(out) => {
            print!("{out}");
            std::process::exit(EXIT_OK);
        }
        Err(e) => {
            eprintln!("bgworkerctl: {}", e.message);
            std::process::exit(e.code);
        }
    }
}
