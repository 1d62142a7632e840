/*
 * storage/s_lock.h -- spinlocks, the hardware level: slock_t, TAS, S_LOCK, S_UNLOCK,
 * S_INIT_LOCK, S_LOCK_FREE, SPIN_DELAY, and the spin-delay helpers, as PostgreSQL 15 has them.
 *
 * The uncontended path is inline (one atomic exchange); a failed first attempt calls s_lock()
 * in the library, which spins, then sleeps with growing delays, and PANICs "stuck spinlock
 * detected" after about a minute.  Modules normally use storage/spin.h instead.
 */
#include "postgres.h"

#ifndef BGW_COMPAT_STORAGE_S_LOCK_H
#define BGW_COMPAT_STORAGE_S_LOCK_H

#include "port/atomics.h"

#define HAS_TEST_AND_SET

/* The lock word: a byte on x86, an int elsewhere (as PostgreSQL picks it). */
#if defined(__x86_64__) || defined(__i386__)
typedef unsigned char slock_t;
#else
typedef int slock_t;
#endif

#ifndef PG_FUNCNAME_MACRO
#define PG_FUNCNAME_MACRO __func__
#endif

BGW_EXTERN_C_BEGIN

/* Sets the lock word; non-zero if it was already set (the lock is someone else's).  A full
 * barrier when it succeeds. */
static inline int
tas(volatile slock_t *lock)
{
	return (int) __atomic_exchange_n(lock, (slock_t) 1, __ATOMIC_SEQ_CST);
}

static inline void
spin_delay(void)
{
	pg_spin_delay();
}

/* The wait after a failed TAS; returns the number of sleeps it took. */
extern int s_lock(volatile slock_t *lock, const char *file, int line, const char *func);

BGW_EXTERN_C_END

#define TAS(lock) tas(lock)
/* While waiting, look before writing: a plain read keeps the cache line shared. */
#define TAS_SPIN(lock) (*(lock) ? 1 : TAS(lock))
#define SPIN_DELAY() spin_delay()

#define S_LOCK(lock) (TAS(lock) ? s_lock((lock), __FILE__, __LINE__, PG_FUNCNAME_MACRO) : 0)
/* Release semantics: every write made under the lock is visible before it reads as free. */
#define S_UNLOCK(lock) __atomic_store_n((lock), (slock_t) 0, __ATOMIC_RELEASE)
#define S_INIT_LOCK(lock) S_UNLOCK(lock)
#define S_LOCK_FREE(lock) (*(lock) == 0)

#define DEFAULT_SPINS_PER_DELAY 100

/*
 * Spin-delay helpers for code that busy-waits on something other than an slock_t:
 * init_local_spin_delay(&status), then perform_spin_delay(&status) on every failed look, then
 * finish_spin_delay(&status).  SpinDelayStatus and the two functions come from bgworker.h.
 */
static inline void
init_spin_delay(SpinDelayStatus *status, const char *file, int line, const char *func)
{
	status->spins = 0;
	status->delays = 0;
	status->cur_delay = 0;
	status->file = file;
	status->line = line;
	status->func = func;
}

#define init_local_spin_delay(status) \
	init_spin_delay(status, __FILE__, __LINE__, PG_FUNCNAME_MACRO)

#endif /* BGW_COMPAT_STORAGE_S_LOCK_H */
