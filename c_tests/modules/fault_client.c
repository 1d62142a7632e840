/*
 * fault_client.c -- an external registrant for the fault-injection suite (tests/faults.rs).
 *
 *   fault_client DATADIR CYCLES LIB FUNC FLAGS EXTRAS [TYPE]
 *
 * Attaches to the supervisor of DATADIR, then CYCLES times: registers a BGW_NEVER_RESTART
 * dynamic worker (library LIB, function FUNC, flags FLAGS, main arg 0, bgw_extra the next entry
 * of the ','-separated EXTRAS, round robin; notify pid = this process), waits for its start-up
 * and its shutdown, reads its final status, frees the handle.  A refused registration (no free
 * slot, or a crash-restart under way) is retried after 1 ms, at most 10,000 times per cycle.
 *
 * Prints one line at the end (stdout):
 *   fault_client done cycles=N started=A stopped_at_start=B postmaster_died=C shutdown_stopped=D
 *   final_stopped=E retries=R gave_up=G
 * and exits 0 (2 when the attach is refused, 64 on bad usage).
 */
#include "postgres.h"

#include "fmgr.h"
#include "miscadmin.h"
#include "postmaster/bgworker.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static void
nap_ms(long ms)
{
	struct timespec t;

	t.tv_sec = ms / 1000;
	t.tv_nsec = (ms % 1000) * 1000000L;
	(void) nanosleep(&t, NULL);
}

static void
copy_field(char *dst, const char *src, size_t len)
{
	size_t		n = strlen(src);

	if (n >= len)
		n = len - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

int
main(int argc, char **argv)
{
	long		cycles;
	char	   *extras[64];
	int			nextras = 0;
	char	   *list;
	char	   *save = NULL;
	const char *type;
	long		started = 0,
				stopped_at_start = 0,
				pm_died = 0,
				shutdown_stopped = 0,
				final_stopped = 0,
				retries = 0,
				gave_up = 0;

	if (argc < 7)
	{
		fprintf(stderr, "usage: %s DATADIR CYCLES LIB FUNC FLAGS EXTRAS [TYPE]\n", argv[0]);
		return 64;
	}
	cycles = atol(argv[2]);
	type = argc > 7 ? argv[7] : "fault cycle";
	list = strdup(argv[6]);
	for (char *e = strtok_r(list, ",", &save); e != NULL && nextras < 64; e = strtok_r(NULL, ",", &save))
		extras[nextras++] = e;
	if (nextras == 0)
		extras[nextras++] = "";

	if (!BackgroundWorkerAttach(argv[1]))
	{
		printf("fault_client attach refused\n");
		return 2;
	}

	for (long i = 0; i < cycles; i++)
	{
		BackgroundWorker w;
		BackgroundWorkerHandle *h = NULL;
		pid_t		pid = 0;
		BgwHandleStatus st;
		int			tries = 0;

		memset(&w, 0, sizeof(w));
		copy_field(w.bgw_name, type, BGW_MAXLEN);
		copy_field(w.bgw_type, type, BGW_MAXLEN);
		copy_field(w.bgw_library_name, argv[3], BGW_MAXLEN);
		copy_field(w.bgw_function_name, argv[4], BGW_MAXLEN);
		copy_field(w.bgw_extra, extras[i % nextras], BGW_EXTRALEN);
		w.bgw_flags = atoi(argv[5]);
		w.bgw_start_time = BgWorkerStart_PostmasterStart;
		w.bgw_restart_time = BGW_NEVER_RESTART;
		w.bgw_main_arg = (Datum) 0;
		w.bgw_notify_pid = getpid();

		while (!RegisterDynamicBackgroundWorker(&w, &h))
		{
			if (++tries > 10000)
				break;
			retries++;
			nap_ms(1);
		}
		if (h == NULL)
		{
			gave_up++;
			continue;
		}
		st = WaitForBackgroundWorkerStartup(h, &pid);
		if (st == BGWH_STARTED)
			started++;
		else if (st == BGWH_STOPPED)
			stopped_at_start++;
		else if (st == BGWH_POSTMASTER_DIED)
		{
			pm_died++;
			break;
		}
		st = WaitForBackgroundWorkerShutdown(h);
		if (st == BGWH_STOPPED)
			shutdown_stopped++;
		else if (st == BGWH_POSTMASTER_DIED)
		{
			pm_died++;
			break;
		}
		if (GetBackgroundWorkerPid(h, &pid) == BGWH_STOPPED)
			final_stopped++;
		pfree(h);
	}
	printf("fault_client done cycles=%ld started=%ld stopped_at_start=%ld postmaster_died=%ld "
		   "shutdown_stopped=%ld final_stopped=%ld retries=%ld gave_up=%ld\n",
		   cycles, started, stopped_at_start, pm_died, shutdown_stopped, final_stopped,
		   retries, gave_up);
	free(list);
	return 0;
}
