/* SPDX-License-Identifier: MIT */
/*
 * svc_runit_trust.c: which runit services are the system's
 * (docs/security.md, "Services").
 *
 * Any user can run runit's runsv on a directory of their own, and name
 * that directory like a system service.  So a process is a runit
 * service's only when the whole chain is root's: its runsv is runit's
 * runsv binary (by (device, inode), never by name) running with every id
 * 0; runsv's parent is runit's runsvdir, also root's, started by init
 * (its parent is PID 1) or by the system's service manager (its cgroup is
 * a system unit's); and the service directory and its supervise/ are
 * root's and not writable by others, with no link on the way that
 * anybody but root made.  Anything else is a plain program of its owner.
 *
 * The binaries are runit's at the usual places, root's and not writable
 * by others; an upgraded one still running shows as "PATH (deleted)" and
 * counts when its inode is root's and PATH is one of those places.
 */
#define _GNU_SOURCE
#include "svc_runit.h"
#include "safe_path.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *const bin_dirs[] = { "/usr/bin", "/usr/sbin", "/bin",
                                        "/sbin" };

/* 1 when the executable of the process at procfd is runit's prog. */
static int is_binary(int procfd, const char *prog) {
  char link[RM_PATH_MAX], path[64];
  struct stat exe, st;
  ssize_t n;
  size_t i;
  if (fstatat(procfd, "exe", &exe, 0) != 0 || !S_ISREG(exe.st_mode) ||
      exe.st_uid != 0 || (exe.st_mode & (S_IWGRP | S_IWOTH)))
    return 0;
  n = readlinkat(procfd, "exe", link, sizeof link - 1);
  link[n > 0 ? n : 0] = 0;
  for (i = 0; i < sizeof bin_dirs / sizeof *bin_dirs; i++) {
    snprintf(path, sizeof path, "%s/%s", bin_dirs[i], prog);
    if (stat(path, &st) == 0 && S_ISREG(st.st_mode) && st.st_uid == 0 &&
        !(st.st_mode & (S_IWGRP | S_IWOTH)) && st.st_dev == exe.st_dev &&
        st.st_ino == exe.st_ino)
      return 1;
    /* Replaced by an upgrade while it runs. */
    if (strncmp(link, path, strlen(path)) == 0 &&
        strcmp(link + strlen(path), " (deleted)") == 0)
      return 1;
  }
  return 0;
}

/* 1 when every id of the process at procfd is 0. */
static int all_root(int procfd) {
  char status[8192];
  rm__creds c;
  int i;
  if (rm__linux_read_small(procfd, "status", status, sizeof status) <= 0 ||
      rm__linux_parse_creds(status, &c) != 0)
    return 0;
  for (i = 0; i < 4; i++)
    if (c.uid[i] != 0) return 0;
  return 1;
}

static int open_proc(uint32_t pid) {
  char path[32];
  snprintf(path, sizeof path, "/proc/%u", (unsigned)pid);
  return open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
}

/* The parent pid of the process at procfd, 0 when unreadable. */
static uint32_t parent_of(int procfd) {
  rm__pstat st;
  return rm__linux_read_stat(procfd, 0, &st) == 0 && st.ppid > 0
             ? (uint32_t)st.ppid
             : 0;
}

/* The system's runsvdir: runit's, root's, and started by init or by the
 * system's service manager. */
static int system_runsvdir(uint32_t pid) {
  char cgroup[16384], unit[RM_MAX_SVC_NAME + 1];
  int fd = open_proc(pid), ok;
  if (fd < 0) return 0;
  ok = is_binary(fd, "runsvdir") && all_root(fd);
  if (ok && parent_of(fd) != 1)
    ok = access("/run/systemd/system", F_OK) == 0 &&
         rm__linux_read_small(fd, "cgroup", cgroup, sizeof cgroup) > 0 &&
         rm__linux_unit_of_cgroup_text(cgroup, unit, sizeof unit);
  close(fd);
  return ok;
}

void rm__runit_close_dir(rm__runit_dir *d) {
  if (d->dir_fd >= 0) close(d->dir_fd);
  if (d->sup_fd >= 0) close(d->sup_fd);
  d->dir_fd = d->sup_fd = -1;
}

int rm__runit_open_dir(const char *path, rm__runit_dir *d) {
  char proc[32];
  struct stat st;
  ssize_t n;
  d->dir_fd = d->sup_fd = -1;
  if (path[0] != '/') return -1;
  d->dir_fd = rm__linux_walk(AT_FDCWD, path, 0, RM_WALK_STRICT, &st);
  if (d->dir_fd < 0 || !S_ISDIR(st.st_mode)) goto refused;
  d->sup_fd = rm__linux_walk(d->dir_fd, "supervise", 0, RM_WALK_STRICT, &st);
  if (d->sup_fd < 0 || !S_ISDIR(st.st_mode)) goto refused;
  /* The path with root's links resolved: check runs there. */
  snprintf(proc, sizeof proc, "/proc/self/fd/%d", d->dir_fd);
  n = readlink(proc, d->path, sizeof d->path - 1);
  if (n <= 0 || d->path[0] != '/') goto refused;
  d->path[n] = 0;
  return 0;
refused:
  rm__runit_close_dir(d);
  return -1;
}

/* The service directory of the runsv at procfd, checked; 0 and fills d. */
static int runsv_dir(int procfd, rm__runit_dir *d) {
  char cwd[RM_PATH_MAX];
  struct stat was, now;
  ssize_t n = readlinkat(procfd, "cwd", cwd, sizeof cwd - 1);
  if (n <= 0) return -1;
  cwd[n] = 0;
  if (fstatat(procfd, "cwd", &was, 0) != 0 || rm__runit_open_dir(cwd, d) != 0)
    return -1;
  /* The path still names the directory runsv works in. */
  if (fstat(d->dir_fd, &now) != 0 || now.st_dev != was.st_dev ||
      now.st_ino != was.st_ino) {
    rm__runit_close_dir(d);
    return -1;
  }
  return 0;
}

int rm__runit_system_runsv(uint32_t pid, char *name, size_t cap,
                           rm__runit_dir *d) {
  rm__runit_dir dir;
  const char *base;
  uint32_t parent;
  int fd = open_proc(pid), ok;
  if (fd < 0) return 0;
  ok = is_binary(fd, "runsv") && all_root(fd) &&
       (parent = parent_of(fd)) > 1 && system_runsvdir(parent) &&
       parent_of(fd) == parent &&            /* still that runsvdir's */
       runsv_dir(fd, &dir) == 0;
  close(fd);
  if (!ok) return 0;
  base = strrchr(dir.path, '/') + 1;
  if (!*base || strlen(base) >= cap || strlen(base) > RM_MAX_SVC_NAME ||
      !rm__valid_service_name(base)) {
    rm__runit_close_dir(&dir);
    return 0;
  }
  memcpy(name, base, strlen(base) + 1);
  if (d) *d = dir;
  else rm__runit_close_dir(&dir);
  return 1;
}

int rm__runit_find_runsv(const char *name, rm__runit_dir *d) {
  DIR *dir = opendir("/proc");
  struct dirent *e;
  int found = 0;
  if (!dir) return 0;
  while (!found && (e = readdir(dir)) != NULL) {
    char got[RM_MAX_SVC_NAME + 1], comm[32];
    char *end;
    unsigned long pid = strtoul(e->d_name, &end, 10);
    int fd;
    ssize_t n;
    if (*end || pid == 0) continue;
    /* The name only as a cheap filter; the check is by identity. */
    fd = open_proc((uint32_t)pid);
    if (fd < 0) continue;
    n = rm__linux_read_once(fd, "comm", comm, sizeof comm);
    close(fd);
    if (n <= 0 || strcmp(comm, "runsv\n") != 0) continue;
    if (rm__runit_system_runsv((uint32_t)pid, got, sizeof got, d)) {
      if (strcmp(got, name) == 0) found = 1;
      else rm__runit_close_dir(d);
    }
  }
  closedir(dir);
  return found;
}
