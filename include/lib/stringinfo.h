/*
 * lib/stringinfo.h -- growable, always NUL-terminated strings palloc'd in CurrentMemoryContext.
 *
 * StringInfoData and the non-variadic functions come from the generated bgworker.h; this
 * header adds the variadic appendStringInfo/appendStringInfoVA and appendStringInfoCharMacro,
 * as PostgreSQL 15 declares them.
 */
#include "postgres.h"

#ifndef BGW_COMPAT_LIB_STRINGINFO_H
#define BGW_COMPAT_LIB_STRINGINFO_H

BGW_EXTERN_C_BEGIN
/* Formats onto the end of str, enlarging it as needed. */
extern void appendStringInfo(StringInfo str, const char *fmt, ...) pg_attribute_printf(2, 3);
/*
 * Formats onto the end of str if it fits and returns 0; otherwise leaves str unchanged and
 * returns how many bytes to reserve (enlargeStringInfo) before calling again with a fresh
 * va_list.
 */
extern int appendStringInfoVA(StringInfo str, const char *fmt, va_list args)
	pg_attribute_printf(2, 0);
BGW_EXTERN_C_END

/* appendStringInfoChar without a call when there is room. */
#define appendStringInfoCharMacro(str, ch) \
	((str)->len + 1 < (str)->maxlen ? \
	 (void) ((str)->data[(str)->len++] = (ch), (str)->data[(str)->len] = '\0') : \
	 appendStringInfoChar(str, ch))

#endif /* BGW_COMPAT_LIB_STRINGINFO_H */
