/*
 * floor_libpq.c -- the floor of shape 13: a bare libpq client on the socket the database workers
 * use, running the statement shape 13's workers run ("SELECT $1", one int4 parameter, prepared
 * on the server) with PQexecPrepared, nothing in between. Per sample, as per shape 13 worker: a
 * fresh connection, the statement prepared, run once untimed, then STATEMENTS times timed inside
 * one transaction (BEGIN ... COMMIT, as the worker's loop runs in one). WARMUP samples come first
 * and are not printed: the first connections after the cluster starts, or after the fork floor,
 * run several times slower than the next ones, and ours is measured in that steady state too.
 * Prints "libpq_prepared us_per_stmt VALUE" lines.
 *
 *   floor_libpq CONNINFO SAMPLES
 */
#define _GNU_SOURCE 1
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <libpq-fe.h>

/* As SPI_STATEMENTS in common/shapes.c. */
#define STATEMENTS 200
#define INT4OID 23
/* Untimed samples first. */
#define WARMUP 5

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t) ts.tv_sec * 1000000000ULL + (uint64_t) ts.tv_nsec;
}

static void
check(PGconn *conn, PGresult *res, ExecStatusType want, const char *what)
{
	if (PQresultStatus(res) != want)
	{
		fprintf(stderr, "floor_libpq: %s: %s", what, PQerrorMessage(conn));
		exit(1);
	}
	PQclear(res);
}

int
main(int argc, char **argv)
{
	const Oid	types[1] = {INT4OID};
	const char *values[1] = {"1"};

	if (argc != 3)
	{
		fprintf(stderr, "usage: floor_libpq CONNINFO SAMPLES\n");
		return 2;
	}
	for (int s = -WARMUP; s < atoi(argv[2]); s++)
	{
		PGconn	   *conn = PQconnectdb(argv[1]);
		uint64_t	start,
					end;

		if (PQstatus(conn) != CONNECTION_OK)
		{
			fprintf(stderr, "floor_libpq: %s", PQerrorMessage(conn));
			return 1;
		}
		check(conn, PQprepare(conn, "s", "SELECT $1", 1, types), PGRES_COMMAND_OK, "prepare");
		check(conn, PQexecPrepared(conn, "s", 1, values, NULL, NULL, 0), PGRES_TUPLES_OK, "first run");
		check(conn, PQexec(conn, "BEGIN"), PGRES_COMMAND_OK, "begin");
		start = now_ns();
		for (int i = 0; i < STATEMENTS; i++)
			check(conn, PQexecPrepared(conn, "s", 1, values, NULL, NULL, 0), PGRES_TUPLES_OK, "run");
		end = now_ns();
		check(conn, PQexec(conn, "COMMIT"), PGRES_COMMAND_OK, "commit");
		if (s >= 0)
			printf("libpq_prepared us_per_stmt %.3f\n", (double) (end - start) / 1000.0 / STATEMENTS);
		PQfinish(conn);
	}
	return 0;
}
