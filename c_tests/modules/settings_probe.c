/*
 * settings_probe.c -- a module with custom settings, written as for PostgreSQL 15: _PG_init
 * defines one variable of each kind under the "sprobe" prefix, reserves the prefix and (when
 * preloaded) registers the worker "settings probe".  The worker logs every value and what
 * GetConfigOption returns, then again after each SIGHUP, once it has called ProcessConfigFile.
 *
 * Log lines (N counts the reloads the worker has handled, from 0):
 *   settings[N]: naptime=<ms> interval=<s> slots=<n> verbose=<on|off> ratio=<%g> label=<s>
 *                mode=<name> even=<n>
 *   getconfig[N]: max_worker_processes=<s> naptime=<s> label=<s> mode=<s> typo=<s>
 *                 byname=<varname>/<value>
 * When a worker of another module runs settings_probe_main, the library is loaded in that worker
 * only, and sprobe.slots (PGC_POSTMASTER) is not defined there (slots=-1).
 */
#include "postgres.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "postmaster/bgworker.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "utils/guc.h"
#include "utils/wait_event.h"

#include <errno.h>
#include <signal.h>
#include <string.h>

PG_MODULE_MAGIC;

void		_PG_init(void);
PGDLLEXPORT void settings_probe_main(Datum main_arg);

enum probe_mode
{
	PROBE_MODE_FAST = 1,
	PROBE_MODE_SLOW = 2,
	PROBE_MODE_LEGACY = 3
};

static const struct config_enum_entry mode_options[] = {
	{"fast", PROBE_MODE_FAST, false},
	{"slow", PROBE_MODE_SLOW, false},
	{"legacy", PROBE_MODE_LEGACY, true},
	{NULL, 0, false}
};

static int	naptime_ms = 0;
static int	interval_s = 0;
static int	slots = -1;
static bool verbose = true;
static double ratio = 0.0;
static char *label = NULL;
static int	mode = 0;
static int	even = 0;

static volatile sig_atomic_t got_sighup = 0;

/* sprobe.label may be anything but "forbidden". */
static bool
check_label(char **newval, void **extra, GucSource source)
{
	(void) extra;
	(void) source;
	return *newval == NULL || strcmp(*newval, "forbidden") != 0;
}

/* sprobe.even must be even; the refusal says why. */
static bool
check_even(int *newval, void **extra, GucSource source)
{
	(void) extra;
	(void) source;
	if (*newval % 2 != 0)
	{
		GUC_check_errdetail("sprobe.even must be even, not %d.", *newval);
		return false;
	}
	return true;
}

void
_PG_init(void)
{
	BackgroundWorker worker;

	DefineCustomIntVariable("sprobe.naptime", "Time between rounds.", NULL, &naptime_ms, 1000, 1,
							3600000, PGC_SIGHUP, GUC_UNIT_MS, NULL, NULL, NULL);
	DefineCustomIntVariable("sprobe.interval", "Time between reports.", NULL, &interval_s, 10, 1,
							86400, PGC_SIGHUP, GUC_UNIT_S | GUC_NOT_IN_SAMPLE, NULL, NULL, NULL);
	/* PGC_POSTMASTER variables can only be created while preloading. */
	if (process_shared_preload_libraries_in_progress)
		DefineCustomIntVariable("sprobe.slots", "Fixed at start.", NULL, &slots, 2, 1, 16,
								PGC_POSTMASTER, 0, NULL, NULL, NULL);
	DefineCustomBoolVariable("sprobe.verbose", "Say more.", NULL, &verbose, false, PGC_SIGHUP, 0,
							 NULL, NULL, NULL);
	DefineCustomRealVariable("sprobe.ratio", "A fraction.", NULL, &ratio, 0.5, 0.0, 1.0,
							 PGC_SIGHUP, 0, NULL, NULL, NULL);
	DefineCustomStringVariable("sprobe.label", "A name.", NULL, &label, "none", PGC_SIGHUP, 0,
							   check_label, NULL, NULL);
	DefineCustomEnumVariable("sprobe.mode", "How.", NULL, &mode, PROBE_MODE_FAST, mode_options,
							 PGC_SIGHUP, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("sprobe.even", "An even number.", NULL, &even, 2, 0, 100, PGC_SIGHUP,
							0, check_even, NULL, NULL);

	MarkGUCPrefixReserved("sprobe");

	if (!process_shared_preload_libraries_in_progress)
		return;

	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS;
	worker.bgw_start_time = BgWorkerStart_PostmasterStart;
	worker.bgw_restart_time = BGW_NEVER_RESTART;
	snprintf(worker.bgw_library_name, BGW_MAXLEN, "settings_probe");
	snprintf(worker.bgw_function_name, BGW_MAXLEN, "settings_probe_main");
	snprintf(worker.bgw_name, BGW_MAXLEN, "settings probe");
	snprintf(worker.bgw_type, BGW_MAXLEN, "settings probe");
	RegisterBackgroundWorker(&worker);
}

static void
handle_sighup(SIGNAL_ARGS)
{
	int			save_errno = errno;

	got_sighup = 1;
	SetLatch(MyLatch);
	errno = save_errno;
}

static const char *
or_null(const char *s)
{
	return s == NULL ? "(null)" : s;
}

static const char *
mode_name(int m)
{
	const struct config_enum_entry *e;

	for (e = mode_options; e->name != NULL; e++)
		if (e->val == m)
			return e->name;
	return "?";
}

static void
report(int generation)
{
	const char *varname = NULL;
	char	   *byname;

	elog(LOG, "settings[%d]: naptime=%d interval=%d slots=%d verbose=%s ratio=%g label=%s mode=%s even=%d",
		 generation, naptime_ms, interval_s, slots, verbose ? "on" : "off", ratio, or_null(label),
		 mode_name(mode), even);

	byname = GetConfigOptionByName("SPROBE.NAPTIME", &varname, false);
	elog(LOG, "getconfig[%d]: max_worker_processes=%s naptime=%s label=%s mode=%s typo=%s byname=%s/%s",
		 generation, or_null(GetConfigOption("max_worker_processes", false, false)),
		 or_null(GetConfigOption("sprobe.naptime", false, false)),
		 or_null(GetConfigOption("sprobe.label", false, false)),
		 or_null(GetConfigOption("sprobe.mode", true, false)),
		 or_null(GetConfigOption("sprobe.typo", true, false)), or_null(varname), or_null(byname));
	pfree(byname);
}

void
settings_probe_main(Datum main_arg)
{
	int			generation = 0;

	(void) main_arg;
	pqsignal(SIGHUP, handle_sighup);
	BackgroundWorkerUnblockSignals();

	report(generation);
	for (;;)
	{
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_EXIT_ON_PM_DEATH, -1L, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		if (got_sighup)
		{
			got_sighup = 0;
			ProcessConfigFile(PGC_SIGHUP);
			report(++generation);
		}
	}
}
