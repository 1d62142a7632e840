/*
 * pgstat.h -- activity reporting (pgstat_report_activity, BackendState), pgstat_report_appname
 * (the worker's application_name on its database session) and pgstat_report_stat
 * (statistics are the server's, so it has nothing to flush), declared in bgworker.h.
 */
#ifndef BGW_COMPAT_PGSTAT_H
#define BGW_COMPAT_PGSTAT_H

#include "postgres.h"

#endif							/* BGW_COMPAT_PGSTAT_H */
