/* SPDX-License-Identifier: MIT */
/*
 * svc_systemd.c: systemd behind the service-manager interface.
 *
 * Used only where systemd runs (/run/systemd/system exists, the test
 * sd_booted() makes).  A process's unit comes from its cgroup by systemd's
 * own rule (cg_path_get_unit): skip the leading "*.slice" components, and
 * the first remaining component is the unit.  The path is the unified
 * hierarchy's ("0::/...") when that names a unit, else the v1
 * "name=systemd" one: on a legacy layout the 0:: line is a bare "/", and
 * with a pure cgroup2 /sys/fs/cgroup inside a container on a hybrid host
 * the kernel still prints the host's stale "name=systemd:/" line.  For
 * the system manager only ".service" units are services: scopes (login
 * sessions, applications started by a desktop) are plain applications,
 * and user@UID.service is a user's manager, whose processes belong to
 * that user (see below).  The short name is the unit name without ".service"
 * (what one types to systemctl); a service registered as "x.service" is
 * listed as "x".
 *
 * Control and state go through `systemctl`, not sd-bus: it ships with the
 * manager it talks to (same version), reaches PID 1 over its private
 * socket when D-Bus itself is down, needs no library at build or run
 * time, and each call is a child we can bound and kill if PID 1 hangs.
 * Stop and start are queued with --no-block, then the unit's properties
 * (`systemctl show`, key=value) are polled until ActiveState says the job
 * is done, the service timeout passes, or a cancel comes.  No command's
 * message text is read, only its exit status for "accepted".
 *
 * A stop that does not finish in time cannot be withdrawn in systemd
 * (the unit stays "deactivating" until its own TimeoutStopSec); without
 * force a start job is queued behind it so the unit comes back up and
 * the entry is ERROR_ON_STOP; with force `systemctl kill
 * --signal=SIGKILL` ends every process of the unit and the stop
 * completes.  What an inactive unit leaves in its cgroup (KillMode=process
 * or none) is the service's too and is ended by systemd's kill, SIGTERM
 * then with force SIGKILL; left running, it fails the stop.  Units with
 * RefuseManualStop=yes are reported so the dispatcher never stops them.
 *
 * A caller other than root whose own user manager runs (its private
 * socket $XDG_RUNTIME_DIR/systemd/private exists and is the caller's)
 * also has that manager's units as services: a process under
 * user@UID.service, UID the caller's, in a .service there (after the
 * manager's own slices, such as app.slice) is that unit's, controlled
 * with `systemctl --user` the same way.  For root, and under other
 * users' managers, such processes are applications.
 *
 * A unit without a main pid (Type=forking without a PID file and
 * GuessMainPID=no, oneshot) is represented by the first process of its
 * cgroup, read where systemd keeps it: /sys/fs/cgroup itself when that
 * is cgroup2, else the name=systemd hierarchy at /sys/fs/cgroup/systemd
 * (hybrid and legacy layouts).
 */
#define _GNU_SOURCE
#include "services.h"

#include <fcntl.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#define CTL_TIMEOUT_MS 15000u    /* bound on one systemctl invocation */
#define KILL_WAIT_MS 5000u
#define POLL_MS 100u

static int systemd_present(void) {
  return access("/run/systemd/system", F_OK) == 0;
}

/* "foo" → "foo.service"; a name with ".service" stays.  Glob characters
 * are refused: systemctl would match them against every unit. */
static int unit_of(const char *name, char *unit, size_t cap) {
  size_t n = strlen(name);
  if (strpbrk(name, "*?[") || name[0] == '-') return -1;
  if (n >= 8 && strcmp(name + n - 8, ".service") == 0)
    return (size_t)snprintf(unit, cap, "%s", name) < cap ? 0 : -1;
  return (size_t)snprintf(unit, cap, "%s.service", name) < cap ? 0 : -1;
}

static int ends_with(const char *s, size_t n, const char *suffix) {
  size_t k = strlen(suffix);
  return n >= k && memcmp(s + n - k, suffix, k) == 0;
}

/* 1 when the component p[0..n) is a user's slice, "user-UID.slice". */
static int user_slice(const char *p, size_t n) {
  size_t i = 5;
  if (n < 12 || memcmp(p, "user-", 5) != 0) return 0;
  while (i < n - 6 && p[i] >= '0' && p[i] <= '9') i++;
  return i > 5 && i == n - 6;
}

/* The unit of a cgroup path by systemd's rule, seen from the system
 * manager (user_uid < 0) or from the user manager of user_uid (the path
 * must go through user@UID.service, and the rule applies again below
 * it).  1 and fills name (without ".service") for a .service unit. */
static int unit_in(const char *cg, long user_uid, char *name, size_t cap) {
  const char *p;
  char manager[48];
  int inside = user_uid < 0;
  if (!inside) snprintf(manager, sizeof manager, "user@%ld.service", user_uid);
  for (p = cg; *p;) {
    size_t n;
    while (*p == '/') p++;
    n = strcspn(p, "/");
    if (n == 0) break;
    if (ends_with(p, n, ".slice")) {
      /* A user's slice holds that user's sessions and manager: nothing
       * below it is a system unit, whatever it is called. */
      if (inside && user_uid < 0 && user_slice(p, n)) return 0;
      p += n;
      continue;
    }
    if (!inside) {
      /* The user's manager first, then its own slices and units. */
      if (n != strlen(manager) || memcmp(p, manager, n) != 0) return 0;
      inside = 1;
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

int rm__linux_unit_of_cgroup(const char *cg, char *name, size_t cap) {
  return unit_in(cg, -1, name, cap);
}

/* The systemd path of one /proc/PID/cgroup line, or NULL: "0::PATH" or
 * "ID:...name=systemd...:PATH" (the v1 controller list is comma-separated). */
static const char *systemd_path_of_line(const char *line, int *unified) {
  const char *colon, *colon2;
  *unified = strncmp(line, "0::", 3) == 0;
  if (*unified) return line + 3;
  colon = strchr(line, ':');
  if (!colon) return NULL;
  colon2 = strchr(colon + 1, ':');
  if (!colon2) return NULL;
  {
    const char *c = colon + 1;
    while (c < colon2) {
      size_t n = strcspn(c, ",:");
      if (n == 12 && memcmp(c, "name=systemd", 12) == 0) return colon2 + 1;
      c += n;
      if (*c == ',') c++;
    }
  }
  return NULL;
}

/* The systemd path of the line at *text (copied into line[cap]; NULL when
 * it has none or is longer than line), *text moved past that line. */
static const char *next_systemd_path(const char **text, char *line,
                                     size_t cap, int *unified) {
  size_t n = strcspn(*text, "\n");
  const char *path = NULL;
  if (n < cap) {
    memcpy(line, *text, n);
    line[n] = 0;
    path = systemd_path_of_line(line, unified);
  }
  *text += n;
  if (**text) (*text)++;
  return path;
}

/* The unit of a whole /proc/PID/cgroup text (see services.h). */
static int unit_of_text(const char *text, long user_uid, char *name,
                        size_t cap) {
  char v1[RM_MAX_SVC_NAME + 1], line[4096];
  int have_v1 = 0;
  const char *p = text;
  while (*p) {
    int unified;
    const char *path = next_systemd_path(&p, line, sizeof line, &unified);
    if (path && unified && strcmp(path, "/") != 0) {
      /* The unified hierarchy decides whenever it places the process
       * (anything but the root): a user can mount a named v1 hierarchy of
       * their own ("none,name=systemd" in a user namespace) and put a
       * process in any path there, so a v1 line is read only on legacy
       * layouts, where the 0:: line is a bare "/". */
      return unit_in(path, user_uid, name, cap);
    } else if (path && !unified && !have_v1) {
      have_v1 = unit_in(path, user_uid, v1, sizeof v1);
    }
  }
  if (!have_v1 || strlen(v1) >= cap) return 0;
  memcpy(name, v1, strlen(v1) + 1);
  return 1;
}

int rm__linux_unit_of_cgroup_text(const char *text, char *name, size_t cap) {
  return unit_of_text(text, -1, name, cap);
}

int rm__linux_user_unit_of_cgroup_text(const char *text, uint32_t uid,
                                       char *name, size_t cap) {
  return unit_of_text(text, (long)uid, name, cap);
}

/* /proc/PID/cgroup whole into buf; -1 when unreadable or too long to be
 * sure the last line was read. */
static int read_cgroup_file(int dirfd, uint32_t pid, char *buf, size_t cap) {
  char path[64];
  ssize_t got;
  if (dirfd >= 0) {
    got = rm__linux_read_small(dirfd, "cgroup", buf, cap);
  } else {
    snprintf(path, sizeof path, "/proc/%u/cgroup", (unsigned)pid);
    got = rm__linux_read_small(AT_FDCWD, path, buf, cap);
  }
  return got <= 0 || (size_t)got + 1 >= cap ? -1 : 0;
}

static int systemd_service_of(uint32_t pid, const rm__pstat *st, char *name,
                              size_t cap) {
  char buf[16384];
  (void)st;
  if (read_cgroup_file(-1, pid, buf, sizeof buf) != 0) return 0;
  return unit_of_text(buf, -1, name, cap);
}

static int user_service_of(uint32_t pid, const rm__pstat *st, char *name,
                           size_t cap) {
  char buf[16384];
  (void)st;
  if (read_cgroup_file(-1, pid, buf, sizeof buf) != 0) return 0;
  return unit_of_text(buf, (long)geteuid(), name, cap);
}

int rm__linux_in_machine_slice(int dirfd) {
  char buf[16384], line[4096];
  const char *p = buf;
  if (read_cgroup_file(dirfd, 0, buf, sizeof buf) != 0) return 0;
  while (*p) {
    int unified;
    const char *path = next_systemd_path(&p, line, sizeof line, &unified);
    if (path && strncmp(path, "/machine.slice/", 15) == 0) return 1;
  }
  return 0;
}

static int systemd_short_name(const char *name, char *out, size_t cap) {
  size_t n = strlen(name);
  if (ends_with(name, n, ".service") && n > 8) n -= 8;
  if (n >= cap) return 0;
  memcpy(out, name, n);
  out[n] = 0;
  return 1;
}

/* The properties of a unit this file needs, from `systemctl show`. */
typedef struct unit_props {
  char load[32], active[32], cgroup[1024];
  uint32_t main_pid;
  int refuse_stop;
} unit_props;

/* "--system" or "--user": which manager systemctl talks to. */
static char *scope_flag(int user) {
  return (char *)(uintptr_t)(user ? "--user" : "--system");
}

static int show(int user, const char *name, unit_props *u) {
  char prog[RM_PATH_MAX], unit[RM_MAX_SVC_NAME + 16], out[4096];
  char *argv[9], *line, *save = NULL;
  memset(u, 0, sizeof *u);
  if (unit_of(name, unit, sizeof unit) != 0 ||
      rm__linux_find_program("systemctl", prog, sizeof prog) != 0)
    return -1;
  argv[0] = prog;
  argv[1] = scope_flag(user);
  argv[2] = (char *)(uintptr_t)"show";
  argv[3] = (char *)(uintptr_t)"--property=LoadState,ActiveState,MainPID";
  argv[4] = (char *)(uintptr_t)"--property=ControlGroup,RefuseManualStop";
  argv[5] = (char *)(uintptr_t)"--";
  argv[6] = unit;
  argv[7] = NULL;
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

/* 1 when a ControlGroup value is a plain absolute path: no "." or ".."
 * component, so it cannot point outside the hierarchy. */
static int plain_cgroup_path(const char *cg) {
  const char *p = cg;
  if (cg[0] != '/') return 0;
  while (*p) {
    size_t n;
    while (*p == '/') p++;
    n = strcspn(p, "/");
    if ((n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
      return 0;
    p += n;
  }
  return 1;
}

/* A unit without a main pid (oneshot, forking without a pid file) is
 * represented by the first process of its cgroup, in the hierarchy
 * systemd tracks units in (see the file comment). */
static uint32_t first_cgroup_pid(const char *cgroup) {
  char path[1200], buf[64];
  struct statfs fs;
  const char *root = "/sys/fs/cgroup";
  if (!plain_cgroup_path(cgroup)) return 0;
  if (statfs(root, &fs) != 0) return 0;
  if (fs.f_type != CGROUP2_SUPER_MAGIC) root = "/sys/fs/cgroup/systemd";
  if ((size_t)snprintf(path, sizeof path, "%s%s/cgroup.procs", root,
                       cgroup) >= sizeof path ||
      rm__linux_read_small(AT_FDCWD, path, buf, sizeof buf) <= 0)
    return 0;
  return (uint32_t)strtoul(buf, NULL, 10);
}

static int lookup(int user, const char *name, uint32_t *pid) {
  unit_props u;
  if (show(user, name, &u) != 0 || strcmp(u.load, "not-found") == 0)
    return RM_SVC_UNKNOWN;
  if (strcmp(u.active, "active") != 0 && strcmp(u.active, "reloading") != 0)
    return RM_SVC_DOWN;
  *pid = u.main_pid ? u.main_pid : first_cgroup_pid(u.cgroup);
  return *pid ? RM_SVC_RUNNING : RM_SVC_DOWN;
}

static int refuses_stop(int user, const char *name) {
  unit_props u;
  return show(user, name, &u) == 0 && u.refuse_stop;
}

/* systemctl --system|--user VERB [--no-block | extra extra2] UNIT; 0 when
 * it accepted it. */
static int ctl2(int user, const char *verb, const char *name,
                const char *extra, const char *extra2) {
  char prog[RM_PATH_MAX], unit[RM_MAX_SVC_NAME + 16];
  char *argv[9];
  int i = 0;
  if (unit_of(name, unit, sizeof unit) != 0 ||
      rm__linux_find_program("systemctl", prog, sizeof prog) != 0)
    return -1;
  argv[i++] = prog;
  argv[i++] = scope_flag(user);
  argv[i++] = (char *)(uintptr_t)verb;
  if (extra) argv[i++] = (char *)(uintptr_t)extra;
  else argv[i++] = (char *)(uintptr_t)"--no-block";
  if (extra2) argv[i++] = (char *)(uintptr_t)extra2;
  argv[i++] = (char *)(uintptr_t)"--";
  argv[i++] = unit;
  argv[i] = NULL;
  return rm__linux_run(NULL, argv, NULL, 0, CTL_TIMEOUT_MS) == 0 ? 0 : -1;
}

static int ctl(int user, const char *verb, const char *name,
               const char *extra) {
  return ctl2(user, verb, name, extra, NULL);
}

static int is_inactive(const unit_props *u) {
  return strcmp(u->active, "inactive") == 0 || strcmp(u->active, "failed") == 0;
}

static int is_active(const unit_props *u) {
  return strcmp(u->active, "active") == 0;
}

/* Polls the unit until want holds, the deadline or a cancel.  1 when it
 * holds, 0 otherwise; a unit that failed while starting ends the wait. */
static int wait_unit(int user, const char *name,
                     int (*want)(const unit_props *), uint64_t deadline,
                     const volatile int *cancel) {
  unit_props u;
  for (;;) {
    if (show(user, name, &u) == 0) {
      if (want(&u)) return 1;
      if (want == is_active && strcmp(u.active, "failed") == 0) return 0;
    }
    if ((cancel && *cancel) || rm__os_now_ms() >= deadline) return 0;
    rm__os_sleep_ms(POLL_MS);
  }
}

/* Inactive, and nothing left in its cgroup. */
static int is_empty(const unit_props *u) {
  return is_inactive(u) && (!u->cgroup[0] || first_cgroup_pid(u->cgroup) == 0);
}

/* An inactive unit may leave processes in its cgroup (KillMode=process or
 * none: workers, helpers), and they may hold the very files the installer
 * replaces.  They are the service's too: systemd's own kill ends them
 * (SIGTERM, then with force SIGKILL), never a signal of ours. */
static uint32_t end_leftovers(int user, const char *name, uint64_t deadline,
                              int force, const volatile int *cancel) {
  unit_props u;
  if (show(user, name, &u) != 0) return RM_ERROR_FAIL_SHUTDOWN;
  if (is_empty(&u)) return RM_OK;
  if (ctl(user, "kill", name, "--kill-who=all") != 0)
    return RM_ERROR_FAIL_SHUTDOWN;
  if (wait_unit(user, name, is_empty, deadline, cancel)) return RM_OK;
  if (cancel && *cancel) return RM_ERROR_CANCELLED;
  if (!force ||
      ctl2(user, "kill", name, "--kill-who=all", "--signal=SIGKILL") != 0)
    return RM_ERROR_FAIL_SHUTDOWN;
  return wait_unit(user, name, is_empty, rm__os_now_ms() + KILL_WAIT_MS, NULL)
             ? RM_OK
             : RM_ERROR_FAIL_SHUTDOWN;
}

static uint32_t stop(int user, const char *name, unsigned timeout_ms,
                     int force, const volatile int *cancel) {
  unit_props u;
  uint64_t deadline = rm__os_now_ms() + timeout_ms;
  if (show(user, name, &u) != 0 || u.refuse_stop)
    return RM_ERROR_FAIL_SHUTDOWN;
  if (is_inactive(&u)) return end_leftovers(user, name, deadline, force, cancel);
  if (ctl(user, "stop", name, NULL) != 0) return RM_ERROR_FAIL_SHUTDOWN;
  if (wait_unit(user, name, is_inactive, deadline, cancel))
    return end_leftovers(user, name, deadline, force, cancel);
  if (cancel && *cancel) {
    ctl(user, "start", name, NULL);    /* replaces the pending stop job */
    return RM_ERROR_CANCELLED;
  }
  if (!force) {
    ctl(user, "start", name, NULL);
    return RM_ERROR_FAIL_SHUTDOWN;
  }
  if (ctl2(user, "kill", name, "--kill-who=all", "--signal=SIGKILL") != 0)
    return RM_ERROR_FAIL_SHUTDOWN;
  return wait_unit(user, name, is_empty, rm__os_now_ms() + KILL_WAIT_MS, NULL)
             ? RM_OK
             : RM_ERROR_FAIL_SHUTDOWN;
}

static uint32_t start(int user, const char *name, unsigned timeout_ms) {
  unit_props u;
  if (show(user, name, &u) != 0) return RM_ERROR_FAIL_RESTART;
  if (is_active(&u)) return RM_OK;
  if (ctl(user, "start", name, NULL) != 0) return RM_ERROR_FAIL_RESTART;
  return wait_unit(user, name, is_active, rm__os_now_ms() + timeout_ms, NULL)
             ? RM_OK
             : RM_ERROR_FAIL_RESTART;
}

/* The interface's lookup, refuses_stop, stop and start for one manager:
 * PREFIX_lookup and so on, each the function above with user fixed. */
#define MANAGER_ENTRIES(prefix, user)                                       \
  static int prefix##_lookup(const char *name, uint32_t *pid) {             \
    return lookup(user, name, pid);                                         \
  }                                                                         \
  static int prefix##_refuses_stop(const char *name) {                      \
    return refuses_stop(user, name);                                        \
  }                                                                         \
  static uint32_t prefix##_stop(const char *name, unsigned timeout_ms,      \
                                int force, const volatile int *cancel) {    \
    return stop(user, name, timeout_ms, force, cancel);                     \
  }                                                                         \
  static uint32_t prefix##_start(const char *name, unsigned timeout_ms) {   \
    return start(user, name, timeout_ms);                                   \
  }

/* {===== The system manager */

MANAGER_ENTRIES(systemd, 0)

const rm__svc_manager rm__svc_systemd = {
  "systemd", systemd_present, systemd_service_of, systemd_short_name,
  systemd_lookup, systemd_refuses_stop, systemd_stop, systemd_start
};

/* }=====
 * {===== The caller's own user manager */

/* Only for a caller other than root whose user manager runs: its private
 * socket $XDG_RUNTIME_DIR/systemd/private exists and is the caller's. */
static int user_present(void) {
  const char *dir = getenv("XDG_RUNTIME_DIR");
  char path[RM_PATH_MAX];
  struct stat st;
  if (geteuid() == 0 || !systemd_present() || !dir || dir[0] != '/' ||
      (size_t)snprintf(path, sizeof path, "%s/systemd/private", dir) >=
          sizeof path)
    return 0;
  return lstat(path, &st) == 0 && S_ISSOCK(st.st_mode) &&
         st.st_uid == geteuid();
}

MANAGER_ENTRIES(user, 1)

const rm__svc_manager rm__svc_systemd_user = {
  "systemd --user", user_present, user_service_of, systemd_short_name,
  user_lookup, user_refuses_stop, user_stop, user_start
};

/* }===== */
