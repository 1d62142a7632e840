/*
 * postmaster/bgworker.h -- the background-worker API: BackgroundWorker, the BGWORKER_ and BGW_
 * constants, RegisterBackgroundWorker and the signal-blocking calls.
 *
 * Everything is declared in the generated bgworker.h; this is the name modules include.
 */
#include "postgres.h"

#ifndef BGW_COMPAT_POSTMASTER_BGWORKER_H
#define BGW_COMPAT_POSTMASTER_BGWORKER_H

#endif /* BGW_COMPAT_POSTMASTER_BGWORKER_H */
