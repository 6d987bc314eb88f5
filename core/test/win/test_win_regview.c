/* SPDX-License-Identifier: MIT */
/*
 * test_win_regview.c: a registered file is the file its registrant named
 * (docs/windows.md, Registration in the registrant's view).  A secondary
 * installer, another process, joins the session and registers; the
 * primary lists:
 *  - the file the path named at registration, replaced by rename since
 *    while a process still holds it: its holder is listed with
 *    RM_USE_OLDER_INODE, beside the holder of the file the path names
 *    now (as on Linux: docs/linux.md, Older inodes);
 *  - a path that did not exist at registration, created since: its holder
 *    is found, the path read at list time in the registrant's view.
 * A registrant of the other width (another view) is wine.rstrtmgr_wow64's:
 * it needs 32-bit Wine.
 */
#include "test.h"

#include <stdlib.h>
#include <string.h>
#include <windows.h>

/* {===== Helpers */

/* rm_winapp with one option and its value; waits for "ready PID". */
static void start_app(rmt_child *c, const char *opt, const char *value) {
  char *argv[4], line[128];
  unsigned long pid = 0;
  argv[0] = (char *)(uintptr_t)rmt_helper("rm_winapp");
  argv[1] = (char *)(uintptr_t)opt;
  argv[2] = (char *)(uintptr_t)value;
  argv[3] = NULL;
  ASSERT_EQ(0, rmt_spawn_win(c, argv, CREATE_NEW_CONSOLE, NULL));
  ASSERT_EQ(0, rmt_read_line(c, line, sizeof line, 30000));
  ASSERT_EQ(1, sscanf(line, "ready %lu", &pid));
  ASSERT_EQ(c->pid, pid);
}

/* The secondary installer: another process joins the session by its key
 * and registers one file, then ends its handle. */
static void register_from_another_process(const char *key, const char *path) {
  rmt_child c;
  char line[64];
  ASSERT_EQ(0, rmt_spawn_self(&c, "register", key, path));
  ASSERT_EQ(0, rmt_read_line(&c, line, sizeof line, 30000));
  ASSERT_STR_EQ("registered 0", line);
  ASSERT_EQ(0, rmt_wait(&c, 30000));
}

static int secondary_main(char **args) {
  uint32_t h, rc;
  const char *files[1];
  if (strcmp(args[0], "register") != 0) return 2;
  rc = rm_join_session(&h, args[1]);
  files[0] = args[2];
  if (rc == RM_OK) rc = rm_register_resources(h, 1, files, 0, NULL, 0, NULL);
  printf("registered %u\n", (unsigned)rc);
  fflush(stdout);
  if (rc == RM_OK) rm_end_session(h);
  return 0;
}

static void replace_by_rename(const char *file, const char *next,
                              const char *text) {
  char aside[620];
  snprintf(aside, sizeof aside, "%s.old", file);
  ASSERT_EQ(0, rmt_write_file(next, text));
  ASSERT(MoveFileExA(file, aside, 0));
  ASSERT(MoveFileExA(next, file, 0));
}

static const rm_app_info *entry(rm_app_info *apps, unsigned n, long pid) {
  unsigned i;
  for (i = 0; i < n; i++)
    if ((long)apps[i].info.process.pid == pid) return &apps[i];
  return NULL;
}

/* The one file an entry holds, how. */
static uint32_t held_how(const rm_app_info *a, const char *path) {
  ASSERT(a != NULL);
  ASSERT_EQ(1, a->n_files);
  ASSERT_STR_EQ(path, a->files[0].file);
  return a->files[0].how;
}

/* }=====
 * {===== Cases */

static void file_replaced_by_rename_after_registration(void) {
  char key[33], file[600], next[600];
  uint32_t h, reasons;
  rm_app_info *apps;
  unsigned n;
  rmt_child old_holder, new_holder;
  const char *dir = rmt_tempdir();
  rmt_fresh_store();
  snprintf(file, sizeof file, "%s\\lib.dll", dir);
  snprintf(next, sizeof next, "%s\\lib.dll.new", dir);
  ASSERT_EQ(0, rmt_write_file(file, "the registered file\n"));
  start_app(&old_holder, "--hold-shared", file);
  ASSERT_OK(rm_start_session(&h, 0, key));
  register_from_another_process(key, file);
  /* The installer replaces it by rename, as installers do with a file in
   * use: the held file is moved aside (its holder shares delete), the new
   * one moved in. */
  replace_by_rename(file, next, "the file that replaced it\n");
  start_app(&new_holder, "--hold", file);

  ASSERT_OK(rm_get_list_alloc(h, &apps, &n, &reasons));
  ASSERT_EQ(2, n);
  ASSERT_EQ(RM_REBOOT_REASON_NONE, reasons);
  ASSERT_EQ(RM_USE_OPEN_FILE | RM_USE_OLDER_INODE,
            held_how(entry(apps, n, old_holder.pid), file));
  ASSERT_EQ(RM_USE_OPEN_FILE, held_how(entry(apps, n, new_holder.pid), file));
  ASSERT_EQ(RM_APP_CONSOLE, entry(apps, n, old_holder.pid)->info.app_type);
  rm_free_list(apps, n);

  /* Once the holder of the replaced file is gone, only the other is. */
  rmt_kill(&old_holder);
  ASSERT_OK(rm_get_list_alloc(h, &apps, &n, &reasons));
  ASSERT_EQ(1, n);
  ASSERT_EQ(RM_USE_OPEN_FILE, held_how(entry(apps, n, new_holder.pid), file));
  rm_free_list(apps, n);
  ASSERT_OK(rm_end_session(h));
}

/* Registered again by the primary, after the rename: one registration of
 * the path in this view, the first (and its identity) kept, as the
 * journal keeps it; the file the path names now still counts. */
static void same_path_registered_twice_keeps_the_first(void) {
  char key[33], file[600], next[600];
  uint32_t h, reasons;
  rm_app_info *apps;
  unsigned n;
  rmt_child old_holder, new_holder;
  const char *files[1];
  const char *dir = rmt_tempdir();
  rmt_fresh_store();
  snprintf(file, sizeof file, "%s\\twice.dll", dir);
  snprintf(next, sizeof next, "%s\\twice.dll.new", dir);
  ASSERT_EQ(0, rmt_write_file(file, "first\n"));
  start_app(&old_holder, "--hold-shared", file);
  ASSERT_OK(rm_start_session(&h, 0, key));
  register_from_another_process(key, file);
  replace_by_rename(file, next, "second\n");
  start_app(&new_holder, "--hold", file);
  files[0] = file;
  ASSERT_OK(rm_register_resources(h, 1, files, 0, NULL, 0, NULL));
  ASSERT_OK(rm_get_list_alloc(h, &apps, &n, &reasons));
  ASSERT_EQ(2, n);
  ASSERT_EQ(RM_USE_OPEN_FILE | RM_USE_OLDER_INODE,
            held_how(entry(apps, n, old_holder.pid), file));
  ASSERT_EQ(RM_USE_OPEN_FILE, held_how(entry(apps, n, new_holder.pid), file));
  rm_free_list(apps, n);
  ASSERT_OK(rm_end_session(h));
}

static void path_created_after_registration(void) {
  char key[33], file[600];
  uint32_t h, reasons;
  rm_app_info *apps;
  unsigned n;
  rmt_child holder;
  const char *dir = rmt_tempdir();
  rmt_fresh_store();
  snprintf(file, sizeof file, "%s\\later.dll", dir);
  ASSERT_OK(rm_start_session(&h, 0, key));
  register_from_another_process(key, file);          /* not there yet */
  ASSERT_OK(rm_get_list_alloc(h, &apps, &n, &reasons));
  ASSERT_EQ(0, n);
  rm_free_list(apps, n);
  ASSERT_EQ(0, rmt_write_file(file, "created after registration\n"));
  start_app(&holder, "--hold", file);
  ASSERT_OK(rm_get_list_alloc(h, &apps, &n, &reasons));
  ASSERT_EQ(1, n);
  ASSERT_EQ(RM_USE_OPEN_FILE, held_how(entry(apps, n, holder.pid), file));
  rm_free_list(apps, n);
  ASSERT_OK(rm_end_session(h));
}

/* }===== */

int main(int argc, char **argv) {
  rmt_init(argc, argv);
  if (rmt_child_args) return secondary_main(rmt_child_args);
  RUN(file_replaced_by_rename_after_registration);
  RUN(same_path_registered_twice_keeps_the_first);
  RUN(path_created_after_registration);
  return rmt_finish();
}
