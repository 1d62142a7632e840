/*
 * wrong_magic.c -- a module whose magic block claims another PostgreSQL major version (14), and
 * a second build of it claiming another ABI: the loader must refuse both by name.
 */
#include "postgres.h"
#include "fmgr.h"

#ifndef WRONG_ABI
#define WRONG_VERSION 1400
#define WRONG_EXTRA "PostgreSQL"
#else
#define WRONG_VERSION 1500
#define WRONG_EXTRA "SomeFork"
#endif

PGDLLEXPORT const Pg_magic_struct *Pg_magic_func(void);

const Pg_magic_struct *
Pg_magic_func(void)
{
	static const Pg_magic_struct magic = {sizeof(Pg_magic_struct), WRONG_VERSION, FUNC_MAX_ARGS,
	INDEX_MAX_KEYS, NAMEDATALEN, FLOAT8PASSBYVAL, WRONG_EXTRA};

	return &magic;
}

void		_PG_init(void);

void
_PG_init(void)
{
	elog(LOG, "wrong_magic: _PG_init must not run");
}
