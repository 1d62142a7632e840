/*
 * shm_mq_cases.h -- the calls of PostgreSQL 15's regression script for test_shm_mq
 * (src/test/modules/test_shm_mq/sql/test_shm_mq.sql), made directly on the module's functions:
 * load_external_function, then a call frame (LOCAL_FCINFO) holding the arguments the SQL call
 * would pass.  Shared by the acceptance driver (shm_mq_regress.c) and the benchmark, so both
 * sides run the same calls; the random messages of the script come from a fixed seed here.
 *
 * Include after "postgres.h", "fmgr.h" and "utils/builtins.h" (ours or PostgreSQL's).
 */
#ifndef SHM_MQ_CASES_H
#define SHM_MQ_CASES_H

typedef struct ShmMqCase
{
	const char *sql;			/* the script's line, for messages */
	bool		pipelined;		/* test_shm_mq_pipelined rather than test_shm_mq */
	int64		queue_size;
	const char *fixed;			/* the message when it is a constant, else NULL */
	int			min_len;		/* else its length: min_len + span * random() */
	int			span;
	int32		repeat_count;
	int32		num_workers;
} ShmMqCase;

static const ShmMqCase shm_mq_cases[] = {
	{"SELECT test_shm_mq(1024, '', 2000, 1)", false, 1024, "", 0, 0, 2000, 1},
	{"SELECT test_shm_mq(1024, 'a', 2001, 1)", false, 1024, "a", 0, 0, 2001, 1},
	{"SELECT test_shm_mq(32768, <100 to 1000 random characters>, 10000, 1)", false, 32768, NULL,
	 100, 900, 10000, 1},
	{"SELECT test_shm_mq(100, <100 to 300 random characters>, 10000, 1)", false, 100, NULL, 100,
	 200, 10000, 1},
	{"SELECT test_shm_mq_pipelined(16384, <270000 random characters>, 200, 3)", true, 16384, NULL,
	 270000, 0, 200, 3},
};

#define SHM_MQ_NCASES ((int) (sizeof(shm_mq_cases) / sizeof(shm_mq_cases[0])))

/* xorshift32: the script's random(), from a fixed seed. */
static uint32
shm_mq_case_random(uint32 *state)
{
	uint32		x = *state;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	*state = x;
	return x;
}

/* The text argument of case `i` (palloc'd): string_agg(chr(32 + (random()*95)::int), ''). */
static text *
shm_mq_case_message(int i)
{
	const ShmMqCase *c = &shm_mq_cases[i];
	uint32		state = 2463534242U + (uint32) i;
	int			len;
	char	   *buf;
	text	   *t;

	if (c->fixed != NULL)
		return cstring_to_text(c->fixed);
	len = c->min_len + (int) (shm_mq_case_random(&state) % (uint32) (c->span + 1));
	buf = palloc(len + 1);
	for (int k = 0; k < len; k++)
		buf[k] = (char) (32 + shm_mq_case_random(&state) % 96);
	buf[len] = '\0';
	t = cstring_to_text_with_len(buf, len);
	pfree(buf);
	return t;
}

/* Calls the module's function for case `i` with `message`, as the SQL call would. */
static void
shm_mq_case_call(int i, PGFunction plain, PGFunction pipelined, text *message)
{
	const ShmMqCase *c = &shm_mq_cases[i];
	int			nargs = c->pipelined ? 5 : 4;

	LOCAL_FCINFO(fcinfo, 5);
	InitFunctionCallInfoData(*fcinfo, NULL, nargs, InvalidOid, NULL, NULL);
	fcinfo->args[0].value = Int64GetDatum(c->queue_size);
	fcinfo->args[1].value = PointerGetDatum(message);
	fcinfo->args[2].value = Int32GetDatum(c->repeat_count);
	fcinfo->args[3].value = Int32GetDatum(c->num_workers);
	fcinfo->args[4].value = BoolGetDatum(true);	/* verify, its default */
	for (int k = 0; k < 5; k++)
		fcinfo->args[k].isnull = false;
	(void) (c->pipelined ? pipelined : plain)(fcinfo);
}

#endif							/* SHM_MQ_CASES_H */
