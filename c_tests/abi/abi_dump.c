/*
 * abi_dump.c -- prints the layout, types and constant values a module is compiled against.
 *
 * Built twice by check.sh: against our include/ and, with -DABI_DUMP_POSTGRESQL, against
 * PostgreSQL 15's own server headers; the two outputs must be identical.  The prototype table at
 * the end fails the build when a function or global is declared with a different type.
 * Nothing here calls into either library, so the program links with libc alone.
 */
#ifdef ABI_DUMP_POSTGRESQL
#include "postgres.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "libpq/pqsignal.h"
#include "postmaster/bgworker.h"
#include "postmaster/bgworker_internals.h"
#include "postmaster/interrupt.h"
#include "pgstat.h"
#include "tcop/tcopprot.h"
#include "utils/timestamp.h"
#include "lib/stringinfo.h"
#include "utils/memutils.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/pmsignal.h"
#include "utils/elog.h"
#include "utils/wait_event.h"
#include "port/atomics.h"
#include "storage/lwlock.h"
#include "storage/s_lock.h"
#include "storage/spin.h"
#include "access/xlog.h"
#include "nodes/pg_list.h"
#include "nodes/value.h"
#include "pgtime.h"
#include "postmaster/postmaster.h"
#include "storage/fd.h"
#include "storage/procsignal.h"
#include "utils/builtins.h"
#include "utils/catcache.h"
#include "utils/guc.h"
#include "utils/ps_status.h"
#include "utils/resowner.h"
#include "utils/varlena.h"
#include "access/xact.h"
#include "common/hashfn.h"
#include "executor/spi.h"
#include "lib/dshash.h"
#include "nodes/params.h"
#include "storage/condition_variable.h"
#include "storage/dsm.h"
#include "storage/proc.h"
#include "storage/procarray.h"
#include "storage/shm_mq.h"
#include "storage/shm_toc.h"
#include "storage/shmem.h"
#include "utils/dsa.h"
#include "utils/hsearch.h"
#include "utils/portal.h"
#else
#include "postgres.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "tcop/tcopprot.h"
#include "utils/timestamp.h"
#include "lib/stringinfo.h"
#include "utils/memutils.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/pmsignal.h"
#include "utils/elog.h"
#include "utils/wait_event.h"
#include "port/atomics.h"
#include "storage/lwlock.h"
#include "storage/s_lock.h"
#include "storage/spin.h"
#include "access/xlog.h"
#include "nodes/pg_list.h"
#include "nodes/value.h"
#include "pgtime.h"
#include "postmaster/postmaster.h"
#include "storage/fd.h"
#include "storage/procsignal.h"
#include "utils/builtins.h"
#include "utils/catcache.h"
#include "utils/guc.h"
#include "utils/ps_status.h"
#include "utils/resowner.h"
#include "utils/varlena.h"
#include "access/xact.h"
#include "common/hashfn.h"
#include "executor/spi.h"
#include "lib/dshash.h"
#include "nodes/params.h"
#include "storage/condition_variable.h"
#include "storage/dsm.h"
#include "storage/proc.h"
#include "storage/procarray.h"
#include "storage/shm_mq.h"
#include "storage/shm_toc.h"
#include "storage/shmem.h"
#include "utils/dsa.h"
#include "utils/hsearch.h"
#include "utils/portal.h"
#endif

/* PostgreSQL's port.h routes printf to pg_printf (in libpgport); use libc's here. */
#undef printf

PG_MODULE_MAGIC;

PG_FUNCTION_INFO_V1(abi_dump_sql_function);

Datum
abi_dump_sql_function(PG_FUNCTION_ARGS)
{
	(void) fcinfo;
	return (Datum) 0;
}

/* The C type an expression has after the usual conversions (arrays decay to pointers). */
#define TYPE_NAME(x) \
	_Generic((x), \
		_Bool: "bool", \
		char: "char", \
		signed char: "signed char", \
		unsigned char: "unsigned char", \
		short: "short", \
		unsigned short: "unsigned short", \
		int: "int", \
		unsigned int: "unsigned int", \
		long: "long", \
		unsigned long: "unsigned long", \
		long long: "long long", \
		unsigned long long: "unsigned long long", \
		float: "float", \
		double: "double", \
		char *: "char *", \
		const char *: "const char *", \
		void *: "void *", \
		default: "other")

#define TYPE(t) printf("type %-28s size=%zu align=%zu\n", #t, sizeof(t), _Alignof(t))
#define TYPEDEF(t) \
	printf("typedef %-25s size=%zu align=%zu is=%s\n", #t, sizeof(t), _Alignof(t), \
		   TYPE_NAME((t) 0))
#define FIELD(s, f) \
	printf("field %s.%-22s offset=%zu size=%zu type=%s\n", #s, #f, offsetof(s, f), \
		   sizeof(((s *) 0)->f), TYPE_NAME(((s *) 0)->f))
/* Layout only: for enum-typed fields, whose integer type is the compiler's choice. */
#define FIELD_LAYOUT(s, f) \
	printf("field %s.%-22s offset=%zu size=%zu\n", #s, #f, offsetof(s, f), sizeof(((s *) 0)->f))
#define CONST(c) printf("const %-38s = %lld (%s)\n", #c, (long long) (c), TYPE_NAME(c))
#define VALUE(label, v) printf("value %-38s = %llu\n", label, (unsigned long long) (v))

static void
dump_types(void)
{
	TYPE(BackgroundWorker);
	FIELD(BackgroundWorker, bgw_name);
	FIELD(BackgroundWorker, bgw_type);
	FIELD(BackgroundWorker, bgw_flags);
	FIELD_LAYOUT(BackgroundWorker, bgw_start_time);
	FIELD(BackgroundWorker, bgw_restart_time);
	FIELD(BackgroundWorker, bgw_library_name);
	FIELD(BackgroundWorker, bgw_function_name);
	FIELD(BackgroundWorker, bgw_main_arg);
	FIELD(BackgroundWorker, bgw_extra);
	FIELD(BackgroundWorker, bgw_notify_pid);

	TYPE(Latch);
	FIELD(Latch, is_set);
	FIELD(Latch, maybe_sleeping);
	FIELD(Latch, is_shared);
	FIELD(Latch, owner_pid);

	TYPE(Pg_magic_struct);
	FIELD(Pg_magic_struct, len);
	FIELD(Pg_magic_struct, version);
	FIELD(Pg_magic_struct, funcmaxargs);
	FIELD(Pg_magic_struct, indexmaxkeys);
	FIELD(Pg_magic_struct, namedatalen);
	FIELD(Pg_magic_struct, float8byval);
	FIELD(Pg_magic_struct, abi_extra);

	TYPE(Pg_finfo_record);
	FIELD(Pg_finfo_record, api_version);

	TYPE(ErrorData);
	FIELD(ErrorData, elevel);
	FIELD(ErrorData, output_to_server);
	FIELD(ErrorData, output_to_client);
	FIELD(ErrorData, hide_stmt);
	FIELD(ErrorData, hide_ctx);
	FIELD(ErrorData, filename);
	FIELD(ErrorData, lineno);
	FIELD(ErrorData, funcname);
	FIELD(ErrorData, domain);
	FIELD(ErrorData, context_domain);
	FIELD(ErrorData, sqlerrcode);
	FIELD(ErrorData, message);
	FIELD(ErrorData, detail);
	FIELD(ErrorData, detail_log);
	FIELD(ErrorData, hint);
	FIELD(ErrorData, context);
	FIELD(ErrorData, backtrace);
	FIELD(ErrorData, message_id);
	FIELD(ErrorData, schema_name);
	FIELD(ErrorData, table_name);
	FIELD(ErrorData, column_name);
	FIELD(ErrorData, datatype_name);
	FIELD(ErrorData, constraint_name);
	FIELD(ErrorData, cursorpos);
	FIELD(ErrorData, internalpos);
	FIELD(ErrorData, internalquery);
	FIELD(ErrorData, saved_errno);
	FIELD_LAYOUT(ErrorData, assoc_context);

	/* Locks, spinlocks and atomics: modules embed these in their shared structs. */
	TYPE(pg_atomic_uint32);
	FIELD(pg_atomic_uint32, value);
	TYPE(pg_atomic_uint64);
	FIELD(pg_atomic_uint64, value);
	TYPE(pg_atomic_flag);
	FIELD(pg_atomic_flag, value);
	TYPE(LWLock);
	FIELD(LWLock, tranche);
	FIELD_LAYOUT(LWLock, state);
	FIELD_LAYOUT(LWLock, waiters);
	TYPE(LWLockPadded);
	FIELD_LAYOUT(LWLockPadded, lock);
	FIELD_LAYOUT(LWLockPadded, pad);
	TYPE(NamedLWLockTranche);
	FIELD(NamedLWLockTranche, trancheId);
	FIELD(NamedLWLockTranche, trancheName);
	TYPEDEF(slock_t);
	TYPE(SpinDelayStatus);
	FIELD(SpinDelayStatus, spins);
	FIELD(SpinDelayStatus, delays);
	FIELD(SpinDelayStatus, cur_delay);
	FIELD(SpinDelayStatus, file);
	FIELD(SpinDelayStatus, line);
	FIELD(SpinDelayStatus, func);

	TYPEDEF(TimestampTz);

	/* Lists and nodes: modules walk these themselves (l->elements, lfirst, intVal, ...). */
	TYPE(NodeTag);
	TYPE(Node);
	FIELD_LAYOUT(Node, type);
	TYPE(ListCell);
	FIELD(ListCell, ptr_value);
	FIELD(ListCell, int_value);
	FIELD(ListCell, oid_value);
	TYPE(List);
	FIELD_LAYOUT(List, type);
	FIELD(List, length);
	FIELD(List, max_length);
	FIELD_LAYOUT(List, elements);
	VALUE("offsetof(List, initial_elements)", offsetof(List, initial_elements));
	TYPE(ForEachState);
	FIELD_LAYOUT(ForEachState, l);
	FIELD(ForEachState, i);
	TYPE(ForBothState);
	FIELD(ForBothState, i);
	TYPE(ForBothCellState);
	FIELD(ForBothCellState, i1);
	FIELD(ForBothCellState, i2);
	TYPE(ForThreeState);
	FIELD(ForThreeState, i);
	TYPE(ForFourState);
	FIELD(ForFourState, i);
	TYPE(ForFiveState);
	FIELD(ForFiveState, i);
	TYPE(Integer);
	FIELD(Integer, ival);
	TYPE(Float);
	FIELD(Float, fval);
	TYPE(Boolean);
	FIELD(Boolean, boolval);
	TYPE(String);
	FIELD(String, sval);
	TYPE(BitString);
	FIELD(BitString, bsval);

	/* Process identity, resource owners, settings, files. */
	TYPE(BackendType);
	TYPEDEF(pg_time_t);
	TYPE(ResourceReleasePhase);
	TYPE(ResourceOwner);
	TYPE(ResourceReleaseCallback);
	TYPE(GucAction);
	TYPE(GucContext);
	TYPE(GucSource);
	TYPEDEF(File);
	TYPE(list_sort_comparator);
	VALUE("VARHDRSZ", VARHDRSZ);

	TYPE(StringInfoData);
	FIELD(StringInfoData, data);
	FIELD(StringInfoData, len);
	FIELD(StringInfoData, maxlen);
	FIELD(StringInfoData, cursor);

	/* Modules read a context's name and links through these offsets. */
	TYPE(MemoryContextData);
	FIELD_LAYOUT(MemoryContextData, type);
	FIELD(MemoryContextData, isReset);
	FIELD(MemoryContextData, allowInCritSection);
	FIELD(MemoryContextData, mem_allocated);
	FIELD_LAYOUT(MemoryContextData, methods);
	FIELD_LAYOUT(MemoryContextData, parent);
	FIELD_LAYOUT(MemoryContextData, firstchild);
	FIELD_LAYOUT(MemoryContextData, prevchild);
	FIELD_LAYOUT(MemoryContextData, nextchild);
	FIELD(MemoryContextData, name);
	FIELD(MemoryContextData, ident);
	FIELD_LAYOUT(MemoryContextData, reset_cbs);
	TYPE(MemoryContextCallback);

	TYPE(ErrorContextCallback);
	FIELD(ErrorContextCallback, previous);
	FIELD(ErrorContextCallback, callback);
	FIELD(ErrorContextCallback, arg);

	/* Enums: PostgreSQL's BgWorkerStartTime is an enum, ours an int; only the size matters. */
	TYPE(BgWorkerStartTime);
	TYPE(BgwHandleStatus);
	TYPE(bgworker_main_type);
	TYPE(pqsigfunc);
	TYPE(pg_on_exit_callback);
	TYPE(PGModuleMagicFunction);
	TYPE(sigjmp_buf);
	TYPE(sigset_t);
	TYPE(sig_atomic_t);
	TYPE(pid_t);

	TYPEDEF(Datum);
	TYPEDEF(Oid);
	TYPEDEF(int8);
	TYPEDEF(int16);
	TYPEDEF(int32);
	TYPEDEF(int64);
	TYPEDEF(uint8);
	TYPEDEF(uint16);
	TYPEDEF(uint32);
	TYPEDEF(uint64);
	TYPEDEF(bits8);
	TYPEDEF(bits16);
	TYPEDEF(bits32);
	TYPEDEF(float4);
	TYPEDEF(float8);
	TYPEDEF(Size);
	TYPEDEF(Index);
	TYPEDEF(Offset);
	TYPEDEF(Pointer);
	TYPEDEF(TransactionId);
	TYPEDEF(SubTransactionId);
	TYPEDEF(CommandId);
	TYPEDEF(MultiXactId);
	TYPEDEF(pgsocket);
	TYPEDEF(bool);
}

static void
dump_constants(void)
{
	CONST(BGWORKER_SHMEM_ACCESS);
	CONST(BGWORKER_BACKEND_DATABASE_CONNECTION);
	CONST(BGWORKER_CLASS_PARALLEL);
	CONST(BGWORKER_BYPASS_ALLOWCONN);
	CONST(BGW_DEFAULT_RESTART_INTERVAL);
	CONST(BGW_NEVER_RESTART);
	CONST(BGW_MAXLEN);
	CONST(BGW_EXTRALEN);
	CONST(MAX_PARALLEL_WORKER_LIMIT);
	CONST(BgWorkerStart_PostmasterStart);
	CONST(BgWorkerStart_ConsistentState);
	CONST(BgWorkerStart_RecoveryFinished);
	CONST(BGWH_STARTED);
	CONST(BGWH_NOT_YET_STARTED);
	CONST(BGWH_STOPPED);
	CONST(BGWH_POSTMASTER_DIED);

	CONST(WL_LATCH_SET);
	CONST(WL_SOCKET_READABLE);
	CONST(WL_SOCKET_WRITEABLE);
	CONST(WL_TIMEOUT);
	CONST(WL_POSTMASTER_DEATH);
	CONST(WL_EXIT_ON_PM_DEATH);
	CONST(WL_SOCKET_CONNECTED);
	CONST(WL_SOCKET_CLOSED);
	CONST(WL_SOCKET_MASK);

	CONST(PG_WAIT_EXTENSION);
	CONST(PG_WAIT_IPC);
	CONST(WAIT_EVENT_BGWORKER_STARTUP);
	CONST(WAIT_EVENT_BGWORKER_SHUTDOWN);
	CONST(PG_WAIT_LWLOCK);

	CONST(LW_EXCLUSIVE);
	CONST(LW_SHARED);
	CONST(LW_WAIT_UNTIL_FREE);
	CONST(NUM_INDIVIDUAL_LWLOCKS);
	CONST(NUM_BUFFER_PARTITIONS);
	CONST(NUM_LOCK_PARTITIONS);
	CONST(NUM_PREDICATELOCK_PARTITIONS);
	CONST(LOCK_MANAGER_LWLOCK_OFFSET);
	CONST(PREDICATELOCK_MANAGER_LWLOCK_OFFSET);
	CONST(NUM_FIXED_LWLOCKS);
	CONST(LWLOCK_PADDED_SIZE);
	CONST(LWTRANCHE_BUFFER_MAPPING);
	CONST(LWTRANCHE_LOCK_MANAGER);
	CONST(LWTRANCHE_PREDICATE_LOCK_MANAGER);
	CONST(LWTRANCHE_FIRST_USER_DEFINED);
	CONST(DEFAULT_SPINS_PER_DELAY);
	{
		/* Where the fixed-lock macros point, from a stand-in array (nothing is linked). */
		LWLockPadded *MainLWLockArray = (LWLockPadded *) (uintptr_t) 4096;

		VALUE("AddinShmemInitLock - MainLWLockArray (bytes)",
			  (char *) AddinShmemInitLock - (char *) MainLWLockArray);
		VALUE("ShmemIndexLock - MainLWLockArray (bytes)",
			  (char *) ShmemIndexLock - (char *) MainLWLockArray);
	}

	CONST(T_Invalid);
	CONST(T_AllocSetContext);
	CONST(T_SlabContext);
	CONST(T_GenerationContext);
	CONST(T_Integer);
	CONST(T_Float);
	CONST(T_Boolean);
	CONST(T_String);
	CONST(T_BitString);
	CONST(T_List);
	CONST(T_IntList);
	CONST(T_OidList);

	CONST(B_INVALID);
	CONST(B_AUTOVAC_LAUNCHER);
	CONST(B_AUTOVAC_WORKER);
	CONST(B_BACKEND);
	CONST(B_BG_WORKER);
	CONST(B_BG_WRITER);
	CONST(B_CHECKPOINTER);
	CONST(B_STARTUP);
	CONST(B_WAL_RECEIVER);
	CONST(B_WAL_SENDER);
	CONST(B_WAL_WRITER);
	CONST(B_ARCHIVER);
	CONST(B_LOGGER);

	CONST(RESOURCE_RELEASE_BEFORE_LOCKS);
	CONST(RESOURCE_RELEASE_LOCKS);
	CONST(RESOURCE_RELEASE_AFTER_LOCKS);

	CONST(GUC_ACTION_SET);
	CONST(GUC_ACTION_LOCAL);
	CONST(GUC_ACTION_SAVE);
	CONST(PGC_INTERNAL);
	CONST(PGC_POSTMASTER);
	CONST(PGC_SIGHUP);
	CONST(PGC_SU_BACKEND);
	CONST(PGC_BACKEND);
	CONST(PGC_SUSET);
	CONST(PGC_USERSET);
	CONST(PGC_S_DEFAULT);
	CONST(PGC_S_FILE);
	CONST(PGC_S_ARGV);
	CONST(PGC_S_CLIENT);
	CONST(PGC_S_OVERRIDE);
	CONST(PGC_S_SESSION);
	CONST(MAX_BACKENDS);

	CONST(InvalidPid);
	CONST(InvalidOid);
	CONST(MAXPGPATH);
	CONST(NAMEDATALEN);
	CONST(FUNC_MAX_ARGS);
	CONST(INDEX_MAX_KEYS);
	CONST(FLOAT8PASSBYVAL);
	CONST(PG_MAJORVERSION_NUM);
	/* The minor release differs between installations; the magic block carries only the major. */
	CONST(PG_VERSION_NUM / 100);
	CONST(PGINVALID_SOCKET);

	CONST(DEBUG5);
	CONST(DEBUG4);
	CONST(DEBUG3);
	CONST(DEBUG2);
	CONST(DEBUG1);
	CONST(LOG);
	CONST(LOG_SERVER_ONLY);
	CONST(COMMERROR);
	CONST(INFO);
	CONST(NOTICE);
	CONST(WARNING);
	CONST(PGWARNING);
	CONST(WARNING_CLIENT_ONLY);
	CONST(ERROR);
	CONST(PGERROR);
	CONST(FATAL);
	CONST(PANIC);

	CONST(MAKE_SQLSTATE('5', '7', 'P', '0', '1'));
	CONST(ERRCODE_SUCCESSFUL_COMPLETION);
	CONST(ERRCODE_WARNING);
	CONST(ERRCODE_FEATURE_NOT_SUPPORTED);
	CONST(ERRCODE_INVALID_PARAMETER_VALUE);
	CONST(ERRCODE_INVALID_TEXT_REPRESENTATION);
	CONST(ERRCODE_SYNTAX_ERROR);
	CONST(ERRCODE_UNDEFINED_FUNCTION);
	CONST(ERRCODE_UNDEFINED_OBJECT);
	CONST(ERRCODE_INSUFFICIENT_RESOURCES);
	CONST(ERRCODE_OUT_OF_MEMORY);
	CONST(ERRCODE_CONFIGURATION_LIMIT_EXCEEDED);
	CONST(ERRCODE_PROGRAM_LIMIT_EXCEEDED);
	CONST(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE);
	CONST(ERRCODE_QUERY_CANCELED);
	CONST(ERRCODE_ADMIN_SHUTDOWN);
	CONST(ERRCODE_CRASH_SHUTDOWN);
	CONST(ERRCODE_UNDEFINED_FILE);
	CONST(ERRCODE_INTERNAL_ERROR);
	CONST(ERRCODE_DATA_CORRUPTED);

	CONST(PG_INT16_MIN);
	CONST(PG_INT32_MAX);
	CONST(PG_UINT32_MAX);
	CONST(PG_INT64_MIN);
}

/* What the header macros compute: the magic block, the finfo record and Datum conversions. */
static void
dump_values(void)
{
	const Pg_magic_struct *magic = Pg_magic_func();
	char name[NAMEDATALEN];
	float8 f8 = -2.5;
	int64 i64 = -3;

	VALUE("Pg_magic_func()->len", magic->len);
	VALUE("Pg_magic_func()->version", magic->version);
	VALUE("Pg_magic_func()->funcmaxargs", magic->funcmaxargs);
	VALUE("Pg_magic_func()->indexmaxkeys", magic->indexmaxkeys);
	VALUE("Pg_magic_func()->namedatalen", magic->namedatalen);
	VALUE("Pg_magic_func()->float8byval", magic->float8byval);
	/* abi_extra is "PostgreSQL" there and "libbgworker" here by design: check.sh checks it. */
	VALUE("pg_finfo_abi_dump_sql_function()->api_version",
		  pg_finfo_abi_dump_sql_function()->api_version);

	VALUE("Int32GetDatum(-1)", Int32GetDatum(-1));
	VALUE("DatumGetInt32(0xffffffff80000000)", DatumGetInt32((Datum) 0xffffffff80000000UL));
	VALUE("UInt32GetDatum(0xffffffff)", UInt32GetDatum(0xffffffffU));
	VALUE("Int16GetDatum(-2)", Int16GetDatum((int16) -2));
	VALUE("DatumGetInt16(0x18000)", DatumGetInt16((Datum) 0x18000));
	VALUE("CharGetDatum(-1)", CharGetDatum((char) -1));
	VALUE("BoolGetDatum(7)", BoolGetDatum(7));
	VALUE("DatumGetBool(0x100)", DatumGetBool((Datum) 0x100));
	VALUE("ObjectIdGetDatum(4294967295)", ObjectIdGetDatum((Oid) 4294967295U));
	VALUE("Int64GetDatum(-3)", Int64GetDatum(i64));
	VALUE("DatumGetInt64(Int64GetDatum(-3)) + 3", DatumGetInt64(Int64GetDatum(i64)) + 3);
	VALUE("UInt64GetDatum(2^63)", UInt64GetDatum(UINT64CONST(9223372036854775808)));
	VALUE("Float8GetDatum(-2.5)", Float8GetDatum(f8));
	VALUE("DatumGetFloat8(Float8GetDatum(-2.5)) == -2.5", DatumGetFloat8(Float8GetDatum(f8)) == f8);
	VALUE("Float4GetDatum(-1.5f)", Float4GetDatum(-1.5f));
	VALUE("DatumGetFloat4(Float4GetDatum(-1.5f)) == -1.5f",
		  DatumGetFloat4(Float4GetDatum(-1.5f)) == -1.5f);
	VALUE("PointerGetDatum(name) == (Datum) name", PointerGetDatum(name) == (Datum) name);
	VALUE("DatumGetCString(CStringGetDatum(name)) == name",
		  DatumGetCString(CStringGetDatum(name)) == name);
	VALUE("lengthof(name)", lengthof(name));
	VALUE("Max(-1, 2)", Max(-1, 2));
	VALUE("Min(-1, 2) + 1", Min(-1, 2) + 1);

	/* The inline list accessors and loops, over a list built by hand (nothing is linked). */
	{
		union
		{
			List		list;
			char		room[sizeof(List) + 4 * sizeof(ListCell)];
		}			u;
		List	   *l = &u.list;
		ListCell   *lc;
		int			sum = 0;
		int			last_index = -1;

		l->type = T_IntList;
		l->length = 3;
		l->max_length = 4;
		l->elements = l->initial_elements;
		l->elements[0].int_value = 10;
		l->elements[1].int_value = 20;
		l->elements[2].int_value = 30;
		VALUE("list_length(l)", list_length(l));
		VALUE("list_length(NIL)", list_length(NIL));
		VALUE("list_nth_int(l, 2)", list_nth_int(l, 2));
		VALUE("linitial_int(l) + llast_int(l)", linitial_int(l) + llast_int(l));
		VALUE("lnext(l, list_head(l)) == &l->elements[1]", lnext(l, list_head(l)) == &l->elements[1]);
		VALUE("lnext(l, list_tail(l)) == NULL", lnext(l, list_tail(l)) == NULL);
		VALUE("list_second_cell(l) == &l->elements[1]", list_second_cell(l) == &l->elements[1]);
		foreach(lc, l)
		{
			sum += lfirst_int(lc);
			last_index = foreach_current_index(lc);
		}
		VALUE("foreach sum", sum);
		VALUE("foreach last index", last_index);
		VALUE("foreach leaves the cell NULL", lc == NULL);
		sum = 0;
		for_each_from(lc, l, 1)
			sum += lfirst_int(lc);
		VALUE("for_each_from(1) sum", sum);
		sum = 0;
		{
			ListCell   *a;
			ListCell   *b;

			forboth(a, l, b, l)
				sum += lfirst_int(a) * lfirst_int(b);
		}
		VALUE("forboth dot product", sum);
		VALUE("IsA(l, IntList)", IsA(l, IntList));
	}

	memset(name, 'x', sizeof(name));
	MemSet(name, 0, sizeof(name));
	VALUE("MemSet(name, 0, ...) zeroes the last byte", name[NAMEDATALEN - 1] == 0);
}

/* SPI, transactions, cursors and parameter lists. */
static void
dump_spi(void)
{
	TYPE(SPITupleTable);
	FIELD(SPITupleTable, tupdesc);
	FIELD(SPITupleTable, vals);
	FIELD(SPITupleTable, numvals);
	FIELD(SPITupleTable, alloced);
	FIELD(SPITupleTable, tuptabcxt);
	FIELD(SPITupleTable, subid);
	TYPE(SPIExecuteOptions);
	FIELD(SPIExecuteOptions, params);
	FIELD(SPIExecuteOptions, read_only);
	FIELD(SPIExecuteOptions, allow_nonatomic);
	FIELD(SPIExecuteOptions, must_return_tuples);
	FIELD(SPIExecuteOptions, tcount);
	FIELD(SPIExecuteOptions, dest);
	FIELD(SPIExecuteOptions, owner);
	TYPE(ParamExternData);
	FIELD(ParamExternData, value);
	FIELD(ParamExternData, isnull);
	FIELD(ParamExternData, pflags);
	FIELD(ParamExternData, ptype);
	TYPE(ParamListInfoData);
	FIELD(ParamListInfoData, paramFetch);
	FIELD(ParamListInfoData, paramFetchArg);
	FIELD(ParamListInfoData, paramCompile);
	FIELD(ParamListInfoData, parserSetup);
	FIELD(ParamListInfoData, parserSetupArg);
	FIELD(ParamListInfoData, paramValuesStr);
	FIELD(ParamListInfoData, numParams);
	VALUE("offsetof(ParamListInfoData, params)", offsetof(ParamListInfoData, params));
	TYPE(PortalData);
	FIELD(PortalData, name);
	FIELD(PortalData, prepStmtName);
	FIELD(PortalData, portalContext);
	FIELD(PortalData, createSubid);
	FIELD(PortalData, activeSubid);
	FIELD(PortalData, createLevel);
	FIELD(PortalData, sourceText);
	FIELD_LAYOUT(PortalData, commandTag);
	FIELD_LAYOUT(PortalData, qc);
	FIELD(PortalData, portalParams);
	FIELD_LAYOUT(PortalData, strategy);
	FIELD(PortalData, cursorOptions);
	FIELD(PortalData, run_once);
	FIELD_LAYOUT(PortalData, status);
	FIELD(PortalData, portalPinned);
	FIELD(PortalData, autoHeld);
	FIELD(PortalData, tupDesc);
	FIELD(PortalData, formats);
	FIELD(PortalData, holdContext);
	FIELD(PortalData, atStart);
	FIELD(PortalData, atEnd);
	FIELD(PortalData, portalPos);
	FIELD(PortalData, creation_time);
	FIELD(PortalData, visible);

	CONST(XACT_READ_UNCOMMITTED);
	CONST(XACT_READ_COMMITTED);
	CONST(XACT_REPEATABLE_READ);
	CONST(XACT_SERIALIZABLE);
	CONST(XACT_EVENT_COMMIT);
	CONST(XACT_EVENT_PARALLEL_COMMIT);
	CONST(XACT_EVENT_ABORT);
	CONST(XACT_EVENT_PARALLEL_ABORT);
	CONST(XACT_EVENT_PREPARE);
	CONST(XACT_EVENT_PRE_COMMIT);
	CONST(XACT_EVENT_PARALLEL_PRE_COMMIT);
	CONST(XACT_EVENT_PRE_PREPARE);
	CONST(SUBXACT_EVENT_START_SUB);
	CONST(SUBXACT_EVENT_COMMIT_SUB);
	CONST(SUBXACT_EVENT_ABORT_SUB);
	CONST(SUBXACT_EVENT_PRE_COMMIT_SUB);
	CONST(SPI_OPT_NONATOMIC);
	CONST(SPI_ERROR_CONNECT);
	CONST(SPI_ERROR_COPY);
	CONST(SPI_ERROR_ARGUMENT);
	CONST(SPI_ERROR_PARAM);
	CONST(SPI_ERROR_TRANSACTION);
	CONST(SPI_ERROR_UNCONNECTED);
	CONST(SPI_OK_CONNECT);
	CONST(SPI_OK_FETCH);
	CONST(SPI_OK_UTILITY);
	CONST(SPI_OK_SELECT);
	CONST(SPI_OK_SELINTO);
	CONST(SPI_OK_CURSOR);
	CONST(SPI_OK_REWRITTEN);
	CONST(SPI_OK_MERGE);
	CONST(FETCH_FORWARD);
	CONST(FETCH_BACKWARD);
	CONST(FETCH_ABSOLUTE);
	CONST(FETCH_RELATIVE);
	CONST(FETCH_ALL);
	CONST(CURSOR_OPT_BINARY);
	CONST(CURSOR_OPT_SCROLL);
	CONST(CURSOR_OPT_NO_SCROLL);
	CONST(CURSOR_OPT_HOLD);
	CONST(PARAM_FLAG_CONST);
	CONST(PORTAL_ONE_SELECT);
	CONST(PORTAL_ONE_RETURNING);
	CONST(PORTAL_UTIL_SELECT);
	CONST(PORTAL_READY);
	CONST(InvalidTransactionId);
	CONST(TopSubTransactionId);
}

/* Dynamic shared memory, message queues, hash tables, condition variables, dsa, dshash. */
static void
dump_dsm(void)
{
	TYPE(PGPROC);
	FIELD_LAYOUT(PGPROC, procLatch);
	FIELD(PGPROC, pid);
	TYPEDEF(dsm_handle);
	TYPE(on_dsm_detach_callback);
	CONST(DSM_CREATE_NULL_IF_MAXSEGMENTS);
	CONST(DSM_HANDLE_INVALID);
	CONST(DSM_IMPL_POSIX);
	CONST(DSM_IMPL_MMAP);

	TYPE(shm_toc_estimator);
	FIELD(shm_toc_estimator, space_for_chunks);
	FIELD(shm_toc_estimator, number_of_keys);
	TYPE(shm_mq_iovec);
	FIELD(shm_mq_iovec, data);
	FIELD(shm_mq_iovec, len);
	TYPE(shm_mq_result);
	CONST(SHM_MQ_SUCCESS);
	CONST(SHM_MQ_WOULD_BLOCK);
	CONST(SHM_MQ_DETACHED);
	CONST(WAIT_EVENT_MQ_INTERNAL);
	CONST(WAIT_EVENT_MQ_PUT_MESSAGE);
	CONST(WAIT_EVENT_MQ_RECEIVE);
	CONST(WAIT_EVENT_MQ_SEND);

	TYPE(HASHCTL);
	FIELD(HASHCTL, num_partitions);
	FIELD(HASHCTL, ssize);
	FIELD(HASHCTL, dsize);
	FIELD(HASHCTL, max_dsize);
	FIELD(HASHCTL, keysize);
	FIELD(HASHCTL, entrysize);
	FIELD_LAYOUT(HASHCTL, hash);
	FIELD_LAYOUT(HASHCTL, match);
	FIELD_LAYOUT(HASHCTL, keycopy);
	FIELD_LAYOUT(HASHCTL, alloc);
	FIELD_LAYOUT(HASHCTL, hcxt);
	FIELD_LAYOUT(HASHCTL, hctl);
	TYPE(HASHELEMENT);
	FIELD_LAYOUT(HASHELEMENT, link);
	FIELD(HASHELEMENT, hashvalue);
	TYPE(HASH_SEQ_STATUS);
	FIELD_LAYOUT(HASH_SEQ_STATUS, hashp);
	FIELD(HASH_SEQ_STATUS, curBucket);
	FIELD_LAYOUT(HASH_SEQ_STATUS, curEntry);
	TYPE(HASHACTION);
	CONST(HASH_FIND);
	CONST(HASH_ENTER);
	CONST(HASH_REMOVE);
	CONST(HASH_ENTER_NULL);
	CONST(HASH_PARTITION);
	CONST(HASH_SEGMENT);
	CONST(HASH_DIRSIZE);
	CONST(HASH_ELEM);
	CONST(HASH_STRINGS);
	CONST(HASH_BLOBS);
	CONST(HASH_FUNCTION);
	CONST(HASH_COMPARE);
	CONST(HASH_KEYCOPY);
	CONST(HASH_ALLOC);
	CONST(HASH_CONTEXT);
	CONST(HASH_SHARED_MEM);
	CONST(HASH_ATTACH);
	CONST(HASH_FIXED_SIZE);
	CONST(NO_MAX_DSIZE);
	VALUE("hash_combine(1, 2)", hash_combine(1, 2));
	VALUE("hash_combine64(1, 2)", hash_combine64(1, 2));
	VALUE("murmurhash32(12345)", murmurhash32(12345));

	TYPE(ConditionVariable);
	FIELD(ConditionVariable, mutex);
	FIELD_LAYOUT(ConditionVariable, wakeup);
	TYPE(ConditionVariableMinimallyPadded);
	TYPE(proclist_head);
	FIELD(proclist_head, head);
	FIELD(proclist_head, tail);
	TYPE(proclist_node);
	FIELD(proclist_node, next);
	FIELD(proclist_node, prev);
	TYPE(proclist_mutable_iter);

	TYPEDEF(dsa_pointer);
	TYPE(dsa_pointer_atomic);
	TYPEDEF(dsa_handle);
	CONST(SIZEOF_DSA_POINTER);
	CONST(DSA_ALLOC_HUGE);
	CONST(DSA_ALLOC_NO_OOM);
	CONST(DSA_ALLOC_ZERO);
	CONST(InvalidDsaPointer);
	VALUE("DsaPointerIsValid(1)", DsaPointerIsValid(1));
	printf("value %-38s = %s\n", "DSA_POINTER_FORMAT", DSA_POINTER_FORMAT);

	TYPE(dshash_parameters);
	FIELD(dshash_parameters, key_size);
	FIELD(dshash_parameters, entry_size);
	FIELD_LAYOUT(dshash_parameters, compare_function);
	FIELD_LAYOUT(dshash_parameters, hash_function);
	FIELD(dshash_parameters, tranche_id);
	TYPE(dshash_seq_status);
	FIELD_LAYOUT(dshash_seq_status, hash_table);
	FIELD(dshash_seq_status, curbucket);
	FIELD(dshash_seq_status, nbuckets);
	FIELD_LAYOUT(dshash_seq_status, curitem);
	FIELD(dshash_seq_status, pnextitem);
	FIELD(dshash_seq_status, curpartition);
	FIELD(dshash_seq_status, exclusive);
	TYPEDEF(dshash_table_handle);
	TYPEDEF(dshash_hash);

	/* Calling another module's function. */
	TYPE(FunctionCallInfoBaseData);
	FIELD_LAYOUT(FunctionCallInfoBaseData, flinfo);
	FIELD_LAYOUT(FunctionCallInfoBaseData, context);
	FIELD_LAYOUT(FunctionCallInfoBaseData, resultinfo);
	FIELD(FunctionCallInfoBaseData, fncollation);
	FIELD(FunctionCallInfoBaseData, isnull);
	FIELD(FunctionCallInfoBaseData, nargs);
	VALUE("offsetof(FunctionCallInfoBaseData, args)", offsetof(FunctionCallInfoBaseData, args));
	TYPE(NullableDatum);
	FIELD(NullableDatum, value);
	FIELD(NullableDatum, isnull);
	VALUE("SizeForFunctionCallInfo(5)", SizeForFunctionCallInfo(5));
	{
		LOCAL_FCINFO(fc, 5);
		InitFunctionCallInfoData(*fc, NULL, 5, InvalidOid, NULL, NULL);
		fc->args[4].value = Int32GetDatum(-7);
		VALUE("LOCAL_FCINFO nargs", fc->nargs);
		VALUE("LOCAL_FCINFO isnull", fc->isnull);
		VALUE("args[4] via PG_GETARG_INT32 shape", (uint32) DatumGetInt32(fc->args[4].value));
	}
}

int
main(void)
{
	dump_types();
	dump_spi();
	dump_constants();
	dump_values();
	dump_dsm();
	return 0;
}

/*
 * Prototype table: each function and global a module uses must have the same type under both
 * header sets.  __typeof__ is unevaluated, so nothing here needs the symbols at link time.
 */
#define SAME_TYPE(name, type) \
	_Static_assert(__builtin_types_compatible_p(__typeof__(name), type), \
				   #name " is not declared as " #type)

SAME_TYPE(RegisterBackgroundWorker, void(BackgroundWorker *));
SAME_TYPE(BackgroundWorkerBlockSignals, void(void));
SAME_TYPE(BackgroundWorkerUnblockSignals, void(void));
SAME_TYPE(WaitLatch, int(Latch *, int, long, uint32));
SAME_TYPE(WaitLatchOrSocket, int(Latch *, int, pgsocket, long, uint32));
SAME_TYPE(SetLatch, void(Latch *));
SAME_TYPE(ResetLatch, void(Latch *));
SAME_TYPE(pqsignal, pqsigfunc(int, pqsigfunc));
SAME_TYPE(proc_exit, void(int));
SAME_TYPE(on_proc_exit, void(pg_on_exit_callback, Datum));
SAME_TYPE(before_shmem_exit, void(pg_on_exit_callback, Datum));
SAME_TYPE(on_shmem_exit, void(pg_on_exit_callback, Datum));
SAME_TYPE(cancel_before_shmem_exit, void(pg_on_exit_callback, Datum));
SAME_TYPE(PostmasterIsAliveInternal, bool(void));
SAME_TYPE(errstart, bool(int, const char *));
SAME_TYPE(errstart_cold, bool(int, const char *));
SAME_TYPE(errfinish, void(const char *, int, const char *));
SAME_TYPE(errcode, int(int));
SAME_TYPE(errcode_for_file_access, int(void));
SAME_TYPE(errmsg, int(const char *, ...));
SAME_TYPE(errmsg_internal, int(const char *, ...));
SAME_TYPE(errdetail, int(const char *, ...));
SAME_TYPE(errdetail_internal, int(const char *, ...));
SAME_TYPE(errdetail_log, int(const char *, ...));
SAME_TYPE(errhint, int(const char *, ...));
SAME_TYPE(errcontext_msg, int(const char *, ...));
SAME_TYPE(set_errcontext_domain, int(const char *));
SAME_TYPE(pg_re_throw, void(void));
SAME_TYPE(pg_snprintf, int(char *, size_t, const char *, ...));
SAME_TYPE(pg_vsnprintf, int(char *, size_t, const char *, va_list));
SAME_TYPE(pg_sprintf, int(char *, const char *, ...));
SAME_TYPE(pg_fprintf, int(FILE *, const char *, ...));
SAME_TYPE(pg_printf, int(const char *, ...));
SAME_TYPE(Pg_magic_func, const Pg_magic_struct *(void));

SAME_TYPE(MyBgworkerEntry, BackgroundWorker *);
SAME_TYPE(MyLatch, Latch *);
SAME_TYPE(MyProcPid, int);
SAME_TYPE(process_shared_preload_libraries_in_progress, bool);
SAME_TYPE(IsUnderPostmaster, bool);
SAME_TYPE(IsBackgroundWorker, bool);
SAME_TYPE(max_worker_processes, int);
SAME_TYPE(BlockSig, sigset_t);
SAME_TYPE(UnBlockSig, sigset_t);
SAME_TYPE(PG_exception_stack, sigjmp_buf *);
SAME_TYPE(error_context_stack, ErrorContextCallback *);

/* Dynamic workers and handles. */
SAME_TYPE(RegisterDynamicBackgroundWorker, bool(BackgroundWorker *, BackgroundWorkerHandle **));
SAME_TYPE(GetBackgroundWorkerPid, BgwHandleStatus(BackgroundWorkerHandle *, pid_t *));
SAME_TYPE(WaitForBackgroundWorkerStartup, BgwHandleStatus(BackgroundWorkerHandle *, pid_t *));
SAME_TYPE(WaitForBackgroundWorkerShutdown, BgwHandleStatus(BackgroundWorkerHandle *));
SAME_TYPE(TerminateBackgroundWorker, void(BackgroundWorkerHandle *));
SAME_TYPE(GetBackgroundWorkerTypeByPid, const char *(pid_t));
SAME_TYPE(max_parallel_workers, int);

/* Errors. */
SAME_TYPE(errmsg_plural, int(const char *, const char *, unsigned long, ...));
SAME_TYPE(errdetail_plural, int(const char *, const char *, unsigned long, ...));
SAME_TYPE(errhint_plural, int(const char *, const char *, unsigned long, ...));
SAME_TYPE(errcode_for_socket_access, int(void));
SAME_TYPE(errhidestmt, int(bool));
SAME_TYPE(errhidecontext, int(bool));
SAME_TYPE(errposition, int(int));
SAME_TYPE(geterrcode, int(void));
SAME_TYPE(EmitErrorReport, void(void));
SAME_TYPE(CopyErrorData, ErrorData *(void));
SAME_TYPE(FreeErrorData, void(ErrorData *));
SAME_TYPE(FlushErrorState, void(void));
SAME_TYPE(ReThrowError, void(ErrorData *));
SAME_TYPE(ThrowErrorData, void(ErrorData *));
SAME_TYPE(message_level_is_interesting, bool(int));
SAME_TYPE(in_error_recursion_trouble, bool(void));

/* Interrupts. */
SAME_TYPE(InterruptPending, volatile sig_atomic_t);
SAME_TYPE(ProcDiePending, volatile sig_atomic_t);
SAME_TYPE(QueryCancelPending, volatile sig_atomic_t);
SAME_TYPE(ConfigReloadPending, volatile sig_atomic_t);
SAME_TYPE(ShutdownRequestPending, volatile sig_atomic_t);
SAME_TYPE(InterruptHoldoffCount, volatile uint32);
SAME_TYPE(QueryCancelHoldoffCount, volatile uint32);
SAME_TYPE(CritSectionCount, volatile uint32);
SAME_TYPE(ProcessInterrupts, void(void));
SAME_TYPE(die, void(int));
SAME_TYPE(StatementCancelHandler, void(int));
SAME_TYPE(SignalHandlerForConfigReload, void(int));
SAME_TYPE(SignalHandlerForShutdownRequest, void(int));
SAME_TYPE(procsignal_sigusr1_handler, void(int));

/* Memory and strings. */
SAME_TYPE(CurrentMemoryContext, MemoryContext);
SAME_TYPE(TopMemoryContext, MemoryContext);
SAME_TYPE(palloc, void *(Size));
SAME_TYPE(palloc0, void *(Size));
SAME_TYPE(palloc_extended, void *(Size, int));
SAME_TYPE(repalloc, void *(void *, Size));
SAME_TYPE(pfree, void(void *));
SAME_TYPE(pstrdup, char *(const char *));
SAME_TYPE(pnstrdup, char *(const char *, Size));
SAME_TYPE(psprintf, char *(const char *, ...));
SAME_TYPE(MemoryContextAlloc, void *(MemoryContext, Size));
SAME_TYPE(MemoryContextAllocZero, void *(MemoryContext, Size));
SAME_TYPE(AllocSetContextCreateInternal, MemoryContext(MemoryContext, const char *, Size, Size, Size));
SAME_TYPE(MemoryContextDelete, void(MemoryContext));
SAME_TYPE(MemoryContextReset, void(MemoryContext));
SAME_TYPE(initStringInfo, void(StringInfo));
SAME_TYPE(makeStringInfo, StringInfo(void));
SAME_TYPE(resetStringInfo, void(StringInfo));
SAME_TYPE(appendStringInfo, void(StringInfo, const char *, ...));
SAME_TYPE(appendStringInfoString, void(StringInfo, const char *));
SAME_TYPE(appendStringInfoChar, void(StringInfo, char));
SAME_TYPE(appendBinaryStringInfo, void(StringInfo, const char *, int));
SAME_TYPE(enlargeStringInfo, void(StringInfo, int));

/* Activity, wait events, time. */
SAME_TYPE(pgstat_report_activity, void(BackendState, const char *));
SAME_TYPE(my_wait_event_info, uint32 *);
SAME_TYPE(GetCurrentTimestamp, TimestampTz(void));
SAME_TYPE(TimestampDifference, void(TimestampTz, TimestampTz, long *, int *));
SAME_TYPE(TimestampDifferenceMilliseconds, long(TimestampTz, TimestampTz));
SAME_TYPE(TimestampDifferenceExceeds, bool(TimestampTz, TimestampTz, int));

/* Locks, spinlocks and atomics. */
SAME_TYPE(MainLWLockArray, LWLockPadded *);
SAME_TYPE(LWLockInitialize, void(LWLock *, int));
SAME_TYPE(LWLockAcquire, bool(LWLock *, LWLockMode));
SAME_TYPE(LWLockConditionalAcquire, bool(LWLock *, LWLockMode));
SAME_TYPE(LWLockAcquireOrWait, bool(LWLock *, LWLockMode));
SAME_TYPE(LWLockRelease, void(LWLock *));
SAME_TYPE(LWLockReleaseAll, void(void));
SAME_TYPE(LWLockHeldByMe, bool(LWLock *));
SAME_TYPE(LWLockHeldByMeInMode, bool(LWLock *, LWLockMode));
SAME_TYPE(LWLockAnyHeldByMe, bool(LWLock *, int, size_t));
SAME_TYPE(ForEachLWLockHeldByMe, void(void (*)(LWLock *, LWLockMode, void *), void *));
SAME_TYPE(LWLockNewTrancheId, int(void));
SAME_TYPE(LWLockRegisterTranche, void(int, const char *));
SAME_TYPE(GetLWLockIdentifier, const char *(uint32, uint16));
SAME_TYPE(GetNamedLWLockTranche, LWLockPadded *(const char *));
SAME_TYPE(s_lock, int(volatile slock_t *, const char *, int, const char *));
SAME_TYPE(perform_spin_delay, void(SpinDelayStatus *));
SAME_TYPE(finish_spin_delay, void(SpinDelayStatus *));
SAME_TYPE(pg_atomic_init_flag, void(volatile pg_atomic_flag *));
SAME_TYPE(pg_atomic_test_set_flag, bool(volatile pg_atomic_flag *));
SAME_TYPE(pg_atomic_unlocked_test_flag, bool(volatile pg_atomic_flag *));
SAME_TYPE(pg_atomic_clear_flag, void(volatile pg_atomic_flag *));
SAME_TYPE(pg_atomic_init_u32, void(volatile pg_atomic_uint32 *, uint32));
SAME_TYPE(pg_atomic_read_u32, uint32(volatile pg_atomic_uint32 *));
SAME_TYPE(pg_atomic_write_u32, void(volatile pg_atomic_uint32 *, uint32));
SAME_TYPE(pg_atomic_unlocked_write_u32, void(volatile pg_atomic_uint32 *, uint32));
SAME_TYPE(pg_atomic_exchange_u32, uint32(volatile pg_atomic_uint32 *, uint32));
SAME_TYPE(pg_atomic_compare_exchange_u32, bool(volatile pg_atomic_uint32 *, uint32 *, uint32));
SAME_TYPE(pg_atomic_fetch_add_u32, uint32(volatile pg_atomic_uint32 *, int32));
SAME_TYPE(pg_atomic_fetch_sub_u32, uint32(volatile pg_atomic_uint32 *, int32));
SAME_TYPE(pg_atomic_fetch_and_u32, uint32(volatile pg_atomic_uint32 *, uint32));
SAME_TYPE(pg_atomic_fetch_or_u32, uint32(volatile pg_atomic_uint32 *, uint32));
SAME_TYPE(pg_atomic_add_fetch_u32, uint32(volatile pg_atomic_uint32 *, int32));
SAME_TYPE(pg_atomic_sub_fetch_u32, uint32(volatile pg_atomic_uint32 *, int32));
SAME_TYPE(pg_atomic_init_u64, void(volatile pg_atomic_uint64 *, uint64));
SAME_TYPE(pg_atomic_read_u64, uint64(volatile pg_atomic_uint64 *));
SAME_TYPE(pg_atomic_write_u64, void(volatile pg_atomic_uint64 *, uint64));
SAME_TYPE(pg_atomic_exchange_u64, uint64(volatile pg_atomic_uint64 *, uint64));
SAME_TYPE(pg_atomic_compare_exchange_u64, bool(volatile pg_atomic_uint64 *, uint64 *, uint64));
SAME_TYPE(pg_atomic_fetch_add_u64, uint64(volatile pg_atomic_uint64 *, int64));
SAME_TYPE(pg_atomic_fetch_sub_u64, uint64(volatile pg_atomic_uint64 *, int64));
SAME_TYPE(pg_atomic_fetch_and_u64, uint64(volatile pg_atomic_uint64 *, uint64));
SAME_TYPE(pg_atomic_fetch_or_u64, uint64(volatile pg_atomic_uint64 *, uint64));
SAME_TYPE(pg_atomic_add_fetch_u64, uint64(volatile pg_atomic_uint64 *, int64));
SAME_TYPE(pg_atomic_sub_fetch_u64, uint64(volatile pg_atomic_uint64 *, int64));

/* Lists and nodes. */
SAME_TYPE(list_make1_impl, List *(NodeTag, ListCell));
SAME_TYPE(list_make2_impl, List *(NodeTag, ListCell, ListCell));
SAME_TYPE(list_make3_impl, List *(NodeTag, ListCell, ListCell, ListCell));
SAME_TYPE(list_make4_impl, List *(NodeTag, ListCell, ListCell, ListCell, ListCell));
SAME_TYPE(list_make5_impl, List *(NodeTag, ListCell, ListCell, ListCell, ListCell, ListCell));
SAME_TYPE(lappend, List *(List *, void *));
SAME_TYPE(lappend_int, List *(List *, int));
SAME_TYPE(lappend_oid, List *(List *, Oid));
SAME_TYPE(list_insert_nth, List *(List *, int, void *));
SAME_TYPE(list_insert_nth_int, List *(List *, int, int));
SAME_TYPE(list_insert_nth_oid, List *(List *, int, Oid));
SAME_TYPE(lcons, List *(void *, List *));
SAME_TYPE(lcons_int, List *(int, List *));
SAME_TYPE(lcons_oid, List *(Oid, List *));
SAME_TYPE(list_concat, List *(List *, const List *));
SAME_TYPE(list_concat_copy, List *(const List *, const List *));
SAME_TYPE(list_truncate, List *(List *, int));
SAME_TYPE(list_member, bool(const List *, const void *));
SAME_TYPE(list_member_ptr, bool(const List *, const void *));
SAME_TYPE(list_member_int, bool(const List *, int));
SAME_TYPE(list_member_oid, bool(const List *, Oid));
SAME_TYPE(list_delete, List *(List *, void *));
SAME_TYPE(list_delete_ptr, List *(List *, void *));
SAME_TYPE(list_delete_int, List *(List *, int));
SAME_TYPE(list_delete_oid, List *(List *, Oid));
SAME_TYPE(list_delete_first, List *(List *));
SAME_TYPE(list_delete_last, List *(List *));
SAME_TYPE(list_delete_first_n, List *(List *, int));
SAME_TYPE(list_delete_nth_cell, List *(List *, int));
SAME_TYPE(list_delete_cell, List *(List *, ListCell *));
SAME_TYPE(list_union, List *(const List *, const List *));
SAME_TYPE(list_union_ptr, List *(const List *, const List *));
SAME_TYPE(list_union_int, List *(const List *, const List *));
SAME_TYPE(list_union_oid, List *(const List *, const List *));
SAME_TYPE(list_intersection, List *(const List *, const List *));
SAME_TYPE(list_intersection_int, List *(const List *, const List *));
SAME_TYPE(list_difference, List *(const List *, const List *));
SAME_TYPE(list_difference_ptr, List *(const List *, const List *));
SAME_TYPE(list_difference_int, List *(const List *, const List *));
SAME_TYPE(list_difference_oid, List *(const List *, const List *));
SAME_TYPE(list_append_unique, List *(List *, void *));
SAME_TYPE(list_append_unique_ptr, List *(List *, void *));
SAME_TYPE(list_append_unique_int, List *(List *, int));
SAME_TYPE(list_append_unique_oid, List *(List *, Oid));
SAME_TYPE(list_concat_unique, List *(List *, const List *));
SAME_TYPE(list_concat_unique_ptr, List *(List *, const List *));
SAME_TYPE(list_concat_unique_int, List *(List *, const List *));
SAME_TYPE(list_concat_unique_oid, List *(List *, const List *));
SAME_TYPE(list_deduplicate_oid, void(List *));
SAME_TYPE(list_free, void(List *));
SAME_TYPE(list_free_deep, void(List *));
SAME_TYPE(list_copy, List *(const List *));
SAME_TYPE(list_copy_head, List *(const List *, int));
SAME_TYPE(list_copy_tail, List *(const List *, int));
SAME_TYPE(list_copy_deep, List *(const List *));
SAME_TYPE(list_sort, void(List *, list_sort_comparator));
SAME_TYPE(list_int_cmp, int(const ListCell *, const ListCell *));
SAME_TYPE(list_oid_cmp, int(const ListCell *, const ListCell *));
SAME_TYPE(equal, bool(const void *, const void *));
SAME_TYPE(copyObjectImpl, void *(const void *));
SAME_TYPE(makeInteger, Integer *(int));
SAME_TYPE(makeFloat, Float *(char *));
SAME_TYPE(makeBoolean, Boolean *(bool));
SAME_TYPE(makeString, String *(char *));
SAME_TYPE(makeBitString, BitString *(char *));

/* Text values and list splitting. */
SAME_TYPE(cstring_to_text, text *(const char *));
SAME_TYPE(cstring_to_text_with_len, text *(const char *, int));
SAME_TYPE(text_to_cstring, char *(const text *));
SAME_TYPE(text_to_cstring_buffer, void(const text *, char *, size_t));
SAME_TYPE(pg_detoast_datum, struct varlena *(struct varlena *));
SAME_TYPE(pg_detoast_datum_copy, struct varlena *(struct varlena *));
SAME_TYPE(pg_detoast_datum_packed, struct varlena *(struct varlena *));
SAME_TYPE(SplitIdentifierString, bool(char *, char, List **));
SAME_TYPE(SplitDirectoriesString, bool(char *, char, List **));
SAME_TYPE(SplitGUCList, bool(char *, char, List **));

/* port.h. */
SAME_TYPE(pg_strcasecmp, int(const char *, const char *));
SAME_TYPE(pg_strncasecmp, int(const char *, const char *, size_t));
SAME_TYPE(pg_toupper, unsigned char(unsigned char));
SAME_TYPE(pg_tolower, unsigned char(unsigned char));
SAME_TYPE(pg_ascii_toupper, unsigned char(unsigned char));
SAME_TYPE(pg_ascii_tolower, unsigned char(unsigned char));
SAME_TYPE(strlcpy, size_t(char *, const char *, size_t));
SAME_TYPE(strlcat, size_t(char *, const char *, size_t));
SAME_TYPE(pg_usleep, void(long));
SAME_TYPE(pg_set_noblock, bool(pgsocket));
SAME_TYPE(pg_set_block, bool(pgsocket));
SAME_TYPE(pg_vsprintf, int(char *, const char *, va_list));
SAME_TYPE(pg_vfprintf, int(FILE *, const char *, va_list));
SAME_TYPE(pg_vprintf, int(const char *, va_list));
SAME_TYPE(pg_strerror, char *(int));
SAME_TYPE(pg_strerror_r, char *(int, char *, size_t));
SAME_TYPE(pg_qsort, void(void *, size_t, size_t, int (*)(const void *, const void *)));

/* Files. */
SAME_TYPE(max_files_per_process, int);
SAME_TYPE(AllocateFile, FILE *(const char *, const char *));
SAME_TYPE(FreeFile, int(FILE *));
SAME_TYPE(OpenPipeStream, FILE *(const char *, const char *));
SAME_TYPE(ClosePipeStream, int(FILE *));
SAME_TYPE(AllocateDir, DIR *(const char *));
SAME_TYPE(ReadDir, struct dirent *(DIR *, const char *));
SAME_TYPE(ReadDirExtended, struct dirent *(DIR *, const char *, int));
SAME_TYPE(FreeDir, int(DIR *));
SAME_TYPE(OpenTransientFile, int(const char *, int));
SAME_TYPE(OpenTransientFilePerm, int(const char *, int, mode_t));
SAME_TYPE(CloseTransientFile, int(int));
SAME_TYPE(BasicOpenFile, int(const char *, int));
SAME_TYPE(BasicOpenFilePerm, int(const char *, int, mode_t));
SAME_TYPE(AtEOXact_Files, void(bool));
SAME_TYPE(fsync_fname, void(const char *, bool));
SAME_TYPE(durable_rename, int(const char *, const char *, int));
SAME_TYPE(durable_unlink, int(const char *, int));

/* Resource owners. */
SAME_TYPE(CurrentResourceOwner, ResourceOwner);
SAME_TYPE(CurTransactionResourceOwner, ResourceOwner);
SAME_TYPE(TopTransactionResourceOwner, ResourceOwner);
SAME_TYPE(AuxProcessResourceOwner, ResourceOwner);
SAME_TYPE(ResourceOwnerCreate, ResourceOwner(ResourceOwner, const char *));
SAME_TYPE(ResourceOwnerRelease, void(ResourceOwner, ResourceReleasePhase, bool, bool));
SAME_TYPE(ResourceOwnerDelete, void(ResourceOwner));
SAME_TYPE(ResourceOwnerGetParent, ResourceOwner(ResourceOwner));
SAME_TYPE(ResourceOwnerNewParent, void(ResourceOwner, ResourceOwner));
SAME_TYPE(RegisterResourceReleaseCallback, void(ResourceReleaseCallback, void *));
SAME_TYPE(UnregisterResourceReleaseCallback, void(ResourceReleaseCallback, void *));
SAME_TYPE(CreateAuxProcessResourceOwner, void(void));
SAME_TYPE(ReleaseAuxProcessResources, void(bool));

/* Settings. */
SAME_TYPE(SetConfigOption, void(const char *, const char *, GucContext, GucSource));
SAME_TYPE(set_config_option,
		  int(const char *, const char *, GucContext, GucSource, GucAction, bool, int, bool));
SAME_TYPE(GetConfigOptionResetString, const char *(const char *));
SAME_TYPE(cluster_name, char *);
SAME_TYPE(log_min_messages, int);
SAME_TYPE(Dynamic_library_path, char *);
SAME_TYPE(shared_preload_libraries_string, char *);
SAME_TYPE(work_mem, int);
SAME_TYPE(maintenance_work_mem, int);
SAME_TYPE(restart_after_crash, bool);
SAME_TYPE(update_process_title, bool);

/* The process: identity, title, memory contexts. */
SAME_TYPE(MyBackendType, BackendType);
SAME_TYPE(GetBackendTypeDesc, const char *(BackendType));
SAME_TYPE(MyStartTime, pg_time_t);
SAME_TYPE(MyStartTimestamp, TimestampTz);
SAME_TYPE(PostmasterPid, pid_t);
SAME_TYPE(IsPostmasterEnvironment, bool);
SAME_TYPE(IsBinaryUpgrade, bool);
SAME_TYPE(DataDir, char *);
SAME_TYPE(RecoveryInProgress, bool(void));
SAME_TYPE(set_ps_display, void(const char *));
SAME_TYPE(get_ps_display, const char *(int *));
SAME_TYPE(init_ps_display, void(const char *));
SAME_TYPE(CacheMemoryContext, MemoryContext);
SAME_TYPE(CreateCacheMemoryContext, void(void));
SAME_TYPE(ErrorContext, MemoryContext);
SAME_TYPE(MessageContext, MemoryContext);
SAME_TYPE(PortalContext, MemoryContext);
SAME_TYPE(PostmasterContext, MemoryContext);
/* SPI, transactions, cursors and parameter lists. */
SAME_TYPE(MyDatabaseId, Oid);
SAME_TYPE(MyDatabaseTableSpace, Oid);
SAME_TYPE(DefaultXactIsoLevel, int);
SAME_TYPE(XactIsoLevel, int);
SAME_TYPE(DefaultXactReadOnly, bool);
SAME_TYPE(XactReadOnly, bool);
SAME_TYPE(DefaultXactDeferrable, bool);
SAME_TYPE(XactDeferrable, bool);
SAME_TYPE(TopTransactionContext, MemoryContext);
SAME_TYPE(CurTransactionContext, MemoryContext);
SAME_TYPE(PortalContext, MemoryContext);
SAME_TYPE(CacheMemoryContext, MemoryContext);
SAME_TYPE(pgstat_report_appname, void(const char *));
SAME_TYPE(RegisterXactCallback, void(XactCallback, void *));
SAME_TYPE(UnregisterXactCallback, void(XactCallback, void *));
SAME_TYPE(RegisterSubXactCallback, void(SubXactCallback, void *));
SAME_TYPE(UnregisterSubXactCallback, void(SubXactCallback, void *));
SAME_TYPE(BeginInternalSubTransaction, void(const char *));
SAME_TYPE(ReleaseCurrentSubTransaction, void(void));
SAME_TYPE(RollbackAndReleaseCurrentSubTransaction, void(void));
SAME_TYPE(GetTopTransactionId, TransactionId(void));
SAME_TYPE(GetTopTransactionIdIfAny, TransactionId(void));
SAME_TYPE(GetCurrentTransactionId, TransactionId(void));
SAME_TYPE(GetCurrentTransactionIdIfAny, TransactionId(void));
SAME_TYPE(GetCurrentSubTransactionId, SubTransactionId(void));
SAME_TYPE(GetCurrentTransactionNestLevel, int(void));
SAME_TYPE(GetCurrentTransactionStartTimestamp, TimestampTz(void));
SAME_TYPE(IsTransactionBlock, bool(void));
SAME_TYPE(IsTransactionOrTransactionBlock, bool(void));
SAME_TYPE(IsSubTransaction, bool(void));
SAME_TYPE(IsAbortedTransactionBlockState, bool(void));
SAME_TYPE(TransactionBlockStatusCode, char(void));
SAME_TYPE(AbortOutOfAnyTransaction, void(void));
SAME_TYPE(CommandCounterIncrement, void(void));
SAME_TYPE(SPI_connect_ext, int(int));
SAME_TYPE(SPI_execute_extended, int(const char *, const SPIExecuteOptions *));
SAME_TYPE(SPI_prepare, SPIPlanPtr(const char *, int, Oid *));
SAME_TYPE(SPI_prepare_cursor, SPIPlanPtr(const char *, int, Oid *, int));
SAME_TYPE(SPI_prepare_params, SPIPlanPtr(const char *, ParserSetupHook, void *, int));
SAME_TYPE(SPI_execute_plan, int(SPIPlanPtr, Datum *, const char *, bool, long));
SAME_TYPE(SPI_execute_plan_extended, int(SPIPlanPtr, const SPIExecuteOptions *));
SAME_TYPE(SPI_execute_plan_with_paramlist, int(SPIPlanPtr, ParamListInfo, bool, long));
SAME_TYPE(SPI_execp, int(SPIPlanPtr, Datum *, const char *, long));
SAME_TYPE(SPI_keepplan, int(SPIPlanPtr));
SAME_TYPE(SPI_saveplan, SPIPlanPtr(SPIPlanPtr));
SAME_TYPE(SPI_freeplan, int(SPIPlanPtr));
SAME_TYPE(SPI_getargtypeid, Oid(SPIPlanPtr, int));
SAME_TYPE(SPI_getargcount, int(SPIPlanPtr));
SAME_TYPE(SPI_is_cursor_plan, bool(SPIPlanPtr));
SAME_TYPE(SPI_plan_is_valid, bool(SPIPlanPtr));
SAME_TYPE(SPI_cursor_open, Portal(const char *, SPIPlanPtr, Datum *, const char *, bool));
SAME_TYPE(SPI_cursor_open_with_args,
		  Portal(const char *, const char *, int, Oid *, Datum *, const char *, bool, int));
SAME_TYPE(SPI_cursor_open_with_paramlist, Portal(const char *, SPIPlanPtr, ParamListInfo, bool));
SAME_TYPE(SPI_cursor_find, Portal(const char *));
SAME_TYPE(SPI_cursor_fetch, void(Portal, bool, long));
SAME_TYPE(SPI_cursor_move, void(Portal, bool, long));
SAME_TYPE(SPI_scroll_cursor_fetch, void(Portal, FetchDirection, long));
SAME_TYPE(SPI_scroll_cursor_move, void(Portal, FetchDirection, long));
SAME_TYPE(SPI_cursor_close, void(Portal));
SAME_TYPE(SPI_start_transaction, void(void));
SAME_TYPE(SPI_commit, void(void));
SAME_TYPE(SPI_commit_and_chain, void(void));
SAME_TYPE(SPI_rollback, void(void));
SAME_TYPE(SPI_rollback_and_chain, void(void));
SAME_TYPE(SPI_inside_nonatomic_context, bool(void));
SAME_TYPE(makeParamList, ParamListInfo(int));

/* Dynamic shared memory. */
SAME_TYPE(dsm_create, dsm_segment *(Size, int));
SAME_TYPE(dsm_attach, dsm_segment *(dsm_handle));
SAME_TYPE(dsm_detach, void(dsm_segment *));
SAME_TYPE(dsm_detach_all, void(void));
SAME_TYPE(dsm_backend_shutdown, void(void));
SAME_TYPE(dsm_estimate_size, size_t(void));
SAME_TYPE(dsm_pin_mapping, void(dsm_segment *));
SAME_TYPE(dsm_unpin_mapping, void(dsm_segment *));
SAME_TYPE(dsm_pin_segment, void(dsm_segment *));
SAME_TYPE(dsm_unpin_segment, void(dsm_handle));
SAME_TYPE(dsm_find_mapping, dsm_segment *(dsm_handle));
SAME_TYPE(dsm_segment_address, void *(dsm_segment *));
SAME_TYPE(dsm_segment_map_length, Size(dsm_segment *));
SAME_TYPE(dsm_segment_handle, dsm_handle(dsm_segment *));
SAME_TYPE(on_dsm_detach, void(dsm_segment *, on_dsm_detach_callback, Datum));
SAME_TYPE(cancel_on_dsm_detach, void(dsm_segment *, on_dsm_detach_callback, Datum));
SAME_TYPE(reset_on_dsm_detach, void(void));
SAME_TYPE(dynamic_shared_memory_type, int);
SAME_TYPE(min_dynamic_shared_memory, int);
SAME_TYPE(shm_toc_create, shm_toc *(uint64, void *, Size));
SAME_TYPE(shm_toc_attach, shm_toc *(uint64, void *));
SAME_TYPE(shm_toc_allocate, void *(shm_toc *, Size));
SAME_TYPE(shm_toc_freespace, Size(shm_toc *));
SAME_TYPE(shm_toc_insert, void(shm_toc *, uint64, void *));
SAME_TYPE(shm_toc_lookup, void *(shm_toc *, uint64, bool));
SAME_TYPE(shm_toc_estimate, Size(shm_toc_estimator *));

/* Message queues and PGPROCs. */
SAME_TYPE(MyProc, PGPROC *);
SAME_TYPE(BackendPidGetProc, PGPROC *(int));
SAME_TYPE(shm_mq_create, shm_mq *(void *, Size));
SAME_TYPE(shm_mq_set_receiver, void(shm_mq *, PGPROC *));
SAME_TYPE(shm_mq_set_sender, void(shm_mq *, PGPROC *));
SAME_TYPE(shm_mq_get_receiver, PGPROC *(shm_mq *));
SAME_TYPE(shm_mq_get_sender, PGPROC *(shm_mq *));
SAME_TYPE(shm_mq_attach, shm_mq_handle *(shm_mq *, dsm_segment *, BackgroundWorkerHandle *));
SAME_TYPE(shm_mq_set_handle, void(shm_mq_handle *, BackgroundWorkerHandle *));
SAME_TYPE(shm_mq_detach, void(shm_mq_handle *));
SAME_TYPE(shm_mq_get_queue, shm_mq *(shm_mq_handle *));
SAME_TYPE(shm_mq_send, shm_mq_result(shm_mq_handle *, Size, const void *, bool, bool));
SAME_TYPE(shm_mq_sendv, shm_mq_result(shm_mq_handle *, shm_mq_iovec *, int, bool, bool));
SAME_TYPE(shm_mq_receive, shm_mq_result(shm_mq_handle *, Size *, void **, bool));
SAME_TYPE(shm_mq_wait_for_attach, shm_mq_result(shm_mq_handle *));
SAME_TYPE(shm_mq_minimum_size, const Size);

/* Hash tables and hash functions. */
SAME_TYPE(hash_create, HTAB *(const char *, long, const HASHCTL *, int));
SAME_TYPE(hash_destroy, void(HTAB *));
SAME_TYPE(hash_stats, void(const char *, HTAB *));
SAME_TYPE(hash_search, void *(HTAB *, const void *, HASHACTION, bool *));
SAME_TYPE(get_hash_value, uint32(HTAB *, const void *));
SAME_TYPE(hash_search_with_hash_value, void *(HTAB *, const void *, uint32, HASHACTION, bool *));
SAME_TYPE(hash_update_hash_key, bool(HTAB *, void *, const void *));
SAME_TYPE(hash_get_num_entries, long(HTAB *));
SAME_TYPE(hash_seq_init, void(HASH_SEQ_STATUS *, HTAB *));
SAME_TYPE(hash_seq_search, void *(HASH_SEQ_STATUS *));
SAME_TYPE(hash_seq_term, void(HASH_SEQ_STATUS *));
SAME_TYPE(hash_freeze, void(HTAB *));
SAME_TYPE(hash_estimate_size, Size(long, Size));
SAME_TYPE(hash_select_dirsize, long(long));
SAME_TYPE(hash_get_shared_size, Size(HASHCTL *, int));
SAME_TYPE(ShmemInitHash, HTAB *(const char *, long, long, HASHCTL *, int));
SAME_TYPE(ShmemAlloc, void *(Size));
SAME_TYPE(ShmemAllocNoError, void *(Size));
SAME_TYPE(ShmemAllocUnlocked, void *(Size));
SAME_TYPE(hash_bytes, uint32(const unsigned char *, int));
SAME_TYPE(hash_bytes_uint32, uint32(uint32));
SAME_TYPE(tag_hash, uint32(const void *, Size));
SAME_TYPE(uint32_hash, uint32(const void *, Size));
SAME_TYPE(string_hash, uint32(const void *, Size));

/* Condition variables. */
SAME_TYPE(ConditionVariableInit, void(ConditionVariable *));
SAME_TYPE(ConditionVariableSleep, void(ConditionVariable *, uint32));
SAME_TYPE(ConditionVariableTimedSleep, bool(ConditionVariable *, long, uint32));
SAME_TYPE(ConditionVariableCancelSleep, void(void));
SAME_TYPE(ConditionVariablePrepareToSleep, void(ConditionVariable *));
SAME_TYPE(ConditionVariableSignal, void(ConditionVariable *));
SAME_TYPE(ConditionVariableBroadcast, void(ConditionVariable *));

/* Dynamic shared areas and their hash tables. */
SAME_TYPE(dsa_create, dsa_area *(int));
SAME_TYPE(dsa_create_in_place, dsa_area *(void *, size_t, int, dsm_segment *));
SAME_TYPE(dsa_attach, dsa_area *(dsa_handle));
SAME_TYPE(dsa_attach_in_place, dsa_area *(void *, dsm_segment *));
SAME_TYPE(dsa_release_in_place, void(void *));
SAME_TYPE(dsa_on_dsm_detach_release_in_place, void(dsm_segment *, Datum));
SAME_TYPE(dsa_on_shmem_exit_release_in_place, void(int, Datum));
SAME_TYPE(dsa_pin_mapping, void(dsa_area *));
SAME_TYPE(dsa_detach, void(dsa_area *));
SAME_TYPE(dsa_pin, void(dsa_area *));
SAME_TYPE(dsa_unpin, void(dsa_area *));
SAME_TYPE(dsa_set_size_limit, void(dsa_area *, size_t));
SAME_TYPE(dsa_minimum_size, size_t(void));
SAME_TYPE(dsa_get_handle, dsa_handle(dsa_area *));
SAME_TYPE(dsa_allocate_extended, dsa_pointer(dsa_area *, size_t, int));
SAME_TYPE(dsa_free, void(dsa_area *, dsa_pointer));
SAME_TYPE(dsa_get_address, void *(dsa_area *, dsa_pointer));
SAME_TYPE(dsa_trim, void(dsa_area *));
SAME_TYPE(dsa_dump, void(dsa_area *));
SAME_TYPE(dshash_create, dshash_table *(dsa_area *, const dshash_parameters *, void *));
SAME_TYPE(dshash_attach,
		  dshash_table *(dsa_area *, const dshash_parameters *, dshash_table_handle, void *));
SAME_TYPE(dshash_detach, void(dshash_table *));
SAME_TYPE(dshash_get_hash_table_handle, dshash_table_handle(dshash_table *));
SAME_TYPE(dshash_destroy, void(dshash_table *));
SAME_TYPE(dshash_find, void *(dshash_table *, const void *, bool));
SAME_TYPE(dshash_find_or_insert, void *(dshash_table *, const void *, bool *));
SAME_TYPE(dshash_delete_key, bool(dshash_table *, const void *));
SAME_TYPE(dshash_delete_entry, void(dshash_table *, void *));
SAME_TYPE(dshash_release_lock, void(dshash_table *, void *));
SAME_TYPE(dshash_seq_init, void(dshash_seq_status *, dshash_table *, bool));
SAME_TYPE(dshash_seq_next, void *(dshash_seq_status *));
SAME_TYPE(dshash_seq_term, void(dshash_seq_status *));
SAME_TYPE(dshash_delete_current, void(dshash_seq_status *));
SAME_TYPE(dshash_memcmp, int(const void *, const void *, size_t, void *));
SAME_TYPE(dshash_memhash, dshash_hash(const void *, size_t, void *));
SAME_TYPE(dshash_dump, void(dshash_table *));

/* Calling another module's function. */
SAME_TYPE(load_external_function, void *(const char *, const char *, bool, void **));
SAME_TYPE(lookup_external_function, void *(void *, const char *));
