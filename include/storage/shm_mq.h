/*
 * storage/shm_mq.h -- single-reader, single-writer message queues in shared memory, as
 * PostgreSQL 15 has them: shm_mq_create in a piece of a DSM segment, the two processes set as
 * receiver and sender (their PGPROC, MyProc), each attaching a handle; shm_mq_send (five
 * arguments, force_flush included), shm_mq_sendv and shm_mq_receive, blocking or not; messages
 * longer than the ring are reassembled.
 *
 * SHM_MQ_DETACHED says the other side is gone: it detached, its worker (a handle passed to
 * shm_mq_attach or shm_mq_set_handle) stopped or never started, or its process died.  A wait in
 * these functions never outlives the other process.
 */
#include "postgres.h"

#ifndef BGW_COMPAT_STORAGE_SHM_MQ_H
#define BGW_COMPAT_STORAGE_SHM_MQ_H

#include "postmaster/bgworker.h"
#include "storage/dsm.h"
#include "storage/proc.h"

BGW_EXTERN_C_BEGIN

typedef struct shm_mq shm_mq;
typedef struct shm_mq_handle shm_mq_handle;

typedef struct
{
	const char *data;
	Size len;
} shm_mq_iovec;

typedef enum
{
	SHM_MQ_SUCCESS,
	SHM_MQ_WOULD_BLOCK,
	SHM_MQ_DETACHED
} shm_mq_result;

extern shm_mq *shm_mq_create(void *address, Size size);
extern void shm_mq_set_receiver(shm_mq *mq, PGPROC *);
extern void shm_mq_set_sender(shm_mq *mq, PGPROC *);
extern PGPROC *shm_mq_get_receiver(shm_mq *);
extern PGPROC *shm_mq_get_sender(shm_mq *);
extern shm_mq_handle *shm_mq_attach(shm_mq *mq, dsm_segment *seg,
									BackgroundWorkerHandle *handle);
extern void shm_mq_set_handle(shm_mq_handle *, BackgroundWorkerHandle *);
extern void shm_mq_detach(shm_mq_handle *mqh);
extern shm_mq *shm_mq_get_queue(shm_mq_handle *mqh);
extern shm_mq_result shm_mq_send(shm_mq_handle *mqh, Size nbytes, const void *data, bool nowait,
								 bool force_flush);
extern shm_mq_result shm_mq_sendv(shm_mq_handle *mqh, shm_mq_iovec *iov, int iovcnt, bool nowait,
								  bool force_flush);
extern shm_mq_result shm_mq_receive(shm_mq_handle *mqh, Size *nbytesp, void **datap, bool nowait);
extern shm_mq_result shm_mq_wait_for_attach(shm_mq_handle *mqh);

extern PGDLLIMPORT const Size shm_mq_minimum_size;

BGW_EXTERN_C_END

#endif /* BGW_COMPAT_STORAGE_SHM_MQ_H */
