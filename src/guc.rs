//! Settings: `DATADIR/bgworker.conf` in postgresql.conf syntax, then `-c name=value` overrides,
//! with PostgreSQL's value syntax and its contexts (restart-only settings ignore a reload).

use crate::pg::types::*;
use libc::c_int;
use parking_lot::Mutex;
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

/// Where a setting may change (PostgreSQL's GucContext, reduced to what the core needs).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Context {
    /// Only at supervisor start.
    Postmaster,
    /// Also on reload (SIGHUP).
    Sighup,
}

/// The core settings and the placeholders kept for modules' custom variables.
#[derive(Clone, Debug, PartialEq)]
pub struct Settings {
    pub shared_preload_libraries: Vec<String>,
    pub dynamic_library_path: String,
    pub max_worker_processes: c_int,
    pub max_parallel_workers: c_int,
    pub restart_after_crash: bool,
    /// Our extension (off at 0): at most this many crash-restarts within
    /// `restart_after_crash_window` seconds; one more and the supervisor shuts down.
    pub restart_after_crash_limit: c_int,
    pub restart_after_crash_window: c_int,
    /// Our extension, off (0) by default: a worker that fails again before it has run
    /// `restart_backoff_max_delay` seconds waits longer at each failure, in this many steps
    /// from its own restart time up to `restart_backoff_max_delay`.
    pub restart_backoff_steps: c_int,
    pub restart_backoff_max_delay: c_int,
    pub log_min_messages: c_int,
    pub cluster_name: String,
    /// PostgreSQL's `work_mem` and `maintenance_work_mem` (kB): nothing here uses them, modules
    /// size their own work by them.
    pub work_mem: c_int,
    pub maintenance_work_mem: c_int,
    /// Whether `set_ps_display` changes the process title.
    pub update_process_title: bool,
    /// Bounds the files a process opens through `AllocateFile` and friends.
    pub max_files_per_process: c_int,
    /// Where database workers connect: a libpq conninfo string (empty: libpq's defaults and the
    /// `PG*` environment); the database and user of `BackgroundWorkerInitializeConnection`
    /// override its own.
    pub database_conninfo: String,
    /// PostgreSQL's logging settings (`crate::log`): the collector (restart only), where the log
    /// goes, its files and their rotation, the line prefix, the time zone of timestamps, syslog.
    pub logging: Logging,
    /// `prefix.name` settings no module has defined (yet), lower-cased name → value.
    pub placeholders: BTreeMap<String, String>,
    /// Where each placeholder's value came from (its `GucSource` for check hooks).
    pub origins: BTreeMap<String, Source>,
    /// The settings file these settings were read from, re-read by `ProcessConfigFile`.
    pub conf_path: Option<PathBuf>,
    /// The `-c` overrides, applied again over the file on every reload.
    pub overrides: Vec<(String, String)>,
    /// Values this process set at run time (`set_config_option`), kept over reloads.
    pub runtime: Runtime,
    /// Each setting's value as read from the file and `-c` (before run-time changes), with its
    /// origin: what a run-time change is undone to.
    pub base: BTreeMap<String, (String, Source)>,
}

/// Values set at run time, by name (lower case): the value and its `GucSource`. `reset` holds
/// those that also became the value `RESET` goes back to (sources up to `PGC_S_OVERRIDE`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Runtime {
    pub current: BTreeMap<String, (String, c_int)>,
    pub reset: BTreeMap<String, (String, c_int)>,
}

/// The logging settings, with PostgreSQL 15's names, units (minutes, kB) and boot values, but
/// for `log_line_prefix` (ours keeps the format the log always had), `log_timezone` (the
/// system's zone, which PostgreSQL's initdb writes into postgresql.conf) and `syslog_ident`.
#[derive(Clone, Debug, PartialEq)]
pub struct Logging {
    pub logging_collector: bool,
    /// As given (a list of `stderr`, `csvlog`, `jsonlog`, `syslog`); see `destinations`.
    pub log_destination: String,
    /// `crate::log::config::DEST_*` bits of `log_destination`.
    pub destinations: u8,
    pub log_directory: String,
    pub log_filename: String,
    pub log_file_mode: c_int,
    /// Minutes; 0 turns rotation by age off.
    pub log_rotation_age: c_int,
    /// kB; 0 turns rotation by size off.
    pub log_rotation_size: c_int,
    pub log_truncate_on_rotation: bool,
    pub log_line_prefix: String,
    pub log_timezone: String,
    /// A `crate::log::syslog::FACILITIES` name.
    pub syslog_facility: String,
    pub syslog_ident: String,
    pub syslog_sequence_numbers: bool,
    pub syslog_split_messages: bool,
}

impl Default for Logging {
    fn default() -> Self {
        Logging {
            logging_collector: false,
            log_destination: "stderr".into(),
            destinations: crate::log::config::DEST_STDERR,
            log_directory: "log".into(),
            log_filename: "postgresql-%Y-%m-%d_%H%M%S.log".into(),
            log_file_mode: 0o600,
            log_rotation_age: 24 * 60,
            log_rotation_size: 10 * 1024,
            log_truncate_on_rotation: false,
            log_line_prefix: crate::log::config::DEFAULT_PREFIX.into(),
            log_timezone: crate::log::timezone::system_name().into(),
            syslog_facility: "local0".into(),
            syslog_ident: "bgworkerd".into(),
            syslog_sequence_numbers: true,
            syslog_split_messages: true,
        }
    }
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            shared_preload_libraries: Vec::new(),
            dynamic_library_path: "$libdir".to_owned(),
            max_worker_processes: 8,
            max_parallel_workers: 8,
            restart_after_crash: true,
            restart_after_crash_limit: 0,
            restart_after_crash_window: 60,
            restart_backoff_steps: 0,
            restart_backoff_max_delay: 60,
            log_min_messages: WARNING,
            cluster_name: String::new(),
            work_mem: 4096,
            maintenance_work_mem: 65536,
            update_process_title: true,
            max_files_per_process: 1000,
            database_conninfo: String::new(),
            logging: Logging::default(),
            placeholders: BTreeMap::new(),
            origins: BTreeMap::new(),
            conf_path: None,
            overrides: Vec::new(),
            runtime: Runtime::default(),
            base: BTreeMap::new(),
        }
    }
}

/// Where a value came from, for error messages.
#[derive(Clone, Debug, PartialEq)]
pub enum Source {
    File {
        path: String,
        line: usize,
    },
    CommandLine,
    /// `set_config_option` with this `GucSource`.
    Runtime(c_int),
}

impl Source {
    /// PostgreSQL's `GucSource` for a value from here.
    pub fn guc_source(&self) -> c_int {
        match self {
            Source::File { .. } => custom::PGC_S_FILE,
            Source::CommandLine => custom::PGC_S_ARGV,
            Source::Runtime(s) => *s,
        }
    }
}

/// A settings error: what is wrong and where.
#[derive(Debug, PartialEq)]
pub struct ConfigError {
    pub message: String,
    pub detail: Option<String>,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

fn where_(source: &Source) -> String {
    match source {
        Source::File { path, line } => format!(" in file \"{path}\" line {line}"),
        Source::CommandLine | Source::Runtime(_) => String::new(),
    }
}

/// The core settings: name, when they may change here, and PostgreSQL's `GucContext` for them
/// (what `set_config_option` checks).
const CORE: &[(&str, Context, c_int)] = &[
    (
        "shared_preload_libraries",
        Context::Postmaster,
        custom::PGC_POSTMASTER,
    ),
    ("dynamic_library_path", Context::Sighup, custom::PGC_SUSET),
    (
        "max_worker_processes",
        Context::Postmaster,
        custom::PGC_POSTMASTER,
    ),
    ("max_parallel_workers", Context::Sighup, custom::PGC_USERSET),
    ("restart_after_crash", Context::Sighup, custom::PGC_SIGHUP),
    (
        "restart_after_crash_limit",
        Context::Sighup,
        custom::PGC_SIGHUP,
    ),
    (
        "restart_after_crash_window",
        Context::Sighup,
        custom::PGC_SIGHUP,
    ),
    ("restart_backoff_steps", Context::Sighup, custom::PGC_SIGHUP),
    (
        "restart_backoff_max_delay",
        Context::Sighup,
        custom::PGC_SIGHUP,
    ),
    ("log_min_messages", Context::Sighup, custom::PGC_SUSET),
    ("cluster_name", Context::Postmaster, custom::PGC_POSTMASTER),
    (
        "database_conninfo",
        Context::Postmaster,
        custom::PGC_POSTMASTER,
    ),
    ("work_mem", Context::Sighup, custom::PGC_USERSET),
    ("maintenance_work_mem", Context::Sighup, custom::PGC_USERSET),
    ("update_process_title", Context::Sighup, custom::PGC_SUSET),
    (
        "max_files_per_process",
        Context::Postmaster,
        custom::PGC_POSTMASTER,
    ),
    (
        "logging_collector",
        Context::Postmaster,
        custom::PGC_POSTMASTER,
    ),
    ("log_destination", Context::Sighup, custom::PGC_SIGHUP),
    ("log_directory", Context::Sighup, custom::PGC_SIGHUP),
    ("log_filename", Context::Sighup, custom::PGC_SIGHUP),
    ("log_file_mode", Context::Sighup, custom::PGC_SIGHUP),
    ("log_rotation_age", Context::Sighup, custom::PGC_SIGHUP),
    ("log_rotation_size", Context::Sighup, custom::PGC_SIGHUP),
    (
        "log_truncate_on_rotation",
        Context::Sighup,
        custom::PGC_SIGHUP,
    ),
    ("log_line_prefix", Context::Sighup, custom::PGC_SIGHUP),
    ("log_timezone", Context::Sighup, custom::PGC_SIGHUP),
    ("syslog_facility", Context::Sighup, custom::PGC_SIGHUP),
    ("syslog_ident", Context::Sighup, custom::PGC_SIGHUP),
    (
        "syslog_sequence_numbers",
        Context::Sighup,
        custom::PGC_SIGHUP,
    ),
    ("syslog_split_messages", Context::Sighup, custom::PGC_SIGHUP),
];

/// PostgreSQL's `GucContext` of a core setting.
pub fn guc_context_of(name: &str) -> Option<c_int> {
    CORE.iter().find(|(n, _, _)| *n == name).map(|&(_, _, c)| c)
}

pub fn context_of(name: &str) -> Option<Context> {
    CORE.iter().find(|(n, _, _)| *n == name).map(|&(_, c, _)| c)
}

impl Settings {
    /// Applies one `name = value`; an unknown name without a `.`, or a bad value, is an error.
    pub fn set(&mut self, name: &str, value: &str, source: &Source) -> Result<(), ConfigError> {
        let name = name.to_ascii_lowercase();
        let bad = |detail: Option<String>| ConfigError {
            message: format!(
                "invalid value for parameter \"{name}\": \"{value}\"{}",
                where_(source)
            ),
            detail,
        };
        match name.as_str() {
            "shared_preload_libraries" => {
                self.shared_preload_libraries = split_list(value).map_err(|d| bad(Some(d)))?
            }
            "dynamic_library_path" => self.dynamic_library_path = value.to_owned(),
            "max_worker_processes" => {
                self.max_worker_processes =
                    parse_int(value, 0, 262_143).map_err(|d| bad(Some(d)))?
            }
            "max_parallel_workers" => {
                self.max_parallel_workers =
                    parse_int(value, 0, MAX_PARALLEL_WORKER_LIMIT).map_err(|d| bad(Some(d)))?
            }
            "restart_after_crash_limit" => {
                self.restart_after_crash_limit =
                    parse_int(value, 0, 1_000_000).map_err(|d| bad(Some(d)))?
            }
            "restart_after_crash_window" => {
                self.restart_after_crash_window =
                    parse_int(value, 1, 86_400).map_err(|d| bad(Some(d)))?
            }
            "restart_backoff_steps" => {
                self.restart_backoff_steps = parse_int(value, 0, 1_000).map_err(|d| bad(Some(d)))?
            }
            "restart_backoff_max_delay" => {
                self.restart_backoff_max_delay =
                    parse_int(value, 1, 86_400).map_err(|d| bad(Some(d)))?
            }
            "restart_after_crash" => {
                self.restart_after_crash = parse_bool(value).ok_or_else(|| {
                    bad(Some(
                        "Valid values are on, off, true, false, yes, no, 1, 0.".into(),
                    ))
                })?
            }
            "log_min_messages" => {
                self.log_min_messages = crate::elog::parse_level(value).ok_or_else(|| {
                    bad(Some(
                        "Available values: debug5, debug4, debug3, debug2, debug1, info, notice, \
                         warning, error, log, fatal, panic."
                            .into(),
                    ))
                })?
            }
            "cluster_name" => {
                if !value.bytes().all(|b| (32..127).contains(&b)) {
                    return Err(bad(Some(
                        "cluster_name can only contain printable ASCII characters.".into(),
                    )));
                }
                self.cluster_name = value.to_owned()
            }
            "database_conninfo" => self.database_conninfo = value.to_owned(),
            "work_mem" => self.work_mem = parse_kb(&name, value, 64, c_int::MAX)?,
            "maintenance_work_mem" => {
                self.maintenance_work_mem = parse_kb(&name, value, 1024, c_int::MAX)?
            }
            "update_process_title" => {
                self.update_process_title = parse_bool(value).ok_or_else(|| ConfigError {
                    message: format!("parameter \"{name}\" requires a Boolean value"),
                    detail: None,
                })?
            }
            "max_files_per_process" => {
                self.max_files_per_process =
                    parse_int(value, 64, c_int::MAX).map_err(|d| bad(Some(d)))?
            }
            _ if self.set_logging(&name, value, source)? => {}
            _ if is_valid_placeholder(&name) => {
                self.placeholders.insert(name.clone(), value.to_owned());
            }
            _ => return Err(unrecognized(&name, source)),
        }
        self.origins.insert(name, source.clone());
        Ok(())
    }

    /// Applies one of the logging settings; false when `name` is none of them.
    fn set_logging(
        &mut self,
        name: &str,
        value: &str,
        source: &Source,
    ) -> Result<bool, ConfigError> {
        let bad = |detail: Option<String>| ConfigError {
            message: format!(
                "invalid value for parameter \"{name}\": \"{value}\"{}",
                where_(source)
            ),
            detail,
        };
        let boolean = || {
            parse_bool(value).ok_or_else(|| ConfigError {
                message: format!("parameter \"{name}\" requires a Boolean value"),
                detail: None,
            })
        };
        let l = &mut self.logging;
        match name {
            "logging_collector" => l.logging_collector = boolean()?,
            "log_destination" => {
                l.destinations =
                    crate::log::config::parse_destinations(value).map_err(|d| bad(Some(d)))?;
                l.log_destination = value.to_owned();
            }
            "log_directory" => l.log_directory = canonical_path(value),
            "log_filename" => l.log_filename = value.to_owned(),
            "log_file_mode" => {
                l.log_file_mode = parse_int(value, 0, 0o777).map_err(|d| bad(Some(d)))?
            }
            "log_rotation_age" => {
                l.log_rotation_age = parse_units(
                    name,
                    value,
                    custom::GUC_UNIT_MIN,
                    " min",
                    0,
                    c_int::MAX / 60,
                )?
            }
            "log_rotation_size" => {
                l.log_rotation_size = parse_units(
                    name,
                    value,
                    custom::GUC_UNIT_KB,
                    " kB",
                    0,
                    c_int::MAX / 1024,
                )?
            }
            "log_truncate_on_rotation" => l.log_truncate_on_rotation = boolean()?,
            "log_line_prefix" => l.log_line_prefix = value.to_owned(),
            "log_timezone" => {
                crate::log::timezone::Zone::load(value).map_err(|_| bad(None))?;
                l.log_timezone = value.to_owned();
            }
            "syslog_facility" => {
                let v = value.to_ascii_lowercase();
                if !crate::log::syslog::FACILITIES.iter().any(|(n, _)| *n == v) {
                    return Err(bad(Some(
                        "Available values: local0, local1, local2, local3, local4, local5, \
                         local6, local7."
                            .into(),
                    )));
                }
                l.syslog_facility = v;
            }
            "syslog_ident" => l.syslog_ident = value.to_owned(),
            "syslog_sequence_numbers" => l.syslog_sequence_numbers = boolean()?,
            "syslog_split_messages" => l.syslog_split_messages = boolean()?,
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// Where a setting's value came from (its `GucSource`; `PGC_S_DEFAULT` for a default).
    pub fn source_of(&self, name: &str) -> c_int {
        self.origins
            .get(&name.to_ascii_lowercase())
            .map_or(custom::PGC_S_DEFAULT, Source::guc_source)
    }

    /// Applies the values set at run time over freshly read ones: a value set at run time stays
    /// unless the file or the command line now sets one of at least its priority (sources, as
    /// PostgreSQL ranks them); the reset values first, then the current ones.
    pub fn apply_runtime(&mut self) {
        let runtime = std::mem::take(&mut self.runtime);
        let mut kept = Runtime::default();
        for (map, kept_map) in [
            (&runtime.reset, &mut kept.reset),
            (&runtime.current, &mut kept.current),
        ] {
            for (name, (value, source)) in map {
                if *source >= self.source_of(name)
                    && self.set(name, value, &Source::Runtime(*source)).is_ok()
                {
                    kept_map.insert(name.clone(), (value.clone(), *source));
                }
            }
        }
        self.runtime = kept;
    }

    /// Defaults, then `DATADIR/bgworker.conf` (if present), then the command-line overrides.
    pub fn load(conf: &Path, overrides: &[(String, String)]) -> Result<Settings, ConfigError> {
        let mut s = Settings {
            conf_path: Some(conf.to_path_buf()),
            overrides: overrides.to_vec(),
            ..Settings::default()
        };
        if conf.exists() {
            let text = read_config_file(conf)?;
            let path = conf.display().to_string();
            for entry in parse_file(&text, &path)? {
                s.set(
                    &entry.name,
                    &entry.value,
                    &Source::File {
                        path: path.clone(),
                        line: entry.line,
                    },
                )?;
            }
        }
        for (name, value) in overrides {
            s.set(name, value, &Source::CommandLine)?;
        }
        s.base = s
            .origins
            .iter()
            .filter_map(|(name, origin)| Some((name.clone(), (s.get(name)?, origin.clone()))))
            .collect();
        Ok(s)
    }

    /// A setting's current value as text (`GetConfigOption`-style), if it exists.
    pub fn get(&self, name: &str) -> Option<String> {
        let name = name.to_ascii_lowercase();
        Some(match name.as_str() {
            "shared_preload_libraries" => self.shared_preload_libraries.join(", "),
            "dynamic_library_path" => self.dynamic_library_path.clone(),
            "max_worker_processes" => self.max_worker_processes.to_string(),
            "max_parallel_workers" => self.max_parallel_workers.to_string(),
            "restart_after_crash" => (if self.restart_after_crash {
                "on"
            } else {
                "off"
            })
            .into(),
            "restart_after_crash_limit" => self.restart_after_crash_limit.to_string(),
            "restart_after_crash_window" => self.restart_after_crash_window.to_string(),
            "restart_backoff_steps" => self.restart_backoff_steps.to_string(),
            "restart_backoff_max_delay" => self.restart_backoff_max_delay.to_string(),
            "log_min_messages" => crate::elog::level_name(self.log_min_messages).to_lowercase(),
            "cluster_name" => self.cluster_name.clone(),
            "database_conninfo" => self.database_conninfo.clone(),
            "work_mem" => self.work_mem.to_string(),
            "maintenance_work_mem" => self.maintenance_work_mem.to_string(),
            "update_process_title" => (if self.update_process_title {
                "on"
            } else {
                "off"
            })
            .into(),
            "max_files_per_process" => self.max_files_per_process.to_string(),
            "logging_collector" => on_off(self.logging.logging_collector),
            "log_destination" => self.logging.log_destination.clone(),
            "log_directory" => self.logging.log_directory.clone(),
            "log_filename" => self.logging.log_filename.clone(),
            "log_file_mode" => format!("{:04o}", self.logging.log_file_mode),
            "log_rotation_age" => self.logging.log_rotation_age.to_string(),
            "log_rotation_size" => self.logging.log_rotation_size.to_string(),
            "log_truncate_on_rotation" => on_off(self.logging.log_truncate_on_rotation),
            "log_line_prefix" => self.logging.log_line_prefix.clone(),
            "log_timezone" => self.logging.log_timezone.clone(),
            "syslog_facility" => self.logging.syslog_facility.clone(),
            "syslog_ident" => self.logging.syslog_ident.clone(),
            "syslog_sequence_numbers" => on_off(self.logging.syslog_sequence_numbers),
            "syslog_split_messages" => on_off(self.logging.syslog_split_messages),
            _ => return self.placeholders.get(&name).cloned(),
        })
    }
}

/// The settings in force in this process (inherited by workers through fork).
pub static CURRENT: Mutex<Option<Settings>> = Mutex::new(None);

pub fn current() -> Settings {
    CURRENT.lock().clone().unwrap_or_default()
}

/// Installs `s` as the settings in force and publishes the globals modules read.
pub fn install(s: Settings) {
    crate::elog::set_log_min_messages(s.log_min_messages);
    crate::log::config::publish(&s.logging);
    // SAFETY: the process is single-threaded where settings change; these globals are its own.
    unsafe {
        crate::pg::max_worker_processes = s.max_worker_processes;
        crate::pg::max_parallel_workers = s.max_parallel_workers;
        crate::pg::max_files_per_process = s.max_files_per_process;
        crate::pg::update_process_title = s.update_process_title;
        globals::restart_after_crash = s.restart_after_crash;
        globals::log_min_messages = s.log_min_messages;
        globals::work_mem = s.work_mem;
        globals::maintenance_work_mem = s.maintenance_work_mem;
        globals::publish(&raw mut globals::cluster_name, &s.cluster_name);
        globals::publish(
            &raw mut globals::Dynamic_library_path,
            &s.dynamic_library_path,
        );
        globals::publish(
            &raw mut globals::shared_preload_libraries_string,
            &s.shared_preload_libraries.join(", "),
        );
    }
    *CURRENT.lock() = Some(s);
}

/// PostgreSQL's C variables for its own settings, which modules read directly (`utils/guc.h`,
/// `fmgr.h`, `miscadmin.h`, `postmaster/postmaster.h`), with PostgreSQL's boot values until the
/// settings are installed. Declared by hand in those headers.
/// cbindgen:ignore
pub mod globals {
    use libc::{c_char, c_int};

    /// The boot values of the string globals (never freed).
    static EMPTY: [c_char; 1] = [0];
    static LIBDIR: [u8; 8] = *b"$libdir\0";

    /// `cluster_name` (never NULL).
    #[no_mangle]
    pub static mut cluster_name: *mut c_char = (&raw const EMPTY).cast_mut().cast();
    /// `log_min_messages` (a message level).
    #[no_mangle]
    pub static mut log_min_messages: c_int = crate::pg::types::WARNING;
    /// `dynamic_library_path`.
    #[no_mangle]
    pub static mut Dynamic_library_path: *mut c_char = (&raw const LIBDIR).cast_mut().cast();
    /// `shared_preload_libraries`.
    #[no_mangle]
    pub static mut shared_preload_libraries_string: *mut c_char =
        (&raw const EMPTY).cast_mut().cast();
    /// `work_mem`, kB.
    #[no_mangle]
    pub static mut work_mem: c_int = 4096;
    /// `maintenance_work_mem`, kB.
    #[no_mangle]
    pub static mut maintenance_work_mem: c_int = 65536;
    /// `restart_after_crash`.
    #[no_mangle]
    pub static mut restart_after_crash: bool = true;

    /// Points a string global at a malloc'd copy of `value` (the previous copy is freed unless
    /// it is a boot value), unless it already holds that text.
    ///
    /// # Safety
    /// `global` is one of the string globals above; single-threaded.
    pub unsafe fn publish(global: *mut *mut c_char, value: &str) {
        // SAFETY: as the caller promises; the current value is a NUL-terminated string, either
        // a boot value or a copy made here.
        unsafe {
            let old = *global;
            if std::ffi::CStr::from_ptr(old).to_bytes() == value.as_bytes() {
                return;
            }
            let c = std::ffi::CString::new(value).unwrap_or_default();
            let new = libc::strdup(c.as_ptr());
            if new.is_null() {
                return;
            }
            *global = new;
            let boot = [
                (&raw const EMPTY).cast::<c_char>(),
                (&raw const LIBDIR).cast(),
            ];
            if !boot.contains(&old.cast_const()) {
                libc::free(old.cast());
            }
        }
    }
}

/// Re-reads the settings on SIGHUP: restart-only changes are logged and ignored, a file with
/// errors changes nothing. Returns the settings now in force.
pub fn reload(conf: &Path, overrides: &[(String, String)]) -> Settings {
    reload_at(conf, overrides, LOG)
}

/// `reload`, reporting problems with the core settings at `elevel` (a worker leaves them to the
/// supervisor, which reads the same file), then applies the new values to the custom variables.
fn reload_at(conf: &Path, overrides: &[(String, String)], elevel: c_int) -> Settings {
    let old = current();
    let mut new = match Settings::load(conf, overrides) {
        Ok(s) => s,
        Err(e) => {
            crate::elog::log_with(elevel, &e.message, e.detail.as_deref(), None);
            crate::elog::log(
                elevel,
                format_args!(
                    "configuration file \"{}\" contains errors; no changes were applied",
                    conf.display()
                ),
            );
            return old;
        }
    };
    for &(name, context, _) in CORE {
        if context == Context::Postmaster && old.get(name) != new.get(name) {
            crate::elog::log(
                elevel,
                format_args!(
                    "parameter \"{name}\" cannot be changed without restarting the server"
                ),
            );
        }
    }
    new.shared_preload_libraries = old.shared_preload_libraries.clone();
    new.max_worker_processes = old.max_worker_processes;
    new.cluster_name = old.cluster_name.clone();
    new.database_conninfo = old.database_conninfo.clone();
    new.max_files_per_process = old.max_files_per_process;
    new.logging.logging_collector = old.logging.logging_collector;
    new.runtime = old.runtime.clone();
    new.apply_runtime();
    let file_errors = custom::drop_reserved_placeholders(&mut new, elevel);
    install(new.clone());
    if custom::apply_reload(&new) || file_errors {
        crate::elog::log(
            elevel,
            format_args!(
                "configuration file \"{}\" contains errors; unaffected changes were applied",
                conf.display()
            ),
        );
    }
    new
}

/// `ProcessConfigFile`: re-reads the settings file this process's settings came from (inherited
/// from the supervisor) with the `-c` overrides on top, and applies it to the custom variables.
pub fn process_config_file() {
    let cur = current();
    let Some(conf) = cur.conf_path.clone() else {
        return;
    };
    // SAFETY: a plain bool written once at process start.
    let elevel = if unsafe { crate::pg::IsUnderPostmaster } {
        DEBUG2
    } else {
        LOG
    };
    reload_at(&conf, &cur.overrides, elevel);
}

pub(crate) fn is_valid_placeholder(name: &str) -> bool {
    let Some((prefix, rest)) = name.split_once('.') else {
        return false;
    };
    let ident = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'$')
            && !s.as_bytes()[0].is_ascii_digit()
    };
    ident(prefix) && rest.split('.').all(ident)
}

/// PostgreSQL's integer syntax: decimal, `0x` hex or leading-zero octal, within [min, max].
pub fn parse_int(value: &str, min: c_int, max: c_int) -> Result<c_int, String> {
    let not_int = || "The value must be an integer.".to_owned();
    let v = value.trim();
    let (neg, digits) = match v.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, v.strip_prefix('+').unwrap_or(v)),
    };
    // One sign only, and only digits after it (from_str_radix would take another sign).
    let digits_only = |d: &str, radix: u32| !d.is_empty() && d.chars().all(|c| c.is_digit(radix));
    let magnitude = if let Some(hex) = digits
        .strip_prefix("0x")
        .or_else(|| digits.strip_prefix("0X"))
    {
        digits_only(hex, 16).then(|| i64::from_str_radix(hex, 16))
    } else if digits.len() > 1 && digits.starts_with('0') {
        digits_only(&digits[1..], 8).then(|| i64::from_str_radix(&digits[1..], 8))
    } else {
        digits_only(digits, 10).then(|| digits.parse::<i64>())
    }
    .ok_or_else(not_int)?
    .map_err(|_| not_int())?;
    let n = if neg {
        magnitude.checked_neg().ok_or_else(not_int)?
    } else {
        magnitude
    };
    if n < i64::from(min) || n > i64::from(max) {
        return Err(format!(
            "{n} is outside the valid range for this parameter ({min} .. {max})."
        ));
    }
    Ok(n as c_int)
}

/// An amount of memory in kB (`work_mem` and the like): a number, or one with a unit (`64MB`),
/// within [min, max] kB; errors worded as PostgreSQL words them.
fn parse_kb(name: &str, value: &str, min: c_int, max: c_int) -> Result<c_int, ConfigError> {
    let v = custom::parse_int_units(value, custom::GUC_UNIT_KB).map_err(|hint| ConfigError {
        message: format!("invalid value for parameter \"{name}\": \"{value}\""),
        detail: hint.map(str::to_owned),
    })?;
    if v < min || v > max {
        return Err(ConfigError {
            message: format!(
                "{v} kB is outside the valid range for parameter \"{name}\" ({min} .. {max})"
            ),
            detail: None,
        });
    }
    Ok(v)
}

/// An integer with PostgreSQL's unit syntax (`1d`, `10MB`) in `unit`, within [min, max] of it.
fn parse_units(
    name: &str,
    value: &str,
    unit: c_int,
    suffix: &str,
    min: c_int,
    max: c_int,
) -> Result<c_int, ConfigError> {
    let v = custom::parse_int_units(value, unit).map_err(|hint| ConfigError {
        message: format!("invalid value for parameter \"{name}\": \"{value}\""),
        detail: hint.map(str::to_owned),
    })?;
    if v < min || v > max {
        return Err(ConfigError {
            message: format!(
                "{v}{suffix} is outside the valid range for parameter \"{name}\" ({min} .. {max})"
            ),
            detail: None,
        });
    }
    Ok(v)
}

fn unrecognized(name: &str, source: &Source) -> ConfigError {
    ConfigError {
        message: format!(
            "unrecognized configuration parameter \"{name}\"{}",
            where_(source)
        ),
        detail: None,
    }
}

fn on_off(b: bool) -> String {
    (if b { "on" } else { "off" }).into()
}

/// A path as PostgreSQL's `canonicalize_path` leaves it for these purposes: no trailing
/// separators, no doubled ones, no `.` components.
fn canonical_path(value: &str) -> String {
    let absolute = value.starts_with('/');
    let parts: Vec<&str> = value
        .split('/')
        .filter(|p| !p.is_empty() && *p != ".")
        .collect();
    let joined = parts.join("/");
    match (absolute, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) if !value.is_empty() => ".".into(),
        _ => joined,
    }
}

/// PostgreSQL's boolean syntax: on/off, true/false, yes/no, 1/0 and unambiguous prefixes.
pub fn parse_bool(value: &str) -> Option<bool> {
    let v = value.trim().to_ascii_lowercase();
    if v.is_empty() {
        return None;
    }
    let prefix_of = |word: &str| word.starts_with(v.as_str());
    match v.as_str() {
        "1" => Some(true),
        "0" => Some(false),
        "on" => Some(true),
        "of" | "off" => Some(false),
        _ if (prefix_of("true") || prefix_of("yes")) => Some(true),
        _ if (prefix_of("false") || prefix_of("no")) => Some(false),
        _ => None,
    }
}

/// Splits a comma-separated list; elements may be double-quoted.
pub fn split_list(value: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    for raw in value.split(',') {
        let item = raw.trim();
        if item.is_empty() {
            if value.trim().is_empty() {
                break;
            }
            return Err("List syntax is invalid.".into());
        }
        let item = match item.strip_prefix('"') {
            Some(rest) => rest
                .strip_suffix('"')
                .ok_or_else(|| "List syntax is invalid.".to_owned())?
                .replace("\"\"", "\""),
            None => item.to_owned(),
        };
        out.push(item);
    }
    Ok(out)
}

/// One `name = value` line of a settings file.
#[derive(Debug, PartialEq)]
pub struct Entry {
    pub name: String,
    pub value: String,
    pub line: usize,
}

/// The most a configuration file may hold: far more than any real one, little enough that a
/// file that never ends (`/dev/zero`) is refused instead of read until memory runs out.
pub const MAX_CONFIG_FILE_BYTES: u64 = 16 << 20;

/// Reads a configuration file: only a regular file (a FIFO or device is refused without waiting
/// on it), at most `MAX_CONFIG_FILE_BYTES`. Bytes that are not UTF-8 are taken as PostgreSQL
/// takes them: nothing in a comment, replaced (U+FFFD) in a value.
pub fn read_config_file(path: &Path) -> Result<String, ConfigError> {
    use std::io::Read;
    use std::os::unix::fs::OpenOptionsExt;
    let fail = |why: String| ConfigError {
        message: format!(
            "could not read configuration file \"{}\": {why}",
            path.display()
        ),
        detail: None,
    };
    // O_NONBLOCK: opening a FIFO must not wait for a writer.
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
        .map_err(|e| fail(e.to_string()))?;
    let meta = file.metadata().map_err(|e| fail(e.to_string()))?;
    if !meta.is_file() {
        return Err(fail("not a regular file".into()));
    }
    let mut bytes = Vec::new();
    file.take(MAX_CONFIG_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| fail(e.to_string()))?;
    if bytes.len() as u64 > MAX_CONFIG_FILE_BYTES {
        return Err(fail(format!(
            "larger than {} MB",
            MAX_CONFIG_FILE_BYTES >> 20
        )));
    }
    Ok(match String::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    })
}

/// Parses postgresql.conf syntax: `name [=] value`, single-quoted values (with `''` and
/// backslash escapes), `#` comments, blank lines.
pub fn parse_file(text: &str, path: &str) -> Result<Vec<Entry>, ConfigError> {
    let mut entries = Vec::new();
    for (i, raw_line) in text.lines().enumerate() {
        let line = i + 1;
        let syntax = |near: &str| ConfigError {
            message: if near.is_empty() {
                format!("syntax error in file \"{path}\" line {line}, near end of line")
            } else {
                format!("syntax error in file \"{path}\" line {line}, near token \"{near}\"")
            },
            detail: None,
        };
        let mut rest = raw_line.trim_start();
        if rest.is_empty() || rest.starts_with('#') {
            continue;
        }
        let name_len = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '$'))
            .unwrap_or(rest.len());
        if name_len == 0 {
            return Err(syntax(rest.split_whitespace().next().unwrap_or("")));
        }
        let name = rest[..name_len].to_owned();
        rest = rest[name_len..].trim_start();
        if let Some(r) = rest.strip_prefix('=') {
            rest = r.trim_start();
        }
        let value;
        if let Some(r) = rest.strip_prefix('\'') {
            let mut v = String::new();
            let mut chars = r.char_indices();
            let mut end = None;
            while let Some((idx, c)) = chars.next() {
                match c {
                    '\'' => {
                        if r[idx + 1..].starts_with('\'') {
                            v.push('\'');
                            chars.next();
                        } else {
                            end = Some(idx + 1);
                            break;
                        }
                    }
                    '\\' => match chars.next() {
                        Some((_, 'n')) => v.push('\n'),
                        Some((_, 't')) => v.push('\t'),
                        Some((_, 'r')) => v.push('\r'),
                        Some((_, o)) => v.push(o),
                        None => return Err(syntax("")),
                    },
                    _ => v.push(c),
                }
            }
            let Some(end) = end else {
                return Err(syntax(""));
            };
            value = v;
            rest = r[end..].trim_start();
        } else {
            let len = rest
                .find(|c: char| c.is_whitespace() || c == '#')
                .unwrap_or(rest.len());
            if len == 0 {
                return Err(syntax(""));
            }
            value = rest[..len].to_owned();
            rest = rest[len..].trim_start();
        }
        if !rest.is_empty() && !rest.starts_with('#') {
            return Err(syntax(rest.split_whitespace().next().unwrap_or("")));
        }
        entries.push(Entry { name, value, line });
    }
    Ok(entries)
}

/// Custom variables: the settings a module defines (`DefineCustom*Variable`). Their values live
/// in the module's own C variables, written directly as PostgreSQL does; values given in the
/// file or with `-c` before the definition wait as placeholders and are applied at definition.
pub mod custom {
    use super::*;
    use libc::{c_char, c_void};
    use std::ffi::{CStr, CString};
    use std::sync::atomic::{AtomicI32, Ordering};

    // GucContext (PostgreSQL's values).
    /// cbindgen:ignore
    pub const PGC_INTERNAL: c_int = 0;
    /// cbindgen:ignore
    pub const PGC_POSTMASTER: c_int = 1;
    /// cbindgen:ignore
    pub const PGC_SIGHUP: c_int = 2;
    /// cbindgen:ignore
    pub const PGC_SU_BACKEND: c_int = 3;
    /// cbindgen:ignore
    pub const PGC_BACKEND: c_int = 4;
    /// cbindgen:ignore
    pub const PGC_SUSET: c_int = 5;
    /// cbindgen:ignore
    pub const PGC_USERSET: c_int = 6;

    // GucSource (the ones a value can come from here).
    /// cbindgen:ignore
    pub const PGC_S_DEFAULT: c_int = 0;
    /// cbindgen:ignore
    pub const PGC_S_FILE: c_int = 3;
    /// cbindgen:ignore
    pub const PGC_S_ARGV: c_int = 4;
    /// cbindgen:ignore
    pub const PGC_S_OVERRIDE: c_int = 10;

    // Flags (PostgreSQL's values).
    /// cbindgen:ignore
    pub const GUC_LIST_QUOTE: c_int = 0x0002;
    /// cbindgen:ignore
    pub const GUC_UNIT_KB: c_int = 0x1000;
    /// cbindgen:ignore
    pub const GUC_UNIT_BLOCKS: c_int = 0x2000;
    /// cbindgen:ignore
    pub const GUC_UNIT_XBLOCKS: c_int = 0x3000;
    /// cbindgen:ignore
    pub const GUC_UNIT_MB: c_int = 0x4000;
    /// cbindgen:ignore
    pub const GUC_UNIT_BYTE: c_int = 0x8000;
    /// cbindgen:ignore
    pub const GUC_UNIT_MEMORY: c_int = 0xF000;
    /// cbindgen:ignore
    pub const GUC_UNIT_MS: c_int = 0x10000;
    /// cbindgen:ignore
    pub const GUC_UNIT_S: c_int = 0x20000;
    /// cbindgen:ignore
    pub const GUC_UNIT_MIN: c_int = 0x30000;
    /// cbindgen:ignore
    pub const GUC_UNIT_TIME: c_int = 0xF0000;
    /// cbindgen:ignore
    pub const GUC_UNIT: c_int = GUC_UNIT_MEMORY | GUC_UNIT_TIME;

    /// cbindgen:ignore
    pub type GucBoolCheckHook =
        Option<unsafe extern "C" fn(*mut bool, *mut *mut c_void, c_int) -> bool>;
    /// cbindgen:ignore
    pub type GucIntCheckHook =
        Option<unsafe extern "C" fn(*mut c_int, *mut *mut c_void, c_int) -> bool>;
    /// cbindgen:ignore
    pub type GucRealCheckHook =
        Option<unsafe extern "C" fn(*mut f64, *mut *mut c_void, c_int) -> bool>;
    /// cbindgen:ignore
    pub type GucStringCheckHook =
        Option<unsafe extern "C" fn(*mut *mut c_char, *mut *mut c_void, c_int) -> bool>;
    /// cbindgen:ignore
    pub type GucEnumCheckHook = GucIntCheckHook;
    /// cbindgen:ignore
    pub type GucBoolAssignHook = Option<unsafe extern "C" fn(bool, *mut c_void)>;
    /// cbindgen:ignore
    pub type GucIntAssignHook = Option<unsafe extern "C" fn(c_int, *mut c_void)>;
    /// cbindgen:ignore
    pub type GucRealAssignHook = Option<unsafe extern "C" fn(f64, *mut c_void)>;
    /// cbindgen:ignore
    pub type GucStringAssignHook = Option<unsafe extern "C" fn(*const c_char, *mut c_void)>;
    /// cbindgen:ignore
    pub type GucEnumAssignHook = GucIntAssignHook;
    /// cbindgen:ignore
    pub type GucShowHook = Option<unsafe extern "C" fn() -> *const c_char>;

    /// A module's C variable. Only this process writes it, and only from the settings code.
    #[derive(Clone, Copy, Debug)]
    pub struct Ptr<T>(pub *mut T);
    // SAFETY: the pointer is only dereferenced by the (single) thread that runs module code.
    unsafe impl<T> Send for Ptr<T> {}

    /// What kind of variable, where it lives, its limits and hooks.
    #[derive(Clone, Debug)]
    pub enum Kind {
        Bool {
            addr: Ptr<bool>,
            boot: bool,
            check: GucBoolCheckHook,
            assign: GucBoolAssignHook,
        },
        Int {
            addr: Ptr<c_int>,
            boot: c_int,
            min: c_int,
            max: c_int,
            check: GucIntCheckHook,
            assign: GucIntAssignHook,
        },
        Real {
            addr: Ptr<f64>,
            boot: f64,
            min: f64,
            max: f64,
            check: GucRealCheckHook,
            assign: GucRealAssignHook,
        },
        Str {
            addr: Ptr<*mut c_char>,
            boot: Option<CString>,
            check: GucStringCheckHook,
            assign: GucStringAssignHook,
        },
        Enum {
            addr: Ptr<c_int>,
            boot: c_int,
            /// name, value, hidden
            options: Vec<(String, c_int, bool)>,
            check: GucEnumCheckHook,
            assign: GucEnumAssignHook,
        },
    }

    /// One defined variable.
    #[derive(Clone, Debug)]
    pub struct Var {
        /// The name as the module spelt it.
        pub name: String,
        pub context: c_int,
        pub flags: c_int,
        pub kind: Kind,
        pub show: GucShowHook,
        /// The `GucSource` of the current value.
        pub source: c_int,
        /// Defined in the supervisor (so a worker inherited it and the supervisor reports it).
        pub from_supervisor: bool,
        /// The value `RESET` goes back to when set at run time (`set_config_option` with a
        /// source up to `PGC_S_OVERRIDE`), with its source; else the file's, or the boot value.
        pub reset: Option<(String, c_int)>,
    }

    struct Registry {
        vars: Vec<Var>,
        /// Reserved prefixes, with whether the supervisor reserved them.
        reserved: Vec<(String, bool)>,
    }

    static REGISTRY: Mutex<Registry> = Mutex::new(Registry {
        vars: Vec::new(),
        reserved: Vec::new(),
    });

    /// The SQLSTATE a check hook chose with `GUC_check_errcode`.
    pub static CHECK_ERRCODE: AtomicI32 = AtomicI32::new(0);

    extern "C" {
        // Defined (with PostgreSQL's names) in src/abi/guc_api.rs; check hooks set them.
        static mut GUC_check_errmsg_string: *mut c_char;
        static mut GUC_check_errdetail_string: *mut c_char;
        static mut GUC_check_errhint_string: *mut c_char;
    }

    /// A problem with a value: the report to log.
    #[derive(Debug, PartialEq)]
    pub struct Problem {
        pub message: String,
        pub detail: Option<String>,
        pub hint: Option<String>,
    }

    impl Problem {
        pub fn new(message: String) -> Self {
            Problem {
                message,
                detail: None,
                hint: None,
            }
        }
        fn log(&self, elevel: c_int) {
            crate::elog::log_with(
                elevel,
                &self.message,
                self.detail.as_deref(),
                self.hint.as_deref(),
            );
        }
    }

    /// A parsed value on its way into a variable. `Str` is malloc'd (or NULL) and owned here.
    #[derive(Debug)]
    enum Value {
        Bool(bool),
        Int(c_int),
        Real(f64),
        Str(*mut c_char),
        Enum(c_int),
    }

    impl Value {
        /// Frees what a value that will not be stored owns.
        fn discard(self) {
            if let Value::Str(p) = self {
                // SAFETY: p is NULL or came from malloc (strdup) and is owned by this value.
                unsafe { libc::free(p.cast()) };
            }
        }
    }

    fn is_under_postmaster() -> bool {
        // SAFETY: a plain bool written once at process start.
        unsafe { crate::pg::IsUnderPostmaster }
    }

    /// The level for reports about `var` during a reload: a worker leaves the variables the
    /// supervisor also has to the supervisor (PostgreSQL's backends report at DEBUG2).
    fn reload_elevel(from_supervisor: bool) -> c_int {
        if is_under_postmaster() && from_supervisor {
            DEBUG2
        } else {
            LOG
        }
    }

    fn lookup(key: &str) -> Option<Var> {
        REGISTRY
            .lock()
            .vars
            .iter()
            .find(|v| v.name.eq_ignore_ascii_case(key))
            .cloned()
    }

    fn set_source(name: &str, source: c_int) {
        if let Some(v) = REGISTRY
            .lock()
            .vars
            .iter_mut()
            .find(|v| v.name.eq_ignore_ascii_case(name))
        {
            v.source = source;
        }
    }

    /// Whether a custom variable of that name is defined in this process.
    pub fn is_defined(name: &str) -> bool {
        lookup(name).is_some()
    }

    /// Why a definition is refused: the level (ERROR or FATAL) and the message.
    pub type DefineError = (c_int, String);

    /// `DefineCustom*Variable`: records the variable, stores its boot value, then applies a
    /// value set before the definition (file or `-c`), keeping the boot value if it is invalid.
    pub fn define(
        name: &str,
        context: c_int,
        flags: c_int,
        kind: Kind,
        show: GucShowHook,
    ) -> Result<(), DefineError> {
        // SAFETY: a plain bool written by the loader of this (single-threaded) process.
        let preloading = unsafe { crate::pg::process_shared_preload_libraries_in_progress };
        if context == PGC_POSTMASTER && !preloading {
            return Err((
                FATAL,
                "cannot create PGC_POSTMASTER variables after startup".into(),
            ));
        }
        if flags & GUC_LIST_QUOTE != 0 {
            return Err((
                FATAL,
                "extensions cannot define GUC_LIST_QUOTE variables".into(),
            ));
        }
        if name.is_empty() || context_of(&name.to_ascii_lowercase()).is_some() || is_defined(name) {
            return Err((ERROR, format!("attempt to redefine parameter \"{name}\"")));
        }
        let var = Var {
            name: name.to_owned(),
            context,
            flags,
            kind,
            show,
            source: PGC_S_DEFAULT,
            from_supervisor: !is_under_postmaster(),
            reset: None,
        };
        // The boot value goes through the check hook as PostgreSQL's does.
        let boot = boot_value(&var);
        let shown = show_value(&var, &boot);
        match check(&var, boot, PGC_S_DEFAULT) {
            Ok(v) => store(&var, v),
            Err(_) => return Err((FATAL, format!("failed to initialize {name} to {shown}"))),
        }
        REGISTRY.lock().vars.push(var);

        let key = name.to_ascii_lowercase();
        let (text, origin) = {
            let cur = CURRENT.lock();
            let Some(s) = cur.as_ref() else {
                return Ok(());
            };
            match s.placeholders.get(&key) {
                Some(t) => (t.clone(), s.origins.get(&key).cloned()),
                None => return Ok(()),
            }
        };
        let source = origin.map_or(PGC_S_FILE, |o| o.guc_source());
        let _ = apply(&key, &text, source, WARNING, false);
        Ok(())
    }

    /// Parses, checks and stores `text` into the variable `key`. During a reload the variable's
    /// context decides whether it may change. Problems are logged at `elevel`; returns whether
    /// the value was accepted (or legitimately left for new processes).
    fn apply(key: &str, text: &str, source: c_int, elevel: c_int, reload: bool) -> bool {
        let Some(var) = lookup(key) else {
            return true;
        };
        let value = match parse(&var, text) {
            Ok(v) => v,
            Err(p) => {
                p.log(elevel);
                return false;
            }
        };
        if reload {
            match var.context {
                PGC_INTERNAL => {
                    value.discard();
                    Problem::new(format!("parameter \"{}\" cannot be changed", var.name))
                        .log(elevel);
                    return false;
                }
                PGC_POSTMASTER => {
                    let same = same_as_current(&var, &value);
                    value.discard();
                    if !same {
                        Problem::new(format!(
                            "parameter \"{}\" cannot be changed without restarting the server",
                            var.name
                        ))
                        .log(elevel);
                    }
                    return same;
                }
                PGC_SU_BACKEND | PGC_BACKEND if is_under_postmaster() => {
                    // Takes effect in processes started from now on.
                    value.discard();
                    return true;
                }
                _ => {}
            }
        }
        let value = match check(&var, value, source) {
            Ok(v) => v,
            Err(p) => {
                p.log(elevel);
                return false;
            }
        };
        let before = show_plain(&var);
        store(&var, value);
        set_source(&var.name, source);
        if reload && before != show_plain(&var) {
            crate::elog::log(
                elevel,
                format_args!("parameter \"{}\" changed to \"{text}\"", var.name),
            );
        }
        true
    }

    /// Applies a freshly read file (plus `-c`) to every custom variable; a variable whose line
    /// disappeared goes back to its default. Returns whether anything was in error.
    pub fn apply_reload(new: &Settings) -> bool {
        let vars: Vec<Var> = REGISTRY.lock().vars.clone();
        let mut errors = false;
        for var in vars {
            let key = var.name.to_ascii_lowercase();
            let elevel = reload_elevel(var.from_supervisor);
            match new.placeholders.get(&key) {
                // A `-c` value (applied when the variable was defined) or one set at run time
                // outranks the file, so a reload leaves it alone.
                Some(_) if var.source > PGC_S_FILE => {}
                Some(text) if !apply(&key, text, PGC_S_FILE, elevel, true) => {
                    errors |= elevel == LOG;
                }
                Some(_) => {}
                None if var.source == PGC_S_FILE => match var.context {
                    PGC_INTERNAL | PGC_POSTMASTER => {
                        Problem::new(format!(
                            "parameter \"{}\" cannot be changed without restarting the server",
                            var.name
                        ))
                        .log(elevel);
                        errors |= elevel == LOG;
                    }
                    PGC_SU_BACKEND | PGC_BACKEND if is_under_postmaster() => {}
                    _ => {
                        store(&var, boot_value(&var));
                        set_source(&var.name, PGC_S_DEFAULT);
                        let message = format!(
                            "parameter \"{}\" removed from configuration file, reset to default",
                            var.name
                        );
                        crate::elog::log(elevel, format_args!("{message}"));
                    }
                },
                None => {}
            }
        }
        errors
    }

    /// A defined variable's `GucContext` and the `GucSource` of its current value.
    pub fn context_and_source(name: &str) -> Option<(c_int, c_int)> {
        lookup(name).map(|v| (v.context, v.source))
    }

    /// Whether `name` falls under a prefix a module reserved (`MarkGUCPrefixReserved`).
    pub fn reserved_prefix(name: &str) -> Option<String> {
        let key = name.to_ascii_lowercase();
        let prefix = prefix_of(&key);
        REGISTRY
            .lock()
            .reserved
            .iter()
            .find(|(p, _)| p == prefix)
            .map(|(p, _)| p.clone())
    }

    /// The current value as text (`GetConfigOption`'s form) and its source.
    pub fn snapshot(name: &str) -> Option<(String, c_int)> {
        lookup(name).map(|v| (show_plain(&v), v.source))
    }

    /// The value `RESET` goes back to, as text, and its source: one set at run time as the
    /// reset value, else the file's or `-c`'s, else the boot value.
    pub fn reset_value(name: &str) -> Option<(String, c_int)> {
        let var = lookup(name)?;
        if let Some(r) = var.reset {
            return Some(r);
        }
        let key = name.to_ascii_lowercase();
        if let Some(s) = CURRENT.lock().as_ref() {
            if let Some(t) = s.placeholders.get(&key) {
                return Some((t.clone(), s.source_of(&key)));
            }
        }
        let boot = boot_value(&var);
        let text = match (&var.kind, &boot) {
            (_, Value::Bool(b)) => (if *b { "on" } else { "off" }).to_owned(),
            (Kind::Str { .. }, Value::Str(p)) => cstr_or_empty(*p),
            _ => show_value(&var, &boot),
        };
        boot.discard();
        Some((text, PGC_S_DEFAULT))
    }

    /// Parses and checks `text` for the variable, as a new value from `source` would be (the
    /// check hook runs), without storing it.
    pub fn validate(name: &str, text: &str, source: c_int) -> Result<(), Problem> {
        let Some(var) = lookup(name) else {
            return Ok(());
        };
        check(&var, parse(&var, text)?, source).map(Value::discard)
    }

    /// Stores `text` (already validated) as the variable's value from `source`; with
    /// `make_default`, also as its reset value (unless that came from a higher source).
    pub fn store_runtime(
        name: &str,
        text: &str,
        source: c_int,
        change: bool,
        make_default: bool,
    ) -> Result<(), Problem> {
        let Some(var) = lookup(name) else {
            return Ok(());
        };
        if change {
            let value = check(&var, parse(&var, text)?, source)?;
            store(&var, value);
            set_source(&var.name, source);
        }
        if make_default {
            let mut reg = REGISTRY.lock();
            if let Some(v) = reg
                .vars
                .iter_mut()
                .find(|v| v.name.eq_ignore_ascii_case(name))
            {
                if v.reset.as_ref().is_none_or(|(_, s)| *s <= source) {
                    v.reset = Some((text.to_owned(), source));
                }
            }
        }
        Ok(())
    }

    /// Whether the value in `text` differs from the variable's current value.
    pub fn differs(name: &str, text: &str) -> bool {
        let Some(var) = lookup(name) else {
            return false;
        };
        match parse(&var, text) {
            Ok(v) => {
                let same = same_as_current(&var, &v);
                v.discard();
                !same
            }
            Err(_) => true,
        }
    }

    /// `MarkGUCPrefixReserved`: placeholders under `class` that no module defined are removed
    /// with a WARNING, and later ones are refused.
    pub fn mark_reserved(class: &str) {
        let class = class.to_ascii_lowercase();
        {
            let mut reg = REGISTRY.lock();
            if !reg.reserved.iter().any(|(p, _)| *p == class) {
                reg.reserved.push((class.clone(), !is_under_postmaster()));
            }
        }
        let mut removed = Vec::new();
        {
            let mut cur = CURRENT.lock();
            if let Some(s) = cur.as_mut() {
                let doomed: Vec<String> = s
                    .placeholders
                    .keys()
                    .filter(|k| prefix_of(k) == class && !is_defined(k))
                    .cloned()
                    .collect();
                for k in doomed {
                    s.placeholders.remove(&k);
                    s.origins.remove(&k);
                    removed.push(k);
                }
            }
        }
        for k in removed {
            crate::elog::log_with(
                WARNING,
                &format!("invalid configuration parameter name \"{k}\", removing it"),
                Some(&format!("\"{class}\" is now a reserved prefix.")),
                None,
            );
        }
    }

    fn prefix_of(key: &str) -> &str {
        key.split_once('.').map_or(key, |(p, _)| p)
    }

    /// Drops from a freshly read file the placeholders under a reserved prefix that no module
    /// defined, reporting each. Returns whether a report went to the log at LOG.
    pub fn drop_reserved_placeholders(new: &mut Settings, _core_elevel: c_int) -> bool {
        let reserved = REGISTRY.lock().reserved.clone();
        if reserved.is_empty() {
            return false;
        }
        let mut errors = false;
        let keys: Vec<String> = new.placeholders.keys().cloned().collect();
        for k in keys {
            let Some((prefix, from_supervisor)) = reserved.iter().find(|(p, _)| p == prefix_of(&k))
            else {
                continue;
            };
            if is_defined(&k) {
                continue;
            }
            let elevel = reload_elevel(*from_supervisor);
            crate::elog::log_with(
                elevel,
                &format!("invalid configuration parameter name \"{k}\""),
                Some(&format!("\"{prefix}\" is a reserved prefix.")),
                None,
            );
            errors |= elevel == LOG;
            new.placeholders.remove(&k);
            new.origins.remove(&k);
        }
        errors
    }

    // ----- values -----------------------------------------------------------------------

    fn boot_value(var: &Var) -> Value {
        match &var.kind {
            Kind::Bool { boot, .. } => Value::Bool(*boot),
            Kind::Int { boot, .. } => Value::Int(*boot),
            Kind::Real { boot, .. } => Value::Real(*boot),
            Kind::Str { boot, .. } => Value::Str(match boot {
                // SAFETY: strdup of a NUL-terminated string; NULL on out of memory.
                Some(b) => unsafe { libc::strdup(b.as_ptr()) },
                None => std::ptr::null_mut(),
            }),
            Kind::Enum { boot, .. } => Value::Enum(*boot),
        }
    }

    fn enum_name(options: &[(String, c_int, bool)], val: c_int) -> String {
        options
            .iter()
            .find(|(_, v, _)| *v == val)
            .map_or_else(|| val.to_string(), |(n, _, _)| n.clone())
    }

    /// A value as PostgreSQL prints it in the check-hook message.
    fn show_value(var: &Var, v: &Value) -> String {
        match (v, &var.kind) {
            (Value::Bool(b), _) => (*b as c_int).to_string(),
            (Value::Int(i), _) => i.to_string(),
            (Value::Real(r), _) => fmt_g(*r),
            (Value::Str(p), _) => cstr_or_empty(*p),
            (Value::Enum(e), Kind::Enum { options, .. }) => enum_name(options, *e),
            (Value::Enum(e), _) => e.to_string(),
        }
    }

    fn cstr_or_empty(p: *const c_char) -> String {
        if p.is_null() {
            String::new()
        } else {
            // SAFETY: non-NULL string values are NUL-terminated (malloc'd by us or the hook).
            unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned()
        }
    }

    fn parse(var: &Var, text: &str) -> Result<Value, Problem> {
        let name = &var.name;
        let invalid = |hint: Option<String>| Problem {
            message: format!("invalid value for parameter \"{name}\": \"{text}\""),
            detail: None,
            hint,
        };
        match &var.kind {
            Kind::Bool { .. } => parse_bool(text).map(Value::Bool).ok_or_else(|| {
                Problem::new(format!("parameter \"{name}\" requires a Boolean value"))
            }),
            Kind::Int { min, max, .. } => {
                let v = parse_int_units(text, var.flags)
                    .map_err(|hint| invalid(hint.map(str::to_owned)))?;
                if v < *min || v > *max {
                    return Err(Problem::new(format!(
                        "{v}{} is outside the valid range for parameter \"{name}\" ({min} .. {max})",
                        unit_suffix(var.flags)
                    )));
                }
                Ok(Value::Int(v))
            }
            Kind::Real { min, max, .. } => {
                let v = parse_real_units(text, var.flags)
                    .map_err(|hint| invalid(hint.map(str::to_owned)))?;
                if v < *min || v > *max {
                    return Err(Problem::new(format!(
                        "{}{} is outside the valid range for parameter \"{name}\" ({} .. {})",
                        fmt_g(v),
                        unit_suffix(var.flags),
                        fmt_g(*min),
                        fmt_g(*max)
                    )));
                }
                Ok(Value::Real(v))
            }
            Kind::Str { .. } => {
                let c = CString::new(text).map_err(|_| invalid(None))?;
                // SAFETY: strdup of a NUL-terminated string.
                let p = unsafe { libc::strdup(c.as_ptr()) };
                if p.is_null() {
                    return Err(Problem::new("out of memory".into()));
                }
                Ok(Value::Str(p))
            }
            Kind::Enum { options, .. } => options
                .iter()
                .find(|(n, _, _)| n.eq_ignore_ascii_case(text.trim()))
                .map(|(_, v, _)| Value::Enum(*v))
                .ok_or_else(|| {
                    let listed: Vec<&str> = options
                        .iter()
                        .filter(|(_, _, hidden)| !hidden)
                        .map(|(n, _, _)| n.as_str())
                        .collect();
                    invalid(Some(format!("Available values: {}.", listed.join(", "))))
                }),
        }
    }

    fn take_check_string(p: *mut *mut c_char) -> Option<String> {
        // SAFETY: p points at one of the GUC_check_* globals; a non-NULL value is a malloc'd,
        // NUL-terminated string (utils/guc.h's GUC_check_err* macros) that we now own.
        unsafe {
            let s = *p;
            *p = std::ptr::null_mut();
            if s.is_null() {
                return None;
            }
            let text = CStr::from_ptr(s).to_string_lossy().into_owned();
            libc::free(s.cast());
            Some(text)
        }
    }

    fn clear_check_strings() {
        for p in [
            &raw mut GUC_check_errmsg_string,
            &raw mut GUC_check_errdetail_string,
            &raw mut GUC_check_errhint_string,
        ] {
            let _ = take_check_string(p);
        }
        CHECK_ERRCODE.store(0, Ordering::Relaxed);
    }

    /// Runs the variable's check hook (with a NULL `extra`); a refusal becomes the report
    /// PostgreSQL makes, using what the hook put in `GUC_check_errmsg` and friends.
    fn check(var: &Var, value: Value, source: c_int) -> Result<Value, Problem> {
        clear_check_strings();
        let mut extra: *mut c_void = std::ptr::null_mut();
        let (ok, value) = match (&var.kind, value) {
            (Kind::Bool { check: Some(h), .. }, Value::Bool(mut b)) => {
                // SAFETY: a module's hook, called with pointers to live locals.
                let ok = unsafe { h(&mut b, &mut extra, source) };
                (ok, Value::Bool(b))
            }
            (Kind::Int { check: Some(h), .. }, Value::Int(mut i))
            | (Kind::Enum { check: Some(h), .. }, Value::Enum(mut i)) => {
                // SAFETY: as above.
                let ok = unsafe { h(&mut i, &mut extra, source) };
                let v = if matches!(var.kind, Kind::Enum { .. }) {
                    Value::Enum(i)
                } else {
                    Value::Int(i)
                };
                (ok, v)
            }
            (Kind::Real { check: Some(h), .. }, Value::Real(mut r)) => {
                // SAFETY: as above.
                let ok = unsafe { h(&mut r, &mut extra, source) };
                (ok, Value::Real(r))
            }
            (Kind::Str { check: Some(h), .. }, Value::Str(mut p)) => {
                // SAFETY: as above; the hook may free() *newval and put a malloc'd string there.
                let ok = unsafe { h(&mut p, &mut extra, source) };
                (ok, Value::Str(p))
            }
            (_, v) => (true, v),
        };
        if ok {
            clear_check_strings();
            return Ok(value);
        }
        let shown = match &value {
            Value::Str(_) | Value::Enum(_) => format!("\"{}\"", show_value(var, &value)),
            _ => show_value(var, &value),
        };
        value.discard();
        let message = take_check_string(&raw mut GUC_check_errmsg_string)
            .unwrap_or_else(|| format!("invalid value for parameter \"{}\": {shown}", var.name));
        let detail = take_check_string(&raw mut GUC_check_errdetail_string);
        let hint = take_check_string(&raw mut GUC_check_errhint_string);
        Err(Problem {
            message,
            detail,
            hint,
        })
    }

    /// Writes the value into the module's variable (a string's previous value is freed once
    /// replaced) and calls the assign hook.
    fn store(var: &Var, value: Value) {
        // SAFETY: the addresses are the module's variables, given to DefineCustom*Variable,
        // which live as long as the module (never unloaded); hooks are the module's functions.
        unsafe {
            match (&var.kind, value) {
                (Kind::Bool { addr, assign, .. }, Value::Bool(b)) => {
                    *addr.0 = b;
                    if let Some(h) = assign {
                        h(b, std::ptr::null_mut());
                    }
                }
                (Kind::Int { addr, assign, .. }, Value::Int(i))
                | (Kind::Enum { addr, assign, .. }, Value::Enum(i)) => {
                    *addr.0 = i;
                    if let Some(h) = assign {
                        h(i, std::ptr::null_mut());
                    }
                }
                (Kind::Real { addr, assign, .. }, Value::Real(r)) => {
                    *addr.0 = r;
                    if let Some(h) = assign {
                        h(r, std::ptr::null_mut());
                    }
                }
                (Kind::Str { addr, assign, .. }, Value::Str(p)) => {
                    let old = *addr.0;
                    *addr.0 = p;
                    if let Some(h) = assign {
                        h(p, std::ptr::null_mut());
                    }
                    // Before the definition is recorded, the variable holds the module's own
                    // initialiser (perhaps a literal): only our earlier copies are freed.
                    if !old.is_null() && old != p && is_defined(&var.name) {
                        libc::free(old.cast());
                    }
                }
                (_, v) => v.discard(),
            }
        }
    }

    fn current_value(var: &Var) -> Value {
        // SAFETY: reading the module's variable (see `store`).
        unsafe {
            match &var.kind {
                Kind::Bool { addr, .. } => Value::Bool(*addr.0),
                Kind::Int { addr, .. } => Value::Int(*addr.0),
                Kind::Real { addr, .. } => Value::Real(*addr.0),
                // Borrowed: never discarded.
                Kind::Str { addr, .. } => Value::Str(*addr.0),
                Kind::Enum { addr, .. } => Value::Enum(*addr.0),
            }
        }
    }

    fn same_as_current(var: &Var, new: &Value) -> bool {
        match (current_value(var), new) {
            (Value::Bool(a), Value::Bool(b)) => a == *b,
            (Value::Int(a), Value::Int(b)) | (Value::Enum(a), Value::Enum(b)) => a == *b,
            (Value::Real(a), Value::Real(b)) => a == *b,
            (Value::Str(a), Value::Str(b)) => cstr_or_empty(a) == cstr_or_empty(*b),
            _ => false,
        }
    }

    /// The value as `GetConfigOption` returns it (no units, no show hook).
    fn show_plain(var: &Var) -> String {
        match current_value(var) {
            Value::Bool(b) => (if b { "on" } else { "off" }).into(),
            Value::Int(i) => i.to_string(),
            Value::Real(r) => fmt_g(r),
            Value::Str(p) => cstr_or_empty(p),
            Value::Enum(e) => match &var.kind {
                Kind::Enum { options, .. } => enum_name(options, e),
                _ => e.to_string(),
            },
        }
    }

    /// The value as `SHOW` prints it: the show hook's text, or numbers in the largest unit
    /// that expresses them exactly.
    fn show_units(var: &Var) -> String {
        if let Some(h) = var.show {
            // SAFETY: the module's show hook returns NULL or a NUL-terminated string.
            return cstr_or_empty(unsafe { h() });
        }
        let unit = var.flags & GUC_UNIT;
        match current_value(var) {
            Value::Int(i) if i > 0 && unit != 0 => {
                let (v, u) = int_from_base_unit(i64::from(i), unit);
                format!("{v}{u}")
            }
            Value::Real(r) if r > 0.0 && unit != 0 => {
                let (v, u) = real_from_base_unit(r, unit);
                format!("{}{u}", fmt_g(v))
            }
            _ => show_plain(var),
        }
    }

    /// Every custom setting of this process as a database session should see it: the modules'
    /// variables as `SHOW` prints them, then the placeholders no module defined (name, value).
    pub fn session_values() -> Vec<(String, String)> {
        let vars: Vec<Var> = REGISTRY.lock().vars.clone();
        let mut out: Vec<(String, String)> = vars
            .iter()
            .map(|v| (v.name.to_ascii_lowercase(), show_units(v)))
            .collect();
        if let Some(s) = CURRENT.lock().as_ref() {
            for (k, v) in &s.placeholders {
                if !out.iter().any(|(n, _)| n == k) {
                    out.push((k.clone(), v.clone()));
                }
            }
        }
        out
    }

    /// What `GetConfigOption` finds for a name.
    pub enum Found {
        /// A custom string variable's current C string (NULL if unset).
        Live(*const c_char),
        Text(String),
    }

    /// `GetConfigOption`: custom variables, then the core settings and placeholders.
    pub fn get_config_option(name: &str) -> Option<Found> {
        if let Some(var) = lookup(name) {
            return Some(match (&var.kind, current_value(&var)) {
                (Kind::Str { .. }, Value::Str(p)) => Found::Live(p),
                _ => Found::Text(show_plain(&var)),
            });
        }
        current().get(name).map(Found::Text)
    }

    /// `GetConfigOptionByName`: the canonical name and the value as `SHOW` prints it.
    pub fn get_config_option_by_name(name: &str) -> Option<(String, String)> {
        if let Some(var) = lookup(name) {
            return Some((var.name.clone(), show_units(&var)));
        }
        let key = name.to_ascii_lowercase();
        current().get(&key).map(|v| (key, v))
    }

    /// `GetConfigOptionFlags`.
    pub fn flags_of(name: &str) -> Option<c_int> {
        if let Some(var) = lookup(name) {
            return Some(var.flags);
        }
        current().get(name).map(|_| 0)
    }

    // ----- numbers and units ------------------------------------------------------------

    /// `%g`, as PostgreSQL prints reals.
    pub fn fmt_g(v: f64) -> String {
        let mut buf = [0 as c_char; 64];
        // SAFETY: snprintf writes at most buf.len() bytes, NUL-terminated.
        unsafe {
            libc::snprintf(buf.as_mut_ptr(), buf.len(), c"%g".as_ptr(), v);
            CStr::from_ptr(buf.as_ptr()).to_string_lossy().into_owned()
        }
    }

    const MEMORY_UNITS: &[(&str, f64)] = &[
        ("TB", 1099511627776.0),
        ("GB", 1073741824.0),
        ("MB", 1048576.0),
        ("kB", 1024.0),
        ("B", 1.0),
    ];
    const TIME_UNITS: &[(&str, f64)] = &[
        ("d", 86_400_000_000.0),
        ("h", 3_600_000_000.0),
        ("min", 60_000_000.0),
        ("s", 1_000_000.0),
        ("ms", 1000.0),
        ("us", 1.0),
    ];
    const MEMORY_UNITS_HINT: &str =
        "Valid units for this parameter are \"B\", \"kB\", \"MB\", \"GB\", and \"TB\".";
    const TIME_UNITS_HINT: &str =
        "Valid units for this parameter are \"us\", \"ms\", \"s\", \"min\", \"h\", and \"d\".";

    /// The unit table for a variable's base unit, and the base unit's size in the same atoms.
    fn unit_table(unit: c_int) -> Option<(&'static [(&'static str, f64)], f64)> {
        Some(match unit {
            GUC_UNIT_KB => (MEMORY_UNITS, 1024.0),
            GUC_UNIT_BLOCKS | GUC_UNIT_XBLOCKS => (MEMORY_UNITS, 8192.0),
            GUC_UNIT_MB => (MEMORY_UNITS, 1_048_576.0),
            GUC_UNIT_BYTE => (MEMORY_UNITS, 1.0),
            GUC_UNIT_MS => (TIME_UNITS, 1000.0),
            GUC_UNIT_S => (TIME_UNITS, 1_000_000.0),
            GUC_UNIT_MIN => (TIME_UNITS, 60_000_000.0),
            _ => return None,
        })
    }

    /// The base unit's name, as in range errors (`70 s is outside ...`), with its space.
    fn unit_suffix(flags: c_int) -> &'static str {
        match flags & GUC_UNIT {
            GUC_UNIT_KB => " kB",
            GUC_UNIT_BLOCKS | GUC_UNIT_XBLOCKS => " 8kB",
            GUC_UNIT_MB => " MB",
            GUC_UNIT_BYTE => " B",
            GUC_UNIT_MS => " ms",
            GUC_UNIT_S => " s",
            GUC_UNIT_MIN => " min",
            _ => "",
        }
    }

    fn units_hint(flags: c_int) -> &'static str {
        if flags & GUC_UNIT_MEMORY != 0 {
            MEMORY_UNITS_HINT
        } else {
            TIME_UNITS_HINT
        }
    }

    /// `value` given in `text`'s unit (then only blanks) converted to the variable's base unit;
    /// a fractional amount is rounded to a whole number of the next smaller unit.
    fn to_base_unit(value: f64, text: &str, unit: c_int) -> Option<f64> {
        let word: String = text.chars().take_while(|c| !c.is_whitespace()).collect();
        if word.chars().count() > 3 || !text[word.len()..].trim().is_empty() {
            return None;
        }
        let (table, base) = unit_table(unit)?;
        let i = table.iter().position(|(n, _)| *n == word)?;
        let mut v = value * (table[i].1 / base);
        if let Some(&(_, next)) = table.get(i + 1) {
            let m = next / base;
            v = (v / m).round_ties_even() * m;
        }
        Some(v)
    }

    fn int_from_base_unit(base_value: i64, unit: c_int) -> (i64, &'static str) {
        let Some((table, base)) = unit_table(unit) else {
            return (base_value, "");
        };
        for &(name, size) in table {
            let m = size / base;
            if m <= 1.0 || base_value % (m as i64) == 0 {
                return ((base_value as f64 / m).round_ties_even() as i64, name);
            }
        }
        (base_value, "")
    }

    fn real_from_base_unit(base_value: f64, unit: c_int) -> (f64, &'static str) {
        let Some((table, base)) = unit_table(unit) else {
            return (base_value, "");
        };
        let mut out = (base_value, "");
        for &(name, size) in table {
            let v = base_value / (size / base);
            out = (v, name);
            if v > 0.0 && ((v.round_ties_even() / v) - 1.0).abs() <= 1e-8 {
                break;
            }
        }
        out
    }

    /// Splits `value` at the end of its C number (`strtol` base 0, else `strtod`): the number
    /// and the rest, or `None` when there is no number.
    fn c_number(value: &str, integer_first: bool) -> Option<(f64, String)> {
        let c = CString::new(value).ok()?;
        let start = c.as_ptr();
        let mut end: *mut c_char = std::ptr::null_mut();
        // SAFETY: strtol/strtod read the NUL-terminated string and set `end` inside it.
        unsafe {
            *libc::__errno_location() = 0;
            let mut v = if integer_first {
                libc::strtol(start, &mut end, 0) as f64
            } else {
                libc::strtod(start, &mut end)
            };
            let ch = *end as u8;
            if integer_first
                && (ch == b'.' || ch == b'e' || ch == b'E' || *libc::__errno_location() != 0)
            {
                *libc::__errno_location() = 0;
                v = libc::strtod(start, &mut end);
            }
            if end.cast_const() == start || *libc::__errno_location() == libc::ERANGE || v.is_nan()
            {
                return None;
            }
            let rest = CStr::from_ptr(end)
                .to_string_lossy()
                .trim_start()
                .to_owned();
            Some((v, rest))
        }
    }

    /// PostgreSQL's integer setting syntax: a C integer (or a decimal fraction, rounded),
    /// optionally followed by a unit when the variable has one. The error carries the hint.
    pub fn parse_int_units(value: &str, flags: c_int) -> Result<c_int, Option<&'static str>> {
        let (mut v, rest) = c_number(value, true).ok_or(None)?;
        if !rest.is_empty() {
            if flags & GUC_UNIT == 0 {
                return Err(None);
            }
            v = to_base_unit(v, &rest, flags & GUC_UNIT).ok_or(Some(units_hint(flags)))?;
        }
        let v = v.round_ties_even();
        if v > f64::from(c_int::MAX) || v < f64::from(c_int::MIN) {
            return Err(Some("Value exceeds integer range."));
        }
        Ok(v as c_int)
    }

    /// PostgreSQL's real setting syntax: a C double, optionally followed by a unit.
    pub fn parse_real_units(value: &str, flags: c_int) -> Result<f64, Option<&'static str>> {
        let (mut v, rest) = c_number(value, false).ok_or(None)?;
        if !rest.is_empty() {
            if flags & GUC_UNIT == 0 {
                return Err(None);
            }
            v = to_base_unit(v, &rest, flags & GUC_UNIT).ok_or(Some(units_hint(flags)))?;
        }
        Ok(v)
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn integers_with_units() {
            assert_eq!(parse_int_units("5s", GUC_UNIT_MS), Ok(5000));
            assert_eq!(parse_int_units("100ms", GUC_UNIT_MS), Ok(100));
            assert_eq!(parse_int_units("1min", GUC_UNIT_S), Ok(60));
            assert_eq!(parse_int_units(" 2 h ", GUC_UNIT_S), Ok(7200));
            assert_eq!(parse_int_units("1.5s", GUC_UNIT_MS), Ok(1500));
            assert_eq!(parse_int_units("1500ms", GUC_UNIT_S), Ok(2));
            assert_eq!(parse_int_units("0x10", 0), Ok(16));
            assert_eq!(parse_int_units("1MB", GUC_UNIT_KB), Ok(1024));
            assert_eq!(parse_int_units("5", 0), Ok(5));
            assert_eq!(parse_int_units("5s", 0), Err(None));
            assert_eq!(parse_int_units("abc", GUC_UNIT_S), Err(None));
            assert_eq!(
                parse_int_units("5 parsecs", GUC_UNIT_S),
                Err(Some(TIME_UNITS_HINT))
            );
            assert_eq!(
                parse_int_units("5 S", GUC_UNIT_S),
                Err(Some(TIME_UNITS_HINT))
            );
            assert_eq!(
                parse_int_units("5kb", GUC_UNIT_KB),
                Err(Some(MEMORY_UNITS_HINT))
            );
            assert_eq!(
                parse_int_units("9999999999", 0),
                Err(Some("Value exceeds integer range."))
            );
        }

        #[test]
        fn reals_and_display() {
            assert_eq!(parse_real_units("0.5", 0), Ok(0.5));
            assert_eq!(parse_real_units("2s", GUC_UNIT_MS), Ok(2000.0));
            assert_eq!(parse_real_units("x", 0), Err(None));
            assert_eq!(int_from_base_unit(5000, GUC_UNIT_MS), (5, "s"));
            assert_eq!(int_from_base_unit(90, GUC_UNIT_S), (90, "s"));
            assert_eq!(int_from_base_unit(120, GUC_UNIT_S), (2, "min"));
            assert_eq!(int_from_base_unit(16384, GUC_UNIT_BLOCKS), (128, "MB"));
            assert_eq!(fmt_g(0.25), "0.25");
            assert_eq!(unit_suffix(GUC_UNIT_S), " s");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_syntax() {
        let text = "# comment\n\nmax_worker_processes = 12 # trailing\ncluster_name='it''s'\nrestart_after_crash off\nmymod.naptime = '5s'\n";
        let e = parse_file(text, "f").unwrap();
        assert_eq!(e.len(), 4);
        assert_eq!(
            e[0],
            Entry {
                name: "max_worker_processes".into(),
                value: "12".into(),
                line: 3
            }
        );
        assert_eq!(e[1].value, "it's");
        assert_eq!(e[2].value, "off");
        assert_eq!(e[3].name, "mymod.naptime");
    }

    #[test]
    fn syntax_errors_name_file_and_line() {
        let err = parse_file("a = 1\nb = 'open\n", "/d/bgworker.conf").unwrap_err();
        assert!(
            err.message.contains("\"/d/bgworker.conf\" line 2"),
            "{}",
            err.message
        );
        let err = parse_file("a = 1 2\n", "f").unwrap_err();
        assert!(
            err.message.contains("line 1, near token \"2\""),
            "{}",
            err.message
        );
    }

    #[test]
    fn unknown_and_bad_values() {
        let mut s = Settings::default();
        let src = Source::File {
            path: "/d/bgworker.conf".into(),
            line: 3,
        };
        let e = s.set("foo", "1", &src).unwrap_err();
        assert_eq!(
            e.message,
            "unrecognized configuration parameter \"foo\" in file \"/d/bgworker.conf\" line 3"
        );
        let e = s.set("max_worker_processes", "abc", &src).unwrap_err();
        assert!(e
            .message
            .starts_with("invalid value for parameter \"max_worker_processes\": \"abc\""));
        assert!(s.set("max_worker_processes", "-1", &src).is_err());
        assert!(s.set("restart_after_crash", "maybe", &src).is_err());
        assert!(s.set("log_min_messages", "loud", &src).is_err());
        s.set("Mod.X", "1", &src).unwrap();
        assert_eq!(s.get("mod.x").as_deref(), Some("1"));
        assert!(s.set(".x", "1", &src).is_err());
    }

    #[test]
    fn value_syntax() {
        assert_eq!(parse_int("0x10", 0, 100), Ok(16));
        assert_eq!(parse_int("010", 0, 100), Ok(8));
        assert!(parse_int("12abc", 0, 100).is_err());
        assert!(parse_int("--5", -10, 10).is_err(), "one sign only");
        assert!(parse_int("0x-5", -10, 10).is_err());
        assert!(
            parse_int("--9223372036854775808", 0, 10).is_err(),
            "no overflow"
        );
        assert_eq!(parse_int("-5", -10, 10), Ok(-5));
        assert_eq!(parse_bool("t"), Some(true));
        assert_eq!(parse_bool("OFF"), Some(false));
        assert_eq!(parse_bool("o"), None);
        assert_eq!(split_list("a, \"b c\",d").unwrap(), vec!["a", "b c", "d"]);
        assert_eq!(split_list("").unwrap(), Vec::<String>::new());
        assert!(split_list("a,,b").is_err());
    }
}
