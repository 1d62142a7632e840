/*
 * worker_spi_like.c -- a module shaped like PostgreSQL 15's worker_spi test module, written for
 * this project: static workers (worker_spi_like.total_workers of them, when preloaded) each own a
 * table schema<N>.counted with one 'total' row and any number of 'delta' rows; every naptime
 * seconds, and at once on SIGHUP, a worker folds the deltas into the total in one statement and
 * logs the new count.  Settings: worker_spi_like.naptime (seconds, reloadable),
 * worker_spi_like.total_workers and worker_spi_like.database (restart only).
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
#include "utils/guc.h"
#include "utils/snapmgr.h"
#include "utils/wait_event.h"

#include <limits.h>
#include <signal.h>
#include <stdio.h>

PG_MODULE_MAGIC;

void		_PG_init(void);
PGDLLEXPORT void worker_spi_like_main(Datum main_arg);

static int	naptime_s = 10;
static int	total_workers = 2;
static char *database = NULL;

/* The schema and table a worker owns. */
typedef struct
{
	char	   *schema;
	char	   *name;
} counted_table;

/* Runs one statement in its own transaction with a snapshot, as the worker's steps do. */
static void
begin_step(const char *activity)
{
	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	SPI_connect();
	PushActiveSnapshot(GetTransactionSnapshot());
	debug_query_string = activity;
	pgstat_report_activity(STATE_RUNNING, activity);
}

static void
end_step(void)
{
	SPI_finish();
	PopActiveSnapshot();
	CommitTransactionCommand();
	debug_query_string = NULL;
	pgstat_report_stat(true);
	pgstat_report_activity(STATE_IDLE, NULL);
}

/* Creates the schema and its table unless the schema exists already. */
static void
create_table(const counted_table *t)
{
	StringInfoData q;
	bool		isnull;
	int			rc;
	int64		found;

	begin_step("initializing worker_spi_like schema");
	initStringInfo(&q);
	appendStringInfo(&q, "SELECT count(*) FROM pg_namespace WHERE nspname = %s",
					 quote_literal_cstr(t->schema));
	rc = SPI_execute(q.data, true, 0);
	if (rc != SPI_OK_SELECT)
		elog(FATAL, "SPI_execute failed: %s", SPI_result_code_string(rc));
	if (SPI_processed != 1)
		elog(FATAL, "not a singleton result");
	found = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	if (isnull)
		elog(FATAL, "null result");
	if (found == 0)
	{
		resetStringInfo(&q);
		appendStringInfo(&q,
						 "CREATE SCHEMA %s "
						 "CREATE TABLE counted (type text CHECK (type IN ('total', 'delta')), value integer) "
						 "CREATE UNIQUE INDEX counted_total_once ON counted (type) WHERE type = 'total'",
						 t->schema);
		rc = SPI_execute(q.data, false, 0);
		if (rc != SPI_OK_UTILITY)
			elog(FATAL, "creating the table failed: %s", SPI_result_code_string(rc));
	}
	end_step();
}

void
worker_spi_like_main(Datum main_arg)
{
	int			index = DatumGetInt32(main_arg);
	counted_table table;
	StringInfoData fold;
	char		schema[NAMEDATALEN];

	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();
	BackgroundWorkerInitializeConnection(database, NULL, 0);

	snprintf(schema, sizeof(schema), "schema%d", index);
	table.schema = pstrdup(schema);
	table.name = pstrdup("counted");
	elog(LOG, "%s initialized with %s.%s", MyBgworkerEntry->bgw_name, table.schema, table.name);
	{
		/* Qualified names for the statements (the table name here needs no quoting). */
		StringInfoData qualified;

		initStringInfo(&qualified);
		appendStringInfo(&qualified, "%s.%s", quote_identifier(table.schema),
						 quote_identifier(table.name));
		table.name = qualified.data;
		table.schema = pstrdup(quote_identifier(table.schema));
	}
	create_table(&table);

	/* One statement: remove the deltas, add their sum to the total, return the new total. */
	initStringInfo(&fold);
	appendStringInfo(&fold,
					 "WITH deleted AS (DELETE FROM %s WHERE type = 'delta' RETURNING value), "
					 "total AS (SELECT coalesce(sum(value), 0) AS sum FROM deleted) "
					 "UPDATE %s SET value = %s.value + total.sum FROM total WHERE type = 'total' "
					 "RETURNING %s.value",
					 table.name, table.name, table.name, table.name);

	for (;;)
	{
		int			rc;

		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 naptime_s * 1000L, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();

		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
		}

		begin_step(fold.data);
		rc = SPI_execute(fold.data, false, 0);
		if (rc != SPI_OK_UPDATE_RETURNING)
			elog(FATAL, "cannot select from table %s: error code %d", table.name, rc);
		if (SPI_processed > 0)
		{
			bool		isnull;
			int32		value = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0],
															  SPI_tuptable->tupdesc, 1, &isnull));

			if (!isnull)
				elog(LOG, "%s: count in %s is now %d", MyBgworkerEntry->bgw_name, table.name,
					 value);
		}
		end_step();
	}
}

void
_PG_init(void)
{
	BackgroundWorker worker;
	int			i;

	DefineCustomIntVariable("worker_spi_like.naptime", "Seconds between folds.", NULL, &naptime_s,
							10, 1, INT_MAX, PGC_SIGHUP, 0, NULL, NULL, NULL);
	if (!process_shared_preload_libraries_in_progress)
		return;
	DefineCustomIntVariable("worker_spi_like.total_workers", "How many workers to start.", NULL,
							&total_workers, 2, 1, 100, PGC_POSTMASTER, 0, NULL, NULL, NULL);
	DefineCustomStringVariable("worker_spi_like.database", "Database to connect to.", NULL,
							   &database, "postgres", PGC_POSTMASTER, 0, NULL, NULL, NULL);
	MarkGUCPrefixReserved("worker_spi_like");

	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = BGW_NEVER_RESTART;
	snprintf(worker.bgw_library_name, BGW_MAXLEN, "worker_spi_like");
	snprintf(worker.bgw_function_name, BGW_MAXLEN, "worker_spi_like_main");
	snprintf(worker.bgw_type, BGW_MAXLEN, "worker_spi_like");
	worker.bgw_notify_pid = 0;
	for (i = 1; i <= total_workers; i++)
	{
		snprintf(worker.bgw_name, BGW_MAXLEN, "worker_spi_like worker %d", i);
		worker.bgw_main_arg = Int32GetDatum(i);
		RegisterBackgroundWorker(&worker);
	}
}
