/*
 * storage/fd.h -- files and directories opened through the server, so they are counted
 * (at most max_safe_fds / 3 at once) and closed at the end of the transaction or the process:
 * AllocateFile, AllocateDir/ReadDir, OpenTransientFile, OpenPipeStream; durable_rename,
 * durable_unlink and fsync_fname.
 *
 * PostgreSQL's virtual files (PathNameOpenFile, FileRead, ...) and temporary files are not
 * provided.
 */
#include "postgres.h"

#ifndef BGW_COMPAT_STORAGE_FD_H
#define BGW_COMPAT_STORAGE_FD_H

#include <dirent.h>
#include <sys/stat.h>

BGW_EXTERN_C_BEGIN

typedef int File;

/* The setting max_files_per_process. */
extern PGDLLIMPORT int max_files_per_process;

/* Counted, closed at the end of the transaction; NULL (or -1) with errno on failure. */
extern FILE *AllocateFile(const char *name, const char *mode);
extern int FreeFile(FILE *file);

extern FILE *OpenPipeStream(const char *command, const char *mode);
extern int ClosePipeStream(FILE *file);

extern DIR *AllocateDir(const char *dirname);
/* The next entry, NULL at the end; a NULL dir (AllocateDir failed) or a read error is an ERROR. */
extern struct dirent *ReadDir(DIR *dir, const char *dirname);
/* The same, reporting at elevel (below ERROR: then NULL). */
extern struct dirent *ReadDirExtended(DIR *dir, const char *dirname, int elevel);
extern int FreeDir(DIR *dir);

extern int OpenTransientFile(const char *fileName, int fileFlags);
extern int OpenTransientFilePerm(const char *fileName, int fileFlags, mode_t fileMode);
extern int CloseTransientFile(int fd);

/* A plain open(), not counted. */
extern int BasicOpenFile(const char *fileName, int fileFlags);
extern int BasicOpenFilePerm(const char *fileName, int fileFlags, mode_t fileMode);

/* Closes what was opened above (a WARNING at commit for what was left open). */
extern void AtEOXact_Files(bool isCommit);

/* fsync of a file or directory; failure is a PANIC. */
extern void fsync_fname(const char *fname, bool isdir);
/* rename/unlink that survive a crash; problems reported at elevel, then -1. */
extern int durable_rename(const char *oldfile, const char *newfile, int loglevel);
extern int durable_unlink(const char *fname, int loglevel);

BGW_EXTERN_C_END

#endif /* BGW_COMPAT_STORAGE_FD_H */
