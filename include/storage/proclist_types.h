/*
 * storage/proclist_types.h -- lists of PGPROCs kept by number: proclist_node and proclist_head
 * (declared in bgworker.h), as condition variables and LWLocks lay them out.
 */
#include "postgres.h"

#ifndef BGW_COMPAT_STORAGE_PROCLIST_TYPES_H
#define BGW_COMPAT_STORAGE_PROCLIST_TYPES_H

typedef struct proclist_mutable_iter
{
	int cur;
	int next;
} proclist_mutable_iter;

#endif /* BGW_COMPAT_STORAGE_PROCLIST_TYPES_H */
