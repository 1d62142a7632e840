/*
 * shm_mq_regress.c -- the acceptance driver for PostgreSQL 15's own test_shm_mq module: a
 * static worker, standing where a backend running the regression script would, calls the
 * module's functions test_shm_mq and test_shm_mq_pipelined directly with every set of arguments
 * of sql/test_shm_mq.sql (shm_mq_cases.h), inside a "transaction" of its own making (the
 * contexts test_shm_mq allocates in), and logs each result.
 *
 * SHM_MQ_REGRESS_ROUNDS (default 1) runs the script that many times.  Lines:
 *   "test_shm_mq regress: case N ok in M ms: SQL", or "... case N failed: MESSAGE: SQL",
 *   then "test_shm_mq regress: K of T calls passed".
 */
#include "postgres.h"

#include "fmgr.h"
#include "miscadmin.h"
#include "postmaster/bgworker.h"
#include "storage/ipc.h"
#include "storage/procsignal.h"
#include "tcop/tcopprot.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "shm_mq_cases.h"

PG_MODULE_MAGIC;

void		_PG_init(void);
PGDLLEXPORT void shm_mq_regress_main(Datum arg) pg_attribute_noreturn();

void
shm_mq_regress_main(Datum arg)
{
	PGFunction	plain;
	PGFunction	pipelined;
	const char *r = getenv("SHM_MQ_REGRESS_ROUNDS");
	int			rounds = r ? atoi(r) : 1;
	int			passed = 0;
	int			total = 0;

	(void) arg;
	/* What a backend has: die on SIGTERM, and SIGUSR1 waking it about its workers. */
	pqsignal(SIGTERM, die);
	pqsignal(SIGUSR1, procsignal_sigusr1_handler);
	BackgroundWorkerUnblockSignals();

	plain = (PGFunction) load_external_function("test_shm_mq", "test_shm_mq", true, NULL);
	pipelined = (PGFunction) load_external_function("test_shm_mq", "test_shm_mq_pipelined", true,
												   NULL);
	for (int round = 0; round < rounds; round++)
	{
		for (int i = 0; i < SHM_MQ_NCASES; i++)
		{
			MemoryContext call = AllocSetContextCreate(TopMemoryContext, "shm_mq_regress call",
													   ALLOCSET_DEFAULT_SIZES);
			TimestampTz start;
			text	   *message;

			/* The transaction an SQL call runs in: test_shm_mq keeps its worker handles in
			 * CurTransactionContext and TopTransactionContext. */
			TopTransactionContext = AllocSetContextCreate(TopMemoryContext, "TopTransactionContext",
														  ALLOCSET_DEFAULT_SIZES);
			CurTransactionContext = TopTransactionContext;
			MemoryContextSwitchTo(call);
			message = shm_mq_case_message(i);
			total++;
			PG_TRY();
			{
				start = GetCurrentTimestamp();
				shm_mq_case_call(i, plain, pipelined, message);
				elog(LOG, "test_shm_mq regress: case %d ok in %ld ms: %s", i + 1,
					 TimestampDifferenceMilliseconds(start, GetCurrentTimestamp()),
					 shm_mq_cases[i].sql);
				passed++;
			}
			PG_CATCH();
			{
				ErrorData  *e;

				MemoryContextSwitchTo(TopMemoryContext);
				e = CopyErrorData();
				FlushErrorState();
				elog(LOG, "test_shm_mq regress: case %d failed: %s: %s", i + 1, e->message,
					 shm_mq_cases[i].sql);
				FreeErrorData(e);
			}
			PG_END_TRY();
			MemoryContextSwitchTo(TopMemoryContext);
			MemoryContextDelete(call);
			MemoryContextDelete(TopTransactionContext);
			TopTransactionContext = NULL;
			CurTransactionContext = NULL;
		}
	}
	elog(LOG, "test_shm_mq regress: %d of %d calls passed", passed, total);
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
	w.bgw_start_time = BgWorkerStart_RecoveryFinished;
	w.bgw_restart_time = BGW_NEVER_RESTART;
	snprintf(w.bgw_library_name, BGW_MAXLEN, "shm_mq_regress");
	snprintf(w.bgw_function_name, BGW_MAXLEN, "shm_mq_regress_main");
	snprintf(w.bgw_name, BGW_MAXLEN, "test_shm_mq regress");
	snprintf(w.bgw_type, BGW_MAXLEN, "test_shm_mq regress");
	RegisterBackgroundWorker(&w);
}
