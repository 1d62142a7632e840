/*
 * shapes.h -- the benchmark shapes, written once against PostgreSQL's bgworker API and compiled
 * twice: into bgw_bench.so for libbgworker and into pg_bgw_bench.so for PostgreSQL 15.
 *
 * Include after "postgres.h" (ours or PostgreSQL's). Build with -DBGW_BENCH_PG for PostgreSQL.
 */
#ifndef BGW_BENCH_SHAPES_H
#define BGW_BENCH_SHAPES_H

/* Receives every result: one (metric, value) pair per sample. */
typedef void (*BenchEmit) (void *ctx, const char *metric, double value);

/*
 * Prepares this process to run shapes: `library` is what launched workers put in
 * bgw_library_name (a module name or an absolute path to the .so that holds these functions);
 * `workdir` is a directory the launched workers can write to (their start stamps go there).
 * Installs the SIGUSR1 handler that wakes handle waits. Raises an ERROR on failure.
 */
extern void bench_setup(const char *library, const char *workdir);

/*
 * Runs one shape ("s1".."s21", see README.md) `iters` times with its argument `arg`, emitting
 * the samples. Raises an ERROR on failure.
 */
extern void bench_run(const char *shape, int iters, int arg, BenchEmit emit, void *ctx);

/* Worker entry points the shapes launch (bgw_main_arg = stamp index, bgw_extra = stamp file). */
extern PGDLLEXPORT void bgw_bench_stamp_exit(Datum main_arg);
extern PGDLLEXPORT void bgw_bench_exit(Datum main_arg);
extern PGDLLEXPORT void bgw_bench_fail(Datum main_arg);
extern PGDLLEXPORT void bgw_bench_idle(Datum main_arg);
extern PGDLLEXPORT void bgw_bench_lwlock_contend(Datum main_arg);
extern PGDLLEXPORT void bgw_bench_db_ready(Datum main_arg);
extern PGDLLEXPORT void bgw_bench_spi_loop(Datum main_arg);
extern PGDLLEXPORT void bgw_bench_spi_plan_loop(Datum main_arg);
extern PGDLLEXPORT void bgw_bench_cursor_fetch(Datum main_arg);
extern PGDLLEXPORT void bgw_bench_log_burst(Datum main_arg);
extern PGDLLEXPORT void bgw_bench_log_chatty(Datum main_arg);
extern PGDLLEXPORT void bgw_bench_echo(Datum main_arg);

#endif /* BGW_BENCH_SHAPES_H */
