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
 * State goes through `systemctl show`, control through `systemctl`
 * (svc_systemd_ctl.c), not sd-bus: it ships with the manager it talks to
 * (same version), reaches PID 1 over its private socket when D-Bus itself
 * is down, needs no library at build or run time, and each call is a
 * child we can bound and kill if PID 1 hangs.  A scan asks once for every
 * unit it found (docs/linux.md, "Services"): `systemctl show` of all of
 * them, whose answers the lookups and RefuseManualStop checks of that
 * scan use, instead of one child per process of a unit.  Units with
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
#include "svc_systemd.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <pthread.h>

static int systemd_present(void) {
  return access("/run/systemd/system", F_OK) == 0;
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

const char *rm__linux_next_systemd_path(const char **text, char *line,
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
    const char *path =
        rm__linux_next_systemd_path(&p, line, sizeof line, &unified);
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
    const char *path =
        rm__linux_next_systemd_path(&p, line, sizeof line, &unified);
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

/* {===== The state of a scan's units, read once */

typedef struct cached_unit {
  int user;
  char name[RM_MAX_SVC_NAME + 1];
  rm__unit_props props;
} cached_unit;

static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static cached_unit *cache;
static size_t n_cache;
static unsigned cache_users;       /* prefetches without their forget */

/* Reads all names at once into the cache (those already in it are not
 * asked again).  Without a cache in use nothing is kept. */
static void prefetch(int user, const char *const *names, size_t n) {
  const char **ask = malloc((n + 1) * sizeof *ask);
  rm__unit_props *props = calloc(n + 1, sizeof *props);
  size_t i, k, n_ask = 0;
  pthread_mutex_lock(&cache_lock);
  cache_users++;
  pthread_mutex_unlock(&cache_lock);
  if (!ask || !props) goto end;
  for (i = 0; i < n; i++) {
    char unit[RM_SD_UNIT_MAX];
    int dup = rm__sd_unit_of(names[i], unit, sizeof unit) != 0 ||
              strlen(names[i]) > RM_MAX_SVC_NAME;
    for (k = 0; !dup && k < n_ask; k++) dup = strcmp(ask[k], names[i]) == 0;
    pthread_mutex_lock(&cache_lock);
    for (k = 0; !dup && k < n_cache; k++)
      dup = cache[k].user == user && strcmp(cache[k].name, names[i]) == 0;
    pthread_mutex_unlock(&cache_lock);
    if (!dup) ask[n_ask++] = names[i];
  }
  if (n_ask == 0 || rm__sd_show_many(user, ask, n_ask, props) != 0) goto end;
  pthread_mutex_lock(&cache_lock);
  {
    cached_unit *grown = realloc(cache, (n_cache + n_ask) * sizeof *grown);
    if (grown) {
      cache = grown;
      for (i = 0; i < n_ask; i++) {
        cached_unit *c = &cache[n_cache++];
        c->user = user;
        snprintf(c->name, sizeof c->name, "%s", ask[i]);
        c->props = props[i];
      }
    }
  }
  pthread_mutex_unlock(&cache_lock);
end:
  free(ask);
  free(props);
}

static void forget(void) {
  pthread_mutex_lock(&cache_lock);
  if (cache_users > 0 && --cache_users == 0) {
    free(cache);
    cache = NULL;
    n_cache = 0;
  }
  pthread_mutex_unlock(&cache_lock);
}

/* The unit's properties: from the cache of the scan under way, else one
 * `systemctl show`. */
static int show_cached(int user, const char *name, rm__unit_props *u) {
  size_t i;
  pthread_mutex_lock(&cache_lock);
  for (i = 0; i < n_cache; i++)
    if (cache[i].user == user && strcmp(cache[i].name, name) == 0) {
      *u = cache[i].props;
      pthread_mutex_unlock(&cache_lock);
      return 0;
    }
  pthread_mutex_unlock(&cache_lock);
  return rm__sd_show(user, name, u);
}

/* }=====
 * {===== Lookups */

static int lookup(int user, const char *name, uint32_t *pid) {
  rm__unit_props u;
  if (show_cached(user, name, &u) != 0 || strcmp(u.load, "not-found") == 0)
    return RM_SVC_UNKNOWN;
  if (strcmp(u.active, "active") != 0 && strcmp(u.active, "reloading") != 0)
    return RM_SVC_DOWN;
  *pid = u.main_pid ? u.main_pid : rm__linux_first_cgroup_pid(u.cgroup);
  return *pid ? RM_SVC_RUNNING : RM_SVC_DOWN;
}

static int refuses_stop(int user, const char *name) {
  rm__unit_props u;
  return show_cached(user, name, &u) == 0 && u.refuse_stop;
}

/* }=====
 * {===== The manager tables */

/* The interface's entries for one manager: PREFIX_lookup and so on, each
 * the function above or in svc_systemd_ctl.c with user fixed. */
#define MANAGER_ENTRIES(prefix, user)                                       \
  static int prefix##_lookup(const char *name, uint32_t *pid) {             \
    return lookup(user, name, pid);                                         \
  }                                                                         \
  static int prefix##_refuses_stop(const char *name) {                      \
    return refuses_stop(user, name);                                        \
  }                                                                         \
  static uint32_t prefix##_stop(const char *name, unsigned timeout_ms,      \
                                int force, const volatile int *cancel) {    \
    return rm__sd_stop(user, name, timeout_ms, force, cancel);              \
  }                                                                         \
  static uint32_t prefix##_start(const char *name, unsigned timeout_ms) {   \
    return rm__sd_start(user, name, timeout_ms);                            \
  }                                                                         \
  static void prefix##_restart(rm__svc_restart *v, size_t n,               \
                               unsigned timeout_ms,                        \
                               const volatile int *cancel) {               \
    rm__sd_restart(user, v, n, timeout_ms, cancel);                         \
  }                                                                         \
  static void prefix##_prefetch(const char *const *names, size_t n) {      \
    prefetch(user, names, n);                                               \
  }

/* }=====
 * {===== The system manager */

MANAGER_ENTRIES(systemd, 0)

const rm__svc_manager rm__svc_systemd = {
  "systemd", systemd_present, systemd_service_of, systemd_short_name,
  systemd_lookup, systemd_refuses_stop, systemd_stop, systemd_start,
  systemd_restart, systemd_prefetch, forget
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
  user_lookup, user_refuses_stop, user_stop, user_start,
  user_restart, user_prefetch, forget
};

/* }===== */
