/*
 * errors_probe.c -- error handling, interrupts, exit callbacks and timestamps, as modules use
 * them. The same source is built against include/ and, with PGXS, against PostgreSQL 15's own
 * headers; both builds must behave the same under bgworkerd.
 *
 * _PG_init registers one worker per word of the ERRORS_PROBE environment variable (a
 * comma-separated list of modes); each worker runs its mode and logs "errors_probe MODE: ..."
 * lines the tests match.
 */
#include "postgres.h"

#include "fmgr.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "tcop/tcopprot.h"
#include "utils/elog.h"
#include "utils/timestamp.h"
#include "utils/wait_event.h"

PG_MODULE_MAGIC;

void		_PG_init(void);
PGDLLEXPORT void errors_probe_main(Datum arg) pg_attribute_noreturn();

static const char *mode;

static void
context_callback(void *arg)
{
	errcontext("while probing %s", (const char *) arg);
}

static void
exit_callback(int code, Datum arg)
{
	elog(LOG, "errors_probe %s: exit callback %d code %d", mode, DatumGetInt32(arg), code);
}

/* Waits on the latch until an interrupt arrives, checking for interrupts each time. */
static void
wait_for_interrupts(void)
{
	for (;;)
	{
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, 1000L,
						 PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
	}
}

static void
catch_and_copy(void)
{
	MemoryContext oldcxt = CurrentMemoryContext;

	PG_TRY();
	{
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("bad value %d", 42),
				 errdetail("The detail."),
				 errhint("The hint.")));
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(oldcxt);
		edata = CopyErrorData();
		FlushErrorState();
		elog(LOG, "errors_probe %s: caught elevel=%d sqlstate=%s message=\"%s\" detail=\"%s\" hint=\"%s\" line=%d",
			 mode, edata->elevel, edata->sqlerrcode == ERRCODE_INVALID_PARAMETER_VALUE ? "22023" : "other",
			 edata->message, edata->detail, edata->hint, edata->lineno > 0);
		FreeErrorData(edata);
	}
	PG_END_TRY();
	elog(LOG, "errors_probe %s: after the catch", mode);
}

static void
nested_rethrow(void)
{
	volatile int finally_ran = 0;

	PG_TRY();
	{
		PG_TRY();
		{
			elog(ERROR, "inner failure");
		}
		PG_FINALLY();
		{
			finally_ran = 1;
		}
		PG_END_TRY();
	}
	PG_CATCH();
	{
		ErrorData  *edata = CopyErrorData();

		FlushErrorState();
		elog(LOG, "errors_probe %s: outer caught \"%s\" finally=%d", mode, edata->message,
			 finally_ran);
	}
	PG_END_TRY();
}

static void
emit_in_catch(void)
{
	PG_TRY();
	{
		elog(ERROR, "reported from the handler");
	}
	PG_CATCH();
	{
		EmitErrorReport();
		FlushErrorState();
	}
	PG_END_TRY();
	elog(LOG, "errors_probe %s: continued", mode);
}

static void
rethrow_copy(void)
{
	PG_TRY();
	{
		PG_TRY();
		{
			ereport(ERROR, (errcode(ERRCODE_INTERNAL_ERROR), errmsg("first throw")));
		}
		PG_CATCH();
		{
			ErrorData  *edata = CopyErrorData();

			FlushErrorState();
			edata->message = psprintf("%s, thrown again", edata->message);
			ReThrowError(edata);
		}
		PG_END_TRY();
	}
	PG_CATCH();
	{
		ErrorData  *edata = CopyErrorData();

		FlushErrorState();
		elog(LOG, "errors_probe %s: outer saw \"%s\"", mode, edata->message);
	}
	PG_END_TRY();
}

static void
with_context(void)
{
	ErrorContextCallback cb;

	cb.callback = context_callback;
	cb.arg = (void *) "the context";
	cb.previous = error_context_stack;
	error_context_stack = &cb;
	elog(WARNING, "errors_probe %s: a warning with context", mode);
	error_context_stack = cb.previous;
}

static void
levels(void)
{
	elog(DEBUG1, "errors_probe %s: debug1 line", mode);
	elog(LOG, "errors_probe %s: log line", mode);
	elog(INFO, "errors_probe %s: info line", mode);
	elog(NOTICE, "errors_probe %s: notice line", mode);
	elog(WARNING, "errors_probe %s: warning line", mode);
	ereport(LOG, (errmsg_plural("errors_probe %s: %d file", "errors_probe %s: %d files", 1, mode, 1)));
	ereport(LOG, (errmsg_plural("errors_probe %s: %d file", "errors_probe %s: %d files", 3, mode, 3)));
	elog(LOG, "errors_probe %s: done", mode);
}

static void
timestamps(void)
{
	TimestampTz start = GetCurrentTimestamp();
	TimestampTz later = start + 1500;	/* 1.5 ms later */
	long		secs;
	int			usecs;

	TimestampDifference(start, start + 2500001, &secs, &usecs);
	elog(LOG, "errors_probe %s: now_s=%lld diff_ms=%ld neg=%ld secs=%ld usecs=%d exceeds=%d,%d",
		 mode, (long long) (start / 1000000),
		 TimestampDifferenceMilliseconds(start, later),
		 TimestampDifferenceMilliseconds(later, start), secs, usecs,
		 (int) TimestampDifferenceExceeds(start, later, 1),
		 (int) TimestampDifferenceExceeds(start, later, 2));
}

void
errors_probe_main(Datum arg)
{
	(void) arg;
	mode = MyBgworkerEntry->bgw_name + strlen("errors_probe ");
	elog(LOG, "errors_probe %s: started", mode);

	if (strcmp(mode, "die") == 0 || strcmp(mode, "hold") == 0)
		pqsignal(SIGTERM, die);
	else if (strcmp(mode, "cancel") == 0)
		pqsignal(SIGINT, StatementCancelHandler);
	else if (strcmp(mode, "shutdown") == 0)
		pqsignal(SIGTERM, SignalHandlerForShutdownRequest);
	else if (strcmp(mode, "reload") == 0)
		pqsignal(SIGHUP, SignalHandlerForConfigReload);
	BackgroundWorkerUnblockSignals();

	if (strcmp(mode, "catch") == 0)
		catch_and_copy();
	else if (strcmp(mode, "nested") == 0)
		nested_rethrow();
	else if (strcmp(mode, "emit") == 0)
		emit_in_catch();
	else if (strcmp(mode, "rethrow") == 0)
		rethrow_copy();
	else if (strcmp(mode, "context") == 0)
		with_context();
	else if (strcmp(mode, "levels") == 0)
		levels();
	else if (strcmp(mode, "timestamps") == 0)
		timestamps();
	else if (strcmp(mode, "uncaught") == 0)
		ereport(ERROR, (errmsg("uncaught failure"), errdetail("Nobody catches this.")));
	else if (strcmp(mode, "critical") == 0)
	{
		START_CRIT_SECTION();
		elog(ERROR, "error inside a critical section");
	}
	else if (strcmp(mode, "callbacks") == 0)
	{
		on_proc_exit(exit_callback, Int32GetDatum(1));
		on_shmem_exit(exit_callback, Int32GetDatum(2));
		before_shmem_exit(exit_callback, Int32GetDatum(3));
		before_shmem_exit(exit_callback, Int32GetDatum(4));
		cancel_before_shmem_exit(exit_callback, Int32GetDatum(4));
		proc_exit(0);
	}
	else if (strcmp(mode, "die") == 0)
	{
		elog(LOG, "errors_probe %s: waiting", mode);
		wait_for_interrupts();
	}
	else if (strcmp(mode, "hold") == 0)
	{
		HOLD_INTERRUPTS();
		elog(LOG, "errors_probe %s: holding", mode);
		while (!ProcDiePending)
		{
			(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_EXIT_ON_PM_DEATH, -1L, PG_WAIT_EXTENSION);
			ResetLatch(MyLatch);
			CHECK_FOR_INTERRUPTS();
		}
		elog(LOG, "errors_probe %s: still alive with die pending", mode);
		RESUME_INTERRUPTS();
		CHECK_FOR_INTERRUPTS();
		elog(LOG, "errors_probe %s: not reached", mode);
	}
	else if (strcmp(mode, "cancel") == 0)
	{
		elog(LOG, "errors_probe %s: waiting", mode);
		PG_TRY();
		{
			wait_for_interrupts();
		}
		PG_CATCH();
		{
			ErrorData  *edata = CopyErrorData();

			FlushErrorState();
			elog(LOG, "errors_probe %s: caught \"%s\"", mode, edata->message);
		}
		PG_END_TRY();
	}
	else if (strcmp(mode, "shutdown") == 0 || strcmp(mode, "reload") == 0)
	{
		elog(LOG, "errors_probe %s: waiting", mode);
		while (!ShutdownRequestPending && !ConfigReloadPending)
		{
			(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_EXIT_ON_PM_DEATH, -1L, PG_WAIT_EXTENSION);
			ResetLatch(MyLatch);
		}
		elog(LOG, "errors_probe %s: flag seen shutdown=%d reload=%d", mode,
			 (int) ShutdownRequestPending, (int) ConfigReloadPending);
	}
	else if (strcmp(mode, "waitevent") == 0)
	{
		pgstat_report_activity(STATE_RUNNING, "probing wait events");
		elog(LOG, "errors_probe %s: waiting", mode);
		for (;;)
		{
			(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_EXIT_ON_PM_DEATH, -1L, PG_WAIT_EXTENSION);
			ResetLatch(MyLatch);
		}
	}
	else
		elog(FATAL, "errors_probe: unknown mode \"%s\"", mode);
	proc_exit(0);
}

void
_PG_init(void)
{
	const char *modes = getenv("ERRORS_PROBE");
	char		list[1024];
	char	   *save = NULL;

	if (!process_shared_preload_libraries_in_progress || modes == NULL)
		return;
	snprintf(list, sizeof(list), "%s", modes);
	for (char *m = strtok_r(list, ",", &save); m != NULL; m = strtok_r(NULL, ",", &save))
	{
		BackgroundWorker worker;

		memset(&worker, 0, sizeof(worker));
		worker.bgw_flags = BGWORKER_SHMEM_ACCESS;
		worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
		worker.bgw_restart_time = BGW_NEVER_RESTART;
		snprintf(worker.bgw_library_name, BGW_MAXLEN, "errors_probe");
		snprintf(worker.bgw_function_name, BGW_MAXLEN, "errors_probe_main");
		snprintf(worker.bgw_name, BGW_MAXLEN, "errors_probe %s", m);
		snprintf(worker.bgw_type, BGW_MAXLEN, "errors_probe");
		RegisterBackgroundWorker(&worker);
	}
}
