//! Settings: `DATADIR/bgworker.conf` in postgresql.conf syntax, then `-c name=value` overrides,
//! with PostgreSQL's value syntax and its contexts (restart-only settings ignore a reload).

use crate::abi::types::*;
use libc::c_int;
use parking_lot::Mutex;
use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

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
    pub log_min_messages: c_int,
    pub cluster_name: String,
    /// `prefix.name` settings no module has defined (yet), lower-cased name → value.
    pub placeholders: BTreeMap<String, String>,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            shared_preload_libraries: Vec::new(),
            dynamic_library_path: "$libdir".to_owned(),
            max_worker_processes: 8,
            max_parallel_workers: 8,
            restart_after_crash: true,
            log_min_messages: WARNING,
            cluster_name: String::new(),
            placeholders: BTreeMap::new(),
        }
    }
}

/// Where a value came from, for error messages.
#[derive(Clone, Debug, PartialEq)]
pub enum Source {
    File { path: String, line: usize },
    CommandLine,
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
        Source::CommandLine => String::new(),
    }
}

/// The core settings: name, context.
const CORE: &[(&str, Context)] = &[
    ("shared_preload_libraries", Context::Postmaster),
    ("dynamic_library_path", Context::Sighup),
    ("max_worker_processes", Context::Postmaster),
    ("max_parallel_workers", Context::Sighup),
    ("restart_after_crash", Context::Sighup),
    ("log_min_messages", Context::Sighup),
    ("cluster_name", Context::Postmaster),
];

pub fn context_of(name: &str) -> Option<Context> {
    CORE.iter().find(|(n, _)| *n == name).map(|&(_, c)| c)
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
            _ if is_valid_placeholder(&name) => {
                self.placeholders.insert(name, value.to_owned());
            }
            _ => {
                return Err(ConfigError {
                    message: format!(
                        "unrecognized configuration parameter \"{name}\"{}",
                        where_(source)
                    ),
                    detail: None,
                })
            }
        }
        Ok(())
    }

    /// Defaults, then `DATADIR/bgworker.conf` (if present), then the command-line overrides.
    pub fn load(conf: &Path, overrides: &[(String, String)]) -> Result<Settings, ConfigError> {
        let mut s = Settings::default();
        if conf.exists() {
            let text = std::fs::read_to_string(conf).map_err(|e| ConfigError {
                message: format!(
                    "could not read configuration file \"{}\": {e}",
                    conf.display()
                ),
                detail: None,
            })?;
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
            "log_min_messages" => crate::elog::level_name(self.log_min_messages).to_lowercase(),
            "cluster_name" => self.cluster_name.clone(),
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
    // SAFETY: the supervisor is single-threaded; these globals are plain ints.
    unsafe {
        crate::abi::max_worker_processes = s.max_worker_processes;
        crate::abi::max_parallel_workers = s.max_parallel_workers;
    }
    *CURRENT.lock() = Some(s);
}

/// Re-reads the settings on SIGHUP: restart-only changes are logged and ignored, a file with
/// errors changes nothing. Returns the settings now in force.
pub fn reload(conf: &Path, overrides: &[(String, String)]) -> Settings {
    let old = current();
    let mut new = match Settings::load(conf, overrides) {
        Ok(s) => s,
        Err(e) => {
            crate::elog::log_with(LOG, &e.message, e.detail.as_deref(), None);
            crate::elog::log(
                LOG,
                format_args!(
                    "configuration file \"{}\" contains errors; no changes were applied",
                    conf.display()
                ),
            );
            return old;
        }
    };
    for &(name, context) in CORE {
        if context == Context::Postmaster && old.get(name) != new.get(name) {
            crate::elog::log(
                LOG,
                format_args!(
                    "parameter \"{name}\" cannot be changed without restarting the server"
                ),
            );
        }
    }
    new.shared_preload_libraries = old.shared_preload_libraries.clone();
    new.max_worker_processes = old.max_worker_processes;
    new.cluster_name = old.cluster_name.clone();
    install(new.clone());
    new
}

fn is_valid_placeholder(name: &str) -> bool {
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
    let v = value.trim();
    let (neg, digits) = match v.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, v.strip_prefix('+').unwrap_or(v)),
    };
    let parsed = if let Some(hex) = digits
        .strip_prefix("0x")
        .or_else(|| digits.strip_prefix("0X"))
    {
        i64::from_str_radix(hex, 16)
    } else if digits.len() > 1 && digits.starts_with('0') {
        i64::from_str_radix(&digits[1..], 8)
    } else {
        digits.parse::<i64>()
    }
    .map_err(|_| "The value must be an integer.".to_owned())?;
    let n = if neg { -parsed } else { parsed };
    if n < i64::from(min) || n > i64::from(max) {
        return Err(format!(
            "{n} is outside the valid range for this parameter ({min} .. {max})."
        ));
    }
    Ok(n as c_int)
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
        assert_eq!(parse_bool("t"), Some(true));
        assert_eq!(parse_bool("OFF"), Some(false));
        assert_eq!(parse_bool("o"), None);
        assert_eq!(split_list("a, \"b c\",d").unwrap(), vec!["a", "b c", "d"]);
        assert_eq!(split_list("").unwrap(), Vec::<String>::new());
        assert!(split_list("a,,b").is_err());
    }
}
