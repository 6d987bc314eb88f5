/* SPDX-License-Identifier: MIT */
/*
 * relaunch.c: rm__os_launch, starting a captured application again
 * (rm__os_launch_begin/_end: many at once, one settle time for all).
 *
 * Safety first (docs/linux.md, Restart):
 *
 *  - Credentials before paths.  The new process takes on the target's
 *    whole credential set (supplementary groups, then gid, then uid, all
 *    of real/effective/saved) before it touches any path, so every path
 *    after that (its cwd, its executable) is resolved with the target's
 *    rights, never the caller's.  A caller that is not root can only
 *    start programs with exactly its own credentials; root never starts
 *    as root what did not run as root (it drops to the captured user,
 *    and checks that the drop cannot be undone).
 *  - Its directory, as that user: the captured cwd, else the user's home
 *    (RM_RESTART_NOTE_CWD_HOME), else "/" (RM_RESTART_NOTE_CWD_ROOT).  A
 *    cwd swapped for a symlink into a directory the user may not enter
 *    therefore fails and falls back; it is never entered with root's
 *    rights.
 *  - The executable by identity: opened (O_PATH, as the user) at the
 *    captured path and checked with fstat: the captured inode, or the file
 *    that replaced it there (an upgrade, RM_RESTART_NOTE_UPGRADED); it
 *    must be a plain executable (no setuid, setgid or file capabilities).
 *    That very file is executed with fexecve, never a name looked up in
 *    PATH, never argv[0].  (A script, which the kernel cannot run from a
 *    close-on-exec descriptor, is executed by path after re-checking
 *    that the path still names the checked inode.)
 *  - The environment is the captured one, except when root relaunches a
 *    root process: then every variable that makes the loader or an
 *    interpreter load code is removed first (relaunch_env.c,
 *    RM_RESTART_NOTE_ENV_SANITIZED), because a root daemon's initial
 *    environment may have been handed to it by a less trusted user.
 *  - Its context, not the caller's (context.c, placement.c): limits,
 *    nice, oom score adjustment and bounding set before the credentials,
 *    a session keyring of its own, umask, personality, no_new_privs and
 *    its stdout/stderr files after them, and its cgroup, set by the
 *    caller before the go byte.  A launch without a captured context is
 *    not started (RM_RESTART_FAILED_CONTEXT).
 *
 * How it runs: the caller forks an intermediate process that makes
 * itself a child subreaper and forks the application.  The application
 * sets itself up (session, stdio on /dev/null, credentials, cwd,
 * executable), then waits for a go byte so that the caller reads its
 * identity before it can exit, then execs; a close-on-exec pipe carries
 * any setup or exec failure back.  The intermediate watches the
 * application for the settle time (200 ms, RESTARTMGR_RESTART_SETTLE_MS):
 * still running is success; an exit with status 0 that left exactly one
 * process behind (a daemon that forked into the background, whose orphans
 * the subreaper collects) is success with the entry following that
 * process (RM_RESTART_NOTE_DAEMONIZED); anything else is
 * RM_RESTART_FAILED_EXITED.  The intermediate then exits, so the
 * application is not the caller's child (no zombie, no SIGCHLD).
 */
#define _GNU_SOURCE
#include "linux.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define SETTLE_MS 200u

/* What the application reports on its close-on-exec pipe. */
typedef struct app_report {
  uint32_t failure;           /* RM_RESTART_FAILED_*, 0: only notes */
  int32_t error;
  uint32_t notes;
} app_report;

/* What the intermediate reports after the settle time. */
enum { SETTLED_RUNNING = 1, SETTLED_EXITED = 2, SETTLED_DAEMON = 3 };
typedef struct settle_report {
  int32_t kind;
  int32_t value;              /* exit status or -signal; daemon pid */
} settle_report;

/* Everything the children need, prepared before fork (after fork only
 * async-signal-safe calls are allowed). */
typedef struct plan {
  const rm__launch *l;
  char **envp;                /* l->envp, or a filtered copy of pointers */
  const char *home;
  gid_t *groups;
  int as_root;                /* the caller is root: set credentials */
  int null_fd;
  unsigned settle_ms;
  uint32_t notes;
} plan;

/* {===== The application's side (async-signal-safe only) */

static void report(int fd, uint32_t failure, int error, uint32_t notes) {
  app_report r;
  r.failure = failure;
  r.error = error;
  r.notes = notes;
  if (write(fd, &r, sizeof r) < 0) {}
}

/* "/proc/self/fd/N" into buf[32]. */
static void fd_path(char *buf, int fd) {
  static const char prefix[] = "/proc/self/fd/";
  char digits[12];
  int n = 0;
  memcpy(buf, prefix, sizeof prefix - 1);
  do digits[n++] = (char)('0' + fd % 10); while ((fd /= 10) > 0);
  buf += sizeof prefix - 1;
  while (n) *buf++ = digits[--n];
  *buf = 0;
}

static void become_app(const plan *pl, int go_fd, int info_fd) {
  const rm__launch *l = pl->l;
  struct sigaction dfl;
  struct stat st;
  sigset_t none;
  char go, xattr_path[32];
  uint32_t notes = pl->notes;
  int sig, exe_fd, fd, err;
  ssize_t got;

  memset(&dfl, 0, sizeof dfl);
  dfl.sa_handler = SIG_DFL;
  for (sig = 1; sig < NSIG; sig++) sigaction(sig, &dfl, NULL);
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  setsid();
  dup2(pl->null_fd, 0);
  dup2(pl->null_fd, 1);
  dup2(pl->null_fd, 2);

  /* 0. The context that needs the caller's privilege. */
  if ((err = rm__linux_apply_context_caller(&l->ctx)) != 0) {
    report(info_fd, RM_RESTART_FAILED_CONTEXT, err, notes);
    _exit(127);
  }
  /* 1. Credentials, before any path. */
  if (pl->as_root) {
    uid_t r, e, s;
    if (setgroups(l->n_groups, pl->groups) != 0 ||
        setresgid((gid_t)l->gid, (gid_t)l->gid, (gid_t)l->gid) != 0 ||
        setresuid((uid_t)l->uid, (uid_t)l->uid, (uid_t)l->uid) != 0) {
      report(info_fd, RM_RESTART_FAILED_CREDENTIALS, errno, notes);
      _exit(127);
    }
    if (getresuid(&r, &e, &s) != 0 || r != l->uid || e != l->uid ||
        s != l->uid || (l->uid != 0 && setuid(0) == 0)) {
      report(info_fd, RM_RESTART_FAILED_CREDENTIALS, EPERM, notes);
      _exit(127);
    }
  }
  /* 1b. The rest of its context, as its user. */
  if ((err = rm__linux_apply_context_user(&l->ctx)) != 0) {
    report(info_fd, RM_RESTART_FAILED_CONTEXT, err, notes);
    _exit(127);
  }
  /* 2. Its directory, as its user. */
  if (chdir(l->cwd) != 0) {
    if (pl->home && chdir(pl->home) == 0) {
      notes |= RM_RESTART_NOTE_CWD_HOME;
    } else if (chdir("/") == 0) {
      notes |= RM_RESTART_NOTE_CWD_ROOT;
    } else {
      report(info_fd, RM_RESTART_FAILED_LAUNCH, errno, notes);
      _exit(127);
    }
  }
  /* 3. The executable, checked by identity. */
  exe_fd = open(l->exe, O_PATH | O_CLOEXEC);
  if (exe_fd < 0 || fstat(exe_fd, &st) != 0) {
    report(info_fd, RM_RESTART_FAILED_NO_EXECUTABLE, errno, notes);
    _exit(127);
  }
  fd_path(xattr_path, exe_fd);
  if (rm__linux_plain_executable(&st, xattr_path) != 0) {
    report(info_fd, RM_RESTART_FAILED_NO_EXECUTABLE, errno, notes);
    _exit(127);
  }
  if ((l->exe_id.dev || l->exe_id.ino) &&
      ((uint64_t)st.st_dev != l->exe_id.dev ||
       (uint64_t)st.st_ino != l->exe_id.ino))
    notes |= RM_RESTART_NOTE_UPGRADED;

  /* Wait until the caller has our identity; no go byte, no exec. */
  while ((got = read(go_fd, &go, 1)) < 0 && errno == EINTR) {}
  if (got != 1) _exit(127);
  /* Keep stdio, the report pipe as 3 and the executable as 4. */
  info_fd = fcntl(info_fd, F_DUPFD_CLOEXEC, 5);
  exe_fd = fcntl(exe_fd, F_DUPFD_CLOEXEC, 5);
  if (info_fd < 0 || exe_fd < 0 || dup3(info_fd, 3, O_CLOEXEC) < 0 ||
      dup3(exe_fd, 4, O_CLOEXEC) < 0)
    _exit(127);
  info_fd = 3;
  exe_fd = 4;
#ifdef SYS_close_range
  if (syscall(SYS_close_range, 5u, ~0u, 0u) != 0)
#endif
    for (fd = 5; fd < 1024; fd++) close(fd);
  report(info_fd, 0, 0, notes);
  fexecve(exe_fd, l->argv, pl->envp);
  if (errno == ENOENT) {
    /* A script: the interpreter cannot open a close-on-exec descriptor,
     * so exec the path, once it is known to still be the checked file. */
    struct stat again;
    if (stat(l->exe, &again) == 0 && again.st_dev == st.st_dev &&
        again.st_ino == st.st_ino)
      execve(l->exe, l->argv, pl->envp);
  }
  report(info_fd, RM_RESTART_FAILED_EXEC, errno, notes);
  _exit(127);
}

/* }=====
 * {===== The intermediate (async-signal-safe only) */

/* The first pid in /proc/self/task/TID/children, or 0. */
static pid_t first_child(void) {
  char path[64], buf[64];
  static const char prefix[] = "/proc/self/task/";
  pid_t tid = getpid(), v = 0;
  char digits[12];
  int n = 0, fd;
  size_t k = sizeof prefix - 1;
  ssize_t got;
  memcpy(path, prefix, k);
  do digits[n++] = (char)('0' + tid % 10); while ((tid /= 10) > 0);
  while (n) path[k++] = digits[--n];
  memcpy(path + k, "/children", 10);
  fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  got = read(fd, buf, sizeof buf - 1);
  close(fd);
  for (n = 0; n < got && buf[n] >= '0' && buf[n] <= '9'; n++)
    v = v * 10 + (buf[n] - '0');
  return v;
}

static void be_intermediate(const plan *pl, int go_fd, int info_fd,
                            int pid_fd) {
  settle_report out;
  uint64_t start;
  pid_t app;
  uint32_t v;
  int status = 0, exited = 0;
  struct sigaction dfl;
  /* The caller may ignore SIGCHLD, which would reap the app unseen. */
  memset(&dfl, 0, sizeof dfl);
  dfl.sa_handler = SIG_DFL;
  sigaction(SIGCHLD, &dfl, NULL);
  prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
  app = fork();
  if (app == 0) {
    close(pid_fd);
    become_app(pl, go_fd, info_fd);
  }
  if (app < 0) _exit(1);
  close(go_fd);
  close(info_fd);
  v = (uint32_t)app;
  if (write(pid_fd, &v, sizeof v) < 0) _exit(1);
  start = rm__os_now_ms();
  for (;;) {
    int st;
    pid_t r = waitpid(-1, &st, WNOHANG);
    if (r == app) {
      exited = 1;
      status = st;
    }
    if (r > 0) continue;
    if (rm__os_now_ms() - start >= pl->settle_ms) break;
    {
      struct timespec ts = { 0, 5 * 1000000L };
      nanosleep(&ts, NULL);
    }
  }
  out.value = 0;
  if (!exited) {
    out.kind = SETTLED_RUNNING;
  } else if (WIFEXITED(status) && WEXITSTATUS(status) == 0 &&
             (out.value = (int32_t)first_child()) > 0) {
    out.kind = SETTLED_DAEMON;
  } else {
    out.kind = SETTLED_EXITED;
    out.value = WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
  }
  if (write(pid_fd, &out, sizeof out) < 0) {}
  _exit(0);
}

/* }=====
 * {===== The caller's side */

/* Fills everything the children need.  0, or -1 (out of memory). */
static int prepare(const rm__launch *l, plan *pl, char *home, size_t cap) {
  struct passwd pw, *found = NULL;
  char buf[4096];
  size_t i, n = 0, kept = 0;
  memset(pl, 0, sizeof *pl);
  pl->l = l;
  pl->null_fd = -1;
  pl->as_root = geteuid() == 0;
  pl->notes = l->notes;
  pl->settle_ms = rm__env_ms("RESTARTMGR_RESTART_SETTLE_MS", SETTLE_MS);
  pl->envp = l->envp;
  if (pl->as_root && l->uid == 0) {
    while (l->envp[n]) n++;
    pl->envp = calloc(n + 1, sizeof *pl->envp);
    if (!pl->envp) return -1;
    for (i = 0; i < n; i++)
      if (!rm__linux_env_dropped(l->envp[i])) pl->envp[kept++] = l->envp[i];
    if (kept != n) pl->notes |= RM_RESTART_NOTE_ENV_SANITIZED;
  }
  pl->groups = calloc(l->n_groups + 1, sizeof *pl->groups);
  if (!pl->groups) return -1;
  for (i = 0; i < l->n_groups; i++) pl->groups[i] = (gid_t)l->groups[i];
  if (getpwuid_r((uid_t)l->uid, &pw, buf, sizeof buf, &found) == 0 && found &&
      pw.pw_dir && pw.pw_dir[0] == '/' && strlen(pw.pw_dir) < cap) {
    memcpy(home, pw.pw_dir, strlen(pw.pw_dir) + 1);
    pl->home = home;
  }
  pl->null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
  return pl->null_fd < 0 ? -1 : 0;
}

static void release(plan *pl) {
  if (pl->envp != pl->l->envp) free(pl->envp);
  free(pl->groups);
  if (pl->null_fd >= 0) close(pl->null_fd);
}

static ssize_t read_full(int fd, void *buf, size_t n) {
  ssize_t got;
  while ((got = read(fd, buf, n)) < 0 && errno == EINTR) {}
  return got;
}

uint32_t rm__os_launch_begin(const rm__launch *l, rm__launching *run,
                             rm_restart_outcome *outcome) {
  char home[RM_PATH_MAX];
  int info[2] = { -1, -1 }, go[2] = { -1, -1 }, pid_pipe[2] = { -1, -1 };
  uint32_t app_pid = 0;
  rm_unique_process app = { 0, 0 };
  pid_t mid;
  plan pl;
  int err = 0;

  memset(outcome, 0, sizeof *outcome);
  memset(run, 0, sizeof *run);
  run->waiter = run->info_fd = run->report_fd = -1;
  outcome->notes = l->notes;
  if (!l->argv || !l->argv[0] || !l->cwd || !l->envp || !l->exe ||
      l->exe[0] != '/') {
    outcome->failure = RM_RESTART_FAILED_NO_EXECUTABLE;
    outcome->error = ENOENT;
    return RM_ERROR_FAIL_RESTART;
  }
  if (geteuid() != 0 &&
      !rm__linux_is_caller(l->uid, l->gid, l->groups, l->n_groups)) {
    outcome->failure = RM_RESTART_FAILED_CREDENTIALS;
    outcome->error = EPERM;
    return RM_ERROR_FAIL_RESTART;
  }
  if (!l->ctx.captured) {
    outcome->failure = RM_RESTART_FAILED_CONTEXT;
    outcome->error = ENODATA;
    return RM_ERROR_FAIL_RESTART;
  }
  if (prepare(l, &pl, home, sizeof home) != 0 ||
      pipe2(info, O_CLOEXEC) != 0 || pipe2(pid_pipe, O_CLOEXEC) != 0 ||
      /* A socket, so that a release sent to an app that already died is
       * EPIPE, not a SIGPIPE in the caller. */
      socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, go) != 0) {
    err = errno;
    goto fail_setup;
  }
  mid = fork();
  if (mid == 0) {
    close(info[0]);
    close(go[1]);
    close(pid_pipe[0]);
    be_intermediate(&pl, go[0], info[1], pid_pipe[1]);
  }
  err = errno;
  close(info[1]);
  close(go[0]);
  close(pid_pipe[1]);
  info[1] = go[0] = pid_pipe[1] = -1;
  if (mid < 0) goto fail_setup;

  outcome->notes = pl.notes;
  if (read_full(pid_pipe[0], &app_pid, sizeof app_pid) !=
          (ssize_t)sizeof app_pid ||
      rm__os_identity(app_pid, &app) != RM_OK) {
    /* The application waits for the go byte (or died already trying to
     * set itself up, which the report pipe says), so an identity that
     * cannot be read means no application. */
    outcome->failure = RM_RESTART_FAILED_LAUNCH;
    outcome->error = EAGAIN;
  } else if (rm__linux_place(&l->ctx, l->uid, app_pid) != 0 &&
             geteuid() == 0 && l->ctx.cgroup) {
    /* Root never leaves a program in its own cgroup (placement.c). */
    outcome->failure = RM_RESTART_FAILED_CONTEXT;
    outcome->error = ESRCH;
  } else if (send(go[1], "g", 1, MSG_NOSIGNAL) != 1) {
    /* It died before the go byte: its report below says why. */
    outcome->failure = RM_RESTART_FAILED_LAUNCH;
    outcome->error = errno;
  }
  close(go[1]);                  /* without the go byte, the app exits */
  go[1] = -1;
  release(&pl);
  /* The settle time runs in the intermediate already: rm__os_launch_end
   * reads the app's setup report and the intermediate's. */
  run->waiter = mid;
  run->info_fd = info[0];
  run->report_fd = pid_pipe[0];
  run->app = app;
  return RM_OK;

fail_setup:
  {
    int *fds[] = { &info[0], &info[1], &go[0], &go[1], &pid_pipe[0],
                   &pid_pipe[1] };
    size_t i;
    for (i = 0; i < sizeof fds / sizeof fds[0]; i++)
      if (*fds[i] >= 0) close(*fds[i]);
  }
  if (pl.l) release(&pl);
  outcome->failure = RM_RESTART_FAILED_LAUNCH;
  outcome->error = err;
  return RM_ERROR_FAIL_RESTART;
}

uint32_t rm__os_launch_end(rm__launching *run, rm_unique_process *started,
                           rm_restart_outcome *outcome) {
  settle_report settled;
  app_report rep;
  int status;
  if (run->waiter <= 0) return outcome->failure ? RM_ERROR_FAIL_RESTART : RM_OK;
  while (read_full(run->info_fd, &rep, sizeof rep) == (ssize_t)sizeof rep) {
    outcome->notes |= rep.notes;
    if (rep.failure) {
      outcome->failure = rep.failure;
      outcome->error = rep.error;
    }
  }
  close(run->info_fd);
  if (read_full(run->report_fd, &settled, sizeof settled) !=
      (ssize_t)sizeof settled)
    settled.kind = 0;
  while (waitpid((pid_t)run->waiter, &status, 0) < 0 && errno == EINTR) {}
  close(run->report_fd);
  run->waiter = run->info_fd = run->report_fd = -1;
  if (!outcome->failure) {
    if (settled.kind == SETTLED_RUNNING && rm__os_alive(&run->app)) {
      *started = run->app;
    } else if (settled.kind == SETTLED_DAEMON &&
               rm__os_identity((uint32_t)settled.value, started) == RM_OK) {
      outcome->notes |= RM_RESTART_NOTE_DAEMONIZED;
    } else {
      outcome->failure = RM_RESTART_FAILED_EXITED;
      outcome->error = settled.kind == SETTLED_EXITED ? settled.value : 0;
    }
  }
  return outcome->failure ? RM_ERROR_FAIL_RESTART : RM_OK;
}

uint32_t rm__os_launch(const rm__launch *l, rm_unique_process *started,
                       rm_restart_outcome *outcome) {
  rm__launching run;
  (void)rm__os_launch_begin(l, &run, outcome);
  return rm__os_launch_end(&run, started, outcome);
}

/* }===== */
