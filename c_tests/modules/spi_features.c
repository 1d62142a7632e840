/*
 * spi_features.c -- SPI and transactions as PostgreSQL 15 runs them, one worker per mode.  The
 * same source is built against include/ and, with PGXS, against PostgreSQL 15's own headers; the
 * PGXS build runs both inside PostgreSQL (shared_preload_libraries) and under bgworkerd against
 * a PostgreSQL server, and the two must log the same lines.
 *
 * _PG_init registers one worker per word of the SPI_FEATURES environment variable (modes:
 * multi, limit, plans, cursors, nonatomic, settings, callbacks, terminate); each connects to the
 * database `postgres`, runs its mode, logs "spi_features MODE: ..." lines and exits 0 (terminate
 * waits to be terminated).  It defines the settings spi_features.greeting (string, reloadable)
 * and spi_features.count (integer, seconds).
 *
 * Modes only bgworkerd runs (what PostgreSQL cannot do the same way, or what only our side
 * can observe): call (a procedure that commits, through SPI_execute_extended with
 * allow_nonatomic), million (a million rows read through a cursor in chunks of 1,000, with the
 * process's peak memory), statements (the session's prepared statements as plans come and go),
 * reload (what SQL sees of spi_features.greeting after each SIGHUP, and the application_name
 * pgstat_report_appname gives).
 */
#include "postgres.h"

#include "fmgr.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "access/xact.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "tcop/tcopprot.h"
#include "utils/builtins.h"
#include "utils/elog.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/wait_event.h"

#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

PG_MODULE_MAGIC;

void		_PG_init(void);
PGDLLEXPORT void spi_features_main(Datum arg) pg_attribute_noreturn();

static const char *mode;
static char *greeting = NULL;
static int	count_setting = 0;

#define say(...) elog(LOG, "spi_features %s: %s", mode, psprintf(__VA_ARGS__))

/* The SQLSTATE's five characters. */
static const char *
sqlstate(int code)
{
	static char buf[6];

	for (int i = 0; i < 5; i++)
	{
		buf[i] = PGUNSIXBIT(code);
		code >>= 6;
	}
	buf[5] = '\0';
	return buf;
}

/* Column 1 of every row of SPI_tuptable, comma-separated ("-" for NULL). */
static char *
rows(void)
{
	StringInfoData s;

	initStringInfo(&s);
	if (SPI_tuptable == NULL)
		return pstrdup("none");
	for (uint64 r = 0; r < SPI_processed; r++)
	{
		char	   *v = SPI_getvalue(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, 1);

		appendStringInfo(&s, "%s%s", r > 0 ? "," : "", v ? v : "-");
	}
	return s.data;
}

static void
report(const char *what, int rc)
{
	say("%s %s processed=" UINT64_FORMAT " rows=%s", what, SPI_result_code_string(rc),
		SPI_processed, rows());
}

static void
begin(void)
{
	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	SPI_connect();
	PushActiveSnapshot(GetTransactionSnapshot());
}

static void
end(void)
{
	SPI_finish();
	PopActiveSnapshot();
	CommitTransactionCommand();
}

static void
run(const char *what, const char *sql, long count)
{
	report(what, SPI_execute(sql, false, count));
}

/* The value of a one-row, one-column query, as text. */
static char *
value(const char *sql)
{
	int			rc = SPI_execute(sql, false, 0);

	if (rc != SPI_OK_SELECT && rc != SPI_OK_UTILITY)
		elog(ERROR, "spi_features: \"%s\" gave %s", sql, SPI_result_code_string(rc));
	if (SPI_processed != 1)
		elog(ERROR, "spi_features: \"%s\" gave %s", sql, SPI_result_code_string(rc));
	return SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
}

/*
 * Runs fn(arg) in a subtransaction, as PL handlers do, logging the error it raised (which rolls
 * the subtransaction back and leaves the transaction usable, as PostgreSQL requires).
 */
static void
in_subtransaction(const char *what, void (*fn) (const char *what, const char *arg), const char *arg)
{
	MemoryContext oldcontext = CurrentMemoryContext;

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(oldcontext);
	PG_TRY();
	{
		fn(what, arg);
		ReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcontext);
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(oldcontext);
		edata = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcontext);
		say("%s caught %s: %s", what, sqlstate(edata->sqlerrcode), edata->message);
		FreeErrorData(edata);
	}
	PG_END_TRY();
}

static void
run_unlimited(const char *what, const char *sql)
{
	run(what, sql, 0);
}

static void
run_two(const char *what, const char *sql)
{
	run(what, sql, 2);
}

static void
prepare_only(const char *what, const char *sql)
{
	(void) SPI_prepare(sql, 0, NULL);
	say("%s prepared", what);
}

/* Runs sql in a subtransaction (count 0), logging its result or the error it raised. */
static void
guarded(const char *what, const char *sql, long count)
{
	in_subtransaction(what, count == 2 ? run_two : run_unlimited, sql);
}

/* Several statements in one string; errors and refused statements in the middle of one. */
static void
run_multi(void)
{
	begin();
	run("three", "CREATE TABLE multi_t (i int); INSERT INTO multi_t VALUES (1), (2), (3); "
		"SELECT i FROM multi_t ORDER BY i", 0);
	run("dml last", "INSERT INTO multi_t VALUES (4); UPDATE multi_t SET i = i + 10 WHERE i > 2", 0);
	run("utility last", "SELECT 1; CREATE INDEX ON multi_t (i)", 0);
	run("empty", "", 0);
	run("comments only", "-- nothing here\n/* nor here */", 0);
	run("semicolons", ";;SELECT 'a;b' AS s;;", 0);
	guarded("error in the middle", "INSERT INTO multi_t VALUES (97); SELECT 1 / 0; "
			"INSERT INTO multi_t VALUES (98)", 0);
	run("after the error", "SELECT count(*) FROM multi_t WHERE i IN (97, 98)", 0);
	run("commit inside", "INSERT INTO multi_t VALUES (5); COMMIT; INSERT INTO multi_t VALUES (6)", 0);
	run("copy to client", "SELECT 1; COPY multi_t TO STDOUT", 0);
	run("what ran", "SELECT i FROM multi_t WHERE i IN (5, 6) ORDER BY i", 0);
	guarded("syntax error", "SELECT 1; SELEC 2", 0);
	end();
	begin();
	run("committed", "SELECT i FROM multi_t ORDER BY i", 0);
	end();
}

/* count: a SELECT stops after count rows (the executor stops: nextval runs count times). */
static void
run_limit(void)
{
	begin();
	run("setup", "CREATE SEQUENCE limit_s; CREATE TABLE limit_t AS SELECT g FROM generate_series(1, 1000) g", 0);
	run("three of a million", "SELECT g FROM generate_series(1, 1000000) g", 3);
	run("nextval five", "SELECT nextval('limit_s') FROM generate_series(1, 100)", 5);
	run("sequence after", "SELECT currval('limit_s')", 0);
	run("more than there are", "SELECT g FROM limit_t WHERE g <= 4 ORDER BY g", 10);
	run("each statement", "SELECT g FROM limit_t ORDER BY g; SELECT g FROM limit_t ORDER BY g DESC", 2);
	run("with", "WITH w AS (SELECT g FROM limit_t) SELECT g FROM w ORDER BY g", 2);
	run("values", "VALUES (1), (2), (3)", 1);
	run("dml ignores count", "UPDATE limit_t SET g = g WHERE g <= 10", 1);
	guarded("error after the limit", "SELECT 1 / (g - 3) FROM limit_t ORDER BY g", 2);
	guarded("error within the limit", "SELECT 1 / (g - 2) FROM limit_t ORDER BY g", 2);
	{
		Oid			types[1] = {INT4OID};
		Datum		values[1] = {Int32GetDatum(995)};
		int			rc = SPI_execute_with_args("SELECT g FROM limit_t WHERE g > $1 ORDER BY g", 1,
											   types, values, NULL, false, 2);

		report("with args", rc);
	}
	end();
}

/* Prepared plans. */
static void
run_plans(void)
{
	Oid			types[2] = {INT4OID, TEXTOID};
	Datum		values[2];
	SPIPlanPtr	ins;
	SPIPlanPtr	sel;
	SPIPlanPtr	kept;
	SPIPlanPtr	saved;
	SPIPlanPtr	multi;
	ParamListInfo params;

	begin();
	run("setup", "CREATE TABLE plans_t (i int, t text)", 0);
	ins = SPI_prepare("INSERT INTO plans_t VALUES ($1, $2)", 2, types);
	say("prepare insert %s result=%d args=%d types=%u,%u cursor=%d", ins ? "ok" : "NULL", SPI_result,
		SPI_getargcount(ins), SPI_getargtypeid(ins, 0), SPI_getargtypeid(ins, 1),
		(int) SPI_is_cursor_plan(ins));
	for (int i = 1; i <= 3; i++)
	{
		values[0] = Int32GetDatum(i * 10);
		values[1] = PointerGetDatum(cstring_to_text(psprintf("row %d", i)));
		report("execute insert", SPI_execute_plan(ins, values, i == 3 ? " n" : NULL, false, 0));
	}
	report("execp insert", SPI_execp(ins, values, "nn", 0));
	sel = SPI_prepare_cursor("SELECT i FROM plans_t WHERE i > $1 ORDER BY i", 1, types, 0);
	say("prepare select cursor=%d args=%d", (int) SPI_is_cursor_plan(sel), SPI_getargcount(sel));
	values[0] = Int32GetDatum(10);
	report("execute select", SPI_execute_plan(sel, values, NULL, false, 0));
	report("execute select limited", SPI_execute_plan(sel, values, NULL, false, 1));
	params = makeParamList(1);
	params->params[0].value = Int32GetDatum(20);
	params->params[0].isnull = false;
	params->params[0].pflags = PARAM_FLAG_CONST;
	params->params[0].ptype = INT4OID;
	report("execute with paramlist", SPI_execute_plan_with_paramlist(sel, params, false, 0));
	{
		Oid			t = SPI_getargtypeid(sel, 5);

		say("argtypeid out of range %u result=%s", t, SPI_result_code_string(SPI_result));
	}
	say("returning is a cursor plan: %d",
		(int) SPI_is_cursor_plan(SPI_prepare("DELETE FROM plans_t WHERE i < 0 RETURNING i", 0, NULL)));
	say("execute NULL plan %s", SPI_result_code_string(SPI_execute_plan(NULL, NULL, NULL, false, 0)));
	say("missing values %s", SPI_result_code_string(SPI_execute_plan(sel, NULL, NULL, false, 0)));
	{
		SPIPlanPtr	none = SPI_prepare(NULL, 0, NULL);

		say("prepare NULL %s result=%s", none ? "plan" : "NULL", SPI_result_code_string(SPI_result));
	}
	in_subtransaction("bad syntax", prepare_only, "SELEC 1");
	end();

	/* Only kept and saved plans outlive SPI_finish. */
	begin();
	kept = SPI_prepare("SELECT count(*) FROM plans_t WHERE i >= $1", 1, types);
	say("keepplan %d", SPI_keepplan(kept));
	say("keepplan again %d", SPI_keepplan(kept));
	saved = SPI_saveplan(SPI_prepare("SELECT max(i) FROM plans_t", 0, NULL));
	multi = SPI_prepare("INSERT INTO plans_t VALUES (100, 'multi'); SELECT count(*) FROM plans_t", 0, NULL);
	say("multi-statement plan args=%d cursor=%d", SPI_getargcount(multi), (int) SPI_is_cursor_plan(multi));
	report("execute multi", SPI_execute_plan(multi, NULL, NULL, false, 0));
	SPI_keepplan(multi);
	end();
	begin();
	values[0] = Int32GetDatum(20);
	report("kept plan in the next transaction", SPI_execute_plan(kept, values, NULL, false, 0));
	report("saved plan", SPI_execute_plan(saved, NULL, NULL, false, 0));
	report("multi again", SPI_execute_plan(multi, NULL, NULL, false, 0));
	say("plan valid %d", (int) SPI_plan_is_valid(kept));
	say("freeplan %d", SPI_freeplan(kept));
	say("freeplan saved %d", SPI_freeplan(saved));
	end();
}

/* Cursors. */
static void
run_cursors(void)
{
	Oid			types[1] = {INT4OID};
	Datum		values[1];
	SPIPlanPtr	plan;
	Portal		p;
	Portal		q;

	begin();
	run("setup", "CREATE TABLE cursors_t AS SELECT g FROM generate_series(1, 20) g", 0);
	plan = SPI_prepare_cursor("SELECT g FROM cursors_t WHERE g > $1 ORDER BY g", 1, types,
							  CURSOR_OPT_SCROLL);
	values[0] = Int32GetDatum(10);
	p = SPI_cursor_open("c1", plan, values, NULL, false);
	say("open %s processed=" UINT64_FORMAT " tuptable=%s", p->name, SPI_processed,
		SPI_tuptable ? "set" : "NULL");
	SPI_cursor_fetch(p, true, 3);
	say("fetch 3: " UINT64_FORMAT " rows=%s", SPI_processed, rows());
	SPI_cursor_fetch(p, false, 1);
	say("fetch back 1: " UINT64_FORMAT " rows=%s", SPI_processed, rows());
	SPI_cursor_move(p, true, 4);
	say("move 4: " UINT64_FORMAT " tuptable=%s", SPI_processed, SPI_tuptable ? "set" : "NULL");
	SPI_scroll_cursor_fetch(p, FETCH_ABSOLUTE, 2);
	say("absolute 2: " UINT64_FORMAT " rows=%s", SPI_processed, rows());
	SPI_scroll_cursor_fetch(p, FETCH_RELATIVE, 3);
	say("relative 3: " UINT64_FORMAT " rows=%s", SPI_processed, rows());
	SPI_scroll_cursor_move(p, FETCH_BACKWARD, 2);
	say("scroll move back 2: " UINT64_FORMAT, SPI_processed);
	SPI_cursor_fetch(p, true, FETCH_ALL);
	say("fetch all: " UINT64_FORMAT " rows=%s", SPI_processed, rows());
	SPI_cursor_fetch(p, true, 5);
	say("fetch past the end: " UINT64_FORMAT " tuptable=%s", SPI_processed, SPI_tuptable ? "set" : "NULL");
	say("find c1 %s, find nope %s", SPI_cursor_find("c1") == p ? "same" : "other",
		SPI_cursor_find("nope") ? "found" : "NULL");
	SPI_cursor_close(p);
	say("after close find c1 %s", SPI_cursor_find("c1") ? "found" : "NULL");

	q = SPI_cursor_open_with_args(NULL, "SELECT g * $1 FROM cursors_t ORDER BY g", 1, types,
								  values, NULL, false, 0);
	say("unnamed %s", q->name);
	SPI_cursor_fetch(q, true, 2);
	say("unnamed fetch: " UINT64_FORMAT " rows=%s", SPI_processed, rows());
	q = SPI_cursor_open(NULL, plan, values, NULL, false);
	say("second unnamed %s", q->name);

	p = SPI_cursor_open_with_args("ret", "DELETE FROM cursors_t WHERE g > 17 RETURNING g", 0, NULL,
								  NULL, NULL, false, 0);
	run("not deleted at open", "SELECT count(*) FROM cursors_t", 0);
	SPI_cursor_fetch(p, true, 2);
	say("returning fetch 2: " UINT64_FORMAT " rows=%s", SPI_processed, rows());
	run("deleted at the first fetch", "SELECT count(*) FROM cursors_t", 0);
	SPI_cursor_fetch(p, true, 5);
	say("returning fetch rest: " UINT64_FORMAT " rows=%s", SPI_processed, rows());
	SPI_cursor_close(p);
	end();

	/* Errors, each in its own transaction. */
	{
		const char *what[] = {"not a query", "duplicate name", "bad query"};

		for (int i = 0; i < 3; i++)
		{
			MemoryContext oldcontext;

			begin();
			oldcontext = CurrentMemoryContext;
			PG_TRY();
			{
				if (i == 0)
					(void) SPI_cursor_open_with_args("x", "INSERT INTO cursors_t VALUES (0)", 0, NULL,
													 NULL, NULL, false, 0);
				else if (i == 1)
				{
					(void) SPI_cursor_open_with_args("dup", "SELECT 1", 0, NULL, NULL, NULL, false, 0);
					(void) SPI_cursor_open_with_args("dup", "SELECT 2", 0, NULL, NULL, NULL, false, 0);
				}
				else
					(void) SPI_cursor_open_with_args("bad", "SELECT nope FROM cursors_t", 0, NULL,
													 NULL, NULL, false, 0);
				say("%s: opened", what[i]);
				end();
			}
			PG_CATCH();
			{
				ErrorData  *edata;

				MemoryContextSwitchTo(oldcontext);
				edata = CopyErrorData();
				FlushErrorState();
				say("%s: caught %s: %s", what[i], sqlstate(edata->sqlerrcode), edata->message);
				FreeErrorData(edata);
				AbortCurrentTransaction();
			}
			PG_END_TRY();
		}
	}
	begin();
	run("inserted nothing", "SELECT count(*) FROM cursors_t WHERE g = 0", 0);
	p = SPI_cursor_open_with_args("gone", "SELECT 1", 0, NULL, NULL, NULL, false, 0);
	end();
	begin();
	say("cursor after commit: %s", SPI_cursor_find("gone") ? "found" : "NULL");
	end();
}

/* Non-atomic SPI: commit and roll back inside, CALL a procedure that commits. */
static void
run_nonatomic(void)
{
	MemoryContext oldcontext;

	begin();
	run("setup", "CREATE TABLE nonatomic_t (i int, iso text); "
		"CREATE PROCEDURE nonatomic_p(a int) LANGUAGE plpgsql AS $$ BEGIN "
		"INSERT INTO nonatomic_t VALUES (a, NULL); COMMIT; "
		"INSERT INTO nonatomic_t VALUES (a + 1, NULL); ROLLBACK; "
		"INSERT INTO nonatomic_t VALUES (a + 2, NULL); END $$", 0);
	oldcontext = CurrentMemoryContext;
	PG_TRY();
	{
		SPI_commit();
		say("commit in an atomic connection: no error");
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(oldcontext);
		edata = CopyErrorData();
		FlushErrorState();
		say("commit in an atomic connection: caught %s: %s", sqlstate(edata->sqlerrcode), edata->message);
		FreeErrorData(edata);
	}
	PG_END_TRY();
	end();

	/*
	 * A worker has no portal to hold a snapshot across commits: it pushes one for its
	 * statements and pops it before each commit or rollback, as PostgreSQL requires.
	 */
	StartTransactionCommand();
	say("connect_ext %s inside=%d", SPI_result_code_string(SPI_connect_ext(SPI_OPT_NONATOMIC)),
		(int) SPI_inside_nonatomic_context());
	PushActiveSnapshot(GetTransactionSnapshot());
	run("insert 1", "INSERT INTO nonatomic_t VALUES (1, NULL)", 0);
	PopActiveSnapshot();
	SPI_commit();
	PushActiveSnapshot(GetTransactionSnapshot());
	run("insert 2", "INSERT INTO nonatomic_t VALUES (2, NULL)", 0);
	PopActiveSnapshot();
	SPI_rollback();
	XactIsoLevel = XACT_REPEATABLE_READ;
	PushActiveSnapshot(GetTransactionSnapshot());
	run("insert 3", "INSERT INTO nonatomic_t VALUES (3, current_setting('transaction_isolation'))", 0);
	PopActiveSnapshot();
	SPI_commit_and_chain();
	PushActiveSnapshot(GetTransactionSnapshot());
	run("insert 4", "INSERT INTO nonatomic_t VALUES (4, current_setting('transaction_isolation'))", 0);
	PopActiveSnapshot();
	SPI_commit();
	SPI_start_transaction();
	PushActiveSnapshot(GetTransactionSnapshot());
	run("insert 5", "INSERT INTO nonatomic_t VALUES (5, current_setting('transaction_isolation'))", 0);
	/* Plain SPI_execute runs CALL atomically: the procedure cannot commit. */
	guarded("call", "CALL nonatomic_p(10)", 0);
	run("rows", "SELECT i || ':' || coalesce(iso, '-') FROM nonatomic_t ORDER BY i", 0);
	PopActiveSnapshot();
	say("finish %s", SPI_result_code_string(SPI_finish()));
	CommitTransactionCommand();
}

/* The worker's settings and transaction state, as SQL sees them. */
static void
run_settings(void)
{
	Oid			types[2] = {OIDOID, OIDOID};
	Datum		values[2];

	say("greeting %s, count %d", greeting ? greeting : "NULL", count_setting);
	say("DefaultXactIsoLevel %d, DefaultXactReadOnly %d", DefaultXactIsoLevel, (int) DefaultXactReadOnly);
	say("outside: TopTransactionContext %s, MyDatabaseId %s", TopTransactionContext ? "set" : "NULL",
		MyDatabaseId != InvalidOid ? "set" : "unset");
	pgstat_report_appname("spi_features settings");
	begin();
	say("sql sees application_name %s",
		value("SELECT application_name FROM pg_stat_activity WHERE pid = pg_backend_pid()"));
	say("inside: TopTransactionContext %s, CurTransactionContext %s, nest %d, block %d, sub %d",
		TopTransactionContext ? "set" : "NULL",
		CurTransactionContext == TopTransactionContext ? "top" : "other",
		GetCurrentTransactionNestLevel(), (int) IsTransactionBlock(), (int) IsSubTransaction());
	say("sql sees greeting %s", value("SELECT current_setting('spi_features.greeting')"));
	say("sql sees count %s", value("SELECT current_setting('spi_features.count')"));
	say("sql sees placeholder %s", value("SELECT current_setting('spi_features.placeholder', true)"));
	values[0] = ObjectIdGetDatum(MyDatabaseId);
	values[1] = ObjectIdGetDatum(MyDatabaseTableSpace);
	SPI_execute_with_args("SELECT (oid = $1 AND dattablespace = $2)::text FROM pg_database "
						  "WHERE datname = current_database()", 2, types, values, NULL, false, 0);
	say("MyDatabaseId and MyDatabaseTableSpace match the catalog: %s", rows());
	say("xid before a write: %s", GetTopTransactionIdIfAny() == InvalidTransactionId ? "none" : "set");
	run("write", "CREATE TABLE settings_t (i int)", 0);
	{
		TransactionId xid = GetTopTransactionIdIfAny();
		Oid			xtypes[1] = {INT8OID};
		Datum		xvalues[1] = {Int64GetDatum((int64) xid)};

		say("xid after a write: %s, current is top: %d", xid != InvalidTransactionId ? "set" : "none",
			(int) (GetCurrentTransactionId() == xid));
		SPI_execute_with_args("SELECT (pg_current_xact_id()::text::bigint % 4294967296 = $1)::text", 1,
							  xtypes, xvalues, NULL, false, 0);
		say("xid matches the server's: %s", rows());
	}
	end();
	say("after commit: TopTransactionContext %s, current is top memory %d",
		TopTransactionContext ? "set" : "NULL", (int) (CurrentMemoryContext == TopMemoryContext));

	/* Isolation level and access mode set at the start of a transaction. */
	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	say("start: XactIsoLevel %d, current is transaction memory %d", XactIsoLevel,
		(int) (CurrentMemoryContext == TopTransactionContext));
	XactIsoLevel = XACT_SERIALIZABLE;
	XactReadOnly = true;
	SPI_connect();
	PushActiveSnapshot(GetTransactionSnapshot());
	say("isolation %s, read only %s", value("SHOW transaction_isolation"),
		value("SHOW transaction_read_only"));
	guarded("write in a read-only transaction", "INSERT INTO settings_t VALUES (1)", 0);
	end();
	begin();
	say("next transaction: isolation %s, read only %s", value("SHOW transaction_isolation"),
		value("SHOW transaction_read_only"));
	end();
}

static const char *const xact_events[] = {"COMMIT", "PARALLEL_COMMIT", "ABORT", "PARALLEL_ABORT",
"PREPARE", "PRE_COMMIT", "PARALLEL_PRE_COMMIT", "PRE_PREPARE"};
static const char *const subxact_events[] = {"START_SUB", "COMMIT_SUB", "ABORT_SUB", "PRE_COMMIT_SUB"};

static void
xact_callback(XactEvent event, void *arg)
{
	say("xact event %s (%s)", xact_events[event], (const char *) arg);
}

static void
subxact_callback(SubXactEvent event, SubTransactionId mySubid, SubTransactionId parentSubid, void *arg)
{
	(void) arg;
	say("subxact event %s %u parent %u, nest %d", subxact_events[event], mySubid, parentSubid,
		GetCurrentTransactionNestLevel());
}

/* Transaction and subtransaction callbacks, and subtransactions' effects. */
static void
run_callbacks(void)
{
	MemoryContext oldcontext;

	RegisterXactCallback(xact_callback, (void *) "first");
	RegisterXactCallback(xact_callback, (void *) "second");
	RegisterSubXactCallback(subxact_callback, NULL);
	begin();
	run("setup", "CREATE TABLE callbacks_t (i int)", 0);
	say("top subid %u", GetCurrentSubTransactionId());
	oldcontext = CurrentMemoryContext;
	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(oldcontext);
	say("in sub: subid %u nest %d block %d sub %d", GetCurrentSubTransactionId(),
		GetCurrentTransactionNestLevel(), (int) IsTransactionBlock(), (int) IsSubTransaction());
	run("insert in sub", "INSERT INTO callbacks_t VALUES (1)", 0);
	ReleaseCurrentSubTransaction();
	MemoryContextSwitchTo(oldcontext);
	say("released: subid %u nest %d", GetCurrentSubTransactionId(), GetCurrentTransactionNestLevel());
	guarded("failing sub", "INSERT INTO callbacks_t VALUES (2); SELECT 1 / 0", 0);
	BeginInternalSubTransaction("outer");
	MemoryContextSwitchTo(oldcontext);
	run("insert in outer", "INSERT INTO callbacks_t VALUES (3)", 0);
	BeginInternalSubTransaction("inner");
	MemoryContextSwitchTo(oldcontext);
	run("insert in inner", "INSERT INTO callbacks_t VALUES (4)", 0);
	RollbackAndReleaseCurrentSubTransaction();
	MemoryContextSwitchTo(oldcontext);
	ReleaseCurrentSubTransaction();
	MemoryContextSwitchTo(oldcontext);
	run("rows", "SELECT i FROM callbacks_t ORDER BY i", 0);
	end();
	UnregisterXactCallback(xact_callback, (void *) "first");
	begin();
	run("doomed", "INSERT INTO callbacks_t VALUES (5)", 0);
	SPI_finish();
	PopActiveSnapshot();
	AbortCurrentTransaction();
	begin();
	run("after abort", "SELECT count(*) FROM callbacks_t WHERE i = 5", 0);
	end();
	UnregisterXactCallback(xact_callback, (void *) "second");
	UnregisterSubXactCallback(subxact_callback, NULL);
	begin();
	run("no callbacks now", "SELECT 1", 0);
	end();
}

/* Waits to be terminated (pg_terminate_backend of its database session). */
static void
run_terminate(void)
{
	begin();
	run("setup", "CREATE TABLE terminate_me AS SELECT pg_backend_pid() AS pid", 0);
	end();
	say("waiting");
	for (;;)
	{
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, 60000L,
						 PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
	}
}

/* CALL of a procedure that commits inside, as a maintenance worker runs one. */
static void
run_call(void)
{
	SPIExecuteOptions options;

	begin();
	run("setup", "CREATE TABLE call_t (i int); "
		"CREATE PROCEDURE call_p(a int) LANGUAGE plpgsql AS $$ BEGIN "
		"INSERT INTO call_t VALUES (a); COMMIT; "
		"INSERT INTO call_t VALUES (a + 1); ROLLBACK; "
		"INSERT INTO call_t VALUES (a + 2); END $$", 0);
	end();
	StartTransactionCommand();
	SPI_connect_ext(SPI_OPT_NONATOMIC);
	memset(&options, 0, sizeof(options));
	options.allow_nonatomic = true;
	report("call", SPI_execute_extended("CALL call_p(10)", &options));
	report("rows", SPI_execute_extended("SELECT i FROM call_t ORDER BY i", &options));
	SPI_finish();
	CommitTransactionCommand();
}

/* VmHWM or VmRSS of this process, in kB. */
static long
status_kb(const char *field)
{
	FILE	   *f = fopen("/proc/self/status", "r");
	char		line[256];
	long		kb = -1;

	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, field, strlen(field)) == 0)
			kb = strtol(line + strlen(field) + 1, NULL, 10);
	fclose(f);
	return kb;
}

/* A million rows through a cursor, 1,000 at a time, each chunk freed once read. */
static void
run_million(void)
{
	Portal		p;
	uint64		total = 0;
	int64		sum = 0;
	Size		most = 0;
	long		before;

	begin();
	before = status_kb("VmHWM:");
	p = SPI_cursor_open_with_args("million", "SELECT g, repeat('x', 40) FROM generate_series(1, 1000000) g",
								  0, NULL, NULL, NULL, false, 0);
	for (;;)
	{
		Size		now;

		SPI_cursor_fetch(p, true, 1000);
		if (SPI_processed == 0)
			break;
		for (uint64 r = 0; r < SPI_processed; r++)
		{
			bool		isnull;

			sum += DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, 1, &isnull));
		}
		total += SPI_processed;
		now = MemoryContextMemAllocated(TopMemoryContext, true);
		if (now > most)
			most = now;
		SPI_freetuptable(SPI_tuptable);
	}
	SPI_cursor_close(p);
	say("rows " UINT64_FORMAT " sum " INT64_FORMAT, total, sum);
	say("peak memory: VmHWM grew %ld kB, contexts at most %zu kB", status_kb("VmHWM:") - before,
		most / 1024);
	end();
}

/* The session's prepared statements, as plans are made, kept, freed and forgotten. */
static void
run_statements(void)
{
	const char *count = "SELECT count(*) FROM pg_prepared_statements";
	SPIPlanPtr	kept;
	SPIPlanPtr	transient;
	Oid			types[1] = {INT4OID};
	Datum		values[1] = {Int32GetDatum(7)};

	begin();
	kept = SPI_prepare("SELECT $1 + 1", 1, types);
	SPI_keepplan(kept);
	transient = SPI_prepare("SELECT $1 + 2", 1, types);
	(void) transient;
	say("two plans: %s prepared statements", value(count));
	end();
	begin();
	say("after the transient plan's SPI_finish: %s", value(count));
	report("kept", SPI_execute_plan(kept, values, NULL, false, 0));
	run("forget them all", "DEALLOCATE ALL", 0);
	say("after DEALLOCATE ALL: %s", value(count));
	report("kept, prepared again", SPI_execute_plan(kept, values, NULL, false, 0));
	say("after running it: %s", value(count));
	SPI_freeplan(kept);
	say("freed, in the transaction: %s", value(count));
	end();
	begin();
	say("freed, after the commit: %s", value(count));
	end();
}

/* What SQL sees of spi_features.greeting, at start and after each SIGHUP. */
static void
run_reload(void)
{
	pgstat_report_appname("spi_features reload");
	begin();
	say("sql sees greeting %s", value("SELECT current_setting('spi_features.greeting')"));
	/* Inside a transaction: takes effect when it ends, and a rollback does not undo it. */
	pgstat_report_appname("spi_features renamed");
	SPI_finish();
	PopActiveSnapshot();
	AbortCurrentTransaction();
	for (;;)
	{
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, 60000L,
						 PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
			begin();
			say("sql sees greeting %s", value("SELECT current_setting('spi_features.greeting')"));
			end();
		}
	}
}

void
spi_features_main(Datum arg)
{
	(void) arg;
	mode = MyBgworkerEntry->bgw_name + strlen("spi_features ");
	pqsignal(SIGTERM, die);
	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	BackgroundWorkerUnblockSignals();
	BackgroundWorkerInitializeConnection("postgres", NULL, 0);
	say("started");

	if (strcmp(mode, "multi") == 0)
		run_multi();
	else if (strcmp(mode, "limit") == 0)
		run_limit();
	else if (strcmp(mode, "plans") == 0)
		run_plans();
	else if (strcmp(mode, "cursors") == 0)
		run_cursors();
	else if (strcmp(mode, "nonatomic") == 0)
		run_nonatomic();
	else if (strcmp(mode, "settings") == 0)
		run_settings();
	else if (strcmp(mode, "callbacks") == 0)
		run_callbacks();
	else if (strcmp(mode, "terminate") == 0)
		run_terminate();
	else if (strcmp(mode, "call") == 0)
		run_call();
	else if (strcmp(mode, "million") == 0)
		run_million();
	else if (strcmp(mode, "statements") == 0)
		run_statements();
	else if (strcmp(mode, "reload") == 0)
		run_reload();
	say("done");
	proc_exit(0);
}

void
_PG_init(void)
{
	const char *modes = getenv("SPI_FEATURES");
	char		list[1024];
	char	   *save = NULL;

	DefineCustomStringVariable("spi_features.greeting", "A text the workers read.", NULL,
							   &greeting, "hello", PGC_SIGHUP, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("spi_features.count", "A number the workers read.", NULL,
							&count_setting, 0, 0, INT_MAX, PGC_SIGHUP, GUC_UNIT_S, NULL, NULL, NULL);
	if (!process_shared_preload_libraries_in_progress || modes == NULL)
		return;
	snprintf(list, sizeof(list), "%s", modes);
	for (char *m = strtok_r(list, ",", &save); m != NULL; m = strtok_r(NULL, ",", &save))
	{
		BackgroundWorker worker;

		memset(&worker, 0, sizeof(worker));
		worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
		worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
		worker.bgw_restart_time = BGW_NEVER_RESTART;
		snprintf(worker.bgw_library_name, BGW_MAXLEN, "spi_features");
		snprintf(worker.bgw_function_name, BGW_MAXLEN, "spi_features_main");
		snprintf(worker.bgw_name, BGW_MAXLEN, "spi_features %s", m);
		snprintf(worker.bgw_type, BGW_MAXLEN, "spi_features");
		RegisterBackgroundWorker(&worker);
	}
}
