/*
 * variadic_strings.c -- the memory and string entry points Rust cannot define (psprintf,
 * pvsnprintf, appendStringInfo, appendStringInfoVA: variadic or va_list), and the ERROR reports
 * of the allocator and StringInfo, raised here so the longjmp to PG_TRY starts in a C frame.
 * Each bgw_c_X that a module calls is exported as X by a Rust trampoline (c_shim.rs).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

/* PostgreSQL's StringInfoData (the Rust side, src/stringinfo.rs, has the same layout). */
typedef struct StringInfoData
{
	char	   *data;
	int			len;
	int			maxlen;
	int			cursor;
} StringInfoData;

_Static_assert(sizeof(StringInfoData) == 24, "StringInfoData is 24 bytes");

/* From the library (PostgreSQL's names). */
extern void *palloc(size_t size);
extern void pfree(void *pointer);
extern void enlargeStringInfo(StringInfoData *str, int needed);
extern bool errstart(int elevel, const char *domain);
extern void errfinish(const char *filename, int lineno, const char *funcname);
extern int	errcode(int sqlerrcode);
extern int	errmsg_internal(const char *fmt, ...);
extern int	errdetail_internal(const char *fmt, ...);
extern void proc_exit(int code) __attribute__((noreturn));

#define ERROR 21
#define MAX_ALLOC_SIZE ((size_t) 0x3fffffff)

#define SIXBIT(ch) (((ch) - '0') & 0x3F)
#define SQLSTATE(a, b, c, d, e) \
	(SIXBIT(a) + (SIXBIT(b) << 6) + (SIXBIT(c) << 12) + (SIXBIT(d) << 18) + (SIXBIT(e) << 24))
#define OUT_OF_MEMORY SQLSTATE('5', '3', '2', '0', '0')
#define PROGRAM_LIMIT_EXCEEDED SQLSTATE('5', '4', '0', '0', '0')
#define INTERNAL_ERROR SQLSTATE('X', 'X', '0', '0', '0')

/*
 * Raises an ERROR with a message and an optional detail (NULL for none). An ERROR never comes
 * back: errfinish jumps to the innermost PG_TRY or ends the process.
 */
static void
raise_error(int sqlerrcode, const char *message, const char *detail)
	__attribute__((noreturn));

static void
raise_error(int sqlerrcode, const char *message, const char *detail)
{
	if (errstart(ERROR, NULL))
	{
		errcode(sqlerrcode);
		errmsg_internal("%s", message);
		if (detail != NULL)
			errdetail_internal("%s", detail);
		errfinish(__FILE__, __LINE__, __func__);
	}
	proc_exit(1);
}

/* ---- allocator errors (called from src/mcxt.rs) ---------------------------------------------- */

void		bgw_c_mcxt_invalid_size(size_t size) __attribute__((noreturn));
void		bgw_c_mcxt_out_of_memory(size_t size, const char *context_name) __attribute__((noreturn));
void		bgw_c_mcxt_create_failed(const char *context_name) __attribute__((noreturn));
void		bgw_c_mcxt_size_overflow(size_t a, size_t b, char op) __attribute__((noreturn));

void
bgw_c_mcxt_invalid_size(size_t size)
{
	char		message[64];

	snprintf(message, sizeof(message), "invalid memory alloc request size %zu", size);
	raise_error(INTERNAL_ERROR, message, NULL);
}

void
bgw_c_mcxt_out_of_memory(size_t size, const char *context_name)
{
	char		detail[256];

	snprintf(detail, sizeof(detail), "Failed on request of size %zu in memory context \"%s\".",
			 size, context_name != NULL ? context_name : "");
	raise_error(OUT_OF_MEMORY, "out of memory", detail);
}

void
bgw_c_mcxt_create_failed(const char *context_name)
{
	char		detail[192];

	snprintf(detail, sizeof(detail), "Failed while creating memory context \"%s\".",
			 context_name != NULL ? context_name : "");
	raise_error(OUT_OF_MEMORY, "out of memory", detail);
}

void
bgw_c_mcxt_size_overflow(size_t a, size_t b, char op)
{
	char		message[96];

	snprintf(message, sizeof(message), "invalid memory allocation request size %zu %c %zu", a, op, b);
	raise_error(PROGRAM_LIMIT_EXCEEDED, message, NULL);
}

/* ---- StringInfo errors (called from src/stringinfo.rs) --------------------------------------- */

void		bgw_c_stringinfo_invalid_request(int needed) __attribute__((noreturn));
void		bgw_c_stringinfo_too_long(int len, int needed) __attribute__((noreturn));

void
bgw_c_stringinfo_invalid_request(int needed)
{
	char		message[64];

	snprintf(message, sizeof(message), "invalid string enlargement request size: %d", needed);
	raise_error(INTERNAL_ERROR, message, NULL);
}

void
bgw_c_stringinfo_too_long(int len, int needed)
{
	char		detail[128];

	snprintf(detail, sizeof(detail), "Cannot enlarge string buffer containing %d bytes by %d more bytes.",
			 len, needed);
	raise_error(PROGRAM_LIMIT_EXCEEDED, "out of memory", detail);
}

/* ---- formatting into palloc'd memory --------------------------------------------------------- */

/*
 * pvsnprintf: formats into buf (len bytes). Returns the length written when it fit (less than
 * len); otherwise the buffer size that would fit the whole result, its NUL included. A result
 * that could never be allocated is an ERROR, as is a formatting failure.
 */
size_t
bgw_c_pvsnprintf(char *buf, size_t len, const char *fmt, va_list args)
{
	int			n = vsnprintf(buf, len, fmt, args);

	if (n < 0)
	{
		char		message[160];

		snprintf(message, sizeof(message), "vsnprintf failed: %m with format string \"%.80s\"", fmt);
		raise_error(INTERNAL_ERROR, message, NULL);
	}
	if ((size_t) n < len)
		return (size_t) n;
	if ((size_t) n >= MAX_ALLOC_SIZE)
		raise_error(PROGRAM_LIMIT_EXCEEDED, "out of memory", NULL);
	return (size_t) n + 1;
}

/* psprintf: the formatted string, palloc'd in CurrentMemoryContext. %m names the caller's errno. */
char *
bgw_c_psprintf(const char *fmt, ...)
{
	int			saved_errno = errno;
	size_t		len = 128;

	for (;;)
	{
		char	   *buf = palloc(len);
		va_list		args;
		size_t		needed;

		errno = saved_errno;
		va_start(args, fmt);
		needed = bgw_c_pvsnprintf(buf, len, fmt, args);
		va_end(args);
		if (needed < len)
			return buf;
		pfree(buf);
		len = needed;
	}
}

/*
 * appendStringInfoVA: formats onto the end of str if it fits. Returns 0 when done; otherwise
 * leaves str as it was and returns how many more bytes to reserve before trying again.
 */
int
bgw_c_appendStringInfoVA(StringInfoData *str, const char *fmt, va_list args)
{
	int			avail = str->maxlen - str->len;
	size_t		n;

	/* Too little room to be worth a try. */
	if (avail < 16)
		return 32;
	n = bgw_c_pvsnprintf(str->data + str->len, (size_t) avail, fmt, args);
	if (n < (size_t) avail)
	{
		str->len += (int) n;
		return 0;
	}
	/* The partial output overwrote the terminator: put it back. */
	str->data[str->len] = '\0';
	return (int) n;
}

/* appendStringInfo: formats onto the end of str, enlarging it as needed. */
void
bgw_c_appendStringInfo(StringInfoData *str, const char *fmt, ...)
{
	int			saved_errno = errno;

	for (;;)
	{
		va_list		args;
		int			needed;

		errno = saved_errno;
		va_start(args, fmt);
		needed = bgw_c_appendStringInfoVA(str, fmt, args);
		va_end(args);
		if (needed == 0)
			break;
		enlargeStringInfo(str, needed);
	}
}
