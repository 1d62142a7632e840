/*
 * postmaster/interrupt.h -- standard signal handlers for auxiliary processes and workers.
 *
 * Provided for the include line only: the handlers and their flags (ConfigReloadPending,
 * ShutdownRequestPending, SignalHandlerForConfigReload, ...) are not part of the library yet.
 */
#include "postgres.h"

#ifndef BGW_COMPAT_POSTMASTER_INTERRUPT_H
#define BGW_COMPAT_POSTMASTER_INTERRUPT_H

#endif /* BGW_COMPAT_POSTMASTER_INTERRUPT_H */
