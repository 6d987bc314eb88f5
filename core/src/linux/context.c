/* SPDX-License-Identifier: MIT */
/*
 * context.c: the context a relaunch gives back to a program
 * (docs/linux.md, "Relaunch context").
 *
 * A relaunched program gets its own context, never the caller's: its
 * resource limits, nice value, umask, no_new_privs, oom score adjustment,
 * personality and capability bounding set are read from /proc (and
 * prlimit) before it is stopped, and set again in the new process; it
 * gets a session keyring of its own (the caller's session keyring, root's
 * keys, is never inherited); its stdout and stderr, when they were
 * regular files, are reopened as its user (placement.c does the cgroup).
 *
 * What cannot be reproduced makes the process not restartable, decided
 * when it is listed: a seccomp filter (no API installs another process's
 * filter), and an LSM label other than "unconfined".  Nothing is ever
 * started with less confinement than it had: a limit, no_new_privs or a
 * bounding set that cannot be set fails the relaunch
 * (RM_RESTART_FAILED_CONTEXT); only what would give it more than it had
 * (a lower nice value, a higher limit, a lower oom score the caller may
 * not grant) is left at the caller's value.
 */
#define _GNU_SOURCE
#include "linux.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef KEYCTL_JOIN_SESSION_KEYRING
#define KEYCTL_JOIN_SESSION_KEYRING 1
#endif
#ifndef PR_CAPBSET_READ
#define PR_CAPBSET_READ 23
#define PR_CAPBSET_DROP 24
#endif
#define CAP_LAST 63

/* {===== Reading (the caller's side) */

/* The number after "\nKey:" in a status text, in base; -1 if absent. */
static int status_number(const char *status, const char *key, int base,
                         unsigned long long *out) {
  const char *p = strstr(status, key);
  char *end;
  if (!p) return -1;
  p += strlen(key);
  while (*p == ' ' || *p == '\t') p++;
  errno = 0;
  *out = strtoull(p, &end, base);
  return end == p || errno ? -1 : 0;
}

uint32_t rm__linux_unreproducible(int dirfd, const char *status) {
  char label[256];
  unsigned long long mode;
  uint32_t why = 0;
  ssize_t n;
  if (status_number(status, "\nSeccomp:", 10, &mode) == 0 && mode != 0)
    why |= RM_NOT_RESTARTABLE_SECCOMP;
  /* No LSM: the read fails (EINVAL).  AppArmor's own name for none is
   * "unconfined"; anything else is a label a relaunch cannot promise. */
  n = rm__linux_read_small(dirfd, "attr/current", label, sizeof label);
  if (n > 0) {
    while (n > 0 && (label[n - 1] == '\n' || label[n - 1] == 0)) n--;
    label[n] = 0;
    if (n > 0 && strcmp(label, "unconfined") != 0)
      why |= RM_NOT_RESTARTABLE_LSM_LABEL;
  }
  return why;
}

/* A small /proc number file (oom_score_adj, personality) in base. */
static int proc_number(int dirfd, const char *name, int base, long long *out) {
  char buf[64];
  char *end;
  if (rm__linux_read_small(dirfd, name, buf, sizeof buf) <= 0) return -1;
  errno = 0;
  *out = strtoll(buf, &end, base);
  return end == buf || errno ? -1 : 0;
}

/* stdout or stderr (fd 1, 2) of the process, when it is a regular file
 * that still has a name: its path and identity, else NULL. */
static int capture_stdio(int dirfd, int fd, rm__launch_ctx *x) {
  char name[16], link[RM_PATH_MAX + 16];
  struct stat st;
  ssize_t n;
  snprintf(name, sizeof name, "fd/%d", fd);
  if (fstatat(dirfd, name, &st, 0) != 0 || !S_ISREG(st.st_mode)) return 0;
  n = readlinkat(dirfd, name, link, sizeof link - 1);
  if (n <= 0 || link[0] != '/') return 0;
  link[n] = 0;
  if (n > 10 && strcmp(link + n - 10, " (deleted)") == 0) return 0;
  x->stdio[fd - 1] = rm__strdup(link);
  if (!x->stdio[fd - 1]) return -1;
  x->stdio_id[fd - 1].dev = (uint64_t)st.st_dev;
  x->stdio_id[fd - 1].ino = (uint64_t)st.st_ino;
  return 0;
}

/* "unlimited" or a number, at *p; moves *p past it.  0 or -1. */
static int limit_value(const char **p, uint64_t *out) {
  char *end;
  while (**p == ' ') (*p)++;
  if (strncmp(*p, "unlimited", 9) == 0) {
    *out = (uint64_t)RLIM_INFINITY;
    *p += 9;
    return 0;
  }
  errno = 0;
  *out = strtoull(*p, &end, 10);
  if (end == *p || errno) return -1;
  *p = end;
  return 0;
}

/* /proc/PID/limits: a header, then one line per resource in RLIMIT_*
 * order, the name in the first 26 columns, then soft and hard limit.
 * The number of resources read, or -1. */
static int read_limits(int dirfd, rm__launch_ctx *x) {
  char text[4096];
  const char *line;
  int r = 0;
  if (rm__linux_read_small(dirfd, "limits", text, sizeof text) <= 0) return -1;
  line = strchr(text, '\n');
  while (line && line[1] && r < RLIM_NLIMITS && r < RM_LAUNCH_LIMITS) {
    const char *p = line + 1;
    if (strlen(p) < 26) return -1;
    p += 26;
    if (limit_value(&p, &x->limit_cur[r]) != 0 ||
        limit_value(&p, &x->limit_max[r]) != 0 ||
        x->limit_cur[r] > x->limit_max[r])
      return -1;
    r++;
    line = strchr(p, '\n');
  }
  return r == RLIM_NLIMITS || r == RM_LAUNCH_LIMITS ? r : -1;
}

uint32_t rm__linux_capture_context(int dirfd, uint32_t pid,
                                   const char *status, rm__launch_ctx *x) {
  unsigned long long v;
  long long n;
  int r;
  memset(x, 0, sizeof *x);
  if (rm__linux_unreproducible(dirfd, status)) return RM_ERROR_ACCESS_DENIED;
  if (status_number(status, "\nUmask:", 8, &v) != 0 || v > 0777)
    return RM_ERROR_FILE_NOT_FOUND;
  x->umask = (uint32_t)v;
  if (status_number(status, "\nNoNewPrivs:", 10, &v) != 0 || v > 1)
    return RM_ERROR_FILE_NOT_FOUND;
  x->no_new_privs = (uint32_t)v;
  if (status_number(status, "\nCapBnd:", 16, &v) != 0)
    return RM_ERROR_FILE_NOT_FOUND;
  x->cap_bounding = v;
  if (proc_number(dirfd, "oom_score_adj", 10, &n) != 0 || n < -1000 ||
      n > 1000)
    return RM_ERROR_FILE_NOT_FOUND;
  x->oom_score_adj = (int32_t)n;
  /* Readable only with ptrace access; unread, it is left as it comes. */
  x->personality = proc_number(dirfd, "personality", 16, &n) == 0 &&
                           n >= 0 && n <= 0xFFFFFFFFll
                       ? (uint32_t)n
                       : RM_LAUNCH_NO_PERSONALITY;
  errno = 0;
  n = getpriority(PRIO_PROCESS, (id_t)pid);
  if (errno) return RM_ERROR_FILE_NOT_FOUND;
  x->nice = (int32_t)(n < -20 ? -20 : n > 19 ? 19 : n);
  for (r = 0; r < RLIM_NLIMITS && r < RM_LAUNCH_LIMITS; r++) {
    struct rlimit lim;
    if (prlimit((pid_t)pid, (enum __rlimit_resource)r, NULL, &lim) != 0)
      break;
    x->limit_cur[r] = (uint64_t)lim.rlim_cur;
    x->limit_max[r] = (uint64_t)lim.rlim_max;
  }
  /* prlimit on another user's process takes CAP_SYS_RESOURCE, which a
   * root in a container may lack: the same numbers, as text. */
  if (r < RLIM_NLIMITS && r < RM_LAUNCH_LIMITS &&
      (r = read_limits(dirfd, x)) < 0)
    return RM_ERROR_ACCESS_DENIED;
  x->n_limits = (uint32_t)r;
  if (capture_stdio(dirfd, 1, x) != 0 || capture_stdio(dirfd, 2, x) != 0 ||
      rm__linux_capture_cgroup(dirfd, x) != 0) {
    free(x->stdio[0]);
    free(x->stdio[1]);
    x->stdio[0] = x->stdio[1] = NULL;
    return RM_ERROR_OUTOFMEMORY;
  }
  x->captured = 1;
  return RM_OK;
}

/* }=====
 * {===== Restoring (in the new process: async-signal-safe only) */

/* Writes a decimal number to /proc/self/NAME. */
static int write_self(const char *path, long v) {
  char buf[24];
  int n = (int)sizeof buf, fd;
  int neg = v < 0;
  ssize_t w;
  unsigned long u = neg ? (unsigned long)-v : (unsigned long)v;
  do buf[--n] = (char)('0' + u % 10); while ((u /= 10) != 0);
  if (neg) buf[--n] = '-';
  fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return -1;
  w = write(fd, buf + n, sizeof buf - (size_t)n);
  close(fd);
  return w == (ssize_t)(sizeof buf - (size_t)n) ? 0 : -1;
}

int rm__linux_apply_context_caller(const rm__launch_ctx *x) {
  int r, cap;
  /* Nice and the oom adjustment: what the caller may not grant (a lower
   * value) stays at its own, which confines more. */
  if (setpriority(PRIO_PROCESS, 0, x->nice) != 0 && errno != EACCES &&
      errno != EPERM)
    return errno;
  if (write_self("/proc/self/oom_score_adj", x->oom_score_adj) != 0 &&
      errno != EACCES && errno != EPERM)
    return errno;
  /* Limits: the target's, or (a non-root caller cannot raise its hard
   * limit) the lower of the two. */
  for (r = 0; r < (int)x->n_limits; r++) {
    struct rlimit want, have;
    want.rlim_cur = (rlim_t)x->limit_cur[r];
    want.rlim_max = (rlim_t)x->limit_max[r];
    if (setrlimit((enum __rlimit_resource)r, &want) == 0) continue;
    if (getrlimit((enum __rlimit_resource)r, &have) != 0) return errno;
    if (want.rlim_max > have.rlim_max) want.rlim_max = have.rlim_max;
    if (want.rlim_cur > want.rlim_max) want.rlim_cur = want.rlim_max;
    if (setrlimit((enum __rlimit_resource)r, &want) != 0) return errno;
  }
  /* The bounding set, while the caller may still drop from it. */
  for (cap = 0; cap <= CAP_LAST; cap++) {
    int in = prctl(PR_CAPBSET_READ, (unsigned long)cap, 0, 0, 0);
    if (in < 0) break;                          /* past the last one */
    if (in == 1 && !(x->cap_bounding & (1ull << cap)) &&
        prctl(PR_CAPBSET_DROP, (unsigned long)cap, 0, 0, 0) != 0)
      return errno;
  }
  return 0;
}

/* Reopens one of stdout/stderr as the user: a regular file, appended to,
 * never through a final symlink, never a FIFO or device. */
static void reopen_stdio(const rm__launch_ctx *x, int k) {
  struct stat st;
  int fd;
  if (!x->stdio[k]) return;
  fd = open(x->stdio[k], O_WRONLY | O_APPEND | O_NOFOLLOW | O_NONBLOCK |
                             O_NOCTTY | O_CLOEXEC);
  if (fd < 0) return;
  if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
      fcntl(fd, F_SETFL, O_APPEND) == 0)
    dup2(fd, k + 1);                          /* dup2 clears close-on-exec */
  close(fd);
}

int rm__linux_apply_context_user(const rm__launch_ctx *x) {
  /* A session keyring of its own, owned by its user. */
  if (syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, (char *)NULL) < 0 &&
      errno != ENOSYS)
    return errno;
  umask((mode_t)x->umask);
  if (x->personality != RM_LAUNCH_NO_PERSONALITY &&
      personality((unsigned long)x->personality) < 0)
    return errno;
  if (x->no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
    return errno;
  reopen_stdio(x, 0);
  reopen_stdio(x, 1);
  return 0;
}

/* }===== */
