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
#include <time.h>
#include <unistd.h>

#include "fmgr.h"
#include "miscadmin.h"
#include "lib/stringinfo.h"
#include "nodes/pg_list.h"
#include "nodes/value.h"
#include "postmaster/bgworker.h"
#include "access/xact.h"
#include "access/xlog.h"
#include "postmaster/postmaster.h"
#include "storage/latch.h"
#include "storage/procsignal.h"
#include "tcop/tcopprot.h"
#include "utils/catcache.h"
#include "utils/guc.h"
#include "utils/ps_status.h"
#include "utils/wait_event.h"
#include "storage/fd.h"
#include "storage/ipc.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/resowner.h"
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

	/* The remaining variants: pointer and OID forms, for_each_cell, forthree. */
	{
		String	   *a = makeString("a");
		String	   *b = makeString("b");
		String	   *c = makeString("c");
		List	   *ptrs = list_make4(a, b, c, makeString("d"));
		List	   *more;
		List	   *o1 = list_make4_oid(1, 2, 3, 4);
		List	   *o2 = list_make2_oid(3, 9);
		ListCell   *lc3;

		ptrs = lcons(makeString("z"), ptrs);
		ptrs = list_insert_nth(ptrs, 2, makeString("y"));
		PROBE_LOG("lcons, list_insert_nth: %s nth(2) %s", value_list_text(ptrs),
				  strVal(list_nth(ptrs, 2)));
		ptrs = list_delete_ptr(ptrs, b);
		ptrs = list_delete_ptr(ptrs, makeString("c"));
		PROBE_LOG("delete_ptr(b), delete_ptr(a copy of c): %s", value_list_text(ptrs));
		more = list_make2(a, makeString("b"));
		PROBE_LOG("union_ptr: %s difference_ptr: %s", value_list_text(list_union_ptr(ptrs, more)),
				  value_list_text(list_difference_ptr(ptrs, more)));
		PROBE_LOG("concat_unique: %s concat_unique_ptr: %s",
				  value_list_text(list_concat_unique(list_copy(ptrs), more)),
				  value_list_text(list_concat_unique_ptr(list_copy(ptrs), more)));
		o1 = list_insert_nth_oid(o1, 0, 7);
		PROBE_LOG("oid insert_nth: %s difference_oid: %s append_unique_oid 9: %s "
				  "concat_unique_oid: %s",
				  int_list_text(o1), int_list_text(list_difference_oid(o1, o2)),
				  int_list_text(list_append_unique_oid(list_copy(o1), 9)),
				  int_list_text(list_concat_unique_oid(list_copy(o1), o2)));
		i = 0;
		for_each_cell(lc3, o1, list_nth_cell(o1, 3))
			i += (int) lfirst_oid(lc3);
		PROBE_LOG("for_each_cell from the fourth: %d", i);
		i = 0;
		{
			ListCell   *x;
			ListCell   *y;
			ListCell   *z;

			forthree(x, o1, y, o2, z, ptrs)
				i += (int) (lfirst_oid(x) + lfirst_oid(y)) * (int) strlen(strVal(lfirst(z)));
		}
		PROBE_LOG("forthree: %d", i);
	}

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

/* ---------- files (storage/fd.h) ---------- */

static int	name_cmp(const ListCell *a, const ListCell *b);

static int
name_cmp(const ListCell *a, const ListCell *b)
{
	return strcmp((const char *) lfirst(a), (const char *) lfirst(b));
}

/* A directory of our own, made current, so messages name files relative to it. */
static void
enter_probe_dir(void)
{
	const char *base = getenv("API_PROBE_DIR");
	char		dir[MAXPGPATH];

	if (base == NULL)
		elog(ERROR, "API_PROBE_DIR is not set");
	snprintf(dir, sizeof(dir), "%s/%s", base, mode);
	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		elog(ERROR, "could not create \"%s\": %m", dir);
	if (chdir(dir) != 0)
		elog(ERROR, "could not enter \"%s\": %m", dir);
}

static bool
fd_is_open(int fd)
{
	return fcntl(fd, F_GETFD) != -1;
}

static void
probe_files(void)
{
	FILE	   *f;
	DIR		   *d;
	struct dirent *de;
	List	   *volatile entries = NIL;
	char		line[64];
	int			fd;
	int			raw;
	int			rc;

	enter_probe_dir();
	f = AllocateFile("a.txt", "w");
	fprintf(f, "first line\n");
	rc = f != NULL;
	PROBE_LOG("AllocateFile for writing: %d, FreeFile: %d", rc, FreeFile(f));
	f = AllocateFile("a.txt", "r");
	if (f == NULL || fgets(line, sizeof(line), f) == NULL)
		elog(ERROR, "could not read back a.txt");
	PROBE_LOG("read back: %s", line);
	FreeFile(f);

	errno = 0;
	f = AllocateFile("missing.txt", "r");
	PROBE_LOG("AllocateFile of a missing file: NULL %d, ENOENT %d", f == NULL, errno == ENOENT);
	EXPECT_ERROR("reporting it",
				 ereport(ERROR,
						 (errcode_for_file_access(),
						  errmsg("could not open file \"%s\": %m", "missing.txt"))));

	fd = OpenTransientFile("b.txt", O_RDWR | O_CREAT | O_EXCL);
	PROBE_LOG("OpenTransientFile: %d, wrote %d", fd >= 0, (int) write(fd, "bee", 3));
	rc = CloseTransientFile(fd);
	PROBE_LOG("CloseTransientFile: %d, closed %d", rc, !fd_is_open(fd));
	{
		struct stat st;

		PROBE_LOG("created with mode %o", stat("b.txt", &st) == 0 ? (unsigned) (st.st_mode & 0777) : 0);
	}
	fd = OpenTransientFilePerm("c.txt", O_RDWR | O_CREAT, 0640);
	CloseTransientFile(fd);
	{
		struct stat st;

		PROBE_LOG("OpenTransientFilePerm(0640) gives mode %o",
				  stat("c.txt", &st) == 0 ? (unsigned) (st.st_mode & 0777) : 0);
	}
	raw = BasicOpenFile("c.txt", O_RDONLY);
	PROBE_LOG("BasicOpenFile: %d", raw >= 0);
	close(raw);
	raw = BasicOpenFilePerm("e.txt", O_RDWR | O_CREAT, 0600);
	PROBE_LOG("BasicOpenFilePerm: %d", raw >= 0);
	close(raw);
	unlink("e.txt");

	rc = durable_rename("a.txt", "d.txt", ERROR);
	PROBE_LOG("durable_rename a.txt -> d.txt: %d, a.txt gone %d, d.txt there %d", rc,
			  access("a.txt", F_OK) != 0, access("d.txt", F_OK) == 0);
	PROBE_LOG("durable_rename over an existing file: %d", durable_rename("d.txt", "c.txt", ERROR));
	PROBE_LOG("durable_rename of a missing file at LOG: %d",
			  durable_rename("nothing.txt", "x.txt", LOG));
	EXPECT_ERROR("durable_rename of a missing file at ERROR",
				 (void) durable_rename("nothing.txt", "x.txt", ERROR));
	rc = durable_unlink("b.txt", ERROR);
	PROBE_LOG("durable_unlink b.txt: %d, gone %d", rc, access("b.txt", F_OK) != 0);
	PROBE_LOG("durable_unlink of a missing file at WARNING: %d",
			  durable_unlink("b.txt", WARNING));
	fsync_fname("c.txt", false);
	fsync_fname(".", true);
	PROBE_LOG("fsync_fname of a file and a directory done");

	d = AllocateDir(".");
	while ((de = ReadDir(d, ".")) != NULL)
	{
		if (de->d_name[0] != '.')
			entries = lappend(entries, pstrdup(de->d_name));
	}
	PROBE_LOG("FreeDir: %d", FreeDir(d));
	list_sort(entries, name_cmp);
	PROBE_LOG("directory holds %s", str_list_text(entries));

	d = AllocateDir("nowhere");
	PROBE_LOG("AllocateDir of a missing directory: NULL %d", d == NULL);
	PROBE_LOG("ReadDirExtended at WARNING: NULL %d", ReadDirExtended(d, "nowhere", WARNING) == NULL);
	errno = ENOENT;
	EXPECT_ERROR("ReadDir of it", (void) ReadDir(NULL, "nowhere"));
	PROBE_LOG("FreeDir(NULL): %d", FreeDir(NULL));

	{
		FILE	   *p = OpenPipeStream("echo piped", "r");

		if (p == NULL || fgets(line, sizeof(line), p) == NULL)
			elog(ERROR, "OpenPipeStream failed");
		PROBE_LOG("OpenPipeStream read: %s", line);
		PROBE_LOG("ClosePipeStream: exit status %d", ClosePipeStream(p));
	}
	{
		FILE	   *plain = fopen("c.txt", "r");

		PROBE_LOG("FreeFile of a file AllocateFile did not open: %d", FreeFile(plain));
	}
	{
		List	   *volatile open_files = NIL;
		ListCell   *lc;
		volatile int opened = 0;
		MemoryContext cxt = CurrentMemoryContext;

		PG_TRY();
		{
			for (;;)
			{
				FILE	   *more = AllocateFile("c.txt", "r");

				if (more == NULL)
					elog(ERROR, "AllocateFile failed: %m");
				open_files = lappend(open_files, more);
				opened++;
			}
		}
		PG_CATCH();
		{
			ErrorData  *e;

			MemoryContextSwitchTo(cxt);
			e = CopyErrorData();
			FlushErrorState();
			PROBE_LOG("opening without closing ends in an ERROR: sqlstate 53000 %d, at least 16 open %d",
					  e->sqlerrcode == ERRCODE_INSUFFICIENT_RESOURCES, opened >= 16);
			PROBE_LOG("(local) %s", e->message);
		}
		PG_END_TRY();
		foreach(lc, open_files)
			FreeFile((FILE *) lfirst(lc));
		PROBE_LOG("and after closing them, AllocateFile works again: %d",
				  FreeFile(AllocateFile("c.txt", "r")) == 0);
	}
}

/* ---------- resource owners ---------- */

static ResourceOwner probe_parent;
static ResourceOwner probe_child;

static const char *
owner_name(ResourceOwner owner)
{
	if (owner == NULL)
		return "NULL";
	if (owner == probe_parent)
		return "parent";
	if (owner == probe_child)
		return "child";
	if (owner == TopTransactionResourceOwner)
		return "TopTransaction";
	if (owner == AuxProcessResourceOwner)
		return "AuxiliaryProcess";
	return "another owner";
}

static void
release_callback(ResourceReleasePhase phase, bool isCommit, bool isTopLevel, void *arg)
{
	PROBE_LOG("callback %s: phase %d commit %d toplevel %d current %s", (const char *) arg,
			  (int) phase, isCommit, isTopLevel, owner_name(CurrentResourceOwner));
}

static void
release_all(ResourceOwner owner, bool isCommit)
{
	ResourceOwnerRelease(owner, RESOURCE_RELEASE_BEFORE_LOCKS, isCommit, true);
	ResourceOwnerRelease(owner, RESOURCE_RELEASE_LOCKS, isCommit, true);
	ResourceOwnerRelease(owner, RESOURCE_RELEASE_AFTER_LOCKS, isCommit, true);
}

static void
probe_resowner(void)
{
	PROBE_LOG("at entry: current %s, top transaction %s, aux %s", owner_name(CurrentResourceOwner),
			  owner_name(TopTransactionResourceOwner), owner_name(AuxProcessResourceOwner));
	probe_parent = ResourceOwnerCreate(NULL, "probe parent");
	probe_child = ResourceOwnerCreate(probe_parent, "probe child");
	PROBE_LOG("parent of child: %s, of parent: %s", owner_name(ResourceOwnerGetParent(probe_child)),
			  owner_name(ResourceOwnerGetParent(probe_parent)));
	RegisterResourceReleaseCallback(release_callback, "A");
	RegisterResourceReleaseCallback(release_callback, "B");
	PROBE_LOG("releasing parent (commit)");
	release_all(probe_parent, true);
	UnregisterResourceReleaseCallback(release_callback, "B");
	ResourceOwnerNewParent(probe_child, NULL);
	PROBE_LOG("child moved to the top: parent %s", owner_name(ResourceOwnerGetParent(probe_child)));
	PROBE_LOG("releasing parent (abort, not top level)");
	ResourceOwnerRelease(probe_parent, RESOURCE_RELEASE_AFTER_LOCKS, false, false);
	ResourceOwnerNewParent(probe_child, probe_parent);
	ResourceOwnerDelete(probe_parent);
	probe_parent = probe_child = NULL;
	PROBE_LOG("deleted; current %s", owner_name(CurrentResourceOwner));

	CreateAuxProcessResourceOwner();
	PROBE_LOG("CreateAuxProcessResourceOwner: current is it %d",
			  CurrentResourceOwner == AuxProcessResourceOwner && CurrentResourceOwner != NULL);
	PROBE_LOG("ReleaseAuxProcessResources(false)");
	ReleaseAuxProcessResources(false);
	PROBE_LOG("exiting (the aux owner is released again at exit)");
}

/* What PostgreSQL leaves to assertions: an ERROR here (not run inside PostgreSQL). */
static void
probe_resowner_misuse(void)
{
	ResourceOwner owner = ResourceOwnerCreate(NULL, "probe current");
	ResourceOwner child = ResourceOwnerCreate(owner, "probe below");

	CurrentResourceOwner = child;
	EXPECT_ERROR("deleting an ancestor of the current owner", ResourceOwnerDelete(owner));
	EXPECT_ERROR("making an owner its own descendant's child", ResourceOwnerNewParent(owner, child));
	EXPECT_ERROR("releasing in phase 7", ResourceOwnerRelease(owner, (ResourceReleasePhase) 7, true, true));
	EXPECT_ERROR("CreateAuxProcessResourceOwner with a current owner", CreateAuxProcessResourceOwner());
	PROBE_LOG("tree unchanged: %d", ResourceOwnerGetParent(child) == owner);
	CurrentResourceOwner = NULL;
	ResourceOwnerDelete(owner);
	PROBE_LOG("deleted once not current");
}

/* ---------- the process: identity and title ---------- */

/* The process title as ps shows it (the command line, NULs as spaces, trailing blanks cut). */
static char *
own_title(void)
{
	static char buf[512];
	FILE	   *f = fopen("/proc/self/cmdline", "r");
	size_t		n = 0;

	if (f != NULL)
	{
		n = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
	}
	for (size_t i = 0; i < n; i++)
		if (buf[i] == '\0')
			buf[i] = ' ';
	while (n > 0 && buf[n - 1] == ' ')
		n--;
	buf[n] = '\0';
	return buf;
}

static bool
ends_with(const char *s, const char *suffix)
{
	size_t		a = strlen(s);
	size_t		b = strlen(suffix);

	return a >= b && strcmp(s + a - b, suffix) == 0;
}

static void
probe_process(void)
{
	pg_time_t	now = (pg_time_t) time(NULL);
	char		pidfile[MAXPGPATH];
	const char *shown;
	int			len;

	PROBE_LOG("MyBackendType is B_BG_WORKER %d, described as \"%s\"", MyBackendType == B_BG_WORKER,
			  GetBackendTypeDesc(MyBackendType));
	PROBE_LOG("IsPostmasterEnvironment %d IsUnderPostmaster %d IsBackgroundWorker %d "
			  "IsBinaryUpgrade %d RecoveryInProgress %d",
			  IsPostmasterEnvironment, IsUnderPostmaster, IsBackgroundWorker, IsBinaryUpgrade,
			  RecoveryInProgress());
	PROBE_LOG("PostmasterPid is the parent %d, not this process %d", PostmasterPid == getppid(),
			  PostmasterPid != MyProcPid);
	PROBE_LOG("MyStartTime within the last minute %d, agrees with MyStartTimestamp %d",
			  MyStartTime <= now && MyStartTime > now - 60,
			  MyStartTime == (pg_time_t) (MyStartTimestamp / 1000000) + 946684800);
	snprintf(pidfile, sizeof(pidfile), "%s/postmaster.pid", DataDir);
	PROBE_LOG("DataDir is absolute %d and holds postmaster.pid %d", DataDir[0] == '/',
			  access(pidfile, F_OK) == 0);
	PROBE_LOG("(local) DataDir %s", DataDir);
	PROBE_LOG("restart_after_crash %d", restart_after_crash);

	PROBE_LOG("(local) title at entry: %s", own_title());
	set_ps_display("probing 1");
	shown = get_ps_display(&len);
	PROBE_LOG("after set_ps_display: title ends with \"%s probing 1\" %d, get_ps_display \"%.*s\" (%d)",
			  MyBgworkerEntry->bgw_name, ends_with(own_title(), "api_probe process probing 1"),
			  len, shown, len);
	PROBE_LOG("(local) title now: %s", own_title());
	SetConfigOption("update_process_title", "off", PGC_SUSET, PGC_S_SESSION);
	set_ps_display("hidden");
	shown = get_ps_display(&len);
	PROBE_LOG("with update_process_title off: title unchanged %d, get_ps_display \"%.*s\"",
			  ends_with(own_title(), "probing 1"), len, shown);
	SetConfigOption("update_process_title", NULL, PGC_SUSET, PGC_S_SESSION);
	set_ps_display("");
	PROBE_LOG("set_ps_display(\"\") leaves the name: %d",
			  ends_with(own_title(), MyBgworkerEntry->bgw_name));
	init_ps_display("api_probe renamed");
	set_ps_display("again");
	PROBE_LOG("init_ps_display: title ends with \"apitest: api_probe renamed again\" %d",
			  ends_with(own_title(), "apitest: api_probe renamed again"));
}

/* Shows a title and waits for SIGTERM (the test reads ps and bgworkerctl meanwhile). */
static void
probe_title_wait(void)
{
	pqsignal(SIGTERM, die);
	set_ps_display("waiting for the test");
	PROBE_LOG("title set");
	for (;;)
	{
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, 1000L,
						 PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
	}
}

/* ---------- settings ---------- */

static int	probe_limit = 0;

static void
show_setting(const char *name)
{
	PROBE_LOG("%s: GetConfigOption \"%s\" reset \"%s\"", name, GetConfigOption(name, false, false),
			  GetConfigOptionResetString(name));
}

static void
probe_settings(void)
{
	int			rc;

	PROBE_LOG("globals: cluster_name \"%s\" work_mem %d maintenance_work_mem %d "
			  "max_worker_processes %d log_min_messages %d update_process_title %d "
			  "shared_preload_libraries \"%s\" max_files_per_process %d",
			  cluster_name, work_mem, maintenance_work_mem, max_worker_processes, log_min_messages,
			  update_process_title, shared_preload_libraries_string, max_files_per_process);
	PROBE_LOG("(local) Dynamic_library_path %s", Dynamic_library_path);
	show_setting("work_mem");
	show_setting("maintenance_work_mem");
	show_setting("cluster_name");

	SetConfigOption("work_mem", "16MB", PGC_USERSET, PGC_S_SESSION);
	PROBE_LOG("SetConfigOption(work_mem, 16MB): work_mem %d", work_mem);
	show_setting("work_mem");
	rc = set_config_option("work_mem", NULL, PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SET, true, 0,
						   false);
	PROBE_LOG("reset: %d, work_mem %d", rc, work_mem);
	rc = set_config_option("work_mem", "32", PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SET, true,
						   WARNING, false);
	PROBE_LOG("32 kB refused: %d, work_mem %d", rc, work_mem);
	rc = set_config_option("work_mem", "lots", PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SET, true,
						   WARNING, false);
	PROBE_LOG("\"lots\" refused: %d", rc);
	rc = set_config_option("work_mem", "5 parsecs", PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SET,
						   true, WARNING, false);
	PROBE_LOG("\"5 parsecs\" refused: %d", rc);
	rc = set_config_option("work_mem", "1GB", PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SET, false,
						   WARNING, false);
	PROBE_LOG("check only (changeVal false): %d, work_mem %d", rc, work_mem);

	EXPECT_ERROR("max_worker_processes at run time",
				 SetConfigOption("max_worker_processes", "20", PGC_USERSET, PGC_S_SESSION));
	EXPECT_ERROR("restart_after_crash at run time",
				 SetConfigOption("restart_after_crash", "off", PGC_USERSET, PGC_S_SESSION));
	EXPECT_ERROR("an unknown setting",
				 SetConfigOption("no_such_setting", "1", PGC_USERSET, PGC_S_SESSION));
	rc = set_config_option("max_worker_processes", "16", PGC_SIGHUP, PGC_S_FILE, GUC_ACTION_SET,
						   true, WARNING, false);
	PROBE_LOG("restart-only setting in a reload, same value: %d", rc);
	rc = set_config_option("max_worker_processes", "20", PGC_SIGHUP, PGC_S_FILE, GUC_ACTION_SET,
						   true, WARNING, false);
	PROBE_LOG("restart-only setting in a reload, new value: %d, still %d", rc,
			  max_worker_processes);

	SetConfigOption("log_min_messages", "error", PGC_SUSET, PGC_S_SESSION);
	PROBE_LOG("log_min_messages error: %d", log_min_messages);
	elog(LOG, "api_probe settings: LOG still shows at log_min_messages=error");
	elog(WARNING, "api_probe settings: this WARNING is filtered out");
	SetConfigOption("log_min_messages", NULL, PGC_SUSET, PGC_S_SESSION);
	elog(WARNING, "api_probe settings: this WARNING shows again");

	SetConfigOption("apiprobe.color", "blue", PGC_USERSET, PGC_S_SESSION);
	show_setting("apiprobe.color");

	DefineCustomIntVariable("apiprobe.limit", "A limit.", NULL, &probe_limit, 10, 1, 100,
							PGC_USERSET, 0, NULL, NULL, NULL);
	PROBE_LOG("apiprobe.limit defined: %d", probe_limit);
	SetConfigOption("apiprobe.limit", "20", PGC_USERSET, PGC_S_SESSION);
	show_setting("apiprobe.limit");
	rc = set_config_option("apiprobe.limit", "500", PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SET,
						   true, WARNING, false);
	PROBE_LOG("500 refused: %d, still %d", rc, probe_limit);
	rc = set_config_option("apiprobe.limit", "30", PGC_USERSET, PGC_S_FILE, GUC_ACTION_SET, true,
						   WARNING, false);
	PROBE_LOG("from a lower-priority source: %d, still %d", rc, probe_limit);
	rc = set_config_option("apiprobe.limit", "40", PGC_USERSET, PGC_S_OVERRIDE, GUC_ACTION_SET,
						   true, WARNING, false);
	PROBE_LOG("as a new reset value: %d, value %d", rc, probe_limit);
	show_setting("apiprobe.limit");
	SetConfigOption("apiprobe.limit", NULL, PGC_USERSET, PGC_S_SESSION);
	PROBE_LOG("after RESET: %d", probe_limit);
}

/* A value set at run time outranks the settings file when it is read again. */
static void
probe_settings_reload(void)
{
	char		conf[MAXPGPATH];
	FILE	   *f;

	snprintf(conf, sizeof(conf), "%s/bgworker.conf", DataDir);
	if (access(conf, F_OK) != 0)
		snprintf(conf, sizeof(conf), "%s/postgresql.conf", DataDir);
	SetConfigOption("work_mem", "16MB", PGC_USERSET, PGC_S_SESSION);
	f = AllocateFile(conf, "a");
	if (f == NULL)
		elog(ERROR, "could not open the settings file: %m");
	fprintf(f, "\nwork_mem = '1MB'\nmaintenance_work_mem = '128MB'\n");
	FreeFile(f);
	ProcessConfigFile(PGC_SIGHUP);
	PROBE_LOG("after reading the file again: work_mem %d (set here), maintenance_work_mem %d (from the file)",
			  work_mem, maintenance_work_mem);
	PROBE_LOG("work_mem reset value now \"%s\"", GetConfigOptionResetString("work_mem"));
	SetConfigOption("work_mem", NULL, PGC_USERSET, PGC_S_SESSION);
	PROBE_LOG("after RESET: work_mem %d", work_mem);
}

/* Refusals PostgreSQL leaves to roles or assertions: checked here only. */
static void
probe_settings_misuse(void)
{
	int			rc;

	MarkGUCPrefixReserved("apiprobe");
	EXPECT_ERROR("a superuser setting as an ordinary user",
				 SetConfigOption("log_min_messages", "debug1", PGC_USERSET, PGC_S_SESSION));
	EXPECT_ERROR("a placeholder under a reserved prefix",
				 SetConfigOption("apiprobe.nothing", "1", PGC_USERSET, PGC_S_SESSION));
	rc = set_config_option("work_mem", "oops", PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SET, true,
						   LOG, false);
	PROBE_LOG("refused at LOG: %d, work_mem %d", rc, work_mem);
}

/* ---------- memory contexts ---------- */

static void
probe_contexts(void)
{
	MemoryContext cache;

	PROBE_LOG("at entry: CacheMemoryContext NULL %d, MessageContext NULL %d, PortalContext NULL %d, "
			  "PostmasterContext NULL %d",
			  CacheMemoryContext == NULL, MessageContext == NULL, PortalContext == NULL,
			  PostmasterContext == NULL);
	PROBE_LOG("outside a transaction: TopTransactionContext NULL %d, CurTransactionContext NULL %d",
			  TopTransactionContext == NULL, CurTransactionContext == NULL);
	PROBE_LOG("ErrorContext under TopMemoryContext %d, named \"%s\"",
			  ErrorContext != NULL && ErrorContext->parent == TopMemoryContext, ErrorContext->name);
	CreateCacheMemoryContext();
	cache = CacheMemoryContext;
	PROBE_LOG("CreateCacheMemoryContext: made %d, under TopMemoryContext %d, named \"%s\"",
			  cache != NULL, cache->parent == TopMemoryContext, cache->name);
	CreateCacheMemoryContext();
	PROBE_LOG("a second call keeps it %d", CacheMemoryContext == cache);
	PROBE_LOG("palloc in it: %s", MemoryContextStrdup(CacheMemoryContext, "cached"));
}

static void
probe_db_contexts(void)
{
	PROBE_LOG("connected: CacheMemoryContext made %d, under TopMemoryContext %d",
			  CacheMemoryContext != NULL,
			  CacheMemoryContext != NULL && CacheMemoryContext->parent == TopMemoryContext);
}

/* ---------- transactions: what ends with them (database workers) ---------- */

static void
probe_db_xact(void)
{
	FILE	   *f;
	int			fd;

	enter_probe_dir();
	RegisterResourceReleaseCallback(release_callback, "X");
	StartTransactionCommand();
	PROBE_LOG("in a transaction: current is TopTransactionResourceOwner %d, CurTransaction too %d",
			  CurrentResourceOwner == TopTransactionResourceOwner && CurrentResourceOwner != NULL,
			  CurTransactionResourceOwner == TopTransactionResourceOwner);
	f = AllocateFile("left-open.txt", "w");
	fd = fileno(f);
	CommitTransactionCommand();
	PROBE_LOG("after commit: the file is closed %d, current %s, top transaction %s",
			  !fd_is_open(fd), owner_name(CurrentResourceOwner),
			  owner_name(TopTransactionResourceOwner));

	StartTransactionCommand();
	fd = OpenTransientFile("left-open.txt", O_RDONLY);
	AbortCurrentTransaction();
	PROBE_LOG("after abort: the file is closed %d, current %s", !fd_is_open(fd),
			  owner_name(CurrentResourceOwner));
	UnregisterResourceReleaseCallback(release_callback, "X");

	/* Settings changed in a transaction: undone at abort; LOCAL ones at commit too. */
	StartTransactionCommand();
	SetConfigOption("work_mem", "1MB", PGC_USERSET, PGC_S_SESSION);
	(void) set_config_option("maintenance_work_mem", "2MB", PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_LOCAL, true, 0, false);
	PROBE_LOG("in the transaction: work_mem %d maintenance_work_mem %d", work_mem,
			  maintenance_work_mem);
	CommitTransactionCommand();
	PROBE_LOG("after commit: work_mem %d maintenance_work_mem %d", work_mem, maintenance_work_mem);
	StartTransactionCommand();
	SetConfigOption("work_mem", "2MB", PGC_USERSET, PGC_S_SESSION);
	PROBE_LOG("in the next transaction: work_mem %d", work_mem);
	AbortCurrentTransaction();
	PROBE_LOG("after abort: work_mem %d", work_mem);
}

/* ---------- entry ---------- */

void
api_probe_main(Datum arg)
{
	(void) arg;
	mode = MyBgworkerEntry->bgw_extra;
	BackgroundWorkerUnblockSignals();
	PROBE_LOG("started");
	if (strncmp(mode, "db_", 3) == 0)
		BackgroundWorkerInitializeConnection("postgres", NULL, 0);

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
	else if (strcmp(mode, "files") == 0)
		probe_files();
	else if (strcmp(mode, "resowner") == 0)
		probe_resowner();
	else if (strcmp(mode, "resowner_misuse") == 0)
		probe_resowner_misuse();
	else if (strcmp(mode, "db_xact") == 0)
		probe_db_xact();
	else if (strcmp(mode, "process") == 0)
		probe_process();
	else if (strcmp(mode, "title_wait") == 0)
		probe_title_wait();
	else if (strcmp(mode, "settings") == 0)
		probe_settings();
	else if (strcmp(mode, "settings_reload") == 0)
		probe_settings_reload();
	else if (strcmp(mode, "settings_misuse") == 0)
		probe_settings_misuse();
	else if (strcmp(mode, "contexts") == 0)
		probe_contexts();
	else if (strcmp(mode, "db_contexts") == 0)
		probe_db_contexts();
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
		if (strncmp(m, "db_", 3) == 0)
			worker.bgw_flags |= BGWORKER_BACKEND_DATABASE_CONNECTION;
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
