/*
 * attach_client.c -- an external process using the dynamic-worker API (tests/attach.rs).
 *
 *   attach_client DATADIR SCRIPT
 *
 * Calls BackgroundWorkerAttach(DATADIR) (DATADIR "-" skips the call, to try the API unattached),
 * prints "attach ok=0|1" and, when attached (or skipped), runs SCRIPT (see dyn_script.h); every
 * result goes to stdout, one line each.  The library's own WARNINGs go to stderr.
 * Exit status: 0 after the script, 2 when the attach was refused.
 */
#include "dyn_script.h"

static void
dyn_say(const char *line)
{
	printf("%s\n", line);
	fflush(stdout);
}

static void
dyn_exit(int code)
{
	exit(code);
}

int
main(int argc, char **argv)
{
	bool		ok = true;

	if (argc < 3)
	{
		fprintf(stderr, "usage: %s DATADIR|- SCRIPT\n", argv[0]);
		return 64;
	}
	if (strcmp(argv[1], "-") != 0)
	{
		ok = BackgroundWorkerAttach(argv[1]);
		say("attach ok=%d", (int) ok);
	}
	if (!ok)
		return 2;
	dyn_run_script(argv[2]);
	return 0;
}
