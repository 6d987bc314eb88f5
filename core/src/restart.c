/* SPDX-License-Identifier: MIT */
/*
 * restart.c: rm_restart.
 *
 * Restarts what this session's shutdowns stopped and can restart: entries
 * of the acted list that are STOPPED, restartable, not RESTART_MASKED and
 * not yet RESTARTED or ERROR_ON_RESTART, in the reverse of the order they
 * were stopped (services before the applications that use them).
 * Services go through their manager; applications are relaunched
 * detached from what was captured before they were stopped.  Within a
 * kind nothing orders them, so nothing serialises them: the services of
 * the plan are started at once (their managers run the jobs
 * concurrently), then the applications are all launched and wait out
 * one settle time together (docs/performance.md, Restart and the whole
 * cycle).  Each entry
 * ends RESTARTED (with the new process's identity, so later lists show it
 * running) or ERROR_ON_RESTART, and every outcome is written to the
 * record before the call returns, also when it is cancelled.
 *
 * A process started from a registered restart command inherits that
 * registration, so the next installer can restart it too.
 *
 * Workers (entries restartable through a listed master, see
 * docs/linux.md, Workers) are never launched themselves: once their master is handled
 * they follow its outcome (RESTARTED with RM_RESTART_NOTE_WORKER, or
 * ERROR_ON_RESTART with RM_RESTART_FAILED_MASTER).  Every attempt leaves
 * an rm_restart_outcome in the record, which rm_get_list_alloc reports.
 *
 * Decisions where Win32 is silent: stopped entries that are not
 * restartable (console apps, other users' apps) are skipped without an
 * error, like apps not registered for restart on Windows; what stopped by
 * itself (STOPPED_OTHER) was not stopped by the session and is not
 * restarted; a second rm_restart restarts only what is still pending (a
 * no-op returning RM_OK after a complete one).
 */
#include "actions.h"
#include "native.h"

#include <stdlib.h>
#include <string.h>

/* At most this many applications settle at once (each holds two pipes
 * and a watcher process while it settles): RESTARTMGR_RESTART_BATCH,
 * else 128. */
#define LAUNCH_BATCH 128u

#define RESTART_WANTED(s)                                                   \
  (((s) & RM_STATUS_STOPPED) &&                                             \
   !((s) & (RM_STATUS_RESTARTED | RM_STATUS_ERROR_ON_RESTART |              \
            RM_STATUS_RESTART_MASKED)))

/* Sorts by shutdown order, latest first. */
static int later_first(const void *a, const void *b) {
  const rm__target *x = a, *y = b;
  return x->order < y->order ? 1 : x->order > y->order ? -1 : 0;
}

/* The entries to restart, as items (launch copied), latest stop first. */
static uint32_t make_plan(const rm__record *r, rm__targets *plan) {
  size_t i;
  plan->n = 0;
  plan->v = calloc(r->n_acted + 1, sizeof *plan->v);
  if (!plan->v) return RM_ERROR_OUTOFMEMORY;
  for (i = 0; i < r->n_acted; i++) {
    const rm__acted *a = &r->acted[i];
    rm__target *it;
    /* A worker its master ended before we signalled it (STOPPED_OTHER)
     * still follows the master. */
    uint32_t st = a->info.app_status;
    if (a->through.pid && (st & RM_STATUS_STOPPED_OTHER))
      st |= RM_STATUS_STOPPED;
    if (!RESTART_WANTED(st) || !a->info.restartable) continue;
    it = &plan->v[plan->n++];
    it->info = a->info;
    it->was = a->info.process;
    it->order = a->order;
    it->reasons = a->reasons;
    it->through = a->through;
    if (a->launch.argv && rm__launch_copy(&a->launch, &it->launch) != RM_OK) {
      rm__targets_free(plan);
      return RM_ERROR_OUTOFMEMORY;
    }
  }
  qsort(plan->v, plan->n, sizeof *plan->v, later_first);
  return RM_OK;
}

/* Records how a restart attempt ended in the item. */
static int finish(rm__target *it, uint32_t rc) {
  if (rc != RM_OK) {
    it->info.app_status |= RM_STATUS_ERROR_ON_RESTART;
    return 0;
  }
  it->info.app_status |= RM_STATUS_RESTARTED | RM_STATUS_RUNNING;
  return 1;
}

/* Starts services v[idx[0..m)] at once through their managers, each then
 * found by name.  0 when any failed. */
static int restart_services(rm__handle *h, rm__targets *plan,
                            const size_t *idx, size_t m,
                            rm__progress *progress) {
  const char **names = calloc(m + 1, sizeof *names);
  uint32_t *rcs = calloc(m + 1, sizeof *rcs);
  size_t k;
  int ok = 1;
  for (k = 0; k < m; k++) {
    rm__target *it = &plan->v[idx[k]];
    it->touched = 1;
    memset(&it->outcome, 0, sizeof it->outcome);
    if (names) names[k] = it->info.service_short_name;
    if (rcs) rcs[k] = RM_ERROR_OUTOFMEMORY;
  }
  if (names && rcs)
    rm__os_service_start_all(names, m, rm__service_timeout(h), rcs);
  for (k = 0; k < m; k++) {
    rm__target *it = &plan->v[idx[k]];
    uint32_t rc = rcs ? rcs[k] : RM_ERROR_OUTOFMEMORY;
    if (rc == RM_OK) rm__find_service_process(h, it);
    else it->outcome.failure = RM_RESTART_FAILED_SERVICE;
    if (!finish(it, rc)) ok = 0;
    rm__progress_step(progress);
  }
  free(names);
  free(rcs);
  return ok;
}

/* Launches applications v[idx[0..m)] at once without waiting for them
 * to settle, then waits for them, so that they settle together: about
 * one settle time for all.  A cancel stops the launching; what was
 * launched is still waited for and recorded.  0 when any failed. */
static int restart_apps(rm__handle *h, rm__targets *plan, const size_t *idx,
                        size_t m, rm__progress *progress, uint32_t *rc_out) {
  rm__launching *runs = calloc(m + 1, sizeof *runs);
  uint32_t *rcs = calloc(m + 1, sizeof *rcs);
  int *begun = calloc(m + 1, sizeof *begun);
  const rm__launch **ls = calloc(m + 1, sizeof *ls);
  rm_restart_outcome **outs = calloc(m + 1, sizeof *outs);
  size_t *at = calloc(m + 1, sizeof *at);
  size_t k, n = 0;
  int ok = 1;
  if (!runs || !rcs || !begun || !ls || !outs || !at) {
    *rc_out = RM_ERROR_OUTOFMEMORY;
    ok = 0;
    m = 0;
  }
  for (k = 0; k < m; k++) {
    rm__target *it = &plan->v[idx[k]];
    memset(&it->outcome, 0, sizeof it->outcome);
    if (!it->launch.argv) continue;
    ls[n] = &it->launch;
    outs[n] = &it->outcome;
    at[k] = n++;
  }
  rm__os_launch_begin_all(ls, n, runs, outs, rcs, begun, &h->cancel);
  for (k = 0; k < m; k++) {
    rm__target *it = &plan->v[idx[k]];
    rm_unique_process started = { 0, 0 };
    uint32_t rc = RM_ERROR_FAIL_RESTART;
    if (!it->launch.argv) {
      it->outcome.failure = RM_RESTART_FAILED_NOT_CAPTURED;
    } else if (!begun[at[k]]) {
      *rc_out = RM_ERROR_CANCELLED;              /* left as it was */
      continue;
    } else {
      rc = rm__os_launch_end(&runs[at[k]], &started, &it->outcome);
    }
    it->touched = 1;
    if (rc == RM_OK) {
      it->info.process = started;
      /* What a registered command started is restarted the same way next
       * time (a title-rewriting daemon stays restartable). */
      if (it->launch.notes & RM_RESTART_NOTE_REGISTERED)
        (void)rm_register_process_restart(
            &started, (const char *const *)it->launch.argv, it->launch.cwd,
            0);
    }
    if (!finish(it, rc)) ok = 0;
    rm__progress_step(progress);
  }
  free(runs);
  free(rcs);
  free(begun);
  free(ls);
  free(outs);
  free(at);
  return ok;
}

/* A worker follows its master: restarted when the master was, failed
 * when the master failed, left alone when the master was not restarted
 * (masked, or not in this plan). */
static int follow_master(const rm__targets *plan, rm__target *it) {
  size_t k;
  for (k = 0; k < plan->n; k++) {
    const rm__target *m = &plan->v[k];
    if (m->through.pid || m->was.pid != it->through.pid ||
        m->was.start_time != it->through.start_time || !m->touched)
      continue;
    it->touched = 1;
    memset(&it->outcome, 0, sizeof it->outcome);
    if (m->info.app_status & RM_STATUS_RESTARTED) {
      it->info.app_status |= RM_STATUS_RESTARTED;
      it->outcome.notes = RM_RESTART_NOTE_WORKER;
      return 1;
    }
    it->info.app_status |= RM_STATUS_ERROR_ON_RESTART;
    it->outcome.failure = RM_RESTART_FAILED_MASTER;
    return 0;
  }
  return 1;
}

const char *rm_restart_failure_name(uint32_t failure) {
  static const char *const names[] = {
    "none", "not_captured", "no_executable", "credentials_refused",
    "exec_failed", "exited", "launch_failed", "service_failed",
    "master_failed", "context_refused"
  };
  return failure < sizeof names / sizeof names[0] ? names[failure]
                                                  : "unknown";
}

static uint32_t restart_session(rm__handle *h, rm_status_callback status,
                                void *context) {
  rm__record r;
  rm__targets plan;
  rm__progress progress;
  size_t i, *idx, batch;
  uint32_t rc, wrote;
  int failed = 0;

  rc = rm__load(h, &r);
  if (rc != RM_OK) return rc;
  if (!r.shutdown_called) {
    rm__record_free(&r);
    return RM_ERROR_REQUEST_OUT_OF_SEQUENCE;
  }
  rc = make_plan(&r, &plan);
  rm__record_free(&r);
  if (rc != RM_OK) return rc;
  rm__progress_init(&progress, status, context, plan.n);
  rm__progress_start(&progress);      /* a cancel here restarts nothing */
  /* Kind after kind in the plan's order (services before the
   * applications that use them); within a kind, all at once. */
  batch = rm__env_ms("RESTARTMGR_RESTART_BATCH", LAUNCH_BATCH);
  if (batch == 0) batch = 1;
  idx = calloc(plan.n + 1, sizeof *idx);
  if (!idx) rc = RM_ERROR_OUTOFMEMORY;
  for (i = 0; i < plan.n && rc == RM_OK;) {
    int service = plan.v[i].info.app_type == RM_APP_SERVICE;
    size_t m = 0, j;
    if (plan.v[i].through.pid) {            /* after its master */
      i++;
      continue;
    }
    if (h->cancel) {
      rc = RM_ERROR_CANCELLED;
      break;
    }
    for (j = i; j < plan.n && m < batch; j++) {
      if (plan.v[j].through.pid) continue;
      if ((plan.v[j].info.app_type == RM_APP_SERVICE) != service) break;
      idx[m++] = j;
    }
    if (!(service ? restart_services(h, &plan, idx, m, &progress)
                  : restart_apps(h, &plan, idx, m, &progress, &rc)))
      failed = 1;
    i = j;
  }
  free(idx);
  for (i = 0; i < plan.n && rc == RM_OK; i++) {
    if (!plan.v[i].through.pid) continue;
    if (!follow_master(&plan, &plan.v[i])) failed = 1;
    rm__progress_step(&progress);
  }
  wrote = plan.n ? rm__update(h, rm__record_items, &plan) : RM_OK;
  rm__targets_free(&plan);
  if (rc != RM_OK) return rc;
  if (wrote != RM_OK) return wrote;
  rm__progress_end(&progress);
  return failed ? RM_ERROR_FAIL_RESTART : RM_OK;
}

uint32_t rm_restart(uint32_t session_handle, uint32_t restart_flags,
                    rm_status_callback status, void *context) {
  rm__handle *h;
  uint32_t rc;
  if (rm__native()) return rm__native()->restart(session_handle, restart_flags, status,
        context);
  rc = rm__enter(session_handle, 1, 1, &h);
  if (rc != RM_OK) return rc;
  rc = restart_flags != 0 ? RM_ERROR_BAD_ARGUMENTS
                          : restart_session(h, status, context);
  rm__leave(h, 1);
  return rc;
}
