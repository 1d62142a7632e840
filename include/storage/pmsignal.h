/*
 * storage/pmsignal.h -- PostmasterIsAlive(): is the supervisor (bgworkerd) still running?
 *
 * PostgreSQL makes this an inline check of a flag before the real test; here it always asks
 * PostmasterIsAliveInternal(), declared in the generated bgworker.h.
 */
#include "postgres.h"

#ifndef BGW_COMPAT_STORAGE_PMSIGNAL_H
#define BGW_COMPAT_STORAGE_PMSIGNAL_H

#define PostmasterIsAlive() PostmasterIsAliveInternal()

#endif /* BGW_COMPAT_STORAGE_PMSIGNAL_H */
