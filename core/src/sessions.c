/* SPDX-License-Identifier: MIT */
/*
 * sessions.c: rm_list_sessions, the sessions of the caller's store.
 *
 * Not in the Win32 API: a look at the store for people debugging
 * installers made of several processes (the restartmgr command's
 * "session" subcommand).  It reads each slot the way joining does
 * (no lock: writers replace files atomically), keeps the records whose
 * owner is alive, and copies what was registered into memory the caller
 * frees with rm_free_sessions.
 */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Copies a string vector into a malloc'd char* array (NULL when empty). */
static char **copy_strv(const rm__strv *sv, int *oom) {
  char **v;
  size_t i;
  if (sv->n == 0) return NULL;
  v = calloc(sv->n, sizeof *v);
  if (!v) {
    *oom = 1;
    return NULL;
  }
  for (i = 0; i < sv->n; i++)
    if (!(v[i] = rm__strdup(sv->v[i]))) *oom = 1;
  return v;
}

static void free_strs(char **v, unsigned n) {
  unsigned i;
  if (!v) return;
  for (i = 0; i < n; i++) free(v[i]);
  free(v);
}

/* Fills one rm_session_info from a record.  RM_OK or OUTOFMEMORY (then
 * what was copied is released by the caller through rm_free_sessions). */
static uint32_t fill(rm_session_info *s, unsigned slot, const rm__record *r) {
  int oom = 0;
  memset(s, 0, sizeof *s);
  memcpy(s->key, r->key, sizeof s->key);
  s->slot = slot;
  s->owner = r->owner;
  s->shutdown_called = r->shutdown_called;
  s->n_filters = (unsigned)r->n_filters;
  s->n_acted = (unsigned)r->n_acted;
  s->files = copy_strv(&r->files, &oom);
  s->n_files = s->files ? (unsigned)r->files.n : 0;
  s->services = copy_strv(&r->services, &oom);
  s->n_services = s->services ? (unsigned)r->services.n : 0;
  if (r->n_procs > 0) {
    s->processes = malloc(r->n_procs * sizeof *s->processes);
    if (s->processes) {
      memcpy(s->processes, r->procs, r->n_procs * sizeof *s->processes);
      s->n_processes = (unsigned)r->n_procs;
    } else {
      oom = 1;
    }
  }
  return oom ? RM_ERROR_OUTOFMEMORY : RM_OK;
}

uint32_t rm_list_sessions(rm_session_info **sessions, unsigned *n_sessions) {
  rm_session_info *v;
  rm__dir *d;
  unsigned slot, n = 0;
  uint32_t rc;
  if (!sessions || !n_sessions) return RM_ERROR_BAD_ARGUMENTS;
  *sessions = NULL;
  *n_sessions = 0;
  v = calloc(RM_MAX_SESSIONS, sizeof *v);
  if (!v) return RM_ERROR_OUTOFMEMORY;
  rc = rm__os_store_open(&d);
  if (rc != RM_OK) {
    free(v);
    return rc;
  }
  for (slot = 0; slot < RM_MAX_SESSIONS && rc == RM_OK; slot++) {
    rm__record r;
    uint32_t got = rm__read_slot(d, slot, NULL, &r, 1);
    if (got == RM_ERROR_OUTOFMEMORY) rc = got;
    if (got != RM_OK) continue;          /* free, ended, abandoned, corrupt */
    rc = fill(&v[n++], slot, &r);
    rm__record_free(&r);
  }
  rm__os_store_close(d);
  if (rc != RM_OK) {
    rm_free_sessions(v, n);
    return rc;
  }
  if (n == 0) {
    free(v);
    v = NULL;
  }
  *sessions = v;
  *n_sessions = n;
  return RM_OK;
}

void rm_free_sessions(rm_session_info *sessions, unsigned n_sessions) {
  unsigned i;
  if (!sessions) return;
  for (i = 0; i < n_sessions; i++) {
    free_strs(sessions[i].files, sessions[i].n_files);
    free_strs(sessions[i].services, sessions[i].n_services);
    free(sessions[i].processes);
  }
  free(sessions);
}
