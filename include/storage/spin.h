/*
 * storage/spin.h -- spinlocks as modules use them: SpinLockInit, SpinLockAcquire,
 * SpinLockRelease and SpinLockFree on an slock_t in shared memory.
 *
 * Hold a spinlock for a few instructions only: no function calls that may sleep or raise an
 * error, and never two at once.  Acquire and release are memory barriers.
 */
#include "postgres.h"

#ifndef BGW_COMPAT_STORAGE_SPIN_H
#define BGW_COMPAT_STORAGE_SPIN_H

#include "storage/s_lock.h"

#define SpinLockInit(lock) S_INIT_LOCK(lock)
#define SpinLockAcquire(lock) S_LOCK(lock)
#define SpinLockRelease(lock) S_UNLOCK(lock)
#define SpinLockFree(lock) S_LOCK_FREE(lock)

#endif /* BGW_COMPAT_STORAGE_SPIN_H */
