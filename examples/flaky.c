/*
 * flaky.c -- example worker that fails on purpose: it works for a few seconds, then raises an
 * ERROR (exit code 1), and the supervisor starts it again bgw_restart_time (2 s) later.
 *
 * Each run logs its incarnation number.  The counter must outlive the worker process, so
 * _PG_init maps a small shared page in the supervisor and passes its address as bgw_main_arg;
 * every worker is forked from the supervisor and sees the same page.  bgw_extra carries the
 * number of seconds a run lasts, as text.
 */
#include "postgres.h"

#include <sys/mman.h>

#include "fmgr.h"
#include "miscadmin.h"
#include "postmaster/bgworker.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "utils/wait_event.h"

PG_MODULE_MAGIC;

void _PG_init(void);
PGDLLEXPORT void flaky_main(Datum main_arg) pg_attribute_noreturn();

static volatile sig_atomic_t shutdown_requested = false;

static void
flaky_sigterm(SIGNAL_ARGS)
{
	int save_errno = errno;

	shutdown_requested = true;
	SetLatch(MyLatch);
	errno = save_errno;
}

void
flaky_main(Datum main_arg)
{
	uint32 *incarnations = (uint32 *) DatumGetPointer(main_arg);
	int lifetime = atoi(MyBgworkerEntry->bgw_extra);
	uint32 incarnation;
	int worked = 0;

	pqsignal(SIGTERM, flaky_sigterm);
	BackgroundWorkerUnblockSignals();

	incarnation = __atomic_add_fetch(incarnations, 1, __ATOMIC_SEQ_CST);
	elog(LOG, "incarnation %u started (pid %d), will fail after %d s", incarnation, MyProcPid,
		 lifetime);

	while (!shutdown_requested)
	{
		int rc = WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, 1000L,
						   PG_WAIT_EXTENSION);

		ResetLatch(MyLatch);
		if (!(rc & WL_TIMEOUT))
			continue;
		if (++worked >= lifetime)
			ereport(ERROR,
					errcode(ERRCODE_INTERNAL_ERROR),
					errmsg("incarnation %u failing on purpose after %d s", incarnation, worked),
					errhint("The supervisor restarts it in %d s.", MyBgworkerEntry->bgw_restart_time));
		elog(LOG, "incarnation %u working (%d/%d)", incarnation, worked, lifetime);
	}

	elog(LOG, "incarnation %u received SIGTERM, exiting", incarnation);
	proc_exit(0);
}

void
_PG_init(void)
{
	BackgroundWorker worker;
	void *counter;

	if (!process_shared_preload_libraries_in_progress)
		return;

	counter = mmap(NULL, sizeof(uint32), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (counter == MAP_FAILED)
		elog(FATAL, "could not map the incarnation counter: %s", strerror(errno));

	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = 2;
	snprintf(worker.bgw_library_name, BGW_MAXLEN, "flaky");
	snprintf(worker.bgw_function_name, BGW_MAXLEN, "flaky_main");
	snprintf(worker.bgw_name, BGW_MAXLEN, "flaky worker");
	snprintf(worker.bgw_type, BGW_MAXLEN, "flaky");
	snprintf(worker.bgw_extra, BGW_EXTRALEN, "%d", 3);
	worker.bgw_main_arg = PointerGetDatum(counter);
	RegisterBackgroundWorker(&worker);
}
