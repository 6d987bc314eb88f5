/* scan.c: rm__os_scan (placeholder until the list issue lands). */
#define _GNU_SOURCE
#include "linux.h"

#include <sys/stat.h>

uint32_t rm__os_scan(const rm__scan_input *in, rm__found **out, size_t *n_out) {
  (void)in;
  *out = NULL;
  *n_out = 0;
  return RM_OK;
}

uint32_t rm__os_file_id(const char *path, rm__file_id *out) {
  struct stat st;
  if (stat(path, &st) != 0) return RM_ERROR_FILE_NOT_FOUND;
  out->dev = (uint64_t)st.st_dev;
  out->ino = (uint64_t)st.st_ino;
  return RM_OK;
}
