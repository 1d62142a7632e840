/*
 * storage/latch.h -- latches: Latch, SetLatch, ResetLatch, WaitLatch, WaitLatchOrSocket and the
 * WL_ wake-event bits.
 *
 * All of them are declared in the generated bgworker.h; this is the name modules include.
 */
#include "postgres.h"

#ifndef BGW_COMPAT_STORAGE_LATCH_H
#define BGW_COMPAT_STORAGE_LATCH_H

#endif /* BGW_COMPAT_STORAGE_LATCH_H */
