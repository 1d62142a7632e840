/*
 * tcop/tcopprot.h -- where PostgreSQL declares die() and StatementCancelHandler(); here they come
 * with miscadmin.h, which this header includes.
 */
#include "postgres.h"

#ifndef BGW_COMPAT_TCOP_TCOPPROT_H
#define BGW_COMPAT_TCOP_TCOPPROT_H

#include "miscadmin.h"

#endif /* BGW_COMPAT_TCOP_TCOPPROT_H */
