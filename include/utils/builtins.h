/*
 * utils/builtins.h -- SQL-level helper functions. Present so module sources keep their include
 * lines; the database-connection functions it declares in PostgreSQL are not provided yet.
 */
#include "postgres.h"

#ifndef BGW_COMPAT_UTILS_BUILTINS_H
#define BGW_COMPAT_UTILS_BUILTINS_H

#endif /* BGW_COMPAT_UTILS_BUILTINS_H */
