/* SPDX-License-Identifier: MIT */
/*
 * leftovers.c: what an upgrade leaves running beyond mapped files, with
 * no session: interpreters on replaced scripts (rm_get_stale_scripts)
 * and a kernel older than the newest installed (rm_get_kernel_info).
 * The backend finds them (docs/linux.md, Replaced scripts and The
 * kernel); this file checks arguments and hands out the results.
 */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

uint32_t rm_get_stale_scripts(rm_stale_script **scripts,
                              unsigned *n_scripts) {
  rm__script_verdict *v = NULL;
  rm_stale_script *out;
  size_t n = 0, i;
  uint32_t rc;
  if (!scripts || !n_scripts) return RM_ERROR_BAD_ARGUMENTS;
  rc = rm__os_stale_scripts(&v, &n);
  if (rc != RM_OK) return rc;
  if (n > 0xFFFFFFFFu) n = 0xFFFFFFFFu;
  out = n ? calloc(n, sizeof *out) : NULL;
  if (n && !out) {
    rm__script_verdicts_free(v, n);
    return RM_ERROR_OUTOFMEMORY;
  }
  for (i = 0; i < n; i++) {            /* the paths change hands */
    out[i].process = v[i].process;
    out[i].interpreter = v[i].interpreter;
    out[i].path = v[i].path;
    out[i].why = v[i].why;
    v[i].path = NULL;
  }
  rm__script_verdicts_free(v, n);
  *scripts = out;
  *n_scripts = (unsigned)n;
  return RM_OK;
}

void rm_free_stale_scripts(rm_stale_script *scripts, unsigned n_scripts) {
  unsigned i;
  if (!scripts) return;
  for (i = 0; i < n_scripts; i++) free(scripts[i].path);
  free(scripts);
}

uint32_t rm_get_kernel_info(const char *root, rm_kernel_info *out) {
  if (!out || (root && !rm__os_path_absolute(root)))
    return RM_ERROR_BAD_ARGUMENTS;
  return rm__os_kernel_info(root, out);
}
