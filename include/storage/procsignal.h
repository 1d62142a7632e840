/*
 * storage/procsignal.h -- procsignal_sigusr1_handler, the SIGUSR1 handler a worker installs to be
 * woken (its latch set) when a worker it registered starts or stops.
 */
#include "postgres.h"

#ifndef BGW_COMPAT_STORAGE_PROCSIGNAL_H
#define BGW_COMPAT_STORAGE_PROCSIGNAL_H

BGW_EXTERN_C_BEGIN
extern void procsignal_sigusr1_handler(SIGNAL_ARGS);
BGW_EXTERN_C_END

#endif /* BGW_COMPAT_STORAGE_PROCSIGNAL_H */
