/*
 * postmaster/postmaster.h -- the supervisor's settings a module may read: restart_after_crash,
 * and MAX_BACKENDS (the upper bound of max_worker_processes).
 */
#include "postgres.h"

#ifndef BGW_COMPAT_POSTMASTER_POSTMASTER_H
#define BGW_COMPAT_POSTMASTER_POSTMASTER_H

BGW_EXTERN_C_BEGIN
extern PGDLLIMPORT bool restart_after_crash;
BGW_EXTERN_C_END

#define MAX_BACKENDS 0x3FFFF

#endif /* BGW_COMPAT_POSTMASTER_POSTMASTER_H */
