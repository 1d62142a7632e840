/*
 * shmem_probe.c -- shared memory as PostgreSQL 15 modules use it: space and a named LWLock
 * tranche requested in shmem_request_hook, a structure made in shmem_startup_hook under
 * AddinShmemInitLock, workers sharing it; and test_shm_mq's pattern of setting another
 * process's latch through BackendPidGetProc.
 *
 * SHMEM_PROBE lists the workers to register: "count:N" (N increments under the tranche lock),
 * "report:N" (waits, bounded, for the counter to reach N and logs it), "crash" (segfaults),
 * "toomuch" (asks for more than was requested), "waker" (launches a dynamic worker that sets
 * this worker's latch).
 */
#include "postgres.h"

#include "fmgr.h"
#include "miscadmin.h"
#include "postmaster/bgworker.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/lwlock.h"
#include "storage/proc.h"
#include "storage/shmem.h"
#include "utils/wait_event.h"

PG_MODULE_MAGIC;

void		_PG_init(void);
PGDLLEXPORT void shmem_probe_main(Datum arg) pg_attribute_noreturn();
PGDLLEXPORT void shmem_probe_setter(Datum arg) pg_attribute_noreturn();

typedef struct ProbeState
{
	uint64		counter;
	int			startups;
} ProbeState;

static shmem_request_hook_type prev_request_hook = NULL;
static shmem_startup_hook_type prev_startup_hook = NULL;
static ProbeState *state = NULL;

static void
probe_request(void)
{
	if (prev_request_hook)
		prev_request_hook();
	RequestAddinShmemSpace(MAXALIGN(sizeof(ProbeState)));
	RequestNamedLWLockTranche("shmem_probe", 2);
}

static void
probe_startup(void)
{
	bool		found;

	if (prev_startup_hook)
		prev_startup_hook();
	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	state = ShmemInitStruct("shmem_probe state", sizeof(ProbeState), &found);
	if (!found)
	{
		state->counter = 0;
		state->startups = 0;
	}
	state->startups++;
	LWLockRelease(AddinShmemInitLock);
	elog(LOG, "shmem_probe: startup hook found=%d counter=%llu", (int) found,
		 (unsigned long long) state->counter);
}

static void
attach_state(void)
{
	bool		found;

	state = ShmemInitStruct("shmem_probe state", sizeof(ProbeState), &found);
	if (!found)
		elog(FATAL, "shmem_probe: state was not made by the startup hook");
}

void
shmem_probe_setter(Datum arg)
{
	PGPROC	   *proc;

	(void) arg;
	BackgroundWorkerUnblockSignals();
	proc = BackendPidGetProc(MyBgworkerEntry->bgw_notify_pid);
	if (proc == NULL)
		proc_exit(1);
	elog(LOG, "shmem_probe: setting the latch of PID %d (proc pid %d)",
		 (int) MyBgworkerEntry->bgw_notify_pid, proc->pid);
	SetLatch(&proc->procLatch);
	proc_exit(0);
}

void
shmem_probe_main(Datum arg)
{
	const char *mode = MyBgworkerEntry->bgw_extra;
	LWLockPadded *locks;

	BackgroundWorkerUnblockSignals();
	attach_state();
	locks = GetNamedLWLockTranche("shmem_probe");
	if (strncmp(mode, "count:", 6) == 0)
	{
		int			n = atoi(mode + 6);

		for (int i = 0; i < n; i++)
		{
			LWLockAcquire(&locks[0].lock, LW_EXCLUSIVE);
			state->counter++;
			LWLockRelease(&locks[0].lock);
		}
		elog(LOG, "shmem_probe: worker %d done", DatumGetInt32(arg));
		/* then idle, so a crash-restart brings it back */
	}
	if (strncmp(mode, "count:", 6) == 0)
		;
	else if (strcmp(mode, "toomuch") == 0)
	{
		bool		found;

		(void) ShmemInitStruct("shmem_probe extra", 1024 * 1024, &found);
		elog(LOG, "shmem_probe: got more than was requested");
	}
	else if (strcmp(mode, "waker") == 0)
	{
		BackgroundWorker w;
		BackgroundWorkerHandle *h;
		int			rc;

		ResetLatch(MyLatch);
		memset(&w, 0, sizeof(w));
		w.bgw_flags = BGWORKER_SHMEM_ACCESS;
		w.bgw_start_time = BgWorkerStart_RecoveryFinished;
		w.bgw_restart_time = BGW_NEVER_RESTART;
		snprintf(w.bgw_library_name, BGW_MAXLEN, "shmem_probe");
		snprintf(w.bgw_function_name, BGW_MAXLEN, "shmem_probe_setter");
		snprintf(w.bgw_name, BGW_MAXLEN, "shmem_probe setter");
		w.bgw_notify_pid = MyProcPid;
		if (!RegisterDynamicBackgroundWorker(&w, &h))
			elog(FATAL, "shmem_probe: could not register the setter");
		/* No SIGUSR1 handler and no timeout: only the setter's SetLatch can wake us. */
		rc = WaitLatch(MyLatch, WL_LATCH_SET | WL_EXIT_ON_PM_DEATH, -1L, PG_WAIT_EXTENSION);
		elog(LOG, "shmem_probe: woken by another process rc=%d my proc pid %d", rc, MyProc->pid);
		proc_exit(0);
	}
	else if (strncmp(mode, "report:", 7) == 0)
	{
		uint64		want = strtoull(mode + 7, NULL, 10);
		uint64		seen = 0;

		/* Bounded: 20 s at most, then report whatever is there. */
		for (int i = 0; i < 2000; i++)
		{
			LWLockAcquire(&locks[0].lock, LW_SHARED);
			seen = state->counter;
			LWLockRelease(&locks[0].lock);
			if (seen >= want)
				break;
			(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, 10L,
							 PG_WAIT_EXTENSION);
			ResetLatch(MyLatch);
		}
		elog(LOG, "shmem_probe: report counter=%llu", (unsigned long long) seen);
		proc_exit(0);
	}
	else if (strcmp(mode, "crash") == 0)
	{
		elog(LOG, "shmem_probe: crashing with counter=%llu startups=%d",
			 (unsigned long long) state->counter, state->startups);
		*(volatile int *) NULL = 1;
	}
	for (;;)
	{
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_EXIT_ON_PM_DEATH, -1L, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
	}
}

void
_PG_init(void)
{
	const char *spec = getenv("SHMEM_PROBE");
	char		list[512];
	char	   *save = NULL;
	int			i = 0;

	if (!process_shared_preload_libraries_in_progress || spec == NULL)
		return;
	prev_request_hook = shmem_request_hook;
	shmem_request_hook = probe_request;
	prev_startup_hook = shmem_startup_hook;
	shmem_startup_hook = probe_startup;
	snprintf(list, sizeof(list), "%s", spec);
	for (char *m = strtok_r(list, ",", &save); m != NULL; m = strtok_r(NULL, ",", &save), i++)
	{
		BackgroundWorker w;

		memset(&w, 0, sizeof(w));
		w.bgw_flags = BGWORKER_SHMEM_ACCESS;
		w.bgw_start_time = BgWorkerStart_RecoveryFinished;
		w.bgw_restart_time = strncmp(m, "count", 5) == 0 ? 1 : BGW_NEVER_RESTART;
		snprintf(w.bgw_library_name, BGW_MAXLEN, "shmem_probe");
		snprintf(w.bgw_function_name, BGW_MAXLEN, "shmem_probe_main");
		snprintf(w.bgw_name, BGW_MAXLEN, "shmem_probe %d %s", i, m);
		snprintf(w.bgw_type, BGW_MAXLEN, "shmem_probe");
		snprintf(w.bgw_extra, BGW_EXTRALEN, "%s", m);
		w.bgw_main_arg = Int32GetDatum(i);
		RegisterBackgroundWorker(&w);
	}
}
