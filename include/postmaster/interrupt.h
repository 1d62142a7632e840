/*
 * postmaster/interrupt.h -- standard signal handlers for auxiliary processes and workers.
 *
 * Provided for the include line only: the handlers and their flags (ConfigReloadPending,
 * ShutdownRequestPending, SignalHandlerForConfigReload, ...) are not part of the library yet.
 */
#include "postgres.h"

#ifndef BGW_COMPAT_POSTMASTER_INTERRUPT_H
#define BGW_COMPAT_POSTMASTER_INTERRUPT_H

BGW_EXTERN_C_BEGIN

/* Set by the handlers below; the module clears them when it acts. */
extern PGDLLIMPORT volatile sig_atomic_t ConfigReloadPending;
extern PGDLLIMPORT volatile sig_atomic_t ShutdownRequestPending;

extern void SignalHandlerForConfigReload(SIGNAL_ARGS);
extern void SignalHandlerForShutdownRequest(SIGNAL_ARGS);

BGW_EXTERN_C_END

#endif /* BGW_COMPAT_POSTMASTER_INTERRUPT_H */
