/* SPDX-License-Identifier: MIT */
/*
 * filter.c: rm_add_filter, rm_remove_filter, rm_get_filter_list.
 *
 * Filters live in the session record, so they survive in the store with
 * the session.  A target is (trigger, key): an executable path compared
 * byte for byte, a process identity, or a service name compared without
 * ASCII case.  The last rm_add_filter for a target wins and keeps the
 * target's place in insertion order.
 */
#include "internal.h"
#include "native.h"

#include <stdlib.h>
#include <string.h>

typedef struct selector {
  rm_filter_trigger trigger;
  const char *name;
  rm_unique_process process;
  rm_filter_action action;
} selector;

static uint32_t select_target(const char *module_name,
                              const rm_unique_process *process,
                              const char *service_short_name, selector *sel) {
  int count = (module_name != NULL) + (process != NULL) +
              (service_short_name != NULL);
  memset(sel, 0, sizeof *sel);
  if (count != 1) return RM_ERROR_BAD_ARGUMENTS;
  if (module_name) {
    if (!rm__valid_path(module_name)) return RM_ERROR_BAD_ARGUMENTS;
    sel->trigger = RM_FILTER_TRIGGER_FILE;
    sel->name = module_name;
  } else if (process) {
    sel->trigger = RM_FILTER_TRIGGER_PROCESS;
    sel->process = *process;
  } else {
    if (!rm__valid_service_name(service_short_name))
      return RM_ERROR_BAD_ARGUMENTS;
    sel->trigger = RM_FILTER_TRIGGER_SERVICE;
    sel->name = service_short_name;
  }
  return RM_OK;
}

static long find_filter(const rm__record *r, const selector *sel) {
  size_t i;
  for (i = 0; i < r->n_filters; i++) {
    const rm__filter *f = &r->filters[i];
    if (f->trigger != sel->trigger) continue;
    if ((sel->trigger == RM_FILTER_TRIGGER_FILE && strcmp(f->name, sel->name) == 0) ||
        (sel->trigger == RM_FILTER_TRIGGER_SERVICE && rm__ascii_ieq(f->name, sel->name)) ||
        (sel->trigger == RM_FILTER_TRIGGER_PROCESS &&
         f->process.pid == sel->process.pid &&
         f->process.start_time == sel->process.start_time))
      return (long)i;
  }
  return -1;
}

static uint32_t add_filter(rm__dir *d, unsigned slot, rm__record *r,
                           void *ctx) {
  const selector *sel = ctx;
  long at = find_filter(r, sel);
  rm__filter *f;
  if (at >= 0) {
    r->filters[at].action = sel->action;
    return RM_OK;
  }
  f = realloc(r->filters, (r->n_filters + 1) * sizeof *f);
  if (!f) return RM_ERROR_OUTOFMEMORY;
  r->filters = f;
  f = &r->filters[r->n_filters];
  memset(f, 0, sizeof *f);
  f->action = sel->action;
  f->trigger = sel->trigger;
  f->process = sel->process;
  f->name = rm__strdup(sel->name ? sel->name : "");
  if (!f->name) return RM_ERROR_OUTOFMEMORY;
  r->n_filters++;
  return RM_OK;
}

static uint32_t remove_filter(rm__dir *d, unsigned slot, rm__record *r,
                              void *ctx) {
  long at = find_filter(r, ctx);
  if (at < 0) return RM_ERROR_FILE_NOT_FOUND;
  free(r->filters[at].name);
  memmove(&r->filters[at], &r->filters[at + 1],
          (r->n_filters - (size_t)at - 1) * sizeof *r->filters);
  r->n_filters--;
  return RM_OK;
}

uint32_t rm_add_filter(uint32_t session_handle, const char *module_name,
                       const rm_unique_process *process,
                       const char *service_short_name,
                       rm_filter_action action) {
  rm__handle *h;
  selector sel;
  uint32_t rc;
  if (rm__native()) return rm__native()->add_filter(session_handle, module_name,
        process, service_short_name, action);
  rc = rm__enter(session_handle, 1, 0, &h);
  if (rc != RM_OK) return rc;
  rc = select_target(module_name, process, service_short_name, &sel);
  if (rc == RM_OK && action != RM_NO_RESTART && action != RM_NO_SHUTDOWN)
    rc = RM_ERROR_BAD_ARGUMENTS;
  sel.action = action;
  if (rc == RM_OK) rc = rm__update(h, add_filter, &sel);
  rm__leave(h, 0);
  return rc;
}

uint32_t rm_remove_filter(uint32_t session_handle, const char *module_name,
                          const rm_unique_process *process,
                          const char *service_short_name) {
  rm__handle *h;
  selector sel;
  uint32_t rc;
  if (rm__native()) return rm__native()->remove_filter(session_handle, module_name,
        process, service_short_name);
  rc = rm__enter(session_handle, 1, 0, &h);
  if (rc != RM_OK) return rc;
  rc = select_target(module_name, process, service_short_name, &sel);
  if (rc == RM_OK) rc = rm__update(h, remove_filter, &sel);
  rm__leave(h, 0);
  return rc;
}

/* Size of the filter buffer: the records, then each string, every piece
 * aligned for rm_filter_info so records never straddle. */
static size_t align_up(size_t n) {
  size_t a = sizeof(void *) > 8 ? sizeof(void *) : 8;
  return (n + a - 1) / a * a;
}

uint32_t rm_get_filter_list(uint32_t session_handle, void *filter_buf,
                            uint32_t filter_buf_size,
                            uint32_t *filter_buf_needed) {
  rm__handle *h;
  rm__record r;
  size_t need, i;
  unsigned char *buf = filter_buf;
  uint32_t rc;
  if (rm__native()) return rm__native()->get_filter_list(session_handle, filter_buf,
        filter_buf_size, filter_buf_needed);
  rc = rm__enter(session_handle, 1, 0, &h);
  if (rc != RM_OK) return rc;
  if (filter_buf_size > 0 && !filter_buf) {
    rm__leave(h, 0);
    return RM_ERROR_BAD_ARGUMENTS;
  }
  rc = rm__load(h, &r);
  if (rc != RM_OK) {
    rm__leave(h, 0);
    return rc;
  }
  need = r.n_filters * sizeof(rm_filter_info);
  for (i = 0; i < r.n_filters; i++)
    if (r.filters[i].trigger != RM_FILTER_TRIGGER_PROCESS)
      need += align_up(strlen(r.filters[i].name) + 1);
  if (!filter_buf_needed) {
    rc = RM_ERROR_MORE_DATA;
  } else {
    *filter_buf_needed = (uint32_t)need;
    if (need > filter_buf_size) rc = RM_ERROR_MORE_DATA;
  }
  if (rc == RM_OK && need > 0) {
    size_t str_at = r.n_filters * sizeof(rm_filter_info);
    for (i = 0; i < r.n_filters; i++) {
      rm_filter_info fi;
      const rm__filter *f = &r.filters[i];
      memset(&fi, 0, sizeof fi);
      fi.action = f->action;
      fi.trigger = f->trigger;
      fi.next_offset = i + 1 < r.n_filters ? (uint32_t)sizeof(rm_filter_info) : 0;
      if (f->trigger == RM_FILTER_TRIGGER_PROCESS) {
        fi.u.process = f->process;
      } else {
        size_t len = strlen(f->name) + 1;
        memcpy(buf + str_at, f->name, len);
        if (f->trigger == RM_FILTER_TRIGGER_FILE)
          fi.u.file_name = (const char *)(buf + str_at);
        else
          fi.u.service_short_name = (const char *)(buf + str_at);
        str_at += align_up(len);
      }
      memcpy(buf + i * sizeof(rm_filter_info), &fi, sizeof fi);
    }
  }
  rm__record_free(&r);
  rm__leave(h, 0);
  return rc;
}
