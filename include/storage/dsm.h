/*
 * storage/dsm.h -- dynamic shared memory segments, as PostgreSQL 15 offers them: made at run
 * time (dsm_create), passed by handle (dsm_segment_handle, e.g. in bgw_main_arg), attached by
 * any worker or attached process (dsm_attach), detached with callbacks (on_dsm_detach).
 *
 * A segment lives while a process has it attached or it is pinned (dsm_pin_segment); a handle
 * of a destroyed segment attaches to NULL.  One made or attached while CurrentResourceOwner is
 * set belongs to that owner and is detached when it is released (dsm_pin_mapping keeps it for
 * the life of the process).  Every segment is gone after a shutdown or a crash-restart.
 * DSM_CREATE_NULL_IF_MAXSEGMENTS and DSM_HANDLE_INVALID are defined in bgworker.h.
 */
#include "postgres.h"

#ifndef BGW_COMPAT_STORAGE_DSM_H
#define BGW_COMPAT_STORAGE_DSM_H

#include "storage/dsm_impl.h"

BGW_EXTERN_C_BEGIN

typedef struct dsm_segment dsm_segment;

typedef void (*on_dsm_detach_callback)(dsm_segment *, Datum arg);

extern void dsm_detach_all(void);
extern size_t dsm_estimate_size(void);

extern dsm_segment *dsm_create(Size size, int flags);
extern dsm_segment *dsm_attach(dsm_handle h);
extern void dsm_detach(dsm_segment *seg);

extern void dsm_pin_mapping(dsm_segment *seg);
extern void dsm_unpin_mapping(dsm_segment *seg);
extern void dsm_pin_segment(dsm_segment *seg);
extern void dsm_unpin_segment(dsm_handle h);
extern dsm_segment *dsm_find_mapping(dsm_handle h);

extern void *dsm_segment_address(dsm_segment *seg);
extern Size dsm_segment_map_length(dsm_segment *seg);
extern dsm_handle dsm_segment_handle(dsm_segment *seg);

extern void on_dsm_detach(dsm_segment *seg, on_dsm_detach_callback function, Datum arg);
extern void cancel_on_dsm_detach(dsm_segment *seg, on_dsm_detach_callback function, Datum arg);
extern void reset_on_dsm_detach(void);

extern void dsm_backend_shutdown(void);

BGW_EXTERN_C_END

#endif /* BGW_COMPAT_STORAGE_DSM_H */
