/*
 * svc_systemd.c: systemd behind the service-manager interface.
 *
 * Used only where systemd runs (/run/systemd/system exists, the test
 * sd_booted() makes).  A process's unit comes from its cgroup by systemd's
 * own rule (cg_path_get_unit): take the path in the unified hierarchy
 * ("0::/...") or the v1 "name=systemd" one, skip the leading "*.slice"
 * components, and the first remaining component is the unit.  Only
 * system ".service" units are services here: scopes (login sessions,
 * applications started by a desktop) are plain applications, and
 * user@UID.service is the user's manager, whose processes are the user's
 * applications.  The short name is the unit name without ".service".
 *
 * Control and state go through `systemctl` (stop/start --no-block, then
 * `systemctl show` polled until the unit is inactive or active, so a
 * cancel is seen promptly); with force, a unit still running at the
 * timeout gets `systemctl kill --signal=SIGKILL`.  Units with
 * RefuseManualStop=yes are reported so the dispatcher never stops them.
 */
#define _GNU_SOURCE
#include "services.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CTL_TIMEOUT_MS 15000u    /* bound on one systemctl invocation */
#define KILL_WAIT_MS 5000u
#define POLL_MS 100u

static int systemd_present(void) {
  return access("/run/systemd/system", F_OK) == 0;
}

/* "foo" → "foo.service"; a name with ".service" stays. */
static int unit_of(const char *name, char *unit, size_t cap) {
  size_t n = strlen(name);
  if (n >= 8 && strcmp(name + n - 8, ".service") == 0)
    return (size_t)snprintf(unit, cap, "%s", name) < cap ? 0 : -1;
  return (size_t)snprintf(unit, cap, "%s.service", name) < cap ? 0 : -1;
}

static int ends_with(const char *s, size_t n, const char *suffix) {
  size_t k = strlen(suffix);
  return n >= k && memcmp(s + n - k, suffix, k) == 0;
}

/* The systemd cgroup path of a process, from /proc/PID/cgroup. */
static int cgroup_path(uint32_t pid, char *out, size_t cap) {
  char path[64], buf[4096], *line, *save = NULL;
  snprintf(path, sizeof path, "/proc/%u/cgroup", (unsigned)pid);
  if (rm__linux_read_small(AT_FDCWD, path, buf, sizeof buf) <= 0) return -1;
  for (line = strtok_r(buf, "\n", &save); line;
       line = strtok_r(NULL, "\n", &save)) {
    const char *p = NULL;
    if (strncmp(line, "0::", 3) == 0) p = line + 3;
    else if (strstr(line, ":name=systemd:"))
      p = strstr(line, ":name=systemd:") + 14;
    if (p && strlen(p) < cap) {
      memcpy(out, p, strlen(p) + 1);
      return 0;
    }
  }
  return -1;
}

int rm__linux_unit_of_cgroup(const char *cg, char *name, size_t cap) {
  const char *p;
  for (p = cg; *p;) {
    size_t n;
    while (*p == '/') p++;
    n = strcspn(p, "/");
    if (n == 0) break;
    if (ends_with(p, n, ".slice")) {
      p += n;
      continue;
    }
    /* The first non-slice component is the unit. */
    if (!ends_with(p, n, ".service") || strncmp(p, "user@", 5) == 0)
      return 0;
    n -= 8;                                  /* drop ".service" */
    if (n == 0 || n >= cap || n > RM_MAX_SVC_NAME) return 0;
    memcpy(name, p, n);
    name[n] = 0;
    return 1;
  }
  return 0;
}

static int systemd_service_of(uint32_t pid, const rm__pstat *st, char *name,
                              size_t cap) {
  char cg[4096];
  (void)st;
  if (cgroup_path(pid, cg, sizeof cg) != 0) return 0;
  return rm__linux_unit_of_cgroup(cg, name, cap);
}

/* The properties of a unit this file needs, from `systemctl show`. */
typedef struct unit_props {
  char load[32], active[32], cgroup[1024];
  uint32_t main_pid;
  int refuse_stop;
} unit_props;

static int show(const char *name, unit_props *u) {
  char prog[RM_PATH_MAX], unit[RM_MAX_SVC_NAME + 16], out[4096];
  char *argv[9], *line, *save = NULL;
  memset(u, 0, sizeof *u);
  if (unit_of(name, unit, sizeof unit) != 0 ||
      rm__linux_find_program("systemctl", prog, sizeof prog) != 0)
    return -1;
  argv[0] = prog;
  argv[1] = (char *)(uintptr_t)"show";
  argv[2] = (char *)(uintptr_t)"--property=LoadState,ActiveState,MainPID";
  argv[3] = (char *)(uintptr_t)"--property=ControlGroup,RefuseManualStop";
  argv[4] = (char *)(uintptr_t)"--";
  argv[5] = unit;
  argv[6] = NULL;
  if (rm__linux_run(NULL, argv, out, sizeof out, CTL_TIMEOUT_MS) != 0)
    return -1;
  for (line = strtok_r(out, "\n", &save); line;
       line = strtok_r(NULL, "\n", &save)) {
    if (strncmp(line, "LoadState=", 10) == 0)
      snprintf(u->load, sizeof u->load, "%s", line + 10);
    else if (strncmp(line, "ActiveState=", 12) == 0)
      snprintf(u->active, sizeof u->active, "%s", line + 12);
    else if (strncmp(line, "MainPID=", 8) == 0)
      u->main_pid = (uint32_t)strtoul(line + 8, NULL, 10);
    else if (strncmp(line, "ControlGroup=", 13) == 0)
      snprintf(u->cgroup, sizeof u->cgroup, "%s", line + 13);
    else if (strncmp(line, "RefuseManualStop=", 17) == 0)
      u->refuse_stop = strcmp(line + 17, "yes") == 0;
  }
  return u->load[0] ? 0 : -1;
}

/* A unit without a main pid (oneshot, forking without a pid file) is
 * represented by the first process of its cgroup. */
static uint32_t first_cgroup_pid(const char *cgroup) {
  char path[1200], buf[64];
  if (!cgroup[0] ||
      (size_t)snprintf(path, sizeof path, "/sys/fs/cgroup%s/cgroup.procs",
                       cgroup) >= sizeof path ||
      rm__linux_read_small(AT_FDCWD, path, buf, sizeof buf) <= 0)
    return 0;
  return (uint32_t)strtoul(buf, NULL, 10);
}

static int systemd_lookup(const char *name, uint32_t *pid) {
  unit_props u;
  if (show(name, &u) != 0 || strcmp(u.load, "not-found") == 0)
    return RM_SVC_UNKNOWN;
  if (strcmp(u.active, "active") != 0 && strcmp(u.active, "reloading") != 0)
    return RM_SVC_DOWN;
  *pid = u.main_pid ? u.main_pid : first_cgroup_pid(u.cgroup);
  return *pid ? RM_SVC_RUNNING : RM_SVC_DOWN;
}

static int systemd_refuses_stop(const char *name) {
  unit_props u;
  return show(name, &u) == 0 && u.refuse_stop;
}

/* systemctl VERB [--no-block] UNIT [extra]; 0 when it accepted it. */
static int ctl(const char *verb, const char *name, const char *extra) {
  char prog[RM_PATH_MAX], unit[RM_MAX_SVC_NAME + 16];
  char *argv[7];
  int i = 0;
  if (unit_of(name, unit, sizeof unit) != 0 ||
      rm__linux_find_program("systemctl", prog, sizeof prog) != 0)
    return -1;
  argv[i++] = prog;
  argv[i++] = (char *)(uintptr_t)verb;
  if (extra) argv[i++] = (char *)(uintptr_t)extra;
  else argv[i++] = (char *)(uintptr_t)"--no-block";
  argv[i++] = (char *)(uintptr_t)"--";
  argv[i++] = unit;
  argv[i] = NULL;
  return rm__linux_run(NULL, argv, NULL, 0, CTL_TIMEOUT_MS) == 0 ? 0 : -1;
}

static int is_inactive(const unit_props *u) {
  return strcmp(u->active, "inactive") == 0 || strcmp(u->active, "failed") == 0;
}

static int is_active(const unit_props *u) {
  return strcmp(u->active, "active") == 0;
}

/* Polls the unit until want holds, the deadline or a cancel.  1 when it
 * holds, 0 otherwise; a unit that failed while starting ends the wait. */
static int wait_unit(const char *name, int (*want)(const unit_props *),
                     uint64_t deadline, const volatile int *cancel) {
  unit_props u;
  for (;;) {
    if (show(name, &u) == 0) {
      if (want(&u)) return 1;
      if (want == is_active && strcmp(u.active, "failed") == 0) return 0;
    }
    if ((cancel && *cancel) || rm__os_now_ms() >= deadline) return 0;
    rm__os_sleep_ms(POLL_MS);
  }
}

static uint32_t systemd_stop(const char *name, unsigned timeout_ms, int force,
                             const volatile int *cancel) {
  unit_props u;
  if (show(name, &u) != 0 || u.refuse_stop) return RM_ERROR_FAIL_SHUTDOWN;
  if (is_inactive(&u)) return RM_OK;
  if (ctl("stop", name, NULL) != 0) return RM_ERROR_FAIL_SHUTDOWN;
  if (wait_unit(name, is_inactive, rm__os_now_ms() + timeout_ms, cancel))
    return RM_OK;
  if (cancel && *cancel) {
    ctl("start", name, NULL);          /* replaces the pending stop job */
    return RM_ERROR_CANCELLED;
  }
  if (!force) {
    ctl("start", name, NULL);
    return RM_ERROR_FAIL_SHUTDOWN;
  }
  if (ctl("kill", name, "--signal=SIGKILL") != 0) return RM_ERROR_FAIL_SHUTDOWN;
  return wait_unit(name, is_inactive, rm__os_now_ms() + KILL_WAIT_MS, NULL)
             ? RM_OK
             : RM_ERROR_FAIL_SHUTDOWN;
}

static uint32_t systemd_start(const char *name, unsigned timeout_ms) {
  unit_props u;
  if (show(name, &u) != 0) return RM_ERROR_FAIL_RESTART;
  if (is_active(&u)) return RM_OK;
  if (ctl("start", name, NULL) != 0) return RM_ERROR_FAIL_RESTART;
  return wait_unit(name, is_active, rm__os_now_ms() + timeout_ms, NULL)
             ? RM_OK
             : RM_ERROR_FAIL_RESTART;
}

const rm__svc_manager rm__svc_systemd = {
  "systemd", systemd_present, systemd_service_of, systemd_lookup,
  systemd_refuses_stop, systemd_stop, systemd_start
};
