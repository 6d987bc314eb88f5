/* SPDX-License-Identifier: MIT */
/*
 * list.c: rm_get_list and rm_get_list_alloc.
 *
 * The list is recomputed on every call (but for the second call of a
 * two-call loop, which may reuse the first one's answer: list_keep.c):
 * the backend scans the system for
 * users of the registered resources, then the entries this session acted
 * on (stopped, masked, restarted) are put in front with their status
 * history, so that after a shutdown the caller still sees what happened
 * to each application.  The store is read without its lock (writes are
 * atomic renames) and the scan runs with no lock held.
 */
#include "internal.h"
#include "native.h"

#include <stdlib.h>
#include <string.h>

static int same_process(const rm_unique_process *a, const rm_unique_process *b) {
  return a->pid == b->pid && a->start_time == b->start_time;
}

/* Several filters can select one entry (its executable, its identity,
 * its service); the most restrictive action wins. */
rm_filter_action rm__filter_for(const rm__record *r,
                                const rm_process_info *info,
                                const rm__file_id *exe) {
  rm_filter_action best = RM_FILTER_ACTION_INVALID;
  size_t i;
  for (i = 0; i < r->n_filters; i++) {
    const rm__filter *f = &r->filters[i];
    int hit = 0;
    switch (f->trigger) {
    case RM_FILTER_TRIGGER_PROCESS:
      hit = same_process(&f->process, &info->process);
      break;
    case RM_FILTER_TRIGGER_SERVICE:
      hit = info->service_short_name[0] &&
            rm__service_name_eq(f->name, info->service_short_name);
      break;
    case RM_FILTER_TRIGGER_FILE:
      if (exe) {
        rm__file_id id;
        hit = rm__os_file_id(f->name, &id) == RM_OK && id.dev == exe->dev &&
              id.ino == exe->ino;
      }
      break;
    default:
      break;
    }
    if (hit && f->action > best) best = f->action;
  }
  return best;
}

void rm__entries_free(rm__entry *e, size_t n) {
  size_t i;
  if (!e) return;
  for (i = 0; i < n; i++) free(e[i].uses);
  free(e);
}

uint32_t rm__compute_list(rm__handle *h, const rm__record *r,
                          rm__entry **out, size_t *n_out, uint32_t *reasons) {
  rm__scan_input in;
  rm__found *found = NULL;
  rm__restart_reg *regs = NULL;
  rm__entry *e;
  size_t n_found = 0, n = 0, i, k, n_regs = 0;
  uint32_t rc;

  in.files = (const char *const *)r->files.v;
  in.file_ids = r->file_ids;
  in.file_views = r->file_views;
  in.n_files = r->files.n;
  in.procs = r->procs;
  in.n_procs = r->n_procs;
  in.services = (const char *const *)r->services.v;
  in.n_services = r->services.n;
  in.cancel = &h->cancel;
  /* Registered restart commands decide restartable for their processes;
   * an unreadable store only means none are known. */
  if (rm__restarts_load(&regs, &n_regs) != RM_OK) n_regs = 0;
  in.restarts = regs;
  in.n_restarts = n_regs;
  rc = rm__os_scan(&in, &found, &n_found);
  rm__restarts_free(regs, n_regs);
  if (rc != RM_OK) return rc;

  e = calloc(r->n_acted + n_found + 1, sizeof *e);
  if (!e) {
    rm__found_free(found, n_found);
    return RM_ERROR_OUTOFMEMORY;
  }
  *reasons = 0;

  /* Entries the session acted on, with their history; RUNNING is live. */
  for (i = 0; i < r->n_acted; i++) {
    rm__entry *x = &e[n++];
    x->info = r->acted[i].info;
    x->acted = (int)i + 1;
    x->through = r->acted[i].through;
    x->info.app_status &= ~RM_STATUS_RUNNING;
    if (rm__os_alive(&x->info.process)) x->info.app_status |= RM_STATUS_RUNNING;
    x->filter = rm__filter_for(r, &x->info, NULL);
  }
  /* Live users; one already in the history takes over its uses. */
  for (i = 0; i < n_found; i++) {
    rm__found *f = &found[i];
    rm__entry *x = NULL;
    for (k = 0; k < r->n_acted; k++)
      if (same_process(&e[k].info.process, &f->info.process) &&
          strcmp(e[k].info.service_short_name, f->info.service_short_name) == 0)
        x = &e[k];
    if (!x) {
      x = &e[n++];
      x->info = f->info;
      x->info.app_status = RM_STATUS_RUNNING;
      x->reasons = f->reasons;
      x->traits = f->traits;
      x->not_restartable = f->not_restartable;
      x->through = f->through;
      x->filter = rm__filter_for(r, &f->info, f->has_exe ? &f->exe : NULL);
      *reasons |= f->reasons;
    } else {
      x->info.app_status |= RM_STATUS_RUNNING;
      x->traits = f->traits;
      x->not_restartable = f->not_restartable;
    }
    x->uses = f->uses;
    x->n_uses = f->n_uses;
    f->uses = NULL;
  }
  rm__found_free(found, n_found);
  *out = e;
  *n_out = n;
  return RM_OK;
}

/* Common front half of the two list calls. */
static uint32_t list_entries(rm__handle *h, rm__record *r, rm__entry **e,
                             size_t *n, uint32_t *reasons) {
  uint32_t rc = rm__load(h, r);
  if (rc != RM_OK) return rc;
  rc = rm__compute_list(h, r, e, n, reasons);
  if (rc != RM_OK) rm__record_free(r);
  return rc;
}

/* What a kept list is checked against (list_keep.c): the record's
 * sequence number (read without its files) and the restart
 * registrations' fingerprint, as they are now. */
static uint32_t kept_state(const rm__handle *h, uint64_t *sequence,
                           uint64_t *restarts) {
  rm__dir *d;
  rm__record r;
  uint32_t rc = rm__os_store_open(&d);
  if (rc != RM_OK) return rc;
  rc = rm__read_slot(d, h->slot, h->key, &r, 0);
  rm__os_store_close(d);
  if (rc != RM_OK) return rc;
  *sequence = r.sequence;
  rm__record_free(&r);
  return rm__restarts_fingerprint(restarts);
}

uint32_t rm_get_list(uint32_t session_handle, unsigned *n_proc_info_needed,
                     unsigned *n_proc_info, rm_process_info affected_apps[],
                     uint32_t *reboot_reasons) {
  rm__handle *h;
  rm__record r;
  rm__entry *e;
  rm__list_kept *kept;
  size_t n, i;
  uint32_t reasons, rc;
  uint64_t at_ms, restarts = 0, sequence = 0;
  if (rm__native()) return rm__native()->get_list(session_handle, n_proc_info_needed,
        n_proc_info, affected_apps, reboot_reasons);
  rc = rm__enter(session_handle, 0, 0, &h);
  if (rc != RM_OK) return rc;
  if (!n_proc_info_needed || !n_proc_info || !reboot_reasons ||
      (*n_proc_info > 0 && !affected_apps)) {
    rm__leave(h, 0);
    return RM_ERROR_BAD_ARGUMENTS;
  }
  /* The second call of a two-call loop (list_keep.c). */
  kept = rm__kept_take(h);
  if (kept && kept_state(h, &sequence, &restarts) == RM_OK &&
      rm__kept_valid(kept, sequence, restarts)) {
    rc = rm__kept_serve(kept, n_proc_info_needed, n_proc_info, affected_apps,
                        reboot_reasons);
    if (rc == RM_ERROR_MORE_DATA) rm__kept_put(h, kept);
    else rm__kept_free(kept);
    rm__leave(h, 0);
    return rc;
  }
  rm__kept_free(kept);
  /* Read before the scan, so a registration made during it forces the
   * next call to rescan. */
  if (rm__kept_window() && rm__restarts_fingerprint(&restarts) != RM_OK)
    restarts = 0;
  rc = list_entries(h, &r, &e, &n, &reasons);
  /* The window runs from the answer, not from the scan's start: a scan
   * that takes longer than the window (seconds under Wine on a loaded
   * machine) still saves the loop's second one (list_keep.c). */
  at_ms = rm__os_now_ms();
  if (rc == RM_OK) {
    *n_proc_info_needed = (unsigned)n;
    *reboot_reasons = reasons;
    if (n > *n_proc_info) {
      *n_proc_info = 0;
      rc = RM_ERROR_MORE_DATA;
      if (rm__kept_window())
        rm__kept_put(h, rm__kept_make(at_ms, r.sequence, restarts, e, n,
                                      reasons));
    } else {
      for (i = 0; i < n; i++) affected_apps[i] = e[i].info;
      *n_proc_info = (unsigned)n;
    }
    rm__entries_free(e, n);
    rm__record_free(&r);
  }
  rm__leave(h, 0);
  return rc;
}

uint32_t rm__app_files(rm_app_info *a, size_t n, rm__use_text_fn *text_of,
                       const void *ctx) {
  size_t bytes = n * sizeof(rm_file_use), k;
  uint32_t how;
  char *block, *str;
  if (n == 0) return RM_OK;
  for (k = 0; k < n; k++) bytes += strlen(text_of(ctx, k, &how)) + 1;
  block = malloc(bytes);
  if (!block) return RM_ERROR_OUTOFMEMORY;
  a->files = (rm_file_use *)(void *)block;
  a->n_files = (unsigned)n;
  str = block + n * sizeof(rm_file_use);
  for (k = 0; k < n; k++) {
    const char *text = text_of(ctx, k, &a->files[k].how);
    size_t len = strlen(text) + 1;
    memcpy(str, text, len);
    a->files[k].file = str;
    str += len;
  }
  return RM_OK;
}

/* The files of one computed entry: paths of the record. */
typedef struct entry_files {
  const rm__record *r;
  const rm__entry *e;
} entry_files;

static const char *entry_file(const void *ctx, size_t k, uint32_t *how) {
  const entry_files *f = ctx;
  *how = f->e->uses[k].how;
  return f->r->files.v[f->e->uses[k].file];
}

/* Copies entries into the caller's array (rm__app_files). */
static uint32_t to_app_infos(const rm__record *r, const rm__entry *e,
                             size_t n, rm_app_info **out) {
  rm_app_info *a;
  size_t i;
  *out = NULL;
  if (n == 0) return RM_OK;
  a = calloc(n, sizeof *a);
  if (!a) return RM_ERROR_OUTOFMEMORY;
  for (i = 0; i < n; i++) {
    entry_files f;
    a[i].info = e[i].info;
    a[i].reasons = e[i].reasons;
    a[i].traits = e[i].traits;
    a[i].not_restartable = e[i].not_restartable;
    if (e[i].acted) a[i].restart = r->acted[e[i].acted - 1].outcome;
    f.r = r;
    f.e = &e[i];
    if (rm__app_files(&a[i], e[i].n_uses, entry_file, &f) != RM_OK) {
      rm_free_list(a, (unsigned)n);
      return RM_ERROR_OUTOFMEMORY;
    }
  }
  *out = a;
  return RM_OK;
}

uint32_t rm_get_list_alloc(uint32_t session_handle, rm_app_info **apps,
                           unsigned *n_apps, uint32_t *reboot_reasons) {
  rm__handle *h;
  rm__record r;
  rm__entry *e;
  rm_app_info *a;
  size_t n;
  uint32_t reasons, rc;
  if (rm__native()) return rm__native()->get_list_alloc(session_handle, apps, n_apps,
        reboot_reasons);
  rc = rm__enter(session_handle, 0, 0, &h);
  if (rc != RM_OK) return rc;
  if (!apps || !n_apps || !reboot_reasons) {
    rm__leave(h, 0);
    return RM_ERROR_BAD_ARGUMENTS;
  }
  rc = list_entries(h, &r, &e, &n, &reasons);
  if (rc == RM_OK) {
    rc = to_app_infos(&r, e, n, &a);
    rm__entries_free(e, n);
    rm__record_free(&r);
    if (rc == RM_OK) {
      *apps = a;
      *n_apps = (unsigned)n;
      *reboot_reasons = reasons;
    }
  }
  rm__leave(h, 0);
  return rc;
}

void rm_free_list(rm_app_info *apps, unsigned n_apps) {
  unsigned i;
  if (!apps) return;
  for (i = 0; i < n_apps; i++) free(apps[i].files);
  free(apps);
}
