/*
 * miscadmin.h -- process-wide globals a module reads (MyProcPid, MyLatch, IsUnderPostmaster,
 * IsBackgroundWorker, max_worker_processes, process_shared_preload_libraries_in_progress, ...).
 *
 * All of them are declared in bgworker.h; this header exists so that module sources include
 * what they include under PostgreSQL.
 */
#include "postgres.h"

#ifndef BGW_COMPAT_MISCADMIN_H
#define BGW_COMPAT_MISCADMIN_H

#endif /* BGW_COMPAT_MISCADMIN_H */
