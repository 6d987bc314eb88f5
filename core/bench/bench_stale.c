/* SPDX-License-Identifier: MIT */
/*
 * bench_stale.c (rm_bench_stale): what hostile names cost rm_get_stale_list.
 *
 * A user's process maps N executable files with nasty names (newlines,
 * terminal escapes, backslashes, " (deleted)" and "/ (deleted)" inside,
 * bytes that are not UTF-8) and deletes them all: N stale mappings, each
 * proposing a name.  For N = 0, 1,000, 5,000 and 10,000 a whole process
 * (this program, --list) lists the stale processes, the way `restartmgr
 * stale` pays for it; the table prints the median wall and CPU time of a
 * few runs, the CPU time above the N = 0 run, that per
 * 1,000 names, and the cost per name as a ratio to its cost at N = 1,000:
 * about 1 at every N when the cost is linear (quadratic: 10 at 10,000).
 *
 * Run: build/<dir>/core/bench/rm_bench_stale [-q]   (-q: 1 run each)
 * As root the holder runs as uid 65532, as a user's process would.
 */
#define _GNU_SOURCE
#include "restartmgr.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define USER_UID 65532
#define RUNS 7

static char dir[256];

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* The i-th hostile name (in dir). */
static void hostile_name(char *buf, size_t cap, long i) {
  char sub[300];
  switch (i % 6) {
  case 0: snprintf(buf, cap, "%s/lib\n%ld\n.so", dir, i); break;
  case 1: snprintf(buf, cap, "%s/\033[31m%ld\033[0m.so", dir, i); break;
  case 2: snprintf(buf, cap, "%s/back\\slash\\%ld", dir, i); break;
  case 3: snprintf(buf, cap, "%s/x%ld (deleted)", dir, i); break;
  case 4:                                /* "/ (deleted)" in a directory */
    snprintf(sub, sizeof sub, "%s/%ld", dir, i);
    mkdir(sub, 0755);
    snprintf(buf, cap, "%s/ (deleted)", sub);
    break;
  default: snprintf(buf, cap, "%s/\xff\xfe%ld\xc3", dir, i); break;
  }
}

/* The holder: maps n hostile files executable, deletes them, says
 * "ready" on fd out, then waits for its stdin to close. */
static void holder(long n, int out) {
  long i;
  char name[512], c;
  for (i = 0; i < n; i++) {
    int fd;
    hostile_name(name, sizeof name, i);
    fd = open(name, O_RDWR | O_CREAT | O_TRUNC, 0755);
    if (fd < 0 || ftruncate(fd, 4096) != 0 ||
        mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE, fd, 0) ==
            MAP_FAILED ||
        unlink(name) != 0) {
      perror(name);
      _exit(2);
    }
    close(fd);
  }
  if (write(out, "r", 1) != 1) _exit(2);
  while (read(0, &c, 1) > 0) {}
  _exit(0);
}

/* --list: one stale list; prints the number of files of pid's entry. */
static int list_main(long pid) {
  rm_app_info *apps;
  unsigned n, i, files = 0;
  uint32_t reasons;
  if (rm_get_stale_list(&apps, &n, &reasons, NULL) != RM_OK) return 1;
  for (i = 0; i < n; i++)
    if ((long)apps[i].info.process.pid == pid) files = apps[i].n_files;
  printf("%u\n", files);
  rm_free_list(apps, n);
  return 0;
}

/* One whole-process list; its wall ms, its CPU ms (user + system) in
 * *cpu, and the files found for pid. */
static double timed_list(const char *self, long pid, long *found,
                         double *cpu) {
  struct rusage ru;
  int status;
  char arg[32], line[64] = "";
  int p[2];
  double t0, t1;
  pid_t child;
  FILE *f;
  snprintf(arg, sizeof arg, "%ld", pid);
  if (pipe(p) != 0) exit(1);
  t0 = now_ms();
  child = fork();
  if (child == 0) {
    dup2(p[1], 1);
    close(p[0]);
    close(p[1]);
    execl(self, self, "--list", arg, (char *)NULL);
    _exit(127);
  }
  close(p[1]);
  f = fdopen(p[0], "r");
  if (!f || !fgets(line, sizeof line, f)) line[0] = 0;
  if (f) fclose(f);
  wait4(child, &status, 0, &ru);
  t1 = now_ms();
  *cpu = (double)ru.ru_utime.tv_sec * 1e3 + (double)ru.ru_utime.tv_usec / 1e3 +
         (double)ru.ru_stime.tv_sec * 1e3 + (double)ru.ru_stime.tv_usec / 1e3;
  *found = strtol(line, NULL, 10);
  return t1 - t0;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static void remove_dir(void) {
  char cmd[400];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
}

int main(int argc, char **argv) {
  static const long sizes[] = { 0, 1000, 5000, 10000 };
  double base = 0, per1000 = 0;
  char self[4096];
  int runs = RUNS;
  size_t s;
  ssize_t len;
  if (argc == 3 && strcmp(argv[1], "--list") == 0)
    return list_main(strtol(argv[2], NULL, 10));
  if (argc == 2 && strcmp(argv[1], "-q") == 0) runs = 1;
  len = readlink("/proc/self/exe", self, sizeof self - 1);
  if (len <= 0) return 1;
  self[len] = 0;
  snprintf(dir, sizeof dir, "/tmp/rm-bench-stale.XXXXXX");
  if (!mkdtemp(dir) || chmod(dir, 0777) != 0) return 1;
  printf("rm_get_stale_list, whole process, one user process mapping N "
         "deleted files with hostile names (median of %d runs; CPU is the "
         "list process's user + system time, what load on the machine "
         "does not inflate)\n", runs);
  printf("%8s %9s %9s %13s %13s %8s %6s\n", "names", "wall ms", "CPU ms",
         "CPU above N=0", "per 1,000", "vs 1,000", "found");
  for (s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
    int ready[2], ctl[2], r;
    double t[RUNS], cpu[RUNS], med, med_cpu, extra;
    long found = 0;
    char c;
    pid_t h;
    if (pipe(ready) != 0 || pipe(ctl) != 0) return 1;
    h = fork();
    if (h == 0) {
      close(ready[0]);
      close(ctl[1]);
      dup2(ctl[0], 0);
      if (geteuid() == 0 &&
          (setgroups(0, NULL) != 0 || setresgid(USER_UID, USER_UID, USER_UID) ||
           setresuid(USER_UID, USER_UID, USER_UID)))
        _exit(2);
      holder(sizes[s], ready[1]);
    }
    close(ready[1]);
    close(ctl[0]);
    if (read(ready[0], &c, 1) != 1) {
      fprintf(stderr, "the holder failed\n");
      remove_dir();
      return 1;
    }
    for (r = 0; r < runs; r++)
      t[r] = timed_list(self, (long)h, &found, &cpu[r]);
    qsort(t, (size_t)runs, sizeof t[0], cmp_double);
    qsort(cpu, (size_t)runs, sizeof cpu[0], cmp_double);
    med = t[runs / 2];
    med_cpu = cpu[runs / 2];
    close(ctl[1]);
    waitpid(h, NULL, 0);
    close(ready[0]);
    if (sizes[s] == 0) base = med_cpu;
    extra = med_cpu - base;
    if (sizes[s] == 1000) per1000 = extra;
    if (sizes[s] == 0)
      printf("%8ld %9.1f %9.1f %13s %13s %8s %6ld\n", sizes[s], med, med_cpu,
             "-", "-", "-", found);
    else
      printf("%8ld %9.1f %9.1f %13.1f %13.2f %8.2f %6ld\n", sizes[s], med,
             med_cpu, extra, extra / ((double)sizes[s] / 1000.0),
             per1000 > 0 ? extra / ((double)sizes[s] / 1000.0) / per1000
                         : 0.0,
             found);
    fflush(stdout);
  }
  remove_dir();
  return 0;
}
