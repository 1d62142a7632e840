/*
 * reporter.c -- a worker that reports its activity with pgstat_report_activity, then waits on
 * its latch: what `bgworkerctl status` shows in its ACTIVITY column.
 */
#include "postgres.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "utils/wait_event.h"

PG_MODULE_MAGIC;

void		_PG_init(void);
PGDLLEXPORT void reporter_main(Datum arg) pg_attribute_noreturn();

void
reporter_main(Datum arg)
{
	(void) arg;
	BackgroundWorkerUnblockSignals();
	pgstat_report_activity(STATE_RUNNING, "folding \"deltas\" into totals");
	elog(LOG, "reporter reported its activity");
	for (;;)
	{
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_EXIT_ON_PM_DEATH, -1L, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
	}
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
	worker.bgw_restart_time = BGW_NEVER_RESTART;
	snprintf(worker.bgw_library_name, BGW_MAXLEN, "reporter");
	snprintf(worker.bgw_function_name, BGW_MAXLEN, "reporter_main");
	snprintf(worker.bgw_name, BGW_MAXLEN, "reporter");
	RegisterBackgroundWorker(&worker);
}
