/* SPDX-License-Identifier: MIT */
/*
 * lhelpers.c: what every file of the binding uses, below all of them.
 *
 * Results (fail, "what: why", "ERROR_NAME"), the session checks, the
 * names of app_status and reboot-reason bits and the set pusher that
 * turns a flag word into { name = true }.  This file calls nothing else
 * in the binding: the hub (lrestartmgr.c) calls the method files, they
 * call the helper files (lrestart.c, lopts.c, lcheck.c) and this one.
 */
#include "lrestartmgr.h"

/* {===== Results and checks */

int rm__lua_fail(lua_State *L, uint32_t rc, const char *what) {
  luaL_pushfail(L);
  lua_pushfstring(L, "%s: %s", what, rm_strerror(rc));
  lua_pushstring(L, rm_error_name(rc));
  return 3;
}

int rm__lua_result(lua_State *L, uint32_t rc, const char *what) {
  if (rc != RM_OK) return rm__lua_fail(L, rc, what);
  lua_pushboolean(L, 1);
  return 1;
}

rm__lua_session *rm__lua_check_open(lua_State *L, int i) {
  rm__lua_session *s = luaL_checkudata(L, i, RM_LUA_SESSION);
  if (!s->open) luaL_error(L, "attempt to use a closed session");
  return s;
}

/* The busy flag catches a progress callback that reaches its own session
 * through an upvalue: the core is in the middle of a call on that handle,
 * and a nested call would deadlock or interleave. */
rm__lua_session *rm__lua_check(lua_State *L, int i) {
  rm__lua_session *s = rm__lua_check_open(L, i);
  if (s->busy)
    luaL_error(L, "attempt to re-enter a session from its own progress "
                  "callback (only s:cancel() is allowed there)");
  return s;
}

/* }=====
 * {===== Flag words as sets */

const rm__lua_bit_name rm__lua_status_names[] = {
  {RM_STATUS_RUNNING, "running"},
  {RM_STATUS_STOPPED, "stopped"},
  {RM_STATUS_STOPPED_OTHER, "stopped_other"},
  {RM_STATUS_RESTARTED, "restarted"},
  {RM_STATUS_ERROR_ON_STOP, "error_on_stop"},
  {RM_STATUS_ERROR_ON_RESTART, "error_on_restart"},
  {RM_STATUS_SHUTDOWN_MASKED, "shutdown_masked"},
  {RM_STATUS_RESTART_MASKED, "restart_masked"},
  {0, NULL}
};

const rm__lua_bit_name rm__lua_reboot_names[] = {
  {RM_REBOOT_REASON_PERMISSION_DENIED, "permission_denied"},
  {RM_REBOOT_REASON_SESSION_MISMATCH, "session_mismatch"},
  {RM_REBOOT_REASON_CRITICAL_PROCESS, "critical_process"},
  {RM_REBOOT_REASON_CRITICAL_SERVICE, "critical_service"},
  {RM_REBOOT_REASON_DETECTED_SELF, "detected_self"},
  {0, NULL}
};

void rm__lua_push_set(lua_State *L, uint32_t bits,
                      const rm__lua_bit_name *names) {
  lua_newtable(L);
  for (; names->name; names++)
    if (bits & names->bit) {
      lua_pushboolean(L, 1);
      lua_setfield(L, -2, names->name);
    }
}

/* }===== */
