/* SPDX-License-Identifier: MIT */
/*
 * ltx.c: the upgrade transaction in Lua (docs/transaction.md, docs/lua.md).
 *
 *   local tx <close> = assert(s:transaction())
 *   assert(tx:replace("/opt/app/bin/app", "/tmp/release/bin/app"))
 *   assert(tx:tree("/opt/app/share", "/tmp/release/share",
 *                  { remove_missing = true }))
 *   local ok, msg, code, report = tx:commit{ timeout = 20 }
 *
 * The transaction object follows liolib's file handles: a full userdata
 * created closed and opened only once the core returned a transaction,
 * one idempotent release for __close, __gc and tx:close() (which rolls
 * back what was staged and not committed), options read whole before
 * anything is allocated.  It keeps its session alive (a user value) and
 * marks the session busy while a commit runs, so the commit's progress
 * callback cannot re-enter it (s:cancel() excepted: that cancels the
 * commit, which then puts every file back).
 */
#include "lrestartmgr.h"

#include <string.h>

typedef struct rm__lua_tx {
  rm_tx *tx;                         /* NULL: closed */
  int busy;                          /* a commit runs */
  int committed;
} rm__lua_tx;

const char *const rm__lua_transaction_keys[] = {"dry_run", NULL};
const char *const rm__lua_stage_keys[] = {"metadata_from_source", NULL};
const char *const rm__lua_tree_keys[] = {"remove_missing",
                                         "metadata_from_source", NULL};
const char *const rm__lua_commit_keys[] = {"force", "only_registered",
                                           "allow_reboot", "timeout",
                                           "progress", NULL};

static rm__lua_tx *check_tx(lua_State *L) {
  rm__lua_tx *t = luaL_checkudata(L, 1, RM_LUA_TX);
  if (!t->tx) luaL_error(L, "attempt to use a closed transaction");
  if (t->busy) luaL_error(L, "attempt to use a transaction from its own "
                             "commit's progress callback");
  return t;
}

/* Pushes fail, "what: <the transaction's message>", "ERROR_NAME". */
static int tx_fail(lua_State *L, rm__lua_tx *t, uint32_t rc,
                   const char *what) {
  const char *m = rm_tx_message(t->tx);
  if (!*m) return rm__lua_fail(L, rc, what);
  luaL_pushfail(L);
  lua_pushfstring(L, "%s: %s", what, m);
  lua_pushstring(L, rm_error_name(rc));
  return 3;
}

/* {===== s:transaction, staging */

/* s:transaction{ dry_run = } -> tx | fail, msg, code */
int rm__lua_transaction(lua_State *L) {
  rm__lua_session *s = rm__lua_check(L, 1);
  rm__lua_tx *t;
  int dry = 0;
  uint32_t rc;
  if (!lua_isnoneornil(L, 2)) {
    rm__lua_check_keys(L, 2, 2, rm__lua_transaction_keys, NULL);
    rm__lua_opt_boolean(L, 2, "dry_run", &dry);
  }
  t = lua_newuserdatauv(L, sizeof *t, 1);           /* created closed */
  memset(t, 0, sizeof *t);
  luaL_setmetatable(L, RM_LUA_TX);
  lua_pushvalue(L, 1);
  lua_setiuservalue(L, -2, 1);                      /* keeps s alive */
  rc = rm_tx_begin(s->handle, dry ? RM_TX_DRY_RUN : 0, &t->tx);
  if (rc != RM_OK) {
    t->tx = NULL;
    return rm__lua_fail(L, rc, "transaction");
  }
  return 1;
}

static uint32_t stage_flags(lua_State *L, int arg, const char *const keys[]) {
  int from_source = 0, remove_missing = 0;
  uint32_t flags = 0;
  if (lua_isnoneornil(L, arg)) return 0;
  rm__lua_check_keys(L, arg, arg, keys, NULL);
  rm__lua_opt_boolean(L, arg, "metadata_from_source", &from_source);
  if (keys == rm__lua_tree_keys)
    rm__lua_opt_boolean(L, arg, "remove_missing", &remove_missing);
  if (from_source) flags |= RM_TX_METADATA_FROM_SOURCE;
  if (remove_missing) flags |= RM_TX_REMOVE_MISSING;
  return flags;
}

/* A path argument: a string without zero bytes (the core checks the
 * rest and names it). */
static const char *path_arg(lua_State *L, int arg) {
  size_t len;
  const char *p = luaL_checklstring(L, arg, &len);
  if (strlen(p) != len) luaL_argerror(L, arg, "path contains a zero byte");
  return p;
}

/* tx:replace(target, source [, { metadata_from_source = }])
 *   -> true | fail, msg, code */
static int tx_replace(lua_State *L) {
  rm__lua_tx *t = check_tx(L);
  const char *target = path_arg(L, 2), *source = path_arg(L, 3);
  uint32_t flags = stage_flags(L, 4, rm__lua_stage_keys);
  uint32_t rc = rm_tx_replace(t->tx, target, source, flags);
  return rc == RM_OK ? (lua_pushboolean(L, 1), 1)
                     : tx_fail(L, t, rc, "replace");
}

/* tx:write(target, content [, { metadata_from_source = }]): a replacement
 * from a string -> true | fail, msg, code */
static int tx_write(lua_State *L) {
  rm__lua_tx *t = check_tx(L);
  const char *target = path_arg(L, 2);
  size_t len;
  const char *data = luaL_checklstring(L, 3, &len);
  uint32_t flags = stage_flags(L, 4, rm__lua_stage_keys);
  uint32_t rc = rm_tx_replace_data(t->tx, target, data, len, flags);
  return rc == RM_OK ? (lua_pushboolean(L, 1), 1)
                     : tx_fail(L, t, rc, "write");
}

/* tx:add(target, source [, { metadata_from_source = }]) */
static int tx_add(lua_State *L) {
  rm__lua_tx *t = check_tx(L);
  const char *target = path_arg(L, 2), *source = path_arg(L, 3);
  uint32_t flags = stage_flags(L, 4, rm__lua_stage_keys);
  uint32_t rc = rm_tx_add(t->tx, target, source, flags);
  return rc == RM_OK ? (lua_pushboolean(L, 1), 1) : tx_fail(L, t, rc, "add");
}

/* tx:remove(target) */
static int tx_remove(lua_State *L) {
  rm__lua_tx *t = check_tx(L);
  uint32_t rc = rm_tx_remove(t->tx, path_arg(L, 2));
  return rc == RM_OK ? (lua_pushboolean(L, 1), 1)
                     : tx_fail(L, t, rc, "remove");
}

/* tx:tree(dest, src [, { remove_missing =, metadata_from_source = }])
 *   -> number of entries staged | fail, msg, code */
static int tx_tree(lua_State *L) {
  rm__lua_tx *t = check_tx(L);
  const char *dest = path_arg(L, 2), *src = path_arg(L, 3);
  uint32_t flags = stage_flags(L, 4, rm__lua_tree_keys);
  unsigned staged = 0;
  uint32_t rc = rm_tx_tree(t->tx, dest, src, flags, &staged);
  if (rc != RM_OK) return tx_fail(L, t, rc, "tree");
  lua_pushinteger(L, (lua_Integer)staged);
  return 1;
}

/* }=====
 * {===== Commit and its report */

static const char *const action_names[] = {"?", "replace", "add", "remove"};
static const char *const outcome_names[] = {"staged", "new", "old",
                                            "at_reboot"};

/* { result =, committed =, rolled_back =, message =, reboot = { set },
 *   files = { { target =, action =, outcome =, error = }, ... },
 *   apps = { entries as s:list() shows them } } */
static void push_report(lua_State *L, const rm_tx_report *r) {
  unsigned i;
  lua_createtable(L, 0, 7);
  lua_pushstring(L, rm_error_name(r->result));
  lua_setfield(L, -2, "result");
  lua_pushboolean(L, r->committed);
  lua_setfield(L, -2, "committed");
  lua_pushboolean(L, r->rolled_back);
  lua_setfield(L, -2, "rolled_back");
  lua_pushstring(L, r->message ? r->message : "");
  lua_setfield(L, -2, "message");
  rm__lua_push_set(L, r->reboot_reasons, rm__lua_reboot_names);
  lua_setfield(L, -2, "reboot");
  lua_createtable(L, (int)r->n_files, 0);
  for (i = 0; i < r->n_files; i++) {
    const rm_tx_file *f = &r->files[i];
    lua_createtable(L, 0, 4);
    lua_pushstring(L, f->target);
    lua_setfield(L, -2, "target");
    lua_pushstring(L, action_names[f->action <= 3 ? f->action : 0]);
    lua_setfield(L, -2, "action");
    lua_pushstring(L, outcome_names[f->outcome <= 3 ? f->outcome : 0]);
    lua_setfield(L, -2, "outcome");
    if (f->error) {
      lua_pushinteger(L, f->error);
      lua_setfield(L, -2, "error");
    }
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
  lua_setfield(L, -2, "files");
  lua_createtable(L, (int)r->n_apps, 0);
  for (i = 0; i < r->n_apps; i++) {
    rm__lua_push_app(L, &r->apps[i]);
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
  lua_setfield(L, -2, "apps");
}

/* tx:commit{ force =, only_registered =, allow_reboot =, timeout =,
 *            progress = }
 *   -> true, msg, code, report      (RM_OK or "reboot required")
 *    | fail, msg, code, report */
static int tx_commit(lua_State *L) {
  rm__lua_tx *t = check_tx(L);
  rm__lua_session *s;
  int force = 0, only_registered = 0, allow_reboot = 0;
  lua_Number seconds = 0;
  uint32_t flags = 0, ms = 0, rc;
  rm_tx_report *rep = NULL;
  rm__lua_progress c;

  if (!lua_isnoneornil(L, 2)) {
    rm__lua_check_keys(L, 2, 2, rm__lua_commit_keys, NULL);
    rm__lua_opt_boolean(L, 2, "force", &force);
    rm__lua_opt_boolean(L, 2, "only_registered", &only_registered);
    rm__lua_opt_boolean(L, 2, "allow_reboot", &allow_reboot);
    if (rm__lua_opt_number(L, 2, "timeout", &seconds))
      ms = rm__lua_timeout_ms(L, 2, seconds);
  }
  lua_getiuservalue(L, 1, 1);
  s = rm__lua_check(L, lua_gettop(L));
  rm__lua_progress_setup(L, 2, s, &c);
  if (force) flags |= RM_FORCE_SHUTDOWN;
  if (only_registered) flags |= RM_SHUTDOWN_ONLY_REGISTERED;
  if (allow_reboot) flags |= RM_TX_ALLOW_REBOOT;
  luaL_checkstack(L, 12, NULL);

  /* Nothing below raises until the core has returned. */
  s->busy = t->busy = 1;
  rc = rm_tx_commit(t->tx, flags, ms, c.fn ? rm__lua_progress_thunk : NULL,
                    &c, &rep);
  s->busy = t->busy = 0;
  if (c.raised) {
    rm_tx_free_report(rep);
    return rm__lua_progress_finish(L, &c, rc, "commit");
  }
  if (rc == RM_OK || rc == RM_ERROR_SUCCESS_REBOOT_REQUIRED) {
    lua_pushboolean(L, 1);
    lua_pushstring(L, rm_tx_message(t->tx));
    lua_pushstring(L, rm_error_name(rc));
  } else {
    tx_fail(L, t, rc, "commit");
  }
  if (rep) {
    push_report(L, rep);
    rm_tx_free_report(rep);
  } else {
    lua_pushnil(L);
  }
  return 4;
}

/* tx:rollback() -> true | fail, msg, code */
static int tx_rollback(lua_State *L) {
  rm__lua_tx *t = check_tx(L);
  uint32_t rc = rm_tx_rollback(t->tx);
  return rc == RM_OK ? (lua_pushboolean(L, 1), 1)
                     : tx_fail(L, t, rc, "rollback");
}

/* }=====
 * {===== Closing */

/* The one release: rolls back what is staged and not committed.  Skipped
 * while a commit runs (a <close> variable in the commit's own progress
 * callback); tx:close() does it later. */
static int release(lua_State *L) {
  rm__lua_tx *t = luaL_testudata(L, 1, RM_LUA_TX);
  if (t && t->tx && !t->busy) {
    (void)rm_tx_end(t->tx);
    t->tx = NULL;
  }
  return 0;
}

/* tx:close() -> true | fail, msg, code.  Idempotent. */
static int tx_close(lua_State *L) {
  rm__lua_tx *t = luaL_checkudata(L, 1, RM_LUA_TX);
  uint32_t rc;
  if (!t->tx) {
    lua_pushboolean(L, 1);
    return 1;
  }
  t = check_tx(L);
  rc = rm_tx_end(t->tx);
  t->tx = NULL;
  return rm__lua_result(L, rc, "close");
}

static int tx_tostring(lua_State *L) {
  rm__lua_tx *t = luaL_checkudata(L, 1, RM_LUA_TX);
  lua_pushfstring(L, "%s (%s)", RM_LUA_TX, t->tx ? "open" : "closed");
  return 1;
}

/* }=====
 * {===== rm.recover */

/* rm.recover() -> { { key =, pid =, decision =, files =, removed =,
 *   restarted =, restart_failed =, reboot_cleared =, message = }, ... }
 *   | fail, msg, code, that list */
int rm__lua_recover(lua_State *L) {
  rm_tx_recovered *v = NULL;
  unsigned n = 0, i;
  uint32_t rc;
  luaL_checkstack(L, 8, NULL);
  rc = rm_tx_recover(&v, &n);
  lua_createtable(L, (int)n, 0);
  for (i = 0; i < n; i++) {
    lua_createtable(L, 0, 9);
    lua_pushstring(L, v[i].key);
    lua_setfield(L, -2, "key");
    lua_pushinteger(L, (lua_Integer)v[i].owner.pid);
    lua_setfield(L, -2, "pid");
    lua_pushstring(L, v[i].decision == RM_TX_RECOVERED_COMPLETED
                          ? "completed" : "rolled_back");
    lua_setfield(L, -2, "decision");
    lua_pushinteger(L, (lua_Integer)v[i].n_files);
    lua_setfield(L, -2, "files");
    lua_pushinteger(L, (lua_Integer)v[i].n_removed);
    lua_setfield(L, -2, "removed");
    lua_pushinteger(L, (lua_Integer)v[i].n_restarted);
    lua_setfield(L, -2, "restarted");
    lua_pushinteger(L, (lua_Integer)v[i].n_restart_failed);
    lua_setfield(L, -2, "restart_failed");
    lua_pushinteger(L, (lua_Integer)v[i].n_reboot_cleared);
    lua_setfield(L, -2, "reboot_cleared");
    lua_pushstring(L, v[i].message ? v[i].message : "");
    lua_setfield(L, -2, "message");
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
  rm_tx_free_recovered(v, n);
  if (rc == RM_OK) return 1;
  rm__lua_fail(L, rc, "recover");                 /* list, fail, msg, code */
  lua_rotate(L, -4, -1);                          /* fail, msg, code, list */
  return 4;
}

/* }===== */

static const luaL_Reg tx_methods[] = {
  {"add", tx_add},
  {"close", tx_close},
  {"commit", tx_commit},
  {"remove", tx_remove},
  {"replace", tx_replace},
  {"rollback", tx_rollback},
  {"tree", tx_tree},
  {"write", tx_write},
  {NULL, NULL}
};

static const luaL_Reg tx_metamethods[] = {
  {"__close", release},
  {"__gc", release},
  {"__tostring", tx_tostring},
  {NULL, NULL}
};

void rm__lua_tx_init(lua_State *L) {
  luaL_newmetatable(L, RM_LUA_TX);
  luaL_setfuncs(L, tx_metamethods, 0);
  luaL_newlib(L, tx_methods);
  lua_setfield(L, -2, "__index");
  lua_pop(L, 1);
}
