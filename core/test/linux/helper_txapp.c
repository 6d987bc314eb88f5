/* SPDX-License-Identifier: MIT */
/*
 * helper_txapp.c (rm_txapp): the demo application the transaction tests
 * upgrade.  Run as APPDIR/bin/app (a copy of this program, possibly with
 * bytes appended: an ELF file runs the same with a trailer), it
 *
 *   - opens and keeps open APPDIR/share/version, APPDIR/share/data and
 *     APPDIR/lib/libdemo (the files of its version);
 *   - writes "PID VERSION TRAILER" to REPORT atomically, where VERSION is
 *     the first line of share/version and TRAILER the last 8 bytes of its
 *     own executable, read through /proc/self/exe (so the test sees which
 *     files the running process really uses);
 *   - with --fail-on VERSION, exits 3 at once when it finds that version
 *     (an app that does not start with the new files);
 *   - with --ignore-term, ignores SIGTERM (an app that will not stop);
 *   - prints "ready" and waits for a signal.
 *
 * Usage: rm_txapp APPDIR REPORT [--fail-on VERSION] [--ignore-term]
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int hold(const char *dir, const char *name) {
  char path[4096];
  int fd;
  snprintf(path, sizeof path, "%s/%s", dir, name);
  fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    perror(path);
    exit(2);
  }
  return fd;
}

int main(int argc, char **argv) {
  char version[64] = "", trailer[9] = "", tmp[4200];
  int vfd, exe, i, fail = 0, ignore_term = 0;
  ssize_t n;
  FILE *f;
  if (argc < 3) return 2;
  for (i = 3; i < argc; i++) {
    if (strcmp(argv[i], "--fail-on") == 0 && i + 1 < argc) fail = i + 1, i++;
    else if (strcmp(argv[i], "--ignore-term") == 0) ignore_term = 1;
  }
  setsid();
  vfd = hold(argv[1], "share/version");
  (void)hold(argv[1], "share/data");
  (void)hold(argv[1], "lib/libdemo");
  n = pread(vfd, version, sizeof version - 1, 0);
  version[n > 0 ? n : 0] = 0;
  version[strcspn(version, "\n")] = 0;
  if (fail && strcmp(version, argv[fail]) == 0) return 3;
  exe = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
  if (exe >= 0) {
    off_t end = lseek(exe, 0, SEEK_END);
    if (end >= 8 && pread(exe, trailer, 8, end - 8) == 8) trailer[8] = 0;
    close(exe);
  }
  for (i = 0; i < 8; i++)
    if (trailer[i] < 0x21 || trailer[i] > 0x7e) trailer[i] = '.';
  snprintf(tmp, sizeof tmp, "%s.tmp", argv[2]);
  f = fopen(tmp, "w");
  if (!f) return 2;
  fprintf(f, "%ld %s %s\n", (long)getpid(), version, trailer);
  if (fclose(f) != 0 || rename(tmp, argv[2]) != 0) return 2;
  if (ignore_term) signal(SIGTERM, SIG_IGN);
  printf("ready\n");
  fflush(stdout);
  for (;;) pause();
}
