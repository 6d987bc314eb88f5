/* SPDX-License-Identifier: MIT */
/*
 * test_user.h: a temporary real user for the Linux tests that need one
 * (test_store_home.c, test_services_hostile.c), made with the shadow
 * tools as root and removed again at the case's cleanup.
 *
 * The user and its group share one id nobody has, taken from a range of
 * the test's own (other tests make users at the same time); the home is
 * base/home, the user's, 0755, in a fresh root-owned 0755 base dir under
 * /tmp, so it never depends on where the checkout lives.
 */
#ifndef RM_TEST_USER_H
#define RM_TEST_USER_H

#include "test.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

typedef struct rmt_user {
  uid_t uid;                          /* gid the same */
  char name[32];
  char base[64];                      /* /tmp/PREFIX-XXXXXX, root's, 0755 */
  char home[96];                      /* base/home, the user's, 0755 */
  int made_group, made_user;
} rmt_user;

/* Runs a shadow tool (useradd, ...): args ends with NULL, args[0] the
 * tool's name, looked for in the sbin and bin dirs; stdin and stdout on
 * the null device.  Its exit code, or -1. */
static inline int rmt_run_tool(const char *const *args) {
  static const char *const dirs[] = { "/usr/sbin", "/sbin", "/usr/bin",
                                      "/bin" };
  char path[128], *argv[16];
  int status = 0, i;
  size_t d;
  pid_t pid;
  for (i = 0; args[i] && i < 15; i++) argv[i] = (char *)(uintptr_t)args[i];
  argv[i] = NULL;
  snprintf(path, sizeof path, "%s", args[0]);
  for (d = 0; d < sizeof dirs / sizeof *dirs; d++) {
    snprintf(path, sizeof path, "%s/%s", dirs[d], args[0]);
    if (access(path, X_OK) == 0) break;
  }
  pid = fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    int null = open("/dev/null", O_RDWR);
    if (null >= 0) {
      dup2(null, 0);
      dup2(null, 1);
    }
    execv(path, argv);
    _exit(127);
  }
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}
#define RMT_RUN_TOOL(...) rmt_run_tool((const char *const[]){ __VA_ARGS__, NULL })

/* Makes u: "PREFIX-PID" with the first id in [lo, hi) that no user or
 * group has and for which unusable (may be NULL) says 0.  Root only;
 * fails the case on any error.  The caller registers the cleanup that
 * ends the user's processes and then calls rmt_user_remove. */
static inline void rmt_user_make(rmt_user *u, const char *prefix, uid_t lo,
                                 uid_t hi, int (*unusable)(uid_t)) {
  char uid_s[16], gid_max[32], uid_max[32];
  uid_t id;
  ASSERT_EQ(0, (long)geteuid());
  snprintf(u->base, sizeof u->base, "/tmp/%s-XXXXXX", prefix);
  ASSERT(mkdtemp(u->base) != NULL);
  ASSERT_EQ(0, chmod(u->base, 0755));
  snprintf(u->home, sizeof u->home, "%s/home", u->base);
  snprintf(u->name, sizeof u->name, "%s-%ld", prefix, (long)getpid());
  ASSERT(getpwnam(u->name) == NULL && getgrnam(u->name) == NULL);
  snprintf(gid_max, sizeof gid_max, "SYS_GID_MAX=%u", (unsigned)hi);
  snprintf(uid_max, sizeof uid_max, "SYS_UID_MAX=%u", (unsigned)hi);
  for (id = lo; id < hi && !u->made_user; id++) {
    int rc;
    if (getpwuid(id) || getgrgid(id) || (unusable && unusable(id))) continue;
    snprintf(uid_s, sizeof uid_s, "%u", (unsigned)id);
    rc = RMT_RUN_TOOL("groupadd", "-r", "-K", gid_max, "-g", uid_s, u->name);
    if (rc == 4) continue;                         /* gid taken meanwhile */
    ASSERT_EQ(0, rc);
    u->made_group = 1;
    /* -r: a system account, so no subordinate ids or aging to undo (its
     * range widened to ours); -M: the home is made below, by hand. */
    rc = RMT_RUN_TOOL("useradd", "-r", "-K", uid_max, "-M", "-N", "-u", uid_s,
                      "-g", uid_s, "-d", u->home, "-s", "/usr/sbin/nologin",
                      u->name);
    if (rc == 4) {                                 /* uid taken meanwhile */
      ASSERT_EQ(0, RMT_RUN_TOOL("groupdel", u->name));
      u->made_group = 0;
      continue;
    }
    ASSERT_EQ(0, rc);
    u->made_user = 1;
    u->uid = id;
  }
  ASSERT(u->made_user);
  ASSERT_EQ(0, mkdir(u->home, 0755));
  ASSERT_EQ(0, chmod(u->home, 0755));
  ASSERT_EQ(0, chown(u->home, u->uid, u->uid));
}

/* Removes what rmt_user_make made (as far as it got) and zeroes u. */
static inline void rmt_user_remove(rmt_user *u) {
  if (u->made_user) RMT_RUN_TOOL("userdel", u->name);
  /* userdel removes the group too when it is the user's (USERGROUPS_ENAB);
   * ours was made apart, so remove what is left. */
  if (u->made_group && getgrnam(u->name)) RMT_RUN_TOOL("groupdel", u->name);
  if (u->base[0]) rmt_remove_tree(u->base);
  memset(u, 0, sizeof *u);
}

#endif
