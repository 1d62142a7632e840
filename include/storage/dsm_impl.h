/*
 * storage/dsm_impl.h -- the dynamic shared memory handle (dsm_handle, declared in bgworker.h)
 * and PostgreSQL's implementation numbers.
 *
 * Every segment here is a range of one memfd the supervisor makes (nothing in the file system);
 * dynamic_shared_memory_type keeps PostgreSQL's boot value and changes nothing.
 */
#include "postgres.h"

#ifndef BGW_COMPAT_STORAGE_DSM_IMPL_H
#define BGW_COMPAT_STORAGE_DSM_IMPL_H

#define DSM_IMPL_POSIX 1
#define DSM_IMPL_SYSV 2
#define DSM_IMPL_WINDOWS 3
#define DSM_IMPL_MMAP 4

#define DEFAULT_DYNAMIC_SHARED_MEMORY_TYPE DSM_IMPL_POSIX

BGW_EXTERN_C_BEGIN
extern PGDLLIMPORT int dynamic_shared_memory_type;
extern PGDLLIMPORT int min_dynamic_shared_memory;
BGW_EXTERN_C_END

#endif /* BGW_COMPAT_STORAGE_DSM_IMPL_H */
