/* SPDX-License-Identifier: MIT */
/*
 * trees.c: rm_register_trees, "who uses anything under this directory"
 * (an extension: Windows' rule that a registered directory is
 * ACCESS_DENIED stays in rm_register_resources and rm_get_list).
 *
 * The directories are walked now, without following links (a link is
 * not registered, nor what it points to; FIFOs, devices and sockets are
 * never opened), at most 64 levels deep and RM__TREE_MAX_FILES files in
 * all, and every regular file found is registered in one store write.
 * So a process counts when it uses a file that is under the directory
 * when this runs: its open files, mappings and executable, or an older
 * copy of such a path (RM_USE_OLDER_INODE).  A file deleted from the
 * directory before the walk is not found (docs/linux.md, Who uses a
 * directory).
 */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

#define RM__TREE_MAX_FILES 1000000u

static uint32_t walk(const char *dir, rm__strv *out, int depth) {
  rm__strv names = { NULL, 0, 0 };
  size_t i;
  uint32_t rc = RM_OK;
  int err;
  if (depth > 64 || out->n >= RM__TREE_MAX_FILES) return RM_OK;
  if (rm__os_tx_list(dir, &names, &err) != RM_OK) return RM_OK;
  for (i = 0; i < names.n && rc == RM_OK; i++) {
    char *p = rm__path_join(dir, names.v[i]);
    uint32_t type;
    rm__file_id id;
    if (!p) {
      rc = RM_ERROR_OUTOFMEMORY;
      break;
    }
    if (rm__os_tx_lstat(p, &type, &id, &err) == RM_OK) {
      if (type == RM__TX_FILE && rm__valid_path(p))
        rc = rm__strv_push(out, p);
      else if (type == RM__TX_DIR)
        rc = walk(p, out, depth + 1);
    }
    free(p);
  }
  rm__strv_free(&names);
  return rc;
}

uint32_t rm_register_trees(uint32_t session_handle, unsigned n_dirs,
                           const char *const dirs[], unsigned *n_files) {
  rm__strv files = { NULL, 0, 0 };
  unsigned i;
  uint32_t rc = RM_OK;
  if (n_files) *n_files = 0;
  if (n_dirs && !dirs) return RM_ERROR_BAD_ARGUMENTS;
  for (i = 0; i < n_dirs; i++) {
    uint32_t type;
    rm__file_id id;
    int err;
    if (!dirs[i] || !rm__valid_path(dirs[i]) ||
        !rm__os_path_absolute(dirs[i]))
      return RM_ERROR_BAD_ARGUMENTS;
    if (rm__os_tx_lstat(dirs[i], &type, &id, &err) != RM_OK)
      return RM_ERROR_ACCESS_DENIED;
    if (type == RM__TX_NONE) return RM_ERROR_FILE_NOT_FOUND;
    if (type != RM__TX_DIR) return RM_ERROR_BAD_ARGUMENTS;
  }
  for (i = 0; i < n_dirs && rc == RM_OK; i++) rc = walk(dirs[i], &files, 0);
  if (rc == RM_OK && files.n)
    rc = rm_register_resources(session_handle, (unsigned)files.n,
                               (const char *const *)files.v, 0, NULL, 0,
                               NULL);
  else if (rc == RM_OK)      /* nothing under them: still check the handle */
    rc = rm_register_resources(session_handle, 0, NULL, 0, NULL, 0, NULL);
  if (rc == RM_OK && n_files) *n_files = (unsigned)files.n;
  rm__strv_free(&files);
  return rc;
}
