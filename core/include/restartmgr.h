/* SPDX-License-Identifier: MIT */
/*
 * restartmgr.h: the Windows Restart Manager's semantics as a portable C API.
 *
 * The API mirrors <restartmanager.h> one for one: the same functions, the
 * same parameter order, the same numeric error codes and flag values, with
 * snake_case names under an rm_/RM_ prefix so that nothing collides with the
 * Win32 header.  Strings are UTF-8.  Every function returns a Win32 error
 * code (RM_OK on success) and is safe to call from any thread.
 *
 * The usual sequence:
 *
 *   rm_start_session(&h, 0, key);           primary installer
 *   rm_register_resources(h, ...);          primary or secondaries (by key)
 *   rm_get_list(h, ...);                    who uses the resources
 *   rm_shutdown(h, 0, progress, ctx);       stop them
 *   ... replace files ...
 *   rm_restart(h, 0, progress, ctx);        start again what was stopped
 *   rm_end_session(h);
 *
 * Sessions live in a per-user store shared by every process of the user,
 * so a secondary installer in another process joins with the key and its
 * registrations are seen by the primary.
 */
#ifndef RESTARTMGR_H
#define RESTARTMGR_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32) && !defined(RM_STATIC)
#  ifdef RM_BUILDING_DLL
#    define RM_EXTERN __declspec(dllexport)
#  else
#    define RM_EXTERN __declspec(dllimport)
#  endif
#elif defined(__GNUC__)
#  define RM_EXTERN __attribute__((visibility("default")))
#else
#  define RM_EXTERN
#endif

#define RM_VERSION_MAJOR 0
#define RM_VERSION_MINOR 1
#define RM_VERSION_PATCH 0
#define RM_VERSION_STRING "0.1.0"

#define RM_SESSION_KEY_CHARS 32        /* CCH_RM_SESSION_KEY, without NUL */
#define RM_MAX_APP_NAME      255       /* CCH_RM_MAX_APP_NAME, bytes of UTF-8 */
#define RM_MAX_SVC_NAME      63        /* CCH_RM_MAX_SVC_NAME */
#define RM_MAX_SESSIONS      64        /* live sessions per user */
#define RM_INVALID_SESSION_ID 0xFFFFFFFFu  /* RM_INVALID_TS_SESSION */

/* Return codes: the Win32 values (winerror.h). */
#define RM_OK                               0u
#define RM_ERROR_FILE_NOT_FOUND             2u
#define RM_ERROR_ACCESS_DENIED              5u
#define RM_ERROR_INVALID_HANDLE             6u
#define RM_ERROR_OUTOFMEMORY               14u
#define RM_ERROR_WRITE_FAULT               29u
#define RM_ERROR_SEM_TIMEOUT              121u
#define RM_ERROR_BAD_ARGUMENTS            160u
#define RM_ERROR_MORE_DATA                234u
#define RM_ERROR_FAIL_NOACTION_REBOOT     350u
#define RM_ERROR_FAIL_SHUTDOWN            351u
#define RM_ERROR_FAIL_RESTART             352u
#define RM_ERROR_MAX_SESSIONS_REACHED     353u
#define RM_ERROR_REQUEST_OUT_OF_SEQUENCE  776u
#define RM_ERROR_SESSION_CREDENTIAL_CONFLICT 1219u
#define RM_ERROR_CANCELLED               1223u

/* The kind of an affected application (RM_APP_TYPE). */
typedef enum rm_app_type {
  RM_APP_UNKNOWN = 0,        /* cannot be classified */
  RM_APP_MAIN_WINDOW = 1,    /* graphical session, no terminal */
  RM_APP_OTHER_WINDOW = 2,
  RM_APP_SERVICE = 3,        /* run by a service manager */
  RM_APP_EXPLORER = 4,
  RM_APP_CONSOLE = 5,        /* has a controlling terminal */
  RM_APP_CRITICAL = 1000     /* cannot be shut down: see the reboot reasons */
} rm_app_type;

/* app_status bits: the history of this session's actions on an app. */
#define RM_STATUS_UNKNOWN          0x00u
#define RM_STATUS_RUNNING          0x01u
#define RM_STATUS_STOPPED          0x02u
#define RM_STATUS_STOPPED_OTHER    0x04u
#define RM_STATUS_RESTARTED        0x08u
#define RM_STATUS_ERROR_ON_STOP    0x10u
#define RM_STATUS_ERROR_ON_RESTART 0x20u
#define RM_STATUS_SHUTDOWN_MASKED  0x40u
#define RM_STATUS_RESTART_MASKED   0x80u

/* Reboot reason bits (RM_REBOOT_REASON). */
#define RM_REBOOT_REASON_NONE              0x00u
#define RM_REBOOT_REASON_PERMISSION_DENIED 0x01u
#define RM_REBOOT_REASON_SESSION_MISMATCH  0x02u
#define RM_REBOOT_REASON_CRITICAL_PROCESS  0x04u
#define RM_REBOOT_REASON_CRITICAL_SERVICE  0x08u
#define RM_REBOOT_REASON_DETECTED_SELF     0x10u

/* rm_shutdown flags (RM_SHUTDOWN_TYPE). */
#define RM_FORCE_SHUTDOWN           0x01u
#define RM_SHUTDOWN_ONLY_REGISTERED 0x10u
/* restartmgr's own: services are restarted in place by their manager
 * during the shutdown (their files are already replaced, as after an
 * upgrade), each one a stop and start in one step, all of them at once in
 * the manager's dependency order; they end STOPPED | RESTARTED with their
 * new main process, and rm_restart has nothing left to do for them.
 * Windows' own Restart Manager does not know it (RM_ERROR_BAD_ARGUMENTS
 * there). */
#define RM_SHUTDOWN_SERVICES_IN_PLACE 0x10000u

/* What a filter does (RM_FILTER_ACTION). */
typedef enum rm_filter_action {
  RM_FILTER_ACTION_INVALID = 0,
  RM_NO_RESTART = 1,          /* shut down, but do not restart */
  RM_NO_SHUTDOWN = 2          /* neither shut down nor restart */
} rm_filter_action;

/* What a filter selects (RM_FILTER_TRIGGER). */
typedef enum rm_filter_trigger {
  RM_FILTER_TRIGGER_INVALID = 0,
  RM_FILTER_TRIGGER_FILE = 1,     /* processes whose executable is this file */
  RM_FILTER_TRIGGER_PROCESS = 2,  /* one process by identity */
  RM_FILTER_TRIGGER_SERVICE = 3   /* a service by short name */
} rm_filter_trigger;

/* A process identity (RM_UNIQUE_PROCESS): the pid alone can be reused, the
 * pair cannot.  start_time is in 100 ns units; on Linux it counts from
 * boot, on Windows it is the creation FILETIME.  It is identical for the
 * same process on every call and in every process. */
typedef struct rm_unique_process {
  uint32_t pid;
  uint64_t start_time;
} rm_unique_process;

/* One affected application or service (RM_PROCESS_INFO). */
typedef struct rm_process_info {
  rm_unique_process process;
  char     app_name[RM_MAX_APP_NAME + 1];           /* UTF-8, truncated on a
                                                        character boundary */
  char     service_short_name[RM_MAX_SVC_NAME + 1]; /* "" unless a service */
  rm_app_type app_type;
  uint32_t app_status;      /* RM_STATUS_* bits: the history of this session */
  uint32_t session_id;      /* login session, or RM_INVALID_SESSION_ID */
  int      restartable;     /* boolean */
} rm_process_info;

/* One record of the buffer rm_get_filter_list fills (RM_FILTER_INFO). */
typedef struct rm_filter_info {
  rm_filter_action  action;
  rm_filter_trigger trigger;
  uint32_t next_offset;     /* bytes from this record to the next; 0 = last */
  union {
    const char       *file_name;           /* points inside the same buffer */
    rm_unique_process process;
    const char       *service_short_name;  /* points inside the same buffer */
  } u;
} rm_filter_info;

/* Progress of rm_shutdown and rm_restart: called on the calling thread
 * with strictly increasing values in 0..100, the last one 100. */
typedef void (*rm_status_callback)(unsigned percent_complete, void *context);

/* Starts a session and makes the caller its primary installer.
 * session_flags must be 0.  On success *session_handle receives a handle
 * usable in this process only, and session_key (33 bytes) receives the
 * session's key: 32 lowercase hex characters from 16 bytes of the OS
 * CSPRNG, always NUL-terminated.  Slots of sessions whose owner died
 * without ending them are reused.
 * Returns RM_OK; RM_ERROR_BAD_ARGUMENTS (NULL pointer, flags != 0);
 * RM_ERROR_MAX_SESSIONS_REACHED (64 live sessions for this user, or 256
 * handles in this process);
 * RM_ERROR_SEM_TIMEOUT (store lock not obtained in time);
 * RM_ERROR_WRITE_FAULT (store missing, unsafe or unwritable);
 * RM_ERROR_OUTOFMEMORY. */
RM_EXTERN uint32_t rm_start_session(uint32_t *session_handle,
                                    uint32_t session_flags,
                                    char session_key[RM_SESSION_KEY_CHARS + 1]);

/* Joins an existing session of the same user as a secondary installer,
 * from any process (also the primary's own, which gets a second,
 * secondary handle).  The key is compared case-insensitively.
 * Returns RM_OK; RM_ERROR_BAD_ARGUMENTS (NULL pointer);
 * RM_ERROR_SESSION_CREDENTIAL_CONFLICT (malformed or unknown key, or a
 * session that was ended or whose owner died);
 * RM_ERROR_MAX_SESSIONS_REACHED (this process already holds 256 handles);
 * RM_ERROR_WRITE_FAULT; RM_ERROR_OUTOFMEMORY. */
RM_EXTERN uint32_t rm_join_session(uint32_t *session_handle,
                                   const char *session_key);

/* Ends the caller's use of a session.  Through the primary handle the
 * session is destroyed (its store record removed); through a secondary
 * handle only that handle is released, also when the primary already ended
 * the session.  An operation running on the handle in another thread is
 * cancelled and waited for first.  Never stops or restarts anything.
 * Returns RM_OK; RM_ERROR_INVALID_HANDLE (unknown or already ended
 * handle); RM_ERROR_SEM_TIMEOUT; RM_ERROR_WRITE_FAULT. */
RM_EXTERN uint32_t rm_end_session(uint32_t session_handle);

/* Adds files (absolute paths), processes (identities) and services (short
 * names) to the session, cumulatively, in one store write.  Duplicates are
 * harmless; nothing can be unregistered.  All counts 0 is a no-op.  The
 * arrays are copied.  If any argument is invalid nothing is registered.
 * Returns RM_OK; RM_ERROR_INVALID_HANDLE; RM_ERROR_BAD_ARGUMENTS (count >
 * 0 with a NULL array, a NULL element, a path not absolute, not valid
 * UTF-8 or longer than PATH_MAX bytes, a service name empty or longer than
 * RM_MAX_SVC_NAME); RM_ERROR_SEM_TIMEOUT; RM_ERROR_WRITE_FAULT;
 * RM_ERROR_OUTOFMEMORY. */
RM_EXTERN uint32_t rm_register_resources(uint32_t session_handle,
    unsigned n_files, const char *const file_names[],
    unsigned n_applications, const rm_unique_process applications[],
    unsigned n_services, const char *const service_names[]);

/* Lists the applications and services that use the registered resources,
 * recomputed on every call, plus every entry this session acted on with
 * its status history.  Two-call protocol: with *n_proc_info smaller than
 * the number of entries it returns RM_ERROR_MORE_DATA, sets
 * *n_proc_info_needed and *reboot_reasons and sets *n_proc_info to 0;
 * callers loop, because the set can grow between calls.  A MORE_DATA
 * answer is kept: the next rm_get_list on the handle returns it again,
 * without rescanning, when it comes within 500 ms of that scan
 * (RESTARTMGR_LIST_REUSE_MS; 0: never), nothing was registered, filtered,
 * shut down or restarted in the session since (by any process), the
 * restart registrations are unchanged and every listed running process
 * still runs with its identity; otherwise it rescans.  So the loop costs
 * one scan, and its answer is what a rescan at the first call gave.  On success
 * *n_proc_info and *n_proc_info_needed are the count filled.
 * *reboot_reasons receives the OR of RM_REBOOT_REASON_* bits.
 * Returns RM_OK; RM_ERROR_MORE_DATA; RM_ERROR_INVALID_HANDLE;
 * RM_ERROR_BAD_ARGUMENTS (NULL n_proc_info_needed, n_proc_info or
 * reboot_reasons, or *n_proc_info > 0 with a NULL array);
 * RM_ERROR_ACCESS_DENIED (a registered path is a directory);
 * RM_ERROR_CANCELLED; RM_ERROR_SEM_TIMEOUT; RM_ERROR_WRITE_FAULT;
 * RM_ERROR_OUTOFMEMORY. */
RM_EXTERN uint32_t rm_get_list(uint32_t session_handle,
    unsigned *n_proc_info_needed, unsigned *n_proc_info,
    rm_process_info affected_apps[], uint32_t *reboot_reasons);

/* Shuts down the affected applications and services (primary only).
 * Re-lists first.  Any reboot reason: nothing is stopped,
 * RM_ERROR_FAIL_NOACTION_REBOOT.  With RM_SHUTDOWN_ONLY_REGISTERED and an
 * affected app that is not restartable: nothing is stopped,
 * RM_ERROR_FAIL_SHUTDOWN.  Apps under an RM_NO_SHUTDOWN filter keep
 * running (RM_STATUS_SHUTDOWN_MASKED).  Order: windowed apps, console
 * apps, services; apps of one kind are stopped concurrently.  An app still
 * running at its timeout is killed with RM_FORCE_SHUTDOWN, else left
 * running with RM_STATUS_ERROR_ON_STOP and the call returns
 * RM_ERROR_FAIL_SHUTDOWN.  A service counts as stopped once the processes
 * it had have exited, whatever its manager starts next (socket
 * activation, Restart=).  With RM_SHUTDOWN_SERVICES_IN_PLACE services are
 * restarted in place instead of stopped (see that flag).  What was
 * stopped is recorded even when the call fails or is cancelled, so
 * rm_restart can bring it back.  status may be NULL.
 * Returns RM_OK; RM_ERROR_FAIL_NOACTION_REBOOT; RM_ERROR_FAIL_SHUTDOWN;
 * RM_ERROR_CANCELLED; RM_ERROR_INVALID_HANDLE; RM_ERROR_BAD_ARGUMENTS
 * (unknown flag bits); RM_ERROR_SESSION_CREDENTIAL_CONFLICT (secondary);
 * RM_ERROR_REQUEST_OUT_OF_SEQUENCE (another shutdown or restart of this
 * session is running); RM_ERROR_ACCESS_DENIED (a registered directory);
 * RM_ERROR_SEM_TIMEOUT; RM_ERROR_WRITE_FAULT; RM_ERROR_OUTOFMEMORY. */
RM_EXTERN uint32_t rm_shutdown(uint32_t session_handle, uint32_t action_flags,
                               rm_status_callback status, void *context);

/* Restarts what this session's shutdowns stopped and can restart, in
 * reverse order (primary only), skipping RM_NO_RESTART targets
 * (RM_STATUS_RESTART_MASKED).  Apps are relaunched as their own user with
 * the executable checked by identity, and must stay up for a settle time
 * (docs/linux.md, Restart).  restart_flags must be 0.  status may be NULL.
 * Returns RM_OK; RM_ERROR_REQUEST_OUT_OF_SEQUENCE (no shutdown yet, or
 * another shutdown or restart running); RM_ERROR_FAIL_RESTART (one or more
 * failed; see app_status, and rm_get_list_alloc's restart outcome for
 * why); RM_ERROR_CANCELLED; RM_ERROR_INVALID_HANDLE;
 * RM_ERROR_BAD_ARGUMENTS; RM_ERROR_SESSION_CREDENTIAL_CONFLICT;
 * RM_ERROR_SEM_TIMEOUT; RM_ERROR_WRITE_FAULT; RM_ERROR_OUTOFMEMORY. */
RM_EXTERN uint32_t rm_restart(uint32_t session_handle, uint32_t restart_flags,
                              rm_status_callback status, void *context);

/* Asks the rm_shutdown, rm_restart or rm_get_list running on this session
 * in another thread (or from its progress callback) to stop as soon as it
 * can; it then returns RM_ERROR_CANCELLED.  With nothing running it does
 * nothing and leaves no pending cancel behind (primary only).
 * Returns RM_OK (cancel requested); RM_ERROR_INVALID_HANDLE;
 * RM_ERROR_SESSION_CREDENTIAL_CONFLICT (secondary). */
RM_EXTERN uint32_t rm_cancel_current_task(uint32_t session_handle);

/* Adds or replaces the filter for one target (primary only): exactly one
 * of module_name (full path of an executable), process and
 * service_short_name is non-NULL; action is RM_NO_RESTART or
 * RM_NO_SHUTDOWN.  The last call for a target wins.  Filters are kept in
 * the session store.
 * Returns RM_OK; RM_ERROR_BAD_ARGUMENTS (no or several selectors, empty or
 * invalid name, bad action); RM_ERROR_INVALID_HANDLE;
 * RM_ERROR_SESSION_CREDENTIAL_CONFLICT (secondary); RM_ERROR_SEM_TIMEOUT;
 * RM_ERROR_WRITE_FAULT; RM_ERROR_OUTOFMEMORY. */
RM_EXTERN uint32_t rm_add_filter(uint32_t session_handle,
    const char *module_name, const rm_unique_process *process,
    const char *service_short_name, rm_filter_action action);

/* Removes the filter of one target (primary only), selected as in
 * rm_add_filter.
 * Returns RM_OK; RM_ERROR_FILE_NOT_FOUND (no filter for that target);
 * RM_ERROR_BAD_ARGUMENTS; RM_ERROR_INVALID_HANDLE;
 * RM_ERROR_SESSION_CREDENTIAL_CONFLICT; RM_ERROR_SEM_TIMEOUT;
 * RM_ERROR_WRITE_FAULT. */
RM_EXTERN uint32_t rm_remove_filter(uint32_t session_handle,
    const char *module_name, const rm_unique_process *process,
    const char *service_short_name);

/* Copies the session's filters, in the order they were added, into one
 * self-contained buffer of rm_filter_info records chained by next_offset,
 * with the strings they point to inside the same buffer (primary only).
 * The buffer must be suitably aligned for rm_filter_info (malloc'd
 * memory is).  *filter_buf_needed receives the bytes needed (0 with no
 * filters).
 * Returns RM_OK; RM_ERROR_MORE_DATA (buffer too small, or
 * filter_buf_needed NULL); RM_ERROR_BAD_ARGUMENTS (filter_buf_size > 0
 * with a NULL buffer); RM_ERROR_INVALID_HANDLE;
 * RM_ERROR_SESSION_CREDENTIAL_CONFLICT; RM_ERROR_SEM_TIMEOUT;
 * RM_ERROR_WRITE_FAULT. */
RM_EXTERN uint32_t rm_get_filter_list(uint32_t session_handle,
    void *filter_buf, uint32_t filter_buf_size, uint32_t *filter_buf_needed);

/* The Win32 name of a code ("ERROR_MORE_DATA", "ERROR_SUCCESS" for 0), or
 * "ERROR_UNKNOWN" for a code this library never returns.  Static string. */
RM_EXTERN const char *rm_error_name(uint32_t code);

/* A sentence describing a code.  Static string. */
RM_EXTERN const char *rm_strerror(uint32_t code);

/* Fills *out with the identity of a running process.
 * Returns RM_OK; RM_ERROR_BAD_ARGUMENTS (NULL out);
 * RM_ERROR_FILE_NOT_FOUND (no such process); RM_ERROR_ACCESS_DENIED. */
RM_EXTERN uint32_t rm_get_process_identity(uint32_t pid,
                                           rm_unique_process *out);

/* {===== Extensions (not in the Win32 API) */

/* How a process uses a registered file: RM_USE_* bits. */
#define RM_USE_OPEN_FILE    0x1u  /* an open file descriptor or handle */
#define RM_USE_MAPPING      0x2u  /* a memory mapping (shared library, data) */
#define RM_USE_EXECUTABLE   0x4u  /* the process's executable image */
#define RM_USE_OLDER_INODE  0x8u  /* an older copy of the path: replaced by
                                     rename or deleted since it was opened */

/* One registered file that a process holds. */
typedef struct rm_file_use {
  const char *file;         /* the registered path, as registered */
  uint32_t how;             /* RM_USE_* bits */
} rm_file_use;

/* Why a restart failed: the failure field of rm_restart_outcome. */
#define RM_RESTART_FAILED_NONE          0u  /* not failed (or not tried) */
#define RM_RESTART_FAILED_NOT_CAPTURED  1u  /* how to start it could not be
                                               read before it was stopped */
#define RM_RESTART_FAILED_NO_EXECUTABLE 2u  /* its executable is gone (neither
                                               the file it ran nor a new file
                                               at that path), or is setuid,
                                               setgid or has file
                                               capabilities; error: errno */
#define RM_RESTART_FAILED_CREDENTIALS   3u  /* its user, group and
                                               supplementary groups could not
                                               be taken on, or the caller may
                                               not start programs as that
                                               user; error: errno or 0 */
#define RM_RESTART_FAILED_EXEC          4u  /* exec failed; error: errno */
#define RM_RESTART_FAILED_EXITED        5u  /* started but did not stay up
                                               for the settle time (200 ms,
                                               RESTARTMGR_RESTART_SETTLE_MS);
                                               error: its exit status, or
                                               -signal */
#define RM_RESTART_FAILED_LAUNCH        6u  /* the library could not start a
                                               process (fork, pipes); error:
                                               errno */
#define RM_RESTART_FAILED_SERVICE       7u  /* its service manager did not
                                               start the service */
#define RM_RESTART_FAILED_MASTER        8u  /* a worker whose master process
                                               did not restart */
#define RM_RESTART_FAILED_CONTEXT       9u  /* its context (resource limits,
                                               no_new_privs, capability
                                               bounding set, a session
                                               keyring of its own, ...) could
                                               not be restored, or was never
                                               captured; it is not started
                                               with less confinement than it
                                               had; error: errno */

/* What a restart did besides succeeding or failing: notes bits. */
#define RM_RESTART_NOTE_REGISTERED    0x01u  /* ran its registered restart
                                                command */
#define RM_RESTART_NOTE_UPGRADED      0x02u  /* its executable had been
                                                replaced: the new file ran */
#define RM_RESTART_NOTE_CWD_HOME      0x04u  /* its directory could not be
                                                entered as its user: started
                                                in the user's home */
#define RM_RESTART_NOTE_CWD_ROOT      0x08u  /* ... nor the home: in "/" */
#define RM_RESTART_NOTE_ENV_SANITIZED 0x10u  /* root relaunching root: the
                                                variables that make the
                                                loader or an interpreter
                                                load code (LD_*, PYTHON*,
                                                PERL*, ..., docs/security.md,
                                                "Relaunch environment")
                                                removed */
#define RM_RESTART_NOTE_DAEMONIZED    0x20u  /* it went to the background:
                                                the entry follows the process
                                                it left running */
#define RM_RESTART_NOTE_WORKER        0x40u  /* a worker, brought back by its
                                                master's restart */

/* The outcome of this session's last restart of one entry. */
typedef struct rm_restart_outcome {
  uint32_t failure;         /* RM_RESTART_FAILED_* */
  int32_t error;            /* errno, exit status, ... as the failure says */
  uint32_t notes;           /* RM_RESTART_NOTE_* bits */
} rm_restart_outcome;

/* What the list saw of a process beyond its type: traits bits. */
#define RM_TRAIT_TERMINAL_HOST 0x1u  /* holds the master side of a pty
                                        (tmux, screen, an sshd session, a
                                        terminal emulator): it hosts
                                        consoles, so it is a console app,
                                        never restartable */
#define RM_TRAIT_OWN_MOUNT_NS  0x2u  /* runs in a mount namespace of its own
                                        (a sandbox): a plain app there is
                                        not restartable, since a relaunch
                                        could not put it back in it */
#define RM_TRAIT_LEADER_EXITED 0x4u  /* its main thread has exited; seen
                                        through a live thread, stopped as
                                        a whole, never relaunched */
#define RM_TRAIT_SELF          0x8u  /* the caller, an ancestor of it, or
                                        the session leader or terminal
                                        host of its terminal (with
                                        RM_REBOOT_REASON_DETECTED_SELF) */

/* One entry of rm_get_list_alloc: the rm_get_list entry plus the files
 * and the restart outcome. */
typedef struct rm_app_info {
  rm_process_info info;
  unsigned n_files;         /* registered files this process holds */
  rm_file_use *files;       /* owned by the array; freed by rm_free_list */
  uint32_t reasons;         /* RM_REBOOT_REASON_* bits this entry causes
                               (why it is RM_APP_CRITICAL); 0 otherwise */
  rm_restart_outcome restart;  /* all 0 until rm_restart tried it */
  uint32_t traits;          /* RM_TRAIT_* bits: why a live entry is typed
                               or restartable as it is */
  uint32_t not_restartable; /* RM_NOT_RESTARTABLE_* bits: a confinement
                               that keeps a listed process from being
                               restartable (0: none found) */
} rm_app_info;

/* Why a listed process is not restartable, beyond the restart rules: its
 * confinement could not be reproduced by a relaunch (docs/linux.md,
 * "Relaunch context"). */
#define RM_NOT_RESTARTABLE_SECCOMP   0x01u  /* it runs under a seccomp
                                               filter or strict mode */
#define RM_NOT_RESTARTABLE_LSM_LABEL 0x02u  /* it runs confined by an LSM
                                               label (AppArmor, SELinux,
                                               ...) that is not
                                               "unconfined" */

/* rm_get_list without the two-call protocol, and with, for each entry,
 * which registered files it holds and how (like PowerToys' File
 * Locksmith), and the outcome of this session's last restart of it.
 * *apps is allocated by the library (NULL when *n_apps is 0) and released
 * with rm_free_list.  Returns the codes of rm_get_list except
 * RM_ERROR_MORE_DATA. */
RM_EXTERN uint32_t rm_get_list_alloc(uint32_t session_handle,
    rm_app_info **apps, unsigned *n_apps, uint32_t *reboot_reasons);

/* Every process that still maps or runs an executable file that has been
 * deleted or replaced since it was mapped (what a package upgrade leaves
 * behind), without a session: like rm_get_list_alloc, but each entry's
 * files are those deleted files, named by the text the kernel showed for
 * them (escaped for display: control bytes, '\\' and bytes that are not
 * UTF-8 as \\xHH) with how RM_USE_MAPPING or RM_USE_EXECUTABLE, plus
 * RM_USE_OLDER_INODE.  A file counts by the identity (device, inode) its
 * mapping has, never by its name (docs/linux.md, Stale processes).
 * Processes that could not be inspected are counted in *n_uninspected
 * (NULL: not wanted), not listed.  Linux only: elsewhere RM_OK with no
 * entries.  Returns RM_OK; RM_ERROR_BAD_ARGUMENTS (NULL apps, n_apps or
 * reboot_reasons); RM_ERROR_OUTOFMEMORY. */
RM_EXTERN uint32_t rm_get_stale_list(rm_app_info **apps, unsigned *n_apps,
                                     uint32_t *reboot_reasons,
                                     unsigned *n_uninspected);

/* Releases what rm_get_list_alloc returned.  NULL is a no-op. */
RM_EXTERN void rm_free_list(rm_app_info *apps, unsigned n_apps);

/* The short name of a RM_RESTART_FAILED_* code ("exec_failed"; "none" for
 * 0, "unknown" for a code this library never sets).  Static string. */
RM_EXTERN const char *rm_restart_failure_name(uint32_t failure);

/* Restart registration flags: RegisterApplicationRestart's values. */
#define RM_RESTART_NO_CRASH  0x1u   /* accepted and kept; no effect here */
#define RM_RESTART_NO_HANG   0x2u   /* accepted and kept; no effect here */
#define RM_RESTART_NO_PATCH  0x4u   /* not restarted after an installer's
                                       shutdown: listed not restartable */
#define RM_RESTART_NO_REBOOT 0x8u   /* accepted and kept; no effect here */

/* The Linux counterpart of RegisterApplicationRestart: the calling process
 * says how to start it again after an installer shut it down.  argv is
 * the command (NULL-terminated, argv[0] an absolute path of the program
 * to exec, every string valid UTF-8 of at most PATH_MAX bytes, 128 KiB in
 * all); it is run as the process's user, in the directory the process
 * has when it is stopped, with its environment.  A registration makes a
 * process restartable that otherwise is not (a daemon that rewrites its
 * command line) and replaces its command line in rm_restart.  It lives in
 * the user's session store keyed by the process identity and is ignored
 * and dropped once the process is gone.  A later call replaces it;
 * argv NULL removes it.  flags: RM_RESTART_* bits.  The arrays are copied.
 * Returns RM_OK; RM_ERROR_BAD_ARGUMENTS (empty argv, a relative argv[0],
 * a string not valid UTF-8 or too long, unknown flag bits; nothing is
 * stored); RM_ERROR_SEM_TIMEOUT; RM_ERROR_WRITE_FAULT;
 * RM_ERROR_OUTOFMEMORY. */
RM_EXTERN uint32_t rm_register_application_restart(const char *const argv[],
                                                   uint32_t flags);

/* rm_register_application_restart for another process (an installer that
 * knows how a daemon is started; NULL: the calling process), with a
 * working directory (absolute, NULL: the process's own at shutdown).  The
 * caller must be root or the process's user (its real, effective and
 * saved uid).
 * Returns the codes of rm_register_application_restart, and
 * RM_ERROR_BAD_ARGUMENTS (a cwd not absolute, not UTF-8 or too long);
 * RM_ERROR_FILE_NOT_FOUND (no such process);
 * RM_ERROR_ACCESS_DENIED (another user's process). */
RM_EXTERN uint32_t rm_register_process_restart(
    const rm_unique_process *process, const char *const argv[],
    const char *cwd, uint32_t flags);

/* A restart registration as rm_get_application_restart returns it. */
typedef struct rm_restart_registration {
  rm_unique_process process;
  char **argv;              /* NULL-terminated */
  char *cwd;                /* NULL: the process's own at shutdown */
  uint32_t flags;           /* RM_RESTART_* */
} rm_restart_registration;

/* The restart registration of a running process, from the caller's
 * session store (GetApplicationRestartSettings).  *out is allocated by
 * the library; free it with rm_free_application_restart.
 * Returns RM_OK; RM_ERROR_BAD_ARGUMENTS (NULL out);
 * RM_ERROR_FILE_NOT_FOUND (no such process, or nothing registered);
 * RM_ERROR_WRITE_FAULT (unreadable store); RM_ERROR_OUTOFMEMORY. */
RM_EXTERN uint32_t rm_get_application_restart(uint32_t pid,
    rm_restart_registration **out);

/* Releases what rm_get_application_restart returned.  NULL is a no-op. */
RM_EXTERN void rm_free_application_restart(rm_restart_registration *r);

/* Sets the shutdown timeouts of one session for later rm_shutdown calls,
 * in milliseconds; 0 restores the default (RESTARTMGR_APP_TIMEOUT_MS and
 * RESTARTMGR_SERVICE_TIMEOUT_MS, else 30000 and 20000).  Per process, not
 * stored.  Returns RM_OK; RM_ERROR_INVALID_HANDLE. */
RM_EXTERN uint32_t rm_set_timeouts(uint32_t session_handle,
                                   uint32_t app_timeout_ms,
                                   uint32_t service_timeout_ms);

/* One live session of the caller's store, for rm_list_sessions. */
typedef struct rm_session_info {
  char key[RM_SESSION_KEY_CHARS + 1];   /* lowercase hex, NUL-terminated */
  unsigned slot;                        /* store slot, 0..RM_MAX_SESSIONS-1 */
  rm_unique_process owner;              /* the primary's process (alive) */
  int shutdown_called;                  /* rm_shutdown ran at least once */
  unsigned n_files, n_processes, n_services;
  char **files;                         /* registered paths, as registered */
  rm_unique_process *processes;         /* registered processes */
  char **services;                      /* registered service names */
  unsigned n_filters;                   /* filters added by the primary */
  unsigned n_acted;                     /* entries its shutdowns acted on */
} rm_session_info;

/* Lists the live sessions of the caller's session store (the same user's
 * sessions, whichever process started them), in slot order: for
 * debugging installers made of several processes.  Sessions whose owner
 * died, and unreadable or corrupt slots, are left out.  The key of each
 * is included: anyone who may read the store may join them anyway.
 * *sessions is allocated by the library (NULL when *n_sessions is 0) and
 * released with rm_free_sessions.  Reads the library's own store also in
 * native mode (Windows cannot enumerate its sessions).
 * Returns RM_OK; RM_ERROR_BAD_ARGUMENTS (NULL sessions or n_sessions);
 * RM_ERROR_WRITE_FAULT (the store directory is unusable);
 * RM_ERROR_OUTOFMEMORY. */
RM_EXTERN uint32_t rm_list_sessions(rm_session_info **sessions,
                                    unsigned *n_sessions);

/* Releases what rm_list_sessions returned.  NULL is a no-op. */
RM_EXTERN void rm_free_sessions(rm_session_info *sessions,
                                unsigned n_sessions);

/* Which implementation serves this process: "linux" or "win32" (the
 * library's own), or "native" when RESTARTMGR_BACKEND=native forwards
 * every call to the system's Restart Manager (Windows' Rstrtmgr.dll;
 * decided at the first call, for the life of the process; ignored where
 * there is none).  Static string. */
RM_EXTERN const char *rm_backend(void);

/* The library version, "0.1.0".  Static string. */
RM_EXTERN const char *rm_version(void);

/* Candidates of the session store location that rm_store_path found
 * unusable and skipped (another user owns or can write the path, a
 * foreign symlink leads there, it cannot be created): RM_STORE_SKIPPED_*
 * bits.  Linux only; docs/sessions.md, Path checks has the rule. */
#define RM_STORE_SKIPPED_RUNTIME_DIR 0x01u  /* $XDG_RUNTIME_DIR/restartmgr
                                               (or that directory is not
                                               the caller's with mode 0700) */
#define RM_STORE_SKIPPED_RUN         0x02u  /* /run/restartmgr (root) */
#define RM_STORE_SKIPPED_STATE_HOME  0x04u  /* $XDG_STATE_HOME/restartmgr */
#define RM_STORE_SKIPPED_HOME        0x08u  /* HOME/.local/state/restartmgr,
                                               HOME from the password
                                               database */
#define RM_STORE_SKIPPED_TMP         0x10u  /* /tmp/restartmgr-UID */

/* The directory of this process's session store, as rm_start_session
 * finds it now (creating it when missing), copied NUL-terminated into
 * path[path_cap].  skipped (may be NULL) receives the RM_STORE_SKIPPED_*
 * bits of the candidates passed over on the way, also on failure, so a
 * squatted location can be reported.  With RESTARTMGR_BACKEND=native it
 * still names the library's own store, which that mode does not use.
 * Returns RM_OK; RM_ERROR_BAD_ARGUMENTS (NULL path or path_cap 0);
 * RM_ERROR_MORE_DATA (path_cap too small); RM_ERROR_WRITE_FAULT (no
 * candidate is usable, or an explicit RESTARTMGR_STATE_DIR fails the
 * checks). */
RM_EXTERN uint32_t rm_store_path(char *path, size_t path_cap,
                                 uint32_t *skipped);

/* }===== */

/* {===== What else an upgrade leaves behind: replaced scripts, a newer
 * kernel (docs/linux.md, Replaced scripts and The kernel) */

/* Why a script counts as replaced: rm_stale_script.why bits. */
#define RM_SCRIPT_CHANGED 0x1u  /* the file at the script's path changed
                                   after the process started (replaced by
                                   rename, or written in place) */
#define RM_SCRIPT_DELETED 0x2u  /* the script is gone; the interpreter
                                   still holds it open, deleted */

/* An interpreter process running a script that was replaced or changed
 * after it started. */
typedef struct rm_stale_script {
  rm_unique_process process;
  const char *interpreter;  /* its family: "perl", "python", "ruby",
                               "node", "lua" or "shell" (static) */
  char *path;               /* the script, absolute, as the process's own
                               view resolved it; bytes from the process's
                               command line and links, to be escaped when
                               shown (owned by the array) */
  uint32_t why;             /* RM_SCRIPT_* */
} rm_stale_script;

/* Every interpreter process (perl, python, ruby, node, lua, sh and its
 * kin, recognised by the name of the executable file it runs) whose
 * script, the first argument after the interpreter's options, was
 * replaced or changed after the process started.  The path is looked up
 * in the process's own view, trusting only directories, links and files
 * that root or the process's own user controls; nothing is ever run or
 * read.  Processes the caller cannot inspect are left out.  *scripts is
 * allocated (NULL when *n_scripts is 0), sorted by pid, and released with
 * rm_free_stale_scripts.  Linux only: elsewhere RM_OK with no entries.
 * Returns RM_OK; RM_ERROR_BAD_ARGUMENTS (NULL pointer);
 * RM_ERROR_ACCESS_DENIED (/proc unreadable); RM_ERROR_OUTOFMEMORY. */
RM_EXTERN uint32_t rm_get_stale_scripts(rm_stale_script **scripts,
                                        unsigned *n_scripts);

/* Releases what rm_get_stale_scripts returned.  NULL is a no-op. */
RM_EXTERN void rm_free_stale_scripts(rm_stale_script *scripts,
                                     unsigned n_scripts);

#define RM_MAX_KERNEL_RELEASE 64   /* bytes of a kernel release name */

/* The running kernel and the newest one installed. */
typedef struct rm_kernel_info {
  char running[RM_MAX_KERNEL_RELEASE + 1];  /* its release (uname -r) */
  char newest[RM_MAX_KERNEL_RELEASE + 1];   /* the newest installed of the
                                               running one's flavour (else
                                               of any); "" when none is */
  int reboot_required;      /* 1 when newest is later than running in
                               Debian's version order: the upgrade is
                               finished only by a reboot */
} rm_kernel_info;

/* Compares the running kernel with the kernels installed under root
 * (NULL: "/"): boot/vmlinuz-RELEASE, boot/vmlinux-RELEASE and
 * lib/modules/RELEASE/modules.dep.  A root other than "/" is for tests
 * (a tree of kernel files the machine does not have).  Linux only:
 * elsewhere RM_OK with every field empty.  Returns RM_OK;
 * RM_ERROR_BAD_ARGUMENTS (NULL out, a root that is not absolute);
 * RM_ERROR_FILE_NOT_FOUND (root is not a directory). */
RM_EXTERN uint32_t rm_get_kernel_info(const char *root, rm_kernel_info *out);

/* Debian's version order (deb-version(7)), as dpkg --compare-versions:
 * <0, 0 or >0 as a sorts before, as or after b.  NULL sorts first. */
RM_EXTERN int rm_compare_versions(const char *a, const char *b);

/* }===== */
/* {===== Who uses a directory (extension): docs/transaction.md */

/* Registers every regular file under the directories dirs[0..n_dirs)
 * (absolute; walked now, without following links, at most 64 levels and
 * 1,000,000 files), so that rm_get_list reports the processes that use
 * anything under them: an extension (a directory given to
 * rm_register_resources stays ACCESS_DENIED, Windows' rule).  Files that
 * appear later are not registered; a file deleted before the walk is not
 * found.  *n_files (may be NULL) receives how many files were registered.
 * Returns RM_OK; RM_ERROR_BAD_ARGUMENTS (NULL array or element, a path
 * not absolute UTF-8, not a directory); RM_ERROR_FILE_NOT_FOUND (missing
 * directory); RM_ERROR_ACCESS_DENIED (cannot be inspected); the codes of
 * rm_register_resources. */
RM_EXTERN uint32_t rm_register_trees(uint32_t session_handle, unsigned n_dirs,
                                     const char *const dirs[],
                                     unsigned *n_files);

/* }===== */

/* {===== The upgrade transaction (extension): docs/transaction.md
 *
 * Stage new files beside their targets, then commit: register the
 * targets, list who uses them, shut those down, swap every target with
 * its staged file keeping the old one as a backup, restart what was
 * stopped, drop the backups.  Any failure after the first swap puts
 * every old file back and restarts what was stopped.  A journal in the
 * session store lets rm_tx_recover finish or undo a transaction whose
 * installer died at any point. */

/* Commit's result when the new files are in place but something still
 * uses an old one until the next boot (a holder that was not stopped, a
 * rename scheduled for the reboot on Windows): ERROR_SUCCESS_REBOOT_REQUIRED. */
#define RM_ERROR_SUCCESS_REBOOT_REQUIRED 3010u

/* A transaction (opaque).  Not thread-safe: one thread uses it. */
typedef struct rm_tx rm_tx;

/* rm_tx_begin flags. */
#define RM_TX_DRY_RUN 0x1u        /* staging checks and plans but writes
                                     nothing; commit lists who would be
                                     stopped and stops nothing */

/* Staging flags. */
#define RM_TX_METADATA_FROM_SOURCE 0x1u  /* owner, group, mode and extended
                                            attributes (ACLs, file
                                            capabilities) from the source
                                            instead of the target */
#define RM_TX_REMOVE_MISSING       0x2u  /* rm_tx_tree: also remove what
                                            the source tree lacks */

/* rm_tx_commit flags: RM_FORCE_SHUTDOWN, RM_SHUTDOWN_ONLY_REGISTERED,
 * and: */
#define RM_TX_ALLOW_REBOOT 0x100u /* holders that cannot be stopped
                                     (critical, masked) do not stop the
                                     commit: files are replaced, they keep
                                     the old ones, and the result is
                                     RM_ERROR_SUCCESS_REBOOT_REQUIRED */

/* Starts a transaction on a session (primary handle only).  *out is
 * owned by the caller and released with rm_tx_end.
 * Returns RM_OK; RM_ERROR_BAD_ARGUMENTS (NULL out, unknown flags);
 * RM_ERROR_INVALID_HANDLE; RM_ERROR_SESSION_CREDENTIAL_CONFLICT
 * (secondary); RM_ERROR_REQUEST_OUT_OF_SEQUENCE (the session already
 * has an open transaction); RM_ERROR_MAX_SESSIONS_REACHED (64
 * transactions with journals in the store); RM_ERROR_SEM_TIMEOUT;
 * RM_ERROR_WRITE_FAULT (journal not written); RM_ERROR_OUTOFMEMORY. */
RM_EXTERN uint32_t rm_tx_begin(uint32_t session_handle, uint32_t flags,
                               rm_tx **out);

/* Stages target (absolute; an existing file or link) to be replaced by a
 * copy of source (absolute; a file, or a link staged as a link), written
 * now beside the target under a fresh name, fsynced, with the target's
 * owner, group, mode and extended attributes (RM_TX_METADATA_FROM_SOURCE:
 * the source's).  Stops nothing.  On failure nothing of this call
 * remains, and rm_tx_message names the culprit.
 * Returns RM_OK; RM_ERROR_BAD_ARGUMENTS (NULL tx, bad path, unknown
 * flags, a target staged twice); RM_ERROR_FILE_NOT_FOUND (target or
 * source missing); RM_ERROR_ACCESS_DENIED (EACCES, EPERM, EROFS; a
 * directory in the way; a FIFO, device or unsafe directory: writable by
 * other users); RM_ERROR_WRITE_FAULT (ENOSPC, EIO; the journal);
 * RM_ERROR_REQUEST_OUT_OF_SEQUENCE (committed or ended transaction; the
 * target belongs to another unfinished transaction: run rm_tx_recover,
 * `restartmgr recover`); RM_ERROR_SEM_TIMEOUT; RM_ERROR_OUTOFMEMORY. */
RM_EXTERN uint32_t rm_tx_replace(rm_tx *tx, const char *target,
                                 const char *source, uint32_t flags);

/* rm_tx_replace from len bytes at data.  The same codes. */
RM_EXTERN uint32_t rm_tx_replace_data(rm_tx *tx, const char *target,
                                      const void *data, size_t len,
                                      uint32_t flags);

/* Stages a new file (or link, or whole directory) target, which must not
 * exist, as a copy of source: the source's mode and extended attributes,
 * the caller as owner (RM_TX_METADATA_FROM_SOURCE: the source's owner
 * too).  The codes of rm_tx_replace; RM_ERROR_ACCESS_DENIED also when
 * target exists. */
RM_EXTERN uint32_t rm_tx_add(rm_tx *tx, const char *target,
                             const char *source, uint32_t flags);

/* Stages the removal of target (a file, link or directory with its
 * content).  Nothing is written until commit.  The codes of
 * rm_tx_replace. */
RM_EXTERN uint32_t rm_tx_remove(rm_tx *tx, const char *target);

/* Stages the directory dest to become the tree src: files and links that
 * differ are replaced, those only in src added (new directories whole),
 * and with RM_TX_REMOVE_MISSING those only in dest removed.  Links are
 * kept as links; a file where the other tree has a directory (or the
 * reverse) is RM_ERROR_ACCESS_DENIED.  *staged (may be NULL) receives
 * how many entries it staged.  The codes of rm_tx_replace. */
RM_EXTERN uint32_t rm_tx_tree(rm_tx *tx, const char *dest, const char *src,
                              uint32_t flags, unsigned *staged);

/* What happened to one staged entry: rm_tx_file.outcome. */
#define RM_TX_FILE_STAGED   0u    /* not committed (dry run, or failure
                                     before the swap): old file in place */
#define RM_TX_FILE_NEW      1u    /* the new file is in place */
#define RM_TX_FILE_OLD      2u    /* swapped, then rolled back */
#define RM_TX_FILE_AT_REBOOT 3u   /* replaced at the next boot (Windows) */

/* rm_tx_file.action */
#define RM_TX_ACTION_REPLACE 1u
#define RM_TX_ACTION_ADD     2u
#define RM_TX_ACTION_REMOVE  3u

/* One entry of a commit's report. */
typedef struct rm_tx_file {
  char *target;             /* owned by the report */
  uint32_t action;          /* RM_TX_ACTION_* */
  uint32_t outcome;         /* RM_TX_FILE_* */
  int32_t error;            /* OS error of this entry's failure, or 0 */
} rm_tx_file;

/* A commit's report: allocated by the library, released with
 * rm_tx_free_report. */
typedef struct rm_tx_report {
  uint32_t result;          /* what rm_tx_commit returned */
  int committed;            /* 1: the new files are in place */
  int rolled_back;          /* 1: swapped files were put back */
  unsigned n_files;
  rm_tx_file *files;
  unsigned n_apps;
  rm_app_info *apps;        /* the session's list after the commit: what
                               was stopped, restarted (restart outcome),
                               and holders still running old files */
  uint32_t reboot_reasons;  /* of the holders that were not stopped */
  char *message;            /* what happened, naming the culprit */
} rm_tx_report;

/* Commits (see above).  flags: RM_FORCE_SHUTDOWN,
 * RM_SHUTDOWN_ONLY_REGISTERED, RM_TX_ALLOW_REBOOT.  timeout_ms: the
 * shutdown timeout for apps and services (0: the session's).  status
 * (may be NULL) gets 0..100 across shutdown and restart;
 * rm_cancel_current_task on the session before the backups are dropped
 * rolls everything back.  *report (may be NULL) receives the report,
 * also on failure.  An app that fails to restart after a successful
 * swap keeps the new files: RM_ERROR_FAIL_RESTART with committed = 1
 * (docs/transaction.md, "When an app does not restart").
 * Returns RM_OK; RM_ERROR_SUCCESS_REBOOT_REQUIRED; RM_ERROR_FAIL_RESTART;
 * RM_ERROR_FAIL_NOACTION_REBOOT, RM_ERROR_FAIL_SHUTDOWN and
 * RM_ERROR_CANCELLED (nothing replaced; what was stopped is restarted);
 * RM_ERROR_ACCESS_DENIED (a swap failed: everything rolled back);
 * RM_ERROR_BAD_ARGUMENTS; RM_ERROR_REQUEST_OUT_OF_SEQUENCE (committed
 * or ended); RM_ERROR_INVALID_HANDLE; RM_ERROR_SEM_TIMEOUT;
 * RM_ERROR_WRITE_FAULT (journal or store); RM_ERROR_OUTOFMEMORY. */
RM_EXTERN uint32_t rm_tx_commit(rm_tx *tx, uint32_t flags,
                                uint32_t timeout_ms,
                                rm_status_callback status, void *context,
                                rm_tx_report **report);

/* Drops everything staged (before commit).  Idempotent.
 * Returns RM_OK; RM_ERROR_BAD_ARGUMENTS (NULL);
 * RM_ERROR_REQUEST_OUT_OF_SEQUENCE (already committed);
 * RM_ERROR_WRITE_FAULT (a staged file or the journal could not be
 * removed; rm_tx_recover will). */
RM_EXTERN uint32_t rm_tx_rollback(rm_tx *tx);

/* Ends a transaction: rolls back an uncommitted one, frees tx.  NULL is
 * a no-op.  Returns rm_tx_rollback's code, or RM_OK. */
RM_EXTERN uint32_t rm_tx_end(rm_tx *tx);

/* The last failure of tx as a sentence naming the culprit ("" when
 * none).  Valid until the next call on tx. */
RM_EXTERN const char *rm_tx_message(const rm_tx *tx);

/* Releases a report.  NULL is a no-op. */
RM_EXTERN void rm_tx_free_report(rm_tx_report *report);

/* What rm_tx_recover did to one abandoned transaction. */
#define RM_TX_RECOVERED_ROLLED_BACK 1u   /* the old files are in place */
#define RM_TX_RECOVERED_COMPLETED   2u   /* the new files are in place */

typedef struct rm_tx_recovered {
  char key[RM_SESSION_KEY_CHARS + 1];   /* its session */
  rm_unique_process owner;              /* the installer that died */
  uint32_t decision;                    /* RM_TX_RECOVERED_* */
  unsigned n_files;                     /* entries it had staged */
  unsigned n_removed;                   /* staged and backup files removed */
  unsigned n_restarted;                 /* apps and services started */
  unsigned n_restart_failed;
  unsigned n_reboot_cleared;            /* pending renames dropped
                                           (Windows) */
  char *message;                        /* a sentence */
} rm_tx_recovered;

/* Finishes or undoes every transaction of the caller's store whose
 * installer died: before the last swap, every old file is put back;
 * after it, the new ones stay.  Then starts every app and service the
 * installer stopped (not those running again), removes staged and backup
 * files and the journal.  Live installers' transactions are left alone.
 * *out (NULL when *n is 0) is released with rm_tx_free_recovered.
 * Returns RM_OK; RM_ERROR_FAIL_RESTART (done, but an app did not
 * start); RM_ERROR_ACCESS_DENIED (a file could not be put back: the
 * journal is kept for another try); RM_ERROR_BAD_ARGUMENTS (NULL
 * pointer); RM_ERROR_SEM_TIMEOUT; RM_ERROR_WRITE_FAULT;
 * RM_ERROR_OUTOFMEMORY. */
RM_EXTERN uint32_t rm_tx_recover(rm_tx_recovered **out, unsigned *n);

/* Releases what rm_tx_recover returned.  NULL is a no-op. */
RM_EXTERN void rm_tx_free_recovered(rm_tx_recovered *v, unsigned n);

/* }===== */

#ifdef __cplusplus
}
#endif

#endif /* RESTARTMGR_H */
