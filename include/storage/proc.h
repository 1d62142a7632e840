/*
 * storage/proc.h -- per-process shared state: PGPROC and MyProc (declared in bgworker.h).
 *
 * Every worker and every process attached with BackgroundWorkerAttach has a PGPROC; its
 * procLatch is the process's MyLatch, so another process can wake it with
 * SetLatch(&proc->procLatch), and it can be a message queue's sender or receiver.
 */
#include "postgres.h"

#ifndef BGW_COMPAT_STORAGE_PROC_H
#define BGW_COMPAT_STORAGE_PROC_H

#include "storage/latch.h"
#include "storage/proclist_types.h"

#endif /* BGW_COMPAT_STORAGE_PROC_H */
