/* hello_bgw.c -- minimal background worker: sleeps on its latch, logs, exits on SIGTERM. */
#include "postgres.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "postmaster/bgworker.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "utils/wait_event.h"

PG_MODULE_MAGIC;

void _PG_init(void);
PGDLLEXPORT void hello_main(Datum arg) pg_attribute_noreturn();

static volatile sig_atomic_t stop_requested = false;

static void
hello_sigterm(SIGNAL_ARGS)
{
	int save_errno = errno;
	stop_requested = true;
	SetLatch(MyLatch);
	errno = save_errno;
}

void
hello_main(Datum arg)
{
	pqsignal(SIGTERM, hello_sigterm);
	BackgroundWorkerUnblockSignals();
	elog(LOG, "hello from %s (arg %d)", MyBgworkerEntry->bgw_name, DatumGetInt32(arg));
	while (!stop_requested)
	{
		int rc = WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						   1000L, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		if (rc & WL_TIMEOUT)
			elog(LOG, "hello tick");
	}
	proc_exit(0);
}

void
_PG_init(void)
{
	BackgroundWorker w;

	if (!process_shared_preload_libraries_in_progress)
		return;
	memset(&w, 0, sizeof(w));
	w.bgw_flags = BGWORKER_SHMEM_ACCESS;
	w.bgw_start_time = BgWorkerStart_PostmasterStart;
	w.bgw_restart_time = BGW_DEFAULT_RESTART_INTERVAL;
	snprintf(w.bgw_library_name, BGW_MAXLEN, "hello_bgw");
	snprintf(w.bgw_function_name, BGW_MAXLEN, "hello_main");
	snprintf(w.bgw_name, BGW_MAXLEN, "hello worker");
	w.bgw_main_arg = Int32GetDatum(42);
	RegisterBackgroundWorker(&w);
}
