/*
 * ticker.c -- example worker: logs a numbered tick every second until it gets SIGTERM, then
 * exits with code 0 so the supervisor does not restart it.
 *
 * Built like any PostgreSQL module and loaded through shared_preload_libraries:
 *   cc -std=c11 -fPIC -shared -Iinclude -o ticker.so examples/ticker.c -Ltarget/debug -lbgworker
 */
#include "postgres.h"

#include "fmgr.h"
#include "miscadmin.h"
#include "postmaster/bgworker.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "utils/wait_event.h"

PG_MODULE_MAGIC;

void _PG_init(void);
PGDLLEXPORT void ticker_main(Datum main_arg) pg_attribute_noreturn();

/* Set by the SIGTERM handler; the main loop notices it when the latch wakes it. */
static volatile sig_atomic_t shutdown_requested = false;

static void
ticker_sigterm(SIGNAL_ARGS)
{
	int save_errno = errno;

	shutdown_requested = true;
	SetLatch(MyLatch);
	errno = save_errno;
}

/* Entry point: main_arg is the tick interval in milliseconds. */
void
ticker_main(Datum main_arg)
{
	long interval_ms = DatumGetInt32(main_arg);
	int64 ticks = 0;

	pqsignal(SIGTERM, ticker_sigterm);
	BackgroundWorkerUnblockSignals();

	elog(LOG, "%s started (pid %d), ticking every %ld ms", MyBgworkerEntry->bgw_name, MyProcPid,
		 interval_ms);

	while (!shutdown_requested)
	{
		int rc = WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, interval_ms,
						   PG_WAIT_EXTENSION);

		ResetLatch(MyLatch);
		if (rc & WL_TIMEOUT)
			elog(LOG, "tick " INT64_FORMAT, ++ticks);
	}

	elog(LOG, "received SIGTERM after " INT64_FORMAT " ticks, exiting", ticks);
	proc_exit(0);
}

void
_PG_init(void)
{
	BackgroundWorker worker;

	if (!process_shared_preload_libraries_in_progress)
		return;

	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = BGW_DEFAULT_RESTART_INTERVAL;
	snprintf(worker.bgw_library_name, BGW_MAXLEN, "ticker");
	snprintf(worker.bgw_function_name, BGW_MAXLEN, "ticker_main");
	snprintf(worker.bgw_name, BGW_MAXLEN, "ticker worker");
	snprintf(worker.bgw_type, BGW_MAXLEN, "ticker");
	worker.bgw_main_arg = Int32GetDatum(1000);
	RegisterBackgroundWorker(&worker);
}
