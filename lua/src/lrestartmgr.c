/* SPDX-License-Identifier: MIT */
/*
 * lrestartmgr.c: the Lua 5.4 module "restartmgr" (docs/lua.md).
 *
 *   local rm = require "restartmgr"
 *   local s <close> = assert(rm.start_session())   -- or rm.join_session(key)
 *
 * This file holds the module table and the life of a session object:
 * creation (closed first, then opened), the key/handle/primary fields,
 * close, __close, __gc and __tostring, and rm.options.  The methods that
 * talk to the core about resources live in lsession.c and lcontrol.c
 * (lrestartmgr.h lists the files and the direction of calls).
 *
 * A session is a full userdata with the metatable "restartmgr.session".
 * Its __index is a function: methods come from a method table (its
 * upvalue), the three fields from the userdata.  __gc and __close end the
 * session quietly and never raise (manual 2.5.3: finalizer errors only
 * become warnings); s:close() reports.  Nothing here sets a global.
 */
#include "lrestartmgr.h"

#include <string.h>

#include "os.h"

#if defined(_WIN32)
#  define RM_LUA_EXPORT __declspec(dllexport)
#elif defined(__GNUC__)
#  define RM_LUA_EXPORT __attribute__((visibility("default")))
#else
#  define RM_LUA_EXPORT
#endif

RM_LUA_EXPORT int luaopen_restartmgr(lua_State *L);

/* {===== Creating sessions */

/* A new session object, closed, with its metatable. */
static rm__lua_session *new_session(lua_State *L) {
  rm__lua_session *s = lua_newuserdatauv(L, sizeof *s, 0);
  memset(s, 0, sizeof *s);
  luaL_setmetatable(L, RM_LUA_SESSION);
  return s;
}

/* rm.start_session() -> session | fail, msg, code */
static int m_start_session(lua_State *L) {
  rm__lua_session *s = new_session(L);
  uint32_t rc = rm_start_session(&s->handle, 0, s->key);
  if (rc != RM_OK) return rm__lua_fail(L, rc, "start_session");
  s->open = 1;                       /* nothing raises before this */
  s->primary = 1;
  return 1;
}

/* rm.join_session(key) -> session | fail, msg, code */
static int m_join_session(lua_State *L) {
  size_t len, i;
  const char *key = luaL_checklstring(L, 1, &len);
  rm__lua_session *s;
  uint32_t rc;
  /* A key with an embedded zero would reach the core cut short. */
  if (strlen(key) != len)
    return rm__lua_fail(L, RM_ERROR_SESSION_CREDENTIAL_CONFLICT,
                        "join_session");
  s = new_session(L);
  rc = rm_join_session(&s->handle, key);
  if (rc != RM_OK) return rm__lua_fail(L, rc, "join_session");
  s->open = 1;
  s->primary = 0;
  /* Keep the key as the core stores it: lowercase. */
  for (i = 0; i < RM_SESSION_KEY_CHARS; i++) {
    char c = key[i];
    s->key[i] = (char)(c >= 'A' && c <= 'F' ? c - 'A' + 'a' : c);
  }
  s->key[RM_SESSION_KEY_CHARS] = 0;
  return 1;
}

/* rm.process(pid) -> { pid =, start_time = } | fail, msg, code */
static int m_process(lua_State *L) {
  lua_Integer pid = luaL_checkinteger(L, 1);
  rm_unique_process p;
  int n;
  luaL_argcheck(L, pid >= 0 && pid <= (lua_Integer)UINT32_MAX, 1,
                "pid out of range");
  p.pid = (uint32_t)pid;
  p.start_time = 0;
  n = rm__lua_lookup_process(L, &p, "process");
  if (n) return n;
  rm__lua_push_process(L, &p);
  return 1;
}

/* rm.store_path() -> path, skipped | fail, msg, code, skipped: the session
 * store this process uses, and the names of the candidates passed over
 * ("runtime_dir", "run", "state_home", "home", "tmp"), in order. */
/* rm.exit_after(seconds [, message [, code]]): a time limit for the
 * calling program, which a blocked read of another process cannot
 * outlast (docs/lua.md; the command's `stale --time-limit`).  0 disarms
 * it.  Returns true, or nil, message, code. */
static int m_exit_after(lua_State *L) {
  lua_Integer seconds = luaL_checkinteger(L, 1);
  const char *message = luaL_optstring(L, 2, "restartmgr: time limit passed");
  lua_Integer code = luaL_optinteger(L, 3, 1);
  luaL_argcheck(L, seconds >= 0 && seconds <= 86400 * 365, 1,
                "seconds out of range");
  luaL_argcheck(L, code >= 0 && code <= 255, 3, "exit code out of range");
  return rm__lua_result(L, rm__os_exit_after((unsigned)seconds, message,
                                             (int)code), "exit_after");
}

static int m_store_path(lua_State *L) {
  static const struct { uint32_t bit; const char *name; } names[] = {
    { RM_STORE_SKIPPED_RUNTIME_DIR, "runtime_dir" },
    { RM_STORE_SKIPPED_RUN, "run" },
    { RM_STORE_SKIPPED_STATE_HOME, "state_home" },
    { RM_STORE_SKIPPED_HOME, "home" },
    { RM_STORE_SKIPPED_TMP, "tmp" },
  };
  char path[8192];
  uint32_t skipped = 0, rc = rm_store_path(path, sizeof path, &skipped);
  size_t i;
  int k = 0, n = rc == RM_OK ? 1 : rm__lua_fail(L, rc, "store_path");
  if (rc == RM_OK) lua_pushstring(L, path);
  lua_createtable(L, 5, 0);
  for (i = 0; i < sizeof names / sizeof names[0]; i++)
    if (skipped & names[i].bit) {
      lua_pushstring(L, names[i].name);
      lua_rawseti(L, -2, ++k);
    }
  return n + 1;
}

/* }=====
 * {===== Ending sessions */

/* Ends the session quietly: for __gc and __close.  Skipped while a
 * shutdown or restart runs on it (a <close> variable of the session in
 * its own progress callback); s:close() ends it later. */
static int release(lua_State *L) {
  rm__lua_session *s = luaL_testudata(L, 1, RM_LUA_SESSION);
  if (s && s->open && !s->busy) {
    (void)rm_end_session(s->handle);
    s->open = 0;
  }
  return 0;
}

/* s:close() -> true | fail, msg, code.  Idempotent.  Through the primary
 * the session is destroyed; through a secondary only this handle goes.
 * When the store cannot be written the session stays open so the caller
 * may retry. */
static int s_close(lua_State *L) {
  rm__lua_session *s = luaL_checkudata(L, 1, RM_LUA_SESSION);
  uint32_t rc;
  if (!s->open) {
    lua_pushboolean(L, 1);
    return 1;
  }
  s = rm__lua_check(L, 1);           /* raises inside a progress callback */
  rc = rm_end_session(s->handle);
  if (rc == RM_ERROR_INVALID_HANDLE) rc = RM_OK;  /* already gone */
  if (rc == RM_OK) s->open = 0;
  return rm__lua_result(L, rc, "close");
}

static int s_tostring(lua_State *L) {
  rm__lua_session *s = luaL_checkudata(L, 1, RM_LUA_SESSION);
  if (s->open)
    lua_pushfstring(L, "%s (%s)", RM_LUA_SESSION, s->key);
  else
    lua_pushfstring(L, "%s (closed)", RM_LUA_SESSION);
  return 1;
}

/* __index(s, k): a method, else one of the fields key, handle, primary
 * (reading them from a closed session raises like any other use). */
static int s_index(lua_State *L) {
  rm__lua_session *s = luaL_checkudata(L, 1, RM_LUA_SESSION);
  const char *k;
  lua_pushvalue(L, 2);
  if (lua_rawget(L, lua_upvalueindex(1)) != LUA_TNIL) return 1;  /* method */
  if (lua_type(L, 2) != LUA_TSTRING) return 1;                    /* nil */
  k = lua_tostring(L, 2);
  if (strcmp(k, "key") == 0 || strcmp(k, "handle") == 0 ||
      strcmp(k, "primary") == 0) {
    rm__lua_check_open(L, 1);
    if (k[0] == 'k')
      lua_pushstring(L, s->key);
    else if (k[0] == 'h')
      lua_pushinteger(L, (lua_Integer)s->handle);
    else
      lua_pushboolean(L, s->primary);
  }
  return 1;
}

/* }=====
 * {===== Module table */

/* methods of sessions */
static const luaL_Reg session_methods[] = {
  {"add_filter", rm__lua_add_filter},
  {"cancel", rm__lua_cancel},
  {"close", s_close},
  {"filters", rm__lua_filters},
  {"list", rm__lua_list},
  {"register", rm__lua_register},
  {"remove_filter", rm__lua_remove_filter},
  {"restart", rm__lua_restart},
  {"shutdown", rm__lua_shutdown},
  {"transaction", rm__lua_transaction},
  {NULL, NULL}
};

/* metamethods of sessions (__index is set apart: it needs an upvalue) */
static const luaL_Reg session_metamethods[] = {
  {"__close", release},
  {"__gc", release},
  {"__tostring", s_tostring},
  {NULL, NULL}
};

/* module functions */
static const luaL_Reg module_functions[] = {
  {"exit_after", m_exit_after},
  {"join_session", m_join_session},
  {"process", m_process},
  {"recover", rm__lua_recover},
  {"sessions", rm__lua_sessions},
  {"stale", rm__lua_stale},
  {"start_session", m_start_session},
  {"store_path", m_store_path},
  {"errors", NULL},                  /* placeholders, filled below */
  {"options", NULL},
  {"_VERSION", NULL},
  {NULL, NULL}
};

/* Every code the library returns, for rm.errors. */
static const uint32_t all_codes[] = {
  RM_OK, RM_ERROR_FILE_NOT_FOUND, RM_ERROR_ACCESS_DENIED,
  RM_ERROR_INVALID_HANDLE, RM_ERROR_OUTOFMEMORY, RM_ERROR_WRITE_FAULT,
  RM_ERROR_SEM_TIMEOUT, RM_ERROR_BAD_ARGUMENTS, RM_ERROR_MORE_DATA,
  RM_ERROR_FAIL_NOACTION_REBOOT, RM_ERROR_FAIL_SHUTDOWN,
  RM_ERROR_FAIL_RESTART, RM_ERROR_MAX_SESSIONS_REACHED,
  RM_ERROR_REQUEST_OUT_OF_SEQUENCE, RM_ERROR_SESSION_CREDENTIAL_CONFLICT,
  RM_ERROR_CANCELLED, RM_ERROR_SUCCESS_REBOOT_REQUIRED
};

/* rm.errors: name -> number and number -> name. */
static void push_errors(lua_State *L) {
  size_t i, n = sizeof all_codes / sizeof all_codes[0];
  lua_createtable(L, 0, (int)(2 * n));
  for (i = 0; i < n; i++) {
    const char *name = rm_error_name(all_codes[i]);
    lua_pushinteger(L, (lua_Integer)all_codes[i]);
    lua_setfield(L, -2, name);                     /* errors[name] = code */
    lua_pushstring(L, name);
    lua_rawseti(L, -2, (lua_Integer)all_codes[i]); /* errors[code] = name */
  }
}

/* rm.options: the option keys of each method, from the method files. */
static const struct {
  const char *method;
  const char *const *keys;
} option_lists[] = {
  {"register", rm__lua_register_keys},
  {"shutdown", rm__lua_shutdown_keys},
  {"restart", rm__lua_restart_keys},
  {"add_filter", rm__lua_add_filter_keys},
  {"remove_filter", rm__lua_remove_filter_keys},
  {"transaction", rm__lua_transaction_keys},
  {"replace", rm__lua_stage_keys},
  {"tree", rm__lua_tree_keys},
  {"commit", rm__lua_commit_keys},
};

static void push_options(lua_State *L) {
  size_t i, n = sizeof option_lists / sizeof option_lists[0];
  lua_createtable(L, 0, (int)n);
  for (i = 0; i < n; i++) {
    int k;
    lua_newtable(L);
    for (k = 0; option_lists[i].keys[k]; k++) {
      lua_pushstring(L, option_lists[i].keys[k]);
      lua_rawseti(L, -2, k + 1);
    }
    lua_setfield(L, -2, option_lists[i].method);
  }
}

RM_LUA_EXPORT int luaopen_restartmgr(lua_State *L) {
  luaL_newmetatable(L, RM_LUA_SESSION);            /* mt (with __name) */
  luaL_setfuncs(L, session_metamethods, 0);
  luaL_newlib(L, session_methods);                 /* mt, methods */
  lua_pushcclosure(L, s_index, 1);                 /* mt, __index */
  lua_setfield(L, -2, "__index");
  lua_pop(L, 1);

  rm__lua_show_init(L);
  rm__lua_tx_init(L);

  luaL_newlib(L, module_functions);                /* rm */
  rm__lua_restart_functions(L);
  rm__lua_leftover_functions(L);
  push_errors(L);
  lua_setfield(L, -2, "errors");
  push_options(L);
  lua_setfield(L, -2, "options");
  lua_pushfstring(L, "restartmgr %s", rm_version());
  lua_setfield(L, -2, "_VERSION");
  lua_pushstring(L, rm_version());                 /* "0.1.0" */
  lua_setfield(L, -2, "version");
  return 1;
}

/* }===== */
