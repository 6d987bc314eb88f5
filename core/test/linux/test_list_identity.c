/* SPDX-License-Identifier: MIT */
/*
 * test_list_identity.c: the identity each file had when it was registered.
 *
 * A file replaced by rename while a second hard link keeps the old inode
 * alive is neither deleted (no " (deleted)" in /proc) nor named by the
 * path any more: only the (dev, ino) recorded at registration ties a
 * process holding it to the registered path.  Real holders (rm_holder),
 * real renames and links.
 */
#define _GNU_SOURCE
#include "test.h"

#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

static void holder(rmt_child *c, const char *action, const char *path) {
  const char *args[3];
  args[0] = action;
  args[1] = path;
  args[2] = NULL;
  rmt_start_ready(c, rmt_helper("rm_holder"), args);
}

/* The RM_USE_* bits with which pid holds file in a fresh list, or 0. */
static uint32_t uses_of(uint32_t h, long pid, const char *file) {
  rm_app_info *apps;
  unsigned n, i, k;
  uint32_t reasons, how = 0;
  ASSERT_OK(rm_get_list_alloc(h, &apps, &n, &reasons));
  for (i = 0; i < n; i++)
    if ((long)apps[i].info.process.pid == pid)
      for (k = 0; k < apps[i].n_files; k++)
        if (strcmp(apps[i].files[k].file, file) == 0) how |= apps[i].files[k].how;
  rm_free_list(apps, n);
  return how;
}

static void replace_by_rename(const char *dir, const char *path) {
  const char *tmp = rmt_path(dir, "new.tmp");
  ASSERT_EQ(0, rmt_write_file(tmp, "new contents\n"));
  ASSERT_EQ(0, rename(tmp, path));
}

static void replaced_inode_kept_by_a_hard_link_is_found(void) {
  const char *dir = rmt_tempdir();
  const char *file = rmt_path(dir, "data.bin"), *keep = rmt_path(dir, "data.keep");
  rmt_child opener, mapper;
  uint32_t h;
  char key[33];
  struct stat st;
  rmt_fresh_store();
  ASSERT_EQ(0, rmt_write_file(file, "old contents\n"));
  ASSERT_EQ(0, link(file, keep));            /* a second name, same inode */
  holder(&opener, "open", file);
  holder(&mapper, "map", file);
  ASSERT_OK(rm_start_session(&h, 0, key));
  ASSERT_OK(rm_register_resources(h, 1, &file, 0, NULL, 0, NULL));
  ASSERT_EQ(RM_USE_OPEN_FILE, uses_of(h, opener.pid, file));
  ASSERT_EQ(RM_USE_MAPPING, uses_of(h, mapper.pid, file));
  /* Upgraded: the path names a new inode; the old one lives on as keep. */
  replace_by_rename(dir, file);
  ASSERT_EQ(0, stat(keep, &st));
  ASSERT_EQ(1, st.st_nlink);
  ASSERT_EQ(RM_USE_OPEN_FILE | RM_USE_OLDER_INODE,
            uses_of(h, opener.pid, file));
  ASSERT_EQ(RM_USE_MAPPING | RM_USE_OLDER_INODE,
            uses_of(h, mapper.pid, file));
  /* A holder of the new inode is a plain holder, and stays apart. */
  {
    rmt_child fresh;
    holder(&fresh, "open", file);
    ASSERT_EQ(RM_USE_OPEN_FILE, uses_of(h, fresh.pid, file));
    rmt_kill(&fresh);
  }
  /* Registering the path again changes nothing: its first identity is
   * the one kept (registration is deduplicated by path). */
  ASSERT_OK(rm_register_resources(h, 1, &file, 0, NULL, 0, NULL));
  ASSERT_EQ(RM_USE_OPEN_FILE | RM_USE_OLDER_INODE,
            uses_of(h, opener.pid, file));
  ASSERT_OK(rm_end_session(h));
  rmt_kill(&opener);
  rmt_kill(&mapper);
}

/* A path that did not exist when registered records no identity: a file
 * created there later is matched as the path, nothing as older. */
static void path_missing_at_registration_records_nothing(void) {
  const char *dir = rmt_tempdir();
  const char *file = rmt_path(dir, "later.bin");
  rmt_child c;
  uint32_t h;
  char key[33];
  rmt_fresh_store();
  ASSERT_OK(rm_start_session(&h, 0, key));
  ASSERT_OK(rm_register_resources(h, 1, &file, 0, NULL, 0, NULL));
  ASSERT_EQ(0, rmt_write_file(file, "x\n"));
  holder(&c, "open", file);
  ASSERT_EQ(RM_USE_OPEN_FILE, uses_of(h, c.pid, file));
  ASSERT_OK(rm_end_session(h));
  rmt_kill(&c);
}

int main(int argc, char **argv) {
  rmt_init(argc, argv);
  RUN(replaced_inode_kept_by_a_hard_link_is_found);
  RUN(path_missing_at_registration_records_nothing);
  return rmt_finish();
}
