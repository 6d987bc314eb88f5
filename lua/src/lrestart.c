/* SPDX-License-Identifier: MIT */
/*
 * lrestart.c: restart registrations and restart outcomes in Lua.
 *
 *   rm.register_restart{ argv = {...}, cwd = ... }   the calling process
 *   rm.restart_registration(pid) -> { pid =, start_time =, argv =, cwd =,
 *                                     flags = } | fail, msg, code
 *   s:register{ processes = { { pid =, start_time =, restart = {...},
 *                               cwd = ... } } }   (lsession.c)
 *   s:restart() on failure -> fail, msg, "ERROR_FAIL_RESTART", failures
 *     failures[i] = { pid =, start_time =, name =, failure =, error =,
 *                     message = }
 *   s:list() entries carry restart = { failure =, error =, notes = {...} }
 *     once the session tried to restart them.
 *
 * Command arrays are read into scratch memory Lua owns (userdata), so a
 * raise never leaves C memory behind; results built from C memory are
 * built under lua_pcall, as in lsession.c.
 */
#include "lrestartmgr.h"

#include <string.h>

/* {===== Commands */

int rm__lua_read_command(lua_State *L, int arg, int idx, const char *where,
                         const char ***argv) {
  lua_Integer n, i;
  const char **v;
  int bad = 0;
  idx = lua_absindex(L, idx);
  if (lua_type(L, idx) != LUA_TTABLE)
    luaL_argerror(L, arg, lua_pushfstring(L, "table expected for %s, got %s",
                                          where, luaL_typename(L, idx)));
  n = (lua_Integer)lua_rawlen(L, idx);
  {
    lua_Integer count = 0;
    lua_pushnil(L);
    while (lua_next(L, idx)) {
      int is_int;
      lua_Integer k;
      lua_pop(L, 1);
      k = lua_tointegerx(L, -1, &is_int);
      if (lua_type(L, -1) != LUA_TNUMBER || !is_int || k < 1 || k > n)
        luaL_argerror(L, arg, lua_pushfstring(L, "%s must be an array of "
                                                 "strings", where));
      count++;
    }
    if (count != n || n > 0xFFFF)
      luaL_argerror(L, arg,
                    lua_pushfstring(L, "%s must be an array of strings",
                                    where));
  }
  v = lua_newuserdatauv(L, (size_t)(n + 1) * sizeof *v, 0);
  for (i = 1; i <= n; i++) {
    size_t len;
    if (lua_rawgeti(L, idx, i) != LUA_TSTRING)
      luaL_argerror(L, arg, lua_pushfstring(L, "string expected for %s[%I], "
                                               "got %s", where, i,
                                            luaL_typename(L, -1)));
    v[i - 1] = lua_tolstring(L, -1, &len);   /* kept alive by the array */
    if (strlen(v[i - 1]) != len) bad = 1;
    lua_pop(L, 1);
  }
  v[n] = NULL;
  *argv = v;
  return bad;
}

/* rm.register_restart{ argv =, cwd = } -> true | fail, msg, code */
static int m_register_restart(lua_State *L) {
  static const char *const keys[] = {"argv", "cwd", NULL};
  const char **argv = NULL, *cwd = NULL;
  size_t cwd_len = 0;
  int bad;
  rm__lua_check_keys(L, 1, 1, keys, NULL);
  if (lua_getfield(L, 1, "argv") == LUA_TNIL)
    luaL_argerror(L, 1, "field 'argv' is required");
  bad = rm__lua_read_command(L, 1, -1, "field 'argv'", &argv);
  if (rm__lua_opt_string(L, 1, "cwd", &cwd, &cwd_len) &&
      strlen(cwd) != cwd_len)
    bad = 1;
  if (bad) return rm__lua_fail(L, RM_ERROR_BAD_ARGUMENTS, "register_restart");
  return rm__lua_result(L, rm_register_process_restart(NULL, argv, cwd, 0),
                        "register_restart");
}

/* Runs under lua_pcall: pushes the table for the registration. */
static int build_registration(lua_State *L) {
  const rm_restart_registration *r = lua_touserdata(L, 1);
  lua_Integer i;
  rm__lua_push_process(L, &r->process);
  lua_newtable(L);
  for (i = 0; r->argv[i]; i++) {
    lua_pushstring(L, r->argv[i]);
    lua_rawseti(L, -2, i + 1);
  }
  lua_setfield(L, -2, "argv");
  if (r->cwd) {
    lua_pushstring(L, r->cwd);
    lua_setfield(L, -2, "cwd");
  }
  lua_pushinteger(L, (lua_Integer)r->flags);
  lua_setfield(L, -2, "flags");
  return 1;
}

/* rm.restart_registration(pid) -> table | fail, msg, code */
static int m_restart_registration(lua_State *L) {
  lua_Integer pid = luaL_checkinteger(L, 1);
  rm_restart_registration *r = NULL;
  uint32_t rc;
  int status;
  luaL_argcheck(L, pid >= 0 && pid <= (lua_Integer)UINT32_MAX, 1,
                "pid out of range");
  rc = rm_get_application_restart((uint32_t)pid, &r);
  if (rc != RM_OK) return rm__lua_fail(L, rc, "restart_registration");
  lua_pushcfunction(L, build_registration);
  lua_pushlightuserdata(L, r);
  status = lua_pcall(L, 1, 1, 0);
  rm_free_application_restart(r);
  if (status != LUA_OK) return lua_error(L);
  return 1;
}

/* }=====
 * {===== Outcomes */

static const rm__lua_bit_name note_names[] = {
  {RM_RESTART_NOTE_REGISTERED, "registered"},
  {RM_RESTART_NOTE_UPGRADED, "upgraded"},
  {RM_RESTART_NOTE_CWD_HOME, "cwd_home"},
  {RM_RESTART_NOTE_CWD_ROOT, "cwd_root"},
  {RM_RESTART_NOTE_ENV_SANITIZED, "env_sanitized"},
  {RM_RESTART_NOTE_DAEMONIZED, "daemonized"},
  {RM_RESTART_NOTE_WORKER, "worker"},
  {0, NULL}
};

void rm__lua_push_outcome(lua_State *L, const rm_restart_outcome *o) {
  lua_createtable(L, 0, 3);
  if (o->failure) {
    lua_pushstring(L, rm_restart_failure_name(o->failure));
    lua_setfield(L, -2, "failure");
  }
  lua_pushinteger(L, (lua_Integer)o->error);
  lua_setfield(L, -2, "error");
  rm__lua_push_set(L, o->notes, note_names);
  lua_setfield(L, -2, "notes");
}

/* Pushes a sentence for a failure. */
static void push_reason(lua_State *L, const rm_restart_outcome *o) {
  switch (o->failure) {
  case RM_RESTART_FAILED_NOT_CAPTURED:
    lua_pushstring(L, "how to start it could not be read before it was "
                      "stopped");
    break;
  case RM_RESTART_FAILED_NO_EXECUTABLE:
    lua_pushfstring(L, "no executable to start (%s)", strerror(o->error));
    break;
  case RM_RESTART_FAILED_CREDENTIALS:
    lua_pushfstring(L, "its credentials could not be taken on (%s)",
                    strerror(o->error));
    break;
  case RM_RESTART_FAILED_EXEC:
    lua_pushfstring(L, "exec failed (%s)", strerror(o->error));
    break;
  case RM_RESTART_FAILED_EXITED:
    if (o->error < 0)
      lua_pushfstring(L, "did not stay up (killed by signal %d)",
                      (int)-o->error);
    else
      lua_pushfstring(L, "did not stay up (exit status %d)", (int)o->error);
    break;
  case RM_RESTART_FAILED_LAUNCH:
    lua_pushfstring(L, "no process could be started (%s)",
                    strerror(o->error));
    break;
  case RM_RESTART_FAILED_SERVICE:
    lua_pushstring(L, "its service manager did not start it");
    break;
  case RM_RESTART_FAILED_MASTER:
    lua_pushstring(L, "its master process did not restart");
    break;
  case RM_RESTART_FAILED_CONTEXT:
    lua_pushfstring(L, "its context (limits, no_new_privs, keyring, ...) "
                       "could not be restored (%s)", strerror(o->error));
    break;
  default:
    lua_pushstring(L, "unknown reason");
    break;
  }
}

typedef struct failed_list {
  const rm_app_info *apps;
  unsigned n;
  const char *sentence;
} failed_list;

/* Runs under lua_pcall: pushes msg, failures. */
static int build_failures(lua_State *L) {
  const failed_list *f = lua_touserdata(L, 1);
  luaL_Buffer b;
  unsigned i;
  lua_Integer k = 0;
  lua_newtable(L);                                 /* failures */
  luaL_buffinit(L, &b);                            /* uses the stack top */
  luaL_addstring(&b, "restart: ");
  luaL_addstring(&b, f->sentence);
  for (i = 0; i < f->n; i++) {
    const rm_app_info *a = &f->apps[i];
    if (!(a->info.app_status & RM_STATUS_ERROR_ON_RESTART) ||
        !a->restart.failure)
      continue;
    luaL_addstring(&b, k ? "; " : ": ");
    lua_pushfstring(L, "%s (pid %I) ", a->info.app_name,
                    (lua_Integer)a->info.process.pid);
    luaL_addvalue(&b);
    push_reason(L, &a->restart);
    luaL_addvalue(&b);
    k++;
  }
  luaL_pushresult(&b);                             /* failures, msg */
  k = 0;
  for (i = 0; i < f->n; i++) {
    const rm_app_info *a = &f->apps[i];
    if (!(a->info.app_status & RM_STATUS_ERROR_ON_RESTART) ||
        !a->restart.failure)
      continue;
    rm__lua_push_process(L, &a->info.process);
    lua_pushstring(L, a->info.app_name);
    lua_setfield(L, -2, "name");
    lua_pushstring(L, rm_restart_failure_name(a->restart.failure));
    lua_setfield(L, -2, "failure");
    lua_pushinteger(L, (lua_Integer)a->restart.error);
    lua_setfield(L, -2, "error");
    push_reason(L, &a->restart);
    lua_setfield(L, -2, "message");
    lua_rawseti(L, -3, ++k);
  }
  lua_insert(L, -2);                               /* msg, failures */
  return 2;
}

int rm__lua_restart_failed(lua_State *L, uint32_t handle, uint32_t rc) {
  rm_app_info *apps = NULL;
  failed_list f;
  uint32_t reasons, lrc;
  int status;
  luaL_checkstack(L, 8, NULL);
  lrc = rm_get_list_alloc(handle, &apps, &f.n, &reasons);
  if (lrc != RM_OK) return rm__lua_fail(L, rc, "restart");
  f.apps = apps;
  f.sentence = rm_strerror(rc);
  luaL_pushfail(L);
  lua_pushcfunction(L, build_failures);
  lua_pushlightuserdata(L, &f);
  status = lua_pcall(L, 1, 2, 0);                  /* fail, msg, failures */
  rm_free_list(apps, f.n);
  if (status != LUA_OK) return lua_error(L);
  lua_pushstring(L, rm_error_name(rc));    /* fail, msg, failures, code */
  lua_insert(L, -2);                       /* fail, msg, code, failures */
  return 4;
}

/* }=====
 * {===== Module functions */

void rm__lua_restart_functions(lua_State *L) {
  lua_pushcfunction(L, m_register_restart);
  lua_setfield(L, -2, "register_restart");
  lua_pushcfunction(L, m_restart_registration);
  lua_setfield(L, -2, "restart_registration");
}

/* }===== */
