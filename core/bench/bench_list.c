/*
 * bench_list.c (rm_bench_list): what finding the users of files costs,
 * measured the way a user pays for it, next to fuser, lsof and the
 * leanest scan one can write, in one run (SPEC section 7).
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
 *   fuser FILES, lsof -n -w -t FILES
 * plus rm_get_list timed inside a long-lived process (the scan alone).
 * Then the same on the sparse variant (every holder also has fd 250 and
 * holes in its fd table), and how the cost grows with processes (100 to
 * 1000) and with registered files (10 to 10,000).
 *
 *   rm_bench_list [-n PROCS] [-k FILES] [-m MAPPED] [-f POOL]
 *                 [-F REGISTERED] [-R RUNS] [-q] [-s] [-C OTHER]
 *     -q  no scaling tables        -s  smoke run (tiny, 1 run, for ctest)
 *     -C  also time another build's rm_bench_list --list (before/after)
 *
 * Exits 1 when rm_get_list finds fewer processes than the lean scan (a
 * cross-check, not a timing).  Every process it starts is ended and
 * reaped, and its temp dir removed, also on SIGINT and SIGTERM.
 */
#define _GNU_SOURCE
#include "restartmgr.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define MAX_RUNS 51

static char work_dir[4096];
static char shm_dir[4096];            /* the session store, on tmpfs */
static pid_t holders_pid;
static int holders_ctl = -1;          /* its stdin: closing it stops it */
static volatile sig_atomic_t interrupted;
static int mismatch;                  /* rm found fewer than lean */

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
  if (holders_ctl >= 0) {
    close(holders_ctl);     /* end of its stdin: it kills and reaps all */
    holders_ctl = -1;
  }
  if (holders_pid > 0) {    /* adopted by us (subreaper): reap it */
    while (waitpid(holders_pid, NULL, 0) < 0 && errno == EINTR) {}
    holders_pid = 0;
  }
}

static void cleanup(void) {
  stop_holders();
  if (work_dir[0]) nftw(work_dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
  work_dir[0] = 0;
  if (shm_dir[0]) nftw(shm_dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
  shm_dir[0] = 0;
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

static double tv_ms(struct timeval tv) {
  return (double)tv.tv_sec * 1e3 + (double)tv.tv_usec / 1e3;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static double median(const double *v, long n) {
  double s[MAX_RUNS];
  memcpy(s, v, (size_t)n * sizeof *s);
  qsort(s, (size_t)n, sizeof *s, cmp_double);
  return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

static void pool_name(char *buf, size_t cap, long i) {
  snprintf(buf, cap, "%s/pool/f%05ld.so", work_dir, i);
}

/* }=====
 * {===== The contenders that live in this program */

typedef struct file_id {
  dev_t dev;
  ino_t ino;
} file_id;

static int cmp_id(const void *a, const void *b) {
  const file_id *x = a, *y = b;
  if (x->dev != y->dev) return x->dev < y->dev ? -1 : 1;
  return x->ino < y->ino ? -1 : x->ino > y->ino;
}

/* --lean FILE...: the leanest single-threaded scan.  Prints the pids of
 * the processes that hold one of the files (open fd or mapping). */
static int lean_main(int n, char **files) {
  file_id *ids = calloc((size_t)n + 1, sizeof *ids), key;
  static char buf[65536];
  struct dirent *p;
  struct stat st;
  DIR *proc = opendir("/proc");
  long n_ids = 0, i;
  if (!ids || !proc) return 1;
  for (i = 0; i < n; i++)
    if (stat(files[i], &st) == 0) {
      ids[n_ids].dev = st.st_dev;
      ids[n_ids++].ino = st.st_ino;
    }
  qsort(ids, (size_t)n_ids, sizeof *ids, cmp_id);
  while ((p = readdir(proc)) != NULL) {
    char path[300];
    struct dirent *e;
    DIR *fds;
    int hit = 0, fd;
    size_t have = 0;
    if (p->d_name[0] < '1' || p->d_name[0] > '9') continue;
    snprintf(path, sizeof path, "/proc/%s/fd", p->d_name);
    if ((fds = opendir(path)) != NULL) {
      while ((e = readdir(fds)) != NULL)
        if (e->d_name[0] != '.' &&
            fstatat(dirfd(fds), e->d_name, &st, 0) == 0) {
          key.dev = st.st_dev;
          key.ino = st.st_ino;
          hit |= bsearch(&key, ids, (size_t)n_ids, sizeof key, cmp_id) != NULL;
        }
      closedir(fds);
    }
    snprintf(path, sizeof path, "/proc/%s/maps", p->d_name);
    if ((fd = open(path, O_RDONLY | O_CLOEXEC)) >= 0) {
      for (;;) {              /* "start-end perms offset maj:min inode" */
        ssize_t got = read(fd, buf + have, sizeof buf - 1 - have);
        char *line = buf, *nl;
        if (got <= 0) break;
        buf[have + (size_t)got] = 0;
        while ((nl = strchr(line, '\n')) != NULL) {
          char *f = line, *end;
          unsigned long maj, min;
          unsigned long long ino;
          int skip;
          for (skip = 0; skip < 3 && f; skip++) {
            f = memchr(f, ' ', (size_t)(nl - f));
            if (f) f++;
          }
          if (f) {
            maj = strtoul(f, &end, 16);
            min = strtoul(end + 1, &end, 16);
            ino = strtoull(end, NULL, 10);
            if (ino) {
              key.dev = makedev(maj, min);
              key.ino = (ino_t)ino;
              hit |= bsearch(&key, ids, (size_t)n_ids, sizeof key, cmp_id) !=
                     NULL;
            }
          }
          line = nl + 1;
        }
        have = strlen(line);
        memmove(buf, line, have);
      }
      close(fd);
    }
    if (hit) printf("%s\n", p->d_name);
  }
  closedir(proc);
  free(ids);
  return 0;
}

/* --list FILE...: what the command-line tool does.  Prints the pids. */
static int list_main(int n, char **files) {
  static rm_process_info infos[20000];
  unsigned needed = 0, count = sizeof infos / sizeof *infos, i;
  uint32_t h, reasons = 0, rc;
  char key[RM_SESSION_KEY_CHARS + 1];
  if (rm_start_session(&h, 0, key) != RM_OK ||
      rm_register_resources(h, (unsigned)n, (const char *const *)files, 0,
                            NULL, 0, NULL) != RM_OK)
    return 1;
  rc = rm_get_list(h, &needed, &count, infos, &reasons);
  if (rc != RM_OK) {
    fprintf(stderr, "rm_get_list: %s\n", rm_error_name(rc));
    return 1;
  }
  for (i = 0; i < count; i++) printf("%u\n", (unsigned)infos[i].process.pid);
  return rm_end_session(h) == RM_OK ? 0 : 1;
}

/* }=====
 * {===== The workload */

/* A program beside this one. */
static void beside_me(char *buf, size_t cap, const char *name) {
  ssize_t n = readlink("/proc/self/exe", buf, cap - 32);
  char *slash;
  if (n <= 0) die("readlink /proc/self/exe");
  buf[n] = 0;
  slash = strrchr(buf, '/');
  strcpy(slash ? slash + 1 : buf, name);
}

/* Starts the holders through a launcher (fork, setsid, fork, exit), with
 * its stdin on a pipe we keep (closing it stops them) and its stdout on
 * a pipe that says "ready N PID". */
static void start_holders(const config *c, long procs, int sparse) {
  char exe[4096], dir[4200], n[32], k[32], m[32], f[32], line[64];
  char *argv[16];
  int ctl[2], out[2], status, argc = 0;
  pid_t launcher;
  FILE *ready;
  long got = 0, pid = 0;
  beside_me(exe, sizeof exe, "rm_bench_holders");
  snprintf(dir, sizeof dir, "%s/pool", work_dir);
  snprintf(n, sizeof n, "%ld", procs);
  snprintf(k, sizeof k, "%ld", c->per_proc);
  snprintf(m, sizeof m, "%ld", c->mapped);
  snprintf(f, sizeof f, "%ld", c->pool);
  argv[argc++] = exe;
  argv[argc++] = (char *)(uintptr_t)"-D";
  argv[argc++] = (char *)(uintptr_t)"-d"; argv[argc++] = dir;
  argv[argc++] = (char *)(uintptr_t)"-n"; argv[argc++] = n;
  argv[argc++] = (char *)(uintptr_t)"-k"; argv[argc++] = k;
  argv[argc++] = (char *)(uintptr_t)"-m"; argv[argc++] = m;
  argv[argc++] = (char *)(uintptr_t)"-f"; argv[argc++] = f;
  argv[argc++] = (char *)(uintptr_t)"-r"; argv[argc++] = (char *)(uintptr_t)"10";
  if (sparse) argv[argc++] = (char *)(uintptr_t)"-S";
  argv[argc] = NULL;
  if (pipe2(ctl, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0) die("pipe");
  launcher = fork();
  if (launcher < 0) die("fork");
  if (launcher == 0) {
    setsid();
    if (fork() == 0) {
      dup2(ctl[0], 0);
      dup2(out[1], 1);
      execv(exe, argv);
      _exit(127);
    }
    _exit(0);
  }
  while (waitpid(launcher, &status, 0) < 0 && errno == EINTR) {}
  close(ctl[0]);
  close(out[1]);
  holders_ctl = ctl[1];
  ready = fdopen(out[0], "r");
  if (!ready || !fgets(line, sizeof line, ready) ||
      sscanf(line, "ready %ld %ld", &got, &pid) != 2 || got != procs) {
    if (pid > 0) holders_pid = (pid_t)pid;
    errno = EIO;
    die("rm_bench_holders did not get ready");
  }
  holders_pid = (pid_t)pid;
  fclose(ready);
}

/* }=====
 * {===== Running the contenders */

typedef struct contender {
  const char *label;
  char **argv, **envp;
  double wall[MAX_RUNS], cpu[MAX_RUNS];
  long found;
  int missing;              /* not installed */
} contender;

static int cmp_long(const void *a, const void *b) {
  long x = *(const long *)a, y = *(const long *)b;
  return x < y ? -1 : x > y;
}

/* Runs argv with stdout captured; wall and user+system CPU ms of the
 * child; the number of distinct pids it printed.  -1 when it cannot run. */
static int run_tool(char *const argv[], char *const envp[], double *wall,
                    double *cpu, long *n_pids) {
  static long pids[200000];
  long n = 0, i, distinct = 0;
  char buf[65536], num[32];
  size_t num_len = 0;
  posix_spawn_file_actions_t fa;
  struct rusage ru;
  pid_t pid;
  int out[2], status;
  double t0 = now_ms();
  if (pipe(out) != 0) die("pipe");
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&fa, out[1], 1);
  posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addclose(&fa, out[0]);
  posix_spawn_file_actions_addclose(&fa, out[1]);
  if (posix_spawnp(&pid, argv[0], &fa, NULL, argv, envp) != 0) {
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
  while (wait4(pid, &status, 0, &ru) < 0 && errno == EINTR) {}
  *wall = now_ms() - t0;
  *cpu = tv_ms(ru.ru_utime) + tv_ms(ru.ru_stime);
  if (WIFEXITED(status) && WEXITSTATUS(status) == 127) return -1;
  qsort(pids, (size_t)n, sizeof *pids, cmp_long);
  for (i = 0; i < n; i++) distinct += i == 0 || pids[i] != pids[i - 1];
  *n_pids = distinct;
  return 0;
}

/* environ without RESTARTMGR_SCAN_THREADS, plus `extra` ("NAME=value",
 * replacing NAME) when non-NULL. */
static char **environment(const char *extra) {
  size_t n = 0, k = 0, name_len = extra ? strcspn(extra, "=") + 1 : 0;
  char **v;
  while (environ[n]) n++;
  v = calloc(n + 2, sizeof *v);
  if (!v) die("calloc");
  for (n = 0; environ[n]; n++)
    if (strncmp(environ[n], "RESTARTMGR_SCAN_THREADS=", 24) != 0 &&
        !(extra && strncmp(environ[n], extra, name_len) == 0))
      v[k++] = environ[n];
  if (extra) v[k++] = (char *)(uintptr_t)extra;
  return v;
}

/* One session with these files registered. */
static uint32_t open_session(char **files, long n) {
  uint32_t h;
  char key[RM_SESSION_KEY_CHARS + 1];
  if (rm_start_session(&h, 0, key) != RM_OK) die("rm_start_session");
  if (rm_register_resources(h, (unsigned)n, (const char *const *)files, 0,
                            NULL, 0, NULL) != RM_OK)
    die("rm_register_resources");
  return h;
}

static double cpu_self_ms(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return tv_ms(ru.ru_utime) + tv_ms(ru.ru_stime);
}

/* rm_get_list inside a long-lived process: a child opens a session, lists
 * once to warm up, then `runs` times; wall and CPU ms (all its threads)
 * of each timed call into wall[], cpu[]. */
static void list_in_child(char **files, long n, long runs, double *wall,
                          double *cpu, long *found) {
  double t[2 * MAX_RUNS];
  long got = 0;
  int out[2], status;
  pid_t pid;
  if (pipe(out) != 0) die("pipe");
  pid = fork();
  if (pid < 0) die("fork");
  if (pid == 0) {
    static rm_process_info infos[20000];
    uint32_t h, reasons;
    unsigned needed, count = 0;
    long k;
    close(out[0]);
    unsetenv("RESTARTMGR_SCAN_THREADS");
    h = open_session(files, n);
    for (k = -1; k < runs; k++) {
      double w0 = now_ms(), c0 = cpu_self_ms();
      count = sizeof infos / sizeof *infos;
      if (rm_get_list(h, &needed, &count, infos, &reasons) != RM_OK) _exit(1);
      if (k >= 0) {
        t[2 * k] = now_ms() - w0;
        t[2 * k + 1] = cpu_self_ms() - c0;
      }
    }
    rm_end_session(h);
    k = (long)count;
    if (write(out[1], &k, sizeof k) != (ssize_t)sizeof k ||
        write(out[1], t, (size_t)runs * 2 * sizeof *t) !=
            (ssize_t)((size_t)runs * 2 * sizeof *t))
      _exit(1);
    _exit(0);
  }
  close(out[1]);
  if (read(out[0], found, sizeof *found) == (ssize_t)sizeof *found)
    while (got < 2 * runs) {
      ssize_t r = read(out[0], (char *)t + got * (long)sizeof *t,
                       (size_t)(2 * runs - got) * sizeof *t);
      if (r <= 0) break;
      got += r / (long)sizeof *t;
    }
  close(out[0]);
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
  if (got < 2 * runs || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    errno = EIO;
    die("the rm_get_list child failed");
  }
  for (got = 0; got < runs; got++) {
    wall[got] = t[2 * got];
    cpu[got] = t[2 * got + 1];
  }
}

/* }=====
 * {===== The measurements */

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

enum { LEAN, RM_DEFAULT, RM_ONE, FUSER, LSOF, RM_DISK, OTHER_DEFAULT,
       OTHER_ONE, N_CONTENDERS };

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
  c.procs = 500;
  c.per_proc = 40;
  c.mapped = 8;
  c.pool = 2000;
  c.registered = 100;
  c.runs = 9;
  c.scaling = 1;
  while ((opt = getopt(argc, argv, "n:k:m:f:F:R:qsC:")) != -1) {
    switch (opt) {
    case 'n': c.procs = option(optarg); break;
    case 'k': c.per_proc = option(optarg); break;
    case 'm': c.mapped = option(optarg); break;
    case 'f': c.pool = option(optarg); break;
    case 'F': c.registered = option(optarg); break;
    case 'R': c.runs = option(optarg); break;
    case 'q': c.scaling = 0; break;
    case 'C': other_bench = optarg; break;
    case 's':
      c.procs = 20, c.per_proc = 10, c.mapped = 2, c.pool = 200;
      c.registered = 20, c.runs = 1, c.scaling = 0;
      break;
    default:
      fprintf(stderr, "usage: rm_bench_list [-n procs] [-k files] [-m mapped]"
                      " [-f pool] [-F registered] [-R runs] [-q] [-s]"
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
  start_holders(&c, c.procs, 0);
  side_by_side(&c, ncpu, 0, env_default, env_one);
  stop_holders();
  start_holders(&c, c.procs, 1);
  side_by_side(&c, ncpu, 1, env_default, env_one);
  stop_holders();
  if (c.scaling) {
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
