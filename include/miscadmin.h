/*
 * miscadmin.h -- process-wide globals a module reads (MyProcPid, MyLatch, IsUnderPostmaster,
 * IsBackgroundWorker, max_worker_processes, process_shared_preload_libraries_in_progress, ...).
 *
 * All of them are declared in bgworker.h; this header exists so that module sources include
 * what they include under PostgreSQL.
 */
#include "postgres.h"

#ifndef BGW_COMPAT_MISCADMIN_H
#define BGW_COMPAT_MISCADMIN_H

BGW_EXTERN_C_BEGIN

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
