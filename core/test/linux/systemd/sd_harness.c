/* SPDX-License-Identifier: MIT */
/*
 * sd_harness.c: the helpers of the systemd tests (sd_test.h).
 */
#define _GNU_SOURCE
#include "sd_test.h"

#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <sys/stat.h>

char base[600];
char unitd[700];
static unsigned store_counter;

/* {===== Running systemctl */

/* Runs argv (argv[0] a path) with its stdout into out[cap]; the exit
 * status, or -1. */
int run_capture(char *out, size_t cap, char *const argv[]) {
  rmt_child c;
  size_t n = 0;
  if (out && cap) out[0] = 0;
  if (rmt_spawn(&c, argv) != 0) return -1;
  for (;;) {
    struct pollfd pfd;
    char sink[256];
    ssize_t got;
    pfd.fd = c.out_fd;
    pfd.events = POLLIN;
    if (poll(&pfd, 1, 30000) <= 0) break;
    if (out && n + 1 < cap) got = read(c.out_fd, out + n, cap - 1 - n);
    else got = read(c.out_fd, sink, sizeof sink);
    if (got <= 0) break;
    if (out && n + 1 < cap) {
      n += (size_t)got;
      out[n] = 0;
    }
  }
  while (out && n > 0 && out[n - 1] == '\n') out[--n] = 0;
  return rmt_wait(&c, 30000);
}

int as_user;

/* systemctl with up to 3 arguments; its exit status. */
int ctl(const char *a1, const char *a2, const char *a3) {
  char *argv[6];
  argv[0] = (char *)(uintptr_t)SYSTEMCTL;
  argv[1] = (char *)(uintptr_t)(as_user ? "--user" : "--system");
  argv[2] = (char *)(uintptr_t)a1;
  argv[3] = (char *)(uintptr_t)a2;
  argv[4] = (char *)(uintptr_t)a3;
  argv[5] = NULL;
  return run_capture(NULL, 0, argv);
}

/* One property of a unit ("ActiveState", ...), as systemctl shows it. */
const char *prop(const char *unit, const char *name) {
  static char out[4][256];
  static int next;
  char *o = out[next++ % 4], arg[64];
  char *argv[7];
  snprintf(arg, sizeof arg, "--property=%s", name);
  argv[0] = (char *)(uintptr_t)SYSTEMCTL;
  argv[1] = (char *)(uintptr_t)(as_user ? "--user" : "--system");
  argv[2] = (char *)(uintptr_t)"show";
  argv[3] = (char *)(uintptr_t)"--value";
  argv[4] = arg;
  argv[5] = (char *)(uintptr_t)unit;
  argv[6] = NULL;
  ASSERT_EQ(0, run_capture(o, 256, argv));
  return o;
}

uint32_t main_pid(const char *unit) {
  return (uint32_t)strtoul(prop(unit, "MainPID"), NULL, 10);
}

/* The unit's state as "ActiveState/SubState". */
const char *state(const char *unit) {
  static char s[128];
  char active[64];
  snprintf(active, sizeof active, "%s", prop(unit, "ActiveState"));
  snprintf(s, sizeof s, "%s/%s", active, prop(unit, "SubState"));
  return s;
}

/* The pids of the unit's cgroup (cgroup.procs where this layout keeps
 * it), at most cap; how many. */
size_t unit_pids(const char *unit, uint32_t *pids, size_t cap) {
  char path[700], cg[256];
  struct stat st;
  FILE *f;
  size_t n = 0;
  unsigned long v;
  snprintf(cg, sizeof cg, "%s", prop(unit, "ControlGroup"));
  snprintf(path, sizeof path, "/sys/fs/cgroup%s/cgroup.procs", cg);
  if (stat(path, &st) != 0)
    snprintf(path, sizeof path, "/sys/fs/cgroup/systemd%s/cgroup.procs", cg);
  f = fopen(path, "r");
  if (!f) return 0;
  while (n < cap && fscanf(f, "%lu", &v) == 1) pids[n++] = (uint32_t)v;
  fclose(f);
  return n;
}

/* Writes NAME.service with the given [Unit]/[Service] body and reloads. */
void write_unit(const char *name, const char *fmt, ...) {
  char path[300], text[4096];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(text, sizeof text, fmt, ap);
  va_end(ap);
  snprintf(path, sizeof path, UNIT_DIR "/%s.service", name);
  ASSERT_EQ(0, rmt_write_file(path, text));
  ASSERT_EQ(0, ctl("daemon-reload", NULL, NULL));
}

/* Starts a unit and checks it is active with a live main pid (0 allowed
 * when want_pid is 0); returns MainPID. */
uint32_t start_unit(const char *name, int want_pid) {
  uint32_t pid;
  ASSERT_EQ(0, ctl("start", name, NULL));
  ASSERT_STR_EQ("active/running", state(name));
  pid = main_pid(name);
  if (want_pid) ASSERT(rm__linux_pid_alive(pid));
  return pid;
}

/* Stops and removes a unit of a case: a stop job first (it replaces a
 * start the library may have queued), then SIGKILL to whatever of it
 * ignores SIGTERM (or refuses manual stops), then the stop is waited for. */
void remove_unit(const char *name) {
  char path[300];
  ctl("stop", "--no-block", name);
  ctl("kill", "--signal=SIGKILL", name);
  ASSERT(ctl("stop", name, NULL) == 0 ||
         strcmp(name, "rmt-refuse") == 0);
  ASSERT(strncmp(state(name), "active", 6) != 0);
  ctl("reset-failed", name, NULL);
  snprintf(path, sizeof path, UNIT_DIR "/%s.service", name);
  unlink(path);
  ASSERT_EQ(0, ctl("daemon-reload", NULL, NULL));
}

/* 1 when pid is gone within timeout_ms. */
int gone_within(uint32_t pid, unsigned timeout_ms) {
  unsigned waited = 0;
  while (rm__linux_pid_alive(pid)) {
    if (waited >= timeout_ms) return 0;
    rmt_sleep_ms(20);
    waited += 20;
  }
  return 1;
}

/* }=====
 * {===== Sessions */

/* A fresh session store of its own for each case. */
void fresh_store(void) {
  char dir[700];
  snprintf(dir, sizeof dir, "%s/store-%u", base, store_counter++);
  rmt_setenv("RESTARTMGR_STATE_DIR", dir);
}

/* A file under /run (units with PrivateTmp= do not see /tmp). */
const char *held_file(const char *name) {
  static char paths[4][700];
  static int next;
  char *p = paths[next++ % 4];
  snprintf(p, 700, "%s/%s", base, name);
  ASSERT_EQ(0, rmt_write_file(p, "data\n"));
  return p;
}

uint32_t session_by_name(const char *service, unsigned svc_ms) {
  uint32_t h = session_with_file(NULL, 5000, svc_ms);
  const char *names[1];
  names[0] = service;
  ASSERT_OK(rm_register_resources(h, 0, NULL, 0, NULL, 1, names));
  return h;
}

/* The list has exactly one entry, the service's: its main pid, running
 * (or with the given status), restartable, no reason. */
void one_service_entry(uint32_t h, const char *short_name, uint32_t pid,
                              uint32_t status) {
  listing l;
  rm_unique_process id;
  list_now(h, &l);
  ASSERT_EQ(1, l.n);
  ASSERT_EQ(0, l.reasons);
  ASSERT_EQ(pid, l.v[0].process.pid);
  if (status & RM_STATUS_RUNNING) {
    ASSERT_OK(rm_get_process_identity(pid, &id));
    ASSERT_EQ(id.start_time, l.v[0].process.start_time);
  }
  ASSERT_EQ(RM_APP_SERVICE, l.v[0].app_type);
  ASSERT_STR_EQ(short_name, l.v[0].service_short_name);
  ASSERT_EQ(1, l.v[0].restartable);
  ASSERT_EQ(status, l.v[0].app_status);
}

/* rm_shutdown then rm_restart of a session whose only entry is the unit:
 * stopped through systemd (inactive, its processes gone), started again
 * with a new main pid the entry takes. */
void shutdown_and_restart(uint32_t h, const char *unit, uint32_t pid) {
  uint32_t pid2;
  ASSERT_OK(rm_shutdown(h, 0, NULL, NULL));
  ASSERT_STR_EQ("inactive/dead", state(unit));
  ASSERT_EQ(0, main_pid(unit));
  ASSERT(gone_within(pid, 2000));
  one_service_entry(h, unit, pid, RM_STATUS_STOPPED);
  ASSERT_OK(rm_restart(h, 0, NULL, NULL));
  ASSERT_STR_EQ("active/running", state(unit));
  pid2 = main_pid(unit);
  ASSERT(pid2 != 0 && pid2 != pid);
  one_service_entry(h, unit, pid2,
                    RM_STATUS_STOPPED | RM_STATUS_RESTARTED |
                        RM_STATUS_RUNNING);
}


/* }===== */
