/* SPDX-License-Identifier: MIT */
/*
 * launch.c: rm__os_capture, what it takes to start an application again,
 * read before it is stopped (relaunch.c starts it).
 *
 * Capture reads /proc/PID/{stat,cmdline,environ,cwd,exe,status} through
 * one directory fd opened on /proc/PID, after checking the start time
 * through that same fd: if the pid was recycled the reads fail or the
 * check does, so what is captured is always the recorded process's.  It
 * keeps the executable's path (without a " (deleted)" mark) and inode,
 * the credentials from "Uid:", "Gid:" and "Groups:" (refused when real,
 * effective, saved and filesystem ids differ), its context (context.c:
 * limits, nice, umask, ..., its cgroup and stdout/stderr files), and,
 * when the process has
 * a restart registration, that command and directory instead of its own
 * command line (which a daemon may have rewritten).
 */
#define _GNU_SOURCE
#include "linux.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>


/* {===== Capture */

/* Splits NUL-separated strings into a NULL-terminated vector. */
static char **split_nul(const char *buf, size_t len) {
  size_t count = 0, i, k = 0;
  char **v;
  for (i = 0; i < len; i++)
    if (buf[i] == 0) count++;
  if (len > 0 && buf[len - 1] != 0) count++;
  v = calloc(count + 1, sizeof *v);
  if (!v) return NULL;
  for (i = 0; i < len && k < count; k++) {
    v[k] = rm__strdup(buf + i);
    if (!v[k]) {
      rm__argv_free(v);
      return NULL;
    }
    i += strlen(buf + i) + 1;
  }
  return v;
}

uint32_t rm__os_capture(const rm_unique_process *p, const rm__restart_reg *reg,
                        rm__launch *out) {
  char path[32], cwd[RM_PATH_MAX + 16], exe[RM_PATH_MAX + 16], status[8192];
  char *cmd = NULL, *env = NULL;
  size_t cmd_len = 0, env_len = 0;
  struct stat exe_st;
  ssize_t n;
  rm__creds creds;
  rm__launch l;
  uint32_t rc;
  int dirfd, have_exe = 0;

  memset(&l, 0, sizeof l);
  snprintf(path, sizeof path, "/proc/%u", (unsigned)p->pid);
  dirfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dirfd < 0) return RM_ERROR_FILE_NOT_FOUND;
  if (!rm__linux_same_identity(dirfd, p)) {
    close(dirfd);
    return RM_ERROR_FILE_NOT_FOUND;
  }
  rc = rm__linux_read_whole(dirfd, "cmdline", SIZE_MAX, &cmd, &cmd_len);
  if (rc == RM_OK && cmd_len == 0 && !reg) rc = RM_ERROR_FILE_NOT_FOUND;
  if (rc == RM_OK)
    rc = rm__linux_read_whole(dirfd, "environ", SIZE_MAX, &env, &env_len);
  if (rc == RM_OK) {
    n = readlinkat(dirfd, "cwd", cwd, sizeof cwd - 1);
    if (n < 0)
      rc = errno == EACCES || errno == EPERM ? RM_ERROR_ACCESS_DENIED
                                             : RM_ERROR_FILE_NOT_FOUND;
    else
      cwd[n] = 0;
  }
  if (rc == RM_OK && !reg) {
    n = readlinkat(dirfd, "exe", exe, sizeof exe - 1);
    if (n > 0 && fstatat(dirfd, "exe", &exe_st, 0) == 0) {
      exe[n] = 0;
      rm__linux_strip_deleted(exe);
      have_exe = exe[0] == '/';
    }
    if (!have_exe) rc = RM_ERROR_FILE_NOT_FOUND;
  }
  /* The credentials must be uniform (restartable.c): a process with
   * mixed ids has no one user to start it as. */
  if (rc == RM_OK &&
      (rm__linux_read_small(dirfd, "status", status, sizeof status) <= 0 ||
       rm__linux_parse_creds(status, &creds) != 0))
    rc = RM_ERROR_FILE_NOT_FOUND;
  if (rc == RM_OK && !rm__linux_creds_uniform(&creds))
    rc = RM_ERROR_ACCESS_DENIED;
  /* Its context (context.c): what a confinement that cannot be
   * reproduced refuses here too, should it have changed since the list. */
  if (rc == RM_OK)
    rc = rm__linux_capture_context(dirfd, p->pid, status, &l.ctx);
  /* Everything read through dirfd belongs to the process it was opened
   * on; make sure that is still the recorded one. */
  if (rc == RM_OK && !rm__linux_same_identity(dirfd, p)) rc = RM_ERROR_FILE_NOT_FOUND;
  close(dirfd);
  if (rc == RM_OK) {
    l.uid = creds.uid[0];
    l.gid = creds.gid[0];
    l.envp = split_nul(env, env_len);
    if (reg) {
      struct stat st;
      l.argv = rm__argv_dup(reg->argv);
      l.cwd = rm__strdup(reg->cwd ? reg->cwd : cwd);
      l.exe = rm__strdup(reg->argv[0]);
      if (stat(reg->argv[0], &st) == 0) {
        l.exe_id.dev = (uint64_t)st.st_dev;
        l.exe_id.ino = (uint64_t)st.st_ino;
      }
      l.notes = RM_RESTART_NOTE_REGISTERED;
    } else {
      l.argv = split_nul(cmd, cmd_len);
      l.cwd = rm__strdup(cwd);
      l.exe = rm__strdup(exe);
      l.exe_id.dev = (uint64_t)exe_st.st_dev;
      l.exe_id.ino = (uint64_t)exe_st.st_ino;
    }
    if (creds.n_groups) {
      l.groups = malloc(creds.n_groups * sizeof *l.groups);
      if (l.groups) {
        memcpy(l.groups, creds.groups, creds.n_groups * sizeof *l.groups);
        l.n_groups = creds.n_groups;
      }
    }
    if (!l.argv || !l.envp || !l.cwd || !l.exe ||
        (creds.n_groups && !l.groups))
      rc = RM_ERROR_OUTOFMEMORY;
  }
  free(cmd);
  free(env);
  if (rc != RM_OK) {
    rm__launch_free(&l);
    return rc;
  }
  *out = l;
  return RM_OK;
}

