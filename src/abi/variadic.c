/*
 * variadic.c -- the entry points Rust cannot define: variadic functions (errmsg, pg_snprintf, ...)
 * and the error machinery that longjmps (errfinish, pg_re_throw). Keeping every longjmp in C
 * means none ever crosses a Rust frame. Each bgw_c_X is exported as X by a Rust trampoline.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* From the Rust side of the library. */
extern void *PG_exception_stack;
extern void *error_context_stack;
extern bool IsUnderPostmaster;
extern void proc_exit(int code) __attribute__((noreturn));
extern void bgw_log_emit(int elevel, const char *message, const char *detail, const char *hint,
						 const char *context);
extern bool bgw_log_enabled(int elevel);

#define LOG 15
#define ERROR 21
#define FATAL 22
#define PANIC 23

#define SIXBIT(ch) (((ch) - '0') & 0x3F)
#define SQLSTATE(a, b, c, d, e) \
	(SIXBIT(a) + (SIXBIT(b) << 6) + (SIXBIT(c) << 12) + (SIXBIT(d) << 18) + (SIXBIT(e) << 24))

typedef struct ContextCallback
{
	struct ContextCallback *previous;
	void		(*callback) (void *arg);
	void	   *arg;
} ContextCallback;

/* One report being built between errstart and errfinish. */
typedef struct Report
{
	int			elevel;
	int			sqlerrcode;
	int			saved_errno;
	char	   *message;
	char	   *detail;
	char	   *hint;
	char	   *context;
} Report;

#define REPORT_STACK_SIZE 5
static Report reports[REPORT_STACK_SIZE];
static int	depth = -1;

static void
fail_hard(const char *what)
{
	/* The error machinery itself is broken: say so with plain write(2) and crash. */
	(void) write(2, what, strlen(what));
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

static void
append(char **field, char *text)
{
	size_t		old;
	char	   *joined;

	if (*field == NULL)
	{
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
clear(Report *r)
{
	free(r->message);
	free(r->detail);
	free(r->hint);
	free(r->context);
	memset(r, 0, sizeof(*r));
}

static Report *
current(void)
{
	if (depth < 0)
		fail_hard("errstart was not called\n");
	return &reports[depth];
}

bool
bgw_c_errstart(int elevel, const char *domain)
{
	Report	   *r;

	(void) domain;
	if (elevel < ERROR && !bgw_log_enabled(elevel))
		return false;
	/* The supervisor has no top-level handler: an uncaught ERROR there is FATAL. */
	if (elevel == ERROR && PG_exception_stack == NULL && !IsUnderPostmaster)
		elevel = FATAL;
	if (depth >= REPORT_STACK_SIZE - 1)
		fail_hard("PANIC:  ERRORDATA_STACK_SIZE exceeded\n");
	r = &reports[++depth];
	memset(r, 0, sizeof(*r));
	r->elevel = elevel;
	r->saved_errno = errno;
	r->sqlerrcode = elevel >= ERROR ? SQLSTATE('X', 'X', '0', '0', '0') : SQLSTATE('0', '0', '0', '0', '0');
	return true;
}

bool
bgw_c_errstart_cold(int elevel, const char *domain)
{
	return bgw_c_errstart(elevel, domain);
}

static void
emit(Report *r)
{
	bgw_log_emit(r->elevel, r->message ? r->message : "missing error text", r->detail, r->hint,
				 r->context);
}

void
bgw_c_errfinish(const char *filename, int lineno, const char *funcname)
{
	Report	   *r = current();
	ContextCallback *cb;
	int			elevel = r->elevel;
	int			saved_errno = r->saved_errno;

	(void) filename;
	(void) lineno;
	(void) funcname;

	/* Let the module's context callbacks add their CONTEXT lines. */
	for (cb = (ContextCallback *) error_context_stack; cb != NULL; cb = cb->previous)
		cb->callback(cb->arg);

	if (elevel == ERROR && PG_exception_stack != NULL)
	{
		/* Caught by PG_TRY: the report stays until the handler is done with it. */
		siglongjmp(*(sigjmp_buf *) PG_exception_stack, 1);
	}

	emit(r);
	clear(r);
	depth--;

	if (elevel == ERROR || elevel == FATAL)
	{
		/* No handler (or FATAL): the process ends with exit code 1, like a worker's top level. */
		depth = -1;
		proc_exit(1);
	}
	if (elevel >= PANIC)
		abort();
	errno = saved_errno;
}

void
bgw_c_pg_re_throw(void)
{
	if (PG_exception_stack != NULL)
		siglongjmp(*(sigjmp_buf *) PG_exception_stack, 1);
	if (depth >= 0)
	{
		emit(&reports[depth]);
		depth = -1;
	}
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
	Report	   *r = current();

	switch (r->saved_errno)
	{
		case EPERM:
		case EACCES:
		case EROFS:
			r->sqlerrcode = SQLSTATE('4', '2', '5', '0', '1');
			break;
		case ENOENT:
			r->sqlerrcode = SQLSTATE('5', '8', 'P', '0', '1');
			break;
		case EEXIST:
			r->sqlerrcode = SQLSTATE('5', '8', 'P', '0', '2');
			break;
		case ENOSPC:
			r->sqlerrcode = SQLSTATE('5', '3', '1', '0', '0');
			break;
		default:
			r->sqlerrcode = SQLSTATE('5', '8', '0', '3', '0');
			break;
	}
	return 0;
}

#define FIELD_SETTER(name, field) \
int \
name(const char *fmt, ...) \
{ \
	Report	   *r = current(); \
	va_list		args; \
	va_start(args, fmt); \
	append(&r->field, format_va(fmt, args, r->saved_errno)); \
	va_end(args); \
	return 0; \
}

FIELD_SETTER(bgw_c_errmsg, message)
FIELD_SETTER(bgw_c_errmsg_internal, message)
FIELD_SETTER(bgw_c_errdetail, detail)
FIELD_SETTER(bgw_c_errdetail_internal, detail)
FIELD_SETTER(bgw_c_errdetail_log, detail)
FIELD_SETTER(bgw_c_errhint, hint)
FIELD_SETTER(bgw_c_errcontext_msg, context)

int
bgw_c_set_errcontext_domain(const char *domain)
{
	(void) domain;
	return 0;
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
bgw_c_pg_printf(const char *fmt, ...)
{
	va_list		args;
	int			n;

	va_start(args, fmt);
	n = vprintf(fmt, args);
	va_end(args);
	return n;
}
