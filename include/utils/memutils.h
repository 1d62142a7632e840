/*
 * utils/memutils.h -- memory contexts: creating, resetting and deleting them.
 *
 * The functions, MemoryContextData and the context globals come from the generated
 * bgworker.h; this header adds PostgreSQL 15's size limits, the AllocSetContextCreate macro
 * with its ALLOCSET_* size sets, and the inline GetMemoryChunkContext (every chunk carries a
 * pointer to its context just before it, as in PostgreSQL).
 */
#include "postgres.h"
#include "utils/palloc.h"

#ifndef BGW_COMPAT_UTILS_MEMUTILS_H
#define BGW_COMPAT_UTILS_MEMUTILS_H

#define MaxAllocSize ((Size) 0x3fffffff) /* 1 gigabyte - 1 */
#define AllocSizeIsValid(size) ((Size) (size) <= MaxAllocSize)
#define MaxAllocHugeSize (SIZE_MAX / 2)
#define AllocHugeSizeIsValid(size) ((Size) (size) <= MaxAllocHugeSize)

#define MemoryContextIsValid(context) ((context) != NULL)
#define MemoryContextResetAndDeleteChildren(ctx) MemoryContextReset(ctx)
#define MemoryContextCopyAndSetIdentifier(cxt, id) \
	MemoryContextSetIdentifier(cxt, MemoryContextStrdup(cxt, id))

/* The context a palloc'd chunk belongs to. */
static inline MemoryContext
GetMemoryChunkContext(void *pointer)
{
	MemoryContext context;

	memcpy(&context, (char *) pointer - sizeof(void *), sizeof(context));
	return context;
}

/* AllocSetContextCreate(parent, "name", ALLOCSET_DEFAULT_SIZES): name must be a constant. */
#define AllocSetContextCreate(parent, name, ...) \
	AllocSetContextCreateInternal(parent, name, __VA_ARGS__)

#define ALLOCSET_DEFAULT_MINSIZE 0
#define ALLOCSET_DEFAULT_INITSIZE (8 * 1024)
#define ALLOCSET_DEFAULT_MAXSIZE (8 * 1024 * 1024)
#define ALLOCSET_DEFAULT_SIZES \
	ALLOCSET_DEFAULT_MINSIZE, ALLOCSET_DEFAULT_INITSIZE, ALLOCSET_DEFAULT_MAXSIZE

#define ALLOCSET_SMALL_MINSIZE 0
#define ALLOCSET_SMALL_INITSIZE (1 * 1024)
#define ALLOCSET_SMALL_MAXSIZE (8 * 1024)
#define ALLOCSET_SMALL_SIZES ALLOCSET_SMALL_MINSIZE, ALLOCSET_SMALL_INITSIZE, ALLOCSET_SMALL_MAXSIZE

#define ALLOCSET_START_SMALL_SIZES \
	ALLOCSET_SMALL_MINSIZE, ALLOCSET_SMALL_INITSIZE, ALLOCSET_DEFAULT_MAXSIZE

#define ALLOCSET_SEPARATE_THRESHOLD 8192

#define SLAB_DEFAULT_BLOCK_SIZE (8 * 1024)
#define SLAB_LARGE_BLOCK_SIZE (8 * 1024 * 1024)

#endif /* BGW_COMPAT_UTILS_MEMUTILS_H */
