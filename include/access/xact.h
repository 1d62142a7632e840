/*
 * access/xact.h -- transactions: StartTransactionCommand, CommitTransactionCommand,
 * AbortCurrentTransaction, IsTransactionState and the statement timestamp. They run BEGIN,
 * COMMIT and ROLLBACK on the worker's database connection; declared in the generated bgworker.h.
 */
#include "postgres.h"

#ifndef BGW_COMPAT_ACCESS_XACT_H
#define BGW_COMPAT_ACCESS_XACT_H

#endif							/* BGW_COMPAT_ACCESS_XACT_H */
