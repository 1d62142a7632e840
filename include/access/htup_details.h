/*
 * access/htup_details.h -- the body of a heap tuple, with PostgreSQL 15's layout: a 23-byte
 * header (t_infomask2 at 18 holds the column count, t_infomask at 20, t_hoff at 22), a null
 * bitmap when a column is NULL, then the values aligned by their attalign.  SPI results are
 * built this way, so PostgreSQL's own heap_getattr (from a PGXS build) reads them too; it calls
 * nocachegetattr, which the library provides.
 *
 * heap_getattr here: user columns (attnum >= 1) only; system columns (attnum <= 0) and columns
 * past the tuple's own count read as NULL.
 */
#include "postgres.h"
#include "access/htup.h"
#include "access/tupdesc.h"

#ifndef BGW_COMPAT_ACCESS_HTUP_DETAILS_H
#define BGW_COMPAT_ACCESS_HTUP_DETAILS_H

typedef struct HeapTupleFields
{
	TransactionId t_xmin;
	TransactionId t_xmax;
	union
	{
		CommandId t_cid;
		TransactionId t_xvac;
	} t_field3;
} HeapTupleFields;

/* What a tuple built in memory (not stored in a table) carries instead of HeapTupleFields. */
typedef struct DatumTupleFields
{
	int32 datum_len_;
	int32 datum_typmod;
	Oid datum_typeid;
} DatumTupleFields;

struct HeapTupleHeaderData
{
	union
	{
		HeapTupleFields t_heap;
		DatumTupleFields t_datum;
	} t_choice;
	ItemPointerData t_ctid;
	uint16 t_infomask2;
	uint16 t_infomask;
	uint8 t_hoff;
	bits8 t_bits[FLEXIBLE_ARRAY_MEMBER];
};

#define SizeofHeapTupleHeader offsetof(HeapTupleHeaderData, t_bits)
#define MaxTupleAttributeNumber 1664
#define MaxHeapAttributeNumber 1600

#define HEAP_HASNULL 0x0001
#define HEAP_HASVARWIDTH 0x0002
#define HEAP_HASEXTERNAL 0x0004
#define HEAP_NATTS_MASK 0x07FF

#define HeapTupleHeaderGetNatts(tup) ((tup)->t_infomask2 & HEAP_NATTS_MASK)
#define HeapTupleHeaderGetDatumLength(tup) ((tup)->t_choice.t_datum.datum_len_)
#define HeapTupleHeaderGetTypeId(tup) ((tup)->t_choice.t_datum.datum_typeid)
#define HeapTupleHeaderGetTypMod(tup) ((tup)->t_choice.t_datum.datum_typmod)
#define HeapTupleHeaderHasNulls(tup) (((tup)->t_infomask & HEAP_HASNULL) != 0)
#define HeapTupleHasNulls(tuple) HeapTupleHeaderHasNulls((tuple)->t_data)
#define HeapTupleNoNulls(tuple) (!HeapTupleHasNulls(tuple))
#define HeapTupleHasVarWidth(tuple) (((tuple)->t_data->t_infomask & HEAP_HASVARWIDTH) != 0)
#define BITMAPLEN(NATTS) (((int) (NATTS) + 7) / 8)

/* True when column ATT (0-based) is NULL in the bitmap BITS (a set bit means not NULL). */
#define att_isnull(ATT, BITS) (!((BITS)[(ATT) >> 3] & (1 << ((ATT) & 0x07))))

BGW_EXTERN_C_BEGIN
/* Column attnum (1-based, not NULL) of a heap tuple. */
extern Datum nocachegetattr(HeapTuple tup, int attnum, TupleDesc tupleDesc);
BGW_EXTERN_C_END

/* Column attnum (1-based) of tup: its Datum, *isnull set. */
static inline Datum
heap_getattr(HeapTuple tup, int attnum, TupleDesc tupleDesc, bool *isnull)
{
	if (attnum <= 0 || attnum > (int) HeapTupleHeaderGetNatts(tup->t_data) ||
		(HeapTupleHasNulls(tup) && att_isnull(attnum - 1, tup->t_data->t_bits)))
	{
		*isnull = true;
		return (Datum) 0;
	}
	*isnull = false;
	return nocachegetattr(tup, attnum, tupleDesc);
}

#define fastgetattr(tup, attnum, tupleDesc, isnull) heap_getattr(tup, attnum, tupleDesc, isnull)

#endif /* BGW_COMPAT_ACCESS_HTUP_DETAILS_H */
