/*
 * storage/lwlock.h -- lightweight locks: LWLock, LWLockPadded, LWLockMode, the main LWLock array
 * and its fixed locks (AddinShmemInitLock, ...), tranches, and LWLockAcquire/Release & co.
 *
 * The types and functions are declared in the generated bgworker.h; this header adds what
 * PostgreSQL's lwlock.h and lwlocknames.h define as macros and enums, and the declarations the
 * generator cannot express.  A lock may live in any memory shared between the processes using
 * it (the main array, a ShmemInitStruct area, a MAP_SHARED mapping made before the workers
 * fork); waiters sleep in the kernel (futex) and never spin for long.
 */
#include "postgres.h"

#ifndef BGW_COMPAT_STORAGE_LWLOCK_H
#define BGW_COMPAT_STORAGE_LWLOCK_H

#include "port/atomics.h"
#include "storage/s_lock.h"

BGW_EXTERN_C_BEGIN

/* The main array: PostgreSQL's fixed locks, then the locks of named tranches (128 bytes each). */
extern PGDLLIMPORT LWLockPadded *MainLWLockArray;

/* The first of the `num_lwlocks` locks RequestNamedLWLockTranche reserved for `tranche_name`. */
extern LWLockPadded *GetNamedLWLockTranche(const char *tranche_name);

/* A named tranche as PostgreSQL describes one. */
typedef struct NamedLWLockTranche
{
	int trancheId;
	char *trancheName;
} NamedLWLockTranche;

BGW_EXTERN_C_END

/* For older code: locks were once named by id. */
typedef LWLock *LWLockId;

#ifndef PG_CACHE_LINE_SIZE
#define PG_CACHE_LINE_SIZE 128
#endif
#ifndef LWLOCK_PADDED_SIZE
#define LWLOCK_PADDED_SIZE PG_CACHE_LINE_SIZE
#endif

/* ---- the fixed part of the main array (PostgreSQL 15's lwlocknames.h) ------------------------- */

#define BGW_MAIN_LWLOCK(i) (&MainLWLockArray[i].lock)

#define ShmemIndexLock BGW_MAIN_LWLOCK(1)
#define OidGenLock BGW_MAIN_LWLOCK(2)
#define XidGenLock BGW_MAIN_LWLOCK(3)
#define ProcArrayLock BGW_MAIN_LWLOCK(4)
#define SInvalReadLock BGW_MAIN_LWLOCK(5)
#define SInvalWriteLock BGW_MAIN_LWLOCK(6)
#define WALBufMappingLock BGW_MAIN_LWLOCK(7)
#define WALWriteLock BGW_MAIN_LWLOCK(8)
#define ControlFileLock BGW_MAIN_LWLOCK(9)
#define XactSLRULock BGW_MAIN_LWLOCK(11)
#define SubtransSLRULock BGW_MAIN_LWLOCK(12)
#define MultiXactGenLock BGW_MAIN_LWLOCK(13)
#define MultiXactOffsetSLRULock BGW_MAIN_LWLOCK(14)
#define MultiXactMemberSLRULock BGW_MAIN_LWLOCK(15)
#define RelCacheInitLock BGW_MAIN_LWLOCK(16)
#define CheckpointerCommLock BGW_MAIN_LWLOCK(17)
#define TwoPhaseStateLock BGW_MAIN_LWLOCK(18)
#define TablespaceCreateLock BGW_MAIN_LWLOCK(19)
#define BtreeVacuumLock BGW_MAIN_LWLOCK(20)
#define AddinShmemInitLock BGW_MAIN_LWLOCK(21)
#define AutovacuumLock BGW_MAIN_LWLOCK(22)
#define AutovacuumScheduleLock BGW_MAIN_LWLOCK(23)
#define SyncScanLock BGW_MAIN_LWLOCK(24)
#define RelationMappingLock BGW_MAIN_LWLOCK(25)
#define NotifySLRULock BGW_MAIN_LWLOCK(26)
#define NotifyQueueLock BGW_MAIN_LWLOCK(27)
#define SerializableXactHashLock BGW_MAIN_LWLOCK(28)
#define SerializableFinishedListLock BGW_MAIN_LWLOCK(29)
#define SerializablePredicateListLock BGW_MAIN_LWLOCK(30)
#define SerialSLRULock BGW_MAIN_LWLOCK(31)
#define SyncRepLock BGW_MAIN_LWLOCK(32)
#define BackgroundWorkerLock BGW_MAIN_LWLOCK(33)
#define DynamicSharedMemoryControlLock BGW_MAIN_LWLOCK(34)
#define AutoFileLock BGW_MAIN_LWLOCK(35)
#define ReplicationSlotAllocationLock BGW_MAIN_LWLOCK(36)
#define ReplicationSlotControlLock BGW_MAIN_LWLOCK(37)
#define CommitTsSLRULock BGW_MAIN_LWLOCK(38)
#define CommitTsLock BGW_MAIN_LWLOCK(39)
#define ReplicationOriginLock BGW_MAIN_LWLOCK(40)
#define MultiXactTruncationLock BGW_MAIN_LWLOCK(41)
#define OldSnapshotTimeMapLock BGW_MAIN_LWLOCK(42)
#define LogicalRepWorkerLock BGW_MAIN_LWLOCK(43)
#define XactTruncationLock BGW_MAIN_LWLOCK(44)
#define WrapLimitsVacuumLock BGW_MAIN_LWLOCK(46)
#define NotifyQueueTailLock BGW_MAIN_LWLOCK(47)

#define NUM_INDIVIDUAL_LWLOCKS 48
#define NUM_BUFFER_PARTITIONS 128
#define LOG2_NUM_LOCK_PARTITIONS 4
#define NUM_LOCK_PARTITIONS (1 << LOG2_NUM_LOCK_PARTITIONS)
#define LOG2_NUM_PREDICATELOCK_PARTITIONS 4
#define NUM_PREDICATELOCK_PARTITIONS (1 << LOG2_NUM_PREDICATELOCK_PARTITIONS)
#define BUFFER_MAPPING_LWLOCK_OFFSET NUM_INDIVIDUAL_LWLOCKS
#define LOCK_MANAGER_LWLOCK_OFFSET (BUFFER_MAPPING_LWLOCK_OFFSET + NUM_BUFFER_PARTITIONS)
#define PREDICATELOCK_MANAGER_LWLOCK_OFFSET (LOCK_MANAGER_LWLOCK_OFFSET + NUM_LOCK_PARTITIONS)
#ifndef NUM_FIXED_LWLOCKS
#define NUM_FIXED_LWLOCKS (PREDICATELOCK_MANAGER_LWLOCK_OFFSET + NUM_PREDICATELOCK_PARTITIONS)
#endif

/* ---- tranche ids: PostgreSQL 15's built-in ones; LWLockNewTrancheId starts after them ---------- */

typedef enum BuiltinTrancheIds
{
	LWTRANCHE_XACT_BUFFER = NUM_INDIVIDUAL_LWLOCKS,
	LWTRANCHE_COMMITTS_BUFFER,
	LWTRANCHE_SUBTRANS_BUFFER,
	LWTRANCHE_MULTIXACTOFFSET_BUFFER,
	LWTRANCHE_MULTIXACTMEMBER_BUFFER,
	LWTRANCHE_NOTIFY_BUFFER,
	LWTRANCHE_SERIAL_BUFFER,
	LWTRANCHE_WAL_INSERT,
	LWTRANCHE_BUFFER_CONTENT,
	LWTRANCHE_REPLICATION_ORIGIN_STATE,
	LWTRANCHE_REPLICATION_SLOT_IO,
	LWTRANCHE_LOCK_FASTPATH,
	LWTRANCHE_BUFFER_MAPPING,
	LWTRANCHE_LOCK_MANAGER,
	LWTRANCHE_PREDICATE_LOCK_MANAGER,
	LWTRANCHE_PARALLEL_HASH_JOIN,
	LWTRANCHE_PARALLEL_QUERY_DSA,
	LWTRANCHE_PER_SESSION_DSA,
	LWTRANCHE_PER_SESSION_RECORD_TYPE,
	LWTRANCHE_PER_SESSION_RECORD_TYPMOD,
	LWTRANCHE_SHARED_TUPLESTORE,
	LWTRANCHE_SHARED_TIDBITMAP,
	LWTRANCHE_PARALLEL_APPEND,
	LWTRANCHE_PER_XACT_PREDICATE_LIST,
	LWTRANCHE_PGSTATS_DSA,
	LWTRANCHE_PGSTATS_HASH,
	LWTRANCHE_PGSTATS_DATA,
	LWTRANCHE_FIRST_USER_DEFINED
} BuiltinTrancheIds;

#endif /* BGW_COMPAT_STORAGE_LWLOCK_H */
