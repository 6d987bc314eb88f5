/* SPDX-License-Identifier: MIT */
/*
 * bench_list.c (rm_bench_list): what finding the users of files costs,
 * measured the way a user pays for it, next to fuser, lsof and the
 * leanest scan one can write, in one run (docs/performance.md, Listing:
 * rm_bench_list).
 *
 * The workload: rm_bench_holders (built beside it), by default 500
 * processes holding 40 files each from a pool of 2000 (8 of them mapped
 * with the fd closed; every 10th pool file replaced by a new inode once
 * all hold theirs), started through a launcher that calls setsid() and
 * exits, with clean fds, so the holders are no descendants of the
 * programs being timed.  (This program is a child subreaper, so that the
 * orphaned holders are reaped here even where PID 1 does not reap.)
 * 100 pool files are registered (10 of them replaced ones).
 *
 * Contenders, each a separate process started and reaped per run, run
 * round-robin (one run of each in turn, so they share the machine's
 * noise), wall time and user+system CPU time (wait4) per run, medians:
 *   lean          this program's --lean mode: the leanest single-threaded
 *                 scan (opendir /proc/PID/fd, fstatat per fd, read maps;
 *                 the (dev, ino) pairs found are looked up in the
 *                 registered ones), about 100 lines
 *   rm            this program's --list mode: what the command-line tool
 *                 does: rm_start_session, rm_register_resources, one
 *                 rm_get_list, rm_end_session; default threads and
 *                 RESTARTMGR_SCAN_THREADS=1
 *   loop          --loop: the same with a client's two-call rm_get_list
 *                 loop (no array, MORE_DATA, allocate, again): one scan
 *   fuser FILES, lsof -n -w -t FILES
 * plus rm_get_list timed inside a long-lived process (the scan alone).
 * Then `restartmgr stale` beside needrestart and checkrestart on the
 * same holders, the same on the sparse variant (every holder also has fd
 * 250 and holes in its fd table), the whole upgrade cycle for 1, 20 and
 * 100 apps and runit services (bench_cycle.c), and how the cost grows
 * with processes (100 to 1000) and with registered files (10 to 10,000).
 *
 *   rm_bench_list [-n PROCS] [-k FILES] [-m MAPPED] [-f POOL]
 *                 [-F REGISTERED] [-R RUNS] [-q] [-s] [-c] [-C OTHER]
 *     -q  no scaling tables        -s  smoke run (tiny, 1 run, for ctest)
 *     -c  only the cycle tables
 *     -C  also time another build's rm_bench_list --list (before/after)
 *
 * Exits 1 when rm_get_list finds fewer processes than the lean scan, or
 * the two-call loop lists other processes than one call (cross-checks,
 * not timings).  Every process it starts is ended and
 * reaped, and its temp dir removed, also on SIGINT and SIGTERM.
 */
#define _GNU_SOURCE
#include "bench.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

extern char **environ;

static int mismatch;                  /* rm found fewer than lean */

/* {===== The measurements */

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

/* argv: prefix words, then the files. */
static char **command(const char *const *prefix, char **files, long n) {
  size_t np = 0, i;
  char **v;
  while (prefix[np]) np++;
  v = calloc(np + (size_t)n + 1, sizeof *v);
  if (!v) die("calloc");
  for (i = 0; i < np; i++) v[i] = (char *)(uintptr_t)prefix[i];
  for (i = 0; i < (size_t)n; i++) v[np + i] = files[i];
  return v;
}

enum { LEAN, RM_DEFAULT, RM_ONE, FUSER, LSOF, LOOP_DEFAULT, LOOP_ONE,
       RM_DISK, OTHER_DEFAULT, OTHER_ONE, N_CONTENDERS };

/* The contenders on these files, round-robin over c->runs rounds. */
static void run_round_robin(contender *t, size_t n_t, char **files, long n,
                            long runs, double *in_wall, double *in_cpu,
                            long *in_found) {
  long k;
  size_t i;
  for (i = 0; i < n_t; i++) {      /* warm-up: caches hot, tools found */
    double w, cpu;
    t[i].missing = !t[i].label ||
                   run_tool(t[i].argv, t[i].envp, &w, &cpu, &t[i].found) != 0;
  }
  for (k = 0; k < runs; k++) {
    check_interrupt();
    for (i = 0; i < n_t; i++)
      if (!t[i].missing &&
          run_tool(t[i].argv, t[i].envp, &t[i].wall[k], &t[i].cpu[k],
                   &t[i].found) != 0)
        t[i].missing = 1;
    if (in_wall) list_in_child(files, n, 1, &in_wall[k], &in_cpu[k], in_found);
  }
}

static char **env_disk;        /* default threads, the store on disk */
static const char *other_bench; /* -C: another build's rm_bench_list */

static void setup_contenders(contender *t, char **files, long n,
                             char **env_default, char **env_one) {
  static char self[4096];
  static const char *lean_words[] = { self, "--lean", NULL };
  static const char *list_words[] = { self, "--list", NULL };
  static const char *loop_words[] = { self, "--loop", NULL };
  static const char *fuser_words[] = { "fuser", NULL };
  static const char *lsof_words[] = { "lsof", "-n", "-w", "-t", NULL };
  beside_me(self, sizeof self, "rm_bench_list");
  memset(t, 0, N_CONTENDERS * sizeof *t);
  t[LEAN].label = "leanest scan (1 thread)";
  t[LEAN].argv = command(lean_words, files, n);
  t[RM_DEFAULT].label = "rm list (default threads)";
  t[RM_DEFAULT].argv = command(list_words, files, n);
  t[RM_ONE].label = "rm list (SCAN_THREADS=1)";
  t[RM_ONE].argv = command(list_words, files, n);
  t[FUSER].label = "fuser FILES";
  t[FUSER].argv = command(fuser_words, files, n);
  t[LSOF].label = "lsof -n -w -t FILES";
  t[LSOF].argv = command(lsof_words, files, n);
  t[LOOP_DEFAULT].label = "two-call loop (default threads)";
  t[LOOP_DEFAULT].argv = command(loop_words, files, n);
  t[LOOP_DEFAULT].envp = env_default;
  t[LOOP_ONE].label = "two-call loop (SCAN_THREADS=1)";
  t[LOOP_ONE].argv = command(loop_words, files, n);
  t[LOOP_ONE].envp = env_one;
  t[RM_DISK].label = env_disk ? "rm list (default), store on disk" : NULL;
  t[RM_DISK].argv = command(list_words, files, n);
  t[RM_DISK].envp = env_disk;
  {
    static const char *other_words[] = { NULL, "--list", NULL };
    other_words[0] = other_bench;
    t[OTHER_DEFAULT].label = other_bench ? "-C build: rm list (default)" : NULL;
    t[OTHER_ONE].label = other_bench ? "-C build: rm list (1 thread)" : NULL;
    t[OTHER_DEFAULT].argv = command(other_bench ? other_words : list_words,
                                    files, n);
    t[OTHER_ONE].argv = command(other_bench ? other_words : list_words, files,
                                n);
    t[OTHER_DEFAULT].envp = env_default;
    t[OTHER_ONE].envp = env_one;
  }
  t[LEAN].envp = t[FUSER].envp = t[LSOF].envp = environ;
  t[RM_DEFAULT].envp = env_default;
  t[RM_ONE].envp = env_one;
}

static void print_ratio(const char *what, double num, double den,
                        const char *target) {
  if (num > 0 && den > 0)
    printf("  %-38s %6.2f   (target %s)\n", what, num / den, target);
}

static void side_by_side(const config *c, long ncpu, int sparse,
                         char **env_default, char **env_one) {
  long n_files = c->registered, i, replaced = 0, in_found = 0;
  long stride = c->pool / n_files > 0 ? c->pool / n_files - 1 : 1;
  char **files;
  contender t[N_CONTENDERS];
  double in_wall[MAX_RUNS], in_cpu[MAX_RUNS], wall[N_CONTENDERS];
  size_t n_t = N_CONTENDERS;
  if (stride < 1) stride = 1;
  files = registered_names(c, n_files, stride);
  for (i = 0; i < n_files; i++)
    replaced += ((1 + i * stride) % c->pool) % 10 == 0;
  setup_contenders(t, files, n_files, env_default, env_one);
  if (sparse) t[RM_DISK].label = NULL;
  printf("\n%s: %ld processes x %ld files (%ld mapped then closed%s; "
         "every 10th of %ld pool files replaced by rename), %ld registered "
         "(%ld replaced), %ld CPUs, median of %ld round-robin runs, each a "
         "separate process\n",
         sparse ? "Sparse fd tables" : "Reference workload", c->procs,
         c->per_proc, c->mapped,
         sparse ? "; each also holds fd 250, with holes" : "", c->pool,
         n_files, replaced, ncpu, c->runs);
  run_round_robin(t, n_t, files, n_files, c->runs, in_wall, in_cpu,
                  &in_found);
  printf("  %-38s %8s %8s %9s %8s\n", "", "wall ms", "CPU ms", "processes",
         "vs lean");
  for (i = 0; i < (long)n_t; i++) {
    wall[i] = t[i].missing ? -1 : median(t[i].wall, c->runs);
    if (!t[i].label) continue;
    if (t[i].missing) {
      printf("  %-38s %8s\n", t[i].label, "not installed");
      continue;
    }
    printf("  %-38s %8.1f %8.1f %9ld %8.2f\n", t[i].label, wall[i],
           median(t[i].cpu, c->runs), t[i].found,
           wall[i] / median(t[LEAN].wall, c->runs));
  }
  printf("  %-38s %8.1f %8.1f %9ld %8.2f\n",
         "rm_get_list in-process (scan alone)", median(in_wall, c->runs),
         median(in_cpu, c->runs), in_found,
         median(in_wall, c->runs) / wall[LEAN]);
  printf("  ratios (wall medians of this run):\n");
  print_ratio("rm (1 thread) / leanest scan", wall[RM_ONE], wall[LEAN],
              "<= 1.0");
  print_ratio("rm (default threads) / leanest scan", wall[RM_DEFAULT],
              wall[LEAN], sparse ? "<= 0.7" : "<= 0.6");
  print_ratio("two-call loop (1 thread) / leanest", wall[LOOP_ONE],
              wall[LEAN], "<= 1.0");
  print_ratio("two-call loop (default) / leanest", wall[LOOP_DEFAULT],
              wall[LEAN], "<= 0.6");
  print_ratio("two-call loop / one list (default)", wall[LOOP_DEFAULT],
              wall[RM_DEFAULT], "1: one scan");
  print_ratio("fuser / rm (default threads)", wall[FUSER], wall[RM_DEFAULT],
              ">= 4");
  print_ratio("fuser / rm (1 thread)", wall[FUSER], wall[RM_ONE], "-");
  print_ratio("lsof / rm (default threads)", wall[LSOF], wall[RM_DEFAULT],
              ">= 13");
  print_ratio("lsof / rm (1 thread)", wall[LSOF], wall[RM_ONE], "-");
  if (other_bench) {
    print_ratio("-C build / this build (default threads)",
                wall[OTHER_DEFAULT], wall[RM_DEFAULT], "-");
    print_ratio("-C build / this build (1 thread)", wall[OTHER_ONE],
                wall[RM_ONE], "-");
  }
  if (!t[RM_ONE].missing && !t[RM_DEFAULT].missing) {
    double lean_cpu = median(t[LEAN].cpu, c->runs);
    printf("  CPU time (user+system), steadier than wall time on a busy "
           "machine:\n");
    print_ratio("CPU: rm (1 thread) / leanest",
                median(t[RM_ONE].cpu, c->runs), lean_cpu, "-");
    print_ratio("CPU: rm (default threads) / leanest",
                median(t[RM_DEFAULT].cpu, c->runs), lean_cpu, "-");
    if (other_bench && !t[OTHER_ONE].missing)
      print_ratio("CPU: -C build / this (1 thread)",
                  median(t[OTHER_ONE].cpu, c->runs),
                  median(t[RM_ONE].cpu, c->runs), "-");
  }
  printf("  (rm also reports holders of the replaced files' older inodes, "
         "which the others do not match)\n");
  if (t[RM_DEFAULT].found < t[LEAN].found || t[RM_ONE].found < t[LEAN].found) {
    printf("  MISMATCH: rm found fewer processes than the leanest scan\n");
    mismatch = 1;
  }
  if (t[LOOP_DEFAULT].missing || t[LOOP_ONE].missing ||
      t[LOOP_DEFAULT].found != t[RM_DEFAULT].found ||
      t[LOOP_ONE].found != t[RM_DEFAULT].found) {
    printf("  MISMATCH: the two-call loop listed %ld / %ld processes, one "
           "call %ld\n", t[LOOP_DEFAULT].found, t[LOOP_ONE].found,
           t[RM_DEFAULT].found);
    mismatch = 1;
  }
  for (i = 0; i < N_CONTENDERS; i++) free(t[i].argv);
  free_names(files, n_files);
}

/* Processes on the system right now (every one of them is scanned). */
static long system_processes(void) {
  DIR *d = opendir("/proc");
  struct dirent *e;
  long n = 0;
  if (!d) return -1;
  while ((e = readdir(d)) != NULL) n += e->d_name[0] >= '1' && e->d_name[0] <= '9';
  closedir(d);
  return n;
}

static void by_processes(config c, char **env_default) {
  static const long counts[] = { 100, 250, 500, 1000 };
  double rm_ms[4], lean_ms[4];
  char **files;
  size_t i, last = sizeof counts / sizeof *counts - 1;
  long stride = c.pool / c.registered - 1;
  if (stride < 1) stride = 1;
  printf("\nCost vs processes (%ld files each, %ld registered; separate "
         "processes, medians of %ld round-robin runs; every process on the "
         "machine is scanned, so the slope is what a process costs):\n",
         c.per_proc, c.registered, c.runs);
  printf("  %9s %9s %9s %8s %8s %8s %8s\n", "holders", "their fds",
         "all procs", "matched", "rm ms", "lean ms", "fuser ms");
  files = registered_names(&c, c.registered, stride);
  stop_holders();
  for (i = 0; i <= last; i++) {
    contender t[N_CONTENDERS];
    long fds = counts[i] * (c.per_proc - c.mapped + 3), k;
    check_interrupt();
    start_holders(&c, counts[i], 0);
    setup_contenders(t, files, c.registered, env_default, env_default);
    t[RM_ONE].label = NULL;
    run_round_robin(t, LSOF, files, c.registered, c.runs, NULL, NULL, NULL);
    rm_ms[i] = median(t[RM_DEFAULT].wall, c.runs);
    lean_ms[i] = median(t[LEAN].wall, c.runs);
    printf("  %9ld %9ld %9ld %8ld %8.1f %8.1f %8.1f\n", counts[i], fds,
           system_processes(), t[RM_DEFAULT].found, rm_ms[i], lean_ms[i],
           t[FUSER].missing ? -1.0 : median(t[FUSER].wall, c.runs));
    for (k = 0; k < N_CONTENDERS; k++) free(t[k].argv);
    stop_holders();
  }
  printf("  slope %ld -> %ld holders: rm %.1f us per process (%.0f ns per "
         "fd), leanest scan %.1f us per process\n", counts[0], counts[last],
         (rm_ms[last] - rm_ms[0]) * 1e3 / (double)(counts[last] - counts[0]),
         (rm_ms[last] - rm_ms[0]) * 1e6 /
             (double)((counts[last] - counts[0]) * (c.per_proc - c.mapped + 3)),
         (lean_ms[last] - lean_ms[0]) * 1e3 /
             (double)(counts[last] - counts[0]));
  free_names(files, c.registered);
}

static void by_registered(config c) {
  static const long from_pool[] = { 10, 100, 1000 };
  static const long padded[] = { 10, 100, 1000, 10000 };
  size_t i;
  char buf[4200];
  start_holders(&c, c.procs, 0);
  printf("\nCost vs registered files (%ld processes; rm_get_list timed "
         "in-process, default threads, registration not timed (its cost is "
         "the store's); each call stats every registered file once):\n",
         c.procs);
  printf("  %-44s %10s %10s\n", "registered", "matched", "median ms");
  for (i = 0; i < sizeof from_pool / sizeof *from_pool + sizeof padded /
                  sizeof *padded; i++) {
    int pad = i >= sizeof from_pool / sizeof *from_pool;
    long n = pad ? padded[i - 3] : from_pool[i], k;
    char **files = calloc((size_t)n + 1, sizeof *files);
    double wall[MAX_RUNS], cpu[MAX_RUNS];
    long found = 0;
    check_interrupt();
    if (!files) die("calloc");
    for (k = 0; k < n; k++) {
      if (!pad) pool_name(buf, sizeof buf, (1 + k * (c.pool / n - 1 > 0 ?
                                                     c.pool / n - 1 : 1)) %
                                               c.pool);
      else if (k < 10) pool_name(buf, sizeof buf, 1 + k * (c.pool / 10));
      else {
        int fd;
        snprintf(buf, sizeof buf, "%s/pad/p%05ld", work_dir, k);
        fd = open(buf, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0) die(buf);
        close(fd);
      }
      if (!(files[k] = strdup(buf))) die("strdup");
    }
    list_in_child(files, n, c.runs, wall, cpu, &found);
    if (pad) snprintf(buf, sizeof buf, "10 pool files + %ld nobody holds",
                      n - 10);
    else snprintf(buf, sizeof buf, "%ld pool files", n);
    printf("  %-44s %10ld %10.1f\n", buf, found, median(wall, c.runs));
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
  char **env_default, **env_one;
  const char *tmp = getenv("TMPDIR");
  long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
  int opt;

  if (argc > 1 && strcmp(argv[1], "--lean") == 0)
    return lean_main(argc - 2, argv + 2);
  if (argc > 1 && strcmp(argv[1], "--list") == 0)
    return list_main(argc - 2, argv + 2);
  if (argc > 1 && strcmp(argv[1], "--loop") == 0)
    return loop_main(argc - 2, argv + 2);
  if (argc > 1 && strcmp(argv[1], "--app") == 0)
    return app_main(argc - 2, argv + 2);
  if (argc > 1 && strcmp(argv[1], "--cycle") == 0)
    return cycle_main(argc - 2, argv + 2);
  c.procs = 500;
  c.per_proc = 40;
  c.mapped = 8;
  c.pool = 2000;
  c.registered = 100;
  c.runs = 9;
  c.scaling = 1;
  c.cycle = 1;
  while ((opt = getopt(argc, argv, "n:k:m:f:F:R:qscC:")) != -1) {
    switch (opt) {
    case 'n': c.procs = option(optarg); break;
    case 'k': c.per_proc = option(optarg); break;
    case 'm': c.mapped = option(optarg); break;
    case 'f': c.pool = option(optarg); break;
    case 'F': c.registered = option(optarg); break;
    case 'R': c.runs = option(optarg); break;
    case 'q': c.scaling = 0; break;
    case 'c': c.cycle = 2; break;
    case 'C': other_bench = optarg; break;
    case 's':
      c.procs = 20, c.per_proc = 10, c.mapped = 2, c.pool = 200;
      c.registered = 20, c.runs = 1, c.scaling = 0, c.cycle = 0;
      break;
    default:
      fprintf(stderr, "usage: rm_bench_list [-n procs] [-k files] [-m mapped]"
                      " [-f pool] [-F registered] [-R runs] [-q] [-s] [-c]"
                      " [-C other-build/rm_bench_list]\n");
      return 2;
    }
  }
  if (c.runs > MAX_RUNS) c.runs = MAX_RUNS;
  if (c.registered > c.pool) c.registered = c.pool;

  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  /* The launcher's orphans come to us, so that we can reap them. */
  prctl(PR_SET_CHILD_SUBREAPER, 1);
  snprintf(work_dir, sizeof work_dir, "%s/rm_bench_list-XXXXXX",
           tmp && *tmp ? tmp : "/tmp");
  if (!mkdtemp(work_dir)) {
    work_dir[0] = 0;
    die("mkdtemp");
  }
  /* The session store on tmpfs where there is one, as $XDG_RUNTIME_DIR
   * and /run are on a usual system: on a disk, the fsyncs that make it
   * crash-safe wait for the disk (the "store on disk" row). */
  snprintf(shm_dir, sizeof shm_dir, "/dev/shm/rm_bench_list-XXXXXX");
  if (!mkdtemp(shm_dir)) shm_dir[0] = 0;
  snprintf(store, sizeof store, "%s/store", shm_dir[0] ? shm_dir : work_dir);
  snprintf(pad, sizeof pad, "%s/pad", work_dir);
  if (mkdir(pad, 0755) != 0) die(pad);
  setenv("RESTARTMGR_STATE_DIR", store, 1);   /* a private session store */
  env_default = environment(NULL);
  env_one = environment("RESTARTMGR_SCAN_THREADS=1");
  if (shm_dir[0]) {
    static char disk_store[4300];
    snprintf(disk_store, sizeof disk_store,
             "RESTARTMGR_STATE_DIR=%s/store-on-disk", work_dir);
    env_disk = environment(disk_store);
  }
  printf("session store: %s\n", store);

  print_load("before");
  if (c.cycle != 2) {
    start_holders(&c, c.procs, 0);
    side_by_side(&c, ncpu, 0, env_default, env_one);
    if (c.cycle) stale_table(c.runs < 5 ? c.runs : 5);
    stop_holders();
    start_holders(&c, c.procs, 1);
    side_by_side(&c, ncpu, 1, env_default, env_one);
    stop_holders();
  }
  if (c.cycle) cycle_tables(c.runs < 5 ? c.runs : 5);
  if (c.scaling && c.cycle != 2) {
    by_processes(c, env_default);
    by_registered(c);
  }
  cleanup();
  free(env_default);
  free(env_one);
  free(env_disk);
  print_load("after");
  return mismatch;
}
