/*
 * access/xlog.h -- RecoveryInProgress(), which is always false here: there is no write-ahead log,
 * so no recovery, and workers only run once the supervisor is up (as PostgreSQL's run once
 * recovery has finished).
 */
#include "postgres.h"

#ifndef BGW_COMPAT_ACCESS_XLOG_H
#define BGW_COMPAT_ACCESS_XLOG_H

BGW_EXTERN_C_BEGIN
extern bool RecoveryInProgress(void);
BGW_EXTERN_C_END

#endif /* BGW_COMPAT_ACCESS_XLOG_H */
