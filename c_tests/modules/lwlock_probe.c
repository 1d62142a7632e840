/*
 * lwlock_probe.c -- test module for LWLocks, spinlocks and atomics, written as a PostgreSQL 15
 * module would be. Workers run lwlock_probe_main (registered through the probe module's
 * $PROBE_WORKERS with lib=lwlock_probe); bgw_extra picks the scenario, bgw_main_arg a count:
 *
 *   basic         one process: acquire/release in both modes, HeldByMe, conditional acquire of a
 *                 lock it holds, interrupts held while a lock is, tranche ids and names, the
 *                 200-lock limit and releasing an unheld lock (both ERRORs caught), spinlock and
 *                 atomics semantics
 *   count         `arg` increments of a plain counter under LW_EXCLUSIVE; logs the counter at the
 *                 end (the largest value logged is the total) and any overlap seen
 *   shared_holder takes LW_SHARED, waits until both shared holders are in and the exclusive
 *                 waiter is waiting, holds on a little, checks it did not get in, releases
 *   excl_waiter   once both shared holders are in: conditional acquires fail, then LWLockAcquire
 *                 sleeps until both have released
 *   unheld        releases a lock it does not hold, with no handler (ERROR, exit 1)
 *   exit_holding  takes the lock and exits (proc_exit(0) when arg is 0, an uncaught ERROR when
 *                 arg is 1, _exit(0) without any clean-up when arg is 2)
 *   after_exit    waits for the exit_holding worker to be gone, then tries to take the lock for
 *                 `arg` ms (conditional polls when arg > 0; LWLockAcquire when arg is 0)
 *   spin          `arg` increments of a plain counter under a spinlock
 *   atomic        `arg` pg_atomic_fetch_add_u64 and _u32 on shared counters
 *
 * Failures log `lwlock_probe FAIL: ...`; each scenario logs `lwlock_probe <mode> ok` when done.
 * The shared state is one MAP_SHARED|MAP_ANONYMOUS mapping made in _PG_init (in the supervisor),
 * which every worker inherits through fork.
 *
 * Built with -DLWLOCK_PROBE_PROGRAM it is instead a plain program that runs `basic` and a forked
 * two-process count, for valgrind.
 */
#include "postgres.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "postmaster/bgworker.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/spin.h"
#include "port/atomics.h"
#include "utils/wait_event.h"

#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>

PG_MODULE_MAGIC;

void		_PG_init(void);
PGDLLEXPORT void lwlock_probe_main(Datum main_arg);

typedef struct ProbeShared
{
	LWLock		lock;
	LWLock		other;
	int			tranche;
	uint64		counter;		/* under lock */
	pg_atomic_uint32 inside;	/* processes inside the exclusive section */
	pg_atomic_uint32 overlaps;
	pg_atomic_uint32 shared_in;
	pg_atomic_uint32 excl_waiting;
	pg_atomic_uint32 excl_in;
	pg_atomic_uint32 holder_pid;
	pg_atomic_uint32 holder_locked;
	slock_t		spin;
	uint64		spin_counter;	/* under spin */
	pg_atomic_uint32 spin_inside;
	pg_atomic_uint64 atomic64;
	pg_atomic_uint32 atomic32;
} ProbeShared;

static ProbeShared *shared;
static int	failures = 0;

#define CHECK(cond) \
	do { \
		if (!(cond)) \
		{ \
			failures++; \
			elog(LOG, "lwlock_probe FAIL: %s (line %d)", #cond, __LINE__); \
		} \
	} while (0)

static int64
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
sleep_ms(int ms)
{
	usleep((useconds_t) ms * 1000);
}

/* Polls until *v == want, every millisecond for at most 10 s; false on timeout. */
pg_attribute_unused() static bool
wait_for(pg_atomic_uint32 *v, uint32 want)
{
	int64		deadline = now_ms() + 10000;

	while (pg_atomic_read_u32(v) != want)
	{
		if (now_ms() > deadline)
			return false;
		sleep_ms(1);
	}
	return true;
}

/* Polls until process `pid` is gone, for at most 10 s. */
pg_attribute_unused() static bool
wait_gone(pid_t pid)
{
	int64		deadline = now_ms() + 10000;

	while (kill(pid, 0) == 0 || errno != ESRCH)
	{
		if (now_ms() > deadline)
			return false;
		sleep_ms(1);
	}
	return true;
}

static void
setup_shared(void)
{
	void	   *p = mmap(NULL, sizeof(ProbeShared), PROT_READ | PROT_WRITE,
						 MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		elog(ERROR, "lwlock_probe: mmap failed: %m");
	shared = (ProbeShared *) p;
	memset(shared, 0, sizeof(*shared));
	shared->tranche = LWLockNewTrancheId();
	LWLockRegisterTranche(shared->tranche, "lwlock_probe");
	LWLockInitialize(&shared->lock, shared->tranche);
	LWLockInitialize(&shared->other, shared->tranche);
	SpinLockInit(&shared->spin);
	pg_atomic_init_u64(&shared->atomic64, 0);
	pg_atomic_init_u32(&shared->atomic32, 0);
}

void
_PG_init(void)
{
	setup_shared();
}

/* A busy moment inside a critical section, so that a broken lock shows as lost updates. */
static void
dawdle(void)
{
	for (int i = 0; i < 20; i++)
		pg_spin_delay();
}

/* ---------- basic: one process ---------- */

static void
basic_spin_and_atomics(void)
{
	slock_t		s;
	pg_atomic_uint32 a32;
	pg_atomic_uint64 a64;
	pg_atomic_flag flag;
	uint32		e32;
	uint64		e64;

	SpinLockInit(&s);
	CHECK(SpinLockFree(&s));
	SpinLockAcquire(&s);
	CHECK(!SpinLockFree(&s));
	CHECK(TAS(&s) != 0);
	SpinLockRelease(&s);
	CHECK(SpinLockFree(&s));
	CHECK(S_LOCK(&s) == 0);
	S_UNLOCK(&s);

	pg_atomic_init_u32(&a32, 5);
	CHECK(pg_atomic_read_u32(&a32) == 5);
	CHECK(pg_atomic_fetch_add_u32(&a32, 3) == 5);
	CHECK(pg_atomic_add_fetch_u32(&a32, -2) == 6);
	CHECK(pg_atomic_fetch_sub_u32(&a32, 1) == 6);
	CHECK(pg_atomic_sub_fetch_u32(&a32, 1) == 4);
	CHECK(pg_atomic_fetch_or_u32(&a32, 0x10) == 4);
	CHECK(pg_atomic_fetch_and_u32(&a32, 0x14) == 0x14);
	CHECK(pg_atomic_exchange_u32(&a32, 9) == 0x14);
	e32 = 1;
	CHECK(!pg_atomic_compare_exchange_u32(&a32, &e32, 2));
	CHECK(e32 == 9);
	CHECK(pg_atomic_compare_exchange_u32(&a32, &e32, 2));
	CHECK(pg_atomic_read_u32(&a32) == 2);
	pg_atomic_write_u32(&a32, 0xFFFFFFFFu);
	CHECK(pg_atomic_add_fetch_u32(&a32, 1) == 0);
	pg_atomic_unlocked_write_u32(&a32, 7);
	CHECK(pg_atomic_read_u32(&a32) == 7);

	pg_atomic_init_u64(&a64, UINT64CONST(1) << 40);
	CHECK(pg_atomic_fetch_add_u64(&a64, 1) == UINT64CONST(1) << 40);
	CHECK(pg_atomic_sub_fetch_u64(&a64, INT64CONST(1) << 40) == 1);
	CHECK(pg_atomic_add_fetch_u64(&a64, -2) == PG_UINT64_MAX);
	CHECK(pg_atomic_fetch_and_u64(&a64, 0xF0) == PG_UINT64_MAX);
	CHECK(pg_atomic_fetch_or_u64(&a64, 0x0F) == 0xF0);
	CHECK(pg_atomic_fetch_sub_u64(&a64, 0xFF) == 0xFF);
	CHECK(pg_atomic_exchange_u64(&a64, 42) == 0);
	e64 = 41;
	CHECK(!pg_atomic_compare_exchange_u64(&a64, &e64, 43));
	CHECK(e64 == 42);
	CHECK(pg_atomic_compare_exchange_u64(&a64, &e64, 43));
	CHECK(pg_atomic_read_u64(&a64) == 43);
	pg_atomic_write_u64(&a64, 1);
	CHECK(pg_atomic_read_u64(&a64) == 1);

	pg_atomic_init_flag(&flag);
	CHECK(pg_atomic_unlocked_test_flag(&flag));
	CHECK(pg_atomic_test_set_flag(&flag));
	CHECK(!pg_atomic_test_set_flag(&flag));
	CHECK(!pg_atomic_unlocked_test_flag(&flag));
	pg_atomic_clear_flag(&flag);
	CHECK(pg_atomic_unlocked_test_flag(&flag));

	pg_memory_barrier();
	pg_read_barrier();
	pg_write_barrier();
	pg_compiler_barrier();
}

typedef struct SeenLocks
{
	int			n;
	LWLock	   *locks[4];
	LWLockMode	modes[4];
} SeenLocks;

static void
note_lock(LWLock *lock, LWLockMode mode, void *context)
{
	SeenLocks  *seen = (SeenLocks *) context;

	if (seen->n < 4)
	{
		seen->locks[seen->n] = lock;
		seen->modes[seen->n] = mode;
	}
	seen->n++;
}

static LWLock many[201];

static void
basic(void)
{
	LWLock	   *lock = &shared->lock;
	uint32		holdoff = InterruptHoldoffCount;
	int			t1,
				t2;
	bool		caught;
	SeenLocks	seen;

	/* exclusive */
	CHECK(!LWLockHeldByMe(lock));
	CHECK(LWLockAcquire(lock, LW_EXCLUSIVE));
	CHECK(InterruptHoldoffCount == holdoff + 1);
	CHECK(LWLockHeldByMe(lock));
	CHECK(LWLockHeldByMeInMode(lock, LW_EXCLUSIVE));
	CHECK(!LWLockHeldByMeInMode(lock, LW_SHARED));
	CHECK(!LWLockHeldByMe(&shared->other));
	CHECK(!LWLockConditionalAcquire(lock, LW_EXCLUSIVE));
	CHECK(!LWLockConditionalAcquire(lock, LW_SHARED));
	CHECK(InterruptHoldoffCount == holdoff + 1);
	LWLockRelease(lock);
	CHECK(InterruptHoldoffCount == holdoff);
	CHECK(!LWLockHeldByMe(lock));

	/* shared, twice (a shared lock may be taken again), then another lock */
	CHECK(LWLockAcquire(lock, LW_SHARED));
	CHECK(LWLockAcquire(lock, LW_SHARED));
	CHECK(LWLockHeldByMeInMode(lock, LW_SHARED));
	CHECK(!LWLockConditionalAcquire(lock, LW_EXCLUSIVE));
	CHECK(LWLockConditionalAcquire(&shared->other, LW_EXCLUSIVE));
	CHECK(InterruptHoldoffCount == holdoff + 3);
	CHECK(LWLockAnyHeldByMe(lock, 2, sizeof(LWLock)));
	memset(&seen, 0, sizeof(seen));
	ForEachLWLockHeldByMe(note_lock, &seen);
	CHECK(seen.n == 3);
	CHECK(seen.locks[0] == lock && seen.modes[0] == LW_SHARED);
	CHECK(seen.locks[2] == &shared->other && seen.modes[2] == LW_EXCLUSIVE);
	LWLockRelease(lock);
	CHECK(LWLockHeldByMe(lock));
	LWLockRelease(lock);
	CHECK(!LWLockHeldByMe(lock));
	CHECK(LWLockHeldByMe(&shared->other));
	LWLockReleaseAll();
	CHECK(!LWLockHeldByMe(&shared->other));
	/* ReleaseAll leaves the holdoff count to the error recovery that calls it, as PostgreSQL */
	CHECK(InterruptHoldoffCount == holdoff + 1);
	InterruptHoldoffCount = holdoff;
	CHECK(LWLockConditionalAcquire(lock, LW_EXCLUSIVE));
	LWLockRelease(lock);

	/* tranches */
	t1 = LWLockNewTrancheId();
	t2 = LWLockNewTrancheId();
	CHECK(t1 >= LWTRANCHE_FIRST_USER_DEFINED);
	CHECK(t2 > t1);
	CHECK(t1 > shared->tranche);
	CHECK(strcmp(GetLWLockIdentifier(PG_WAIT_LWLOCK, (uint16) shared->tranche), "lwlock_probe") == 0);
	CHECK(strcmp(GetLWLockIdentifier(PG_WAIT_LWLOCK, (uint16) t1), "extension") == 0);
	LWLockRegisterTranche(t1, "lwlock_probe_t1");
	CHECK(strcmp(GetLWLockIdentifier(PG_WAIT_LWLOCK, (uint16) t1), "lwlock_probe_t1") == 0);
	CHECK(strcmp(GetLWLockIdentifier(PG_WAIT_LWLOCK, 21), "AddinShmemInit") == 0);
	CHECK(strcmp(GetLWLockIdentifier(PG_WAIT_LWLOCK, LWTRANCHE_BUFFER_MAPPING), "BufferMapping") == 0);

	/* releasing a lock this process does not hold: ERROR, caught */
	caught = false;
	PG_TRY();
	{
		LWLockRelease(lock);
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		caught = true;
		edata = CopyErrorData();
		FlushErrorState();
		CHECK(edata->elevel == ERROR);
		CHECK(strcmp(edata->message, "lock lwlock_probe is not held") == 0);
		elog(LOG, "lwlock_probe basic: caught \"%s\"", edata->message);
		FreeErrorData(edata);
	}
	PG_END_TRY();
	CHECK(caught);
	CHECK(InterruptHoldoffCount == holdoff);

	/* at most 200 locks at once */
	for (int i = 0; i < 201; i++)
		LWLockInitialize(&many[i], shared->tranche);
	caught = false;
	PG_TRY();
	{
		for (int i = 0; i < 201; i++)
			LWLockAcquire(&many[i], LW_EXCLUSIVE);
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		caught = true;
		edata = CopyErrorData();
		FlushErrorState();
		CHECK(strcmp(edata->message, "too many LWLocks taken") == 0);
		FreeErrorData(edata);
	}
	PG_END_TRY();
	CHECK(caught);
	CHECK(LWLockHeldByMe(&many[199]));
	CHECK(!LWLockHeldByMe(&many[200]));
	LWLockReleaseAll();
	CHECK(!LWLockHeldByMe(&many[0]));
	InterruptHoldoffCount = holdoff;

	basic_spin_and_atomics();
}

/* ---------- count: mutual exclusion across processes ---------- */

static void
count(int iterations)
{
	uint64		last = 0;

	for (int i = 0; i < iterations; i++)
	{
		uint64		v;

		LWLockAcquire(&shared->lock, LW_EXCLUSIVE);
		if (pg_atomic_fetch_add_u32(&shared->inside, 1) != 0)
			pg_atomic_fetch_add_u32(&shared->overlaps, 1);
		v = shared->counter;
		dawdle();
		shared->counter = v + 1;
		last = v + 1;
		pg_atomic_fetch_sub_u32(&shared->inside, 1);
		LWLockRelease(&shared->lock);
	}
	CHECK(InterruptHoldoffCount == 0);
	CHECK(pg_atomic_read_u32(&shared->overlaps) == 0);
	elog(LOG, "lwlock_probe count finished last=" UINT64_FORMAT " overlaps=%u", last,
		 pg_atomic_read_u32(&shared->overlaps));
}

#ifndef LWLOCK_PROBE_PROGRAM

/* ---------- shared holders and an exclusive waiter (workers only from here) ---------- */

static void
shared_holder(void)
{
	LWLockAcquire(&shared->lock, LW_SHARED);
	pg_atomic_fetch_add_u32(&shared->shared_in, 1);
	CHECK(wait_for(&shared->shared_in, 2));
	elog(LOG, "lwlock_probe shared_holder: both shared holders in");
	CHECK(wait_for(&shared->excl_waiting, 1));
	sleep_ms(300);				/* the exclusive waiter is asleep on the lock by now */
	CHECK(pg_atomic_read_u32(&shared->excl_in) == 0);
	pg_atomic_fetch_sub_u32(&shared->shared_in, 1);
	LWLockRelease(&shared->lock);
}

static void
excl_waiter(void)
{
	int64		t0;
	bool		immediate;

	CHECK(wait_for(&shared->shared_in, 2));
	CHECK(!LWLockConditionalAcquire(&shared->lock, LW_EXCLUSIVE));
	CHECK(!LWLockHeldByMe(&shared->lock));
	CHECK(InterruptHoldoffCount == 0);
	/* a third shared holder may join while only shared holders are in */
	CHECK(LWLockConditionalAcquire(&shared->lock, LW_SHARED));
	LWLockRelease(&shared->lock);
	pg_atomic_write_u32(&shared->excl_waiting, 1);
	t0 = now_ms();
	immediate = LWLockAcquire(&shared->lock, LW_EXCLUSIVE);
	pg_atomic_write_u32(&shared->excl_in, 1);
	CHECK(!immediate);
	CHECK(pg_atomic_read_u32(&shared->shared_in) == 0);
	CHECK(*my_wait_event_info == 0);
	elog(LOG, "lwlock_probe excl_waiter: got the lock after %d ms, immediately=%d",
		 (int) (now_ms() - t0), (int) immediate);
	LWLockRelease(&shared->lock);
}

/* ---------- exits ---------- */

static void
exit_holding(int how)
{
	LWLockAcquire(&shared->lock, LW_EXCLUSIVE);
	pg_atomic_write_u32(&shared->holder_pid, (uint32) MyProcPid);
	pg_atomic_write_u32(&shared->holder_locked, 1);
	elog(LOG, "lwlock_probe exit_holding: holding the lock, exiting (how=%d)", how);
	if (how == 1)
		elog(ERROR, "lwlock_probe exit_holding: an uncaught error while holding the lock");
	if (how == 2)
		_exit(0);
	proc_exit(0);
}

static void
after_exit(int ms)
{
	pid_t		holder;
	int64		t0;
	bool		got = false;

	CHECK(wait_for(&shared->holder_locked, 1));
	holder = (pid_t) pg_atomic_read_u32(&shared->holder_pid);
	CHECK(wait_gone(holder));
	t0 = now_ms();
	if (ms == 0)
	{
		elog(LOG, "lwlock_probe after_exit: waiting in LWLockAcquire");
		LWLockAcquire(&shared->lock, LW_EXCLUSIVE);
		got = true;
	}
	else
	{
		while (!got && now_ms() - t0 < ms)
		{
			got = LWLockConditionalAcquire(&shared->lock, LW_EXCLUSIVE);
			if (!got)
				sleep_ms(5);
		}
	}
	CHECK(got);
	elog(LOG, "lwlock_probe after_exit: acquired=%d after %d ms", (int) got, (int) (now_ms() - t0));
	if (got)
		LWLockRelease(&shared->lock);
}

/* ---------- spinlock and atomics across processes ---------- */

static void
spin(int iterations)
{
	uint64		last = 0;

	for (int i = 0; i < iterations; i++)
	{
		uint64		v;

		SpinLockAcquire(&shared->spin);
		if (pg_atomic_fetch_add_u32(&shared->spin_inside, 1) != 0)
			pg_atomic_fetch_add_u32(&shared->overlaps, 1);
		v = shared->spin_counter;
		dawdle();
		shared->spin_counter = v + 1;
		last = v + 1;
		pg_atomic_fetch_sub_u32(&shared->spin_inside, 1);
		SpinLockRelease(&shared->spin);
	}
	CHECK(pg_atomic_read_u32(&shared->overlaps) == 0);
	elog(LOG, "lwlock_probe spin finished last=" UINT64_FORMAT, last);
}

static void
atomic(int iterations)
{
	uint64		last64 = 0;
	uint32		last32 = 0;

	for (int i = 0; i < iterations; i++)
	{
		last64 = pg_atomic_fetch_add_u64(&shared->atomic64, 1) + 1;
		last32 = pg_atomic_add_fetch_u32(&shared->atomic32, 1);
	}
	elog(LOG, "lwlock_probe atomic finished last64=" UINT64_FORMAT " last32=%u", last64, last32);
}

void
lwlock_probe_main(Datum main_arg)
{
	char		mode[BGW_EXTRALEN];
	int			arg = DatumGetInt32(main_arg);

	BackgroundWorkerUnblockSignals();
	memcpy(mode, MyBgworkerEntry->bgw_extra, BGW_EXTRALEN);
	mode[BGW_EXTRALEN - 1] = '\0';
	elog(LOG, "lwlock_probe %s started pid=%d arg=%d", mode, (int) getpid(), arg);

	if (strcmp(mode, "basic") == 0)
		basic();
	else if (strcmp(mode, "count") == 0)
		count(arg);
	else if (strcmp(mode, "shared_holder") == 0)
		shared_holder();
	else if (strcmp(mode, "excl_waiter") == 0)
		excl_waiter();
	else if (strcmp(mode, "unheld") == 0)
	{
		LWLockRelease(&shared->other);
		elog(LOG, "lwlock_probe FAIL: releasing an unheld lock returned");
		proc_exit(0);
	}
	else if (strcmp(mode, "exit_holding") == 0)
		exit_holding(arg);
	else if (strcmp(mode, "after_exit") == 0)
		after_exit(arg);
	else if (strcmp(mode, "spin") == 0)
		spin(arg);
	else if (strcmp(mode, "atomic") == 0)
		atomic(arg);
	else
		elog(ERROR, "lwlock_probe: unknown mode \"%s\"", mode);

	if (failures == 0)
		elog(LOG, "lwlock_probe %s ok", mode);
	proc_exit(failures == 0 ? 0 : 1);
}

#else

/* A plain program: basic checks, then a forked child and the parent counting under the lock. */
int
main(void)
{
	pid_t		child;
	int			status = 0;

	setup_shared();
	basic();
	child = fork();
	if (child == 0)
	{
		count(5000);
		_exit(failures == 0 ? 0 : 1);
	}
	count(5000);
	waitpid(child, &status, 0);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	CHECK(shared->counter == 10000);
	munmap(shared, sizeof(ProbeShared));
	if (failures == 0)
		elog(LOG, "lwlock_probe program ok");
	return failures == 0 ? 0 : 1;
}

#endif
