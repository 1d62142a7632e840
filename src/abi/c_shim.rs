//! Exports of the functions written in C (`variadic.c`: the variadic and longjmp-using entry
//! points). rustc hides symbols of linked C objects, so each is exported through a Rust
//! trampoline that jumps to the C body with every argument register untouched. Their policy is
//! `raises` (see `export!`): errors take PostgreSQL's error path from the C frames themselves.
/// cbindgen:ignore
macro_rules! c_exports {
    (raises: $($export:ident => $body:ident),* $(,)?) => {
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
    raises:
    errstart => bgw_c_errstart,
    errstart_cold => bgw_c_errstart_cold,
    errfinish => bgw_c_errfinish,
    errcode => bgw_c_errcode,
    errcode_for_file_access => bgw_c_errcode_for_file_access,
    errcode_for_socket_access => bgw_c_errcode_for_socket_access,
    errmsg => bgw_c_errmsg,
    errmsg_internal => bgw_c_errmsg_internal,
    errdetail => bgw_c_errdetail,
    errdetail_internal => bgw_c_errdetail_internal,
    errdetail_log => bgw_c_errdetail_log,
    errhint => bgw_c_errhint,
    errcontext_msg => bgw_c_errcontext_msg,
    errmsg_plural => bgw_c_errmsg_plural,
    errdetail_plural => bgw_c_errdetail_plural,
    errdetail_log_plural => bgw_c_errdetail_log_plural,
    errhint_plural => bgw_c_errhint_plural,
    set_errcontext_domain => bgw_c_set_errcontext_domain,
    errhidestmt => bgw_c_errhidestmt,
    errhidecontext => bgw_c_errhidecontext,
    errbacktrace => bgw_c_errbacktrace,
    errposition => bgw_c_errposition,
    internalerrposition => bgw_c_internalerrposition,
    internalerrquery => bgw_c_internalerrquery,
    geterrcode => bgw_c_geterrcode,
    unpack_sql_state => bgw_c_unpack_sql_state,
    geterrposition => bgw_c_geterrposition,
    getinternalerrposition => bgw_c_getinternalerrposition,
    message_level_is_interesting => bgw_c_message_level_is_interesting,
    in_error_recursion_trouble => bgw_c_in_error_recursion_trouble,
    EmitErrorReport => bgw_c_EmitErrorReport,
    CopyErrorData => bgw_c_CopyErrorData,
    FreeErrorData => bgw_c_FreeErrorData,
    FlushErrorState => bgw_c_FlushErrorState,
    ReThrowError => bgw_c_ReThrowError,
    ThrowErrorData => bgw_c_ThrowErrorData,
    ProcessInterrupts => bgw_c_ProcessInterrupts,
    pre_format_elog_string => bgw_c_pre_format_elog_string,
    format_elog_string => bgw_c_format_elog_string,
    pg_re_throw => bgw_c_pg_re_throw,
    pg_snprintf => bgw_c_pg_snprintf,
    pg_vsnprintf => bgw_c_pg_vsnprintf,
    pg_sprintf => bgw_c_pg_sprintf,
    pg_fprintf => bgw_c_pg_fprintf,
    pg_printf => bgw_c_pg_printf,
    psprintf => bgw_c_psprintf,
    pvsnprintf => bgw_c_pvsnprintf,
    appendStringInfo => bgw_c_appendStringInfo,
    appendStringInfoVA => bgw_c_appendStringInfoVA,
    pg_vsprintf => bgw_c_pg_vsprintf,
    pg_vfprintf => bgw_c_pg_vfprintf,
    pg_vprintf => bgw_c_pg_vprintf,
    pg_qsort => bgw_c_pg_qsort,
    pg_strerror => bgw_c_pg_strerror,
    pg_strerror_r => bgw_c_pg_strerror_r,
    bgw_unsupported_function => bgw_c_unsupported_function,
}
