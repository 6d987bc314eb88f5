/* SPDX-License-Identifier: MIT */
/*
 * bench_cycle.c: the whole upgrade cycle as an installer pays for it
 * (rm_bench_list's cycle tables, docs/performance.md).
 *
 * For N cooperative applications (this program's --app mode: holds one
 * file, exits at SIGTERM), each holding its own registered file, a
 * separate process (--cycle) times every phase of one cycle:
 * rm_start_session, rm_register_resources, the two-call rm_get_list
 * loop, rm_shutdown, rm_restart, rm_end_session.  The same N apps are
 * then run as runit services (a runsvdir this program starts over a temp
 * dir on tmpfs, as root and re-parented to init as the system's is, SVDIR
 * pointing there) and cycled the same way.  Medians of the
 * runs, one row per N, and the slope per app of shutdown and restart
 * (the restart's cost in settle times: restarting is launching, then one
 * settle time for all).
 *
 * The apps rm_restart relaunches are not our children at first; this
 * program is a child subreaper, so they come to it when their launcher
 * exits, and it ends and reaps them (by pid, as its own children) after
 * each table.
 */
#define _GNU_SOURCE
#include "bench.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

#define SETTLE_MS 200.0          /* the library's default settle time */
#define PHASES 6                 /* start, register, loop, shutdown,
                                    restart, end */

/* {===== The modes that run in other processes */

/* --app FILE: holds FILE open, says "ready" on stdout, waits for a
 * signal (SIGTERM ends it at once: a cooperative app). */
int app_main(int n, char **files) {
  int fd;
  if (n != 1) return 2;
  fd = open(files[0], O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 1;
  if (write(1, "ready\n", 6) < 0) {}
  for (;;) pause();
}

/* --cycle FILE...: one whole cycle; prints the ms of each phase, the
 * entries listed and the code of each call. */
int cycle_main(int n, char **files) {
  double t[PHASES + 1];
  rm_process_info *infos = NULL;
  unsigned needed = 0, count = 0;
  uint32_t h, reasons, rc[PHASES];
  char key[RM_SESSION_KEY_CHARS + 1];
  int i;
  t[0] = now_ms();
  rc[0] = rm_start_session(&h, 0, key);
  t[1] = now_ms();
  rc[1] = rm_register_resources(h, (unsigned)n, (const char *const *)files,
                                0, NULL, 0, NULL);
  t[2] = now_ms();
  while ((rc[2] = rm_get_list(h, &needed, &count, infos, &reasons)) ==
         RM_ERROR_MORE_DATA) {
    free(infos);
    infos = calloc(needed + 1, sizeof *infos);
    if (!infos) return 1;
    count = needed;
  }
  t[3] = now_ms();
  rc[3] = rm_shutdown(h, 0, NULL, NULL);
  t[4] = now_ms();
  rc[4] = rm_restart(h, 0, NULL, NULL);
  t[5] = now_ms();
  rc[5] = rm_end_session(h);
  t[6] = now_ms();
  for (i = 0; i < PHASES; i++) printf("%.3f ", t[i + 1] - t[i]);
  printf("%u", count);
  for (i = 0; i < PHASES; i++) printf(" %u", (unsigned)rc[i]);
  printf("\n");
  free(infos);
  return 0;
}

/* }=====
 * {===== Setting up the apps */

static pid_t runsvdir_pid;             /* init's child, not ours */
static char runsvdir_start[32];        /* its start time (stat field 22) */
static char runit_dir[4200];           /* its directory, "" when none */
static long runit_services;
static void cycle_stop_runit(void);

/* The start time of pid from /proc/PID/stat into out[32]; 0 or -1. */
static int start_time_of(pid_t pid, char *out, long *ppid) {
  char path[64], buf[1024], *p;
  int field;
  FILE *f;
  snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
  f = fopen(path, "r");
  if (!f) return -1;
  if (!fgets(buf, sizeof buf, f)) buf[0] = 0;
  fclose(f);
  p = strrchr(buf, ')');
  if (!p) return -1;
  /* p + 2 is field 3 (state); field 4 the parent, 22 the start time. */
  for (p += 2, field = 3; field < 22 && p; field++) {
    if (field == 4) *ppid = strtol(p, NULL, 10);
    p = strchr(p, ' ');
    if (p) p++;
  }
  if (!p) return -1;
  snprintf(out, 32, "%.*s", (int)strcspn(p, " "), p);
  return 0;
}

/* "DIR/cycle/fNNNN" */
static void cycle_file(char *buf, size_t cap, long i) {
  snprintf(buf, cap, "%s/cycle/f%04ld", work_dir, i);
}

/* N apps as our children, each in its own session (no terminal), each
 * holding its file; waits for every "ready". */
static void start_apps(long n, char **files) {
  char self[4096];
  long i;
  beside_me(self, sizeof self, "rm_bench_list");
  for (i = 0; i < n; i++) {
    int out[2];
    char line[16];
    pid_t pid;
    if (pipe2(out, O_CLOEXEC) != 0) die("pipe");
    pid = fork();
    if (pid < 0) die("fork");
    if (pid == 0) {
      int null_fd = open("/dev/null", O_RDWR);
      setsid();
      dup2(null_fd, 0);
      dup2(out[1], 1);
      dup2(null_fd, 2);
      execl(self, self, "--app", files[i], (char *)NULL);
      _exit(127);
    }
    close(out[1]);
    if (read(out[0], line, sizeof line) <= 0) die("an app did not start");
    close(out[0]);
  }
}

/* N runit services sNNNN under DIR/sv, each running --app on its file,
 * supervised by a runsvdir of ours; waits until every one runs. */
static void start_services(long n, char **files, char *svdir, size_t cap) {
  char self[4096], path[4400], script[8800];
  long i, waited;
  beside_me(self, sizeof self, "rm_bench_list");
  /* On tmpfs where there is one: runsv rewrites supervise/ at every
   * change (write, rename), which on a disk file system waits for
   * writeback; Debian's runit keeps supervise/ in /run/runit. */
  snprintf(svdir, cap, "%s/sv", shm_dir[0] ? shm_dir : work_dir);
  if (mkdir(svdir, 0700) != 0 && errno != EEXIST) die(svdir);
  for (i = 0; i < n; i++) {
    snprintf(path, sizeof path, "%s/s%04ld", svdir, i);
    if (mkdir(path, 0700) != 0) die(path);
    snprintf(path, sizeof path, "%s/s%04ld/run", svdir, i);
    snprintf(script, sizeof script, "#!/bin/sh\nexec %s --app %s\n", self,
             files[i]);
    {
      FILE *f = fopen(path, "w");
      if (!f || fputs(script, f) < 0 || fclose(f) != 0) die(path);
    }
    if (chmod(path, 0700) != 0) die(path);
  }
  /* As the system runs it: root's, a child of init (only such a
   * runsvdir's services are services, docs/security.md, "Services").  We
   * are a child subreaper, so the double fork re-parents it to init only
   * while we are not one. */
  {
    int p[2];
    long ppid = 0;
    pid_t mid;
    if (pipe2(p, O_CLOEXEC) != 0) die("pipe");
    prctl(PR_SET_CHILD_SUBREAPER, 0);
    mid = fork();
    if (mid < 0) die("fork");
    if (mid == 0) {
      pid_t c;
      setsid();
      c = fork();
      if (c == 0) {
        int null_fd = open("/dev/null", O_RDWR);
        dup2(null_fd, 0);
        dup2(null_fd, 1);
        dup2(null_fd, 2);
        execl("/usr/bin/runsvdir", "runsvdir", svdir, (char *)NULL);
        _exit(127);
      }
      if (write(p[1], &c, sizeof c) != (ssize_t)sizeof c) _exit(1);
      _exit(0);
    }
    close(p[1]);
    if (read(p[0], &runsvdir_pid, sizeof runsvdir_pid) !=
        (ssize_t)sizeof runsvdir_pid)
      runsvdir_pid = 0;
    close(p[0]);
    while (waitpid(mid, NULL, 0) < 0 && errno == EINTR) {}
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    if (runsvdir_pid <= 0 ||
        start_time_of(runsvdir_pid, runsvdir_start, &ppid) != 0)
      die("runsvdir did not start");
    snprintf(runit_dir, sizeof runit_dir, "%s", svdir);
    runit_services = n;
    cleanup_hook = cycle_stop_runit;
    if (ppid != 1) {
      errno = EPERM;
      die("runsvdir is not init's child (a subreaper above this bench?)");
    }
  }
  /* Up, and past runsv's one-second pause for young services. */
  for (waited = 0, i = 0; i < n && waited < 20000;) {
    char stat[16] = "";
    FILE *f;
    snprintf(path, sizeof path, "%s/s%04ld/supervise/stat", svdir, i);
    f = fopen(path, "r");
    if (f) {
      if (!fgets(stat, sizeof stat, f)) stat[0] = 0;
      fclose(f);
    }
    if (strncmp(stat, "run", 3) == 0) {
      i++;
      continue;
    }
    usleep(20000);
    waited += 20;
  }
  if (i < n) {
    errno = ETIMEDOUT;
    die("runit services did not come up");
  }
  usleep(1200000);
}

/* Ends our runsvdir by pid once its start time says it is still ours
 * (SIGHUP: it sends TERM to every runsv, which stops its service and
 * exits), and waits (bounded) until every runsv has let go of its
 * supervise/lock. */
static void cycle_stop_runit(void) {
  char now[32], path[4400];
  long ppid = 0, i, waited;
  if (runsvdir_pid <= 0) return;
  if (start_time_of(runsvdir_pid, now, &ppid) == 0 &&
      strcmp(now, runsvdir_start) == 0)
    kill(runsvdir_pid, SIGHUP);
  for (waited = 0; waited < 10000; waited += 20) {
    if (start_time_of(runsvdir_pid, now, &ppid) != 0 ||
        strcmp(now, runsvdir_start) != 0)
      break;
    usleep(20000);
  }
  runsvdir_pid = 0;
  for (i = 0, waited = 0; i < runit_services && waited < 10000;) {
    int fd;
    snprintf(path, sizeof path, "%s/s%04ld/supervise/lock", runit_dir, i);
    fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB) == 0) {
      if (fd >= 0) close(fd);
      i++;
      continue;
    }
    close(fd);
    usleep(20000);
    waited += 20;
  }
  runit_services = 0;
}

/* Ends runit's processes, then every child we adopted, and reaps them
 * all. */
static void stop_all(void) {
  char path[64], buf[65536];
  int fd, round;
  cycle_stop_runit();
  for (round = 0; round < 50; round++) {
    ssize_t got;
    long pid;
    char *p, *end;
    pid_t r;
    while ((r = waitpid(-1, NULL, WNOHANG)) > 0) {}
    snprintf(path, sizeof path, "/proc/self/task/%ld/children",
             (long)getpid());
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) break;
    got = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (got <= 0) break;
    buf[got] = 0;
    for (p = buf; (pid = strtol(p, &end, 10)) > 0; p = end)
      kill((pid_t)pid, SIGKILL);        /* our own children: never reused */
    usleep(20000);
  }
  while (waitpid(-1, NULL, WNOHANG) > 0) {}
}

/* }=====
 * {===== Timing */

/* Runs argv (stdout captured into out) as a separate process; its wall
 * ms.  0 on success. */
static int run_capture(char *const argv[], char *const envp[], char *out,
                       size_t cap, double *wall) {
  posix_spawn_file_actions_t fa;
  size_t len = 0;
  pid_t pid;
  int p[2], status;
  double t0 = now_ms();
  if (pipe(p) != 0) die("pipe");
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&fa, p[1], 1);
  posix_spawn_file_actions_addclose(&fa, p[0]);
  posix_spawn_file_actions_addclose(&fa, p[1]);
  if (posix_spawn(&pid, argv[0], &fa, NULL, argv, envp) != 0) die("spawn");
  posix_spawn_file_actions_destroy(&fa);
  close(p[1]);
  for (;;) {
    ssize_t got = read(p[0], out + len, cap - 1 - len);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) break;
    len += (size_t)got;
    if (len + 1 >= cap) break;
  }
  out[len] = 0;
  close(p[0]);
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
  *wall = now_ms() - t0;
  return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

typedef struct cycle_row {
  double phase[PHASES], whole;
  long listed;
  int failed;
} cycle_row;

/* runs cycles of the N apps (or services) on files; medians into row. */
static void time_cycles(long n, char **files, char **envp, long runs,
                        int services, cycle_row *row) {
  char self[4096], out[512];
  char **argv = calloc((size_t)n + 3, sizeof *argv);
  double ph[PHASES][MAX_RUNS], whole[MAX_RUNS];
  long k, i;
  if (!argv) die("calloc");
  beside_me(self, sizeof self, "rm_bench_list");
  argv[0] = self;
  argv[1] = (char *)(uintptr_t)"--cycle";
  for (i = 0; i < n; i++) argv[2 + i] = files[i];
  memset(row, 0, sizeof *row);
  for (k = 0; k < runs; k++) {
    unsigned code[PHASES], listed = 0;
    double v[PHASES];
    check_interrupt();
    if (run_capture(argv, envp, out, sizeof out, &whole[k]) != 0 ||
        sscanf(out, "%lf %lf %lf %lf %lf %lf %u %u %u %u %u %u %u", &v[0],
               &v[1], &v[2], &v[3], &v[4], &v[5], &listed, &code[0],
               &code[1], &code[2], &code[3], &code[4], &code[5]) != 13) {
      row->failed = 1;
      break;
    }
    for (i = 0; i < PHASES; i++) {
      ph[i][k] = v[i];
      if (code[i] != RM_OK) row->failed = 1;
    }
    row->listed = (long)listed;
    if (listed != (unsigned)n) row->failed = 1;
    while (waitpid(-1, NULL, WNOHANG) > 0) {}   /* the stopped apps */
    if (services) usleep(1100000);   /* runsv pauses young services 1 s */
  }
  if (!row->failed) {
    for (i = 0; i < PHASES; i++) row->phase[i] = median(ph[i], runs);
    row->whole = median(whole, runs);
  }
  free(argv);
}

/* }===== */

void cycle_tables(long runs) {
  static const long counts[] = { 1, 20, 100 };
  enum { N_COUNTS = sizeof counts / sizeof *counts };
  cycle_row rows[2][N_COUNTS];
  char *files[100], dir[4200], svdir[4200], env_svdir[4300];
  char **envp = environment(NULL), **env_runit;
  int services;
  size_t c;
  long i, last = N_COUNTS - 1;
  snprintf(dir, sizeof dir, "%s/cycle", work_dir);
  if (mkdir(dir, 0755) != 0) die(dir);
  for (i = 0; i < 100; i++) {
    char buf[4300];
    int fd;
    cycle_file(buf, sizeof buf, i);
    fd = open(buf, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) die(buf);
    close(fd);
    if (!(files[i] = strdup(buf))) die("strdup");
  }
  snprintf(env_svdir, sizeof env_svdir, "SVDIR=%s/sv",
           shm_dir[0] ? shm_dir : work_dir);
  env_runit = environment(env_svdir);
  printf("\nThe whole cycle, N cooperative apps each holding its own "
         "registered file (each run a separate process: start, register, "
         "two-call list loop, shutdown, restart, end; median of %ld runs; "
         "settle time %.0f ms):\n", runs, SETTLE_MS);
  for (services = 0; services < 2; services++) {
    printf("  %-14s %5s %8s %8s %8s %8s %8s %8s %8s %8s\n",
           services ? "runit services" : "plain apps", "N", "start",
           "register", "loop", "shutdown", "restart", "end", "process",
           "restart/");
    printf("  %-14s %5s %8s %8s %8s %8s %8s %8s %8s %8s\n", "", "", "ms",
           "ms", "ms", "ms", "ms", "ms", "ms", "settle");
    for (c = 0; c < N_COUNTS; c++) {
      cycle_row *r = &rows[services][c];
      if (services) start_services(counts[c], files, svdir, sizeof svdir);
      else start_apps(counts[c], files);
      time_cycles(counts[c], files, services ? env_runit : envp, runs,
                  services, r);
      stop_all();
      if (services) {
        for (i = 0; i < counts[c]; i++) {
          char path[4400];
          snprintf(path, sizeof path, "%s/s%04ld", svdir, i);
          remove_tree(path);
        }
      }
      if (r->failed) {
        printf("  %-14s %5ld   FAILED (a call did not return RM_OK or did "
               "not list %ld)\n", "", counts[c], counts[c]);
        continue;
      }
      printf("  %-14s %5ld %8.1f %8.1f %8.1f %8.1f %8.1f %8.1f %8.1f %8.2f\n",
             "", counts[c], r->phase[0], r->phase[1], r->phase[2],
             r->phase[3], r->phase[4], r->phase[5], r->whole,
             r->phase[4] / SETTLE_MS);
    }
    if (!rows[services][0].failed && !rows[services][last].failed)
      printf("  %-14s slope 1 -> %ld: shutdown %.2f ms per app, restart "
             "%.2f ms per app (target: slowest app + a constant)\n", "",
             counts[last],
             (rows[services][last].phase[3] - rows[services][0].phase[3]) /
                 (double)(counts[last] - 1),
             (rows[services][last].phase[4] - rows[services][0].phase[4]) /
                 (double)(counts[last] - 1));
  }
  if (!rows[0][1].failed)
    printf("  restart of 20 apps: %.2f settle times (target <= 2); ",
           rows[0][1].phase[4] / SETTLE_MS);
  if (!rows[0][2].failed)
    printf("of 100: %.2f (target <= 3)\n", rows[0][2].phase[4] / SETTLE_MS);
  for (i = 0; i < 100; i++) free(files[i]);
  free(envp);
  free(env_runit);
}

/* `restartmgr stale` (the command from this tree), needrestart's batch
 * mode (libraries only, list only) and checkrestart, on the machine as it
 * is (the reference holders keep replaced pool files mapped), each a
 * separate process, round-robin. */
void stale_table(long runs) {
  static const char *const names[] = {
    "restartmgr stale", "needrestart -b -r l -l", "checkrestart"
  };
  static char cpath[4400], lpath[4400], script[4400];
  char *argv[3][8];
  char **envp;
  contender t[3];
  long k;
  int i;
  snprintf(cpath, sizeof cpath, "LUA_CPATH_5_4=%s/lua/?.so;;",
           RM_BENCH_BINARY_DIR);
  snprintf(lpath, sizeof lpath, "LUA_PATH_5_4=%s/lua/?.lua;;",
           RM_BENCH_SOURCE_DIR);
  snprintf(script, sizeof script, "%s/lua/cli/restartmgr",
           RM_BENCH_SOURCE_DIR);
  envp = environment(cpath);
  {
    /* environment() replaces one variable; add the other by hand. */
    size_t n = 0;
    char **more;
    while (envp[n]) n++;
    more = realloc(envp, (n + 2) * sizeof *more);
    if (!more) die("realloc");
    envp = more;
    envp[n] = lpath;
    envp[n + 1] = NULL;
  }
  memset(argv, 0, sizeof argv);
  argv[0][0] = (char *)(uintptr_t)"lua5.4";
  argv[0][1] = script;
  argv[0][2] = (char *)(uintptr_t)"stale";
  argv[1][0] = (char *)(uintptr_t)"needrestart";
  argv[1][1] = (char *)(uintptr_t)"-b";
  argv[1][2] = (char *)(uintptr_t)"-r";
  argv[1][3] = (char *)(uintptr_t)"l";
  argv[1][4] = (char *)(uintptr_t)"-l";
  argv[2][0] = (char *)(uintptr_t)"checkrestart";
  memset(t, 0, sizeof t);
  for (i = 0; i < 3; i++) {
    double w, cpu;
    t[i].label = names[i];
    t[i].argv = argv[i];
    t[i].envp = i == 0 ? envp : environ;
    t[i].missing = run_tool(t[i].argv, t[i].envp, &w, &cpu, &t[i].found) != 0;
  }
  for (k = 0; k < runs; k++) {
    check_interrupt();
    for (i = 0; i < 3; i++)
      if (!t[i].missing &&
          run_tool(t[i].argv, t[i].envp, &t[i].wall[k], &t[i].cpu[k],
                   &t[i].found) != 0)
        t[i].missing = 1;
  }
  printf("\nStale processes after an upgrade (the reference holders map "
         "replaced files), each a separate process, median of %ld "
         "round-robin runs:\n", runs);
  printf("  %-38s %8s %8s %8s\n", "", "wall ms", "CPU ms", "vs rm");
  for (i = 0; i < 3; i++) {
    if (t[i].missing) {
      printf("  %-38s %8s\n", t[i].label, "not installed or failed");
      continue;
    }
    printf("  %-38s %8.1f %8.1f %8.2f\n", t[i].label,
           median(t[i].wall, runs), median(t[i].cpu, runs),
           t[0].missing ? 0.0
                        : median(t[i].wall, runs) / median(t[0].wall, runs));
  }
  free(envp);
}
