/*
 * port.h -- what PostgreSQL's port layer gives every server and module (postgres.h includes
 * it): the pg_*printf family, pg_strerror, pg_qsort, SQL-style case-insensitive comparison and
 * case mapping, strlcpy/strlcat, pg_usleep and (non-)blocking sockets.
 *
 * Unlike PostgreSQL's, this header does not redirect snprintf, printf, strerror or qsort to the
 * pg_ versions: a module calling them gets the C library's, which behave the same for modules.
 */
#include "postgres.h"

#ifndef BGW_COMPAT_PORT_H
#define BGW_COMPAT_PORT_H

BGW_EXTERN_C_BEGIN

extern int pg_vsnprintf(char *str, size_t count, const char *fmt, va_list args)
	pg_attribute_printf(3, 0);
extern int pg_snprintf(char *str, size_t count, const char *fmt, ...) pg_attribute_printf(3, 4);
extern int pg_vsprintf(char *str, const char *fmt, va_list args) pg_attribute_printf(2, 0);
extern int pg_sprintf(char *str, const char *fmt, ...) pg_attribute_printf(2, 3);
extern int pg_vfprintf(FILE *stream, const char *fmt, va_list args) pg_attribute_printf(2, 0);
extern int pg_fprintf(FILE *stream, const char *fmt, ...) pg_attribute_printf(2, 3);
extern int pg_vprintf(const char *fmt, va_list args) pg_attribute_printf(1, 0);
extern int pg_printf(const char *fmt, ...) pg_attribute_printf(1, 2);

extern char *pg_strerror(int errnum);
extern char *pg_strerror_r(int errnum, char *buf, size_t buflen);

extern void pg_qsort(void *base, size_t nel, size_t elsize,
					 int (*cmp)(const void *, const void *));

/* Non-blocking mode for a socket (any descriptor); false when it could not be changed. */
extern bool pg_set_noblock(pgsocket sock);
extern bool pg_set_block(pgsocket sock);

/* Sleeps; a signal may end the sleep early (wait on the latch to wait for events). */
extern void pg_usleep(long microsec);

/* Case-insensitive comparison and case mapping as SQL does it for names. */
extern int pg_strcasecmp(const char *s1, const char *s2);
extern int pg_strncasecmp(const char *s1, const char *s2, size_t n);
extern unsigned char pg_toupper(unsigned char ch);
extern unsigned char pg_tolower(unsigned char ch);
extern unsigned char pg_ascii_toupper(unsigned char ch);
extern unsigned char pg_ascii_tolower(unsigned char ch);

/* The C library declares these itself from glibc 2.38 on. */
#if !defined(__GLIBC__) || !defined(__GLIBC_PREREQ)
#define BGW_DECLARE_STRLCPY 1
#elif !__GLIBC_PREREQ(2, 38)
#define BGW_DECLARE_STRLCPY 1
#endif
#ifdef BGW_DECLARE_STRLCPY
extern size_t strlcat(char *dst, const char *src, size_t siz);
extern size_t strlcpy(char *dst, const char *src, size_t siz);
#undef BGW_DECLARE_STRLCPY
#endif

BGW_EXTERN_C_END

#endif /* BGW_COMPAT_PORT_H */
