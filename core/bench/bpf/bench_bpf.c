/* SPDX-License-Identifier: MIT */
/*
 * bench_bpf.c (rm_bench_bpf): what a BPF iterator would give in place of
 * the /proc scan, measured the way a user pays for it (docs/performance.md,
 * "What bounds it, and what is not reached").  A benchmark only: the
 * library does not use BPF.
 *
 * On rm_bench_list's reference workload (rm_bench_holders: by default 500
 * processes x 40 files, 8 of them mapped then closed, every 10th of 2000
 * pool files replaced; 100 registered), each contender a separate process
 * started and reaped per run, round-robin, wall and user+system CPU time
 * (wait4), medians:
 *   leanest scan   rm_bench_list --lean (opendir /proc/PID/fd, fstatat
 *                  per fd, read maps; one thread)
 *   rm list        rm_bench_list --list (session, register, one
 *                  rm_get_list, end), default threads and one thread
 *   BPF iterator   this program's --iter: load the programs of
 *                  held_files.bpf.c through libbpf, register the files'
 *                  (dev, ino) in their hash map, run iter/task_file and
 *                  iter/task_vma, print the pids, exit; --iter-light: the
 *                  same loaded through the light skeleton (no BTF parsed
 *                  in the process, held_files_load.h); --iter-files:
 *                  libbpf, open files only
 * then, inside this process, what each phase of the BPF scan costs, and
 * what a request costs when the programs stay loaded (a resident helper).
 *
 *   rm_bench_bpf [-n PROCS] [-k FILES] [-m MAPPED] [-f POOL]
 *                [-F REGISTERED] [-R RUNS] [-s]
 *     -s  smoke run (tiny, 1 run: the cross-check only, for ctest)
 *
 * Before timing, the BPF scan's processes are compared with the leanest
 * scan's, pid by pid: it exits 1 when they differ (both counts printed).
 * Exits 77 when the programs cannot be loaded for want of privilege
 * (CAP_BPF and CAP_PERFMON, or root).  Every process it starts is ended
 * and reaped, its temp dirs removed, also on SIGINT and SIGTERM.
 */
#define _GNU_SOURCE
#include "bench.h"
#include "held_files_load.h"

#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

#define SKIP 77                 /* not privileged enough to load BPF */

/* --iter / --iter-light / --iter-files FILE...: the whole BPF scan as one
 * process.  Prints the pids of the processes holding one of the files. */
static int iter_main(int n, char **files, int light, int mappings) {
  held_scan *s = held_scan_open(light, n, NULL);
  struct stat st;
  long *pids, found, i;
  if (!s) {
    int err = errno;
    fprintf(stderr, "rm_bench_bpf: loading the BPF iterators: %s\n",
            strerror(err));
    return err == EPERM || err == EACCES ? SKIP : 1;
  }
  for (i = 0; i < n; i++)
    if (stat(files[i], &st) == 0 && held_scan_register(s, &st) != 0) {
      fprintf(stderr, "rm_bench_bpf: registering %s: %s\n", files[i],
              strerror(errno));
      held_scan_close(s);
      return 1;
    }
  found = held_scan_run(s, mappings, &pids, NULL);
  if (found < 0) {
    fprintf(stderr, "rm_bench_bpf: running the iterators: %s\n",
            strerror(errno));
    held_scan_close(s);
    return 1;
  }
  for (i = 0; i < found; i++) printf("%ld\n", pids[i]);
  free(pids);
  held_scan_close(s);
  return 0;
}

/* {===== Cross-check: the same processes as the leanest scan */

static int cmp_long(const void *a, const void *b) {
  long x = *(const long *)a, y = *(const long *)b;
  return x < y ? -1 : x > y;
}

/* Runs argv, returns the distinct pids it prints (sorted, in *pids), or
 * -1 when it fails. */
static long spawn_pids(char *const argv[], long **pids) {
  posix_spawn_file_actions_t fa;
  long n = 0, cap = 0, cur = -1, i, distinct = 0;
  char buf[8192];
  int out[2], status;
  pid_t pid;
  *pids = NULL;
  if (pipe2(out, O_CLOEXEC) != 0) die("pipe");
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, out[1], 1);
  if (posix_spawn(&pid, argv[0], &fa, NULL, argv, environ) != 0)
    die(argv[0]);
  posix_spawn_file_actions_destroy(&fa);
  close(out[1]);
  for (;;) {
    ssize_t got = read(out[0], buf, sizeof buf), k;
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) break;
    for (k = 0; k < got; k++) {
      if (buf[k] >= '0' && buf[k] <= '9') {
        cur = (cur < 0 ? 0 : cur * 10) + (buf[k] - '0');
        continue;
      }
      if (cur < 0) continue;
      if (n == cap) {
        cap = cap * 2 + 256;
        if (!(*pids = realloc(*pids, (size_t)cap * sizeof **pids)))
          die("realloc");
      }
      (*pids)[n++] = cur;
      cur = -1;
    }
  }
  close(out[0]);
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return -1;
  if (n) qsort(*pids, (size_t)n, sizeof **pids, cmp_long);
  for (i = 0; i < n; i++)
    if (i == 0 || (*pids)[i] != (*pids)[i - 1]) (*pids)[distinct++] = (*pids)[i];
  return distinct;
}

/* Compares the pids printed by the leanest scan and by --iter (both
 * separate processes); prints both counts and the first difference. */
static int same_processes(char **lean_argv, char **bpf_argv) {
  const char *how = strcmp(bpf_argv[1], "--iter-light") == 0 ?
                    "light skeleton" : "libbpf";
  long *lean = NULL, *bpf = NULL, n_lean, n_bpf, i = 0, j = 0, differ = 0;
  n_lean = spawn_pids(lean_argv, &lean);
  n_bpf = spawn_pids(bpf_argv, &bpf);
  printf("cross-check: the leanest scan finds %ld processes, the BPF "
         "iterators (%s) %ld\n", n_lean, how, n_bpf);
  if (n_lean < 0 || n_bpf < 0) differ = 1;
  while (!differ && (i < n_lean || j < n_bpf)) {
    if (j >= n_bpf || (i < n_lean && lean[i] < bpf[j])) {
      printf("  MISMATCH: pid %ld found by the leanest scan only\n", lean[i]);
      differ = 1;
    } else if (i >= n_lean || bpf[j] < lean[i]) {
      printf("  MISMATCH: pid %ld found by the BPF iterators only\n", bpf[j]);
      differ = 1;
    } else {
      i++;
      j++;
    }
  }
  free(lean);
  free(bpf);
  return differ ? -1 : 0;
}

/* }=====
 * {===== The whole processes, side by side */

enum { LEAN, RM_DEFAULT, RM_ONE, BPF_ALL, BPF_LIGHT, BPF_FILES,
       N_CONTENDERS };

static char **words(char *const *prefix, char **files, long n) {
  size_t np = 0, i;
  char **v;
  while (prefix[np]) np++;
  if (!(v = calloc(np + (size_t)n + 1, sizeof *v))) die("calloc");
  for (i = 0; i < np; i++) v[i] = prefix[i];
  for (i = 0; i < (size_t)n; i++) v[np + i] = files[i];
  return v;
}

static void side_by_side(contender *t, long runs) {
  double wall[N_CONTENDERS], cpu[N_CONTENDERS];
  long k;
  int i;
  for (i = 0; i < N_CONTENDERS; i++) {    /* warm-up: caches hot */
    double w, c;
    t[i].missing = run_tool(t[i].argv, t[i].envp, &w, &c, &t[i].found) != 0;
  }
  for (k = 0; k < runs; k++) {
    check_interrupt();
    for (i = 0; i < N_CONTENDERS; i++)
      if (!t[i].missing &&
          run_tool(t[i].argv, t[i].envp, &t[i].wall[k], &t[i].cpu[k],
                   &t[i].found) != 0)
        t[i].missing = 1;
  }
  printf("  %-36s %8s %8s %9s %9s %9s\n", "", "wall ms", "CPU ms",
         "processes", "wall/lean", "CPU/lean");
  for (i = 0; i < N_CONTENDERS; i++) {
    wall[i] = t[i].missing ? -1 : median(t[i].wall, runs);
    cpu[i] = t[i].missing ? -1 : median(t[i].cpu, runs);
    if (t[i].missing) {
      printf("  %-36s %8s\n", t[i].label, "failed");
      continue;
    }
    printf("  %-36s %8.1f %8.1f %9ld %9.2f %9.2f\n", t[i].label, wall[i],
           cpu[i], t[i].found, wall[i] / wall[LEAN], cpu[i] / cpu[LEAN]);
  }
  if (t[RM_DEFAULT].missing || t[RM_ONE].missing) return;
  printf("  ratios (medians of this run)                   wall     CPU\n");
  for (i = BPF_ALL; i <= BPF_LIGHT; i++) {
    const char *who = i == BPF_ALL ? "BPF (libbpf)" : "BPF (light)";
    if (t[i].missing) continue;
    printf("  %-12s / leanest scan              %8.2f %8.2f\n", who,
           wall[i] / wall[LEAN], cpu[i] / cpu[LEAN]);
    printf("  %-12s / rm (default threads)      %8.2f %8.2f\n", who,
           wall[i] / wall[RM_DEFAULT], cpu[i] / cpu[RM_DEFAULT]);
    printf("  %-12s / rm (1 thread)             %8.2f %8.2f\n", who,
           wall[i] / wall[RM_ONE], cpu[i] / cpu[RM_ONE]);
  }
  printf("  (rm also reports holders of the replaced files' older inodes, "
         "and classifies each process; the others match inodes only)\n");
}

/* }=====
 * {===== Inside one process: the phases, and the programs kept loaded */

static double cpu_self_ms(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return tv_ms(ru.ru_utime) + tv_ms(ru.ru_stime);
}

static void register_all(held_scan *s, char **files, long n) {
  struct stat st;
  long i;
  for (i = 0; i < n; i++)
    if (stat(files[i], &st) != 0 || held_scan_register(s, &st) != 0)
      die(files[i]);
}

static void phases(int light, char **files, long n, long runs) {
  double load_ms[MAX_RUNS], reg_ms[MAX_RUNS], files_ms[MAX_RUNS];
  double maps_ms[MAX_RUNS], close_ms[MAX_RUNS], all_ms[MAX_RUNS];
  double all_cpu[MAX_RUNS], kept_wall[MAX_RUNS], kept_cpu[MAX_RUNS];
  double btf_ms[MAX_RUNS];
  long k, found = 0;
  held_scan *s;
  for (k = -1; k < runs; k++) {   /* -1: warm-up */
    held_times t;
    long *pids;
    double w0 = now_ms(), c0 = cpu_self_ms(), t0;
    check_interrupt();
    if (!(s = held_scan_open(light, n, &t))) die("held_scan_open");
    t0 = now_ms();
    register_all(s, files, n);
    if (k >= 0) reg_ms[k] = now_ms() - t0;
    if ((found = held_scan_run(s, 1, &pids, &t)) < 0) die("held_scan_run");
    free(pids);
    t0 = now_ms();
    held_scan_close(s);
    if (k < 0) continue;
    close_ms[k] = now_ms() - t0;
    load_ms[k] = t.load;
    files_ms[k] = t.files;
    maps_ms[k] = t.mappings;
    all_ms[k] = now_ms() - w0;
    all_cpu[k] = cpu_self_ms() - c0;
  }
  if (!(s = held_scan_open(light, n, NULL))) die("held_scan_open");
  register_all(s, files, n);
  for (k = -1; k < runs; k++) {
    long *pids;
    double w0 = now_ms(), c0 = cpu_self_ms();
    if (held_scan_run(s, 1, &pids, NULL) < 0) die("held_scan_run");
    free(pids);
    if (k < 0) continue;
    kept_wall[k] = now_ms() - w0;
    kept_cpu[k] = cpu_self_ms() - c0;
  }
  held_scan_close(s);
  printf("\nInside this process, %s (medians of %ld; %ld processes "
         "found), ms:\n", light ? "light skeleton" : "libbpf skeleton", runs,
         found);
  if (light)
    printf("  %-58s %8.1f\n", "load: the loader program creates the map, "
           "relocates, loads", median(load_ms, runs));
  else {
    for (k = 0; k < runs; k++)
      if ((btf_ms[k] = held_btf_parse_ms()) < 0)
        die("btf__load_vmlinux_btf");
    printf("  %-58s %8.1f\n", "load: parse, relocate (CO-RE), create the "
           "map, verify", median(load_ms, runs));
    printf("  %-58s %8.1f\n", "  of which libbpf parses the kernel's BTF "
           "(timed apart)", median(btf_ms, runs));
  }
  printf("  %-58s %8.1f\n", "register the files (stat, map update each)",
         median(reg_ms, runs));
  printf("  %-58s %8.1f\n", "iter/task_file: attach, read to the end",
         median(files_ms, runs));
  printf("  %-58s %8.1f\n", "iter/task_vma: attach, read to the end",
         median(maps_ms, runs));
  printf("  %-58s %8.1f\n", "unload", median(close_ms, runs));
  printf("  %-58s %8.1f wall, %.1f CPU\n", "all of it",
         median(all_ms, runs), median(all_cpu, runs));
  printf("  %-58s %8.1f wall, %.1f CPU\n",
         "per request, programs kept loaded (a resident helper)",
         median(kept_wall, runs), median(kept_cpu, runs));
}

/* }===== */

static long option(const char *s) {
  char *end;
  long v = strtol(s, &end, 10);
  if (!*s || *end || v < 1) {
    fprintf(stderr, "rm_bench_bpf: bad number %s\n", s);
    exit(2);
  }
  return v;
}

static void print_machine(const char *when) {
  char buf[128] = "?";
  FILE *f = fopen("/proc/loadavg", "r");
  if (f) {
    if (!fgets(buf, sizeof buf, f)) strcpy(buf, "?");
    fclose(f);
  }
  buf[strcspn(buf, "\n")] = 0;
  printf("load average %s: %s\n", when, buf);
}

int main(int argc, char **argv) {
  static char self[4096], list[4096];
  char *lean_w[] = { list, (char *)(uintptr_t)"--lean", NULL };
  char *list_w[] = { list, (char *)(uintptr_t)"--list", NULL };
  char *iter_w[] = { self, (char *)(uintptr_t)"--iter", NULL };
  char *light_w[] = { self, (char *)(uintptr_t)"--iter-light", NULL };
  char *files_w[] = { self, (char *)(uintptr_t)"--iter-files", NULL };
  contender t[N_CONTENDERS];
  config c;
  struct sigaction sa;
  struct utsname u;
  char store[4200], **files, **env_default, **env_one, name[4200];
  long i, stride;
  int opt, smoke = 0, rc = 0;

  if (argc > 1 && strcmp(argv[1], "--iter") == 0)
    return iter_main(argc - 2, argv + 2, 0, 1);
  if (argc > 1 && strcmp(argv[1], "--iter-light") == 0)
    return iter_main(argc - 2, argv + 2, 1, 1);
  if (argc > 1 && strcmp(argv[1], "--iter-files") == 0)
    return iter_main(argc - 2, argv + 2, 0, 0);
  memset(&c, 0, sizeof c);
  c.procs = 500, c.per_proc = 40, c.mapped = 8, c.pool = 2000;
  c.registered = 100, c.runs = 9;
  while ((opt = getopt(argc, argv, "n:k:m:f:F:R:s")) != -1) {
    switch (opt) {
    case 'n': c.procs = option(optarg); break;
    case 'k': c.per_proc = option(optarg); break;
    case 'm': c.mapped = option(optarg); break;
    case 'f': c.pool = option(optarg); break;
    case 'F': c.registered = option(optarg); break;
    case 'R': c.runs = option(optarg); break;
    case 's':
      c.procs = 20, c.per_proc = 10, c.mapped = 2, c.pool = 200;
      c.registered = 20, c.runs = 1, smoke = 1;
      break;
    default:
      fprintf(stderr, "usage: rm_bench_bpf [-n procs] [-k files] [-m mapped]"
                      " [-f pool] [-F registered] [-R runs] [-s]\n");
      return 2;
    }
  }
  if (c.runs > MAX_RUNS) c.runs = MAX_RUNS;
  if (c.registered > c.pool) c.registered = c.pool;
  stride = c.pool / c.registered - 1 > 0 ? c.pool / c.registered - 1 : 1;

  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  prctl(PR_SET_CHILD_SUBREAPER, 1);   /* the launcher's orphans reaped here */
  beside_me(self, sizeof self, "rm_bench_bpf");
  beside_me(list, sizeof list, "rm_bench_list");
  snprintf(work_dir, sizeof work_dir, "%s/rm_bench_bpf-XXXXXX",
           getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
  if (!mkdtemp(work_dir)) {
    work_dir[0] = 0;
    die("mkdtemp");
  }
  /* rm list's session store on tmpfs, as in rm_bench_list. */
  snprintf(shm_dir, sizeof shm_dir, "/dev/shm/rm_bench_bpf-XXXXXX");
  if (!mkdtemp(shm_dir)) shm_dir[0] = 0;
  snprintf(store, sizeof store, "%s/store", shm_dir[0] ? shm_dir : work_dir);
  setenv("RESTARTMGR_STATE_DIR", store, 1);
  env_default = environment(NULL);
  env_one = environment("RESTARTMGR_SCAN_THREADS=1");
  if (uname(&u) == 0) printf("kernel %s %s\n", u.release, u.machine);
  print_machine("before");

  start_holders(&c, c.procs, 0);
  if (!(files = calloc((size_t)c.registered + 1, sizeof *files))) die("calloc");
  for (i = 0; i < c.registered; i++) {
    pool_name(name, sizeof name, (1 + i * stride) % c.pool);
    if (!(files[i] = strdup(name))) die("strdup");
  }
  memset(t, 0, sizeof t);
  t[LEAN].label = "leanest scan (1 thread)";
  t[LEAN].argv = words(lean_w, files, c.registered);
  t[RM_DEFAULT].label = "rm list (default threads)";
  t[RM_DEFAULT].argv = words(list_w, files, c.registered);
  t[RM_DEFAULT].envp = env_default;
  t[RM_ONE].label = "rm list (SCAN_THREADS=1)";
  t[RM_ONE].argv = words(list_w, files, c.registered);
  t[RM_ONE].envp = env_one;
  t[BPF_ALL].label = "BPF, libbpf (files + mappings)";
  t[BPF_ALL].argv = words(iter_w, files, c.registered);
  t[BPF_LIGHT].label = "BPF, light skeleton (files + mappings)";
  t[BPF_LIGHT].argv = words(light_w, files, c.registered);
  t[BPF_FILES].label = "BPF, libbpf, iter/task_file only";
  t[BPF_FILES].argv = words(files_w, files, c.registered);
  t[LEAN].envp = t[BPF_ALL].envp = t[BPF_LIGHT].envp = environ;
  t[BPF_FILES].envp = environ;

  {
    held_scan *probe = held_scan_open(0, 1, NULL);
    if (!probe) {
      int err = errno;
      printf("the BPF iterators cannot be loaded here: %s%s\n",
             strerror(err), err == EPERM || err == EACCES ?
             " (CAP_BPF and CAP_PERFMON, or root, are needed)" : "");
      rc = err == EPERM || err == EACCES ? SKIP : 1;
    }
    held_scan_close(probe);
  }
  if (rc == 0 && (same_processes(t[LEAN].argv, t[BPF_ALL].argv) != 0 ||
                  same_processes(t[LEAN].argv, t[BPF_LIGHT].argv) != 0))
    rc = 1;
  if (rc == 0 && !smoke) {
    printf("\n%ld processes x %ld files (%ld mapped then closed; every "
           "10th of %ld pool files replaced by rename), %ld registered, "
           "median of %ld round-robin runs, each a separate process:\n",
           c.procs, c.per_proc, c.mapped, c.pool, c.registered, c.runs);
    side_by_side(t, c.runs);
    phases(0, files, c.registered, c.runs);
    phases(1, files, c.registered, c.runs);
  }
  for (i = 0; i < N_CONTENDERS; i++) free(t[i].argv);
  for (i = 0; i < c.registered; i++) free(files[i]);
  free(files);
  cleanup();
  free(env_default);
  free(env_one);
  print_machine("after");
  return rc;
}
