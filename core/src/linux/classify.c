/* SPDX-License-Identifier: MIT */
/*
 * classify.c: what kind of application a found process is, and whether
 * the installer can shut it down and bring it back (docs/linux.md,
 * Classification).
 *
 * Only processes that matched are classified, and each only with what its
 * entry needs: stat (identity, terminal, kernel-thread flag), exe (name),
 * sessionid (audit login session), ns/pid, ns/mnt and cgroup (containers and sandboxes); environ
 * (a graphical session) only for a plain app without a terminal or a
 * reboot reason, the one case where it decides the type (one of the
 * costlier /proc reads; read once, restartable.c takes PATH from the same
 * copy); and what restartable.c needs to decide whether the process can
 * be started again (the exe link, also read once: rm__exe_seen).
 *
 * The critical list: PID 1, kernel threads, and processes whose command
 * name or executable basename is one of default_critical[] below or of
 * the colon-separated names in $RESTARTMGR_CRITICAL_PROCESSES (added to
 * the defaults).  Stopping any of them takes the session, the login or
 * the machine down with it, so they only ever cause a reboot reason.
 */
#define _GNU_SOURCE
#include "scan.h"
#include "services.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

static const char *const default_critical[] = {
  /* service managers and supervisors */
  "systemd", "init", "runit", "runit-init", "runsvdir", "runsv",
  "s6-svscan", "s6-supervise", "openrc-init", "supervise-daemon",
  "systemd-journald", "systemd-udevd", "udevd",
  /* the system bus and logins */
  "dbus-daemon", "dbus-broker", "dbus-broker-launch",
  "systemd-logind", "elogind", "elogind-daemon",
  "agetty", "getty", "mingetty", "login",
  /* display managers and display servers */
  "gdm", "gdm3", "gdm-session-worker", "sddm", "sddm-helper", "lightdm",
  "xdm", "lxdm", "greetd", "Xorg", "X", "Xwayland",
  /* the network the installer may be reached through */
  "NetworkManager", "wpa_supplicant",
  NULL
};

#define CRITICAL_ENV "RESTARTMGR_CRITICAL_PROCESSES"
#define DELETED_SUFFIX " (deleted)"

/* The audit login session (what logind's sessions are built on); the
 * kernel's "unset" value is the library's RM_INVALID_SESSION_ID. */
static uint32_t read_session_id(int dirfd) {
  char buf[32], *end;
  unsigned long v;
  if (rm__linux_read_once(dirfd, "sessionid", buf, sizeof buf) <= 0)
    return RM_INVALID_SESSION_ID;
  errno = 0;
  v = strtoul(buf, &end, 10);
  if (end == buf || errno || v > 0xFFFFFFFFul) return RM_INVALID_SESSION_ID;
  return (uint32_t)v;
}

/* What the caller stands on (docs/linux.md, Never stop yourself): its
 * ancestors up to PID 1 and the session leader of its terminal, each by
 * identity, and the number of its pts (the terminal host holds that
 * pty's master, found during detection).  RM_OK or RM_ERROR_OUTOFMEMORY. */
static uint32_t keep_init(rm__self *self) {
  rm__pstat st, own;
  uint32_t pid = self->pid;
  size_t cap = 16, hops = 0;
  unsigned major, minor;
  self->pts_index = -1;
  self->keep = malloc(cap * sizeof *self->keep);
  if (!self->keep) return RM_ERROR_OUTOFMEMORY;
  if (rm__linux_read_stat(-1, pid, &own) != 0) return RM_OK;
  major = ((unsigned)own.tty_nr >> 8) & 0xfffu;
  minor = ((unsigned)own.tty_nr & 0xffu) |
          (((unsigned)own.tty_nr >> 12) & 0xfff00u);
  if (own.tty_nr != 0 && major >= 136 && major < 144)
    self->pts_index = (int)((major - 136) * 256 + minor);
  st = own;
  /* Ancestors below PID 1 (critical anyway); a cycle cannot happen, but
   * a bound costs nothing. */
  while (st.ppid > 1 && hops++ < 4096) {
    uint32_t ppid = (uint32_t)st.ppid;
    if (rm__linux_read_stat(-1, ppid, &st) != 0) break;
    if (self->n_keep == cap) {
      rm_unique_process *v = realloc(self->keep, 2 * cap * sizeof *v);
      if (!v) return RM_ERROR_OUTOFMEMORY;
      self->keep = v;
      cap *= 2;
    }
    self->keep[self->n_keep].pid = ppid;
    self->keep[self->n_keep++].start_time =
        rm__linux_ticks_to_100ns(st.start_ticks);
  }
  if (own.tty_nr != 0 && own.session > 0 && (uint32_t)own.session != pid &&
      rm__linux_read_stat(-1, (uint32_t)own.session, &st) == 0) {
    if (self->n_keep == cap) {
      rm_unique_process *v = realloc(self->keep, (cap + 1) * sizeof *v);
      if (!v) return RM_ERROR_OUTOFMEMORY;
      self->keep = v;
    }
    self->keep[self->n_keep].pid = (uint32_t)own.session;
    self->keep[self->n_keep++].start_time =
        rm__linux_ticks_to_100ns(st.start_ticks);
  }
  return RM_OK;
}

/* The path of hierarchy `id` (the text before the second ':') in a
 * /proc/PID/cgroup text, or NULL; *len gets its length. */
static const char *cgroup_path(const char *text, const char *id, size_t idlen,
                               size_t *len) {
  const char *line = text;
  while (line && *line) {
    const char *end = strchr(line, '\n'), *colon = strchr(line, ':');
    if (!end) end = line + strlen(line);
    if (colon && colon < end)
      colon = memchr(colon + 1, ':', (size_t)(end - colon - 1));
    if (colon && (size_t)(colon - line) == idlen &&
        memcmp(line, id, idlen) == 0) {
      *len = (size_t)(end - colon - 1);
      return colon + 1;
    }
    line = *end ? end + 1 : NULL;
  }
  return NULL;
}

/* Whether the caller sits in the cgroup of the process whose /proc
 * directory is dirfd, or below it, in the hierarchies that place units
 * (0:: and name=systemd).  Stopping a service through its manager ends
 * the processes of its cgroup only: an sshd whose session forked the
 * admin's shell into a scope of its own is not what the shell stands
 * on, but a unit the caller runs inside is.  Unknown: yes. */
static int holds_caller(const rm__self *self, int dirfd) {
  char text[1024];
  const char *line;
  ssize_t got;
  if (!self->cgroup[0]) return 1;
  got = rm__linux_read_once(dirfd, "cgroup", text, sizeof text - 1);
  if (got <= 0) return 1;
  text[got] = 0;
  for (line = text; line && *line;) {
    const char *end = strchr(line, '\n'), *c1 = strchr(line, ':');
    const char *c2, *mine;
    size_t idlen, plen, mlen;
    if (!end) end = line + strlen(line);
    c2 = c1 && c1 < end ? memchr(c1 + 1, ':', (size_t)(end - c1 - 1)) : NULL;
    if (c2 && (c2 == c1 + 1 ||
               ((size_t)(c2 - c1 - 1) == 12 &&
                memcmp(c1 + 1, "name=systemd", 12) == 0))) {
      idlen = (size_t)(c2 - line);
      plen = (size_t)(end - c2 - 1);
      mine = cgroup_path(self->cgroup, line, idlen, &mlen);
      if (!mine) return 1;
      /* "/" holds everything; else equal, or a prefix ending at a '/'. */
      if (!(plen == 1 && c2[1] == '/') &&
          !(mlen >= plen && memcmp(mine, c2 + 1, plen) == 0 &&
            (mlen == plen || mine[plen] == '/')))
        return 0;
    }
    line = *end ? end + 1 : NULL;
  }
  return 1;
}

static int kept(const rm__self *self, uint32_t pid, uint64_t start) {
  size_t i;
  for (i = 0; i < self->n_keep; i++)
    if (self->keep[i].pid == pid && self->keep[i].start_time == start)
      return 1;
  return 0;
}

void rm__classify_pty(const rm__self *self, int dirfd, rm__facts *facts) {
  char buf[4096];
  int fd_dir = openat(dirfd, "fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd_dir < 0) return;
  for (;;) {
    ssize_t got = getdents64(fd_dir, buf, sizeof buf), off = 0;
    if (got <= 0) break;
    while (off < got) {
      const struct dirent64 *e = (const struct dirent64 *)(buf + off);
      struct statx sx;
      off += e->d_reclen;
      if (e->d_name[0] == '.' ||
          statx(fd_dir, e->d_name, AT_STATX_DONT_SYNC, STATX_TYPE, &sx) != 0 ||
          !rm__is_ptmx(&sx))
        continue;
      facts->terminal_host = 1;
      if (rm__pty_is_ours(dirfd, e->d_name, self->pts_index))
        facts->hosts_our_tty = 1;
    }
  }
  close(fd_dir);
}

uint32_t rm__self_init(rm__self *self) {
  const char *extra = rm__os_getenv(CRITICAL_ENV);
  size_t n_default = 0, n_extra = 0, i, k = 0;
  const char *p;
  int dirfd;

  memset(self, 0, sizeof *self);
  self->pid = (uint32_t)getpid();
  self->session_id = RM_INVALID_SESSION_ID;
  dirfd = open("/proc/self", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dirfd >= 0) {
    self->session_id = read_session_id(dirfd);
    self->mnt_ns = rm__ns_inode(dirfd, "ns/mnt");
    self->pid_ns = rm__ns_inode(dirfd, "ns/pid");
    if (rm__linux_read_once(dirfd, "cgroup", self->cgroup,
                            sizeof self->cgroup) <= 0)
      self->cgroup[0] = 0;
    close(dirfd);
  }
  self->systemd = access("/run/systemd/system", F_OK) == 0;
  if (keep_init(self) != RM_OK) return RM_ERROR_OUTOFMEMORY;

  while (default_critical[n_default]) n_default++;
  if (extra)
    for (p = extra; *p; p++) n_extra += *p == ':';
  self->critical = calloc(n_default + n_extra + 2, sizeof *self->critical);
  if (!self->critical) return RM_ERROR_OUTOFMEMORY;
  for (i = 0; i < n_default; i++)
    if (!(self->critical[k++] = rm__strdup(default_critical[i]))) goto oom;
  for (p = extra; p && *p;) {
    const char *end = strchr(p, ':');
    size_t len = end ? (size_t)(end - p) : strlen(p);
    if (len > 0) {
      char *name = malloc(len + 1);
      if (!name) goto oom;
      memcpy(name, p, len);
      name[len] = 0;
      self->critical[k++] = name;
    }
    p += len + (end ? 1 : 0);
  }
  return RM_OK;
oom:
  rm__self_free(self);
  return RM_ERROR_OUTOFMEMORY;
}

void rm__self_free(rm__self *self) {
  size_t i;
  if (self->critical)
    for (i = 0; self->critical[i]; i++) free(self->critical[i]);
  free(self->critical);
  self->critical = NULL;
  free(self->keep);
  self->keep = NULL;
  self->n_keep = 0;
}

static int is_critical_name(const rm__self *self, const char *comm,
                            const char *exe_base) {
  size_t i;
  for (i = 0; self->critical[i]; i++)
    if (strcmp(self->critical[i], comm) == 0 ||
        (exe_base[0] && strcmp(self->critical[i], exe_base) == 0))
      return 1;
  return 0;
}

/* 1 when DISPLAY or WAYLAND_DISPLAY is set (non-empty) in the process's
 * initial environment; 0 when not, or when environ is unreadable. */
static int has_display(const rm__environ *env) {
  size_t len = 0;
  return (rm__environ_value(env, "DISPLAY", &len) && len > 0) ||
         (rm__environ_value(env, "WAYLAND_DISPLAY", &len) && len > 0);
}

/* Copies name into dst[cap] as valid UTF-8: bytes that do not form a
 * character become '?', then rm__utf8_copy cuts on a character boundary. */
static void utf8_name(char *dst, size_t cap, const char *name, size_t len) {
  char clean[RM_MAX_APP_NAME * 2 + 1];
  size_t i = 0, o = 0;
  while (i < len && o + 4 < sizeof clean) {
    unsigned char c = (unsigned char)name[i];
    size_t need = c < 0x80 ? 0 : (c & 0xE0) == 0xC0 ? 1 : (c & 0xF0) == 0xE0 ? 2
                : (c & 0xF8) == 0xF0 ? 3 : 9;
    if (need < 9 && i + need < len && rm__utf8_valid(name + i, need + 1)) {
      memcpy(clean + o, name + i, need + 1);
      o += need + 1;
      i += need + 1;
    } else {
      clean[o++] = '?';
      i++;
    }
  }
  clean[o] = 0;
  rm__utf8_copy(dst, cap, clean);
}

/* The executable's basename without the " (deleted)" mark into base, or
 * "" when the exe link is unreadable. */
static void exe_basename(int dirfd, rm__exe_seen *x, char *base, size_t cap) {
  const char *link = rm__exe_link(dirfd, x), *slash;
  size_t len, suffix = sizeof DELETED_SUFFIX - 1;
  base[0] = 0;
  if (!link) return;
  len = strlen(link);
  if (len > suffix && strcmp(link + len - suffix, DELETED_SUFFIX) == 0)
    len -= suffix;
  slash = memrchr(link, '/', len);
  slash = slash ? slash + 1 : link;
  len -= (size_t)(slash - link);
  if (len >= cap) len = cap - 1;
  memcpy(base, slash, len);
  base[len] = 0;
}

int rm__classify_probe(const rm__self *self, int dirfd, uint32_t pid,
                       const rm__pstat *st, uint64_t mnt_ns, rm__exe_seen *x,
                       rm__item *item) {
  rm__found *f = &item->found;
  rm__facts *facts = &item->facts;
  struct statx sx;
  char base[RM_MAX_APP_NAME * 2 + 1];
  rm__exe_seen none;
  uint64_t ns;

  if (!x) {
    none.link_state = 0;
    none.mode = 0;
    x = &none;
  }
  f->info.process.pid = pid;
  f->info.process.start_time = rm__linux_ticks_to_100ns(st->start_ticks);
  f->info.app_status = RM_STATUS_RUNNING;
  f->info.session_id = read_session_id(dirfd);

  exe_basename(dirfd, x, base, sizeof base);
  if (base[0]) utf8_name(f->info.app_name, sizeof f->info.app_name, base,
                         strlen(base));
  else utf8_name(f->info.app_name, sizeof f->info.app_name, st->comm,
                 strlen(st->comm));
  if (!f->has_exe &&
      statx(dirfd, "exe", AT_STATX_DONT_SYNC, STATX_INO, &sx) == 0) {
    f->exe.dev = (uint64_t)makedev(sx.stx_dev_major, sx.stx_dev_minor);
    f->exe.ino = sx.stx_ino;
    f->has_exe = 1;
  }

  if (pid == 1 || (st->flags & RM_PF_KTHREAD) ||
      is_critical_name(self, st->comm, base))
    facts->always |= RM_REBOOT_REASON_CRITICAL_PROCESS;
  /* What the caller stands on (docs/linux.md, Never stop yourself). */
  if (pid == self->pid || facts->hosts_our_tty)
    facts->always |= RM_REBOOT_REASON_DETECTED_SELF;
  else if (kept(self, pid, f->info.process.start_time))
    /* An ancestor outside the caller's cgroup is the caller's ground as
     * a program (signalled itself), not as a service (its manager stops
     * its cgroup only). */
  {
    if (holds_caller(self, dirfd))
      facts->always |= RM_REBOOT_REASON_DETECTED_SELF;
    else
      facts->as_app |= RM_REBOOT_REASON_DETECTED_SELF;
  }
  /* A container (another pid namespace, or a machine of systemd-machined)
   * is not ours to stop or restart.  A mount namespace alone is not one:
   * systemd's and runit's sandboxing (ProtectSystem=, PrivateTmp=,
   * unshare -m) gives processes their own, and they are scanned and
   * stopped like any other; only a plain app there is not restartable,
   * since a relaunch could not put it back in it (own_mnt_ns).  The login
   * (audit) session is reported as is and decides nothing: root acts on
   * every login's programs, a user on their own from any login
   * (docs/linux.md, Sessions).  Unreadable namespaces say nothing. */
  ns = rm__ns_inode(dirfd, "ns/pid");
  if ((ns && self->pid_ns && ns != self->pid_ns) ||
      (self->systemd && rm__linux_in_machine_slice(dirfd)))
    facts->always |= RM_REBOOT_REASON_SESSION_MISMATCH;
  ns = mnt_ns ? mnt_ns : rm__ns_inode(dirfd, "ns/mnt");
  facts->own_mnt_ns = ns && self->mnt_ns && ns != self->mnt_ns;

  /* The caller may not signal it, so it cannot shut it down.  (One it
   * may signal but not inspect is not reported for files; see scan.c.) */
  if (kill((pid_t)pid, 0) != 0) {
    if (errno == ESRCH) return -1;
    if (errno == EPERM) facts->as_app |= RM_REBOOT_REASON_PERMISSION_DENIED;
  }

  /* A terminal host is treated as the consoles it hosts. */
  facts->console = st->tty_nr != 0 || facts->terminal_host;
  facts->leader_exited = st->live_tid != 0;
  facts->ppid = st->ppid > 0 ? (uint32_t)st->ppid : 0;
  return 0;
}

void rm__classify_plain_app(const rm__self *self, int dirfd, rm__item *item,
                            int service, rm__exe_seen *x,
                            rm__exe_cache *cache) {
  rm__facts *facts = &item->facts;
  rm__environ env;
  if (service || facts->always || facts->as_app || facts->console ||
      facts->own_mnt_ns || facts->leader_exited)
    return;
  rm__linux_read_environ(dirfd, &env);
  facts->graphical = has_display(&env);
  facts->relaunch =
      rm__relaunch_probe(self, dirfd, &item->found, x, &env, cache,
                         &item->found.not_restartable);
  rm__environ_free(&env);
}

void rm__classify_finish(rm__item *item, const char *service) {
  rm__found *f = &item->found;
  const rm__facts *facts = &item->facts;
  uint32_t reasons = facts->always;

  if (service) {
    /* Stopped and started through its manager: signalling rights and the
     * caller's login session do not matter, the manager's rules do.  But
     * a service process the caller could neither inspect nor signal is
     * listed only because it might hold the files, and such a caller
     * (another user, unprivileged) cannot stop a service of that user
     * either: PERMISSION_DENIED, as for any such process. */
    rm__utf8_copy(f->info.service_short_name,
                  sizeof f->info.service_short_name, service);
    if (rm__linux_service_critical(service))
      reasons |= RM_REBOOT_REASON_CRITICAL_SERVICE;
    if (facts->uninspected)
      reasons |= facts->as_app & RM_REBOOT_REASON_PERMISSION_DENIED;
  } else {
    f->info.service_short_name[0] = 0;
    reasons |= facts->as_app;
  }
  f->reasons = reasons;
  f->traits = (facts->terminal_host ? RM_TRAIT_TERMINAL_HOST : 0) |
              (facts->own_mnt_ns ? RM_TRAIT_OWN_MOUNT_NS : 0) |
              (facts->leader_exited ? RM_TRAIT_LEADER_EXITED : 0) |
              (reasons & RM_REBOOT_REASON_DETECTED_SELF ? RM_TRAIT_SELF : 0);
  if (reasons) {
    f->info.app_type = RM_APP_CRITICAL;
    f->info.restartable = 0;
  } else if (service) {
    f->info.app_type = RM_APP_SERVICE;
    f->info.restartable = 1;
  } else {
    f->info.app_type = facts->console     ? RM_APP_CONSOLE
                       : facts->graphical ? RM_APP_MAIN_WINDOW
                                          : RM_APP_UNKNOWN;
    f->info.restartable = facts->relaunch && !facts->terminal_host &&
                          !facts->own_mnt_ns && !facts->leader_exited;
  }
}
