/*
 * pg_bgw_bench.c -- the PostgreSQL 15 side of the benchmark: a SQL function that runs one shape
 * (../common/shapes.c, the same code the libbgworker side runs) in the calling backend, which
 * registers the dynamic workers and waits on their handles as their bgw_notify_pid.
 *
 * Preload it (shared_preload_libraries) so launched workers find it already mapped, as the
 * libbgworker side's module is.
 */
#include "postgres.h"

#include "fmgr.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"

#include "shapes.h"

PG_MODULE_MAGIC;

PG_FUNCTION_INFO_V1(bgw_bench_run);

static void
append_sample(void *ctx, const char *metric, double value)
{
	appendStringInfo((StringInfo) ctx, "%s %.3f\n", metric, value);
}

Datum
bgw_bench_run(PG_FUNCTION_ARGS)
{
	char	   *shape = text_to_cstring(PG_GETARG_TEXT_PP(0));
	int32		iterations = PG_GETARG_INT32(1);
	int32		arg = PG_GETARG_INT32(2);
	char	   *workdir = text_to_cstring(PG_GETARG_TEXT_PP(3));
	char	   *library = text_to_cstring(PG_GETARG_TEXT_PP(4));
	StringInfoData out;

	initStringInfo(&out);
	bench_setup(library, workdir);
	bench_run(shape, iterations, arg, append_sample, &out);
	PG_RETURN_TEXT_P(cstring_to_text(out.data));
}
