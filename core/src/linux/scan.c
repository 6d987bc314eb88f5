/* SPDX-License-Identifier: MIT */
/*
 * scan.c: rm__os_scan, who uses the registered files, processes and
 * services (docs/linux.md, Who uses a file; what it costs:
 * docs/performance.md, Listing: rm_bench_list).
 *
 * Shape of the scan:
 *  - one getdents64 pass over /proc: thread-group leaders only;
 *  - per process, everything is opened relative to its /proc/PID
 *    directory fd, so a recycled pid cannot mix two processes' files;
 *  - one statx(exe), one statx per open fd (through the fd link, with
 *    AT_STATX_DONT_SYNC so a dead NFS server is not asked), one read of
 *    maps parsed for "maj:min inode"; each identity is looked up in the
 *    hash set of registered (dev, ino), so the cost does not grow with the
 *    number of registered files;
 *  - a readlink only for an inode that is deleted (nlink 0 through an fd
 *    or the exe, or marked " (deleted)" in maps) and lives on a registered
 *    file's device; its text, where it equals a registered path, names
 *    that path in the caller's mount namespace, or in another one when
 *    the path's directory is the same in both views (detect.c): that is
 *    how an older inode of a registered path is recognised;
 *  - a thread group whose leader has exited is read through a live
 *    thread (/proc/PID/task/TID);
 *  - only matched processes are classified (classify.c), on the worker
 *    that found them, service lookup included (rm__linux_service_of only
 *    reads /proc, and must stay thread-safe); registered services are
 *    looked up by name on the calling thread at the end.
 * The /proc pid list is shared by up to RESTARTMGR_SCAN_THREADS worker
 * threads (default: one per CPU, at most 4; 1 for small systems), which
 * take chunks of pids from a shared cursor (a quarter of what is left per
 * worker, at most 16, so they finish together); results are sorted by pid, so
 * the output does not depend on the split.
 *
 * What cannot be inspected: a process whose fds, maps or exe are refused
 * and that the caller may not signal is reported as CRITICAL with
 * PERMISSION_DENIED (it might hold the files, and the caller could not
 * stop it).  A process the caller MAY signal but the kernel still refuses
 * to let it inspect is not reported: PID 1 in containers and non-dumpable
 * processes refuse even root, and reporting them would turn every list on
 * such machines into "reboot required".
 *
 * rm__os_scan_stale is the same walk with no registered files: every
 * process, for its deleted executable mappings (stale.c); refused
 * processes are counted, not listed (docs/linux.md, Stale processes).
 */
#define _GNU_SOURCE
#include "scan.h"
#include "safe_path.h"

#include <dirent.h>
#include <limits.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#define CHUNK 16                /* most pids a worker takes at a time */
#define MAX_THREADS 16

/* Shared, read-only during the scan except what is under its lock. */
typedef struct scan_ctx {
  const rm__scan_input *in;
  rm__regset set;
  rm__self self;
  rm_unique_process *procs;    /* registered processes, sorted by pid */
  uint32_t *pids;              /* what to scan */
  size_t n_pids;
  int proc_fd;
  int stale;                   /* rm__os_scan_stale: every process, for its
                                  deleted executable mappings */
  uint64_t shm_dev;            /* see rm__detector */
  size_t uninspected;          /* stale: processes refused, under lock */
  unsigned managers;           /* rm__linux_services_present(), per scan */
  pthread_mutex_t lock;
  size_t next;                 /* cursor into pids, under lock */
  size_t n_workers;
  int stop;                    /* under lock: an error or a cancel */
  uint32_t rc;                 /* first error, under lock */
} scan_ctx;

typedef struct worker {
  scan_ctx *c;
  rm__detector d;
  rm__exe_cache *exes;         /* restartable.c's, for this scan (NULL:
                                  none, when out of memory) */
  rm__item *items;             /* what it found and classified */
  size_t n_items, cap_items;
  pthread_t thread;
  int started;
  char pad[128];               /* workers sit side by side in an array and
                                  write their own fields per match: keep
                                  them off each other's cache lines */
} worker;

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

/* A thread group whose leader has exited (pthread_exit) shows nothing
 * under /proc/PID but its stat: fds, maps and exe are reached through a
 * live thread, /proc/PID/task/TID (docs/linux.md, Detection).  Replaces
 * p->dirfd; 0, or -1 when that thread is gone too. */
static int through_thread(rm__probe *p, uint32_t tid) {
  char name[32];
  int fd;
  memcpy(name, "task/", 5);
  rm__utoa(name + 5, tid);
  fd = openat(p->dirfd, name, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return -1;
  close(p->dirfd);
  p->dirfd = fd;
  return 0;
}

/* Detection and, on a match, classification of one process. */
static void scan_one(worker *w, uint32_t pid) {
  scan_ctx *c = w->c;
  rm__pstat st;
  rm__item item;
  rm__probe p;
  rm__exe_seen exe_seen;
  char name[12];
  int have_stat = 0, registered = 0, fds_seen = 0;
  int files = c->set.n_files > 0 || c->stale;

  rm__utoa(name, pid);
  memset(&p, 0, sizeof p);
  p.same_ns = -1;
  p.pts_index = c->self.pts_index;
  p.dirfd = openat(c->proc_fd, name, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (p.dirfd < 0) return;                      /* gone */
  if (pid_registered(c, pid)) {
    if (rm__linux_read_stat(p.dirfd, pid, &st) != 0) goto done;
    have_stat = 1;
    registered = st.state != 'Z' &&
        is_registered(c, pid, rm__linux_ticks_to_100ns(st.start_ticks));
  }
  if (files && rm__detect_exe(&w->d, &p) != 0) {
    /* No executable: a kernel thread or a zombie, which hold no files,
     * or a group whose leader has exited. */
    if (!have_stat && rm__linux_read_stat(p.dirfd, pid, &st) != 0) goto done;
    have_stat = 1;
    files = !(st.flags & RM_PF_KTHREAD) && st.state != 'Z';
    if (files && st.live_tid &&
        (through_thread(&p, st.live_tid) != 0 ||
         rm__detect_exe(&w->d, &p) != 0))
      files = 0;
  }
  if (files) {
    rm__detect_fds(&w->d, &p);
    rm__detect_maps(&w->d, &p);
    fds_seen = 1;
  }
  if (w->d.uses.n == 0 && w->d.n_stale == 0 && !registered && !p.denied)
    goto done;
  if (c->stale && w->d.uses.n == 0 && w->d.n_stale == 0 && !registered) {
    /* Refused: counted, not listed (rm_get_stale_list). */
    pthread_mutex_lock(&c->lock);
    c->uninspected++;
    pthread_mutex_unlock(&c->lock);
    goto done;
  }
  if (!have_stat && rm__linux_read_stat(p.dirfd, pid, &st) != 0) goto done;
  if (st.state == 'Z' || ((st.flags & RM_PF_KTHREAD) && !registered))
    goto done;
  if (w->d.uses.n == 0 && w->d.n_stale == 0 && !registered &&
      kill((pid_t)pid, 0) == 0)
    goto done;          /* refused but signallable: see the file comment */

  memset(&item, 0, sizeof item);
  item.found.has_exe = p.has_exe;
  item.found.exe.dev = p.exe_dev;
  item.found.exe.ino = p.exe_ino;
  if (fds_seen) {
    item.facts.terminal_host = p.pty_master;
    item.facts.hosts_our_tty = p.hosts_tty;
  } else {
    rm__classify_pty(&c->self, p.dirfd, &item.facts);
  }
  exe_seen.link_state = 0;
  exe_seen.mode = p.exe_mode;
  if (rm__classify_probe(&c->self, p.dirfd, pid, &st, p.mnt_ns, &exe_seen,
                         &item) != 0)
    goto done;
  /* Its service, if any (services.c reads /proc only, so it runs here, in
   * parallel); a process that died meanwhile is dropped, since its pid
   * may already name another. */
  if (!rm__linux_service_of_stat(pid, &st, c->managers,
                                 item.found.info.service_short_name,
                                 sizeof item.found.info.service_short_name))
    item.found.info.service_short_name[0] = 0;
  else if (faccessat(p.dirfd, "stat", F_OK, 0) != 0)
    goto done;
  rm__classify_plain_app(&c->self, p.dirfd, &item,
                         item.found.info.service_short_name[0] != 0,
                         &exe_seen, w->exes);
  item.found.registered = registered;
  item.facts.uninspected = p.denied;
  item.found.uses = rm__uses_take(&w->d.uses, &item.found.n_uses);
  item.found.stale = rm__stale_take(&w->d, &item.found.n_stale);
  if (w->d.uses.oom || w->d.stale_oom || push_item(w, &item) != RM_OK) {
    free(item.found.uses);
    rm__stale_free(item.found.stale, item.found.n_stale);
    fail(c, RM_ERROR_OUTOFMEMORY);
  }
done:
  if (w->d.uses.n) {
    size_t dropped;
    free(rm__uses_take(&w->d.uses, &dropped));
  }
  if (w->d.n_stale) {
    size_t dropped;
    rm__stale *v = rm__stale_take(&w->d, &dropped);
    rm__stale_free(v, dropped);
  }
  rm__probe_close(&p);
  close(p.dirfd);
}

static void *worker_main(void *arg) {
  worker *w = arg;
  scan_ctx *c = w->c;
  for (;;) {
    size_t from, to, i, chunk;
    pthread_mutex_lock(&c->lock);
    from = c->next;
    /* Guided: a share of what is left, so the workers finish together
     * (the last chunks are single pids), at most CHUNK. */
    chunk = (c->n_pids - from) / (4 * c->n_workers);
    chunk = chunk < 1 ? 1 : chunk > CHUNK ? CHUNK : chunk;
    to = from + chunk < c->n_pids ? from + chunk : c->n_pids;
    if (c->stop) to = from;
    c->next = to;
    pthread_mutex_unlock(&c->lock);
    if (from >= to) break;
    for (i = from; i < to; i++) {
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
    ssize_t got = getdents64(c->proc_fd, buf, RM_DETECT_BUF), off = 0;
    if (got <= 0) break;
    while (off < got) {
      const struct dirent64 *d = (const struct dirent64 *)(buf + off);
      const char *s = d->d_name;
      uint32_t pid = 0;
      off += d->d_reclen;
      for (; (unsigned)(*s - '0') < 10; s++)
        pid = pid * 10 + (uint32_t)(*s - '0');
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
  c->n_workers = n;
  for (i = 0; i < n; i++) {
    w[i].c = c;
    w[i].exes = calloc(1, sizeof *w[i].exes);
    if (rm__detector_init(&w[i].d, &c->set, c->self.mnt_ns) != 0) {
      free(w[i].exes);
      rc = RM_ERROR_OUTOFMEMORY;
      n = i;
      break;
    }
    w[i].d.stale = c->stale;
    w[i].d.shm_dev = c->shm_dev;
  }
  if (rc == RM_OK) {
    for (i = 1; i < n; i++)
      w[i].started =
          pthread_create(&w[i].thread, NULL, worker_main, &w[i]) == 0;
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
      else rm__found_parts_free(&w[i].items[k].found);
    }
    free(w[i].items);
    free(w[i].exes);
    rm__detector_free(&w[i].d);
  }
  return rc;
}

/* {===== Services by name, on the calling thread */

static int cmp_item(const void *a, const void *b) {
  const rm__found *x = &((const rm__item *)a)->found;
  const rm__found *y = &((const rm__item *)b)->found;
  if (x->info.process.pid != y->info.process.pid)
    return x->info.process.pid < y->info.process.pid ? -1 : 1;
  return strcmp(x->info.service_short_name, y->info.service_short_name);
}

typedef char svc_name_buf[RM_MAX_SVC_NAME + 1];

/* The registered service whose main pid this is, or NULL. */
static const char *registered_service_at(const scan_ctx *c,
                                         const uint32_t *svc_pid,
                                         svc_name_buf *canon,
                                         uint32_t pid) {
  size_t i;
  for (i = 0; i < c->in->n_services; i++)
    if (svc_pid[i] == pid) return canon[i];
  return NULL;
}

/* Reads the state of every service the scan met (found processes' and
 * registered ones) with one query per manager (docs/linux.md, "Services");
 * rm__linux_services_forget ends it.  -1 when out of memory. */
static int prefetch_services(const scan_ctx *c, const rm__item *items,
                             size_t n) {
  const char **names = malloc((n + c->in->n_services + 1) * sizeof *names);
  size_t i, k = 0;
  if (!names) return -1;
  for (i = 0; i < c->in->n_services; i++) names[k++] = c->in->services[i];
  for (i = 0; i < n; i++) {
    const char *svc = items[i].found.info.service_short_name;
    size_t j;
    int seen = !svc[0];
    for (j = c->in->n_services; !seen && j < k; j++)
      seen = strcmp(names[j], svc) == 0;
    if (!seen) names[k++] = svc;
  }
  rm__linux_services_prefetch(names, k);
  free(names);
  return 0;
}

/* Gives each found process its service (if any) and its final type, then
 * adds an entry for each running registered service not found yet.
 * Registered names are compared in the form the list shows them
 * (canon[]: systemd's "x.service" is "x"). */
static uint32_t attach_services(scan_ctx *c, rm__item **items, size_t *n) {
  uint32_t *svc_pid = calloc(c->in->n_services + 1, sizeof *svc_pid);
  char *covered = calloc(c->in->n_services + 1, 1);
  svc_name_buf *canon = calloc(c->in->n_services + 1, sizeof *canon);
  size_t i, n_found = *n;
  uint32_t rc = RM_OK;
  if (!svc_pid || !covered || !canon) rc = RM_ERROR_OUTOFMEMORY;
  for (i = 0; rc == RM_OK && i < c->in->n_services; i++)
    rm__linux_service_find(c->in->services[i], &svc_pid[i], canon[i],
                           sizeof canon[i]);

  for (i = 0; rc == RM_OK && i < n_found; i++) {
    rm__found *f = &(*items)[i].found;
    char name[RM_MAX_SVC_NAME + 1];
    const char *svc = NULL;
    size_t k;
    if (f->info.service_short_name[0]) {
      memcpy(name, f->info.service_short_name, sizeof name);
      svc = name;
    } else {
      svc = registered_service_at(c, svc_pid, canon, f->info.process.pid);
    }
    for (k = 0; svc && k < c->in->n_services; k++)
      if (svc_pid[k] == f->info.process.pid && strcmp(canon[k], svc) == 0) {
        covered[k] = 1;
        f->registered = 1;
      }
    rm__classify_finish(&(*items)[i], svc);
  }

  for (i = 0; rc == RM_OK && i < c->in->n_services; i++) {
    rm__item item, *grown;
    if (!svc_pid[i] || covered[i]) continue;
    covered[i] = 1;
    if (rm__probe_service_main(&c->self, c->proc_fd, svc_pid[i], canon[i],
                               &item) != 0)
      continue;
    item.found.registered = 1;
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
  free(canon);
  if (rc == RM_OK) rc = rm__merge_service_items(&c->self, c->proc_fd, items, n);
  return rc;
}

/* }===== */

/* The device of the kernel's internal shmem mount, where memfds, SysV
 * shared memory and shared anonymous mappings live, all "(deleted)" by
 * birth: ours tells it (0 when unknown). */
static uint64_t shm_device(void) {
  struct stat st;
  uint64_t dev = 0;
  int fd = memfd_create("restartmgr", MFD_CLOEXEC);
  if (fd >= 0) {
    if (fstat(fd, &st) == 0) dev = (uint64_t)st.st_dev;
    close(fd);
  }
  return dev;
}

/* The whole scan; stale: rm__os_scan_stale's (no registered files, every
 * process, *uninspected counted). */
static uint32_t scan(const rm__scan_input *in, int stale, rm__found **out,
                     size_t *n_out, size_t *uninspected) {
  scan_ctx c;
  rm__item *items = NULL;
  size_t n_items = 0, i;
  uint32_t rc;

  *out = NULL;
  *n_out = 0;
  memset(&c, 0, sizeof c);
  c.in = in;
  c.proc_fd = -1;
  c.stale = stale;
  if (stale) c.shm_dev = shm_device();
  pthread_mutex_init(&c.lock, NULL);
  rc = rm__regset_build(&c.set, in->files, in->file_ids, in->n_files);
  /* Registered sockets: the sockfs inodes bound at them join the set
   * (sockets.c), so the fd scan matches them like any file. */
  if (rc == RM_OK && c.set.n_sockets) rc = rm__regset_add_sockets(&c.set);
  if (rc != RM_OK) goto end;
  rc = rm__self_init(&c.self);
  if (rc != RM_OK) goto end;
  c.self.restarts = in->restarts;
  c.self.n_restarts = in->n_restarts;
  c.managers = rm__linux_services_present();
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
  if (in->n_files || stale) {
    char *buf = malloc(RM_DETECT_BUF);
    rc = buf ? list_pids(&c, buf) : RM_ERROR_OUTOFMEMORY;
    free(buf);
  } else {
    rc = registered_pids(&c);
  }
  if (rc == RM_OK) rc = run_workers(&c, &items, &n_items);
  if (rc == RM_OK) {
    if (prefetch_services(&c, items, n_items) != 0) {
      rc = RM_ERROR_OUTOFMEMORY;
    } else {
      rc = attach_services(&c, &items, &n_items);
      rm__linux_services_forget();
    }
  }
  if (rc == RM_OK) rm__mark_workers(items, n_items);
  if (rc == RM_OK && *in->cancel) rc = RM_ERROR_CANCELLED;
  if (rc == RM_OK && n_items) {
    qsort(items, n_items, sizeof *items, cmp_item);
    *out = calloc(n_items, sizeof **out);
    if (!*out) rc = RM_ERROR_OUTOFMEMORY;
  }
  if (rc == RM_OK) {
    for (i = 0; i < n_items; i++) (*out)[i] = items[i].found;
    *n_out = n_items;
    if (uninspected) *uninspected = c.uninspected;
  } else {
    for (i = 0; i < n_items; i++) rm__found_parts_free(&items[i].found);
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

uint32_t rm__os_scan(const rm__scan_input *in, rm__found **out, size_t *n_out) {
  return scan(in, 0, out, n_out, NULL);
}

uint32_t rm__os_scan_stale(const volatile int *cancel, rm__found **out,
                           size_t *n_out, size_t *n_uninspected) {
  rm__scan_input in;
  memset(&in, 0, sizeof in);
  in.cancel = cancel;
  *n_uninspected = 0;
  return scan(&in, 1, out, n_out, n_uninspected);
}

/* The identity a path is registered under: a symlink only root or the
 * caller could have made is followed, any other leaves the path without
 * one (safe_path.c; docs/security.md, "Registration"). */
uint32_t rm__os_file_id(const char *path, rm__file_id *out) {
  struct stat st;
  int fd = rm__linux_open_identity(path, &st);
  if (fd < 0) return RM_ERROR_FILE_NOT_FOUND;
  close(fd);
  out->dev = (uint64_t)st.st_dev;
  out->ino = (uint64_t)st.st_ino;
  return RM_OK;
}

/* A path and its place in the caller's array. */
typedef struct placed_path {
  const char *path;
  size_t index;
} placed_path;

/* Orders paths by directory, then name, so that each directory is one
 * run (a plain strcmp would put "/a/b/sub/x" between "/a/b/r" and
 * "/a/b/s"). */
static int by_directory(const void *pa, const void *pb) {
  const char *a = ((const placed_path *)pa)->path;
  const char *b = ((const placed_path *)pb)->path;
  const char *sa = strrchr(a, '/'), *sb = strrchr(b, '/');
  size_t la = sa ? (size_t)(sa - a) : 0, lb = sb ? (size_t)(sb - b) : 0;
  int c = memcmp(a, b, la < lb ? la : lb);
  if (c) return c;
  if (la != lb) return la < lb ? -1 : 1;
  return strcmp(a + la, b + lb);
}

/* The identity of the file name in the directory dir_fd (-1: none), as
 * rm__os_file_id gives it. */
static rm__file_id id_in(int dir_fd, const char *name) {
  rm__file_id id = { 0, 0 };
  struct stat st;
  if (dir_fd < 0 || fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
    return id;
  if (S_ISLNK(st.st_mode)) {
    int fd = rm__linux_walk(dir_fd, name, (uint32_t)geteuid(), 0, &st);
    if (fd < 0) return id;
    close(fd);
  }
  id.dev = (uint64_t)st.st_dev;
  id.ino = (uint64_t)st.st_ino;
  return id;
}

/* Each directory is walked once and its fd kept for its run of files
 * (the paths are visited in directory order), so a file costs one
 * fstatat, as a plain stat would. */
void rm__os_file_ids(const char *const *paths, size_t n, rm__file_id *ids) {
  char dir[PATH_MAX];
  placed_path *order = malloc((n ? n : 1) * sizeof *order);
  size_t i, dir_len = 0;
  int dir_fd = -1, have_dir = 0;
  for (i = 0; i < n; i++) ids[i].dev = ids[i].ino = 0;
  if (!order) {
    for (i = 0; i < n; i++)
      if (rm__os_file_id(paths[i], &ids[i]) != RM_OK)
        ids[i].dev = ids[i].ino = 0;
    return;
  }
  for (i = 0; i < n; i++) {
    order[i].path = paths[i];
    order[i].index = i;
  }
  qsort(order, n, sizeof *order, by_directory);
  for (i = 0; i < n; i++) {
    const char *path = order[i].path, *base = strrchr(path, '/');
    size_t len = base ? (size_t)(base - path) : 0;
    rm__file_id *id = &ids[order[i].index];
    if (!base || path[0] != '/' || len >= sizeof dir || !base[1]) {
      if (rm__os_file_id(path, id) != RM_OK) id->dev = id->ino = 0;
      continue;
    }
    if (!have_dir || len != dir_len || memcmp(dir, path, len) != 0) {
      struct stat st;
      if (dir_fd >= 0) close(dir_fd);
      memcpy(dir, path, len);
      dir[len] = 0;
      dir_len = len;
      have_dir = 1;
      dir_fd = rm__linux_walk(AT_FDCWD, len ? dir : "/", (uint32_t)geteuid(),
                              0, &st);
      if (dir_fd >= 0 && !S_ISDIR(st.st_mode)) {
        close(dir_fd);
        dir_fd = -1;
      }
    }
    *id = id_in(dir_fd, base + 1);
  }
  if (dir_fd >= 0) close(dir_fd);
  free(order);
}

/* One view of paths for every process of the caller's mount namespace;
 * other namespaces are handled by identity (docs/linux.md, Mount
 * namespaces). */
uint32_t rm__os_file_view(void) { return 0; }
