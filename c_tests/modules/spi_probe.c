/*
 * spi_probe.c -- SPI test worker, registered through the probe module with lib=spi_probe,
 * func=spi_probe_main; it connects to the `postgres` database and bgw_extra says what to do:
 *
 *   suite     every SPI call on a table spi_t, each result logged as `spi_probe: <what> <result>`,
 *             in two transactions (the second one ends in a caught server error, rolled back);
 *             then `spi_probe: done` and exit 0
 *   uncaught  in one transaction: INSERT INTO spi_u VALUES (1), then a statement that fails on the
 *             server, uncaught: the worker exits 1 and the server rolls the INSERT back
 */
#include "postgres.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "access/xact.h"
#include "lib/stringinfo.h"
#include "executor/spi.h"
#include "postmaster/bgworker.h"
#include "storage/ipc.h"
#include "utils/builtins.h"
#include "utils/elog.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"

#include <string.h>

PG_MODULE_MAGIC;

PGDLLEXPORT void spi_probe_main(Datum main_arg);

/* The SQLSTATE's five characters. */
static const char *
sqlstate(int code)
{
	static char buf[6];
	int			i;

	for (i = 0; i < 5; i++)
	{
		buf[i] = PGUNSIXBIT(code);
		code >>= 6;
	}
	buf[5] = '\0';
	return buf;
}

static int
run(const char *what, const char *sql, long count)
{
	int			rc = SPI_execute(sql, false, count);

	elog(LOG, "spi_probe: %s %s processed=" UINT64_FORMAT " tuptable=%s", what,
		 SPI_result_code_string(rc), SPI_processed, SPI_tuptable ? "set" : "null");
	return rc;
}

/* Logs every row of SPI_tuptable through SPI_getbinval (by type) and SPI_getvalue. */
static void
log_rows(const char *what)
{
	TupleDesc	td = SPI_tuptable->tupdesc;
	uint64		r;
	int			c;

	for (r = 0; r < SPI_processed; r++)
	{
		HeapTuple	tup = SPI_tuptable->vals[r];
		StringInfoData bin;
		StringInfoData txt;

		initStringInfo(&bin);
		initStringInfo(&txt);
		for (c = 1; c <= td->natts; c++)
		{
			Form_pg_attribute att = TupleDescAttr(td, c - 1);
			bool		isnull;
			Datum		d;
			char	   *v = SPI_getvalue(tup, td, c);

			appendStringInfo(&txt, " %s=%s", NameStr(att->attname), v ? v : "NULL");
			if (att->atttypid == NUMERICOID)
				continue;
			d = SPI_getbinval(tup, td, c, &isnull);
			if (isnull)
			{
				appendStringInfo(&bin, " %s=NULL", NameStr(att->attname));
				continue;
			}
			switch (att->atttypid)
			{
				case INT2OID:
					appendStringInfo(&bin, " %s=%d", NameStr(att->attname), (int) DatumGetInt16(d));
					break;
				case INT4OID:
					appendStringInfo(&bin, " %s=%d", NameStr(att->attname), DatumGetInt32(d));
					break;
				case INT8OID:
					appendStringInfo(&bin, " %s=" INT64_FORMAT, NameStr(att->attname), DatumGetInt64(d));
					break;
				case FLOAT4OID:
					appendStringInfo(&bin, " %s=%g", NameStr(att->attname), (double) DatumGetFloat4(d));
					break;
				case FLOAT8OID:
					appendStringInfo(&bin, " %s=%g", NameStr(att->attname), DatumGetFloat8(d));
					break;
				case BOOLOID:
					appendStringInfo(&bin, " %s=%s", NameStr(att->attname), DatumGetBool(d) ? "true" : "false");
					break;
				case OIDOID:
					appendStringInfo(&bin, " %s=%u", NameStr(att->attname), DatumGetObjectId(d));
					break;
				case TEXTOID:
				case VARCHAROID:
					appendStringInfo(&bin, " %s=%s/%d", NameStr(att->attname), TextDatumGetCString(d),
									 (int) VARSIZE_ANY_EXHDR(DatumGetPointer(d)));
					break;
				default:
					appendStringInfo(&bin, " %s=?", NameStr(att->attname));
			}
			{
				/* heap_getattr must agree with SPI_getbinval. */
				bool		isnull2;
				Datum		d2 = heap_getattr(tup, c, td, &isnull2);

				if (d2 != d || isnull2)
					appendStringInfo(&bin, "(heap_getattr differs)");
			}
		}
		elog(LOG, "spi_probe: %s row %d bin:%s", what, (int) r, bin.data);
		elog(LOG, "spi_probe: %s row %d txt:%s", what, (int) r, txt.data);
	}
}

/* Runs sql inside PG_TRY and logs the error it raised, keeping its SQLSTATE. */
static void
expect_error(const char *what, const char *sql)
{
	MemoryContext oldcontext = CurrentMemoryContext;

	PG_TRY();
	{
		run(what, sql, 0);
		elog(LOG, "spi_probe: %s raised nothing", what);
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(oldcontext);
		edata = CopyErrorData();
		FlushErrorState();
		elog(LOG, "spi_probe: %s caught sqlstate=%s message=%s detail=%s", what,
			 sqlstate(edata->sqlerrcode), edata->message,
			 edata->detail ? edata->detail : "NULL");
		FreeErrorData(edata);
	}
	PG_END_TRY();
}

static void
with_args(void)
{
	Oid			types[4] = {INT4OID, TEXTOID, FLOAT8OID, BOOLOID};
	Datum		values[4];
	Oid			t8[1] = {INT8OID};
	Datum		v8[1];
	int			rc;

	values[0] = Int32GetDatum(40);
	values[1] = PointerGetDatum(cstring_to_text("it's $1"));
	values[2] = Float8GetDatum(-2.25);
	values[3] = BoolGetDatum(true);
	rc = SPI_execute_with_args("INSERT INTO spi_t (i, txt, f, ok) VALUES ($1, $2, $3, $4) RETURNING i, txt, f, ok",
							   4, types, values, NULL, false, 0);
	elog(LOG, "spi_probe: args insert %s processed=" UINT64_FORMAT, SPI_result_code_string(rc),
		 SPI_processed);
	log_rows("args insert");
	rc = SPI_execute_with_args("INSERT INTO spi_t (i, txt, f, ok) VALUES ($1, $2, $3, $4) RETURNING i, txt, f, ok",
							   4, types, values, " n n", false, 0);
	elog(LOG, "spi_probe: args nulls %s processed=" UINT64_FORMAT, SPI_result_code_string(rc),
		 SPI_processed);
	log_rows("args nulls");
	v8[0] = Int64GetDatum(INT64CONST(5000000000));
	rc = SPI_execute_with_args("SELECT count(*) FROM spi_t WHERE b < $1 OR b IS NULL", 1, t8, v8, NULL,
							   true, 0);
	elog(LOG, "spi_probe: args select %s processed=" UINT64_FORMAT, SPI_result_code_string(rc),
		 SPI_processed);
	log_rows("args select");
}

static void
helpers(void)
{
	TupleDesc	td;
	char	   *v;

	run("helpers select", "SELECT i, txt, n FROM spi_t LIMIT 1", 0);
	td = SPI_tuptable->tupdesc;
	elog(LOG, "spi_probe: fnumber txt=%d nope=%d", SPI_fnumber(td, "txt"), SPI_fnumber(td, "nope"));
	elog(LOG, "spi_probe: fname 1=%s 3=%s", SPI_fname(td, 1), SPI_fname(td, 3));
	elog(LOG, "spi_probe: gettype 1=%s 2=%s 3=%s typeid=%u,%u,%u", SPI_gettype(td, 1), SPI_gettype(td, 2),
		 SPI_gettype(td, 3), SPI_gettypeid(td, 1), SPI_gettypeid(td, 2), SPI_gettypeid(td, 3));
	v = SPI_getvalue(SPI_tuptable->vals[0], td, 9);
	elog(LOG, "spi_probe: getvalue out of range %s result=%s", v ? v : "NULL",
		 SPI_result_code_string(SPI_result));
	v = SPI_fname(td, 0);
	elog(LOG, "spi_probe: fname 0 %s result=%s", v ? v : "NULL", SPI_result_code_string(SPI_result));
	elog(LOG, "spi_probe: code strings %s %s %s", SPI_result_code_string(SPI_OK_UPDATE_RETURNING),
		 SPI_result_code_string(SPI_ERROR_UNCONNECTED), SPI_result_code_string(99));
}

static void
suite(void)
{
	MemoryContext before;
	int			rc;

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	before = CurrentMemoryContext;
	rc = SPI_connect();
	elog(LOG, "spi_probe: connect %s context %s", SPI_result_code_string(rc),
		 CurrentMemoryContext != before ? "switched" : "same");
	run("create", "CREATE TABLE spi_t (i int4, b int8, s int2, f float8, r float4, ok bool, "
		"txt text, v varchar(10), n numeric, o oid)", 0);
	run("insert", "INSERT INTO spi_t VALUES "
		"(1, 5000000000, -7, 1.5, 0.25, true, 'one', 'uno', 1.10, 42), "
		"(2, -1, 300, -1e300, -3.5, false, '', 'dos', 2, 0), "
		"(3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)", 0);
	run("select", "SELECT * FROM spi_t ORDER BY i", 0);
	elog(LOG, "spi_probe: select natts=%d numvals=" UINT64_FORMAT " types=%u,%u,%u,%u,%u,%u,%u,%u,%u,%u",
		 SPI_tuptable->tupdesc->natts, SPI_tuptable->numvals,
		 TupleDescAttr(SPI_tuptable->tupdesc, 0)->atttypid, TupleDescAttr(SPI_tuptable->tupdesc, 1)->atttypid,
		 TupleDescAttr(SPI_tuptable->tupdesc, 2)->atttypid, TupleDescAttr(SPI_tuptable->tupdesc, 3)->atttypid,
		 TupleDescAttr(SPI_tuptable->tupdesc, 4)->atttypid, TupleDescAttr(SPI_tuptable->tupdesc, 5)->atttypid,
		 TupleDescAttr(SPI_tuptable->tupdesc, 6)->atttypid, TupleDescAttr(SPI_tuptable->tupdesc, 7)->atttypid,
		 TupleDescAttr(SPI_tuptable->tupdesc, 8)->atttypid, TupleDescAttr(SPI_tuptable->tupdesc, 9)->atttypid);
	log_rows("select");
	run("count2", "SELECT i FROM spi_t ORDER BY i", 2);
	elog(LOG, "spi_probe: count2 numvals=" UINT64_FORMAT, SPI_tuptable->numvals);
	run("empty", "SELECT i FROM spi_t WHERE false", 0);
	run("update", "UPDATE spi_t SET s = s + 1 WHERE s IS NOT NULL", 0);
	run("update returning", "UPDATE spi_t SET s = s + 1 WHERE i = 1 RETURNING i, s", 0);
	log_rows("update returning");
	run("insert returning", "INSERT INTO spi_t (i, txt) VALUES (10, 'ten'), (11, 'eleven') RETURNING i, txt", 0);
	log_rows("insert returning");
	run("delete", "DELETE FROM spi_t WHERE i = 11", 0);
	run("delete returning", "DELETE FROM spi_t WHERE i = 10 RETURNING txt", 0);
	log_rows("delete returning");
	run("utility", "CREATE INDEX spi_t_i ON spi_t (i)", 0);
	run("show", "SHOW standard_conforming_strings", 0);
	log_rows("show");
	run("selinto", "CREATE TABLE spi_copy AS SELECT * FROM spi_t", 0);
	with_args();
	helpers();
	{
		/* numeric is text-only: SPI_getbinval refuses it. */
		MemoryContext oldcontext = CurrentMemoryContext;

		run("numeric", "SELECT n FROM spi_t WHERE i = 1", 0);
		PG_TRY();
		{
			bool		isnull;

			(void) SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
			elog(LOG, "spi_probe: numeric getbinval raised nothing");
		}
		PG_CATCH();
		{
			ErrorData  *edata;

			MemoryContextSwitchTo(oldcontext);
			edata = CopyErrorData();
			FlushErrorState();
			elog(LOG, "spi_probe: numeric getbinval caught sqlstate=%s", sqlstate(edata->sqlerrcode));
			FreeErrorData(edata);
		}
		PG_END_TRY();
	}
	rc = SPI_finish();
	elog(LOG, "spi_probe: finish %s context %s", SPI_result_code_string(rc),
		 CurrentMemoryContext == before ? "restored" : "other");
	elog(LOG, "spi_probe: finish again %s", SPI_result_code_string(SPI_finish()));
	elog(LOG, "spi_probe: unconnected execute %s", SPI_result_code_string(SPI_execute("SELECT 1", true, 0)));
	PopActiveSnapshot();
	CommitTransactionCommand();

	/* Second transaction: a server error caught, then the failed transaction rolled back. */
	StartTransactionCommand();
	SPI_connect();
	run("doomed insert", "INSERT INTO spi_t (i) VALUES (99)", 0);
	expect_error("division", "SELECT 1 / (i - i) FROM spi_t");
	expect_error("aborted", "SELECT 1");
	SPI_finish();
	AbortCurrentTransaction();

	StartTransactionCommand();
	SPI_connect();
	run("after rollback", "SELECT count(*) FROM spi_t WHERE i = 99", 0);
	log_rows("after rollback");
	SPI_finish();
	CommitTransactionCommand();
	elog(LOG, "spi_probe: done");
}

static void
uncaught(void)
{
	StartTransactionCommand();
	SPI_connect();
	run("uncaught insert", "INSERT INTO spi_u VALUES (1)", 0);
	run("uncaught failing", "SELECT * FROM no_such_table", 0);
	elog(LOG, "spi_probe: uncaught still running");
	SPI_finish();
	CommitTransactionCommand();
}

void
spi_probe_main(Datum main_arg)
{
	(void) main_arg;
	BackgroundWorkerUnblockSignals();
	BackgroundWorkerInitializeConnection("postgres", NULL, 0);
	elog(LOG, "spi_probe: connected mode=%s", MyBgworkerEntry->bgw_extra);
	if (strcmp(MyBgworkerEntry->bgw_extra, "suite") == 0)
		suite();
	else if (strcmp(MyBgworkerEntry->bgw_extra, "uncaught") == 0)
		uncaught();
	proc_exit(0);
}
