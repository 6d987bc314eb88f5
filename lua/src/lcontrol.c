/* SPDX-License-Identifier: MIT */
/*
 * lcontrol.c: s:shutdown{}, s:restart{}, s:cancel() and the filters.
 *
 * Progress callbacks (the luaexpat pattern; docs/lua.md, Progress): the core
 * calls rm__lua_progress_thunk on this thread with a context that lives on
 * this C stack and holds the lua_State of the current call (never one saved
 * in the session).  The thunk runs the Lua function under lua_pcall.  If
 * it raises, the error object goes into a reserved stack slot and the
 * task is cancelled; once the core has returned, the object is raised
 * again, unchanged.  Nothing ever longjmps through the core's frames.
 * While the core runs, the session is marked busy so that the callback
 * cannot re-enter it (s:cancel() excepted).
 */
#include "lrestartmgr.h"

#include <math.h>
#include <string.h>

/* {===== Option keys (rm.options shows them) */

const char *const rm__lua_shutdown_keys[] = {"force", "only_registered",
                                             "services_in_place", "timeout",
                                             "progress", NULL};
const char *const rm__lua_restart_keys[] = {"progress", NULL};
const char *const rm__lua_add_filter_keys[] = {"file", "process", "service",
                                               "action", NULL};
const char *const rm__lua_remove_filter_keys[] = {"file", "process",
                                                  "service", NULL};

/* }=====
 * {===== Progress callbacks */

/* Called by the core.  The stack has room (checked before the core call),
 * and pushing a value or an integer allocates nothing, so nothing here
 * can raise outside lua_pcall. */
void rm__lua_progress_thunk(unsigned percent, void *context) {
  rm__lua_progress *c = context;
  lua_State *L = c->L;
  if (c->raised || c->stopped) return;             /* already cancelling */
  lua_pushvalue(L, c->fn);
  lua_pushinteger(L, (lua_Integer)percent);
  if (lua_pcall(L, 1, 1, 0) != LUA_OK) {
    lua_replace(L, c->err);                        /* keep it unchanged */
    c->raised = 1;
    (void)rm_cancel_current_task(c->handle);
    return;
  }
  if (lua_type(L, -1) == LUA_TBOOLEAN && !lua_toboolean(L, -1)) {
    c->stopped = 1;
    (void)rm_cancel_current_task(c->handle);
  }
  lua_pop(L, 1);
}

/* Reads the optional progress field of the options at arg (nil or a
 * table) and sets up the context: the callable and an error slot are
 * pushed on the stack. */
void rm__lua_progress_setup(lua_State *L, int arg, rm__lua_session *s,
                            rm__lua_progress *c) {
  memset(c, 0, sizeof *c);
  c->L = L;
  c->handle = s->handle;
  if (!lua_isnoneornil(L, arg) && rm__lua_opt_callable(L, arg, "progress"))
    c->fn = lua_gettop(L);
  lua_pushnil(L);
  c->err = lua_gettop(L);
  luaL_checkstack(L, 8, NULL);                     /* room for the thunk */
}

/* After the core returned: re-raise a callback's error, else report. */
int rm__lua_progress_finish(lua_State *L, rm__lua_progress *c, uint32_t rc,
                            const char *what) {
  if (c->raised) {
    lua_pushvalue(L, c->err);
    return lua_error(L);
  }
  return rm__lua_result(L, rc, what);
}

/* Checks the options argument: absent, nil, or a table of allowed keys. */
static void check_opts(lua_State *L, int arg, const char *const keys[]) {
  if (!lua_isnoneornil(L, arg)) rm__lua_check_keys(L, arg, arg, keys, NULL);
}

/* }=====
 * {===== Shutdown, restart, cancel */

/* The timeout option in ms: seconds, positive, at most about 49 days. */
uint32_t rm__lua_timeout_ms(lua_State *L, int arg, lua_Number seconds) {
  lua_Number ms = ceil(seconds * 1000);
  if (!(seconds > 0) || !(ms < (lua_Number)UINT32_MAX))
    luaL_argerror(L, arg, "field 'timeout' must be a positive number of "
                          "seconds below 4294967");
  return (uint32_t)ms;
}

/* s:shutdown{ force =, only_registered =, services_in_place =, timeout =,
 *             progress = } -> true | fail, msg, code */
int rm__lua_shutdown(lua_State *L) {
  rm__lua_session *s = rm__lua_check(L, 1);
  int force = 0, only_registered = 0, in_place = 0, has_timeout = 0;
  lua_Number seconds = 0;
  uint32_t flags = 0, ms = 0, rc;
  rm__lua_progress c;

  check_opts(L, 2, rm__lua_shutdown_keys);
  if (!lua_isnoneornil(L, 2)) {
    rm__lua_opt_boolean(L, 2, "force", &force);
    rm__lua_opt_boolean(L, 2, "only_registered", &only_registered);
    rm__lua_opt_boolean(L, 2, "services_in_place", &in_place);
    has_timeout = rm__lua_opt_number(L, 2, "timeout", &seconds);
    if (has_timeout) ms = rm__lua_timeout_ms(L, 2, seconds);
  }
  rm__lua_progress_setup(L, 2, s, &c);
  if (force) flags |= RM_FORCE_SHUTDOWN;
  if (only_registered) flags |= RM_SHUTDOWN_ONLY_REGISTERED;
  if (in_place) flags |= RM_SHUTDOWN_SERVICES_IN_PLACE;

  /* Nothing below raises until the core has returned. */
  if (has_timeout) (void)rm_set_timeouts(s->handle, ms, ms);
  s->busy = 1;
  rc = rm_shutdown(s->handle, flags, c.fn ? rm__lua_progress_thunk : NULL, &c);
  s->busy = 0;
  if (has_timeout) (void)rm_set_timeouts(s->handle, 0, 0);
  return rm__lua_progress_finish(L, &c, rc, "shutdown");
}

/* s:restart{ progress = } -> true | fail, msg, code (, failures when some
 * restarts failed: see lrestart.c) */
int rm__lua_restart(lua_State *L) {
  rm__lua_session *s = rm__lua_check(L, 1);
  rm__lua_progress c;
  uint32_t rc;
  check_opts(L, 2, rm__lua_restart_keys);
  rm__lua_progress_setup(L, 2, s, &c);
  s->busy = 1;
  rc = rm_restart(s->handle, 0, c.fn ? rm__lua_progress_thunk : NULL, &c);
  s->busy = 0;
  if (rc == RM_ERROR_FAIL_RESTART && !c.raised)
    return rm__lua_restart_failed(L, s->handle, rc);
  return rm__lua_progress_finish(L, &c, rc, "restart");
}

/* s:cancel() -> true | fail, msg, code.  Allowed inside the session's own
 * progress callback: that is where it is most useful. */
int rm__lua_cancel(lua_State *L) {
  rm__lua_session *s = rm__lua_check_open(L, 1);
  return rm__lua_result(L, rm_cancel_current_task(s->handle), "cancel");
}

/* }=====
 * {===== Filters */

/* A filter target as read from an options table. */
typedef struct target {
  const char *file, *service;
  size_t file_len, service_len;
  rm_unique_process process;
  int has_process, lookup;
} target;

/* Reads exactly one of file =, process =, service = from the options. */
static void read_target(lua_State *L, int arg, target *t) {
  int n;
  memset(t, 0, sizeof *t);
  n = rm__lua_opt_string(L, arg, "file", &t->file, &t->file_len);
  n += rm__lua_opt_string(L, arg, "service", &t->service, &t->service_len);
  if (lua_getfield(L, arg, "process") != LUA_TNIL) {
    t->lookup = rm__lua_to_process(L, arg, -1, "process",
                                   &t->process);
    t->has_process = 1;
    n++;
  }
  lua_pop(L, 1);
  if (n != 1)
    luaL_argerror(L, arg, "exactly one of 'file', 'process' or 'service' "
                          "expected");
}

/* Names a bad file or service name (lcheck.c) and resolves a bare pid.
 * Returns the number of results pushed on failure, else 0. */
static int resolve_target(lua_State *L, target *t, const char *what) {
  if (t->file) return rm__lua_check_path(L, what, "file", t->file,
                                         t->file_len, 0);
  if (t->service) return rm__lua_check_service(L, what, "service", t->service,
                                               t->service_len);
  if (t->lookup)
    return rm__lua_lookup_process(L, &t->process,
                                  lua_pushfstring(L, "%s: process", what));
  return 0;
}

/* s:add_filter{ file = | process = | service =, action = }
 *   -> true | fail, msg, code */
int rm__lua_add_filter(lua_State *L) {
  rm__lua_session *s = rm__lua_check(L, 1);
  const char *action = NULL;
  size_t len;
  rm_filter_action a;
  target t;
  int n;

  rm__lua_check_keys(L, 2, 2, rm__lua_add_filter_keys, NULL);
  read_target(L, 2, &t);
  if (!rm__lua_opt_string(L, 2, "action", &action, &len))
    luaL_argerror(L, 2, "string expected for field 'action', got nil");
  if (strcmp(action, "no_restart") == 0 && len == 10)
    a = RM_NO_RESTART;
  else if (strcmp(action, "no_shutdown") == 0 && len == 11)
    a = RM_NO_SHUTDOWN;
  else
    return luaL_argerror(L, 2,
                         lua_pushfstring(L, "invalid action '%s' (expected "
                                            "'no_restart' or 'no_shutdown')",
                                         action));
  if ((n = resolve_target(L, &t, "add_filter")) != 0) return n;
  return rm__lua_result(L,
                        rm_add_filter(s->handle, t.file,
                                      t.has_process ? &t.process : NULL,
                                      t.service, a),
                        "add_filter");
}

/* s:remove_filter{ file = | process = | service = }
 *   -> true | fail, msg, code */
int rm__lua_remove_filter(lua_State *L) {
  rm__lua_session *s = rm__lua_check(L, 1);
  target t;
  int n;
  rm__lua_check_keys(L, 2, 2, rm__lua_remove_filter_keys, NULL);
  read_target(L, 2, &t);
  if ((n = resolve_target(L, &t, "remove_filter")) != 0) return n;
  return rm__lua_result(L,
                        rm_remove_filter(s->handle, t.file,
                                         t.has_process ? &t.process : NULL,
                                         t.service),
                        "remove_filter");
}

/* Pushes { action =, file = | process = | service = } for one record. */
static void push_filter(lua_State *L, const rm_filter_info *f) {
  lua_createtable(L, 0, 2);
  luaL_setmetatable(L, RM_LUA_FILTER);             /* readable in a REPL */
  lua_pushstring(L, f->action == RM_NO_RESTART    ? "no_restart"
                    : f->action == RM_NO_SHUTDOWN ? "no_shutdown"
                                                  : "invalid");
  lua_setfield(L, -2, "action");
  switch (f->trigger) {
  case RM_FILTER_TRIGGER_FILE:
    lua_pushstring(L, f->u.file_name);
    lua_setfield(L, -2, "file");
    break;
  case RM_FILTER_TRIGGER_PROCESS:
    rm__lua_push_process(L, &f->u.process);
    lua_setfield(L, -2, "process");
    break;
  case RM_FILTER_TRIGGER_SERVICE:
    lua_pushstring(L, f->u.service_short_name);
    lua_setfield(L, -2, "service");
    break;
  default:
    break;
  }
}

/* s:filters() -> { { action =, file = | process = | service = }, ... }
 *   | fail, msg, code.  The buffer is a userdata: Lua's memory is aligned
 * for any C type, as rm_get_filter_list needs. */
int rm__lua_filters(lua_State *L) {
  rm__lua_session *s = rm__lua_check(L, 1);
  unsigned char *buf = NULL;
  uint32_t size = 0, need = 0, rc;
  lua_Integer i = 0;
  int tries, base = lua_gettop(L);

  for (tries = 0;; tries++) {
    rc = rm_get_filter_list(s->handle, buf, size, &need);
    /* Filters can be added between two calls; try again a few times. */
    if (rc != RM_ERROR_MORE_DATA || tries == 16) break;
    lua_settop(L, base);
    buf = lua_newuserdatauv(L, need, 0);
    size = need;
  }
  if (rc != RM_OK) return rm__lua_fail(L, rc, "filters");
  lua_newtable(L);
  if (need > 0) {
    size_t at = 0;
    for (;;) {
      rm_filter_info f;
      memcpy(&f, buf + at, sizeof f);
      push_filter(L, &f);
      lua_rawseti(L, -2, ++i);
      if (f.next_offset == 0) break;
      at += f.next_offset;
    }
  }
  return 1;
}

/* }===== */
