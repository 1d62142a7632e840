/*
 * tcop/utility.h -- present so module sources keep their include lines; the utility-command
 * hooks it declares in PostgreSQL have no meaning without a server.
 */
#include "postgres.h"

#ifndef BGW_COMPAT_TCOP_UTILITY_H
#define BGW_COMPAT_TCOP_UTILITY_H

#endif /* BGW_COMPAT_TCOP_UTILITY_H */
