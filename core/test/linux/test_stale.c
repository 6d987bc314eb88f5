/* SPDX-License-Identifier: MIT */
/*
 * test_stale.c: rm_get_stale_list finds the processes that map or run a
 * deleted or replaced executable file, by the identity of the mapping,
 * in every mount namespace, through a live thread when the leader has
 * exited, and never because of what a file is called.
 *
 * Real rm_holder processes map real files (executable mappings, like
 * shared libraries) and run copies of themselves; the files are then
 * replaced the way dpkg replaces them (a new inode renamed over the
 * name).  Each expectation is checked against /proc/PID/maps as well.
 */
#define _GNU_SOURCE
#include "test.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define USER_UID 65532

typedef struct stale_list {
  rm_app_info *apps;
  unsigned n, uninspected;
  uint32_t reasons;
} stale_list;

static void stale(stale_list *l) {
  memset(l, 0, sizeof *l);
  ASSERT_OK(rm_get_stale_list(&l->apps, &l->n, &l->reasons, &l->uninspected));
}

static void unlist(stale_list *l) {
  rm_free_list(l->apps, l->n);
  memset(l, 0, sizeof *l);
}

static const rm_app_info *entry(const stale_list *l, long pid) {
  unsigned i;
  for (i = 0; i < l->n; i++)
    if (l->apps[i].info.process.pid == (uint32_t)pid) return &l->apps[i];
  return NULL;
}

/* The stale file of a whose text is text, or NULL. */
static const rm_file_use *file_of(const rm_app_info *a, const char *text) {
  unsigned i;
  for (i = 0; a && i < a->n_files; i++)
    if (strcmp(a->files[i].file, text) == 0) return &a->files[i];
  return NULL;
}

/* Ground truth: 1 when /proc/PID/maps shows an executable mapping marked
 * deleted that is not a memfd, 0 when not, -1 when the process is gone. */
static int maps_say_stale(long pid) {
  char path[64], line[8192];
  FILE *f;
  int found = 0;
  snprintf(path, sizeof path, "/proc/%ld/maps", pid);
  f = fopen(path, "r");
  if (!f) return -1;                            /* gone */
  while (fgets(line, sizeof line, f)) {
    char perms[8] = "";
    size_t len = strlen(line);
    if (len && line[len - 1] == '\n') line[--len] = 0;
    if (sscanf(line, "%*s %7s", perms) != 1 || !strchr(perms, 'x')) continue;
    if (len > 10 && strcmp(line + len - 10, " (deleted)") == 0 &&
        !strstr(line, "/memfd:"))
      found = 1;
  }
  fclose(f);
  return found;
}

/* Replaces path by a new inode with the same contents, as dpkg does. */
static void replace(const char *path) {
  char tmp[1100];
  snprintf(tmp, sizeof tmp, "%s.dpkg-new", path);
  rmt_copy_exe(path, tmp);
  ASSERT_EQ(0, rename(tmp, path));
}

static int is_root(const char *why) {
  if (geteuid() == 0) return 1;
  printf("skip: this case needs root (%s)\n", why);
  return 0;
}

/* {===== Cases */

static void replaced_executable_and_library(void) {
  const char *dir = rmt_tempdir();
  const char *exe = rmt_path(dir, "myprog"), *lib = rmt_path(dir, "libx.so");
  static rmt_child c, fresh;
  stale_list l;
  const rm_app_info *a;
  const rm_file_use *u;
  rmt_copy_exe(rmt_helper("rm_holder"), exe);
  rmt_copy_exe(rmt_helper("rm_holder"), lib);
  {
    const char *script[] = { "map-exec", lib, NULL };
    rmt_start_ready(&c, exe, script);
  }
  stale(&l);
  ASSERT(entry(&l, c.pid) == NULL);             /* nothing replaced yet */
  unlist(&l);

  replace(exe);
  replace(lib);
  {
    const char *script[] = { "map-exec", lib, NULL };
    rmt_start_ready(&fresh, exe, script);             /* runs the new files */
  }
  ASSERT_EQ(1, maps_say_stale(c.pid));
  ASSERT_EQ(0, maps_say_stale(fresh.pid));
  stale(&l);
  ASSERT(entry(&l, fresh.pid) == NULL);
  a = entry(&l, c.pid);
  ASSERT(a != NULL);
  ASSERT_EQ(2, a->n_files);
  ASSERT_STR_EQ("myprog", a->info.app_name);
  ASSERT_EQ(RM_APP_UNKNOWN, a->info.app_type);
  ASSERT_EQ(RM_STATUS_RUNNING, a->info.app_status);
  ASSERT_EQ(1, a->info.restartable);            /* the new file is there */
  ASSERT_EQ(0, a->reasons);
  u = file_of(a, exe);
  ASSERT(u != NULL);
  ASSERT_EQ(RM_USE_EXECUTABLE | RM_USE_OLDER_INODE, u->how);
  u = file_of(a, lib);
  ASSERT(u != NULL);
  ASSERT_EQ(RM_USE_MAPPING | RM_USE_OLDER_INODE, u->how);
  unlist(&l);
}

/* A sandboxed process (a mount namespace of its own, as systemd's
 * ProtectSystem= and PrivateTmp= give) is scanned like any other. */
static void other_mount_namespace(void) {
  const char *dir, *hidden, *exe, *lib, *bound, *shadow;
  static rmt_child c, b;
  stale_list l;
  const rm_app_info *a;
  if (!is_root("unshare --mount")) return;
  dir = rmt_tempdir();
  hidden = rmt_tempdir();
  exe = rmt_path(dir, "sandboxed");
  lib = rmt_path(dir, "libs.so");
  rmt_copy_exe(rmt_helper("rm_holder"), exe);
  rmt_copy_exe(rmt_helper("rm_holder"), lib);
  {
    const char *script[] = { "unshare-tmpfs", hidden, "map-exec", lib, NULL };
    rmt_start_ready(&c, exe, script);
  }
  replace(exe);
  replace(lib);
  ASSERT_EQ(1, maps_say_stale(c.pid));
  stale(&l);
  a = entry(&l, c.pid);
  ASSERT(a != NULL);
  ASSERT_EQ(2, a->n_files);
  ASSERT(file_of(a, exe) != NULL);
  ASSERT(file_of(a, lib) != NULL);
  ASSERT_EQ(RM_APP_UNKNOWN, a->info.app_type);
  ASSERT_EQ(0, a->reasons);
  ASSERT_EQ(0, a->info.restartable);            /* its namespace is its own */
  ASSERT_EQ(RM_TRAIT_OWN_MOUNT_NS, a->traits);
  unlist(&l);

  /* A different file bound over a live name in its view: the text it
   * shows names, in ours, a file that is neither deleted nor what it
   * maps.  Only the identity of the mapping counts. */
  bound = rmt_path(hidden, "other.so");
  shadow = rmt_path(dir, "shadowed.so");
  rmt_copy_exe(rmt_helper("rm_holder"), bound);
  rmt_copy_exe(rmt_helper("rm_holder"), shadow);
  {
    const char *script[] = { "unshare-bind", bound, shadow, "map-exec",
                             shadow, NULL };
    rmt_start_ready(&b, rmt_helper("rm_holder"), script);
  }
  ASSERT_EQ(0, unlink(bound));
  ASSERT_EQ(1, maps_say_stale(b.pid));
  stale(&l);
  a = entry(&l, b.pid);
  ASSERT(a != NULL);
  ASSERT_EQ(1, a->n_files);
  ASSERT_STR_EQ(shadow, a->files[0].file);      /* its name, in its view */
  unlist(&l);
}

/* Names say nothing: a live file called "x (deleted)" is not stale; a
 * deleted one with any bytes in its name is, shown escaped; a memfd (a
 * JIT's code) is no file an upgrade replaces. */
static void names_are_no_identity(void) {
  const char *dir = rmt_tempdir();
  const char *live = rmt_path(dir, "liblive.so (deleted)");
  const char *nasty = rmt_path(dir, "a\nb\x01\xff\\c (deleted)");
  char want[1200];
  static rmt_child c, jit;
  stale_list l;
  const rm_app_info *a;
  rmt_copy_exe(rmt_helper("rm_holder"), live);
  rmt_copy_exe(rmt_helper("rm_holder"), nasty);
  {
    const char *script[] = { "map-exec", live, "map-exec", nasty, NULL };
    const char *code[] = { "memfd-exec", NULL };
    rmt_start_ready(&c, rmt_helper("rm_holder"), script);
    rmt_start_ready(&jit, rmt_helper("rm_holder"), code);
  }
  stale(&l);
  ASSERT(entry(&l, c.pid) == NULL);             /* both names live */
  ASSERT(entry(&l, jit.pid) == NULL);
  unlist(&l);
  ASSERT_EQ(0, unlink(nasty));
  stale(&l);
  a = entry(&l, c.pid);
  ASSERT(a != NULL);
  ASSERT_EQ(1, a->n_files);
  snprintf(want, sizeof want, "%s/a\\x0ab\\x01\\xff\\x5cc (deleted)", dir);
  ASSERT_STR_EQ(want, a->files[0].file);
  ASSERT(entry(&l, jit.pid) == NULL);
  unlist(&l);
}

/* A thread group whose main thread has exited (pthread_exit) while
 * another thread runs on: /proc/PID shows a zombie with no maps, fuser
 * and lsof see nothing; its live thread shows everything. */
static void leader_exited(void) {
  const char *dir = rmt_tempdir(), *lib = rmt_path(dir, "libt.so");
  static rmt_child c;
  stale_list l;
  const rm_app_info *a;
  char path[64], state = 0, buf[512], *close_paren;
  FILE *f;
  rmt_copy_exe(rmt_helper("rm_holder"), lib);
  {
    const char *script[] = { "map-exec", lib, "leader-exit", NULL };
    rmt_start_ready(&c, rmt_helper("rm_holder"), script);
  }
  replace(lib);
  snprintf(path, sizeof path, "/proc/%ld/stat", c.pid);
  rmt_sleep_ms(50);
  f = fopen(path, "r");
  ASSERT(f != NULL);
  ASSERT(fgets(buf, sizeof buf, f) != NULL);
  fclose(f);
  close_paren = strrchr(buf, ')');
  ASSERT(close_paren != NULL);
  state = close_paren[2];
  ASSERT_EQ('Z', state);                        /* the premise */
  ASSERT_EQ(0, maps_say_stale(c.pid));          /* its leader shows nothing */
  stale(&l);
  a = entry(&l, c.pid);
  ASSERT(a != NULL);
  ASSERT_EQ(1, a->n_files);
  ASSERT_STR_EQ(lib, a->files[0].file);
  ASSERT_EQ(0, a->info.restartable);
  ASSERT_EQ(RM_TRAIT_LEADER_EXITED, a->traits);
  unlist(&l);
}

/* The attack on the old, path-based `stale`: a user maps a file, deletes
 * it and flips its name between nothing and a symlink to the C library,
 * in a loop.  Root's stale list must never report the processes that
 * map the current C library, only the user's process itself. */
static void symlink_flip(void) {
  const char *dir, *lib, *libc_path = NULL;
  static rmt_child user, bystander;
  char uid[16], maps_line[4096], path[64];
  pid_t flipper;
  FILE *f;
  int round;
  if (!is_root("creates a process of another user")) return;
  dir = rmt_tempdir();
  ASSERT_EQ(0, chmod(dir, 0777));
  lib = rmt_path(dir, "libflip.so");
  rmt_copy_exe(rmt_helper("rm_holder"), lib);
  ASSERT_EQ(0, chown(lib, USER_UID, USER_UID));
  snprintf(uid, sizeof uid, "%u", (unsigned)USER_UID);
  {
    const char *script[] = { "drop", uid, "map-exec", lib, "unlink", lib,
                             NULL };
    const char *plain[] = { NULL };
    rmt_start_ready(&user, rmt_helper("rm_holder"), script);
    rmt_start_ready(&bystander, rmt_helper("rm_holder"), plain);
  }
  /* The C library the bystander maps. */
  snprintf(path, sizeof path, "/proc/%ld/maps", bystander.pid);
  f = fopen(path, "r");
  ASSERT(f != NULL);
  while (!libc_path && fgets(maps_line, sizeof maps_line, f)) {
    char *p = strchr(maps_line, '/');
    if (p && strstr(p, "/libc.so")) {
      p[strcspn(p, "\n")] = 0;
      libc_path = p;
    }
  }
  fclose(f);
  ASSERT(libc_path != NULL);
  flipper = fork();
  ASSERT(flipper >= 0);
  if (flipper == 0) {
    /* The hostile user: flips the name as fast as it can. */
    if (setgroups(0, NULL) != 0 || setresgid(USER_UID, USER_UID, USER_UID) ||
        setresuid(USER_UID, USER_UID, USER_UID))
      _exit(3);
    for (;;) {
      if (symlink(libc_path, lib) != 0 && errno != EEXIST) _exit(4);
      unlink(lib);
    }
  }
  for (round = 0; round < 40; round++) {
    stale_list l;
    unsigned i;
    stale(&l);
    ASSERT(entry(&l, user.pid) != NULL);
    ASSERT(entry(&l, bystander.pid) == NULL);
    ASSERT(entry(&l, rmt_self_pid()) == NULL);
    /* Ground truth for the processes of the test (others on a shared
     * machine may exec or exit between the list and a look at maps). */
    ASSERT_EQ(1, maps_say_stale(user.pid));
    ASSERT_EQ(0, maps_say_stale(bystander.pid));
    for (i = 0; i < l.n; i++)
      ASSERT(l.apps[i].n_files > 0);
    unlist(&l);
  }
  kill(flipper, SIGKILL);
  ASSERT_EQ(flipper, waitpid(flipper, NULL, 0));
  unlink(lib);
}

static void bad_arguments(void) {
  rm_app_info *apps;
  unsigned n;
  uint32_t reasons;
  ASSERT_EQ(RM_ERROR_BAD_ARGUMENTS,
            rm_get_stale_list(NULL, &n, &reasons, NULL));
  ASSERT_EQ(RM_ERROR_BAD_ARGUMENTS,
            rm_get_stale_list(&apps, NULL, &reasons, NULL));
  ASSERT_EQ(RM_ERROR_BAD_ARGUMENTS,
            rm_get_stale_list(&apps, &n, NULL, NULL));
  ASSERT_OK(rm_get_stale_list(&apps, &n, &reasons, NULL));  /* count optional */
  rm_free_list(apps, n);
}

/* }===== */

int main(int argc, char **argv) {
  rmt_init(argc, argv);
  RUN(replaced_executable_and_library);
  RUN(other_mount_namespace);
  RUN(names_are_no_identity);
  RUN(leader_exited);
  RUN(symlink_flip);
  RUN(bad_arguments);
  return rmt_finish();
}
