/* SPDX-License-Identifier: MIT */
/*
 * leftovers.c: replaced scripts and a newer kernel are Linux questions
 * (docs/linux.md, Replaced scripts and The kernel).  On Windows an
 * installer that replaces a script host's file or needs a reboot says so
 * itself, so both answers are empty.
 */
#include "win.h"

#include <string.h>

uint32_t rm__os_stale_scripts(rm__script_verdict **out, size_t *n) {
  *out = NULL;
  *n = 0;
  return RM_OK;
}

void rm__script_verdicts_free(rm__script_verdict *v, size_t n) {
  (void)v;
  (void)n;
}

uint32_t rm__os_kernel_info(const char *root, rm_kernel_info *out) {
  (void)root;
  memset(out, 0, sizeof *out);
  return RM_OK;
}
