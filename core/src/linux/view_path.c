/* SPDX-License-Identifier: MIT */
/*
 * view_path.c: a path a process named, looked up in that process's own
 * view (its root and cwd, reached through /proc/PID/root and
 * /proc/PID/cwd) one component at a time, trusting only what the
 * process's own user or root controls (docs/linux.md, Replaced scripts).
 *
 * Why by hand: the answer decides whether root restarts the process, and
 * a restart runs whatever is at that path then.  If another user could
 * change what the path names (a symlink she owns, a directory she can
 * write), she could make root's process look "replaced" and have root
 * run her file.  So every component is opened O_PATH|O_NOFOLLOW from the
 * directory before it (never as a FIFO or device, never read), and:
 *
 *  - every directory searched is owned by root or the process's user and
 *    writable by nobody else (group write only for group root), unless it
 *    is sticky (then only an entry's owner can replace it, and the entry
 *    is checked in turn);
 *  - a symlink is followed only when root or that user owns it (at most
 *    40, as the kernel allows);
 *  - the file itself is a regular file owned by root or that user and
 *    writable by nobody else;
 *  - ".." never climbs above the process's root;
 *  - nothing is looked up in, or statted on, a FUSE filesystem (its
 *    server is a program any user may run, and could make root's lookup
 *    wait forever): such mounts come from the process's mountinfo, and
 *    every inode is statted AT_STATX_DONT_SYNC for its mount id first.
 *
 * Anything else is "not decided": the caller reports nothing.
 */
#define _GNU_SOURCE
#include "linux.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#define MAX_LINKS 40
#define MOUNTINFO_MAX (4u << 20)

/* {===== Mounts that could block */

/* "fuse", "fuseblk", "fuse.sshfs", ...: mounted by a user's server. */
static int user_served(const char *fstype, size_t len) {
  return len >= 4 && memcmp(fstype, "fuse", 4) == 0;
}

uint32_t rm__view_unsafe_mounts(int proc_dir, rm__view_trust *t) {
  char *text, *line, *next;
  size_t len, cap = 0;
  uint32_t rc;
  t->unsafe = NULL;
  t->n_unsafe = 0;
  rc = rm__linux_read_whole(proc_dir, "mountinfo", MOUNTINFO_MAX, &text,
                            &len);
  if (rc != RM_OK) return rc;
  /* "36 35 98:0 /root /mnt rw,noatime master:1 - ext3 /dev/root rw" */
  for (line = text; line < text + len; line = next) {
    char *nl = memchr(line, '\n', (size_t)(text + len - line));
    char *sep, *type, *end;
    unsigned long long id;
    next = nl ? nl + 1 : text + len;
    if (nl) *nl = 0;
    sep = strstr(line, " - ");
    if (!sep) continue;
    type = sep + 3;
    end = strchr(type, ' ');
    if (!user_served(type, end ? (size_t)(end - type) : strlen(type)))
      continue;
    id = strtoull(line, &end, 10);
    if (end == line) continue;
    if (t->n_unsafe == cap) {
      size_t bigger = cap ? 2 * cap : 8;
      uint64_t *v = realloc(t->unsafe, bigger * sizeof *v);
      if (!v) {
        free(text);
        free(t->unsafe);
        t->unsafe = NULL;
        t->n_unsafe = 0;
        return RM_ERROR_OUTOFMEMORY;
      }
      t->unsafe = v;
      cap = bigger;
    }
    t->unsafe[t->n_unsafe++] = id;
  }
  free(text);
  return RM_OK;
}

/* The stat of the inode at fd, from cached attributes (no filesystem is
 * asked), when it is not on a mount in t->unsafe.  0, or -1 (also when
 * there are such mounts and the kernel cannot say which mount fd is on). */
static int view_stat(const rm__view_trust *t, int fd, struct stat *st) {
  struct statx sx;
  size_t i;
  if (statx(fd, "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW | AT_STATX_DONT_SYNC,
            STATX_BASIC_STATS | STATX_MNT_ID, &sx) != 0)
    return -1;
  if (t->n_unsafe) {
    if (!(sx.stx_mask & STATX_MNT_ID)) return -1;
    for (i = 0; i < t->n_unsafe; i++)
      if (t->unsafe[i] == sx.stx_mnt_id) return -1;
  }
  memset(st, 0, sizeof *st);
  st->st_dev = makedev(sx.stx_dev_major, sx.stx_dev_minor);
  st->st_ino = (ino_t)sx.stx_ino;
  st->st_mode = sx.stx_mode;
  st->st_nlink = sx.stx_nlink;
  st->st_uid = sx.stx_uid;
  st->st_gid = sx.stx_gid;
  st->st_size = (off_t)sx.stx_size;
  st->st_ctim.tv_sec = sx.stx_ctime.tv_sec;
  st->st_ctim.tv_nsec = sx.stx_ctime.tv_nsec;
  st->st_mtim.tv_sec = sx.stx_mtime.tv_sec;
  st->st_mtim.tv_nsec = sx.stx_mtime.tv_nsec;
  return 0;
}

/* }=====
 * {===== The walk */

static int trusted_uid(const rm__view_trust *t, uid_t uid) {
  size_t i;
  for (i = 0; i < t->n_uids; i++)
    if (t->uids[i] == (uint32_t)uid) return 1;
  return 0;
}

/* Nobody outside the trusted users can change what a name in it means. */
static int trusted_dir(const rm__view_trust *t, const struct stat *st) {
  if (!S_ISDIR(st->st_mode) || !trusted_uid(t, st->st_uid)) return 0;
  if (st->st_mode & S_ISVTX) return 1;
  if (st->st_mode & S_IWOTH) return 0;
  return !(st->st_mode & S_IWGRP) || st->st_gid == 0;
}

/* Nobody outside the trusted users can change its content. */
static int trusted_file(const rm__view_trust *t, const struct stat *st) {
  if (!S_ISREG(st->st_mode) || !trusted_uid(t, st->st_uid)) return 0;
  if (st->st_mode & S_IWOTH) return 0;
  return !(st->st_mode & S_IWGRP) || st->st_gid == 0;
}

/* Appends "/" name[len] to the display text (canon), or drops its last
 * component for "..".  0, or -1 when it would not fit. */
static int canon_step(char *canon, const char *name, size_t len) {
  size_t have = strlen(canon);
  if (len == 2 && name[0] == '.' && name[1] == '.') {
    char *slash = strrchr(canon, '/');
    if (slash) *slash = 0;
    return 0;
  }
  if (have + 1 + len + 1 > PATH_MAX) return -1;
  canon[have] = '/';
  memcpy(canon + have + 1, name, len);
  canon[have + 1 + len] = 0;
  return 0;
}

/* Replaces dir with fd (taking ownership). */
static void move_to(int *dir, int fd) {
  if (*dir >= 0) close(*dir);
  *dir = fd;
}

int rm__view_resolve(const rm__view_trust *t, int rootfd, int cwdfd,
                     const char *cwd_text, const char *path,
                     rm__view_file *out) {
  char todo[2 * PATH_MAX + 2], target[PATH_MAX + 1];
  struct stat root_st, st;
  size_t pos = 0, links = 0;
  int dir = -1, rc = -1;

  out->fd = -1;
  out->canon[0] = 0;
  if (!path[0] || strlen(path) > PATH_MAX ||
      view_stat(t, rootfd, &root_st) != 0)
    return -1;
  strcpy(todo, path);
  if (path[0] == '/') {
    dir = fcntl(rootfd, F_DUPFD_CLOEXEC, 0);
  } else {
    if (cwdfd < 0 || !cwd_text || strlen(cwd_text) >= PATH_MAX) return -1;
    strcpy(out->canon, strcmp(cwd_text, "/") == 0 ? "" : cwd_text);
    dir = fcntl(cwdfd, F_DUPFD_CLOEXEC, 0);
  }
  if (dir < 0 || view_stat(t, dir, &st) != 0 || !trusted_dir(t, &st))
    goto done;

  for (;;) {
    const char *name;
    size_t len;
    int fd, last;
    while (todo[pos] == '/') pos++;
    if (!todo[pos]) goto done;        /* ends in "/" or names a directory */
    name = todo + pos;
    len = strcspn(name, "/");
    pos += len;
    while (todo[pos] == '/') pos++;
    last = todo[pos] == 0;
    if (len == 1 && name[0] == '.') {
      if (last) goto done;
      continue;
    }
    if (len >= NAME_MAX + 1) goto done;
    memcpy(target, name, len);
    target[len] = 0;

    if (len == 2 && name[0] == '.' && name[1] == '.') {
      if (view_stat(t, dir, &st) != 0) goto done;
      if (st.st_dev == root_st.st_dev && st.st_ino == root_st.st_ino) {
        if (last) goto done;
        continue;                       /* ".." of the root is the root */
      }
      fd = openat(dir, "..", O_PATH | O_DIRECTORY | O_CLOEXEC);
      if (fd < 0 || view_stat(t, fd, &st) != 0 || !trusted_dir(t, &st) ||
          last) {
        if (fd >= 0) close(fd);
        goto done;
      }
      move_to(&dir, fd);
      canon_step(out->canon, name, len);
      continue;
    }

    fd = openat(dir, target, O_PATH | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
      if (errno == ENOENT) {
        /* Missing, in a trusted directory: the display text names where
         * it was, with what was left unresolved. */
        if (canon_step(out->canon, name, len) == 0 && !last &&
            strlen(out->canon) + 1 + strlen(todo + pos) < PATH_MAX) {
          strcat(out->canon, "/");
          strcat(out->canon, todo + pos);
        }
        rc = 1;
      }
      goto done;
    }
    if (view_stat(t, fd, &st) != 0) {
      close(fd);
      goto done;
    }
    if (S_ISLNK(st.st_mode)) {
      ssize_t n;
      size_t rest = strlen(todo + pos);
      if (++links > MAX_LINKS || !trusted_uid(t, st.st_uid)) {
        close(fd);
        goto done;
      }
      n = readlinkat(fd, "", target, sizeof target);
      close(fd);
      if (n <= 0 || (size_t)n >= sizeof target ||
          (size_t)n + 1 + rest + 1 > sizeof todo)
        goto done;
      /* todo becomes target "/" rest (the rest moved first: it may
       * overlap where the target goes). */
      memmove(todo + n + 1, todo + pos, rest + 1);
      memcpy(todo, target, (size_t)n);
      todo[n] = '/';
      pos = 0;
      if (target[0] == '/') {
        int fresh = fcntl(rootfd, F_DUPFD_CLOEXEC, 0);
        if (fresh < 0) goto done;
        move_to(&dir, fresh);
        out->canon[0] = 0;
      }
      continue;
    }
    if (last) {
      if (!trusted_file(t, &st)) {
        close(fd);
        goto done;
      }
      canon_step(out->canon, name, len);
      out->fd = fd;
      out->st = st;
      rc = 0;
      goto done;
    }
    if (!trusted_dir(t, &st)) {
      close(fd);
      goto done;
    }
    move_to(&dir, fd);
    if (canon_step(out->canon, name, len) != 0) goto done;
  }
done:
  if (dir >= 0) close(dir);
  return rc;
}

/* }===== */
