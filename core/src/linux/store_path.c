/* SPDX-License-Identifier: MIT */
/*
 * store_path.c: where the session store lives on Linux, and the checks
 * that make sure no other user can take, move or swap it.
 *
 * Candidates, in order (the first that passes the checks is the store):
 *
 *   $RESTARTMGR_STATE_DIR      explicit: when it fails, nothing else is
 *                              tried (RM_ERROR_WRITE_FAULT)
 *   $XDG_RUNTIME_DIR/restartmgr  only when that directory is the caller's
 *                              and mode 0700, as pam_systemd makes it
 *   /run/restartmgr            root only
 *   $XDG_STATE_HOME/restartmgr   others: when that is set (and exists)
 *   HOME/.local/state/restartmgr others: HOME from the password database
 *                              (getpwuid_r), not $HOME, so sudo, su and
 *                              services agree with the login shell
 *   /tmp/restartmgr-UID        last resort, all users
 *
 * A candidate that fails the checks (squatted by another user, writable
 * by others, reached through a foreign symlink, not creatable) is skipped;
 * rm_store_path tells which were.  Every process of one user with the
 * same values of these variables therefore agrees on one store: a
 * candidate another user took stays taken for all of them, one the user
 * owns stays the user's.
 *
 * The checks walk the path from "/" with openat(O_PATH | O_NOFOLLOW), one
 * component at a time, so nothing can be swapped between check and use:
 *   - every directory is owned by root or the caller;
 *   - none is writable by group or others unless it is sticky (in a
 *     sticky directory others may add names but not rename or remove
 *     ours: the next component, owned by root or the caller, is safe);
 *   - symlinks are followed only inside the part of the path a person
 *     named (the variable's value, the home directory, /run and /tmp),
 *     only when the link itself is root's or the caller's, and the target
 *     is walked with the same checks; the components restartmgr adds
 *     itself ("restartmgr", ".local/state") are never symlinks;
 *   - ".." is refused;
 *   - the store directory itself is the caller's, not a symlink, and not
 *     writable by group or others.  Missing components that restartmgr
 *     adds are created 0700 (for an explicit $RESTARTMGR_STATE_DIR, only
 *     the last one).
 */
#define _GNU_SOURCE
#include "linux.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_SYMLINKS 40

/* {===== One checked walk */

typedef struct walk {
  char named[2 * RM_PATH_MAX];   /* components left of the named part */
  int links;                     /* symlinks followed so far */
  uid_t uid;
} walk;

/* Pops the first component of s (in place) into comp: 1, 0 when there is
 * none, -1 when it is longer than any file name. */
static int pop(char *s, char *comp, size_t cap) {
  char *p = s, *e;
  size_t n;
  while (*p == '/') p++;
  if (!*p) {
    s[0] = 0;
    return 0;
  }
  e = strchr(p, '/');
  n = e ? (size_t)(e - p) : strlen(p);
  if (n >= cap) return -1;
  memcpy(comp, p, n);
  comp[n] = 0;
  memmove(s, p + n, strlen(p + n) + 1);
  return 1;
}

static int safe_dir(const struct stat *st, uid_t uid) {
  if (st->st_uid != 0 && st->st_uid != uid) return 0;
  if ((st->st_mode & (S_IWGRP | S_IWOTH)) && !(st->st_mode & S_ISVTX))
    return 0;
  return 1;
}

static int open_root(const walk *w) {
  struct stat st;
  int fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return -1;
  if (fstat(fd, &st) != 0 || !safe_dir(&st, w->uid)) {
    close(fd);
    return -1;
  }
  return fd;
}

/* One step from directory at: the component name, which must be a safe
 * directory; a symlink is spliced into w->named when allowed.  Returns
 * the new directory's fd, -2 after splicing a link (the walk continues
 * from *at, or from "/" when the target is absolute), -1 when refused. */
static int step(walk *w, int *at, const char *name, int allow_link,
                int create) {
  struct stat st;
  int fd;
  if (strcmp(name, "..") == 0) return -1;
  fd = openat(*at, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT && create) {
    if (mkdirat(*at, name, 0700) != 0 && errno != EEXIST) return -1;
    fd = openat(*at, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
  }
  if (fd < 0 || fstat(fd, &st) != 0) {
    if (fd >= 0) close(fd);
    return -1;
  }
  if (S_ISLNK(st.st_mode)) {
    char target[RM_PATH_MAX + 1], rest[2 * RM_PATH_MAX];
    ssize_t n;
    if (!allow_link || ++w->links > MAX_SYMLINKS ||
        (st.st_uid != 0 && st.st_uid != w->uid)) {
      close(fd);
      return -1;
    }
    n = readlinkat(fd, "", target, sizeof target);
    close(fd);
    if (n <= 0 || (size_t)n >= sizeof target ||
        (size_t)n + strlen(w->named) + 2 > sizeof w->named)
      return -1;
    target[n] = 0;
    memcpy(rest, target, (size_t)n);             /* target + "/" + named */
    rest[n] = '/';
    memcpy(rest + n + 1, w->named, strlen(w->named) + 1);
    memcpy(w->named, rest, strlen(rest) + 1);
    if (target[0] == '/') {
      int root = open_root(w);
      if (root < 0) return -1;
      close(*at);
      *at = root;
    }
    return -2;
  }
  if (!S_ISDIR(st.st_mode) || !safe_dir(&st, w->uid)) {
    close(fd);
    return -1;
  }
  return fd;
}

/* Walks every component of path (w->named itself when links are allowed,
 * so a link's target is spliced in and walked on) from *at, which ends as
 * the last directory.  0, or -1 when refused (*at then closed). */
static int walk_part(walk *w, int *at, char *path, int allow_link,
                     int create) {
  char comp[256];
  int fd, got;
  while ((got = pop(path, comp, sizeof comp)) > 0) {
    if (strcmp(comp, ".") == 0) continue;
    fd = step(w, at, comp, allow_link, create);
    if (fd == -2) continue;
    close(*at);
    if (fd < 0) return -1;
    *at = fd;
  }
  if (got < 0) {
    close(*at);
    return -1;
  }
  return 0;
}

/* Walks named (symlinks allowed as above) then ours (no symlinks, missing
 * components created when create_ours).  With runtime_dir, the end of the
 * named part must be the caller's 0700 directory.  Returns an O_RDONLY
 * fd of the store directory, or -1. */
static int walk_open(const char *named, const char *ours, int create_ours,
                     int runtime_dir) {
  walk w;
  char rest[RM_PATH_MAX];
  struct stat st;
  int at, fd;

  if (!named || named[0] != '/' || strlen(named) >= RM_PATH_MAX ||
      strlen(ours) >= sizeof rest)
    return -1;
  w.links = 0;
  w.uid = geteuid();
  memcpy(w.named, named, strlen(named) + 1);
  memcpy(rest, ours, strlen(ours) + 1);
  at = open_root(&w);
  if (at < 0 || walk_part(&w, &at, w.named, 1, 0) != 0) return -1;
  if (runtime_dir &&
      (fstat(at, &st) != 0 || st.st_uid != w.uid ||
       (st.st_mode & 07777) != 0700)) {
    close(at);
    return -1;
  }
  if (walk_part(&w, &at, rest, 0, create_ours) != 0) return -1;
  /* The store itself: the caller's, nobody else may write it. */
  if (fstat(at, &st) != 0 || st.st_uid != w.uid ||
      (st.st_mode & (S_IWGRP | S_IWOTH))) {
    close(at);
    return -1;
  }
  fd = openat(at, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  close(at);
  return fd;
}

/* }=====
 * {===== The candidates */

/* The caller's home from the password database, cached per euid. */
static int home_of_caller(char *buf, size_t cap) {
  static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
  static char home[RM_PATH_MAX];
  static uid_t cached_uid = (uid_t)-1;
  int ok = 0;
  uid_t uid = geteuid();
  pthread_mutex_lock(&mu);
  if (cached_uid != uid) {
    struct passwd pw, *res = NULL;
    char *tmp = malloc(16384);
    home[0] = 0;
    if (tmp && getpwuid_r(uid, &pw, tmp, 16384, &res) == 0 && res &&
        res->pw_dir && res->pw_dir[0] == '/' &&
        strlen(res->pw_dir) < sizeof home)
      memcpy(home, res->pw_dir, strlen(res->pw_dir) + 1);
    free(tmp);
    cached_uid = uid;
  }
  if (home[0] && strlen(home) < cap) {
    memcpy(buf, home, strlen(home) + 1);
    ok = 1;
  }
  pthread_mutex_unlock(&mu);
  return ok;
}

/* Splits an explicit path into its parent (named) and last component. */
static int split_last(const char *path, char *parent, size_t pcap,
                      char *last, size_t lcap) {
  size_t n = strlen(path);
  const char *slash;
  while (n > 1 && path[n - 1] == '/') n--;
  if (n == 0 || n >= pcap) return -1;
  memcpy(parent, path, n);
  parent[n] = 0;
  slash = strrchr(parent, '/');
  if (!slash || strlen(slash + 1) + 1 > lcap || !slash[1]) return -1;
  memcpy(last, slash + 1, strlen(slash + 1) + 1);
  if (slash == parent) parent[1] = 0;
  else parent[slash - parent] = 0;
  return 0;
}

/* out = dir + tail, without dir's trailing slashes: "$XDG_STATE_HOME/"
 * and "$XDG_STATE_HOME" name one store, so rm_store_path gives one path
 * (and a home of "/" gives "/.local/...", not "//.local/..."). */
static int put(char *out, size_t cap, const char *dir, const char *tail) {
  size_t n = strlen(dir);
  int got;
  while (n > 0 && dir[n - 1] == '/') n--;
  if (n > RM_PATH_MAX) return -1;
  got = snprintf(out, cap, "%.*s%s", (int)n, dir, tail);
  return got > 0 && (size_t)got < cap ? 0 : -1;
}

uint32_t rm__linux_store_find(char *path, size_t cap, uint32_t *skipped,
                              int *fd_out) {
  const char *dir = getenv("RESTARTMGR_STATE_DIR");
  const char *xdg = getenv("XDG_RUNTIME_DIR");
  const char *state = getenv("XDG_STATE_HOME");
  char buf[RM_PATH_MAX], parent[RM_PATH_MAX], last[256], tmp[64],
      tmp_tail[66];
  uid_t uid = geteuid();
  int fd;

  *skipped = 0;
  if (dir && *dir) {
    if (dir[0] != '/' || split_last(dir, parent, sizeof parent, last,
                                    sizeof last) != 0)
      return RM_ERROR_WRITE_FAULT;
    if (put(path, cap, dir, "") != 0) return RM_ERROR_WRITE_FAULT;
    fd = walk_open(parent, last, 1, 0);
    if (fd < 0) return RM_ERROR_WRITE_FAULT;
    *fd_out = fd;
    return RM_OK;
  }
  if (xdg && xdg[0] == '/') {
    fd = walk_open(xdg, "restartmgr", 1, 1);
    if (fd >= 0) {
      if (put(path, cap, xdg, "/restartmgr") == 0) {
        *fd_out = fd;
        return RM_OK;
      }
      close(fd);
    }
    *skipped |= RM_STORE_SKIPPED_RUNTIME_DIR;
  }
  if (uid == 0) {
    fd = walk_open("/run", "restartmgr", 1, 0);
    if (fd >= 0 && put(path, cap, "/run/restartmgr", "") == 0) {
      *fd_out = fd;
      return RM_OK;
    }
    if (fd >= 0) close(fd);
    *skipped |= RM_STORE_SKIPPED_RUN;
  } else {
    if (state && state[0] == '/') {
      fd = walk_open(state, "restartmgr", 1, 0);
      if (fd >= 0 && put(path, cap, state, "/restartmgr") == 0) {
        *fd_out = fd;
        return RM_OK;
      }
      if (fd >= 0) close(fd);
      *skipped |= RM_STORE_SKIPPED_STATE_HOME;
    }
    if (home_of_caller(buf, sizeof buf)) {
      fd = walk_open(buf, ".local/state/restartmgr", 1, 0);
      if (fd >= 0 && put(path, cap, buf, "/.local/state/restartmgr") == 0) {
        *fd_out = fd;
        return RM_OK;
      }
      if (fd >= 0) close(fd);
    }
    *skipped |= RM_STORE_SKIPPED_HOME;
  }
  snprintf(tmp, sizeof tmp, "restartmgr-%u", (unsigned)uid);
  snprintf(tmp_tail, sizeof tmp_tail, "/%s", tmp);
  fd = walk_open("/tmp", tmp, 1, 0);
  if (fd >= 0 && put(path, cap, "/tmp", tmp_tail) == 0) {
    *fd_out = fd;
    return RM_OK;
  }
  if (fd >= 0) close(fd);
  *skipped |= RM_STORE_SKIPPED_TMP;
  return RM_ERROR_WRITE_FAULT;
}

/* }===== */
