/* SPDX-License-Identifier: MIT */
/*
 * win.h: declarations shared by the files of the Win32 backend.
 *
 * winapi.c    the ntdll entry points, resolved once for every thread
 * base.c      UTF-8/UTF-16 at the Win32 edge, paths, time, randomness,
 *             the global lock, the environment
 * ident.c     identities of files and processes
 * store.c     the session store directory (LockFileEx, atomic replace)
 * procs.c     the system's process list and the services (SCM) map
 * scanfiles.c the registered files, the system handle table (scan.h)
 * scan.c      rm__os_scan: who uses the registered files and services
 * classify.c  app type, name, session, reboot reasons of a found process
 * stop.c      rm__os_stop_apps: session-end messages, Ctrl-C, waiting
 * console.c   delivering Ctrl-C to a process on another console
 * services.c  rm__os_service_stop, rm__os_service_start through the SCM
 * peb.c       another process's start parameters, from its PEB
 * launch.c    rm__os_capture, rm__os_launch
 * restartreg.c RegisterApplicationRestart: who Windows restarts, and how
 * native.c    RESTARTMGR_BACKEND=native: forwarding to Rstrtmgr.dll
 * txfs.c      the transaction's files: staging, renames, removal, and
 *             renames at the next boot (PendingFileRenameOperations)
 *
 * The public API is UTF-8; UTF-16 appears only in calls to Windows, through
 * the converters below.  Identity of a process is (pid, creation FILETIME)
 * exactly as RM_UNIQUE_PROCESS has it; identity of a file is (volume
 * serial number, file index), never its path text.
 */
#ifndef RM_WIN_H
#define RM_WIN_H

#include <windows.h>

#include "../internal.h"

/* {===== winapi.c: the ntdll entry points, resolved once */

typedef LONG rm__ntstatus;

/* IO_STATUS_BLOCK */
typedef struct rm__io_status {
  union {
    LONG status;
    void *pointer;
  } u;
  ULONG_PTR information;
} rm__io_status;

/* NtQueryInformationFile, NtQueryVolumeInformationFile */
typedef rm__ntstatus (NTAPI *rm__nt_query_file_fn)(HANDLE, rm__io_status *,
                                                   void *, ULONG, int);
/* NtQuerySystemInformation */
typedef rm__ntstatus (NTAPI *rm__nt_query_system_fn)(int, void *, ULONG,
                                                     ULONG *);
/* NtQueryInformationProcess, NtWow64QueryInformationProcess64 */
typedef rm__ntstatus (NTAPI *rm__nt_query_process_fn)(HANDLE, int, void *,
                                                      ULONG, ULONG *);
/* NtWow64ReadVirtualMemory64 */
typedef rm__ntstatus (NTAPI *rm__nt_read64_fn)(HANDLE, ULONG64, void *,
                                               ULONG64, ULONG64 *);

/* Each NULL when this ntdll lacks it (the WOW64 ones exist only in a
 * 32-bit process on 64-bit Windows; wine_get_version only under Wine). */
typedef struct rm__ntdll {
  rm__nt_query_file_fn query_information_file;
  rm__nt_query_file_fn query_volume_information_file;
  rm__nt_query_system_fn query_system_information;
  rm__nt_query_process_fn query_information_process;
  rm__nt_query_process_fn wow64_query_information_process64;
  rm__nt_read64_fn wow64_read_virtual_memory64;
  FARPROC wine_get_version;
} rm__ntdll;

/* The entry points, resolved on the first call from any thread
 * (InitOnceExecuteOnce); safe to call from every thread. */
const rm__ntdll *rm__win_ntdll(void);

/* NtQuerySystemInformation into *buf (malloc'd, grown until the answer
 * fits and kept by the caller, who frees it). */
rm__ntstatus rm__win_query_system(ULONG info_class, void **buf, ULONG *len);

/* }=====
 * {===== base.c: strings and paths */

/* UTF-8 → UTF-16, malloc'd.  NULL for invalid UTF-8 or no memory. */
wchar_t *rm__win_wide(const char *utf8);

/* UTF-16 (len characters, or -1 for NUL-terminated) → UTF-8, malloc'd.
 * Unpaired surrogates become U+FFFD.  NULL for no memory. */
char *rm__win_utf8(const wchar_t *w, int len);

/* Copies w into dst[cap] as UTF-8, truncated on a character boundary,
 * always NUL-terminated. */
void rm__win_utf8_copy(char *dst, size_t cap, const wchar_t *w);

/* A UTF-8 path as the wide file APIs want it: "/" turned into "\", and
 * long paths given the "\\?\" prefix so MAX_PATH does not apply.
 * malloc'd; NULL for invalid UTF-8 or no memory. */
wchar_t *rm__win_path(const char *utf8);

/* {===== redirect.c: views of paths under WOW64's file-system redirector */

/* The views rm__os_file_view tags registered files with. */
#define RM_WIN_VIEW_NATIVE 0u  /* a 64-bit process, or any on 32-bit Windows */
#define RM_WIN_VIEW_WOW64 1u   /* a 32-bit x86 process on 64-bit Windows */

/* path as named in view from, spelled for view to, given the system's
 * Windows directory (GetSystemWindowsDirectoryW): a pure function.
 * Compared without case, "\\?\" kept.  RM_OK with *out malloc'd (a copy
 * when nothing changes); RM_ERROR_FILE_NOT_FOUND when the file has no
 * name in view to (or a view is not known); RM_ERROR_OUTOFMEMORY. */
uint32_t rm__win_redirect(const wchar_t *path, const wchar_t *windir,
                          uint32_t from, uint32_t to, wchar_t **out);

/* The same into this caller's view.  Same codes. */
uint32_t rm__win_path_in_view(const wchar_t *path, uint32_t from,
                              wchar_t **out);

/* A path another process reported (its image, a module), rewritten into
 * this caller's view of the file system under WOW64 redirection:
 * seen_by_32bit says it is as a 32-bit process on a 64-bit system sees it
 * (its modules), else it is native (an image path, a 64-bit process's
 * modules); a file this caller cannot name keeps its path.  malloc'd, NULL
 * for no memory. */
wchar_t *rm__win_in_caller_view(const wchar_t *path, int seen_by_32bit);

/* 1 when this caller is a 32-bit process on 64-bit Windows (WOW64). */
int rm__win_caller_is_wow64(void);

/* }===== */

/* 1 when the two wide strings are equal ignoring case (file names,
 * service names: Windows compares them without case). */
int rm__win_ieq(const wchar_t *a, const wchar_t *b);

/* The base name of a path (after the last "\" or "/"). */
const wchar_t *rm__win_basename(const wchar_t *path);

/* }=====
 * {===== ident.c: identities */

/* Identity of an open file handle: (volume serial, file index), through
 * queries that need no access rights on the handle.  1 on success. */
int rm__win_handle_id(HANDLE h, rm__file_id *out);
/* Its two halves.  The index is the cheap one; the volume serial is,
 * under Wine, a request to the mount manager in another process
 * (winedevice.exe), so a scan asks for it only when the index is one a
 * registered file has (scanfiles.c).  1 on success. */
int rm__win_handle_index(HANDLE h, uint64_t *ino);
int rm__win_handle_volume(HANDLE h, uint64_t *dev);

/* Identity of the file at a wide path; *is_dir set when it is a
 * directory.  RM_OK or RM_ERROR_FILE_NOT_FOUND. */
uint32_t rm__win_path_id(const wchar_t *path, rm__file_id *out, int *is_dir);

/* Creation time of an open process (FILETIME as a number).  1 on success. */
int rm__win_process_start(HANDLE process, uint64_t *out);

/* Opens a process by identity: NULL (with GetLastError) unless the pid is
 * alive and was created at p->start_time.  A handle pins the process, so
 * what is done through it cannot hit a recycled pid. */
HANDLE rm__win_open_identity(const rm_unique_process *p, DWORD access);

/* 1 when the image at path is a console-subsystem program. */
int rm__win_image_is_console(const wchar_t *path);

/* The full image path of an open process, malloc'd, or NULL. */
wchar_t *rm__win_image_path(HANDLE process);

/* Identity of the calling process (never changes for a process). */
const rm_unique_process *rm__win_self(void);

/* }=====
 * {===== procs.c: the process list and services */

/* One process of the system, from NtQuerySystemInformation: identity and
 * session without opening the process. */
typedef struct rm__win_proc {
  uint32_t pid, parent, session;
  uint64_t start_time;
  wchar_t *name;                    /* image base name, owned */
} rm__win_proc;

typedef struct rm__win_procs {
  rm__win_proc *v;
  size_t n;
} rm__win_procs;

/* Takes a snapshot of every process.  RM_OK or RM_ERROR_OUTOFMEMORY. */
uint32_t rm__win_procs_snapshot(rm__win_procs *out);
void rm__win_procs_free(rm__win_procs *p);
/* The entry for a pid, or NULL. */
const rm__win_proc *rm__win_procs_find(const rm__win_procs *p, uint32_t pid);

/* One Win32 service known to the Service Control Manager. */
typedef struct rm__win_service {
  wchar_t *name, *display;          /* owned */
  uint32_t pid;                     /* 0 unless running */
  DWORD state;                      /* SERVICE_RUNNING, ... */
} rm__win_service;

typedef struct rm__win_services {
  rm__win_service *v;
  size_t n;
} rm__win_services;

/* Every Win32 service with its process (none when the SCM cannot be
 * reached).  RM_OK or RM_ERROR_OUTOFMEMORY. */
uint32_t rm__win_services_snapshot(rm__win_services *out);
void rm__win_services_free(rm__win_services *s);

/* }=====
 * {===== classify.c */

/* What classification needs to know about the system, gathered once per
 * scan. */
typedef struct rm__win_context {
  const rm__win_procs *procs;
  const rm__win_services *services;
  DWORD self_session;
  HWND *windows;                    /* top-level windows ... */
  DWORD *window_pids;               /* ... and their processes */
  unsigned char *window_visible;    /* 1 when visible and unowned */
  size_t n_windows;
} rm__win_context;

/* Lists the top-level windows.  RM_OK or RM_ERROR_OUTOFMEMORY. */
uint32_t rm__win_context_windows(rm__win_context *c);
void rm__win_context_free(rm__win_context *c);

/* Fills f->info and f->reasons for the process f->info.process, or for
 * the service svc it hosts when svc is not NULL (one record per service).
 * f->info.process must be set; app_status becomes RM_STATUS_RUNNING. */
void rm__win_classify(const rm__win_context *c, rm__found *f,
                      const rm__win_service *svc);

/* The whole name rm__win_classify gives an entry (a service's display
 * name, else the image's base name), in UTF-16 and never truncated to the
 * RM_MAX_APP_NAME bytes of app_name; found again from the live process or
 * the SCM.  malloc'd, or NULL when neither is there any more. */
wchar_t *rm__win_app_name(const rm_process_info *info);

/* }=====
 * {===== peb.c: another process's start parameters */

/* What a process was started with, each malloc'd: its image path as the
 * loader has it (possibly an NT path), its command line, current
 * directory and environment block (double NUL-terminated). */
typedef struct rm__win_params {
  wchar_t *image, *command, *cwd, *env;
} rm__win_params;

/* Reads them (the handle needs PROCESS_QUERY_INFORMATION and
 * PROCESS_VM_READ).  1 when all four were read; 0 otherwise, with what
 * was read left in *p for rm__win_params_free. */
int rm__win_read_params(HANDLE process, rm__win_params *p);
void rm__win_params_free(rm__win_params *p);

/* 1 when this caller can reach the process's parameters at all (a 32-bit
 * caller cannot reach a 64-bit process's under Wine 8.0: peb.c). */
int rm__win_params_reachable(HANDLE process);

/* 1 when the process's parameters name a console (ConsoleHandle not
 * NULL); 0 when they do not or cannot be read. */
int rm__win_has_console(HANDLE process);

/* }=====
 * {===== restartreg.c: RegisterApplicationRestart */

/* What the system says about restarting a process. */
typedef enum rm__win_restart_kind {
  RM__WIN_NOT_REGISTERED,  /* not registered (or RESTART_NO_PATCH): Windows
                              does not restart it */
  RM__WIN_REGISTERED,      /* restart "<image>" + the registered command line */
  RM__WIN_UNKNOWABLE       /* the system cannot say (Wine's stub): the
                              library's own rule applies */
} rm__win_restart_kind;

/* The decision from what GetApplicationRestartSettings returned. */
rm__win_restart_kind rm__win_restart_rule(HRESULT hr, DWORD flags);

/* Reads an open process's registration (the handle needs
 * PROCESS_QUERY_LIMITED_INFORMATION and PROCESS_VM_READ).  For
 * RM__WIN_REGISTERED, *args (when args is not NULL) receives the
 * registered command line, malloc'd. */
rm__win_restart_kind rm__win_restart_registration(HANDLE process,
                                                  wchar_t **args);

/* The command line Windows restarts a registered application with: the
 * image path in quotes, a space, the registered arguments.  malloc'd,
 * NULL for no memory. */
wchar_t *rm__win_restart_command(const wchar_t *image, const wchar_t *args);

/* }=====
 * {===== console.c */

/* Sends Ctrl-C to the console the process is attached to (see console.c
 * for what that does to the caller's own console).  1 when sent. */
int rm__win_send_ctrl_c(DWORD pid);

/* Runs the process's console control handlers for event, as Windows
 * delivers it: a thread started in it at kernel32's CtrlRoutine.  Only
 * for a process of the caller's width with kernelbase.dll where the
 * caller has it; 1 when the thread was started.  (What console.c uses
 * under Wine.) */
int rm__win_ctrl_routine_thread(DWORD pid, DWORD event);

/* }===== */

#endif
