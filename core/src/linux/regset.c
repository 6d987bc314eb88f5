/* SPDX-License-Identifier: MIT */
/*
 * regset.c: the registered files as hash sets, built once per scan.
 *
 * The scan asks "is this (dev, ino) registered?" once per open fd and
 * mapping of every process, so that lookup must cost the same for 10 or
 * 10,000 registered files: an open-addressing table keyed by (dev, ino).
 *
 * An older inode of a registered path (replaced by rename, or deleted,
 * after a process opened it) is no longer reachable through the path, so
 * only its name can tie it to the registration.  For those rare candidates
 * the scan compares the text the kernel shows for them against a second
 * table holding every spelling of each registered path a process could be
 * shown: the path as registered, the path with its directory resolved
 * (symlinked directories such as /lib -> usr/lib), and the file the path
 * resolves to when the path itself is a symlink.  Links are followed
 * only when root or the caller made them (safe_path.c): a link another
 * user made, on the way or at the end, never lends the registration the
 * identity or the name of what it points to.  The devices of the
 * registered paths are kept too: an older inode always lives on the same
 * filesystem as the path it was replaced at.
 *
 * A replaced inode that survives under another hard link is neither
 * deleted nor named by the path: for it the store keeps the identity each
 * path had when it was registered, entered here as an older identity when
 * the path has another one now.
 */
#define _GNU_SOURCE
#include "scan.h"
#include "safe_path.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <stdio.h>
#include <unistd.h>

static uint64_t mix64(uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ull;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebull;
  x ^= x >> 31;
  return x;
}

static uint64_t hash_id(uint64_t dev, uint64_t ino) {
  return mix64(ino * 0x9e3779b97f4a7c15ull ^ dev);
}

static uint64_t hash_text(const char *s, size_t len) {
  uint64_t h = 0xcbf29ce484222325ull;     /* FNV-1a */
  size_t i;
  for (i = 0; i < len; i++) {
    h ^= (unsigned char)s[i];
    h *= 0x100000001b3ull;
  }
  return h;
}

/* Smallest power of two >= 2n (at least 16): tables stay half empty. */
static size_t table_size(size_t n) {
  size_t cap = 16;
  while (cap < 2 * n) cap <<= 1;
  return cap;
}

static void add_id(rm__regset *s, uint64_t dev, uint64_t ino, size_t file,
                   int older) {
  size_t slot = (size_t)hash_id(dev, ino) & s->id_mask;
  while (s->ids[slot].used) {
    if (s->ids[slot].dev == dev && s->ids[slot].ino == ino &&
        s->ids[slot].file == file)
      return;
    slot = (slot + 1) & s->id_mask;
  }
  s->ids[slot].used = 1;
  s->ids[slot].dev = dev;
  s->ids[slot].ino = ino;
  s->ids[slot].file = file;
  s->ids[slot].older = older;
  s->n_ids++;
}

int rm__regset_add_id(rm__regset *s, uint64_t dev, uint64_t ino,
                      size_t file) {
  if (2 * (s->n_ids + 1) > s->id_mask + 1) {     /* keep it half empty */
    rm__id_slot *old = s->ids;
    size_t old_mask = s->id_mask, i;
    rm__id_slot *t = calloc(2 * (old_mask + 1), sizeof *t);
    if (!t) return -1;
    s->ids = t;
    s->id_mask = 2 * (old_mask + 1) - 1;
    s->n_ids = 0;
    for (i = 0; i <= old_mask; i++)
      if (old[i].used)
        add_id(s, old[i].dev, old[i].ino, old[i].file, old[i].older);
    free(old);
  }
  add_id(s, dev, ino, file, 0);
  return 0;
}

/* Adds one spelling of a registered path; 0 or -1 when out of memory. */
static int add_path(rm__regset *s, const char *text, size_t len, size_t file) {
  uint64_t h = hash_text(text, len);
  size_t slot = (size_t)h & s->path_mask;
  while (s->paths[slot].text) {
    const rm__path_slot *p = &s->paths[slot];
    if (p->hash == h && p->len == len && p->file == file &&
        memcmp(p->text, text, len) == 0)
      return 0;
    slot = (slot + 1) & s->path_mask;
  }
  s->paths[slot].text = malloc(len + 1);
  if (!s->paths[slot].text) return -1;
  memcpy(s->paths[slot].text, text, len);
  s->paths[slot].text[len] = 0;
  s->paths[slot].len = len;
  s->paths[slot].hash = h;
  s->paths[slot].file = file;
  return 0;
}

static void add_dev(rm__regset *s, uint64_t dev) {
  if (!rm__regset_has_dev(s, dev)) s->devs[s->n_devs++] = dev;
}

/* The last directory resolved: registrations usually come in runs of
 * files from one directory, so resolving each directory once keeps the
 * set's construction at about one statx per file.  The directory is
 * resolved by the walk of safe_path.c (a link is followed only when root
 * or the caller made it: docs/security.md, "Registration") and kept open,
 * so each file is looked up in the very directory that walk checked. */
typedef struct dir_cache {
  char dir[PATH_MAX];          /* as registered */
  char real[PATH_MAX];         /* resolved, "" when it does not resolve */
  uint64_t dev;
  int valid, has_dev, fd;      /* fd: O_PATH of the directory, or -1 */
} dir_cache;

/* The path an O_PATH fd stands for, into out[PATH_MAX]; "" if none. */
static void path_of_fd(int fd, char *out) {
  char proc[32];
  ssize_t n;
  snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
  n = readlink(proc, out, PATH_MAX - 1);
  out[n > 0 && out[0] == '/' ? n : 0] = 0;
}

static void resolve_dir(dir_cache *c, const char *path, size_t dir_len) {
  struct stat st;
  if (c->valid && strlen(c->dir) == dir_len &&
      memcmp(c->dir, path, dir_len) == 0)
    return;
  if (c->fd >= 0) close(c->fd);
  c->fd = -1;
  c->valid = 1;
  c->has_dev = 0;
  c->real[0] = 0;
  if (dir_len >= sizeof c->dir) {
    c->valid = 0;
    return;
  }
  memcpy(c->dir, path, dir_len);
  c->dir[dir_len] = 0;
  if (dir_len == 0) strcpy(c->dir, "/");
  c->fd = rm__linux_walk(AT_FDCWD, c->dir, (uint32_t)geteuid(), 0, &st);
  if (c->fd >= 0 && !S_ISDIR(st.st_mode)) {
    close(c->fd);
    c->fd = -1;
  }
  if (c->fd >= 0) {
    c->dev = (uint64_t)st.st_dev;
    c->has_dev = 1;
    path_of_fd(c->fd, c->real);
  }
  if (dir_len == 0) c->dir[0] = 0;
}

/* The identity of the file name in the resolved directory: its own, or
 * what it links to when root or the caller made the link (then *real
 * gets the target's path); none through another link.  0 and fills *st,
 * else -1. */
static int file_in_dir(const dir_cache *dc, const char *name, struct stat *st,
                       char *real) {
  int fd;
  real[0] = 0;
  if (dc->fd < 0) return -1;
  if (fstatat(dc->fd, name, st, name[0] ? AT_SYMLINK_NOFOLLOW
                                        : AT_EMPTY_PATH) != 0)
    return -1;
  if (!S_ISLNK(st->st_mode)) return 0;
  fd = rm__linux_walk(dc->fd, name, (uint32_t)geteuid(), 0, st);
  if (fd < 0) return -1;
  path_of_fd(fd, real);
  close(fd);
  return 0;
}

/* Enters one registered path: its identity when it exists, its devices
 * and its spellings.  RM_OK, RM_ERROR_ACCESS_DENIED, RM_ERROR_OUTOFMEMORY. */
static uint32_t enter_file(rm__regset *s, dir_cache *dc, const char *path,
                           const rm__file_id *then, size_t file) {
  struct stat st;
  const char *base = strrchr(path, '/');
  size_t len = strlen(path), dir_len = (size_t)(base - path);
  char buf[PATH_MAX + 1], real[PATH_MAX];
  int exists;

  resolve_dir(dc, path, dir_len);
  exists = dc->valid && file_in_dir(dc, base + 1, &st, real) == 0;
  if (add_path(s, path, len, file) != 0) return RM_ERROR_OUTOFMEMORY;
  /* A followed link: what it names now is the file processes hold. */
  if (real[0] && add_path(s, real, strlen(real), file) != 0)
    return RM_ERROR_OUTOFMEMORY;
  if (exists) {
    if (S_ISDIR(st.st_mode)) return RM_ERROR_ACCESS_DENIED;
    add_id(s, (uint64_t)st.st_dev, (uint64_t)st.st_ino, file, 0);
    add_dev(s, (uint64_t)st.st_dev);
    if (S_ISSOCK(st.st_mode)) {
      rm__reg_socket *v = realloc(s->sockets,
                                  (s->n_sockets + 1) * sizeof *v);
      if (!v) return RM_ERROR_OUTOFMEMORY;
      s->sockets = v;
      v[s->n_sockets].dev = (uint64_t)st.st_dev;
      v[s->n_sockets].ino = (uint64_t)st.st_ino;
      v[s->n_sockets++].file = file;
    }
  }
  if (then && (then->dev || then->ino) &&
      !(exists && then->dev == (uint64_t)st.st_dev &&
        then->ino == (uint64_t)st.st_ino)) {
    add_id(s, then->dev, then->ino, file, 1);
    add_dev(s, then->dev);
  }
  if (dc->valid && dc->has_dev) add_dev(s, dc->dev);
  if (dc->valid && dc->real[0]) {
    size_t real_len = strlen(dc->real);
    if (real_len == 1) real_len = 0;          /* "/" + "/name" */
    if (real_len + strlen(base) < sizeof buf) {
      memcpy(buf, dc->real, real_len);
      strcpy(buf + real_len, base);
      if (add_path(s, buf, strlen(buf), file) != 0)
        return RM_ERROR_OUTOFMEMORY;
    }
  }
  return RM_OK;
}

uint32_t rm__regset_build(rm__regset *s, const char *const *files,
                          const rm__file_id *ids, size_t n) {
  dir_cache *dc;
  uint32_t rc = RM_OK;
  size_t i;
  memset(s, 0, sizeof *s);
  s->n_files = n;
  s->id_mask = table_size(2 * n) - 1;
  s->path_mask = table_size(3 * n) - 1;
  s->ids = calloc(s->id_mask + 1, sizeof *s->ids);
  s->paths = calloc(s->path_mask + 1, sizeof *s->paths);
  s->devs = calloc(3 * n + 1, sizeof *s->devs);
  dc = calloc(1, sizeof *dc);
  if (dc) dc->fd = -1;
  if (!s->ids || !s->paths || !s->devs || !dc) rc = RM_ERROR_OUTOFMEMORY;
  for (i = 0; i < n && rc == RM_OK; i++)
    rc = enter_file(s, dc, files[i], ids ? &ids[i] : NULL, i);
  if (dc && dc->fd >= 0) close(dc->fd);
  free(dc);
  if (rc != RM_OK) rm__regset_free(s);
  return rc;
}

void rm__regset_free(rm__regset *s) {
  size_t i;
  if (s->paths)
    for (i = 0; i <= s->path_mask; i++) free(s->paths[i].text);
  free(s->paths);
  free(s->ids);
  free(s->devs);
  free(s->sockets);
  memset(s, 0, sizeof *s);
}

int rm__regset_has_dev(const rm__regset *s, uint64_t dev) {
  size_t i;
  for (i = 0; i < s->n_devs; i++)
    if (s->devs[i] == dev) return 1;
  return 0;
}

size_t rm__regset_match_id(const rm__regset *s, uint64_t dev, uint64_t ino,
                           rm__uses *u, uint32_t how) {
  size_t slot = (size_t)hash_id(dev, ino) & s->id_mask, hits = 0;
  while (s->ids[slot].used) {
    const rm__id_slot *e = &s->ids[slot];
    if (e->ino == ino && e->dev == dev) {
      rm__uses_add(u, e->file, e->older ? how | RM_USE_OLDER_INODE : how);
      hits++;
    }
    slot = (slot + 1) & s->id_mask;
  }
  return hits;
}

size_t rm__regset_match_path(const rm__regset *s, const char *path,
                             size_t len, rm__uses *u, uint32_t how) {
  uint64_t h = hash_text(path, len);
  size_t slot = (size_t)h & s->path_mask, hits = 0;
  while (s->paths[slot].text) {
    const rm__path_slot *p = &s->paths[slot];
    if (p->hash == h && p->len == len && memcmp(p->text, path, len) == 0) {
      if (u) rm__uses_add(u, p->file, how);
      hits++;
    }
    slot = (slot + 1) & s->path_mask;
  }
  return hits;
}

/* {===== The per-process accumulator */

int rm__uses_init(rm__uses *u, size_t n_files) {
  size_t i;
  memset(u, 0, sizeof *u);
  u->slot_of = malloc((n_files ? n_files : 1) * sizeof *u->slot_of);
  if (!u->slot_of) return -1;
  for (i = 0; i < n_files; i++) u->slot_of[i] = SIZE_MAX;
  return 0;
}

void rm__uses_add(rm__uses *u, size_t file, uint32_t how) {
  size_t k = u->slot_of[file];
  if (k != SIZE_MAX) {
    u->list[k].how |= how;
    return;
  }
  if (u->n == u->cap) {
    size_t cap = u->cap ? 2 * u->cap : 8;
    rm__use *l = realloc(u->list, cap * sizeof *l);
    if (!l) {
      u->oom = 1;
      return;
    }
    u->list = l;
    u->cap = cap;
  }
  u->slot_of[file] = u->n;
  u->list[u->n].file = file;
  u->list[u->n].how = how;
  u->n++;
}

static int cmp_use(const void *a, const void *b) {
  size_t x = ((const rm__use *)a)->file, y = ((const rm__use *)b)->file;
  return x < y ? -1 : x > y;
}

/* In registration order, so that the output does not depend on hashing. */
rm__use *rm__uses_take(rm__uses *u, size_t *n) {
  rm__use *out = NULL;
  size_t i;
  for (i = 0; i < u->n; i++) u->slot_of[u->list[i].file] = SIZE_MAX;
  if (u->n) {
    out = malloc(u->n * sizeof *out);
    if (out) {
      memcpy(out, u->list, u->n * sizeof *out);
      qsort(out, u->n, sizeof *out, cmp_use);
    } else {
      u->oom = 1;
    }
  }
  *n = out ? u->n : 0;
  u->n = 0;
  return out;
}

void rm__uses_free(rm__uses *u) {
  free(u->slot_of);
  free(u->list);
  memset(u, 0, sizeof *u);
}

/* }===== */
