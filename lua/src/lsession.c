/* SPDX-License-Identifier: MIT */
/*
 * lsession.c: s:register{} and s:list().
 *
 * register reads its whole table in a first pass that only checks types,
 * then fills arrays in a scratch userdata (memory Lua owns, so nothing
 * leaks if anything raises), then looks up the start time of processes
 * given as bare pids, and only then calls rm_register_resources once.
 *
 * list calls rm_get_list_alloc, which returns C memory; the result tables
 * are built inside lua_pcall so that a memory error while building them
 * cannot skip rm_free_list, and is re-raised after it.
 */
#include "lrestartmgr.h"

#include <string.h>

/* {===== s:register */

/* The option keys of s:register (rm.options.register shows them). */
const char *const rm__lua_register_keys[] = {"files", "processes",
                                             "services", "trees", NULL};

/* Checks that every element of the array at idx is a string. */
static void check_strings(lua_State *L, int arg, int idx, lua_Integer n,
                          const char *field) {
  lua_Integer i;
  for (i = 1; i <= n; i++) {
    if (lua_rawgeti(L, idx, i) != LUA_TSTRING)
      luaL_argerror(L, arg, lua_pushfstring(L, "string expected for %s[%I], "
                                               "got %s", field, i,
                                            luaL_typename(L, -1)));
    lua_pop(L, 1);
  }
}

/* Fills v[0..n-1] with the strings of the array at idx (one with an
 * embedded zero, which the core would see cut short, is named by pass 3). */
static void get_strings(lua_State *L, int idx, lua_Integer n,
                        const char **v) {
  lua_Integer i;
  for (i = 1; i <= n; i++) {
    lua_rawgeti(L, idx, i);
    v[i - 1] = lua_tostring(L, -1);  /* kept alive by the array */
    lua_pop(L, 1);
  }
}

/* The restart = and cwd = of the process table at idx, if any: the
 * command into *argv (a scratch userdata left on the stack) and the
 * directory into *cwd.  Returns 1 when a string has an embedded zero. */
static int process_restart(lua_State *L, int idx, lua_Integer i,
                           const char ***argv, const char **cwd) {
  int bad = 0;
  idx = lua_absindex(L, idx);
  *argv = NULL;
  *cwd = NULL;
  if (lua_type(L, idx) != LUA_TTABLE) return 0;
  if (lua_getfield(L, idx, "cwd") != LUA_TNIL) {
    size_t len;
    if (lua_type(L, -1) != LUA_TSTRING)
      luaL_argerror(L, 2, lua_pushfstring(L, "string expected for "
                                             "processes[%I].cwd, got %s", i,
                                          luaL_typename(L, -1)));
    *cwd = lua_tolstring(L, -1, &len);     /* kept alive by the table */
    bad = strlen(*cwd) != len;
  }
  lua_pop(L, 1);
  if (lua_getfield(L, idx, "restart") == LUA_TNIL) {
    lua_pop(L, 1);
    if (*cwd)
      luaL_argerror(L, 2, lua_pushfstring(L, "processes[%I].cwd needs "
                                             "processes[%I].restart", i, i));
    return bad;
  }
  lua_pushfstring(L, "processes[%I].restart", i);
  bad |= rm__lua_read_command(L, 2, -2, lua_tostring(L, -1), argv);
  lua_replace(L, -3);                      /* keep the scratch array */
  lua_pop(L, 1);
  return bad;
}

/* s:register{ files =, processes =, services =, trees = }
 *   -> true | fail, msg, code
 * trees (an extension, rm_register_trees): every file under each
 * directory, so list reports who uses anything under it.
 * A process given as a table may carry restart = { argv... } and cwd =:
 * its restart registration (lrestart.c), stored before the resources. */
int rm__lua_register(lua_State *L) {
  static const char *const process_keys[] = {"restart", "cwd", NULL};
  rm__lua_session *s = rm__lua_check(L, 1);
  lua_Integer nf, np, ns, nt, i;
  int fi, pi, si, ti, bad = 0;
  rm_unique_process *procs, dummy;
  const char **files, **services, ***commands, **cwds, **trees;
  uint32_t rc;

  rm__lua_check_keys(L, 2, 2, rm__lua_register_keys, NULL);
  nf = rm__lua_opt_array(L, 2, "files");
  fi = nf < 0 ? 0 : lua_gettop(L);
  np = rm__lua_opt_array(L, 2, "processes");
  pi = np < 0 ? 0 : lua_gettop(L);
  ns = rm__lua_opt_array(L, 2, "services");
  si = ns < 0 ? 0 : lua_gettop(L);
  nt = rm__lua_opt_array(L, 2, "trees");
  ti = nt < 0 ? 0 : lua_gettop(L);
  if (nt < 0) nt = 0;
  if (nt > 0xFFFF) luaL_argerror(L, 2, "too many trees in one call");
  if (nf < 0) nf = 0;
  if (np < 0) np = 0;
  if (ns < 0) ns = 0;
  if (nf > 0xFFFFFF || np > 0xFFFFFF || ns > 0xFFFFFF)
    luaL_argerror(L, 2, "too many resources in one call");

  /* Pass 1: types only. */
  check_strings(L, 2, fi, nf, "files");
  check_strings(L, 2, si, ns, "services");
  check_strings(L, 2, ti, nt, "trees");
  for (i = 1; i <= np; i++) {
    lua_rawgeti(L, pi, i);
    lua_pushfstring(L, "processes[%I]", i);
    rm__lua_to_process_ex(L, 2, -2, lua_tostring(L, -1), &dummy,
                          process_keys);
    lua_pop(L, 2);
  }

  /* Pass 2: the arrays, in scratch memory Lua owns. */
  procs = lua_newuserdatauv(L, (size_t)(np + 1) * sizeof *procs +
                                   (size_t)(nf + ns + 2 * np + 2) *
                                       sizeof(char *), 0);
  files = (const char **)(void *)(procs + np + 1);
  services = files + nf;
  cwds = services + ns;
  commands = (const char ***)(void *)(cwds + np + 1);
  get_strings(L, fi, nf, files);
  get_strings(L, si, ns, services);
  trees = lua_newuserdatauv(L, (size_t)(nt + 1) * sizeof(char *), 0);
  get_strings(L, ti, nt, trees);
  /* Pass 3: the first culprit, named (lcheck.c), before the core runs. */
  for (i = 1; i <= nf; i++) {
    size_t len;
    int n;
    lua_rawgeti(L, fi, i);
    (void)lua_tolstring(L, -1, &len);
    lua_pushfstring(L, "files[%I]", i);
    n = rm__lua_check_path(L, "register", lua_tostring(L, -1), files[i - 1],
                           len, 1);
    if (n) return n;
    lua_pop(L, 2);
  }
  for (i = 1; i <= nt; i++) {
    size_t len;
    int n;
    lua_rawgeti(L, ti, i);
    (void)lua_tolstring(L, -1, &len);
    lua_pushfstring(L, "trees[%I]", i);
    n = rm__lua_check_path(L, "register", lua_tostring(L, -1), trees[i - 1],
                           len, 0);
    if (n) return n;
    lua_pop(L, 2);
  }
  for (i = 1; i <= ns; i++) {
    size_t len;
    int n;
    lua_rawgeti(L, si, i);
    (void)lua_tolstring(L, -1, &len);
    lua_pushfstring(L, "services[%I]", i);
    n = rm__lua_check_service(L, "register", lua_tostring(L, -1),
                              services[i - 1], len);
    if (n) return n;
    lua_pop(L, 2);
  }
  for (i = 1; i <= np; i++) {
    int n;
    lua_rawgeti(L, pi, i);
    luaL_checkstack(L, 4, NULL);
    bad |= process_restart(L, -1, i, &commands[i - 1], &cwds[i - 1]);
    if (commands[i - 1]) lua_insert(L, -2);   /* keep it below the entry */
    lua_pushfstring(L, "register: processes[%I]", i);
    if (rm__lua_to_process_ex(L, 2, -2, "processes", &procs[i - 1],
                              process_keys) &&
        (n = rm__lua_lookup_process(L, &procs[i - 1],
                                    lua_tostring(L, -1))) != 0)
      return n;
    lua_pop(L, 2);
  }
  if (bad) return rm__lua_fail(L, RM_ERROR_BAD_ARGUMENTS, "register");

  /* Restart commands first: a refused one registers nothing more. */
  for (i = 0; i < np; i++) {
    if (!commands[i]) continue;
    rc = rm_register_process_restart(&procs[i], commands[i], cwds[i], 0);
    if (rc != RM_OK) {
      lua_pushfstring(L, "register: restart of process %I",
                      (lua_Integer)procs[i].pid);
      return rm__lua_fail(L, rc, lua_tostring(L, -1));
    }
  }

  rc = rm_register_resources(s->handle, (unsigned)nf, files, (unsigned)np,
                             procs, (unsigned)ns, services);
  if (rc == RM_OK && nt > 0)
    rc = rm_register_trees(s->handle, (unsigned)nt, trees, NULL);
  return rm__lua_result(L, rc, "register");
}

/* }=====
 * {===== s:list */

static const char *type_name(rm_app_type t) {
  switch (t) {
  case RM_APP_MAIN_WINDOW: return "main_window";
  case RM_APP_OTHER_WINDOW: return "other_window";
  case RM_APP_SERVICE: return "service";
  case RM_APP_EXPLORER: return "explorer";
  case RM_APP_CONSOLE: return "console";
  case RM_APP_CRITICAL: return "critical";
  default: return "unknown";
  }
}

/* Why a listed process is not restartable (docs/linux.md, "Relaunch
 * context"). */
static const rm__lua_bit_name confinement_names[] = {
  {RM_NOT_RESTARTABLE_SECCOMP, "seccomp"},
  {RM_NOT_RESTARTABLE_LSM_LABEL, "lsm_label"},
  {0, NULL}
};

static const rm__lua_bit_name use_names[] = {
  {RM_USE_OPEN_FILE, "open_file"},
  {RM_USE_MAPPING, "mapping"},
  {RM_USE_EXECUTABLE, "executable"},
  {RM_USE_OLDER_INODE, "older_inode"},
  {0, NULL}
};

/* The RM_TRAIT_* bits as the set app.traits shows them. */
static const rm__lua_bit_name trait_names[] = {
  {RM_TRAIT_TERMINAL_HOST, "terminal_host"},
  {RM_TRAIT_OWN_MOUNT_NS, "own_mount_ns"},
  {RM_TRAIT_LEADER_EXITED, "leader_exited"},
  {RM_TRAIT_SELF, "self"},
  {0, NULL}
};

/* Pushes one entry of the apps array. */
void rm__lua_push_app(lua_State *L, const rm_app_info *a) {
  const rm_process_info *p = &a->info;
  unsigned k;
  lua_createtable(L, 0, 11);
  lua_pushinteger(L, (lua_Integer)p->process.pid);
  lua_setfield(L, -2, "pid");
  lua_pushinteger(L, (lua_Integer)p->process.start_time);
  lua_setfield(L, -2, "start_time");
  lua_pushstring(L, p->app_name);
  lua_setfield(L, -2, "name");
  if (p->service_short_name[0]) {
    lua_pushstring(L, p->service_short_name);
    lua_setfield(L, -2, "service");
  }
  lua_pushstring(L, type_name(p->app_type));
  lua_setfield(L, -2, "type");
  rm__lua_push_set(L, p->app_status, rm__lua_status_names);
  lua_setfield(L, -2, "status");
  if (p->session_id != RM_INVALID_SESSION_ID) {
    lua_pushinteger(L, (lua_Integer)p->session_id);
    lua_setfield(L, -2, "session_id");
  }
  lua_pushboolean(L, p->restartable);
  lua_setfield(L, -2, "restartable");
  rm__lua_push_set(L, a->reasons, rm__lua_reboot_names);
  lua_setfield(L, -2, "reasons");
  rm__lua_push_set(L, a->traits, trait_names);
  lua_setfield(L, -2, "traits");
  if (a->not_restartable) {
    rm__lua_push_set(L, a->not_restartable, confinement_names);
    lua_setfield(L, -2, "not_restartable");
  }
  luaL_setmetatable(L, RM_LUA_APP);                /* readable in a REPL */
  if (a->restart.failure || a->restart.notes || a->restart.error) {
    rm__lua_push_outcome(L, &a->restart);
    lua_setfield(L, -2, "restart");
  }
  lua_createtable(L, (int)a->n_files, 0);          /* app, files */
  for (k = 0; k < a->n_files; k++) {
    lua_createtable(L, 0, 2);
    lua_pushstring(L, a->files[k].file);
    lua_setfield(L, -2, "path");
    rm__lua_push_set(L, a->files[k].how, use_names);
    lua_setfield(L, -2, "how");
    lua_rawseti(L, -2, (lua_Integer)k + 1);
  }
  lua_setfield(L, -2, "files");
}

/* What build_list gets through a light userdata. */
typedef struct list_result {
  const rm_app_info *apps;
  unsigned n;
  uint32_t reasons;
} list_result;

/* Runs under lua_pcall: pushes apps, reboot. */
static int build_list(lua_State *L) {
  const list_result *r = lua_touserdata(L, 1);
  unsigned i;
  lua_createtable(L, (int)r->n, 0);
  for (i = 0; i < r->n; i++) {
    rm__lua_push_app(L, &r->apps[i]);
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
  rm__lua_push_set(L, r->reasons, rm__lua_reboot_names);
  return 2;
}

/* s:list() -> apps, reboot | fail, msg, code */
int rm__lua_list(lua_State *L) {
  rm__lua_session *s = rm__lua_check(L, 1);
  list_result r;
  rm_app_info *apps = NULL;
  int status;
  uint32_t rc;

  luaL_checkstack(L, 4, NULL);
  rc = rm_get_list_alloc(s->handle, &apps, &r.n, &r.reasons);
  if (rc == RM_ERROR_ACCESS_DENIED)          /* the one cause on Linux */
    return rm__lua_fail(L, rc, "list: a registered path is a directory");
  if (rc != RM_OK) return rm__lua_fail(L, rc, "list");
  r.apps = apps;
  lua_pushcfunction(L, build_list);                /* allocates nothing */
  lua_pushlightuserdata(L, &r);
  status = lua_pcall(L, 1, 2, 0);
  rm_free_list(apps, r.n);
  if (status != LUA_OK) return lua_error(L);
  return 2;
}

/* rm.stale() -> apps, reboot, uninspected | fail, msg, code: the
 * processes that map or run deleted files (rm_get_stale_list); each
 * app's files are those files, path being the escaped text shown. */
int rm__lua_stale(lua_State *L) {
  list_result r;
  rm_app_info *apps = NULL;
  unsigned uninspected = 0;
  int status;
  uint32_t rc;
  luaL_checkstack(L, 5, NULL);
  rc = rm_get_stale_list(&apps, &r.n, &r.reasons, &uninspected);
  if (rc != RM_OK) return rm__lua_fail(L, rc, "stale");
  r.apps = apps;
  lua_pushcfunction(L, build_list);
  lua_pushlightuserdata(L, &r);
  status = lua_pcall(L, 1, 2, 0);
  rm_free_list(apps, r.n);
  if (status != LUA_OK) return lua_error(L);
  lua_pushinteger(L, (lua_Integer)uninspected);
  return 3;
}

/* }===== */
