/* SPDX-License-Identifier: MIT */
/*
 * sd_host_view.c: the host's view of the container (test_systemd --child
 * host-view, run on the host by run-in-systemd.sh --host).  A unit inside
 * the container holds a file; from the host that process is in another
 * pid namespace, under the container's cgroup, and no host service: a
 * container, listed CRITICAL with SESSION_MISMATCH and never stopped.
 */
#define _GNU_SOURCE
#include "sd_test.h"

#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/vfs.h>

/* Runs systemctl inside the container (nsenter into its PID 1's
 * namespaces); its exit status. */
static int ctl_inside(const char *leader, const char *a1, const char *a2) {
  char *argv[8];
  argv[0] = (char *)(uintptr_t)"/usr/bin/nsenter";
  argv[1] = (char *)(uintptr_t)"-t";
  argv[2] = (char *)(uintptr_t)leader;
  argv[3] = (char *)(uintptr_t)"-a";
  argv[4] = (char *)(uintptr_t)SYSTEMCTL;
  argv[5] = (char *)(uintptr_t)a1;
  argv[6] = (char *)(uintptr_t)a2;
  argv[7] = NULL;
  return run_capture(NULL, 0, argv);
}

/* The host pid of the unit's process: the first of its cgroup.procs in
 * the host's hierarchy, under the container's cgroup. */
static uint32_t host_pid_of(const char *cg, const char *unit) {
  char path[700];
  struct statfs fs;
  FILE *f;
  unsigned long v = 0;
  const char *root = "/sys/fs/cgroup";
  ASSERT_EQ(0, statfs(root, &fs));
  if (fs.f_type != CGROUP2_SUPER_MAGIC) root = "/sys/fs/cgroup/systemd";
  snprintf(path, sizeof path, "%s%s/system.slice/%s/cgroup.procs", root, cg,
           unit);
  f = fopen(path, "r");
  ASSERT(f != NULL);
  if (f) {
    if (fscanf(f, "%lu", &v) != 1) v = 0;
    fclose(f);
  }
  return (uint32_t)v;
}

/* The last NSpid value (the pid inside the innermost namespace). */
static uint32_t inner_pid(uint32_t pid) {
  char path[64], line[256];
  FILE *f;
  unsigned long v = 0;
  snprintf(path, sizeof path, "/proc/%u/status", (unsigned)pid);
  f = fopen(path, "r");
  ASSERT(f != NULL);
  while (f && fgets(line, sizeof line, f))
    if (strncmp(line, "NSpid:", 6) == 0) {
      char *p = line + 6, *end;
      for (;;) {
        unsigned long x = strtoul(p, &end, 10);
        if (end == p) break;
        v = x;
        p = end;
      }
    }
  if (f) fclose(f);
  return (uint32_t)v;
}

static void container_seen_from_the_host(void) {
  const char *leader = getenv("RMT_LEADER"), *cg = getenv("RMT_CGROUP");
  char root[64], unit_path[200], text[1024], held[200];
  const char *files[1];
  uint32_t h, pid;
  listing l;
  ASSERT(leader && cg && getenv("RM_TEST_BIN"));
  if (!leader || !cg || !getenv("RM_TEST_BIN")) return;
  snprintf(root, sizeof root, "/proc/%s/root", leader);
  snprintf(held, sizeof held, "%s/run/rmt-held", root);
  ASSERT_EQ(0, rmt_write_file(held, "data\n"));
  snprintf(unit_path, sizeof unit_path,
           "%s" UNIT_DIR "/rmt-inside.service", root);
  /* The build tree is bound into the container at the same path and the
   * unit runs as root there: the built helper itself, not rmt_helper's
   * copy for other users (that copy is in the host's /tmp, which the
   * container does not see). */
  snprintf(text, sizeof text,
           "[Service]\nType=notify\nExecStart=%s/rm_unitd --hold "
           "/run/rmt-held\n", getenv("RM_TEST_BIN"));
  ASSERT_EQ(0, rmt_write_file(unit_path, text));
  ASSERT_EQ(0, ctl_inside(leader, "daemon-reload", NULL));
  ASSERT_EQ(0, ctl_inside(leader, "start", "rmt-inside"));
  pid = host_pid_of(cg, "rmt-inside.service");
  ASSERT(pid != 0);
  ASSERT(inner_pid(pid) != pid);              /* another pid namespace */

  rmt_fresh_store();
  h = session_with_file(NULL, 2000, 2000);
  files[0] = held;
  ASSERT_OK(rm_register_resources(h, 1, files, 0, NULL, 0, NULL));
  list_now(h, &l);
  ASSERT_EQ(1, l.n);
  ASSERT_EQ(pid, l.v[0].process.pid);
  ASSERT_EQ(RM_APP_CRITICAL, l.v[0].app_type);
  ASSERT_STR_EQ("", l.v[0].service_short_name);
  ASSERT_EQ(0, l.v[0].restartable);
  ASSERT_EQ(RM_REBOOT_REASON_SESSION_MISMATCH, l.reasons);
  ASSERT_EQ(RM_ERROR_FAIL_NOACTION_REBOOT,
            rm_shutdown(h, RM_FORCE_SHUTDOWN, NULL, NULL));
  ASSERT(rm__linux_pid_alive(pid));
  ASSERT_EQ(0, ctl_inside(leader, "is-active", "rmt-inside"));
  ASSERT_OK(rm_end_session(h));
  ASSERT_EQ(0, ctl_inside(leader, "stop", "rmt-inside"));
  ASSERT(gone_within(pid, 2000));
}

int host_view_main(void) {
  RUN(container_seen_from_the_host);
  return rmt_finish();
}
