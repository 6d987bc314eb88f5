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
 * callers loop, because the set can grow between calls.  On success
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
 * RM_ERROR_FAIL_SHUTDOWN.  What was stopped is recorded even when the call
 * fails or is cancelled, so rm_restart can bring it back.  status may be
 * NULL.
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
 * (RM_STATUS_RESTART_MASKED).  restart_flags must be 0.  status may be
 * NULL.
 * Returns RM_OK; RM_ERROR_REQUEST_OUT_OF_SEQUENCE (no shutdown yet, or
 * another shutdown or restart running); RM_ERROR_FAIL_RESTART (one or more
 * failed; see app_status); RM_ERROR_CANCELLED; RM_ERROR_INVALID_HANDLE;
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

/* One entry of rm_get_list_alloc: the rm_get_list entry plus the files. */
typedef struct rm_app_info {
  rm_process_info info;
  unsigned n_files;         /* registered files this process holds */
  rm_file_use *files;       /* owned by the array; freed by rm_free_list */
} rm_app_info;

/* rm_get_list without the two-call protocol, and with, for each entry,
 * which registered files it holds and how (like PowerToys' File
 * Locksmith).  *apps is allocated by the library (NULL when *n_apps is 0)
 * and released with rm_free_list.  Returns the codes of rm_get_list except
 * RM_ERROR_MORE_DATA. */
RM_EXTERN uint32_t rm_get_list_alloc(uint32_t session_handle,
    rm_app_info **apps, unsigned *n_apps, uint32_t *reboot_reasons);

/* Releases what rm_get_list_alloc returned.  NULL is a no-op. */
RM_EXTERN void rm_free_list(rm_app_info *apps, unsigned n_apps);

/* Sets the shutdown timeouts of one session for later rm_shutdown calls,
 * in milliseconds; 0 restores the default (RESTARTMGR_APP_TIMEOUT_MS and
 * RESTARTMGR_SERVICE_TIMEOUT_MS, else 30000 and 20000).  Per process, not
 * stored.  Returns RM_OK; RM_ERROR_INVALID_HANDLE. */
RM_EXTERN uint32_t rm_set_timeouts(uint32_t session_handle,
                                   uint32_t app_timeout_ms,
                                   uint32_t service_timeout_ms);

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
 * bits.  Linux only; the README's store section has the rule. */
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

#ifdef __cplusplus
}
#endif

#endif /* RESTARTMGR_H */
