//! Changing settings at run time (`set_config_option`, `SetConfigOption`) with PostgreSQL's
//! rules: which contexts may change which setting, which source wins, what `RESET` (a NULL value)
//! goes back to, and transaction scope (changes made in a transaction are undone if it aborts;
//! `GUC_ACTION_LOCAL` and `GUC_ACTION_SAVE` ones also when it commits).
//!
//! The change is this process's own, as a backend's is in PostgreSQL; it outlives reloads of the
//! settings file unless the file sets a value of at least its priority.

use crate::guc::custom::{
    self, Problem, PGC_BACKEND, PGC_INTERNAL, PGC_POSTMASTER, PGC_SIGHUP, PGC_SUSET,
    PGC_SU_BACKEND, PGC_USERSET,
};
use crate::guc::{self, Settings, Source};
use crate::pg::make_sqlstate;
use crate::pg::types::{DEBUG3, ERROR, LOG, WARNING};
use libc::c_int;
use parking_lot::Mutex;

// GucSource values (PostgreSQL's).
const PGC_S_DEFAULT: c_int = 0;
const PGC_S_FILE: c_int = 3;
const PGC_S_GLOBAL: c_int = 5;
const PGC_S_DATABASE_USER: c_int = 8;
const PGC_S_CLIENT: c_int = 9;
const PGC_S_OVERRIDE: c_int = 10;

/// `GucAction`.
pub const GUC_ACTION_SET: c_int = 0;
pub const GUC_ACTION_LOCAL: c_int = 1;
pub const GUC_ACTION_SAVE: c_int = 2;

/// A refused change: what to report, at which level.
pub struct Refusal {
    pub elevel: c_int,
    pub sqlerrcode: c_int,
    pub problem: Problem,
}

/// One `set_config_option` call.
pub struct Request<'a> {
    pub name: &'a str,
    /// NULL: back to the reset value (or, with `PGC_S_DEFAULT`, the boot value).
    pub value: Option<&'a str>,
    pub context: c_int,
    pub source: c_int,
    pub action: c_int,
    /// False: only check the value.
    pub change_val: bool,
    /// 0: PostgreSQL's default for the source.
    pub elevel: c_int,
}

/// What the setting is.
enum Target {
    /// A module's variable (`DefineCustom*Variable`).
    Custom { context: c_int },
    /// One of the supervisor's settings.
    Core { context: c_int },
    /// `prefix.name` that no module has defined: kept as text.
    Placeholder,
}

fn cant_change() -> c_int {
    make_sqlstate(b"55P02")
}

/// The level PostgreSQL reports at when the caller passes 0.
fn default_elevel(source: c_int) -> c_int {
    if source == PGC_S_DEFAULT || source == PGC_S_FILE {
        // SAFETY: a plain bool of this process.
        if unsafe { crate::pg::IsUnderPostmaster } {
            DEBUG3
        } else {
            LOG
        }
    } else if (PGC_S_GLOBAL..=PGC_S_DATABASE_USER).contains(&source) {
        WARNING
    } else {
        ERROR
    }
}

fn find(name: &str, elevel: c_int) -> Result<Target, Refusal> {
    if let Some((context, _)) = custom::context_and_source(name) {
        return Ok(Target::Custom { context });
    }
    let key = name.to_ascii_lowercase();
    if let Some(context) = guc::guc_context_of(&key) {
        return Ok(Target::Core { context });
    }
    if guc::is_valid_placeholder(&key) {
        if let Some(prefix) = custom::reserved_prefix(&key) {
            return Err(Refusal {
                elevel,
                sqlerrcode: make_sqlstate(b"42602"),
                problem: Problem {
                    message: format!("invalid configuration parameter name \"{name}\""),
                    detail: Some(format!("\"{prefix}\" is a reserved prefix.")),
                    hint: None,
                },
            });
        }
        return Ok(Target::Placeholder);
    }
    Err(Refusal {
        elevel,
        sqlerrcode: make_sqlstate(b"42704"),
        problem: Problem::new(format!("unrecognized configuration parameter \"{name}\"")),
    })
}

/// What the context rules allow.
enum Allowed {
    Yes,
    /// Only when the value stays the same (a restart-only setting during a reload).
    IfUnchanged,
    /// Silently not now (a backend-start setting during a reload).
    Ignore,
}

fn check_context(
    name: &str,
    var_context: c_int,
    req: &Request<'_>,
    elevel: c_int,
) -> Result<Allowed, Refusal> {
    let refuse = |code: c_int, message: String| Refusal {
        elevel,
        sqlerrcode: code,
        problem: Problem::new(message),
    };
    // SAFETY: a plain bool of this process.
    let under_postmaster = unsafe { crate::pg::IsUnderPostmaster };
    let context = req.context;
    match var_context {
        PGC_INTERNAL if context != PGC_INTERNAL => Err(refuse(
            cant_change(),
            format!("parameter \"{name}\" cannot be changed"),
        )),
        PGC_POSTMASTER if context == PGC_SIGHUP => Ok(Allowed::IfUnchanged),
        PGC_POSTMASTER if context != PGC_POSTMASTER => Err(refuse(
            cant_change(),
            format!("parameter \"{name}\" cannot be changed without restarting the server"),
        )),
        PGC_SIGHUP if context != PGC_SIGHUP && context != PGC_POSTMASTER => Err(refuse(
            cant_change(),
            format!("parameter \"{name}\" cannot be changed now"),
        )),
        PGC_SU_BACKEND | PGC_BACKEND if context == PGC_SIGHUP => {
            Ok(if under_postmaster && req.change_val {
                Allowed::Ignore
            } else {
                Allowed::Yes
            })
        }
        PGC_SU_BACKEND | PGC_BACKEND
            if context != PGC_POSTMASTER
                && context != PGC_BACKEND
                && context != PGC_SU_BACKEND
                && req.source != PGC_S_CLIENT =>
        {
            Err(refuse(
                cant_change(),
                format!("parameter \"{name}\" cannot be set after connection start"),
            ))
        }
        // There are no roles here: a change made as an ordinary user (PGC_USERSET or
        // PGC_BACKEND) of a superuser setting is refused, as it would be for a non-superuser.
        PGC_SUSET if context == PGC_USERSET || context == PGC_BACKEND => Err(refuse(
            make_sqlstate(b"42501"),
            format!("permission denied to set parameter \"{name}\""),
        )),
        _ => Ok(Allowed::Yes),
    }
}

/// The source of a core setting's or placeholder's current value.
fn current_source(s: &Settings, key: &str) -> c_int {
    if let Some((_, src)) = s.runtime.current.get(key) {
        return *src;
    }
    if let Some((_, src)) = s.runtime.reset.get(key) {
        return *src;
    }
    s.source_of(key)
}

/// What `RESET` goes back to for a core setting or placeholder: text and source.
fn reset_of(s: &Settings, key: &str) -> Option<(String, c_int)> {
    if let Some(r) = s.runtime.reset.get(key) {
        return Some(r.clone());
    }
    if let Some((v, origin)) = s.base.get(key) {
        return Some((v.clone(), origin.guc_source()));
    }
    Settings::default().get(key).map(|v| (v, PGC_S_DEFAULT))
}

/// Makes `key`'s value in `s` what its runtime entries and base say.
fn recompute(s: &mut Settings, key: &str) {
    let (text, source) = match s.runtime.current.get(key).or(s.runtime.reset.get(key)) {
        Some((t, src)) => (t.clone(), Source::Runtime(*src)),
        None => match s.base.get(key) {
            Some((t, origin)) => (t.clone(), origin.clone()),
            None => match Settings::default().get(key) {
                // A core setting no file or -c set: its default, with no origin.
                Some(t) => {
                    let _ = s.set(key, &t, &Source::Runtime(PGC_S_DEFAULT));
                    s.origins.remove(key);
                    return;
                }
                None => {
                    s.placeholders.remove(key);
                    s.origins.remove(key);
                    return;
                }
            },
        },
    };
    let _ = s.set(key, &text, &source);
}

/// A value as it was before a transaction changed it.
#[derive(Clone)]
enum Snapshot {
    Custom(String, c_int),
    Core(Option<(String, c_int)>),
}

struct Changed {
    name: String,
    prior: Snapshot,
    /// The value after the transaction's last `GUC_ACTION_SET`, if any.
    after_set: Option<Snapshot>,
    /// Changed with `GUC_ACTION_LOCAL` or `GUC_ACTION_SAVE` (undone at commit too).
    local: bool,
}

static CHANGED: Mutex<Vec<Changed>> = Mutex::new(Vec::new());

fn snapshot(target: &Target, key: &str) -> Snapshot {
    match target {
        Target::Custom { .. } => {
            let (t, s) = custom::snapshot(key).unwrap_or_default();
            Snapshot::Custom(t, s)
        }
        _ => Snapshot::Core(guc::current().runtime.current.get(key).cloned()),
    }
}

fn restore(key: &str, snap: Snapshot) {
    match snap {
        Snapshot::Custom(text, source) => {
            let _ = custom::store_runtime(key, &text, source, true, false);
        }
        Snapshot::Core(entry) => {
            let mut s = guc::current();
            match entry {
                Some(e) => s.runtime.current.insert(key.to_owned(), e),
                None => s.runtime.current.remove(key),
            };
            recompute(&mut s, key);
            guc::install(s);
        }
    }
}

/// `set_config_option`: 1 when the value was (or, without `change_val`, could be) applied, -1
/// when it was left alone (a source of higher priority set it, or a reload may not change it),
/// or the refusal to report (the caller reports it and returns 0 below ERROR).
pub fn set_config_option(req: &Request<'_>) -> Result<c_int, Refusal> {
    custom::CHECK_ERRCODE.store(0, std::sync::atomic::Ordering::Relaxed);
    let elevel = if req.elevel == 0 {
        default_elevel(req.source)
    } else {
        req.elevel
    };
    let target = find(req.name, elevel)?;
    let key = req.name.to_ascii_lowercase();
    let var_context = match target {
        Target::Custom { context } | Target::Core { context } => context,
        Target::Placeholder => PGC_USERSET,
    };
    let allowed = check_context(req.name, var_context, req, elevel)?;
    if matches!(allowed, Allowed::Ignore) {
        return Ok(-1);
    }
    let mut change = req.change_val;
    let make_default = change
        && req.source <= PGC_S_OVERRIDE
        && (req.value.is_some() || req.source == PGC_S_DEFAULT);
    let settings = guc::current();
    let held_by = match target {
        Target::Custom { .. } => custom::context_and_source(&key).map_or(0, |(_, s)| s),
        _ => current_source(&settings, &key),
    };
    if held_by > req.source {
        if change && !make_default {
            crate::elog::log(
                DEBUG3,
                format_args!(
                    "\"{}\": setting ignored because previous source is higher priority",
                    req.name
                ),
            );
            return Ok(-1);
        }
        change = false;
    }

    // The new value as text, and the source it will carry.
    let (text, source) = match (req.value, &target) {
        (Some(v), _) => (v.to_owned(), req.source),
        (None, Target::Custom { .. }) => custom::reset_value(&key).unwrap_or_default(),
        (None, _) if req.source == PGC_S_DEFAULT => (
            Settings::default().get(&key).unwrap_or_default(),
            PGC_S_DEFAULT,
        ),
        (None, _) => reset_of(&settings, &key).unwrap_or_default(),
    };
    let invalid = |p: Problem| Refusal {
        elevel,
        sqlerrcode: make_sqlstate(b"22023"),
        problem: p,
    };
    // Validate, and find out whether the value would change.
    let differs = match &target {
        Target::Custom { .. } => {
            custom::validate(&key, &text, source).map_err(invalid)?;
            custom::differs(&key, &text)
        }
        _ => {
            let mut probe = settings.clone();
            probe
                .set(&key, &text, &Source::Runtime(source))
                .map_err(|e| {
                    invalid(Problem {
                        message: e.message,
                        detail: None,
                        hint: e.detail,
                    })
                })?;
            probe.get(&key) != settings.get(&key)
        }
    };
    if matches!(allowed, Allowed::IfUnchanged) {
        return if differs {
            Err(Refusal {
                elevel,
                sqlerrcode: cant_change(),
                problem: Problem::new(format!(
                    "parameter \"{}\" cannot be changed without restarting the server",
                    req.name
                )),
            })
        } else {
            Ok(-1)
        };
    }
    if !change && !make_default {
        return Ok(-1);
    }

    // Inside a transaction, remember the value before its first change there.
    let in_xact = change && !make_default && crate::db::xact::in_transaction();
    if in_xact && !CHANGED.lock().iter().any(|c| c.name == key) {
        let prior = snapshot(&target, &key);
        CHANGED.lock().push(Changed {
            name: key.clone(),
            prior,
            after_set: None,
            local: false,
        });
    }

    match target {
        Target::Custom { .. } => {
            custom::store_runtime(&key, &text, source, change, make_default).map_err(invalid)?;
        }
        _ => {
            let mut s = settings;
            if make_default
                && s.runtime
                    .reset
                    .get(&key)
                    .is_none_or(|(_, src)| *src <= source)
            {
                s.runtime.reset.insert(key.clone(), (text.clone(), source));
            }
            if change {
                if make_default || req.value.is_none() {
                    s.runtime.current.remove(&key);
                } else {
                    s.runtime.current.insert(key.clone(), (text, source));
                }
            }
            recompute(&mut s, &key);
            guc::install(s);
        }
    }

    if in_xact {
        let target = match custom::context_and_source(&key) {
            Some((context, _)) => Target::Custom { context },
            None => Target::Placeholder,
        };
        let after = snapshot(&target, &key);
        if let Some(c) = CHANGED.lock().iter_mut().find(|c| c.name == key) {
            if req.action == GUC_ACTION_SET {
                c.after_set = Some(after);
            } else {
                c.local = true;
            }
        }
    }
    // As PostgreSQL: a value only checked, or only made the reset value, is "not applied".
    Ok(if change { 1 } else { -1 })
}

/// The end of a transaction: changes it made are undone if it aborted; `GUC_ACTION_LOCAL` and
/// `GUC_ACTION_SAVE` ones are undone whatever the outcome (back to the transaction's last plain
/// `SET`, if any).
pub fn at_end_of_transaction(is_commit: bool) {
    let changed = std::mem::take(&mut *CHANGED.lock());
    for c in changed.into_iter().rev() {
        if !is_commit {
            restore(&c.name, c.prior);
        } else if c.local {
            restore(&c.name, c.after_set.unwrap_or(c.prior));
        }
    }
}

/// `GetConfigOptionResetString`: what `RESET` would set: `None` for no such setting,
/// `Some(None)` for a placeholder that has no reset value (set only at run time), as PostgreSQL
/// returns NULL for it.
pub fn reset_string(name: &str) -> Option<Option<String>> {
    if let Some((text, _)) = custom::reset_value(name) {
        return Some(Some(text));
    }
    let key = name.to_ascii_lowercase();
    let s = guc::current();
    if guc::guc_context_of(&key).is_some() || s.placeholders.contains_key(&key) {
        return Some(reset_of(&s, &key).map(|(t, _)| t));
    }
    None
}
