/* SPDX-License-Identifier: MIT */
/*
 * safe_path.c: paths other users control, resolved the way root may
 * (docs/security.md, "Paths other users control").
 *
 * The kernel follows every symlink of a path, so a user who can write
 * any directory on it decides what root opens or registers: a link to
 * libc in place of a deleted library, a supervise/control link to
 * /etc/passwd.  The walk here opens one component at a time with
 * openat(O_PATH | O_NOFOLLOW), which opens nothing (no FIFO, no device,
 * no automount of the last component) and sees every link before it is
 * followed.  A link is followed only when nobody but root and the one
 * trusted user (the caller) could have made it: the link is theirs and
 * so is the directory it sits in, which nobody else can write unless it
 * is sticky (in /tmp only an entry's owner may replace it).  A distro's
 * own links (/lib -> usr/lib, libz.so.1 -> libz.so.1.2.13,
 * /etc/service/x -> /etc/sv/x) pass; a user's never does.
 */
#define _GNU_SOURCE
#include "safe_path.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef PROC_SUPER_MAGIC
#define PROC_SUPER_MAGIC 0x9fa0
#endif

#define MAX_LINKS 40

static int owned_by(const struct stat *st, uint32_t uid) {
  return st->st_uid == 0 || st->st_uid == uid;
}

/* A directory whose entries only root or uid can add, remove or
 * replace. */
static int dir_closed(const struct stat *dir, uint32_t uid) {
  return owned_by(dir, uid) &&
         (!(dir->st_mode & (S_IWGRP | S_IWOTH)) || (dir->st_mode & S_ISVTX));
}

/* RM_WALK_STRICT on one component: last says whether it ends the walk
 * (only directories on the way may be sticky and world-writable). */
static int strict_ok(const struct stat *st, uint32_t uid, int last) {
  if (!owned_by(st, uid)) return 0;
  if (!(st->st_mode & (S_IWGRP | S_IWOTH))) return 1;
  return !last && S_ISDIR(st->st_mode) && (st->st_mode & S_ISVTX);
}

static int open_root(unsigned flags, uint32_t uid, struct stat *st) {
  int fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return -1;
  if (fstat(fd, st) != 0 ||
      ((flags & RM_WALK_STRICT) && !strict_ok(st, uid, 0))) {
    close(fd);
    errno = EPERM;
    return -1;
  }
  return fd;
}

/* A link in /proc (root, cwd, exe, fd/N, self) is a magic link: its
 * text ("/", "socket:[..]") says nothing of where the kernel goes, and
 * /proc/PID/root is another mount namespace's view.  Such a link,
 * trusted like any other (its owner and its directory), is followed by
 * the kernel itself. */
static int in_proc(int dirfd) {
  struct statfs fs;
  return fstatfs(dirfd, &fs) == 0 && fs.f_type == PROC_SUPER_MAGIC;
}

static int fail(int fd, int err) {
  if (fd >= 0) close(fd);
  errno = err;
  return -1;
}

int rm__linux_walk(int at, const char *path, uint32_t uid, unsigned flags,
                   struct stat *out) {
  char rest[2 * PATH_MAX + 2], target[PATH_MAX + 1], name[NAME_MAX + 1];
  struct stat cur_st, st;
  size_t pos = 0;
  int cur, links = 0;
  if (strlen(path) > PATH_MAX) return fail(-1, ENAMETOOLONG);
  memcpy(rest, path, strlen(path) + 1);
  if (path[0] == '/' || at == AT_FDCWD) {
    if (path[0] != '/') return fail(-1, EINVAL);
    cur = open_root(flags, uid, &cur_st);
  } else {
    cur = fcntl(at, F_DUPFD_CLOEXEC, 0);
    if (cur >= 0 && fstat(cur, &cur_st) != 0) return fail(cur, errno);
  }
  if (cur < 0) return -1;
  for (;;) {
    size_t n;
    int fd, last;
    while (rest[pos] == '/') pos++;
    if (!rest[pos]) break;                  /* ends at cur (a directory) */
    n = strcspn(rest + pos, "/");
    if (n > NAME_MAX) return fail(cur, ENAMETOOLONG);
    memcpy(name, rest + pos, n);
    name[n] = 0;
    pos += n;
    {
      size_t k = pos;
      while (rest[k] == '/') k++;
      last = rest[k] == 0;
    }
    if (strcmp(name, ".") == 0) continue;
    fd = openat(cur, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return fail(cur, errno);
    if (fstat(fd, &st) != 0) {
      int err = errno;
      close(fd);
      return fail(cur, err);
    }
    if (S_ISLNK(st.st_mode)) {
      char joined[sizeof rest];
      ssize_t len;
      if (!owned_by(&st, uid) || !dir_closed(&cur_st, uid)) {
        close(fd);
        return fail(cur, EPERM);
      }
      if (++links > MAX_LINKS) {
        close(fd);
        return fail(cur, ELOOP);
      }
      if (in_proc(cur)) {
        close(fd);
        fd = openat(cur, name, O_PATH | O_CLOEXEC);
        if (fd < 0) return fail(cur, errno);
        if (fstat(fd, &st) != 0) {
          int err = errno;
          close(fd);
          return fail(cur, err);
        }
        if ((flags & RM_WALK_STRICT) && !strict_ok(&st, uid, last)) {
          close(fd);
          return fail(cur, EPERM);
        }
        close(cur);
        cur = fd;
        cur_st = st;
        continue;
      }
      len = readlinkat(fd, "", target, sizeof target - 1);
      close(fd);
      if (len <= 0) return fail(cur, len == 0 ? ENOENT : errno);
      target[len] = 0;
      if ((size_t)len + 1 + strlen(rest + pos) + 1 > sizeof joined)
        return fail(cur, ENAMETOOLONG);
      memcpy(joined, target, (size_t)len);
      joined[len] = '/';
      memcpy(joined + len + 1, rest + pos, strlen(rest + pos) + 1);
      memcpy(rest, joined, strlen(joined) + 1);
      pos = 0;
      if (target[0] == '/') {
        close(cur);
        cur = open_root(flags, uid, &cur_st);
        if (cur < 0) return -1;
      }
      continue;
    }
    if ((flags & RM_WALK_STRICT) && !strict_ok(&st, uid, last)) {
      close(fd);
      return fail(cur, EPERM);
    }
    close(cur);
    cur = fd;
    cur_st = st;
  }
  *out = cur_st;
  return cur;
}

int rm__linux_open_identity(const char *path, struct stat *st) {
#ifdef SYS_openat2
  struct open_how how;
  int fd;
  memset(&how, 0, sizeof how);
  how.flags = O_PATH | O_NOFOLLOW | O_CLOEXEC;
  how.resolve = RESOLVE_NO_SYMLINKS;
  fd = (int)syscall(SYS_openat2, AT_FDCWD, path, &how, sizeof how);
  if (fd >= 0) {
    if (fstat(fd, st) == 0 && !S_ISLNK(st->st_mode)) return fd;
    close(fd);                              /* a last link: the walk */
  } else if (errno != ELOOP && errno != ENOSYS && errno != EPERM &&
             errno != EINVAL) {
    return -1;                              /* ENOENT and the like */
  }
#endif
  return rm__linux_walk(AT_FDCWD, path, (uint32_t)geteuid(), 0, st);
}

int rm__linux_open_typed(int dirfd, const char *name, int how, mode_t want) {
  char proc[32];
  struct stat st;
  int path_fd = openat(dirfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC), fd;
  if (path_fd < 0) return -1;
  if (fstat(path_fd, &st) != 0 || (st.st_mode & S_IFMT) != want) {
    close(path_fd);
    errno = EINVAL;
    return -1;
  }
  /* Reopened through the O_PATH fd: the very file just checked. */
  snprintf(proc, sizeof proc, "/proc/self/fd/%d", path_fd);
  fd = open(proc, how | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  close(path_fd);
  return fd;
}
