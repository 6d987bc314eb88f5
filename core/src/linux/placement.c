/* SPDX-License-Identifier: MIT */
/*
 * placement.c: a relaunched program goes back where it came from
 * (docs/linux.md, "Relaunch context"), never into the caller's cgroup.
 *
 * The cgroup is read in the hierarchy the service manager tracks
 * processes in: /sys/fs/cgroup when that is cgroup2, else the v1
 * name=systemd hierarchy at /sys/fs/cgroup/systemd (hybrid and legacy
 * layouts, where the cgroup2 "unified" mount, if any, gets the same
 * path).  The capture keeps the path and the identity of that directory
 * (its inode: a cgroup that was removed and made again under the same
 * name is another cgroup).
 *
 * The caller (root) puts the new process there before it may exec:
 *
 *  1. its original cgroup, while that very directory exists (its session
 *     scope, say): the pid is written to its cgroup.procs;
 *  2. else, where systemd runs, a transient scope of its own,
 *     "restartmgr-relaunch-PID.scope", in the slice it came from (the
 *     last ".slice" of its old path, else user-UID.slice), through the
 *     manager (busctl, StartTransientUnit);
 *  3. else (no systemd: nothing can make a unit) the nearest surviving
 *     ancestor of its original cgroup, never a sibling or the caller's.
 *
 * A caller that is not root relaunches only its own programs and cannot
 * write another cgroup's cgroup.procs; it tries 1 and otherwise leaves
 * the program with itself.  Nothing here ever opens a path through a
 * symlink or a "..".
 */
#define _GNU_SOURCE
#include "linux.h"
#include "services.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#define BUSCTL "/usr/bin/busctl"
#define BUS_TIMEOUT_MS 5000u

/* Opens the cgroup directory root+path, component by component, never
 * through a symlink.  An fd, or -1. */
static int open_cgroup(const char *root, const char *path) {
  char part[256];
  const char *p = path;
  int fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
  while (fd >= 0 && *p) {
    size_t n;
    int next;
    while (*p == '/') p++;
    n = strcspn(p, "/");
    if (n == 0) break;
    if (n >= sizeof part) {
      close(fd);
      return -1;
    }
    memcpy(part, p, n);
    part[n] = 0;
    next = openat(fd, part, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    close(fd);
    fd = next;
    p += n;
  }
  return fd;
}

int rm__linux_capture_cgroup(int dirfd, rm__launch_ctx *x) {
  char text[8192], line[4096];
  const char *root, *p = text;
  int unified;
  struct stat st;
  if (!(root = rm__linux_systemd_cgroup_root(&unified)) ||
      rm__linux_read_small(dirfd, "cgroup", text, sizeof text) <= 0)
    return 0;
  while (*p) {
    int line_unified;
    const char *path =
        rm__linux_next_systemd_path(&p, line, sizeof line, &line_unified);
    if (path && line_unified == unified && rm__linux_plain_cgroup_path(path)) {
      int fd = open_cgroup(root, path);
      if (fd < 0) return 0;
      if (fstat(fd, &st) != 0) {
        close(fd);
        return 0;
      }
      close(fd);
      x->cgroup = rm__strdup(path);
      if (!x->cgroup) return -1;
      x->cgroup_id.dev = (uint64_t)st.st_dev;
      x->cgroup_id.ino = (uint64_t)st.st_ino;
      return 0;
    }
  }
  return 0;
}

/* Writes pid into DIR/cgroup.procs, DIR an O_PATH fd.  0 or -1. */
static int write_procs(int dir, uint32_t pid) {
  char buf[16];
  int n, fd;
  ssize_t w;
  fd = openat(dir, "cgroup.procs", O_WRONLY | O_NOFOLLOW | O_NONBLOCK |
                                       O_CLOEXEC);
  if (fd < 0) return -1;
  n = snprintf(buf, sizeof buf, "%u\n", (unsigned)pid);
  w = write(fd, buf, (size_t)n);
  close(fd);
  return w == n ? 0 : -1;
}

/* The same path in the cgroup2 "unified" mount of a hybrid layout, when
 * there is one (best effort: systemd tracks there too). */
static void also_unified(const char *path, uint32_t pid) {
  struct statfs fs;
  int fd;
  if (statfs("/sys/fs/cgroup/unified", &fs) != 0 ||
      fs.f_type != CGROUP2_SUPER_MAGIC)
    return;
  fd = open_cgroup("/sys/fs/cgroup/unified", path);
  if (fd < 0) return;
  (void)write_procs(fd, pid);
  close(fd);
}

/* The slice a transient scope goes to: the last ".slice" component of
 * the old path, else user-UID.slice, into out[cap]. */
static void slice_of(const char *path, uint32_t uid, char *out, size_t cap) {
  const char *p = path, *best = NULL;
  size_t best_n = 0;
  while (*p) {
    size_t n;
    while (*p == '/') p++;
    n = strcspn(p, "/");
    if (n > 6 && memcmp(p + n - 6, ".slice", 6) == 0) {
      best = p;
      best_n = n;
    }
    p += n;
  }
  if (best && best_n < cap)
    snprintf(out, cap, "%.*s", (int)best_n, best);
  else
    snprintf(out, cap, "user-%u.slice", (unsigned)uid);
}

/* A transient scope of its own through systemd's bus.  0 or -1. */
static int transient_scope(const rm__launch_ctx *x, uint32_t uid,
                           uint32_t pid) {
  char unit[64], slice[256], pid_text[16];
  char *argv[] = {
    (char *)(uintptr_t)BUSCTL, (char *)(uintptr_t)"--quiet",
    (char *)(uintptr_t)"call", (char *)(uintptr_t)"org.freedesktop.systemd1",
    (char *)(uintptr_t)"/org/freedesktop/systemd1",
    (char *)(uintptr_t)"org.freedesktop.systemd1.Manager",
    (char *)(uintptr_t)"StartTransientUnit",
    (char *)(uintptr_t)"ssa(sv)a(sa(sv))", unit, (char *)(uintptr_t)"fail",
    (char *)(uintptr_t)"2", (char *)(uintptr_t)"PIDs",
    (char *)(uintptr_t)"au", (char *)(uintptr_t)"1", pid_text,
    (char *)(uintptr_t)"Slice", (char *)(uintptr_t)"s", slice,
    (char *)(uintptr_t)"0", NULL
  };
  if (access("/run/systemd/system", F_OK) != 0 || access(BUSCTL, X_OK) != 0)
    return -1;
  snprintf(unit, sizeof unit, "restartmgr-relaunch-%u.scope", (unsigned)pid);
  snprintf(pid_text, sizeof pid_text, "%u", (unsigned)pid);
  slice_of(x->cgroup ? x->cgroup : "", uid, slice, sizeof slice);
  return rm__linux_run("/", argv, NULL, 0, BUS_TIMEOUT_MS) == 0 ? 0 : -1;
}

/* The nearest existing ancestor of the original cgroup.  0 or -1. */
static int nearest_ancestor(const char *root, const char *path, uint32_t pid) {
  char up[4096];
  size_t n = strlen(path);
  if (n >= sizeof up) return -1;
  memcpy(up, path, n + 1);
  for (;;) {
    char *slash = strrchr(up, '/');
    int fd;
    if (!slash || slash == up) return -1;  /* never the root itself */
    *slash = 0;
    fd = open_cgroup(root, up);
    if (fd >= 0) {
      int rc = write_procs(fd, pid);
      close(fd);
      if (rc == 0) also_unified(up, pid);
      return rc;
    }
  }
}

int rm__linux_place(const rm__launch_ctx *x, uint32_t uid, uint32_t pid) {
  const char *root;
  int unified, fd;
  struct stat st;
  if (!x->cgroup || !(root = rm__linux_systemd_cgroup_root(&unified)))
    return -1;
  fd = open_cgroup(root, x->cgroup);
  if (fd >= 0) {
    int rc = -1;
    if (fstat(fd, &st) == 0 && (uint64_t)st.st_dev == x->cgroup_id.dev &&
        (uint64_t)st.st_ino == x->cgroup_id.ino)
      rc = write_procs(fd, pid);
    close(fd);
    if (rc == 0) {
      if (!unified) also_unified(x->cgroup, pid);
      return 0;
    }
  }
  if (geteuid() != 0) return -1;
  if (transient_scope(x, uid, pid) == 0) return 0;
  if (access("/run/systemd/system", F_OK) == 0) return -1;
  return nearest_ancestor(root, x->cgroup, pid);
}
