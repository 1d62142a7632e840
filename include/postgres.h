/*
 * postgres.h -- the first header of every module source file, as in PostgreSQL.
 *
 * Gives a module what PostgreSQL's c.h and postgres.h give it: the standard C headers, the
 * integer typedefs, attribute and assertion macros, Datum conversions and error reporting
 * (utils/elog.h).  Types, constants and functions of the worker API come from the generated
 * bgworker.h; nothing here redefines them.  Unlike PostgreSQL, snprintf and friends stay libc's.
 */
#ifndef BGW_COMPAT_POSTGRES_H
#define BGW_COMPAT_POSTGRES_H

/*
 * PostgreSQL builds modules with _GNU_SOURCE on Linux; without it a strict -std=c11 build would
 * not see POSIX names such as sigset_t and sigsetjmp.  This header must come first for that.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/types.h>
#include <unistd.h>

#include "bgworker.h"

/* ---- compiler attributes ------------------------------------------------------------------ */

#ifdef __cplusplus
#define BGW_EXTERN_C extern "C"
#define BGW_EXTERN_C_BEGIN extern "C" {
#define BGW_EXTERN_C_END }
#else
#define BGW_EXTERN_C
#define BGW_EXTERN_C_BEGIN
#define BGW_EXTERN_C_END
#endif

/* Symbols are shared through the dynamic linker on ELF; no import decoration is needed. */
#define PGDLLIMPORT
#if defined(__GNUC__)
#define PGDLLEXPORT __attribute__((visibility("default")))
#else
#define PGDLLEXPORT
#endif

#if defined(__GNUC__)
#define pg_attribute_noreturn() __attribute__((noreturn))
#define pg_attribute_printf(f, a) __attribute__((format(printf, f, a)))
#define pg_attribute_unused() __attribute__((unused))
#define pg_attribute_cold __attribute__((cold))
#define pg_attribute_hot __attribute__((hot))
#define pg_attribute_always_inline __attribute__((always_inline)) inline
#define pg_attribute_aligned(a) __attribute__((aligned(a)))
#define pg_attribute_packed() __attribute__((packed))
#define pg_noinline __attribute__((noinline))
#define pg_nodiscard __attribute__((warn_unused_result))
#define pg_unreachable() __builtin_unreachable()
#define likely(x) __builtin_expect((x) != 0, 1)
#define unlikely(x) __builtin_expect((x) != 0, 0)
#else
#define pg_attribute_noreturn()
#define pg_attribute_printf(f, a)
#define pg_attribute_unused()
#define pg_attribute_cold
#define pg_attribute_hot
#define pg_attribute_always_inline inline
#define pg_noinline
#define pg_nodiscard
#define pg_unreachable() abort()
#define likely(x) ((x) != 0)
#define unlikely(x) ((x) != 0)
#endif

/* A signal handler's parameter list: `static void handler(SIGNAL_ARGS)` (often unused). */
#define SIGNAL_ARGS int postgres_signal_arg pg_attribute_unused()

#define CppAsString(identifier) #identifier
#define CppAsString2(x) CppAsString(x)
#define CppConcat(x, y) x##y

/* ---- integer types -------------------------------------------------------------------------- */

typedef signed char int8;
typedef short int16;
typedef int int32;
typedef int64_t int64;
typedef unsigned char uint8;
typedef unsigned short uint16;
typedef unsigned int uint32;
typedef uint64_t uint64;

typedef uint8 bits8;
typedef uint16 bits16;
typedef uint32 bits32;

typedef float float4;
typedef double float8;

typedef size_t Size;
typedef unsigned int Index;
typedef signed int Offset;
typedef char *Pointer;

typedef uint32 TransactionId;
typedef uint32 LocalTransactionId;
typedef uint32 SubTransactionId;
typedef uint32 CommandId;
typedef uint32 MultiXactId;
typedef int pgsocket;

#define PGINVALID_SOCKET (-1)

#define PG_INT8_MIN (-0x7F - 1)
#define PG_INT8_MAX (0x7F)
#define PG_UINT8_MAX (0xFF)
#define PG_INT16_MIN (-0x7FFF - 1)
#define PG_INT16_MAX (0x7FFF)
#define PG_UINT16_MAX (0xFFFF)
#define PG_INT32_MIN (-0x7FFFFFFF - 1)
#define PG_INT32_MAX (0x7FFFFFFF)
#define PG_UINT32_MAX (0xFFFFFFFFU)
#define PG_INT64_MIN INT64_MIN
#define PG_INT64_MAX INT64_MAX
#define PG_UINT64_MAX UINT64_MAX

#define INT64CONST(x) INT64_C(x)

/* Alignment, as PostgreSQL computes it on x86_64 (MAXIMUM_ALIGNOF 8, cache line 128). */
#define TYPEALIGN(ALIGNVAL, LEN) \
	(((uintptr_t) (LEN) + ((ALIGNVAL) - 1)) & ~((uintptr_t) ((ALIGNVAL) - 1)))
#define SHORTALIGN(LEN) TYPEALIGN(2, (LEN))
#define INTALIGN(LEN) TYPEALIGN(4, (LEN))
#define LONGALIGN(LEN) TYPEALIGN(8, (LEN))
#define DOUBLEALIGN(LEN) TYPEALIGN(8, (LEN))
#define MAXALIGN(LEN) TYPEALIGN(8, (LEN))
#define BUFFERALIGN(LEN) TYPEALIGN(32, (LEN))
#define CACHELINEALIGN(LEN) TYPEALIGN(128, (LEN))
#define MAXIMUM_ALIGNOF 8
#define PG_CACHE_LINE_SIZE 128
#define UINT64CONST(x) UINT64_C(x)
#define INT64_FORMAT "%" PRId64
#define UINT64_FORMAT "%" PRIu64

#define OidIsValid(objectId) ((bool) ((objectId) != InvalidOid))

/* ---- small helpers ------------------------------------------------------------------------------ */

#define PointerIsValid(pointer) ((const void *) (pointer) != NULL)
#define lengthof(array) (sizeof(array) / sizeof((array)[0]))
#define Max(x, y) ((x) > (y) ? (x) : (y))
#define Min(x, y) ((x) < (y) ? (x) : (y))
#define Abs(x) ((x) >= 0 ? (x) : -(x))

/* Fill `len` bytes at `start` with `val`; a statement, as in PostgreSQL. */
#define MemSet(start, val, len) \
	do { \
		(void) memset((start), (val), (len)); \
	} while (0)

#define MemSetAligned(start, val, len) MemSet(start, val, len)

/* Assertions are compiled out, as in a PostgreSQL build without --enable-cassert. */
#define Assert(condition) ((void) true)
#define AssertMacro(condition) ((void) true)
#define AssertArg(condition) ((void) true)
#define AssertState(condition) ((void) true)
#define AssertPointerAlignment(ptr, bndr) ((void) true)

/*
 * Compile-time assertions: a declaration (file or block scope), a statement, and an expression
 * of type void.  The expression form uses a negative array size so it works in C and C++.
 */
#ifdef __cplusplus
#define StaticAssertDecl(condition, errmessage) static_assert(condition, errmessage)
#else
#define StaticAssertDecl(condition, errmessage) _Static_assert(condition, errmessage)
#endif
#define StaticAssertStmt(condition, errmessage) \
	do { \
		StaticAssertDecl(condition, errmessage); \
	} while (0)
#define StaticAssertExpr(condition, errmessage) ((void) sizeof(char[(condition) ? 1 : -1]))

/* ---- Datum conversions (Datum itself comes from bgworker.h) ----------------------------------- */

#define DatumGetBool(X) ((bool) ((X) != 0))
#define BoolGetDatum(X) ((Datum) ((X) ? 1 : 0))
#define DatumGetChar(X) ((char) (X))
#define CharGetDatum(X) ((Datum) (X))
#define Int8GetDatum(X) ((Datum) (X))
#define DatumGetUInt8(X) ((uint8) (X))
#define UInt8GetDatum(X) ((Datum) (X))
#define DatumGetInt16(X) ((int16) (X))
#define Int16GetDatum(X) ((Datum) (X))
#define DatumGetUInt16(X) ((uint16) (X))
#define UInt16GetDatum(X) ((Datum) (X))
#define DatumGetInt32(X) ((int32) (X))
#define Int32GetDatum(X) ((Datum) (X))
#define DatumGetUInt32(X) ((uint32) (X))
#define UInt32GetDatum(X) ((Datum) (X))
#define DatumGetObjectId(X) ((Oid) (X))
#define ObjectIdGetDatum(X) ((Datum) (X))
#define DatumGetTransactionId(X) ((TransactionId) (X))
#define TransactionIdGetDatum(X) ((Datum) (X))
#define DatumGetCommandId(X) ((CommandId) (X))
#define CommandIdGetDatum(X) ((Datum) (X))
#define DatumGetPointer(X) ((Pointer) (X))
#define PointerGetDatum(X) ((Datum) (X))
#define DatumGetCString(X) ((char *) DatumGetPointer(X))
#define CStringGetDatum(X) PointerGetDatum(X)
#define MultiXactIdGetDatum(X) ((Datum) (X))
#define DatumGetInt64(X) ((int64) (X))
#define Int64GetDatum(X) ((Datum) (X))
#define Int64GetDatumFast(X) Int64GetDatum(X)
#define DatumGetUInt64(X) ((uint64) (X))
#define UInt64GetDatum(X) ((Datum) (X))
#define DatumGetTimestampTz(X) ((TimestampTz) DatumGetInt64(X))
#define TimestampTzGetDatum(X) Int64GetDatum(X)

/* Floats travel by value: their bit patterns are copied into and out of the Datum. */
static inline float4
DatumGetFloat4(Datum X)
{
	uint32 bits = (uint32) X;
	float4 value;

	memcpy(&value, &bits, sizeof(value));
	return value;
}

/* The 32 bits are stored as an int32, so a negative float's Datum is sign-extended. */
static inline Datum
Float4GetDatum(float4 X)
{
	int32 bits;

	memcpy(&bits, &X, sizeof(bits));
	return Int32GetDatum(bits);
}

static inline float8
DatumGetFloat8(Datum X)
{
	uint64 bits = (uint64) X;
	float8 value;

	memcpy(&value, &bits, sizeof(value));
	return value;
}

static inline Datum
Float8GetDatum(float8 X)
{
	uint64 bits;

	memcpy(&bits, &X, sizeof(bits));
	return (Datum) bits;
}

#define Float8GetDatumFast(X) Float8GetDatum(X)

/* NameData: a fixed-size, NUL-padded identifier. */
typedef struct nameData
{
	char data[NAMEDATALEN];
} NameData;
typedef NameData *Name;

#define NameStr(name) ((name).data)
#define DatumGetName(X) ((Name) DatumGetPointer(X))
#define NameGetDatum(X) CStringGetDatum(NameStr(*(X)))

/* PostgreSQL's port.h: the pg_*printf family, string helpers, pg_usleep, ... */
#include "port.h"

#include "utils/elog.h"
#include "utils/palloc.h"
/* The varlena types and macros (part of postgres.h in PostgreSQL 15). */
#include "varatt.h"

#endif /* BGW_COMPAT_POSTGRES_H */
