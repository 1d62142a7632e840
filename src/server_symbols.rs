//! PostgreSQL 15's whole server symbol surface in the supervisor and its workers. The supervisor
//! loads `libbgworker_compat.so` (built from `server-symbols/`) globally, after libbgworker.so,
//! so every name the server exports resolves for the modules it loads, while each name
//! libbgworker.so implements keeps binding here. Programs that merely link libbgworker.so never
//! see those ten thousand names.

use crate::pg::types::{DEBUG1, LOG};
use libc::{c_char, c_void};
use std::ffi::{CStr, CString};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

/// The compat library's file name, beside libbgworker.so.
pub const COMPAT_FILE: &str = env!("BGW_COMPAT_FILE");

/// The compat library's `dlopen` handle and load address, once loaded.
static HANDLE: AtomicUsize = AtomicUsize::new(0);
static BASE: AtomicUsize = AtomicUsize::new(0);

/// `bgw_server_hooks` in the compat library: each hook it defines, by name.
#[repr(C)]
struct ServerHook {
    name: *const c_char,
    variable: *const *const c_void,
}

/// Where the compat library is looked for: beside libbgworker.so.
pub fn compat_path() -> PathBuf {
    crate::loader::library_dir().join(COMPAT_FILE)
}

/// Loads the compat library globally (the supervisor, before it loads any module). A second
/// call does nothing.
pub fn load() -> Result<(), String> {
    if HANDLE.load(Ordering::Acquire) != 0 {
        return Ok(());
    }
    let path = compat_path();
    let cpath = CString::new(path.as_os_str().as_encoded_bytes()).map_err(|e| e.to_string())?;
    // SAFETY: dlopen of a library of ours: it has no initialisers beyond the C runtime's.
    let handle = unsafe { libc::dlopen(cpath.as_ptr(), libc::RTLD_NOW | libc::RTLD_GLOBAL) };
    if handle.is_null() {
        // SAFETY: dlerror returns NULL or a string valid until the next dl* call.
        let why = unsafe { crate::pg::cstr(libc::dlerror()) }.unwrap_or(b"unknown error");
        return Err(format!(
            "could not load \"{}\": {}",
            path.display(),
            String::from_utf8_lossy(why)
        ));
    }
    let mut info = dl_info();
    // SAFETY: the handle is live; the name is NUL-terminated; info is a local to fill.
    unsafe {
        let table = libc::dlsym(handle, c"bgw_server_hooks".as_ptr());
        if !table.is_null() && libc::dladdr(table, &mut info) != 0 {
            BASE.store(info.dli_fbase as usize, Ordering::Release);
        }
    }
    HANDLE.store(handle as usize, Ordering::Release);
    Ok(())
}

fn dl_info() -> libc::Dl_info {
    libc::Dl_info {
        dli_fname: std::ptr::null(),
        dli_fbase: std::ptr::null_mut(),
        dli_sname: std::ptr::null(),
        dli_saddr: std::ptr::null_mut(),
    }
}

/// True when `name`, as modules resolve it, is one of the compat library's functions: a server
/// function bgworkerd does not implement.
fn unimplemented_function(name: &str) -> bool {
    let base = BASE.load(Ordering::Acquire);
    let Ok(cname) = CString::new(name) else {
        return false;
    };
    if base == 0 {
        return false;
    }
    const RTLD_DL_SYMENT: libc::c_int = 1;
    let mut info = dl_info();
    let mut sym: *mut c_void = std::ptr::null_mut();
    // SAFETY: dlsym/dladdr1 on a NUL-terminated name; `sym` receives a pointer to the
    // defining object's ElfW(Sym), read only while that object (never unloaded) is mapped.
    unsafe {
        let addr = libc::dlsym(libc::RTLD_DEFAULT, cname.as_ptr());
        if addr.is_null() || libc::dladdr1(addr, &mut info, &mut sym, RTLD_DL_SYMENT) == 0 {
            return false;
        }
        if info.dli_fbase as usize != base || sym.is_null() {
            return false;
        }
        let st_info = (*sym.cast::<libc::Elf64_Sym>()).st_info;
        st_info & 0xF == 2 // STT_FUNC
    }
}

/// The server functions the module at `path` references that bgworkerd does not implement.
pub fn unimplemented_functions(path: &Path) -> Vec<String> {
    let Ok(symbols) = crate::elf::dynamic_symbols(path) else {
        return Vec::new();
    };
    symbols
        .into_iter()
        .filter(|s| !s.defined && unimplemented_function(&s.name))
        .map(|s| s.name)
        .collect()
}

/// Logs (LOG) how many server functions a preloaded module references that bgworkerd does not
/// implement, naming the command that lists them.
pub fn report_unimplemented(library: &str, path: &Path) {
    let missing = unimplemented_functions(path);
    if missing.is_empty() {
        return;
    }
    crate::elog::log(
        LOG,
        format_args!(
            "library \"{library}\" references {} server function{} that bgworkerd does not implement (calling one raises an ERROR); \"bgworkerctl check {}\" lists them",
            missing.len(),
            if missing.len() == 1 { "" } else { "s" },
            path.display()
        ),
    );
}

/// The hooks set so far that bgworkerd never calls (those libbgworker.so does not define, so a
/// module setting one writes the compat library's variable).
pub fn uncalled_hooks_set() -> Vec<&'static str> {
    let handle = HANDLE.load(Ordering::Acquire);
    if handle == 0 {
        return Vec::new();
    }
    let mut set = Vec::new();
    // SAFETY: the table is the compat library's NULL-terminated array of {name, &variable}; the
    // library is never unloaded, so the names live for the process.
    unsafe {
        let mut hook = libc::dlsym(handle as *mut c_void, c"bgw_server_hooks".as_ptr())
            .cast::<ServerHook>()
            .cast_const();
        while !hook.is_null() && !(*hook).name.is_null() {
            if !(*(*hook).variable).is_null() {
                if let Ok(name) = CStr::from_ptr((*hook).name).to_str() {
                    set.push(name);
                }
            }
            hook = hook.add(1);
        }
    }
    set
}

/// After a library's `_PG_init`: one DEBUG1 line naming the hooks it set that bgworkerd never
/// calls (`before` is what was set before it ran).
pub fn report_new_hooks(library: &Path, before: &[&str]) {
    let new: Vec<&str> = uncalled_hooks_set()
        .into_iter()
        .filter(|h| !before.contains(h))
        .collect();
    if !new.is_empty() {
        crate::elog::log(
            DEBUG1,
            format_args!(
                "library \"{}\" set {} that bgworkerd never calls: {}",
                library.display(),
                if new.len() == 1 { "a hook" } else { "hooks" },
                new.join(", ")
            ),
        );
    }
}
