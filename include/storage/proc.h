/*
 * storage/proc.h -- per-process shared state (PGPROC). Present so module sources keep their
 * include lines; the library does not provide MyProc yet.
 */
#include "postgres.h"

#ifndef BGW_COMPAT_STORAGE_PROC_H
#define BGW_COMPAT_STORAGE_PROC_H

#endif /* BGW_COMPAT_STORAGE_PROC_H */
