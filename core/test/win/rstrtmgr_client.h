/* SPDX-License-Identifier: MIT */
/*
 * rstrtmgr_client.h: what the two files of rm_rstrtmgr_client share.
 * Only Windows' own headers: the client knows nothing of restartmgr.
 */
#ifndef RSTRTMGR_CLIENT_H
#define RSTRTMGR_CLIENT_H

#include <windows.h>
#include <restartmanager.h>

/* Exported by Rstrtmgr.dll and mingw-w64's import library, but not
 * declared in <restartmanager.h>. */
DWORD WINAPI RmReserveHeap(DWORD reserved);

/* 776, documented for RmRestart; mingw-w64's <winerror.h> lacks the name. */
#define ERROR_REQUEST_OUT_OF_SEQUENCE 776

/* Checks: a failure is printed with its line and counted. */
extern int failures;
#define CHECK(cond) check((cond), #cond, __LINE__)
#define CHECK_RC(got, want) check_rc((got), (want), #got, __LINE__)
void check(int ok, const char *what, int line);
void check_rc(DWORD got, DWORD want, const char *what, int line);
/* printf plus a newline, flushed. */
void say(const char *fmt, ...);

/* A child process, by handle; every one is killed by kill_children. */
typedef struct child {
  HANDLE process;
  DWORD pid;
  FILETIME created;
} child;
extern child children[16];
extern int n_children;
/* $RM_TEST_BIN as a Windows path, and this run's work directory in it. */
extern WCHAR bin[MAX_PATH], work[MAX_PATH];

void kill_children(void);
/* Starts exe with args (CREATE_NEW_CONSOLE in flags for a console of its
 * own) and waits for its "ready" line.  NULL on failure. */
child *start(const WCHAR *exe, const WCHAR *args, DWORD flags);
/* The same for $RM_TEST_BIN/rm_winapp.exe. */
child *winapp(const WCHAR *args, DWORD flags);
int same(const RM_UNIQUE_PROCESS *p, const child *c);
void unique(RM_UNIQUE_PROCESS *out, const child *c);
/* Kills a process (one the session restarted) by identity. */
void kill_identity(const RM_UNIQUE_PROCESS *p);

/* RmGetList until it holds still (the ERROR_MORE_DATA loop); *out is
 * malloc'd. */
DWORD get_list(DWORD h, RM_PROCESS_INFO **out, UINT *n, DWORD *reasons);
void print_list(const RM_PROCESS_INFO *info, UINT n, DWORD reasons);
const RM_PROCESS_INFO *find(const RM_PROCESS_INFO *info, UINT n, DWORD pid);

void path_in(WCHAR *out, const WCHAR *dir, const WCHAR *name);
/* A Unix or Windows directory as a Windows path (Wine's Z: for Unix). */
void windows_dir(WCHAR *out, const char *dir);
void make_file(const WCHAR *path);
/* How many times a file holds a string, waiting up to 20 s for want. */
int count_in(const WCHAR *path, const char *what, int want);

/* "wow64 OTHER-BIN": against apps of the other width
 * (rstrtmgr_client_wow64.c).  0 when every check passed. */
int run_wow64(const WCHAR *other);

/* rstrtmgr_client_aswin.c: names and the shell (part of dropin), and the
 * console part (a console app on a console nobody can attach to). */
void check_names(void);
int run_console_stop(const WCHAR *file, DWORD pid);

#endif
