/* SPDX-License-Identifier: MIT */
/*
 * lshow.c: what a person sees at the REPL.
 *
 * Entries of s:list() and s:filters() are plain tables (fields as in
 * docs/lua.md, App entries) with a metatable that only names and prints
 * them:
 *
 *   > apps[1]
 *   restartmgr.app (pid 812 nginx service nginx running)
 *   > s:filters()[1]
 *   restartmgr.filter (no_restart service nginx)
 *
 * __tostring reads the fields with rawget, so a table the caller changed
 * prints what it now holds, and a field of the wrong type prints as "?"
 * rather than raising.  rm.sessions() shows the sessions of the
 * caller's store (rm_list_sessions).
 */
#include "lrestartmgr.h"

#include <string.h>

/* {===== __tostring of entries
 *
 * The pieces are pushed above a few fixed slots and joined with
 * lua_concat at the end. */

/* Pushes the string or number field k of the table at 1, or "?". */
static void push_field(lua_State *L, const char *k) {
  lua_pushstring(L, k);
  if (lua_rawget(L, 1) != LUA_TSTRING && lua_type(L, -1) != LUA_TNUMBER) {
    lua_pop(L, 1);
    lua_pushliteral(L, "?");
  } else {
    (void)lua_tostring(L, -1);                     /* a number as text */
  }
}

/* Pushes the keys of the set-table at index set whose value is true, in
 * the order of names, each preceded by sep; returns how many. */
static int push_set_words(lua_State *L, int set,
                          const rm__lua_bit_name *names,
                          const char *first_sep) {
  int i, n = 0;
  if (lua_type(L, set) != LUA_TTABLE) return 0;
  for (i = 0; names[i].name; i++) {
    int on;
    lua_pushstring(L, names[i].name);
    on = lua_rawget(L, set) == LUA_TBOOLEAN && lua_toboolean(L, -1);
    lua_pop(L, 1);
    if (on) {
      lua_pushstring(L, n == 0 ? first_sep : ",");
      lua_pushstring(L, names[i].name);
      n += 2;
    }
  }
  return n;
}

/* restartmgr.app (pid 812 nginx service nginx running, restartable)
 * restartmgr.app (pid 1 systemd critical critical_process running) */
static int app_tostring(lua_State *L) {
  int service, restartable, base;
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_settop(L, 1);
  lua_pushliteral(L, "status");
  lua_rawget(L, 1);                                /* 2: status */
  lua_pushliteral(L, "reasons");
  lua_rawget(L, 1);                                /* 3: reasons */
  lua_pushliteral(L, "service");
  service = lua_rawget(L, 1) == LUA_TSTRING;
  lua_pushliteral(L, "restartable");
  restartable = lua_rawget(L, 1) == LUA_TBOOLEAN && lua_toboolean(L, -1);
  lua_settop(L, 3);
  base = lua_gettop(L);
  lua_pushliteral(L, RM_LUA_APP " (pid ");
  push_field(L, "pid");
  lua_pushliteral(L, " ");
  push_field(L, "name");
  if (service) {
    lua_pushliteral(L, " service ");
    push_field(L, "service");
  } else {
    lua_pushliteral(L, " ");
    push_field(L, "type");
  }
  push_set_words(L, 3, rm__lua_reboot_names, " ");
  push_set_words(L, 2, rm__lua_status_names, " ");
  if (restartable) lua_pushliteral(L, ", restartable");
  lua_pushliteral(L, ")");
  lua_concat(L, lua_gettop(L) - base);
  return 1;
}

/* restartmgr.filter (no_restart file /usr/bin/x)
 * restartmgr.filter (no_shutdown process pid 42) */
static int filter_tostring(lua_State *L) {
  int base;
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_settop(L, 1);
  lua_pushliteral(L, "process");
  lua_rawget(L, 1);                                /* 2: process */
  base = lua_gettop(L);
  lua_pushliteral(L, RM_LUA_FILTER " (");
  push_field(L, "action");
  if (lua_type(L, 2) == LUA_TTABLE) {
    lua_pushliteral(L, " process pid ");
    lua_getfield(L, 2, "pid");
    if (lua_type(L, -1) != LUA_TNUMBER) {
      lua_pop(L, 1);
      lua_pushliteral(L, "?");
    } else {
      (void)lua_tostring(L, -1);
    }
  } else {
    lua_pushliteral(L, "file");
    if (lua_rawget(L, 1) == LUA_TSTRING) {
      lua_pop(L, 1);
      lua_pushliteral(L, " file ");
      push_field(L, "file");
    } else {
      lua_pop(L, 1);
      lua_pushliteral(L, " service ");
      push_field(L, "service");
    }
  }
  lua_pushliteral(L, ")");
  lua_concat(L, lua_gettop(L) - base);
  return 1;
}

void rm__lua_show_init(lua_State *L) {
  luaL_newmetatable(L, RM_LUA_APP);                /* sets __name */
  lua_pushcfunction(L, app_tostring);
  lua_setfield(L, -2, "__tostring");
  lua_pop(L, 1);
  luaL_newmetatable(L, RM_LUA_FILTER);
  lua_pushcfunction(L, filter_tostring);
  lua_setfield(L, -2, "__tostring");
  lua_pop(L, 1);
}

/* }=====
 * {===== rm.sessions() */

typedef struct sessions_result {
  rm_session_info *v;
  unsigned n;
} sessions_result;

static void push_strings(lua_State *L, char **v, unsigned n) {
  unsigned i;
  lua_createtable(L, (int)n, 0);
  for (i = 0; i < n; i++) {
    lua_pushstring(L, v[i]);
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
}

/* Runs under lua_pcall (as build_list in lsession.c) so that a memory
 * error cannot skip rm_free_sessions. */
static int build_sessions(lua_State *L) {
  const sessions_result *r = lua_touserdata(L, 1);
  unsigned i, k;
  lua_createtable(L, (int)r->n, 0);
  for (i = 0; i < r->n; i++) {
    const rm_session_info *s = &r->v[i];
    lua_createtable(L, 0, 9);
    lua_pushstring(L, s->key);
    lua_setfield(L, -2, "key");
    lua_pushinteger(L, (lua_Integer)s->slot);
    lua_setfield(L, -2, "slot");
    rm__lua_push_process(L, &s->owner);
    lua_setfield(L, -2, "owner");
    lua_pushboolean(L, s->shutdown_called);
    lua_setfield(L, -2, "shutdown_called");
    push_strings(L, s->files, s->n_files);
    lua_setfield(L, -2, "files");
    push_strings(L, s->services, s->n_services);
    lua_setfield(L, -2, "services");
    lua_createtable(L, (int)s->n_processes, 0);
    for (k = 0; k < s->n_processes; k++) {
      rm__lua_push_process(L, &s->processes[k]);
      lua_rawseti(L, -2, (lua_Integer)k + 1);
    }
    lua_setfield(L, -2, "processes");
    lua_pushinteger(L, (lua_Integer)s->n_filters);
    lua_setfield(L, -2, "filters");
    lua_pushinteger(L, (lua_Integer)s->n_acted);
    lua_setfield(L, -2, "acted");
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
  return 1;
}

int rm__lua_sessions(lua_State *L) {
  sessions_result r;
  uint32_t rc;
  int status;
  luaL_checkstack(L, 4, NULL);
  rc = rm_list_sessions(&r.v, &r.n);
  if (rc != RM_OK) return rm__lua_fail(L, rc, "sessions");
  lua_pushcfunction(L, build_sessions);
  lua_pushlightuserdata(L, &r);
  status = lua_pcall(L, 1, 1, 0);
  rm_free_sessions(r.v, r.n);
  if (status != LUA_OK) return lua_error(L);
  return 1;
}

/* }===== */
