/*
 * storage/shmem.h -- shared memory for modules: ShmemInitStruct, RequestAddinShmemSpace,
 * add_size/mul_size (declared in bgworker.h); ShmemInitHash for a hash table there, and
 * ShmemAlloc.  Space is requested in shmem_request_hook and the structures made in
 * shmem_startup_hook, as in PostgreSQL 15; 100,000 bytes beyond the requests are there for
 * what rounding takes, as PostgreSQL adds them too.
 */
#include "postgres.h"

#ifndef BGW_COMPAT_STORAGE_SHMEM_H
#define BGW_COMPAT_STORAGE_SHMEM_H

#include "utils/hsearch.h"

BGW_EXTERN_C_BEGIN

extern void *ShmemAlloc(Size size);
extern void *ShmemAllocNoError(Size size);
extern void *ShmemAllocUnlocked(Size size);
extern HTAB *ShmemInitHash(const char *name, long init_size, long max_size, HASHCTL *infoP,
						   int hash_flags);

BGW_EXTERN_C_END

#endif /* BGW_COMPAT_STORAGE_SHMEM_H */
