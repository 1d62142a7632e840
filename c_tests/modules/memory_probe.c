/*
 * memory_probe.c -- test module for memory contexts, palloc and StringInfo, written as a
 * PostgreSQL 15 module would be. Workers run memory_probe_main (registered through the probe
 * module's $PROBE_WORKERS with lib=memory_probe); bgw_extra picks what to exercise:
 *
 *   contexts      child/grandchild contexts: allocate, reset, delete, switch back, callbacks
 *   pfree         pfree/repalloc across contexts, palloc0, pstrdup family, palloc_array
 *   psprintf      psprintf and pvsnprintf, %m, results longer than the first guess
 *   stringinfo    many appends, binary data with NULs, the char macro, spaces, reset
 *   huge_caught   oversized and impossible requests caught with PG_TRY; NO_OOM returns NULL
 *   huge_uncaught palloc(MaxAllocSize + 1) with no handler (the worker exits 1)
 *   oom_uncaught  an impossible huge request with no handler (out of memory, exit 1)
 *   dynhandle     a RegisterDynamicBackgroundWorker handle freed with pfree
 *   inherited     the string _PG_init palloc'd in the supervisor, seen in the worker
 *
 * Each check that fails logs `memory_probe FAIL: ...` and the worker exits 1; a mode that
 * passes logs `memory_probe <mode> ok` and exits 0. When preloaded, _PG_init checks
 * CurrentMemoryContext in the supervisor and leaves a string in a context of its own.
 *
 * Built with -DMEMORY_PROBE_PROGRAM it is instead a plain program linked with the library that
 * runs the context, pfree, psprintf, StringInfo and caught-ERROR checks in one process and then
 * frees everything (the tests run it under valgrind).
 */
#include "postgres.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "lib/stringinfo.h"
#include "postmaster/bgworker.h"
#include "storage/ipc.h"
#include "utils/memutils.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

PG_MODULE_MAGIC;

void		_PG_init(void);
PGDLLEXPORT void memory_probe_main(Datum main_arg);

/* Which headers this copy was compiled against (logged at worker entry). */
#ifdef BGW_COMPAT_POSTGRES_H
#define HEADERS "libbgworker"
#else
#define HEADERS "PostgreSQL"
#endif

static MemoryContext init_context = NULL;
static char *init_string = NULL;
static int	failures = 0;

#define CHECK(cond) \
	do { \
		if (!(cond)) \
		{ \
			failures++; \
			elog(LOG, "memory_probe FAIL: %s (line %d)", #cond, __LINE__); \
		} \
	} while (0)

void
_PG_init(void)
{
	MemoryContext old;

	if (CurrentMemoryContext == NULL)
	{
		elog(LOG, "memory_probe FAIL: no CurrentMemoryContext in _PG_init");
		return;
	}
	elog(LOG, "memory_probe _PG_init in \"%s\" (top %s)", CurrentMemoryContext->name,
		 CurrentMemoryContext == TopMemoryContext ? "yes" : "no");
	init_context = AllocSetContextCreate(TopMemoryContext, "memory_probe init", ALLOCSET_SMALL_SIZES);
	old = MemoryContextSwitchTo(init_context);
	init_string = psprintf("made in _PG_init by pid %d", (int) getpid());
	MemoryContextSwitchTo(old);
}

/* ---------- contexts ---------- */

static int	callback_calls = 0;

static void
count_callback(void *arg)
{
	callback_calls += *(int *) arg;
}

static void
check_contexts(void)
{
	MemoryContext top = CurrentMemoryContext;
	MemoryContext child;
	MemoryContext grandchild;
	MemoryContext old;
	MemoryContextCallback cb;
	int			weight = 1;
	char	  **ptrs;
	int			i;

	CHECK(top != NULL);
	CHECK(top == TopMemoryContext);
	CHECK(ErrorContext != NULL && ErrorContext->parent == TopMemoryContext);

	child = AllocSetContextCreate(TopMemoryContext, "probe child", ALLOCSET_DEFAULT_SIZES);
	CHECK(child != NULL && MemoryContextGetParent(child) == TopMemoryContext);
	CHECK(strcmp(child->name, "probe child") == 0);
	CHECK(MemoryContextIsEmpty(child));

	old = MemoryContextSwitchTo(child);
	CHECK(old == top && CurrentMemoryContext == child);

	/* Many values in the child; every one must survive until the reset. */
	ptrs = palloc(1000 * sizeof(char *));
	for (i = 0; i < 1000; i++)
		ptrs[i] = psprintf("value %d", i);
	for (i = 0; i < 1000; i++)
	{
		char		expect[32];

		snprintf(expect, sizeof(expect), "value %d", i);
		if (strcmp(ptrs[i], expect) != 0)
		{
			CHECK(strcmp(ptrs[i], expect) == 0);
			break;
		}
	}
	CHECK(GetMemoryChunkContext(ptrs) == child);
	CHECK(GetMemoryChunkContext(ptrs[999]) == child);
	CHECK(MemoryContextContains(child, ptrs[500]));
	CHECK(!MemoryContextContains(top, ptrs[500]));
	CHECK(MemoryContextMemAllocated(child, false) > 1000 * 8);
	CHECK(!MemoryContextIsEmpty(child));
	elog(LOG, "memory_probe contexts: 1000 values in \"%s\", last \"%s\"", child->name, ptrs[999]);

	grandchild = AllocSetContextCreate(child, "probe grandchild", ALLOCSET_SMALL_SIZES);
	CHECK(child->firstchild == grandchild && grandchild->parent == child);
	(void) MemoryContextAlloc(grandchild, 100);
	CHECK(MemoryContextMemAllocated(child, true) > MemoryContextMemAllocated(child, false));

	cb.func = count_callback;
	cb.arg = &weight;
	MemoryContextRegisterResetCallback(child, &cb);

	/* Reset: contents freed, children deleted, callback run once, context still usable. */
	MemoryContextReset(child);
	CHECK(callback_calls == 1);
	CHECK(child->firstchild == NULL);
	CHECK(MemoryContextIsEmpty(child));
	CHECK(MemoryContextMemAllocated(child, true) == 0);
	CHECK(CurrentMemoryContext == child);
	{
		char	   *again = pstrdup("after reset");

		CHECK(strcmp(again, "after reset") == 0);
		CHECK(GetMemoryChunkContext(again) == child);
	}
	MemoryContextReset(child);
	CHECK(callback_calls == 1);

	/* Switch back, then delete the child (and a new grandchild) with everything in them. */
	MemoryContextSwitchTo(old);
	CHECK(CurrentMemoryContext == top);
	grandchild = AllocSetContextCreate(child, "probe grandchild 2", ALLOCSET_DEFAULT_SIZES);
	(void) MemoryContextAllocZero(grandchild, 4096);
	(void) MemoryContextAlloc(child, 4096);
	MemoryContextRegisterResetCallback(child, &cb);
	MemoryContextDelete(child);
	CHECK(callback_calls == 2);
	CHECK(CurrentMemoryContext == top);
	CHECK(TopMemoryContext->firstchild == NULL || TopMemoryContext->firstchild != child);

	/* ResetOnly keeps children; DeleteChildren removes them. */
	child = AllocSetContextCreate(top, "probe keeper", ALLOCSET_DEFAULT_SIZES);
	grandchild = AllocSetContextCreate(child, "probe kept", ALLOCSET_DEFAULT_SIZES);
	(void) MemoryContextAlloc(child, 10);
	MemoryContextResetOnly(child);
	CHECK(child->firstchild == grandchild);
	MemoryContextDeleteChildren(child);
	CHECK(child->firstchild == NULL);
	MemoryContextDelete(child);

	/* The worker's top context still works after all that. */
	{
		char	   *s = psprintf("%s-%d", "top", 7);

		CHECK(strcmp(s, "top-7") == 0);
		CHECK(GetMemoryChunkContext(s) == TopMemoryContext);
		pfree(s);
	}
}

/* ---------- pfree / repalloc ---------- */

static void
check_pfree(void)
{
	MemoryContext a = AllocSetContextCreate(TopMemoryContext, "probe a", ALLOCSET_DEFAULT_SIZES);
	MemoryContext b = AllocSetContextCreate(TopMemoryContext, "probe b", ALLOCSET_DEFAULT_SIZES);
	MemoryContext old = MemoryContextSwitchTo(b);
	char	   *in_a = MemoryContextAlloc(a, 16);
	char	   *grown;
	int		   *zeros;
	int		   *arr;
	int			i;
	bool		all_zero = true;

	memcpy(in_a, "0123456789abcde", 16);
	/* repalloc while b is current: the chunk stays in a, contents kept. */
	grown = repalloc(in_a, 100000);
	CHECK(GetMemoryChunkContext(grown) == a);
	CHECK(memcmp(grown, "0123456789abcde", 16) == 0);
	grown = repalloc(grown, 8);
	CHECK(memcmp(grown, "01234567", 8) == 0);
	CHECK(GetMemoryChunkContext(grown) == a);

	/* pfree from b of a chunk of a; a is empty afterwards. */
	pfree(grown);
	CHECK(MemoryContextIsEmpty(a));
	CHECK(MemoryContextMemAllocated(a, false) == 0);

	zeros = palloc0(4096 * sizeof(int));
	for (i = 0; i < 4096; i++)
		all_zero = all_zero && zeros[i] == 0;
	CHECK(all_zero);
	CHECK(GetMemoryChunkContext(zeros) == b);
	zeros = palloc_extended(64, MCXT_ALLOC_ZERO);
	CHECK(zeros[0] == 0 && zeros[15] == 0);

	CHECK(strcmp(pstrdup("dup"), "dup") == 0);
	CHECK(strcmp(pnstrdup("abcdef", 3), "abc") == 0);
	CHECK(strcmp(pnstrdup("ab", 10), "ab") == 0);
	CHECK(strcmp(pchomp("line\n\n"), "line") == 0);
	CHECK(GetMemoryChunkContext(MemoryContextStrdup(a, "in a")) == a);

	arr = palloc_array(int, 10);
	for (i = 0; i < 10; i++)
		arr[i] = i * i;
	arr = repalloc_array(arr, int, 20);
	CHECK(arr[9] == 81);
	pfree(arr);
	CHECK(add_size(1, 2) == 3 && mul_size(6, 7) == 42);

	/* palloc(0) gives a distinct, freeable pointer. */
	{
		void	   *z1 = palloc(0);
		void	   *z2 = palloc(0);

		CHECK(z1 != NULL && z2 != NULL && z1 != z2);
		pfree(z1);
		pfree(z2);
	}

	MemoryContextSwitchTo(old);
	MemoryContextDelete(a);
	MemoryContextDelete(b);
	CHECK(CurrentMemoryContext == TopMemoryContext);
}

/* ---------- psprintf ---------- */

static size_t
format_into(char *buf, size_t len, const char *fmt, ...) pg_attribute_printf(3, 4);

static size_t
format_into(char *buf, size_t len, const char *fmt, ...)
{
	va_list		args;
	size_t		n;

	va_start(args, fmt);
	n = pvsnprintf(buf, len, fmt, args);
	va_end(args);
	return n;
}

static void
check_psprintf(void)
{
	char	   *s = psprintf("%d-%s-%c-%.2f", 42, "forty-two", 'x', 2.5);
	char	   *long_s;
	char		small[8];
	size_t		n;

	CHECK(strcmp(s, "42-forty-two-x-2.50") == 0);
	CHECK(GetMemoryChunkContext(s) == CurrentMemoryContext);

	/* Longer than the first 128-byte guess. */
	long_s = psprintf("%0500d|%s", 7, "end");
	CHECK(strlen(long_s) == 504);
	CHECK(strcmp(long_s + 500, "|end") == 0);

	errno = ENOENT;
	s = psprintf("open: %m");
	CHECK(strcmp(s, "open: No such file or directory") == 0);

	n = format_into(small, sizeof(small), "%s", "abc");
	CHECK(n == 3 && strcmp(small, "abc") == 0);
	n = format_into(small, sizeof(small), "%s", "abcdefghij");
	CHECK(n == 11);
	elog(LOG, "memory_probe psprintf: \"%s\" (%zu bytes)", s, strlen(long_s));
}

/* ---------- StringInfo ---------- */

static void
append_va(StringInfo str, const char *fmt, ...) pg_attribute_printf(2, 3);

static void
append_va(StringInfo str, const char *fmt, ...)
{
	for (;;)
	{
		va_list		args;
		int			needed;

		va_start(args, fmt);
		needed = appendStringInfoVA(str, fmt, args);
		va_end(args);
		if (needed == 0)
			break;
		enlargeStringInfo(str, needed);
	}
}

static void
check_stringinfo(void)
{
	StringInfoData buf;
	StringInfo si;
	int			i;
	int			expected_len = 0;
	static const char binary[] = {'a', '\0', 'b', '\0', '\0', 'c'};
	bool		ok = true;

	initStringInfo(&buf);
	CHECK(buf.len == 0 && buf.maxlen == 1024 && buf.data[0] == '\0' && buf.cursor == 0);
	CHECK(GetMemoryChunkContext(buf.data) == CurrentMemoryContext);

	for (i = 0; i < 10000; i++)
	{
		char		piece[16];

		appendStringInfo(&buf, "%d,", i);
		expected_len += snprintf(piece, sizeof(piece), "%d,", i);
	}
	CHECK(buf.len == expected_len);
	CHECK((int) strlen(buf.data) == buf.len);
	CHECK(buf.maxlen > buf.len && (buf.maxlen & (buf.maxlen - 1)) == 0);
	CHECK(strncmp(buf.data, "0,1,2,3,", 8) == 0);
	CHECK(strcmp(buf.data + buf.len - 5, "9999,") == 0);
	elog(LOG, "memory_probe stringinfo: 10000 appends, len %d maxlen %d", buf.len, buf.maxlen);

	resetStringInfo(&buf);
	CHECK(buf.len == 0 && buf.data[0] == '\0');

	appendBinaryStringInfo(&buf, binary, (int) sizeof(binary));
	CHECK(buf.len == 6 && memcmp(buf.data, binary, 6) == 0 && buf.data[6] == '\0');
	appendBinaryStringInfoNT(&buf, "xyz", 3);
	CHECK(buf.len == 9 && memcmp(buf.data + 6, "xyz", 3) == 0);
	appendStringInfoChar(&buf, '\0');
	CHECK(buf.len == 10 && buf.data[9] == '\0' && buf.data[10] == '\0');
	/* A long binary run with NULs crossing several enlargements. */
	for (i = 0; i < 5000; i++)
		appendBinaryStringInfo(&buf, binary, (int) sizeof(binary));
	CHECK(buf.len == 10 + 5000 * 6);
	for (i = 0; i < 5000 && ok; i++)
		ok = memcmp(buf.data + 10 + i * 6, binary, 6) == 0;
	CHECK(ok);
	CHECK(buf.data[buf.len] == '\0');

	resetStringInfo(&buf);
	appendStringInfoString(&buf, "abc");
	appendStringInfoSpaces(&buf, 3);
	appendStringInfoCharMacro(&buf, 'd');
	append_va(&buf, "[%s:%d]", "va", 5);
	CHECK(strcmp(buf.data, "abc   d[va:5]") == 0);
	for (i = 0; i < 3000; i++)
		appendStringInfoCharMacro(&buf, (char) ('a' + i % 26));
	CHECK(buf.len == 13 + 3000 && buf.data[buf.len] == '\0' && buf.data[13] == 'a');

	si = makeStringInfo();
	CHECK(si->len == 0 && si->data[0] == '\0');
	appendStringInfo(si, "%s", "made");
	CHECK(strcmp(si->data, "made") == 0);
	enlargeStringInfo(si, 5000);
	CHECK(si->maxlen >= 5005 && strcmp(si->data, "made") == 0);
	pfree(si->data);
	pfree(si);
	pfree(buf.data);
}

/* ---------- ERRORs ---------- */

/* Runs one request that must raise an ERROR; returns the copied error (or NULL). */
static ErrorData *
expect_error(int what)
{
	MemoryContext mine = CurrentMemoryContext;
	ErrorData  *edata = NULL;
	volatile bool raised = false;

	PG_TRY();
	{
		switch (what)
		{
			case 0:
				(void) palloc(MaxAllocSize + 1);
				break;
			case 1:
				(void) palloc_extended(SIZE_MAX / 4, MCXT_ALLOC_HUGE);
				break;
			case 2:
				{
					StringInfoData s;

					initStringInfo(&s);
					appendStringInfoString(&s, "12345");
					enlargeStringInfo(&s, (int) MaxAllocSize);
				}
				break;
			case 3:
				(void) palloc_mul(SIZE_MAX / 2, 4);
				break;
		}
	}
	PG_CATCH();
	{
		raised = true;
		MemoryContextSwitchTo(mine);
		edata = CopyErrorData();
		FlushErrorState();
	}
	PG_END_TRY();
	if (!raised)
		elog(LOG, "memory_probe FAIL: request %d raised no ERROR", what);
	return edata;
}

static void
log_error(const char *what, ErrorData *e)
{
	if (e == NULL)
	{
		failures++;
		return;
	}
	elog(LOG, "memory_probe caught %s: elevel=%d sqlstate=%d message=\"%s\" detail=\"%s\"", what,
		 e->elevel, e->sqlerrcode, e->message ? e->message : "", e->detail ? e->detail : "");
}

static void
check_huge_caught(void)
{
	ErrorData  *e;

	e = expect_error(0);
	log_error("too large", e);
	CHECK(e != NULL && e->elevel == ERROR && e->message != NULL &&
		  strcmp(e->message, "invalid memory alloc request size 1073741824") == 0);

	e = expect_error(1);
	log_error("out of memory", e);
	CHECK(e != NULL && e->sqlerrcode == MAKE_SQLSTATE('5', '3', '2', '0', '0'));
	CHECK(e != NULL && e->message != NULL && strcmp(e->message, "out of memory") == 0);
	CHECK(e != NULL && e->detail != NULL &&
		  strstr(e->detail, "in memory context \"TopMemoryContext\".") != NULL);

	e = expect_error(2);
	log_error("string too long", e);
	CHECK(e != NULL && e->detail != NULL &&
		  strcmp(e->detail, "Cannot enlarge string buffer containing 5 bytes by 1073741823 more bytes.") == 0);

	e = expect_error(3);
	log_error("overflow", e);
	CHECK(e != NULL && e->message != NULL && strncmp(e->message, "invalid memory allocation request size", 38) == 0);

	/* MCXT_ALLOC_NO_OOM: NULL instead of an ERROR, with or without a huge request. */
	CHECK(palloc_extended(SIZE_MAX / 4, MCXT_ALLOC_HUGE | MCXT_ALLOC_NO_OOM) == NULL);
	CHECK(MemoryContextAllocExtended(TopMemoryContext, SIZE_MAX / 4,
									 MCXT_ALLOC_HUGE | MCXT_ALLOC_NO_OOM) == NULL);
	{
		char	   *p = palloc(16);

		CHECK(repalloc_extended(p, SIZE_MAX / 4, MCXT_ALLOC_HUGE | MCXT_ALLOC_NO_OOM) == NULL);
		pfree(p);
	}
	/* Still usable afterwards. */
	CHECK(strcmp(psprintf("%s", "fine"), "fine") == 0);
}

/* ---------- dynamic worker handle ---------- */

static void
check_dynhandle(void)
{
	BackgroundWorker w;
	BackgroundWorkerHandle *handle = NULL;
	MemoryContext cxt = AllocSetContextCreate(TopMemoryContext, "probe handles", ALLOCSET_SMALL_SIZES);
	MemoryContext old;
	pid_t		pid;

	memset(&w, 0, sizeof(w));
	w.bgw_flags = BGWORKER_SHMEM_ACCESS;
	w.bgw_start_time = BgWorkerStart_ConsistentState;
	w.bgw_restart_time = BGW_NEVER_RESTART;
	snprintf(w.bgw_library_name, BGW_MAXLEN, "postgres");
	snprintf(w.bgw_function_name, BGW_MAXLEN, "BackgroundWorkerExitMain");
	snprintf(w.bgw_name, BGW_MAXLEN, "memory_probe child");
	w.bgw_main_arg = Int32GetDatum(0);
	w.bgw_notify_pid = MyProcPid;

	old = MemoryContextSwitchTo(cxt);
	CHECK(RegisterDynamicBackgroundWorker(&w, &handle));
	MemoryContextSwitchTo(old);
	CHECK(handle != NULL);
	if (handle == NULL)
		return;
	CHECK(GetMemoryChunkContext(handle) == cxt);
	CHECK(!MemoryContextIsEmpty(cxt));
	CHECK(WaitForBackgroundWorkerShutdown(handle) == BGWH_STOPPED);
	CHECK(GetBackgroundWorkerPid(handle, &pid) == BGWH_STOPPED);
	pfree(handle);
	CHECK(MemoryContextIsEmpty(cxt));
	MemoryContextDelete(cxt);
	elog(LOG, "memory_probe dynhandle: handle freed with pfree");
}

/* ---------- entry ---------- */

void
memory_probe_main(Datum main_arg)
{
	const char *mode = MyBgworkerEntry->bgw_extra;
	MemoryContext at_entry = CurrentMemoryContext;

	(void) main_arg;
	BackgroundWorkerUnblockSignals();
	elog(LOG, "memory_probe %s: built with %s headers", mode, HEADERS);
	elog(LOG, "memory_probe %s: CurrentMemoryContext at entry is \"%s\"", mode,
		 at_entry != NULL ? at_entry->name : "(null)");
	CHECK(at_entry != NULL);

	if (strcmp(mode, "contexts") == 0)
		check_contexts();
	else if (strcmp(mode, "pfree") == 0)
		check_pfree();
	else if (strcmp(mode, "psprintf") == 0)
		check_psprintf();
	else if (strcmp(mode, "stringinfo") == 0)
		check_stringinfo();
	else if (strcmp(mode, "huge_caught") == 0)
		check_huge_caught();
	else if (strcmp(mode, "huge_uncaught") == 0)
	{
		(void) palloc(MaxAllocSize + 1);
		elog(LOG, "memory_probe FAIL: palloc(MaxAllocSize + 1) returned");
	}
	else if (strcmp(mode, "oom_uncaught") == 0)
	{
		MemoryContext cxt = AllocSetContextCreate(TopMemoryContext, "probe oom", ALLOCSET_DEFAULT_SIZES);

		(void) MemoryContextAllocHuge(cxt, SIZE_MAX / 4);
		elog(LOG, "memory_probe FAIL: impossible allocation returned");
	}
	else if (strcmp(mode, "dynhandle") == 0)
		check_dynhandle();
	else if (strcmp(mode, "inherited") == 0)
	{
		CHECK(init_string != NULL && strncmp(init_string, "made in _PG_init by pid ", 24) == 0);
		CHECK(init_context != NULL && GetMemoryChunkContext(init_string) == init_context);
		CHECK(init_context != NULL && init_context->parent == TopMemoryContext);
		if (init_string != NULL)
			elog(LOG, "memory_probe inherited: \"%s\"", init_string);
	}
	else
		elog(LOG, "memory_probe FAIL: unknown mode \"%s\"", mode);

	if (failures > 0)
	{
		elog(LOG, "memory_probe %s: %d checks failed", mode, failures);
		proc_exit(1);
	}
	elog(LOG, "memory_probe %s ok", mode);
	proc_exit(0);
}

#ifdef MEMORY_PROBE_PROGRAM
int			main(void);

int
main(void)
{
	check_contexts();
	check_pfree();
	check_psprintf();
	check_stringinfo();
	check_huge_caught();
	/* Everything allocated above lives under TopMemoryContext: free it all. */
	MemoryContextReset(TopMemoryContext);
	CHECK(MemoryContextMemAllocated(TopMemoryContext, true) == 0);
	if (failures > 0)
	{
		fprintf(stderr, "memory_probe program: %d checks failed\n", failures);
		return 1;
	}
	fprintf(stderr, "memory_probe program ok\n");
	return 0;
}
#endif
