/*
 * utils/snapmgr.h -- snapshots: the Snapshot type (opaque: the server keeps the real snapshots),
 * GetTransactionSnapshot, PushActiveSnapshot, PopActiveSnapshot, ActiveSnapshotSet and
 * GetActiveSnapshot, which keep the bookkeeping and report misuse as ERROR. Declared in the
 * generated bgworker.h.
 */
#include "postgres.h"

#ifndef BGW_COMPAT_UTILS_SNAPMGR_H
#define BGW_COMPAT_UTILS_SNAPMGR_H

#endif							/* BGW_COMPAT_UTILS_SNAPMGR_H */
