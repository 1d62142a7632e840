/*
 * executor/spi.h -- the Server Programming Interface, PostgreSQL 15's names, signatures, codes
 * and result layouts, over the worker's database connection.
 *
 * SPI_execute sends the whole string in one round trip: its statements run in order and the
 * result is the last one's (SPI_processed, SPI_tuptable, the SPI_OK_* code from its command
 * tag); a transaction statement (COMMIT, SAVEPOINT, ...) or COPY to/from the client stops the
 * string there with SPI_ERROR_TRANSACTION / SPI_ERROR_COPY, as in PostgreSQL.  With count > 0 a
 * SELECT is read through a cursor, so the server stops after count rows.  SPI_execute_with_args
 * binds $1..$n on the extended protocol (one statement).  A server error is raised as ERROR with
 * the server's SQLSTATE, message, detail and hint (catchable with PG_TRY).
 *
 * Plans (SPI_prepare*) are server-side prepared statements, deallocated by SPI_freeplan (or by
 * SPI_finish for plans not kept) and prepared again when the session lost them.  Cursors
 * (SPI_cursor_open*) are server-side cursors: each fetch brings back only the rows asked for.
 * SPI_connect_ext(SPI_OPT_NONATOMIC) allows SPI_commit / SPI_rollback (and _and_chain); there,
 * SPI_execute_extended with allow_nonatomic runs a CALL of a procedure that commits inside (plain
 * SPI_execute runs it atomically, as in PostgreSQL).
 *
 * Values: SPI_getvalue returns the server's text for every type.  SPI_getbinval returns bool,
 * "char", int2, int4, int8, oid, xid, cid, float4, float8 by value, name as a pointer to
 * NameData, and bytea, text, varchar, bpchar, json, xml as a varlena (read it with
 * TextDatumGetCString / text_to_cstring / VARDATA_ANY); other types (numeric, timestamps, arrays,
 * ...) are only available as text, and SPI_getbinval on them raises ERROR (feature not
 * supported) -- cast them in the query.  Parameters may be bool, "char", int2, int4, int8, oid,
 * xid, cid, float4, float8, name, cstring, bytea and the text types.
 *
 * Differences from in-server SPI: read_only is not enforced; with parameters, one statement per
 * call or plan; count does not stop INSERT/UPDATE/DELETE ... RETURNING (every row changes, count
 * are returned); a CALL run with allow_nonatomic commits what the transaction did before it, and
 * needs no portal.
 * Memory is as in PostgreSQL: SPI_connect makes its own context current and SPI_finish deletes
 * it, with every result; SPI_palloc allocates in the caller's context.
 */
#include "postgres.h"
#include "access/htup.h"
#include "access/htup_details.h"
#include "access/tupdesc.h"
#include "catalog/pg_type.h"
#include "nodes/params.h"
#include "utils/memutils.h"
#include "utils/portal.h"

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

/* A prepared plan: opaque. */
typedef struct _SPI_plan *SPIPlanPtr;

/* Options of SPI_execute_extended and SPI_execute_plan_extended (dest must be NULL here). */
typedef struct SPIExecuteOptions
{
	ParamListInfo params;
	bool read_only;
	bool allow_nonatomic;
	bool must_return_tuples;
	uint64 tcount;
	struct _DestReceiver *dest;
	struct ResourceOwnerData *owner;
} SPIExecuteOptions;

/* Cursor directions and options (nodes/parsenodes.h in PostgreSQL). */
#ifndef BGW_FETCH_DIRECTION_DEFINED
#define BGW_FETCH_DIRECTION_DEFINED
typedef enum FetchDirection
{
	FETCH_FORWARD,
	FETCH_BACKWARD,
	FETCH_ABSOLUTE,
	FETCH_RELATIVE
} FetchDirection;
#define FETCH_ALL LONG_MAX
#define CURSOR_OPT_BINARY 0x0001
#define CURSOR_OPT_SCROLL 0x0002
#define CURSOR_OPT_NO_SCROLL 0x0004
#define CURSOR_OPT_INSENSITIVE 0x0008
#define CURSOR_OPT_ASENSITIVE 0x0010
#define CURSOR_OPT_HOLD 0x0020
#define CURSOR_OPT_FAST_PLAN 0x0100
#define CURSOR_OPT_GENERIC_PLAN 0x0200
#define CURSOR_OPT_CUSTOM_PLAN 0x0400
#define CURSOR_OPT_PARALLEL_OK 0x0800
#endif

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
extern int SPI_execute_extended(const char *src, const SPIExecuteOptions *options);
extern int SPI_execute_with_args(const char *src, int nargs, Oid *argtypes, Datum *Values,
								 const char *Nulls, bool read_only, long tcount);
extern const char *SPI_result_code_string(int code);

extern SPIPlanPtr SPI_prepare(const char *src, int nargs, Oid *argtypes);
extern SPIPlanPtr SPI_prepare_cursor(const char *src, int nargs, Oid *argtypes, int cursorOptions);
extern SPIPlanPtr SPI_prepare_params(const char *src, ParserSetupHook parserSetup,
									 void *parserSetupArg, int cursorOptions);
extern int SPI_execute_plan(SPIPlanPtr plan, Datum *Values, const char *Nulls, bool read_only,
							long tcount);
extern int SPI_execute_plan_with_paramlist(SPIPlanPtr plan, ParamListInfo params, bool read_only,
										   long tcount);
extern int SPI_execp(SPIPlanPtr plan, Datum *Values, const char *Nulls, long tcount);
extern int SPI_execute_plan_extended(SPIPlanPtr plan, const SPIExecuteOptions *options);
extern int SPI_keepplan(SPIPlanPtr plan);
extern SPIPlanPtr SPI_saveplan(SPIPlanPtr plan);
extern int SPI_freeplan(SPIPlanPtr plan);
extern Oid SPI_getargtypeid(SPIPlanPtr plan, int argIndex);
extern int SPI_getargcount(SPIPlanPtr plan);
extern bool SPI_is_cursor_plan(SPIPlanPtr plan);
extern bool SPI_plan_is_valid(SPIPlanPtr plan);

extern Portal SPI_cursor_open(const char *name, SPIPlanPtr plan, Datum *Values, const char *Nulls,
							  bool read_only);
extern Portal SPI_cursor_open_with_args(const char *name, const char *src, int nargs, Oid *argtypes,
										Datum *Values, const char *Nulls, bool read_only,
										int cursorOptions);
extern Portal SPI_cursor_open_with_paramlist(const char *name, SPIPlanPtr plan,
											 ParamListInfo params, bool read_only);
extern Portal SPI_cursor_find(const char *name);
extern void SPI_cursor_fetch(Portal portal, bool forward, long count);
extern void SPI_cursor_move(Portal portal, bool forward, long count);
extern void SPI_scroll_cursor_fetch(Portal, FetchDirection direction, long count);
extern void SPI_scroll_cursor_move(Portal, FetchDirection direction, long count);
extern void SPI_cursor_close(Portal portal);

extern void SPI_start_transaction(void);
extern void SPI_commit(void);
extern void SPI_commit_and_chain(void);
extern void SPI_rollback(void);
extern void SPI_rollback_and_chain(void);
extern bool SPI_inside_nonatomic_context(void);

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
