/*
 * shapes.c -- the benchmark shapes and the workers they launch, as a PostgreSQL module author
 * would write them; the identical source runs under libbgworker and under PostgreSQL 15.
 *
 * Start times are measured with CLOCK_MONOTONIC (one clock for every process on the machine):
 * a launched worker's first act is to read it and pwrite() the value into slot `bgw_main_arg`
 * of a stamp file named in bgw_extra, which the registrant has mapped MAP_SHARED. Workers are
 * forked by the supervisor, not by the registrant, so a file is the simplest shared place both
 * sides reach; it costs the worker three system calls after the timestamp is taken.
 */
#include "postgres.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>

#include "access/xact.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "postmaster/bgworker.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/lwlock.h"
#include "storage/dsm.h"
#include "storage/proc.h"
#include "storage/shm_mq.h"
#include "storage/shm_toc.h"
#include "port/atomics.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/wait_event.h"
#ifdef BGW_BENCH_PG
#include "storage/procsignal.h"
#endif

#include "shapes.h"
/* PostgreSQL 15's test_shm_mq regression calls (c_tests/modules/shm_mq_cases.h). */
#include "shm_mq_cases.h"

/* Stamp slots in the shared file; more than any shape keeps alive at once. */
#define STAMP_SLOTS 4096
/* Calls per timed round in shape 6. */
#define PID_CALLS_PER_ROUND 100000
/* Statements per sample in shapes 12 and 13. */
#define SPI_STATEMENTS 200
/* Rows per sample in shape 14, and per fetch. */
#define CURSOR_ROWS 1000000
#define CURSOR_CHUNK 1000
/* Lines each worker of shape 16 logs, and how long their lines may take to reach the file. */
#define LOG_BURST_LINES 25000
#define LOG_TIMEOUT_NS (120LL * 1000 * 1000 * 1000)
/* Bounded polls: a worker that never gets ready is an error, not a hang. */
#define READY_TIMEOUT_NS (30LL * 1000 * 1000 * 1000)

static char bench_library[BGW_MAXLEN];
static char stamp_path[BGW_EXTRALEN];
static volatile uint64 *stamps;
static int next_stamp;

static inline uint64
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64) ts.tv_sec * 1000000000ULL + (uint64) ts.tv_nsec;
}

/* ---- the launched workers ------------------------------------------------------------------ */

/* Records `value` in this worker's stamp slot. Runs in the worker. */
static void
write_stamp(Datum main_arg, uint64 value)
{
	int			fd = open(MyBgworkerEntry->bgw_extra, O_WRONLY);
	off_t		offset = (off_t) DatumGetInt32(main_arg) * (off_t) sizeof(uint64);

	if (fd < 0 || pwrite(fd, &value, sizeof(value), offset) != (ssize_t) sizeof(value))
		elog(ERROR, "bench worker could not write its stamp to \"%s\": %m",
			 MyBgworkerEntry->bgw_extra);
	close(fd);
}

/* Shapes 1 and 8: note the moment the entry function runs, then exit. */
void
bgw_bench_stamp_exit(Datum main_arg)
{
	uint64		entered = now_ns();

	write_stamp(main_arg, entered);
	proc_exit(0);
}

/* Shapes 3 and 5: exit at once. */
void
bgw_bench_exit(Datum main_arg)
{
	(void) main_arg;
	proc_exit(0);
}

/* Shape 15's storm: fail at once (exit code 1), to be restarted at once (restart time 0). */
void
bgw_bench_fail(Datum main_arg)
{
	(void) main_arg;
	proc_exit(1);
}

static volatile sig_atomic_t idle_terminate = false;

static void
idle_sigterm(SIGNAL_ARGS)
{
	int			save_errno = errno;

	idle_terminate = true;
	SetLatch(MyLatch);
	errno = save_errno;
}

/* Shapes 2, 4, 6, 7, 8: stamp "ready" once waiting on the latch is next, sleep until SIGTERM. */
void
bgw_bench_idle(Datum main_arg)
{
	pqsignal(SIGTERM, idle_sigterm);
	BackgroundWorkerUnblockSignals();
	write_stamp(main_arg, now_ns());
	while (!idle_terminate)
	{
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_EXIT_ON_PM_DEATH, -1L, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
	}
	proc_exit(0);
}

/* Shape 16: LOG_BURST_LINES lines as fast as elog goes; exit. */
void
bgw_bench_log_burst(Datum main_arg)
{
	int			idx = DatumGetInt32(main_arg);

	BackgroundWorkerUnblockSignals();
	for (int i = 0; i < LOG_BURST_LINES; i++)
		elog(LOG, "bench log line %d %d: the quick brown fox jumps over the lazy dog", idx, i);
	proc_exit(0);
}

/* Shape 17: stamp "ready", then a LOG line every millisecond until SIGTERM. */
void
bgw_bench_log_chatty(Datum main_arg)
{
	pqsignal(SIGTERM, idle_sigterm);
	BackgroundWorkerUnblockSignals();
	write_stamp(main_arg, now_ns());
	for (long n = 1; !idle_terminate; n++)
	{
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, 1L,
						 PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		elog(LOG, "bench chatty line %ld", n);
	}
	proc_exit(0);
}

/* Shape 11: connect to the database, note the moment the connection is ready, exit. */
void
bgw_bench_db_ready(Datum main_arg)
{
	BackgroundWorkerUnblockSignals();
	BackgroundWorkerInitializeConnection("postgres", NULL, 0);
	write_stamp(main_arg, now_ns());
	proc_exit(0);
}

/*
 * Shape 12: connect, then run SPI_STATEMENTS small statements in one transaction (after one
 * untimed statement); the loop's start goes to stamp slot main_arg, its end to slot
 * main_arg + 1.
 */
void
bgw_bench_spi_loop(Datum main_arg)
{
	uint64		start,
				end;

	BackgroundWorkerUnblockSignals();
	BackgroundWorkerInitializeConnection("postgres", NULL, 0);
	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "bench worker: SPI_connect failed");
	PushActiveSnapshot(GetTransactionSnapshot());
	/* One untimed statement first: the session's first query fills its catalog caches. */
	if (SPI_execute("SELECT 1", true, 0) != SPI_OK_SELECT)
		elog(ERROR, "bench worker: the first SELECT 1 failed");
	start = now_ns();
	for (int i = 0; i < SPI_STATEMENTS; i++)
	{
		int			rc = SPI_execute("SELECT 1", true, 0);

		if (rc != SPI_OK_SELECT || SPI_processed != 1)
			elog(ERROR, "bench worker: SELECT 1 returned %s", SPI_result_code_string(rc));
	}
	end = now_ns();
	SPI_finish();
	PopActiveSnapshot();
	CommitTransactionCommand();
	write_stamp(main_arg, start);
	write_stamp(Int32GetDatum(DatumGetInt32(main_arg) + 1), end);
	proc_exit(0);
}

/*
 * Shape 13: connect, prepare "SELECT $1" (an int4 parameter), run it once untimed, then
 * SPI_STATEMENTS times with SPI_execute_plan in one transaction, freeing each result; the
 * loop's start goes to stamp slot main_arg, its end to slot main_arg + 1.
 */
void
bgw_bench_spi_plan_loop(Datum main_arg)
{
	Oid			types[1] = {INT4OID};
	Datum		values[1] = {Int32GetDatum(1)};
	SPIPlanPtr	plan;
	uint64		start,
				end;

	BackgroundWorkerUnblockSignals();
	BackgroundWorkerInitializeConnection("postgres", NULL, 0);
	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "bench worker: SPI_connect failed");
	PushActiveSnapshot(GetTransactionSnapshot());
	plan = SPI_prepare("SELECT $1", 1, types);
	if (plan == NULL)
		elog(ERROR, "bench worker: SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
	if (SPI_execute_plan(plan, values, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "bench worker: the first execution failed");
	SPI_freetuptable(SPI_tuptable);
	start = now_ns();
	for (int i = 0; i < SPI_STATEMENTS; i++)
	{
		int			rc = SPI_execute_plan(plan, values, NULL, true, 0);

		if (rc != SPI_OK_SELECT || SPI_processed != 1)
			elog(ERROR, "bench worker: SELECT $1 returned %s", SPI_result_code_string(rc));
		SPI_freetuptable(SPI_tuptable);
	}
	end = now_ns();
	SPI_finish();
	PopActiveSnapshot();
	CommitTransactionCommand();
	write_stamp(main_arg, start);
	write_stamp(Int32GetDatum(DatumGetInt32(main_arg) + 1), end);
	proc_exit(0);
}

/*
 * Shape 14: connect, then read CURSOR_ROWS rows through a cursor, CURSOR_CHUNK at a time,
 * freeing each chunk; the open's start goes to stamp slot main_arg, the close's end to slot
 * main_arg + 1.
 */
void
bgw_bench_cursor_fetch(Datum main_arg)
{
	Portal		portal;
	uint64		start,
				end,
				rows = 0;

	BackgroundWorkerUnblockSignals();
	BackgroundWorkerInitializeConnection("postgres", NULL, 0);
	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "bench worker: SPI_connect failed");
	PushActiveSnapshot(GetTransactionSnapshot());
	/* One untimed statement first, as in shape 12. */
	if (SPI_execute("SELECT 1", true, 0) != SPI_OK_SELECT)
		elog(ERROR, "bench worker: the first SELECT 1 failed");
	start = now_ns();
	portal = SPI_cursor_open_with_args(NULL, "SELECT g FROM generate_series(1, 1000000) g", 0,
									   NULL, NULL, NULL, true, 0);
	for (;;)
	{
		SPI_cursor_fetch(portal, true, CURSOR_CHUNK);
		if (SPI_processed == 0)
			break;
		rows += SPI_processed;
		SPI_freetuptable(SPI_tuptable);
	}
	SPI_cursor_close(portal);
	end = now_ns();
	if (rows != CURSOR_ROWS)
		elog(ERROR, "bench worker: the cursor gave " UINT64_FORMAT " rows", rows);
	SPI_finish();
	PopActiveSnapshot();
	CommitTransactionCommand();
	write_stamp(main_arg, start);
	write_stamp(Int32GetDatum(DatumGetInt32(main_arg) + 1), end);
	proc_exit(0);
}

/* ---- the registrant's side ------------------------------------------------------------------- */

void
bench_setup(const char *library, const char *workdir)
{
	int			fd;
	void	   *map;

	if (strlen(library) >= BGW_MAXLEN)
		elog(ERROR, "bench library name \"%s\" is longer than %d bytes", library, BGW_MAXLEN - 1);
	strcpy(bench_library, library);
	if (snprintf(stamp_path, sizeof(stamp_path), "%s/stamps.%d", workdir, (int) getpid())
		>= (int) sizeof(stamp_path))
		elog(ERROR, "bench work directory \"%s\" is too long for bgw_extra", workdir);

	fd = open(stamp_path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || ftruncate(fd, STAMP_SLOTS * sizeof(uint64)) != 0)
		elog(ERROR, "could not create stamp file \"%s\": %m", stamp_path);
	map = mmap(NULL, STAMP_SLOTS * sizeof(uint64), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED)
		elog(ERROR, "could not map stamp file \"%s\": %m", stamp_path);
	close(fd);
	stamps = (volatile uint64 *) map;

	/* What makes handle waits wake as soon as the supervisor notifies us (bgw_notify_pid). */
	pqsignal(SIGUSR1, procsignal_sigusr1_handler);
}

/* A fresh stamp slot, cleared. */
static int
take_stamp(void)
{
	int			idx = next_stamp;

	next_stamp = (next_stamp + 1) % STAMP_SLOTS;
	stamps[idx] = 0;
	return idx;
}

/*
 * Registers a worker running `function` with stamp slot `idx` and `flags`; NULL when no slot
 * is free.
 */
static BackgroundWorkerHandle *
try_launch(const char *function, int idx, int flags)
{
	BackgroundWorker worker;
	BackgroundWorkerHandle *handle = NULL;

	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = flags;
	worker.bgw_start_time = BgWorkerStart_ConsistentState;
	worker.bgw_restart_time = BGW_NEVER_RESTART;
	strcpy(worker.bgw_library_name, bench_library);
	snprintf(worker.bgw_function_name, BGW_MAXLEN, "%s", function);
	snprintf(worker.bgw_name, BGW_MAXLEN, "bench %s %d", function, idx);
	snprintf(worker.bgw_type, BGW_MAXLEN, "bench");
	worker.bgw_main_arg = Int32GetDatum(idx);
	strcpy(worker.bgw_extra, stamp_path);
	worker.bgw_notify_pid = MyProcPid;
	if (!RegisterDynamicBackgroundWorker(&worker, &handle))
		return NULL;
	return handle;
}

/* As try_launch, but a full slot array is waited out (briefly) rather than reported. */
static BackgroundWorkerHandle *
launch_flags(const char *function, int idx, int flags)
{
	for (int attempt = 0; attempt < 20000; attempt++)
	{
		BackgroundWorkerHandle *handle = try_launch(function, idx, flags);

		if (handle != NULL)
			return handle;
		usleep(100);
	}
	elog(ERROR, "could not register a bench worker: no free slot for 2 s");
	return NULL;				/* not reached */
}

static BackgroundWorkerHandle *
launch(const char *function, int idx)
{
	return launch_flags(function, idx, BGWORKER_SHMEM_ACCESS);
}

#define DB_FLAGS (BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION)

static pid_t
wait_started(BackgroundWorkerHandle *handle)
{
	pid_t		pid = 0;
	BgwHandleStatus status = WaitForBackgroundWorkerStartup(handle, &pid);

	if (status != BGWH_STARTED)
		elog(ERROR, "bench worker did not start (status %d)", (int) status);
	return pid;
}

static void
wait_stopped(BackgroundWorkerHandle *handle)
{
	BgwHandleStatus status = WaitForBackgroundWorkerShutdown(handle);

	if (status != BGWH_STOPPED)
		elog(ERROR, "bench worker did not stop (status %d)", (int) status);
}

/* Polls until the worker with stamp slot `idx` has written its stamp (ready / entered). */
static uint64
wait_stamp(int idx)
{
	uint64		deadline = now_ns() + READY_TIMEOUT_NS;

	while (stamps[idx] == 0)
	{
		if (now_ns() > deadline)
			elog(ERROR, "bench worker with stamp %d never wrote it", idx);
		usleep(50);
	}
	return stamps[idx];
}

/* Starts `n` idle workers and returns once each is waiting on its latch. */
static BackgroundWorkerHandle **
start_idle(int n, pid_t *pids)
{
	BackgroundWorkerHandle **handles = malloc(sizeof(*handles) * (n > 0 ? n : 1));
	int		   *idx = malloc(sizeof(int) * (n > 0 ? n : 1));

	for (int i = 0; i < n; i++)
	{
		idx[i] = take_stamp();
		handles[i] = launch("bgw_bench_idle", idx[i]);
	}
	for (int i = 0; i < n; i++)
	{
		pid_t		pid = wait_started(handles[i]);

		if (pids)
			pids[i] = pid;
	}
	for (int i = 0; i < n; i++)
		(void) wait_stamp(idx[i]);
	free(idx);
	return handles;
}

static void
stop_all(BackgroundWorkerHandle **handles, int n)
{
	for (int i = 0; i < n; i++)
		TerminateBackgroundWorker(handles[i]);
	for (int i = 0; i < n; i++)
	{
		wait_stopped(handles[i]);
		pfree(handles[i]);
	}
	free(handles);
}

/* Shape 1 (and 8's inner loop): register -> the worker's entry function running. */
static void
shape_register_to_entry(int iters, BenchEmit emit, void *ctx)
{
	for (int i = 0; i < iters; i++)
	{
		int			idx = take_stamp();
		uint64		t0 = now_ns();
		BackgroundWorkerHandle *handle = launch("bgw_bench_stamp_exit", idx);

		wait_stopped(handle);
		emit(ctx, "latency_us", (double) (wait_stamp(idx) - t0) / 1000.0);
		pfree(handle);
	}
}

/*
 * Shape 15: shape 1 while another worker storms: registered with a restart time of 0, it fails
 * at once and is started again as fast as the supervisor can, for the whole measurement.
 */
static void
shape_register_to_entry_beside_storm(int iters, BenchEmit emit, void *ctx)
{
	BackgroundWorker worker;
	BackgroundWorkerHandle *storm = NULL;

	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS;
	worker.bgw_start_time = BgWorkerStart_ConsistentState;
	worker.bgw_restart_time = 0;
	strcpy(worker.bgw_library_name, bench_library);
	snprintf(worker.bgw_function_name, BGW_MAXLEN, "bgw_bench_fail");
	snprintf(worker.bgw_name, BGW_MAXLEN, "bench storm");
	snprintf(worker.bgw_type, BGW_MAXLEN, "bench");
	worker.bgw_notify_pid = MyProcPid;
	if (!RegisterDynamicBackgroundWorker(&worker, &storm))
		elog(ERROR, "could not register the storming worker");
	(void) wait_started(storm);
	shape_register_to_entry(iters, emit, ctx);
	TerminateBackgroundWorker(storm);
	wait_stopped(storm);
	pfree(storm);
}

/* Shape 2: register -> WaitForBackgroundWorkerStartup returns. */
static void
shape_register_to_startup(int iters, BenchEmit emit, void *ctx)
{
	for (int i = 0; i < iters; i++)
	{
		uint64		t0 = now_ns();
		BackgroundWorkerHandle *handle = launch("bgw_bench_idle", take_stamp());

		(void) wait_started(handle);
		emit(ctx, "latency_us", (double) (now_ns() - t0) / 1000.0);
		TerminateBackgroundWorker(handle);
		wait_stopped(handle);
		pfree(handle);
	}
}

/* Shape 3: register a worker that exits at once -> WaitForBackgroundWorkerShutdown returns. */
static void
shape_launch_exit_wait(int iters, BenchEmit emit, void *ctx)
{
	for (int i = 0; i < iters; i++)
	{
		uint64		t0 = now_ns();
		BackgroundWorkerHandle *handle = launch("bgw_bench_exit", take_stamp());

		wait_stopped(handle);
		emit(ctx, "latency_us", (double) (now_ns() - t0) / 1000.0);
		pfree(handle);
	}
}

/* Shape 4: TerminateBackgroundWorker on a worker idle on its latch -> shutdown observed. */
static void
shape_terminate_idle(int iters, BenchEmit emit, void *ctx)
{
	for (int i = 0; i < iters; i++)
	{
		BackgroundWorkerHandle **one = start_idle(1, NULL);
		uint64		t0;

		usleep(1000);			/* let it settle into its latch wait */
		t0 = now_ns();
		TerminateBackgroundWorker(one[0]);
		wait_stopped(one[0]);
		emit(ctx, "latency_us", (double) (now_ns() - t0) / 1000.0);
		pfree(one[0]);
		free(one);
	}
}

/* Shape 5: 1,000 workers that exit at once, registered back to back in batches of `batch`. */
static void
shape_storm(int rounds, int batch, BenchEmit emit, void *ctx)
{
	const int	total = 1000;
	BackgroundWorkerHandle **handles;

	if (batch <= 0 || batch > total)
		batch = total;
	handles = malloc(sizeof(*handles) * batch);
	for (int r = 0; r < rounds; r++)
	{
		uint64		t0 = now_ns();
		int			done = 0;

		while (done < total)
		{
			int			n = Min(batch, total - done);

			for (int i = 0; i < n; i++)
				handles[i] = launch("bgw_bench_exit", take_stamp());
			for (int i = 0; i < n; i++)
			{
				wait_stopped(handles[i]);
				pfree(handles[i]);
			}
			done += n;
		}
		emit(ctx, "workers_per_s", total / ((double) (now_ns() - t0) / 1e9));
	}
	free(handles);
}

/* Shape 6: GetBackgroundWorkerPid on a live handle, ns per call, per round of calls. */
static void
shape_get_pid(int rounds, BenchEmit emit, void *ctx)
{
	BackgroundWorkerHandle **one = start_idle(1, NULL);
	pid_t		expected = 0;
	pid_t		pid = 0;

	if (GetBackgroundWorkerPid(one[0], &expected) != BGWH_STARTED)
		elog(ERROR, "GetBackgroundWorkerPid: worker not reported as started");
	for (int r = 0; r < rounds; r++)
	{
		uint64		t0 = now_ns();
		int			started = 0;

		for (int i = 0; i < PID_CALLS_PER_ROUND; i++)
			started += GetBackgroundWorkerPid(one[0], &pid) == BGWH_STARTED;
		emit(ctx, "ns_per_call", (double) (now_ns() - t0) / PID_CALLS_PER_ROUND);
		if (started != PID_CALLS_PER_ROUND || pid != expected)
			elog(ERROR, "GetBackgroundWorkerPid changed its answer under a live worker");
	}
	stop_all(one, 1);
}

/* Reads Rss and Pss (kB) of a process from /proc/PID/smaps_rollup. */
static bool
read_memory(pid_t pid, double *rss_kb, double *pss_kb)
{
	char		path[64];
	char		line[256];
	FILE	   *f;
	int			found = 0;

	snprintf(path, sizeof(path), "/proc/%d/smaps_rollup", (int) pid);
	f = fopen(path, "r");
	if (f == NULL)
		return false;
	while (fgets(line, sizeof(line), f) != NULL)
	{
		long		kb;

		if (sscanf(line, "Rss: %ld kB", &kb) == 1)
			*rss_kb = kb, found |= 1;
		else if (sscanf(line, "Pss: %ld kB", &kb) == 1)
			*pss_kb = kb, found |= 2;
	}
	fclose(f);
	return found == 3;
}

/* Shape 7: memory of `n` idle workers and of the supervisor (our parent). */
static void
shape_memory(int n, BenchEmit emit, void *ctx)
{
	pid_t	   *pids = malloc(sizeof(pid_t) * (n > 0 ? n : 1));
	BackgroundWorkerHandle **handles = start_idle(n, pids);
	double		rss = 0,
				pss = 0;

	usleep(200 * 1000);			/* let page sharing settle */
	for (int i = 0; i < n; i++)
	{
		if (!read_memory(pids[i], &rss, &pss))
			elog(ERROR, "could not read /proc/%d/smaps_rollup: %m", (int) pids[i]);
		emit(ctx, "worker_pss_kb", pss);
		emit(ctx, "worker_rss_kb", rss);
	}
	if (!read_memory(getppid(), &rss, &pss))
		elog(ERROR, "could not read /proc/%d/smaps_rollup: %m", (int) getppid());
	emit(ctx, "supervisor_pss_kb", pss);
	emit(ctx, "supervisor_rss_kb", rss);
	stop_all(handles, n);
	free(pids);
}

/* Shape 8: shape 1 with `idle` idle workers running. */
static void
shape_register_to_entry_loaded(int iters, int idle, BenchEmit emit, void *ctx)
{
	BackgroundWorkerHandle **handles = start_idle(idle, NULL);

	usleep(100 * 1000);
	shape_register_to_entry(iters, emit, ctx);
	stop_all(handles, idle);
}

/* ---- the log (shapes 16 and 17): both sides run with logging_collector = on ---------------- */

/* The logging collector's current stderr file, from DataDir/current_logfiles. */
static void
current_log_file(char *path, size_t size)
{
	char		meta[1024];
	char		line[1024];
	FILE	   *f;

	snprintf(meta, sizeof(meta), "%s/current_logfiles", DataDir);
	f = fopen(meta, "r");
	if (f == NULL)
		elog(ERROR, "could not read \"%s\" (is logging_collector on?): %m", meta);
	path[0] = '\0';
	while (fgets(line, sizeof(line), f) != NULL)
	{
		if (strncmp(line, "stderr ", 7) == 0)
		{
			char	   *name = line + 7;

			name[strcspn(name, "\n")] = '\0';
			if (name[0] == '/')
				snprintf(path, size, "%s", name);
			else
				snprintf(path, size, "%s/%s", DataDir, name);
		}
	}
	fclose(f);
	if (path[0] == '\0')
		elog(ERROR, "\"%s\" names no stderr file", meta);
}

/*
 * Shape 16: `workers` workers log LOG_BURST_LINES lines each at once; from their registration
 * to the moment the file holds all their lines, lines per second through the collector, and how
 * many of their lines the file lacks. Once the workers have stopped, every line they wrote is in
 * the pipe ahead of anything written after; the driver then logs an end marker, again every
 * millisecond until the file shows one (a log write that finds the pipe full is dropped, not
 * waited for, so a single marker could be lost), and the file holds all the workers' lines once
 * it holds a marker.
 */
static void
shape_log_throughput(int iters, int workers, BenchEmit emit, void *ctx)
{
	BackgroundWorkerHandle **handles = malloc(sizeof(*handles) * (workers > 0 ? workers : 1));
	char		path[1024];
	char		marker[64];
	char	   *line = NULL;
	size_t		cap = 0;

	for (int it = 0; it < iters; it++)
	{
		struct stat st;
		FILE	   *f;
		long		pos;
		long		counted = 0;
		bool		ended = false;
		uint64		t0,
					t1,
					deadline;

		current_log_file(path, sizeof(path));
		if (stat(path, &st) != 0)
			elog(ERROR, "could not stat \"%s\": %m", path);
		pos = (long) st.st_size;
		snprintf(marker, sizeof(marker), "bench log end %d", it);
		t0 = now_ns();
		for (int w = 0; w < workers; w++)
			handles[w] = launch("bgw_bench_log_burst", take_stamp());
		for (int w = 0; w < workers; w++)
		{
			wait_stopped(handles[w]);
			pfree(handles[w]);
		}
		f = fopen(path, "r");
		if (f == NULL)
			elog(ERROR, "could not open \"%s\": %m", path);
		deadline = now_ns() + LOG_TIMEOUT_NS;
		while (!ended)
		{
			ssize_t		n;

			elog(LOG, "%s", marker);
			if (fseek(f, pos, SEEK_SET) != 0)
				elog(ERROR, "could not seek in \"%s\": %m", path);
			while ((n = getline(&line, &cap, f)) > 0)
			{
				if (line[n - 1] != '\n')
					break;		/* a line not yet whole: read again */
				pos += n;
				if (strstr(line, "bench log line ") != NULL)
					counted++;
				else if (strstr(line, marker) != NULL)
					ended = true;
			}
			clearerr(f);
			if (!ended)
			{
				if (now_ns() > deadline)
					elog(ERROR, "the log file lacks the bench workers' lines after 120 s");
				usleep(1000);
			}
		}
		t1 = now_ns();
		fclose(f);
		emit(ctx, "lines_per_s",
			 (double) workers * LOG_BURST_LINES / ((double) (t1 - t0) / 1e9));
		emit(ctx, "lines_lost", (double) workers * LOG_BURST_LINES - (double) counted);
	}
	free(line);
	free(handles);
}

/* Shape 17: shape 1 while a worker logs a line every millisecond. */
static void
shape_register_to_entry_beside_chatty(int iters, BenchEmit emit, void *ctx)
{
	int			idx = take_stamp();
	BackgroundWorkerHandle *handle = launch("bgw_bench_log_chatty", idx);

	(void) wait_started(handle);
	(void) wait_stamp(idx);
	usleep(100 * 1000);
	shape_register_to_entry(iters, emit, ctx);
	TerminateBackgroundWorker(handle);
	wait_stopped(handle);
	pfree(handle);
}

/* ---- database workers (shapes 11 and 12) -------------------------------------------------- */

/* Shape 11: register a database worker -> its connection is ready (stamped by the worker). */
static void
shape_db_ready(int iters, BenchEmit emit, void *ctx)
{
	for (int i = 0; i < iters; i++)
	{
		int			idx = take_stamp();
		uint64		t0 = now_ns();
		BackgroundWorkerHandle *handle = launch_flags("bgw_bench_db_ready", idx, DB_FLAGS);

		wait_stopped(handle);
		emit(ctx, "latency_us", (double) (wait_stamp(idx) - t0) / 1000.0);
		pfree(handle);
	}
}

/* Shape 12: one sample per worker, microseconds per small SPI statement over its loop. */
static void
shape_spi_loop(int iters, BenchEmit emit, void *ctx)
{
	for (int i = 0; i < iters; i++)
	{
		int			idx = take_stamp();
		BackgroundWorkerHandle *handle;
		uint64		start,
					end;

		/* Two adjacent slots: skip the wrap-around. */
		while (idx == STAMP_SLOTS - 1)
			idx = take_stamp();
		(void) take_stamp();
		handle = launch_flags("bgw_bench_spi_loop", idx, DB_FLAGS);
		wait_stopped(handle);
		pfree(handle);
		start = wait_stamp(idx);
		end = wait_stamp(idx + 1);
		emit(ctx, "us_per_stmt", (double) (end - start) / 1000.0 / SPI_STATEMENTS);
	}
}

/* Launches `function` in a database worker and returns its two stamps (start, end). */
static void
run_two_stamp_worker(const char *function, uint64 *start, uint64 *end)
{
	int			idx = take_stamp();
	BackgroundWorkerHandle *handle;

	/* Two adjacent slots: skip the wrap-around. */
	while (idx == STAMP_SLOTS - 1)
		idx = take_stamp();
	(void) take_stamp();
	handle = launch_flags(function, idx, DB_FLAGS);
	wait_stopped(handle);
	pfree(handle);
	*start = wait_stamp(idx);
	*end = wait_stamp(idx + 1);
}

/* Shape 13: one sample per worker, microseconds per SPI_execute_plan over its loop. */
static void
shape_spi_plan_loop(int iters, BenchEmit emit, void *ctx)
{
	for (int i = 0; i < iters; i++)
	{
		uint64		start,
					end;

		run_two_stamp_worker("bgw_bench_spi_plan_loop", &start, &end);
		emit(ctx, "us_per_stmt", (double) (end - start) / 1000.0 / SPI_STATEMENTS);
	}
}

/* Shape 14: one sample per worker, rows per second read through its cursor. */
static void
shape_cursor_fetch(int iters, BenchEmit emit, void *ctx)
{
	for (int i = 0; i < iters; i++)
	{
		uint64		start,
					end;

		run_two_stamp_worker("bgw_bench_cursor_fetch", &start, &end);
		emit(ctx, "rows_per_s", (double) CURSOR_ROWS * 1e9 / (double) (end - start));
	}
}

/* ---- LWLocks (shapes 9 and 10) -------------------------------------------------------------- */

/* Acquire/release pairs per timed round. */
#define LW_UNCONTENDED_PAIRS 1000000
#define LW_CONTENDED_PAIRS 200000
#define LW_STOP PG_UINT32_MAX

/*
 * The lock and the round hand-shake, in a file both sides map MAP_SHARED (`<stamp file>.lw`):
 * the registrant and a launched worker are both forked by the postmaster/supervisor, so a file
 * is the simplest shared place; an LWLock works in any memory shared by its users.
 */
typedef struct BenchLocks
{
	LWLock		lock;
	char		pad[PG_CACHE_LINE_SIZE - sizeof(LWLock)];
	pg_atomic_uint32 go;		/* round number to run, LW_STOP to exit */
	pg_atomic_uint32 done;		/* last round the worker finished */
	uint64		counter;		/* under lock */
} BenchLocks;

static BenchLocks *
map_locks(const char *stamp_file, bool create)
{
	char		path[MAXPGPATH];
	int			fd;
	void	   *map;

	snprintf(path, sizeof(path), "%s.lw", stamp_file);
	fd = open(path, create ? (O_RDWR | O_CREAT | O_TRUNC) : O_RDWR, 0600);
	if (fd < 0 || (create && ftruncate(fd, sizeof(BenchLocks)) != 0))
		elog(ERROR, "could not create lock file \"%s\": %m", path);
	map = mmap(NULL, sizeof(BenchLocks), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED)
		elog(ERROR, "could not map lock file \"%s\": %m", path);
	close(fd);
	return (BenchLocks *) map;
}

/* Shape 10's second process: one round of LW_EXCLUSIVE pairs per `go`, until LW_STOP. */
void
bgw_bench_lwlock_contend(Datum main_arg)
{
	BenchLocks *locks = map_locks(MyBgworkerEntry->bgw_extra, false);
	uint32		seen = 0;

	BackgroundWorkerUnblockSignals();
	write_stamp(main_arg, now_ns());
	for (;;)
	{
		uint32		round = pg_atomic_read_u32(&locks->go);

		if (round == LW_STOP)
			break;
		if (round == seen)
		{
			pg_spin_delay();
			continue;
		}
		for (int i = 0; i < LW_CONTENDED_PAIRS; i++)
		{
			LWLockAcquire(&locks->lock, LW_EXCLUSIVE);
			locks->counter++;
			LWLockRelease(&locks->lock);
		}
		seen = round;
		pg_atomic_write_u32(&locks->done, round);
	}
	proc_exit(0);
}

/* Shape 9: LWLockAcquire + LWLockRelease on a free lock (arg 0 exclusive, 1 shared). */
static void
shape_lwlock_uncontended(int rounds, int shared_mode, BenchEmit emit, void *ctx)
{
	BenchLocks *locks = map_locks(stamp_path, true);
	LWLockMode	mode = shared_mode ? LW_SHARED : LW_EXCLUSIVE;

	LWLockInitialize(&locks->lock, LWLockNewTrancheId());
	for (int r = 0; r < rounds; r++)
	{
		uint64		t0 = now_ns();

		for (int i = 0; i < LW_UNCONTENDED_PAIRS; i++)
		{
			LWLockAcquire(&locks->lock, mode);
			LWLockRelease(&locks->lock);
		}
		emit(ctx, "ns_per_pair", (double) (now_ns() - t0) / LW_UNCONTENDED_PAIRS);
	}
	munmap(locks, sizeof(BenchLocks));
}

/*
 * Shape 10: two processes (this one and a launched worker) each doing LW_CONTENDED_PAIRS
 * exclusive acquire/increment/release pairs on one lock at the same time; ns per pair overall.
 */
static void
shape_lwlock_contended(int rounds, BenchEmit emit, void *ctx)
{
	BenchLocks *locks = map_locks(stamp_path, true);
	BackgroundWorkerHandle *handle;
	int			idx = take_stamp();
	uint64		expected = 0;

	LWLockInitialize(&locks->lock, LWLockNewTrancheId());
	pg_atomic_init_u32(&locks->go, 0);
	pg_atomic_init_u32(&locks->done, 0);
	locks->counter = 0;
	handle = launch("bgw_bench_lwlock_contend", idx);
	(void) wait_started(handle);
	(void) wait_stamp(idx);
	for (int r = 1; r <= rounds; r++)
	{
		uint64		t0 = now_ns();
		uint64		deadline = t0 + READY_TIMEOUT_NS;

		pg_atomic_write_u32(&locks->go, (uint32) r);
		for (int i = 0; i < LW_CONTENDED_PAIRS; i++)
		{
			LWLockAcquire(&locks->lock, LW_EXCLUSIVE);
			locks->counter++;
			LWLockRelease(&locks->lock);
		}
		while (pg_atomic_read_u32(&locks->done) != (uint32) r)
		{
			if (now_ns() > deadline)
				elog(ERROR, "the contending bench worker did not finish round %d", r);
			pg_spin_delay();
		}
		emit(ctx, "ns_per_pair", (double) (now_ns() - t0) / (2.0 * LW_CONTENDED_PAIRS));
		expected += 2 * LW_CONTENDED_PAIRS;
	}
	pg_atomic_write_u32(&locks->go, LW_STOP);
	wait_stopped(handle);
	pfree(handle);
	if (locks->counter != expected)
		elog(ERROR, "LWLock lost updates: counter " UINT64_FORMAT ", expected " UINT64_FORMAT,
			 locks->counter, expected);
	munmap(locks, sizeof(BenchLocks));
}

/* ---- dynamic shared memory and message queues (shapes 18-21) --------------------------------- */

#define MQ_MAGIC 0x62656e63
#define MQ_SIZE 16384

/* Shape 19's worker: echoes every message of queue 1 back on queue 2 until either is detached. */
void
bgw_bench_echo(Datum main_arg)
{
	dsm_segment *seg;
	shm_toc    *toc;
	shm_mq_handle *in;
	shm_mq_handle *out;
	shm_mq	   *inq;
	shm_mq	   *outq;

	BackgroundWorkerUnblockSignals();
	seg = dsm_attach(DatumGetUInt32(main_arg));
	if (seg == NULL)
		elog(ERROR, "bench echo: the segment is gone");
	toc = shm_toc_attach(MQ_MAGIC, dsm_segment_address(seg));
	inq = shm_toc_lookup(toc, 1, false);
	outq = shm_toc_lookup(toc, 2, false);
	shm_mq_set_receiver(inq, MyProc);
	shm_mq_set_sender(outq, MyProc);
	in = shm_mq_attach(inq, seg, NULL);
	out = shm_mq_attach(outq, seg, NULL);
	for (;;)
	{
		Size		len;
		void	   *data;

		if (shm_mq_receive(in, &len, &data, false) != SHM_MQ_SUCCESS)
			break;
		if (shm_mq_send(out, len, data, false, true) != SHM_MQ_SUCCESS)
			break;
	}
	dsm_detach(seg);
	proc_exit(0);
}

/* Shape 19: an 8-byte message to a worker and back, `iters` times after a warm-up. */
static void
shape_mq_round_trip(int iters, BenchEmit emit, void *ctx)
{
	shm_toc_estimator e;
	Size		size;
	dsm_segment *seg;
	shm_toc    *toc;
	shm_mq	   *outq;
	shm_mq	   *inq;
	shm_mq_handle *out;
	shm_mq_handle *in;
	BackgroundWorker worker;
	BackgroundWorkerHandle *handle;
	uint64		msg = 42;

	shm_toc_initialize_estimator(&e);
	shm_toc_estimate_chunk(&e, MQ_SIZE);
	shm_toc_estimate_chunk(&e, MQ_SIZE);
	shm_toc_estimate_keys(&e, 2);
	size = shm_toc_estimate(&e);
	seg = dsm_create(size, 0);
	toc = shm_toc_create(MQ_MAGIC, dsm_segment_address(seg), size);
	outq = shm_mq_create(shm_toc_allocate(toc, MQ_SIZE), MQ_SIZE);
	inq = shm_mq_create(shm_toc_allocate(toc, MQ_SIZE), MQ_SIZE);
	shm_toc_insert(toc, 1, outq);
	shm_toc_insert(toc, 2, inq);
	shm_mq_set_sender(outq, MyProc);
	shm_mq_set_receiver(inq, MyProc);

	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS;
	worker.bgw_start_time = BgWorkerStart_ConsistentState;
	worker.bgw_restart_time = BGW_NEVER_RESTART;
	strcpy(worker.bgw_library_name, bench_library);
	snprintf(worker.bgw_function_name, BGW_MAXLEN, "bgw_bench_echo");
	snprintf(worker.bgw_name, BGW_MAXLEN, "bench echo");
	snprintf(worker.bgw_type, BGW_MAXLEN, "bench");
	worker.bgw_main_arg = UInt32GetDatum(dsm_segment_handle(seg));
	worker.bgw_notify_pid = MyProcPid;
	if (!RegisterDynamicBackgroundWorker(&worker, &handle))
		elog(ERROR, "could not register the bench echo worker");
	out = shm_mq_attach(outq, seg, handle);
	in = shm_mq_attach(inq, seg, handle);
	for (int i = -100; i < iters; i++)
	{
		Size		len;
		void	   *data;
		uint64		t0 = now_ns();

		if (shm_mq_send(out, sizeof(msg), &msg, false, true) != SHM_MQ_SUCCESS ||
			shm_mq_receive(in, &len, &data, false) != SHM_MQ_SUCCESS || len != sizeof(msg))
			elog(ERROR, "bench round trip failed");
		if (i >= 0)
			emit(ctx, "latency_us", (double) (now_ns() - t0) / 1000.0);
	}
	dsm_detach(seg);
	wait_stopped(handle);
	pfree(handle);
}

/* Shape 21: dsm_create + dsm_attach + dsm_detach of a 64 kB segment in this process (a pin
 * keeps it between its creator's detach and the attach; it is destroyed at the last detach). */
static void
shape_dsm_cycle(int iters, BenchEmit emit, void *ctx)
{
	for (int i = -100; i < iters; i++)
	{
		uint64		t0 = now_ns();
		dsm_segment *seg = dsm_create(65536, 0);
		dsm_handle	h = dsm_segment_handle(seg);

		((char *) dsm_segment_address(seg))[0] = 1;
		dsm_pin_segment(seg);
		dsm_detach(seg);
		seg = dsm_attach(h);
		if (seg == NULL || ((char *) dsm_segment_address(seg))[0] != 1)
			elog(ERROR, "bench dsm cycle: the segment was not there");
		dsm_unpin_segment(h);
		dsm_detach(seg);
		if (i >= 0)
			emit(ctx, "latency_us", (double) (now_ns() - t0) / 1000.0);
	}
}

/*
 * Shapes 18 and 20: PostgreSQL 15's test_shm_mq, loaded from the bench's library directory
 * (dynamic_library_path on both sides), called directly as its SQL functions would be.
 * Shape 18: the regression script's calls, `iters` times (ms per call and for the whole set);
 * shape 20: test_shm_mq_pipelined(16384, <270,000 characters>, `arg`, 3), MB/s through the three
 * workers.
 */
static void
test_shm_mq_functions(PGFunction *plain, PGFunction *pipelined)
{
	*plain = (PGFunction) load_external_function("test_shm_mq", "test_shm_mq", true, NULL);
	*pipelined = (PGFunction) load_external_function("test_shm_mq", "test_shm_mq_pipelined",
													 true, NULL);
}

/* Runs `call` in a "transaction" of its own when there is none (the libbgworker driver): the
 * contexts test_shm_mq allocates its worker handles in. */
static bool
begin_call(void)
{
	if (TopTransactionContext != NULL)
		return false;
	TopTransactionContext = AllocSetContextCreate(TopMemoryContext, "TopTransactionContext",
												  ALLOCSET_DEFAULT_SIZES);
	CurTransactionContext = TopTransactionContext;
	return true;
}

static void
end_call(bool made)
{
	if (!made)
		return;
	MemoryContextDelete(TopTransactionContext);
	TopTransactionContext = NULL;
	CurTransactionContext = NULL;
}

static void
shape_shm_mq_regression(int iters, BenchEmit emit, void *ctx)
{
	PGFunction	plain;
	PGFunction	pipelined;
	text	   *messages[SHM_MQ_NCASES];

	test_shm_mq_functions(&plain, &pipelined);
	for (int i = 0; i < SHM_MQ_NCASES; i++)
		messages[i] = shm_mq_case_message(i);
	for (int round = 0; round < iters; round++)
	{
		double		set_ms = 0;

		for (int i = 0; i < SHM_MQ_NCASES; i++)
		{
			char		metric[32];
			bool		made = begin_call();
			uint64		t0 = now_ns();
			double		ms;

			shm_mq_case_call(i, plain, pipelined, messages[i]);
			ms = (double) (now_ns() - t0) / 1e6;
			end_call(made);
			snprintf(metric, sizeof(metric), "case%d_ms", i + 1);
			emit(ctx, metric, ms);
			set_ms += ms;
		}
		emit(ctx, "set_ms", set_ms);
	}
}

static void
shape_shm_mq_pipelined(int iters, int messages, BenchEmit emit, void *ctx)
{
	PGFunction	plain;
	PGFunction	pipelined;
	text	   *message = shm_mq_case_message(4);	/* the 270,000 characters */

	test_shm_mq_functions(&plain, &pipelined);
	for (int round = 0; round < iters; round++)
	{
		bool		made = begin_call();
		uint64		t0;
		double		seconds;

		LOCAL_FCINFO(fcinfo, 5);
		InitFunctionCallInfoData(*fcinfo, NULL, 5, InvalidOid, NULL, NULL);
		fcinfo->args[0].value = Int64GetDatum(16384);
		fcinfo->args[1].value = PointerGetDatum(message);
		fcinfo->args[2].value = Int32GetDatum(messages);
		fcinfo->args[3].value = Int32GetDatum(3);
		fcinfo->args[4].value = BoolGetDatum(false);
		for (int k = 0; k < 5; k++)
			fcinfo->args[k].isnull = false;
		t0 = now_ns();
		(void) pipelined(fcinfo);
		seconds = (double) (now_ns() - t0) / 1e9;
		end_call(made);
		emit(ctx, "mb_per_s", (double) messages * 270000.0 / seconds / 1e6);
	}
}

void
bench_run(const char *shape, int iters, int arg, BenchEmit emit, void *ctx)
{
	if (stamps == NULL)
		elog(ERROR, "bench_setup was not called");
	if (strcmp(shape, "s1") == 0)
		shape_register_to_entry(iters, emit, ctx);
	else if (strcmp(shape, "s2") == 0)
		shape_register_to_startup(iters, emit, ctx);
	else if (strcmp(shape, "s3") == 0)
		shape_launch_exit_wait(iters, emit, ctx);
	else if (strcmp(shape, "s4") == 0)
		shape_terminate_idle(iters, emit, ctx);
	else if (strcmp(shape, "s5") == 0)
		shape_storm(iters, arg, emit, ctx);
	else if (strcmp(shape, "s6") == 0)
		shape_get_pid(iters, emit, ctx);
	else if (strcmp(shape, "s7") == 0)
		shape_memory(arg, emit, ctx);
	else if (strcmp(shape, "s8") == 0)
		shape_register_to_entry_loaded(iters, arg, emit, ctx);
	else if (strcmp(shape, "s9") == 0)
		shape_lwlock_uncontended(iters, arg, emit, ctx);
	else if (strcmp(shape, "s10") == 0)
		shape_lwlock_contended(iters, emit, ctx);
	else if (strcmp(shape, "s11") == 0)
		shape_db_ready(iters, emit, ctx);
	else if (strcmp(shape, "s12") == 0)
		shape_spi_loop(iters, emit, ctx);
	else if (strcmp(shape, "s13") == 0)
		shape_spi_plan_loop(iters, emit, ctx);
	else if (strcmp(shape, "s14") == 0)
		shape_cursor_fetch(iters, emit, ctx);
	else if (strcmp(shape, "s15") == 0)
		shape_register_to_entry_beside_storm(iters, emit, ctx);
	else if (strcmp(shape, "s16") == 0)
		shape_log_throughput(iters, arg, emit, ctx);
	else if (strcmp(shape, "s17") == 0)
		shape_register_to_entry_beside_chatty(iters, emit, ctx);
	else if (strcmp(shape, "s18") == 0)
		shape_shm_mq_regression(iters, emit, ctx);
	else if (strcmp(shape, "s19") == 0)
		shape_mq_round_trip(iters, emit, ctx);
	else if (strcmp(shape, "s20") == 0)
		shape_shm_mq_pipelined(iters, arg, emit, ctx);
	else if (strcmp(shape, "s21") == 0)
		shape_dsm_cycle(iters, emit, ctx);
	else
		elog(ERROR, "unknown bench shape \"%s\"", shape);
}
