/* SPDX-License-Identifier: MIT */
/*
 * holders.c (rm_bench_holders): the benchmark's workload.  A pool of
 * files in a directory, and child processes that hold some of them the
 * way programs hold libraries and data: open fds, and mappings whose fd
 * was closed.  Optionally, once every child holds its files, some pool
 * files are replaced by new inodes (rename over them, as package managers
 * do), so that children keep older, deleted inodes.
 *
 *   rm_bench_holders -d DIR [-n PROCS] [-k FILES_EACH] [-m MAPPED_EACH]
 *                    [-f POOL] [-r REPLACE_EVERY] [-s SEED] [-S] [-D]
 *
 * -S (sparse): every child also holds one of its files at fd 250 and has
 * holes low in its fd table, as daemons that dup to fixed numbers do.
 * -D (detached): started by a launcher that exits at once, so the death
 * of its parent means nothing; it stops at end of file on stdin instead.
 *
 * Prints "ready N PID" (N children holding their files, its own pid) and
 * waits; SIGTERM, SIGINT, the death of its parent (or with -D the end of
 * stdin) ends it, after it killed and reaped every child.  Children die
 * with it (PR_SET_PDEATHSIG).  The pool files are left for the caller to
 * remove.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile sig_atomic_t stopping;

static void on_stop(int sig) {
  (void)sig;
  stopping = 1;
}

/* splitmix64: small, seedable, good enough to spread picks. */
static uint64_t next_random(uint64_t *state) {
  uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

static void pool_name(char *buf, size_t cap, const char *dir, long i) {
  snprintf(buf, cap, "%s/f%05ld.so", dir, i);
}

static int create_file(const char *path) {
  static char page[4096];
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return -1;
  if (page[0] == 0) memset(page, 'p', sizeof page);
  if (write(fd, page, sizeof page) != (ssize_t)sizeof page) {
    close(fd);
    return -1;
  }
  return close(fd);
}

/* One holder: k distinct pool files, the first m mapped and closed. */
static void hold(const char *dir, long pool, long k, long m, uint64_t seed,
                 int ready_fd, int sparse) {
  char path[4096];
  unsigned char *taken = calloc((size_t)pool, 1);
  long held = 0;
  int holes[4], last = -1, h;
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (!taken) _exit(3);
  for (h = 0; sparse && h < 4; h++)       /* taken now, closed at the end */
    if ((holes[h] = open("/dev/null", O_RDONLY)) < 0) _exit(3);
  if (k > pool) k = pool;
  while (held < k) {
    long i = (long)(next_random(&seed) % (uint64_t)pool);
    int fd;
    if (taken[i]) continue;
    taken[i] = 1;
    pool_name(path, sizeof path, dir, i);
    fd = open(path, O_RDONLY);
    if (fd < 0) _exit(3);
    if (held < m) {
      if (mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, fd, 0) == MAP_FAILED)
        _exit(3);
      close(fd);
    } else {
      last = fd;
    }
    held++;
  }
  free(taken);
  if (sparse) {
    for (h = 0; h < 4; h++) close(holes[h]);
    if (last >= 0 && dup2(last, 250) != 250) _exit(3);
  }
  if (write(ready_fd, "r", 1) != 1) _exit(3);
  close(ready_fd);
  for (;;) pause();
}

static long number(const char *s) {
  char *end;
  long v = strtol(s, &end, 10);
  if (*s == 0 || *end || v < 0) {
    fprintf(stderr, "rm_bench_holders: bad number %s\n", s);
    exit(2);
  }
  return v;
}

int main(int argc, char **argv) {
  long procs = 100, k = 20, m = 5, pool = 1000, every = 0, i, started = 0;
  long ready = 0;
  uint64_t seed = 1;
  int sparse = 0, detached = 0;
  const char *dir = NULL;
  char path[4096], tmp[4200], c;
  struct sigaction sa;
  sigset_t stop_signals, waiting_mask;
  pid_t *pids;
  int opt, pipe_fd[2];

  while ((opt = getopt(argc, argv, "d:n:k:m:f:r:s:SD")) != -1) {
    switch (opt) {
    case 'd': dir = optarg; break;
    case 'n': procs = number(optarg); break;
    case 'k': k = number(optarg); break;
    case 'm': m = number(optarg); break;
    case 'f': pool = number(optarg); break;
    case 'r': every = number(optarg); break;
    case 's': seed = (uint64_t)number(optarg); break;
    case 'S': sparse = 1; break;
    case 'D': detached = 1; break;
    default:
      fprintf(stderr, "usage: rm_bench_holders -d DIR [-n procs] [-k files] "
                      "[-m mapped] [-f pool] [-r replace_every] [-s seed] "
                      "[-S] [-D]\n");
      return 2;
    }
  }
  if (!dir || pool < 1) {
    fprintf(stderr, "rm_bench_holders: -d DIR and a pool of at least 1\n");
    return 2;
  }
  if (!detached) prctl(PR_SET_PDEATHSIG, SIGTERM);
  close_range(3, ~0u, 0);     /* whatever the caller leaked stays out */
  if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
    perror(dir);
    return 2;
  }
  for (i = 0; i < pool; i++) {
    pool_name(path, sizeof path, dir, i);
    if (create_file(path) != 0) {
      perror(path);
      return 2;
    }
  }
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_stop;
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  /* Held back until sigsuspend below, so that no stop request is lost
   * between a check of the flag and the wait. */
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  sigprocmask(SIG_BLOCK, &stop_signals, &waiting_mask);
  pids = calloc((size_t)procs + 1, sizeof *pids);
  if (!pids || pipe(pipe_fd) != 0) return 2;

  for (i = 0; i < procs; i++) {
    pid_t pid = fork();
    if (pid < 0) break;
    if (pid == 0) {
      close(pipe_fd[0]);
      hold(dir, pool, k, m, seed * 1000003u + (uint64_t)i, pipe_fd[1],
           sparse);
    }
    pids[started++] = pid;
  }
  close(pipe_fd[1]);
  while (ready < started) {
    ssize_t got = read(pipe_fd[0], &c, 1);
    if (got == 1) ready++;
    else if (got == 0 || errno != EINTR) break;
  }
  if (every > 0)
    for (i = 0; i < pool; i += every) {
      pool_name(path, sizeof path, dir, i);
      snprintf(tmp, sizeof tmp, "%s.new", path);
      if (create_file(tmp) != 0 || rename(tmp, path) != 0) perror(path);
    }
  printf("ready %ld %ld\n", ready, (long)getpid());
  fflush(stdout);
  while (!stopping) {
    if (detached) {           /* stdin's end, or a signal */
      struct pollfd in = { 0, POLLIN, 0 };
      char sink[64];
      if (ppoll(&in, 1, NULL, &waiting_mask) > 0 &&
          read(0, sink, sizeof sink) <= 0)
        stopping = 1;
    } else {
      sigsuspend(&waiting_mask);
    }
  }
  for (i = 0; i < started; i++) kill(pids[i], SIGKILL);
  for (i = 0; i < started; i++)
    while (waitpid(pids[i], NULL, 0) < 0 && errno == EINTR) {}
  free(pids);
  return ready == procs ? 0 : 1;
}
