/*
 * dyn_script.h -- a small script interpreter for the dynamic-worker tests, shared by the
 * dyn_probe module (run by its "driver" worker and by dynamic workers in mode script:VAR) and by
 * the attach_client program (run after BackgroundWorkerAttach).  The including file defines
 * `static void dyn_say(const char *line)`, which prints one result line (LOG in a worker, stdout
 * in the client).
 *
 * A script is a list of commands separated by ';'; each command is VERB followed by
 * ',key=value' fields (values may contain spaces and any byte but ',' ';' '=').  Handles live in
 * numbered variables h=0..63.  Every result line starts with "dyn: ".
 *
 *   reg,h=N,name=S,type=S,mode=S,arg=I,restart=I,flags=I,start=I,notify=self|I,lib=S,func=S,try=1,rethrow=1
 *        RegisterDynamicBackgroundWorker (lib dyn_probe, func dyn_main, mode idle, restart -1,
 *        flags SHMEM, start 0, notify self by default; h=-1 passes a NULL handle pointer);
 *        try=1 wraps it in PG_TRY and reports "caught ERROR" (then the error's SQLSTATE and
 *        message); rethrow=1 re-throws from PG_CATCH.
 *        -> "dyn: reg h=N ok=0|1"   or "dyn: reg h=N caught ERROR", "dyn: reg h=N error sqlstate=S message=M"
 *   get,h=N              -> "dyn: get h=N status=S pid=P"
 *   waitstart,h=N        -> "dyn: waitstart h=N begin", then "dyn: waitstart h=N status=S pid=P ms=M at=EPOCHMS"
 *   waitstop,h=N         -> likewise "dyn: waitstop h=N ..."
 *   term,h=N             -> "dyn: term h=N done"
 *   free,h=N             -> pfree; "dyn: free h=N done"
 *   typeof,pid=P|self|h=N -> "dyn: typeof pid=P type=\"T\"" or "type=NULL"
 *   watch,h=N,ms=M       -> polls every 2 ms for M ms, one line per change: "dyn: watch h=N status=S pid=P"; then "dyn: watch h=N end"
 *   until,h=N,status=S,ms=M -> polls every 2 ms until the handle reads S, at most M ms:
 *                          "dyn: until h=N status=S pid=P ms=T" (the status last read)
 *   sleep,ms=M
 *   gate,name=F          -> waits until $PROBE_STATE_DIR/F exists ("dyn: gate F open")
 *   usr1                 -> pqsignal(SIGUSR1, procsignal_sigusr1_handler)
 *   usr1count            -> a SIGUSR1 handler that counts and sets the latch
 *   count                -> "dyn: usr1 count=N"
 *   sigterm              -> a SIGTERM handler that only sets a flag and the latch
 *   waitterm             -> waits for that flag ("dyn: got SIGTERM")
 *   pid                  -> "dyn: pid=P"
 *   exit,code=N          -> proc_exit(N) (exit(N) in the client)
 */
#ifndef DYN_SCRIPT_H
#define DYN_SCRIPT_H

#include "postgres.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "postmaster/bgworker.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "utils/elog.h"
#include "utils/wait_event.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static void dyn_say(const char *line);
static void dyn_exit(int code);

#define DYN_MAX_HANDLES 64
#define DYN_MAX_FIELDS 16

static BackgroundWorkerHandle *dyn_handles[DYN_MAX_HANDLES];
static volatile sig_atomic_t dyn_usr1_count = 0;
static volatile sig_atomic_t dyn_got_sigterm = 0;

typedef struct DynCmd
{
	char	   *verb;
	int			n;
	char	   *keys[DYN_MAX_FIELDS];
	char	   *vals[DYN_MAX_FIELDS];
} DynCmd;

static void say(const char *fmt,...) pg_attribute_printf(1, 2);

static void
say(const char *fmt,...)
{
	char		buf[1024];
	va_list		ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	dyn_say(buf);
}

static long
dyn_mono_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long) t.tv_sec * 1000L + t.tv_nsec / 1000000L;
}

static long long
dyn_epoch_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_REALTIME, &t);
	return (long long) t.tv_sec * 1000LL + t.tv_nsec / 1000000LL;
}

static void
dyn_nap_ms(long ms)
{
	struct timespec t;

	t.tv_sec = ms / 1000;
	t.tv_nsec = (ms % 1000) * 1000000L;
	while (nanosleep(&t, &t) != 0 && errno == EINTR)
		;
}

static const char *
dyn_status_name(BgwHandleStatus st)
{
	switch (st)
	{
		case BGWH_STARTED:
			return "STARTED";
		case BGWH_NOT_YET_STARTED:
			return "NOT_YET_STARTED";
		case BGWH_STOPPED:
			return "STOPPED";
		case BGWH_POSTMASTER_DIED:
			return "POSTMASTER_DIED";
	}
	return "UNKNOWN";
}

static const char *
dyn_opt(const DynCmd *c, const char *key, const char *dflt)
{
	int			i;

	for (i = 0; i < c->n; i++)
		if (strcmp(c->keys[i], key) == 0)
			return c->vals[i];
	return dflt;
}

static int
dyn_opt_int(const DynCmd *c, const char *key, int dflt)
{
	const char *v = dyn_opt(c, key, NULL);

	return v == NULL ? dflt : atoi(v);
}

static void
dyn_copy(char *dst, const char *src, size_t len)
{
	size_t		n = strlen(src);

	if (n >= len)
		n = len - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

static void
dyn_usr1_counter(SIGNAL_ARGS)
{
	int			save_errno = errno;

	dyn_usr1_count++;
	if (MyLatch != NULL)
		SetLatch(MyLatch);
	errno = save_errno;
}

static void
dyn_sigterm_flag(SIGNAL_ARGS)
{
	int			save_errno = errno;

	dyn_got_sigterm = 1;
	if (MyLatch != NULL)
		SetLatch(MyLatch);
	errno = save_errno;
}

/* The handle variable named by h=, or -1 when out of range. */
static int
dyn_h(const DynCmd *c)
{
	int			h = dyn_opt_int(c, "h", -1);

	return (h >= 0 && h < DYN_MAX_HANDLES) ? h : -1;
}

/* RegisterDynamicBackgroundWorker inside PG_TRY; returns 1 ok, 0 false, -1 caught. */
static int
dyn_register_caught(BackgroundWorker *w, BackgroundWorkerHandle **hp, bool rethrow, int h)
{
	volatile int result = -1;

	PG_TRY();
	{
		result = RegisterDynamicBackgroundWorker(w, hp) ? 1 : 0;
	}
	PG_CATCH();
	{
		say("dyn: reg h=%d caught ERROR", h);
		if (rethrow)
			PG_RE_THROW();
		else
		{
			ErrorData  *edata = CopyErrorData();

			FlushErrorState();
			say("dyn: reg h=%d error sqlstate=%s message=%s", h,
				unpack_sql_state(edata->sqlerrcode), edata->message);
			FreeErrorData(edata);
		}
	}
	PG_END_TRY();
	return result;
}

static void
dyn_cmd_reg(const DynCmd *c)
{
	BackgroundWorker w;
	int			h = dyn_h(c);
	const char *notify = dyn_opt(c, "notify", "self");
	BackgroundWorkerHandle **hp = h >= 0 ? &dyn_handles[h] : NULL;
	int			ok;

	memset(&w, 0, sizeof(w));
	dyn_copy(w.bgw_name, dyn_opt(c, "name", "dyn worker"), BGW_MAXLEN);
	dyn_copy(w.bgw_type, dyn_opt(c, "type", ""), BGW_MAXLEN);
	dyn_copy(w.bgw_library_name, dyn_opt(c, "lib", "dyn_probe"), BGW_MAXLEN);
	dyn_copy(w.bgw_function_name, dyn_opt(c, "func", "dyn_main"), BGW_MAXLEN);
	dyn_copy(w.bgw_extra, dyn_opt(c, "mode", "idle"), BGW_EXTRALEN);
	w.bgw_flags = dyn_opt_int(c, "flags", BGWORKER_SHMEM_ACCESS);
	w.bgw_start_time = (BgWorkerStartTime) dyn_opt_int(c, "start", BgWorkerStart_PostmasterStart);
	w.bgw_restart_time = dyn_opt_int(c, "restart", BGW_NEVER_RESTART);
	w.bgw_main_arg = (Datum) (intptr_t) dyn_opt_int(c, "arg", 0);
	w.bgw_notify_pid = strcmp(notify, "self") == 0 ? (pid_t) MyProcPid : (pid_t) atoi(notify);

	if (dyn_opt_int(c, "try", 0) != 0)
		ok = dyn_register_caught(&w, hp, dyn_opt_int(c, "rethrow", 0) != 0, h);
	else
		ok = RegisterDynamicBackgroundWorker(&w, hp) ? 1 : 0;
	if (ok >= 0)
		say("dyn: reg h=%d ok=%d", h, ok);
}

static void
dyn_cmd_wait(const DynCmd *c, bool startup)
{
	int			h = dyn_h(c);
	pid_t		pid = 0;
	long		t0;
	BgwHandleStatus st;
	const char *what = startup ? "waitstart" : "waitstop";

	say("dyn: %s h=%d begin", what, h);
	t0 = dyn_mono_ms();
	if (startup)
		st = WaitForBackgroundWorkerStartup(h >= 0 ? dyn_handles[h] : NULL, &pid);
	else
		st = WaitForBackgroundWorkerShutdown(h >= 0 ? dyn_handles[h] : NULL);
	say("dyn: %s h=%d status=%s pid=%d ms=%ld at=%lld",
		what, h, dyn_status_name(st), (int) pid, dyn_mono_ms() - t0, dyn_epoch_ms());
}

static void
dyn_cmd_typeof(const DynCmd *c)
{
	const char *p = dyn_opt(c, "pid", NULL);
	pid_t		pid = 0;
	const char *t;

	if (p != NULL && strcmp(p, "self") == 0)
		pid = (pid_t) MyProcPid;
	else if (p != NULL)
		pid = (pid_t) atoi(p);
	else
	{
		int			h = dyn_h(c);

		if (h >= 0)
			(void) GetBackgroundWorkerPid(dyn_handles[h], &pid);
	}
	t = GetBackgroundWorkerTypeByPid(pid);
	if (t == NULL)
		say("dyn: typeof pid=%d type=NULL", (int) pid);
	else
		say("dyn: typeof pid=%d type=\"%s\"", (int) pid, t);
}

static void
dyn_cmd_watch(const DynCmd *c)
{
	int			h = dyn_h(c);
	long		until = dyn_mono_ms() + dyn_opt_int(c, "ms", 1000);
	int			last_status = -1;
	pid_t		last_pid = -2;

	while (dyn_mono_ms() < until)
	{
		pid_t		pid = 0;
		BgwHandleStatus st = GetBackgroundWorkerPid(h >= 0 ? dyn_handles[h] : NULL, &pid);

		if ((int) st != last_status || pid != last_pid)
		{
			say("dyn: watch h=%d status=%s pid=%d", h, dyn_status_name(st), (int) pid);
			last_status = (int) st;
			last_pid = pid;
		}
		dyn_nap_ms(2);
	}
	say("dyn: watch h=%d end", h);
}

static void
dyn_cmd_until(const DynCmd *c)
{
	int			h = dyn_h(c);
	const char *want = dyn_opt(c, "status", "STARTED");
	long		t0 = dyn_mono_ms();
	long		until = t0 + dyn_opt_int(c, "ms", 5000);
	pid_t		pid;
	BgwHandleStatus st;

	for (;;)
	{
		pid = 0;
		st = GetBackgroundWorkerPid(h >= 0 ? dyn_handles[h] : NULL, &pid);
		if (strcmp(dyn_status_name(st), want) == 0 || dyn_mono_ms() >= until)
			break;
		dyn_nap_ms(2);
	}
	say("dyn: until h=%d status=%s pid=%d ms=%ld", h, dyn_status_name(st), (int) pid,
		dyn_mono_ms() - t0);
}

static void
dyn_cmd_gate(const DynCmd *c)
{
	const char *dir = getenv("PROBE_STATE_DIR");
	const char *name = dyn_opt(c, "name", "go");
	char		path[1024];

	snprintf(path, sizeof(path), "%s/%s", dir != NULL ? dir : ".", name);
	while (access(path, F_OK) != 0)
		dyn_nap_ms(5);
	say("dyn: gate %s open", name);
}

static void
dyn_run_one(DynCmd *c)
{
	const char *v = c->verb;

	if (strcmp(v, "reg") == 0)
		dyn_cmd_reg(c);
	else if (strcmp(v, "get") == 0)
	{
		int			h = dyn_h(c);
		pid_t		pid = 0;
		BgwHandleStatus st = GetBackgroundWorkerPid(h >= 0 ? dyn_handles[h] : NULL, &pid);

		say("dyn: get h=%d status=%s pid=%d", h, dyn_status_name(st), (int) pid);
	}
	else if (strcmp(v, "waitstart") == 0)
		dyn_cmd_wait(c, true);
	else if (strcmp(v, "waitstop") == 0)
		dyn_cmd_wait(c, false);
	else if (strcmp(v, "term") == 0)
	{
		int			h = dyn_h(c);

		TerminateBackgroundWorker(h >= 0 ? dyn_handles[h] : NULL);
		say("dyn: term h=%d done", h);
	}
	else if (strcmp(v, "free") == 0)
	{
		int			h = dyn_h(c);

		if (h >= 0 && dyn_handles[h] != NULL)
		{
			pfree(dyn_handles[h]);
			dyn_handles[h] = NULL;
		}
		say("dyn: free h=%d done", h);
	}
	else if (strcmp(v, "typeof") == 0)
		dyn_cmd_typeof(c);
	else if (strcmp(v, "watch") == 0)
		dyn_cmd_watch(c);
	else if (strcmp(v, "until") == 0)
		dyn_cmd_until(c);
	else if (strcmp(v, "sleep") == 0)
		dyn_nap_ms(dyn_opt_int(c, "ms", 100));
	else if (strcmp(v, "gate") == 0)
		dyn_cmd_gate(c);
	else if (strcmp(v, "usr1") == 0)
		pqsignal(SIGUSR1, procsignal_sigusr1_handler);
	else if (strcmp(v, "usr1count") == 0)
		pqsignal(SIGUSR1, dyn_usr1_counter);
	else if (strcmp(v, "count") == 0)
		say("dyn: usr1 count=%d", (int) dyn_usr1_count);
	else if (strcmp(v, "sigterm") == 0)
		pqsignal(SIGTERM, dyn_sigterm_flag);
	else if (strcmp(v, "waitterm") == 0)
	{
		while (!dyn_got_sigterm)
			dyn_nap_ms(2);
		say("dyn: got SIGTERM");
	}
	else if (strcmp(v, "pid") == 0)
		say("dyn: pid=%d", (int) getpid());
	else if (strcmp(v, "exit") == 0)
	{
		say("dyn: exiting code=%d", dyn_opt_int(c, "code", 0));
		dyn_exit(dyn_opt_int(c, "code", 0));
	}
	else
		say("dyn: unknown command \"%s\"", v);
}

/* Parses and runs a script (the text is copied; the original is not modified). */
static void
dyn_run_script(const char *script)
{
	char	   *copy;
	char	   *p;

	if (script == NULL)
		return;
	copy = strdup(script);
	if (copy == NULL)
		return;
	p = copy;
	while (p != NULL && *p != '\0')
	{
		char	   *next = strchr(p, ';');
		char	   *f;
		DynCmd		c;

		if (next != NULL)
			*next++ = '\0';
		memset(&c, 0, sizeof(c));
		c.verb = p;
		f = strchr(p, ',');
		if (f != NULL)
			*f++ = '\0';
		while (f != NULL && *f != '\0' && c.n < DYN_MAX_FIELDS)
		{
			char	   *fnext = strchr(f, ',');
			char	   *eq;

			if (fnext != NULL)
				*fnext++ = '\0';
			eq = strchr(f, '=');
			if (eq != NULL)
			{
				*eq = '\0';
				c.keys[c.n] = f;
				c.vals[c.n] = eq + 1;
				c.n++;
			}
			f = fnext;
		}
		if (*c.verb != '\0')
			dyn_run_one(&c);
		p = next;
	}
	free(copy);
	say("dyn: script done");
}

#endif							/* DYN_SCRIPT_H */
