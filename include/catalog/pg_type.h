/*
 * catalog/pg_type.h -- the OIDs of PostgreSQL 15's built-in types (the values of pg_type.oid,
 * which SPI_gettypeid returns and SPI_execute_with_args takes).  The catalog row itself is the
 * server's; only the constants are given here.
 */
#include "postgres.h"

#ifndef BGW_COMPAT_CATALOG_PG_TYPE_H
#define BGW_COMPAT_CATALOG_PG_TYPE_H

#define BOOLOID 16
#define BYTEAOID 17
#define CHAROID 18
#define NAMEOID 19
#define INT8OID 20
#define INT2OID 21
#define INT2VECTOROID 22
#define INT4OID 23
#define REGPROCOID 24
#define TEXTOID 25
#define OIDOID 26
#define TIDOID 27
#define XIDOID 28
#define CIDOID 29
#define OIDVECTOROID 30
#define JSONOID 114
#define XMLOID 142
#define POINTOID 600
#define FLOAT4OID 700
#define FLOAT8OID 701
#define UNKNOWNOID 705
#define MONEYOID 790
#define INETOID 869
#define BPCHAROID 1042
#define VARCHAROID 1043
#define DATEOID 1082
#define TIMEOID 1083
#define TIMESTAMPOID 1114
#define TIMESTAMPTZOID 1184
#define INTERVALOID 1186
#define TIMETZOID 1266
#define BITOID 1560
#define VARBITOID 1562
#define NUMERICOID 1700
#define REGCLASSOID 2205
#define REGTYPEOID 2206
#define RECORDOID 2249
#define CSTRINGOID 2275
#define VOIDOID 2278
#define UUIDOID 2950
#define JSONBOID 3802
#define INT4ARRAYOID 1007
#define TEXTARRAYOID 1009

#endif /* BGW_COMPAT_CATALOG_PG_TYPE_H */
