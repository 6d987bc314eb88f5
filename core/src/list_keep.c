/* SPDX-License-Identifier: MIT */
/*
 * list_keep.c: one scan per two-call rm_get_list loop.
 *
 * Clients call rm_get_list with no array, get RM_ERROR_MORE_DATA and the
 * count, allocate, and call again (docs/performance.md, The two-call
 * loop).  Rescanning for the second call would double the cost of every
 * list, so a MORE_DATA result is kept on the handle and the next
 * rm_get_list on it returns that result instead of rescanning, but only
 * when all of these hold:
 *
 *  - it comes within the window after the answer was given (500 ms
 *    from the scan's end, however long the scan took;
 *    RESTARTMGR_LIST_REUSE_MS, 0 turns reuse off);
 *  - the session's record has the same sequence number: nothing was
 *    registered, filtered, shut down or restarted in between, by this
 *    process or any other (every store write bumps it);
 *  - the restart registrations read the same (they decide restartable);
 *  - every entry listed as running still runs with its identity (pid and
 *    start time); one that died means a rescan.
 *
 * So a reused answer is exactly the answer a rescan at the first call's
 * time gave.  Otherwise the call rescans, as every other list does.  Only
 * rm_get_list keeps and reuses; rm_get_list_alloc always scans once.
 */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

#define KEEP_MS 500u

struct rm__list_kept {
  uint64_t at_ms;                   /* when the scan ended */
  uint64_t sequence;                /* the record's, as listed */
  uint64_t restarts;                /* fingerprint of the registrations */
  uint32_t reasons;
  size_t n;
  rm_process_info *info;            /* [n] */
};

void rm__kept_free(rm__list_kept *k) {
  if (!k) return;
  free(k->info);
  free(k);
}

unsigned rm__kept_window(void) {
  return rm__env_ms("RESTARTMGR_LIST_REUSE_MS", KEEP_MS);
}

rm__list_kept *rm__kept_take(rm__handle *h) {
  rm__list_kept *k;
  rm__os_global_lock();
  k = h->kept;
  h->kept = NULL;
  rm__os_global_unlock();
  return k;
}

void rm__kept_put(rm__handle *h, rm__list_kept *k) {
  rm__list_kept *old;
  rm__os_global_lock();
  old = h->kept;
  h->kept = k;
  rm__os_global_unlock();
  rm__kept_free(old);
}

rm__list_kept *rm__kept_make(uint64_t at_ms, uint64_t sequence,
                             uint64_t restarts, const rm__entry *e, size_t n,
                             uint32_t reasons) {
  rm__list_kept *k = calloc(1, sizeof *k);
  size_t i;
  if (!k) return NULL;
  k->info = calloc(n + 1, sizeof *k->info);
  if (!k->info) {
    free(k);
    return NULL;
  }
  for (i = 0; i < n; i++) k->info[i] = e[i].info;
  k->n = n;
  k->at_ms = at_ms;
  k->sequence = sequence;
  k->restarts = restarts;
  k->reasons = reasons;
  return k;
}

int rm__kept_valid(const rm__list_kept *k, uint64_t sequence,
                   uint64_t restarts) {
  uint64_t now = rm__os_now_ms();
  size_t i;
  if (now - k->at_ms >= rm__kept_window()) return 0;
  if (sequence != k->sequence || restarts != k->restarts) return 0;
  for (i = 0; i < k->n; i++)
    if ((k->info[i].app_status & RM_STATUS_RUNNING) &&
        !rm__os_alive(&k->info[i].process))
      return 0;
  return 1;
}

uint32_t rm__kept_serve(const rm__list_kept *k, unsigned *needed,
                        unsigned *n_info, rm_process_info *apps,
                        uint32_t *reasons) {
  *needed = (unsigned)k->n;
  *reasons = k->reasons;
  if (k->n > *n_info) {
    *n_info = 0;
    return RM_ERROR_MORE_DATA;
  }
  if (k->n) memcpy(apps, k->info, k->n * sizeof *apps);
  *n_info = (unsigned)k->n;
  return RM_OK;
}
