/*
 * nodes/params.h -- parameter lists (ParamListInfo), PostgreSQL 15's layout: a 64-byte header,
 * then numParams ParamExternData entries of 16 bytes.  Build one with makeParamList and pass it
 * to SPI_execute_plan_with_paramlist or SPI_cursor_open_with_paramlist; a paramFetch hook, when
 * set, is called for each parameter.  The parser and compile hooks belong to the server's
 * planner and are not used.
 */
#include "postgres.h"

#ifndef BGW_COMPAT_NODES_PARAMS_H
#define BGW_COMPAT_NODES_PARAMS_H

struct ParseState;
struct Param;
struct ExprState;

typedef struct ParamListInfoData *ParamListInfo;

typedef struct ParamExternData
{
	Datum value;	/* parameter value */
	bool isnull;	/* is it NULL? */
	uint16 pflags;	/* flag bits */
	Oid ptype;		/* parameter's datatype, or 0 */
} ParamExternData;

#define PARAM_FLAG_CONST 0x0001

typedef ParamExternData *(*ParamFetchHook) (ParamListInfo params, int paramid, bool speculative,
											ParamExternData *workspace);
typedef void (*ParamCompileHook) (ParamListInfo params, struct Param *param,
								  struct ExprState *state, Datum *resv, bool *resnull);
typedef void (*ParserSetupHook) (struct ParseState *pstate, void *arg);

typedef struct ParamListInfoData
{
	ParamFetchHook paramFetch;
	void *paramFetchArg;
	ParamCompileHook paramCompile;
	void *paramCompileArg;
	ParserSetupHook parserSetup;
	void *parserSetupArg;
	char *paramValuesStr;
	int numParams;
	ParamExternData params[FLEXIBLE_ARRAY_MEMBER];
} ParamListInfoData;

BGW_EXTERN_C_BEGIN
extern ParamListInfo makeParamList(int numParams);
BGW_EXTERN_C_END

#endif /* BGW_COMPAT_NODES_PARAMS_H */
