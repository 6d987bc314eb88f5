/* SPDX-License-Identifier: MIT */
/*
 * txcopy.c: rm__os_tx_copy on Linux, a staged file written beside its
 * target with the metadata a package manager gives it.
 *
 * The staged name is created with O_CREAT|O_EXCL|O_NOFOLLOW (a file),
 * symlinkat or mkdirat (which never follow or reuse a name either), mode
 * 0600 / 0700 until it is complete.  Then, on the open descriptor:
 * owner and group (fchown; this clears set-id bits and file
 * capabilities, so it goes first), the extended attributes (POSIX ACLs,
 * file capabilities and every other namespace the caller may set are
 * extended attributes here), then the mode (fchmod, last so set-id bits
 * survive), then fsync of the file and of its directory.  Where the
 * metadata comes from is the caller's choice (docs/transaction.md,
 * "Metadata").  Sources are opened without following a final link and
 * must be regular files, links or directories: a FIFO or device is
 * refused, never opened for reading.
 */
#define _GNU_SOURCE
#include "linux.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#define XATTR_LIST_MAX_BYTES 65536
#define XATTR_VALUE_MAX_BYTES 65536

typedef struct copy_ctx {
  int err;
  char *culprit;                /* malloc'd path that failed */
} copy_ctx;

static int fail(copy_ctx *c, const char *path, int e) {
  c->err = e;
  if (!c->culprit && path) c->culprit = rm__strdup(path);
  return -1;
}

/* Copies the extended attributes of from onto to (both open files or
 * directories).  Attributes the destination's file system does not
 * support are skipped; any other refusal fails. */
static int copy_xattrs(int from, int to, copy_ctx *c, const char *where) {
  char *names = malloc(XATTR_LIST_MAX_BYTES), *value = NULL, *n;
  ssize_t len;
  int r = 0;
  if (!names) return fail(c, where, ENOMEM);
  len = flistxattr(from, names, XATTR_LIST_MAX_BYTES);
  if (len < 0) {
    free(names);
    return errno == ENOTSUP ? 0 : fail(c, where, errno);
  }
  value = malloc(XATTR_VALUE_MAX_BYTES);
  if (!value) {
    free(names);
    return fail(c, where, ENOMEM);
  }
  for (n = names; n < names + len && r == 0; n += strlen(n) + 1) {
    ssize_t vlen = fgetxattr(from, n, value, XATTR_VALUE_MAX_BYTES);
    if (vlen < 0) {
      if (errno == ENODATA || errno == ENOTSUP) continue;
      r = fail(c, where, errno);
    } else if (fsetxattr(to, n, value, (size_t)vlen, 0) != 0 &&
               errno != ENOTSUP) {
      r = fail(c, where, errno);
    }
  }
  free(names);
  free(value);
  return r;
}

/* Owner, attributes and mode of meta (an open descriptor with stat ms)
 * onto fd.  take_owner 0: the caller stays the owner. */
static int apply_meta(int fd, const struct stat *ms, int meta_fd,
                      int take_owner, copy_ctx *c, const char *where) {
  if (take_owner && fchown(fd, ms->st_uid, ms->st_gid) != 0)
    return fail(c, where, errno);
  if (meta_fd >= 0 && copy_xattrs(meta_fd, fd, c, where) != 0) return -1;
  if (fchmod(fd, ms->st_mode & 07777) != 0) return fail(c, where, errno);
  return 0;
}

static int write_all(int fd, const char *p, size_t n) {
  while (n > 0) {
    ssize_t put = write(fd, p, n);
    if (put < 0 && errno == EINTR) continue;
    if (put <= 0) {
      if (put == 0) errno = EIO;
      return -1;
    }
    p += put;
    n -= (size_t)put;
  }
  return 0;
}

static int copy_bytes(int in, int out) {
  char buf[65536];
  for (;;) {
    ssize_t got = read(in, buf, sizeof buf);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) return -1;
    if (got == 0) return 0;
    if (write_all(out, buf, (size_t)got) != 0) return -1;
  }
}

static int copy_at(int sdir, const char *sname, const char *spath, int ddir,
                   const char *dname, const char *dpath, int meta_fd,
                   const struct stat *ms, int take_owner, copy_ctx *c,
                   int depth);

/* A directory's entries, each staged from its own source. */
static int copy_children(int sfd, const char *spath, int dfd,
                         const char *dpath, int take_owner, copy_ctx *c,
                         int depth) {
  int dup_fd = dup(sfd);
  DIR *d = dup_fd >= 0 ? fdopendir(dup_fd) : NULL;
  struct dirent *e;
  int r = 0;
  if (!d) {
    if (dup_fd >= 0) close(dup_fd);
    return fail(c, spath, errno);
  }
  while (r == 0 && (e = readdir(d)) != NULL) {
    char *sp, *dp;
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
    sp = rm__path_join(spath, e->d_name);
    dp = rm__path_join(dpath, e->d_name);
    if (!sp || !dp) {
      free(sp);
      free(dp);
      r = fail(c, spath, ENOMEM);
      break;
    }
    r = copy_at(sfd, e->d_name, sp, dfd, e->d_name, dp, -1, NULL, take_owner,
                c, depth + 1);
    free(sp);
    free(dp);
  }
  closedir(d);
  return r;
}

/* Stages sdir/sname at ddir/dname.  meta_fd/ms: where metadata comes from
 * (-1/NULL: the source itself). */
static int copy_at(int sdir, const char *sname, const char *spath, int ddir,
                   const char *dname, const char *dpath, int meta_fd,
                   const struct stat *ms, int take_owner, copy_ctx *c,
                   int depth) {
  struct stat st;
  int in, out, r;
  if (depth > 64) return fail(c, spath, ELOOP);
  if (fstatat(sdir, sname, &st, AT_SYMLINK_NOFOLLOW) != 0)
    return fail(c, spath, errno);
  if (S_ISLNK(st.st_mode)) {
    char text[RM_PATH_MAX + 1];
    const struct stat *owner = ms ? ms : &st;
    ssize_t n = readlinkat(sdir, sname, text, sizeof text - 1);
    if (n < 0) return fail(c, spath, errno);
    text[n] = 0;
    if (symlinkat(text, ddir, dname) != 0) return fail(c, dpath, errno);
    if (take_owner && fchownat(ddir, dname, owner->st_uid, owner->st_gid,
                               AT_SYMLINK_NOFOLLOW) != 0)
      return fail(c, dpath, errno);
    return 0;
  }
  if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode))
    return fail(c, spath, EINVAL);            /* FIFO, device, socket */
  in = openat(sdir, sname, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC |
                               (S_ISDIR(st.st_mode) ? O_DIRECTORY : 0));
  if (in < 0) return fail(c, spath, errno);
  if (fstat(in, &st) != 0 || (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode))) {
    close(in);
    return fail(c, spath, EINVAL);
  }
  if (S_ISDIR(st.st_mode)) {
    if (mkdirat(ddir, dname, 0700) != 0) {
      close(in);
      return fail(c, dpath, errno);
    }
    out = openat(ddir, dname, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (out < 0) {
      close(in);
      return fail(c, dpath, errno);
    }
    r = copy_children(in, spath, out, dpath, take_owner, c, depth);
  } else {
    out = openat(ddir, dname,
                 O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (out < 0) {
      close(in);
      return fail(c, dpath, errno);
    }
    r = copy_bytes(in, out) != 0 ? fail(c, dpath, errno) : 0;
  }
  if (r == 0)
    r = apply_meta(out, ms ? ms : &st, meta_fd >= 0 ? meta_fd : in,
                   take_owner, c, dpath);
  if (r == 0 && fsync(out) != 0) r = fail(c, dpath, errno);
  close(in);
  close(out);
  return r;
}

/* Opens meta (not following) for its attributes; a link gives -1 and
 * only its stat. */
static int open_meta(const char *meta, struct stat *ms, copy_ctx *c) {
  int fd;
  if (lstat(meta, ms) != 0) return fail(c, meta, errno);
  if (!S_ISREG(ms->st_mode) && !S_ISDIR(ms->st_mode)) return -2;
  fd = open(meta, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return fail(c, meta, errno);
  return fd;
}

static uint32_t code_for(int e) {
  switch (e) {
  case ENOENT: return RM_ERROR_FILE_NOT_FOUND;
  case ENOSPC: case EDQUOT: case EIO: case EFBIG: return RM_ERROR_WRITE_FAULT;
  case ENOMEM: return RM_ERROR_OUTOFMEMORY;
  default: return RM_ERROR_ACCESS_DENIED;
  }
}

uint32_t rm__os_tx_copy(const char *staged, const char *source,
                        const void *data, size_t len, const char *meta,
                        rm__file_id *id, int *err, char **culprit) {
  copy_ctx c = { 0, NULL };
  struct stat ms, st;
  size_t b = rm__os_tx_base(staged);
  char dir[RM_PATH_MAX + 1];
  int ddir, meta_fd = -1, r;

  if (b == 0 || b >= sizeof dir) {
    *err = EINVAL;
    return RM_ERROR_BAD_ARGUMENTS;
  }
  memcpy(dir, staged, b);
  dir[b > 1 ? b - 1 : 1] = 0;
  ddir = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (ddir < 0) {
    *err = errno;
    *culprit = rm__strdup(dir);
    return code_for(*err);
  }
  if (meta) {
    meta_fd = open_meta(meta, &ms, &c);
    if (meta_fd == -1) goto done;
    if (meta_fd == -2) meta_fd = -1;    /* a link: owner and mode only */
  }
  if (source) {
    r = copy_at(AT_FDCWD, source, source, ddir, staged + b, staged, meta_fd,
                meta ? &ms : NULL, meta != NULL, &c, 0);
  } else {
    int out = openat(ddir, staged + b,
                     O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                     0600);
    r = out < 0 ? fail(&c, staged, errno) : 0;
    if (r == 0 && write_all(out, data, len) != 0) r = fail(&c, staged, errno);
    if (r == 0 && !meta) {
      memset(&ms, 0, sizeof ms);
      ms.st_mode = 0644;
    }
    if (r == 0) r = apply_meta(out, &ms, meta_fd, meta != NULL, &c, staged);
    if (r == 0 && fsync(out) != 0) r = fail(&c, staged, errno);
    if (out >= 0) close(out);
  }
  if (r == 0 && fstatat(ddir, staged + b, &st, AT_SYMLINK_NOFOLLOW) != 0)
    r = fail(&c, staged, errno);
  if (r == 0) {
    (void)fsync(ddir);
    id->dev = (uint64_t)st.st_dev;
    id->ino = (uint64_t)st.st_ino;
  }
done:
  if (meta_fd >= 0) close(meta_fd);
  close(ddir);
  if (c.err == 0) return RM_OK;
  {
    int ignored;
    (void)rm__os_tx_remove(staged, &ignored);
  }
  *err = c.err;
  *culprit = c.culprit;
  return code_for(c.err);
}

int rm__os_tx_same(const char *a, const char *b) {
  struct stat sa, sb;
  int fa, fb, same = 1;
  if (lstat(a, &sa) != 0 || lstat(b, &sb) != 0) return 0;
  if (S_ISLNK(sa.st_mode) && S_ISLNK(sb.st_mode)) {
    char ta[RM_PATH_MAX + 1], tb[RM_PATH_MAX + 1];
    ssize_t na = readlink(a, ta, sizeof ta), nb = readlink(b, tb, sizeof tb);
    return na >= 0 && na == nb && memcmp(ta, tb, (size_t)na) == 0;
  }
  if (!S_ISREG(sa.st_mode) || !S_ISREG(sb.st_mode) ||
      sa.st_size != sb.st_size)
    return 0;
  fa = open(a, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  fb = open(b, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  if (fa < 0 || fb < 0) same = 0;
  while (same) {
    char ba[16384], bb[16384];
    ssize_t na = read(fa, ba, sizeof ba), nb;
    if (na < 0) {
      same = 0;
      break;
    }
    nb = read(fb, bb, (size_t)na ? (size_t)na : 1);
    if (nb != na || memcmp(ba, bb, (size_t)na) != 0) same = 0;
    if (na == 0) break;
  }
  if (fa >= 0) close(fa);
  if (fb >= 0) close(fb);
  return same;
}
