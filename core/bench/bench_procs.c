/* SPDX-License-Identifier: MIT */
/*
 * bench_procs.c: the processes rm_bench_list runs and how it runs them:
 * housekeeping (every process ended and reaped, temp dirs removed, also
 * on SIGINT/SIGTERM), the contenders that live in this program (the
 * leanest scan, --lean; what the command-line tool does, --list; a
 * client's two-call loop, --loop), the
 * holders' launcher, and timing one contender run (wall and CPU time).
 */
#define _GNU_SOURCE
#include "bench.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

char work_dir[4096];
char shm_dir[4096];                   /* the session store, on tmpfs */
static pid_t holders_pid;
static int holders_ctl = -1;          /* its stdin: closing it stops it */
static volatile sig_atomic_t interrupted;

/* {===== Housekeeping */

static int remove_entry(const char *path, const struct stat *st, int flag,
                        struct FTW *ftw) {
  (void)st; (void)flag; (void)ftw;
  (void)remove(path);       /* best effort: keep removing the rest */
  return 0;
}

void remove_tree(const char *path) {
  nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

void stop_holders(void) {
  if (holders_ctl >= 0) {
    close(holders_ctl);     /* end of its stdin: it kills and reaps all */
    holders_ctl = -1;
  }
  if (holders_pid > 0) {    /* adopted by us (subreaper): reap it */
    while (waitpid(holders_pid, NULL, 0) < 0 && errno == EINTR) {}
    holders_pid = 0;
  }
}

void (*cleanup_hook)(void);

void cleanup(void) {
  stop_holders();
  if (cleanup_hook) cleanup_hook();
  if (work_dir[0]) nftw(work_dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
  work_dir[0] = 0;
  if (shm_dir[0]) nftw(shm_dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
  shm_dir[0] = 0;
}

void on_signal(int sig) {
  (void)sig;
  interrupted = 1;
}

void die(const char *what) {
  fprintf(stderr, "rm_bench_list: %s: %s\n", what, strerror(errno));
  cleanup();
  exit(1);
}

void check_interrupt(void) {
  if (interrupted) {
    fprintf(stderr, "rm_bench_list: interrupted, cleaning up\n");
    cleanup();
    exit(130);
  }
}

double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

double tv_ms(struct timeval tv) {
  return (double)tv.tv_sec * 1e3 + (double)tv.tv_usec / 1e3;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

double median(const double *v, long n) {
  double s[MAX_RUNS];
  memcpy(s, v, (size_t)n * sizeof *s);
  qsort(s, (size_t)n, sizeof *s, cmp_double);
  return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

void pool_name(char *buf, size_t cap, long i) {
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
int lean_main(int n, char **files) {
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
int list_main(int n, char **files) {
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

/* --loop FILE...: what a client of Microsoft's documentation does: the
 * two-call loop (no array, MORE_DATA, allocate the count, call again,
 * until it fits).  Prints the pids. */
int loop_main(int n, char **files) {
  rm_process_info *infos = NULL;
  unsigned needed = 0, count = 0, i;
  uint32_t h, reasons = 0, rc;
  char key[RM_SESSION_KEY_CHARS + 1];
  if (rm_start_session(&h, 0, key) != RM_OK ||
      rm_register_resources(h, (unsigned)n, (const char *const *)files, 0,
                            NULL, 0, NULL) != RM_OK)
    return 1;
  while ((rc = rm_get_list(h, &needed, &count, infos, &reasons)) ==
         RM_ERROR_MORE_DATA) {
    free(infos);
    infos = calloc(needed + 1, sizeof *infos);
    if (!infos) return 1;
    count = needed;
  }
  if (rc != RM_OK) {
    fprintf(stderr, "rm_get_list: %s\n", rm_error_name(rc));
    return 1;
  }
  for (i = 0; i < count; i++) printf("%u\n", (unsigned)infos[i].process.pid);
  free(infos);
  return rm_end_session(h) == RM_OK ? 0 : 1;
}

/* }=====
 * {===== The workload */

/* A program beside this one. */
void beside_me(char *buf, size_t cap, const char *name) {
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
void start_holders(const config *c, long procs, int sparse) {
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


static int cmp_long(const void *a, const void *b) {
  long x = *(const long *)a, y = *(const long *)b;
  return x < y ? -1 : x > y;
}

/* Runs argv with stdout captured; wall and user+system CPU ms of the
 * child; the number of distinct pids it printed.  -1 when it cannot run. */
int run_tool(char *const argv[], char *const envp[], double *wall,
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
char **environment(const char *extra) {
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
void list_in_child(char **files, long n, long runs, double *wall,
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

/* }===== */
