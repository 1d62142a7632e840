/*
 * storage/lwlocknames.h -- the fixed locks of the main LWLock array by name (AddinShmemInitLock,
 * element 21, as in PostgreSQL 15). They are defined with the rest in storage/lwlock.h.
 */
#include "postgres.h"

#ifndef BGW_COMPAT_STORAGE_LWLOCKNAMES_H
#define BGW_COMPAT_STORAGE_LWLOCKNAMES_H

#include "storage/lwlock.h"

#endif /* BGW_COMPAT_STORAGE_LWLOCKNAMES_H */
