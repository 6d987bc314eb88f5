/* SPDX-License-Identifier: MIT */
/*
 * sd_hostile.c: a user against root's use of systemd (docs/security.md,
 * "Services").  rmt-user (the harness's user) starts the real runsv, in a
 * scope of their own slice (user-UID.slice, as a login would place it),
 * on a directory named like a running system unit.  Root's list, shutdown
 * and restart treat the process as the user's plain program and never
 * stop or start the unit.
 */
#define _GNU_SOURCE
#include "sd_test.h"

#include <pwd.h>
#include <sys/stat.h>

/* What supervise/FILE of dir says, first line. */
static void read_supervise(const char *dir, const char *file, char *buf,
                           size_t cap) {
  char path[900];
  FILE *f;
  snprintf(path, sizeof path, "%s/supervise/%s", dir, file);
  buf[0] = 0;
  f = fopen(path, "r");
  if (!f) return;
  if (!fgets(buf, (int)cap, f)) buf[0] = 0;
  fclose(f);
}

void users_runsv_named_like_a_unit(void) {
  struct passwd *pw = getpwnam("rmt-user");
  char top[700], dir[800], path[900], script[1024], uid_opt[32], gid_opt[32];
  char slice[64], unit[64], stat[64], buf[32];
  char *argv[12];
  const char *held;
  const rm_process_info *e;
  uint32_t sys_pid, pid = 0, h;
  unsigned waited, i;
  rmt_child c;
  listing l;
  ASSERT(pw != NULL);
  fresh_store();
  write_unit("rmt-twin", "[Service]\nType=notify\nExecStart=%s\n", unitd);
  sys_pid = start_unit("rmt-twin", 1);

  held = held_file("twin-held");
  ASSERT_EQ(0, chmod(held, 0644));
  snprintf(top, sizeof top, "%s/users-services", base);
  ASSERT_EQ(0, mkdir(top, 0755));
  ASSERT_EQ(0, chown(top, pw->pw_uid, pw->pw_gid));
  snprintf(dir, sizeof dir, "%s/rmt-twin", top);
  ASSERT_EQ(0, mkdir(dir, 0755));
  ASSERT_EQ(0, chown(dir, pw->pw_uid, pw->pw_gid));
  snprintf(path, sizeof path, "%s/run", dir);
  snprintf(script, sizeof script,
           "#!/bin/sh\nexec 2>&1\nexec %s --hold '%s'\n",
           rmt_helper("rm_app"), held);
  ASSERT_EQ(0, rmt_write_file(path, script));
  ASSERT_EQ(0, chmod(path, 0755));
  ASSERT_EQ(0, chown(path, pw->pw_uid, pw->pw_gid));

  snprintf(uid_opt, sizeof uid_opt, "--uid=%u", (unsigned)pw->pw_uid);
  snprintf(gid_opt, sizeof gid_opt, "--gid=%u", (unsigned)pw->pw_gid);
  snprintf(slice, sizeof slice, "--slice=user-%u.slice", (unsigned)pw->pw_uid);
  snprintf(unit, sizeof unit, "--unit=rmt-user-twin-%ld", rmt_self_pid());
  i = 0;
  argv[i++] = (char *)(uintptr_t)"/usr/bin/systemd-run";
  argv[i++] = uid_opt;
  argv[i++] = gid_opt;
  argv[i++] = (char *)(uintptr_t)"--scope";
  argv[i++] = (char *)(uintptr_t)"--quiet";
  argv[i++] = slice;
  argv[i++] = unit;
  argv[i++] = (char *)(uintptr_t)"--";
  argv[i++] = (char *)(uintptr_t)RUNSV;
  argv[i++] = dir;
  argv[i] = NULL;
  ASSERT_EQ(0, rmt_spawn(&c, argv));              /* runsv, as the user */
  for (waited = 0; waited < 10000; waited += 20) {
    read_supervise(dir, "stat", stat, sizeof stat);
    read_supervise(dir, "pid", buf, sizeof buf);
    pid = (uint32_t)strtoul(buf, NULL, 10);
    if (pid && strncmp(stat, "run", 3) == 0) break;
    rmt_sleep_ms(20);
  }
  ASSERT(pid != 0);
  rmt_sleep_ms(1200);

  h = session_with_file(held, 5000, 5000);
  list_now(h, &l);
  ASSERT_OK(rm_shutdown(h, 0, NULL, NULL));
  ASSERT_STR_EQ("active/running", state("rmt-twin"));
  ASSERT_EQ(sys_pid, main_pid("rmt-twin"));        /* never stopped */
  e = entry_of(&l, pid);
  ASSERT(e != NULL);
  ASSERT(e->app_type != RM_APP_SERVICE);
  ASSERT_STR_EQ("", e->service_short_name);
  ASSERT(entry_of(&l, sys_pid) == NULL);
  ASSERT_OK(rm_restart(h, 0, NULL, NULL));
  list_now(h, &l);
  for (i = 0; i < l.n; i++)
    if (l.v[i].app_status & RM_STATUS_RESTARTED) foreign_track(&l.v[i].process);
  ASSERT_OK(rm_end_session(h));
  ASSERT_STR_EQ("active/running", state("rmt-twin"));
  ASSERT_EQ(sys_pid, main_pid("rmt-twin"));

  kill(c.pid, SIGTERM);                 /* runsv takes its service down */
  rmt_wait(&c, 15000);
  foreign_kill_all();
  remove_unit("rmt-twin");
}
