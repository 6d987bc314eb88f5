/* SPDX-License-Identifier: MIT */
/*
 * helper_restartee.c (rm_restartee): a process for the restart safety
 * tests.  Options, applied in order:
 *
 *   --as UID GID G1,G2,..   as root: setgroups, then setresgid, setresuid
 *                           (skipped when not root: a relaunch already is)
 *   --mixed UID             as root: setresuid(UID, 0, 0), mixed ids
 *   --open FILE             open FILE and keep it (inherited across exec)
 *   --env NAME=VALUE        put into the environment
 *   --register ARG... --    rm_register_application_restart(ARG...)
 *   --exec PROG ARGV0 ARG...  print "ready", then exec PROG with that
 *                           argv[0] and arguments (must come last)
 *
 * Without --exec it prints "ready" and sleeps until killed.  Failures
 * print "error: ..." and exit 2.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "restartmgr.h"

static void die(const char *what, const char *arg) {
  printf("error: %s %s: %s\n", what, arg ? arg : "", strerror(errno));
  fflush(stdout);
  exit(2);
}

static void become(const char *uid_s, const char *gid_s, const char *groups_s) {
  gid_t groups[64];
  size_t n = 0;
  const char *p = groups_s;
  uid_t uid = (uid_t)strtoul(uid_s, NULL, 10);
  gid_t gid = (gid_t)strtoul(gid_s, NULL, 10);
  if (geteuid() != 0) return;
  while (*p && n < 64) {
    char *end;
    groups[n++] = (gid_t)strtoul(p, &end, 10);
    p = *end == ',' ? end + 1 : end;
    if (end == p && *p) break;
  }
  if (setgroups(n, groups) != 0) die("setgroups", groups_s);
  if (setresgid(gid, gid, gid) != 0) die("setresgid", gid_s);
  if (setresuid(uid, uid, uid) != 0) die("setresuid", uid_s);
}

int main(int argc, char **argv) {
  int i;
  for (i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (strcmp(a, "--as") == 0 && i + 3 < argc) {
      become(argv[i + 1], argv[i + 2], argv[i + 3]);
      i += 3;
    } else if (strcmp(a, "--mixed") == 0 && i + 1 < argc) {
      if (setresuid((uid_t)strtoul(argv[i + 1], NULL, 10), 0, 0) != 0)
        die("setresuid", argv[i + 1]);
      i++;
    } else if (strcmp(a, "--open") == 0 && i + 1 < argc) {
      if (open(argv[i + 1], O_RDONLY) < 0) die("open", argv[i + 1]);
      i++;
    } else if (strcmp(a, "--env") == 0 && i + 1 < argc) {
      if (putenv(argv[i + 1]) != 0) die("putenv", argv[i + 1]);
      i++;
    } else if (strcmp(a, "--register") == 0) {
      const char **cmd = (const char **)(void *)(argv + i + 1);
      int k = i + 1;
      uint32_t rc;
      while (k < argc && strcmp(argv[k], "--") != 0) k++;
      if (k == argc) die("--register without --", NULL);
      argv[k] = NULL;
      rc = rm_register_application_restart(cmd, 0);
      if (rc != RM_OK) {
        printf("error: register: %s\n", rm_error_name(rc));
        return 2;
      }
      i = k;
    } else if (strcmp(a, "--exec") == 0 && i + 2 < argc) {
      printf("ready\n");
      fflush(stdout);
      execv(argv[i + 1], argv + i + 2);
      die("exec", argv[i + 1]);
    } else {
      errno = EINVAL;
      die("usage", a);
    }
  }
  printf("ready\n");
  fflush(stdout);
  for (;;) pause();
}
