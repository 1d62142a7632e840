/*
 * bgw_bench.c -- the libbgworker side of the benchmark: a module whose static "driver" worker
 * runs the shapes (common/shapes.c) inside bgworkerd's world, as a PostgreSQL module would.
 *
 * Loaded with shared_preload_libraries=bgw_bench. _PG_init reads BGW_BENCH_DIR from the
 * environment and hands it to the driver in bgw_extra. The driver reads DIR/plan (lines
 * "KEY SHAPE ITERATIONS ARG"), writes the samples of each line to DIR/ours.KEY ("metric value"
 * lines, renamed into place when complete), then DIR/ours.done, and exits 0 (or 1 with an
 * ERROR logged, leaving DIR/ours.failed).
 */
#include "postgres.h"

#include "fmgr.h"
#include "miscadmin.h"
#include "postmaster/bgworker.h"
#include "storage/ipc.h"

#include "shapes.h"

PG_MODULE_MAGIC;

void		_PG_init(void);
PGDLLEXPORT void bgw_bench_driver(Datum main_arg) pg_attribute_noreturn();

static void
emit_line(void *ctx, const char *metric, double value)
{
	fprintf((FILE *) ctx, "%s %.3f\n", metric, value);
}

static void
touch(const char *dir, const char *name)
{
	char		path[MAXPGPATH];
	FILE	   *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	if (f != NULL)
		fclose(f);
}

static void
mark_failed(int code, Datum arg)
{
	(void) arg;
	if (code != 0)
		touch(MyBgworkerEntry->bgw_extra, "ours.failed");
}

void
bgw_bench_driver(Datum main_arg)
{
	const char *dir = MyBgworkerEntry->bgw_extra;
	char		path[MAXPGPATH];
	char		final[MAXPGPATH];
	char		key[64],
				shape[16];
	int			iters,
				arg;
	FILE	   *plan;

	(void) main_arg;
	on_proc_exit(mark_failed, (Datum) 0);
	BackgroundWorkerUnblockSignals();
	bench_setup("bgw_bench", dir);

	snprintf(path, sizeof(path), "%s/plan", dir);
	plan = fopen(path, "r");
	if (plan == NULL)
		elog(ERROR, "could not open bench plan \"%s\": %m", path);
	for (int line = 1; fscanf(plan, "%63s %15s %d %d", key, shape, &iters, &arg) == 4; line++)
	{
		FILE	   *out;

		/* Per plan line: a key may come back (shape 8's blocks alternate). */
		snprintf(path, sizeof(path), "%s/ours.%d.%s.partial", dir, line, key);
		snprintf(final, sizeof(final), "%s/ours.%d.%s", dir, line, key);
		out = fopen(path, "w");
		if (out == NULL)
			elog(ERROR, "could not create \"%s\": %m", path);
		elog(LOG, "bench: running %s (%s, %d iterations, arg %d)", key, shape, iters, arg);
		bench_run(shape, iters, arg, emit_line, out);
		if (fclose(out) != 0 || rename(path, final) != 0)
			elog(ERROR, "could not write \"%s\": %m", final);
	}
	fclose(plan);
	touch(dir, "ours.done");
	proc_exit(0);
}

void
_PG_init(void)
{
	BackgroundWorker worker;
	const char *dir = getenv("BGW_BENCH_DIR");

	if (!process_shared_preload_libraries_in_progress)
		return;
	if (dir == NULL || dir[0] == '\0' || strlen(dir) >= BGW_EXTRALEN - 32)
	{
		elog(WARNING, "bgw_bench: BGW_BENCH_DIR is unset or too long; no driver registered");
		return;
	}

	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = BGW_NEVER_RESTART;
	snprintf(worker.bgw_library_name, BGW_MAXLEN, "bgw_bench");
	snprintf(worker.bgw_function_name, BGW_MAXLEN, "bgw_bench_driver");
	snprintf(worker.bgw_name, BGW_MAXLEN, "bench driver");
	snprintf(worker.bgw_type, BGW_MAXLEN, "bench driver");
	snprintf(worker.bgw_extra, BGW_EXTRALEN, "%s", dir);
	RegisterBackgroundWorker(&worker);
}
