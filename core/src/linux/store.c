/* SPDX-License-Identifier: MIT */
/*
 * store.c: the session store directory on Linux: its lock, its files.
 *
 * Where the directory is and why no other user can take it: store_path.c.
 * Files are read with O_NOFOLLOW and replaced atomically (temp file,
 * fsync, rename, fsync of the directory), so a crash at any instant leaves
 * each file whole.  A temp file's name carries its writer's pid
 * (".NAME.PID.RANDOM.tmp"); whoever takes the lock removes the temp files
 * of writers that died (a kill during a write), and any older than a
 * write can take, so nothing piles up.
 *
 * The lock.  flock() on "lock", with a bounded wait that is a real kernel
 * wait, not polling: polling sleeps past the moment the holder lets go,
 * so busy writers starve a poller (16 processes x 1,000 registrations:
 * 44 timeouts at 5 s).  A blocking flock() cannot time out by itself, and
 * interrupting it with a timer signal means owning a signal in a library;
 * instead the blocking flock() runs on a small detached thread and the
 * caller waits for it on a condition variable with a monotonic deadline.
 * When the deadline passes first, the caller returns
 * RM_ERROR_SEM_TIMEOUT and leaves the thread queued: the next caller of
 * this process adopts it (keeping its place), and when nobody wants the
 * lock any more by the time the thread gets it, the thread releases it at
 * once.  So a process has at most one such thread per store, and a stale
 * holder costs a timeout, never a leak per call.  A process mutex in
 * front excludes this process's other threads (flock does not, on a
 * shared open file description).
 */
#define _GNU_SOURCE
#include "linux.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define STALE_TEMP_SECONDS 600   /* longer than any write of a record */

struct rm__dir {
  int fd;           /* the directory */
  int lock_fd;      /* the lock file while locked, else -1 */
};

static pthread_mutex_t store_mutex = PTHREAD_MUTEX_INITIALIZER;

/* {===== Opening, and rm_store_path */

uint32_t rm__os_store_open(rm__dir **out) {
  char path[2 * RM_PATH_MAX];
  uint32_t skipped, rc;
  rm__dir *d;
  int fd = -1;

  rc = rm__linux_store_find(path, sizeof path, &skipped, &fd);
  if (rc != RM_OK) return rc;
  d = malloc(sizeof *d);
  if (!d) {
    close(fd);
    return RM_ERROR_OUTOFMEMORY;
  }
  d->fd = fd;
  d->lock_fd = -1;
  *out = d;
  return RM_OK;
}

uint32_t rm__os_store_locate(char *path, size_t cap, uint32_t *skipped) {
  char buf[2 * RM_PATH_MAX];
  int fd = -1;
  uint32_t rc = rm__linux_store_find(buf, sizeof buf, skipped, &fd);
  if (rc != RM_OK) return rc;
  close(fd);
  if (strlen(buf) >= cap) return RM_ERROR_MORE_DATA;
  memcpy(path, buf, strlen(buf) + 1);
  return RM_OK;
}

void rm__os_store_close(rm__dir *d) {
  if (!d) return;
  if (d->lock_fd >= 0) rm__os_store_unlock(d);
  close(d->fd);
  free(d);
}

/* }=====
 * {===== The lock */

/* A blocking flock() running on its own thread. */
typedef struct waiter {
  int fd;                      /* the lock file */
  dev_t dev;
  ino_t ino;
  int state;                   /* WAITING, GOT or FAILED */
  int abandoned;               /* no caller waits for it now */
  struct waiter *next;
} waiter;

enum { WAITING, GOT, FAILED };

static pthread_mutex_t waiters_mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t waiters_cond;
static pthread_once_t waiters_once = PTHREAD_ONCE_INIT;
static waiter *waiters;

static void unlink_waiter(waiter *w) {
  waiter **p = &waiters;
  while (*p && *p != w) p = &(*p)->next;
  if (*p) *p = w->next;
}

/* A child of fork() has none of its parent's threads: forget them (their
 * fds are the parent's business; closing our copies keeps no lock). */
static void forget_waiters_in_child(void) {
  waiter *w = waiters, *next;
  for (; w; w = next) {
    next = w->next;
    close(w->fd);
    free(w);
  }
  waiters = NULL;
  pthread_mutex_init(&waiters_mutex, NULL);
  pthread_mutex_init(&store_mutex, NULL);
}

static void init_waiters(void) {
  pthread_condattr_t attr;
  pthread_condattr_init(&attr);
  pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
  pthread_cond_init(&waiters_cond, &attr);
  pthread_condattr_destroy(&attr);
  pthread_atfork(NULL, NULL, forget_waiters_in_child);
}

static void *waiter_main(void *arg) {
  waiter *w = arg;
  int rc;
  while ((rc = flock(w->fd, LOCK_EX)) != 0 && errno == EINTR) {}
  pthread_mutex_lock(&waiters_mutex);
  if (w->abandoned) {
    /* Nobody wants it any more: let the other processes have it. */
    unlink_waiter(w);
    if (rc == 0) flock(w->fd, LOCK_UN);
    close(w->fd);
    free(w);
  } else {
    w->state = rc == 0 ? GOT : FAILED;
    pthread_cond_broadcast(&waiters_cond);
  }
  pthread_mutex_unlock(&waiters_mutex);
  return NULL;
}

static void deadline_in(struct timespec *t, unsigned ms, clockid_t clock) {
  clock_gettime(clock, t);
  t->tv_sec += (time_t)(ms / 1000);
  t->tv_nsec += (long)(ms % 1000) * 1000000L;
  if (t->tv_nsec >= 1000000000L) {
    t->tv_sec++;
    t->tv_nsec -= 1000000000L;
  }
}

/* Waits for the flock of fd (which it takes over) until the deadline.
 * RM_OK with *locked_fd, RM_ERROR_SEM_TIMEOUT, RM_ERROR_WRITE_FAULT. */
static uint32_t wait_blocking(int fd, const struct stat *st,
                              const struct timespec *deadline,
                              int *locked_fd) {
  waiter *w;
  uint32_t rc;
  pthread_once(&waiters_once, init_waiters);
  pthread_mutex_lock(&waiters_mutex);
  for (w = waiters; w; w = w->next)
    if (w->dev == st->st_dev && w->ino == st->st_ino) break;
  if (w) {
    close(fd);                 /* adopt the queued one: it keeps its place */
    w->abandoned = 0;
  } else {
    pthread_t t;
    pthread_attr_t attr;
    sigset_t all, old;
    int err;
    w = calloc(1, sizeof *w);
    if (!w) {
      pthread_mutex_unlock(&waiters_mutex);
      close(fd);
      return RM_ERROR_OUTOFMEMORY;
    }
    w->fd = fd;
    w->dev = st->st_dev;
    w->ino = st->st_ino;
    w->state = WAITING;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attr, 64 * 1024);
    /* The thread takes no signals: the application's stay its own. */
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    err = pthread_create(&t, &attr, waiter_main, w);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    pthread_attr_destroy(&attr);
    if (err != 0) {
      pthread_mutex_unlock(&waiters_mutex);
      close(fd);
      free(w);
      return RM_ERROR_WRITE_FAULT;
    }
    w->next = waiters;
    waiters = w;
  }
  while (w->state == WAITING)
    if (pthread_cond_timedwait(&waiters_cond, &waiters_mutex, deadline) ==
        ETIMEDOUT && w->state == WAITING)
      break;
  if (w->state == WAITING) {
    w->abandoned = 1;
    rc = RM_ERROR_SEM_TIMEOUT;
  } else {
    unlink_waiter(w);
    if (w->state == GOT) {
      *locked_fd = w->fd;
      rc = RM_OK;
    } else {
      close(w->fd);
      rc = RM_ERROR_WRITE_FAULT;
    }
    free(w);
  }
  pthread_mutex_unlock(&waiters_mutex);
  return rc;
}

/* "NAME.files.GEN" whose NAME does not exist: a journal left by a crash
 * between writing it and its record (or between removing the two). */
static int orphan_journal(rm__dir *d, const char *name) {
  const char *p = strstr(name, ".files.");
  char record[256];
  struct stat st;
  size_t n;
  if (!p || p == name || name[0] == '.') return 0;
  n = (size_t)(p - name);
  if (n >= sizeof record || !p[7]) return 0;
  for (p += 7; *p; p++)
    if (*p < '0' || *p > '9') return 0;
  memcpy(record, name, n);
  record[n] = 0;
  return fstatat(d->fd, record, &st, AT_SYMLINK_NOFOLLOW) != 0 &&
         errno == ENOENT;
}

/* Removes the temp files of dead writers and very old ones, and orphan
 * journals; called with the lock held, when no live writer that locks can
 * be mid-write. */
static void sweep_temp_files(rm__dir *d) {
  int fd = openat(d->fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  DIR *dir = fd >= 0 ? fdopendir(fd) : NULL;
  struct dirent *e;
  time_t now = time(NULL);
  if (!dir) {
    if (fd >= 0) close(fd);
    return;
  }
  while ((e = readdir(dir)) != NULL) {
    const char *name = e->d_name, *end;
    size_t len = strlen(name);
    struct stat st;
    int dead = 0;
    if (orphan_journal(d, name)) {
      unlinkat(d->fd, name, 0);
      continue;
    }
    if (name[0] != '.' || len < 5 || strcmp(name + len - 4, ".tmp") != 0)
      continue;
    /* ".NAME.PID.RANDOM.tmp": the pid is the field before RANDOM. */
    end = name + len - 4;
    {
      const char *r = end, *p;
      unsigned long pid = 0;
      while (r > name && r[-1] != '.') r--;       /* RANDOM */
      p = r - 1;
      while (p > name && p[-1] >= '0' && p[-1] <= '9') p--;
      if (p < r - 1 && p > name && p[-1] == '.' && r - 1 - p <= 10) {
        const char *q;
        for (q = p; q < r - 1; q++) pid = pid * 10 + (unsigned long)(*q - '0');
        dead = pid > 0 && pid <= 0x7FFFFFFFul &&
               kill((pid_t)pid, 0) != 0 && errno == ESRCH;
      }
    }
    if (!dead && (fstatat(d->fd, name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
                  now - st.st_mtime < STALE_TEMP_SECONDS))
      continue;
    unlinkat(d->fd, name, 0);
  }
  closedir(dir);
}

uint32_t rm__os_store_lock(rm__dir *d, unsigned timeout_ms) {
  struct timespec deadline;
  struct stat st;
  uint32_t rc;
  int fd, locked = -1;

  deadline_in(&deadline, timeout_ms, CLOCK_MONOTONIC);
  if (pthread_mutex_clocklock(&store_mutex, CLOCK_MONOTONIC, &deadline) != 0)
    return RM_ERROR_SEM_TIMEOUT;
  fd = openat(d->fd, "lock", O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
      st.st_uid != geteuid()) {
    if (fd >= 0) close(fd);
    pthread_mutex_unlock(&store_mutex);
    return RM_ERROR_WRITE_FAULT;
  }
  if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
    locked = fd;
    rc = RM_OK;
  } else if (errno == EWOULDBLOCK || errno == EINTR) {
    rc = wait_blocking(fd, &st, &deadline, &locked);
  } else {
    close(fd);
    rc = RM_ERROR_WRITE_FAULT;
  }
  if (rc != RM_OK) {
    pthread_mutex_unlock(&store_mutex);
    return rc;
  }
  d->lock_fd = locked;
  sweep_temp_files(d);
  return RM_OK;
}

void rm__os_store_unlock(rm__dir *d) {
  if (d->lock_fd < 0) return;
  flock(d->lock_fd, LOCK_UN);
  close(d->lock_fd);
  d->lock_fd = -1;
  pthread_mutex_unlock(&store_mutex);
}

/* }=====
 * {===== Files */

uint32_t rm__os_store_read(rm__dir *d, const char *name, char **data,
                           size_t *len) {
  struct stat st;
  char *buf;
  size_t total = 0;
  int fd = openat(d->fd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);

  if (fd < 0) return errno == ENOENT ? RM_ERROR_FILE_NOT_FOUND
                                     : RM_ERROR_WRITE_FAULT;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid() ||
      st.st_size > 256 * 1024 * 1024) {
    close(fd);
    return RM_ERROR_WRITE_FAULT;
  }
  buf = malloc((size_t)st.st_size + 1);
  if (!buf) {
    close(fd);
    return RM_ERROR_OUTOFMEMORY;
  }
  while (total < (size_t)st.st_size) {
    ssize_t got = read(fd, buf + total, (size_t)st.st_size - total);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) break;
    total += (size_t)got;
  }
  close(fd);
  buf[total] = 0;
  *data = buf;
  *len = total;
  return RM_OK;
}

uint32_t rm__os_store_write(rm__dir *d, const char *name, const char *data,
                            size_t len) {
  char tmp[160];
  unsigned char rnd[6];
  size_t done = 0;
  int fd, n;

  if (rm__os_random(rnd, sizeof rnd) != RM_OK) return RM_ERROR_WRITE_FAULT;
  n = snprintf(tmp, sizeof tmp, ".%s.%ld.%02x%02x%02x%02x%02x%02x.tmp", name,
               (long)getpid(), rnd[0], rnd[1], rnd[2], rnd[3], rnd[4], rnd[5]);
  if (n <= 0 || (size_t)n >= sizeof tmp) return RM_ERROR_WRITE_FAULT;
  fd = openat(d->fd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
              0600);
  if (fd < 0) return RM_ERROR_WRITE_FAULT;
  while (done < len) {
    ssize_t put = write(fd, data + done, len - done);
    if (put < 0 && errno == EINTR) continue;
    if (put <= 0) break;
    done += (size_t)put;
  }
  if (done != len || fsync(fd) != 0) {
    close(fd);
    unlinkat(d->fd, tmp, 0);
    return RM_ERROR_WRITE_FAULT;
  }
  if (close(fd) != 0 || renameat(d->fd, tmp, d->fd, name) != 0) {
    unlinkat(d->fd, tmp, 0);
    return RM_ERROR_WRITE_FAULT;
  }
  fsync(d->fd);
  return RM_OK;
}

uint32_t rm__os_store_append(rm__dir *d, const char *name, uint64_t offset,
                             const char *data, size_t len) {
  struct stat st;
  size_t done = 0;
  /* O_NONBLOCK: a FIFO in its place fails the open, never blocks it. */
  int fd = openat(d->fd, name,
                  O_WRONLY | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0600);
  if (fd < 0) return RM_ERROR_WRITE_FAULT;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid() ||
      (uint64_t)st.st_size < offset || ftruncate(fd, (off_t)offset) != 0) {
    close(fd);
    return RM_ERROR_WRITE_FAULT;
  }
  while (done < len) {
    ssize_t put = pwrite(fd, data + done, len - done, (off_t)(offset + done));
    if (put < 0 && errno == EINTR) continue;
    if (put <= 0) break;
    done += (size_t)put;
  }
  if (done != len || fdatasync(fd) != 0) {
    close(fd);
    return RM_ERROR_WRITE_FAULT;
  }
  close(fd);
  if (offset == 0) fsync(d->fd);          /* a new name: make it durable */
  return RM_OK;
}

uint32_t rm__os_store_remove(rm__dir *d, const char *name) {
  if (unlinkat(d->fd, name, 0) != 0 && errno != ENOENT)
    return RM_ERROR_WRITE_FAULT;
  fsync(d->fd);
  return RM_OK;
}

/* }===== */
