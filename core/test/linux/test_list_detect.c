/* SPDX-License-Identifier: MIT */
/*
 * test_list_detect.c: rm_get_list on Linux finds exactly the processes
 * that use the registered files, and says how (rm_get_list_alloc).
 *
 * Every case starts real rm_holder processes that open, map or execute
 * real files in a private temp dir, then lists through a real session and
 * checks exact counts, codes and values.  Every list is taken twice, with
 * rm_get_list_alloc and with rm_get_list, and the two must agree.
 */
#define _GNU_SOURCE
#include "test.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

static uint32_t session;

typedef struct listing {
  rm_app_info *apps;
  unsigned n;
  uint32_t reasons;
} listing;

static void start(void) {
  char key[RM_SESSION_KEY_CHARS + 1];
  rmt_fresh_store();
  ASSERT_OK(rm_start_session(&session, 0, key));
}

static void register_file(const char *path) {
  const char *files[1];
  files[0] = path;
  ASSERT_OK(rm_register_resources(session, 1, files, 0, NULL, 0, NULL));
}

static void register_process(uint32_t pid, uint64_t start_time) {
  rm_unique_process p;
  p.pid = pid;
  p.start_time = start_time;
  ASSERT_OK(rm_register_resources(session, 0, NULL, 1, &p, 0, NULL));
}

/* Lists with rm_get_list_alloc and checks rm_get_list says the same. */
static void list(listing *l) {
  rm_process_info infos[64];
  unsigned needed = 0, n = 64, i;
  uint32_t reasons = 99;
  ASSERT_OK(rm_get_list_alloc(session, &l->apps, &l->n, &l->reasons));
  ASSERT_OK(rm_get_list(session, &needed, &n, infos, &reasons));
  ASSERT_EQ(l->n, n);
  ASSERT_EQ(l->n, needed);
  ASSERT_EQ(l->reasons, reasons);
  for (i = 0; i < n; i++) {
    ASSERT_EQ(l->apps[i].info.process.pid, infos[i].process.pid);
    ASSERT_EQ(l->apps[i].info.process.start_time, infos[i].process.start_time);
    ASSERT_STR_EQ(l->apps[i].info.app_name, infos[i].app_name);
    ASSERT_EQ(l->apps[i].info.app_type, infos[i].app_type);
    ASSERT_EQ(l->apps[i].info.restartable, infos[i].restartable);
  }
}

static void unlist(listing *l) {
  rm_free_list(l->apps, l->n);
  memset(l, 0, sizeof *l);
}

static void finish(void) { ASSERT_OK(rm_end_session(session)); }

/* Starts rm_holder with a script of actions and waits for "ready". */
static void holder_at(rmt_child *c, const char *exe, const char *a1,
                      const char *a2, const char *a3, const char *a4) {
  const char *args[5];
  args[0] = a1;
  args[1] = a2;
  args[2] = a3;
  args[3] = a4;
  args[4] = NULL;
  rmt_start_ready(c, exe, args);
}

static void holder(rmt_child *c, const char *a1, const char *a2,
                   const char *a3, const char *a4) {
  holder_at(c, rmt_helper("rm_holder"), a1, a2, a3, a4);
}

static void write_or_fail(const char *path, const char *text) {
  ASSERT_EQ(0, rmt_write_file(path, text));
}

/* Replaces path by a new inode, the way dpkg and rpm install a file. */
static void replace(const char *path) {
  char tmp[1100];
  snprintf(tmp, sizeof tmp, "%s.new", path);
  write_or_fail(tmp, "new contents\n");
  ASSERT_EQ(0, rename(tmp, path));
}

/* The one entry for pid, holding exactly one registered file. */
static void expect_one_use(const listing *l, long pid, const char *file,
                           uint32_t how) {
  ASSERT_EQ(1, l->n);
  ASSERT_EQ(0, l->reasons);
  ASSERT_EQ(pid, l->apps[0].info.process.pid);
  ASSERT_EQ(1, l->apps[0].n_files);
  ASSERT_STR_EQ(file, l->apps[0].files[0].file);
  ASSERT_EQ(how, l->apps[0].files[0].how);
}

/* A plain holder of this user, no terminal, no display. */
static void expect_plain(const rm_app_info *a, const char *name) {
  rm_unique_process id;
  ASSERT_OK(rm_get_process_identity(a->info.process.pid, &id));
  ASSERT_EQ(id.start_time, a->info.process.start_time);
  ASSERT_STR_EQ(name, a->info.app_name);
  ASSERT_STR_EQ("", a->info.service_short_name);
  ASSERT_EQ(RM_APP_UNKNOWN, a->info.app_type);
  ASSERT_EQ(RM_STATUS_RUNNING, a->info.app_status);
  ASSERT_EQ(1, a->info.restartable);
}

static void open_fd(void) {
  const char *dir = rmt_tempdir(), *file = rmt_path(dir, "data.txt");
  static rmt_child c;
  listing l;
  start();
  write_or_fail(file, "data\n");
  register_file(file);
  list(&l);                                  /* nobody holds it yet */
  ASSERT_EQ(0, l.n);
  ASSERT_EQ(0, l.reasons);
  holder(&c, "open", file, NULL, NULL);
  list(&l);
  expect_one_use(&l, c.pid, file, RM_USE_OPEN_FILE);
  expect_plain(&l.apps[0], "rm_holder");
  unlist(&l);
  rmt_kill(&c);
  list(&l);                                  /* recomputed every call */
  ASSERT_EQ(0, l.n);
  finish();
}

static void mapped_then_closed(void) {
  const char *dir = rmt_tempdir(), *file = rmt_path(dir, "libdata.so");
  static rmt_child c;
  listing l;
  start();
  write_or_fail(file, "mapped\n");
  register_file(file);
  holder(&c, "map", file, NULL, NULL);
  list(&l);
  expect_one_use(&l, c.pid, file, RM_USE_MAPPING);
  expect_plain(&l.apps[0], "rm_holder");
  unlist(&l);
  finish();
}

static void same_file_many_ways_is_one_entry(void) {
  const char *dir = rmt_tempdir(), *file = rmt_path(dir, "twice.so");
  static rmt_child c;
  listing l;
  start();
  write_or_fail(file, "x\n");
  register_file(file);
  register_file(file);                       /* duplicates are harmless */
  holder(&c, "open", file, "map", file);
  list(&l);
  expect_one_use(&l, c.pid, file, RM_USE_OPEN_FILE | RM_USE_MAPPING);
  unlist(&l);
  finish();
}

static void executable_of_a_copied_binary(void) {
  const char *dir = rmt_tempdir(), *exe = rmt_path(dir, "myholder");
  const char *other = rmt_path(dir, "data.txt");
  static rmt_child c;
  listing l;
  start();
  rmt_copy_exe(rmt_helper("rm_holder"), exe);
  write_or_fail(other, "x\n");
  register_file(exe);
  holder_at(&c, exe, "open", other, NULL, NULL);
  list(&l);
  expect_one_use(&l, c.pid, exe, RM_USE_EXECUTABLE);
  expect_plain(&l.apps[0], "myholder");
  unlist(&l);
  /* Upgraded under it: the old image is an older inode of the path. */
  rmt_copy_exe(rmt_helper("rm_holder"), rmt_path(dir, "myholder.new"));
  ASSERT_EQ(0, rename(rmt_path(dir, "myholder.new"), exe));
  list(&l);
  expect_one_use(&l, c.pid, exe, RM_USE_EXECUTABLE | RM_USE_OLDER_INODE);
  expect_plain(&l.apps[0], "myholder");      /* " (deleted)" stripped */
  unlist(&l);
  /* Removed entirely: the same. */
  ASSERT_EQ(0, unlink(exe));
  list(&l);
  expect_one_use(&l, c.pid, exe, RM_USE_EXECUTABLE | RM_USE_OLDER_INODE);
  unlist(&l);
  finish();
}

static void replaced_by_rename_while_held(void) {
  const char *dir = rmt_tempdir();
  const char *opened = rmt_path(dir, "opened.conf");
  const char *mapped = rmt_path(dir, "lib.so");
  static rmt_child a, b, fresh;
  listing l;
  start();
  write_or_fail(opened, "old\n");
  write_or_fail(mapped, "old\n");
  register_file(opened);
  register_file(mapped);
  holder(&a, "open", opened, NULL, NULL);
  holder(&b, "map", mapped, NULL, NULL);
  replace(opened);
  replace(mapped);
  holder(&fresh, "open", opened, NULL, NULL);  /* holds the new inode */
  list(&l);
  ASSERT_EQ(3, l.n);
  ASSERT_EQ(0, l.reasons);
  {
    unsigned i;
    for (i = 0; i < l.n; i++) {
      const rm_app_info *x = &l.apps[i];
      ASSERT_EQ(1, x->n_files);
      if (x->info.process.pid == a.pid) {
        ASSERT_STR_EQ(opened, x->files[0].file);
        ASSERT_EQ(RM_USE_OPEN_FILE | RM_USE_OLDER_INODE, x->files[0].how);
      } else if (x->info.process.pid == b.pid) {
        ASSERT_STR_EQ(mapped, x->files[0].file);
        ASSERT_EQ(RM_USE_MAPPING | RM_USE_OLDER_INODE, x->files[0].how);
      } else {
        ASSERT_EQ(fresh.pid, x->info.process.pid);
        ASSERT_STR_EQ(opened, x->files[0].file);
        ASSERT_EQ(RM_USE_OPEN_FILE, x->files[0].how);
      }
      expect_plain(x, "rm_holder");
    }
  }
  unlist(&l);
  finish();
}

static void hard_links_match_by_inode(void) {
  const char *dir = rmt_tempdir();
  const char *name = rmt_path(dir, "a.dat"), *other = rmt_path(dir, "b.dat");
  static rmt_child c;
  listing l;
  start();
  write_or_fail(name, "x\n");
  ASSERT_EQ(0, link(name, other));
  holder(&c, "open", name, NULL, NULL);
  register_file(other);                      /* the other name */
  list(&l);
  expect_one_use(&l, c.pid, other, RM_USE_OPEN_FILE);
  unlist(&l);
  register_file(name);                       /* both names: both listed */
  list(&l);
  ASSERT_EQ(1, l.n);
  ASSERT_EQ(2, l.apps[0].n_files);
  ASSERT_STR_EQ(other, l.apps[0].files[0].file);
  ASSERT_EQ(RM_USE_OPEN_FILE, l.apps[0].files[0].how);
  ASSERT_STR_EQ(name, l.apps[0].files[1].file);
  ASSERT_EQ(RM_USE_OPEN_FILE, l.apps[0].files[1].how);
  unlist(&l);
  finish();
}

static void symlinked_registration_path(void) {
  const char *dir = rmt_tempdir();
  const char *target = rmt_path(dir, "real.so"), *alias = rmt_path(dir, "alias.so");
  const char *dir_alias = rmt_path(dir, "dirlink");
  char via_dir[1100];
  static rmt_child c;
  listing l;
  start();
  write_or_fail(target, "x\n");
  ASSERT_EQ(0, symlink(target, alias));
  ASSERT_EQ(0, symlink(dir, dir_alias));
  snprintf(via_dir, sizeof via_dir, "%s/real.so", dir_alias);
  register_file(alias);
  holder(&c, "map", target, NULL, NULL);
  list(&l);
  expect_one_use(&l, c.pid, alias, RM_USE_MAPPING);
  unlist(&l);
  /* Replaced: the old inode is shown under the resolved name. */
  replace(target);
  list(&l);
  expect_one_use(&l, c.pid, alias, RM_USE_MAPPING | RM_USE_OLDER_INODE);
  unlist(&l);
  finish();
  start();                                   /* through a symlinked dir */
  register_file(via_dir);
  list(&l);
  expect_one_use(&l, c.pid, via_dir, RM_USE_MAPPING | RM_USE_OLDER_INODE);
  unlist(&l);
  finish();
}

static void deleted_file(void) {
  const char *dir = rmt_tempdir(), *file = rmt_path(dir, "gone.log");
  const char *never = rmt_path(dir, "never-existed");
  static rmt_child c;
  listing l;
  start();
  write_or_fail(file, "x\n");
  holder(&c, "open", file, NULL, NULL);
  ASSERT_EQ(0, unlink(file));
  register_file(never);                      /* missing: matches nothing */
  list(&l);
  ASSERT_EQ(0, l.n);
  register_file(file);
  list(&l);
  expect_one_use(&l, c.pid, file, RM_USE_OPEN_FILE | RM_USE_OLDER_INODE);
  unlist(&l);
  finish();
}

static void registered_processes(void) {
  static rmt_child c;
  rm_unique_process id;
  listing l;
  start();
  holder(&c, NULL, NULL, NULL, NULL);
  ASSERT_OK(rm_get_process_identity((uint32_t)c.pid, &id));
  register_process(id.pid, id.start_time + 1);   /* wrong start time */
  list(&l);
  ASSERT_EQ(0, l.n);
  ASSERT_EQ(0, l.reasons);
  register_process(id.pid, id.start_time);
  list(&l);
  ASSERT_EQ(1, l.n);
  ASSERT_EQ(0, l.reasons);
  ASSERT_EQ(id.pid, l.apps[0].info.process.pid);
  ASSERT_EQ(0, l.apps[0].n_files);
  ASSERT(l.apps[0].files == NULL);
  expect_plain(&l.apps[0], "rm_holder");
  unlist(&l);
  rmt_kill(&c);                              /* dead: no longer affected */
  list(&l);
  ASSERT_EQ(0, l.n);
  finish();
}

static void directory_is_access_denied(void) {
  const char *dir = rmt_tempdir(), *file = rmt_path(dir, "f");
  const char *dir_link = rmt_path(dir, "dirlink");
  rm_app_info *apps = NULL;
  unsigned needed = 7, n = 0, n_apps = 7;
  uint32_t reasons = 0;
  start();
  write_or_fail(file, "x\n");
  register_file(file);
  ASSERT_EQ(0, symlink(dir, dir_link));
  register_file(dir_link);                     /* a directory, via a link */
  ASSERT_EQ(RM_ERROR_ACCESS_DENIED,
            rm_get_list(session, &needed, &n, NULL, &reasons));
  ASSERT_EQ(RM_ERROR_ACCESS_DENIED,
            rm_get_list_alloc(session, &apps, &n_apps, &reasons));
  finish();
  start();
  register_file(dir);
  ASSERT_EQ(RM_ERROR_ACCESS_DENIED,
            rm_get_list(session, &needed, &n, NULL, &reasons));
  finish();
}

static void many_registered_files(void) {
  const char *dir = rmt_tempdir();
  static char names[1000][64];
  const char *files[1000];
  static rmt_child c;
  listing l;
  unsigned i;
  start();
  for (i = 0; i < 1000; i++) {
    snprintf(names[i], sizeof names[i], "%s/f%04u", dir, i);
    files[i] = names[i];
    if (i % 2 == 0) write_or_fail(names[i], "x\n");   /* half missing */
  }
  ASSERT_OK(rm_register_resources(session, 1000, files, 0, NULL, 0, NULL));
  holder(&c, "open", names[10], "map", names[998]);
  list(&l);
  ASSERT_EQ(1, l.n);
  ASSERT_EQ(c.pid, l.apps[0].info.process.pid);
  ASSERT_EQ(2, l.apps[0].n_files);
  ASSERT_STR_EQ(names[10], l.apps[0].files[0].file);
  ASSERT_EQ(RM_USE_OPEN_FILE, l.apps[0].files[0].how);
  ASSERT_STR_EQ(names[998], l.apps[0].files[1].file);
  ASSERT_EQ(RM_USE_MAPPING, l.apps[0].files[1].how);
  unlist(&l);
  finish();
}

static void more_data_protocol(void) {
  const char *dir = rmt_tempdir(), *file = rmt_path(dir, "shared.db");
  static rmt_child c[3];
  rm_process_info infos[5];
  unsigned needed, n, i;
  uint32_t reasons;
  start();
  write_or_fail(file, "x\n");
  register_file(file);
  needed = 9;
  n = 0;
  reasons = 9;
  ASSERT_OK(rm_get_list(session, &needed, &n, NULL, &reasons));
  ASSERT_EQ(0, needed);
  ASSERT_EQ(0, n);
  ASSERT_EQ(0, reasons);
  for (i = 0; i < 3; i++) holder(&c[i], "open", file, NULL, NULL);
  n = 0;
  ASSERT_EQ(RM_ERROR_MORE_DATA,
            rm_get_list(session, &needed, &n, NULL, &reasons));
  ASSERT_EQ(3, needed);
  ASSERT_EQ(0, reasons);
  n = 2;
  ASSERT_EQ(RM_ERROR_MORE_DATA,
            rm_get_list(session, &needed, &n, infos, &reasons));
  ASSERT_EQ(3, needed);
  ASSERT_EQ(0, n);
  n = 3;
  ASSERT_OK(rm_get_list(session, &needed, &n, infos, &reasons));
  ASSERT_EQ(3, needed);
  ASSERT_EQ(3, n);
  n = 5;
  ASSERT_OK(rm_get_list(session, &needed, &n, infos, &reasons));
  ASSERT_EQ(3, needed);
  ASSERT_EQ(3, n);
  for (i = 0; i < 3; i++) {                 /* sorted by pid, each once */
    unsigned k, seen = 0;
    for (k = 0; k < 3; k++) seen += infos[k].process.pid == (uint32_t)c[i].pid;
    ASSERT_EQ(1, seen);
    if (i > 0) ASSERT(infos[i - 1].process.pid < infos[i].process.pid);
  }
  ASSERT_EQ(RM_ERROR_BAD_ARGUMENTS,
            rm_get_list(session, NULL, &n, infos, &reasons));
  ASSERT_EQ(RM_ERROR_BAD_ARGUMENTS,
            rm_get_list(session, &needed, NULL, infos, &reasons));
  ASSERT_EQ(RM_ERROR_BAD_ARGUMENTS,
            rm_get_list(session, &needed, &n, infos, NULL));
  n = 1;
  ASSERT_EQ(RM_ERROR_BAD_ARGUMENTS,
            rm_get_list(session, &needed, &n, NULL, &reasons));
  finish();
}

static void identity_is_stable(void) {
  const char *dir = rmt_tempdir(), *file = rmt_path(dir, "x");
  static rmt_child c;
  rm_unique_process id;
  listing a, b;
  start();
  write_or_fail(file, "x\n");
  register_file(file);
  holder(&c, "open", file, NULL, NULL);
  list(&a);
  rmt_sleep_ms(30);
  list(&b);
  ASSERT_EQ(1, a.n);
  ASSERT_EQ(1, b.n);
  ASSERT_OK(rm_get_process_identity((uint32_t)c.pid, &id));
  ASSERT_EQ(id.pid, a.apps[0].info.process.pid);
  ASSERT_EQ(id.start_time, a.apps[0].info.process.start_time);
  ASSERT_EQ(id.start_time, b.apps[0].info.process.start_time);
  ASSERT(id.start_time > 0);
  unlist(&a);
  unlist(&b);
  finish();
}

int main(int argc, char **argv) {
  rmt_init(argc, argv);
  rmt_setenv("DISPLAY", NULL);               /* plain holders: UNKNOWN */
  rmt_setenv("WAYLAND_DISPLAY", NULL);
  RUN(open_fd);
  RUN(mapped_then_closed);
  RUN(same_file_many_ways_is_one_entry);
  RUN(executable_of_a_copied_binary);
  RUN(replaced_by_rename_while_held);
  RUN(hard_links_match_by_inode);
  RUN(symlinked_registration_path);
  RUN(deleted_file);
  RUN(registered_processes);
  RUN(directory_is_access_denied);
  RUN(many_registered_files);
  RUN(more_data_protocol);
  RUN(identity_is_stable);
  return rmt_finish();
}
