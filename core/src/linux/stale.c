/* SPDX-License-Identifier: MIT */
/*
 * stale.c: deleted files a process still maps, found by identity, and
 * paths looked up in a process's own view (docs/linux.md, Stale
 * processes, and Mount namespaces).
 *
 * A mapping is stale when the inode it maps has lost its name: the
 * kernel then shows its path with " (deleted)" appended.  That text is
 * the only sign the kernel gives that also holds on overlayfs (where the
 * inode seen through the mapping keeps nlink 1), but anyone can name a
 * file "x (deleted)".  So the text only proposes: the mapping is stale
 * unless that very text, looked up in the process's own root from
 * /proc/PID/root the way view_path.c looks up (one component at a time,
 * never through a link or directory another user controls, never into a
 * FUSE mount whose server could make the lookup wait), names the mapped
 * (device, inode): the file is then live under a name that happens to
 * end so.  Nothing else is ever resolved: the identity of what is stale
 * is the (device, inode) of maps, and the text is kept
 * only to show, escaped.  Each candidate costs one lookup, so any number
 * of hostile names costs linear time.
 */
#define _GNU_SOURCE
#include "scan.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define DELETED " (deleted)"
#define DELETED_LEN (sizeof DELETED - 1)

/* {===== Paths in a process's view
 *
 * A registered path's directory (rm__view_same_dir) is opened with
 * openat2 (RESOLVE_IN_ROOT), and only in a view without FUSE mounts. */

/* Its root directory and whom its view trusts (root, and its user when
 * all its uids agree; its FUSE mounts, where a lookup could wait on a
 * user's server forever), read once per probe; -1 when unreadable. */
static int view_root(rm__probe *p) {
  char status[4096];
  rm__creds creds;
  if (p->root_state != 0) return p->root_state > 0 ? p->rootfd : -1;
  p->root_state = -1;
  p->trust.uids[0] = 0;
  p->trust.n_uids = 1;
  p->trust.unsafe = NULL;
  p->trust.n_unsafe = 0;
  if (rm__linux_read_small(p->dirfd, "status", status, sizeof status) <= 0 ||
      rm__linux_parse_creds(status, &creds) != 0)
    return -1;
  if (creds.uid[0] == creds.uid[1] && creds.uid[1] == creds.uid[2] &&
      creds.uid[2] == creds.uid[3] && creds.uid[0] != 0)
    p->trust.uids[p->trust.n_uids++] = creds.uid[0];
  if (rm__view_unsafe_mounts(p->dirfd, &p->trust) != RM_OK) return -1;
  p->rootfd = openat(p->dirfd, "root", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (p->rootfd < 0) {
    free(p->trust.unsafe);
    p->trust.unsafe = NULL;
    return -1;
  }
  p->root_state = 1;
  return p->rootfd;
}

/* Opens the directory path (a NUL-terminated copy) in its view as
 * O_PATH, never leaving its root nor following magic links; never in a
 * view with a FUSE mount (the lookup could wait on it).  An fd or -1. */
static int view_open_dir(rm__probe *p, const char *path) {
#ifdef SYS_openat2
  struct open_how how;
  int root = view_root(p);
  if (root < 0 || path[0] != '/' || p->trust.n_unsafe > 0) return -1;
  memset(&how, 0, sizeof how);
  how.flags = O_PATH | O_CLOEXEC | O_DIRECTORY;
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  return (int)syscall(SYS_openat2, root, path[1] ? path + 1 : ".", &how,
                      sizeof how);
#else
  (void)p; (void)path;
  errno = ENOSYS;
  return -1;
#endif
}

/* A NUL-terminated copy of text[len] with maps' "\012" turned back into
 * the newline it stands for; NULL when out of memory. */
static char *maps_unescape(const char *text, size_t len) {
  char *out = malloc(len + 1);
  size_t i, o = 0;
  if (!out) return NULL;
  for (i = 0; i < len; i++) {
    if (text[i] == '\\' && len - i >= 4 &&
        memcmp(text + i, "\\012", 4) == 0) {
      out[o++] = '\n';
      i += 3;
    } else {
      out[o++] = text[i];
    }
  }
  out[o] = 0;
  return out;
}

void rm__probe_close(rm__probe *p) {
  if (p->root_state > 0) {
    close(p->rootfd);
    free(p->trust.unsafe);
    p->trust.unsafe = NULL;
  }
  p->root_state = 0;
}

int rm__view_same_dir(rm__probe *p, const char *path, size_t len) {
  char *dir;
  const char *slash = memrchr(path, '/', len);
  struct stat ours, theirs;
  int fd, same = 0;
  if (!slash || path[0] != '/') return 0;
  dir = malloc((size_t)(slash - path) + 2);
  if (!dir) return 0;
  memcpy(dir, path, (size_t)(slash - path) + 1);
  dir[slash - path + 1] = 0;
  fd = view_open_dir(p, dir);
  if (fd >= 0) {
    same = fstat(fd, &theirs) == 0 && stat(dir, &ours) == 0 &&
           S_ISDIR(ours.st_mode) && ours.st_dev == theirs.st_dev &&
           ours.st_ino == theirs.st_ino;
    close(fd);
  }
  free(dir);
  return same;
}

/* 1 when name (NUL-terminated, absolute) in its view is (dev, ino): a
 * live file.  Looked up one component at a time as view_path.c does
 * (links and directories only root or its user controls, never into a
 * FUSE mount); anything it cannot decide counts as not live. */
static int view_names(rm__probe *p, const char *name, uint64_t dev,
                      uint64_t ino) {
  rm__view_file *f;
  int root = view_root(p), same = 0;
  if (root < 0) return 0;
  f = malloc(sizeof *f);
  if (!f) return 0;
  if (rm__view_resolve(&p->trust, root, -1, NULL, name, f) == 0) {
    same = (uint64_t)f->st.st_dev == dev && (uint64_t)f->st.st_ino == ino;
    close(f->fd);
  }
  free(f);
  return same;
}

/* }=====
 * {===== Display text */

/* Escapes name for display: printable ASCII and well-formed UTF-8 (but
 * C1 controls) as is; '\\', control bytes and the rest as \xHH. */
static char *display_text(const char *name, size_t len) {
  static const char hex[] = "0123456789abcdef";
  char *out = malloc(4 * len + 1);
  size_t i = 0, o = 0;
  if (!out) return NULL;
  while (i < len) {
    unsigned char c = (unsigned char)name[i];
    size_t need = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2
                : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 0;
    int c1 = c == 0xC2 && i + 1 < len && (unsigned char)name[i + 1] < 0xA0;
    if (c >= 0x20 && c < 0x7F && c != '\\') {
      out[o++] = (char)c;
      i++;
    } else if (need > 1 && !c1 && i + need <= len &&
               rm__utf8_valid(name + i, need)) {
      memcpy(out + o, name + i, need);
      o += need;
      i += need;
    } else {
      out[o++] = '\\';
      out[o++] = 'x';
      out[o++] = hex[c >> 4];
      out[o++] = hex[c & 15];
      i++;
    }
  }
  out[o] = 0;
  return out;
}

/* }=====
 * {===== The stale mappings of one process */

void rm__stale_note(rm__detector *d, rm__probe *p, uint64_t dev,
                    uint64_t ino, uint32_t how, const char *text,
                    size_t len) {
  char *name;
  rm__stale *s;
  size_t shown;
  if (d->stale_oom || len <= DELETED_LEN || dev == d->shm_dev) return;
  name = maps_unescape(text, len);
  if (!name) {
    d->stale_oom = 1;
    return;
  }
  if (view_names(p, name, dev, ino)) {        /* live, named "x (deleted)" */
    free(name);
    return;
  }
  if (d->n_stale == d->cap_stale) {
    size_t cap = d->cap_stale ? 2 * d->cap_stale : 16;
    rm__stale *v = realloc(d->stale_list, cap * sizeof *v);
    if (!v) {
      free(name);
      d->stale_oom = 1;
      return;
    }
    d->stale_list = v;
    d->cap_stale = cap;
  }
  shown = strlen(name);
  if (shown > DELETED_LEN &&
      memcmp(name + shown - DELETED_LEN, DELETED, DELETED_LEN) == 0)
    shown -= DELETED_LEN;
  s = &d->stale_list[d->n_stale];
  s->dev = dev;
  s->ino = ino;
  s->how = how | RM_USE_OLDER_INODE;
  s->text = display_text(name, shown);
  free(name);
  if (!s->text) {
    d->stale_oom = 1;
    return;
  }
  d->n_stale++;
}

static int cmp_stale(const void *a, const void *b) {
  const rm__stale *x = a, *y = b;
  if (x->dev != y->dev) return x->dev < y->dev ? -1 : 1;
  if (x->ino != y->ino) return x->ino < y->ino ? -1 : 1;
  return 0;
}

/* Sorts by identity and keeps each once (hows OR'd, the first text). */
static size_t stale_unique(rm__stale *v, size_t n) {
  size_t i, k = 0;
  if (n == 0) return 0;
  qsort(v, n, sizeof *v, cmp_stale);
  for (i = 1; i < n; i++) {
    if (cmp_stale(&v[k], &v[i]) == 0) {
      v[k].how |= v[i].how;
      free(v[i].text);
    } else {
      v[++k] = v[i];
    }
  }
  return k + 1;
}

rm__stale *rm__stale_take(rm__detector *d, size_t *n) {
  rm__stale *v = d->stale_list;
  *n = stale_unique(v, d->n_stale);
  if (*n == 0) {
    free(v);
    v = NULL;
  }
  d->stale_list = NULL;
  d->n_stale = d->cap_stale = 0;
  return v;
}

int rm__stale_merge(rm__found *into, rm__found *from) {
  rm__stale *v;
  if (from->n_stale == 0) return 0;
  v = realloc(into->stale, (into->n_stale + from->n_stale) * sizeof *v);
  if (!v) return -1;
  memcpy(v + into->n_stale, from->stale, from->n_stale * sizeof *v);
  into->stale = v;
  into->n_stale = stale_unique(v, into->n_stale + from->n_stale);
  free(from->stale);
  from->stale = NULL;
  from->n_stale = 0;
  return 0;
}

/* }===== */
