/* SPDX-License-Identifier: MIT */
/*
 * register.c: rm_register_resources, and the checks of what it stores.
 *
 * Registration must stay cheap at any size, because it runs under the
 * store lock that every other writer of the user waits for: the call's
 * items are deduplicated with a hash set (never item by item against the
 * whole session), the files' identities are taken before the lock, and
 * files are appended to the session's journal (store.c) instead of being
 * rewritten with the record.
 */
#include "internal.h"
#include "native.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>


typedef struct reg_ctx {
  unsigned n_files;
  const char *const *files;
  const rm__file_id *file_ids;      /* [n_files], taken before the lock */
  uint32_t view;                    /* the caller's view of the paths */
  unsigned n_apps;
  const rm_unique_process *apps;
  unsigned n_services;
  const char *const *services;
  unsigned char *keep;              /* scratch: [max of the three counts] */
} reg_ctx;

/* Deduplication without quadratic work: the items being added go into a
 * small open-addressing table (a power of two, at least twice their
 * count); the call's own duplicates are dropped while filling it, and the
 * record's existing items are then looked up in it once each.  So a call
 * costs O(items added + items already registered), whatever the sizes. */
typedef struct dedup {
  size_t *slot;                     /* index of an added item + 1; 0 empty */
  size_t mask;
} dedup;

static uint64_t hash_bytes(const void *p, size_t n, uint64_t h) {
  const unsigned char *u = p;
  size_t i;
  for (i = 0; i < n; i++) {
    h ^= u[i];
    h *= 0x100000001b3ull;            /* FNV-1a */
  }
  return h ^ (h >> 32);
}

static uint64_t hash_str(const char *s) {
  return hash_bytes(s, strlen(s), 0xcbf29ce484222325ull);
}

static uint64_t hash_proc(const rm_unique_process *p) {
  uint64_t h = hash_bytes(&p->pid, sizeof p->pid, 0xcbf29ce484222325ull);
  return hash_bytes(&p->start_time, sizeof p->start_time, h);
}

static int same_proc(const rm_unique_process *a, const rm_unique_process *b) {
  return a->pid == b->pid && a->start_time == b->start_time;
}

static int dedup_init(dedup *d, size_t n) {
  size_t cap = 16;
  while (cap < 2 * n) cap <<= 1;
  d->slot = calloc(cap, sizeof *d->slot);
  d->mask = cap - 1;
  return d->slot ? 0 : -1;
}

/* keep[i] = 1 for the first occurrence of each string of add[] that have
 * does not hold yet; with have_views, only have's strings of this view
 * count (a path in another view may be another file). */
static uint32_t dedup_strings(const char *const *add, unsigned n,
                              const rm__strv *have,
                              const uint32_t *have_views, uint32_t view,
                              unsigned char *keep) {
  dedup d;
  size_t i, k;
  if (dedup_init(&d, n) != 0) return RM_ERROR_OUTOFMEMORY;
  for (i = 0; i < n; i++) {
    k = (size_t)hash_str(add[i]) & d.mask;
    while (d.slot[k] && strcmp(add[d.slot[k] - 1], add[i]) != 0)
      k = (k + 1) & d.mask;
    keep[i] = d.slot[k] == 0;
    if (keep[i]) d.slot[k] = i + 1;
  }
  for (i = 0; i < have->n; i++) {
    if (have_views && have_views[i] != view) continue;
    k = (size_t)hash_str(have->v[i]) & d.mask;
    while (d.slot[k] && strcmp(add[d.slot[k] - 1], have->v[i]) != 0)
      k = (k + 1) & d.mask;
    if (d.slot[k]) keep[d.slot[k] - 1] = 0;
  }
  free(d.slot);
  return RM_OK;
}

static uint32_t dedup_procs(const rm_unique_process *add, unsigned n,
                            const rm_unique_process *have, size_t n_have,
                            unsigned char *keep) {
  dedup d;
  size_t i, k;
  if (dedup_init(&d, n) != 0) return RM_ERROR_OUTOFMEMORY;
  for (i = 0; i < n; i++) {
    k = (size_t)hash_proc(&add[i]) & d.mask;
    while (d.slot[k] && !same_proc(&add[d.slot[k] - 1], &add[i]))
      k = (k + 1) & d.mask;
    keep[i] = d.slot[k] == 0;
    if (keep[i]) d.slot[k] = i + 1;
  }
  for (i = 0; i < n_have; i++) {
    k = (size_t)hash_proc(&have[i]) & d.mask;
    while (d.slot[k] && !same_proc(&add[d.slot[k] - 1], &have[i]))
      k = (k + 1) & d.mask;
    if (d.slot[k]) keep[d.slot[k] - 1] = 0;
  }
  free(d.slot);
  return RM_OK;
}

/* The files of this call that are new to it (the journal's duplicates
 * are dropped when it is read, or when it is compacted), appended to the
 * journal; when the journal has grown past twice its distinct paths
 * (plus some slack) it is rewritten whole, deduplicated, under the next
 * generation instead, so that registering the same files again and again
 * cannot grow it without bound (rm__update removes the old generation
 * once the record points past it). */
static uint32_t add_files(rm__dir *d, unsigned slot, rm__record *r,
                          reg_ctx *c) {
  rm__strv none = { NULL, 0, 0 };
  const char **paths;
  rm__file_id *ids;
  uint32_t *views;
  size_t n = 0, i;
  char name[64], *text = NULL;
  size_t len = 0;
  uint32_t rc = dedup_strings(c->files, c->n_files, &none, NULL, 0, c->keep);
  int compact = r->journal.gen &&
                r->journal.lines + c->n_files > 2 * r->journal.unique + 1024;
  if (rc != RM_OK) return rc;
  if (compact) {
    rc = rm__read_files(d, slot, r);
    if (rc == RM_OK)
      rc = dedup_strings(c->files, c->n_files, &r->files, r->file_views,
                         c->view, c->keep);
    if (rc != RM_OK) return rc;
  }
  paths = malloc((r->files.n + c->n_files + 1) * sizeof *paths);
  ids = malloc((r->files.n + c->n_files + 1) * sizeof *ids);
  views = malloc((r->files.n + c->n_files + 1) * sizeof *views);
  if (!paths || !ids || !views) {
    free(paths);
    free(ids);
    free(views);
    return RM_ERROR_OUTOFMEMORY;
  }
  for (i = 0; compact && i < r->files.n; i++, n++) {
    paths[n] = r->files.v[i];
    ids[n] = r->file_ids[i];
    views[n] = r->file_views[i];
  }
  for (i = 0; i < c->n_files; i++)
    if (c->keep[i]) {
      paths[n] = c->files[i];
      views[n] = c->view;
      ids[n++] = c->file_ids[i];
    }
  if (n > 0) rc = rm__files_format(paths, ids, views, n, &text, &len);
  if (rc == RM_OK && n > 0) {
    if (!r->journal.gen || compact) {
      /* A new generation, written from offset 0.  A session's first one
       * is random, so a reader still holding an ended session's record
       * never reads the journal of the next session in that slot. */
      if (r->journal.gen) {
        r->journal.gen++;
      } else {
        unsigned char rnd[4];
        rc = rm__os_random(rnd, sizeof rnd);
        r->journal.gen = 1 + ((uint64_t)rnd[0] | (uint64_t)rnd[1] << 8 |
                              (uint64_t)rnd[2] << 16 | (uint64_t)rnd[3] << 24);
      }
      r->journal.lines = r->journal.bytes = r->journal.unique = 0;
    }
    rm__journal_name(name, sizeof name, slot, r->journal.gen);
    if (rc == RM_OK)
      rc = rm__os_store_append(d, name, r->journal.bytes, text, len);
    if (rc == RM_OK) {
      r->journal.lines += n;
      r->journal.bytes += len;
      if (!r->journal.unique) r->journal.unique = n;
    }
  }
  free(text);
  free(paths);
  free(ids);
  free(views);
  return rc;
}

static uint32_t add_others(rm__record *r, reg_ctx *c) {
  unsigned i, kept = 0;
  uint32_t rc = dedup_strings(c->services, c->n_services, &r->services,
                              NULL, 0, c->keep);
  for (i = 0; i < c->n_services && rc == RM_OK; i++)
    if (c->keep[i]) rc = rm__strv_push(&r->services, c->services[i]);
  if (rc == RM_OK)
    rc = dedup_procs(c->apps, c->n_apps, r->procs, r->n_procs, c->keep);
  for (i = 0; i < c->n_apps && rc == RM_OK; i++) kept += c->keep[i];
  if (rc == RM_OK && kept) {
    rm_unique_process *p = realloc(r->procs, (r->n_procs + kept) * sizeof *p);
    if (!p) return RM_ERROR_OUTOFMEMORY;
    r->procs = p;
    for (i = 0; i < c->n_apps; i++)
      if (c->keep[i]) r->procs[r->n_procs++] = c->apps[i];
  }
  return rc;
}

/* One registration under the lock (rm__update): journal append (durable
 * first), then the record that commits it, in one atomic replace. */
static uint32_t register_locked(rm__dir *d, unsigned slot, rm__record *r,
                                void *ctx) {
  reg_ctx *c = ctx;
  uint32_t rc = add_others(r, c);
  if (rc == RM_OK && c->n_files) rc = add_files(d, slot, r, c);
  return rc;
}

uint32_t rm_register_resources(uint32_t session_handle,
    unsigned n_files, const char *const file_names[],
    unsigned n_applications, const rm_unique_process applications[],
    unsigned n_services, const char *const service_names[]) {
  rm__handle *h;
  reg_ctx ctx;
  rm__file_id *ids;
  unsigned i, most;
  uint32_t rc;
  if (rm__native()) return rm__native()->register_resources(session_handle, n_files,
        file_names, n_applications, applications, n_services, service_names);
  rc = rm__enter(session_handle, 0, 0, &h);
  if (rc != RM_OK) return rc;
  if ((n_files && !file_names) || (n_applications && !applications) ||
      (n_services && !service_names)) {
    rm__leave(h, 0);
    return RM_ERROR_BAD_ARGUMENTS;
  }
  for (i = 0; i < n_files; i++)
    if (!rm__valid_path(file_names[i])) {
      rm__leave(h, 0);
      return RM_ERROR_BAD_ARGUMENTS;
    }
  for (i = 0; i < n_services; i++)
    if (!rm__valid_service_name(service_names[i])) {
      rm__leave(h, 0);
      return RM_ERROR_BAD_ARGUMENTS;
    }
  if (n_files + n_applications + n_services == 0) {
    /* A no-op, but a handle of an ended session still says so. */
    rm__record r;
    rc = rm__load(h, &r);
    if (rc == RM_OK) rm__record_free(&r);
    rm__leave(h, 0);
    return rc;
  }
  ctx.n_files = n_files;
  ctx.files = file_names;
  ctx.n_apps = n_applications;
  ctx.apps = applications;
  ctx.n_services = n_services;
  ctx.services = service_names;
  /* Each file's identity now, outside the lock: the scan also finds an
   * inode that was replaced later but lives on under another name. */
  ids = calloc(n_files ? n_files : 1, sizeof *ids);
  most = n_files > n_services ? n_files : n_services;
  if (n_applications > most) most = n_applications;
  ctx.keep = malloc((size_t)most + 1);
  if (!ids || !ctx.keep) {
    free(ids);
    free(ctx.keep);
    rm__leave(h, 0);
    return RM_ERROR_OUTOFMEMORY;
  }
  rm__os_file_ids(file_names, n_files, ids);
  ctx.file_ids = ids;
  ctx.view = rm__os_file_view();
  rc = rm__update(h, register_locked, &ctx);
  free(ids);
  free(ctx.keep);
  rm__leave(h, 0);
  return rc;
}
