/*
 * usage.c -- compile-only fixture: every macro of the compat headers used the way modules use
 * them (ereport with SQLSTATEs, elog at constant and variable levels, PG_TRY/CATCH/FINALLY,
 * Datum conversions, static assertions, PG_FUNCTION_INFO_V1), built as C and as C++.
 */
#include "postgres.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/pmsignal.h"
#include "utils/elog.h"
#include "utils/wait_event.h"

PG_MODULE_MAGIC;

PG_FUNCTION_INFO_V1(usage_sql_function);

StaticAssertDecl(sizeof(BackgroundWorker) == 544, "BackgroundWorker is 544 bytes");
StaticAssertDecl(sizeof(int64) == 8 && sizeof(uint32) == 4, "integer widths");

void _PG_init(void);
PGDLLEXPORT void usage_main(Datum main_arg) pg_attribute_noreturn();

static volatile sig_atomic_t got_sighup = false;

static void
usage_sighup(SIGNAL_ARGS)
{
	int save_errno = errno;

	got_sighup = true;
	SetLatch(MyLatch);
	errno = save_errno;
}

static void
usage_context(void *arg)
{
	errcontext("while using %s", (const char *) arg);
}

Datum
usage_sql_function(PG_FUNCTION_ARGS)
{
	(void) fcinfo;
	return Int32GetDatum(-1);
}

static int
usage_reports(int level)
{
	ErrorContextCallback callback;
	volatile int caught = 0;

	callback.callback = usage_context;
	callback.arg = (void *) "usage";
	callback.previous = error_context_stack;
	error_context_stack = &callback;

	elog(level, "variable level %d", level);
	elog(DEBUG1, "constant level");
	ereport(LOG, errmsg("pid %d", MyProcPid), errdetail("detail"), errhint("hint"));
	ereport(WARNING, (errcode(ERRCODE_WARNING), errmsg("old-style parenthesized arguments")));
	ereport(NOTICE, errcode_for_file_access(), errmsg_internal("x"), errdetail_internal("y"),
			errdetail_log("z"));

	PG_TRY();
	{
		caught = 1;
		elog(ERROR, "thrown");
	}
	PG_CATCH();
	{
		caught = 2;
	}
	PG_END_TRY();

	PG_TRY();
	{
		if (level > PANIC)
			PG_RE_THROW();
	}
	PG_FINALLY();
	{
		caught++;
	}
	PG_END_TRY();

	error_context_stack = callback.previous;
	return caught;
}

static int
usage_datums(void)
{
	char name[NAMEDATALEN];
	int64 big = INT64CONST(-5);
	int sum = 0;

	MemSet(name, 0, sizeof(name));
	StaticAssertStmt(lengthof(name) == NAMEDATALEN, "lengthof");
	StaticAssertExpr(sizeof(Datum) == 8, "Datum is 8 bytes");

	sum += DatumGetInt32(Int32GetDatum(-7));
	sum += (int) DatumGetUInt32(UInt32GetDatum(7U));
	sum += DatumGetBool(BoolGetDatum(true));
	sum += (int) DatumGetObjectId(ObjectIdGetDatum(InvalidOid));
	sum += (int) DatumGetInt64(Int64GetDatum(big));
	sum += DatumGetCString(CStringGetDatum(name))[0];
	sum += DatumGetPointer(PointerGetDatum(NULL)) == NULL;
	sum += (int) DatumGetFloat8(Float8GetDatum(2.0));
	sum += (int) DatumGetFloat4(Float4GetDatum(1.0f));
	sum += DatumGetInt16(Int16GetDatum(3)) + DatumGetChar(CharGetDatum('a'));
	sum += Max(1, 2) + Min(3, 4) + Abs(-1);
	(void) pg_snprintf(name, sizeof(name), "%s " INT64_FORMAT " " UINT64_FORMAT, "x", big,
					   UINT64CONST(1));
	return sum;
}

/* PostgreSQL's headers name the structs as well as the typedefs; modules use both spellings. */
static int
usage_struct_tags(struct BackgroundWorker *worker, struct Latch *latch)
{
	struct BackgroundWorkerHandle *handle = NULL;
	bgworker_main_type entry = NULL;
	BgwHandleStatus status = BGWH_STOPPED;

	return (worker == MyBgworkerEntry) + (latch == MyLatch) + (handle == NULL) + (entry == NULL) +
		(status == BGWH_STOPPED);
}

void
usage_main(Datum main_arg)
{
	(void) usage_struct_tags(MyBgworkerEntry, MyLatch);
	pqsignal(SIGHUP, usage_sighup);
	BackgroundWorkerUnblockSignals();
	while (!got_sighup && PostmasterIsAlive())
	{
		int rc = WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, 10L,
						   WAIT_EVENT_BGWORKER_STARTUP);

		ResetLatch(MyLatch);
		if (rc & WL_TIMEOUT)
			break;
	}
	proc_exit(usage_reports(DatumGetInt32(main_arg)) + usage_datums());
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
	snprintf(worker.bgw_library_name, BGW_MAXLEN, "usage");
	snprintf(worker.bgw_function_name, BGW_MAXLEN, "usage_main");
	snprintf(worker.bgw_name, BGW_MAXLEN, "usage worker");
	snprintf(worker.bgw_type, BGW_MAXLEN, "usage");
	worker.bgw_main_arg = Int32GetDatum(LOG);
	worker.bgw_notify_pid = 0;
	RegisterBackgroundWorker(&worker);
}
