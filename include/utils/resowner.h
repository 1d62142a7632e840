/*
 * utils/resowner.h -- resource owners: a tree of owners released phase by phase, and callbacks
 * modules register to release their own resources at each phase.
 *
 * Of the server resources PostgreSQL's owners track (buffers, relation references, snapshots,
 * virtual files, DSM segments) only DSM segments exist here: one created or attached while an
 * owner is current is detached when that owner is released (dsm_pin_mapping takes it out).  An
 * owner also runs the release callbacks for itself and its children.  Each transaction gets
 * TopTransactionResourceOwner (also the current owner)
 * and releases it at commit or abort; outside a transaction CurrentResourceOwner is NULL unless
 * the module sets it.
 */
#include "postgres.h"

#ifndef BGW_COMPAT_UTILS_RESOWNER_H
#define BGW_COMPAT_UTILS_RESOWNER_H

BGW_EXTERN_C_BEGIN

typedef struct ResourceOwnerData *ResourceOwner;

extern PGDLLIMPORT ResourceOwner CurrentResourceOwner;
extern PGDLLIMPORT ResourceOwner CurTransactionResourceOwner;
extern PGDLLIMPORT ResourceOwner TopTransactionResourceOwner;
extern PGDLLIMPORT ResourceOwner AuxProcessResourceOwner;

typedef enum
{
	RESOURCE_RELEASE_BEFORE_LOCKS,
	RESOURCE_RELEASE_LOCKS,
	RESOURCE_RELEASE_AFTER_LOCKS
} ResourceReleasePhase;

typedef void (*ResourceReleaseCallback)(ResourceReleasePhase phase, bool isCommit,
										bool isTopLevel, void *arg);

extern ResourceOwner ResourceOwnerCreate(ResourceOwner parent, const char *name);
extern void ResourceOwnerRelease(ResourceOwner owner, ResourceReleasePhase phase, bool isCommit,
								 bool isTopLevel);
extern void ResourceOwnerDelete(ResourceOwner owner);
extern ResourceOwner ResourceOwnerGetParent(ResourceOwner owner);
extern void ResourceOwnerNewParent(ResourceOwner owner, ResourceOwner newparent);

extern void RegisterResourceReleaseCallback(ResourceReleaseCallback callback, void *arg);
extern void UnregisterResourceReleaseCallback(ResourceReleaseCallback callback, void *arg);

extern void CreateAuxProcessResourceOwner(void);
extern void ReleaseAuxProcessResources(bool isCommit);

BGW_EXTERN_C_END

#endif /* BGW_COMPAT_UTILS_RESOWNER_H */
