/*
 * storage/condition_variable.h -- condition variables: a process prepares to sleep, re-checks
 * its condition, sleeps until another process signals or broadcasts (or a timeout), and cancels
 * when done.  They work in the main segment or a DSM segment alike, across every process with a
 * PGPROC (workers, and processes attached with BackgroundWorkerAttach); a sleep ends when the
 * supervisor dies, as a latch wait with WL_EXIT_ON_PM_DEATH does.
 */
#include "postgres.h"

#ifndef BGW_COMPAT_STORAGE_CONDITION_VARIABLE_H
#define BGW_COMPAT_STORAGE_CONDITION_VARIABLE_H

#include "storage/proclist_types.h"
#include "storage/spin.h"

BGW_EXTERN_C_BEGIN

typedef struct
{
	slock_t mutex;
	proclist_head wakeup;
} ConditionVariable;

#define CV_MINIMAL_SIZE (sizeof(ConditionVariable) <= 16 ? 16 : 32)
typedef union ConditionVariableMinimallyPadded
{
	ConditionVariable cv;
	char pad[CV_MINIMAL_SIZE];
} ConditionVariableMinimallyPadded;

extern void ConditionVariableInit(ConditionVariable *cv);
extern void ConditionVariableSleep(ConditionVariable *cv, uint32 wait_event_info);
extern bool ConditionVariableTimedSleep(ConditionVariable *cv, long timeout,
										uint32 wait_event_info);
extern void ConditionVariableCancelSleep(void);
extern void ConditionVariablePrepareToSleep(ConditionVariable *cv);
extern void ConditionVariableSignal(ConditionVariable *cv);
extern void ConditionVariableBroadcast(ConditionVariable *cv);

BGW_EXTERN_C_END

#endif /* BGW_COMPAT_STORAGE_CONDITION_VARIABLE_H */
