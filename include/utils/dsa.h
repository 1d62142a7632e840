/*
 * utils/dsa.h -- dynamic shared areas: memory shared by any number of processes, allocated with
 * dsa_allocate and addressed by dsa_pointer (dsa_get_address gives this process's address).
 * An area lives while a process is attached or it is pinned (dsa_pin); its memory is DSM
 * segments made as it grows, all gone with the area.
 */
#include "postgres.h"

#ifndef BGW_COMPAT_UTILS_DSA_H
#define BGW_COMPAT_UTILS_DSA_H

#include "port/atomics.h"
#include "storage/dsm.h"

BGW_EXTERN_C_BEGIN

struct dsa_area;
typedef struct dsa_area dsa_area;

#define SIZEOF_DSA_POINTER 8
typedef uint64 dsa_pointer;
typedef pg_atomic_uint64 dsa_pointer_atomic;
#define dsa_pointer_atomic_init pg_atomic_init_u64
#define dsa_pointer_atomic_read pg_atomic_read_u64
#define dsa_pointer_atomic_write pg_atomic_write_u64
#define dsa_pointer_atomic_fetch_add pg_atomic_fetch_add_u64
#define dsa_pointer_atomic_compare_exchange pg_atomic_compare_exchange_u64
#define DSA_POINTER_FORMAT "%016" PRIx64

#define DSA_ALLOC_HUGE 0x01
#define DSA_ALLOC_NO_OOM 0x02
#define DSA_ALLOC_ZERO 0x04

#define InvalidDsaPointer ((dsa_pointer) 0)
#define DsaPointerIsValid(x) ((x) != InvalidDsaPointer)

#define dsa_allocate(area, size) dsa_allocate_extended(area, size, 0)
#define dsa_allocate0(area, size) dsa_allocate_extended(area, size, DSA_ALLOC_ZERO)

typedef dsm_handle dsa_handle;

extern dsa_area *dsa_create(int tranche_id);
extern dsa_area *dsa_create_in_place(void *place, size_t size, int tranche_id,
									 dsm_segment *segment);
extern dsa_area *dsa_attach(dsa_handle handle);
extern dsa_area *dsa_attach_in_place(void *place, dsm_segment *segment);
extern void dsa_release_in_place(void *place);
extern void dsa_on_dsm_detach_release_in_place(dsm_segment *, Datum);
extern void dsa_on_shmem_exit_release_in_place(int, Datum);
extern void dsa_pin_mapping(dsa_area *area);
extern void dsa_detach(dsa_area *area);
extern void dsa_pin(dsa_area *area);
extern void dsa_unpin(dsa_area *area);
extern void dsa_set_size_limit(dsa_area *area, size_t limit);
extern size_t dsa_minimum_size(void);
extern dsa_handle dsa_get_handle(dsa_area *area);
extern dsa_pointer dsa_allocate_extended(dsa_area *area, size_t size, int flags);
extern void dsa_free(dsa_area *area, dsa_pointer dp);
extern void *dsa_get_address(dsa_area *area, dsa_pointer dp);
extern void dsa_trim(dsa_area *area);
extern void dsa_dump(dsa_area *area);

BGW_EXTERN_C_END

#endif /* BGW_COMPAT_UTILS_DSA_H */
