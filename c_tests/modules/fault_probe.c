/*
 * fault_probe.c -- the module of the fault-injection suite (tests/faults.rs): workers that die
 * in every way a worker can, hold and wait on LWLocks, and scribble on the shared segment.
 *
 * _PG_init (while preloading) requests a small struct and the LWLock tranche "fault_probe" (2
 * locks) through shmem_request_hook, makes the struct in shmem_startup_hook, and registers the
 * static workers listed in $FAULT_WORKERS: specs separated by ';', each "name|flags|restart|mode"
 * (bgw_type = name, lib fault_probe, func fault_main, start at postmaster start).
 *
 * fault_main acts on bgw_extra (the mode):
 *   idle            sleep on the latch (WL_EXIT_ON_PM_DEATH)
 *   die:KIND        die at once in that way (see below)
 *   cycle:K1,K2..:N[:GATE]  die in way K[n % count] on the n-th start (n counted in
 *                   $PROBE_STATE_DIR/<name>.deaths, one byte appended per death), idle from the
 *                   N-th start on; with GATE, first wait until $PROBE_STATE_DIR/GATE exists
 *   hold            take lock 0 exclusively, then sleep on the latch holding it
 *   waitlock        wait (bounded) until "hold" holds lock 0, then block in LWLockAcquire on it
 *   rogue:KB:exit   (the first start only; idle on later ones) overwrite the first KB kilobytes of the mapped segment with random bytes,
 *                   then proc_exit(3)
 *   rogue:KB:stay   the same, then poke the supervisor with SIGUSR1 five times and idle
 *   pattern:KB:stay (the first start only) fill the first KB kilobytes with the 32-bit word 2 (every state word reads
 *                   IN_USE, every bitmap word has bits set, every definition has flags 2), poke
 *                   the supervisor with SIGUSR1 five times and idle
 * KIND: exit0 exit1 exit2 exit3 (proc_exit), segv, sigkill (raise), abort, _exit0 (_exit(0),
 * skipping proc_exit and atexit).
 *
 * Log lines: every worker first logs `fault "<name>" started pid=<pid> mode=<mode>`; a death is
 * announced as `fault "<name>" dying n=<n> kind=<kind>`; lock states as `fault "<name>" holds
 * the lock` / `fault "<name>" waits for the lock`; the rogue logs `fault "<name>" scribbled
 * <bytes> bytes at offset 0 of <path>`.
 */
#include "postgres.h"

#include "fmgr.h"
#include "miscadmin.h"
#include "postmaster/bgworker.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "utils/wait_event.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

PG_MODULE_MAGIC;

void		_PG_init(void);
PGDLLEXPORT void fault_main(Datum main_arg);

typedef struct FaultState
{
	volatile int holder_pid;
	volatile int startups;
} FaultState;

static shmem_request_hook_type prev_request_hook = NULL;
static shmem_startup_hook_type prev_startup_hook = NULL;
static FaultState *state = NULL;

static void
fault_request(void)
{
	if (prev_request_hook)
		prev_request_hook();
	RequestAddinShmemSpace(MAXALIGN(sizeof(FaultState)));
	RequestNamedLWLockTranche("fault_probe", 2);
}

static void
fault_startup(void)
{
	bool		found;

	if (prev_startup_hook)
		prev_startup_hook();
	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	state = ShmemInitStruct("fault_probe state", sizeof(FaultState), &found);
	if (!found)
	{
		state->holder_pid = 0;
		state->startups = 0;
	}
	state->startups++;
	LWLockRelease(AddinShmemInitLock);
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

/* "name|flags|restart|mode" (modified in place) into w; false when malformed. */
static bool
parse_spec(char *spec, BackgroundWorker *w)
{
	char	   *f[4];
	int			n = 0;
	char	   *p = spec;

	while (n < 4)
	{
		f[n++] = p;
		p = strchr(p, '|');
		if (p == NULL)
			break;
		*p++ = '\0';
	}
	if (n != 4)
		return false;
	memset(w, 0, sizeof(*w));
	copy_field(w->bgw_name, f[0], BGW_MAXLEN);
	copy_field(w->bgw_type, f[0], BGW_MAXLEN);
	w->bgw_flags = atoi(f[1]);
	w->bgw_restart_time = atoi(f[2]);
	w->bgw_start_time = BgWorkerStart_PostmasterStart;
	copy_field(w->bgw_library_name, "fault_probe", BGW_MAXLEN);
	copy_field(w->bgw_function_name, "fault_main", BGW_MAXLEN);
	copy_field(w->bgw_extra, f[3], BGW_EXTRALEN);
	return true;
}

void
_PG_init(void)
{
	const char *env;
	char	   *specs;
	char	   *p;

	if (!process_shared_preload_libraries_in_progress)
		return;
	prev_request_hook = shmem_request_hook;
	shmem_request_hook = fault_request;
	prev_startup_hook = shmem_startup_hook;
	shmem_startup_hook = fault_startup;

	env = getenv("FAULT_WORKERS");
	if (env == NULL || *env == '\0')
		return;
	specs = strdup(env);
	if (specs == NULL)
		return;
	p = specs;
	while (p != NULL && *p != '\0')
	{
		char	   *next = strchr(p, ';');
		BackgroundWorker w;

		if (next != NULL)
			*next++ = '\0';
		if (parse_spec(p, &w))
			RegisterBackgroundWorker(&w);
		else
			elog(WARNING, "fault_probe: bad worker spec in FAULT_WORKERS");
		p = next;
	}
	free(specs);
}

/* ---------- the worker ---------- */

static void
idle_forever(void)
{
	for (;;)
	{
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_EXIT_ON_PM_DEATH, -1L, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
	}
}

static void
fault_die(const char *name, int n, const char *kind)
{
	elog(LOG, "fault \"%s\" dying n=%d kind=%s", name, n, kind);
	if (strcmp(kind, "exit0") == 0)
		proc_exit(0);
	else if (strcmp(kind, "exit1") == 0)
		proc_exit(1);
	else if (strcmp(kind, "exit2") == 0)
		proc_exit(2);
	else if (strcmp(kind, "exit3") == 0)
		proc_exit(3);
	else if (strcmp(kind, "segv") == 0)
	{
		int		   *volatile nowhere = NULL;

		*nowhere = 1;
	}
	else if (strcmp(kind, "sigkill") == 0)
		raise(SIGKILL);
	else if (strcmp(kind, "abort") == 0)
		abort();
	else if (strcmp(kind, "_exit0") == 0)
		_exit(0);
	elog(WARNING, "fault \"%s\": unknown death \"%s\"", name, kind);
	proc_exit(1);
}

/* This worker's death count so far (0 the first time); counts this one. */
static int
next_death(const char *name)
{
	const char *dir = getenv("PROBE_STATE_DIR");
	char		path[1024];
	struct stat st;
	int			fd;
	ssize_t		w;

	if (dir == NULL)
		return 0;
	snprintf(path, sizeof(path), "%s/%s.deaths", dir, name);
	fd = open(path, O_CREAT | O_WRONLY | O_APPEND, 0600);
	if (fd < 0)
		return 0;
	w = write(fd, "x", 1);
	(void) w;
	if (fstat(fd, &st) != 0)
		st.st_size = 1;
	close(fd);
	return (int) st.st_size - 1;
}

/* Waits until $PROBE_STATE_DIR/<gate> exists (ends with the supervisor, WL_EXIT_ON_PM_DEATH). */
static void
wait_gate(const char *gate)
{
	const char *dir = getenv("PROBE_STATE_DIR");
	char		path[1024];

	snprintf(path, sizeof(path), "%s/%s", dir != NULL ? dir : ".", gate);
	while (access(path, F_OK) != 0)
	{
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, 10L,
						 PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
	}
}

/* spec: "K1,K2,...:N[:GATE]" */
static void
cycle(const char *name, const char *spec)
{
	char		kinds[BGW_EXTRALEN];
	char	   *rest;
	char	   *gate;
	char	   *list[16];
	int			count = 0;
	int			limit;
	int			n;
	char	   *save = NULL;

	copy_field(kinds, spec, sizeof(kinds));
	rest = strchr(kinds, ':');
	if (rest == NULL)
		return;
	*rest++ = '\0';
	gate = strchr(rest, ':');
	if (gate != NULL)
		*gate++ = '\0';
	limit = atoi(rest);
	for (char *k = strtok_r(kinds, ",", &save); k != NULL && count < 16; k = strtok_r(NULL, ",", &save))
		list[count++] = k;
	if (count == 0)
		return;
	if (gate != NULL)
		wait_gate(gate);
	n = next_death(name);
	if (n >= limit)
	{
		elog(LOG, "fault \"%s\" done after %d deaths", name, limit);
		return;
	}
	fault_die(name, n, list[n % count]);
}

/* The mapping of the segment file in this process: its address and length. */
static bool
find_segment(char **addr, size_t *len, char *path, size_t pathlen)
{
	FILE	   *f = fopen("/proc/self/maps", "r");
	char		line[2048];
	bool		ok = false;

	if (f == NULL)
		return false;
	while (fgets(line, sizeof(line), f) != NULL)
	{
		unsigned long lo;
		unsigned long hi;
		char	   *slash = strchr(line, '/');
		size_t		n;

		if (slash == NULL)
			continue;
		n = strlen(slash);
		while (n > 0 && (slash[n - 1] == '\n' || slash[n - 1] == ' '))
			slash[--n] = '\0';
		if (n < 15 || strcmp(slash + n - 15, "/bgworker.shmem") != 0)
			continue;
		if (sscanf(line, "%lx-%lx", &lo, &hi) != 2)
			continue;
		*addr = (char *) lo;
		*len = (size_t) (hi - lo);
		copy_field(path, slash, pathlen);
		ok = true;
		/* the newest mapping is the last one listed for the live file; keep looking */
	}
	fclose(f);
	return ok;
}

static void
scribble(const char *name, const char *spec, bool pattern)
{
	int			kb = atoi(spec);
	char	   *addr = NULL;
	size_t		len = 0;
	size_t		n;
	char		path[1024];

	if (!find_segment(&addr, &len, path, sizeof(path)))
	{
		elog(LOG, "fault \"%s\" found no segment mapping", name);
		return;
	}
	n = (size_t) kb * 1024;
	if (n > len)
		n = len;
	if (pattern)
	{
		for (size_t i = 0; i + 4 <= n; i += 4)
		{
			uint32		two = 2;

			memcpy(addr + i, &two, 4);
		}
	}
	else
	{
		unsigned int seed = (unsigned int) getpid() ^ (unsigned int) time(NULL);

		for (size_t i = 0; i < n; i++)
			addr[i] = (char) (rand_r(&seed) & 0xff);
	}
	elog(LOG, "fault \"%s\" scribbled %zu bytes at offset 0 of %s", name, n, path);
}

static void
poke_supervisor(void)
{
	for (int i = 0; i < 5; i++)
	{
		kill(getppid(), SIGUSR1);
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, 50L,
						 PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
	}
}

void
fault_main(Datum main_arg)
{
	char		name[BGW_MAXLEN];
	char		mode[BGW_EXTRALEN];

	(void) main_arg;
	copy_field(name, MyBgworkerEntry->bgw_name, sizeof(name));
	copy_field(mode, MyBgworkerEntry->bgw_extra, sizeof(mode));
	BackgroundWorkerUnblockSignals();
	elog(LOG, "fault \"%s\" started pid=%d mode=%s", name, (int) getpid(), mode);

	if (strncmp(mode, "die:", 4) == 0)
		fault_die(name, 0, mode + 4);
	else if (strncmp(mode, "cycle:", 6) == 0)
		cycle(name, mode + 6);
	else if (strcmp(mode, "hold") == 0 || strcmp(mode, "waitlock") == 0)
	{
		LWLockPadded *locks = GetNamedLWLockTranche("fault_probe");
		bool		found;

		state = ShmemInitStruct("fault_probe state", sizeof(FaultState), &found);
		if (strcmp(mode, "hold") == 0)
		{
			LWLockAcquire(&locks[0].lock, LW_EXCLUSIVE);
			state->holder_pid = (int) getpid();
			elog(LOG, "fault \"%s\" holds the lock", name);
		}
		else
		{
			/* bounded: 10 s for the holder to appear */
			for (int i = 0; i < 1000 && state->holder_pid == 0; i++)
			{
				(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, 10L,
								 PG_WAIT_EXTENSION);
				ResetLatch(MyLatch);
			}
			elog(LOG, "fault \"%s\" waits for the lock", name);
			LWLockAcquire(&locks[0].lock, LW_EXCLUSIVE);
			elog(LOG, "fault \"%s\" got the lock", name);
			LWLockRelease(&locks[0].lock);
		}
	}
	else if (strncmp(mode, "rogue:", 6) == 0 && next_death(name) == 0)
	{
		scribble(name, mode + 6, false);
		if (strstr(mode + 6, ":exit") != NULL)
			proc_exit(3);
		poke_supervisor();
	}
	else if (strncmp(mode, "pattern:", 8) == 0 && next_death(name) == 0)
	{
		scribble(name, mode + 8, true);
		poke_supervisor();
	}
	idle_forever();
}
