/*
 * pgtime.h -- pg_time_t, PostgreSQL's seconds-since-1970 type (MyStartTime).
 */
#include "postgres.h"

#ifndef BGW_COMPAT_PGTIME_H
#define BGW_COMPAT_PGTIME_H

typedef int64 pg_time_t;

#endif /* BGW_COMPAT_PGTIME_H */
