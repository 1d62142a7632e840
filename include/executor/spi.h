/*
 * executor/spi.h -- the Server Programming Interface, PostgreSQL 15's names, signatures, codes
 * and result layouts, over the worker's database connection.
 *
 * Each SPI_execute* sends one statement to the server (libpq, text format) and materialises the
 * result as PostgreSQL does: SPI_tuptable (56 bytes: tupdesc at 0, vals at 8, numvals at 16),
 * SPI_processed, and an SPI_OK_* code read from the command tag (SELECT; INSERT/UPDATE/DELETE,
 * *_RETURNING when rows came back; SELECT INTO / CREATE TABLE AS SELECTINTO; MERGE; anything else
 * UTILITY, with SPI_tuptable set when it returned rows, e.g. SHOW).  A server error is raised as
 * ERROR with the server's SQLSTATE, message, detail and hint (catchable with PG_TRY), and marks
 * the current transaction failed, so CommitTransactionCommand rolls it back.
 *
 * Values: SPI_getvalue returns the server's text for every type.  SPI_getbinval returns bool,
 * "char", int2, int4, int8, oid, xid, cid, float4, float8 by value, name as a pointer to
 * NameData, and bytea, text, varchar, bpchar, json, xml as a varlena (read it with
 * TextDatumGetCString / text_to_cstring / VARDATA_ANY); other types (numeric, timestamps, arrays,
 * ...) are only available as text, and SPI_getbinval on them raises ERROR (feature not
 * supported) -- cast them in the query.  SPI_execute_with_args sends bool, "char", int2, int4,
 * int8, oid, xid, cid, float4, float8, name, cstring, bytea and the text types; the server infers
 * each parameter's type from the statement.
 *
 * Differences from in-server SPI: read_only is not enforced; one statement per call; count > 0
 * trims the rows kept (SPI_processed = rows kept) but the server runs the statement to its end,
 * so INSERT/UPDATE/DELETE ... RETURNING with a count changes every row.  Memory is as in
 * PostgreSQL: SPI_connect makes its own context current and SPI_finish deletes it, with every
 * result; SPI_palloc allocates in the caller's context.
 */
#include "postgres.h"
#include "access/htup.h"
#include "access/htup_details.h"
#include "access/tupdesc.h"
#include "catalog/pg_type.h"
#include "utils/memutils.h"

#ifndef BGW_COMPAT_EXECUTOR_SPI_H
#define BGW_COMPAT_EXECUTOR_SPI_H

/* PostgreSQL's singly-linked list node (lib/ilist.h), part of SPITupleTable's private fields. */
#ifndef BGW_SLIST_NODE_DEFINED
#define BGW_SLIST_NODE_DEFINED
typedef struct slist_node slist_node;
struct slist_node
{
	slist_node *next;
};
#endif

typedef struct SPITupleTable
{
	TupleDesc tupdesc; /* the columns */
	HeapTuple *vals;   /* the rows */
	uint64 numvals;	   /* how many rows */
	/* Private. */
	uint64 alloced;
	MemoryContext tuptabcxt;
	slist_node next;
	SubTransactionId subid;
} SPITupleTable;

#define SPI_ERROR_CONNECT (-1)
#define SPI_ERROR_COPY (-2)
#define SPI_ERROR_OPUNKNOWN (-3)
#define SPI_ERROR_UNCONNECTED (-4)
#define SPI_ERROR_CURSOR (-5)
#define SPI_ERROR_ARGUMENT (-6)
#define SPI_ERROR_PARAM (-7)
#define SPI_ERROR_TRANSACTION (-8)
#define SPI_ERROR_NOATTRIBUTE (-9)
#define SPI_ERROR_NOOUTFUNC (-10)
#define SPI_ERROR_TYPUNKNOWN (-11)
#define SPI_ERROR_REL_DUPLICATE (-12)
#define SPI_ERROR_REL_NOT_FOUND (-13)

#define SPI_OK_CONNECT 1
#define SPI_OK_FINISH 2
#define SPI_OK_FETCH 3
#define SPI_OK_UTILITY 4
#define SPI_OK_SELECT 5
#define SPI_OK_SELINTO 6
#define SPI_OK_INSERT 7
#define SPI_OK_DELETE 8
#define SPI_OK_UPDATE 9
#define SPI_OK_CURSOR 10
#define SPI_OK_INSERT_RETURNING 11
#define SPI_OK_DELETE_RETURNING 12
#define SPI_OK_UPDATE_RETURNING 13
#define SPI_OK_REWRITTEN 14
#define SPI_OK_REL_REGISTER 15
#define SPI_OK_REL_UNREGISTER 16
#define SPI_OK_TD_REGISTER 17
#define SPI_OK_MERGE 18

#define SPI_OPT_NONATOMIC (1 << 0)

/* No-ops kept for old code, as in PostgreSQL. */
#define SPI_push() ((void) 0)
#define SPI_pop() ((void) 0)
#define SPI_push_conditional() false
#define SPI_pop_conditional(pushed) ((void) 0)
#define SPI_restore_connection() ((void) 0)

BGW_EXTERN_C_BEGIN
extern PGDLLIMPORT uint64 SPI_processed;
extern PGDLLIMPORT SPITupleTable *SPI_tuptable;
extern PGDLLIMPORT int SPI_result;

extern int SPI_connect(void);
extern int SPI_connect_ext(int options);
extern int SPI_finish(void);
extern int SPI_execute(const char *src, bool read_only, long tcount);
extern int SPI_exec(const char *src, long tcount);
extern int SPI_execute_with_args(const char *src, int nargs, Oid *argtypes, Datum *Values,
								 const char *Nulls, bool read_only, long tcount);
extern const char *SPI_result_code_string(int code);

extern int SPI_fnumber(TupleDesc tupdesc, const char *fname);
extern char *SPI_fname(TupleDesc tupdesc, int fnumber);
extern char *SPI_getvalue(HeapTuple tuple, TupleDesc tupdesc, int fnumber);
extern Datum SPI_getbinval(HeapTuple tuple, TupleDesc tupdesc, int fnumber, bool *isnull);
extern char *SPI_gettype(TupleDesc tupdesc, int fnumber);
extern Oid SPI_gettypeid(TupleDesc tupdesc, int fnumber);

extern void *SPI_palloc(Size size);
extern void *SPI_repalloc(void *pointer, Size size);
extern void SPI_pfree(void *pointer);
extern void SPI_freetuple(HeapTuple pointer);
extern void SPI_freetuptable(SPITupleTable *tuptable);
BGW_EXTERN_C_END

#endif /* BGW_COMPAT_EXECUTOR_SPI_H */
