/*
 * variadic.c -- the entry points Rust cannot define: variadic functions (errmsg, pg_snprintf, ...)
 * and the error machinery that longjmps (errfinish, pg_re_throw, ProcessInterrupts). Keeping every
 * longjmp in C means none ever crosses a Rust frame. Each bgw_c_X is exported as X by a Rust
 * trampoline (src/abi/c_shim.rs).
 *
 * Reports are built in PostgreSQL's ErrorData (its layout, from bgworker.h) on a small stack, as
 * PostgreSQL does: errstart pushes, the err* helpers fill, errfinish emits and pops, or for an
 * ERROR jumps to the innermost PG_TRY, where CopyErrorData/FlushErrorState take over.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bgworker.h"

/* Defined on the Rust side; declared here as PostgreSQL's headers declare them. */
extern sigjmp_buf *PG_exception_stack;
extern void *error_context_stack;
extern volatile int InterruptPending;
extern volatile int ProcDiePending;
extern volatile int QueryCancelPending;
extern volatile uint32_t InterruptHoldoffCount;
extern volatile uint32_t QueryCancelHoldoffCount;
extern volatile uint32_t CritSectionCount;
extern void bgw_log_emit(const ErrorData *edata);
extern bool bgw_log_enabled(int elevel);
extern void bgw_note_exit_report(int elevel, const char *message);

#define SIXBIT(ch) (((ch) - '0') & 0x3F)
#define SQLSTATE(a, b, c, d, e) \
	(SIXBIT(a) + (SIXBIT(b) << 6) + (SIXBIT(c) << 12) + (SIXBIT(d) << 18) + (SIXBIT(e) << 24))

typedef struct ContextCallback
{
	struct ContextCallback *previous;
	void		(*callback) (void *arg);
	void	   *arg;
} ContextCallback;

#define REPORT_STACK_SIZE 5
static ErrorData reports[REPORT_STACK_SIZE];
static int	depth = -1;
static int	recursion_depth = 0;

static void
fail_hard(const char *what)
{
	/* The error machinery itself is broken: say so with plain write(2) and crash. */
	(void) !write(2, what, strlen(what));
	abort();
}

static char *
format_va(const char *fmt, va_list args, int saved_errno)
{
	va_list		copy;
	int			n;
	char	   *buf;

	va_copy(copy, args);
	errno = saved_errno;		/* so %m names the error the caller saw */
	n = vsnprintf(NULL, 0, fmt, copy);
	va_end(copy);
	if (n < 0)
		return strdup("(unformattable message)");
	buf = malloc((size_t) n + 1);
	if (buf == NULL)
		fail_hard("out of memory while formatting a log message\n");
	errno = saved_errno;
	vsnprintf(buf, (size_t) n + 1, fmt, args);
	return buf;
}

/* Sets a field, or for CONTEXT appends a line, as PostgreSQL does. */
static void
set_text(char **field, char *text, bool append)
{
	size_t		old;
	char	   *joined;

	if (*field == NULL || !append)
	{
		free(*field);
		*field = text;
		return;
	}
	old = strlen(*field);
	joined = realloc(*field, old + 1 + strlen(text) + 1);
	if (joined == NULL)
		fail_hard("out of memory while formatting a log message\n");
	joined[old] = '\n';
	strcpy(joined + old + 1, text);
	free(text);
	*field = joined;
}

static void
clear(ErrorData *e)
{
	free(e->message);
	free(e->detail);
	free(e->detail_log);
	free(e->hint);
	free(e->context);
	free(e->internalquery);
	memset(e, 0, sizeof(*e));
}

static ErrorData *
current(void)
{
	if (depth < 0)
		fail_hard("errstart was not called\n");
	return &reports[depth];
}

bool
bgw_c_errstart(int elevel, const char *domain)
{
	ErrorData  *e;
	bool		output_to_server;

	if (elevel >= ERROR)
	{
		/* An error inside a critical section cannot be recovered from. */
		if (CritSectionCount > 0)
			elevel = PANIC;
		/* The supervisor has no top-level handler: an uncaught ERROR there is FATAL. */
		if (elevel == ERROR && PG_exception_stack == NULL && !IsUnderPostmaster)
			elevel = FATAL;
	}
	output_to_server = bgw_log_enabled(elevel);
	if (elevel < ERROR && !output_to_server)
		return false;
	if (depth >= REPORT_STACK_SIZE - 1)
	{
		/* Probably an error while reporting an error: drop everything and say so. */
		depth = -1;
		fail_hard("PANIC:  ERRORDATA_STACK_SIZE exceeded\n");
	}
	recursion_depth++;
	e = &reports[++depth];
	memset(e, 0, sizeof(*e));
	e->elevel = elevel;
	e->output_to_server = output_to_server;
	e->domain = domain;
	e->context_domain = domain;
	e->saved_errno = errno;
	if (elevel >= ERROR)
		e->sqlerrcode = SQLSTATE('X', 'X', '0', '0', '0');
	else if (elevel >= WARNING)
		e->sqlerrcode = SQLSTATE('0', '1', '0', '0', '0');
	else
		e->sqlerrcode = SQLSTATE('0', '0', '0', '0', '0');
	return true;
}

bool
bgw_c_errstart_cold(int elevel, const char *domain)
{
	return bgw_c_errstart(elevel, domain);
}

/*
 * Writes a finished report. emit_log_hook (a global of bgworker.h) sees it first, as in
 * PostgreSQL's EmitErrorReport, and may set output_to_server to false to drop it.
 */
static void
emit(ErrorData *e)
{
	static bool in_hook = false;

	if (e->output_to_server && emit_log_hook != NULL && !in_hook)
	{
		in_hook = true;
		emit_log_hook(e);
		in_hook = false;
	}
	if (!e->output_to_server)
		return;
	bgw_log_emit(e);
}

void		bgw_c_ProcessInterrupts(void);
void		bgw_c_pg_re_throw(void) __attribute__((noreturn));

void
bgw_c_errfinish(const char *filename, int lineno, const char *funcname)
{
	ErrorData  *e = current();
	ContextCallback *cb;
	int			elevel = e->elevel;
	int			saved_errno = e->saved_errno;

	e->filename = filename;
	e->lineno = lineno;
	e->funcname = funcname;

	/* Let the module's context callbacks add their CONTEXT lines. */
	for (cb = (ContextCallback *) error_context_stack; cb != NULL; cb = cb->previous)
		cb->callback(cb->arg);

	if (elevel == ERROR)
	{
		/* PostgreSQL resets these before unwinding to the handler. */
		InterruptHoldoffCount = 0;
		QueryCancelHoldoffCount = 0;
		CritSectionCount = 0;
		recursion_depth--;
		bgw_c_pg_re_throw();
	}

	if (elevel == FATAL)
		bgw_note_exit_report(elevel, e->message);
	emit(e);
	clear(e);
	depth--;
	recursion_depth--;

	if (elevel == FATAL)
	{
		depth = -1;
		proc_exit(1);
	}
	if (elevel >= PANIC)
		abort();
	errno = saved_errno;
	/* As PostgreSQL: a flood of messages can still be interrupted. */
	if (InterruptPending)
		bgw_c_ProcessInterrupts();
}

void
bgw_c_pg_re_throw(void)
{
	if (PG_exception_stack != NULL)
		siglongjmp(*PG_exception_stack, 1);
	/* No handler: report the error and end the process, like a worker's top level does. */
	if (depth >= 0)
	{
		bgw_note_exit_report(reports[depth].elevel, reports[depth].message);
		emit(&reports[depth]);
	}
	depth = -1;
	proc_exit(1);
}

int
bgw_c_errcode(int sqlerrcode)
{
	current()->sqlerrcode = sqlerrcode;
	return 0;
}

int
bgw_c_errcode_for_file_access(void)
{
	ErrorData  *e = current();

	switch (e->saved_errno)
	{
		case EPERM:
		case EACCES:
		case EROFS:
			e->sqlerrcode = SQLSTATE('4', '2', '5', '0', '1');
			break;
		case ENOENT:
			e->sqlerrcode = SQLSTATE('5', '8', 'P', '0', '1');
			break;
		case EEXIST:
			e->sqlerrcode = SQLSTATE('5', '8', 'P', '0', '2');
			break;
		case ENOTDIR:
		case EISDIR:
		case ENOTEMPTY:
			e->sqlerrcode = SQLSTATE('4', '2', '8', '0', '9');	/* wrong_object_type */
			break;
		case ENOSPC:
			e->sqlerrcode = SQLSTATE('5', '3', '1', '0', '0');
			break;
		case ENOMEM:
			e->sqlerrcode = SQLSTATE('5', '3', '2', '0', '0');
			break;
		case ENFILE:
		case EMFILE:
			e->sqlerrcode = SQLSTATE('5', '3', '0', '0', '0');	/* insufficient_resources */
			break;
		case EIO:
			e->sqlerrcode = SQLSTATE('5', '8', '0', '3', '0');	/* io_error */
			break;
		default:
			e->sqlerrcode = SQLSTATE('X', 'X', '0', '0', '0');
			break;
	}
	return 0;
}

int
bgw_c_errcode_for_socket_access(void)
{
	ErrorData  *e = current();

	switch (e->saved_errno)
	{
		case EPIPE:
		case ECONNRESET:
			e->sqlerrcode = SQLSTATE('0', '8', '0', '0', '6');
			break;
		default:
			e->sqlerrcode = SQLSTATE('X', 'X', '0', '0', '0');
			break;
	}
	return 0;
}

#define FIELD_SETTER(name, field, append) \
int \
name(const char *fmt, ...) \
{ \
	ErrorData  *e = current(); \
	va_list		args; \
	va_start(args, fmt); \
	set_text(&e->field, format_va(fmt, args, e->saved_errno), append); \
	va_end(args); \
	return 0; \
}

FIELD_SETTER(bgw_c_errmsg, message, false)
FIELD_SETTER(bgw_c_errmsg_internal, message, false)
FIELD_SETTER(bgw_c_errdetail, detail, false)
FIELD_SETTER(bgw_c_errdetail_internal, detail, false)
FIELD_SETTER(bgw_c_errdetail_log, detail_log, false)
FIELD_SETTER(bgw_c_errhint, hint, false)
FIELD_SETTER(bgw_c_errcontext_msg, context, true)

#define PLURAL_SETTER(name, field) \
int \
name(const char *fmt_singular, const char *fmt_plural, unsigned long n, ...) \
{ \
	ErrorData  *e = current(); \
	va_list		args; \
	va_start(args, n); \
	set_text(&e->field, format_va(n == 1 ? fmt_singular : fmt_plural, args, e->saved_errno), false); \
	va_end(args); \
	return 0; \
}

PLURAL_SETTER(bgw_c_errmsg_plural, message)
PLURAL_SETTER(bgw_c_errdetail_plural, detail)
PLURAL_SETTER(bgw_c_errdetail_log_plural, detail_log)
PLURAL_SETTER(bgw_c_errhint_plural, hint)

int
bgw_c_set_errcontext_domain(const char *domain)
{
	if (depth >= 0)
		current()->context_domain = domain;
	return 0;
}

int
bgw_c_errhidestmt(bool hide_stmt)
{
	current()->hide_stmt = hide_stmt;
	return 0;
}

int
bgw_c_errhidecontext(bool hide_ctx)
{
	current()->hide_ctx = hide_ctx;
	return 0;
}

int
bgw_c_errbacktrace(void)
{
	return 0;
}

int
bgw_c_errposition(int cursorpos)
{
	current()->cursorpos = cursorpos;
	return 0;
}

int
bgw_c_internalerrposition(int cursorpos)
{
	current()->internalpos = cursorpos;
	return 0;
}

int
bgw_c_internalerrquery(const char *query)
{
	ErrorData  *e = current();

	free(e->internalquery);
	e->internalquery = query ? strdup(query) : NULL;
	return 0;
}

int
bgw_c_geterrcode(void)
{
	return current()->sqlerrcode;
}

/* unpack_sql_state: the five characters of a MAKE_SQLSTATE code, in a static buffer. */
char *
bgw_c_unpack_sql_state(int sql_state)
{
	static char buf[12];
	int			i;

	for (i = 0; i < 5; i++)
	{
		buf[i] = (char) ((sql_state & 0x3F) + '0');
		sql_state >>= 6;
	}
	buf[i] = '\0';
	return buf;
}

int
bgw_c_geterrposition(void)
{
	return current()->cursorpos;
}

int
bgw_c_getinternalerrposition(void)
{
	return current()->internalpos;
}

bool
bgw_c_message_level_is_interesting(int elevel)
{
	return elevel >= ERROR || bgw_log_enabled(elevel);
}

bool
bgw_c_in_error_recursion_trouble(void)
{
	return recursion_depth > 2;
}

/* Writes the error at the top of the stack to the log (inside a PG_CATCH block). */
void
bgw_c_EmitErrorReport(void)
{
	if (depth < 0)
		return;
	emit(current());
}

static char *
pcopy(const char *s)
{
	return s ? pstrdup(s) : NULL;
}

/* A palloc'd copy of the error being handled. */
ErrorData *
bgw_c_CopyErrorData(void)
{
	ErrorData  *src = current();
	ErrorData  *copy = palloc(sizeof(ErrorData));

	*copy = *src;
	copy->message = pcopy(src->message);
	copy->detail = pcopy(src->detail);
	copy->detail_log = pcopy(src->detail_log);
	copy->hint = pcopy(src->hint);
	copy->context = pcopy(src->context);
	copy->backtrace = NULL;
	copy->schema_name = pcopy(src->schema_name);
	copy->table_name = pcopy(src->table_name);
	copy->column_name = pcopy(src->column_name);
	copy->datatype_name = pcopy(src->datatype_name);
	copy->constraint_name = pcopy(src->constraint_name);
	copy->internalquery = pcopy(src->internalquery);
	copy->assoc_context = NULL;
	return copy;
}

void
bgw_c_FreeErrorData(ErrorData *e)
{
	char	   *fields[] = {e->message, e->detail, e->detail_log, e->hint, e->context,
		e->schema_name, e->table_name, e->column_name, e->datatype_name, e->constraint_name,
	e->internalquery};

	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		if (fields[i])
			pfree(fields[i]);
	pfree(e);
}

/* Forgets the errors being handled (the end of a PG_CATCH that recovers). */
void
bgw_c_FlushErrorState(void)
{
	while (depth >= 0)
		clear(&reports[depth--]);
	recursion_depth = 0;
}

static char *
mcopy(const char *s)
{
	return s ? strdup(s) : NULL;
}

/* Pushes a report built from `edata` (its strings copied). */
static ErrorData *
push_copy(const ErrorData *edata)
{
	ErrorData  *e;

	if (depth >= REPORT_STACK_SIZE - 1)
		fail_hard("PANIC:  ERRORDATA_STACK_SIZE exceeded\n");
	recursion_depth++;
	e = &reports[++depth];
	*e = *edata;
	e->message = mcopy(edata->message);
	e->detail = mcopy(edata->detail);
	e->detail_log = mcopy(edata->detail_log);
	e->hint = mcopy(edata->hint);
	e->context = mcopy(edata->context);
	e->internalquery = mcopy(edata->internalquery);
	e->backtrace = NULL;
	e->schema_name = e->table_name = e->column_name = e->datatype_name = e->constraint_name = NULL;
	e->assoc_context = NULL;
	e->output_to_server = bgw_log_enabled(e->elevel);
	return e;
}

/* Throws a copied error again, as ERROR. */
void
bgw_c_ReThrowError(ErrorData *edata)
{
	ErrorData  *e = push_copy(edata);

	e->elevel = ERROR;
	e->output_to_server = true;
	recursion_depth--;
	bgw_c_pg_re_throw();
}

/* Reports a copied error at its own level. */
void
bgw_c_ThrowErrorData(ErrorData *edata)
{
	push_copy(edata);
	bgw_c_errfinish(edata->filename, edata->lineno, edata->funcname);
}

/*
 * What CHECK_FOR_INTERRUPTS() calls when InterruptPending is set: a pending die ends the worker
 * (FATAL), a pending cancel raises ERROR; nothing happens while interrupts are held.
 */
void
bgw_c_ProcessInterrupts(void)
{
	if (InterruptHoldoffCount != 0 || CritSectionCount != 0)
		return;
	InterruptPending = false;
	if (ProcDiePending)
	{
		ProcDiePending = false;
		QueryCancelPending = false;
		if (bgw_c_errstart(FATAL, NULL))
		{
			bgw_c_errcode(SQLSTATE('5', '7', 'P', '0', '1'));
			if (IsBackgroundWorker && MyBgworkerEntry != NULL)
				bgw_c_errmsg("terminating background worker \"%s\" due to administrator command",
							 MyBgworkerEntry->bgw_type);
			else
				bgw_c_errmsg("terminating connection due to administrator command");
			bgw_c_errfinish(__FILE__, __LINE__, __func__);
		}
		proc_exit(1);
	}
	if (QueryCancelPending && QueryCancelHoldoffCount != 0)
	{
		/* Cancel is held off: look again once it is allowed. */
		InterruptPending = true;
	}
	else if (QueryCancelPending)
	{
		QueryCancelPending = false;
		if (bgw_c_errstart(ERROR, NULL))
		{
			bgw_c_errcode(SQLSTATE('5', '7', '0', '1', '4'));
			bgw_c_errmsg("canceling statement due to user request");
			bgw_c_errfinish(__FILE__, __LINE__, __func__);
		}
	}
}

/*
 * What PostgreSQL's GUC_check_errdetail() and friends expand to: remember errno, then format a
 * message outside any report. The string is malloc'd; the settings code frees it.
 */
static int	preformat_errno;

void
bgw_c_pre_format_elog_string(int errnumber, const char *domain)
{
	(void) domain;
	preformat_errno = errnumber;
}

char *
bgw_c_format_elog_string(const char *fmt, ...)
{
	va_list		args;
	char	   *text;

	va_start(args, fmt);
	text = format_va(fmt, args, preformat_errno);
	va_end(args);
	return text;
}

/*
 * Every server function libbgworker does not implement lands here (the stubs of
 * libbgworker_compat.so): ERROR feature_not_supported naming the function, the module that
 * called it (the object holding the return address), and the tool that lists them all. In the
 * supervisor, with no handler, it is FATAL like any other error there.
 */
void
bgw_c_unsupported_function(const char *name, void *caller)
{
	Dl_info		info;
	const char *module = NULL;

	if (caller != NULL && dladdr(caller, &info) != 0 && info.dli_fname != NULL &&
		info.dli_fname[0] != '\0')
		module = info.dli_fname;
	if (bgw_c_errstart(ERROR, NULL))
	{
		bgw_c_errcode(SQLSTATE('0', 'A', '0', '0', '0'));
		bgw_c_errmsg("function \"%s\" is not supported by bgworkerd", name);
		if (module != NULL)
		{
			bgw_c_errdetail("It was called by the library \"%s\".", module);
			bgw_c_errhint("\"bgworkerctl check %s\" lists every server function the library "
						  "references that bgworkerd does not implement.", module);
		}
		else
			bgw_c_errhint("\"bgworkerctl check MODULE.so\" lists every server function a module "
						  "references that bgworkerd does not implement.");
		bgw_c_errfinish(__FILE__, __LINE__, __func__);
	}
	abort();					/* an ERROR does not come back */
}

/* Rust raises ERROR/FATAL through here so the longjmp starts in a C frame. */
void
bgw_c_report(int elevel, int sqlerrcode, const char *message)
{
	if (bgw_c_errstart(elevel, NULL))
	{
		if (sqlerrcode != 0)
			bgw_c_errcode(sqlerrcode);
		bgw_c_errmsg_internal("%s", message);
		bgw_c_errfinish(NULL, 0, NULL);
	}
}

/* As bgw_c_report, with an optional DETAIL and HINT (NULL for none). */
void
bgw_c_report_detail(int elevel, int sqlerrcode, const char *message, const char *detail,
					const char *hint)
{
	if (bgw_c_errstart(elevel, NULL))
	{
		if (sqlerrcode != 0)
			bgw_c_errcode(sqlerrcode);
		bgw_c_errmsg_internal("%s", message);
		if (detail != NULL)
			bgw_c_errdetail_internal("%s", detail);
		if (hint != NULL)
			bgw_c_errhint("%s", hint);
		bgw_c_errfinish(NULL, 0, NULL);
	}
}

/* As bgw_c_report, for a failed file operation: "<message>: %m" with errcode_for_file_access. */
void
bgw_c_report_file_access(int elevel, int saved_errno, const char *message)
{
	errno = saved_errno;
	if (bgw_c_errstart(elevel, NULL))
	{
		bgw_c_errcode_for_file_access();
		bgw_c_errmsg_internal("%s: %m", message);
		bgw_c_errfinish(NULL, 0, NULL);
	}
}

/* PostgreSQL's headers route the printf family here; glibc's printf already knows %m. */
int
bgw_c_pg_vsnprintf(char *str, size_t count, const char *fmt, va_list args)
{
	return vsnprintf(str, count, fmt, args);
}

int
bgw_c_pg_snprintf(char *str, size_t count, const char *fmt, ...)
{
	va_list		args;
	int			n;

	va_start(args, fmt);
	n = vsnprintf(str, count, fmt, args);
	va_end(args);
	return n;
}

int
bgw_c_pg_sprintf(char *str, const char *fmt, ...)
{
	va_list		args;
	int			n;

	va_start(args, fmt);
	n = vsprintf(str, fmt, args);
	va_end(args);
	return n;
}

int
bgw_c_pg_vsprintf(char *str, const char *fmt, va_list args)
{
	return vsprintf(str, fmt, args);
}

int
bgw_c_pg_fprintf(FILE *stream, const char *fmt, ...)
{
	va_list		args;
	int			n;

	va_start(args, fmt);
	n = vfprintf(stream, fmt, args);
	va_end(args);
	return n;
}

int
bgw_c_pg_vfprintf(FILE *stream, const char *fmt, va_list args)
{
	return vfprintf(stream, fmt, args);
}

int
bgw_c_pg_printf(const char *fmt, ...)
{
	va_list		args;
	int			n;

	va_start(args, fmt);
	n = vprintf(fmt, args);
	va_end(args);
	return n;
}

int
bgw_c_pg_vprintf(const char *fmt, va_list args)
{
	return vprintf(fmt, args);
}

void
bgw_c_pg_qsort(void *base, size_t nel, size_t elsize, int (*cmp) (const void *, const void *))
{
	qsort(base, nel, elsize, cmp);
}

char *
bgw_c_pg_strerror(int errnum)
{
	return strerror(errnum);
}

char *
bgw_c_pg_strerror_r(int errnum, char *buf, size_t buflen)
{
	return strerror_r(errnum, buf, buflen);
}
