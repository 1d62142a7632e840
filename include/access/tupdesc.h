/*
 * access/tupdesc.h -- TupleDesc, the description of a row (PostgreSQL 15's layout: natts at 0,
 * the attributes at offset 24).  SPI results carry one: read tupdesc->natts and
 * TupleDescAttr(tupdesc, i)->atttypid / ->attname as in PostgreSQL.
 */
#include "postgres.h"
#include "catalog/pg_attribute.h"

#ifndef BGW_COMPAT_ACCESS_TUPDESC_H
#define BGW_COMPAT_ACCESS_TUPDESC_H

/* Defaults and constraints of a relation's columns: never filled in here (constr is NULL). */
typedef struct TupleConstr TupleConstr;

typedef struct TupleDescData
{
	int natts;
	Oid tdtypeid;
	int32 tdtypmod;
	int tdrefcount;
	TupleConstr *constr;
	FormData_pg_attribute attrs[FLEXIBLE_ARRAY_MEMBER];
} TupleDescData;

typedef struct TupleDescData *TupleDesc;

/* The description of column i (0-based). */
#define TupleDescAttr(tupdesc, i) (&(tupdesc)->attrs[(i)])

#endif /* BGW_COMPAT_ACCESS_TUPDESC_H */
