/* SPDX-License-Identifier: MIT */
/*
 * credcheck.c: the credential and executable checks shared by the
 * list-time rule (restartable.c) and the launchers (launch.c,
 * relaunch.c), and rm__os_may_register.  A process's credentials come
 * from /proc/PID/status; an executable is plain when nothing about it
 * (setuid, setgid, file capabilities) changes who runs it.
 */
#define _GNU_SOURCE
#include "linux.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#define DELETED_SUFFIX " (deleted)"

/* Parses "Key:\tA\tB\tC\tD" into four numbers. */
static int four_ids(const char *status, const char *key, uint32_t out[4]) {
  const char *p = strstr(status, key);
  int i;
  if (!p) return -1;
  p += strlen(key);
  for (i = 0; i < 4; i++) {
    char *end;
    unsigned long v = strtoul(p, &end, 10);
    if (end == p || v > 0xFFFFFFFFul) return -1;
    out[i] = (uint32_t)v;
    p = end;
  }
  return 0;
}

int rm__linux_parse_creds(const char *status, rm__creds *out) {
  const char *p;
  memset(out, 0, sizeof *out);
  if (four_ids(status, "\nUid:", out->uid) != 0 ||
      four_ids(status, "\nGid:", out->gid) != 0)
    return -1;
  p = strstr(status, "\nGroups:");
  if (!p) return -1;
  p += 8;
  for (;;) {
    char *end;
    unsigned long v;
    while (*p == ' ' || *p == '\t') p++;
    if (*p == '\n' || *p == 0) break;
    v = strtoul(p, &end, 10);
    if (end == p || v > 0xFFFFFFFFul || out->n_groups == RM_MAX_GROUPS)
      return -1;
    out->groups[out->n_groups++] = (uint32_t)v;
    p = end;
  }
  return 0;
}

int rm__linux_creds_uniform(const rm__creds *c) {
  int i;
  for (i = 1; i < 4; i++)
    if (c->uid[i] != c->uid[0] || c->gid[i] != c->gid[0]) return 0;
  return 1;
}

/* 1 when a and b hold the same set of groups. */
static int same_group_set(const uint32_t *a, size_t na, const gid_t *b,
                          size_t nb) {
  size_t i, k;
  for (i = 0; i < na; i++) {
    for (k = 0; k < nb && (uint32_t)b[k] != a[i]; k++) {}
    if (k == nb) return 0;
  }
  for (k = 0; k < nb; k++) {
    for (i = 0; i < na && a[i] != (uint32_t)b[k]; i++) {}
    if (i == na) return 0;
  }
  return 1;
}

int rm__linux_is_caller(uint32_t uid, uint32_t gid, const uint32_t *groups,
                        size_t n_groups) {
  gid_t mine[RM_MAX_GROUPS];
  int n;
  if (getuid() != geteuid() || getgid() != getegid() ||
      uid != (uint32_t)getuid() || gid != (uint32_t)getgid())
    return 0;
  n = getgroups(RM_MAX_GROUPS, mine);
  return n >= 0 && same_group_set(groups, n_groups, mine, (size_t)n);
}

int rm__linux_can_become(const rm__creds *c) {
  return geteuid() == 0 ||
         rm__linux_is_caller(c->uid[0], c->gid[0], c->groups, c->n_groups);
}

int rm__linux_plain_executable(const struct stat *st, const char *xattr_path) {
  if (!S_ISREG(st->st_mode) || !(st->st_mode & 0111)) {
    errno = EACCES;
    return -1;
  }
  if (st->st_mode & (S_ISUID | S_ISGID)) {
    errno = EPERM;
    return -1;
  }
  if (xattr_path &&
      (getxattr(xattr_path, "security.capability", NULL, 0) >= 0 ||
       errno == E2BIG || errno == ERANGE)) {
    errno = EPERM;
    return -1;
  }
  return 0;
}

void rm__linux_strip_deleted(char *link) {
  size_t len = strlen(link), suffix = sizeof DELETED_SUFFIX - 1;
  if (len > suffix && strcmp(link + len - suffix, DELETED_SUFFIX) == 0)
    link[len - suffix] = 0;
}

uint32_t rm__os_may_register(const rm_unique_process *p) {
  char path[32], status[8192];
  rm__creds c;
  int dirfd, ok;
  snprintf(path, sizeof path, "/proc/%u", (unsigned)p->pid);
  dirfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dirfd < 0) return RM_ERROR_FILE_NOT_FOUND;
  ok = rm__linux_same_identity(dirfd, p);
  if (ok &&
      (rm__linux_read_small(dirfd, "status", status, sizeof status) <= 0 ||
       rm__linux_parse_creds(status, &c) != 0))
    ok = 0;
  close(dirfd);
  if (!ok) return RM_ERROR_FILE_NOT_FOUND;
  if (geteuid() == 0) return RM_OK;
  return c.uid[0] == (uint32_t)geteuid() && c.uid[1] == c.uid[0] &&
                 c.uid[2] == c.uid[0]
             ? RM_OK
             : RM_ERROR_ACCESS_DENIED;
}
