/*
 * utils/builtins.h -- SQL-level helpers: quote_identifier and quote_literal_cstr (declared in the
 * generated bgworker.h), and the conversions between text values and C strings.
 */
#include "postgres.h"

#ifndef BGW_COMPAT_UTILS_BUILTINS_H
#define BGW_COMPAT_UTILS_BUILTINS_H

BGW_EXTERN_C_BEGIN
/* A palloc'd text value (4-byte header) with the bytes of s. */
extern text *cstring_to_text(const char *s);
/* The same with len bytes of s, NULs included. */
extern text *cstring_to_text_with_len(const char *s, int len);
/* A palloc'd, NUL-terminated copy of a text value's bytes. */
extern char *text_to_cstring(const text *t);
/* The bytes copied into dst, truncated to dst_len - 1 and NUL-terminated. */
extern void text_to_cstring_buffer(const text *src, char *dst, size_t dst_len);
BGW_EXTERN_C_END

#define CStringGetTextDatum(s) PointerGetDatum(cstring_to_text(s))
#define TextDatumGetCString(d) text_to_cstring((text *) DatumGetPointer(d))

#endif /* BGW_COMPAT_UTILS_BUILTINS_H */
