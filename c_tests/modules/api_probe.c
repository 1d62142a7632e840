/*
 * api_probe.c -- the server APIs a worker calls beside the bgworker API proper: lists, text
 * values, string helpers, settings, files, resource owners, memory contexts and the process's
 * identity and title, used the way PostgreSQL 15 modules use them.  The same source is built
 * against include/ and, with PGXS, against PostgreSQL 15's own headers, and runs under
 * bgworkerd and inside PostgreSQL 15 (tests/server_api.rs compares what the two log).
 *
 * _PG_init registers one worker per word of the API_PROBE environment variable (a comma-
 * separated list of modes); each worker logs "api_probe MODE: ..." lines and exits 0 (or 1
 * when its mode ends with an uncaught ERROR).  Lines holding "(local)" carry values that differ
 * between servers (paths, pids, exact error wording of unsupported calls) and are not compared.
 */
#include "postgres.h"

#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "fmgr.h"
#include "miscadmin.h"
#include "lib/stringinfo.h"
#include "nodes/pg_list.h"
#include "nodes/value.h"
#include "postmaster/bgworker.h"
#include "storage/ipc.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"
#include "utils/varlena.h"

PG_MODULE_MAGIC;

void		_PG_init(void);
PGDLLEXPORT void api_probe_main(Datum arg) pg_attribute_noreturn();

static const char *mode = "";

#define PROBE_LOG(...) \
	do { \
		char		probe_line_[2048]; \
		snprintf(probe_line_, sizeof(probe_line_), __VA_ARGS__); \
		elog(LOG, "api_probe %s: %s", mode, probe_line_); \
	} while (0)

/* Runs `stmt`; logs "WHAT raised ERROR" (and, as a local line, the message) if it raises. */
#define EXPECT_ERROR(what, stmt) \
	do { \
		MemoryContext probe_cxt_ = CurrentMemoryContext; \
		volatile bool probe_raised_ = false; \
		PG_TRY(); \
		{ \
			stmt; \
		} \
		PG_CATCH(); \
		{ \
			ErrorData  *probe_e_; \
			MemoryContextSwitchTo(probe_cxt_); \
			probe_e_ = CopyErrorData(); \
			FlushErrorState(); \
			probe_raised_ = true; \
			PROBE_LOG("%s raised ERROR", what); \
			PROBE_LOG("(local) %s: %s", what, probe_e_->message); \
			FreeErrorData(probe_e_); \
		} \
		PG_END_TRY(); \
		if (!probe_raised_) \
			PROBE_LOG("%s raised nothing", what); \
	} while (0)

/* ---------- lists ---------- */

static char *
int_list_text(const List *l)
{
	StringInfoData buf;
	ListCell   *lc;

	initStringInfo(&buf);
	appendStringInfoChar(&buf, '(');
	foreach(lc, l)
	{
		if (foreach_current_index(lc) > 0)
			appendStringInfoChar(&buf, ' ');
		if (IsA(l, OidList))
			appendStringInfo(&buf, "%u", lfirst_oid(lc));
		else
			appendStringInfo(&buf, "%d", lfirst_int(lc));
	}
	appendStringInfoChar(&buf, ')');
	return buf.data;
}

static char *
str_list_text(const List *l)
{
	StringInfoData buf;
	ListCell   *lc;

	initStringInfo(&buf);
	appendStringInfoChar(&buf, '(');
	foreach(lc, l)
	{
		if (lc != list_head(l))
			appendStringInfoChar(&buf, ' ');
		appendStringInfo(&buf, "\"%s\"", (char *) lfirst(lc));
	}
	appendStringInfoChar(&buf, ')');
	return buf.data;
}

static char *
value_list_text(const List *l)
{
	List	   *names = NIL;
	ListCell   *lc;

	foreach(lc, l)
		names = lappend(names, strVal(lfirst(lc)));
	return str_list_text(names);
}

static int
cmp_desc(const ListCell *a, const ListCell *b)
{
	return lfirst_int(b) - lfirst_int(a);
}

static void
probe_lists(void)
{
	List	   *ints = NIL;
	List	   *other;
	List	   *oids;
	List	   *names;
	List	   *copy;
	ListCell   *lc;
	ListCell   *lc2;
	int			i;
	int			sum = 0;
	String	   *needle;

	for (i = 1; i <= 20; i++)
		ints = lappend_int(ints, i);
	PROBE_LOG("appended: length %d %s", list_length(ints), int_list_text(ints));
	PROBE_LOG("nth: first %d second %d last %d nth(7) %d", linitial_int(ints), lsecond_int(ints),
			  llast_int(ints), list_nth_int(ints, 7));
	ints = lcons_int(0, ints);
	ints = list_insert_nth_int(ints, 5, 100);
	ints = list_delete_nth_cell(ints, 1);
	PROBE_LOG("cons/insert/delete: %s", int_list_text(ints));

	/* Delete the even values while iterating. */
	foreach(lc, ints)
	{
		if (lfirst_int(lc) % 2 == 0)
			ints = foreach_delete_current(ints, lc);
	}
	PROBE_LOG("odd only: %s", int_list_text(ints));

	for (lc = list_head(ints); lc != NULL; lc = lnext(ints, lc))
		sum += lfirst_int(lc);
	PROBE_LOG("sum via lnext: %d", sum);

	other = list_make5_int(3, 30, 5, 50, 7);
	PROBE_LOG("member 5: %d member 6: %d", list_member_int(other, 5), list_member_int(other, 6));
	PROBE_LOG("union: %s", int_list_text(list_union_int(ints, other)));
	PROBE_LOG("intersection: %s", int_list_text(list_intersection_int(ints, other)));
	PROBE_LOG("difference: %s", int_list_text(list_difference_int(ints, other)));
	PROBE_LOG("append_unique 7 then 8: %s",
			  int_list_text(list_append_unique_int(list_append_unique_int(list_copy(other), 7), 8)));
	PROBE_LOG("concat_unique: %s", int_list_text(list_concat_unique_int(list_copy(other), ints)));

	copy = list_concat_copy(ints, other);
	list_sort(copy, cmp_desc);
	PROBE_LOG("sorted desc: %s", int_list_text(copy));
	list_sort(copy, list_int_cmp);
	PROBE_LOG("sorted asc: %s", int_list_text(copy));
	PROBE_LOG("copy_head 3: %s copy_tail 17: %s", int_list_text(list_copy_head(copy, 3)),
			  int_list_text(list_copy_tail(copy, 17)));
	copy = list_truncate(copy, 4);
	copy = list_delete_first(copy);
	copy = list_delete_last(copy);
	PROBE_LOG("truncate 4, delete first and last: %s", int_list_text(copy));
	copy = list_delete_int(copy, 5);
	copy = list_delete_int(copy, 42);
	PROBE_LOG("delete 5 then 42: %s", int_list_text(copy));
	copy = list_delete_first_n(list_concat(copy, other), 3);
	PROBE_LOG("concat then delete_first_n 3: %s", int_list_text(copy));
	PROBE_LOG("delete_first_n past the end is NIL: %d",
			  list_delete_first_n(list_copy(copy), 99) == NIL);
	PROBE_LOG("truncate to 0 is NIL: %d, length of NIL %d", list_truncate(list_copy(copy), 0) == NIL,
			  list_length(NIL));

	oids = list_make3_oid(42, 7, 42);
	oids = lappend_oid(oids, 7);
	oids = lcons_oid(4000000000U, oids);
	list_sort(oids, list_oid_cmp);
	list_deduplicate_oid(oids);
	PROBE_LOG("oids sorted and deduplicated: %s member 7: %d", int_list_text(oids),
			  list_member_oid(oids, 7));
	oids = list_delete_oid(oids, 42);
	PROBE_LOG("oids without 42: %s union: %s", int_list_text(oids),
			  int_list_text(list_union_oid(oids, list_make1_oid(1))));

	/* Pointer lists: equal() on value nodes, identity for _ptr. */
	names = list_make3(makeString("alpha"), makeString("beta"), makeString("gamma"));
	needle = makeString(pstrdup("beta"));
	PROBE_LOG("names %s member(beta) %d member_ptr(beta copy) %d member_ptr(own) %d",
			  value_list_text(names), list_member(names, needle),
			  list_member_ptr(names, needle), list_member_ptr(names, lsecond(names)));
	names = list_append_unique(names, makeString("alpha"));
	names = list_append_unique_ptr(names, needle);
	PROBE_LOG("append_unique(alpha), append_unique_ptr(beta copy): %s", value_list_text(names));
	names = list_delete(names, needle);
	PROBE_LOG("delete(beta): %s", value_list_text(names));
	PROBE_LOG("difference with (gamma): %s union with (delta): %s",
			  value_list_text(list_difference(names, list_make1(makeString("gamma")))),
			  value_list_text(list_union(names, list_make1(makeString("delta")))));
	PROBE_LOG("intersection with (gamma beta): %s",
			  value_list_text(list_intersection(names, list_make2(makeString("gamma"),
																	makeString("beta")))));

	copy = list_copy_deep(names);
	PROBE_LOG("copy_deep equal %d, same first node %d, same first string %d",
			  equal(copy, names), linitial(copy) == linitial(names),
			  strVal(linitial(copy)) == strVal(linitial(names)));
	strVal(llast(copy))[0] = 'B';
	PROBE_LOG("after changing the copy: equal %d", equal(copy, names));
	PROBE_LOG("values: int %d bool %d float %.2f bitstring %s, equal(makeInteger(3), 3) %d",
			  intVal(makeInteger(-3)), boolVal(makeBoolean(true)), floatVal(makeFloat("2.50")),
			  ((BitString *) makeBitString("b101"))->bsval,
			  equal(makeInteger(3), makeInteger(3)));
	PROBE_LOG("equal int lists %d, differ %d, NIL equals NIL %d",
			  equal(list_make2_int(1, 2), list_make2_int(1, 2)),
			  equal(list_make2_int(1, 2), list_make2_int(2, 1)), equal(NIL, NIL));
	PROBE_LOG("copyObject of an Integer list is equal %d",
			  equal(copyObject(list_make2(makeInteger(1), makeInteger(2))),
					list_make2(makeInteger(1), makeInteger(2))));

	i = 0;
	forboth(lc, ints, lc2, other)
		i += lfirst_int(lc) * lfirst_int(lc2);
	PROBE_LOG("forboth dot product: %d", i);

	/* A list that outgrows its first allocation keeps its context. */
	{
		MemoryContext cxt = AllocSetContextCreate(TopMemoryContext, "api_probe list",
												  ALLOCSET_SMALL_SIZES);
		MemoryContext old = MemoryContextSwitchTo(cxt);
		List	   *big = list_make1_int(0);

		MemoryContextSwitchTo(old);
		for (i = 1; i < 1000; i++)
			big = lappend_int(big, i);
		PROBE_LOG("big: length %d last %d, list and cells in its context: %d %d",
				  list_length(big), llast_int(big), GetMemoryChunkContext(big) == cxt,
				  GetMemoryChunkContext(big->elements) == cxt);
		list_free(big);
		/* PostgreSQL calls a context empty only until something is allocated in it. */
		PROBE_LOG("(local) list_free leaves its context empty: %d", MemoryContextIsEmpty(cxt));
		MemoryContextDelete(cxt);
	}

	/* list_free_deep frees what the cells point to. */
	{
		List	   *deep = list_make2(pstrdup("one"), pstrdup("two"));

		list_free_deep(deep);
		PROBE_LOG("list_free_deep done");
	}
}

/* Where a result that must not be used goes. */
static List *scratch;

/* Misuse PostgreSQL only asserts against: an ERROR here (not run inside PostgreSQL). */
static void
probe_list_misuse(void)
{
	List	   *ptrs = list_make1(makeString("x"));
	List	   *ints = list_make2_int(1, 2);
	MemoryContext cxt = AllocSetContextCreate(TopMemoryContext, "api_probe misuse",
											  ALLOCSET_SMALL_SIZES);

	EXPECT_ERROR("lappend_int on a pointer list", scratch = lappend_int(ptrs, 1));
	EXPECT_ERROR("list_insert_nth_int past the end", scratch = list_insert_nth_int(ints, 3, 9));
	EXPECT_ERROR("list_delete_nth_cell past the end", scratch = list_delete_nth_cell(ints, 2));
	EXPECT_ERROR("list_member_oid on an integer list", (void) list_member_oid(ints, 1));
	EXPECT_ERROR("equal on memory contexts", (void) equal(cxt, TopMemoryContext));
	EXPECT_ERROR("copyObject of a memory context", (void) copyObjectImpl(cxt));
	PROBE_LOG("lists unchanged: %s %s", value_list_text(ptrs), int_list_text(ints));
}

/* ---------- text values ---------- */

static void
probe_text(void)
{
	text	   *t = cstring_to_text("hello, world");
	text	   *n = cstring_to_text_with_len("a\0b", 3);
	char		small[6];
	char		exact[13];
	unsigned char packed[6];
	struct varlena *wide;
	struct varlena *copy;

	PROBE_LOG("cstring_to_text: VARSIZE %u VARSIZE_ANY_EXHDR %u text \"%s\"", (unsigned) VARSIZE(t),
			  (unsigned) VARSIZE_ANY_EXHDR(t), text_to_cstring(t));
	PROBE_LOG("with_len keeps NUL: size %u second byte %d third '%c'",
			  (unsigned) VARSIZE_ANY_EXHDR(n), VARDATA_ANY(n)[1], VARDATA_ANY(n)[2]);
	text_to_cstring_buffer(t, small, sizeof(small));
	text_to_cstring_buffer(t, exact, sizeof(exact));
	PROBE_LOG("text_to_cstring_buffer: \"%s\" \"%s\"", small, exact);
	PROBE_LOG("TextDatumGetCString(CStringGetTextDatum): \"%s\"",
			  TextDatumGetCString(CStringGetTextDatum("round trip")));

	/* A short (1-byte header) value, as stored in a tuple. */
	SET_VARSIZE_SHORT(packed, 6);
	memcpy(packed + 1, "short", 5);
	wide = pg_detoast_datum((struct varlena *) packed);
	PROBE_LOG("detoast of a short value: new copy %d, 4-byte header %d, size %u, \"%s\"",
			  (void *) wide != (void *) packed, VARATT_IS_4B_U(wide), (unsigned) VARSIZE(wide),
			  text_to_cstring((text *) wide));
	PROBE_LOG("detoast of a plain value is itself %d, packed is itself %d %d",
			  pg_detoast_datum((struct varlena *) t) == (struct varlena *) t,
			  pg_detoast_datum_packed((struct varlena *) t) == (struct varlena *) t,
			  pg_detoast_datum_packed((struct varlena *) packed) == (struct varlena *) packed);
	copy = pg_detoast_datum_copy((struct varlena *) t);
	PROBE_LOG("detoast_copy: new %d same bytes %d", copy != (struct varlena *) t,
			  memcmp(copy, t, VARSIZE(t)) == 0);
	PROBE_LOG("DatumGetTextPP: \"%s\"", text_to_cstring(DatumGetTextPP(PointerGetDatum(packed))));
}

/* ---------- splitting lists ---------- */

static void
split_one(const char *kind, const char *input)
{
	char	   *raw = pstrdup(input);
	List	   *l = NIL;
	bool		ok;

	if (strcmp(kind, "identifiers") == 0)
		ok = SplitIdentifierString(raw, ',', &l);
	else if (strcmp(kind, "directories") == 0)
		ok = SplitDirectoriesString(raw, ':', &l);
	else
		ok = SplitGUCList(raw, ',', &l);
	PROBE_LOG("%s [%s] -> %s %s", kind, input, ok ? "ok" : "bad", str_list_text(l));
}

static void
probe_split(void)
{
	split_one("identifiers", "");
	split_one("identifiers", "  Foo, \"Bar Baz\" ,qux");
	split_one("identifiers", "a,\"say \"\"hi\"\"\",b");
	split_one("identifiers", "AVeryLongIdentifierThatGoesOnAndOnPastTheSixtyThreeByteLimitOfNames_X");
	split_one("identifiers", "a,,b");
	split_one("identifiers", "a b");
	split_one("identifiers", "\"open");
	split_one("directories", "/usr/lib//x/ : $libdir:./rel/../dir/. : \"/q:uoted\"");
	split_one("directories", "/a/b/../../..");
	split_one("directories", "a: :b");
	split_one("guclist", "Mixed.Case, \"quoted, comma\", plain");
	split_one("guclist", "x y");
}

/* ---------- string helpers (port.h) ---------- */

static void
probe_strings(void)
{
	char		buf[8];
	size_t		n;

	PROBE_LOG("strcasecmp: %d %d %d %d", pg_strcasecmp("Hello", "hELLO") == 0,
			  pg_strcasecmp("abc", "ABD") < 0, pg_strcasecmp("b", "A") > 0,
			  pg_strcasecmp("abc", "ab") > 0);
	PROBE_LOG("strncasecmp: %d %d", pg_strncasecmp("PostgreSQL", "postgres", 8) == 0,
			  pg_strncasecmp("PostgreSQL", "postgres", 9) != 0);
	PROBE_LOG("toupper/tolower: %c%c%c %c%c%c", pg_toupper('a'), pg_toupper('Z'), pg_toupper('1'),
			  pg_tolower('Q'), pg_tolower('q'), pg_tolower('-'));
	PROBE_LOG("ascii: %c %c %d", pg_ascii_toupper('x'), pg_ascii_tolower('X'),
			  pg_ascii_toupper(0xe9));
	n = strlcpy(buf, "truncated here", sizeof(buf));
	PROBE_LOG("strlcpy: \"%s\" %zu", buf, n);
	n = strlcat(buf, "!", sizeof(buf));
	PROBE_LOG("strlcat to a full buffer: \"%s\" %zu", buf, n);
	strlcpy(buf, "ab", sizeof(buf));
	n = strlcat(buf, "cd", sizeof(buf));
	PROBE_LOG("strlcat: \"%s\" %zu", buf, n);
	{
		TimestampTz before = GetCurrentTimestamp();
		long		ms;

		pg_usleep(20000L);
		ms = TimestampDifferenceMilliseconds(before, GetCurrentTimestamp());
		PROBE_LOG("pg_usleep(20 ms) slept at least 20 ms: %d", ms >= 20);
	}
	{
		int			fds[2];

		bool		set_nb,
					was_nb,
					set_b,
					was_b;

		if (pipe(fds) != 0)
			elog(ERROR, "pipe: %m");
		set_nb = pg_set_noblock(fds[0]);
		was_nb = (fcntl(fds[0], F_GETFL) & O_NONBLOCK) != 0;
		set_b = pg_set_block(fds[0]);
		was_b = (fcntl(fds[0], F_GETFL) & O_NONBLOCK) == 0;
		PROBE_LOG("pg_set_noblock %d nonblocking %d, pg_set_block %d blocking %d, bad fd %d",
				  set_nb, was_nb, set_b, was_b, pg_set_noblock(-1));
		close(fds[0]);
		close(fds[1]);
	}
}

/* ---------- entry ---------- */

void
api_probe_main(Datum arg)
{
	(void) arg;
	mode = MyBgworkerEntry->bgw_extra;
	BackgroundWorkerUnblockSignals();
	PROBE_LOG("started");

	if (strcmp(mode, "lists") == 0)
		probe_lists();
	else if (strcmp(mode, "list_misuse") == 0)
		probe_list_misuse();
	else if (strcmp(mode, "text") == 0)
		probe_text();
	else if (strcmp(mode, "split") == 0)
		probe_split();
	else if (strcmp(mode, "strings") == 0)
		probe_strings();
	else
		PROBE_LOG("unknown mode");

	PROBE_LOG("done");
	proc_exit(0);
}

void
_PG_init(void)
{
	const char *modes = getenv("API_PROBE");
	char		list[1024];
	char	   *save = NULL;

	if (!process_shared_preload_libraries_in_progress || modes == NULL)
		return;
	snprintf(list, sizeof(list), "%s", modes);
	for (char *m = strtok_r(list, ",", &save); m != NULL; m = strtok_r(NULL, ",", &save))
	{
		BackgroundWorker worker;

		memset(&worker, 0, sizeof(worker));
		worker.bgw_flags = BGWORKER_SHMEM_ACCESS;
		worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
		worker.bgw_restart_time = BGW_NEVER_RESTART;
		snprintf(worker.bgw_library_name, BGW_MAXLEN, "api_probe");
		snprintf(worker.bgw_function_name, BGW_MAXLEN, "api_probe_main");
		snprintf(worker.bgw_name, BGW_MAXLEN, "api_probe %s", m);
		snprintf(worker.bgw_type, BGW_MAXLEN, "api_probe");
		snprintf(worker.bgw_extra, BGW_EXTRALEN, "%s", m);
		RegisterBackgroundWorker(&worker);
	}
}
