/* SPDX-License-Identifier: MIT */
/*
 * test_restart_common.h: what the restart safety tests share: paths,
 * /proc readers, lists with restart outcomes.
 */
#ifndef RM_TEST_RESTART_COMMON_H
#define RM_TEST_RESTART_COMMON_H

#include "test_shutdown_common.h"

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>

#define NOBODY 65534u

static inline int skip_unless_root(const char *why) {
  if (geteuid() == 0) return 0;
  printf("skip: needs root (%s)\n", why);
  return 1;
}

/* {===== Files and /proc */

/* A temp dir every user can enter. */
static inline const char *open_dir(void) {
  const char *d = rmt_tempdir();
  ASSERT_EQ(0, chmod(d, 0755));
  return d;
}

/* 1 when the initial environment of pid (/proc/PID/environ, its first
 * 64 KiB) has the entry entry, or with prefix one that starts with it. */
static inline int environ_has(long pid, const char *entry, int prefix) {
  char path[64], buf[65536];
  size_t len = 0, pos = 0, n = strlen(entry);
  ssize_t got;
  int fd, found = 0;
  snprintf(path, sizeof path, "/proc/%ld/environ", pid);
  fd = open(path, O_RDONLY);
  ASSERT(fd >= 0);
  while (len < sizeof buf && (got = read(fd, buf + len, sizeof buf - len)) > 0)
    len += (size_t)got;
  close(fd);
  while (pos < len && !found) {
    found = prefix ? strncmp(buf + pos, entry, n) == 0
                   : strcmp(buf + pos, entry) == 0;
    pos += strlen(buf + pos) + 1;
  }
  return found;
}

/* The value after "Key:" in /proc/PID/status, whitespace squeezed. */
static inline void status_line(long pid, const char *key, char *out,
                               size_t cap) {
  char path[64], line[1024];
  FILE *f;
  snprintf(path, sizeof path, "/proc/%ld/status", pid);
  f = fopen(path, "r");
  out[0] = 0;
  ASSERT(f != NULL);
  while (fgets(line, sizeof line, f)) {
    size_t n = strlen(key), o = 0, i;
    if (strncmp(line, key, n) != 0 || line[n] != ':') continue;
    for (i = n + 1; line[i] && o + 1 < cap; i++) {
      char c = line[i] == '\t' ? ' ' : line[i];
      if (c == '\n') break;
      if (c == ' ' && (o == 0 || out[o - 1] == ' ')) continue;
      out[o++] = c;
    }
    while (o && out[o - 1] == ' ') o--;
    out[o] = 0;
  }
  fclose(f);
}

static inline void proc_link(long pid, const char *name, char *out,
                             size_t cap) {
  char path[64];
  ssize_t n;
  snprintf(path, sizeof path, "/proc/%ld/%s", pid, name);
  n = readlink(path, out, cap - 1);
  ASSERT(n > 0);
  out[n] = 0;
}

/* Waits until the process's command name is comm (it exec'd). */
static inline void wait_comm(long pid, const char *comm) {
  char path[64], buf[64];
  unsigned waited = 0;
  snprintf(path, sizeof path, "/proc/%ld/comm", pid);
  for (;;) {
    FILE *f = fopen(path, "r");
    buf[0] = 0;
    if (f) {
      if (!fgets(buf, sizeof buf, f)) buf[0] = 0;
      fclose(f);
    }
    buf[strcspn(buf, "\n")] = 0;
    if (strcmp(buf, comm) == 0) return;
    ASSERT(waited < 10000);
    rmt_sleep_ms(10);
    waited += 10;
  }
}

/* }=====
 * {===== Lists with restart outcomes */

typedef struct alist {
  rm_app_info *v;
  unsigned n;
  uint32_t reasons;
} alist;

static inline void alist_now(uint32_t h, alist *l) {
  ASSERT_OK(rm_get_list_alloc(h, &l->v, &l->n, &l->reasons));
}

static inline void alist_free(alist *l) {
  rm_free_list(l->v, l->n);
  memset(l, 0, sizeof *l);
}

static inline const rm_app_info *app_of(const alist *l, long pid) {
  unsigned i;
  for (i = 0; i < l->n; i++)
    if (l->v[i].info.process.pid == (uint32_t)pid) return &l->v[i];
  rmt_fail(__FILE__, __LINE__, "pid not listed");
  return NULL;
}

/* The single entry with RESTARTED whose pid changed; tracked for cleanup. */
static inline const rm_app_info *relaunched(const alist *l, long old_pid) {
  const rm_app_info *found = NULL;
  unsigned i, n = 0;
  for (i = 0; i < l->n; i++)
    if ((l->v[i].info.app_status & RM_STATUS_RESTARTED) &&
        l->v[i].info.process.pid != (uint32_t)old_pid &&
        (l->v[i].info.app_status & RM_STATUS_RUNNING)) {
      found = &l->v[i];
      n++;
    }
  ASSERT_EQ(1, n);
  foreign_track(&found->info.process);
  return found;
}

/* }===== */

#endif
