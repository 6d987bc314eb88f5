/* SPDX-License-Identifier: MIT */
/*
 * txfs.c: the transaction's file operations on Linux (os.h, "Transaction
 * files"): what a path is, renames, exchanges, links and removal that
 * never follow a final link.  Copying a staged file with its metadata is
 * in txcopy.c.
 *
 * Every operation opens the parent directory of the name it acts on and
 * works relative to it (renameat2, linkat, unlinkat, fstatat with
 * AT_SYMLINK_NOFOLLOW), so a link planted at the name itself is acted on
 * as a link, never followed.  The directories themselves were checked by
 * rm__os_tx_dir_safe: no other user can write them (docs/transaction.md,
 * "Hostile users").
 */
#define _GNU_SOURCE
#include "linux.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE (1 << 0)
#endif
#ifndef RENAME_EXCHANGE
#define RENAME_EXCHANGE (1 << 1)
#endif

/* renameat2 by its system call: glibc has the wrapper only since 2.28. */
static int rename2(int olddir, const char *old, int newdir, const char *new_,
                   unsigned flags) {
#ifdef SYS_renameat2
  return (int)syscall(SYS_renameat2, olddir, old, newdir, new_, flags);
#else
  (void)olddir; (void)old; (void)newdir; (void)new_; (void)flags;
  errno = ENOSYS;
  return -1;
#endif
}

size_t rm__os_tx_base(const char *path) {
  const char *slash = strrchr(path, '/');
  return slash ? (size_t)(slash - path) + 1 : 0;
}

/* Opens the directory of path; *base points at its last component.  -1
 * with errno on failure. */
static int open_parent(const char *path, const char **base) {
  size_t b = rm__os_tx_base(path);
  char dir[RM_PATH_MAX + 1];
  int fd;
  if (b == 0 || !path[b]) {
    errno = EINVAL;
    return -1;
  }
  if (b >= sizeof dir) {
    errno = ENAMETOOLONG;
    return -1;
  }
  memcpy(dir, path, b);
  dir[b > 1 ? b - 1 : 1] = 0;
  fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  *base = path + b;
  return fd;
}

/* The directories of both a and b (open_parent), or -1 with *err set
 * and neither open. */
static int open_parents(const char *a, int *da, const char **ba,
                        const char *b, int *db, const char **bb, int *err) {
  *da = open_parent(a, ba);
  if (*da < 0) {
    *err = errno;
    return -1;
  }
  *db = open_parent(b, bb);
  if (*db < 0) {
    *err = errno;
    close(*da);
    return -1;
  }
  return 0;
}

static uint32_t code_of(int e) {
  switch (e) {
  case ENOENT: case ENOTDIR: return RM_ERROR_FILE_NOT_FOUND;
  case ENOSPC: case EDQUOT: case EIO: case EFBIG: return RM_ERROR_WRITE_FAULT;
  case ENOMEM: return RM_ERROR_OUTOFMEMORY;
  default: return RM_ERROR_ACCESS_DENIED;
  }
}

uint32_t rm__os_tx_lstat(const char *path, uint32_t *type, rm__file_id *id,
                         int *err) {
  struct stat st;
  if (lstat(path, &st) != 0) {
    *err = errno;
    if (errno == ENOENT) {
      *type = RM__TX_NONE;
      id->dev = id->ino = 0;
      return RM_OK;
    }
    return RM_ERROR_ACCESS_DENIED;
  }
  *type = S_ISREG(st.st_mode) ? RM__TX_FILE : S_ISDIR(st.st_mode) ? RM__TX_DIR
          : S_ISLNK(st.st_mode) ? RM__TX_LINK : RM__TX_OTHER;
  id->dev = (uint64_t)st.st_dev;
  id->ino = (uint64_t)st.st_ino;
  return RM_OK;
}

uint32_t rm__os_tx_dir_safe(const char *dir, int *err) {
  struct stat st;
  uid_t me = geteuid();
  if (stat(dir, &st) != 0) {
    *err = errno;
    return code_of(errno);
  }
  if (!S_ISDIR(st.st_mode)) {
    *err = ENOTDIR;
    return RM_ERROR_ACCESS_DENIED;
  }
  /* Another user who may create or rename names here could race every
   * step; a sticky directory lets them create names only, and every name
   * the transaction makes is random and exclusive. */
  if (st.st_uid != 0 && st.st_uid != me) {
    *err = EPERM;
    return RM_ERROR_ACCESS_DENIED;
  }
  if (!(st.st_mode & S_ISVTX) &&
      ((st.st_mode & S_IWOTH) ||
       ((st.st_mode & S_IWGRP) && st.st_gid != 0 && st.st_gid != getegid()))) {
    *err = EPERM;
    return RM_ERROR_ACCESS_DENIED;
  }
  return RM_OK;
}

uint32_t rm__os_tx_list(const char *dir, rm__strv *names, int *err) {
  int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
  struct dirent *e;
  if (!d) {
    *err = errno;
    if (fd >= 0) close(fd);
    return code_of(*err);
  }
  while ((e = readdir(d)) != NULL) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
    if (rm__strv_push(names, e->d_name) != RM_OK) {
      closedir(d);
      return RM_ERROR_OUTOFMEMORY;
    }
  }
  closedir(d);
  return RM_OK;
}

uint32_t rm__os_tx_exchange(const char *a, const char *b, int *err) {
  const char *ba, *bb;
  int da, db, r;
  if (open_parents(a, &da, &ba, b, &db, &bb, err) != 0)
    return RM_ERROR_ACCESS_DENIED;
  r = rename2(da, ba, db, bb, RENAME_EXCHANGE);
  *err = r ? errno : 0;
  close(da);
  close(db);
  if (r == 0) return RM_OK;
  return (*err == EINVAL || *err == ENOSYS || *err == EOPNOTSUPP)
             ? RM__TX_UNSUPPORTED : RM_ERROR_ACCESS_DENIED;
}

uint32_t rm__os_tx_link(const char *from, const char *to, int *err) {
  const char *bf, *bt;
  int df, dt, r;
  if (open_parents(from, &df, &bf, to, &dt, &bt, err) != 0)
    return RM_ERROR_ACCESS_DENIED;
  r = linkat(df, bf, dt, bt, 0);            /* no AT_SYMLINK_FOLLOW */
  *err = r ? errno : 0;
  close(df);
  close(dt);
  if (r == 0) return RM_OK;
  return (*err == EPERM || *err == EOPNOTSUPP) ? RM__TX_UNSUPPORTED
                                               : RM_ERROR_ACCESS_DENIED;
}

uint32_t rm__os_tx_rename(const char *from, const char *to, int noreplace,
                          int *err) {
  const char *bf, *bt;
  int df, dt, r;
  if (open_parents(from, &df, &bf, to, &dt, &bt, err) != 0)
    return RM_ERROR_ACCESS_DENIED;
  r = noreplace ? rename2(df, bf, dt, bt, RENAME_NOREPLACE)
                : renameat(df, bf, dt, bt);
  /* No renameat2 here: linkat then unlink keeps "never replace" for files;
   * a directory is renamed only when its name is free. */
  if (r != 0 && noreplace && (errno == EINVAL || errno == ENOSYS)) {
    struct stat st;
    if (fstatat(dt, bt, &st, AT_SYMLINK_NOFOLLOW) == 0) errno = EEXIST;
    else if (fstatat(df, bf, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
             S_ISDIR(st.st_mode))
      r = renameat(df, bf, dt, bt);
    else if ((r = linkat(df, bf, dt, bt, 0)) == 0)
      unlinkat(df, bf, 0);
  }
  *err = r ? errno : 0;
  close(df);
  close(dt);
  return r == 0 ? RM_OK : RM_ERROR_ACCESS_DENIED;
}

/* Removes name in dirfd, a directory's content first; never follows. */
static int remove_at(int dir, const char *name, int depth) {
  struct stat st;
  int fd, r = 0;
  DIR *d;
  struct dirent *e;
  if (fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
    return errno == ENOENT ? 0 : -1;
  if (!S_ISDIR(st.st_mode)) {
    return unlinkat(dir, name, 0) == 0 || errno == ENOENT ? 0 : -1;
  }
  if (depth > 64) {
    errno = ELOOP;
    return -1;
  }
  fd = openat(dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  d = fd >= 0 ? fdopendir(fd) : NULL;
  if (!d) {
    if (fd >= 0) close(fd);
    return -1;
  }
  while ((e = readdir(d)) != NULL) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
    if (remove_at(dirfd(d), e->d_name, depth + 1) != 0) r = -1;
  }
  closedir(d);
  if (r == 0 && unlinkat(dir, name, AT_REMOVEDIR) != 0 && errno != ENOENT)
    r = -1;
  return r;
}

uint32_t rm__os_tx_remove(const char *path, int *err) {
  const char *base;
  int dfd = open_parent(path, &base), r;
  if (dfd < 0) {
    *err = errno;
    return errno == ENOENT ? RM_OK : RM_ERROR_ACCESS_DENIED;
  }
  r = remove_at(dfd, base, 0);
  *err = r ? errno : 0;
  close(dfd);
  return r == 0 ? RM_OK : RM_ERROR_ACCESS_DENIED;
}

void rm__os_tx_sync_parent(const char *path) {
  const char *base;
  int dfd = open_parent(path, &base);
  if (dfd < 0) return;
  (void)fsync(dfd);
  close(dfd);
}

void rm__os_tx_die(void) {
  raise(SIGKILL);
  _exit(137);
}

const char *rm__os_tx_strerror(int err) {
  return strerror(err);
}

uint32_t rm__os_tx_at_reboot(const char *from, const char *to, int *err) {
  (void)from;
  (void)to;
  *err = ENOSYS;
  return RM__TX_UNSUPPORTED;              /* rename never waits on Linux */
}

uint32_t rm__os_tx_clear_reboot(const char *path, unsigned *cleared) {
  (void)path;
  *cleared = 0;
  return RM_OK;
}
