/*
 * utils/catcache.h -- CacheMemoryContext, the context of long-lived caches, and
 * CreateCacheMemoryContext(), which makes it if it does not exist yet.  Connecting to a database
 * makes it, as PostgreSQL's backend start does; in a worker without a database it is NULL until
 * a module calls CreateCacheMemoryContext().  (The catalog caches themselves are the server's.)
 */
#include "postgres.h"

#ifndef BGW_COMPAT_UTILS_CATCACHE_H
#define BGW_COMPAT_UTILS_CATCACHE_H

BGW_EXTERN_C_BEGIN
extern void CreateCacheMemoryContext(void);
BGW_EXTERN_C_END

#endif /* BGW_COMPAT_UTILS_CATCACHE_H */
