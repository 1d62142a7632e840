/*
 * access/htup.h -- HeapTuple, a row in memory: a 24-byte HeapTupleData (PostgreSQL 15's layout)
 * pointing at the row's body (access/htup_details.h).  SPI_tuptable->vals[i] are HeapTuples.
 */
#include "postgres.h"

#ifndef BGW_COMPAT_ACCESS_HTUP_H
#define BGW_COMPAT_ACCESS_HTUP_H

#ifndef BGW_ITEMPTR_DEFINED
#define BGW_ITEMPTR_DEFINED
typedef uint32 BlockNumber;
typedef uint16 OffsetNumber;

/* A block number as two halves (storage/block.h). */
typedef struct BlockIdData
{
	uint16 bi_hi;
	uint16 bi_lo;
} BlockIdData;

/* A row's physical address (storage/itemptr.h): 6 bytes. Invalid in SPI results. */
typedef struct ItemPointerData
{
	BlockIdData ip_blkid;
	OffsetNumber ip_posid;
} ItemPointerData;

typedef ItemPointerData *ItemPointer;
#endif

typedef struct HeapTupleHeaderData HeapTupleHeaderData;
typedef HeapTupleHeaderData *HeapTupleHeader;

typedef struct HeapTupleData
{
	uint32 t_len;			/* length of the body at t_data */
	ItemPointerData t_self; /* invalid for SPI results */
	Oid t_tableOid;			/* InvalidOid for SPI results */
	HeapTupleHeader t_data; /* the body */
} HeapTupleData;

typedef HeapTupleData *HeapTuple;

#define HEAPTUPLESIZE MAXALIGN(sizeof(HeapTupleData))
#define HeapTupleIsValid(tuple) PointerIsValid(tuple)

#endif /* BGW_COMPAT_ACCESS_HTUP_H */
