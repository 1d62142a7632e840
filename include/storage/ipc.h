/*
 * storage/ipc.h -- process exit: proc_exit, on_proc_exit, before_shmem_exit, on_shmem_exit,
 * cancel_before_shmem_exit and pg_on_exit_callback.
 *
 * All of them are declared in the generated bgworker.h; this is the name modules include.
 */
#include "postgres.h"

#ifndef BGW_COMPAT_STORAGE_IPC_H
#define BGW_COMPAT_STORAGE_IPC_H

#endif /* BGW_COMPAT_STORAGE_IPC_H */
