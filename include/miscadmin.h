/*
 * miscadmin.h -- process-wide globals a module reads (MyProcPid, MyLatch, IsUnderPostmaster,
 * IsBackgroundWorker, max_worker_processes, process_shared_preload_libraries_in_progress, the
 * interrupt flags, the process's identity and start time, DataDir, work_mem, ...).
 *
 * Those the bgworker API itself uses come from bgworker.h; the rest are declared here, with
 * PostgreSQL 15's types.
 */
#include "postgres.h"

#ifndef BGW_COMPAT_MISCADMIN_H
#define BGW_COMPAT_MISCADMIN_H

#include "pgtime.h"

BGW_EXTERN_C_BEGIN

/* The supervisor's pid; true in the supervisor and every process it starts. */
extern PGDLLIMPORT pid_t PostmasterPid;
extern PGDLLIMPORT bool IsPostmasterEnvironment;
/* Always false: there is no binary upgrade here. */
extern PGDLLIMPORT bool IsBinaryUpgrade;
/* The data directory (absolute). */
extern PGDLLIMPORT char *DataDir;
/* When this process started. */
extern PGDLLIMPORT pg_time_t MyStartTime;
extern PGDLLIMPORT TimestampTz MyStartTimestamp;

/* Memory a module may size its work by (the settings work_mem and maintenance_work_mem, kB). */
extern PGDLLIMPORT int work_mem;
extern PGDLLIMPORT int maintenance_work_mem;

/* The setting shared_preload_libraries, as written. */
extern PGDLLIMPORT char *shared_preload_libraries_string;

/* What kind of process this is: B_BG_WORKER in a worker, B_INVALID elsewhere. */
typedef enum BackendType
{
	B_INVALID = 0,
	B_AUTOVAC_LAUNCHER,
	B_AUTOVAC_WORKER,
	B_BACKEND,
	B_BG_WORKER,
	B_BG_WRITER,
	B_CHECKPOINTER,
	B_STARTUP,
	B_WAL_RECEIVER,
	B_WAL_SENDER,
	B_WAL_WRITER,
	B_ARCHIVER,
	B_LOGGER
} BackendType;

extern PGDLLIMPORT BackendType MyBackendType;

#define AmRegularBackendProcess() (MyBackendType == B_BACKEND)

extern const char *GetBackendTypeDesc(BackendType backendType);

/* Set by signal handlers (die, StatementCancelHandler); acted on by CHECK_FOR_INTERRUPTS(). */
extern PGDLLIMPORT volatile sig_atomic_t InterruptPending;
extern PGDLLIMPORT volatile sig_atomic_t QueryCancelPending;
extern PGDLLIMPORT volatile sig_atomic_t ProcDiePending;
extern PGDLLIMPORT volatile uint32 InterruptHoldoffCount;
extern PGDLLIMPORT volatile uint32 QueryCancelHoldoffCount;
extern PGDLLIMPORT volatile uint32 CritSectionCount;

extern void ProcessInterrupts(void);
extern void die(SIGNAL_ARGS);
extern void StatementCancelHandler(SIGNAL_ARGS);

BGW_EXTERN_C_END

/* The same shapes as PostgreSQL's macros, so modules keep their loops unchanged. */
#define INTERRUPTS_PENDING_CONDITION() (unlikely(InterruptPending))
#define CHECK_FOR_INTERRUPTS() \
	do { \
		if (INTERRUPTS_PENDING_CONDITION()) \
			ProcessInterrupts(); \
	} while (0)
#define INTERRUPTS_CAN_BE_PROCESSED() \
	(InterruptHoldoffCount == 0 && CritSectionCount == 0 && QueryCancelHoldoffCount == 0)
#define HOLD_INTERRUPTS() (InterruptHoldoffCount++)
#define RESUME_INTERRUPTS() (InterruptHoldoffCount--)
#define HOLD_CANCEL_INTERRUPTS() (QueryCancelHoldoffCount++)
#define RESUME_CANCEL_INTERRUPTS() (QueryCancelHoldoffCount--)
#define START_CRIT_SECTION() (CritSectionCount++)
#define END_CRIT_SECTION() (CritSectionCount--)

#endif /* BGW_COMPAT_MISCADMIN_H */
