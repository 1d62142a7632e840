/*
 * utils/wait_event.h -- wait-event identifiers passed to WaitLatch (PG_WAIT_EXTENSION, PG_WAIT_IPC,
 * WAIT_EVENT_BGWORKER_STARTUP, WAIT_EVENT_BGWORKER_SHUTDOWN).
 *
 * The values are defined in the generated bgworker.h; this is the name modules include.
 */
#include "postgres.h"

#ifndef BGW_COMPAT_UTILS_WAIT_EVENT_H
#define BGW_COMPAT_UTILS_WAIT_EVENT_H

#endif /* BGW_COMPAT_UTILS_WAIT_EVENT_H */
