/* SPDX-License-Identifier: MIT */
/*
 * downtime.c: rm_bench_downtime, how long each service is down while a
 * tool restarts it (core/bench/server-bench.sh runs it inside the server
 * container, once for restartmgr and once for needrestart).
 *
 *   rm_bench_downtime [-t SECONDS] UNIT:PID:PROBE...
 *
 * PID is the unit's main process before the restart.  PROBE says when
 * the unit is back: http:PORT (an HTTP/1.0 GET on 127.0.0.1 gets a status
 * line), redis:PORT (PING gets +PONG), ssh:PORT (the server's banner), or
 * pid (a process of the unit's cgroup, /sys/fs/cgroup/system.slice/
 * UNIT.service, that is not PID).  It prints "ready" once the old
 * processes are pinned (pidfds), then watches every millisecond; the
 * downtime of a unit is from its old main process's exit to the first
 * answer after it.  One line per unit at the end:
 *
 *   UNIT EXIT_MS BACK_MS DOWNTIME_MS     (ms since "ready")
 *
 * with "-" for what did not happen within the time limit (default 60 s;
 * a unit that never stopped was not restarted).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define MAX_UNITS 32

typedef struct unit {
  char name[128], probe[16];
  long pid;
  int port, pidfd;
  double exit_ms, back_ms;         /* < 0: not yet */
} unit;

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Connects to 127.0.0.1:port, sends req (may be NULL), and reads until
 * the answer starts with want: 1 when it did, within 200 ms. */
static int ask(int port, const char *req, const char *want) {
  struct sockaddr_in a;
  struct pollfd p;
  char buf[256];
  size_t got = 0;
  double deadline = now_ms() + 200;
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), ok = 0;
  if (fd < 0) return 0;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_port = htons((unsigned short)port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) goto end;
  if (req && write(fd, req, strlen(req)) != (ssize_t)strlen(req)) goto end;
  while (got < strlen(want) && now_ms() < deadline) {
    ssize_t n;
    p.fd = fd;
    p.events = POLLIN;
    if (poll(&p, 1, (int)(deadline - now_ms()) + 1) <= 0) break;
    n = read(fd, buf + got, sizeof buf - 1 - got);
    if (n <= 0) break;
    got += (size_t)n;
  }
  ok = got >= strlen(want) && memcmp(buf, want, strlen(want)) == 0;
end:
  close(fd);
  return ok;
}

/* 1 when the unit's cgroup holds a process other than its old one. */
static int new_process(const unit *u) {
  char path[512], buf[4096], *p, *end;
  ssize_t n;
  int fd;
  if ((size_t)snprintf(path, sizeof path, "/sys/fs/cgroup/system.slice/"
                       "%.128s.service/cgroup.procs", u->name) >= sizeof path)
    return 0;
  fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return 0;
  buf[n] = 0;
  for (p = buf; *p; p = end) {
    long pid = strtol(p, &end, 10);
    if (end == p) break;
    if (pid > 0 && pid != u->pid) return 1;
    while (*end == '\n') end++;
  }
  return 0;
}

static int answers(const unit *u) {
  if (strcmp(u->probe, "http") == 0)
    return ask(u->port, "GET / HTTP/1.0\r\n\r\n", "HTTP/1.");
  if (strcmp(u->probe, "redis") == 0)
    return ask(u->port, "PING\r\n", "+PONG");
  if (strcmp(u->probe, "ssh") == 0) return ask(u->port, NULL, "SSH-");
  return new_process(u);
}

static int exited(unit *u) {
  struct pollfd p;
  if (u->pidfd < 0) return kill((pid_t)u->pid, 0) != 0 && errno == ESRCH;
  p.fd = u->pidfd;
  p.events = POLLIN;
  return poll(&p, 1, 0) > 0;
}

static void print_ms(double v) {
  if (v < 0) printf(" -");
  else printf(" %.1f", v);
}

int main(int argc, char **argv) {
  unit units[MAX_UNITS];
  int n = 0, i, pending;
  double limit = 60e3, start;
  for (i = 1; i < argc; i++) {
    unit *u;
    char *c1, *c2;
    if (strcmp(argv[i], "-t") == 0 && i + 1 < argc) {
      limit = atof(argv[++i]) * 1e3;
      continue;
    }
    c1 = strchr(argv[i], ':');
    c2 = c1 ? strchr(c1 + 1, ':') : NULL;
    if (!c2 || n == MAX_UNITS || (size_t)(c1 - argv[i]) >= sizeof u->name) {
      fprintf(stderr, "usage: rm_bench_downtime [-t SECONDS] UNIT:PID:PROBE...\n");
      return 2;
    }
    u = &units[n++];
    memset(u, 0, sizeof *u);
    memcpy(u->name, argv[i], (size_t)(c1 - argv[i]));
    u->pid = strtol(c1 + 1, NULL, 10);
    snprintf(u->probe, sizeof u->probe, "%.*s", (int)strcspn(c2 + 1, ":"),
             c2 + 1);
    if (strchr(c2 + 1, ':')) u->port = atoi(strchr(c2 + 1, ':') + 1);
    u->pidfd = (int)syscall(SYS_pidfd_open, (pid_t)u->pid, 0u);
    u->exit_ms = u->pid > 0 ? -1 : 0;   /* no old process: down already */
    u->back_ms = -1;
  }
  printf("ready\n");
  fflush(stdout);
  start = now_ms();
  do {
    pending = 0;
    for (i = 0; i < n; i++) {
      unit *u = &units[i];
      if (u->back_ms >= 0) continue;
      pending++;
      if (u->exit_ms < 0 && exited(u)) u->exit_ms = now_ms() - start;
      if (u->exit_ms >= 0 && answers(u)) u->back_ms = now_ms() - start;
    }
    if (pending) usleep(1000);
  } while (pending && now_ms() - start < limit);
  for (i = 0; i < n; i++) {
    unit *u = &units[i];
    printf("%s", u->name);
    print_ms(u->exit_ms);
    print_ms(u->back_ms);
    print_ms(u->exit_ms >= 0 && u->back_ms >= 0 ? u->back_ms - u->exit_ms
                                                 : -1);
    printf("\n");
  }
  return 0;
}
