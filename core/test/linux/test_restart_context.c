/* SPDX-License-Identifier: MIT */
/*
 * test_restart_context.c: a relaunch carries the target's context and
 * nothing of the caller's (docs/linux.md, "Relaunch context").  Root
 * restarts a program of a user this test creates (rm_context, which
 * reports what it runs with) and reads back from the new process:
 *
 *  - its own session keyring: not root's, and a key root added there
 *    cannot be read; its nice value, umask, no_new_privs, oom score
 *    adjustment, personality and RLIMIT_NOFILE are the target's;
 *  - a process under a seccomp filter is not restartable, and says so
 *    (RM_NOT_RESTARTABLE_SECCOMP); an installer's shutdown of only
 *    restartable processes refuses it; an LSM label other than
 *    "unconfined" (checked on /proc-like directories: no LSM runs here)
 *    is not reproducible either;
 *  - stdout that went to a regular file goes there again, opened as the
 *    user; swapped for a symlink to a root-only file or for a FIFO after
 *    the stop, it is never written through and never blocks;
 *  - it goes back into its own cgroup, never the caller's; when that is
 *    gone (no systemd here), into the nearest surviving ancestor.
 *
 * Needs root (it creates the user and moves cgroups).  Every process is
 * killed by pid and waited for, the user deleted, the cgroups removed,
 * also on failure.
 */
#define _GNU_SOURCE
#include "test_restart_common.h"
#include "linux/linux.h"

#include <linux/magic.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/statfs.h>

#define KEYCTL_GET_KEYRING_ID 0
#define KEYCTL_JOIN_SESSION_KEYRING 1
#define SESSION_KEYRING_ID (-3)

/* {===== The test's user */

static char user_name[64];
static uint32_t user_uid;

static int run_tool(const char *const argv[]) {
  rmt_child c;
  int rc;
  if (rmt_spawn(&c, (char *const *)(uintptr_t)argv) != 0) return -1;
  rc = rmt_wait(&c, 30000);
  return rc;
}

static void delete_user(void) {
  if (user_name[0]) {
    const char *argv[] = { "/usr/sbin/userdel", user_name, NULL };
    (void)run_tool(argv);
  }
}

/* A system user of the test's own, group nogroup, no home. */
static void make_user(void) {
  struct passwd *pw;
  const char *argv[] = { "/usr/sbin/useradd", "-r", "-M", "-N", "-g",
                         "nogroup", "-s", "/usr/sbin/nologin", user_name,
                         NULL };
  snprintf(user_name, sizeof user_name, "rmt-ctx-%ld", rmt_self_pid());
  if (run_tool(argv) != 0) {
    user_name[0] = 0;
    printf("cannot create a user\n");
    exit(1);
  }
  atexit(delete_user);
  pw = getpwnam(user_name);
  if (!pw) exit(1);
  user_uid = (uint32_t)pw->pw_uid;
}

/* }=====
 * {===== The user's program and what it reports */

typedef struct target {
  const char *dir;           /* 0755, root's: the program, the held file */
  const char *reports;       /* the user's: its reports and its log */
  const char *exe, *held;
  rmt_child c;
  rm_unique_process p;
} target;

static long root_key;        /* a key in the test's own session keyring */

/* The directories and files of a target. */
static void target_prepare(target *t) {
  t->dir = open_dir();
  t->reports = rmt_path(t->dir, "reports");
  t->exe = rmt_path(t->dir, "ctx");
  t->held = rmt_path(t->dir, "held");
  rmt_copy_exe(rmt_helper("rm_context"), t->exe);
  ASSERT_EQ(0, rmt_write_file(t->held, "x\n"));
  ASSERT_EQ(0, chmod(t->held, 0644));
  ASSERT_EQ(0, mkdir(t->reports, 0700));
  ASSERT_EQ(0, chown(t->reports, user_uid, NOBODY));
}

/* Starts rm_context as the user with the given setup options (NULL
 * terminated, applied as root before it becomes the user). */
static void target_run(target *t, ...) {
  char uid_s[16], gid_s[16], key_s[24], *argv[40];
  const char *a;
  int n = 0;
  va_list ap;
  snprintf(uid_s, sizeof uid_s, "%u", (unsigned)user_uid);
  snprintf(gid_s, sizeof gid_s, "%u", NOBODY);
  snprintf(key_s, sizeof key_s, "%ld", root_key);
  argv[n++] = (char *)(uintptr_t)t->exe;
  va_start(ap, t);
  while ((a = va_arg(ap, const char *)) != NULL) argv[n++] = (char *)(uintptr_t)a;
  va_end(ap);
  argv[n++] = (char *)(uintptr_t)"--as";
  argv[n++] = uid_s;
  argv[n++] = gid_s;
  argv[n++] = (char *)(uintptr_t)"--own-keyring";
  argv[n++] = (char *)(uintptr_t)"--open";
  argv[n++] = (char *)(uintptr_t)t->held;
  argv[n++] = (char *)(uintptr_t)"--report";
  argv[n++] = (char *)(uintptr_t)t->reports;
  argv[n++] = key_s;
  argv[n] = NULL;
  ASSERT_EQ(0, rmt_spawn(&t->c, argv));
  ASSERT_OK(rm_get_process_identity((uint32_t)t->c.pid, &t->p));
}

#define target_start(t, ...) (target_prepare(t), target_run(t, __VA_ARGS__))

/* The value of "key" in the report of pid (waits for it). */
static void report_value(const target *t, long pid, const char *key,
                         char *out, size_t cap) {
  char path[700], line[256];
  unsigned waited = 0;
  FILE *f;
  snprintf(path, sizeof path, "%s/report.%ld", t->reports, pid);
  while (!(f = fopen(path, "r"))) {
    ASSERT(waited < 10000);
    rmt_sleep_ms(10);
    waited += 10;
  }
  out[0] = 0;
  while (fgets(line, sizeof line, f)) {
    size_t n = strlen(key);
    if (strncmp(line, key, n) == 0 && line[n] == ' ') {
      snprintf(out, cap, "%s", line + n + 1);
      out[strcspn(out, "\n")] = 0;
    }
  }
  fclose(f);
}

static void assert_report(const target *t, long pid, const char *key,
                          const char *want) {
  char got[128];
  report_value(t, pid, key, got, sizeof got);
  ASSERT_STR_EQ(want, got);
}

/* Lists it restartable, stops it, restarts it: the new process's pid. */
static long stop_and_restart(target *t, uint32_t *h_out) {
  alist l;
  const rm_app_info *e;
  long pid;
  uint32_t h = session_with_file(t->held, 5000, 5000);
  alist_now(h, &l);
  ASSERT_EQ(1, l.n);
  ASSERT_EQ(1, l.v[0].info.restartable);
  alist_free(&l);
  ASSERT_OK(rm_shutdown(h, RM_SHUTDOWN_ONLY_REGISTERED, NULL, NULL));
  ASSERT_EQ(SIGTERM, reap_child(&t->c, 5000));
  ASSERT_OK(rm_restart(h, 0, NULL, NULL));
  alist_now(h, &l);
  e = relaunched(&l, t->p.pid);
  ASSERT_EQ(0, e->restart.failure);
  pid = (long)e->info.process.pid;
  alist_free(&l);
  *h_out = h;
  return pid;
}

/* }=====
 * {===== Context */

static void relaunch_restores_the_targets_context_not_the_callers(void) {
  static target t;
  char mine[32], theirs[32], uid_s[16];
  uint32_t h;
  long pid;
  rmt_fresh_store();
  target_start(&t, "--nice", "7", "--umask", "077", "--nofile", "123",
               "--oom", "500", "--personality", "40000", "--nnp", NULL);
  assert_report(&t, t.c.pid, "key", "0");
  pid = stop_and_restart(&t, &h);
  snprintf(uid_s, sizeof uid_s, "%u", (unsigned)user_uid);
  assert_report(&t, pid, "uid", uid_s);
  /* A session keyring of its own: not root's, root's key unreadable. */
  snprintf(mine, sizeof mine, "%ld",
           (long)syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID,
                         SESSION_KEYRING_ID, 0));
  report_value(&t, pid, "keyring", theirs, sizeof theirs);
  ASSERT(strcmp(mine, theirs) != 0);
  ASSERT(atol(theirs) > 0);
  assert_report(&t, pid, "key", "0");
  assert_report(&t, pid, "nice", "7");
  assert_report(&t, pid, "umask", "077");
  assert_report(&t, pid, "nnp", "1");
  assert_report(&t, pid, "nofile", "123 123");
  assert_report(&t, pid, "oom", "500");
  assert_report(&t, pid, "personality", "40000");
  assert_report(&t, pid, "seccomp", "0");
  foreign_kill_all();
  ASSERT_OK(rm_end_session(h));
}

static void seccomp_confined_process_is_not_restartable(void) {
  static target t;
  alist l;
  uint32_t h;
  rmt_fresh_store();
  target_start(&t, "--seccomp", NULL);
  assert_report(&t, t.c.pid, "seccomp", "2");
  h = session_with_file(t.held, 5000, 5000);
  alist_now(h, &l);
  ASSERT_EQ(1, l.n);
  ASSERT_EQ(0, l.reasons);
  ASSERT_EQ(0, l.v[0].info.restartable);
  ASSERT_EQ(RM_NOT_RESTARTABLE_SECCOMP, l.v[0].not_restartable);
  alist_free(&l);
  /* An installer that restarts what it stops does not stop it. */
  ASSERT_EQ(RM_ERROR_FAIL_SHUTDOWN,
            rm_shutdown(h, RM_SHUTDOWN_ONLY_REGISTERED, NULL, NULL));
  ASSERT(child_running(&t.c));
  ASSERT_OK(rm_end_session(h));
}

/* An LSM label cannot be set up here (this machine runs no LSM: the read
 * of attr/current fails, and every process is "unconfined"), so the rule
 * is checked on /proc-like directories: status and attr/current as an
 * AppArmor or SELinux kernel writes them. */
static uint32_t verdict_of_dir(const char *status, const char *label) {
  const char *dir = rmt_tempdir();
  char attr[700];
  uint32_t why;
  int fd;
  snprintf(attr, sizeof attr, "%s/attr", dir);
  if (label) {
    ASSERT_EQ(0, mkdir(attr, 0755));
    ASSERT_EQ(0, rmt_write_file(rmt_path(attr, "current"), label));
  }
  fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  ASSERT(fd >= 0);
  why = rm__linux_unreproducible(fd, status);
  close(fd);
  return why;
}

static void lsm_label_other_than_unconfined_is_not_reproducible(void) {
  const char *plain = "Name:\tx\nSeccomp:\t0\nSeccomp_filters:\t0\n";
  ASSERT_EQ(0, verdict_of_dir(plain, NULL));              /* no LSM */
  ASSERT_EQ(0, verdict_of_dir(plain, "unconfined\n"));    /* AppArmor */
  ASSERT_EQ(0, verdict_of_dir(plain, ""));
  ASSERT_EQ(RM_NOT_RESTARTABLE_LSM_LABEL,
            verdict_of_dir(plain, "docker-default (enforce)\n"));
  ASSERT_EQ(RM_NOT_RESTARTABLE_LSM_LABEL,
            verdict_of_dir(plain, "system_u:system_r:httpd_t:s0"));
  ASSERT_EQ(RM_NOT_RESTARTABLE_SECCOMP | RM_NOT_RESTARTABLE_LSM_LABEL,
            verdict_of_dir("Name:\tx\nSeccomp:\t2\n", "p (complain)\n"));
  ASSERT_EQ(RM_NOT_RESTARTABLE_SECCOMP,
            verdict_of_dir("Name:\tx\nSeccomp:\t1\n", NULL));
}

/* }=====
 * {===== stdout and stderr */

/* The text of a small file. */
static void read_text(const char *path, char *out, size_t cap) {
  FILE *f = fopen(path, "r");
  size_t n;
  ASSERT(f != NULL);
  n = fread(out, 1, cap - 1, f);
  out[n] = 0;
  fclose(f);
}

/* A log file of the user's, in its directory. */
static const char *user_log(const target *t) {
  const char *log = rmt_path(t->reports, "http.log");
  ASSERT_EQ(0, rmt_write_file(log, ""));
  ASSERT_EQ(0, chown(log, user_uid, NOBODY));
  return log;
}

/* Waits until the file has the line. */
static void wait_line(const char *path, const char *line) {
  char text[4096];
  unsigned waited = 0;
  for (;;) {
    read_text(path, text, sizeof text);
    if (strstr(text, line)) return;
    ASSERT(waited < 10000);
    rmt_sleep_ms(10);
    waited += 10;
  }
}

static void stdout_file_is_reopened_as_its_user(void) {
  static target t;
  char log[700], line[64], link[700];
  uint32_t h;
  long pid;
  struct stat st;
  rmt_fresh_store();
  target_prepare(&t);
  snprintf(log, sizeof log, "%s", user_log(&t));
  target_run(&t, "--stdout", log, NULL);
  snprintf(line, sizeof line, "hello %ld\n", t.c.pid);
  wait_line(log, line);
  pid = stop_and_restart(&t, &h);
  snprintf(line, sizeof line, "hello %ld\n", pid);
  wait_line(log, line);
  proc_link(pid, "fd/1", link, sizeof link);
  ASSERT_STR_EQ(log, link);
  proc_link(pid, "fd/2", link, sizeof link);
  ASSERT_STR_EQ(log, link);
  ASSERT_EQ(0, stat(log, &st));
  ASSERT_EQ(user_uid, st.st_uid);
  foreign_kill_all();
  ASSERT_OK(rm_end_session(h));
}

/* Stops the program, lets the user swap its log for what swap() makes,
 * restarts it: stdout is the null device, and the relaunch did not wait. */
static void log_swapped(void (*swap)(const char *log, const char *dir)) {
  static target t;
  char log[700], line[64], link[700];
  alist l;
  const rm_app_info *e;
  uint32_t h;
  long pid;
  rmt_fresh_store();
  target_prepare(&t);
  snprintf(log, sizeof log, "%s", user_log(&t));
  target_run(&t, "--stdout", log, NULL);
  snprintf(line, sizeof line, "hello %ld\n", t.c.pid);
  wait_line(log, line);
  h = session_with_file(t.held, 5000, 5000);
  ASSERT_OK(rm_shutdown(h, RM_SHUTDOWN_ONLY_REGISTERED, NULL, NULL));
  ASSERT_EQ(SIGTERM, reap_child(&t.c, 5000));
  ASSERT_EQ(0, unlink(log));
  swap(log, t.dir);
  ASSERT_OK(rm_restart(h, 0, NULL, NULL));
  alist_now(h, &l);
  e = relaunched(&l, t.p.pid);
  pid = (long)e->info.process.pid;
  alist_free(&l);
  assert_report(&t, pid, "nnp", "0");              /* it runs */
  proc_link(pid, "fd/1", link, sizeof link);
  ASSERT_STR_EQ("/dev/null", link);
  foreign_kill_all();
  ASSERT_OK(rm_end_session(h));
}

static const char *root_only_file;

/* The user's symlink to a file only root may write. */
static void swap_for_symlink(const char *log, const char *dir) {
  root_only_file = rmt_path(dir, "root-only");
  ASSERT_EQ(0, rmt_write_file(root_only_file, "root's\n"));
  ASSERT_EQ(0, chmod(root_only_file, 0600));
  ASSERT_EQ(0, symlink(root_only_file, log));
  ASSERT_EQ(0, lchown(log, user_uid, NOBODY));
}

static void swap_for_fifo(const char *log, const char *dir) {
  (void)dir;
  ASSERT_EQ(0, mkfifo(log, 0666));
  ASSERT_EQ(0, chown(log, user_uid, NOBODY));
}

static void stdout_swapped_for_a_symlink_is_never_written_through(void) {
  char text[256];
  log_swapped(swap_for_symlink);
  read_text(root_only_file, text, sizeof text);
  ASSERT_STR_EQ("root's\n", text);
}

static void stdout_swapped_for_a_fifo_never_blocks(void) {
  log_swapped(swap_for_fifo);
}

/* }=====
 * {===== The cgroup */

static char cg_root[64], cg_base[128];
static int cg_unified;

/* Where cgroups are tracked: cgroup2 at /sys/fs/cgroup, else the v1
 * name=systemd hierarchy (this machine's hybrid layout). */
static void cgroup_root(void) {
  struct statfs fs;
  cg_unified = statfs("/sys/fs/cgroup", &fs) == 0 &&
               fs.f_type == CGROUP2_SUPER_MAGIC;
  snprintf(cg_root, sizeof cg_root, "%s",
           cg_unified ? "/sys/fs/cgroup" : "/sys/fs/cgroup/systemd");
}

static void join_cgroup(const char *dir) {
  ASSERT_EQ(0, rmt_write_file(rmt_path(dir, "cgroup.procs"), "0\n"));
}

static void cgroups_remove(void *arg) {
  char path[300];
  (void)arg;
  foreign_kill_all();
  (void)rmt_write_file(rmt_path(cg_root, "cgroup.procs"), "0\n");
  snprintf(path, sizeof path, "%s/user", cg_base);
  (void)rmdir(path);
  snprintf(path, sizeof path, "%s/caller", cg_base);
  (void)rmdir(path);
  (void)rmdir(cg_base);
}

/* The process's cgroup in the tracked hierarchy, into out[cap]. */
static void cgroup_of(long pid, char *out, size_t cap) {
  char path[64], line[512];
  FILE *f;
  snprintf(path, sizeof path, "/proc/%ld/cgroup", pid);
  f = fopen(path, "r");
  ASSERT(f != NULL);
  out[0] = 0;
  while (fgets(line, sizeof line, f)) {
    const char *p = NULL;
    line[strcspn(line, "\n")] = 0;
    if (cg_unified && strncmp(line, "0::", 3) == 0) p = line + 3;
    if (!cg_unified && strstr(line, ":name=systemd:"))
      p = strstr(line, ":name=systemd:") + 14;
    if (p) snprintf(out, cap, "%s", p);
  }
  fclose(f);
}

static void relaunch_goes_back_to_its_cgroup_never_the_callers(void) {
  static target t;
  char user_cg[200], caller_cg[200], got[600], want[300];
  rm_unique_process now;
  alist l;
  const rm_app_info *e;
  uint32_t h;
  long pid;
  rmt_fresh_store();
  cgroup_root();
  snprintf(cg_base, sizeof cg_base, "%s/rmt-ctx-%ld", cg_root, rmt_self_pid());
  snprintf(user_cg, sizeof user_cg, "%s/user", cg_base);
  snprintf(caller_cg, sizeof caller_cg, "%s/caller", cg_base);
  rmt_at_cleanup(cgroups_remove, NULL);
  ASSERT_EQ(0, mkdir(cg_base, 0755));
  ASSERT_EQ(0, mkdir(user_cg, 0755));
  ASSERT_EQ(0, mkdir(caller_cg, 0755));
  join_cgroup(caller_cg);
  target_start(&t, "--cgroup", user_cg, NULL);
  assert_report(&t, t.c.pid, "nnp", "0");
  snprintf(want, sizeof want, "/rmt-ctx-%ld/user", rmt_self_pid());
  cgroup_of(t.c.pid, got, sizeof got);
  ASSERT_STR_EQ(want, got);

  /* 1. Back into its own cgroup, which still exists. */
  pid = stop_and_restart(&t, &h);
  cgroup_of(pid, got, sizeof got);
  ASSERT_STR_EQ(want, got);
  ASSERT_OK(rm_end_session(h));

  /* 2. Its cgroup gone: the nearest surviving ancestor, not ours. */
  ASSERT_OK(rm_get_process_identity((uint32_t)pid, &now));
  {
    char key[33];
    ASSERT_OK(rm_start_session(&h, 0, key));
    ASSERT_OK(rm_register_resources(h, 0, NULL, 1, &now, 0, NULL));
    ASSERT_OK(rm_set_timeouts(h, 5000, 5000));
  }
  ASSERT_OK(rm_shutdown(h, RM_SHUTDOWN_ONLY_REGISTERED, NULL, NULL));
  ASSERT(!rm__os_alive(&now));
  ASSERT_EQ(0, rmdir(user_cg));
  ASSERT_OK(rm_restart(h, 0, NULL, NULL));
  alist_now(h, &l);
  e = relaunched(&l, pid);
  ASSERT_EQ(0, e->restart.failure);
  pid = (long)e->info.process.pid;
  alist_free(&l);
  assert_report(&t, pid, "nnp", "0");
  snprintf(want, sizeof want, "/rmt-ctx-%ld", rmt_self_pid());
  cgroup_of(pid, got, sizeof got);
  ASSERT_STR_EQ(want, got);
  ASSERT_OK(rm_end_session(h));
}

/* }===== */

int main(int argc, char **argv) {
  rmt_init(argc, argv);
  if (skip_unless_root("creates a user, relaunches as that user"))
    return rmt_finish();
  rmt_setenv("DISPLAY", NULL);
  rmt_setenv("WAYLAND_DISPLAY", NULL);
  make_user();
  /* A session keyring of the test's own, with a key in it. */
  ASSERT(syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, "rmt-ctx") > 0);
  root_key = (long)syscall(SYS_add_key, "user", "rmt-ctx-secret", "s3cret",
                           (size_t)6, SESSION_KEYRING_ID);
  ASSERT(root_key > 0);
  atexit(foreign_kill_all);
  RUN(relaunch_restores_the_targets_context_not_the_callers);
  RUN(seccomp_confined_process_is_not_restartable);
  RUN(lsm_label_other_than_unconfined_is_not_reproducible);
  RUN(stdout_file_is_reopened_as_its_user);
  RUN(stdout_swapped_for_a_symlink_is_never_written_through);
  RUN(stdout_swapped_for_a_fifo_never_blocks);
  RUN(relaunch_goes_back_to_its_cgroup_never_the_callers);
  return rmt_finish();
}
