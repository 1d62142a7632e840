/*
 * utils/palloc.h -- allocation in memory contexts: palloc(), pfree() and friends.
 *
 * The functions, MemoryContext and CurrentMemoryContext come from the generated bgworker.h;
 * this header adds what C needs beyond them, spelled as PostgreSQL 15 does: the MCXT_* flags,
 * the inline MemoryContextSwitchTo, the array macros, and the variadic psprintf/pvsnprintf.
 */
#include "postgres.h"

#ifndef BGW_COMPAT_UTILS_PALLOC_H
#define BGW_COMPAT_UTILS_PALLOC_H

/* Flags of palloc_extended() and MemoryContextAllocExtended(). */
#define MCXT_ALLOC_HUGE 0x01	/* allow a request above 1 GB */
#define MCXT_ALLOC_NO_OOM 0x02	/* return NULL instead of an out-of-memory ERROR */
#define MCXT_ALLOC_ZERO 0x04	/* zero the memory */

#define palloc_object(type) ((type *) palloc(sizeof(type)))
#define palloc0_object(type) ((type *) palloc0(sizeof(type)))
#define palloc_array(type, count) ((type *) palloc_mul(sizeof(type), count))
#define palloc0_array(type, count) ((type *) palloc0_mul(sizeof(type), count))
#define palloc_array_extended(type, count, flags) \
	((type *) palloc_mul_extended(sizeof(type), count, flags))
#define repalloc_array(pointer, type, count) ((type *) repalloc_mul(pointer, sizeof(type), count))
#define repalloc_array_extended(pointer, type, count, flags) \
	((type *) repalloc_mul_extended(pointer, sizeof(type), count, flags))
#define palloc0fast(sz) MemoryContextAllocZero(CurrentMemoryContext, sz)

/*
 * Makes `context` the one palloc() allocates in and returns the previous one. Inline, as in
 * PostgreSQL: a module compiled against either set of headers reads and writes the exported
 * CurrentMemoryContext directly.
 */
static inline MemoryContext
MemoryContextSwitchTo(MemoryContext context)
{
	MemoryContext old = CurrentMemoryContext;

	CurrentMemoryContext = context;
	return old;
}

BGW_EXTERN_C_BEGIN
/* The formatted string, palloc'd in CurrentMemoryContext. */
extern char *psprintf(const char *fmt, ...) pg_attribute_printf(1, 2);
/*
 * Formats into buf (len bytes): the length written when it fit (less than len), otherwise the
 * buffer size the whole result needs, its NUL included.
 */
extern size_t pvsnprintf(char *buf, size_t len, const char *fmt, va_list args)
	pg_attribute_printf(3, 0);
BGW_EXTERN_C_END

#endif /* BGW_COMPAT_UTILS_PALLOC_H */
