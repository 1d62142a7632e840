/*
 * storage/procarray.h -- finding a process's PGPROC by pid: BackendPidGetProc (declared in
 * bgworker.h) finds workers and processes attached with BackgroundWorkerAttach.
 */
#include "postgres.h"

#ifndef BGW_COMPAT_STORAGE_PROCARRAY_H
#define BGW_COMPAT_STORAGE_PROCARRAY_H

#include "storage/proc.h"

#endif /* BGW_COMPAT_STORAGE_PROCARRAY_H */
