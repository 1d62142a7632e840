/*
 * access/xact.h -- transactions on the worker's database connection, PostgreSQL 15's names.
 *
 * StartTransactionCommand starts the worker's transaction (XactIsoLevel, XactReadOnly and
 * XactDeferrable take their defaults, TopTransactionContext becomes current); the server's
 * transaction block opens with the first statement, with the isolation level and access mode
 * set by then.  CommitTransactionCommand sends COMMIT (ROLLBACK after a failed statement),
 * AbortCurrentTransaction ROLLBACK; both free the transaction's memory and leave
 * TopMemoryContext current.  Subtransactions are savepoints.  Transaction and subtransaction
 * callbacks fire with PostgreSQL's events: XACT_EVENT_PRE_COMMIT, then XACT_EVENT_COMMIT or
 * XACT_EVENT_ABORT; SUBXACT_EVENT_START_SUB, _PRE_COMMIT_SUB, _COMMIT_SUB, _ABORT_SUB.
 * Transaction ids are the server's (GetTopTransactionId assigns one, as in PostgreSQL; inside a
 * subtransaction GetCurrentTransactionId gives the top-level id).  StartTransactionCommand,
 * CommitTransactionCommand, AbortCurrentTransaction, IsTransactionState and the statement
 * timestamp are declared in the generated bgworker.h, with the globals.
 */
#include "postgres.h"

#ifndef BGW_COMPAT_ACCESS_XACT_H
#define BGW_COMPAT_ACCESS_XACT_H

#define XACT_READ_UNCOMMITTED 0
#define XACT_READ_COMMITTED 1
#define XACT_REPEATABLE_READ 2
#define XACT_SERIALIZABLE 3

#define IsolationUsesXactSnapshot() (XactIsoLevel >= XACT_REPEATABLE_READ)
#define IsolationIsSerializable() (XactIsoLevel == XACT_SERIALIZABLE)

#define InvalidTransactionId ((TransactionId) 0)
#define InvalidSubTransactionId ((SubTransactionId) 0)
#define TopSubTransactionId ((SubTransactionId) 1)

typedef enum
{
	XACT_EVENT_COMMIT,
	XACT_EVENT_PARALLEL_COMMIT,
	XACT_EVENT_ABORT,
	XACT_EVENT_PARALLEL_ABORT,
	XACT_EVENT_PREPARE,
	XACT_EVENT_PRE_COMMIT,
	XACT_EVENT_PARALLEL_PRE_COMMIT,
	XACT_EVENT_PRE_PREPARE
} XactEvent;

typedef void (*XactCallback) (XactEvent event, void *arg);

typedef enum
{
	SUBXACT_EVENT_START_SUB,
	SUBXACT_EVENT_COMMIT_SUB,
	SUBXACT_EVENT_ABORT_SUB,
	SUBXACT_EVENT_PRE_COMMIT_SUB
} SubXactEvent;

typedef void (*SubXactCallback) (SubXactEvent event, SubTransactionId mySubid,
								 SubTransactionId parentSubid, void *arg);

BGW_EXTERN_C_BEGIN
extern bool IsAbortedTransactionBlockState(void);
extern TransactionId GetTopTransactionId(void);
extern TransactionId GetTopTransactionIdIfAny(void);
extern TransactionId GetCurrentTransactionId(void);
extern TransactionId GetCurrentTransactionIdIfAny(void);
extern SubTransactionId GetCurrentSubTransactionId(void);
extern TimestampTz GetCurrentTransactionStartTimestamp(void);
extern int GetCurrentTransactionNestLevel(void);
extern void CommandCounterIncrement(void);
extern void BeginInternalSubTransaction(const char *name);
extern void ReleaseCurrentSubTransaction(void);
extern void RollbackAndReleaseCurrentSubTransaction(void);
extern bool IsSubTransaction(void);
extern bool IsTransactionBlock(void);
extern bool IsTransactionOrTransactionBlock(void);
extern char TransactionBlockStatusCode(void);
extern void AbortOutOfAnyTransaction(void);
extern void RegisterXactCallback(XactCallback callback, void *arg);
extern void UnregisterXactCallback(XactCallback callback, void *arg);
extern void RegisterSubXactCallback(SubXactCallback callback, void *arg);
extern void UnregisterSubXactCallback(SubXactCallback callback, void *arg);
BGW_EXTERN_C_END

#endif							/* BGW_COMPAT_ACCESS_XACT_H */
