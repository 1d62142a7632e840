/*
 * dsm_client.c -- a process attached from outside (BackgroundWorkerAttach) as a full peer of
 * workers: it makes a DSM segment with two message queues (as dsm_probe's two_queues lays them
 * out), launches one of dsm_probe's helpers on it and talks to it (tests/dsm_faults.rs).
 *
 *   dsm_client DATADIR MODE
 *
 * MODE:
 *   echo-then-hang   round trips through an "echo" worker, prints "echo ok", then waits to be
 *                    killed ("hanging")
 *   send-to-silent   launches a "silent" worker (with shared-memory access), prints
 *                    "worker PID", then a blocking send longer than the ring; prints
 *                    "send result N" (2 = SHM_MQ_DETACHED) once it returns
 *   attach-only      attaches and leaves
 * Everything goes to stdout, one line each; exit 0, or 2 when attaching failed.
 */
#include "postgres.h"

#include <unistd.h>

#include "miscadmin.h"
#include "postmaster/bgworker.h"
#include "storage/dsm.h"
#include "storage/proc.h"
#include "storage/procarray.h"
#include "storage/shm_mq.h"
#include "storage/shm_toc.h"

#define PROBE_MAGIC 0x64736d70
#define QSIZE 1024

static void
say(const char *fmt, int v)
{
	printf(fmt, v);
	printf("\n");
	fflush(stdout);
}

static BackgroundWorkerHandle *
launch(const char *role, dsm_handle h)
{
	BackgroundWorker w;
	BackgroundWorkerHandle *handle;

	memset(&w, 0, sizeof(w));
	w.bgw_flags = BGWORKER_SHMEM_ACCESS;
	w.bgw_start_time = BgWorkerStart_ConsistentState;
	w.bgw_restart_time = BGW_NEVER_RESTART;
	snprintf(w.bgw_library_name, BGW_MAXLEN, "dsm_probe");
	snprintf(w.bgw_function_name, BGW_MAXLEN, "dsm_probe_helper");
	snprintf(w.bgw_name, BGW_MAXLEN, "dsm_client %s", role);
	snprintf(w.bgw_type, BGW_MAXLEN, "dsm_probe helper");
	snprintf(w.bgw_extra, BGW_EXTRALEN, "%s", role);
	w.bgw_main_arg = UInt32GetDatum(h);
	w.bgw_notify_pid = MyProcPid;
	if (!RegisterDynamicBackgroundWorker(&w, &handle))
	{
		say("could not register %d", 0);
		exit(1);
	}
	return handle;
}

int
main(int argc, char **argv)
{
	shm_toc_estimator e;
	Size		size;
	dsm_segment *seg;
	shm_toc    *toc;
	shm_mq	   *out;
	shm_mq	   *in;
	shm_mq_handle *outh;
	shm_mq_handle *inh;
	BackgroundWorkerHandle *worker;
	static char big[8 * QSIZE];

	if (argc < 3)
		return 64;
	if (!BackgroundWorkerAttach(argv[1]))
		return 2;
	say("attached, MyProc set %d", MyProc != NULL);
	say("BackendPidGetProc finds it %d", BackendPidGetProc(MyProcPid) == MyProc);
	say("its latch is MyLatch %d", MyProc != NULL && MyLatch == &MyProc->procLatch);
	if (strcmp(argv[2], "attach-only") == 0)
		return 0;

	shm_toc_initialize_estimator(&e);
	shm_toc_estimate_chunk(&e, QSIZE);
	shm_toc_estimate_chunk(&e, QSIZE);
	shm_toc_estimate_keys(&e, 2);
	size = shm_toc_estimate(&e);
	seg = dsm_create(size, 0);
	toc = shm_toc_create(PROBE_MAGIC, dsm_segment_address(seg), size);
	out = shm_mq_create(shm_toc_allocate(toc, QSIZE), QSIZE);
	in = shm_mq_create(shm_toc_allocate(toc, QSIZE), QSIZE);
	shm_toc_insert(toc, 1, out);
	shm_toc_insert(toc, 2, in);
	shm_mq_set_sender(out, MyProc);
	shm_mq_set_receiver(in, MyProc);

	if (strcmp(argv[2], "echo-then-hang") == 0)
	{
		int			ok = 0;

		worker = launch("echo", dsm_segment_handle(seg));
		outh = shm_mq_attach(out, seg, worker);
		inh = shm_mq_attach(in, seg, worker);
		for (int i = 0; i < 100; i++)
		{
			Size		len;
			void	   *data;

			if (shm_mq_send(outh, sizeof(big) - i, big, false, true) == SHM_MQ_SUCCESS &&
				shm_mq_receive(inh, &len, &data, false) == SHM_MQ_SUCCESS &&
				len == sizeof(big) - (Size) i)
				ok++;
		}
		say("echo ok %d", ok);
		say("hanging %d", 1);
		for (;;)
			pause();
	}
	if (strcmp(argv[2], "send-to-silent") == 0)
	{
		pid_t		pid = 0;

		worker = launch("silent", dsm_segment_handle(seg));
		outh = shm_mq_attach(out, seg, worker);
		(void) shm_mq_wait_for_attach(outh);
		(void) WaitForBackgroundWorkerStartup(worker, &pid);
		say("worker %d", (int) pid);
		say("send result %d", (int) shm_mq_send(outh, sizeof(big), big, false, true));
		dsm_detach(seg);
		say("detached %d", 1);
		return 0;
	}
	return 64;
}
