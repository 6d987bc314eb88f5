/* SPDX-License-Identifier: MIT */
/*
 * proc.c: /proc readers and the small OS services of the Linux backend.
 *
 * Identity is (pid, start time): /proc/PID/stat field 22, parsed after the
 * last ')' because comm may hold spaces and parentheses, converted from
 * clock ticks since boot to 100 ns units so it is the same number in every
 * process and on every call.
 */
#define _GNU_SOURCE
#include "linux.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* Opens a file to read that must be a regular one (every file of /proc
 * and /sys is): never through a final link, never blocking on a FIFO,
 * never a device (docs/security.md, "Nothing blocks"). */
static int open_regular(int dirfd, const char *name) {
  struct stat st;
  int fd = openat(dirfd, name,
                  O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW | O_NONBLOCK);
  if (fd < 0) return -1;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    errno = EINVAL;
    return -1;
  }
  return fd;
}

ssize_t rm__linux_read_small(int dirfd, const char *name, char *buf,
                             size_t cap) {
  int fd = open_regular(dirfd, name);
  ssize_t total = 0;
  if (fd < 0) return -1;
  while ((size_t)total + 1 < cap) {
    ssize_t got = read(fd, buf + total, cap - 1 - (size_t)total);
    if (got < 0) {
      if (errno == EINTR) continue;
      total = -1;
      break;
    }
    if (got == 0) break;
    total += got;
  }
  if (total >= 0) buf[total] = 0;
  {
    int saved = errno;
    close(fd);
    errno = saved;
  }
  return total;
}

uint32_t rm__linux_read_whole(int dirfd, const char *name, size_t max,
                              char **buf, size_t *len) {
  size_t cap = 4096, n = 0;
  char *b = malloc(cap + 1);
  int fd = open_regular(dirfd, name);
  if (!b || fd < 0) {
    uint32_t rc = !b                                  ? RM_ERROR_OUTOFMEMORY
                  : errno == EACCES || errno == EPERM ? RM_ERROR_ACCESS_DENIED
                                                      : RM_ERROR_FILE_NOT_FOUND;
    free(b);
    if (fd >= 0) close(fd);
    return rc;
  }
  for (;;) {
    ssize_t got;
    if (n >= max) break;
    if (n == cap) {
      char *bigger = realloc(b, cap * 2 + 1);
      if (!bigger) {
        free(b);
        close(fd);
        return RM_ERROR_OUTOFMEMORY;
      }
      b = bigger;
      cap *= 2;
    }
    got = read(fd, b + n, (cap < max ? cap : max) - n);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) {
      uint32_t rc = errno == EACCES || errno == EPERM
                        ? RM_ERROR_ACCESS_DENIED
                        : RM_ERROR_FILE_NOT_FOUND;
      free(b);
      close(fd);
      return rc;
    }
    if (got == 0) break;
    n += (size_t)got;
  }
  close(fd);
  b[n] = 0;
  *buf = b;
  *len = n;
  return RM_OK;
}

ssize_t rm__linux_read_once(int dirfd, const char *name, char *buf,
                            size_t cap) {
  ssize_t got;
  /* Only kernel files of a /proc/PID directory: flags, no fstat. */
  int fd = openat(dirfd, name,
                  O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW | O_NONBLOCK);
  if (fd < 0) return -1;
  do got = read(fd, buf, cap - 1); while (got < 0 && errno == EINTR);
  close(fd);
  if (got >= 0) buf[got] = 0;
  return got;
}

/* environ is not a seq_file: a read returns what is left of the
 * environment area up to the count asked, so a short read is the end. */
void rm__linux_read_environ(int dirfd, rm__environ *env) {
  size_t cap = 16384;
  int fd = openat(dirfd, "environ",
                  O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW | O_NONBLOCK);
  env->buf = NULL;
  env->len = 0;
  if (fd < 0) return;
  env->buf = malloc(cap);
  while (env->buf) {
    ssize_t got;
    if (env->len > 0 && env->len < cap) break;   /* a short read: the end */
    if (env->len == cap) {
      char *bigger = cap < (1u << 20) ? realloc(env->buf, 2 * cap) : NULL;
      if (!bigger) break;
      env->buf = bigger;
      cap *= 2;
    }
    got = read(fd, env->buf + env->len, cap - env->len);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) break;
    env->len += (size_t)got;
  }
  close(fd);
}

void rm__environ_free(rm__environ *env) {
  free(env->buf);
  env->buf = NULL;
  env->len = 0;
}

const char *rm__environ_value(const rm__environ *env, const char *name,
                              size_t *len) {
  size_t pos = 0, n_name = strlen(name);
  while (env->buf && pos < env->len) {
    const char *entry = env->buf + pos;
    const char *nul = memchr(entry, 0, env->len - pos);
    size_t n = nul ? (size_t)(nul - entry) : env->len - pos;
    if (n > n_name && entry[n_name] == '=' &&
        memcmp(entry, name, n_name) == 0) {
      *len = n - n_name - 1;
      return entry + n_name + 1;
    }
    pos += n + 1;
  }
  return NULL;
}

int rm__linux_pidfd_open(uint32_t pid) {
#ifdef SYS_pidfd_open
  return (int)syscall(SYS_pidfd_open, (pid_t)pid, 0u);
#else
  (void)pid;
  errno = ENOSYS;
  return -1;
#endif
}

int rm__linux_pidfd_signal(int pidfd, int sig) {
#ifdef SYS_pidfd_send_signal
  return (int)syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0u);
#else
  (void)pidfd;
  (void)sig;
  errno = ENOSYS;
  return -1;
#endif
}

int rm__linux_same_identity(int dirfd, const rm_unique_process *p) {
  rm__pstat st;
  return rm__linux_read_stat(dirfd, p->pid, &st) == 0 && st.state != 'Z' &&
         rm__linux_ticks_to_100ns(st.start_ticks) == p->start_time;
}

/* The state letter of a thread from its stat file (name relative to
 * the task directory taskfd).  0, or -1 when unreadable. */
static int thread_state(int taskfd, const char *name, char *state) {
  char buf[1024];
  const char *close_paren;
  ssize_t len;
  int fd = openat(taskfd, name, O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) return -1;
  do len = read(fd, buf, sizeof buf - 1); while (len < 0 && errno == EINTR);
  close(fd);
  if (len <= 0) return -1;
  buf[len] = 0;
  close_paren = strrchr(buf, ')');
  if (!close_paren || close_paren[1] != ' ' || !close_paren[2]) return -1;
  state[0] = close_paren[2];
  state[1] = 0;
  return 0;
}

int rm__linux_read_stat(int dirfd, uint32_t pid, rm__pstat *out) {
  char buf[1024], path[32];
  const char *open_paren, *close_paren, *p;
  int fd, field;
  ssize_t len;
  size_t comm_len;

  /* One open and one read: stat is generated whole on the first read
   * (this runs for every matched process and every parent walked). */
  if (dirfd < 0) {
    snprintf(path, sizeof path, "/proc/%u/stat", (unsigned)pid);
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW | O_NONBLOCK);
  } else {
    fd = openat(dirfd, "stat",
                O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW | O_NONBLOCK);
  }
  if (fd < 0) return -1;
  do len = read(fd, buf, sizeof buf - 1); while (len < 0 && errno == EINTR);
  {
    int saved = errno;
    close(fd);
    errno = saved;
  }
  if (len <= 0) {
    if (len == 0) errno = ESRCH;
    return -1;
  }
  buf[len] = 0;
  open_paren = strchr(buf, '(');
  close_paren = strrchr(buf, ')');
  if (!open_paren || !close_paren || close_paren < open_paren) {
    errno = EIO;
    return -1;
  }
  comm_len = (size_t)(close_paren - open_paren - 1);
  if (comm_len >= sizeof out->comm) comm_len = sizeof out->comm - 1;
  memcpy(out->comm, open_paren + 1, comm_len);
  out->comm[comm_len] = 0;

  /* Fields after ')': 3 state, 4 ppid, 5 pgrp, 6 session, 7 tty_nr,
   * 8 tpgid, 9 flags, ..., 22 starttime. */
  p = close_paren + 1;
  for (field = 3; field <= 22; field++) {
    char *end;
    unsigned long long v;
    while (*p == ' ') p++;
    if (!*p) { errno = EIO; return -1; }
    if (field == 3) {
      out->state = *p;
      while (*p && *p != ' ') p++;
      continue;
    }
    v = strtoull(p, &end, 10);
    if (end == p && *p != '-') { errno = EIO; return -1; }
    if (*p == '-') { v = 0; while (*p && *p != ' ') p++; end = (char *)(uintptr_t)p; }
    switch (field) {
    case 4: out->ppid = (int)v; break;
    case 6: out->session = (int)v; break;
    case 7: out->tty_nr = (int)v; break;
    case 9: out->flags = (unsigned)v; break;
    case 22: out->start_ticks = v; break;
    default: break;
    }
    p = end;
  }
  /* A thread group whose leader called pthread_exit is a zombie leader
   * with live threads: the process lives on (docs/linux.md, Detection). */
  out->live_tid = 0;
  if (out->state == 'Z') {
    out->live_tid = rm__linux_live_thread(dirfd, pid);
    if (out->live_tid) out->state = 'S';
  }
  return 0;
}

uint32_t rm__linux_live_thread(int dirfd, uint32_t pid) {
  char buf[4096], path[48];
  uint32_t found = 0;
  int fd;
  if (dirfd < 0) {
    snprintf(path, sizeof path, "/proc/%u/task", (unsigned)pid);
    fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  } else {
    fd = openat(dirfd, "task", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  }
  if (fd < 0) return 0;
  while (!found) {
    ssize_t got = getdents64(fd, buf, sizeof buf), off = 0;
    if (got <= 0) break;
    while (off < got && !found) {
      const struct dirent64 *d = (const struct dirent64 *)(buf + off);
      const char *s = d->d_name;
      uint32_t tid = 0;
      char state[8];
      off += d->d_reclen;
      for (; (unsigned)(*s - '0') < 10; s++)
        tid = tid * 10 + (uint32_t)(*s - '0');
      if (*s || tid == 0 || tid == pid) continue;
      /* "TID/stat" reads "TID (comm) S ...": alive unless Z or X. */
      snprintf(path, sizeof path, "%u/stat", (unsigned)tid);
      if (thread_state(fd, path, state) == 0 && state[0] != 'Z' &&
          state[0] != 'X')
        found = tid;
    }
  }
  close(fd);
  return found;
}

uint64_t rm__linux_ticks_to_100ns(uint64_t ticks) {
  static long hz;
  if (!hz) {
    hz = sysconf(_SC_CLK_TCK);
    if (hz <= 0) hz = 100;
  }
  return ticks * (10000000ull / (uint64_t)hz);
}

uint32_t rm__os_identity(uint32_t pid, rm_unique_process *out) {
  rm__pstat st;
  if (pid == 0) return RM_ERROR_FILE_NOT_FOUND;
  if (rm__linux_read_stat(-1, pid, &st) != 0)
    return errno == EACCES || errno == EPERM ? RM_ERROR_ACCESS_DENIED
                                              : RM_ERROR_FILE_NOT_FOUND;
  out->pid = pid;
  out->start_time = rm__linux_ticks_to_100ns(st.start_ticks);
  return RM_OK;
}

void rm__os_self(rm_unique_process *out) {
  /* Not cached: a forked child is another process with another identity. */
  if (rm__os_identity((uint32_t)getpid(), out) != RM_OK) {
    out->pid = (uint32_t)getpid();
    out->start_time = 0;
  }
}

int rm__os_alive(const rm_unique_process *p) {
  rm__pstat st;
  if (p->pid == 0 || rm__linux_read_stat(-1, p->pid, &st) != 0) return 0;
  if (st.state == 'Z' || st.state == 'X') return 0;
  return rm__linux_ticks_to_100ns(st.start_ticks) == p->start_time;
}

uint32_t rm__os_random(void *buf, size_t n) {
  unsigned char *b = buf;
  while (n > 0) {
    ssize_t got = getrandom(b, n, 0);
    if (got < 0) {
      if (errno == EINTR) continue;
      return RM_ERROR_WRITE_FAULT;
    }
    b += got;
    n -= (size_t)got;
  }
  return RM_OK;
}

uint64_t rm__os_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void rm__os_sleep_ms(unsigned ms) {
  struct timespec ts;
  ts.tv_sec = ms / 1000;
  ts.tv_nsec = (long)(ms % 1000) * 1000000L;
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {}
}

static pthread_mutex_t global_mutex = PTHREAD_MUTEX_INITIALIZER;

void rm__os_global_lock(void) { pthread_mutex_lock(&global_mutex); }
void rm__os_global_unlock(void) { pthread_mutex_unlock(&global_mutex); }

const char *rm__os_getenv(const char *name) { return getenv(name); }

int rm__os_path_absolute(const char *path) { return path[0] == '/'; }

const char *rm__exe_link(int dirfd, rm__exe_seen *x) {
  if (x->link_state == 0) {
    ssize_t n = readlinkat(dirfd, "exe", x->link, sizeof x->link - 1);
    x->link_state = n > 0 && (size_t)n < sizeof x->link - 1 ? 1 : -1;
    x->link[x->link_state > 0 ? n : 0] = 0;
  }
  return x->link_state > 0 ? x->link : NULL;
}
