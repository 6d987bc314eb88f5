/* SPDX-License-Identifier: MIT */
/*
 * shutdown.c: rm_shutdown and rm_cancel_current_task, plus the plan and
 * progress helpers restart.c shares (actions.h).
 *
 * rm_shutdown re-lists first, then decides before it touches anything:
 * any reboot reason stops nothing (RM_ERROR_FAIL_NOACTION_REBOOT), and so
 * does RM_SHUTDOWN_ONLY_REGISTERED with an affected, unmasked entry that
 * cannot be restarted (RM_ERROR_FAIL_SHUTDOWN).  Otherwise it captures how
 * to start each application again, records the RM_NO_SHUTDOWN-masked
 * entries, and stops the rest group by group in the Win32 order: windowed
 * and unknown apps, console apps, services, Explorer.  The apps of one
 * group are stopped together by the backend; services one by one through
 * their manager.  After each group the outcome is written to the session
 * record (acted list), so whatever happens next (a failure, a cancel, a
 * store error) the record says what was stopped and how to restart it.
 *
 * What it acts on: the live entries of the list (found by the scan), and
 * entries of earlier shutdowns that are running again and still affected.
 * Critical entries are never acted on (they come with reboot reasons).
 *
 * Progress counts the entries to stop: 0 once the plan is made and before
 * anything is stopped (so a callback that cancels there stops nothing),
 * one step as each finishes, and 100 when the call has gone through every
 * group (RM_OK or RM_ERROR_FAIL_SHUTDOWN); 0 then 100 when there was
 * nothing to stop.  A call that stops nothing for a reboot reason or
 * ONLY_REGISTERED reports nothing; a cancelled one does not report 100.
 */
#include "actions.h"
#include "native.h"

#include <stdlib.h>
#include <string.h>

enum { GROUP_WINDOW, GROUP_CONSOLE, GROUP_SERVICE, GROUP_EXPLORER, N_GROUPS };

/* {===== Shared with restart.c */

void rm__progress_init(rm__progress *p, rm_status_callback fn, void *ctx,
                       size_t total) {
  p->fn = fn;
  p->ctx = ctx;
  p->total = total;
  p->done = 0;
  p->last = -1;
}

void rm__progress_start(rm__progress *p) {
  p->last = 0;
  if (p->fn) p->fn(0u, p->ctx);
}

void rm__progress_step(rm__progress *p) {
  int percent;
  if (p->done < p->total) p->done++;
  percent = p->total ? (int)(p->done * 100 / p->total) : 100;
  if (percent > p->last) {
    p->last = percent;
    if (p->fn) p->fn((unsigned)percent, p->ctx);
  }
}

void rm__progress_end(rm__progress *p) {
  if (p->last < 100) {
    p->last = 100;
    if (p->fn) p->fn(100u, p->ctx);
  }
}

void rm__targets_free(rm__targets *items) {
  size_t i;
  for (i = 0; i < items->n; i++) rm__launch_free(&items->v[i].launch);
  free(items->v);
  items->v = NULL;
  items->n = 0;
}

void rm__find_service_process(rm__handle *h, rm__target *it) {
  rm__scan_input in;
  rm__found *found = NULL;
  size_t n = 0, i;
  const char *names[1];
  memset(&in, 0, sizeof in);
  names[0] = it->info.service_short_name;
  in.services = names;
  in.n_services = 1;
  in.cancel = &h->cancel;
  if (rm__os_scan(&in, &found, &n) != RM_OK) return;
  for (i = 0; i < n; i++)
    if (strcmp(found[i].info.service_short_name,
               it->info.service_short_name) == 0) {
      it->info.process = found[i].info.process;
      break;
    }
  rm__found_free(found, n);
}

static int same_identity(const rm_unique_process *a,
                         const rm_unique_process *b) {
  return a->pid == b->pid && a->start_time == b->start_time;
}

uint32_t rm__record_items(rm__dir *d, unsigned slot, rm__record *r,
                          void *ctx) {
  const rm__targets *items = ctx;
  size_t i, k;
  r->shutdown_called = 1;
  for (i = 0; i < items->n; i++) {
    const rm__target *it = &items->v[i];
    rm__acted *a = NULL;
    if (!it->touched) continue;
    /* Recorded under its identity before this call, or (a service
     * restarted in place, written again after a later group) under the
     * new one it has taken since. */
    for (k = 0; k < r->n_acted && !a; k++)
      if ((same_identity(&r->acted[k].info.process, &it->was) ||
           same_identity(&r->acted[k].info.process, &it->info.process)) &&
          strcmp(r->acted[k].info.service_short_name,
                 it->info.service_short_name) == 0)
        a = &r->acted[k];
    if (!a) {
      rm__acted *grown = realloc(r->acted, (r->n_acted + 1) * sizeof *grown);
      if (!grown) return RM_ERROR_OUTOFMEMORY;
      r->acted = grown;
      a = &r->acted[r->n_acted++];
      memset(a, 0, sizeof *a);
    }
    a->info = it->info;
    a->order = it->order;
    a->reasons = it->reasons;
    a->through = it->through;
    a->outcome = it->outcome;
    if (it->launch.argv && rm__launch_copy(&it->launch, &a->launch) != RM_OK)
      return RM_ERROR_OUTOFMEMORY;
  }
  return RM_OK;
}

/* }=====
 * {===== Planning */

/* 1 when a list entry is affected now: running and either found by the
 * scan through a file, or a registered process or service. */
static int affected_now(const rm__record *r, const rm__entry *e) {
  size_t i;
  if (!(e->info.app_status & RM_STATUS_RUNNING)) return 0;
  if (!e->acted || e->n_uses > 0) return 1;
  for (i = 0; i < r->n_procs; i++)
    if (same_identity(&r->procs[i], &e->info.process)) return 1;
  if (e->info.service_short_name[0])
    for (i = 0; i < r->services.n; i++)
      if (rm__service_name_eq(r->services.v[i], e->info.service_short_name))
        return 1;
  return 0;
}

static int group_of(rm_app_type type) {
  switch (type) {
  case RM_APP_CONSOLE: return GROUP_CONSOLE;
  case RM_APP_SERVICE: return GROUP_SERVICE;
  case RM_APP_EXPLORER: return GROUP_EXPLORER;
  default: return GROUP_WINDOW;
  }
}

/* Builds the plan from the list: every affected entry, masked or to stop,
 * in shutdown order.  Sets *blocked when ONLY_REGISTERED forbids it. */
static uint32_t make_plan(const rm__record *r, const rm__entry *e, size_t n,
                          uint32_t flags, rm__targets *plan, int *blocked) {
  uint32_t base = 0;
  size_t i, g;
  *blocked = 0;
  plan->v = calloc(n + 1, sizeof *plan->v);
  plan->n = 0;
  if (!plan->v) return RM_ERROR_OUTOFMEMORY;
  for (i = 0; i < r->n_acted; i++)
    if (r->acted[i].order >= base) base = r->acted[i].order + 1;
  for (g = 0; g < N_GROUPS; g++) {
    for (i = 0; i < n; i++) {
      rm__target *it;
      if (e[i].info.app_type == RM_APP_CRITICAL || !affected_now(r, &e[i]) ||
          group_of(e[i].info.app_type) != (int)g)
        continue;
      it = &plan->v[plan->n++];
      it->info = e[i].info;
      it->was = e[i].info.process;
      it->reasons = e[i].reasons;
      it->group = (int)g;
      it->order = base++;
      it->through = e[i].through;
      it->info.app_status &= ~RM__CYCLE_BITS;
      if (e[i].filter == RM_NO_SHUTDOWN) {
        it->info.app_status |= RM_STATUS_SHUTDOWN_MASKED;
        it->touched = 1;
        continue;
      }
      it->stop = 1;
      if (e[i].filter == RM_NO_RESTART)
        it->info.app_status |= RM_STATUS_RESTART_MASKED;
      if ((flags & RM_SHUTDOWN_ONLY_REGISTERED) && !it->info.restartable)
        *blocked = 1;
    }
  }
  return RM_OK;
}

/* Captures how to start each application to stop again, before anything
 * is stopped: its registered restart command if it has one, else what it
 * runs.  Workers are not captured: their master brings them back.  A
 * capture that fails leaves the launch empty: the entry is still stopped,
 * and rm_restart reports it as ERROR_ON_RESTART (not_captured). */
static void capture_all(rm__targets *plan) {
  rm__restart_reg *regs = NULL;
  size_t i, n_regs = 0;
  if (rm__restarts_load(&regs, &n_regs) != RM_OK) n_regs = 0;
  for (i = 0; i < plan->n; i++) {
    rm__target *it = &plan->v[i];
    if (it->stop && it->group != GROUP_SERVICE && it->info.restartable &&
        !it->through.pid &&
        !(it->info.app_status & RM_STATUS_RESTART_MASKED))
      rm__os_capture(&it->info.process,
                     rm__restart_find(regs, n_regs, &it->info.process),
                     &it->launch);
  }
  rm__restarts_free(regs, n_regs);
}

/* }=====
 * {===== Stopping */

typedef struct run {
  rm__handle *h;
  rm__targets *plan;
  rm__progress progress;
  uint32_t flags;
  int failed;                  /* an entry ended with ERROR_ON_STOP */
} run;

static void set_result(run *x, rm__target *it, uint32_t result) {
  it->touched = 1;
  if (result == RM_STATUS_ERROR_ON_STOP) {
    it->info.app_status |= RM_STATUS_ERROR_ON_STOP;
    x->failed = 1;
  } else {
    it->info.app_status &= ~RM_STATUS_RUNNING;
    it->info.app_status |= result;
  }
}

typedef struct group_ctx {
  run *x;
  rm__stop *stops;
  size_t *index;               /* stops[k] is plan item index[k] */
} group_ctx;

static void app_done(void *vctx, size_t k) {
  group_ctx *g = vctx;
  set_result(g->x, &g->x->plan->v[g->index[k]], g->stops[k].result);
  rm__progress_step(&g->x->progress);
}

/* Stops the apps of one group together. */
static uint32_t stop_apps(run *x, int group) {
  rm__targets *plan = x->plan;
  group_ctx g;
  size_t i, n = 0;
  uint32_t rc;
  g.x = x;
  g.stops = calloc(plan->n + 1, sizeof *g.stops);
  g.index = calloc(plan->n + 1, sizeof *g.index);
  if (!g.stops || !g.index) {
    free(g.stops);
    free(g.index);
    return RM_ERROR_OUTOFMEMORY;
  }
  for (i = 0; i < plan->n; i++) {
    if (!plan->v[i].stop || plan->v[i].group != group) continue;
    g.stops[n].process = plan->v[i].info.process;
    g.stops[n].console = group == GROUP_CONSOLE;
    g.index[n++] = i;
  }
  rc = rm__os_stop_apps(g.stops, n, rm__app_timeout(x->h),
                        (x->flags & RM_FORCE_SHUTDOWN) != 0, &x->h->cancel,
                        app_done, &g);
  if (rc == RM_ERROR_CANCELLED) {
    /* What finished was reported through app_done; the rest were asked
     * to stop and had not when the cancel came. */
    for (i = 0; i < n; i++)
      if (!plan->v[g.index[i]].touched &&
          g.stops[i].result == RM_STATUS_ERROR_ON_STOP)
        set_result(x, &plan->v[g.index[i]], RM_STATUS_ERROR_ON_STOP);
  }
  free(g.stops);
  free(g.index);
  return rc;
}

/* RM_SHUTDOWN_SERVICES_IN_PLACE: every service to stop that is not
 * RESTART_MASKED is restarted in place, all of them in one backend call.
 * Back: STOPPED | RESTARTED with the new main process.  Gone but not back:
 * STOPPED, so rm_restart tries its start once more.  Not gone:
 * ERROR_ON_STOP.  Handled items stop being "to stop" (the loop of
 * stop_services takes the rest). */
static uint32_t restart_services_in_place(run *x) {
  rm__targets *plan = x->plan;
  rm__svc_restart *v = calloc(plan->n + 1, sizeof *v);
  size_t *index = calloc(plan->n + 1, sizeof *index);
  size_t i, n = 0;
  int cancelled = 0;
  if (!v || !index) {
    free(v);
    free(index);
    return RM_ERROR_OUTOFMEMORY;
  }
  for (i = 0; i < plan->n; i++) {
    rm__target *it = &plan->v[i];
    if (!it->stop || it->group != GROUP_SERVICE ||
        (it->info.app_status & RM_STATUS_RESTART_MASKED) ||
        !rm__os_alive(&it->info.process))
      continue;
    v[n].name = it->info.service_short_name;
    index[n++] = i;
  }
  if (n > 0)
    rm__os_services_restart(v, n, rm__service_timeout(x->h), &x->h->cancel);
  for (i = 0; i < n; i++) {
    rm__target *it = &plan->v[index[i]];
    if (v[i].result == RM_ERROR_CANCELLED) {
      cancelled = 1;
      continue;
    }
    it->stop = 0;
    if (v[i].result == RM_ERROR_FAIL_SHUTDOWN) {
      set_result(x, it, RM_STATUS_ERROR_ON_STOP);
    } else {
      set_result(x, it, RM_STATUS_STOPPED);
      if (v[i].result == RM_OK) {
        it->info.app_status |= RM_STATUS_RESTARTED | RM_STATUS_RUNNING;
        memset(&it->outcome, 0, sizeof it->outcome);
        if (v[i].now.pid) it->info.process = v[i].now;
        else rm__find_service_process(x->h, it);
      }
    }
    rm__progress_step(&x->progress);
  }
  free(v);
  free(index);
  if (cancelled) return RM_ERROR_CANCELLED;
  return n > 0 ? rm__update(x->h, rm__record_items, x->plan) : RM_OK;
}

/* Stops the services at once through their managers (which run the jobs
 * concurrently: n services take about the slowest one's time).  A
 * service whose process is already gone stopped by itself
 * (STOPPED_OTHER).  Every result is recorded, also when one stop was
 * cancelled. */
static uint32_t stop_services(run *x) {
  size_t i, n = 0, k;
  const char **names;
  size_t *which;
  uint32_t *rcs, rc = RM_OK;
  if (x->flags & RM_SHUTDOWN_SERVICES_IN_PLACE) {
    rc = restart_services_in_place(x);
    if (rc != RM_OK) return rc;
  }
  names = calloc(x->plan->n + 1, sizeof *names);
  which = calloc(x->plan->n + 1, sizeof *which);
  rcs = calloc(x->plan->n + 1, sizeof *rcs);
  if (!names || !which || !rcs) {
    free(names);
    free(which);
    free(rcs);
    return RM_ERROR_OUTOFMEMORY;
  }
  for (i = 0; i < x->plan->n; i++) {
    rm__target *it = &x->plan->v[i];
    if (!it->stop || it->group != GROUP_SERVICE) continue;
    if (!rm__os_alive(&it->info.process)) {
      set_result(x, it, RM_STATUS_STOPPED_OTHER);
      rm__progress_step(&x->progress);
      continue;
    }
    names[n] = it->info.service_short_name;
    which[n++] = i;
  }
  if (n && x->h->cancel) rc = RM_ERROR_CANCELLED;
  if (n && rc == RM_OK)
    rm__os_service_stop_all(names, n, rm__service_timeout(x->h),
                            (x->flags & RM_FORCE_SHUTDOWN) != 0,
                            &x->h->cancel, rcs);
  for (k = 0; k < n; k++) {
    if (rcs[k] == RM_ERROR_CANCELLED) {     /* interrupted: as it was */
      rc = RM_ERROR_CANCELLED;
      continue;
    }
    set_result(x, &x->plan->v[which[k]], rcs[k] == RM_OK
                                             ? RM_STATUS_STOPPED
                                             : RM_STATUS_ERROR_ON_STOP);
    rm__progress_step(&x->progress);
  }
  free(names);
  free(which);
  free(rcs);
  /* On an error the caller records. */
  return rc == RM_OK ? rm__update(x->h, rm__record_items, x->plan) : rc;
}

/* Runs the groups in order, recording after each one. */
static uint32_t stop_everything(run *x) {
  int group;
  for (group = 0; group < N_GROUPS; group++) {
    uint32_t rc, wrote;
    if (x->h->cancel) return RM_ERROR_CANCELLED;
    if (group == GROUP_SERVICE) {
      rc = stop_services(x);
      if (rc != RM_OK) {
        wrote = rm__update(x->h, rm__record_items, x->plan);
        return rc == RM_ERROR_CANCELLED || wrote == RM_OK ? rc : wrote;
      }
      continue;
    }
    rc = stop_apps(x, group);
    wrote = rm__update(x->h, rm__record_items, x->plan);
    if (rc != RM_OK) return rc;
    if (wrote != RM_OK) return wrote;
  }
  return RM_OK;
}

/* }=====
 * {===== Entry points */

/* Marks the session as shut down without acting on anything. */
static uint32_t mark_called(rm__handle *h) {
  rm__targets none;
  none.v = NULL;
  none.n = 0;
  return rm__update(h, rm__record_items, &none);
}

static uint32_t shutdown_session(rm__handle *h, uint32_t flags,
                                 rm_status_callback status, void *context) {
  rm__record r;
  rm__entry *e = NULL;
  rm__targets plan;
  run x;
  size_t n = 0, i, to_stop = 0;
  uint32_t reasons = 0, rc;
  int blocked;

  rc = rm__load(h, &r);
  if (rc != RM_OK) return rc;
  rc = rm__compute_list(h, &r, &e, &n, &reasons);
  if (rc != RM_OK) {
    rm__record_free(&r);
    /* A cancelled shutdown still counts as one for rm_restart. */
    if (rc == RM_ERROR_CANCELLED) {
      uint32_t wrote = mark_called(h);
      if (wrote != RM_OK) return wrote;
    }
    return rc;
  }
  rc = make_plan(&r, e, n, flags, &plan, &blocked);
  rm__entries_free(e, n);
  rm__record_free(&r);
  if (rc != RM_OK) return rc;

  if (flags & RM__SHUTDOWN_PAST_REASONS) reasons = RM_REBOOT_REASON_NONE;
  if (reasons != RM_REBOOT_REASON_NONE || blocked) {
    rm__targets_free(&plan);
    rc = mark_called(h);
    if (rc != RM_OK) return rc;
    return reasons ? RM_ERROR_FAIL_NOACTION_REBOOT : RM_ERROR_FAIL_SHUTDOWN;
  }
  for (i = 0; i < plan.n; i++) to_stop += plan.v[i].stop;
  memset(&x, 0, sizeof x);
  x.h = h;
  x.plan = &plan;
  x.flags = flags;
  rm__progress_init(&x.progress, status, context, to_stop);
  /* 0 before the first stop: the last moment a cancel stops nothing. */
  rm__progress_start(&x.progress);
  if (h->cancel) {
    rm__targets_free(&plan);
    rc = mark_called(h);
    return rc == RM_OK ? RM_ERROR_CANCELLED : rc;
  }

  capture_all(&plan);
  /* Masked entries and the shutdown mark go in first. */
  rc = rm__update(h, rm__record_items, &plan);
  if (rc == RM_OK) rc = stop_everything(&x);
  if (rc == RM_OK) {
    rm__progress_end(&x.progress);
    if (x.failed) rc = RM_ERROR_FAIL_SHUTDOWN;
  }
  rm__targets_free(&plan);
  return rc;
}

uint32_t rm_shutdown(uint32_t session_handle, uint32_t action_flags,
                     rm_status_callback status, void *context) {
  rm__handle *h;
  uint32_t rc;
  if (rm__native()) return rm__native()->shutdown(session_handle, action_flags, status,
        context);
  rc = rm__enter(session_handle, 1, 1, &h);
  if (rc != RM_OK) return rc;
  if (action_flags & ~(RM_FORCE_SHUTDOWN | RM_SHUTDOWN_ONLY_REGISTERED |
                       RM_SHUTDOWN_SERVICES_IN_PLACE))
    rc = RM_ERROR_BAD_ARGUMENTS;
  else
    rc = shutdown_session(h, action_flags, status, context);
  rm__leave(h, 1);
  return rc;
}

uint32_t rm__shutdown(uint32_t session_handle, uint32_t flags,
                      rm_status_callback status, void *context) {
  rm__handle *h;
  uint32_t rc = rm__enter(session_handle, 1, 1, &h);
  if (rc != RM_OK) return rc;
  rc = shutdown_session(h, flags, status, context);
  rm__leave(h, 1);
  return rc;
}

uint32_t rm_cancel_current_task(uint32_t session_handle) {
  if (rm__native()) return rm__native()->cancel_current_task(session_handle);
  return rm__cancel(session_handle);
}

/* }===== */
