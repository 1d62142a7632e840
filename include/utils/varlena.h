/*
 * utils/varlena.h -- splitting list-valued strings: identifiers (down-cased unless quoted, cut
 * to NAMEDATALEN - 1 bytes), directories (canonicalised copies) and setting values (as written).
 *
 * Each modifies rawstring in place, sets *namelist to a new List of the parts (NIL for an empty
 * string; but for directories the parts point into rawstring) and returns false on bad syntax.
 */
#include "postgres.h"

#ifndef BGW_COMPAT_UTILS_VARLENA_H
#define BGW_COMPAT_UTILS_VARLENA_H

#include "nodes/pg_list.h"

BGW_EXTERN_C_BEGIN
extern bool SplitIdentifierString(char *rawstring, char separator, List **namelist);
extern bool SplitDirectoriesString(char *rawstring, char separator, List **namelist);
extern bool SplitGUCList(char *rawstring, char separator, List **namelist);
BGW_EXTERN_C_END

#endif /* BGW_COMPAT_UTILS_VARLENA_H */
