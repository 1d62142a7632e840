//! Loading modules: resolve a library name along `dynamic_library_path` (LOAD-3), open it with
//! `RTLD_NOW | RTLD_GLOBAL`, check its magic block, run `_PG_init` once per process, and never
//! unload it. Loaded libraries are remembered, so a worker reuses what the supervisor preloaded.

use crate::pg::types::*;
use libloading::os::unix::{Library, RTLD_GLOBAL, RTLD_NOW};
use parking_lot::Mutex;
use std::ffi::c_void;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

struct Loaded {
    path: PathBuf,
    /// `dlopen` handle, kept for `dlsym` (the library is never closed).
    handle: usize,
}

static LOADED: Mutex<Vec<Loaded>> = Mutex::new(Vec::new());

/// The directory holding libbgworker.so (the compat library sits beside it).
pub fn library_dir() -> PathBuf {
    // SAFETY: dladdr fills a local Dl_info for an address inside this library.
    let own = unsafe {
        let mut info: libc::Dl_info = std::mem::zeroed();
        if libc::dladdr(library_dir as *const c_void, &mut info) != 0 && !info.dli_fname.is_null() {
            Some(PathBuf::from(std::ffi::OsStr::from_bytes(
                std::ffi::CStr::from_ptr(info.dli_fname).to_bytes(),
            )))
        } else {
            None
        }
    };
    own.and_then(|p| p.parent().map(Path::to_path_buf))
        .unwrap_or_else(|| PathBuf::from("/usr/local/lib"))
}

/// The directory `$libdir` names: `<directory of libbgworker.so>/bgworker`.
pub fn libdir() -> PathBuf {
    library_dir().join("bgworker")
}

/// Why a library could not be loaded: PostgreSQL's message, and for a library not found, the
/// places looked in (a DETAIL).
#[derive(Debug)]
pub struct LoadError {
    pub message: String,
    pub detail: Option<String>,
}

impl From<String> for LoadError {
    fn from(message: String) -> Self {
        LoadError {
            message,
            detail: None,
        }
    }
}

/// Resolves a library name: a name with a `/` is used as is; otherwise each directory of
/// `dynamic_library_path` is tried with the name as given, then with `.so` appended.
pub fn resolve(name: &str, dynamic_library_path: &str) -> Result<PathBuf, LoadError> {
    if name.contains('/') {
        let p = PathBuf::from(name);
        return if p.is_file() {
            Ok(p)
        } else if p.with_extension("so").is_file() && p.extension().is_none() {
            Ok(p.with_extension("so"))
        } else {
            Err(format!("could not access file \"{name}\": No such file or directory").into())
        };
    }
    let libdir = libdir();
    let mut searched = Vec::new();
    for dir in dynamic_library_path.split(':').filter(|d| !d.is_empty()) {
        let dir = match dir.strip_prefix("$libdir") {
            Some(rest) => PathBuf::from(format!("{}{rest}", libdir.display())),
            None => PathBuf::from(dir),
        };
        for candidate in [dir.join(name), dir.join(format!("{name}.so"))] {
            if candidate.is_file() {
                return Ok(candidate);
            }
        }
        searched.push(format!("\"{}\"", dir.display()));
    }
    Err(LoadError {
        message: format!("could not access file \"{name}\": No such file or directory"),
        detail: Some(if searched.is_empty() {
            "dynamic_library_path is empty, so no directory was searched.".to_owned()
        } else {
            format!(
                "Looked for \"{name}\" and \"{name}.so\" in {} (dynamic_library_path).",
                searched.join(", ")
            )
        }),
    })
}

/// Names already resolved and loaded, with the search path they were resolved along, so a
/// worker starting a preloaded module's entry point does no file-system look-ups.
struct ByName {
    name: String,
    dynamic_library_path: String,
    handle: usize,
    path: PathBuf,
}

static LOADED_BY_NAME: Mutex<Vec<ByName>> = Mutex::new(Vec::new());

/// Loads a library by name (once per process) and returns its handle. A name loaded before is
/// found without allocating, so a worker whose module was preloaded starts without touching the
/// allocator.
pub fn load(name: &str, dynamic_library_path: &str) -> Result<usize, LoadError> {
    if let Some(b) = LOADED_BY_NAME
        .lock()
        .iter()
        .find(|b| b.name == name && b.dynamic_library_path == dynamic_library_path)
    {
        return Ok(b.handle);
    }
    let (handle, path) = load_path(name, dynamic_library_path)?;
    LOADED_BY_NAME.lock().push(ByName {
        name: name.to_owned(),
        dynamic_library_path: dynamic_library_path.to_owned(),
        handle,
        path,
    });
    Ok(handle)
}

/// The path a name loaded by `load` resolved to (for messages).
pub fn loaded_path(name: &str, dynamic_library_path: &str) -> Option<PathBuf> {
    LOADED_BY_NAME
        .lock()
        .iter()
        .find(|b| b.name == name && b.dynamic_library_path == dynamic_library_path)
        .map(|b| b.path.clone())
}

fn load_path(name: &str, dynamic_library_path: &str) -> Result<(usize, PathBuf), LoadError> {
    let path = resolve(name, dynamic_library_path)?;
    let canonical = std::fs::canonicalize(&path).unwrap_or(path.clone());
    if let Some(l) = LOADED.lock().iter().find(|l| l.path == canonical) {
        return Ok((l.handle, path));
    }
    // SAFETY: opening a shared library runs its constructors; that is what loading a module means.
    let lib = unsafe { Library::open(Some(&canonical), RTLD_NOW | RTLD_GLOBAL) }
        .map_err(|e| format!("could not load library \"{}\": {e}", canonical.display()))?;
    let handle = lib.into_raw() as usize;
    if let Err(e) = check_magic(handle, &canonical) {
        // SAFETY: the handle came from dlopen above and nothing else uses it.
        unsafe { libc::dlclose(handle as *mut c_void) };
        return Err(e.into());
    }
    LOADED.lock().push(Loaded {
        path: canonical,
        handle,
    });
    if let Some(init) = symbol(handle, b"_PG_init") {
        let hooks_before = crate::server_symbols::uncalled_hooks_set();
        // SAFETY: `_PG_init` takes no arguments and returns nothing (fmgr.h).
        let init: unsafe extern "C" fn() = unsafe { std::mem::transmute(init) };
        // SAFETY: calling the module's initialiser, as PostgreSQL does.
        unsafe { init() };
        crate::server_symbols::report_new_hooks(&path, &hooks_before);
    }
    Ok((handle, path))
}

/// Looks a symbol up in every loaded module, so a spare has the dynamic linker's lookup code
/// and the modules' symbol tables mapped before its entry function is looked up for real.
pub fn warm_up() {
    for l in LOADED.lock().iter() {
        std::hint::black_box(symbol(l.handle, b"Pg_magic_func"));
    }
}

/// Looks a symbol up in a loaded library. Names are entry points and module hooks, at most
/// `BGW_MAXLEN` bytes, so no allocation is needed for the C string.
pub fn symbol(handle: usize, name: &[u8]) -> Option<*mut c_void> {
    let mut cname = [0u8; BGW_MAXLEN + 1];
    if name.len() > BGW_MAXLEN || name.contains(&0) {
        return None;
    }
    cname[..name.len()].copy_from_slice(name);
    // SAFETY: handle is a live dlopen handle; cname is NUL-terminated.
    let p = unsafe { libc::dlsym(handle as *mut c_void, cname.as_ptr().cast()) };
    (!p.is_null()).then_some(p)
}

/// Checks the module's magic block: modules built against our headers or PostgreSQL 15's load;
/// anything else is refused with the difference named.
fn check_magic(handle: usize, path: &Path) -> Result<(), String> {
    let name = path.display();
    let Some(func) = symbol(handle, b"Pg_magic_func") else {
        return Err(format!(
            "incompatible library \"{name}\": missing magic block (modules need PG_MODULE_MAGIC)"
        ));
    };
    // SAFETY: Pg_magic_func returns a pointer to a static magic block (fmgr.h).
    let magic = unsafe {
        let f: unsafe extern "C" fn() -> *const Pg_magic_struct = std::mem::transmute(func);
        f()
    };
    // SAFETY: the block's first field is its length; read it before trusting the rest.
    let len = unsafe { magic.as_ref() }.map_or(0, |m| m.len);
    if len != std::mem::size_of::<Pg_magic_struct>() as i32 {
        return Err(format!(
            "incompatible library \"{name}\": magic block mismatch"
        ));
    }
    // SAFETY: the block is 56 bytes, as checked.
    let m = unsafe { *magic };
    if m.version != PG_VERSION_NUM / 100 {
        // Versions are major*100 (as PG_MODULE_MAGIC stores them); PostgreSQL < 10 used x.y.
        let library = if m.version >= 1000 {
            (m.version / 100).to_string()
        } else {
            format!("{}.{}", m.version / 100, m.version % 100)
        };
        return Err(format!(
            "incompatible library \"{name}\": version mismatch (server is version {PG_MAJORVERSION_NUM}, library is version {library})"
        ));
    }
    let extra = crate::registry::field_bytes(&m.abi_extra);
    if extra != BGW_MAGIC_ABI_EXTRA.as_bytes() && extra != PG_MAGIC_ABI_EXTRA.as_bytes() {
        return Err(format!(
            "incompatible library \"{name}\": ABI mismatch: server has ABI \"{BGW_MAGIC_ABI_EXTRA}\" or \"{PG_MAGIC_ABI_EXTRA}\", library has \"{}\"",
            String::from_utf8_lossy(extra)
        ));
    }
    let mut mismatched = Vec::new();
    if m.funcmaxargs != FUNC_MAX_ARGS {
        mismatched.push(format!(
            "FUNC_MAX_ARGS is {}, expected {FUNC_MAX_ARGS}",
            m.funcmaxargs
        ));
    }
    if m.indexmaxkeys != INDEX_MAX_KEYS {
        mismatched.push(format!(
            "INDEX_MAX_KEYS is {}, expected {INDEX_MAX_KEYS}",
            m.indexmaxkeys
        ));
    }
    if m.namedatalen != NAMEDATALEN {
        mismatched.push(format!(
            "NAMEDATALEN is {}, expected {NAMEDATALEN}",
            m.namedatalen
        ));
    }
    if m.float8byval != FLOAT8PASSBYVAL {
        mismatched.push(format!(
            "FLOAT8PASSBYVAL is {}, expected {FLOAT8PASSBYVAL}",
            m.float8byval
        ));
    }
    if !mismatched.is_empty() {
        return Err(format!(
            "incompatible library \"{name}\": magic block mismatch: {}",
            mismatched.join(", ")
        ));
    }
    Ok(())
}
