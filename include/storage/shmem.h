/*
 * storage/shmem.h -- shared memory for modules: ShmemInitStruct, RequestAddinShmemSpace,
 * add_size/mul_size (declared in bgworker.h). Space is requested in shmem_request_hook and the
 * structures made in shmem_startup_hook, as in PostgreSQL 15.
 */
#include "postgres.h"

#ifndef BGW_COMPAT_STORAGE_SHMEM_H
#define BGW_COMPAT_STORAGE_SHMEM_H

#endif /* BGW_COMPAT_STORAGE_SHMEM_H */
