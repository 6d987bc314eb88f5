/* SPDX-License-Identifier: MIT */
/*
 * os.h: the seam between the portable session engine and one OS backend.
 *
 * Exactly one backend is compiled per platform (core/src/linux/ or
 * core/src/win/), and it defines every function declared here.  The engine
 * never includes OS headers; the backend never interprets session records.
 * Every function returns an RM_* code unless said otherwise; on failure
 * output parameters are left untouched unless said otherwise.
 */
#ifndef RM_OS_H
#define RM_OS_H

#include "restartmgr.h"

struct rm__strv;

/* {===== Process identity, time, randomness, threads */

/* Fills buf with n bytes from the OS CSPRNG (getrandom, BCryptGenRandom).
 * RM_OK or RM_ERROR_WRITE_FAULT. */
uint32_t rm__os_random(void *buf, size_t n);

/* Identity of a live process.  RM_OK, RM_ERROR_FILE_NOT_FOUND (no such
 * process), RM_ERROR_ACCESS_DENIED. */
uint32_t rm__os_identity(uint32_t pid, rm_unique_process *out);

/* Identity of the calling process (cached by the backend). */
void rm__os_self(rm_unique_process *out);

/* 1 when the process with this identity is alive (a zombie counts as
 * dead), 0 otherwise. */
int rm__os_alive(const rm_unique_process *p);

/* Milliseconds of a monotonic clock, and a sleep. */
uint64_t rm__os_now_ms(void);
void rm__os_sleep_ms(unsigned ms);

/* One process-wide recursive-free mutex for the engine's handle table. */
void rm__os_global_lock(void);
void rm__os_global_unlock(void);

/* 1 when path is absolute for this OS ("/..." on Linux; "C:\\..." or a
 * UNC path on Windows). */
int rm__os_path_absolute(const char *path);

/* Value of an environment variable, or NULL. */
const char *rm__os_getenv(const char *name);

/* A watchdog for a command's time limit: when seconds pass before the
 * next call, it writes message (and a newline) to stderr and ends the
 * whole process with exit status code, also while a thread is blocked
 * reading another process's memory (a /proc read held up by a user's
 * FUSE mount).  0 seconds disarms it.  RM_OK, or RM_ERROR_OUTOFMEMORY
 * when its thread could not be started. */
uint32_t rm__os_exit_after(unsigned seconds, const char *message, int code);

/* }=====
 * {===== The session store: a per-user directory of small files */

typedef struct rm__dir rm__dir;

/* Resolves the store location for this user (Linux: the rule in
 * linux/store_path.c; Windows: %RESTARTMGR_STATE_DIR%, else
 * %LOCALAPPDATA%\restartmgr), creates it private if missing and opens it.
 * A location another user owns, can write, or leads to through a link is
 * refused: RM_ERROR_WRITE_FAULT.  RM_ERROR_OUTOFMEMORY. */
uint32_t rm__os_store_open(rm__dir **out);

/* The path rm__os_store_open would open now (UTF-8, into path[cap]) and
 * the RM_STORE_SKIPPED_* candidates passed over.  RM_OK,
 * RM_ERROR_MORE_DATA, RM_ERROR_WRITE_FAULT, RM_ERROR_OUTOFMEMORY. */
uint32_t rm__os_store_locate(char *path, size_t cap, uint32_t *skipped);
void rm__os_store_close(rm__dir *d);

/* Takes the store's cross-process lock, waiting at most timeout_ms.
 * Also excludes other threads of this process.  Holding it, removes what
 * crashed writers left: temp files of dead writers, and journals
 * ("NAME.files.GEN") whose record NAME is gone (Linux).  RM_OK,
 * RM_ERROR_SEM_TIMEOUT, RM_ERROR_WRITE_FAULT. */
uint32_t rm__os_store_lock(rm__dir *d, unsigned timeout_ms);
void rm__os_store_unlock(rm__dir *d);

/* Reads a whole file (not following symlinks).  *data is malloc'd and
 * NUL-terminated, free with free().  RM_OK, RM_ERROR_FILE_NOT_FOUND,
 * RM_ERROR_WRITE_FAULT (unreadable, not a regular file, foreign owner),
 * RM_ERROR_OUTOFMEMORY. */
uint32_t rm__os_store_read(rm__dir *d, const char *name, char **data,
                           size_t *len);

/* Replaces a file atomically: temp file (0600), write, fsync, rename.  A
 * crash at any instant leaves the old or the new content; the temp files
 * a crash leaves are removed by a later rm__os_store_lock (Linux).  RM_OK,
 * RM_ERROR_WRITE_FAULT. */
uint32_t rm__os_store_write(rm__dir *d, const char *name, const char *data,
                            size_t len);

/* Writes data at offset of a file (created 0600 when missing), dropping
 * whatever followed offset, and makes it durable (fdatasync, and the
 * directory when the file is new) before returning: the append of a
 * journal whose committed length the caller records afterwards.  RM_OK,
 * RM_ERROR_WRITE_FAULT. */
uint32_t rm__os_store_append(rm__dir *d, const char *name, uint64_t offset,
                             const char *data, size_t len);

/* Removes a file; a missing file is not an error.  RM_OK,
 * RM_ERROR_WRITE_FAULT. */
uint32_t rm__os_store_remove(rm__dir *d, const char *name);

/* }=====
 * {===== Who uses the registered resources */

/* A file's identity: (device, inode) on Linux, (volume serial, file index)
 * on Windows. */
typedef struct rm__file_id {
  uint64_t dev, ino;
} rm__file_id;

/* A restart command registered for one process (registration.c). */
typedef struct rm__restart_reg {
  rm_unique_process process;
  char **argv;                         /* NULL-terminated, argv[0] absolute */
  char *cwd;                           /* NULL: its own at shutdown */
  uint32_t flags;                      /* RM_RESTART_* */
} rm__restart_reg;

/* What rm__os_scan looks for. */
typedef struct rm__scan_input {
  const char *const *files;            /* registered absolute paths */
  const rm__file_id *file_ids;         /* NULL, or [n_files]: identities
                                          when registered ({0, 0}: none) */
  const uint32_t *file_views;          /* NULL, or [n_files]: the view each
                                          path was registered in
                                          (rm__os_file_view; NULL: all 0) */
  size_t n_files;
  const rm_unique_process *procs;      /* registered processes */
  size_t n_procs;
  const char *const *services;         /* registered service short names */
  size_t n_services;
  const volatile int *cancel;          /* nonzero: return RM_ERROR_CANCELLED */
  const rm__restart_reg *restarts;     /* registered restart commands: they
                                          decide restartable for those */
  size_t n_restarts;
} rm__scan_input;

/* One registered file that a found process holds. */
typedef struct rm__use {
  size_t file;                         /* index into rm__scan_input.files */
  uint32_t how;                        /* RM_USE_* bits */
} rm__use;

/* A deleted file a process still maps or runs (rm_get_stale_list). */
typedef struct rm__stale {
  uint64_t dev, ino;                   /* its identity, from maps */
  uint32_t how;                        /* RM_USE_MAPPING or _EXECUTABLE,
                                          with RM_USE_OLDER_INODE */
  char *text;                          /* the name it had, escaped for
                                          display (owned) */
} rm__stale;

/* One affected process or service, as the backend found and classified
 * it.  Every string is owned by the record; free with rm__found_free. */
typedef struct rm__found {
  rm_process_info info;                /* app_status is RM_STATUS_RUNNING */
  uint32_t reasons;                    /* RM_REBOOT_REASON_* it causes */
  rm__use *uses;                       /* files it holds, each index once */
  size_t n_uses;
  rm__file_id exe;                     /* identity of its executable ... */
  int has_exe;                         /* ... when known */
  int registered;                      /* matched a registered process or
                                          service (not only files) */
  rm_unique_process through;           /* a worker: restartable through this
                                          listed master (pid 0: none) */
  rm__stale *stale;                    /* rm__os_scan_stale: the deleted
                                          files it maps or runs, each
                                          identity once, sorted by it */
  size_t n_stale;
  uint32_t traits;                     /* RM_TRAIT_* bits */
  uint32_t not_restartable;            /* RM_NOT_RESTARTABLE_* */
} rm__found;

/* Scans the system.  One record per process (per service for services),
 * thread-group leaders only, no duplicates.  RM_OK,
 * RM_ERROR_ACCESS_DENIED (a registered path is a directory),
 * RM_ERROR_CANCELLED, RM_ERROR_OUTOFMEMORY.  Registered paths that do not
 * exist match nothing. */
uint32_t rm__os_scan(const rm__scan_input *in, rm__found **out, size_t *n_out);

/* Every process that maps or runs a file that has been deleted or
 * replaced since (docs/linux.md, Stale processes), classified as
 * rm__os_scan classifies, each with its rm__stale records.  Processes
 * that could not be inspected are not entries: *n_uninspected counts
 * them.  RM_OK, RM_ERROR_CANCELLED, RM_ERROR_OUTOFMEMORY. */
uint32_t rm__os_scan_stale(const volatile int *cancel, rm__found **out,
                           size_t *n_out, size_t *n_uninspected);

/* Identity of the file at path: Linux follows only links that root or
 * the caller made (docs/security.md, "Registration"); Windows follows
 * links.  RM_OK, RM_ERROR_FILE_NOT_FOUND. */
uint32_t rm__os_file_id(const char *path, rm__file_id *out);

/* The same for n paths at once (registration): ids[i] is {0, 0} where a
 * path has no identity.  Linux resolves each directory once. */
void rm__os_file_ids(const char *const *paths, size_t n, rm__file_id *ids);

/* The calling process's view of paths, stored with each file it registers
 * and handed back to the scan, which reads the path in that view: an
 * opaque tag only the backend interprets (Windows: the WOW64 file-system
 * redirection, docs/windows.md, "Registration in the registrant's view").
 * 0 is the system's own view, the only one on Linux. */
uint32_t rm__os_file_view(void);

/* }=====
 * {===== Stopping and starting */

/* The process context a relaunch restores (docs/linux.md, "Relaunch
 * context"): what the Linux capture reads; zero elsewhere. */
#define RM_LAUNCH_LIMITS 16                 /* RLIMIT_* 0..15 */
#define RM_LAUNCH_NO_PERSONALITY 0xFFFFFFFFu
typedef struct rm__launch_ctx {
  int captured;                        /* 1: the fields below are filled */
  int32_t nice;                        /* -20..19 */
  uint32_t umask;
  uint32_t no_new_privs;               /* 0 or 1 */
  int32_t oom_score_adj;               /* -1000..1000 */
  uint32_t personality;                /* RM_LAUNCH_NO_PERSONALITY: unread */
  uint64_t cap_bounding;               /* capability bounding set */
  uint32_t n_limits;
  uint64_t limit_cur[RM_LAUNCH_LIMITS], limit_max[RM_LAUNCH_LIMITS];
  char *cgroup;                        /* its cgroup, or NULL */
  rm__file_id cgroup_id;               /* that cgroup directory's identity */
  char *stdio[2];                      /* stdout, stderr: a regular file or
                                          the null device to reopen as its
                                          user; NULL: the null device */
  rm__file_id stdio_id[2];
} rm__launch_ctx;

/* What is needed to start an application again. */
typedef struct rm__launch {
  char **argv;                         /* NULL-terminated */
  char **envp;                         /* NULL-terminated */
  char *cwd;
  uint32_t uid, gid;
  char *exe;                           /* absolute path of the program to
                                          exec; NULL: argv[0] (Windows) */
  rm__file_id exe_id;                  /* its identity when captured */
  uint32_t *groups;                    /* supplementary groups */
  size_t n_groups;
  uint32_t notes;                      /* RM_RESTART_NOTE_REGISTERED when
                                          argv is a registered command */
  rm__launch_ctx ctx;                  /* its context (Linux) */
} rm__launch;

/* Captures how to start a live process again, before it is stopped: its
 * argv (or the registered command reg, when not NULL), executable,
 * environment, cwd and credentials.  RM_OK, RM_ERROR_ACCESS_DENIED,
 * RM_ERROR_FILE_NOT_FOUND, RM_ERROR_OUTOFMEMORY. */
uint32_t rm__os_capture(const rm_unique_process *p, const rm__restart_reg *reg,
                        rm__launch *out);

/* Starts a captured application detached (new session, stdio on the null
 * device, its own credentials), waits until it has stayed up for the
 * settle time, and returns its identity.  RM_OK or RM_ERROR_FAIL_RESTART;
 * *outcome says why it failed and what it noticed either way. */
uint32_t rm__os_launch(const rm__launch *l, rm_unique_process *started,
                       rm_restart_outcome *outcome);

/* rm__os_launch in two halves, so that many applications settle at once:
 * begin starts one and returns without waiting (RM_OK, or
 * RM_ERROR_FAIL_RESTART with *outcome saying why); end, called exactly
 * once per begin, waits until that one has settled and gives
 * rm__os_launch's answer.  run holds what is between the two. */
typedef struct rm__launching {
  rm_unique_process app;               /* the started process */
  long waiter;                         /* backend's: its watcher, or -1 */
  int info_fd, report_fd;              /* backend's: its reports, or -1 */
  uint64_t deadline_ms;                /* backend's: when to give up on it */
} rm__launching;
uint32_t rm__os_launch_begin(const rm__launch *l, rm__launching *run,
                             rm_restart_outcome *outcome);
uint32_t rm__os_launch_end(rm__launching *run, rm_unique_process *started,
                           rm_restart_outcome *outcome);
/* rm__os_launch_begin for n applications at once: rcs[i] its code for
 * l[i] (outcomes[i] filled), begun[i] 1 when it was begun; once *cancel
 * is set no more are begun (begun[i] 0: no rm__os_launch_end for it). */
void rm__os_launch_begin_all(const rm__launch *const *l, size_t n,
                             rm__launching *runs,
                             rm_restart_outcome *const *outcomes,
                             uint32_t *rcs, int *begun,
                             const volatile int *cancel);

/* Whether the caller may register a restart command for p: RM_OK (its own
 * process, or the caller is root), RM_ERROR_ACCESS_DENIED,
 * RM_ERROR_FILE_NOT_FOUND (not running). */
uint32_t rm__os_may_register(const rm_unique_process *p);

/* One application to stop. */
typedef struct rm__stop {
  rm_unique_process process;
  int console;            /* interrupt first (SIGINT / Ctrl-C) */
  uint32_t result;        /* out: RM_STATUS_STOPPED, RM_STATUS_STOPPED_OTHER
                             (gone before we signalled it), or
                             RM_STATUS_ERROR_ON_STOP (still running) */
} rm__stop;

/* Stops n applications concurrently, the identity re-checked before every
 * signal so a recycled pid is never signalled.  Waits at most timeout_ms;
 * with force, what still runs then is killed.  done(ctx, i) is called on
 * the calling thread as each one finishes.  RM_OK (results say how each
 * ended), RM_ERROR_CANCELLED (results say what happened so far; the rest
 * keep RM_STATUS_ERROR_ON_STOP), RM_ERROR_OUTOFMEMORY. */
uint32_t rm__os_stop_apps(rm__stop *apps, size_t n, unsigned timeout_ms,
                          int force, const volatile int *cancel,
                          void (*done)(void *ctx, size_t i), void *ctx);

/* Stops a service through its manager (never by signalling it), waiting
 * at most timeout_ms, killing it at the timeout with force.  RM_OK,
 * RM_ERROR_FAIL_SHUTDOWN, RM_ERROR_CANCELLED. */
uint32_t rm__os_service_stop(const char *name, unsigned timeout_ms, int force,
                             const volatile int *cancel);

/* rm__os_service_stop for n services at once (their managers run the
 * jobs concurrently): rcs[i] its code for names[i]. */
void rm__os_service_stop_all(const char *const *names, size_t n,
                             unsigned timeout_ms, int force,
                             const volatile int *cancel, uint32_t *rcs);

/* Starts a service through its manager and waits until it runs.  RM_OK or
 * RM_ERROR_FAIL_RESTART. */
uint32_t rm__os_service_start(const char *name, unsigned timeout_ms);

/* Starts n services through their manager at once (the manager runs the
 * jobs concurrently) and waits until each runs or fails: rcs[i] gets
 * rm__os_service_start's code for names[i]. */
void rm__os_service_start_all(const char *const *names, size_t n,
                              unsigned timeout_ms, uint32_t *rcs);
/* One service to restart in place. */
typedef struct rm__svc_restart {
  const char *name;             /* short name */
  rm_unique_process now;        /* out: its main process once back (pid 0:
                                   not known) */
  uint32_t result;              /* out: RM_OK (its old processes exited and
                                   it runs again), RM_ERROR_FAIL_SHUTDOWN
                                   (they did not exit in time),
                                   RM_ERROR_FAIL_RESTART (they did, it did
                                   not come back), RM_ERROR_CANCELLED (not
                                   waited for) */
} rm__svc_restart;

/* Restarts n services in place through their managers (the files they
 * use are already replaced, so nothing needs to happen between the stop
 * and the start): together where the manager can, in its own dependency
 * order, each waited for at most timeout_ms.  A service is stopped when
 * the processes it had have exited, whatever its manager starts next. */
void rm__os_services_restart(rm__svc_restart *v, size_t n,
                             unsigned timeout_ms, const volatile int *cancel);

/* }=====
 * {===== The backend itself */

/* The system's Restart Manager, loaded, or NULL when there is none
 * (called once, by rm__native; the table is native.h's). */
struct rm__native_ops;
const struct rm__native_ops *rm__os_native(void);

/* The backend's name for rm_backend(), "linux" or "win32". */
const char *rm__os_backend_name(void);

/* }=====
 * {===== linux/scripts.c, linux/kernel.c (win/leftovers.c): what an
 * upgrade leaves beyond mapped files */

/* One interpreter process whose script was replaced. */
typedef struct rm__script_verdict {
  rm_unique_process process;
  const char *interpreter;             /* static family label */
  char *path;                          /* owned */
  uint32_t why;                        /* RM_SCRIPT_* */
} rm__script_verdict;

/* Every such process, sorted by pid (rm_get_stale_scripts).  RM_OK,
 * RM_ERROR_ACCESS_DENIED, RM_ERROR_OUTOFMEMORY. */
uint32_t rm__os_stale_scripts(rm__script_verdict **out, size_t *n);
void rm__script_verdicts_free(rm__script_verdict *v, size_t n);

/* rm_get_kernel_info with root checked (absolute or NULL). */
uint32_t rm__os_kernel_info(const char *root, rm_kernel_info *out);

/* }=====
 * {===== Transaction files (tx*.c): staging, swapping, removing
 *
 * Paths are absolute.  err receives the OS error (errno, GetLastError)
 * of a failure, for the message; rm__os_tx_strerror names it. */

/* Internal code: the operation does not exist here (ERROR_INVALID_FUNCTION). */
#define RM__TX_UNSUPPORTED 1u

/* What a path is, not following a final link. */
#define RM__TX_NONE 0u                 /* nothing there */
#define RM__TX_FILE 1u                 /* a regular file */
#define RM__TX_DIR  2u
#define RM__TX_LINK 3u                 /* a symbolic link */
#define RM__TX_OTHER 4u                /* FIFO, device, socket */

/* Type and identity of path (not following a final link).  RM_OK (type
 * RM__TX_NONE when missing), RM_ERROR_ACCESS_DENIED. */
uint32_t rm__os_tx_lstat(const char *path, uint32_t *type, rm__file_id *id,
                         int *err);

/* The offset of the last component of path (after its last separator). */
size_t rm__os_tx_base(const char *path);

/* Whether the directory dir may hold a transaction's files: a directory
 * (reached as given), owned by the caller or the administrator, not
 * writable by other users unless sticky.  RM_OK, RM_ERROR_FILE_NOT_FOUND,
 * RM_ERROR_ACCESS_DENIED. */
uint32_t rm__os_tx_dir_safe(const char *dir, int *err);

/* Creates staged (exclusively, never through a link) as a copy of
 * source (a file, a symbolic link kept as a link, or a directory copied
 * whole), or of data[len] when source is NULL; with the owner, group,
 * mode and extended attributes (ACLs, file capabilities) of meta (a path,
 * not followed; NULL: the source's mode and the caller's owner), and
 * makes it durable (fsync of the file and of its directory).  What it
 * created is removed on failure.  *id receives its identity.  RM_OK,
 * RM_ERROR_FILE_NOT_FOUND (source missing), RM_ERROR_ACCESS_DENIED
 * (EACCES, EPERM, EROFS, EEXIST, a link or FIFO in the way),
 * RM_ERROR_WRITE_FAULT (ENOSPC, EIO, ...), RM_ERROR_OUTOFMEMORY; *culprit
 * receives the path that failed (one of the arguments, or inside a
 * copied directory: malloc'd, may be NULL). */
uint32_t rm__os_tx_copy(const char *staged, const char *source,
                        const void *data, size_t len, const char *meta,
                        rm__file_id *id, int *err, char **culprit);

/* 1 when the regular files or links a and b have the same content (bytes,
 * or link text); 0 when not or unreadable. */
int rm__os_tx_same(const char *a, const char *b);

/* The names in directory dir (no "." or ".."), not following a final
 * link.  RM_OK, RM_ERROR_ACCESS_DENIED, RM_ERROR_OUTOFMEMORY. */
uint32_t rm__os_tx_list(const char *dir, struct rm__strv *names, int *err);

/* Exchanges a and b atomically.  RM_OK; RM__TX_UNSUPPORTED when
 * the file system or OS cannot (the caller falls back on link+rename);
 * RM_ERROR_ACCESS_DENIED. */
uint32_t rm__os_tx_exchange(const char *a, const char *b, int *err);

/* A second name to for the file from (a hard link; never replaces).
 * RM_OK, RM__TX_UNSUPPORTED (no hard links here),
 * RM_ERROR_ACCESS_DENIED (also when to exists). */
uint32_t rm__os_tx_link(const char *from, const char *to, int *err);

/* Renames from to to atomically; replacing what is at to unless
 * noreplace.  RM_OK, RM_ERROR_ACCESS_DENIED. */
uint32_t rm__os_tx_rename(const char *from, const char *to, int noreplace,
                          int *err);

/* Removes path: a file, a link, or a directory with everything under it,
 * never following a link.  Missing is RM_OK.  RM_ERROR_ACCESS_DENIED. */
uint32_t rm__os_tx_remove(const char *path, int *err);

/* Makes the directory entries of path's directory durable (fsync). */
void rm__os_tx_sync_parent(const char *path);

/* Ends the calling process at once, as kill -9 would (the journal's
 * crash-test hook). */
void rm__os_tx_die(void);

/* A sentence for an OS error number.  Static or thread-local string. */
const char *rm__os_tx_strerror(int err);

/* Windows: schedules from to replace to at the next boot
 * (MoveFileEx(MOVEFILE_DELAY_UNTIL_REBOOT)), and drops such entries
 * naming path.  Linux never needs it: RM__TX_UNSUPPORTED. */
uint32_t rm__os_tx_at_reboot(const char *from, const char *to, int *err);
uint32_t rm__os_tx_clear_reboot(const char *path, unsigned *cleared);

/* }===== */

#endif /* RM_OS_H */
