/*
 * varatt.h -- variable-length values ("varlena"): the `text`/`bytea` types and the macros that
 * read and write their headers, with PostgreSQL 15's bit layout (little-endian).  PostgreSQL 15
 * keeps these in postgres.h, which includes this header; PostgreSQL 16 moved them here.
 *
 * Values the library hands a module (SPI results, cstring_to_text) are always uncompressed and
 * inline, with a 4-byte header; 1-byte-header values are read too.  Compressed and out-of-line
 * (TOAST) values never occur; the detoasting functions (fmgr.h) widen short headers only.
 */
#include "postgres.h"

#ifndef BGW_COMPAT_VARATT_H
#define BGW_COMPAT_VARATT_H

#ifndef FLEXIBLE_ARRAY_MEMBER
#ifdef __cplusplus
#define FLEXIBLE_ARRAY_MEMBER 1 /* C++ has no flexible array members; sizeof differs there */
#else
#define FLEXIBLE_ARRAY_MEMBER /* empty */
#endif
#endif

/* Any variable-length value: a length word, then the bytes. */
struct varlena
{
	char vl_len_[4];
	char vl_dat[FLEXIBLE_ARRAY_MEMBER];
};

#define VARHDRSZ ((int32) sizeof(int32))

typedef struct varlena bytea;
typedef struct varlena text;
typedef struct varlena BpChar;
typedef struct varlena VarChar;

/* Header bytes, read without alignment assumptions. */
static inline uint32
bgw_varatt_word(const void *ptr)
{
	uint32 w;

	memcpy(&w, ptr, sizeof(w));
	return w;
}

static inline uint8
bgw_varatt_byte(const void *ptr)
{
	return *(const uint8 *) ptr;
}

/* Little-endian layout: the low bits of the first byte say which header a value has. */
#define VARATT_IS_4B(PTR) ((bgw_varatt_byte(PTR) & 0x01) == 0x00)
#define VARATT_IS_4B_U(PTR) ((bgw_varatt_byte(PTR) & 0x03) == 0x00)
#define VARATT_IS_4B_C(PTR) ((bgw_varatt_byte(PTR) & 0x03) == 0x02)
#define VARATT_IS_1B(PTR) ((bgw_varatt_byte(PTR) & 0x01) == 0x01)
#define VARATT_IS_1B_E(PTR) (bgw_varatt_byte(PTR) == 0x01)
#define VARATT_NOT_PAD_BYTE(PTR) (bgw_varatt_byte(PTR) != 0)

#define VARSIZE_4B(PTR) ((bgw_varatt_word(PTR) >> 2) & 0x3FFFFFFF)
#define VARSIZE_1B(PTR) ((uint32) ((bgw_varatt_byte(PTR) >> 1) & 0x7F))
#define VARTAG_1B_E(PTR) (((const uint8 *) (PTR))[1])

#define VARHDRSZ_SHORT 1
#define VARHDRSZ_EXTERNAL 2
#define VARATT_SHORT_MAX 0x7F

/* Size of an external (TOAST pointer) datum by its tag: indirect 8, expanded 8, on-disk 16. */
#define VARTAG_SIZE(tag) ((tag) == 1 ? 8 : ((tag) == 2 || (tag) == 3) ? 8 : (tag) == 18 ? 16 : 0)
#define VARSIZE_EXTERNAL(PTR) ((uint32) (VARHDRSZ_EXTERNAL + VARTAG_SIZE(VARTAG_1B_E(PTR))))

#define SET_VARSIZE_4B(PTR, len) \
	do { \
		uint32 bgw_w_ = ((uint32) (len)) << 2; \
		memcpy((PTR), &bgw_w_, sizeof(bgw_w_)); \
	} while (0)
#define SET_VARSIZE_1B(PTR, len) (((uint8 *) (PTR))[0] = (uint8) ((((uint32) (len)) << 1) | 0x01))

#define VARDATA_4B(PTR) (((char *) (PTR)) + 4)
#define VARDATA_1B(PTR) (((char *) (PTR)) + 1)

/* The macros modules use (sizes are uint32, as in PostgreSQL). */
#define VARSIZE(PTR) VARSIZE_4B(PTR)
#define VARDATA(PTR) VARDATA_4B(PTR)
#define SET_VARSIZE(PTR, len) SET_VARSIZE_4B(PTR, len)
#define SET_VARSIZE_SHORT(PTR, len) SET_VARSIZE_1B(PTR, len)
#define VARSIZE_SHORT(PTR) VARSIZE_1B(PTR)
#define VARDATA_SHORT(PTR) VARDATA_1B(PTR)

#define VARATT_IS_COMPRESSED(PTR) VARATT_IS_4B_C(PTR)
#define VARATT_IS_EXTERNAL(PTR) VARATT_IS_1B_E(PTR)
#define VARATT_IS_SHORT(PTR) (VARATT_IS_1B(PTR) && !VARATT_IS_1B_E(PTR))
#define VARATT_IS_EXTENDED(PTR) (!VARATT_IS_4B_U(PTR))

#define VARSIZE_ANY(PTR) \
	(VARATT_IS_1B_E(PTR) ? VARSIZE_EXTERNAL(PTR) : \
	 (VARATT_IS_1B(PTR) ? VARSIZE_1B(PTR) : VARSIZE_4B(PTR)))
#define VARSIZE_ANY_EXHDR(PTR) \
	(VARATT_IS_1B_E(PTR) ? VARSIZE_EXTERNAL(PTR) - VARHDRSZ_EXTERNAL : \
	 (VARATT_IS_1B(PTR) ? VARSIZE_1B(PTR) - VARHDRSZ_SHORT : VARSIZE_4B(PTR) - VARHDRSZ))
#define VARDATA_ANY(PTR) (VARATT_IS_1B(PTR) ? VARDATA_1B(PTR) : VARDATA_4B(PTR))

#endif /* BGW_COMPAT_VARATT_H */
