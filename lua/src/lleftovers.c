/* SPDX-License-Identifier: MIT */
/*
 * lleftovers.c: what an upgrade leaves behind beyond mapped files, with
 * no session (docs/lua.md, rm.stale_scripts and rm.kernel):
 *
 *   rm.stale_scripts() -> { { pid =, start_time =, interpreter =, path =,
 *                             why = "changed" | "deleted" }, ... }
 *                         | fail, msg, code
 *   rm.kernel([root])  -> { running =, newest = (nil: none installed),
 *                           reboot_required = } | fail, msg, code
 *                         (root, absolute, is for tests: a tree holding
 *                         boot/ and lib/modules/ instead of "/")
 *   rm.compare_versions(a, b) -> -1 | 0 | 1   (Debian's version order)
 */
#include "lrestartmgr.h"

#include <string.h>

/* A string argument without embedded zeros (the core takes C strings). */
static const char *check_text(lua_State *L, int arg) {
  size_t len;
  const char *s = luaL_checklstring(L, arg, &len);
  luaL_argcheck(L, strlen(s) == len, arg, "string contains zeros");
  return s;
}

typedef struct scripts_result {
  rm_stale_script *v;
  unsigned n;
} scripts_result;

/* Builds the result table in a protected call, so a memory error cannot
 * leak the C array. */
static int build_scripts(lua_State *L) {
  const scripts_result *r = lua_touserdata(L, 1);
  unsigned i;
  lua_createtable(L, (int)r->n, 0);
  for (i = 0; i < r->n; i++) {
    const rm_stale_script *s = &r->v[i];
    lua_createtable(L, 0, 5);
    lua_pushinteger(L, (lua_Integer)s->process.pid);
    lua_setfield(L, -2, "pid");
    lua_pushinteger(L, (lua_Integer)s->process.start_time);
    lua_setfield(L, -2, "start_time");
    lua_pushstring(L, s->interpreter);
    lua_setfield(L, -2, "interpreter");
    lua_pushstring(L, s->path);
    lua_setfield(L, -2, "path");
    lua_pushstring(L, s->why & RM_SCRIPT_DELETED ? "deleted" : "changed");
    lua_setfield(L, -2, "why");
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
  return 1;
}

static int m_stale_scripts(lua_State *L) {
  scripts_result r;
  uint32_t rc;
  int status;
  luaL_checkstack(L, 4, NULL);
  rc = rm_get_stale_scripts(&r.v, &r.n);
  if (rc != RM_OK) return rm__lua_fail(L, rc, "stale_scripts");
  lua_pushcfunction(L, build_scripts);
  lua_pushlightuserdata(L, &r);
  status = lua_pcall(L, 1, 1, 0);
  rm_free_stale_scripts(r.v, r.n);
  if (status != LUA_OK) return lua_error(L);
  return 1;
}

static int m_kernel(lua_State *L) {
  const char *root = lua_isnoneornil(L, 1) ? NULL : check_text(L, 1);
  rm_kernel_info k;
  uint32_t rc;
  luaL_argcheck(L, !root || root[0] == '/', 1, "absolute path expected");
  rc = rm_get_kernel_info(root, &k);
  if (rc == RM_ERROR_FILE_NOT_FOUND && root) {
    luaL_pushfail(L);
    lua_pushfstring(L, "kernel: %s: not a directory", root);
    lua_pushstring(L, rm_error_name(rc));
    return 3;
  }
  if (rc != RM_OK) return rm__lua_fail(L, rc, "kernel");
  lua_createtable(L, 0, 3);
  lua_pushstring(L, k.running);
  lua_setfield(L, -2, "running");
  if (k.newest[0]) {
    lua_pushstring(L, k.newest);
    lua_setfield(L, -2, "newest");
  }
  lua_pushboolean(L, k.reboot_required);
  lua_setfield(L, -2, "reboot_required");
  return 1;
}

static int m_compare_versions(lua_State *L) {
  int c = rm_compare_versions(check_text(L, 1), check_text(L, 2));
  lua_pushinteger(L, c < 0 ? -1 : c > 0);
  return 1;
}

void rm__lua_leftover_functions(lua_State *L) {
  lua_pushcfunction(L, m_stale_scripts);
  lua_setfield(L, -2, "stale_scripts");
  lua_pushcfunction(L, m_kernel);
  lua_setfield(L, -2, "kernel");
  lua_pushcfunction(L, m_compare_versions);
  lua_setfield(L, -2, "compare_versions");
}
