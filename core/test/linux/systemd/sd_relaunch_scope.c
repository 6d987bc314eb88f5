/* SPDX-License-Identifier: MIT */
/*
 * sd_relaunch_scope.c: a user's program relaunched by root goes back
 * where it came from, never into root's own scope (docs/linux.md,
 * "Relaunch context"):
 *
 *  - a program of rmt-user in a login-like scope that lives on (a shell
 *    stays there) is relaunched back into that scope;
 *  - a program alone in its scope, which systemd removes once it is
 *    stopped, is relaunched into a transient scope of its own,
 *    restartmgr-relaunch-PID.scope, in the user's slice.
 *
 * The test itself runs in a scope of its own (run-in-systemd.sh), which
 * is where a relaunch without placement would put the program.
 */
#define _GNU_SOURCE
#include "sd_test.h"
#include "test_restart_common.h"

#include <dirent.h>
#include <pwd.h>

/* The systemd cgroup of pid, from /proc/PID/cgroup (the unified line
 * when it names more than "/", else the name=systemd one). */
static void systemd_cgroup(uint32_t pid, char *out, size_t cap) {
  char path[64], line[600];
  FILE *f;
  snprintf(path, sizeof path, "/proc/%u/cgroup", (unsigned)pid);
  f = fopen(path, "r");
  ASSERT(f != NULL);
  out[0] = 0;
  while (fgets(line, sizeof line, f)) {
    const char *p = NULL;
    line[strcspn(line, "\n")] = 0;
    if (strncmp(line, "0::", 3) == 0 && strcmp(line + 3, "/") != 0)
      p = line + 3;
    else if (strstr(line, ":name=systemd:") && !out[0])
      p = strstr(line, ":name=systemd:") + 14;
    if (p) snprintf(out, cap, "%s", p);
  }
  fclose(f);
}

/* Starts `systemd-run --scope` of rmt-user running sh -c script; the
 * other pid of the scope than c's once there are want of them. */
static uint32_t user_scope(rmt_child *c, const char *unit, const char *script,
                           size_t want) {
  struct passwd *pw = getpwnam("rmt-user");
  char uid_opt[32], slice_opt[64], unit_opt[96];
  uint32_t pids[8];
  size_t n = 0, i;
  unsigned waited = 0;
  ASSERT(pw != NULL);
  snprintf(uid_opt, sizeof uid_opt, "--uid=%u", (unsigned)pw->pw_uid);
  snprintf(slice_opt, sizeof slice_opt, "--slice=user-%u.slice",
           (unsigned)pw->pw_uid);
  snprintf(unit_opt, sizeof unit_opt, "--unit=%s", unit);
  {
    char *argv[] = { (char *)(uintptr_t)"/usr/bin/systemd-run",
                     (char *)(uintptr_t)"--scope", (char *)(uintptr_t)"--quiet",
                     unit_opt, slice_opt, uid_opt, (char *)(uintptr_t)"--",
                     (char *)(uintptr_t)"/bin/sh", (char *)(uintptr_t)"-c",
                     (char *)(uintptr_t)script, NULL };
    ASSERT_EQ(0, rmt_spawn(c, argv));
  }
  while ((n = unit_pids(unit, pids, 8)) < want) {
    ASSERT(waited < 10000);
    rmt_sleep_ms(20);
    waited += 20;
  }
  for (i = 0; i < n; i++)
    if (pids[i] != (uint32_t)c->pid) return pids[i];
  return (uint32_t)c->pid;
}

/* Waits until pid holds path open (the program opens it after it
 * appears in its scope). */
static void wait_holds(uint32_t pid, const char *path) {
  unsigned waited = 0;
  for (;;) {
    char dir[64], name[320], link[700];
    struct dirent *de;
    DIR *d;
    int found = 0;
    snprintf(dir, sizeof dir, "/proc/%u/fd", (unsigned)pid);
    d = opendir(dir);
    while (d && !found && (de = readdir(d))) {
      ssize_t n;
      snprintf(name, sizeof name, "%s/%s", dir, de->d_name);
      n = readlink(name, link, sizeof link - 1);
      if (n <= 0) continue;
      link[n] = 0;
      found = strcmp(link, path) == 0;
    }
    if (d) closedir(d);
    if (found) return;
    ASSERT(waited < 10000);
    rmt_sleep_ms(20);
    waited += 20;
  }
}

/* Stops and restarts the program holding file (pid); the new pid. */
static uint32_t relaunch_holder(const char *file, uint32_t pid, uint32_t *h,
                                void (*between)(void)) {
  alist l;
  const rm_app_info *e;
  uint32_t now;
  wait_holds(pid, file);
  *h = session_with_file(file, 5000, 5000);
  alist_now(*h, &l);
  ASSERT_EQ(1, l.n);
  ASSERT_EQ(pid, l.v[0].info.process.pid);
  ASSERT_EQ(1, l.v[0].info.restartable);
  alist_free(&l);
  ASSERT_OK(rm_shutdown(*h, RM_SHUTDOWN_ONLY_REGISTERED, NULL, NULL));
  ASSERT(gone_within(pid, 5000));
  if (between) between();
  ASSERT_OK(rm_restart(*h, 0, NULL, NULL));
  alist_now(*h, &l);
  e = relaunched(&l, (long)pid);
  ASSERT_EQ(0, e->restart.failure);
  now = e->info.process.pid;
  alist_free(&l);
  return now;
}

static char alone_unit[64];
static rmt_child alone;

/* Reaps the stopped program (our child through systemd-run) and waits
 * until systemd removed its emptied scope. */
static void scope_gone(void) {
  unsigned waited = 0;
  (void)reap_child(&alone, 5000);
  while (strcmp(prop(alone_unit, "ActiveState"), "inactive") != 0 &&
         strcmp(prop(alone_unit, "LoadState"), "not-found") != 0) {
    ASSERT(waited < 10000);
    rmt_sleep_ms(20);
    waited += 20;
  }
}

void user_program_relaunched_into_its_scope(void) {
  const char *file = held_file("scoped");
  char unit[64], script[1600], want[200], got[600], mine[600];
  rmt_child shell;
  uint32_t pid, now, h;
  struct passwd *pw = getpwnam("rmt-user");
  ASSERT(pw != NULL);
  ASSERT_EQ(0, chmod(file, 0644));
  fresh_store();
  systemd_cgroup((uint32_t)rmt_self_pid(), mine, sizeof mine);

  /* 1. Its login scope lives on (a shell stays in it): back into it. */
  snprintf(unit, sizeof unit, "rmt-login-%ld.scope", rmt_self_pid());
  snprintf(script, sizeof script, "cd /; %s --hold %s & exec /bin/sleep 1000",
           unitd, file);
  pid = user_scope(&shell, unit, script, 2);
  snprintf(want, sizeof want, "/user.slice/user-%u.slice/%s",
           (unsigned)pw->pw_uid, unit);
  systemd_cgroup(pid, got, sizeof got);
  ASSERT_STR_EQ(want, got);
  now = relaunch_holder(file, pid, &h, NULL);
  systemd_cgroup(now, got, sizeof got);
  ASSERT_STR_EQ(want, got);
  ASSERT(strcmp(got, mine) != 0);
  ASSERT_OK(rm_end_session(h));
  foreign_kill_all();
  (void)ctl("stop", unit, NULL);

  /* 2. Alone in its scope, which goes when it stops: a scope of its own
   * in the user's slice. */
  snprintf(alone_unit, sizeof alone_unit, "rmt-alone-%ld.scope",
           rmt_self_pid());
  snprintf(script, sizeof script, "cd /; exec %s --hold %s", unitd, file);
  pid = user_scope(&alone, alone_unit, script, 1);
  now = relaunch_holder(file, pid, &h, scope_gone);
  snprintf(want, sizeof want,
           "/user.slice/user-%u.slice/restartmgr-relaunch-%u.scope",
           (unsigned)pw->pw_uid, (unsigned)now);
  systemd_cgroup(now, got, sizeof got);
  ASSERT_STR_EQ(want, got);
  ASSERT_OK(rm_end_session(h));
  foreign_kill_all();
  snprintf(unit, sizeof unit, "restartmgr-relaunch-%u.scope", (unsigned)now);
  (void)ctl("stop", unit, NULL);
}
