/*
 * server_surface.c -- a module that reaches into every corner of PostgreSQL 15's server, as real
 * extensions do: functions of the relation, catalog, executor, parser, storage, fmgr, libpq and
 * replication code (which bgworkerd does not implement), settings' variables and other data,
 * hooks. It must load; its worker reports what the data holds, and what calling an
 * unimplemented function does (bgw_extra picks the mode):
 *
 *   values    log the data objects' values and whether each is aligned for its type
 *   catch     call relation_open() inside PG_TRY and log the error caught
 *   uncaught  call LockAcquire() with no handler (the worker ends with exit code 1 and is
 *             restarted a second later, its restart time)
 *
 * With server_surface.call_in_init = on, _PG_init itself calls raw_parser() while the
 * supervisor preloads it.
 *
 * Built with PGXS against PostgreSQL 15's headers, and against libbgworker's include/, where the
 * server headers that do not exist there are replaced by PostgreSQL's own declarations.
 */
#include "postgres.h"

#include <stdint.h>

#include "fmgr.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "postmaster/bgworker.h"
#include "storage/ipc.h"
#include "utils/elog.h"
#include "utils/guc.h"

#if __has_include("access/relation.h")
#include "access/relation.h"
#include "access/reloptions.h"
#include "catalog/namespace.h"
#include "executor/executor.h"
#include "lib/pairingheap.h"
#include "libpq/pqformat.h"
#include "optimizer/planner.h"
#include "parser/parser.h"
#include "port/pg_bitutils.h"
#include "postmaster/postmaster.h"
#include "replication/syncrep.h"
#include "storage/bufmgr.h"
#include "storage/lock.h"
#include "tcop/utility.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#else
/* PostgreSQL 15's declarations of what this module uses from headers include/ does not have. */
typedef struct RelationData *Relation;
typedef int LOCKMODE;
typedef struct LOCKTAG LOCKTAG;
typedef int LockAcquireResult;
typedef struct List List;
typedef int RawParseMode;
typedef struct pairingheap pairingheap;
typedef int (*pairingheap_comparator) (const void *a, const void *b, void *arg);
typedef int Buffer;
typedef uint32 BlockNumber;
typedef struct PlannedStmt *(*planner_hook_type) (void *parse, const char *query_string,
												  int cursorOptions, void *boundParams);
typedef void (*ExecutorStart_hook_type) (void *queryDesc, int eflags);
typedef void (*ProcessUtility_hook_type) (void);
typedef int relopt_kind;
typedef void (*RelcacheCallbackFunction) (Datum arg, Oid relid);
extern Relation relation_open(Oid relationId, LOCKMODE lockmode);
extern Oid	get_namespace_oid(const char *nspname, bool missing_ok);
extern LockAcquireResult LockAcquire(const LOCKTAG *locktag, LOCKMODE lockmode,
									 bool sessionLock, bool dontWait);
extern List *raw_parser(const char *str, RawParseMode mode);
extern pairingheap *pairingheap_allocate(pairingheap_comparator compare, void *arg);
extern BlockNumber BufferGetBlockNumber(Buffer buffer);
typedef uint64 XLogRecPtr;
extern void pq_beginmessage(StringInfo buf, char msgtype);
extern char *get_rel_name(Oid relid);
extern void SyncRepWaitForLSN(XLogRecPtr lsn, bool commit);
extern void CacheRegisterRelcacheCallback(RelcacheCallbackFunction func, Datum arg);
extern relopt_kind add_reloption_kind(void);
extern void add_int_reloption(bits32 kinds, const char *name, const char *desc,
							  int default_val, int min_val, int max_val, LOCKMODE lockmode);
extern PGDLLIMPORT planner_hook_type planner_hook;
extern PGDLLIMPORT ExecutorStart_hook_type ExecutorStart_hook;
extern PGDLLIMPORT ProcessUtility_hook_type ProcessUtility_hook;
extern PGDLLIMPORT const uint8 pg_number_of_ones[256];
extern PGDLLIMPORT int PostPortNumber;
extern PGDLLIMPORT int NBuffers;
extern PGDLLIMPORT int MaxConnections;
extern PGDLLIMPORT int maintenance_work_mem;
extern PGDLLIMPORT bool IsBinaryUpgrade;
extern PGDLLIMPORT int work_mem;
#endif
#include <string.h>

PG_MODULE_MAGIC;

void		_PG_init(void);
PGDLLEXPORT void server_surface_main(Datum arg) pg_attribute_noreturn();

static bool call_in_init = false;
static char *mode_setting = NULL;

/* Hooks bgworkerd never calls: a module sets them in _PG_init anyway, as in PostgreSQL. */
static struct PlannedStmt *
surface_planner(void *parse, const char *query_string, int cursorOptions, void *boundParams)
{
	(void) parse;
	(void) query_string;
	(void) cursorOptions;
	(void) boundParams;
	return NULL;
}

static void
surface_executor_start(void *queryDesc, int eflags)
{
	(void) queryDesc;
	(void) eflags;
}

static void
surface_relcache_callback(Datum arg, Oid relid)
{
	(void) arg;
	(void) relid;
}

/* Registrations for server events, as extensions make them in _PG_init. */
static void
register_for_events(void)
{
	relopt_kind first;
	relopt_kind second;

	CacheRegisterRelcacheCallback(surface_relcache_callback, (Datum) 0);
	CacheRegisterRelcacheCallback(surface_relcache_callback, (Datum) 1);
	first = add_reloption_kind();
	second = add_reloption_kind();
	add_int_reloption(first, "surface_fillfactor", "A relation option.", 10, 1, 100, 0);
	elog(LOG, "server_surface: add_reloption_kind gave %d, then %d", (int) first, (int) second);
}

#define ALIGNED(var) (((uintptr_t) &(var)) % _Alignof(__typeof__(var)) == 0 ? "aligned" : "MISALIGNED")

/* emit_log_hook: bgworkerd calls it, as PostgreSQL does, before a report is written. */
static int	hook_calls = 0;

static void
surface_emit_log(ErrorData *edata)
{
	hook_calls++;
	if (edata->message != NULL && strstr(edata->message, "suppress me") != NULL)
		edata->output_to_server = false;
}

static void
log_values(void)
{
	elog(LOG, "server_surface: work_mem=%d maintenance_work_mem=%d MaxConnections=%d "
		 "NBuffers=%d PostPortNumber=%d IsBinaryUpgrade=%s max_worker_processes=%d "
		 "IsUnderPostmaster=%s ones(255)=%d",
		 work_mem, maintenance_work_mem, MaxConnections, NBuffers, PostPortNumber,
		 IsBinaryUpgrade ? "true" : "false", max_worker_processes,
		 IsUnderPostmaster ? "true" : "false", pg_number_of_ones[255]);
	elog(LOG, "server_surface: alignment work_mem=%s MaxConnections=%s IsBinaryUpgrade=%s "
		 "planner_hook=%s",
		 ALIGNED(work_mem), ALIGNED(MaxConnections), ALIGNED(IsBinaryUpgrade),
		 ALIGNED(planner_hook));
	elog(LOG, "server_surface: hooks planner_hook=%s ExecutorStart_hook=%s ProcessUtility_hook=%s",
		 planner_hook == (planner_hook_type) surface_planner ? "ours" : "other",
		 ExecutorStart_hook == (ExecutorStart_hook_type) surface_executor_start ? "ours" : "other",
		 ProcessUtility_hook == NULL ? "null" : "set");
	emit_log_hook = surface_emit_log;
	elog(LOG, "server_surface: suppress me");
	elog(LOG, "server_surface: emit_log_hook saw %d reports", hook_calls);
	emit_log_hook = NULL;
}

static void
call_caught(void)
{
	MemoryContext oldcxt = CurrentMemoryContext;

	PG_TRY();
	{
		Relation	rel = relation_open(1259, 1);

		elog(LOG, "server_surface: relation_open returned %p", (void *) rel);
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(oldcxt);
		edata = CopyErrorData();
		FlushErrorState();
		elog(LOG, "server_surface: caught sqlstate=%s message=\"%s\"",
			 unpack_sql_state(edata->sqlerrcode), edata->message);
		elog(LOG, "server_surface: caught detail=\"%s\"", edata->detail ? edata->detail : "(none)");
		elog(LOG, "server_surface: caught hint=\"%s\"", edata->hint ? edata->hint : "(none)");
		FreeErrorData(edata);
	}
	PG_END_TRY();
	/* Still working after the error. */
	elog(LOG, "server_surface: working after the catch");
}

void
server_surface_main(Datum arg)
{
	const char *mode = MyBgworkerEntry->bgw_extra;

	(void) arg;
	BackgroundWorkerUnblockSignals();
	elog(LOG, "server_surface: started mode=%s", mode);
	if (strcmp(mode, "values") == 0)
		log_values();
	else if (strcmp(mode, "catch") == 0)
		call_caught();
	else if (strcmp(mode, "uncaught") == 0)
	{
		LockAcquire(NULL, 1, false, false);
		elog(LOG, "server_surface: LockAcquire returned");
	}
	/* Functions referenced but never called, from more subsystems. */
	if (strcmp(mode, "never") == 0)
	{
		(void) pairingheap_allocate(NULL, NULL);
		(void) BufferGetBlockNumber(0);
		(void) raw_parser("", 0);
		(void) get_namespace_oid("public", true);
		pq_beginmessage(NULL, 'D');
		(void) get_rel_name(1259);
		SyncRepWaitForLSN(0, true);
	}
	elog(LOG, "server_surface: done mode=%s", mode);
	proc_exit(0);
}

void
_PG_init(void)
{
	BackgroundWorker worker;

	if (!process_shared_preload_libraries_in_progress)
		return;
	DefineCustomBoolVariable("server_surface.call_in_init",
							 "Call an unimplemented server function in _PG_init.",
							 NULL, &call_in_init, false, PGC_POSTMASTER, 0,
							 NULL, NULL, NULL);
	DefineCustomStringVariable("server_surface.mode",
							   "What the worker does: values, catch, uncaught or never.",
							   NULL, &mode_setting, "values", PGC_POSTMASTER, 0,
							   NULL, NULL, NULL);
	MarkGUCPrefixReserved("server_surface");
	planner_hook = (planner_hook_type) surface_planner;
	ExecutorStart_hook = (ExecutorStart_hook_type) surface_executor_start;
	register_for_events();
	if (call_in_init)
		(void) raw_parser("SELECT 1", 0);

	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = 1;
	snprintf(worker.bgw_library_name, BGW_MAXLEN, "server_surface");
	snprintf(worker.bgw_function_name, BGW_MAXLEN, "server_surface_main");
	snprintf(worker.bgw_name, BGW_MAXLEN, "server surface");
	snprintf(worker.bgw_type, BGW_MAXLEN, "server surface");
	snprintf(worker.bgw_extra, BGW_EXTRALEN, "%s", mode_setting);
	RegisterBackgroundWorker(&worker);
}
