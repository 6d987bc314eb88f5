/* SPDX-License-Identifier: MIT */
/*
 * lopts.c: reading option tables, strictly.
 *
 * Every method that takes a table validates all of it here before it
 * allocates anything or calls the core: unknown keys raise (so a typo like
 * { forced = true } cannot silently mean "not forced"), each field has one
 * type, arrays must be proper sequences, and processes are a pid or a
 * { pid =, start_time = } pair.  Messages name the field, luaposix style:
 * "bad argument #1 to 'shutdown' (boolean expected for field 'force', got
 * number)".
 */
#include "lrestartmgr.h"

#include <string.h>

/* Raises a type error about one field. */
static int field_error(lua_State *L, int arg, const char *expected,
                       const char *field, int idx) {
  return luaL_argerror(L, arg,
                       lua_pushfstring(L, "%s expected for field '%s', got %s",
                                       expected, field,
                                       luaL_typename(L, idx)));
}

void rm__lua_check_keys(lua_State *L, int arg, int idx,
                        const char *const allowed[], const char *where) {
  idx = lua_absindex(L, idx);
  if (!where) luaL_checktype(L, arg, LUA_TTABLE);
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    const char *key;
    int i, known = 0;
    lua_pop(L, 1);                                 /* key */
    if (lua_type(L, -1) != LUA_TSTRING)
      luaL_argerror(L, arg,
                    lua_pushfstring(L, "invalid option key (a %s)%s%s",
                                    luaL_typename(L, -1),
                                    where ? " in " : "", where ? where : ""));
    key = lua_tostring(L, -1);
    for (i = 0; allowed[i]; i++)
      if (strcmp(key, allowed[i]) == 0) known = 1;
    if (!known) {
      /* Name the valid ones: the message is how people discover them. */
      luaL_Buffer b;
      luaL_buffinit(L, &b);
      for (i = 0; allowed[i]; i++) {
        if (i > 0) luaL_addstring(&b, ", ");
        luaL_addstring(&b, allowed[i]);
      }
      luaL_pushresult(&b);
      luaL_argerror(L, arg,
                    lua_pushfstring(L, "invalid option '%s'%s%s; valid: %s",
                                    key, where ? " in " : "",
                                    where ? where : "", lua_tostring(L, -1)));
    }
  }
}

int rm__lua_opt_boolean(lua_State *L, int arg, const char *field, int *out) {
  int t = lua_getfield(L, arg, field);
  if (t == LUA_TNIL) {
    lua_pop(L, 1);
    return 0;
  }
  if (t != LUA_TBOOLEAN) field_error(L, arg, "boolean", field, -1);
  *out = lua_toboolean(L, -1);
  lua_pop(L, 1);
  return 1;
}

/* The string stays valid while the options table holds it, which is for
 * the whole call. */
int rm__lua_opt_string(lua_State *L, int arg, const char *field,
                       const char **out, size_t *len) {
  int t = lua_getfield(L, arg, field);
  if (t == LUA_TNIL) {
    lua_pop(L, 1);
    return 0;
  }
  if (t != LUA_TSTRING) field_error(L, arg, "string", field, -1);
  *out = lua_tolstring(L, -1, len);
  lua_pop(L, 1);
  return 1;
}

int rm__lua_opt_number(lua_State *L, int arg, const char *field,
                       lua_Number *out) {
  int t = lua_getfield(L, arg, field);
  if (t == LUA_TNIL) {
    lua_pop(L, 1);
    return 0;
  }
  if (t != LUA_TNUMBER) field_error(L, arg, "number", field, -1);
  *out = lua_tonumber(L, -1);
  lua_pop(L, 1);
  return 1;
}

int rm__lua_opt_callable(lua_State *L, int arg, const char *field) {
  int t = lua_getfield(L, arg, field);
  if (t == LUA_TNIL) {
    lua_pop(L, 1);
    return 0;
  }
  if (t != LUA_TFUNCTION) {
    if (luaL_getmetafield(L, -1, "__call") == LUA_TNIL)
      field_error(L, arg, "function", field, -1);
    lua_pop(L, 1);                                 /* __call */
  }
  return 1;
}

lua_Integer rm__lua_opt_array(lua_State *L, int arg, const char *field) {
  int t = lua_getfield(L, arg, field);
  lua_Integer n, count = 0;
  if (t == LUA_TNIL) {
    lua_pop(L, 1);
    return -1;
  }
  if (t != LUA_TTABLE) field_error(L, arg, "table", field, -1);
  n = (lua_Integer)lua_rawlen(L, -1);
  lua_pushnil(L);
  while (lua_next(L, -2)) {                        /* array, key, value */
    lua_Integer k;
    int is_int;
    lua_pop(L, 1);
    k = lua_tointegerx(L, -1, &is_int);
    if (lua_type(L, -1) != LUA_TNUMBER || !is_int || k < 1 || k > n)
      luaL_argerror(L, arg,
                    lua_pushfstring(L, "field '%s' must be an array "
                                       "(a list without holes or keys)",
                                    field));
    count++;
  }
  if (count != n)
    luaL_argerror(L, arg,
                  lua_pushfstring(L, "field '%s' must be an array (a list "
                                     "without holes or keys)", field));
  return n;
}

/* An integer in 0..max from the value at idx, or raise naming what. */
static lua_Integer to_uint(lua_State *L, int arg, int idx, const char *what,
                           lua_Integer max) {
  int is_int;
  lua_Integer v = lua_tointegerx(L, idx, &is_int);
  if (lua_type(L, idx) != LUA_TNUMBER || !is_int)
    luaL_argerror(L, arg, lua_pushfstring(L, "integer expected for %s, got %s",
                                          what, luaL_typename(L, idx)));
  if (v < 0 || v > max)
    luaL_argerror(L, arg, lua_pushfstring(L, "%s out of range", what));
  return v;
}

int rm__lua_to_process(lua_State *L, int arg, int idx, const char *where,
                       rm_unique_process *out) {
  return rm__lua_to_process_ex(L, arg, idx, where, out, NULL);
}

int rm__lua_to_process_ex(lua_State *L, int arg, int idx, const char *where,
                          rm_unique_process *out, const char *const extra[]) {
  const char *keys[8] = {"pid", "start_time", NULL};
  size_t k = 2;
  while (extra && *extra && k < 7) keys[k++] = *extra++;
  keys[k] = NULL;
  idx = lua_absindex(L, idx);
  memset(out, 0, sizeof *out);
  if (lua_type(L, idx) == LUA_TNUMBER) {
    const char *what = lua_pushfstring(L, "the pid of %s", where);
    out->pid = (uint32_t)to_uint(L, arg, idx, what, (lua_Integer)UINT32_MAX);
    lua_pop(L, 1);
    return 1;
  }
  if (lua_type(L, idx) != LUA_TTABLE)
    luaL_argerror(L, arg,
                  lua_pushfstring(L, "pid or { pid =, start_time = } "
                                     "expected for %s, got %s",
                                  where, luaL_typename(L, idx)));
  rm__lua_check_keys(L, arg, idx, keys, where);
  lua_getfield(L, idx, "pid");
  lua_getfield(L, idx, "start_time");              /* pid, start_time */
  lua_pushfstring(L, "%s.pid", where);
  out->pid = (uint32_t)to_uint(L, arg, -3, lua_tostring(L, -1),
                               (lua_Integer)UINT32_MAX);
  lua_pop(L, 1);
  lua_pushfstring(L, "%s.start_time", where);
  out->start_time = (uint64_t)to_uint(L, arg, -2, lua_tostring(L, -1),
                                      LUA_MAXINTEGER);
  lua_pop(L, 3);
  return 0;
}

int rm__lua_lookup_process(lua_State *L, rm_unique_process *p,
                           const char *what) {
  lua_Integer pid = (lua_Integer)p->pid;
  uint32_t rc = rm_get_process_identity(p->pid, p);
  if (rc == RM_OK) return 0;
  luaL_pushfail(L);
  if (rc == RM_ERROR_FILE_NOT_FOUND)
    lua_pushfstring(L, "%s: pid %I is not running", what, pid);
  else if (rc == RM_ERROR_ACCESS_DENIED)
    lua_pushfstring(L, "%s: pid %I cannot be inspected: %s", what, pid,
                    rm_strerror(rc));
  else
    lua_pushfstring(L, "%s: pid %I: %s", what, pid, rm_strerror(rc));
  lua_pushstring(L, rm_error_name(rc));
  return 3;
}

void rm__lua_push_process(lua_State *L, const rm_unique_process *p) {
  lua_createtable(L, 0, 2);
  lua_pushinteger(L, (lua_Integer)p->pid);
  lua_setfield(L, -2, "pid");
  lua_pushinteger(L, (lua_Integer)p->start_time);
  lua_setfield(L, -2, "start_time");
}
