/* SPDX-License-Identifier: MIT */
/*
 * tx_commit.c: rm_tx_commit.
 *
 *   1. register every target (the files under a replaced or removed
 *      directory) in the session, and list who uses them;
 *   2. decide before stopping anything: a reboot reason without
 *      RM_TX_ALLOW_REBOOT ends here (RM_ERROR_FAIL_NOACTION_REBOOT);
 *   3. capture how to start each app again, journal it (STOPPING), shut
 *      down with the session's rules (rm_shutdown's, past the reboot
 *      reasons with RM_TX_ALLOW_REBOOT);
 *   4. journal SWAPPING, swap target by target; a failure journals
 *      ROLLBACK, puts every swapped target back and restarts what was
 *      stopped;
 *   5. journal SWAPPED (the commit point: from here recovery completes),
 *      fsync the directories, journal RESTARTING, restart (rm_restart),
 *      journal RESTARTED, drop the backups, remove the journal.
 *
 * Any failure before the commit point ends the transaction with the old
 * files in place, the staged ones removed, and what was stopped started
 * again.  An app that does not restart after a successful swap leaves the
 * new files in place (RM_ERROR_FAIL_RESTART, committed): the restart
 * failure need not be the new files' fault (a port taken, a missing
 * configuration), the old files may fail the same way, and rolling back
 * would stop again every app that did restart — a second outage for a
 * guess.  The report names the app and why; the installer decides
 * (docs/transaction.md, "When an app does not restart").
 */
#include "tx.h"

#include <stdlib.h>
#include <string.h>

/* Progress across shutdown (0..50) and restart (50..100), strictly
 * increasing. */
typedef struct progress {
  rm_status_callback fn;
  void *ctx;
  unsigned base, span;
  int last;
} progress;

static void report_progress(unsigned percent, void *ctx) {
  progress *p = ctx;
  int v = (int)(p->base + percent * p->span / 100);
  if (v > p->last && p->fn) {
    p->last = v;
    p->fn((unsigned)v, p->ctx);
  }
}

/* {===== Registering and listing */

/* The files under a directory target, registered instead of it (a
 * registered directory is ACCESS_DENIED). */
static uint32_t collect(const char *path, uint32_t type, rm__strv *out,
                        int depth) {
  rm__strv names = { NULL, 0, 0 };
  size_t i;
  int err;
  uint32_t rc = RM_OK;
  if (type != RM__TX_DIR) return rm__strv_push(out, path);
  if (depth > 64 || out->n > 100000) return RM_OK;
  if (rm__os_tx_list(path, &names, &err) != RM_OK) return RM_OK;
  for (i = 0; i < names.n && rc == RM_OK; i++) {
    char *p = rm__path_join(path, names.v[i]);
    uint32_t t;
    rm__file_id id;
    if (!p) {
      rc = RM_ERROR_OUTOFMEMORY;
      break;
    }
    if (rm__os_tx_lstat(p, &t, &id, &err) == RM_OK && t != RM__TX_LINK &&
        t != RM__TX_NONE)
      rc = collect(p, t, out, depth + 1);
    free(p);
  }
  rm__strv_free(&names);
  return rc;
}

static uint32_t register_targets(rm_tx *tx) {
  rm__strv files = { NULL, 0, 0 };
  size_t i;
  uint32_t rc = RM_OK;
  for (i = 0; i < tx->n && rc == RM_OK; i++) {
    const rm__tx_entry *e = &tx->e[i];
    if (e->action == RM_TX_ACTION_ADD || e->type == RM__TX_LINK) continue;
    rc = collect(e->target, e->type, &files, 0);
  }
  if (rc == RM_OK && files.n)
    rc = rm_register_resources(tx->session, (unsigned)files.n,
                               (const char *const *)files.v, 0, NULL, 0,
                               NULL);
  rm__strv_free(&files);
  return rc;
}

/* Lists the session and captures every app a shutdown may stop.
 * *reasons: the reboot reasons; *masked: a holder is masked from
 * shutdown (keeps running the old file). */
static uint32_t capture_apps(rm_tx *tx, uint32_t *reasons, int *masked) {
  rm__handle *h;
  rm__record r;
  rm__entry *e = NULL;
  rm__restart_reg *regs = NULL;
  size_t n = 0, i, n_regs = 0;
  uint32_t rc = rm__enter(tx->session, 1, 0, &h);
  if (rc != RM_OK) return rc;
  rc = rm__load(h, &r);
  if (rc == RM_OK) {
    rc = rm__compute_list(h, &r, &e, &n, reasons);
    rm__record_free(&r);
  }
  rm__leave(h, 0);
  if (rc != RM_OK) return rc;
  *masked = 0;
  tx->apps = calloc(n + 1, sizeof *tx->apps);
  if (!tx->apps) {
    rm__entries_free(e, n);
    return RM_ERROR_OUTOFMEMORY;
  }
  if (rm__restarts_load(&regs, &n_regs) != RM_OK) n_regs = 0;
  for (i = 0; i < n; i++) {
    rm__tx_app *a;
    if (e[i].info.app_type == RM_APP_CRITICAL ||
        !(e[i].info.app_status & RM_STATUS_RUNNING))
      continue;
    if (e[i].filter == RM_NO_SHUTDOWN) {
      *masked = 1;
      continue;
    }
    a = &tx->apps[tx->n_apps++];
    a->info = e[i].info;
    a->through = e[i].through;
    if (e[i].info.app_type != RM_APP_SERVICE && !e[i].through.pid &&
        e[i].info.restartable && e[i].filter != RM_NO_RESTART)
      (void)rm__os_capture(&e[i].info.process,
                           rm__restart_find(regs, n_regs, &e[i].info.process),
                           &a->launch);
  }
  rm__restarts_free(regs, n_regs);
  rm__entries_free(e, n);
  return RM_OK;
}

/* After the shutdown: which apps it stopped, from the session record. */
static void mark_stopped(rm_tx *tx) {
  rm__handle *h;
  rm__record r;
  size_t i, k;
  if (rm__enter(tx->session, 1, 0, &h) != RM_OK) return;
  if (rm__load(h, &r) == RM_OK) {
    for (i = 0; i < tx->n_apps; i++)
      for (k = 0; k < r.n_acted; k++)
        if (r.acted[k].info.process.pid == tx->apps[i].info.process.pid &&
            r.acted[k].info.process.start_time ==
                tx->apps[i].info.process.start_time)
          tx->apps[i].stopped =
              (r.acted[k].info.app_status & RM_STATUS_STOPPED) != 0;
    rm__record_free(&r);
  }
  rm__leave(h, 0);
}

/* }=====
 * {===== The report */

static void fill_report(rm_tx *tx, uint32_t result, uint32_t reasons,
                        int rolled_back, rm_tx_report **out) {
  rm_tx_report *rep;
  size_t i;
  if (!out) return;
  *out = NULL;
  rep = calloc(1, sizeof *rep);
  if (!rep) return;
  rep->result = result;
  rep->committed = tx->committed;
  rep->rolled_back = rolled_back;
  rep->reboot_reasons = reasons;
  rep->message = rm__strdup(tx->msg);
  rep->files = calloc(tx->n + 1, sizeof *rep->files);
  if (rep->files) {
    rep->n_files = (unsigned)tx->n;
    for (i = 0; i < tx->n; i++) {
      rep->files[i].target = rm__strdup(tx->e[i].target);
      rep->files[i].action = tx->e[i].action;
      rep->files[i].outcome = tx->e[i].outcome;
      rep->files[i].error = tx->e[i].err;
    }
  }
  if (rm_get_list_alloc(tx->session, &rep->apps, &rep->n_apps, &reasons) !=
      RM_OK) {
    rep->apps = NULL;
    rep->n_apps = 0;
  }
  *out = rep;
}

void rm_tx_free_report(rm_tx_report *rep) {
  unsigned i;
  if (!rep) return;
  for (i = 0; i < rep->n_files; i++) free(rep->files[i].target);
  free(rep->files);
  rm_free_list(rep->apps, rep->n_apps);
  free(rep->message);
  free(rep);
}

/* }=====
 * {===== Commit */

/* A target a process that was not stopped holds (Windows: without
 * FILE_SHARE_DELETE): the staged file replaces it at the next boot.  The
 * journal records it first, so recovery can drop the pending rename. */
static uint32_t schedule_at_reboot(rm_tx *tx, rm__tx_entry *e) {
  int err, swap_err = e->err;
  e->outcome = RM_TX_FILE_AT_REBOOT;
  if (rm__txj_write(tx, RM__TXJ_SWAPPING) != RM_OK ||
      rm__os_tx_at_reboot(e->staged, e->target, &err) != RM_OK) {
    e->outcome = RM_TX_FILE_STAGED;
    e->err = swap_err;
    return RM_ERROR_ACCESS_DENIED;
  }
  e->err = 0;
  return RM_OK;
}

/* Ends a failed commit: every swapped entry put back, staged files
 * removed, what was stopped started again, the journal removed. */
static uint32_t abort_commit(rm_tx *tx, uint32_t rc, int stopped,
                             progress *pr, int *rolled_back) {
  size_t i;
  int lost = 0;
  for (i = 0; i < tx->n; i++)
    if (tx->e[i].swapped || tx->e[i].outcome == RM_TX_FILE_AT_REBOOT)
      *rolled_back = 1;
  if (*rolled_back) (void)rm__txj_write(tx, RM__TXJ_ROLLBACK);
  for (i = tx->n; i-- > 0;) {
    rm__tx_entry *e = &tx->e[i];
    int was = e->swapped, err = e->err;
    if (rm__tx_put_back(e, NULL) != RM_OK) lost = 1;
    else if (was) e->outcome = RM_TX_FILE_OLD;
    if (!e->err) e->err = err;
  }
  if (stopped) {
    pr->base = 50;
    pr->span = 50;
    (void)rm_restart(tx->session, 0, report_progress, pr);
  }
  /* A file that could not be put back keeps the journal: recovery tries
   * again. */
  if (!lost) (void)rm__txj_remove(tx);
  tx->done = 1;
  return rc;
}

uint32_t rm_tx_commit(rm_tx *tx, uint32_t flags, uint32_t timeout_ms,
                      rm_status_callback status, void *context,
                      rm_tx_report **report) {
  rm__handle *h;
  progress pr;
  uint32_t rc, reasons = 0, restarted;
  unsigned app_ms = 0, svc_ms = 0;
  int masked = 0, rolled_back = 0, at_reboot = 0;
  size_t i;

  if (report) *report = NULL;
  if (!tx) return RM_ERROR_BAD_ARGUMENTS;
  tx->msg[0] = 0;
  if (tx->done)
    return rm__tx_fail(tx, RM_ERROR_REQUEST_OUT_OF_SEQUENCE,
                       "the transaction was committed or rolled back");
  if (flags & ~(RM_FORCE_SHUTDOWN | RM_SHUTDOWN_ONLY_REGISTERED |
                RM_TX_ALLOW_REBOOT))
    return rm__tx_fail(tx, RM_ERROR_BAD_ARGUMENTS, "unknown flags 0x%x",
                       (unsigned)flags);
  rc = rm__enter(tx->session, 1, 0, &h);
  if (rc != RM_OK) return rm__tx_fail(tx, rc, "the session is not usable");
  app_ms = h->app_timeout_ms;
  svc_ms = h->service_timeout_ms;
  if (timeout_ms) h->app_timeout_ms = h->service_timeout_ms = timeout_ms;
  rm__leave(h, 0);
  memset(&pr, 0, sizeof pr);
  pr.fn = status;
  pr.ctx = context;
  pr.span = 50;
  pr.last = -1;

  rc = register_targets(tx);
  if (rc == RM_OK) rc = capture_apps(tx, &reasons, &masked);
  if (rc != RM_OK) {
    rm__tx_fail(tx, rc, "registering or listing the targets failed");
    goto failed_before_stop;
  }
  if (tx->flags & RM_TX_DRY_RUN) {
    tx->done = 1;
    goto out;
  }
  if (reasons && !(flags & RM_TX_ALLOW_REBOOT)) {
    rc = rm__tx_fail(tx, RM_ERROR_FAIL_NOACTION_REBOOT,
                     "a holder cannot be shut down (reboot reasons 0x%x): "
                     "nothing stopped, nothing replaced", (unsigned)reasons);
    goto failed_before_stop;
  }
  rc = rm__txj_write(tx, RM__TXJ_STOPPING);
  if (rc != RM_OK) {
    rm__tx_fail(tx, rc, "the journal could not be written");
    goto failed_before_stop;
  }
  rc = rm__shutdown(tx->session,
                    (flags & (RM_FORCE_SHUTDOWN | RM_SHUTDOWN_ONLY_REGISTERED)) |
                        ((flags & RM_TX_ALLOW_REBOOT) ? RM__SHUTDOWN_PAST_REASONS
                                                      : 0u),
                    report_progress, &pr);
  mark_stopped(tx);
  if (rc != RM_OK) {
    rm__tx_fail(tx, rc,
                rc == RM_ERROR_FAIL_SHUTDOWN
                    ? "an app did not stop: nothing replaced, what was "
                      "stopped is started again"
                : rc == RM_ERROR_CANCELLED
                    ? "cancelled: nothing replaced, what was stopped is "
                      "started again"
                    : "the shutdown failed: nothing replaced");
    rc = abort_commit(tx, rc, 1, &pr, &rolled_back);
    goto out;
  }
  rc = rm__txj_write(tx, RM__TXJ_SWAPPING);
  for (i = 0; i < tx->n && rc == RM_OK; i++) {
    rm__tx_entry *e = &tx->e[i];
    if (rm__tx_swap_in(e) == RM_OK) {
      e->outcome = RM_TX_FILE_NEW;
    } else if ((flags & RM_TX_ALLOW_REBOOT) && !e->changed &&
               e->action == RM_TX_ACTION_REPLACE &&
               schedule_at_reboot(tx, e) == RM_OK) {
      at_reboot = 1;                      /* held by what was not stopped */
    } else {
      rc = rm__tx_fail(tx, RM_ERROR_ACCESS_DENIED,
                       "replacing %s failed (%s): every file put back, what "
                       "was stopped started again",
                       e->target, rm__os_tx_strerror(e->err));
    }
  }
  if (rc == RM_OK) rc = rm__txj_write(tx, RM__TXJ_SWAPPED);
  if (rc != RM_OK) {
    if (!tx->msg[0]) rm__tx_fail(tx, rc, "the journal could not be written");
    rc = abort_commit(tx, rc, 1, &pr, &rolled_back);
    goto out;
  }
  /* The commit point is behind us: from here on, forward only. */
  tx->committed = 1;
  tx->done = 1;
  (void)rm__txj_write(tx, RM__TXJ_RESTARTING);
  pr.base = 50;
  pr.span = 50;
  restarted = rm_restart(tx->session, 0, report_progress, &pr);
  (void)rm__txj_write(tx, RM__TXJ_RESTARTED);
  for (i = 0; i < tx->n; i++) (void)rm__tx_finish(&tx->e[i], NULL);
  (void)rm__txj_remove(tx);
  if (restarted == RM_ERROR_FAIL_RESTART) {
    rc = rm__tx_fail(tx, restarted,
                     "the new files are in place; an app did not restart "
                     "(see the report's apps)");
  } else if (restarted != RM_OK) {
    rc = rm__tx_fail(tx, restarted, "the new files are in place; the "
                                    "restart failed: %s",
                     rm_strerror(restarted));
  } else if (reasons || masked || at_reboot) {
    rc = rm__tx_fail(tx, RM_ERROR_SUCCESS_REBOOT_REQUIRED,
                     "the new files are in place; a holder that was not "
                     "stopped keeps running the old ones until it restarts "
                     "(reboot reasons 0x%x)", (unsigned)reasons);
  } else {
    if (pr.fn && pr.last < 100) pr.fn(100u, pr.ctx);
  }
  goto out;

failed_before_stop:
  for (i = 0; i < tx->n; i++) rm__tx_drop_staged(&tx->e[i], NULL);
  (void)rm__txj_remove(tx);
  tx->done = 1;
out:
  if (rm__enter(tx->session, 1, 0, &h) == RM_OK) {
    h->app_timeout_ms = app_ms;
    h->service_timeout_ms = svc_ms;
    rm__leave(h, 0);
  }
  fill_report(tx, rc, reasons, rolled_back, report);
  return rc;
}

/* }===== */
