/*
 * utils/ps_status.h -- the process title: `bgworker: [cluster_name: ]<bgw_name> <activity>` in
 * ps and in `bgworkerctl status`.  set_ps_display() sets the activity (nothing with
 * update_process_title off); get_ps_display() returns it.
 */
#include "postgres.h"

#ifndef BGW_COMPAT_UTILS_PS_STATUS_H
#define BGW_COMPAT_UTILS_PS_STATUS_H

BGW_EXTERN_C_BEGIN
extern PGDLLIMPORT bool update_process_title;

extern void init_ps_display(const char *fixed_part);
extern void set_ps_display(const char *activity);
extern const char *get_ps_display(int *displen);
BGW_EXTERN_C_END

#endif /* BGW_COMPAT_UTILS_PS_STATUS_H */
