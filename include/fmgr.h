/*
 * fmgr.h -- the module magic block (PG_MODULE_MAGIC), PG_FUNCTION_INFO_V1, detoasting
 * (pg_detoast_datum and the DatumGet*PP family) and Dynamic_library_path.
 *
 * The loader calls a module's Pg_magic_func and compares the block with its own before running
 * _PG_init.  Pg_magic_struct and Pg_finfo_record are defined in bgworker.h.  Values are never
 * compressed nor stored out of line here: detoasting only gives a short value a 4-byte header.
 */
#include "postgres.h"

#ifndef BGW_COMPAT_FMGR_H
#define BGW_COMPAT_FMGR_H

/* The abi_extra tag of modules compiled against these headers. */
#define BGW_MAGIC_ABI_EXTRA "libbgworker"

#define PG_MAGIC_FUNCTION_NAME Pg_magic_func
#define PG_MAGIC_FUNCTION_NAME_STRING "Pg_magic_func"

typedef const Pg_magic_struct *(*PGModuleMagicFunction)(void);

/* The block a module built with these headers carries (field order of Pg_magic_struct). */
#define PG_MODULE_MAGIC_DATA \
	{ \
		(int) sizeof(Pg_magic_struct), PG_VERSION_NUM / 100, FUNC_MAX_ARGS, INDEX_MAX_KEYS, \
			NAMEDATALEN, FLOAT8PASSBYVAL, BGW_MAGIC_ABI_EXTRA \
	}

/*
 * PG_MODULE_MAGIC; -- once per module.  Defines Pg_magic_func, returning a pointer to a static
 * block.  The trailing declaration takes the semicolon the user writes after the macro.
 */
#define PG_MODULE_MAGIC \
	BGW_EXTERN_C PGDLLEXPORT const Pg_magic_struct *Pg_magic_func(void); \
	BGW_EXTERN_C const Pg_magic_struct *Pg_magic_func(void) \
	{ \
		static const Pg_magic_struct bgw_magic_data = PG_MODULE_MAGIC_DATA; \
		return &bgw_magic_data; \
	} \
	extern int no_such_variable

/*
 * SQL-callable functions (version-1 calling convention) and their call frame, PostgreSQL 15's
 * layout: a module can call another module's function directly (load_external_function, then
 * LOCAL_FCINFO and InitFunctionCallInfoData).  There is no catalog here, so no FmgrInfo.
 */
typedef struct FunctionCallInfoBaseData *FunctionCallInfo;
typedef Datum (*PGFunction)(FunctionCallInfo fcinfo);
typedef const Pg_finfo_record *(*PGFInfoFunction)(void);

typedef struct Node *fmNodePtr;

typedef struct NullableDatum
{
	Datum value;
	bool isnull;
} NullableDatum;

typedef struct FunctionCallInfoBaseData
{
	struct FmgrInfo *flinfo;
	fmNodePtr context;
	fmNodePtr resultinfo;
	Oid fncollation;
	bool isnull;
	short nargs;
	NullableDatum args[FLEXIBLE_ARRAY_MEMBER];
} FunctionCallInfoBaseData;

#define SizeForFunctionCallInfo(nargs) \
	(offsetof(FunctionCallInfoBaseData, args) + sizeof(NullableDatum) * (nargs))

#define LOCAL_FCINFO(name, nargs) \
	union \
	{ \
		FunctionCallInfoBaseData fcinfo; \
		char fcinfo_data[SizeForFunctionCallInfo(nargs)]; \
	} name##data; \
	FunctionCallInfo name = &name##data.fcinfo

#define InitFunctionCallInfoData(Fcinfo, Flinfo, Nargs, Collation, Context, Resultinfo) \
	do { \
		(Fcinfo).flinfo = (Flinfo); \
		(Fcinfo).context = (Context); \
		(Fcinfo).resultinfo = (Resultinfo); \
		(Fcinfo).fncollation = (Collation); \
		(Fcinfo).isnull = false; \
		(Fcinfo).nargs = (Nargs); \
	} while (0)

#define FunctionCallInvoke(fcinfo, fn) ((fn)(fcinfo))

#define PG_NARGS() (fcinfo->nargs)
#define PG_ARGISNULL(n) (fcinfo->args[n].isnull)
#define PG_GETARG_DATUM(n) (fcinfo->args[n].value)
#define PG_GETARG_INT32(n) DatumGetInt32(PG_GETARG_DATUM(n))
#define PG_GETARG_UINT32(n) DatumGetUInt32(PG_GETARG_DATUM(n))
#define PG_GETARG_INT64(n) DatumGetInt64(PG_GETARG_DATUM(n))
#define PG_GETARG_BOOL(n) DatumGetBool(PG_GETARG_DATUM(n))
#define PG_GETARG_POINTER(n) DatumGetPointer(PG_GETARG_DATUM(n))
#define PG_GETARG_CSTRING(n) DatumGetCString(PG_GETARG_DATUM(n))
#define PG_GETARG_TEXT_PP(n) DatumGetTextPP(PG_GETARG_DATUM(n))
#define PG_GETARG_TEXT_P(n) DatumGetTextP(PG_GETARG_DATUM(n))
#define PG_RETURN_NULL() \
	do { \
		fcinfo->isnull = true; \
		return (Datum) 0; \
	} while (0)
#define PG_RETURN_VOID() return (Datum) 0
#define PG_RETURN_DATUM(x) return (x)
#define PG_RETURN_INT32(x) return Int32GetDatum(x)
#define PG_RETURN_BOOL(x) return BoolGetDatum(x)
#define PG_RETURN_POINTER(x) return PointerGetDatum(x)

BGW_EXTERN_C_BEGIN
/* A function of another library (loaded as for shared_preload_libraries, once per process). */
extern void *load_external_function(const char *filename, const char *funcname,
									bool signalNotFound, void **filehandle);
extern void *lookup_external_function(void *filehandle, const char *funcname);
BGW_EXTERN_C_END

#define PG_FUNCTION_ARGS FunctionCallInfo fcinfo

/*
 * PG_FUNCTION_INFO_V1(funcname); -- declares funcname and defines pg_finfo_funcname, which tells
 * the loader that funcname uses the version-1 convention.
 */
#define PG_FUNCTION_INFO_V1(funcname) \
	BGW_EXTERN_C PGDLLEXPORT Datum funcname(PG_FUNCTION_ARGS); \
	BGW_EXTERN_C PGDLLEXPORT const Pg_finfo_record *CppConcat(pg_finfo_, funcname)(void); \
	BGW_EXTERN_C const Pg_finfo_record *CppConcat(pg_finfo_, funcname)(void) \
	{ \
		static const Pg_finfo_record bgw_finfo = {1}; \
		return &bgw_finfo; \
	} \
	extern int no_such_variable

/* ---- detoasting ------------------------------------------------------------------------------ */

BGW_EXTERN_C_BEGIN
/* The value with a 4-byte header: itself, or a palloc'd copy of a short (1-byte header) value. */
extern struct varlena *pg_detoast_datum(struct varlena *datum);
/* Always a palloc'd copy, with a 4-byte header. */
extern struct varlena *pg_detoast_datum_copy(struct varlena *datum);
/* The value itself; read it with VARDATA_ANY and VARSIZE_ANY_EXHDR. */
extern struct varlena *pg_detoast_datum_packed(struct varlena *datum);

/* The setting dynamic_library_path, where modules named without a directory are looked up. */
extern PGDLLIMPORT char *Dynamic_library_path;
BGW_EXTERN_C_END

#define PG_DETOAST_DATUM(datum) pg_detoast_datum((struct varlena *) DatumGetPointer(datum))
#define PG_DETOAST_DATUM_COPY(datum) pg_detoast_datum_copy((struct varlena *) DatumGetPointer(datum))
#define PG_DETOAST_DATUM_PACKED(datum) \
	pg_detoast_datum_packed((struct varlena *) DatumGetPointer(datum))

#define DatumGetByteaPP(X) ((bytea *) PG_DETOAST_DATUM_PACKED(X))
#define DatumGetTextPP(X) ((text *) PG_DETOAST_DATUM_PACKED(X))
#define DatumGetBpCharPP(X) ((BpChar *) PG_DETOAST_DATUM_PACKED(X))
#define DatumGetVarCharPP(X) ((VarChar *) PG_DETOAST_DATUM_PACKED(X))
#define DatumGetByteaP(X) ((bytea *) PG_DETOAST_DATUM(X))
#define DatumGetTextP(X) ((text *) PG_DETOAST_DATUM(X))
#define DatumGetBpCharP(X) ((BpChar *) PG_DETOAST_DATUM(X))
#define DatumGetVarCharP(X) ((VarChar *) PG_DETOAST_DATUM(X))
#define DatumGetByteaPCopy(X) ((bytea *) PG_DETOAST_DATUM_COPY(X))
#define DatumGetTextPCopy(X) ((text *) PG_DETOAST_DATUM_COPY(X))
#define DatumGetBpCharPCopy(X) ((BpChar *) PG_DETOAST_DATUM_COPY(X))
#define DatumGetVarCharPCopy(X) ((VarChar *) PG_DETOAST_DATUM_COPY(X))

#endif /* BGW_COMPAT_FMGR_H */
