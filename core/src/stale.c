/* SPDX-License-Identifier: MIT */
/*
 * stale.c: rm_get_stale_list, the processes that still map or run files
 * an upgrade has deleted or replaced (docs/linux.md, Stale processes).
 *
 * No session and no registration: the backend finds the deleted files by
 * the identity each mapping has (rm__os_scan_stale), so no name a user
 * controls is ever resolved again to decide what is stale.  Each entry
 * comes out as rm_get_list_alloc's do, one block per entry holding its
 * rm_file_use records and then the display texts they point to, so
 * rm_free_list releases both.
 */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

static const char *stale_file(const void *ctx, size_t k, uint32_t *how) {
  const rm__found *f = ctx;
  *how = f->stale[k].how;
  return f->stale[k].text;
}

static uint32_t to_app_infos(const rm__found *f, size_t n, rm_app_info **out) {
  rm_app_info *a;
  size_t i;
  *out = NULL;
  if (n == 0) return RM_OK;
  a = calloc(n, sizeof *a);
  if (!a) return RM_ERROR_OUTOFMEMORY;
  for (i = 0; i < n; i++) {
    a[i].info = f[i].info;
    a[i].info.app_status = RM_STATUS_RUNNING;
    a[i].reasons = f[i].reasons;
    a[i].traits = f[i].traits;
    a[i].not_restartable = f[i].not_restartable;
    if (rm__app_files(&a[i], f[i].n_stale, stale_file, &f[i]) != RM_OK) {
      rm_free_list(a, (unsigned)n);
      return RM_ERROR_OUTOFMEMORY;
    }
  }
  *out = a;
  return RM_OK;
}

uint32_t rm_get_stale_list(rm_app_info **apps, unsigned *n_apps,
                           uint32_t *reboot_reasons, unsigned *n_uninspected) {
  static const volatile int never = 0;
  rm__found *found = NULL;
  size_t n = 0, uninspected = 0, i;
  uint32_t reasons = 0, rc;
  if (!apps || !n_apps || !reboot_reasons) return RM_ERROR_BAD_ARGUMENTS;
  rc = rm__os_scan_stale(&never, &found, &n, &uninspected);
  if (rc != RM_OK) return rc;
  rc = to_app_infos(found, n, apps);
  for (i = 0; i < n; i++) reasons |= found[i].reasons;
  rm__found_free(found, n);
  if (rc != RM_OK) return rc;
  *n_apps = (unsigned)n;
  *reboot_reasons = reasons;
  if (n_uninspected)
    *n_uninspected = uninspected > 0xFFFFFFFFu ? 0xFFFFFFFFu
                                               : (unsigned)uninspected;
  return RM_OK;
}
