/*
 * dyn_probe.c -- the module of the dynamic-worker tests (tests/dynamic.rs, tests/handles.rs,
 * tests/attach.rs).
 *
 * _PG_init (while preloading, in the supervisor):
 *   $DYN_PGINIT_REGISTER set  -> calls RegisterDynamicBackgroundWorker right there (DYN-1) and
 *                                logs "dyn_probe: register in the supervisor returned ok=0|1".
 *   $DYN_DRIVER_SCRIPT set    -> registers the static worker "driver" (type "dyn driver",
 *                                NEVER_RESTART) that runs that script (see dyn_script.h) and idles.
 *
 * dyn_main, the entry of every worker, acts on its bgw_extra:
 *   idle        sleep on the latch (WL_EXIT_ON_PM_DEATH); default SIGTERM -> FATAL, exit 1
 *   exit        proc_exit(main_arg) at once
 *   exit:MS     sleep MS ms on the latch, then proc_exit(main_arg)
 *   script:VAR  run the script in $VAR, then idle
 * Every worker first logs
 *   dyn worker "<bgw_name>" started pid=<pid> type="<bgw_type>" mode=<bgw_extra>
 * reading MyBgworkerEntry, so the test sees what the supervisor handed over.
 */
#include "dyn_script.h"

PG_MODULE_MAGIC;

void		_PG_init(void);
PGDLLEXPORT void dyn_main(Datum main_arg);

static void
dyn_say(const char *line)
{
	elog(LOG, "%s", line);
}

static void
dyn_exit(int code)
{
	proc_exit(code);
}

void
_PG_init(void)
{
	if (!process_shared_preload_libraries_in_progress)
		return;

	if (getenv("DYN_PGINIT_REGISTER") != NULL)
	{
		BackgroundWorker w;
		BackgroundWorkerHandle *h = NULL;
		bool		ok;

		memset(&w, 0, sizeof(w));
		dyn_copy(w.bgw_name, "from _PG_init", BGW_MAXLEN);
		dyn_copy(w.bgw_library_name, "dyn_probe", BGW_MAXLEN);
		dyn_copy(w.bgw_function_name, "dyn_main", BGW_MAXLEN);
		dyn_copy(w.bgw_extra, "idle", BGW_EXTRALEN);
		w.bgw_flags = BGWORKER_SHMEM_ACCESS;
		w.bgw_start_time = BgWorkerStart_PostmasterStart;
		w.bgw_restart_time = BGW_NEVER_RESTART;
		ok = RegisterDynamicBackgroundWorker(&w, &h);
		elog(LOG, "dyn_probe: register in the supervisor returned ok=%d handle=%s",
			 (int) ok, h == NULL ? "NULL" : "set");
	}

	if (getenv("DYN_DRIVER_SCRIPT") != NULL)
	{
		BackgroundWorker w;

		memset(&w, 0, sizeof(w));
		dyn_copy(w.bgw_name, "driver", BGW_MAXLEN);
		dyn_copy(w.bgw_type, "dyn driver", BGW_MAXLEN);
		dyn_copy(w.bgw_library_name, "dyn_probe", BGW_MAXLEN);
		dyn_copy(w.bgw_function_name, "dyn_main", BGW_MAXLEN);
		dyn_copy(w.bgw_extra, "script:DYN_DRIVER_SCRIPT", BGW_EXTRALEN);
		w.bgw_flags = BGWORKER_SHMEM_ACCESS;
		w.bgw_start_time = BgWorkerStart_PostmasterStart;
		w.bgw_restart_time = BGW_NEVER_RESTART;
		RegisterBackgroundWorker(&w);
	}
}

static void
dyn_idle(void)
{
	for (;;)
	{
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_EXIT_ON_PM_DEATH, -1L, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
	}
}

void
dyn_main(Datum main_arg)
{
	char		mode[BGW_EXTRALEN];
	int			arg = (int) (intptr_t) main_arg;

	dyn_copy(mode, MyBgworkerEntry->bgw_extra, sizeof(mode));
	BackgroundWorkerUnblockSignals();

	elog(LOG, "dyn worker \"%s\" started pid=%d type=\"%s\" mode=%s",
		 MyBgworkerEntry->bgw_name, (int) getpid(), MyBgworkerEntry->bgw_type, mode);

	if (strcmp(mode, "exit") == 0)
		proc_exit(arg);
	else if (strncmp(mode, "exit:", 5) == 0)
	{
		long		until = dyn_mono_ms() + atol(mode + 5);
		long		left;

		while ((left = until - dyn_mono_ms()) > 0)
		{
			(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, left,
							 PG_WAIT_EXTENSION);
			ResetLatch(MyLatch);
		}
		proc_exit(arg);
	}
	else if (strncmp(mode, "script:", 7) == 0)
		dyn_run_script(getenv(mode + 7));

	dyn_idle();
}
