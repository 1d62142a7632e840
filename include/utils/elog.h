/*
 * utils/elog.h -- error reporting: elog(), ereport(), the err*() helpers and PG_TRY blocks.
 *
 * The macros expand the way PostgreSQL 15's do, so a module references the same functions
 * (errstart/errstart_cold, err*, errfinish, pg_re_throw); those live in the library's C shim.
 * Message levels (DEBUG5 .. PANIC) come from bgworker.h.
 */
#include "postgres.h"

#ifndef BGW_COMPAT_UTILS_ELOG_H
#define BGW_COMPAT_UTILS_ELOG_H

/* ---- SQLSTATE codes ------------------------------------------------------------------------------ */

/* Five SQLSTATE characters packed six bits each, first character in the low bits. */
#define PGSIXBIT(ch) (((ch) - '0') & 0x3F)
#define PGUNSIXBIT(val) (((val) & 0x3F) + '0')
#define MAKE_SQLSTATE(ch1, ch2, ch3, ch4, ch5) \
	(PGSIXBIT(ch1) + (PGSIXBIT(ch2) << 6) + (PGSIXBIT(ch3) << 12) + \
	 (PGSIXBIT(ch4) << 18) + (PGSIXBIT(ch5) << 24))

/* A few common codes (the full SQLSTATE table is not provided). */
#define ERRCODE_SUCCESSFUL_COMPLETION MAKE_SQLSTATE('0', '0', '0', '0', '0')
#define ERRCODE_WARNING MAKE_SQLSTATE('0', '1', '0', '0', '0')
#define ERRCODE_FEATURE_NOT_SUPPORTED MAKE_SQLSTATE('0', 'A', '0', '0', '0')
#define ERRCODE_INVALID_PARAMETER_VALUE MAKE_SQLSTATE('2', '2', '0', '2', '3')
#define ERRCODE_INVALID_TEXT_REPRESENTATION MAKE_SQLSTATE('2', '2', 'P', '0', '2')
#define ERRCODE_SYNTAX_ERROR MAKE_SQLSTATE('4', '2', '6', '0', '1')
#define ERRCODE_UNDEFINED_FUNCTION MAKE_SQLSTATE('4', '2', '8', '8', '3')
#define ERRCODE_UNDEFINED_OBJECT MAKE_SQLSTATE('4', '2', '7', '0', '4')
#define ERRCODE_INSUFFICIENT_RESOURCES MAKE_SQLSTATE('5', '3', '0', '0', '0')
#define ERRCODE_OUT_OF_MEMORY MAKE_SQLSTATE('5', '3', '2', '0', '0')
#define ERRCODE_CONFIGURATION_LIMIT_EXCEEDED MAKE_SQLSTATE('5', '3', '4', '0', '0')
#define ERRCODE_PROGRAM_LIMIT_EXCEEDED MAKE_SQLSTATE('5', '4', '0', '0', '0')
#define ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE MAKE_SQLSTATE('5', '5', '0', '0', '0')
#define ERRCODE_QUERY_CANCELED MAKE_SQLSTATE('5', '7', '0', '1', '4')
#define ERRCODE_ADMIN_SHUTDOWN MAKE_SQLSTATE('5', '7', 'P', '0', '1')
#define ERRCODE_CRASH_SHUTDOWN MAKE_SQLSTATE('5', '7', 'P', '0', '2')
#define ERRCODE_UNDEFINED_FILE MAKE_SQLSTATE('5', '8', 'P', '0', '1')
#define ERRCODE_INTERNAL_ERROR MAKE_SQLSTATE('X', 'X', '0', '0', '0')
#define ERRCODE_DATA_CORRUPTED MAKE_SQLSTATE('X', 'X', '0', '0', '1')

/* ---- the err*() helpers (C shim) ---------------------------------------------------------------- */

/* One frame of the error-context stack; callbacks add CONTEXT lines to a report. */
typedef struct ErrorContextCallback
{
	struct ErrorContextCallback *previous;
	void (*callback)(void *arg);
	void *arg;
} ErrorContextCallback;

BGW_EXTERN_C_BEGIN

extern bool errstart(int elevel, const char *domain);
extern bool errstart_cold(int elevel, const char *domain) pg_attribute_cold;
extern void errfinish(const char *filename, int lineno, const char *funcname);

extern int errcode(int sqlerrcode);
extern int errcode_for_file_access(void);
extern int errmsg(const char *fmt, ...) pg_attribute_printf(1, 2);
extern int errmsg_internal(const char *fmt, ...) pg_attribute_printf(1, 2);
extern int errdetail(const char *fmt, ...) pg_attribute_printf(1, 2);
extern int errdetail_internal(const char *fmt, ...) pg_attribute_printf(1, 2);
extern int errdetail_log(const char *fmt, ...) pg_attribute_printf(1, 2);
extern int errhint(const char *fmt, ...) pg_attribute_printf(1, 2);
extern int errcontext_msg(const char *fmt, ...) pg_attribute_printf(1, 2);
extern int set_errcontext_domain(const char *domain);

extern int errcode_for_socket_access(void);
extern int errmsg_plural(const char *fmt_singular, const char *fmt_plural, unsigned long n, ...)
	pg_attribute_printf(1, 4) pg_attribute_printf(2, 4);
extern int errdetail_plural(const char *fmt_singular, const char *fmt_plural, unsigned long n, ...)
	pg_attribute_printf(1, 4) pg_attribute_printf(2, 4);
extern int errdetail_log_plural(const char *fmt_singular, const char *fmt_plural,
								unsigned long n, ...)
	pg_attribute_printf(1, 4) pg_attribute_printf(2, 4);
extern int errhint_plural(const char *fmt_singular, const char *fmt_plural, unsigned long n, ...)
	pg_attribute_printf(1, 4) pg_attribute_printf(2, 4);
extern int errhidestmt(bool hide_stmt);
extern int errhidecontext(bool hide_ctx);
extern int errbacktrace(void);
extern int errposition(int cursorpos);
extern int internalerrposition(int cursorpos);
extern int internalerrquery(const char *query);
extern int geterrcode(void);
extern int geterrposition(void);
extern int getinternalerrposition(void);
extern bool message_level_is_interesting(int elevel);
extern bool in_error_recursion_trouble(void);
extern char *unpack_sql_state(int sql_state);

/* Inside PG_CATCH: report, copy, forget or rethrow the error being handled. */
extern void EmitErrorReport(void);
extern ErrorData *CopyErrorData(void);
extern void FreeErrorData(ErrorData *edata);
extern void FlushErrorState(void);
extern void ReThrowError(ErrorData *edata) pg_attribute_noreturn();
extern void ThrowErrorData(ErrorData *edata);
extern void pg_re_throw(void) pg_attribute_noreturn();

/* Formatting outside a report (what GUC_check_errdetail() and friends use). */
extern void pre_format_elog_string(int errnumber, const char *domain);
extern char *format_elog_string(const char *fmt, ...) pg_attribute_printf(1, 2);

/* Innermost PG_TRY's jump buffer (NULL outside any) and the error-context stack. */
extern PGDLLIMPORT sigjmp_buf *PG_exception_stack;
extern PGDLLIMPORT ErrorContextCallback *error_context_stack;

BGW_EXTERN_C_END

/* ---- ereport() and elog() ------------------------------------------------------------------------- */

/* Message-catalog domain of the module; modules may define their own before this header. */
#ifndef TEXTDOMAIN
#define TEXTDOMAIN NULL
#endif

/*
 * True when `elevel` is known at compile time to be ERROR or worse: such a report never returns,
 * so the call goes to errstart_cold and the code after it is marked unreachable.
 */
#if defined(__GNUC__)
#define BGW_ELEVEL_IS_CONST_ERROR(elevel) (__builtin_constant_p(elevel) && (elevel) >= ERROR)
#else
#define BGW_ELEVEL_IS_CONST_ERROR(elevel) 0
#endif

/*
 * ereport_domain(elevel, domain, errcode(...), errmsg(...), ...): when the level is to be
 * reported, evaluates the err*() arguments in order and then errfinish(); the arguments are not
 * evaluated at all for a suppressed level.
 */
#define ereport_domain(elevel, domain, ...) \
	do { \
		if (BGW_ELEVEL_IS_CONST_ERROR(elevel) ? errstart_cold(elevel, domain) \
											   : errstart(elevel, domain)) \
			__VA_ARGS__, errfinish(__FILE__, __LINE__, __func__); \
		if (BGW_ELEVEL_IS_CONST_ERROR(elevel)) \
			pg_unreachable(); \
	} while (0)

#define ereport(elevel, ...) ereport_domain(elevel, TEXTDOMAIN, __VA_ARGS__)

/* elog(elevel, fmt, ...): an untranslated report with just a message. */
#define elog(elevel, ...) ereport(elevel, errmsg_internal(__VA_ARGS__))

/* errcontext("fmt", ...) inside a context callback. */
#define errcontext set_errcontext_domain(TEXTDOMAIN), errcontext_msg

/* ---- PG_TRY ------------------------------------------------------------------------------------ */

/*
 * PG_TRY(); { ... } PG_CATCH(); { ... } PG_END_TRY();   (or PG_FINALLY() instead of PG_CATCH())
 *
 * PG_TRY pushes a jump buffer on PG_exception_stack; an ERROR raised inside jumps back here with
 * the previous exception stack and error-context stack restored before the CATCH/FINALLY block
 * runs.  After FINALLY the error is thrown on; a CATCH block may re-throw with PG_RE_THROW().
 * Variables changed inside the TRY block and read after an error must be volatile.
 */
#define PG_TRY() \
	do { \
		sigjmp_buf *bgw_try_saved_exception_stack = PG_exception_stack; \
		ErrorContextCallback *bgw_try_saved_context_stack = error_context_stack; \
		sigjmp_buf bgw_try_jmp_buf; \
		volatile bool bgw_try_rethrow = false; \
		if (sigsetjmp(bgw_try_jmp_buf, 0) == 0) \
		{ \
			PG_exception_stack = &bgw_try_jmp_buf

#define PG_CATCH() \
		} \
		else \
		{ \
			PG_exception_stack = bgw_try_saved_exception_stack; \
			error_context_stack = bgw_try_saved_context_stack

#define PG_FINALLY() \
		} \
		else \
			bgw_try_rethrow = true; \
		{ \
			PG_exception_stack = bgw_try_saved_exception_stack; \
			error_context_stack = bgw_try_saved_context_stack

#define PG_END_TRY() \
		} \
		if (bgw_try_rethrow) \
			PG_RE_THROW(); \
		PG_exception_stack = bgw_try_saved_exception_stack; \
		error_context_stack = bgw_try_saved_context_stack; \
	} while (0)

#define PG_RE_THROW() pg_re_throw()

#endif /* BGW_COMPAT_UTILS_ELOG_H */
