/*
 * utils/portal.h -- Portal, what SPI's cursor functions return: PostgreSQL 15's PortalData
 * (232 bytes), so modules read portal->name, ->cursorOptions, ->tupDesc, ->atStart, ->atEnd and
 * ->portalPos where they expect them.  Here a portal is a cursor on the worker's database
 * session; the executor fields (stmts, cplan, queryDesc, holdStore, ...) are never set.
 */
#include "postgres.h"
#include "access/tupdesc.h"
#include "nodes/params.h"

#ifndef BGW_COMPAT_UTILS_PORTAL_H
#define BGW_COMPAT_UTILS_PORTAL_H

typedef enum PortalStrategy
{
	PORTAL_ONE_SELECT,
	PORTAL_ONE_RETURNING,
	PORTAL_ONE_MOD_WITH,
	PORTAL_UTIL_SELECT,
	PORTAL_MULTI_QUERY
} PortalStrategy;

typedef enum PortalStatus
{
	PORTAL_NEW,
	PORTAL_DEFINED,
	PORTAL_READY,
	PORTAL_ACTIVE,
	PORTAL_DONE,
	PORTAL_FAILED
} PortalStatus;

/* The command tag and row count of a completed query (tcop/cmdtag.h). */
typedef struct QueryCompletion
{
	int commandTag;
	uint64 nprocessed;
} QueryCompletion;

typedef struct PortalData *Portal;

typedef struct PortalData
{
	const char *name;
	const char *prepStmtName;
	MemoryContext portalContext;
	struct ResourceOwnerData *resowner;
	void (*cleanup) (Portal portal);
	SubTransactionId createSubid;
	SubTransactionId activeSubid;
	int createLevel;
	const char *sourceText;
	int commandTag;
	QueryCompletion qc;
	struct List *stmts;
	struct CachedPlan *cplan;
	ParamListInfo portalParams;
	struct QueryEnvironment *queryEnv;
	PortalStrategy strategy;
	int cursorOptions;
	bool run_once;
	PortalStatus status;
	bool portalPinned;
	bool autoHeld;
	struct QueryDesc *queryDesc;
	TupleDesc tupDesc;
	int16 *formats;
	Snapshot portalSnapshot;
	struct Tuplestorestate *holdStore;
	MemoryContext holdContext;
	Snapshot holdSnapshot;
	bool atStart;
	bool atEnd;
	uint64 portalPos;
	TimestampTz creation_time;
	bool visible;
} PortalData;

#define PortalIsValid(p) PointerIsValid(p)

#endif /* BGW_COMPAT_UTILS_PORTAL_H */
