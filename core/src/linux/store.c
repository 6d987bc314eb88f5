/*
 * store.c: the session store directory on Linux.
 *
 * One directory per user, 0700, owned by the user, never reached through a
 * symlink: anything else is refused, because a store another user can
 * write is a store another user can steer.  Files are read with O_NOFOLLOW
 * and replaced atomically (temp file, fsync, rename, fsync of the
 * directory), so a crash at any instant leaves each file whole.  The
 * cross-process lock is flock() on "lock", taken with a bounded wait; a
 * process mutex in front of it excludes this process's other threads
 * (flock does not, on a shared open file description).
 */
#define _GNU_SOURCE
#include "linux.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct rm__dir {
  int fd;           /* the directory */
  int lock_fd;      /* the lock file while locked, else -1 */
};

static pthread_mutex_t store_mutex = PTHREAD_MUTEX_INITIALIZER;

static int store_location(char *buf, size_t cap) {
  const char *dir = getenv("RESTARTMGR_STATE_DIR");
  const char *xdg = getenv("XDG_RUNTIME_DIR");
  int n;
  if (dir && *dir)
    n = snprintf(buf, cap, "%s", dir);
  else if (xdg && *xdg == '/')
    n = snprintf(buf, cap, "%s/restartmgr", xdg);
  else
    n = snprintf(buf, cap, "/tmp/restartmgr-%u", (unsigned)geteuid());
  return n > 0 && (size_t)n < cap && buf[0] == '/' ? 0 : -1;
}

uint32_t rm__os_store_open(rm__dir **out) {
  char path[RM_PATH_MAX];
  struct stat st;
  rm__dir *d;
  int fd;

  if (store_location(path, sizeof path) != 0) return RM_ERROR_WRITE_FAULT;
  if (mkdir(path, 0700) != 0 && errno != EEXIST) return RM_ERROR_WRITE_FAULT;
  fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return RM_ERROR_WRITE_FAULT;
  if (fstat(fd, &st) != 0 || !S_ISDIR(st.st_mode) || st.st_uid != geteuid() ||
      (st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
    close(fd);
    return RM_ERROR_WRITE_FAULT;
  }
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

void rm__os_store_close(rm__dir *d) {
  if (!d) return;
  if (d->lock_fd >= 0) rm__os_store_unlock(d);
  close(d->fd);
  free(d);
}

uint32_t rm__os_store_lock(rm__dir *d, unsigned timeout_ms) {
  uint64_t deadline = rm__os_now_ms() + timeout_ms;
  struct timespec abs;
  struct stat st;
  int fd;

  clock_gettime(CLOCK_REALTIME, &abs);
  abs.tv_sec += (time_t)(timeout_ms / 1000);
  abs.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
  if (abs.tv_nsec >= 1000000000L) {
    abs.tv_sec++;
    abs.tv_nsec -= 1000000000L;
  }
  if (pthread_mutex_timedlock(&store_mutex, &abs) != 0)
    return RM_ERROR_SEM_TIMEOUT;

  fd = openat(d->fd, "lock", O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
      st.st_uid != geteuid()) {
    if (fd >= 0) close(fd);
    pthread_mutex_unlock(&store_mutex);
    return RM_ERROR_WRITE_FAULT;
  }
  for (;;) {
    if (flock(fd, LOCK_EX | LOCK_NB) == 0) break;
    if (errno != EWOULDBLOCK && errno != EINTR) {
      close(fd);
      pthread_mutex_unlock(&store_mutex);
      return RM_ERROR_WRITE_FAULT;
    }
    if (rm__os_now_ms() >= deadline) {
      close(fd);
      pthread_mutex_unlock(&store_mutex);
      return RM_ERROR_SEM_TIMEOUT;
    }
    rm__os_sleep_ms(2);
  }
  d->lock_fd = fd;
  return RM_OK;
}

void rm__os_store_unlock(rm__dir *d) {
  if (d->lock_fd < 0) return;
  flock(d->lock_fd, LOCK_UN);
  close(d->lock_fd);
  d->lock_fd = -1;
  pthread_mutex_unlock(&store_mutex);
}

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
  char tmp[128];
  unsigned char rnd[6];
  size_t done = 0;
  int fd;

  if (rm__os_random(rnd, sizeof rnd) != RM_OK) return RM_ERROR_WRITE_FAULT;
  snprintf(tmp, sizeof tmp, ".%s.%02x%02x%02x%02x%02x%02x.tmp", name, rnd[0],
           rnd[1], rnd[2], rnd[3], rnd[4], rnd[5]);
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

uint32_t rm__os_store_remove(rm__dir *d, const char *name) {
  if (unlinkat(d->fd, name, 0) != 0 && errno != ENOENT)
    return RM_ERROR_WRITE_FAULT;
  fsync(d->fd);
  return RM_OK;
}
