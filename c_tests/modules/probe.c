/*
 * probe.c -- one configurable test module serving most scenario tests: _PG_init registers the
 * workers described in $PROBE_WORKERS, and each worker's behaviour is chosen by its bgw_extra.
 *
 * $PROBE_WORKERS: worker specs separated by ';', each a ','-separated list of key=value:
 *   name, type (default ""), flags (int, default BGWORKER_SHMEM_ACCESS), start (0/1/2, default 0),
 *   restart (seconds, default 60), lib (default "probe"), func (default "probe_main"),
 *   mode (copied to bgw_extra, default "idle"), arg (int main arg, default 0),
 *   notify (int, or "self" for the supervisor's own pid; default 0).
 *
 * mode = BASE[+OPTION...]
 *   BASE: idle (sleep on the latch, WL_EXIT_ON_PM_DEATH), tick (log every arg ms), exit (proc_exit(arg)),
 *         segv, abort, error, fatal, panic, return, sighup (log each SIGHUP), sigmask (log the blocked
 *         signals at entry), latch (log the latch state and the first two waits),
 *         forker (fork a grandchild that only pause()s, log its pid, then idle),
 *         pmdeath (wait with WL_POSTMASTER_DEATH only; log when it is reported, exit 1),
 *         report (one LOG report with a SQLSTATE, DETAIL, HINT and CONTEXT, quotes, commas and
 *         a newline in its text), long (one LOG message of arg bytes: LONG< x... >END),
 *         burst (arg LOG lines "burst N" at once), rawstderr (a line written to stderr with
 *         fprintf, not through elog); each idles afterwards
 *   OPTION: wait    -- do nothing until SIGUSR1 arrives, then act (lets a test pick the moment)
 *           once    -- act only the first time ($PROBE_STATE_DIR/<name>.once marks it), idle after
 *           quitlog -- on SIGQUIT write "probe "<name>" got SIGQUIT" to stderr, then _exit(2)
 *           noquit  -- ignore SIGQUIT (the supervisor must SIGKILL it)
 *           noterm  -- ignore SIGTERM (a smart or fast shutdown waits for it)
 *
 * Every worker logs `probe "<name>" started pid=<getpid> myprocpid=<MyProcPid> mode=<mode>` first.
 */
#include "postgres.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "postmaster/bgworker.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/pmsignal.h"
#include "utils/wait_event.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

PG_MODULE_MAGIC;

void		_PG_init(void);
PGDLLEXPORT void probe_main(Datum main_arg);

static volatile sig_atomic_t got_usr1 = 0;
static volatile sig_atomic_t got_hup = 0;
static char quit_message[BGW_MAXLEN + 64];
static int	quit_message_len = 0;

/* ---------- registration (postmaster side) ---------- */

static void
copy_field(char *dst, const char *src, size_t len)
{
	size_t		n = strlen(src);

	if (n >= len)
		n = len - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* Parse one "key=value,key=value" spec (modified in place) into w; false on a bad key. */
static bool
parse_spec(char *spec, BackgroundWorker *w)
{
	char	   *p = spec;

	memset(w, 0, sizeof(*w));
	w->bgw_flags = BGWORKER_SHMEM_ACCESS;
	w->bgw_start_time = BgWorkerStart_PostmasterStart;
	w->bgw_restart_time = BGW_DEFAULT_RESTART_INTERVAL;
	copy_field(w->bgw_library_name, "probe", BGW_MAXLEN);
	copy_field(w->bgw_function_name, "probe_main", BGW_MAXLEN);
	copy_field(w->bgw_extra, "idle", BGW_EXTRALEN);

	while (p != NULL && *p != '\0')
	{
		char	   *next = strchr(p, ',');
		char	   *eq;

		if (next != NULL)
			*next++ = '\0';
		eq = strchr(p, '=');
		if (eq == NULL)
			return false;
		*eq = '\0';
		{
			const char *key = p;
			const char *val = eq + 1;

			if (strcmp(key, "name") == 0)
				copy_field(w->bgw_name, val, BGW_MAXLEN);
			else if (strcmp(key, "type") == 0)
				copy_field(w->bgw_type, val, BGW_MAXLEN);
			else if (strcmp(key, "flags") == 0)
				w->bgw_flags = atoi(val);
			else if (strcmp(key, "start") == 0)
				w->bgw_start_time = (BgWorkerStartTime) atoi(val);
			else if (strcmp(key, "restart") == 0)
				w->bgw_restart_time = atoi(val);
			else if (strcmp(key, "lib") == 0)
				copy_field(w->bgw_library_name, val, BGW_MAXLEN);
			else if (strcmp(key, "func") == 0)
				copy_field(w->bgw_function_name, val, BGW_MAXLEN);
			else if (strcmp(key, "mode") == 0)
				copy_field(w->bgw_extra, val, BGW_EXTRALEN);
			else if (strcmp(key, "arg") == 0)
				w->bgw_main_arg = Int32GetDatum(atoi(val));
			else if (strcmp(key, "notify") == 0)
				w->bgw_notify_pid = strcmp(val, "self") == 0 ? getpid() : (pid_t) atoi(val);
			else
				return false;
		}
		p = next;
	}
	return true;
}

void
_PG_init(void)
{
	const char *env;
	char	   *specs;
	char	   *p;

	/* Static registration only makes sense while preloading (REG-1). */
	if (!process_shared_preload_libraries_in_progress)
		return;

	env = getenv("PROBE_WORKERS");
	if (env == NULL || *env == '\0')
		return;
	specs = malloc(strlen(env) + 1);
	if (specs == NULL)
		return;
	memcpy(specs, env, strlen(env) + 1);

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
			elog(WARNING, "probe: bad worker spec in PROBE_WORKERS");
		p = next;
	}
	free(specs);
}

/* ---------- the worker ---------- */

static void
probe_sigusr1(SIGNAL_ARGS)
{
	int			save_errno = errno;

	(void) postgres_signal_arg;
	got_usr1 = 1;
	SetLatch(MyLatch);
	errno = save_errno;
}

static void
probe_sighup(SIGNAL_ARGS)
{
	int			save_errno = errno;

	(void) postgres_signal_arg;
	got_hup = 1;
	SetLatch(MyLatch);
	errno = save_errno;
}

static void
probe_sigquit(SIGNAL_ARGS)
{
	ssize_t		rc;

	(void) postgres_signal_arg;
	rc = write(2, quit_message, (size_t) quit_message_len);
	(void) rc;
	_exit(2);
}

static bool
has_option(const char *mode, const char *option)
{
	const char *p = strchr(mode, '+');
	size_t		n = strlen(option);

	while (p != NULL)
	{
		p++;
		if (strncmp(p, option, n) == 0 && (p[n] == '\0' || p[n] == '+'))
			return true;
		p = strchr(p, '+');
	}
	return false;
}

static bool
is_base(const char *mode, const char *base)
{
	size_t		n = strlen(base);

	return strncmp(mode, base, n) == 0 && (mode[n] == '\0' || mode[n] == '+');
}

/* Comma-separated list of the standard signals (1..31) that are in *set. */
static void
format_sigset(const sigset_t *set, char *buf, size_t len)
{
	size_t		used = 0;
	int			sig;

	buf[0] = '\0';
	for (sig = 1; sig < 32; sig++)
	{
		if (sigismember(set, sig) == 1)
		{
			int			n = snprintf(buf + used, len - used, "%s%d", used > 0 ? "," : "", sig);

			if (n < 0 || (size_t) n >= len - used)
				break;
			used += (size_t) n;
		}
	}
}

static long
elapsed_ms(const struct timespec *since)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (long) (now.tv_sec - since->tv_sec) * 1000L + (now.tv_nsec - since->tv_nsec) / 1000000L;
}

/* Sleep on the latch until the supervisor goes away or a signal handler sets the latch. */
static void
idle_loop(const char *name)
{
	for (;;)
	{
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_EXIT_ON_PM_DEATH, -1L, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		if (got_hup)
		{
			got_hup = 0;
			elog(LOG, "probe \"%s\" got SIGHUP", name);
		}
	}
}

/* True the first time this worker name gets here in this test (marker file). */
static bool
first_time(const char *name)
{
	const char *dir = getenv("PROBE_STATE_DIR");
	char		path[1024];
	int			fd;

	if (dir == NULL)
		return true;
	snprintf(path, sizeof(path), "%s/%s.once", dir, name);
	fd = open(path, O_CREAT | O_EXCL | O_WRONLY, 0600);
	if (fd < 0)
		return false;
	close(fd);
	return true;
}

void
probe_main(Datum main_arg)
{
	char		name[BGW_MAXLEN];
	char		mode[BGW_EXTRALEN];
	int			arg = DatumGetInt32(main_arg);
	sigset_t	entry_mask;
	int			latch_set_at_entry = -1;
	int			latch_owner_ok = -1;

	/* Capture the state we were started in before touching anything. */
	sigemptyset(&entry_mask);
	sigprocmask(SIG_SETMASK, NULL, &entry_mask);
	if (MyLatch != NULL)
	{
		latch_set_at_entry = MyLatch->is_set;
		latch_owner_ok = MyLatch->owner_pid == MyProcPid;
	}

	copy_field(name, MyBgworkerEntry->bgw_name, sizeof(name));
	copy_field(mode, MyBgworkerEntry->bgw_extra, sizeof(mode));

	quit_message_len = snprintf(quit_message, sizeof(quit_message), "probe \"%s\" got SIGQUIT\n", name);
	if (quit_message_len < 0 || (size_t) quit_message_len >= sizeof(quit_message))
		quit_message_len = 0;

	if (has_option(mode, "wait"))
		pqsignal(SIGUSR1, probe_sigusr1);
	if (is_base(mode, "sighup"))
		pqsignal(SIGHUP, probe_sighup);
	if (has_option(mode, "quitlog"))
		pqsignal(SIGQUIT, probe_sigquit);
	if (has_option(mode, "noquit"))
		pqsignal(SIGQUIT, SIG_IGN);
	if (has_option(mode, "noterm"))
		pqsignal(SIGTERM, SIG_IGN);

	BackgroundWorkerUnblockSignals();

	elog(LOG, "probe \"%s\" started pid=%d myprocpid=%d mode=%s arg=%d",
		 name, (int) getpid(), MyProcPid, mode, arg);

	if (is_base(mode, "sigmask"))
	{
		char		buf[256];
		sigset_t	now;

		format_sigset(&entry_mask, buf, sizeof(buf));
		elog(LOG, "probe \"%s\" blocked at entry: %s", name, buf);
		sigemptyset(&now);
		sigprocmask(SIG_SETMASK, NULL, &now);
		format_sigset(&now, buf, sizeof(buf));
		elog(LOG, "probe \"%s\" blocked after unblock: %s", name, buf);
		BackgroundWorkerBlockSignals();
		sigemptyset(&now);
		sigprocmask(SIG_SETMASK, NULL, &now);
		format_sigset(&now, buf, sizeof(buf));
		elog(LOG, "probe \"%s\" blocked after block: %s", name, buf);
		BackgroundWorkerUnblockSignals();
	}

	if (is_base(mode, "latch"))
	{
		struct timespec t0;
		int			rc1;
		int			rc2;
		long		ms1;
		long		ms2;

		clock_gettime(CLOCK_MONOTONIC, &t0);
		rc1 = WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, 5000L, PG_WAIT_EXTENSION);
		ms1 = elapsed_ms(&t0);
		ResetLatch(MyLatch);
		clock_gettime(CLOCK_MONOTONIC, &t0);
		rc2 = WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, 200L, PG_WAIT_EXTENSION);
		ms2 = elapsed_ms(&t0);
		elog(LOG, "probe \"%s\" latch set_at_entry=%d owner_ok=%d first_rc=%d first_ms=%ld second_rc=%d second_ms=%ld",
			 name, latch_set_at_entry, latch_owner_ok, rc1, ms1, rc2, ms2);
	}

	if (has_option(mode, "wait"))
	{
		while (!got_usr1)
		{
			(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_EXIT_ON_PM_DEATH, -1L, PG_WAIT_EXTENSION);
			ResetLatch(MyLatch);
		}
		elog(LOG, "probe \"%s\" triggered", name);
	}

	if (has_option(mode, "once") && !first_time(name))
		idle_loop(name);

	if (is_base(mode, "register"))
	{
		/* A static registration from a running worker: a mistake, which is logged. */
		BackgroundWorker late;

		memset(&late, 0, sizeof(late));
		late.bgw_flags = BGWORKER_SHMEM_ACCESS;
		late.bgw_start_time = BgWorkerStart_RecoveryFinished;
		late.bgw_restart_time = BGW_NEVER_RESTART;
		snprintf(late.bgw_library_name, BGW_MAXLEN, "probe");
		snprintf(late.bgw_function_name, BGW_MAXLEN, "probe_main");
		snprintf(late.bgw_name, BGW_MAXLEN, "registered late");
		RegisterBackgroundWorker(&late);
		elog(LOG, "probe \"%s\" called RegisterBackgroundWorker", name);
	}

	if (is_base(mode, "exit"))
		proc_exit(arg);
	else if (is_base(mode, "linger"))
	{
		/* stays up for arg milliseconds, then fails (exit code 1) */
		(void) WaitLatch(MyLatch, WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, (long) arg, PG_WAIT_EXTENSION);
		proc_exit(1);
	}
	else if (is_base(mode, "segv"))
	{
		int		   *volatile nowhere = NULL;

		*nowhere = 1;
	}
	else if (is_base(mode, "abort"))
		abort();
	else if (is_base(mode, "error"))
		elog(ERROR, "probe \"%s\" raising an ERROR", name);
	else if (is_base(mode, "fatal"))
		elog(FATAL, "probe \"%s\" raising a FATAL", name);
	else if (is_base(mode, "panic"))
		elog(PANIC, "probe \"%s\" raising a PANIC", name);
	else if (is_base(mode, "return"))
		return;
	else if (is_base(mode, "forker"))
	{
		/*
		 * A grandchild: a plain process in the worker's process group with default
		 * dispositions; +stubborn: it ignores SIGTERM, SIGQUIT and SIGINT; +daemon: it leaves
		 * by a double fork and a session of its own (its parent exits, so it is orphaned).
		 * +exit: the worker exits (code 1) once it has forked.
		 */
		int			fds[2];
		pid_t		child;
		pid_t		grandchild = -1;

		if (pipe(fds) != 0)
			elog(ERROR, "pipe: %m");
		child = fork();
		if (child == 0)
		{
			sigset_t	none;
			pid_t		me;

			close(fds[0]);
			if (has_option(mode, "daemon"))
			{
				if (fork() != 0)
					_exit(0);
				setsid();
			}
			signal(SIGTERM, has_option(mode, "stubborn") ? SIG_IGN : SIG_DFL);
			signal(SIGQUIT, has_option(mode, "stubborn") ? SIG_IGN : SIG_DFL);
			signal(SIGINT, has_option(mode, "stubborn") ? SIG_IGN : SIG_DFL);
			signal(SIGHUP, SIG_DFL);
			sigemptyset(&none);
			sigprocmask(SIG_SETMASK, &none, NULL);
			me = getpid();
			if (write(fds[1], &me, sizeof(me)) != sizeof(me))
				_exit(1);
			close(fds[1]);
			for (;;)
				pause();
		}
		close(fds[1]);
		if (read(fds[0], &grandchild, sizeof(grandchild)) != sizeof(grandchild))
			grandchild = -1;
		close(fds[0]);
		elog(LOG, "probe \"%s\" forked grandchild=%d", name, (int) grandchild);
		if (has_option(mode, "exit"))
			proc_exit(1);
	}
	else if (is_base(mode, "pmdeath"))
	{
		for (;;)
		{
			int			rc = WaitLatch(MyLatch, WL_LATCH_SET | WL_POSTMASTER_DEATH, -1L, PG_WAIT_EXTENSION);

			ResetLatch(MyLatch);
			if (rc & WL_POSTMASTER_DEATH)
			{
				elog(LOG, "probe \"%s\" saw postmaster death rc=%d alive=%d",
					 name, rc, (int) PostmasterIsAlive());
				proc_exit(1);
			}
		}
	}
	else if (is_base(mode, "report"))
	{
		ereport(LOG,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("probe \"%s\" report: \"quoted\", comma\nsecond line", name),
				 errdetail("detail, with \"quotes\""),
				 errhint("hint text"),
				 errcontext_msg("context of %s", name)));
	}
	else if (is_base(mode, "long"))
	{
		int			len = arg > 16 ? arg : 16;
		char	   *text = malloc((size_t) len + 1);

		memset(text, 'x', (size_t) len);
		memcpy(text, "LONG<", 5);
		memcpy(text + len - 4, ">END", 4);
		text[len] = '\0';
		elog(LOG, "%s", text);
		free(text);
	}
	else if (is_base(mode, "burst"))
	{
		for (int i = 1; i <= arg; i++)
			elog(LOG, "probe \"%s\" burst %d", name, i);
	}
	else if (is_base(mode, "rawstderr"))
	{
		fprintf(stderr, "probe \"%s\" raw line on stderr\n", name);
		fflush(stderr);
	}
	else if (is_base(mode, "tick"))
	{
		for (;;)
		{
			int			rc = WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
									   arg > 0 ? (long) arg : 1000L, PG_WAIT_EXTENSION);

			ResetLatch(MyLatch);
			if (rc & WL_TIMEOUT)
				elog(LOG, "probe \"%s\" tick", name);
		}
	}

	/* idle, sighup, sigmask, latch, and whatever is left after a one-shot action */
	idle_loop(name);
}
