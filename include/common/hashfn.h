/*
 * common/hashfn.h -- PostgreSQL's hash functions: hash_bytes (hash_any) and hash_bytes_uint32
 * (hash_uint32) give PostgreSQL 15's values; tag_hash, uint32_hash and string_hash are what
 * hash tables use for binary, 4-byte and string keys.
 */
#include "postgres.h"

#ifndef BGW_COMPAT_COMMON_HASHFN_H
#define BGW_COMPAT_COMMON_HASHFN_H

BGW_EXTERN_C_BEGIN

extern uint32 hash_bytes(const unsigned char *k, int keylen);
extern uint32 hash_bytes_uint32(uint32 k);

static inline Datum
hash_any(const unsigned char *k, int keylen)
{
	return UInt32GetDatum(hash_bytes(k, keylen));
}

static inline Datum
hash_uint32(uint32 k)
{
	return UInt32GetDatum(hash_bytes_uint32(k));
}

extern uint32 string_hash(const void *key, Size keysize);
extern uint32 tag_hash(const void *key, Size keysize);
extern uint32 uint32_hash(const void *key, Size keysize);

#define oid_hash uint32_hash

static inline uint32
hash_combine(uint32 a, uint32 b)
{
	a ^= b + 0x9e3779b9 + (a << 6) + (a >> 2);
	return a;
}

static inline uint64
hash_combine64(uint64 a, uint64 b)
{
	a ^= b + UINT64CONST(0x49a0f4dd15e5a8e3) + (a << 54) + (a >> 7);
	return a;
}

static inline uint32
murmurhash32(uint32 data)
{
	uint32 h = data;

	h ^= h >> 16;
	h *= 0x85ebca6b;
	h ^= h >> 13;
	h *= 0xc2b2ae35;
	h ^= h >> 16;
	return h;
}

BGW_EXTERN_C_END

#endif /* BGW_COMPAT_COMMON_HASHFN_H */
