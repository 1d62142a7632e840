/*
 * dsm_probe.c -- dynamic shared memory as PostgreSQL 15 modules use it: segments made, passed
 * by handle and attached by dynamic workers, detach callbacks, pins, resource owners; tables of
 * contents; message queues between a worker and the workers it launches; hash tables, local and
 * in shared memory (ShmemInitHash, partitioned under LWLocks, fixed size); condition variables;
 * dynamic shared areas and dshash tables.  The same source is built against include/ and, with
 * PGXS, against PostgreSQL 15's own headers (tests/dsm.rs).
 *
 * _PG_init registers one worker per word of DSM_PROBE (comma-separated modes); each logs
 * "dsm_probe MODE: ..." lines, then "dsm_probe MODE: done", and exits 0 (1 on an uncaught
 * ERROR; the fault modes "churn" and "crasher:MS" never end and are restarted).  Helpers it
 * launches run dsm_probe_helper with a role in bgw_extra and the handle of
 * the segment to use in bgw_main_arg.  Lines holding "(local)" carry values that vary.
 */
#include "postgres.h"

#include <unistd.h>

#include "fmgr.h"
#include "miscadmin.h"
#include "common/hashfn.h"
#include "lib/dshash.h"
#include "postmaster/bgworker.h"
#include "storage/condition_variable.h"
#include "storage/dsm.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/lwlock.h"
#include "storage/pmsignal.h"
#include "storage/proc.h"
#include "storage/procarray.h"
#include "storage/shm_mq.h"
#include "storage/shm_toc.h"
#include "storage/shmem.h"
#include "storage/spin.h"
#include "tcop/tcopprot.h"
#include "utils/dsa.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"
#include "utils/resowner.h"
#include "utils/timestamp.h"
#include "utils/wait_event.h"

PG_MODULE_MAGIC;

void		_PG_init(void);
PGDLLEXPORT void dsm_probe_main(Datum arg) pg_attribute_noreturn();
PGDLLEXPORT void dsm_probe_helper(Datum arg) pg_attribute_noreturn();

#define PROBE_MAGIC 0x64736d70
#define PARTS 16

static const char *mode = "";

#define PROBE_LOG(...) \
	do { \
		char		probe_line_[1024]; \
		snprintf(probe_line_, sizeof(probe_line_), __VA_ARGS__); \
		elog(LOG, "dsm_probe %s: %s", mode, probe_line_); \
	} while (0)

#define CHECK(cond, ...) \
	do { \
		if (!(cond)) \
		{ \
			char		probe_why_[512]; \
			snprintf(probe_why_, sizeof(probe_why_), __VA_ARGS__); \
			elog(LOG, "dsm_probe %s: FAIL: %s (%s)", mode, probe_why_, #cond); \
		} \
	} while (0)

/* Runs `stmt`; logs "WHAT raised ERROR: message" (or "WHAT raised nothing"). */
#define EXPECT_ERROR(what, stmt) \
	do { \
		MemoryContext probe_cxt_ = CurrentMemoryContext; \
		volatile bool probe_raised_ = false; \
		PG_TRY(); \
		{ \
			stmt; \
		} \
		PG_CATCH(); \
		{ \
			ErrorData  *probe_e_; \
			MemoryContextSwitchTo(probe_cxt_); \
			probe_e_ = CopyErrorData(); \
			FlushErrorState(); \
			probe_raised_ = true; \
			PROBE_LOG("%s raised ERROR: %s", what, probe_e_->message); \
			FreeErrorData(probe_e_); \
		} \
		PG_END_TRY(); \
		if (!probe_raised_) \
			PROBE_LOG("%s raised nothing", what); \
	} while (0)

/* ---------- shared memory of the module (hash tables, condition variables) ---------- */

typedef struct ProbeShared
{
	slock_t		mutex;
	int			go;
	int			tokens;
	int			woken;
	ConditionVariable cv;
} ProbeShared;

typedef struct PartEntry
{
	uint32		key;
	uint32		value;
} PartEntry;

typedef struct NameEntry
{
	char		name[16];
	int			n;
} NameEntry;

static shmem_request_hook_type prev_request_hook = NULL;
static shmem_startup_hook_type prev_startup_hook = NULL;
static ProbeShared *shared = NULL;
static HTAB *part_table = NULL;
static HTAB *fixed_table = NULL;

static void
probe_request(void)
{
	if (prev_request_hook)
		prev_request_hook();
	RequestAddinShmemSpace(MAXALIGN(sizeof(ProbeShared)));
	RequestAddinShmemSpace(hash_estimate_size(4096, sizeof(PartEntry)));
	RequestAddinShmemSpace(hash_estimate_size(100, sizeof(PartEntry)));
	RequestNamedLWLockTranche("dsm_probe parts", PARTS);
}

static void
attach_shared(void)
{
	bool		found;
	HASHCTL		info;

	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	shared = ShmemInitStruct("dsm_probe shared", sizeof(ProbeShared), &found);
	if (!found)
	{
		memset(shared, 0, sizeof(ProbeShared));
		SpinLockInit(&shared->mutex);
		ConditionVariableInit(&shared->cv);
	}
	memset(&info, 0, sizeof(info));
	info.keysize = sizeof(uint32);
	info.entrysize = sizeof(PartEntry);
	info.num_partitions = PARTS;
	part_table = ShmemInitHash("dsm_probe parts", 4096, 4096, &info,
							   HASH_ELEM | HASH_BLOBS | HASH_PARTITION);
	memset(&info, 0, sizeof(info));
	info.keysize = sizeof(uint32);
	info.entrysize = sizeof(PartEntry);
	fixed_table = ShmemInitHash("dsm_probe fixed", 100, 100, &info,
								HASH_ELEM | HASH_BLOBS | HASH_FIXED_SIZE);
	LWLockRelease(AddinShmemInitLock);
}

static void
probe_startup(void)
{
	if (prev_startup_hook)
		prev_startup_hook();
	attach_shared();
}

/* ---------- helpers ---------- */

/* Waits (bounded, 10 s) until *flag (in shared memory) is non-zero; true if it became so. */
static bool
wait_flag(volatile int *flag)
{
	for (int i = 0; i < 1000; i++)
	{
		if (*flag != 0)
			return true;
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, 10L,
						 PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
	}
	return *flag != 0;
}

static BackgroundWorkerHandle *
launch(const char *role, Datum arg, int flags, const char *function)
{
	BackgroundWorker w;
	BackgroundWorkerHandle *h;

	memset(&w, 0, sizeof(w));
	w.bgw_flags = flags;
	w.bgw_start_time = BgWorkerStart_ConsistentState;
	w.bgw_restart_time = BGW_NEVER_RESTART;
	snprintf(w.bgw_library_name, BGW_MAXLEN, "dsm_probe");
	snprintf(w.bgw_function_name, BGW_MAXLEN, "%s", function);
	snprintf(w.bgw_name, BGW_MAXLEN, "dsm_probe %s", role);
	snprintf(w.bgw_type, BGW_MAXLEN, "dsm_probe helper");
	snprintf(w.bgw_extra, BGW_EXTRALEN, "%s", role);
	w.bgw_main_arg = arg;
	w.bgw_notify_pid = MyProcPid;
	if (!RegisterDynamicBackgroundWorker(&w, &h))
		elog(ERROR, "dsm_probe: could not register helper %s", role);
	return h;
}

static void
wait_stopped(BackgroundWorkerHandle *h)
{
	(void) WaitForBackgroundWorkerShutdown(h);
}

static int	detach_order[8];
static int	detach_n = 0;

static void
record_detach(dsm_segment *seg, Datum arg)
{
	(void) seg;
	if (detach_n < 8)
		detach_order[detach_n++] = DatumGetInt32(arg);
}

/* ---------- segments ---------- */

typedef struct SegHeader
{
	int			ack;
	char		text[64];
} SegHeader;

static void
mode_segments(void)
{
	dsm_segment *seg;
	dsm_segment *seg2;
	dsm_segment *more[4096];
	dsm_handle	h;
	dsm_handle	h2;
	SegHeader  *hdr;
	char	   *bytes;
	bool		zero = true;
	int			n = 0;
	BackgroundWorkerHandle *helper;

	seg = dsm_create(10000, 0);
	h = dsm_segment_handle(seg);
	bytes = dsm_segment_address(seg);
	for (int i = 0; i < 10000; i++)
		if (bytes[i] != 0)
			zero = false;
	PROBE_LOG("created: length %zu, zeroed %d, handle valid %d",
			  dsm_segment_map_length(seg), (int) zero, (int) (h != DSM_HANDLE_INVALID));
	PROBE_LOG("dsm_find_mapping finds it %d", (int) (dsm_find_mapping(h) == seg));
	EXPECT_ERROR("attaching it again", (void) dsm_attach(h));

	hdr = (SegHeader *) bytes;
	snprintf(hdr->text, sizeof(hdr->text), "written by the creator");
	helper = launch("reader", UInt32GetDatum(h), BGWORKER_SHMEM_ACCESS, "dsm_probe_helper");
	PROBE_LOG("a worker attached it by handle and read it %d", (int) wait_flag(&hdr->ack));
	wait_stopped(helper);
	PROBE_LOG("what the worker wrote back: \"%s\"", hdr->text);

	on_dsm_detach(seg, record_detach, Int32GetDatum(1));
	on_dsm_detach(seg, record_detach, Int32GetDatum(2));
	on_dsm_detach(seg, record_detach, Int32GetDatum(3));
	cancel_on_dsm_detach(seg, record_detach, Int32GetDatum(2));
	dsm_detach(seg);
	PROBE_LOG("detach callbacks ran %d: %d %d", detach_n, detach_order[0], detach_order[1]);
	PROBE_LOG("the handle of a destroyed segment attaches to NULL %d",
			  (int) (dsm_attach(h) == NULL));
	PROBE_LOG("dsm_find_mapping after detach is NULL %d", (int) (dsm_find_mapping(h) == NULL));

	/* A pinned segment outlives every mapping until unpinned. */
	seg2 = dsm_create(100, 0);
	h2 = dsm_segment_handle(seg2);
	strcpy((char *) dsm_segment_address(seg2), "kept");
	dsm_pin_segment(seg2);
	EXPECT_ERROR("pinning twice", dsm_pin_segment(seg2));
	dsm_detach(seg2);
	seg2 = dsm_attach(h2);
	PROBE_LOG("a pinned segment survives its last detach %d, content \"%s\"",
			  (int) (seg2 != NULL), seg2 ? (char *) dsm_segment_address(seg2) : "");
	if (seg2)
		dsm_detach(seg2);
	dsm_unpin_segment(h2);
	PROBE_LOG("unpinned with nobody attached, it is gone %d", (int) (dsm_attach(h2) == NULL));
	EXPECT_ERROR("unpinning a destroyed segment", dsm_unpin_segment(h2));
	seg2 = dsm_create(100, 0);
	EXPECT_ERROR("unpinning a segment that is not pinned",
				 dsm_unpin_segment(dsm_segment_handle(seg2)));
	dsm_detach(seg2);

	/* The table of segments is finite. */
	while (n < 4096 && (more[n] = dsm_create(64, DSM_CREATE_NULL_IF_MAXSEGMENTS)) != NULL)
		n++;
	PROBE_LOG("DSM_CREATE_NULL_IF_MAXSEGMENTS gave NULL after some segments %d", (int) (n > 64 && n < 4096));
	PROBE_LOG("(local) segments made before the table was full: %d", n);
	EXPECT_ERROR("creating one more", (void) dsm_create(64, 0));
	while (n > 0)
		dsm_detach(more[--n]);
	seg2 = dsm_create(64, DSM_CREATE_NULL_IF_MAXSEGMENTS);
	PROBE_LOG("after detaching them a segment can be made again %d", (int) (seg2 != NULL));
	if (seg2)
		dsm_detach(seg2);
}

static void
mode_resowner(void)
{
	ResourceOwner owner = ResourceOwnerCreate(NULL, "dsm_probe");
	dsm_segment *owned;
	dsm_segment *kept;
	dsm_segment *leaked;
	dsm_handle	ho;
	dsm_handle	hk;

	CurrentResourceOwner = owner;
	owned = dsm_create(100, 0);
	kept = dsm_create(100, 0);
	dsm_pin_mapping(kept);
	ho = dsm_segment_handle(owned);
	hk = dsm_segment_handle(kept);
	CurrentResourceOwner = NULL;
	ResourceOwnerRelease(owner, RESOURCE_RELEASE_BEFORE_LOCKS, false, true);
	PROBE_LOG("releasing the owner detached its segment %d", (int) (dsm_find_mapping(ho) == NULL));
	PROBE_LOG("a segment moved out with dsm_pin_mapping stays %d",
			  (int) (dsm_find_mapping(hk) == kept));
	dsm_unpin_mapping(kept);
	PROBE_LOG("dsm_unpin_mapping gives it to the current owner (none): it stays %d",
			  (int) (dsm_find_mapping(hk) == kept));
	dsm_detach(kept);

	CurrentResourceOwner = owner;
	leaked = dsm_create(100, 0);
	CurrentResourceOwner = NULL;
	PROBE_LOG("(local) leaked segment %u", dsm_segment_handle(leaked));
	ResourceOwnerRelease(owner, RESOURCE_RELEASE_BEFORE_LOCKS, true, true);
	PROBE_LOG("at commit it is detached too %d", (int) (dsm_find_mapping(dsm_segment_handle(leaked)) == NULL));
	ResourceOwnerDelete(owner);
	(void) leaked;
}

/* ---------- tables of contents ---------- */

static void
mode_toc(void)
{
	shm_toc_estimator e;
	Size		size;
	dsm_segment *seg;
	shm_toc    *toc;
	char	   *a;
	char	   *b;
	Size		before;

	shm_toc_initialize_estimator(&e);
	shm_toc_estimate_chunk(&e, 100);
	shm_toc_estimate_chunk(&e, 1000);
	shm_toc_estimate_keys(&e, 2);
	size = shm_toc_estimate(&e);
	PROBE_LOG("estimate for chunks of 100 and 1000 bytes and 2 keys: %zu", size);
	seg = dsm_create(size, 0);
	toc = shm_toc_create(PROBE_MAGIC, dsm_segment_address(seg), size);
	before = shm_toc_freespace(toc);
	a = shm_toc_allocate(toc, 100);
	b = shm_toc_allocate(toc, 1000);
	shm_toc_insert(toc, 1, a);
	shm_toc_insert(toc, 7, b);
	PROBE_LOG("free space %zu before, %zu after", before, shm_toc_freespace(toc));
	PROBE_LOG("chunks are buffer-aligned %d", (int) (((uintptr_t) a % 32) == 0 && ((uintptr_t) b % 32) == 0));
	PROBE_LOG("attach with another magic gives NULL %d",
			  (int) (shm_toc_attach(PROBE_MAGIC + 1, dsm_segment_address(seg)) == NULL));
	toc = shm_toc_attach(PROBE_MAGIC, dsm_segment_address(seg));
	PROBE_LOG("lookup finds both %d", (int) (shm_toc_lookup(toc, 1, false) == a &&
										   shm_toc_lookup(toc, 7, false) == b));
	PROBE_LOG("missing key with noError is NULL %d", (int) (shm_toc_lookup(toc, 42, true) == NULL));
	EXPECT_ERROR("(local) missing key", (void) shm_toc_lookup(toc, 42, false));
	EXPECT_ERROR("allocating past the end", (void) shm_toc_allocate(toc, 64));
	EXPECT_ERROR("inserting a third key", shm_toc_insert(toc, 8, a));
	EXPECT_ERROR("inserting a fourth key", shm_toc_insert(toc, 9, a));
	dsm_detach(seg);
}

/* ---------- message queues ---------- */

#define MQ_SIZE 1024

/* Sets up a segment with two queues: we send on key 1, receive on key 2. */
static dsm_segment *
two_queues(Size qsize, shm_mq **out, shm_mq **in)
{
	shm_toc_estimator e;
	Size		size;
	dsm_segment *seg;
	shm_toc    *toc;

	shm_toc_initialize_estimator(&e);
	shm_toc_estimate_chunk(&e, qsize);
	shm_toc_estimate_chunk(&e, qsize);
	shm_toc_estimate_keys(&e, 2);
	size = shm_toc_estimate(&e);
	seg = dsm_create(size, 0);
	toc = shm_toc_create(PROBE_MAGIC, dsm_segment_address(seg), size);
	*out = shm_mq_create(shm_toc_allocate(toc, qsize), qsize);
	*in = shm_mq_create(shm_toc_allocate(toc, qsize), qsize);
	shm_toc_insert(toc, 1, *out);
	shm_toc_insert(toc, 2, *in);
	shm_mq_set_sender(*out, MyProc);
	shm_mq_set_receiver(*in, MyProc);
	return seg;
}

static bool
round_trip(shm_mq_handle *outh, shm_mq_handle *inh, const char *msg, Size len)
{
	Size		got;
	void	   *data;

	if (shm_mq_send(outh, len, msg, false, true) != SHM_MQ_SUCCESS)
		return false;
	if (shm_mq_receive(inh, &got, &data, false) != SHM_MQ_SUCCESS)
		return false;
	return got == len && memcmp(data, msg, len) == 0;
}

static void
mode_mq(void)
{
	shm_mq	   *out;
	shm_mq	   *in;
	dsm_segment *seg = two_queues(MQ_SIZE, &out, &in);
	BackgroundWorkerHandle *h;
	shm_mq_handle *outh;
	shm_mq_handle *inh;
	static char big[10 * MQ_SIZE];
	shm_mq_iovec iov[3];
	Size		got;
	void	   *data;
	int			sent = 0;
	int			ok = 0;
	shm_mq_result r;

	PROBE_LOG("shm_mq_minimum_size %zu", shm_mq_minimum_size);
	PROBE_LOG("sender and receiver are set %d",
			  (int) (shm_mq_get_sender(out) == MyProc && shm_mq_get_receiver(in) == MyProc &&
					 shm_mq_get_receiver(out) == NULL));
	EXPECT_ERROR("a second sender", shm_mq_set_sender(out, MyProc));
	h = launch("echo", UInt32GetDatum(dsm_segment_handle(seg)), BGWORKER_SHMEM_ACCESS,
			   "dsm_probe_helper");
	outh = shm_mq_attach(out, seg, h);
	inh = shm_mq_attach(in, seg, h);
	PROBE_LOG("shm_mq_get_queue %d", (int) (shm_mq_get_queue(outh) == out));
	PROBE_LOG("wait for attach: %d", (int) shm_mq_wait_for_attach(outh));
	for (int i = 0; i < (int) sizeof(big); i++)
		big[i] = (char) ('a' + i % 26);
	PROBE_LOG("empty message %d", (int) round_trip(outh, inh, "", 0));
	PROBE_LOG("one byte %d", (int) round_trip(outh, inh, "x", 1));
	PROBE_LOG("as long as the ring %d", (int) round_trip(outh, inh, big, MQ_SIZE - 56));
	PROBE_LOG("ten times the ring %d", (int) round_trip(outh, inh, big, sizeof(big)));
	for (int i = 0; i < 200; i++)
		ok += round_trip(outh, inh, big + i, (Size) (i * 37) % 3000) ? 1 : 0;
	PROBE_LOG("200 messages of mixed lengths, all back intact: %d", ok);

	iov[0].data = big;
	iov[0].len = 5;
	iov[1].data = big + 100;
	iov[1].len = 3;
	iov[2].data = big + 200;
	iov[2].len = 2000;
	r = shm_mq_sendv(outh, iov, 3, false, true);
	if (r == SHM_MQ_SUCCESS)
		r = shm_mq_receive(inh, &got, &data, false);
	PROBE_LOG("sendv of 3 pieces arrives as one message of %zu bytes %d", got,
			  (int) (r == SHM_MQ_SUCCESS && got == 2008 && memcmp(data, big, 5) == 0 &&
					 memcmp((char *) data + 5, big + 100, 3) == 0 &&
					 memcmp((char *) data + 8, big + 200, 2000) == 0));

	/* Without waiting: the queue fills, then would block; everything arrives in order. */
	for (;;)
	{
		r = shm_mq_send(outh, 100, big, true, false);
		if (r != SHM_MQ_SUCCESS)
			break;
		sent++;
		if (sent > 100000)
			break;
	}
	PROBE_LOG("non-blocking sends fill the queues, then: %d (1 = would block)", (int) r);
	PROBE_LOG("(local) sent %d messages before it would block", sent);
	/* Finish the pending message and receive everything back, never blocking. */
	{
		bool		pending = true;
		int			received = 0;

		for (int tries = 0; tries < 100000 && (pending || received < sent); tries++)
		{
			bool		progress = false;

			if (pending && shm_mq_send(outh, 100, big, true, true) == SHM_MQ_SUCCESS)
			{
				sent++;
				pending = false;
				progress = true;
			}
			if (shm_mq_receive(inh, &got, &data, true) == SHM_MQ_SUCCESS)
			{
				if (got == 100 && memcmp(data, big, 100) == 0)
					received++;
				progress = true;
			}
			if (!progress)
			{
				(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, 10L,
								 PG_WAIT_EXTENSION);
				ResetLatch(MyLatch);
			}
		}
		PROBE_LOG("everything sent without blocking came back intact %d",
				  (int) (!pending && received == sent));
	}

	/* We detach our sending queue: the echo worker sees SHM_MQ_DETACHED and exits, detaching
	 * its sending queue, so our receive ends with SHM_MQ_DETACHED too. */
	shm_mq_detach(outh);
	for (;;)
	{
		r = shm_mq_receive(inh, &got, &data, false);
		if (r != SHM_MQ_SUCCESS)
			break;
	}
	PROBE_LOG("after we detached, the worker left and our receive says: %d (2 = detached)", (int) r);
	wait_stopped(h);
	dsm_detach(seg);
}

/* A worker that never starts: its handle ends every wait on the queue. */
static void
mode_mq_never_started(void)
{
	shm_mq	   *out;
	shm_mq	   *in;
	dsm_segment *seg = two_queues(MQ_SIZE, &out, &in);
	BackgroundWorkerHandle *h;
	shm_mq_handle *inh;
	shm_mq_handle *outh;
	Size		got;
	void	   *data;
	static char big[4 * MQ_SIZE];

	h = launch("missing", UInt32GetDatum(dsm_segment_handle(seg)), BGWORKER_SHMEM_ACCESS,
			   "dsm_probe_no_such_function");
	inh = shm_mq_attach(in, seg, h);
	PROBE_LOG("a blocking receive from a worker that never started: %d (2 = detached)",
			  (int) shm_mq_receive(inh, &got, &data, false));
	outh = shm_mq_attach(out, seg, NULL);
	shm_mq_set_handle(outh, h);
	PROBE_LOG("waiting for it to attach: %d", (int) shm_mq_wait_for_attach(outh));
	PROBE_LOG("a blocking send longer than the ring: %d",
			  (int) shm_mq_send(outh, sizeof(big), big, false, true));
	dsm_detach(seg);
}

/* The echo worker is killed while we wait in shm_mq_receive (it has no shared-memory access,
 * so its death restarts nothing): our receive ends with SHM_MQ_DETACHED. */
static void
mode_mq_peer_killed(void)
{
	shm_mq	   *out;
	shm_mq	   *in;
	dsm_segment *seg = two_queues(MQ_SIZE, &out, &in);
	BackgroundWorkerHandle *h;
	shm_mq_handle *inh;
	shm_mq_handle *outh;
	Size		got;
	void	   *data;
	pid_t		pid;
	shm_mq_result r;

	h = launch("silent", UInt32GetDatum(dsm_segment_handle(seg)), 0, "dsm_probe_helper");
	outh = shm_mq_attach(out, seg, NULL);
	inh = shm_mq_attach(in, seg, NULL);
	(void) shm_mq_wait_for_attach(inh);
	(void) WaitForBackgroundWorkerStartup(h, &pid);
	PROBE_LOG("waiting in a blocking receive; (local) the peer is PID %d", (int) pid);
	r = shm_mq_receive(inh, &got, &data, false);
	PROBE_LOG("the peer died without detaching; the receive says: %d (2 = detached)", (int) r);
	{
		static char big[4 * MQ_SIZE];

		PROBE_LOG("a send longer than the ring to it says: %d",
				  (int) shm_mq_send(outh, sizeof(big), big, false, true));
	}
	dsm_detach(seg);
}

/* ---------- hash tables ---------- */

static void
mode_hash_local(void)
{
	HASHCTL		info;
	HTAB	   *t;
	HTAB	   *s;
	bool		found;
	int			n = 0;
	PartEntry  *e;
	NameEntry  *ne;
	HASH_SEQ_STATUS st;
	uint32		key = 7;
	char		probe[32];

	memset(&info, 0, sizeof(info));
	info.keysize = sizeof(uint32);
	info.entrysize = sizeof(PartEntry);
	info.hcxt = CurrentMemoryContext;
	t = hash_create("dsm_probe ints", 16, &info, HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	for (uint32 k = 0; k < 10000; k++)
	{
		e = hash_search(t, &k, HASH_ENTER, &found);
		if (found)
			n++;
		e->value = k * 3;
	}
	PROBE_LOG("entered 10000 keys, %d already there; %ld entries", n, hash_get_num_entries(t));
	n = 0;
	for (uint32 k = 0; k < 10000; k++)
	{
		e = hash_search(t, &k, HASH_FIND, NULL);
		if (e && e->key == k && e->value == k * 3)
			n++;
	}
	PROBE_LOG("found all with their values: %d", n);
	for (uint32 k = 0; k < 10000; k += 2)
		(void) hash_search(t, &k, HASH_REMOVE, &found);
	PROBE_LOG("removed the even ones: %ld entries", hash_get_num_entries(t));
	n = 0;
	hash_seq_init(&st, t);
	while ((e = hash_seq_search(&st)) != NULL)
	{
		if (e->key % 2 == 1)
			n++;
		if (e->key % 4 == 1)
			(void) hash_search(t, &e->key, HASH_REMOVE, NULL);
	}
	PROBE_LOG("a scan saw %d odd keys (removing some as it went); %ld left", n,
			  hash_get_num_entries(t));
	hash_seq_init(&st, t);
	(void) hash_seq_search(&st);
	hash_seq_term(&st);
	PROBE_LOG("get_hash_value of uint32 7: %d, hash_bytes_uint32(7): %d",
			  (int32) get_hash_value(t, &key), (int32) hash_bytes_uint32(7));
	PROBE_LOG("hash_bytes of \"abc\": %d", (int32) hash_bytes((const unsigned char *) "abc", 3));
	key = 3;
	e = hash_search(t, &key, HASH_FIND, NULL);
	key = 20001;
	PROBE_LOG("hash_update_hash_key moves 3 to 20001 %d", (int) hash_update_hash_key(t, e, &key));
	PROBE_LOG("20001 finds that entry %d", (int) (hash_search(t, &key, HASH_FIND, NULL) == e));
	key = 3;
	PROBE_LOG("3 is gone %d", (int) (hash_search(t, &key, HASH_FIND, NULL) == NULL));
	hash_destroy(t);

	memset(&info, 0, sizeof(info));
	info.keysize = 16;
	info.entrysize = sizeof(NameEntry);
	s = hash_create("dsm_probe names", 8, &info, HASH_ELEM | HASH_STRINGS);
	ne = hash_search(s, "alpha", HASH_ENTER, &found);
	ne->n = 1;
	ne = hash_search(s, "a much longer name than sixteen", HASH_ENTER, &found);
	ne->n = 2;
	PROBE_LOG("a string key is cut to keysize - 1: \"%s\"", ne->name);
	memset(probe, 'z', sizeof(probe));
	strcpy(probe, "alpha");
	ne = hash_search(s, probe, HASH_FIND, NULL);
	PROBE_LOG("found by a key with other bytes after its NUL %d", (int) (ne && ne->n == 1));
	ne = hash_search(s, "a much longer name than sixteen bytes", HASH_FIND, NULL);
	PROBE_LOG("a longer key with the same first 15 bytes finds it %d", (int) (ne && ne->n == 2));
	hash_freeze(s);
	EXPECT_ERROR("inserting into a frozen table", (void) hash_search(s, "beta", HASH_ENTER, NULL));
	hash_destroy(s);
}

static void
mode_hash_shared_insert(int base)
{
	LWLockPadded *locks = GetNamedLWLockTranche("dsm_probe parts");
	int			n = 0;

	for (uint32 k = base; k < (uint32) base + 1000; k++)
	{
		uint32		hv = get_hash_value(part_table, &k);
		LWLock	   *lock = &locks[hv % PARTS].lock;
		bool		found;
		PartEntry  *e;

		LWLockAcquire(lock, LW_EXCLUSIVE);
		e = hash_search_with_hash_value(part_table, &k, hv, HASH_ENTER, &found);
		e->value = k + 1;
		LWLockRelease(lock);
		if (!found)
			n++;
	}
	PROBE_LOG("(local) inserted %d keys from %d", n, base);
	SpinLockAcquire(&shared->mutex);
	shared->woken++;
	SpinLockRelease(&shared->mutex);
}

static void
mode_hash_shared(void)
{
	LWLockPadded *locks = GetNamedLWLockTranche("dsm_probe parts");
	BackgroundWorkerHandle *h[4];
	int			n = 0;
	HASH_SEQ_STATUS st;
	PartEntry  *e;
	bool		found;
	uint32		k;
	int			fixed = 0;

	for (int i = 0; i < 4; i++)
	{
		char		role[32];

		snprintf(role, sizeof(role), "insert %d", i * 1000);
		h[i] = launch(role, 0, BGWORKER_SHMEM_ACCESS, "dsm_probe_helper");
	}
	for (int i = 0; i < 4; i++)
		wait_stopped(h[i]);
	for (int i = 0; i < PARTS; i++)
		LWLockAcquire(&locks[i].lock, LW_SHARED);
	PROBE_LOG("4 workers inserted 1000 keys each under partition locks: %ld entries",
			  hash_get_num_entries(part_table));
	hash_seq_init(&st, part_table);
	while ((e = hash_seq_search(&st)) != NULL)
		if (e->value == e->key + 1 && e->key < 4000)
			n++;
	for (int i = PARTS - 1; i >= 0; i--)
		LWLockRelease(&locks[i].lock);
	PROBE_LOG("a scan under every partition lock saw them all: %d", n);

	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	for (k = 0; k < 100; k++)
		if (hash_search(fixed_table, &k, HASH_ENTER_NULL, &found) != NULL)
			fixed++;
	PROBE_LOG("a fixed-size table takes its 100 entries: %d", fixed);
	k = 100;
	PROBE_LOG("HASH_ENTER_NULL beyond them gives NULL %d",
			  (int) (hash_search(fixed_table, &k, HASH_ENTER_NULL, &found) == NULL));
	LWLockRelease(AddinShmemInitLock);
	EXPECT_ERROR("HASH_ENTER beyond them", (void) hash_search(fixed_table, &k, HASH_ENTER, &found));
	k = 5;
	(void) hash_search(fixed_table, &k, HASH_REMOVE, &found);
	k = 100;
	PROBE_LOG("after a removal there is room again %d",
			  (int) (hash_search(fixed_table, &k, HASH_ENTER_NULL, &found) != NULL));
}

/* ---------- condition variables ---------- */

static void
cv_waiter(void)
{
	ConditionVariablePrepareToSleep(&shared->cv);
	for (;;)
	{
		int			go;

		SpinLockAcquire(&shared->mutex);
		go = shared->go;
		if (go && shared->tokens > 0)
			shared->tokens--;
		else
			go = 0;
		SpinLockRelease(&shared->mutex);
		if (go)
			break;
		ConditionVariableSleep(&shared->cv, PG_WAIT_EXTENSION);
	}
	ConditionVariableCancelSleep();
	SpinLockAcquire(&shared->mutex);
	shared->woken++;
	SpinLockRelease(&shared->mutex);
}

static int
woken(void)
{
	int			n;

	SpinLockAcquire(&shared->mutex);
	n = shared->woken;
	SpinLockRelease(&shared->mutex);
	return n;
}

static int
wait_woken(int want, int ms)
{
	for (int i = 0; i < ms / 10 && woken() < want; i++)
	{
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, 10L,
						 PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
	}
	return woken();
}

static void
mode_cv(void)
{
	BackgroundWorkerHandle *h[3];
	ConditionVariable local;
	TimestampTz start;
	bool		timed_out;
	long		waited;

	SpinLockAcquire(&shared->mutex);
	shared->go = 0;
	shared->tokens = 0;
	shared->woken = 0;
	SpinLockRelease(&shared->mutex);
	for (int i = 0; i < 3; i++)
		h[i] = launch("cv waiter", 0, BGWORKER_SHMEM_ACCESS, "dsm_probe_helper");
	/* Let them all go to sleep: nobody is woken before a signal. */
	PROBE_LOG("nobody woken before the signal: %d", wait_woken(1, 300));
	SpinLockAcquire(&shared->mutex);
	shared->go = 1;
	shared->tokens = 3;
	SpinLockRelease(&shared->mutex);
	ConditionVariableSignal(&shared->cv);
	PROBE_LOG("one signal wakes one waiter: %d", wait_woken(1, 5000));
	PROBE_LOG("and only one: %d", wait_woken(2, 300));
	ConditionVariableBroadcast(&shared->cv);
	PROBE_LOG("a broadcast wakes the other two: %d", wait_woken(3, 5000));
	for (int i = 0; i < 3; i++)
		wait_stopped(h[i]);

	ConditionVariableInit(&local);
	start = GetCurrentTimestamp();
	ConditionVariablePrepareToSleep(&local);
	timed_out = ConditionVariableTimedSleep(&local, 100, PG_WAIT_EXTENSION);
	ConditionVariableCancelSleep();
	waited = TimestampDifferenceMilliseconds(start, GetCurrentTimestamp());
	PROBE_LOG("a timed sleep nobody signals times out %d after 100 ms or more %d",
			  (int) timed_out, (int) (waited >= 100));
}

/* ---------- dynamic shared areas and dshash ---------- */

typedef struct DsaShared
{
	dsa_handle	area;
	dshash_table_handle table;
	dsa_pointer chunks[64];
	int			done;
} DsaShared;

typedef struct KV
{
	int			key;
	int			value;
} KV;

static const dshash_parameters kv_params = {
	sizeof(int), sizeof(KV), dshash_memcmp, dshash_memhash, 0
};

static void
mode_dsa(void)
{
	int			tranche = LWLockNewTrancheId();
	dsa_area   *area;
	dsm_segment *seg = dsm_create(sizeof(DsaShared), 0);
	DsaShared  *sh = dsm_segment_address(seg);
	dsa_pointer big;
	dsa_pointer p;
	dshash_table *t;
	dshash_parameters params = kv_params;
	BackgroundWorkerHandle *h;
	int			ok = 0;
	bool		found;
	KV		   *kv;
	dshash_seq_status st;
	int			seen = 0;

	LWLockRegisterTranche(tranche, "dsm_probe dsa");
	area = dsa_create(tranche);
	sh->area = dsa_get_handle(area);
	for (int i = 0; i < 64; i++)
	{
		sh->chunks[i] = dsa_allocate(area, 100 + i * 1000);
		memset(dsa_get_address(area, sh->chunks[i]), i, 100 + i * 1000);
	}
	p = dsa_allocate0(area, 5000);
	for (int i = 0; i < 5000; i++)
		ok += ((char *) dsa_get_address(area, p))[i] == 0 ? 1 : 0;
	PROBE_LOG("dsa_allocate0 gives zeros: %d of 5000", ok);
	dsa_free(area, p);
	EXPECT_ERROR("freeing it twice", dsa_free(area, p));
	big = dsa_allocate(area, 5 * 1024 * 1024);
	memset(dsa_get_address(area, big), 7, 5 * 1024 * 1024);
	PROBE_LOG("5 MB in one piece %d", (int) DsaPointerIsValid(big));
	params.tranche_id = tranche;
	t = dshash_create(area, &params, NULL);
	sh->table = dshash_get_hash_table_handle(t);
	for (int k = 0; k < 500; k++)
	{
		kv = dshash_find_or_insert(t, &k, &found);
		kv->value = k * 2;
		dshash_release_lock(t, kv);
	}
	h = launch("dsa reader", UInt32GetDatum(dsm_segment_handle(seg)), BGWORKER_SHMEM_ACCESS,
			   "dsm_probe_helper");
	PROBE_LOG("another worker attached the area, read the chunks and added to the table %d",
			  (int) wait_flag(&sh->done));
	wait_stopped(h);
	ok = 0;
	for (int k = 0; k < 1000; k++)
	{
		kv = dshash_find(t, &k, false);
		if (kv && kv->value == k * 2)
			ok++;
		if (kv)
			dshash_release_lock(t, kv);
	}
	PROBE_LOG("the table holds what both processes put in: %d of 1000", ok);
	{
		int			k = 1;
		bool		deleted = dshash_delete_key(t, &k);

		PROBE_LOG("dshash_delete_key %d, then it is gone %d", (int) deleted,
				  (int) (dshash_find(t, &k, false) == NULL));
	}
	dshash_seq_init(&st, t, true);
	while ((kv = dshash_seq_next(&st)) != NULL)
	{
		seen++;
		if (kv->key % 2 == 0)
			dshash_delete_current(&st);
	}
	dshash_seq_term(&st);
	ok = 0;
	dshash_seq_init(&st, t, false);
	while ((kv = dshash_seq_next(&st)) != NULL)
		ok++;
	dshash_seq_term(&st);
	PROBE_LOG("a scan saw %d entries and removed the even keys: %d left", seen, ok);
	dshash_detach(t);

	dsa_set_size_limit(area, 1);
	PROBE_LOG("past the size limit with DSA_ALLOC_NO_OOM: invalid %d",
			  (int) !DsaPointerIsValid(dsa_allocate_extended(area, 64 * 1024 * 1024, DSA_ALLOC_NO_OOM)));
	EXPECT_ERROR("past the size limit", (void) dsa_allocate(area, 64 * 1024 * 1024));
	dsa_pin(area);
	EXPECT_ERROR("pinning twice", dsa_pin(area));
	{
		dsa_handle	ah = sh->area;

		dsa_detach(area);
		area = dsa_attach(ah);
		PROBE_LOG("a pinned area survives its last detach: chunk 3 still reads 3 %d",
				  (int) (((char *) dsa_get_address(area, sh->chunks[3]))[50] == 3));
		dsa_unpin(area);
		EXPECT_ERROR("unpinning twice", dsa_unpin(area));
		dsa_detach(area);
		EXPECT_ERROR("attaching an area that is gone", (void) dsa_attach(ah));
	}
	dsm_detach(seg);
}

static void
helper_dsa_reader(DsaShared *sh)
{
	dsa_area   *area = dsa_attach(sh->area);
	dshash_parameters params = kv_params;
	dshash_table *t;
	int			ok = 0;

	for (int i = 0; i < 64; i++)
	{
		char	   *c = dsa_get_address(area, sh->chunks[i]);

		if (c[0] == (char) i && c[99 + i * 1000] == (char) i)
			ok++;
	}
	params.tranche_id = 0;
	t = dshash_attach(area, &params, sh->table, NULL);
	for (int k = 500; k < 1000; k++)
	{
		bool		found;
		KV		   *kv = dshash_find_or_insert(t, &k, &found);

		kv->value = k * 2;
		dshash_release_lock(t, kv);
	}
	dshash_detach(t);
	dsa_detach(area);
	if (ok == 64)
		sh->done = 1;
}


/* ---------- faults: segments made and destroyed while crash-restarts happen ---------- */

/* Makes and destroys segments for ever (up to 32 alive at once, 4 kB to 256 kB, every page
 * touched), logging how many it destroyed every 100; a crash-restart may stop it anywhere. */
static void
mode_churn(void)
{
	dsm_segment *live[32];
	int			nlive = 0;
	uint32		state = (uint32) MyProcPid * 2654435761U + 1;
	long		destroyed = 0;

	for (;;)
	{
		uint32		r;

		state ^= state << 13;
		state ^= state >> 17;
		state ^= state << 5;
		r = state;
		if (nlive < 32 && (r & 1))
		{
			Size		size = 4096 + (r >> 8) % (256 * 1024);
			dsm_segment *seg = dsm_create(size, 0);
			char	   *p = dsm_segment_address(seg);

			for (Size off = 0; off < size; off += 4096)
				p[off] = 1;
			live[nlive++] = seg;
		}
		else if (nlive > 0)
		{
			int			k = (int) ((r >> 4) % (uint32) nlive);

			dsm_detach(live[k]);
			live[k] = live[--nlive];
			if (++destroyed % 100 == 0)
			{
				PROBE_LOG("destroyed %ld", destroyed);
				/* A busy loop: it looks for its supervisor itself. */
				if (!PostmasterIsAlive())
					proc_exit(1);
			}
		}
		CHECK_FOR_INTERRUPTS();
	}
}

/* Sleeps `ms` milliseconds, then crashes (a segfault: the supervisor restarts everything). */
static void
mode_crasher(int ms)
{
	(void) WaitLatch(MyLatch, WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, ms, PG_WAIT_EXTENSION);
	PROBE_LOG("crashing");
	*(volatile int *) NULL = 1;
}

/* ---------- helpers (dynamic workers) ---------- */

void
dsm_probe_helper(Datum arg)
{
	const char *role = MyBgworkerEntry->bgw_extra;
	dsm_segment *seg = NULL;
	PGPROC	   *registrant;

	mode = role;
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();
	if (strcmp(role, "reader") == 0 || strcmp(role, "echo") == 0 || strcmp(role, "silent") == 0 ||
		strcmp(role, "dsa reader") == 0)
	{
		seg = dsm_attach(DatumGetUInt32(arg));
		if (seg == NULL)
			elog(ERROR, "dsm_probe helper: could not attach segment");
	}
	registrant = BackendPidGetProc(MyBgworkerEntry->bgw_notify_pid);
	if (strcmp(role, "reader") == 0)
	{
		SegHeader  *hdr = dsm_segment_address(seg);

		if (strcmp(hdr->text, "written by the creator") == 0)
			snprintf(hdr->text, sizeof(hdr->text), "read by a worker");
		hdr->ack = 1;
	}
	else if (strcmp(role, "echo") == 0 || strcmp(role, "silent") == 0)
	{
		shm_toc    *toc = shm_toc_attach(PROBE_MAGIC, dsm_segment_address(seg));
		shm_mq	   *in = shm_toc_lookup(toc, 1, false);
		shm_mq	   *out = shm_toc_lookup(toc, 2, false);
		shm_mq_handle *inh;
		shm_mq_handle *outh;

		shm_mq_set_receiver(in, MyProc);
		shm_mq_set_sender(out, MyProc);
		inh = shm_mq_attach(in, seg, NULL);
		outh = shm_mq_attach(out, seg, NULL);
		if (strcmp(role, "silent") == 0)
		{
			/* Never answers: waits until killed. */
			for (;;)
			{
				(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_EXIT_ON_PM_DEATH, -1L,
								 PG_WAIT_EXTENSION);
				ResetLatch(MyLatch);
				CHECK_FOR_INTERRUPTS();
			}
		}
		for (;;)
		{
			Size		len;
			void	   *data;

			CHECK_FOR_INTERRUPTS();
			if (shm_mq_receive(inh, &len, &data, false) != SHM_MQ_SUCCESS)
				break;
			if (shm_mq_send(outh, len, data, false, true) != SHM_MQ_SUCCESS)
				break;
		}
	}
	else if (strncmp(role, "insert ", 7) == 0)
	{
		attach_shared();
		mode_hash_shared_insert(atoi(role + 7));
	}
	else if (strcmp(role, "cv waiter") == 0)
	{
		attach_shared();
		cv_waiter();
	}
	else if (strcmp(role, "dsa reader") == 0)
		helper_dsa_reader(dsm_segment_address(seg));
	if (registrant != NULL)
		SetLatch(&registrant->procLatch);
	if (seg != NULL)
		dsm_detach(seg);
	proc_exit(0);
}

void
dsm_probe_main(Datum arg)
{
	(void) arg;
	mode = MyBgworkerEntry->bgw_extra;
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();
	attach_shared();
	elog(LOG, "dsm_probe %s: started", mode);
	if (strcmp(mode, "segments") == 0)
		mode_segments();
	else if (strcmp(mode, "resowner") == 0)
		mode_resowner();
	else if (strcmp(mode, "toc") == 0)
		mode_toc();
	else if (strcmp(mode, "mq") == 0)
		mode_mq();
	else if (strcmp(mode, "mq_never_started") == 0)
		mode_mq_never_started();
	else if (strcmp(mode, "mq_peer_killed") == 0)
		mode_mq_peer_killed();
	else if (strcmp(mode, "hash_local") == 0)
		mode_hash_local();
	else if (strcmp(mode, "hash_shared") == 0)
		mode_hash_shared();
	else if (strcmp(mode, "cv") == 0)
		mode_cv();
	else if (strcmp(mode, "dsa") == 0)
		mode_dsa();
	else if (strcmp(mode, "churn") == 0)
		mode_churn();
	else if (strncmp(mode, "crasher:", 8) == 0)
		mode_crasher(atoi(mode + 8));
	else
		elog(ERROR, "dsm_probe: unknown mode \"%s\"", mode);
	PROBE_LOG("done");
	proc_exit(0);
}

void
_PG_init(void)
{
	const char *spec = getenv("DSM_PROBE");
	char		list[512];
	char	   *save = NULL;

	if (!process_shared_preload_libraries_in_progress)
		return;
	prev_request_hook = shmem_request_hook;
	shmem_request_hook = probe_request;
	prev_startup_hook = shmem_startup_hook;
	shmem_startup_hook = probe_startup;
	if (spec == NULL)
		return;
	snprintf(list, sizeof(list), "%s", spec);
	for (char *m = strtok_r(list, ",", &save); m != NULL; m = strtok_r(NULL, ",", &save))
	{
		BackgroundWorker w;

		memset(&w, 0, sizeof(w));
		w.bgw_flags = BGWORKER_SHMEM_ACCESS;
		w.bgw_start_time = BgWorkerStart_RecoveryFinished;
		/* The fault modes come back after each crash-restart. */
		w.bgw_restart_time = (strcmp(m, "churn") == 0 || strncmp(m, "crasher:", 8) == 0)
			? 0 : BGW_NEVER_RESTART;
		snprintf(w.bgw_library_name, BGW_MAXLEN, "dsm_probe");
		snprintf(w.bgw_function_name, BGW_MAXLEN, "dsm_probe_main");
		snprintf(w.bgw_name, BGW_MAXLEN, "dsm_probe %s", m);
		snprintf(w.bgw_type, BGW_MAXLEN, "dsm_probe");
		snprintf(w.bgw_extra, BGW_EXTRALEN, "%s", m);
		RegisterBackgroundWorker(&w);
	}
}
