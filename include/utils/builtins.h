/*
 * utils/builtins.h -- SQL-level helper functions: quote_identifier and quote_literal_cstr
 * (declared in the generated bgworker.h); text_to_cstring and TextDatumGetCString come with
 * postgres.h (varatt.h), as every module source that includes this header also includes that.
 */
#include "postgres.h"

#ifndef BGW_COMPAT_UTILS_BUILTINS_H
#define BGW_COMPAT_UTILS_BUILTINS_H

#endif							/* BGW_COMPAT_UTILS_BUILTINS_H */
