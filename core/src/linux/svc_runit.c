/* SPDX-License-Identifier: MIT */
/*
 * svc_runit.c: runit behind the service-manager interface.
 *
 * runsv supervises one service directory: it runs ./run as its child and
 * keeps the state in supervise/ (pid: the child's pid, empty when down;
 * stat: "run", "down", "finish", maybe ", want down"; status: 20 bytes
 * whose byte 17 is the wanted state 'u' or 'd').  A process belongs to a
 * service when runsv is its parent; the service's name is the basename of
 * runsv's working directory, which is the service directory.
 *
 * Names resolve under $SVDIR, /etc/service and /var/service, else through
 * a running runsv whose directory has that name (how a service supervised
 * outside those directories, as in the tests, is still found).
 *
 * Control goes through `sv` (never a signal to the daemon: runsv would
 * restart it), and every result is verified by reading supervise/, not by
 * trusting sv's "ok:" line.  A start also waits for ./check, when the
 * service has one, as `sv start` does.  runit's traps: runsv handles one control byte per loop and sleeps 1 s after a
 * child that ran under 1 s, and sv silently skips a command equal to the
 * possibly stale wanted state; so a stop is withdrawn with `sv up` only
 * once the status says "want down", and nothing trusts a command to have
 * landed.
 */
#define _GNU_SOURCE
#include "services.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SV_RUN_TIMEOUT_MS 10000u   /* bound on one sv invocation */
#define KILL_WAIT_MS 5000u         /* after sv kill, for the child to go */
#define POLL_MS 20u

/* {===== Reading supervise/ */

typedef struct runit_state {
  char stat[64];            /* supervise/stat, "" if unreadable */
  uint32_t pid;             /* supervise/pid, 0 when empty */
  char want;                /* 'u', 'd' or 0 when unknown */
} runit_state;

static int path_in(char *buf, size_t cap, const char *dir, const char *rel) {
  return (size_t)snprintf(buf, cap, "%s/%s", dir, rel) < cap ? 0 : -1;
}

static void read_state(const char *dir, runit_state *s) {
  char path[RM_PATH_MAX + 32], buf[64];
  int fd;
  memset(s, 0, sizeof *s);
  if (path_in(path, sizeof path, dir, "supervise/stat") == 0 &&
      rm__linux_read_small(AT_FDCWD, path, s->stat, sizeof s->stat) < 0)
    s->stat[0] = 0;
  if (path_in(path, sizeof path, dir, "supervise/pid") == 0 &&
      rm__linux_read_small(AT_FDCWD, path, buf, sizeof buf) > 0)
    s->pid = (uint32_t)strtoul(buf, NULL, 10);
  if (path_in(path, sizeof path, dir, "supervise/status") == 0) {
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd >= 0) {
      unsigned char st[20];
      if (read(fd, st, sizeof st) == (ssize_t)sizeof st &&
          (st[17] == 'u' || st[17] == 'd'))
        s->want = (char)st[17];
      close(fd);
    }
  }
}

static int state_is_up(const runit_state *s) {
  return strncmp(s->stat, "run", 3) == 0 && s->pid > 0 &&
         rm__linux_pid_alive(s->pid);
}

static int state_is_down(const runit_state *s) {
  return strncmp(s->stat, "down", 4) == 0 &&
         (s->pid == 0 || !rm__linux_pid_alive(s->pid));
}

/* 1 when a runsv is supervising dir: it holds supervise/ok open for
 * reading, so a non-blocking open for writing succeeds (sv's own test). */
static int supervised(const char *dir) {
  char path[RM_PATH_MAX + 32];
  int fd;
  if (path_in(path, sizeof path, dir, "supervise/ok") != 0) return 0;
  fd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return 0;
  close(fd);
  return 1;
}

/* }=====
 * {===== Names */

/* The service name of a runsv process: its working directory's basename,
 * or its argument's when the directory cannot be read. */
static int runsv_name(uint32_t runsv, char *name, size_t cap, char *dir,
                      size_t dir_cap) {
  char path[64], target[RM_PATH_MAX], *base;
  ssize_t n;
  snprintf(path, sizeof path, "/proc/%u/cwd", (unsigned)runsv);
  n = readlink(path, target, sizeof target - 1);
  if (n <= 0) {
    char cmd[RM_PATH_MAX];
    ssize_t len;
    snprintf(path, sizeof path, "/proc/%u", (unsigned)runsv);
    {
      int dfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (dfd < 0) return 0;
      len = rm__linux_read_small(dfd, "cmdline", cmd, sizeof cmd);
      close(dfd);
    }
    if (len <= 0 || (size_t)len <= strlen(cmd) + 1) return 0;
    base = cmd + strlen(cmd) + 1;          /* argv[1] */
    n = (ssize_t)strlen(base);
    while (n > 1 && base[n - 1] == '/') base[--n] = 0;
    memcpy(target, base, (size_t)n + 1);
    if (dir) dir[0] = 0;
  } else {
    target[n] = 0;
    if (dir && (size_t)n < dir_cap) memcpy(dir, target, (size_t)n + 1);
  }
  base = strrchr(target, '/');
  base = base ? base + 1 : target;
  if (!*base || strlen(base) >= cap || strlen(base) > RM_MAX_SVC_NAME)
    return 0;
  memcpy(name, base, strlen(base) + 1);
  return 1;
}

static int is_runsv(uint32_t pid) {
  rm__pstat st;
  return rm__linux_read_stat(-1, pid, &st) == 0 &&
         strcmp(st.comm, "runsv") == 0;
}

/* Ancestors already walked without finding runsv, per thread: holders of
 * one file are often siblings, and without this each would walk the same
 * chain of parents again (the walk was most of a list's cost).  Keyed by
 * pid and the inode number of its /proc/PID directory, which the kernel
 * allocates afresh for every process (a recycled pid gets a new one), so
 * a hit costs one statx instead of reading the parent's stat; an ancestry
 * cannot move under a runsv later, because orphans are re-parented to
 * init or a subreaper. */
#define PLAIN_CACHE 256
static __thread struct {
  uint32_t pid;
  uint64_t ino;
} plain_cache[PLAIN_CACHE];

static int known_plain(uint32_t pid, uint64_t ino) {
  return ino && plain_cache[pid % PLAIN_CACHE].pid == pid &&
         plain_cache[pid % PLAIN_CACHE].ino == ino;
}

/* The inode number of /proc/PID, 0 when it is gone. */
static uint64_t proc_ino(uint32_t pid) {
  char path[32];
  struct statx sx;
  snprintf(path, sizeof path, "/proc/%u", (unsigned)pid);
  if (statx(AT_FDCWD, path, AT_STATX_DONT_SYNC, STATX_INO, &sx) != 0)
    return 0;
  return sx.stx_ino;
}

/* A process is a service's when runsv is its parent, or when it descends,
 * through processes without a controlling terminal, from runsv's child
 * (a run script that forks instead of exec'ing).  A terminal ends the
 * walk: a user's shell under a getty is not the getty service. */
static int runit_service_of(uint32_t pid, const rm__pstat *known, char *name,
                            size_t cap) {
  uint32_t seen[16];
  uint64_t seen_ino[16];
  int n_seen = 0, depth, i;
  rm__pstat st;
  if (known) st = *known;
  else if (rm__linux_read_stat(-1, pid, &st) != 0) return 0;
  for (depth = 0; depth < 16; depth++) {
    uint32_t parent = (uint32_t)st.ppid;
    uint64_t ino;
    rm__pstat up;
    if (st.ppid <= 1) break;
    ino = proc_ino(parent);
    if (known_plain(parent, ino)) break;        /* not runsv, nor above */
    if (rm__linux_read_stat(-1, parent, &up) != 0) break;
    if (strcmp(up.comm, "runsv") == 0)
      return runsv_name(parent, name, cap, NULL, 0);
    if (st.tty_nr != 0) break;
    /* Cached only when the stat read came from that same process. */
    if (ino && proc_ino(parent) == ino) {
      seen[n_seen] = parent;
      seen_ino[n_seen++] = ino;
    }
    st = up;
  }
  for (i = 0; i < n_seen; i++) {
    plain_cache[seen[i] % PLAIN_CACHE].pid = seen[i];
    plain_cache[seen[i] % PLAIN_CACHE].ino = seen_ino[i];
  }
  return 0;
}

/* Finds a running runsv whose service has this name; fills dir. */
static int find_runsv(const char *name, char *dir, size_t cap) {
  DIR *d = opendir("/proc");
  struct dirent *e;
  int found = 0;
  if (!d) return 0;
  while (!found && (e = readdir(d)) != NULL) {
    char got[RM_MAX_SVC_NAME + 1];
    char *end;
    unsigned long pid = strtoul(e->d_name, &end, 10);
    if (*end || pid == 0 || !is_runsv((uint32_t)pid)) continue;
    if (runsv_name((uint32_t)pid, got, sizeof got, dir, cap) &&
        strcmp(got, name) == 0 && dir[0] == '/')
      found = 1;
  }
  closedir(d);
  return found;
}

/* The service directory of a name: a supervised one under the service
 * directories, else one a running runsv supervises, else an unsupervised
 * definition (known but down).  0 when unknown. */
static int resolve(const char *name, char *dir, size_t cap) {
  const char *bases[3];
  char path[RM_PATH_MAX + 32];
  struct stat st;
  size_t i, n = 0;
  if (!rm__valid_service_name(name)) return 0;
  if (getenv("SVDIR") && getenv("SVDIR")[0] == '/')
    bases[n++] = getenv("SVDIR");
  bases[n++] = "/etc/service";
  bases[n++] = "/var/service";
  for (i = 0; i < n; i++)
    if (path_in(dir, cap, bases[i], name) == 0 && supervised(dir)) return 1;
  if (find_runsv(name, dir, cap)) return 1;
  for (i = 0; i < n; i++)
    if (path_in(dir, cap, bases[i], name) == 0 &&
        path_in(path, sizeof path, dir, "run") == 0 && stat(path, &st) == 0)
      return 1;
  return 0;
}

static int runit_lookup(const char *name, uint32_t *pid) {
  char dir[RM_PATH_MAX];
  runit_state s;
  if (!resolve(name, dir, sizeof dir)) return RM_SVC_UNKNOWN;
  if (!supervised(dir)) return RM_SVC_DOWN;
  read_state(dir, &s);
  if (!state_is_up(&s)) return RM_SVC_DOWN;
  *pid = s.pid;
  return RM_SVC_RUNNING;
}

static int runit_present(void) { return 1; }

static int runit_refuses_stop(const char *name) {
  (void)name;
  return 0;
}

/* }=====
 * {===== Control */

/* Runs `sv CMD DIR`; its exit code only says the command was sent. */
static int sv(const char *cmd, const char *dir) {
  char prog[RM_PATH_MAX];
  char *argv[4];
  int rc;
  if (rm__linux_find_program("sv", prog, sizeof prog) != 0) return -1;
  argv[0] = prog;
  argv[1] = (char *)(uintptr_t)cmd;
  argv[2] = (char *)(uintptr_t)dir;
  argv[3] = NULL;
  rc = rm__linux_run(NULL, argv, NULL, 0, SV_RUN_TIMEOUT_MS);
  return rc == -2 ? 0 : rc;
}

/* Polls supervise/ until want(state) holds, the deadline passes or a
 * cancel arrives.  1 when it holds. */
static int wait_for(const char *dir, int (*want)(const runit_state *),
                    uint64_t deadline, const volatile int *cancel) {
  runit_state s;
  for (;;) {
    read_state(dir, &s);
    if (want(&s)) return 1;
    if ((cancel && *cancel) || rm__os_now_ms() >= deadline) return 0;
    rm__os_sleep_ms(POLL_MS);
  }
}

static int wants_down(const runit_state *s) { return s->want == 'd'; }

/* Takes back a stop that did not complete, so the service stays up as it
 * was: waits (bounded) until runsv has taken the 'd', so that sv does not
 * skip the 'u' against a stale status. */
static void withdraw_stop(const char *dir) {
  wait_for(dir, wants_down, rm__os_now_ms() + 2000u, NULL);
  sv("up", dir);
}

static uint32_t runit_stop(const char *name, unsigned timeout_ms, int force,
                           const volatile int *cancel) {
  char dir[RM_PATH_MAX];
  runit_state s;
  if (!resolve(name, dir, sizeof dir) || !supervised(dir))
    return RM_ERROR_FAIL_SHUTDOWN;
  read_state(dir, &s);
  if (state_is_down(&s)) return RM_OK;
  if (sv("down", dir) != 0) return RM_ERROR_FAIL_SHUTDOWN;
  if (wait_for(dir, state_is_down, rm__os_now_ms() + timeout_ms, cancel))
    return RM_OK;
  if (cancel && *cancel) {
    withdraw_stop(dir);
    return RM_ERROR_CANCELLED;
  }
  if (!force) {
    withdraw_stop(dir);
    return RM_ERROR_FAIL_SHUTDOWN;
  }
  /* runsv sends SIGKILL to its child; it stays down (want is 'd'). */
  if (sv("kill", dir) != 0) return RM_ERROR_FAIL_SHUTDOWN;
  return wait_for(dir, state_is_down, rm__os_now_ms() + KILL_WAIT_MS, NULL)
             ? RM_OK
             : RM_ERROR_FAIL_SHUTDOWN;
}

/* runit's readiness convention (as `sv start` uses it): when the service
 * directory has an executable ./check, the service is up once ./check,
 * run in that directory, exits 0.  1 when ready before the deadline. */
static int wait_ready(const char *dir, uint64_t deadline) {
  char check[RM_PATH_MAX + 32];
  char *argv[2];
  if (path_in(check, sizeof check, dir, "check") != 0 ||
      access(check, X_OK) != 0)
    return 1;
  argv[0] = check;
  argv[1] = NULL;
  for (;;) {
    uint64_t now = rm__os_now_ms();
    if (now >= deadline) return 0;
    if (rm__linux_run(dir, argv, NULL, 0, (unsigned)(deadline - now)) == 0)
      return 1;
    rm__os_sleep_ms(POLL_MS * 5);
  }
}

static uint32_t runit_start(const char *name, unsigned timeout_ms) {
  char dir[RM_PATH_MAX];
  uint64_t deadline = rm__os_now_ms() + timeout_ms;
  runit_state s;
  if (!resolve(name, dir, sizeof dir) || !supervised(dir))
    return RM_ERROR_FAIL_RESTART;
  read_state(dir, &s);
  if (!state_is_up(&s) && sv("up", dir) != 0) return RM_ERROR_FAIL_RESTART;
  return wait_for(dir, state_is_up, deadline, NULL) && wait_ready(dir, deadline)
             ? RM_OK
             : RM_ERROR_FAIL_RESTART;
}

/* }===== */

/* A runit service is listed under its directory's name as registered. */
static int runit_short_name(const char *name, char *out, size_t cap) {
  size_t n = strlen(name);
  if (n >= cap) return 0;
  memcpy(out, name, n + 1);
  return 1;
}

const rm__svc_manager rm__svc_runit = {
  "runit", runit_present, runit_service_of, runit_short_name, runit_lookup,
  runit_refuses_stop, runit_stop, runit_start, NULL, NULL, NULL
};
