/*
 * embed_host.c -- a host program that embeds the supervisor: it registers its own worker with
 * RegisterBackgroundWorker and then hands its argv to BackgroundWorkerPostmasterMain.
 */
#include "postgres.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "postmaster/bgworker.h"

#include <string.h>

int
main(int argc, char **argv)
{
	BackgroundWorker w;

	memset(&w, 0, sizeof(w));
	w.bgw_flags = BGWORKER_SHMEM_ACCESS;
	w.bgw_start_time = BgWorkerStart_PostmasterStart;
	w.bgw_restart_time = BGW_NEVER_RESTART;
	/* the probe module is not preloaded here: the worker loads it by name (LOAD-3) */
	snprintf(w.bgw_library_name, BGW_MAXLEN, "probe");
	snprintf(w.bgw_function_name, BGW_MAXLEN, "probe_main");
	snprintf(w.bgw_name, BGW_MAXLEN, "embedded");
	snprintf(w.bgw_extra, BGW_EXTRALEN, "idle");
	RegisterBackgroundWorker(&w);

	return BackgroundWorkerPostmasterMain(argc, argv);
}
