/* SPDX-License-Identifier: MIT */
/*
 * detect.c: which registered files one process holds, and how: its
 * executable, its open fds, its memory mappings, and older (replaced or
 * deleted) inodes of registered paths among them.  Cheap on purpose:
 * per process one statx of exe, one statx per fd, one read of maps; the
 * identities are looked up in the registered set (regset.c).  See scan.c
 * for the whole scan and what a refusal means.
 */
#define _GNU_SOURCE
#include "scan.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#define GATE_VMA "ffffffffff600000-"
#define GATE_LEN (sizeof GATE_VMA - 1)
#define DELETED " (deleted)"
#define PTMX_MAJOR 5u                  /* /dev/ptmx, /dev/pts/ptmx */
#define PTMX_MINOR 2u
#define DELETED_LEN (sizeof DELETED - 1)

/* What the link of a deleted inode said, by (dev, ino, mount): many
 * processes hold the same old library or data file after an upgrade, and
 * the text of an unlinked file can no longer change, so each is read
 * once per scan and detector. */
struct rm__older_entry {
  uint64_t dev, ino, mnt;
  char *text;                  /* without " (deleted)"; NULL: unreadable */
  size_t len;
  int used;
};

static int refused(int err) { return err == EACCES || err == EPERM; }

int rm__is_ptmx(const struct statx *sx) {
  return (sx->stx_mask & STATX_TYPE) && S_ISCHR(sx->stx_mode) &&
         sx->stx_rdev_major == PTMX_MAJOR && sx->stx_rdev_minor == PTMX_MINOR;
}

void rm__utoa(char *buf, uint32_t v) {
  char tmp[12];
  size_t n = 0, i;
  do tmp[n++] = (char)('0' + v % 10); while ((v /= 10) != 0);
  for (i = 0; i < n; i++) buf[i] = tmp[n - 1 - i];
  buf[n] = 0;
}

/* The link reads "mnt:[4026531841]", the namespace's inode number: the
 * same number a statx through the link gives, for a third of the cost
 * (no nsfs dentry is looked up). */
uint64_t rm__ns_inode(int dirfd, const char *name) {
  char link[64];
  const char *p;
  uint64_t v = 0;
  ssize_t n = readlinkat(dirfd, name, link, sizeof link - 1);
  if (n <= 0) return 0;
  link[n] = 0;
  p = strchr(link, '[');
  if (!p) return 0;
  for (p++; (unsigned)(*p - '0') < 10; p++) v = v * 10 + (uint64_t)(*p - '0');
  return *p == ']' ? v : 0;
}

/* Whether a registered path's text, shown for a deleted inode of the
 * process, names what the registered path names: always in our mount
 * namespace; in another one (a sandboxed unit, unshare -m) only when the
 * path is registered at all and its directory is, in the process's view,
 * the directory it is in ours (PrivateTmp gives another /tmp; a bind
 * mount another directory under the same name).  docs/linux.md, Mount
 * namespaces. */
static int names_what_we_name(const rm__detector *d, rm__probe *p,
                              const char *text, size_t len) {
  if (p->same_ns < 0) {
    p->mnt_ns = rm__ns_inode(p->dirfd, "ns/mnt");
    p->same_ns = d->mnt_ns && p->mnt_ns == d->mnt_ns;
  }
  if (p->same_ns) return 1;
  return rm__regset_match_path(d->set, text, len, NULL, 0) > 0 &&
         rm__view_same_dir(p, text, len);
}

/* {===== The cache of deleted inodes' names */

static uint64_t older_hash(uint64_t dev, uint64_t ino, uint64_t mnt) {
  uint64_t h = (ino * 0x9e3779b97f4a7c15ull) ^ (dev + 0x632be59bd9b4e019ull) ^
               (mnt * 0xc2b2ae3d27d4eb4full);
  return h ^ (h >> 29);
}

/* The cache slot for (dev, ino, mnt): its entry, or the empty slot where
 * it goes (NULL when the table cannot grow). */
static struct rm__older_entry *older_slot(rm__detector *d, uint64_t dev,
                                          uint64_t ino, uint64_t mnt) {
  size_t i;
  if (2 * (d->n_older + 1) > d->older_mask + 1) {     /* keep it half empty */
    size_t cap = d->older_mask ? 2 * (d->older_mask + 1) : 64, k;
    struct rm__older_entry *t = calloc(cap, sizeof *t);
    if (!t) return NULL;
    for (k = 0; d->older_mask && k <= d->older_mask; k++) {
      struct rm__older_entry *e = &d->older[k];
      if (!e->used) continue;
      i = (size_t)older_hash(e->dev, e->ino, e->mnt) & (cap - 1);
      while (t[i].used) i = (i + 1) & (cap - 1);
      t[i] = *e;
    }
    free(d->older);
    d->older = t;
    d->older_mask = cap - 1;
  }
  i = (size_t)older_hash(dev, ino, mnt) & d->older_mask;
  while (d->older[i].used &&
         !(d->older[i].dev == dev && d->older[i].ino == ino &&
           d->older[i].mnt == mnt))
    i = (i + 1) & d->older_mask;
  return &d->older[i];
}

static void older_free(rm__detector *d) {
  size_t i;
  for (i = 0; d->older_mask && i <= d->older_mask; i++)
    free(d->older[i].text);
  free(d->older);
  d->older = NULL;
  d->older_mask = d->n_older = 0;
}

/* }===== */

/* A deleted inode: compares the link text, minus " (deleted)", with the
 * registered paths.  at/name is the fd link or the exe link; sx its statx
 * (with the mount id). */
static void match_older(rm__detector *d, rm__probe *p, int at,
                        const char *name, const struct statx *sx,
                        uint64_t dev, uint32_t how) {
  char link[4096 + DELETED_LEN + 1];
  uint64_t mnt = (sx->stx_mask & STATX_MNT_ID) ? sx->stx_mnt_id : 0;
  struct rm__older_entry *e;
  ssize_t n;
  if (!rm__regset_has_dev(d->set, dev)) return;
  e = mnt ? older_slot(d, dev, sx->stx_ino, mnt) : NULL;
  if (e && e->used) {
    if (e->text && names_what_we_name(d, p, e->text, e->len))
      rm__regset_match_path(d->set, e->text, e->len, &d->uses,
                            how | RM_USE_OLDER_INODE);
    return;
  }
  n = readlinkat(at, name, link, sizeof link);
  if (n > 0 && (size_t)n < sizeof link) {
    if ((size_t)n > DELETED_LEN &&
        memcmp(link + n - DELETED_LEN, DELETED, DELETED_LEN) == 0)
      n -= (ssize_t)DELETED_LEN;
    if (names_what_we_name(d, p, link, (size_t)n))
      rm__regset_match_path(d->set, link, (size_t)n, &d->uses,
                            how | RM_USE_OLDER_INODE);
  } else {
    n = -1;
  }
  if (!e) return;
  e->used = 1;
  e->dev = dev;
  e->ino = sx->stx_ino;
  e->mnt = mnt;
  e->text = NULL;
  if (n >= 0 && (e->text = malloc((size_t)n + 1)) != NULL) {
    memcpy(e->text, link, (size_t)n);
    e->text[n] = 0;
    e->len = (size_t)n;
  }
  d->n_older++;
}

/* The executable.  0, or -1 when it has none (kernel thread, zombie). */
int rm__detect_exe(rm__detector *d, rm__probe *p) {
  struct statx sx;
  uint64_t dev;
  if (statx(p->dirfd, "exe", AT_STATX_DONT_SYNC,
            STATX_INO | STATX_MODE | STATX_NLINK | STATX_MNT_ID, &sx) != 0) {
    if (refused(errno)) {
      p->denied = 1;
      return 0;
    }
    return -1;
  }
  dev = (uint64_t)makedev(sx.stx_dev_major, sx.stx_dev_minor);
  p->has_exe = 1;
  p->exe_dev = dev;
  p->exe_ino = sx.stx_ino;
  p->exe_mode = (sx.stx_mask & (STATX_TYPE | STATX_MODE)) ==
                        (STATX_TYPE | STATX_MODE)
                    ? sx.stx_mode
                    : 0;
  if (!rm__regset_match_id(d->set, dev, sx.stx_ino, &d->uses,
                           RM_USE_EXECUTABLE) &&
      (sx.stx_mask & STATX_NLINK) && sx.stx_nlink == 0)
    match_older(d, p, p->dirfd, "exe", &sx, dev, RM_USE_EXECUTABLE);
  return 0;
}

/* An fd on the pty multiplexer is the master side of a pty: the process
 * hosts a terminal (tmux, screen, an sshd session, a terminal emulator).
 * Which one its fdinfo says ("tty-index:"), read only when the caller
 * has a pts of its own to compare (docs/linux.md, Never stop yourself). */
int rm__pty_is_ours(int dirfd, const char *fd_name, int pts_index) {
  char path[40], buf[512];
  const char *at;
  size_t len = strlen(fd_name);
  if (pts_index < 0 || len > 16) return 0;
  memcpy(path, "fdinfo/", 7);
  memcpy(path + 7, fd_name, len + 1);
  if (rm__linux_read_once(dirfd, path, buf, sizeof buf) <= 0) return 0;
  at = strstr(buf, "tty-index:");
  return at && strtol(at + 10, NULL, 10) == pts_index;
}

static void pty_master(rm__probe *p, const char *fd_name) {
  p->pty_master = 1;
  if (!p->hosts_tty) p->hosts_tty = rm__pty_is_ours(p->dirfd, fd_name,
                                                      p->pts_index);
}

/* One fd: a statx through its link, and the hash lookup.  0; -1 when
 * there is no such fd; -2 when the kernel refuses (then it refuses all). */
static int scan_fd(rm__detector *d, rm__probe *p, int fd_dir,
                   const char *name) {
  struct statx sx;
  uint64_t dev;
  if (statx(fd_dir, name, AT_STATX_DONT_SYNC,
            STATX_TYPE | STATX_INO | STATX_NLINK | STATX_MNT_ID, &sx) != 0) {
    if (!refused(errno)) return -1;   /* closed meanwhile, or never open */
    p->denied = 1;
    return -2;
  }
  if (rm__is_ptmx(&sx)) pty_master(p, name);
  dev = (uint64_t)makedev(sx.stx_dev_major, sx.stx_dev_minor);
  if (!rm__regset_match_id(d->set, dev, sx.stx_ino, &d->uses,
                           RM_USE_OPEN_FILE) &&
      (sx.stx_mask & STATX_NLINK) && sx.stx_nlink == 0)
    match_older(d, p, fd_dir, name, &sx, dev, RM_USE_OPEN_FILE);
  return 0;
}

/* Every open fd, never paying for both probing and listing.  Listing
 * /proc/PID/fd costs the kernel more than the statx calls themselves (a
 * dcache lookup and dput per entry), and fd tables are nearly always
 * dense from 0 but for a hole or two (a closed pipe): since Linux 6.2 the
 * fd directory's size is the number of open fds, so the fds are probed by
 * number until that many were seen.  A failed probe costs about what
 * listing two entries does, so probing goes on through a hole while it is
 * shorter than half the fds still to find; past that (an fd far above the
 * rest, say) the rest of the table is listed from where probing stopped
 * (procfs takes the directory offset as fd number + 2), each fd statted
 * once.  At most as many failed probes as open fds; an older kernel (size
 * 0) lists at once, to the end of the directory. */
void rm__detect_fds(rm__detector *d, rm__probe *p) {
  struct statx sx;
  uint64_t open_fds = 0, seen = 0, probed = 0, misses = 0, gap = 0;
  char name[24];
  int fd_dir = openat(p->dirfd, "fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd_dir < 0) {
    if (refused(errno)) p->denied = 1;
    return;
  }
  if (statx(fd_dir, "", AT_EMPTY_PATH | AT_STATX_DONT_SYNC, STATX_SIZE,
            &sx) == 0 && (sx.stx_mask & STATX_SIZE))
    open_fds = sx.stx_size;
  while (seen < open_fds && !p->denied) {
    int r;
    rm__utoa(name, (uint32_t)probed++);
    r = scan_fd(d, p, fd_dir, name);
    if (r == 0) {
      seen++;
      gap = 0;
    } else if (r == -1) {
      misses++;
      gap++;
      if (2 * gap > open_fds - seen || misses > open_fds) break;
    }
  }
  if ((seen < open_fds || open_fds == 0) && probed > 0 &&
      lseek(fd_dir, (off_t)probed + 2, SEEK_SET) != (off_t)probed + 2)
    lseek(fd_dir, 0, SEEK_SET);
  while ((seen < open_fds || open_fds == 0) && !p->denied) {
    int r;
    ssize_t got = getdents64(fd_dir, d->buf, RM_DETECT_BUF), off = 0;
    if (got <= 0) {
      if (got < 0 && refused(errno)) p->denied = 1;
      break;
    }
    while (off < got) {
      const struct dirent64 *e = (const struct dirent64 *)(d->buf + off);
      off += e->d_reclen;
      if (e->d_name[0] == '.' || strtoull(e->d_name, NULL, 10) < probed)
        continue;
      r = scan_fd(d, p, fd_dir, e->d_name);
      if (r == -2) break;
      if (r == 0) seen++;
    }
  }
  close(fd_dir);
}

/* A hex number at *s (maps' device numbers), advancing *s past it. */
static unsigned long hex_field(const char **s, const char *end) {
  unsigned long v = 0;
  const char *p = *s;
  for (; p < end; p++) {
    unsigned d = (unsigned char)*p;
    if (d - '0' < 10) d -= '0';
    else if ((d | 0x20) - 'a' < 6) d = (d | 0x20) - 'a' + 10;
    else break;
    v = v * 16 + d;
  }
  *s = p;
  return v;
}

/* Past one space-separated field and the spaces after it. */
static const char *skip_field(const char *p, const char *end) {
  while (p < end && *p != ' ') p++;
  while (p < end && *p == ' ') p++;
  return p;
}

/* One maps line "start-end perms offset maj:min inode   path".  A mapping
 * of the executable's own inode counts as the executable. */
static void maps_line(rm__detector *d, rm__probe *p, const char *s,
                      const char *end, uint64_t *last_dev,
                      uint64_t *last_ino) {
  uint64_t dev, ino = 0;
  unsigned long major, minor;
  uint32_t how;
  int exec;
  s = skip_field(s, end);             /* address range */
  exec = end - s > 2 && s[2] == 'x';
  s = skip_field(s, end);             /* perms */
  s = skip_field(s, end);             /* offset */
  major = hex_field(&s, end);
  if (s >= end || *s != ':') return;
  s++;
  minor = hex_field(&s, end);
  while (s < end && *s == ' ') s++;
  for (; s < end && (unsigned)(*s - '0') < 10; s++)
    ino = ino * 10 + (uint64_t)(*s - '0');
  if (ino == 0) return;               /* anonymous */
  dev = (uint64_t)makedev(major, minor);
  if (dev == *last_dev && ino == *last_ino && !(d->stale && exec)) return;
  *last_dev = dev;
  *last_ino = ino;
  how = p->has_exe && dev == p->exe_dev && ino == p->exe_ino
            ? RM_USE_EXECUTABLE : RM_USE_MAPPING;
  if (rm__regset_match_id(d->set, dev, ino, &d->uses, how) && !d->stale)
    return;
  if ((size_t)(end - s) <= DELETED_LEN ||
      memcmp(end - DELETED_LEN, DELETED, DELETED_LEN) != 0)
    return;
  while (s < end && *s == ' ') s++;
  if (d->stale && exec && s < end && *s == '/')
    rm__stale_note(d, p, dev, ino, how, s, (size_t)(end - s));
  if (!rm__regset_has_dev(d->set, dev) ||
      !names_what_we_name(d, p, s, (size_t)(end - s) - DELETED_LEN))
    return;
  rm__regset_match_path(d->set, s, (size_t)(end - s) - DELETED_LEN,
                        &d->uses, how | RM_USE_OLDER_INODE);
}

/* The memory mappings, read in buffer-sized pieces (never smaps). */
void rm__detect_maps(rm__detector *d, rm__probe *p) {
  uint64_t last_dev = 0, last_ino = 0;
  size_t have = 0;
  const char *last_line = NULL;
  int fd = openat(p->dirfd, "maps",
                  O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
  if (fd < 0) {
    if (refused(errno)) p->denied = 1;
    return;
  }
  for (;;) {
    ssize_t got = read(fd, d->buf + have, RM_DETECT_BUF - have);
    const char *line, *end, *nl;
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) {
      if (got < 0 && refused(errno)) p->denied = 1;
      break;
    }
    end = d->buf + have + got;
    last_line = NULL;
    for (line = d->buf; (nl = memchr(line, '\n', (size_t)(end - line)));
         line = nl + 1) {
      maps_line(d, p, line, nl, &last_dev, &last_ino);
      last_line = line;
    }
    have = (size_t)(end - line);
    /* x86-64's vsyscall page is always shown last, after every vma, at
     * an address no mapping of the process can have: no read for EOF. */
    if (have == 0 && last_line &&
        (size_t)(end - last_line) > GATE_LEN &&
        memcmp(last_line, GATE_VMA, GATE_LEN) == 0)
      break;
    if (have == RM_DETECT_BUF) have = 0;   /* no line is that long */
    memmove(d->buf, line, have);
  }
  close(fd);
}

int rm__detector_init(rm__detector *d, const rm__regset *set,
                      uint64_t mnt_ns) {
  memset(d, 0, sizeof *d);
  d->set = set;
  d->mnt_ns = mnt_ns;
  d->buf = malloc(RM_DETECT_BUF);
  if (!d->buf || rm__uses_init(&d->uses, set->n_files) != 0) {
    rm__detector_free(d);
    return -1;
  }
  return 0;
}

void rm__detector_free(rm__detector *d) {
  size_t n;
  rm__stale *v = rm__stale_take(d, &n);
  rm__stale_free(v, n);
  older_free(d);
  rm__uses_free(&d->uses);
  free(d->buf);
  d->buf = NULL;
}
