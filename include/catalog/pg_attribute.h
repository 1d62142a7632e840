/*
 * catalog/pg_attribute.h -- FormData_pg_attribute, the description of one column, with
 * PostgreSQL 15's fixed-part layout (112 bytes), as TupleDescAttr returns it.  In an SPI result
 * `attname`, `atttypid`, `attnum`, `attlen`, `attbyval`, `attalign`, `attstorage` and
 * `attcollation` are filled in; `attrelid` is 0, `atttypmod` -1 and the rest zero.
 */
#include "postgres.h"

#ifndef BGW_COMPAT_CATALOG_PG_ATTRIBUTE_H
#define BGW_COMPAT_CATALOG_PG_ATTRIBUTE_H

typedef struct FormData_pg_attribute
{
	Oid attrelid;
	NameData attname;
	Oid atttypid;
	int32 attstattarget;
	int16 attlen;
	int16 attnum;
	int32 attndims;
	int32 attcacheoff;
	int32 atttypmod;
	bool attbyval;
	char attalign;
	char attstorage;
	char attcompression;
	bool attnotnull;
	bool atthasdef;
	bool atthasmissing;
	char attidentity;
	char attgenerated;
	bool attisdropped;
	bool attislocal;
	int32 attinhcount;
	Oid attcollation;
} FormData_pg_attribute;

typedef FormData_pg_attribute *Form_pg_attribute;

#define ATTRIBUTE_FIXED_PART_SIZE (offsetof(FormData_pg_attribute, attcollation) + sizeof(Oid))

/* attalign and attstorage values. */
#define TYPALIGN_CHAR 'c'
#define TYPALIGN_SHORT 's'
#define TYPALIGN_INT 'i'
#define TYPALIGN_DOUBLE 'd'
#define TYPSTORAGE_PLAIN 'p'
#define TYPSTORAGE_EXTERNAL 'e'
#define TYPSTORAGE_EXTENDED 'x'
#define TYPSTORAGE_MAIN 'm'

#endif /* BGW_COMPAT_CATALOG_PG_ATTRIBUTE_H */
