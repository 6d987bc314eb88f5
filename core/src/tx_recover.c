/* SPDX-License-Identifier: MIT */
/*
 * tx_recover.c: rm_tx_recover, finishing or undoing the transactions of
 * installers that died.
 *
 * Under the store lock, every journal "tx.NN" whose owner is gone is
 * read back.  Its last step decides: before SWAPPED, every entry is put
 * back (the old files); from SWAPPED on, every entry is completed (the
 * new files).  Both decide per entry from the identities at the target,
 * staged and backup names, so a kill in the middle of a swap, a rollback
 * or an earlier recovery is finished the same way.  Then the apps the
 * installer stopped are started again from the journal's captures:
 * those whose old identity is gone, and, when the installer may already
 * have restarted some (RESTARTING, ROLLBACK), only those whose command
 * no process of their user runs.  Services go through their manager.
 * Last the journal is removed.  A file that cannot be put back keeps the
 * journal (and still blocks its targets) for another try.
 */
#include "tx.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* 1 when some process of the app's user runs the app's command: a
 * restart that happened before the installer died. */
static int running_again(const rm__tx_app *a) {
  static volatile int no_cancel;
  rm__scan_input in;
  rm__found *found = NULL;
  size_t n = 0, i;
  const char *files[1];
  int yes = 0;
  files[0] = a->launch.exe ? a->launch.exe : a->launch.argv[0];
  memset(&in, 0, sizeof in);
  in.files = files;
  in.n_files = 1;
  in.cancel = &no_cancel;
  if (rm__os_scan(&in, &found, &n) != RM_OK) return 0;
  for (i = 0; i < n && !yes; i++) {
    rm__launch l;
    size_t k;
    memset(&l, 0, sizeof l);
    if (rm__os_capture(&found[i].info.process, NULL, &l) != RM_OK) continue;
    yes = l.uid == a->launch.uid && l.argv != NULL;
    for (k = 0; yes && (l.argv[k] || a->launch.argv[k]); k++)
      yes = l.argv[k] && a->launch.argv[k] &&
            strcmp(l.argv[k], a->launch.argv[k]) == 0;
    rm__launch_free(&l);
  }
  rm__found_free(found, n);
  return yes;
}

void rm__tx_start_apps(const rm__tx_app *v, size_t n, int only_missing,
                       unsigned *started, unsigned *failed) {
  size_t i;
  for (i = n; i-- > 0;) {                 /* the reverse of the stops */
    const rm__tx_app *a = &v[i];
    rm_unique_process now;
    rm_restart_outcome outcome;
    if (a->through.pid || rm__os_alive(&a->info.process)) continue;
    if (a->info.app_type == RM_APP_SERVICE) {
      if (rm__os_service_start(a->info.service_short_name,
                               rm__env_ms("RESTARTMGR_SERVICE_TIMEOUT_MS",
                                          RM_SERVICE_TIMEOUT_MS)) == RM_OK)
        (*started)++;
      else
        (*failed)++;
      continue;
    }
    if (!a->launch.argv) {
      (*failed)++;                        /* not restartable or not captured */
      continue;
    }
    if (only_missing && running_again(a)) continue;
    memset(&outcome, 0, sizeof outcome);
    if (rm__os_launch(&a->launch, &now, &outcome) == RM_OK) (*started)++;
    else (*failed)++;
  }
}

/* Recovers one journal.  RM_OK or RM_ERROR_ACCESS_DENIED (kept). */
static uint32_t recover_one(rm__dir *d, rm_tx *tx,
                            const rm_unique_process *owner,
                            rm_tx_recovered *out) {
  size_t i;
  int forward = tx->step >= RM__TXJ_SWAPPED && tx->step != RM__TXJ_ROLLBACK;
  int lost = 0;
  char name[16];
  memset(out, 0, sizeof *out);
  memcpy(out->key, tx->key, sizeof out->key);
  out->owner = *owner;
  out->decision = forward ? RM_TX_RECOVERED_COMPLETED
                          : RM_TX_RECOVERED_ROLLED_BACK;
  out->n_files = (unsigned)tx->n;
  for (i = tx->n; i-- > 0;) {
    rm__tx_entry *e = &tx->e[i];
    unsigned cleared = 0;
    /* Undone: a rename still pending for the next boot goes too (also one
     * the journal did not get to record). */
    if (!forward && rm__os_tx_clear_reboot(e->target, &cleared) == RM_OK)
      out->n_reboot_cleared += cleared;
    if ((forward ? rm__tx_finish(e, &out->n_removed)
                 : rm__tx_put_back(e, &out->n_removed)) != RM_OK)
      lost = 1;
  }
  /* From STOPPING on the journal lists what may have been stopped; at
   * STOPPING itself no stop is known yet, so every app whose process is
   * gone counts. */
  if (tx->step >= RM__TXJ_STOPPING && tx->step != RM__TXJ_RESTARTED) {
    for (i = 0; i < tx->n_apps; i++)
      if (tx->step == RM__TXJ_STOPPING) tx->apps[i].stopped = 1;
    {
      rm__tx_app *keep = tx->apps;
      size_t k = 0;
      for (i = 0; i < tx->n_apps; i++)
        if (keep[i].stopped) {
          rm__tx_app t = keep[k];
          keep[k++] = keep[i];
          keep[i] = t;
        }
      rm__tx_start_apps(keep, k,
                        tx->step == RM__TXJ_RESTARTING ||
                            tx->step == RM__TXJ_ROLLBACK,
                        &out->n_restarted, &out->n_restart_failed);
    }
  }
  if (!lost) {
    rm__txj_name(name, sizeof name, tx->slot);
    if (rm__os_store_remove(d, name) != RM_OK) lost = 1;
  }
  {
    char msg[512];
    snprintf(msg, sizeof msg,
             "transaction of pid %lu (session %s): %s %u entries, removed %u "
             "temporary files, started %u apps (%u failed)%s",
             (unsigned long)owner->pid, tx->key,
             forward ? "completed" : "rolled back", out->n_files,
             out->n_removed, out->n_restarted, out->n_restart_failed,
             lost ? "; a file could not be put back, the journal is kept"
                  : "");
    out->message = rm__strdup(msg);
  }
  return lost ? RM_ERROR_ACCESS_DENIED : RM_OK;
}

uint32_t rm_tx_recover(rm_tx_recovered **out, unsigned *n) {
  rm__dir *d;
  rm_tx_recovered *v;
  unsigned i, count = 0;
  uint32_t rc, result = RM_OK;
  if (!out || !n) return RM_ERROR_BAD_ARGUMENTS;
  *out = NULL;
  *n = 0;
  v = calloc(RM__TX_SLOTS, sizeof *v);
  if (!v) return RM_ERROR_OUTOFMEMORY;
  rc = rm__store_open_locked(&d);
  if (rc != RM_OK) {
    free(v);
    return rc;
  }
  for (i = 0; i < RM__TX_SLOTS; i++) {
    rm_tx tx;
    rm_unique_process owner;
    uint32_t one;
    if (rm__txj_read(d, i, &tx, &owner) != RM_OK) continue;
    if (rm__os_alive(&owner)) {
      rm__tx_clear(&tx);
      continue;
    }
    one = recover_one(d, &tx, &owner, &v[count]);
    if (v[count].n_restart_failed && result == RM_OK)
      result = RM_ERROR_FAIL_RESTART;
    if (one != RM_OK) result = one;
    count++;
    rm__tx_clear(&tx);
  }
  rm__os_store_unlock(d);
  rm__os_store_close(d);
  if (!count) {
    free(v);
    v = NULL;
  }
  *out = v;
  *n = count;
  return result;
}

void rm_tx_free_recovered(rm_tx_recovered *v, unsigned n) {
  unsigned i;
  if (!v) return;
  for (i = 0; i < n; i++) free(v[i].message);
  free(v);
}
