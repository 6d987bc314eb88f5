/*
 * bench_list.c (rm_bench_list): how fast rm_get_list finds the users of
 * files, next to fuser and lsof on the same files, in one run (SPEC
 * section 7).
 *
 * It starts rm_bench_holders (built beside it): by default 500 processes
 * holding 40 files each from a pool of 2000 (8 of them mapped with the fd
 * closed; every 10th pool file replaced by a new inode once all hold
 * theirs).  It registers 100 pool files (10 of them replaced ones) and
 * times, interleaved run by run, `fuser FILES`, `lsof -n -w -t FILES` and
 * rm_get_list on those files, then prints medians and the ratios.  Then
 * how rm_get_list's cost grows with the number of processes (100 to
 * 1000) and with the number of registered files (10 to 1000 drawn from
 * the pool, so that more processes match; and 10 held files padded with
 * up to 10000 files nobody holds, which isolates the lookup cost).
 *
 *   rm_bench_list [-n PROCS] [-k FILES] [-m MAPPED] [-f POOL]
 *                 [-F REGISTERED] [-R RUNS] [-q]      (-q: no scaling)
 *
 * Every process it starts is ended and reaped, and its temp dir removed,
 * also on SIGINT and SIGTERM.
 */
#define _GNU_SOURCE
#include "restartmgr.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define MAX_RUNS 51

static char work_dir[4096];
static pid_t holders_pid;
static FILE *holders_out;
static volatile sig_atomic_t interrupted;

typedef struct config {
  long procs, per_proc, mapped, pool, registered, runs;
  int scaling;
} config;

/* {===== Housekeeping */

static int remove_entry(const char *path, const struct stat *st, int flag,
                        struct FTW *ftw) {
  (void)st; (void)flag; (void)ftw;
  (void)remove(path);       /* best effort: keep removing the rest */
  return 0;
}

static void stop_holders(void) {
  if (holders_pid > 0) {
    kill(holders_pid, SIGTERM);
    while (waitpid(holders_pid, NULL, 0) < 0 && errno == EINTR) {}
    holders_pid = 0;
  }
  if (holders_out) {
    fclose(holders_out);
    holders_out = NULL;
  }
}

static void cleanup(void) {
  stop_holders();
  if (work_dir[0]) nftw(work_dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
  work_dir[0] = 0;
}

static void on_signal(int sig) {
  (void)sig;
  interrupted = 1;
}

static void die(const char *what) {
  fprintf(stderr, "rm_bench_list: %s: %s\n", what, strerror(errno));
  cleanup();
  exit(1);
}

static void check_interrupt(void) {
  if (interrupted) {
    fprintf(stderr, "rm_bench_list: interrupted, cleaning up\n");
    cleanup();
    exit(130);
  }
}

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static double median(double *v, long n) {
  qsort(v, (size_t)n, sizeof *v, cmp_double);
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void pool_name(char *buf, size_t cap, long i) {
  snprintf(buf, cap, "%s/pool/f%05ld.so", work_dir, i);
}

/* }=====
 * {===== The workload */

/* The generator's path: beside this program. */
static void holders_path(char *buf, size_t cap) {
  ssize_t n = readlink("/proc/self/exe", buf, cap - 32);
  char *slash;
  if (n <= 0) die("readlink /proc/self/exe");
  buf[n] = 0;
  slash = strrchr(buf, '/');
  strcpy(slash ? slash + 1 : buf, "rm_bench_holders");
}

static void start_holders(const config *c, long procs) {
  char exe[4096], dir[4200], n[32], k[32], m[32], f[32], line[64];
  char *argv[16];
  int out[2];
  posix_spawn_file_actions_t fa;
  holders_path(exe, sizeof exe);
  snprintf(dir, sizeof dir, "%s/pool", work_dir);
  snprintf(n, sizeof n, "%ld", procs);
  snprintf(k, sizeof k, "%ld", c->per_proc);
  snprintf(m, sizeof m, "%ld", c->mapped);
  snprintf(f, sizeof f, "%ld", c->pool);
  argv[0] = exe;
  argv[1] = (char *)(uintptr_t)"-d"; argv[2] = dir;
  argv[3] = (char *)(uintptr_t)"-n"; argv[4] = n;
  argv[5] = (char *)(uintptr_t)"-k"; argv[6] = k;
  argv[7] = (char *)(uintptr_t)"-m"; argv[8] = m;
  argv[9] = (char *)(uintptr_t)"-f"; argv[10] = f;
  argv[11] = (char *)(uintptr_t)"-r"; argv[12] = (char *)(uintptr_t)"10";
  argv[13] = NULL;
  if (pipe(out) != 0) die("pipe");
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, out[1], 1);
  posix_spawn_file_actions_addclose(&fa, out[0]);
  posix_spawn_file_actions_addclose(&fa, out[1]);
  if (posix_spawn(&holders_pid, exe, &fa, NULL, argv, environ) != 0) {
    holders_pid = 0;
    die(exe);
  }
  posix_spawn_file_actions_destroy(&fa);
  close(out[1]);
  holders_out = fdopen(out[0], "r");
  if (!holders_out || !fgets(line, sizeof line, holders_out) ||
      strncmp(line, "ready", 5) != 0 || atol(line + 6) != procs) {
    errno = EIO;
    die("rm_bench_holders did not get ready");
  }
}

/* }=====
 * {===== The contestants */

static int cmp_long(const void *a, const void *b) {
  long x = *(const long *)a, y = *(const long *)b;
  return x < y ? -1 : x > y;
}

/* Runs argv with stdout captured; returns wall ms (-1 when it cannot
 * run) and the number of distinct pids it printed. */
static double run_tool(char *const argv[], long *n_pids) {
  static long pids[200000];
  long n = 0, i, distinct = 0;
  char buf[65536], num[32];
  size_t num_len = 0;
  posix_spawn_file_actions_t fa;
  pid_t pid;
  int out[2], status;
  double t0 = now_ms(), t1;
  if (pipe(out) != 0) die("pipe");
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&fa, out[1], 1);
  posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addclose(&fa, out[0]);
  posix_spawn_file_actions_addclose(&fa, out[1]);
  if (posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ) != 0) {
    posix_spawn_file_actions_destroy(&fa);
    close(out[0]);
    close(out[1]);
    return -1;
  }
  posix_spawn_file_actions_destroy(&fa);
  close(out[1]);
  for (;;) {                  /* pids: runs of digits in stdout */
    ssize_t got = read(out[0], buf, sizeof buf), k;
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) break;
    for (k = 0; k < got; k++) {
      if (buf[k] >= '0' && buf[k] <= '9') {
        if (num_len < sizeof num - 1) num[num_len++] = buf[k];
      } else if (num_len) {
        num[num_len] = 0;
        if (n < (long)(sizeof pids / sizeof *pids)) pids[n++] = atol(num);
        num_len = 0;
      }
    }
  }
  close(out[0]);
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
  t1 = now_ms();
  if (WIFEXITED(status) && WEXITSTATUS(status) == 127) return -1;
  qsort(pids, (size_t)n, sizeof *pids, cmp_long);
  for (i = 0; i < n; i++) distinct += i == 0 || pids[i] != pids[i - 1];
  *n_pids = distinct;
  return t1 - t0;
}

/* A session with these files registered. */
static uint32_t open_session(char **files, long n) {
  uint32_t h;
  char key[RM_SESSION_KEY_CHARS + 1];
  if (rm_start_session(&h, 0, key) != RM_OK) die("rm_start_session");
  if (rm_register_resources(h, (unsigned)n, (const char *const *)files, 0,
                            NULL, 0, NULL) != RM_OK)
    die("rm_register_resources");
  return h;
}

/* One rm_get_list call (the array is big enough for one call). */
static double time_list(uint32_t h, long *found) {
  static rm_process_info infos[20000];
  unsigned needed = 0, n = sizeof infos / sizeof *infos;
  uint32_t reasons = 0, rc;
  double t0 = now_ms(), t1;
  rc = rm_get_list(h, &needed, &n, infos, &reasons);
  t1 = now_ms();
  if (rc != RM_OK) {
    fprintf(stderr, "rm_get_list: %s\n", rm_error_name(rc));
    _exit(1);
  }
  *found = (long)n;
  return t1 - t0;
}

/* Times `runs` rm_get_list calls on these files, after one warm-up call,
 * with RESTARTMGR_SCAN_THREADS = threads (NULL: the default).  They run in
 * a child process: the holders are grandchildren of this program, and an
 * installer is not an ancestor of the applications it finds (the service
 * lookup walks each matched process's parents, which would otherwise
 * include the very process being timed).  Returns the median. */
static double list_in_child(char **files, long n, const char *threads,
                            long runs, long *found) {
  double t[MAX_RUNS];
  long got = 0;
  int out[2], status;
  pid_t pid;
  if (pipe(out) != 0) die("pipe");
  pid = fork();
  if (pid < 0) die("fork");
  if (pid == 0) {
    uint32_t h;
    long k, count;
    close(out[0]);
    if (threads) setenv("RESTARTMGR_SCAN_THREADS", threads, 1);
    else unsetenv("RESTARTMGR_SCAN_THREADS");
    h = open_session(files, n);
    time_list(h, &count);                     /* warm-up */
    for (k = 0; k < runs; k++) t[k] = time_list(h, &count);
    rm_end_session(h);
    if (write(out[1], &count, sizeof count) != (ssize_t)sizeof count ||
        write(out[1], t, (size_t)runs * sizeof *t) !=
            (ssize_t)((size_t)runs * sizeof *t))
      _exit(1);
    _exit(0);
  }
  close(out[1]);
  if (read(out[0], found, sizeof *found) == (ssize_t)sizeof *found)
    while (got < runs) {
      ssize_t r = read(out[0], (char *)t + got * (long)sizeof *t,
                       (size_t)(runs - got) * sizeof *t);
      if (r <= 0) break;
      got += r / (long)sizeof *t;
    }
  close(out[0]);
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
  if (got < runs || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    errno = EIO;
    die("the rm_get_list child failed");
  }
  return median(t, runs);
}

/* }=====
 * {===== The three measurements */

static char **registered_names(const config *c, long n, long stride) {
  char **v = calloc((size_t)n + 1, sizeof *v), buf[4200];
  long i;
  if (!v) die("calloc");
  for (i = 0; i < n; i++) {
    pool_name(buf, sizeof buf, (1 + i * stride) % c->pool);
    if (!(v[i] = strdup(buf))) die("strdup");
  }
  return v;
}

static void free_names(char **v, long n) {
  long i;
  for (i = 0; i < n; i++) free(v[i]);
  free(v);
}

static void side_by_side(const config *c, long ncpu) {
  long n_files = c->registered, i, k, found_f = 0, found_l = 0, found_r = 0;
  long stride = c->pool / n_files > 0 ? c->pool / n_files - 1 : 1;
  char **files, **fuser_argv, **lsof_argv;
  double tf[MAX_RUNS], tl[MAX_RUNS], tr[MAX_RUNS], t1[MAX_RUNS];
  double mf, ml, mr, m1;
  long replaced = 0;
  if (stride < 1) stride = 1;
  files = registered_names(c, n_files, stride);
  for (i = 0; i < n_files; i++)
    replaced += ((1 + i * stride) % c->pool) % 10 == 0;
  fuser_argv = calloc((size_t)n_files + 2, sizeof *fuser_argv);
  lsof_argv = calloc((size_t)n_files + 5, sizeof *lsof_argv);
  if (!fuser_argv || !lsof_argv) die("calloc");
  fuser_argv[0] = (char *)(uintptr_t)"fuser";
  lsof_argv[0] = (char *)(uintptr_t)"lsof";
  lsof_argv[1] = (char *)(uintptr_t)"-n";
  lsof_argv[2] = (char *)(uintptr_t)"-w";
  lsof_argv[3] = (char *)(uintptr_t)"-t";
  for (i = 0; i < n_files; i++) {
    fuser_argv[i + 1] = files[i];
    lsof_argv[i + 4] = files[i];
  }
  printf("Side by side: %ld processes x %ld files (%ld mapped then closed; "
         "every 10th of %ld pool files replaced by rename), %ld registered "
         "files (%ld of them replaced), %ld CPUs, median of %ld runs\n",
         c->procs, c->per_proc, c->mapped, c->pool, n_files, replaced, ncpu,
         c->runs);
  run_tool(fuser_argv, &found_f);             /* warm-up, all caches hot */
  run_tool(lsof_argv, &found_l);
  for (k = 0; k < c->runs; k++) {             /* interleaved, run by run */
    check_interrupt();
    tf[k] = run_tool(fuser_argv, &found_f);
    tl[k] = run_tool(lsof_argv, &found_l);
    tr[k] = list_in_child(files, n_files, NULL, 1, &found_r);
    t1[k] = list_in_child(files, n_files, "1", 1, &found_r);
  }
  mf = median(tf, c->runs);
  ml = median(tl, c->runs);
  mr = median(tr, c->runs);
  m1 = median(t1, c->runs);
  printf("  %-34s %10s %12s\n", "command", "median ms", "processes");
  if (mf >= 0) printf("  %-34s %10.1f %12ld\n", "fuser FILES", mf, found_f);
  else printf("  %-34s %10s\n", "fuser FILES", "not installed");
  if (ml >= 0)
    printf("  %-34s %10.1f %12ld\n", "lsof -n -w -t FILES", ml, found_l);
  else printf("  %-34s %10s\n", "lsof -n -w -t FILES", "not installed");
  printf("  %-34s %10.1f %12ld\n", "rm_get_list (default threads)", mr,
         found_r);
  printf("  %-34s %10.1f %12ld\n", "rm_get_list (RESTARTMGR_SCAN_THREADS=1)",
         m1, found_r);
  printf("  (rm_get_list also reports holders of the replaced files' older "
         "inodes, which fuser and lsof do not match)\n");
  if (mf > 0) printf("  fuser / rm_get_list = %.2fx (target >= 2x); "
                     "single-threaded %.2fx\n", mf / mr, mf / m1);
  if (ml > 0) printf("  lsof  / rm_get_list = %.2fx (target >= 5x); "
                     "single-threaded %.2fx\n", ml / mr, ml / m1);
  free(fuser_argv);
  free(lsof_argv);
  free_names(files, n_files);
}

static void by_processes(config c) {
  static const long counts[] = { 100, 250, 500, 1000 };
  char **files, **fuser_argv;
  size_t i;
  long stride = c.pool / c.registered - 1, found, k, n_fuser;
  if (stride < 1) stride = 1;
  printf("\nCost vs processes (%ld files each, %ld registered files; "
         "rm_get_list with default threads):\n", c.per_proc, c.registered);
  printf("  %9s %9s %8s %8s %11s %7s %9s\n", "processes", "open fds",
         "matched", "rm ms", "us/process", "ns/fd", "fuser ms");
  files = registered_names(&c, c.registered, stride);
  fuser_argv = calloc((size_t)c.registered + 2, sizeof *fuser_argv);
  if (!fuser_argv) die("calloc");
  fuser_argv[0] = (char *)(uintptr_t)"fuser";
  for (k = 0; k < c.registered; k++) fuser_argv[k + 1] = files[k];
  stop_holders();
  for (i = 0; i < sizeof counts / sizeof *counts; i++) {
    double ms, tf[MAX_RUNS];
    long fds = counts[i] * (c.per_proc - c.mapped + 3);
    check_interrupt();
    start_holders(&c, counts[i]);
    ms = list_in_child(files, c.registered, NULL, c.runs, &found);
    for (k = 0; k < c.runs; k++) tf[k] = run_tool(fuser_argv, &n_fuser);
    printf("  %9ld %9ld %8ld %8.1f %11.1f %7.0f %9.1f\n", counts[i], fds,
           found, ms, ms * 1e3 / (double)counts[i], ms * 1e6 / (double)fds,
           median(tf, c.runs));
    stop_holders();
  }
  free(fuser_argv);
  free_names(files, c.registered);
}

static void by_registered(config c) {
  static const long from_pool[] = { 10, 100, 1000 };
  static const long padded[] = { 10, 100, 1000, 10000 };
  size_t i;
  long found;
  char buf[4200];
  start_holders(&c, c.procs);
  printf("\nCost vs registered files (%ld processes; each call also stats "
         "every registered file once):\n", c.procs);
  printf("  %-44s %10s %10s\n", "registered", "matched", "median ms");
  for (i = 0; i < sizeof from_pool / sizeof *from_pool; i++) {
    long n = from_pool[i], stride = c.pool / n - 1;
    char **files;
    double ms;
    check_interrupt();
    if (stride < 1) stride = 1;
    files = registered_names(&c, n, stride);
    ms = list_in_child(files, n, NULL, c.runs, &found);
    snprintf(buf, sizeof buf, "%ld pool files", n);
    printf("  %-44s %10ld %10.1f\n", buf, found, ms);
    free_names(files, n);
  }
  for (i = 0; i < sizeof padded / sizeof *padded; i++) {
    long n = padded[i], k;
    char **files = calloc((size_t)n + 1, sizeof *files);
    double ms;
    check_interrupt();
    if (!files) die("calloc");
    for (k = 0; k < n; k++) {
      if (k < 10) pool_name(buf, sizeof buf, 1 + k * (c.pool / 10));
      else snprintf(buf, sizeof buf, "%s/pad/p%05ld", work_dir, k);
      if (k >= 10) {
        int fd = open(buf, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0) die(buf);
        close(fd);
      }
      if (!(files[k] = strdup(buf))) die("strdup");
    }
    ms = list_in_child(files, n, NULL, c.runs, &found);
    snprintf(buf, sizeof buf, "10 pool files + %ld files nobody holds", n - 10);
    printf("  %-44s %10ld %10.1f\n", buf, found, ms);
    free_names(files, n);
  }
  stop_holders();
}

/* }===== */

/* The machine's load: other work skews wall-clock comparisons. */
static void print_load(const char *when) {
  char buf[128] = "?";
  FILE *f = fopen("/proc/loadavg", "r");
  if (f) {
    if (!fgets(buf, sizeof buf, f)) strcpy(buf, "?");
    fclose(f);
  }
  buf[strcspn(buf, "\n")] = 0;
  printf("load average %s: %s\n", when, buf);
}

static long option(const char *s) {
  char *end;
  long v = strtol(s, &end, 10);
  if (!*s || *end || v < 1) {
    fprintf(stderr, "rm_bench_list: bad number %s\n", s);
    exit(2);
  }
  return v;
}

int main(int argc, char **argv) {
  config c;
  struct sigaction sa;
  char store[4200], pad[4200];
  const char *tmp = getenv("TMPDIR");
  long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
  int opt;

  c.procs = 500;
  c.per_proc = 40;
  c.mapped = 8;
  c.pool = 2000;
  c.registered = 100;
  c.runs = 7;
  c.scaling = 1;
  while ((opt = getopt(argc, argv, "n:k:m:f:F:R:q")) != -1) {
    switch (opt) {
    case 'n': c.procs = option(optarg); break;
    case 'k': c.per_proc = option(optarg); break;
    case 'm': c.mapped = option(optarg); break;
    case 'f': c.pool = option(optarg); break;
    case 'F': c.registered = option(optarg); break;
    case 'R': c.runs = option(optarg); break;
    case 'q': c.scaling = 0; break;
    default:
      fprintf(stderr, "usage: rm_bench_list [-n procs] [-k files] [-m mapped]"
                      " [-f pool] [-F registered] [-R runs] [-q]\n");
      return 2;
    }
  }
  if (c.runs > MAX_RUNS) c.runs = MAX_RUNS;
  if (c.registered > c.pool) c.registered = c.pool;

  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  snprintf(work_dir, sizeof work_dir, "%s/rm_bench_list-XXXXXX",
           tmp && *tmp ? tmp : "/tmp");
  if (!mkdtemp(work_dir)) {
    work_dir[0] = 0;
    die("mkdtemp");
  }
  snprintf(store, sizeof store, "%s/store", work_dir);
  snprintf(pad, sizeof pad, "%s/pad", work_dir);
  if (mkdir(pad, 0755) != 0) die(pad);
  setenv("RESTARTMGR_STATE_DIR", store, 1);   /* a private session store */

  print_load("before");
  start_holders(&c, c.procs);
  side_by_side(&c, ncpu);
  if (c.scaling) {
    by_processes(c);
    by_registered(c);
  }
  cleanup();
  print_load("after");
  return 0;
}
