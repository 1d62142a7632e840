//! Exports of the functions written in C (`variadic.c`: the variadic and longjmp-using entry
//! points). rustc hides symbols of linked C objects, so each is exported through a Rust
//! trampoline that jumps to the C body with every argument register untouched.
/// cbindgen:ignore
macro_rules! c_exports {
    ($($export:ident => $body:ident),* $(,)?) => {
        extern "C" { $(fn $body();)* }
        $(
            #[unsafe(naked)]
            #[no_mangle]
            pub extern "C" fn $export() {
                #[cfg(target_arch = "x86_64")]
                core::arch::naked_asm!("jmp {f}", f = sym $body);
                #[cfg(target_arch = "aarch64")]
                core::arch::naked_asm!("b {f}", f = sym $body);
            }
        )*
    };
}

c_exports! {
    errstart => bgw_c_errstart,
    errstart_cold => bgw_c_errstart_cold,
    errfinish => bgw_c_errfinish,
    errcode => bgw_c_errcode,
    errcode_for_file_access => bgw_c_errcode_for_file_access,
    errmsg => bgw_c_errmsg,
    errmsg_internal => bgw_c_errmsg_internal,
    errdetail => bgw_c_errdetail,
    errdetail_internal => bgw_c_errdetail_internal,
    errdetail_log => bgw_c_errdetail_log,
    errhint => bgw_c_errhint,
    errcontext_msg => bgw_c_errcontext_msg,
    set_errcontext_domain => bgw_c_set_errcontext_domain,
    pg_re_throw => bgw_c_pg_re_throw,
    pg_snprintf => bgw_c_pg_snprintf,
    pg_vsnprintf => bgw_c_pg_vsnprintf,
    pg_sprintf => bgw_c_pg_sprintf,
    pg_fprintf => bgw_c_pg_fprintf,
    pg_printf => bgw_c_pg_printf,
}

extern "C" {
    /// Raises an error of `elevel` from C (so a longjmp never starts in a Rust frame).
    pub fn bgw_c_report(elevel: libc::c_int, message: *const libc::c_char);
}

/// Reports `message` at `elevel` (ERROR or above) from a C frame, ending the process when no
/// handler catches it. Callers must own nothing that needs dropping: no unwinding happens.
pub fn raise(elevel: libc::c_int, message: &str) -> ! {
    let text = std::ffi::CString::new(message.replace('\0', " ")).unwrap_or_default();
    // SAFETY: text is a valid C string for the duration of the call.
    unsafe { bgw_c_report(elevel, text.as_ptr()) };
    crate::worker::exit::proc_exit(1)
}
