/*
 * init_once.c -- counts its _PG_init calls: preloaded into the supervisor it registers a worker
 * whose entry function is in this same library; the worker reports how often _PG_init ran in
 * its process (once, inherited — never again).
 */
#include "postgres.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "postmaster/bgworker.h"
#include "storage/ipc.h"

PG_MODULE_MAGIC;

void		_PG_init(void);
PGDLLEXPORT void init_once_main(Datum arg);

static int	init_calls = 0;

void
init_once_main(Datum arg)
{
	(void) arg;
	elog(LOG, "init_once: _PG_init ran %d time(s) in this process", init_calls);
	proc_exit(0);
}

void
_PG_init(void)
{
	BackgroundWorker worker;

	init_calls++;
	elog(LOG, "init_once: _PG_init call %d in pid %d preload=%d", init_calls, (int) getpid(),
		 (int) process_shared_preload_libraries_in_progress);
	if (!process_shared_preload_libraries_in_progress)
		return;
	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = BGW_NEVER_RESTART;
	snprintf(worker.bgw_library_name, BGW_MAXLEN, "init_once");
	snprintf(worker.bgw_function_name, BGW_MAXLEN, "init_once_main");
	snprintf(worker.bgw_name, BGW_MAXLEN, "init once");
	RegisterBackgroundWorker(&worker);
}
