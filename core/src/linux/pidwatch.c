/* SPDX-License-Identifier: MIT */
/*
 * pidwatch.c: watching a set of processes until they exit.
 *
 * A unit counts as stopped when the processes that held the files have
 * exited, whatever its manager starts next (docs/linux.md, "Services"):
 * socket activation brings rsyslog back about 10 ms after its stop, and
 * Restart= or a timer may start a unit again before anyone reads its
 * state.  So the processes of a unit's cgroup are taken before it is
 * stopped or restarted, each pinned by a pidfd (a pid number could be
 * reused; a pidfd cannot), and the stop is done when every pidfd has
 * become readable.  Where pidfds are unavailable the (pid, start time)
 * identity is polled in /proc instead.
 */
#define _GNU_SOURCE
#include "services.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/vfs.h>
#include <unistd.h>

#define MAX_DEPTH 8          /* nested cgroups below a unit (delegation) */

void rm__pidwatch_init(rm__pidwatch *w) {
  memset(w, 0, sizeof *w);
}

void rm__pidwatch_free(rm__pidwatch *w) {
  size_t i;
  for (i = 0; i < w->n; i++)
    if (w->fd[i] >= 0) close(w->fd[i]);
  free(w->fd);
  free(w->id);
  rm__pidwatch_init(w);
}

int rm__pidwatch_has(const rm__pidwatch *w, uint32_t pid) {
  size_t i;
  for (i = 0; i < w->n; i++)
    if (w->id[i].pid == pid) return 1;
  return 0;
}

int rm__pidwatch_add(rm__pidwatch *w, uint32_t pid) {
  rm__pstat st;
  int fd;
  if (pid == 0 || rm__pidwatch_has(w, pid)) return 0;
  if (w->n == w->cap) {
    size_t cap = w->cap ? w->cap * 2 : 8;
    int *fds = realloc(w->fd, cap * sizeof *fds);
    rm_unique_process *ids;
    if (!fds) return -1;
    w->fd = fds;
    ids = realloc(w->id, cap * sizeof *ids);
    if (!ids) return -1;
    w->id = ids;
    w->cap = cap;
  }
  /* The pidfd first, then the stat: the identity read after opening is
   * the one the pidfd holds (it cannot change under an open pidfd). */
  fd = rm__linux_pidfd_open(pid);
  if (fd < 0 && errno == ESRCH) return 0;
  if (rm__linux_read_stat(-1, pid, &st) != 0 || st.state == 'Z' ||
      st.state == 'X') {
    if (fd >= 0) close(fd);
    return 0;
  }
  w->fd[w->n] = fd;
  w->id[w->n].pid = pid;
  w->id[w->n].start_time = rm__linux_ticks_to_100ns(st.start_ticks);
  w->n++;
  return 0;
}

int rm__linux_plain_cgroup_path(const char *cg) {
  const char *p = cg;
  if (cg[0] != '/') return 0;
  while (*p) {
    size_t n;
    while (*p == '/') p++;
    n = strcspn(p, "/");
    if ((n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
      return 0;
    p += n;
  }
  return 1;
}

/* A unit without a main pid (oneshot, forking without a pid file) is
 * represented by the first process of its cgroup, in the hierarchy
 * systemd tracks units in (see the file comment). */
uint32_t rm__linux_first_cgroup_pid(const char *cgroup) {
  char path[1200], buf[64];
  const char *root = rm__linux_systemd_cgroup_root(NULL);
  if (!root || !rm__linux_plain_cgroup_path(cgroup) ||
      (size_t)snprintf(path, sizeof path, "%s%s/cgroup.procs", root,
                       cgroup) >= sizeof path ||
      rm__linux_read_small(AT_FDCWD, path, buf, sizeof buf) <= 0)
    return 0;
  return (uint32_t)strtoul(buf, NULL, 10);
}

/* The directory systemd tracks units in (services.h). */
const char *rm__linux_systemd_cgroup_root(int *unified) {
  struct statfs fs;
  int dummy;
  if (!unified) unified = &dummy;
  if (statfs("/sys/fs/cgroup", &fs) == 0 && fs.f_type == CGROUP2_SUPER_MAGIC) {
    *unified = 1;
    return "/sys/fs/cgroup";
  }
  *unified = 0;
  if (statfs("/sys/fs/cgroup/systemd", &fs) == 0 &&
      fs.f_type == CGROUP_SUPER_MAGIC)
    return "/sys/fs/cgroup/systemd";
  return NULL;
}

/* Adds the pids of cgroup.procs in dir and in the cgroups below it. */
static int add_tree(rm__pidwatch *w, int dirfd, int depth) {
  char buf[8192], *p, *end;
  ssize_t got;
  DIR *d;
  struct dirent *e;
  int fd = openat(dirfd, "cgroup.procs", O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd >= 0) {
    /* cgroup.procs may be longer than one buffer: read it to the end,
     * keeping a partial last number for the next read. */
    size_t keep = 0;
    while ((got = read(fd, buf + keep, sizeof buf - 1 - keep)) > 0) {
      size_t len = keep + (size_t)got;
      buf[len] = 0;
      p = buf;
      end = buf + len;
      while (p < end) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl) break;
        *nl = 0;
        if (rm__pidwatch_add(w, (uint32_t)strtoul(p, NULL, 10)) != 0) {
          close(fd);
          return -1;
        }
        p = nl + 1;
      }
      keep = (size_t)(end - p);
      memmove(buf, p, keep);
    }
    close(fd);
  }
  if (depth >= MAX_DEPTH) return 0;
  fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return 0;
  d = fdopendir(fd);
  if (!d) {
    close(fd);
    return 0;
  }
  while ((e = readdir(d)) != NULL) {
    int sub;
    if (e->d_type != DT_DIR || e->d_name[0] == '.') continue;
    sub = openat(dirfd, e->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC |
                                       O_NOFOLLOW);
    if (sub < 0) continue;
    if (add_tree(w, sub, depth + 1) != 0) {
      close(sub);
      closedir(d);
      return -1;
    }
    close(sub);
  }
  closedir(d);
  return 0;
}

int rm__pidwatch_add_cgroup(rm__pidwatch *w, const char *cgroup) {
  char path[RM_PATH_MAX];
  const char *root = rm__linux_systemd_cgroup_root(NULL);
  int dirfd, rc;
  if (!root || !rm__linux_plain_cgroup_path(cgroup) ||
      (size_t)snprintf(path, sizeof path, "%s%s", root, cgroup) >= sizeof path)
    return 0;
  dirfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dirfd < 0) return 0;
  rc = add_tree(w, dirfd, 0);
  close(dirfd);
  return rc;
}

/* 1 when watched process i has exited. */
static int gone(const rm__pidwatch *w, size_t i) {
  if (w->fd[i] >= 0) {
    struct pollfd pfd;
    pfd.fd = w->fd[i];
    pfd.events = POLLIN;
    pfd.revents = 0;
    return poll(&pfd, 1, 0) > 0;
  }
  return !rm__os_alive(&w->id[i]);
}

size_t rm__pidwatch_alive(rm__pidwatch *w) {
  size_t i, alive = 0;
  for (i = 0; i < w->n; i++) {
    if (w->fd[i] == -2) continue;           /* seen exited before */
    if (!gone(w, i)) {
      alive++;
      continue;
    }
    if (w->fd[i] >= 0) close(w->fd[i]);
    w->fd[i] = -2;
  }
  return alive;
}

void rm__pidwatch_wait(rm__pidwatch *const *ws, size_t n_ws, unsigned ms) {
  struct pollfd pfds[64];
  size_t i, k = 0, j;
  int fallback = 0;
  for (j = 0; j < n_ws; j++)
    for (i = 0; i < ws[j]->n; i++) {
      if (ws[j]->fd[i] == -2) continue;
      if (ws[j]->fd[i] < 0 || k == sizeof pfds / sizeof *pfds) {
        fallback = 1;
        continue;
      }
      pfds[k].fd = ws[j]->fd[i];
      pfds[k].events = POLLIN;
      pfds[k].revents = 0;
      k++;
    }
  /* What cannot be polled is looked at again soon. */
  if (fallback && ms > 20) ms = 20;
  if (k == 0) {
    rm__os_sleep_ms(ms);
    return;
  }
  if (poll(pfds, (nfds_t)k, (int)ms) < 0 && errno != EINTR)
    rm__os_sleep_ms(ms);
}
