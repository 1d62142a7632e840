//! `bgworkerctl check MODULE.so`: every PostgreSQL 15 server symbol a module references, grouped by
//! the server header that declares it, and whether bgworkerd implements it. Read from the files
//! alone (the module is not loaded, so none of its code runs).

use super::{err, json_string, CtlError, EXIT_USAGE};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// PostgreSQL 15's server exports (server-symbols/postgresql-15.symbols).
const SERVER_SYMBOLS: &str = include_str!("../../server-symbols/postgresql-15.symbols");

/// What bgworkerd gives a module for one server symbol.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Provision {
    /// Implemented by libbgworker.so.
    Implemented,
    /// A function bgworkerd does not implement: calling it raises an ERROR.
    NotImplemented,
    /// Data with PostgreSQL's size and boot value (or initial contents), meaning nothing here.
    BootValue,
    /// A hook a module may set, which bgworkerd never calls.
    HookNeverCalled,
}

impl Provision {
    pub fn text(self) -> &'static str {
        match self {
            Provision::Implemented => "implemented",
            Provision::NotImplemented => "not implemented",
            Provision::BootValue => "boot value",
            Provision::HookNeverCalled => "hook never called",
        }
    }
}

/// One referenced server symbol.
#[derive(Clone, Debug)]
pub struct Referenced {
    pub name: String,
    pub function: bool,
    /// The server header declaring it ("" when no installed header does).
    pub header: String,
    pub provision: Provision,
    /// The value a boot-value variable holds (PostgreSQL's boot value), when it has one.
    pub value: Option<String>,
}

/// The result of checking one module.
pub struct Report {
    pub module: PathBuf,
    pub symbols: Vec<Referenced>,
}

impl Report {
    pub fn unimplemented_functions(&self) -> usize {
        self.symbols
            .iter()
            .filter(|s| s.provision == Provision::NotImplemented)
            .count()
    }
}

/// Where libbgworker.so is for a program in `exe_dir`: where bgworkerd's run path looks.
fn library_candidates(exe_dir: &Path) -> Vec<PathBuf> {
    let mut c = Vec::new();
    for dir in [
        exe_dir.join("deps"),
        exe_dir.to_path_buf(),
        exe_dir.join("../lib"),
    ] {
        c.push(dir.join("libbgworker.so.1"));
        c.push(dir.join("libbgworker.so"));
    }
    c
}

/// The names libbgworker.so defines (what bgworkerd implements).
fn implemented_names() -> Result<std::collections::HashSet<String>, CtlError> {
    let exe = std::env::current_exe().map_err(|e| err(EXIT_USAGE, e.to_string()))?;
    let dir = exe.parent().map(Path::to_path_buf).unwrap_or_default();
    let candidates = library_candidates(&dir);
    let lib = candidates.iter().find(|p| p.is_file()).ok_or_else(|| {
        err(
            EXIT_USAGE,
            format!(
                "could not find libbgworker.so beside bgworkerctl (looked for {})",
                candidates
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )
    })?;
    let symbols = crate::elf::dynamic_symbols(lib).map_err(|e| err(EXIT_USAGE, e))?;
    Ok(symbols
        .into_iter()
        .filter(|s| s.defined)
        .map(|s| s.name)
        .collect())
}

/// A boot value as the list writes it (`int:4096`, `string:...`, ...), for people.
fn shown_value(init: &str) -> Option<String> {
    let value = init.split('\t').next().unwrap_or("");
    let (kind, v) = value.split_once(':').unwrap_or((value, ""));
    match kind {
        "int" | "real" | "bool" => Some(v.to_string()),
        "string" => Some(format!("'{v}'")),
        "null" => Some("NULL".into()),
        _ => None,
    }
}

/// Checks the module at `path`.
pub fn check(path: &Path) -> Result<Report, CtlError> {
    let module = crate::elf::dynamic_symbols(path).map_err(|e| err(EXIT_USAGE, e))?;
    let implemented = implemented_names()?;
    let server: BTreeMap<&str, Vec<&str>> = SERVER_SYMBOLS
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| {
            let f: Vec<&str> = l.splitn(6, '\t').collect();
            (f.len() == 6).then(|| (f[0], f))
        })
        .collect();
    let mut symbols: Vec<Referenced> = module
        .iter()
        .filter(|s| !s.defined)
        .filter_map(|s| {
            let f = server.get(s.name.as_str())?;
            let function = f[1] == "function";
            let provision = if implemented.contains(&s.name) {
                Provision::Implemented
            } else if function {
                Provision::NotImplemented
            } else if s.name.ends_with("_hook") {
                Provision::HookNeverCalled
            } else {
                Provision::BootValue
            };
            Some(Referenced {
                name: s.name.clone(),
                function,
                header: if f[4] == "-" {
                    String::new()
                } else {
                    f[4].to_string()
                },
                provision,
                value: (provision == Provision::BootValue)
                    .then(|| shown_value(f[5]))
                    .flatten(),
            })
        })
        .collect();
    symbols.sort_by(|a, b| (&a.header, &a.name).cmp(&(&b.header, &b.name)));
    symbols.dedup_by(|a, b| a.name == b.name);
    Ok(Report {
        module: path.to_path_buf(),
        symbols,
    })
}

/// The report as text: a summary line, then the symbols under their headers.
pub fn text(r: &Report) -> String {
    let count = |p: Provision| r.symbols.iter().filter(|s| s.provision == p).count();
    let mut out = format!(
        "{} references {} PostgreSQL 15 server symbol{}: {} implemented, {} function{} not implemented, {} variable{} with PostgreSQL's boot value, {} hook{} never called\n",
        r.module.display(),
        r.symbols.len(),
        if r.symbols.len() == 1 { "" } else { "s" },
        count(Provision::Implemented),
        count(Provision::NotImplemented),
        if count(Provision::NotImplemented) == 1 { "" } else { "s" },
        count(Provision::BootValue),
        if count(Provision::BootValue) == 1 { "" } else { "s" },
        count(Provision::HookNeverCalled),
        if count(Provision::HookNeverCalled) == 1 { "" } else { "s" },
    );
    let width = r.symbols.iter().map(|s| s.name.len()).max().unwrap_or(0);
    let mut header = None;
    for s in &r.symbols {
        if header != Some(&s.header) {
            header = Some(&s.header);
            let title = if s.header.is_empty() {
                "(declared in no installed server header)"
            } else {
                &s.header
            };
            let _ = writeln!(out, "\n{title}");
        }
        let _ = write!(
            out,
            "  {:width$}  {:8}  {}",
            s.name,
            if s.function { "function" } else { "data" },
            s.provision.text()
        );
        if let Some(v) = &s.value {
            let _ = write!(out, " ({v})");
        }
        out.push('\n');
    }
    if r.unimplemented_functions() > 0 {
        let _ = write!(
            out,
            "\nCalling a function that is not implemented raises ERROR \"function ... is not supported by bgworkerd\" (SQLSTATE 0A000).\n"
        );
    }
    out
}

/// The report as one JSON object (schema 1; documented in the README).
pub fn json(r: &Report) -> String {
    let count = |p: Provision| r.symbols.iter().filter(|s| s.provision == p).count();
    let mut out = format!(
        "{{\"schema\":1,\"module\":{},\"summary\":{{\"referenced\":{},\"implemented\":{},\"not_implemented\":{},\"boot_value\":{},\"hook_never_called\":{}}},\"symbols\":[",
        json_string(&r.module.display().to_string()),
        r.symbols.len(),
        count(Provision::Implemented),
        count(Provision::NotImplemented),
        count(Provision::BootValue),
        count(Provision::HookNeverCalled),
    );
    for (i, s) in r.symbols.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let _ = write!(
            out,
            "{{\"name\":{},\"kind\":\"{}\",\"header\":{},\"status\":\"{}\",\"value\":{}}}",
            json_string(&s.name),
            if s.function { "function" } else { "data" },
            if s.header.is_empty() {
                "null".to_string()
            } else {
                json_string(&s.header)
            },
            s.provision.text(),
            s.value.as_deref().map_or("null".to_string(), json_string),
        );
    }
    out.push_str("]}\n");
    out
}
