/*
 * scan.c: rm__os_scan, who uses the registered files, processes and
 * services (SPEC sections 4 and 7).
 *
 * Shape of the scan (the cheap one of linux-peers.md section 3.3):
 *  - one getdents64 pass over /proc: thread-group leaders only;
 *  - per process, everything is opened relative to its /proc/PID
 *    directory fd, so a recycled pid cannot mix two processes' files;
 *  - one statx(exe), one statx per open fd (through the fd link, with
 *    AT_STATX_DONT_SYNC so a dead NFS server is not asked), one read of
 *    maps parsed for "maj:min inode"; each identity is looked up in the
 *    hash set of registered (dev, ino), so the cost does not grow with the
 *    number of registered files;
 *  - a readlink only for an inode that is deleted (nlink 0 through an fd
 *    or the exe, or marked " (deleted)" in maps), lives on a registered
 *    file's device, and belongs to a process in the caller's mount
 *    namespace, where the text names the same file it names for us: that
 *    is how an older inode of a registered path is recognised;
 *  - only matched processes are classified (classify.c), and the service
 *    lookups run afterwards on the calling thread.
 * The /proc pid list is shared by up to RESTARTMGR_SCAN_THREADS worker
 * threads (default: one per CPU, at most 4; 1 for small systems), which
 * take chunks of pids from a shared cursor; results are sorted by pid, so
 * the output does not depend on the split.
 *
 * What cannot be inspected: a process whose fds, maps or exe are refused
 * and that the caller may not signal is reported as CRITICAL with
 * PERMISSION_DENIED (it might hold the files, and the caller could not
 * stop it).  A process the caller MAY signal but the kernel still refuses
 * to let it inspect is not reported: PID 1 in containers and non-dumpable
 * processes refuse even root, and reporting them would turn every list on
 * such machines into "reboot required".
 */
#define _GNU_SOURCE
#include "scan.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#define DENTS_BUF (32 * 1024)
#define MAPS_BUF (64 * 1024)
#define CHUNK 8                 /* pids a worker takes at a time */
#define MAX_THREADS 16
#define DELETED " (deleted)"
#define DELETED_LEN (sizeof DELETED - 1)

/* Shared, read-only during the scan except the cursor and the stop flag. */
typedef struct scan_ctx {
  const rm__scan_input *in;
  rm__regset set;
  rm__self self;
  rm_unique_process *procs;    /* registered processes, sorted by pid */
  uint32_t *pids;              /* what to scan */
  size_t n_pids;
  int proc_fd;
  pthread_mutex_t lock;
  size_t next;                 /* cursor into pids, under lock */
  volatile int stop;
  uint32_t rc;                 /* first error, under lock */
} scan_ctx;

typedef struct worker {
  scan_ctx *c;
  rm__uses uses;
  rm__item *items;
  size_t n_items, cap_items;
  char *buf;                   /* getdents64 and maps */
  pthread_t thread;
  int started;
} worker;

/* The per-process state of one detection pass. */
typedef struct probe {
  int dirfd;
  int denied;                  /* fds, maps or exe refused */
  int same_ns;                 /* -1 unknown, else in the caller's mnt ns */
  int has_exe;
  uint64_t exe_dev, exe_ino;
} probe;

static void fail(scan_ctx *c, uint32_t rc) {
  pthread_mutex_lock(&c->lock);
  if (c->rc == RM_OK) c->rc = rc;
  c->stop = 1;
  pthread_mutex_unlock(&c->lock);
}

static int cmp_proc(const void *a, const void *b) {
  const rm_unique_process *x = a, *y = b;
  return x->pid < y->pid ? -1 : x->pid > y->pid;
}

/* 1 when (pid, start) is a registered process. */
static int is_registered(const scan_ctx *c, uint32_t pid, uint64_t start) {
  size_t lo = 0, hi = c->in->n_procs;
  while (lo < hi) {               /* first entry with this pid */
    size_t mid = lo + (hi - lo) / 2;
    if (c->procs[mid].pid < pid) lo = mid + 1;
    else hi = mid;
  }
  for (; lo < c->in->n_procs && c->procs[lo].pid == pid; lo++)
    if (c->procs[lo].start_time == start) return 1;
  return 0;
}

static int pid_registered(const scan_ctx *c, uint32_t pid) {
  rm_unique_process key;
  key.pid = pid;
  key.start_time = 0;
  return c->in->n_procs &&
         bsearch(&key, c->procs, c->in->n_procs, sizeof key, cmp_proc) != NULL;
}

static int refused(int err) { return err == EACCES || err == EPERM; }

/* Whether the process sees our mount tree, so that a path it is shown
 * names the file we would name; asked only for deleted-inode candidates. */
static int in_our_mount_ns(const scan_ctx *c, probe *p) {
  if (p->same_ns < 0) {
    struct statx sx;
    p->same_ns = c->self.mnt_ns &&
                 statx(p->dirfd, "ns/mnt", AT_STATX_DONT_SYNC, STATX_INO,
                       &sx) == 0 && sx.stx_ino == c->self.mnt_ns;
  }
  return p->same_ns;
}

/* A deleted inode: compares the link text, minus " (deleted)", with the
 * registered paths.  at/name is the fd link or the exe link. */
static void match_older(worker *w, probe *p, int at, const char *name,
                        uint64_t dev, uint32_t how) {
  char link[4096 + DELETED_LEN + 1];
  ssize_t n;
  if (!rm__regset_has_dev(&w->c->set, dev) || !in_our_mount_ns(w->c, p))
    return;
  n = readlinkat(at, name, link, sizeof link);
  if (n <= 0 || (size_t)n >= sizeof link) return;
  if ((size_t)n > DELETED_LEN &&
      memcmp(link + n - DELETED_LEN, DELETED, DELETED_LEN) == 0)
    n -= (ssize_t)DELETED_LEN;
  rm__regset_match_path(&w->c->set, link, (size_t)n, &w->uses,
                        how | RM_USE_OLDER_INODE);
}

/* The executable.  0, or -1 when it has none (kernel thread, zombie). */
static int scan_exe(worker *w, probe *p) {
  struct statx sx;
  uint64_t dev;
  if (statx(p->dirfd, "exe", AT_STATX_DONT_SYNC, STATX_INO | STATX_NLINK,
            &sx) != 0) {
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
  if (!rm__regset_match_id(&w->c->set, dev, sx.stx_ino, &w->uses,
                           RM_USE_EXECUTABLE) &&
      (sx.stx_mask & STATX_NLINK) && sx.stx_nlink == 0)
    match_older(w, p, p->dirfd, "exe", dev, RM_USE_EXECUTABLE);
  return 0;
}

/* Every open fd: one statx through its link. */
static void scan_fds(worker *w, probe *p) {
  int fd_dir = openat(p->dirfd, "fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd_dir < 0) {
    if (refused(errno)) p->denied = 1;
    return;
  }
  for (;;) {
    ssize_t got = getdents64(fd_dir, w->buf, DENTS_BUF), off = 0;
    if (got <= 0) {
      if (got < 0 && refused(errno)) p->denied = 1;
      break;
    }
    while (off < got) {
      const struct dirent64 *d = (const struct dirent64 *)(w->buf + off);
      struct statx sx;
      off += d->d_reclen;
      if (d->d_name[0] == '.') continue;
      if (statx(fd_dir, d->d_name, AT_STATX_DONT_SYNC,
                STATX_INO | STATX_NLINK, &sx) != 0) {
        if (refused(errno)) p->denied = 1;
        continue;                   /* closed meanwhile */
      }
      {
        uint64_t dev = (uint64_t)makedev(sx.stx_dev_major, sx.stx_dev_minor);
        if (!rm__regset_match_id(&w->c->set, dev, sx.stx_ino, &w->uses,
                                 RM_USE_OPEN_FILE) &&
            (sx.stx_mask & STATX_NLINK) && sx.stx_nlink == 0)
          match_older(w, p, fd_dir, d->d_name, dev, RM_USE_OPEN_FILE);
      }
    }
  }
  close(fd_dir);
}

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

static const char *skip_field(const char *p, const char *end) {
  while (p < end && *p != ' ') p++;
  while (p < end && *p == ' ') p++;
  return p;
}

/* One maps line "start-end perms offset maj:min inode   path".  A mapping
 * of the executable's own inode counts as the executable. */
static void maps_line(worker *w, probe *p, const char *s, const char *end,
                      uint64_t *last_dev, uint64_t *last_ino) {
  uint64_t dev, ino = 0;
  unsigned long major, minor;
  uint32_t how;
  s = skip_field(s, end);             /* address range */
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
  if (dev == *last_dev && ino == *last_ino) return;
  *last_dev = dev;
  *last_ino = ino;
  how = p->has_exe && dev == p->exe_dev && ino == p->exe_ino
            ? RM_USE_EXECUTABLE : RM_USE_MAPPING;
  if (rm__regset_match_id(&w->c->set, dev, ino, &w->uses, how)) return;
  if ((size_t)(end - s) <= DELETED_LEN ||
      memcmp(end - DELETED_LEN, DELETED, DELETED_LEN) != 0)
    return;
  if (!rm__regset_has_dev(&w->c->set, dev) || !in_our_mount_ns(w->c, p))
    return;
  while (s < end && *s == ' ') s++;
  rm__regset_match_path(&w->c->set, s, (size_t)(end - s) - DELETED_LEN,
                        &w->uses, how | RM_USE_OLDER_INODE);
}

/* The memory mappings, read in buffer-sized pieces (never smaps). */
static void scan_maps(worker *w, probe *p) {
  uint64_t last_dev = 0, last_ino = 0;
  size_t have = 0;
  int fd = openat(p->dirfd, "maps", O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (refused(errno)) p->denied = 1;
    return;
  }
  for (;;) {
    ssize_t got = read(fd, w->buf + have, MAPS_BUF - have);
    const char *line, *end, *nl;
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) {
      if (got < 0 && refused(errno)) p->denied = 1;
      break;
    }
    end = w->buf + have + got;
    for (line = w->buf; (nl = memchr(line, '\n', (size_t)(end - line)));
         line = nl + 1)
      maps_line(w, p, line, nl, &last_dev, &last_ino);
    have = (size_t)(end - line);
    if (have == MAPS_BUF) have = 0;   /* a line longer than the buffer */
    memmove(w->buf, line, have);
  }
  close(fd);
}

static uint32_t push_item(worker *w, const rm__item *item) {
  if (w->n_items == w->cap_items) {
    size_t cap = w->cap_items ? 2 * w->cap_items : 64;
    rm__item *v = realloc(w->items, cap * sizeof *v);
    if (!v) return RM_ERROR_OUTOFMEMORY;
    w->items = v;
    w->cap_items = cap;
  }
  w->items[w->n_items++] = *item;
  return RM_OK;
}

static void utoa(char *buf, uint32_t v) {
  char tmp[12];
  size_t n = 0, i;
  do tmp[n++] = (char)('0' + v % 10); while ((v /= 10) != 0);
  for (i = 0; i < n; i++) buf[i] = tmp[n - 1 - i];
  buf[n] = 0;
}

/* Detection and, on a match, classification of one process. */
static void scan_one(worker *w, uint32_t pid) {
  scan_ctx *c = w->c;
  rm__pstat st;
  rm__item item;
  probe p;
  char name[12];
  int have_stat = 0, registered = 0, files = c->set.n_files > 0;

  utoa(name, pid);
  memset(&p, 0, sizeof p);
  p.same_ns = -1;
  p.dirfd = openat(c->proc_fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (p.dirfd < 0) return;                      /* gone */
  if (pid_registered(c, pid)) {
    if (rm__linux_read_stat(p.dirfd, pid, &st) != 0) goto done;
    have_stat = 1;
    registered = st.state != 'Z' &&
        is_registered(c, pid, rm__linux_ticks_to_100ns(st.start_ticks));
  }
  if (files && scan_exe(w, &p) != 0) {
    /* No executable: a kernel thread or a zombie, which hold no files. */
    if (!have_stat && rm__linux_read_stat(p.dirfd, pid, &st) != 0) goto done;
    have_stat = 1;
    files = !(st.flags & RM_PF_KTHREAD) && st.state != 'Z';
  }
  if (files) {
    scan_fds(w, &p);
    scan_maps(w, &p);
  }
  if (w->uses.n == 0 && !registered && !p.denied) goto done;
  if (!have_stat && rm__linux_read_stat(p.dirfd, pid, &st) != 0) goto done;
  if (st.state == 'Z' || ((st.flags & RM_PF_KTHREAD) && !registered))
    goto done;
  if (w->uses.n == 0 && !registered && kill((pid_t)pid, 0) == 0)
    goto done;          /* refused but signallable: see the file comment */

  memset(&item, 0, sizeof item);
  if (rm__classify_probe(&c->self, p.dirfd, pid, &st, &item) != 0) goto done;
  item.found.registered = registered;
  item.found.uses = rm__uses_take(&w->uses, &item.found.n_uses);
  if (w->uses.oom || push_item(w, &item) != RM_OK) {
    free(item.found.uses);
    fail(c, RM_ERROR_OUTOFMEMORY);
  }
done:
  if (w->uses.n) {
    size_t dropped;
    free(rm__uses_take(&w->uses, &dropped));
  }
  close(p.dirfd);
}

static void *worker_main(void *arg) {
  worker *w = arg;
  scan_ctx *c = w->c;
  for (;;) {
    size_t from, to, i;
    pthread_mutex_lock(&c->lock);
    from = c->next;
    to = from + CHUNK < c->n_pids ? from + CHUNK : c->n_pids;
    c->next = to;
    pthread_mutex_unlock(&c->lock);
    if (from >= to || c->stop) break;
    for (i = from; i < to && !c->stop; i++) {
      if (*c->in->cancel) {
        fail(c, RM_ERROR_CANCELLED);
        break;
      }
      scan_one(w, c->pids[i]);
    }
  }
  return NULL;
}

/* The numeric entries of /proc: every thread-group leader. */
static uint32_t list_pids(scan_ctx *c, char *buf) {
  size_t cap = 512;
  c->pids = malloc(cap * sizeof *c->pids);
  if (!c->pids) return RM_ERROR_OUTOFMEMORY;
  for (;;) {
    ssize_t got = getdents64(c->proc_fd, buf, DENTS_BUF), off = 0;
    if (got <= 0) break;
    while (off < got) {
      const struct dirent64 *d = (const struct dirent64 *)(buf + off);
      const char *s = d->d_name;
      uint32_t pid = 0;
      off += d->d_reclen;
      for (; (unsigned)(*s - '0') < 10; s++) pid = pid * 10 + (uint32_t)(*s - '0');
      if (*s || pid == 0) continue;
      if (c->n_pids == cap) {
        uint32_t *v = realloc(c->pids, 2 * cap * sizeof *v);
        if (!v) return RM_ERROR_OUTOFMEMORY;
        c->pids = v;
        cap *= 2;
      }
      c->pids[c->n_pids++] = pid;
    }
  }
  return RM_OK;
}

/* Only the registered pids: nothing else can match without files. */
static uint32_t registered_pids(scan_ctx *c) {
  size_t i;
  c->pids = malloc((c->in->n_procs + 1) * sizeof *c->pids);
  if (!c->pids) return RM_ERROR_OUTOFMEMORY;
  for (i = 0; i < c->in->n_procs; i++)
    if (i == 0 || c->procs[i].pid != c->procs[i - 1].pid)
      c->pids[c->n_pids++] = c->procs[i].pid;
  return RM_OK;
}

static size_t thread_count(size_t n_pids) {
  const char *env = rm__os_getenv("RESTARTMGR_SCAN_THREADS");
  long n = env && *env ? strtol(env, NULL, 10) : 0;
  if (n <= 0) {
    if (n_pids < 64) return 1;
    n = sysconf(_SC_NPROCESSORS_ONLN);
    if (n > 4) n = 4;
  }
  if (n < 1) n = 1;
  if (n > MAX_THREADS) n = MAX_THREADS;
  return (size_t)n;
}

/* Runs the workers over c->pids; their items are appended to *items. */
static uint32_t run_workers(scan_ctx *c, rm__item **items, size_t *n_items) {
  worker w[MAX_THREADS];
  size_t n = thread_count(c->n_pids), i, total = 0;
  uint32_t rc = RM_OK;
  memset(w, 0, sizeof w);
  for (i = 0; i < n; i++) {
    w[i].c = c;
    w[i].buf = malloc(MAPS_BUF > DENTS_BUF ? MAPS_BUF : DENTS_BUF);
    if (!w[i].buf || rm__uses_init(&w[i].uses, c->set.n_files) != 0) {
      rc = RM_ERROR_OUTOFMEMORY;
      n = i + 1;
      break;
    }
  }
  if (rc == RM_OK) {
    for (i = 1; i < n; i++)
      w[i].started = pthread_create(&w[i].thread, NULL, worker_main, &w[i]) == 0;
    worker_main(&w[0]);               /* the calling thread works too */
    for (i = 1; i < n; i++)
      if (w[i].started) pthread_join(w[i].thread, NULL);
    rc = c->rc;
  }
  for (i = 0; i < n; i++) total += w[i].n_items;
  if (rc == RM_OK && total) {
    *items = malloc(total * sizeof **items);
    if (!*items) rc = RM_ERROR_OUTOFMEMORY;
  }
  for (i = 0; i < n; i++) {
    size_t k;
    for (k = 0; k < w[i].n_items; k++) {
      if (rc == RM_OK) (*items)[(*n_items)++] = w[i].items[k];
      else free(w[i].items[k].found.uses);
    }
    free(w[i].items);
    free(w[i].buf);
    rm__uses_free(&w[i].uses);
  }
  return rc;
}

/* {===== Services, on the calling thread */

static int cmp_item(const void *a, const void *b) {
  const rm__found *x = &((const rm__item *)a)->found;
  const rm__found *y = &((const rm__item *)b)->found;
  if (x->info.process.pid != y->info.process.pid)
    return x->info.process.pid < y->info.process.pid ? -1 : 1;
  return strcmp(x->info.service_short_name, y->info.service_short_name);
}

/* The registered service whose main pid this is, or NULL. */
static const char *registered_service_at(const scan_ctx *c,
                                         const uint32_t *svc_pid,
                                         uint32_t pid) {
  size_t i;
  for (i = 0; i < c->in->n_services; i++)
    if (svc_pid[i] == pid) return c->in->services[i];
  return NULL;
}

/* Gives each found process its service (if any) and its final type, then
 * adds an entry for each running registered service not found yet. */
static uint32_t attach_services(scan_ctx *c, rm__item **items, size_t *n) {
  uint32_t *svc_pid = calloc(c->in->n_services + 1, sizeof *svc_pid);
  char *covered = calloc(c->in->n_services + 1, 1);
  size_t i, n_found = *n;
  uint32_t rc = RM_OK;
  if (!svc_pid || !covered) rc = RM_ERROR_OUTOFMEMORY;
  for (i = 0; rc == RM_OK && i < c->in->n_services; i++)
    if (!rm__linux_service_pid(c->in->services[i], &svc_pid[i])) svc_pid[i] = 0;

  for (i = 0; rc == RM_OK && i < n_found; i++) {
    rm__found *f = &(*items)[i].found;
    char name[RM_MAX_SVC_NAME + 1];
    const char *svc = NULL;
    size_t k;
    rm_unique_process now;
    if (rm__linux_service_of(f->info.process.pid, name, sizeof name) &&
        rm__os_identity(f->info.process.pid, &now) == RM_OK &&
        now.start_time == f->info.process.start_time)
      svc = name;
    if (!svc) svc = registered_service_at(c, svc_pid, f->info.process.pid);
    for (k = 0; svc && k < c->in->n_services; k++)
      if (svc_pid[k] == f->info.process.pid &&
          strcmp(c->in->services[k], svc) == 0) {
        covered[k] = 1;
        f->registered = 1;
      }
    rm__classify_finish(&(*items)[i], svc);
  }

  for (i = 0; rc == RM_OK && i < c->in->n_services; i++) {
    rm__item item, *grown;
    rm__pstat st;
    char name[12];
    int dirfd, ok;
    if (!svc_pid[i] || covered[i]) continue;
    covered[i] = 1;
    utoa(name, svc_pid[i]);
    dirfd = openat(c->proc_fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dirfd < 0) continue;
    memset(&item, 0, sizeof item);
    ok = rm__linux_read_stat(dirfd, svc_pid[i], &st) == 0 && st.state != 'Z' &&
         rm__classify_probe(&c->self, dirfd, svc_pid[i], &st, &item) == 0;
    close(dirfd);
    if (!ok) continue;
    item.found.registered = 1;
    rm__classify_finish(&item, c->in->services[i]);
    grown = realloc(*items, (*n + 1) * sizeof *grown);
    if (!grown) {
      rc = RM_ERROR_OUTOFMEMORY;
      break;
    }
    *items = grown;
    (*items)[(*n)++] = item;
  }
  free(svc_pid);
  free(covered);
  return rc;
}

/* }===== */

uint32_t rm__os_scan(const rm__scan_input *in, rm__found **out, size_t *n_out) {
  scan_ctx c;
  rm__item *items = NULL;
  size_t n_items = 0, i;
  uint32_t rc;

  *out = NULL;
  *n_out = 0;
  memset(&c, 0, sizeof c);
  c.in = in;
  c.proc_fd = -1;
  pthread_mutex_init(&c.lock, NULL);
  rc = rm__regset_build(&c.set, in->files, in->n_files);
  if (rc != RM_OK) goto end;
  rc = rm__self_init(&c.self);
  if (rc != RM_OK) goto end;
  if (*in->cancel) {
    rc = RM_ERROR_CANCELLED;
    goto end;
  }
  c.procs = malloc((in->n_procs + 1) * sizeof *c.procs);
  if (!c.procs) {
    rc = RM_ERROR_OUTOFMEMORY;
    goto end;
  }
  if (in->n_procs) memcpy(c.procs, in->procs, in->n_procs * sizeof *c.procs);
  qsort(c.procs, in->n_procs, sizeof *c.procs, cmp_proc);
  c.proc_fd = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (c.proc_fd < 0) {
    rc = RM_ERROR_ACCESS_DENIED;
    goto end;
  }
  if (in->n_files) {
    char *buf = malloc(DENTS_BUF);
    rc = buf ? list_pids(&c, buf) : RM_ERROR_OUTOFMEMORY;
    free(buf);
  } else {
    rc = registered_pids(&c);
  }
  if (rc == RM_OK) rc = run_workers(&c, &items, &n_items);
  if (rc == RM_OK) rc = attach_services(&c, &items, &n_items);
  if (rc == RM_OK && *in->cancel) rc = RM_ERROR_CANCELLED;
  if (rc == RM_OK && n_items) {
    qsort(items, n_items, sizeof *items, cmp_item);
    *out = calloc(n_items, sizeof **out);
    if (!*out) rc = RM_ERROR_OUTOFMEMORY;
  }
  if (rc == RM_OK) {
    for (i = 0; i < n_items; i++) (*out)[i] = items[i].found;
    *n_out = n_items;
  } else {
    for (i = 0; i < n_items; i++) free(items[i].found.uses);
  }
end:
  free(items);
  free(c.pids);
  free(c.procs);
  if (c.proc_fd >= 0) close(c.proc_fd);
  rm__self_free(&c.self);
  rm__regset_free(&c.set);
  pthread_mutex_destroy(&c.lock);
  return rc;
}

uint32_t rm__os_file_id(const char *path, rm__file_id *out) {
  struct stat st;
  if (stat(path, &st) != 0) return RM_ERROR_FILE_NOT_FOUND;
  out->dev = (uint64_t)st.st_dev;
  out->ino = (uint64_t)st.st_ino;
  return RM_OK;
}
