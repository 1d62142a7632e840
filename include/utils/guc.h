/*
 * utils/guc.h -- settings: the custom variables a module defines (DefineCustom*Variable), their
 * hooks, reading settings (GetConfigOption*), and ProcessConfigFile after a SIGHUP.
 *
 * Names, values and prototypes are PostgreSQL 15's.  Values are read from DATADIR/bgworker.conf
 * and the supervisor's -c options; a variable's C storage is written directly by the library.
 * A process may change settings for itself with SetConfigOption and set_config_option.
 */
#include "postgres.h"

#ifndef BGW_COMPAT_UTILS_GUC_H
#define BGW_COMPAT_UTILS_GUC_H

BGW_EXTERN_C_BEGIN

/* ---- contexts and sources ---------------------------------------------------------------------- */

/* When a setting may change: PGC_POSTMASTER only at start, PGC_SIGHUP also on reload, ... */
typedef enum
{
	PGC_INTERNAL,
	PGC_POSTMASTER,
	PGC_SIGHUP,
	PGC_SU_BACKEND,
	PGC_BACKEND,
	PGC_SUSET,
	PGC_USERSET
} GucContext;

/* Where a value came from; check hooks receive it.  Here: DEFAULT, FILE or ARGV. */
typedef enum
{
	PGC_S_DEFAULT,
	PGC_S_DYNAMIC_DEFAULT,
	PGC_S_ENV_VAR,
	PGC_S_FILE,
	PGC_S_ARGV,
	PGC_S_GLOBAL,
	PGC_S_DATABASE,
	PGC_S_USER,
	PGC_S_DATABASE_USER,
	PGC_S_CLIENT,
	PGC_S_OVERRIDE,
	PGC_S_INTERACTIVE,
	PGC_S_TEST,
	PGC_S_SESSION
} GucSource;

typedef enum
{
	GUC_ACTION_SET,
	GUC_ACTION_LOCAL,
	GUC_ACTION_SAVE
} GucAction;

/* One choice of an enum variable; an array of them ends with an entry whose name is NULL. */
struct config_enum_entry
{
	const char *name;
	int val;
	bool hidden;
};

/* ---- hooks --------------------------------------------------------------------------------------- */

/*
 * A check hook may adjust *newval and returns false to refuse it (the old value stays).  The
 * library passes a NULL *extra and does not use one a hook sets.  A string hook may free() *newval
 * and put a malloc'd string there.
 */
typedef bool (*GucBoolCheckHook)(bool *newval, void **extra, GucSource source);
typedef bool (*GucIntCheckHook)(int *newval, void **extra, GucSource source);
typedef bool (*GucRealCheckHook)(double *newval, void **extra, GucSource source);
typedef bool (*GucStringCheckHook)(char **newval, void **extra, GucSource source);
typedef bool (*GucEnumCheckHook)(int *newval, void **extra, GucSource source);

/* Called after a value is stored. */
typedef void (*GucBoolAssignHook)(bool newval, void *extra);
typedef void (*GucIntAssignHook)(int newval, void *extra);
typedef void (*GucRealAssignHook)(double newval, void *extra);
typedef void (*GucStringAssignHook)(const char *newval, void *extra);
typedef void (*GucEnumAssignHook)(int newval, void *extra);

/* The text GetConfigOptionByName shows instead of the value. */
typedef const char *(*GucShowHook)(void);

/* ---- flags --------------------------------------------------------------------------------------- */

#define MAX_KILOBYTES INT_MAX

#define GUC_QUALIFIER_SEPARATOR '.'

#define GUC_LIST_INPUT 0x0001
#define GUC_LIST_QUOTE 0x0002
#define GUC_NO_SHOW_ALL 0x0004
#define GUC_NO_RESET_ALL 0x0008
#define GUC_REPORT 0x0010
#define GUC_NOT_IN_SAMPLE 0x0020
#define GUC_DISALLOW_IN_FILE 0x0040
#define GUC_CUSTOM_PLACEHOLDER 0x0080
#define GUC_SUPERUSER_ONLY 0x0100
#define GUC_IS_NAME 0x0200
#define GUC_NOT_WHILE_SEC_REST 0x0400
#define GUC_DISALLOW_IN_AUTO_FILE 0x0800

/* The unit of an integer or real variable; values may then be written with units ('5s'). */
#define GUC_UNIT_KB 0x1000
#define GUC_UNIT_BLOCKS 0x2000
#define GUC_UNIT_XBLOCKS 0x3000
#define GUC_UNIT_MB 0x4000
#define GUC_UNIT_BYTE 0x8000
#define GUC_UNIT_MEMORY 0xF000

#define GUC_UNIT_MS 0x10000
#define GUC_UNIT_S 0x20000
#define GUC_UNIT_MIN 0x30000
#define GUC_UNIT_TIME 0xF0000

#define GUC_EXPLAIN 0x100000
#define GUC_RUNTIME_COMPUTED 0x200000
#define GUC_ALLOW_IN_PARALLEL 0x400000

#define GUC_UNIT (GUC_UNIT_MEMORY | GUC_UNIT_TIME)

/* ---- defining variables -------------------------------------------------------------------------- */

extern void DefineCustomBoolVariable(const char *name, const char *short_desc,
									 const char *long_desc, bool *valueAddr, bool bootValue,
									 GucContext context, int flags, GucBoolCheckHook check_hook,
									 GucBoolAssignHook assign_hook, GucShowHook show_hook);

extern void DefineCustomIntVariable(const char *name, const char *short_desc,
									const char *long_desc, int *valueAddr, int bootValue,
									int minValue, int maxValue, GucContext context, int flags,
									GucIntCheckHook check_hook, GucIntAssignHook assign_hook,
									GucShowHook show_hook);

extern void DefineCustomRealVariable(const char *name, const char *short_desc,
									 const char *long_desc, double *valueAddr, double bootValue,
									 double minValue, double maxValue, GucContext context,
									 int flags, GucRealCheckHook check_hook,
									 GucRealAssignHook assign_hook, GucShowHook show_hook);

/* *valueAddr receives a malloc'd copy of each value. */
extern void DefineCustomStringVariable(const char *name, const char *short_desc,
									   const char *long_desc, char **valueAddr,
									   const char *bootValue, GucContext context, int flags,
									   GucStringCheckHook check_hook,
									   GucStringAssignHook assign_hook, GucShowHook show_hook);

extern void DefineCustomEnumVariable(const char *name, const char *short_desc,
									 const char *long_desc, int *valueAddr, int bootValue,
									 const struct config_enum_entry *options, GucContext context,
									 int flags, GucEnumCheckHook check_hook,
									 GucEnumAssignHook assign_hook, GucShowHook show_hook);

/* Settings "className.*" that no module defined are removed (WARNING) and refused from now on. */
extern void MarkGUCPrefixReserved(const char *className);
#define EmitWarningsOnPlaceholders(className) MarkGUCPrefixReserved(className)

/* ---- reading and reloading ------------------------------------------------------------------------- */

extern const char *GetConfigOption(const char *name, bool missing_ok, bool restrict_privileged);
extern char *GetConfigOptionByName(const char *name, const char **varname, bool missing_ok);
extern int GetConfigOptionFlags(const char *name, bool missing_ok);

/* Re-reads the settings file in this process (after SIGHUP) and applies it. */
extern void ProcessConfigFile(GucContext context);

/*
 * Changes a setting in this process (value NULL: back to its reset value), with PostgreSQL's
 * rules for context and source.  set_config_option returns 1 when applied, -1 when left alone
 * (a source of higher priority set it) and 0 when refused below ERROR (elevel 0: the source's
 * usual level, ERROR for PGC_S_SESSION and the like).  GUC_ACTION_LOCAL and GUC_ACTION_SAVE
 * changes end with the transaction; any change made in a transaction is undone if it aborts.
 */
extern void SetConfigOption(const char *name, const char *value, GucContext context,
							GucSource source);
extern int set_config_option(const char *name, const char *value, GucContext context,
							 GucSource source, GucAction action, bool changeVal, int elevel,
							 bool is_reload);
/* The value RESET would give the setting, as text. */
extern const char *GetConfigOptionResetString(const char *name);

/* PostgreSQL's settings modules read directly. */
extern PGDLLIMPORT int log_min_messages;
extern PGDLLIMPORT char *cluster_name;

extern bool parse_int(const char *value, int *result, int flags, const char **hintmsg);
extern bool parse_real(const char *value, double *result, int flags, const char **hintmsg);

/* ---- messages from check hooks --------------------------------------------------------------------- */

extern PGDLLIMPORT char *GUC_check_errmsg_string;
extern PGDLLIMPORT char *GUC_check_errdetail_string;
extern PGDLLIMPORT char *GUC_check_errhint_string;

extern void GUC_check_errcode(int sqlerrcode);

/* Formats a check hook's message into a malloc'd string, which the library frees. */
static inline char *bgw_guc_check_format(const char *fmt, ...) pg_attribute_printf(1, 2);

static inline char *
bgw_guc_check_format(const char *fmt, ...)
{
	va_list args;
	int len;
	char *buf;

	va_start(args, fmt);
	len = vsnprintf(NULL, 0, fmt, args);
	va_end(args);
	if (len < 0)
		return NULL;
	buf = (char *) malloc((size_t) len + 1);
	if (buf == NULL)
		return NULL;
	va_start(args, fmt);
	vsnprintf(buf, (size_t) len + 1, fmt, args);
	va_end(args);
	return buf;
}

/* In a check hook: GUC_check_errdetail("must be even, not %d", *newval); return false; */
#define GUC_check_errmsg GUC_check_errmsg_string = bgw_guc_check_format
#define GUC_check_errdetail GUC_check_errdetail_string = bgw_guc_check_format
#define GUC_check_errhint GUC_check_errhint_string = bgw_guc_check_format

BGW_EXTERN_C_END

#endif /* BGW_COMPAT_UTILS_GUC_H */
