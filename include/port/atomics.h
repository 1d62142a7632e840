/*
 * port/atomics.h -- atomic operations on memory shared between processes, with PostgreSQL 15's
 * names, types and ordering guarantees: pg_atomic_uint32, pg_atomic_uint64, pg_atomic_flag and
 * the barriers.
 *
 * Header-only, built on the compiler's __atomic builtins (GCC and Clang).  The two value types
 * come from the generated bgworker.h (an LWLock contains one); pg_atomic_flag is defined here.
 *
 * Guarantees, as in PostgreSQL: read/write/unlocked_write and init are plain accesses with no
 * barrier; exchange, compare_exchange and every fetch/arithmetic operation are full barriers;
 * test_set_flag has acquire and clear_flag release semantics.
 */
#include "postgres.h"

#ifndef BGW_COMPAT_PORT_ATOMICS_H
#define BGW_COMPAT_PORT_ATOMICS_H

#if !defined(__GNUC__) && !defined(__clang__)
#error "port/atomics.h needs GCC or Clang (__atomic builtins)"
#endif

#define PG_HAVE_ATOMIC_U32_SUPPORT
#define PG_HAVE_ATOMIC_U64_SUPPORT
#define PG_HAVE_ATOMIC_FLAG_SUPPORT

/* ---- barriers ---------------------------------------------------------------------------- */

/* Keeps the compiler from moving memory accesses across it; the CPU may still reorder. */
#define pg_compiler_barrier() __asm__ __volatile__("" ::: "memory")

/* A full fence: no load or store moves across it in either direction. */
#define pg_memory_barrier() __atomic_thread_fence(__ATOMIC_SEQ_CST)

#if defined(__x86_64__) || defined(__i386__)
/* x86 keeps loads ordered with loads and stores with stores: only the compiler must be held. */
#define pg_read_barrier() pg_compiler_barrier()
#define pg_write_barrier() pg_compiler_barrier()
#else
#define pg_read_barrier() __atomic_thread_fence(__ATOMIC_ACQUIRE)
#define pg_write_barrier() __atomic_thread_fence(__ATOMIC_RELEASE)
#endif

/* What a busy-wait loop does between two looks at a contended word. */
#if defined(__x86_64__) || defined(__i386__)
#define pg_spin_delay() __asm__ __volatile__(" rep; nop \n")
#elif defined(__aarch64__)
#define pg_spin_delay() __asm__ __volatile__(" isb; \n")
#else
#define pg_spin_delay() ((void) 0)
#endif

BGW_EXTERN_C_BEGIN

/* ---- pg_atomic_flag ------------------------------------------------------------------------- */

typedef struct pg_atomic_flag
{
#if defined(__x86_64__) || defined(__i386__)
	volatile char value;
#else
	volatile int value;
#endif
} pg_atomic_flag;

static inline void
pg_atomic_init_flag(volatile pg_atomic_flag *ptr)
{
	ptr->value = 0;
}

/* Sets the flag; true if it was clear before (this caller set it).  Acquire semantics. */
static inline bool
pg_atomic_test_set_flag(volatile pg_atomic_flag *ptr)
{
	return __atomic_exchange_n(&ptr->value, 1, __ATOMIC_ACQUIRE) == 0;
}

/* True if the flag is clear, read without any barrier. */
static inline bool
pg_atomic_unlocked_test_flag(volatile pg_atomic_flag *ptr)
{
	return ptr->value == 0;
}

/* Clears the flag.  Release semantics. */
static inline void
pg_atomic_clear_flag(volatile pg_atomic_flag *ptr)
{
	__atomic_store_n(&ptr->value, 0, __ATOMIC_RELEASE);
}

/* ---- pg_atomic_uint32 ------------------------------------------------------------------------- */

static inline void
pg_atomic_init_u32(volatile pg_atomic_uint32 *ptr, uint32 val)
{
	ptr->value = val;
}

static inline uint32
pg_atomic_read_u32(volatile pg_atomic_uint32 *ptr)
{
	return ptr->value;
}

static inline void
pg_atomic_write_u32(volatile pg_atomic_uint32 *ptr, uint32 val)
{
	ptr->value = val;
}

static inline void
pg_atomic_unlocked_write_u32(volatile pg_atomic_uint32 *ptr, uint32 val)
{
	ptr->value = val;
}

static inline uint32
pg_atomic_exchange_u32(volatile pg_atomic_uint32 *ptr, uint32 newval)
{
	return __atomic_exchange_n(&ptr->value, newval, __ATOMIC_SEQ_CST);
}

/*
 * If *ptr equals *expected, stores newval and returns true; otherwise copies the current value
 * into *expected and returns false.
 */
static inline bool
pg_atomic_compare_exchange_u32(volatile pg_atomic_uint32 *ptr, uint32 *expected, uint32 newval)
{
	return __atomic_compare_exchange_n(&ptr->value, expected, newval, false, __ATOMIC_SEQ_CST,
									   __ATOMIC_SEQ_CST);
}

static inline uint32
pg_atomic_fetch_add_u32(volatile pg_atomic_uint32 *ptr, int32 add_)
{
	return __atomic_fetch_add(&ptr->value, (uint32) add_, __ATOMIC_SEQ_CST);
}

static inline uint32
pg_atomic_fetch_sub_u32(volatile pg_atomic_uint32 *ptr, int32 sub_)
{
	return __atomic_fetch_sub(&ptr->value, (uint32) sub_, __ATOMIC_SEQ_CST);
}

static inline uint32
pg_atomic_fetch_and_u32(volatile pg_atomic_uint32 *ptr, uint32 and_)
{
	return __atomic_fetch_and(&ptr->value, and_, __ATOMIC_SEQ_CST);
}

static inline uint32
pg_atomic_fetch_or_u32(volatile pg_atomic_uint32 *ptr, uint32 or_)
{
	return __atomic_fetch_or(&ptr->value, or_, __ATOMIC_SEQ_CST);
}

static inline uint32
pg_atomic_add_fetch_u32(volatile pg_atomic_uint32 *ptr, int32 add_)
{
	return __atomic_add_fetch(&ptr->value, (uint32) add_, __ATOMIC_SEQ_CST);
}

static inline uint32
pg_atomic_sub_fetch_u32(volatile pg_atomic_uint32 *ptr, int32 sub_)
{
	return __atomic_sub_fetch(&ptr->value, (uint32) sub_, __ATOMIC_SEQ_CST);
}

/* ---- pg_atomic_uint64 ------------------------------------------------------------------------- */

static inline void
pg_atomic_init_u64(volatile pg_atomic_uint64 *ptr, uint64 val)
{
	ptr->value = val;
}

static inline uint64
pg_atomic_read_u64(volatile pg_atomic_uint64 *ptr)
{
	return ptr->value;
}

static inline void
pg_atomic_write_u64(volatile pg_atomic_uint64 *ptr, uint64 val)
{
	ptr->value = val;
}

static inline uint64
pg_atomic_exchange_u64(volatile pg_atomic_uint64 *ptr, uint64 newval)
{
	return __atomic_exchange_n(&ptr->value, newval, __ATOMIC_SEQ_CST);
}

static inline bool
pg_atomic_compare_exchange_u64(volatile pg_atomic_uint64 *ptr, uint64 *expected, uint64 newval)
{
	return __atomic_compare_exchange_n(&ptr->value, expected, newval, false, __ATOMIC_SEQ_CST,
									   __ATOMIC_SEQ_CST);
}

static inline uint64
pg_atomic_fetch_add_u64(volatile pg_atomic_uint64 *ptr, int64 add_)
{
	return __atomic_fetch_add(&ptr->value, (uint64) add_, __ATOMIC_SEQ_CST);
}

static inline uint64
pg_atomic_fetch_sub_u64(volatile pg_atomic_uint64 *ptr, int64 sub_)
{
	return __atomic_fetch_sub(&ptr->value, (uint64) sub_, __ATOMIC_SEQ_CST);
}

static inline uint64
pg_atomic_fetch_and_u64(volatile pg_atomic_uint64 *ptr, uint64 and_)
{
	return __atomic_fetch_and(&ptr->value, and_, __ATOMIC_SEQ_CST);
}

static inline uint64
pg_atomic_fetch_or_u64(volatile pg_atomic_uint64 *ptr, uint64 or_)
{
	return __atomic_fetch_or(&ptr->value, or_, __ATOMIC_SEQ_CST);
}

static inline uint64
pg_atomic_add_fetch_u64(volatile pg_atomic_uint64 *ptr, int64 add_)
{
	return __atomic_add_fetch(&ptr->value, (uint64) add_, __ATOMIC_SEQ_CST);
}

static inline uint64
pg_atomic_sub_fetch_u64(volatile pg_atomic_uint64 *ptr, int64 sub_)
{
	return __atomic_sub_fetch(&ptr->value, (uint64) sub_, __ATOMIC_SEQ_CST);
}

BGW_EXTERN_C_END

#endif /* BGW_COMPAT_PORT_ATOMICS_H */
