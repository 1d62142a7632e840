/*
 * utils/timestamp.h -- timestamps as PostgreSQL keeps them: TimestampTz, microseconds since
 * 2000-01-01 UTC. GetCurrentTimestamp and the difference functions are declared in bgworker.h.
 */
#include "postgres.h"

#ifndef BGW_COMPAT_UTILS_TIMESTAMP_H
#define BGW_COMPAT_UTILS_TIMESTAMP_H

#define USECS_PER_SEC INT64CONST(1000000)
#define USECS_PER_MINUTE INT64CONST(60000000)
#define USECS_PER_HOUR INT64CONST(3600000000)
#define USECS_PER_DAY INT64CONST(86400000000)
#define SECS_PER_MINUTE 60
#define SECS_PER_HOUR 3600
#define SECS_PER_DAY 86400
#define TimestampTzPlusMilliseconds(tz, ms) ((tz) + ((ms) * (int64) 1000))
#define TimestampTzPlusSeconds(tz, s) ((tz) + ((s) * (int64) 1000000))

#endif /* BGW_COMPAT_UTILS_TIMESTAMP_H */
