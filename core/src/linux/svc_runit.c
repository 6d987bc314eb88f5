/* SPDX-License-Identifier: MIT */
/*
 * svc_runit.c: runit behind the service-manager interface.
 *
 * runsv supervises one service directory: it runs ./run as its child and
 * keeps the state in supervise/ (pid: the child's pid, empty when down;
 * stat: "run", "down", "finish", maybe ", want down"; status: 20 bytes
 * whose byte 17 is the wanted state 'u' or 'd'; control: a FIFO that
 * takes one command byte).  A process belongs to a service when a runsv
 * of the system is its parent (svc_runit_trust.c: root's runsv under the
 * system's runsvdir, on a directory only root can change); the service's
 * name is the basename of that directory.
 *
 * Names resolve under $SVDIR, /etc/service and /var/service, else through
 * a system runsv whose directory has that name; every directory found
 * must pass the same trust check, and everything in it is then opened
 * through the checked directory's fd, without following a link and never
 * as a FIFO or device unless the file is runsv's FIFO (docs/security.md,
 * "Services").
 *
 * Control writes the command byte into supervise/control itself, as `sv`
 * does, but through the checked fd (O_NOFOLLOW | O_NONBLOCK, a FIFO or
 * nothing), and every result is verified by reading supervise/, never
 * trusted.  A start also waits for ./check, when the service has one
 * that is root's like its directory, as `sv start` does.  runit's traps:
 * runsv handles one control byte per loop and sleeps 1 s after a child
 * that ran under 1 s; so a stop is withdrawn
 * with 'u' only once the status says "want down", and nothing trusts a
 * command to have landed.
 */
#define _GNU_SOURCE
#include "svc_runit.h"
#include "safe_path.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define KILL_WAIT_MS 5000u         /* after a kill, for the child to go */
#define POLL_MS 20u

/* {===== Reading supervise/ */

typedef struct runit_state {
  char stat[64];            /* supervise/stat, "" if unreadable */
  uint32_t pid;             /* supervise/pid, 0 when empty */
  char want;                /* 'u', 'd' or 0 when unknown */
} runit_state;

/* A regular file of supervise/ into buf (NUL-terminated); its length or
 * -1.  Never a FIFO, device or link. */
static ssize_t read_supervise(const rm__runit_dir *d, const char *name,
                              char *buf, size_t cap) {
  int fd = rm__linux_open_typed(d->sup_fd, name, O_RDONLY, S_IFREG);
  ssize_t got;
  if (fd < 0) return -1;
  do got = read(fd, buf, cap - 1); while (got < 0 && errno == EINTR);
  close(fd);
  buf[got > 0 ? got : 0] = 0;
  return got;
}

static void read_state(const rm__runit_dir *d, runit_state *s) {
  char buf[64];
  memset(s, 0, sizeof *s);
  if (read_supervise(d, "stat", s->stat, sizeof s->stat) < 0) s->stat[0] = 0;
  if (read_supervise(d, "pid", buf, sizeof buf) > 0)
    s->pid = (uint32_t)strtoul(buf, NULL, 10);
  /* status is binary: 20 bytes, byte 17 the wanted state. */
  {
    int fd = rm__linux_open_typed(d->sup_fd, "status", O_RDONLY, S_IFREG);
    unsigned char st[20];
    if (fd >= 0) {
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

/* 1 when a runsv is supervising the directory: it holds supervise/ok
 * open for reading, so a non-blocking open of that FIFO for writing
 * succeeds (sv's own test). */
static int supervised(const rm__runit_dir *d) {
  int fd = rm__linux_open_typed(d->sup_fd, "ok", O_WRONLY, S_IFIFO);
  if (fd < 0) return 0;
  close(fd);
  return 1;
}

/* }=====
 * {===== Names */

/* Parents already walked without finding runsv, per thread: holders of
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

/* A process is a service's when a system runsv is its parent, or when it
 * descends, through processes without a controlling terminal, from that
 * runsv's child (a run script that forks instead of exec'ing).  A
 * terminal ends the walk (a user's shell under a getty is not the getty
 * service), and so does a runsv that is not the system's: what it runs is
 * a plain program of its owner.  The name "runsv" only selects the
 * parent to check; the check is by identity. */
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
      return rm__runit_system_runsv(parent, name, cap, NULL);
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

/* The service directory of a name, checked and opened: a supervised one
 * under the service directories, else one a system runsv supervises, else
 * an unsupervised definition (known but down).  0 when unknown. */
static int resolve(const char *name, rm__runit_dir *d) {
  const char *bases[3];
  char path[RM_PATH_MAX];
  struct stat st;
  size_t i, n = 0;
  if (!rm__valid_service_name(name)) return 0;
  if (getenv("SVDIR") && getenv("SVDIR")[0] == '/')
    bases[n++] = getenv("SVDIR");
  bases[n++] = "/etc/service";
  bases[n++] = "/var/service";
  for (i = 0; i < n; i++) {
    if ((size_t)snprintf(path, sizeof path, "%s/%s", bases[i], name) >=
            sizeof path ||
        rm__runit_open_dir(path, d) != 0)
      continue;
    if (supervised(d)) return 1;
    rm__runit_close_dir(d);
  }
  if (rm__runit_find_runsv(name, d)) return 1;
  for (i = 0; i < n; i++) {
    if ((size_t)snprintf(path, sizeof path, "%s/%s", bases[i], name) >=
            sizeof path ||
        rm__runit_open_dir(path, d) != 0)
      continue;
    if (fstatat(d->dir_fd, "run", &st, AT_SYMLINK_NOFOLLOW) == 0) return 1;
    rm__runit_close_dir(d);
  }
  return 0;
}

static int runit_lookup(const char *name, uint32_t *pid) {
  rm__runit_dir d;
  runit_state s;
  int state = RM_SVC_DOWN;
  if (!resolve(name, &d)) return RM_SVC_UNKNOWN;
  if (supervised(&d)) {
    read_state(&d, &s);
    if (state_is_up(&s)) {
      *pid = s.pid;
      state = RM_SVC_RUNNING;
    }
  }
  rm__runit_close_dir(&d);
  return state;
}

static int runit_present(void) { return 1; }

static int runit_refuses_stop(const char *name) {
  (void)name;
  return 0;
}

/* }=====
 * {===== Control */

/* Writes one command byte into supervise/control, runsv's FIFO: only a
 * FIFO, never through a link, never blocking (no reader: no runsv).
 * 0 when written; that only says the command was sent. */
static int command(const rm__runit_dir *d, char cmd) {
  int fd = rm__linux_open_typed(d->sup_fd, "control", O_WRONLY, S_IFIFO);
  ssize_t put;
  if (fd < 0) return -1;
  do put = write(fd, &cmd, 1); while (put < 0 && errno == EINTR);
  close(fd);
  return put == 1 ? 0 : -1;
}

/* Polls supervise/ until want(state) holds, the deadline passes or a
 * cancel arrives.  1 when it holds. */
static int wait_for(const rm__runit_dir *d, int (*want)(const runit_state *),
                    uint64_t deadline, const volatile int *cancel) {
  runit_state s;
  for (;;) {
    read_state(d, &s);
    if (want(&s)) return 1;
    if ((cancel && *cancel) || rm__os_now_ms() >= deadline) return 0;
    rm__os_sleep_ms(POLL_MS);
  }
}

static int wants_down(const runit_state *s) { return s->want == 'd'; }

/* Takes back a stop that did not complete, so the service stays up as it
 * was: waits (bounded) until runsv has taken the 'd', so that the 'u'
 * is not handled before it. */
static void withdraw_stop(const rm__runit_dir *d) {
  wait_for(d, wants_down, rm__os_now_ms() + 2000u, NULL);
  command(d, 'u');
}

static uint32_t stop_dir(const rm__runit_dir *d, unsigned timeout_ms,
                         int force, const volatile int *cancel) {
  runit_state s;
  if (!supervised(d)) return RM_ERROR_FAIL_SHUTDOWN;
  read_state(d, &s);
  if (state_is_down(&s)) return RM_OK;
  if (command(d, 'd') != 0) return RM_ERROR_FAIL_SHUTDOWN;
  if (wait_for(d, state_is_down, rm__os_now_ms() + timeout_ms, cancel))
    return RM_OK;
  if (cancel && *cancel) {
    withdraw_stop(d);
    return RM_ERROR_CANCELLED;
  }
  if (!force) {
    withdraw_stop(d);
    return RM_ERROR_FAIL_SHUTDOWN;
  }
  /* runsv sends SIGKILL to its child; it stays down (want is 'd'). */
  if (command(d, 'k') != 0) return RM_ERROR_FAIL_SHUTDOWN;
  return wait_for(d, state_is_down, rm__os_now_ms() + KILL_WAIT_MS, NULL)
             ? RM_OK
             : RM_ERROR_FAIL_SHUTDOWN;
}

static uint32_t runit_stop(const char *name, unsigned timeout_ms, int force,
                           const volatile int *cancel) {
  rm__runit_dir d;
  uint32_t rc;
  if (!resolve(name, &d)) return RM_ERROR_FAIL_SHUTDOWN;
  rc = stop_dir(&d, timeout_ms, force, cancel);
  rm__runit_close_dir(&d);
  return rc;
}

/* runit's readiness convention (as `sv start` uses it): when the service
 * directory has an executable ./check, the service is up once ./check,
 * run in that directory, exits 0.  It runs as root, so only a check that
 * is root's and writable by nobody else, in the checked directory, is
 * ever run; any other is ignored (the state in supervise/ decides).  1
 * when ready before the deadline. */
static int wait_ready(const rm__runit_dir *d, uint64_t deadline) {
  char check[RM_PATH_MAX + 8];
  char *argv[2];
  struct stat st;
  int fd = rm__linux_walk(d->dir_fd, "check", 0, RM_WALK_STRICT, &st);
  if (fd < 0) return 1;
  close(fd);
  if (!S_ISREG(st.st_mode) || !(st.st_mode & S_IXUSR) ||
      (size_t)snprintf(check, sizeof check, "%s/check", d->path) >=
          sizeof check)
    return 1;
  argv[0] = check;
  argv[1] = NULL;
  for (;;) {
    uint64_t now = rm__os_now_ms();
    if (now >= deadline) return 0;
    if (rm__linux_run(d->path, argv, NULL, 0, (unsigned)(deadline - now)) == 0)
      return 1;
    rm__os_sleep_ms(POLL_MS * 5);
  }
}

static uint32_t runit_start(const char *name, unsigned timeout_ms) {
  rm__runit_dir d;
  uint64_t deadline = rm__os_now_ms() + timeout_ms;
  runit_state s;
  uint32_t rc = RM_ERROR_FAIL_RESTART;
  if (!resolve(name, &d)) return RM_ERROR_FAIL_RESTART;
  if (supervised(&d)) {
    read_state(&d, &s);
    if ((state_is_up(&s) || command(&d, 'u') == 0) &&
        wait_for(&d, state_is_up, deadline, NULL) && wait_ready(&d, deadline))
      rc = RM_OK;
  }
  rm__runit_close_dir(&d);
  return rc;
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
