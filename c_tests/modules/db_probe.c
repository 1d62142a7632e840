/*
 * db_probe.c -- database-connection test worker, registered through the probe module with
 * lib=db_probe, func=db_probe_main; bgw_extra says what to do: ACTION[:A[:B]], "-" for NULL.
 *
 *   idle:DB:USER   BackgroundWorkerInitializeConnection(DB, USER, 0), log
 *                  `db_probe connected`, then sleep on the latch until terminated
 *   twice:DB       connect, log `db_probe connected`, connect again (must be FATAL)
 *   bypass:DB      connect with BGWORKER_BYPASS_ALLOWCONN, then sleep like idle
 *   byoid:DBOID:USEROID  BackgroundWorkerInitializeConnectionByOid, then sleep like idle
 *   cycle:DB       connect, count this run in $PROBE_STATE_DIR/<name>.count and log
 *                  `db_probe cycle N`; exit 1 (restarted) until N reaches the main argument,
 *                  then exit 0
 *   xact:DB        the transaction and snapshot calls, their misuse caught with PG_TRY, and the
 *                  quoting helpers; each result logged as `db_probe xact: ...`; then idle
 *   begin:DB       connect, StartTransactionCommand and a first statement (SELECT 1: the server's
 *                  transaction block opens with it), log `db_probe begin: in transaction`, then
 *                  sleep inside the transaction (a test kills it there)
 *   insert:DB      as begin, but first INSERT INTO killed_mid_xact VALUES (1), (2) through SPI,
 *                  then log `db_probe insert: 2 rows pending` and sleep inside the transaction
 */
#include "postgres.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "access/xact.h"
#include "executor/spi.h"
#include "postmaster/bgworker.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "utils/builtins.h"
#include "utils/elog.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/wait_event.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

PG_MODULE_MAGIC;

PGDLLEXPORT void db_probe_main(Datum main_arg);

static char parts[3][BGW_EXTRALEN];

static const char *
arg_or_null(int i)
{
	return (parts[i][0] == '\0' || strcmp(parts[i], "-") == 0) ? NULL : parts[i];
}

static void
split_extra(const char *extra)
{
	int			i = 0;
	size_t		n = 0;

	memset(parts, 0, sizeof(parts));
	for (; *extra != '\0' && i < 3; extra++)
	{
		if (*extra == ':')
		{
			i++;
			n = 0;
			continue;
		}
		if (n + 1 < BGW_EXTRALEN)
			parts[i][n++] = *extra;
	}
}

static void
sleep_forever(void)
{
	for (;;)
	{
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, 1000L,
						 PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
	}
}

/* Runs f inside PG_TRY and logs what it raised (or that it raised nothing). */
static void
expect_error(const char *what, void (*f) (void))
{
	MemoryContext oldcontext = CurrentMemoryContext;

	PG_TRY();
	{
		f();
		elog(LOG, "db_probe xact: %s raised nothing", what);
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(oldcontext);
		edata = CopyErrorData();
		FlushErrorState();
		elog(LOG, "db_probe xact: %s caught: %s", what, edata->message);
		FreeErrorData(edata);
	}
	PG_END_TRY();
}

static void
pop_without_push(void)
{
	PopActiveSnapshot();
}

static void
start_twice(void)
{
	StartTransactionCommand();
	StartTransactionCommand();
}

static void
commit_outside(void)
{
	CommitTransactionCommand();
}

static void
snapshot_outside(void)
{
	(void) GetTransactionSnapshot();
}

static void
run_xact(void)
{
	Snapshot	snap;

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	elog(LOG, "db_probe xact: in transaction %d", (int) IsTransactionState());
	snap = GetTransactionSnapshot();
	elog(LOG, "db_probe xact: snapshot %s", snap != NULL ? "non-null" : "NULL");
	PushActiveSnapshot(snap);
	elog(LOG, "db_probe xact: active %d", (int) ActiveSnapshotSet());
	PopActiveSnapshot();
	CommitTransactionCommand();
	pgstat_report_stat(false);
	elog(LOG, "db_probe xact: after commit %d", (int) IsTransactionState());

	expect_error("pop without push", pop_without_push);
	expect_error("start twice", start_twice);
	/* start_twice left the first transaction open */
	AbortCurrentTransaction();
	elog(LOG, "db_probe xact: after abort %d", (int) IsTransactionState());
	expect_error("commit outside", commit_outside);
	expect_error("snapshot outside", snapshot_outside);

	elog(LOG, "db_probe xact: ident %s %s %s %s", quote_identifier("counted"),
		 quote_identifier("Mixed Case"), quote_identifier("select"), quote_identifier("a\"b"));
	elog(LOG, "db_probe xact: literal %s %s", quote_literal_cstr("it's"),
		 quote_literal_cstr("back\\slash"));
	elog(LOG, "db_probe xact: debug_query_string %s",
		 debug_query_string == NULL ? "NULL" : debug_query_string);
}

static int
count_run(const char *name)
{
	const char *dir = getenv("PROBE_STATE_DIR");
	char		path[1024];
	FILE	   *f;
	int			n = 0;

	if (dir == NULL)
		return 1;
	snprintf(path, sizeof(path), "%s/%s.count", dir, name);
	f = fopen(path, "r");
	if (f != NULL)
	{
		if (fscanf(f, "%d", &n) != 1)
			n = 0;
		fclose(f);
	}
	n++;
	f = fopen(path, "w");
	if (f != NULL)
	{
		fprintf(f, "%d\n", n);
		fclose(f);
	}
	return n;
}

void
db_probe_main(Datum main_arg)
{
	const char *action;

	BackgroundWorkerUnblockSignals();
	split_extra(MyBgworkerEntry->bgw_extra);
	action = parts[0];
	elog(LOG, "db_probe \"%s\" started pid=%d action=%s", MyBgworkerEntry->bgw_name,
		 (int) getpid(), action);

	if (strcmp(action, "byoid") == 0)
	{
		Oid			dboid = (Oid) strtoul(parts[1], NULL, 10);
		Oid			useroid = (Oid) strtoul(parts[2], NULL, 10);

		BackgroundWorkerInitializeConnectionByOid(dboid, useroid, 0);
	}
	else
		BackgroundWorkerInitializeConnection(arg_or_null(1), arg_or_null(2),
											 strcmp(action, "bypass") == 0 ?
											 BGWORKER_BYPASS_ALLOWCONN : 0);
	elog(LOG, "db_probe connected");

	if (strcmp(action, "twice") == 0)
	{
		BackgroundWorkerInitializeConnection(arg_or_null(1), NULL, 0);
		elog(LOG, "db_probe second call returned");
	}
	else if (strcmp(action, "cycle") == 0)
	{
		int			n = count_run(MyBgworkerEntry->bgw_name);

		elog(LOG, "db_probe cycle %d", n);
		proc_exit(n >= DatumGetInt32(main_arg) ? 0 : 1);
	}
	else if (strcmp(action, "xact") == 0)
		run_xact();
	else if (strcmp(action, "begin") == 0)
	{
		StartTransactionCommand();
		SPI_connect();
		SPI_execute("SELECT 1", true, 0);
		elog(LOG, "db_probe begin: in transaction");
	}
	else if (strcmp(action, "insert") == 0)
	{
		int			ret;

		StartTransactionCommand();
		SPI_connect();
		PushActiveSnapshot(GetTransactionSnapshot());
		ret = SPI_execute("INSERT INTO killed_mid_xact VALUES (1), (2)", false, 0);
		elog(LOG, "db_probe insert: %d rows pending (ret %d)", (int) SPI_processed, ret);
	}
	sleep_forever();
}
