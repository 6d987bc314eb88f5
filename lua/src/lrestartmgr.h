/* SPDX-License-Identifier: MIT */
/*
 * lrestartmgr.h: what the files of the Lua binding share.
 *
 * Calls run one way, hub -> method files -> helper files (as in luv):
 *
 * lrestartmgr.c  the hub: module table, session object (create, close,
 *                fields), rm.options from the method files' key lists
 * lsession.c     s:register, s:list                      (method file)
 * lcontrol.c     s:shutdown, s:restart, s:cancel, the filter methods
 * lshow.c        app and filter entries that print readably, rm.sessions
 * lleftovers.c   rm.stale_scripts, rm.kernel, rm.compare_versions (the
 *                hub installs them)
 * lrestart.c     restart registrations, outcomes, failures (helpers for
 *                lsession.c and lcontrol.c; rm.register_restart and
 *                rm.restart_registration, which the hub installs)
 * lopts.c        option tables: key checks, typed fields, identities
 * lcheck.c       messages that name the culprit (which element, why)
 * lhelpers.c     results and session checks, flag names, the set pusher
 *
 * A file calls only files below it in this list (lopts.c and lcheck.c
 * use lhelpers.c, lrestart.c uses those three); method files never call
 * each other and nothing calls the hub.
 *
 * Conventions (docs/lua.md, Results and errors): a failure the core reports
 * returns fail, "what: why", "ERROR_NAME"; misuse raises.  Option tables
 * are read whole before anything is allocated or any core function runs,
 * so a raise never leaves C memory or a half-done core call behind.
 * Scratch memory is Lua's (userdata), so raising is always safe.
 */
#ifndef LRESTARTMGR_H
#define LRESTARTMGR_H

#include <stddef.h>
#include <stdint.h>

#include "lua.h"
#include "lauxlib.h"

#include "restartmgr.h"

/* The metatable names: they show in type errors and in tostring. */
#define RM_LUA_SESSION "restartmgr.session"
#define RM_LUA_APP "restartmgr.app"          /* entries of s:list() */
#define RM_LUA_FILTER "restartmgr.filter"    /* entries of s:filters() */

/* The session object, a full userdata.  It is created closed and opened
 * only once the core returned a handle (liolib's newprefile), so a failed
 * start or a memory error leaves a harmless closed object. */
typedef struct rm__lua_session {
  int open;                          /* 0: closed, handle meaningless */
  int busy;                          /* a shutdown or restart is running,
                                        so its progress callback may be */
  int primary;                       /* started here, not joined */
  uint32_t handle;
  char key[RM_SESSION_KEY_CHARS + 1];
} rm__lua_session;

/* {===== lsession.c */

int rm__lua_register(lua_State *L);
int rm__lua_list(lua_State *L);
/* rm.stale() -> apps, reboot, uninspected | fail, msg, code */
int rm__lua_stale(lua_State *L);

/* The option keys of s:register (NULL-terminated), for it and rm.options. */
extern const char *const rm__lua_register_keys[];

/* }=====
 * {===== lcontrol.c */

int rm__lua_shutdown(lua_State *L);
int rm__lua_restart(lua_State *L);
int rm__lua_cancel(lua_State *L);
int rm__lua_add_filter(lua_State *L);
int rm__lua_remove_filter(lua_State *L);
int rm__lua_filters(lua_State *L);

/* The option keys of shutdown, restart, add_filter and remove_filter
 * (NULL-terminated), for the methods and rm.options. */
extern const char *const rm__lua_shutdown_keys[];
extern const char *const rm__lua_restart_keys[];
extern const char *const rm__lua_add_filter_keys[];
extern const char *const rm__lua_remove_filter_keys[];

/* }=====
 * {===== lshow.c */

/* Creates the metatables of app and filter entries (at luaopen). */
void rm__lua_show_init(lua_State *L);
/* rm.sessions() -> { { key =, slot =, owner =, ... }, ... } | fail, ... */
int rm__lua_sessions(lua_State *L);
/* }=====
 * {===== lleftovers.c */

/* Sets stale_scripts, kernel and compare_versions in the table on top. */
void rm__lua_leftover_functions(lua_State *L);

/* }=====
 * {===== lrestart.c */

/* Reads the array of strings at idx (a command) into a NULL-terminated
 * array in a new scratch userdata pushed on the stack; raises on misuse
 * naming where.  Returns 1 when a string has an embedded zero. */
int rm__lua_read_command(lua_State *L, int arg, int idx, const char *where,
                         const char ***argv);

/* Pushes { failure =, error =, notes = { name = true } } for an outcome. */
void rm__lua_push_outcome(lua_State *L, const rm_restart_outcome *o);

/* After rm_restart returned rc (a failure): pushes fail, "restart: why:
 * app (pid N) reason; ...", "ERROR_NAME", failures and returns 4. */
int rm__lua_restart_failed(lua_State *L, uint32_t handle, uint32_t rc);

/* Sets register_restart and restart_registration in the table on top. */
void rm__lua_restart_functions(lua_State *L);

/* }=====
 * {===== lopts.c
 *
 * arg is always the stack index of the options argument: luaL_argerror
 * names it ("bad argument #1 to 'shutdown' (invalid option 'forced')",
 * counting the way the caller sees a method call). */

/* Raises unless the value at idx is a table whose keys are all strings in
 * the NULL-terminated list allowed.  where names a nested table in the
 * message ("processes[2]"), NULL for the options table itself. */
void rm__lua_check_keys(lua_State *L, int arg, int idx,
                        const char *const allowed[], const char *where);

/* Field readers of the options table at arg.  An absent (nil) field
 * leaves *out unchanged and returns 0; a field of the wrong type raises
 * "boolean expected for field 'force', got number"; else 1. */
int rm__lua_opt_boolean(lua_State *L, int arg, const char *field, int *out);
int rm__lua_opt_string(lua_State *L, int arg, const char *field,
                       const char **out, size_t *len);
int rm__lua_opt_number(lua_State *L, int arg, const char *field,
                       lua_Number *out);

/* Pushes field if it is callable (a function, or has __call) and returns
 * 1; absent: pushes nothing and returns 0; anything else raises. */
int rm__lua_opt_callable(lua_State *L, int arg, const char *field);

/* Pushes the array in field and returns its length, raising unless it is
 * a proper sequence (keys exactly 1..n); absent: pushes nothing and
 * returns -1. */
lua_Integer rm__lua_opt_array(lua_State *L, int arg, const char *field);

/* Reads a process given as a pid or { pid =, start_time = } at stack index
 * idx; where names it in errors ("processes[2]", "field 'process'").
 * Raises on misuse.  For a bare pid only out->pid is filled and 1 is
 * returned: the caller asks the core for the start time
 * (rm__lua_lookup_process) once every argument is validated; else 0. */
int rm__lua_to_process(lua_State *L, int arg, int idx, const char *where,
                       rm_unique_process *out);
/* Same, allowing the further keys in extra (NULL-terminated) in a table. */
int rm__lua_to_process_ex(lua_State *L, int arg, int idx, const char *where,
                          rm_unique_process *out, const char *const extra[]);

/* Fills in the start time of a bare pid through the core.  On failure
 * pushes fail, "what: pid N is not running" (or "... cannot be inspected:
 * <sentence>"), "ERROR_NAME" and returns 3, else returns 0.  what names
 * the call and the element ("register: processes[2]"). */
int rm__lua_lookup_process(lua_State *L, rm_unique_process *p,
                           const char *what);

/* Pushes { pid =, start_time = }. */
void rm__lua_push_process(lua_State *L, const rm_unique_process *p);

/* }=====
 * {===== lcheck.c
 *
 * Each checks one element by the core's rules before the core sees it.
 * On a culprit pushes fail, "what: where \"QUOTED\": why", "ERROR_NAME"
 * and returns 3; else returns 0.  where names the element ("files[3]",
 * "file"). */

/* A path: non-empty, no zero byte, at most 4096 bytes, valid UTF-8,
 * absolute; with reject_dir, not an existing directory (ACCESS_DENIED). */
int rm__lua_check_path(lua_State *L, const char *what, const char *where,
                       const char *s, size_t len, int reject_dir);
/* A service short name: 1..63 bytes, valid UTF-8, no '/', '\\' or control
 * characters, not "." or "..". */
int rm__lua_check_service(lua_State *L, const char *what, const char *where,
                          const char *s, size_t len);

/* }=====
 * {===== lhelpers.c */


/* The session at index i, open and not busy, or raise ("attempt to use a
 * closed session", or re-entry from its own progress callback). */
rm__lua_session *rm__lua_check(lua_State *L, int i);
/* Same, but a running shutdown or restart is allowed (for s:cancel). */
rm__lua_session *rm__lua_check_open(lua_State *L, int i);

/* Pushes fail, "what: <sentence>", "ERROR_NAME" and returns 3. */
int rm__lua_fail(lua_State *L, uint32_t rc, const char *what);
/* Pushes true and returns 1 for RM_OK, else as rm__lua_fail. */
int rm__lua_result(lua_State *L, uint32_t rc, const char *what);

/* A bit of a flag word and its name in a set-table { name = true }. */
typedef struct rm__lua_bit_name {
  uint32_t bit;
  const char *name;
} rm__lua_bit_name;

/* The names of app_status and of the reboot reasons, in
 * the API's order, each ending with {0, NULL}. */
extern const rm__lua_bit_name rm__lua_status_names[];
extern const rm__lua_bit_name rm__lua_reboot_names[];

/* Pushes { name = true, ... } for the bits set in bits. */
void rm__lua_push_set(lua_State *L, uint32_t bits,
                      const rm__lua_bit_name *names);

/* }=====
 * {===== lcontrol.c: progress callbacks, shared with ltx.c */

/* The context of one call that reports progress. */
typedef struct rm__lua_progress {
  lua_State *L;           /* the caller's state, for this call only */
  int fn;                 /* stack index of the callable, 0: none */
  int err;                /* stack index of the slot for a raised error */
  uint32_t handle;
  int raised;             /* the callback raised: object in slot err */
  int stopped;            /* the callback returned false */
} rm__lua_progress;

/* Reads the progress field of the options at arg and pushes the callable
 * and an error slot; the core's callback is rm__lua_progress_thunk with
 * the context c; after the core returned, rm__lua_progress_finish
 * re-raises a callback's error or reports rc. */
void rm__lua_progress_setup(lua_State *L, int arg, rm__lua_session *s,
                            rm__lua_progress *c);
void rm__lua_progress_thunk(unsigned percent, void *context);
int rm__lua_progress_finish(lua_State *L, rm__lua_progress *c, uint32_t rc,
                            const char *what);

/* The timeout option (seconds) in ms; raises unless positive and below
 * about 49 days. */
uint32_t rm__lua_timeout_ms(lua_State *L, int arg, lua_Number seconds);

/* }=====
 * {===== ltx.c: transactions */

#define RM_LUA_TX "restartmgr.transaction"

/* s:transaction{ dry_run = } and rm.recover(); rm__lua_tx_init creates
 * the metatable (at luaopen). */
int rm__lua_transaction(lua_State *L);
int rm__lua_recover(lua_State *L);
void rm__lua_tx_init(lua_State *L);

/* The option keys of transaction, tree and commit (NULL-terminated). */
extern const char *const rm__lua_transaction_keys[];
extern const char *const rm__lua_stage_keys[];
extern const char *const rm__lua_tree_keys[];
extern const char *const rm__lua_commit_keys[];

/* Pushes one app entry as s:list() shows it (lsession.c). */
void rm__lua_push_app(lua_State *L, const rm_app_info *a);

/* }===== */

#endif /* LRESTARTMGR_H */
